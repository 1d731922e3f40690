"""Histogram summaries: TensorFlow's HistogramSummary protos, from faster ops."""

import numpy as np
import pytest
import tensorflow as tf

from cifar10.support import histogram
from conftest import both_modes

pytestmark = [both_modes, pytest.mark.fast]


def _histograms(values, tag='t'):
  """(TensorFlow's HistogramProto, ours) for the float32 `values`."""
  with tf.Graph().as_default():
    feed = tf.compat.v1.placeholder(tf.float32)
    theirs = tf.raw_ops.HistogramSummary(tag=tag, values=feed)
    ours = histogram.vectorised_histogram(tag, feed)
    with tf.compat.v1.Session() as sess:
      protos = sess.run([theirs, ours], {feed: values})
  return [_only_histogram(proto, tag) for proto in protos]


def _only_histogram(serialized, tag):
  summary = tf.compat.v1.Summary.FromString(serialized)
  assert [value.tag for value in summary.value] == [tag]
  return summary.value[0].histo


def _assert_same_histogram(values):
  values = np.asarray(values, np.float32)
  theirs, ours = _histograms(values)
  assert list(ours.bucket_limit) == list(theirs.bucket_limit)
  assert list(ours.bucket) == list(theirs.bucket)
  assert (ours.min, ours.max, ours.num) == (theirs.min, theirs.max, theirs.num)
  # Summed in another order: equal up to the rounding of n double additions.
  rounding = values.size * np.finfo(np.float64).eps
  magnitude = np.abs(values.astype(np.float64)).sum()
  assert abs(ours.sum - theirs.sum) <= rounding * magnitude
  assert ours.sum_squares == pytest.approx(theirs.sum_squares, rel=rounding)
  return ours


def test_bucket_limits_are_tensorflows():
  limits = histogram.bucket_limits()
  assert limits.size == 1551
  assert limits[775] == 0.0 and limits[776] == 1e-12
  assert limits[-1] == -limits[0] == np.finfo(np.float64).max
  assert limits[-2] == pytest.approx(1e20, rel=0.1)
  np.testing.assert_allclose(limits[777:-1] / limits[776:-2], 1.1)


def test_relu_activations_give_the_same_histogram(rng):
  values = np.maximum(rng.normal(0, 0.5, [32, 24, 24, 64]), 0)
  ours = _assert_same_histogram(values)
  assert ours.num == values.size
  assert ours.min == 0.0
  assert len(ours.bucket) > 100


def test_values_over_the_whole_float32_range_give_the_same_histogram(rng):
  magnitudes = 10.0 ** rng.uniform(-45, 38.5, 100000)
  signs = rng.choice([-1.0, 1.0], magnitudes.size)
  values = np.clip(signs * magnitudes, -3.4e38, 3.4e38)
  ours = _assert_same_histogram(values)
  assert len(ours.bucket) == 1551  # Every bucket holds a value.


def test_every_float32_prefix_and_bucket_edge_gives_the_same_histogram():
  """The lowest, highest and a middle value of each top-16-bit prefix, and
  each bucket limit with its float32 neighbours, subnormals and zeros."""
  prefixes = np.arange(2 ** 16, dtype=np.uint32) << 16
  patterns = np.concatenate([prefixes, prefixes | 0x7FFF, prefixes | 0xFFFF])
  values = patterns.view(np.float32)
  limits = histogram.bucket_limits()[1:-1].astype(np.float32)
  edges = np.concatenate([limits, np.nextafter(limits, np.float32(np.inf)),
                          np.nextafter(limits, np.float32(-np.inf))])
  _assert_same_histogram(np.concatenate([values[np.isfinite(values)], edges]))


@pytest.mark.parametrize('values', [[5.0], [-0.0, 0.0], [1e-40, -1e-40], []])
def test_single_zero_subnormal_and_empty_histograms_are_the_same(values):
  _assert_same_histogram(values)


@pytest.mark.parametrize('bad', [np.nan, np.inf, -np.inf])
def test_nan_or_infinity_fails_naming_the_tag(bad):
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match='Nan or Infinity in summary histogram for: '
                     'conv1/activations'):
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
      sess.run(histogram.vectorised_histogram('conv1/activations',
                                              tf.constant([1.0, bad])))


def test_histograms_in_towers_share_one_bucket_table(rng):
  values = rng.normal(size=[1000]).astype(np.float32)
  with tf.Graph().as_default() as graph:
    summaries = []
    for tower in range(2):
      with tf.name_scope('tower_%d' % tower), tf.device('/cpu:0'), \
           tf.control_dependencies([tf.no_op()]):
        summaries.append(
            histogram.vectorised_histogram('t', tf.constant(values) * 2))
    tables = [op.name for op in graph.get_operations()
              if op.name.startswith('histogram_bucket_table/') and
              op.type == 'Identity']
    assert sorted(tables) == ['histogram_bucket_table/first_bucket',
                              'histogram_bucket_table/next_bucket_from']
    with tf.compat.v1.Session() as sess:
      first, second = [_only_histogram(proto, 't')
                       for proto in sess.run(summaries)]
  assert first == second
  assert first.num == 1000
  assert first.sum == pytest.approx(2 * values.astype(np.float64).sum())


def test_small_tensors_keep_tensorflows_op_and_big_ones_get_the_fast_one():
  with tf.Graph().as_default() as graph:
    histogram.histogram('small', tf.zeros([2304, 100]))
    histogram.histogram('big', tf.zeros([histogram.VECTORISED_FROM]))
    types = [op.type for op in graph.get_operations()]
  assert types.count('HistogramSummary') == 1
  assert types.count('EncodeProto') == 3  # One Summary, its Value, its histo.
