"""Tiny stand-ins of CIFAR's other published versions, made by the tests.

* CIFAR-100's binary version: cifar-100-binary/ with train.bin and test.bin
  (records of a coarse label byte, a fine label byte and the image) and
  its two names files.
* The Python versions: cifar-10-batches-py/ and cifar-100-python/, pickled
  the way the originals were, by Python 2's cPickle at protocol 2: strings
  are byte strings (SHORT_BINSTRING/BINSTRING opcodes), and the images a
  numpy array rebuilt by numpy.core.multiarray._reconstruct.

The images are synthetic's learnable colours: the fine class of image i is
its colour's class (0..9), its coarse class that class // 2.
"""

import os
import pickle
import struct

import numpy as np

from cifar10 import synthetic

# As many names as CIFAR-100's own files hold (of which the images use the
# first ten fine and five coarse classes).
FINE_NAMES = tuple('fine_%02d' % i for i in range(100))
COARSE_NAMES = tuple('coarse_%02d' % i for i in range(20))


def examples(count, seed):
  """(fine labels, coarse labels, [count, 3072] uint8 images in the
  binary version's byte order: three planes, red, green, blue)."""
  fine, images = synthetic.make_examples(count, np.random.default_rng(seed))
  planes = np.transpose(images, (0, 3, 1, 2)).reshape(count, -1)
  return fine, fine // 2, np.ascontiguousarray(planes)


def write_cifar100_binary(data_dir, train=600, test=200, seed=0,
                          fine_names=FINE_NAMES, coarse_names=COARSE_NAMES):
  """Writes data_dir/cifar-100-binary/; returns that folder."""
  folder = os.path.join(str(data_dir), 'cifar-100-binary')
  os.makedirs(folder)
  for name, count, offset in (('train.bin', train, 0), ('test.bin', test, 1)):
    fine, coarse, images = examples(count, seed + offset)
    records = np.concatenate([coarse[:, None], fine[:, None], images], axis=1)
    with open(os.path.join(folder, name), 'wb') as out:
      out.write(records.astype(np.uint8).tobytes())
  for name, names in (('fine_label_names.txt', fine_names),
                      ('coarse_label_names.txt', coarse_names)):
    with open(os.path.join(folder, name), 'w') as out:
      out.write(''.join(each + '\n' for each in names) + '\n')
  return folder


class Python2Pickler(pickle._Pickler):  # pylint: disable=protected-access
  """Pickles as Python 2's cPickle did at protocol 2: bytes as py2 str,
  numpy's globals under numpy 1's module names."""

  dispatch = dict(pickle._Pickler.dispatch)  # pylint: disable=protected-access

  def save_py2_str(self, obj):
    if len(obj) < 256:
      self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
    else:
      self.write(pickle.BINSTRING + struct.pack('<i', len(obj)) + obj)
    self.memoize(obj)

  dispatch[bytes] = save_py2_str

  def save_global(self, obj, name=None):
    module = getattr(obj, '__module__', '')
    if module.startswith('numpy._core'):
      self.write(pickle.GLOBAL + b'numpy.core.multiarray\n' +
                 obj.__name__.encode() + b'\n')
      self.memoize(obj)
      return
    super().save_global(obj, name)

  dispatch[type(len)] = save_global  # Builtin functions: _reconstruct.


def python2_pickle(value, path):
  with open(path, 'wb') as out:
    Python2Pickler(out, protocol=2).dump(value)


def write_cifar10_python(data_dir, train_per_file=120, test=100, seed=0):
  """Writes data_dir/cifar-10-batches-py/; returns that folder."""
  folder = os.path.join(str(data_dir), 'cifar-10-batches-py')
  os.makedirs(folder)
  names = ['data_batch_%d' % i for i in range(1, 6)] + ['test_batch']
  for index, name in enumerate(names):
    count = test if name == 'test_batch' else train_per_file
    fine, _, images = examples(count, seed + index)
    python2_pickle({b'batch_label': b'batch %d' % index,
                    b'labels': [int(label) for label in fine],
                    b'data': images,
                    b'filenames': [b'image_%d.png' % i for i in range(count)]},
                   os.path.join(folder, name))
  python2_pickle({b'num_cases_per_batch': train_per_file,
                  b'label_names': [name.encode() for name in
                                   synthetic.classes.CIFAR10_NAMES],
                  b'num_vis': 3072}, os.path.join(folder, 'batches.meta'))
  return folder


def write_cifar100_python(data_dir, train=600, test=200, seed=0):
  """Writes data_dir/cifar-100-python/; returns that folder."""
  folder = os.path.join(str(data_dir), 'cifar-100-python')
  os.makedirs(folder)
  for name, count, offset in (('train', train, 0), ('test', test, 1)):
    fine, coarse, images = examples(count, seed + offset)
    python2_pickle({b'filenames': [b'image_%d.png' % i for i in range(count)],
                    b'batch_label': name.encode(),
                    b'fine_labels': [int(label) for label in fine],
                    b'coarse_labels': [int(label) for label in coarse],
                    b'data': images}, os.path.join(folder, name))
  python2_pickle({b'fine_label_names': [name.encode() for name in FINE_NAMES],
                  b'coarse_label_names': [name.encode()
                                          for name in COARSE_NAMES]},
                 os.path.join(folder, 'meta'))
  return folder
