"""Converts a folder of images, one subfolder per class, to CIFAR-10's format.

    python -m cifar10.convert_images my_images /tmp/my_data
    python -m cifar10.train --data_dir /tmp/my_data --train_dir /tmp/my_train

SRC is laid out as tf.keras's image_dataset_from_directory and torchvision's
ImageFolder expect, in one of two ways:

* SRC/train/<class>/ and SRC/test/<class>/, the same class folders in both:
  each split is converted as it is;
* SRC/<class>/: --test_fraction of each class's images, drawn at random
  under --seed, become the test split, the rest the training split.

The classes are the class folders sorted by name, as both conventions sort
them: the first is label 0. Every file below a class folder (subfolders
included; names starting with '.' left out) is read with Pillow: PNG, JPEG,
BMP or GIF, in any mode (grey, palette, RGBA, 16-bit). Each image is
stretched to 32x32, its aspect ratio not kept, with Pillow's BOX filter
(area averaging); cifar10.image_files says exactly how, and cifar10.predict
prepares the files it classifies the same way. Files that are not such
images, and images under 32 pixels on a side, are skipped, each named in
one line with the reason.

It writes OUT/cifar-10-batches-bin/, where the trainers and the evaluator
look for --data_dir OUT:

* data_batch_1.bin ... data_batch_5.bin: the training images in a random
  order (drawn under --seed), dealt out to five files in turn, since the
  trainers read exactly these five;
* test_batch.bin: the test images, in a random order too (the evaluator's
  --num_examples counts from the start);
* batches.meta.txt: the class names, one per line, in label order. Every
  script reads the number of classes (2 to 256) and their names from it.

Each record is CIFAR-10's: the label byte, then the red, green and blue
planes of 32x32 bytes. Images are decoded one at a time and their records
written as they come, into a temporary folder inside OUT that takes its
final name only when everything is written, so memory stays small on any
number of images, and a failed or interrupted run leaves nothing behind.
Existing batch files are never written over. On a large folder a progress
line comes every few seconds; at the end, a table of images per class and
split.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

from cifar10.support import errors
from cifar10.support import flags
from cifar10.support import script

TRAIN_SPLIT = 'train'
TEST_SPLIT = 'test'

# The share of each class's images that becomes the test split of a
# SRC/<class>/ folder, unless --test_fraction says otherwise.
DEFAULT_TEST_FRACTION = 0.2


def _fraction(text):
  """Reads a number strictly between 0 and 1, for argparse."""
  try:
    value = float(text)
  except ValueError:
    raise argparse.ArgumentTypeError('expected a number, got %r' % text)
  if not 0 < value < 1:
    raise argparse.ArgumentTypeError(
        'must be between 0 and 1 (exclusive), got %s' % text)
  return value


def parser():
  """The converter's flags: the source folder, the output folder, the split."""
  parser = flags.script_parser('cifar10.convert_images',
                               __doc__.splitlines()[0])
  parser.add_argument(
      'src', metavar='SRC',
      help='Folder of images: SRC/train/<class>/ and SRC/test/<class>/, or '
           'SRC/<class>/. Classes are the folder names, sorted. Each PNG, '
           'JPEG, BMP or GIF is stretched to 32x32 (its aspect ratio not '
           'kept) with Pillow\'s BOX filter, an average of the pixels under '
           'each output pixel.')
  parser.add_argument(
      'out', metavar='OUT',
      help='Folder to write cifar-10-batches-bin/ into: the --data_dir of the '
           'other scripts. Existing batch files there are never written over.')
  parser.add_argument(
      '--test_fraction', type=_fraction, default=None,
      help='For SRC/<class>/ folders: the share of each class\'s images, '
           'drawn at random, that becomes the test split (%s when not '
           'given). Not for SRC/train/ and SRC/test/, which are split '
           'already.' % DEFAULT_TEST_FRACTION)
  parser.add_argument(
      '--seed', type=int, default=0,
      help='Seed of the test split\'s draw and of the order of the records: '
           'the same SRC and seed write the same files.')
  return parser


