"""A resumed run says which flags that shape its training changed, and how.

The trainer records those flags in the run's folder (run_flags.RUN_FILE);
a run resumed with others trains on with them, one notice each.
"""

import os

import pytest

from cifar10 import cifar10
from cifar10 import synthetic
import cifar10.train as train
from cifar10.support import classes
from cifar10.support import errors
from cifar10.support import learning_schedule
from cifar10.support import run_flags
from cifar10.support import training_run
from conftest import TINY_RECORDS, both_modes, latest_step

pytestmark = [both_modes, pytest.mark.fast]

_RECORDS = TINY_RECORDS  # tiny_data_dir's training records (conftest).


def _train(data_dir, train_dir, *flags):
  return train.main(['--data_dir', data_dir, '--train_dir', train_dir,
                     '--learning_rate_decay_factor', '0.5',
                     '--num_epochs_per_decay', '0.5'] + list(flags))


def _changes(capsys):
  """The notices about changed flags that the last run printed."""
  return [line for line in capsys.readouterr().err.splitlines()
          if ' since this run last started' in line]


def test_a_smaller_batch_on_resume_says_the_rate_goes_back_up(
    tiny_data_dir, tmp_path, capsys):
  run = str(tmp_path / 'run')
  # 75 records at 8 a step: 9.4 steps an epoch, a decay every 4 steps.
  assert _train(tiny_data_dir, run, '--batch_size', '8', '--max_steps',
                '6') == 0
  with open(os.path.join(run, run_flags.RUN_FILE)) as record:
    assert '--batch_size=8\n' in record.read()
  assert _changes(capsys) == []
  # At 4 a step the period is 9 steps: step 6 is before the first decay
  # again, and the rate doubles back.
  assert _train(tiny_data_dir, run, '--batch_size', '4', '--max_steps',
                '7') == 0
  out, err = capsys.readouterr()
  assert [line for line in err.splitlines() if 'since this run' in line] == [
      'notice: --batch_size changed from 8 to 4 since this run last started: '
      'the learning rate decays every 9 steps instead of 4, and at step 6, '
      'where this run resumes, goes from 0.05 to 0.1.']
  # The schedule's own line gives the rate in use where the run resumes.
  assert ('Learning rate 0.1 until step 9, then multiplied by 0.5 every 9 '
          'steps: 0.48 epochs of the 75 training images, at 4 images a '
          'step. At step 6, where this run resumes, the rate is 0.1.\n'
          in out)
  assert latest_step(run) == 7
  # The record follows: resumed again with the same flags, nothing more is
  # said.
  assert _train(tiny_data_dir, run, '--batch_size', '4', '--max_steps',
                '8') == 0
  assert _changes(capsys) == []


def test_a_run_without_a_record_is_not_compared_and_gets_one(
    tiny_data_dir, tmp_path, capsys):
  run = str(tmp_path / 'run')
  assert _train(tiny_data_dir, run, '--batch_size', '8', '--max_steps',
                '2') == 0
  # As a run of an earlier version left it.
  os.remove(os.path.join(run, run_flags.RUN_FILE))
  capsys.readouterr()
  assert _train(tiny_data_dir, run, '--batch_size', '4', '--max_steps',
                '3') == 0
  assert _changes(capsys) == []
  assert run_flags.read(os.path.join(run, run_flags.RUN_FILE))[
      'batch_size'] == 4


def test_fresh_removes_the_record_with_the_run(tiny_data_dir, tmp_path,
                                               capsys):
  run = str(tmp_path / 'run')
  assert _train(tiny_data_dir, run, '--batch_size', '8', '--max_steps',
                '2') == 0
  capsys.readouterr()
  assert _train(tiny_data_dir, run, '--batch_size', '4', '--max_steps', '1',
                '--fresh') == 0
  out, err = capsys.readouterr()
  assert '\n  %s\n' % run_flags.RUN_FILE in out
  # A new run: nothing compared, its own flags recorded.
  assert 'since this run last started' not in err
  assert run_flags.read(os.path.join(run, run_flags.RUN_FILE))[
      'batch_size'] == 4


def _schedule():
  return cifar10.Schedule(examples_per_epoch=_RECORDS,
                          learning_rate_decay_factor=0.5,
                          num_epochs_per_decay=0.5)


def _flags(**changed):
  values = dict(batch_size=8, num_gpus=1, initial_learning_rate=0.1,
                learning_rate_decay_factor=0.5, num_epochs_per_decay=0.5,
                trainable_scopes=None, mixed_precision='off',
                data_dir='/data/cifar10', examples_per_epoch=_RECORDS)
  values.update(changed)
  return run_flags.RunFlags(values, _schedule())


