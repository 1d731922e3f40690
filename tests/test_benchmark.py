"""scripts/benchmark.py: --only takes only what measures something; main runs;
cluster_cost reads the traffic it reports from the kernel's counters.

Only the wiring is tested; what the figures are depends on the machine.
"""

import json
import os
import socket
import time

import pytest

from conftest import DEADLINE_SECS
import script_modules

benchmark = script_modules.load('benchmark')


def _json_lines(output):
  """The report lines of a script's output (the evaluator prints others)."""
  return [line for line in output.splitlines() if line.startswith('{')]

@pytest.mark.parametrize('only,message', [
    ('eval', 'eval needs train'),
    ('input,eval', 'eval needs train'),
    ('profile', "unknown measurement profile: choose from input,"),
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
      'machine', 'input_train', 'input_eval', 'compute_reference', 'compute',
      'train', 'train_compute_rounds', 'memory', 'eval', 'ratios'])
  for name in ('input_train', 'input_eval', 'compute_reference', 'compute',
               'eval'):
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


def test_tcp_bytes_counts_what_a_process_sends_and_receives():
  # cluster_cost reads each ps task's traffic from the kernel's counters of
  # its connections; here both ends of one connection are this process.
  payload = 100000
  with socket.create_server(('127.0.0.1', 0)) as server, \
      socket.create_connection(server.getsockname()) as client:
    peer, _ = server.accept()
    with peer:
      before = benchmark._tcp_bytes(os.getpid())  # pylint: disable=protected-access
      client.sendall(b'x' * payload)
      received = 0
      while received < payload:
        received += len(peer.recv(payload))
      # The sender's count is of bytes acknowledged, which may trail.
      deadline = time.monotonic() + DEADLINE_SECS
      while True:
        after = benchmark._tcp_bytes(os.getpid())  # pylint: disable=protected-access
        if after[1] - before[1] >= payload or time.monotonic() > deadline:
          break
        time.sleep(0.01)
  assert (after[0] - before[0], after[1] - before[1]) == (payload, payload)
