"""Summary ops that write exactly the tag they are given.

`tf.compat.v1.summary` derives tags from op names, so on TF 2.x it writes
`total_loss__raw_` for 'total_loss (raw)', `total_loss_1` for a second
'total_loss', and repeats enclosing name scopes. These ops take the tag as a
string tensor instead, and join the SUMMARIES collection that
`tf.compat.v1.summary.merge_all` and MonitoredTrainingSession read.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import re

import tensorflow as tf

from cifar10.support import histogram as histogram_lib

# Multi-tower graphs prefix op names with the tower's name scope; tags drop it
# so that every tower's summaries read like the single-device ones.
_TOWER_PREFIX = re.compile(r'tower_[0-9]*/')


def clean_tag(name):
  """An op name without its `tower_N/` prefix, for use as a summary tag."""
  return _TOWER_PREFIX.sub('', name)


def _collect(summary):
  """Adds `summary` to the SUMMARIES collection and returns it."""
  tf.compat.v1.add_to_collection(tf.compat.v1.GraphKeys.SUMMARIES, summary)
  return summary


def scalar(tag, value):
  """A scalar summary written under `tag`, verbatim."""
  return _collect(tf.raw_ops.ScalarSummary(
      tags=tag, values=tf.cast(value, tf.float32)))


def histogram(tag, values):
  """A histogram summary written under `tag`, verbatim.

  HistogramSummary's proto; for big tensors from vectorised ops, several
  times faster (see histogram.py).
  """
  return _collect(histogram_lib.histogram(tag, tf.cast(values, tf.float32)))


def image(tag, images, max_outputs=3):
  """Image summaries `tag/image/0`, ... for the first images of a batch."""
  return _collect(tf.raw_ops.ImageSummary(
      tag=tag, tensor=tf.cast(images, tf.float32), max_images=max_outputs))
