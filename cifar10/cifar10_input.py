"""Reads CIFAR-10's binary batch files into training and evaluation batches.

A batch file is a plain run of fixed-size records: one label byte, then the
32x32 colour image as three planes, red, green, blue, each stored row by row
(support/batch_files.py has the layout and the checks that name a bad file).
CIFAR-100's records hold two label bytes, coarse and fine: every function
that reads records takes the data's format (support/data_sets.py), which
says how long a record is and which byte is the label; CIFAR-10's by
default.
The pipelines are tf.data datasets, where the original used queue runners:
records are read whole with FixedLengthRecordDataset, shuffled while they
are still raw bytes (the cheapest form to hold), and only then decoded and
distorted.
"""

if not __package__:  # Run as a file: see support/run_as_file.py.
  from support import run_as_file
  run_as_file.refuse(__file__)

import tensorflow as tf

from cifar10.support import batch_files
from cifar10.support import classes
from cifar10.support import data_sets
from cifar10.support import fast_ops
from cifar10.support import summaries

# The model sees 24x24 crops of the 32x32 images: random crops in training
# (more variety from the same data), the central crop in evaluation. The
# layer sizes follow from it (local3 takes 6 * 6 * 64 inputs), so another
# size makes a different model that the checkpoints do not fit.
IMAGE_SIZE = 24

# The data set: classes (CIFAR-10's; other data names its own in
# batches.meta.txt), and CIFAR-10's images per epoch in the five training
# files and in the test file. An epoch of other data is its own number of
# records (batch_files.count_records).
NUM_CLASSES = len(classes.CIFAR10_NAMES)
NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN = 50000
NUM_EXAMPLES_PER_EPOCH_FOR_EVAL = 10000

# One record: a label byte, then 32 x 32 pixels x 3 colour planes.
ORIGINAL_SIZE = batch_files.ORIGINAL_SIZE
DEPTH = batch_files.DEPTH

# The class of each label, as CIFAR-10's batches.meta.txt lists them.
CLASS_NAMES = classes.CIFAR10_NAMES

# The batch files: data_batch_1.bin ... data_batch_5.bin, and test_batch.bin.
TRAIN_FILES = batch_files.TRAIN_FILES
TEST_FILES = batch_files.TEST_FILES

# The share of an epoch the original's shuffling queue kept filled: its
# min_queue_examples, 20,000 records. The shuffle buffer holds as many, plus
# three batches.
MIN_FRACTION_OF_EXAMPLES_IN_QUEUE = 0.4

# The original's random distortions of training images: a brightness change
# of up to +-63 (on the 0..255 scale) and a contrast factor in [0.2, 1.8).
MAX_BRIGHTNESS_DELTA = 63
CONTRAST_RANGE = (0.2, 1.8)

# The functions tf.data maps are plain graph code: left to autograph, each
# would be rewritten into a temporary file that a killed process leaves in
# /tmp.
_graph_code = tf.autograph.experimental.do_not_convert


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------

def _records(filenames, data_format=data_sets.CIFAR10):
  """The raw records of `filenames` (a list or a string dataset), in order."""
  if not isinstance(filenames, tf.data.Dataset):
    filenames = tf.data.Dataset.from_tensor_slices(list(filenames))
  return filenames.flat_map(_graph_code(
      lambda name: tf.data.FixedLengthRecordDataset(
          name, data_format.record_bytes)))


def _decode_planes(records, data_format=data_sets.CIFAR10):
  """[N] raw records as [N, 3, 32, 32] uint8 planes and [N] int32 labels."""
  raw = tf.io.decode_raw(records, tf.uint8)
  raw.set_shape(records.shape.concatenate([data_format.record_bytes]))
  planes = tf.reshape(raw[:, data_format.label_bytes:],
                      [-1, DEPTH, ORIGINAL_SIZE, ORIGINAL_SIZE])
  return planes, tf.cast(raw[:, data_format.label_offset], tf.int32)


def decode_records(records, data_format=data_sets.CIFAR10):
  """[N] raw records as [N, 32, 32, 3] uint8 images and [N] int32 labels."""
  planes, labels = _decode_planes(records, data_format)
  # The record holds a plane per colour; the model wants each pixel's three
  # colours together (height, width, depth).
  return tf.transpose(planes, [0, 2, 3, 1]), labels


