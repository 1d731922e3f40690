"""The suite's `v1` half, run from the `v2` half: one command tests both modes.

`tf.compat.v1.disable_v2_behavior()` is process-wide and cannot be undone
(see conftest.py), so the tests marked `both_modes` run again in a child
pytest with CIFAR10_TEST_MODE=v1: those this session collected, so that a
selection (`-k`, a file) is tested in both modes alike. The child runs only
`both_modes` tests, and this one is not marked, so it never starts another.
"""

import os
import re
import subprocess
import sys

import pytest

from conftest import DEADLINE_SECS

# The fast lane (docs/testing.md): the whole file.
pytestmark = pytest.mark.fast


def run_pytest(folder, args, env):
  """Runs `python -m pytest args` in `folder`.

  Returns:
    (exit status, the node ids reported FAILED or ERROR, pytest's closing
    line (its counts), the whole output).
  """
  try:
    child = subprocess.run(
        [sys.executable, '-m', 'pytest', '-rfE', '-p', 'no:cacheprovider']
        + list(args), cwd=folder, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
        # Each test in the child bounds its own waits by DEADLINE_SECS; this
        # only catches a hang outside them.
        timeout=3 * DEADLINE_SECS)
  except subprocess.TimeoutExpired as expired:
    pytest.fail('hung: pytest still running after %d s; output so far:\n%s'
                % (expired.timeout, (expired.output or '')[-5000:]))
  failed = re.findall(r'^(?:FAILED|ERROR) (\S+)', child.stdout, re.M)
  # pytest's closing line ('== 93 passed in 37.4s =='): TensorFlow may log
  # after it as the process exits (an unused-object report, say).
  summaries = re.findall(r'^=+ .* in [\d.]+s.*=+$', child.stdout, re.M)
  summary = summaries[-1] if summaries else 'no summary line'
  return child.returncode, failed, summary, child.stdout


@pytest.mark.starts_first
def test_both_modes_tests_pass_with_tensorflow_2_behaviour_off(request):
  selected = [item.nodeid for item in request.session.items
              if item.get_closest_marker('both_modes')]
  if not selected:
    pytest.skip('this selection has no test marked both_modes')
  # -n 0: one test process. pytest.ini's -n auto would start two, each
  # importing TensorFlow and building the session's trained run and data
  # sets again; in the whole suite this session's own two test processes
  # keep the cores busy anyway, so the second buys no time, only work.
  status, failed, summary, output = run_pytest(
      str(request.config.rootpath), ['-n', '0'] + selected,
      dict(os.environ, CIFAR10_TEST_MODE='v1'))
  assert status == 0 and not failed, (
      'with CIFAR10_TEST_MODE=v1 (%s), failed:\n  %s\n\nits output:\n%s'
      % (summary, '\n  '.join(failed) or 'none by name, exit status %d'
         % status, output[-5000:]))
  # The child ran each selected test, in v1 mode (its report header says so).
  counts = [int(count) for count in re.findall(
      r'(\d+) (?:passed|skipped|xfailed|xpassed)', summary)]
  assert sum(counts) == len(selected), (summary, len(selected))
  assert 'CIFAR10_TEST_MODE=v1 (TensorFlow 2 behaviour off' in output


def test_a_failing_child_test_is_reported_by_name(tmp_path):
  (tmp_path / 'test_sample.py').write_text(
      'def test_holds():\n  assert 1 + 1 == 2\n\n'
      'def test_breaks():\n  assert 1 + 1 == 3\n')
  status, failed, summary, _ = run_pytest(
      str(tmp_path), ['test_sample.py'], dict(os.environ))
  assert status == 1
  assert failed == ['test_sample.py::test_breaks']
  assert '1 failed, 1 passed' in summary
