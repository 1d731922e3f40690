"""benchmarks/benchmark.py: --only takes only what measures something; main runs;
cluster_cost reads the traffic it reports from the kernel's counters.

Only the wiring is tested; what the figures are depends on the machine.
"""

import json
import os
import shutil
import socket
import statistics
import subprocess
import time

import pytest

from conftest import DEADLINE_SECS
from conftest import both_modes
import script_modules

benchmark = script_modules.load('benchmark')
roofline = script_modules.load('roofline')


def _json_lines(output):
  """The report lines of a script's output: all of them, each one JSON."""
  lines = output.splitlines()
  assert all(line.startswith('{') for line in lines), lines
  return lines

@pytest.mark.parametrize('only,message', [
    ('eval', 'eval needs train'),
    ('input,eval', 'eval needs train'),
    ('profile', "unknown measurement profile: choose from peak,input,"),
    ('cpu_classes,train', 'unknown measurement cpu_classes'),
    ('inputs', 'unknown measurement inputs'),
])
def test_only_refuses_what_would_measure_nothing(only, message, capsys):
  with pytest.raises(SystemExit) as exited:
    benchmark.parse_args(['--only', only])
  assert exited.value.code == 2
  assert message in capsys.readouterr().err


def test_a_tiny_run_reports_each_measurement_asked_for(synthetic_data_dir,
                                                       capsys):
  # compute, train and eval together: eval scores train's checkpoint, and
  # the ratios need both compute and train.
  assert benchmark.main([
      '--only', 'input,compute,train,eval', '--data_dir', synthetic_data_dir,
      '--batch_size', '8', '--rounds', '1', '--windows', '1',
      '--window_steps', '2', '--warmup_steps', '1']) == 0
  lines = {line['measurement']: line
           for line in map(json.loads, _json_lines(capsys.readouterr().out))}
  assert sorted(lines) == sorted([
      'machine', 'data', 'input_train', 'input_train_reference', 'input_eval',
      'compute_reference', 'compute', 'train', 'train_compute_rounds',
      'memory', 'eval', 'ratios'])
  for name in ('input_train', 'input_train_reference', 'input_eval',
               'compute_reference', 'compute', 'eval'):
    assert len(lines[name]['windows']) == 1, name
    assert lines[name]['examples_per_sec'] > 0, name
  # The trainer logs --windows + 1 windows; the first, holding its start-up,
  # is left out.
  assert len(lines['train']['windows']) == 1
  assert lines['memory']['peak_rss_mb'] > 0
  assert sorted(lines['ratios']) == sorted([
      'measurement', 'compute / compute_reference',
      'train / compute_reference', 'train / compute',
      'train / compute, median of rounds'])


def _tiny_cluster_rows(measurement, flags, data_dir, capsys, window_steps=2):
  """The report lines of a tiny `--only measurement` run with `flags`."""
  assert benchmark.main([
      '--only', measurement, '--data_dir', data_dir, '--batch_size', '8',
      '--windows', '2', '--window_steps', str(window_steps)] + flags) == 0
  return [line for line in map(json.loads, _json_lines(capsys.readouterr().out))
          if line['measurement'] == measurement]


@pytest.mark.starts_first
def test_cluster_cost_runs_a_cluster_and_counts_its_traffic(
    synthetic_data_dir, capsys):
  # The counters are read when a worker's log line arrives, by which time
  # the worker may be a step further: each end of the counted window can be
  # off by up to one step's traffic. Over 20 steps that is at most a tenth;
  # over the 2 this test once counted it could be half (0.55 and 0.59 in
  # synchronous mode on a 2-core AMD EPYC).
  rows = _tiny_cluster_rows('cluster_cost', ['--clusters', '1x1'],
                            synthetic_data_dir, capsys, window_steps=20)
  assert [(row['ps'], row['workers'], row['mode']) for row in rows] == [
      (1, 1, 'async'), (1, 1, 'sync')]
  for row in rows:
    task, = row['ps_tasks']
    # The ps holds every weight and its average; each step sends the
    # weights out and takes their gradients in. (Over the 20 steps counted
    # here, to within a tenth: the figures themselves are the benchmark's.)
    assert task['held_bytes'] == 2 * task['trainable_bytes'] + 8 + 7 * 4
    assert task['received / trainable'] >= 0.9, row
    assert task['sent / trainable'] >= 0.9, row
    assert row['worker_steps'] >= 1, row


def _can_make_links():
  return os.geteuid() == 0 and shutil.which('ip') and shutil.which('tc')


@pytest.mark.starts_first
@pytest.mark.skipif(not _can_make_links(),
                    reason='SKIPPED LOUDLY: cluster_link makes a network '
                    'namespace and a veth pair, which needs root and ip/tc')
def test_cluster_link_runs_the_ps_behind_a_limited_link(synthetic_data_dir,
                                                        capsys):
  rows = _tiny_cluster_rows('cluster_link', ['--link_mbit', '1000'],
                            synthetic_data_dir, capsys)
  assert [row['workers'] for row in rows] == [1, 2]
  for row in rows:
    # The ps task's traffic was counted inside its namespace (a few steps'
    # worth at this size: their exact bytes are cluster_cost's to show),
    # and the ceiling is the link's bytes per second over it.
    assert row['sent_per_worker_step'] > 0 and row['examples_per_sec'] > 0
    assert row['link_ceiling_examples_per_sec'] == pytest.approx(
        1000e6 / 8 / row['sent_per_worker_step'] * 8, abs=0.05)
  # The namespace and the veth pair are gone.
  assert benchmark.Link.NAMESPACE not in subprocess.run(
      ['ip', 'netns', 'list'], capture_output=True, text=True).stdout


