"""The scripts that make the guide's table and pictures: layer_table, distortion_picture, eval_image."""

import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tensorflow.python.framework import ops

from cifar10 import cifar10
from cifar10 import cifar10_input
from cifar10 import convert_images
from cifar10 import eval as cifar10_eval
from cifar10.support import confusion
from cifar10.support import errors
from cifar10.support import run_flags
from conftest import DEADLINE_SECS, crafted_record, write_image_folder
import script_modules

# The fast lane (docs/testing.md): the whole file.
pytestmark = pytest.mark.fast

layer_table = script_modules.load('layer_table')
distortion_picture = script_modules.load('distortion_picture')
eval_image = script_modules.load('eval_image')

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------------------
# layer_table
# ---------------------------------------------------------------------------

def test_layer_multiply_adds_are_half_of_tensorflows_own_flop_counts():
  """TensorFlow registers a flop count (2 per multiply-add) for Conv2D and MatMul."""
  with tf.Graph().as_default() as graph:
    cifar10.inference(tf.compat.v1.placeholder(tf.float32, [1, 24, 24, 3]),
                      reference_ops=True)
    flops = {}
    for op in graph.get_operations():
      if op.type in ('Conv2D', 'MatMul'):
        layer = op.name.split('/')[0]
        flops[layer] = ops.get_stats_for_node_def(graph, op.node_def,
                                                  'flops').value
  layers = {layer.name: layer for layer in layer_table.build_layers()}
  assert {name: 2 * layers[name].multiply_adds for name in flops} == flops
  assert all(layers[name].multiply_adds == 0
             for name in ('pool1', 'norm1', 'norm2', 'pool2'))


def test_layer_table_on_a_full_disk_says_one_line():
  # /dev/full refuses every write, as a full disk does. Before: an OSError
  # traceback, after TensorFlow's start-up lines (held back until then).
  # TensorFlow's level as a user has it (the suite keeps its errors).
  environ = {name: value for name, value in os.environ.items()
             if name != 'TF_CPP_MIN_LOG_LEVEL'}
  with open('/dev/full', 'w') as full:
    done = subprocess.run(
        [sys.executable, os.path.join(REPO, 'scripts', 'layer_table.py')],
        stdout=full, stderr=subprocess.PIPE, text=True, env=environ,
        timeout=DEADLINE_SECS)
  assert done.returncode == 1
  # (On some CPUs the port first says which kernels it chose.)
  assert [line for line in done.stderr.splitlines()
          if not line.startswith('cifar10: using oneDNN CPU kernels')] == [
      'error: Could not write a file (No space left on device). Make room on '
      'the disk the script writes to (or fix the cause) and run again.']


def test_layer_table_shapes_and_parameters():
  layers = layer_table.build_layers()
  assert [layer.name for layer in layers] == [name for name, _ in
                                              layer_table.LAYERS]
  assert [layer.output_shape for layer in layers] == [
      (24, 24, 64), (12, 12, 64), (12, 12, 64), (12, 12, 64), (12, 12, 64),
      (6, 6, 64), (384,), (192,), (10,)]
  # Weights plus biases of each layer, e.g. conv1: 5 * 5 * 3 * 64 + 64.
  assert [layer.parameters for layer in layers] == [
      4864, 0, 0, 102464, 0, 0, 2304 * 384 + 384, 384 * 192 + 192,
      192 * 10 + 10]
  assert layers[1].kind == '3x3 max pool, stride 2'
  assert layers[0].kind == '5x5 convolution, 64 filters, ReLU'
  table = layer_table.markdown_table(layers)
  assert table.splitlines()[-1] == '| total | | | 1,068,298 | 18,470,784 |'


# ---------------------------------------------------------------------------
# distortion_picture
# ---------------------------------------------------------------------------

# A solid colour per class; later records of a class get other colours.
COLOURS = [(20 * k, 250 - 20 * k, (90 + 37 * k) % 256) for k in range(10)]


def _write_train_file(data_dir, records):
  folder = os.path.join(data_dir, 'cifar-10-batches-bin')
  os.makedirs(folder)
  with open(os.path.join(folder, 'data_batch_1.bin'), 'wb') as out:
    out.write(b''.join(records))


