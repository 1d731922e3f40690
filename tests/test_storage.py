"""Paths TensorFlow serves: a run and its data at a URL, and URLs it cannot serve.

`ram://` is TensorFlow's in-memory file system: it lives inside one process,
so the scripts' `main` functions run one after another in a single child.
"""

import os
import subprocess
import sys

import pytest

from cifar10.support import storage
from conftest import DEADLINE_SECS

# The fast lane (docs/testing.md): the URL checks, not the run in memory.

# Synthetic data, 3 training steps, an evaluation, an export and a
# prediction, every path in memory; then what the memory holds.
_RUN_IN_MEMORY = r'''
import sys
import numpy as np
from PIL import Image
import tensorflow as tf
from cifar10 import synthetic, predict, export
import cifar10.eval as evaluation
import cifar10.train as train
from cifar10.support import script

def run(main, *args):
  status = script.run(main, list(args))
  assert status == 0, (main.__module__, status)

run(synthetic.main, '--data_dir', 'ram://data', '--train_records_per_file',
    '40', '--test_records', '30')
run(train.main, '--data_dir', 'ram://data', '--train_dir', 'ram://runs/one',
    '--max_steps', '3', '--batch_size', '8', '--log_frequency', '1')
run(evaluation.main, '--data_dir', 'ram://data', '--checkpoint_dir',
    'ram://runs/one', '--eval_dir', 'ram://eval/one', '--run_once',
    '--batch_size', '10', '--num_examples', '30')
run(export.main, '--checkpoint_dir', 'ram://runs/one', '--export_dir',
    'ram://model/1')
with tf.io.gfile.GFile('ram://images/red.png', 'wb') as out:
  Image.new('RGB', (32, 32), (200, 0, 0)).save(out, format='PNG')
run(predict.main, '--checkpoint_dir', 'ram://runs/one', 'ram://images/red.png')
for folder in ('ram://data/cifar-10-batches-bin', 'ram://runs/one',
               'ram://eval/one', 'ram://model', 'ram://model/1'):
  print('HOLDS', folder, sorted(tf.io.gfile.listdir(folder)))
'''


def _child(args, cwd):
  """Runs python `args` in `cwd`; returns (exit status, output lines)."""
  result = subprocess.run(
      [sys.executable] + args, cwd=str(cwd), stdout=subprocess.PIPE,
      stderr=subprocess.STDOUT, text=True, timeout=DEADLINE_SECS,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2',
               PYTHONPATH=os.path.dirname(os.path.dirname(
                   os.path.abspath(__file__)))))
  return result.returncode, result.stdout.splitlines()


def test_a_run_whose_every_path_is_in_memory_writes_nothing_on_disk(tmp_path):
  status, lines = _child(['-c', _RUN_IN_MEMORY], tmp_path)
  assert status == 0, '\n'.join(lines)
  holds = {line.split()[1]: line.split(' ', 2)[2] for line in lines
           if line.startswith('HOLDS ')}
  assert holds['ram://data/cifar-10-batches-bin'] == repr(sorted(
      ['data_batch_%d.bin' % n for n in range(1, 6)] + ['test_batch.bin']))
  run_files = eval(holds['ram://runs/one'])  # pylint: disable=eval-used
  assert {'checkpoint', 'class_names.txt', 'model.ckpt-3.index'} <= set(
      run_files)
  assert any(name.startswith('events.out.tfevents.') for name in run_files)
  assert any(name.startswith('events.out.tfevents.')
             for name in eval(holds['ram://eval/one']))  # pylint: disable=eval-used
  assert 'saved_model.pb' in holds['ram://model/1']
  assert holds['ram://model'] == "['1']"  # The staging folder is gone.
  assert any('ram://runs/one/model.ckpt-3 (global step 3) on 30 test images: '
             'precision @ 1 = ' in line for line in lines), lines
  assert any('ram://images/red.png' in line for line in lines), lines
  # Nothing local: no folder named "ram:" (or anything else) in the
  # working folder.
  assert os.listdir(tmp_path) == []


