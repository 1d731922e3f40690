"""benchmarks/accuracy_table.py: a run's rows from its event files, and the docs' copy of them."""

import json
import os
import re
import subprocess
import sys

import tensorflow as tf

from conftest import DEADLINE_SECS
import documents
import pytest

import script_modules

# The fast lane (docs/testing.md): the whole file.
pytestmark = pytest.mark.fast

accuracy_table = script_modules.load('accuracy_table')


def _write_scalars(folder, tag, points, process=''):
  """An event file holding `tag` at each (step, value, wall_time) of `points`.

  `process` tells apart the files of two trainer processes written within
  one second (the file's name holds the second it was opened).
  """
  with tf.Graph().as_default():
    writer = tf.compat.v1.summary.FileWriter(folder, filename_suffix=process)
    for step, value, wall_time in points:
      summary = tf.compat.v1.Summary(
          value=[tf.compat.v1.Summary.Value(tag=tag, simple_value=value)])
      writer.add_event(tf.compat.v1.Event(wall_time=wall_time, step=step,
                                          summary=summary))
    writer.close()


def _write_trainer_summaries(folder, points, process=''):
  """A trainer process's clock and speed summaries at (step, wall_time, steps/sec)."""
  _write_scalars(folder, accuracy_table.TRAINING_CLOCK_TAG,
                 [(step, 0.1, wall_time) for step, wall_time, _ in points],
                 process)
  _write_scalars(folder, accuracy_table.STEPS_PER_SECOND_TAG,
                 [(step, rate, wall_time) for step, wall_time, rate in points],
                 process + '.speed')


def test_rows_time_each_checkpoint_by_the_trainers_summaries(tmp_path):
  train_dir, eval_dir = str(tmp_path / 'train'), str(tmp_path / 'eval')
  start = 1.0e9
  # The trainer's summaries every 100 steps, 360 s apart, at 0.25 steps a
  # second but for one slow interval.
  _write_trainer_summaries(
      train_dir, [(1, start, 0.25), (101, start + 360, 0.25),
                  (201, start + 720, 0.125), (301, start + 1080, 0.25)])
  # Checkpoints evaluated out of order, as an eval folder can hold them.
  _write_scalars(eval_dir, 'Precision @ 1',
                 [(300, 0.8125, start + 5000), (0, 0.0625, start + 4000),
                  (200, 0.75, start + 4500)])
  table = accuracy_table.accuracy_rows(train_dir, eval_dir, [0.75, 0.8, 0.9],
                                      batch_size=64)
  assert table['checkpoints'] == [
      {'step': 0, 'precision': 0.0625, 'hours': 0.0},
      # The last summary at or before step 200 is step 101's, 360 s in.
      {'step': 200, 'precision': 0.75, 'hours': 0.1},
      {'step': 300, 'precision': 0.8125, 'hours': 0.2}]
  assert table['thresholds'] == {'0.75': table['checkpoints'][1],
                                 '0.80': table['checkpoints'][2],
                                 '0.90': None}
  text = accuracy_table.markdown(table, 'A test run.', {
      'cpu': 'a CPU', 'cores': 2, 'tensorflow': '2.21.0',
      'date': '2026-12-04'})
  assert '| 200 | 0.7500 | 0.10 |' in text
  assert '- First at or above 0.80: step 300 (0.8125), after 0.20 hours.' in text
  assert '- First at or above 0.90: never.' in text
  # The median of 0.25, 0.25, 0.125 and 0.25 steps a second, 64 examples each.
  assert table['examples_per_sec'] == 16.0
  assert ('- Training speed: 16 examples/sec, the median of the trainer\'s '
          'global_step/sec summaries times its batch of 64.') in text
  assert table['pauses'] == []
  assert 'Stopped' not in text


def test_a_resumed_run_is_timed_as_if_it_had_not_stopped(tmp_path):
  train_dir, eval_dir = str(tmp_path / 'train'), str(tmp_path / 'eval')
  start = 1.0e9
  # The first process: summaries 100 s apart, then it stopped after step 201
  # (its checkpoint at step 250). The second, started an hour later, resumed
  # from that checkpoint: its summaries 90 s apart.
  _write_trainer_summaries(
      train_dir, [(1, start, 1.0), (101, start + 100, 1.0),
                  (201, start + 200, 1.0)], process='.first')
  resumed = start + 200 + 3600
  _write_trainer_summaries(
      train_dir, [(251, resumed, 2.0), (351, resumed + 90, 2.0),
                  (451, resumed + 180, 2.0)], process='.second')
  _write_scalars(eval_dir, 'Precision @ 1',
                 [(250, 0.5, resumed - 10), (450, 0.75, resumed + 200)])
  table = accuracy_table.accuracy_rows(train_dir, eval_dir, [0.7],
                                       batch_size=128)
  # The hour between steps 201 and 251 counts as the median of the
  # ordinary intervals (100, 100, 90, 90): 95 s. Step 450's last summary is
  # step 351's: 200 + 95 + 90 = 385 s of training.
  assert table['pauses'] == [{'after_step': 201, 'before_step': 251,
                              'seconds': 3600.0, 'counted_as': 95.0}]
  assert table['checkpoints'] == [
      {'step': 250, 'precision': 0.5, 'hours': round(200 / 3600.0, 4)},
      {'step': 450, 'precision': 0.75, 'hours': round(385 / 3600.0, 4)}]
  assert table['thresholds'] == {'0.70': table['checkpoints'][1]}
  assert table['examples_per_sec'] == 1.5 * 128
  text = accuracy_table.markdown(table, 'A resumed run.', {
      'cpu': 'a CPU', 'cores': 2, 'tensorflow': '2.21.0',
      'date': '2026-12-06'})
  assert ('- Stopped and resumed between the summaries of steps 201 and 251: '
          'those 3600.0 s count as 95.0 s, the usual time between two '
          'summaries.') in text


