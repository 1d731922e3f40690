"""Histogram summaries: the protos TensorFlow's HistogramSummary op writes, faster.

HistogramSummary finds each value's bucket by a binary search over its 1,551
bucket limits, one value at a time on one thread: several training steps'
worth every time summaries are saved, most of it conv1's activations.
Here a value's bucket comes from a table indexed by the top 16 bits of its
float32 pattern, in vectorised ops. The protos are TensorFlow's: the same
bucket limits and counts, min, max and num; sum and sum_squares are summed
in another order, so they agree to double rounding.

What it saves a summary step, measured: docs/speed.md#histograms.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import sys

import numpy as np
import tensorflow as tf

# The table's entries cover the floats that share their top 16 bits (sign,
# exponent and 7 mantissa bits): each spans under 1% of its values, so at
# most one bucket limit (10% apart) falls inside it.
_PREFIX_BITS = 16

# Values binned per step of the loop: its temporaries (33 bytes a value)
# stay a few MB; binning conv1's activations whole raised the trainer's peak
# memory by 40 MB.
_CHUNK = 2 ** 18

# Tensors this big or bigger get the vectorised histogram. It saves about 30
# ns a value, but its ~150 graph nodes cost about 1.5 MB of memory (TensorFlow
# holds about 10 KB a node): worth it for conv1's and conv2's activations and
# local3's weights and gradients (0.9 to 4.7 million values), not for the
# 21 other histograms (100,000 values or fewer).
VECTORISED_FROM = 2 ** 18

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


def _shared_bucket_table(limits):
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
    first, next_from = _bucket_table(float32_thresholds(limits))
    return (tf.identity(first, name='first_bucket'),
            tf.identity(next_from, name='next_bucket_from'))


def _encode(message_type, **fields):
  """One serialized `message_type` proto holding the given fields' values.

  Each value is a scalar or a vector (a repeated field). Written in few
  graph nodes: see VECTORISED_FROM.
  """
  values, sizes = [], []
  for value in fields.values():
    if value.shape.rank == 0:
      values.append(tf.reshape(value, [1, 1]))
      sizes.append(1)
    else:
      values.append(tf.expand_dims(value, 0))
      sizes.append(tf.size(value))
  serialized = tf.io.encode_proto(tf.reshape(tf.stack(sizes), [1, -1]),
                                  values, list(fields), message_type)
  return tf.reshape(serialized, [])


def _chunk_sums(values, first, next_from, bucket_count):
  """Bucket counts, sum and sum of squares of a 1-D float32 chunk."""
  prefix = tf.bitcast(tf.bitwise.right_shift(
      tf.bitcast(values, tf.uint32), _PREFIX_BITS), tf.int32)
  # gather_nd: twice as fast as gather on this many scalars.
  prefix = prefix[:, None]
  buckets = tf.gather_nd(first, prefix) + tf.cast(
      values >= tf.gather_nd(next_from, prefix), tf.int32)
  # The raw op, so that the size is a constant, as XLA (--xla) requires.
  counts = tf.raw_ops.DenseBincount(
      input=buckets, size=bucket_count,
      weights=tf.constant([], tf.float64))
  as_double = tf.cast(values, tf.float64)
  return (counts, tf.reduce_sum(as_double),
          tf.reduce_sum(tf.square(as_double)))


def vectorised_histogram(tag, values):
  """A serialized Summary: the histogram of float32 `values` under `tag`.

  Like HistogramSummary, running it fails on NaN or infinite values.
  """
  limits = bucket_limits()
  first, next_from = _shared_bucket_table(limits)
  values = tf.reshape(values, [-1])
  size = tf.size(values)

  # A chunk at a time, so that the temporaries stay small.
  def add_chunk(start, counts, total, squares):
    sums = _chunk_sums(values[start:start + _CHUNK], first, next_from,
                       limits.size)
    return (start + _CHUNK, counts + sums[0], total + sums[1],
            squares + sums[2])

  _, counts, total, squares = tf.while_loop(
      lambda start, *_: start < size, add_chunk,
      [0, tf.zeros([limits.size], tf.float64), tf.constant(0.0, tf.float64),
       tf.constant(0.0, tf.float64)],
      parallel_iterations=1)
  # Like TensorFlow, write each run of empty buckets as its last one.
  run_ends = tf.concat([counts[1:] > 0, [True]], 0)
  kept = tf.reshape(tf.where((counts > 0) | run_ends), [-1])

  num = tf.cast(size, tf.float64)
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
        sum=total, sum_squares=squares,
        bucket_limit=tf.gather(limits, kept), bucket=tf.gather(counts, kept))
  value = _encode('tensorflow.Summary.Value', tag=tf.constant(tag),
                  histo=histo)
  return _encode('tensorflow.Summary', value=value)


def histogram(tag, values):
  """A serialized Summary: the histogram of float32 `values` under `tag`.

  Tensors of VECTORISED_FROM values or more get vectorised_histogram;
  smaller ones TensorFlow's own HistogramSummary op, the same proto.
  """
  size = values.shape.num_elements()
  if size is not None and size < VECTORISED_FROM:
    return tf.raw_ops.HistogramSummary(tag=tag, values=values)
  return vectorised_histogram(tag, values)
