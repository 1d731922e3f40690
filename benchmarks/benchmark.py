#!/usr/bin/env python
"""Measures the tutorial's speed on this machine: input, compute, train, eval.

Each figure is examples/sec, the median of several timed windows after a
warm-up, printed as one JSON line per measurement:

  peak               the machine's own ceiling: GFLOP/s of a 4096x4096
                     matmul in float32, and in bfloat16 where the CPU has
                     it natively (benchmarks/roofline.py)
  input_train        distorted_inputs alone
  input_train_reference  the same with the original's per-image distortions
                     (reference_ops=True), in alternating windows
  input_eval         the evaluation pipeline alone
  compute_reference  one full training step (inference, loss, gradients,
                     moving averages) fed from a constant batch, with the
                     original's ops (tf.nn.lrn): the stand-in for the
                     original tutorial's speed on this machine
  compute            the same for the graph cifar10.train really builds
  train              python -m cifar10.train as users run it (pipeline, step,
                     hooks), read from its own log lines
  multi_gpu_N        python -m cifar10.multi_gpu_train --num_gpus N
                     --virtual_devices, likewise
  dist_async/sync    python -m cifar10.dist_train, one ps and two workers on
                     this machine, examples/sec summed over the workers
  eval               the evaluator over the test set
  startup            seconds from process start to the end of the first
                     training step, and for `python -c 'import tensorflow'`
  memory             peak resident memory of the train run
  options            cifar10.train under each speed flag (--mixed_precision
                     bf16, --xla, thread counts) beside a run without one, and
                     compute with --mixed_precision bf16
  cluster_cost       (only when asked for) dist_train clusters of 1 and 2 ps
                     tasks and 1 to 4 workers: bytes each ps task holds,
                     receives and sends per worker step, its CPU time per
                     step, examples/sec; see measure_cluster_cost
  cluster_link       (only when asked for, as root) one ps task behind a
                     veth link limited by tc, against the ceiling the
                     link's speed predicts; see measure_cluster_link

then `roofline`, each training figure as GFLOP/s (105.3 MFLOP an image)
and as a fraction of the peak in its arithmetic (bf16 runs against the
bfloat16 peak), and the ratios the project tracks. Machines are noisy: compare figures
from one run only. compute_reference, compute and train are timed in
alternating rounds (--rounds), so that train / compute can resolve a few
percent; it is reported from all windows pooled and as the median of each
round's own ratio. Without --data_dir it writes full-size synthetic files
first. Where the step's time goes, and its speed under each x86 CPU class's
kernels, are measured by benchmarks/cpu_study.py.

    python benchmarks/benchmark.py                      # synthetic data
    python benchmarks/benchmark.py --data_dir /tmp/cifar10_data
    python benchmarks/benchmark.py --only compute,train
    python benchmarks/benchmark.py --only cluster_cost --data_dir /tmp/cifar10_data
"""

import argparse
import contextlib
import json
import os
import platform
import re
import selectors
import statistics
import subprocess
import sys
import tempfile
import time

from cifar10.support import flags
from cifar10.support import script

# Before TensorFlow loads: the CPU kernels and the quiet start-up of every
# script (see cifar10/support/script.py).
if __name__ == '__main__':
  script.prepare_process()

import tensorflow as tf  # pylint: disable=g-import-not-at-top

from cifar10 import cifar10
from cifar10 import cifar10_input
from cifar10 import dist_train
from cifar10 import eval as cifar10_eval
from cifar10 import synthetic
import cifar10.train as train
from cifar10.support import batch_files
from cifar10.support import kernel_choice
from cifar10.support import session_options

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measured_on  # pylint: disable=g-import-not-at-top,wrong-import-position
import ports  # pylint: disable=g-import-not-at-top,wrong-import-position
import roofline  # pylint: disable=g-import-not-at-top,wrong-import-position

LOG_RATE = re.compile(r': step (\d+), loss = \S+ \(([\d.]+) examples/sec;')
ALL_MEASUREMENTS = ('peak', 'input', 'compute', 'train', 'multi_gpu', 'dist',
                    'eval', 'startup', 'options')
# The training figures `roofline` relates to the peak, and the peak's
# arithmetic each is measured against.
ROOFLINE_FIGURES = (('compute_reference', 'float32'), ('compute', 'float32'),
                    ('train', 'float32'),
                    ('compute_mixed_precision_bf16', 'bfloat16'),
                    ('train_mixed_precision_bf16', 'bfloat16'))
# Measured only when --only names them: they take long and answer questions
# of their own.
ON_REQUEST_MEASUREMENTS = ('cluster_cost', 'cluster_link')
# The speed flags `options` measures, as the trainers take them.
SPEED_FLAGS = {
    'mixed_precision_bf16': ['--mixed_precision', 'bf16'],
    'xla': ['--xla'],
    'inter_op_threads_1': ['--inter_op_threads', '1'],
    'intra_op_threads_1': ['--intra_op_threads', '1'],
}


def report(name, **fields):
  """Prints one machine-readable line for a measurement."""
  print(json.dumps(dict(measurement=name, **fields)), flush=True)


