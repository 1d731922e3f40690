"""The Python versions of CIFAR-10 and CIFAR-100, read safely and converted
once into the binary layout the input pipeline reads.

cifar-10-batches-py/ (data_batch_1..5, test_batch, batches.meta) and
cifar-100-python/ (train, test, meta) hold pickled dictionaries, written by
Python 2: b'data' is a uint8 numpy array of [N, 3072] images in the binary
version's byte order, b'labels' (or b'fine_labels' and b'coarse_labels') a
list of ints, and the meta file lists the class names.

Loading a pickle runs whatever functions it names, so a file that only
looks like a batch could run any code. These files are read with an
unpickler that admits just what a genuine batch holds: dicts, lists, bytes,
numbers and strings (built by the pickle machine itself) and numpy's
reconstruction of an array. Anything else is refused in one line before it
runs.

The converted copy goes into a folder of this port's own under the system's
temporary folder (never into the user's folder), named after the source
folder's path, with a record of the source files' sizes and times: later
runs read the copy, and a changed source is converted again.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import hashlib
import io
import os
import pickle
import tempfile
import uuid

import numpy as np

from cifar10.support import classes
from cifar10.support import data_sets
from cifar10.support import errors
from cifar10.support import storage

# Where converted copies go: one folder per source folder.
CACHE_ROOT = os.path.join(tempfile.gettempdir(), 'cifar10_converted')
# The record of what a copy was converted from, in the copy's folder.
STAMP_FILE = 'converted_from.txt'

# The pickle files of each Python version: (training files, test files,
# meta file).
PICKLE_FILES = {
    'cifar10': (tuple('data_batch_%d' % i for i in range(1, 6)),
                ('test_batch',), 'batches.meta'),
    'cifar100': (('train',), ('test',), 'meta'),
}


def _reconstruct():
  """numpy's function that rebuilds a pickled array (numpy 2 moved it)."""
  core = getattr(np, '_core', None) or np.core
  return core.multiarray._reconstruct  # pylint: disable=protected-access


# The only globals a genuine batch names: how numpy rebuilds an array (the
# module name as numpy 1 wrote it, and as numpy 2 does).
_ADMITTED = {
    ('numpy.core.multiarray', '_reconstruct'): _reconstruct,
    ('numpy._core.multiarray', '_reconstruct'): _reconstruct,
    ('numpy', 'ndarray'): lambda: np.ndarray,
    ('numpy', 'dtype'): lambda: np.dtype,
}


class _Refused(Exception):
  """The pickle names a global that a batch never holds."""


class _BatchUnpickler(pickle.Unpickler):
  """An unpickler that builds numpy arrays and nothing else beyond the
  pickle machine's own types: every other global is refused unloaded."""

  def find_class(self, module, name):
    admitted = _ADMITTED.get((module, name))
    if admitted is None:
      raise _Refused('%s.%s' % (module, name))
    return admitted()

  def persistent_load(self, pid):
    raise _Refused('a persistent reference')


def load(path):
  """The dictionary pickled in `path`, its keys as str.

  Python 2 wrote the strings as bytes; encoding='bytes' keeps them so, as
  Python 3 cannot know their encoding, and the keys are decoded here.

  Raises:
    errors.UserError: the file is unreadable, not a pickle, names anything
      but a numpy array, or holds no dictionary.
  """
  data = _read(path)
  try:
    loaded = _BatchUnpickler(io.BytesIO(data), encoding='bytes').load()
  except _Refused as refused:
    raise errors.UserError(
        '%s: refused to load it: it asks for %s, which a CIFAR batch never '
        'holds, and loading it would run that. Replace it with the genuine '
        'file from the data set\'s tarball.' % (path, refused))
  except Exception as error:  # A damaged pickle fails in many ways.
    raise errors.UserError(
        '%s is not a readable pickle (%s: %s): it is damaged or not a CIFAR '
        'batch. Replace it with the genuine file from the data set\'s '
        'tarball.' % (path, type(error).__name__, error))
  if not isinstance(loaded, dict):
    raise errors.UserError('%s holds a %s, not the dictionary of a CIFAR '
                           'batch. Replace it with the genuine file.'
                           % (path, type(loaded).__name__))
  return {key.decode('latin-1') if isinstance(key, bytes) else key: value
          for key, value in loaded.items()}


