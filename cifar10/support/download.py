"""Getting CIFAR-10 onto disk: a checked download and a careful extraction.

The tarball is downloaded into a temporary file that takes its real name only
once its MD5 is the official one, so an interrupted or tampered download never
looks complete. Extraction trusts nothing in the tarball: only the expected
files are written, and a link or a path leaving the data folder stops it.
How --data_dir is read, one level off included, is in paths.py. This module
imports no TensorFlow: paths.py, which the flags use, reads its names.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import hashlib
import os
import shlex
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request

from cifar10.support import errors

DATA_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz'
DATA_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530'
TARBALL_NAME = 'cifar-10-binary.tar.gz'
EXTRACTED_DIR = 'cifar-10-batches-bin'

# The batch files of the binary version: five of training data, one of test.
TRAIN_FILES = tuple('data_batch_%d.bin' % i for i in range(1, 6))
TEST_FILES = ('test_batch.bin',)
REQUIRED_FILES = TRAIN_FILES + TEST_FILES
OPTIONAL_FILES = ('batches.meta.txt', 'readme.html')
# Every file the tarball's extraction may write: none of them is ever
# written over, so a folder holding any of them is never downloaded into.
CIFAR_FILES = REQUIRED_FILES + OPTIONAL_FILES

# Files are copied and hashed 1 MiB at a time, never held in memory whole.
_CHUNK_BYTES = 1 << 20


def present_files(folder, names):
  """The names in `names` that are files in `folder`, in their order."""
  return [name for name in names if os.path.isfile(os.path.join(folder, name))]


def maybe_download_and_extract(data_dir, data_url=DATA_URL,
                               expected_md5=DATA_MD5, progress=sys.stdout,
                               needed_files=REQUIRED_FILES):
  """Ensures `data_dir/cifar-10-batches-bin/` holds the batch files needed.

  When the `needed_files` are there it returns at once, without network.
  When the folder holds none of the CIFAR-10 files, it extracts
  `data_dir/cifar-10-binary.tar.gz`, downloading that first from `data_url`
  if it is missing. When it holds some but lacks a needed one, it stops and
  names the missing ones: the files there may be the user's own, and an
  extraction must never replace them. Nothing that exists is written over or
  deleted, and a failure removes every file and folder this call created.

  Args:
    data_dir: the folder for the tarball and the extracted folder (as read
      by `paths.resolve_data_dir`).
    data_url: the URL of the tarball.
    expected_md5: the tarball's MD5, as 32 hex digits.
    progress: the stream the download's progress line goes to.
    needed_files: names of the batch files the caller reads (the training
      files, or test_batch.bin); by default all six.

  Returns:
    The path of the extracted folder.

  Raises:
    errors.UserError: a needed file is missing beside other CIFAR-10 files,
      the download failed, the checksum is wrong, or the tarball holds
      something unsafe or lacks a batch file.
  """
  extracted = os.path.join(data_dir, EXTRACTED_DIR)
  missing = [name for name in needed_files
             if name not in present_files(extracted, needed_files)]
  if not missing:
    return extracted
  present = present_files(extracted, CIFAR_FILES)
  if present:
    raise errors.UserError(_missing_files_message(data_dir, missing, present))
  created = []
  try:
    _make_folders(data_dir, created)
    tarball = os.path.join(data_dir, TARBALL_NAME)
    if os.path.exists(tarball):
      digest = _md5_of_file(tarball)
      if digest != expected_md5:
        raise errors.UserError(
            '%s has MD5 %s, expected %s: it is damaged or incomplete. Delete '
            'it and run again to download it.' % (tarball, digest,
                                                   expected_md5))
    else:
      _download(data_url, tarball, expected_md5, progress, created)
    _extract(tarball, extracted, created)
  except BaseException:
    _remove_created(created)
    raise
  return extracted


def _missing_files_message(data_dir, missing, present):
  """Names the missing files and two ways to get them that replace nothing."""
  extracted = os.path.join(data_dir, EXTRACTED_DIR)
  tarball = os.path.join(data_dir, TARBALL_NAME)
  if os.path.isfile(tarball):
    # tar writes only the members named, so the files present stay as they are.
    get_them = 'extract them from the tarball: tar -xzf %s -C %s %s' % (
        shlex.quote(tarball), shlex.quote(data_dir),
        ' '.join('%s/%s' % (EXTRACTED_DIR, name) for name in missing))
  else:
    get_them = ('put them there, or give a --data_dir that holds no CIFAR-10 '
                'files (a new folder) to download into')
  return ('%s lacks %s, which this script reads; it holds %s. Nothing is '
          'downloaded or extracted into a folder holding CIFAR-10 files, so '
          'that none of them is replaced: %s.' % (
              extracted, ', '.join(missing), ', '.join(present), get_them))


def _make_folders(folder, created):
  """Makes `folder` and its missing parents, appending each to `created`."""
  missing = []
  path = os.path.abspath(folder)
  while not os.path.isdir(path):
    missing.append(path)
    path = os.path.dirname(path)
  for path in reversed(missing):
    os.mkdir(path)
    created.append(path)


def _remove_created(created):
  """Removes what a failed call created, newest first; folders only if empty."""
  for path in reversed(created):
    try:
      if os.path.isdir(path):
        os.rmdir(path)
      else:
        os.remove(path)
    except OSError:
      pass  # Something else was put there meanwhile: leave it.


def _md5_of_file(path):
  digest = hashlib.md5()
  with open(path, 'rb') as stream:
    for chunk in iter(lambda: stream.read(_CHUNK_BYTES), b''):
      digest.update(chunk)
  return digest.hexdigest()


def _download(url, destination, expected_md5, progress, created):
  """Downloads `url` to `destination`, kept only if its MD5 matches."""
  name = os.path.basename(destination)
  folder = os.path.dirname(destination)
  digest = hashlib.md5()
  handle, partial = tempfile.mkstemp(prefix=name + '.', suffix='.part',
                                     dir=folder)
  try:
    with os.fdopen(handle, 'wb') as out:
      try:
        with urllib.request.urlopen(url, timeout=60) as response:
          total = int(response.headers.get('Content-Length') or 0)
          done = 0
          for chunk in iter(lambda: response.read(_CHUNK_BYTES), b''):
            out.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            _show_progress(progress, name, done, total)
      except (urllib.error.URLError, OSError, ValueError) as error:
        raise errors.UserError(
            'Could not download %s: %s. Without network access, put %s (or '
            'the extracted %s/ folder) into --data_dir %s, or point '
            '--data_url at a mirror.' % (url, getattr(error, 'reason', error),
                                         name, EXTRACTED_DIR, folder))
    progress.write('\n')
    if digest.hexdigest() != expected_md5:
      raise errors.UserError(
          'Downloaded %s from %s but its MD5 is %s, expected %s; the partial '
          'file was deleted. Try again, or use another --data_url.'
          % (name, url, digest.hexdigest(), expected_md5))
    _publish(partial, destination, created)
    progress.write('Successfully downloaded %s %d bytes.\n'
                   % (name, os.path.getsize(destination)))
  finally:
    if os.path.exists(partial):
      os.remove(partial)


def _show_progress(progress, name, done, total):
  if total:
    progress.write('\r>> Downloading %s %.1f%%' % (name, 100.0 * done / total))
  else:
    progress.write('\r>> Downloading %s %d bytes' % (name, done))
  progress.flush()


def _extract(tarball, extracted, created):
  """Writes the batch files (and optional ones) of `tarball` into `extracted`.

  All members are checked before the first file is written: a tarball with
  one unsafe member writes nothing at all. Each file written, and the folder
  when it is new, is appended to `created`.
  """
  wanted = {}
  with tarfile.open(tarball, 'r:*') as archive:
    for member in archive.getmembers():
      _check_member_is_safe(tarball, member)
      folder, name = os.path.split(os.path.normpath(member.name))
      if folder == EXTRACTED_DIR and name in CIFAR_FILES:
        wanted[name] = member
    missing = [name for name in REQUIRED_FILES if name not in wanted]
    if missing:
      raise errors.UserError(
          '%s lacks %s: it is not the CIFAR-10 binary tarball. Delete it and '
          'download it again.' % (tarball, ', '.join(
              '%s/%s' % (EXTRACTED_DIR, name) for name in missing)))
    _make_folders(extracted, created)
    for name, member in sorted(wanted.items()):
      if not member.isfile():
        raise errors.UserError('%s: member %s is not a regular file.'
                               % (tarball, member.name))
      _write_atomically(archive.extractfile(member),
                        os.path.join(extracted, name), created)


def _check_member_is_safe(tarball, member):
  """Raises UserError for a link, a device, or a path leaving the folder."""
  if not (member.isfile() or member.isdir()):
    raise errors.UserError(
        'Refusing to extract %s: member %r is a link or special file. The '
        'tarball is not the genuine CIFAR-10 one.' % (tarball, member.name))
  normalized = os.path.normpath(member.name)
  if (os.path.isabs(member.name) or normalized == '..' or
      normalized.startswith('..' + os.sep)):
    raise errors.UserError(
        'Refusing to extract %s: member %r would be written outside the data '
        'folder. The tarball is not the genuine CIFAR-10 one.'
        % (tarball, member.name))


def _write_atomically(source, destination, created):
  """Writes a stream to a temporary file, then gives it the name `destination`.

  A reader therefore sees either no file or the whole file.
  """
  handle, partial = tempfile.mkstemp(
      prefix=os.path.basename(destination) + '.',
      suffix='.part', dir=os.path.dirname(destination))
  try:
    with os.fdopen(handle, 'wb') as out:
      for chunk in iter(lambda: source.read(_CHUNK_BYTES), b''):
        out.write(chunk)
    _publish(partial, destination, created)
  finally:
    if os.path.exists(partial):
      os.remove(partial)


def _publish(partial, destination, created):
  """Gives a finished temporary file its name, never replacing a file.

  A hard link makes the name appear only if it is free, in one step; where
  the file system has no hard links, a rename after a look is the fallback.

  Raises:
    errors.UserError: `destination` exists: another process is filling the
      same folder.
  """
  taken = errors.UserError(
      '%s appeared while this run was writing it, and is left as it is: '
      'another process is filling the same folder. Let it finish, then run '
      'again.' % destination)
  os.chmod(partial, 0o644)  # mkstemp's files are private to their owner.
  try:
    os.link(partial, destination)
  except FileExistsError:
    raise taken from None
  except OSError:  # No hard links here (FAT, some network shares).
    if os.path.exists(destination):
      raise taken from None
    os.rename(partial, destination)
  else:
    os.remove(partial)
  created.append(destination)