def _standardized_solid(colour):
  """What distortion makes of a solid-colour image: each channel's value.

  Crops, flips and contrast change nothing in a uniform channel, and
  standardization undoes brightness; what is left is the channel means,
  centred and scaled by their spread.
  """
  channels = np.array(colour, dtype=np.float64)
  centred = channels - channels.mean()
  return centred / np.sqrt(np.mean(centred ** 2))


def test_distortion_picture_draws_each_class_first_image_and_its_distortions(
    tmp_path):
  later = [crafted_record(label, 5, 5, 5) for label in range(10)]
  first = [crafted_record(label, *COLOURS[label]) for label in range(10)]
  # Classes out of order, each followed later by a grey record of its class.
  _write_train_file(str(tmp_path), first[::-1] + later)
  output = str(tmp_path / 'picture.png')
  assert distortion_picture.main(['--data_dir', str(tmp_path), '--output',
                                  output, '--passes', '2']) == 0

  with Image.open(output) as image:
    pixels = np.asarray(image.convert('RGB'))
  scale, gap, label_width, header = 2, 4, 76, 16
  assert pixels.shape == (header + 10 * (64 + gap),
                          label_width + 64 + 2 * (gap + 48) + gap, 3)
  for label, colour in enumerate(COLOURS):
    top = header + label * (32 * scale + gap)
    stored = pixels[top:top + 64, label_width:label_width + 64]
    assert (stored == colour).all()
    expected_grey = np.clip(np.round(128 + 48 * _standardized_solid(colour)),
                            0, 255)
    for column in range(2):
      left = label_width + 64 + gap + column * (gap + 48)
      distorted = pixels[top + 8:top + 8 + 48, left:left + 48]
      np.testing.assert_array_equal(
          distorted, np.broadcast_to(expected_grey, distorted.shape))


def test_distortion_picture_refuses_a_name_of_another_format_then_the_png(
    tmp_path):
  # Before: --output d.jpg got PNG bytes, which viewers going by the name
  # fail to open (found by a new user's trial).
  _write_train_file(str(tmp_path), [crafted_record(label, *COLOURS[label])
                                    for label in range(10)])
  output = str(tmp_path / 'd.jpg')
  with pytest.raises(errors.UserError) as raised:
    distortion_picture.main(['--data_dir', str(tmp_path), '--output', output])
  assert str(raised.value) == (
      '--output %s: this tool writes a PNG picture, so the file must be '
      'named .png. Give --output %s.' % (output, tmp_path / 'd.png'))
  assert not os.path.exists(output)
  # As it says.
  typed, = shlex.split(str(raised.value).rpartition('--output ')[2][:-1])
  assert distortion_picture.main(['--data_dir', str(tmp_path), '--output',
                                  typed, '--passes', '1']) == 0
  with Image.open(str(tmp_path / 'd.png')) as image:
    assert image.format == 'PNG'


def test_distortion_picture_draws_a_row_per_class_of_converted_data(tmp_path):
  # Three classes of one's own, named in batches.meta.txt: their labels are
  # 0 to 2, and the picture names them.
  first = [crafted_record(label, *COLOURS[label]) for label in range(3)]
  _write_train_file(str(tmp_path), first[::-1])
  with open(os.path.join(str(tmp_path), 'cifar-10-batches-bin',
                         'batches.meta.txt'), 'w') as names:
    names.write('bee\nfly\nant\n')
  output = str(tmp_path / 'picture.png')
  assert distortion_picture.main(['--data_dir', str(tmp_path), '--output',
                                  output, '--passes', '1']) == 0
  with Image.open(output) as image:
    pixels = np.asarray(image.convert('RGB'))
  assert pixels.shape[0] == 16 + 3 * (64 + 4)
  for label, colour in enumerate(COLOURS[:3]):
    top = 16 + label * (64 + 4)
    assert (pixels[top:top + 64, 76:76 + 64] == colour).all()
  (tmp_path / 'cifar-10-batches-bin' / 'batches.meta.txt').write_text(
      'bee\nfly\nant\nmoth\n')
  with pytest.raises(errors.UserError,
                     match=r'data_batch_1.bin has no image of class 3 \(moth\)'):
    distortion_picture.main(['--data_dir', str(tmp_path), '--output',
                             str(tmp_path / 'moth.png')])


