"""oneDNN or Eigen: chosen before TensorFlow loads, the user's setting first.

Each check runs in a fresh Python process, since TensorFlow reads
TF_ENABLE_ONEDNN_OPTS once, when it is imported.
"""

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from cifar10.support import kernel_choice
import test_model

# A Skylake-SP's features: AVX-512 but none of those with which TensorFlow
# turns oneDNN on by itself.
SKYLAKE_FLAGS = 'fpu sse sse2 avx fma avx2 avx512f avx512dq avx512cd avx512bw'

# Run in a child: /proc/cpuinfo reads as a Skylake-SP's while the process is
# prepared as each script prepares it where it starts, then the child
# reports what TensorFlow ended up with.
CHILD = textwrap.dedent('''
    import builtins, io, json, os, sys
    real_open = builtins.open
    def skylake_open(path, *args, **kwargs):
      if path == '/proc/cpuinfo':
        return io.StringIO('flags\\t\\t: %s\\n')
      return real_open(path, *args, **kwargs)
    builtins.open = skylake_open
    if sys.argv[1] == 'tensorflow_first':
      import tensorflow
    from cifar10.support import kernel_choice
    from cifar10.support import script
    script.prepare_process()  # Where each script starts.
    tensorflow_loaded_by_script = 'tensorflow' in sys.modules
    builtins.open = real_open
    from cifar10 import cifar10 as model  # Imports TensorFlow.
    script.run(lambda argv: 0)  # As each script runs its main.
    print(json.dumps(dict(
        variable=os.environ.get('TF_ENABLE_ONEDNN_OPTS'),
        onednn=kernel_choice.onednn_in_use(),
        announcement=kernel_choice.announcement,
        tensorflow_loaded_by_script=tensorflow_loaded_by_script)))
''' % SKYLAKE_FLAGS)


def _child(order='package_first', **environment):
  env = {name: value for name, value in os.environ.items()
         if name != kernel_choice.ONEDNN_VARIABLE}
  env.update(environment, TF_CPP_MIN_LOG_LEVEL='3')
  result = subprocess.run([sys.executable, '-c', CHILD, order], env=env,
                          capture_output=True, text=True, check=True,
                          timeout=600)
  reported = json.loads(result.stdout.strip().splitlines()[-1])
  reported['stderr_lines'] = result.stderr.splitlines()
  return reported


@pytest.mark.skipif(os.uname().machine != 'x86_64', reason='x86-64 only')
def test_a_script_turns_onednn_on_before_tensorflow_loads():
  reported = _child()
  assert reported['tensorflow_loaded_by_script'] is False
  assert reported['variable'] == '1'
  assert reported['onednn'] is True
  assert 'TF_ENABLE_ONEDNN_OPTS=0' in reported['announcement']
  assert reported['stderr_lines'].count(reported['announcement']) == 1


@pytest.mark.parametrize('setting,onednn', [('0', False), ('1', True)])
def test_the_users_own_setting_wins(setting, onednn):
  reported = _child(TF_ENABLE_ONEDNN_OPTS=setting)
  assert reported['variable'] == setting
  assert reported['onednn'] is onednn
  assert reported['announcement'] is None
  assert not any(line.startswith('cifar10:')
                 for line in reported['stderr_lines'])


def test_nothing_is_set_once_tensorflow_is_imported():
  reported = _child('tensorflow_first')
  assert reported['variable'] is None
  assert reported['announcement'] is None


@pytest.mark.fast
@pytest.mark.parametrize('flags,machine,expected', [
    (frozenset(SKYLAKE_FLAGS.split()), 'x86_64', '1'),
    (frozenset(['avx', 'avx2', 'fma']), 'AMD64', '1'),  # Haswell, Zen 1-3.
    (None, 'x86_64', '1'),  # No /proc/cpuinfo to read.
    (frozenset(['avx2', 'avx512f', 'avx512_vnni']), 'x86_64', None),
    (frozenset(['avx2', 'avx_vnni']), 'x86_64', None),
    (frozenset(['avx2', 'amx_tile', 'amx_bf16']), 'x86_64', None),
    (frozenset(['asimd']), 'aarch64', None)])
