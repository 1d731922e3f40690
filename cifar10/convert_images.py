"""Converts a folder of images, one subfolder per class, to CIFAR-10's format.

    python -m cifar10.convert_images my_images /tmp/my_data
    python -m cifar10.train --data_dir /tmp/my_data --train_dir /tmp/my_train

SRC is laid out as tf.keras's image_dataset_from_directory and torchvision's
ImageFolder expect, in one of two ways:

* SRC/train/<class>/ and SRC/test/<class>/, the same class folders in both:
  each split is converted as it is;
* SRC/<class>/: --test_fraction of each class's images, drawn at random
  under --seed, become the test split, the rest the training split. The
  draw counts only the images that could be read (a skipped file takes no
  place in it), and keeps copies together (below).

Only train/ and test/ side by side make the first layout: a folder named
train among other class folders (CIFAR-100 has that class) is a class.
Class folders that are all named like splits (training_set/ and test_set/,
train/ and val/, ...) are refused, naming the renames to train/ and test/.

The classes are the class folders sorted by name, as both conventions sort
them: the first is label 0. Each name is one line of batches.meta.txt, so
a name that is blank or holds a line break is refused
(classes.name_problem). Every regular file below a class folder
(subfolders included, linked ones too; names starting with '.' left out)
is read with Pillow: PNG, JPEG, BMP or GIF, in any mode (grey, palette,
RGBA, 16-bit). Each image is stretched to 32x32, its aspect ratio not
kept, with Pillow's BOX filter (area averaging); cifar10.image_files says
exactly how, and cifar10.predict prepares the files it classifies the same
way. Files that are not such images, and images under 32 pixels on a side
(unless --enlarge_small), are skipped, each named in one line with the
reason; what lies where no image is read (beside the class folders, a
named pipe, a folder reached twice through links, from one class folder
or two) is named in a "left out" line.

Copies are found: files with the same bytes, or with the same pixels once
decoded, at full size (one picture saved as PNG and as BMP). A copy on
each side of the split would let the test score an image the network
trained on, so the draw keeps each group of copies in one split; in
SRC/train/ and SRC/test/, which are the user's choice and stay as they
are, a group lying in both gets a warning. Pictures that only look alike
(resized, cropped, compressed again) are not copies here.
cifar10.support.image_splits says how they are found and drawn.

It writes OUT/cifar-10-batches-bin/, where the trainers and the evaluator
look for --data_dir OUT:

* data_batch_1.bin ... data_batch_5.bin: the training images in a random
  order (drawn under --seed), dealt out to five files in turn, since the
  trainers read exactly these five;
* test_batch.bin: the test images, in a random order too (the evaluator's
  --num_examples counts from the start);
* batches.meta.txt: the class names, one per line, in label order. Every
  script reads the number of classes (2 to 256) and their names from it.
* split.csv: which file went to which split, one line per image written
  after the header `path,class,split,copy_of`: its path relative to SRC,
  its class, `train` or `test`, and, for a copy, the path of the first file
  in SRC holding the same picture (else nothing). The lines follow the
  records: the training images' first (line k's record is record k // 5 of
  data_batch_(k mod 5 + 1).bin, counting from 0), then test_batch.bin's in
  order.

Each record is CIFAR-10's: the label byte, then the red, green and blue
planes of 32x32 bytes. Images are decoded one at a time (each distinct
picture's planes wait in a scratch file until the split is drawn), and the
files are written into a temporary folder inside OUT that takes its final
name only when all are written, so memory stays small on any number of
images, and a failed or interrupted run (Ctrl-C, SIGTERM) leaves nothing
behind. No file already in OUT's cifar-10-batches-bin/ is ever written
over. On a large folder a progress line comes every few seconds; at the
end, a table of images per class and split, and the groups of copies
found.
"""

import argparse
import collections
import functools
import itertools
import os
import shutil
import sys
import tempfile
import time

from cifar10.support import download
from cifar10.support import errors
from cifar10.support import data_sets
from cifar10.support import flags
from cifar10.support import paths
from cifar10.support import script
from cifar10.support import storage

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


def _local_folder(text):
  """Reads SRC or OUT, for argparse: a local folder.

  The converter walks SRC and writes OUT with Python's own file functions,
  which keep file names that are not valid UTF-8 (TensorFlow's file layer,
  which the other scripts use for URLs, cannot encode them).
  """
  if storage.scheme(text):
    raise argparse.ArgumentTypeError(
        '%s is a URL, but the converter reads and writes local folders '
        'only. Convert into a local folder, then copy its %s/ to the URL '
        '(the other scripts read data there).' % (text,
                                                  download.EXTRACTED_DIR))
  return text


