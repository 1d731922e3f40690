"""Checks a checkpoint before anything restores it, so a bad one gets a clear message.

A truncated or damaged file, or a checkpoint of another model, would
otherwise surface as a long TensorFlow error deep inside session creation
(or, for a trainer, as a run that overwrites the user's files).
"""

import os

import tensorflow as tf

from cifar10 import cifar10
from cifar10 import errors

INDEX_FILE = 'checkpoint'

# What the tools that read a training run's checkpoints tell their users.
POINT_AT_TRAINING_RUN = ('Point --checkpoint_dir at the --train_dir of a '
                         'training run.')

# What TensorFlow's checkpoint reader raises for damaged files: OpErrors,
# and plain Python errors from its C++ wrapper ("Read less bytes than
# requested" is an IndexError).
_READ_ERRORS = (tf.errors.OpError, ValueError, IndexError, RuntimeError)


def latest_checkpoint(folder, how_to_proceed):
  """The newest checkpoint in `folder`, or None when it has none yet.

  Raises:
    errors.UserError: `folder` is a file, or its `checkpoint` index file is
      damaged or names a checkpoint that is not there.
  """
  if os.path.exists(folder) and not os.path.isdir(folder):
    raise errors.UserError('%s is a file, not a folder of checkpoints. %s'
                           % (folder, how_to_proceed))
  if not os.path.exists(os.path.join(folder, INDEX_FILE)):
    return None
  path = tf.train.latest_checkpoint(folder)
  if path is None:
    raise errors.UserError(
        '%s is damaged or names a checkpoint that is not there. %s'
        % (os.path.join(folder, INDEX_FILE), how_to_proceed))
  return path


def check_checkpoint(path, expected, how_to_proceed):
  """Raises UserError unless checkpoint `path` holds every expected tensor.

  Reads every expected tensor once, which catches truncated data files as
  well as damaged index files; a checkpoint is a few MB.

  Args:
    path: a checkpoint prefix, e.g. '/tmp/cifar10_train/model.ckpt-1000'.
    expected: dict from names in the checkpoint to the graph variables they
      restore into.
    how_to_proceed: a sentence telling the user what to do about it.
  """
  try:
    reader = tf.train.load_checkpoint(path)
    shapes = reader.get_variable_to_shape_map()
  except _READ_ERRORS as error:
    raise errors.UserError(
        'Checkpoint %s cannot be read (%s): it is damaged or incomplete. %s'
        % (path, errors.describe(error), how_to_proceed))
  missing = sorted(name for name in expected if name not in shapes)
  mismatched = sorted(
      name for name, variable in expected.items()
      if name in shapes and shapes[name] != variable.shape.as_list())
  if missing or mismatched:
    raise errors.UserError(
        'Checkpoint %s is not a checkpoint of this model: %s. %s' % (
            path, '; '.join(filter(None, [
                _listed('missing', missing),
                _listed('shape differs for', [
                    '%s (%s in the file, %s here)' % (
                        name, shapes[name], expected[name].shape.as_list())
                    for name in mismatched])])), how_to_proceed))
  for name in expected:
    try:
      reader.get_tensor(name)
    except _READ_ERRORS as error:
      raise errors.UserError(
          'Checkpoint %s is damaged: reading %s failed (%s). %s'
          % (path, name, errors.describe(error), how_to_proceed))


def _listed(label, names, most=5):
  if not names:
    return ''
  more = ' and %d more' % (len(names) - most) if len(names) > most else ''
  return '%s %s%s' % (label, ', '.join(names[:most]), more)


def require_latest(folder):
  """The newest checkpoint in `folder`; a UserError that says so if none."""
  path = latest_checkpoint(folder, POINT_AT_TRAINING_RUN)
  if path is None:
    raise errors.UserError(
        'No checkpoint file found in --checkpoint_dir %s. Train first '
        '(python -m cifar10.train --train_dir %s) or point --checkpoint_dir '
        'at a folder holding checkpoints.' % (folder, folder))
  return path


def restore_moving_averages(session, path,
                            how_to_proceed=POINT_AT_TRAINING_RUN):
  """Restores the moving averages of the weights in `path` into the model.

  The evaluator, cifar10.predict and cifar10.export use these, as the
  original evaluator did: they classify better than the raw weights.

  Returns:
    The checkpoint's global step.
  """
  variables_to_restore = cifar10.variables_to_restore()
  try:
    check_checkpoint(path, variables_to_restore, how_to_proceed)
    tf.compat.v1.train.Saver(variables_to_restore).restore(session, path)
    return int(tf.train.load_variable(path, 'global_step'))
  except (errors.UserError, tf.errors.NotFoundError, ValueError):
    # Saver.restore says ValueError ("not a valid checkpoint") when training
    # deleted the files between the check and the restore.
    if not os.path.exists(path + '.index'):
      raise errors.UserError(
          'Checkpoint %s was deleted before it could be read (training keeps '
          'only its newest checkpoints).' % path)
    raise
