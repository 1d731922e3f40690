"""Histogram summaries: the protos TensorFlow's HistogramSummary op writes, faster.

HistogramSummary finds each value's bucket by a binary search over its 1,551
bucket limits, one value at a time on one thread: 150 ms for conv1's
activations, three training steps' worth, every time summaries are saved.
Here a value's bucket comes from a table indexed by the top 16 bits of its
float32 pattern, in vectorised ops. The protos are TensorFlow's: the same
bucket limits and counts, min, max and num; sum and sum_squares are summed
in another order, so they agree to double rounding.
"""

import sys

import numpy as np
import tensorflow as tf

# The table's entries cover the floats that share their top 16 bits (sign,
# exponent and 7 mantissa bits): each spans under 1% of its values, so at
# most one bucket limit (10% apart) falls inside it.
_PREFIX_BITS = 16

# Where the graph keeps the table, built once and shared by all histograms.
_TABLE_SCOPE = 'histogram_bucket_table/'


def bucket_limits():
  """TensorFlow's default histogram bucket limits, as its C++ computes them.

  Limits grow by 10% from 1e-12 to 1e20, mirror below zero, and end with
  DBL_MAX either side; a value falls in the first bucket whose limit
  exceeds it.
  """
  positive = []
  limit = 1.0e-12
  while limit < 1.0e20:
    positive.append(limit)
    limit *= 1.1
  positive.append(sys.float_info.max)
  return np.array([-x for x in reversed(positive)] + [0.0] + positive)


def float32_thresholds(limits):
  """The least float32 >= each limit: for a float32 x, x < limit iff x < it."""
  with np.errstate(over='ignore'):
    thresholds = limits.astype(np.float32)
  below = thresholds.astype(np.float64) < limits
  thresholds[below] = np.nextafter(thresholds[below], np.float32(np.inf))
  return thresholds


def _bucket_table(thresholds):
  """For each top-16-bit prefix: its lowest value's bucket, and the value from
  which its values fall in the next bucket (infinity where none do).

  TensorFlow's kernels flush subnormal numbers to zero, here as in
  HistogramSummary, so those prefixes all fall in zero's bucket.
  """
  starts = tf.bitwise.left_shift(
      tf.cast(tf.range(2 ** _PREFIX_BITS), tf.uint32), _PREFIX_BITS)
  ends = tf.bitcast(tf.stack([starts, starts + (2 ** _PREFIX_BITS - 1)]),
                    tf.float32)
  # NaN and infinity prefixes get bucket 0: histogram() rejects them.
  ends = tf.where(tf.math.is_finite(ends), ends, 0.0)
  lowest = tf.searchsorted(thresholds, tf.reduce_min(ends, 0), side='right')
  highest = tf.searchsorted(thresholds, tf.reduce_max(ends, 0), side='right')
  next_from = tf.where(highest > lowest, tf.gather(thresholds, lowest),
                       np.float32(np.inf))
  return tf.cast(lowest, tf.int32), next_from


def _shared_bucket_table(thresholds):
  """The graph's bucket table: built by the first histogram, then reused."""
  graph = tf.compat.v1.get_default_graph()
  try:
    return (graph.get_tensor_by_name(_TABLE_SCOPE + 'first_bucket:0'),
            graph.get_tensor_by_name(_TABLE_SCOPE + 'next_bucket_from:0'))
  except KeyError:
    pass
  # Outside any tower's scope, device or dependencies, so that all can use it.
  with tf.compat.v1.name_scope(_TABLE_SCOPE), tf.control_dependencies(None), \
       tf.device('/cpu:0'):
    first, next_from = _bucket_table(thresholds)
    return (tf.identity(first, name='first_bucket'),
            tf.identity(next_from, name='next_bucket_from'))


def _encode(message_type, **fields):
  """One serialized `message_type` proto holding the given fields' values."""
  values = [tf.reshape(value, [1, -1]) for value in fields.values()]
  sizes = tf.stack([tf.shape(value)[1] for value in values])[None]
  return tf.io.encode_proto(sizes, values, list(fields), message_type)[0]


def histogram(tag, values):
  """A serialized Summary: the histogram of `values` (float32) under `tag`.

  Like HistogramSummary, running it fails on NaN or infinite values.
  """
  limits = bucket_limits()
  first, next_from = _shared_bucket_table(float32_thresholds(limits))
  values = tf.reshape(values, [-1])
  prefix = tf.bitcast(tf.bitwise.right_shift(
      tf.bitcast(values, tf.uint32), _PREFIX_BITS), tf.int32)
  # gather_nd: twice as fast as gather on this many scalars.
  prefix = prefix[:, None]
  buckets = tf.gather_nd(first, prefix) + tf.cast(
      values >= tf.gather_nd(next_from, prefix), tf.int32)
  counts = tf.math.bincount(buckets, minlength=limits.size,
                            maxlength=limits.size, dtype=tf.float64)
  # Like TensorFlow, write each run of empty buckets as its last one.
  run_ends = tf.concat([counts[1:] > 0, [True]], 0)
  kept = (counts > 0) | run_ends

  as_double = tf.cast(values, tf.float64)
  total = tf.reduce_sum(as_double)
  num = tf.cast(tf.size(values), tf.float64)
  # An empty histogram has min DBL_MAX and max -DBL_MAX, as TensorFlow's.
  nonempty = num > 0
  minimum = tf.where(nonempty, tf.cast(tf.reduce_min(values), tf.float64),
                     sys.float_info.max)
  maximum = tf.where(nonempty, tf.cast(tf.reduce_max(values), tf.float64),
                     -sys.float_info.max)
  finite = tf.debugging.Assert(
      tf.math.is_finite(total),
      ['Nan or Infinity in summary histogram for: %s' % tag])
  with tf.control_dependencies([finite]):
    histo = _encode(
        'tensorflow.HistogramProto', min=minimum, max=maximum, num=num,
        sum=total, sum_squares=tf.reduce_sum(tf.square(as_double)),
        bucket_limit=tf.boolean_mask(limits, kept),
        bucket=tf.boolean_mask(counts, kept))
  value = _encode('tensorflow.Summary.Value', tag=tf.constant(tag),
                  histo=histo)
  return _encode('tensorflow.Summary', value=value)