def test_distortion_picture_names_a_missing_class(tmp_path):
  _write_train_file(str(tmp_path), [crafted_record(label, 1, 2, 3)
                                    for label in range(9)])
  with pytest.raises(errors.UserError,
                     match=r'data_batch_1.bin has no image of class 9 \(truck\)'):
    distortion_picture.main(['--data_dir', str(tmp_path), '--output',
                             str(tmp_path / 'x.png')])


def test_distortion_picture_refuses_a_missing_data_dir_then_the_data(
    tmp_path, capsys):
  # Before: "data_batch_1.bin not found in /nonexist/cifar-10-batches-bin.
  # Put it back, ...", for a folder that never existed.
  missing = str(tmp_path / 'nonexist')
  with pytest.raises(errors.UserError) as raised:
    distortion_picture.main(['--data_dir', missing, '--output',
                             str(tmp_path / 'd.png')])
  assert str(raised.value) == (
      '--data_dir %s does not exist. Point it at the folder where the data '
      'was downloaded or converted, the one that holds cifar-10-batches-bin/.'
      % missing)
  # "Point it at the folder ... that holds cifar-10-batches-bin/".
  data_dir = str(tmp_path / 'data')
  _write_train_file(data_dir, [crafted_record(label, *COLOURS[label])
                               for label in range(10)])
  assert distortion_picture.main(['--data_dir', data_dir, '--passes', '1',
                                  '--output', str(tmp_path / 'd.png')]) == 0


def test_distortion_picture_refuses_an_empty_folder_or_a_run_then_the_data(
    tmp_path, trained_dir):
  # Before: "CIFAR-10 batch file data_batch_1.bin not found in
  # DIR/cifar-10-batches-bin. Put it back, or point --data_dir (or the
  # data_dir of a function called from Python) at ...": nothing was ever
  # there to put back.
  empty = str(tmp_path / 'empty')
  os.makedirs(empty)
  advice = ('Point it at the folder where the data was downloaded or '
            'converted, the one that holds cifar-10-batches-bin/.')
  for data_dir, what in (
      (empty, 'holds no data set'),
      (trained_dir, 'is a training run\'s folder (it holds checkpoints), '
                    'not a data set\'s folder')):
    with pytest.raises(errors.UserError) as raised:
      distortion_picture.main(['--data_dir', data_dir, '--output',
                               str(tmp_path / 'd.png')])
    assert str(raised.value) == '--data_dir %s %s. %s' % (data_dir, what,
                                                          advice)
  # "Point it at the folder ... that holds cifar-10-batches-bin/".
  data_dir = str(tmp_path / 'data')
  _write_train_file(data_dir, [crafted_record(label, *COLOURS[label])
                               for label in range(10)])
  assert distortion_picture.main(['--data_dir', data_dir, '--passes', '1',
                                  '--output', str(tmp_path / 'd.png')]) == 0


def test_distortion_picture_given_pictures_then_converted_as_told(
    tmp_path, capsys):
  # Before: "batch file data_batch_1.bin not found in
  # pictures/cifar-10-batches-bin", where the trainers name the converter.
  pictures = tmp_path / 'pictures'
  write_image_folder(str(pictures), {'cat': (200, 60, 60),
                                     'dog': (60, 60, 200)},
                     np.random.default_rng(5), train_per_class=20,
                     test_per_class=2, size=40)
  output = str(tmp_path / 'picture.png')
  with pytest.raises(SystemExit) as raised:
    distortion_picture.main(['--data_dir', str(pictures), '--output', output])
  # One line, with the status of the other scripts' refusal of a flag;
  # before, argparse's usage block came first.
  assert raised.value.code == 2
  [message] = capsys.readouterr().err.splitlines()
  command, converted = re.search(
      r'^python scripts/distortion_picture.py: error: argument --data_dir: '
      r'--data_dir \S+ holds folders of pictures \(test/, train/\), but the '
      r'scripts read data in CIFAR-10\'s format: convert them first '
      r'\((python -m [^)]*)\), then give --data_dir (\S+)\. \(python '
      r'scripts/distortion_picture.py --help lists the flags\)$',
      message).groups()
  # This tool downloads nothing: the trainers' "To download CIFAR-10
  # instead, give a new folder" is not offered.
  assert 'download' not in message
  words = shlex.split(command)
  assert words[:3] == ['python', '-m', 'cifar10.convert_images']
  with contextlib.redirect_stdout(io.StringIO()):
    assert convert_images.main(words[3:]) == 0
  assert distortion_picture.main(['--data_dir', converted, '--output',
                                  output, '--passes', '1']) == 0
  with Image.open(output) as image:
    assert image.height == 16 + 2 * (64 + 4)  # A row for each class.


