"""Builds the CIFAR-10 network.

Summary of available functions:

 # Compute input images and labels for training. If you would like to run
 # evaluations, use inputs() instead.
 inputs, labels = distorted_inputs(data_dir, batch_size)

 # Compute inference on the model inputs to make a prediction.
 predictions = inference(inputs)

 # Compute the total loss of the prediction with respect to the labels.
 loss = loss(predictions, labels)

 # Create a graph to run one step of training with respect to the loss.
 train_op = train(loss, global_step, batch_size)
"""

import os

import tensorflow as tf

from cifar10 import cifar10_input
from cifar10 import download
from cifar10 import lrn
from cifar10 import pooling
from cifar10 import summaries

# Global constants describing the CIFAR-10 data set.
IMAGE_SIZE = cifar10_input.IMAGE_SIZE
NUM_CLASSES = cifar10_input.NUM_CLASSES
NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN = cifar10_input.NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN
NUM_EXAMPLES_PER_EPOCH_FOR_EVAL = cifar10_input.NUM_EXAMPLES_PER_EPOCH_FOR_EVAL

# Constants describing the training process.
MOVING_AVERAGE_DECAY = 0.9999     # The decay to use for the moving average.
NUM_EPOCHS_PER_DECAY = 350.0      # Epochs after which learning rate decays.
LEARNING_RATE_DECAY_FACTOR = 0.1  # Learning rate decay factor.
INITIAL_LEARNING_RATE = 0.1       # Initial learning rate.
LOSS_AVERAGE_DECAY = 0.9          # Smoothing of the loss curves in TensorBoard.

# If a model is trained with multiple GPUs, prefix all Op names with tower_name
# to differentiate the operations. Note that this prefix is removed from the
# names of the summaries when visualizing a model.
TOWER_NAME = 'tower'

# Local response normalization, as the original configured tf.nn.lrn.
LRN_DEPTH_RADIUS = 4
LRN_BIAS = 1.0
LRN_ALPHA = 0.001 / 9.0
LRN_BETA = 0.75

maybe_download_and_extract = download.maybe_download_and_extract


def _activation_summary(x, layer_name):
  """Helper to create summaries for activations.

  Creates a histogram of the activations and a scalar of their sparsity (the
  fraction of zeros), tagged `<layer>/activations` and `<layer>/sparsity`.

  Args:
    x: Tensor.
    layer_name: the layer's variable scope name, e.g. 'conv1'.
  """
  summaries.histogram(layer_name + '/activations', x)
  summaries.scalar(layer_name + '/sparsity', tf.nn.zero_fraction(x))


def _variable_on_cpu(name, shape, initializer, dtype):
  """Helper to create a Variable stored on CPU memory.

  Args:
    name: name of the variable.
    shape: list of ints.
    initializer: initializer for Variable.
    dtype: tf.float32 or tf.float16.

  Returns:
    Variable Tensor.
  """
  with tf.device('/cpu:0'):
    return tf.compat.v1.get_variable(name, shape, initializer=initializer,
                                     dtype=dtype)


def _variable_with_weight_decay(name, shape, stddev, wd, dtype):
  """Helper to create an initialized Variable with weight decay.

  The Variable is initialized with a truncated normal distribution. Its
  weight decay, `wd * l2_loss(var)`, joins the 'losses' collection.

  Args:
    name: name of the variable.
    shape: list of ints.
    stddev: standard deviation of a truncated Gaussian.
    wd: add L2Loss weight decay multiplied by this float.
    dtype: tf.float32 or tf.float16.

  Returns:
    Variable Tensor.
  """
  var = _variable_on_cpu(
      name, shape,
      tf.compat.v1.truncated_normal_initializer(stddev=stddev),
      dtype)
  weight_decay = tf.multiply(tf.nn.l2_loss(var), wd, name='weight_loss')
  tf.compat.v1.add_to_collection('losses', weight_decay)
  return var


def batches_dir(data_dir):
  """The folder of .bin files inside --data_dir."""
  return os.path.join(data_dir, download.EXTRACTED_DIR)


def to_model_dtype(images, use_fp16):
  """Casts input images to float16 when the model is built in float16."""
  return tf.cast(images, tf.float16) if use_fp16 else images