# The fast lane runs the first: each script refuses through the same check.
@pytest.mark.parametrize('args', [
    pytest.param(['-m', 'cifar10.train', '--train_dir', 's3://bucket/run'],
                 marks=pytest.mark.fast),
    ['-m', 'cifar10.train', '--data_dir', 's3://bucket/data'],
    ['-m', 'cifar10.eval', '--checkpoint_dir', 's3://bucket/run'],
    ['-m', 'cifar10.export', '--export_dir', 's3://bucket/model'],
    ['-m', 'cifar10.synthetic', '--data_dir', 's3://bucket/data'],
])
def test_a_url_tensorflow_does_not_serve_is_refused_in_one_line(
    tmp_path, args):
  status, lines = _child(args, tmp_path)
  flag, url = args[-2:]
  lines = [line for line in lines if not line.startswith('I0000')]
  assert status == 2, lines
  assert len(lines) == 1, lines
  assert ('error: argument %s: %s: this TensorFlow serves no s3:// paths '
          '(it serves local paths and ' % (flag, url)) in lines[0]
  assert 'Give a local path, or one of those.' in lines[0]
  # Nothing written: no local folder named after the URL.
  assert os.listdir(tmp_path) == []


@pytest.mark.fast
@pytest.mark.parametrize('path, folder, normalized', [
    ('/tmp/a/b', '/tmp/a', '/tmp/a/b'),
    ('ram://runs/x', 'ram://runs', 'ram://runs/x'),
    ('gs://bucket/run/', 'gs://bucket', 'gs://bucket/run'),
    ('ram://x', 'ram://', 'ram://x'),
    ('ram://a//b/../c', 'ram://a//b/..', 'ram://a/c'),
])
def test_urls_keep_their_scheme_where_os_path_would_mangle_it(
    path, folder, normalized):
  assert storage.dirname(path.rstrip('/')) == folder
  assert storage.normpath(path) == normalized
  assert os.path.normpath('gs://bucket/run') == 'gs:/bucket/run'  # Why.


@pytest.mark.fast
def test_the_converter_refuses_a_url_and_says_how_to_get_data_there(tmp_path):
  status, lines = _child(['-m', 'cifar10.convert_images', str(tmp_path),
                          'ram://converted'], tmp_path)
  assert status == 2, lines
  assert lines == [
      'python -m cifar10.convert_images: error: argument OUT: ram://converted is a '
      'URL, but the converter reads and writes local folders only. Convert '
      'into a local folder, then copy its cifar-10-batches-bin/ to the URL '
      '(the other scripts read data there). (python -m '
      'cifar10.convert_images --help lists the flags)']


@pytest.mark.fast
def test_predict_names_an_image_at_a_url_it_cannot_read_and_goes_on(
    trained_dir, tmp_path, capsys):
  from PIL import Image
  from cifar10 import predict
  local = str(tmp_path / 'red.png')
  Image.new('RGB', (32, 32), (200, 0, 0)).save(local)
  assert predict.main(['s3://bucket/cat.png', local, '--checkpoint_dir',
                       trained_dir]) == 1
  shown = capsys.readouterr()
  assert shown.out.splitlines()[1].startswith(local + ': ')
  assert ('s3://bucket/cat.png: this TensorFlow serves no s3:// paths (it '
          'serves local paths and ') in shown.err


@pytest.mark.fast
def test_local_files_that_are_not_regular_files_are_refused_unread(tmp_path):
  # Before: predict opened a named pipe and waited for a writer forever, and
  # read a link to /dev/zero until the memory ran out. The decision is
  # checked first: without it, the reads below would hang or fill memory.
  from cifar10.support import errors
  regular = tmp_path / 'red.png'
  regular.write_bytes(b'bytes')
  pipe = tmp_path / 'pipe.png'
  os.mkfifo(str(pipe))
  zeros = tmp_path / 'zeros.png'
  zeros.symlink_to('/dev/zero')
  linked = tmp_path / 'linked.png'
  linked.symlink_to(regular)
  dangling = tmp_path / 'dangling.png'
  dangling.symlink_to(tmp_path / 'gone.png')
  kinds = {path.name: storage.not_regular(str(path)) for path in (
      regular, pipe, zeros, linked, dangling, tmp_path)}
  assert kinds == {'red.png': None, 'pipe.png': 'a named pipe',
                   'zeros.png': 'a device', 'linked.png': None,
                   'dangling.png': None, tmp_path.name: 'a folder'}
  for path, kind in ((pipe, 'a named pipe'), (zeros, 'a device')):
    with pytest.raises(errors.UserError) as refused:
      storage.read_input_file(str(path))
    assert str(refused.value) == '%s: %s, not a regular file' % (path, kind)
  with pytest.raises(errors.UserError) as refused:
    storage.read_input_file(str(dangling))
  assert str(refused.value) == (
      '%s: cannot read it (No such file or directory)' % dangling)
  assert storage.read_input_file(str(linked)) == b'bytes'
