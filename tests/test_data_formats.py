"""CIFAR's other published versions: the Python versions (converted once,
read with an unpickler that runs nothing), CIFAR-100's binary version (read
natively, fine or coarse labels), and the versions the port cannot read.
Every data set here is a tiny stand-in the tests make (cifar_formats.py).
"""

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from cifar10 import cifar10_input
from cifar10 import eval as cifar10_eval
from cifar10 import export
from cifar10 import predict
from cifar10 import synthetic
import cifar10.train as train
from cifar10.support import batch_files
from cifar10.support import classes
from cifar10.support import data_sets
from cifar10.support import download
from cifar10.support import errors
from cifar10.support import flags
from cifar10.support import pickled_batches
import cifar_formats
from conftest import both_modes, DEADLINE_SECS, serve_exported
import script_modules

ports = script_modules.load('ports')

# The fast lane (docs/testing.md) takes every test here but those that start
# a cluster or the multi-tower trainer.


@pytest.fixture(autouse=True)
def own_cache_root(tmp_path, monkeypatch):
  """Converted copies go under this test's folder, not the system's /tmp."""
  root = str(tmp_path / 'converted')
  monkeypatch.setattr(pickled_batches, 'CACHE_ROOT', root)
  return root


def _listing(folder):
  """Every file below `folder` with its size and modification time."""
  found = {}
  for parent, _, names in os.walk(folder):
    for name in names:
      path = os.path.join(parent, name)
      found[path] = (os.path.getsize(path), os.stat(path).st_mtime_ns)
  return found


def _parse(argv):
  """The flags of cifar10.eval's shared parser, after the data choice;
  (args, what it printed on stderr)."""
  printed = io.StringIO()
  with contextlib.redirect_stderr(printed):
    args = flags.base_parser('cifar10.eval', 'test').parse_args(argv)
  return args, printed.getvalue()


def _refusal(argv):
  """The one-line error the shared parser exits with for `argv`."""
  printed = io.StringIO()
  with contextlib.redirect_stderr(printed), pytest.raises(SystemExit) as exit_:
    flags.base_parser('cifar10.eval', 'test').parse_args(argv)
  assert exit_.value.code == 2
  return printed.getvalue()


class _RunsCode:
  """Pickles as a call of os.system: loading it would create `marker`."""

  def __init__(self, marker):
    self.marker = marker

  def __reduce__(self):
    return (os.system, ('touch %s' % self.marker,))


# ---------------------------------------------------------------------------
# The restricted unpickler
# ---------------------------------------------------------------------------

@pytest.mark.fast
def test_a_genuine_python2_batch_loads_with_its_arrays_and_lists(tmp_path):
  folder = cifar_formats.write_cifar10_python(tmp_path, train_per_file=7,
                                              test=5)
  batch = pickled_batches.load(os.path.join(folder, 'data_batch_2'))
  assert sorted(batch) == ['batch_label', 'data', 'filenames', 'labels']
  fine, _, images = cifar_formats.examples(7, 1)
  assert batch['data'].dtype.name == 'uint8'
  assert (batch['data'] == images).all()
  assert batch['labels'] == [int(label) for label in fine]


@pytest.mark.fast
def test_a_pickle_that_would_run_code_is_refused_and_never_runs(tmp_path):
  marker = tmp_path / 'ran'
  path = tmp_path / 'data_batch_1'
  cifar_formats.python2_pickle({b'data': _RunsCode(marker), b'labels': []},
                               str(path))
  with pytest.raises(errors.UserError) as refused:
    pickled_batches.load(str(path))
  message = str(refused.value)
  assert '\n' not in message
  assert message.startswith('%s: refused to load it' % path)
  assert 'system' in message
  assert not marker.exists()


@pytest.mark.fast
def test_a_damaged_pickle_is_named_in_one_line(tmp_path):
  folder = cifar_formats.write_cifar10_python(tmp_path, train_per_file=7,
                                              test=5)
  path = os.path.join(folder, 'test_batch')
  with open(path, 'r+b') as out:
    out.truncate(300)
  with pytest.raises(errors.UserError) as refused:
    pickled_batches.load(path)
  assert '\n' not in str(refused.value)
  assert str(refused.value).startswith('%s is not a readable pickle' % path)


