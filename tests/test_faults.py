"""Faults lose nothing: signals, kills, concurrent eval, damaged files, full disk.

Training runs in real child processes that the tests signal, kill and
restart; every child is killed at the end of its test, pass or fail.
"""

import errno
import glob
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings

import pytest
import tensorflow as tf

from cifar10 import convert_images
from cifar10 import eval as cifar10_eval
from cifar10 import export
from cifar10 import synthetic
import cifar10.train as train
from cifar10.support import checkpoints
from cifar10.support import classes
from cifar10.support import errors
from cifar10.support import eval_report
from cifar10.support import script
from conftest import DEADLINE_SECS, both_modes, latest_step, summary_values
from test_convert_images import _class_folder
from test_output import _AS_A_USER
from test_own_classes import _snapshot
from test_train_eval import LOG_LINE


def _train_args(data_dir, train_dir, *extra, trainer=('cifar10.train',)):
  return ['-m'] + list(trainer) + [
      '--data_dir', data_dir, '--train_dir', train_dir, '--batch_size', '16',
      '--log_frequency', '5', '--seed', '1'] + list(extra)


TOWERS = ('cifar10.multi_gpu_train', '--num_gpus', '2', '--virtual_devices')


@pytest.mark.parametrize('signum,trainer', [
    (signal.SIGTERM, ('cifar10.train',)), (signal.SIGINT, ('cifar10.train',)),
    (signal.SIGTERM, TOWERS)], ids=['SIGTERM', 'SIGINT', 'SIGTERM-towers'])
def test_signal_saves_the_current_step_and_the_next_run_resumes(
    signum, trainer, synthetic_data_dir, tmp_path, children):
  train_dir = str(tmp_path)
  child = children(*_train_args(synthetic_data_dir, train_dir,
                                '--max_steps', '100000', trainer=trainer))
  child.wait_for(r': step 20,')
  child.process.send_signal(signum)
  status, output = child.finish()
  assert status == 128 + signum
  # A stop the user asked for is said plainly, not as an error.
  assert 'Traceback' not in output and not re.search('^error:', output, re.M)
  stopped = re.search(r'\nStopped by %s at step (\d+); saved (\S+)\. Run '
                      % signal.Signals(signum).name, output)
  assert stopped, output[-3000:]
  assert stopped.group(2) == tf.train.latest_checkpoint(train_dir)
  stopped = int(stopped.group(1))
  assert stopped >= 20 and latest_step(train_dir) == stopped

  resumed = children(*_train_args(synthetic_data_dir, train_dir,
                                  '--max_steps', str(stopped + 10)))
  status, output = resumed.finish()
  assert status == 0
  assert '(global step %d)' % stopped in output
  losses = [float(loss) for _, loss, _, _ in LOG_LINE.findall(output)]
  assert losses and all(math.isfinite(loss) for loss in losses)
  assert latest_step(train_dir) == stopped + 10


def test_a_closed_terminal_saves_the_current_step(synthetic_data_dir,
                                                  tmp_path):
  # Before: SIGHUP (the terminal closed, an SSH connection lost) ended the
  # run at once, status 129, and the steps since its last checkpoint were
  # lost (found by a new user's trial). Its terminal here is a pseudo-
  # terminal, closed before the signal, so that every write to it fails
  # (EIO) as a hung-up terminal's does.
  import pty  # pylint: disable=g-import-not-at-top
  train_dir = str(tmp_path / 'run')
  terminal, its_other_end = pty.openpty()
  child = subprocess.Popen(
      [sys.executable] + _train_args(synthetic_data_dir, train_dir,
                                     '--max_steps', '100000'),
      stdin=subprocess.DEVNULL, stdout=its_other_end, stderr=its_other_end,
      start_new_session=True)
  os.close(its_other_end)
  try:
    seen, deadline = b'', time.monotonic() + DEADLINE_SECS
    while not re.search(rb': step 20,', seen):
      assert child.poll() is None and time.monotonic() < deadline, seen
      seen += os.read(terminal, 4096)
    os.close(terminal)
    child.send_signal(signal.SIGHUP)
    status = child.wait(timeout=DEADLINE_SECS)
  finally:
    child.kill()
  assert status == 128 + signal.SIGHUP
  assert latest_step(train_dir) >= 20


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM],
                         ids=['SIGINT', 'SIGTERM'])
def test_a_stopped_conversion_leaves_nothing_in_out(signum, tmp_path):
  src, out = tmp_path / 'src', tmp_path / 'out'
  _class_folder(str(src), 3, names=('a', 'b'))
  # Each of these files gets a "skipped" line, more of them than a pipe
  # holds (64 KiB by default, 1 MiB at most). Until the test reads the
  # output, the converter waits at one of those lines, its output half
  # written, whatever the machine's speed.
  long_name = 'x' * 200
  for index in range(_SKIP_LINES_BEYOND_A_PIPE):
    (src / 'b' / ('%s%04d.png' % (long_name, index))).write_text(
        'not a picture %d' % index)  # Distinct bytes: no two are copies.
  # The stop's line comes on stderr, apart from the half-written stdout.
  child = subprocess.Popen(
      [sys.executable, '-m', 'cifar10.convert_images', str(src), str(out)],
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
      env=dict(os.environ, PYTHONUNBUFFERED='1'))
  try:
    deadline = time.monotonic() + DEADLINE_SECS
    while not glob.glob(str(out / '.cifar-10-batches-bin.*.part')):
      assert child.poll() is None, 'ended before it began to write'
      assert time.monotonic() < deadline, 'hung before it began to write'
      time.sleep(0.2)
    child.send_signal(signum)
    _, errors_output = child.communicate(timeout=DEADLINE_SECS)
  finally:
    child.kill()
  assert child.returncode == 128 + signum, errors_output[-3000:]
  assert errors_output.splitlines()[-1] == (
      'Stopped by %s: nothing was written to %s.' % (signum.name, out))
  assert not out.exists()  # The run created it, so it removed it.


