"""Runs every command of docs/guide.md, so the guide cannot drift from the code.

The commands are the lines of the guide's ```sh blocks, run in order in one
sandbox folder standing in for /tmp, as a reader would run them:

* every `/tmp` path points into the sandbox, whose `cifar10_data` holds a
  small synthetic set standing in for the download, and whose `my_images`
  holds a few dozen generated PNGs of each of two classes, standing in for
  the reader's own pictures;
* a folder flag a cifar10 script is given no value for (--data_dir,
  --train_dir, --checkpoint_dir, --eval_dir) is given its /tmp default,
  which then points into the sandbox too;
* the trainers get a small --max_steps (the guide's values, in the same
  order: the smallest becomes 10, the next 20, ...);
* servers (the evaluator's loop, TensorBoard) run until they print the line
  that shows they work (the evaluator checks every second), then are stopped;
* a line ending in `&` runs in the background until the end of its block;
* each command must exit 0, or the N of a trailing `# exits N`, without a
  traceback; `localhost` ports become free ones.
"""

import importlib
import inspect
import os
import re
import shlex
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from cifar10 import cifar10_input
from cifar10 import paths
from cifar10 import ports
from cifar10 import synthetic
from conftest import DEADLINE_SECS
from conftest import distortion_windows
from conftest import explain_distortion
from conftest import write_image_folder
from conftest import summary_values
import script_modules

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUIDE = os.path.join(REPO, 'docs', 'guide.md')

# The folder flags whose defaults are under /tmp, and those defaults.
FOLDER_FLAG_DEFAULTS = {
    '--data_dir': paths.DATA_DIR,
    '--train_dir': paths.TRAIN_DIR,
    '--checkpoint_dir': paths.TRAIN_DIR,
    '--eval_dir': paths.EVAL_DIR,
}

# Python started so that it replaces itself with bash, which replaces itself
# with the command: the process the test waits for (and kills) is the
# command itself, and bash still expands globs as for a reader.
_EXEC_BASH = 'import os, sys; os.execvp("bash", ["bash", "-c", sys.argv[1]])'


def guide_text():
  with open(GUIDE) as guide:
    return guide.read()


def sh_blocks(text):
  """The command lines of each ```sh block, continuation lines joined."""
  blocks = []
  for body in re.findall(r'^```sh\n(.*?)^```', text, re.M | re.S):
    joined = body.replace('\\\n', ' ')
    blocks.append([line.strip() for line in joined.splitlines()
                   if line.strip() and not line.strip().startswith('#')])
  return blocks


def _module_flags(command):
  """The option strings of the `python -m cifar10.X` module run, if any."""
  match = re.match(r'python -m (cifar10\.\w+)', command)
  if not match:
    return set()
  module = importlib.import_module(match.group(1))
  if not hasattr(module, 'parser'):
    return set()
  return {option for action in module.parser()._actions  # pylint: disable=protected-access
          for option in action.option_strings}


def _given(command, flag):
  return re.search(r'(^|\s)%s(=|\s)' % re.escape(flag), command) is not None


class Sandbox:
  """Rewrites the guide's commands to run in `root` with small step counts."""

  def __init__(self, root, blocks):
    self.root = root
    self.ports = {}
    training = [line for block in blocks for line in block
                if '--max_steps' in _module_flags(line)]
    values = sorted({int(match) for line in training
                     for match in re.findall(r'--max_steps[= ](\d+)', line)})
    self.small_steps = {value: 10 * (rank + 1)
                        for rank, value in enumerate(values)}

  def _port(self, match):
    if match.group(1) not in self.ports:
      [self.ports[match.group(1)]] = ports.free_ports(1)
    return 'localhost:%d' % self.ports[match.group(1)]

  def rewrite(self, command):
    """The command as the test runs it, and the line it prints when up if a server."""
    flags = _module_flags(command)
    added = []
    for flag, default in FOLDER_FLAG_DEFAULTS.items():
      if flag in flags and not _given(command, flag):
        added += [flag, default]
    if '--max_steps' in flags and '--job_name ps' not in command:
      if not _given(command, '--max_steps'):
        raise AssertionError('the guide trains without --max_steps: %s'
                             % command)
      command = re.sub(r'--max_steps([= ])(\d+)', lambda m: '--max_steps%s%d' % (
          m.group(1), self.small_steps[int(m.group(2))]), command)
    ready = None
    # Without either flag the evaluator loops, waiting for new checkpoints.
    if command.startswith('python -m cifar10.eval') and not any(
        _given(command, flag) or command.endswith(flag)
        for flag in ('--run_once', '--all_checkpoints')):
      added += ['--eval_interval_secs', '1']
      ready = r'precision @ 1 = '
    if command.startswith('tensorboard'):
      [port] = ports.free_ports(1)
      command = command.replace('tensorboard', 'python -m tensorboard.main', 1)
      added += ['--host', '127.0.0.1', '--port', str(port), '--load_fast',
                'false']
      ready = r'TensorBoard .* at http'
    command = command + ' ' + ' '.join(added)
    command = re.sub(r'/tmp(?=/|\s|$)', self.root, command)
    command = re.sub(r'localhost:(\d+)', self._port, command)
    command = re.sub(r'^python ', shlex.quote(sys.executable) + ' ', command)
    return command, ready


def _split_comment(line):
  """(command, expected exit status) of a line with an optional `# exits N`."""
  command, _, comment = line.partition('  #')
  match = re.search(r'exits (\d+)', comment)
  return command.strip(), int(match.group(1)) if match else 0


