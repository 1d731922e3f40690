"""cifar10.convert_images: image folders to CIFAR-10 records, and its refusals.

The expected records are computed here with numpy from the pixels the test
wrote: images whose sides are 1, 2 or 4 times 32 and whose values are
multiples of 8, so that the mean of each block (the BOX filter's output)
is an exact integer, whatever order Pillow sums in.
"""

import csv
import os
import shutil
import struct
import subprocess
import sys
import threading
import zlib

import numpy as np
import pytest
from PIL import Image

from cifar10 import convert_images
from cifar10 import synthetic
from cifar10.support import classes
from cifar10.support import errors
from cifar10.support import image_files
from cifar10.support import image_splits
from conftest import DEADLINE_SECS, opens_the_pipe

# The fast lane (docs/testing.md): the whole file.
pytestmark = pytest.mark.fast

RECORD_BYTES = 3073
BIN = 'cifar-10-batches-bin'
TRAIN_FILES = ['data_batch_%d.bin' % i for i in range(1, 6)]


def _block_means(pixels, rows, columns):
  """[32 * rows, 32 * columns, 3] pixels as the means of their blocks."""
  blocks = pixels.reshape(32, rows, 32, columns, 3).astype(np.float64)
  means = blocks.mean(axis=(1, 3))
  assert np.array_equal(means, np.round(means))  # Exact: no rounding left.
  return means.astype(np.uint8)


def _record(label, image):
  return bytes([label]) + image.transpose(2, 0, 1).tobytes()


def _records(folder, names):
  """The 3,073-byte records of the named batch files, in file order."""
  data = b''.join(open(os.path.join(folder, name), 'rb').read()
                  for name in names)
  assert len(data) % RECORD_BYTES == 0
  return [data[i:i + RECORD_BYTES] for i in range(0, len(data), RECORD_BYTES)]


def _save(path, array, **options):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  Image.fromarray(array).save(path, **options)


