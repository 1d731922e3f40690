#!/usr/bin/env python
"""Measures the tutorial's speed on this machine: input, compute, train, eval.

Each figure is examples/sec, the median of several timed windows after a
warm-up, printed as one JSON line per measurement:

  input_train        distorted_inputs alone
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
  profile            (only when asked for) where compute_reference's and
                     compute's step time goes, ops run one at a time: the
                     convolutions, local response normalization, the rest;
                     and the most compute / compute_reference could reach if
                     this port's normalization took no time at all
  cpu_classes        (only when asked for) compute_reference, compute and
                     train under the kernels of each x86 CPU class, emulated
                     on this machine; see measure_cpu_classes
  cluster_cost       (only when asked for) dist_train clusters of 1 and 2 ps
                     tasks and 1 to 4 workers: bytes each ps task holds,
                     receives and sends per worker step, its CPU time per
                     step, examples/sec; see measure_cluster_cost

then the ratios the project tracks. Machines are noisy: compare figures from
one run only. compute_reference, compute and train are timed in alternating
rounds (--rounds), so that train / compute can resolve a few percent; it is
reported from all windows pooled and as the median of each round's own ratio.
Without --data_dir it writes full-size synthetic files first.

    python scripts/benchmark.py                      # synthetic data
    python scripts/benchmark.py --data_dir /tmp/cifar10_data
    python scripts/benchmark.py --only cpu_classes --data_dir /tmp/cifar10_data
    python scripts/benchmark.py --only cluster_cost --data_dir /tmp/cifar10_data
"""

import argparse
import datetime
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import tensorflow as tf

from cifar10 import cifar10
from cifar10 import cifar10_input
from cifar10 import dist_train
from cifar10 import eval as cifar10_eval
from cifar10 import kernel_choice
from cifar10 import session_options
from cifar10 import synthetic
from cifar10 import train

LOG_RATE = re.compile(r': step (\d+), loss = \S+ \(([\d.]+) examples/sec;')
ALL_MEASUREMENTS = ('input', 'compute', 'train', 'multi_gpu', 'dist', 'eval',
                    'startup', 'options')
# The speed flags `options` measures, as the trainers take them.
SPEED_FLAGS = {
    'mixed_precision_bf16': ['--mixed_precision', 'bf16'],
    'xla': ['--xla'],
    'inter_op_threads_1': ['--inter_op_threads', '1'],
    'intra_op_threads_1': ['--intra_op_threads', '1'],
}
# Kernel settings that reproduce, on a newer x86 CPU, what TensorFlow runs on
# an older one. oneDNN takes ONEDNN_MAX_CPU_ISA as the newest instruction set
# it may use; TensorFlow's Eigen kernels multiply matrices through oneDNN's
# gemm too, so the cap applies to them as well. TensorFlow leaves oneDNN off
# (TF_ENABLE_ONEDNN_OPTS unset) on the first two classes, so there its users
# get Eigen; on the last it decides by this machine's features.
CPU_CLASSES = {
    # Haswell, Broadwell, AMD Zen 1 to 3.
    'avx2': 'AVX2',
    # Skylake-SP: AVX-512 without VNNI.
    'avx512_core': 'AVX512_CORE',
    # This machine's own instruction set, uncapped.
    'native': None,
}
CPU_CLASS_MEASUREMENTS = ('compute_reference', 'compute', 'train')
# The step's parts that `profile` tells apart. Every other op, from pooling
# to the variable updates, falls under 'rest'.
PROFILE_PARTS = ('convolutions', 'local response normalization', 'rest')
# The constant-batch steps `profile` traces.
PROFILED_GRAPHS = ('compute_reference', 'compute')
# The ratios `profile` reports: the traced steps' own, and its bound.
PROFILE_RATIOS = ('compute / compute_reference, traced',
                  'compute / compute_reference, bound')
LOG_TIME_AND_STEP = re.compile(r'^(\S+ \S+): step (\d+), loss', re.MULTILINE)


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


