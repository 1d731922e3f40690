#!/usr/bin/env python
"""Writes the docs' speed and cluster tables from the benchmarks' output.

benchmarks/benchmark.py and benchmarks/cpu_study.py print one JSON line per
measurement; saved to a file, those lines are the figures, and this script
turns them into the markdown the documents show, with the machine,
TensorFlow version, data, steps and date they were measured with:

    python benchmarks/benchmark.py --data_dir /tmp/cifar10_data > docs/results/speed.jsonl
    python benchmarks/benchmark_tables.py speed docs/results/speed.jsonl
    python benchmarks/benchmark_tables.py --update docs/speed.md docs/distributed.md

Tables: `speed` (from benchmarks/benchmark.py: examples/sec of each trainer
and the evaluator), `options` (from it too: each speed flag against none),
`histograms` (benchmarks/cpu_study.py's
histograms study, one file per kernel setting), `step_parts` (its
step_parts study: the training step's time by part, float32 and
bfloat16), `cpu_classes` (its cpu_classes study: each emulated CPU class's
speed against its own matmul peak), `cluster_cost` (a ps cluster's bytes and
CPU time per step; `--only cluster_cost`), `cluster_link` (a ps task behind
a slow link; `--only cluster_link`), and `paper_model` (from a
cluster_cost file and a speed file: how many workers a ps task serves on a
link of 1, 10 and 25 Gb/s). In a document, a table is the text between
`<!-- benchmark_tables: TABLE FILE... begin -->` and the matching `end`
line, FILE relative to the document; --update rewrites each such block
from its files, and tests/test_benchmark_tables.py checks that every block
is this script's output.
"""

import argparse
import json
import math
import os
import re
import sys

BLOCK = re.compile(r'(<!-- benchmark_tables: (\w+) ([^>]*?) begin -->\n)'
                   r'.*?(<!-- benchmark_tables: \2 \3 end -->)', re.S)
# The links the paper model is worked out for, in Gb/s.
LINKS_GBPS = (1, 10, 25)
# The cluster size the paper model sizes the ps tasks for.
MANY_WORKERS = 100


def parser():
  """The script's flags."""
  # The module docstring's paragraph on the tables, which says which
  # script's output each reads, as the help's last words.
  tables = __doc__[__doc__.index('Tables:'):].split('\n\n')[0]
  result = argparse.ArgumentParser(
      prog='python benchmarks/benchmark_tables.py', allow_abbrev=False,
      description=__doc__.splitlines()[0], epilog=tables,
      formatter_class=argparse.RawDescriptionHelpFormatter)
  result.add_argument('table', nargs='?', choices=sorted(TABLES),
                      help='The table to print.')
  result.add_argument('files', nargs='*',
                      help='Its benchmark output files (JSON lines).')
  result.add_argument('--update', nargs='+', metavar='DOCUMENT', default=(),
                      help='Rewrite the tables in these markdown files.')
  return result


def read_results(path):
  """{measurement name: [its JSON objects, in order]} of one benchmark file.

  Raises:
    ValueError: a line of `path` is not JSON, or the file has no 'machine'
      line (what the figures were measured on).
  """
  results = {}
  with open(path) as lines:
    for number, line in enumerate(lines, 1):
      try:
        record = json.loads(line)
      except json.JSONDecodeError:
        raise ValueError('%s, line %d: not a benchmark JSON line' % (path,
                                                                      number))
      results.setdefault(record['measurement'], []).append(record)
  if 'machine' not in results:
    raise ValueError('%s has no "machine" line: save the whole output of '
                     'benchmarks/benchmark.py' % path)
  return results


