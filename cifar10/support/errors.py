"""What a user is told: errors they can fix, deliberate stops, and notices.

A script's `main` raises these errors; `script.run` prints the message
alone (a traceback would bury it) and exits with the error's `exit_status`.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import errno
import os
import signal
import sys

from cifar10.support import console


def notice(message):
  """Prints one line on stderr saying how a flag was read or adapted.

  Stderr keeps stdout machine-readable (predict --json prints JSON there).
  """
  print('notice: %s' % console.message_lines(message), file=sys.stderr,
        flush=True)


class WordedWhenShown:
  """Advice made by `function(*args)` only when str() asks for it.

  The checks take it where they take a sentence, and format it into their
  message only when they refuse. Advice that reads the disk (the first
  free folder's name, a run's record) then costs nothing where no check
  refuses, as on every start of a run that goes on, or every evaluation.
  """

  def __init__(self, function, *args):
    self._function = function
    self._args = args

  def __str__(self):
    return self._function(*self._args)


class UserError(Exception):
  """A problem in what the user gave; the message names it and the way out."""

  exit_status = 1


def cannot_use(path, reason):
  """The UserError for a folder (or file) the system will not let us use.

  script.run says it for such a refusal met anywhere, and the checks that
  try a folder before any work (storage.check_writable) raise it, so that
  the user reads the same line whichever found it first. The system's
  refusal rarely says whether a read or a write was refused (an evaluator
  only reads its --checkpoint_dir, but writes its --eval_dir), so the line
  asks for what serves both.

  Args:
    path: the folder or file the user gave.
    reason: the system's words, such as "Permission denied".
  """
  return UserError('cannot use %s (%s). Give a folder you can read and write, '
                   'or change its permissions.' % (path, reason))


# The system's refusals to use a file or folder: a folder's permissions
# (EACCES), a file's or the system's rules (EPERM), a read-only disk
# (EROFS); and the words its messages give them.
REFUSALS = (errno.EACCES, errno.EPERM, errno.EROFS)
REFUSAL_WORDS = frozenset(os.strerror(code) for code in REFUSALS)


def path_and_reason(message):
  """(path, reason) of TensorFlow's "<path>; <reason>", the first line of
  what its file system says of a file it cannot use; path is '' where the
  line has no "; "."""
  path, _, reason = message.strip().split('\n', 1)[0].rpartition('; ')
  return path, reason


# A full disk (ENOSPC), or a full quota (EDQUOT), which the user frees the
# same way; and the system's words for them.
NO_ROOM = (errno.ENOSPC, errno.EDQUOT)
NO_ROOM_WORDS = frozenset(os.strerror(code) for code in NO_ROOM)


def no_room(folder, reason, incomplete=None):
  """The UserError for a write that found no room in `folder`.

  script.run says it for a full disk met anywhere; the trainer's own line
  for a checkpoint it could not save (training_run.py) is worded the same
  way, and names the checkpoint that is intact.

  Args:
    folder: where the write failed: the folder the user gave, or the one
      holding the file; None where the system did not say.
    reason: the system's words, such as "No space left on device".
    incomplete: None where what was being written is gone (its writer's
      clean-up removed it, or it was never made); else that file, left as
      far as it was written.
  """
  if folder is None:
    return UserError('Could not write a file (%s). Make room on the disk the '
                     'script writes to (or fix the cause) and run again.'
                     % reason)
  return UserError(
      'Could not write into %s (%s); %s. Make room there (or fix the cause) '
      'and run again.' % (folder, reason,
                          'what was being written is removed'
                          if incomplete is None else
                          '%s is left incomplete' % incomplete))


# The signals by which a user stops a script: Ctrl-C (SIGINT) and `kill`'s
# default (SIGTERM). Each ends a run cleanly, as errors.Stopped says.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(Exception):
  """The user stopped the script (Ctrl-C, SIGTERM): not an error.

  The message says where it stopped and what was kept. The exit status is
  128 + the signal's number, as a shell reports a process killed by that
  signal (130 for SIGINT, 143 for SIGTERM), so that a calling script can
  still tell a stopped run from a finished one.
  """

  def __init__(self, signum, message):
    super().__init__(message)
    self.exit_status = 128 + signum


class Terminated(BaseException):
  """SIGTERM (`kill`, a job scheduler's stop), raised where the script is.

  script.run makes SIGTERM raise it, as Python makes SIGINT raise
  KeyboardInterrupt, so that both stops unwind the same way: the clean-up
  on the way out runs (a half-made folder is removed), and the script ends
  in one line. By default SIGTERM would end the process at once and in
  silence. Not an Exception, so that no `except Exception` on the way
  catches it. The training loop handles both signals itself, between steps.
  """


# What a stop signal raises in a script: Ctrl-C's KeyboardInterrupt, or
# Terminated. `except STOPS as stop:` catches both; `stop_signal(stop)` says
# which it was.
STOPS = (KeyboardInterrupt, Terminated)


def stop_signal(stop):
  """The signal.Signals that raised `stop`, one of STOPS."""
  return signal.SIGTERM if isinstance(stop, Terminated) else signal.SIGINT


class TrainingInterrupted(Stopped):
  """SIGINT or SIGTERM stopped training once a checkpoint was saved."""


def describe(error):
  """The complaint inside an exception's message, on one line.

  A TensorFlow OpError's message repeats the Python stack that built the
  failing op and names the graph node around the one sentence that matters
  (e.g. "/data/data_batch_3.bin; No such file or directory"); this keeps
  that sentence.

  Args:
    error: any exception.

  Returns:
    The message's meaningful lines joined by spaces, or the exception's
    class name when nothing is left.
  """
  text = getattr(error, 'message', None) or str(error)
  lines = text.strip().splitlines()
  for index, line in enumerate(lines):
    if line.startswith('Node: '):
      lines = lines[index + 1:]  # The complaint follows the graph traceback.
  kept = [line.strip() for line in lines
          if line.strip() and not line.strip().startswith(('[[', 'Hint:')) and
          line.strip() != 'Graph execution error:']
  return ' '.join(kept) or type(error).__name__
