"""The checkpoints cifar10.eval scores beyond the original's newest one.

The original's evaluator scored the newest checkpoint of a training run,
once or each time a new one came. This port's also scores one checkpoint
named by its path, and, with --all_checkpoints, every checkpoint of a
folder that has no result in --eval_dir yet: the whole curve of a finished
run.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

from cifar10.support import checkpoints
from cifar10.support import errors
from cifar10.support import eval_report
from cifar10.support import paths


def evaluate_all(folder, eval_dir, evaluate_one, data_args=None):
  """Evaluates each checkpoint in `folder` without a result yet, oldest first.

  A checkpoint that cannot be used is reported in one line and skipped.

  Args:
    folder: the folder of the training run's checkpoints.
    eval_dir: the --eval_dir whose results say which steps are done.
    evaluate_one: a function of (checkpoint path, skip_unusable) that
      evaluates one checkpoint (cifar10.eval's evaluate_one), returning None
      for one it skipped as unusable.
    data_args: the evaluator's parsed flags, whose data flags the advice
      for a folder without checkpoints repeats (checkpoints.require_latest).

  Raises:
    errors.UserError: `folder` holds no checkpoint, or none of those
      without a result could be used: nothing was evaluated, and a script
      that runs the evaluator should see it fail.
  """
  done = eval_report.evaluated_steps(eval_dir)
  found = checkpoints.all_checkpoints(folder)
  if not found:
    checkpoints.require_latest(folder, data_args)  # Raises, naming it.
  # A damaged checkpoint, whose step cannot be read, has no result: it is
  # tried with the others, and skipped with its reason.
  pending = [path for path in found
             if checkpoints.global_step_of(path) not in done]
  if not pending:
    # Said as it is: "0 of the 5 have no result" read as if none had been
    # looked at. A folder of its own evaluates them again, since this one
    # would hold two figures at each step.
    print('Nothing to evaluate: %s in %s %s a result in %s already; give '
          '--eval_dir a new folder, such as %s, to evaluate again.' % (
              'all %d checkpoints' % len(found) if len(found) > 1 else
              'the one checkpoint', folder,
              'have' if len(found) > 1 else 'has', eval_dir,
              paths.new_folder_beside(eval_dir, '_new')), flush=True)
    return
  print('%d of the %d checkpoints in %s have no result in %s yet.'
        % (len(pending), len(found), folder, eval_dir), flush=True)
  skipped = 0
  for number, path in enumerate(pending, 1):
    print('Evaluating %s (%d of %d).' % (path, number, len(pending)),
          flush=True)
    if evaluate_one(path, True) is None:
      skipped += 1
  if skipped and skipped == len(pending):
    raise errors.UserError(
        'No checkpoint in %s could be evaluated (%d without a result, each '
        'named above with the reason it was skipped).' % (folder, skipped))
  if skipped:
    print('Skipped %d of the %d checkpoints (each named above); the results '
          'of the others are in %s.' % (skipped, len(pending), eval_dir),
          flush=True)


def evaluate_chosen(args, folder, named, evaluate_one):
  """Evaluates what --all_checkpoints or a named checkpoint asks for.

  Args:
    args: the evaluator's parsed flags (--checkpoint_dir, --eval_dir,
      --all_checkpoints).
    folder, named: what checkpoints.locate_checkpoints made of
      --checkpoint_dir: its folder, and the checkpoint it names, if any.
    evaluate_one: as for evaluate_all.

  Returns:
    True when it evaluated what the flags ask for; False when they ask for
    the newest checkpoint of `folder`, which the caller evaluates.

  Raises:
    errors.UserError: there is no usable checkpoint.
  """
  if args.all_checkpoints:
    if named:
      errors.notice('--checkpoint_dir %s is a checkpoint: --all_checkpoints '
                    'evaluates those of its folder, %s.'
                    % (args.checkpoint_dir, folder))
    evaluate_all(folder, args.eval_dir, evaluate_one, args)
    return True
  if named:
    errors.notice('--checkpoint_dir %s is a checkpoint: evaluating it '
                  'once. Give its folder, %s, to evaluate each new one.'
                  % (args.checkpoint_dir, paths.for_shell(folder)))
    evaluate_one(named, False)
    return True
  return False
