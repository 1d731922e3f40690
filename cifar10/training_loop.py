"""The training loop of every trainer: session, hooks, log line, checkpoints.

`train`, `multi_gpu_train` and `dist_train` each build a graph their own way
and hand this module its train op, loss and global step. `run` drives them in
a MonitoredTrainingSession, the TF1 way of training: hooks watch every step
(stop at --max_steps, stop on a NaN loss, print the original's log line) and
the session restores, initializes, checkpoints and writes summaries itself.
On top of what the original did, the loop

* resumes from the newest checkpoint in --train_dir, after checking that it
  fits the graph, and says so; at --max_steps already, it trains nothing;
* on SIGINT or SIGTERM finishes the step, saves it, closes the event file,
  says where it stopped and exits with 128 + the signal number;
* on a NaN loss stops before the NaN weights can be saved;
* when an op fails (a data file vanished, say) saves a checkpoint first, then
  stops with one line: the bad data file by name and what is wrong with it,
  or else the op's complaint.
"""

import dataclasses
import datetime
import glob
import os
import signal
import time

import tensorflow as tf

from cifar10 import checkpoints
from cifar10 import cifar10
from cifar10 import cifar10_input
from cifar10 import classes
from cifar10 import errors
from cifar10 import session_options as session_options_lib

CHECKPOINT_BASENAME = 'model.ckpt'

# The advice for a checkpoint in --train_dir that this graph cannot resume.
_UNUSABLE_CHECKPOINT = (
    'Training will not write over it: run with --fresh to start over (that '
    'removes the earlier run\'s checkpoints and event files), or choose '
    'another --train_dir.')

# The files a run writes into --train_dir: all that --fresh deletes.
_RUN_FILE_PATTERNS = ('checkpoint', CHECKPOINT_BASENAME + '-*',
                      'events.out.tfevents.*', 'graph.pbtxt', classes.RUN_FILE)

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


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
  # The speed flags' settings, from which the loop makes the session's
  # ConfigProto (and the trainers set up the process).
  session_options: session_options_lib.SessionOptions = (
      session_options_lib.SessionOptions())

  @classmethod
  def from_flags(cls, args):
    """Reads the settings from the parsed flags of `flags.training_parser`."""
    named = {field.name: getattr(args, field.name)
             for field in dataclasses.fields(cls)
             if field.name != 'session_options'}
    return cls(
        session_options=session_options_lib.SessionOptions.from_flags(args),
        **named)


@dataclasses.dataclass(frozen=True)
class Replica:
  """Where this trainer sits in a cluster; the defaults mean no cluster.

  In a cluster every worker runs this loop, but only the chief reads and
  writes --train_dir (checkpoints and summaries), so that exactly one
  process owns it. `master` is the gRPC target of this worker's server,
  `hooks` are extra session hooks (SyncReplicasOptimizer's), and
  `device_filters` keep the session from waiting on the other workers.
  """
  master: str = ''
  is_chief: bool = True
  hooks: tuple = ()
  device_filters: tuple = ()
  max_wait_secs: int = 7200
  # Seconds closing waits for background threads: the queue runners of
  # synchronous replicas never finish once the other workers have left.
  stop_grace_period_secs: int = 120


# ---------------------------------------------------------------------------
# The train directory
# ---------------------------------------------------------------------------

def prepare_run(args):
  """Everything a one-process trainer does before it builds its graph.

  cifar10.train and cifar10.multi_gpu_train both start this way; dist_train
  does the same steps, but each in the task that needs it.

  Args:
    args: the parsed flags of `flags.training_parser`.

  Returns:
    The LoopSettings that `run` takes, read from the flags. Their process-wide
    part (threads, kernels) is applied already, as it must be before the
    first session.

  Raises:
    errors.UserError: the download failed, or --train_dir cannot hold this
      run (see prepare_train_dir).
  """
  settings = LoopSettings.from_flags(args)
  settings.session_options.apply_to_process()
  # The first run downloads the data; later runs find it and return at once.
  cifar10.maybe_download_and_extract(
      args.data_dir, args.data_url,
      needed_files=cifar10_input.file_names(eval_data=False))
  prepare_train_dir(args.train_dir, args.fresh,
                    cifar10.data_classes(args.data_dir))
  return settings


