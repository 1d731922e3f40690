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
