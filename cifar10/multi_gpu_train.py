"""Trains the CIFAR-10 network on several GPUs at once, one tower per GPU.

A tower is one replica of the network, with its own batch, on its own device.
In each step every tower computes the loss and the gradients of its batch;
the CPU averages the towers' gradients and applies a single update, so all
towers always compute with the same weights (synchronous data parallelism, in
one graph). How the graph is put together, and why:

- The variables live on the CPU, the one device that every GPU can reach.
  Each tower reads them at the start of a step and sends back its gradients.
  There is a single copy of every weight, so the towers cannot disagree
  about it, and each GPU exchanges data with the CPU only, never with
  another GPU.
- The towers share the variables. The first tower creates them with
  tf.compat.v1.get_variable; then the variable scope is switched to reuse, so
  the same calls in the later towers return the existing variables instead
  of making new ones. The variable names are those of cifar10.train's graph,
  and either trainer resumes the other's checkpoints.
- Each tower builds its ops under a name scope of its own, tower_0, tower_1,
  and so on. The scope keeps the towers' op names apart, and it is how a
  tower's loss collects only its own loss terms: cifar10.loss sums the
  'losses' collection entries under the current name scope.
- The update needs every tower's gradients, so each step waits for the
  slowest tower. The average is taken on the CPU, where the variables are;
  then one update and one moving-average update run, as in cifar10.train.

With fewer GPUs than --num_gpus, --virtual_devices splits the one GPU (or the
CPU) into that many logical devices, so the tower code runs on any machine.
Measured speed, and the precision of two towers against one:
docs/speed.md and docs/accuracy.md; the reference: docs/distributed.md.

    python -m cifar10.multi_gpu_train --num_gpus 4
    python -m cifar10.multi_gpu_train --num_gpus 2 --virtual_devices
"""

import sys


from cifar10.support import batch_files
from cifar10.support import data_sets
from cifar10.support import flags
from cifar10.support import script


def parser():
  """The shared training flags plus the number of towers and how to get them."""
  parser = flags.training_parser('cifar10.multi_gpu_train',
                                 __doc__.splitlines()[0])
  parser.add_argument('--num_gpus', type=flags.positive_int, default=1,
                      help='Towers to train: one replica of the network per '
                           'GPU, each on its own batch of --batch_size images.')
  # The original's multi-GPU trainer ran ten times longer than its
  # one-GPU trainer by default; each keeps its own figure here.
  parser.set_defaults(max_steps=1000000)
  flags.add_bool(parser, 'virtual_devices',
                 'With fewer GPUs than --num_gpus, split the one GPU (or the '
                 'CPU) into --num_gpus logical devices.')
  return parser


# The flags come first, as in the original's scripts. `--help` is answered
# here, before the imports below load TensorFlow, which takes seconds.
script.start(__name__, parser)

import tensorflow as tf

from cifar10 import cifar10
from cifar10 import cifar10_input
from cifar10 import training_loop
from cifar10.support import learning_schedule
from cifar10.support import summaries
from cifar10.support import tower_devices
from cifar10.support import trained_layers
from cifar10.support import training_run


def tower_loss(images, labels, num_classes=cifar10.NUM_CLASSES):
  """Builds the network on one tower's batch and returns the tower's loss.

  Call it inside the tower's name scope. The network files its cross entropy
  and each layer's weight decay in the 'losses' collection under that scope,
  and the total sums only the entries under the same scope, so a tower's
  total holds its own cross entropy and never another tower's. Every tower's
  total holds the whole weight decay; averaging the towers' gradients then
  counts it once.

  Args:
    images: float32 (float16 with --use_fp16) tensor [batch_size, 24, 24, 3],
      the tower's distorted images.
    labels: int32 tensor [batch_size], class indices 0..num_classes-1.
    num_classes: int, the data's number of classes.

  Returns:
    (total_loss, loss_terms): the tower's total loss, a scalar of the
    images' dtype, and the terms it sums (each layer's weight decay, then the
    cross entropy), from which the loss summaries are made.
  """
  total_loss = cifar10.loss(
      cifar10.inference(images, num_classes=num_classes), labels)
  return total_loss, cifar10.scope_losses()


