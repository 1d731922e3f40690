"""--trainable_scopes: train some layers of the model and keep the rest.

Fine-tuning a warm-started model often trains only its last layers: the
first ones already detect edges and textures that suit other images too,
and a small data set is better spent on the layers that decide the class.
The optimizer then gets only the variables of the named layers (variable
scopes such as local4 or softmax_linear); the others keep their values.
Their moving averages are all still updated, so that every checkpoint keeps
the averages the evaluator restores.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import tensorflow as tf

from cifar10.support import errors

FLAG = '--trainable_scopes'

# The layers cifar10.inference builds, in its order: the variable scopes of
# the model (a test holds them to the graph's). A trainer checks the flag
# against them before it touches --train_dir, so that a mistyped name
# costs nothing, --fresh or not; variables_to_train checks it again
# against the graph it is given.
MODEL_SCOPES = ('conv1', 'conv2', 'local3', 'local4', 'softmax_linear')


def _scope(variable):
  """The layer a variable belongs to: conv1 for conv1/weights."""
  return variable.op.name.split('/')[0]


def variables_to_train(scopes):
  """The trainable variables under `scopes`, for the optimizer's var_list.

  Call it once the model's variables exist. It prints one line saying what
  trains.

  Args:
    scopes: the --trainable_scopes flag: a tuple of layer scope names, or
      None to train every variable.

  Returns:
    A list of variables, or None (the optimizer's default: all).

  Raises:
    errors.UserError: a name is none of the model's scopes; the message
      lists them.
  """
  if scopes is None:
    return None
  variables = tf.compat.v1.trainable_variables()
  model_scopes = list(dict.fromkeys(_scope(variable) for variable in variables))
  check_scopes(scopes, model_scopes)
  chosen = [variable for variable in variables if _scope(variable) in scopes]
  print('%s: training the %d variables of %s; the other %d keep their values '
        '(their moving averages still follow them).'
        % (FLAG, len(chosen), ', '.join(name for name in model_scopes
                                        if name in scopes),
           len(variables) - len(chosen)), flush=True)
  return chosen


def check_scopes(scopes, model_scopes=MODEL_SCOPES):
  """Refuses a --trainable_scopes naming no layer, or a layer not there.

  Args:
    scopes: the flag: a tuple of names, or None (every layer trains).
    model_scopes: the layers' scopes, in the model's order.

  Raises:
    errors.UserError: the message lists the model's scopes.
  """
  if scopes is None:
    return
  unknown = [name for name in scopes if name not in model_scopes]
  if unknown or not scopes:
    raise errors.UserError(
        '%s %s: %s; the model\'s scopes are %s.' % (
            FLAG, ','.join(scopes),
            'no scope %s in this model' % ', '.join(unknown) if unknown
            else 'name at least one scope', ', '.join(model_scopes)))


def drop_frozen(tower_grads, scopes):
  """Each tower's (gradient, variable) pairs, less those of frozen layers.

  Args:
    tower_grads: one list of (gradient, variable) pairs per tower, as
      Optimizer.compute_gradients returns them.
    scopes: the --trainable_scopes flag, as for variables_to_train.

  Returns:
    The lists, keeping only the variables under `scopes` (all, for None),
    in the same order.

  Raises:
    errors.UserError: as variables_to_train.
  """
  trained = variables_to_train(scopes)
  if trained is None:
    return tower_grads
  names = {variable.op.name for variable in trained}
  return [[(gradient, variable) for gradient, variable in pairs
           if variable.op.name in names] for pairs in tower_grads]