# The flags come first, as in the original's scripts. `--help` is answered
# here, before the imports below load TensorFlow, which takes seconds.
script.start(__name__, parser)

import numpy as np

from cifar10.support import batch_files
from cifar10.support import classes
from cifar10.support import download
from cifar10.support import image_files

# Seconds between progress lines.
PROGRESS_SECS = 5.0


# ---------------------------------------------------------------------------
# Finding the classes and their images
# ---------------------------------------------------------------------------

def shown(path):
  """`path` as it can be printed, undecodable bytes written as escapes."""
  return path.encode('utf-8', 'surrogateescape').decode('utf-8',
                                                        'backslashreplace')


def _visible(folder):
  """The names in `folder` not starting with '.', sorted."""
  try:
    return sorted(name for name in os.listdir(folder)
                  if not name.startswith('.'))
  except OSError as error:
    raise errors.UserError('%s cannot be read (%s).' % (shown(folder),
                                                        error.strerror))


def _subfolders(folder):
  return [name for name in _visible(folder)
          if os.path.isdir(os.path.join(folder, name))]


def _check_class_names(names, where):
  """Raises UserError unless `names` can be the classes of a data set."""
  for name in names:
    try:
      name.encode('utf-8')
    except UnicodeEncodeError:
      raise errors.UserError(
          'Class folder %s: its name is not valid UTF-8, and the class names '
          'are written to %s as UTF-8 text. Rename the folder.'
          % (shown(os.path.join(where, name)), classes.META_FILE))
    if '\n' in name or '\r' in name:
      raise errors.UserError(
          'Class folder %r in %s: its name holds a line break, but %s holds '
          'one name per line. Rename the folder.'
          % (name, shown(where), classes.META_FILE))
  if len(names) < classes.MIN_CLASSES:
    raise errors.UserError(
        '%s holds %s, but a classifier needs %d classes at least: add a '
        'folder of images for each other class.'
        % (shown(where), 'only the class folder %s' % shown(names[0])
           if names else 'no class folders', classes.MIN_CLASSES))
  if len(names) > classes.MAX_CLASSES:
    raise errors.UserError(
        '%s holds %d class folders, but a label is one byte: %d classes at '
        'most. Merge classes, or convert a part of them.'
        % (shown(where), len(names), classes.MAX_CLASSES))


def _images_below(folder, unreadable):
  """Every visible file below `folder`, sorted, subfolders included.

  Args:
    folder: a class folder.
    unreadable: a list that receives a message for each subfolder that
      cannot be listed.

  Returns:
    A list of paths.
  """
  found = []

  def report(error):
    unreadable.append('%s: cannot read the folder (%s)'
                      % (shown(error.filename), error.strerror))

  for parent, folders, files in os.walk(folder, onerror=report):
    folders[:] = sorted(name for name in folders if not name.startswith('.'))
    found.extend(os.path.join(parent, name) for name in sorted(files)
                 if not name.startswith('.'))
  return found


def _class_images(split_folder, names, unreadable):
  """{class name: its image paths} for one split; refuses empty classes."""
  images = {}
  for name in names:
    folder = os.path.join(split_folder, name)
    images[name] = _images_below(folder, unreadable)
    if not images[name]:
      raise errors.UserError(
          'Class folder %s holds no files: put its images there, or remove '
          'the folder if the class is not wanted.' % shown(folder))
  return images