def distorted_inputs(data_dir, batch_size, use_fp16=False):
  """Constructs distorted input for CIFAR training.

  Args:
    data_dir: the --data_dir, holding cifar-10-batches-bin/.
    batch_size: number of images per batch.
    use_fp16: whether to return float16 images.

  Returns:
    images: Images. 4D tensor of [batch_size, IMAGE_SIZE, IMAGE_SIZE, 3] size.
    labels: Labels. 1D tensor of [batch_size] size.
  """
  images, labels = cifar10_input.distorted_inputs(
      data_dir=batches_dir(data_dir), batch_size=batch_size)
  return to_model_dtype(images, use_fp16), labels


def inputs(eval_data, data_dir, batch_size, use_fp16=False):
  """Constructs input for CIFAR evaluation.

  Args:
    eval_data: bool, indicating if one should use the train or eval data set.
    data_dir: the --data_dir, holding cifar-10-batches-bin/.
    batch_size: number of images per batch.
    use_fp16: whether to return float16 images.

  Returns:
    images: Images. 4D tensor of [<=batch_size, IMAGE_SIZE, IMAGE_SIZE, 3].
    labels: Labels. 1D tensor of [<=batch_size] size.
  """
  images, labels = cifar10_input.inputs(
      eval_data=eval_data, data_dir=batches_dir(data_dir),
      batch_size=batch_size)
  return to_model_dtype(images, use_fp16), labels


def inference(images, reference_ops=False):
  """Build the CIFAR-10 model.

  Args:
    images: Images returned from distorted_inputs() or inputs(); their dtype
      (float32 or float16) is the model's.
    reference_ops: build the original's ops exactly (tf.nn.lrn and
      tf.nn.max_pool2d, pool1 after the ReLU). By default equivalent, faster
      forms are used: same variables, same outputs and gradients up to
      float32 rounding.

  Returns:
    Logits.
  """
  dtype = images.dtype.base_dtype
  local_response_normalization = tf.nn.lrn if reference_ops else lrn.fast_lrn
  # We instantiate all variables using tf.compat.v1.get_variable() instead of
  # tf.Variable() in order to share variables across multiple GPU training
  # runs.

  # conv1
  with tf.compat.v1.variable_scope('conv1') as scope:
    kernel = _variable_with_weight_decay('weights', shape=[5, 5, 3, 64],
                                         stddev=5e-2, wd=0.0, dtype=dtype)
    conv = tf.nn.conv2d(images, kernel, [1, 1, 1, 1], padding='SAME')
    biases = _variable_on_cpu('biases', [64],
                              tf.compat.v1.constant_initializer(0.0), dtype)
    pre_activation = tf.nn.bias_add(conv, biases)
    conv1 = tf.nn.relu(pre_activation, name=scope.name)
    _activation_summary(conv1, scope.name)

  # pool1
  if reference_ops:
    pool1 = tf.nn.max_pool2d(conv1, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1],
                             padding='SAME', name='pool1')
  else:
    # Max pooling commutes with adding a per-channel bias and with the ReLU
    # (both are non-decreasing), so pooling the convolution first gives the
    # same pool1 while the bias, the ReLU and their gradients handle a
    # quarter of the values. `conv1` above then only feeds its summaries.
    pooled = pooling.max_pool_3x3_stride_2(conv)
    pool1 = tf.nn.relu(tf.nn.bias_add(pooled, biases), name='pool1')
  # norm1
  norm1 = local_response_normalization(
      pool1, LRN_DEPTH_RADIUS, bias=LRN_BIAS, alpha=LRN_ALPHA, beta=LRN_BETA,
      name='norm1')

  # conv2
  with tf.compat.v1.variable_scope('conv2') as scope:
    kernel = _variable_with_weight_decay('weights', shape=[5, 5, 64, 64],
                                         stddev=5e-2, wd=0.0, dtype=dtype)
    conv = tf.nn.conv2d(norm1, kernel, [1, 1, 1, 1], padding='SAME')
    biases = _variable_on_cpu('biases', [64],
                              tf.compat.v1.constant_initializer(0.1), dtype)
    pre_activation = tf.nn.bias_add(conv, biases)
    conv2 = tf.nn.relu(pre_activation, name=scope.name)
    _activation_summary(conv2, scope.name)

  # norm2
  norm2 = local_response_normalization(
      conv2, LRN_DEPTH_RADIUS, bias=LRN_BIAS, alpha=LRN_ALPHA, beta=LRN_BETA,
      name='norm2')
  # pool2
  if reference_ops:
    pool2 = tf.nn.max_pool2d(norm2, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1],
                             padding='SAME', name='pool2')
  else:
    pool2 = pooling.max_pool_3x3_stride_2(norm2, name='pool2')

  # local3
  with tf.compat.v1.variable_scope('local3') as scope:
    # Move everything into depth so we can perform a single matrix multiply.
    # The batch dimension stays free, so one graph serves any batch size.
    dim = pool2.shape[1] * pool2.shape[2] * pool2.shape[3]
    reshape = tf.reshape(pool2, [-1, dim])
    weights = _variable_with_weight_decay('weights', shape=[dim, 384],
                                          stddev=0.04, wd=0.004, dtype=dtype)
    biases = _variable_on_cpu('biases', [384],
                              tf.compat.v1.constant_initializer(0.1), dtype)
    local3 = tf.nn.relu(tf.matmul(reshape, weights) + biases, name=scope.name)
    _activation_summary(local3, scope.name)

  # local4
  with tf.compat.v1.variable_scope('local4') as scope:
    weights = _variable_with_weight_decay('weights', shape=[384, 192],
                                          stddev=0.04, wd=0.004, dtype=dtype)
    biases = _variable_on_cpu('biases', [192],
                              tf.compat.v1.constant_initializer(0.1), dtype)
    local4 = tf.nn.relu(tf.matmul(local3, weights) + biases, name=scope.name)
    _activation_summary(local4, scope.name)

  # linear layer(WX + b),
  # We don't apply softmax here because
  # tf.nn.sparse_softmax_cross_entropy_with_logits accepts the unscaled logits
  # and performs the softmax internally for efficiency.
  with tf.compat.v1.variable_scope('softmax_linear') as scope:
    weights = _variable_with_weight_decay('weights', [192, NUM_CLASSES],
                                          stddev=1 / 192.0, wd=0.0, dtype=dtype)
    biases = _variable_on_cpu('biases', [NUM_CLASSES],
                              tf.compat.v1.constant_initializer(0.0), dtype)
    softmax_linear = tf.add(tf.matmul(local4, weights), biases,
                            name=scope.name)
    _activation_summary(softmax_linear, scope.name)

  return softmax_linear