def test_only_x86_cpus_tensorflow_leaves_alone_are_changed(
    flags, machine, expected, tmp_path):
  cpuinfo = tmp_path / 'cpuinfo'
  if flags is not None:
    cpuinfo.write_text('processor\t: 0\nflags\t\t: %s\n' % ' '.join(flags))
  environ = {}
  line = kernel_choice.choose_before_tensorflow(environ, {}, machine,
                                                str(cpuinfo))
  assert environ.get(kernel_choice.ONEDNN_VARIABLE) == expected
  assert (line is not None) == (expected is not None)


@pytest.mark.fast
def test_cpu_flags_reads_the_flags_line(tmp_path):
  cpuinfo = tmp_path / 'cpuinfo'
  cpuinfo.write_text('processor\t: 0\nflags\t\t: fpu avx2 avx512f\n\n'
                     'processor\t: 1\nflags\t\t: fpu avx2 avx512f\n')
  assert kernel_choice.cpu_flags(str(cpuinfo)) == {'fpu', 'avx2', 'avx512f'}
  assert kernel_choice.cpu_flags(str(tmp_path / 'missing')) is None


@pytest.mark.fast
def test_cpu_family_and_model_come_from_the_first_processor(tmp_path):
  cpuinfo = tmp_path / 'cpuinfo'
  # "model name" starts like "model": only the line named "model" counts.
  cpuinfo.write_text('processor\t: 0\ncpu family\t: 26\nmodel\t\t: 2\n'
                     'model name\t: AMD EPYC\n\nprocessor\t: 1\n'
                     'cpu family\t: 25\nmodel\t\t: 17\n')
  assert kernel_choice.cpu_family_and_model(str(cpuinfo)) == (26, 2)
  # An Arm CPU's /proc/cpuinfo has neither line; a missing file, nothing.
  cpuinfo.write_text('processor\t: 0\nCPU implementer\t: 0x41\n'
                     'CPU part\t: 0xd0c\n')
  assert kernel_choice.cpu_family_and_model(str(cpuinfo)) is None
  assert kernel_choice.cpu_family_and_model(str(tmp_path / 'missing')) is None


@pytest.mark.parametrize('setting', ['0', '1'])
def test_fast_ops_match_the_reference_ops_under_both_kernel_families(setting):
  # The equivalence tests of test_model.py, in a process whose kernels are
  # oneDNN's ('1') or Eigen's ('0'), checked before they run.
  tests = os.path.join(os.path.dirname(__file__), 'test_model.py')
  code = textwrap.dedent('''
      import sys
      from cifar10.support import kernel_choice
      assert kernel_choice.onednn_in_use() is %s
      import pytest

      class Outcomes:
        """Prints each test function's outcomes, one 'outcome name' a line."""
        def pytest_runtest_logreport(self, report):
          if report.when == 'call' or report.outcome != 'passed':
            print('outcome', report.outcome, report.head_line.split('[')[0])

      # -n 0: in this process, whose kernels were checked above, not in
      # test processes of their own (pytest.ini's -n auto), each of which
      # would start TensorFlow again.
      sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '-n', '0', %r,
                            '-k', 'fast_ or reference'], plugins=[Outcomes()]))
  ''' % (setting == '1', tests))
  env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS=setting,
             TF_CPP_MIN_LOG_LEVEL='3')
  result = subprocess.run([sys.executable, '-c', code], env=env,
                          capture_output=True, text=True, timeout=1200)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  outcomes = re.findall(r'outcome (\w+) (\w+)$', result.stdout, re.M)
  # Every equivalence test of test_model.py ran and passed: none skipped.
  assert {outcome for outcome, _ in outcomes} == {'passed'}
  assert {name for _, name in outcomes} == {
      name for name in dir(test_model) if name.startswith('test_') and
      ('fast_' in name or 'reference' in name)}