class _Writer:
  """Writes test images and remembers the record each one must become."""

  def __init__(self, rng):
    self.rng = rng
    self.expected = {'train': [], 'test': []}

  def colour(self, path, split, label, rows=1, columns=1):
    """An RGB image of 32*rows x 32*columns pixels, values multiples of 8."""
    pixels = (self.rng.integers(0, 32, [32 * rows, 32 * columns, 3]) *
              8).astype(np.uint8)
    _save(path, pixels)
    self.expected[split].append(_record(label, _block_means(pixels, rows,
                                                            columns)))

  def grey(self, path, split, label):
    """A 64x64 grey image: three equal channels, then the 2x2 means."""
    pixels = (self.rng.integers(0, 32, [64, 64]) * 8).astype(np.uint8)
    _save(path, pixels)
    self.expected[split].append(_record(label, _block_means(
        np.repeat(pixels[:, :, None], 3, axis=2), 2, 2)))

  def grey_16_bits(self, path, split, label):
    """A 32x32 16-bit grey image: each value v becomes v >> 8."""
    pixels = self.rng.integers(0, 65536, [32, 32]).astype(np.uint16)
    _save(path, pixels)
    eight = (pixels >> 8).astype(np.uint8)
    self.expected[split].append(_record(label, np.repeat(eight[:, :, None], 3,
                                                         axis=2)))

  def transparent(self, path, split, label):
    """RGBA: the alpha channel is dropped, the colours under it kept."""
    pixels = (self.rng.integers(0, 32, [64, 64, 4]) * 8).astype(np.uint8)
    _save(path, pixels)
    self.expected[split].append(_record(label, _block_means(
        np.ascontiguousarray(pixels[:, :, :3]), 2, 2)))

  def palette(self, path, split, label):
    """A 32x32 palette image (GIF or PNG): its palette's colours."""
    pixels = (self.rng.integers(0, 32, [32, 32, 3]) * 8).astype(np.uint8)
    image = Image.fromarray(pixels).convert(
        'P', palette=Image.Palette.ADAPTIVE, colors=8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    image.save(path)
    with Image.open(path) as reread:
      colours = np.asarray(reread.convert('RGB'))
    self.expected[split].append(_record(label, colours))

  def jpeg(self, path, split, label):
    """A 32x32 JPEG: the pixels Pillow decodes, unresized."""
    pixels = self.rng.integers(0, 256, [32, 32, 3]).astype(np.uint8)
    _save(path, pixels, quality=90)
    with Image.open(path) as reread:
      self.expected[split].append(_record(label, np.asarray(reread)))


@pytest.fixture
def split_folder(tmp_path, rng):
  """SRC/train/<class>/ and SRC/test/<class>/ in every mode, and the records."""
  src = str(tmp_path / 'src')
  writer = _Writer(rng)
  # Sorted by code point, as both conventions sort: upper case first.
  names = ['Banana', 'apple', 'cherry']
  for split in ('train', 'test'):
    for label, name in enumerate(names):
      folder = os.path.join(src, split, name)
      for index in range(3):
        writer.colour(os.path.join(folder, 'c%d.png' % index), split, label,
                      rows=[1, 2, 2][index], columns=[1, 2, 4][index])
      writer.grey(os.path.join(folder, 'sub', 'grey.png'), split, label)
    writer.grey_16_bits(os.path.join(src, split, 'apple', 'g16.png'), split,
                        1)
    writer.transparent(os.path.join(src, split, 'cherry', 'rgba.png'), split, 2)
    writer.palette(os.path.join(src, split, 'Banana', 'p.gif'), split, 0)
    writer.jpeg(os.path.join(src, split, 'cherry', 'photo.jpg'), split, 2)
    writer.colour(os.path.join(src, split, 'apple', 'b.bmp'), split, 1,
                  rows=2, columns=2)
  return src, names, writer.expected


def test_records_are_the_numpy_block_means_of_each_image_byte_for_byte(
    split_folder, tmp_path, capsys):
  src, names, expected = split_folder
  out = str(tmp_path / 'out')
  assert convert_images.main([src, out]) == 0
  folder = os.path.join(out, BIN)
  assert sorted(os.listdir(folder)) == sorted(
      TRAIN_FILES + ['test_batch.bin', 'batches.meta.txt', 'split.csv'])
  assert sorted(_records(folder, TRAIN_FILES)) == sorted(expected['train'])
  assert sorted(_records(folder, ['test_batch.bin'])) == sorted(
      expected['test'])
  with open(os.path.join(folder, 'batches.meta.txt'), 'rb') as meta:
    assert meta.read() == b'Banana\napple\ncherry\n'
  # Five training files of nearly equal size: 17 records as 3 or 4 each.
  sizes = [os.path.getsize(os.path.join(folder, name)) // RECORD_BYTES
           for name in TRAIN_FILES]
  assert sum(sizes) == 17 and max(sizes) - min(sizes) <= 1
  assert not [name for name in os.listdir(out) if name != BIN]
  lines = capsys.readouterr().out.splitlines()
  assert lines[0] == 'Converted 34 images of 3 classes from %s into %s:' % (
      src, folder)
  assert [line.split() for line in lines[1:6]] == [
      ['class', 'train', 'test'], ['Banana', '5', '5'], ['apple', '6', '6'],
      ['cherry', '6', '6'], ['total', '17', '17']]
  assert lines[6:] == ["Each file's split is listed in %s."
                       % os.path.join(folder, 'split.csv')]


def _class_folder(src, count_per_class, names=('a', 'b', 'c'), size=32,
                  start=0):
  """SRC/<class>/ with solid PNGs, each of value 10 * label + index.

  The indices, which also name the files, run from `start`.
  """
  for label, name in enumerate(names):
    for index in range(start, start + count_per_class):
      pixels = np.full([size, size, 3], 10 * label + index, np.uint8)
      _save(os.path.join(src, name, '%03d.png' % index), pixels)


def _labels_and_first_pixels(folder, names):
  return [(record[0], record[1]) for record in _records(folder, names)]


def test_test_fraction_draws_the_same_share_of_each_class_under_the_seed(
    tmp_path):
  src = str(tmp_path / 'src')
  _class_folder(src, 10)
  runs = {}
  for run, seed in (('one', 7), ('again', 7), ('other', 8)):
    out = str(tmp_path / run)
    convert_images.convert(src, out, test_fraction=0.3, seed=seed)
    folder = os.path.join(out, BIN)
    runs[run] = {name: open(os.path.join(folder, name), 'rb').read()
                 for name in os.listdir(folder)}
    test = _labels_and_first_pixels(folder, ['test_batch.bin'])
    # Three of each class's ten (each image has its own value: 10 * label +
    # index), and the training files hold the other seven of each.
    assert sorted(label for label, _ in test) == [0] * 3 + [1] * 3 + [2] * 3
    train = _labels_and_first_pixels(folder, TRAIN_FILES)
    assert sorted(train + test) == sorted(
        (label, 10 * label + index) for label in range(3) for index in
        range(10))
  assert runs['one'] == runs['again']
  assert runs['one']['test_batch.bin'] != runs['other']['test_batch.bin']


def test_the_default_test_fraction_is_a_fifth(tmp_path):
  src = str(tmp_path / 'src')
  _class_folder(src, 10, names=('a', 'b'))
  counts = convert_images.convert(src, str(tmp_path / 'out')).counts
  assert counts['test'].tolist() == [2, 2]
  assert counts['train'].tolist() == [8, 8]


def test_bad_files_are_skipped_each_named_with_its_reason(tmp_path, capsys):
  src = str(tmp_path / 'src')
  _class_folder(src, 4, names=('a', 'b'))
  bad = {
      'notes.txt': 'not a PNG, JPEG, BMP or GIF image',
      'cut.png': 'damaged image',
      'small.png': '20x40 pixels, under 32 on a side',
      'gone.png': 'cannot read it (No such file or directory)',
  }
  (tmp_path / 'src' / 'a' / 'notes.txt').write_text('not an image')
  with open(os.path.join(src, 'a', '000.png'), 'rb') as whole:
    (tmp_path / 'src' / 'a' / 'cut.png').write_bytes(whole.read()[:60])
  _save(os.path.join(src, 'b', 'small.png'), np.zeros([40, 20, 3], np.uint8))
  os.symlink(str(tmp_path / 'nowhere.png'), os.path.join(src, 'b', 'gone.png'))
  (tmp_path / 'src' / 'a' / '.DS_Store').write_text('hidden: left out')
  (tmp_path / 'src' / 'README.txt').write_text('beside the classes')
  assert convert_images.main([src, str(tmp_path / 'out'),
                              '--test_fraction', '0.25']) == 0
  printed = capsys.readouterr().out
  for name, reason in bad.items():
    [line] = [line for line in printed.splitlines() if name in line]
    assert line.startswith('skipped %s' % os.path.join(src, 'a' if name in (
        'notes.txt', 'cut.png') else 'b', name)) and reason in line, line
  assert 'left out %s: not inside a class folder' % os.path.join(
      src, 'README.txt') in printed
  assert '.DS_Store' not in printed
  assert 'Skipped 4 files' in printed
  assert 'Converted 8 images of 2 classes' in printed


def test_a_file_name_that_is_not_utf8_is_converted_and_printed_escaped(
    tmp_path, capsys):
  src = tmp_path / 'src'
  _class_folder(str(src), 3, names=('a', 'b'))
  name = os.fsdecode(b'caf\xe9.png')  # Latin-1, not UTF-8.
  _save(os.path.join(str(src), 'a', name), np.zeros([32, 32, 3], np.uint8))
  (src / 'b' / name).write_text('not an image')
  assert convert_images.main([str(src), str(tmp_path / 'out')]) == 0
  printed = capsys.readouterr().out
  assert 'skipped %s: not a PNG' % os.path.join(str(src), 'b',
                                                'caf\\xe9.png') in printed
  assert 'Converted 7 images' in printed


def _refused(tmp_path, src, *flags, out=None):
  """Converts, expecting a refusal; checks OUT was left as it was."""
  out = out or str(tmp_path / 'out')
  before = sorted(os.walk(out)) if os.path.exists(out) else None
  with pytest.raises(errors.UserError) as raised:
    convert_images.main([src, out] + list(flags))
  after = sorted(os.walk(out)) if os.path.exists(out) else None
  assert after == before, 'OUT changed: %s' % after
  return str(raised.value)


def test_an_empty_image_file_is_called_empty(tmp_path):
  # Before: "not a PNG, JPEG, BMP or GIF image", as for a file of another
  # kind. Predict and the converter both read images through load.
  empty = tmp_path / 'cat.png'
  empty.write_bytes(b'')
  with pytest.raises(errors.UserError) as raised:
    image_files.load(str(empty))
  assert str(raised.value) == ('%s: the file is empty (0 bytes), not an image'
                               % empty)


def test_an_empty_class_folder_is_refused_by_name(tmp_path):
  src = str(tmp_path / 'src')
  _class_folder(src, 3, names=('a', 'b'))
  os.makedirs(os.path.join(src, 'c', 'sub'))
  message = _refused(tmp_path, src)
  assert message == (
      'Class folder %s holds no files: put its images there, or remove the '
      'folder if the class is not wanted.' % os.path.join(src, 'c'))


def test_a_run_or_an_evaluation_among_the_class_folders_is_refused(tmp_path):
  # A --train_dir or --eval_dir given inside SRC. Before: each of their
  # files "skipped ... not a PNG", then "Fix or replace its files".
  src = str(tmp_path / 'src')
  _class_folder(src, 3, names=('a', 'b'))
  run = os.path.join(src, 'run')
  os.makedirs(run)
  for name in ('checkpoint', 'model.ckpt-5.index',
               'model.ckpt-5.data-00000-of-00001'):
    open(os.path.join(run, name), 'w').close()
  os.makedirs(src + '_run')  # Taken: the next free name is offered.
  assert _refused(tmp_path, src) == (
      "%s is a training run's folder (it holds checkpoints), not a class "
      'folder of images. Move it away from the class folders (mv %s %s_run_2'
      '), then convert again.' % (run, run, src))
  shutil.move(run, src + '_run_2')
  # In SRC/train/, the folder offered is beside train/, whose neighbours
  # are left out.
  split = str(tmp_path / 'split')
  for part in ('train', 'test'):
    _class_folder(os.path.join(split, part), 6, names=('a', 'b'))
  evaluation = os.path.join(split, 'train', 'eval')
  os.makedirs(evaluation)
  open(os.path.join(evaluation, 'events.out.tfevents.1.host'), 'w').close()
  assert _refused(tmp_path, split) == (
      "%s is a training run's or an evaluation's folder (it holds "
      'TensorBoard event files), not a class folder of images. Move it away '
      'from the class folders (mv %s %s_eval), then convert again.'
      % (evaluation, evaluation, os.path.join(split, 'train')))
  shutil.move(evaluation, os.path.join(split, 'train_eval'))
  assert convert_images.main([split, str(tmp_path / 'out')]) == 0


def test_a_single_class_is_refused(tmp_path):
  src = str(tmp_path / 'src')
  _class_folder(src, 3, names=('only',))
  assert 'holds only the class folder only, but a classifier needs 2 ' \
      'classes at least' in _refused(tmp_path, src)


def test_more_than_256_classes_are_refused(tmp_path):
  src = tmp_path / 'src'
  for index in range(257):
    (src / ('class%03d' % index)).mkdir(parents=True)
  assert 'holds 257 class folders, but a label is one byte: 256 classes at ' \
      'most' in _refused(tmp_path, str(src))


def test_a_class_folder_name_that_is_not_utf8_is_refused(tmp_path):
  src = str(tmp_path / 'src')
  _class_folder(src, 3, names=('a', os.fsdecode(b'caf\xe9')))
  message = _refused(tmp_path, src)
  assert message.startswith('Class folder %s: its name is not valid UTF-8'
                            % os.path.join(src, 'caf\\xe9'))
  message.encode('utf-8')  # Printable.


def _converts_with_its_classes(tmp_path, names):
  """Converts class folders of 3 images each named `names`; checks the names
  read back from batches.meta.txt and each image's label."""
  src = str(tmp_path / 'src')
  _class_folder(src, 3, names=names)
  folder = convert_images.convert(src, str(tmp_path / 'out')).folder
  assert classes.of_data(folder).names == names
  # Each image of class `label` has the value 10 * label + its index.
  records = _labels_and_first_pixels(folder, TRAIN_FILES + ['test_batch.bin'])
  assert sorted(records) == [(label, 10 * label + index)
                             for label in range(len(names))
                             for index in range(3)]


# The characters besides '\n' and '\r' that str.splitlines() ends a line at:
# a class folder's name may hold them.
SPLITLINES_ONLY = ['\v', '\f', '\x1c', '\x1d', '\x1e', '\x85', '\u2028',
                   '\u2029']


@pytest.mark.parametrize('character', SPLITLINES_ONLY)
def test_a_class_name_holding_a_character_splitlines_ends_lines_at_reads_back(
    tmp_path, character):
  _converts_with_its_classes(tmp_path, ('apple', 'big%scat' % character, 'dog'))


@pytest.mark.parametrize('name', [' ', '\t', '\u3000', '\u2028'])
def test_a_class_folder_whose_name_is_blank_is_refused_by_name(tmp_path, name):
  src = str(tmp_path / 'src')
  _class_folder(src, 3, names=('a', name, 'b'))
  assert _refused(tmp_path, src) == (
      'Class folder %r in %s: its name is blank, but every label needs a '
      'name. Rename the folder.' % (name, src))


def test_a_class_folder_name_with_spaces_around_it_is_read_back_as_it_is(
    tmp_path):
  _converts_with_its_classes(tmp_path, (' a', 'b ', 'c'))


# A hidden file alone (.DS_Store) too: the staged folder could not be renamed
# onto the folder holding it.
@pytest.mark.parametrize('name', ['test_batch.bin', 'split.csv', '.DS_Store'])
def test_an_out_folder_holding_batch_files_is_refused_and_kept(tmp_path,
                                                               name):
  src = str(tmp_path / 'src')
  _class_folder(src, 5)
  out = tmp_path / 'out'
  (out / BIN).mkdir(parents=True)
  (out / BIN / name).write_bytes(b'mine')
  message = _refused(tmp_path, src, out=str(out))
  assert message.startswith('%s already exists, and nothing is written over. '
                            'Give another OUT folder' % (out / BIN / name))
  assert (out / BIN / name).read_bytes() == b'mine'


def test_a_test_split_that_would_be_empty_is_refused(tmp_path):
  src = str(tmp_path / 'src')
  _class_folder(src, 2)
  assert _refused(tmp_path, src, '--test_fraction', '0.1') == (
      '--test_fraction 0.1 of %s leaves the test split empty (the largest '
      'class has 2 images). Add images.' % src)  # No fraction fills both
  # splits: each class would give one test image, leaving 3 to train on.
  assert not os.path.exists(str(tmp_path / 'out'))


def test_too_few_training_images_for_five_files_are_refused(tmp_path):
  src = str(tmp_path / 'src')
  _class_folder(src, 2, names=('a', 'b'))
  assert 'The training split of %s would hold 2 images, but the trainers ' \
      'read 5 training files' % src in _refused(tmp_path, src,
                                                '--test_fraction', '0.5')


@pytest.mark.parametrize('layout, expected', [
    ('train only', 'has a train/ folder but no test/ beside it'),
    ('other classes in test', 'must hold the same class folders, but c is in '
                              'only one of them'),
    ('fraction of a split layout', '--test_fraction draws a test split from '
                                   'SRC/<class>/ folders'),
    ('out inside src', 'lies inside SRC'),
])
def test_a_layout_that_is_neither_convention_is_refused(tmp_path, layout,
                                                        expected):
  src = str(tmp_path / 'src')
  _class_folder(os.path.join(src, 'train'), 3)
  flags, out = [], None
  if layout == 'other classes in test':
    _class_folder(os.path.join(src, 'test'), 3, names=('a', 'b'))
  elif layout == 'fraction of a split layout':
    _class_folder(os.path.join(src, 'test'), 3)
    flags = ['--test_fraction', '0.5']
  elif layout == 'out inside src':
    _class_folder(os.path.join(src, 'test'), 3)
    out = os.path.join(src, 'converted')
  assert expected in _refused(tmp_path, src, *flags, out=out)


def test_a_class_folder_named_train_among_other_classes_is_a_class(tmp_path):
  _converts_with_its_classes(tmp_path, ('bus', 'car', 'train'))  # CIFAR-100's.


def test_unusable_images_that_empty_a_class_leave_nothing_in_out(tmp_path,
                                                                  capsys):
  src = tmp_path / 'src'
  _class_folder(str(src), 6, names=('a', 'b'))
  for index in range(6):
    (src / 'b' / ('%03d.png' % index)).write_text('not an image')
  out = tmp_path / 'out'
  with pytest.raises(errors.UserError, match='Class b has no usable training '
                                             'image'):
    convert_images.main([str(src), str(out)])
  assert not out.exists()  # Created by the run, so removed with its files.
  assert capsys.readouterr().out.count('skipped ') == 6


def test_progress_lines_come_on_large_folders(tmp_path, capsys):
  src = str(tmp_path / 'src')
  _class_folder(src, 5, names=('a', 'b'))
  convert_images.convert(src, str(tmp_path / 'out'), progress_secs=0)
  progress = [line for line in capsys.readouterr().out.splitlines()
              if ' images (' in line and 'per second)' in line]
  assert progress[0].startswith('  1 of 10 images (') and len(progress) == 9


@pytest.mark.parametrize('value', ['0', '1', '1.5', 'half'])
def test_test_fraction_outside_0_to_1_is_a_flag_error(value, tmp_path, capsys):
  with pytest.raises(SystemExit) as raised:
    convert_images.parser().parse_args(['src', 'out', '--test_fraction',
                                        value])
  assert raised.value.code == 2
  assert 'argument --test_fraction' in capsys.readouterr().err


@pytest.mark.parametrize('script, argv', [
    (convert_images, ['src', 'out']), (synthetic, [])],
                         ids=['convert_images', 'synthetic'])
def test_a_negative_seed_is_a_flag_error(script, argv, capsys):
  # numpy's generators take seeds of 0 or more: -1 ended in its traceback.
  name = script.__name__
  with pytest.raises(SystemExit) as raised:
    script.parser().parse_args(argv + ['--seed', '-1'])
  assert raised.value.code == 2
  assert capsys.readouterr().err.splitlines()[-1] == (
      'python -m %s: error: argument --seed: must be at least 0, got -1 '
      '(python -m %s --help lists the flags)' % (name, name))


def test_the_meta_file_round_trips_through_the_names_parser(tmp_path):
  names = ('Banana', 'apple', 'caf\u00e9 au lait', 'cherry')
  assert classes.parse_names(classes.format_names(names), 'x') == names


# ---------------------------------------------------------------------------
# Honest splits: copies kept together, skipped files left out, the manifest
# ---------------------------------------------------------------------------

def _manifest_rows(out):
  with open(os.path.join(out, BIN, 'split.csv'), newline='',
            encoding='utf-8', errors='surrogateescape') as manifest:
    return list(csv.reader(manifest))


def _splits_of_values(folder):
  """{first pixel value: the splits whose records hold it}."""
  found = {}
  for split, names in (('train', TRAIN_FILES), ('test', ['test_batch.bin'])):
    for record in _records(folder, names):
      found.setdefault(record[1], set()).add(split)
  return found


def test_files_that_cannot_be_used_take_no_place_in_the_drawn_split(
    tmp_path):
  # Ten images in each class, and three files in a that are skipped. A fifth
  # of ten is two test images per class, under any seed; a draw over a's 13
  # files gave it round(2.6) = 3 test places, some taken by skipped files.
  src = tmp_path / 'src'
  _class_folder(str(src), 10, names=('a', 'b'))
  (src / 'a' / 'notes.txt').write_text('not an image')
  (src / 'a' / 'cut.png').write_bytes((src / 'a' / '000.png').read_bytes()[:60])
  _save(str(src / 'a' / 'small.png'), np.zeros([16, 16, 3], np.uint8))
  for seed in range(5):
    out = str(tmp_path / ('out%d' % seed))
    conversion = convert_images.convert(str(src), out, seed=seed)
    assert conversion.counts['train'].tolist() == [8, 8], seed
    assert conversion.counts['test'].tolist() == [2, 2], seed
    assert len(conversion.skipped) == 3
    assert sorted(row[0] for row in _manifest_rows(out)[1:]) == [
        '%s/%03d.png' % (name, index) for name in 'ab' for index in range(10)]


def test_copies_land_in_one_split_and_the_summary_names_them(tmp_path,
                                                              capsys):
  src = tmp_path / 'src'
  _class_folder(str(src), 8, names=('a', 'b'))
  # A byte-for-byte copy, and the same pixels saved as BMP: two groups.
  (src / 'a' / '000 copy.png').write_bytes((src / 'a' / '000.png').read_bytes())
  _save(str(src / 'a' / '001.bmp'), np.full([32, 32, 3], 1, np.uint8))
  # The same size and the same 32x32 form (2x2 blocks of mean 100), but
  # other pixels: not copies.
  flat = np.full([64, 64, 3], 100, np.uint8)
  checker = flat.copy()
  checker[::2, ::2], checker[1::2, 1::2] = 92, 108
  _save(str(src / 'a' / 'flat.png'), flat)
  _save(str(src / 'a' / 'checker.png'), checker)
  for seed in range(6):
    out = str(tmp_path / ('out%d' % seed))
    assert convert_images.main([str(src), out, '--seed', str(seed)]) == 0
    folder = os.path.join(out, BIN)
    # a: 12 files, 10 pictures, round(0.2 * 12) = 2 test images, as b's 8.
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines[2:5]] == [
        ['a', '10', '2'], ['b', '6', '2'], ['total', '16', '4']]
    # Neither copied picture (values 0 and 1) is on both sides.
    splits = _splits_of_values(folder)
    assert len(splits[0]) == len(splits[1]) == 1, (seed, splits)
    rows = {path: (split, copy_of)
            for path, _, split, copy_of in _manifest_rows(out)[1:]}
    assert rows['a/000.png'][0] == rows['a/000 copy.png'][0]
    assert rows['a/001.png'][0] == rows['a/001.bmp'][0]
    # Each copy names the first file in SRC's order holding its picture.
    assert {path: copy_of for path, (_, copy_of) in rows.items()
            if copy_of} == {'a/000.png': 'a/000 copy.png',
                            'a/001.png': 'a/001.bmp'}
  assert lines[-3:] == [
      'Identical images (the same bytes, or the same pixels once decoded): '
      '2 groups, 4 files, each in one split, e.g.',
      '  a/000 copy.png = a/000.png',
      '  a/001.bmp = a/001.png']


