"""Finding checkpoints and checking them against the graph before restoring.

Restoring a checkpoint that does not fit the graph (another model, another
dtype, a damaged file) fails deep inside TensorFlow with a long traceback;
for a trainer it could even end in saving over the user's checkpoint. Every
tool here therefore reads the checkpoint first and, when something does not
fit, stops with one line naming the checkpoint, the first variable that
differs, what the file holds, what the graph wants and what to do about it.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import dataclasses
import math
import os
import re

from google.protobuf import text_format
import tensorflow as tf

from cifar10.support import classes
from cifar10.support import errors
from cifar10.support import eval_report
from cifar10.support import flags
from cifar10.support import paths
from cifar10.support import run_flags
from cifar10.support import storage


def _point_at_run(flag):
  """The advice to point `flag` at checkpoints written by a training run."""
  return 'Point %s at the --train_dir of a training run.' % flag


# The advice of the tools that read checkpoints written by a training run.
POINT_AT_TRAINING_RUN = _point_at_run('--checkpoint_dir')


@dataclasses.dataclass(frozen=True)
class HowToProceed:
  """What a refusal of an unusable checkpoint tells the user to do.

  Most refusals (another model, other classes) end in one sentence, the
  same whatever the checkpoint: `sentence`, which str() gives, so that it
  goes into a message as a plain string does. A damaged checkpoint is
  different when an older one in its run is whole: the run is not lost,
  and the way to that older one depends on who reads it (a flag to give,
  or files to move aside). `older` words that way, for every refusal of a
  damaged checkpoint (see _damaged_advice): one mechanism for the readers
  and the trainer alike.

  Where no checkpoint of the run is whole, a tool that reads the run's
  checkpoints cannot say "point at a training run": the user gave one.
  `none_whole` says what works there instead. A checkpoint that does not
  fit the graph (another network's) will not fit better in a newer save
  of the same run: `misfit` can leave out advice to wait for one.

  Attributes:
    sentence: the advice for any unusable checkpoint.
    older: a function of (the damaged checkpoints, oldest first: every
      one listed after the newest whole one, up to the one refused; that
      newest whole one), all prefixes, giving the advice that leads to the
      latter; None: `sentence` serves there too.
    none_whole: the advice where the run holds no whole checkpoint (the
      one refused is its newest, and each before it is damaged too); None:
      `sentence` serves there too.
    misfit: the advice for a checkpoint whose variables do not fit the
      graph (check_checkpoint); None: `sentence` serves there too.
  """
  sentence: str
  older: object = None
  none_whole: str = None
  misfit: str = None

  def __str__(self):
    return self.sentence


def read_instead(flag, sentence, none_whole=None, misfit=None):
  """The HowToProceed of a tool that reads a checkpoint named by `flag`.

  Given the older whole checkpoint as `flag`, the tool reads that one and
  not the newest (locate_checkpoints), whatever the run's index says.

  Args:
    flag: the flag naming the run or checkpoint, such as '--checkpoint_dir'.
    sentence: the advice for any other unusable checkpoint.
    none_whole: the advice where the run holds no whole checkpoint, or
      None: `sentence` (see HowToProceed).
    misfit: the advice for a checkpoint that does not fit the graph, or
      None: `sentence` (see HowToProceed).
  """
  return HowToProceed(sentence, lambda damaged_ones, older: (
      'give %s to use it instead.' % paths.flag_value(flag, older)),
                      none_whole, misfit)


# What the tools that read a run's checkpoints (cifar10.eval, predict,
# export) advise where none of them is whole. The trainer refuses to resume
# such a run (its advice is --fresh, which starts it over), so "let that
# run save a new checkpoint" would never come true; a run is left like
# this by a copy cut short, which copying again mends.
NO_WHOLE_CHECKPOINT = (
    'Without a whole checkpoint, cifar10.train cannot resume the run: copy '
    'it again from where it was made, if it is a copy, or point '
    '--checkpoint_dir at another training run\'s --train_dir.')

# The same, for cifar10.predict and cifar10.export.
READ_A_RUN = read_instead('--checkpoint_dir', POINT_AT_TRAINING_RUN,
                          NO_WHOLE_CHECKPOINT)

# What to do with a checkpoint holding every weight but no moving averages.
_ADD_RAW_WEIGHTS = ('Add --raw_weights to use its variables as trained.')

# TensorFlow's checkpoint reader reports damaged files as OpErrors, or as
# plain Python errors from its C++ wrapper ("Read less bytes than requested"
# is an IndexError).
_READ_ERRORS = (tf.errors.OpError, ValueError, IndexError, RuntimeError)

def _refuse_if_unreadable(error):
  """Raises UserError where `error`, met reading a checkpoint's file, is the
  system refusing to let us read it.

  The file is likely intact: calling it damaged could get it deleted.
  TensorFlow says the refusal as "<file>; Permission denied", the file being
  the index, a data file or the folder's index file.
  """
  path, reason = errors.path_and_reason(errors.describe(error))
  if path and reason in errors.REFUSAL_WORDS:
    raise errors.UserError(
        '%s cannot be read (%s): change its permissions to let you read it.'
        % (path, reason)) from None


# The moving average of variable `v` is saved as `v` + this suffix.
AVERAGE_SUFFIX = '/ExponentialMovingAverage'


# ---------------------------------------------------------------------------
# Finding checkpoints
# ---------------------------------------------------------------------------

def locate_checkpoints(path, flag='--checkpoint_dir'):
  """Reads a checkpoint folder flag, recognising the neighbouring mistakes.

  Users point the flag at a checkpoint rather than its folder (a prefix such
  as model.ckpt-1000, or one of its files), at the `checkpoint` index file,
  or at the folder above a training run. Each is used as meant, with a
  one-line notice.

  Args:
    path: the flag's value.
    flag: the flag's name, for the messages.

  Returns:
    (folder, checkpoint): the folder to look for checkpoints in, and the
    checkpoint prefix the flag named, or None when it named a folder.

  Raises:
    errors.UserError: `path` is some other file, or several training runs
      lie below it.
  """
  prefix = paths.checkpoint_prefix(path)
  if prefix:
    return storage.dirname(prefix) or '.', prefix
  if not storage.exists(path):
    _refuse_missing_checkpoint(path, flag)
  if storage.isfile(path):
    if os.path.basename(path) == paths.INDEX_FILE:
      folder = storage.dirname(path) or '.'
      errors.notice('%s %s is the index file of a checkpoint folder: reading '
                    'its folder, %s.' % (flag, path, folder))
      return folder, None
    if os.path.basename(path) == paths.SAVED_MODEL_FILE:
      _refuse_saved_model(storage.dirname(path) or '.', flag, given=path)
    raise errors.UserError('%s %s is a file, not a folder of checkpoints. %s'
                           % (flag, path, _point_at_run(flag)))
  if storage.isdir(path) and not storage.exists(os.path.join(path,
                                                             paths.INDEX_FILE)):
    unlisted = paths.unlisted_checkpoints(path)
    if unlisted:
      errors.notice('%s %s has no %s index file: reading its checkpoints by '
                    'the step numbers in their names (the newest is %s).'
                    % (flag, path, paths.INDEX_FILE,
                       os.path.basename(unlisted[-1])))
      return path, None
    runs = paths.runs_below(path)
    if len(runs) == 1:
      errors.notice('%s %s holds no checkpoints, its subfolder %s does: '
                    'reading that.' % (flag, path, runs[0]))
      return runs[0], None
    if runs:
      raise errors.UserError(
          '%s %s holds no checkpoints, but %d of its subfolders do: give one '
          'of them (%s).' % (flag, path, len(runs), ', '.join(
              paths.flag_value(flag, run) for run in runs)))
    _refuse_saved_model(path, flag)
  return path, None


def _refuse_saved_model(folder, flag, given=None):
  """Raises UserError when `folder`, holding no checkpoints, is an export.

  A SavedModel (cifar10.export's --export_dir, or the folder of its
  numbered versions) holds the weights in a form the scripts do not read;
  the advice to train first would write a run into it. `given` is the
  flag's value where it named the export's saved_model.pb, not `folder`.
  """
  exported = ([folder] if storage.exists(
      os.path.join(folder, paths.SAVED_MODEL_FILE)) else sorted(
          storage.dirname(graph) for graph in storage.glob(
              os.path.join(folder, '*', paths.SAVED_MODEL_FILE))))
  if not exported:
    return
  graphs = ', '.join(os.path.join(export, paths.SAVED_MODEL_FILE)
                     for export in exported)
  if given:
    what = 'is the graph of a model exported by cifar10.export'
  elif exported == [folder]:
    what = 'is a model exported by cifar10.export (%s)' % graphs
  else:
    what = 'holds models exported by cifar10.export (%s)' % graphs
  raise errors.UserError(
      '%s %s %s, which this script does not read: give %s the --train_dir it '
      'was exported from. To classify images with it, load it as the section '
      '"Serve the model" of README.md shows.' % (flag, given or folder, what,
                                                 flag))


def _refuse_missing_checkpoint(path, flag):
  """Raises UserError when `path`, which does not exist, names a checkpoint.

  A checkpoint is named when its basename reads like one (model.ckpt-150,
  or one of its files) or its folder is a training run's. The message lists
  the checkpoints that are there: the one named was mistyped, or deleted by
  the run, which keeps only its newest --keep_checkpoints. Anything else
  returns, to be read as a folder that training has not made yet.
  """
  match = paths.CHECKPOINT_FILE.match(path)
  named = match.group(1) if match else path
  folder = storage.dirname(storage.normpath(named)) or '.'
  is_run = storage.isfile(os.path.join(folder, paths.INDEX_FILE)) or bool(
      paths.unlisted_checkpoints(folder))
  if not (is_run or
          paths.LOOKS_LIKE_CHECKPOINT.search(os.path.basename(named))):
    return
  kept = all_checkpoints(folder) if is_run else []
  if kept:
    raise errors.UserError(
        '%s %s: there is no such checkpoint (mistyped, or deleted by the run, '
        'which keeps only its newest). %s holds %s: give one of them, such as '
        '%s, or %s for the newest.' % (
            flag, path, folder, _names(kept), paths.flag_value(flag, kept[-1]),
            paths.flag_value(flag, folder)))
  raise errors.UserError(
      '%s %s: there is no such checkpoint, and %s holds none. %s'
      % (flag, path, folder, _point_at_run(flag)))


def _names(prefixes):
  """Checkpoints listed by their names alone ('model.ckpt-0, model.ckpt-2'),
  as a message about the folder holding them lists them."""
  return ', '.join(os.path.basename(prefix) for prefix in prefixes)


# The index files whose missing newest checkpoint a notice named already:
# an evaluator polling the folder says it once, not at every poll.
_MISSING_NOTICED = set()


def in_folder(path, folder):
  """Whether checkpoint `path` lies in `folder` itself (links followed: the
  same folder reached through a link is the same)."""
  return paths.same_folder(storage.dirname(path) or '.', folder,
                           follow_links=True)


def _here(folder, path):
  """`path`, a checkpoint the index file of `folder` names, or this folder's
  copy of it.

  Trainers that write full paths into the index (TensorFlow's Saver does
  by default; the original tutorial's runs hold such paths) leave a run
  that names its old place when its folder is copied or moved. The copy of
  a checkpoint in `folder` under the same name is the one meant: a trainer
  resuming the copy from the old place would go on to delete the old
  run's checkpoints as it keeps only its newest.
  """
  if in_folder(path, folder):
    return path
  copy = os.path.join(folder, os.path.basename(path))
  return copy if paths.checkpoint_exists(copy) else path


def _listed_here(folder, state):
  """The checkpoints the index `state` of `folder` lists, oldest first, each
  this folder's copy where it names one elsewhere (_here)."""
  return [_here(folder, path) for path in state.all_model_checkpoint_paths]


def latest_checkpoint(folder, how_to_proceed):
  """The newest checkpoint in `folder`, or None when it holds none yet.

  The newest is the one the folder's index file names; in a folder without
  that file, the one with the highest step (paths.unlisted_checkpoints).
  Where the index names a checkpoint whose files are gone but lists older
  ones that are there, the newest of those is the newest, with a notice:
  that is how a run gets past a damaged checkpoint, its files moved aside
  (see own_checkpoints_only, which the trainer runs before it resumes). A
  checkpoint named in another folder is read from this folder's copy of
  it, where there is one (_here).

  Args:
    folder: a folder of checkpoints (need not exist yet).
    how_to_proceed: a sentence for the error message, saying what to do.

  Returns:
    A checkpoint prefix such as '/tmp/cifar10_train/model.ckpt-1000'.

  Raises:
    errors.UserError: `folder` is a file, or its `checkpoint` index file is
      damaged, names a checkpoint that is not there, or cannot be read.
  """
  if storage.exists(folder) and not storage.isdir(folder):
    raise errors.UserError('%s is a file, not a folder of checkpoints. %s'
                           % (folder, how_to_proceed))
  if not storage.exists(os.path.join(folder, paths.INDEX_FILE)):
    unlisted = paths.unlisted_checkpoints(folder)
    return unlisted[-1] if unlisted else None
  try:
    # tf.train.latest_checkpoint says None for an index file it cannot
    # read, as for a damaged one: read it first to tell the two apart.
    storage.read_bytes(os.path.join(folder, paths.INDEX_FILE))
  except storage.op_error() as error:
    _refuse_if_unreadable(error)
  index = os.path.join(folder, paths.INDEX_FILE)
  # What tf.train.latest_checkpoint reads, without its ERROR line (in the
  # middle of the user's output) for a checkpoint that is not there.
  state = tf.train.get_checkpoint_state(folder)
  named = state and state.model_checkpoint_path and _here(
      folder, state.model_checkpoint_path)
  if named and paths.checkpoint_exists(named):
    return named
  kept = [path for path in _listed_here(folder, state)
          if paths.checkpoint_exists(path)] if named else []
  if not kept:
    raise errors.UserError(
        '%s is damaged or names a checkpoint that is not there. %s'
        % (index, how_to_proceed))
  if index not in _MISSING_NOTICED:
    _MISSING_NOTICED.add(index)
    errors.notice('%s names %s, whose files are not there (moved or '
                  'deleted): using the newest checkpoint it lists that is '
                  'there, %s.' % (index, os.path.basename(named), kept[-1]))
  return kept[-1]


@dataclasses.dataclass(frozen=True)
class IndexChanges:
  """What own_checkpoints_only changed in a run's index file.

  Attributes:
    copied_from: the folder the index named its checkpoints in, where that
      is another one (the run was copied or moved from there), else None.
    adopted: the checkpoints of that folder the index now names by this
      folder's copies, by name (model.ckpt-4).
    gone: the checkpoints of this folder it no longer lists, whose files
      are not there, by name.
    elsewhere: the checkpoints of another folder it no longer lists, having
      no copy here, as full paths.
  """
  copied_from: str = None
  adopted: tuple = ()
  gone: tuple = ()
  elsewhere: tuple = ()


def own_checkpoints_only(folder):
  """Rewrites the index file of `folder` to list only this folder's
  checkpoints that are there; returns the IndexChanges (none: the file is
  left as it is).

  A trainer resumes from the checkpoint the index file names (TensorFlow
  restores it, not latest_checkpoint), and its Saver deletes the oldest of
  those the file lists as it keeps its newest --keep_checkpoints. So:
  * a checkpoint moved aside (the advice for a damaged one) would fail that
    restore: the index then names the newest one there, as
    latest_checkpoint reads it;
  * a checkpoint named by its full path in another folder (a run copied or
    moved, from a trainer that wrote full paths, see _here) would be
    restored from there, and deleted there later: the index names this
    folder's copy instead, by its name alone, as this port's trainer writes
    it; one without a copy here is no longer listed.
  Every other entry, and its path's form (relative or absolute), is kept.

  Args:
    folder: a run's folder, whose index file latest_checkpoint has read.
  """
  index = os.path.join(folder, paths.INDEX_FILE)
  if not storage.exists(index):
    return IndexChanges()
  # The parsed state joins relative paths to `folder`; the raw one keeps
  # them as the trainer wrote them (relative: the run stays movable).
  state = tf.train.get_checkpoint_state(folder)
  if state is None:  # Damaged: latest_checkpoint refuses it.
    return IndexChanges()
  raw = text_format.Parse(storage.read_bytes(index).decode('utf-8'),
                          type(state)())
  # Dicts as ordered sets: the newest is listed too, as a rule.
  adopted, gone, elsewhere, copied_from = {}, {}, {}, []

  def place(written, read):
    """The entry as the index is to write it, or None to drop it."""
    here = _here(folder, read)
    if not in_folder(here, folder):
      elsewhere[read] = None
      return None
    if not paths.checkpoint_exists(here):
      gone[os.path.basename(read)] = None
      return None
    if here == read:
      return written
    copied_from.append(storage.dirname(read))
    adopted[os.path.basename(read)] = None
    return os.path.basename(read)

  listed = [place(written, read) for written, read in zip(
      raw.all_model_checkpoint_paths, state.all_model_checkpoint_paths)]
  named = place(raw.model_checkpoint_path, state.model_checkpoint_path)
  kept = [entry for entry in listed if entry is not None]
  if not (adopted or gone or elsewhere) or not (kept or named):
    return IndexChanges()
  timestamps = list(raw.all_model_checkpoint_timestamps)
  del raw.all_model_checkpoint_paths[:]
  raw.all_model_checkpoint_paths.extend(kept)
  if len(timestamps) == len(listed):
    del raw.all_model_checkpoint_timestamps[:]
    raw.all_model_checkpoint_timestamps.extend(
        stamp for stamp, entry in zip(timestamps, listed) if entry is not None)
  raw.model_checkpoint_path = named or kept[-1]
  storage.write_atomically(index, text_format.MessageToString(raw).encode(
      'utf-8'))
  return IndexChanges(copied_from[0] if copied_from else None,
                      tuple(adopted), tuple(gone), tuple(elsewhere))


def waiting_line(folder):
  """What the evaluator's loop says while --checkpoint_dir `folder` holds no
  checkpoint yet. A folder not there yet is said so: a trainer may be about
  to make it, so the loop waits all the same, but a typo shows."""
  if storage.exists(folder):
    return 'No checkpoint in %s yet; waiting for one.' % folder
  return ('--checkpoint_dir %s does not exist yet; waiting for a training run '
          'to make it and save a checkpoint there.' % folder)


def require_latest(folder, data_args=None):
  """The newest checkpoint in `folder`.

  Args:
    folder: the folder --checkpoint_dir names.
    data_args: the parsed flags of a script that reads the data (the
      evaluator), whose data flags the advice to train first repeats
      (flags.data_flags); None for one that reads none (predict, export):
      the advice then says to add one's --data_dir.

  Raises:
    errors.UserError: there is none (the message says whether the folder
      exists, and when it is the data set's, an evaluation's or one's own
      pictures' says so, rather than advise training into it), or the
      folder is unusable.
  """
  path = latest_checkpoint(folder, POINT_AT_TRAINING_RUN)
  if path is None and paths.holds_data(folder):
    # "Train first (--train_dir FOLDER)" would train into the data's folder.
    raise errors.UserError(
        '--checkpoint_dir %s holds the data set, not the checkpoints of a '
        'training run. Give the --train_dir that cifar10.train wrote its '
        'checkpoints into.' % folder)
  other_use = path is None and storage.isdir(folder) and (
      paths.other_use_of_folder(folder) or
      eval_report.evaluated_steps(folder) and eval_report.EVAL_DIR_IS)
  if other_use:
    # "Train first (--train_dir FOLDER)" would be refused by the trainer.
    raise errors.UserError(
        '--checkpoint_dir %s is %s, not a training run\'s folder: it holds no '
        'checkpoints. %s' % (folder, other_use, POINT_AT_TRAINING_RUN))
  if path is None:
    # The trainer's command, with the data flags of this command (without
    # them the trainer would download CIFAR-10 into the default folder).
    train = 'python -m cifar10.train ' + paths.flag_value('--train_dir', folder)
    train += (flags.data_flags(data_args) if data_args else
              ', adding --data_dir with your data\'s folder unless that is '
              '%s' % paths.DATA_DIR)
    raise errors.UserError(
        'No checkpoint file found in --checkpoint_dir %s%s. Train first '
        '(%s) or point --checkpoint_dir at a folder holding checkpoints.' % (
            folder, '' if storage.exists(folder) else ' (no such folder)',
            train))
  return path


def all_checkpoints(folder):
  """Every checkpoint the index file of `folder` lists, oldest first.

  A trainer keeps its newest --keep_checkpoints checkpoints and lists them
  in the index file; one listed but deleted since is left out.

  Args:
    folder: a folder of checkpoints (need not exist yet).

  Returns:
    Checkpoint prefixes such as '/tmp/cifar10_train/model.ckpt-1000'; an
    empty list when the folder holds none.

  Raises:
    errors.UserError: `folder` is a file, or its index file is damaged.
  """
  if latest_checkpoint(folder, POINT_AT_TRAINING_RUN) is None:
    return []
  if not storage.exists(os.path.join(folder, paths.INDEX_FILE)):
    return paths.unlisted_checkpoints(folder)
  # The state turns the relative paths trainers write into full ones.
  state = tf.train.get_checkpoint_state(folder)
  return [path for path in _listed_here(folder, state)
          if paths.checkpoint_exists(path)]


def find_checkpoint(checkpoint_dir):
  """The checkpoint --checkpoint_dir means: the one it names, or its newest.

  Raises:
    errors.UserError: there is none, or the flag names an unusable path.
  """
  folder, named = locate_checkpoints(checkpoint_dir)
  if named:
    # The notice is for a checkpoint older than the folder's newest, which
    # the user may not know they chose; naming the newest is what a folder
    # would have done, and needs no word.
    try:
      newest = latest_checkpoint(folder, POINT_AT_TRAINING_RUN)
    except errors.UserError:  # A damaged index: the one named still serves.
      newest = None
    if newest is None or (os.path.basename(newest) !=
                          os.path.basename(named)):
      errors.notice('--checkpoint_dir %s is a checkpoint: using it rather '
                    'than the newest in %s.' % (checkpoint_dir, folder))
    return named
  return require_latest(folder)


def global_step_of(path):
  """The global step saved in checkpoint `path` (an int), or None where the
  checkpoint cannot be read (damaged): whoever uses it says why."""
  try:
    return int(tf.compat.v1.train.NewCheckpointReader(path).get_tensor(
        'global_step'))
  except _READ_ERRORS:
    return None


# The model's last layer, whose outputs are the classes' logits: its
# weights' columns and its biases follow the classes, in label order.
LAST_LAYER = 'softmax_linear'

# The variable whose length is the number of classes the network scores.
_LOGITS_BIASES = LAST_LAYER + '/biases'


@dataclasses.dataclass(frozen=True)
class Checkpoint:
  """One read of a checkpoint's index: the names, dtypes and shapes it holds.

  Every check below works from this one read, so that a tool opens a
  checkpoint's index once before the restore itself reads the values.
  """
  path: str
  reader: object  # A tf.compat.v1.train.NewCheckpointReader.
  shapes: dict    # name -> list of ints.
  dtypes: dict    # name -> tf.DType.
  global_step: int  # The saved global step; None when it holds none.

  @property
  def class_count(self):
    """The number of classes the network was trained on, or None.

    None means the checkpoint is not of this network; the full check
    (check_checkpoint) then says what is wrong.
    """
    shape = self.shapes.get(_LOGITS_BIASES)
    return shape[0] if shape and len(shape) == 1 else None


def read_checkpoint(path, how_to_proceed):
  """Reads the index of checkpoint `path` (a prefix such as model.ckpt-1000).

  Args:
    path: a checkpoint prefix.
    how_to_proceed: what the error message tells the user to do: a
      sentence, or a HowToProceed, which also words the way to an older
      checkpoint where this one is damaged.

  Returns:
    A Checkpoint.

  Raises:
    errors.UserError: the checkpoint is gone (deleted by a training run that
      keeps only its newest), damaged or incomplete.
  """
  try:
    # The reader takes the checkpoint's prefix as it is. tf.train.
    # load_checkpoint would first ask whether the path is a folder, which
    # TensorFlow's ram:// file system answers yes for a prefix.
    reader = tf.compat.v1.train.NewCheckpointReader(path)
    shapes = reader.get_variable_to_shape_map()
    step = (int(reader.get_tensor('global_step'))
            if 'global_step' in shapes else None)
    return Checkpoint(path, reader, shapes, reader.get_variable_to_dtype_map(),
                      step)
  except _READ_ERRORS as error:
    _refuse_if_deleted(path)
    _refuse_if_unreadable(error)
    raise errors.UserError(
        'Checkpoint %s cannot be read (%s): it is damaged or incomplete. %s'
        % (path, errors.describe(error), _damaged_advice(path, how_to_proceed)))


def _damaged_advice(path, how_to_proceed):
  """What the refusal of damaged checkpoint `path` tells the user to do.

  Where `how_to_proceed` can lead to an older checkpoint (a HowToProceed
  with `older`) and the run holds a whole one before `path`, the advice
  names the newest such, lists the run's checkpoints (as the refusal of a
  missing one does) and says how to use it: "give --checkpoint_dir
  RUN/model.ckpt-N" alone would send the reader round in a circle, to the
  same damaged newest. Only this error path reads the older checkpoints,
  and only their metadata (_looks_whole).

  Args:
    path: the damaged checkpoint's prefix.
    how_to_proceed: the caller's advice, a string or a HowToProceed.

  Returns:
    The sentences that end the message.
  """
  older = getattr(how_to_proceed, 'older', None)
  folder = storage.dirname(path) or '.'
  try:
    listed = all_checkpoints(folder) if older else []
  except errors.UserError:  # A damaged index file: no listing to go by.
    listed = []
  names = [os.path.basename(prefix) for prefix in listed]
  before = (listed[:names.index(os.path.basename(path))]
            if os.path.basename(path) in names else [])
  whole = next((prefix for prefix in reversed(before)
                if _looks_whole(prefix)), None)
  if whole is None:
    # None after it is whole either (it is the newest, or the evaluator's
    # --all_checkpoints met the oldest first): none of the run's is, and
    # "point at a training run" would send the user back to the run given.
    if names and not any(_looks_whole(prefix)
                         for prefix in listed[len(before) + 1:]):
      how_to_proceed = how_to_proceed.none_whole or how_to_proceed
    if not before:
      return str(how_to_proceed)
    return 'No checkpoint before it is whole either (%s holds %s). %s' % (
        folder, _names(listed), how_to_proceed)
  return ('The newest checkpoint before it that is whole is %s (%s holds %s): '
          '%s' % (whole, folder, _names(listed),
                  older(listed[listed.index(whole) + 1:len(before) + 1],
                        whole)))


def _looks_whole(path):
  """Whether checkpoint `path` looks whole by its metadata alone.

  Its index must read, and its data files hold at least the bytes its
  variables take (exactly those, as TensorFlow writes them): a file cut
  short, the damage a full disk or an interrupted copy leaves, fails
  that. No tensor is read, so trying each checkpoint before a damaged one
  costs little. A file damaged inside, whose size is right, passes: its
  refusal then names the next older one.
  """
  folder = storage.dirname(path) or '.'
  data = re.compile(re.escape(os.path.basename(path)) +
                    r'\.data-\d+-of-\d+$')
  try:
    reader = tf.compat.v1.train.NewCheckpointReader(path)
    dtypes = reader.get_variable_to_dtype_map()
    needed = sum(math.prod(shape) * dtypes[name].size
                 for name, shape in reader.get_variable_to_shape_map().items()
                 if dtypes[name] != tf.string)
    held = sum(storage.getsize(os.path.join(folder, name))
               for name in storage.listdir(folder) if data.match(name))
  except _READ_ERRORS + (storage.op_error(),):
    return False
  # The old V1 format keeps everything in the one file the reader opened.
  return held >= needed or not storage.isfile(path + '.index')


def _refuse_if_deleted(path):
  """Raises UserError when checkpoint `path` no longer exists."""
  if not paths.checkpoint_exists(path):
    raise errors.UserError(
        'Checkpoint %s was deleted before it could be read (training keeps '
        'only its newest checkpoints).' % path)


# ---------------------------------------------------------------------------
# Does a checkpoint fit the graph?
# ---------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class _Mismatch:
  """One variable on which a checkpoint and the graph disagree.

  `held` is what the file holds under `name` (e.g. 'float16 [64]'), or None
  when it lacks it; `wanted` is what the graph wants there, or None when the
  graph has no such variable.
  """
  name: str
  held: str = None
  wanted: str = None
  held_dtype: tf.DType = None
  wanted_dtype: tf.DType = None
  averaged: str = None  # The raw variable, when `name` is its missing average.

  def describe(self):
    if self.averaged:
      return ('it has %s but not its moving average %s, which the graph '
              'restores (wanted as %s)' % (self.averaged, self.name,
                                           self.wanted))
    if self.held is None:
      return 'it lacks %s, which the graph wants as %s' % (self.name,
                                                           self.wanted)
    if self.wanted is None:
      return 'it holds %s as %s, which the graph has no variable for' % (
          self.name, self.held)
    return 'it holds %s as %s, the graph wants %s' % (self.name, self.held,
                                                      self.wanted)


@dataclasses.dataclass(frozen=True)
class SavedVariable:
  """What a graph saves, and restores, under one name of a checkpoint."""
  dtype: tf.DType
  shape: tf.TensorShape


def saved_variables(variables):
  """Maps the names a Saver writes `variables` under to their dtypes and shapes.

  A Saver writes each variable under its own name, except the shards of a
  partitioned variable (local3/weights/part_0, part_1, ... on a cluster of
  several ps tasks): those it writes as one tensor under the whole
  variable's name (local3/weights), each shard as the slice of it that the
  shard holds. The checkpoint therefore holds the whole variable's shape,
  whatever the number of shards, and restores into any number of them, or
  into an unsplit variable.

  Args:
    variables: tf.Variables, e.g. tf.compat.v1.global_variables().

  Returns:
    A dict from checkpoint names to SavedVariable (the base dtype and the
    whole variable's shape), for check_checkpoint's `expected`.
  """
  saved = {}
  for variable in variables:
    # TensorFlow's Saver names a shard by the same (private) attribute.
    slice_info = variable._save_slice_info  # pylint: disable=protected-access
    if slice_info:
      saved[slice_info.full_name] = SavedVariable(
          variable.dtype.base_dtype, tf.TensorShape(slice_info.full_shape))
    else:
      saved[variable.op.name] = SavedVariable(variable.dtype.base_dtype,
                                              variable.shape)
  return saved


def _spec(dtype, shape):
  return '%s %s' % (tf.as_dtype(dtype).name, list(shape))


def _mismatches(dtypes, shapes, expected, tolerated):
  """Every disagreement between a checkpoint's variables and `expected`.

  Args:
    dtypes: the checkpoint's map from names to dtypes.
    shapes: the checkpoint's map from names to shapes (lists of ints).
    expected: name in the checkpoint -> the graph variable it restores into,
      or its SavedVariable (anything with a dtype and a shape).
    tolerated: predicate for the checkpoint's names nobody restores that are
      nevertheless normal (the raw weights, when restoring averages, say).

  Returns:
    A list of _Mismatch: the graph's variables in their order first, then
    the checkpoint's unexpected extras sorted by name.
  """
  found = []
  for name, variable in expected.items():
    wanted_dtype = variable.dtype.base_dtype
    wanted_shape = variable.shape.as_list()
    wanted = _spec(wanted_dtype, wanted_shape)
    raw = name[:-len(AVERAGE_SUFFIX)] if name.endswith(AVERAGE_SUFFIX) else None
    # A missing average whose raw variable does not fit either (another
    # network's checkpoint, saved without averages) is named by that
    # variable, unless the graph restores that one too (the trainer's):
    # its shape says what is wrong, and --raw_weights would not help.
    if (name not in shapes and raw in shapes and raw not in expected and
        (dtypes[raw] != wanted_dtype or shapes[raw] != wanted_shape)):
      name = raw
    if name not in shapes:
      found.append(_Mismatch(name, wanted=wanted,
                             averaged=raw if raw in shapes else None))
    elif dtypes[name] != wanted_dtype or shapes[name] != wanted_shape:
      found.append(_Mismatch(name, _spec(dtypes[name], shapes[name]), wanted,
                             dtypes[name], wanted_dtype))
  for name in sorted(set(shapes) - set(expected)):
    if not tolerated(name):
      found.append(_Mismatch(name, held=_spec(dtypes[name], shapes[name])))
  return found


def _dtype_advice(mismatch):
  """What fixes a float16 / float32 disagreement, or '' for other kinds."""
  if {mismatch.held_dtype, mismatch.wanted_dtype} != {tf.float16, tf.float32}:
    return ''
  if mismatch.held_dtype == tf.float16:
    return 'It was trained with --use_fp16: add --use_fp16 to use it. '
  return 'It was trained without --use_fp16: leave --use_fp16 out to use it. '


def check_checkpoint(checkpoint, expected, how_to_proceed, tolerated=None,
                     advise_use_fp16=False, without_averages=None):
  """Raises UserError unless `checkpoint` fits the graph exactly.

  It compares names, dtypes and shapes in both directions, then reads each
  expected tensor once (a few MB), which also catches truncated data files.

  Args:
    checkpoint: a Checkpoint, from read_checkpoint.
    expected: dict from names in the checkpoint to the graph variables they
      restore into, or to SavedVariables (see saved_variables, for graphs
      with partitioned variables).
    how_to_proceed: a sentence telling the user what to do about it, or a
      HowToProceed (see read_checkpoint).
    tolerated: predicate for names the checkpoint may hold beyond
      `expected`; by default none may.
    advise_use_fp16: when the first mismatch is float16 against float32,
      say which way to set --use_fp16 (for tools that do not adapt).
    without_averages: the sentence that replaces `how_to_proceed` when
      `expected` names only moving averages and the checkpoint holds every
      weight but none of them.

  Raises:
    errors.UserError: one line naming the checkpoint, the first variable
      that does not fit (and how many more), what each side has, and what
      to do.
  """
  path = checkpoint.path
  found = _mismatches(checkpoint.dtypes, checkpoint.shapes, expected,
                      tolerated or (lambda name: False))
  if (without_averages and len(found) == len(expected) and
      all(mismatch.averaged for mismatch in found)):
    raise errors.UserError(
        'Checkpoint %s holds the trained variables but none of their moving '
        'averages (it has %s but not %s, nor any of the %d averages). %s'
        % (path, found[0].averaged, found[0].name, len(found),
           without_averages))
  if found:
    more = (' (and %d more variables differ)' % (len(found) - 1)
            if len(found) > 1 else '')
    raise errors.UserError(
        'Checkpoint %s does not fit this graph: %s%s. %s%s'
        % (path, found[0].describe(), more,
           _dtype_advice(found[0]) if advise_use_fp16 else '',
           getattr(how_to_proceed, 'misfit', None) or how_to_proceed))
  for name in expected:
    try:
      checkpoint.reader.get_tensor(name)
    except _READ_ERRORS as error:
      _refuse_if_unreadable(error)
      raise errors.UserError(
          'Checkpoint %s is damaged: reading %s failed (%s). %s'
          % (path, name, errors.describe(error),
             _damaged_advice(path, how_to_proceed)))


def _also_in_training_checkpoints(expected):
  """What a training checkpoint holds beyond the averages evaluation restores.

  Those are the raw weights, `global_step` and the loss curves' averages
  (`<loss>/avg`, kept for TensorBoard's smoothed lines).
  """
  raw = {variable.op.name for variable in expected.values()}
  return lambda name: (name in raw or name == 'global_step' or
                       name.endswith('/avg'))


def check_class_count(checkpoint, classes, how_to_proceed):
  """Raises UserError unless `checkpoint` scores `classes.count` classes.

  Run it before building a model for the checkpoint: a network built for
  another number of classes cannot restore it, and the general check would
  only name a shape.

  Args:
    checkpoint: a Checkpoint, from read_checkpoint.
    classes: a classes.Classes, those of the data (or of the run's record).
    how_to_proceed: a sentence telling the user what to do about it, or an
      object whose str() is one, worded only if the check refuses.

  Raises:
    errors.UserError: one line naming the checkpoint, both counts, where the
      expected one comes from, and what to do.
  """
  count = checkpoint.class_count
  if count is not None and count != classes.count:
    raise errors.UserError(
        'Checkpoint %s was trained on %d classes, but there are %d here (%s). '
        '%s' % (checkpoint.path, count, classes.count, classes.source,
                how_to_proceed))


def other_classes_advice(checkpoint_path, data_dir):
  """The advice for checkpoint `checkpoint_path`, trained on other classes
  than the data in `data_dir` has: its run's own data first, named where
  the run recorded it (run_flags), or a run trained on this data. Worded
  only when a check refuses (errors.WordedWhenShown): the run's record is
  read then, not at each evaluation."""
  def worded():
    recorded = run_flags.other_data_dir_of_run(
        storage.dirname(checkpoint_path) or '.', data_dir)
    return ('Give the --data_dir it was trained on%s, or the --checkpoint_dir '
            'of a run trained on this data.'
            % (' (%s, as the run recorded it)' % recorded if recorded else ''))
  return errors.WordedWhenShown(worded)


def check_classes(checkpoint, data_classes, how_to_proceed):
  """Raises UserError unless `checkpoint` was trained on `data_classes`.

  The count is read from the checkpoint's last layer (check_class_count);
  the names from its run's record, class_names.txt beside it, where there
  is one (classes.check_run_names): a run on three other classes would
  otherwise be scored under this data's names without a word.

  Args:
    checkpoint: a Checkpoint, from read_checkpoint.
    data_classes: the classes.Classes of the data it is used on.
    how_to_proceed: a sentence telling the user what to do about it.

  Raises:
    errors.UserError: one line naming what differs, where each side was
      read, and what to do.
  """
  check_class_count(checkpoint, data_classes, how_to_proceed)
  classes.check_run_names(storage.dirname(checkpoint.path) or '.',
                          data_classes, 'Checkpoint %s' % checkpoint.path,
                          how_to_proceed)


def checkpoint_uses_fp16(checkpoint, use_fp16):
  """Whether to build the model in float16, so that `checkpoint` restores.

  A checkpoint trained with --use_fp16 holds float16 variables and one
  trained without holds float32; the evaluator, predict and export build
  the model in the checkpoint's own type, whatever --use_fp16 says, and
  print a notice when that differs from the flag.

  Args:
    checkpoint: a Checkpoint, from read_checkpoint.
    use_fp16: the --use_fp16 flag.

  Returns:
    True to build in float16. `use_fp16` itself when the checkpoint mixes
    both types: restoring then reports the problem.
  """
  floats = {dtype for dtype in checkpoint.dtypes.values() if dtype.is_floating}
  if floats not in ({tf.float16}, {tf.float32}):
    return use_fp16
  saved_in_fp16 = floats == {tf.float16}
  if saved_in_fp16 and not use_fp16:
    errors.notice('checkpoint %s holds float16 variables (it was trained '
                  'with --use_fp16): building the model in float16 to match.'
                  % checkpoint.path)
  elif use_fp16 and not saved_in_fp16:
    errors.notice('--use_fp16 is given, but checkpoint %s holds float32 '
                  'variables: building the model in float32 to match.'
                  % checkpoint.path)
  return saved_in_fp16


def checkpoint_to_serve(checkpoint_dir, use_fp16):
  """The checkpoint predict and export serve, with its run's classes and type.

  Both read no data set, so the classes come from the run's own record
  (class_names.txt beside the checkpoint), checked against the checkpoint's
  last layer before a model is built for it. Where the run records none,
  say_classes_assumed says so once the checkpoint is restored.

  Args:
    checkpoint_dir: the --checkpoint_dir flag (a run's folder or one
      checkpoint).
    use_fp16: the --use_fp16 flag.

  Returns:
    (a Checkpoint, its run's classes.Classes, whether to build the model in
    float16 as checkpoint_uses_fp16 decides).

  Raises:
    errors.UserError: there is no usable checkpoint, or its folder records
      another number of classes than it scores.
  """
  checkpoint = read_checkpoint(find_checkpoint(checkpoint_dir), READ_A_RUN)
  run_folder = storage.dirname(checkpoint.path) or '.'
  run_classes = classes.of_run(run_folder)
  check_class_count(checkpoint, run_classes, classes.run_names_fix(run_folder))
  return checkpoint, run_classes, checkpoint_uses_fp16(checkpoint, use_fp16)


def say_classes_assumed(checkpoint, run_classes):
  """A notice where the run of `checkpoint` records no class names.

  The original's runs (and a checkpoint copied without it) record none:
  their outputs are taken for CIFAR-10's classes, which a run of ten
  classes of one's own would silently get. Call it once the checkpoint is
  restored: a checkpoint refused (another network, no moving averages) is
  then refused without a word about its classes.

  Args:
    checkpoint: a Checkpoint, from checkpoint_to_serve.
    run_classes: the classes.Classes checkpoint_to_serve gave with it.
  """
  run_folder = storage.dirname(checkpoint.path) or '.'
  if classes.recorded_by_run(run_folder) is None:
    errors.notice('%s has no %s: its %d classes are taken to be '
                  'CIFAR-10\'s. %s' % (
                      run_folder, classes.RUN_FILE, run_classes.count,
                      classes.run_names_fix(run_folder,
                                            when=' if it learnt others')))


def restore_weights(session, checkpoint, averaged, raw_weights=False,
                    how_to_proceed=READ_A_RUN):
  """Restores the weights saved in `checkpoint`: their averages, or raw.

  Evaluation, cifar10.predict and cifar10.export use the moving averages of
  the weights by default, as the original evaluator did: they classify
  better than the last step's. With `raw_weights` they restore the trained
  variables themselves (a notice says so), which is the only way to use a
  checkpoint that holds no averages. Build the model with
  `checkpoint_uses_fp16(checkpoint, ...)` first.

  Args:
    session: a session on the graph holding the model.
    checkpoint: a Checkpoint, from read_checkpoint.
    averaged: cifar10.variables_to_restore(): the names of the weights'
      moving averages in the checkpoint, mapped to the model's variables.
    raw_weights: the --raw_weights flag.
    how_to_proceed: the sentence that ends an error message, or a
      HowToProceed (see read_checkpoint).

  Returns:
    The checkpoint's global step (0, with a notice, when it holds none).

  Raises:
    errors.UserError: the checkpoint does not fit the model, is damaged, or
      was deleted (by a training run keeping its newest only) meanwhile.
  """
  path = checkpoint.path
  if raw_weights:
    errors.notice('--raw_weights: restoring the variables of %s as trained, '
                  'not their moving averages (which the tutorial evaluates).'
                  % path)
    variables_to_restore = {variable.op.name: variable
                            for variable in averaged.values()}
    tolerated = lambda name: (name.endswith(AVERAGE_SUFFIX) or
                              name == 'global_step' or name.endswith('/avg'))
  else:
    variables_to_restore = averaged
    tolerated = _also_in_training_checkpoints(averaged)
  try:
    check_checkpoint(checkpoint, variables_to_restore, how_to_proceed,
                     tolerated=tolerated, without_averages=_ADD_RAW_WEIGHTS)
    tf.compat.v1.train.Saver(variables_to_restore).restore(session, path)
  except (errors.UserError, tf.errors.NotFoundError, ValueError):
    # Saver.restore raises ValueError ("not a valid checkpoint") when the
    # files vanished between the check and the restore.
    _refuse_if_deleted(path)
    raise
  if checkpoint.global_step is None:
    errors.notice('checkpoint %s holds no global_step: its results are '
                  'recorded at step 0.' % path)
    return 0
  return checkpoint.global_step
