#!/usr/bin/env python
"""Where the training step's time goes, and its speed on each x86 CPU class.

A study of this port's speed against the original's ops, beside
benchmarks/benchmark.py (which it runs):

  profile      where compute_reference's and compute's step time goes (see
               benchmark.py for those two constant-batch steps), ops run one
               at a time and traced: the convolutions, local response
               normalization, the rest; and the most compute /
               compute_reference could reach if this port's normalization
               took no time at all
  cpu_classes  compute_reference, compute and train under the kernels of
               each x86 CPU class, emulated on this machine by capping
               oneDNN's instruction set, with the float32 matmul peak under
               the same cap, so that each class is judged against its own
               peak; each setting runs benchmark.py in its own process (see
               measure_cpu_classes); with profile, the profile runs under
               each setting too
  step_parts   where the training step's time goes in float32 and in
               bfloat16 (--mixed_precision bf16), op by op: convolutions,
               casts, local response normalization, moving averages, the
               update, matrix multiplies, pooling, the element-wise rest,
               and the normalization's time by op type;
               the input pipeline's CPU time per batch; and, against the
               machine's matmul peak (benchmarks/roofline.py), the fraction
               of it the step reaches and would reach without each part
               (see measure_step_parts)
  histograms   what cifar10/support/histogram.py saves: the extra time of a summary
               step over a plain one, with its vectorised histograms and
               with TensorFlow's HistogramSummary op, in alternating rounds
               (see measure_histograms)

Each figure is printed as one JSON line, as benchmark.py prints its own.

    python benchmarks/cpu_study.py --only profile
    python benchmarks/cpu_study.py --only step_parts --data_dir /tmp/cifar10_data
    TF_ENABLE_ONEDNN_OPTS=0 python benchmarks/cpu_study.py --only histograms
    python benchmarks/cpu_study.py --only cpu_classes,profile \\
        --data_dir /tmp/cifar10_data
"""

import argparse
import json
import os
import re
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

import cifar10.train as train
from cifar10.support import histogram

# benchmark.py's helpers (the constant-batch step, the quiet child
# environment, medians) are this study's too, under their names there.
import benchmark  # pylint: disable=protected-access
from cifar10.support import kernel_choice
import roofline  # pylint: disable=g-import-not-at-top

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
STUDIES = ('profile', 'cpu_classes', 'step_parts', 'histograms')
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


def _layer_scope(node_name):
  """The layer's scope an op belongs to: 'norm1' for 'norm1/...' and for
  its gradient, 'gradients/norm1_grad/...' or 'gradients/norm1/..._grad'."""
  scopes = node_name.split('/')
  scope = scopes[1] if scopes[0] == 'gradients' and len(scopes) > 1 else (
      scopes[0])
  return scope.rsplit('_grad', 1)[0]


def _profile_part(node_name, op_type):
  """Which of PROFILE_PARTS a traced op belongs to, by its type and scope.

  Convolutions are known by type in either kernel family (Conv2D, the fused
  and oneDNN forms, and their gradients). Local response normalization is
  every op under the norm1 or norm2 scope and their gradients: tf.nn.lrn
  and LRNGrad in the original's graph, the matrix multiplies and elementwise
  work of cifar10/support/fast_ops.py in this port's.
  """
  if 'Conv2D' in op_type:
    return 'convolutions'
  if _layer_scope(node_name) in ('norm1', 'norm2'):
    return 'local response normalization'
  return 'rest'


# The training step's parts that `step_parts` tells apart, in the order a
# traced op is tried against them (see _step_part).
STEP_PARTS = ('convolutions', 'casts', 'local response normalization',
              'moving averages', 'update', 'matrix multiplies', 'pooling',
              'element-wise and the rest')
