#!/usr/bin/env python
"""Measures the tutorial on a GPU machine in one command, within a time budget.

A GPU may be lent for a few minutes only, so everything the docs want from
one is measured by this one prepared command, in this order:

  devices    the GPUs TensorFlow sees (name, compute capability)
  speed      cifar10.train, then cifar10.multi_gpu_train --num_gpus 1, 2, 4
             (--virtual_devices splits one physical GPU into logical ones,
             so the towers' code runs on the device), as examples/sec and
             sec/batch, read from the trainers' own log lines
  beside     cifar10.eval's loop running beside cifar10.train on the same
             GPU for --beside_secs: whether both keep working, and the
             GPU memory each holds (from nvidia-smi, where it exists)
  long_run   with the budget left, cifar10.train toward --long_run_steps
             (the original's 100,000), stopped with SIGTERM (it saves)
             before the budget ends, then every kept checkpoint evaluated

Each phase is a child process of the package's own scripts, so a failure
in one is recorded and the next still runs. Everything goes into --out_dir:
gpu_check.json (every figure, with the machine and TensorFlow version),
gpu_check.md (the rows for docs/speed.md and docs/accuracy.md) and one log
file per child.

    python benchmarks/gpu_check.py --data_dir /tmp/cifar10_data --out_dir OUT
    python benchmarks/gpu_check.py --dry_run --out_dir OUT   # tiny, on the CPU

--dry_run runs the same sequence at a tiny size on the CPU, on synthetic data
it writes itself, so that the script is known to work before a GPU is seen
(tests/test_gpu_check.py runs it).
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

from cifar10.support import flags

# benchmarks/ (this folder) and the learner's scripts/, for plot_run.py.
BENCHMARKS = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(os.path.dirname(BENCHMARKS), 'scripts')
sys.path[:0] = [BENCHMARKS, SCRIPTS]
import accuracy_table  # pylint: disable=g-import-not-at-top,wrong-import-position
import measured_on  # pylint: disable=g-import-not-at-top,wrong-import-position
import plot_run  # pylint: disable=g-import-not-at-top,wrong-import-position

# A trainer's log line: "...: step 10, loss = 4.64 (1019.8 examples/sec;
# 0.126 sec/batch)".
LOG_LINE = re.compile(
    r': step (\d+), loss = \S+ \(([\d.]+) examples/sec; ([\d.]+) sec/batch\)')
TOWER_COUNTS = (1, 2, 4)
# The long run's length: the original tutorial's headline figure, ~86%, is
# quoted at 100K steps of batch 128.
LONG_RUN_STEPS = 100000

# Sizes of each phase. The dry run keeps the sequence and shrinks the sizes,
# so that it finishes in about a minute on a 2-core CPU: its batches of 16
# (per tower) make four towers' step as cheap as one tower's of 64, where
# the original's 128 made it 512 images a step, and what it checks (each
# phase runs, logs and is read back) needs no more.
# The trainer beside the evaluator trains until the evaluator has scored a
# checkpoint, however long that takes: at the tutorial's rate (None: the
# default), the dry run's batches of 16 of synthetic data diverged near step
# 300 on a busy machine, ending the trainer before the phase did.
FULL = dict(speed_steps=300, log_frequency=20, beside_checkpoint_steps=200,
            checkpoint_steps=5000, eval_examples=10000, eval_interval=10,
            batch_size=flags.BATCH_SIZE, beside_learning_rate=None)
DRY = dict(speed_steps=30, log_frequency=10, beside_checkpoint_steps=10,
           checkpoint_steps=20, eval_examples=200, eval_interval=2,
           batch_size=16, beside_learning_rate=0.01)
# Seconds kept back from the long run, per checkpoint, for its evaluation.
EVAL_SECS_PER_CHECKPOINT = 20
# Seconds a SIGTERMed trainer gets to finish its step and save.
STOP_GRACE_SECS = 120


def parser():
  """The script's flags."""
  result = flags.Parser(
      prog='python benchmarks/gpu_check.py',
      description=__doc__.splitlines()[0])
  result.add_argument('--out_dir', type=flags.non_empty_path(), required=True,
                      help='Folder for gpu_check.json, gpu_check.md and the '
                           'children\'s logs; made if missing.')
  result.add_argument('--data_dir', type=flags.non_empty_path(), default=None,
                      help='The data (as the trainers\' --data_dir). '
                           'Required without --dry_run.')
  result.add_argument('--budget_secs', type=float, default=540,
                      help='Seconds the whole check may take; the long run '
                           'gets what the other phases leave.')
  result.add_argument('--beside_secs', type=float, default=60,
                      help='Seconds the eval loop runs beside training.')
  result.add_argument('--long_run_steps', type=int, default=LONG_RUN_STEPS,
                      help='The global step the long run trains toward.')
  result.add_argument('--dry_run', action='store_true',
                      help='The same sequence at a tiny size on the CPU, on '
                           'synthetic data written into --out_dir.')
  return result


