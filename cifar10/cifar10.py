"""The CIFAR-10 network, its loss and its training step, built TF1-style.

Everything here adds ops to the default graph and returns tensors; a session
runs them. A trainer strings the pieces together in this order:

    images, labels = distorted_inputs()     # or inputs(eval_data) to evaluate
    logits = inference(images)              # [batch, 10] unscaled scores
    total_loss = loss(logits, labels)       # cross entropy + weight decay
    train_op = train(total_loss, global_step)

These are the original tutorial's calls, and they work unchanged, with
TensorFlow 2's behaviours on or after `tf.compat.v1.disable_v2_behavior()`.
Called eagerly (a TensorFlow 2 script, outside any tf.Graph), the two input
calls return one batch of values instead (docs/from_the_original.md).
What the original read from its global flags (the data folder, the batch
size, float16) are parameters here, defaulting to the original's flag values.
So is the number of classes, CIFAR-10's ten by default: other data names its
own in batches.meta.txt (`data_classes`). The data functions take the data's
format too (`data_format`: CIFAR-10's binary version by default, or
CIFAR-100's, support/data_sets.py), which the scripts read from --dataset
and --label_set.
"""

# Run as a file (python cifar10/train.py), a module's own folder comes first
# on sys.path, so its `import cifar10...` finds this file instead of the
# package: say how to run it instead of failing in the imports.
if not __package__:
  from support import run_as_file
  run_as_file.refuse(__file__)

import dataclasses

import tensorflow as tf

from cifar10 import cifar10_input
from cifar10.support import batch_files
from cifar10.support import data_sets
from cifar10.support import download
from cifar10.support import fast_ops
from cifar10.support import learning_schedule
from cifar10.support import paths
from cifar10.support import summaries
from cifar10.support import trained_layers

# The data set's sizes, here too so that model code needs one import.
IMAGE_SIZE = cifar10_input.IMAGE_SIZE
NUM_CLASSES = cifar10_input.NUM_CLASSES
NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN = cifar10_input.NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN
NUM_EXAMPLES_PER_EPOCH_FOR_EVAL = cifar10_input.NUM_EXAMPLES_PER_EPOCH_FOR_EVAL

# The original's flag defaults, which its functions read from global flags:
# here they are the defaults of the parameters that replace those flags. The
# scripts' --batch_size and --data_dir default to the same values.
DATA_DIR = paths.DATA_DIR
BATCH_SIZE = 128

# The training schedule (the original's values; the trainers' flags of the
# same names in lower case change them). The learning rate starts at
# INITIAL_LEARNING_RATE and is multiplied by LEARNING_RATE_DECAY_FACTOR after
# every NUM_EPOCHS_PER_DECAY passes over the training set: CIFAR-10's 50,000
# images, or the data's own records (see Schedule). The evaluator uses
# moving averages of the weights, each step moving them by (1 - decay) of the
# way towards the current weights: MOVING_AVERAGE_DECAY = 0.9999 averages
# over roughly the last 10,000 steps (fewer early on, since the global step
# caps the decay at (1 + step) / (10 + step)), which smooths out the noise of
# the last updates. The loss curves in TensorBoard are smoothed the same way,
# over roughly the last 10 steps.
MOVING_AVERAGE_DECAY = 0.9999
NUM_EPOCHS_PER_DECAY = 350.0
LEARNING_RATE_DECAY_FACTOR = 0.1
INITIAL_LEARNING_RATE = 0.1
LOSS_AVERAGE_DECAY = 0.9

# multi_gpu_train builds tower i under the name scope 'tower_i'. Summary tags
# drop that prefix (see summaries.clean_tag), so the towers' curves carry the
# single-device names.
TOWER_NAME = 'tower'

# The local response normalization of norm1 and norm2: each activation is
# divided by (LRN_BIAS + LRN_ALPHA * sum of squares of the activations in the
# LRN_DEPTH_RADIUS channels either side) ** LRN_BETA. The original's values.
LRN_DEPTH_RADIUS = 4
LRN_BIAS = 1.0
LRN_ALPHA = 0.001 / 9.0
LRN_BETA = 0.75


