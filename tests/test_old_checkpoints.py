"""Checkpoints in TensorFlow's first (V1) format, and folders without an index.

A V1 checkpoint is one file named like its prefix (model.ckpt-300), as
Savers wrote before TensorFlow 1.0. The folder made here holds two of them,
converted from the trained run's own checkpoints, and no `checkpoint` index
file, as when checkpoints are copied by hand.
"""

import os
import re

import pytest
import tensorflow as tf

from cifar10 import eval as cifar10_eval
from cifar10 import export
from cifar10 import predict
import cifar10.train as train
from conftest import checkpoint_step

pytestmark = pytest.mark.fast


def _save_as_v1(prefix, folder):
  """Writes the variables of checkpoint `prefix` into `folder` in V1 format."""
  reader = tf.compat.v1.train.NewCheckpointReader(prefix)
  step = checkpoint_step(prefix)
  with tf.Graph().as_default():
    variables = [tf.compat.v1.Variable(reader.get_tensor(name), name=name)
                 for name in reader.get_variable_to_shape_map()]
    saver = tf.compat.v1.train.Saver(
        variables, write_version=tf.compat.v1.train.SaverDef.V1)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      return saver.save(session, os.path.join(folder, 'model.ckpt'),
                        global_step=step, write_meta_graph=False)


@pytest.fixture(scope='module')
def old_folder(trained_dir, tmp_path_factory):
  """A folder of two V1 checkpoints of the trained run, without an index."""
  folder = str(tmp_path_factory.mktemp('old_checkpoints'))
  kept = tf.train.get_checkpoint_state(trained_dir).all_model_checkpoint_paths
  for prefix in kept[-2:]:
    _save_as_v1(prefix, folder)
  os.remove(os.path.join(folder, 'checkpoint'))
  assert sorted(os.listdir(folder)) == sorted(
      os.path.basename(prefix) for prefix in kept[-2:])
  return folder


def _precision(output, prefix):
  """The precision @ 1 the evaluator printed for checkpoint `prefix`."""
  [value] = re.findall(r'%s \(global step \d+\) on \d+ test images: '
                       r'precision @ 1 = ([\d.]+)'
                       % re.escape(prefix), output)
  return float(value)


def _evaluate(capsys, synthetic_data_dir, tmp_path, checkpoint_dir, *flags):
  assert cifar10_eval.main([
      '--data_dir', synthetic_data_dir, '--checkpoint_dir', checkpoint_dir,
      '--eval_dir', str(tmp_path / 'eval'), '--num_examples', '250'] +
                           list(flags)) == 0
  return capsys.readouterr()


def test_a_v1_checkpoint_scores_what_its_v2_original_scores(
    old_folder, trained_dir, synthetic_data_dir, tmp_path, capsys):
  original = tf.train.latest_checkpoint(trained_dir)
  converted = os.path.join(old_folder, os.path.basename(original))
  new = _evaluate(capsys, synthetic_data_dir, tmp_path / 'a', original,
                  '--run_once')
  old = _evaluate(capsys, synthetic_data_dir, tmp_path / 'b', converted,
                  '--run_once')
  assert _precision(old.out, converted) == _precision(new.out, original)


def test_a_folder_without_an_index_is_read_by_step_numbers(
    old_folder, trained_dir, synthetic_data_dir, tmp_path, capsys):
  newest = os.path.join(old_folder, os.path.basename(
      tf.train.latest_checkpoint(trained_dir)))
  shown = _evaluate(capsys, synthetic_data_dir, tmp_path, old_folder,
                    '--run_once')
  assert ('notice: --checkpoint_dir %s has no checkpoint index file: reading '
          'its checkpoints by the step numbers in their names (the newest is '
          '%s).' % (old_folder, os.path.basename(newest))) in shown.err
  assert _precision(shown.out, newest) > 0.9
  every = _evaluate(capsys, synthetic_data_dir, tmp_path, old_folder,
                    '--all_checkpoints')
  # The step-300 evaluation above counts as done.
  assert ('1 of the 2 checkpoints in %s have no result in %s yet.'
          % (old_folder, tmp_path / 'eval')) in every.out


def test_predict_and_export_take_a_v1_checkpoint(
    old_folder, synthetic_data_dir, tmp_path, capsys):
  image = os.path.join(tmp_path, 'red.png')
  from PIL import Image
  Image.new('RGB', (32, 32), (220, 10, 10)).save(image)
  assert predict.main([image, '--checkpoint_dir', old_folder]) == 0
  assert capsys.readouterr().out.splitlines()[1].startswith(image + ': ')
  assert export.main(['--checkpoint_dir', old_folder, '--export_dir',
                      str(tmp_path / 'model')]) == 0
  assert os.path.isfile(tmp_path / 'model' / 'saved_model.pb')


def test_training_into_a_folder_of_unlisted_checkpoints_is_refused(
    old_folder, synthetic_data_dir, capsys):
  before = sorted(os.listdir(old_folder))
  with pytest.raises(SystemExit) as exit_info:
    train.main(['--data_dir', synthetic_data_dir, '--train_dir', old_folder,
                '--max_steps', '1'])
  assert exit_info.value.code == 2
  names = ', '.join(before)
  assert ('--train_dir %s holds checkpoints (%s) but no checkpoint index '
          'file, so training would start a new run among them. Give a new '
          '--train_dir; to evaluate, predict with or export them, give them '
          'as --checkpoint_dir %s.' % (old_folder, names, old_folder)
          ) in capsys.readouterr().err
  assert sorted(os.listdir(old_folder)) == before
