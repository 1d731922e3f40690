"""Checks docs/guide.md against the code: its commands, tables, pictures and claims.

Its commands run as every document's do (tests/doc_commands.py); this test
also checks what the guide tells the reader to look for in their output.
"""

import importlib
import inspect
import os
import re

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from cifar10 import cifar10_input
from cifar10.support import fast_ops
from conftest import distortion_windows
from conftest import explain_distortion
from conftest import summary_values
import doc_commands
import documents
import script_modules

REPO = documents.REPO
GUIDE = 'docs/guide.md'


def guide_text():
  return documents.read(GUIDE)


def _last_image(folder, tag):
  """The encoded image last written under `tag` at the highest step."""
  found = [(step, index, value.image.encoded_image_string)
           for index, (step, value) in enumerate(summary_values(folder))
           if value.tag == tag]
  return max(found)[2]


@pytest.mark.starts_first
def test_every_command_of_the_guide_runs(tmp_path, children):
  sandbox_root = doc_commands.make_sandbox(str(tmp_path))
  outputs = doc_commands.run_document(GUIDE, sandbox_root, children)

  # What the guide tells the reader to look for, where a line shows it.
  broken = [line for line in outputs if 'cifar10_broken' in line and
            'cifar10.eval' in line]
  assert broken and re.search(r'error: Checkpoint .*cifar10_broken.* cannot be '
                              r'read \(Read less bytes than requested\): it '
                              r'is damaged',
                              outputs[broken[0]])
  # eval_image.py wrote the evaluator's latest confusion matrix unchanged.
  with open(os.path.join(sandbox_root, 'confusion_matrix.png'), 'rb') as png:
    assert png.read() == _last_image(os.path.join(sandbox_root, 'cifar10_eval'),
                                     'confusion_matrix')
  with Image.open(os.path.join(sandbox_root, 'distortions.png')) as image:
    assert image.format == 'PNG'
  # Section 9: the CIFAR-10 run refused on the reader's two classes, and
  # predict naming the reader's classes.
  [misfit] = [line for line in outputs if 'my_eval_cifar' in line]
  assert re.search(r'error: Checkpoint .*cifar10_train/model.ckpt-\d+ was '
                   r'trained on 10 classes, but there are 2 here '
                   r'\(batches.meta.txt in .*my_data/cifar-10-batches-bin\)',
                   outputs[misfit])
  # The schedule the guide quotes for the reader's 50 training images is
  # the one the trainer printed.
  [own_training] = [line for line in outputs if 'cifar10.train ' in line
                    and 'my_data' in line and '--warm_start_from' not in line]
  quoted = re.search(r'^Learning rate 0\.05 .*$', guide_text(), re.M).group(0)
  assert quoted in outputs[own_training].splitlines()
  [predicted] = [line for line in outputs if 'cifar10.predict' in line
                 and 'my_images/test/cat/*' in line]
  assert re.findall(r'test/cat/\d+.png: (cat|dog) ', outputs[predicted]) and \
      'airplane' not in outputs[predicted]
  # The test images of cat as split.csv lists them: the same five files.
  [listed] = [line for line in outputs if 'cifar10.predict' in line
              and 'split.csv' in line]
  classified = [re.findall(r'(test/cat/\d+\.png): ', outputs[line])
                for line in (predicted, listed)]
  assert len(classified[1]) == 5 and sorted(classified[1]) == sorted(
      classified[0])
  # The 2-class run warm-started from the CIFAR-10 run, as the guide shows.
  [warm] = [line for line in outputs if 'my_warm_train' in line]
  assert re.search(r'Warm start from .*cifar10_train/model.ckpt-\d+: restored '
                   r'16 variables \(conv1, conv2, local3, local4 and their '
                   r'moving averages\); starting fresh: softmax_linear/weights '
                   r'\(\[192, 10\] there, \[192, 2\] here\)', outputs[warm])


def test_guides_cluster_is_distributed_mds_every_worker_given_the_run():
  # Before: the guide's worker 1 had no --train_dir, unlike distributed.md's.
  def dist_blocks(path):
    return [block for block in doc_commands.sh_blocks(documents.read(path))
            if any('cifar10.dist_train' in line for line in block)]
  [guides] = dist_blocks(GUIDE)
  assert guides == dist_blocks('docs/distributed.md')[0]
  workers = [line for line in guides if '--job_name worker' in line]
  assert len(workers) == 2 and all(
      '--train_dir /tmp/cifar10_dist ' in line for line in workers)