def find_images(src, test_fraction, seed):
  """Reads SRC's layout: the classes, and each split's (path, label) pairs.

  Args:
    src: the SRC folder.
    test_fraction: --test_fraction, or None when not given.
    seed: --seed.

  Returns:
    (class names sorted, {split: [(path, label)] in the order to write},
    notes): notes are lines about what was left out (loose files,
    unreadable subfolders, folders beside train/ and test/).

  Raises:
    errors.UserError: the layout is not one of the two, a class folder is
      empty or has an unusable name, there are fewer than 2 or more than 256
      classes, or a split would be empty.
  """
  if not os.path.isdir(src):
    raise errors.UserError(
        'SRC %s is not a folder. Give the folder holding one subfolder of '
        'images per class (or train/ and test/ holding those).' % shown(src))
  notes = []
  rng = np.random.default_rng(seed)
  top = _visible(src)
  if TRAIN_SPLIT in _subfolders(src):
    test_folder = os.path.join(src, TEST_SPLIT)
    if not os.path.isdir(test_folder):
      raise errors.UserError(
          '%s has a %s/ folder but no %s/ beside it. Add %s with the same '
          'class folders, or put the class folders directly in SRC to split '
          'them with --test_fraction.'
          % (shown(src), TRAIN_SPLIT, TEST_SPLIT, shown(test_folder)))
    if test_fraction is not None:
      raise errors.UserError(
          '--test_fraction draws a test split from SRC/<class>/ folders, but '
          '%s has its own %s/ and %s/: leave --test_fraction out.'
          % (shown(src), TRAIN_SPLIT, TEST_SPLIT))
    notes += ['left out %s: only %s/ and %s/ are converted'
              % (shown(os.path.join(src, name)), TRAIN_SPLIT, TEST_SPLIT)
              for name in top if name not in (TRAIN_SPLIT, TEST_SPLIT)]
    train_folder = os.path.join(src, TRAIN_SPLIT)
    names = _subfolders(train_folder)
    _check_class_names(names, train_folder)
    test_names = _subfolders(test_folder)
    if test_names != names:
      missing = sorted(set(names) ^ set(test_names))[0]
      raise errors.UserError(
          '%s and %s must hold the same class folders, but %s is in only '
          'one of them. Add the missing folder, or remove the extra one.'
          % (shown(train_folder), shown(test_folder), shown(missing)))
    unreadable = []
    split_images = {TRAIN_SPLIT: _class_images(train_folder, names,
                                               unreadable),
                    TEST_SPLIT: _class_images(test_folder, names, unreadable)}
  else:
    names = _subfolders(src)
    _check_class_names(names, src)
    notes += ['left out %s: not inside a class folder'
              % shown(os.path.join(src, name)) for name in top
              if name not in names]
    unreadable = []
    fraction = (DEFAULT_TEST_FRACTION if test_fraction is None
                else test_fraction)
    split_images = {TRAIN_SPLIT: {}, TEST_SPLIT: {}}
    for name, paths in _class_images(src, names, unreadable).items():
      drawn = [paths[index] for index in rng.permutation(len(paths))]
      test_count = int(round(fraction * len(paths)))
      split_images[TEST_SPLIT][name] = drawn[:test_count]
      split_images[TRAIN_SPLIT][name] = drawn[test_count:]
    if not any(split_images[TEST_SPLIT].values()):
      raise errors.UserError(
          '--test_fraction %s of %s leaves the test split empty (the largest '
          'class has %d images). Raise --test_fraction, or add images.'
          % (fraction, shown(src), max(len(paths) for paths in
                                       split_images[TRAIN_SPLIT].values())))
  notes += unreadable
  pairs = {}
  for split, by_class in split_images.items():
    listed = [(path, label) for label, name in enumerate(names)
              for path in by_class[name]]
    pairs[split] = [listed[index] for index in rng.permutation(len(listed))]
  train_files = len(batch_files.TRAIN_FILES)
  if len(pairs[TRAIN_SPLIT]) < train_files:
    lower = None if TRAIN_SPLIT in top else _fraction_that_fits(
        [len(split_images[TRAIN_SPLIT][name]) +
         len(split_images[TEST_SPLIT][name]) for name in names],
        fraction, train_files)
    raise errors.UserError(
        'The training split of %s would hold %d images, but the trainers read '
        '%d training files, each needing one image at least. Add images%s.'
        % (shown(src), len(pairs[TRAIN_SPLIT]), train_files,
           '' if lower is None else ', or lower --test_fraction to %s' % lower))
  return names, pairs, notes


def _fraction_that_fits(counts, fraction, train_files):
  """A --test_fraction below `fraction` that fills both splits, or None.

  The smallest useful fraction draws one test image from the largest class
  (each class gives round(fraction * its images)), so it leaves the most
  training images; when even that leaves fewer than `train_files`, no
  lower fraction helps, and advising one would lead to another refusal.
  """
  lower = float('%.2g' % (1.0 / max(counts)))
  test_count = sum(int(round(lower * count)) for count in counts)
  if (lower < fraction and test_count and
      sum(counts) - test_count >= train_files):
    return lower
  return None


