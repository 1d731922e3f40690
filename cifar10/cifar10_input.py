"""Reads CIFAR-10's binary batch files into training and evaluation batches.

A batch file is a plain run of 3,073-byte records: the label (one byte:
0..9 for CIFAR-10, 0..C-1 for data whose batches.meta.txt names C classes,
see cifar10.classes), then the 32x32 colour image as three 1,024-byte planes, red, green,
blue, each stored row by row. The pipelines are tf.data datasets, where the
original used queue runners: records are read whole with
FixedLengthRecordDataset, shuffled while they are still raw bytes (the
cheapest form to hold), and only then decoded and distorted, a whole batch
per call, so that the pipeline takes as little CPU as possible from the
training step.
"""

import os

import numpy as np
import tensorflow as tf

from cifar10 import classes
from cifar10 import download
from cifar10 import errors
from cifar10 import summaries

# The model sees 24x24 crops of the 32x32 images: random crops in training
# (more variety from the same data), the central crop in evaluation. The
# layer sizes follow from it (local3 takes 6 * 6 * 64 inputs), so another
# size makes a different model that the checkpoints do not fit.
IMAGE_SIZE = 24

# The data set: classes (CIFAR-10's; other data names its own in
# batches.meta.txt), and images per epoch in the five training files and in
# the test file.
NUM_CLASSES = len(classes.CIFAR10_NAMES)
NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN = 50000
NUM_EXAMPLES_PER_EPOCH_FOR_EVAL = 10000

# The layout of one record in the binary files.
ORIGINAL_SIZE = 32
DEPTH = 3
LABEL_BYTES = 1
IMAGE_BYTES = ORIGINAL_SIZE * ORIGINAL_SIZE * DEPTH
RECORD_BYTES = LABEL_BYTES + IMAGE_BYTES

# The class of each label, as CIFAR-10's batches.meta.txt lists them.
CLASS_NAMES = classes.CIFAR10_NAMES

# The batch files, as the tarball holds them (download.py lists them).
TRAIN_FILES = download.TRAIN_FILES
TEST_FILES = download.TEST_FILES

# The share of an epoch the original's shuffling queue kept filled: its
# min_queue_examples, 20,000 records. The shuffle buffer holds as many, plus
# three batches.
MIN_FRACTION_OF_EXAMPLES_IN_QUEUE = 0.4

# Training images distorted per call of the batch map. Each call costs about
# 0.5 ms of CPU beyond its per-image work, which on 2 cores the training step
# pays for: 512 images per call took the pipeline from 1.9 to 1.4 ms of CPU
# per batch of 128.
IMAGES_PER_DISTORTION_CALL = 512

# The original's random distortions of training images: a brightness change
# of up to +-63 (on the 0..255 scale) and a contrast factor in [0.2, 1.8).
MAX_BRIGHTNESS_DELTA = 63
CONTRAST_RANGE = (0.2, 1.8)


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------

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
  folder, name = os.path.split(path)
  if not os.path.isfile(path):
    raise errors.UserError(
        'CIFAR-10 batch file %s not found in %s. Put it back, or point '
        '--data_dir at the folder that holds cifar-10-batches-bin/ with it.'
        % (name, folder or '.'))
  size = os.path.getsize(path)
  if size == 0 or size % RECORD_BYTES:
    raise errors.UserError(
        '%s is %d bytes, not a whole number of %d-byte records: it is '
        'truncated or not a CIFAR-10 binary batch file. Replace it with a '
        'whole copy.' % (path, size, RECORD_BYTES))
  data_classes = data_classes or classes.of_data(folder)
  labels = np.memmap(path, dtype=np.uint8, mode='r')[::RECORD_BYTES]
  bad = np.flatnonzero(labels >= data_classes.count)
  if bad.size:
    raise errors.UserError(
        '%s: record %d has label %d, but the data has %d classes, labels '
        '0..%d (%s; %d bad records in all). The file is damaged or belongs '
        'to other data: replace it.'
        % (path, bad[0], labels[bad[0]], data_classes.count,
           data_classes.count - 1, data_classes.source, bad.size))
  return size // RECORD_BYTES


