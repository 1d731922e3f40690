"""One trainer at a time in a --train_dir.

A trainer holds its folder for as long as it runs; a second one there
(cifar10.train, cifar10.multi_gpu_train, a cifar10.dist_train chief) is
refused in one line before it touches anything, --fresh or not, and each
way out the line offers works. The first trainer is paused (SIGSTOP) while
the others are refused, so that the folder holds still and can be compared
byte for byte, however fast or slow the machine.
"""

import os
import re
import signal
import subprocess

from test_dist_train import Cluster
from test_faults import TOWERS, _train_args
from test_own_classes import _snapshot

# What a trainer prints when another trainer's process holds --train_dir.
_IN_USE = (
    'error: --train_dir {dir} is in use by another trainer (pid {pid}): two '
    'runs there would save over each other\'s checkpoints, and --fresh would '
    'delete the files of the run in progress. Wait for it to finish, stop it '
    '(kill -INT {pid}; it saves a checkpoint first), or give another '
    '--train_dir.')

# A line of TensorFlow's own C++ log ("E0000 00:00:... cuda_platform.cc"),
# which multi_gpu_train's look for GPUs prints where there is no driver.
_TF_LOG_LINE = re.compile(r'^[IWEF]\d{4} ')


def _pause(child):
  """Stops `child` (SIGSTOP) and waits until it is stopped."""
  os.kill(child.process.pid, signal.SIGSTOP)
  _, status = os.waitpid(child.process.pid, os.WUNTRACED)
  assert os.WIFSTOPPED(status), 'it ended instead: %s' % child.finish()[1]


def _refused(child, train_dir, holder):
  """Asserts that `child` was refused in one line, as `holder` is training."""
  status, output = child.finish()
  lines = [line for line in output.splitlines()
           if not _TF_LOG_LINE.match(line)]
  assert (status, lines) == (1, [_IN_USE.format(dir=train_dir,
                                                pid=holder.process.pid)]), (
                                                    output[-3000:])
  return lines[0]


def test_a_second_trainer_is_refused_while_one_runs_then_runs_as_advised(
    synthetic_data_dir, tmp_path, children):
  train_dir = str(tmp_path / 'conc')
  first = children(*_train_args(synthetic_data_dir, train_dir,
                                '--max_steps', '100000'))
  first.wait_for(r': step 5,')
  _pause(first)
  before = _snapshot(train_dir)
  # The three trainers, all at once: a resume, and two that would start
  # over (--fresh), one of them the chief of a cluster; and beside them,
  # "give another --train_dir", while the first still holds its own.
  second_command = _train_args(synthetic_data_dir, train_dir)
  second = children(*second_command, '--max_steps', '100')
  towers = children(*_train_args(synthetic_data_dir, train_dir, '--fresh',
                                 '--max_steps', '100', trainer=TOWERS))
  cluster = Cluster(children, synthetic_data_dir, tmp_path)
  cluster.start('ps', 0)
  chief = cluster.start('worker', 0, '--train_dir', train_dir, '--fresh',
                        '--max_steps', '100')
  other = children(*_train_args(synthetic_data_dir, str(tmp_path / 'other'),
                                '--max_steps', '5'))
  # A trainer whose data is not there yet is refused before it downloads
  # (here from a port where nothing listens, which would fail otherwise).
  no_data = tmp_path / 'no_data'
  undownloaded = children(*_train_args(
      str(no_data), train_dir, '--max_steps', '100', '--data_url',
      'http://127.0.0.1:9/cifar-10-binary.tar.gz'))
  line = _refused(second, train_dir, first)
  assert _refused(undownloaded, train_dir, first) == line
  assert not no_data.exists()
  for refused in (towers, chief):
    assert _refused(refused, train_dir, first) == line
  status, output = other.finish()
  assert status == 0, output[-3000:]
  # Nothing was removed, written or added (no class_names.txt, no lock
  # file), byte for byte.
  assert _snapshot(train_dir) == before

  # "stop it (kill -INT N ...)", in a shell as the line gives it.
  os.kill(first.process.pid, signal.SIGCONT)
  stop = re.search(r'stop it \((kill -INT \d+);', line).group(1)
  subprocess.run(stop, shell=True, check=True)
  status, output = first.finish()
  assert status == 128 + signal.SIGINT, output[-3000:]
  stopped = int(re.search(r'Stopped by SIGINT at step (\d+); saved',
                          output).group(1))
  # The second trainer now resumes the run the first saved.
  resumed = children(*second_command, '--max_steps', str(stopped + 5))
  status, output = resumed.finish()
  assert status == 0, output[-3000:]
  assert '(global step %d)' % stopped in output
  assert 'Finished at step %d' % (stopped + 5) in output


def test_a_finished_or_killed_trainer_leaves_its_folder_free(
    synthetic_data_dir, tmp_path, children):
  train_dir = str(tmp_path)
  first = children(*_train_args(synthetic_data_dir, train_dir,
                                '--max_steps', '30'))
  first.wait_for(r': step 5,')
  _pause(first)
  second_command = _train_args(synthetic_data_dir, train_dir,
                               '--max_steps', '100000')
  _refused(children(*second_command), train_dir, first)
  # "Wait for it to finish".
  os.kill(first.process.pid, signal.SIGCONT)
  assert first.finish()[0] == 0
  second = children(*second_command)
  second.wait_for(r'\(global step 30\)')
  second.wait_for(r': step 35,')
  # SIGKILL leaves no lock behind: the kernel lets go of it with the
  # process, so the folder is resumed at once.
  second.process.kill()
  second.process.wait()
  status, output = children(*_train_args(synthetic_data_dir, train_dir,
                                         '--max_steps', '35')).finish()
  assert status == 0, output[-3000:]
  assert '(global step 30)' in output and 'Finished at step 35' in output
