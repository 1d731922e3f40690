"""scripts/benchmark.py: --only takes only what measures something; main runs.

Only the wiring is tested; what the figures are depends on the machine.
"""

import json

import pytest

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
