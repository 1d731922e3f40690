"""TF1-style code: the original's calls, and TensorFlow 2's behaviours switched off.

Most of the suite also runs with TF2 behaviour off (CIFAR10_TEST_MODE=v1, see
conftest.py); these tests pin down what is particular to that: the mode
itself, the original tutorial's calls, and checkpoints crossing modes.
"""

import gc
import inspect
import math
import os
import textwrap

import numpy as np
import tensorflow as tf

import pytest

from cifar10 import cifar10
from cifar10 import dist_train
from cifar10 import eval as cifar10_eval
import cifar10.train as train
from cifar10.support import flags
from conftest import both_modes, crafted_record, OTHER_TF_MODE, python_args
from conftest import summary_values
from conftest import TF_MODE, TF_MODES  # pylint: disable=g-multiple-import


@pytest.mark.fast
@both_modes
def test_tests_run_in_the_tensorflow_mode_asked_for():
  v2 = TF_MODE == 'v2'
  assert tf.executing_eagerly() == v2
  assert tf.compat.v1.resource_variables_enabled() == v2
  assert tf.compat.v1.control_flow_v2_enabled() == v2
  assert isinstance(tf.TensorShape([3])[0], int) == v2
  with tf.Graph().as_default():
    variable = tf.compat.v1.get_variable('v', [1])
  assert ('ResourceVariable' in type(variable).__name__) == v2


@both_modes
def test_the_original_calls_default_to_the_original_flags():
  # What the original read from its flags are parameters with those defaults.
  defaults = flags.base_parser('cifar10.eval', '').parse_args([])
  expected = {'data_dir': defaults.data_dir, 'batch_size': defaults.batch_size,
              'use_fp16': defaults.use_fp16}
  assert expected == {'data_dir': '/tmp/cifar10_data', 'batch_size': 128,
                      'use_fp16': False}
  for function in (cifar10.distorted_inputs, cifar10.inputs, cifar10.train,
                   cifar10.maybe_download_and_extract):
    parameters = inspect.signature(function).parameters
    for name, value in expected.items():
      if name in parameters:
        assert parameters[name].default == value, (function.__name__, name)
  # The calls the original's trainer and evaluator make bind as they are.
  inspect.signature(cifar10.distorted_inputs).bind()
  inspect.signature(cifar10.inputs).bind(True)
  inspect.signature(cifar10.train).bind('total_loss', 'global_step')
  inspect.signature(cifar10.maybe_download_and_extract).bind()


@pytest.mark.fast
@both_modes
def test_the_original_calls_train_a_step_and_read_eval_batches(
    synthetic_data_dir):
  # The original trainer's graph, call for call; only the data folder is
  # not the default one.
  with tf.Graph().as_default():
    global_step = tf.compat.v1.train.get_or_create_global_step()
    with tf.device('/cpu:0'):
      images, labels = cifar10.distorted_inputs(data_dir=synthetic_data_dir)
    logits = cifar10.inference(images)
    loss = cifar10.loss(logits, labels)
    train_op = cifar10.train(loss, global_step)
    eval_images, eval_labels = cifar10.inputs(True, data_dir=synthetic_data_dir)
    with tf.compat.v1.train.MonitoredTrainingSession() as sess:
      images_value, loss_value, _ = sess.run([images, loss, train_op])
      step, eval_images_value, eval_labels_value = sess.run(
          [global_step, eval_images, eval_labels])
  assert images_value.shape == (128, 24, 24, 3)
  assert step == 1 and math.isfinite(loss_value)
  assert eval_images_value.shape == (128, 24, 24, 3)
  raw = np.fromfile(os.path.join(synthetic_data_dir, 'cifar-10-batches-bin',
                                 'test_batch.bin'), np.uint8).reshape(-1, 3073)
  np.testing.assert_array_equal(eval_labels_value, raw[:128, 0])


@pytest.mark.fast
@both_modes
def test_cluster_graph_puts_variables_on_the_ps_tasks(synthetic_data_dir):
  cluster = {'ps': ['ps0:1', 'ps1:1'], 'worker': ['w0:1', 'w1:1']}
  sync = []

  def wrap_optimizer(optimizer):
    sync.append(tf.compat.v1.train.SyncReplicasOptimizer(
        optimizer, replicas_to_aggregate=2, total_num_replicas=2))
    return sync[0]

  with tf.Graph().as_default():
    with tf.compat.v1.device(dist_train.worker_device_setter(cluster, 1)):
      train_op, loss, _ = train.build_graph(synthetic_data_dir, 8, False,
                                            wrap_optimizer)
    sync[0].make_session_run_hook(is_chief=True)
    devices = {v.op.name: v.device for v in tf.compat.v1.global_variables()}
  # The optimizer's graph is never run, so TensorFlow complains of an unused
  # tensor when it is collected: collect it now, while pytest captures the
  # complaint, not at exit, where it would follow the suite's summary.
  sync.clear()
  gc.collect()
  # Every variable on a ps task (both used), everything else on the worker.
  assert 'conv1/weights' in devices and 'global_step' in devices
  assert {device.split('/device:')[0] for device in devices.values()} == {
      '/job:ps/task:0', '/job:ps/task:1'}
  assert train_op.device == loss.device == '/job:worker/task:1'