def measure_input(data_dir, batch_size, args):
  batches = cifar10.batches_dir(data_dir)
  with tf.Graph().as_default():
    train_images, _ = cifar10_input.distorted_inputs(batches, batch_size)
    with tf.compat.v1.Session() as sess:
      [rates] = _window_rates([(sess, train_images)], batch_size, args.windows,
                              args.window_steps * 4, args.warmup_steps)
  report('input_train', examples_per_sec=_median_rate(rates), windows=rates)

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


def _profile_part(node_name, op_type):
  """Which of PROFILE_PARTS a traced op belongs to, by its type and scope.

  Convolutions are known by type in either kernel family (Conv2D, the fused
  and oneDNN forms, and their gradients). Local response normalization is
  every op under the norm1 or norm2 scope and their gradients: tf.nn.lrn
  and LRNGrad in the original's graph, the matrix multiplies and elementwise
  work of cifar10.lrn in this port's.
  """
  if 'Conv2D' in op_type:
    return 'convolutions'
  scopes = node_name.split('/')
  scope = scopes[1] if scopes[0] == 'gradients' and len(scopes) > 1 else (
      scopes[0])
  if scope.rsplit('_grad', 1)[0] in ('norm1', 'norm2'):
    return 'local response normalization'
  return 'rest'


def _traced_step_ms(session, fetch):
  """One traced run of `fetch`: milliseconds per PROFILE_PARTS entry."""
  metadata = tf.compat.v1.RunMetadata()
  session.run(fetch, options=tf.compat.v1.RunOptions(
      trace_level=tf.compat.v1.RunOptions.FULL_TRACE), run_metadata=metadata)
  parts = dict.fromkeys(PROFILE_PARTS, 0.0)
  for device in metadata.step_stats.dev_stats:
    for node in device.node_stats:
      # timeline_label reads 'name = OpType(inputs)'.
      op_type = node.timeline_label.partition(' = ')[2].partition('(')[0]
      parts[_profile_part(node.node_name, op_type)] += (
          node.all_end_rel_micros / 1000)
  return parts


def measure_profile(batch_size, args):
  """Where each constant-batch step's time goes, ops run one at a time.

  With one inter-op thread the ops run in turn, each on every core, so their
  traced times add up to the step and can be compared part by part.
  `--windows` traced steps per graph, interleaved, after the warm-up; each
  part's figure is its median.

  Returns:
    {'compute / compute_reference, bound': ...}: compute_reference's step
    over compute's without its local response normalization, the most the
    ratio could be if that took no time; the rest of this port's step is
    the original's ops (convolutions, pooling, fully connected layers,
    updates) or their equivalents.
  """
  steps = {name: _constant_batch_step(batch_size, ('--inter_op_threads', '1'),
                                      reference_ops=name == 'compute_reference')
           for name in PROFILED_GRAPHS}
  for session, train_op in steps.values():
    for _ in range(args.warmup_steps):
      session.run(train_op)
  traced = {name: [] for name in steps}
  for _ in range(args.windows):
    for name, (session, train_op) in steps.items():
      traced[name].append(_traced_step_ms(session, train_op))
  medians = {}
  for name, (session, _) in steps.items():
    session.close()
    medians[name] = {part: statistics.median(step[part]
                                             for step in traced[name])
                     for part in PROFILE_PARTS}
    medians[name]['step'] = statistics.median(sum(step.values())
                                              for step in traced[name])
    report('profile_' + name, traced_steps=args.windows, inter_op_threads=1,
           **{part.replace(' ', '_') + '_ms': round(ms, 2)
              for part, ms in medians[name].items()})
  without_lrn = (medians['compute']['step'] -
                 medians['compute']['local response normalization'])
  traced, bound = PROFILE_RATIOS
  return {traced: (medians['compute_reference']['step'] /
                   medians['compute']['step']),
          bound: medians['compute_reference']['step'] / without_lrn}


def measure_eval(data_dir, train_dir, batch_size, args):
  rates = []
  with tf.Graph().as_default():
    writer = tf.compat.v1.summary.FileWriter(os.path.join(train_dir, 'eval'))
  checkpoint = tf.train.latest_checkpoint(train_dir)
  test_records = cifar10_input.check_batch_file(os.path.join(
      cifar10.batches_dir(data_dir), cifar10_input.TEST_FILES[0]))
  for _ in range(args.windows):
    start = time.perf_counter()
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


