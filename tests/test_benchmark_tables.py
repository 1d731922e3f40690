"""benchmarks/benchmark_tables.py: the docs' speed and cluster tables, from benchmark output.

The figures here are crafted, so every number in a row can be checked by
hand; the last test holds the documents to the script's output for the
benchmark files they name.
"""

import json

import pytest

import documents
import script_modules

# The fast lane (docs/testing.md): the whole file.
pytestmark = pytest.mark.fast

tables = script_modules.load('benchmark_tables')

MACHINE = {'measurement': 'machine', 'cpu': 'A CPU', 'cores': 2,
           'cpu_features': ['avx2', 'avx512f'], 'tensorflow': '2.21.0',
           'date': '2026-12-04', 'onednn_in_use': True, 'batch_size': 128}
DATA = {'measurement': 'data', 'source': 'files', 'training_images': 50000,
        'test_images': 10000, 'windows': 5, 'window_steps': 20,
        'warmup_steps': 10, 'rounds': 5}


def _ps_task(held, trainable, received, sent, cpu_ms):
  return {'held_bytes': held, 'trainable_bytes': trainable,
          'received_per_worker_step': received, 'sent_per_worker_step': sent,
          'cpu_ms_per_worker_step': cpu_ms,
          'received / trainable': round(received / trainable, 2),
          'sent / trainable': round(sent / trainable, 2)}


CLUSTERS = [
    {'measurement': 'cluster_cost', 'ps': 1, 'workers': 2, 'mode': 'async',
     'partitioned': False, 'examples_per_sec': 2000.4, 'worker_steps': 100,
     'ps_tasks': [_ps_task(8e6, 4e6, 4e6, 8e6, 12.0)]},
    {'measurement': 'cluster_cost', 'ps': 2, 'workers': 2, 'mode': 'sync',
     'partitioned': False, 'examples_per_sec': 1500.0, 'worker_steps': 80,
     'ps_tasks': [_ps_task(1e6, 0.5e6, 0.5e6, 1e6, 5.0),
                  _ps_task(7e6, 3.5e6, 3.5e6, 7e6, 9.25)]},
]


def _write(path, records):
  path.write_text(''.join(json.dumps(record) + '\n' for record in records))
  return str(path)


def test_cluster_rows_give_each_ps_tasks_bytes_and_cpu(tmp_path):
  text = tables.table('cluster_cost', [_write(tmp_path / 'c.jsonl',
                                              [MACHINE, DATA] + CLUSTERS)])
  assert text.startswith(
      'Measured on A CPU (avx2, avx512f; 2 cores), TensorFlow 2.21.0 with '
      'oneDNN kernels, batch 128, 2026-12-04; real data, 50,000 training and '
      '10,000 test images. Counted')
  assert '| 1 | 2 | async | no | 8.00 | 4.00 / 8.00 | 1.00, 2.00 | 12.0 | ' \
      '100 | 2,000 |' in text
  assert '| 2 | 2 | sync | no | 1.00, 7.00 | 0.50 / 1.00, 3.50 / 7.00 | ' \
      '1.00, 2.00, 1.00, 2.00 | 5.0, 9.2 | 80 | 1,500 |' in text


def test_a_machine_with_family_and_model_numbers_is_named_with_them(tmp_path):
  zen5 = dict(MACHINE, cpu='AMD EPYC', cpu_family=26, cpu_model_number=2)
  text = tables.table('cluster_cost', [_write(tmp_path / 'c.jsonl',
                                              [zen5, DATA] + CLUSTERS)])
  assert text.startswith('Measured on AMD EPYC, family 26 model 2 (avx2, '
                         'avx512f; 2 cores), TensorFlow 2.21.0 with oneDNN')


