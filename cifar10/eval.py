"""Evaluation for CIFAR-10.

Accuracy:
cifar10.train achieves 83.0% accuracy after 100K steps (256 epochs
of data) as judged by cifar10.eval, as the original tutorial reported.

Usage:
Please see the tutorial and website for how to download the CIFAR-10
data set, compile the program and train the model.

    python -m cifar10.eval --run_once

It restores the moving averages of the weights from the latest checkpoint in
--checkpoint_dir, counts correct top-1 predictions, and reports them per
class too, with a confusion-matrix image for TensorBoard. Without --run_once
it evaluates each new checkpoint every --eval_interval_secs, and can run
beside a training run on the same folder.
"""

import dataclasses
import datetime
import sys
import time

import numpy as np
import tensorflow as tf

from cifar10 import checkpoints
from cifar10 import cifar10
from cifar10 import cifar10_input
from cifar10 import confusion
from cifar10 import errors
from cifar10 import flags
from cifar10 import session_options

EVAL_DATA_CHOICES = ('test', 'train_eval')

_HOW_TO_PROCEED = (checkpoints.POINT_AT_TRAINING_RUN +
                   ' Or let that run save a new checkpoint.')


def parser():
  """The shared flags plus the evaluator's own, with the original's defaults."""
  parser = flags.base_parser(__doc__.splitlines()[0])
  parser.add_argument('--eval_dir', default='/tmp/cifar10_eval',
                      help='Directory where to write event logs.')
  parser.add_argument('--eval_data', default='test', choices=EVAL_DATA_CHOICES,
                      help="Either 'test' or 'train_eval'.")
  parser.add_argument('--checkpoint_dir', default='/tmp/cifar10_train',
                      help='Directory where to read model checkpoints.')
  parser.add_argument('--eval_interval_secs', type=flags.positive_int,
                      default=60 * 5, help='How often to run the eval.')
  parser.add_argument('--num_examples', type=flags.positive_int, default=10000,
                      help='Number of examples to run.')
  flags.add_bool(parser, 'run_once', 'Whether to run eval only once.')
  flags.add_session_flags(parser)
  parser.add_argument('--top_k', type=flags.positive_int, default=1,
                      help='Also report precision @ k for this k (1: only '
                           'precision @ 1).')
  return parser


@dataclasses.dataclass
class EvalResult:
  """What one evaluation of a checkpoint found, image by image."""
  global_step: int
  labels: np.ndarray       # [N] true classes.
  predictions: np.ndarray  # [N] top-1 predicted classes.
  top_1: np.ndarray        # [N] bool: the true class is the top prediction.
  top_k: np.ndarray        # [N] bool: ... among the top k predictions.
  k: int

  @property
  def precision(self):
    return float(np.mean(self.top_1))

  @property
  def precision_at_k(self):
    return float(np.mean(self.top_k))

  def per_class(self):
    """Per class: (precision @ 1, images counted correct, images)."""
    hits, totals = confusion.per_class_counts(self.labels, self.top_1,
                                              cifar10.NUM_CLASSES)
    return hits / np.maximum(totals, 1), hits, totals

  def confusion_matrix(self):
    return confusion.confusion_matrix(self.labels, self.predictions,
                                      cifar10.NUM_CLASSES)


def eval_once(checkpoint_path, eval_data, data_dir, batch_size, num_examples,
              use_fp16, summary_writer, top_k=1,
              session=session_options.SessionOptions()):
  """Runs Eval once on one checkpoint.

  Args:
    checkpoint_path: the checkpoint to restore (its moving averages).
    eval_data: 'test' or 'train_eval'.
    data_dir: the --data_dir, holding cifar-10-batches-bin/.
    batch_size: images per batch.
    num_examples: how many images to count (all there are, if fewer).
    use_fp16: whether the model runs in float16.
    summary_writer: where the summaries go, at the checkpoint's step.
    top_k: also count precision @ top_k.
    session: the speed options of the session.

  Returns:
    An EvalResult.
  """
  with tf.Graph().as_default():
    images, labels = cifar10.inputs(eval_data == 'test', data_dir, batch_size,
                                    use_fp16)
    logits = tf.cast(cifar10.inference(images), tf.float32)
    # Calculate predictions.
    fetches = {
        'labels': labels,
        'predictions': tf.argmax(logits, axis=1),
        'top_1': tf.nn.in_top_k(predictions=logits, targets=labels, k=1),
        'top_k': tf.nn.in_top_k(predictions=logits, targets=labels, k=top_k),
    }
    summary_op = tf.compat.v1.summary.merge_all()
    with tf.compat.v1.Session(config=session.config_proto()) as sess:
      global_step = checkpoints.restore_moving_averages(
          sess, checkpoint_path, _HOW_TO_PROCEED)
      # The first batch also feeds the graph's summaries (histograms, images).
      first, summary_bytes = sess.run([fetches, summary_op])
      batches = [first]
      counted = len(first['labels'])
      try:
        while counted < num_examples:
          batches.append(sess.run(fetches))
          counted += len(batches[-1]['labels'])
      except tf.errors.OutOfRangeError:
        pass  # Fewer images than --num_examples: count all there are.
  result = EvalResult(
      global_step=global_step, k=top_k,
      **{name: np.concatenate([batch[name] for batch in batches])[:num_examples]
         for name in fetches})
  _report(result)
  _write_summaries(result, summary_bytes, summary_writer)
  return result