def _figures(eval_dir):
  """The evaluator's figures: precision @ 1, each class's recall and precision."""
  return {value.tag: value.simple_value
          for _, value in summary_values(eval_dir)
          if value.tag.startswith(('Precision @ 1', 'recall/', 'precision/'))}


@both_modes
def test_checkpoint_evaluates_alike_in_the_other_tensorflow_mode(
    trained_dir, synthetic_data_dir, tmp_path, children):
  # trained_dir was written in this process's mode (the fixture trains
  # in-process); the child evaluates it in the other mode.
  common = ['--data_dir', synthetic_data_dir, '--checkpoint_dir', trained_dir,
            '--run_once', '--batch_size', '64']
  here, there = str(tmp_path / TF_MODE), str(tmp_path / OTHER_TF_MODE)
  assert cifar10_eval.main(common + ['--eval_dir', here]) == 0
  child = children(*python_args(OTHER_TF_MODE, 'cifar10.eval', *common,
                                '--eval_dir', there))
  status, output = child.finish()
  assert status == 0, output[-3000:]
  figures = _figures(here)
  # Overall, and each of the 10 classes' recall; precision where predicted.
  assert len([tag for tag in figures if tag.startswith('recall/')]) == 10
  assert _figures(there) == figures
  assert figures['Precision @ 1'] > 0.7


_TENSORSHAPE_ONLY = textwrap.dedent('''
    import sys
    import tensorflow as tf
    tf.compat.v1.disable_v2_tensorshape()
    from cifar10 import eval  # pylint: disable=redefined-builtin
    import cifar10.train as train
    data_dir, train_dir, eval_dir = sys.argv[1:]
    assert train.main(['--data_dir', data_dir, '--train_dir', train_dir,
                       '--max_steps', '2', '--batch_size', '8']) == 0
    assert eval.main(['--data_dir', data_dir, '--checkpoint_dir', train_dir,
                      '--eval_dir', eval_dir, '--run_once']) == 0
''')


def test_v1_shapes_alone_train_and_evaluate(synthetic_data_dir, tmp_path,
                                            children):
  # disable_v2_tensorshape() without the other switches: shapes of
  # Dimensions with eager execution and resource variables on. A mode of its
  # own, so a child process of its own (whatever this process's mode).
  child = children('-c', _TENSORSHAPE_ONLY, synthetic_data_dir,
                   str(tmp_path / 'train'), str(tmp_path / 'eval'))
  status, output = child.finish()
  assert status == 0, output[-3000:]
  assert 'precision @ 1 = ' in output
  assert tf.train.latest_checkpoint(str(tmp_path / 'train')).endswith('-2')


# Computes, in the mode given as its first argument, the network's logits and
# gradients for fixed weights and images (fast and reference ops), and the
# first evaluation batch, and saves them to the .npz file named second.
_VALUES = textwrap.dedent('''
    import sys
    import numpy as np
    import tensorflow as tf
    if sys.argv[1] == 'v1':
      tf.compat.v1.disable_v2_behavior()
    from cifar10 import cifar10
    rng = np.random.default_rng(7)
    images = rng.normal(size=(8, 24, 24, 3)).astype(np.float32)
    labels = rng.integers(0, 10, size=8)
    fetches = {}
    with tf.Graph().as_default():
      for reference_ops in (False, True):
        with tf.compat.v1.variable_scope('', reuse=tf.compat.v1.AUTO_REUSE):
          logits = cifar10.inference(tf.constant(images), reference_ops)
        loss = cifar10.loss(logits, tf.constant(labels))
        variables = tf.compat.v1.trainable_variables()
        fetches['logits_%s' % reference_ops] = logits
        for var, grad in zip(variables, tf.gradients(loss, variables)):
          fetches['%s_%s' % (var.op.name, reference_ops)] = grad
      eval_images, eval_labels = cifar10.inputs(True, sys.argv[3], 16)
      fetches.update(eval_images=eval_images, eval_labels=eval_labels)
      with tf.compat.v1.Session() as sess:
        for var in variables:
          var.load(rng.normal(0, 0.05, var.shape.as_list()), sess)
        np.savez(sys.argv[2], **sess.run(fetches))
''')