def test_copies_across_given_train_and_test_folders_are_a_warning_and_stay(
    tmp_path, capsys):
  src = tmp_path / 'src'
  _class_folder(str(src / 'train'), 5, names=('a', 'b'))
  _class_folder(str(src / 'test'), 2, names=('a', 'b'), start=5)
  (src / 'test' / 'b' / 'leak.png').write_bytes(
      (src / 'train' / 'b' / '001.png').read_bytes())
  # Four more groups, within the training split: more than the summary shows.
  for index in range(5):
    if index != 3:
      _save(str(src / 'train' / 'a' / ('%03d.bmp' % index)),
            np.full([32, 32, 3], index, np.uint8))
  out = str(tmp_path / 'out')
  assert convert_images.main([str(src), out]) == 0
  lines = capsys.readouterr().out.splitlines()
  assert [line.split() for line in lines[1:5]] == [
      ['class', 'train', 'test'], ['a', '9', '2'], ['b', '5', '3'],
      ['total', '14', '5']]
  assert lines[-6:] == [
      'Identical images (the same bytes, or the same pixels once decoded): '
      '5 groups, 10 files, e.g.',
      '  train/b/001.png = test/b/leak.png',
      '  train/a/000.bmp = train/a/000.png',
      '  train/a/001.bmp = train/a/001.png',
      '  and 2 more groups: the copy_of column of split.csv names every copy',
      'Warning: 1 of these groups lies in both train/ and test/ (shown '
      'first), so the test scores images the network trained on. Delete or '
      'move the copies on one side.']
  # The user's split stands: each file where it was put.
  rows = {path: (split, copy_of)
          for path, _, split, copy_of in _manifest_rows(out)[1:]}
  assert rows['train/b/001.png'] == ('train', '')
  assert rows['test/b/leak.png'] == ('test', 'train/b/001.png')


