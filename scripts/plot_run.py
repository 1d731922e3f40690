#!/usr/bin/env python
"""Draws a training run from its event files: loss, learning rate, precision @ 1.

    python scripts/plot_run.py --train_dir /tmp/cifar10_train \
        --eval_dir /tmp/cifar10_eval --output run.png

The panels share the x axis, the global step (the third only with
--eval_dir; a run not yet evaluated is drawn in the first two):

  loss             `total_loss (raw)`, the value of each summarized step, and
                   `total_loss`, the moving average the trainer keeps of it
                   (decay 0.9), both as the trainer wrote them
  learning rate    `learning_rate`, on a log scale (its staircase decays 10x)
  precision @ 1    `Precision @ 1` from the evaluator's event files, one point
                   per evaluated checkpoint (see `cifar10.eval --all_checkpoints`)

Several runs can share one picture: give --train_dir (and --eval_dir) once
per run, in the same order, with a --label each. With --examples_per_step
(images one global step consumes: batch size times towers), the x axis
counts training images seen instead of steps, which puts runs of different
batch sizes on one scale.

The ending of --output names the picture's format: .png, or any other that
matplotlib writes here (.pdf, .svg, ...; a refused name lists them). A name
without one is refused rather than given matplotlib's .png: the file
written is always the one named.

Needs matplotlib, an optional extra: `pip install -e '.[plot]'`.
"""

import io
import os
import sys

from cifar10.support import script

# Before TensorFlow loads (TensorBoard's reader loads it too): the CPU kernels
# and the quiet start-up of every script (see cifar10/support/script.py).
if __name__ == '__main__':
  script.prepare_process()
from tensorboard.backend.event_processing import event_accumulator

from cifar10.support import errors  # pylint: disable=g-import-not-at-top
from cifar10.support import flags  # pylint: disable=g-import-not-at-top
from cifar10.support import paths  # pylint: disable=g-import-not-at-top
from cifar10.support import summaries  # pylint: disable=g-import-not-at-top

LOSS_TAG = 'total_loss'
RAW_LOSS_TAG = 'total_loss (raw)'
LEARNING_RATE_TAG = 'learning_rate'
PRECISION_TAG = 'Precision @ 1'

# The picture's size: 8 x 9 inches at 100 dots per inch.
FIGURE_INCHES = (8, 9)
DPI = 100


class PlotError(Exception):
  """A folder without the event files or tags the picture needs."""


def parser():
  """The script's flags (the package's parser: a refused flag is one line)."""
  result = flags.Parser(
      prog='python scripts/plot_run.py', description=__doc__.splitlines()[0])
  result.add_argument('--train_dir', nargs='+', required=True,
                      type=flags.user_path(),
                      help='The --train_dir of each run (its event files).')
  result.add_argument('--eval_dir', nargs='+', type=flags.user_path(),
                      help='The evaluator\'s --eval_dir of each run, in the '
                           'order of --train_dir (without it, the picture '
                           'has no precision panel).')
  result.add_argument('--label', nargs='+', default=None,
                      help='A legend name for each run (default: the '
                           '--train_dir folder names).')
  result.add_argument('--examples_per_step', nargs='+',
                      type=flags.positive_int,
                      default=None,
                      help='Training images per global step of each run; '
                           'puts images seen on the x axis instead of steps.')
  result.add_argument('--title', default=None, help='A title for the picture.')
  flags.add_output(result, 'The picture to write; its ending names the '
                           'format (run.png, run.pdf, run.svg, ...).')
  return result


