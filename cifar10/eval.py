"""Evaluation for CIFAR-10.

Accuracy:
cifar10.train achieves 83.0% accuracy after 100K steps (256 epochs
of data) as judged by cifar10.eval, as the original tutorial reported.

Usage:
Please see the tutorial and website for how to download the CIFAR-10
data set, compile the program and train the model.

    python -m cifar10.eval --run_once

It restores the moving averages of the weights from the latest checkpoint in
--checkpoint_dir and counts correct top-1 predictions. Without --run_once it
evaluates each new checkpoint every --eval_interval_secs, and can run beside a
training run on the same folder.
"""

import datetime
import os
import sys
import time

import numpy as np
import tensorflow as tf

from cifar10 import checkpoints
from cifar10 import cifar10
from cifar10 import errors
from cifar10 import flags

EVAL_DATA_CHOICES = ('test', 'train_eval')

_HOW_TO_PROCEED = ('Point --checkpoint_dir at the --train_dir of a training '
                   'run, or let that run save a new checkpoint.')


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
  return parser


def eval_once(checkpoint_path, eval_data, data_dir, batch_size, num_examples,
              use_fp16, summary_writer):
  """Runs Eval once on one checkpoint.

  Args:
    checkpoint_path: the checkpoint to restore (its moving averages).
    eval_data: 'test' or 'train_eval'.
    data_dir: the --data_dir, holding cifar-10-batches-bin/.
    batch_size: images per batch.
    num_examples: how many images to count (all there are, if fewer).
    use_fp16: whether the model runs in float16.
    summary_writer: where the 'Precision @ 1' summary goes.

  Returns:
    The precision @ 1, a float in [0, 1].
  """
  with tf.Graph().as_default():
    images, labels = cifar10.inputs(eval_data == 'test', data_dir, batch_size,
                                    use_fp16)
    logits = cifar10.inference(images)
    # Calculate predictions.
    top_k_op = tf.nn.in_top_k(predictions=tf.cast(logits, tf.float32),
                              targets=labels, k=1)
    # Restore the moving average version of the learned variables for eval.
    variables_to_restore = cifar10.variables_to_restore()
    saver = tf.compat.v1.train.Saver(variables_to_restore)
    summary_op = tf.compat.v1.summary.merge_all()
    with tf.compat.v1.Session() as sess:
      try:
        checkpoints.check_checkpoint(checkpoint_path, variables_to_restore,
                                     _HOW_TO_PROCEED)
        saver.restore(sess, checkpoint_path)
        global_step = tf.train.load_variable(checkpoint_path, 'global_step')
      except (errors.UserError, tf.errors.NotFoundError):
        if not os.path.exists(checkpoint_path + '.index'):
          raise errors.UserError(
              'Checkpoint %s was deleted before it could be read (training '
              'keeps only its newest checkpoints).' % checkpoint_path)
        raise
      # The first batch also feeds the graph's summaries (histograms, images).
      correct, summary_bytes = sess.run([top_k_op, summary_op])
      results = [correct]
      counted = len(correct)
      try:
        while counted < num_examples:
          results.append(sess.run(top_k_op))
          counted += len(results[-1])
      except tf.errors.OutOfRangeError:
        pass  # Fewer images than --num_examples: count all there are.
  predictions = np.concatenate(results)[:num_examples]
  precision = float(np.mean(predictions))
  print('%s: precision @ 1 = %.3f' % (datetime.datetime.now(), precision),
        flush=True)

  summary = tf.compat.v1.Summary()
  summary.ParseFromString(summary_bytes)
  summary.value.add(tag='Precision @ 1', simple_value=precision)
  summary_writer.add_summary(summary, global_step)
  summary_writer.flush()
  return precision


def evaluate(args):
  """Evaluates the latest checkpoint once, or each new one as it appears.

  In the loop, each checkpoint is evaluated at most once, and one that
  cannot be read (deleted by training meanwhile, or damaged) is reported
  and skipped.
  """
  with tf.Graph().as_default():  # FileWriter refuses eager mode.
    summary_writer = tf.compat.v1.summary.FileWriter(args.eval_dir)
  last_seen = None
  try:
    while True:
      try:
        checkpoint_path = checkpoints.latest_checkpoint(args.checkpoint_dir,
                                                        _HOW_TO_PROCEED)
        if checkpoint_path is None and args.run_once:
          raise errors.UserError(
              'No checkpoint file found in --checkpoint_dir %s. Train first '
              '(python -m cifar10.train --train_dir %s) or point '
              '--checkpoint_dir at a folder holding checkpoints.'
              % (args.checkpoint_dir, args.checkpoint_dir))
        if checkpoint_path is None:
          print('No checkpoint in %s yet; waiting for one.'
                % args.checkpoint_dir, flush=True)
        elif checkpoint_path != last_seen:
          last_seen = checkpoint_path
          eval_once(checkpoint_path, args.eval_data, args.data_dir,
                    args.batch_size, args.num_examples, args.use_fp16,
                    summary_writer)
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
  cifar10.maybe_download_and_extract(args.data_dir, args.data_url)
  evaluate(args)
  return 0


if __name__ == '__main__':
  sys.exit(flags.run_script(main))