def measured_where(results, windows=True):
  """One sentence: the machine, TensorFlow, data, steps timed and date.

  `windows`: whether to say how the rates were timed (the timed windows);
  the cluster table counts its steps per cluster instead.
  """
  machine = results['machine'][0]
  data = results.get('data', [{}])[0]
  kernels = 'oneDNN' if machine['onednn_in_use'] else 'Eigen'
  cpu = machine['cpu']
  if 'cpu_family' in machine:  # Not in the files measured before it was.
    cpu += ', family %d model %d' % (machine['cpu_family'],
                                     machine['cpu_model_number'])
  where = ('Measured on %s (%s; %d cores), TensorFlow %s with %s kernels, '
           'batch %d, %s' % (cpu,
                             ', '.join(machine['cpu_features']) or 'no AVX2',
                             machine['cores'], machine['tensorflow'], kernels,
                             machine['batch_size'], machine['date']))
  if data:
    where += '; %s data, %s training and %s test images' % (
        'synthetic' if data['source'] == 'synthetic' else 'real',
        '{:,}'.format(data['training_images']),
        '{:,}'.format(data['test_images']))
    if windows:
      where += '; medians of %d windows of %d steps after %d warm-up steps' % (
          data['windows'], data['window_steps'], data['warmup_steps'])
  return where + '.'


def _rate(results, name):
  """The examples/sec of measurement `name`, or None if it was not run."""
  return results[name][0]['examples_per_sec'] if name in results else None


def speed_table(results):
  """The speed table: each trainer's step as sec/batch and examples/sec."""
  batch = results['machine'][0]['batch_size']
  rows = [('the original\'s ops on a constant batch (`compute_reference`)',
           'compute_reference', True),
          ('this port\'s step on a constant batch (`compute`)', 'compute',
           True),
          ('`cifar10.train`', 'train', True),
          ('`cifar10.train --mixed_precision bf16`',
           'train_mixed_precision_bf16', True)]
  rows += [('`multi_gpu_train --num_gpus %s --virtual_devices`'
            % name.rpartition('_')[2], name, True)
           for name in sorted(results) if name.startswith('multi_gpu_')]
  rows += [('`dist_train`, 1 ps + 2 workers, asynchronous (summed)',
            'dist_async', False),
           ('`dist_train`, 1 ps + 2 workers, `--sync_replicas` (summed)',
            'dist_sync', False),
           ('`cifar10.eval` over the test set, graph and restore included',
            'eval', False)]
  roofline = results['roofline'][0] if 'roofline' in results else None
  where = measured_where(results)
  rounds = results.get('data', [{}])[0].get('rounds', 1)
  if rounds > 1:
    where += (' `compute_reference`, `compute` and `train` were timed in %d '
              'alternating rounds of those windows, each figure the median '
              'of all %d.' % (rounds, rounds * results['data'][0]['windows']))
  lines = [where, '']
  if roofline:
    peak = results['peak'][0]
    lines += ['This machine\'s own ceiling, a %dx%d matmul in TensorFlow: '
              '%s GFLOP/s in float32%s. A training image costs %.1f MFLOP '
              '(benchmarks/roofline.py); "of peak" is a row\'s GFLOP/s over '
              'the peak in its arithmetic.' % (
                  peak['matmul_size'], peak['matmul_size'],
                  '{:,.0f}'.format(peak['float32_gflops']),
                  ', %s in bfloat16' % '{:,.0f}'.format(
                      peak['bfloat16_gflops'])
                  if 'bfloat16_gflops' in peak else
                  ' (no native bfloat16 on this CPU)',
                  roofline['flop_per_image'] / 1e6), '',
              '| what | sec/batch | examples/sec | GFLOP/s | of peak |',
              '|---|---:|---:|---:|---:|']
  else:
    lines += ['| what | sec/batch | examples/sec |', '|---|---:|---:|']
  for label, name, per_batch in rows:
    rate = _rate(results, name)
    if rate is not None:
      row = '| %s | %s | %s |' % (
          label, '%.3f' % (batch / rate) if per_batch else '—',
          '{:,.0f}'.format(rate))
      if roofline:
        figure = roofline.get(name)
        row += (' %s | %.2f (%s) |' % ('{:,.0f}'.format(figure['gflops']),
                                       figure['fraction_of_peak'],
                                       figure['peak'])
                if figure else ' — | — |')
      lines.append(row)
  bfloat16 = _rate(results, 'train_mixed_precision_bf16')
  baseline = _rate(results, 'train_no_option')
  if bfloat16 and baseline:
    # The options measurement times each flag beside a run without flags
    # of its own: the ratio that counts is to that run, not to `train`.
    lines += ['', 'The `--mixed_precision bf16` row is the `options` '
              'measurement\'s, timed beside `cifar10.train` without flags '
              'at %s examples/sec: %.2f times as fast.' % (
                  '{:,.0f}'.format(baseline), bfloat16 / baseline)]
  if 'startup' in results:
    startup = results['startup'][0]
    lines += ['', 'Start-up: `cifar10.train`\'s first step ended %.2f s after '
              'its process started, %.2f s after `python -c \'import '
              'tensorflow\'` would have (%.2f s); medians of %d runs.' % (
                  startup['first_step_secs'], startup['extra_secs'],
                  startup['import_tensorflow_secs'], startup['runs'])]
  if 'memory' in results:
    lines += ['', 'Peak resident memory of `cifar10.train`: %d MB.'
              % results['memory'][0]['peak_rss_mb']]
  return lines


