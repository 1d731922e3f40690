"""How every script starts and ends: the process set up before TensorFlow
loads, and a user's error said in one line instead of a traceback.

A script module calls `start(__name__, parser)` after defining its flags and
before its first `import tensorflow`; its `if __name__ == '__main__'` block
calls `sys.exit(run(main))`. Nothing happens when the module is merely
imported (by a test, or a user's own program): importing this package never
changes the caller's process.

This module loads no TensorFlow.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import atexit
import errno
import os
import re
import signal
import sys

from cifar10.support import console
from cifar10.support import errors
from cifar10.support import kernel_choice
from cifar10.support import run_as_file
from cifar10.support import storage
from cifar10.support import tensorflow_logs


def start(module_name, parser):
  """Answers --help, then prepares the process, when the script is the program.

  Both must come before TensorFlow loads: `--help` is answered without
  waiting seconds for an import it does not need, and the CPU kernels and
  the quiet start-up (see `prepare_process`) can only be chosen before.
  First of all, a character the console cannot show (a class name in
  Chinese on an ASCII console) is printed as an escape instead of ending
  the script (console.py).

  Args:
    module_name: the calling module's `__name__`; only '__main__' (run as
      `python -m cifar10.X`) does anything.
    parser: the function that builds the script's parser.
  """
  if module_name != '__main__':
    return
  console.escape_unencodable()
  answer_help_first(parser)
  prepare_process()


def answer_help_first(parser):
  """Exits with the script's help when -h or --help is on its command line.

  For any other command line it does nothing: `main` parses it.

  Args:
    parser: the function that builds the script's parser.
  """
  options = sys.argv[1:]
  if '--' in options:  # After it, "--help" would be a positional argument.
    options = options[:options.index('--')]
  if '-h' in options or '--help' in options:
    # Exits with the help (or with the refusal of a flag given before it);
    # returns only if --help was the value of another flag.
    parser().parse_args()


def prepare_process():
  """Chooses TensorFlow's CPU kernels and holds back its start-up lines.

  See kernel_choice.py and tensorflow_logs.py. Call it before the process
  imports TensorFlow; afterwards it changes nothing.
  """
  kernel_choice.announcement = kernel_choice.choose_before_tensorflow()
  tensorflow_logs.hold_back_start_up_lines()
  for signum in errors.STOP_SIGNALS:
    previous = signal.signal(signum, _stop_while_starting)
    # The handler the process began with, not the one that ended the
    # package's own import at once (run_as_file.stop_at_once_from_now).
    _before_start_up[signum] = run_as_file.handlers_at_start.get(signum,
                                                                 previous)


# Ctrl-C and `kill` while the script starts (importing TensorFlow takes
# seconds) end it at once: nothing has begun that a stop could lose, and
# TensorFlow's import catches KeyboardInterrupt in places and goes on, so
# that a Ctrl-C there could be lost. `run` then makes both raise instead.
_before_start_up = {}


def _stop_while_starting(signum, frame):
  del frame  # Unused.
  # stderr as it was before the held-back import took file descriptor 2.
  run_as_file.end_stopped(signum, tensorflow_logs.abandon_held_back_import())


# The exit status after the reader of the output stopped reading: the one a
# shell reports for a command that SIGPIPE ended (128 + 13), as it would for
# `cat` or `grep` in the same place. Python's own recipe exits with 1, but
# predict's 1 already means "some files could not be read", and
# `set -o pipefail` users know 141 as the harmless status of `... | head`.
BROKEN_PIPE_STATUS = 128 + signal.SIGPIPE


# A stop that lands while TensorFlow's C++ code is raising an error of its
# own (Ctrl-C as the evaluator's sess.run meets the end of the data) comes
# out of pybind11 as a RuntimeError that names both: "MISMATCH of original
# and normalized active exception types: ORIGINAL OutOfRangeError REPLACED
# BY KeyboardInterrupt". The stop is what the user did.
_STOP_IN_MISMATCH = re.compile(
    r'MISMATCH of original and normalized active exception types: ORIGINAL '
    r'\S+ REPLACED BY (KeyboardInterrupt|Terminated)\b')


def _stop_behind(error):
  """The stop (one of errors.STOPS) that `error` replaced, or None."""
  mismatch = _STOP_IN_MISMATCH.search(str(error))
  if mismatch is None:
    return None
  return (KeyboardInterrupt() if mismatch.group(1) == 'KeyboardInterrupt'
          else errors.Terminated())


def run(main, argv=None):
  """Calls `main(argv)`; a UserError becomes one line on stderr and its status.

  A stop the user asked for (errors.Stopped, such as Ctrl-C during
  training, or SIGINT or SIGTERM anywhere else, even where pybind11 wraps
  it in a RuntimeError) is said the same way, without calling it an
  error. So is a reader that stops reading the output (`predict *.png |
  head -1`), in no words at all: see
  `_end_quietly_on_broken_pipe`. A folder the system will not let the
  script read or write is one line too (`_refused_path`), and so is a
  full disk (`_no_room`).

  Returns:
    The exit status: main's own, the error's `exit_status`, or
    BROKEN_PIPE_STATUS.
  """
  kernel_choice.announce()
  del _stops_asked[:]  # A test may call run many times in one process.
  # Python turns SIGINT (Ctrl-C) into KeyboardInterrupt only if SIGINT was
  # not ignored when the process started, and a shell without job control
  # ignores it in the commands it starts with `&`: without this, neither
  # Ctrl-C nor `kill -INT` would stop those. Our handler raises it too, and
  # also notes the stop (`raise_stop_asked`).
  signal.signal(signal.SIGINT, _raise_interrupt)
  _raise_on_sigterm()
  if not isinstance(sys.unraisablehook, _QuietAboutStops):
    sys.unraisablehook = _QuietAboutStops(sys.unraisablehook)
  _the_program[:] = [getattr(main, '__module__', None) == '__main__']
  try:
    try:
      status = main(argv)
      if _the_program[0]:
        _stops_end_with(status)
      return status
    except RuntimeError as error:
      raise _stop_behind(error) or error
  except errors.Stopped as stop:
    print(console.message_lines(str(stop)), file=sys.stderr, flush=True)
    return stop.exit_status
  except errors.STOPS as stop:  # Where the script has nothing more to say.
    signum = errors.stop_signal(stop)
    print('Stopped by %s.' % signum.name, file=sys.stderr, flush=True)
    return 128 + signum
  except errors.UserError as error:
    print('error: %s' % console.message_lines(str(error)), file=sys.stderr)
    return error.exit_status
  except BrokenPipeError:
    _end_quietly_on_broken_pipe()
    return BROKEN_PIPE_STATUS
  except Exception as error:  # pylint: disable=broad-except
    said = _said_in_one_line(error)
    if said is None:
      raise
    print('error: %s' % console.message_lines(str(said)), file=sys.stderr)
    return 1


def _stops_end_with(status):
  """From now on, SIGINT and SIGTERM end the process at once with `status`.

  The script's work is done and said (`Finished at step 300`, the
  precision): a Ctrl-C while Python and TensorFlow shut down ended the
  process with 130 and no word, as if it had been cut short, and a `&&`
  chain stopped there. Only for the program itself (its `main` is in
  `__main__`): a test calling `run` keeps its own handlers.
  """
  def end(signum, frame):
    del signum, frame  # Unused.
    for stream in (sys.stdout, sys.stderr):
      try:
        stream.flush()
      except (OSError, ValueError):  # Closed, or its reader gone.
        pass
    os._exit(status)  # pylint: disable=protected-access
  for signum in errors.STOP_SIGNALS:
    signal.signal(signum, end)
  _work_done.append(status)


# Holds the program's status once its work is done (_stops_end_with).
_work_done = []

# [True] while `run` runs the program's own main (its module is __main__),
# [False] while it runs another's (a test's call).
_the_program = [False]


def work_done():
  """Says that the script's results are written and said, only closing
  left (the evaluator's report is out): a stop from now on ends the program
  with status 0, as one after `main` returns does (_stops_end_with). A
  stop just after the last line was printed ended it with 130, as if the
  work had been cut short. Only for the program itself, as there.
  """
  if _the_program[0]:
    _stops_end_with(0)


@atexit.register
def _ignore_stops_once_the_work_is_done():
  """As Python's last exit function, makes a finished program ignore stops.

  A Python handler (`_stops_end_with`'s) runs only while Python does: after
  the exit functions, Python puts back the system's default action for
  every signal it handles, which for these ends the process (status 130 or
  143), and then tears down the modules, TensorFlow's among them, for about
  half a second. A process that ignores them is left ignoring them, and
  ends by itself moments later with its status. Registered as this module
  is imported, before TensorFlow is, this runs after the exit functions of
  the modules imported later (the last registered runs first), so that
  `end` serves while those run.
  """
  if _work_done:
    for signum in errors.STOP_SIGNALS:
      signal.signal(signum, signal.SIG_IGN)


def _said_in_one_line(error):
  """The UserError that says `error` in one line, where the system met it
  at a file or folder the user gave (wherever the script was); else None."""
  refused = _refused_path(error)
  if refused:
    return errors.cannot_use(*refused)
  no_room = _no_room(error)
  if no_room:
    return no_room
  in_the_way = _file_in_the_way(error)
  if in_the_way:
    return errors.UserError(
        '%s is a file, not a folder, so nothing can be written below it. '
        'Give a path that does not go through it.' % in_the_way)
  return None


def _raise_on_sigterm():
  """From now on SIGTERM raises errors.Terminated, as SIGINT raises
  KeyboardInterrupt, in a script that `start` prepared.

  Once TensorFlow has loaded, a stop can no longer end the process at once
  (`_stop_while_starting`): the script may have begun to write. Raised, it
  unwinds as Ctrl-C does, through every clean-up on the way, to one line.
  The training loop's own handler, which finishes the step in flight,
  takes its place while the loop runs and gives it back afterwards. A
  SIGTERM the script's parent had ignored stays ignored; a process that
  imported a script without running it keeps its own handler.
  """
  if signal.SIGTERM not in _before_start_up:
    return
  previous = _before_start_up[signal.SIGTERM]
  signal.signal(signal.SIGTERM, _raise_terminated
                if previous == signal.SIG_DFL else previous)


def _raise_interrupt(signum, frame):
  del frame  # Unused.
  _stops_asked.append(signum)
  raise KeyboardInterrupt()


def _raise_terminated(signum, frame):
  del frame  # Unused.
  _stops_asked.append(signum)
  # A second SIGTERM (an impatient `kill`, repeated) is ignored from here
  # on, so that the clean-up this one starts is not cut short.
  signal.signal(signum, signal.SIG_IGN)
  raise errors.Terminated()


class _QuietAboutStops:
  """A sys.unraisablehook that says nothing of a stop Python could not raise.

  Python's own hook prints "Exception ignored in ..." and a traceback for a
  KeyboardInterrupt raised inside a finalizer (see `_stops_asked`). A stop
  asked for is not an error, and `raise_stop_asked` raises it again where
  the script can end. Anything else goes to the hook that was there before.
  """

  def __init__(self, others):
    self._others = others

  def __call__(self, unraisable):
    if not issubclass(unraisable.exc_type, errors.STOPS):
      self._others(unraisable)


# The stops (signal numbers) the user asked for since `run` began. A stop is
# raised where the script happens to be, and two places there drop it:
# Python prints "Exception ignored" for one raised inside a finalizer (the
# `__del__` that frees a TensorFlow session or graph, just after an
# evaluation's report) and goes on; and pybind11 may hand one met inside
# TensorFlow's C++ code back as a RuntimeError, which a reader of damaged
# checkpoints takes for one of its own. A loop that waits or goes on to
# the next piece of work asks `raise_stop_asked` first.
_stops_asked = []


def raise_stop_asked():
  """Raises the stop the user asked for, if any, again: it may have been lost.

  Call it where a long-running loop is about to wait or to begin the next
  piece of work, so that a lost Ctrl-C or SIGTERM does not leave the script
  running (an evaluator asleep for --eval_interval_secs) until a second one.

  Raises:
    KeyboardInterrupt: SIGINT (Ctrl-C) came since `run` began.
    errors.Terminated: SIGTERM came since `run` began.
  """
  if _stops_asked:
    raise (errors.Terminated() if _stops_asked[-1] == signal.SIGTERM
           else KeyboardInterrupt())


def _refused_path(error):
  """(path, reason) where `error` is the system refusing a file or folder.

  A folder the user may not write (or a read-only disk) stops a script
  wherever it first writes: making --train_dir, the converter's OUT, the
  export's staging folder; one the user may not read stops it where it
  first reads (an evaluator's --checkpoint_dir). Each would end in a
  traceback; the path and the system's reason are all the user needs
  (errors.cannot_use words it for either). None for any other error.

  A file or folder staged under a partial name (storage.partial_name) is
  the writer's own, unknown to the user: the folder it was made in is named
  instead.
  """
  refused = _system_refusal(error)
  if refused is None:
    return None
  path, reason = refused
  return storage.staged_in(path) or path, reason


def _system_refusal(error):
  """(path, reason) as the error itself names them, or None."""
  if isinstance(error, OSError) and error.errno in errors.REFUSALS:
    return error.filename, error.strerror
  # TensorFlow's file system says it as "<path>; Permission denied". Only a
  # process that loaded TensorFlow can have raised its errors.
  tf = sys.modules.get('tensorflow')
  if tf is not None and isinstance(error, tf.errors.PermissionDeniedError):
    return errors.path_and_reason(errors.describe(error))
  # Its summary writer wraps the same words in a RuntimeError, which other
  # failures raise too: only the system's words for a refusal are taken.
  if isinstance(error, RuntimeError):
    path, reason = errors.path_and_reason(str(error))
    if path and reason in errors.REFUSAL_WORDS:
      return path, reason
  return None


def _no_room(error):
  """errors.no_room's UserError where `error` is a full disk (or quota);
  else None.

  Any write may meet a full disk: an export's staging folder, an
  evaluator's first event file, a new run's class names. Each would end in
  a traceback (the trainer says a checkpoint it could not save itself).
  By the time the error reaches `run`, the writers' clean-up has run: what
  they staged under a partial name (storage.partial_name) is gone, and
  their folder is named, as `_refused_path` names it; a file still there
  is named as incomplete.
  """
  found = _system_no_room(error)
  if found is None:
    return None
  path, reason = found
  if not path:
    return errors.no_room(None, reason)
  path = os.fsdecode(path)  # A call given a bytes path names it so.
  staged = storage.staged_in(path)
  if staged:
    return errors.no_room(staged, reason)
  # A Python error names a local path; TensorFlow's may name a URL, and
  # then TensorFlow is loaded to look there.
  local = storage.scheme(path) is None
  if (local and os.path.isdir(path)) or (not local and storage.isdir(path)):
    return errors.no_room(path, reason)
  folder = storage.dirname(path) or '.'
  left = os.path.lexists(path) if local else storage.exists(path)
  return errors.no_room(folder, reason, path if left else None)


def _system_no_room(error):
  """(path, reason) of a write that found no room, as the error names
  them (path is None or '' where it names none); else None."""
  if isinstance(error, OSError):
    return ((error.filename, error.strerror)
            if error.errno in errors.NO_ROOM else None)
  # TensorFlow's file system says it as "<path>; No space left on device",
  # in a ResourceExhaustedError (which a lack of memory raises too), or in
  # a RuntimeError from its summary writer: the system's words decide.
  tf = sys.modules.get('tensorflow')
  if tf is not None and isinstance(error, tf.errors.OpError):
    text = errors.describe(error)
  elif isinstance(error, RuntimeError):
    text = str(error)
  else:
    return None
  path, reason = errors.path_and_reason(text)
  return (path, reason) if reason in errors.NO_ROOM_WORDS else None


def _file_in_the_way(error):
  """The file that a path went through as if it were a folder, where
  `error` says so (--train_dir afile/run, afile a file); else None.

  Every folder flag meets it where the script first makes its folder: the
  converter in Python (ENOTDIR, naming the whole path: its first part that
  is a file is looked for), the rest in TensorFlow's file system ("afile is
  not a directory").
  """
  if isinstance(error, OSError) and error.errno == errno.ENOTDIR:
    path = error.filename
    while path and not os.path.isfile(path):
      parent = os.path.dirname(path)
      path = parent if parent != path else None
    return path or error.filename
  tf = sys.modules.get('tensorflow')
  if tf is not None and isinstance(error, tf.errors.FailedPreconditionError):
    match = re.match(r'(.+) is not a directory$', errors.describe(error))
    return match.group(1) if match else None
  return None


def _end_quietly_on_broken_pipe():
  """Lets the process end without a word after its reader went away.

  Python ignores SIGPIPE, so a write to a pipe nobody reads raises
  BrokenPipeError where a C program would silently die. What `main` was
  writing still waits in stdout's buffer, and the interpreter flushes it on
  the way out, which would fail again with "Exception ignored ...". As
  Python's documentation advises (the signal module's "Note on SIGPIPE"),
  stdout is pointed at os.devnull for that last flush. Files are safe: a
  writer cleans up its partial files as for any other exception on its way
  here (the converter's .part folder, storage.write_atomically).
  """
  devnull = os.open(os.devnull, os.O_WRONLY)
  os.dup2(devnull, sys.stdout.fileno())
  os.close(devnull)
