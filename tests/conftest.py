"""Shared fixtures: small CIFAR-10-format data made on the fly, and one trained run.

The suite runs in one of two TensorFlow modes, chosen by the environment
variable CIFAR10_TEST_MODE:

* `v2` (the default): TensorFlow 2's behaviours, as the scripts run;
* `v1`: after `tf.compat.v1.disable_v2_behavior()`, as TF1-style code runs
  the package (Dimension shapes, reference variables, v1 control flow). Only
  the tests marked `both_modes` run, since the rest drive the scripts in
  child processes, which run as `v2` whatever this process does.

The switch is process-wide and cannot be undone, so each mode needs its own
pytest process; it is thrown here, before anything builds a graph. A plain
`python -m pytest` runs both: test_tf1_mode.py runs the `v1` half in a child
pytest and fails naming the child's failures.
"""

import collections
import errno
import fcntl
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from cifar10.support import tensorflow_logs  # pylint: disable=g-import-not-at-top

# TensorFlow's start-up lines, held back as the scripts hold them back: each
# test process (pytest-xdist starts two) would print them otherwise. The CPU
# kernels stay TensorFlow's own choice, so that a test of a fast op against
# the readable one runs on the kernels this CPU gets by default.
tensorflow_logs.hold_back_start_up_lines()

import queue
import re
import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import tensorflow as tf

TF_MODES = ('v2', 'v1')
TF_MODE = os.environ.get('CIFAR10_TEST_MODE', 'v2')
if TF_MODE not in TF_MODES:
  raise pytest.UsageError('CIFAR10_TEST_MODE=%s: use one of %s.'
                          % (TF_MODE, ', '.join(TF_MODES)))
if TF_MODE == 'v1':
  tf.compat.v1.disable_v2_behavior()
# The mode a child process should run in to cross this process's mode.
OTHER_TF_MODE = 'v1' if TF_MODE == 'v2' else 'v2'

# Tests that hold in both modes: `v1` runs only these.
both_modes = pytest.mark.both_modes

from cifar10 import synthetic  # pylint: disable=g-import-not-at-top
import cifar10.train as train  # pylint: disable=g-import-not-at-top
from cifar10.support import eval_report  # pylint: disable=g-import-not-at-top


def pytest_report_header(config):
  del config  # Unused.
  return 'CIFAR10_TEST_MODE=%s (TensorFlow 2 behaviour %s)' % (
      TF_MODE, 'on' if TF_MODE == 'v2' else 'off: disable_v2_behavior()')


def pytest_collection_modifyitems(config, items):
  """Starts the longest tests first; in `v1` mode, keeps only `both_modes`.

  Two test processes share the suite (pytest-xdist): a test of minutes
  begun last would keep one busy while the other has nothing left. The
  order changes no verdict: every test makes its own folders and data.
  """
  items.sort(key=lambda item: not item.get_closest_marker('starts_first'))
  if TF_MODE == 'v2':
    return
  left_out = [item for item in items
              if not item.get_closest_marker('both_modes')]
  if left_out:
    config.hook.pytest_deselected(items=left_out)
    items[:] = [item for item in items if item.get_closest_marker('both_modes')]


def python_args(mode, module, *args):
  """Arguments for a child `python` running `python -m module args` in `mode`.

  In `v1` the child switches TensorFlow 2's behaviours off before running the
  module, as a TF1-style script would.
  """
  if mode == 'v2':
    return ['-m', module] + list(args)
  return ['-c', 'import runpy, tensorflow as tf; '
          'tf.compat.v1.disable_v2_behavior(); '
          'runpy.run_module(%r, run_name="__main__", alter_sys=True)'
          % module] + list(args)

RECORD_BYTES = 3073


def crafted_record(label, red, green, blue):
  """One record by hand: a label byte, then solid red, green and blue planes."""
  return bytes([label]) + bytes([red]) * 1024 + bytes([green]) * 1024 + bytes(
      [blue]) * 1024