def test_the_manifest_names_each_images_file_class_and_split_in_record_order(
    tmp_path):
  src = tmp_path / 'src'
  _class_folder(str(src / 'train'), 6, names=('a', 'b'))
  _class_folder(str(src / 'test'), 2, names=('a', 'b'), start=6)
  # A name CSV must quote, a name that is not UTF-8 (kept as its bytes),
  # and a file that is skipped (so not listed).
  _save(str(src / 'train' / 'b' / 'x,"y".png'), np.full([32, 32, 3], 50,
                                                         np.uint8))
  latin = os.fsdecode(b'caf\xe9.png')
  _save(os.path.join(str(src), 'train', 'a', latin),
        np.full([32, 32, 3], 60, np.uint8))
  (src / 'test' / 'a' / 'notes.txt').write_text('not an image')
  out = str(tmp_path / 'out')
  convert_images.convert(str(src), out, seed=3)
  folder = os.path.join(out, BIN)
  with open(os.path.join(folder, 'split.csv'), 'rb') as manifest:
    lines = manifest.read().decode('utf-8', 'surrogateescape').split('\n')
  assert lines[0] == 'path,class,split,copy_of' and lines[-1] == ''
  assert sorted(lines[1:-1]) == sorted(
      ['train/a/%03d.png,a,train,' % index for index in range(6)] +
      ['train/b/%03d.png,b,train,' % index for index in range(6)] +
      ['"train/b/x,""y"".png",b,train,', 'train/a/%s,a,train,' % latin] +
      ['test/a/%03d.png,a,test,' % index for index in (6, 7)] +
      ['test/b/%03d.png,b,test,' % index for index in (6, 7)])
  # Line k of the training lines is record k: data_batch_(k mod 5 + 1)'s
  # record k // 5. The test lines follow in test_batch.bin's order.
  rows = _manifest_rows(out)[1:]
  assert [split for _, _, split, _ in rows] == ['train'] * 14 + ['test'] * 4
  dealt = [_records(folder, [name]) for name in TRAIN_FILES]
  records = [dealt[k % 5][k // 5] for k in range(14)] + _records(
      folder, ['test_batch.bin'])

  def value(path):  # As _class_folder and the _save above made them.
    if path in ('train/b/x,"y".png', 'train/a/' + latin):
      return 50 if 'x,' in path else 60
    return 10 * 'ab'.index(path.split('/')[1]) + int(path[-7:-4])

  assert [(record[0], record[1]) for record in records] == [
      ('ab'.index(name), value(path)) for path, name, _, _ in rows]


def test_the_draw_gives_each_class_its_share_and_keeps_copies_together():
  # Class 0's images 0 and 1 and class 1's image 10 are one picture (a copy
  # filed under two classes); class 0's images 2 and 3 are another.
  labels = [0] * 10 + [1] * 10
  pictures = [0, 0, 2, 2] + list(range(4, 10)) + [0] + list(range(11, 20))
  drawn_whole = set()
  for seed in range(40):
    in_test = image_splits.draw_test_split(
        labels, pictures, 2, 0.3, np.random.default_rng(seed))
    # round(0.3 * 10) = 3 of each class, as single images can always fill.
    assert [int(in_test[:10].sum()), int(in_test[10:].sum())] == [3, 3]
    assert in_test[0] == in_test[1] == in_test[10]
    assert in_test[2] == in_test[3]
    drawn_whole.update(index for index in (0, 2) if in_test[index])
  assert drawn_whole == {0, 2}  # Groups go to the test split too.


# ---------------------------------------------------------------------------
# What lies among the images: pipes, linked folders, loose files
# ---------------------------------------------------------------------------

def test_a_named_pipe_among_the_images_is_left_out_and_never_opened(
    tmp_path, capsys):
  src = str(tmp_path / 'src')
  _class_folder(src, 4, names=('a', 'b'))
  pipe = os.path.join(src, 'a', 'pipe.png')
  os.mkfifo(pipe)
  conversions = []  # convert, not main: a thread cannot set signal handlers.
  worker = threading.Thread(target=lambda: conversions.append(
      convert_images.convert(src, str(tmp_path / 'out'))), daemon=True)
  worker.start()
  assert not opens_the_pipe(worker, pipe), 'the converter opened the named pipe'
  [conversion] = conversions
  assert sum(int(counts.sum()) for counts in conversion.counts.values()) == 8
  assert 'left out %s: a named pipe, not a regular file' % pipe in (
      capsys.readouterr().out.splitlines())


def test_linked_subfolders_are_read_and_a_folder_reached_twice_once(
    tmp_path, capsys):
  src = tmp_path / 'src'
  _class_folder(str(src), 4, names=('a', 'b'))
  _class_folder(str(tmp_path / 'elsewhere'), 2, names=('more',), start=50)
  os.symlink(str(tmp_path / 'elsewhere' / 'more'), str(src / 'a' / 'linked'))
  os.symlink(str(tmp_path / 'elsewhere' / 'more'), str(src / 'a' / 'twice'))
  os.symlink(os.pardir, str(src / 'b' / 'up'))  # SRC: b's class folder too.
  assert convert_images.main([str(src), str(tmp_path / 'out')]) == 0
  printed = capsys.readouterr().out
  assert 'left out %s: the same folder as %s, read already' % (
      src / 'a' / 'twice', src / 'a' / 'linked') in printed
  assert 'left out %s: a link to %s, which holds the class folder' % (
      src / 'b' / 'up', src) in printed
  rows = _manifest_rows(str(tmp_path / 'out'))[1:]
  assert sorted(path for path, name, _, _ in rows if name == 'a') == [
      'a/%03d.png' % index for index in range(4)] + [
          'a/linked/%03d.png' % index for index in (50, 51)]
  assert len(rows) == 10 and 'Identical images' not in printed


def test_a_folder_linked_from_two_classes_is_read_for_the_first_only(
    tmp_path, capsys):
  # Before: read for both, the same pictures under two labels, said only
  # as groups of identical images.
  src = tmp_path / 'src'
  _class_folder(str(src), 4, names=('a', 'b'))
  shared = tmp_path / 'elsewhere' / 'shared'
  _class_folder(str(shared.parent), 2, names=('shared',), start=50)
  os.symlink(str(shared), str(src / 'a' / 'more'))
  os.symlink(str(shared), str(src / 'b' / 'extra'))
  assert convert_images.main([str(src), str(tmp_path / 'out')]) == 0
  printed = capsys.readouterr().out
  assert [line for line in printed.splitlines()
          if line.startswith('left out')] == [
              'left out %s: a link to %s, which class a reads (as %s)' % (
                  src / 'b' / 'extra', shared, src / 'a' / 'more')]
  rows = _manifest_rows(str(tmp_path / 'out'))[1:]
  assert sorted(path for path, _, _, _ in rows) == sorted(
      ['a/%03d.png' % index for index in range(4)] +
      ['a/more/%03d.png' % index for index in (50, 51)] +
      ['b/%03d.png' % index for index in range(4)])
  assert 'Identical images' not in printed


def test_a_folder_linked_from_train_and_test_is_read_for_train_only(
    tmp_path, capsys):
  # Before: read on both sides, so the test scored images trained on.
  src = tmp_path / 'src'
  _class_folder(str(src / 'train'), 5, names=('a', 'b'))
  _class_folder(str(src / 'test'), 2, names=('a', 'b'), start=5)
  shared = tmp_path / 'elsewhere' / 'shared'
  _class_folder(str(shared.parent), 2, names=('shared',), start=50)
  os.symlink(str(shared), str(src / 'train' / 'a' / 'more'))
  os.symlink(str(shared), str(src / 'test' / 'a' / 'more'))
  assert convert_images.main([str(src), str(tmp_path / 'out')]) == 0
  printed = capsys.readouterr().out
  assert 'left out %s: a link to %s, which class a reads (as %s)' % (
          src / 'test' / 'a' / 'more', shared,
          src / 'train' / 'a' / 'more') in printed.splitlines()
  rows = _manifest_rows(str(tmp_path / 'out'))[1:]
  assert not [path for path, _, _, _ in rows if path.startswith('test/a/more')]
  assert 'Warning' not in printed


def test_files_beside_the_class_folders_in_train_and_test_are_named_too(
    tmp_path, capsys):
  src = tmp_path / 'src'
  _class_folder(str(src / 'train'), 5, names=('a', 'b'))
  _class_folder(str(src / 'test'), 2, names=('a', 'b'), start=5)
  for path in ('notes.txt', 'train/notes.txt', 'test/photo.png'):
    (src / path).write_text('beside the classes')
  assert convert_images.main([str(src), str(tmp_path / 'out')]) == 0
  printed = capsys.readouterr().out.splitlines()
  assert [line for line in printed if line.startswith('left out')] == [
      'left out %s: only train/ and test/ are converted' % (src / 'notes.txt'),
      'left out %s: not inside a class folder' % (src / 'train' / 'notes.txt'),
      'left out %s: not inside a class folder' % (src / 'test' / 'photo.png')]


@pytest.mark.parametrize('folders, renames', [
    (('training_set', 'test_set'), 'training_set to SRC/train and SRC/'
                                   'test_set to SRC/test'),
    (('train', 'val'), 'val to SRC/test'),
    (('Training', 'Validation', 'Testing'), 'Training to SRC/train and '
                                            'SRC/Testing to SRC/test'),
    (('train', 'valid', 'validation'), None),
])
def test_class_folders_all_named_like_splits_are_refused(tmp_path, folders,
                                                         renames):
  src = tmp_path / 'SRC'
  for folder in folders:
    _class_folder(str(src / folder), 5, names=('cat', 'dog'))
  message = _refused(tmp_path, str(src)).replace(str(tmp_path) + os.sep, '')
  assert message.startswith('SRC holds only folders named like splits (%s), '
                            'which would be converted as classes of those '
                            'names. Rename ' % ', '.join(sorted(folders)))
  assert message.endswith((
      'SRC/%s' % renames if renames else
      'the folder of your training images to SRC/train and that of your test '
      'images to SRC/test') + ', the two splits the converter reads, then '
                              'convert again.')


def test_a_folder_named_like_a_split_among_classes_is_a_class(tmp_path):
  _converts_with_its_classes(tmp_path, ('bus', 'train', 'validation'))


# ---------------------------------------------------------------------------
# 16-bit images, Pillow's warnings, small images
# ---------------------------------------------------------------------------

def _png_16_bits(path, pixels):
  """Writes [height, width, channels] uint16 as a 16-bit PNG (Pillow cannot:
  it has no 16-bit colour mode)."""
  height, width, channels = pixels.shape
  colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]  # Grey, +alpha, RGB, RGBA.
  rows = b''.join(b'\x00' + row.astype('>u2').tobytes() for row in pixels)

  def chunk(kind, data):
    return (struct.pack('>I', len(data)) + kind + data +
            struct.pack('>I', zlib.crc32(kind + data)))

  with open(path, 'wb') as file:
    file.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack(
        '>IIBBBBB', width, height, 16, colour_type, 0, 0, 0)) +
               chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))