def _median_rate(rates):
  return round(statistics.median(rates), 1)


# ---------------------------------------------------------------------------
# In-process measurements: a fetch run again and again
# ---------------------------------------------------------------------------

def _window_rates(sessions_and_fetches, examples_per_run, windows, runs,
                  warmup):
  """Times `runs` runs per window; windows of the candidates are interleaved.

  Interleaving spreads the machine's slow moments over all candidates.

  Returns:
    One list of examples/sec per (session, fetch) pair.
  """
  for session, fetch in sessions_and_fetches:
    for _ in range(warmup):
      session.run(fetch)
  rates = [[] for _ in sessions_and_fetches]
  for _ in range(windows):
    for index, (session, fetch) in enumerate(sessions_and_fetches):
      start = time.perf_counter()
      for _ in range(runs):
        session.run(fetch)
      rates[index].append(examples_per_run * runs /
                          (time.perf_counter() - start))
  return rates


def _training_input(batches, batch_size, reference_ops):
  """A session and the distorted training batches, in a graph of their own."""
  graph = tf.Graph()
  with graph.as_default():
    images, _ = cifar10_input.distorted_inputs(batches, batch_size,
                                               reference_ops=reference_ops)
  return tf.compat.v1.Session(graph=graph), images


def measure_input(data_dir, batch_size, args):
  """The input pipelines alone: training (both forms of the distortions), eval.

  input_train is the batched distortions the trainers use;
  input_train_reference the original's per-image ops (reference_ops=True),
  timed in alternating windows with it.
  """
  batches = batch_files.batches_dir(data_dir)
  pipelines = [_training_input(batches, batch_size, reference_ops)
               for reference_ops in (False, True)]
  all_rates = _window_rates(pipelines, batch_size, args.windows,
                            args.window_steps * 4, args.warmup_steps)
  for session, _ in pipelines:
    session.close()
  for name, rates in zip(('input_train', 'input_train_reference'), all_rates):
    report(name, examples_per_sec=_median_rate(rates), windows=rates)

  rates = []
  for _ in range(args.windows):
    with tf.Graph().as_default():
      images, _ = cifar10_input.inputs(True, batches, batch_size)
      with tf.compat.v1.Session() as sess:
        count, start = 0, time.perf_counter()
        try:
          while True:
            count += len(sess.run(images))
        except tf.errors.OutOfRangeError:
          rates.append(count / (time.perf_counter() - start))
  report('input_eval', examples_per_sec=_median_rate(rates), windows=rates)


def _constant_batch_step(batch_size, session_flags=(), **inference_args):
  """A session and train op for one step on a constant in-memory batch."""
  graph = tf.Graph()
  with graph.as_default():
    global_step = tf.compat.v1.train.get_or_create_global_step()
    images = tf.random.stateless_normal([batch_size, 24, 24, 3], seed=[1, 2])
    labels = tf.random.stateless_uniform([batch_size], seed=[3, 4], minval=0,
                                         maxval=10, dtype=tf.int32)
    # Computed once into variables, so the step itself reads a constant batch.
    images = tf.Variable(images, trainable=False)
    labels = tf.Variable(labels, trainable=False)
    logits = cifar10.inference(images.read_value(), **inference_args)
    loss = cifar10.loss(logits, labels.read_value())
    train_op = cifar10.train(loss, global_step, batch_size)
    options = session_options.SessionOptions.from_flags(
        train.parser().parse_args(list(session_flags)))
    session = tf.compat.v1.Session(graph=graph, config=options.config_proto())
    session.run(tf.compat.v1.global_variables_initializer())
  return session, train_op


def measure_compute_and_train(data_dir, train_dir, batch_size, args,
                              time_compute=True, time_train=True):
  """compute_reference, compute and train, in alternating rounds.

  Each round times the constant-batch steps in this process, then runs
  cifar10.train; a slow spell of a shared machine then falls on all three
  alike, which `train / compute` needs to resolve a few percent.

  Returns:
    The medians: {'compute_reference': ..., 'compute': ..., 'train': ...}
    for those measured; with both compute and train, also 'train /
    compute, median of rounds': the median of each round's own train /
    compute, which a machine's slow spell between rounds leaves alone.
  """
  rates = {'compute_reference': [], 'compute': [], 'train': []}
  round_ratios = []
  peak_mb = 0
  for _ in range(args.rounds):
    if time_compute:
      # Closed before the trainer runs, so that their threads stay out of it.
      steps = [_constant_batch_step(batch_size, reference_ops=True),
               _constant_batch_step(batch_size)]  # As cifar10.train builds it.
      ref_rates, used_rates = _window_rates(
          steps, batch_size, args.windows, args.window_steps,
          args.warmup_steps)
      for session, _ in steps:
        session.close()
      rates['compute_reference'] += ref_rates
      rates['compute'] += used_rates
    if time_train:
      train_rates, run_peak_mb = _run_trainer('cifar10.train', data_dir,
                                              train_dir, batch_size, args)
      rates['train'] += train_rates
      peak_mb = max(peak_mb, run_peak_mb)
      if time_compute:
        round_ratios.append(statistics.median(train_rates) /
                            statistics.median(used_rates))
  medians = {}
  for name, windows in rates.items():
    if windows:
      medians[name] = _median_rate(windows)
      report(name, examples_per_sec=medians[name], windows=windows)
  if round_ratios:
    medians['train / compute, median of rounds'] = statistics.median(
        round_ratios)
    report('train_compute_rounds',
           rounds=[round(ratio, 3) for ratio in round_ratios])
  if time_train:
    report('memory', peak_rss_mb=round(peak_mb), of='python -m cifar10.train')
  return medians


