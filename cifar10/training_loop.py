"""The training loop of every trainer: session, hooks, log line, checkpoints.

`train`, `multi_gpu_train` and `dist_train` each build a graph their own way
and hand this module its train op, loss and global step. `run` drives them in
a MonitoredTrainingSession, the TF1 way of training: hooks watch every step
(stop at --max_steps, stop on a NaN loss, print the original's log line,
save a checkpoint) and the session restores, initializes and writes
summaries itself.

Around the loop, support/training_run.py keeps the run safe: it resumes
from the newest checkpoint in --train_dir after checking that it fits,
finishes the step in flight and saves it on SIGINT or SIGTERM, and turns a
failed op or a NaN loss into one line that says what happened and what was
kept.
"""

if not __package__:  # Run as a file: see support/run_as_file.py.
  from support import run_as_file
  run_as_file.refuse(__file__)

import datetime
import time

import tensorflow as tf

from cifar10 import cifar10
from cifar10 import cifar10_input
from cifar10.support import summaries
from cifar10.support import training_run
from cifar10.support import warm_start

# What the training loop takes: its settings (read from the flags) and this
# trainer's place in a cluster (none by default).
LoopSettings = training_run.LoopSettings
Replica = training_run.Replica


def schedule_from_flags(args):
  """The learning rate's cifar10.Schedule: the flags' numbers, and an epoch of
  the training records in --data_dir."""
  return cifar10.schedule_for(args.data_dir, args.initial_learning_rate,
                              args.learning_rate_decay_factor,
                              args.num_epochs_per_decay, args.data_format)


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


def run(train_op, loss, global_step, examples_per_step, settings, towers=1,
        replica=Replica(), schedule_line=None):
  """Trains until the global step reaches `settings.max_steps`, or a stop.

  Its last line names the step reached and the checkpoint saved there. A
  run that starts at or beyond max_steps trains no step: it prints one
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
    schedule_line: the trainer's learning_schedule.ScheduleLine, printed
      once as training starts, with the rate at the step a resumed run
      starts from; None prints none.

  Returns:
    The global step reached.

  Raises:
    errors.TrainingInterrupted: SIGINT or SIGTERM stopped training, after a
      checkpoint was saved.
    errors.UserError: the checkpoint in --train_dir cannot be resumed,
      --warm_start_from holds no checkpoint of this network, the loss
      diverged, or an op failed (after saving a checkpoint).
  """
  guard = training_run.Guard(settings, replica)
  start_step = guard.resume_point()
  finished = start_step is not None and start_step >= settings.max_steps
  if finished and not replica.master:
    guard.say_nothing_to_do(start_step)
    return start_step
  if settings.warm_start_from and replica.is_chief and start_step is None:
    # A new run loads what fits of a trained model into its variables as
    # the session initializes them; a resumed run ignores the flag (with a
    # notice, training_run's, given as it checked --train_dir).
    warm_start.warm_start(
        settings.warm_start_from,
        run_classes=cifar10.data_classes(settings.data_dir,
                                         settings.data_format))
  # The step as it is once `train_op` has run, for the hooks to watch.
  with tf.control_dependencies([train_op]):
    step_after_train = tf.identity(global_step.read_value())
  # Relative paths in the `checkpoint` index keep --train_dir movable.
  saver = tf.compat.v1.train.Saver(max_to_keep=settings.keep_checkpoints,
                                   save_relative_paths=True)
  logger = _LoggerHook(loss, step_after_train, examples_per_step, towers,
                       settings.log_frequency)
  hooks = [
      # Ahead of the checkpoint hook, so that NaN weights are never saved.
      tf.compat.v1.train.NanTensorHook(loss),
      logger,
  ] + guard.hooks(step_after_train) + list(replica.hooks)
  # Only the chief writes checkpoints and summaries into --train_dir, and
  # the graph once, in a new run's event file (support/summaries.py says
  # why that takes a line).
  writes = replica.is_chief and not finished
  if writes:
    summaries.open_run_writer(settings.train_dir,
                              resuming=start_step is not None)
    hooks.append(tf.compat.v1.train.CheckpointSaverHook(
        settings.train_dir,
        save_secs=(None if settings.save_checkpoint_steps
                   else settings.save_checkpoint_secs),
        save_steps=settings.save_checkpoint_steps,
        saver=saver, checkpoint_basename=training_run.CHECKPOINT_BASENAME,
        listeners=guard.checkpoint_listeners()))
  config = settings.session_options.config_proto(
      log_device_placement=settings.log_device_placement,
      allow_soft_placement=True, device_filters=replica.device_filters)
  with guard.stops_and_divergence(logger), \
      guard.saving_as_the_session_opens_and_closes():
    # The session initializes the variables, or restores them from the
    # newest checkpoint in --train_dir, and writes the summaries.
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
        guard.say_nothing_to_do(step)
        return step
      if schedule_line:
        print(schedule_line.at(step, joins=not replica.is_chief), flush=True)
      if settings.data_dir is not None:
        min_queue_examples, buffer_size = cifar10_input.shuffle_buffer_size(
            settings.batch_size)
        print(training_run.shuffle_buffer_line(settings, min_queue_examples,
                                               buffer_size), flush=True)
      with guard.saving_on_failure(saver, logger):
        while not mon_sess.should_stop():
          mon_sess.run(train_op)
  guard.check_ending(logger.last_step)
  guard.say_finished(logger.last_step)
  return logger.last_step