def parser():
  """The converter's flags: the source folder, the output folder, the split."""
  parser = flags.script_parser('cifar10.convert_images',
                               __doc__.splitlines()[0])
  parser.add_argument(
      'src', metavar='SRC', type=flags.non_empty_path(_local_folder),
      help='Folder of images: SRC/train/<class>/ and SRC/test/<class>/, or '
           'SRC/<class>/. Classes are the folder names, sorted. Each PNG, '
           'JPEG, BMP or GIF is stretched to 32x32 (its aspect ratio not '
           'kept) with Pillow\'s BOX filter, an average of the pixels under '
           'each output pixel.')
  parser.add_argument(
      'out', metavar='OUT', type=flags.non_empty_path(_local_folder),
      help='Folder to write cifar-10-batches-bin/ into: the --data_dir of the '
           'other scripts. Existing batch files there are never written over.')
  parser.add_argument(
      '--test_fraction', type=_fraction, default=None,
      help='For SRC/<class>/ folders: the share of each class\'s images, '
           'drawn at random, that becomes the test split (%s when not '
           'given). Not for SRC/train/ and SRC/test/, which are split '
           'already.' % DEFAULT_TEST_FRACTION)
  parser.add_argument(
      '--seed', type=flags.non_negative_int, default=0,
      help='Seed of the test split\'s draw and of the order of the records: '
           'the same SRC and seed write the same files.')
  flags.add_bool(
      parser, 'enlarge_small',
      help_text='Stretch images under 32 pixels on a side up to 32x32 with '
                'the same BOX filter, instead of skipping them: for data '
                'sets of small pictures (MNIST\'s are 28x28), which come out '
                'slightly blurred.')
  return parser


# The flags come first, as in the original's scripts. `--help` is answered
# here, before the imports below load TensorFlow, which takes seconds.
script.start(__name__, parser)

import numpy as np

from cifar10.support import batch_files
from cifar10.support import classes
from cifar10.support import console
from cifar10.support import image_files
from cifar10.support import image_splits

# Seconds between progress lines.
PROGRESS_SECS = 5.0


# ---------------------------------------------------------------------------
# Finding the classes and their images
# ---------------------------------------------------------------------------

shown = storage.printable


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


_NOT_IN_A_CLASS = 'not inside a class folder'


def _left_out(folder, kept, why):
  """A 'left out' line for each visible name in `folder` but those `kept`.

  Both layouts name in this way what lies where no image is read: beside
  the class folders (in SRC, or in SRC/train/ and SRC/test/) and beside
  train/ and test/.
  """
  return ['left out %s: %s' % (shown(os.path.join(folder, name)), why)
          for name in _visible(folder) if name not in kept]


# Folder names that data sets use for their splits (compared in lower case,
# '-' and ' ' read as '_'). Only train/ and test/ side by side are taken as
# the two splits; the others, alone in SRC, would become classes named
# like splits, which _check_not_splits refuses.
_TRAINING_NAMES = ('train', 'training', 'train_set', 'training_set',
                   'trainset', 'train_data', 'training_data')
_TEST_NAMES = ('test', 'testing', 'test_set', 'testing_set', 'testset',
               'test_data')
_VALIDATION_NAMES = ('val', 'valid', 'validation', 'val_set', 'valid_set',
                     'validation_set', 'valset', 'val_data',
                     'validation_data')


def _split_kind(name):
  """Which of the tuples of split names above holds `name`, or None."""
  key = name.lower().replace('-', '_').replace(' ', '_')
  return next((kind for kind in (_TRAINING_NAMES, _TEST_NAMES,
                                 _VALIDATION_NAMES) if key in kind), None)


def _split_root(folder):
  """The folder inside `folder` that holds a split's class folders.

  Some downloads wrap each split in a folder of the same name
  (training_set/training_set/cats/): the folder to rename is the inner one.
  """
  inner = _subfolders(folder)
  while len(inner) == 1 and _split_kind(inner[0]):
    folder = os.path.join(folder, inner[0])
    inner = _subfolders(folder)
  return folder


def _check_not_splits(src, names):
  """Refuses class folders that are all named like splits (training_set...).

  Converted as they are, they would make a classifier of "training" against
  "test" pictures: every number after it would mean nothing, and a line
  among the others is easily missed. The way out is the layout that is
  read as splits, train/ and test/ side by side, so the message names the
  renames that make it: the training folder to train, the test folder (a
  validation folder where there is none) to test. A folder emptied by the
  renames is then left out, as what lies beside train/ and test/ is.
  """
  kinds = [_split_kind(name) for name in names]
  if len(names) < classes.MIN_CLASSES or None in kinds:
    return
  training = [name for name, kind in zip(names, kinds)
              if kind is _TRAINING_NAMES]
  held_out = ([name for name, kind in zip(names, kinds) if kind is _TEST_NAMES]
              or [name for name, kind in zip(names, kinds)
                  if kind is _VALIDATION_NAMES])
  if len(training) == 1 and len(held_out) == 1:
    renames = ' and '.join(
        '%s to %s' % (shown(folder), shown(os.path.join(src, split)))
        for folder, split in (
            (_split_root(os.path.join(src, training[0])), TRAIN_SPLIT),
            (_split_root(os.path.join(src, held_out[0])), TEST_SPLIT))
        if folder != os.path.join(src, split))
  else:
    renames = ('the folder of your training images to %s and that of your '
               'test images to %s' % (shown(os.path.join(src, TRAIN_SPLIT)),
                                      shown(os.path.join(src, TEST_SPLIT))))
  raise errors.UserError(
      '%s holds only folders named like splits (%s), which would be '
      'converted as classes of those names. Rename %s, the two splits the '
      'converter reads, then convert again.'
      % (shown(src), ', '.join(shown(name) for name in names), renames))