# ---------------------------------------------------------------------------
# cifar-10-batches-py
# ---------------------------------------------------------------------------

@pytest.mark.fast
def test_cifar10s_python_version_is_converted_once_outside_the_users_folder(
    tmp_path, own_cache_root):
  data_dir = str(tmp_path / 'keras')
  source = cifar_formats.write_cifar10_python(data_dir)
  before = _listing(data_dir)
  args, printed = _parse(['--data_dir', data_dir])
  assert args.dataset == 'cifar10'
  assert args.data_dir.startswith(own_cache_root)
  assert printed.count('\n') == 1 and 'converted' in printed
  batches = os.path.join(args.data_dir, 'cifar-10-batches-bin')
  with open(os.path.join(batches, 'data_batch_3.bin'), 'rb') as stream:
    raw = stream.read()
  fine, _, images = cifar_formats.examples(120, 2)
  assert len(raw) == 120 * 3073
  assert raw[0] == fine[0] and raw[1:3073] == images[0].tobytes()
  assert raw[3073 * 119 + 1:] == images[119].tobytes()
  assert classes.of_data(batches).names == classes.CIFAR10_NAMES
  assert _listing(data_dir) == before  # Nothing of the user's written.

  again, printed = _parse(['--data_dir', data_dir])
  assert again.data_dir == args.data_dir
  assert 'converted earlier' in printed
  # A changed source is converted again.
  cifar_formats.python2_pickle(pickled_batches.load(  # Same content, new time.
      os.path.join(source, 'test_batch')), os.path.join(source, 'test_batch'))
  os.utime(os.path.join(source, 'test_batch'), ns=(1, 1))
  _, printed = _parse(['--data_dir', data_dir])
  assert 'converted' in printed and 'earlier' not in printed


@pytest.mark.fast
def test_a_refused_batch_stops_the_conversion_in_one_line_and_writes_nothing(
    tmp_path, own_cache_root):
  data_dir = str(tmp_path / 'keras')
  source = cifar_formats.write_cifar10_python(data_dir)
  marker = tmp_path / 'ran'
  path = os.path.join(source, 'data_batch_4')
  cifar_formats.python2_pickle({b'data': _RunsCode(marker)}, path)
  before = _listing(data_dir)
  message = _refusal(['--data_dir', data_dir])
  assert message.count('\n') == 1
  assert '%s: refused to load it' % path in message
  assert not marker.exists()
  assert _listing(data_dir) == before
  assert not os.listdir(own_cache_root)  # No partial copy left behind.


@pytest.mark.fast
def test_training_reads_the_python_version_through_the_script(tmp_path):
  data_dir = str(tmp_path / 'keras')
  cifar_formats.write_cifar10_python(data_dir, train_per_file=40, test=20)
  env = dict(os.environ, TMPDIR=str(tmp_path), TF_CPP_MIN_LOG_LEVEL='2')
  done = subprocess.run(
      [sys.executable, '-m', 'cifar10.train', '--data_dir', data_dir,
       '--train_dir', str(tmp_path / 'run'), '--max_steps', '3',
       '--batch_size', '8'], env=env, capture_output=True, text=True,
      timeout=900)
  assert done.returncode == 0, done.stderr
  assert 'notice: converted CIFAR-10\'s Python version' in done.stderr
  assert os.path.isdir(os.path.join(str(tmp_path), 'cifar10_converted'))
  with open(os.path.join(str(tmp_path / 'run'), 'class_names.txt')) as names:
    assert tuple(names.read().split()) == classes.CIFAR10_NAMES



# ---------------------------------------------------------------------------
# CIFAR-100's binary version
# ---------------------------------------------------------------------------

def _records(path, record_bytes):
  with open(path, 'rb') as stream:
    raw = np.frombuffer(stream.read(), np.uint8)
  return raw.reshape(-1, record_bytes)


@pytest.fixture(scope='module')
def cifar100_dir(tmp_path_factory):
  """A --data_dir holding a tiny cifar-100-binary/ (100 fine names)."""
  data_dir = str(tmp_path_factory.mktemp('cifar100'))
  cifar_formats.write_cifar100_binary(data_dir)
  return data_dir


