"""benchmarks/gpu_check.py's dry run: the GPU check's whole sequence, tiny, on the CPU.

A GPU machine may be lent for a few minutes only; this is how the script is
known to work before one is seen.
"""

import json
import subprocess
import sys

import pytest

import script_modules

# Long enough for the slowest machine: every phase of the dry run ends by
# itself well before it, so the budget only guards against a real hang.
HANG_LIMIT_SECS = 1800


@pytest.mark.starts_first
def test_dry_run_measures_every_phase_and_writes_its_rows(tmp_path):
  out_dir = tmp_path / 'out'
  finished = subprocess.run(
      [sys.executable, script_modules.path('gpu_check'), '--dry_run',
       '--out_dir', str(out_dir), '--budget_secs', str(HANG_LIMIT_SECS),
       '--beside_secs', '5', '--long_run_steps', '40'],
      capture_output=True, text=True, timeout=HANG_LIMIT_SECS + 300)
  assert finished.returncode == 0, finished.stdout + finished.stderr
  report = json.loads((out_dir / 'gpu_check.json').read_text())

  assert report['devices']['gpus'] == []  # The dry run hides every GPU.
  assert report['devices']['tensorflow'].startswith('2.')
  assert sorted(report['speed']) == ['multi_gpu_1', 'multi_gpu_2',
                                     'multi_gpu_4', 'train']
  for name, result in report['speed'].items():
    assert result['status'] == 0, name
    assert result['examples_per_sec'] > 0, name
    low, high = result['sec_per_batch']
    assert 0 < low <= high, name
    # 30 steps logged every 10: the first line (start-up) is left out.
    assert result['log_lines'] == 2, name

  beside = report['beside']
  assert beside['checkpoint_seen']
  assert beside['eval_running_at_end'] and beside['trainer_running_at_end']
  assert beside['evaluated_steps'], 'the eval loop scored no checkpoint'
  assert not beside['out_of_memory']

  long_run = report['long_run']
  assert long_run['finished'] and long_run['train_status'] == 0
  assert long_run['final_step'] == 40
  assert long_run['eval_status'] == 0
  # A checkpoint at the start, then every 20 steps, each with its time.
  checkpoints = long_run['accuracy']['checkpoints']
  assert [row['step'] for row in checkpoints] == [0, 20, 40]
  for row in checkpoints:
    assert 0 <= row['precision'] <= 1
  hours = [row['hours'] for row in checkpoints]
  assert hours[0] == 0 and hours == sorted(hours)

  rows = (out_dir / 'gpu_check.md').read_text()
  for name in report['speed']:
    assert '| %s |' % name in rows
  assert '| 40 | %.4f |' % checkpoints[-1]['precision'] in rows


@pytest.mark.fast
def test_rates_leave_out_the_start_up_line():
  gpu_check = script_modules.load('gpu_check')
  log = ''.join(
      '2026-12-04 01:00:00.000000: step %d, loss = 4.00 '
      '(%.1f examples/sec; %.3f sec/batch)\n' % (step, rate, sec)
      for step, rate, sec in [(10, 50.0, 2.560), (20, 1000.0, 0.128),
                              (30, 2000.0, 0.064), (40, 4000.0, 0.032)])
  assert gpu_check.rates(log) == {'examples_per_sec': 2000.0,
                                  'sec_per_batch': [0.032, 0.128],
                                  'log_lines': 3}
  assert gpu_check.rates('no log lines') is None
