"""--warm_start_from: a new run on 3 classes starts from the 10-class run.

The source is the session's trained run (300 steps on the synthetic data,
10 classes); the target a 3-class data set of coloured images. A trainer
saves its first checkpoint, model.ckpt-0, as its session starts, so the
values the warm start loaded are read there and compared with the source's.
"""

import contextlib
import io
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
from cifar10 import convert_images
import cifar10.train as train
from cifar10.support import errors
from cifar10.support import trained_layers
from conftest import DEADLINE_SECS, write_image_folder
import script_modules
from test_checkpoint_fit import _save, _tensors
from test_multi_gpu_train import _python
from test_old_checkpoints import _save_as_v1
from test_raw_weights import _raw_only

# The fast lane (docs/testing.md): the whole file.
# The fast lane (docs/testing.md) takes every test here but those that start
# a cluster or the multi-tower trainer, or follow advice through several runs.

AVERAGE = '/ExponentialMovingAverage'
# The model's variables that fit whatever the number of classes.
SHARED_LAYERS = ('conv1', 'conv2', 'local3', 'local4')
SHARED = tuple('%s/%s%s' % (layer, kind, average)
               for layer in SHARED_LAYERS for kind in ('weights', 'biases')
               for average in ('', AVERAGE))

FRESH_LAST_LAYER = (
    'starting fresh: softmax_linear/weights ([192, 10] there, [192, 3] '
    'here), softmax_linear/biases ([10] there, [3] here), with their moving '
    'averages.')


@pytest.fixture(scope='module')
def three_classes(tmp_path_factory):
  """A --data_dir of 3 classes: 10 training images each."""
  root = tmp_path_factory.mktemp('three')
  src = str(root / 'images')
  write_image_folder(src, {'blue': (40, 60, 210), 'green': (40, 190, 60),
                           'red': (210, 40, 40)}, np.random.default_rng(3),
                     train_per_class=10, test_per_class=2)
  data_dir = str(root / 'data')
  with contextlib.redirect_stdout(io.StringIO()):
    convert_images.convert(src, data_dir)
  return data_dir


def _train(data_dir, train_dir, *flags, max_steps=1):
  """Runs cifar10.train in this process; returns (stdout, stderr)."""
  out, err = io.StringIO(), io.StringIO()
  with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    assert train.main([
        '--data_dir', data_dir, '--train_dir', train_dir,
        '--max_steps', str(max_steps), '--batch_size', '8',
        '--log_frequency', '1', '--seed', '1'] + list(flags)) == 0
  return out.getvalue(), err.getvalue()


def _files(folder):
  """Each file of `folder` with its modification time and bytes."""
  return {name: (os.stat(os.path.join(folder, name)).st_mtime_ns,
                 open(os.path.join(folder, name), 'rb').read())
          for name in sorted(os.listdir(folder))}


def _first_lines(text, start):
  return [line for line in text.splitlines() if line.startswith(start)]


@pytest.fixture(scope='module')
def warm_run(trained_dir, three_classes, tmp_path_factory):
  """(--train_dir, stdout, the source's files before) of a 1-step warm start."""
  source_before = _files(trained_dir)
  train_dir = str(tmp_path_factory.mktemp('warm'))
  out, _ = _train(three_classes, train_dir, '--warm_start_from', trained_dir)
  return train_dir, out, source_before


@pytest.mark.fast
def test_the_shared_layers_and_averages_start_at_the_sources_values(
    trained_dir, warm_run):
  train_dir, _, _ = warm_run
  source = _tensors(os.path.join(trained_dir, 'model.ckpt-300'))
  start = _tensors(os.path.join(train_dir, 'model.ckpt-0'))
  for name in SHARED:
    np.testing.assert_array_equal(start[name], source[name], err_msg=name)
  # The averages are the source's own, not its weights.
  assert not np.array_equal(source['conv1/weights'],
                            source['conv1/weights' + AVERAGE])
  # The last layer starts fresh, its averages at its initial weights.
  assert start['softmax_linear/weights'].shape == (192, 3)
  assert start['softmax_linear/biases'].tolist() == [0.0, 0.0, 0.0]
  np.testing.assert_array_equal(start['softmax_linear/weights' + AVERAGE],
                                start['softmax_linear/weights'])
  # The step count and the loss curves start anew.
  assert start['global_step'] == 0
  assert start['total_loss/avg'] == 0