def _check_not_converted(src, names):
  """Refuses a SRC that holds a data set in CIFAR's formats, not pictures.

  Alone in SRC, such a folder (cifar-10-batches-bin/, written by this
  converter, cifar10.synthetic or the download) means SRC is converted
  already: it is a --data_dir, and reading it as one class would only end
  in "a classifier needs 2 classes". Beside class folders it is no class
  either, and would be refused as one without usable images; moved out, it
  is a --data_dir of its own. SRC/train/ and SRC/test/ leave out what lies
  beside them (_left_out), so this is for SRC/<class>/ folders only.

  Args:
    src: the SRC folder.
    names: its subfolders.
  """
  known = [name for name in names if name in data_sets.KNOWN_FOLDERS]
  if (not names and os.path.basename(os.path.abspath(src)) ==
      download.EXTRACTED_DIR and any(
          os.path.isfile(os.path.join(src, name))
          for name in download.REQUIRED_FILES)):
    parent = os.path.dirname(os.path.abspath(src))
    raise errors.UserError(
        'SRC %s is the batch files\' folder of a converted data set, not a '
        'folder of images: give its parent to the trainer as %s.'
        % (shown(src), paths.flag_value('--data_dir', shown(parent))))
  if not known:
    return
  if known == names:
    raise errors.UserError(
        'SRC %s is a converted data set already (it holds %s), not a folder '
        'of images: give it to the trainer as %s.'
        % (shown(src), paths.listed_folders(known),
           paths.flag_value('--data_dir', shown(src))))
  data_dir = paths.new_folder_beside(src, '_data', os.path.exists)
  raise errors.UserError(
      'SRC %s holds %s, a converted data set, beside its class folders: it '
      'is no class of images. Move it out of SRC (mkdir %s && mv %s %s/), '
      'then convert again; it is then a --data_dir of its own, %s.'
      % (shown(src), paths.listed_folders(known),
         paths.for_shell(shown(data_dir)),
         ' '.join(paths.for_shell(shown(os.path.join(src, name)))
                  for name in known),
         paths.for_shell(shown(data_dir)), paths.for_shell(shown(data_dir))))


def _check_class_names(names, where):
  """Raises UserError unless `names` can be the classes of a data set."""
  for name in names:
    try:
      problem = classes.name_problem(_class_name(name))
    except UnicodeDecodeError:
      raise errors.UserError(
          'Class folder %s: its name is not valid UTF-8, and the class names '
          'are written to %s as UTF-8 text. Rename the folder.'
          % (shown(os.path.join(where, name)), classes.META_FILE))
    if problem:  # batches.meta.txt could not be read back.
      raise errors.UserError('Class folder %r in %s: its name %s. Rename the '
                             'folder.' % (name, shown(where), problem))
  if len(names) < classes.MIN_CLASSES:
    # Pictures lying in it directly are in no class: left so, a converted
    # data set would quietly lack them.
    loose = paths.picture_files(where, files=paths.LocalFiles())
    raise errors.UserError(
        '%s holds %s, but a classifier needs %d classes at least: add a '
        'folder of images for each %sclass.%s'
        % (shown(where), 'only the class folder %s' % shown(names[0])
           if names else 'no class folders', classes.MIN_CLASSES,
           # Other than the one it holds, or than its loose pictures'.
           'other ' if names or loose else '',
           ' The %d pictures directly in it (%s) are in no class: move them '
           'into a folder of their class inside it, such as %s.' % (
               len(loose), shown(paths.listed(loose)),
               paths.for_shell(shown(os.path.join(
                   where, os.path.basename(os.path.abspath(where))))))
           if loose else ''))
  if len(names) > classes.MAX_CLASSES:
    raise errors.UserError(
        '%s holds %d class folders, but a label is one byte: %d classes at '
        'most. Merge classes, or convert a part of them.'
        % (shown(where), len(names), classes.MAX_CLASSES))


def _class_name(folder_name):
  """The class a folder names: the bytes of its name, read as UTF-8.

  Where the file system encoding is not UTF-8 (LC_ALL=C), Python lists a
  folder named 猫 as escapes of its bytes; read as UTF-8, they are the name
  again. Elsewhere the name is returned as it is.

  Raises:
    UnicodeDecodeError: the name's bytes are not UTF-8.
  """
  return folder_name.encode('utf-8', 'surrogateescape').decode('utf-8')