def maybe_download_and_extract(data_dir=DATA_DIR, data_url=None,
                               needed_files=None,
                               data_format=data_sets.CIFAR10):
  """Makes sure `data_dir` holds the extracted batch files: the original's call.

  support/download.py checks what is there and fetches only into an empty
  folder; the arguments are its own (the tarball's URL, the batch files
  the caller reads, the data set's format).

  Returns:
    The path of the folder holding the .bin files.

  Raises:
    errors.UserError: a needed file is missing, or the download or the
      extraction failed.
  """
  return download.maybe_download_and_extract(
      data_dir, data_url, needed_files=needed_files, data_format=data_format)


# ---------------------------------------------------------------------------
# Variables and their summaries
# ---------------------------------------------------------------------------

def _activation_summary(x, layer_name):
  """Summarizes a layer's output: its histogram and the share of zeros.

  The tags are `<layer>/activations` and `<layer>/sparsity`; a sparsity near
  1 means the layer's ReLUs have mostly died.

  Args:
    x: the layer's output tensor, any shape.
    layer_name: the layer's variable scope, e.g. 'conv1'.
  """
  summaries.histogram(layer_name + '/activations', x)
  summaries.scalar(layer_name + '/sparsity', tf.nn.zero_fraction(x))


def _variable_on_cpu(name, shape, initializer, dtype):
  """Creates (or, in a reusing scope, fetches) a variable held on the CPU.

  The variables live on the CPU whatever device computes with them, so that
  towers on several GPUs share one copy and each GPU only receives the
  values it reads. `get_variable`, rather than `tf.Variable`, is what lets a
  second tower built under `reuse_variables()` find the first tower's
  variables by name instead of creating new ones.

  Args:
    name: the variable's name within the current variable scope.
    shape: list of ints.
    initializer: how to fill it on the first run.
    dtype: tf.float32 or tf.float16.

  Returns:
    The variable.
  """
  with tf.device('/cpu:0'):
    return tf.compat.v1.get_variable(name, shape, initializer=initializer,
                                     dtype=dtype)


def _variable_with_weight_decay(name, shape, stddev, wd, dtype):
  """A CPU variable drawn from a truncated normal, with its L2 penalty.

  The penalty, `wd * sum(var ** 2) / 2`, is an op named 'weight_loss' in the
  layer's scope, added to the 'losses' collection that loss() sums. With
  wd=0.0 the term is zero, yet still summed and summarized, so that every
  layer has its `<layer>/weight_loss` curve and moving-average variable.

  Args:
    name: the variable's name within the current variable scope.
    shape: list of ints.
    stddev: standard deviation of the normal distribution, before values
      beyond two deviations are redrawn.
    wd: weight of the L2 penalty in the total loss.
    dtype: tf.float32 or tf.float16.

  Returns:
    The variable.
  """
  var = _variable_on_cpu(
      name, shape,
      tf.compat.v1.truncated_normal_initializer(stddev=stddev),
      dtype)
  weight_decay = tf.multiply(tf.nn.l2_loss(var), wd, name='weight_loss')
  tf.compat.v1.add_to_collection('losses', weight_decay)
  return var


# ---------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------

def data_classes(data_dir=DATA_DIR, data_format=data_sets.CIFAR10):
  """The classes of the data in --data_dir (a classes.Classes).

  They are the lines of cifar-10-batches-bin/batches.meta.txt, or CIFAR-10's
  ten when there is none (for CIFAR-100, those of its fine or coarse names
  file); their number sets inference's `num_classes`.

  Raises:
    errors.UserError: the names file is missing, unreadable or malformed.
  """
  return batch_files.data_classes(data_dir, data_format)


def to_model_dtype(images, use_fp16):
  """`images` in the model's dtype: float16 if `use_fp16`, else unchanged."""
  return tf.cast(images, tf.float16) if use_fp16 else images


def distorted_inputs(data_dir=DATA_DIR, batch_size=BATCH_SIZE, use_fp16=False,
                     reference_ops=False, data_format=data_sets.CIFAR10):
  """The next batch of training images, each randomly distorted.

  Args:
    data_dir: the folder holding cifar-10-batches-bin/, read as --data_dir is.
    batch_size: images per batch.
    use_fp16: return float16 images (for a float16 model) instead of float32.
    reference_ops: distort each image with the original's per-image ops
      (cifar10_input.distort_image) instead of a batch at a time.
    data_format: the data's format (data_sets.BinaryFormat).

  Returns:
    images: [batch_size, IMAGE_SIZE, IMAGE_SIZE, 3], each standardized to
      mean 0 and deviation 1.
    labels: [batch_size] int32, the classes 0..C-1 (see data_classes).

  Raises:
    errors.UserError: a batch file is missing or damaged, or batch_size < 1.
  """
  images, labels = cifar10_input.distorted_inputs(
      data_dir=batch_files.batches_dir_of_argument(data_dir, data_format),
      batch_size=batch_size, reference_ops=reference_ops,
      data_format=data_format)
  return to_model_dtype(images, use_fp16), labels