def file_names(eval_data):
  """The batch files of a split: test_batch.bin if `eval_data`, else the 5
  training files."""
  return TEST_FILES if eval_data else TRAIN_FILES


def data_files(data_dir, eval_data):
  """Checked paths of the split's files (see `file_names`).

  The labels are checked against the classes of the data's batches.meta.txt.
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


def _check_batch_size(batch_size):
  """Raises UserError unless batch_size is at least 1."""
  if batch_size < 1:
    raise errors.UserError('batch_size must be at least 1, got %d' % batch_size)


# ---------------------------------------------------------------------------
# Records, decoded a whole batch at a time
# ---------------------------------------------------------------------------

# The functions tf.data maps are plain graph code: left to autograph, each
# would be rewritten into a temporary file that a killed process leaves in
# /tmp.
_graph_code = tf.autograph.experimental.do_not_convert


def _records(filenames):
  """The raw records of `filenames` (a list or a string dataset), in order."""
  if not isinstance(filenames, tf.data.Dataset):
    filenames = tf.data.Dataset.from_tensor_slices(list(filenames))
  return filenames.flat_map(_graph_code(
      lambda name: tf.data.FixedLengthRecordDataset(name, RECORD_BYTES)))


def _decode_planes(records):
  """[N] raw records as [N, 3, 32, 32] uint8 planes and [N] int32 labels."""
  raw = tf.io.decode_raw(records, tf.uint8)
  raw.set_shape(records.shape.concatenate([RECORD_BYTES]))
  planes = tf.reshape(
      raw[:, LABEL_BYTES:], [-1, DEPTH, ORIGINAL_SIZE, ORIGINAL_SIZE])
  return planes, tf.cast(raw[:, 0], tf.int32)


def decode_records(records):
  """[N] raw records as [N, 32, 32, 3] uint8 images and [N] int32 labels."""
  planes, labels = _decode_planes(records)
  return tf.transpose(planes, [0, 2, 3, 1]), labels


@_graph_code
def _decode_record(record):
  """One raw record as its [32, 32, 3] uint8 image and [] int32 label."""
  images, labels = decode_records(record[None])
  return images[0], labels[0]


def read_cifar10(filenames):
  """Every record of the given batch files, in order, decoded one by one.

  The original took a queue of file names and returned one record's fields;
  this returns the whole sequence as a dataset.

  Args:
    filenames: paths of CIFAR-10 binary batch files.

  Returns:
    A tf.data.Dataset of (image [32, 32, 3] uint8, label [] int32) pairs; it
    ends after the last record of the last file.
  """
  return _without_autotuning(_records(filenames).map(
      _decode_record, num_parallel_calls=tf.data.AUTOTUNE))


# ---------------------------------------------------------------------------
# Distortions of training images: the original's per-image ops, and the same
# distortions computed a whole batch at a time
# ---------------------------------------------------------------------------

@_graph_code
def distort_image(image):
  """One training image distorted the original's way, one tf.image op a step.

  The readable form of the distortions, the one the tests hold the faster
  `distorted_batch` to. Training maps it over single records when
  distorted_inputs or distorted_dataset get reference_ops=True.

  Args:
    image: [32, 32, 3] uint8, as decode_records gives it.

  Returns:
    [24, 24, 3] float32 with mean 0 and deviation 1.
  """
  image = tf.cast(image, tf.float32)
  # A random 24x24 window of the 32x32 image.
  distorted = tf.image.random_crop(image, [IMAGE_SIZE, IMAGE_SIZE, DEPTH])
  # Mirrored left-right, half the time.
  distorted = tf.image.random_flip_left_right(distorted)
  # A random delta added to every pixel, then each channel's deviations from
  # its mean scaled by a random factor.
  distorted = tf.image.random_brightness(distorted,
                                         max_delta=MAX_BRIGHTNESS_DELTA)
  distorted = tf.image.random_contrast(distorted, *CONTRAST_RANGE)
  # Mean 0 and deviation 1, whatever the image; this also removes the
  # brightness delta again (docs/guide.md, section 2).
  return tf.image.per_image_standardization(distorted)


@_graph_code
def _distorted_record(record):
  """One raw record as distort_image's image and its [] int32 label."""
  image, label = _decode_record(record)
  return distort_image(image), label