def prepare_train_dir(train_dir, fresh, data_classes):
  """Creates --train_dir if needed; `fresh` clears an earlier run from it.

  It also records the data's class names there (classes.RUN_FILE), for the
  tools that read the run's checkpoints without the data.

  Args:
    train_dir: the --train_dir flag.
    fresh: the --fresh flag: delete the earlier run's checkpoints, event
      files and class names (and nothing else), listing them.
    data_classes: the classes.Classes of the training data.

  Returns:
    The checkpoint training will resume from, or None.

  Raises:
    errors.UserError: `train_dir` is a file, its checkpoint index file is
      damaged, or the run there was trained on other classes.
  """
  if os.path.exists(train_dir) and not os.path.isdir(train_dir):
    raise errors.UserError(
        '--train_dir %s is a file, not a folder. Give another --train_dir.'
        % train_dir)
  os.makedirs(train_dir, exist_ok=True)
  if fresh:
    removed = _remove_run_files(train_dir)
    print('--fresh: removed %d files of an earlier run from %s%s'
          % (len(removed), train_dir,
             ''.join('\n  ' + name for name in removed)))
    latest = None
  else:
    latest = checkpoints.latest_checkpoint(train_dir, _UNUSABLE_CHECKPOINT)
  if latest:
    checkpoints.check_class_count(latest, data_classes, _UNUSABLE_CHECKPOINT)
  classes.record_for_run(train_dir, data_classes, resuming=bool(latest))
  return latest


def _remove_run_files(train_dir):
  removed = []
  for pattern in _RUN_FILE_PATTERNS:
    for path in sorted(glob.glob(os.path.join(train_dir, pattern))):
      if os.path.isfile(path):
        os.remove(path)
        removed.append(os.path.basename(path))
  return removed


# ---------------------------------------------------------------------------
# Hooks
# ---------------------------------------------------------------------------

class _LoggerHook(tf.compat.v1.train.SessionRunHook):
  """Prints the original's line (loss, examples/sec, sec/batch) every few steps.

  The rates cover the steps since the previous line. It also records the
  global step after each run, which the loop's closing messages report.
  """

  def __init__(self, loss, step_after_train, examples_per_step, towers,
               log_frequency):
    self._fetches = [loss, step_after_train]
    self._examples_per_step = examples_per_step
    self._towers = towers
    self._log_frequency = log_frequency
    self.last_step = None

  def after_create_session(self, session, coord):
    self.last_step = session.run(tf.compat.v1.train.get_global_step())
    self._window_start = (time.time(), self.last_step)

  def before_run(self, run_context):
    return tf.compat.v1.train.SessionRunArgs(self._fetches)

  def after_run(self, run_context, run_values):
    loss_value, step = run_values.results
    # With synchronous replicas a run can end without the step advancing.
    if step == self.last_step or step % self._log_frequency:
      self.last_step = step
      return
    self.last_step = step
    current_time = time.time()
    start_time, start_step = self._window_start
    self._window_start = (current_time, self.last_step)
    steps = max(self.last_step - start_step, 1)
    duration = current_time - start_time
    examples_per_sec = steps * self._examples_per_step / duration
    sec_per_batch = duration / (steps * self._towers)
    print('%s: step %d, loss = %.2f (%.1f examples/sec; %.3f sec/batch)'
          % (datetime.datetime.now(), self.last_step, loss_value,
             examples_per_sec, sec_per_batch), flush=True)


class _StopHook(tf.compat.v1.train.SessionRunHook):
  """Ends training after the step that reaches --max_steps or follows a signal.

  A signal only sets a flag; the step in flight completes and the session
  then closes the ordinary way, so the checkpoint hook saves that step and
  the summary writer closes its file. This hook takes the place of the
  original's StopAtStepHook: it reads the step count after the update,
  where StopAtStepHook reads it before, which with synchronous replicas can
  trail an update and begin a step no other worker will help finish.
  """

  def __init__(self, step_after_train, max_steps):
    self._step_after_train = step_after_train
    self._max_steps = max_steps
    self.signum = None
    self._previous = {}

  def begin(self):
    for signum in _STOP_SIGNALS:
      self._previous[signum] = signal.signal(signum, self._handle)

  def _handle(self, signum, frame):
    del frame  # Unused.
    self.signum = signum

  def before_run(self, run_context):
    return tf.compat.v1.train.SessionRunArgs(self._step_after_train)

  def after_run(self, run_context, run_values):
    if self.signum is not None or run_values.results >= self._max_steps:
      run_context.request_stop()

  def restore_handlers(self):
    for signum, handler in self._previous.items():
      signal.signal(signum, handler)


