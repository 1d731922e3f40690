"""--raw_weights, and the advice about checkpoints that are not there, followed.

A checkpoint written by another trainer holds the weights but none of the
moving averages the tools restore by default. The tests write one from the
trained run's raw variables, check that the refusal names --raw_weights,
follow that advice in eval, predict and export, and compare the results
with a forward pass built here from tf.nn ops over the same raw weights.
"""

import contextlib
import io
import json
import os

import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from cifar10 import cifar10_input
from cifar10 import eval as cifar10_eval
from cifar10 import export
from cifar10 import predict
import cifar10.train as train
from cifar10.support import checkpoints
from cifar10.support import errors
from conftest import both_modes, serve_exported
from test_checkpoint_fit import _save, _tensors
from test_use_model import _test_records

# The fast lane (docs/testing.md): the whole file.
pytestmark = pytest.mark.fast

AVERAGE = '/ExponentialMovingAverage'


def _raw_only(trained_dir, folder, keep_global_step=True):
  """A run folder whose one checkpoint holds the raw weights alone."""
  tensors = _tensors(os.path.join(trained_dir, 'model.ckpt-300'))
  kept = {name: value for name, value in tensors.items()
          if not name.endswith((AVERAGE, '/avg')) and
          (keep_global_step or name != 'global_step')}
  path = _save(os.path.join(folder, 'model.ckpt-300'), kept)
  tf.compat.v1.train.update_checkpoint_state(folder, path)
  return path, kept


def _reference_logits(weights, images):
  """The network over `weights` (name -> array) from tf.nn ops, in float32.

  Written from the tutorial's layer list, apart from cifar10.inference: the
  central 24x24 crop standardized as tf.image.per_image_standardization
  does, then conv1, pool1, norm1, conv2, norm2, pool2, local3, local4 and
  softmax_linear.
  """
  cropped = images[:, 4:28, 4:28].astype(np.float64)
  pixels = cropped[0].size
  mean = cropped.mean(axis=(1, 2, 3), keepdims=True)
  deviation = np.maximum(cropped.std(axis=(1, 2, 3), keepdims=True),
                         1.0 / np.sqrt(pixels))
  x = tf.constant(((cropped - mean) / deviation).astype(np.float32))

  def conv(x, layer):
    return tf.nn.relu(tf.nn.conv2d(x, weights[layer + '/weights'], 1, 'SAME')
                      + weights[layer + '/biases'])

  def pool(x):
    return tf.nn.max_pool2d(x, 3, 2, 'SAME')

  def norm(x):
    return tf.nn.lrn(x, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)

  def dense(x, layer):
    return tf.matmul(x, weights[layer + '/weights']) + weights[layer +
                                                              '/biases']

  x = norm(pool(conv(x, 'conv1')))
  x = pool(norm(conv(x, 'conv2')))
  x = tf.reshape(x, [len(images), -1])
  x = tf.nn.relu(dense(x, 'local3'))
  x = tf.nn.relu(dense(x, 'local4'))
  return dense(x, 'softmax_linear')


def _run_reference(weights, images):
  with tf.Graph().as_default():
    logits = _reference_logits(weights, images)
    with tf.compat.v1.Session() as sess:
      return sess.run(logits)


@pytest.fixture(scope='module')
def raw_run(trained_dir, tmp_path_factory):
  """(folder, checkpoint, raw weights) of a run saved without averages."""
  folder = str(tmp_path_factory.mktemp('raw_only'))
  path, weights = _raw_only(trained_dir, folder)
  return folder, path, weights


def _no_averages_message(path):
  return ('Checkpoint %s holds the trained variables but none of their '
          'moving averages (it has conv1/weights but not conv1/weights%s, nor '
          'any of the 10 averages). Add --raw_weights to use its variables as '
          'trained.' % (path, AVERAGE))


