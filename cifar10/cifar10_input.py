"""Routine for decoding the CIFAR-10 binary file format, with tf.data.

The binary format is a sequence of fixed-length records: one label byte
(0..9), then 3072 image bytes, depth-major (1024 red, 1024 green, 1024 blue,
each a row-major 32x32 plane). tf.data replaces the original's queue runners:
records are read with `FixedLengthRecordDataset`, shuffled while still raw
bytes (cheap to hold), then decoded and distorted a whole batch at a time.
"""

import os

import tensorflow as tf

from cifar10 import errors
from cifar10 import summaries

# Process images of this size. Note that this differs from the original
# CIFAR image size of 32 x 32. If one alters this number, then the entire
# model architecture will change and any model would need to be retrained.
IMAGE_SIZE = 24

# Global constants describing the CIFAR-10 data set.
NUM_CLASSES = 10
NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN = 50000
NUM_EXAMPLES_PER_EPOCH_FOR_EVAL = 10000

# Dimensions of the images in the CIFAR-10 binary format.
ORIGINAL_SIZE = 32
DEPTH = 3
LABEL_BYTES = 1
IMAGE_BYTES = ORIGINAL_SIZE * ORIGINAL_SIZE * DEPTH
RECORD_BYTES = LABEL_BYTES + IMAGE_BYTES

TRAIN_FILES = tuple('data_batch_%d.bin' % i for i in range(1, 6))
TEST_FILES = ('test_batch.bin',)

# The original kept this fraction of an epoch in its shuffling queue.
MIN_FRACTION_OF_EXAMPLES_IN_QUEUE = 0.4

# Random distortions applied to training images, as in the original.
MAX_BRIGHTNESS_DELTA = 63
CONTRAST_RANGE = (0.2, 1.8)


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------

def check_batch_file(path):
  """Raises UserError unless `path` is a non-empty file of whole records.

  Returns:
    The number of records in the file.
  """
  folder, name = os.path.split(path)
  if not os.path.isfile(path):
    raise errors.UserError(
        'CIFAR-10 batch file %s not found in %s. Point --data_dir at the '
        'folder holding cifar-10-batches-bin/ (or the tarball), or let the '
        'script download it.' % (name, folder or '.'))
  size = os.path.getsize(path)
  if size == 0 or size % RECORD_BYTES:
    raise errors.UserError(
        '%s is %d bytes, not a whole number of %d-byte records: it is '
        'truncated or not a CIFAR-10 binary batch file. Delete it and extract '
        'or download the data again.' % (path, size, RECORD_BYTES))
  return size // RECORD_BYTES


def data_files(data_dir, eval_data):
  """The checked batch files: test_batch.bin if `eval_data`, else the 5 train files."""
  names = TEST_FILES if eval_data else TRAIN_FILES
  paths = [os.path.join(data_dir, name) for name in names]
  for path in paths:
    check_batch_file(path)
  return paths


def _check_batch_size(batch_size):
  if batch_size < 1:
    raise errors.UserError('batch_size must be at least 1, got %d' % batch_size)


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------

def _records(filenames):
  """Raw records as (record_bytes, filename, index_in_file), file after file."""

  def records_of(filename):
    return tf.data.Dataset.zip((
        tf.data.FixedLengthRecordDataset(filename, RECORD_BYTES),
        tf.data.Dataset.from_tensors(filename).repeat(),
        tf.data.Dataset.range(1 << 62)))

  return tf.data.Dataset.from_tensor_slices(list(filenames)).flat_map(
      records_of)


def decode_records(records, filenames, indices):
  """Decodes a batch of raw records into uint8 images and int32 labels.

  Args:
    records: [N] strings of RECORD_BYTES bytes.
    filenames: [N] strings, the file each record came from.
    indices: [N] int64, each record's position in its file.

  Returns:
    images: [N, 32, 32, 3] uint8.
    labels: [N] int32, checked to be below NUM_CLASSES: a bad label stops the
      run naming the file and record (on a GPU it would give NaN losses).
  """
  raw = tf.io.decode_raw(records, tf.uint8)
  raw.set_shape(records.shape.concatenate([RECORD_BYTES]))
  labels = tf.cast(raw[:, 0], tf.int32)
  depth_major = tf.reshape(
      raw[:, LABEL_BYTES:], [-1, DEPTH, ORIGINAL_SIZE, ORIGINAL_SIZE])
  images = tf.transpose(depth_major, [0, 2, 3, 1])

  bad = labels >= NUM_CLASSES
  first_bad = tf.argmax(tf.cast(bad, tf.int32))
  check = tf.debugging.Assert(
      tf.logical_not(tf.reduce_any(bad)),
      ['Label out of range (CIFAR-10 labels are 0..9) in file',
       tf.gather(filenames, first_bad), 'record', tf.gather(indices, first_bad),
       'label', tf.gather(labels, first_bad),
       'The file is damaged or not CIFAR-10 data: replace it.'])
  with tf.control_dependencies([check]):
    labels = tf.identity(labels)
  return images, labels


def read_cifar10(filenames):
  """Reads and parses examples from CIFAR-10 data files.

  Args:
    filenames: paths of CIFAR-10 binary batch files, read in order.

  Returns:
    A tf.data.Dataset of (uint8image [32, 32, 3] uint8, label [] int32), one
    element per record; it ends after the last record of the last file.
  """

  def decode_one(record, filename, index):
    images, labels = decode_records(record[None], filename[None], index[None])
    return images[0], labels[0]

  return _records(filenames).map(
      decode_one, num_parallel_calls=tf.data.AUTOTUNE)