# ---------------------------------------------------------------------------
# eval_image
# ---------------------------------------------------------------------------

def _png_of(seed):
  matrix = np.random.default_rng(seed).integers(0, 50, [10, 10])
  png, _ = confusion.render_png(matrix, cifar10_input.CLASS_NAMES)
  return png


@pytest.fixture
def eval_dir(tmp_path):
  """An --eval_dir with confusion matrices at steps 5 and 10 (10 twice)."""
  folder = str(tmp_path / 'eval')
  with tf.Graph().as_default():
    writer = tf.compat.v1.summary.FileWriter(folder)
  for step, seed in ((5, 1), (10, 2), (10, 3)):
    png = _png_of(seed)
    summary = tf.compat.v1.Summary()
    summary.value.add(tag='confusion_matrix', image=tf.compat.v1.Summary.Image(
        height=444, width=444, colorspace=3, encoded_image_string=png))
    summary.value.add(tag='Precision @ 1', simple_value=0.5)
    writer.add_summary(summary, step)
    writer.flush()
    time.sleep(0.01)  # Distinct wall times, as two evaluations have.
  writer.close()
  return folder


def _read(path):
  with open(path, 'rb') as picture:
    return picture.read()


def test_eval_image_saves_the_latest_evaluation_unchanged(eval_dir, tmp_path):
  output = str(tmp_path / 'cm.png')
  assert eval_image.main(['--eval_dir', eval_dir, '--output', output]) == 0
  assert _read(output) == _png_of(3)  # Step 10, written last.


def test_eval_image_refuses_a_name_of_another_format_then_the_png(
    eval_dir, tmp_path):
  # Before: --output cm.jpg got the PNG bytes without a word.
  for name, given in [('cm.jpg', 'cm.png'), ('matrix', 'matrix.png'),
                      ('sp ü.jpg', 'sp ü.png'), ('.jpg', 'picture.png')]:
    output = str(tmp_path / name)
    with pytest.raises(errors.UserError) as raised:
      eval_image.main(['--eval_dir', eval_dir, '--output', output])
    # A name with a space is quoted, to be pasted into a shell.
    assert str(raised.value) == (
        '--output %s: this tool writes the PNG the evaluator stored, '
        'unchanged, so the file must be named .png. Give --output %s.'
        % (output, shlex.quote(str(tmp_path / given))))
    assert not os.path.exists(output)
    # "Give --output NAME.png", as the shell reads it.
    typed, = shlex.split(str(raised.value).rpartition('--output ')[2][:-1])
    assert eval_image.main(['--eval_dir', eval_dir, '--output', typed]) == 0
    assert _read(str(tmp_path / given)) == _png_of(3)
  # Where that .png exists, a free name, which the advice can give as it is.
  message = str(pytest.raises(errors.UserError, eval_image.main, [
      '--eval_dir', eval_dir, '--output', str(tmp_path / 'cm.jpeg')]).value)
  assert message.endswith('Give --output %s.' % (tmp_path / 'cm_2.png'))
  assert eval_image.main(['--eval_dir', eval_dir, '--output',
                          str(tmp_path / 'cm_2.png')]) == 0


def test_eval_image_refuses_an_ending_alone_then_a_name_before_it(
    eval_dir, tmp_path):
  # Before: "--output .png: ... so the file must be named .png. Give
  # --output .png.png."
  pictures = tmp_path / 'pictures'
  pictures.mkdir()
  output = str(pictures / '.png')
  with pytest.raises(errors.UserError) as raised:
    eval_image.main(['--eval_dir', eval_dir, '--output', output])
  assert str(raised.value) == (
      "--output %s is an ending without a name (Python and matplotlib would "
      "take it for a hidden file's whole name, with no ending). Give a name "
      'before it, such as --output %s.' % (output, pictures / 'picture.png'))
  assert os.listdir(pictures) == []
  # "Give a name before it, such as --output DIR/picture.png."
  typed = str(raised.value).rpartition(' --output ')[2][:-1]
  assert eval_image.main(['--eval_dir', eval_dir, '--output', typed]) == 0
  assert _read(str(pictures / 'picture.png')) == _png_of(3)
  # A folder not there yet, written with its slash: before, "Give --output
  # NEW/.png", the name refused above.
  new = str(pictures / 'new') + os.sep
  with pytest.raises(errors.UserError) as raised:
    eval_image.main(['--eval_dir', eval_dir, '--output', new])
  assert str(raised.value).endswith('Give --output %s.' % os.path.join(
      new, 'picture.png'))


