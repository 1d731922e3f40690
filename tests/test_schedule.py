"""The learning rate's schedule: epochs of the data's own records, and its flags."""

import os
import subprocess
import sys

import pytest
import tensorflow as tf

from cifar10 import cifar10
from cifar10 import multi_gpu_train
from cifar10 import training_loop
import cifar10.train as train
from cifar10.support import batch_files
from cifar10.support import errors
from cifar10.support import learning_schedule
from conftest import DEADLINE_SECS, TINY_RECORDS, both_modes, latest_step
from conftest import summarized_scalar
import documents

pytestmark = [both_modes, pytest.mark.fast]

_RECORDS = TINY_RECORDS  # tiny_data_dir's training records (conftest).


def _rates(build, steps):
  """The learning rate at each global step of `steps`, in the graph `build`
  makes (it builds a trainer's graph and returns its global step)."""
  with tf.Graph().as_default():
    global_step = build()
    rate = summarized_scalar('learning_rate')
    with tf.compat.v1.Session() as sess:
      rates = []
      for step in steps:
        global_step.load(step, sess)
        rates.append(sess.run(rate))
  return rates


def test_cifar10s_fifty_thousand_records_give_the_originals_decay(tmp_path):
  # Five training files of 10,000 records each, sparse: only their sizes
  # are read.
  batches = tmp_path / batch_files.batches_dir('')
  batches.mkdir()
  for name in batch_files.TRAIN_FILES:
    with open(batches / name, 'wb') as sparse:
      sparse.truncate(10000 * batch_files.RECORD_BYTES)
  schedule = cifar10.schedule_for(str(tmp_path))
  assert schedule == cifar10.Schedule()
  assert schedule.examples_per_epoch == cifar10.NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN
  # The original's formula at batch 128.
  assert schedule.decay_steps(128) == int(50000 / 128 * 350) == 136718


def test_an_epoch_is_the_records_of_the_training_files(tiny_data_dir):
  schedule = cifar10.schedule_for(tiny_data_dir)
  assert schedule == cifar10.Schedule(examples_per_epoch=_RECORDS)


def test_one_device_decays_after_350_epochs_of_the_tiny_data(tiny_data_dir):
  decay_steps = int(_RECORDS / 8 * 350)
  assert decay_steps == 3281
  rates = _rates(lambda: train.build_graph(tiny_data_dir, 8, False)[2],
                 [0, decay_steps - 1, decay_steps, 2 * decay_steps])
  assert rates == pytest.approx([0.1, 0.1, 0.01, 0.001])


def test_towers_decay_after_350_epochs_of_the_tiny_data(tiny_data_dir):
  # Two towers of 8 images: a step trains on 16 of the 75 records.
  decay_steps = int(_RECORDS / (8 * 2) * 350)
  assert decay_steps == 1640
  rates = _rates(lambda: multi_gpu_train.build_graph(
      tiny_data_dir, 8, False, ['/cpu:0', '/cpu:0'])[2],
                 [decay_steps - 1, decay_steps])
  assert rates == pytest.approx([0.1, 0.01])


def test_the_flags_set_the_schedule(tiny_data_dir):
  args = train.parser().parse_args([
      '--data_dir', tiny_data_dir, '--initial_learning_rate', '0.2',
      '--learning_rate_decay_factor', '0.5', '--num_epochs_per_decay', '2'])
  schedule = training_loop.schedule_from_flags(args)
  decay_steps = int(_RECORDS / 8 * 2)
  assert decay_steps == 18
  rates = _rates(lambda: train.build_graph(tiny_data_dir, 8, False,
                                           schedule=schedule)[2],
                 [decay_steps - 1, decay_steps, 2 * decay_steps])
  assert rates == pytest.approx([0.2, 0.1, 0.05])
  assert str(learning_schedule.describe(
      schedule, 8, 'at 8 images a step')) == (
          'Learning rate 0.2 until step 18, then multiplied by 0.5 every 18 '
          'steps: 1.92 epochs of the 75 training images, at 8 images a '
          'step.')


