"""CIFAR-10's binary batch files: their record layout, their names, and the
checks that turn a bad file into one line naming it.

A batch file is a plain run of 3,073-byte records: the label (one byte:
0..9 for CIFAR-10, 0..C-1 for data whose batches.meta.txt names C classes,
see classes.py), then the 32x32 colour image as three 1,024-byte planes,
red, green, blue, each stored row by row. CIFAR-100's records start with two
label bytes, coarse then fine (data_sets.py); the functions here take the
data's data_sets.BinaryFormat, CIFAR-10's by default.

This module imports no TensorFlow (storage.py loads it when a file is
first read): the tools that write such files (cifar10.synthetic,
cifar10.convert_images) use the layout too.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import os

import numpy as np

from cifar10.support import data_sets
from cifar10.support import download
from cifar10.support import errors
from cifar10.support import paths
from cifar10.support import storage

# The layout of one record.
ORIGINAL_SIZE = 32
DEPTH = 3
LABEL_BYTES = 1
IMAGE_BYTES = ORIGINAL_SIZE * ORIGINAL_SIZE * DEPTH
RECORD_BYTES = LABEL_BYTES + IMAGE_BYTES

# The batch files, as the tarball holds them (download.py lists them).
TRAIN_FILES = download.TRAIN_FILES
TEST_FILES = download.TEST_FILES


def batches_dir(data_dir, data_format=data_sets.CIFAR10):
  """The folder of .bin files inside a --data_dir."""
  return os.path.join(data_dir, data_format.folder)


def batches_dir_of_argument(data_dir, data_format=data_sets.CIFAR10):
  """The folder of .bin files for the data_dir of a function called from
  Python (cifar10.distorted_inputs, cifar10.inputs).

  The argument means what --data_dir means, the folder that holds
  cifar-10-batches-bin/, and is read the way the scripts read the flag
  (paths.resolve_data_dir): given the extracted folder itself, one of its
  batch files, the tarball or the folder just above, it is read as meant,
  with the same one-line notice. A call has no flag to point, so the
  notices and refusals name the argument, data_dir.
  """
  return batches_dir(paths.resolve_data_dir(data_dir, downloads=False,
                                            given_as='data_dir'), data_format)


def _batches_folder(data_dir, data_format):
  """The folder of .bin files that `data_dir`, a folder of them, means.

  cifar10_input's functions read the folder of .bin files itself; the
  scripts and cifar10's functions take the folder above it. Given that
  folder (or what paths.resolve_data_dir reads as it), the folder of .bin
  inside is read, with a notice, where one is there. A folder named like
  the data's folder of .bin files, or holding any of its files, is that
  folder, complete or not: check_batch_file names what is missing.
  """
  if (os.path.basename(storage.normpath(data_dir)) == data_format.folder or
      download.present_files(data_dir, data_format.all_files)):
    return data_dir
  above = paths.resolve_data_dir(data_dir, downloads=False, given_as='data_dir')
  inside = batches_dir(above, data_format)
  if not storage.isdir(inside):
    return data_dir
  if above == data_dir:  # resolve_data_dir said nothing.
    errors.notice('data_dir %s is the folder that holds %s/: reading the '
                  'batch files in %s.' % (data_dir, data_format.folder, inside))
  return inside


def data_classes(data_dir, data_format=data_sets.CIFAR10):
  """The classes of the data in a --data_dir: data_sets.BinaryFormat.classes
  of its folder of .bin files (cifar10.data_classes says where they come
  from)."""
  return data_format.classes(batches_dir(data_dir, data_format))


def file_names(eval_data, data_format=data_sets.CIFAR10):
  """The batch files of a split: test_batch.bin if `eval_data`, else the 5
  training files (CIFAR-100: test.bin, train.bin)."""
  return data_format.file_names(eval_data)


def count_records(data_dir, eval_data, data_format=data_sets.CIFAR10):
  """The whole records in a split's files, from their sizes alone.

  One epoch of the training files: CIFAR-10's 50,000, or the number that
  converted or synthetic data holds. Count them once the files have been
  checked (a trainer's download check, or the input pipeline, does that).

  Args:
    data_dir: the folder holding the .bin files.
    eval_data: True for the test files, False for the training files.
    data_format: the data's data_sets.BinaryFormat.

  Returns:
    An int.
  """
  return sum(storage.getsize(os.path.join(data_dir, name)) //
             data_format.record_bytes
             for name in file_names(eval_data, data_format))


def check_batch_file(path, data_classes=None, data_format=data_sets.CIFAR10):
  """Raises UserError unless `path` holds whole records with labels in range.

  Checking the label bytes up front costs one read of the file and turns a
  bad label into a message naming the file and record, where on a GPU it
  would silently give NaN losses.

  Args:
    path: a batch file.
    data_classes: the data's classes.Classes; by default those of the
      batches.meta.txt beside `path` (CIFAR-10's ten without one).
    data_format: the data_sets.BinaryFormat of the file.

  Returns:
    The number of records in the file.
  """
  folder, name = storage.dirname(path), os.path.basename(path)
  record_bytes = data_format.record_bytes
  if not storage.isfile(path):
    raise errors.UserError(
        '%s batch file %s not found in %s. Put it back, or point '
        '--data_dir (or the data_dir of a function called from Python) at '
        'the folder that holds %s/ with it.'
        % (data_format.title, name, folder or '.', data_format.folder))
  size = storage.getsize(path)
  if size == 0 or size % record_bytes:
    raise errors.UserError(
        '%s is %d bytes, not a whole number of %d-byte records: it is '
        'truncated or not a %s binary batch file. Replace it with a '
        'whole copy.' % (path, size, record_bytes, data_format.title))
  data_classes = data_classes or data_format.classes(folder)
  labels = np.frombuffer(storage.read_bytes(path),
                         np.uint8)[data_format.label_offset::record_bytes]
  bad = np.flatnonzero(labels >= data_classes.count)
  if bad.size:
    raise errors.UserError(
        '%s: record %d has label %d, but the data has %d classes, labels '
        '0..%d (%s; %d bad records in all). The file is damaged or belongs '
        'to other data: replace it.'
        % (path, bad[0], labels[bad[0]], data_classes.count,
           data_classes.count - 1, data_classes.source, bad.size))
  return size // record_bytes


def data_files(data_dir, eval_data, data_format=data_sets.CIFAR10):
  """Checked paths of the split's files (see `file_names`).

  The labels are checked against the classes of the data's batches.meta.txt.

  Args:
    data_dir: the folder of the batch files (cifar-10-batches-bin/); the
      folder that holds it is read as meant, with a notice (_batches_folder).
    eval_data: True for test_batch.bin, False for the training files.
    data_format: the data_sets.BinaryFormat of the files.

  Raises:
    errors.UserError: a file is missing or damaged (see check_batch_file),
      or the folder holds none of them.
  """
  data_dir = _batches_folder(data_dir, data_format)
  names = file_names(eval_data, data_format)
  if not download.present_files(data_dir, data_format.all_files):
    # Not a file gone from the data's folder, where check_batch_file says
    # "Put it back": no data's folder at all.
    raise errors.UserError(
        '%s\'s batch files (%s) not found in %s. Point --data_dir, or the '
        'data_dir of a function called from Python, at the folder that '
        'holds %s/.' % (data_format.title, paths.listed(list(names)),
                        data_dir, data_format.folder))
  batch_paths = [os.path.join(data_dir, name) for name in names]
  data_classes = data_format.classes(data_dir)
  for path in batch_paths:
    check_batch_file(path, data_classes, data_format)
  return batch_paths


def bad_file_complaint(data_dir, eval_data, data_format=data_sets.CIFAR10):
  """What is wrong with the first bad file of a split now, or None.

  A run's data can change while it reads it (a file truncated, deleted, or
  still being copied). After a failed read this names the file and what is
  wrong with it, in the words of the start-up check, where TensorFlow's own
  message shows its iterator chain and may not name the file at all.

  Args:
    data_dir: the folder of the batch files (cifar-10-batches-bin/).
    eval_data: True for test_batch.bin, False for the training files.
    data_format: the data_sets.BinaryFormat of the files.

  Returns:
    A str, the complaint about the first bad file; None when all are fine.
  """
  try:
    data_files(data_dir, eval_data, data_format)
  except errors.UserError as error:
    return str(error)
  return None


def check_batch_size(batch_size):
  """Raises UserError unless batch_size is at least 1."""
  if batch_size < 1:
    raise errors.UserError('batch_size must be at least 1, got %d' % batch_size)
