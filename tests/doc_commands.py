"""Runs the commands of a document's ```sh blocks, so no document shows a command that fails.

The commands run in order in one sandbox folder standing in for /tmp, as a
reader would run them:

* every `/tmp` path points into the sandbox, whose `cifar10_data` holds a
  small synthetic set standing in for the download, and whose `my_images`
  holds a few dozen generated PNGs of each of two classes;
* a folder flag whose default is under /tmp (--data_dir, --train_dir,
  --checkpoint_dir, --eval_dir, --export_dir) is given that default when the
  command gives it no value, so it points into the sandbox too;
* the trainers get a small --max_steps (the document's values, in the same
  order: the smallest becomes 10, the next 20, ...), and batches of
  SMALL_BATCH images where the command names no --batch_size;
* servers (the evaluator's loop, TensorBoard) run until they print the line
  that shows they work (the evaluator checks every second), then are stopped;
* a line ending in `&` runs in the background until the end of its block;
* image files a `cifar10.predict` command names are made in the sandbox;
* each command must exit 0, or the N of a trailing `# exits N`, without a
  traceback; `localhost` ports become free ones.

The commands that cannot run in a test are in NOT_RUN, each with its reason.
"""

import importlib
import os
import re
import shlex
import sys
import time

import numpy as np
from PIL import Image

from cifar10 import synthetic
import script_modules

ports = script_modules.load('ports')
from conftest import DEADLINE_SECS
from conftest import summary_values
from conftest import write_image_folder
import documents

# The commands of the documents that no test runs, and why. Each must still
# appear in a document (tests/test_docs_commands.py checks).
NOT_RUN = {
    'pip install -e .': 'installs into the environment the tests run in',
    "pip install -e '.[test]'": 'installs into the environment the tests run in',
    'python -m cifar10.train': 'the default --max_steps trains for hours; '
                               'the other trainer commands run with few steps',
    'python -m pytest --durations=10': 'the test suite itself',
    'python -m pytest -m fast': 'the fast lane: tests of the suite, which '
                                'the suite runs anyway',
    'taskset -c 0 python -m pytest': 'the test suite itself, on one core',
    'python -m pytest -q tests/test_model.py':
        'a test file of the suite, which the suite runs anyway',
    'CIFAR10_TEST_MODE=v1 python -m pytest -q tests/test_model.py':
        'a test file of the suite, which the suite runs anyway (v1 half)',
    'python benchmarks/benchmark.py': 'minutes of timing; tests/test_benchmark.py '
                                   'covers its parts',
    'python benchmarks/benchmark.py --data_dir /tmp/cifar10_data':
        'minutes of timing on the real data set',
    'python benchmarks/benchmark.py --only compute,train': 'minutes of timing',
    'python benchmarks/cpu_study.py --only profile': 'minutes of timing',
    'python benchmarks/cpu_study.py --only step_parts --data_dir '
    '/tmp/cifar10_data > docs/results/step_parts.jsonl':
        'minutes of timing on the real data set, and it would replace the '
        'saved figures the documents show',
    'python benchmarks/cpu_study.py --only cpu_classes --data_dir '
    '/tmp/cifar10_data --rounds 3 --windows 3 --window_steps 10 > '
    'docs/results/cpu_classes.jsonl':
        'minutes of timing, fifteen child processes, and it would replace '
        'the saved figures the documents show',
    'python benchmarks/benchmark.py --data_dir /tmp/cifar10_data > '
    'docs/results/speed.jsonl':
        'minutes of timing, and it would replace the saved figures the '
        'documents show',
    'python benchmarks/benchmark_tables.py --update docs/speed.md '
    'docs/distributed.md':
        'rewrites the documents themselves; tests/test_benchmark_tables.py '
        'checks their tables are its output',
    'TF_CONFIG=\'{"cluster": {"ps": ["localhost:2222"], "worker": '
    '["localhost:2223", "localhost:2224"]}, "task": {"type": "worker", '
    '"index": 1}}\' python -m cifar10.dist_train --initial_learning_rate 0.05':
        'one worker of a cluster whose other tasks are not started; the block '
        'above runs the same cluster from flags',
}

# Python started so that it replaces itself with bash, which replaces itself
# with the command: the process the test waits for (and kills) is the
# command itself, and bash still expands globs as for a reader.
_EXEC_BASH = 'import os, sys; os.execvp("bash", ["bash", "-c", sys.argv[1]])'

# The batch of a trainer whose command names none, in place of the
# original's 128: a document's command is checked to run, train and save,
# which batches of 16 show as well, at an eighth of the arithmetic per step.
SMALL_BATCH = 16

_IMAGE_FORMATS = {'.png': 'PNG', '.jpg': 'JPEG', '.jpeg': 'JPEG',
                  '.bmp': 'BMP', '.gif': 'GIF'}


def sh_blocks(text):
  """The command lines of each ```sh block, continuation lines joined."""
  blocks = []
  for body in re.findall(r'^```sh\n(.*?)^```', text, re.M | re.S):
    joined = body.replace('\\\n', ' ')
    blocks.append([line.strip() for line in joined.splitlines()
                   if line.strip() and not line.strip().startswith('#')])
  return blocks