def _read(path):
  try:
    return storage.read_bytes(path)
  except storage.op_error() as error:
    raise errors.UserError('%s cannot be read (%s).'
                           % (path, storage.reason(error)))


def _entry(batch, key, path):
  if key not in batch:
    raise errors.UserError(
        '%s has no %r entry (it has %s): it is not a CIFAR batch of this '
        'version. Replace it with the genuine file.'
        % (path, key, ', '.join(sorted(map(str, batch))) or 'none'))
  return batch[key]


def _images(batch, path):
  """The batch's [N, 3072] uint8 images."""
  images = _entry(batch, 'data', path)
  if (not isinstance(images, np.ndarray) or images.dtype != np.uint8 or
      images.ndim != 2 or images.shape[1] != data_sets.IMAGE_BYTES):
    raise errors.UserError(
        "%s: its 'data' is not an array of uint8 images of %d bytes (it is "
        '%s). Replace it with the genuine file.' % (
            path, data_sets.IMAGE_BYTES,
            getattr(images, 'shape', type(images).__name__)))
  return images


def _labels(batch, key, count, num_classes, path):
  """The batch's labels under `key` as uint8, checked against the images."""
  labels = _entry(batch, key, path)
  if (not isinstance(labels, (list, np.ndarray)) or len(labels) != count or
      not all(isinstance(label, (int, np.integer)) for label in labels)):
    raise errors.UserError(
        "%s: its %r are not %d integers, one per image. Replace it with the "
        'genuine file.' % (path, key, count))
  labels = np.asarray(labels, np.int64)
  bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
  if bad.size:
    raise errors.UserError(
        '%s: image %d has %s %d, but the meta file names %d classes. The '
        'file is damaged or belongs to other data: replace it.'
        % (path, bad[0], key, labels[bad[0]], num_classes))
  return labels.astype(np.uint8)


def _names(meta, key, path):
  names = _entry(meta, key, path)
  if not isinstance(names, list):
    raise errors.UserError("%s: its %r is not a list of names. Replace it "
                           'with the genuine file.' % (path, key))
  text = b''.join((name if isinstance(name, bytes) else
                   str(name).encode('utf-8')) + b'\n' for name in names)
  return classes.parse_names(text, '%s (%s)' % (path, key))


def _convert(source, dataset, destination):
  """Writes the binary version of the Python version in `source` into
  `destination` (a new folder); returns the image counts (train, test)."""
  train_files, test_files, meta_file = PICKLE_FILES[dataset]
  meta_path = os.path.join(source, meta_file)
  meta = load(meta_path)
  target = data_sets.binary_format(dataset)
  storage.makedirs(destination)
  # The label lists of a batch, in the order of the binary record's label
  # bytes, with the class names each indexes.
  if dataset == 'cifar10':
    names = _names(meta, 'label_names', meta_path)
    storage.write_atomically(os.path.join(destination, classes.META_FILE),
                             classes.format_names(names))
    label_keys = {'labels': names}
  else:
    label_keys = {}
    for label_set, names_file in zip(('coarse', 'fine'),
                                     data_sets.CIFAR100_NAMES_FILES):
      names = _names(meta, '%s_label_names' % label_set, meta_path)
      storage.write_atomically(os.path.join(destination, names_file),
                               classes.format_names(names))
      label_keys['%s_labels' % label_set] = names
  counts = []
  for pickles, binaries in ((train_files, target.train_files),
                            (test_files, target.test_files)):
    count = 0
    for pickle_name, binary_name in zip(pickles, binaries):
      path = os.path.join(source, pickle_name)
      batch = load(path)
      images = _images(batch, path)
      columns = [_labels(batch, key, len(images), len(names), path)[:, None]
                 for key, names in label_keys.items()]
      storage.write_atomically(os.path.join(destination, binary_name),
                               np.concatenate(columns + [images], axis=1)
                               .tobytes())
      count += len(images)
    counts.append(count)
  return tuple(counts)


