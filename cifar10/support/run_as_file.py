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

Run with `-m` (`python -m cifar10.cifar10`, `python -m
cifar10.support.flags`), a module that is no script would load TensorFlow and
end silently: `refuse_module_run_with_m`, which the package calls as it is
imported, says so in one line first.

This module imports nothing of the package, and importing it does nothing.
The package calls `refuse_module_run_with_m` as it is imported; for a
script run with -m, that also makes a stop end the process at once until
the script's own handlers take over (`stop_at_once_from_now`).
"""

import os
import re
import signal
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


def _module_named_by_m(argv, orig_argv):
  """The module `python ... -m MODULE args` runs, while Python finds it.

  Then `argv` is ['-m', args...], and `orig_argv` the whole command line,
  in which the module comes just before those args: on its own, or joined
  to the option (-mMODULE, or -BmMODULE with other options before it).
  """
  if len(orig_argv) <= len(argv):
    return None
  named = orig_argv[len(orig_argv) - len(argv)]
  if named.startswith('-'):
    named = named[named.index('m') + 1:]
  return named


def _module_file(module):
  """The file of the package's `module` (a dotted name), or None."""
  parts = module.split('.')
  if not all(parts):  # 'cifar10.', say: Python's own line says what is wrong.
    return None
  path = os.path.join(os.path.dirname(_PACKAGE), *parts)
  for candidate in (path + '.py', os.path.join(path, '__init__.py')):
    if os.path.isfile(candidate):
      return candidate
  return None


def _module_run_with_m():
  """(module, its file) of the package's module that `python -m` is about
  to run, or None: for a script or an import from a program too.

  Python imports a module's packages before it runs the module, and while
  it finds the module `sys.argv[0]` is '-m' (sys.orig_argv keeps the
  command line): so the package, being imported for `python -m
  cifar10.train`, can tell which of its modules is about to run.
  """
  if not sys.argv or sys.argv[0] != '-m':
    return None
  module = _module_named_by_m(sys.argv, getattr(sys, 'orig_argv', []))
  if module is None or module.split('.')[0] != os.path.basename(_PACKAGE):
    return None
  path = _module_file(module)
  return None if path is None else (module, path)


def refuse_module_run_with_m():
  """Exits the process with one line if `python -m` names no script.

  `python -m cifar10.cifar10` would load TensorFlow and end silently.
  Anything else (a script, a module of another package, an import from a
  program) returns at once, and a script's start is then made stoppable
  at once (`stop_at_once_from_now`).
  """
  run = _module_run_with_m()
  if run is None:
    return  # For no module at all, Python's own line is clear.
  module, path = run
  if _is_script(path):
    stop_at_once_from_now()
    return
  what = ('a package' if path.endswith('__init__.py')
          else 'a module the scripts import')
  sys.exit('%s is %s, not a script. Run one of the scripts, such as python '
           '-m cifar10.train (README.md lists them).' % (module, what))


# The handlers of SIGINT and SIGTERM as the process began, before
# stop_at_once_from_now replaced them: script.prepare_process keeps them as
# the ones the script started with.
handlers_at_start = {}


def stop_at_once_from_now():
  """Makes Ctrl-C and SIGTERM end the process in one line from now on.

  A script imports its first modules (numpy, the flags) before
  script.prepare_process installs its own handler for a stop during the
  start-up; a Ctrl-C in that fraction of a second ended in Python's
  KeyboardInterrupt traceback. Nothing has begun then that a stop could
  lose, so the process ends at once, as that handler ends it.
  """
  for signum in (signal.SIGINT, signal.SIGTERM):
    handlers_at_start[signum] = signal.signal(signum, _stop_at_once)


def _stop_at_once(signum, frame):
  del frame  # Unused.
  end_stopped(signum)


def end_stopped(signum, stderr=2):
  """Ends the process at once with `Stopped by SIGNAL.` on the file
  descriptor `stderr`, and the status a shell gives for that signal."""
  os.write(stderr, b'Stopped by %s.\n' % signal.Signals(signum).name.encode())
  os._exit(128 + signum)  # pylint: disable=protected-access


if __name__ == '__main__':  # This very file was run.
  refuse(__file__)