@pytest.mark.parametrize('before,now,line', [
    (dict(trainable_scopes=('local4', 'softmax_linear')), {},
     '--trainable_scopes changed from local4,softmax_linear to none (every '
     'layer) since this run last started: every layer trains now.'),
    ({}, dict(trainable_scopes=('softmax_linear',)),
     '--trainable_scopes changed from none (every layer) to softmax_linear '
     'since this run last started: only softmax_linear trains now.'),
    ({}, dict(mixed_precision='bf16'),
     '--mixed_precision changed from off to bf16 since this run last '
     'started: the convolutions and matrix multiplies compute in bfloat16 '
     'now.'),
    ({}, dict(initial_learning_rate=0.01),
     '--initial_learning_rate changed from 0.1 to 0.01 since this run last '
     'started: the learning rate at step 6, where this run resumes, goes '
     'from 0.05 to 0.005.'),
    # Two towers of 8 images: a decay every 2 steps of 16.
    (dict(num_gpus=2), {},
     # Named as towers: resumed by cifar10.train, which has no --num_gpus.
     'the towers (--num_gpus) changed from 2 to 1 since this run last '
     'started: the '
     'learning rate decays every 4 steps instead of 2, and at step 6, where '
     'this run resumes, goes from 0.0125 to 0.05.'),
    (dict(num_epochs_per_decay=0.6), {},
     '--num_epochs_per_decay changed from 0.6 to 0.5 since this run last '
     'started: the learning rate decays every 4 steps instead of 5, and at '
     'step 6, where this run resumes, stays 0.05.'),
    # Two of the schedule's flags at once: one line, from what ran to what
    # runs now (before: a line each, each holding the other at its new
    # value, a rate that never applied).
    (dict(batch_size=16, initial_learning_rate=0.1),
     dict(initial_learning_rate=0.05),
     '--batch_size changed from 16 to 8 and --initial_learning_rate from '
     '0.1 to 0.05 since this run last started: the learning rate decays '
     'every 4 steps instead of 2, and at step 6, where this run resumes, '
     'goes from 0.0125 to 0.025.'),
    # Another data set: its folder, then its size, which moves the decay
    # (75 images at 8 a step: every 4 steps; 150: every 9).
    ({}, dict(data_dir='/data/mine'),
     '--data_dir changed from /data/cifar10 to /data/mine since this run '
     'last started: it trains on that folder\'s images now.'),
    ({}, dict(examples_per_epoch=2 * _RECORDS),
     'the training images changed from 75 to 150 since this run last '
     'started: the learning rate decays every 9 steps instead of 4, and at '
     'step 6, where this run resumes, goes from 0.05 to 0.1.'),
], ids=['scopes_dropped', 'scopes_given', 'mixed_precision', 'rate',
        'towers', 'period', 'schedule_together', 'data_dir', 'data_size'])
def test_each_change_is_one_line_with_its_effect(tmp_path, before, now,
                                                 line, capsys):
  path = str(tmp_path / run_flags.RUN_FILE)
  with open(path, 'wb') as record:
    record.write(_flags(**before).text())
  assert run_flags.notice_changes(str(tmp_path), _flags(**now),
                                  resumed_step=6)
  assert capsys.readouterr().err == 'notice: %s\n' % line
  # Recorded only once the run has saved a checkpoint of its training.
  assert run_flags.read(path) == _flags(**before).values


def test_a_record_without_the_data_compares_the_rest_then_gets_it(tmp_path,
                                                                 capsys):
  # A record of the version before, which kept no data folder or size:
  # nothing said of them, the rest compared, the record to be written.
  path = str(tmp_path / run_flags.RUN_FILE)
  before = _flags(data_dir=None, examples_per_epoch=None)
  with open(path, 'wb') as record:
    record.write(before.text())
  assert b'data_dir' not in before.text()
  assert run_flags.notice_changes(str(tmp_path), _flags(), resumed_step=6)
  assert capsys.readouterr().err == ''
  assert run_flags.notice_changes(str(tmp_path), _flags(batch_size=4),
                                  resumed_step=6)
  assert capsys.readouterr().err.startswith(
      'notice: --batch_size changed from 8 to 4')


def test_the_runs_data_dir_is_offered_where_it_is_another_with_data(
    tmp_path):
  run, data = str(tmp_path / 'my run'), str(tmp_path / 'my data')
  os.makedirs(run)
  assert run_flags.data_dir_of_run(run) is None  # No record.
  with open(os.path.join(run, run_flags.RUN_FILE), 'wb') as record:
    record.write(_flags(data_dir=data).text())
  # Moved or deleted since: nothing to offer.
  assert run_flags.data_dir_of_run(run) is None
  assert run_flags.other_data_dir_of_run(run, '/elsewhere') is None
  synthetic.write_synthetic_dataset(data, train_records_per_file=1,
                                    test_records=1)
  assert run_flags.data_dir_of_run(run) == data
  assert run_flags.other_data_dir_of_run(run, '/elsewhere') == (
      "--data_dir '%s'" % data)  # Quoted for a shell: it holds a space.
  # The same folder, given as the run recorded it or from elsewhere.
  assert run_flags.other_data_dir_of_run(run, data) is None
  assert run_flags.other_data_dir_of_run(run, os.path.relpath(data)) is None


