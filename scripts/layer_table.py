#!/usr/bin/env python
"""Prints the network's layers as a Markdown table, read from the built graph.

For each layer of `cifar10.inference`: the shape of its output for one
image, its trainable parameters, and the multiply-adds one image costs in
it. Nothing is typed by hand: the shapes come from the graph, the parameter
counts from the layer's variables, the multiply-adds from the shapes of the
convolution and matrix-multiply ops. docs/guide.md shows this table, and a
test checks that the two agree.

    python scripts/layer_table.py
"""

import dataclasses
import sys

import numpy as np

from cifar10.support import script

# Before TensorFlow loads (TensorBoard's reader loads it too): the CPU kernels
# and the quiet start-up of every script (see cifar10/support/script.py).
if __name__ == '__main__':
  script.prepare_process()
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from cifar10 import cifar10  # pylint: disable=g-import-not-at-top
from cifar10.support import flags  # pylint: disable=g-import-not-at-top

# The layers in the order an image passes them: (name, graph tensor name).
# With reference_ops the graph is the original's, one op per layer.
LAYERS = (
    ('conv1', 'conv1/conv1:0'),
    ('pool1', 'pool1:0'),
    ('norm1', 'norm1:0'),
    ('conv2', 'conv2/conv2:0'),
    ('norm2', 'norm2:0'),
    ('pool2', 'pool2:0'),
    ('local3', 'local3/local3:0'),
    ('local4', 'local4/local4:0'),
    ('softmax_linear', 'softmax_linear/softmax_linear:0'),
)

# Ops whose multiply-adds the table counts: the convolutions and the matrix
# multiplies. Biases, ReLUs, pooling and LRN cost a few operations per value,
# which is small beside these and not a multiply-add.
_MULTIPLY_ADD_OPS = ('Conv2D', 'MatMul')


@dataclasses.dataclass
class Layer:
  """One row of the table."""
  name: str
  kind: str               # What the layer computes, e.g. '3x3 max pool, stride 2'.
  output_shape: tuple     # For one image, batch dimension left out.
  parameters: int         # Trainable values in the layer's variable scope.
  multiply_adds: int      # Per image, in its Conv2D / MatMul op.


def _multiply_adds(op):
  """Multiply-adds one image costs in a Conv2D or MatMul op (batch of 1).

  The shapes are read as lists of ints: with TensorFlow 2 behaviour disabled
  a shape's entries are Dimension objects, whose products do not divide.
  """
  if op.type == 'Conv2D':
    kernel_height, kernel_width, in_channels, _ = op.inputs[1].shape.as_list()
    _, height, width, out_channels = op.outputs[0].shape.as_list()
    return (height * width * out_channels *
            kernel_height * kernel_width * in_channels)
  rows, inner = op.inputs[0].shape.as_list()
  _, columns = op.inputs[1].shape.as_list()
  return rows * inner * columns


def _describe(graph, name, tensor):
  """What a layer computes, in words, from the attributes of its ops."""
  op = tensor.op
  if op.type == 'MaxPool':
    _, size, _, _ = op.get_attr('ksize')
    _, stride, _, _ = op.get_attr('strides')
    return '%dx%d max pool, stride %d' % (size, size, stride)
  if op.type == 'LRN':
    return 'local response normalization, depth radius %d' % op.get_attr(
        'depth_radius')
  activation = ', ReLU' if op.type == 'Relu' else ' (the logits)'
  kernels = [graph_op for graph_op in graph.get_operations()
             if graph_op.name.startswith(name + '/')
             and graph_op.type == 'Conv2D']
  if kernels:
    height, width, _, filters = kernels[0].inputs[1].shape
    return '%dx%d convolution, %d filters%s' % (height, width, filters,
                                                 activation)
  return 'fully connected' + activation


def build_layers():
  """Builds the original's network for one 24x24 image and reads each layer.

  Returns:
    A list of Layer, in the order of LAYERS.
  """
  with tf.Graph().as_default() as graph:
    images = tf.compat.v1.placeholder(
        tf.float32, [1, cifar10.IMAGE_SIZE, cifar10.IMAGE_SIZE, 3])
    cifar10.inference(images, reference_ops=True)
    layers = []
    for name, tensor_name in LAYERS:
      tensor = graph.get_tensor_by_name(tensor_name)
      variables = tf.compat.v1.trainable_variables(scope=name + '/')
      ops = [op for op in graph.get_operations()
             if op.name.startswith(name + '/') and op.type in _MULTIPLY_ADD_OPS]
      layers.append(Layer(
          name=name, kind=_describe(graph, name, tensor),
          output_shape=tuple(tensor.shape[1:]),
          parameters=sum(int(np.prod(v.shape)) for v in variables),
          multiply_adds=sum(_multiply_adds(op) for op in ops)))
  return layers


def _count(value):
  return '{:,}'.format(value) if value else '—'


def markdown_table(layers):
  """The layers as a Markdown table with a total row, as one string."""
  lines = ['| layer | what it computes | output per image | parameters | '
           'multiply-adds per image |',
           '|---|---|---|---:|---:|']
  for layer in layers:
    lines.append('| `%s` | %s | %s | %s | %s |' % (
        layer.name, layer.kind,
        ' x '.join(str(size) for size in layer.output_shape),
        _count(layer.parameters), _count(layer.multiply_adds)))
  lines.append('| total | | | %s | %s |' % (
      _count(sum(layer.parameters for layer in layers)),
      _count(sum(layer.multiply_adds for layer in layers))))
  return '\n'.join(lines) + '\n'


def parser():
  """The script's flags: none, but --help (a refused one is one line)."""
  return flags.Parser(prog='python scripts/layer_table.py',
                      description=__doc__.splitlines()[0])


def main(argv=None):
  parser().parse_args(argv)
  sys.stdout.write(markdown_table(build_layers()))
  return 0


if __name__ == '__main__':
  # A stop, a full disk or a closed pipe is one line, as in every script.
  sys.exit(script.run(main))
