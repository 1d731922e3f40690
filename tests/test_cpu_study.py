"""benchmarks/cpu_study.py: every traced op counted in the right part; main runs.

Only the bookkeeping and the wiring are tested; what the figures are depends
on the machine.
"""

import json

import pytest

import script_modules
from conftest import both_modes

# The fast lane (docs/testing.md): the whole file.
pytestmark = pytest.mark.fast

benchmark = script_modules.load('benchmark')
cpu_study = script_modules.load('cpu_study')
roofline = script_modules.load('roofline')



def _json_lines(output):
  """The report lines of a script's output (the evaluator prints others)."""
  return [line for line in output.splitlines() if line.startswith('{')]

@pytest.mark.parametrize('node_name,op_type,part', [
    ('conv2/conv2', '_MklNativeFusedConv2D', 'convolutions'),
    ('gradients/conv1/Conv2D_grad/Conv2DBackpropFilter',
     'Conv2DBackpropFilter', 'convolutions'),
    ('norm1', 'LRN', 'local response normalization'),
    ('gradients/norm2_grad/LRNGrad', 'LRNGrad',
     'local response normalization'),
    ('norm2/BiasAdd', '_MklNativeFusedMatMul', 'local response normalization'),
    ('gradients/norm1/IdentityN_grad/mul_2', 'Mul',
     'local response normalization'),
    ('gradients/pool1_grad/MaxPoolGrad', 'MaxPoolGrad', 'rest'),
    ('local3/local3', '_MklNativeFusedMatMul', 'rest'),
    ('gradients', 'NoOp', 'rest'),
])
def test_ops_are_sorted_into_parts(node_name, op_type, part):
  assert cpu_study._profile_part(node_name, op_type) == part  # pylint: disable=protected-access


@pytest.mark.parametrize('node_name,op_type,part', [
    ('conv1/conv1', '_MklNativeFusedConv2D', 'convolutions'),
    ('gradients/conv2/Conv2D_grad/Conv2DBackpropInput',
     '_MklNativeConv2DBackpropInput', 'convolutions'),
    # The bf16 rewrite names its casts after the op they feed.
    ('conv1/Conv2D-0-CastToBf16-AutoMixedPrecision', 'Cast', 'casts'),
    ('norm1/mul-0-CastToFp32-AutoMixedPrecision', 'Cast', 'casts'),
    ('gradients/norm2_grad/LRNGrad', 'LRNGrad',
     'local response normalization'),
    ('norm1/BiasAdd', '_MklNativeFusedMatMul',
     'local response normalization'),
    ('ExponentialMovingAverage/AssignMovingAvg/mul', 'Mul',
     'moving averages'),
    ('ExponentialMovingAverage_9/AssignMovingAvg/AssignSubVariableOp',
     'AssignSubVariableOp', 'moving averages'),
    ('avg/AssignMovingAvg_3/sub', 'Sub', 'moving averages'),
    ('GradientDescent/update_conv1/weights/ResourceApplyGradientDescent',
     'ResourceApplyGradientDescent', 'update'),
    ('GradientDescent', 'AssignAddVariableOp', 'update'),
    ('local3/MatMul', '_MklMatMul', 'matrix multiplies'),
    ('gradients/local4/MatMul_grad/MatMul_1', 'MatMul', 'matrix multiplies'),
    ('gradients/pool1_grad/MaxPoolGrad', '_MklMaxPoolGrad', 'pooling'),
    ('pool2', 'MaxPool', 'pooling'),
    ('gradients/local3/local3_grad/ReluGrad', 'ReluGrad',
     'element-wise and the rest'),
    ('cross_entropy_per_example', 'SparseSoftmaxCrossEntropyWithLogits',
     'element-wise and the rest'),
    # A scope that only begins like the averages' is not theirs.
    ('avgpool/mul', 'Mul', 'element-wise and the rest'),
])
def test_step_ops_are_sorted_into_parts(node_name, op_type, part):
  assert cpu_study._step_part(node_name, op_type) == part  # pylint: disable=protected-access


