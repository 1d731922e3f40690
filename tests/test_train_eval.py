"""End to end: train on learnable synthetic data, evaluate, resume, summaries."""

import glob
import math
import os
import re
import shutil
import signal

import pytest
import tensorflow as tf

from cifar10 import eval as cifar10_eval
from cifar10 import training_loop
import cifar10.train as train
from cifar10.support import classes
from cifar10.support import errors
from cifar10.support import script
from cifar10.support import training_run
from conftest import both_modes, graph_events, latest_step, summary_values

# The fast lane (docs/testing.md): the whole file.
pytestmark = pytest.mark.fast

LOG_LINE = re.compile(
    r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: step (\d+), loss = (\S+) '
    r'\(([\d.]+) examples/sec; ([\d.]+) sec/batch\)$', re.MULTILINE)


def assert_rates_agree(examples_per_sec, sec_per_batch, batch_size):
  """examples/sec is batch_size / sec/batch, up to sec/batch's 3 printed decimals."""
  sec_per_batch = float(sec_per_batch)
  assert (batch_size / (sec_per_batch + 0.0005) <= float(examples_per_sec) <=
          batch_size / max(sec_per_batch - 0.0005, 1e-9))


def _tags(folder):
  return {value.tag for _, value in summary_values(folder)}


def _evaluate(data_dir, checkpoint_dir, eval_dir, *extra):
  return cifar10_eval.main([
      '--data_dir', data_dir, '--checkpoint_dir', checkpoint_dir,
      '--eval_dir', eval_dir, '--run_once', '--batch_size', '64'] + list(extra))


@both_modes
def test_training_checkpoints_max_steps_and_writes_the_graph(trained_dir):
  # The log line itself: test_log_line_counts_examples_per_second.
  assert latest_step(trained_dir) == 300
  assert os.path.exists(os.path.join(trained_dir, 'graph.pbtxt'))


@both_modes
def test_trained_checkpoint_classifies_well_above_chance(
    trained_dir, synthetic_data_dir, tmp_path, capsys):
  assert _evaluate(synthetic_data_dir, trained_dir, str(tmp_path)) == 0
  output = capsys.readouterr().out
  precision = float(re.search(r': precision @ 1 = ([\d.]+)$', output,
                              re.MULTILINE).group(1))
  assert precision > 0.7  # Chance is 0.1; runs here reach 1.0.
  assert 'Precision @ 1' in _tags(str(tmp_path))


@both_modes
def test_event_files_hold_the_original_summary_tags(trained_dir):
  tags = _tags(trained_dir)
  expected = {
      'total_loss', 'total_loss (raw)', 'cross_entropy',
      'cross_entropy (raw)', 'conv1/weight_loss', 'conv1/weight_loss (raw)',
      'local3/weight_loss', 'learning_rate', 'conv1/activations',
      'conv1/sparsity', 'local4/sparsity', 'softmax_linear/activations',
      'conv1/weights', 'conv1/weights/gradients', 'softmax_linear/biases',
      'images/image/0'}
  assert expected <= tags, expected - tags
  # None of the names tf.compat.v1.summary would have mangled.
  assert not {'total_loss__raw_', 'total_loss_1'} & tags
  assert not [tag for tag in tags if tag.startswith('conv1/conv1')]


def test_a_train_run_and_an_eval_run_write_no_second_graph(
    trained_dir, synthetic_data_dir, tmp_path):
  # TensorBoard shows one graph per folder and warns of a second one.
  assert graph_events(trained_dir) == (1, 1)
  # The evaluator writes no graph, however many checkpoints it evaluates:
  # here both that the run kept (steps 0 and 300).
  assert cifar10_eval.main([
      '--data_dir', synthetic_data_dir, '--checkpoint_dir', trained_dir,
      '--eval_dir', str(tmp_path), '--all_checkpoints']) == 0
  assert sorted(step for step, value in summary_values(str(tmp_path))
                if value.tag == 'Precision @ 1') == [0, 300]
  assert graph_events(str(tmp_path)) == (0, 0)


def test_a_finished_runs_event_file_ends_with_its_last_save(trained_dir):
  """What the session queued as it closed is in the file, not left behind.

  The checkpoint hook logs its final save as the session closes; left in
  the writer's queue, a process that trains again wrote it only as its next
  run began, perhaps onto a disk that had filled since.
  """
  [path] = glob.glob(os.path.join(trained_dir, 'events.out.tfevents.*'))
  events = list(tf.compat.v1.train.summary_iterator(path))
  last = events[-1]
  assert (last.step, last.WhichOneof('what'), last.session_log.status) == (
      300, 'session_log', tf.compat.v1.SessionLog.CHECKPOINT)