# Enough lines of some 300 bytes to fill a pipe of 1 MiB.
_SKIP_LINES_BEYOND_A_PIPE = 4000


def _kill_while_saving(child, train_dir):
  """SIGKILLs `child` as soon as a checkpoint is half written in `train_dir`.

  A Saver writes each file of a checkpoint under a temporary name
  (`<file>.tempstate<number>`; a sharded one into a `<prefix>_temp`
  folder), then renames it into place, and last rewrites the `checkpoint`
  file: a kill while such a name exists lands in the middle of a save.

  Returns:
    Whether the half-written file is still there after the kill (the save
    may have finished between the look and the kill).
  """
  def half_written():
    # Those an earlier kill left behind do not count.
    return set(glob.glob(os.path.join(train_dir, '*tempstate*')) +
               glob.glob(os.path.join(train_dir, '*_temp'))) - left_before

  left_before = set()
  left_before = half_written()
  deadline = time.monotonic() + DEADLINE_SECS
  while not half_written():
    assert time.monotonic() < deadline, 'no checkpoint was ever being saved'
    assert child.process.poll() is None, 'training ended before any save'
  child.process.kill()
  child.process.wait()
  return bool(half_written())


def test_sigkill_while_checkpointing_resumes_from_the_last_complete_one(
    synthetic_data_dir, tmp_path, children):
  train_dir = str(tmp_path)
  landed = False
  for _ in range(5):  # Until a kill lands mid-save; almost always the first.
    # A checkpoint every step, after one complete one to fall back on.
    child = children(*_train_args(synthetic_data_dir, train_dir,
                                  '--max_steps', '100000',
                                  '--save_checkpoint_steps', '1'))
    child.wait_for(r': step (\d+),')
    complete = latest_step(train_dir)
    landed = _kill_while_saving(child, train_dir)
    if landed:
      break
  assert landed, 'no kill landed while a checkpoint was half written'
  # The checkpoint file still names the last complete checkpoint, or the one
  # the kill interrupted only after its data was in place.
  last = latest_step(train_dir)
  assert last >= complete
  reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(train_dir))
  assert reader.get_tensor('global_step') == last
  # What the cut saves left: files under their temporary names, and (as a
  # kill between a checkpoint's data and its .index leaves it) data alone.
  orphan = os.path.join(train_dir, 'model.ckpt-%d.data-00000-of-00001'
                        % (last + 1000))
  shutil.copy(tf.train.latest_checkpoint(train_dir) +
              '.data-00000-of-00001', orphan)
  cut = sorted(os.path.basename(path) for path in glob.glob(
      os.path.join(train_dir, '*tempstate*')) + [orphan])
  resumed = children(*_train_args(synthetic_data_dir, train_dir,
                                  '--max_steps', str(last + 5)))
  status, output = resumed.finish()
  assert status == 0, output
  assert '(global step %d)' % last in output
  assert latest_step(train_dir) == last + 5
  # Before, they stayed for good: the Saver deletes only what it lists.
  assert ('Removed %d files of a save cut short (the trainer ended as it '
          'saved), which nothing could restore:%s\n' % (
              len(cut), ''.join('\n  ' + name for name in cut))) in output
  names = os.listdir(train_dir)
  assert not [name for name in names if 'tempstate' in name]
  assert all(name.partition('.data-')[0] + '.index' in names
             for name in names if '.data-' in name)


def test_eval_loop_beside_training_evaluates_each_checkpoint_once(
    synthetic_data_dir, tmp_path, children):
  train_dir, eval_dir = str(tmp_path / 'train'), str(tmp_path / 'eval')
  # One checkpoint kept, a new one every 15 steps: the evaluator finds some
  # deleted before it can read them, more of them the slower it runs.
  trainer = children(*_train_args(synthetic_data_dir, train_dir,
                                  '--max_steps', '100000',
                                  '--save_checkpoint_steps', '15',
                                  '--keep_checkpoints', '1'))
  evaluator = children('-m', 'cifar10.eval', '--data_dir', synthetic_data_dir,
                       '--checkpoint_dir', train_dir, '--eval_dir', eval_dir,
                       '--eval_interval_secs', '1', '--batch_size', '50')
  # So that one checkpoint gets evaluated mid-run on any machine, training
  # pauses at its first checkpoint until the evaluator has read it.
  _wait_until(lambda: tf.train.latest_checkpoint(train_dir), trainer)
  trainer.process.send_signal(signal.SIGSTOP)
  _wait_until(lambda: _evaluated_steps(eval_dir), evaluator)
  trainer.process.send_signal(signal.SIGCONT)
  first = max(_evaluated_steps(eval_dir))
  while int(trainer.wait_for(r': step (\d+),').group(1)) <= first:
    pass
  # Then training stops, with a last checkpoint, which must be evaluated too.
  trainer.process.send_signal(signal.SIGTERM)
  status, output = trainer.finish()
  assert status == 128 + signal.SIGTERM, output[-3000:]
  last = latest_step(train_dir)
  _wait_until(lambda: last in _evaluated_steps(eval_dir), evaluator)
  # The rounds after it find no new checkpoint and must evaluate nothing.
  # Such a round is silent while the index names the checkpoint already
  # evaluated; with the index pointing at a missing checkpoint, each round
  # says 'skipped' and keeps the one it has. A second such line shows that
  # the round of the first has finished, evaluation included.
  with open(os.path.join(train_dir, 'checkpoint'), 'w') as index:
    index.write('model_checkpoint_path: "model.ckpt-999999"\n')
  for _ in range(2):
    evaluator.wait_for(r'skipped: .*checkpoint is damaged or names a '
                       r'checkpoint that is not there')
  evaluator.process.send_signal(signal.SIGTERM)
  _, output = evaluator.finish()
  assert 'Traceback' not in output
  steps = _evaluated_steps(eval_dir)
  assert len(steps) >= 2
  assert len(steps) == len(set(steps))  # Each checkpoint at most once.
  assert max(steps) == last


