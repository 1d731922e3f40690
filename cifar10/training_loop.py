"""The one training loop every trainer shares: hooks, logging, checkpoints, resume.

The trainers (`train`, `multi_gpu_train`, `dist_train`) differ only in how they
build the graph; each hands this loop its train op, loss and global step.
The loop runs them in a MonitoredTrainingSession with the original's hooks
(StopAtStepHook, NanTensorHook, a logger printing the original's line) and:

* resumes from the latest checkpoint in --train_dir and says so;
* on SIGINT or SIGTERM saves a checkpoint at the current step, closes the
  event file, says where it stopped and exits non-zero;
* on a diverging loss stops without saving the diverged weights;
* on a failing op (a data file that became unreadable, say) saves a
  checkpoint and then stops, naming the error.
"""

import dataclasses
import datetime
import glob
import os
import signal
import time

import tensorflow as tf

from cifar10 import checkpoints
from cifar10 import errors
from cifar10 import session_options

CHECKPOINT_BASENAME = 'model.ckpt'

# What to do about a checkpoint in --train_dir that cannot be resumed.
_UNUSABLE_CHECKPOINT = (
    'Training will not write over it: run with --fresh to start over (that '
    'removes the earlier run\'s checkpoints and event files), or choose '
    'another --train_dir.')

# What an earlier run leaves in --train_dir; --fresh removes these alone.
_RUN_FILE_PATTERNS = ('checkpoint', CHECKPOINT_BASENAME + '-*',
                      'events.out.tfevents.*', 'graph.pbtxt')

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclasses.dataclass(frozen=True)
class LoopSettings:
  """How long to train, and how often to log, summarize and checkpoint."""
  train_dir: str
  max_steps: int
  log_frequency: int = 10
  log_device_placement: bool = False
  save_checkpoint_secs: int = 600
  save_checkpoint_steps: int = None
  keep_checkpoints: int = 5
  save_summaries_steps: int = 100
  session: session_options.SessionOptions = session_options.SessionOptions()

  @classmethod
  def from_flags(cls, args):
    """The settings named by the trainers' shared flags."""
    named = {field.name: getattr(args, field.name)
             for field in dataclasses.fields(cls) if field.name != 'session'}
    return cls(session=session_options.SessionOptions.from_flags(args),
               **named)


@dataclasses.dataclass(frozen=True)
class Replica:
  """This trainer's place in a cluster; the defaults train in-process.

  Only the chief restores, checks and writes checkpoints and summaries.
  """
  master: str = ''
  is_chief: bool = True
  hooks: tuple = ()
  device_filters: tuple = ()
  max_wait_secs: int = 7200
  # How long closing waits for background threads (sync-replica queue
  # runners block once the other workers are gone).
  stop_grace_period_secs: int = 120


# ---------------------------------------------------------------------------
# The train directory
# ---------------------------------------------------------------------------

def prepare_train_dir(train_dir, fresh):
  """Creates --train_dir, or reports the run it resumes; --fresh clears a run.

  Returns:
    The path of the checkpoint training will resume from, or None.
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
    return None
  latest = checkpoints.latest_checkpoint(train_dir, _UNUSABLE_CHECKPOINT)
  if latest:
    print('Resuming from %s (global step %s). Use --fresh to start over.'
          % (latest, latest.rsplit('-', 1)[-1]))
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
  """Logs loss and runtime every `log_frequency` steps, in the original's format.

  It also remembers the latest global step, for the messages the loop prints.
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
    # In sync-replica training several runs can end on the same step.
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
  """Stops cleanly after the current step on SIGINT, SIGTERM or the last step.

  On a signal the session then ends normally: the checkpoint hook saves the
  current step and the summary writer closes its event file. The last step
  is checked on the step read after the update: StopAtStepHook reads it
  before, which in sync-replica training can lag an update behind and start
  a step that no other worker will help finish.
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
  """Keeps the raw session, to save a checkpoint after an op fails."""

  session = None

  def after_create_session(self, session, coord):
    self.session = session


# ---------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------

def _save_after_failure(saver, session, checkpoint_path, step, train_dir):
  """Saves what an interrupted step left; says what was saved, or what was not."""
  try:
    return ('Saved %s; fix the cause and run again to resume.'
            % saver.save(session, checkpoint_path, global_step=step))
  except tf.errors.OpError as error:
    # Failed saves leave partial files behind: on a full disk they only hurt.
    for partial in glob.glob(checkpoint_path + '-*.tempstate*'):
      os.remove(partial)
    return ('Could not save a checkpoint either (%s). The latest complete '
            'checkpoint, %s, is intact: fix the cause (free disk space?) and '
            'run again to resume from it.' % (
                errors.describe(error),
                tf.train.latest_checkpoint(train_dir)))


def run(train_op, loss, global_step, examples_per_step, settings, towers=1,
        replica=Replica()):
  """Trains until `settings.max_steps`, a signal, divergence or a failing op.

  Args:
    train_op: op running one training step.
    loss: the scalar loss to log and to watch for NaN.
    global_step: the global step variable, advanced once by `train_op`.
    examples_per_step: images one step consumes (for examples/sec).
    settings: a LoopSettings.
    towers: model replicas per step (sec/batch is per tower, as originally).
    replica: where this trainer runs, for distributed training.

  Returns:
    The global step reached.

  Raises:
    errors.TrainingInterrupted: a signal stopped training (a checkpoint was saved).
    errors.UserError: the loss diverged, or an op failed (after saving).
  """
  latest = replica.is_chief and checkpoints.latest_checkpoint(
      settings.train_dir, _UNUSABLE_CHECKPOINT)
  if latest:
    checkpoints.check_checkpoint(
        latest, {v.op.name: v for v in tf.compat.v1.global_variables()},
        _UNUSABLE_CHECKPOINT)
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
      tf.compat.v1.train.StopAtStepHook(last_step=settings.max_steps),
      # Before the checkpoint hook, so that diverged weights are never saved.
      tf.compat.v1.train.NanTensorHook(loss),
      logger, stopper, keeper,
  ] + list(replica.hooks)
  if replica.is_chief:
    hooks.append(tf.compat.v1.train.CheckpointSaverHook(
        settings.train_dir,
        save_secs=(None if settings.save_checkpoint_steps
                   else settings.save_checkpoint_secs),
        save_steps=settings.save_checkpoint_steps,
        saver=saver, checkpoint_basename=CHECKPOINT_BASENAME))
  config = settings.session.config_proto(
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
        save_summaries_steps=settings.save_summaries_steps,
        config=config,
        max_wait_secs=replica.max_wait_secs,
        stop_grace_period_secs=replica.stop_grace_period_secs) as mon_sess:
      try:
        while not mon_sess.should_stop():
          mon_sess.run(train_op)
      except tf.errors.OpError as error:
        raise errors.UserError('Training stopped at step %d: %s\n%s' % (
            logger.last_step, errors.describe(error),
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
  return logger.last_step
