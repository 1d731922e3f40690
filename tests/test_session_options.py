"""Speed options: each flag reaches the session; bf16 really runs in bfloat16."""

import inspect
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import rewriter_config_pb2

from cifar10 import cifar10
from cifar10 import eval as cifar10_eval
from cifar10 import export
from cifar10 import predict
import cifar10.train as train
from cifar10.support import errors
from cifar10.support import kernel_choice
from cifar10.support import script
from cifar10.support import session_options
from conftest import latest_step, summary_values


def _cpu_has_bf16():
  """Whether oneDNN can run bfloat16 here (TensorFlow skips bf16 otherwise)."""
  try:
    with open('/proc/cpuinfo') as cpuinfo:
      features = cpuinfo.read()
  except OSError:
    return False
  return bool(re.search(r'\b(avx512_bf16|amx_bf16)\b', features))


needs_bf16_cpu = pytest.mark.skipif(
    not _cpu_has_bf16(), reason='this CPU has neither AVX512-BF16 nor AMX, '
    'so TensorFlow does not rewrite the graph to bfloat16')


def _options(*argv):
  return session_options.SessionOptions.from_flags(
      train.parser().parse_args(list(argv)))


def test_defaults_leave_the_session_as_tensorflow_sets_it():
  assert _options().config_proto(allow_soft_placement=True) == (
      tf.compat.v1.ConfigProto(allow_soft_placement=True))


def test_each_flag_reaches_the_session_config():
  config = _options('--mixed_precision', 'bf16', '--xla',
                    '--intra_op_threads', '3',
                    '--inter_op_threads', '2').config_proto()
  assert (config.intra_op_parallelism_threads,
          config.inter_op_parallelism_threads) == (3, 2)
  assert (config.graph_options.rewrite_options
          .auto_mixed_precision_onednn_bfloat16 ==
          rewriter_config_pb2.RewriterConfig.ON)
  assert (config.graph_options.optimizer_options.global_jit_level ==
          tf.compat.v1.OptimizerOptions.ON_1)


def test_thread_counts_size_the_process_pools_before_tensorflow_starts():
  # A fresh process: this one's pools were sized when its first test ran.
  script = (
      'import tensorflow as tf\n'
      'from cifar10.support import session_options\n'
      'session_options.SessionOptions(intra_op_threads=1, inter_op_threads=3)'
      '.apply_to_process()\n'
      'with tf.compat.v1.Session() as sess: sess.run(tf.constant(1) + 1)\n'
      'print(tf.config.threading.get_intra_op_parallelism_threads(),'
      ' tf.config.threading.get_inter_op_parallelism_threads())\n')
  output = subprocess.run([sys.executable, '-c', script], check=True,
                          capture_output=True, text=True).stdout
  assert output.split() == ['1', '3']


@pytest.mark.fast
def test_thread_counts_that_come_too_late_are_refused():
  tf.constant(1) + 1  # TensorFlow has started in this process.
  current = tf.config.threading.get_intra_op_parallelism_threads()
  with pytest.raises(errors.UserError, match='--intra_op_threads %d comes too '
                     'late' % (current + 1)):
    session_options.SessionOptions(
        intra_op_threads=current + 1).apply_to_process()


@pytest.mark.parametrize('argv,complaint', [
    (['--mixed_precision', 'fp8'], 'invalid choice'),
    (['--intra_op_threads', '-1'], 'must be at least 0, got -1'),
    (['--xla=sometimes'], 'expected true or false')])
def test_bad_values_are_refused(argv, complaint, capsys):
  with pytest.raises(SystemExit):
    train.parser().parse_args(argv)
  error = capsys.readouterr().err
  assert argv[0].split('=')[0] in error and complaint in error


def test_bf16_with_fp16_is_refused_before_anything_is_removed(
    trained_dir, synthetic_data_dir, tmp_path, capsys):
  before = sorted(os.listdir(trained_dir))
  status = script.run(train.main, [
      '--data_dir', synthetic_data_dir, '--train_dir', trained_dir,
      '--fresh', '--mixed_precision', 'bf16', '--use_fp16'])
  assert status != 0
  error = capsys.readouterr().err
  assert '--mixed_precision bf16' in error and '--use_fp16' in error
  assert sorted(os.listdir(trained_dir)) == before


def _logits(images, options):
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(3)
    logits = cifar10.inference(tf.constant(images))
    with tf.compat.v1.Session(config=options.config_proto()) as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      metadata = tf.compat.v1.RunMetadata()
      values = sess.run(logits, run_metadata=metadata,
                        options=tf.compat.v1.RunOptions(
                            output_partition_graphs=True))
  return values, [str(graph) for graph in metadata.partition_graphs]


