"""Getting CIFAR-10 (or CIFAR-100) onto disk: a checked download and a careful extraction.

The tarball is downloaded into a temporary file that takes its real name only
once its MD5 is the official one, so an interrupted or tampered download never
looks complete. Extraction trusts nothing in the tarball: only the expected
files are written, and a link or a path leaving the data folder stops it.
How --data_dir is read, one level off included, is in paths.py. This module
imports no TensorFlow (paths.py, which the flags use, reads its names); its
files are written through storage.py, so --data_dir may be a URL TensorFlow
serves.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import contextlib
import hashlib
import os
import pathlib
import shlex
import sys
import tarfile
import urllib.error
import urllib.parse
import urllib.request

from cifar10.support import data_sets
from cifar10.support import errors
from cifar10.support import storage

# CIFAR-10's binary version, the original's download (data_sets.py lists
# CIFAR-100's too; maybe_download_and_extract takes either).
DATA_URL = data_sets.CIFAR10.url
DATA_MD5 = data_sets.CIFAR10.md5
TARBALL_NAME = data_sets.CIFAR10.tarball
EXTRACTED_DIR = data_sets.CIFAR10.folder

# The batch files of the binary version: five of training data, one of test.
TRAIN_FILES = data_sets.CIFAR10.train_files
TEST_FILES = data_sets.CIFAR10.test_files
REQUIRED_FILES = data_sets.CIFAR10.required_files
OPTIONAL_FILES = data_sets.CIFAR10.optional_files
# Every file the tarball's extraction may write: none of them is ever
# written over, so a folder holding any of them is never downloaded into.
CIFAR_FILES = data_sets.CIFAR10.all_files

# Files are copied and hashed 1 MiB at a time, never held in memory whole.
_CHUNK_BYTES = 1 << 20


def present_files(folder, names):
  """The names in `names` that are files in `folder`, in their order."""
  return [name for name in names if storage.isfile(os.path.join(folder, name))]


def maybe_download_and_extract(data_dir, data_url=None, expected_md5=None,
                               progress=sys.stdout, needed_files=None,
                               data_format=data_sets.CIFAR10):
  """Ensures `data_dir/cifar-10-batches-bin/` holds the batch files needed.

  Or, for CIFAR-100, `data_dir/cifar-100-binary/` (`data_format` says
  which). When the `needed_files` are there it returns at once, without
  network. When the folder holds none of the data set's files, it extracts
  `data_dir/cifar-10-binary.tar.gz` (cifar-100-binary.tar.gz), downloading
  that first from `data_url` if it is missing. When it holds some but lacks a needed one, it stops and
  names the missing ones: the files there may be the user's own, and an
  extraction must never replace them. Nothing that exists is written over or
  deleted, and a failure removes every file and folder this call created.

  Args:
    data_dir: the folder for the tarball and the extracted folder (as read
      by `paths.resolve_data_dir`).
    data_url: the URL of the tarball, or a local file's path (see
      _fetchable); by default the official one.
    expected_md5: the tarball's MD5, as 32 hex digits; by default the
      official tarball's.
    progress: the stream the download's progress line goes to (lines, where
      it is not a terminal).
    needed_files: names of the batch files the caller reads (the training
      files, or test_batch.bin); by default all of them. CIFAR-100's names
      files are always needed.
    data_format: the data_sets.BinaryFormat to get, CIFAR-10's by default.

  Returns:
    The path of the extracted folder.

  Raises:
    errors.UserError: a needed file is missing beside the data set's files,
      `data_dir` cannot be written into, the download failed, the checksum
      is wrong, or the tarball holds something unsafe or lacks a batch
      file.
  """
  data_url = data_url or data_format.url
  expected_md5 = expected_md5 or data_format.md5
  needed_files = tuple(needed_files or data_format.required_files) + tuple(
      name for name in data_format.names_files if name not in
      (needed_files or ()))
  extracted = os.path.join(data_dir, data_format.folder)
  missing = [name for name in needed_files
             if name not in present_files(extracted, needed_files)]
  if not missing:
    return extracted
  present = present_files(extracted, data_format.all_files)
  if present:
    raise errors.UserError(_missing_files_message(data_dir, missing, present,
                                                  data_format, expected_md5))
  # Before the download, which takes minutes: a folder the user may not
  # write into would fail only afterwards, or, with no network, be named
  # as the place to put the tarball by hand.
  storage.check_writable(data_dir)
  created = []
  try:
    _make_folders(data_dir, created)
    tarball = os.path.join(data_dir, data_format.tarball)
    if storage.exists(tarball):
      digest = _md5_of_file(tarball)
      if digest != expected_md5:
        raise errors.UserError(
            '%s has MD5 %s, expected %s: it is damaged, incomplete or not the '
            'tarball. Move it aside (%s) and run again to download it, or put '
            'a whole copy in its place.' % (
                tarball, digest, expected_md5, _move_aside(tarball)))
    else:
      _download(data_url, tarball, expected_md5, progress, created,
                data_format.folder)
    _extract(tarball, extracted, created, data_format)
  except BaseException:
    _remove_created(created)
    raise
  return extracted


def _move_aside(path):
  """The shell command that renames the file `path` to a free name beside
  it: the user's file is kept (it may be their only copy, however damaged).
  """
  # paths imports this module: imported here, once both are loaded.
  from cifar10.support import paths  # pylint: disable=g-import-not-at-top
  return 'mv %s %s' % (paths.for_shell(path),
                       paths.for_shell(paths.free_name(path, '.damaged')))


def _missing_files_message(data_dir, missing, present, data_format,
                           expected_md5):
  """Names the missing files and two ways to get them that replace nothing.

  The tarball beside them is offered only where its MD5 is `expected_md5`,
  as the download keeps only such a one: extracted by hand, a damaged one
  fails in tar's words, and another data set's would put its files beside
  these without a word.
  """
  extracted = os.path.join(data_dir, data_format.folder)
  tarball = os.path.join(data_dir, data_format.tarball)
  digest = _md5_of_file(tarball) if storage.isfile(tarball) else None
  if digest == expected_md5:
    # tar writes only the members named, so the files present stay as they are.
    get_them = 'extract them from the tarball: tar -xzf %s -C %s %s' % (
        shlex.quote(tarball), shlex.quote(data_dir),
        ' '.join('%s/%s' % (data_format.folder, name) for name in missing))
  else:
    get_them = ('put them there, or give a --data_dir that holds no %s '
                'files (a new folder) to download into%s' % (
                    data_format.title, '' if digest is None else
                    ' (%s beside it has MD5 %s, expected %s: it is damaged, '
                    'incomplete or not the tarball)' % (tarball, digest,
                                                        expected_md5)))
  return ('%s lacks %s, which this script reads; it holds %s. Nothing is '
          'downloaded or extracted into a folder holding %s files, so '
          'that none of them is replaced: %s.' % (
              extracted, ', '.join(missing), ', '.join(present), data_format.title,
              get_them))


def _make_folders(folder, created):
  """Makes `folder` and its missing parents, appending each to `created`."""
  missing = []
  path = storage.absolute(folder)
  while not storage.isdir(path) and storage.dirname(path) != path:
    missing.append(path)
    path = storage.dirname(path)
  for path in reversed(missing):
    storage.makedirs(path)  # Its parent exists: this makes one folder.
    created.append(path)


def _remove_created(created):
  """Removes what a failed call created, newest first; folders only if empty."""
  for path in reversed(created):
    try:
      if storage.isdir(path):
        storage.remove_empty_folder(path)
      else:
        storage.remove(path)
    except storage.op_error():
      pass  # Something else was put there meanwhile: leave it.


def _md5_of_file(path):
  digest = hashlib.md5()
  with storage.open_file(path, 'rb') as stream:
    for chunk in iter(lambda: stream.read(_CHUNK_BYTES), b''):
      digest.update(chunk)
  return digest.hexdigest()


def _download(url, destination, expected_md5, progress, created,
              extracted_name):
  """Downloads `url` to `destination`, kept only if its MD5 matches.

  `extracted_name` is the folder the tarball extracts, for the advice when
  the download fails.
  """
  name = os.path.basename(destination)
  folder = storage.dirname(destination)
  digest = hashlib.md5()
  local = _local_path(url) if _is_local(url) else None
  if local is not None and os.path.isdir(local):
    holds = os.path.isdir(os.path.join(local, extracted_name))
    raise errors.UserError(
        '--data_url %s is a folder. %s' % (url, (
            'It holds the extracted %s/: give it as --data_dir instead, and '
            'leave --data_url out.' % extracted_name) if holds else (
                _GIVE_THE_TARBALL % name)))
  try:
    response = urllib.request.urlopen(_fetchable(url), timeout=60)
  except (urllib.error.URLError, OSError, ValueError) as error:
    if local is not None:
      # No network is involved: the advice for one would not help.
      cause = getattr(error, 'reason', error)  # URLError wraps the OSError.
      raise errors.UserError(
          'Could not read --data_url %s (%s). %s' % (
              url, getattr(cause, 'strerror', None) or cause,
              _GIVE_THE_TARBALL % name))
    raise _download_failed(url, destination, error, extracted_name)
  total = int(response.headers.get('Content-Length') or 0)
  partial = storage.partial_name(destination)
  try:
    with response, _explained_write_failures(name, folder, total):
      with storage.open_file(partial, 'wb') as out:
        _copy_with_progress(response, out, digest, progress, url, destination,
                            total, extracted_name)
    if digest.hexdigest() != expected_md5:
      if local is not None:
        # The user's own file, which stays as it is: only the copy goes.
        raise errors.UserError(
            '--data_url %s has MD5 %s, expected %s: it is damaged, incomplete '
            'or not the %s tarball, so nothing was copied from it. Give the '
            'path of a whole copy.'
            % (url, digest.hexdigest(), expected_md5, name))
      # The whole file came (its MD5 is of all of it), but it is not the
      # tarball: cut short on the server's side, damaged, or another file.
      raise errors.UserError(
          'Downloaded %s from %s, but its MD5 is %s, expected %s: the file '
          'is damaged, incomplete or not the tarball, and was deleted. Try '
          'again, or use another --data_url.'
          % (name, url, digest.hexdigest(), expected_md5))
    _publish(partial, destination, created)
    progress.write('Successfully downloaded %s %d bytes.\n'
                   % (name, storage.getsize(destination)))
  finally:
    if storage.exists(partial):
      storage.remove(partial)


# The advice for a local --data_url that is no tarball.
_GIVE_THE_TARBALL = 'Give the path of the %s tarball on this machine.'


def _is_local(url):
  """Whether `url` names a file on this machine: a path, or file://."""
  return urllib.parse.urlsplit(url).scheme in ('', 'file')


