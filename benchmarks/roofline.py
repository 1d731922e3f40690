"""The machine's own ceiling: its measured matrix-multiply peak, and the
arithmetic one training image costs, so that a speed becomes a fraction of
what this machine can do.

A training step is almost all convolutions and matrix multiplies. One image
costs, per layer, F multiply-adds forward (scripts/layer_table.py reads them
from the graph: 18,470,784 in all), F more for the weights' gradient, and F
more for the gradient of the layer's input, except in conv1, whose input is
the image and needs none. At two floating-point operations per multiply-add:

    FLOP per image = 2 * (3 * F_total - F_conv1)

which is 105.3 MFLOP. The peak is a large square matmul in TensorFlow (4096
x 4096, as dense and regular as work gets), in float32, and in bfloat16 on
CPUs with native bfloat16 arithmetic (AVX512-BF16 or AMX).
"""

if __name__ == '__main__':  # A helper module, run as a program.
  raise SystemExit(
      'benchmarks/roofline.py is a module that benchmark.py and cpu_study.py '
      'import, not a tool: run python benchmarks/benchmark.py '
      '(README.md lists the tools).')

import functools
import os
import statistics
import sys
import time

import tensorflow as tf

from cifar10.support import kernel_choice

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'scripts'))
import layer_table  # pylint: disable=g-import-not-at-top,wrong-import-position

# Whether the CPU multiplies bfloat16 natively: where it does not, TensorFlow
# emulates it, and a bfloat16 peak would measure the emulation. The trainers
# ask the same for --mixed_precision bf16, so it lives in kernel_choice.
BFLOAT16_FEATURES = kernel_choice.BFLOAT16_FEATURES
CAPS_WITHOUT_BFLOAT16 = kernel_choice.CAPS_WITHOUT_BFLOAT16
has_native_bfloat16 = kernel_choice.has_native_bfloat16


def training_flops_by_kind():
  """Floating-point operations of one image's training step, by kind of op.

  See the module docstring: forward, weight gradients and input gradients
  of every convolution and matrix multiply, conv1's input gradient left out.

  Returns:
    {'convolutions': 99,532,800, 'matrix multiplies': 5,762,304} (ints) for
    the tutorial's network: conv1 and conv2, then local3, local4 and
    softmax_linear.
  """
  layers = layer_table.build_layers()
  first = layers[0].multiply_adds
  convolutions = sum(layer.multiply_adds for layer in layers
                     if 'convolution' in layer.kind)
  matrix_multiplies = sum(layer.multiply_adds for layer in layers
                          if layer.kind.startswith('fully connected'))
  return {'convolutions': 2 * (3 * convolutions - first),
          'matrix multiplies': 2 * 3 * matrix_multiplies}


def gflops(examples_per_sec):
  """The arithmetic rate of training at `examples_per_sec`, in GFLOP/s."""
  return examples_per_sec * training_flops_per_image() / 1e9


# Counted from a graph built for the purpose, so once per process: gflops()
# is called for every figure a benchmark reports.
@functools.lru_cache(maxsize=None)
def training_flops_per_image():
  """Floating-point operations of one image's training step (int): 105.3M.

  The sum of training_flops_by_kind().
  """
  return sum(training_flops_by_kind().values())


def matmul_peak(dtype, size=4096, windows=5, runs=3):
  """The median GFLOP/s of a size x size matmul in TensorFlow, in `dtype`.

  The operands live in variables, so each run is the multiply alone, and
  only a scalar of the product is fetched.

  Returns:
    (median GFLOP/s, the GFLOP/s of each window).
  """
  with tf.Graph().as_default():
    left = tf.Variable(tf.random.stateless_normal([size, size], seed=[1, 2],
                                                  dtype=dtype))
    right = tf.Variable(tf.random.stateless_normal([size, size], seed=[3, 4],
                                                   dtype=dtype))
    product = tf.reduce_sum(tf.cast(tf.matmul(left, right)[0, :1],
                                    tf.float32))
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      session.run(product)  # Warm-up: oneDNN picks and caches its kernel.
      rates = []
      for _ in range(windows):
        start = time.perf_counter()
        for _ in range(runs):
          session.run(product)
        rates.append(2 * size ** 3 * runs / (time.perf_counter() - start) / 1e9)
  return statistics.median(rates), rates