def _wait_until(condition, child):
  """Polls `condition` until it holds; AssertionError if `child` exits or hangs."""
  deadline = time.monotonic() + DEADLINE_SECS
  while not condition():
    if time.monotonic() > deadline or child.process.poll() is not None:
      child.kill()  # Collects what the child printed.
      raise AssertionError('waited in vain for %s:\n%s' % (
          child.process.args, ''.join(child.lines)[-3000:]))
    time.sleep(0.2)


def _evaluated_steps(eval_dir):
  """The global steps of the 'Precision @ 1' summaries written so far."""
  return [step for step, value in summary_values(eval_dir)
          if value.tag == 'Precision @ 1']


def _copy_of(trained_dir, tmp_path):
  train_dir = str(tmp_path / 'train')
  shutil.copytree(trained_dir, train_dir)
  return train_dir


def _truncate(path):
  with open(path, 'r+b') as stream:
    stream.truncate(os.path.getsize(path) // 2)
  return os.path.getsize(path)


@pytest.mark.fast
@pytest.mark.parametrize('suffix', ['.data-00000-of-00001',
                                    pytest.param('.index', marks=both_modes)])
def test_damaged_checkpoint_is_named_and_training_refuses_to_overwrite_it(
    trained_dir, synthetic_data_dir, tmp_path, suffix, capsys):
  train_dir = _copy_of(trained_dir, tmp_path)
  damaged = os.path.join(train_dir, 'model.ckpt-300' + suffix)
  size = _truncate(damaged)
  before = sorted(os.listdir(train_dir))

  status = script.run(train.main, [
      '--data_dir', synthetic_data_dir, '--train_dir', train_dir,
      '--max_steps', '310', '--batch_size', '16'])
  message = capsys.readouterr().err
  assert status == 1
  assert os.path.join(train_dir, 'model.ckpt-300') in message
  assert '--fresh' in message
  assert sorted(os.listdir(train_dir)) == before
  assert os.path.getsize(damaged) == size

  status = script.run(cifar10_eval.main, [
      '--data_dir', synthetic_data_dir, '--checkpoint_dir', train_dir,
      '--eval_dir', str(tmp_path / 'eval'), '--run_once'])
  assert status == 1
  assert os.path.join(train_dir, 'model.ckpt-300') in capsys.readouterr().err


@pytest.mark.fast
@both_modes
def test_damaged_checkpoint_index_file_is_refused(trained_dir,
                                                 synthetic_data_dir, tmp_path):
  train_dir = _copy_of(trained_dir, tmp_path)
  with open(os.path.join(train_dir, 'checkpoint'), 'w') as index:
    index.write('model_checkpoint_path: "model.ckpt-999"\n')
  with pytest.raises(errors.UserError) as raised:
    train.main(['--data_dir', synthetic_data_dir, '--train_dir', train_dir,
                '--max_steps', '310'])
  assert os.path.join(train_dir, 'checkpoint') in str(raised.value)
  assert '--fresh' in str(raised.value)


# A user's own files, under the names a run writes besides its checkpoints
# and event files.
_USERS_FILES = {'class_names.txt': 'my cats\nmy dogs\nmy birds\n',
                'checkpoint': 'notes\n', 'graph.pbtxt': 'x\n'}


def _contents(folder):
  return {name: open(os.path.join(folder, name)).read()
          for name in os.listdir(folder)}


@pytest.mark.fast
@pytest.mark.parametrize('command', [
    ('cifar10.train',), ('cifar10.train', '--fresh'),
    ('cifar10.multi_gpu_train', '--virtual_devices', '--fresh')],
                         ids=['train', 'train-fresh', 'towers-fresh'])
def test_a_users_files_under_a_runs_names_are_refused_and_kept(
    command, synthetic_data_dir, tmp_path):
  folder = tmp_path / 'proj'
  folder.mkdir()
  for name, text in _USERS_FILES.items():
    (folder / name).write_text(text)
  # A child process: virtual devices need a fresh TensorFlow runtime.
  result = subprocess.run(
      [sys.executable, '-m', command[0], '--data_dir', synthetic_data_dir,
       '--train_dir', str(folder), '--max_steps', '2', '--batch_size', '4'] +
      list(command[1:]), capture_output=True, text=True,
      timeout=DEADLINE_SECS)
  assert result.returncode == 1
  assert result.stderr.splitlines()[-1] == (
      "error: --train_dir %s holds checkpoint, graph.pbtxt, class_names.txt "
      "but no model.ckpt-* or events.out.tfevents.* file of a training run, "
      "so they are not a run's: training would write over them, and --fresh "
      "would delete them. Move them out of %s, or give another --train_dir."
      % (folder, folder))
  assert _contents(folder) == _USERS_FILES


@pytest.mark.fast
def test_a_users_class_names_alone_are_not_taken_for_a_run(synthetic_data_dir,
                                                           tmp_path):
  folder = tmp_path / 'proj'
  folder.mkdir()
  (folder / 'class_names.txt').write_text(_USERS_FILES['class_names.txt'])
  with pytest.raises(errors.UserError) as raised:
    train.main(['--data_dir', synthetic_data_dir, '--train_dir', str(folder),
                '--max_steps', '2', '--batch_size', '4'])
  assert str(raised.value).startswith(
      '--train_dir %s holds class_names.txt but no model.ckpt-* or '
      'events.out.tfevents.* file of a training run, so it is not a run\'s: '
      'training would write over it, and --fresh would delete it. Move it '
      'out of %s' % (folder, folder))
  assert _contents(folder) == {
      'class_names.txt': _USERS_FILES['class_names.txt']}


@pytest.mark.fast
def test_our_class_names_left_by_a_run_stopped_early_are_trained_over(
    synthetic_data_dir, tmp_path):
  # A run stopped before its first checkpoint left only the class names it
  # recorded, before this port's trainers took them away again (see
  # test_output.py): the same command still trains over such a folder.
  folder = tmp_path / 'run'
  folder.mkdir()
  (folder / 'class_names.txt').write_bytes(
      classes.format_names(classes.CIFAR10_NAMES))
  (folder / 'notes.txt').write_text('keep me')
  assert train.main(['--data_dir', synthetic_data_dir, '--train_dir',
                     str(folder), '--max_steps', '2', '--batch_size',
                     '4']) == 0
  assert latest_step(str(folder)) == 2
  assert (folder / 'notes.txt').read_text() == 'keep me'
  assert (folder / 'class_names.txt').read_bytes() == classes.format_names(
      classes.CIFAR10_NAMES)


@pytest.mark.fast
@both_modes
def test_checkpoint_of_another_model_is_refused(synthetic_data_dir, tmp_path):
  train_dir = str(tmp_path)
  with tf.Graph().as_default():
    tf.compat.v1.train.get_or_create_global_step()
    tf.compat.v1.get_variable('conv1/weights', [3, 3, 3, 32])
    saver = tf.compat.v1.train.Saver()
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      saver.save(sess, os.path.join(train_dir, 'model.ckpt'), global_step=7)
  with pytest.raises(errors.UserError) as raised:
    train.main(['--data_dir', synthetic_data_dir, '--train_dir', train_dir,
                '--max_steps', '10'])
  message = str(raised.value)
  assert ('model.ckpt-7 does not fit this graph: it holds conv1/weights as '
          'float32 [3, 3, 3, 32], the graph wants float32 [5, 5, 3, 64] (and '
          '26 more variables differ)') in message  # The 26 it lacks.
  assert '\n' not in message


@both_modes
def test_checkpoint_dir_that_is_a_file_is_refused(synthetic_data_dir,
                                                  tmp_path):
  path = tmp_path / 'not_a_folder'
  path.write_text('x')
  with pytest.raises(errors.UserError, match='%s is a file' % path):
    cifar10_eval.main(['--data_dir', synthetic_data_dir, '--checkpoint_dir',
                       str(path), '--eval_dir', str(tmp_path / 'eval'),
                       '--run_once'])


def test_data_file_vanishing_mid_run_stops_with_its_name_after_a_checkpoint(
    tmp_path, children):
  data_dir, train_dir = str(tmp_path / 'data'), str(tmp_path / 'train')
  # 5 x 40 records: every epoch of 12 steps reads every file again.
  synthetic.write_synthetic_dataset(data_dir, train_records_per_file=40,
                                    test_records=10)
  child = children(*_train_args(data_dir, train_dir, '--max_steps', '100000'))
  child.wait_for(r': step 30,')
  os.remove(os.path.join(data_dir, 'cifar-10-batches-bin', 'data_batch_3.bin'))
  status, output = child.finish()
  assert status == 1
  match = re.search(r'Training stopped at step (\d+):.*data_batch_3\.bin',
                    output)
  assert match, output[-2000:]
  assert 'Saved %s' % os.path.join(train_dir, 'model.ckpt-' + match.group(1)) \
      in output
  assert latest_step(train_dir) == int(match.group(1))


def test_data_file_truncated_mid_run_is_named_and_the_run_resumes(
    tmp_path, children):
  # Every trainer (multi_gpu_train and dist_train workers too) stops through
  # the one training loop: cifar10.train stands for them.
  data_dir, train_dir = str(tmp_path / 'data'), str(tmp_path / 'train')
  synthetic.write_synthetic_dataset(data_dir, train_records_per_file=40,
                                    test_records=10)
  damaged = os.path.join(data_dir, 'cifar-10-batches-bin', 'data_batch_3.bin')
  whole = open(damaged, 'rb').read()
  child = children(*_train_args(data_dir, train_dir, '--max_steps', '100000'))
  child.wait_for(r': step 30,')
  with open(damaged, 'r+b') as stream:
    stream.truncate(50000)  # 16.3 records: the tail of one is cut off.
  status, output = child.finish()
  assert status == 1
  match = re.search(
      r'error: Training stopped at step (\d+): (.*)\nSaved (.*); fix the '
      r'cause and run again to resume\.\n', output)
  assert match, output[-2000:]
  step = int(match.group(1))
  assert match.group(2) == (
      '%s is 50000 bytes, not a whole number of 3073-byte records: it is '
      'truncated or not a CIFAR-10 binary batch file. Replace it with a whole '
      'copy.' % damaged)
  assert match.group(3) == os.path.join(train_dir, 'model.ckpt-%d' % step)
  assert latest_step(train_dir) == step
  # The advice, followed: a whole copy back in place, the same command
  # resumes from that checkpoint.
  with open(damaged, 'wb') as stream:
    stream.write(whole)
  child = children(*_train_args(data_dir, train_dir, '--max_steps',
                                str(step + 5)))
  status, output = child.finish()
  assert status == 0, output[-2000:]
  assert 'Resuming from %s' % match.group(3) in output
  assert latest_step(train_dir) == step + 5


@pytest.fixture
def tmpfs(tmp_path):
  """mount(size): a tmpfs of `size` (such as '24m') for the test, or a skip.

  Each is unmounted when the test ends.
  """
  mounted = []

  def mount(size):
    mount_point = tmp_path / ('tmpfs_' + size)
    mount_point.mkdir()
    result = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=' + size,
                             'tmpfs', str(mount_point)], capture_output=True,
                            text=True)
    if result.returncode:
      # Mounting needs root. The skip alone shows only under -rs; the warning
      # appears in every run's summary, so that nobody takes the full-disk
      # behaviour as tested when it was not.
      reason = ('a full-disk test did not run: it mounts a %s tmpfs, which '
                'needs root (%s)' % (size, result.stderr.strip() or
                                     'mount failed'))
      warnings.warn(pytest.PytestWarning(reason))
      pytest.skip(reason)
    mounted.append(mount_point)
    return mount_point

  yield mount
  for mount_point in mounted:
    subprocess.run(['umount', '-l', str(mount_point)], check=False)