def test_second_run_resumes_from_the_checkpoint(trained_dir, synthetic_data_dir,
                                                tmp_path, capsys):
  train_dir = str(tmp_path / 'train')
  shutil.copytree(trained_dir, train_dir)
  # The flags that shape trained_dir's graph, as a user resumes: the same
  # command with more steps.
  assert train.main(['--data_dir', synthetic_data_dir, '--train_dir', train_dir,
                     '--max_steps', '320', '--batch_size', '32',
                     '--initial_learning_rate', '0.05', '--seed', '1']) == 0
  output = capsys.readouterr().out
  assert 'Resuming from %s (global step 300)' % os.path.join(
      train_dir, 'model.ckpt-300') in output
  steps = [int(step) for step, _, _, _ in LOG_LINE.findall(output)]
  assert steps == [310, 320]
  assert latest_step(train_dir) == 320
  # The resumed process writes its own event file, without the graph the
  # first run's holds: TensorBoard warns of a second graph in one folder.
  # (A resumed run whose graph differs writes it: test_multi_gpu_train.py.)
  assert len(glob.glob(os.path.join(train_dir, 'events.out.tfevents.*'))) == 2
  assert graph_events(train_dir) == (1, 1)


def test_fresh_removes_only_the_earlier_run(trained_dir, synthetic_data_dir,
                                            tmp_path, capsys):
  train_dir = tmp_path / 'train'
  shutil.copytree(trained_dir, train_dir)
  # The user's own files, named only like a run's (before, --fresh removed
  # all but notes.txt), and what a save cut short leaves (removed).
  mine = ['notes.txt', 'model.ckpt-300.index.bak', 'model.ckpt-notes.txt',
          'model.ckpt-300.data-00000-of-00001.keep', 'model.ckpt-300.meta~',
          'events.out.tfevents.backup']
  for name in mine:
    (train_dir / name).write_text('keep me')
  (train_dir / 'model.ckpt-301.index.tempstate123').write_text('partial')
  earlier = sorted(os.listdir(train_dir))
  assert train.main(['--data_dir', synthetic_data_dir, '--train_dir',
                     str(train_dir), '--max_steps', '10', '--batch_size', '32',
                     '--fresh']) == 0
  output = capsys.readouterr().out
  removed = re.search(r'--fresh: removed (\d+) files of an earlier run from '
                      r'\S+((?:\n  \S+)*)', output)
  generic = training_run.GENERIC_RUN_FILES
  assert removed.group(2).split() == sorted(
      set(earlier) - set(mine) - set(generic)) + [
          name for name in generic if name in earlier]
  assert 'model.ckpt-300.index' in removed.group(2).split()
  assert int(removed.group(1)) == len(earlier) - len(mine)
  for name in mine:
    assert (train_dir / name).read_text() == 'keep me'
  assert latest_step(str(train_dir)) == 10


def test_fresh_in_a_new_folder_says_there_was_no_earlier_run(
    synthetic_data_dir, tmp_path, capsys):
  # Before: "--fresh: removed 0 files of an earlier run from DIR".
  train_dir = str(tmp_path / 'new')
  assert train.main(['--data_dir', synthetic_data_dir, '--train_dir',
                     train_dir, '--max_steps', '1', '--batch_size', '8',
                     '--fresh']) == 0
  output = capsys.readouterr().out
  assert ('--fresh: %s holds no earlier run; nothing was removed.\n'
          % train_dir) in output
  assert 'removed 0' not in output


def test_fp16_trains_with_a_finite_loss(synthetic_data_dir, tmp_path, capsys):
  # Few, small steps: float16 convolutions have no fast kernel on a CPU.
  assert train.main(['--data_dir', synthetic_data_dir, '--train_dir',
                     str(tmp_path), '--max_steps', '4', '--batch_size', '8',
                     '--use_fp16', '--log_frequency', '2']) == 0
  losses = [float(loss) for _, loss, _, _ in
            LOG_LINE.findall(capsys.readouterr().out)]
  assert len(losses) == 2 and all(math.isfinite(loss) for loss in losses)