_XLA_SCRIPT = """
import numpy as np
import test_session_options as here
options = here._options(*%r)
options.apply_to_process()
images = np.random.default_rng(1).normal(size=(4, 24, 24, 3))
exact, exact_graphs = here._logits(images.astype(np.float32), here._options())
compiled, graphs = here._logits(images.astype(np.float32), options)
print('XlaRun' in ''.join(exact_graphs), 'XlaRun' in ''.join(graphs),
      np.abs(compiled - exact).max() / np.abs(exact).max())
"""


def _fresh_process_environment():
  """For a fresh process: XLA reads its flags when TensorFlow first runs."""
  environ = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
  environ.pop('TF_XLA_FLAGS', None)
  return environ


@pytest.mark.parametrize('argv,clustered', [([], False), (['--xla'], True)])
def test_xla_compiles_the_model_on_this_cpu_too(argv, clustered):
  output = subprocess.run(
      [sys.executable, '-c', _XLA_SCRIPT % (argv,)], check=True,
      env=_fresh_process_environment(), capture_output=True, text=True,
      cwd=os.path.dirname(__file__)).stdout
  exact_clustered, options_clustered, error = output.split()
  assert (exact_clustered, options_clustered) == ('False', str(clustered))
  assert float(error) < 1e-5


def test_xla_trains_and_writes_every_histogram(synthetic_data_dir, tmp_path):
  # XLA also compiles the summary ops it can: the vectorised histograms.
  train_dir = str(tmp_path / 'train')
  subprocess.run(
      [sys.executable, '-m', 'cifar10.train', '--xla', '--data_dir',
       synthetic_data_dir, '--train_dir', train_dir, '--max_steps', '2',
       '--batch_size', '8', '--save_summaries_steps', '1'],
      check=True, env=_fresh_process_environment(), capture_output=True)
  histograms = {value.tag: value.histo for _, value in summary_values(train_dir)
                if value.HasField('histo')}
  assert len(histograms) == 25
  activations = histograms['conv1/activations']
  assert activations.num == 8 * 24 * 24 * 64 == sum(activations.bucket)


@pytest.mark.fast
@needs_bf16_cpu
def test_bf16_runs_the_model_in_bfloat16_and_stays_close(rng):
  images = rng.normal(size=(16, 24, 24, 3)).astype(np.float32)
  exact, exact_graphs = _logits(images, _options())
  mixed, mixed_graphs = _logits(images, _options('--mixed_precision', 'bf16'))
  assert 'DT_BFLOAT16' not in ''.join(exact_graphs)
  assert 'DT_BFLOAT16' in ''.join(mixed_graphs)
  # bfloat16 keeps 8 bits of mantissa: off by about 2**-8, not by 1e-7.
  error = np.abs(mixed - exact).max() / np.abs(exact).max()
  assert 1e-4 < error < 3e-2


@pytest.mark.fast
def test_bf16_says_at_start_what_it_does_on_this_machine(capsys):
  # Before: the flag said nothing, so a user could not tell whether the
  # rewrite ran at all.
  _options().apply_to_process()
  assert capsys.readouterr().err == ''
  _options('--mixed_precision', 'bf16').apply_to_process()
  line = capsys.readouterr().err
  assert line == session_options.mixed_precision_line() + '\n'
  assert line.startswith('cifar10: --mixed_precision bf16')
  if not kernel_choice.onednn_in_use():
    assert 'changes nothing in this process' in line
  elif kernel_choice.has_native_bfloat16():
    assert 'natively on this CPU (%s among its flags)' % ', '.join(
        sorted(set(kernel_choice.BFLOAT16_FEATURES) &
               kernel_choice.cpu_flags())) in line
  else:
    assert 'expect no speed-up' in line


@pytest.mark.parametrize('onednn,flags,gpus,words', [
    (True, frozenset(['avx2', 'amx_bf16', 'amx_tile']), 0,
     'matrix multiplies in bfloat16 (variables, checkpoints and the loss '
     'stay float32), natively on this CPU (amx_bf16 among its flags).'),
    (True, frozenset(['avx2', 'avx512f']), 0,
     '; this CPU has no bfloat16 arithmetic (neither avx512_bf16 nor '
     'amx_bf16 among its flags): expect no speed-up.'),
    (True, None, 0, '; whether this CPU has bfloat16 arithmetic is unknown '
     '(no /proc/cpuinfo to read its flags).'),
    (True, frozenset(['avx512_bf16']), 2,
     '. Ops placed on a GPU are not rewritten: they stay float32.'),
    (False, frozenset(['avx512_bf16']), 0,
     'changes nothing in this process: the bfloat16 rewrite is a pass of '
     'oneDNN\'s, and TensorFlow runs without its oneDNN kernels here'),
], ids=['native', 'none', 'unknown', 'gpu', 'no_onednn'])
def test_the_bf16_line_on_other_machines(onednn, flags, gpus, words):
  assert words in session_options.mixed_precision_line(onednn, flags, gpus)