class _SessionKeeper(tf.compat.v1.train.SessionRunHook):
  """Keeps the raw session, to save a checkpoint with after an op fails."""

  session = None

  def after_create_session(self, session, coord):
    self.session = session


# ---------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------

def _save_after_failure(saver, session, checkpoint_path, step, train_dir):
  """Saves after a failed op; returns a sentence on the outcome."""
  try:
    return ('Saved %s; fix the cause and run again to resume.'
            % saver.save(session, checkpoint_path, global_step=step))
  except tf.errors.OpError as error:
    # A failed save leaves partial files behind, which on a full disk only
    # take the space the next attempt needs.
    for partial in glob.glob(checkpoint_path + '-*.tempstate*'):
      os.remove(partial)
    return ('Could not save a checkpoint either (%s). The latest complete '
            'checkpoint, %s, is intact: fix the cause (free disk space?) and '
            'run again to resume from it.' % (
                errors.describe(error),
                tf.train.latest_checkpoint(train_dir)))


def _bad_training_file(data_dir):
  """The complaint about the first bad file in `data_dir`, or None."""
  if data_dir is None:
    return None
  return cifar10_input.bad_file_complaint(cifar10.batches_dir(data_dir),
                                          eval_data=False)


def _resume_point(settings, replica):
  """Checks the checkpoint training resumes from, and says what the run does.

  Only the chief reads --train_dir: the other workers of a cluster take the
  variables from the parameter servers once the chief has restored them.

  Returns:
    The checkpoint's global step, or None (a new run, or not the chief).

  Raises:
    errors.UserError: the checkpoint cannot be resumed by this graph; it is
      left as it is.
  """
  if not replica.is_chief:
    return None
  latest = checkpoints.latest_checkpoint(settings.train_dir,
                                         _UNUSABLE_CHECKPOINT)
  if not latest:
    return None
  checkpoints.check_checkpoint(
      latest, checkpoints.saved_variables(tf.compat.v1.global_variables()),
      _UNUSABLE_CHECKPOINT, advise_use_fp16=True)
  step = checkpoints.global_step_of(latest)
  if step < settings.max_steps:
    print('Resuming from %s (global step %d). Use --fresh to start over.'
          % (latest, step), flush=True)
  return step


def _say_nothing_to_do(step, max_steps, train_dir):
  print('Nothing to do: the global step in %s is already %d and --max_steps '
        'is %d. Raise --max_steps to train further.'
        % (train_dir, step, max_steps), flush=True)


