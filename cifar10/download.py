"""Download CIFAR-10 once, verify it, and extract it without trusting the tarball.

The tarball is fetched into a temporary file and renamed only after its MD5
matches; extraction writes only the expected members, and refuses links and
paths that would leave the target folder.
"""

import hashlib
import os
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request

from cifar10 import cifar10_input
from cifar10 import errors

DATA_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz'
DATA_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530'
TARBALL_NAME = 'cifar-10-binary.tar.gz'
EXTRACTED_DIR = 'cifar-10-batches-bin'

REQUIRED_FILES = cifar10_input.TRAIN_FILES + cifar10_input.TEST_FILES
OPTIONAL_FILES = ('batches.meta.txt', 'readme.html')

_CHUNK_BYTES = 1 << 20


def maybe_download_and_extract(data_dir, data_url=DATA_URL,
                               expected_md5=DATA_MD5, progress=sys.stdout):
  """Makes sure `data_dir/cifar-10-batches-bin/` holds the CIFAR-10 batch files.

  Does nothing when they are there; uses `data_dir/cifar-10-binary.tar.gz`
  when it is there; downloads it from `data_url` otherwise.

  Args:
    data_dir: folder for the tarball and the extracted files.
    data_url: where to download the tarball from.
    expected_md5: the tarball's MD5 hex digest.
    progress: stream for the download's progress line.

  Returns:
    The path of the extracted folder.

  Raises:
    errors.UserError: the download failed, the checksum is wrong, or the
      tarball holds something unsafe or lacks a batch file.
  """
  extracted = os.path.join(data_dir, EXTRACTED_DIR)
  if all(os.path.isfile(os.path.join(extracted, name))
         for name in REQUIRED_FILES):
    return extracted
  os.makedirs(data_dir, exist_ok=True)
  tarball = os.path.join(data_dir, TARBALL_NAME)
  if os.path.exists(tarball):
    digest = _md5_of_file(tarball)
    if digest != expected_md5:
      raise errors.UserError(
          '%s has MD5 %s, expected %s: it is damaged or incomplete. Delete it '
          'and run again to download it.' % (tarball, digest, expected_md5))
  else:
    _download(data_url, tarball, expected_md5, progress)
  _extract(tarball, extracted)
  return extracted


def _md5_of_file(path):
  digest = hashlib.md5()
  with open(path, 'rb') as stream:
    for chunk in iter(lambda: stream.read(_CHUNK_BYTES), b''):
      digest.update(chunk)
  return digest.hexdigest()


def _download(url, destination, expected_md5, progress):
  """Fetches `url` into `destination`, which appears only if the MD5 matches."""
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
    _publish(partial, destination)
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


def _extract(tarball, extracted):
  """Extracts the expected members of `tarball` into the folder `extracted`.

  Every member is checked before anything is written, so a tarball with an
  unsafe member leaves nothing behind.
  """
  wanted = {}
  with tarfile.open(tarball, 'r:*') as archive:
    for member in archive.getmembers():
      _check_member_is_safe(tarball, member)
      folder, name = os.path.split(os.path.normpath(member.name))
      if folder == EXTRACTED_DIR and name in REQUIRED_FILES + OPTIONAL_FILES:
        wanted[name] = member
    missing = [name for name in REQUIRED_FILES if name not in wanted]
    if missing:
      raise errors.UserError(
          '%s lacks %s: it is not the CIFAR-10 binary tarball. Delete it and '
          'download it again.' % (tarball, ', '.join(
              '%s/%s' % (EXTRACTED_DIR, name) for name in missing)))
    os.makedirs(extracted, exist_ok=True)
    for name, member in sorted(wanted.items()):
      if not member.isfile():
        raise errors.UserError('%s: member %s is not a regular file.'
                               % (tarball, member.name))
      _write_atomically(archive.extractfile(member),
                        os.path.join(extracted, name))


def _check_member_is_safe(tarball, member):
  """Refuses links, devices and paths that would leave the extraction folder."""
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


def _write_atomically(source, destination):
  """Copies a stream to `destination` through a temporary file and a rename."""
  handle, partial = tempfile.mkstemp(
      prefix=os.path.basename(destination) + '.',
      suffix='.part', dir=os.path.dirname(destination))
  try:
    with os.fdopen(handle, 'wb') as out:
      for chunk in iter(lambda: source.read(_CHUNK_BYTES), b''):
        out.write(chunk)
    _publish(partial, destination)
  finally:
    if os.path.exists(partial):
      os.remove(partial)


def _publish(partial, destination):
  """Gives a finished temporary file the usual permissions and its final name."""
  os.chmod(partial, 0o644)
  os.replace(partial, destination)