def _fetchable(url):
  """`url` as urllib opens it: a local file's path becomes a file:// URL.

  A tarball already on this machine (`--data_url /data/cifar.tgz`, or
  ~/...) is a natural thing to give; urllib itself knows no path, only
  file:///data/cifar.tgz, and called a path an "unknown url type". Anything
  with a scheme (http, https, ftp, file) is left as it is.
  """
  if urllib.parse.urlsplit(url).scheme:
    return url
  return pathlib.Path(_local_path(url)).as_uri()


def _local_path(url):
  """The absolute path a local `url` (_is_local) names."""
  if urllib.parse.urlsplit(url).scheme == 'file':
    return urllib.request.url2pathname(urllib.parse.urlsplit(url).path)
  return os.path.abspath(os.path.expanduser(url))


def _download_failed(url, destination, error, extracted_name):
  """The UserError for a download that failed to start or broke off."""
  return errors.UserError(
      'Could not download %s: %s. Without network access, put %s (or the '
      'extracted %s/ folder) into --data_dir %s, or point --data_url at a '
      'mirror.' % (url, getattr(error, 'reason', error),
                   os.path.basename(destination), extracted_name,
                   storage.dirname(destination)))


def _copy_with_progress(response, out, digest, progress, url, destination,
                        total, extracted_name):
  """Copies the download to `out` a chunk at a time, showing how far it is.

  On a terminal the figure is rewritten in place on one line, which is
  ended however the copy ends: a stop's or an error's line would otherwise
  run on after it (`... 2.0%Stopped by SIGTERM.`). Elsewhere (a log file, a
  pipe) a rewrite is not undone but kept, and the updates made one line
  hundreds of them long: there a line comes every tenth of the way
  instead (_ProgressLines).
  """
  name = os.path.basename(destination)
  done = 0
  lines = None if _is_terminal(progress) else _ProgressLines(progress, name,
                                                              total)
  try:
    _show_progress(progress, name, done, total, lines)
    while True:
      try:
        chunk = response.read(_CHUNK_BYTES)
      except OSError as error:  # The connection broke part-way.
        raise _download_failed(url, destination, error, extracted_name)
      if not chunk:
        if lines is not None:
          lines.finish(done)
        return
      out.write(chunk)
      digest.update(chunk)
      done += len(chunk)
      _show_progress(progress, name, done, total, lines)
  finally:
    if lines is None:
      progress.write('\n')
    progress.flush()