def average_gradients(tower_grads):
  """Averages each variable's gradient over the towers.

  The towers share their variables, so every tower's list holds the same
  variables in the same order, and the k-th pairs of all lists belong to one
  variable. The step's single update reads these averages, so it waits for
  every tower: this is where the towers meet. The ops run on the enclosing
  device (the CPU, in build_graph).

  Args:
    tower_grads: one list per tower of (gradient, variable) pairs, as
      Optimizer.compute_gradients returns them; each gradient has its
      variable's shape and dtype.

  Returns:
    One (gradient, variable) pair per variable, in the same order, where the
    gradient is the element-wise mean of the towers' gradients.
  """
  variables = [variable for _, variable in tower_grads[0]]
  gradients_per_variable = zip(*[[gradient for gradient, _ in pairs]
                                 for pairs in tower_grads])
  return [(tf.reduce_mean(tf.stack(gradients), axis=0), variable)
          for variable, gradients in zip(variables, gradients_per_variable)]


def build_towers(tower_batches, devices, global_step, batch_size,
                 schedule=cifar10.Schedule(),
                 num_classes=cifar10.NUM_CLASSES, trainable_scopes=None):
  """Builds one tower per device on its own batch, and the one shared update.

  The learning rate follows cifar10.train's schedule for the images one step
  consumes, N towers times `batch_size`, as the original did: it decays
  after the same number of epochs whatever the number of towers.

  Args:
    tower_batches: one (images, labels) pair per tower: float32 (or float16)
      images [batch_size, 24, 24, 3] and int32 labels [batch_size].
    devices: the device name of each tower, e.g. ['/gpu:0', '/gpu:1'].
    global_step: the int64 step variable, advanced by one per step.
    batch_size: int, images in each tower's batch.
    schedule: the learning rate's cifar10.Schedule; by default the
      original's, on CIFAR-10.
    num_classes: int, the data's number of classes.
    trainable_scopes: the layers that train (--trainable_scopes); None: all.

  Returns:
    (train_op, loss): the op that runs one synchronous step of all towers,
    and the last tower's total loss, a scalar, which the log line reports.
  """
  optimizer = tf.compat.v1.train.GradientDescentOptimizer(
      cifar10.learning_rate(global_step, batch_size * len(devices), schedule))
  tower_grads = []
  # A copy of the current variable scope, so that turning on reuse below ends
  # with this block instead of leaking into the caller's scope.
  with tf.compat.v1.variable_scope(
      tf.compat.v1.get_variable_scope()) as shared_variables:
    for index, (device, (images, labels)) in enumerate(
        zip(devices, tower_batches)):
      # The tower's forward and backward pass run on its device; its ops are
      # named tower_<index>/..., while get_variable ignores name scopes, so
      # the variables keep their plain names (conv1/weights, ...).
      with tf.device(device), tf.name_scope(
          '%s_%d' % (cifar10.TOWER_NAME, index)) as scope:
        loss, loss_terms = tower_loss(images, labels, num_classes)
        tower_grads.append(optimizer.compute_gradients(loss))
      # The first tower has created the variables; from now on get_variable
      # returns them instead of making new ones.
      shared_variables.reuse_variables()

  _keep_summaries_of_last_tower(scope)
  # The loss curves of the last tower, under the names cifar10.train gives
  # them: the moving averages of the losses are variables named after these
  # ops, and the same names make the same checkpoints.
  named_losses = [tf.identity(term, name=summaries.clean_tag(term.op.name))
                  for term in loss_terms + [loss]]
  loss_averages_op = cifar10.add_loss_summaries(named_losses)

  # With --trainable_scopes, only the chosen layers' gradients are averaged
  # and applied; the others are never computed, as nothing runs them.
  grads = average_gradients(
      trained_layers.drop_frozen(tower_grads, trainable_scopes))
  with tf.control_dependencies([loss_averages_op]):
    train_op = cifar10.apply_gradients(optimizer, grads, global_step)
  return train_op, loss


