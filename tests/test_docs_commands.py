"""Every command of README.md and docs/*.md runs as written (see doc_commands.py)."""

import os
import re

from PIL import Image
import pytest

import doc_commands
import documents

# The guide's commands run in tests/test_guide.py, which also checks their output.
RUN_HERE = [path for path in documents.paths()
            if path != 'docs/guide.md' and any(
                line.partition('  #')[0].strip() not in doc_commands.NOT_RUN
                for block in doc_commands.sh_blocks(documents.read(path))
                for line in block)]


@pytest.mark.starts_first
@pytest.mark.parametrize('path', RUN_HERE)
def test_every_command_of_the_document_runs(path, tmp_path, children):
  root = doc_commands.make_sandbox(str(tmp_path))
  outputs = doc_commands.run_document(path, root, children)
  assert outputs, path


def test_the_documents_with_commands_are_run():
  assert {'README.md', 'docs/accuracy.md', 'docs/distributed.md'} <= set(
      RUN_HERE)


def test_each_command_not_run_is_in_a_document():
  shown = {line.partition('  #')[0].strip()
           for path in documents.paths()
           for block in doc_commands.sh_blocks(documents.read(path))
           for line in block}
  assert not set(doc_commands.NOT_RUN) - shown, (
      set(doc_commands.NOT_RUN) - shown)


def test_max_steps_keep_their_order_and_folders_get_their_defaults():
  sandbox = doc_commands.Sandbox('/sandbox', [[
      'python -m cifar10.train --max_steps 300',
      'python -m cifar10.train --max_steps 20',
      'python -m cifar10.train --max_steps 10000']])
  assert sandbox.small_steps == {20: 10, 300: 20, 10000: 30}
  command, ready = sandbox.rewrite('python -m cifar10.eval --checkpoint_dir '
                                   '/tmp/run')
  assert ready == r'precision @ 1 = '
  assert ('--checkpoint_dir /sandbox/run --data_dir /sandbox/cifar10_data '
          '--eval_dir /sandbox/cifar10_eval --eval_interval_secs 1') in command
  command, ready = sandbox.rewrite('python -m cifar10.export')
  assert ready is None
  assert '--export_dir /sandbox/cifar10_model' in command
  # A trainer's batch becomes small unless the command names one.
  command, _ = sandbox.rewrite('python -m cifar10.multi_gpu_train '
                               '--max_steps 300')
  assert '--max_steps 20' in command and '--batch_size %d' % (
      doc_commands.SMALL_BATCH) in command
  command, _ = sandbox.rewrite('python -m cifar10.train --max_steps 20 '
                               '--batch_size 32')
  assert command.count('--batch_size') == 1 and '--batch_size 32' in command
  with pytest.raises(AssertionError, match='without --max_steps'):
    sandbox.rewrite('python -m cifar10.train')


@pytest.mark.parametrize('command, rewritten', [
    ('python benchmarks/cpu_study.py --only cpu_classes > '
     'docs/results/cpu_classes.jsonl', None),
    ('python benchmarks/benchmark.py >results.jsonl', None),
    ('python benchmarks/benchmark.py > /tmp/speed.jsonl',
     '> /sandbox/speed.jsonl'),
    ('python benchmarks/benchmark.py 2>&1 | tail', '2>&1 | tail')])
def test_a_command_that_would_write_into_the_repository_is_refused(
    command, rewritten):
  """The commands run in the repository: saved figures must not be replaced.

  `rewritten`: what the command keeps of its redirection, or None where it
  is refused.
  """
  sandbox = doc_commands.Sandbox('/sandbox', [])
  if rewritten is None:
    with pytest.raises(AssertionError, match='list it in NOT_RUN'):
      sandbox.rewrite(command)
  else:
    assert rewritten in sandbox.rewrite(command)[0]


def test_the_images_predict_is_given_are_made(tmp_path):
  sandbox = doc_commands.Sandbox(str(tmp_path), [])
  command, _ = sandbox.rewrite(
      'python -m cifar10.predict cat.png truck.jpg --checkpoint_dir /tmp/run')
  for name, form in (('cat.png', 'PNG'), ('truck.jpg', 'JPEG')):
    path = os.path.join(str(tmp_path), name)
    assert re.search(r'\s%s(\s|$)' % re.escape(path), command), command
    with Image.open(path) as image:
      assert image.format == form


def test_every_picture_of_the_documents_exists_and_is_small():
  for path in documents.paths():
    folder = os.path.dirname(os.path.join(documents.REPO, path))
    for picture in re.findall(r'!\[[^\]]*\]\(([^)]+)\)', documents.read(path)):
      file = os.path.join(folder, picture)
      assert os.path.isfile(file), (path, picture)
      assert os.path.getsize(file) < 150 * 1024, (path, picture)


def _anchor(heading):
  """GitHub's anchor of a heading: lower case, punctuation dropped, - for spaces."""
  return re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-')


def _anchors(text):
  text = re.sub(r'^```.*?^```', '', text, flags=re.M | re.S)
  return {_anchor(heading) for heading in re.findall(r'^#+ (.*)$', text, re.M)}


def test_every_link_between_the_documents_resolves():
  broken = []
  for path in documents.paths():
    folder = os.path.dirname(path)
    prose = re.sub(r'^```.*?^```|`[^`\n]*`', '', documents.read(path),
                   flags=re.M | re.S)
    for target in re.findall(r'\]\(([^)\s]+)\)', prose):
      if re.match(r'\w+:', target):
        continue  # A web address.
      file, _, anchor = target.partition('#')
      linked = os.path.normpath(os.path.join(folder, file)) if file else path
      if not os.path.exists(os.path.join(documents.REPO, linked)):
        broken.append('%s: %s (no such file)' % (path, target))
      elif anchor and anchor not in _anchors(documents.read(linked)):
        broken.append('%s: %s (no such heading)' % (path, target))
  assert not broken, '\n'.join(broken)


def test_anchors_are_githubs():
  assert _anchor('4. Training: one step, and the log line') == (
      '4-training-one-step-and-the-log-line')
  assert _anchor('Several GPUs: `cifar10.multi_gpu_train`') == (
      'several-gpus-cifar10multi_gpu_train')
