"""A checkpoint that does not fit the graph: one line naming why, or adapted to.

Covers every way a checkpoint can disagree with the graph about to restore it
(dtype, shape, a missing variable, a missing moving average, an extra
variable), for training and for the tools that restore moving averages, and
float16 checkpoints that the evaluator, predict and export adapt to.
"""

import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from cifar10 import cifar10
from cifar10 import eval as cifar10_eval
from cifar10 import export
from cifar10 import predict
import cifar10.train as train
from cifar10.support import checkpoints
from cifar10.support import errors
from cifar10.support import script
from conftest import latest_step
from test_use_model import _test_records, _write_pngs


def _snapshot(folder):
  """Every file in `folder` with its bytes and modification time."""
  return {name: (open(os.path.join(folder, name), 'rb').read(),
                 os.path.getmtime(os.path.join(folder, name)))
          for name in sorted(os.listdir(folder))}


@pytest.fixture(scope='module')
def fp16_dir(synthetic_data_dir, tmp_path_factory):
  """A --train_dir after 2 steps of `cifar10.train --use_fp16`."""
  train_dir = str(tmp_path_factory.mktemp('fp16_train'))
  assert train.main(['--data_dir', synthetic_data_dir, '--train_dir',
                     train_dir, '--max_steps', '2', '--batch_size', '4',
                     '--use_fp16', '--seed', '1']) == 0
  return train_dir


@pytest.mark.parametrize('source,extra,held,wanted,advice', [
    ('fp16', [], 'float16', 'float32', 'add --use_fp16 to use it'),
    ('fp32', ['--use_fp16'], 'float32', 'float16',
     'leave --use_fp16 out to use it')], ids=['fp16-run', 'fp32-run'])
def test_training_in_the_other_dtype_names_the_flag_and_writes_nothing(
    source, extra, held, wanted, advice, fp16_dir, trained_dir,
    synthetic_data_dir, tmp_path, capsys):
  train_dir = str(tmp_path / 'train')
  shutil.copytree(fp16_dir if source == 'fp16' else trained_dir, train_dir)
  before = _snapshot(train_dir)
  step = latest_step(train_dir)
  status = script.run(train.main, [
      '--data_dir', synthetic_data_dir, '--train_dir', train_dir,
      '--max_steps', str(step + 5), '--batch_size', '4'] + extra)
  message = capsys.readouterr().err.strip()
  assert status == 1
  assert '\n' not in message
  assert message.startswith('error: Checkpoint %s does not fit this graph: '
                            'it holds conv1/weights as %s [5, 5, 3, 64], the '
                            'graph wants %s [5, 5, 3, 64]' % (
                                os.path.join(train_dir, 'model.ckpt-%d' % step),
                                held, wanted))
  assert advice in message and '--fresh' in message
  assert _snapshot(train_dir) == before


def test_eval_predict_and_export_build_a_float16_checkpoint_in_float16(
    fp16_dir, synthetic_data_dir, tmp_path, capsys):
  checkpoint = os.path.join(fp16_dir, 'model.ckpt-2')
  notice = ('notice: checkpoint %s holds float16 variables (it was trained '
            'with --use_fp16): building the model in float16 to match.'
            % checkpoint)
  assert cifar10_eval.main([
      '--data_dir', synthetic_data_dir, '--checkpoint_dir', fp16_dir,
      '--eval_dir', str(tmp_path / 'eval'), '--run_once',
      '--num_examples', '8', '--batch_size', '8']) == 0
  captured = capsys.readouterr()
  assert notice in captured.err.splitlines()
  assert 'per class, of 8 images' in captured.out

  _, images = _test_records(synthetic_data_dir)
  [png] = _write_pngs(str(tmp_path), images[:1])
  assert predict.main(['--json', png, '--checkpoint_dir', fp16_dir]) == 0
  captured = capsys.readouterr()
  assert notice in captured.err.splitlines()
  assert json.loads(captured.out)['checkpoint'] == checkpoint

  export_dir = str(tmp_path / 'model')
  assert export.main(['--checkpoint_dir', fp16_dir,
                      '--export_dir', export_dir]) == 0
  assert notice in capsys.readouterr().err.splitlines()
  serving = tf.saved_model.load(export_dir).signatures['serving_default']
  probabilities = serving(images=tf.constant(images[:2]))['probabilities']
  assert probabilities.dtype == tf.float32
  np.testing.assert_allclose(np.sum(probabilities.numpy(), axis=1), 1,
                             rtol=1e-3)