def _keep_summaries_of_last_tower(last_scope):
  """Removes every other tower's summaries from the SUMMARIES collection.

  Every tower builds the same activation summaries, and their tags drop the
  tower's prefix, so each tag would otherwise be written once per tower at
  every summary step. The last tower's stand for all: the towers share their
  weights and differ only in their batch. Summaries built outside the towers
  stay.

  Args:
    last_scope: the last tower's name scope, e.g. 'tower_3/'.
  """
  collection = tf.compat.v1.get_collection_ref(
      tf.compat.v1.GraphKeys.SUMMARIES)
  collection[:] = [summary for summary in collection
                   if summary.name.startswith(last_scope) or
                   not summary.name.startswith(cifar10.TOWER_NAME + '_')]


def build_graph(data_dir, batch_size, use_fp16, devices, schedule=None,
                trainable_scopes=None, data_format=data_sets.CIFAR10):
  """Builds the multi-tower training step into the default graph.

  Args:
    data_dir: the --data_dir, holding cifar-10-batches-bin/; its
      batches.meta.txt, if any, sets the number of classes.
    batch_size: int, images in each tower's batch.
    use_fp16: bool, build the network and its variables in float16.
    devices: the device name of each tower, from
      tower_devices.find_or_make.
    schedule: the learning rate's cifar10.Schedule; by default the
      original's numbers, with an epoch of the training records in
      `data_dir` (cifar10.schedule_for).
    trainable_scopes: the layers that train (--trainable_scopes); None: all.
    data_format: the data's format, as the flags chose it.

  Returns:
    (train_op, loss, global_step): the op that runs one synchronous step of
    all towers, the last tower's total loss (a scalar), and the int64 step
    counter, which each step advances by one.
  """
  # Everything built here runs on the CPU unless a tower's own device scope
  # says otherwise: the step counter, the input pipeline, the averaging of
  # the gradients, the update and the moving averages. (cifar10.inference
  # pins the variables to the CPU itself.)
  with tf.device('/cpu:0'):
    global_step = tf.compat.v1.train.get_or_create_global_step()
    # One input pipeline feeds every tower: each get_next below is a separate
    # op, so each tower draws a different batch in every step. The pipeline
    # keeps two batches per tower ready, as the original's prefetch queue
    # did.
    dataset = cifar10_input.distorted_dataset(
        batch_files.batches_dir(data_dir, data_format), batch_size,
        prefetch_batches=2 * len(devices), data_format=data_format)
    iterator = tf.compat.v1.data.make_one_shot_iterator(dataset)
    tower_batches = []
    for _ in devices:
      images, labels = iterator.get_next()
      tower_batches.append((cifar10.to_model_dtype(images, use_fp16), labels))
    # The input images summary shows the last tower's batch, like the other
    # summaries.
    summaries.image('images', tower_batches[-1][0])
    train_op, loss = build_towers(tower_batches, devices, global_step,
                                  batch_size,
                                  schedule or cifar10.schedule_for(
                                      data_dir, data_format=data_format),
                                  cifar10.data_classes(data_dir,
                                                       data_format).count,
                                  trainable_scopes)
  return train_op, loss, global_step


def main(argv=None):
  args = parser().parse_args(argv)
  # The towers are checked (and any virtual devices made) first, so that a
  # --num_gpus this machine cannot serve stops before a download.
  devices = tower_devices.find_or_make(args.num_gpus, args.virtual_devices)
  # A step trains every tower on its batch, and the schedule counts them
  # all, as the original did.
  images_per_step = args.batch_size * len(devices)
  with training_run.prepare_run(
      args, training_loop.schedule_from_flags, images_per_step,
      cifar10.classify) as (settings, schedule), tf.Graph().as_default():
    tf.compat.v1.set_random_seed(args.seed)
    train_op, loss, global_step = build_graph(
        args.data_dir, args.batch_size, args.use_fp16, devices, schedule,
        args.trainable_scopes, args.data_format)
    training_loop.run(
        train_op, loss, global_step, examples_per_step=images_per_step,
        settings=settings, towers=len(devices),
        schedule_line=learning_schedule.describe(
            schedule, images_per_step,
            'at %d %s of %d images a step' % (
                len(devices), 'tower' if len(devices) == 1 else 'towers',
                args.batch_size)))
  return 0


if __name__ == '__main__':
  sys.exit(script.run(main))