def _writes(format_name):
  """Whether matplotlib writes pictures of `format_name` ('png') here.

  matplotlib lists the formats it knows, but some need more than itself:
  .pgf a TeX system (xelatex), .avif and .webp a Pillow built with them. So
  each is tried on a small figure with text (what .pgf hands to TeX), in
  memory: nothing is written, and a refused format costs no drawing.
  """
  from matplotlib import figure  # pylint: disable=g-import-not-at-top
  probe = figure.Figure(figsize=(1, 1))
  probe.text(0.5, 0.5, 'x')
  try:
    probe.savefig(io.BytesIO(), format=format_name)
  except Exception:  # pylint: disable=broad-except
    # Each writer fails in its own way (RuntimeError without xelatex,
    # Pillow's KeyError or OSError without a plugin): all mean "not here".
    return False
  return True


def writable_formats():
  """The formats ('pdf', 'png', ...) matplotlib writes here, sorted."""
  from matplotlib import figure  # pylint: disable=g-import-not-at-top
  return [name for name in sorted(
      figure.Figure().canvas.get_supported_filetypes()) if _writes(name)]


def check_format(args):
  """Refuses an --output whose ending names no format matplotlib writes.

  Call it before the work: matplotlib would refuse the name only once the
  picture is drawn, in a traceback; and given a name without an ending, it
  adds .png to it, so that a file other than the one checked (an existing
  run.png for --output run) would be written over. The refusal offers the
  name ending in .png (free, unless --overwrite is given) and lists the
  formats matplotlib writes here.

  Args:
    args: the parsed flags.

  Raises:
    errors.UserError: naming --output and the endings to give instead.
  """
  flags.refuse_a_bare_ending(args, _writes)
  ending = os.path.splitext(args.output)[1].lower()
  if os.path.isdir(args.output) or _writes(ending[1:]):
    return  # A folder: flags.check_output names it.
  if ending in ('', '.'):
    trouble = '%s has no ending to name the picture\'s format' % args.output
  else:
    trouble = '%s: matplotlib cannot write %s here' % (args.output, ending)
  raise errors.UserError(
      '--output %s. Give --output %s, or end the name in any format '
      'matplotlib writes here: %s.' % (
          trouble, paths.for_shell(flags.output_ending_in(args, '.png')),
          ', '.join('.' + name for name in writable_formats())))


def read_scalar_events(folder, tags, optional_tags=()):
  """The scalar events of `tags` in the event files of `folder`, by step.

  TensorBoard's own reader is used, so a run resumed after a crash reads as
  TensorBoard shows it (steps written after the last checkpoint and then
  repeated are dropped).

  Args:
    folder: a folder holding `events.out.tfevents.*` files.
    tags: the scalar tags to read.
    optional_tags: more tags to read in the same pass, which may be absent
      (an empty list then).

  Returns:
    {tag: [event]} for tags and optional_tags, in step order, one per step
    (the newest written);
    each event has .step, .value and .wall_time (seconds since the epoch,
    when it was written).

  Raises:
    PlotError: `folder` has no event files, or lacks one of `tags`.
  """
  if not os.path.isdir(folder):
    raise PlotError('%s is not a folder. Give the run\'s --train_dir and the '
                    'evaluator\'s --eval_dir.' % folder)
  # 0 keeps every value; the default samples 10,000 per tag.
  accumulator = event_accumulator.EventAccumulator(
      folder, size_guidance={event_accumulator.SCALARS: 0})
  # TensorBoard's warnings are off: tensorflow_logs.
  summaries.reload_events(accumulator, folder)
  found = accumulator.Tags()[event_accumulator.SCALARS]
  series = {}
  for tag in list(tags) + list(optional_tags):
    if tag not in found and tag in optional_tags:
      series[tag] = []
      continue
    if tag not in found:
      raise PlotError(
          'No %r values in the event files of %s (it has %s). Is it the '
          'right folder, and has the run written summaries yet?'
          % (tag, folder, ', '.join(sorted(found)) or 'none'))
    # The reader returns values in the order they were written, file by
    # file, and an eval folder holds them out of step order when, say, a
    # --run_once came before an --all_checkpoints. A step written twice
    # keeps its newest value.
    by_step = {}
    for event in sorted(accumulator.Scalars(tag),
                        key=lambda event: event.wall_time):
      by_step[event.step] = event
    series[tag] = [by_step[step] for step in sorted(by_step)]
  return series


