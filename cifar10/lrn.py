"""Local response normalization from fast kernels, with a hand-written gradient.

    y = x / (bias + alpha * sum_{|c' - c| <= r} x_{c'}^2) ^ beta

is what `tf.nn.lrn` computes, but its CPU kernels (LRN and LRNGrad) are
plain loops that cost about a quarter of a training step on a 2-core CPU.
The window sum over channels is a product with a banded 0/1 matrix, so both
directions become one matrix multiply plus elementwise work:

    d = bias + x^2 @ (alpha * band)            y = x * d^-beta
    dL/dx = g * d^-beta - x * ((g * y / d) @ (2 * alpha * beta * band))

(the band is symmetric, so the same matrix serves the backward pass). The
function, its gradient and its variables are those of `tf.nn.lrn`; only the
kernels differ, so checkpoints and results are interchangeable.

Measured gain (scripts/cpu_study.py --only cpu_classes,profile, 2026-12-01,
a 2-core Sapphire Rapids-class Xeon, TF 2.21; docs/speed.md#where-the-time-goes):
the two normalizations with their gradients took 43 ms of the original
graph's 161 ms traced step and 13 ms of this port's 114 ms with oneDNN, and
37 against 22 ms under Eigen (AVX512_CORE).
"""

import numpy as np
import tensorflow as tf


def _band(depth, depth_radius, scale, dtype):
  """The [depth, depth] matrix holding `scale` where |i - j| <= depth_radius."""
  index = np.arange(depth)
  band = np.abs(index[:, None] - index[None, :]) <= depth_radius
  return tf.constant(band * scale, dtype=dtype)


def fast_lrn(x, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5, name=None):
  """Local response normalization across channels: `tf.nn.lrn`, faster on CPUs.

  Takes `tf.nn.lrn`'s arguments, with its defaults, and returns its values;
  the gradient is the one written out in the module docstring.

  Args:
    x: [batch, height, width, depth] float32 or float16, depth known when
      the graph is built (it sizes the band matrices).
    depth_radius: channels either side that share a window.
    bias, alpha, beta: y = x / (bias + alpha * window sum of x^2) ^ beta.
    name: the name scope of the ops, e.g. 'norm1'.

  Returns:
    A tensor of x's shape and dtype.
  """
  with tf.name_scope(name or 'lrn'):
    # An int in both shape modes (a Dimension under TF1 behaviour).
    depth = tf.compat.dimension_value(x.shape[-1])
    # The constants ride in the band matrices, and the bias in a bias add
    # that oneDNN fuses into the matrix multiply: fewer passes over x.
    forward_band = _band(depth, depth_radius, alpha, x.dtype)
    backward_band = _band(depth, depth_radius, 2.0 * alpha * beta, x.dtype)
    biases = tf.fill([depth], tf.cast(bias, x.dtype))

    def window_sum(values, band, add_bias=False):
      # Channels last: every pixel's channel vector times the band at once.
      flat = tf.matmul(tf.reshape(values, [-1, depth]), band)
      if add_bias:
        flat = tf.nn.bias_add(flat, biases)
      return tf.reshape(flat, tf.shape(values))

    @tf.custom_gradient
    def normalize(inputs):
      d = window_sum(tf.square(inputs), forward_band, add_bias=True)
      if beta == 0.75:  # The tutorial's: d^-0.75 = r * sqrt(r), r = 1/sqrt(d).
        root = tf.math.rsqrt(d)
        scale = root * tf.sqrt(root)
      else:
        scale = tf.pow(d, -beta)
      outputs = inputs * scale

      def grad(upstream):
        return upstream * scale - inputs * window_sum(
            upstream * outputs / d, backward_band)

      return outputs, grad

    return normalize(x)