def classify(images, use_fp16=False):
  """Classifies [N, 32, 32, 3] uint8 images, prepared as the evaluator does.

  Returns:
    logits [N, 10] float32, probabilities [N, 10] float32 and classes [N]
    int64 (the most probable class of each image).
  """
  prepared = to_model_dtype(cifar10_input.prepare_eval_images(images),
                            use_fp16)
  logits = tf.cast(inference(prepared), tf.float32)
  return logits, tf.nn.softmax(logits), tf.argmax(logits, axis=1)


def loss(logits, labels):
  """Add L2Loss to all the trainable variables.

  Add summary for "Loss" and "Loss/avg".

  Args:
    logits: Logits from inference().
    labels: Labels from distorted_inputs or inputs(). 1-D tensor of shape
      [batch_size].

  Returns:
    Loss tensor of type float: cross entropy plus all weight decay terms of
    the current name scope (one tower's, in a multi-tower graph).
  """
  # Calculate the average cross entropy loss across the batch.
  labels = tf.cast(labels, tf.int64)
  cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(
      labels=labels, logits=logits, name='cross_entropy_per_example')
  cross_entropy_mean = tf.reduce_mean(cross_entropy, name='cross_entropy')
  tf.compat.v1.add_to_collection('losses', cross_entropy_mean)

  # The total loss is defined as the cross entropy loss plus all of the weight
  # decay terms (L2 loss).
  return tf.add_n(scope_losses(), name='total_loss')


def scope_losses():
  """The 'losses' collection of the current name scope (all, at top level)."""
  scope = tf.compat.v1.get_default_graph().get_name_scope()
  return tf.compat.v1.get_collection('losses', scope + '/' if scope else None)


