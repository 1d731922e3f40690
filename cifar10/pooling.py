"""The model's 3x3, stride-2 max pooling, with a fast gradient under Eigen.

TensorFlow's Eigen MaxPoolGrad kernel, used when oneDNN is off
(TF_ENABLE_ONEDNN_OPTS=0), finds each window's maximum again one output
pixel at a time, which makes it slower than the separable form below
(measured in docs/speed.md#where-the-time-goes). With oneDNN, or on a GPU, TensorFlow's
own pooling is the faster one and is used.

The separable form pools rows, then columns. Each direction takes the larger
of three neighbours with `tf.maximum`, whose gradient goes to exactly one of
two equal inputs, so every window's gradient lands on exactly one of its
maxima, as MaxPoolGrad's does (on a tie the two may pick different ones).
"""

import tensorflow as tf

from cifar10 import kernel_choice


def max_pool_3x3_stride_2(x, name=None):
  """`tf.nn.max_pool2d(x, 3, 2, 'SAME')` for NHWC x; the same values.

  Args:
    x: [batch, height, width, channels] float tensor.
    name: name of the output op.

  Returns:
    [batch, ceil(height / 2), ceil(width / 2), channels], like x's dtype.
  """
  height, width = x.shape[1], x.shape[2]
  if (kernel_choice.onednn_in_use() or tf.config.list_physical_devices('GPU') or
      height is None or width is None or height % 2 or width % 2):
    return tf.nn.max_pool2d(x, ksize=3, strides=2, padding='SAME', name=name)
  return tf.identity(separable_max_pool(x), name=name)


@tf.custom_gradient
def separable_max_pool(x):
  """The same pooling of NHWC x of even height and width, rows then columns."""
  rows, rows_gradient = _max_of_three(x, axis=1)
  pooled, columns_gradient = _max_of_three(rows, axis=2)
  return pooled, lambda upstream: rows_gradient(columns_gradient(upstream))


def _max_of_three(x, axis):
  """Along `axis` (1 or 2): out[i] = max(x[2i], x[2i + 1], x[2i + 2]).

  SAME padding of an even size adds one position past the end, which never
  wins: it is -inf here.

  Returns:
    The pooled tensor, and a function from its gradient to x's gradient.
  """
  shape = tf.shape(x)
  # [.., n, ..] -> [.., n / 2, 2, ..]: even and odd positions side by side.
  pairs_shape = tf.concat([shape[:axis], [x.shape[axis] // 2, 2],
                           shape[axis + 1:]], 0)
  even, odd = tf.unstack(tf.reshape(x, pairs_shape), axis=axis + 1)
  past_end = tf.fill(tf.shape(_first(even, axis)),
                     tf.constant(-float('inf'), x.dtype))
  next_even = tf.concat([_drop_first(even, axis), past_end], axis)
  even_or_odd = tf.maximum(even, odd)
  pooled = tf.maximum(even_or_odd, next_even)

  def gradient(upstream):
    # Ties go to the earlier position, each window's gradient to one of them.
    zeros = tf.zeros_like(upstream)
    to_next_even = tf.where(next_even > even_or_odd, upstream, zeros)
    to_even_or_odd = upstream - to_next_even  # Exact: one of them is zero.
    to_even = tf.where(even >= odd, to_even_or_odd, zeros)
    to_odd = to_even_or_odd - to_even
    # Window i's next even position is window i + 1's even one.
    to_even += tf.concat([_first(zeros, axis),
                          _drop_last(to_next_even, axis)], axis)
    return tf.reshape(tf.stack([to_even, to_odd], axis + 1), shape)

  return pooled, gradient


def _first(x, axis):
  return x[:, :1] if axis == 1 else x[:, :, :1]


def _drop_first(x, axis):
  return x[:, 1:] if axis == 1 else x[:, :, 1:]


def _drop_last(x, axis):
  return x[:, :-1] if axis == 1 else x[:, :, :-1]