def _stamp(source, dataset):
  """The text recording the source files converted: path, sizes, times."""
  train_files, test_files, meta_file = PICKLE_FILES[dataset]
  lines = ['source: %s' % storage.absolute(source)]
  for name in train_files + test_files + (meta_file,):
    path = os.path.join(source, name)
    if not storage.isfile(path):
      raise errors.UserError(
          '%s lacks %s, which the Python version of %s holds. Put it back, '
          'or give a --data_dir holding the whole folder.'
          % (source, name, data_sets.binary_format(dataset).title))
    lines.append('%s %d %d' % (name, storage.getsize(path),
                               storage.modified_ns(path)))
  return ''.join(line + '\n' for line in lines).encode('utf-8')


def cache_dir(source):
  """The folder of this port's own that holds the copy of `source`."""
  absolute = storage.absolute(source)
  digest = hashlib.sha1(absolute.encode('utf-8', 'surrogateescape'))
  return os.path.join(CACHE_ROOT, '%s-%s' % (os.path.basename(absolute),
                                            digest.hexdigest()[:12]))


def converted_data_dir(data_dir, dataset):
  """A --data_dir holding the binary version of `data_dir`'s Python version.

  The first call converts it (a few seconds for the real data) into
  `cache_dir`; later ones find the copy and return at once, unless the
  source files changed since. Either way a notice says which folder is read.

  Args:
    data_dir: the --data_dir holding cifar-10-batches-py/ or
      cifar-100-python/.
    dataset: 'cifar10' or 'cifar100'.

  Returns:
    The folder to read as --data_dir: it holds cifar-10-batches-bin/ or
    cifar-100-binary/.

  Raises:
    errors.UserError: a source file is missing, refused or malformed, or
      the copy cannot be written; nothing of the user's is written.
  """
  source = os.path.join(data_dir, data_sets.PYTHON_FOLDERS[dataset])
  stamp = _stamp(source, dataset)
  cache = cache_dir(source)
  stamp_path = os.path.join(cache, STAMP_FILE)
  title = data_sets.binary_format(dataset).title
  if storage.isfile(stamp_path) and storage.read_bytes(stamp_path) == stamp:
    errors.notice('reading %s, the binary copy of %s\'s Python version in %s '
                  '(converted earlier).' % (cache, title, source))
    return cache
  staging = '%s.%s.partial' % (cache, uuid.uuid4().hex[:8])
  try:
    counts = _convert(source, dataset, os.path.join(
        staging, data_sets.binary_format(dataset).folder))
    storage.write_atomically(os.path.join(staging, STAMP_FILE), stamp)
    storage.remove_tree(cache)  # A copy of files that changed since.
    try:
      storage.move_folder(staging, cache)
    except storage.op_error():
      # Another process (a cluster's task on this machine) converted it
      # meanwhile: its copy serves as well.
      if not (storage.isfile(stamp_path) and
              storage.read_bytes(stamp_path) == stamp):
        raise
  except storage.op_error() as error:
    raise errors.UserError(
        'Could not write the binary copy of %s into %s (%s). Make room there '
        '(about %d MB) or set TMPDIR to a folder that has it, and run again.'
        % (source, CACHE_ROOT, storage.reason(error),
           -(-sum(int(line.split()[1]) for line in
                  stamp.decode().splitlines()[1:]) // 10**6))) from None
  finally:
    storage.remove_tree(staging)
  errors.notice('converted %s\'s Python version in %s (%d training and %d '
                'test images) once into the binary layout, in %s; later runs '
                'read that copy.' % (title, source, counts[0], counts[1], cache))
  return cache
