"""Holds back TensorFlow's start-up lines, unless CIFAR10_TF_LOGS=1 is set.

On a CPU-only machine `import tensorflow` (2.21) writes about ten lines to
stderr from C++ (the oneDNN notice and "Could not find cuda drivers" twice,
each after absl's "All log messages before absl::InitializeLog() is called
are written to STDERR"), and the first session adds "failed call to cuInit".
None of them is a problem a user of these scripts can act on, and they bury
the port's own lines.

What silences them, checked with TF 2.21 (2026-12-04):

* `TF_CPP_MIN_LOG_LEVEL` alone does not. The lines written during the import
  come from static initializers that run before absl's logging is
  initialized, and absl writes such early messages to stderr whatever the
  minimum level (abseil-cpp pull requests #1718 and #1957 propose changing
  that; neither is merged). The level does apply to later lines: 3 removes
  the session's cuInit line (2 keeps it, as an error).
* absl's own `--minloglevel` and `--stderrthreshold` are command-line flags
  of the C++ program; TensorFlow never parses a command line for them and
  reads no environment variable that sets them, and from Python there is no
  handle on them before the library that logs is loaded.
* What works is to point file descriptor 2 somewhere else while the import
  runs. This module does that for the first `import tensorflow` of the
  process, keeps what the import wrote, and shows it if the import fails,
  the process crashes during the import (an abort or a fault, which a
  watcher process shows it for) or the script ends in an uncaught
  exception, so a real error is never hidden. A process ended from outside
  during the import (`kill -9`, or SIGTERM and Ctrl-C, which script.py
  handles) shows nothing: its user ended it, and lines written by the
  watcher would come after the shell's next prompt. It also sets TF_CPP_MIN_LOG_LEVEL=3 (FATAL only) unless the user
  set it, TensorFlow's Python logger to ERROR, which hides its
  deprecation warnings (TensorBoard's too, whose event reader warns of each
  extra graph a resumed run writes), and ignores the Python warnings of its modules. Errors that stop a run still reach the user: they
  arrive as Python exceptions, which the scripts report.

`CIFAR10_TF_LOGS=1` turns all of this off: TensorFlow then prints as it
would without this package.

This module must not import TensorFlow when it loads: each script installs
its import hook (`hold_back_start_up_lines`, through script.py) before
anything imports it.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import contextlib
import faulthandler
import importlib.abc
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import warnings

from cifar10.support import errors

SWITCH = 'CIFAR10_TF_LOGS'

LEVEL_VARIABLE = 'TF_CPP_MIN_LOG_LEVEL'

# What the import wrote to stderr while it was held back (bytes), for a
# failure to show; None before the import.
held_back = None

# While the import runs held back: (the real stderr's descriptor, the paths
# of the capture file and the crash file, the watcher's "ok" pipe end or
# None), for a stop that ends the process then (abandon_held_back_import).
_in_flight = None


def verbose(environ=None):
  """Whether CIFAR10_TF_LOGS asks for TensorFlow's own lines (1, true, yes)."""
  environ = os.environ if environ is None else environ
  return environ.get(SWITCH, '').strip().lower() in ('1', 'true', 'yes', 'on')


def _show_held_back(stream=None):
  """Writes the held-back start-up lines under a line saying what they are."""
  if not held_back:
    return
  stream = stream or sys.stderr
  stream.write('TensorFlow\'s start-up lines, held back until now (%s=1 '
               'shows them as they come):\n%s'
               % (SWITCH, held_back.decode('utf-8', 'replace')))
  stream.flush()


def _excepthook(previous):
  """An excepthook that shows the start-up lines before the traceback."""
  def hook(kind, value, traceback):
    if not issubclass(kind, KeyboardInterrupt):
      _show_held_back()
    previous(kind, value, traceback)
  return hook


