"""A binary to train CIFAR-10 using a single GPU (or the CPU).

Accuracy:
cifar10.train achieves ~86% accuracy after 100K steps (256 epochs of
data) as judged by cifar10.eval, as the original tutorial did.

Speed: see the README's speed table, measured with scripts/benchmark.py.

Usage:
Please see the tutorial and website for how to download the CIFAR-10
data set, compile the program and train the model.

    python -m cifar10.train --train_dir /tmp/cifar10_train
"""

import sys

import tensorflow as tf

from cifar10 import cifar10
from cifar10 import flags
from cifar10 import training_loop


def parser():
  """The shared training flags; this trainer adds none of its own."""
  return flags.training_parser(__doc__.splitlines()[0])


def build_graph(data_dir, batch_size, use_fp16, wrap_optimizer=None,
                initial_learning_rate=cifar10.INITIAL_LEARNING_RATE):
  """Builds the single-device training graph in the default graph.

  `wrap_optimizer`, if given, wraps the optimizer (see cifar10.train).

  Returns:
    (train_op, loss, global_step).
  """
  global_step = tf.compat.v1.train.get_or_create_global_step()

  # Get images and labels for CIFAR-10.
  # Force input pipeline to CPU:0 to avoid operations sometimes ending up on
  # GPU and resulting in a slow down.
  with tf.device('/cpu:0'):
    images, labels = cifar10.distorted_inputs(data_dir, batch_size, use_fp16)

  # Build a Graph that computes the logits predictions from the
  # inference model.
  logits = cifar10.inference(images)

  # Calculate loss.
  loss = cifar10.loss(logits, labels)

  # Build a Graph that trains the model with one batch of examples and
  # updates the model parameters.
  train_op = cifar10.train(loss, global_step, batch_size, wrap_optimizer,
                           initial_learning_rate)
  return train_op, loss, global_step


def main(argv=None):
  args = parser().parse_args(argv)
  settings = training_loop.LoopSettings.from_flags(args)
  settings.session.apply_to_process()
  cifar10.maybe_download_and_extract(args.data_dir, args.data_url)
  training_loop.prepare_train_dir(args.train_dir, args.fresh)
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(args.seed)
    train_op, loss, global_step = build_graph(
        args.data_dir, args.batch_size, args.use_fp16,
        initial_learning_rate=args.initial_learning_rate)
    training_loop.run(train_op, loss, global_step,
                      examples_per_step=args.batch_size,
                      settings=settings)
  return 0


if __name__ == '__main__':
  sys.exit(flags.run_script(main))
