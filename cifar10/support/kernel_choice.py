"""Turns oneDNN on, before TensorFlow loads, on x86 CPUs where it would be off.

TensorFlow reads TF_ENABLE_ONEDNN_OPTS once, while `import tensorflow` runs.
Left unset, it uses oneDNN only on CPUs with VNNI, BF16 or AMX instructions
(Cascade Lake and newer); elsewhere (Skylake-SP, Haswell, Broadwell, AMD Zen)
it falls back to its Eigen kernels, on which cifar10.train runs markedly
slower (measured in docs/speed.md, "CPU kernels: oneDNN on every x86
CPU"). Each script therefore calls `choose_before_tensorflow` where it
starts, before it imports TensorFlow (support/script.py). This module must
not import TensorFlow itself.

The user's own TF_ENABLE_ONEDNN_OPTS always wins: `TF_ENABLE_ONEDNN_OPTS=0`
keeps the Eigen kernels. A process that imported TensorFlow before the
script started keeps whatever TensorFlow chose then.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import os
import platform
import sys

ONEDNN_VARIABLE = 'TF_ENABLE_ONEDNN_OPTS'

# /proc/cpuinfo names of the features with which TensorFlow turns oneDNN on
# by itself (IsMKLEnabled in tensorflow/core/util/util.cc).
TENSORFLOW_ONEDNN_FEATURES = frozenset(
    ['avx512_vnni', 'avx512_bf16', 'avx_vnni', 'amx_tile', 'amx_int8',
     'amx_bf16'])

# The CPU features with which oneDNN multiplies bfloat16 natively; without
# them it has no bfloat16 arithmetic to gain from (--mixed_precision bf16).
BFLOAT16_FEATURES = ('avx512_bf16', 'amx_bf16')
# ONEDNN_MAX_CPU_ISA values below oneDNN's first instruction set with
# bfloat16 arithmetic (AVX512_CORE_BF16).
CAPS_WITHOUT_BFLOAT16 = ('SSE41', 'AVX', 'AVX2', 'AVX2_VNNI', 'AVX512_CORE',
                         'AVX512_CORE_VNNI')

# The startup line the scripts print when the kernels were this package's
# choice, not TensorFlow's; None otherwise.
announcement = None


def _cpuinfo_field(name, cpuinfo_path):
  """The value of the first `name` line of /proc/cpuinfo, or None."""
  try:
    with open(cpuinfo_path) as cpuinfo:
      for line in cpuinfo:
        key, _, value = line.partition(':')
        if key.strip() == name:
          return value.strip()
  except OSError:
    pass
  return None


def cpu_flags(cpuinfo_path='/proc/cpuinfo'):
  """The CPU's feature names from /proc/cpuinfo, or None where unreadable."""
  flags = _cpuinfo_field('flags', cpuinfo_path)
  return None if flags is None else frozenset(flags.split())


def cpu_model(cpuinfo_path='/proc/cpuinfo'):
  """The CPU's model name from /proc/cpuinfo, or None where there is none."""
  return _cpuinfo_field('model name', cpuinfo_path)


def cpu_family_and_model(cpuinfo_path='/proc/cpuinfo'):
  """The x86 CPU's family and model numbers, as ints, or None without them.

  Under a hypervisor the model name is often only "AMD EPYC" or "Intel(R)
  Xeon(R) Processor"; these numbers (lscpu's "CPU family" and "Model") still
  tell the generation: family 25 is AMD Zen 3 and 4, 26 Zen 5; Intel's
  server cores are family 6, Sapphire Rapids model 143.
  """
  numbers = [_cpuinfo_field(name, cpuinfo_path) for name in ('cpu family',
                                                              'model')]
  if not all(number and number.isdigit() for number in numbers):
    return None
  return tuple(int(number) for number in numbers)


def tensorflow_turns_onednn_on(cpuinfo_path='/proc/cpuinfo'):
  """Whether this x86 CPU has a feature for which TensorFlow picks oneDNN."""
  flags = cpu_flags(cpuinfo_path)
  return bool(flags and flags & TENSORFLOW_ONEDNN_FEATURES)


def has_native_bfloat16(flags=None, onednn_cap=None):
  """Whether oneDNN multiplies bfloat16 natively here (see BFLOAT16_FEATURES).

  The trainers say so for --mixed_precision bf16, and the benchmarks
  measure a bfloat16 peak only where it holds (benchmarks/roofline.py).

  Args:
    flags: the CPU's feature flags (cpu_flags); default, this machine's.
    onednn_cap: the newest instruction set oneDNN may use; default, this
      process's ONEDNN_MAX_CPU_ISA. A cap in CAPS_WITHOUT_BFLOAT16 (an
      older class emulated on this machine, as in cpu_study's cpu_classes)
      leaves oneDNN without the features even where the CPU has them.
  """
  flags = cpu_flags() if flags is None else flags
  cap = (os.environ.get('ONEDNN_MAX_CPU_ISA', '') if onednn_cap is None
         else onednn_cap)
  if cap.upper() in CAPS_WITHOUT_BFLOAT16:
    return False
  return bool(flags and any(name in flags for name in BFLOAT16_FEATURES))


def choose_before_tensorflow(environ=None, modules=None, machine=None,
                             cpuinfo_path='/proc/cpuinfo'):
  """Sets TF_ENABLE_ONEDNN_OPTS=1 where TensorFlow would leave oneDNN off.

  Nothing is set when the variable is already set (the user's choice), when
  TensorFlow is already imported (too late to matter), on CPUs other than
  x86-64, or where TensorFlow turns oneDNN on by itself.

  Args:
    environ: the environment to read and set (default os.environ).
    modules: the loaded modules (default sys.modules).
    machine: platform.machine() (default: this machine's).
    cpuinfo_path: where to read the CPU's features; where unreadable, the
      CPU counts as one on which TensorFlow leaves oneDNN off.

  Returns:
    The line to print at startup when this set the variable, else None.
  """
  environ = os.environ if environ is None else environ
  modules = sys.modules if modules is None else modules
  machine = platform.machine() if machine is None else machine
  if (ONEDNN_VARIABLE in environ or 'tensorflow' in modules or
      machine.lower() not in ('x86_64', 'amd64')):
    return None
  if tensorflow_turns_onednn_on(cpuinfo_path):
    return None
  environ[ONEDNN_VARIABLE] = '1'
  return ('cifar10: using oneDNN CPU kernels, which TensorFlow leaves off on '
          'this CPU (set TF_ENABLE_ONEDNN_OPTS=0 for its Eigen kernels).')


def onednn_in_use():
  """Whether TensorFlow runs its oneDNN CPU kernels (imports TensorFlow)."""
  # No public API tells; this is what TensorFlow's own tests ask. Imported
  # here: this module must not import TensorFlow when it loads.
  from tensorflow.python.util import _pywrap_util_port  # pylint: disable=g-import-not-at-top,line-too-long
  return _pywrap_util_port.IsMklEnabled()


def announce(stream=None):
  """Prints the startup line if this package chose the kernels."""
  if announcement:
    print(announcement, file=stream or sys.stderr, flush=True)