def distortion_windows(image):
  """Every 24x24 window of a [32, 32, 3] image, each also mirrored left-right.

  Returns:
    [162, 24, 24, 3] float64: for each top-left corner, the window, then the
    window mirrored.
  """
  windows = []
  for top in range(9):
    for left in range(9):
      window = image[top:top + 24, left:left + 24].astype(np.float64)
      windows += [window, window[:, ::-1]]
  return np.stack(windows)


def _standardize_channels(images):
  """Each channel of [..., H, W, C] images scaled to mean 0 and deviation 1."""
  means = images.mean(axis=(-3, -2), keepdims=True)
  return (images - means) / images.std(axis=(-3, -2), keepdims=True)


def explain_distortion(distorted, windows):
  """The window and contrast factor that a distorted training image shows.

  Brightness, contrast and standardization change each channel of the
  cropped window by an increasing affine map, so the window is the one whose
  channels, each standardized, match the image's. Given the window, the
  image is contrast / s times the window's deviations from its channel
  means, plus 1 / s times the channel means' offsets from the image mean (s
  the standardization's deviation), which gives the factor.

  Args:
    distorted: [24, 24, 3], one image the distortions made.
    windows: distortion_windows of the image it was made from.

  Returns:
    (index into `windows`, contrast factor, largest difference between
    `distorted` and that window contrast-scaled and standardized in numpy,
    with no brightness change).
  """
  distorted = distorted.astype(np.float64)
  mismatch = np.abs(_standardize_channels(windows) -
                    _standardize_channels(distorted)).max(axis=(1, 2, 3))
  index = int(mismatch.argmin())
  window = windows[index]
  channel_means = window.mean(axis=(0, 1))
  deviations = window - channel_means
  offsets = channel_means - channel_means.mean()
  distorted_means = distorted.mean(axis=(0, 1))
  contrast_over_s = (np.sum((distorted - distorted_means) * deviations) /
                     np.sum(np.square(deviations)))
  one_over_s = np.dot(distorted_means, offsets) / np.dot(offsets, offsets)
  contrast = contrast_over_s / one_over_s
  adjusted = contrast * deviations + channel_means
  expected = (adjusted - adjusted.mean()) / adjusted.std()
  return index, contrast, np.abs(expected - distorted).max()


