"""One evaluator at a time in an --eval_dir.

Two evaluators writing into one folder each wrote every result, and
TensorBoard showed each point twice (found by a new user's trial). An
evaluator holds its folder from its start (making it, where it is missing,
and taking it away again where nothing was written) to its end; a second
one is refused in one line before it evaluates, and its way out works. The
waiting evaluator holds still between checkpoints, so the folder can be
compared byte for byte.
"""

import os
import signal

import pytest

from cifar10 import eval as cifar10_eval
from cifar10.support import errors
from cifar10.support import eval_report
from cifar10.support import paths
from test_own_classes import _snapshot

# What an evaluator is told where another one's process holds --eval_dir.
_IN_USE = (
    '--eval_dir {dir} is in use by another evaluator{pid}: each would write '
    'its results there, and TensorBoard would show them twice. Wait for it '
    'to finish, stop it ({stop}), or give another --eval_dir.')


def _eval_args(data_dir, run, eval_dir, *extra):
  return ['--data_dir', data_dir, '--checkpoint_dir', run, '--eval_dir',
          eval_dir, '--num_examples', '20', '--batch_size', '20'] + list(extra)


def test_a_second_evaluator_is_refused_then_runs_once_the_first_stops(
    trained_dir, synthetic_data_dir, tmp_path, children):
  eval_dir = str(tmp_path / 'eval')
  first = children('-m', 'cifar10.eval', *_eval_args(
      synthetic_data_dir, trained_dir, eval_dir, '--eval_interval_secs',
      '1000'))
  first.wait_for(r'precision @ 1 = ')
  # It waits now for a new checkpoint, which comes in 1000 s at the
  # earliest: the folder holds still.
  before = _snapshot(eval_dir)
  pid = first.process.pid
  for extra in (['--run_once'], ['--all_checkpoints']):
    with pytest.raises(errors.UserError) as raised:
      cifar10_eval.main(_eval_args(synthetic_data_dir, trained_dir, eval_dir,
                                   *extra))
    assert str(raised.value) == _IN_USE.format(
        dir=eval_dir, pid=' (pid %d)' % pid, stop='kill -INT %d' % pid)
  assert _snapshot(eval_dir) == before
  os.kill(pid, signal.SIGINT)  # "stop it (kill -INT PID)"
  status, output = first.finish()
  assert status == 128 + signal.SIGINT, output[-3000:]
  assert cifar10_eval.main(_eval_args(synthetic_data_dir, trained_dir,
                                      eval_dir, '--run_once')) == 0
  # And "give another --eval_dir" needs no stop.
  assert cifar10_eval.main(_eval_args(synthetic_data_dir, trained_dir,
                                      str(tmp_path / 'another'),
                                      '--run_once')) == 0


def test_a_new_folder_is_held_from_the_start_and_taken_away_if_unused(
    trained_dir, tmp_path):
  # Two evaluators started where --eval_dir did not exist: the second was
  # refused only as its first results came, after it had evaluated and
  # printed them (a new user's trial). The folder is made, to be locked,
  # as the first starts; the second is refused before it evaluates.
  eval_dir = str(tmp_path / 'new' / 'eval')
  record = paths.EvaluationRecord(eval_dir, trained_dir)
  first = eval_report.ResultsWriter(eval_dir, record)
  try:
    assert os.listdir(eval_dir) == []
    with pytest.raises(errors.UserError) as raised:
      eval_report.ResultsWriter(eval_dir, record)
    # The holder is this process, as /proc/locks names it where it has it.
    assert str(raised.value) in (
        _IN_USE.format(dir=eval_dir, pid=' (pid %d)' % os.getpid(),
                       stop='kill -INT %d' % os.getpid()),
        _IN_USE.format(dir=eval_dir, pid='', stop='Ctrl-C where it runs'))
  finally:
    first.close()
  # Nothing written (a refused checkpoint, a stop): the folders it made go,
  # and the folder is as it was.
  assert not os.path.exists(str(tmp_path / 'new'))
  # Free again, and written into, it stays.
  writer = eval_report.ResultsWriter(eval_dir, record)
  try:
    writer.add_summary(b'')
    writer.flush()
    assert len(os.listdir(eval_dir)) == 2  # Its event file and the record.
  finally:
    writer.close()
  assert len(os.listdir(eval_dir)) == 2