def test_log_line_counts_examples_per_second(synthetic_data_dir, tmp_path,
                                             capsys):
  train.main(['--data_dir', synthetic_data_dir, '--train_dir', str(tmp_path),
              '--max_steps', '30', '--batch_size', '8', '--log_frequency', '15'])
  lines = LOG_LINE.findall(capsys.readouterr().out)
  assert [int(step) for step, _, _, _ in lines] == [15, 30]
  _, _, examples_per_sec, sec_per_batch = lines[1]
  assert_rates_agree(examples_per_sec, sec_per_batch, 8)


def test_a_finished_run_ends_naming_its_last_checkpoint(synthetic_data_dir,
                                                        tmp_path, capsys):
  assert train.main(['--data_dir', synthetic_data_dir, '--train_dir',
                     str(tmp_path), '--max_steps', '10', '--batch_size',
                     '8']) == 0
  last_line = capsys.readouterr().out.splitlines()[-1]
  assert last_line == 'Finished at step 10; saved %s.' % os.path.join(
      str(tmp_path), 'model.ckpt-10')
  assert tf.train.latest_checkpoint(str(tmp_path)).endswith('-10')


@both_modes
def test_eval_without_a_checkpoint_names_the_folder(synthetic_data_dir,
                                                    tmp_path, capsys):
  empty = str(tmp_path / 'no_checkpoints')
  status = script.run(cifar10_eval.main, [
      '--data_dir', synthetic_data_dir, '--checkpoint_dir', empty,
      '--eval_dir', str(tmp_path / 'eval'), '--run_once'])
  assert status == 1
  assert 'No checkpoint file found in --checkpoint_dir %s' % empty in \
      capsys.readouterr().err


def test_eval_run_once_without_a_checkpoint_downloads_and_writes_nothing(
    tmp_path, capsys):
  # The data's folder is new and its URL unreachable: before, the download
  # came first and failed ("Could not download ..."), and a run with
  # network fetched 170 MB, to say then that there was nothing to evaluate.
  data_dir, eval_dir = tmp_path / 'data', tmp_path / 'eval'
  missing = str(tmp_path / 'no_run')
  status = script.run(cifar10_eval.main, [
      '--data_dir', str(data_dir), '--data_url', 'http://127.0.0.1:9/x.tar.gz',
      '--checkpoint_dir', missing, '--eval_dir', str(eval_dir), '--run_once'])
  assert (status, capsys.readouterr().err) == (1, (
      'error: No checkpoint file found in --checkpoint_dir %s (no such '
      'folder). Train first (python -m cifar10.train --train_dir %s '
      '--data_dir %s --data_url http://127.0.0.1:9/x.tar.gz) or point '
      '--checkpoint_dir at a folder holding checkpoints.\n'
      % (missing, missing, data_dir)))
  assert not data_dir.exists() and not eval_dir.exists()


@pytest.mark.parametrize('given', ['data_dir', 'batches'])
def test_the_data_as_checkpoint_dir_is_named_as_the_data(
    given, synthetic_data_dir, trained_dir, tmp_path, capsys):
  # "Train first (python -m cifar10.train --train_dir DATA)" trained into
  # the data's folder.
  folder = (synthetic_data_dir if given == 'data_dir' else
            os.path.join(synthetic_data_dir, 'cifar-10-batches-bin'))
  argv = ['--data_dir', synthetic_data_dir, '--eval_dir',
          str(tmp_path / 'eval'), '--run_once', '--checkpoint_dir']
  assert script.run(cifar10_eval.main, argv + [folder]) == 1
  assert capsys.readouterr().err == (
      'error: --checkpoint_dir %s holds the data set, not the checkpoints of '
      'a training run. Give the --train_dir that cifar10.train wrote its '
      'checkpoints into.\n' % folder)
  # As told: the run's --train_dir.
  assert script.run(cifar10_eval.main, argv + [trained_dir]) == 0


@pytest.mark.parametrize('top_k', ['10', '11'])
def test_eval_refuses_a_top_k_above_the_number_of_classes(
    top_k, synthetic_data_dir, trained_dir, tmp_path, capsys):
  # Before: "top-11 accuracy = 1.000", whatever the model; then "top-10
  # accuracy = 1.000" still, since all 10 classes hold every true one.
  eval_dir = tmp_path / 'eval'
  argv = ['--data_dir', synthetic_data_dir, '--checkpoint_dir', trained_dir,
          '--eval_dir', str(eval_dir), '--run_once', '--top_k']
  assert script.run(cifar10_eval.main, argv + [top_k]) == 1
  assert capsys.readouterr().err == (
      "error: --top_k %s is not less than the 10 classes of the data "
      "(CIFAR-10's, since %s has no batches.meta.txt): every image has its "
      'true class among 10 of them; give --top_k 9 at most.\n'
      % (top_k, os.path.join(synthetic_data_dir, 'cifar-10-batches-bin')))
  assert not eval_dir.exists()
  # As told.
  assert script.run(cifar10_eval.main, argv + ['9']) == 0
  assert re.search(r': top-9 accuracy = \d\.\d{3}$', capsys.readouterr().out,
                   re.M)


