"""cifar10.eval --all_checkpoints: each checkpoint without a result, oldest first, once."""

import glob
import os
import re
import shutil

import pytest

from cifar10 import eval as cifar10_eval
import cifar10.train as train
from cifar10.support import checkpoints
from cifar10.support import script
from cifar10.support import eval_report
from cifar10.support import paths
from conftest import checkpoint_step, summary_values

# The fast lane (docs/testing.md): the whole file.
pytestmark = pytest.mark.fast


@pytest.fixture(scope='module')
def run_with_checkpoints(synthetic_data_dir, tmp_path_factory):
  """A --train_dir with a checkpoint every 2 of 6 steps."""
  train_dir = str(tmp_path_factory.mktemp('all_checkpoints_train'))
  assert train.main([
      '--data_dir', synthetic_data_dir, '--train_dir', train_dir,
      '--max_steps', '6', '--batch_size', '8', '--save_checkpoint_steps', '2',
      '--keep_checkpoints', '10', '--seed', '1']) == 0
  return train_dir


def _evaluate(data_dir, train_dir, eval_dir, *extra):
  return script.run(cifar10_eval.main, [
      '--data_dir', data_dir, '--checkpoint_dir', train_dir, '--eval_dir',
      eval_dir, '--batch_size', '50', '--num_examples', '50'] + list(extra))


def _precision_steps(eval_dir):
  return sorted(step for step, value in summary_values(eval_dir)
                if value.tag == eval_report.PRECISION_TAG)


def test_each_checkpoint_without_a_result_is_evaluated_oldest_first(
    run_with_checkpoints, synthetic_data_dir, tmp_path, capsys):
  saved = [checkpoint_step(path) for path in
           checkpoints.all_checkpoints(run_with_checkpoints)]
  assert saved == [0, 2, 4, 6]
  eval_dir = str(tmp_path / 'eval')

  # The newest first, as a user evaluating beside training would have.
  assert _evaluate(synthetic_data_dir, run_with_checkpoints, eval_dir,
                   '--run_once') == 0
  assert _precision_steps(eval_dir) == [6]
  capsys.readouterr()

  assert _evaluate(synthetic_data_dir, run_with_checkpoints, eval_dir,
                   '--all_checkpoints') == 0
  printed = capsys.readouterr().out
  assert ('3 of the 4 checkpoints in %s have no result in %s yet.'
          % (run_with_checkpoints, eval_dir)) in printed
  evaluated = [int(step) for step in
               re.findall(r'Evaluating \S+model\.ckpt-(\d+) \(\d of 3\)\.',
                          printed)]
  assert evaluated == [0, 2, 4]
  assert len(re.findall(r': precision @ 1 = \d\.\d{3}\n', printed)) == 3
  assert _precision_steps(eval_dir) == [0, 2, 4, 6]

  # Nothing is evaluated twice, and the line says so plainly. Before: "0 of
  # the 4 checkpoints in RUN have no result in EVAL yet."
  assert _evaluate(synthetic_data_dir, run_with_checkpoints, eval_dir,
                   '--all_checkpoints') == 0
  printed = capsys.readouterr().out
  offered = eval_dir + '_new'
  assert printed == (
      'Nothing to evaluate: all 4 checkpoints in %s have a result in %s '
      'already; give --eval_dir a new folder, such as %s, to evaluate '
      'again.\n' % (run_with_checkpoints, eval_dir, offered))
  assert _precision_steps(eval_dir) == [0, 2, 4, 6]
  # "give --eval_dir a new folder, such as EVAL_new, to evaluate again."
  assert _evaluate(synthetic_data_dir, run_with_checkpoints, offered,
                   '--all_checkpoints') == 0
  assert ('4 of the 4 checkpoints in %s have no result in %s yet.'
          % (run_with_checkpoints, offered)) in capsys.readouterr().out
  assert _precision_steps(offered) == [0, 2, 4, 6]


def _listing(folder):
  """Every file under `folder`, relative to it, with its bytes."""
  return {os.path.relpath(os.path.join(parent, name), folder):
          open(os.path.join(parent, name), 'rb').read()
          for parent, _, names in os.walk(folder) for name in names}


