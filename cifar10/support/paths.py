"""The scripts' default folders, and how their path flags are read.

The first three folders are the original tutorial's defaults. Keep them
here, and only here: the flags, the docstrings and the tests read them from
this module. Users give a path flag one level off from what it means (the
extracted folder as --data_dir, a checkpoint file as --train_dir); the
readers of --data_dir, --train_dir and --eval_dir here take what was meant,
with a one-line notice, or refuse with a message that names what works.
(--checkpoint_dir's reader, checkpoints.locate_checkpoints, lists a run's
checkpoints through TensorFlow, so it lives there.) Like kernel_choice, this
module must not import TensorFlow: the flags use it while the scripts answer
--help. It looks at files through storage.py, which loads TensorFlow on
first use, so that a URL such as gs://bucket/data works as a path.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import dataclasses
import os
import re
import shlex

from cifar10.support import classes
from cifar10.support import data_sets
from cifar10.support import download
from cifar10.support import errors
from cifar10.support import storage

# The original's --data_dir: cifar-10-batches-bin/ and the tarball go here.
DATA_DIR = '/tmp/cifar10_data'

# The original's --train_dir: checkpoints and the trainer's event files.
TRAIN_DIR = '/tmp/cifar10_train'

# The original's --eval_dir: the evaluator's event files.
EVAL_DIR = '/tmp/cifar10_eval'

# Where cifar10.export writes the SavedModel (the original had no export).
EXPORT_DIR = '/tmp/cifar10_model'

# Where cifar10.synthetic writes its stand-in data set. Not DATA_DIR: nothing
# marks the synthetic files as such, and a later run on DATA_DIR would take
# them for CIFAR-10 (and skip the real download).
SYNTHETIC_DATA_DIR = '/tmp/cifar10_synthetic'

# The index file TensorFlow keeps in a folder of checkpoints.
INDEX_FILE = 'checkpoint'

# The graph file of a SavedModel: the folder holding it is an exported
# model (cifar10.export's), not a run's folder of checkpoints.
SAVED_MODEL_FILE = 'saved_model.pb'

# The basename of a checkpoint rather than of a folder: model.ckpt-1000.
LOOKS_LIKE_CHECKPOINT = re.compile(r'\.ckpt')

# The files of one checkpoint: its data shards, its index and, from old
# Savers, its meta graph. Stripping the suffix gives the checkpoint's prefix.
CHECKPOINT_FILE = re.compile(r'^(.+)\.(index|data-\d+-of-\d+|meta)$')

# A checkpoint in TensorFlow's first format (Savers before TensorFlow 1.0,
# or write_version=V1) is one file named like the prefix: model.ckpt-1000.
V1_CHECKPOINT_NAME = re.compile(r'\.ckpt(-\d+)?$')

# The global step at the end of a checkpoint's name: model.ckpt-1000.
_STEP_SUFFIX = re.compile(r'-(\d+)$')

# The start of every TensorBoard event file's name.
EVENTS_FILE_PREFIX = 'events.out.tfevents.'

# An event file by the name TensorFlow gives it: events.out.tfevents.
# <seconds>.<host>, then any suffix its writer was given (the group is the
# second it was opened in). A name that merely starts like this
# (events.out.tfevents.backup) is the user's.
EVENTS_FILE = re.compile(re.escape(EVENTS_FILE_PREFIX) + r'(\d+)\.[\w.-]+')

# The evaluator's record, in its --eval_dir, of the checkpoint folder whose
# evaluations the folder holds: a line with that folder's absolute path,
# then one with its path from the --eval_dir (empty for a URL), which
# still holds once both are moved together, then the name of the event file
# the run there began with (first_event_file), which tells that run from a
# later one started over in the same folder. The event files do not say
# which run they measured, and a second run's precision at the same steps
# would mix with the first's.
EVALUATED_RUN_FILE = 'evaluated_run.txt'

# Its record, beside the first, of what those evaluations scored: one line,
# the --eval_data split and the number of images counted, such as
# `train_eval 100`, and `raw` after them for --raw_weights (Scored). A precision of 100 training images and one of
# the 10,000 test images are both `Precision @ 1` at their step: the event
# files do not tell them apart either. A file of its own, rather than a
# line more in EVALUATED_RUN_FILE, since the refusals' `echo RUN >` advice
# rewrites that one.
EVALUATED_DATA_FILE = 'evaluated_data.txt'


# ---------------------------------------------------------------------------
# --data_dir
# ---------------------------------------------------------------------------

def _holds_batches(folder):
  """Whether `folder` holds any batch file of the binary version."""
  return bool(download.present_files(folder, download.REQUIRED_FILES))


def holds_data(folder):
  """Whether `folder` is a --data_dir: it holds extracted batch files or the
  tarball, of CIFAR-10 or CIFAR-100, or the folder of another version of
  them; or it is the folder of batch files itself."""
  return _holds_batches(folder) or _holds_data(folder)


def _holds_data(folder):
  """Whether `folder` holds extracted batch files or the tarball, of
  CIFAR-10 or CIFAR-100, or the folder of another version of them."""
  if (_holds_batches(os.path.join(folder, download.EXTRACTED_DIR)) or
      storage.isfile(os.path.join(folder, download.TARBALL_NAME))):
    return True
  cifar100 = data_sets.CIFAR100_FINE
  return (storage.isfile(os.path.join(folder, cifar100.tarball)) or any(
      storage.isdir(os.path.join(folder, name))
      for name in data_sets.KNOWN_FOLDERS if name != download.EXTRACTED_DIR))


# The endings of the picture files cifar10.convert_images reads (PNG, JPEG,
# BMP, GIF): by them a folder of one's own class folders is recognised.
_PICTURE_ENDINGS = ('.png', '.jpg', '.jpeg', '.bmp', '.gif')


class LocalFiles:
  """The file functions of the folder checks here, through Python's os.

  Each check takes them as `files`, storage by default. cifar10.
  convert_images, which reads and writes local folders only, gives these:
  they keep file names that are not UTF-8, which TensorFlow's file layer
  cannot encode, and they spare the converter the seconds TensorFlow takes
  to load.
  """
  exists = staticmethod(os.path.exists)
  isdir = staticmethod(os.path.isdir)
  isfile = staticmethod(os.path.isfile)
  listdir = staticmethod(os.listdir)

  @staticmethod
  def op_error():
    return OSError


def _names_in(folder, files=storage):
  """What `folder` holds, or [] where it is no folder or cannot be read
  (by TensorFlow, or by os where a name is not UTF-8: storage.listdir)."""
  try:
    return files.listdir(folder) if files.isdir(folder) else []
  except (files.op_error(), OSError):
    return []


def _class_folders_of_pictures(path, names, files=storage):
  """Those of the subfolders `names` of `path` that hold picture files, or,
  named train/ or test/, at least two such folders: the layouts
  cifar10.convert_images reads. Unreadable folders are passed over."""
  found = []
  for name in names:
    folder = os.path.join(path, name)
    inside = _names_in(folder, files)
    if (any(each.lower().endswith(_PICTURE_ENDINGS) for each in inside) or
        name in ('train', 'test') and
        len(_class_folders_of_pictures(folder, inside, files)) >= 2):
      found.append(name.rstrip('/'))
  return sorted(found)


def resolve_data_dir_to_read(data_dir):
  """resolve_data_dir for a tool that reads the data but never downloads it
  (scripts/distortion_picture.py): its messages offer no download."""
  return resolve_data_dir(data_dir, downloads=False)


def check_data_dir_to_read(data_dir):
  """Refuses a --data_dir that holds no data set, for a tool that only reads
  the data (the trainers download into a new or empty folder instead).

  Such a folder (one that does not exist, an empty one, a training run's)
  never held the batch files, so the refusal of a batch file gone from a
  data set's folder ("Put it back", batch_files.check_batch_file) does not
  fit it: this one says what the folder is, in the trainers' words for
  another tool's folder (use_of_folder).

  Called from the tool's main rather than when its flags are read, so that
  a missing default (/tmp/cifar10_data) does not hide a bad flag.

  Raises:
    errors.UserError: naming the folder.
  """
  if not storage.exists(data_dir):
    what = 'does not exist'
  elif holds_data(data_dir):
    return
  else:
    other_use = use_of_folder(data_dir)
    what = ('is %s, not a data set\'s folder' % other_use if other_use
            else 'holds no data set')
  raise errors.UserError(
      '--data_dir %s %s. Point it at the folder where the data was '
      'downloaded or converted, the one that holds %s/.'
      % (data_dir, what, download.EXTRACTED_DIR))


def resolve_data_dir(data_dir, downloads=True, given_as='--data_dir'):
  """Reads --data_dir, recognising the neighbouring mistakes users make.

  --data_dir is the folder that holds cifar-10-batches-bin/ (and the
  tarball). Given instead the extracted folder itself (complete or not), one
  of its batch files, the tarball, or the folder just above a data folder,
  this returns the data folder they belong to and prints a one-line notice, so that
  nothing is downloaded again or extracted into the wrong place. Anything
  else is returned unchanged (a new folder is where the download goes).

  Args:
    data_dir: the flag's value.
    downloads: whether the tool downloads CIFAR-10 into a new folder; the
      message about pictures then says so.
    given_as: what the messages call `data_dir`: the flag, or the argument
      of a function called from Python (batch_files.batches_dir_of_argument),
      where there is no flag to point.

  Returns:
    The --data_dir to use.

  Raises:
    errors.UserError: the batch files lie loose in a folder not named
      cifar-10-batches-bin, `data_dir` is some other file, several data
      folders lie below it, it holds class folders of pictures, which
      cifar10.convert_images converts, or (where the tool downloads) it is
      another tool's folder (check_data_destination); the message names
      what would work.
  """
  path = storage.normpath(data_dir)
  parent = storage.dirname(path) or '.'
  if storage.isfile(path):
    name = os.path.basename(path)
    if name == download.TARBALL_NAME:
      errors.notice('%s %s is the tarball itself: using its folder, %s.'
                    % (given_as, data_dir, parent))
      return parent
    if os.path.basename(parent) == download.EXTRACTED_DIR and _holds_batches(parent):
      errors.notice('%s %s is one of the batch files: using %s, the '
                    'folder that holds %s/.' % (
                        given_as, data_dir, storage.dirname(parent) or '.',
                        download.EXTRACTED_DIR))
      return storage.dirname(parent) or '.'
    raise errors.UserError(
        '%s %s is a file. Give the folder that holds %s/ or %s%s.'
        % (given_as, data_dir, download.EXTRACTED_DIR, download.TARBALL_NAME,
           ' (or an empty folder to download into)' if downloads else ''))
  if (os.path.basename(path) in data_sets.KNOWN_FOLDERS and
      not _holds_data(path)):
    # Even empty or incomplete: the download would extract a second copy
    # inside it (or, in another version's folder, write into it).
    errors.notice('%s %s is the extracted folder itself: using its '
                  'parent, %s.' % (given_as, data_dir, parent))
    return parent
  if not storage.isdir(path) or _holds_data(path):
    return data_dir
  if _holds_batches(path):
    raise errors.UserError(
        '%s %s holds the batch files directly, but they are read from a '
        'folder named %s inside it: move them into %s.'
        % (given_as, data_dir, download.EXTRACTED_DIR,
           os.path.join(data_dir, download.EXTRACTED_DIR)))
  try:
    names = storage.listdir(path)
  except storage.op_error():  # Unreadable: let the download step report it.
    return data_dir
  below = sorted(os.path.join(path, name) for name in names
                 if _holds_data(os.path.join(path, name)))
  if len(below) == 1:
    errors.notice('%s %s holds no CIFAR-10 files, its subfolder %s '
                  'does: using that.' % (given_as, data_dir, below[0]))
    return below[0]
  if below:
    raise errors.UserError(
        '%s %s holds no CIFAR-10 files, but %d of its subfolders do: '
        'give one of them (%s).' % (given_as, data_dir, len(below), ', '.join(
            flag_value(given_as, folder) if given_as.startswith('--')
            else folder for folder in below)))
  # One's own pictures in class folders: the download would put CIFAR-10
  # among them, and training would then learn CIFAR-10's classes instead,
  # without a word.
  pictures = picture_folders(path, names)
  # One class folder of them (or train/cats): the folder of class folders
  # above it is the one to convert.
  tree = _pictures_holding(path, storage)
  # Or pictures lying in it in no class folder: the converter takes each
  # picture's class from its folder's name, so they are sorted first.
  loose = not pictures and tree == _absolute(path) and _loose_pictures(
      path, storage)
  # Or one folder of pictures and nothing else: one class so far. (One
  # among other files, such as a home folder's Pictures/, is not.)
  lone = not (pictures or loose) and tree == _absolute(path) and _lone_class(
      path, names)
  if pictures or loose or lone or tree != _absolute(path):
    # What the folder is, and what to do before the conversion.
    how = 'convert them first'
    if pictures:
      what = 'holds folders of pictures (%s)' % listed_folders(pictures)
    elif loose:
      what = 'holds pictures (%s) in no class folder' % listed(loose)
      how = ('move them into a folder per class inside it, named for the '
             'class (such as %s and %s), then convert them' % tuple(
                 for_shell(os.path.join(path, name))
                 for name in ('cats', 'dogs')))
    elif lone:
      what = 'holds one folder of pictures (%s/) and nothing else' % lone
      how = ('add a folder of pictures for each other class beside %s/, '
             'named for the class (a classifier needs %d classes at least), '
             'then convert them' % (lone, classes.MIN_CLASSES))
    else:
      # As the user wrote it: relative where the flag was.
      path = (os.path.relpath(tree) if not os.path.isabs(path) and
              not storage.scheme(path) else tree)
      what = 'is a class folder of pictures in %s' % path
    # A free name: the converter refuses an OUT that exists. (As the path
    # is written, unless that puts it at the root.)
    converted = (new_folder_beside(path, '_data')
                 if _at_the_top(_absolute(path)) else
                 free_name(path.rstrip('/') + '_data'))
    raise errors.UserError(
        '%s %s %s, but the scripts read data in CIFAR-10\'s format: %s '
        '(python -m cifar10.convert_images %s %s), then give %s.%s'
        % (given_as, data_dir, what, how, for_shell(path),
           for_shell(converted), flag_value(given_as, converted),
           ' To download CIFAR-10 instead, give a new folder.'
           if downloads else ''))
  if downloads:
    # A run's, an evaluation's or an exported model's folder: the download
    # would put the data set among its files.
    check_data_destination(data_dir, '--data_dir')
  return data_dir


def picture_folders(path, names=None, files=storage):
  """The class folders of pictures in `path`, where it is a folder of one's
  own pictures, as cifar10.convert_images reads them; else [].

  Such a folder holds two class folders at least (a class needs a second
  to learn from), or train/ and test/ folders of them.

  Args:
    path: a folder.
    names: what `path` holds, where the caller has listed it already.
    files: the file functions to use (LocalFiles or storage).
  """
  if names is None:
    names = _names_in(path, files)
  pictures = _class_folders_of_pictures(path, names, files)
  if len(pictures) >= 2 or set(pictures) & {'train', 'test'}:
    return pictures
  return []


def listed_folders(names):
  """'a/, b/, c/, ...': the first three folders of `names`, for a message."""
  return listed([name + '/' for name in names])


def listed(names):
  """'a, b, c, ...': the first three of `names`, for a message."""
  return ', '.join(names[:3]) + (', ...' if len(names) > 3 else '')


def picture_files(folder, files=storage):
  """The picture files (by their endings) directly in `folder`, sorted: a
  flat folder of one's own pictures, or one class folder of them. []
  where it cannot be listed."""
  return sorted(name for name in _names_in(folder, files)
                if name.lower().endswith(_PICTURE_ENDINGS) and
                files.isfile(os.path.join(folder, name)))


# ---------------------------------------------------------------------------
# --train_dir
# ---------------------------------------------------------------------------

def other_use_of_folder(folder):
  """What `folder` is, where it is a data set's, an exported model's or one's
  own pictures' (class folders of them, or picture files directly in it);
  else None: a run's files written in there would mix with
  those files.

  Returns:
    A phrase such as "a data set's folder", or None.
  """
  if holds_data(folder):
    return 'a data set\'s folder'
  return _model_or_pictures(folder, storage)


def _model_or_pictures(folder, files):
  """What `folder` is, where it is an exported model's or one's own
  pictures' (other_use_of_folder); else None."""
  return _exported_model(folder, files) or _pictures(folder, files)


def _exported_model(folder, files):
  """'an exported model (...)' where `folder` is one; else None."""
  if files.isfile(os.path.join(folder, SAVED_MODEL_FILE)):
    return 'an exported model (it holds %s)' % SAVED_MODEL_FILE
  return None


def _pictures(folder, files):
  """'a folder of pictures (...)' where `folder` holds class folders of
  pictures, or pictures directly; else None."""
  pictures = picture_folders(folder, files=files)
  if pictures:
    return 'a folder of pictures (%s), the input of cifar10.convert_images' % (
        listed_folders(pictures))
  pictures = _loose_pictures(folder, files)
  if pictures:
    return 'a folder of pictures (%s)' % listed(pictures)
  return None


def _lone_class(folder, names):
  """The name of the one folder of pictures in `folder`, where it holds
  that alone (what starts with a dot aside); else None. A run's folder
  with a plot saved in it is no folder of pictures (_loose_pictures)."""
  shown = [name.rstrip('/') for name in names if not name.startswith('.')]
  if len(shown) == 1 and _loose_pictures(os.path.join(folder, shown[0]),
                                         storage):
    return shown[0]
  return None


def _loose_pictures(folder, files):
  """The picture files directly in `folder`, where they make it a folder of
  one's own pictures; else []. Pictures beside a run's or an evaluation's
  files (a plot saved into its folder) do not."""
  pictures = picture_files(folder, files)
  if pictures and not holds_checkpoints(folder, files) and not any(
      name.startswith(EVENTS_FILE_PREFIX)
      for name in _names_in(folder, files)):
    return pictures
  return []


def use_of_folder(folder):
  """What `folder` already is to one of the tools: a data set's, a training
  run's, an evaluation's, an exported model's or one's own pictures'
  folder, as a phrase; else None (an empty folder, or one of other files).
  """
  if holds_data(folder):
    return 'a data set\'s folder'
  return _other_use_for_data(folder, storage)


def _other_use_for_data(folder, files):
  """What `folder` is, where a data set written into it would land among
  another tool's files: a training run's, an evaluation's, an exported
  model's or one's own pictures' folder; else None (a data set's folder
  too: the writers refuse only the files they would write over).
  """
  return written_by_a_tool(folder, files) or _pictures(folder, files)


def written_by_a_tool(folder, files=storage):
  """What `folder` is, where one of the tools other than the data's wrote
  it: a training run's, an evaluation's or an exported model's folder, as
  a phrase; else None (an empty folder, pictures, a data set or other
  files).

  Any event file counts: an evaluation's folder holds no checkpoint, and
  one written before evaluators kept their EVALUATED_RUN_FILE holds only
  event files.
  """
  names = _names_in(folder, files)
  if not names:
    return None
  if holds_checkpoints(folder, files):
    return 'a training run\'s folder (it holds checkpoints)'
  if EVALUATED_RUN_FILE in names:
    return 'an evaluator\'s --eval_dir (it holds %s)' % EVALUATED_RUN_FILE
  if any(name.startswith(EVENTS_FILE_PREFIX) for name in names):
    return ('a training run\'s or an evaluation\'s folder (it holds '
            'TensorBoard event files)')
  return _exported_model(folder, files)


def check_data_destination(folder, flag, files=storage, suffix='_data'):
  """Refuses a folder that a data set is to be written into, where it is
  another tool's (_other_use_for_data).

  The data set written there would land among that tool's files, and the
  folder would then pass for a data set's: the trainer would refuse to
  resume the run in it (other_use_of_folder), the converter would read its
  cifar-10-batches-bin/ as a class, and --data_dir would train on it
  instead of asking for the pictures to be converted. So cifar10.synthetic's
  --data_dir, the converter's OUT and the download's --data_dir are checked
  here before anything is written.

  Args:
    folder: the path the flag gives.
    flag: the flag or argument, as the message names it: '--data_dir', 'OUT'.
    files: the file functions to use (LocalFiles or storage).
    suffix: what the folder offered adds to the name: '_data' for the
      data set that belongs with the folder (its pictures converted, the
      download), '_synthetic' for cifar10.synthetic's, which must not take
      the name the converter is offered for the same pictures.

  Raises:
    errors.UserError: naming the flag, what the folder is, and a new folder
      beside it to give instead.
  """
  other_use = _other_use_for_data(folder, files)
  if other_use:
    # Beside a class folder (or train/) is still inside the pictures, where
    # the data set would pass for a class, or for the data of --data_dir
    # PICTURES: the offer goes beside the folder of pictures holding it.
    # Only a class folder climbs: a run beside folders of pictures (a
    # project's, a home's) is offered RUN_data, not /home_data. Nor does it
    # climb to a folder at the top (/tmp, for /tmp/cats beside other folders
    # of pictures): the offer would be at the root, /tmp_data.
    beside = _pictures_holding(folder, files)
    raise errors.UserError(
        '%s %s is %s, not a data set\'s folder: the data set would be '
        'written in among its files. Give %s a new folder of its own, such as '
        '%s.' % (flag, storage.printable(folder), other_use, flag,
                 for_shell(storage.printable(new_folder_beside(
                     beside, suffix, files.exists)))))


def _pictures_holding(folder, files):
  """The folder of class folders of pictures that holds `folder`, a class
  folder of it (or its train/): climbed to while each folder is one of its
  parent's folders of pictures, but never to the root or a folder right in
  it (/tmp, for /tmp/cats beside other folders of pictures). `folder`
  itself (absolute) where it is no class folder.
  """
  beside = _absolute(folder)
  parent = storage.dirname(beside)
  while not _at_the_top(parent) and os.path.basename(
      beside) in picture_folders(parent, files=files):
    beside, parent = parent, storage.dirname(parent)
  return beside


def _at_the_top(path):
  """Whether `path` (absolute) is the root, or a folder right in it: /tmp,
  /home, or a bucket (gs://bucket)."""
  parent = storage.dirname(path)
  return storage.dirname(parent) == parent


def checkpoint_prefix(path):
  """The checkpoint `path` names, as a prefix or one of its files; or None.

  A checkpoint in the current (V2) format is its prefix's .index and data
  files; one in the first (V1) format is a single file, its own prefix.
  """
  if storage.isfile(path + '.index'):
    return path
  match = CHECKPOINT_FILE.match(path)
  if match and storage.isfile(path) and storage.isfile(
      match.group(1) + '.index'):
    return match.group(1)
  if V1_CHECKPOINT_NAME.search(os.path.basename(path)) and storage.isfile(path):
    return path
  return None


def checkpoint_exists(prefix):
  """Whether checkpoint `prefix` is there, in either format."""
  return storage.isfile(prefix + '.index') or bool(
      V1_CHECKPOINT_NAME.search(prefix) and storage.isfile(prefix))


def unlisted_checkpoints(folder, files=storage):
  """The checkpoints in `folder`, found by their file names, oldest first.

  For a folder without the index file TensorFlow keeps (INDEX_FILE): one
  copied without it, or written by a program that kept none. They are
  ordered by the step number ending their names, as the index would list
  them.

  Returns:
    Checkpoint prefixes, such as ['runs/model.ckpt-500', 'runs/model.ckpt-
    1000']; an empty list when there is none, or no such folder.
  """
  if not files.isdir(folder):
    return []
  names = files.listdir(folder)
  prefixes = {name[:-len('.index')] for name in names
              if name.endswith('.index')}
  prefixes.update(name for name in names if V1_CHECKPOINT_NAME.search(name))

  def step(prefix):
    number = step_in_name(prefix)
    return (-1 if number is None else number, prefix)

  return [os.path.join(folder, prefix) for prefix in sorted(prefixes, key=step)]


def step_in_name(prefix):
  """The global step a checkpoint's name ends in (model.ckpt-500: 500), or
  None where it ends in none."""
  match = _STEP_SUFFIX.search(prefix)
  return int(match.group(1)) if match else None


def holds_checkpoints(folder, files=storage):
  """Whether `folder` holds a training run's checkpoints: their index file,
  or checkpoints found by their names (unlisted_checkpoints)."""
  return files.isfile(os.path.join(folder, INDEX_FILE)) or bool(
      unlisted_checkpoints(folder, files))


def runs_below(folder):
  """The subfolders of `folder` that hold a checkpoint index file, sorted."""
  return sorted(storage.dirname(index) for index in
                storage.glob(os.path.join(folder, '*', INDEX_FILE)))


def check_train_dir(path):
  """Returns --train_dir unless it is one level off from a training run.

  A checkpoint (or one of its files) given as --train_dir, or a folder
  whose only checkpoints lie in a subfolder, would make training start a
  new run in the wrong place; the message names the folder that resumes.

  Raises:
    errors.UserError: naming the --train_dir that would work.
  """
  prefix = checkpoint_prefix(path)
  if prefix or (storage.isfile(path) and
                os.path.basename(path) == INDEX_FILE):
    folder = storage.dirname(prefix or path) or '.'
    raise errors.UserError(
        '--train_dir %s is a checkpoint file, not a folder: give its folder, '
        '%s, to resume that run.' % (path, flag_value('--train_dir', folder)))
  parent = storage.dirname(storage.normpath(path)) or '.'
  if (not storage.exists(path) and
      LOOKS_LIKE_CHECKPOINT.search(os.path.basename(path)) and
      storage.isfile(os.path.join(parent, INDEX_FILE))):
    raise errors.UserError(
        '--train_dir %s is named like a checkpoint of the run in %s, and is '
        'not there: give %s to resume that run, or a folder name '
        'without .ckpt for a new one.' % (
            path, parent, flag_value('--train_dir', parent)))
  if storage.isdir(path) and not storage.exists(os.path.join(path,
                                                             INDEX_FILE)):
    unlisted = unlisted_checkpoints(path)
    if unlisted:
      # Training would not resume from them (it reads the index file), and
      # its new checkpoints, listed in a new index, would hide them.
      raise errors.UserError(
          '--train_dir %s holds checkpoints (%s) but no %s index file, so '
          'training would start a new run among them. Give a new --train_dir; '
          'to evaluate, predict with or export them, give them as '
          '%s.' % (path, ', '.join(
              os.path.basename(prefix) for prefix in unlisted), INDEX_FILE,
                   flag_value('--checkpoint_dir', path)))
    runs = runs_below(path)
    if runs:
      raise errors.UserError(
          '--train_dir %s holds no checkpoints, but its subfolder %s does: '
          'give %s to resume that run, or a new folder to start '
          'another.' % (path, runs[0], flag_value('--train_dir', runs[0])))
  return path


# ---------------------------------------------------------------------------
# --eval_dir
# ---------------------------------------------------------------------------

def check_eval_dir(path):
  """Reads --eval_dir; an event file given in its place means its folder.

  Raises:
    errors.UserError: `path` is some other file.
  """
  if not storage.isfile(path):
    return path
  folder = storage.dirname(storage.normpath(path)) or '.'
  if os.path.basename(path).startswith(EVENTS_FILE_PREFIX):
    errors.notice('--eval_dir %s is an event file: writing beside it, '
                  'into %s.' % (path, folder))
    return folder
  raise errors.UserError('--eval_dir %s is a file, not a folder. Give a '
                         'folder for the event files, such as %s.'
                         % (path, for_shell(os.path.join(folder,
                                                         'cifar10_eval'))))


def free_name(stem, ending='', taken=storage.exists):
  """The first of STEM+ENDING, STEM_2+ENDING, STEM_3+ENDING, ... that is
  not `taken`: the new file or folder a refusal names, so that the advice
  works as written.

  Args:
    stem: the name before the number, such as 'run' of 'run.png'.
    ending: what follows the number, such as '.png'.
    taken: a function of a name, true where that name may not be given.
  """
  name, number = stem + ending, 1
  while taken(name):
    number += 1
    name = '%s_%d%s' % (stem, number, ending)
  return name


def new_folder_beside(folder, suffix, taken=storage.exists):
  """The folder a refusal's advice names beside `folder`: FOLDER+SUFFIX, or
  the first free FOLDER+SUFFIX_N (free_name), absolute, so that following
  the advice writes into nothing the user already has. Beside a folder at
  the top (/tmp), that would be at the root, which only root may write:
  the offer is in the user's home folder instead (~/tmp_data).

  Args:
    folder: a path flag, such as --train_dir.
    suffix: what follows its name, such as '_new'.
    taken: as for free_name.
  """
  folder = _absolute(folder)
  if _at_the_top(folder) and not storage.scheme(folder):
    folder = os.path.join(os.path.expanduser('~'),
                          os.path.basename(folder) or 'cifar10')
  return free_name(folder.rstrip('/') + suffix, taken=taken)


def for_shell(path):
  """`path` as advice writes it for the user to type or paste: a shell reads
  it back as this one path (shlex.quote). A plain path, as most are, stays
  as it is; one holding a space, a quote, a letter outside ASCII such as
  'ü', or anything else a shell would split or expand, is put in single
  quotes. Paths a message only names in its prose ("X is a file") stay
  unquoted: they are read, not typed.

  A path holding a name that is not UTF-8 (caf\\xe9.png, its bytes as
  surrogates, as os.listdir gives it) is written in the shell's $'...'
  form, byte by byte: messages show such a byte as \\xe9, which single
  quotes would keep as those four characters.
  """
  try:
    path.encode('utf-8')
  except UnicodeEncodeError:
    return _ansi_c_quoted(path)
  return shlex.quote(path)


def _ansi_c_quoted(path):
  """`path` in the $'...' quotes of bash, zsh and POSIX sh (2024), which
  read \\xNN as that byte: printable ASCII as it is, a quote and a
  backslash escaped, every other byte as \\xNN."""
  return "$'%s'" % ''.join(
      '\\' + chr(byte) if chr(byte) in '\\\'' else
      chr(byte) if 0x20 <= byte < 0x7f else '\\x%02x' % byte
      for byte in os.fsencode(path))


def pattern_for_shell(pattern):
  """A file-name `pattern` ('my imgs/*.png') as advice writes it for a
  shell to expand: its wildcards (*, ?, [...]) bare, everything else quoted
  where a shell needs it (for_shell), such as 'my imgs/'*.png. Quoted
  whole, the shell would pass the pattern on unexpanded."""
  return ''.join(
      part if re.fullmatch(_WILDCARD, part) else for_shell(part)
      for part in re.split('(%s)' % _WILDCARD, pattern) if part)


# What a shell expands in a file name: *, ?, and a bracket expression.
_WILDCARD = r'\*|\?|\[[^]/]+\]'


def flag_value(flag, path):
  """'FLAG PATH', such as "--export_dir '/a b'": a flag and the path advice
  gives it, to be typed or pasted into a command (for_shell).

  Args:
    flag: the flag's name, such as '--export_dir'.
    path: its value.
  """
  return '%s %s' % (flag, for_shell(path))


def into_new_folder(verb, sources, folder):
  """The shell command an advice gives for moving or copying files into a
  new folder: `mkdir -p FOLDER && VERB SOURCES FOLDER/`, or '' where
  FOLDER is at a URL, which a shell's mkdir, cp and mv cannot reach.

  Args:
    verb: 'cp' or 'mv'.
    sources: the files, each already quoted for the shell (a pattern such
      as RUN/model.ckpt-5.* is quoted up to its `.*`).
    folder: the new folder, such as one new_folder_beside names.
  """
  if storage.scheme(folder):
    return ''
  return 'mkdir -p %s && %s %s %s/' % (
      for_shell(folder), verb, ' '.join(sources), for_shell(folder))


def _absolute(path):
  """`path` normalized and made absolute, for comparing two path flags (as
  written: links are not followed)."""
  return storage.absolute(storage.normpath(path))


def _resolved(path):
  """`path` absolute, with its links followed where it is local (a URL is
  kept as written): the same folder reached through a link is the same."""
  path = _absolute(path)
  return path if storage.scheme(path) else os.path.realpath(path)


def same_folder(path, folder, follow_links=False):
  """Whether the path flags `path` and `folder` name the same folder (as
  written: links are not followed, unless `follow_links`)."""
  if follow_links:
    return _resolved(path) == _resolved(folder)
  return _absolute(path) == _absolute(folder)


def _same_or_inside(path, folder):
  """Whether `path` is `folder` or lies inside it."""
  path, folder = _absolute(path), _absolute(folder)
  return path == folder or path.startswith(folder.rstrip('/') + '/')


def _record_lines(eval_dir):
  """The lines of `eval_dir`'s EVALUATED_RUN_FILE, stripped; [] where it has
  none."""
  record = os.path.join(eval_dir, EVALUATED_RUN_FILE)
  if not storage.isfile(record):
    return []
  return [line.strip() for line in storage.read_bytes(record).decode(
      'utf-8', 'replace').split('\n')[:3]]


def evaluated_run(eval_dir):
  """The checkpoint folder whose evaluations `eval_dir` holds, as its
  EVALUATED_RUN_FILE records it (absolute); None where it has no record."""
  lines = _record_lines(eval_dir)
  return lines[0] if lines else None


def another_runs_evaluations(eval_dir, run_folder):
  """The run whose evaluations `eval_dir` holds, as its EVALUATED_RUN_FILE
  records it, where that is another run than `run_folder`; else None.

  A recorded folder that is gone may be `run_folder` moved since, so it is
  not taken for another run; nor is a folder without a record.
  """
  recorded = evaluated_run(eval_dir)
  if (recorded is None or _records(eval_dir, run_folder) or
      not storage.exists(recorded)):
    return None
  return recorded


def _recorded_first_event_file(eval_dir):
  """The event file the evaluated run began with, as `eval_dir`'s record
  names it; None where it names none (records of earlier versions, or of a
  run that had no event file)."""
  lines = _record_lines(eval_dir)
  name = lines[2] if len(lines) > 2 else ''
  return name if EVENTS_FILE.fullmatch(name) else None


def _event_files(run_folder):
  """The event files in `run_folder`, oldest first (by the second in their
  names); [] where it is no folder or cannot be read."""
  found = (EVENTS_FILE.fullmatch(name) for name in _names_in(run_folder))
  return [match.group(0) for match in sorted(
      (match for match in found if match),
      key=lambda match: (int(match.group(1)), match.group(0)))]


def first_event_file(run_folder):
  """The name of the oldest event file in `run_folder`, or None: a mark of
  the training run there.

  A run writes an event file as it starts, before its first checkpoint, and
  one more each time it is resumed; the first stays. `cifar10.train
  --fresh` removes them all, so a run started over in the same folder
  begins with another (its name holds the second and the host). Copies and
  moves keep the name, runs of earlier versions have one too, and a folder
  at a URL is read the same way; trainers in a cluster write theirs through
  the chief, into the same folder.
  """
  files = _event_files(run_folder)
  return files[0] if files else None


def _started_over(run_folder, first):
  """Whether the run in `run_folder` is not the one that began with the
  event file `first`: it holds event files, and that one is gone."""
  files = _event_files(run_folder)
  return bool(first) and bool(files) and first not in files


def _records(eval_dir, checkpoint_folder):
  """Whether `eval_dir`'s record names `checkpoint_folder`: by its absolute
  path, or by its path from `eval_dir`, where both were moved together;
  either through links (_resolved), since a run reached through a link to
  its folder is the same run."""
  lines = _record_lines(eval_dir)
  run = _resolved(checkpoint_folder)
  if lines[:1] and lines[0] and _resolved(lines[0]) == run:
    return True
  return (len(lines) > 1 and bool(lines[1]) and not storage.scheme(run) and
          _resolved(os.path.join(_absolute(eval_dir), lines[1])) == run)


@dataclasses.dataclass(frozen=True)
class Scored:
  """What an evaluation scores: the first `images` images of the --eval_data
  `split` ('test' or 'train_eval'), with the moving averages of the
  weights or, `raw_weights`, the weights as trained. Evaluations of two
  such differ in their figures at the same checkpoint, and keep to folders
  of their own."""
  split: str
  images: int
  raw_weights: bool = False

  def __str__(self):
    return '%d %s images%s' % (self.images, self.split,
                               ', raw weights' if self.raw_weights else '')

  def line(self):
    """The line EVALUATED_DATA_FILE holds: `SPLIT IMAGES`, then ` raw`
    with raw_weights."""
    return '%s %d%s\n' % (self.split, self.images,
                          ' raw' if self.raw_weights else '')

  def folder_suffix(self):
    """What a folder of its own for these evaluations ends in."""
    return '_%s_%d%s' % (self.split, self.images,
                         '_raw' if self.raw_weights else '')

  @classmethod
  def parse(cls, text):
    """The Scored of a line as EVALUATED_DATA_FILE holds it (see line);
    None where `text` is no such line."""
    fields = text.split()
    if (len(fields) not in (2, 3) or not fields[1].isdigit() or
        fields[2:] not in ([], ['raw'])):
      return None
    return cls(fields[0], int(fields[1]), fields[2:] == ['raw'])


def evaluated_data(eval_dir):
  """What the evaluations in `eval_dir` scored, as its EVALUATED_DATA_FILE
  records it (a Scored); None where it has no such record (folders of
  earlier versions)."""
  record = os.path.join(eval_dir, EVALUATED_DATA_FILE)
  if not storage.isfile(record):
    return None
  return Scored.parse(storage.read_bytes(record).decode('utf-8', 'replace'))


def _other_data_refusal(eval_dir, recorded, scored):
  """The UserError for an evaluation of `scored` into an `eval_dir` that
  holds evaluations of other data, `recorded` (both Scored). The folder
  offered is a new one, named after what this evaluation scores."""
  return errors.UserError(
      '--eval_dir %s holds evaluations of %s (its %s says so), not of the %s '
      'this one scores: the two precisions at the same steps would read as '
      'one curve in TensorBoard and scripts/plot_run.py, and '
      '--all_checkpoints would take the steps of one for done in the other. '
      'Give --eval_dir a folder of its own, such as %s.' % (
          eval_dir, recorded, EVALUATED_DATA_FILE, scored,
          new_folder_beside(eval_dir, scored.folder_suffix())))


class EvaluationRecord:
  """What cifar10.eval keeps of the run it evaluates into `eval_dir`.

  Before each evaluation (`check_run`) it refuses a run started over since
  its evaluations there began: by the event file the run began with
  (first_event_file), as the record names it or as this evaluator first
  saw it. A waiting evaluator thus stops, where the trainer is restarted
  with --fresh beside it, rather than write the new run's precision in
  among the old one's. With the first results (`write`, for
  summaries.WriterOnFirstSummary's on_open) it records the run in
  EVALUATED_RUN_FILE, where there is something to record: not where the
  record names this run where it is now, nor where `eval_dir` holds event
  files without a record (written before evaluators kept one), since
  whose they are is unknown and a record would claim them for this run. A
  record that names the run only by the path between the two folders
  (both moved) is written anew, with the event file it named. A record
  of this run that names no event file (one the refusals' `echo` wrote:
  the user's word that these are this run's evaluations) is given the one
  the run begins with now, so that a later --fresh is still noticed.

  It also refuses, as it is made, evaluations of other data than those in
  `eval_dir` (EVALUATED_DATA_FILE: another --eval_data, or another number
  of images), and records what they scored beside the run, where the run
  is recorded or is to be; a folder whose record names no data (earlier
  versions') is given this evaluation's, as one without an event file is.

  Args:
    eval_dir: the --eval_dir flag.
    checkpoint_folder: the folder of the checkpoints evaluated.
    scored: a Scored, what each evaluation here scores; None: not checked
      nor recorded.

  Raises:
    errors.UserError: `eval_dir` holds evaluations of other data.
  """

  def __init__(self, eval_dir, checkpoint_folder, scored=None):
    self._eval_dir = eval_dir
    self._folder = checkpoint_folder
    recorded = evaluated_run(eval_dir)
    # The event file the run began with: the record's, else the first this
    # evaluator sees (check_run).
    self._first = _recorded_first_event_file(eval_dir)
    if recorded is None:
      self._to_write = not storage.glob(
          os.path.join(eval_dir, EVENTS_FILE_PREFIX + '*'))
    else:
      self._to_write = (_resolved(recorded) != _resolved(checkpoint_folder) or
                        self._first is None)
    recorded_data = evaluated_data(eval_dir)
    if scored is not None and recorded_data not in (None, scored):
      raise _other_data_refusal(eval_dir, recorded_data, scored)
    self._data_to_write = scored if recorded_data is None and (
        recorded is not None or self._to_write) else None

  def check_run(self, evaluating=False):
    """Refuses the run in the checkpoint folder where it was started over
    since the evaluations of it here began. Call it before each evaluation,
    and each time a waiting evaluator looks for a new checkpoint: a run
    started over saves its checkpoints under the old names.

    Args:
      evaluating: whether an evaluation follows, of the run as it is now:
        where neither the record nor an evaluation before named the event
        file the run began with, this one does.

    Raises:
      errors.UserError: as check_eval_dir_apart's.
    """
    if _started_over(self._folder, self._first):
      raise _started_over_refusal(self._eval_dir, self._folder, self._first)
    if evaluating and self._first is None:
      self._first = first_event_file(self._folder)

  def write(self):
    """Records the run evaluated, and the data, where there is anything to
    record."""
    if self._data_to_write:
      storage.write_atomically(
          os.path.join(self._eval_dir, EVALUATED_DATA_FILE),
          self._data_to_write.line().encode('utf-8'))
      self._data_to_write = None
    if not self._to_write:
      return
    self._to_write = False
    run = _absolute(self._folder)
    lines = [run, '' if storage.scheme(run) else os.path.relpath(
        run, _absolute(self._eval_dir))]
    if self._first:
      lines.append(self._first)
    while not lines[-1]:  # A URL's record without an event file: one line.
      lines.pop()
    storage.write_atomically(
        os.path.join(self._eval_dir, EVALUATED_RUN_FILE),
        ''.join(line + '\n' for line in lines).encode('utf-8'))


def _eval_dir_for(checkpoint_folder, besides=None):
  """The --eval_dir a refusal offers for the run in `checkpoint_folder`:
  RUN_eval beside it, or RUN_eval_2, ... where that holds anything but this
  run's evaluations (those of an earlier run started over in its folder
  included), or is the folder `besides`."""
  run = _absolute(checkpoint_folder)

  def taken(folder):
    if besides is not None and same_folder(folder, besides):
      return True
    if not storage.exists(folder):
      return False
    return not storage.isdir(folder) or bool(storage.listdir(folder)) and (
        not _records(folder, run) or _started_over(
            run, _recorded_first_event_file(folder)))
  return free_name(run.rstrip('/') + '_eval', taken=taken)


def _record_anew(eval_dir, checkpoint_folder):
  """The shell command that makes `eval_dir`'s record name `checkpoint_folder`
  by its path alone; None at a URL, where a shell's echo cannot write."""
  if storage.scheme(eval_dir):
    return None
  return 'echo %s > %s' % (
      for_shell(_absolute(checkpoint_folder)),
      for_shell(os.path.join(eval_dir, EVALUATED_RUN_FILE)))


def _started_over_refusal(eval_dir, checkpoint_folder, first):
  """The UserError for evaluations of a run that `checkpoint_folder` held
  before it was started over; `first` the event file that run began with.
  Where the record names that file, a run whose file was only deleted by
  hand is told how to go on in `eval_dir` (not at a URL, where a shell's
  echo cannot write)."""
  deleted = ''
  command = _record_anew(eval_dir, checkpoint_folder)
  if _recorded_first_event_file(eval_dir) == first and command:
    deleted = (
        ' If it was not started over, that file only deleted, drop the file '
        'from the record (%s) and run this again.' % command)
  return errors.UserError(
      '--eval_dir %s holds the evaluations of an earlier run in '
      '--checkpoint_dir %s: that run began with the event file %s, which is '
      'gone, so the folder was started over since (cifar10.train --fresh), '
      'and the two runs\' figures at the same steps would mix in '
      'TensorBoard and scripts/plot_run.py. Evaluate %s '
      'into a folder of its own, such as %s.%s' % (
          eval_dir, checkpoint_folder, first,
          flag_value('--checkpoint_dir', checkpoint_folder),
          flag_value('--eval_dir', _eval_dir_for(checkpoint_folder,
                                                 besides=eval_dir)),
          deleted))


def check_eval_dir_apart(eval_dir, checkpoint_folder, data_dir, data_format):
  """Refuses an --eval_dir that is a training run's, the data's or another
  tool's folder, or that holds another run's evaluations; the evaluator
  writes nothing before this check.

  A training run's folder: the trainer's --fresh removes every event file
  there, the evaluator's too, and TensorBoard would show the trainer's and
  the evaluator's events as one run. The data set's folder, its batch
  files' folder or anything inside that, an exported model's or one's own
  pictures' (other_use_of_folder, as for --train_dir): the event files
  would land among those files. Another run's evaluations (as
  EVALUATED_RUN_FILE records them), or those of an earlier run that the
  checkpoint folder held before it was started over (the event file the
  record names is gone from it): the two runs' figures at the same steps
  would read as one curve, and --all_checkpoints would take the earlier
  run's steps for done. Each refusal offers a folder named after the run
  evaluated (_eval_dir_for).

  Args:
    eval_dir: the --eval_dir flag.
    checkpoint_folder: the folder of the checkpoints evaluated
      (checkpoints.locate_checkpoints).
    data_dir: the --data_dir flag.
    data_format: the data_sets.BinaryFormat the flags chose.

  Raises:
    errors.UserError: naming both flags and a folder to give instead.
  """
  evaluated = same_folder(eval_dir, checkpoint_folder)
  if evaluated or holds_checkpoints(eval_dir):
    raise errors.UserError(
        '--eval_dir %s is the folder of a training run%s: a later cifar10.'
        'train --fresh there would delete the evaluation\'s event files, and '
        'TensorBoard would mix the two in one run. Give --eval_dir a folder '
        'of its own, such as %s.' % (
            eval_dir, ' (--checkpoint_dir %s)' % checkpoint_folder
            if evaluated else '', for_shell(_eval_dir_for(checkpoint_folder))))
  batches = os.path.join(data_dir, data_format.folder)
  other_use = other_use_of_folder(eval_dir)
  if (other_use or same_folder(eval_dir, data_dir) or
      _same_or_inside(eval_dir, batches)):
    raise errors.UserError(
        '--eval_dir %s is %s: the evaluator\'s event files would land among '
        'those files. Give --eval_dir a folder of its own, such as %s.' % (
            eval_dir, other_use or 'in the data set\'s folder (--data_dir %s)'
            % data_dir, for_shell(_eval_dir_for(checkpoint_folder))))
  recorded = evaluated_run(eval_dir)
  if recorded is not None and not _records(eval_dir, checkpoint_folder):
    # A run moved or renamed alone looks like another run; only where the
    # recorded folder is gone can it be the same one.
    command = _record_anew(eval_dir, checkpoint_folder)
    moved = '' if storage.exists(recorded) or not command else (
        ' If that run is this one, moved since, record its new place (%s) '
        'and run this again.' % command)
    raise errors.UserError(
        '--eval_dir %s holds the evaluations of another run, %s (its %s '
        'says so): the two runs\' figures at the same steps would mix in '
        'TensorBoard and scripts/plot_run.py. Evaluate %s '
        'into a folder of its own, such as %s.%s' % (
            eval_dir, recorded, EVALUATED_RUN_FILE,
            flag_value('--checkpoint_dir', checkpoint_folder),
            flag_value('--eval_dir', _eval_dir_for(checkpoint_folder)),
            moved))
  first = _recorded_first_event_file(eval_dir)
  if _started_over(checkpoint_folder, first):
    raise _started_over_refusal(eval_dir, checkpoint_folder, first)