# A process that shows the held-back lines if this one crashes before it
# says "ok": an abort in C++ (a FATAL record, such as a CPU that lacks an
# instruction the library needs) or a fault leaves Python no chance to show
# them. It cannot learn how this process ended (only a parent can), so the
# crash says so itself: faulthandler, enabled into the crash file (argv[2])
# while the import runs, writes its report there on SIGABRT, SIGSEGV,
# SIGBUS, SIGILL and SIGFPE, and on no other end. A process killed from
# outside (SIGKILL) leaves that file empty, and the lines go with it, as
# they do for the stops script.py handles. Its report is shown too where the
# user had faulthandler on (argv[3]), as they asked. Files already gone
# (removed by a stop during start-up) have nothing to show.
_WATCHER = ('import os, sys\n'
            'held, crash, report = sys.argv[1:]\n'
            'if os.read(0, 2) != b"ok":\n'
            '  there = [os.path.exists(path) for path in (held, crash)]\n'
            '  if all(there) and os.path.getsize(crash):\n'
            '    with open(held, "rb") as stream:\n'
            '      os.write(2, stream.read())\n'
            '    if report == "1":\n'
            '      with open(crash, "rb") as stream:\n'
            '        os.write(2, stream.read())\n'
            '  for path, kept in zip((held, crash), there):\n'
            '    if kept:\n'
            '      os.remove(path)\n')


def _start_watcher(path, crash_path, show_report):
  """Starts the _WATCHER of `path` and `crash_path`.

  Args:
    path: the file holding the held-back lines.
    crash_path: the file faulthandler writes its report into.
    show_report: whether the watcher shows that report too.

  Returns:
    (the watcher's Popen, the pipe end to say "ok" into), or None where no
    watcher starts (no usable sys.executable).
  """
  read_end, write_end = os.pipe()
  try:
    # In a session of its own: Ctrl-C at the terminal signals this
    # process's group, and the watcher, which has nothing to stop, would
    # print a traceback of its own.
    process = subprocess.Popen(
        [sys.executable, '-S', '-c', _WATCHER, path, crash_path,
         '1' if show_report else '0'],
        stdin=read_end, start_new_session=True)
  except OSError:
    os.close(write_end)
    return None
  finally:
    os.close(read_end)
  return process, write_end


def abandon_held_back_import():
  """Lets the process end in the middle of the held-back import, quietly.

  For a stop during start-up (script.py), which ends the process at once:
  the watcher is told all is well and the capture and crash files are
  removed, so the start-up lines go with the process.

  Returns:
    The descriptor of the real stderr, to say why the process ends: 2, or
    while the import runs, the one saved from it.
  """
  if _in_flight is None:
    return 2
  saved, held_path, crash_path, ok_end = _in_flight
  if ok_end is not None:
    try:
      os.write(ok_end, b'ok')
    except OSError:  # The watcher is gone already.
      pass
  for path in (held_path, crash_path):
    try:
      os.remove(path)
    except OSError:
      pass
  return saved


@contextlib.contextmanager
def _stops_held():
  """Holds SIGINT and SIGTERM back for the `with`: one that comes meanwhile
  is raised again at its end, for the handlers that were there before
  (script.py's).

  Blocking the signals (pthread_sigmask) would not do: it blocks them in
  the calling thread only, and the system hands a signal sent to the
  process to any thread that does not block it (numpy's OpenBLAS has
  started one by now), after which Python runs the handler in the main
  thread all the same. So the handlers themselves are swapped for one that
  only notes the signal. Python lets only the main thread set handlers, and
  runs them only there: in another thread (TensorFlow first imported by a
  thread of the caller's) nothing is held.
  """
  if threading.current_thread() is not threading.main_thread():
    yield
    return
  noted = []
  before = {}
  for signum in errors.STOP_SIGNALS:
    handler = signal.getsignal(signum)
    if handler is not None:  # None: set outside Python, left alone.
      before[signum] = signal.signal(
          signum, lambda signum, frame: noted.append(signum))
  try:
    yield
  finally:
    for signum, handler in before.items():
      signal.signal(signum, handler)
    for signum in dict.fromkeys(noted):
      signal.raise_signal(signum)


