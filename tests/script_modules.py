"""Imports the scripts in scripts/ (not a package) for their tests."""

import importlib.util
import os

SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), 'scripts')


def load(name):
  """The module scripts/<name>.py, freshly imported."""
  spec = importlib.util.spec_from_file_location(
      name, os.path.join(SCRIPTS, name + '.py'))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module