def inputs(eval_data, data_dir=DATA_DIR, batch_size=BATCH_SIZE,
           use_fp16=False, data_format=data_sets.CIFAR10):
  """The next batch of one ordered pass over test (or training) images.

  Args:
    eval_data: True for the test set, False for the training set.
    data_dir: the folder holding cifar-10-batches-bin/, read as --data_dir is.
    batch_size: images per batch; the last batch holds what is left.
    use_fp16: return float16 images (for a float16 model) instead of float32.
    data_format: the data's format (data_sets.BinaryFormat).

  Returns:
    images: [<=batch_size, IMAGE_SIZE, IMAGE_SIZE, 3], central crops,
      standardized.
    labels: [<=batch_size] int32. Running past the last record raises
      tf.errors.OutOfRangeError.

  Raises:
    errors.UserError: a batch file is missing or damaged, or batch_size < 1.
  """
  images, labels = cifar10_input.inputs(
      eval_data=eval_data,
      data_dir=batch_files.batches_dir_of_argument(data_dir, data_format),
      batch_size=batch_size, data_format=data_format)
  return to_model_dtype(images, use_fp16), labels


# ---------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------

def inference(images, reference_ops=False, num_classes=NUM_CLASSES):
  """Builds the network and returns its logits.

  Two convolutions, each followed by max pooling and local response
  normalization, then two fully connected layers and a linear layer with one
  output per class. The variables are created on the first call and found
  again by name in a scope that reuses variables (see _variable_on_cpu).

  Args:
    images: [batch, 24, 24, 3] float32 or float16 images, from
      distorted_inputs() or inputs(); their dtype is the model's. The batch
      size may be unknown: one graph serves any batch.
    reference_ops: normalize with tf.nn.lrn, the original's op. By default
      the two normalizations use fast_ops.fast_lrn, the same function from
      faster kernels: the same variables, and the same outputs and gradients
      up to float32 rounding.
    num_classes: the outputs of the last layer, softmax_linear: the data's
      number of classes (data_classes(data_dir).count), 10 for CIFAR-10.

  Returns:
    [batch, num_classes] logits in the images' dtype: unscaled scores,
    whose softmax is the predicted probability of each class.
  """
  dtype = images.dtype.base_dtype
  # The original's tf.nn.lrn, or the same function from faster kernels.
  local_response_normalization = (tf.nn.lrn if reference_ops
                                  else fast_ops.fast_lrn)

  # conv1: 64 filters of 5x5 over the 3 colour channels.
  with tf.compat.v1.variable_scope('conv1') as scope:
    kernel = _variable_with_weight_decay('weights', shape=[5, 5, 3, 64],
                                         stddev=5e-2, wd=0.0, dtype=dtype)
    conv = tf.nn.conv2d(images, kernel, [1, 1, 1, 1], padding='SAME')
    biases = _variable_on_cpu('biases', [64],
                              tf.compat.v1.constant_initializer(0.0), dtype)
    pre_activation = tf.nn.bias_add(conv, biases)
    conv1 = tf.nn.relu(pre_activation, name=scope.name)
    _activation_summary(conv1, scope.name)

  # pool1: 3x3 windows, stride 2 (24x24 -> 12x12).
  pool1 = tf.nn.max_pool2d(conv1, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1],
                           padding='SAME', name='pool1')
  # norm1: each activation scaled down by the energy of its neighbouring
  # channels at the same pixel, so that strongly responding filters damp
  # their neighbours (see LRN_*). support/fast_ops.py explains the fast form.
  norm1 = local_response_normalization(
      pool1, LRN_DEPTH_RADIUS, bias=LRN_BIAS, alpha=LRN_ALPHA, beta=LRN_BETA,
      name='norm1')

  # conv2: 64 filters of 5x5 over conv1's 64 channels.
  with tf.compat.v1.variable_scope('conv2') as scope:
    kernel = _variable_with_weight_decay('weights', shape=[5, 5, 64, 64],
                                         stddev=5e-2, wd=0.0, dtype=dtype)
    conv = tf.nn.conv2d(norm1, kernel, [1, 1, 1, 1], padding='SAME')
    biases = _variable_on_cpu('biases', [64],
                              tf.compat.v1.constant_initializer(0.1), dtype)
    pre_activation = tf.nn.bias_add(conv, biases)
    conv2 = tf.nn.relu(pre_activation, name=scope.name)
    _activation_summary(conv2, scope.name)

  # norm2, then pool2 (12x12 -> 6x6): the reverse of layer 1's order, as in
  # the original.
  norm2 = local_response_normalization(
      conv2, LRN_DEPTH_RADIUS, bias=LRN_BIAS, alpha=LRN_ALPHA, beta=LRN_BETA,
      name='norm2')
  pool2 = tf.nn.max_pool2d(norm2, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1],
                           padding='SAME', name='pool2')

  # local3: fully connected, 384 units. Each image's 6x6x64 activations
  # become one row of 2,304 values, so the layer is a single matrix multiply
  # for the whole batch; -1 leaves the batch size free.
  with tf.compat.v1.variable_scope('local3') as scope:
    dim = pool2.shape[1:].num_elements()  # An int, whatever the shape mode.
    reshape = tf.reshape(pool2, [-1, dim])
    weights = _variable_with_weight_decay('weights', shape=[dim, 384],
                                          stddev=0.04, wd=0.004, dtype=dtype)
    biases = _variable_on_cpu('biases', [384],
                              tf.compat.v1.constant_initializer(0.1), dtype)
    local3 = tf.nn.relu(tf.matmul(reshape, weights) + biases, name=scope.name)
    _activation_summary(local3, scope.name)

  # local4: fully connected, 192 units.
  with tf.compat.v1.variable_scope('local4') as scope:
    weights = _variable_with_weight_decay('weights', shape=[384, 192],
                                          stddev=0.04, wd=0.004, dtype=dtype)
    biases = _variable_on_cpu('biases', [192],
                              tf.compat.v1.constant_initializer(0.1), dtype)
    local4 = tf.nn.relu(tf.matmul(local3, weights) + biases, name=scope.name)
    _activation_summary(local4, scope.name)

  # softmax_linear: one score per class, left unscaled. The loss applies the
  # softmax itself, inside sparse_softmax_cross_entropy_with_logits, which is
  # cheaper and more accurate than taking the log of a computed softmax.
  with tf.compat.v1.variable_scope('softmax_linear') as scope:
    weights = _variable_with_weight_decay('weights', [192, num_classes],
                                          stddev=1 / 192.0, wd=0.0, dtype=dtype)
    biases = _variable_on_cpu('biases', [num_classes],
                              tf.compat.v1.constant_initializer(0.0), dtype)
    softmax_linear = tf.add(tf.matmul(local4, weights), biases,
                            name=scope.name)
    _activation_summary(softmax_linear, scope.name)

  return softmax_linear