def _report(result):
  now = datetime.datetime.now()
  print('%s: precision @ 1 = %.3f' % (now, result.precision))
  if result.k > 1:
    print('%s: precision @ %d = %.3f' % (now, result.k, result.precision_at_k))
  print('precision @ 1 per class (of %d images):' % len(result.labels))
  for name, value, hits, total in zip(cifar10_input.CLASS_NAMES,
                                      *result.per_class()):
    print('  %-10s  %.3f  (%d of %d)' % (name, value, hits, total))
  sys.stdout.flush()


def _write_summaries(result, summary_bytes, summary_writer):
  summary = tf.compat.v1.Summary()
  summary.ParseFromString(summary_bytes)
  summary.value.add(tag='Precision @ 1', simple_value=result.precision)
  if result.k > 1:
    summary.value.add(tag='Precision @ %d' % result.k,
                      simple_value=result.precision_at_k)
  precision, _, totals = result.per_class()
  for name, value, total in zip(cifar10_input.CLASS_NAMES, precision, totals):
    if total:
      summary.value.add(tag='Precision @ 1/' + name, simple_value=value)
  png, (width, height) = confusion.render_png(result.confusion_matrix(),
                                              cifar10_input.CLASS_NAMES)
  summary.value.add(tag='confusion_matrix', image=tf.compat.v1.Summary.Image(
      height=height, width=width, colorspace=3, encoded_image_string=png))
  summary_writer.add_summary(summary, result.global_step)
  summary_writer.flush()


def evaluate(args, session):
  """Evaluates the latest checkpoint once, or each new one as it appears.

  In the loop, each checkpoint is evaluated at most once, and one that
  cannot be read (deleted by training meanwhile, or damaged) is reported
  and skipped. `session` holds the speed options of --mixed_precision etc.
  """
  with tf.Graph().as_default():  # FileWriter refuses eager mode.
    summary_writer = tf.compat.v1.summary.FileWriter(args.eval_dir)
  last_seen = None
  try:
    while True:
      try:
        if args.run_once:
          checkpoint_path = checkpoints.require_latest(args.checkpoint_dir)
        else:
          checkpoint_path = checkpoints.latest_checkpoint(args.checkpoint_dir,
                                                          _HOW_TO_PROCEED)
        if checkpoint_path is None:
          print('No checkpoint in %s yet; waiting for one.'
                % args.checkpoint_dir, flush=True)
        elif checkpoint_path != last_seen:
          last_seen = checkpoint_path
          eval_once(checkpoint_path, args.eval_data, args.data_dir,
                    args.batch_size, args.num_examples, args.use_fp16,
                    summary_writer, args.top_k, session)
      except errors.UserError as error:
        if args.run_once:
          raise
        print('%s: skipped: %s' % (datetime.datetime.now(), error), flush=True)
      if args.run_once:
        return
      time.sleep(args.eval_interval_secs)
  finally:
    summary_writer.close()


def main(argv=None):
  args = parser().parse_args(argv)
  session = session_options.SessionOptions.from_flags(args)
  session.apply_to_process()
  cifar10.maybe_download_and_extract(args.data_dir, args.data_url)
  evaluate(args, session)
  return 0


if __name__ == '__main__':
  sys.exit(flags.run_script(main))