@pytest.fixture
def small_filesystem(tmpfs):
  """A 24 MB tmpfs: room for two checkpoints of this model, not three."""
  return str(tmpfs('24m'))


@pytest.fixture
def roomy_filesystem(tmpfs):
  """A 64 MB tmpfs: room for a run's first checkpoints, and a filler."""
  return str(tmpfs('64m'))


@pytest.fixture
def tiny_filesystem(tmpfs):
  """A 4 MB tmpfs: too small for one checkpoint of this model (8.6 MB)."""
  return tmpfs('4m')


def _fill(folder):
  """Fills the file system of `folder` to its last byte; returns the filler."""
  path = os.path.join(folder, 'filler')
  with open(path, 'wb', buffering=0) as out:
    for size in (1 << 20, 4096, 1):
      try:
        while True:
          out.write(b'\0' * size)
      except OSError:
        pass
  return path


@pytest.mark.fast
def test_a_full_disk_as_a_resumed_run_opens_keeps_its_checkpoint(
    synthetic_data_dir, roomy_filesystem, capsys):
  # The session saves as it opens, resuming too: with the disk full, that
  # save fails before any step.
  train_dir = os.path.join(roomy_filesystem, 'run')
  command = ['--data_dir', synthetic_data_dir, '--train_dir', train_dir,
             '--batch_size', '16', '--max_steps']
  assert script.run(train.main, command + ['3']) == 0
  filler = _fill(roomy_filesystem)
  capsys.readouterr()
  assert script.run(train.main, command + ['6']) == 1
  last = os.path.join(train_dir, 'model.ckpt-3')
  assert capsys.readouterr().err.splitlines() == [
      'error: Could not save a checkpoint into --train_dir %s (No space left '
      'on device). The latest complete checkpoint, %s, is intact: make room '
      'there (or fix the cause) and run again to resume from it.'
      % (train_dir, last)]
  assert not [name for name in os.listdir(train_dir) if 'tempstate' in name]
  # The advice, followed: room made, the same command resumes and finishes.
  os.remove(filler)
  assert script.run(train.main, command + ['6']) == 0
  assert 'Resuming from %s (global step 3).' % last in capsys.readouterr().out
  assert latest_step(train_dir) == 6