def classify(images, use_fp16=False, num_classes=NUM_CLASSES):
  """Classifies uint8 images, prepared as the evaluator prepares test images.

  Args:
    images: [N, 32, 32, 3] uint8.
    use_fp16: build the model in float16.
    num_classes: the number of classes C the model scores.

  Returns:
    logits: [N, C] float32.
    probabilities: [N, C] float32, the softmax of the logits.
    classes: [N] int64, each image's most probable class.
  """
  prepared = to_model_dtype(cifar10_input.prepare_eval_images(images),
                            use_fp16)
  logits = tf.cast(inference(prepared, num_classes=num_classes), tf.float32)
  return logits, tf.nn.softmax(logits), tf.argmax(logits, axis=1)


# ---------------------------------------------------------------------------
# The loss
# ---------------------------------------------------------------------------

def loss(logits, labels):
  """The total loss: mean cross entropy plus the weights' L2 penalties.

  The cross entropy joins the 'losses' collection beside the penalties that
  inference() put there, and the total sums the collection's terms of the
  current name scope, so that in a multi-tower graph each tower sums its
  own. The terms are named 'cross_entropy' and 'total_loss' (summary tags
  and the names of their moving averages depend on it).

  Args:
    logits: [batch, C] from inference(); C sets the classes the softmax
      spreads over.
    labels: [batch] integer classes 0..C-1, from distorted_inputs() or
      inputs().

  Returns:
    The total loss, a scalar in the logits' dtype.
  """
  per_image = tf.nn.sparse_softmax_cross_entropy_with_logits(
      labels=tf.cast(labels, tf.int64), logits=logits)
  tf.compat.v1.add_to_collection(
      'losses', tf.reduce_mean(per_image, name='cross_entropy'))
  return tf.add_n(scope_losses(), name='total_loss')