def _windows(planes, top, left, flip, size):
  """size x size windows of [N, 3, 32, 32] planes, mirrored where `flip`.

  Rows are gathered (contiguous copies); columns are picked, and mirrored,
  by a batched matmul with one-hot columns: exact for pixel values, and half
  the time of gathering single pixels.

  Args:
    planes: [N, 3, 32, 32] uint8.
    top, left: [N, 1] int32, each window's top-left corner.
    flip: [N, 1] bool, whether to mirror each window left-right.
    size: the window's height and width.

  Returns:
    [N, 3, size * size] float32, each channel's window row by row.
  """
  span = tf.range(size)
  rows = tf.gather(planes, top + span, axis=2, batch_dims=1)
  rows = tf.reshape(tf.cast(rows, tf.float32),
                    [-1, DEPTH * size, ORIGINAL_SIZE])
  columns = left + tf.where(flip, size - 1 - span, span)
  windows = tf.matmul(rows, tf.one_hot(columns, ORIGINAL_SIZE, axis=1))
  return tf.reshape(windows, [-1, DEPTH, size * size])


@_graph_code
def distorted_batch(records):
  """Training images from raw records, each with its own random distortions.

  The distortions of `distort_image` (a random 24x24 crop, a left-right flip
  half of the time, a brightness delta up to +-63, a contrast factor from
  0.2 to 1.8, standardization), drawn for each image but computed for the
  whole batch at once: this takes the trainer's input pipeline less CPU
  than mapping distort_image over single records. Measured gain
  (scripts/benchmark.py, input_train against input_train_reference,
  2026-12-04, a 2-core Sapphire Rapids-class Xeon, TF 2.21, the full
  training set; docs/results/speed.jsonl): the pipeline alone delivered
  114,000 images/sec this way and 23,700 with distort_image, that is 2.2
  against 10.8 ms of the two cores' time per batch of 128, time the
  training step (43 ms on the same cores) would otherwise lose.

  Args:
    records: [N] raw records.

  Returns:
    images: [N, 24, 24, 3] float32, each with mean 0 and deviation 1.
    labels: [N] int32.
  """
  count = tf.shape(records)[0]
  corner_range = ORIGINAL_SIZE - IMAGE_SIZE + 1
  top = tf.random.uniform([count, 1], 0, corner_range, dtype=tf.int32)
  left = tf.random.uniform([count, 1], 0, corner_range, dtype=tf.int32)
  flip = tf.random.uniform([count, 1]) < 0.5
  brightness = tf.random.uniform(
      [count, 1, 1], -MAX_BRIGHTNESS_DELTA, MAX_BRIGHTNESS_DELTA)
  contrast = tf.random.uniform([count, 1, 1], *CONTRAST_RANGE)
  planes, labels = _decode_planes(records)
  # Channel-major until the end: per-channel broadcasts over [N, 3, P] are
  # cheap, and the one transpose left is a float one (oneDNN's, fast).
  windows = adjust_and_standardize(
      _windows(planes, top, left, flip, IMAGE_SIZE), brightness, contrast)
  windows = tf.reshape(windows, [-1, DEPTH, IMAGE_SIZE, IMAGE_SIZE])
  return tf.transpose(windows, [0, 2, 3, 1]), labels