@pytest.mark.fast
def test_the_warm_start_line_says_what_was_and_was_not_restored(
    trained_dir, warm_run):
  _, out, _ = warm_run
  assert _first_lines(out, 'Warm start') == [
      'Warm start from %s: restored 16 variables (conv1, conv2, local3, '
      'local4 and their moving averages); %s'
      % (os.path.join(trained_dir, 'model.ckpt-300'), FRESH_LAST_LAYER)]


@pytest.mark.fast
def test_a_source_on_other_names_of_the_same_count_starts_its_last_layer_fresh(
    warm_run, three_classes, tmp_path):
  source_dir, _, _ = warm_run  # 3 classes: blue, green, red.
  source = tf.train.latest_checkpoint(source_dir)
  relabelled = str(tmp_path / 'xyz')
  shutil.copytree(three_classes, relabelled)
  meta = os.path.join(relabelled, 'cifar-10-batches-bin', 'batches.meta.txt')
  with open(meta, 'w') as out:
    out.write('x\ny\nz\n')
  out, err = _train(relabelled, str(tmp_path / 'run'), '--warm_start_from',
                    source_dir)
  assert err.splitlines() == [
      'notice: --warm_start_from %s was trained on the classes blue, green, '
      'red (%s beside it), this run\'s data has x, y, z (batches.meta.txt in '
      '%s): its last layer, softmax_linear, starts fresh, as it does for '
      'another number of classes.' % (
          source, os.path.join(source_dir, 'class_names.txt'),
          os.path.dirname(meta))]
  assert _first_lines(out, 'Warm start') == [
      'Warm start from %s: restored 16 variables (conv1, conv2, local3, '
      'local4 and their moving averages); starting fresh: '
      'softmax_linear/weights (trained on other classes), '
      'softmax_linear/biases (trained on other classes), with their moving '
      'averages.' % source]
  start = _tensors(str(tmp_path / 'run' / 'model.ckpt-0'))
  assert start['softmax_linear/biases'].tolist() == [0.0, 0.0, 0.0]
  # On its own classes the same source gives its last layer too.
  out, err = _train(three_classes, str(tmp_path / 'same'),
                    '--warm_start_from', source_dir)
  assert not err and _first_lines(out, 'Warm start')[0].endswith(
      '(conv1, conv2, local3, local4, softmax_linear and their moving '
      'averages); nothing starts fresh.')
  start = _tensors(str(tmp_path / 'same' / 'model.ckpt-0'))
  np.testing.assert_array_equal(start['softmax_linear/biases'],
                                _tensors(source)['softmax_linear/biases'])


@pytest.mark.fast
def test_the_source_run_is_left_as_it_was(trained_dir, warm_run):
  _, _, source_before = warm_run
  assert _files(trained_dir) == source_before


@pytest.mark.fast
def test_a_resumed_run_ignores_the_flag_with_a_notice(trained_dir, warm_run,
                                                      three_classes, tmp_path):
  train_dir = str(tmp_path / 'resumed')
  shutil.copytree(warm_run[0], train_dir)
  out, err = _train(three_classes, train_dir, '--warm_start_from',
                    trained_dir, max_steps=2)
  assert not _first_lines(out, 'Warm start')
  assert _first_lines(out, 'Resuming from')
  assert err.splitlines() == [
      'notice: --warm_start_from %s ignored: this run resumes from its own '
      'checkpoint in --train_dir (use --fresh to start over from %s).'
      % (trained_dir, trained_dir)]


@pytest.mark.fast
def test_a_v1_checkpoint_named_by_its_prefix_is_a_source(
    trained_dir, three_classes, tmp_path):
  folder = str(tmp_path / 'v1')
  os.makedirs(folder)
  source = _save_as_v1(os.path.join(trained_dir, 'model.ckpt-300'), folder)
  assert os.path.isfile(source)  # One file: the V1 format.
  train_dir = str(tmp_path / 'warm')
  out, _ = _train(three_classes, train_dir, '--warm_start_from', source)
  assert _first_lines(out, 'Warm start from %s: restored 16 ' % source)
  start = _tensors(os.path.join(train_dir, 'model.ckpt-0'))
  held = _tensors(source)
  for name in SHARED:
    np.testing.assert_array_equal(start[name], held[name], err_msg=name)