def run(train_op, loss, global_step, examples_per_step, settings, towers=1,
        replica=Replica()):
  """Trains until the global step reaches `settings.max_steps`, or a stop.

  A run that starts at or beyond max_steps trains no step: it prints one
  line saying so and returns, leaving the checkpoints as they are. (A chief
  in a cluster still opens its session, without saving anything, so that
  the parameter servers hold the restored variables the workers wait for.)

  Args:
    train_op: the op that runs one training step.
    loss: the scalar loss, logged and watched for NaN.
    global_step: the global step variable; `train_op` adds 1 to it.
    examples_per_step: images one step trains on, for examples/sec.
    settings: a LoopSettings.
    towers: model replicas per step; sec/batch is per tower, as originally.
    replica: this trainer's place in a cluster (the default: none).

  Returns:
    The global step reached.

  Raises:
    errors.TrainingInterrupted: SIGINT or SIGTERM stopped training, after a
      checkpoint was saved.
    errors.UserError: the checkpoint in --train_dir cannot be resumed, the
      loss diverged, or an op failed (after saving a checkpoint).
  """
  start_step = _resume_point(settings, replica)
  finished = start_step is not None and start_step >= settings.max_steps
  if finished and not replica.master:
    _say_nothing_to_do(start_step, settings.max_steps, settings.train_dir)
    return start_step
  # The step as it is once `train_op` has run, for the hooks to watch.
  with tf.control_dependencies([train_op]):
    step_after_train = tf.identity(global_step.read_value())
  # Relative paths in the `checkpoint` index keep --train_dir movable.
  saver = tf.compat.v1.train.Saver(max_to_keep=settings.keep_checkpoints,
                                   save_relative_paths=True)
  checkpoint_path = os.path.join(settings.train_dir, CHECKPOINT_BASENAME)
  logger = _LoggerHook(loss, step_after_train, examples_per_step, towers,
                       settings.log_frequency)
  stopper = _StopHook(step_after_train, settings.max_steps)
  keeper = _SessionKeeper()
  hooks = [
      # Ahead of the checkpoint hook, so that NaN weights are never saved.
      tf.compat.v1.train.NanTensorHook(loss),
      logger, stopper, keeper,
  ] + list(replica.hooks)
  writes = replica.is_chief and not finished
  if writes:
    hooks.append(tf.compat.v1.train.CheckpointSaverHook(
        settings.train_dir,
        save_secs=(None if settings.save_checkpoint_steps
                   else settings.save_checkpoint_secs),
        save_steps=settings.save_checkpoint_steps,
        saver=saver, checkpoint_basename=CHECKPOINT_BASENAME))
  config = settings.session_options.config_proto(
      log_device_placement=settings.log_device_placement,
      allow_soft_placement=True, device_filters=replica.device_filters)
  try:
    with tf.compat.v1.train.MonitoredTrainingSession(
        master=replica.master,
        is_chief=replica.is_chief,
        checkpoint_dir=settings.train_dir,
        scaffold=tf.compat.v1.train.Scaffold(saver=saver),
        hooks=hooks,
        save_checkpoint_secs=None,
        save_checkpoint_steps=None,
        save_summaries_steps=settings.save_summaries_steps if writes else None,
        log_step_count_steps=100 if writes else None,
        config=config,
        max_wait_secs=replica.max_wait_secs,
        stop_grace_period_secs=replica.stop_grace_period_secs) as mon_sess:
      # Read without the hooks: their fetches would run a training step.
      step = mon_sess.run_step_fn(
          lambda step_context: step_context.session.run(global_step))
      if step >= settings.max_steps:
        _say_nothing_to_do(step, settings.max_steps, settings.train_dir)
        return step
      for line in tf.compat.v1.get_collection(cifar10_input.STARTUP_LINES):
        print(line, flush=True)
      try:
        while not mon_sess.should_stop():
          mon_sess.run(train_op)
      except tf.errors.OpError as error:
        raise errors.UserError('Training stopped at step %d: %s\n%s' % (
            logger.last_step,
            _bad_training_file(settings.data_dir) or errors.describe(error),
            _save_after_failure(saver, keeper.session, checkpoint_path,
                                logger.last_step, settings.train_dir)
            if replica.is_chief else 'The chief keeps the checkpoints.'))
  except tf.compat.v1.train.NanLossDuringTrainingError:
    raise errors.UserError(
        'Model diverged with loss = NaN at step %d. Training stopped without '
        'saving the diverged weights; %s.' % (
            logger.last_step + 1,
            'the last good checkpoint is %s'
            % tf.train.latest_checkpoint(settings.train_dir)
            if replica.is_chief else 'the chief keeps the checkpoints'))
  finally:
    stopper.restore_handlers()
  if stopper.signum is not None:
    raise errors.TrainingInterrupted(
        stopper.signum,
        'Stopped by %s at step %d; %s. Run the same command again to resume.'
        % (signal.Signals(stopper.signum).name, logger.last_step,
           'saved a checkpoint in %s' % settings.train_dir if replica.is_chief
           else 'the chief keeps the checkpoints'))
  if logger.last_step < settings.max_steps:
    # The input ended early, which a repeating input does only when a file
    # shrank while it was read; the session saved a checkpoint as it closed.
    bad_file = _bad_training_file(settings.data_dir)
    if bad_file:
      raise errors.UserError('Training stopped at step %d: %s\n%s' % (
          logger.last_step, bad_file,
          'Saved %s; fix the cause and run again to resume.'
          % tf.train.latest_checkpoint(settings.train_dir)
          if replica.is_chief else 'The chief keeps the checkpoints.'))
  return logger.last_step