def scope_losses():
  """The 'losses' terms of the current name scope (all of them at top level)."""
  scope = tf.compat.v1.get_default_graph().get_name_scope()
  return tf.compat.v1.get_collection('losses', scope + '/' if scope else None)


def add_loss_summaries(losses):
  """Keeps a moving average of each loss term, and summarizes both.

  One step's loss is noisy; the average over the last steps shows the trend.
  Each term gets two scalar summaries: '<name> (raw)', this step's value,
  and '<name>', its moving average.

  Args:
    losses: scalar loss tensors from top-level ops named 'cross_entropy',
      'conv1/weight_loss', ..., 'total_loss'. Their averages are variables
      named '<name>/avg', the same in every trainer.

  Returns:
    The op that updates the averages; run it once per training step.
  """
  averages = tf.compat.v1.train.ExponentialMovingAverage(
      LOSS_AVERAGE_DECAY, name='avg')
  update = averages.apply(losses)
  for term in losses:
    name = term.op.name
    summaries.scalar(name + ' (raw)', term)
    summaries.scalar(name, averages.average(term))
  return update


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Schedule:
  """When the learning rate decays, and by how much: the original's numbers.

  The decay period is counted in epochs, passes over the training data, so
  it means the same on data of any size: `examples_per_epoch` is CIFAR-10's
  50,000 by default, and the data's own count for `schedule_for(data_dir)`.
  """
  initial_learning_rate: float = INITIAL_LEARNING_RATE
  learning_rate_decay_factor: float = LEARNING_RATE_DECAY_FACTOR
  num_epochs_per_decay: float = NUM_EPOCHS_PER_DECAY
  examples_per_epoch: int = NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN

  def decay_steps(self, batch_size):
    """Steps of `batch_size` images in num_epochs_per_decay epochs.

    Computed in the original's order (batches per epoch first, truncated at
    the end), so that CIFAR-10 gets exactly the original's schedule at every
    batch size: 136,718 steps at 128 images a step.

    Raises:
      errors.UserError: the period is shorter than one step.
    """
    batches_per_epoch = self.examples_per_epoch / batch_size
    return learning_schedule.check_decay_steps(
        int(batches_per_epoch * self.num_epochs_per_decay),
        self.num_epochs_per_decay, self.examples_per_epoch, batch_size)


def schedule_for(data_dir=DATA_DIR,
                 initial_learning_rate=INITIAL_LEARNING_RATE,
                 learning_rate_decay_factor=LEARNING_RATE_DECAY_FACTOR,
                 num_epochs_per_decay=NUM_EPOCHS_PER_DECAY,
                 data_format=data_sets.CIFAR10):
  """The Schedule whose epoch is the training records in --data_dir.

  Only the files' sizes are read: call it once they exist (the trainers'
  download check sees to it). `data_format` is the data's format
  (data_sets.BinaryFormat): its record size and training files.
  """
  return Schedule(initial_learning_rate, learning_rate_decay_factor,
                  num_epochs_per_decay,
                  batch_files.count_records(
                      batch_files.batches_dir(data_dir, data_format),
                      eval_data=False, data_format=data_format))


def learning_rate(global_step, batch_size, schedule=Schedule()):
  """The learning rate at `global_step`, decayed in steps (a staircase).

  It is `initial_learning_rate * learning_rate_decay_factor ** n` after n
  whole decay periods (Schedule.decay_steps), and is summarized as
  'learning_rate'.

  Args:
    global_step: the integer step variable.
    batch_size: images per training step.
    schedule: the Schedule; by default the original's, on CIFAR-10.

  Returns:
    A scalar float32 tensor.

  Raises:
    errors.UserError: the decay period is shorter than one step.
  """
  rate = tf.compat.v1.train.exponential_decay(
      schedule.initial_learning_rate, global_step,
      schedule.decay_steps(batch_size), schedule.learning_rate_decay_factor,
      staircase=True)
  summaries.scalar('learning_rate', rate)
  return rate


