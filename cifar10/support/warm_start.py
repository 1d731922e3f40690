"""Warm starting: a new run's first weights taken from a trained model.

`--warm_start_from` names a checkpoint, or a run's folder (its newest
checkpoint is read), of a model like this one, e.g. a CIFAR-10 run to
fine-tune on your own classes. Each of this model's variables whose name,
dtype and shape fit is loaded from it at step 0, with its moving average;
the rest (the last layer, softmax_linear, when the class count differs)
start from their initializers. The last layer also starts fresh where the
source's run recorded other class names in the same number: its rows score
the source's classes in their label order, and kept, they would start the
new run out calling each of its classes by a source class's weights (a
notice names both lists). The global step is not taken, nor the loss
curves' averages: they describe the source's training on its own data, and
the new run counts its own steps from 0 in its own --train_dir. The source
is only read.

A run that resumes from its own checkpoint has trained past its start
already, so the flag is then ignored, with a notice.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import dataclasses

import tensorflow as tf

from cifar10.support import batch_files
from cifar10.support import checkpoints
from cifar10.support import classes
from cifar10.support import errors
from cifar10.support import paths
from cifar10.support import storage

FLAG = '--warm_start_from'

_HOW_TO_PROCEED = checkpoints.read_instead(
    FLAG, 'Give %s another checkpoint or run folder, or leave it out to start '
    'from random weights.' % FLAG)


@dataclasses.dataclass(frozen=True)
class Plan:
  """Which variables a warm start loads, and which start fresh and why.

  `loaded` maps names in the checkpoint to the graph's variable (or, for a
  variable split into shards on a cluster, the list of its shards) that
  takes that tensor's value. `averages_from_weights` does the same for
  moving averages the checkpoint lacks: they take their weight's value, so
  that they start where the weights do. `fresh` lists the variables that
  keep their initializers, with the reason for each.
  """
  path: str
  loaded: dict
  averages_from_weights: dict
  fresh: list  # (variable name, reason) pairs, in the graph's order.

  def describe(self):
    """The line that says what was and was not loaded."""
    weights = [name for name in self.loaded
               if not name.endswith(checkpoints.AVERAGE_SUFFIX)]
    layers = list(dict.fromkeys(name.split('/')[0] for name in weights))
    averaged = len(self.loaded) > len(weights)
    line = 'Warm start from %s: restored %d variables (%s%s)' % (
        self.path, len(self.loaded), ', '.join(layers),
        ' and their moving averages' if averaged else '')
    if self.averages_from_weights:
      line += ('; the moving averages of %s start at the restored weights '
               '(the checkpoint holds none)'
               % ', '.join(self.averages_from_weights))
    if not self.fresh:
      return line + '; nothing starts fresh.'
    return line + '; starting fresh: %s, with their moving averages.' % (
        ', '.join('%s (%s)' % pair for pair in self.fresh))


def _groups(variables):
  """Maps each checkpoint name to its variable, or to the list of its shards.

  A variable partitioned over several ps tasks is several graph variables
  saved as one tensor (see checkpoints.saved_variables);
  init_from_checkpoint loads such a tensor into the list of its shards.
  """
  groups = {}
  for variable in variables:
    slice_info = variable._save_slice_info  # pylint: disable=protected-access
    if slice_info:
      groups.setdefault(slice_info.full_name, []).append(variable)
    else:
      groups[variable.op.name] = variable
  return groups


def _reason(checkpoint, name, wanted):
  """Why checkpoint tensor `name` cannot load into `wanted`, or None."""
  if name not in checkpoint.shapes:
    return 'not in the checkpoint'
  held_dtype = checkpoint.dtypes[name]
  held_shape = checkpoint.shapes[name]
  wanted_shape = wanted.shape.as_list()
  dtype_differs = held_dtype != wanted.dtype
  shape_differs = held_shape != wanted_shape
  if not (dtype_differs or shape_differs):
    return None
  def spec(dtype, shape):
    return ' '.join(([dtype.name] if dtype_differs else []) +
                    ([str(shape)] if shape_differs else []))
  return '%s there, %s here' % (spec(held_dtype, held_shape),
                                spec(wanted.dtype, wanted_shape))


def find_source(path):
  """The checkpoint --warm_start_from means: the one it names, or its newest.

  Args:
    path: the flag's value: a checkpoint prefix (or one of its files), or a
      run's folder, in the V2 or the old V1 format.

  Returns:
    A checkpoints.Checkpoint.

  Raises:
    errors.UserError: the path holds no checkpoint (a data set, say), or an
      unreadable one.
  """
  folder, named = checkpoints.locate_checkpoints(path, FLAG)
  source = named or checkpoints.latest_checkpoint(folder, _HOW_TO_PROCEED)
  if source is None and paths.holds_data(path):
    # "Point it at the --train_dir of a run" would not tell such a user
    # that the data goes elsewhere.
    raise errors.UserError(
        '%s %s holds a data set, not a training run. To train on that data, '
        'give it as --data_dir; to start from a trained model, point %s at '
        'the --train_dir of its run, or leave %s out to start from random '
        'weights.' % (FLAG, path, FLAG, FLAG))
  if source is None:
    raise errors.UserError(
        '%s %s %s. Point it at the --train_dir of a training run, or at one '
        'of its checkpoints (such as RUN/model.ckpt-1000).' % (
            FLAG, path, 'holds no checkpoint' if storage.exists(path)
            else 'does not exist'))
  return checkpoints.read_checkpoint(source, _HOW_TO_PROCEED)


# Why the last layer starts fresh on other classes of the same number.
_OTHER_CLASSES = 'trained on other classes'


def plan(checkpoint, variables, trainable, relabelled=False):
  """Matches the graph's model variables with the tensors of `checkpoint`.

  Args:
    checkpoint: a checkpoints.Checkpoint, from find_source.
    variables: all the graph's variables (tf.compat.v1.global_variables()).
    trainable: the model's weights (tf.compat.v1.trainable_variables()).
    relabelled: whether the source scored other classes than this run, in
      the same number (see relabelled_source): its last layer then starts
      fresh, though its shape fits.

  Returns:
    A Plan.

  Raises:
    errors.UserError: none of the model's variables fit: the checkpoint is
      not of this network.
  """
  wanted = checkpoints.saved_variables(variables)
  groups = _groups(variables)
  loaded, from_weights, fresh = {}, {}, []
  for name in _groups(trainable):
    average = name + checkpoints.AVERAGE_SUFFIX
    reason = (_OTHER_CLASSES if relabelled and name.split('/')[0] ==
              checkpoints.LAST_LAYER else _reason(checkpoint, name,
                                                  wanted[name]))
    if reason:
      # Its average starts fresh too, whatever the checkpoint holds for it.
      fresh.append((name, reason))
      continue
    loaded[name] = groups[name]
    if average not in wanted:
      continue
    if average in checkpoint.shapes:
      loaded[average] = groups[average]
    else:
      from_weights[name] = groups[average]
  if not loaded:
    raise errors.UserError(
        '%s %s: none of this model\'s variables fit checkpoint %s (%s: %s). '
        '%s' % (FLAG, checkpoint.path, checkpoint.path, fresh[0][0],
                fresh[0][1], _HOW_TO_PROCEED))
  return Plan(checkpoint.path, loaded, from_weights, fresh)


def _other_names(checkpoint, run_classes):
  """The classes.Classes the run of `checkpoint` recorded, where they are
  other names than `run_classes`, as many; else None."""
  folder = storage.dirname(checkpoint.path) or '.'
  source_classes = classes.recorded_by_run(folder)
  if (source_classes is None or source_classes.count != run_classes.count or
      source_classes.names == run_classes.names):
    return None
  return source_classes


def check_fits(checkpoint, classify, use_fp16, run_classes):
  """Refuses `checkpoint` where none of the model's weights would load from it.

  The trainers call it before they touch --train_dir, where `warm_start`
  would refuse the same checkpoint only once the training graph is built:
  by then --fresh has removed the earlier run. The network alone is built
  for it, in a graph of its own that is then dropped (a fraction of a
  second); nothing is read but the checkpoint's index, and nothing printed.

  Args:
    checkpoint: the source, a checkpoints.Checkpoint, from find_source.
    classify: cifar10.classify, which builds the network the run trains.
    use_fp16: the --use_fp16 flag: the network's dtype.
    run_classes: the classes.Classes of the new run's data.

  Raises:
    errors.UserError: the message `plan` gives once the graph is built.
  """
  with tf.Graph().as_default():
    classify(tf.compat.v1.placeholder(
        tf.uint8, [None, batch_files.ORIGINAL_SIZE, batch_files.ORIGINAL_SIZE,
                   batch_files.DEPTH]), use_fp16, run_classes.count)
    plan(checkpoint, tf.compat.v1.global_variables(),
         tf.compat.v1.trainable_variables(),
         _other_names(checkpoint, run_classes) is not None)


def relabelled_source(checkpoint, run_classes):
  """Whether `checkpoint` scores other classes than `run_classes`, as many.

  The source's names are those its run recorded beside it; a source without
  the record (an old run) is taken as it is. Where the counts differ, the
  last layer's shape differs and it starts fresh anyway.

  Prints a notice naming both lists when the names differ.

  Args:
    checkpoint: the source, a checkpoints.Checkpoint.
    run_classes: the classes.Classes of the new run.
  """
  source_classes = _other_names(checkpoint, run_classes)
  if source_classes is None:
    return False
  errors.notice(
      '%s %s was trained on the classes %s (%s), this run\'s data has %s '
      '(%s): its last layer, %s, starts fresh, as it does for another number '
      'of classes.' % (
          FLAG, checkpoint.path, classes.listed(source_classes.names),
          source_classes.source, classes.listed(run_classes.names),
          run_classes.source, checkpoints.LAST_LAYER))
  return True


def fresh_would_remove(source, train_dir):
  """Whether `source` is --train_dir itself or a checkpoint in it: what
  --fresh there removes before a warm start could read it. (A checkpoint in
  a folder below --train_dir is not removed.)

  Args:
    source: the --warm_start_from flag, or the checkpoint prefix find_source
      made of it.
    train_dir: the --train_dir flag.
  """
  return (paths.same_folder(source, train_dir) or
          paths.same_folder(storage.dirname(storage.normpath(source)) or '.',
                            train_dir))


def warm_start(source, run_classes):
  """Makes the graph's initializers load the model's variables from `source`.

  Call it once the graph of a new run is built, before the session that
  initializes it. It prints the line saying what was and was not restored.
  (A run that resumes ignores the flag; training_run says so.)

  Args:
    source: the --warm_start_from flag.
    run_classes: the classes.Classes of the new run's data.

  Raises:
    errors.UserError: `source` holds no usable checkpoint of this network.
  """
  checkpoint = find_source(source)
  warm = plan(checkpoint, tf.compat.v1.global_variables(),
              tf.compat.v1.trainable_variables(),
              relabelled_source(checkpoint, run_classes))
  # init_from_checkpoint replaces each listed variable's initializer by an
  # op that reads its value from the checkpoint. The session's ordinary
  # init op then loads them as it initializes the rest, in one step: there
  # is no moment at which the weights are random (in a cluster the other
  # workers start once the variables are initialized, so they never see
  # random weights), and a resumed session, which restores instead of
  # initializing, never runs it. TensorFlow reads the checkpoint only: the
  # source run's folder is never written. The Estimator's WarmStartSettings
  # works the same way.
  tf.compat.v1.train.init_from_checkpoint(warm.path, warm.loaded)
  # A tensor loads into one variable per call, so the averages the
  # checkpoint lacks take their weight's value in a call of their own.
  if warm.averages_from_weights:
    tf.compat.v1.train.init_from_checkpoint(warm.path,
                                            warm.averages_from_weights)
  print(warm.describe(), flush=True)
