"""Download and extraction against a local HTTP server serving a tarball the test builds."""

import contextlib
import functools
import hashlib
import http.server
import io
import os
import re
import shlex
import shutil
import subprocess
import tarfile
import sys
import threading

import pytest

from cifar10 import cifar10_input
from cifar10 import synthetic
from cifar10.support import batch_files
from cifar10.support import download
from cifar10.support import errors
from cifar10.support import script
import script_modules

ports = script_modules.load('ports')
from conftest import crafted_record

# The fast lane (docs/testing.md): the whole file.
pytestmark = pytest.mark.fast

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
def _serving(folder, handler_class=http.server.SimpleHTTPRequestHandler):
  """An HTTP server on 127.0.0.1 serving `folder`, stopped on exit."""
  handler = functools.partial(handler_class, directory=str(folder))
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
  # Before: "the partial file was deleted", of a file that came whole.
  assert ('%s, expected %s: the file is damaged, incomplete or not the '
          'tarball, and was deleted.' % (actual, '0' * 32)) in str(
              raised.value)
  assert not data_dir.exists()  # The call made it, so the failure removed it.


@pytest.mark.parametrize('given', ['absolute', 'relative', 'file_url'])
def test_a_tarball_on_this_machine_is_read_from_its_path(given, tmp_path,
                                                         monkeypatch):
  # Before: a path was "unknown url type"; only file:///... was read.
  served = tmp_path / 'served'
  served.mkdir()
  md5 = _tarball(served / download.TARBALL_NAME)
  monkeypatch.chdir(tmp_path)
  url = {'absolute': str(served / download.TARBALL_NAME),
         'relative': os.path.join('served', download.TARBALL_NAME),
         'file_url': (served / download.TARBALL_NAME).as_uri()}[given]
  data_dir = tmp_path / 'data'
  download.maybe_download_and_extract(str(data_dir), url, md5, io.StringIO())
  assert _extracted(data_dir) == sorted(list(FILES) + ['batches.meta.txt'])
  assert (served / download.TARBALL_NAME).is_file()  # Copied, not moved.


def test_a_missing_local_tarball_is_named_without_network_advice(tmp_path):
  # Before: "Could not download PATH: [Errno 2] ... Without network access,
  # put cifar-10-binary.tar.gz ... or point --data_url at a mirror".
  missing = str(tmp_path / 'nowhere.tar.gz')
  with pytest.raises(errors.UserError) as raised:
    download.maybe_download_and_extract(str(tmp_path / 'data'), missing,
                                        progress=io.StringIO())
  assert str(raised.value) == (
      'Could not read --data_url %s (No such file or directory). Give the '
      'path of the cifar-10-binary.tar.gz tarball on this machine.' % missing)
  assert list(tmp_path.iterdir()) == []


def test_a_local_tarball_with_another_md5_is_kept_and_named(tmp_path):
  # Before: "Downloaded ... and was deleted. Try again", of the user's own
  # file, which was neither downloaded nor deleted.
  given = tmp_path / 'my_copy.tar.gz'
  actual = _tarball(given)
  data_dir = tmp_path / 'data'
  with pytest.raises(errors.UserError) as raised:
    download.maybe_download_and_extract(str(data_dir), str(given), '0' * 32,
                                        io.StringIO())
  assert str(raised.value) == (
      '--data_url %s has MD5 %s, expected %s: it is damaged, incomplete or '
      'not the cifar-10-binary.tar.gz tarball, so nothing was copied from it. '
      'Give the path of a whole copy.'
      % (given, actual, '0' * 32))
  assert given.is_file() and not data_dir.exists()


class _Terminal(io.StringIO):
  """A progress stream that says it is a terminal."""

  def isatty(self):
    return True