# 16-bit values, among them two where v >> 8 and round(v / 257) part: 255
# (0 against 1) and 65280 (255 against 254).
_SIXTEEN_BITS = np.array([0, 1, 255, 256, 383, 32767, 32768, 65279, 65280,
                          65535] * 4, np.uint16)[:32]


@pytest.mark.parametrize('channels', [1, 2, 3, 4])
def test_16_bit_images_keep_their_top_8_bits_in_every_mode(tmp_path,
                                                            channels):
  # Grey, grey and alpha, RGB, RGBA: each channel its own shift of values.
  pixels = np.stack([np.roll(np.tile(_SIXTEEN_BITS, [32, 1]), shift, axis=1)
                     for shift in range(channels)], axis=-1)
  path = str(tmp_path / 'sixteen.png')
  _png_16_bits(path, pixels)
  top = (pixels >> 8).astype(np.uint8)
  colour = np.repeat(top[:, :, :1], 3, axis=2) if channels < 3 else top[
      :, :, :3]
  assert np.array_equal(image_files.load(path), colour)
  assert image_files.load(path)[0, :10, 0].tolist() == [
      0, 0, 0, 1, 1, 127, 128, 254, 255, 255]


def _exif_past_the_end():
  """EXIF whose one entry points past the data: Pillow warns as it reads it."""
  return (b'MM\x00*\x00\x00\x00\x08' + struct.pack('>H', 1) +
          struct.pack('>HHII', 0x010e, 2, 100, 0x1000) + b'\x00' * 4)


