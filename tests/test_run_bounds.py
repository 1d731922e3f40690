"""--max_steps is the step a run ends at; --num_examples the images counted.

A rerun at --max_steps trains nothing, says so and leaves every file as it
was; a resume from step k trains exactly max_steps - k steps; the same for
the towers and for the chief and workers of a cluster.
"""

import re
import shutil

import pytest

from cifar10 import eval as cifar10_eval
from cifar10 import synthetic
import cifar10.train as train
from conftest import latest_step, summary_values
from test_checkpoint_fit import _snapshot
from test_dist_train import Cluster
from test_train_eval import LOG_LINE


def _nothing_to_do(train_dir, step, max_steps):
  return ('Nothing to do: the global step in %s is already %d and --max_steps '
          'is %d. Raise --max_steps to train further.'
          % (train_dir, step, max_steps))


def _copy(trained_dir, tmp_path):
  train_dir = str(tmp_path / 'train')
  shutil.copytree(trained_dir, train_dir)
  return train_dir


@pytest.mark.fast
@pytest.mark.parametrize('max_steps', [300, 200])
def test_a_run_at_or_past_max_steps_trains_nothing_and_touches_nothing(
    max_steps, trained_dir, synthetic_data_dir, tmp_path, capsys):
  train_dir = _copy(trained_dir, tmp_path)
  before = _snapshot(train_dir)
  assert train.main(['--data_dir', synthetic_data_dir, '--train_dir',
                     train_dir, '--max_steps', str(max_steps),
                     '--batch_size', '4', '--log_frequency', '1']) == 0
  output = capsys.readouterr().out
  assert _nothing_to_do(train_dir, 300, max_steps) in output.splitlines()
  assert 'Resuming' not in output and not LOG_LINE.findall(output)
  assert _snapshot(train_dir) == before


@pytest.mark.fast
def test_a_resume_from_step_k_trains_exactly_max_steps_minus_k_steps(
    trained_dir, synthetic_data_dir, tmp_path, capsys):
  train_dir = _copy(trained_dir, tmp_path)
  assert train.main(['--data_dir', synthetic_data_dir, '--train_dir',
                     train_dir, '--max_steps', '303', '--batch_size', '4',
                     '--log_frequency', '1']) == 0
  steps = [int(step) for step, _, _, _ in
           LOG_LINE.findall(capsys.readouterr().out)]
  assert steps == [301, 302, 303]
  assert latest_step(train_dir) == 303


def test_towers_stop_at_max_steps_and_a_rerun_trains_nothing(
    trained_dir, synthetic_data_dir, tmp_path, children):
  train_dir = _copy(trained_dir, tmp_path)
  towers = ['-m', 'cifar10.multi_gpu_train', '--num_gpus', '2',
            '--virtual_devices', '--data_dir', synthetic_data_dir,
            '--train_dir', train_dir, '--batch_size', '4',
            '--log_frequency', '1', '--max_steps', '302']
  status, output = children(*towers).finish()
  assert status == 0, output[-2000:]
  assert [int(step) for step, _, _, _ in LOG_LINE.findall(output)] == [301,
                                                                       302]
  assert latest_step(train_dir) == 302
  before = _snapshot(train_dir)
  status, output = children(*towers).finish()
  assert status == 0, output[-2000:]
  assert _nothing_to_do(train_dir, 302, 302) in output
  assert not LOG_LINE.findall(output)
  assert _snapshot(train_dir) == before


def test_a_cluster_at_max_steps_trains_nothing_and_every_task_exits(
    trained_dir, synthetic_data_dir, tmp_path, children):
  chief_dir = str(tmp_path / 'worker0')  # Where Cluster points the chief.
  shutil.copytree(trained_dir, chief_dir)
  before = _snapshot(chief_dir)
  outputs = Cluster(children, synthetic_data_dir, tmp_path,
                    '--max_steps', '300').run_all()
  assert _nothing_to_do(chief_dir, 300, 300) in outputs['chief']
  # The other worker reads the step from the ps tasks: its own folder,
  # which it never uses, is not named.
  assert ('Nothing to do: the global step on the parameter servers is '
          'already 300 and --max_steps is 300.') in outputs['worker']
  assert not LOG_LINE.findall(outputs['chief'] + outputs['worker'])
  assert 'ps 0: 2 of 2 workers done.' in outputs['ps0']
  assert _snapshot(chief_dir) == before


@pytest.mark.fast
@pytest.mark.parametrize('num_examples,counted', [(100, 100), (1000, 250),
                                                  (None, 250)])
def test_eval_counts_num_examples_or_all_and_says_when_it_asked_too_many(
    num_examples, counted, trained_dir, synthetic_data_dir, tmp_path, capsys):
  # None: the flag not given, which counts the original's 10,000 or, as
  # here, all the data holds, without a word about a flag the user never
  # wrote.
  given = [] if num_examples is None else ['--num_examples', str(num_examples)]
  assert cifar10_eval.main([
      '--data_dir', synthetic_data_dir, '--checkpoint_dir', trained_dir,
      '--eval_dir', str(tmp_path), '--run_once', '--batch_size', '64'] +
                           given) == 0
  captured = capsys.readouterr()
  output = captured.out
  # An adaptation of a flag, said as the others are: a notice, on stderr.
  assert captured.err == ('notice: --num_examples is 1000, but the test data '
                          'holds 250 images: counted them all.\n'
                          if num_examples == 1000 else '')
  assert '--num_examples' not in output
  assert 'per class, of %d images' % counted in output
  images = [int(whole) for whole in re.findall(
      r'^  \w+ +\S+ +\(\d+ of (\d+)\)', output, re.MULTILINE)]
  assert len(images) == 10 and sum(images) == counted
  # The summary is at the checkpoint's step, a multiple of 1 / counted.
  [(step, precision)] = [(step, value.simple_value)
                         for step, value in summary_values(str(tmp_path))
                         if value.tag == 'Precision @ 1']
  assert step == 300
  assert precision * counted == pytest.approx(round(precision * counted))


@pytest.mark.fast
def test_eval_without_num_examples_counts_the_originals_10000_of_more(
    trained_dir, tmp_path, capsys):
  # 10,500 training images, evaluated as train_eval: the original counted
  # its --num_examples, 10,000, and so does the flag left out.
  data_dir = str(tmp_path / 'data')
  synthetic.write_synthetic_dataset(data_dir, train_records_per_file=2100,
                                    test_records=10, seed=2)
  assert cifar10_eval.main([
      '--data_dir', data_dir, '--checkpoint_dir', trained_dir, '--eval_dir',
      str(tmp_path / 'eval'), '--run_once', '--eval_data', 'train_eval',
      '--batch_size', '128']) == 0
  output = capsys.readouterr().out
  assert 'per class, of 10000 images' in output
  assert '--num_examples' not in output