def _free_ports(count):
  sockets = [socket.socket() for _ in range(count)]
  for sock in sockets:
    sock.bind(('127.0.0.1', 0))
  ports = [sock.getsockname()[1] for sock in sockets]
  for sock in sockets:
    sock.close()
  return ports


def measure_dist(data_dir, scratch, batch_size, args):
  """One ps and two workers on this machine, asynchronous and synchronous."""
  results = {}
  for mode in ('async', 'sync'):
    ps, *workers = _free_ports(3)
    common = ['--ps_hosts', '127.0.0.1:%d' % ps, '--worker_hosts',
              ','.join('127.0.0.1:%d' % port for port in workers),
              '--data_dir', data_dir, '--batch_size', str(batch_size),
              '--max_steps', str(args.window_steps * (args.windows + 1)),
              '--log_frequency', str(args.window_steps)]
    # Two asynchronous workers need half the rate not to diverge (README).
    common += ['--sync_replicas'] if mode == 'sync' else [
        '--initial_learning_rate', '0.05']
    tasks = [subprocess.Popen(
        [sys.executable, '-m', 'cifar10.dist_train', '--job_name', job,
         '--task_index', str(index), '--train_dir',
         os.path.join(scratch, 'dist_%s_%s%d' % (mode, job, index))] + common,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env=_quiet_env()) for job, index in (('ps', 0), ('worker', 0),
                                              ('worker', 1))]
    chief_log = [task.communicate()[0] for task in tasks][1]
    # The chief logs the global step; a synchronous step uses a batch from
    # each worker, an asynchronous one a single batch.
    per_step = batch_size * (len(workers) if mode == 'sync' else 1)
    points = [(datetime.datetime.strptime(stamp, '%Y-%m-%d %H:%M:%S.%f'),
               int(step)) for stamp, step in LOG_TIME_AND_STEP.findall(
                   chief_log)]
    rates = [(step - last_step) * per_step / (time - last_time).total_seconds()
             for (last_time, last_step), (time, step) in zip(points, points[1:])]
    results[mode] = _median_rate(rates[1:] or rates)
    report('dist_%s' % mode, examples_per_sec=results[mode], windows=rates,
           workers=len(workers))
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

def _cpu_class_settings():
  """(name, CPU class, kernels, environment) for each setting measured.

  Every class is measured with oneDNN, the kernels this package chooses; the
  classes where TensorFlow's own default is Eigen are measured with Eigen too.
  """
  settings = []
  for cpu_class in CPU_CLASSES:
    kernel_families = (['onednn'] if _tensorflow_picks_onednn(cpu_class)
                       else ['eigen', 'onednn'])
    for kernels in kernel_families:
      environment = {'TF_ENABLE_ONEDNN_OPTS': '1' if kernels == 'onednn'
                                              else '0'}
      if CPU_CLASSES[cpu_class]:
        environment['ONEDNN_MAX_CPU_ISA'] = CPU_CLASSES[cpu_class]
      settings.append(('%s_%s' % (kernels, cpu_class), cpu_class, kernels,
                       environment))
  return settings


def _tensorflow_picks_onednn(cpu_class):
  """Whether TensorFlow left to itself runs oneDNN on that class."""
  # The capped classes lack the features it looks for; uncapped, it is this
  # machine that decides.
  return (CPU_CLASSES[cpu_class] is None and
          kernel_choice.tensorflow_turns_onednn_on())


