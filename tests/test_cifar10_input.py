"""The data layer: exact decoding, distortions, one-pass eval input, bad files."""

import glob
import os
import tempfile

import numpy as np
import pytest
import tensorflow as tf

from cifar10 import cifar10 as cifar10_model
from cifar10 import cifar10_input
from cifar10.support import fast_ops
from cifar10.support import errors
from conftest import both_modes, crafted_record, distortion_windows
from conftest import explain_distortion, RECORD_BYTES

pytestmark = [both_modes, pytest.mark.fast]


def _write(path, records):
  with open(path, 'wb') as out:
    out.write(b''.join(records))
  return str(path)


def _run_all(tensors):
  """Runs `tensors` until the input ends, returning each run's values."""
  values = []
  with tf.compat.v1.Session() as sess:
    try:
      while True:
        values.append(sess.run(tensors))
    except tf.errors.OutOfRangeError:
      return values


def _pattern_record(label):
  """A record whose pixel (row, col, channel) holds (row * 32 + col + 7 * channel) % 256."""
  planes = [bytes((row * 32 + col + 7 * channel) % 256
                  for row in range(32) for col in range(32))
            for channel in range(3)]
  return bytes([label]) + b''.join(planes)


def _expected_pattern():
  row, col, channel = np.meshgrid(np.arange(32), np.arange(32), np.arange(3),
                                  indexing='ij')
  return ((row * 32 + col + 7 * channel) % 256).astype(np.uint8)


def test_read_cifar10_decodes_exact_labels_and_pixels(tmp_path):
  path = _write(tmp_path / 'crafted.bin', [
      crafted_record(0, 255, 0, 0), crafted_record(1, 0, 255, 0),
      crafted_record(9, 0, 0, 255), _pattern_record(5)])
  with tf.Graph().as_default():
    dataset = cifar10_input.read_cifar10([path])
    element = tf.compat.v1.data.make_one_shot_iterator(dataset).get_next()
    values = _run_all(element)

  assert len(values) == 4  # Reading stops after the last record.
  images = [image for image, _ in values]
  labels = [label for _, label in values]
  assert labels == [0, 1, 9, 5]
  assert all(image.dtype == np.uint8 and image.shape == (32, 32, 3)
             for image in images)
  for image, colour in zip(images[:3], [(255, 0, 0), (0, 255, 0), (0, 0, 255)]):
    assert (image == np.array(colour, dtype=np.uint8)).all()
  np.testing.assert_array_equal(images[3], _expected_pattern())


def test_read_cifar10_reads_files_in_order_with_any_record_count(tmp_path):
  first = _write(tmp_path / 'a.bin', [crafted_record(3, 1, 2, 3)])
  second = _write(tmp_path / 'b.bin', [crafted_record(label, 0, 0, 0)
                                       for label in (4, 5, 6)])
  with tf.Graph().as_default():
    element = tf.compat.v1.data.make_one_shot_iterator(
        cifar10_input.read_cifar10([first, second])).get_next()
    labels = [label for _, label in _run_all(element)]
  assert labels == [3, 4, 5, 6]


def _write_train_files(folder, labels_per_file):
  os.makedirs(folder, exist_ok=True)
  for name, labels in zip(cifar10_input.TRAIN_FILES, labels_per_file):
    _write(os.path.join(folder, name), [_pattern_record(label)
                                        for label in labels])
  return str(folder)


@pytest.mark.parametrize('reference_ops', [False, True])
def test_distorted_inputs_are_standardized_batches_of_24x24(tmp_path,
                                                            reference_ops):
  folder = _write_train_files(tmp_path, [[label, label + 1]
                                         for label in range(0, 10, 2)])
  with tf.Graph().as_default():
    images, labels = cifar10_input.distorted_inputs(
        folder, batch_size=7, reference_ops=reference_ops)
    assert images.shape.as_list() == [7, 24, 24, 3]
    assert images.dtype == tf.float32 and labels.dtype == tf.int32
    with tf.compat.v1.Session() as sess:
      image_values, label_values = sess.run([images, labels])
  assert label_values.shape == (7,)
  means = image_values.mean(axis=(1, 2, 3))
  stddevs = image_values.std(axis=(1, 2, 3))
  np.testing.assert_allclose(means, 0.0, atol=1e-4)
  np.testing.assert_allclose(stddevs, 1.0, atol=1e-3)


