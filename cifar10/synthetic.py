"""Writes a small, learnable CIFAR-10-format data set, to try everything offline.

Each class is an image of one colour (its hue) with per-pixel noise, which the
network learns in a few hundred steps (docs/accuracy.md). The files use the native binary format and names, in
`DATA_DIR/cifar-10-batches-bin/`, where the trainers and the evaluator look;
the download step then finds them and does nothing.

    python -m cifar10.synthetic --data_dir /tmp/cifar10_synthetic
"""

import colorsys
import os


from cifar10.support import errors
from cifar10.support import flags
from cifar10.support import paths
from cifar10.support import script


def parser():
  """The folder to write into, the number of records, and the seed."""
  parser = flags.script_parser('cifar10.synthetic', __doc__.splitlines()[0])
  parser.add_argument('--data_dir', type=flags.user_path(),
                      default=paths.SYNTHETIC_DATA_DIR,
                      help='Folder to write cifar-10-batches-bin/ into. Not '
                           'the real data\'s default folder: nothing marks '
                           'these files as synthetic.')
  parser.add_argument('--train_records_per_file', type=flags.positive_int,
                      default=400, help='Records in each data_batch_N.bin.')
  parser.add_argument('--test_records', type=flags.positive_int, default=500,
                      help='Records in test_batch.bin.')
  parser.add_argument('--seed', type=flags.non_negative_int, default=0,
                      help='Random seed (numpy\'s: 0 or more).')
  return parser


# The flags come first, as in the original's scripts. `--help` is answered
# here, before the imports below load TensorFlow, which takes seconds.
script.start(__name__, parser)

import numpy as np

from cifar10.support import batch_files
from cifar10.support import classes
from cifar10.support import download
from cifar10.support import storage

# Standard deviation of the Gaussian noise added to every pixel value, on the
# 0..255 scale, so that no two images of a class are alike.
NOISE_STDDEV = 40.0


def class_colours():
  """Ten RGB colours, one per class, with hues spaced evenly around the wheel.

  Returns:
    A float64 array [10, 3] of red, green and blue in 0..255.
  """
  return np.array([colorsys.hsv_to_rgb(k / 10.0, 0.8, 0.8) for k in range(10)],
                  dtype=np.float64) * 255.0


def make_examples(count, rng):
  """Draws `count` random examples of the synthetic classes.

  Args:
    count: int, the number of examples.
    rng: a numpy.random.Generator.

  Returns:
    (labels, images): uint8 [count] class indices 0..9, and uint8
    [count, 32, 32, 3] images, each its class's colour plus clipped noise.
  """
  labels = rng.integers(0, len(classes.CIFAR10_NAMES), size=count)
  size = batch_files.ORIGINAL_SIZE
  noise = rng.normal(0.0, NOISE_STDDEV, size=(count, size, size, 3))
  images = class_colours()[labels][:, None, None, :] + noise
  return labels.astype(np.uint8), np.clip(images, 0, 255).astype(np.uint8)


def encode_records(labels, images):
  """Packs examples into CIFAR-10's binary record format.

  Args:
    labels: uint8 [N], class indices.
    images: uint8 [N, 32, 32, 3], height, width, channel.

  Returns:
    bytes, N records of 3,073 bytes: the label, then the red, green and blue
    planes, each 32 rows of 32 bytes.
  """
  depth_major = np.transpose(images, (0, 3, 1, 2)).reshape(len(labels), -1)
  return np.concatenate([labels[:, None], depth_major], axis=1).tobytes()


def write_synthetic_dataset(data_dir, train_records_per_file=400,
                            test_records=500, seed=0):
  """Writes the five training files and the test file under `data_dir`.

  Nothing is written over: when any of the six files exists already, none
  is written. Nor is anything written into another tool's folder (a
  training run's, an evaluation's, an exported model's, one's own
  pictures'), which would then pass for a data set's
  (paths.check_data_destination). A write that fails part way removes the
  files it wrote, and the folders it made.

  Args:
    data_dir: the --data_dir; the files go into its cifar-10-batches-bin/.
    train_records_per_file: int, records in each data_batch_N.bin.
    test_records: int, records in test_batch.bin.
    seed: int, seed of the random labels and noise; the same seed writes the
      same files.

  Returns:
    The folder holding the .bin files.

  Raises:
    errors.UserError: some of the files exist, or `data_dir` is another
      tool's folder; the message names them.
  """
  paths.check_data_destination(data_dir, '--data_dir', suffix='_synthetic')
  rng = np.random.default_rng(seed)
  folder = os.path.join(data_dir, download.EXTRACTED_DIR)
  names = batch_files.TRAIN_FILES + batch_files.TEST_FILES
  existing = [name for name in names
              if storage.exists(os.path.join(folder, name))]
  if existing:
    raise errors.UserError(
        '%s already holds %s, and nothing is written over: give a --data_dir '
        'that holds no batch files (a new folder).'
        % (folder, ', '.join(existing)))
  made = storage.missing_folders(folder)
  storage.makedirs(folder)
  counts = [train_records_per_file] * len(batch_files.TRAIN_FILES)
  written = []
  try:
    for name, count in zip(names, counts + [test_records]):
      path = os.path.join(folder, name)
      # Refuses a file that appeared since the look above.
      storage.write_atomically(
          path, encode_records(*make_examples(count, rng)), overwrite=False)
      written.append(path)
  except BaseException:
    for path in written:
      storage.remove(path)
    storage.remove_made_folders(made)  # Empty now, unless another's.
    raise
  return folder


def main(argv=None):
  args = parser().parse_args(argv)
  folder = write_synthetic_dataset(args.data_dir, args.train_records_per_file,
                                   args.test_records, args.seed)
  print('Wrote synthetic CIFAR-10 files to %s' % folder)
  return 0


if __name__ == '__main__':
  raise SystemExit(script.run(main))