def _images_below(folder, notes, read):
  """Every visible regular file below `folder`, sorted, subfolders included.

  Linked subfolders are followed, as linked files are read and as a linked
  class folder is: people gather a data set with links rather than copies.
  A link to a folder that holds the class folder (SRC, say) is left out,
  and so is a folder reached a second time (two links to one folder): the
  walk would loop, or read other classes' images or some images twice.
  A folder that another class folder reaches first (linked from two
  classes, or from train/ and test/) stays with that one: an image has one
  class and one split.

  Args:
    folder: a class folder.
    notes: a list that receives a line for each subfolder that cannot be
      listed or is read already, and each file that is not a regular file.
    read: {real path: (the path it was reached by, its class folder)} of
      the folders read so far, for every class folder of both splits;
      `folder` and its subfolders are added.

  Returns:
    A list of paths.

  Raises:
    errors.UserError: `folder` itself cannot be listed.
  """
  found = []
  top = os.path.realpath(folder)
  read.setdefault(top, (folder, folder))

  def report(error):
    if error.filename == folder:
      # Said as "holds no files", the user would look for lost images.
      raise errors.UserError(
          'Class folder %s cannot be read (%s): change its permissions, or '
          'remove the folder if the class is not wanted.'
          % (shown(folder), error.strerror))
    notes.append('left out %s: cannot read the folder (%s)'
                 % (shown(error.filename), error.strerror))

  for parent, folders, files in os.walk(folder, onerror=report,
                                        followlinks=True):
    kept = []
    for name in sorted(name for name in folders if not name.startswith('.')):
      path = os.path.join(parent, name)
      real = os.path.realpath(path)
      if real in read and read[real][1] == folder:
        notes.append('left out %s: the same folder as %s, read already'
                     % (shown(path), shown(read[real][0])))
      elif real in read:
        first, owner = read[real]
        notes.append('left out %s: %s, which class %s reads (as %s)'
                     % (shown(path), 'a link to %s' % shown(real)
                        if os.path.islink(path) else 'a folder',
                        shown(_class_name(os.path.basename(owner))),
                        shown(first)))
      elif os.path.commonpath([real, top]) == real:
        notes.append('left out %s: a link to %s, which holds the class '
                     'folder' % (shown(path), shown(real)))
      else:
        read[real] = (path, folder)
        kept.append(name)
    folders[:] = kept
    for name in sorted(name for name in files if not name.startswith('.')):
      path = os.path.join(parent, name)
      kind = storage.not_regular(path)
      if kind:
        notes.append('left out %s: %s, not a regular file' % (shown(path),
                                                             kind))
      else:
        found.append(path)
  return found


def _check_not_written_by_a_tool(parent, names):
  """Refuses a class folder that a trainer, an evaluator or cifar10.export
  wrote (an --export_dir given inside SRC, say).

  Read as a class, its files would be skipped one by one as no images, and
  the class refused for want of them, with advice to fix files that are
  not the user's to fix. What it needs is to be elsewhere: a folder beside
  the class folders' own (SRC, or SRC/train/ whose neighbours are left
  out), named after both, is offered.

  Args:
    parent: SRC, SRC/train/ or SRC/test/.
    names: its subfolders, the class folders.
  """
  for name in names:
    folder = os.path.join(parent, name)
    what = paths.written_by_a_tool(folder, paths.LocalFiles)
    if not what:
      continue
    elsewhere = paths.new_folder_beside(parent, '_' + name, os.path.exists)
    raise errors.UserError(
        '%s is %s, not a class folder of images. Move it away from the class '
        'folders (mv %s %s), then convert again.'
        % (shown(folder), what, paths.for_shell(shown(folder)),
           paths.for_shell(shown(elsewhere))))


def _class_images(split_folder, names, notes, read):
  """{class name: its image paths} for one split; refuses empty classes.

  `read` is _images_below's, shared by the class folders of both splits.
  """
  images = {}
  for name in names:
    folder = os.path.join(split_folder, name)
    images[name] = _images_below(folder, notes, read)
    if not images[name]:
      raise errors.UserError(
          'Class folder %s holds no files: put its images there, or remove '
          'the folder if the class is not wanted.' % shown(folder))
  return images


def _drawn_share(test_fraction):
  """The share of each class drawn into the test split of SRC/<class>/."""
  return DEFAULT_TEST_FRACTION if test_fraction is None else test_fraction


