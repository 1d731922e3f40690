#!/usr/bin/env python
"""Measures what --warm_start_from gains on a small data set of other classes.

    python benchmarks/warm_start_study.py --cifar_dir ../shared/data/cifar10-mini \
        --work_dir /tmp/warm_start_study --json docs/results/warm_start.json

From a CIFAR-10 folder it writes two data sets in the native format: the
source, every class but the last two (8 of CIFAR-10's), and the target,
those two alone, each with its own batches.meta.txt. It trains a model on
the source for --source_steps, then three models on the target for the same
--target_steps: from random weights, warm-started from the source model,
and warm-started training only its last two layers (--trainable_scopes
local4,softmax_linear). Each is evaluated once on the target's test images
(precision @ 1, from the moving averages, as cifar10.eval reports it). The
machine, TensorFlow's version and the date go with the figures.
"""

import json
import os
import re
import subprocess
import sys

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE]
import measured_on  # pylint: disable=g-import-not-at-top,wrong-import-position
# pylint: disable-next=g-import-not-at-top,wrong-import-position
from cifar10.support import flags

RECORD_BYTES = 1 + 32 * 32 * 3
TRAIN_FILES = ['data_batch_%d.bin' % index for index in range(1, 6)]
TEST_FILE = 'test_batch.bin'
BATCHES = 'cifar-10-batches-bin'
# The layers the third target run trains.
LAST_LAYERS = 'local4,softmax_linear'


def parser():
  """The script's flags."""
  result = flags.Parser(
      prog='python benchmarks/warm_start_study.py',
      description=__doc__.splitlines()[0])
  result.add_argument('--cifar_dir', type=flags.non_empty_path(), required=True,
                      help='A --data_dir holding CIFAR-10 (or a part of it).')
  result.add_argument('--work_dir', type=flags.non_empty_path(), required=True,
                      help='A new folder for the data sets and the runs.')
  result.add_argument('--source_steps', type=int, default=600,
                      help='Training steps of the model on the 8 classes.')
  result.add_argument('--target_steps', type=int, default=200,
                      help='Training steps of each model on the 2 classes.')
  result.add_argument('--batch_size', type=int, default=64,
                      help='Images in each batch, in every run.')
  result.add_argument('--seed', type=int, default=1,
                      help='The --seed of every run.')
  result.add_argument('--json',
                      type=flags.non_empty_path(),
                      default=None, help='File for the figures.')
  return result


def _records(path):
  return np.fromfile(path, np.uint8).reshape(-1, RECORD_BYTES)


def write_subset(cifar_batches, names, kept, data_dir):
  """Writes the records of classes `kept` (relabelled 0..) into `data_dir`.

  Returns:
    {'train': records written, 'test': records written}.
  """
  folder = os.path.join(data_dir, BATCHES)
  os.makedirs(folder)
  new_label = np.full(256, 255, np.uint8)
  new_label[list(kept)] = np.arange(len(kept))
  counts = {'train': 0, 'test': 0}
  for name in TRAIN_FILES + [TEST_FILE]:
    records = _records(os.path.join(cifar_batches, name))
    records = records[np.isin(records[:, 0], kept)].copy()
    records[:, 0] = new_label[records[:, 0]]
    records.tofile(os.path.join(folder, name))
    counts['test' if name == TEST_FILE else 'train'] += len(records)
  with open(os.path.join(folder, 'batches.meta.txt'), 'w') as meta:
    meta.write(''.join(names[label] + '\n' for label in kept))
  return counts


def _python(*args):
  """Runs `python -m ...`; returns its stdout, or stops with its stderr."""
  result = subprocess.run([sys.executable, '-m'] + list(args),
                          capture_output=True, text=True)
  if result.returncode:
    sys.exit(result.stderr)
  return result.stdout


def train(data_dir, train_dir, steps, args, *flags):
  """Trains a run; returns the lines it printed about its start."""
  output = _python('cifar10.train', '--data_dir', data_dir, '--train_dir', train_dir,
          '--max_steps', str(steps), '--batch_size', str(args.batch_size),
          '--seed', str(args.seed), '--log_frequency', '100', *flags)
  return [line for line in output.splitlines()
          if line.startswith(('Warm start', '--trainable_scopes'))]


def precision(data_dir, train_dir, eval_dir):
  """Precision @ 1 of the run's newest checkpoint on the test data."""
  output = _python('cifar10.eval', '--data_dir', data_dir,
                   '--checkpoint_dir', train_dir, '--eval_dir', eval_dir,
                   '--run_once')
  return float(re.search(r'precision @ 1 = ([0-9.]+)', output).group(1))


def main(argv=None):
  args = parser().parse_args(argv)
  cifar_batches = os.path.join(args.cifar_dir, BATCHES)
  with open(os.path.join(cifar_batches, 'batches.meta.txt')) as meta:
    names = [line.strip() for line in meta if line.strip()]
  source_data = os.path.join(args.work_dir, 'source_data')
  target_data = os.path.join(args.work_dir, 'target_data')
  source_classes = list(range(len(names) - 2))
  target_classes = [len(names) - 2, len(names) - 1]
  sizes = {'source': write_subset(cifar_batches, names, source_classes,
                                  source_data),
           'target': write_subset(cifar_batches, names, target_classes,
                                  target_data)}
  run = lambda name: os.path.join(args.work_dir, name)
  train(source_data, run('source'), args.source_steps, args)
  results = {'source': precision(source_data, run('source'),
                                 run('source_eval'))}
  variants = {
      'from_scratch': (),
      'warm_start': ('--warm_start_from', run('source')),
      'warm_start_last_layers': ('--warm_start_from', run('source'),
                                 '--trainable_scopes', LAST_LAYERS)}
  printed = {}
  for name, extra_flags in variants.items():
    printed[name] = train(target_data, run(name), args.target_steps, args,
                          *extra_flags)
    results[name] = precision(target_data, run(name), run(name + '_eval'))
  report = {
      'machine': measured_on.machine(),
      'data': {'cifar_dir': args.cifar_dir,
               'source_classes': [names[label] for label in source_classes],
               'target_classes': [names[label] for label in target_classes],
               'images': sizes},
      'steps': {'source': args.source_steps, 'target': args.target_steps,
                'batch_size': args.batch_size, 'seed': args.seed},
      'precision_at_1': results,
      'printed': printed}
  text = json.dumps(report, indent=2)
  print(text)
  if args.json:
    with open(args.json, 'w') as output:
      output.write(text + '\n')
  return 0


if __name__ == '__main__':
  sys.exit(main())