def _module_parser(command):
  """The parser of the `python -m cifar10.X` module run, if it has one."""
  match = re.match(r'python -m (cifar10\.\w+)', command)
  if not match:
    return None
  module = importlib.import_module(match.group(1))
  return module.parser() if hasattr(module, 'parser') else None


def _options(parser):
  return {} if parser is None else {
      option: action for action in parser._actions  # pylint: disable=protected-access
      for option in action.option_strings}


def _given(command, flag):
  return re.search(r'(^|\s)%s(=|\s|$)' % re.escape(flag), command) is not None


def _split_assignments(command):
  """(`NAME=value ` prefixes, the command after them) of a command line.

  Variables set for the command alone (`CIFAR10_TF_LOGS=1 python ...`) stay
  in front of it; the command after them is what gets rewritten.
  """
  assignments = re.match(r'(?:[A-Z_][A-Z0-9_]*=\S*\s+)*', command).group(0)
  return assignments, command[len(assignments):]


class Sandbox:
  """Rewrites a document's commands to run in `root` with small step counts."""

  def __init__(self, root, blocks):
    self.root = root
    self.ports = {}
    training = [line for block in blocks for line in block
                if '--max_steps' in
                _options(_module_parser(_split_assignments(line)[1]))]
    values = sorted({int(match) for line in training
                     for match in re.findall(r'--max_steps[= ](\d+)', line)})
    self.small_steps = {value: 10 * (rank + 1)
                        for rank, value in enumerate(values)}

  def _port(self, match):
    if match.group(1) not in self.ports:
      [self.ports[match.group(1)]] = ports.free_ports(1)
    return 'localhost:%d' % self.ports[match.group(1)]

  def _make_images(self, command):
    """Makes the relative image files a predict command names, in the sandbox."""
    words = shlex.split(command)
    for word in words[3:]:
      extension = os.path.splitext(word)[1].lower()
      if extension in _IMAGE_FORMATS and not os.path.isabs(word):
        path = os.path.join(self.root, word)
        Image.new('RGB', (40, 30), (200, 30, 30)).save(
            path, _IMAGE_FORMATS[extension])
        # As /tmp/<name>, which then points into the sandbox like any other.
        command = re.sub(r'(?<=\s)%s(?=\s|$)' % re.escape(word),
                         '/tmp/' + word, command)
    return command

  def rewrite(self, command):
    """The command as the test runs it, and the line it prints when up if a server."""
    assignments, command = _split_assignments(command)
    # The commands run in the repository: one that writes into it (saved
    # figures under docs/results/) would replace what the documents show.
    if re.search(r'(?<!\d)>\s*(?=[\w.])', command):
      raise AssertionError('a document\'s command writes a file in the '
                           'repository (list it in NOT_RUN): %s' % command)
    options = _options(_module_parser(command))
    added = []
    for flag, action in sorted(options.items()):
      if (action.dest.endswith('_dir') and isinstance(action.default, str) and
          action.default.startswith('/tmp/') and not _given(command, flag)):
        added += [flag, action.default]
    if '--max_steps' in options and '--job_name ps' not in command:
      if not _given(command, '--max_steps'):
        raise AssertionError('a document trains without --max_steps (add it, '
                             'or list the command in NOT_RUN): %s' % command)
      command = re.sub(r'--max_steps([= ])(\d+)', lambda m: '--max_steps%s%d' % (
          m.group(1), self.small_steps[int(m.group(2))]), command)
      if not _given(command, '--batch_size'):
        added += ['--batch_size', str(SMALL_BATCH)]
    if command.startswith('python -m cifar10.predict'):
      command = self._make_images(command)
    ready = None
    # Without either flag the evaluator loops, waiting for new checkpoints.
    if command.startswith('python -m cifar10.eval') and not any(
        _given(command, flag) for flag in ('--run_once', '--all_checkpoints')):
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
    command = re.sub(r'^python (scripts|benchmarks)/',
                     r'python %s/\1/' % documents.REPO, command)
    command = re.sub(r'^python ', shlex.quote(sys.executable) + ' ', command)
    return assignments + command, ready


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


def make_sandbox(root):
  """Fills `root` as /tmp: its cifar10_data stands in for the download.

  Its my_images holds a few dozen generated PNGs of each of two classes,
  standing in for the reader's own pictures (the guide's section 9).
  """
  synthetic.write_synthetic_dataset(os.path.join(root, 'cifar10_data'),
                                    train_records_per_file=100,
                                    test_records=200, seed=3)
  write_image_folder(os.path.join(root, 'my_images'),
                     {'cat': (200, 120, 40), 'dog': (60, 60, 200)},
                     np.random.default_rng(3), train_per_class=25,
                     test_per_class=5)
  return root


def run_document(path, root, children):
  """Runs every command of the document at `path` (relative to REPO) in `root`.

  Returns:
    {line as written: its output} of each command that ran to its end.
  """
  blocks = sh_blocks(documents.read(path))
  sandbox = Sandbox(root, blocks)
  outputs = {}
  for block in blocks:
    variables, background = {}, []
    for line in block:
      assignment = re.match(r'^(\w+)="(.*)"$', line)
      if assignment:
        variables[assignment.group(1)] = assignment.group(2)
        continue
      command, expected = _split_comment(_expand(line, variables))
      if _split_comment(line)[0] in NOT_RUN:
        continue
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
  return outputs
