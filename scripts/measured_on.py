"""What a measurement was taken on: the CPU, its cores, TensorFlow, the date.

Every script that writes figures for the docs records this beside them, so
that a rerun on another machine writes rows that name that machine.
"""

import datetime
import importlib.metadata
import os
import platform

# The /proc/cpuinfo flags that decide which kernels TensorFlow runs and how
# fast (see docs/speed.md): a virtual machine's model name often says only
# "Intel(R) Xeon(R) Processor", and these tell its class.
KERNEL_FEATURES = ('avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'avx512_bf16',
                   'amx_tile')


def machine():
  """{'cpu', 'cpu_features', 'cores', 'tensorflow', 'date'} of this machine.

  'cpu' is /proc/cpuinfo's model name where there is one (Linux), else what
  the platform module says; 'cpu_features' the KERNEL_FEATURES it lists.
  """
  model = platform.processor() or platform.machine()
  flags = set()
  try:
    with open('/proc/cpuinfo') as cpuinfo:
      for line in cpuinfo:
        key, _, value = line.partition(':')
        if key.strip() == 'model name':
          model = value.strip()
        elif key.strip() == 'flags':
          flags = set(value.split())
          break
  except OSError:
    pass
  return {'cpu': model,
          'cpu_features': [name for name in KERNEL_FEATURES if name in flags],
          'cores': os.cpu_count(),
          'tensorflow': importlib.metadata.version('tensorflow'),
          'date': datetime.date.today().isoformat()}