def find_images(src, test_fraction):
  """Reads SRC's layout: the classes, and their image files.

  Args:
    src: the SRC folder.
    test_fraction: --test_fraction, or None when not given.

  Returns:
    (class names sorted, [(path, label, split)] class by class, notes):
    split is TRAIN_SPLIT or TEST_SPLIT under SRC/train/ and SRC/test/, and
    None in SRC/<class>/ folders, whose split is drawn once the images are
    read (so that files that cannot be used take no place in it). Notes
    are lines about what was left out (loose files, files that are not
    regular files, unreadable subfolders or ones read already, folders
    beside train/ and test/).

  Raises:
    errors.UserError: the layout is not one of the two, the class folders
      are all named like splits, a class folder is empty or has an
      unusable name, there are fewer than 2 or more than 256
      classes, or a split would be empty.
  """
  if not os.path.isdir(src):
    raise errors.UserError(
        'SRC %s is not a folder. Give the folder holding one subfolder of '
        'images per class (or train/ and test/ holding those).' % shown(src))
  notes = []
  subfolders = _subfolders(src)
  test_folder = os.path.join(src, TEST_SPLIT)
  if subfolders == [TRAIN_SPLIT]:
    raise errors.UserError(
        '%s has a %s/ folder but no %s/ beside it. Add %s with the same '
        'class folders, or put the class folders directly in SRC to split '
        'them with --test_fraction.'
        % (shown(src), TRAIN_SPLIT, TEST_SPLIT, shown(test_folder)))
  # train/ and test/ side by side are the two splits; either one among
  # other class folders is a class (CIFAR-100 has one named train).
  split_layout = TRAIN_SPLIT in subfolders and TEST_SPLIT in subfolders
  if split_layout:
    if test_fraction is not None:
      raise errors.UserError(
          '--test_fraction draws a test split from SRC/<class>/ folders, but '
          '%s has its own %s/ and %s/: leave --test_fraction out.'
          % (shown(src), TRAIN_SPLIT, TEST_SPLIT))
    notes += _left_out(src, (TRAIN_SPLIT, TEST_SPLIT), 'only %s/ and %s/ are '
                       'converted' % (TRAIN_SPLIT, TEST_SPLIT))
    train_folder = os.path.join(src, TRAIN_SPLIT)
    names = _subfolders(train_folder)
    test_names = _subfolders(test_folder)
    _check_not_written_by_a_tool(train_folder, names)
    _check_not_written_by_a_tool(test_folder, test_names)
    _check_class_names(names, train_folder)
    if test_names != names:
      missing = sorted(set(names) ^ set(test_names))[0]
      raise errors.UserError(
          '%s and %s must hold the same class folders, but %s is in only '
          'one of them. Add the missing folder, or remove the extra one.'
          % (shown(train_folder), shown(test_folder), shown(missing)))
    sources, read = [], {}
    for split, folder in ((TRAIN_SPLIT, train_folder),
                          (TEST_SPLIT, test_folder)):
      notes += _left_out(folder, names, _NOT_IN_A_CLASS)
      for label, found in enumerate(
          _class_images(folder, names, notes, read).values()):
        sources += [(path, label, split) for path in found]
    training = sum(split == TRAIN_SPLIT for _, _, split in sources)
  else:
    names = subfolders
    _check_not_converted(src, names)
    _check_not_splits(src, names)
    _check_not_written_by_a_tool(src, names)
    _check_class_names(names, src)
    notes += _left_out(src, names, _NOT_IN_A_CLASS)
    fraction = _drawn_share(test_fraction)
    by_class = list(_class_images(src, names, notes, {}).values())
    sizes = [len(found) for found in by_class]
    # The shares as the draw will take them, were every file an image: a
    # refusal here comes before any image is decoded.
    if not any(round(fraction * size) for size in sizes):
      # Only a fraction that also leaves the training files filled is
      # offered: with few images, none is, and raising it would only lead
      # to the refusal below.
      higher = min((each for each in _ADVISED_FRACTIONS
                    if each > fraction and _splits_both(each, sizes)),
                   default=None)
      largest = max(sizes)
      raise errors.UserError(
          '--test_fraction %s of %s leaves the test split empty (the largest '
          'class has %d image%s). Add images%s.'
          % (fraction, shown(src), largest, '' if largest == 1 else 's',
             '' if higher is None else
             ', or raise --test_fraction to %s' % higher))
    sources = [(path, label, None) for label, found in enumerate(by_class)
               for path in found]
    training = sum(size - round(fraction * size) for size in sizes)
  train_files = len(batch_files.TRAIN_FILES)
  if training < train_files:
    lower = None if split_layout else _fraction_that_fits(
        sizes, fraction, train_files)
    raise errors.UserError(
        'The training split of %s would hold %d image%s, but the trainers '
        'read %d training files, each needing one image at least. Add '
        'images%s.' % (shown(src), training, '' if training == 1 else 's',
                       train_files, _lower_advice(lower)))
  return [_class_name(name) for name in names], sources, notes


def _lower_advice(lower):
  """The end of a refusal that a lower --test_fraction, `lower`, would
  avoid ('' where None would)."""
  return '' if lower is None else ', or lower --test_fraction to %s' % lower


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
    errors.UserError: OUT lies inside SRC, is a file, is another tool's
      folder (paths.check_data_destination), or its cifar-10-batches-bin/
      already holds files.
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
  # A run's, an evaluation's, an exported model's or one's own pictures'
  # folder would then pass for a data set's.
  paths.check_data_destination(out, 'OUT', paths.LocalFiles)
  if os.path.isdir(folder):
    # Hidden files count too (a .DS_Store): the finished folder is renamed
    # into place, which a folder holding anything refuses.
    held = _visible(folder) or sorted(os.listdir(folder))
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


def encode_planes(image):
  """`image`'s red, green and blue planes of 32x32 bytes: a record's pixels.

  Args:
    image: [32, 32, 3] uint8.

  Returns:
    bytes, 3,072 of them.
  """
  return np.ascontiguousarray(image.transpose(2, 0, 1)).tobytes()


def encode_record(label, planes):
  """One record: the label byte, then an image's planes (encode_planes).

  Args:
    label: int, 0..255.
    planes: bytes, 3,072 of them.

  Returns:
    bytes, 3,073 of them.
  """
  return bytes([label]) + planes


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


# An image read: its file, its label, its split (None until drawn, for
# SRC/<class>/) and its picture's number, which copies share and which
# indexes its planes in the scratch file.
_Image = collections.namedtuple('_Image', ['path', 'label', 'split',
                                           'picture'])


