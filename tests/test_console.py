"""Class names a console cannot show, or shows two columns wide.

Class folders named in Chinese (wide characters) and in fullwidth Latin go
through convert_images, a short training run, eval and predict, each script
in a child process whose output encoding lacks them: ASCII, cp1252 (as a
Windows console redirected to a file), or the C locale's. Each exits 0,
printing what it cannot encode as escapes, and the tables keep their columns
wherever the names' characters take two.
"""

import contextlib
import io
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from cifar10 import synthetic
import cifar10.train as train
from cifar10.support import classes
from cifar10.support import console
from cifar10.support import errors
from cifar10.support import script
from cifar10.support import storage
from conftest import DEADLINE_SECS, write_image_folder

# The classes, in the order convert_images labels them (sorted): ASCII, a
# wide character, two wide characters, three fullwidth letters.
COLOURS = {'car': (40, 60, 210), '猫': (210, 40, 40), '飞机': (40, 190, 60),
           'ＣＡＴ': (200, 200, 40)}
NAMES = sorted(COLOURS)
TRAIN_PER_CLASS, TEST_PER_CLASS = 5, 2

# Each name as a console that lacks its characters shows it.
ESCAPED = {'car': 'car', '猫': '\\u732b', '飞机': '\\u98de\\u673a',
           'ＣＡＴ': '\\uff23\\uff21\\uff34'}

# What each name's cell of a table is, padded, on a UTF-8 console: the
# column is six terminal columns wide (ＣＡＴ), each of 猫 飞机 ＣＡＴ's
# characters taking two.
UTF8_CELLS = {'class': 'class ', 'total': 'total ', 'car': 'car   ',
              '猫': '猫    ', '飞机': '飞机  ', 'ＣＡＴ': 'ＣＡＴ'}

# The consoles: the environment each child gets.
CONSOLES = {
    'ascii': {'PYTHONIOENCODING': 'ascii'},
    'cp1252': {'PYTHONIOENCODING': 'cp1252'},
    'C locale': {'LC_ALL': 'C', 'PYTHONUTF8': '0'},
    'utf-8': {'PYTHONIOENCODING': 'utf-8'},
}


def _cells(console_name):
  """{name: its padded cell in a table's first column} on that console."""
  if console_name == 'utf-8':
    return UTF8_CELLS
  shown = dict(ESCAPED, **{word: word for word in ('class', 'total')})
  width = max(len(text) for text in shown.values())  # All ASCII: 1 column.
  return {name: text.ljust(width) for name, text in shown.items()}


def _run(console_name, *args, cwd=None):
  """Runs `python args` on that console; returns (status, stdout, stderr)."""
  environ = dict(os.environ)
  for name in ('PYTHONIOENCODING', 'PYTHONUTF8', 'LC_ALL'):
    environ.pop(name, None)
  environ.update(CONSOLES[console_name])
  done = subprocess.run([sys.executable] + list(args), stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, env=environ, cwd=cwd,
                        timeout=DEADLINE_SECS)
  # A console that lacks a character writes it as an escape, in ASCII; the C
  # locale's passes a file name's bytes back as they were (UTF-8 here).
  return (done.returncode, done.stdout.decode('utf-8'),
          done.stderr.decode('utf-8'))


@pytest.fixture(scope='module')
def src(tmp_path_factory):
  """An image folder with SRC/train/<class>/ and SRC/test/<class>/."""
  folder = str(tmp_path_factory.mktemp('named') / 'images')
  write_image_folder(folder, COLOURS, np.random.default_rng(3),
                     train_per_class=TRAIN_PER_CLASS,
                     test_per_class=TEST_PER_CLASS, size=32)
  return folder


@pytest.fixture(scope='module')
def data_dir(src, tmp_path_factory):
  """SRC converted into a --data_dir."""
  out = str(tmp_path_factory.mktemp('named_data'))
  status, _, error = _run('utf-8', '-m', 'cifar10.convert_images', src, out)
  assert status == 0, error
  return out