@pytest.mark.parametrize('reference_ops', [False, True])
def test_two_epochs_of_distorted_inputs_see_every_record_twice(tmp_path,
                                                               reference_ops):
  # Ten records, one per label, so the labels identify the records.
  folder = _write_train_files(tmp_path, [[label, label + 1]
                                         for label in range(0, 10, 2)])
  with tf.Graph().as_default():
    _, labels = cifar10_input.distorted_inputs(folder, batch_size=5,
                                               reference_ops=reference_ops)
    with tf.compat.v1.Session() as sess:
      seen = np.concatenate([sess.run(labels) for _ in range(4)])
  assert sorted(seen[:10]) == list(range(10))
  assert sorted(seen[10:]) == list(range(10))


def _image_record(image, label):
  """The record of a [32, 32, 3] uint8 image: its label, then its planes."""
  return bytes([label]) + image.transpose(2, 0, 1).tobytes()


@pytest.fixture
def colour_image(rng):
  """A noisy image whose channels sit at three levels, 60 apart.

  The channel means' spread is what shows the contrast factor (contrast
  scales the deviations within each channel, not the means).
  """
  return (rng.integers(0, 120, [32, 32, 3]) + [0, 60, 120]).astype(np.uint8)


def _distort_both_ways(image, count, label=7):
  """`count` distortions of `image` by distort_image and by distorted_batch.

  Returns:
    ([count, 24, 24, 3] from distort_image, [count, 24, 24, 3] from
    distorted_batch, distorted_batch's [count] labels).
  """
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(1)
    reference = tf.stack([cifar10_input.distort_image(tf.constant(image))
                          for _ in range(count)])
    fast, labels = cifar10_input.distorted_batch(
        tf.constant([_image_record(image, label)] * count))
    with tf.compat.v1.Session() as sess:
      return sess.run([reference, fast, labels])


def test_both_forms_make_a_window_and_a_contrast_change_per_image(
    colour_image):
  # Each distorted image, from either form, must be one of the 2 * 9 * 9
  # (mirrored) 24x24 windows with a contrast factor in [0.2, 1.8], then
  # standardized; and each image must draw its own window, flip and factor.
  windows = distortion_windows(colour_image)
  reference, fast, labels = _distort_both_ways(colour_image, 64)
  assert list(labels) == [7] * 64
  for images in (reference, fast):
    explained = [explain_distortion(image, windows) for image in images]
    indices, contrasts, mismatches = (np.array(column)
                                      for column in zip(*explained))
    assert mismatches.max() < 1e-4
    assert contrasts.min() >= 0.2 - 1e-4 and contrasts.max() < 1.8 + 1e-4
    assert contrasts.max() - contrasts.min() > 1.0
    assert len(set(indices)) > 20
    assert set(indices % 2) == {0, 1}  # Some mirrored, some not.


def test_the_fast_colour_distortions_reproduce_the_reference_images(
    colour_image, rng):
  # The window and contrast factor each distort_image output shows, given to
  # adjust_and_standardize with any brightness delta, must give that output.
  windows = distortion_windows(colour_image)
  reference, _, _ = _distort_both_ways(colour_image, 16)
  explained = [explain_distortion(image, windows) for image in reference]
  planes = np.stack([windows[index].transpose(2, 0, 1).reshape(3, 24 * 24)
                     for index, _, _ in explained]).astype(np.float32)
  contrasts = np.array([contrast for _, contrast, _ in explained],
                       np.float32).reshape(16, 1, 1)
  deltas = rng.uniform(-63, 63, [16, 1, 1]).astype(np.float32)
  with tf.Graph().as_default():
    fast = fast_ops.adjust_and_standardize(
        tf.constant(planes), tf.constant(deltas), tf.constant(contrasts))
    with tf.compat.v1.Session() as sess:
      got = sess.run(fast)
  np.testing.assert_allclose(
      got, reference.transpose(0, 3, 1, 2).reshape(16, 3, 24 * 24), rtol=0,
      atol=1e-4)