def write_image_folder(src, class_colours, rng, train_per_class=30,
                       test_per_class=10, size=48):
  """SRC/train/<class>/ and SRC/test/<class>/ of noisy solid-colour PNGs.

  Args:
    src: the folder to create.
    class_colours: {class name: (red, green, blue)}; classes of distinct
      colours are learnt in a few hundred steps.
    rng: a numpy.random.Generator for the noise.
    train_per_class, test_per_class: images of each class in each split.
    size: the side of each image, in pixels.
  """
  from PIL import Image  # pylint: disable=g-import-not-at-top
  for split, count in (('train', train_per_class), ('test', test_per_class)):
    for name, colour in class_colours.items():
      folder = os.path.join(src, split, name)
      os.makedirs(folder)
      for index in range(count):
        pixels = np.clip(np.array(colour) + rng.normal(0, 30, [size, size, 3]),
                         0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(os.path.join(folder, '%d.png' % index))


def checkpoint_step(path):
  """The global step in a checkpoint's name: 'model.ckpt-300' -> 300."""
  return int(path.rsplit('-', 1)[1])


def latest_step(folder):
  """The step of the newest checkpoint in `folder`."""
  return checkpoint_step(tf.train.latest_checkpoint(folder))


def graph_events(folder):
  """(graph events, meta graph events) in the event files of `folder`."""
  kinds = collections.Counter()
  for path in tf.io.gfile.glob(os.path.join(folder, 'events.out.tfevents.*')):
    for event in tf.compat.v1.train.summary_iterator(path):
      kinds[event.WhichOneof('what')] += 1
  return kinds['graph_def'], kinds['meta_graph_def']


def summarized_scalar(tag):
  """The value tensor of the default graph's scalar summary tagged `tag`."""
  for op in tf.compat.v1.get_default_graph().get_operations():
    if op.type == 'ScalarSummary' and tf.get_static_value(
        op.inputs[0]) == tag.encode():
      return op.inputs[1]
  raise AssertionError('no scalar summary tagged %r' % tag)


def serve_exported(export_dir, images):
  """The serving signature's outputs for `images`, loaded the TF1 way.

  tf.compat.v1.saved_model.load into a graph and session works with
  TensorFlow 2's behaviours on or off.

  Returns:
    {output name: numpy array}.
  """
  with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
    signature = tf.compat.v1.saved_model.load(
        sess, [tf.saved_model.SERVING], export_dir).signature_def[
            'serving_default']
    return sess.run({name: output.name
                     for name, output in signature.outputs.items()},
                    {signature.inputs['images'].name: images})


# (step, value) of every summary value in a folder's event files.
summary_values = eval_report.summary_values


def built_once(tmp_path_factory, worker_id, name, build):
  """A folder that `build(folder)` fills once for all the session's test processes.

  pytest-xdist's test processes each set up the session's fixtures again,
  and a trained run costs seconds of both cores. So the first process to
  need the folder builds it in the folder the processes share (their
  temporary folders' parent, removed after a passing run), holding a lock
  while it does, and the others wait for it and use what it built. The
  tests only read such a folder; one that changes it works on a copy.

  Args:
    tmp_path_factory, worker_id: the fixtures ('master' when pytest runs
      one test process, as the `v1` half does: it builds its own).
    name: the folder's name.
    build: a function of the folder's path (a str, the folder existing).

  Returns:
    str, the folder's path.
  """
  if worker_id == 'master':
    folder = str(tmp_path_factory.mktemp(name))
    build(folder)
    return folder
  shared = tmp_path_factory.getbasetemp().parent
  folder, done = shared / name, shared / (name + '.done')
  with open(shared / (name + '.lock'), 'w') as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)  # Released as the file closes.
    if not done.exists():
      # A process whose build failed leaves no `done`: build it afresh.
      shutil.rmtree(folder, ignore_errors=True)
      folder.mkdir()
      build(str(folder))
      done.touch()
  return str(folder)


# The tiny data set of the schedule's tests: 15 records in each of the five
# training files, whose short epochs bring the decay within a few steps.
TINY_RECORDS = 75


@pytest.fixture(scope='module')
def tiny_data_dir(tmp_path_factory):
  data_dir = str(tmp_path_factory.mktemp('tiny_data'))
  synthetic.write_synthetic_dataset(data_dir,
                                    train_records_per_file=TINY_RECORDS // 5,
                                    test_records=10, seed=2)
  return data_dir


@pytest.fixture(scope='session')
def synthetic_data_dir(tmp_path_factory, worker_id):
  """A --data_dir holding a small learnable data set in the native format."""
  return built_once(
      tmp_path_factory, worker_id, 'cifar10_data',
      lambda folder: synthetic.write_synthetic_dataset(
          folder, train_records_per_file=200, test_records=250, seed=1))


def _train_300_steps(data_dir, train_dir):
  status = train.main([
      '--data_dir', data_dir, '--train_dir', train_dir,
      '--max_steps', '300', '--batch_size', '32',
      '--save_summaries_steps', '50', '--log_frequency', '50',
      # The tutorial's 0.1 diverges now and then on this very easy data with
      # a batch this small (seed 1 reached 0.664 in one environment, 1.0 in
      # another); 0.05 reached 1.0 with each of four seeds.
      '--initial_learning_rate', '0.05', '--seed', '1'])
  assert status == 0
  # The run's summary writer stays open in TensorFlow's cache, free to
  # write whenever it likes: closed here, since other test processes read
  # the folder from now on.
  tf.compat.v1.summary.FileWriterCache.clear()


@pytest.fixture(scope='session')
def trained_dir(synthetic_data_dir, tmp_path_factory, worker_id):
  """A --train_dir after 300 steps of cifar10.train on the synthetic data."""
  return built_once(tmp_path_factory, worker_id, 'cifar10_train',
                    lambda folder: _train_300_steps(synthetic_data_dir,
                                                    folder))


@pytest.fixture
def rng():
  return np.random.default_rng(1234)