def measure_options(data_dir, scratch, batch_size, args):
  """The speed flags, each beside no flag in the same run.

  Each flag runs the whole trainer in its own process (thread pools and XLA
  are set up once per process); bf16 also runs the constant-batch step.
  """
  results = {}
  steps = [_constant_batch_step(batch_size),
           _constant_batch_step(batch_size,
                                SPEED_FLAGS['mixed_precision_bf16'])]
  all_rates = _window_rates(steps, batch_size, args.windows, args.window_steps,
                            args.warmup_steps)
  for session, _ in steps:
    session.close()
  for name, rates in zip(['no_option', 'mixed_precision_bf16'], all_rates):
    results['compute_' + name] = _median_rate(rates)
    report('compute_' + name, examples_per_sec=results['compute_' + name],
           windows=rates)
  for name, argv in [('no_option', [])] + list(SPEED_FLAGS.items()):
    rates, _ = _run_trainer('cifar10.train', data_dir,
                            os.path.join(scratch, 'train_' + name), batch_size,
                            args, argv)
    results['train_' + name] = _median_rate(rates)
    report('train_' + name, examples_per_sec=results['train_' + name],
           windows=rates)
  return results


def measure_eval(data_dir, train_dir, batch_size, args):
  rates = []
  with tf.Graph().as_default():
    writer = tf.compat.v1.summary.FileWriter(os.path.join(train_dir, 'eval'))
  checkpoint = tf.train.latest_checkpoint(train_dir)
  test_records = batch_files.check_batch_file(os.path.join(
      batch_files.batches_dir(data_dir), cifar10_input.TEST_FILES[0]))
  for _ in range(args.windows):
    start = time.perf_counter()
    # The evaluator prints its result line; stdout is for the figures.
    with contextlib.redirect_stdout(sys.stderr):
      cifar10_eval.eval_once(checkpoint, 'test', data_dir, batch_size,
                             test_records, False, writer)
    rates.append(test_records / (time.perf_counter() - start))
  writer.close()
  report('eval', examples_per_sec=_median_rate(rates), windows=rates,
         note='includes building the graph and restoring, per pass')


# ---------------------------------------------------------------------------
# Whole programs, as users run them
# ---------------------------------------------------------------------------

def _run_trainer(module, data_dir, train_dir, batch_size, args, extra=()):
  """Runs a trainer to completion; returns its log rates and peak RSS (MB)."""
  steps = args.window_steps * (args.windows + 1)
  command = [sys.executable, '-m', module, '--data_dir', data_dir,
             '--train_dir', train_dir, '--batch_size', str(batch_size),
             '--max_steps', str(steps), '--log_frequency',
             str(args.window_steps), '--fresh'] + list(extra)
  process = subprocess.Popen(command, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True,
                             env=_quiet_env())
  lines, peak_kb = [], 0
  for line in process.stdout:
    lines.append(line)
    peak_kb = max(peak_kb, _peak_rss_kb(process.pid))
  output = ''.join(lines)
  if process.wait():
    raise RuntimeError('%s failed:\n%s' % (' '.join(command), output[-2000:]))
  rates = [float(rate) for step, rate in LOG_RATE.findall(output)]
  # The first window holds the start-up: leave it out.
  return rates[1:], peak_kb / 1024.0


def _peak_rss_kb(pid):
  """The process's peak resident memory so far (Linux), 0 if unknown.

  Read from /proc while it runs: the rusage of a child also counts the
  memory of this (large) process that it was forked from.
  """
  try:
    with open('/proc/%d/status' % pid) as status:
      for line in status:
        if line.startswith('VmHWM:'):
          return int(line.split()[1])
  except OSError:
    pass
  return 0


def _quiet_env():
  return dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', PYTHONUNBUFFERED='1')


def measure_multi_gpu(data_dir, scratch, batch_size, args):
  results = {}
  for towers in args.towers:
    rates, _ = _run_trainer(
        'cifar10.multi_gpu_train', data_dir,
        os.path.join(scratch, 'multi_%d' % towers), batch_size, args,
        ['--num_gpus', str(towers), '--virtual_devices'])
    results[towers] = _median_rate(rates)
    report('multi_gpu_%d' % towers, examples_per_sec=results[towers],
           windows=rates)
  return results