def _read_images(sources, scratch, progress, enlarge_small):
  """Decodes each file once, keeping each distinct picture's planes.

  Args:
    sources: (path, label, split) of each file, as find_images lists them.
    scratch: a binary file that receives the planes of each new picture,
      in the order of the pictures' numbers.
    progress: a _Progress.
    enlarge_small: --enlarge_small: stretch images under 32x32 up rather
      than skip them.

  Returns:
    ([_Image] of the images read, in the order of `sources`; the lines
    naming the skipped files).
  """
  # A file decoded again, to compare its pixels, has had its lines.
  identical = image_splits.IdenticalImages(
      functools.partial(image_files.read_rgb, warn=None))
  read, skipped = [], []

  def skip(line):
    skipped.append(line)
    print('skipped %s' % line, flush=True)

  for path, label, split in sources:
    progress.step()
    digest = image_splits.file_digest(path)
    picture = identical.of_bytes(digest)  # A copy needs no decoding.
    if picture is None:
      try:
        decoded = image_files.read_rgb(path)
      except errors.UserError as error:
        skip(shown(str(error)))
        continue
      if min(decoded.size) < image_files.SIZE and not enlarge_small:
        skip('%s: %dx%d pixels, under %d on a side: use a larger picture, '
             'or convert again with --enlarge_small to stretch it up (a '
             'little blurred)' % (shown(path), decoded.size[0],
                                  decoded.size[1], image_files.SIZE))
        continue
      planes = encode_planes(image_files.to_32x32(decoded))
      picture, new = identical.of_pixels(path, digest, decoded, planes)
      if new:
        scratch.write(planes)
    read.append(_Image(path, label, split, picture))
  return read, skipped


def _place(read, class_count, test_fraction, rng):
  """The images read, each in its split: SRC's own, else drawn.

  The draw (image_splits.draw_test_split) counts only the images read, and
  keeps each group of copies in one split.
  """
  if not any(image.split is None for image in read):
    return read
  in_test = image_splits.draw_test_split(
      [image.label for image in read], [image.picture for image in read],
      class_count, _drawn_share(test_fraction), rng)
  return [image._replace(split=TEST_SPLIT if test else TRAIN_SPLIT)
          for image, test in zip(read, in_test)]


def _copies(placed, src):
  """[(path relative to SRC, split)] of each picture that several files hold."""
  files = {}
  for image in placed:
    files.setdefault(image.picture, []).append(
        (os.path.relpath(image.path, src), image.split))
  return [group for group in files.values() if len(group) > 1]


def _manifest_rows(placed, ordered, names, src):
  """The rows of image_splits.write_manifest, in the order of the records.

  Args:
    placed: the _Images in SRC's order.
    ordered: {split: its _Images in the order written}.
    names: the class names.
    src: the SRC folder, which the paths are made relative to.

  Returns:
    (path, class, split, copy_of) of each image, the training files' first
    (dealt out as _write_split says), then the test file's. copy_of is the
    path of the first file in SRC holding the same picture, or '' for that
    first file and for pictures held by one file.
  """
  first = {}
  for image in placed:
    first.setdefault(image.picture, image.path)
  return [(os.path.relpath(image.path, src), names[image.label], image.split,
           '' if first[image.picture] == image.path
           else os.path.relpath(first[image.picture], src))
          for split in (TRAIN_SPLIT, TEST_SPLIT) for image in ordered[split]]


def _write_split(folder, file_names, images, scratch):
  """Writes `images` in order, dealing their records out to the files.

  Record k goes to file k mod len(file_names), so the files differ in size
  by one record at most.

  Args:
    folder: the temporary folder.
    file_names: the split's batch file names.
    images: the split's _Images, in the order to write.
    scratch: the file of the pictures' planes (_read_images).
  """
  outs = [open(os.path.join(folder, name), 'xb') for name in file_names]
  try:
    for index, image in enumerate(images):
      scratch.seek(image.picture * batch_files.IMAGE_BYTES)
      outs[index % len(outs)].write(encode_record(
          image.label, scratch.read(batch_files.IMAGE_BYTES)))
  finally:
    for out in outs:
      out.close()


def _check_written(names, counts, where, fraction, any_skipped):
  """Raises UserError when skipped images (or the draw, at `fraction`, None
  for SRC/train/ and SRC/test/) left a file or a class empty.

  `any_skipped` says whether files were skipped; where none were, an empty
  test split after a draw comes from copies (the counts of files were
  checked before the draw), which the draw keeps in one split.
  """
  if not counts[TEST_SPLIT].sum() and fraction is not None and not any_skipped:
    raise errors.UserError(
        'No image of %s went into the test split: the images of each class '
        'are copies of a few pictures (the same bytes, or the same pixels '
        'once decoded), and the draw keeps each group of copies in one '
        'split, which left the test split none at --test_fraction %s; '
        'nothing was written. Add other pictures to the class folders.'
        % (shown(where), fraction))
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
    if (fraction is not None and not counts[TRAIN_SPLIT][label] and
        counts[TEST_SPLIT][label]):
      # The draw put every image of the class in the test split.
      count = int(counts[TEST_SPLIT][label])
      enough = next(total for total in itertools.count(count + 1)
                    if np.round(fraction * total) < total)
      raise errors.UserError(
          'Class %s has %d image%s, and --test_fraction %s draws %s into the '
          'test split, leaving none to train on; nothing was written. Add '
          'images to %s (%d in all at least)%s.'
          % (shown(name), count, '' if count == 1 else 's', fraction,
             'it' if count == 1 else 'all of them',
             shown(os.path.join(where, name)), enough,
             _lower_advice(_fraction_that_splits(counts, below=fraction))))
    if not counts[TRAIN_SPLIT][label]:
      raise errors.UserError(
          'Class %s has no usable training image (see the skipped files '
          'above), so nothing was written. Fix or replace its files.'
          % shown(name))