@pytest.mark.fast
def test_a_disk_too_full_for_the_first_checkpoint_is_one_line(
    synthetic_data_dir, tiny_filesystem, capsys):
  train_dir = str(tiny_filesystem / 'run')
  command = ['--data_dir', synthetic_data_dir, '--train_dir', train_dir,
             '--max_steps', '3', '--batch_size', '16']
  status = script.run(train.main, command)
  assert status == 1
  assert capsys.readouterr().err.splitlines() == [
      'error: Could not save a checkpoint into --train_dir %s (No space left '
      'on device). Nothing was trained: make room there (or fix the cause) '
      'and run again, or give another --train_dir.' % train_dir]
  # Nothing saved: the new run took away the folder it had made, partial
  # checkpoint files and all.
  assert not os.path.exists(train_dir)
  # The advice, followed: room made there, the same command trains.
  subprocess.run(['mount', '-o', 'remount,size=64m', str(tiny_filesystem)],
                 check=True)
  assert script.run(train.main, command) == 0
  assert latest_step(train_dir) == 3


def _no_room_line(folder):
  """The one line a script says for a write that found `folder` full."""
  return ('error: Could not write into %s (No space left on device); what '
          'was being written is removed. Make room there (or fix the cause) '
          'and run again.\n' % folder)


def _write_unnamed_scratch(folder):
  """A `main` that writes 1 MB into a file without a name in `folder`, as
  the converter keeps its pictures' planes: Python's error names no file."""
  def main(argv):
    del argv  # Unused.
    with tempfile.TemporaryFile(dir=folder) as scratch:
      scratch.write(b'\0' * (1 << 20))
      scratch.flush()
    return 0
  return main