def test_eval_image_of_a_folder_with_a_name_not_utf8_then_the_eval_dir(
    eval_dir, tmp_path):
  # Before: TensorBoard's reader ended in a UnicodeDecodeError traceback.
  photos = tmp_path / 'photos'
  photos.mkdir()
  (photos / os.fsdecode(b'caf\xe9.png')).touch()
  output = str(tmp_path / 'cm.png')
  with pytest.raises(errors.UserError, match='holds a file whose name is not '
                     'UTF-8 text'):
    eval_image.main(['--eval_dir', str(photos), '--output', output])
  assert eval_image.main(['--eval_dir', eval_dir, '--output', output]) == 0


def test_eval_image_saves_the_step_asked_for(eval_dir, tmp_path):
  output = str(tmp_path / 'cm.png')
  assert eval_image.main(['--eval_dir', eval_dir, '--output', output,
                          '--step', '5']) == 0
  assert _read(output) == _png_of(1)


def test_eval_image_refuses_a_step_not_evaluated(eval_dir, tmp_path):
  with pytest.raises(errors.UserError,
                     match=r'No image at global step 7; the steps evaluated '
                           r'are 5, 10\.'):
    eval_image.main(['--eval_dir', eval_dir, '--output',
                     str(tmp_path / 'cm.png'), '--step', '7'])


def test_eval_image_names_a_folder_without_the_image(eval_dir, tmp_path):
  # An evaluation's folder: only the tag is wrong (before: "Run cifar10.eval
  # with --eval_dir DIR first", though it had run).
  with pytest.raises(errors.UserError) as raised:
    eval_image.main(['--eval_dir', eval_dir, '--output',
                     str(tmp_path / 'cm.png'), '--tag', 'images'])
  assert str(raised.value) == (
      "No image summary 'images' in the event files of %s; the images there "
      "are tagged 'confusion_matrix': give --tag one of those." % eval_dir)
  # "give --tag one of those."
  assert eval_image.main(['--eval_dir', eval_dir, '--output',
                          str(tmp_path / 'tagged.png'), '--tag',
                          'confusion_matrix']) == 0
  with pytest.raises(errors.UserError, match='nowhere is not a folder'):
    eval_image.main(['--eval_dir', str(tmp_path / 'nowhere'), '--output',
                     str(tmp_path / 'cm.png')])


def test_eval_image_of_a_runs_folder_then_evaluated_as_told(
    trained_dir, synthetic_data_dir, tmp_path, capsys):
  # Before: "Run cifar10.eval with --eval_dir RUN first", which the
  # evaluator refuses (RUN is a training run's folder).
  run = str(tmp_path / 'run')
  shutil.copytree(trained_dir, run)
  output = str(tmp_path / 'cm.png')
  with pytest.raises(errors.UserError) as raised:
    eval_image.main(['--eval_dir', run, '--output', output])
  message = str(raised.value)
  assert message.startswith(
      "%s is a training run's folder (it holds checkpoints), not an "
      "evaluation's: evaluate it into a folder of its own" % run)
  # The run recorded the folder it trained on: the command is whole, and
  # works as printed. Before: "--data_dir DATA, with DATA replaced by the
  # --data_dir it was trained on".
  command = shlex.split(re.search(r'\((python -m cifar10\.eval [^)]*)\), '
                                  r'then give', message).group(1))
  assert command[:3] == ['python', '-m', 'cifar10.eval']
  assert command[-2:] == ['--data_dir', synthetic_data_dir]
  own = re.search(r'then give --eval_dir (\S+)\.$', message).group(1)
  assert cifar10_eval.main(command[3:] + ['--num_examples', '20']) == 0
  assert eval_image.main(['--eval_dir', own, '--output', output]) == 0
  assert os.path.getsize(output) > 0
  # A run without the record (an earlier version's): DATA, to be replaced.
  # Left as printed, the command downloaded CIFAR-10 into the default
  # --data_dir.
  os.remove(os.path.join(run, run_flags.RUN_FILE))
  os.remove(output)
  with pytest.raises(errors.UserError) as raised:
    eval_image.main(['--eval_dir', run, '--output', output])
  command = shlex.split(re.search(r'\((python -m cifar10\.eval [^,]*), '
                                  r'with DATA replaced by the --data_dir it '
                                  r'was trained on\)', str(raised.value))[1])
  assert command.count('DATA') == 1 and \
      command[command.index('DATA') - 1] == '--data_dir'
  command[command.index('DATA')] = synthetic_data_dir
  shutil.rmtree(own)
  assert cifar10_eval.main(command[3:] + ['--num_examples', '20']) == 0
  assert eval_image.main(['--eval_dir', own, '--output', output]) == 0


