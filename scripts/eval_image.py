#!/usr/bin/env python
"""Saves an image summary the evaluator wrote (its confusion matrix) as a PNG.

`cifar10.eval` writes its confusion matrix into the event files of
--eval_dir as the image summary `confusion_matrix`, one per evaluated
checkpoint. This reads them back with TensorBoard's own event reader and
writes the PNG of one global step (the latest by default) unchanged.

    python scripts/eval_image.py --eval_dir /tmp/cifar10_eval --output confusion_matrix.png
"""

import os
import sys

from cifar10.support import script

# Before TensorFlow loads (TensorBoard's reader loads it): the CPU kernels and
# the quiet start-up of every script (see cifar10/support/script.py).
if __name__ == '__main__':
  script.prepare_process()

from tensorboard.backend.event_processing import event_accumulator  # pylint: disable=g-import-not-at-top

from cifar10.support import errors  # pylint: disable=g-import-not-at-top
from cifar10.support import flags  # pylint: disable=g-import-not-at-top
from cifar10.support import paths  # pylint: disable=g-import-not-at-top
from cifar10.support import run_flags  # pylint: disable=g-import-not-at-top
from cifar10.support import summaries  # pylint: disable=g-import-not-at-top

TAG = 'confusion_matrix'


def image_events(eval_dir, tag):
  """Every image summary `tag` in the event files of `eval_dir`, oldest first.

  Returns:
    A list of TensorBoard ImageEvents (step, encoded_image_string, width,
    height, wall_time).

  Raises:
    errors.UserError: the folder is missing or holds no such image.
  """
  if not os.path.isdir(eval_dir):
    raise errors.UserError('%s is not a folder. Point --eval_dir at the '
                           '--eval_dir of cifar10.eval.' % eval_dir)
  # 0 keeps every image; the default keeps only a sample of them.
  accumulator = event_accumulator.EventAccumulator(
      eval_dir, size_guidance={event_accumulator.IMAGES: 0})
  summaries.reload_events(accumulator, eval_dir)
  tags = sorted(accumulator.Tags()[event_accumulator.IMAGES])
  if tag in tags:
    return sorted(accumulator.Images(tag), key=lambda event: event.wall_time)
  _refuse_another_folder(eval_dir)
  if tags:
    # Evaluated already: only the tag is wrong.
    raise errors.UserError(
        'No image summary %r in the event files of %s; the images there are '
        'tagged %s: give --tag one of those.' % (
            tag, eval_dir, ', '.join(repr(each) for each in tags)))
  raise errors.UserError(
      'No image summary %r in the event files of %s. Run cifar10.eval '
      'with %s first.' % (tag, eval_dir, paths.flag_value('--eval_dir',
                                                           eval_dir)))


def _refuse_another_folder(eval_dir):
  """Raises UserError where `eval_dir` is a folder cifar10.eval refuses as
  its --eval_dir (a training run's, the data's, pictures'): "run cifar10.eval
  with --eval_dir DIR" would not work there."""
  own = os.path.abspath(eval_dir).rstrip('/') + '_eval'
  if paths.holds_checkpoints(eval_dir):
    # Left out, --data_dir would be the default, and the evaluator would
    # download CIFAR-10 there. The run records the folder it trained on
    # (run_flags); where it does not, or that holds no data now, the
    # command holds DATA, to be replaced.
    trained_on = run_flags.data_dir_of_run(eval_dir)
    data = (paths.flag_value('--data_dir', trained_on) + ')' if trained_on
            else '--data_dir DATA, with DATA replaced by the --data_dir it '
            'was trained on)')
    raise errors.UserError(
        '%s is a training run\'s folder (it holds checkpoints), not an '
        'evaluation\'s: evaluate it into a folder of its own (python -m '
        'cifar10.eval %s %s --run_once %s, then give %s.' % (
            eval_dir, paths.flag_value('--checkpoint_dir', eval_dir),
            paths.flag_value('--eval_dir', own), data,
            paths.flag_value('--eval_dir', own)))
  other_use = paths.other_use_of_folder(eval_dir)
  if other_use:
    raise errors.UserError(
        '%s is %s, not an evaluation\'s folder. Point --eval_dir at the '
        '--eval_dir of cifar10.eval.' % (eval_dir, other_use))


def choose(events, step):
  """The last event written at `step`, or the latest one if `step` is None.

  Raises:
    errors.UserError: no event has that step.
  """
  if step is None:
    return max(events, key=lambda event: (event.step, event.wall_time))
  matching = [event for event in events if event.step == step]
  if not matching:
    raise errors.UserError('No image at global step %d; the steps evaluated '
                           'are %s.' % (step, ', '.join(
                               str(s) for s in sorted({e.step for e in events}))))
  return matching[-1]


def parser():
  """The script's flags (the package's parser: a refused flag is one line)."""
  result = flags.Parser(prog='python scripts/eval_image.py',
                        description=__doc__.splitlines()[0])
  result.add_argument('--eval_dir', default=paths.EVAL_DIR,
                      type=flags.user_path(),
                      help='The --eval_dir of cifar10.eval.')
  flags.add_output(result, 'The PNG to write (a name ending .png).')
  result.add_argument('--step', type=flags.non_negative_int, default=None,
                      help='The global step of the checkpoint whose image to '
                           'save (default: the latest evaluated).')
  result.add_argument('--tag', default=TAG, help='The image summary\'s tag.')
  return result


def main(argv=None):
  args = parser().parse_args(argv)
  # The PNG bytes the evaluator stored: converting them would lose the
  # exact copy.
  flags.check_png_output(args, 'the PNG the evaluator stored, unchanged')
  flags.check_output(args)
  event = choose(image_events(args.eval_dir, args.tag), args.step)
  with open(args.output, 'wb') as out:
    out.write(event.encoded_image_string)
  print('Wrote %s: %s at global step %d (%d x %d pixels, %d bytes)' % (
      args.output, args.tag, event.step, event.width, event.height,
      len(event.encoded_image_string)))
  return 0


if __name__ == '__main__':
  sys.exit(script.run(main))