# Not in the fast lane: twelve runs of the scripts, advice followed.
def test_a_full_disk_is_one_line_for_each_script_then_room_and_run_again(
    synthetic_data_dir, tmpfs, tmp_path, capsys):
  # Before: the export, the evaluator and a new training run each ended in
  # TensorFlow's traceback (ResourceExhaustedError, or the event writer's
  # RuntimeError "Failed to flush 1 events"), and the evaluator left an
  # empty event file in the --eval_dir it had made; the converter's
  # traceback named no file at all, and the synthetic data's left its
  # folders behind.
  disk = str(tmpfs('96m'))
  run = os.path.join(disk, 'run')
  assert script.run(train.main, [
      '--data_dir', synthetic_data_dir, '--train_dir', run, '--batch_size',
      '16', '--max_steps', '3']) == 0
  src = str(tmp_path / 'src')
  _class_folder(src, 4)
  # Each command, and the folder its line names: where it found no room.
  new_run = os.path.join(disk, 'run2')
  eval_dir = os.path.join(disk, 'nested', 'eval')
  converted = os.path.join(disk, 'converted')
  synthetic_dir = os.path.join(disk, 'synthetic')
  commands = [
      (export.main, ['--checkpoint_dir', run, '--export_dir',
                     os.path.join(disk, 'exported')], disk),
      (cifar10_eval.main, ['--data_dir', synthetic_data_dir,
                           '--checkpoint_dir', run, '--eval_dir', eval_dir,
                           '--run_once'], eval_dir),
      (train.main, ['--data_dir', synthetic_data_dir, '--train_dir', new_run,
                    '--batch_size', '16', '--max_steps', '3'], new_run),
      (convert_images.main, [src, converted], converted),
      (synthetic.main, ['--data_dir', synthetic_dir, '--train_records_per_file',
                        '10', '--test_records', '10'],
       os.path.join(synthetic_dir, 'cifar-10-batches-bin'))]
  filler = _fill(disk)
  kept = _snapshot(run)
  capsys.readouterr()
  for main, argv, folder in commands:
    assert script.run(main, argv) == 1, argv
    assert capsys.readouterr().err == _no_room_line(folder)
    # Nothing half-written is left: no staging folder, no empty event file,
    # not even the folders made for the output.
    assert sorted(os.listdir(disk)) == ['filler', 'run'], argv
  assert _snapshot(run) == kept
  # A writer that does not say which file: the disk is all the line can
  # name.
  assert script.run(_write_unnamed_scratch(disk)) == 1
  assert capsys.readouterr().err == (
      'error: Could not write a file (No space left on device). Make room on '
      'the disk the script writes to (or fix the cause) and run again.\n')
  # The advice, followed: room made, each command as it was succeeds.
  os.remove(filler)
  for main, argv, _ in commands:
    assert script.run(main, argv) == 0, argv
  assert script.run(_write_unnamed_scratch(disk)) == 0
  assert os.path.isfile(os.path.join(disk, 'exported', 'saved_model.pb'))
  assert os.listdir(eval_dir)
  assert latest_step(new_run) == 3


def test_a_disk_with_a_few_kilobytes_left_loses_no_evaluation_in_silence(
    synthetic_data_dir, trained_dir, tmpfs, capsys):
  # Before: the event file took the first part of the summaries and the
  # writer said nothing; the evaluator printed its result and exited 0,
  # and nothing held it (TensorBoard, --all_checkpoints, plot_run). The
  # result is still shown, before the line that says it was not recorded.
  disk = str(tmpfs('4m'))
  eval_dir = os.path.join(disk, 'eval')
  command = ['--data_dir', synthetic_data_dir, '--checkpoint_dir',
             trained_dir, '--eval_dir', eval_dir, '--run_once',
             '--num_examples', '50', '--batch_size', '50']
  filler = _fill(disk)
  with open(filler, 'r+b') as out:  # 16 KB left: less than one evaluation.
    out.truncate(os.path.getsize(filler) - (16 << 10))
  assert script.run(cifar10_eval.main, command) == 1
  captured = capsys.readouterr()
  assert captured.err == _no_room_line(eval_dir)
  assert re.search(r': precision @ 1 = [01]\.\d{3}', captured.out), (
      captured.out)
  assert not [name for name in os.listdir(eval_dir)
              if name.startswith('events.out.tfevents.')]
  # The advice, followed: room made, the same command records its result.
  os.remove(filler)
  assert script.run(cifar10_eval.main, command) == 0
  assert eval_report.evaluated_steps(eval_dir) == {300}


@pytest.mark.fast
def test_no_room_is_one_line_where_no_disk_can_be_filled(tmp_path, capsys):
  # /dev/full refuses every write as a full disk does (ENOSPC): a file of
  # the run's folder linked to it is one that cannot be written, without
  # mounting a file system (which needs root) to fill.
  folder = str(tmp_path / 'run')
  os.mkdir(folder)
  target = os.path.join(folder, 'notes.bin')
  os.symlink('/dev/full', target)

  def write_through_tensorflow(argv):
    del argv  # Unused.
    with tf.io.gfile.GFile(target, 'wb') as out:
      out.write(b'notes')

  assert script.run(write_through_tensorflow) == 1
  assert capsys.readouterr().err == (
      'error: Could not write into %s (No space left on device); %s is left '
      'incomplete. Make room there (or fix the cause) and run again.\n'
      % (folder, target))
  assert script.run(_write_unnamed_scratch(folder)) == 0  # Room there.

  def lack_memory(argv):
    del argv  # Unused.
    raise tf.errors.ResourceExhaustedError(
        None, None, 'OOM when allocating tensor with shape[128,24,24,64]')

  # A lack of memory raises the same class: it is not said to be a disk's.
  with pytest.raises(tf.errors.ResourceExhaustedError):
    script.run(lack_memory)


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which('setpriv'),
                    reason='root, and no setpriv to write as a user does')
def test_a_read_only_train_dir_is_refused_before_training_then_resumes(
    synthetic_data_dir, trained_dir, tmp_path):
  # Before: the run trained, then failed at its first save, with the advice
  # for a full disk ("make room there").
  train_dir = str(tmp_path / 'run')
  shutil.copytree(trained_dir, train_dir)
  os.chmod(train_dir, 0o555)
  before = _snapshot(train_dir)
  command = _AS_A_USER + [sys.executable] + _train_args(
      synthetic_data_dir, train_dir, '--max_steps', '302')
  refused = subprocess.run(command, capture_output=True, text=True,
                           timeout=DEADLINE_SECS)
  assert refused.returncode == 1, refused.stderr
  assert refused.stderr.splitlines()[-1] == (
      'error: cannot use %s (Permission denied). Give a folder you can '
      'read and write, or change its permissions.' % train_dir)
  assert 'Resuming' not in refused.stdout and 'step' not in refused.stdout
  assert _snapshot(train_dir) == before
  # "or change its permissions": the same command resumes.
  os.chmod(train_dir, 0o755)
  resumed = subprocess.run(command, capture_output=True, text=True,
                           timeout=DEADLINE_SECS)
  assert resumed.returncode == 0, resumed.stderr
  assert 'Resuming from %s' % os.path.join(train_dir, 'model.ckpt-300') in (
      resumed.stdout)
  assert latest_step(train_dir) == 302


