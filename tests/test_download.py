"""Download and extraction against a local HTTP server serving a tarball the test builds."""

import contextlib
import functools
import hashlib
import http.server
import io
import os
import tarfile
import threading

import pytest

from cifar10 import download
from cifar10 import errors
from cifar10 import ports

FILES = {name: bytes([index]) * 3073 * 2
         for index, name in enumerate(download.REQUIRED_FILES)}


def _tarball(path, extra_members=()):
  """Writes a gzipped tarball shaped like CIFAR-10's; returns its MD5."""
  with tarfile.open(path, 'w:gz') as archive:
    for name, content in list(FILES.items()) + [('batches.meta.txt', b'cat\n')]:
      _add(archive, 'cifar-10-batches-bin/' + name, content)
    for member in extra_members:
      archive.addfile(*member)
  with open(path, 'rb') as stream:
    return hashlib.md5(stream.read()).hexdigest()


def _add(archive, name, content):
  info = tarfile.TarInfo(name)
  info.size = len(content)
  archive.addfile(info, io.BytesIO(content))


@contextlib.contextmanager
def _serving(folder):
  """An HTTP server on 127.0.0.1 serving `folder`, stopped on exit."""
  handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                              directory=str(folder))
  handler.log_message = lambda *args: None
  server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
  thread = threading.Thread(target=server.serve_forever, daemon=True)
  thread.start()
  try:
    yield 'http://127.0.0.1:%d/' % server.server_address[1]
  finally:
    server.shutdown()
    server.server_close()


def _unused_url():
  [port] = ports.free_ports(1)
  return 'http://127.0.0.1:%d/cifar-10-binary.tar.gz' % port


def _extracted(data_dir):
  folder = os.path.join(data_dir, 'cifar-10-batches-bin')
  return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def test_download_verifies_and_extracts_only_expected_members(tmp_path):
  served = tmp_path / 'served'
  served.mkdir()
  md5 = _tarball(served / download.TARBALL_NAME, extra_members=[
      (_info('cifar-10-batches-bin/unexpected.sh', 3), io.BytesIO(b'rm\n'))])
  data_dir = tmp_path / 'data'
  progress = io.StringIO()
  with _serving(served) as base_url:
    folder = download.maybe_download_and_extract(
        str(data_dir), base_url + download.TARBALL_NAME, md5, progress)

  assert folder == str(data_dir / 'cifar-10-batches-bin')
  assert _extracted(data_dir) == sorted(list(FILES) + ['batches.meta.txt'])
  for name, content in FILES.items():
    assert (data_dir / 'cifar-10-batches-bin' / name).read_bytes() == content
  assert '>> Downloading cifar-10-binary.tar.gz 100.0%' in progress.getvalue()
  assert (data_dir / download.TARBALL_NAME).is_file()
  assert not list(data_dir.glob('*.part'))
  # Once extracted, nothing more is fetched: the server is gone now.
  assert download.maybe_download_and_extract(
      str(data_dir), _unused_url(), md5) == folder


def _info(name, size, kind=tarfile.REGTYPE, linkname=''):
  info = tarfile.TarInfo(name)
  info.size = size
  info.type = kind
  info.linkname = linkname
  return info


def test_tarball_already_in_data_dir_is_used_without_network(tmp_path):
  md5 = _tarball(tmp_path / download.TARBALL_NAME)
  download.maybe_download_and_extract(str(tmp_path), _unused_url(), md5)
  assert _extracted(tmp_path) == sorted(list(FILES) + ['batches.meta.txt'])


def test_wrong_checksum_gives_both_sums_and_leaves_nothing(tmp_path):
  served = tmp_path / 'served'
  served.mkdir()
  actual = _tarball(served / download.TARBALL_NAME)
  data_dir = tmp_path / 'data'
  with _serving(served) as base_url:
    with pytest.raises(errors.UserError) as raised:
      download.maybe_download_and_extract(
          str(data_dir), base_url + download.TARBALL_NAME, '0' * 32,
          io.StringIO())
  assert actual in str(raised.value) and '0' * 32 in str(raised.value)
  assert list(data_dir.iterdir()) == []


def test_damaged_local_tarball_is_reported_and_kept(tmp_path):
  tarball = tmp_path / download.TARBALL_NAME
  tarball.write_bytes(b'not a tarball')
  with pytest.raises(errors.UserError) as raised:
    download.maybe_download_and_extract(str(tmp_path), _unused_url())
  assert str(tarball) in str(raised.value)
  assert 'Delete it' in str(raised.value)
  assert tarball.read_bytes() == b'not a tarball'


@pytest.mark.parametrize('member', [
    (_info('cifar-10-batches-bin/../../escaped.bin', 4), io.BytesIO(b'evil')),
    (_info('/tmp/absolute.bin', 4), io.BytesIO(b'evil')),
    (_info('cifar-10-batches-bin/link', 0, tarfile.SYMTYPE, '/etc/passwd'),
     None),
    (_info('cifar-10-batches-bin/hard', 0, tarfile.LNKTYPE, '/etc/passwd'),
     None),
], ids=['dot-dot', 'absolute', 'symlink', 'hardlink'])
def test_unsafe_member_is_refused_before_anything_is_written(tmp_path, member):
  data_dir = tmp_path / 'data'
  data_dir.mkdir()
  md5 = _tarball(data_dir / download.TARBALL_NAME, extra_members=[member])
  with pytest.raises(errors.UserError) as raised:
    download.maybe_download_and_extract(str(data_dir), _unused_url(), md5)
  assert member[0].name in str(raised.value)
  assert 'Refusing to extract' in str(raised.value)
  assert _extracted(data_dir) == []
  assert not (tmp_path / 'escaped.bin').exists()


def test_tarball_without_the_batch_files_is_refused(tmp_path):
  with tarfile.open(tmp_path / download.TARBALL_NAME, 'w:gz') as archive:
    _add(archive, 'cifar-10-batches-bin/data_batch_1.bin', b'x' * 3073)
  with open(tmp_path / download.TARBALL_NAME, 'rb') as stream:
    md5 = hashlib.md5(stream.read()).hexdigest()
  with pytest.raises(errors.UserError, match='test_batch.bin'):
    download.maybe_download_and_extract(str(tmp_path), _unused_url(), md5)


def test_no_server_says_how_to_proceed_offline(tmp_path):
  url = _unused_url()
  with pytest.raises(errors.UserError) as raised:
    download.maybe_download_and_extract(str(tmp_path), url,
                                        progress=io.StringIO())
  message = str(raised.value)
  assert url in message
  assert 'cifar-10-binary.tar.gz' in message and '--data_dir' in message
  assert '--data_url' in message
  assert list(tmp_path.iterdir()) == []