def apply_gradients(optimizer, grads, global_step):
  """One training step: apply the gradients, then move the weights' averages.

  The averages are updated after the weights (a control dependency), so they
  follow the weights this step produced; the evaluator restores them in
  place of the weights (see variables_to_restore). Each variable and its
  gradient are also summarized as histograms, tagged '<variable>' and
  '<variable>/gradients'.

  Args:
    optimizer: a tf.compat.v1.train.Optimizer.
    grads: (gradient, variable) pairs for the variables that train (all
      trainable ones, unless --trainable_scopes chose some); a None
      gradient (a variable the loss does not use) is skipped.
    global_step: the step variable; the update adds 1 to it.

  Returns:
    The op 'train', which runs the whole step.
  """
  update_weights = optimizer.apply_gradients(grads, global_step=global_step)
  for grad, var in grads:
    summaries.histogram(var.op.name, var)
    if grad is not None:
      summaries.histogram(var.op.name + '/gradients', grad)

  weight_averages = tf.compat.v1.train.ExponentialMovingAverage(
      MOVING_AVERAGE_DECAY, global_step)
  update_averages = []
  with tf.control_dependencies([update_weights]):
    for var in tf.compat.v1.trainable_variables():
      # The average's arithmetic runs where the variable lives. On one
      # machine that changes nothing; on a cluster it keeps the weights and
      # their average on the ps task, where otherwise every step would send
      # both to the worker and the new average back (measured in
      # docs/distributed.md: it was half of each step's traffic).
      with tf.device(var.device):
        update_averages.append(weight_averages.apply([var]))
  with tf.control_dependencies(update_averages):
    return tf.no_op(name='train')


def train(total_loss, global_step, batch_size=BATCH_SIZE, wrap_optimizer=None,
          schedule=Schedule(), trainable_scopes=None):
  """Builds the op for one step of plain gradient descent on `total_loss`.

  Each step also updates the loss curves' moving averages (before the
  gradients are computed) and the weights' moving averages (after they are
  applied).

  Args:
    total_loss: the scalar from loss().
    global_step: the integer step variable; each step adds 1 to it.
    batch_size: images per step; it sets when the learning rate decays.
    wrap_optimizer: optional function that takes the gradient descent
      optimizer and returns one wrapping it, e.g. a SyncReplicasOptimizer.
    schedule: the learning rate's Schedule; by default the original's, on
      CIFAR-10 (`schedule_for(data_dir)` counts the epochs of other data).
    trainable_scopes: the layers whose variables the step updates (see
      support/trained_layers.py); None updates all.

  Returns:
    The op 'train', which runs the whole step.

  Raises:
    errors.UserError: the decay period is shorter than one step.
  """
  rate = learning_rate(global_step, batch_size, schedule)
  update_loss_averages = add_loss_summaries(scope_losses() + [total_loss])
  with tf.control_dependencies([update_loss_averages]):
    optimizer = tf.compat.v1.train.GradientDescentOptimizer(rate)
    if wrap_optimizer:
      optimizer = wrap_optimizer(optimizer)
    # Gradients only for the variables that train; the moving averages
    # below still follow every trainable variable.
    grads = optimizer.compute_gradients(
        total_loss,
        var_list=trained_layers.variables_to_train(trainable_scopes))
  return apply_gradients(optimizer, grads, global_step)


def variables_to_restore():
  """Maps the checkpoint's names to this graph's variables, averages first.

  The moving average of each weight is read into the weight itself, so the
  evaluator and the exporters compute with the smoothed weights, which
  classify better than the last step's.

  Returns:
    A dict from checkpoint names ('conv1/weights/ExponentialMovingAverage',
    ..., 'global_step') to variables, for tf.compat.v1.train.Saver.
  """
  weight_averages = tf.compat.v1.train.ExponentialMovingAverage(
      MOVING_AVERAGE_DECAY)
  return weight_averages.variables_to_restore()