@pytest.mark.parametrize('reference_ops', [True, False])
def test_a_traced_step_finds_each_part(reference_ops):
  # The node names the sorting relies on are those the model builds: each
  # graph's traced step has time in every part, and the step's parts are
  # what the trace holds.
  session, train_op = benchmark._constant_batch_step(  # pylint: disable=protected-access
      8, ('--inter_op_threads', '1'), reference_ops=reference_ops)
  with session:
    ops = cpu_study._traced_ops(session, train_op)  # pylint: disable=protected-access
  parts = cpu_study._ms_by(ops, cpu_study._profile_part,  # pylint: disable=protected-access
                           cpu_study.PROFILE_PARTS)
  assert set(parts) == set(cpu_study.PROFILE_PARTS)
  assert all(ms > 0 for ms in parts.values()), parts
  # The normalization's ops by type add up to its part: tf.nn.lrn's LRN
  # and LRNGrad, or this port's matrix multiplies and element-wise work.
  normalization = cpu_study._ms_by(ops, cpu_study._normalization_op)  # pylint: disable=protected-access
  assert sum(normalization.values()) == pytest.approx(
      parts['local response normalization'])
  if reference_ops:
    assert sorted(normalization) == ['LRN', 'LRNGrad']
  else:
    assert {'Square', 'Rsqrt', 'Sqrt', 'Mul', 'RealDiv', 'Sub'} <= set(
        normalization), normalization
    assert not {'LRN', 'LRNGrad'} & set(normalization)


def test_a_tiny_profile_reports_both_graphs_and_the_ratios(capsys):
  assert cpu_study.main(['--only', 'profile', '--batch_size', '8',
                         '--windows', '1', '--warmup_steps', '1']) == 0
  lines = {line['measurement']: line
           for line in map(json.loads, _json_lines(capsys.readouterr().out))}
  assert sorted(lines) == ['machine', 'profile_compute',
                           'profile_compute_reference', 'ratios']
  for graph in cpu_study.PROFILED_GRAPHS:
    assert lines['profile_' + graph]['step_ms'] > 0
  assert sorted(lines['ratios']) == sorted(
      ['measurement'] + list(cpu_study.PROFILE_RATIOS))
  assert all(lines['ratios'][ratio] > 0 for ratio in cpu_study.PROFILE_RATIOS)


@both_modes
def test_a_tiny_step_parts_study_splits_both_precisions_steps(
    synthetic_data_dir, capsys):
  assert cpu_study.main(['--only', 'step_parts', '--batch_size', '8',
                         '--windows', '2', '--window_steps', '2',
                         '--warmup_steps', '1', '--peak_size', '128',
                         '--data_dir', synthetic_data_dir]) == 0
  lines = {line['measurement']: line
           for line in map(json.loads, _json_lines(capsys.readouterr().out))}
  assert sorted(lines) == ['data', 'machine', 'peak', 'ratios',
                           'step_parts_bfloat16', 'step_parts_float32']
  assert lines['data']['source'] == 'files'
  peak = lines['peak']
  flop = 8 * roofline.training_flops_per_image()
  for precision, _ in cpu_study.STEP_PRECISIONS:
    row = lines['step_parts_' + precision]
    assert row['traced_steps'] == 2 and row['inter_op_threads'] == 1
    parts = row['parts_ms']
    assert list(parts) == list(cpu_study.STEP_PARTS)
    # Each part the step has is found in it (the rewrite's casts only
    # where the step runs in bfloat16), and the parts add up to the step.
    assert all(ms > 0 for part, ms in parts.items() if part != 'casts'), parts
    assert row['step_ms'] == pytest.approx(sum(parts.values()), abs=0.05)
    # The normalization by op type: with two traced steps each median is
    # their mean, so the types add up to the part (each rounded to 0.001).
    by_op = row['normalization_ops_ms']
    assert {'Square', 'Rsqrt', 'Mul'} <= set(by_op), by_op
    assert sum(by_op.values()) == pytest.approx(
        parts['local response normalization'], abs=0.01 + 0.001 * len(by_op))
    assert row['untraced_step_ms'] > 0
    assert row['input_pipeline_cpu_ms'] > 0
    if precision + '_gflops' not in peak:
      assert 'fraction_of_peak' not in row
      continue
    peak_gflops = peak[precision + '_gflops']
    assert row['peak_gflops'] == peak_gflops
    # The figures are rounded: the milliseconds to 0.01, the peak to 0.1.
    rounding = dict(rel=0.01 + 0.05 / peak_gflops, abs=0.002)
    assert row['fraction_of_peak'] == pytest.approx(
        flop / (row['step_ms'] / 1000) / 1e9 / peak_gflops, **rounding)
    assert row['untraced_fraction_of_peak'] == pytest.approx(
        flop / (row['untraced_step_ms'] / 1000) / 1e9 / peak_gflops,
        **rounding)
    for part, ms in parts.items():
      assert row['fraction_of_peak_without'][part] == pytest.approx(
          flop / ((row['step_ms'] - ms) / 1000) / 1e9 / peak_gflops,
          **rounding)
    assert sorted(row['kernel_fraction_of_peak']) == [
        'convolutions', 'matrix multiplies']
  if roofline.has_native_bfloat16():
    # TensorFlow rewrites the step into bfloat16, casts and all, only on a
    # CPU that has it (tests/test_session_options.py); elsewhere it skips.
    assert lines['step_parts_bfloat16']['parts_ms']['casts'] > (
        lines['step_parts_float32']['parts_ms']['casts'])