@pytest.fixture(scope='module')
def fine_run(cifar100_dir, tmp_path_factory):
  """A --train_dir after 200 steps of cifar10.train on the fine labels."""
  train_dir = str(tmp_path_factory.mktemp('fine_run'))
  with contextlib.redirect_stdout(io.StringIO()):
    assert train.main([
        '--data_dir', cifar100_dir, '--train_dir', train_dir,
        '--max_steps', '200', '--batch_size', '32', '--seed', '1',
        '--initial_learning_rate', '0.05', '--log_frequency', '100',
        '--save_summaries_steps', '100']) == 0
  return train_dir


@pytest.mark.fast
def test_cifar100_is_read_when_data_dir_holds_it_with_fine_labels_by_default(
    cifar100_dir):
  args, printed = _parse(['--data_dir', cifar100_dir])
  assert printed == ''
  assert (args.dataset, args.data_dir) == ('cifar100', cifar100_dir)
  assert args.data_format == data_sets.CIFAR100_FINE
  assert args.data_url == 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz'
  coarse, _ = _parse(['--data_dir', cifar100_dir, '--label_set', 'coarse'])
  assert coarse.data_format == data_sets.CIFAR100_COARSE


@pytest.mark.fast
@both_modes
def test_the_pipeline_decodes_cifar100_records_with_the_chosen_label(
    cifar100_dir):
  folder = os.path.join(cifar100_dir, 'cifar-100-binary')
  records = _records(os.path.join(folder, 'test.bin'), 3074)
  for data_format, column in ((data_sets.CIFAR100_COARSE, 0),
                              (data_sets.CIFAR100_FINE, 1)):
    with tf.Graph().as_default():
      images, labels = cifar10_input.decode_records(
          tf.constant([records[:5].tobytes()[i * 3074:(i + 1) * 3074]
                       for i in range(5)]), data_format)
      with tf.compat.v1.Session() as sess:
        images, labels = sess.run([images, labels])
    np.testing.assert_array_equal(labels, records[:5, column])
    np.testing.assert_array_equal(
        images, records[:5, 2:].reshape(5, 3, 32, 32).transpose(0, 2, 3, 1))
    assert batch_files.check_batch_file(
        os.path.join(folder, 'train.bin'), data_format=data_format) == 600


@pytest.mark.fast
def test_a_cifar100_label_beyond_its_names_is_refused_by_file_and_record(
    tmp_path):
  folder = cifar_formats.write_cifar100_binary(tmp_path, train=4, test=3)
  path = os.path.join(folder, 'test.bin')
  raw = bytearray(open(path, 'rb').read())
  raw[3074 * 2 + 1] = 100  # Record 2's fine label.
  with open(path, 'wb') as out:
    out.write(raw)
  with pytest.raises(errors.UserError) as raised:
    batch_files.check_batch_file(path, data_format=data_sets.CIFAR100_FINE)
  assert str(raised.value).startswith(
      '%s: record 2 has label 100, but the data has 100 classes' % path)
  # The coarse labels of the same file are fine.
  batch_files.check_batch_file(path, data_format=data_sets.CIFAR100_COARSE)


@pytest.mark.fast
def test_a_missing_cifar100_names_file_is_named(tmp_path):
  folder = cifar_formats.write_cifar100_binary(tmp_path, train=4, test=3)
  os.remove(os.path.join(folder, 'coarse_label_names.txt'))
  with pytest.raises(errors.UserError) as raised:
    data_sets.CIFAR100_COARSE.classes(folder)
  assert str(raised.value) == (
      "%s not found: CIFAR-100's coarse labels are named there. Put it back "
      '(cifar-100-binary.tar.gz holds it).'
      % os.path.join(folder, 'coarse_label_names.txt'))


@pytest.mark.fast
@both_modes
def test_training_on_cifar100_records_its_100_fine_names(fine_run):
  with open(os.path.join(fine_run, classes.RUN_FILE)) as names:
    assert tuple(names.read().split()) == cifar_formats.FINE_NAMES
  checkpoint = tf.train.latest_checkpoint(fine_run)
  assert tf.train.load_variable(checkpoint,
                                'softmax_linear/biases').shape == (100,)