def test_eval_image_of_a_folder_of_two_graphs_says_one_line(
    trained_dir, synthetic_data_dir, tmp_path):
  # Before: TensorBoard's "Found more than one graph event per run ...
  # Overwriting the graph with the newest event." (and "Detected out of
  # order event.step") came first, for a run resumed with another graph.
  run = str(tmp_path / 'run')
  shutil.copytree(trained_dir, run)
  with tf.Graph().as_default() as graph:
    tf.constant(1.0, name='another_graph')
    tf.compat.v1.summary.FileWriter(run, graph, filename_suffix='.2').close()
  done = subprocess.run(
      [sys.executable, os.path.join(REPO, 'scripts', 'eval_image.py'),
       '--eval_dir', run, '--output', str(tmp_path / 'cm.png')],
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
      timeout=DEADLINE_SECS)
  assert done.returncode == 1
  assert [line for line in done.stderr.splitlines()
          if not line.startswith('cifar10: using oneDNN CPU kernels')] == [
      "error: %s is a training run's folder (it holds checkpoints), not an "
      "evaluation's: evaluate it into a folder of its own (python -m "
      "cifar10.eval --checkpoint_dir %s --eval_dir %s_eval --run_once "
      "--data_dir %s), then give --eval_dir %s_eval."
      % (run, run, run, synthetic_data_dir, run)]


# ---------------------------------------------------------------------------
# Both: an existing --output
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('tool', ['eval_image', 'distortion_picture'])
def test_an_existing_output_is_kept_then_a_new_file_or_overwrite(
    tool, eval_dir, tmp_path):
  # Before: the user's file was written over without a word.
  if tool == 'eval_image':
    main, args = eval_image.main, ['--eval_dir', eval_dir]
  else:
    data_dir = str(tmp_path / 'data')
    _write_train_file(data_dir, [crafted_record(label, *COLOURS[label])
                                 for label in range(10)])
    main, args = distortion_picture.main, ['--data_dir', data_dir,
                                           '--passes', '1']
  mine = tmp_path / 'mine.png'
  mine.write_bytes(b'my own picture')
  with pytest.raises(errors.UserError) as raised:
    main(args + ['--output', str(mine)])
  assert str(raised.value) == (
      '--output %s exists already, and nothing is written over. Give a new '
      'file, such as --output %s, or add --overwrite to replace it.'
      % (mine, tmp_path / 'mine_2.png'))
  assert mine.read_bytes() == b'my own picture'
  # "Give a new file, such as --output .../mine_2.png".
  assert main(args + ['--output', str(tmp_path / 'mine_2.png')]) == 0
  # "or add --overwrite to replace it".
  assert main(args + ['--output', str(mine), '--overwrite']) == 0
  assert mine.read_bytes() == (tmp_path / 'mine_2.png').read_bytes()
  # A folder is refused even with --overwrite, naming a file inside it.
  with pytest.raises(errors.UserError) as raised:
    main(args + ['--output', str(tmp_path), '--overwrite'])
  assert str(raised.value) == (
      '--output %s is a folder. Give a new file, such as --output %s.'
      % (tmp_path, tmp_path / 'picture.png'))
  assert main(args + ['--output', str(tmp_path / 'picture.png')]) == 0


def _tool_and_args(tool, eval_dir, tmp_path):
  """(main, flags but --output) of a tool that gets its input ready."""
  if tool == 'eval_image':
    return eval_image.main, ['--eval_dir', eval_dir]
  data_dir = str(tmp_path / 'data')
  _write_train_file(data_dir, [crafted_record(label, *COLOURS[label])
                               for label in range(10)])
  return distortion_picture.main, ['--data_dir', data_dir, '--passes', '1']


