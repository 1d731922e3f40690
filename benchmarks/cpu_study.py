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
               oneDNN's instruction set; each setting runs benchmark.py in
               its own process (see measure_cpu_classes); with profile, the
               profile runs under each setting too
  histograms   what cifar10/support/histogram.py saves: the extra time of a summary
               step over a plain one, with its vectorised histograms and
               with TensorFlow's HistogramSummary op, in alternating rounds
               (see measure_histograms)

Each figure is printed as one JSON line, as benchmark.py prints its own.

    python benchmarks/cpu_study.py --only profile
    TF_ENABLE_ONEDNN_OPTS=0 python benchmarks/cpu_study.py --only histograms
    python benchmarks/cpu_study.py --only cpu_classes,profile \\
        --data_dir /tmp/cifar10_data
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

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

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
STUDIES = ('profile', 'cpu_classes', 'histograms')
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
  steps = {name: benchmark._constant_batch_step(
      batch_size, ('--inter_op_threads', '1'),
      reference_ops=name == 'compute_reference') for name in PROFILED_GRAPHS}
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
             '--warmup_steps', str(args.warmup_steps)]
  result = subprocess.run(command, env=env, capture_output=True, text=True)
  if result.returncode:
    raise RuntimeError('%s failed:\n%s' % (' '.join(command),
                                           result.stderr[-2000:]))
  lines = [json.loads(line) for line in result.stdout.splitlines()
           if line.startswith('{')]
  return {line['measurement']: line for line in lines}


def _run_in_setting(environment, data_dir, args, profile):
  """One round of benchmark.py's compute and train (and profile) in children.

  Returns:
    The children's report lines by measurement name: CPU_CLASS_MEASUREMENTS,
    each with its 'windows', and with `profile` also 'profile_<graph>' for
    each of PROFILED_GRAPHS and 'ratios' holding PROFILE_RATIOS.
  """
  lines = _run_child('benchmark.py', 'compute,train', environment, data_dir,
                     args)
  if profile:
    lines.update(_run_child('cpu_study.py', 'profile', environment, data_dir,
                            args))
  return lines


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
  profile = 'profile' in args.only
  runs = {name: [] for name, _, _, _ in settings}
  for _ in range(args.rounds):
    for name, _, _, environment in settings:
      runs[name].append(_run_in_setting(environment, data_dir, args, profile))
  medians = {}
  for name, cpu_class, kernels, environment in settings:
    medians[name] = {
        measurement: benchmark._median_rate(
            [rate for run in runs[name]
             for rate in run[measurement]['windows']])
        for measurement in CPU_CLASS_MEASUREMENTS}
    benchmark.report('cpu_class_' + name, cpu_class=cpu_class,
                     kernels=kernels, environment=environment,
                     **{measurement + '_examples_per_sec': median
                        for measurement, median in medians[name].items()})
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
  result = argparse.ArgumentParser(
      prog='python benchmarks/cpu_study.py', allow_abbrev=False,
      description=__doc__.splitlines()[1],
      formatter_class=argparse.ArgumentDefaultsHelpFormatter)
  result.add_argument('--only', type=_studies, default='profile',
                      help='Comma-separated subset of: %s.'
                      % ', '.join(STUDIES))
  result.add_argument('--data_dir', default=None,
                      help='For cpu_classes: a --data_dir with '
                           'cifar-10-batches-bin/; default: write full-size '
                           'synthetic files to a temp folder.')
  result.add_argument('--batch_size', type=int, default=128,
                      help='Images per training step.')
  result.add_argument('--windows', type=int, default=5,
                      help='Traced steps per graph (profile); timed windows '
                           'per measurement (cpu_classes); pairs of a plain '
                           'and a summary step per round (histograms).')
  result.add_argument('--window_steps', type=int, default=20,
                      help='Training steps per timed window (cpu_classes).')
  result.add_argument('--warmup_steps', type=int, default=10,
                      help='Untimed steps before the first window.')
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
      ratios.update(measure_cpu_classes(
          benchmark.data_dir_or_synthetic(args.data_dir, scratch), args))
  elif 'profile' in args.only:
    ratios.update(measure_profile(args.batch_size, args))
  if 'histograms' in args.only:
    ratios.update(measure_histograms(args.batch_size, args))
  benchmark.report('ratios', **{name: round(value, 3)
                                for name, value in ratios.items()})
  return 0


if __name__ == '__main__':
  sys.exit(main())
