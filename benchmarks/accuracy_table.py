#!/usr/bin/env python
"""Writes a run's accuracy rows for docs/accuracy.md, from its event files.

    python benchmarks/accuracy_table.py --train_dir /tmp/cifar10_train \
        --eval_dir /tmp/cifar10_eval --about "batch 128, float32" \
        --json run.json --markdown run.md

For each evaluated checkpoint (see `cifar10.eval --all_checkpoints`): its
global step, its precision @ 1, and the hours of training behind it; then
the first checkpoint that reached each --threshold. Hours are read from the
wall times the trainer stamped on its own summaries: from its first summary
to the last one at or before the checkpoint's step. A run that was stopped
and resumed (each trainer process writes its own event file) is timed as
one that ran straight through: the pause between one process's last summary
and the next one's first counts as an ordinary interval between summaries,
and the rows list each pause. The training speed is the median of the
trainer's own `global_step/sec` summaries times --batch_size. The machine
(CPU model, TensorFlow version) and the date go into every figure, so that
a rerun on another machine writes rows that name it.
"""

import glob
import json
import os
import statistics
import sys

from cifar10.support import flags
from cifar10.support import script

# Before TensorFlow loads (TensorBoard's readers load it): the quiet
# start-up of every script (see cifar10/support/script.py).
if __name__ == '__main__':
  script.prepare_process()

# Beside it, measured_on.py; in the learner's scripts/, plot_run.py, whose
# reader of event files this shares.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.join(os.path.dirname(_HERE), 'scripts')]
import measured_on  # pylint: disable=g-import-not-at-top,wrong-import-position
import plot_run  # pylint: disable=g-import-not-at-top,wrong-import-position
from tensorboard.backend.event_processing import event_file_loader  # pylint: disable=g-import-not-at-top,wrong-import-position

# Any tag the trainer writes at every summary step serves as its clock.
TRAINING_CLOCK_TAG = plot_run.LEARNING_RATE_TAG
# Written with the summaries by the training session's step counter: steps
# per second since its previous summary.
STEPS_PER_SECOND_TAG = 'global_step/sec'


def parser():
  """The script's flags."""
  result = flags.Parser(
      prog='python benchmarks/accuracy_table.py',
      description=__doc__.splitlines()[0],
      epilog='Hours run from the trainer\'s first summary to its last one at '
             'or before each checkpoint; a run stopped and resumed is timed '
             'as if it had gone straight through (the pause counts as the '
             'usual interval between summaries, and the rows list it). The '
             'rows name the CPU, TensorFlow version and date of where and '
             'when this script runs: run it on the machine that trained, '
             'once the evaluation is done.')
  result.add_argument('--train_dir', type=flags.non_empty_path(), required=True,
                      help='The run\'s --train_dir (its event files).')
  result.add_argument('--eval_dir', type=flags.non_empty_path(), required=True,
                      help='The evaluator\'s --eval_dir for that run.')
  result.add_argument('--about', default='',
                      help='What the rows should say of the run: data, '
                           'flags, anything the folders do not record.')
  result.add_argument('--threshold', type=float, nargs='*', default=[0.80],
                      help='Report the first checkpoint at or above each.')
  result.add_argument('--batch_size', type=flags.positive_int,
                      default=flags.BATCH_SIZE,
                      help='The run\'s --batch_size: examples per step, for '
                           'its examples/sec.')
  result.add_argument('--json',
                      type=flags.non_empty_path(),
                      default=None, help='File for the figures.')
  result.add_argument('--markdown', type=flags.non_empty_path(), default=None,
                      help='File for the rows (printed without it).')
  return result


def _process_starts(train_dir):
  """When each trainer process wrote its first clock tick, in seconds.

  Every trainer process (a first run, then each resumption) writes its own
  event file; the first TRAINING_CLOCK_TAG value in each says when that
  process began training.
  """
  starts = []
  for path in glob.glob(os.path.join(train_dir, 'events.out.tfevents.*')):
    for event in event_file_loader.LegacyEventFileLoader(path).Load():
      if any(value.tag == TRAINING_CLOCK_TAG for value in event.summary.value):
        starts.append(event.wall_time)
        break
  return starts


