"""Trains the CIFAR-10 network on one device: the first GPU, or else the CPU.

The graph has three parts. An input pipeline on the CPU reads the training
files, shuffles the records and distorts each image. The network
(cifar10.inference) turns a batch into logits and cifar10.loss scores them.
The update (cifar10.train) takes one gradient descent step and then refreshes
the moving averages of the weights and biases, which cifar10.eval evaluates.
The shared loop in cifar10.training_loop runs that step, prints a log line
every --log_frequency steps and writes summaries and checkpoints into
--train_dir; run again with the same --train_dir, it resumes from the latest
checkpoint.

The first run downloads CIFAR-10 into --data_dir (cifar10.synthetic writes an
offline stand-in). Measured speed and precision, with the machine and how to
reproduce them: docs/speed.md and docs/accuracy.md.

    python -m cifar10.train --train_dir /tmp/cifar10_train
"""

import sys


from cifar10.support import data_sets
from cifar10.support import flags
from cifar10.support import script


def parser():
  """The shared training flags; this trainer adds none of its own."""
  return flags.training_parser('cifar10.train', __doc__.splitlines()[0])


# The flags come first, as in the original's scripts. `--help` is answered
# here, before the imports below load TensorFlow, which takes seconds.
script.start(__name__, parser)

import tensorflow as tf

from cifar10 import cifar10
from cifar10 import training_loop
from cifar10.support import learning_schedule
from cifar10.support import training_run


def build_graph(data_dir, batch_size, use_fp16, wrap_optimizer=None,
                schedule=None, trainable_scopes=None,
                data_format=data_sets.CIFAR10):
  """Builds the one-device training step into the default graph.

  cifar10.dist_train builds each worker's graph with it too, inside a
  replica_device_setter that moves the variables to the ps tasks.

  Args:
    data_dir: the --data_dir, holding cifar-10-batches-bin/; its
      batches.meta.txt, if any, sets the number of classes.
    batch_size: int, images per step. It also sets the learning rate's
      schedule: the rate decays after every num_epochs_per_decay epochs'
      worth of such steps.
    use_fp16: bool, build the network and its variables in float16 instead
      of float32.
    wrap_optimizer: None, or a function that takes the gradient descent
      optimizer and returns the optimizer to use in its place (dist_train
      passes one that wraps it in a SyncReplicasOptimizer).
    schedule: the learning rate's cifar10.Schedule; by default the
      original's numbers, with an epoch of the training records in
      `data_dir` (cifar10.schedule_for).
    trainable_scopes: the layers that train (--trainable_scopes); None: all.
    data_format: the data's format (CIFAR-10's, or CIFAR-100's with its
      fine or coarse labels), as the flags chose it.

  Returns:
    (train_op, loss, global_step): the op that runs one step; the step's
    total loss (cross entropy plus weight decay), a scalar of the network's
    dtype; and the int64 step counter, which each update advances by one.
  """
  global_step = tf.compat.v1.train.get_or_create_global_step()
  # Reading, decoding and distorting images is CPU work. Building the input
  # pipeline under /cpu:0 keeps every op of it on the CPU, even those that
  # have GPU kernels too, so that a GPU receives finished batches and spends
  # its time on the network. (Inside dist_train's device setter, /cpu:0 means
  # the worker's own CPU.)
  with tf.device('/cpu:0'):
    images, labels = cifar10.distorted_inputs(data_dir, batch_size, use_fp16,
                                              data_format=data_format)
  # The network and the update are not pinned, so TensorFlow runs them on the
  # first GPU when it finds one; the variables stay on the CPU wherever the
  # network runs (cifar10.inference creates them there).
  num_classes = cifar10.data_classes(data_dir, data_format).count
  loss = cifar10.loss(cifar10.inference(images, num_classes=num_classes),
                      labels)
  train_op = cifar10.train(loss, global_step, batch_size, wrap_optimizer,
                           schedule or cifar10.schedule_for(
                               data_dir, data_format=data_format),
                           trainable_scopes)
  return train_op, loss, global_step


def main(argv=None):
  args = parser().parse_args(argv)
  # Stopped before its first checkpoint, a new run leaves no files behind.
  with training_run.prepare_run(
      args, training_loop.schedule_from_flags, args.batch_size,
      cifar10.classify) as (settings, schedule), tf.Graph().as_default():
    tf.compat.v1.set_random_seed(args.seed)
    train_op, loss, global_step = build_graph(
        args.data_dir, args.batch_size, args.use_fp16, schedule=schedule,
        trainable_scopes=args.trainable_scopes, data_format=args.data_format)
    training_loop.run(
        train_op, loss, global_step, examples_per_step=args.batch_size,
        settings=settings, schedule_line=learning_schedule.describe(
            schedule, args.batch_size,
            'at %d images a step' % args.batch_size))
  return 0


if __name__ == '__main__':
  sys.exit(script.run(main))