def test_an_eval_dir_of_other_data_is_refused_then_one_of_its_own(
    run_with_checkpoints, synthetic_data_dir, tmp_path, capsys):
  # Before: after an --all_checkpoints of 50 training images into EVAL, an
  # --all_checkpoints of the test set into EVAL found "0 of the 4
  # checkpoints ... have no result" and evaluated nothing, and a --run_once
  # put its precision beside theirs at the same step, unmarked.
  eval_dir = str(tmp_path / 'eval')
  assert _evaluate(synthetic_data_dir, run_with_checkpoints, eval_dir,
                   '--all_checkpoints', '--eval_data', 'train_eval') == 0
  # Each result line names what it scored.
  assert len(re.findall(
      r'model\.ckpt-\d \(global step \d\) on 50 train_eval images: '
      r'precision @ 1 = \d\.\d{3}\n', capsys.readouterr().out)) == 4
  assert paths.evaluated_data(eval_dir) == paths.Scored('train_eval', 50)
  before = _listing(eval_dir)
  for extra, scored, offered in (
      (('--all_checkpoints',), '50 test images', '_test_50'),
      (('--run_once',), '50 test images', '_test_50'),
      (('--run_once', '--eval_data', 'train_eval', '--num_examples', '20'),
       '20 train_eval images', '_train_eval_20')):
    assert _evaluate(synthetic_data_dir, run_with_checkpoints, eval_dir,
                     *extra) == 1
    captured = capsys.readouterr()
    assert 'precision @ 1' not in captured.out
    offered = eval_dir + offered
    assert captured.err == (
        'error: --eval_dir %s holds evaluations of 50 train_eval images (its '
        'evaluated_data.txt says so), not of the %s this one scores: the '
        'two precisions at the same steps would read as one curve in '
        'TensorBoard and scripts/plot_run.py, and --all_checkpoints would '
        'take the steps of one for done in the other. Give --eval_dir a '
        'folder of its own, such as %s.\n' % (eval_dir, scored, offered))
    assert _listing(eval_dir) == before
  # "Give --eval_dir a folder of its own, such as EVAL_test_50."
  offered = eval_dir + '_test_50'
  assert _evaluate(synthetic_data_dir, run_with_checkpoints, offered,
                   '--all_checkpoints') == 0
  printed = capsys.readouterr().out
  assert ('4 of the 4 checkpoints in %s have no result in %s yet.'
          % (run_with_checkpoints, offered)) in printed
  assert len(re.findall(r'\) on 50 test images: precision @ 1 = ',
                        printed)) == 4
  assert _precision_steps(offered) == [0, 2, 4, 6]
  assert paths.evaluated_data(offered) == paths.Scored('test', 50)
  # --num_examples beyond what the data holds counts what it holds (250
  # test images): the same evaluation as the default, not another.
  whole = str(tmp_path / 'whole')
  assert _evaluate(synthetic_data_dir, run_with_checkpoints, whole,
                   '--run_once', '--num_examples', '10000') == 0
  assert _evaluate(synthetic_data_dir, run_with_checkpoints, whole,
                   '--run_once', '--num_examples', '400') == 0
  capsys.readouterr()
  assert paths.evaluated_data(whole) == paths.Scored('test', 250)


def test_a_folder_without_checkpoints_is_named(synthetic_data_dir, tmp_path,
                                               capsys):
  empty = str(tmp_path / 'nothing')
  assert _evaluate(synthetic_data_dir, empty, str(tmp_path / 'eval'),
                   '--all_checkpoints') == 1
  assert ('No checkpoint file found in --checkpoint_dir %s' % empty
          in capsys.readouterr().err)


def _damage(checkpoint_path):
  """Cuts a checkpoint's data file short, as a full disk would."""
  data_file, = glob.glob(checkpoint_path + '.data-*')
  with open(data_file, 'r+b') as data:
    data.truncate(3)


def test_damaged_checkpoints_are_skipped_and_none_usable_is_an_error(
    run_with_checkpoints, synthetic_data_dir, tmp_path, capsys):
  train_dir = str(tmp_path / 'train')
  shutil.copytree(run_with_checkpoints, train_dir)
  found = checkpoints.all_checkpoints(train_dir)
  _damage(found[0])
  eval_dir = str(tmp_path / 'eval')

  # One of four cannot be read: the others are evaluated, and the end says so.
  assert _evaluate(synthetic_data_dir, train_dir, eval_dir,
                   '--all_checkpoints') == 0
  printed = capsys.readouterr().out
  assert printed.count(': skipped: ') == 1
  assert ('Skipped 1 of the 4 checkpoints (each named above); the results '
          'of the others are in %s.' % eval_dir) in printed
  assert _precision_steps(eval_dir) == [2, 4, 6]

  # Only the damaged one is left without a result, and it is still damaged:
  # nothing at all is evaluated, which is an error.
  assert _evaluate(synthetic_data_dir, train_dir, eval_dir,
                   '--all_checkpoints') == 1
  captured = capsys.readouterr()
  assert captured.out.count(': skipped: ') == 1
  assert captured.err == (
      'error: No checkpoint in %s could be evaluated (1 without a result, '
      'each named above with the reason it was skipped).\n' % train_dir)
  assert _precision_steps(eval_dir) == [2, 4, 6]