def _run_in_setting(environment, data_dir, args, profile):
  """One round of compute_and_train (and profile) in a child process.

  Returns:
    The child's report lines by measurement name: CPU_CLASS_MEASUREMENTS,
    each with its 'windows', and with `profile` also 'profile_<graph>' for
    each of PROFILED_GRAPHS and 'ratios'.
  """
  env = dict(_quiet_env(), **environment)
  if 'ONEDNN_MAX_CPU_ISA' not in environment:
    env.pop('ONEDNN_MAX_CPU_ISA', None)
  command = [sys.executable, os.path.abspath(__file__), '--only',
             'compute,train' + (',profile' if profile else ''), '--rounds',
             '1', '--data_dir', data_dir,
             '--batch_size', str(args.batch_size), '--windows',
             str(args.windows), '--window_steps', str(args.window_steps),
             '--warmup_steps', str(args.warmup_steps)]
  result = subprocess.run(command, env=env, capture_output=True, text=True)
  if result.returncode:
    raise RuntimeError('%s failed:\n%s' % (' '.join(command),
                                           result.stderr[-2000:]))
  lines = [json.loads(line) for line in result.stdout.splitlines()
           if line.startswith('{')]
  return {line['measurement']: line for line in lines}


def measure_cpu_classes(data_dir, args):
  """compute_reference, compute and train under each CPU class's kernels.

  Each setting runs in its own process (TensorFlow fixes its kernels at
  import), one round per setting in turn, --rounds times, so that a slow
  spell of the machine falls on all settings alike.

  With `profile` in --only, each setting's child also profiles the steps;
  each part's milliseconds and PROFILE_RATIOS (see measure_profile) are
  reported as medians over the rounds.

  Returns:
    The ratios: per setting, compute / compute_reference and train /
    compute_reference (and PROFILE_RATIOS, if profiled); per class, train
    with this package's kernels over compute_reference (the original's ops)
    with TensorFlow's default kernels, and over train with Eigen where
    TensorFlow's default is Eigen.
  """
  settings = _cpu_class_settings()
  profile = 'profile' in args.only.split(',')
  runs = {name: [] for name, _, _, _ in settings}
  for _ in range(args.rounds):
    for name, _, _, environment in settings:
      runs[name].append(_run_in_setting(environment, data_dir, args, profile))
  medians = {}
  for name, cpu_class, kernels, environment in settings:
    medians[name] = {
        measurement: _median_rate([rate for run in runs[name]
                                   for rate in run[measurement]['windows']])
        for measurement in CPU_CLASS_MEASUREMENTS}
    report('cpu_class_' + name, cpu_class=cpu_class, kernels=kernels,
           environment=environment,
           **{measurement + '_examples_per_sec': median
              for measurement, median in medians[name].items()})
    for graph in PROFILED_GRAPHS if profile else ():
      lines = [run['profile_' + graph] for run in runs[name]]
      report('cpu_class_%s_profile_%s' % (name, graph), **{
          field: round(statistics.median(line[field] for line in lines), 2)
          for field in lines[0] if field.endswith('_ms')})
  ratios = {}
  for name, _, _, _ in settings:
    ratios['%s: compute / compute_reference' % name] = (
        medians[name]['compute'] / medians[name]['compute_reference'])
    ratios['%s: train / compute_reference' % name] = (
        medians[name]['train'] / medians[name]['compute_reference'])
    for ratio in PROFILE_RATIOS if profile else ():
      ratios['%s: %s' % (name, ratio)] = statistics.median(
          run['ratios'][ratio] for run in runs[name])
  for cpu_class in CPU_CLASSES:
    picks_onednn = _tensorflow_picks_onednn(cpu_class)
    tensorflow_default = medians[('onednn_' if picks_onednn else 'eigen_') +
                                 cpu_class]
    ours = medians['onednn_' + cpu_class]
    ratios['%s: train (ours) / compute_reference (TensorFlow default)'
           % cpu_class] = (ours['train'] /
                           tensorflow_default['compute_reference'])
    if not picks_onednn:
      ratios['%s: train onednn / train eigen' % cpu_class] = (
          ours['train'] / tensorflow_default['train'])
  return ratios


# ---------------------------------------------------------------------------
# What a ps cluster costs as it grows (--only cluster_cost)
# ---------------------------------------------------------------------------

# (ps tasks, workers) of the clusters cluster_cost runs on this machine.
CLUSTER_SHAPES = ((1, 1), (1, 2), (1, 4), (2, 2), (2, 4))
_CLOCK_TICKS = os.sysconf('SC_CLK_TCK')