@pytest.mark.parametrize('text', ['1x', 'x2', '0x1', '1x2x3', 'two'])
def test_clusters_takes_ps_by_workers(text, capsys):
  with pytest.raises(SystemExit):
    benchmark.parse_args(['--clusters', text])
  assert 'expected ps tasks x workers' in capsys.readouterr().err


@pytest.mark.fast
def test_traffic_counts_what_a_process_sends_and_receives():
  # cluster_cost reads each ps task's traffic from the kernel's counters of
  # its connections; here both ends of one connection are this process.
  payload = 100000
  traffic = benchmark.Traffic(os.getpid())
  with socket.create_server(('127.0.0.1', 0)) as server, \
      socket.create_connection(server.getsockname()) as client:
    peer, _ = server.accept()
    with peer:
      before = traffic.sample()
      client.sendall(b'x' * payload)
      received = 0
      while received < payload:
        received += len(peer.recv(payload))
      # The sender's count is of bytes acknowledged, which may trail.
      deadline = time.monotonic() + DEADLINE_SECS
      while True:
        after = traffic.sample()
        if after[1] - before[1] >= payload or time.monotonic() > deadline:
          break
        time.sleep(0.01)
  assert (after[0] - before[0], after[1] - before[1]) == (payload, payload)
  # Closed, the connection keeps its bytes in the sum.
  assert traffic.sample() == after


# Both modes: with TensorFlow 2 behaviour off the shapes hold Dimensions.
@both_modes
def test_a_training_image_costs_the_flops_its_layers_shapes_give():
  # By hand, from the layer shapes (24x24 crops): multiply-adds forward.
  conv1 = 24 * 24 * 64 * (5 * 5 * 3)
  conv2 = 12 * 12 * 64 * (5 * 5 * 64)
  local3 = 6 * 6 * 64 * 384
  local4 = 384 * 192
  softmax_linear = 192 * 10
  forward = conv1 + conv2 + local3 + local4 + softmax_linear
  assert forward == 18470784
  # Forward, the weights' gradients, the inputs' gradients but conv1's;
  # two operations per multiply-add.
  assert roofline.training_flops_per_image() == 2 * (
      3 * forward - conv1) == 105295104
  assert roofline.training_flops_by_kind() == {
      'convolutions': 2 * (3 * (conv1 + conv2) - conv1),
      'matrix multiplies': 2 * 3 * (local3 + local4 + softmax_linear)}


def test_the_roofline_relates_each_training_figure_to_the_peak(
    synthetic_data_dir, capsys):
  assert benchmark.main([
      '--only', 'peak,compute', '--data_dir', synthetic_data_dir,
      '--batch_size', '8', '--rounds', '1', '--windows', '2',
      '--window_steps', '2', '--warmup_steps', '1', '--peak_size', '256']) == 0
  lines = {line['measurement']: line
           for line in map(json.loads, _json_lines(capsys.readouterr().out))}
  peak = lines['peak']
  assert peak['matmul_size'] == 256 and len(peak['float32_windows']) == 2
  # Both rounded to 0.1 from the unrounded windows' median.
  assert peak['float32_gflops'] == pytest.approx(
      statistics.median(peak['float32_windows']), abs=0.11)
  assert ('bfloat16_gflops' in peak) == roofline.has_native_bfloat16()
  row = lines['roofline']
  assert row['flop_per_image'] == 105295104
  for name in ('compute_reference', 'compute'):
    gflops = lines[name]['examples_per_sec'] * 105295104 / 1e9
    assert row[name]['peak'] == 'float32'
    assert row[name]['gflops'] == pytest.approx(gflops, abs=0.06)
    assert row[name]['fraction_of_peak'] == pytest.approx(
        gflops / peak['float32_gflops'], abs=0.002)


def test_bfloat16_counts_as_native_only_with_its_cpu_features():
  uncapped = ''
  assert roofline.has_native_bfloat16(frozenset(['avx512f', 'avx512_bf16']),
                                      uncapped)
  assert roofline.has_native_bfloat16(frozenset(['amx_bf16', 'amx_tile']),
                                      uncapped)
  assert not roofline.has_native_bfloat16(frozenset(['avx512f', 'avx2']),
                                          uncapped)
  assert not roofline.has_native_bfloat16(frozenset(), uncapped)


@pytest.mark.parametrize('cap, native', [
    ('AVX2', False), ('avx512_core', False), ('AVX512_CORE_VNNI', False),
    ('AVX512_CORE_BF16', True), ('AVX512_CORE_AMX', True)])
def test_a_onednn_cap_below_bfloat16_takes_it_away(cap, native):
  """cpu_study's emulated older classes get no bfloat16 peak."""
  cpu = frozenset(['avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_bf16'])
  assert roofline.has_native_bfloat16(cpu, cap) == native
