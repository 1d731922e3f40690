"""Says in one line how to run the package's scripts when one of its files
is run as a program (`python cifar10/train.py`) instead.

Run that way, a module is not part of the package: Python runs it as
`__main__`, with no `__package__`, and puts the file's own folder first on
sys.path. A script's `import cifar10...` then finds cifar10/cifar10.py
instead of the package, and the imports that follow cannot work; a module of
support/ would import TensorFlow, fail to find the package, or end silently.

So every module that is no script begins, before any other import (those
would load TensorFlow, whose start-up lines would come first, or fail), with

    if not __package__:  # Run as a file.
      import run_as_file  # In cifar10/: from support import run_as_file
      run_as_file.refuse(__file__)

found by its bare name because the file's folder leads sys.path. The scripts
need no check of their own: their first import, `from cifar10.support ...`,
reaches cifar10/cifar10.py's.

This module imports nothing of the package, and importing it does nothing.
"""

import os
import re
import sys

# The package's folder: its scripts are the modules directly in it.
_PACKAGE = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def _folder(path):
  return os.path.dirname(os.path.realpath(path))


def _is_script(path):
  """Whether `path` is one of the package's scripts (it has a main block)."""
  if _folder(path) != _PACKAGE:
    return False
  try:
    with open(path, encoding='utf-8') as source:
      return re.search(r"^if __name__ == '__main__':", source.read(),
                       re.M) is not None
  except (OSError, ValueError):  # ValueError: not UTF-8 text.
    return False


def refusal(path):
  """The line for the package's file at `path`, run as a program."""
  if _is_script(path):
    return ('%s is a module of the cifar10 package: run it as one, from the '
            'folder that holds cifar10/: python -m cifar10.%s'
            % (path, os.path.splitext(os.path.basename(path))[0]))
  return ('%s is a module of the cifar10 package, not a script: the scripts '
          'import it. Run a script from the folder that holds cifar10/, such '
          'as python -m cifar10.train (README.md lists them).' % path)


def refuse(module_file):
  """Exits the process with the line for the file that was run.

  Args:
    module_file: the `__file__` of the module that found itself outside the
      package: named when the program is none of the package's files (`python
      -c "import cifar10"`, or a user's script, run from inside cifar10/).
  """
  program = getattr(sys.modules['__main__'], '__file__', None)
  if program and _folder(program) in (_PACKAGE,
                                      os.path.join(_PACKAGE, 'support')):
    sys.exit(refusal(program))
  sys.exit(refusal(module_file))


if __name__ == '__main__':  # This very file was run.
  refuse(__file__)