@_graph_code
def _decode_record(record, data_format=data_sets.CIFAR10):
  """One raw record as its [32, 32, 3] uint8 image and [] int32 label."""
  images, labels = decode_records(record[None], data_format)
  return images[0], labels[0]


def _for_format(function, data_format):
  """`function` of records with `data_format` bound, for a tf.data map."""
  return _graph_code(lambda records: function(records, data_format))


def read_cifar10(filenames, data_format=data_sets.CIFAR10):
  """Every record of the given batch files, in order, decoded one by one.

  The original took a queue of file names and returned one record's fields;
  this returns the whole sequence as a dataset.

  Args:
    filenames: paths of CIFAR-10 binary batch files.
    data_format: their data_sets.BinaryFormat (CIFAR-100's for its files).

  Returns:
    A tf.data.Dataset of (image [32, 32, 3] uint8, label [] int32) pairs; it
    ends after the last record of the last file.
  """
  return _without_autotuning(_records(filenames, data_format).map(
      _for_format(_decode_record, data_format),
      num_parallel_calls=tf.data.AUTOTUNE))


# ---------------------------------------------------------------------------
# Distortions of training images, and the evaluator's crop
# ---------------------------------------------------------------------------

@_graph_code
def distort_image(image):
  """One training image distorted the original's way, one tf.image op a step.

  Training maps it over single records with reference_ops=True; by default
  the same distortions run a batch at a time (`distorted_batch`), and the
  tests hold the two to the same results.

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
def _distorted_record(record, data_format=data_sets.CIFAR10):
  """One raw record as distort_image's image and its [] int32 label."""
  image, label = _decode_record(record, data_format)
  return distort_image(image), label


@_graph_code
def distorted_batch(records, data_format=data_sets.CIFAR10):
  """[N] raw records as distorted training images [N, 24, 24, 3] and labels.

  distort_image's distortions, drawn for each image but computed for the
  whole batch at once by support/fast_ops.py, which takes the pipeline far
  less CPU than mapping distort_image over single records.
  """
  planes, labels = _decode_planes(records, data_format)
  return fast_ops.distort_planes(planes, IMAGE_SIZE, MAX_BRIGHTNESS_DELTA,
                                 CONTRAST_RANGE), labels


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
def central_crop_batch(records, data_format=data_sets.CIFAR10):
  """[N] raw records as evaluation images [N, 24, 24, 3] and labels [N]."""
  images, labels = decode_records(records, data_format)
  return prepare_eval_images(images), labels


# ---------------------------------------------------------------------------
# Input pipelines
# ---------------------------------------------------------------------------

def _without_autotuning(dataset):
  """The dataset with tf.data's autotuning off.

  Its model thread sleeps ever longer between rounds, and closing a session
  waits for it to wake, which made long runs slow to exit (docs/speed.md,
  "Where the time goes"). Without it the map runs one call per core.
  """
  options = tf.data.Options()
  options.autotune.enabled = False
  return dataset.with_options(options)


def shuffle_buffer_size(batch_size):
  """The original queue's size: 40% of an epoch, plus three batches.

  Returns:
    (min_queue_examples, buffer_size): the 40% and the whole, in records.
  """
  min_queue_examples = int(NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN *
                           MIN_FRACTION_OF_EXAMPLES_IN_QUEUE)
  return min_queue_examples, min_queue_examples + 3 * batch_size


