"""CIFAR's other published versions: the Python versions (converted once,
read with an unpickler that runs nothing), CIFAR-100's binary version (read
natively, fine or coarse labels), and the versions the port cannot read.
Every data set here is a tiny stand-in the tests make (cifar_formats.py).
"""

import contextlib
import io
import os
import subprocess
import sys

import pytest

from cifar10.support import classes
from cifar10.support import errors
from cifar10.support import flags
from cifar10.support import pickled_batches
import cifar_formats

pytestmark = pytest.mark.fast


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

def test_a_genuine_python2_batch_loads_with_its_arrays_and_lists(tmp_path):
  folder = cifar_formats.write_cifar10_python(tmp_path, train_per_file=7,
                                              test=5)
  batch = pickled_batches.load(os.path.join(folder, 'data_batch_2'))
  assert sorted(batch) == ['batch_label', 'data', 'filenames', 'labels']
  fine, _, images = cifar_formats.examples(7, 1)
  assert batch['data'].dtype.name == 'uint8'
  assert (batch['data'] == images).all()
  assert batch['labels'] == [int(label) for label in fine]


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

