"""Your own classes end to end: a 3-class image folder converted, trained,
evaluated, classified and exported, and the checks on class counts and names.
"""

import contextlib
import io
import json
import os
import re
import shlex
import shutil

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from cifar10 import cifar10
from cifar10 import cifar10_input
from cifar10 import convert_images
from cifar10 import eval as cifar10_eval
from cifar10 import export
from cifar10 import predict
import cifar10.train as train
from cifar10.support import batch_files
from cifar10.support import classes
from cifar10.support import errors
from cifar10.support import script
from cifar10.support import training_run
from conftest import (both_modes, serve_exported, summary_values,
                      write_image_folder)
from test_checkpoint_fit import _save
from test_convert_images import SPLITLINES_ONLY

# The fast lane (docs/testing.md): the whole file.
pytestmark = pytest.mark.fast

# Three classes a few hundred steps learn: a colour each, plus noise.
COLOURS = {'blue': (40, 60, 210), 'green': (40, 190, 60), 'red': (210, 40, 40)}
NAMES = tuple(sorted(COLOURS))


@pytest.fixture(scope='module')
def own_data(tmp_path_factory):
  """(SRC, the --data_dir converted from it): 90 training, 30 test images."""
  root = tmp_path_factory.mktemp('own')
  src = str(root / 'images')
  write_image_folder(src, COLOURS, np.random.default_rng(5))
  data_dir = str(root / 'data')
  with contextlib.redirect_stdout(io.StringIO()):
    convert_images.convert(src, data_dir)
  return src, data_dir


@pytest.fixture(scope='module')
def own_run(own_data, tmp_path_factory):
  """A --train_dir after 200 steps of cifar10.train on the 3-class data."""
  _, data_dir = own_data
  train_dir = str(tmp_path_factory.mktemp('own_train'))
  with contextlib.redirect_stdout(io.StringIO()):
    assert train.main([
        '--data_dir', data_dir, '--train_dir', train_dir, '--max_steps',
        '200', '--batch_size', '32', '--initial_learning_rate', '0.05',
        '--seed', '1', '--log_frequency', '100',
        '--save_summaries_steps', '100']) == 0
  return train_dir