def _tcp_bytes(pid):
  """(received, sent) bytes so far on the established TCP sockets of `pid`.

  Read from the kernel's counters for each connection (`ss -tip`): sent is
  what the peer acknowledged, so on loopback exactly what it received.
  """
  output = subprocess.run(['ss', '-tinpH', 'state', 'established'],
                          capture_output=True, text=True, check=True).stdout
  received = sent = 0
  owner = re.compile(r'pid=%d,' % pid)
  lines = output.splitlines()
  # Each socket is a line naming its process, then a line of counters.
  for socket_line, counters in zip(lines, lines[1:]):
    if owner.search(socket_line):
      received += _counter('bytes_received', counters)
      sent += _counter('bytes_acked', counters)
  return received, sent


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


def _run_cluster(data_dir, scratch, batch_size, args, num_ps, num_workers,
                 mode, partition):
  """Runs one cluster to its end, sampling each ps task at the chief's lines.

  Returns:
    One (seconds, global step, [(bytes received, bytes sent, CPU seconds)
    per ps task]) per log line of the chief, at least three.

  Raises:
    RuntimeError: a task failed, or the chief logged fewer than three lines
      (asynchronous workers share the lines out: raise --window_steps).
  """
  ports = _free_ports(num_ps + num_workers)
  common = ['--ps_hosts', ','.join('127.0.0.1:%d' % port
                                   for port in ports[:num_ps]),
            '--worker_hosts', ','.join('127.0.0.1:%d' % port
                                       for port in ports[num_ps:]),
            '--data_dir', data_dir, '--batch_size', str(batch_size),
            '--max_steps', str(args.window_steps * (args.windows + 1)),
            '--log_frequency', str(args.window_steps),
            '--partition_variables=%s' % str(partition).lower()]
  # Asynchronous workers need a smaller rate not to diverge (README).
  common += ['--sync_replicas'] if mode == 'sync' else [
      '--initial_learning_rate', '0.05']
  tag = '%s_%dps_%dw_%s' % (mode, num_ps, num_workers, partition)
  tasks = [subprocess.Popen(
      [sys.executable, '-m', 'cifar10.dist_train', '--job_name', job,
       '--task_index', str(index), '--train_dir',
       os.path.join(scratch, 'cost_%s_%s%d' % (tag, job, index))] + common,
      stdout=subprocess.PIPE if (job, index) == ('worker', 0) else
      subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
      env=_quiet_env())
           for job, count in (('ps', num_ps), ('worker', num_workers))
           for index in range(count)]
  ps_tasks, chief = tasks[:num_ps], tasks[num_ps]
  points, lines = [], []
  for line in chief.stdout:
    lines.append(line)
    logged = re.search(r': step (\d+), loss = ', line)
    if logged:
      points.append((time.perf_counter(), int(logged.group(1)),
                     [_tcp_bytes(task.pid) + (_cpu_seconds(task.pid),)
                      for task in ps_tasks]))
  for task in tasks:
    if task.wait():
      raise RuntimeError('dist_train %s failed:\n%s'
                         % (tag, ''.join(lines)[-2000:]))
  if len(points) < 3:
    raise RuntimeError('dist_train %s: the chief logged %d lines, too few to '
                       'time a window after the first; raise --window_steps.'
                       % (tag, len(points)))
  return points