def test_progress_is_a_line_each_tenth_off_a_terminal_and_one_line_on_it(
    tmp_path, monkeypatch):
  # Before: a log file or a pipe got one line of every update, joined by
  # carriage returns. Chunks of 64 KiB make about 50 updates here.
  monkeypatch.setattr(download, '_CHUNK_BYTES', 1 << 16)
  served = tmp_path / 'served'
  served.mkdir()
  noise = os.urandom(3 << 20)  # Incompressible.
  md5 = _tarball(served / download.TARBALL_NAME, extra_members=[
      (_info('cifar-10-batches-bin/noise', len(noise)), io.BytesIO(noise))])
  logged, shown = io.StringIO(), _Terminal()
  with _serving(served) as base_url:
    for progress, folder in ((logged, 'logged'), (shown, 'shown')):
      download.maybe_download_and_extract(
          str(tmp_path / folder), base_url + download.TARBALL_NAME, md5,
          progress)
  size = os.path.getsize(served / download.TARBALL_NAME)
  done = list(range(0, size, 1 << 16)) + [size]
  figure = lambda each: '%.1f%%' % (100.0 * each / size)
  assert shown.getvalue() == ''.join(
      '\r>> Downloading cifar-10-binary.tar.gz %s' % figure(each)
      for each in done) + (
          '\nSuccessfully downloaded cifar-10-binary.tar.gz %d bytes.\n' % size)
  # The first figure in each tenth of the way, and the whole: 11 lines.
  tenth = [each * 10 // size for each in done]
  assert logged.getvalue().splitlines() == [
      '>> Downloading cifar-10-binary.tar.gz %s' % figure(each)
      for index, each in enumerate(done)
      if index == 0 or tenth[index] != tenth[index - 1]] + [
          'Successfully downloaded cifar-10-binary.tar.gz %d bytes.' % size]
  assert sorted(set(tenth)) == list(range(11))


def test_damaged_local_tarball_is_reported_and_kept(tmp_path):
  tarball = tmp_path / download.TARBALL_NAME
  tarball.write_bytes(b'not a tarball')
  with pytest.raises(errors.UserError) as raised:
    download.maybe_download_and_extract(str(tmp_path), _unused_url())
  assert str(tarball) in str(raised.value)
  assert 'Move it aside (mv ' in str(raised.value)
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


def test_no_server_says_how_to_proceed_offline_and_leaves_nothing(tmp_path):
  url = _unused_url()
  data_dir = tmp_path / 'new' / 'data'
  with pytest.raises(errors.UserError) as raised:
    download.maybe_download_and_extract(str(data_dir), url,
                                        progress=io.StringIO())
  message = str(raised.value)
  assert url in message
  assert 'cifar-10-binary.tar.gz' in message and '--data_dir' in message
  assert '--data_url' in message
  # Both folders were made for the download: neither is left behind.
  assert list(tmp_path.iterdir()) == []


class _StoppedOnceShown(io.StringIO):
  """A progress stream on a terminal: Ctrl-C comes as the first figure is
  shown."""

  def isatty(self):
    return True

  def flush(self):
    if self.getvalue().endswith('%'):
      raise KeyboardInterrupt()


def test_a_stop_during_the_download_ends_the_progress_line_first(tmp_path,
                                                                 capsys):
  # Before: ">> Downloading cifar-10-binary.tar.gz 2.0%Stopped by SIGTERM."
  served = tmp_path / 'served'
  served.mkdir()
  md5 = _tarball(served / download.TARBALL_NAME)
  data_dir = tmp_path / 'data'
  progress = _StoppedOnceShown()
  with _serving(served) as base_url:
    assert script.run(lambda argv: download.maybe_download_and_extract(
        str(data_dir), base_url + download.TARBALL_NAME, md5, progress)) == 130
  assert re.fullmatch(r'\r>> Downloading cifar-10-binary.tar.gz [\d.]+%\n',
                      progress.getvalue())
  assert capsys.readouterr().err.splitlines()[-1] == 'Stopped by SIGINT.'
  assert not data_dir.exists()


def test_a_failed_download_ends_the_progress_line_before_its_error(
    tmp_path):
  # A file-size limit of 1.5 MB makes the download's second write (of 1 MiB
  # each) fail, as a full disk would, once the first figure is shown.
  served = tmp_path / 'served'
  served.mkdir()
  noise = os.urandom(2 << 20)  # No compression makes the tarball smaller.
  md5 = _tarball(served / download.TARBALL_NAME, extra_members=[
      (_info('cifar-10-batches-bin/noise', len(noise)), io.BytesIO(noise))])
  data_dir = tmp_path / 'data'
  with _serving(served) as base_url:
    program = (
        'import resource, signal, sys\n'
        'signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n'
        'resource.setrlimit(resource.RLIMIT_FSIZE, '
        '(1500000, resource.RLIM_INFINITY))\n'
        'from cifar10.support import download, script\n'
        'sys.exit(script.run(lambda argv: download.maybe_download_and_extract('
        '%r, %r, %r)))\n' % (str(data_dir), base_url + download.TARBALL_NAME,
                             md5))
    result = subprocess.run(
        [sys.executable, '-c', program], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3'),
        timeout=600)
  # Not a terminal: each figure on a line of its own.
  output = result.stdout.decode()
  lines = [line for line in output.split('\n')
           if line and not line.startswith(('I0000', 'WARNING: All log'))]
  assert result.returncode == 1, output
  assert len(lines) == 3, lines
  for line in lines[:2]:
    assert re.fullmatch(r'>> Downloading cifar-10-binary.tar.gz [\d.]+%',
                        line), lines
  assert not lines[1].endswith(' 0.0%'), lines  # The first chunk was shown.
  assert lines[2].startswith('error: Could not write cifar-10-binary.tar.gz '
                             'into %s (File too large)' % data_dir), lines
  assert not data_dir.exists()


# ---------------------------------------------------------------------------
# A user's own files are never replaced
# ---------------------------------------------------------------------------

def _users_folder(data_dir):
  """A cifar-10-batches-bin/ with a user's own test set: 333 records."""
  folder = data_dir / download.EXTRACTED_DIR
  folder.mkdir(parents=True)
  (folder / 'test_batch.bin').write_bytes(
      b''.join(crafted_record(index % 3, index % 256, 7, 9)
               for index in range(333)))
  (folder / 'batches.meta.txt').write_bytes(b'bolt\nnut\nwasher\n')
  return folder


def _snapshot(folder):
  """Every path below `folder` with its bytes (None for a folder)."""
  return {str(path.relative_to(folder)): (None if path.is_dir() else
                                          path.read_bytes())
          for path in sorted(folder.rglob('*'))}


def _missing_message(data_dir, url, md5, **kwargs):
  with pytest.raises(errors.UserError) as raised:
    download.maybe_download_and_extract(str(data_dir), url, md5,
                                        io.StringIO(), **kwargs)
  return str(raised.value)


def test_a_users_files_beside_missing_ones_stop_before_any_download(tmp_path):
  served = tmp_path / 'served'
  served.mkdir()
  md5 = _tarball(served / download.TARBALL_NAME)
  data_dir = tmp_path / 'data'
  _users_folder(data_dir)
  before = _snapshot(data_dir)
  with _serving(served) as base_url:
    url = base_url + download.TARBALL_NAME
    message = _missing_message(data_dir, url, md5)
    assert message == (
        '%s lacks data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, '
        'data_batch_4.bin, data_batch_5.bin, which this script reads; it '
        'holds test_batch.bin, batches.meta.txt. Nothing is downloaded or '
        'extracted into a folder holding CIFAR-10 files, so that none of them '
        'is replaced: put them there, or give a --data_dir that holds no '
        'CIFAR-10 files (a new folder) to download into.'
        % (data_dir / 'cifar-10-batches-bin'))
    assert _snapshot(data_dir) == before  # Byte for byte, and no tarball.
    # The advice, followed: a new folder is downloaded into.
    new = tmp_path / 'new'
    download.maybe_download_and_extract(str(new), url, md5, io.StringIO())
  assert _extracted(new) == sorted(list(FILES) + ['batches.meta.txt'])
  assert _snapshot(data_dir) == before


def test_only_the_files_of_the_split_read_are_needed(tmp_path):
  data_dir = tmp_path / 'data'
  folder = _users_folder(data_dir)
  before = _snapshot(data_dir)
  # Nobody listens at the URL: any attempt to download would fail.
  assert download.maybe_download_and_extract(
      str(data_dir), _unused_url(),
      needed_files=batch_files.file_names(eval_data=True)) == str(folder)
  assert _snapshot(data_dir) == before


def test_advice_the_tar_command_restores_only_the_missing_files(tmp_path):
  data_dir = tmp_path / 'data'
  folder = _users_folder(data_dir)
  md5 = _tarball(data_dir / download.TARBALL_NAME)
  before = _snapshot(folder)
  message = _missing_message(data_dir, _unused_url(), md5)
  command = re.search(r'extract them from the tarball: (tar .*)\.$',
                      message).group(1)
  subprocess.run(shlex.split(command), check=True)
  assert download.maybe_download_and_extract(
      str(data_dir), _unused_url(), md5) == str(folder)
  for name in cifar10_input.TRAIN_FILES:
    assert (folder / name).read_bytes() == FILES[name]
  after = _snapshot(folder)
  assert {name: after[name] for name in before} == before


def test_a_tarball_of_another_md5_is_not_offered_for_the_missing_files(
    tmp_path):
  # Before: "extract them from the tarball: tar -xzf ...", whatever the
  # tarball held: a damaged one failed in tar's words, and another data
  # set's put its files beside the user's without a word.
  data_dir = tmp_path / 'data'
  _users_folder(data_dir)
  md5 = _tarball(data_dir / download.TARBALL_NAME)
  other = '0' * 32
  message = _missing_message(data_dir, _unused_url(), other)
  assert 'tar -xzf' not in message
  assert message.endswith(
      'put them there, or give a --data_dir that holds no CIFAR-10 files (a '
      'new folder) to download into (%s beside it has MD5 %s, expected %s: '
      'it is damaged, incomplete or not the tarball).'
      % (data_dir / download.TARBALL_NAME, md5, other))


def test_extraction_failing_part_way_removes_what_it_wrote(tmp_path):
  data_dir = tmp_path / 'data'
  data_dir.mkdir()
  # Members are written in name order; test_batch.bin, the last, is a folder.
  with tarfile.open(data_dir / download.TARBALL_NAME, 'w:gz') as archive:
    for name in cifar10_input.TRAIN_FILES + ('batches.meta.txt',):
      _add(archive, 'cifar-10-batches-bin/' + name, b'x' * 3073)
    archive.addfile(_info('cifar-10-batches-bin/test_batch.bin', 0,
                          tarfile.DIRTYPE))
  md5 = _md5(data_dir / download.TARBALL_NAME)
  with pytest.raises(errors.UserError, match='is not a regular file'):
    download.maybe_download_and_extract(str(data_dir), _unused_url(), md5)
  # The tarball was there before: it stays; the extracted folder is gone.
  assert sorted(os.listdir(data_dir)) == [download.TARBALL_NAME]


def test_a_file_that_appears_meanwhile_is_not_written_over(tmp_path):
  partial = tmp_path / 'test_batch.bin.part'
  partial.write_bytes(b'theirs')
  destination = tmp_path / 'test_batch.bin'
  destination.write_bytes(b'mine')
  created = []
  with pytest.raises(errors.UserError, match='is left as it is'):
    download._publish(str(partial), str(destination), created)
  assert destination.read_bytes() == b'mine' and created == []


def _md5(path):
  with open(path, 'rb') as stream:
    return hashlib.md5(stream.read()).hexdigest()


def test_synthetic_refuses_to_write_over_batch_files(tmp_path, capsys):
  data_dir = tmp_path / 'data'
  folder = _users_folder(data_dir)
  before = _snapshot(data_dir)
  assert script.run(synthetic.main, ['--data_dir', str(data_dir)]) == 1
  assert capsys.readouterr().err == (
      'error: %s already holds test_batch.bin, and nothing is written over: '
      'give a --data_dir that holds no batch files (a new folder).\n' % folder)
  assert _snapshot(data_dir) == before
  # The advice, followed: a new folder gets all six files.
  assert synthetic.main(['--data_dir', str(tmp_path / 'new')]) == 0
  assert _extracted(tmp_path / 'new') == sorted(download.REQUIRED_FILES)


def test_advice_move_a_damaged_tarball_aside_and_run_again_downloads_it(
    tmp_path):
  # Before: "Delete it and run again to download it", of what may be the
  # user's only copy (offline, the download then failed too).
  served = tmp_path / 'served'
  served.mkdir()
  md5 = _tarball(served / download.TARBALL_NAME)
  data_dir = tmp_path / 'my data'
  data_dir.mkdir()
  tarball = data_dir / download.TARBALL_NAME
  tarball.write_bytes(b'half a download')
  (data_dir / (download.TARBALL_NAME + '.damaged')).write_bytes(b'older')
  with _serving(served) as base_url:
    url = base_url + download.TARBALL_NAME
    with pytest.raises(errors.UserError) as raised:
      download.maybe_download_and_extract(str(data_dir), url, md5,
                                          io.StringIO())
    move = re.search(r'Move it aside \((mv .*)\) and run again to download '
                     r'it, or put a whole copy in its place\.$',
                     str(raised.value)).group(1)
    subprocess.run(move, shell=True, check=True)  # As typed into a shell.
    download.maybe_download_and_extract(str(data_dir), url, md5,
                                        io.StringIO())
  assert _extracted(data_dir) == sorted(list(FILES) + ['batches.meta.txt'])
  # Both earlier files are kept: the damaged one under a free name.
  assert (data_dir / (download.TARBALL_NAME + '_2.damaged')).read_bytes() == (
      b'half a download')
  assert (data_dir / (download.TARBALL_NAME + '.damaged')).read_bytes() == (
      b'older')


def test_a_full_disk_while_extracting_is_one_line_and_leaves_nothing(
    tmp_path):
  # A file-size limit makes every write past 4,000 bytes fail, as a full
  # disk would (TensorFlow reports it as OutOfRangeError, a full disk as
  # ResourceExhaustedError; both reach the same message).
  data_dir = tmp_path / 'data'
  data_dir.mkdir()
  md5 = _tarball(data_dir / download.TARBALL_NAME)
  program = (
      'import resource, signal, sys\n'
      'signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n'
      'resource.setrlimit(resource.RLIMIT_FSIZE, (4000, resource.RLIM_INFINITY))\n'
      'from cifar10.support import download, script\n'
      'sys.exit(script.run(lambda argv: download.maybe_download_and_extract('
      '%r, %r, %r)))\n' % (str(data_dir), _unused_url(), md5))
  result = subprocess.run(
      [sys.executable, '-c', program], stdout=subprocess.PIPE,
      stderr=subprocess.STDOUT, text=True,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3'), timeout=600)
  lines = [line for line in result.stdout.splitlines()
           if not line.startswith(('I0000', 'WARNING: All log'))]
  folder = os.path.join(str(data_dir), download.EXTRACTED_DIR)
  assert result.returncode == 1, result.stdout
  assert lines == [
      'error: Could not write data_batch_1.bin into %s (File too large); '
      'what was written is removed. It needs about 1 MB there: make room (or '
      'fix the cause) and run again, or give a --data_dir on another disk.'
      % folder], result.stdout
  assert sorted(os.listdir(data_dir)) == [download.TARBALL_NAME]
  # The advice, followed: with room to write, the same call extracts it all.
  download.maybe_download_and_extract(str(data_dir), _unused_url(), md5)
  assert _extracted(data_dir) == sorted(list(FILES) + ['batches.meta.txt'])


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which('setpriv'),
                    reason='root, and no setpriv to write as a user does')
def test_a_data_dir_that_cannot_be_written_is_refused_before_the_download(
    tmp_path):
  # Before: the download was tried first; with no network its error said
  # to put the tarball into this folder, which the user cannot write.
  from test_output import _AS_A_USER  # pylint: disable=g-import-not-at-top
  served = tmp_path / 'served'
  served.mkdir()
  md5 = _tarball(served / download.TARBALL_NAME)
  locked = tmp_path / 'locked'
  locked.mkdir()
  locked.chmod(0o555)
  with _serving(served) as base_url:
    program = (
        'import sys\n'
        'from cifar10.support import download, script\n'
        'sys.exit(script.run(lambda argv: download.maybe_download_and_extract('
        '%r, %r, %r) and 0))\n' % (str(locked),
                                   base_url + download.TARBALL_NAME, md5))
    result = subprocess.run(
        _AS_A_USER + [sys.executable, '-c', program], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3'), timeout=600)
    lines = [line for line in result.stdout.splitlines()
             if not line.startswith(('I0000', 'WARNING: All log'))]
    assert result.returncode == 1, result.stdout
    assert lines == [
        'error: cannot use %s (Permission denied). Give a folder you can '
        'read and write, or change its permissions.' % locked]
    assert os.listdir(locked) == []
    # "or change its permissions": the same command then downloads.
    locked.chmod(0o755)
    result = subprocess.run(
        _AS_A_USER + [sys.executable, '-c', program], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3'), timeout=600)
  assert result.returncode == 0, result.stdout
  assert _extracted(locked) == sorted(list(FILES) + ['batches.meta.txt'])