# ---------------------------------------------------------------------------
# Image preparation, a whole batch at a time
# ---------------------------------------------------------------------------

def distort_images(images):
  """Random 24x24 crop, left-right flip, brightness and contrast, standardized.

  The same distortions as the original's per-image ops, each image drawing its
  own random values, but computed for the whole batch at once.

  Args:
    images: [N, 32, 32, 3] uint8.

  Returns:
    [N, 24, 24, 3] float32, each image with mean 0 and standard deviation 1.
  """
  count = tf.shape(images)[0]
  span = tf.range(IMAGE_SIZE)
  top = tf.random.uniform([count, 1], 0, ORIGINAL_SIZE - IMAGE_SIZE + 1,
                          dtype=tf.int32)
  left = tf.random.uniform([count, 1], 0, ORIGINAL_SIZE - IMAGE_SIZE + 1,
                           dtype=tf.int32)
  flip = tf.random.uniform([count, 1]) < 0.5
  rows = top + span
  columns = left + tf.where(flip, IMAGE_SIZE - 1 - span, span)
  cropped = tf.gather(images, rows, axis=1, batch_dims=1)
  cropped = tf.gather(cropped, columns, axis=2, batch_dims=1)
  distorted = tf.cast(cropped, tf.float32)

  # Because these operations are not commutative, consider randomizing the
  # order of their operation (the original left this as a suggestion, too).
  distorted += tf.random.uniform(
      [count, 1, 1, 1], -MAX_BRIGHTNESS_DELTA, MAX_BRIGHTNESS_DELTA)
  contrast = tf.random.uniform([count, 1, 1, 1], *CONTRAST_RANGE)
  channel_means = tf.reduce_mean(distorted, axis=[1, 2], keepdims=True)
  distorted = (distorted - channel_means) * contrast + channel_means
  standardized = tf.image.per_image_standardization(distorted)
  standardized.set_shape([images.shape[0], IMAGE_SIZE, IMAGE_SIZE, DEPTH])
  return standardized


def crop_images(images):
  """Central 24x24 crop and standardization, as the evaluator sees images.

  Args:
    images: [N, 32, 32, 3] uint8.

  Returns:
    [N, 24, 24, 3] float32.
  """
  offset = (ORIGINAL_SIZE - IMAGE_SIZE) // 2
  cropped = images[:, offset:offset + IMAGE_SIZE, offset:offset + IMAGE_SIZE, :]
  return tf.image.per_image_standardization(tf.cast(cropped, tf.float32))


# ---------------------------------------------------------------------------
# Input pipelines
# ---------------------------------------------------------------------------

def distorted_dataset(data_dir, batch_size, prefetch_batches=1):
  """The endless, shuffled, distorted training batches as a tf.data.Dataset.

  Args:
    data_dir: folder holding the data_batch_N.bin files.
    batch_size: images per batch.
    prefetch_batches: batches to keep ready ahead of the consumer.

  Returns:
    A dataset of (images [batch_size, 24, 24, 3] float32,
    labels [batch_size] int32).
  """
  _check_batch_size(batch_size)
  filenames = data_files(data_dir, eval_data=False)
  # Ensure that the random shuffling has good mixing properties: the
  # original's queue held this many examples beyond three batches.
  min_queue_examples = int(NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN *
                           MIN_FRACTION_OF_EXAMPLES_IN_QUEUE)
  print('Filling queue with %d CIFAR images before starting to train.'
        % min_queue_examples)
  files = tf.data.Dataset.from_tensor_slices(filenames).shuffle(len(filenames))
  records = files.flat_map(lambda name: _records([name]))
  records = records.shuffle(min_queue_examples + 3 * batch_size).repeat()

  def prepare(raw, names, indices):
    images, labels = decode_records(raw, names, indices)
    return distort_images(images), labels

  return (records.batch(batch_size, drop_remainder=True)
          .map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
          .prefetch(prefetch_batches))


def eval_dataset(eval_data, data_dir, batch_size):
  """One ordered pass over the test (or training) set, centrally cropped.

  Every record is yielded exactly once; the last batch may be smaller.
  """
  _check_batch_size(batch_size)
  filenames = data_files(data_dir, eval_data)

  def prepare(raw, names, indices):
    images, labels = decode_records(raw, names, indices)
    return crop_images(images), labels

  return (_records(filenames).batch(batch_size)
          .map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
          .prefetch(1))


def _next_batch(dataset):
  """Graph tensors for the next batch, with the original's image summary."""
  images, labels = tf.compat.v1.data.make_one_shot_iterator(dataset).get_next()
  # Display the training images in the visualizer.
  summaries.image('images', images)
  return images, labels


def distorted_inputs(data_dir, batch_size):
  """Constructs distorted input for CIFAR training.

  Args:
    data_dir: path to the CIFAR-10 data directory (the .bin files).
    batch_size: number of images per batch.

  Returns:
    images: [batch_size, IMAGE_SIZE, IMAGE_SIZE, 3] float32.
    labels: [batch_size] int32.
  """
  return _next_batch(distorted_dataset(data_dir, batch_size))


def inputs(eval_data, data_dir, batch_size):
  """Constructs input for CIFAR evaluation: one pass, in order.

  Args:
    eval_data: bool, whether to use the test set (else the training set).
    data_dir: path to the CIFAR-10 data directory (the .bin files).
    batch_size: number of images per batch.

  Returns:
    images: [<=batch_size, IMAGE_SIZE, IMAGE_SIZE, 3] float32.
    labels: [<=batch_size] int32. Running them past the end raises
      tf.errors.OutOfRangeError.
  """
  return _next_batch(eval_dataset(eval_data, data_dir, batch_size))