def _splits_both(fraction, sizes):
  """Whether the draw at `fraction` leaves every class a training image,
  the test split an image, and the training split one per file."""
  tests = [int(np.round(fraction * size)) for size in sizes]
  return (all(test < size for test, size in zip(tests, sizes) if size) and
          sum(tests) > 0 and
          sum(sizes) - sum(tests) >= len(batch_files.TRAIN_FILES))


# The --test_fractions the converter's advice chooses from: 0.05 to 0.95.
_ADVISED_FRACTIONS = [step / 20 for step in range(1, 20)]


def _fraction_that_splits(counts, below=None, above=None, size=None):
  """The --test_fraction nearest to `below` (under it) or `above` (over
  it) that the draw would make work, or None.

  It works where _splits_both holds for the classes' images as read
  (`counts`, {split: images of each class}), and, given `size`, a class
  of that many images gets a test image too. Advice of a fraction that
  does not work would lead to another refusal or the same notice.
  """
  sizes = [int(train + test) for train, test in zip(counts[TRAIN_SPLIT],
                                                     counts[TEST_SPLIT])]
  fitting = [fraction for fraction in _ADVISED_FRACTIONS
             if _splits_both(fraction, sizes) and
             (size is None or np.round(fraction * size) >= 1)]
  if below is not None:
    return max((f for f in fitting if f < below), default=None)
  return min((f for f in fitting if f > above), default=None)


def _notice_classes_without_test_images(names, counts, fraction, where):
  """A notice for each class that has no test image.

  The evaluator would score such a class on nothing: its line in the
  report says 0 images. The draw gives a class of n images round(fraction
  * n) test images, none for a class of 2 at 0.2; a group of copies too
  large for that share stays in training; in SRC/train/ and SRC/test/, the
  test files may all have been skipped.

  Args:
    names: the class names.
    counts: {split: images of each class}.
    fraction: the share drawn (_drawn_share), or None for SRC/train/ and
      SRC/test/.
    where: SRC.
  """
  for label, name in enumerate(names):
    if counts[TEST_SPLIT][label]:
      continue
    size = int(counts[TRAIN_SPLIT][label])
    folder = shown(os.path.join(where, name))
    if fraction is None:
      errors.notice(
          'class %s has no usable test image (see the skipped files above), '
          'so the evaluator scores none of it. Replace or fix the files in '
          '%s.' % (shown(name), shown(os.path.join(where, TEST_SPLIT, name))))
    elif np.round(fraction * size) < 1:
      enough = next(count for count in itertools.count(size + 1)
                    if np.round(fraction * count) >= 1)
      higher = _fraction_that_splits(counts, above=fraction, size=size)
      errors.notice(
          'class %s has %d image%s, too few for --test_fraction %s to draw '
          'one into the test split, so the evaluator scores none of it. Add '
          'images to %s (%d in all at least)%s.'
          % (shown(name), size, '' if size == 1 else 's', fraction, folder,
             enough, '' if higher is None else
             ', or convert again with --test_fraction %s' % higher))
    else:
      errors.notice(
          'class %s has no test image: its %d images are copies of a few '
          'pictures, and each group of copies stays in one split (see the '
          'identical images below), so the evaluator scores none of it. Add '
          'other pictures to %s.' % (shown(name), size, folder))


# What convert returns: the folder written; the class names; {split: [images
# of each class]}; the lines naming the skipped files; the lines about what
# was left out; and the groups of copies, [(path relative to SRC, split)]
# each.
Conversion = collections.namedtuple(
    'Conversion', ['folder', 'names', 'counts', 'skipped', 'notes', 'copies'])