# The arithmetic `step_parts` traces the step in: (name, --mixed_precision).
STEP_PRECISIONS = (('float32', 'off'), ('bfloat16', 'bf16'))
# The scopes the two ExponentialMovingAverage objects of cifar10.train()
# build their updates under: the weights' ('ExponentialMovingAverage',
# '_1', '_2'... one per variable) and the loss terms' ('avg').
_MOVING_AVERAGE_SCOPE = re.compile(r'(ExponentialMovingAverage|avg)(_\d+)?$')


def _step_part(node_name, op_type):
  """Which of STEP_PARTS a traced op of the training step belongs to.

  By type: the convolutions (forward, both gradients, oneDNN's fused
  forms), the casts (which --mixed_precision bf16's rewrite puts around
  every op it runs in bfloat16, named after that op, so they are tried
  before the scopes), the matrix multiplies of local3, local4 and
  softmax_linear, and max pooling. By scope: the local response
  normalizations and their gradients (whatever ops compute them), the
  moving averages' updates, and the optimizer's 'GradientDescent' (the
  weights' update and the global step's increment). Everything else is
  element-wise or small: biases, ReLUs, the loss and its gradient, weight
  decay, the learning rate, gradient plumbing.
  """
  if 'Conv2D' in op_type:
    return 'convolutions'
  if op_type.endswith('Cast'):
    return 'casts'
  if _layer_scope(node_name) in ('norm1', 'norm2'):
    return 'local response normalization'
  top_scope = node_name.split('/')[0]
  if _MOVING_AVERAGE_SCOPE.match(top_scope):
    return 'moving averages'
  if top_scope == 'GradientDescent':
    return 'update'
  if 'MatMul' in op_type:
    return 'matrix multiplies'
  if 'MaxPool' in op_type:
    return 'pooling'
  return 'element-wise and the rest'


def _normalization_op(node_name, op_type):
  """The op type of a traced op of either local response normalization
  (forward or gradient), such as 'Rsqrt'; None for the step's other ops."""
  if _layer_scope(node_name) in ('norm1', 'norm2'):
    return op_type
  return None


def _traced_ops(session, fetch):
  """One traced run of `fetch`: (node name, op type, ms) of each op run."""
  metadata = tf.compat.v1.RunMetadata()
  session.run(fetch, options=tf.compat.v1.RunOptions(
      trace_level=tf.compat.v1.RunOptions.FULL_TRACE), run_metadata=metadata)
  # timeline_label reads 'name = OpType(inputs)'.
  return [(node.node_name,
           node.timeline_label.partition(' = ')[2].partition('(')[0],
           node.all_end_rel_micros / 1000)
          for device in metadata.step_stats.dev_stats
          for node in device.node_stats]


def _ms_by(ops, key_of, keys=()):
  """The milliseconds of traced `ops` summed by key_of(node name, op type).

  Every one of `keys` is in the result, 0.0 where no op has it; an op whose
  key is None is left out.
  """
  times = dict.fromkeys(keys, 0.0)
  for node_name, op_type, ms in ops:
    key = key_of(node_name, op_type)
    if key is not None:
      times[key] = times.get(key, 0.0) + ms
  return times