@pytest.mark.fast
def test_eval_with_use_fp16_builds_a_float32_checkpoint_in_float32(
    trained_dir, synthetic_data_dir, tmp_path, capsys):
  assert cifar10_eval.main([
      '--data_dir', synthetic_data_dir, '--checkpoint_dir', trained_dir,
      '--eval_dir', str(tmp_path), '--run_once', '--use_fp16',
      '--num_examples', '64', '--batch_size', '64']) == 0
  assert ('notice: --use_fp16 is given, but checkpoint %s holds float32 '
          'variables: building the model in float32 to match.'
          % os.path.join(trained_dir, 'model.ckpt-300')) in \
      capsys.readouterr().err.splitlines()


def _save(path, tensors):
  """Writes a checkpoint holding exactly `tensors` (name -> numpy array)."""
  with tf.Graph().as_default():
    variables = {name: tf.compat.v1.Variable(value)
                 for name, value in tensors.items()}
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      tf.compat.v1.train.Saver(variables).save(sess, path)
  return path


def _tensors(checkpoint):
  reader = tf.train.load_checkpoint(checkpoint)
  return {name: reader.get_tensor(name)
          for name in reader.get_variable_to_shape_map()}


AVERAGE = '/ExponentialMovingAverage'


def _without(*names):
  return lambda tensors: {k: v for k, v in tensors.items() if k not in names}


def _with(name, value):
  return lambda tensors: dict(tensors, **{name: value})


MUTATIONS = {
    'missing-variable': (
        _without('local4/biases', 'local4/biases' + AVERAGE),
        'it lacks local4/biases%s, which the graph wants as float32 [192]'
        % AVERAGE),
    'missing-average': (
        _without('conv2/weights' + AVERAGE),
        'it has conv2/weights but not its moving average conv2/weights%s, '
        'which the graph restores (wanted as float32 [5, 5, 64, 64])'
        % AVERAGE),
    'shape': (
        _with('softmax_linear/weights' + AVERAGE, np.zeros([192, 11],
                                                           np.float32)),
        'it holds softmax_linear/weights%s as float32 [192, 11], the graph '
        'wants float32 [192, 10]' % AVERAGE),
    'dtype': (
        _with('local3/biases' + AVERAGE, np.zeros([384], np.float16)),
        'it holds local3/biases%s as float16 [384], the graph wants float32 '
        '[384]' % AVERAGE),
    # Another network's, saved without averages: its own shape is named
    # (it said "has conv1/weights but not its moving average"), and not
    # --raw_weights, which would not fit either.
    'another-network-without-averages': (
        lambda tensors: _with('conv1/weights', np.zeros([3, 3, 3, 8],
                                                        np.float32))(
            {name: value for name, value in tensors.items()
             if not name.endswith(AVERAGE)}),
        'it holds conv1/weights as float32 [3, 3, 3, 8], the graph wants '
        'float32 [5, 5, 3, 64] (and 9 more variables differ)'),
    'extra-variable': (
        _with('conv3/weights' + AVERAGE, np.zeros([3, 3, 64, 64], np.float32)),
        'it holds conv3/weights%s as float32 [3, 3, 64, 64], which the graph '
        'has no variable for' % AVERAGE),
}


@pytest.mark.fast
@pytest.mark.parametrize('mutation', sorted(MUTATIONS))
def test_restoring_averages_names_the_first_variable_that_does_not_fit(
    mutation, trained_dir, tmp_path):
  change, description = MUTATIONS[mutation]
  path = _save(str(tmp_path / 'model.ckpt-300'),
               change(_tensors(os.path.join(trained_dir, 'model.ckpt-300'))))
  with tf.Graph().as_default():
    images = tf.compat.v1.placeholder(tf.float32, [None, 24, 24, 3])
    cifar10.inference(images)
    with tf.compat.v1.Session() as sess:
      with pytest.raises(errors.UserError) as raised:
        checkpoints.restore_weights(
            sess, checkpoints.read_checkpoint(
                path, checkpoints.POINT_AT_TRAINING_RUN),
            cifar10.variables_to_restore())
  assert str(raised.value) == (
      'Checkpoint %s does not fit this graph: %s. %s'
      % (path, description, checkpoints.POINT_AT_TRAINING_RUN))


