"""The flags that shape a run's training, recorded in its folder.

A resumed run trains on with the flags it is given now: no checkpoint holds
the batch size or the learning rate's schedule, and changing them on resume
is legitimate (a lower rate to fine-tune, say). Some changes act in ways
nobody would guess, though. The decay period is counted in steps of the
batch size, so --batch_size 32 in place of 64 moves the first decay from
step 54,687 to 109,375, and a run past its first decay goes back to the
higher rate; a run warm-started with --trainable_scopes and resumed without
it trains every layer; a run resumed on another data set of the same
classes trains on it, and its decay period, counted in epochs of the data,
moves with the data set's size.

So a trainer records these flags in the run's folder (RUN_FILE) as a run
starts, and a resumed run prints one notice for each flag that changed: the
old value, the new one, and what the change does; it records its own once
it has saved a checkpoint of its training. Nothing is refused, and a
run resumed with the same flags prints nothing more. A run made before the
record existed has none: nothing is compared, and the record is written
then. --fresh removes it with the run's other files (support/training_run.py
lists it among them).

The record is text, one `--flag=value` line each, as the flag is typed
(--data_dir as an absolute path, and the data set's size as
--examples_per_epoch, no flag).
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import dataclasses
import os
import re

from cifar10.support import errors
from cifar10.support import flags
from cifar10.support import learning_schedule
from cifar10.support import paths
from cifar10.support import storage

RUN_FILE = 'training_flags.txt'

_HEADER = ('# The flags that shape this training run, as it last started. '
           'A resumed run\n# says which of its own differ.\n')


def _read_scopes(text):
  return flags.name_list(text) or None


# The recorded flags, in the record's order: how each is read back, and
# its value where the record (or the trainer) has none. Only multi_gpu_train
# has --num_gpus, and the others train one tower; a record without
# --trainable_scopes is of a run that trained every layer.
_FLAGS = {
    'batch_size': (int, None),
    'num_gpus': (int, 1),
    'initial_learning_rate': (float, None),
    'learning_rate_decay_factor': (float, None),
    'num_epochs_per_decay': (float, None),
    'trainable_scopes': (_read_scopes, None),
    'mixed_precision': (str, 'off'),
    'data_dir': (str, None),
    'examples_per_epoch': (int, None),
}

# The data the run trains on: --data_dir (as an absolute path), and its
# number of training images, no flag but the epoch the decay period is
# counted in, so that a run resumed on another data set of another size
# has its schedule's change told like a flag's. A record of a version that
# kept neither (None) is not compared on them.
_DATA_FIELDS = ('data_dir', 'examples_per_epoch')

# The flags that set the learning rate at a step. The images of a step
# (--batch_size times --num_gpus) count the decay period in steps.
_SCHEDULE_FLAGS = ('batch_size', 'num_gpus', 'initial_learning_rate',
                   'learning_rate_decay_factor', 'num_epochs_per_decay',
                   'examples_per_epoch')

_LINE = re.compile(r'--(\w+)=(.*)')


@dataclasses.dataclass(frozen=True)
class RunFlags:
  """The recorded flags of the run being started, and its schedule.

  Attributes:
    values: {flag name: value} for every name of _FLAGS.
    schedule: the cifar10.Schedule these flags made, whose epoch (the
      training records) the effects of a change are counted in.
  """
  values: dict
  schedule: object

  @classmethod
  def from_flags(cls, args, schedule):
    """The flags of `args` (a trainer's parsed flags) and its schedule."""
    values = {name: getattr(args, name, default)
              for name, (_, default) in _FLAGS.items()}
    # As a record reads them back: a tuple of names, or None for all.
    values['trainable_scopes'] = tuple(values['trainable_scopes'] or ()) or None
    # Absolute, so that the same folder given from elsewhere is the same.
    values['data_dir'] = (args.data_dir if storage.scheme(args.data_dir)
                          else os.path.abspath(args.data_dir))
    values['examples_per_epoch'] = schedule.examples_per_epoch
    return cls(values, schedule)

  def text(self):
    """The record's contents, as bytes."""
    lines = ['--%s=%s' % (name, _shown(value))
             for name, value in self.values.items() if value is not None]
    # A folder's name that is not UTF-8 is kept byte for byte.
    return (_HEADER + ''.join(line + '\n' for line in lines)).encode(
        'utf-8', 'surrogateescape')


def _shown(value):
  """A value as the flag is typed: 0.1, 128, local4,softmax_linear."""
  if isinstance(value, tuple):
    return ','.join(value)
  return '%r' % value if isinstance(value, float) else str(value)


def read(path):
  """The flags recorded in the file `path`, or None where it holds none.

  Returns:
    {flag name: value} for every name of _FLAGS (the default where the
    record has no line), or None: no such file, one that cannot be read,
    or one that is not a record (a line that is not `--flag=value`, a
    value that does not read as the flag's). Lines of flags a later version
    records are skipped.
  """
  try:
    if not storage.isfile(path):
      return None
    text = storage.read_bytes(path).decode('utf-8', 'surrogateescape')
  except storage.op_error():
    return None
  values = {name: default for name, (_, default) in _FLAGS.items()}
  found = False
  for line in text.splitlines():
    if not line.strip() or line.startswith('#'):
      continue
    match = _LINE.fullmatch(line.strip())
    if not match:
      return None
    name, value = match.groups()
    if name in _FLAGS:
      try:
        values[name] = _FLAGS[name][0](value)
      except ValueError:
        return None
      found = True
  return values if found else None


def data_dir_of_run(folder):
  """The --data_dir the run in `folder` trained on, as it recorded it
  (absolute, or a URL), where that still holds a data set; else None (no
  record, one written before the data was recorded, or a folder moved or
  emptied since)."""
  recorded = read(os.path.join(folder, RUN_FILE))
  trained_on = recorded and recorded['data_dir']
  return trained_on if trained_on and paths.holds_data(trained_on) else None


def other_data_dir_of_run(folder, data_dir):
  """'--data_dir DIR', ready for a shell, where the run in `folder` trained
  on another folder than `data_dir` that still holds its data
  (data_dir_of_run); else None.

  Args:
    folder: the run's folder.
    data_dir: the --data_dir given to read it with.
  """
  trained_on = data_dir_of_run(folder)
  if trained_on is None or (not storage.scheme(trained_on) and
                            os.path.abspath(data_dir) == trained_on):
    return None
  return paths.flag_value('--data_dir', trained_on)


def record(train_dir, run_flags):
  """Writes `run_flags` as `train_dir`'s record: as a new run starts (over
  any an unfinished start left), and as a resumed one saves its first
  checkpoint (`notice_changes`)."""
  storage.write_atomically(os.path.join(train_dir, RUN_FILE),
                           run_flags.text())


def notice_changes(train_dir, run_flags, resumed_step):
  """Prints a notice for each flag a resumed run changed since its record.

  The record is not written here: a run stopped before it trained a step
  has changed nothing, and its next start compares with the flags that
  trained the checkpoint. The trainer writes it (`record`) as it saves its
  first checkpoint beyond `resumed_step`.

  Args:
    train_dir: the run's folder.
    run_flags: the RunFlags of the run resuming now.
    resumed_step: the global step it resumes from.

  Returns:
    Whether the record is to be written: it differs, or there is none (a
    run of an earlier version, which is not compared).
  """
  recorded = read(os.path.join(train_dir, RUN_FILE))
  if recorded == run_flags.values:
    return False  # The common case: nothing to say, nothing to write.
  if recorded is not None:
    for line in changes(recorded, run_flags, resumed_step):
      errors.notice(line)
  return True


def changes(recorded, run_flags, step):
  """The notices for the flags whose values differ from the record's.

  The flags of the schedule that changed share one line: the rate and
  decay period before are those of all the recorded values, and after, of
  all the new ones (each flag's effect alone would hold the others at
  their new values, a schedule that never ran). The others get a line each.

  Args:
    recorded: the record's values (read).
    run_flags: the RunFlags of the run resuming now.
    step: the global step it resumes from.

  Returns:
    A list of lines, in the record's order; empty where nothing changed.
  """
  now = run_flags.values
  changed = [name for name in _FLAGS if recorded[name] != now[name] and not (
      name in _DATA_FIELDS and recorded[name] is None)]
  schedule_changed = [name for name in changed if name in _SCHEDULE_FLAGS]
  lines = []
  for name in changed:
    if name in schedule_changed[1:]:
      continue  # Said in the line of the first.
    names = schedule_changed if name in _SCHEDULE_FLAGS else [name]
    said = ['%s%s from %s to %s' % (
        _label(each), ' changed' if each == name else '',
        _named(each, recorded[each]), _named(each, now[each]))
            for each in names]
    if len(said) > 1:
      said = [', '.join(said[:-1]), said[-1]]
    effect = _effect(name, recorded, now, run_flags.schedule, step)
    lines.append('%s since this run last started%s.' % (
        ' and '.join(said), effect and ': ' + effect))
  return lines


def _label(name):
  """What a notice calls a recorded value: its flag, or what it is where
  the trainer resuming may have no such flag (the epoch; the towers, which
  only multi_gpu_train sets, cifar10.train and dist_train training one)."""
  if name == 'examples_per_epoch':
    return 'the training images'
  if name == 'num_gpus':
    return 'the towers (--num_gpus)'
  return '--' + name


def _named(name, value):
  """A value as a notice names it (trainable_scopes' None: all layers)."""
  if value is None and name == 'trainable_scopes':
    return 'none (every layer)'
  if name == 'data_dir':
    return storage.printable(value)
  return _shown(value)


def _effect(name, before, now, schedule, step):
  """What changing flag `name` (with the schedule's other changes) does, in
  words; '' where the change says all.

  Args:
    name: the flag.
    before, now: the recorded values, and the new ones.
    schedule: the schedule of `now`, for the epoch's records.
    step: the global step the run resumes from.
  """
  if name == 'trainable_scopes':
    return ('every layer trains now' if now[name] is None else
            'only %s train%s now' % (', '.join(now[name]),
                                     's' * (len(now[name]) == 1)))
  if name == 'mixed_precision':
    return ('the convolutions and matrix multiplies compute in %s now' %
            ('bfloat16' if now[name] == 'bf16' else 'float32'))
  if name == 'data_dir':
    return 'it trains on that folder\'s images now'
  if name not in _SCHEDULE_FLAGS:
    return ''
  try:
    (old_period, old_rate), (new_period, new_rate) = [
        _schedule_at(values, schedule, step) for values in (before, now)]
  except errors.UserError:  # A period under one step, refused elsewhere.
    return ''
  period = ('the learning rate decays every %d steps instead of %d, and ' % (
      new_period, old_period) if new_period != old_period else
            'the learning rate ')
  if new_rate == old_rate:
    return period + 'at step %d, where this run resumes, stays %g' % (
        step, new_rate)
  return period + 'at step %d, where this run resumes, goes from %g to %g' % (
      step, old_rate, new_rate)


def _schedule_at(values, schedule, step):
  """(decay period in steps, learning rate at `step`) of the flags `values`."""
  schedule = dataclasses.replace(
      schedule, initial_learning_rate=values['initial_learning_rate'],
      learning_rate_decay_factor=values['learning_rate_decay_factor'],
      num_epochs_per_decay=values['num_epochs_per_decay'],
      examples_per_epoch=(values['examples_per_epoch'] or
                          schedule.examples_per_epoch))
  images_per_step = values['batch_size'] * values['num_gpus']
  return (schedule.decay_steps(images_per_step),
          learning_schedule.rate_at(schedule, images_per_step, step))