def _traced_medians(steps, args, parts=PROFILE_PARTS, part_of=_profile_part,
                    detail_of=None):
  """Traces each constant-batch step; the medians of its parts, then closes it.

  Args:
    steps: {name: (session, train_op)}, built with one inter-op thread.
    args: --warmup_steps untimed steps each, then --windows traced steps
      each, interleaved so that a slow moment falls on all alike.
    parts, part_of: the parts a step is split into, and the function of
      (node name, op type) that names each traced op's part (_ms_by).
    detail_of: None, or a finer key_of for _ms_by (such as
      _normalization_op), whose medians are given too.

  Returns:
    {name: {part: median ms of that part, ..., 'step': median ms of whole
    steps}}, and with detail_of, 'details': {key: median ms}, each over the
    steps that ran an op of that key; each part is its own median, so they
    add up to the step only roughly.
  """
  for session, train_op in steps.values():
    for _ in range(args.warmup_steps):
      session.run(train_op)
  traced = {name: [] for name in steps}
  for _ in range(args.windows):
    for name, (session, train_op) in steps.items():
      traced[name].append(_traced_ops(session, train_op))
  medians = {}
  for name, (session, _) in steps.items():
    session.close()
    by_part = [_ms_by(ops, part_of, parts) for ops in traced[name]]
    medians[name] = {part: statistics.median(step[part] for step in by_part)
                     for part in parts}
    medians[name]['step'] = statistics.median(sum(step.values())
                                              for step in by_part)
    if detail_of:
      by_detail = [_ms_by(ops, detail_of) for ops in traced[name]]
      medians[name]['details'] = {
          key: statistics.median(step[key] for step in by_detail
                                 if key in step)
          for key in sorted(set().union(*by_detail))}
  return medians


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
  steps = {name: benchmark._constant_batch_step(
      batch_size, ('--inter_op_threads', '1'),
      reference_ops=name == 'compute_reference') for name in PROFILED_GRAPHS}
  medians = _traced_medians(steps, args)
  for name in steps:
    benchmark.report('profile_' + name, traced_steps=args.windows,
                     inter_op_threads=1,
                     **{part.replace(' ', '_') + '_ms': round(ms, 2)
                        for part, ms in medians[name].items()})
  without_lrn = (medians['compute']['step'] -
                 medians['compute']['local response normalization'])
  traced, bound = PROFILE_RATIOS
  return {traced: (medians['compute_reference']['step'] /
                   medians['compute']['step']),
          bound: medians['compute_reference']['step'] / without_lrn}


def _input_cpu_ms_per_batch(data_dir, batch_size, args):
  """CPU milliseconds the training input pipeline spends on one batch.

  The pipeline alone (benchmark.py's input_train): this process's CPU time,
  all threads, over --windows x --window_steps batches after the warm-up.
  In training it runs on the step's own cores, so that much of their time
  goes to it.
  """
  session, images = benchmark._training_input(
      benchmark.batch_files.batches_dir(data_dir), batch_size,
      reference_ops=False)
  with session:
    for _ in range(args.warmup_steps):
      session.run(images)
    batches = args.windows * args.window_steps
    start = time.process_time()
    for _ in range(batches):
      session.run(images)
    return 1000 * (time.process_time() - start) / batches


