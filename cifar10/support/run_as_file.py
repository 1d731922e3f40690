"""Says how to run a module of the package that was run as a file.

`python cifar10/train.py` puts cifar10/ first on sys.path, so the script's
`import cifar10...` finds cifar10/cifar10.py instead of the package, and the
imports that follow cannot work. cifar10/cifar10.py runs this file (by its
path: the package cannot be imported then) when it finds itself imported
that way, and the process exits with one line instead of a traceback.
"""

import os
import sys


def _refusal(path):
  """The line for the file at `path` that was run."""
  name = os.path.splitext(os.path.basename(path))[0]
  try:
    with open(path, encoding='utf-8') as source:
      is_script = "__name__ == '__main__'" in source.read()
  except OSError:
    is_script = False
  if is_script:
    return ('%s is a module of the cifar10 package: run it as one, from the '
            'folder that holds cifar10/: python -m cifar10.%s' % (path, name))
  return ('%s is a module of the cifar10 package, not a script: the scripts '
          'import it. Run a script from the folder that holds cifar10/, such '
          'as python -m cifar10.train (README.md lists them).' % path)


# The file that was run: the program's __main__ (runpy has set sys.argv[0] to
# this file's path while it runs it).
sys.exit(_refusal(sys.modules['__main__'].__file__))