def follow_mkdir_advice(message):
  """Runs the `mkdir -p DIR` a refusal names, as a user would type it."""
  command = _group(r'\((mkdir -p .+)\) or give', message)
  subprocess.run(shlex.split(command), check=True)


def _group(pattern, text):
  match = re.search(pattern, text)
  assert match, 'no %r in %r' % (pattern, text)
  return match.group(1)


@pytest.mark.parametrize('tool', ['eval_image', 'distortion_picture'])
def test_an_output_in_a_missing_folder_is_refused_then_made_as_told(
    tool, eval_dir, tmp_path, monkeypatch):
  # Before: FileNotFoundError and its traceback, after all the work.
  main, args = _tool_and_args(tool, eval_dir, tmp_path)
  monkeypatch.chdir(tmp_path)
  output = os.path.join('new dir', 'x.png')
  with pytest.raises(errors.UserError) as raised:
    main(args + ['--output', output])
  assert str(raised.value) == (
      "--output new dir/x.png: the folder new dir does not exist. Create it "
      "(mkdir -p 'new dir') or give another --output.")
  assert not os.path.exists('new dir')
  # "or give another --output".
  assert main(args + ['--output', 'x.png']) == 0
  # "Create it (mkdir -p 'new dir')".
  follow_mkdir_advice(str(raised.value))
  assert main(args + ['--output', output]) == 0
  assert Image.open(output).format == 'PNG'


@pytest.mark.parametrize('tool', ['eval_image', 'distortion_picture'])
def test_an_output_below_a_file_is_refused_then_one_in_a_folder(
    tool, eval_dir, tmp_path, monkeypatch):
  main, args = _tool_and_args(tool, eval_dir, tmp_path)
  monkeypatch.chdir(tmp_path)
  (tmp_path / 'notes').write_text('mine')
  (tmp_path / 'x.png').write_bytes(b'my own picture')
  with pytest.raises(errors.UserError) as raised:
    main(args + ['--output', 'notes/sub/x.png'])
  assert str(raised.value) == (
      '--output notes/sub/x.png: notes is a file, not a folder. Give an '
      '--output in a folder, such as --output x_2.png.')
  assert (tmp_path / 'notes').read_text() == 'mine'
  # "such as --output x_2.png": x.png is the user's.
  assert main(args + ['--output', 'x_2.png']) == 0
  assert (tmp_path / 'x.png').read_bytes() == b'my own picture'


def test_distortion_picture_refuses_a_missing_output_folder_in_one_line(
    tmp_path):
  # Before: TensorFlow's held-back start-up lines, then the traceback.
  data_dir = str(tmp_path / 'data')
  _write_train_file(data_dir, [crafted_record(label, *COLOURS[label])
                               for label in range(10)])
  done = subprocess.run(
      [sys.executable, os.path.join(REPO, 'scripts', 'distortion_picture.py'),
       '--data_dir', data_dir, '--output', str(tmp_path / 'nodir' / 'x.png')],
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
      timeout=DEADLINE_SECS)
  assert done.returncode == 1
  assert done.stdout == ''
  assert [line for line in done.stderr.splitlines()
          if not line.startswith('cifar10: using oneDNN CPU kernels')] == [
      'error: --output %s: the folder %s does not exist. Create it (mkdir -p '
      '%s) or give another --output.' % (
          tmp_path / 'nodir' / 'x.png', tmp_path / 'nodir',
          tmp_path / 'nodir')]


@pytest.mark.fast
@pytest.mark.parametrize('tool', ['distortion_picture', 'eval_image',
                                  'layer_table', 'plot_run'])
def test_a_learner_tool_refuses_a_flag_in_one_line(tool, capsys):
  # Before: argparse's usage block, then the complaint, for eval_image,
  # layer_table and plot_run: the package's other scripts say it in one.
  with pytest.raises(SystemExit) as raised:
    script_modules.load(tool).parser().parse_args(['--bogus'])
  assert raised.value.code == 2
  # A missing required flag is named first where the tool has one.
  assert re.fullmatch(
      r'python scripts/{0}\.py: error: (unrecognized arguments: --bogus|the '
      r'following arguments are required: [-\w, ]+) \(python scripts/{0}\.py '
      r'--help lists the flags\)\n'.format(tool), capsys.readouterr().err)