def test_both_forms_turn_a_uniform_image_into_zeros():
  # Standardization's floor on the deviation keeps a flat image finite (a
  # zero deviation would give NaN); what is left is float rounding.
  reference, fast, _ = _distort_both_ways(np.full([32, 32, 3], 17, np.uint8),
                                          4)
  np.testing.assert_allclose(reference, 0.0, atol=1e-3)
  np.testing.assert_allclose(fast, 0.0, atol=1e-3)


def test_eval_inputs_yield_every_record_once_with_a_smaller_last_batch(
    tmp_path):
  labels = [index % 10 for index in range(23)]
  _write(tmp_path / 'test_batch.bin', [_pattern_record(label)
                                       for label in labels])
  with tf.Graph().as_default():
    images, label_tensor = cifar10_input.inputs(True, str(tmp_path),
                                                batch_size=5)
    batches = _run_all([images, label_tensor])
  assert [len(batch_labels) for _, batch_labels in batches] == [5, 5, 5, 5, 3]
  assert list(np.concatenate([b for _, b in batches])) == labels
  first_image = batches[0][0][0]
  assert first_image.shape == (24, 24, 3)
  # The central crop of the pattern, standardized.
  center = _expected_pattern()[4:28, 4:28].astype(np.float64)
  expected = (center - center.mean()) / center.std()
  np.testing.assert_allclose(first_image, expected, atol=1e-4)


@pytest.fixture
def one_record_files(tmp_path):
  """A folder with all six batch files, one record each."""
  folder = _write_train_files(tmp_path, [[0]] * 5)
  _write(tmp_path / 'test_batch.bin', [_pattern_record(0)])
  return folder


def test_pipelines_leave_autotuning_off(one_record_files):
  # Closing a session waits for tf.data's autotuning thread to wake from a
  # sleep that grows with the run: seconds at the end of training. Off, the
  # map runs one call per core.
  folder = one_record_files
  datasets = [cifar10_input.distorted_dataset(folder, 2),
              cifar10_input.distorted_dataset(folder, 2, reference_ops=True),
              cifar10_input.eval_dataset(True, folder, 2),
              cifar10_input.read_cifar10([os.path.join(folder,
                                                       'test_batch.bin')])]
  assert [dataset.options().autotune.enabled for dataset in datasets] == [
      False] * 4


def test_pipelines_leave_no_autograph_files_behind(one_record_files):
  # Autograph writes each function it converts to a temporary file, which a
  # killed trainer leaves in the temp folder; the mapped functions need none.
  folder = one_record_files
  pattern = os.path.join(tempfile.gettempdir(),
                         '__autograph_generated_file*.py')
  before = set(glob.glob(pattern))
  with tf.Graph().as_default():
    tensors = [cifar10_input.distorted_inputs(folder, 2),
               cifar10_input.distorted_inputs(folder, 2, reference_ops=True),
               cifar10_input.inputs(True, folder, 1),
               tf.compat.v1.data.make_one_shot_iterator(
                   cifar10_input.read_cifar10([os.path.join(
                       folder, 'test_batch.bin')])).get_next()]
    with tf.compat.v1.Session() as sess:
      sess.run(tensors)
  assert set(glob.glob(pattern)) == before