def measure_dist(data_dir, scratch, batch_size, args):
  """One ps and two workers on this machine, asynchronous and synchronous.

  The rate of each window between two steps the workers logged; the first,
  holding the start-up, is left out.
  """
  results = {}
  for mode in ('async', 'sync'):
    points = _run_cluster(data_dir, scratch, batch_size, args, 1, 2, mode,
                          partition=False)
    # The chief logs the global step; a synchronous step uses a batch from
    # each worker, an asynchronous one a single batch.
    per_step = batch_size * (2 if mode == 'sync' else 1)
    rates = [(step - last_step) * per_step / (time - last_time)
             for (last_time, last_step, _), (time, step, _)
             in zip(points, points[1:])]
    results[mode] = _median_rate(rates[1:])
    report('dist_%s' % mode, examples_per_sec=results[mode], windows=rates,
           workers=2)
  return results


def _seconds_until(command, marker):
  """Seconds from starting `command` until `marker` appears in its output."""
  start = time.perf_counter()
  process = subprocess.Popen(command, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True,
                             env=_quiet_env())
  elapsed = None
  for line in process.stdout:
    if marker in line and elapsed is None:
      elapsed = time.perf_counter() - start
  process.wait()
  return elapsed if elapsed is not None else time.perf_counter() - start


def measure_startup(data_dir, scratch, batch_size, args):
  first_step, import_only = [], []
  for _ in range(args.startup_runs):
    import_only.append(_seconds_until(
        [sys.executable, '-c', 'import tensorflow; print("imported")'],
        'imported'))
    first_step.append(_seconds_until(
        [sys.executable, '-m', 'cifar10.train', '--data_dir', data_dir,
         '--train_dir', os.path.join(scratch, 'startup'), '--fresh',
         '--batch_size', str(batch_size), '--max_steps', '1',
         '--log_frequency', '1'], ': step 1,'))
  report('startup', first_step_secs=round(statistics.median(first_step), 2),
         import_tensorflow_secs=round(statistics.median(import_only), 2),
         extra_secs=round(statistics.median(first_step) -
                          statistics.median(import_only), 2),
         runs=args.startup_runs)


# ---------------------------------------------------------------------------

# ---------------------------------------------------------------------------
# What a ps cluster costs as it grows (--only cluster_cost)
# ---------------------------------------------------------------------------

# (ps tasks, workers) of the clusters cluster_cost runs by default.
CLUSTER_SHAPES = ((1, 1), (1, 2), (1, 4), (2, 2), (2, 4))
_CLOCK_TICKS = os.sysconf('SC_CLK_TCK')


class Traffic:
  """The bytes a process received and sent over TCP, as the kernel counts them.

  Each sample reads the counters of each of the process's established
  connections (`ss -ti`); sent is what the peer acknowledged, so on loopback
  exactly what it received. A connection that has closed since keeps the
  counts it was last seen with: a worker that leaves early must not take its
  bytes out of the sum.
  """

  def __init__(self, pid, namespace=None):
    """`namespace`: the network namespace the process runs in (None: this)."""
    self._pid, self._namespace = pid, namespace
    self._connections = {}  # (local, peer address) -> (received, sent)

  def sample(self):
    """(received, sent) bytes so far over every connection seen."""
    output = subprocess.run(_in_namespace(self._namespace) +
                            ['ss', '-tinpH', 'state', 'established'],
                            capture_output=True, text=True, check=True).stdout
    owner = re.compile(r'pid=%d,' % self._pid)
    lines = output.splitlines()
    # Each socket is a line naming its addresses and process, then a line
    # of counters.
    for socket_line, counters in zip(lines, lines[1:]):
      if owner.search(socket_line):
        self._connections[tuple(socket_line.split()[2:4])] = (
            _counter('bytes_received', counters),
            _counter('bytes_acked', counters))
    return (sum(received for received, _ in self._connections.values()),
            sum(sent for _, sent in self._connections.values()))


def _counter(name, counters):
  """The value of `name:N` in an `ss -i` line of counters; 0 if absent."""
  match = re.search(r'\b%s:(\d+)' % name, counters)
  return int(match.group(1)) if match else 0


def _cpu_seconds(pid):
  """CPU time (user + system) the process `pid` has used so far, seconds."""
  with open('/proc/%d/stat' % pid) as stat:
    # The fields after the command name, which is in parentheses.
    fields = stat.read().rsplit(')', 1)[1].split()
  return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _variable_bytes_per_ps(data_dir, batch_size, num_ps, partition):
  """(all variables, trainable ones) in bytes per ps task, from the graph.

  Builds a worker's graph as dist_train does, without a cluster, and sums
  the sizes of the variables placed on each ps task.
  """
  cluster = {'ps': ['ps:%d' % task for task in range(num_ps)],
             'worker': ['worker:0']}
  with tf.Graph().as_default():
    with dist_train.variable_placement(cluster, 0, partition):
      train.build_graph(data_dir, batch_size, False)
    return (dist_train.bytes_per_ps_task(tf.compat.v1.global_variables(),
                                         num_ps),
            dist_train.bytes_per_ps_task(
                tf.compat.v1.trainable_variables(), num_ps))


def _in_namespace(namespace):
  """The command prefix that runs a command in network namespace `namespace`."""
  return ['ip', 'netns', 'exec', namespace] if namespace else []


