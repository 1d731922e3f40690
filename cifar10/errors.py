"""Exceptions for what a user can act on: bad files, flags or folders, and stops.

Scripts print their message (no traceback) and exit with `exit_status`.
"""


class UserError(Exception):
  """A problem with the user's input; the message names it and says what to do."""

  exit_status = 1


class TrainingInterrupted(UserError):
  """A signal stopped training after a checkpoint was saved; exits 128 + signum."""

  def __init__(self, signum, message):
    super().__init__(message)
    self.exit_status = 128 + signum


def describe(error):
  """The gist of an exception's message, without TensorFlow's graph traceback.

  A TensorFlow OpError's message holds the Python stack where the failing op
  was built and the node's name around the actual complaint; keep the
  complaint (e.g. "/data/data_batch_3.bin; No such file or directory").
  """
  text = getattr(error, 'message', None) or str(error)
  lines = text.strip().splitlines()
  for index, line in enumerate(lines):
    if line.startswith('Node: '):
      lines = lines[index + 1:]  # What follows the graph traceback.
  kept = [line.strip() for line in lines
          if line.strip() and not line.strip().startswith(('[[', 'Hint:')) and
          line.strip() != 'Graph execution error:']
  return ' '.join(kept) or type(error).__name__
