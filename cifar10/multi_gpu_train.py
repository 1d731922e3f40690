"""A binary to train CIFAR-10 using multiple GPUs with synchronous updates.

Accuracy:
cifar10.multi_gpu_train achieves ~86% accuracy after 100K steps (256
epochs of data) as judged by cifar10.eval, as the original tutorial did.

Speed: see the README's speed table, measured with scripts/benchmark.py.

One model replica (tower) runs on each device. Variables live on the CPU and
are shared by every tower; each tower computes the gradients of its own batch,
the CPU averages them and applies one update per step. With fewer GPUs than
--num_gpus, --virtual_devices splits the one GPU (or the CPU) into that many
logical devices, so the tower code runs on any machine.

Usage:
Please see the tutorial and website for how to download the CIFAR-10
data set, compile the program and train the model.

    python -m cifar10.multi_gpu_train --num_gpus 4
    python -m cifar10.multi_gpu_train --num_gpus 2 --virtual_devices
"""

import sys

import tensorflow as tf

from cifar10 import cifar10
from cifar10 import cifar10_input
from cifar10 import errors
from cifar10 import flags
from cifar10 import summaries
from cifar10 import training_loop

# Memory for each logical GPU when one GPU is split by --virtual_devices.
VIRTUAL_GPU_MEMORY_MB = 2048


def parser():
  """The shared training flags plus the number of towers."""
  parser = flags.training_parser(__doc__.splitlines()[0])
  parser.add_argument('--num_gpus', type=flags.positive_int, default=1,
                      help='How many GPUs (towers) to use.')
  flags.add_bool(parser, 'virtual_devices',
                 'With fewer GPUs than --num_gpus, split the one GPU (or the '
                 'CPU) into --num_gpus logical devices.')
  return parser


def tower_devices(num_gpus, virtual_devices):
  """Finds (or makes, with `virtual_devices`) one device per tower.

  Must run before TensorFlow initializes its devices.

  Returns:
    The device names of the towers, e.g. ['/gpu:0', '/gpu:1'].
  """
  gpus = tf.config.list_physical_devices('GPU')
  if len(gpus) >= num_gpus:
    return ['/gpu:%d' % i for i in range(num_gpus)]
  if not virtual_devices:
    raise errors.UserError(
        '--num_gpus %d asks for more GPUs than this machine has: %d found. '
        'Lower --num_gpus, or add --virtual_devices to split %s into %d '
        'logical devices.' % (num_gpus, len(gpus),
                              'the GPU' if gpus else 'the CPU', num_gpus))
  if gpus:
    tf.config.set_logical_device_configuration(gpus[0], [
        tf.config.LogicalDeviceConfiguration(memory_limit=VIRTUAL_GPU_MEMORY_MB)
        for _ in range(num_gpus)])
    return ['/gpu:%d' % i for i in range(num_gpus)]
  cpus = tf.config.list_physical_devices('CPU')
  tf.config.set_logical_device_configuration(
      cpus[0], [tf.config.LogicalDeviceConfiguration()
                for _ in range(num_gpus)])
  return ['/cpu:%d' % i for i in range(num_gpus)]


def tower_loss(images, labels):
  """Calculate the total loss on a single tower running the CIFAR model.

  Call it inside the tower's name scope: the loss sums only that tower's
  cross entropy and weight decay terms.

  Args:
    images: Images. 4D tensor of shape [batch_size, height, width, 3].
    labels: Labels. 1D tensor of shape [batch_size].

  Returns:
     The tower's total loss, and its terms (cross entropy, weight decays).
  """
  # Build inference Graph.
  logits = cifar10.inference(images)
  # Build the portion of the Graph calculating the losses. Note that we will
  # assemble the total_loss using a custom function below.
  total_loss = cifar10.loss(logits, labels)
  return total_loss, cifar10.scope_losses()


def average_gradients(tower_grads):
  """Calculate the average gradient for each shared variable across all towers.

  Note that this function provides a synchronization point across all towers.

  Args:
    tower_grads: List of lists of (gradient, variable) tuples. The outer list
      is over towers. The inner list is over individual gradients.

  Returns:
     List of pairs of (gradient, variable) where the gradient has been
     averaged across all towers.
  """
  average_grads = []
  for grad_and_vars in zip(*tower_grads):
    # Note that each grad_and_vars looks like the following:
    #   ((grad0_gpu0, var0_gpu0), ... , (grad0_gpuN, var0_gpuN))
    grads = tf.stack([grad for grad, _ in grad_and_vars], axis=0)
    # Keep in mind that the Variables are redundant because they are shared
    # across towers. So .. we will just return the first tower's pointer to
    # the Variable.
    average_grads.append((tf.reduce_mean(grads, axis=0), grad_and_vars[0][1]))
  return average_grads