def test_a_run_too_short_for_a_speed_summary_has_rows_but_no_speed(tmp_path):
  train_dir, eval_dir = str(tmp_path / 'train'), str(tmp_path / 'eval')
  # One summary, at the first step: the trainer's steps/sec comes only with
  # its second.
  _write_scalars(train_dir, accuracy_table.TRAINING_CLOCK_TAG,
                 [(1, 0.1, 1.0e9)])
  _write_scalars(eval_dir, 'Precision @ 1', [(20, 0.25, 1.0e9 + 30)])
  table = accuracy_table.accuracy_rows(train_dir, eval_dir, [0.2],
                                       batch_size=128)
  assert table['checkpoints'] == [{'step': 20, 'precision': 0.25,
                                   'hours': 0.0}]
  assert table['examples_per_sec'] is None
  text = accuracy_table.markdown(table, 'A short run.', {
      'cpu': 'a CPU', 'cores': 2, 'tensorflow': '2.21.0',
      'date': '2026-12-06'})
  assert '- First at or above 0.20: step 20 (0.2500), after 0.00 hours.' in text
  assert 'Training speed' not in text

def test_the_script_writes_the_figures_without_tensorflows_start_up_lines(
    tmp_path):
  train_dir, eval_dir = str(tmp_path / 'train'), str(tmp_path / 'eval')
  _write_trainer_summaries(train_dir, [(1, 1.0e9, 4.0), (101, 1.0e9 + 25, 4.0)])
  _write_scalars(eval_dir, 'Precision @ 1', [(101, 0.5, 1.0e9 + 30)])
  saved = str(tmp_path / 'run.json')
  environment = {name: value for name, value in os.environ.items()
                 if name != 'TF_CPP_MIN_LOG_LEVEL'}
  done = subprocess.run(
      [sys.executable, os.path.join(documents.REPO, 'benchmarks',
                                    'accuracy_table.py'),
       '--train_dir', train_dir, '--eval_dir', eval_dir, '--threshold', '0.5',
       '--batch_size', '32', '--about', 'Crafted.', '--json', saved],
      capture_output=True, text=True, env=environment, timeout=DEADLINE_SECS)
  assert (done.returncode, done.stderr) == (0, '')
  with open(saved) as results:
    figures = json.load(results)
  assert figures['checkpoints'] == [
      {'step': 101, 'precision': 0.5, 'hours': round(25 / 3600.0, 4)}]
  assert (figures['examples_per_sec'], figures['about']) == (128.0, 'Crafted.')
  assert done.stdout == accuracy_table.markdown(figures, 'Crafted.',
                                                figures['machine'])


def test_the_documents_rows_are_the_scripts_output():
  """docs/accuracy.md's rows of each run are accuracy_table's, unedited."""
  text = documents.read('docs/accuracy.md')
  blocks = re.findall(r'<!-- accuracy_table: (\S+) begin -->\n(.*?)'
                      r'<!-- accuracy_table: \1 end -->', text, re.S)
  assert blocks
  for name, block in blocks:
    with open(os.path.join(documents.REPO, 'docs', name)) as results:
      saved = json.load(results)
    assert block == accuracy_table.markdown(saved, saved['about'],
                                            saved['machine']), name


# docs/accuracy.md's table of the time to each threshold: its rows, and the
# results each row is read from.
TIME_TO_ROWS = {'`cifar10.train` (float32)': 'results/run_f32_zen4.json',
                '`cifar10.train --mixed_precision bf16`':
                    'results/run_bf16_zen4.json'}


def _time_to_cell(row):
  """How the time-to table writes a run's first checkpoint at a threshold."""
  if row is None:
    return 'not reached'
  return 'step {:,} ({:.3f}), {:.2f} hours ({:.0f} minutes)'.format(
      row['step'], row['precision'], row['hours'], row['hours'] * 60)


def test_the_time_to_each_threshold_is_the_runs_own():
  """The summary table's cells are its runs' saved figures, unedited."""
  text = documents.read('docs/accuracy.md')
  for run, name in TIME_TO_ROWS.items():
    with open(os.path.join(documents.REPO, 'docs', name)) as results:
      saved = json.load(results)
    expected = '| %s | {:,.0f} | %s | %s |'.format(
        saved['examples_per_sec']) % (
            run, _time_to_cell(saved['thresholds']['0.80']),
            _time_to_cell(saved['thresholds']['0.83']))
    assert expected in text, expected