def _run_cluster(data_dir, scratch, batch_size, args, num_ps, num_workers,
                 mode, partition, link=None):
  """Runs one cluster to its end, sampling each ps task at the workers' lines.

  Every worker logs the global step; each line that names a step beyond the
  last one seen is a point. (Reading only the chief's lines would leave too
  few when the other asynchronous workers take most of the steps, as they
  do while the chief saves its first checkpoint.)

  `link`: None, everything on loopback; or a Link, whose namespace the ps
  tasks run in, reached by the workers over its limited veth pair.

  Returns:
    One (seconds, global step, [(bytes received, bytes sent, CPU seconds)
    per ps task]) per point, in step order, at least three.

  Raises:
    RuntimeError: a task failed, or the workers logged fewer than three
      points (raise --window_steps).
  """
  task_ports = ports.free_ports(num_ps + num_workers)
  ps_address, worker_address = (
      (link.PS_ADDRESS, link.HOST_ADDRESS) if link else ('127.0.0.1',) * 2)
  namespace = link.NAMESPACE if link else None
  common = ['--ps_hosts', ','.join('%s:%d' % (ps_address, port)
                                   for port in task_ports[:num_ps]),
            '--worker_hosts', ','.join('%s:%d' % (worker_address, port)
                                       for port in task_ports[num_ps:]),
            '--data_dir', data_dir, '--batch_size', str(batch_size),
            # An asynchronous global step is one worker's step: as many
            # steps of each worker as a synchronous run takes, each worker
            # logging as often in global steps.
            '--max_steps', str(args.window_steps * (args.windows + 1) *
                               (1 if mode == 'sync' else num_workers)),
            '--log_frequency', str(args.window_steps),
            '--partition_variables=%s' % str(partition).lower()]
  # Asynchronous workers need a smaller rate not to diverge (README).
  common += ['--sync_replicas'] if mode == 'sync' else [
      '--initial_learning_rate', '0.05']
  tag = '%s_%dps_%dw_%s' % (mode, num_ps, num_workers, partition)
  tasks = [subprocess.Popen(
      _in_namespace(namespace if job == 'ps' else None) +
      [sys.executable, '-m', 'cifar10.dist_train', '--job_name', job,
       '--task_index', str(index), '--train_dir',
       os.path.join(scratch, 'cost_%s_%s%d' % (tag, job, index))] + common,
      stdout=subprocess.PIPE if job == 'worker' else subprocess.DEVNULL,
      stderr=subprocess.DEVNULL, text=True, env=_quiet_env())
           for job, count in (('ps', num_ps), ('worker', num_workers))
           for index in range(count)]
  ps_tasks, workers = tasks[:num_ps], tasks[num_ps:]
  traffic = [Traffic(task.pid, namespace) for task in ps_tasks]
  points, lines = [], []
  try:
    logs = selectors.DefaultSelector()
    for worker in workers:
      logs.register(worker.stdout, selectors.EVENT_READ)
    while logs.get_map():
      for ready, _ in logs.select():
        # The workers print whole lines, flushed (PYTHONUNBUFFERED).
        line = ready.fileobj.readline()
        if not line:
          logs.unregister(ready.fileobj)
          continue
        lines.append(line)
        logged = re.search(r': step (\d+), loss = ', line)
        if logged and (not points or int(logged.group(1)) > points[-1][1]):
          points.append((time.perf_counter(), int(logged.group(1)),
                         [counter.sample() + (_cpu_seconds(task.pid),)
                          for counter, task in zip(traffic, ps_tasks)]))
    for task in tasks:
      if task.wait():
        raise RuntimeError('dist_train %s failed:\n%s'
                           % (tag, ''.join(lines)[-2000:]))
  finally:
    # After a failure (or Ctrl-C) the other tasks would wait for the missing
    # one for good: a ps never ends on its own.
    for task in tasks:
      if task.poll() is None:
        task.kill()
        task.wait()
  if len(points) < 3:
    raise RuntimeError('dist_train %s: the workers logged %d steps, too few '
                       'to time a window after the first; raise '
                       '--window_steps.' % (tag, len(points)))
  return points


