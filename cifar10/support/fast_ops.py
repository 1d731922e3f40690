"""Fast forms of two tutorial ops: the training distortions and LRN.

Each computes the same function as the readable op it replaces, from
kernels that cost the 2-core CPUs this tutorial is often run on far less
time; the readable form stays in the tutorial (cifar10_input.distort_image,
tf.nn.lrn in cifar10.inference), selected by `reference_ops=True`, and the
tests hold each pair to the same values. What each saves, measured:
docs/speed.md, "Where the time goes".

* `distort_planes`: the five per-image distortions of distort_image (crop,
  flip, brightness, contrast, standardization), drawn per image but
  computed for a whole batch at once, in fewer passes over the pixels;
* `fast_lrn`: local response normalization as a matrix multiply with a
  banded matrix, with its gradient written out.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import numpy as np
import tensorflow as tf

# Training images distorted per call of the batch map. Each call has a fixed
# cost beyond its per-image work, which on 2 cores the training step pays
# for: a few batches per call spread it (docs/speed.md, "Where the time
# goes").
IMAGES_PER_DISTORTION_CALL = 512


# ---------------------------------------------------------------------------
# The training distortions, a batch at a time
# ---------------------------------------------------------------------------

def batches_per_distortion_call(batch_size):
  """How many batches one call of the batch map distorts (at least 1)."""
  return max(1, IMAGES_PER_DISTORTION_CALL // batch_size)


def _windows(planes, top, left, flip, size):
  """size x size windows of [N, 3, 32, 32] planes, mirrored where `flip`.

  Rows are gathered (contiguous copies); columns are picked, and mirrored,
  by a batched matmul with one-hot columns: exact for pixel values, and half
  the time of gathering single pixels.

  Args:
    planes: [N, 3, H, W] uint8.
    top, left: [N, 1] int32, each window's top-left corner.
    flip: [N, 1] bool, whether to mirror each window left-right.
    size: the window's height and width.

  Returns:
    [N, 3, size * size] float32, each channel's window row by row.
  """
  # Ints in both shape modes (Dimensions under TF1 behaviour).
  depth, original_size = (tf.compat.dimension_value(planes.shape[1]),
                          tf.compat.dimension_value(planes.shape[3]))
  span = tf.range(size)
  rows = tf.gather(planes, top + span, axis=2, batch_dims=1)
  rows = tf.reshape(tf.cast(rows, tf.float32),
                    [-1, depth * size, original_size])
  columns = left + tf.where(flip, size - 1 - span, span)
  windows = tf.matmul(rows, tf.one_hot(columns, original_size, axis=1))
  return tf.reshape(windows, [-1, depth, size * size])


@tf.autograph.experimental.do_not_convert
def distort_planes(planes, crop_size, max_brightness_delta, contrast_range):
  """Training images from their colour planes, each with its own distortions.

  The distortions of cifar10_input.distort_image (a random crop, a
  left-right flip half of the time, a brightness delta, a contrast factor,
  standardization), drawn for each image but computed for the whole batch
  at once: this takes the trainer's input pipeline far less CPU than
  mapping distort_image over single records.

  Args:
    planes: [N, 3, H, W] uint8, each image as its three colour planes (the
      record's own layout).
    crop_size: the side of the random square window, 24 in the tutorial.
    max_brightness_delta: the largest brightness change, on the 0..255
      scale.
    contrast_range: (lowest, highest) contrast factor.

  Returns:
    [N, crop_size, crop_size, 3] float32, each with mean 0 and deviation 1.
  """
  count = tf.shape(planes)[0]
  # Ints in both shape modes (Dimensions under TF1 behaviour).
  depth, original_size = (tf.compat.dimension_value(planes.shape[1]),
                          tf.compat.dimension_value(planes.shape[3]))
  corner_range = original_size - crop_size + 1
  top = tf.random.uniform([count, 1], 0, corner_range, dtype=tf.int32)
  left = tf.random.uniform([count, 1], 0, corner_range, dtype=tf.int32)
  flip = tf.random.uniform([count, 1]) < 0.5
  brightness = tf.random.uniform(
      [count, 1, 1], -max_brightness_delta, max_brightness_delta)
  contrast = tf.random.uniform([count, 1, 1], *contrast_range)
  # Channel-major until the end: per-channel broadcasts over [N, 3, P] are
  # cheap, and the one transpose left is a float one (oneDNN's, fast).
  windows = adjust_and_standardize(
      _windows(planes, top, left, flip, crop_size), brightness, contrast)
  windows = tf.reshape(windows, [-1, depth, crop_size, crop_size])
  return tf.transpose(windows, [0, 2, 3, 1])


def adjust_and_standardize(planes, brightness, contrast):
  """adjust_brightness, adjust_contrast, per_image_standardization, batched.

  The same function as the three per-image ops, in fewer passes over the
  pixels. Brightness adds its delta to every pixel: that moves each channel
  mean by delta and leaves the deviations from the channel means alone.
  Contrast scales each channel's deviations; the result has the image mean
  m and variance contrast^2 * W + B, where W is the mean squared deviation
  from the channel means and B that of the channel means from m, so
  standardization needs no second pass over the adjusted image.

  Args:
    planes: [N, C, P] float32, each image as C channels of P pixels.
    brightness: [N, 1, 1] deltas.
    contrast: [N, 1, 1] contrast factors.

  Returns:
    [N, C, P] float32, each image with mean 0 and deviation 1.
  """
  pixels = planes.shape[1:].num_elements()
  channel_means = tf.reduce_mean(planes, axis=2, keepdims=True)
  deviations = planes - channel_means
  channel_means += brightness
  mean = tf.reduce_mean(channel_means, axis=1, keepdims=True)
  within = tf.reduce_mean(tf.square(deviations), axis=[1, 2], keepdims=True)
  between = tf.reduce_mean(tf.square(channel_means - mean), axis=1,
                           keepdims=True)
  stddev = tf.sqrt(tf.square(contrast) * within + between)
  # per_image_standardization's floor, which keeps uniform images finite.
  scale = 1.0 / tf.maximum(stddev, 1.0 / np.sqrt(pixels))
  return (deviations * (contrast * scale) +
          (channel_means - mean) * scale)


# ---------------------------------------------------------------------------
# Local response normalization
# ---------------------------------------------------------------------------

# LRN from fast kernels, with a hand-written gradient.
#
#     y = x / (bias + alpha * sum_{|c' - c| <= r} x_{c'}^2) ^ beta
#
# is what `tf.nn.lrn` computes, but its CPU kernels (LRN and LRNGrad) are
# plain loops that cost about a quarter of a training step on a 2-core CPU.
# The window sum over channels is a product with a banded 0/1 matrix, so both
# directions become one matrix multiply plus elementwise work:
#
#     d = bias + x^2 @ (alpha * band)            y = x * d^-beta
#     dL/dx = g * d^-beta - x * ((g * y / d) @ (2 * alpha * beta * band))
#
# (the band is symmetric, so the same matrix serves the backward pass). The
# function, its gradient and its variables are those of `tf.nn.lrn`; only the
# kernels differ, so checkpoints and results are interchangeable.

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