def test_missing_batch_file_names_the_file_and_folder(tmp_path):
  with pytest.raises(errors.UserError) as raised:
    cifar10_input.inputs(True, str(tmp_path), batch_size=5)
  message = str(raised.value)
  assert 'test_batch.bin' in message and str(tmp_path) in message


def test_input_functions_read_a_data_dir_one_level_off_as_meant(tmp_path,
                                                                capsys):
  # Before: cifar10_input's functions given the folder above
  # cifar-10-batches-bin (cifar10's given that folder itself) refused with
  # "Put it back, or point --data_dir at ...": a call from Python has no
  # --data_dir, and the files had never been in the folder it named. The
  # scripts read their --data_dir one level off as meant; so do the calls,
  # with the scripts' notice naming the argument.
  data_dir = tmp_path / 'data'
  folder = data_dir / 'cifar-10-batches-bin'
  folder.mkdir(parents=True)
  _write(folder / 'test_batch.bin', [_pattern_record(label)
                                      for label in (3, 1, 4)])
  with tf.Graph().as_default():
    above = cifar10_input.inputs(True, str(data_dir), batch_size=5)
    itself = cifar10_model.inputs(True, str(folder), batch_size=5)
    values = _run_all([above[1], itself[1]])
  assert [list(labels) for labels in values[0]] == [[3, 1, 4], [3, 1, 4]]
  assert capsys.readouterr().err.splitlines() == [
      'notice: data_dir %s is the folder that holds cifar-10-batches-bin/: '
      'reading the batch files in %s.' % (data_dir, folder),
      'notice: data_dir %s is the extracted folder itself: using its parent, '
      '%s.' % (folder, data_dir)]
  # Given the folder they read, neither says anything.
  with tf.Graph().as_default():
    cifar10_input.inputs(True, str(folder), batch_size=5)
    cifar10_model.inputs(True, str(data_dir), batch_size=5)
  assert capsys.readouterr().err == ''


def test_a_folder_without_batch_files_is_refused_naming_the_argument(
    tmp_path):
  # Nothing was ever there to put back.
  with pytest.raises(errors.UserError) as raised:
    cifar10_input.distorted_dataset(str(tmp_path), 4)
  assert str(raised.value) == (
      "CIFAR-10's batch files (data_batch_1.bin, data_batch_2.bin, "
      'data_batch_3.bin, ...) not found in %s. Point --data_dir, or the '
      'data_dir of a function called from Python, at the folder that holds '
      'cifar-10-batches-bin/.' % tmp_path)


def test_truncated_batch_file_names_the_file_and_its_size(tmp_path):
  _write(tmp_path / 'test_batch.bin',
         [crafted_record(1, 2, 3, 4), crafted_record(1, 2, 3, 4)[:100]])
  with pytest.raises(errors.UserError) as raised:
    cifar10_input.inputs(True, str(tmp_path), batch_size=5)
  message = str(raised.value)
  assert str(tmp_path / 'test_batch.bin') in message
  assert str(RECORD_BYTES + 100) in message and 'truncated' in message


def test_label_out_of_range_names_the_file_and_record(tmp_path):
  path = _write(tmp_path / 'test_batch.bin', [
      crafted_record(1, 0, 0, 0), crafted_record(2, 0, 0, 0),
      crafted_record(3, 0, 0, 0), crafted_record(12, 0, 0, 0)])
  with pytest.raises(errors.UserError) as raised:
    cifar10_input.inputs(True, str(tmp_path), batch_size=4)
  message = str(raised.value)
  assert message.startswith('%s: record 3 has label 12' % path)
  assert 'replace it' in message


@pytest.mark.parametrize('batch_size', [0, -3])
def test_batch_size_below_one_is_refused(tmp_path, batch_size):
  _write(tmp_path / 'test_batch.bin', [crafted_record(1, 0, 0, 0)])
  with pytest.raises(errors.UserError, match='batch_size must be at least 1'):
    cifar10_input.inputs(True, str(tmp_path), batch_size=batch_size)