def measure_cluster_cost(data_dir, scratch, batch_size, args):
  """Bytes held and moved by each ps task, and the cluster's speed, as it grows.

  For each of --clusters (by default CLUSTER_SHAPES), asynchronous and synchronous, with the large
  variables split (on several ps tasks) and, for 2 ps tasks, whole too, it
  reports per ps task: the bytes of variables it holds; the bytes it
  received and sent per worker step, read from its TCP counters between the
  second and the last step the workers logged (the first window, with the
  start-up, left out), beside the size of the trainable variables it holds (what a step
  would move if each worker read every variable once and sent each gradient
  once); and its CPU seconds per worker step. Then the cluster's
  examples/sec, summed over the workers. On one machine all tasks share its
  cores, so the bytes and the ps CPU time per step carry over to a real
  cluster; the examples/sec do not.
  """
  configurations = [
      (num_ps, num_workers, mode, partition)
      for mode in ('async', 'sync')
      for num_ps, num_workers in args.clusters
      for partition in ((True, False) if num_ps > 1 else (True,))]
  results = []
  for num_ps, num_workers, mode, partition in configurations:
    held, trainable = _variable_bytes_per_ps(data_dir, batch_size, num_ps,
                                             partition)
    points = _run_cluster(data_dir, scratch, batch_size, args, num_ps,
                          num_workers, mode, partition)
    # The first window holds the start-up: leave it out.
    (start, first_step, first), (end, last_step, last) = points[1], points[-1]
    global_steps = last_step - first_step
    # A synchronous global step takes one step of every worker.
    worker_steps = global_steps * (num_workers if mode == 'sync' else 1)
    per_step = batch_size * (num_workers if mode == 'sync' else 1)
    ps_tasks = [dict(
        held_bytes=held[task], trainable_bytes=trainable[task],
        received_per_worker_step=round(
            (last[task][0] - first[task][0]) / worker_steps),
        sent_per_worker_step=round(
            (last[task][1] - first[task][1]) / worker_steps),
        cpu_ms_per_worker_step=round(
            1000 * (last[task][2] - first[task][2]) / worker_steps, 2))
                for task in range(num_ps)]
    for task in ps_tasks:
      task['received / trainable'] = round(
          task['received_per_worker_step'] / task['trainable_bytes'], 2)
      task['sent / trainable'] = round(
          task['sent_per_worker_step'] / task['trainable_bytes'], 2)
    result = dict(ps=num_ps, workers=num_workers, mode=mode,
                  partitioned=partition and num_ps > 1,
                  examples_per_sec=round(
                      global_steps * per_step / (end - start), 1),
                  worker_steps=worker_steps, ps_tasks=ps_tasks)
    report('cluster_cost', **result)
    results.append(result)
  return results


class Link:
  """A network namespace for the ps tasks, joined to this one by a veth pair
  whose two ends each send at most `mbit` Mbit/s (tc's token bucket).

  A context manager; it needs root (CAP_NET_ADMIN) and `ip` and `tc`, and
  removes the namespace and the pair when it ends.
  """
  NAMESPACE = 'cifar10_bench_ps'
  HOST_DEVICE, PS_DEVICE = 'c10b-host', 'c10b-ps'
  HOST_ADDRESS, PS_ADDRESS = '10.77.0.2', '10.77.0.1'

  def __init__(self, mbit):
    self.mbit = mbit

  def __enter__(self):
    ps = _in_namespace(self.NAMESPACE)
    # The token bucket's burst is a few packets; a deeper one would let a
    # step's first megabytes through at memory speed.
    limit = ['tc', 'qdisc', 'add', 'dev', None, 'root', 'tbf', 'rate',
             '%dmbit' % self.mbit, 'burst', '64kb', 'latency', '100ms']
    commands = [
        ['ip', 'netns', 'add', self.NAMESPACE],
        ['ip', 'link', 'add', self.HOST_DEVICE, 'type', 'veth', 'peer',
         'name', self.PS_DEVICE],
        ['ip', 'link', 'set', self.PS_DEVICE, 'netns', self.NAMESPACE],
        ['ip', 'addr', 'add', self.HOST_ADDRESS + '/24', 'dev',
         self.HOST_DEVICE],
        ['ip', 'link', 'set', self.HOST_DEVICE, 'up'],
        ps + ['ip', 'addr', 'add', self.PS_ADDRESS + '/24', 'dev',
              self.PS_DEVICE],
        ps + ['ip', 'link', 'set', self.PS_DEVICE, 'up'],
        ps + ['ip', 'link', 'set', 'lo', 'up'],
        [self.HOST_DEVICE if word is None else word for word in limit],
        ps + [self.PS_DEVICE if word is None else word for word in limit]]
    try:
      for command in commands:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as error:
      self.__exit__()
      raise RuntimeError(
          'cluster_link needs root, ip and tc to make a network namespace '
          'and a veth pair (%s failed: %s)' % (
              ' '.join(error.cmd) if hasattr(error, 'cmd') else 'ip',
              getattr(error, 'stderr', '') or error))
    return self

  def __exit__(self, *unused_exception):
    # Deleting one end of a veth pair deletes both.
    subprocess.run(['ip', 'link', 'del', self.HOST_DEVICE],
                   capture_output=True)
    subprocess.run(['ip', 'netns', 'del', self.NAMESPACE], capture_output=True)


def measure_cluster_link(data_dir, scratch, batch_size, args):
  """A ps task behind a slow link: does the cluster run at the link's pace?

  One ps task in its own network namespace, its veth pair limited to
  --link_mbit each way, with 1 and 2 asynchronous workers. A worker step
  makes the ps send `sent` bytes (cluster_cost's count), so the link allows
  at most (mbit * 1e6 / 8) / sent worker steps a second: the ceiling the
  paper model in docs/distributed.md predicts, reported beside the
  examples/sec measured through the link.
  """
  results = []
  with Link(args.link_mbit) as link:
    for num_workers in (1, 2):
      points = _run_cluster(data_dir, scratch, batch_size, args, 1,
                            num_workers, 'async', False, link)
      (start, first_step, first), (end, last_step, last) = (points[1],
                                                            points[-1])
      steps = last_step - first_step
      sent = (last[0][1] - first[0][1]) / steps
      result = dict(
          ps=1, workers=num_workers, mode='async', link_mbit=args.link_mbit,
          examples_per_sec=round(steps * batch_size / (end - start), 1),
          sent_per_worker_step=round(sent),
          received_per_worker_step=round(
              (last[0][0] - first[0][0]) / steps),
          link_ceiling_examples_per_sec=round(
              args.link_mbit * 1e6 / 8 / sent * batch_size, 1),
          worker_steps=steps)
      report('cluster_link', **result)
      results.append(result)
  return results