@pytest.mark.fast
def test_training_refuses_a_checkpoint_with_an_extra_variable(
    trained_dir, synthetic_data_dir, tmp_path):
  train_dir = str(tmp_path / 'run')
  os.makedirs(train_dir)
  tensors = _tensors(os.path.join(trained_dir, 'model.ckpt-300'))
  tensors['conv3/weights'] = np.zeros([3, 3, 64, 64], np.float32)
  path = _save(os.path.join(train_dir, 'model.ckpt-300'), tensors)
  tf.compat.v1.train.update_checkpoint_state(train_dir, path)
  before = _snapshot(train_dir)
  with pytest.raises(errors.UserError) as raised:
    train.main(['--data_dir', synthetic_data_dir, '--train_dir', train_dir,
                '--max_steps', '310', '--batch_size', '4'])
  # Another network's checkpoint, likely a model someone wants: --fresh,
  # which deletes it, is not the advice it leads with.
  assert str(raised.value) == (
      'Checkpoint %s does not fit this graph: it holds conv3/weights as '
      'float32 [3, 3, 64, 64], which the graph has no variable for. '
      'Training will not write over it: give this run another --train_dir, '
      'a new folder; --fresh would start over here by deleting that '
      'checkpoint, the others beside it and the folder\'s event files.'
      % path)
  assert _snapshot(train_dir) == before
  assert train.main(['--data_dir', synthetic_data_dir, '--train_dir',
                     str(tmp_path / 'new'), '--max_steps', '1',
                     '--batch_size', '4']) == 0
  assert _snapshot(train_dir) == before


def test_eval_loop_skips_a_checkpoint_that_does_not_fit_and_keeps_waiting(
    trained_dir, synthetic_data_dir, tmp_path, children):
  train_dir = str(tmp_path / 'train')
  os.makedirs(train_dir)
  tensors = _tensors(os.path.join(trained_dir, 'model.ckpt-300'))
  # Another network's checkpoint: a newer one of its run would not fit
  # either, so the line does not say to wait for one.
  misfit = _save(os.path.join(train_dir, 'model.ckpt-100'), _with(
      'conv1/weights' + AVERAGE, np.zeros([3, 3, 3, 8], np.float32))(tensors))
  tf.compat.v1.train.update_checkpoint_state(train_dir, misfit)
  evaluator = children('-m', 'cifar10.eval', '--data_dir', synthetic_data_dir,
                       '--checkpoint_dir', train_dir, '--eval_dir',
                       str(tmp_path / 'eval'), '--eval_interval_secs', '1',
                       '--batch_size', '50')
  evaluator.wait_for(r': skipped: Checkpoint %s does not fit this graph: it '
                     r'holds conv1/weights%s as float32 \[3, 3, 3, 8\], the '
                     r'graph wants float32 \[5, 5, 3, 64\]\. Point '
                     r'--checkpoint_dir at the --train_dir of a training '
                     r'run\.$' % (misfit, AVERAGE))
  # An index naming a checkpoint that is not there (yet): the run's next
  # save mends it, as the line says.
  tf.compat.v1.train.update_checkpoint_state(
      train_dir, os.path.join(train_dir, 'model.ckpt-200'))
  evaluator.wait_for(r': skipped: .* names a checkpoint that is not there.* '
                     r'Or let that run save a new checkpoint\.$')
  for name in os.listdir(trained_dir):
    if name.startswith('model.ckpt-300.'):
      shutil.copy(os.path.join(trained_dir, name), train_dir)
  tf.compat.v1.train.update_checkpoint_state(
      train_dir, os.path.join(train_dir, 'model.ckpt-300'))
  evaluator.wait_for(r': precision @ 1 = ')
  evaluator.kill()
  assert 'Traceback' not in ''.join(evaluator.lines)