def test_pillows_warnings_are_one_line_naming_each_file(tmp_path, capsys,
                                                        monkeypatch):
  src = tmp_path / 'src'
  _class_folder(str(src), 4, names=('a', 'b'))
  for value, name in ((98, 'x.jpg'), (99, 'y.jpg')):
    Image.fromarray(np.full([32, 32, 3], value, np.uint8)).save(
        str(src / 'a' / name), exif=b'Exif\x00\x00' + _exif_past_the_end())
  # Pillow's warning of a decompression bomb, at 1000 pixels rather than
  # 89 million: every 32x32 image is over it.
  monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 1000)
  assert convert_images.main([str(src), str(tmp_path / 'out')]) == 0
  printed = capsys.readouterr()
  lines = printed.err.splitlines()
  for name in ('a/000.png', 'b/003.png', 'a/x.jpg', 'a/y.jpg'):
    assert 'notice: %s: 32x32 pixels, more than the 1000 at which Pillow ' \
        'warns of a possible decompression bomb (a small file that decodes ' \
        'to a huge image); read anyway' % (src / name) in lines
  for name in ('x.jpg', 'y.jpg'):
    assert 'notice: %s: Pillow warns: Tag data larger than file. Skipping ' \
        'tag 270' % (src / 'a' / name) in lines
  assert len(lines) == 12  # One line each, nothing of Pillow's own.