def options_table(results):
  """Each speed flag's `cifar10.train` against the same run without flags."""
  baseline = _rate(results, 'train_no_option')
  lines = [measured_where(results), '',
           '| flag | `cifar10.train` with it / without | examples/sec with '
           'it, without |', '|---|---:|---:|']
  for name in sorted(results):
    if name.startswith('train_') and name != 'train_no_option' and (
        name != 'train_compute_rounds'):
      rate = _rate(results, name)
      flag = name[len('train_'):]
      flag = '`--%s`' % re.sub(r'_(bf16|1)$', r' \1', flag)
      lines.append('| %s | %.2fx | %s, %s |' % (
          flag, rate / baseline, '{:,.0f}'.format(rate),
          '{:,.0f}'.format(baseline)))
  return lines


def _megabytes(count):
  return '%.2f' % (count / 1e6)


def cluster_cost_table(results):
  """Per cluster: each ps task's bytes held and moved, CPU time, speed."""
  lines = [measured_where(results, windows=False) + ' Counted between the '
           'second and the last step the workers logged.', '',
           '| ps tasks | workers | mode | `local3/weights` split | MB held, '
           'per ps task | MB received / sent per worker step, per ps task | '
           'received, sent / trainable bytes held | ps CPU ms per worker '
           'step | worker steps counted | examples/sec, summed (see below) |',
           '|---:|---:|---|---|---|---|---|---|---:|---:|']
  for row in results.get('cluster_cost', []):
    tasks = row['ps_tasks']
    lines.append('| %d | %d | %s | %s | %s | %s | %s | %s | %d | %s |' % (
        row['ps'], row['workers'],
        'sync' if row['mode'] == 'sync' else 'async',
        'yes' if row['partitioned'] else 'no',
        ', '.join(_megabytes(task['held_bytes']) for task in tasks),
        ', '.join('%s / %s' % (_megabytes(task['received_per_worker_step']),
                               _megabytes(task['sent_per_worker_step']))
                  for task in tasks),
        ', '.join('%.2f, %.2f' % (task['received / trainable'],
                                  task['sent / trainable']) for task in tasks),
        ', '.join('%.1f' % task['cpu_ms_per_worker_step'] for task in tasks),
        row['worker_steps'], '{:,.0f}'.format(row['examples_per_sec'])))
  return lines


def cluster_link_table(results):
  """Each cluster behind a limited link, against the ceiling it predicts."""
  lines = [measured_where(results, windows=False) + ' One ps task in its own '
           'network namespace, its veth pair limited by tc.', '',
           '| workers | link, each way | MB sent by the ps per worker step | '
           'examples/sec the link allows | examples/sec measured | measured / '
           'allowed | worker steps counted |', '|---:|---:|---:|---:|---:|---:|---:|']
  for row in results.get('cluster_link', []):
    lines.append('| %d | %d Mbit/s | %s | %s | %s | %.2f | %d |' % (
        row['workers'], row['link_mbit'],
        _megabytes(row['sent_per_worker_step']),
        '{:,.0f}'.format(row['link_ceiling_examples_per_sec']),
        '{:,.0f}'.format(row['examples_per_sec']),
        row['examples_per_sec'] / row['link_ceiling_examples_per_sec'],
        row['worker_steps']))
  return lines


