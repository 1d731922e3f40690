"""What the evaluator reports, and the event files it reads back.

cifar10.eval counts, checkpoint by checkpoint, which test images the model
classifies correctly; this module turns those counts into the lines it
prints (precision @ 1, top-k accuracy, each class's recall and precision)
and the summaries it writes for TensorBoard, and reads earlier results back
from the event files so that an evaluation is not repeated.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import dataclasses
import datetime
import os
import time

import numpy as np
import tensorflow as tf

from cifar10.support import batch_files
from cifar10.support import classes
from cifar10.support import confusion
from cifar10.support import console
from cifar10.support import errors
from cifar10.support import folder_lock
from cifar10.support import paths
from cifar10.support import storage
from cifar10.support import summaries

# The tag of the overall figure, as the original evaluator wrote it.
PRECISION_TAG = 'Precision @ 1'


@dataclasses.dataclass
class EvalResult:
  """What one evaluation of a checkpoint found, image by image."""
  global_step: int
  labels: np.ndarray       # [N] int: true classes.
  predictions: np.ndarray  # [N] int: the most probable class of each image.
  top_1: np.ndarray        # [N] bool: the most probable class is the true.
  top_k: np.ndarray        # [N] bool: the true class is among the k likeliest.
  k: int
  class_names: tuple = classes.CIFAR10_NAMES  # The data's, label order.

  @property
  def top_1_accuracy(self):
    """The fraction of images classified correctly: printed as precision @ 1."""
    return float(np.mean(self.top_1))

  @property
  def top_k_accuracy(self):
    """The fraction of images whose true class is among the k most probable."""
    return float(np.mean(self.top_k))

  def confusion_matrix(self):
    """The [C, C] int64 counts per (true class, predicted class)."""
    return confusion.confusion_matrix(self.labels, self.predictions,
                                      len(self.class_names))

  def class_figures(self):
    """Each class's recall and precision with their counts (a ClassFigures)."""
    return confusion.class_figures(self.confusion_matrix())


def check_top_k(top_k, data_classes, lists_classes=False):
  """Refuses a --top_k as large as the number of classes, or larger.

  Every image has its true class among all 10 of 10 classes: TensorFlow's
  in_top_k counts every image then (and beyond, too), and the report would
  say "top-10 accuracy = 1.000" of any model. A refusal, rather than a
  silent clamp, tells a user who had another data set in mind, before the
  evaluation runs. Data has 2 classes at least, so 1 (the default, no
  top-k accuracy) is never refused.

  Args:
    top_k: the --top_k flag.
    data_classes: the classes.Classes of the data evaluated on, or of the
      model.
    lists_classes: for cifar10.predict, which lists each image's top_k
      most probable classes: all of them is a list worth having, and only
      more is refused (it printed fewer without a word).

  Raises:
    errors.UserError: `top_k` is not below `data_classes.count` (or, with
      `lists_classes`, above it).
  """
  if lists_classes and top_k > data_classes.count:
    raise errors.UserError(
        '--top_k %d is more than the %d classes of the model (%s); give '
        '--top_k %d at most, which lists them all.' % (
            top_k, data_classes.count, data_classes.source,
            data_classes.count))
  if not lists_classes and top_k >= data_classes.count:
    raise errors.UserError(
        '--top_k %d is not less than the %d classes of the data (%s): '
        'every image has its true class among %d of them; give --top_k %d '
        'at most.' % (top_k, data_classes.count, data_classes.source,
                      data_classes.count, data_classes.count - 1))


def _ratio_and_counts(ratio, part, whole):
  """'0.705  (62 of 88)', or '-  (0 of 0)' when there is nothing to count."""
  return '%-5s  (%d of %d)' % ('-' if np.isnan(ratio) else '%.3f' % ratio,
                               part, whole)