@pytest.fixture(scope='module')
def run_dir(data_dir, tmp_path_factory):
  """A --train_dir after 2 steps on the four classes: a model to evaluate."""
  train_dir = str(tmp_path_factory.mktemp('named_train'))
  with contextlib.redirect_stdout(io.StringIO()):
    assert train.main(['--data_dir', data_dir, '--train_dir', train_dir,
                       '--max_steps', '2', '--batch_size', '8']) == 0
  return train_dir


@pytest.mark.fast
def test_a_character_that_breaks_or_moves_the_line_is_shown_escaped():
  # The line breaks str.splitlines() knows, and other control characters.
  for text, shown in (('a\nb', 'a\\nb'), ('a\rb', 'a\\rb'),
                      ('a\u2028b', 'a\\u2028b'), ('a\u2029b', 'a\\u2029b'),
                      ('a\x85b', 'a\\x85b'), ('a\x0cb', 'a\\x0cb'),
                      ('a\tb', 'a\\tb'), ('\x1b[31mred', '\\x1b[31mred')):
    assert console.one_line(text) == shown
    assert console.as_shown(text) == shown
    assert console.ljust(text, 12) == shown.ljust(12)
  # Printable characters stay as they are, wide ones and spaces included.
  assert console.one_line('猫 ＣＡＴ café\u3000x') == '猫 ＣＡＴ café\u3000x'


@pytest.mark.fast
def test_width_counts_wide_and_fullwidth_characters_as_two_columns():
  assert [console.width(text) for text in
          ('car', '猫', '飞机', 'ＣＡＴ', 'cafe\u0301', '')] == [3, 2, 4, 6, 4, 0]


@pytest.mark.fast
@pytest.mark.parametrize('encoding', ['ascii', 'cp1252'])
def test_a_name_is_shown_as_the_escapes_a_narrow_stream_writes(encoding):
  stream = io.TextIOWrapper(io.BytesIO(), encoding=encoding,
                            errors='backslashreplace')
  for name, escaped in ESCAPED.items():
    assert console.as_shown(name, stream) == escaped
  assert console.ljust('猫', 8, stream) == '\\u732b  '
  assert console.as_shown('café', stream) == (
      'caf\\xe9' if encoding == 'ascii' else 'café')


@pytest.mark.fast
def test_the_c_locales_stream_passes_file_name_bytes_and_escapes_the_rest():
  # Python lists a folder named 猫 as '\udce7\udc8c\udcab' under LC_ALL=C,
  # and its stdout writes those back as the bytes they were.
  stream = io.TextIOWrapper(io.BytesIO(), encoding='ascii',
                            errors='surrogateescape')
  folder = '\udce7\udc8c\udcab'
  assert console.as_shown(folder + '/猫', stream) == folder + '/\\u732b'
  assert console.width(console.as_shown('猫', stream)) == 6


@pytest.mark.fast
@pytest.mark.parametrize('console_name', ['ascii', 'cp1252', 'C locale',
                                          'utf-8'])
def test_convert_images_prints_its_table_on_any_console(console_name, src,
                                                       tmp_path):
  # Under the C locale Python lists the folders' names as escapes of their
  # UTF-8 bytes; the names are read from those bytes.
  status, output, error = _run(console_name, '-m', 'cifar10.convert_images',
                               src, str(tmp_path / 'data'))
  assert (status, error) == (0, ''), error
  cells = _cells(console_name)
  # The header, a row per class and the total (the lines after them name
  # split.csv and any copies).
  table = output.splitlines()[1:len(NAMES) + 3]
  assert table == (
      ['  %s    train     test' % cells['class']] +
      ['  %s  %7d  %7d' % (cells[name], TRAIN_PER_CLASS, TEST_PER_CLASS)
       for name in NAMES] +
      ['  %s  %7d  %7d' % (cells['total'], TRAIN_PER_CLASS * len(NAMES),
                           TEST_PER_CLASS * len(NAMES))])
  meta = tmp_path / 'data' / 'cifar-10-batches-bin' / 'batches.meta.txt'
  assert meta.read_bytes().decode('utf-8').splitlines() == NAMES


_RATIO = r'(\d\.\d{3}|-    )  \(\d+ of \d+\)'