def test_paper_model_divides_the_link_by_each_steps_bytes(tmp_path):
  clusters = _write(tmp_path / 'c.jsonl', [MACHINE, DATA] + CLUSTERS)
  # 128 images at 2,560 examples/sec: a 0.05 s step.
  speed = _write(tmp_path / 's.jsonl', [MACHINE, DATA, {
      'measurement': 'train', 'examples_per_sec': 2560.0}])
  text = tables.table('paper_model', [clusters, speed])
  assert 'r = 2.00 times' in text and 't = 0.050 s' in text
  # The one 1-ps cluster spent 12 ms a worker step: 50 / 12 workers a core.
  assert 'a median 12.0 ms of CPU per worker step, so one core of it keeps ' \
      'up with at most 4.2 workers' in text
  # 1 Gb/s moves 125 MB/s, 6.25 MB per 0.05 s step. The whole model moves
  # r * 4 MB = 8 MB a step: 0.78 workers; the largest task (3.5 MB, no
  # partitioning) 7 MB: 0.89; 100 workers need 100 * 8 / 6.25 = 128 tasks.
  assert '| 1 Gb/s | 0.8 | 0.9 | 128 |' in text
  assert '| 10 Gb/s | 7.8 | 8.9 | 13 |' in text
  assert '| 25 Gb/s | 19.5 | 22.3 | 6 |' in text


def test_speed_rows_give_sec_per_batch_where_a_step_is_one_batch(tmp_path):
  records = [MACHINE, DATA,
             {'measurement': 'compute_reference', 'examples_per_sec': 2000.0},
             {'measurement': 'train', 'examples_per_sec': 2560.0},
             {'measurement': 'multi_gpu_2', 'examples_per_sec': 3200.0},
             {'measurement': 'dist_sync', 'examples_per_sec': 1800.0},
             {'measurement': 'startup', 'first_step_secs': 3.4,
              'import_tensorflow_secs': 1.9, 'extra_secs': 1.5, 'runs': 3},
             {'measurement': 'memory', 'peak_rss_mb': 874}]
  text = tables.table('speed', [_write(tmp_path / 's.jsonl', records)])
  assert ('| the original\'s ops on a constant batch (`compute_reference`) | '
          '0.064 | 2,000 |') in text
  assert '| `cifar10.train` | 0.050 | 2,560 |' in text
  assert '| `multi_gpu_train --num_gpus 2 --virtual_devices` | 0.040 | ' \
      '3,200 |' in text
  assert ('| `dist_train`, 1 ps + 2 workers, `--sync_replicas` (summed) | — '
          '| 1,800 |') in text
  assert ('first step ended 3.40 s after its process started, 1.50 s after '
          '`python -c \'import tensorflow\'` would have (1.90 s); medians of 3 '
          'runs.') in text
  assert 'Peak resident memory of `cifar10.train`: 874 MB.' in text
  # A measurement that was not run has no row.
  assert '`compute`)' not in text and 'eval' not in text
  # DATA's 5 rounds of 5 windows: each of the three rates pools 25.
  assert text.startswith(
      'Measured on A CPU (avx2, avx512f; 2 cores), TensorFlow 2.21.0 with '
      'oneDNN kernels, batch 128, 2026-12-04; real data, 50,000 training and '
      '10,000 test images; medians of 5 windows of 20 steps after 10 warm-up '
      'steps. `compute_reference`, `compute` and `train` were timed in 5 '
      'alternating rounds of those windows, each figure the median of all '
      '25.\n')
  one_round = tables.table('speed', [_write(tmp_path / 'one.jsonl', [
      MACHINE, dict(DATA, rounds=1)] + records[2:])])
  assert 'warm-up steps.\n' in one_round and 'rounds' not in one_round


def test_options_rows_compare_each_flag_with_none(tmp_path):
  records = [MACHINE, DATA,
             {'measurement': 'train_no_option', 'examples_per_sec': 2000.0},
             {'measurement': 'train_mixed_precision_bf16',
              'examples_per_sec': 3000.0},
             {'measurement': 'train_intra_op_threads_1',
              'examples_per_sec': 1600.0}]
  text = tables.table('options', [_write(tmp_path / 'o.jsonl', records)])
  assert '| `--mixed_precision bf16` | 1.50x | 3,000, 2,000 |' in text
  assert '| `--intra_op_threads 1` | 0.80x | 1,600, 2,000 |' in text