@pytest.mark.fast
def test_averages_the_source_lacks_start_at_its_weights(
    trained_dir, three_classes, tmp_path):
  source_dir = str(tmp_path / 'raw')
  os.makedirs(source_dir)
  source, kept = _raw_only(trained_dir, source_dir)
  train_dir = str(tmp_path / 'warm')
  out, _ = _train(three_classes, train_dir, '--warm_start_from', source_dir)
  assert _first_lines(out, 'Warm start') == [
      'Warm start from %s: restored 8 variables (conv1, conv2, local3, '
      'local4); the moving averages of conv1/weights, conv1/biases, '
      'conv2/weights, conv2/biases, local3/weights, local3/biases, '
      'local4/weights, local4/biases start at the restored weights (the '
      'checkpoint holds none); %s' % (source, FRESH_LAST_LAYER)]
  start = _tensors(os.path.join(train_dir, 'model.ckpt-0'))
  for name in SHARED:
    np.testing.assert_array_equal(start[name], kept[name.replace(AVERAGE, '')],
                                  err_msg=name)


def _refusal(data_dir, train_dir, source):
  with pytest.raises(errors.UserError) as raised:
    _train(data_dir, train_dir, '--warm_start_from', source)
  return str(raised.value)


@pytest.mark.fast
def test_a_source_without_checkpoints_is_refused_in_one_line(
    three_classes, tmp_path):
  empty = str(tmp_path / 'empty')
  os.makedirs(empty)
  assert _refusal(three_classes, str(tmp_path / 'run'), empty) == (
      '--warm_start_from %s holds no checkpoint. Point it at the --train_dir '
      'of a training run, or at one of its checkpoints (such as '
      'RUN/model.ckpt-1000).' % empty)
  missing = str(tmp_path / 'nowhere')
  assert _refusal(three_classes, str(tmp_path / 'run'), missing) == (
      '--warm_start_from %s does not exist. Point it at the --train_dir '
      'of a training run, or at one of its checkpoints (such as '
      'RUN/model.ckpt-1000).' % missing)


@pytest.mark.fast
def test_a_refused_source_leaves_the_train_dir_as_it_was(
    three_classes, synthetic_data_dir, tmp_path):
  # Before: the refused run had made --train_dir and recorded its class
  # names there, so that a run on other data was then refused ("not a
  # run's: move them"); with --fresh, the earlier run was deleted first.
  new = str(tmp_path / 'new')
  missing = str(tmp_path / 'nowhere')
  assert 'does not exist' in _refusal(three_classes, new, missing)
  assert not os.path.exists(new)
  out, _ = _train(synthetic_data_dir, new)
  assert 'Finished at step 1' in out, out
  before = _files(new)
  with pytest.raises(errors.UserError, match='does not exist'):
    _train(three_classes, new, '--fresh', '--warm_start_from', missing)
  assert _files(new) == before


@pytest.mark.fast
def test_a_source_read_one_level_off_is_noticed_once(three_classes,
                                                     trained_dir, tmp_path):
  # The trainer checks the source before it touches --train_dir, and loads
  # it once the graph is built: the notice saying how the flag was read
  # comes once.
  index = os.path.join(trained_dir, 'checkpoint')
  out, err = _train(three_classes, str(tmp_path / 'run'), '--warm_start_from',
                    index)
  assert _warm_started(out, tf.train.latest_checkpoint(trained_dir)), out
  assert _first_lines(err, 'notice: --warm_start_from') == [
      'notice: --warm_start_from %s is the index file of a checkpoint folder: '
      'reading its folder, %s.' % (index, trained_dir)]


def test_a_data_set_as_source_then_as_data_dir_or_a_run_or_left_out(
    three_classes, trained_dir, tmp_path):
  run = iter(str(tmp_path / ('run%d' % index)) for index in range(4))
  # Before: "holds no checkpoint. Point it at the --train_dir of a training
  # run", which says nothing of the data set given by mistake.
  for data_folder in (three_classes,
                      os.path.join(three_classes, 'cifar-10-batches-bin')):
    assert _refusal(three_classes, next(run), data_folder) == (
        '--warm_start_from %s holds a data set, not a training run. To train '
        'on that data, give it as --data_dir; to start from a trained model, '
        'point --warm_start_from at the --train_dir of its run, or leave '
        '--warm_start_from out to start from random weights.' % data_folder)
  # "give it as --data_dir", leaving --warm_start_from out.
  out, _ = _train(three_classes, next(run))
  assert 'Finished at step 1' in out and not _first_lines(out, 'Warm start')
  # "point --warm_start_from at the --train_dir of its run".
  out, _ = _train(three_classes, next(run), '--warm_start_from', trained_dir)
  assert _warm_started(out, tf.train.latest_checkpoint(trained_dir)), out


