"""What keeps a training run safe around the loop in cifar10/training_loop.py.

The loop itself is the original's: a MonitoredTrainingSession, its hooks,
and `while not should_stop()`. Around it this module

* reads the run's settings from the flags (LoopSettings, Replica), and
  fetches the data the first time (prepare_run);
* keeps --train_dir to one trainer at a time: a second is refused while
  the first runs, before it touches the folder;
* prepares --train_dir: creates it, clears an earlier run with --fresh,
  records the data's class names and the flags that shape the training
  (a resumed run says which of them changed, run_flags.py), and refuses
  a checkpoint this graph cannot resume, before anything is written over;
  a new run stopped (or failed) before its first checkpoint takes away
  what it wrote there;
* words the line a trainer prints about its shuffle buffer as it starts;
* on SIGINT or SIGTERM lets the step in flight finish, then stops so that
  the session saves it and closes the event file; the script exits with
  128 + the signal number;
* on a NaN loss stops before the NaN weights can be saved;
* when an op fails (a data file vanished, say) saves a checkpoint first,
  then stops with one line: the bad data file by name and what is wrong
  with it, or else the op's complaint.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import contextlib
import dataclasses
import logging
import os
import re
import signal

import tensorflow as tf

from cifar10.support import batch_files
from cifar10.support import checkpoints
from cifar10.support import classes
from cifar10.support import data_sets
from cifar10.support import download
from cifar10.support import errors
from cifar10.support import eval_report
from cifar10.support import flags
from cifar10.support import folder_lock
from cifar10.support import paths
from cifar10.support import run_flags
from cifar10.support import session_options as session_options_lib
from cifar10.support import storage
from cifar10.support import summaries
from cifar10.support import tensorflow_logs
from cifar10.support import trained_layers
from cifar10.support import warm_start

CHECKPOINT_BASENAME = 'model.ckpt'


def _set_aside(damaged, older):
  """The trainer's way past `damaged`, the checkpoints listed after `older`
  (the newest whole one) up to the newest: move their files out of the run,
  all of them, or the trainer would stop at the next one.

  Nothing is deleted, and nothing of the user's written over: the files go
  into a free folder beside the run. The trainer then resumes from `older`
  (checkpoints.latest_checkpoint skips a listed checkpoint whose files are
  gone, and prepare_train_dir drops it from the index file). --fresh stays
  the last resort, saying that it removes the whole checkpoints too.
  """
  train_dir = storage.dirname(older) or '.'
  moved = [os.path.basename(path) for path in damaged]
  aside = paths.new_folder_beside(train_dir, '_damaged')
  # At a URL, which a shell cannot reach, the words alone.
  command = paths.into_new_folder('mv', [
      paths.for_shell(os.path.join(train_dir, name)) + '.*' for name in moved],
                                  aside)
  command = command and ' (%s)' % command
  return ('to resume from it, move the files of %s (%s) out of the run '
          'into a new folder, such as %s%s, and run the same command again. '
          'Or run with --fresh to start over (that removes all the earlier '
          'run\'s checkpoints, %s among them, and its event files), or choose '
          'another --train_dir.' % (
              ' and '.join(moved), ', '.join(name + '.*' for name in moved),
              aside, command, os.path.basename(older)))


def _warm_start_instead(train_dir, lead=''):
  """The advice for a run in --train_dir on other classes than the data's,
  after `lead` (such as 'Training will not mix them: ').

  What such a user most likely wants is that run's weights on the new
  classes: a new run started from them (--warm_start_from takes every layer
  that fits, all but the last where the count differs), which leaves the
  old run as it is. --fresh, which deletes it, comes second. Worded only
  when a check refuses (errors.WordedWhenShown): the folder it offers is
  the first free name beside the run, looked for on disk, which a run that
  starts never needs.
  """
  return errors.WordedWhenShown(lambda: lead + (
      'to train on this data from that run\'s weights, start a new run from '
      'them in a folder of its own (%s %s), or run with --fresh to start '
      'over here (that removes the earlier run\'s checkpoints and event '
      'files).' % (
          paths.flag_value('--train_dir', paths.new_folder_beside(
              train_dir, '_warm')),
          paths.flag_value('--warm_start_from', train_dir))))


# The advice for a checkpoint in --train_dir that this graph cannot resume.
# One that does not fit the graph at all is another network's, or one of
# another dtype: likely a model someone wants, which --fresh would delete,
# so a folder of this run's own comes first there.
UNUSABLE_CHECKPOINT = checkpoints.HowToProceed(
    'Training will not write over it: run with --fresh to start over (that '
    'removes the earlier run\'s checkpoints and event files), or choose '
    'another --train_dir.', older=_set_aside,
    misfit='Training will not write over it: give this run another '
    '--train_dir, a new folder; --fresh would start over here by deleting '
    'that checkpoint, the others beside it and the folder\'s event files.')

# The files only a run writes, by the names TensorFlow gives them: where one
# of them is in --train_dir, the folder holds a run (or the start of one).
# A checkpoint is model.ckpt-<step>.index, .meta and .data-NNNNN-of-NNNNN
# (or, in the old V1 format, the file model.ckpt-<step>); the Saver writes
# each file under a temporary name, <file>.tempstate<number>, that a save
# cut short leaves behind. An event file is events.out.tfevents.<seconds>.
# <host>, then any suffix its writer was given. A name that merely starts
# like these (model.ckpt-2.index.bak, events.out.tfevents.backup) is the
# user's: --fresh keeps it.
RUN_SIGNS = (
    re.compile(re.escape(CHECKPOINT_BASENAME) +
               r'-\d+(\.(index|meta|data-\d+-of-\d+))?(\.tempstate\d+)?'),
    paths.EVENTS_FILE)

# The same, as a message names them.
RUN_SIGNS_SHOWN = (CHECKPOINT_BASENAME + '-*', paths.EVENTS_FILE_PREFIX + '*')

# The files a run writes under names any program, or person, might use: a
# run's own only in a folder that shows the signs above.
GENERIC_RUN_FILES = (paths.INDEX_FILE, summaries.GRAPH_FILE, classes.RUN_FILE,
                     run_flags.RUN_FILE)

# What a run that stopped on a failure saved, and what to do next.
_SAVED = 'Saved %s; fix the cause and run again to resume'


@dataclasses.dataclass(frozen=True)
class LoopSettings:
  """Where to train, up to which global step, and how often to log and save."""
  train_dir: str
  max_steps: int
  log_frequency: int = 10
  log_device_placement: bool = False
  save_checkpoint_secs: int = 600
  save_checkpoint_steps: int = None
  keep_checkpoints: int = 5
  save_summaries_steps: int = 100
  # The --data_dir the training files are read from: a failed read names
  # the bad one. None: say what the failed op says.
  data_dir: str = None
  # The format of the files there (CIFAR-10's or CIFAR-100's).
  data_format: data_sets.BinaryFormat = data_sets.CIFAR10
  # Images in each batch of the input pipeline (per tower), for the line
  # that says how the shuffle buffer fills.
  batch_size: int = 128
  # The speed flags' settings, from which the loop makes the session's
  # ConfigProto (and the trainers set up the process).
  session_options: session_options_lib.SessionOptions = (
      session_options_lib.SessionOptions())
  # The checkpoint or run a new run takes its first weights from (see
  # warm_start.py); None: they start from their initializers.
  warm_start_from: str = None
  # The --initial_learning_rate flag, which a diverged run's message offers
  # a smaller value of; None: no flag (the message names it only).
  initial_learning_rate: float = None
  # The run_flags.RunFlags that a resumed run compares with its folder's
  # record, once its checkpoint is known to fit (resume_point); None: not
  # compared (a worker that is not the chief).
  run_flags: object = None

  @classmethod
  def from_flags(cls, args):
    """Reads the settings from the parsed flags of `flags.training_parser`."""
    named = {field.name: getattr(args, field.name)
             for field in dataclasses.fields(cls)
             if field.name not in ('session_options', 'run_flags')}
    return cls(
        session_options=session_options_lib.SessionOptions.from_flags(args),
        **named)


@dataclasses.dataclass(frozen=True)
class Replica:
  """Where this trainer sits in a cluster; the defaults mean no cluster.

  In a cluster every worker runs the loop, but only the chief reads and
  writes --train_dir (checkpoints and summaries), so that exactly one
  process owns it. `master` is the gRPC target of this worker's server,
  `hooks` are extra session hooks (SyncReplicasOptimizer's), and
  `device_filters` keep the session from waiting on the other workers.
  `sync_replicas`: whether every step waits for the chief, which applies
  the averaged updates (--sync_replicas).
  """
  master: str = ''
  is_chief: bool = True
  hooks: tuple = ()
  sync_replicas: bool = False
  device_filters: tuple = ()
  max_wait_secs: int = 7200
  # Seconds closing waits for background threads: the queue runners of
  # synchronous replicas never finish once the other workers have left.
  stop_grace_period_secs: int = 120


# ---------------------------------------------------------------------------
# Before the first step: the data, the train directory, the buffer's line
# ---------------------------------------------------------------------------

@contextlib.contextmanager
def prepare_run(args, schedule_from_flags, images_per_step, classify):
  """Everything a one-process trainer does before it builds its graph.

  cifar10.train and cifar10.multi_gpu_train both start this way, in a
  `with` statement around the rest of the run; dist_train does the same
  steps, but each in the task that needs it.

  Args:
    args: the parsed flags of `flags.training_parser`.
    schedule_from_flags: a function of `args` that makes the learning
      rate's cifar10.Schedule (training_loop.schedule_from_flags). It is
      called once the data is there, since an epoch is its record count.
    images_per_step: int, the images one step trains on, which the
      schedule counts its decay period in.
    classify: cifar10.classify, which builds the network the run trains,
      for checking --warm_start_from before --train_dir is touched.

  Yields:
    (settings, schedule): the LoopSettings that the training loop takes,
    read from the flags, and the schedule, its decay period checked. The
    settings' process-wide part (threads, kernels) is applied already, as
    it must be before the first session. A stop or an error inside the
    `with` before the run's first checkpoint removes what the run created
    in --train_dir (see prepare_train_dir).

  Raises:
    errors.UserError: the download failed, the decay period is shorter
      than one step, or --train_dir cannot hold this run (see
      prepare_train_dir). The schedule is checked before --train_dir is
      touched, so that a refused command leaves the folder as it was,
      --fresh or not.
  """
  settings = LoopSettings.from_flags(args)
  settings.session_options.apply_to_process()
  with _train_dir_lock(args.train_dir) as lock:
    # Taken before the download: a trainer given a folder that another
    # one is training in is refused at once, not after fetching the data.
    lock.take()
    # The first run downloads the data; later runs find it and go on at
    # once.
    download.maybe_download_and_extract(
        args.data_dir, args.data_url,
        needed_files=batch_files.file_names(False, args.data_format),
        data_format=args.data_format)
    schedule = schedule_from_flags(args)
    schedule.decay_steps(images_per_step)  # Refuses a period under one step.
    flags_of_run = run_flags.RunFlags.from_flags(args, schedule)
    with prepare_train_dir(
        args.train_dir, args.fresh, batch_files.data_classes(
            args.data_dir, args.data_format), args.warm_start_from,
        args.trainable_scopes, classify, args.use_fp16, lock,
        flags_of_run) as (_, warm_source):
      yield dataclasses.replace(with_warm_source(settings, warm_source),
                                run_flags=flags_of_run), schedule


def with_warm_source(settings, warm_source):
  """`settings` whose warm_start_from is the checkpoint prepare_train_dir
  found for it, if any: the loop then reads that checkpoint without saying
  again how the flag was read (its notices)."""
  if warm_source is None:
    return settings
  return dataclasses.replace(settings, warm_start_from=warm_source)


def shuffle_buffer_line(settings, min_queue_examples, buffer_size):
  """The line a trainer prints as training starts: what the buffer waits for.

  The buffer fills from one pass over the files, so a smaller data set
  fills it only in part. Only the files' sizes are read: the input pipeline
  has checked the files when it was built. A --batch_size over the records
  gets a notice first (_notice_a_batch_over_the_records).

  Args:
    settings: the LoopSettings, naming the data and its format.
    min_queue_examples: the records the original's queue kept filled.
    buffer_size: the shuffle buffer's records: those, plus three batches
      (cifar10_input.shuffle_buffer_size gives both).
  """
  records = batch_files.count_records(
      batch_files.batches_dir(settings.data_dir, settings.data_format),
      eval_data=False, data_format=settings.data_format)
  _notice_a_batch_over_the_records(settings.batch_size, records)
  if records >= buffer_size:
    return ('Filling the shuffle buffer with %d CIFAR images (%d plus three '
            'batches) before the first batch.' % (buffer_size,
                                                  min_queue_examples))
  return ('Filling the shuffle buffer with all %d training images (it has '
          'room for %d) before the first batch.' % (records, buffer_size))


def _notice_a_batch_over_the_records(batch_size, records):
  """Says so where one batch is larger than the training files' records.

  The input repeats the records, so such a batch holds each image several
  times over (differently distorted): it learns no more than a batch of
  all the records, and takes more memory. Memory is what such a batch
  most often runs out of, and a process out of memory is killed without a
  word (exit status 137), so the notice comes before the first step. (A
  refusal by an estimate of the memory was not made: what a step needs
  depends on the device, GPU or host, and on TensorFlow's kernels and
  allocator, so no bound is both safe and near the truth.)
  """
  if batch_size <= records:
    return
  errors.notice(
      '--batch_size %d is larger than the %d training images: each batch '
      'holds each image %.3g times on average, and needs memory for all of '
      'them (a process out of memory is killed without a message, exit '
      'status 137). Give --batch_size %d or less for batches without '
      'repeats.' % (batch_size, records, batch_size / records, records))


@contextlib.contextmanager
def prepare_train_dir(train_dir, fresh, data_classes, warm_start_from=None,
                      trainable_scopes=None, classify=None, use_fp16=False,
                      lock=None, flags_of_run=None):
  """Creates --train_dir if needed; `fresh` clears an earlier run from it.

  A second trainer is refused while a first one runs in the folder
  (_train_dir_lock). It also records the data's class names there
  (classes.RUN_FILE), for the tools that read the run's checkpoints
  without the data. Everything that can refuse the run here is checked
  before the folder is touched (see _check_train_dir), so that a refused
  command leaves it as it was, or not made. Use it in a `with` statement
  around the run: a new run that a stop or an error ends before its first
  checkpoint takes away what it wrote there, and the folder if it made it
  (see _undo_new_run), so that the folder is left as the command found it
  (less what --fresh removed).

  Args:
    train_dir: the --train_dir flag.
    fresh: the --fresh flag: delete the earlier run's checkpoints, event
      files and class names (and nothing else), listing them.
    data_classes: the classes.Classes of the training data.
    warm_start_from: the --warm_start_from flag, or None.
    trainable_scopes: the --trainable_scopes flag, or None.
    classify: cifar10.classify, which builds the network the run trains;
      needed with `warm_start_from`, to check that the source fits it.
    use_fp16: the --use_fp16 flag: the network's dtype.
    lock: the caller's _train_dir_lock of `train_dir`, taken already (as
      prepare_run takes it before the download), or None: one is taken
      here, for the `with`. A second lock of the same folder from this
      process would find it held.
    flags_of_run: the run_flags.RunFlags that a new run records in the
      folder (a resumed one compares and records them later, in
      resume_point); None records none.

  Yields:
    (latest, warm_source): the checkpoint training will resume from, or
    None; and, for a new run given `warm_start_from`, the checkpoint it
    names (its prefix), else None.

  Raises:
    errors.UserError: another trainer is using the folder (_train_dir_lock,
      held from here to the end of the `with`), or see _check_train_dir.
  """
  with (contextlib.nullcontext(lock) if lock else
        _train_dir_lock(train_dir)) as lock:
    # Taken first: another trainer's folder, however young (a run started
    # seconds ago has written only class_names.txt), is refused as in use,
    # not for what is in it, and --fresh removes nothing of it.
    lock.take()
    latest, warm_source = _check_train_dir(
        train_dir, fresh, data_classes, warm_start_from, trainable_scopes,
        classify, use_fp16)
    made = storage.missing_folders(train_dir)
    storage.makedirs(train_dir)
    lock.take()  # A folder made just now.
    if fresh:
      removed = _remove_run_files(train_dir)
      if removed:
        print('--fresh: removed %d file%s of an earlier run from %s%s'
              % (len(removed), 's' * (len(removed) != 1), train_dir,
                 ''.join('\n  ' + name for name in removed)))
      else:  # "removed 0 files of an earlier run" read as if there were one.
        print('--fresh: %s holds no earlier run; nothing was removed.'
              % train_dir)
      _say_kept(train_dir)
    if latest:
      # TensorFlow restores what the index file names, and deletes what it
      # lists: a checkpoint moved aside (the advice for a damaged one), or
      # another folder's (a copied run), must not be there.
      _say_index_changes(train_dir, checkpoints.own_checkpoints_only(train_dir))
    present = set(storage.listdir(train_dir))
    try:
      classes.record_for_run(train_dir, data_classes, resuming=bool(latest),
                             how_to_proceed=_warm_start_instead(train_dir))
      if flags_of_run and not latest:
        # A resumed run compares, and records, once its checkpoint is
        # known to fit and it has steps to train (resume_point): a refused
        # or finished one says nothing and touches nothing.
        run_flags.record(train_dir, flags_of_run)
      yield latest, warm_source
    except BaseException:
      # KeyboardInterrupt and errors.Terminated (the stops) included. The
      # lock is still held: no other trainer has begun in the folder.
      if not latest:
        _undo_new_run(train_dir, present, made)
      raise


def _train_dir_lock(train_dir):
  """The folder_lock.FolderLock that keeps `train_dir` to one trainer at a
  time, for as long as it runs: two runs there would save over each
  other's checkpoints, and --fresh would delete the files of the run in
  progress."""
  return folder_lock.FolderLock(train_dir, lambda holder: (
      '--train_dir %s is %s: two runs there would save over each other\'s '
      'checkpoints, and --fresh would delete the files of the run in '
      'progress. Wait for it to finish, stop it (%s; it saves a checkpoint '
      'first), or give another --train_dir.' % (
          train_dir, folder_lock.in_use('trainer', holder),
          folder_lock.how_to_stop(holder))))


def _undo_new_run(train_dir, present, made):
  """Removes what a new run wrote in `train_dir`, unless it saved a checkpoint.

  A run stopped before its first checkpoint has nothing to resume, but its
  class_names.txt (or event file) would make the folder a run's: a run on
  other data would then be refused there, --fresh or not. Only the run's
  own files (_run_files) that were not in the folder once
  it was prepared (`present`) are removed, then the folders it made
  (`made`), where they are empty. A file that cannot be removed is left.
  """
  try:
    if _run_checkpoint(train_dir):
      return
    for name in _run_files(train_dir):
      if name not in present:
        storage.remove(os.path.join(train_dir, name))
    storage.remove_made_folders(made)
  except (errors.UserError, storage.op_error()):
    pass  # The stop or the error that ended the run says what matters.


def _check_train_dir(train_dir, fresh, data_classes, warm_start_from,
                     trainable_scopes, classify, use_fp16):
  """Refuses a --train_dir that cannot hold this run; writes nothing.

  Args:
    train_dir, fresh, data_classes, warm_start_from, trainable_scopes,
      classify, use_fp16: as for prepare_train_dir.

  Returns:
    (latest, warm_source), as prepare_train_dir returns them.

  Raises:
    errors.UserError: `train_dir` is a file, a data set's folder or an
      exported model's, holds files under a run's names but no run, its
      checkpoint index file is damaged, the run there was trained on other
      classes, --warm_start_from holds no checkpoint of this network (for
      a new run), or one that --fresh would remove, --trainable_scopes
      names no layer of the model, or the folder cannot be written.
  """
  trained_layers.check_scopes(trainable_scopes)
  if storage.exists(train_dir) and not storage.isdir(train_dir):
    raise errors.UserError(
        '--train_dir %s is a file, not a folder. Give another --train_dir.'
        % train_dir)
  other_use = paths.other_use_of_folder(train_dir)
  if other_use:
    raise errors.UserError(
        '--train_dir %s is %s, not a training run\'s folder: training would '
        'write its checkpoints in among those files. Give a --train_dir of '
        'its own, a new folder.' % (train_dir, other_use))
  _refuse_an_evaluators_folder(train_dir)
  _refuse_files_of_no_run(train_dir, data_classes)
  # With --fresh the earlier run is not resumed: it is to be removed.
  latest = None if fresh else _run_checkpoint(train_dir)
  _refuse_another_folders_checkpoint(train_dir, latest)
  if latest:
    checkpoints.check_class_count(
        checkpoints.read_checkpoint(latest, UNUSABLE_CHECKPOINT),
        data_classes,
        _warm_start_instead(train_dir, lead='Training will not mix them: '))
  if not fresh:
    classes.check_for_run(train_dir, data_classes, resuming=bool(latest),
                          how_to_proceed=_warm_start_instead(train_dir))
  warm_source = ignored = None
  if warm_start_from and latest:
    ignored = _ignored_source(train_dir, warm_start_from, classify, use_fp16,
                              data_classes)
  elif warm_start_from:
    warm_source = _warm_source(train_dir, fresh, warm_start_from, classify,
                               use_fp16, data_classes)
  storage.check_writable(train_dir)
  if ignored:  # Once nothing here refuses the run.
    errors.notice(ignored)
  return latest, warm_source


def _warm_source(train_dir, fresh, warm_start_from, classify, use_fp16,
                 data_classes):
  """The checkpoint a new run given --warm_start_from starts from.

  Whether the flag names a checkpoint, and whether any of the model's
  weights fit it, is known before the training graph is built.

  Args:
    train_dir, fresh, warm_start_from, classify, use_fp16, data_classes: as
      for prepare_train_dir.

  Returns:
    The checkpoint's prefix.

  Raises:
    errors.UserError: the flag holds no checkpoint of this network, or one
      that --fresh would remove.
  """
  source = warm_start.find_source(warm_start_from)
  if fresh:
    _refuse_a_source_fresh_removes(train_dir, warm_start_from, source.path)
  warm_start.check_fits(source, classify, use_fp16, data_classes)
  return source.path


def _ignored_source(train_dir, warm_start_from, classify, use_fp16,
                    data_classes):
  """The notice of a run that resumes, and so ignores --warm_start_from.

  It offers --fresh to start over from the source only where a run with
  --fresh would take it: the source is checked as that run checks it
  (_warm_source), and otherwise the notice gives that run's refusal, whose
  advice works. Only the source is read; nothing is written.

  Args:
    train_dir, warm_start_from, classify, use_fp16, data_classes: as for
      prepare_train_dir.

  Returns:
    The notice's text.
  """
  ignored = ('%s %s ignored: this run resumes from its own checkpoint in '
             '--train_dir' % (warm_start.FLAG, warm_start_from))
  try:
    _warm_source(train_dir, True, warm_start_from, classify, use_fp16,
                 data_classes)
  except errors.UserError as refusal:
    return '%s, and --fresh would not start over from it: %s' % (ignored,
                                                                 refusal)
  return '%s (use --fresh to start over from %s).' % (ignored,
                                                      warm_start_from)


def _say_index_changes(train_dir, changes):
  """The notices of what checkpoints.own_checkpoints_only changed."""
  index = os.path.join(train_dir, paths.INDEX_FILE)
  if changes.adopted:
    errors.notice(
        '%s named its checkpoints by their paths in %s (the run was copied or '
        'moved from there): it now names their copies in %s (%s), which this '
        'run goes on from%s.' % (
            index, changes.copied_from, train_dir, ', '.join(changes.adopted),
            ', leaving %s as it is' % changes.copied_from
            if storage.exists(changes.copied_from) else ''))
  if changes.gone:
    errors.notice('%s no longer lists %s, whose files are not there.' % (
        index, ', '.join(changes.gone)))
  if changes.elsewhere:
    errors.notice('%s no longer lists %s, which %s not in %s: this run '
                  'deletes only its own checkpoints.' % (
                      index, ', '.join(changes.elsewhere),
                      'is' if len(changes.elsewhere) == 1 else 'are',
                      train_dir))


def _run_checkpoint(train_dir):
  """The checkpoint a trainer in `train_dir` resumes from, or None.

  The one the folder's index file names: that is all the training session
  restores (it reads tf.train.latest_checkpoint), so without that file a
  run starts at step 0 whatever else the folder holds. A checkpoint under
  a name of the user's own (best.index, say, a copy kept beside the run)
  is not the run's: read by its name here, it made the trainer say
  "Resuming from best" and then train from step 0, or say "Nothing to do"
  by its step. It is ignored rather than refused, for the run cannot harm
  it: the trainer writes only model.ckpt-<step> files, --fresh removes
  only the run's files (_run_files), and the Saver deletes only the
  checkpoints it listed. (Checkpoints named as the run's, model.ckpt-*, in
  a folder without the index file are refused as --train_dir, see
  paths.check_train_dir: a new run would write over them.)

  Raises:
    errors.UserError: the index file is damaged, unreadable or names no
      checkpoint that is there (see checkpoints.latest_checkpoint).
  """
  if not storage.exists(os.path.join(train_dir, paths.INDEX_FILE)):
    return None
  return checkpoints.latest_checkpoint(train_dir, UNUSABLE_CHECKPOINT)


def _say_kept(train_dir):
  """After --fresh, names the checkpoints left in `train_dir`: the user's
  own, under other names (see _run_checkpoint), which the new run neither
  resumes from nor removes."""
  kept = [os.path.basename(prefix)
          for prefix in paths.unlisted_checkpoints(train_dir)]
  if kept:
    print('--fresh: kept %s, not named as the run\'s checkpoints (%s): the '
          'new run starts at step 0 and leaves %s as %s.' % (
              ', '.join(kept), RUN_SIGNS_SHOWN[0],
              'it' if len(kept) == 1 else 'them',
              'it is' if len(kept) == 1 else 'they are'))


def _refuse_an_evaluators_folder(train_dir):
  """Raises UserError where --train_dir is an evaluator's --eval_dir.

  Its event files look like a run's, so training would go on in there,
  and --fresh would delete the evaluations. It is known by what the
  evaluator writes and a training run does not: `Precision @ 1` in its
  event files, and no checkpoint.
  """
  if (not storage.isdir(train_dir) or
      any(name.startswith(CHECKPOINT_BASENAME)
          for name in _run_signs(train_dir)) or
      not eval_report.evaluated_steps(train_dir)):
    return
  raise errors.UserError(
      '--train_dir %s is %s, not a training run\'s folder: training would '
      'write among them, and --fresh would delete them. Give a --train_dir '
      'of its own, a new folder.' % (train_dir, eval_report.EVAL_DIR_IS))


def _refuse_another_folders_checkpoint(train_dir, latest):
  """Raises UserError where the index file of `train_dir` names `latest`, the
  checkpoint to resume from, in another folder, with no copy here.

  A run copied or moved by its index file alone, from a trainer that wrote
  full paths (the original tutorial's), would resume from there and then
  delete that run's checkpoints as it keeps only its newest
  (checkpoints.own_checkpoints_only drops such entries only where the
  newest is this folder's).
  """
  if not latest or checkpoints.in_folder(latest, train_dir):
    return
  other = storage.dirname(latest) or '.'
  raise errors.UserError(
      '--train_dir %s: its index file (%s) names %s, a checkpoint of another '
      'folder, and %s holds no copy of it: training would resume from it, '
      'then delete %s\'s checkpoints as it keeps only its newest. Give '
      '--train_dir %s to go on with that run, or copy its checkpoint files '
      '(%s.*) into %s.' % (
          train_dir, paths.INDEX_FILE, latest, train_dir, other,
          paths.for_shell(other), paths.for_shell(latest), train_dir))


def _refuse_a_source_fresh_removes(train_dir, warm_start_from, source):
  """Raises UserError where --fresh would delete the warm start's checkpoint.

  --fresh clears --train_dir before the training graph reads the source,
  so a source in that folder would be gone (and the earlier run with it)
  by the time it is read. The advice keeps the run: train into another
  folder, or copy the checkpoint (and the class names read beside it, see
  warm_start.relabelled_source) out first.

  Args:
    train_dir, warm_start_from: the flags.
    source: the checkpoint prefix warm_start.find_source made of the flag.
  """
  if not warm_start.fresh_would_remove(source, train_dir):
    return
  # Both folders are free names, so that the advice copies over nothing.
  copy_out = ''
  if not storage.scheme(source):  # A shell's cp cannot reach a URL.
    folder = storage.dirname(source) or '.'
    files = [paths.for_shell(source) +
             ('' if storage.isfile(source) else '.*')]
    if storage.isfile(os.path.join(folder, classes.RUN_FILE)):
      files.append(paths.for_shell(os.path.join(folder, classes.RUN_FILE)))
    copy = paths.new_folder_beside(train_dir, '_start')
    copy_out = ', or copy the checkpoint out first (%s) and give %s' % (
        paths.into_new_folder('cp', files, copy), paths.flag_value(
            warm_start.FLAG, os.path.join(copy, os.path.basename(source))))
  # --fresh keeps a checkpoint of the user's own name (best.*), but not the
  # class names beside it, which say what its last layer scores: the new
  # run writes its own there, and the warm start would read those instead.
  lost = ('the checkpoint would be deleted with the earlier run'
          if RUN_SIGNS[0].fullmatch(os.path.basename(source)) else
          'it keeps the checkpoint, not the class names beside it (%s), which '
          'the new run writes its own over, so that the warm start would '
          'match the wrong classes' % classes.RUN_FILE)
  raise errors.UserError(
      '%s %s %s a checkpoint in --train_dir %s, which --fresh clears before '
      'training reads it: %s. Train into a new folder instead (%s, without '
      '--fresh)%s.' % (
          warm_start.FLAG, warm_start_from, 'is' if source == warm_start_from
          else 'reads %s,' % source, train_dir, lost, paths.flag_value(
              '--train_dir', paths.new_folder_beside(train_dir, '_new')),
          copy_out))


def _refuse_files_of_no_run(train_dir, data_classes):
  """Raises UserError where --train_dir holds a run's file names but no run.

  A `checkpoint`, graph.pbtxt or class_names.txt in a folder without a
  checkpoint or event file is someone else's file: training would write
  over it, and --fresh would delete it. Two exceptions: a class_names.txt
  holding exactly the names this run records, and a training_flags.txt
  that is a record of run_flags.py, are our own, left by a run stopped
  before its first checkpoint (killed, or by versions that did not take
  them away again, see _undo_new_run).
  """
  if not storage.isdir(train_dir) or _run_signs(train_dir):
    return
  ours = classes.format_names(data_classes.names)
  others = [name for name in GENERIC_RUN_FILES
            if storage.exists(os.path.join(train_dir, name)) and not (
                name == classes.RUN_FILE and
                _holds(os.path.join(train_dir, name), ours) or
                name == run_flags.RUN_FILE and
                run_flags.read(os.path.join(train_dir, name)))]
  if others:
    them = 'it' if len(others) == 1 else 'them'
    raise errors.UserError(
        '--train_dir %s holds %s but no %s file of a training run, so %s '
        'not a run\'s: training would write over %s, and --fresh would '
        'delete %s. Move %s out of %s, or give another --train_dir.' % (
            train_dir, ', '.join(others), ' or '.join(RUN_SIGNS_SHOWN),
            'it is' if len(others) == 1 else 'they are', them, them, them,
            train_dir))


# What a save that cannot write raises: ResourceExhausted for a full disk or
# quota, OutOfRange for a file-size limit, PermissionDenied for a folder that
# cannot be written.
_SAVE_ERRORS = (tf.errors.ResourceExhaustedError, tf.errors.OutOfRangeError,
                tf.errors.PermissionDeniedError)


def _holds(path, contents):
  """Whether the file `path` holds exactly the bytes `contents`."""
  try:
    return storage.isfile(path) and storage.read_bytes(path) == contents
  except storage.op_error():
    return False


def _remove_cut_saves(train_dir):
  """Deletes what saves cut short left in `train_dir`; returns their names.

  The Saver writes a checkpoint's data, then its .index, each under a
  temporary name (.tempstate<number>) renamed when whole. A save that
  failed (a full disk) or was cut short (kill -9 as it saved) leaves a
  file under its temporary name, or data without its .index: nothing can
  restore either, and the Saver, which deletes only the checkpoints the
  index file lists, would keep them for good (megabytes each). On a full
  disk they also take the room the next save needs. Call it where no save
  can be under way: a trainer holding the folder, before it saves.
  """
  names = storage.listdir(train_dir)
  indexed = {name[:-len('.index')] for name in names
             if name.endswith('.index')}
  cut = sorted(name for name in names
               if RUN_SIGNS[0].fullmatch(name) and (
                   '.tempstate' in name or '.data-' in name and
                   name.partition('.data-')[0] not in indexed))
  for name in cut:
    storage.remove(os.path.join(train_dir, name))
  return cut


def _run_signs(train_dir):
  """The files in `train_dir` named as only a run names them (RUN_SIGNS),
  sorted."""
  return sorted(name for name in storage.listdir(train_dir)
                if any(sign.fullmatch(name) for sign in RUN_SIGNS) and
                storage.isfile(os.path.join(train_dir, name)))


def _run_files(train_dir):
  """The files a run writes that are in `train_dir`: all that --fresh
  deletes. The generic names (GENERIC_RUN_FILES) count only in a folder
  that holds a run's own file (see _refuse_files_of_no_run).

  Returns:
    Their names, the run's own first, each kind sorted.
  """
  signs = _run_signs(train_dir)
  return signs + [name for name in GENERIC_RUN_FILES
                  if storage.isfile(os.path.join(train_dir, name))]


def _remove_run_files(train_dir):
  removed = _run_files(train_dir)
  for name in removed:
    storage.remove(os.path.join(train_dir, name))
  return removed


# ---------------------------------------------------------------------------
# Hooks
# ---------------------------------------------------------------------------

# Closing the terminal a trainer runs in, or losing the SSH connection to
# it, sends SIGHUP, which would end the run at once and lose the steps since
# its last checkpoint (up to 10 minutes'). While steps run it is a stop like
# the others. (None where the system has no such signal: Windows.)
_HANGUP = getattr(signal, 'SIGHUP', None)


class _StopHook(tf.compat.v1.train.SessionRunHook):
  """Ends training after the step that reaches --max_steps or follows a signal.

  A signal only sets a flag; the step in flight completes and the session
  then closes the ordinary way, so the checkpoint hook saves that step and
  the summary writer closes its file. This hook takes the place of the
  original's StopAtStepHook: it reads the step count after the update,
  where StopAtStepHook reads it before, which with synchronous replicas can
  trail an update and begin a step no other worker will help finish.

  After SIGHUP the terminal is gone, and a write to it fails (EIO), which
  would end the run before it saves: stdout and stderr, where they were the
  terminal, go to os.devnull from then on.
  """

  def __init__(self, step_after_train, max_steps):
    self._step_after_train = step_after_train
    self._max_steps = max_steps
    self.signum = None
    self._previous = {}
    self._terminal = ()

  def begin(self):
    # Known now: after the hangup, the terminal no longer answers isatty.
    self._terminal = [fd for fd in (1, 2) if os.isatty(fd)]
    for signum in errors.STOP_SIGNALS + ((_HANGUP,) if _HANGUP else ()):
      self._previous[signum] = signal.signal(signum, self._handle)

  def _handle(self, signum, frame):
    del frame  # Unused.
    if signum == _HANGUP:
      devnull = os.open(os.devnull, os.O_WRONLY)
      for fd in self._terminal:
        os.dup2(devnull, fd)
      os.close(devnull)
    self.signum = signum

  def before_run(self, run_context):
    return tf.compat.v1.train.SessionRunArgs(self._step_after_train)

  def after_run(self, run_context, run_values):
    if self.signum is not None or run_values.results >= self._max_steps:
      run_context.request_stop()

  def restore_handlers(self):
    for signum, handler in self._previous.items():
      signal.signal(signum, handler)


class _RecordFlagsOnSave(tf.compat.v1.train.CheckpointSaverListener):
  """Records a resumed run's flags (run_flags.record) once it has saved a
  checkpoint beyond the step it resumed from: the hook also saves as the
  session opens, before any step, and a run stopped then trained nothing
  with them."""

  def __init__(self, train_dir, flags_of_run, resumed_step):
    self._train_dir = train_dir
    self._flags_of_run = flags_of_run
    self._resumed_step = resumed_step

  def after_save(self, session, global_step_value):
    del session  # Unused.
    if self._flags_of_run and global_step_value > self._resumed_step:
      run_flags.record(self._train_dir, self._flags_of_run)
      self._flags_of_run = None  # Once is enough.


class _WithoutTheNanLine(logging.Filter):
  """Drops NanTensorHook's "Model diverged with loss = NaN." from TensorFlow's
  logger: the trainer's own line says it, with the step and what to do."""

  def filter(self, record):
    return record.getMessage() != 'Model diverged with loss = NaN.'


class _SessionKeeper(tf.compat.v1.train.SessionRunHook):
  """Keeps the raw session, to save a checkpoint with after an op fails."""

  session = None

  def after_create_session(self, session, coord):
    self.session = session


# ---------------------------------------------------------------------------
# The guard around the loop
# ---------------------------------------------------------------------------

# A task stopped in a cluster stops alone: the other tasks know nothing of
# it. Asynchronous workers go on updating the variables on the ps tasks,
# and a restarted chief restores them from its last checkpoint; the ps
# tasks wait for every worker's end. Synchronous workers wait for the
# chief, which applies every update, and at times for a worker that left.
_CLUSTER_GOES_ON = (
    ' The other tasks go on: the workers train on, but nothing they do is '
    'saved until the chief is back, and it resumes from this checkpoint.')
_CLUSTER_WAITS = (
    ' The other tasks wait: with --sync_replicas the chief applies every '
    'update, so no worker\'s step can finish until it is back, and it '
    'resumes from this checkpoint.')
_WORKER_LEFT = (
    ' The other workers train on, and the ps tasks wait for this one to '
    'rejoin and finish before they exit.')
# Each synchronous update takes as many gradients as there are workers,
# from any of them: the others may make up a missing worker's share, or
# stall (in 6 of the 11 kills docs/distributed.md counts, they stalled).
_WORKER_LEFT_SYNC = (
    ' The other workers\' steps may stall until it is back: with '
    '--sync_replicas each update waits for as many gradients as there are '
    'workers, which the others make up without this one only at times. The '
    'ps tasks wait for it to rejoin and finish before they exit.')
_STOP_THE_CLUSTER = (
    ' To stop the whole cluster, stop each worker and ps task too (Ctrl-C '
    'in each).')


class Guard:
  """Resumes, stops and fails a training run the way its user expects.

  training_loop.run makes one per run and calls it at four points: before
  the session (`resume_point`), for its hooks (`hooks`), around the session
  (`stops_and_divergence`, `saving_as_the_session_opens_and_closes`) and
  around the steps (`saving_on_failure`), and once the session has closed
  (`check_ending`, then `say_finished`).
  """

  def __init__(self, settings, replica):
    self._settings = settings
    self._replica = replica
    self._stopper = None
    self._keeper = _SessionKeeper()
    # The step after whose next checkpoint the run's flags are recorded
    # (resume_point), or None where the record stands.
    self._record_flags_after = None

  def checkpoint_listeners(self):
    """The checkpoint hook's listeners: the one that records a resumed
    run's changed flags as it saves its first checkpoint of training."""
    if self._record_flags_after is None:
      return []
    return [_RecordFlagsOnSave(self._settings.train_dir,
                               self._settings.run_flags,
                               self._record_flags_after)]

  def _checkpoints_are(self, on_the_chief):
    """The clause `on_the_chief` on the chief; elsewhere, who keeps them."""
    if self._replica.is_chief:
      return on_the_chief
    return 'the chief keeps the checkpoints'

  def _checkpoints_line(self, on_the_chief):
    """The same as a sentence of its own."""
    clause = self._checkpoints_are(on_the_chief)
    return clause[0].upper() + clause[1:] + '.'

  def resume_point(self):
    """Checks the checkpoint training resumes from, and says what the run does.

    Only the chief reads --train_dir: the other workers of a cluster take
    the variables from the parameter servers once the chief has restored
    them.

    Returns:
      The checkpoint's global step, or None (a new run, or not the chief).

    Raises:
      errors.UserError: the checkpoint cannot be resumed by this graph; it
        is left as it is.
    """
    if not self._replica.is_chief:
      return None
    latest = _run_checkpoint(self._settings.train_dir)
    if not latest:
      return None
    checkpoint = checkpoints.read_checkpoint(latest, UNUSABLE_CHECKPOINT)
    checkpoints.check_checkpoint(
        checkpoint,
        checkpoints.saved_variables(tf.compat.v1.global_variables()),
        UNUSABLE_CHECKPOINT, advise_use_fp16=True)
    if checkpoint.global_step < self._settings.max_steps:
      if self._settings.run_flags and run_flags.notice_changes(
          self._settings.train_dir, self._settings.run_flags,
          checkpoint.global_step):
        self._record_flags_after = checkpoint.global_step
      print('Resuming from %s (global step %d). Use --fresh to start over.'
            % (latest, checkpoint.global_step), flush=True)
      # Now that the run trains on: a refused or finished one touches
      # nothing. The folder is this trainer's (_train_dir_lock).
      cut = _remove_cut_saves(self._settings.train_dir)
      if cut:
        print('Removed %d file%s of a save cut short (the trainer ended as '
              'it saved), which nothing could restore:%s' % (
                  len(cut), 's' * (len(cut) != 1),
                  ''.join('\n  ' + name for name in cut)), flush=True)
    return checkpoint.global_step

  def _after_stop(self):
    """The end of a stopped run's last line: how to go on, and, in a
    cluster, what the other tasks do meanwhile."""
    resume = 'Run the same command again to resume.'
    if not self._replica.master:
      return resume
    sync = self._replica.sync_replicas
    if self._replica.is_chief:
      return (resume + (_CLUSTER_WAITS if sync else _CLUSTER_GOES_ON) +
              _STOP_THE_CLUSTER)
    # A worker resumes nothing: started again, it takes the variables and
    # the global step from the ps tasks, as when it first joined.
    return ('Run the same command again to rejoin the cluster.' +
            (_WORKER_LEFT_SYNC if sync else _WORKER_LEFT) + _STOP_THE_CLUSTER)

  def _ended(self, how, step):
    """'<how> at step N; <the checkpoint saved>': how a run's last line starts.

    The checkpoint is named by its path, which the evaluator, predict and
    export take as --checkpoint_dir. The chief of an asynchronous cluster
    saves as its session closes, at the global step then: the other
    workers' steps after its own last one are in it (Finished at step 60,
    saved model.ckpt-61), so the line gives the checkpoint's step.
    """
    saved = tf.train.latest_checkpoint(self._settings.train_dir)
    if self._replica.is_chief:
      step = max(step, paths.step_in_name(saved or '') or 0)
    return '%s at step %d; %s' % (how, step,
                                  self._checkpoints_are('saved %s' % saved))

  def say_finished(self, step):
    """Prints the last line of a run that trained to its end."""
    print(self._ended('Finished', step) + '.', flush=True)

  def say_nothing_to_do(self, step):
    # A worker other than the chief reads the step from the parameter
    # servers: its own --train_dir holds nothing.
    print('Nothing to do: the global step %s is already %d and --max_steps '
          'is %d. Raise --max_steps to train further.'
          % ('in %s' % self._settings.train_dir if self._replica.is_chief
             else 'on the parameter servers', step, self._settings.max_steps),
          flush=True)

  def hooks(self, step_after_train):
    """The hooks that stop at --max_steps or a signal, and keep the session.

    Args:
      step_after_train: the global step once the train op has run.
    """
    self._stopper = _StopHook(step_after_train, self._settings.max_steps)
    return [self._stopper, self._keeper]

  @contextlib.contextmanager
  def stops_and_divergence(self, logger):
    """Around the session: a NaN loss becomes one line; signals are restored.

    Args:
      logger: the loop's logger hook, whose `last_step` is the step reached.
    """
    # NanTensorHook logs "Model diverged with loss = NaN." as it raises; the
    # line below says it again, with the step and what to do.
    tensorflow_logger = logging.getLogger('tensorflow')
    quiet = _WithoutTheNanLine()
    if not tensorflow_logs.verbose():
      tensorflow_logger.addFilter(quiet)
    try:
      yield
    except tf.compat.v1.train.NanLossDuringTrainingError:
      raise errors.UserError(
          'Model diverged with loss = NaN at step %d. Training stopped '
          'without saving the diverged weights; %s. %s' % (
              logger.last_step + 1, self._checkpoints_are(
                  'the last good checkpoint is %s'
                  % tf.train.latest_checkpoint(self._settings.train_dir)),
              self._lower_the_rate()))
    finally:
      tensorflow_logger.removeFilter(quiet)
      self._stopper.restore_handlers()

  def _lower_the_rate(self):
    """What to do after a NaN loss: run again at a smaller learning rate.

    The same command diverges again (the same rate, from the same weights),
    so the advice names a value: a tenth of the rate given, or the
    tutorial's 0.1 where that is smaller (from 1e30, a tenth diverges too).
    Resuming from the last good checkpoint at the lower rate keeps the
    steps trained well; a command that gave --fresh starts over again,
    which works too.
    """
    rate = self._settings.initial_learning_rate
    lower = ('--initial_learning_rate %g instead of %g' % (
        min(rate / 10, flags.INITIAL_LEARNING_RATE), rate) if rate else
             'a smaller --initial_learning_rate')
    resume = ('; without --fresh, training resumes from that checkpoint'
              if self._replica.is_chief else '')
    return 'Lower the learning rate: run again with %s%s.' % (lower, resume)

  @contextlib.contextmanager
  def saving_on_failure(self, saver, logger):
    """Around the steps: a failed op saves a checkpoint, then one line says why.

    A reader of the output that stops reading saves one too, in silence.

    Args:
      saver: the loop's Saver.
      logger: the loop's logger hook, whose `last_step` is the step reached.
    """
    try:
      yield
    except BrokenPipeError:
      # The output's reader went away (`cifar10.train ... | head`): a stop
      # the user meant. The steps made since the last checkpoint are kept,
      # then the run ends as script.run ends such a script, without a word.
      if self._replica.is_chief:
        self._save_after_failure(saver, logger.last_step)
      raise
    except _SAVE_ERRORS as error:
      if not self._failed_to_save(error):
        raise
      # The checkpoint hook's save failed: a second try would only fail too.
      raise errors.UserError('Training stopped at step %d. %s.' % (
          logger.last_step, self._could_not_save(error))) from None
    except tf.errors.OpError as error:
      raise errors.UserError('Training stopped at step %d: %s\n%s' % (
          logger.last_step,
          self._bad_training_file() or errors.describe(error),
          self._checkpoints_line(
              self._save_after_failure(saver, logger.last_step)
              if self._replica.is_chief else None)))

  @contextlib.contextmanager
  def saving_as_the_session_opens_and_closes(self):
    """Around the session: a save that fails outside the steps, in one line.

    The checkpoint hook saves when the session opens (step 0 of a new run)
    and as it closes, where `saving_on_failure` does not watch: a full disk
    there would end in TensorFlow's traceback. The partial files are
    removed, and the line names the checkpoint that is intact, if any. Once
    the session has closed, the run's event file gets the events still
    queued for it (summaries.flush_run_writer).
    """
    try:
      yield
      summaries.flush_run_writer(self._settings.train_dir)
    except _SAVE_ERRORS as error:
      raise errors.UserError(self._could_not_save(error) + '.') from None

  def _failed_to_save(self, error):
    """Whether `error` names a checkpoint file of --train_dir: the saver's."""
    path, _ = errors.path_and_reason(errors.describe(error))
    return (os.path.dirname(path) == self._settings.train_dir.rstrip('/') and
            RUN_SIGNS[0].fullmatch(os.path.basename(path)) is not None)

  def _could_not_save(self, error):
    """Removes the failed save's files; returns the sentences that say so,
    the last without its full stop."""
    train_dir = self._settings.train_dir
    _remove_cut_saves(train_dir)
    latest = tf.train.latest_checkpoint(train_dir)
    return 'Could not save a checkpoint into --train_dir %s (%s). %s' % (
        train_dir, storage.reason(error),
        'The latest complete checkpoint, %s, is intact: make room there (or '
        'fix the cause) and run again to resume from it' % latest
        if latest else 'Nothing was trained: make room there (or fix the '
        'cause) and run again, or give another --train_dir')

  def check_ending(self, last_step):
    """Raises what ended the run early, once the session has closed.

    Raises:
      errors.TrainingInterrupted: SIGINT or SIGTERM stopped training before
        --max_steps, after the session saved a checkpoint.
      errors.UserError: the input ended before --max_steps, which a
        repeating input does only when a file shrank while it was read.
    """
    train_dir = self._settings.train_dir
    # A stop that arrives with the last step ends nothing early: the run is
    # complete, and "run again to resume" would only lead to "Nothing to do".
    if (self._stopper.signum is not None and
        last_step < self._settings.max_steps):
      signal_name = signal.Signals(self._stopper.signum).name
      raise errors.TrainingInterrupted(
          self._stopper.signum,
          self._ended('Stopped by ' + signal_name, last_step) + '. ' +
          self._after_stop())
    bad_file = (self._bad_training_file()
                if last_step < self._settings.max_steps else None)
    if bad_file:
      # The session saved a checkpoint as it closed.
      raise errors.UserError('Training stopped at step %d: %s\n%s' % (
          last_step, bad_file, self._checkpoints_line(
              _SAVED % tf.train.latest_checkpoint(train_dir))))

  def _bad_training_file(self):
    """The complaint about the first bad training file, or None."""
    if self._settings.data_dir is None:
      return None
    data_format = self._settings.data_format
    return batch_files.bad_file_complaint(
        batch_files.batches_dir(self._settings.data_dir, data_format), False,
        data_format)

  def _save_after_failure(self, saver, step):
    """Saves after a failed op; returns a sentence on the outcome."""
    train_dir = self._settings.train_dir
    checkpoint_path = os.path.join(train_dir, CHECKPOINT_BASENAME)
    try:
      return _SAVED % saver.save(self._keeper.session, checkpoint_path,
                                 global_step=step)
    except tf.errors.OpError as error:
      return self._could_not_save(error)
