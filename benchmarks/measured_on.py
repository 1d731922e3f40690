"""What a measurement was taken on: the CPU, its cores, TensorFlow, the date.

Every script that writes figures for the docs records this beside them, so
that a rerun on another machine writes rows that name that machine.
"""

if __name__ == '__main__':  # A helper module, run as a program.
  raise SystemExit(
      'benchmarks/measured_on.py is a module that the measuring tools '
      'import, not a tool: run python benchmarks/benchmark.py '
      '(README.md lists the tools).')

import datetime
import importlib.metadata
import os
import platform

from cifar10.support import kernel_choice

# The /proc/cpuinfo flags that decide which kernels TensorFlow runs and how
# fast (see docs/speed.md): a virtual machine's model name often says only
# "Intel(R) Xeon(R) Processor", and these tell its class.
KERNEL_FEATURES = ('avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'avx512_bf16',
                   'amx_tile')


def machine():
  """{'cpu', 'cpu_features', 'cores', 'tensorflow', 'date'} of this machine.

  'cpu' is /proc/cpuinfo's model name where there is one (Linux), else what
  the platform module says; 'cpu_features' the KERNEL_FEATURES it lists.
  On x86 Linux, 'cpu_family' and 'cpu_model_number' too (ints), which tell
  apart CPUs whose name and features are alike (AMD Zen 4 and Zen 5 are
  both "AMD EPYC" with AVX-512 under a hypervisor; Zen 5's float32 matmul
  peak is twice Zen 4's, core for core).
  """
  flags = kernel_choice.cpu_flags() or frozenset()
  described = {
      'cpu': kernel_choice.cpu_model() or platform.processor() or
             platform.machine(),
      'cpu_features': [name for name in KERNEL_FEATURES if name in flags],
      'cores': os.cpu_count(),
      'tensorflow': importlib.metadata.version('tensorflow'),
      'date': datetime.date.today().isoformat()}
  family_and_model = kernel_choice.cpu_family_and_model()
  if family_and_model:
    described['cpu_family'], described['cpu_model_number'] = family_and_model
  return described