def test_link_rows_set_each_measured_rate_against_the_links(tmp_path):
  records = [MACHINE, DATA, {
      'measurement': 'cluster_link', 'ps': 1, 'workers': 2, 'mode': 'async',
      'link_mbit': 200, 'examples_per_sec': 300.0,
      'sent_per_worker_step': 8000000, 'received_per_worker_step': 4000000,
      # 25 MB/s over 8 MB a step: 3.125 steps of 128 images a second.
      'link_ceiling_examples_per_sec': 400.0, 'worker_steps': 50}]
  text = tables.table('cluster_link', [_write(tmp_path / 'l.jsonl', records)])
  assert '| 2 | 200 Mbit/s | 8.00 | 400 | 300 | 0.75 | 50 |' in text


def test_histogram_rows_give_each_kernel_settings_saving(tmp_path):
  def run(onednn, extra, saving):
    return [dict(MACHINE, onednn_in_use=onednn == 'default', onednn=onednn),
            {'measurement': 'histograms', 'step_ms': 41.56,
             'summary_step_extra_ms': extra, 'save_summaries_steps': 100},
            {'measurement': 'ratios',
             'histogram saving / training time': saving}]
  files = [_write(tmp_path / 'a.jsonl', run(
               'default', {'vectorised': 46.1, 'tensorflow': 186.1}, 0.034)),
           _write(tmp_path / 'b.jsonl', run(
               '0', {'vectorised': 43.0, 'tensorflow': 150.3}, 0.008))]
  text = tables.table('histograms', files)
  assert '| oneDNN | 41.6 | 46 | 186 | 3.4% (a summary every 100 steps) |' \
      in text
  assert '| Eigen (`TF_ENABLE_ONEDNN_OPTS=0`) | 41.6 | 43 | 150 | 0.8% (a ' \
      'summary every 100 steps) |' in text
  with pytest.raises(ValueError, match='reads one or more benchmark file'):
    tables.table('histograms', [])


def test_the_help_says_which_script_writes_each_tables_file():
  text = ' '.join(tables.parser().format_help().split())
  assert '`speed` (from benchmarks/benchmark.py:' in text
  assert ('`histograms` (benchmarks/cpu_study.py\'s histograms study' in
          text)
  assert '`step_parts` (its step_parts study' in text
  for name in tables.TABLES:
    assert '`%s` (' % name in text, name


def test_a_file_without_its_machine_is_refused(tmp_path):
  path = _write(tmp_path / 'x.jsonl', CLUSTERS)
  with pytest.raises(ValueError, match='has no "machine" line'):
    tables.table('cluster_cost', [path])
  assert tables.main(['cluster_cost', path]) == 1


def test_update_rewrites_only_the_blocks(tmp_path):
  results = _write(tmp_path / 'c.jsonl', [MACHINE, DATA] + CLUSTERS)
  document = tmp_path / 'doc.md'
  document.write_text(
      'Before.\n<!-- benchmark_tables: cluster_cost c.jsonl begin -->\nold\n'
      '<!-- benchmark_tables: cluster_cost c.jsonl end -->\nAfter.\n')
  assert tables.update(str(document)) == 1
  assert document.read_text() == (
      'Before.\n<!-- benchmark_tables: cluster_cost c.jsonl begin -->\n' +
      tables.table('cluster_cost', [results]) +
      '<!-- benchmark_tables: cluster_cost c.jsonl end -->\nAfter.\n')


def test_the_documents_tables_are_the_scripts_output():
  found = 0
  for path in documents.paths():
    text = documents.read(path)
    for match in tables.BLOCK.finditer(text):
      found += 1
      folder = documents.os.path.dirname(documents.os.path.join(
          documents.REPO, path))
      files = [documents.os.path.join(folder, name)
               for name in match.group(3).split()]
      body = match.group(0)[len(match.group(1)):-len(match.group(4))]
      assert body == tables.table(match.group(2), files), (path,
                                                           match.group(2))
  assert found >= 3