# ---------------------------------------------------------------------------
# Writing the records
# ---------------------------------------------------------------------------

def output_folder(out, src):
  """The cifar-10-batches-bin/ folder to create in OUT, checked first.

  Raises:
    errors.UserError: OUT lies inside SRC, is a file, or its
      cifar-10-batches-bin/ already holds files.
  """
  folder = os.path.join(out, download.EXTRACTED_DIR)
  inside = os.path.relpath(os.path.realpath(out), os.path.realpath(src))
  if not (inside == os.pardir or inside.startswith(os.pardir + os.sep)):
    raise errors.UserError(
        'OUT %s lies inside SRC %s, where it would be read as images next '
        'time. Give an OUT folder outside SRC.' % (shown(out), shown(src)))
  if os.path.exists(out) and not os.path.isdir(out):
    raise errors.UserError('OUT %s is a file. Give a folder to write %s/ '
                           'into.' % (shown(out), download.EXTRACTED_DIR))
  if os.path.isdir(folder):
    held = _visible(folder)
    if held:
      batch_files = [name for name in held if name in (
          download.REQUIRED_FILES + (classes.META_FILE,))]
      raise errors.UserError(
          '%s already exists, and nothing is written over. Give another OUT '
          'folder (a new one), or move that data away first.'
          % shown(os.path.join(folder, (batch_files or held)[0])))
  elif os.path.exists(folder):
    raise errors.UserError('%s exists and is a file. Give another OUT folder.'
                           % shown(folder))
  return folder


def encode_record(label, image):
  """One record: the label byte, then `image`'s red, green and blue planes.

  Args:
    label: int, 0..255.
    image: [32, 32, 3] uint8.

  Returns:
    bytes, 3,073 of them.
  """
  return bytes([label]) + np.ascontiguousarray(
      image.transpose(2, 0, 1)).tobytes()


class _Progress:
  """Prints how far the conversion is, at most every PROGRESS_SECS."""

  def __init__(self, total, interval_secs):
    self._total = total
    self._interval = interval_secs
    self._start = self._last = time.monotonic()
    self.done = 0

  def step(self):
    self.done += 1
    now = time.monotonic()
    if now - self._last >= self._interval and self.done < self._total:
      self._last = now
      print('  %d of %d images (%.0f per second)'
            % (self.done, self._total, self.done / (now - self._start)),
            flush=True)


def _write_split(folder, file_names, pairs, counts, progress):
  """Decodes `pairs` in order and deals their records out to the files.

  Record k goes to file k mod len(file_names), so the files differ in size
  by one record at most, however many images are skipped.

  Args:
    folder: the temporary folder.
    file_names: the split's batch file names.
    pairs: (path, label) pairs in the order to write.
    counts: [classes] int array, incremented per image written.
    progress: a _Progress.

  Returns:
    The lines naming the skipped files.
  """
  skipped = []
  outs = [open(os.path.join(folder, name), 'wb') for name in file_names]
  try:
    for path, label in pairs:
      progress.step()
      try:
        picture = image_files.read_rgb(path)
      except errors.UserError as error:
        skipped.append(shown(str(error)))
        print('skipped %s' % skipped[-1], flush=True)
        continue
      if min(picture.size) < image_files.SIZE:
        skipped.append('%s: %dx%d pixels, smaller than %dx%d (enlarging it '
                       'would only blur it): use a larger picture'
                       % (shown(path), picture.size[0], picture.size[1],
                          image_files.SIZE, image_files.SIZE))
        print('skipped %s' % skipped[-1], flush=True)
        continue
      outs[int(counts.sum()) % len(outs)].write(
          encode_record(label, image_files.to_32x32(picture)))
      counts[label] += 1
  finally:
    for out in outs:
      out.close()
  return skipped