def record_and_report(result, summary_bytes, summary_writer, checkpoint_path,
                      eval_data, raw_weights):
  """Writes the summaries (write_summaries), then prints the figures (report).

  Written before printed: a reader that stops after the first line (`... |
  head -1`) ends the script, and must not lose the results. A write that
  fails (a full disk) still shows the figures, before its error.
  """
  try:
    write_summaries(result, summary_bytes, summary_writer)
  except Exception:
    report(result, checkpoint_path, eval_data, raw_weights)
    raise
  report(result, checkpoint_path, eval_data, raw_weights)


def report(result, checkpoint_path, eval_data='test', raw_weights=False):
  """Prints the figures, each line naming the checkpoint, its step and the
  images scored (`on 100 train_eval images`, then `, raw weights` where
  the weights as trained were restored instead of their averages).

  The line ends in the original's `precision @ 1 = 0.xyz`, which scripts
  grep for; what it scored comes before it, since an untrained
  model.ckpt-0 and a finished run print the same kind of line, and so do
  100 training images and the whole test set.

  The lines go out in one write (console.write_at_once), so that a
  Ctrl-C cannot leave half a line for the stop's message to run on after.
  """
  now = datetime.datetime.now()
  scored = '%s (global step %d) on %s' % (
      checkpoint_path, result.global_step,
      paths.Scored(eval_data, len(result.labels), raw_weights))
  lines = ['%s: %s: precision @ 1 = %.3f' % (now, scored,
                                             result.top_1_accuracy)]
  if result.k > 1:
    lines.append('%s: %s: top-%d accuracy = %.3f' % (now, scored, result.k,
                                                     result.top_k_accuracy))
  figures = result.class_figures()
  lines.append('per class, of %d images (recall: correct / images of the '
               'class; precision: correct / images predicted as the class):'
               % len(result.labels))
  # The class column is as wide as the longest name (CIFAR-10's: 10), in
  # the columns of the terminal (a Chinese character takes two, and on an
  # ASCII console the escape it becomes takes its own).
  width = max(console.width(console.as_shown(name))
              for name in result.class_names + ('class',))
  lines.append('  %s  %-20s  %s' % (console.ljust('class', width), 'recall',
                                    'precision'))
  for index, name in enumerate(result.class_names):
    lines.append('  %s  %-20s  %s' % (
        console.ljust(name, width),
        _ratio_and_counts(figures.recall[index], figures.correct[index],
                          figures.images[index]),
        _ratio_and_counts(figures.precision[index], figures.correct[index],
                          figures.predicted[index])))
  # print() would write each line end apart from its line.
  console.write_at_once(''.join(line + '\n' for line in lines))


def write_summaries(result, summary_bytes, summary_writer):
  """Adds the figures to the graph's summaries and writes them at the step."""
  summary = tf.compat.v1.Summary()
  summary.ParseFromString(summary_bytes)
  summary.value.add(tag=PRECISION_TAG, simple_value=result.top_1_accuracy)
  if result.k > 1:
    summary.value.add(tag='Top-%d accuracy' % result.k,
                      simple_value=result.top_k_accuracy)
  figures = result.class_figures()
  for index, name in enumerate(result.class_names):
    # 0 of 0 has no value: leave the point out rather than plot a NaN.
    for tag, values in (('recall', figures.recall),
                        ('precision', figures.precision)):
      if not np.isnan(values[index]):
        summary.value.add(tag='%s/%s' % (tag, name),
                          simple_value=values[index])
  png, (width, height) = confusion.render_png(result.confusion_matrix(),
                                              result.class_names)
  summary.value.add(tag='confusion_matrix', image=tf.compat.v1.Summary.Image(
      height=height, width=width, colorspace=3, encoded_image_string=png))
  summary_writer.add_summary(summary, result.global_step)
  summary_writer.flush()


def summary_values(folder):
  """(step, Summary.Value) of every summary value in the event files of `folder`.

  Files are read in name order (their names begin with the time they were
  created). A record still being written at the end of a file is left out:
  it is read next time.

  Returns:
    A list of (int, tf.compat.v1.Summary.Value); each value has .tag and
    .simple_value (or .image, .histo).
  """
  found = []
  for path in sorted(storage.glob(os.path.join(folder,
                                            paths.EVENTS_FILE_PREFIX + '*'))):
    try:
      for event in tf.compat.v1.train.summary_iterator(path):
        found.extend((event.step, value) for value in event.summary.value)
    except tf.errors.DataLossError:
      pass
  return found