def read_scalars(folder, tags):
  """The scalar series of `tags` in the event files of `folder`.

  Args and Raises: as read_scalar_events.

  Returns:
    {tag: (steps, values)}, two lists each, in step order.
  """
  return {tag: ([event.step for event in events],
                [event.value for event in events])
          for tag, events in read_scalar_events(folder, tags).items()}


# The grid's grey: matplotlib's own (#b0b0b0) at a third of its strength on
# white, drawn opaque (see _paler).
_GRID_GREY = '0.9'


def _paler(colour, strength=0.35):
  """`colour` as it shows at `strength` (0 to 1) over white, opaque: what
  alpha=`strength` shows there, in every format PostScript included."""
  from matplotlib import colors  # pylint: disable=g-import-not-at-top
  return tuple(strength * part + (1 - strength)
               for part in colors.to_rgb(colour))


def draw(runs, output, title=None):
  """Draws the runs' loss, learning rate and precision @ 1 into a picture.

  Args:
    runs: a list of dicts, one per run, with 'label', 'scale' (images per
      step, or 1 to plot against steps), 'train' and 'eval' (what
      read_scalars returned for the run's two folders; 'eval' None in
      every run: no precision panel).
    output: the file to write, of the format its ending names (one that
      check_format accepts). The format is given to matplotlib, which
      then writes that very name.
    title: an optional title.

  Returns:
    The matplotlib Figure (closed to pyplot; its lines keep the data).
  """
  # The Agg backend draws into files without a display.
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  from matplotlib import pyplot  # pylint: disable=g-import-not-at-top

  panels = 2 if runs[0]['eval'] is None else 3
  figure, panel_axes = pyplot.subplots(
      panels, 1, sharex=True, figsize=FIGURE_INCHES, dpi=DPI,
      gridspec_kw={'height_ratios': [3, 1, 2][:panels]})
  loss_axes, rate_axes = panel_axes[:2]
  precision_axes = panel_axes[2] if panels == 3 else None
  colours = pyplot.rcParams['axes.prop_cycle'].by_key()['color']
  for index, run in enumerate(runs):
    colour = colours[index % len(colours)]
    def scaled(series, scale=run['scale']):
      steps, values = series
      return [step * scale for step in steps], values
    def marker(series):
      # A line through one point draws nothing: a run of --max_steps 100
      # or fewer has one summary, at step 1, which a dot shows.
      return 'o' if len(series[0]) == 1 else None
    train = run['train']
    # The raw loss in a paler shade of the run's colour, not a transparent
    # one: PostScript (.eps, .ps) has no transparency, and matplotlib
    # would warn and draw it as dark as the moving average above it.
    loss_axes.plot(*scaled(train[RAW_LOSS_TAG]), color=_paler(colour),
                   linewidth=0.8, marker=marker(train[RAW_LOSS_TAG]),
                   label='%s, raw' % run['label'])
    loss_axes.plot(*scaled(train[LOSS_TAG]), color=colour, linewidth=1.6,
                   marker=marker(train[LOSS_TAG]),
                   label='%s, moving average' % run['label'])
    rate_axes.plot(*scaled(train[LEARNING_RATE_TAG]), color=colour,
                   marker=marker(train[LEARNING_RATE_TAG]),
                   label=run['label'])
    if precision_axes:
      precision_axes.plot(*scaled(run['eval'][PRECISION_TAG]), marker='o',
                          markersize=3, color=colour, label=run['label'])
  loss_axes.set_ylabel('total loss')
  loss_axes.legend(fontsize='small', framealpha=1)
  rate_axes.set_ylabel('learning rate')
  rate_axes.set_yscale('log')
  if precision_axes:
    precision_axes.set_ylabel('precision @ 1')
    precision_axes.legend(fontsize='small', loc='lower right', framealpha=1)
  by_images = any(run['scale'] != 1 for run in runs)
  panel_axes[-1].set_xlabel('training images seen' if by_images
                            else 'global step')
  for axes in panel_axes:
    axes.grid(True, color=_GRID_GREY)
  if title:
    figure.suptitle(title)
  figure.tight_layout()
  figure.savefig(output, dpi=DPI,
                 format=os.path.splitext(output)[1][1:].lower())
  pyplot.close(figure)
  return figure