def measure_step_parts(data_dir, batch_size, args):
  """Where the training step's time goes, float32 and bfloat16, op by op.

  The constant-batch step as cifar10.train builds it (benchmark.py's
  `compute`: no input pipeline, no summaries), once per STEP_PRECISIONS
  entry, with one inter-op thread so that its ops run in turn, each on every
  core, and their traced times add up to the step. --windows traced steps
  per precision, interleaved, after the warm-up; each part's figure is its
  median. Before them, the same step untraced with TensorFlow's own thread
  pools, as the trainers run it (--windows windows of --window_steps steps;
  the median), which tracing and running one op at a time make longer.
  The input pipeline's CPU time per batch is measured alone after.

  Against the matmul peak in the step's arithmetic (benchmark.py's `peak`,
  reported too; bfloat16 only where the CPU multiplies it natively): the traced step's
  fraction of the peak; each kernel kind's own fraction (the convolutions'
  and the matrix multiplies' FLOP over their traced milliseconds); and the
  bound each part sets, the fraction the step would reach if that part
  took no time at all.

  Returns:
    {'<precision>: traced step / peak': the fraction} for each precision
    with a peak.
  """
  flops = {kind: count * batch_size
           for kind, count in roofline.training_flops_by_kind().items()}
  step_flops = sum(flops.values())
  peaks = benchmark.measure_peak(args)
  # First the step as the trainers run it (TensorFlow's thread pools,
  # untraced), in timed windows: what the traced parts are shares of.
  untraced = [benchmark._constant_batch_step(
      batch_size, ('--mixed_precision', flag)) for _, flag in STEP_PRECISIONS]
  untraced_ms = {
      name: 1000 * batch_size / statistics.median(rates)
      for (name, _), rates in zip(STEP_PRECISIONS, benchmark._window_rates(
          untraced, batch_size, args.windows, args.window_steps,
          args.warmup_steps))}
  for session, _ in untraced:
    session.close()
  steps = {name: benchmark._constant_batch_step(
      batch_size, ('--inter_op_threads', '1', '--mixed_precision', flag))
           for name, flag in STEP_PRECISIONS}
  medians = _traced_medians(steps, args, STEP_PARTS, _step_part,
                            detail_of=_normalization_op)
  input_cpu_ms = _input_cpu_ms_per_batch(data_dir, batch_size, args)
  ratios = {}
  for name, step_medians in medians.items():
    parts = {part: step_medians[part] for part in STEP_PARTS}
    step_ms = step_medians['step']
    fields = {'traced_steps': args.windows, 'inter_op_threads': 1,
              'untraced_step_ms': round(untraced_ms[name], 2),
              'step_ms': round(step_ms, 2),
              'parts_ms': {part: round(ms, 2) for part, ms in parts.items()},
              # Which of its ops make the normalization's time, and whether
              # bfloat16 makes them faster: the part that does not shrink
              # with the peak (docs/speed.md).
              'normalization_ops_ms': {
                  op_type: round(ms, 3)
                  for op_type, ms in step_medians['details'].items()},
              'input_pipeline_cpu_ms': round(input_cpu_ms, 2)}
    if name in peaks:
      def fraction(ms, flop=step_flops, peak=peaks[name]):
        return flop / (ms / 1000) / 1e9 / peak
      fields.update(
          peak_gflops=round(peaks[name], 1),
          fraction_of_peak=round(fraction(step_ms), 3),
          untraced_fraction_of_peak=round(fraction(untraced_ms[name]), 3),
          kernel_fraction_of_peak={kind: round(fraction(parts[kind], count), 3)
                                   for kind, count in flops.items()},
          fraction_of_peak_without={
              part: round(fraction(step_ms - ms), 3)
              for part, ms in parts.items()})
      ratios['%s: traced step / peak' % name] = fraction(step_ms)
    benchmark.report('step_parts_' + name, **fields)
  return ratios


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


def _run_child(script, only, environment, data_dir, args):
  """Runs `script --only only` in `environment`; its report lines by name."""
  env = dict(benchmark._quiet_env(), **environment)
  if 'ONEDNN_MAX_CPU_ISA' not in environment:
    env.pop('ONEDNN_MAX_CPU_ISA', None)
  command = [sys.executable, os.path.join(SCRIPTS, script), '--only', only,
             '--rounds', '1', '--data_dir', data_dir,
             '--batch_size', str(args.batch_size), '--windows',
             str(args.windows), '--window_steps', str(args.window_steps),
             '--warmup_steps', str(args.warmup_steps), '--peak_size',
             str(args.peak_size)]
  result = subprocess.run(command, env=env, capture_output=True, text=True)
  if result.returncode:
    raise RuntimeError('%s failed:\n%s' % (' '.join(command),
                                           result.stderr[-2000:]))
  lines = [json.loads(line) for line in result.stdout.splitlines()
           if line.startswith('{')]
  return {line['measurement']: line for line in lines}


def _run_in_setting(environment, data_dir, args, profile):
  """One round of the setting's children: peak, compute, train (and profile).

  Returns:
    The children's report lines by measurement name: 'peak', and
    CPU_CLASS_MEASUREMENTS, each with its 'windows', and with `profile` also
    'profile_<graph>' for each of PROFILED_GRAPHS and 'ratios' holding
    PROFILE_RATIOS.
  """
  lines = _run_child('benchmark.py', 'peak,compute,train', environment,
                     data_dir, args)
  if profile:
    lines.update(_run_child('cpu_study.py', 'profile', environment, data_dir,
                            args))
  return lines


