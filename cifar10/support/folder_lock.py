"""Keeps a folder to one writer at a time: a trainer's --train_dir, an
evaluator's --eval_dir.

Two trainers in one folder would save over each other's checkpoints, and a
second one's --fresh would delete the files of the run in progress; two
evaluators in one folder would each write every result, which TensorBoard
then shows twice. A script left running in the background (`&`) is easily
forgotten. The lock is flock's, taken on the folder itself (opened
read-only), so that nothing is written into the folder for it: no file for
--fresh to remove or for an empty folder to keep. The kernel lets go of it
when the process ends, however (SIGKILL, a crash), so a killed script's
folder can be used again at once. Readers (the evaluator of a run,
predict, export) take no lock and are never held up.

What is not locked, in silence: a folder at a URL (gs://, ram://: no file
system call reaches it), one on a file system without flock, and every
folder where Python has no fcntl (Windows).
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

try:
  import fcntl
except ImportError:  # Windows: no flock, so no folder is locked there.
  fcntl = None
import os

from cifar10.support import errors
from cifar10.support import storage


class FolderLock:
  """An exclusive lock on `folder`, for as long as the script uses it.

  Use it in a `with` statement; `take` locks the folder once it exists,
  and may be called again (it keeps the lock it holds).

  Args:
    folder: the folder, as its flag gives it.
    refusal: a function of the holder's process id (None where it is not
      known) giving the message for a folder another process holds.
  """

  def __init__(self, folder, refusal):
    self._folder = folder
    self._refusal = refusal
    self._fd = None

  def __enter__(self):
    return self

  def __exit__(self, *exc_info):
    self.release()

  def take(self):
    """Locks the folder, if it exists and can be locked.

    Raises:
      errors.UserError: another process holds the lock.
    """
    if fcntl is None or storage.scheme(self._folder):
      return
    # Three tries: the folder locked can be removed (by the end of a new
    # run that another trainer stopped) and made again in between.
    for _ in range(3):
      if self._fd is not None:
        if self._is_the_folder(self._fd):
          return
        self.release()
      try:
        fd = os.open(self._folder, os.O_RDONLY | os.O_DIRECTORY)
      except OSError:
        # No folder yet (locked once made), a file (the flag's checks say
        # so), or a folder this user may write but not read: unlocked.
        return
      try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
      except BlockingIOError:
        holder = _lock_holder(fd)
        os.close(fd)
        raise errors.UserError(self._refusal(holder))
      except OSError:
        os.close(fd)
        return  # A file system without flock (some network ones).
      self._fd = fd

  def _is_the_folder(self, fd):
    """Whether `fd` is still open on the folder the flag names."""
    try:
      held, named = os.fstat(fd), os.stat(self._folder)
    except OSError:
      return False
    return (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino)

  def release(self):
    """Lets go of the lock, if held (as leaving the `with` does)."""
    if self._fd is not None:
      os.close(self._fd)  # Closing the last descriptor unlocks.
      self._fd = None


def in_use(what, holder):
  """'in use by another <what> (pid <holder>)', the pid left out where it
  is not known: how a refusal names the holder."""
  return 'in use by another %s%s' % (what,
                                     ' (pid %d)' % holder if holder else '')


def how_to_stop(holder):
  """'kill -INT <pid>', or 'Ctrl-C where it runs' where the pid is not
  known: how a refusal tells the user to stop the holder."""
  return 'kill -INT %d' % holder if holder else 'Ctrl-C where it runs'


def _lock_holder(fd):
  """The id of the process holding a flock on the file open as `fd`, or None.

  Linux lists every lock in /proc/locks, a line each: `1: FLOCK  ADVISORY
  WRITE <pid> <major>:<minor>:<inode> 0 EOF`, the device's numbers in hex.
  None where there is no such file (not Linux), or the holder is not in it
  (it let go just now, or holds the lock from another machine).
  """
  stat = os.fstat(fd)
  locked = '%02x:%02x:%d' % (os.major(stat.st_dev), os.minor(stat.st_dev),
                             stat.st_ino)
  try:
    with open('/proc/locks') as locks:
      for line in locks:
        fields = line.split()
        # A waiter's line has `->` after its number.
        if fields[1:2] == ['FLOCK'] and fields[5:6] == [locked]:
          pid = int(fields[4])
          return pid if pid > 0 else None
  except (OSError, ValueError):
    pass
  return None
