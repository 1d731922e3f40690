"""Imports the scripts in scripts/ (not a package) for their tests."""

import importlib.util
import os
import sys

SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), 'scripts')


def load(name):
  """The module scripts/<name>.py, freshly imported.

  scripts/ goes on sys.path, as it is for a script run from there, so that
  a script can import another (cpu_study.py imports benchmark.py).
  """
  if SCRIPTS not in sys.path:
    sys.path.append(SCRIPTS)
  spec = importlib.util.spec_from_file_location(
      name, os.path.join(SCRIPTS, name + '.py'))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module