def adjust_and_standardize(planes, brightness, contrast):
  """adjust_brightness, adjust_contrast, per_image_standardization, batched.

  The same function as the three per-image ops, in fewer passes over the
  pixels. Brightness adds its delta to every pixel: that moves each channel
  mean by delta and leaves the deviations from the channel means alone.
  Contrast scales each channel's deviations; the result has the image mean
  m and variance contrast^2 * W + B, where W is the mean squared deviation
  from the channel means and B that of the channel means from m, so
  standardization needs no second pass over the adjusted image.

  Args:
    planes: [N, C, P] float32, each image as C channels of P pixels.
    brightness: [N, 1, 1] deltas.
    contrast: [N, 1, 1] contrast factors.

  Returns:
    [N, C, P] float32, each image with mean 0 and deviation 1.
  """
  pixels = planes.shape[1:].num_elements()
  channel_means = tf.reduce_mean(planes, axis=2, keepdims=True)
  deviations = planes - channel_means
  channel_means += brightness
  mean = tf.reduce_mean(channel_means, axis=1, keepdims=True)
  within = tf.reduce_mean(tf.square(deviations), axis=[1, 2], keepdims=True)
  between = tf.reduce_mean(tf.square(channel_means - mean), axis=1,
                           keepdims=True)
  stddev = tf.sqrt(tf.square(contrast) * within + between)
  # per_image_standardization's floor, which keeps uniform images finite.
  scale = 1.0 / tf.maximum(stddev, 1.0 / np.sqrt(pixels))
  return (deviations * (contrast * scale) +
          (channel_means - mean) * scale)


def prepare_eval_images(images):
  """The central 24x24 crop of [N, 32, 32, 3] uint8 images, standardized.

  The evaluator prepares test images this way, and cifar10.predict and the
  exported model prepare theirs the same way.

  Returns:
    [N, 24, 24, 3] float32, each image with mean 0 and deviation 1.
  """
  offset = (ORIGINAL_SIZE - IMAGE_SIZE) // 2
  cropped = images[:, offset:offset + IMAGE_SIZE, offset:offset + IMAGE_SIZE]
  return tf.image.per_image_standardization(tf.cast(cropped, tf.float32))


@_graph_code
def central_crop_batch(records):
  """[N] raw records as evaluation images [N, 24, 24, 3] and labels [N]."""
  images, labels = decode_records(records)
  return prepare_eval_images(images), labels


# ---------------------------------------------------------------------------
# Input pipelines
# ---------------------------------------------------------------------------

def _without_autotuning(dataset):
  """The dataset with tf.data's autotuning off.

  Its model thread sleeps ever longer between rounds, and closing a session
  waits for it to wake: training took 4 s to exit after 300 steps, 27 s after
  1,000 (0.6 s without). Without it the map runs one call per core, which
  measured as fast.
  """
  options = tf.data.Options()
  options.autotune.enabled = False
  return dataset.with_options(options)


# The graph collection of the lines a trainer prints once training starts.
STARTUP_LINES = 'cifar10_startup_lines'