def test_another_data_set_on_resume_is_told_with_its_schedule(
    tiny_data_dir, tmp_path, capsys, monkeypatch):
  run = str(tmp_path / 'run')
  assert _train(tiny_data_dir, run, '--batch_size', '8', '--max_steps',
                '6') == 0
  with open(os.path.join(run, run_flags.RUN_FILE)) as record:
    text = record.read()
  assert '--data_dir=%s\n' % os.path.abspath(tiny_data_dir) in text
  assert '--examples_per_epoch=75\n' in text
  # The same data from another working folder, by a relative path: the
  # same folder, nothing said.
  monkeypatch.chdir(os.path.dirname(tiny_data_dir))
  assert _train(os.path.basename(tiny_data_dir), run, '--batch_size', '8',
                '--max_steps', '7') == 0
  assert _changes(capsys) == []
  # Twice the images elsewhere, the same classes: resumed, and told.
  bigger = str(tmp_path / 'bigger')
  synthetic.write_synthetic_dataset(
      bigger, train_records_per_file=2 * TINY_RECORDS // 5, test_records=10,
      seed=3)
  assert _train(bigger, run, '--batch_size', '8', '--max_steps', '8') == 0
  assert _changes(capsys) == [
      'notice: --data_dir changed from %s to %s since this run last '
      'started: it trains on that folder\'s images now.' % (
          os.path.abspath(tiny_data_dir), bigger),
      'notice: the training images changed from 75 to 150 since this run '
      'last started: the learning rate decays every 9 steps instead of 4, '
      'and at step 7, where this run resumes, goes from 0.05 to 0.1.']
  assert latest_step(run) == 8


def test_a_resumed_run_records_its_flags_with_its_first_checkpoint_beyond(
    tmp_path):
  # Before: recorded as the run resumed, so that one stopped before its first
  # step (or refused later) left a record of flags that trained nothing, and
  # its next start compared with those.
  path = str(tmp_path / run_flags.RUN_FILE)
  with open(path, 'wb') as record:
    record.write(_flags(batch_size=16).text())
  listener = training_run._RecordFlagsOnSave(str(tmp_path), _flags(),
                                             resumed_step=41)
  listener.after_save(None, 41)  # As the session opens: nothing trained.
  assert run_flags.read(path)['batch_size'] == 16
  listener.after_save(None, 50)
  assert run_flags.read(path)['batch_size'] == 8


def test_a_new_run_writes_over_an_unfinished_starts_record(tmp_path,
                                                           capsys):
  path = str(tmp_path / run_flags.RUN_FILE)
  with open(path, 'wb') as record:
    record.write(_flags(batch_size=16).text())
  run_flags.record(str(tmp_path), _flags())
  assert capsys.readouterr().err == ''
  assert run_flags.read(path)['batch_size'] == 8


def test_a_record_left_by_a_killed_start_is_the_runs_a_users_file_is_not(
    tmp_path):
  # A trainer killed (SIGKILL) between preparing the folder and its first
  # checkpoint leaves its class names and its record, and no run.
  data_classes = classes.of_data(str(tmp_path))
  left = tmp_path / 'left'
  left.mkdir()
  (left / classes.RUN_FILE).write_bytes(
      classes.format_names(data_classes.names))
  (left / run_flags.RUN_FILE).write_bytes(_flags().text())
  with training_run.prepare_train_dir(str(left), False, data_classes,
                                      flags_of_run=_flags(batch_size=4)):
    assert run_flags.read(str(left / run_flags.RUN_FILE))['batch_size'] == 4
  # A file of that name that is no record is someone else's.
  users = tmp_path / 'users'
  users.mkdir()
  (users / run_flags.RUN_FILE).write_text('batch size 64, lr 0.1\n')
  with pytest.raises(errors.UserError, match='holds training_flags.txt but '
                     'no model.ckpt-'):
    with training_run.prepare_train_dir(str(users), False, data_classes,
                                        flags_of_run=_flags()):
      pass
  assert (users / run_flags.RUN_FILE).read_text() == 'batch size 64, lr 0.1\n'


def test_a_stop_before_the_first_checkpoint_takes_the_record_away(tmp_path):
  data_classes = classes.of_data(str(tmp_path))
  run = tmp_path / 'run'
  with pytest.raises(KeyboardInterrupt):
    with training_run.prepare_train_dir(str(run), False, data_classes,
                                        flags_of_run=_flags()):
      assert (run / run_flags.RUN_FILE).is_file()
      raise KeyboardInterrupt
  assert not run.exists()


def test_the_schedule_line_gives_the_rate_where_a_run_resumes():
  line = learning_schedule.describe(
      cifar10.Schedule(initial_learning_rate=0.01,
                       learning_rate_decay_factor=0.5,
                       num_epochs_per_decay=1, examples_per_epoch=1250),
      8, 'at 8 images a step')
  assert line.at(0) == str(line) == (
      'Learning rate 0.01 until step 156, then multiplied by 0.5 every 156 '
      'steps: 0.9984 epochs of the 1250 training images, at 8 images a '
      'step.')
  assert line.at(220) == str(line) + (
      ' At step 220, where this run resumes, the rate is 0.005.')
  # A worker of a cluster other than the chief resumes nothing.
  assert line.at(220, joins=True) == str(line) + (
      ' At step 220, where this worker joins the run, the rate is 0.005.')