@pytest.mark.parametrize('console_name', ['cp1252', 'utf-8'])
def test_eval_prints_its_per_class_table_aligned_on_any_console(
    console_name, data_dir, run_dir, tmp_path):
  status, output, error = _run(
      console_name, '-m', 'cifar10.eval', '--data_dir', data_dir,
      '--checkpoint_dir', run_dir, '--eval_dir', str(tmp_path / 'eval'),
      '--run_once')
  assert status == 0, error
  assert 'Traceback' not in error
  lines = output.splitlines()
  start = [index for index, line in enumerate(lines)
           if line.startswith('per class, of %d images'
                              % (TEST_PER_CLASS * len(NAMES)))][0] + 1
  header, rows = lines[start], lines[start + 1:start + 1 + len(NAMES)]
  cells = _cells(console_name)
  assert header == '  %s  %-20s  precision' % (cells['class'], 'recall')
  for name, row in zip(NAMES, rows):
    # The name's cell, then the recall field (20 characters, all ASCII) and
    # the precision: the same column positions as the header's.
    prefix = '  %s  ' % cells[name]
    assert row.startswith(prefix), (row, prefix)
    figures = row[len(prefix):]
    assert re.fullmatch(_RATIO + ' *', figures[:20]), row
    assert re.fullmatch('  ' + _RATIO, figures[20:]), row


@pytest.mark.parametrize('console_name', ['ascii', 'C locale'])
def test_predict_names_the_classes_on_any_console(console_name, src,
                                                  run_dir):
  image = os.path.join(src, 'test', '猫', '0.png')
  status, output, error = _run(console_name, '-m', 'cifar10.predict', image,
                               '--top_k', str(len(NAMES)),
                               '--checkpoint_dir', run_dir)
  assert status == 0, error
  # The class names, which none of these consoles can encode, as escapes;
  # the file's name too, but where the C locale passes the bytes it was
  # given back unchanged.
  header, line = output.rstrip('\n').split('\n')
  assert header.startswith('Classified by %s' % run_dir)
  path, predictions = line.split(': ')
  assert path == (image if console_name == 'C locale' else
                  image.replace('猫', ESCAPED['猫']))
  found = re.findall(r'(\S+) (\d\.\d{3})(?:, |$)', predictions)
  assert sorted(name for name, _ in found) == sorted(ESCAPED.values())


# A class name holding U+2028, which str.splitlines() and many viewers take
# for a line break (a class folder's name may hold it: classes.name_problem).
LINE_BREAKING_CLASS = 'cat\u2028dog'


@pytest.fixture(scope='module')
def line_breaking_run(tmp_path_factory):
  """(--data_dir, --train_dir) of a 1-step run on ten classes, one of them
  LINE_BREAKING_CLASS."""
  data_dir = str(tmp_path_factory.mktemp('line_breaking_data'))
  batches = synthetic.write_synthetic_dataset(
      data_dir, train_records_per_file=10, test_records=10, seed=5)
  names = list(classes.CIFAR10_NAMES)
  names[3] = LINE_BREAKING_CLASS
  with open(os.path.join(batches, classes.META_FILE), 'wb') as meta:
    meta.write(classes.format_names(names))
  train_dir = str(tmp_path_factory.mktemp('line_breaking_train'))
  with contextlib.redirect_stdout(io.StringIO()):
    assert train.main(['--data_dir', data_dir, '--train_dir', train_dir,
                       '--max_steps', '1', '--batch_size', '10']) == 0
  return data_dir, train_dir


def test_eval_shows_a_line_breaking_class_name_on_its_row(line_breaking_run,
                                                          tmp_path):
  data_dir, train_dir = line_breaking_run
  status, output, error = _run(
      'utf-8', '-m', 'cifar10.eval', '--data_dir', data_dir,
      '--checkpoint_dir', train_dir, '--eval_dir', str(tmp_path / 'eval'),
      '--run_once', '--batch_size', '10')
  assert status == 0, error
  lines = output.splitlines()
  start = [index for index, line in enumerate(lines)
           if line.startswith('per class, of 10 images')][0] + 2
  # Before: the row was two lines, 'cat' and 'dog' padded to 'automobile'.
  rows = lines[start:]
  assert [row.split()[0] for row in rows] == (
      ['airplane', 'automobile', 'bird', 'cat\\u2028dog', 'deer', 'dog',
       'frog', 'horse', 'ship', 'truck'])
  assert len({row.index('(') for row in rows}) == 1  # Aligned.