def test_the_speed_table_shows_each_rows_share_of_the_machines_peak(tmp_path):
  # 1,000 images/sec at 105,295,104 FLOP each: 105.3 GFLOP/s, 0.35 of a
  # 300 GFLOP/s float32 peak; bf16 at 1,900: 200.1 GFLOP/s, 0.20 of 1,000.
  records = [MACHINE, DATA,
             {'measurement': 'peak', 'matmul_size': 4096,
              'float32_gflops': 300.0, 'bfloat16_gflops': 1000.0},
             {'measurement': 'train', 'examples_per_sec': 1000.0},
             {'measurement': 'train_mixed_precision_bf16',
              'examples_per_sec': 1900.0},
             {'measurement': 'eval', 'examples_per_sec': 5000.0},
             {'measurement': 'roofline', 'flop_per_image': 105295104,
              'train': {'gflops': 105.3, 'fraction_of_peak': 0.351,
                        'peak': 'float32'},
              'train_mixed_precision_bf16': {
                  'gflops': 200.1, 'fraction_of_peak': 0.2,
                  'peak': 'bfloat16'}}]
  text = tables.table('speed', [_write(tmp_path / 's.jsonl', records)])
  assert ('This machine\'s own ceiling, a 4096x4096 matmul in TensorFlow: 300 '
          'GFLOP/s in float32, 1,000 in bfloat16. A training image costs '
          '105.3 MFLOP') in text
  assert '| `cifar10.train` | 0.128 | 1,000 | 105 | 0.35 (float32) |' in text
  assert ('| `cifar10.train --mixed_precision bf16` | 0.067 | 1,900 | 200 | '
          '0.20 (bfloat16) |') in text
  assert '| — | 5,000 | — | — |' in text
  # Without the options measurement's own run without flags, nothing to
  # set the bf16 row beside; with it, the ratio to that run.
  assert 'timed beside' not in text
  records.append({'measurement': 'train_no_option', 'examples_per_sec': 1520.0})
  text = tables.table('speed', [_write(tmp_path / 's.jsonl', records)])
  assert ('The `--mixed_precision bf16` row is the `options` measurement\'s, '
          'timed beside `cifar10.train` without flags at 1,520 examples/sec: '
          '1.25 times as fast.') in text


def _step_parts_row(precision, parts_ms, **peak_fields):
  row = {'measurement': 'step_parts_' + precision, 'traced_steps': 5,
         'inter_op_threads': 1, 'step_ms': sum(parts_ms.values()),
         'untraced_step_ms': 0.8 * sum(parts_ms.values()),
         'parts_ms': parts_ms, 'input_pipeline_cpu_ms': 1.5}
  row.update(peak_fields)
  return row


def _cpu_class_row(name, cap, kernels, peak, rates, fractions):
  return dict({'measurement': 'cpu_class_' + name, 'cpu_class': name,
               'kernels': kernels,
               'environment': dict({'TF_ENABLE_ONEDNN_OPTS': '1'},
                                   **({'ONEDNN_MAX_CPU_ISA': cap} if cap
                                      else {})),
               'peak_matmul_size': 4096, 'float32_peak_gflops': peak},
              **{measurement + '_examples_per_sec': rate
                 for measurement, rate in zip(
                     ('compute_reference', 'compute', 'train'), rates)},
              **{measurement + '_fraction_of_peak': fraction
                 for measurement, fraction in zip(
                     ('compute_reference', 'compute', 'train'), fractions)})


def test_cpu_classes_rows_judge_each_class_against_its_own_peak(tmp_path):
  capped = _cpu_class_row('avx2', 'AVX2', 'eigen', 98.64,
                          (700.4, 810.0, 1234.5), (0.747, 0.865, 1.318))
  native = _cpu_class_row('native', None, 'onednn', 219.0,
                          (1300.0, 1700.0, 1750.2), (0.625, 0.817, 0.841))
  text = tables.table('cpu_classes', [_write(
      tmp_path / 'c.jsonl', [MACHINE, DATA, capped, native])])
  assert '5 rounds over the settings in turn' in text
  assert 'a 4096 x 4096 float32 matmul under the same cap' in text
  assert 'medians of 5 windows of 20 steps after 10 warm-up steps' in text
  assert ('| avx2 (`AVX2`) | Eigen | 99 | 700 (0.75) | 810 (0.86) | '
          '1,234 (1.32) |') in text
  assert ('| native (uncapped) | oneDNN | 219 | 1,300 (0.62) | 1,700 (0.82) '
          '| 1,750 (0.84) |') in text