def evaluation_record(args, checkpoint_folder, default_images):
  """The paths.EvaluationRecord of --eval_dir for the evaluations the flags
  ask for, which refuses a folder of evaluations of other data.

  What they score is known before the first: the first --num_examples
  images of --eval_data (`default_images`, the original's 10,000, where
  not given), or all the split holds where it holds fewer. Call it once
  the data is there (the batch files' sizes say how many it holds).

  Args:
    args: the evaluator's parsed flags (--eval_dir, --eval_data,
      --num_examples, --raw_weights, --data_dir, --dataset).
    checkpoint_folder: the folder of the checkpoints evaluated.
    default_images: the images counted where --num_examples is not given.

  Raises:
    errors.UserError: --eval_dir holds evaluations of other data.
  """
  held = batch_files.count_records(
      batch_files.batches_dir(args.data_dir, args.data_format),
      args.eval_data == 'test', args.data_format)
  wanted = default_images if args.num_examples is None else args.num_examples
  return paths.EvaluationRecord(
      args.eval_dir, checkpoint_folder,
      paths.Scored(args.eval_data, min(wanted, held), args.raw_weights))


class ResultsWriter(summaries.WriterOnFirstSummary):
  """The evaluator's writer of its results into --eval_dir, one evaluator
  at a time.

  It makes its event file with the first results, and writes the record of
  the run and data it scores beside them (`record`, paths.EvaluationRecord).
  A second evaluator in the folder would write every result again, which
  TensorBoard then shows twice: the folder is locked (folder_lock) from
  the start to `close`, so that a second one is refused before it
  evaluates anything. To be locked, the folder is made now where it is
  missing; `close` takes it away again where nothing was written into it,
  so that a refused checkpoint (or a stop) leaves --eval_dir as it was.

  The event file is named by the second it was opened in: two evaluations
  started within one second (a --run_once, then --all_checkpoints) would
  share a name, and the second would truncate the first's results. A
  suffix of the process and the moment keeps each file apart.

  Args:
    eval_dir: the --eval_dir flag.
    record: the paths.EvaluationRecord of `eval_dir` (evaluation_record).

  Raises:
    errors.UserError: another evaluator is writing into `eval_dir`.
  """

  def __init__(self, eval_dir, record):
    self._lock = folder_lock.FolderLock(eval_dir, lambda holder: (
        '--eval_dir %s is %s: each would write its results there, and '
        'TensorBoard would show them twice. Wait for it to finish, stop it '
        '(%s), or give another --eval_dir.' % (
            eval_dir, folder_lock.in_use('evaluator', holder),
            folder_lock.how_to_stop(holder))))
    self._folders_made = storage.missing_folders(eval_dir)
    storage.makedirs(eval_dir)
    # Refused, the folder is left: another evaluator holds it, whichever
    # of the two made it.
    self._lock.take()
    super().__init__(eval_dir, on_open=record.write,
                     filename_suffix='.%d.%d' % (os.getpid(),
                                                 time.monotonic_ns()))

  def close(self):
    try:
      super().close()
      if not self.opened:
        # While the lock is held: no other evaluator has begun in it.
        storage.remove_made_folders(self._folders_made)
    finally:
      self._lock.release()


# What a folder holding evaluated_steps is, for the messages that refuse it
# where a training run's folder is wanted.
EVAL_DIR_IS = ('the --eval_dir of an evaluation (its event files hold the '
               'precision of evaluated checkpoints)')


def evaluated_steps(eval_dir):
  """The global steps that already have a `Precision @ 1` in `eval_dir`.

  Returns:
    A set of ints.
  """
  return {step for step, value in summary_values(eval_dir)
          if value.tag == PRECISION_TAG}