def measure_peak(args):
  """The machine's matmul peak, float32 and (where native) bfloat16.

  Returns:
    {'float32': GFLOP/s, 'bfloat16': GFLOP/s} (bfloat16 only where the CPU
    multiplies it natively: roofline.has_native_bfloat16).
  """
  dtypes = [('float32', tf.float32)]
  if roofline.has_native_bfloat16():
    dtypes.append(('bfloat16', tf.bfloat16))
  peaks, fields = {}, {}
  for name, dtype in dtypes:
    peaks[name], windows = roofline.matmul_peak(dtype, args.peak_size,
                                                args.windows)
    fields[name + '_gflops'] = round(peaks[name], 1)
    fields[name + '_windows'] = [round(rate, 1) for rate in windows]
  report('peak', matmul_size=args.peak_size, **fields)
  return peaks


def report_roofline(rates, peaks):
  """Reports each training figure as GFLOP/s and as a fraction of its peak.

  Args:
    rates: {measurement name: examples/sec} of those measured.
    peaks: measure_peak's result.
  """
  fields = {'flop_per_image': roofline.training_flops_per_image()}
  for name, arithmetic in ROOFLINE_FIGURES:
    if name in rates and arithmetic in peaks:
      gflops = roofline.gflops(rates[name])
      fields[name] = {'gflops': round(gflops, 1),
                      'fraction_of_peak': round(gflops / peaks[arithmetic], 3),
                      'peak': arithmetic}
  report('roofline', **fields)


def report_machine(batch_size):
  """Reports what the figures were measured on: TensorFlow, CPUs, kernels."""
  kernel_choice.announce()
  threading = tf.config.threading
  report('machine', **measured_on.machine(), python=platform.python_version(),
         gpus=[gpu.name for gpu in tf.config.list_physical_devices('GPU')],
         intra_op_threads=threading.get_intra_op_parallelism_threads(),
         inter_op_threads=threading.get_inter_op_parallelism_threads(),
         onednn=os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'default'),
         onednn_in_use=kernel_choice.onednn_in_use(),
         onednn_max_cpu_isa=os.environ.get('ONEDNN_MAX_CPU_ISA', 'none'),
         batch_size=batch_size)


def data_dir_or_synthetic(data_dir, scratch):
  """`data_dir`, or where None a --data_dir of full-size synthetic files.

  The synthetic files are written into the folder `scratch`.
  """
  if data_dir is not None:
    return data_dir
  data_dir = os.path.join(scratch, 'data')
  synthetic.write_synthetic_dataset(data_dir, train_records_per_file=10000,
                                    test_records=10000)
  return data_dir


def report_data(data_dir, synthetic_data, args):
  """Reports what the figures were measured on: the data, and the steps timed."""
  batches = batch_files.batches_dir(data_dir)

  def images(names):
    return sum(os.path.getsize(os.path.join(batches, name)) //
               batch_files.RECORD_BYTES for name in names
               if os.path.exists(os.path.join(batches, name)))

  report('data', source='synthetic' if synthetic_data else 'files',
         training_images=images(cifar10_input.TRAIN_FILES),
         test_images=images(cifar10_input.TEST_FILES),
         windows=args.windows, window_steps=args.window_steps,
         warmup_steps=args.warmup_steps, rounds=args.rounds)


def _measurements(text):
  """--only's value as a set of ALL_MEASUREMENTS names.

  Raises:
    argparse.ArgumentTypeError: a name is not a measurement, or the set
      holds one that would measure nothing: eval scores the checkpoint
      that train writes, so it needs train.
  """
  names = set(text.split(','))
  unknown = sorted(names - set(ALL_MEASUREMENTS + ON_REQUEST_MEASUREMENTS))
  if unknown:
    raise argparse.ArgumentTypeError(
        'unknown measurement %s: choose from %s (profile and cpu_classes are '
        'benchmarks/cpu_study.py\'s)' % (', '.join(unknown),
                                       ','.join(ALL_MEASUREMENTS +
                                                ON_REQUEST_MEASUREMENTS)))
  if 'eval' in names and 'train' not in names:
    raise argparse.ArgumentTypeError(
        'eval needs train: it evaluates the checkpoint the train measurement '
        'writes. Use --only train,eval')
  return names


def _cluster_shapes(text):
  """--clusters' value: 'PSxWORKERS,...' as [(ps tasks, workers)]."""
  try:
    shapes = [tuple(int(count) for count in shape.split('x'))
              for shape in text.split(',')]
  except ValueError:
    shapes = []
  if not shapes or any(len(shape) != 2 or min(shape) < 1 for shape in shapes):
    raise argparse.ArgumentTypeError(
        'expected ps tasks x workers, such as 1x2,2x4; got %r' % text)
  return shapes