def build_towers(tower_batches, devices, global_step, batch_size,
                 initial_learning_rate=cifar10.INITIAL_LEARNING_RATE):
  """Builds one tower per device on its own batch, and the shared update.

  Args:
    tower_batches: one (images, labels) pair per tower.
    devices: the device of each tower.
    global_step: the global step variable.
    batch_size: images per tower batch (it sets the decay schedule).
    initial_learning_rate: the rate before the first decay.

  Returns:
    (train_op, loss): the synchronous step, and the last tower's loss.
  """
  # Create an optimizer that performs gradient descent.
  optimizer = tf.compat.v1.train.GradientDescentOptimizer(
      cifar10.learning_rate(global_step, batch_size, initial_learning_rate))
  tower_grads = []
  with tf.compat.v1.variable_scope(tf.compat.v1.get_variable_scope()):
    for index, (device, (images, labels)) in enumerate(
        zip(devices, tower_batches)):
      with tf.device(device):
        with tf.name_scope('%s_%d' % (cifar10.TOWER_NAME, index)) as scope:
          # Calculate the loss for one tower of the CIFAR model. This function
          # constructs the entire CIFAR model but shares the variables across
          # all towers.
          loss, loss_terms = tower_loss(images, labels)
          # Reuse variables for the next tower.
          tf.compat.v1.get_variable_scope().reuse_variables()
          # Calculate the gradients for the batch of data on this tower.
          tower_grads.append(optimizer.compute_gradients(loss))

  # The last tower's summaries stand for all; drop the other towers'.
  _keep_summaries_of_last_tower(scope)
  # Loss curves, named as the single-device trainer names them (so that the
  # moving-average variables, and so the checkpoints, are the same).
  named_losses = [tf.identity(term, name=summaries.clean_tag(term.op.name))
                  for term in loss_terms + [loss]]
  loss_averages_op = cifar10.add_loss_summaries(named_losses)

  # We must calculate the mean of each gradient. Note that this is the
  # synchronization point across all towers.
  grads = average_gradients(tower_grads)
  with tf.control_dependencies([loss_averages_op]):
    train_op = cifar10.apply_gradients(optimizer, grads, global_step)
  return train_op, loss


def _keep_summaries_of_last_tower(last_scope):
  collection = tf.compat.v1.get_collection_ref(
      tf.compat.v1.GraphKeys.SUMMARIES)
  collection[:] = [summary for summary in collection
                   if summary.name.startswith(last_scope) or
                   not summary.name.startswith(cifar10.TOWER_NAME + '_')]


def build_graph(data_dir, batch_size, use_fp16, devices,
                initial_learning_rate=cifar10.INITIAL_LEARNING_RATE):
  """Builds the multi-tower training graph in the default graph.

  Returns:
    (train_op, loss, global_step).
  """
  # Variables and the averaging of gradients default to the CPU; each tower
  # overrides this with its own device.
  with tf.device('/cpu:0'):
    global_step = tf.compat.v1.train.get_or_create_global_step()
    # One input pipeline on the CPU keeps every tower fed: it prefetches two
    # batches per tower, like the original's prefetch_queue.
    dataset = cifar10_input.distorted_dataset(
        cifar10.batches_dir(data_dir), batch_size,
        prefetch_batches=2 * len(devices))
    iterator = tf.compat.v1.data.make_one_shot_iterator(dataset)
    tower_batches = []
    for _ in devices:
      images, labels = iterator.get_next()
      tower_batches.append((cifar10.to_model_dtype(images, use_fp16), labels))
    summaries.image('images', tower_batches[-1][0])
    train_op, loss = build_towers(tower_batches, devices, global_step,
                                  batch_size, initial_learning_rate)
  return train_op, loss, global_step


def main(argv=None):
  args = parser().parse_args(argv)
  settings = training_loop.LoopSettings.from_flags(args)
  settings.session.apply_to_process()
  devices = tower_devices(args.num_gpus, args.virtual_devices)
  cifar10.maybe_download_and_extract(args.data_dir, args.data_url)
  training_loop.prepare_train_dir(args.train_dir, args.fresh)
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(args.seed)
    train_op, loss, global_step = build_graph(
        args.data_dir, args.batch_size, args.use_fp16, devices,
        args.initial_learning_rate)
    training_loop.run(train_op, loss, global_step,
                      examples_per_step=args.batch_size * len(devices),
                      settings=settings,
                      towers=len(devices))
  return 0


if __name__ == '__main__':
  sys.exit(flags.run_script(main))
