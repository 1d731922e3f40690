"""CIFAR-10's binary batch files: their record layout, their names, and the
checks that turn a bad file into one line naming it.

A batch file is a plain run of 3,073-byte records: the label (one byte:
0..9 for CIFAR-10, 0..C-1 for data whose batches.meta.txt names C classes,
see classes.py), then the 32x32 colour image as three 1,024-byte planes,
red, green, blue, each stored row by row.

This module imports no TensorFlow (storage.py loads it when a file is
first read): the tools that write such files (cifar10.synthetic,
cifar10.convert_images) use the layout too.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import os

import numpy as np

from cifar10.support import classes
from cifar10.support import download
from cifar10.support import errors
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


def batches_dir(data_dir):
  """The folder of .bin files inside a --data_dir."""
  return os.path.join(data_dir, download.EXTRACTED_DIR)


def file_names(eval_data):
  """The batch files of a split: test_batch.bin if `eval_data`, else the 5
  training files."""
  return TEST_FILES if eval_data else TRAIN_FILES


def check_batch_file(path, data_classes=None):
  """Raises UserError unless `path` holds whole records with labels in range.

  Checking the label bytes up front costs one read of the file and turns a
  bad label into a message naming the file and record, where on a GPU it
  would silently give NaN losses.

  Args:
    path: a batch file.
    data_classes: the data's classes.Classes; by default those of the
      batches.meta.txt beside `path` (CIFAR-10's ten without one).

  Returns:
    The number of records in the file.
  """
  folder, name = storage.dirname(path), os.path.basename(path)
  if not storage.isfile(path):
    raise errors.UserError(
        'CIFAR-10 batch file %s not found in %s. Put it back, or point '
        '--data_dir at the folder that holds cifar-10-batches-bin/ with it.'
        % (name, folder or '.'))
  size = storage.getsize(path)
  if size == 0 or size % RECORD_BYTES:
    raise errors.UserError(
        '%s is %d bytes, not a whole number of %d-byte records: it is '
        'truncated or not a CIFAR-10 binary batch file. Replace it with a '
        'whole copy.' % (path, size, RECORD_BYTES))
  data_classes = data_classes or classes.of_data(folder)
  labels = np.frombuffer(storage.read_bytes(path), np.uint8)[::RECORD_BYTES]
  bad = np.flatnonzero(labels >= data_classes.count)
  if bad.size:
    raise errors.UserError(
        '%s: record %d has label %d, but the data has %d classes, labels '
        '0..%d (%s; %d bad records in all). The file is damaged or belongs '
        'to other data: replace it.'
        % (path, bad[0], labels[bad[0]], data_classes.count,
           data_classes.count - 1, data_classes.source, bad.size))
  return size // RECORD_BYTES


def data_files(data_dir, eval_data):
  """Checked paths of the split's files (see `file_names`).

  The labels are checked against the classes of the data's batches.meta.txt.

  Args:
    data_dir: the folder of the batch files (cifar-10-batches-bin/).
    eval_data: True for test_batch.bin, False for the training files.

  Raises:
    errors.UserError: a file is missing or damaged (see check_batch_file).
  """
  paths = [os.path.join(data_dir, name) for name in file_names(eval_data)]
  data_classes = classes.of_data(data_dir)
  for path in paths:
    check_batch_file(path, data_classes)
  return paths


def bad_file_complaint(data_dir, eval_data):
  """What is wrong with the first bad file of a split now, or None.

  A run's data can change while it reads it (a file truncated, deleted, or
  still being copied). After a failed read this names the file and what is
  wrong with it, in the words of the start-up check, where TensorFlow's own
  message shows its iterator chain and may not name the file at all.

  Args:
    data_dir: the folder of the batch files (cifar-10-batches-bin/).
    eval_data: True for test_batch.bin, False for the training files.

  Returns:
    A str, the complaint about the first bad file; None when all are fine.
  """
  try:
    data_files(data_dir, eval_data)
  except errors.UserError as error:
    return str(error)
  return None


def check_batch_size(batch_size):
  """Raises UserError unless batch_size is at least 1."""
  if batch_size < 1:
    raise errors.UserError('batch_size must be at least 1, got %d' % batch_size)