@pytest.mark.fast
def test_a_checkpoint_of_another_network_is_refused_in_one_line(
    three_classes, tmp_path):
  other = _save(str(tmp_path / 'other.ckpt'),
                {'dense/kernel': np.zeros([4, 2], np.float32)})
  assert _refusal(three_classes, str(tmp_path / 'run'), other) == (
      '--warm_start_from %s: none of this model\'s variables fit checkpoint '
      '%s (conv1/weights: not in the checkpoint). Give --warm_start_from '
      'another checkpoint or run folder, or leave it out to start from '
      'random weights.' % (other, other))


@pytest.mark.fast
def test_a_checkpoint_of_another_network_with_fresh_keeps_the_earlier_run(
    three_classes, tmp_path):
  # Before: --fresh removed the earlier run, then the graph, once built,
  # refused the source.
  train_dir = str(tmp_path / 'run')
  _train(three_classes, train_dir)
  before = _files(train_dir)
  other = _save(str(tmp_path / 'other.ckpt'),
                {'dense/kernel': np.zeros([4, 2], np.float32)})
  with pytest.raises(errors.UserError, match='none of this model\'s '
                     'variables fit checkpoint'):
    _train(three_classes, train_dir, '--fresh', '--warm_start_from', other)
  assert _files(train_dir) == before


@pytest.mark.fast
def test_a_float16_source_is_refused_naming_the_dtypes(three_classes,
                                                       trained_dir, tmp_path):
  halved = {name: (value.astype(np.float16) if value.dtype == np.float32
                   else value)
            for name, value in _tensors(
                os.path.join(trained_dir, 'model.ckpt-300')).items()}
  source = _save(str(tmp_path / 'half.ckpt'), halved)
  assert _refusal(three_classes, str(tmp_path / 'run'), source) == (
      '--warm_start_from %s: none of this model\'s variables fit checkpoint '
      '%s (conv1/weights: float16 there, float32 here). Give '
      '--warm_start_from another checkpoint or run folder, or leave it out '
      'to start from random weights.' % (source, source))


def _warm_started(out, source):
  """Whether `out`, a trainer's output, says it warm-started from `source`."""
  return bool(_first_lines(out, 'Warm start from %s: restored ' % source))


def test_the_advice_of_each_refused_source_followed_leads_to_a_run(
    trained_dir, three_classes, tmp_path):
  run = iter(str(tmp_path / ('run%d' % index)) for index in range(8))
  # "Point it at the --train_dir of a training run, or at one of its
  # checkpoints (such as RUN/model.ckpt-1000)".
  empty = str(tmp_path / 'empty')
  os.makedirs(empty)
  assert 'Point it at the --train_dir of a training run, or at one of its ' \
      'checkpoints (such as RUN/model.ckpt-1000)' in _refusal(
          three_classes, next(run), empty)
  newest = tf.train.latest_checkpoint(trained_dir)
  for source in (trained_dir, newest):
    out, _ = _train(three_classes, next(run), '--warm_start_from', source)
    assert _warm_started(out, newest), out
  # A file that is no checkpoint: "Point --warm_start_from at the
  # --train_dir of a training run" (as above).
  notes = tmp_path / 'notes.txt'
  notes.write_text('mine')
  assert _refusal(three_classes, next(run), str(notes)).endswith(
      'Point --warm_start_from at the --train_dir of a training run.')
  # A checkpoint that does not fit: "Give --warm_start_from another
  # checkpoint or run folder, or leave it out to start from random weights".
  other = _save(str(tmp_path / 'other.ckpt'),
                {'dense/kernel': np.zeros([4, 2], np.float32)})
  assert _refusal(three_classes, next(run), other).endswith(
      'Give --warm_start_from another checkpoint or run folder, or leave it '
      'out to start from random weights.')
  out, _ = _train(three_classes, next(run), '--warm_start_from', trained_dir)
  assert _warm_started(out, newest), out
  out, _ = _train(three_classes, next(run))
  assert not _first_lines(out, 'Warm start'), out