def _per_run(values, count, flag):
  """`values` for `count` runs; a message naming `flag` if they don't match."""
  if values is None:
    return None
  if len(values) != count:
    raise PlotError('%s takes one value per --train_dir: %d given for %d '
                    'run%s.' % (flag, len(values), count,
                                '' if count == 1 else 's'))
  return values


def _check_pair(train_dir, eval_dir):
  """Raises PlotError where the two folders are swapped, or `eval_dir`
  records another run's evaluations: its precision would be drawn under
  this run's name."""
  evaluated = paths.evaluated_run(train_dir)
  if evaluated is not None:
    raise PlotError(
        '--train_dir %s is an evaluator\'s --eval_dir (its %s names the run '
        '%s): give that run as --train_dir, and this folder as --eval_dir.'
        % (train_dir, paths.EVALUATED_RUN_FILE, evaluated))
  if eval_dir and paths.holds_checkpoints(eval_dir):
    raise PlotError(
        '--eval_dir %s is a training run\'s folder (it holds checkpoints): '
        'give it as --train_dir, and the evaluator\'s --eval_dir of that run '
        'as --eval_dir.' % eval_dir)
  other = eval_dir and paths.another_runs_evaluations(eval_dir, train_dir)
  if other:
    raise PlotError(
        '--eval_dir %s holds the evaluations of another run, %s (its %s says '
        'so), not of --train_dir %s. Give each run\'s own --eval_dir, in the '
        'order of --train_dir.' % (eval_dir, other, paths.EVALUATED_RUN_FILE,
                                   train_dir))


def main(argv=None):
  args = parser().parse_args(argv)
  try:
    import matplotlib  # pylint: disable=g-import-not-at-top,unused-import
  except ImportError:
    print('error: plotting needs matplotlib, an optional extra: run '
          "pip install -e '.[plot]' in the repository.", file=sys.stderr)
    return 1
  try:
    # The format first: the free name offered for an existing --output
    # keeps its ending, which must then be one matplotlib writes.
    check_format(args)
    flags.check_output(args)
  except errors.UserError as error:
    print('error: %s' % error, file=sys.stderr)
    return 1
  try:
    count = len(args.train_dir)
    eval_dirs = (_per_run(args.eval_dir, count, '--eval_dir') or
                 [None] * count)
    labels = _per_run(args.label, count, '--label') or [
        os.path.basename(os.path.normpath(path)) for path in args.train_dir]
    scales = _per_run(args.examples_per_step, count,
                      '--examples_per_step') or [1] * count
    for train_dir, eval_dir in zip(args.train_dir, eval_dirs):
      _check_pair(train_dir, eval_dir)
    runs = [{'label': label, 'scale': scale,
             'train': read_scalars(train_dir, [RAW_LOSS_TAG, LOSS_TAG,
                                               LEARNING_RATE_TAG]),
             'eval': eval_dir and read_scalars(eval_dir, [PRECISION_TAG])}
            for train_dir, eval_dir, label, scale
            in zip(args.train_dir, eval_dirs, labels, scales)]
  except PlotError as error:
    print('error: %s' % error, file=sys.stderr)
    return 1
  draw(runs, args.output, args.title)
  print('Wrote %s' % args.output)
  return 0


if __name__ == '__main__':
  # A stop, a full disk or a closed pipe is one line, as in every script.
  sys.exit(script.run(main))