def _setting_figures(runs):
  """One setting's figures over its rounds, each against its own peak.

  Args:
    runs: _run_in_setting's lines, one dict per round.

  Returns:
    {'float32_peak_gflops': the median of the rounds' peaks,
     '<measurement>_examples_per_sec': the median of all rounds' windows,
     '<measurement>_fraction_of_peak': that rate's GFLOP/s over the peak}
    for each of CPU_CLASS_MEASUREMENTS.
  """
  peak = statistics.median(run['peak']['float32_gflops'] for run in runs)
  figures = {'float32_peak_gflops': round(peak, 1)}
  for measurement in CPU_CLASS_MEASUREMENTS:
    rate = benchmark._median_rate([window for run in runs
                                   for window in run[measurement]['windows']])
    figures[measurement + '_examples_per_sec'] = rate
    figures[measurement + '_fraction_of_peak'] = round(
        roofline.gflops(rate) / peak, 3)
  return figures


def measure_cpu_classes(data_dir, args):
  """compute_reference, compute and train under each CPU class's kernels.

  Each setting runs in its own process (TensorFlow fixes its kernels at
  import), one round per setting in turn, --rounds times, so that a slow
  spell of the machine falls on all settings alike.

  Each child also measures the float32 matmul peak under its setting's cap
  (benchmarks/roofline.py): each measurement is reported as a fraction of
  that peak (the median over the rounds), the class's own ceiling, which is
  what the step's fraction is judged against on that class.

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
  profile = 'profile' in args.only
  runs = {name: [] for name, _, _, _ in settings}
  for _ in range(args.rounds):
    for name, _, _, environment in settings:
      runs[name].append(_run_in_setting(environment, data_dir, args, profile))
  medians = {}
  for name, cpu_class, kernels, environment in settings:
    fields = _setting_figures(runs[name])
    medians[name] = {measurement: fields[measurement + '_examples_per_sec']
                     for measurement in CPU_CLASS_MEASUREMENTS}
    benchmark.report('cpu_class_' + name, cpu_class=cpu_class,
                     kernels=kernels, environment=environment,
                     peak_matmul_size=args.peak_size, **fields)
    for graph in PROFILED_GRAPHS if profile else ():
      lines = [run['profile_' + graph] for run in runs[name]]
      benchmark.report('cpu_class_%s_profile_%s' % (name, graph), **{
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


def _summary_step_graph(batch_size, vectorised):
  """The constant-batch step and its merged summaries, histograms chosen.

  `vectorised`: bin big tensors with cifar10/support/histogram.py's vectorised ops
  (as the trainers do), or every tensor with TensorFlow's HistogramSummary.
  """
  default = histogram.VECTORISED_FROM
  histogram.VECTORISED_FROM = default if vectorised else float('inf')
  try:
    session, train_op = benchmark._constant_batch_step(batch_size)  # pylint: disable=protected-access
    with session.graph.as_default():
      summaries = tf.compat.v1.summary.merge_all()
  finally:
    histogram.VECTORISED_FROM = default
  return session, train_op, summaries


def measure_histograms(batch_size, args):
  """The time a summary step adds, with and without vectorised histograms.

  Each round runs, for each form in turn, --windows pairs of a plain step
  and a summary step (the step with the merged summaries) and takes the
  median difference; then the median over --rounds. The saving is given as
  a share of training time at the trainers' default --save_summaries_steps
  (a summary step in that many).

  Returns:
    {'histogram saving / training time': the share}.
  """
  forms = {'vectorised': _summary_step_graph(batch_size, True),
           'tensorflow': _summary_step_graph(batch_size, False)}
  for session, train_op, summaries in forms.values():
    for _ in range(args.warmup_steps):
      session.run(train_op)
    session.run([train_op, summaries])
  extra = {name: [] for name in forms}
  steps = []
  for _ in range(args.rounds):
    for name, (session, train_op, summaries) in forms.items():
      differences = []
      for _ in range(args.windows):
        start = time.perf_counter()
        session.run(train_op)
        middle = time.perf_counter()
        session.run([train_op, summaries])
        end = time.perf_counter()
        differences.append((end - middle) - (middle - start))
        steps.append(middle - start)
      extra[name].append(statistics.median(differences))
  for session, _, _ in forms.values():
    session.close()
  extra_ms = {name: 1000 * statistics.median(values)
              for name, values in extra.items()}
  step_ms = 1000 * statistics.median(steps)
  every = train.parser().get_default('save_summaries_steps')
  benchmark.report('histograms', step_ms=round(step_ms, 2),
                   summary_step_extra_ms={name: round(value, 1)
                                          for name, value in extra_ms.items()},
                   save_summaries_steps=every)
  return {'histogram saving / training time': (
      extra_ms['tensorflow'] - extra_ms['vectorised']) / (every * step_ms)}


def _studies(text):
  """--only's value as a set of STUDIES names; ArgumentTypeError if unknown."""
  names = set(text.split(','))
  unknown = sorted(names - set(STUDIES))
  if unknown:
    raise argparse.ArgumentTypeError(
        'unknown study %s: choose from %s (the other measurements are '
        'benchmarks/benchmark.py\'s)' % (', '.join(unknown), ','.join(STUDIES)))
  return names