@pytest.mark.fast
@pytest.mark.parametrize('staged', [
    '.class_names.txt.0123abcd.part', '.export.89abcdef.part/model/variables'])
def test_a_refused_staging_file_is_named_by_its_folder(staged, tmp_path,
                                                       capsys):
  # Before: "cannot write RUN/.class_names.txt.0123abcd.part", a name the
  # writer made up, in place of the folder the user gave.
  folder = str(tmp_path / 'run')

  def main(argv):
    del argv  # Unused.
    raise PermissionError(errno.EACCES, 'Permission denied',
                          os.path.join(folder, staged))

  assert script.run(main) == 1
  assert capsys.readouterr().err == (
      'error: cannot use %s (Permission denied). Give a folder you can '
      'read and write, or change its permissions.\n' % folder)


@pytest.mark.fast
def test_full_disk_while_checkpointing_keeps_the_previous_checkpoint(
    synthetic_data_dir, small_filesystem, capsys):
  status = script.run(train.main, [
      '--data_dir', synthetic_data_dir, '--train_dir', small_filesystem,
      '--max_steps', '100', '--batch_size', '16',
      '--save_checkpoint_steps', '10'])
  assert status == 1
  # Before: the line named the saver's temporary file, gone by then
  # (model.ckpt-20.data-00000-of-00001.tempstate1689...), and a second save
  # that failed the same way.
  last = latest_step(small_filesystem)
  assert capsys.readouterr().err == (
      'error: Training stopped at step %d. Could not save a checkpoint into '
      '--train_dir %s (No space left on device). The latest complete '
      'checkpoint, %s, is intact: make room there (or fix the cause) and run '
      'again to resume from it.\n' % (
          last + 10, small_filesystem,
          os.path.join(small_filesystem, 'model.ckpt-%d' % last)))
  assert not glob.glob(os.path.join(small_filesystem, '*tempstate*'))
  # The previous checkpoint is whole: evaluation restores it.
  reader = tf.train.load_checkpoint(os.path.join(small_filesystem,
                                                 'model.ckpt-%d' % last))
  assert reader.get_tensor('global_step') == last
  assert reader.get_tensor('conv1/weights').shape == (5, 5, 3, 64)


@pytest.mark.fast
@both_modes
def test_test_file_truncated_while_evaluating_is_named(trained_dir, tmp_path,
                                                       monkeypatch):
  # The file is whole when the evaluator checks it and is cut short once the
  # weights are restored, just before the first batch is read: the moment a
  # copy still being written, or a failing disk, would show it.
  data_dir = str(tmp_path / 'data')
  synthetic.write_synthetic_dataset(data_dir, train_records_per_file=10,
                                    test_records=200)
  damaged = os.path.join(data_dir, 'cifar-10-batches-bin', 'test_batch.bin')
  restore_weights = checkpoints.restore_weights

  def restore_then_truncate(*args, **kwargs):
    step = restore_weights(*args, **kwargs)
    with open(damaged, 'r+b') as stream:
      stream.truncate(50000)  # 16.3 records: the tail of one is cut off.
    return step

  monkeypatch.setattr(checkpoints, 'restore_weights', restore_then_truncate)
  checkpoint = os.path.join(trained_dir, 'model.ckpt-300')
  with tf.Graph().as_default():
    writer = tf.compat.v1.summary.FileWriter(str(tmp_path / 'eval'))
  with pytest.raises(errors.UserError) as raised:
    cifar10_eval.eval_once(checkpoint, 'test', data_dir, 50, 200, False,
                           writer)
  writer.close()
  assert str(raised.value) == (
      'Evaluating %s stopped: %s is 50000 bytes, not a whole number of '
      '3073-byte records: it is truncated or not a CIFAR-10 binary batch '
      'file. Replace it with a whole copy.' % (checkpoint, damaged))


# What `python -m cifar10.X` does as the package is imported (run_as_file),
# then as the script prepares its process: a stop sent before the second
# step is one line, and the second records the handlers the process began
# with, which decide what a later SIGTERM does (script._raise_on_sigterm).
_FIRST_MODULES = """
import os, signal, sys, time
from cifar10.support import run_as_file
run_as_file.stop_at_once_from_now()
if sys.argv[1] == 'stop':
  os.kill(os.getpid(), signal.SIGINT)
  time.sleep(%d)
from cifar10.support import script
script.prepare_process()
print(script._before_start_up[signal.SIGTERM] is signal.SIG_DFL,
      script._before_start_up[signal.SIGINT] is signal.default_int_handler)
""" % DEADLINE_SECS


@pytest.mark.fast
def test_a_stop_before_the_script_prepares_its_process_is_one_line():
  # Before: a Ctrl-C in the first fifth of a second, while a script
  # imported numpy and its flags, ended in a KeyboardInterrupt traceback.
  stopped = subprocess.run(
      [sys.executable, '-c', _FIRST_MODULES, 'stop'], stdout=subprocess.PIPE,
      stderr=subprocess.PIPE, text=True, timeout=DEADLINE_SECS)
  assert (stopped.returncode, stopped.stderr, stopped.stdout) == (
      130, 'Stopped by SIGINT.\n', '')
  started = subprocess.run(
      [sys.executable, '-c', _FIRST_MODULES, 'go'], stdout=subprocess.PIPE,
      stderr=subprocess.PIPE, text=True, timeout=DEADLINE_SECS)
  assert started.returncode == 0, started.stderr
  assert started.stdout == 'True True\n'