class Deadline:
  """The budget's end, as a point on the monotonic clock."""

  def __init__(self, seconds):
    self._end = time.monotonic() + seconds

  def left(self):
    """Seconds left, never below 0."""
    return max(0.0, self._end - time.monotonic())


class Child:
  """A package script run as a child process, its output kept in a log file."""

  def __init__(self, out_dir, name, module, *args, env=None):
    self.name = name
    self.log_path = os.path.join(out_dir, name + '.log')
    self.command = [sys.executable, '-m', module] + [str(a) for a in args]
    self._log = open(self.log_path, 'w')
    self._log.write('$ %s\n' % ' '.join(self.command))
    self._log.flush()
    self.process = subprocess.Popen(
        self.command, stdout=self._log, stderr=subprocess.STDOUT,
        env=dict(os.environ, PYTHONUNBUFFERED='1', **(env or {})))

  def output(self):
    with open(self.log_path) as log:
      return log.read()

  def wait(self, timeout):
    """The exit status, or None if it still runs after `timeout` seconds."""
    try:
      return self.process.wait(timeout=max(timeout, 0.1))
    except subprocess.TimeoutExpired:
      return None

  def stop(self):
    """SIGTERM (a trainer saves its step), then SIGKILL after the grace."""
    if self.process.poll() is None:
      self.process.send_signal(signal.SIGTERM)
      if self.wait(STOP_GRACE_SECS) is None:
        self.process.kill()
    status = self.process.wait()
    self._log.close()
    return status