def test_predict_prints_one_line_per_file_whatever_the_names_hold(
    line_breaking_run, tmp_path):
  from PIL import Image  # pylint: disable=g-import-not-at-top
  _, train_dir = line_breaking_run
  # The last but one holds a byte that is not UTF-8 (Python hands it over
  # as the surrogate \udce9): before, it was shown as \\udce9, not as the
  # \\xe9 of the converter's lines and of predict --json.
  names = ['new\nline.png', 'carriage\rreturn.png', 'line\u2028separator.png',
           'next\x85line.png', os.fsdecode(b'caf\xe9.png'), 'plain.png']
  images = [str(tmp_path / name) for name in names]
  for path in images:
    Image.fromarray(np.full((32, 32, 3), 90, np.uint8)).save(path, 'PNG')
  broken = tmp_path / 'broken\nimage.png'
  broken.write_bytes(b'not an image')
  undecodable = tmp_path / os.fsdecode(b'broken\xff.png')
  undecodable.write_bytes(b'not an image')
  status, output, error = _run('utf-8', '-m', 'cifar10.predict',
                               *images, str(broken), str(undecodable),
                               '--top_k', '10', '--checkpoint_dir', train_dir)
  assert status == 1, error
  header, *lines = output.splitlines()
  assert header.startswith('Classified by ')
  assert [line.split(': ')[0] for line in lines] == [
      str(tmp_path / name) for name in (
          'new\\nline.png', 'carriage\\rreturn.png',
          'line\\u2028separator.png', 'next\\x85line.png', 'caf\\xe9.png',
          'plain.png')]
  for line in lines:
    found = re.findall(r'(\S+) (\d\.\d{3})(?:, |$)', line.split(': ')[1])
    assert sorted(name for name, _ in found) == sorted(
        name.replace(LINE_BREAKING_CLASS, 'cat\\u2028dog')
        for name in classes.CIFAR10_NAMES[:3] + (LINE_BREAKING_CLASS,) +
        classes.CIFAR10_NAMES[4:])
  # The files that could not be read: one line each on stderr too.
  complaints = [line for line in error.splitlines()
                if line.startswith('error: ')]
  assert complaints == ['error: %s: not a PNG, JPEG, BMP or GIF image'
                        % (tmp_path / name)
                        for name in ('broken\\nimage.png', 'broken\\xff.png')]


@pytest.mark.fast
def test_an_error_or_notice_quoting_a_line_breaking_name_stays_on_its_lines(
    capsys):
  # A class folder named 'a\u2028b' quoted in a refusal: before, the
  # message broke at that character on a console that honours it.
  def refuse(argv):
    del argv  # Unused.
    errors.notice('class a\u2028b\rc')
    raise errors.UserError('No class a\u2028b here.\nThe second line.')

  assert script.run(refuse) == 1
  assert capsys.readouterr().err == (
      'notice: class a\\u2028b\\rc\n'
      'error: No class a\\u2028b here.\nThe second line.\n')


@pytest.mark.fast
@pytest.mark.parametrize('errors_handler', ['strict', 'backslashreplace'])
def test_a_file_names_byte_that_is_not_utf8_is_shown_as_the_converter_shows_it(
    errors_handler):
  # stdout's handler is 'strict', stderr's 'backslashreplace': both wrote
  # the surrogate Python decodes the byte to as \udce9.
  stream = io.TextIOWrapper(io.BytesIO(), encoding='utf-8',
                            errors=errors_handler)
  name = os.fsdecode(b'caf\xe9/\xff.png')
  assert console.as_shown(name, stream) == 'caf\\xe9/\\xff.png'
  assert console.as_shown(name, stream) == storage.printable(name)
  assert console.as_shown('猫 \udce9\u2028', stream) == '猫 \\xe9\\u2028'
