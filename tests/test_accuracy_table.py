"""benchmarks/accuracy_table.py: a run's rows from its event files, and the docs' copy of them."""

import json
import os
import re

import tensorflow as tf

import documents
import pytest

import script_modules

# The fast lane (docs/testing.md): the whole file.
pytestmark = pytest.mark.fast

accuracy_table = script_modules.load('accuracy_table')


def _write_scalars(folder, tag, points):
  """Event files holding `tag` at each (step, value, wall_time) of `points`."""
  with tf.Graph().as_default():
    writer = tf.compat.v1.summary.FileWriter(folder)
    for step, value, wall_time in points:
      summary = tf.compat.v1.Summary(
          value=[tf.compat.v1.Summary.Value(tag=tag, simple_value=value)])
      writer.add_event(tf.compat.v1.Event(wall_time=wall_time, step=step,
                                          summary=summary))
    writer.close()


def test_rows_time_each_checkpoint_by_the_trainers_summaries(tmp_path):
  train_dir, eval_dir = str(tmp_path / 'train'), str(tmp_path / 'eval')
  start = 1.0e9
  # The trainer's summaries every 100 steps, 360 s apart.
  _write_scalars(train_dir, accuracy_table.TRAINING_CLOCK_TAG,
                 [(step, 0.1, start + 3.6 * (step - 1)) for step in (1, 101, 201,
                                                               301)])
  # Checkpoints evaluated out of order, as an eval folder can hold them.
  _write_scalars(eval_dir, 'Precision @ 1',
                 [(300, 0.8125, start + 5000), (0, 0.0625, start + 4000),
                  (200, 0.75, start + 4500)])
  table = accuracy_table.accuracy_rows(train_dir, eval_dir, [0.75, 0.8, 0.9])
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


def test_the_documents_rows_are_the_scripts_output():
  """docs/accuracy.md's 100,000-step rows are accuracy_table's, unedited."""
  text = documents.read('docs/accuracy.md')
  blocks = re.findall(r'<!-- accuracy_table: (\S+) begin -->\n(.*?)'
                      r'<!-- accuracy_table: \1 end -->', text, re.S)
  assert blocks
  for name, block in blocks:
    with open(os.path.join(documents.REPO, 'docs', name)) as results:
      saved = json.load(results)
    assert block == accuracy_table.markdown(saved, saved['about'],
                                            saved['machine']), name