def histograms_table(*runs):
  """What the vectorised histograms save, one row per run of the study."""
  lines = ['`python benchmarks/cpu_study.py --only histograms`, once per row. %s'
           % measured_where(runs[0], windows=False), '',
           '| kernels | step, ms | a summary step\'s extra ms: vectorised '
           'histograms | with TensorFlow\'s HistogramSummary | saved, share '
           'of training time |', '|---|---:|---:|---:|---:|']
  for results in runs:
    row = results['histograms'][0]
    machine = results['machine'][0]
    extra = row['summary_step_extra_ms']
    lines.append('| %s%s | %.1f | %.0f | %.0f | %.1f%% (a summary every %d '
                 'steps) |' % (
                     'oneDNN' if machine['onednn_in_use'] else 'Eigen',
                     ' (`TF_ENABLE_ONEDNN_OPTS=%s`)' % machine['onednn']
                     if machine['onednn'] != 'default' else '',
                     row['step_ms'], extra['vectorised'], extra['tensorflow'],
                     100 * results['ratios'][0][
                         'histogram saving / training time'],
                     row['save_summaries_steps']))
  return lines


def _fraction(row, field, key=None):
  """A fraction of the peak from a step_parts row, or '—' without a peak."""
  if field not in row:
    return '—'
  value = row[field] if key is None else row[field][key]
  return '%.2f' % value


def step_parts_table(results):
  """The training step's traced time by part, float32 beside bfloat16."""
  precisions = [name for name in ('float32', 'bfloat16')
                if 'step_parts_' + name in results]
  rows = {name: results['step_parts_' + name][0] for name in precisions}
  cores = results['machine'][0]['cores']
  first = rows[precisions[0]]
  lines = ['`python benchmarks/cpu_study.py --only step_parts`: the step as '
           '`cifar10.train` builds it on a constant batch, one op at a time '
           '(one inter-op thread), medians of %d traced steps; "without it" '
           'is the fraction of the peak the step would reach if that part '
           'took no time. %s' % (first['traced_steps'],
                                 measured_where(results, windows=False)), '']
  header = '| part |'
  rule = '|---|'
  for name in precisions:
    header += ' %s: ms | share | of peak without it |' % name
    rule += '---:|---:|---:|'
  lines += [header, rule]
  for part in first['parts_ms']:
    line = '| %s |' % part
    for name in precisions:
      row = rows[name]
      ms = row['parts_ms'][part]
      line += ' %.2f | %.0f%% | %s |' % (
          ms, 100 * ms / row['step_ms'],
          _fraction(row, 'fraction_of_peak_without', part))
    lines.append(line)
  line = '| **the step** (its fraction of the peak) |'
  for name in precisions:
    row = rows[name]
    line += ' **%.2f** | 100%% | **%s** |' % (
        row['step_ms'], _fraction(row, 'fraction_of_peak'))
  lines.append(line)
  line = ('| the same step untraced, as the trainers run it (its fraction '
          'of the peak) |')
  for name in precisions:
    row = rows[name]
    line += ' %.2f | | %s |' % (row['untraced_step_ms'],
                                _fraction(row, 'untraced_fraction_of_peak'))
  lines.append(line)
  line = ('| the input pipeline, alone: CPU ms per batch (share of the '
          'untraced step\'s %d cores) |' % cores)
  for name in precisions:
    row = rows[name]
    line += ' %.2f | %.1f%% | |' % (
        row['input_pipeline_cpu_ms'],
        100 * row['input_pipeline_cpu_ms'] / (cores *
                                              row['untraced_step_ms']))
  lines.append(line)
  peaks = results['peak'][0]
  lines += ['', '| kernels | %s |' % ' | '.join(
      '%s: of the %s peak (%s GFLOP/s)' % (
          name, name, '{:,.0f}'.format(peaks[name + '_gflops']))
      if name + '_gflops' in peaks else '%s: no native peak' % name
      for name in precisions),
            '|---|%s' % ('---:|' * len(precisions))]
  for kind in ('convolutions', 'matrix multiplies'):
    lines.append('| %s | %s |' % (kind, ' | '.join(
        _fraction(rows[name], 'kernel_fraction_of_peak', kind)
        for name in precisions)))
  return lines + _normalization_ops_table(rows, precisions)