def _expand(command, variables):
  for name, value in variables.items():
    command = command.replace('$' + name, value)
  return command


def _check_finished(child, command, expected):
  status, output = child.finish()
  assert status == expected, 'exit %d, not %d: %s\n%s' % (
      status, expected, command, output[-3000:])
  assert 'Traceback' not in output, '%s\n%s' % (command, output[-3000:])
  return output


def _stop_server(child, pattern, command):
  child.wait_for(pattern)
  eval_dir = re.search(r'cifar10\.eval .*--eval_dir (\S+)', command)
  if eval_dir:
    # The evaluator prints its figures, then writes them: as a reader's
    # Ctrl-C would, stop it only once they are in its event file.
    _wait_for_summary(eval_dir.group(1), 'Precision @ 1')
  child.kill()
  assert 'Traceback' not in ''.join(child.lines), command


def _wait_for_summary(folder, tag):
  end = time.monotonic() + DEADLINE_SECS
  while not any(value.tag == tag for _, value in summary_values(folder)):
    assert time.monotonic() < end, 'no %r summary in %s' % (tag, folder)
    time.sleep(0.5)


def _last_image(folder, tag):
  """The encoded image last written under `tag` at the highest step."""
  found = [(step, index, value.image.encoded_image_string)
           for index, (step, value) in enumerate(summary_values(folder))
           if value.tag == tag]
  return max(found)[2]


@pytest.fixture
def sandbox_root(tmp_path):
  """The sandbox, its cifar10_data standing in for the CIFAR-10 download."""
  synthetic.write_synthetic_dataset(str(tmp_path / 'cifar10_data'),
                                    train_records_per_file=100,
                                    test_records=200, seed=3)
  write_image_folder(str(tmp_path / 'my_images'),
                     {'cat': (200, 120, 40), 'dog': (60, 60, 200)},
                     np.random.default_rng(3), train_per_class=25,
                     test_per_class=5)
  return str(tmp_path)


def test_every_command_of_the_guide_runs(sandbox_root, children):
  blocks = sh_blocks(guide_text())
  sandbox = Sandbox(sandbox_root, blocks)
  outputs = {}
  for block in blocks:
    variables, background = {}, []
    for line in block:
      assignment = re.match(r'^(\w+)="(.*)"$', line)
      if assignment:
        variables[assignment.group(1)] = assignment.group(2)
        continue
      command, expected = _split_comment(_expand(line, variables))
      in_background = command.endswith('&')
      command, ready = sandbox.rewrite(command.rstrip('& '))
      child = children('-c', _EXEC_BASH, command)
      if in_background:
        background.append((child, command, ready))
      elif ready:
        _stop_server(child, ready, command)
      else:
        outputs[line] = _check_finished(child, command, expected)
    for child, command, ready in background:
      if ready:
        _stop_server(child, ready, command)
      else:
        _check_finished(child, command, 0)

  # What the guide tells the reader to look for, where a line shows it.
  broken = [line for line in outputs if 'cifar10_broken' in line and
            'cifar10.eval' in line]
  assert broken and re.search(r'error: Checkpoint .*cifar10_broken.* is damaged',
                              outputs[broken[0]])
  [misfit] = [line for line in outputs if 'my_eval_cifar' in line]
  assert re.search(r'error: Checkpoint .*cifar10_train/model.ckpt-\d+ was '
                   r'trained on 10 classes, but there are 2 here '
                   r'\(batches.meta.txt in .*my_data/cifar-10-batches-bin\)',
                   outputs[misfit])
  [predicted] = [line for line in outputs if 'cifar10.predict' in line]
  assert re.findall(r'test/cat/\d+.png: (cat|dog) ', outputs[predicted]) and \
      'airplane' not in outputs[predicted]
  # eval_image.py wrote the evaluator's latest confusion matrix unchanged.
  with open(os.path.join(sandbox_root, 'confusion_matrix.png'), 'rb') as png:
    assert png.read() == _last_image(os.path.join(sandbox_root, 'cifar10_eval'),
                                     'confusion_matrix')
  with Image.open(os.path.join(sandbox_root, 'distortions.png')) as image:
    assert image.format == 'PNG'


def test_guide_max_steps_keep_their_order():
  sandbox = Sandbox('/sandbox', [['python -m cifar10.train --max_steps 300',
                                  'python -m cifar10.train --max_steps 20',
                                  'python -m cifar10.train --max_steps 10000']])
  assert sandbox.small_steps == {20: 10, 300: 20, 10000: 30}
  command, ready = sandbox.rewrite('python -m cifar10.eval --checkpoint_dir '
                                   '/tmp/run')
  assert ready == r'precision @ 1 = '
  assert ('--checkpoint_dir /sandbox/run --data_dir /sandbox/cifar10_data '
          '--eval_dir /sandbox/cifar10_eval --eval_interval_secs 1') in command


def test_guide_layer_table_is_the_scripts():
  layer_table = script_modules.load('layer_table')
  text = guide_text()
  shown = re.search(r'<!-- layer table: begin[^\n]*\n(.*?)<!-- layer table: end',
                    text, re.S).group(1)
  assert shown == layer_table.markdown_table(layer_table.build_layers())


def test_guide_pictures_exist_and_are_small():
  pictures = re.findall(r'!\[[^\]]*\]\(([^)]+)\)', guide_text())
  assert 'images/distortions.png' in pictures
  for picture in pictures:
    path = os.path.join(REPO, 'docs', picture)
    assert os.path.isfile(path), picture
    assert os.path.getsize(path) < 150 * 1024, picture


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
    batched = [cifar10_input.adjust_and_standardize(
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