@pytest.mark.fast
def test_eval_on_cifar100_prints_a_readable_row_per_fine_class(
    cifar100_dir, fine_run, tmp_path):
  printed = io.StringIO()
  with contextlib.redirect_stdout(printed):
    assert cifar10_eval.main([
        '--data_dir', cifar100_dir, '--checkpoint_dir', fine_run,
        '--eval_dir', str(tmp_path / 'eval'), '--run_once',
        '--batch_size', '50']) == 0
  lines = printed.getvalue().splitlines()
  fine = _records(os.path.join(cifar100_dir, 'cifar-100-binary', 'test.bin'),
                  3074)[:, 1]
  precision = float(re.search(r'precision @ 1 = ([0-9.]+)',
                              printed.getvalue()).group(1))
  assert precision > 0.5  # Chance is 1/100; ten classes hold the images.
  header = lines.index('  class    recall                precision')
  rows = lines[header + 1:header + 101]
  assert [row.split()[0] for row in rows] == list(cifar_formats.FINE_NAMES)
  # A class the test data does not hold reads as such, on one line.
  assert rows[50] == '  fine_50  -      (0 of 0)       -      (0 of 0)'
  assert re.match(r'  fine_03  [0-9.]{5}  \(\d+ of %d\)'
                  % np.sum(fine == 3), rows[3])