def test_small_images_are_skipped_unless_enlarge_small_stretches_them(
    tmp_path, capsys):
  src = tmp_path / 'src'
  _class_folder(str(src), 5, names=('a', 'b'), size=28)  # MNIST's size.
  pixels = (np.random.default_rng(3).integers(0, 256, [16, 16, 3])
            ).astype(np.uint8)
  _save(str(src / 'a' / 'sixteen.png'), pixels)
  with pytest.raises(errors.UserError, match='Only 0 training images'):
    convert_images.main([str(src), str(tmp_path / 'skipped')])
  assert capsys.readouterr().out.count('under 32 on a side: use a larger '
                                       'picture, or convert again with '
                                       '--enlarge_small') == 11
  out = str(tmp_path / 'out')
  assert convert_images.main([str(src), out, '--enlarge_small']) == 0
  folder = os.path.join(out, BIN)
  records = _records(folder, TRAIN_FILES + ['test_batch.bin'])
  # Each pixel of the 16x16 image becomes a 2x2 block; a solid image stays
  # the solid colour.
  assert _record(0, pixels.repeat(2, axis=0).repeat(2, axis=1)) in records
  assert sorted(record[:2] for record in records
                if record[1:] == record[1:2] * 3072) == sorted(
                    bytes([label, 10 * label + index]) for label in (0, 1)
                    for index in range(5))


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which('setpriv'),
                    reason='root, and no setpriv to read as a user does')