def parser():
  """The script's flags."""
  result = flags.Parser(
      prog='python benchmarks/benchmark.py',
      description=__doc__.splitlines()[0])
  result.add_argument('--data_dir', type=flags.non_empty_path(), default=None,
                      help='A --data_dir with cifar-10-batches-bin/; default: '
                           'write full-size synthetic files to a temp folder.')
  result.add_argument('--batch_size', type=int, default=128,
                      help='Images per training step.')
  result.add_argument('--windows', type=int, default=5,
                      help='Timed windows per measurement (median reported).')
  result.add_argument('--window_steps', type=int, default=20,
                      help='Training steps per timed window.')
  result.add_argument('--warmup_steps', type=int, default=10,
                      help='Untimed steps before the first window.')
  result.add_argument('--peak_size', type=int, default=4096,
                      help='Side of the square matrices of the peak matmul.')
  result.add_argument('--rounds', type=int, default=5,
                      help='Alternating rounds of compute and train.')
  result.add_argument('--startup_runs', type=int, default=3,
                      help='Runs of each start-up timing (median '
                           'reported).')
  result.add_argument('--towers', type=lambda text: [int(t) for t in
                                                     text.split(',')],
                      default=[1, 2, 4], help='Tower counts for multi_gpu.')
  result.add_argument('--clusters', type=_cluster_shapes,
                      default=','.join('%dx%d' % shape
                                       for shape in CLUSTER_SHAPES),
                      help='The clusters cluster_cost runs, as ps tasks x '
                           'workers.')
  result.add_argument('--link_mbit', type=int, default=200,
                      help='cluster_link\'s limit on the ps task\'s link, '
                           'each way, in Mbit/s.')
  result.add_argument('--only', type=_measurements,
                      default=','.join(ALL_MEASUREMENTS),
                      help='Comma-separated subset of: %s; or cluster_cost '
                      '(bytes held and moved per ps task, and examples/sec, '
                      'as a ps cluster grows), cluster_link (a ps task behind '
                      'a link of --link_mbit; needs root).'
                      % ', '.join(ALL_MEASUREMENTS))
  return result


def parse_args(argv):
  return parser().parse_args(argv)


def main(argv=None):
  args = parse_args(argv)
  only = args.only
  report_machine(args.batch_size)
  with tempfile.TemporaryDirectory(prefix='cifar10_benchmark_') as scratch:
    data_dir = data_dir_or_synthetic(args.data_dir, scratch)
    report_data(data_dir, args.data_dir is None, args)
    train_dir = os.path.join(scratch, 'train')
    ratios = {}
    rates = {}  # examples/sec of the figures the roofline relates to peak.
    peaks = measure_peak(args) if 'peak' in only else {}
    if 'input' in only:
      measure_input(data_dir, args.batch_size, args)
    if only & {'compute', 'train'}:
      steps = measure_compute_and_train(
          data_dir, train_dir, args.batch_size, args,
          time_compute='compute' in only, time_train='train' in only)
      rates.update(steps)
      reference = steps.get('compute_reference')
      trained = steps.get('train')
      if reference:
        ratios['compute / compute_reference'] = steps['compute'] / reference
      if reference and trained:
        ratios['train / compute_reference'] = trained / reference
        ratios['train / compute'] = trained / steps['compute']
        ratios['train / compute, median of rounds'] = steps[
            'train / compute, median of rounds']
    if 'multi_gpu' in only:
      multi = measure_multi_gpu(data_dir, scratch, args.batch_size, args)
      if 'train' in only:
        for towers, rate in multi.items():
          ratios['multi_gpu_%d / train' % towers] = rate / trained
    if 'dist' in only:
      dist = measure_dist(data_dir, scratch, args.batch_size, args)
      if 'train' in only:
        for mode, rate in dist.items():
          ratios['dist_%s / train' % mode] = rate / trained
    if 'eval' in only:
      measure_eval(data_dir, train_dir, args.batch_size, args)
    if 'startup' in only:
      measure_startup(data_dir, scratch, args.batch_size, args)
    if 'cluster_cost' in only:
      measure_cluster_cost(data_dir, scratch, args.batch_size, args)
    if 'cluster_link' in only:
      measure_cluster_link(data_dir, scratch, args.batch_size, args)
    if 'options' in only:
      options = measure_options(data_dir, scratch, args.batch_size, args)
      rates.update(options)
      for name, rate in options.items():
        if not name.endswith('no_option'):
          baseline = name.split('_')[0] + '_no_option'
          ratios['%s / %s' % (name, baseline)] = rate / options[baseline]
      if 'compute' in only:
        ratios['train_mixed_precision_bf16 / compute_reference'] = (
            options['train_mixed_precision_bf16'] / reference)
    if peaks and rates:
      report_roofline(rates, peaks)
    report('ratios', **{name: round(value, 3)
                        for name, value in ratios.items()})
  return 0


if __name__ == '__main__':
  sys.exit(main())
