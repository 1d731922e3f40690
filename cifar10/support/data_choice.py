"""Which data a script reads: --dataset, --label_set and what --data_dir holds.

Run once the flags are parsed (flags.base_parser registers it), it settles
the data for the whole run:

* --dataset, when not given, is the data set --data_dir holds (in any
  version); CIFAR-10, the original's, when it holds none (the download
  fetches it) or both (a notice says how to read the other);
* a data set present only in its Python version is converted once into a
  copy of this port's own (pickled_batches.py), which becomes --data_dir;
* a folder holding only a version this port cannot read (MATLAB's, an
  unextracted Python tarball) is refused in one line that says what to do;
* --data_url, when not given, is the official tarball of the data set.

It leaves the results on the parsed flags: args.dataset, args.data_dir,
args.data_url and args.data_format (a data_sets.BinaryFormat, which the
input pipeline, the download and the class names read).
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import os

from cifar10.support import data_sets
from cifar10.support import errors
from cifar10.support import paths
from cifar10.support import pickled_batches
from cifar10.support import storage

# The Python versions' tarballs, by --dataset value: a folder holding one
# unextracted gets the command that extracts it.
PYTHON_TARBALLS = {'cifar10': 'cifar-10-python.tar.gz',
                   'cifar100': 'cifar-100-python.tar.gz'}


def _version_present(data_dir, dataset):
  """'binary', 'python' or None: the readable version of `dataset` there.

  The binary version counts when its folder holds any of its files or its
  tarball is there (the download step then extracts it or names what is
  missing), the Python version when its folder is there.
  """
  binary = data_sets.binary_format(dataset)
  if (_binary_present(data_dir, binary) or
      storage.isfile(os.path.join(data_dir, binary.tarball))):
    return 'binary'
  if storage.isdir(os.path.join(data_dir, data_sets.PYTHON_FOLDERS[dataset])):
    return 'python'
  return None


def _binary_present(data_dir, binary):
  """Whether `data_dir`'s folder for `binary` holds any of its files."""
  folder = os.path.join(data_dir, binary.folder)
  return any(storage.isfile(os.path.join(folder, name))
             for name in binary.all_files)


def _refuse_unreadable(data_dir, datasets):
  """Raises UserError if `data_dir` holds a version of one of `datasets`
  that this port cannot read (and no readable one)."""
  for dataset in datasets:
    binary = data_sets.binary_format(dataset)
    tarball = os.path.join(data_dir, PYTHON_TARBALLS[dataset])
    if storage.isfile(tarball):
      raise errors.UserError(
          '--data_dir %s holds %s, the Python version of %s, not yet '
          'extracted: extract it (tar -xzf %s -C %s) and run again; the '
          'scripts then convert it.' % (
              data_dir, PYTHON_TARBALLS[dataset], binary.title,
              paths.for_shell(tarball), paths.for_shell(data_dir)))
    for folder, (what, owner) in sorted(data_sets.UNREADABLE_FOLDERS.items()):
      if owner == dataset and storage.isdir(os.path.join(data_dir, folder)):
        raise errors.UserError(
            '--data_dir %s holds %s/ (%s), which this port cannot read. Put '
            "%s's binary version (%s) or Python version (%s/) there, or give "
            'a new --data_dir to download the binary version.'
            % (data_dir, folder, what, binary.title, binary.tarball,
               data_sets.PYTHON_FOLDERS[dataset]))


def choose(args):
  """Settles the run's data from the parsed flags (see the module's doc).

  Args:
    args: the parsed flags of `flags.base_parser`; its dataset, data_dir,
      data_url and data_format are set here.

  Raises:
    errors.UserError: --label_set coarse with CIFAR-10, a version that
      cannot be read, or a Python version that cannot be converted.
  """
  data_dir = args.data_dir
  present = {dataset: _version_present(data_dir, dataset)
             for dataset in data_sets.DATASETS}
  dataset = args.dataset
  if dataset is None:
    found = [name for name in data_sets.DATASETS if present[name]]
    if not found:
      _refuse_unreadable(data_dir, data_sets.DATASETS)
    dataset = found[0] if found else 'cifar10'
    if len(found) > 1:
      errors.notice('--data_dir %s holds CIFAR-10 and CIFAR-100: reading '
                    'CIFAR-10; --dataset cifar100 reads the other.' % data_dir)
  if dataset == 'cifar10' and args.label_set == 'coarse':
    raise errors.UserError(
        '--label_set coarse: CIFAR-10 has one set of labels; coarse and fine '
        'are CIFAR-100\'s. Leave it out, or give --dataset cifar100.')
  if present[dataset] is None:
    _refuse_unreadable(data_dir, [dataset])
  elif present[dataset] == 'python':
    data_dir = pickled_batches.converted_data_dir(data_dir, dataset)
  args.dataset = dataset
  args.data_dir = data_dir
  args.data_format = data_sets.binary_format(dataset, args.label_set)
  if args.data_url is None:
    args.data_url = args.data_format.url
