"""Every read and write of a run's or a data set's files, through TensorFlow.

TensorFlow reaches files through its own file system layer, `tf.io.gfile`:
local paths, and URLs of the file systems it serves (gs://bucket/run for
Cloud Storage, ram://name for memory inside the process). The Saver, the
summary writers and the data pipeline already go through it. Python's `os`
and `open` do not: they would take gs://bucket/run for a local folder named
"gs:", create it, and train into it. So this port touches its files only
through the functions here, and every path flag is checked by
`check_served` before anything is written: a URL whose file system this
TensorFlow does not serve, or cannot reach, is refused in one line. (Only
a local name that is not UTF-8, which TensorFlow cannot take, is looked
at through `os` here: see _not_utf8.)

TensorFlow is imported on the first call, not with this module: the flags
import it while the scripts answer --help.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import glob as python_glob
import os
import posixpath
import re
import stat
import uuid

from cifar10.support import errors

# A URL's scheme: the "gs" of gs://bucket/run.
_URL = re.compile(r'^([A-Za-z][A-Za-z0-9+.-]*)://')


def _tf():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return tf


def scheme(path):
  """The URL scheme of `path` ('gs' for gs://bucket/run), or None if local."""
  match = _URL.match(path)
  return match.group(1) if match else None


def _split_url(path):
  """('gs://', 'bucket/run') for a URL; ('', path) for a local path."""
  match = _URL.match(path)
  return (match.group(0), path[match.end():]) if match else ('', path)


def dirname(path):
  """The folder holding `path`; os.path.dirname, keeping a URL's scheme://."""
  head, rest = _split_url(path)
  if not head:
    return os.path.dirname(path)
  return head + posixpath.dirname(rest)


def normpath(path):
  """os.path.normpath, except that a URL keeps its scheme's two slashes."""
  head, rest = _split_url(path)
  if not head:
    return os.path.normpath(path)
  return head + posixpath.normpath(rest) if rest else path


def absolute(path):
  """os.path.abspath for a local path; a URL is absolute already."""
  return path if scheme(path) else os.path.abspath(path)


# A local file name need not be UTF-8 (a file saved under another system's
# encoding, such as Latin-1's caf\xe9.png). Python hands such a name over
# with its bytes as surrogates (os.listdir), and printable shows them as
# \xNN; TensorFlow's file layer fails on it with a UnicodeError, decoding
# it as it lists a folder or encoding it as it is given one. So a local
# path holding such a name is looked at through Python's os instead, and a
# local folder or pattern whose listing holds one is listed by Python: the
# checks then see the folder as it is, the same as under an ASCII name.

def _not_utf8(path):
  """Whether `path` holds a name that is not UTF-8, which TensorFlow's file
  layer cannot take. (check_served refuses such a path flag; names at a
  URL are UTF-8, so a path listed there never is one.)"""
  try:
    path.encode('utf-8')
  except UnicodeEncodeError:
    return True
  return False


def check_served(path):
  """Returns `path` if TensorFlow can read and write there; else refuses.

  A path holding a name that is not UTF-8 (_not_utf8) is refused: the
  Saver, the summary writers and the data pipeline reach it only through
  TensorFlow, which cannot take such a name. Any other local path passes
  (its own errors come later, named by the code that meets them). A URL
  passes if TensorFlow serves its scheme and can tell whether the path
  exists (which reaches the server).

  Raises:
    errors.UserError: naming the path, what went wrong and what to give
      instead.
  """
  if _not_utf8(path):
    raise errors.UserError(
        '%s: a name in it is not UTF-8 text, and TensorFlow reads and '
        'writes only paths that are. Give a path of UTF-8 names: rename '
        'that file or folder, or choose another.' % printable(path))
  name = scheme(path)
  if name is None:
    return path
  tf = _tf()
  served = sorted(each for each in tf.io.gfile.get_registered_schemes()
                  if each not in ('', 'file'))
  if name not in served:
    raise errors.UserError(
        '%s: this TensorFlow serves no %s:// paths (it serves local paths '
        'and %s). Give a local path, or one of those.'
        % (path, name, ', '.join(each + '://' for each in served)))
  try:
    tf.io.gfile.exists(path)
  except tf.errors.OpError as error:
    raise errors.UserError(
        '%s cannot be reached (%s). Check the address and your access to it, '
        'or give a local path.' % (path, errors.describe(error)))
  return path


def op_error():
  """The class of the errors the functions below raise: tf.errors.OpError.

  Use it as `except storage.op_error():`. A missing file raises its
  subclass tf.errors.NotFoundError, a full disk ResourceExhaustedError.
  """
  return _tf().errors.OpError


def reason(error):
  """The system's reason in an error of the functions below, such as "No such
  file or directory" (TensorFlow writes "<path>; <reason>")."""
  return errors.describe(error).split('; ')[-1]


# ---------------------------------------------------------------------------
# The file operations the package uses, in os's terms
# ---------------------------------------------------------------------------

def exists(path):
  if _not_utf8(path):
    return os.path.exists(path)
  return _tf().io.gfile.exists(path)


def isdir(path):
  if _not_utf8(path):
    return os.path.isdir(path)
  return _tf().io.gfile.isdir(path)


def isfile(path):
  """Whether `path` exists and is not a folder."""
  return exists(path) and not isdir(path)


def listdir(path):
  """The names in folder `path` (sub-folders without a trailing slash).

  A local folder that holds a name that is not UTF-8, or whose own path
  does, is listed by os.listdir, which keeps that name (its bytes as
  surrogates).

  Raises:
    op_error(): TensorFlow cannot list it (a folder not there, or not
      readable); OSError, the same, met by os.listdir.
  """
  try:
    return [name.rstrip('/') for name in _tf().io.gfile.listdir(path)]
  except UnicodeError:
    if scheme(path):
      raise
    return os.listdir(path)


def glob(pattern):
  """The paths that match `pattern`; where the pattern or a local match
  holds a name that is not UTF-8, as Python's glob finds them."""
  try:
    return _tf().io.gfile.glob(pattern)
  except UnicodeError:
    if scheme(pattern):
      raise
    return python_glob.glob(pattern)


def makedirs(path):
  """Makes folder `path` and its missing parents; an existing one is fine."""
  _tf().io.gfile.makedirs(path)


def remove(path):
  """Deletes file `path`."""
  _tf().io.gfile.remove(path)


def remove_empty_folder(path):
  """Deletes folder `path` if it is empty; returns whether it did."""
  if listdir(path):
    return False
  _tf().io.gfile.rmtree(path)  # Empty: removes the folder alone.
  return True


def missing_folders(path):
  """The folders makedirs(path) would make, deepest first: what a writer
  that fails takes away again with `remove_made_folders`."""
  missing = []
  while path and not exists(path):
    missing.append(path)
    parent = dirname(normpath(path))
    path = parent if parent != path else None
  return missing


def remove_made_folders(made):
  """Removes the folders of `made` (missing_folders' list) that are there
  and empty, deepest first; stops at the first that holds anything."""
  for folder in made:
    if isdir(folder) and not remove_empty_folder(folder):
      break


def remove_tree(path):
  """Deletes folder `path` and all it holds, if it exists (this port's own
  staging folders only)."""
  gfile = _tf().io.gfile
  if gfile.exists(path):
    gfile.rmtree(path)


def rename(source, destination, overwrite=False):
  """Gives file `source` the name `destination`.

  Raises:
    tf.errors.AlreadyExistsError: `destination` exists and not `overwrite`.
  """
  _tf().io.gfile.rename(source, destination, overwrite=overwrite)


def move_folder(source, destination):
  """Gives folder `source`, with all it holds, the name `destination`.

  On a local disk this is one rename, so `destination` appears whole or
  not at all. The file systems behind URLs rename single files only (ram://
  would move the folder's own entry and leave what it holds), so there the
  files are copied one by one and `source` is deleted afterwards.
  """
  gfile = _tf().io.gfile
  if scheme(source) is None:
    gfile.rename(source, destination)
    return
  for folder, _, files in gfile.walk(source):
    target = destination + folder[len(source):]
    gfile.makedirs(target)
    for name in files:
      gfile.copy(os.path.join(folder, name), os.path.join(target, name))
  gfile.rmtree(source)


def getsize(path):
  """The size of file `path`, in bytes."""
  return _tf().io.gfile.stat(path).length


def modified_ns(path):
  """When file `path` last changed, in nanoseconds since the epoch."""
  return _tf().io.gfile.stat(path).mtime_nsec


def open_file(path, mode='rb'):
  """A file object for `path` (tf.io.gfile.GFile), usable in `with`."""
  return _tf().io.gfile.GFile(path, mode)


def read_bytes(path):
  with open_file(path, 'rb') as stream:
    return stream.read()


def printable(path):
  """`path` as it can be printed: bytes of a name that are not UTF-8 (which
  os.listdir hands over as surrogates) written as escapes."""
  return path.encode('utf-8', 'surrogateescape').decode('utf-8',
                                                        'backslashreplace')


# What each kind of file that is not a regular file is, for its line.
_NOT_REGULAR = ((stat.S_ISFIFO, 'a named pipe'), (stat.S_ISSOCK, 'a socket'),
                (stat.S_ISCHR, 'a device'), (stat.S_ISBLK, 'a device'),
                (stat.S_ISDIR, 'a folder'))


def not_regular(path):
  """What local `path` is when it is not a regular file (a named pipe...),
  or None.

  Opening a named pipe waits for a writer, forever if none comes, and a
  device such as /dev/zero never ends: reading one would fill the memory.
  Neither holds a picture, so only regular files are read (a link counts
  as what it points at). A path that cannot be examined (a link to
  nowhere) gives None: opening it says why it cannot be read.
  """
  try:
    mode = os.stat(path).st_mode
  except OSError:
    return None
  if stat.S_ISREG(mode):
    return None
  return next((kind for test, kind in _NOT_REGULAR if test(mode)),
              'not a regular file')


def read_input_file(path):
  """The bytes of a file the user names (an image to classify or convert).

  A URL is read through TensorFlow. A local path is read with Python's
  open(), which also takes the file names that are not valid UTF-8 that
  os.walk hands over (TensorFlow's layer would refuse to encode them); one
  that is not a regular file (not_regular) is refused unread.

  Raises:
    errors.UserError: '<path>: cannot read it (<the reason>)',
      '<path>: a named pipe, not a regular file' (or another kind), or
      check_served's refusal of a URL.
  """
  try:
    if scheme(path):
      check_served(path)
      return read_bytes(path)
    kind = not_regular(path)
    if kind:
      raise errors.UserError('%s: %s, not a regular file'
                             % (printable(path), kind))
    with open(path, 'rb') as stream:
      return stream.read()
  except OSError as error:
    raise errors.UserError('%s: cannot read it (%s)'
                           % (printable(path), error.strerror))
  except op_error() as error:
    raise errors.UserError('%s: cannot read it (%s)' % (path, reason(error)))


def partial_name(path):
  """A fresh name beside `path` for writing it before it is complete.

  Writers fill this file and then rename it to `path`, so a reader (or a
  run killed part-way) sees either no file or the whole one. The name
  starts with a dot, not with `path`'s name: TensorFlow's ram:// file
  system takes a file to exist when another's name begins with it.
  """
  return os.path.join(dirname(path), '.%s.%s.part' % (
      os.path.basename(path), uuid.uuid4().hex[:8]))


def check_writable(path):
  """Refuses folder `path` where this process may not write into it.

  A run would otherwise learn it only at its first write: a resumed
  training run at its first checkpoint, an evaluation once it has its
  figures. An empty file under a partial name is written there and removed;
  for a folder not made yet, in its nearest existing parent, where it will
  be made. Nothing else is written, and the folder is not made.

  Raises:
    errors.UserError: errors.cannot_use's line, naming `path`, where the
      system refuses the write (permissions, a read-only disk).
  """
  folder = path
  while not exists(folder):
    parent = dirname(normpath(folder)) or '.'
    if parent == folder:
      break
    folder = parent
  probe = partial_name(os.path.join(folder, 'write_check'))
  try:
    # A GFile opens its file at the first write: an empty one is enough.
    with open_file(probe, 'wb') as out:
      out.write(b'')
  except _tf().errors.PermissionDeniedError as error:
    raise errors.cannot_use(path, reason(error)) from None
  except op_error():
    # Not a refusal (a file where a folder should be, say): the writes
    # themselves meet it, and the code that makes them words it.
    pass
  finally:
    if exists(probe):
      remove(probe)


# A name partial_name gives: a dot, the final name, 8 hex digits, ".part".
_PARTIAL_NAME = re.compile(r'^\..+\.[0-9a-f]{8}\.part$')


def staged_in(path):
  """The folder a partial file or folder (partial_name's) was made in, or
  None where `path` is not one, nor inside one.

  A message names that folder, which the user knows, rather than the
  writer's temporary name (or a file in its temporary folder).
  """
  head, rest = _split_url(path)
  parts = rest.split('/')
  for index, part in enumerate(parts):
    if _PARTIAL_NAME.match(part):
      return dirname(head + '/'.join(parts[:index + 1])) or '.'
  return None


def write_atomically(path, data, overwrite=True):
  """Writes `data` (bytes) to `path` through a partial file, then renames it.

  Raises:
    tf.errors.AlreadyExistsError: `path` exists and not `overwrite`; it is
      left as it was.
  """
  partial = partial_name(path)
  try:
    with open_file(partial, 'wb') as out:
      out.write(data)
    rename(partial, path, overwrite=overwrite)
  finally:
    if exists(partial):
      remove(partial)