def _test_records(data_dir):
  raw = np.fromfile(os.path.join(data_dir, 'cifar-10-batches-bin',
                                 'test_batch.bin'), np.uint8).reshape(-1, 3073)
  return raw[:, 0], raw[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def _evaluate(checkpoint, data_dir, eval_dir):
  with tf.Graph().as_default():
    writer = tf.compat.v1.summary.FileWriter(eval_dir)
  printed = io.StringIO()
  try:
    with contextlib.redirect_stdout(printed):
      result = cifar10_eval.eval_once(checkpoint, 'test', data_dir, 16, 10000,
                                      False, writer)
  finally:
    writer.close()
  return result, printed.getvalue()


# ---------------------------------------------------------------------------
# The model follows the data's classes
# ---------------------------------------------------------------------------

@both_modes
def test_inference_has_one_output_per_class_and_the_originals_variables():
  shapes = {}
  for count in (3, 10):
    with tf.Graph().as_default():
      images = tf.compat.v1.placeholder(tf.float32, [None, 24, 24, 3])
      logits = cifar10.inference(images, num_classes=count)
      assert logits.shape.as_list() == [None, count]
      shapes[count] = {v.op.name: v.shape.as_list()
                       for v in tf.compat.v1.global_variables()}
  assert sorted(shapes[3]) == sorted(shapes[10])
  assert shapes[3]['softmax_linear/weights'] == [192, 3]
  assert shapes[3]['softmax_linear/biases'] == [3]
  assert {name: shape for name, shape in shapes[3].items()
          if not name.startswith('softmax_linear')} == {
              name: shape for name, shape in shapes[10].items()
              if not name.startswith('softmax_linear')}


@both_modes
def test_the_run_records_its_class_names_beside_its_checkpoints(own_data,
                                                                own_run):
  with open(os.path.join(own_run, classes.RUN_FILE), 'rb') as recorded:
    assert recorded.read() == b'blue\ngreen\nred\n'
  checkpoint = tf.train.latest_checkpoint(own_run)
  assert tf.train.load_variable(checkpoint,
                                'softmax_linear/biases').shape == (3,)


@both_modes
def test_three_class_evaluation_counts_match_numpy_on_the_models_predictions(
    own_data, own_run, tmp_path):
  _, data_dir = own_data
  eval_dir = str(tmp_path / 'eval')
  result, printed = _evaluate(tf.train.latest_checkpoint(own_run), data_dir,
                              eval_dir)
  labels, _ = _test_records(data_dir)
  np.testing.assert_array_equal(result.labels, labels)
  predictions = result.predictions
  assert set(np.unique(labels)) == {0, 1, 2}
  assert result.top_1_accuracy >= 0.9  # Chance is 1/3.
  tags = {value.tag: value for _, value in summary_values(eval_dir)}
  lines = printed.splitlines()
  assert '  class  recall                precision' in lines
  for index, name in enumerate(NAMES):
    correct = int(np.sum((labels == index) & (predictions == index)))
    images = int(np.sum(labels == index))
    predicted = int(np.sum(predictions == index))
    assert '  %-5s  %-20s  %s' % (
        name, '%.3f  (%d of %d)' % (correct / images, correct, images),
        '%-5s  (%d of %d)' % ('%.3f' % (correct / predicted) if predicted
                              else '-', correct, predicted)) in lines
    assert tags['recall/' + name].simple_value == np.float32(correct / images)
  assert not [tag for tag in tags if tag.endswith(('/airplane', '/truck'))]
  assert result.confusion_matrix().shape == (3, 3)
  png = tags['confusion_matrix'].image
  assert (png.width, png.height) == (84 + 3 * 36 + 48,) * 2


@both_modes
def test_predict_names_the_runs_classes_for_the_original_image_files(
    own_data, own_run, capsys):
  src, _ = own_data
  files = [os.path.join(src, 'test', name, '%d.png' % index)
           for name in NAMES for index in range(10)]
  assert predict.main(files + ['--json', '--checkpoint_dir', own_run]) == 0
  report = json.loads(capsys.readouterr().out)
  best = [entry['predictions'][0]['class'] for entry in report['results']]
  truth = [name for name in NAMES for _ in range(10)]
  assert np.mean([a == b for a, b in zip(best, truth)]) >= 0.9
  # All three classes are listed (--top_k 3), and no CIFAR-10 name.
  for entry in report['results']:
    assert sorted(p['class'] for p in entry['predictions']) == list(NAMES)


@both_modes
def test_the_exported_model_carries_the_class_names(own_data, own_run,
                                                    tmp_path):
  _, data_dir = own_data
  export_dir = str(tmp_path / 'model')
  with contextlib.redirect_stdout(io.StringIO()):
    assert export.main(['--checkpoint_dir', own_run,
                        '--export_dir', export_dir]) == 0
  with open(os.path.join(export_dir, 'assets.extra', classes.RUN_FILE),
            'rb') as names:
    assert names.read() == b'blue\ngreen\nred\n'
  _, images = _test_records(data_dir)
  outputs = serve_exported(export_dir, images[:8])
  assert outputs['probabilities'].shape == (8, 3)
  assert [name.decode() for name in outputs['class_names']] == [
      NAMES[index] for index in outputs['classes']]


# ---------------------------------------------------------------------------
# Checkpoints that do not fit the data are refused before any restore
# ---------------------------------------------------------------------------

@both_modes
def test_a_ten_class_checkpoint_is_refused_on_three_class_data(
    trained_dir, synthetic_data_dir, own_data, tmp_path):
  _, data_dir = own_data
  checkpoint = tf.train.latest_checkpoint(trained_dir)
  with pytest.raises(errors.UserError) as raised:
    _evaluate(checkpoint, data_dir, str(tmp_path / 'eval'))
  assert str(raised.value) == (
      'Checkpoint %s was trained on 10 classes, but there are 3 here '
      '(batches.meta.txt in %s). Give the --data_dir it was trained on '
      '(--data_dir %s, as the run recorded it), or the --checkpoint_dir of '
      'a run trained on this data.'
      % (checkpoint, os.path.join(data_dir, 'cifar-10-batches-bin'),
         synthetic_data_dir))


@both_modes
def test_a_three_class_checkpoint_is_refused_on_cifar10_data(
    own_run, synthetic_data_dir, tmp_path):
  checkpoint = tf.train.latest_checkpoint(own_run)
  with pytest.raises(errors.UserError, match=(
      r'^Checkpoint .* was trained on 3 classes, but there are 10 here '
      r"\(CIFAR-10's, since .* has no batches.meta.txt\)\. Give the "
      r'--data_dir it was trained on')):
    _evaluate(checkpoint, synthetic_data_dir, str(tmp_path / 'eval'))


# --run_once stops at the refusal; --all_checkpoints reports each checkpoint
# it skips, and, having evaluated none, ends in an error too.
@pytest.mark.parametrize('how, status', [(['--run_once'], 1),
                                         (['--all_checkpoints'], 1)],
                         ids=['run_once', 'all_checkpoints'])
def test_a_checkpoint_refused_for_its_classes_writes_nothing_in_eval_dir(
    how, status, trained_dir, own_data, tmp_path, capsys):
  # Before: the evaluator opened its event file first, and a refused
  # checkpoint left an empty one behind (and the folder it made for it).
  _, data_dir = own_data
  argv = ['--data_dir', data_dir, '--checkpoint_dir', trained_dir,
          '--batch_size', '16'] + how
  new = tmp_path / 'new'
  assert script.run(cifar10_eval.main,
                    argv + ['--eval_dir', str(new)]) == status
  printed = capsys.readouterr()
  assert 'was trained on 10 classes, but there are 3 here' in (
      printed.out + printed.err)
  assert not new.exists()
  existing = tmp_path / 'existing'
  existing.mkdir()
  assert script.run(cifar10_eval.main,
                    argv + ['--eval_dir', str(existing)]) == status
  assert os.listdir(existing) == []


def test_a_run_on_own_classes_without_its_data_is_refused_before_a_download(
    own_data, own_run, tmp_path, capsys):
  # Before: the evaluator downloaded CIFAR-10 into the --data_dir holding
  # none (170 MB, /tmp/cifar10_data by default), then refused the checkpoint.
  _, data_dir = own_data
  nodata = tmp_path / 'nodata'
  argv = ['--checkpoint_dir', own_run, '--eval_dir', str(tmp_path / 'eval'),
          '--run_once', '--batch_size', '16']
  assert script.run(cifar10_eval.main,
                    argv + ['--data_dir', str(nodata)]) == 1
  error = capsys.readouterr().err
  assert error == (
      'error: The run in %s was trained on the classes blue, green, red '
      '(%s beside it), but the data has airplane, automobile, bird, cat, ... '
      "(10 in all) (CIFAR-10's, to be downloaded into --data_dir %s, which "
      'holds no data): its results would carry the wrong names. Give the '
      '--data_dir it was trained on, as the run recorded it: --data_dir %s '
      '(nothing was downloaded).\n'
      % (own_run, os.path.join(own_run, 'class_names.txt'), nodata,
         data_dir))
  assert not nodata.exists() and not (tmp_path / 'eval').exists()
  # "Give the --data_dir it was trained on ...: --data_dir DIR".
  given = shlex.split(re.search(r'recorded it: (.*) \(nothing', error)[1])
  assert script.run(cifar10_eval.main, argv + given) == 0
  assert 'precision @ 1 = ' in capsys.readouterr().out


def _snapshot(folder):
  return {name: open(os.path.join(folder, name), 'rb').read()
          for name in sorted(os.listdir(folder))}


@both_modes
def test_training_on_other_classes_refuses_to_resume_and_touches_nothing(
    own_data, trained_dir, tmp_path):
  _, data_dir = own_data
  train_dir = str(tmp_path / 'train')
  shutil.copytree(trained_dir, train_dir)
  before = _snapshot(train_dir)
  with pytest.raises(errors.UserError, match=(
      r'was trained on 10 classes, but there are 3 here \(batches.meta.txt '
      r'in .*\)\. Training will not mix them: to train on this data from '
      r"that run's weights, start a new run from them in a folder of its "
      r'own \(--train_dir .*_warm --warm_start_from .*\), or run with '
      r'--fresh')):
    train.main(['--data_dir', data_dir, '--train_dir', train_dir,
                '--max_steps', '400'])
  assert _snapshot(train_dir) == before


def test_a_run_on_other_names_of_the_same_count_is_not_resumed(tmp_path):
  run = str(tmp_path / 'run')
  os.mkdir(run)
  classes.record_for_run(run, classes.Classes(('a', 'b'), 'here'), False,
                         'Unused.')
  # The trainer's advice, as it passes it to the check as the run starts
  # and again as it writes the record (where another process may have
  # written one meanwhile). It is worded as the check refuses: the folder
  # it offers is free then, though it was not when the advice was made.
  advice = training_run._warm_start_instead(run)
  os.mkdir(run + '_warm')
  with pytest.raises(errors.UserError, match=(
      r'holds a run on the classes a, b \(.*class_names.txt beside it\), but '
      r'the data has a, c \(there\)\. Training will not mix them: to train on '
      r"this data from that run's weights, start a new run from them in a "
      r'folder of its own \(--train_dir %s_warm_2 --warm_start_from %s\)'
      % (run, run))):
    classes.record_for_run(run, classes.Classes(('a', 'c'), 'there'), True,
                           advice)
  with open(os.path.join(run, classes.RUN_FILE)) as record:
    assert record.read().split() == ['a', 'b']


def test_a_run_without_a_record_is_a_cifar10_run(tmp_path):
  with pytest.raises(errors.UserError, match="classes airplane, automobile, "
                                             r"bird, cat, \.\.\. \(10 in all\)"
                                             r'.*: Choose another\.$'):
    classes.record_for_run(str(tmp_path), classes.Classes(
        tuple('abcdefghij'), 'there'), resuming=True,
                           how_to_proceed='Choose another.')
  assert not os.listdir(str(tmp_path))


def _copy_checkpoint(run, folder):
  """The newest checkpoint of `run`, copied alone into `folder`."""
  os.makedirs(folder)
  checkpoint = tf.train.latest_checkpoint(run)
  for name in os.listdir(run):
    if name.startswith(os.path.basename(checkpoint) + '.'):
      shutil.copy(os.path.join(run, name), folder)
  return os.path.join(folder, os.path.basename(checkpoint))


@both_modes
def test_predict_without_the_runs_names_says_what_to_copy_and_that_works(
    own_data, own_run, tmp_path, capsys):
  src, data_dir = own_data
  checkpoint = _copy_checkpoint(own_run, str(tmp_path / 'copy'))
  image = os.path.join(src, 'test', 'red', '0.png')
  with pytest.raises(errors.UserError) as raised:
    predict.main([image, '--checkpoint_dir', checkpoint])
  target = str(tmp_path / 'copy' / classes.RUN_FILE)
  assert str(raised.value) == (
      "Checkpoint %s was trained on 3 classes, but there are 10 here "
      "(CIFAR-10's, since %s has no class_names.txt). Copy the "
      "batches.meta.txt of the data it was trained on to %s."
      % (checkpoint, str(tmp_path / 'copy'), target))
  shutil.copy(os.path.join(data_dir, 'cifar-10-batches-bin',
                           'batches.meta.txt'), target)
  capsys.readouterr()
  assert predict.main([image, '--checkpoint_dir', checkpoint]) == 0
  assert capsys.readouterr().out.splitlines()[1].startswith(image + ': red ')


@both_modes
def test_a_checkpoint_folder_without_names_still_predicts_cifar10_classes(
    trained_dir, synthetic_data_dir, tmp_path, capsys):
  """The original's checkpoints come without class_names.txt."""
  checkpoint = _copy_checkpoint(trained_dir, str(tmp_path / 'original'))
  image = str(tmp_path / 'image.png')
  Image.fromarray(_test_records(synthetic_data_dir)[1][0]).save(image)
  assert predict.main([image, '--checkpoint_dir', checkpoint, '--json',
                       '--top_k', '10']) == 0
  captured = capsys.readouterr()
  [entry] = json.loads(captured.out)['results']
  assert sorted(p['class'] for p in entry['predictions']) == sorted(
      cifar10_input.CLASS_NAMES)
  # Said, since a run of ten classes of one's own, copied without its
  # class_names.txt, would get CIFAR-10's names too.
  folder = os.path.dirname(checkpoint)
  # Before: "If it learnt others: Copy the ...", a capital mid-sentence.
  assert captured.err.splitlines()[-1] + '\n' == (
      "notice: %s has no class_names.txt: its 10 classes are taken to be "
      "CIFAR-10's. Copy the batches.meta.txt of the data it was trained on "
      "to %s if it learnt others.\n"
      % (folder, os.path.join(folder, 'class_names.txt')))


@pytest.mark.parametrize('tool', ['predict', 'export'])
def test_a_checkpoint_of_another_network_is_refused_without_a_word_of_classes(
    tool, tmp_path, capsys):
  # Before: "notice: DIR has no class_names.txt: its 10 classes are taken
  # to be CIFAR-10's. ...", then the refusal: the checkpoint has no layer of
  # ten classes, nor any of this network's.
  folder = str(tmp_path / 'other')
  path = _save(os.path.join(folder, 'model.ckpt'),
               {'conv1/weights': np.zeros([3, 3, 3, 8], np.float32)})
  image = str(tmp_path / 'image.png')
  Image.fromarray(np.zeros([32, 32, 3], np.uint8)).save(image)
  argv = {'predict': [image, '--checkpoint_dir', folder],
          'export': ['--checkpoint_dir', folder, '--export_dir',
                     str(tmp_path / 'model')]}[tool]
  capsys.readouterr()
  with pytest.raises(errors.UserError) as raised:
    {'predict': predict.main, 'export': export.main}[tool](argv)
  assert str(raised.value).startswith(
      'Checkpoint %s does not fit this graph: it holds conv1/weights as '
      'float32 [3, 3, 3, 8], the graph wants float32 [5, 5, 3, 64] ' % path)
  assert capsys.readouterr().err == ''


# ---------------------------------------------------------------------------
# batches.meta.txt
# ---------------------------------------------------------------------------

def test_labels_beyond_the_classes_of_batches_meta_are_refused(tmp_path):
  folder = tmp_path / 'cifar-10-batches-bin'
  folder.mkdir()
  (folder / 'batches.meta.txt').write_text('cat\ndog\n')
  path = folder / 'data_batch_1.bin'
  path.write_bytes(bytes([0] + [7] * 3072 + [2] + [7] * 3072))
  with pytest.raises(errors.UserError) as raised:
    batch_files.check_batch_file(str(path))
  assert str(raised.value) == (
      '%s: record 1 has label 2, but the data has 2 classes, labels 0..1 '
      '(batches.meta.txt in %s; 1 bad records in all). The file is damaged '
      'or belongs to other data: replace it.' % (path, folder))


@pytest.mark.parametrize('text, complaint', [
    (b'cat\n\ndog\n', ': line 2 is blank'),
    (b'cat\n', ' names 1 classes'),
    (''.join('c%d\n' % i for i in range(257)).encode(), ' names 257 classes'),
    (b'cat\ndog\ncat\n', " names class 'cat' twice"),
    (b'caf\xe9\ndog\n', ' is not UTF-8 text (byte 3)'),
    (b'cat\rdog\n', ': line 1 holds a line break (\\r or \\n), but a class '
                    'name is one line'),
    ('cat\n\u3000\ndog\n'.encode('utf-8'), ': line 2 is blank'),
])
def test_a_malformed_batches_meta_is_refused_by_name(tmp_path, text,
                                                     complaint):
  path = tmp_path / 'batches.meta.txt'
  path.write_bytes(text)
  with pytest.raises(errors.UserError) as raised:
    classes.of_data(str(tmp_path))
  assert str(raised.value).startswith(str(path) + complaint), raised.value
  assert str(raised.value).endswith('Write one class name per line, in '
                                    'label order (2 to 256 names).')


def test_cifar10s_own_meta_file_with_trailing_blank_lines_reads_as_its_ten(
    tmp_path):
  (tmp_path / 'batches.meta.txt').write_bytes(
      classes.format_names(classes.CIFAR10_NAMES) + b'\n\n')
  assert classes.of_data(str(tmp_path)).names == classes.CIFAR10_NAMES


@pytest.mark.parametrize('character', SPLITLINES_ONLY)
def test_a_name_holding_a_character_splitlines_ends_lines_at_stays_whole(
    character):
  names = ('apple', 'big%scat' % character, 'dog')
  assert classes.parse_names(classes.format_names(names), 'x') == names


def test_windows_line_ends_are_line_ends():
  assert classes.parse_names(b'cat\r\ndog\r\n\r\n', 'x') == ('cat', 'dog')


def test_predict_lists_every_class_of_a_smaller_model_by_default(tmp_path,
                                                                 capsys):
  # --top_k's default, 3, was refused for a 2-class model once a --top_k
  # above the model's classes was (the guide's own predict command failed).
  src, data_dir, train_dir = (str(tmp_path / name)
                              for name in ('images', 'data', 'run'))
  write_image_folder(src, {'blue': (0, 0, 200), 'red': (200, 0, 0)},
                     np.random.default_rng(0), train_per_class=8,
                     test_per_class=2, size=32)
  with contextlib.redirect_stdout(io.StringIO()):
    convert_images.convert(src, data_dir)
    assert train.main(['--data_dir', data_dir, '--train_dir', train_dir,
                       '--max_steps', '1', '--batch_size', '4']) == 0
  image = os.path.join(src, 'test', 'red', '0.png')
  assert predict.main([image, '--checkpoint_dir', train_dir]) == 0
  _, line = capsys.readouterr().out.strip().split('\n')
  assert sorted(name.split(' ')[0] for name in line.split(': ', 1)[1].split(
      ', ')) == ['blue', 'red']
  # A number given is the user's, and is not lowered without a word.
  with pytest.raises(errors.UserError, match=r'^--top_k 3 is more than the 2 '):
    predict.main([image, '--checkpoint_dir', train_dir, '--top_k', '3'])