def test_guide_layer_table_is_the_scripts():
  layer_table = script_modules.load('layer_table')
  text = guide_text()
  shown = re.search(r'<!-- layer table: begin[^\n]*\n(.*?)<!-- layer table: end',
                    text, re.S).group(1)
  assert shown == layer_table.markdown_table(layer_table.build_layers())


def test_guide_distortion_code_is_distort_image():
  """Section 2 shows the original's distortions: distort_image's own lines."""
  text = guide_text()
  section = text[text.index('## 2.'):text.index('## 3.')]
  [block] = re.findall(r'```python\n(.*?)```', section, re.S)
  # Compared without comments and whitespace: the source wraps a long line.
  code = re.sub(r'\s+', '', block)
  source = re.sub(r'\s+', '', ''.join(
      line for line in inspect.getsourcelines(cifar10_input.distort_image)[0]
      if not line.strip().startswith('#')))
  assert code.count('tf.image.') == 5
  assert code in source


def test_brightness_is_undone_by_standardization_as_the_guide_says(rng):
  """distort_image, the original's ops, and the batched form alike."""
  image = (rng.integers(0, 120, [32, 32, 3]) + [0, 60, 120]).astype(np.uint8)
  windows = distortion_windows(image)
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(2)
    distorted = tf.stack([cifar10_input.distort_image(tf.constant(image))
                          for _ in range(16)])
    # The batched colour distortions of one window, at both extreme deltas.
    planes = tf.constant(windows[:1].transpose(0, 3, 1, 2).reshape(
        1, 3, 24 * 24), tf.float32)
    batched = [fast_ops.adjust_and_standardize(
        planes, tf.constant(delta, shape=[1, 1, 1]),
        tf.constant(1.5, shape=[1, 1, 1])) for delta in (-63.0, 63.0)]
    with tf.compat.v1.Session() as sess:
      distorted, batched = sess.run([distorted, batched])
  # Each image distort_image made after drawing a delta of up to +-63 is its
  # window contrast-scaled and standardized without any brightness change.
  for one in distorted:
    _, _, mismatch = explain_distortion(one, windows)
    assert mismatch < 1e-4
  np.testing.assert_allclose(batched[0], batched[1], atol=2e-5)
  assert np.abs(batched[0]).max() > 1  # Not all zeros: a real image.


def test_smoothed_losses_start_near_0_as_the_guide_says(trained_dir):
  text = ' '.join(guide_text().split())
  assert ('the first summary (step 1) shows 0 or a tenth of the term' in
          text)
  first = {}
  for step, value in summary_values(trained_dir):
    first.setdefault(value.tag, (step, value.simple_value))
  for term in ('total_loss', 'cross_entropy', 'local3/weight_loss',
               'local4/weight_loss'):
    step, average = first[term]
    raw_step, raw = first[term + ' (raw)']
    assert step == raw_step == 1 and raw > 0.1, term
    # The summary reads the average before or after its first update,
    # which the same run makes: 0, or a tenth of the way to the term.
    assert average == 0 or average == pytest.approx(0.1 * raw, rel=1e-5), (
        term, average, raw)


def test_every_function_the_guide_map_names_exists():
  """Section 7 maps concepts to `file` and `function`; each must be there."""
  text = guide_text()
  section = text[text.index('## 7.'):text.index('## 8.')]
  rows = re.findall(r'^\| .* \| `([^`]+)` \| (.*) \|$', section, re.M)
  assert len(rows) > 15
  for path, names in rows:
    for name in re.findall(r'`([^`]+)`', names):
      if path.startswith('scripts'):
        assert os.path.isfile(os.path.join(REPO, path, name)), name
      elif '.' in name:  # e.g. `cifar10.inputs`: a function of cifar10/cifar10.py.
        module, attribute = name.split('.')
        assert hasattr(importlib.import_module('cifar10.' + module),
                       attribute), name
      else:
        module = importlib.import_module(path[:-len('.py')].replace('/', '.'))
        assert hasattr(module, name), (path, name)