def test_folders_that_cannot_be_read_are_said_so(tmp_path):
  # Before: an unreadable class folder "holds no files" (it may hold many),
  # and an unreadable subfolder's line lacked the "left out" of the others.
  from test_output import _AS_A_USER, _user_environment  # pylint: disable=g-import-not-at-top
  src = tmp_path / 'src'
  _class_folder(str(src), 4, names=('a', 'b', 'c'))
  sub = src / 'a' / 'sub'
  sub.mkdir()
  _save(str(sub / 'more.png'), np.zeros([32, 32, 3], np.uint8))

  def convert(out):
    return subprocess.run(
        _AS_A_USER + [sys.executable, '-m', 'cifar10.convert_images',
                      str(src), str(tmp_path / out)],
        capture_output=True, text=True, env=_user_environment(),
        timeout=DEADLINE_SECS)

  for folder in (sub, src / 'c'):
    folder.chmod(0o000)
  try:
    refused = convert('out')
    (src / 'c').chmod(0o755)  # "change its permissions".
    converted = convert('out2')
  finally:
    sub.chmod(0o755)
  assert refused.returncode == 1
  assert refused.stderr.splitlines()[-1] == (
      'error: Class folder %s cannot be read (Permission denied): change its '
      'permissions, or remove the folder if the class is not wanted.'
      % (src / 'c'))
  assert converted.returncode == 0, converted.stderr
  assert 'left out %s: cannot read the folder (Permission denied)' % sub in (
      converted.stdout.splitlines())
  shutil.rmtree(str(src / 'c'))  # "or remove the folder".
  assert convert('out3').returncode == 0
