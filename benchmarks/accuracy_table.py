#!/usr/bin/env python
"""Writes a run's accuracy rows for docs/accuracy.md, from its event files.

    python benchmarks/accuracy_table.py --train_dir /tmp/cifar10_train \
        --eval_dir /tmp/cifar10_eval --about "batch 128, float32" \
        --json run.json --markdown run.md

For each evaluated checkpoint (see `cifar10.eval --all_checkpoints`): its
global step, its precision @ 1, and the hours of training behind it; then
the first checkpoint that reached each --threshold. Hours are read from the
wall times the trainer stamped on its own summaries: from its first summary
to the last one at or before the checkpoint's step, so a run that was
stopped and resumed counts the pause too (the rows say so with --about).
The machine (CPU model, TensorFlow version) and the date go into every
figure, so that a rerun on another machine writes rows that name it.
"""

import argparse
import json
import os
import sys

# Beside it, measured_on.py; in the learner's scripts/, plot_run.py, whose
# reader of event files this shares.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.join(os.path.dirname(_HERE), 'scripts')]
import measured_on  # pylint: disable=g-import-not-at-top,wrong-import-position
import plot_run  # pylint: disable=g-import-not-at-top,wrong-import-position

# Any tag the trainer writes at every summary step serves as its clock.
TRAINING_CLOCK_TAG = plot_run.LEARNING_RATE_TAG


def parser():
  """The script's flags."""
  result = argparse.ArgumentParser(
      prog='python benchmarks/accuracy_table.py', allow_abbrev=False,
      description=__doc__.splitlines()[0],
      formatter_class=argparse.ArgumentDefaultsHelpFormatter)
  result.add_argument('--train_dir', required=True,
                      help='The run\'s --train_dir (its event files).')
  result.add_argument('--eval_dir', required=True,
                      help='The evaluator\'s --eval_dir for that run.')
  result.add_argument('--about', default='',
                      help='What the rows should say of the run: data, '
                           'flags, anything the folders do not record.')
  result.add_argument('--threshold', type=float, nargs='*', default=[0.80],
                      help='Report the first checkpoint at or above each.')
  result.add_argument('--json', default=None, help='File for the figures.')
  result.add_argument('--markdown', default=None,
                      help='File for the rows (printed without it).')
  return result


def accuracy_rows(train_dir, eval_dir, thresholds):
  """Each evaluated checkpoint with its training time, and the thresholds'.

  Returns:
    {'checkpoints': [{'step', 'precision', 'hours'}] in step order,
     'thresholds': {'0.80': the first row at or above it, or None}}.

  Raises:
    plot_run.PlotError: a folder lacks the event files or tags needed.
  """
  clock = plot_run.read_scalar_events(
      train_dir, [TRAINING_CLOCK_TAG])[TRAINING_CLOCK_TAG]
  start = clock[0].wall_time
  rows = []
  for event in plot_run.read_scalar_events(
      eval_dir, [plot_run.PRECISION_TAG])[plot_run.PRECISION_TAG]:
    # A checkpoint saved before the first summary (step 0) has 0 hours.
    before = [tick.wall_time for tick in clock
              if tick.step <= event.step] or [start]
    rows.append({'step': event.step, 'precision': round(event.value, 4),
                 'hours': round((max(before) - start) / 3600.0, 4)})
  reached = {}
  for threshold in thresholds:
    reached['%.2f' % threshold] = next(
        (row for row in rows if row['precision'] >= threshold), None)
  return {'checkpoints': rows, 'thresholds': reached}


def markdown(table, about, where):
  """The rows as markdown, with what was measured and where."""
  lines = ['Measured on %s (%d cores), TensorFlow %s, %s. %s' % (
               where['cpu'], where['cores'], where['tensorflow'],
               where['date'], about), '',
           '| global step | precision @ 1 | hours of training |',
           '|---:|---:|---:|']
  lines += ['| %d | %.4f | %.2f |' % (row['step'], row['precision'],
                                      row['hours'])
            for row in table['checkpoints']]
  lines.append('')
  for threshold, row in table['thresholds'].items():
    lines.append(
        '- First at or above %s: never.' % threshold if row is None else
        '- First at or above %s: step %d (%.4f), after %.2f hours.'
        % (threshold, row['step'], row['precision'], row['hours']))
  return '\n'.join(lines) + '\n'


def main(argv=None):
  args = parser().parse_args(argv)
  try:
    table = accuracy_rows(args.train_dir, args.eval_dir, args.threshold)
  except plot_run.PlotError as error:
    print('error: %s' % error, file=sys.stderr)
    return 1
  where = measured_on.machine()
  text = markdown(table, args.about, where)
  if args.json:
    with open(args.json, 'w') as out:
      json.dump(dict(table, machine=where, about=args.about), out, indent=1)
  if args.markdown:
    with open(args.markdown, 'w') as out:
      out.write(text)
    print('Wrote %s' % args.markdown)
  else:
    print(text, end='')
  return 0


if __name__ == '__main__':
  sys.exit(main())