def parser():
  """The script's flags."""
  result = flags.Parser(
      prog='python benchmarks/cpu_study.py',
      description=__doc__.splitlines()[0])
  result.add_argument('--only', type=_studies, default='profile',
                      help='Comma-separated subset of: %s.'
                      % ', '.join(STUDIES))
  result.add_argument('--data_dir', type=flags.non_empty_path(), default=None,
                      help='For cpu_classes and step_parts: a --data_dir with '
                           'cifar-10-batches-bin/; default: write full-size '
                           'synthetic files to a temp folder.')
  result.add_argument('--batch_size', type=int, default=128,
                      help='Images per training step.')
  result.add_argument('--windows', type=int, default=5,
                      help='Traced steps per graph (profile, step_parts) '
                           'and windows of the peak (step_parts, '
                           'cpu_classes); timed windows per measurement '
                           '(cpu_classes); pairs of '
                           'a plain and a summary step per round '
                           '(histograms).')
  result.add_argument('--window_steps', type=int, default=20,
                      help='Training steps per timed window (cpu_classes); '
                           'batches per window of the input pipeline\'s '
                           'CPU time (step_parts).')
  result.add_argument('--warmup_steps', type=int, default=10,
                      help='Untimed steps before the first window.')
  result.add_argument('--peak_size', type=int, default=4096,
                      help='For step_parts and cpu_classes: the matmul that '
                           'measures the peak is this many rows and columns '
                           'square.')
  result.add_argument('--rounds', type=int, default=5,
                      help='Rounds over all settings (cpu_classes) or both '
                           'forms (histograms).')
  return result


def parse_args(argv):
  return parser().parse_args(argv)


def main(argv=None):
  args = parse_args(argv)
  benchmark.report_machine(args.batch_size)
  ratios = {}
  if 'cpu_classes' in args.only:
    with tempfile.TemporaryDirectory(prefix='cifar10_cpu_study_') as scratch:
      data_dir = benchmark.data_dir_or_synthetic(args.data_dir, scratch)
      benchmark.report_data(data_dir, args.data_dir is None, args)
      ratios.update(measure_cpu_classes(data_dir, args))
  elif 'profile' in args.only:
    ratios.update(measure_profile(args.batch_size, args))
  if 'step_parts' in args.only:
    with tempfile.TemporaryDirectory(prefix='cifar10_cpu_study_') as scratch:
      data_dir = benchmark.data_dir_or_synthetic(args.data_dir, scratch)
      benchmark.report_data(data_dir, args.data_dir is None, args)
      ratios.update(measure_step_parts(data_dir, args.batch_size, args))
  if 'histograms' in args.only:
    ratios.update(measure_histograms(args.batch_size, args))
  benchmark.report('ratios', **{name: round(value, 3)
                                for name, value in ratios.items()})
  return 0


if __name__ == '__main__':
  sys.exit(main())