def rates(output):
  """The median examples/sec and the sec/batch range of a trainer's log.

  The first log line includes the graph's start-up, so it is left out.

  Returns:
    {'examples_per_sec': float, 'sec_per_batch': [low, high],
    'log_lines': int}, or None if fewer than two lines were logged.
  """
  lines = [(float(rate), float(sec)) for _, rate, sec
           in LOG_LINE.findall(output)][1:]
  if not lines:
    return None
  speeds = sorted(rate for rate, _ in lines)
  seconds = sorted(sec for _, sec in lines)
  return {'examples_per_sec': speeds[len(speeds) // 2],
          'sec_per_batch': [seconds[len(seconds) // 10],
                            seconds[(len(seconds) * 9) // 10]],
          'log_lines': len(lines)}


def check_devices(out_dir):
  """The GPUs TensorFlow sees, from a child so that this process holds none."""
  code = ('import json, tensorflow as tf\n'
          'details = tf.config.experimental.get_device_details\n'
          'gpus = [dict({k: str(v) for k, v in details(g).items()}, '
          'name=g.name) for g in tf.config.list_physical_devices("GPU")]\n'
          'print("GPUS=" + json.dumps(gpus))\n'
          'print("TF=" + tf.__version__)\n')
  child = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True)
  with open(os.path.join(out_dir, 'devices.log'), 'w') as log:
    log.write(child.stdout + child.stderr)
  found = dict(line.split('=', 1) for line in child.stdout.splitlines()
               if '=' in line)
  return {'tensorflow': found.get('TF'),
          'gpus': json.loads(found.get('GPUS', '[]')),
          'status': child.returncode}


def gpu_memory_by_pid():
  """{pid: MiB} of the GPU memory each process holds, {} without nvidia-smi."""
  try:
    answer = subprocess.run(
        ['nvidia-smi', '--query-compute-apps=pid,used_memory',
         '--format=csv,noheader,nounits'], capture_output=True, text=True,
        timeout=30)
  except (OSError, subprocess.TimeoutExpired):
    return {}
  memory = {}
  for line in answer.stdout.splitlines():
    pid, _, mib = line.partition(',')
    if pid.strip().isdigit() and mib.strip().isdigit():
      memory[int(pid)] = int(mib)
  return memory


def measure_speed(out_dir, data_dir, sizes, deadline):
  """cifar10.train and each tower count's multi_gpu_train, as rates."""
  runs = [('train', 'cifar10.train', [])] + [
      ('multi_gpu_%d' % towers, 'cifar10.multi_gpu_train',
       ['--num_gpus', towers, '--virtual_devices'])
      for towers in TOWER_COUNTS]
  results = {}
  for name, module, extra in runs:
    child = Child(out_dir, name, module, '--data_dir', data_dir,
                  '--train_dir', os.path.join(out_dir, 'runs', name),
                  '--max_steps', sizes['speed_steps'],
                  '--log_frequency', sizes['log_frequency'],
                  '--batch_size', sizes['batch_size'], *extra)
    # Each run may take a quarter of what is left, so that a slow machine
    # still leaves time for the phases after this one.
    child.wait(deadline.left() / 4)
    status = child.stop()
    results[name] = dict(rates(child.output()) or {}, status=status,
                         log=os.path.basename(child.log_path))
  return results


def _newest_step(train_dir):
  """The global step of the newest checkpoint in `train_dir`, or None."""
  index = os.path.join(train_dir, 'checkpoint')
  if not os.path.exists(index):
    return None
  with open(index) as text:
    found = re.search(r'model_checkpoint_path: ".*-(\d+)"', text.read())
  return int(found.group(1)) if found else None


def _wait_for_checkpoint(train_dir, child, deadline):
  while _newest_step(train_dir) is None and child.process.poll() is None:
    if not deadline.left():
      return False
    time.sleep(0.5)
  return _newest_step(train_dir) is not None


def _precision_by_step(eval_dir):
  """{global step: precision @ 1} from the evaluator's event files."""
  try:
    steps, values = plot_run.read_scalars(
        eval_dir, [plot_run.PRECISION_TAG])[plot_run.PRECISION_TAG]
  except plot_run.PlotError:
    return {}
  return dict(zip(steps, values))


def measure_beside(out_dir, data_dir, sizes, beside_secs, deadline):
  """The eval loop beside a training run on the same device, for a while.

  On one GPU the question is memory: TensorFlow's default lets the first
  process map nearly all of it, and the second then fails. The evaluator
  must keep scoring new checkpoints while the trainer trains.
  """
  train_dir = os.path.join(out_dir, 'runs', 'beside_train')
  eval_dir = os.path.join(out_dir, 'runs', 'beside_eval')
  trainer = Child(out_dir, 'beside_train', 'cifar10.train',
                  '--data_dir', data_dir, '--train_dir', train_dir,
                  '--max_steps', 10 ** 9, '--save_checkpoint_steps',
                  sizes['beside_checkpoint_steps'],
                  '--batch_size', sizes['batch_size'],
                  *(['--initial_learning_rate', sizes['beside_learning_rate']]
                    if sizes['beside_learning_rate'] else []))
  result = {'checkpoint_seen': _wait_for_checkpoint(train_dir, trainer,
                                                    deadline)}
  evaluator = Child(out_dir, 'beside_eval', 'cifar10.eval',
                    '--data_dir', data_dir, '--checkpoint_dir', train_dir,
                    '--eval_dir', eval_dir,
                    '--eval_interval_secs', sizes['eval_interval'],
                    '--num_examples', sizes['eval_examples'])
  # Both run for beside_secs and until the evaluator has scored at least one
  # checkpoint (its start-up takes longer on a slow machine), within a third
  # of the budget left.
  started = time.monotonic()
  give_up = started + deadline.left() / 3
  memory = {}
  while (evaluator.process.poll() is None and time.monotonic() < give_up
         and (time.monotonic() - started < beside_secs
              or not _precision_by_step(eval_dir))):
    time.sleep(1)
    for name, child in (('train', trainer), ('eval', evaluator)):
      held = gpu_memory_by_pid().get(child.process.pid)
      if held is not None:
        memory[name + '_gpu_mib'] = max(memory.get(name + '_gpu_mib', 0),
                                        held)
  result['eval_running_at_end'] = evaluator.process.poll() is None
  result['trainer_running_at_end'] = trainer.process.poll() is None
  result['eval_status'] = evaluator.stop()
  result['train_status'] = trainer.stop()
  result['evaluated_steps'] = sorted(_precision_by_step(eval_dir))
  result['out_of_memory'] = any(
      'out of memory' in child.output().lower()
      or 'resource_exhausted' in child.output().lower()
      for child in (trainer, evaluator))
  result.update(memory)
  return result


def measure_long_run(out_dir, data_dir, sizes, steps, deadline):
  """Trains toward `steps` with the budget left, then evaluates each checkpoint."""
  train_dir = os.path.join(out_dir, 'runs', 'long_train')
  eval_dir = os.path.join(out_dir, 'runs', 'long_eval')
  most_checkpoints = steps // sizes['checkpoint_steps'] + 2
  # The evaluation after the run needs time for each checkpoint it may find.
  reserve = min(deadline.left() / 2,
                EVAL_SECS_PER_CHECKPOINT * most_checkpoints)
  trainer = Child(out_dir, 'long_train', 'cifar10.train',
                  '--data_dir', data_dir, '--train_dir', train_dir,
                  '--max_steps', steps,
                  '--save_checkpoint_steps', sizes['checkpoint_steps'],
                  '--keep_checkpoints', most_checkpoints,
                  '--batch_size', sizes['batch_size'],
                  '--log_frequency', 100 if steps >= 1000 else 10)
  started = time.monotonic()
  finished = trainer.wait(deadline.left() - reserve) is not None
  status = trainer.stop()
  result = {'train_status': status, 'finished': finished,
            'train_secs': round(time.monotonic() - started, 1),
            'final_step': _newest_step(train_dir),
            'train_rates': rates(trainer.output())}
  evaluator = Child(out_dir, 'long_eval', 'cifar10.eval',
                    '--data_dir', data_dir, '--checkpoint_dir', train_dir,
                    '--eval_dir', eval_dir, '--all_checkpoints',
                    '--num_examples', sizes['eval_examples'])
  if evaluator.wait(deadline.left()) is None:
    result['eval_cut_short'] = True
  result['eval_status'] = evaluator.stop()
  try:
    result['accuracy'] = accuracy_table.accuracy_rows(
        train_dir, eval_dir, [0.80], sizes['batch_size'])
  except plot_run.PlotError as error:
    result['accuracy_error'] = str(error)
  return result


def markdown(report):
  """The report's rows for docs/speed.md and docs/accuracy.md."""
  gpus = ', '.join(gpu.get('device_name', gpu['name'])
                   for gpu in report['devices']['gpus']) or 'no GPU (CPU)'
  where = '%s, TensorFlow %s, %s' % (gpus, report['devices']['tensorflow'],
                                     report['machine']['date'])
  lines = ['Speed (%s; %s data):' % (where, report['data']), '',
           '| trainer | towers | sec/batch (10th-90th percentile) '
           '| examples/sec (median) |', '|---|---|---|---|']
  for name, result in report['speed'].items():
    towers = name.rpartition('_')[2] if name.startswith('multi') else '-'
    if 'examples_per_sec' not in result:
      lines.append('| %s | %s | failed (status %s) | - |'
                   % (name, towers, result['status']))
      continue
    low, high = result['sec_per_batch']
    lines.append('| %s | %s | %.3f-%.3f | %.0f |' % (
        name, towers, low, high, result['examples_per_sec']))
  if 'accuracy' in report['long_run']:
    lines += ['', accuracy_table.markdown(
        report['long_run']['accuracy'],
        'On %s: cifar10.train with the defaults on %s data, stopped at '
        'step %s.' % (gpus, report['data'], report['long_run']['final_step']),
        report['machine'])]
  beside = report.get('beside', {})
  if beside:
    lines += ['', 'Eval beside training on one device: %d checkpoints '
              'evaluated while training ran; out of memory: %s; GPU MiB '
              'held: train %s, eval %s.' % (
                  len(beside['evaluated_steps']),
                  'yes' if beside['out_of_memory'] else 'no',
                  beside.get('train_gpu_mib', '-'),
                  beside.get('eval_gpu_mib', '-'))]
  return '\n'.join(lines) + '\n'


def _dry_run_data(out_dir):
  """Writes a small synthetic data set into `out_dir`; returns its folder."""
  data_dir = os.path.join(out_dir, 'synthetic_data')
  if not os.path.isdir(data_dir):
    subprocess.run([sys.executable, '-m', 'cifar10.synthetic', '--data_dir',
                    data_dir, '--train_records_per_file', '60',
                    '--test_records', '200'], check=True,
                   stdout=subprocess.DEVNULL)
  return data_dir


def main(argv=None):
  args = parser().parse_args(argv)
  if not args.dry_run and not args.data_dir:
    parser().error('--data_dir is required without --dry_run')
  deadline = Deadline(args.budget_secs)
  os.makedirs(args.out_dir, exist_ok=True)
  if args.dry_run:
    # The CPU stands in for the GPU: hide any GPU so the dry run is the same
    # on every machine.
    os.environ['CUDA_VISIBLE_DEVICES'] = ''
  sizes = DRY if args.dry_run else FULL
  data_dir = _dry_run_data(args.out_dir) if args.dry_run else args.data_dir
  report = {'machine': measured_on.machine(),
            'dry_run': args.dry_run, 'budget_secs': args.budget_secs,
            'data': 'synthetic' if args.dry_run else data_dir}
  report['devices'] = check_devices(args.out_dir)
  print('GPUs: %s' % (report['devices']['gpus'] or 'none'), flush=True)
  report['speed'] = measure_speed(args.out_dir, data_dir, sizes, deadline)
  print('speed: %s' % json.dumps(report['speed']), flush=True)
  report['beside'] = measure_beside(args.out_dir, data_dir, sizes,
                                    args.beside_secs, deadline)
  print('beside: %s' % json.dumps(report['beside']), flush=True)
  report['long_run'] = measure_long_run(args.out_dir, data_dir, sizes,
                                        args.long_run_steps, deadline)
  print('long run: %s' % json.dumps(report['long_run']), flush=True)
  with open(os.path.join(args.out_dir, 'gpu_check.json'), 'w') as out:
    json.dump(report, out, indent=1)
  with open(os.path.join(args.out_dir, 'gpu_check.md'), 'w') as out:
    out.write(markdown(report))
  print('Wrote %s and %s' % (os.path.join(args.out_dir, 'gpu_check.json'),
                             os.path.join(args.out_dir, 'gpu_check.md')))
  return 0


if __name__ == '__main__':
  sys.exit(main())