def training_seconds(clock, starts):
  """Seconds of training at each clock tick, pauses between processes left out.

  Args:
    clock: the trainer's summaries in step order (.step, .wall_time).
    starts: the wall time at which each trainer process wrote its first tick.

  Returns:
    (seconds, pauses): seconds[i] is the training time from clock[0] to
    clock[i]; pauses lists each restart as {'after_step', 'before_step',
    'seconds', 'counted_as'} (seconds). A restart's interval (the steps
    after the last summary, the checkpoint, the stop, the start-up, and
    whatever time passed between) counts as the median interval between two
    summaries of one process, as if the run had gone straight through.
  """
  intervals = [(later.wall_time - earlier.wall_time,
                any(earlier.wall_time < start <= later.wall_time
                    for start in starts), earlier.step, later.step)
               for earlier, later in zip(clock, clock[1:])]
  ordinary = [interval for interval, restart, _, _ in intervals
              if not restart]
  usual = statistics.median(ordinary) if ordinary else 0.0
  seconds, pauses = [0.0], []
  for interval, restart, after_step, before_step in intervals:
    if restart:
      pauses.append({'after_step': after_step, 'before_step': before_step,
                     'seconds': round(interval, 1),
                     'counted_as': round(usual, 1)})
      interval = usual
    seconds.append(seconds[-1] + interval)
  return seconds, pauses


def accuracy_rows(train_dir, eval_dir, thresholds, batch_size):
  """Each evaluated checkpoint with its training time, and the thresholds'.

  Args:
    train_dir, eval_dir: the run's and its evaluator's event files.
    thresholds: precisions @ 1 (0 to 1) to report the first checkpoint for.
    batch_size: the run's examples per step.

  Returns:
    {'checkpoints': [{'step', 'precision', 'hours'}] in step order,
     'thresholds': {'0.80': the first row at or above it, or None},
     'pauses': [{'after_step', 'before_step', 'seconds', 'counted_as'}] (see
     training_seconds), 'examples_per_sec': the median of the trainer's
     own speed summaries times batch_size (None if it wrote none),
     'batch_size'}.

  Raises:
    plot_run.PlotError: a folder lacks the event files or tags needed.
  """
  series = plot_run.read_scalar_events(train_dir, [TRAINING_CLOCK_TAG],
                                       optional_tags=[STEPS_PER_SECOND_TAG])
  clock = series[TRAINING_CLOCK_TAG]
  seconds, pauses = training_seconds(clock, _process_starts(train_dir))
  rows = []
  for event in plot_run.read_scalar_events(
      eval_dir, [plot_run.PRECISION_TAG])[plot_run.PRECISION_TAG]:
    # A checkpoint saved before the first summary (step 0) has 0 hours.
    before = [elapsed for tick, elapsed in zip(clock, seconds)
              if tick.step <= event.step] or [0.0]
    rows.append({'step': event.step, 'precision': round(event.value, 4),
                 'hours': round(before[-1] / 3600.0, 4)})
  reached = {}
  for threshold in thresholds:
    reached['%.2f' % threshold] = next(
        (row for row in rows if row['precision'] >= threshold), None)
  return {'checkpoints': rows, 'thresholds': reached, 'pauses': pauses,
          'examples_per_sec': _examples_per_sec(
              series[STEPS_PER_SECOND_TAG], batch_size),
          'batch_size': batch_size}


def _examples_per_sec(speeds, batch_size):
  """The median of the trainer's steps/sec summaries, in examples/sec, or None.

  The training session writes its first steps/sec with its second summary,
  so a run of fewer steps than two summaries' worth has none.
  """
  if not speeds:
    return None
  return round(statistics.median(event.value for event in speeds) *
               batch_size, 1)


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
  # Results written before speeds and pauses were recorded (the 100,000-step
  # run's) have neither, and a run too short for a speed summary no speed.
  if table.get('examples_per_sec') is not None:
    lines.append('- Training speed: %s examples/sec, the median of the '
                 'trainer\'s global_step/sec summaries times its batch of %d.'
                 % (format(round(table['examples_per_sec']), ','),
                    table['batch_size']))
  for pause in table.get('pauses', []):
    lines.append(
        '- Stopped and resumed between the summaries of steps %d and %d: '
        'those %.1f s count as %.1f s, the usual time between two '
        'summaries.' % (pause['after_step'], pause['before_step'],
                        pause['seconds'], pause['counted_as']))
  return '\n'.join(lines) + '\n'


def main(argv=None):
  args = parser().parse_args(argv)
  try:
    table = accuracy_rows(args.train_dir, args.eval_dir, args.threshold,
                          args.batch_size)
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
