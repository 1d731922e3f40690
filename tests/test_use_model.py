"""Using a trained model: per-class evaluation, predict, export, TensorBoard for real."""

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from cifar10 import cifar10_input
from cifar10 import eval as cifar10_eval
from cifar10 import export
from cifar10 import predict
from cifar10.support import confusion
from cifar10.support import errors
from cifar10.support import eval_report
from cifar10.support import image_files
import script_modules

ports = script_modules.load('ports')
from conftest import DEADLINE_SECS, both_modes, serve_exported, summary_values
import documents

# The fast lane (docs/testing.md): the whole file.
pytestmark = pytest.mark.fast

CLASSES = cifar10_input.CLASS_NAMES

# The EXIF tag that says how to turn a stored picture to show it upright.
_EXIF_ORIENTATION = 0x0112


def _test_records(data_dir):
  """Labels and [N, 32, 32, 3] images of test_batch.bin, read with numpy."""
  raw = np.fromfile(os.path.join(data_dir, 'cifar-10-batches-bin',
                                 'test_batch.bin'), np.uint8).reshape(-1, 3073)
  return raw[:, 0], raw[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


@pytest.fixture(scope='module')
def evaluation(trained_dir, synthetic_data_dir, tmp_path_factory):
  """One evaluation with --top_k 3, its printed report and its event folder."""
  eval_dir = str(tmp_path_factory.mktemp('eval'))
  with tf.Graph().as_default():
    writer = tf.compat.v1.summary.FileWriter(eval_dir)
  printed = io.StringIO()
  with contextlib.redirect_stdout(printed):
    result = cifar10_eval.eval_once(
        tf.train.latest_checkpoint(trained_dir), 'test', synthetic_data_dir,
        64, 10000, False, writer, top_k=3)
  writer.close()
  return result, printed.getvalue(), eval_dir


def _summaries(folder):
  return {value.tag: (step, value) for step, value in summary_values(folder)}


def _ratio_and_counts(part, whole):
  return '%-5s  (%d of %d)' % ('%.3f' % (part / whole) if whole else '-',
                               part, whole)


@both_modes
def test_per_class_recall_and_precision_match_numpy_on_the_models_predictions(
    evaluation, synthetic_data_dir):
  result, printed, eval_dir = evaluation
  labels, _ = _test_records(synthetic_data_dir)
  np.testing.assert_array_equal(result.labels, labels)  # All, in file order.
  predictions = result.predictions
  summaries = _summaries(eval_dir)
  assert 'per class, of 250 images' in printed
  for index, name in enumerate(CLASSES):
    correct = int(np.sum((labels == index) & (predictions == index)))
    images = int(np.sum(labels == index))
    predicted = int(np.sum(predictions == index))
    line = '  %-10s  %-20s  %s' % (name, _ratio_and_counts(correct, images),
                                   _ratio_and_counts(correct, predicted))
    assert line in printed.splitlines()
    assert summaries['recall/' + name][0] == 300
    assert summaries['recall/' + name][1].simple_value == np.float32(
        correct / images)
    if predicted:
      assert summaries['precision/' + name][1].simple_value == np.float32(
          correct / predicted)
    else:
      assert 'precision/' + name not in summaries
  assert not [tag for tag in summaries if tag.startswith('Precision @ 1/')]
  assert result.top_1_accuracy == np.mean(predictions == labels)
  assert 'precision @ 1 = %.3f' % np.mean(predictions == labels) in printed
  assert summaries['Precision @ 1'][1].simple_value == np.float32(
      np.mean(predictions == labels))


def test_recall_and_precision_differ_as_in_the_reported_frog_example():
  # 88 frogs, 62 of them called frog; 91 images of other classes called frog.
  labels = np.array([6] * 88 + [2] * 101 + [3] * 91)
  predictions = np.array([6] * 62 + [3] * 26 + [2] * 13 + [6] * 20 +
                         [3] * 68 + [6] * 71 + [3] * 20)
  figures = confusion.class_figures(confusion.confusion_matrix(
      labels, predictions, 10))
  assert (figures.correct[6], figures.images[6], figures.predicted[6]) == (
      62, 88, 153)
  assert figures.recall[6] == 62 / 88 and figures.precision[6] == 62 / 153
  assert (figures.correct[2], figures.images[2], figures.predicted[2]) == (
      13, 101, 13)
  assert np.isnan(figures.recall[0]) and np.isnan(figures.precision[0])


class _CountedWrites(io.StringIO):
  """A stdout that counts the calls that write to it."""

  def __init__(self):
    super().__init__()
    self.writes = 0

  def write(self, text):
    self.writes += 1
    return super().write(text)


def test_the_report_is_written_at_once_so_a_stop_cannot_split_a_line():
  # Before: a line per print, and a Ctrl-C landing mid-table left half a
  # line that the stop's message ran on after ("0.056  (1 of 18)Stopped by
  # SIGINT.").
  result = eval_report.EvalResult(
      global_step=7, labels=np.array([0, 1, 1, 2]),
      predictions=np.array([0, 1, 2, 2]),
      top_1=np.array([True, True, False, True]),
      top_k=np.array([True, True, True, True]), k=2,
      class_names=('cat', 'dog', 'emu'))
  out = _CountedWrites()
  with contextlib.redirect_stdout(out):
    eval_report.report(result, '/runs/model.ckpt-7', 'train_eval')
  assert out.writes == 1
  lines = out.getvalue().split('\n')
  # The first two lines begin with the time, and name what was scored.
  # Before: "... (global step 7): precision @ 1 = 0.750" of any data.
  assert [line.partition(': ')[2] for line in lines[:2]] == [
      '/runs/model.ckpt-7 (global step 7) on 4 train_eval images: '
      'precision @ 1 = 0.750',
      '/runs/model.ckpt-7 (global step 7) on 4 train_eval images: '
      'top-2 accuracy = 1.000']
  assert lines[2:] == [
      'per class, of 4 images (recall: correct / images of the class; '
      'precision: correct / images predicted as the class):',
      '  class  recall                precision',
      '  cat    1.000  (1 of 1)       1.000  (1 of 1)',
      '  dog    0.500  (1 of 2)       1.000  (1 of 1)',
      '  emu    1.000  (1 of 1)       0.500  (1 of 2)',
      '']


@both_modes
def test_top_k_adds_top_k_accuracy(evaluation, synthetic_data_dir):
  result, printed, eval_dir = evaluation
  labels, _ = _test_records(synthetic_data_dir)
  assert result.top_1_accuracy <= result.top_k_accuracy
  assert 'top-3 accuracy = %.3f' % result.top_k_accuracy in printed
  assert _summaries(eval_dir)['Top-3 accuracy'][1].simple_value == \
      np.float32(np.mean(result.top_k))
  assert result.top_k.shape == labels.shape
  assert 'precision @ 3' not in printed


@both_modes
def test_confusion_matrix_image_is_written(evaluation):
  result, _, eval_dir = evaluation
  matrix = result.confusion_matrix()
  expected = np.zeros([10, 10], int)
  for label, prediction in zip(result.labels, result.predictions):
    expected[label, prediction] += 1
  np.testing.assert_array_equal(matrix, expected)
  step, value = _summaries(eval_dir)['confusion_matrix']
  picture = np.asarray(Image.open(io.BytesIO(value.image.encoded_image_string)))
  assert step == 300
  assert picture.shape == (value.image.height, value.image.width, 3)
  assert picture.shape[0] > 300 and picture.std() > 10  # Drawn, not blank.
  # Room right of and below the matrix for each class's recall and precision.
  assert picture.shape[:2] == (84 + 10 * 36 + 48, 84 + 10 * 36 + 48)


def _write_pngs(folder, images):
  paths = []
  for index, image in enumerate(images):
    path = os.path.join(folder, 'image_%02d.png' % index)
    Image.fromarray(image).save(path)
    paths.append(path)
  return paths


@both_modes
def test_predict_classifies_files_and_reports_bad_ones_by_name(
    trained_dir, synthetic_data_dir, tmp_path, capsys):
  labels, images = _test_records(synthetic_data_dir)
  pngs = _write_pngs(str(tmp_path), images[:20])
  # A larger JPEG of the first image: resized to 32x32 on the way in.
  jpeg = str(tmp_path / 'large.jpg')
  Image.fromarray(images[0]).resize((48, 64), Image.NEAREST).save(jpeg,
                                                                  quality=95)
  not_image = tmp_path / 'notes.png'
  not_image.write_text('not an image')
  missing = str(tmp_path / 'missing.png')

  status = predict.main(pngs[:10] + [missing, str(not_image), jpeg] +
                        pngs[10:] + ['--json', '--checkpoint_dir', trained_dir])
  assert status == 1
  report = json.loads(capsys.readouterr().out)
  by_file = {entry['file']: entry for entry in report['results']}
  assert list(by_file) == pngs[:10] + [missing, str(not_image), jpeg] + \
      pngs[10:]
  assert missing in by_file[missing]['error']
  assert 'not a PNG, JPEG, BMP or GIF image' in by_file[str(not_image)][
      'error']
  predicted = [by_file[path]['predictions'][0]['class'] for path in pngs]
  right = np.mean([name == CLASSES[label]
                   for name, label in zip(predicted, labels)])
  assert right >= 0.7  # The model classifies; chance is 0.1.
  assert by_file[jpeg]['predictions'][0]['class'] == CLASSES[labels[0]]
  for path in pngs:
    probabilities = [p['probability'] for p in by_file[path]['predictions']]
    assert len(probabilities) == 3 and probabilities == sorted(
        probabilities, reverse=True)


@both_modes
def test_predict_prints_a_line_per_file(trained_dir, synthetic_data_dir,
                                        tmp_path, capsys):
  _, images = _test_records(synthetic_data_dir)
  [path] = _write_pngs(str(tmp_path), images[:1])
  assert predict.main([path, '--checkpoint_dir', trained_dir,
                       '--top_k', '2']) == 0
  # First what scored the files, named as the evaluator names it.
  header, line = capsys.readouterr().out.strip().split('\n')
  assert header == ('Classified by %s (global step 300, moving averages):'
                    % os.path.join(trained_dir, 'model.ckpt-300'))
  assert line.startswith(path + ': ') and line.count(',') == 1
  assert predict.main([path, '--checkpoint_dir', trained_dir,
                       '--raw_weights', '--json']) == 0
  report = json.loads(capsys.readouterr().out)
  assert (report['checkpoint'], report['global_step'], report['weights']) == (
      os.path.join(trained_dir, 'model.ckpt-300'), 300, 'raw weights')


def test_predict_refuses_more_classes_than_the_model_has_then_all(
    trained_dir, synthetic_data_dir, tmp_path, capsys):
  # Before: --top_k 11 of a 10-class model printed 10 without a word, where
  # cifar10.eval refuses a --top_k that large.
  _, images = _test_records(synthetic_data_dir)
  [path] = _write_pngs(str(tmp_path), images[:1])
  with pytest.raises(errors.UserError) as raised:
    predict.main([path, '--checkpoint_dir', trained_dir, '--top_k', '11'])
  message = str(raised.value)
  assert re.fullmatch(
      r"--top_k 11 is more than the 10 classes of the model \(.+\); give "
      r"--top_k 10 at most, which lists them all\.", message), message
  assert capsys.readouterr().out == ''
  # "give --top_k 10 at most, which lists them all".
  assert predict.main([path, '--checkpoint_dir', trained_dir,
                       '--top_k', '10']) == 0
  _, line = capsys.readouterr().out.strip().split('\n')
  assert sorted(name.split(' ')[0] for name in line.split(': ', 1)[1].split(
      ', ')) == sorted(CLASSES)


def test_predict_json_names_files_whose_names_are_not_utf8(
    trained_dir, synthetic_data_dir, tmp_path, capsys):
  # Before: such a name (its bytes decoded by Python as lone surrogates)
  # was written "caf\\udce9.png", which strict JSON readers refuse and jq
  # turns into U+FFFD: the file could not be found again.
  _, images = _test_records(synthetic_data_dir)
  picture = str(tmp_path / os.fsdecode(b'caf\xe9.png'))
  Image.fromarray(images[0]).save(picture, format='PNG')
  broken = str(tmp_path / os.fsdecode(b'\xff.png'))
  with open(broken, 'w') as file:
    file.write('not an image')
  plain = str(tmp_path / 'plain.png')
  shutil.copy(picture, plain)
  assert predict.main([picture, broken, plain, '--json',
                       '--checkpoint_dir', trained_dir]) == 1
  report = json.loads(capsys.readouterr().out)
  # Every string is Unicode that UTF-8 can carry, as a strict reader needs.
  json.dumps(report, ensure_ascii=False).encode('utf-8')
  good, bad, ordinary = report['results']
  # The name as the converter's lines show it, each byte that is not UTF-8 as
  # \xNN; and the name's bytes exactly, to open the file by.
  assert good['file'] == str(tmp_path / 'caf\\xe9.png')
  assert os.fsdecode(bytes(good['file_bytes'])) == picture
  assert len(good['predictions']) == 3
  assert bad['file'] == str(tmp_path / '\\xff.png')
  assert bytes(bad['file_bytes']) == os.fsencode(broken)
  assert bad['error'] == '%s: not a PNG, JPEG, BMP or GIF image' % bad['file']
  assert ordinary['file'] == plain and 'file_bytes' not in ordinary
  assert ordinary['predictions'] == good['predictions']


@pytest.mark.parametrize('spelling', ['--json FILE', 'FILE --json',
                                      '--json=false FILE'])
def test_predict_json_flag_before_or_after_the_file_does_what_it_says(
    spelling, trained_dir, synthetic_data_dir, tmp_path, capsys):
  _, images = _test_records(synthetic_data_dir)
  [path] = _write_pngs(str(tmp_path), images[:1])
  argv = [path if word == 'FILE' else word for word in spelling.split()]
  assert predict.main(argv + ['--checkpoint_dir', trained_dir]) == 0
  output = capsys.readouterr().out
  if spelling == '--json=false FILE':
    assert output.startswith('Classified by ') and output.count('\n') == 2
    assert output.splitlines()[1].startswith(path + ': ')
  else:
    [entry] = json.loads(output)['results']
    assert entry['file'] == path and len(entry['predictions']) == 3


@both_modes
def test_exported_model_predicts_what_predict_does(trained_dir,
                                                   synthetic_data_dir,
                                                   tmp_path, capsys):
  _, images = _test_records(synthetic_data_dir)
  export_dir = str(tmp_path / 'model')
  assert export.main(['--checkpoint_dir', trained_dir,
                      '--export_dir', export_dir]) == 0
  outputs = serve_exported(export_dir, images[:12])
  assert set(outputs) == {'logits', 'probabilities', 'classes',
                          'class_names'}
  assert [name.decode() for name in outputs['class_names']] == [
      CLASSES[index] for index in outputs['classes']]
  pngs = _write_pngs(str(tmp_path), images[:12])
  if tf.executing_eagerly():
    # The README's way to load it, which needs TensorFlow 2's eager mode.
    serving = tf.saved_model.load(export_dir).signatures['serving_default']
    for name, value in serving(images=tf.constant(images[:12])).items():
      np.testing.assert_array_equal(value.numpy(), outputs[name])
    # The README's example, as written but for its two paths, names the
    # class of the first image, from a file that holds it sideways with an
    # EXIF orientation, as a phone stores a photo: the snippet feeds the
    # model the pixels predict feeds it, upright.
    sideways = str(tmp_path / 'sideways.png')
    exif = Image.Exif()
    exif[_EXIF_ORIENTATION] = 6  # "Turn it 90 degrees clockwise to show it."
    Image.fromarray(images[0]).transpose(Image.Transpose.ROTATE_90).save(
        sideways, exif=exif)
    np.testing.assert_array_equal(image_files.load(sideways), images[0])
    snippet = re.search(r'```python\n(.*?)```', documents.read('README.md'),
                        re.S).group(1)
    printed, namespace = io.StringIO(), {}
    with contextlib.redirect_stdout(printed):
      exec(snippet.replace("'cat.png'", repr(sideways)).replace(  # pylint: disable=exec-used
          "'/tmp/cifar10_model'", repr(export_dir)), namespace)
    np.testing.assert_array_equal(namespace['batch'].numpy(), images[:1])
    assert printed.getvalue() == CLASSES[outputs['classes'][0]] + '\n'
    # Pictures of another size are refused. The signature's [N, 32, 32, 3]
    # is not checked by the loader: before, a 64x64 picture was cropped to
    # its centre and classified, and a 31x33 one padded.
    for height, width in ((64, 64), (31, 33)):
      with pytest.raises(tf.errors.InvalidArgumentError,
                         match=r'Shape of tensor images \[1,%d,%d,3\] is not '
                               r'compatible with expected shape '
                               r'\[\?,32,32,3\]' % (height, width)):
        serving(images=tf.zeros([1, height, width, 3], tf.uint8))

  capsys.readouterr()
  predict.main(pngs + ['--json', '--top_k', '10', '--checkpoint_dir',
                       trained_dir])
  report = json.loads(capsys.readouterr().out)
  for row, entry, predicted in zip(outputs['probabilities'],
                                   report['results'], outputs['classes']):
    by_class = {p['class']: p['probability'] for p in entry['predictions']}
    np.testing.assert_allclose([by_class[name] for name in CLASSES], row,
                               rtol=1e-5, atol=1e-6)
    assert entry['predictions'][0]['class'] == CLASSES[predicted]


@both_modes
def test_export_refuses_an_existing_folder(trained_dir, tmp_path):
  (tmp_path / 'keep.txt').write_text('mine')
  with pytest.raises(errors.UserError, match='already exists'):
    export.export(trained_dir, str(tmp_path))
  assert (tmp_path / 'keep.txt').read_text() == 'mine'


def _get_json(url):
  with urllib.request.urlopen(url, timeout=DEADLINE_SECS) as response:
    return json.loads(response.read())


_TRAIN_TAGS = {'total_loss', 'total_loss (raw)', 'learning_rate',
               'conv1/sparsity', 'cross_entropy'}
_EVAL_TAGS = {'Precision @ 1', 'recall/cat', 'precision/cat'}


def test_tensorboard_serves_the_training_and_eval_scalars(evaluation,
                                                          trained_dir,
                                                          tmp_path):
  _, _, eval_dir = evaluation
  shutil.copytree(trained_dir, str(tmp_path / 'train'))
  shutil.copytree(eval_dir, str(tmp_path / 'eval'))
  [port] = ports.free_ports(1)
  server = subprocess.Popen(
      [sys.executable, '-m', 'tensorboard.main', '--logdir', str(tmp_path),
       '--host', '127.0.0.1', '--port', str(port), '--load_fast', 'false',
       '--reload_interval', '1'],
      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  base = 'http://127.0.0.1:%d/data/plugin/scalars/' % port
  try:
    # TensorBoard starts listening, then loads the runs event by event: wait,
    # however long that takes, until it serves every tag and point looked at.
    deadline, tags, points = time.monotonic() + DEADLINE_SECS, {}, []
    while not (_TRAIN_TAGS <= set(tags.get('train', ())) and
               _EVAL_TAGS <= set(tags.get('eval', ())) and
               len(points) >= 3):  # Summaries at steps 0, 50, ..., 300.
      assert time.monotonic() < deadline and server.poll() is None, tags
      time.sleep(1)
      try:
        tags = _get_json(base + 'tags')
        points = _get_json(base + 'scalars?' + urllib.parse.urlencode(
            {'run': 'train', 'tag': 'total_loss'}))
      except OSError:
        pass  # Not listening yet, or total_loss not loaded yet.
    assert all(np.isfinite(value) for _, _, value in points)
    [(_, step, precision)] = _get_json(base + 'scalars?' + urllib.parse.urlencode(
        {'run': 'eval', 'tag': 'Precision @ 1'}))
    assert step == 300 and 0.0 <= precision <= 1.0
  finally:
    server.terminate()
    try:
      server.wait(timeout=20)
    except subprocess.TimeoutExpired:
      server.kill()
      server.wait()