def _normalization_ops_table(rows, precisions):
  """The step_parts table's last: the normalization's ms by op type, the
  float32 step's largest first; [] for a file measured before the study
  recorded them."""
  if not all('normalization_ops_ms' in rows[name] for name in precisions):
    return []
  by_op = {name: rows[name]['normalization_ops_ms'] for name in precisions}
  first = by_op[precisions[0]]
  op_types = sorted(set().union(*by_op.values()),
                    key=lambda op_type: (-first.get(op_type, 0.0), op_type))
  lines = ['', '| the normalization\'s ops (norm1 and norm2, forward and '
           'gradient), by type | %s |' % ' | '.join(
               '%s: ms' % name for name in precisions),
           '|---|%s' % ('---:|' * len(precisions))]
  for op_type in op_types:
    lines.append('| `%s` | %s |' % (op_type, ' | '.join(
        '%.2f' % by_op[name][op_type] if op_type in by_op[name] else '—'
        for name in precisions)))
  return lines


def cpu_classes_table(results):
  """Each emulated x86 CPU class's training speed against its own peak."""
  rows = [lines[0] for name, lines in results.items()
          if name.startswith('cpu_class_') and
          'float32_peak_gflops' in lines[0]]
  if not rows:
    raise ValueError('no cpu_class_ lines with a peak: save the output of '
                     'benchmarks/cpu_study.py --only cpu_classes')
  lines = ['`python benchmarks/cpu_study.py --only cpu_classes`: the older '
           'x86 CPU classes emulated on this machine by capping oneDNN\'s '
           'instruction set (`ONEDNN_MAX_CPU_ISA`), and its own class '
           'uncapped; each setting in its own '
           'process, %d rounds over the settings in turn; examples/sec are '
           'the medians of all rounds\' windows, each class\'s peak (a '
           '%d x %d float32 matmul under the same cap) the median of its '
           'rounds, and each fraction is of that class\'s own peak. %s' % (
               results['data'][0]['rounds'], rows[0]['peak_matmul_size'],
               rows[0]['peak_matmul_size'], measured_where(results)), '',
           '| CPU class (oneDNN cap) | kernels | float32 peak, GFLOP/s | '
           '`compute_reference`: examples/sec (of peak) | `compute` | '
           '`train` |', '|---|---|---:|---:|---:|---:|']
  for row in rows:
    cap = row['environment'].get('ONEDNN_MAX_CPU_ISA')
    lines.append('| %s (%s) | %s | %s | %s |' % (
        row['cpu_class'], '`%s`' % cap if cap else 'uncapped',
        'oneDNN' if row['kernels'] == 'onednn' else 'Eigen',
        '{:,.0f}'.format(row['float32_peak_gflops']),
        ' | '.join('{:,.0f} ({:.2f})'.format(
            row[name + '_examples_per_sec'], row[name + '_fraction_of_peak'])
                   for name in ('compute_reference', 'compute', 'train'))))
  return lines


def traffic_factor(cluster_results):
  """r: bytes a ps task moves per worker step, in its busier direction.

  Returns:
    (r, the ps tasks' median received / trainable, their median sent /
    trainable): r is the larger median, as a multiple of the trainable
    bytes the task holds. Each direction of a full-duplex link is its own
    limit, so the busier one decides.
  """
  tasks = [task for row in cluster_results['cluster_cost']
           for task in row['ps_tasks']]
  received = _median([task['received / trainable'] for task in tasks])
  sent = _median([task['sent / trainable'] for task in tasks])
  return max(received, sent), received, sent


def _median(values):
  values = sorted(values)
  middle = len(values) // 2
  return (values[middle] if len(values) % 2 else
          (values[middle - 1] + values[middle]) / 2)