def test_a_cpu_class_is_judged_against_the_peak_measured_under_its_cap():
  # Two rounds of one setting: their peaks, and the windows of each rate.
  def round_of(peak, reference, compute, train):
    return {'peak': {'float32_gflops': peak},
            'compute_reference': {'windows': reference},
            'compute': {'windows': compute}, 'train': {'windows': train}}
  figures = cpu_study._setting_figures([  # pylint: disable=protected-access
      round_of(100.0, [500.0, 520.0], [600.0], [1000.0, 1100.0]),
      round_of(120.0, [540.0], [640.0, 700.0], [1200.0])])
  # 105,295,104 FLOP an image (benchmarks/roofline.py); the peak is the
  # rounds' median, 110 GFLOP/s; each rate the median of all its windows.
  assert figures == {
      'float32_peak_gflops': 110.0,
      'compute_reference_examples_per_sec': 520.0,
      'compute_reference_fraction_of_peak': round(520 * 0.105295104 / 110, 3),
      'compute_examples_per_sec': 640.0,
      'compute_fraction_of_peak': round(640 * 0.105295104 / 110, 3),
      'train_examples_per_sec': 1100.0,
      'train_fraction_of_peak': round(1100 * 0.105295104 / 110, 3)}


def test_every_cpu_class_is_measured_with_onednn_and_capped_ones_with_eigen():
  settings = {name: environment
              for name, _, _, environment in cpu_study._cpu_class_settings()}  # pylint: disable=protected-access
  assert settings['onednn_avx2'] == {'TF_ENABLE_ONEDNN_OPTS': '1',
                                     'ONEDNN_MAX_CPU_ISA': 'AVX2'}
  assert settings['eigen_avx2'] == {'TF_ENABLE_ONEDNN_OPTS': '0',
                                    'ONEDNN_MAX_CPU_ISA': 'AVX2'}
  assert settings['eigen_avx512_core']['ONEDNN_MAX_CPU_ISA'] == 'AVX512_CORE'
  assert settings['onednn_native'] == {'TF_ENABLE_ONEDNN_OPTS': '1'}


@pytest.mark.parametrize('only', ['compute', 'profile,train'])
def test_only_refuses_benchmark_measurements(only, capsys):
  with pytest.raises(SystemExit) as exited:
    cpu_study.parse_args(['--only', only])
  assert exited.value.code == 2
  assert "benchmarks/benchmark.py's" in capsys.readouterr().err


def test_a_tiny_histograms_study_times_both_forms(capsys):
  assert cpu_study.main(['--only', 'histograms', '--batch_size', '8',
                         '--windows', '1', '--rounds', '1',
                         '--warmup_steps', '1']) == 0
  lines = {line['measurement']: line
           for line in map(json.loads, _json_lines(capsys.readouterr().out))}
  assert sorted(lines) == ['histograms', 'machine', 'ratios']
  assert sorted(lines['histograms']['summary_step_extra_ms']) == [
      'tensorflow', 'vectorised']
  assert lines['histograms']['save_summaries_steps'] == 100
  assert lines['histograms']['step_ms'] > 0
  assert 'histogram saving / training time' in lines['ratios']