def _run_with_stderr_held(function):
  """Calls `function()` with file descriptor 2 pointed at a temporary file.

  Returns:
    (function's result, the bytes written to descriptor 2 meanwhile).

  Raises:
    Whatever `function` raises, after writing those bytes to stderr. Should
    the process crash meanwhile (see _WATCHER), a watcher process writes
    them.
  """
  global _in_flight
  sys.stderr.flush()
  # Recorded at each step, so that a stop at any point finds what to undo;
  # a stop while the two files are made, before they are recorded, would
  # leave them in the temporary folder, so it is held till then.
  with _stops_held():
    capture = tempfile.NamedTemporaryFile(prefix='cifar10-tf-start-',
                                          delete=False)
    crash = tempfile.NamedTemporaryFile(prefix='cifar10-tf-crash-',
                                        delete=False)
    _in_flight = (2, capture.name, crash.name, None)
  # A user's own faulthandler (PYTHONFAULTHANDLER, -X faulthandler) writes
  # to stderr: it is enabled so again afterwards, and its report of a crash
  # meanwhile is shown by the watcher.
  user_faulthandler = faulthandler.is_enabled()
  watcher = _start_watcher(capture.name, crash.name, user_faulthandler)
  saved = os.dup(2)
  _in_flight = (saved, capture.name, crash.name,
                watcher[1] if watcher else None)
  faulthandler.enable(crash)
  os.dup2(capture.fileno(), 2)

  def restore():
    """Points descriptor 2 back at stderr; returns what the file caught."""
    global _in_flight
    # A stop meanwhile would find _in_flight gone and a file left behind,
    # or write its line into that file: it comes once all is undone.
    with _stops_held():
      _in_flight = None
      sys.stderr.flush()
      os.dup2(saved, 2)
      os.close(saved)
      if user_faulthandler:
        faulthandler.enable(sys.stderr)
      else:
        faulthandler.disable()
      crash.close()
      os.remove(crash.name)
      capture.seek(0)
      held = capture.read()
      capture.close()
      os.remove(capture.name)
      if watcher is not None:
        process, ok_end = watcher
        try:
          os.write(ok_end, b'ok')
        except OSError:  # The watcher was killed: it has nothing to show.
          pass
        os.close(ok_end)
        process.wait()
    return held

  try:
    result = function()
  except BaseException as error:
    held = restore()
    # Ctrl-C is the user's stop, not an error to explain (script.py ends a
    # script's process before this sees it).
    if not isinstance(error, KeyboardInterrupt):
      sys.stderr.write(held.decode('utf-8', 'replace'))
      sys.stderr.flush()
    raise
  return result, restore()


class _QuietLoader(importlib.abc.Loader):
  """Runs TensorFlow's own loader with its start-up lines held back."""

  def __init__(self, loader):
    self._loader = loader

  def __getattr__(self, name):
    # Everything else (get_data, is_package, resource readers) is the
    # original loader's.
    return getattr(self._loader, name)

  def create_module(self, spec):
    return self._loader.create_module(spec)

  def exec_module(self, module):
    global held_back
    os.environ.setdefault(LEVEL_VARIABLE, '3')
    _, held_back = _run_with_stderr_held(
        lambda: self._loader.exec_module(module))
    # TensorFlow's Python logger prints deprecation warnings at WARNING;
    # its Python warnings (such as "Seed 1 from outer graph might be getting
    # used", for a graph seeded on purpose) go through `warnings`.
    logging.getLogger('tensorflow').setLevel(logging.ERROR)
    # TensorBoard's event reader (scripts/plot_run.py, eval_image.py) warns
    # of each graph after the first and of steps written out of order: what
    # every resumed run and every evaluator start writes, so nothing to act on.
    logging.getLogger('tensorboard').setLevel(logging.ERROR)
    warnings.filterwarnings('ignore', module=r'tensorflow(\.|$)')
    if held_back:
      sys.excepthook = _excepthook(sys.excepthook)


class _Finder(importlib.abc.MetaPathFinder):
  """Finds `tensorflow` as the other finders do, and gives it a `_QuietLoader`.

  Only the process's first `import tensorflow` asks: once it has run, the
  module is in sys.modules.
  """

  def find_spec(self, name, path=None, target=None):
    if name != 'tensorflow':
      return None
    for finder in sys.meta_path:
      find = getattr(finder, 'find_spec', None)
      if finder is self or find is None:
        continue
      spec = find(name, path, target)
      if spec is not None:
        if spec.loader is not None:
          spec.loader = _QuietLoader(spec.loader)
        return spec
    return None


def hold_back_start_up_lines(environ=None, modules=None):
  """Makes the process's first `import tensorflow` quiet (see the docstring).

  Nothing changes when CIFAR10_TF_LOGS is set, or when TensorFlow is already
  imported.

  Args:
    environ: the environment to read (default os.environ).
    modules: the loaded modules (default sys.modules).

  Returns:
    Whether the hook was installed.
  """
  modules = sys.modules if modules is None else modules
  if verbose(environ) or 'tensorflow' in modules:
    return False
  if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
    sys.meta_path.insert(0, _Finder())
  return True