def paper_model_table(cluster_results, speed_results):
  """Workers per ps task, and ps tasks for many workers, per link speed."""
  r, received, sent = traffic_factor(cluster_results)
  rows = cluster_results['cluster_cost']
  model = next(row['ps_tasks'][0]['trainable_bytes'] for row in rows
               if row['ps'] == 1)
  # Without partitioning, the task that holds local3/weights keeps at least
  # that variable, however many ps tasks there are.
  largest = max(task['trainable_bytes'] for row in rows
                if row['ps'] > 1 and not row['partitioned']
                for task in row['ps_tasks'])
  cpu_ms = _median([row['ps_tasks'][0]['cpu_ms_per_worker_step']
                    for row in rows if row['ps'] == 1])
  batch = speed_results['machine'][0]['batch_size']
  step = batch / _rate(speed_results, 'train')
  lines = ['The ps tasks moved r = %.2f times the trainable bytes they hold '
           'per worker step, in the busier direction (medians over the '
           'clusters: %.2f received, %.2f sent). %s' % (
               r, received, sent,
               measured_where(cluster_results, windows=False)),
           'The step t = %.3f s is `cifar10.train`\'s, batch %d: %s' % (
               step, batch, measured_where(speed_results)),
           'A ps task holding the whole model also spent a median %.1f ms '
           'of CPU per worker step, so one core of it keeps up with at most '
           '%.1f workers of that step, whatever the link.' % (
               cpu_ms, step * 1000 / cpu_ms), '',
           '| link | workers per ps task, whole model (%s MB) on one task | '
           'most workers without partitioning (%s MB on one task), any '
           'number of ps tasks | ps tasks for %d workers, partitioned |' % (
               _megabytes(model), _megabytes(largest), MANY_WORKERS),
           '|---|---:|---:|---:|']
  for gbps in LINKS_GBPS:
    bytes_per_step = gbps / 8 * 1e9 * step
    lines.append('| %d Gb/s | %.1f | %.1f | %d |' % (
        gbps, bytes_per_step / (r * model), bytes_per_step / (r * largest),
        math.ceil(MANY_WORKERS * r * model / bytes_per_step)))
  return lines


# Each table: (its function, how many files it reads; None: one or more).
TABLES = {'speed': (speed_table, 1), 'options': (options_table, 1),
          'cluster_cost': (cluster_cost_table, 1),
          'cluster_link': (cluster_link_table, 1),
          'paper_model': (paper_model_table, 2),
          'histograms': (histograms_table, None),
          'step_parts': (step_parts_table, 1),
          'cpu_classes': (cpu_classes_table, 1)}


def table(name, paths):
  """The markdown of table `name` from the benchmark files `paths`.

  Raises:
    ValueError: the wrong number of files for the table, or a bad file.
  """
  function, file_count = TABLES[name]
  if len(paths) != file_count and not (file_count is None and paths):
    raise ValueError('the %s table reads %s benchmark file(s), got %d'
                     % (name, file_count or 'one or more', len(paths)))
  return '\n'.join(function(*[read_results(path) for path in paths])) + '\n'


def update(document):
  """Rewrites each table block of the markdown file `document` in place.

  Returns:
    The number of blocks written.
  """
  with open(document) as source:
    text = source.read()
  folder = os.path.dirname(os.path.abspath(document))
  count = 0

  def rewrite(match):
    nonlocal count
    count += 1
    paths = [os.path.join(folder, path) for path in match.group(3).split()]
    return match.group(1) + table(match.group(2), paths) + match.group(4)

  text = BLOCK.sub(rewrite, text)
  with open(document, 'w') as out:
    out.write(text)
  return count


def main(argv=None):
  args = parser().parse_args(argv)
  try:
    if args.update:
      for document in args.update:
        print('%s: %d table(s) written' % (document, update(document)))
    elif args.table:
      print(table(args.table, args.files), end='')
    else:
      parser().error('name a table, or give --update DOCUMENT...')
  except (OSError, ValueError, KeyError) as error:
    print('error: %s' % error, file=sys.stderr)
    return 1
  return 0


if __name__ == '__main__':
  sys.exit(main())