def distorted_dataset(data_dir, batch_size, prefetch_batches=1,
                      reference_ops=False, data_format=data_sets.CIFAR10):
  """The endless, shuffled, distorted training batches as a tf.data.Dataset.

  Args:
    data_dir: folder holding the data_batch_N.bin files (or the one above).
    batch_size: images per batch.
    prefetch_batches: batches to keep ready ahead of the consumer.
    reference_ops: distort each image with distort_image, the original's
      per-image ops, instead of a batch at a time with distorted_batch.
    data_format: the files' data_sets.BinaryFormat.

  Returns:
    A dataset of (images [batch_size, 24, 24, 3] float32,
    labels [batch_size] int32).

  Raises:
    errors.UserError: a batch file is missing or damaged, or batch_size < 1.
  """
  batch_files.check_batch_size(batch_size)
  filenames = batch_files.data_files(data_dir, False, data_format)
  # A shuffle buffer draws each record at random from the next `size`: the
  # larger, the better mixed the batches, and the longer the first batch
  # waits while it fills. This is the original queue's size.
  _, buffer_size = shuffle_buffer_size(batch_size)
  # The file order is shuffled too, each epoch, then the records.
  files = tf.data.Dataset.from_tensor_slices(filenames).shuffle(len(filenames))
  records = _records(files, data_format).shuffle(buffer_size).repeat()
  if reference_ops:
    # The original's order: each image decoded and distorted, then batched.
    batches = records.map(
        _for_format(_distorted_record, data_format),
        num_parallel_calls=tf.data.AUTOTUNE).batch(
            batch_size, drop_remainder=True)
  else:
    # The same distortions, several batches per call of the map.
    per_call = fast_ops.batches_per_distortion_call(batch_size)
    batches = records.batch(per_call * batch_size, drop_remainder=True).map(
        _for_format(distorted_batch, data_format),
        num_parallel_calls=tf.data.AUTOTUNE).rebatch(
            batch_size, drop_remainder=True)
  return _without_autotuning(batches.prefetch(prefetch_batches))


def eval_dataset(eval_data, data_dir, batch_size,
                 data_format=data_sets.CIFAR10):
  """One ordered pass over the test (or training) set, centrally cropped.

  Every record is in exactly one batch; the last batch may be smaller.
  `data_format` is the files' data_sets.BinaryFormat.

  Returns:
    A dataset of (images [<=batch_size, 24, 24, 3] float32,
    labels [<=batch_size] int32).

  Raises:
    errors.UserError: a batch file is missing or damaged, or batch_size < 1.
  """
  batch_files.check_batch_size(batch_size)
  return _without_autotuning(
      _records(batch_files.data_files(data_dir, eval_data, data_format),
               data_format).batch(batch_size)
      .map(_for_format(central_crop_batch, data_format),
           num_parallel_calls=tf.data.AUTOTUNE)
      .prefetch(1))


def _next_batch(dataset):
  """The next batch of `dataset`, with the original's image summary.

  In a graph (TF1 style) these are tensors that yield the next batch each
  time a session runs them. Executed eagerly (TensorFlow 2 without
  disable_v2_behavior) there is no session to run them again: the call
  returns the first batch of a new pass as values.
  """
  images, labels = tf.compat.v1.data.make_one_shot_iterator(dataset).get_next()
  # The first images of a batch appear under 'images' in TensorBoard. A
  # summary op joins a graph that a session writes; eagerly there is none,
  # and the op cannot even run there.
  if not tf.executing_eagerly():
    summaries.image('images', images)
  return images, labels


def distorted_inputs(data_dir, batch_size, reference_ops=False,
                     data_format=data_sets.CIFAR10):
  """The next batch of shuffled, randomly distorted training images.

  Args:
    data_dir: the folder holding data_batch_1.bin ... (or the one above).
    batch_size: images per batch.
    reference_ops: distort with the original's per-image ops (distort_image).
    data_format: the files' data_sets.BinaryFormat.

  Returns:
    images: [batch_size, IMAGE_SIZE, IMAGE_SIZE, 3] float32, standardized.
    labels: [batch_size] int32.

  Raises:
    errors.UserError: a batch file is missing or damaged, or batch_size < 1.
  """
  return _next_batch(distorted_dataset(data_dir, batch_size,
                                       reference_ops=reference_ops,
                                       data_format=data_format))


def inputs(eval_data, data_dir, batch_size, data_format=data_sets.CIFAR10):
  """The next batch of one ordered pass over test (or training) images.

  Args:
    eval_data: True for test_batch.bin, False for the five training files.
    data_dir: the folder holding the .bin files (or the one above it).
    batch_size: images per batch.
    data_format: the files' data_sets.BinaryFormat.

  Returns:
    images: [<=batch_size, IMAGE_SIZE, IMAGE_SIZE, 3] float32.
    labels: [<=batch_size] int32. Running them past the end raises
      tf.errors.OutOfRangeError.

  Raises:
    errors.UserError: a batch file is missing or damaged, or batch_size < 1.
  """
  return _next_batch(eval_dataset(eval_data, data_dir, batch_size,
                                  data_format))