def test_eval_without_averages_names_raw_weights_and_following_it_works(
    raw_run, synthetic_data_dir, tmp_path, capsys):
  folder, path, _ = raw_run
  common = ['--data_dir', synthetic_data_dir, '--checkpoint_dir', folder,
            '--eval_dir', str(tmp_path), '--run_once']
  with pytest.raises(errors.UserError) as raised:
    cifar10_eval.main(common)
  assert str(raised.value) == _no_averages_message(path)
  capsys.readouterr()
  assert cifar10_eval.main(common + ['--raw_weights']) == 0
  captured = capsys.readouterr()
  assert ('notice: --raw_weights: restoring the variables of %s as trained, '
          'not their moving averages (which the tutorial evaluates).\n'
          % path) in captured.err
  # The result line names the weights it scored.
  assert ' on 250 test images, raw weights: precision @ 1 = ' in captured.out


@both_modes
def test_raw_weights_eval_equals_a_forward_pass_over_the_raw_weights(
    raw_run, trained_dir, synthetic_data_dir, tmp_path):
  folder, path, weights = raw_run
  labels, images = _test_records(synthetic_data_dir)
  with tf.Graph().as_default():
    writer = tf.compat.v1.summary.FileWriter(str(tmp_path))
  with contextlib.redirect_stdout(io.StringIO()):
    result = cifar10_eval.eval_once(path, 'test', synthetic_data_dir, 50,
                                    len(labels), False, writer,
                                    raw_weights=True)
    # The full training checkpoint holds the same raw weights beside the
    # averages; --raw_weights reads those, not the averages.
    full = cifar10_eval.eval_once(os.path.join(trained_dir, 'model.ckpt-300'),
                                  'test', synthetic_data_dir, 50, len(labels),
                                  False, writer, raw_weights=True)
  writer.close()
  expected = np.argmax(_run_reference(weights, images), axis=1)
  assert result.global_step == 300
  np.testing.assert_array_equal(result.labels, labels)
  np.testing.assert_array_equal(result.predictions, expected)
  assert result.top_1_accuracy == np.mean(expected == labels)
  np.testing.assert_array_equal(full.predictions, expected)


@both_modes
def test_predict_and_export_with_raw_weights_compute_the_raw_network(
    raw_run, synthetic_data_dir, tmp_path, capsys):
  folder, path, weights = raw_run
  _, images = _test_records(synthetic_data_dir)
  images = images[:8]
  reference = _run_reference(weights, images)
  probabilities = np.exp(reference) / np.exp(reference).sum(1, keepdims=True)

  for command in (predict.main, export.main):
    with pytest.raises(errors.UserError) as raised:
      command(['--checkpoint_dir', folder, '--export_dir',
               str(tmp_path / 'refused')] if command is export.main else
              ['x.png', '--checkpoint_dir', folder])
    assert str(raised.value) == _no_averages_message(path)

  pngs = []
  for index, image in enumerate(images):
    pngs.append(str(tmp_path / ('%d.png' % index)))
    Image.fromarray(image).save(pngs[-1])
  capsys.readouterr()
  assert predict.main(pngs + ['--json', '--top_k', '10', '--raw_weights',
                              '--checkpoint_dir', folder]) == 0
  captured = capsys.readouterr()
  assert 'notice: --raw_weights: restoring the variables of %s' % path in \
      captured.err
  for entry, row in zip(json.loads(captured.out)['results'], probabilities):
    by_class = {p['class']: p['probability'] for p in entry['predictions']}
    np.testing.assert_allclose(
        [by_class[name] for name in cifar10_input.CLASS_NAMES], row,
        rtol=1e-4, atol=1e-6)

  export_dir = str(tmp_path / 'model')
  assert export.main(['--checkpoint_dir', folder, '--export_dir', export_dir,
                      '--raw_weights']) == 0
  assert 'Exported %s (raw weights) to %s' % (path, export_dir) in \
      capsys.readouterr().out
  outputs = serve_exported(export_dir, images)
  np.testing.assert_allclose(outputs['logits'], reference,
                             rtol=1e-4, atol=1e-4 * np.abs(reference).max())