@pytest.mark.fast
def test_a_resumed_run_ignoring_the_flag_then_fresh_starts_from_it(
    trained_dir, warm_run, three_classes, tmp_path):
  train_dir = str(tmp_path / 'resumed')
  shutil.copytree(warm_run[0], train_dir)
  _, err = _train(three_classes, train_dir, '--warm_start_from', trained_dir,
                  max_steps=2)
  assert '(use --fresh to start over from %s)' % trained_dir in err
  out, _ = _train(three_classes, train_dir, '--warm_start_from', trained_dir,
                  '--fresh', max_steps=1)
  assert not _first_lines(out, 'Resuming from')
  assert _warm_started(out, tf.train.latest_checkpoint(trained_dir)), out
  # Started over: the run's first checkpoint holds the source's weights.
  start = _tensors(os.path.join(train_dir, 'model.ckpt-0'))
  held = _tensors(tf.train.latest_checkpoint(trained_dir))
  for name in SHARED:
    np.testing.assert_array_equal(start[name], held[name], err_msg=name)


# ---------------------------------------------------------------------------
# --trainable_scopes
# ---------------------------------------------------------------------------

def _changed(before, after, names):
  return [name for name in names
          if not np.array_equal(before[name], after[name])]


@pytest.mark.fast
def test_only_the_named_layers_train_and_every_average_follows(
    trained_dir, three_classes, tmp_path):
  train_dir = str(tmp_path / 'warm')
  out, _ = _train(three_classes, train_dir, '--warm_start_from', trained_dir,
                  '--trainable_scopes', 'local4, softmax_linear', max_steps=3)
  assert _first_lines(out, '--trainable_scopes') == [
      '--trainable_scopes: training the 4 variables of local4, '
      'softmax_linear; the other 6 keep their values (their moving averages '
      'still follow them).']
  start = _tensors(os.path.join(train_dir, 'model.ckpt-0'))
  end = _tensors(os.path.join(train_dir, 'model.ckpt-3'))
  weights = [name for name in start
             if name.endswith(('/weights', '/biases'))]
  assert sorted(_changed(start, end, weights)) == [
      'local4/biases', 'local4/weights', 'softmax_linear/biases',
      'softmax_linear/weights']
  # The averages of the kept layers move towards their weights.
  assert _changed(start, end, [name + AVERAGE for name in weights]) == [
      name + AVERAGE for name in weights]


@pytest.mark.fast
def test_an_unknown_scope_is_refused_listing_the_models_scopes(
    three_classes, tmp_path):
  with pytest.raises(errors.UserError) as raised:
    _train(three_classes, str(tmp_path / 'run'), '--trainable_scopes',
           'local4,softmax')
  assert str(raised.value) == (
      '--trainable_scopes local4,softmax: no scope softmax in this model; '
      'the model\'s scopes are conv1, conv2, local3, local4, softmax_linear.')


@pytest.mark.fast
def test_a_mistyped_scope_with_fresh_keeps_the_earlier_run(three_classes,
                                                          tmp_path):
  # Before: --fresh removed the run, then the graph refused the scope.
  train_dir = str(tmp_path / 'run')
  _train(three_classes, train_dir)
  before = _files(train_dir)
  with pytest.raises(errors.UserError, match='no scope softmax in this model'):
    _train(three_classes, train_dir, '--fresh', '--trainable_scopes',
           'local4,softmax')
  assert _files(train_dir) == before


@pytest.mark.fast
def test_the_scopes_checked_before_the_graph_are_the_models(three_classes,
                                                            tmp_path):
  # trained_layers.MODEL_SCOPES stands in for the graph until it is built.
  out, _ = _train(three_classes, str(tmp_path / 'run'), '--trainable_scopes',
                  ','.join(trained_layers.MODEL_SCOPES))
  assert ('--trainable_scopes: training the 10 variables of %s; the other 0 '
          'keep their values' % ', '.join(trained_layers.MODEL_SCOPES)) in out


@pytest.mark.fast
def test_no_scope_named_then_one_of_those_it_lists(three_classes, tmp_path):
  with pytest.raises(errors.UserError) as raised:
    _train(three_classes, str(tmp_path / 'run'), '--trainable_scopes', '')
  listed = str(raised.value).split('name at least one scope; the model\'s '
                                   'scopes are ')[1].rstrip('.').split(', ')
  assert listed == ['conv1', 'conv2', 'local3', 'local4', 'softmax_linear']
  out, _ = _train(three_classes, str(tmp_path / 'run'), '--trainable_scopes',
                  listed[-1])
  assert _first_lines(out, '--trainable_scopes') == [
      '--trainable_scopes: training the 2 variables of softmax_linear; the '
      'other 8 keep their values (their moving averages still follow them).']