# A script whose work is done (its last line said) when the stop comes,
# as the process shuts down.
_STOPPED_AFTER_THE_WORK = """
import os, signal, sys, time
from cifar10.support import script
def main(argv):
  print('Finished.', flush=True)
  return 0
status = script.run(main)
os.kill(os.getpid(), signal.%s)
time.sleep(%d)
sys.exit(status)
"""


@pytest.mark.fast
@pytest.mark.parametrize('stop', ['SIGINT', 'SIGTERM'])
def test_a_stop_after_the_work_is_done_ends_with_its_status(stop):
  # Before: a KeyboardInterrupt traceback and status 130 (SIGTERM: 143),
  # after "Finished at step 300" or the evaluator's result: a `&&` chain
  # stopped there, though nothing was cut short.
  done = subprocess.run(
      [sys.executable, '-c', _STOPPED_AFTER_THE_WORK % (stop, DEADLINE_SECS)],
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
      timeout=DEADLINE_SECS)
  assert (done.returncode, done.stdout, done.stderr) == (0, 'Finished.\n', '')


# A script that says its work is done, then meets a stop while it closes
# what it used (the evaluator, after its report).
_STOPPED_AFTER_WORK_DONE = """
import os, signal, sys, time
from cifar10.support import script
script.prepare_process()  # As a script starts: SIGTERM is a stop too.
def main(argv):
  print('precision @ 1 = 0.5', flush=True)
  %s
  os.kill(os.getpid(), signal.%s)
  time.sleep(%d)  # Closing; the stop comes meanwhile.
  return 0
sys.exit(script.run(main))
"""


@pytest.mark.fast
@pytest.mark.parametrize('stop', ['SIGINT', 'SIGTERM'])
def test_a_stop_after_work_done_ends_with_0_and_before_with_a_stop(stop):
  # Before: Ctrl-C just after the evaluator's report ended it with 130 and
  # "Stopped by SIGINT." (found by a new user's trial: 4 of 4 at once).
  def run(said):
    ran = subprocess.run(
        [sys.executable, '-c', _STOPPED_AFTER_WORK_DONE % (
            said, stop, DEADLINE_SECS)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        timeout=DEADLINE_SECS)
    # (Less the kernel choice's line, which some CPUs get.)
    return ran.returncode, ran.stdout, [
        line for line in ran.stderr.splitlines()
        if not line.startswith('cifar10: using oneDNN CPU kernels')]
  assert run('script.work_done()') == (0, 'precision @ 1 = 0.5\n', [])
  assert run('pass') == (128 + getattr(signal, stop), 'precision @ 1 = 0.5\n',
                         ['Stopped by %s.' % stop])


# The same stop, sent later: as Python tears the modules down, after it has
# put back the signals' default actions (a real script's TensorFlow modules
# take about half a second there). The object's destructor sends it, when
# the module clearing reaches the script's globals.
_STOPPED_AS_PYTHON_ENDS = """
import os, signal, sys
from cifar10.support import script
class StopAsPythonEnds:
  def __del__(self, kill=os.kill, pid=os.getpid(), signum=signal.%s):
    kill(pid, signum)
def main(argv):
  print('Finished.', flush=True)
  return 0
status = script.run(main)
at_the_end = StopAsPythonEnds()
sys.exit(status)
"""


@pytest.mark.fast
@pytest.mark.parametrize('stop', ['SIGINT', 'SIGTERM'])
def test_a_stop_as_python_ends_after_the_work_ends_with_its_status(stop):
  # Before: the default action ended the process, 130 (SIGTERM: 143), in
  # the last half second after 'Finished at step N' (found by a new user's
  # trial, for each script).
  done = subprocess.run(
      [sys.executable, '-c', _STOPPED_AS_PYTHON_ENDS % stop],
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
      timeout=DEADLINE_SECS)
  assert (done.returncode, done.stdout, done.stderr) == (0, 'Finished.\n', '')


@pytest.mark.parametrize('stop', [signal.SIGINT, signal.SIGTERM],
                         ids=['SIGINT', 'SIGTERM'])
def test_a_stop_while_tensorflow_loads_ends_at_once_in_one_line(
    stop, synthetic_data_dir, tmp_path):
  # Sent to the process group, as Ctrl-C at a terminal is. Before: the
  # start-up lines' watcher printed a KeyboardInterrupt traceback of its
  # own, the script another (or went on and trained: TensorFlow's import
  # catches KeyboardInterrupt in places), and held-back lines showed.
  held_back_files = tmp_path / 'tmp'
  held_back_files.mkdir()
  train_dir = tmp_path / 'run'
  child = subprocess.Popen(
      [sys.executable, '-m', 'cifar10.train', '--data_dir', synthetic_data_dir,
       '--train_dir', str(train_dir), '--max_steps', '5'],
      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
      env=dict(os.environ, TMPDIR=str(held_back_files)),
      start_new_session=True)
  # The import holds TensorFlow's lines back in a file there: it has begun,
  # and takes seconds.
  # (Only its file: tempfile.gettempdir() makes and removes a probe file
  # there as the script's modules load, before the stops are caught.)
  deadline = time.monotonic() + DEADLINE_SECS
  while not [name for name in os.listdir(held_back_files)
             if name.startswith('cifar10-tf-start-')]:
    assert child.poll() is None and time.monotonic() < deadline
    time.sleep(0.005)
  os.killpg(child.pid, stop)
  output, _ = child.communicate(timeout=DEADLINE_SECS)
  assert (child.returncode, output) == (
      128 + stop, 'Stopped by %s.\n' % signal.Signals(stop).name)
  assert not os.path.exists(train_dir)
  assert os.listdir(held_back_files) == []