def test_a_checkpoint_without_global_step_is_recorded_at_step_0(
    trained_dir, synthetic_data_dir, tmp_path, capsys):
  path, _ = _raw_only(trained_dir, str(tmp_path / 'run'),
                      keep_global_step=False)
  assert cifar10_eval.main([
      '--data_dir', synthetic_data_dir, '--checkpoint_dir', path,
      '--eval_dir', str(tmp_path / 'eval'), '--raw_weights',
      '--num_examples', '50', '--batch_size', '50']) == 0
  assert ('notice: checkpoint %s holds no global_step: its results are '
          'recorded at step 0.' % path) in capsys.readouterr().err


# ---------------------------------------------------------------------------
# A checkpoint that is not there
# ---------------------------------------------------------------------------

def _kept(trained_dir):
  return [os.path.basename(path)
          for path in checkpoints.all_checkpoints(trained_dir)]


@pytest.mark.parametrize('given', ['model.ckpt-150', 'model.ckpt-150.index'])
def test_a_checkpoint_that_is_not_there_lists_those_that_are(
    given, trained_dir, synthetic_data_dir, tmp_path, capsys):
  missing = os.path.join(trained_dir, given)
  kept = _kept(trained_dir)
  newest = os.path.join(trained_dir, kept[-1])
  expected = (
      '--checkpoint_dir %s: there is no such checkpoint (mistyped, or deleted '
      'by the run, which keeps only its newest). %s holds %s: give one of '
      'them, such as --checkpoint_dir %s, or --checkpoint_dir %s for the '
      'newest.' % (missing, trained_dir, ', '.join(kept), newest, trained_dir))
  eval_flags = ['--data_dir', synthetic_data_dir, '--eval_dir',
                str(tmp_path / 'eval'), '--run_once', '--num_examples', '50',
                '--batch_size', '50']
  with pytest.raises(errors.UserError) as raised:
    cifar10_eval.main(eval_flags + ['--checkpoint_dir', missing])
  assert str(raised.value) == expected
  with pytest.raises(errors.UserError) as raised:
    predict.main(['x.png', '--checkpoint_dir', missing])
  assert str(raised.value) == expected
  with pytest.raises(errors.UserError) as raised:
    export.main(['--checkpoint_dir', missing, '--export_dir',
                 str(tmp_path / 'model')])
  assert str(raised.value) == expected
  assert not os.path.exists(missing)
  # Both ways out, followed as written.
  capsys.readouterr()
  for way in (newest, trained_dir):
    assert cifar10_eval.main(eval_flags + ['--checkpoint_dir', way]) == 0
    assert 'precision @ 1 = ' in capsys.readouterr().out


def test_a_checkpoint_name_in_no_run_is_refused_without_train_advice(
    tmp_path):
  missing = str(tmp_path / 'run' / 'model.ckpt-150')
  with pytest.raises(errors.UserError) as raised:
    checkpoints.find_checkpoint(missing)
  assert str(raised.value) == (
      '--checkpoint_dir %s: there is no such checkpoint, and %s holds none. '
      'Point --checkpoint_dir at the --train_dir of a training run.'
      % (missing, tmp_path / 'run'))


def test_train_dir_named_like_a_missing_checkpoint_is_refused(
    trained_dir, synthetic_data_dir, capsys):
  missing = os.path.join(trained_dir, 'model.ckpt-150')
  with pytest.raises(SystemExit):
    train.parser().parse_args(['--train_dir', missing])
  assert ('--train_dir %s is named like a checkpoint of the run in %s, and is '
          'not there: give --train_dir %s to resume that run'
          % (missing, trained_dir, trained_dir)) in capsys.readouterr().err
  # Followed: the run resumes (at --max_steps already, it trains nothing).
  assert train.main(['--data_dir', synthetic_data_dir, '--train_dir',
                     trained_dir, '--max_steps', '300']) == 0
  assert 'Nothing to do: the global step in %s is already 300' % trained_dir \
      in capsys.readouterr().out
  assert not os.path.exists(missing)