def test_both_flags_reach_the_multi_gpu_trainer(trained_dir, three_classes,
                                                tmp_path):
  train_dir = str(tmp_path / 'towers')
  # Virtual devices need a TensorFlow runtime of their own.
  out = _python('-m', 'cifar10.multi_gpu_train', '--num_gpus', '2',
                '--virtual_devices', '--data_dir', three_classes,
                '--train_dir', train_dir, '--max_steps', '2',
                '--batch_size', '8', '--warm_start_from', trained_dir,
                '--trainable_scopes', 'softmax_linear')
  assert _first_lines(out, 'Warm start from %s: restored 16 variables'
                      % os.path.join(trained_dir, 'model.ckpt-300'))
  source = _tensors(os.path.join(trained_dir, 'model.ckpt-300'))
  start = _tensors(os.path.join(train_dir, 'model.ckpt-0'))
  end = _tensors(os.path.join(train_dir, 'model.ckpt-2'))
  for name in SHARED:
    np.testing.assert_array_equal(start[name], source[name], err_msg=name)
  assert _changed(start, end, [name for name in SHARED
                               if not name.endswith(AVERAGE)]) == []
  assert _changed(start, end, ['softmax_linear/weights']) == [
      'softmax_linear/weights']


# ---------------------------------------------------------------------------
# benchmarks/warm_start_study.py, whose figures the guide shows
# ---------------------------------------------------------------------------

@pytest.mark.fast
def test_the_study_splits_off_the_last_two_classes_relabelled(tmp_path):
  study = script_modules.load('warm_start_study')
  cifar = tmp_path / 'cifar' / 'cifar-10-batches-bin'
  os.makedirs(cifar)
  names = ['c%d' % label for label in range(10)]
  (cifar / 'batches.meta.txt').write_text('\n'.join(names) + '\n')
  labels = np.arange(20, dtype=np.uint8) % 10
  records = np.zeros([20, study.RECORD_BYTES], np.uint8)
  records[:, 0] = labels
  records[:, 1] = np.arange(20)  # Tells the records apart.
  for name in study.TRAIN_FILES + [study.TEST_FILE]:
    records.tofile(str(cifar / name))
  target = str(tmp_path / 'target')
  assert study.write_subset(str(cifar), names, [8, 9], target) == {
      'train': 20, 'test': 4}
  folder = os.path.join(target, 'cifar-10-batches-bin')
  written = np.fromfile(os.path.join(folder, 'test_batch.bin'),
                        np.uint8).reshape(-1, study.RECORD_BYTES)
  assert written[:, 0].tolist() == [0, 1, 0, 1]
  assert written[:, 1].tolist() == [8, 9, 18, 19]
  with open(os.path.join(folder, 'batches.meta.txt')) as meta:
    assert meta.read() == 'c8\nc9\n'


def test_a_cluster_chief_warm_starts_what_its_workers_then_train(
    trained_dir, three_classes, tmp_path, children):
  # The chief loads the source into the variables on the ps task as the
  # session initializes them; the second worker waits for those.
  ports = script_modules.load('ports')
  ps, worker0, worker1 = ports.free_ports(3)
  common = ['-m', 'cifar10.dist_train', '--ps_hosts', '127.0.0.1:%d' % ps,
            '--worker_hosts', '127.0.0.1:%d,127.0.0.1:%d' % (worker0, worker1),
            '--data_dir', three_classes, '--batch_size', '8', '--max_steps',
            '4', '--save_checkpoint_steps', '100', '--warm_start_from',
            trained_dir, '--startup_timeout', str(DEADLINE_SECS)]
  tasks = [children(*common, '--job_name', job, '--task_index', str(index),
                    '--train_dir', str(tmp_path / ('%s%d' % (job, index))))
           for job, index in (('ps', 0), ('worker', 0), ('worker', 1))]
  outputs = []
  for task in tasks:
    status, output = task.finish()
    assert status == 0, output[-3000:]
    outputs.append(output)
  chief_lines = _first_lines(outputs[1], 'Warm start from ')
  assert chief_lines and chief_lines[0].endswith(FRESH_LAST_LAYER)
  assert not _first_lines(outputs[2], 'Warm start from ')
  # The chief's first checkpoint holds the source's shared layers.
  source = _tensors(os.path.join(trained_dir, 'model.ckpt-300'))
  start = _tensors(str(tmp_path / 'worker0' / 'model.ckpt-0'))
  for name in SHARED:
    np.testing.assert_array_equal(start[name], source[name], err_msg=name)
  assert start['softmax_linear/weights'].shape == (192, 3)