def test_eval_run_once_gives_its_notice_about_checkpoint_dir_once(
    synthetic_data_dir, trained_dir, tmp_path, capsys):
  # Before: main looked for the checkpoint, then evaluate() again, each
  # saying how it read --checkpoint_dir.
  index = os.path.join(trained_dir, 'checkpoint')
  assert _evaluate(synthetic_data_dir, index, str(tmp_path)) == 0
  assert capsys.readouterr().err == (
      'notice: --checkpoint_dir %s is the index file of a checkpoint folder: '
      'reading its folder, %s.\n' % (index, trained_dir))


@both_modes
def test_train_dir_that_is_a_file_is_refused(tmp_path):
  path = tmp_path / 'file'
  path.write_text('x')
  with pytest.raises(errors.UserError, match='is a file'):
    with training_run.prepare_train_dir(
        str(path), fresh=False, data_classes=classes.of_data(str(tmp_path))):
      pass


def _toy_graph(nan_from_step):
  """A real one-variable training graph whose loss turns NaN at a given step."""
  global_step = tf.compat.v1.train.get_or_create_global_step()
  weight = tf.compat.v1.get_variable('w', [], initializer=tf.ones_initializer())
  loss = tf.where(global_step >= nan_from_step, tf.constant(float('nan')),
                  weight * weight)
  train_op = tf.compat.v1.train.GradientDescentOptimizer(0.1).minimize(
      loss, global_step=global_step)
  return train_op, loss, global_step


@both_modes
def test_diverging_run_names_the_step_and_keeps_the_good_checkpoint(tmp_path):
  settings = training_loop.LoopSettings(
      train_dir=str(tmp_path), max_steps=100, save_checkpoint_steps=5)
  with tf.Graph().as_default():
    train_op, loss, global_step = _toy_graph(nan_from_step=12)
    with pytest.raises(errors.UserError) as raised:
      training_loop.run(train_op, loss, global_step, 1, settings)
  message = str(raised.value)
  assert 'diverged with loss = NaN at step 13' in message
  assert 'the last good checkpoint is %s.' % (
      tmp_path / 'model.ckpt-10') in message
  assert latest_step(str(tmp_path)) == 10
  weight = tf.train.load_variable(str(tmp_path / 'model.ckpt-10'), 'w')
  assert math.isfinite(weight)


def _signal_during_step(global_step, signum, during_step):
  """An op that sends `signum` to this process while step `during_step` runs.

  The signal lands inside the step, as a Ctrl-C typed at that moment would,
  so which step it interrupts does not depend on the machine's speed.
  """
  def send(step):
    if step == during_step - 1:  # The global step before that step's update.
      os.kill(os.getpid(), signum)
    return step
  return tf.compat.v1.py_func(send, [global_step.read_value()], tf.int64)


@pytest.mark.parametrize('stopped_during, max_steps', [(3, 5), (5, 5)])
def test_a_stop_before_the_last_step_asks_to_resume_and_one_with_it_finishes(
    tmp_path, capsys, stopped_during, max_steps):
  settings = training_loop.LoopSettings(
      train_dir=str(tmp_path), max_steps=max_steps, save_checkpoint_steps=100)
  with tf.Graph().as_default():
    train_op, loss, global_step = _toy_graph(nan_from_step=1000)
    with tf.control_dependencies(
        [_signal_during_step(global_step, signal.SIGINT, stopped_during)]):
      train_op = tf.group(train_op)
    if stopped_during < max_steps:
      with pytest.raises(errors.TrainingInterrupted) as raised:
        training_loop.run(train_op, loss, global_step, 1, settings)
      assert str(raised.value) == (
          'Stopped by SIGINT at step 3; saved %s. Run the same command again '
          'to resume.' % (tmp_path / 'model.ckpt-3'))
    else:
      # Nothing is left to resume: "run again" would only say "Nothing to do".
      assert training_loop.run(train_op, loss, global_step, 1, settings) == 5
      assert capsys.readouterr().out.splitlines()[-1] == (
          'Finished at step 5; saved %s.' % (tmp_path / 'model.ckpt-5'))
  assert latest_step(str(tmp_path)) == stopped_during