def test_both_modes_compute_the_same_values(synthetic_data_dir, tmp_path,
                                            children):
  # One child per mode (a mode is process-wide), whatever this process's.
  paths = {mode: str(tmp_path / (mode + '.npz')) for mode in TF_MODES}
  started = [children('-c', _VALUES, mode, paths[mode], synthetic_data_dir)
             for mode in TF_MODES]
  for child in started:
    status, output = child.finish()
    assert status == 0, output[-3000:]
  values = {mode: dict(np.load(path)) for mode, path in paths.items()}
  assert len(values['v1']) == len(values['v2']) == 2 + 2 * 11
  np.testing.assert_array_equal(values['v1']['eval_images'],
                                values['v2']['eval_images'])
  np.testing.assert_array_equal(values['v1']['eval_labels'],
                                values['v2']['eval_labels'])
  for name, value in values['v2'].items():
    scale = np.abs(value).max()
    assert scale > 0, name
    np.testing.assert_allclose(values['v1'][name], value, rtol=0,
                               atol=1e-5 * scale, err_msg=name)


# A user's TensorFlow 2 script, eager as TensorFlow 2 starts: it calls the
# original's two input functions and iterates the dataset their docs point
# eager code to, then saves what it got to the .npz file named first.
_EAGER_CALLER = textwrap.dedent('''
    import os
    import sys
    import numpy as np
    import tensorflow as tf
    import cifar10
    from cifar10 import cifar10_input
    out, data_dir = sys.argv[1:]
    assert tf.executing_eagerly()
    found = {}
    found['eval_images'], found['eval_labels'] = cifar10.inputs(
        True, data_dir=data_dir, batch_size=4)
    found['train_images'], found['train_labels'] = cifar10.distorted_inputs(
        data_dir=data_dir, batch_size=4, use_fp16=True)
    found['all_eval_labels'] = np.concatenate([
        labels for _, labels in cifar10_input.eval_dataset(
            True, os.path.join(data_dir, 'cifar-10-batches-bin'), 4)])
    np.savez(out, **{name: np.asarray(value) for name, value in found.items()})
''')


def _colour(label):
  """The solid colour of the crafted records with `label`."""
  return (20 * label, 255 - 20 * label, 100 + 10 * label)


def _standardized(colour):
  """A solid-colour image after any distortions and per-image standardization.

  Every pixel has the same three values, so cropping, flipping, brightness
  and contrast change nothing that survives the standardization.
  """
  values = np.array(colour, np.float64)
  return (values - values.mean()) / values.std()


@pytest.mark.fast
def test_the_input_calls_return_batches_in_an_eager_tf2_script(tmp_path,
                                                               children):
  folder = tmp_path / 'cifar-10-batches-bin'
  folder.mkdir()
  test_labels = [3, 1, 4, 1, 5, 9]
  (folder / 'test_batch.bin').write_bytes(b''.join(
      crafted_record(label, *_colour(label)) for label in test_labels))
  train_labels = {}
  for number in range(1, 6):
    labels = [2 * number - 2, 2 * number - 1]
    train_labels.update((label, _colour(label)) for label in labels)
    (folder / ('data_batch_%d.bin' % number)).write_bytes(b''.join(
        crafted_record(label, *_colour(label)) for label in labels))
  out = str(tmp_path / 'found.npz')
  status, output = children('-c', _EAGER_CALLER, out, str(tmp_path)).finish()
  assert status == 0, output[-3000:]
  found = dict(np.load(out))

  # inputs: the first batch of the test file, in order, centrally cropped.
  assert found['eval_images'].shape == (4, 24, 24, 3)
  assert found['eval_images'].dtype == np.float32
  assert found['eval_labels'].dtype == np.int32
  assert found['eval_labels'].tolist() == test_labels[:4]
  for image, label in zip(found['eval_images'], found['eval_labels']):
    np.testing.assert_allclose(image, np.broadcast_to(
        _standardized(_colour(label)), image.shape), atol=1e-5)
  # distorted_inputs: four training records, distorted, in float16.
  assert found['train_images'].shape == (4, 24, 24, 3)
  assert found['train_images'].dtype == np.float16
  assert set(found['train_labels'].tolist()) <= set(train_labels)
  for image, label in zip(found['train_images'], found['train_labels']):
    np.testing.assert_allclose(image, np.broadcast_to(
        _standardized(train_labels[label]), image.shape), atol=2e-3)
  # The dataset eager code iterates: every test record, once, in order.
  assert found['all_eval_labels'].tolist() == test_labels