def _is_terminal(stream):
  """Whether `stream` is a terminal, where '\\r' rewrites a line."""
  try:
    return stream.isatty()
  except (AttributeError, ValueError):  # No isatty, or closed.
    return False


class _ProgressLines:
  """The download's progress as whole lines, for a stream not a terminal.

  A line at the start, one each time the download passes another tenth of
  its size (of 10 MiB where the size is not known), and one at the end:
  about a dozen lines, each a figure a log can be read by.
  """

  STEPS = 10  # Lines along the way, where the size is known.
  UNKNOWN_SIZE_STEP = 10 * _CHUNK_BYTES  # Bytes between lines otherwise.

  def __init__(self, stream, name, total):
    self._stream = stream
    self._name = name
    self._total = total
    self._shown = None  # The step of the last line, or None before it.
    self._last = None  # The bytes done that the last line gave.

  def _step(self, done):
    if self._total:
      return done * self.STEPS // self._total
    return done // self.UNKNOWN_SIZE_STEP

  def show(self, done):
    """Writes a line when `done` bytes begin a step with none yet."""
    step = self._step(done)
    if step != self._shown:
      self._shown = step
      self._write(done)

  def finish(self, done):
    """Writes the last figure, unless the last line gave it."""
    if done != self._last:
      self._write(done)

  def _write(self, done):
    self._last = done
    self._stream.write('%s\n' % _progress_text(self._name, done,
                                                 self._total))


