"""What the trainers say about the learning rate's schedule.

cifar10.Schedule holds the schedule's numbers and counts its decay period in
steps. This module holds its words: the refusal of a period shorter than one
step, with the least value that works, and the line each trainer prints
about its schedule as training starts.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import dataclasses
import math

from cifar10.support import errors


def _rounded_up(value):
  """`value` rounded up to 3 significant digits, and never onto it.

  For advice that names the least value a check accepts: rounded to the
  nearest, it could print one a hair too small, which the same check refuses
  (0.133 epochs of 75 images at 10 a step are 0.9975 steps).
  """
  scale = 10 ** (2 - math.floor(math.log10(value)))
  return math.ceil(value * scale * (1 + 1e-9)) / scale


def check_decay_steps(steps, num_epochs_per_decay, examples_per_epoch,
                      batch_size):
  """Returns `steps`, the decay period in steps, if it is at least one step.

  Args:
    steps: int, the period as cifar10.Schedule.decay_steps counts it.
    num_epochs_per_decay: the period in epochs (--num_epochs_per_decay).
    examples_per_epoch: int, the training records of one epoch.
    batch_size: int, images per step.

  Raises:
    errors.UserError: the period is shorter than one step; the line names
      the least --num_epochs_per_decay that makes one.
  """
  if steps >= 1:
    return steps
  raise errors.UserError(
      '--num_epochs_per_decay %g is shorter than one step: %g epochs of the '
      '%d training images are %g images, fewer than the %d of a step. Give '
      'at least %g.' % (
          num_epochs_per_decay, num_epochs_per_decay, examples_per_epoch,
          num_epochs_per_decay * examples_per_epoch, batch_size,
          _rounded_up(batch_size / examples_per_epoch)))


def rate_at(schedule, batch_size, step):
  """The learning rate at global step `step`, as cifar10.learning_rate
  computes it: the initial rate times the decay factor once for each whole
  decay period (of steps of `batch_size` images) before `step`.

  Raises:
    errors.UserError: the decay period is shorter than one step.
  """
  return schedule.initial_learning_rate * (
      schedule.learning_rate_decay_factor **
      (step // schedule.decay_steps(batch_size)))


@dataclasses.dataclass(frozen=True)
class ScheduleLine:
  """The sentence a trainer prints about its learning rate as training starts.

  str() of it is the sentence; `at(step)` is the sentence a run that
  resumes at `step` prints, which also gives the rate there: past a decay,
  the initial rate the sentence starts with is no longer the one in use.

  Attributes:
    schedule: the cifar10.Schedule the graph was built with.
    batch_size: the images per step the schedule counts (the batch_size
      given to cifar10.learning_rate).
    step_words: the trainer's own words for what a step is, e.g. 'at 128
      images a step'.
    images_per_step: the images one global step really trains on, from
      which the epochs are counted, where that is not `batch_size`: a
      synchronous step of dist_train averages a batch from every worker
      while its schedule counts one.
  """
  schedule: object
  batch_size: int
  step_words: str
  images_per_step: int = None

  def __str__(self):
    decay_steps = self.schedule.decay_steps(self.batch_size)
    epochs = decay_steps * (self.images_per_step or self.batch_size) / (
        self.schedule.examples_per_epoch)
    return ('Learning rate %g until step %d, then multiplied by %g every %s: '
            '%.4g epochs of the %d training images, %s.' % (
                self.schedule.initial_learning_rate, decay_steps,
                self.schedule.learning_rate_decay_factor,
                'step' if decay_steps == 1 else '%d steps' % decay_steps,
                epochs, self.schedule.examples_per_epoch, self.step_words))

  def at(self, step, joins=False):
    """The sentence for a run whose global step is `step` as it starts.

    Args:
      step: int, the global step as the trainer starts.
      joins: whether this trainer joins a run that others keep (a worker
        of dist_train other than the chief), rather than resuming its own.
    """
    if not step:
      return str(self)
    return '%s At step %d, where %s, the rate is %g.' % (
        self, step, 'this worker joins the run' if joins else
        'this run resumes', rate_at(self.schedule, self.batch_size, step))


def describe(schedule, batch_size, step_words, images_per_step=None):
  """The ScheduleLine of a trainer: see ScheduleLine for the arguments."""
  return ScheduleLine(schedule, batch_size, step_words, images_per_step)