def _check_written(names, counts, where):
  """Raises UserError when skipped images left a file or a class empty."""
  if counts[TRAIN_SPLIT].sum() < len(batch_files.TRAIN_FILES):
    raise errors.UserError(
        'Only %d training images of %s could be used (see the skipped files '
        'above), but the trainers read %d training files, each needing one '
        'image at least; nothing was written. Fix or replace those files.'
        % (counts[TRAIN_SPLIT].sum(), shown(where),
           len(batch_files.TRAIN_FILES)))
  if not counts[TEST_SPLIT].sum():
    raise errors.UserError(
        'No test image of %s could be used (see the skipped files above), so '
        'nothing was written. Fix or replace those files.' % shown(where))
  for label, name in enumerate(names):
    if not counts[TRAIN_SPLIT][label]:
      raise errors.UserError(
          'Class %s has no usable training image (see the skipped files '
          'above), so nothing was written. Fix or replace its files.'
          % shown(name))


def convert(src, out, test_fraction=None, seed=0,
            progress_secs=PROGRESS_SECS):
  """Converts SRC's images into OUT/cifar-10-batches-bin/ (module docstring).

  Args:
    src: the SRC folder.
    out: the OUT folder (created if missing).
    test_fraction: --test_fraction, or None (DEFAULT_TEST_FRACTION, for a
      SRC/<class>/ layout).
    seed: --seed.
    progress_secs: seconds between progress lines.

  Returns:
    (the folder written, class names, {split: [per-class counts]}, skipped
    lines, notes).

  Raises:
    errors.UserError: see find_images and output_folder; also when skipped
      files leave a batch file or a class's training images empty. Nothing
      is then left in OUT.
  """
  final = output_folder(out, src)
  names, pairs, notes = find_images(src, test_fraction, seed)
  for note in notes:
    print(note, flush=True)
  created_out = not os.path.isdir(out)
  os.makedirs(out, exist_ok=True)
  staging = tempfile.mkdtemp(prefix='.%s.' % download.EXTRACTED_DIR,
                             suffix='.part', dir=out)
  try:
    progress = _Progress(sum(len(split) for split in pairs.values()),
                         progress_secs)
    counts, skipped = {}, []
    for split, file_names in ((TRAIN_SPLIT, batch_files.TRAIN_FILES),
                              (TEST_SPLIT, batch_files.TEST_FILES)):
      counts[split] = np.zeros(len(names), dtype=np.int64)
      skipped += _write_split(staging, file_names, pairs[split],
                              counts[split], progress)
    _check_written(names, counts, src)
    with open(os.path.join(staging, classes.META_FILE), 'wb') as meta:
      meta.write(classes.format_names(names))
    os.chmod(staging, 0o755)
    os.rename(staging, final)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    if created_out and not os.listdir(out):
      os.rmdir(out)
    raise
  return final, names, counts, skipped, notes


def _print_summary(src, final, names, counts, skipped):
  width = max(len(shown(name)) for name in names + ['total'])
  print('Converted %d images of %d classes from %s into %s:'
        % (sum(int(split.sum()) for split in counts.values()), len(names),
           shown(src), shown(final)))
  print('  %-*s  %7s  %7s' % (width, 'class', TRAIN_SPLIT, TEST_SPLIT))
  for label, name in enumerate(names):
    print('  %-*s  %7d  %7d' % (width, shown(name), counts[TRAIN_SPLIT][label],
                                counts[TEST_SPLIT][label]))
  print('  %-*s  %7d  %7d' % (width, 'total', counts[TRAIN_SPLIT].sum(),
                              counts[TEST_SPLIT].sum()))
  if skipped:
    print('Skipped %d files (each named above).' % len(skipped))


def main(argv=None):
  args = parser().parse_args(argv)
  try:
    final, names, counts, skipped, _ = convert(args.src, args.out,
                                               args.test_fraction, args.seed)
  except KeyboardInterrupt:
    print('Stopped by Ctrl-C: nothing was written to %s.' % shown(args.out),
          file=sys.stderr)
    return 130
  _print_summary(args.src, final, names, counts, skipped)
  return 0


if __name__ == '__main__':
  sys.exit(script.run(main))