def test_the_cpu_classes_table_needs_the_studys_peaks(tmp_path):
  """A cpu_classes file from before the peaks were measured is refused."""
  old = {'measurement': 'cpu_class_native', 'cpu_class': 'native',
         'kernels': 'onednn', 'environment': {},
         'compute_examples_per_sec': 1.0}
  with pytest.raises(ValueError, match='cpu_study.py --only cpu_classes'):
    tables.table('cpu_classes', [_write(tmp_path / 'c.jsonl',
                                        [MACHINE, DATA, old])])


def test_step_parts_rows_give_each_parts_share_and_its_bound(tmp_path):
  # A float32 step of 40 ms (30 convolutions, 10 the rest) and a bfloat16
  # one of 20 ms, this CPU with a float32 peak only.
  float32 = _step_parts_row(
      'float32', {'convolutions': 30.0, 'element-wise and the rest': 10.0},
      fraction_of_peak=0.6, untraced_fraction_of_peak=0.75,
      fraction_of_peak_without={'convolutions': 2.4,
                                'element-wise and the rest': 0.8},
      kernel_fraction_of_peak={'convolutions': 0.76,
                               'matrix multiplies': 0.31})
  bfloat16 = _step_parts_row(
      'bfloat16', {'convolutions': 12.5, 'element-wise and the rest': 7.5})
  peak = {'measurement': 'peak', 'matmul_size': 4096,
          'float32_gflops': 211.44, 'float32_windows': [211.44]}
  text = tables.table('step_parts', [_write(
      tmp_path / 's.jsonl', [MACHINE, DATA, peak, float32, bfloat16])])
  assert 'medians of 5 traced steps' in text
  assert ('| convolutions | 30.00 | 75% | 2.40 | 12.50 | 62% | — |'
          in text)
  assert ('| element-wise and the rest | 10.00 | 25% | 0.80 | 7.50 | 38% '
          '| — |' in text)
  assert ('| **the step** (its fraction of the peak) | **40.00** | 100% | '
          '**0.60** | **20.00** | 100% | **—** |' in text)
  assert ('| the same step untraced, as the trainers run it (its fraction '
          'of the peak) | 32.00 | | 0.75 | 16.00 | | — |' in text)
  # 1.5 CPU ms of the 2 x 32 and 2 x 16 ms the untraced step's cores give.
  assert ('| the input pipeline, alone: CPU ms per batch (share of the '
          'untraced step\'s 2 cores) | 1.50 | 2.3% | | 1.50 | 4.7% | |'
          in text)
  assert ('| kernels | float32: of the float32 peak (211 GFLOP/s) | '
          'bfloat16: no native peak |' in text)
  assert '| convolutions | 0.76 | — |' in text
  assert '| matrix multiplies | 0.31 | — |' in text
  # Measured before the study recorded the normalization by op: no table.
  assert 'the normalization\'s ops' not in text


def test_step_parts_table_ends_with_the_normalizations_ops(tmp_path):
  float32 = _step_parts_row(
      'float32', {'local response normalization': 1.0},
      normalization_ops_ms={'Rsqrt': 0.25, 'Mul': 0.5, 'Square': 0.25})
  bfloat16 = _step_parts_row(
      'bfloat16', {'local response normalization': 1.5},
      normalization_ops_ms={'Rsqrt': 0.5, 'Mul': 0.75, 'Cast': 0.25})
  peak = {'measurement': 'peak', 'matmul_size': 4096,
          'float32_gflops': 211.44, 'float32_windows': [211.44]}
  text = tables.table('step_parts', [_write(
      tmp_path / 's.jsonl', [MACHINE, DATA, peak, float32, bfloat16])])
  # The float32 step's largest first; ties by name; an op one step lacks.
  assert text.endswith(
      '| the normalization\'s ops (norm1 and norm2, forward and gradient), '
      'by type | float32: ms | bfloat16: ms |\n|---|---:|---:|\n'
      '| `Mul` | 0.50 | 0.75 |\n| `Rsqrt` | 0.25 | 0.50 |\n'
      '| `Square` | 0.25 | — |\n| `Cast` | — | 0.25 |\n')
