"""The network: names, sizes, loss, learning-rate schedule, LRN, fp16."""

import numpy as np
import pytest
import tensorflow as tf

from cifar10 import cifar10
from cifar10.support import fast_ops
from conftest import both_modes

pytestmark = [both_modes, pytest.mark.fast]

EXPECTED_VARIABLES = {
    'conv1/weights': [5, 5, 3, 64], 'conv1/biases': [64],
    'conv2/weights': [5, 5, 64, 64], 'conv2/biases': [64],
    'local3/weights': [2304, 384], 'local3/biases': [384],
    'local4/weights': [384, 192], 'local4/biases': [192],
    'softmax_linear/weights': [192, 10], 'softmax_linear/biases': [10],
}


def _images(batch_size, dtype=tf.float32):
  return tf.compat.v1.placeholder(dtype, [batch_size, 24, 24, 3])


def test_variables_have_the_original_names_shapes_and_count():
  with tf.Graph().as_default():
    cifar10.inference(_images(None))
    variables = tf.compat.v1.trainable_variables()
    assert {v.op.name: v.shape.as_list() for v in variables} == \
        EXPECTED_VARIABLES
    assert sum(v.shape.num_elements() for v in variables) == 1068298
    assert all(v.device == '/device:CPU:0' for v in variables)


def test_one_graph_serves_batches_of_1_and_128():
  with tf.Graph().as_default():
    images = _images(None)
    logits = cifar10.inference(images)
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      for batch_size in (1, 128):
        values = sess.run(logits, {images: np.zeros([batch_size, 24, 24, 3])})
        assert values.shape == (batch_size, 10)


def test_total_loss_is_cross_entropy_plus_weight_decay(rng):
  images_value = rng.normal(size=(6, 24, 24, 3)).astype(np.float32)
  labels_value = np.array([0, 3, 9, 1, 1, 5], dtype=np.int32)
  with tf.Graph().as_default():
    logits = cifar10.inference(tf.constant(images_value))
    total_loss = cifar10.loss(logits, tf.constant(labels_value))
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      logits_value, total, weights = sess.run([
          logits, total_loss,
          {v.op.name: v for v in tf.compat.v1.trainable_variables()}])

  shifted = logits_value - logits_value.max(axis=1, keepdims=True)
  log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
  cross_entropy = -log_softmax[np.arange(6), labels_value].mean()
  weight_decay = 0.004 * (np.sum(weights['local3/weights'] ** 2) / 2 +
                          np.sum(weights['local4/weights'] ** 2) / 2)
  assert total == pytest.approx(cross_entropy + weight_decay, rel=1e-5)
  # At initialization the weight decay is the bulk of the original's 4.6.
  assert 2.0 < weight_decay < 2.5


@pytest.mark.parametrize('batch_size,step,expected', [
    (128, 0, 0.1), (128, 136717, 0.1), (128, 136718, 0.01),
    (128, 2 * 136718, 0.001), (64, 273437, 0.01), (64, 273436, 0.1)])
def test_learning_rate_decays_in_a_staircase(batch_size, step, expected):
  # decay_steps = int(50000 / batch_size * 350): 136718 for 128, 273437 for 64.
  with tf.Graph().as_default():
    global_step = tf.compat.v1.train.get_or_create_global_step()
    rate = cifar10.learning_rate(global_step, batch_size)
    with tf.compat.v1.Session() as sess:
      sess.run(global_step.assign(step))
      assert sess.run(rate) == pytest.approx(expected, rel=1e-6)


def test_initial_learning_rate_can_be_chosen():
  with tf.Graph().as_default():
    global_step = tf.compat.v1.train.get_or_create_global_step()
    rate = cifar10.learning_rate(
        global_step, 128, cifar10.Schedule(initial_learning_rate=0.05))
    with tf.compat.v1.Session() as sess:
      sess.run(global_step.assign(136718))
      assert sess.run(rate) == pytest.approx(0.005, rel=1e-6)


def test_fast_lrn_matches_tf_nn_lrn_in_value_and_gradient(rng):
  inputs = rng.normal(0, 3, size=(5, 12, 12, 64)).astype(np.float32)
  upstream = rng.normal(size=inputs.shape).astype(np.float32)
  arguments = dict(depth_radius=cifar10.LRN_DEPTH_RADIUS, bias=cifar10.LRN_BIAS,
                   alpha=cifar10.LRN_ALPHA, beta=cifar10.LRN_BETA)
  with tf.Graph().as_default():
    x = tf.constant(inputs)
    reference = tf.nn.lrn(x, **arguments)
    fast = fast_ops.fast_lrn(x, **arguments)
    gradients = [tf.gradients(y, x, tf.constant(upstream))[0]
                 for y in (reference, fast)]
    with tf.compat.v1.Session() as sess:
      ref, got, ref_grad, got_grad = sess.run([reference, fast] + gradients)
  np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(got_grad, ref_grad, rtol=1e-5, atol=1e-6)


def test_fast_lrn_handles_other_parameters_like_tf_nn_lrn(rng):
  inputs = rng.uniform(0, 4, size=(2, 3, 3, 16)).astype(np.float32)
  arguments = dict(depth_radius=2, bias=2.0, alpha=0.5, beta=0.6)
  with tf.Graph().as_default():
    x = tf.constant(inputs)
    pair = [tf.nn.lrn(x, **arguments), fast_ops.fast_lrn(x, **arguments)]
    grads = [tf.gradients(tf.reduce_sum(y * y), x)[0] for y in pair]
    with tf.compat.v1.Session() as sess:
      ref, got, ref_grad, got_grad = sess.run(pair + grads)
  np.testing.assert_allclose(got, ref, rtol=1e-5)
  np.testing.assert_allclose(got_grad, ref_grad, rtol=1e-4, atol=1e-6)


def test_fast_ops_compute_the_reference_model_and_its_gradients(rng):
  # Same variables; outputs and every weight gradient agree with the graph of
  # the original's ops (tf.nn.lrn) to float32 rounding.
  images_value = rng.normal(size=(16, 24, 24, 3)).astype(np.float32)
  labels_value = rng.integers(0, 10, size=16).astype(np.int32)
  results = {}
  with tf.Graph().as_default():
    # Fixed initial weights: with some draws a max-pool window of norm2 holds
    # two values within float32 rounding of each other, and the two graphs'
    # rounding then routes that window's gradient to different pixels.
    tf.compat.v1.set_random_seed(1)
    for reference_ops in (True, False):
      with tf.compat.v1.variable_scope('model', reuse=tf.compat.v1.AUTO_REUSE):
        logits = cifar10.inference(tf.constant(images_value), reference_ops)
      cross_entropy = tf.reduce_mean(
          tf.nn.sparse_softmax_cross_entropy_with_logits(
              labels=labels_value, logits=logits))
      variables = tf.compat.v1.trainable_variables()
      results[reference_ops] = [logits] + tf.gradients(cross_entropy,
                                                       variables)
    assert len(variables) == 10
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      values = sess.run(results)
  for reference, fast in zip(values[True], values[False]):
    scale = np.abs(reference).max()
    assert scale > 0
    np.testing.assert_allclose(fast, reference, rtol=0, atol=2e-5 * scale)


def test_fp16_builds_a_float16_model():
  with tf.Graph().as_default():
    logits = cifar10.inference(_images(2, tf.float16))
    assert logits.dtype == tf.float16
    assert all(v.dtype.base_dtype == tf.float16
               for v in tf.compat.v1.trainable_variables())