def add_loss_summaries(losses):
  """Add summaries for losses in CIFAR-10 model.

  Generates moving average for all losses and associated summaries for
  visualizing the performance of the network: '<name> (raw)' for each
  step's value, '<name>' for its moving average.

  Args:
    losses: the loss terms and the total loss, as top-level ops named
      'cross_entropy', 'conv1/weight_loss', ..., 'total_loss' (their moving
      averages are variables named after them, the same in every trainer).

  Returns:
    loss_averages_op: op for generating moving averages of losses.
  """
  loss_averages = tf.compat.v1.train.ExponentialMovingAverage(
      LOSS_AVERAGE_DECAY, name='avg')
  loss_averages_op = loss_averages.apply(losses)

  for each_loss in losses:
    summaries.scalar(each_loss.op.name + ' (raw)', each_loss)
    summaries.scalar(each_loss.op.name, loss_averages.average(each_loss))
  return loss_averages_op


def learning_rate(global_step, batch_size,
                  initial_learning_rate=INITIAL_LEARNING_RATE):
  """The learning rate, decayed exponentially by steps in a staircase.

  Args:
    global_step: Integer Variable counting the number of training steps.
    batch_size: examples per training step.
    initial_learning_rate: the rate before the first decay.

  Returns:
    A scalar float32 tensor, also summarized as 'learning_rate'.
  """
  num_batches_per_epoch = NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN / batch_size
  decay_steps = int(num_batches_per_epoch * NUM_EPOCHS_PER_DECAY)
  rate = tf.compat.v1.train.exponential_decay(
      initial_learning_rate, global_step, decay_steps,
      LEARNING_RATE_DECAY_FACTOR, staircase=True)
  summaries.scalar('learning_rate', rate)
  return rate


def apply_gradients(optimizer, grads, global_step):
  """Applies gradients, then updates the variables' moving averages.

  Also adds histograms of the trainable variables and of their gradients.

  Args:
    optimizer: a tf.compat.v1.train.Optimizer.
    grads: list of (gradient, variable) pairs.
    global_step: the step variable, incremented once.

  Returns:
    train_op: op for one training step.
  """
  apply_gradient_op = optimizer.apply_gradients(grads, global_step=global_step)

  # Add histograms for trainable variables.
  for var in tf.compat.v1.trainable_variables():
    summaries.histogram(var.op.name, var)

  # Add histograms for gradients.
  for grad, var in grads:
    if grad is not None:
      summaries.histogram(var.op.name + '/gradients', grad)

  # Track the moving averages of all trainable variables.
  variable_averages = tf.compat.v1.train.ExponentialMovingAverage(
      MOVING_AVERAGE_DECAY, global_step)
  with tf.control_dependencies([apply_gradient_op]):
    variables_averages_op = variable_averages.apply(
        tf.compat.v1.trainable_variables())
  with tf.control_dependencies([variables_averages_op]):
    return tf.no_op(name='train')


def train(total_loss, global_step, batch_size, wrap_optimizer=None,
          initial_learning_rate=INITIAL_LEARNING_RATE):
  """Train CIFAR-10 model.

  Create an optimizer and apply to all trainable variables. Add moving
  average for all trainable variables.

  Args:
    total_loss: Total loss from loss().
    global_step: Integer Variable counting the number of training steps
      processed.
    batch_size: examples per step, which sets the decay schedule.
    wrap_optimizer: optional function returning a wrapper of the gradient
      descent optimizer, e.g. a SyncReplicasOptimizer for distributed runs.
    initial_learning_rate: the rate before the first decay.

  Returns:
    train_op: op for training.
  """
  rate = learning_rate(global_step, batch_size, initial_learning_rate)
  # Generate moving averages of all losses and associated summaries.
  loss_averages_op = add_loss_summaries(scope_losses() + [total_loss])

  # Compute gradients.
  with tf.control_dependencies([loss_averages_op]):
    optimizer = tf.compat.v1.train.GradientDescentOptimizer(rate)
    if wrap_optimizer:
      optimizer = wrap_optimizer(optimizer)
    grads = optimizer.compute_gradients(total_loss)

  return apply_gradients(optimizer, grads, global_step)


def variables_to_restore():
  """Maps checkpoint names to this graph's variables, reading moving averages.

  The evaluator and the exporters restore the shadow (averaged) weights into
  the model's variables, as the original evaluator did.
  """
  variable_averages = tf.compat.v1.train.ExponentialMovingAverage(
      MOVING_AVERAGE_DECAY)
  return variable_averages.variables_to_restore()
