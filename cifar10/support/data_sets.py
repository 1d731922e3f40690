"""The data sets the scripts read, and how each one's files are laid out.

Two data sets, each published in three versions (www.cs.toronto.edu/~kriz):

* CIFAR-10's binary version, cifar-10-batches-bin/: the original's. Each
  record is one label byte, then the 3,072 image bytes (batch_files.py).
* CIFAR-100's binary version, cifar-100-binary/: train.bin and test.bin,
  each record two label bytes, the coarse class (one of 20 superclasses)
  and the fine class (one of 100), then the same 3,072 image bytes. Its
  class names are in coarse_label_names.txt and fine_label_names.txt.
* Their Python versions, cifar-10-batches-py/ and cifar-100-python/ (the
  folders Keras and torchvision keep): pickled dictionaries, which
  pickled_batches.py converts once into the binary layout.
* Their MATLAB versions, which this port does not read.

A BinaryFormat says everything the input pipeline and the download need to
know about a binary version: where its files are, how long a record is and
which of its label bytes is the label. Like download.py, this module loads
no TensorFlow (the flags use it while the scripts answer --help), and
download.py reads CIFAR-10's names from here.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import dataclasses
import os

from cifar10.support import classes
from cifar10.support import errors
from cifar10.support import storage

# The images: 32x32 pixels, three colour planes of 1,024 bytes each.
IMAGE_BYTES = 32 * 32 * 3

# --dataset's values, and --label_set's.
DATASETS = ('cifar10', 'cifar100')
LABEL_SETS = ('fine', 'coarse')


@dataclasses.dataclass(frozen=True)
class BinaryFormat:
  """A binary version's files and record layout, with the label chosen."""
  dataset: str        # --dataset's value: 'cifar10'.
  title: str          # For messages: 'CIFAR-10'.
  folder: str         # The extracted folder inside --data_dir.
  train_files: tuple
  test_files: tuple
  label_bytes: int    # Label bytes before each image.
  label_offset: int   # Which of them is the label read.
  names_file: str     # The class names, one per line, in label order.
  tarball: str
  url: str
  md5: str            # The tarball's, as the data set's page lists it.
  optional_files: tuple = ()

  @property
  def record_bytes(self):
    return self.label_bytes + IMAGE_BYTES

  @property
  def required_files(self):
    """The files a complete extracted folder holds (the download checks)."""
    return self.train_files + self.test_files + self.names_files

  @property
  def names_files(self):
    """Name files without which the data cannot be read (none for CIFAR-10,
    whose names the port knows)."""
    return () if self.dataset == 'cifar10' else CIFAR100_NAMES_FILES

  @property
  def all_files(self):
    """Every file the tarball's extraction may write."""
    return self.required_files + self.optional_files

  def file_names(self, eval_data):
    """The batch files of a split: the test files if `eval_data`."""
    return self.test_files if eval_data else self.train_files

  def classes(self, batches_folder):
    """The classes of the data in `batches_folder`, in label order.

    Raises:
      errors.UserError: the names file is missing (CIFAR-100), unreadable
        or malformed.
    """
    if self.dataset == 'cifar10':
      return classes.of_data(batches_folder)
    path = os.path.join(batches_folder, self.names_file)
    if not storage.isfile(path):
      raise errors.UserError(
          '%s not found: CIFAR-100\'s %s labels are named there. Put it back '
          '(%s holds it).' % (path, self.label_set, self.tarball))
    return classes.of_file(path)

  @property
  def label_set(self):
    return 'coarse' if self.names_file == CIFAR100_NAMES_FILES[0] else 'fine'


# CIFAR-10's binary version: five training files and one test file.
CIFAR10 = BinaryFormat(
    dataset='cifar10', title='CIFAR-10', folder='cifar-10-batches-bin',
    train_files=tuple('data_batch_%d.bin' % i for i in range(1, 6)),
    test_files=('test_batch.bin',), label_bytes=1, label_offset=0,
    names_file=classes.META_FILE, tarball='cifar-10-binary.tar.gz',
    url='https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
    md5='c32a1d4ab5d03f1284b67883e8d87530',
    optional_files=(classes.META_FILE, 'readme.html'))

# CIFAR-100's binary tarball, and the MD5 the data set's page lists for it.
CIFAR100_URL = 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz'
CIFAR100_MD5 = '03b5dce01913d631647c71ecec9e9cb8'
CIFAR100_NAMES_FILES = ('coarse_label_names.txt', 'fine_label_names.txt')

_CIFAR100 = dict(
    dataset='cifar100', title='CIFAR-100', folder='cifar-100-binary',
    train_files=('train.bin',), test_files=('test.bin',), label_bytes=2,
    tarball='cifar-100-binary.tar.gz', url=CIFAR100_URL, md5=CIFAR100_MD5)
# Each record starts with the coarse label, then the fine one.
CIFAR100_FINE = BinaryFormat(label_offset=1, names_file=CIFAR100_NAMES_FILES[1],
                             **_CIFAR100)
CIFAR100_COARSE = BinaryFormat(label_offset=0,
                               names_file=CIFAR100_NAMES_FILES[0], **_CIFAR100)

BINARY_FORMATS = (CIFAR10, CIFAR100_FINE)

# The Python versions' folders, by --dataset value.
PYTHON_FOLDERS = {'cifar10': 'cifar-10-batches-py',
                  'cifar100': 'cifar-100-python'}

# Folders of versions this port cannot read, and what they are.
UNREADABLE_FOLDERS = {
    'cifar-10-batches-mat': ("CIFAR-10's MATLAB version", 'cifar10'),
    'cifar-100-matlab': ("CIFAR-100's MATLAB version", 'cifar100'),
}

# Every folder a data set's version extracts into.
KNOWN_FOLDERS = (tuple(each.folder for each in BINARY_FORMATS) +
                 tuple(PYTHON_FOLDERS.values()) + tuple(UNREADABLE_FOLDERS))


def binary_format(dataset, label_set='fine'):
  """The BinaryFormat of `dataset` ('cifar10' or 'cifar100'), its labels
  those of `label_set` ('fine' or 'coarse'; CIFAR-10 has one set)."""
  if dataset == 'cifar10':
    return CIFAR10
  return CIFAR100_COARSE if label_set == 'coarse' else CIFAR100_FINE
