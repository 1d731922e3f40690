"""Imports the tools in scripts/ and benchmarks/ (not packages) for their tests."""

import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The learner's tools, and the measurement tooling.
SCRIPTS = os.path.join(ROOT, 'scripts')
BENCHMARKS = os.path.join(ROOT, 'benchmarks')


def path(name):
  """The file of the tool `name`, in scripts/ or benchmarks/."""
  for folder in (SCRIPTS, BENCHMARKS):
    candidate = os.path.join(folder, name + '.py')
    if os.path.isfile(candidate):
      return candidate
  raise FileNotFoundError('%s.py is in neither %s nor %s'
                          % (name, SCRIPTS, BENCHMARKS))


def load(name):
  """The module scripts/<name>.py or benchmarks/<name>.py, freshly imported.

  Both folders go on sys.path, as each is for a tool run from there, so that
  a tool can import another (cpu_study.py imports benchmark.py).
  """
  for folder in (SCRIPTS, BENCHMARKS):
    if folder not in sys.path:
      sys.path.append(folder)
  spec = importlib.util.spec_from_file_location(name, path(name))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module