@pytest.mark.fast
@both_modes
def test_predict_and_export_name_cifar100s_fine_classes(
    cifar100_dir, fine_run, tmp_path, capsys):
  records = _records(os.path.join(cifar100_dir, 'cifar-100-binary',
                                  'test.bin'), 3074)[:6]
  images = records[:, 2:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
  files = []
  for index, image in enumerate(images):
    files.append(str(tmp_path / ('%d.png' % index)))
    Image.fromarray(image).save(files[-1])
  assert predict.main(files + ['--json', '--checkpoint_dir', fine_run]) == 0
  report = json.loads(capsys.readouterr().out)
  best = [entry['predictions'][0]['class'] for entry in report['results']]
  assert set(best) <= set(cifar_formats.FINE_NAMES)
  export_dir = str(tmp_path / 'model')
  with contextlib.redirect_stdout(io.StringIO()):
    assert export.main(['--checkpoint_dir', fine_run,
                        '--export_dir', export_dir]) == 0
  outputs = serve_exported(export_dir, images)
  assert outputs['probabilities'].shape == (6, 100)
  assert [name.decode() for name in outputs['class_names']] == best


@pytest.mark.fast
def test_coarse_labels_train_a_20_class_model_named_by_its_file(
    cifar100_dir, tmp_path):
  train_dir = str(tmp_path / 'coarse')
  with contextlib.redirect_stdout(io.StringIO()):
    assert train.main([
        '--data_dir', cifar100_dir, '--train_dir', train_dir,
        '--label_set', 'coarse', '--max_steps', '2', '--batch_size', '8']) == 0
  with open(os.path.join(train_dir, classes.RUN_FILE)) as names:
    assert tuple(names.read().split()) == cifar_formats.COARSE_NAMES
  # The fine labels' run is not resumed on the coarse ones.
  with pytest.raises(errors.UserError) as raised:
    train.main(['--data_dir', cifar100_dir, '--train_dir', train_dir,
                '--max_steps', '3', '--batch_size', '8'])
  assert 'run with --fresh' in str(raised.value)


def _cifar100_tarball(path):
  """A tarball shaped like cifar-100-binary.tar.gz; returns its MD5."""
  source = os.path.join(os.path.dirname(path), 'source')
  cifar_formats.write_cifar100_binary(source, train=4, test=3)
  with tarfile.open(path, 'w:gz') as archive:
    archive.add(os.path.join(source, 'cifar-100-binary'), 'cifar-100-binary')
  with open(path, 'rb') as stream:
    return hashlib.md5(stream.read()).hexdigest()


@pytest.mark.fast
def test_cifar100s_tarball_is_extracted_after_its_checksum(tmp_path):
  data_dir = tmp_path / 'data'
  data_dir.mkdir()
  md5 = _cifar100_tarball(str(data_dir / 'cifar-100-binary.tar.gz'))
  folder = download.maybe_download_and_extract(
      str(data_dir), expected_md5=md5, data_format=data_sets.CIFAR100_FINE)
  assert sorted(os.listdir(folder)) == [
      'coarse_label_names.txt', 'fine_label_names.txt', 'test.bin',
      'train.bin']
  shutil.rmtree(folder)
  # With the published checksum, this stand-in is refused.
  with pytest.raises(errors.UserError) as raised:
    download.maybe_download_and_extract(str(data_dir),
                                        data_format=data_sets.CIFAR100_FINE)
  assert str(raised.value).startswith(
      '%s has MD5 %s, expected 03b5dce01913d631647c71ecec9e9cb8'
      % (data_dir / 'cifar-100-binary.tar.gz', md5))


@pytest.mark.fast
def test_cifar100s_published_download_and_the_dataset_flag(tmp_path):
  assert data_sets.CIFAR100_FINE.url == (
      'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz')
  assert data_sets.CIFAR100_FINE.md5 == '03b5dce01913d631647c71ecec9e9cb8'
  empty = str(tmp_path / 'new')
  args, _ = _parse(['--data_dir', empty])
  assert (args.dataset, args.data_url) == ('cifar10', download.DATA_URL)
  args, _ = _parse(['--data_dir', empty, '--dataset', 'cifar100'])
  assert args.data_format == data_sets.CIFAR100_FINE
  assert args.data_url == data_sets.CIFAR100_URL
  mirror, _ = _parse(['--data_dir', empty, '--dataset', 'cifar100',
                      '--data_url', 'http://mirror/c.tgz'])
  assert mirror.data_url == 'http://mirror/c.tgz'


# ---------------------------------------------------------------------------
# Choosing among what --data_dir holds
# ---------------------------------------------------------------------------

@pytest.mark.fast
def test_a_folder_holding_both_reads_cifar10_and_says_how_to_read_the_other(
    tmp_path, cifar100_dir):
  data_dir = str(tmp_path / 'both')
  shutil.copytree(cifar100_dir, data_dir)
  synthetic.write_synthetic_dataset(data_dir, 5, 5)
  args, printed = _parse(['--data_dir', data_dir])
  assert args.dataset == 'cifar10'
  assert printed == ('notice: --data_dir %s holds CIFAR-10 and CIFAR-100: '
                     'reading CIFAR-10; --dataset cifar100 reads the other.\n'
                     % data_dir)
  args, _ = _parse(['--data_dir', data_dir, '--dataset', 'cifar100'])
  assert args.data_format == data_sets.CIFAR100_FINE


@pytest.mark.fast
def test_coarse_labels_with_cifar10_are_refused_by_flag(synthetic_data_dir):
  message = _refusal(['--data_dir', synthetic_data_dir, '--label_set',
                      'coarse'])
  assert message.count('\n') == 1
  assert ('--label_set coarse: CIFAR-10 has one set of labels; coarse and '
          "fine are CIFAR-100's. Leave it out, or give --dataset cifar100."
          in message)


@pytest.mark.fast
def test_the_extracted_cifar100_folder_given_as_data_dir_means_its_parent(
    cifar100_dir):
  args, printed = _parse(['--data_dir', os.path.join(cifar100_dir,
                                                     'cifar-100-binary')])
  assert args.data_dir == cifar100_dir
  assert args.dataset == 'cifar100'
  assert 'is the extracted folder itself' in printed


@pytest.mark.fast
@pytest.mark.parametrize('folder, what', [
    ('cifar-10-batches-mat', "CIFAR-10's MATLAB version"),
    ('cifar-100-matlab', "CIFAR-100's MATLAB version")])
def test_a_version_the_port_cannot_read_gets_one_line_saying_what_to_do(
    tmp_path, folder, what):
  os.makedirs(str(tmp_path / folder))
  before = _listing(str(tmp_path))
  message = _refusal(['--data_dir', str(tmp_path)])
  assert message.count('\n') == 1
  assert '--data_dir %s holds %s/ (%s), which this port cannot read.' % (
      tmp_path, folder, what) in message
  assert 'or give a new --data_dir to download the binary version' in message
  assert _listing(str(tmp_path)) == before


@pytest.mark.fast
def test_an_unextracted_python_tarball_gets_the_command_that_extracts_it(
    tmp_path):
  (tmp_path / 'cifar-100-python.tar.gz').write_bytes(b'x')
  message = _refusal(['--data_dir', str(tmp_path)])
  assert message.count('\n') == 1
  assert ('holds cifar-100-python.tar.gz, the Python version of CIFAR-100, '
          'not yet extracted: extract it (tar -xzf %s -C %s)'
          % (tmp_path / 'cifar-100-python.tar.gz', tmp_path)) in message


# ---------------------------------------------------------------------------
# cifar-100-python
# ---------------------------------------------------------------------------

@pytest.mark.fast
def test_cifar100s_python_version_converts_to_both_label_bytes(
    tmp_path, own_cache_root):
  data_dir = str(tmp_path / 'torchvision')
  cifar_formats.write_cifar100_python(data_dir, train=30, test=20)
  before = _listing(data_dir)
  args, printed = _parse(['--data_dir', data_dir, '--label_set', 'coarse'])
  assert 'converted CIFAR-100\'s Python version' in printed
  assert args.data_dir.startswith(own_cache_root)
  assert args.data_format == data_sets.CIFAR100_COARSE
  folder = os.path.join(args.data_dir, 'cifar-100-binary')
  records = _records(os.path.join(folder, 'test.bin'), 3074)
  fine, coarse, images = cifar_formats.examples(20, 1)
  np.testing.assert_array_equal(records[:, 0], coarse)
  np.testing.assert_array_equal(records[:, 1], fine)
  np.testing.assert_array_equal(records[:, 2:], images)
  assert data_sets.CIFAR100_COARSE.classes(folder).names == (
      cifar_formats.COARSE_NAMES)
  assert data_sets.CIFAR100_FINE.classes(folder).names == (
      cifar_formats.FINE_NAMES)
  assert _listing(data_dir) == before


# ---------------------------------------------------------------------------
# CIFAR-100 through the multi-GPU and the cluster trainers
# ---------------------------------------------------------------------------

def _run_names_and_outputs(train_dir):
  with open(os.path.join(train_dir, classes.RUN_FILE)) as names:
    recorded = tuple(names.read().split())
  return recorded, tf.train.load_variable(
      tf.train.latest_checkpoint(train_dir), 'softmax_linear/biases').shape


def test_multi_gpu_training_reads_cifar100s_coarse_labels(cifar100_dir,
                                                          tmp_path):
  train_dir = str(tmp_path / 'towers')
  done = subprocess.run(
      [sys.executable, '-m', 'cifar10.multi_gpu_train', '--num_gpus', '2',
       '--virtual_devices', '--data_dir', cifar100_dir, '--label_set',
       'coarse', '--train_dir', train_dir, '--max_steps', '3',
       '--batch_size', '8'], capture_output=True, text=True, timeout=900)
  assert done.returncode == 0, done.stderr[-3000:]
  assert _run_names_and_outputs(train_dir) == (cifar_formats.COARSE_NAMES,
                                               (20,))


def test_a_cluster_trains_on_cifar100s_fine_labels(cifar100_dir, tmp_path,
                                                   children):
  ps, worker0, worker1 = ports.free_ports(3)
  common = ['-m', 'cifar10.dist_train', '--ps_hosts', '127.0.0.1:%d' % ps,
            '--worker_hosts', '127.0.0.1:%d,127.0.0.1:%d' % (worker0, worker1),
            '--data_dir', cifar100_dir, '--batch_size', '8', '--max_steps',
            '4', '--startup_timeout', str(DEADLINE_SECS)]
  tasks = [children(*common, '--job_name', job, '--task_index', str(index),
                    '--train_dir', str(tmp_path / ('%s%d' % (job, index))))
           for job, index in (('ps', 0), ('worker', 0), ('worker', 1))]
  for task in tasks:
    status, output = task.finish()
    assert status == 0, output[-3000:]
  assert _run_names_and_outputs(str(tmp_path / 'worker0')) == (
      cifar_formats.FINE_NAMES, (100,))
