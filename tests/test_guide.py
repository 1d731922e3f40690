"""Checks docs/guide.md against the code: its commands, tables, pictures and claims.

Its commands run as every document's do (tests/doc_commands.py); this test
also checks what the guide tells the reader to look for in their output.
"""

import importlib
import os
import re

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from cifar10 import cifar10_input
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


def test_every_command_of_the_guide_runs(tmp_path, children):
  sandbox_root = doc_commands.make_sandbox(str(tmp_path))
  outputs = doc_commands.run_document(GUIDE, sandbox_root, children)

  # What the guide tells the reader to look for, where a line shows it.
  broken = [line for line in outputs if 'cifar10_broken' in line and
            'cifar10.eval' in line]
  assert broken and re.search(r'error: Checkpoint .*cifar10_broken.* is damaged',
                              outputs[broken[0]])
  # eval_image.py wrote the evaluator's latest confusion matrix unchanged.
  with open(os.path.join(sandbox_root, 'confusion_matrix.png'), 'rb') as png:
    assert png.read() == _last_image(os.path.join(sandbox_root, 'cifar10_eval'),
                                     'confusion_matrix')
  with Image.open(os.path.join(sandbox_root, 'distortions.png')) as image:
    assert image.format == 'PNG'


def test_guide_layer_table_is_the_scripts():
  layer_table = script_modules.load('layer_table')
  text = guide_text()
  shown = re.search(r'<!-- layer table: begin[^\n]*\n(.*?)<!-- layer table: end',
                    text, re.S).group(1)
  assert shown == layer_table.markdown_table(layer_table.build_layers())


def test_brightness_is_undone_by_standardization_as_the_guide_says(rng):
  """The original's ops: brightness, then contrast, then standardization."""
  image = tf.constant(rng.integers(0, 256, [24, 24, 3]), tf.float32)

  def original(delta):
    adjusted = tf.image.adjust_contrast(
        tf.image.adjust_brightness(image, delta), 1.5)
    return tf.image.per_image_standardization(adjusted).numpy()

  np.testing.assert_allclose(original(-63.0), original(63.0), atol=2e-5)
  assert np.abs(original(0.0)).max() > 1  # Not all zeros: a real image.
  planes = tf.reshape(tf.transpose(image, [2, 0, 1]), [1, 3, 24 * 24])
  ours = [cifar10_input.adjust_and_standardize(
      planes, tf.constant(delta, shape=[1, 1, 1]),
      tf.constant(1.5, shape=[1, 1, 1])).numpy() for delta in (-63.0, 63.0)]
  np.testing.assert_allclose(ours[0], ours[1], atol=2e-5)


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