def test_a_decay_period_under_one_step_names_the_flag(tiny_data_dir,
                                                      tmp_path):
  with pytest.raises(errors.UserError) as raised:
    train.main(['--data_dir', tiny_data_dir, '--train_dir', str(tmp_path),
                '--batch_size', '10', '--num_epochs_per_decay', '0.1'])
  assert str(raised.value) == (
      '--num_epochs_per_decay 0.1 is shorter than one step: 0.1 epochs of '
      'the 75 training images are 7.5 images, fewer than the 10 of a step. '
      'Give at least 0.134.')
  # Refused before anything was written.
  assert not [name for name in os.listdir(tmp_path)
              if name.startswith(('checkpoint', 'model.ckpt', 'events'))]
  # The advice, followed: the value it names makes a period of one step
  # (0.133, rounded to the nearest, made 0.9975 and was refused again).
  assert train.main(['--data_dir', tiny_data_dir, '--train_dir',
                     str(tmp_path), '--batch_size', '10',
                     '--num_epochs_per_decay', '0.134', '--max_steps',
                     '1']) == 0
  assert latest_step(str(tmp_path)) == 1
  # Said in the singular (it was "every 1 steps").
  assert 'then multiplied by 0.1 every step: 0.1333 epochs' in str(
      learning_schedule.describe(
          cifar10.Schedule(0.1, 0.1, 0.134, 75), 10, 'a step'))


def test_a_refused_schedule_leaves_the_train_dir_as_it_was_even_with_fresh(
    tiny_data_dir, tmp_path):
  # --fresh used to clear the earlier run first, then the schedule was
  # refused: the command did nothing but delete.
  run = str(tmp_path / 'run')
  assert train.main(['--data_dir', tiny_data_dir, '--train_dir', run,
                     '--batch_size', '10', '--max_steps', '1']) == 0
  before = sorted(os.listdir(run))
  with pytest.raises(errors.UserError, match='shorter than one step'):
    train.main(['--data_dir', tiny_data_dir, '--train_dir', run,
                '--batch_size', '10', '--num_epochs_per_decay', '0.1',
                '--fresh'])
  assert sorted(os.listdir(run)) == before
  # The towers' trainer, in a process of its own (its devices are made
  # before TensorFlow starts).
  refused = subprocess.run(
      [sys.executable, '-m', 'cifar10.multi_gpu_train', '--num_gpus', '2',
       '--virtual_devices', '--data_dir', tiny_data_dir, '--train_dir', run,
       '--batch_size', '10', '--num_epochs_per_decay', '0.1', '--fresh'],
      capture_output=True, text=True, timeout=DEADLINE_SECS)
  assert refused.returncode == 1
  assert 'shorter than one step' in refused.stdout + refused.stderr
  assert sorted(os.listdir(run)) == before
  assert latest_step(run) == 1
  # A new folder is not even made.
  with pytest.raises(errors.UserError, match='shorter than one step'):
    train.main(['--data_dir', tiny_data_dir, '--train_dir',
                str(tmp_path / 'new'), '--batch_size', '10',
                '--num_epochs_per_decay', '0.1'])
  assert not os.path.exists(tmp_path / 'new')


@pytest.mark.parametrize('schedule,batch_size', [
    (cifar10.Schedule(), 128),
    # Section 9: the 50 training images converted from the reader's folder.
    (cifar10.Schedule(initial_learning_rate=0.05, examples_per_epoch=50), 32),
], ids=['cifar10', 'own_images'])
def test_the_guides_schedule_lines_are_the_trainers(schedule, batch_size):
  line = learning_schedule.describe(
      schedule, batch_size, 'at %d images a step' % batch_size)
  assert '\n%s\n' % line in documents.read('docs/guide.md')