def measure_cluster_cost(data_dir, scratch, batch_size, args):
  """Bytes held and moved by each ps task, and the cluster's speed, as it grows.

  For each of CLUSTER_SHAPES, asynchronous and synchronous, with the large
  variables split (on several ps tasks) and, for 2 ps tasks, whole too, it
  reports per ps task: the bytes of variables it holds; the bytes it
  received and sent per worker step, read from its TCP counters between the
  chief's first and last log lines (the first window, with the start-up, left
  out), beside the size of the trainable variables it holds (what a step
  would move if each worker read every variable once and sent each gradient
  once); and its CPU seconds per worker step. Then the cluster's
  examples/sec, summed over the workers. On one machine all tasks share its
  cores, so the bytes and the ps CPU time per step carry over to a real
  cluster; the examples/sec do not.
  """
  configurations = [
      (num_ps, num_workers, mode, partition)
      for mode in ('async', 'sync')
      for num_ps, num_workers in CLUSTER_SHAPES
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


def parse_args(argv):
  parser = argparse.ArgumentParser(
      description=__doc__.splitlines()[0],
      formatter_class=argparse.ArgumentDefaultsHelpFormatter)
  parser.add_argument('--data_dir', default=None,
                      help='A --data_dir with cifar-10-batches-bin/; default: '
                           'write full-size synthetic files to a temp folder.')
  parser.add_argument('--batch_size', type=int, default=128)
  parser.add_argument('--windows', type=int, default=5,
                      help='Timed windows per measurement (median reported).')
  parser.add_argument('--window_steps', type=int, default=20,
                      help='Training steps per timed window.')
  parser.add_argument('--warmup_steps', type=int, default=10)
  parser.add_argument('--rounds', type=int, default=5,
                      help='Alternating rounds of compute and train.')
  parser.add_argument('--startup_runs', type=int, default=3)
  parser.add_argument('--towers', type=lambda text: [int(t) for t in
                                                     text.split(',')],
                      default=[1, 2, 4], help='Tower counts for multi_gpu.')
  parser.add_argument('--only', default=','.join(ALL_MEASUREMENTS),
                      help='Comma-separated subset of: %s; or profile (where '
                      'the step time goes) or cpu_classes (compute_reference, '
                      'compute and train under each CPU class\'s kernels, each '
                      'in its own process; with profile, profiled there too) '
                      'or cluster_cost (bytes held and moved per ps task, and '
                      'examples/sec, as a ps cluster grows).'
                      % ', '.join(ALL_MEASUREMENTS))
  return parser.parse_args(argv)


def main(argv=None):
  args = parse_args(argv)
  only = set(args.only.split(','))
  kernel_choice.announce()
  report('machine', tensorflow=tf.__version__, python=platform.python_version(),
         cpus=os.cpu_count(),
         gpus=[gpu.name for gpu in tf.config.list_physical_devices('GPU')],
         intra_op_threads=tf.config.threading.get_intra_op_parallelism_threads(),
         inter_op_threads=tf.config.threading.get_inter_op_parallelism_threads(),
         onednn=os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'default'),
         onednn_in_use=kernel_choice.onednn_in_use(),
         onednn_max_cpu_isa=os.environ.get('ONEDNN_MAX_CPU_ISA', 'none'),
         batch_size=args.batch_size)
  with tempfile.TemporaryDirectory(prefix='cifar10_benchmark_') as scratch:
    data_dir = args.data_dir
    if data_dir is None:
      data_dir = os.path.join(scratch, 'data')
      synthetic.write_synthetic_dataset(data_dir, train_records_per_file=10000,
                                        test_records=10000)
    train_dir = os.path.join(scratch, 'train')
    ratios = {}
    if 'input' in only:
      measure_input(data_dir, args.batch_size, args)
    if only & {'compute', 'train'}:
      steps = measure_compute_and_train(
          data_dir, train_dir, args.batch_size, args,
          time_compute='compute' in only, time_train='train' in only)
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
    if 'eval' in only and 'train' in only:
      measure_eval(data_dir, train_dir, args.batch_size, args)
    if 'startup' in only:
      measure_startup(data_dir, scratch, args.batch_size, args)
    if 'profile' in only and 'cpu_classes' not in only:
      ratios.update(measure_profile(args.batch_size, args))
    if 'cpu_classes' in only:
      ratios.update(measure_cpu_classes(data_dir, args))
    if 'cluster_cost' in only:
      measure_cluster_cost(data_dir, scratch, args.batch_size, args)
    if 'options' in only:
      options = measure_options(data_dir, scratch, args.batch_size, args)
      for name, rate in options.items():
        if not name.endswith('no_option'):
          baseline = name.split('_')[0] + '_no_option'
          ratios['%s / %s' % (name, baseline)] = rate / options[baseline]
      if 'compute' in only:
        ratios['train_mixed_precision_bf16 / compute_reference'] = (
            options['train_mixed_precision_bf16'] / reference)
    report('ratios', **{name: round(value, 3)
                        for name, value in ratios.items()})
  return 0


if __name__ == '__main__':
  sys.exit(main())
