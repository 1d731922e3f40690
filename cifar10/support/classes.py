"""The class names of a data set, and of the training run that learned them.

A data folder may hold `batches.meta.txt`, the class names one per line in
label order (CIFAR-10's own has its ten; cifar10.convert_images writes one
for your classes). Without it the data is taken to be CIFAR-10's ten
classes, as the original assumed. The number of names sets the size of the
network's last layer, so every tool needs them:

* the trainers and the evaluator read them from the data (`of_data`);
* a trainer starting a run writes them into its --train_dir as
  `class_names.txt`, the same format, because a checkpoint's logits mean
  nothing without their names; cifar10.predict and cifar10.export, which
  never see the data, read them from there (`of_run`). A folder without
  that file (the original's checkpoints, runs made before it existed)
  means CIFAR-10's ten. Resuming checks that the data's names are the
  run's (`record_for_run`).
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import dataclasses
import os

from cifar10.support import errors
from cifar10.support import storage

# CIFAR-10's classes, in label order, as its batches.meta.txt lists them.
CIFAR10_NAMES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog',
                 'frog', 'horse', 'ship', 'truck')

META_FILE = 'batches.meta.txt'
RUN_FILE = 'class_names.txt'

# A label is one byte, and a classifier needs two classes at least.
MIN_CLASSES = 2
MAX_CLASSES = 256


@dataclasses.dataclass(frozen=True)
class Classes:
  """Class names in label order, and where they were read (for messages)."""
  names: tuple
  source: str  # e.g. 'batches.meta.txt in own_bin/cifar-10-batches-bin'.

  @property
  def count(self):
    return len(self.names)


def name_problem(name):
  """Why `name` cannot be a class name, or None when it can.

  A names file holds one name per line, so a name holding a line break
  would be read back as two, and a blank one would leave its label
  unnamed. parse_names refuses such a line and cifar10.convert_images such
  a class folder, with this one check, so that every name the converter
  writes is read back as written.

  Args:
    name: str.

  Returns:
    None, or the reason, a phrase that follows "its name" or "line N".
  """
  if '\n' in name or '\r' in name:
    return 'holds a line break (\\r or \\n), but a class name is one line'
  # str.strip() takes away all white space, Unicode's too (U+3000, NEL).
  if not name.strip():
    return 'is blank, but every label needs a name'
  return None


def parse_names(text, path):
  """The class names in the text of a names file, one per line.

  A line ends at '\n' ('\r\n' too, as Windows editors write it) and
  nowhere else: the other characters str.splitlines() takes for line ends
  (U+2028, NEL, form feed, ...) can be part of a class folder's name, and
  stay in it. Trailing blank lines are ignored (CIFAR-10's file ends with
  some).

  Args:
    text: the file's contents, bytes.
    path: the file's path, for the messages.

  Returns:
    A tuple of 2 to 256 distinct names, each passing name_problem.

  Raises:
    errors.UserError: naming the file and what is wrong with it.
  """
  fix = ('Write one class name per line, in label order (%d to %d names).'
         % (MIN_CLASSES, MAX_CLASSES))
  try:
    lines = [line.removesuffix('\r')
             for line in text.decode('utf-8').split('\n')]
  except UnicodeDecodeError as error:
    raise errors.UserError('%s is not UTF-8 text (byte %d). %s'
                           % (path, error.start, fix))
  while lines and not lines[-1].strip():
    lines.pop()
  for number, line in enumerate(lines, 1):
    problem = name_problem(line)
    if problem:
      raise errors.UserError('%s: line %d %s. %s'
                             % (path, number, problem, fix))
  if not MIN_CLASSES <= len(lines) <= MAX_CLASSES:
    raise errors.UserError('%s names %d classes. %s' % (path, len(lines), fix))
  seen = set()
  for line in lines:
    if line in seen:
      raise errors.UserError('%s names class %r twice. %s' % (path, line, fix))
    seen.add(line)
  return tuple(lines)


def format_names(names):
  """The text of a names file for `names`: one per line, UTF-8 bytes."""
  return ''.join(name + '\n' for name in names).encode('utf-8')


def _read(path):
  try:
    text = storage.read_bytes(path)
  except storage.op_error() as error:
    raise errors.UserError('%s cannot be read (%s).'
                           % (path, errors.describe(error)))
  return parse_names(text, path)


def of_data(batches_folder):
  """The classes of the data in `batches_folder` (cifar-10-batches-bin/).

  Raises:
    errors.UserError: its batches.meta.txt is unreadable or malformed.
  """
  path = os.path.join(batches_folder, META_FILE)
  if storage.isfile(path):
    return Classes(_read(path), '%s in %s' % (META_FILE, batches_folder))
  return Classes(CIFAR10_NAMES, "CIFAR-10's, since %s has no %s"
                 % (batches_folder, META_FILE))


def of_file(path):
  """The classes named in the names file `path` (CIFAR-100's label files).

  Raises:
    errors.UserError: the file is unreadable or malformed.
  """
  return Classes(_read(path), path)


def of_run(folder):
  """The classes the checkpoints in `folder` were trained on, from its record.

  Args:
    folder: a training run's folder (a checkpoint's folder).

  Returns:
    A Classes: those of the folder's class_names.txt, or CIFAR-10's ten
    when there is none.

  Raises:
    errors.UserError: class_names.txt is unreadable or malformed.
  """
  path = os.path.join(folder, RUN_FILE)
  if storage.isfile(path):
    return Classes(_read(path), '%s beside it' % path)
  return Classes(CIFAR10_NAMES, "CIFAR-10's, since %s has no %s"
                 % (folder, RUN_FILE))


def recorded_by_run(folder):
  """The Classes a run's folder records, or None where it records none.

  Unlike of_run, a folder without class_names.txt (an old run, whose names
  are assumed) gives None, for the checks that compare names only where
  they were written down.

  Raises:
    errors.UserError: class_names.txt is unreadable or malformed.
  """
  if not storage.isfile(os.path.join(folder, RUN_FILE)):
    return None
  return of_run(folder)


def check_run_names(folder, data_classes, used_for, how_to_proceed):
  """Raises UserError when the run in `folder` recorded other class names.

  A checkpoint scores its labels by number: used on data whose names
  differ, even in the same count, every result would carry the wrong name.
  A folder without the record (an old run) is not checked.

  Args:
    folder: a training run's folder (a checkpoint's folder).
    data_classes: the Classes of the data it is used on.
    used_for: what is done with the run, for the message ('Checkpoint
      RUN/model.ckpt-5').
    how_to_proceed: a sentence telling the user what to do about it.

  Raises:
    errors.UserError: one line naming both lists, where each was read, and
      what to do.
  """
  recorded = _other_names_of_run(folder, data_classes, assumed=False)
  if recorded:
    raise errors.UserError(
        '%s was trained on the classes %s (%s), but the data has %s (%s): '
        'its results would carry the wrong names. %s'
        % (used_for, listed(recorded.names), recorded.source,
           listed(data_classes.names), data_classes.source, how_to_proceed))


def check_run_before_download(folder, data_dir, data_format, trained_on):
  """Raises UserError where a run on other classes would get CIFAR-10
  downloaded to be evaluated on; tells of the run's own data where a run
  on CIFAR-10's classes would.

  cifar10.eval downloads CIFAR-10 into a --data_dir that holds none of its
  files, the default /tmp/cifar10_data too: a run on one's own classes,
  evaluated without its --data_dir, would fetch 170 MB before its
  checkpoint is refused for its classes. The run's record
  (class_names.txt) tells before the download. A run on CIFAR-10's
  classes is evaluated on the download, but where the run recorded the
  folder it trained on (`trained_on`, from its training_flags.txt) the
  user is told it, in a notice before the download: without network
  access the download then fails, and its message knows no other folder.

  Args:
    folder: the folder of the checkpoints to evaluate.
    data_dir: the --data_dir.
    data_format: the data_sets.BinaryFormat read (only CIFAR-10's names
      are known before its download).
    trained_on: '--data_dir DIR' of the folder the run recorded, another
      that holds data (run_flags.other_data_dir_of_run), or None.

  Raises:
    errors.UserError: the run recorded other classes than CIFAR-10's, and
      --data_dir holds none of the data.
  """
  extracted = os.path.join(data_dir, data_format.folder)
  if data_format.dataset != 'cifar10' or any(
      storage.isfile(os.path.join(extracted, name))
      for name in data_format.all_files):
    return
  check_run_names(
      folder, Classes(CIFAR10_NAMES, "CIFAR-10's, to be downloaded into "
                      '--data_dir %s, which holds no data' % data_dir),
      'The run in %s' % folder,
      'Give the --data_dir it was trained on%s (nothing was downloaded).'
      % (', as the run recorded it: %s' % trained_on if trained_on else ''))
  if trained_on:
    errors.notice(
        '--data_dir %s holds no data, so CIFAR-10 is downloaded into it; the '
        'run in %s was trained on the data of %s, as it recorded: give that '
        'flag to evaluate on its test images instead.'
        % (data_dir, folder, trained_on))


def run_names_fix(folder, when=''):
  """What to do when a run's folder records the wrong classes (or none).

  Args:
    folder: the run's folder.
    when: words that end the sentence saying when to do it, such as
      ' if it learnt others'; '': always.
  """
  return ('Copy the %s of the data it was trained on to %s%s.'
          % (META_FILE, os.path.join(folder, RUN_FILE), when))


def _other_names_of_run(folder, data_classes, assumed):
  """The Classes the run in `folder` was trained on, where they are not
  `data_classes`; else None.

  The one comparison of a run's names with the data's, for the checks of
  the tools that use a run (check_run_names) and of the trainer that would
  add to it (check_for_run), each with its own message.

  Args:
    folder: a training run's folder (need not exist).
    data_classes: the Classes of the data.
    assumed: whether a folder without the record is CIFAR-10's run (one
      made before the record existed, which a trainer resumes); if not,
      such a folder is not compared.
  """
  recorded = of_run(folder) if assumed else recorded_by_run(folder)
  if recorded and recorded.names != data_classes.names:
    return recorded
  return None


def check_for_run(train_dir, data_classes, resuming, how_to_proceed):
  """Raises UserError where --train_dir holds a run on other class names.

  The trainer checks this before it touches the folder; record_for_run
  checks it again as it writes.

  Args:
    train_dir: the training run's folder (need not exist).
    data_classes: the Classes of the training data.
    resuming: whether the folder holds a checkpoint to resume from: a run
      there without the record was trained on CIFAR-10's ten classes.
    how_to_proceed: the advice that ends the message: a sentence, or an
      object whose str() is one, worded only if the check refuses.

  Raises:
    errors.UserError: the run in the folder was trained on other class
      names.
  """
  recorded = _other_names_of_run(train_dir, data_classes, assumed=resuming)
  if recorded:
    raise errors.UserError(
        '--train_dir %s holds a run on the classes %s (%s), but the data '
        'has %s (%s). Training will not mix them: %s'
        % (train_dir, listed(recorded.names), recorded.source,
           listed(data_classes.names), data_classes.source, how_to_proceed))


def record_for_run(train_dir, data_classes, resuming, how_to_proceed):
  """Writes the data's class names into --train_dir, or checks them there.

  A run resumed from a folder without the record (made before it existed)
  was trained on CIFAR-10's ten classes, and the folder is left as it is.

  Args:
    train_dir: the training run's folder (it exists).
    data_classes: the Classes of the training data.
    resuming: whether the folder holds a checkpoint to resume from.
    how_to_proceed: as for check_for_run: the same advice as the check
      before, for the run another process began there meanwhile.

  Raises:
    errors.UserError: the run in the folder was trained on other class
      names (check_for_run).
  """
  check_for_run(train_dir, data_classes, resuming, how_to_proceed)
  path = os.path.join(train_dir, RUN_FILE)
  if not resuming and not storage.isfile(path):
    storage.write_atomically(path, format_names(data_classes.names))


def listed(names, shown=4):
  """'a, b, c' or 'a, b, c, d, ... (12 in all)' for a message."""
  text = ', '.join(names[:shown])
  return text + (', ... (%d in all)' % len(names) if len(names) > shown else '')