def convert(src, out, test_fraction=None, seed=0,
            progress_secs=PROGRESS_SECS, enlarge_small=False):
  """Converts SRC's images into OUT/cifar-10-batches-bin/ (module docstring).

  Args:
    src: the SRC folder.
    out: the OUT folder (created if missing).
    test_fraction: --test_fraction, or None (DEFAULT_TEST_FRACTION, for a
      SRC/<class>/ layout).
    seed: --seed.
    progress_secs: seconds between progress lines.
    enlarge_small: --enlarge_small.

  Returns:
    A Conversion.

  Raises:
    errors.UserError: see find_images and output_folder; also when skipped
      files leave a batch file or a class's training images empty. Nothing
      is then left in OUT.
  """
  final = output_folder(out, src)
  names, sources, notes = find_images(src, test_fraction)
  for note in notes:
    print(note, flush=True)
  rng = np.random.default_rng(seed)
  created_out = not os.path.isdir(out)
  staging = None
  try:
    os.makedirs(out, exist_ok=True)
    staging = tempfile.mkdtemp(prefix='.%s.' % download.EXTRACTED_DIR,
                               suffix='.part', dir=out)
    # The pictures' planes wait in a file beside the output until the split
    # is drawn: 3 KB an image, never all in memory. It is removed when
    # closed (on Linux and macOS it has no name at all, so that not even a
    # killed run leaves it behind).
    with tempfile.TemporaryFile(dir=staging) as scratch:
      read, skipped = _read_images(
          sources, scratch, _Progress(len(sources), progress_secs),
          enlarge_small)
      split_given = not any(image.split is None for image in read)
      placed = _place(read, len(names), test_fraction, rng)
      ordered, counts = {}, {}
      for split in (TRAIN_SPLIT, TEST_SPLIT):
        images = [image for image in placed if image.split == split]
        ordered[split] = [images[index]
                          for index in rng.permutation(len(images))]
        counts[split] = np.bincount(
            np.array([image.label for image in images], dtype=np.int64),
            minlength=len(names))
      drawn = None if split_given else _drawn_share(test_fraction)
      _check_written(names, counts, src, drawn, bool(skipped))
      _notice_classes_without_test_images(names, counts, drawn, src)
      for split, file_names in ((TRAIN_SPLIT, batch_files.TRAIN_FILES),
                                (TEST_SPLIT, batch_files.TEST_FILES)):
        _write_split(staging, file_names, ordered[split], scratch)
    image_splits.write_manifest(
        os.path.join(staging, image_splits.MANIFEST_FILE),
        _manifest_rows(placed, ordered, names, src))
    with open(os.path.join(staging, classes.META_FILE), 'wb') as meta:
      meta.write(classes.format_names(names))
    os.chmod(staging, 0o755)
    os.rename(staging, final)
  except BaseException as error:  # A stop (Ctrl-C, SIGTERM) too: see main.
    if staging:
      shutil.rmtree(staging, ignore_errors=True)
    if created_out and os.path.isdir(out) and not os.listdir(out):
      os.rmdir(out)
    if isinstance(error, OSError) and error.errno in errors.NO_ROOM:
      # Python's writes do not name their file (here the pictures' scratch
      # file has no name at all): OUT is where room is needed.
      raise errors.no_room(out, error.strerror) from None
    raise
  return Conversion(final, names, counts, skipped, notes,
                    _copies(placed, src))


# The groups of copies the summary names, and the files named of each.
_EXAMPLE_GROUPS = 3
_EXAMPLE_FILES = 3


def _straddles(group):
  """Whether a group of copies lies in both splits."""
  return len({split for _, split in group}) > 1


def _print_copies(copies):
  """Says how many groups of copies there are, with examples."""
  straddling = sum(_straddles(group) for group in copies)
  print('Identical images (the same bytes, or the same pixels once decoded): '
        '%d group%s, %d files%s, e.g.'
        % (len(copies), '' if len(copies) == 1 else 's',
           sum(len(group) for group in copies),
           '' if straddling else ', each in one split'))
  # The groups that straddle the split first: those are the ones to fix.
  for group in sorted(copies, key=lambda group: not _straddles(group))[
      :_EXAMPLE_GROUPS]:
    more = len(group) - _EXAMPLE_FILES
    print('  %s%s' % (' = '.join(shown(path) for path, _ in
                                 group[:_EXAMPLE_FILES]),
                      ' and %d more' % more if more > 0 else ''))
  if len(copies) > _EXAMPLE_GROUPS:
    print('  and %d more groups: the copy_of column of %s names every copy'
          % (len(copies) - _EXAMPLE_GROUPS, image_splits.MANIFEST_FILE))
  if straddling:
    print('Warning: %d of these groups %s in both %s/ and %s/ (shown first), '
          'so the test scores images the network trained on. Delete or move '
          'the copies on one side.'
          % (straddling, 'lies' if straddling == 1 else 'lie',
             TRAIN_SPLIT, TEST_SPLIT))


def _print_summary(src, conversion):
  names, counts = conversion.names, conversion.counts
  # Columns as the terminal counts them (see console.py).
  width = max(console.width(console.as_shown(shown(name)))
              for name in names + ['class', 'total'])
  print('Converted %d images of %d classes from %s into %s:'
        % (sum(int(split.sum()) for split in counts.values()), len(names),
           shown(src), shown(conversion.folder)))
  print('  %s  %7s  %7s' % (console.ljust('class', width), TRAIN_SPLIT,
                            TEST_SPLIT))
  for label, name in enumerate(names):
    print('  %s  %7d  %7d' % (console.ljust(shown(name), width),
                              counts[TRAIN_SPLIT][label],
                              counts[TEST_SPLIT][label]))
  print('  %s  %7d  %7d' % (console.ljust('total', width),
                            counts[TRAIN_SPLIT].sum(),
                            counts[TEST_SPLIT].sum()))
  print('Each file\'s split is listed in %s.' % shown(os.path.join(
      conversion.folder, image_splits.MANIFEST_FILE)))
  if conversion.copies:
    _print_copies(conversion.copies)
  if conversion.skipped:
    count = len(conversion.skipped)
    print('Skipped %d file%s (each named above).'
          % (count, '' if count == 1 else 's'))


def main(argv=None):
  args = parser().parse_args(argv)
  try:
    conversion = convert(args.src, args.out, args.test_fraction, args.seed,
                         enlarge_small=args.enlarge_small)
  except errors.STOPS as stop:  # Ctrl-C, or SIGTERM (script.run).
    signum = errors.stop_signal(stop)
    raise errors.Stopped(signum, 'Stopped by %s: nothing was written to %s.'
                         % (signum.name, shown(args.out))) from None
  _print_summary(args.src, conversion)
  return 0


if __name__ == '__main__':
  sys.exit(script.run(main))