_NO_ONEDNN_SCRIPT = """
import numpy as np
import test_session_options as here
from cifar10.support import session_options
print(session_options.mixed_precision_line())
images = np.random.default_rng(1).normal(size=(4, 24, 24, 3))
mixed, graphs = here._logits(images.astype(np.float32),
                             here._options('--mixed_precision', 'bf16'))
print('DT_BFLOAT16' in ''.join(graphs))
"""


def test_without_onednn_the_line_says_bf16_changes_nothing_and_it_does_not():
  # TF_ENABLE_ONEDNN_OPTS=0: TensorFlow's graph optimizer registers the
  # bfloat16 pass only with oneDNN on.
  environ = dict(_fresh_process_environment(), TF_ENABLE_ONEDNN_OPTS='0')
  line, rewritten = subprocess.run(
      [sys.executable, '-c', _NO_ONEDNN_SCRIPT], check=True, env=environ,
      capture_output=True, text=True,
      cwd=os.path.dirname(__file__)).stdout.splitlines()[-2:]
  assert line == (
      'cifar10: --mixed_precision bf16 changes nothing in this process: the '
      'bfloat16 rewrite is a pass of oneDNN\'s, and TensorFlow runs without '
      'its oneDNN kernels here (TF_ENABLE_ONEDNN_OPTS=0).')
  assert rewritten == 'False'


@needs_bf16_cpu
def test_bf16_trains_the_same_variables_and_evaluates_alike(
    trained_dir, synthetic_data_dir, tmp_path, capsys):
  train_dir = str(tmp_path / 'train')
  assert train.main([
      '--data_dir', synthetic_data_dir, '--train_dir', train_dir,
      '--max_steps', '20', '--batch_size', '32', '--seed', '1',
      '--mixed_precision', 'bf16']) == 0
  assert latest_step(train_dir) == 20
  variables = dict(tf.train.list_variables(train_dir))
  assert variables == dict(tf.train.list_variables(trained_dir))
  reader = tf.train.load_checkpoint(train_dir)
  assert {str(dtype) for dtype in
          reader.get_variable_to_dtype_map().values()} <= {
              "<dtype: 'float32'>", "<dtype: 'int64'>"}

  precisions = []
  for extra in ([], ['--mixed_precision', 'bf16']):
    capsys.readouterr()
    assert cifar10_eval.main([
        '--data_dir', synthetic_data_dir, '--checkpoint_dir', trained_dir,
        '--eval_dir', str(tmp_path / 'eval'), '--run_once'] + extra) == 0
    precisions.append(float(re.search(
        r'precision @ 1 = ([\d.]+)', capsys.readouterr().out).group(1)))
  assert precisions[0] > 0.7
  assert precisions[1] == pytest.approx(precisions[0], abs=0.02)


def test_tools_beside_training_take_gpu_memory_as_needed():
  options = _options('--intra_op_threads', '2', '--xla')
  config = options.config_beside_training()
  assert config.gpu_options.allow_growth
  # The speed options still reach the session.
  assert config.intra_op_parallelism_threads == 2
  assert config.graph_options.optimizer_options.global_jit_level == (
      tf.compat.v1.OptimizerOptions.ON_1)
  # The trainers keep TensorFlow's default: the first process maps the GPU.
  assert not options.config_proto().gpu_options.allow_growth
  # A session built with it runs (here, on the CPU).
  with tf.Graph().as_default():
    total = tf.reduce_sum(tf.constant([1.0, 2.0]))
    with tf.compat.v1.Session(
        config=session_options.SessionOptions().config_beside_training()
    ) as sess:
      assert sess.run(total) == 3.0


@pytest.mark.parametrize('module', [cifar10_eval, export, predict])
def test_eval_predict_and_export_build_their_sessions_beside_training(module):
  # Each session the tool opens is built from config_beside_training().
  source = inspect.getsource(module)
  assert source.count('tf.compat.v1.Session(') == source.count(
      '.config_beside_training()') == 1