@contextlib.contextmanager
def _explained_write_failures(name, folder, needed_bytes):
  """Turns a failed write of `name` into `folder` into one line.

  A full disk is the usual cause (ResourceExhaustedError; a file-size limit
  gives OutOfRangeError): the line says how much room the whole job needs
  there, since the files written so far are removed again.

  Args:
    name: what is being written, for the message.
    folder: where.
    needed_bytes: the space the download or the extraction needs in all
      (0 when unknown).
  """
  try:
    yield
  except storage.op_error() as error:
    make_room = ('It needs about %d MB there: make room'
                 % -(-needed_bytes // 10**6) if needed_bytes else 'Make room')
    raise errors.UserError(
        'Could not write %s into %s (%s); what was written is removed. %s '
        '(or fix the cause) and run again, or give a --data_dir on another '
        'disk.' % (name, folder, storage.reason(error), make_room)) from None


def _progress_text(name, done, total):
  if total:
    return '>> Downloading %s %.1f%%' % (name, 100.0 * done / total)
  return '>> Downloading %s %d bytes' % (name, done)


def _show_progress(progress, name, done, total, lines=None):
  """Shows the figure: rewritten in place, or through `lines` if given."""
  if lines is not None:
    lines.show(done)
  else:
    progress.write('\r' + _progress_text(name, done, total))
  progress.flush()


def _extract(tarball, extracted, created, data_format):
  """Writes the batch files (and optional ones) of `tarball` into `extracted`.

  All members are checked before the first file is written: a tarball with
  one unsafe member writes nothing at all. Each file written, and the folder
  when it is new, is appended to `created`.
  """
  wanted = {}
  with storage.open_file(tarball, 'rb') as stream, \
      tarfile.open(fileobj=stream, mode='r:*') as archive:
    for member in archive.getmembers():
      _check_member_is_safe(tarball, member, data_format.title)
      folder, name = os.path.split(os.path.normpath(member.name))
      if folder == data_format.folder and name in data_format.all_files:
        wanted[name] = member
    missing = [name for name in data_format.required_files
               if name not in wanted]
    if missing:
      raise errors.UserError(
          '%s lacks %s: it is not the %s binary tarball. Delete it and '
          'download it again.' % (tarball, ', '.join(
              '%s/%s' % (data_format.folder, name) for name in missing),
                                  data_format.title))
    _make_folders(extracted, created)
    needed = sum(member.size for member in wanted.values())
    for name, member in sorted(wanted.items()):
      if not member.isfile():
        raise errors.UserError('%s: member %s is not a regular file.'
                               % (tarball, member.name))
      with _explained_write_failures(name, extracted, needed):
        _write_atomically(archive.extractfile(member),
                          os.path.join(extracted, name), created)


def _check_member_is_safe(tarball, member, title):
  """Raises UserError for a link, a device, or a path leaving the folder."""
  if not (member.isfile() or member.isdir()):
    raise errors.UserError(
        'Refusing to extract %s: member %r is a link or special file. The '
        'tarball is not the genuine %s one.' % (tarball, member.name, title))
  normalized = os.path.normpath(member.name)
  if (os.path.isabs(member.name) or normalized == '..' or
      normalized.startswith('..' + os.sep)):
    raise errors.UserError(
        'Refusing to extract %s: member %r would be written outside the data '
        'folder. The tarball is not the genuine %s one.'
        % (tarball, member.name, title))


def _write_atomically(source, destination, created):
  """Writes a stream to a partial file, then gives it the name `destination`.

  A reader therefore sees either no file or the whole file.
  """
  partial = storage.partial_name(destination)
  try:
    with storage.open_file(partial, 'wb') as out:
      for chunk in iter(lambda: source.read(_CHUNK_BYTES), b''):
        out.write(chunk)
    _publish(partial, destination, created)
  finally:
    if storage.exists(partial):
      storage.remove(partial)


def _publish(partial, destination, created):
  """Gives a finished partial file its name, never replacing a file.

  On a local disk a hard link makes the name appear only if it is free, in
  one step; elsewhere (URLs, file systems without hard links) TensorFlow's
  rename, which refuses a name that exists, is the fallback.

  Raises:
    errors.UserError: `destination` exists: another process is filling the
      same folder.
  """
  taken = errors.UserError(
      '%s appeared while this run was writing it, and is left as it is: '
      'another process is filling the same folder. Let it finish, then run '
      'again.' % destination)
  if storage.scheme(destination) is None:
    try:
      os.link(partial, destination)
    except FileExistsError:
      raise taken from None
    except OSError:  # No hard links here (FAT, some network shares).
      pass
    else:
      storage.remove(partial)
      created.append(destination)
      return
  try:
    storage.rename(partial, destination, overwrite=False)
  except storage.op_error():
    if storage.exists(destination):
      raise taken from None
    raise
  created.append(destination)