def distorted_dataset(data_dir, batch_size, prefetch_batches=1,
                      reference_ops=False):
  """The endless, shuffled, distorted training batches as a tf.data.Dataset.

  Args:
    data_dir: folder holding the data_batch_N.bin files.
    batch_size: images per batch.
    prefetch_batches: batches to keep ready ahead of the consumer.
    reference_ops: distort each image with distort_image, the original's
      per-image ops, instead of a batch at a time with distorted_batch.

  Returns:
    A dataset of (images [batch_size, 24, 24, 3] float32,
    labels [batch_size] int32).
  """
  _check_batch_size(batch_size)
  filenames = data_files(data_dir, eval_data=False)
  # A shuffle buffer draws each record at random from the next `size`: the
  # larger, the better mixed the batches, and the longer the first batch
  # waits while it fills. This is the original queue's size.
  min_queue_examples = int(NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN *
                           MIN_FRACTION_OF_EXAMPLES_IN_QUEUE)
  buffer_size = min_queue_examples + 3 * batch_size
  # The buffer fills from one pass over the files: a smaller data set fills
  # it only in part. The line is for the trainer to print when it starts
  # training, not now: a run with nothing to train fills no buffer.
  records = sum(os.path.getsize(path) // RECORD_BYTES for path in filenames)
  if records >= buffer_size:
    line = ('Filling the shuffle buffer with %d CIFAR images (%d plus three '
            'batches) before the first batch.' % (buffer_size,
                                                  min_queue_examples))
  else:
    line = ('Filling the shuffle buffer with all %d training images (it has '
            'room for %d) before the first batch.' % (records, buffer_size))
  tf.compat.v1.add_to_collection(STARTUP_LINES, line)
  # The file order is shuffled too, each epoch, then the records.
  files = tf.data.Dataset.from_tensor_slices(filenames).shuffle(len(filenames))
  records = _records(files).shuffle(buffer_size).repeat()
  if reference_ops:
    # The original's order: each image decoded and distorted, then batched.
    batches = records.map(
        _distorted_record, num_parallel_calls=tf.data.AUTOTUNE).batch(
            batch_size, drop_remainder=True)
  else:
    batches_per_call = max(1, IMAGES_PER_DISTORTION_CALL // batch_size)
    batches = records.batch(
        batches_per_call * batch_size, drop_remainder=True).map(
            distorted_batch, num_parallel_calls=tf.data.AUTOTUNE).rebatch(
                batch_size, drop_remainder=True)
  return _without_autotuning(batches.prefetch(prefetch_batches))


def eval_dataset(eval_data, data_dir, batch_size):
  """One ordered pass over the test (or training) set, centrally cropped.

  Every record is in exactly one batch; the last batch may be smaller.

  Returns:
    A dataset of (images [<=batch_size, 24, 24, 3] float32,
    labels [<=batch_size] int32).
  """
  _check_batch_size(batch_size)
  return _without_autotuning(
      _records(data_files(data_dir, eval_data)).batch(batch_size)
      .map(central_crop_batch, num_parallel_calls=tf.data.AUTOTUNE)
      .prefetch(1))


def _next_batch(dataset):
  """Graph tensors for the next batch, with the original's image summary."""
  images, labels = tf.compat.v1.data.make_one_shot_iterator(dataset).get_next()
  # The first images of a batch appear under 'images' in TensorBoard.
  summaries.image('images', images)
  return images, labels


def distorted_inputs(data_dir, batch_size, reference_ops=False):
  """The next batch of shuffled, randomly distorted training images.

  Args:
    data_dir: the folder holding data_batch_1.bin ... data_batch_5.bin.
    batch_size: images per batch.
    reference_ops: distort with the original's per-image ops (distort_image).

  Returns:
    images: [batch_size, IMAGE_SIZE, IMAGE_SIZE, 3] float32, standardized.
    labels: [batch_size] int32.

  Raises:
    errors.UserError: a batch file is missing or damaged, or batch_size < 1.
  """
  return _next_batch(distorted_dataset(data_dir, batch_size,
                                       reference_ops=reference_ops))


def inputs(eval_data, data_dir, batch_size):
  """The next batch of one ordered pass over test (or training) images.

  Args:
    eval_data: True for test_batch.bin, False for the five training files.
    data_dir: the folder holding the .bin files.
    batch_size: images per batch.

  Raises:
    errors.UserError: a batch file is missing or damaged, or batch_size < 1.

  Returns:
    images: [<=batch_size, IMAGE_SIZE, IMAGE_SIZE, 3] float32.
    labels: [<=batch_size] int32. Running them past the end raises
      tf.errors.OutOfRangeError.
  """
  return _next_batch(eval_dataset(eval_data, data_dir, batch_size))