# How long a test waits for a child's log line, checkpoint or exit before
# calling it hung. Only a hang reaches this: a correct run on the slowest CPU
# this project meets (about 7 times slower than the machine the suite was
# tuned on, pinned to one core) takes a small fraction of it. The same on
# every machine, so no test's verdict depends on the machine's speed.
DEADLINE_SECS = 15 * 60


def opens_the_pipe(worker, pipe):
  """Whether `worker`, a started thread, opens the named pipe `pipe`.

  Opening a pipe for writing without waiting works only while a reader
  holds it open: a reader is seen at once, and the writer's close lets it
  go on (to the end of the file), so that code that wrongly opens the pipe
  cannot hang the test either.

  Raises:
    AssertionError: the worker still runs after DEADLINE_SECS.
  """
  opened = False
  end = time.monotonic() + DEADLINE_SECS
  while worker.is_alive() and time.monotonic() < end:
    try:
      os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
      opened = True
    except OSError as error:
      assert error.errno == errno.ENXIO  # No reader.
      worker.join(0.05)
  assert not worker.is_alive(), 'hung for %d s' % DEADLINE_SECS
  return opened


class Child:
  """A child process whose output lines are read as they come."""

  def __init__(self, *args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', PYTHONUNBUFFERED='1')
    self.args = args
    self.process = subprocess.Popen(
        [sys.executable] + list(args), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, env=env)
    self.lines = []
    self._queue = queue.Queue()
    self._reader = threading.Thread(target=self._read, daemon=True)
    self._reader.start()

  def _read(self):
    for line in self.process.stdout:
      self._queue.put(line)
    self._queue.put(None)

  def _next_line(self, end):
    """The next output line, or None at the end of the output.

    Raises AssertionError, with the output so far, once time.monotonic()
    passes `end`: the child is taken to be hung.
    """
    try:
      line = self._queue.get(timeout=max(0.0, end - time.monotonic()))
    except queue.Empty:
      raise AssertionError('hung: still running after %d s; output so far:\n%s'
                           % (DEADLINE_SECS, ''.join(self.lines)[-3000:])
                           ) from None
    if line is not None:
      self.lines.append(line)
    return line

  def wait_for(self, pattern):
    """Reads output until a line matches `pattern`; returns the match.

    Raises AssertionError, with the output, if the child ends its output
    first or DEADLINE_SECS pass.
    """
    end = time.monotonic() + DEADLINE_SECS
    while True:
      line = self._next_line(end)
      if line is None:
        raise AssertionError('the child ended before a line matched %r; '
                             'output:\n%s' % (pattern,
                                               ''.join(self.lines)[-3000:]))
      match = re.search(pattern, line)
      if match:
        return match

  def finish(self):
    """Waits for the exit; returns (status, all output).

    Raises AssertionError, with the output, if the child is still running
    after DEADLINE_SECS.
    """
    end = time.monotonic() + DEADLINE_SECS
    while self._next_line(end) is not None:
      pass
    return self.process.wait(), ''.join(self.lines)

  def kill(self):
    """Kills the child if it still runs, then collects the rest of its output."""
    if self.process.poll() is None:
      self.process.kill()
    self.process.wait()
    # The pipe is closed now, so the reader ends soon.
    self._reader.join(timeout=60)
    while True:
      try:
        line = self._queue.get_nowait()
      except queue.Empty:
        break
      if line is not None:
        self.lines.append(line)


@pytest.fixture
def children():
  """Starts children; kills whatever is still running when the test ends.

  Each child's command, exit status and last output are printed at the end,
  which pytest shows only when the test failed: a task that a failing
  distributed test did not wait for still tells what it was doing.
  """
  started = []

  def start(*args):
    started.append(Child(*args))
    return started[-1]

  yield start
  for number, child in enumerate(started):
    running = child.process.poll() is None
    child.kill()
    print('--- child %d: %s (%s) ---' % (
        number, ' '.join(child.args),
        'killed at the end of the test' if running else
        'exit status %d' % child.process.returncode))
    print(''.join(child.lines)[-3000:])
