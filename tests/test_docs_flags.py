"""docs/flags.md is the parsers' own listing; what the documents say of flags, defaults and Python versions is what the code has."""

import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from cifar10.support import errors
from conftest import DEADLINE_SECS
import documents
import script_modules
import test_guide_scripts

# The fast lane (docs/testing.md): the whole file.
pytestmark = pytest.mark.fast

# Where a document states a flag's default: "`--flag` ... default `VALUE`" or
# "(default 5)" after it in the same table row or sentence, or "`--flag`
# steps (10)" and "`--flag` (5 minutes)" as the guide writes them.
_VALUE = r'(?:`([^`]+)`|(\d[\d,.]*))'
_STATED = (
    re.compile(r'`(--\w+)`[^.%s]{0,80}?\bdefaults? ' + _VALUE),
    re.compile(r'`(--\w+)`[ \w]{0,12} \((\d[\d,.]*)()(?: (minutes|seconds))?\)'),
)
_SECONDS = {'minutes': 60, 'seconds': 1}


def _normal(value):
  return value.strip('`').replace(',', '')


def _passages(text):
  """Each table row, and each other paragraph joined into one line."""
  rows = [line for line in text.splitlines() if line.startswith('|')]
  prose = re.sub(r'^\|.*$', '', text, flags=re.M)
  return rows + [' '.join(paragraph.split())
                 for paragraph in re.split(r'\n\s*\n', prose)]


def stated_defaults(text):
  """[(flag, value as written, value in the flag's unit)] stated in `text`."""
  found = []
  for passage in _passages(text):
    # In a table row the default may be in another cell than the flag.
    cells = '' if passage.startswith('|') else '|'
    for index, pattern in enumerate(_STATED):
      if index == 0:
        pattern = re.compile(pattern.pattern % cells)
      for match in pattern.finditer(passage):
        written = match.group(2) or match.group(3)
        value = _normal(written)
        if index == 1 and match.group(4):
          value = str(int(float(value) * _SECONDS[match.group(4)]))
        found.append((match.group(1), written, value))
  return found


def parser_defaults():
  """{flag: {default as text}} over every script's parser."""
  defaults = {}
  for parser in documents.parsers().values():
    for action in parser._actions:  # pylint: disable=protected-access
      for option in action.option_strings:
        defaults.setdefault(option, set()).add(
            _normal(str(action.default)).lower())
  return defaults


def test_flags_md_is_generated_from_the_parsers():
  fresh = documents.flags_doc().markdown()
  assert documents.read('docs/flags.md') == fresh, (
      'docs/flags.md differs from the parsers; regenerate it with: %s'
      % documents.flags_doc().REGENERATE)


def test_flags_md_lists_every_flag_of_the_trainer():
  text = documents.read('docs/flags.md')
  train = documents.parsers()['python -m cifar10.train']
  for action in train._actions:  # pylint: disable=protected-access
    for option in action.option_strings:
      if option not in ('-h', '--help'):
        assert '| `%s` |' % option in text, option


def test_the_documents_state_the_parsers_defaults():
  defaults = parser_defaults()
  checked, wrong = [], []
  for path in documents.paths():
    if path == 'docs/flags.md':
      continue
    for flag, written, value in stated_defaults(documents.read(path)):
      if flag not in defaults:
        continue  # A flag of a script without parser(), such as --rounds.
      checked.append((path, flag))
      if value.lower() not in defaults[flag]:
        wrong.append('%s: %s default %s, but the parsers say %s'
                     % (path, flag, written, ' or '.join(sorted(defaults[flag]))))
  assert not wrong, '\n'.join(wrong)
  # The README's folder defaults and the guide's log frequency are among them.
  assert {('README.md', '--data_dir'), ('README.md', '--eval_dir'),
          ('docs/guide.md', '--log_frequency')} <= set(checked), checked


def test_the_default_folders_the_guide_names_are_the_parsers():
  folder_defaults = set()
  for parser in documents.parsers().values():
    for action in parser._actions:  # pylint: disable=protected-access
      if action.dest.endswith('_dir') and isinstance(action.default, str):
        folder_defaults.add(action.default)
  text = ' '.join(documents.read('docs/guide.md').split())
  sentence = re.search(r'With no flags the scripts use [^:]*:([^.]*)\.', text)
  named = set(re.findall(r'`(/tmp/[\w/]+)`', sentence.group(1)))
  assert len(named) == 3 and named <= folder_defaults, (named, folder_defaults)


def test_a_wrong_stated_default_is_found():
  stated = stated_defaults(
      'the folder (default `/tmp/elsewhere`) of `--data_dir`.\n'
      '| `--data_dir` | all | the data (default `/tmp/cifar10_dat`) |\n'
      'Every `--eval_interval_secs` (5 minutes) it looks.')
  assert stated == [('--data_dir', '/tmp/cifar10_dat', '/tmp/cifar10_dat'),
                    ('--eval_interval_secs', '5', '300')]
  defaults = parser_defaults()
  assert '/tmp/cifar10_dat' not in defaults['--data_dir']
  assert '300' in defaults['--eval_interval_secs']


def test_every_script_names_its_command_refuses_abbreviations_and_explains_each_flag():
  for command, parser in documents.parsers().items():
    assert parser.prog == command
    assert parser.allow_abbrev is False, command
    for action in parser._actions:  # pylint: disable=protected-access
      assert action.help, '%s: %s has no help' % (
          command, action.option_strings or action.dest)


def test_the_readme_states_the_python_versions_setup_py_allows():
  setup = documents.read('setup.py')
  low, high = re.search(r"python_requires='>=3\.(\d+),<3\.(\d+)'",
                        setup).groups()
  newest = int(high) - 1
  classifiers = {int(minor) for minor in re.findall(
      r"'Programming Language :: Python :: 3\.(\d+)'", setup)}
  assert classifiers == set(range(int(low), newest + 1))
  assert 'Python 3.%s to 3.%d' % (low, newest) in documents.read('README.md')


def _refusal(argv):
  """The message of flags_doc's refusal of `argv`."""
  with pytest.raises(errors.UserError) as raised:
    documents.flags_doc().main(argv)
  return str(raised.value)


def test_flags_doc_keeps_a_users_file_then_a_new_name_or_overwrite(
    tmp_path, capsys):
  # Before: notes.txt was replaced by the listing, said as "Wrote ...".
  flags_doc = documents.flags_doc()
  mine = tmp_path / 'notes.txt'
  mine.write_text('my notes')
  assert _refusal(['--output', str(mine)]) == (
      '--output %s exists already, and nothing is written over. Give a new '
      'file, such as --output %s, or add --overwrite to replace it.'
      % (mine, tmp_path / 'notes_2.txt'))
  assert mine.read_text() == 'my notes'
  # "Give a new file, such as --output .../notes_2.txt".
  assert flags_doc.main(['--output', str(tmp_path / 'notes_2.txt')]) == 0
  assert (tmp_path / 'notes_2.txt').read_text() == flags_doc.markdown()
  # A file it wrote is its own: written again without --overwrite.
  assert flags_doc.main(['--output', str(tmp_path / 'notes_2.txt')]) == 0
  # "or add --overwrite to replace it".
  assert flags_doc.main(['--output', str(mine), '--overwrite']) == 0
  assert mine.read_text() == flags_doc.markdown()
  assert capsys.readouterr().out == ''.join(
      'Wrote %s\n' % (tmp_path / name)
      for name in ('notes_2.txt', 'notes_2.txt', 'notes.txt'))


def test_flags_doc_regenerates_its_file_as_the_docs_say(tmp_path,
                                                        monkeypatch):
  # `python scripts/flags_doc.py` rewrites docs/flags.md, which exists, with
  # no --overwrite: here a stale copy of it stands in for it.
  flags_doc = documents.flags_doc()
  stale = tmp_path / 'flags.md'
  shutil.copy(os.path.join(script_modules.ROOT, 'docs', 'flags.md'), stale)
  with open(stale, 'a') as stream:
    stream.write('| `--gone` | 1 | A flag since removed. |\n')
  monkeypatch.setattr(flags_doc, 'FLAGS_MD', str(stale))
  assert flags_doc.main([]) == 0
  assert stale.read_text() == flags_doc.markdown()


def test_flags_doc_refuses_a_folder_then_a_file_in_it(tmp_path):
  # Before: IsADirectoryError and its traceback.
  folder = tmp_path / 'docs'
  folder.mkdir()
  message = _refusal(['--output', str(folder), '--overwrite'])
  assert message == (
      '--output %s is a folder. Give a new file, such as --output %s.'
      % (folder, folder / 'flags.md'))
  # "Give a new file, such as --output DIR/flags.md".
  typed, = shlex.split(message.rpartition('--output ')[2][:-1])
  assert documents.flags_doc().main(['--output', typed]) == 0
  assert os.listdir(folder) == ['flags.md']


def test_flags_doc_refuses_a_missing_folder_in_one_line_then_made_as_told(
    tmp_path):
  # Before: TensorFlow's held-back start-up lines, then FileNotFoundError
  # and its traceback.
  output = str(tmp_path / 'nodir' / 'x.md')
  done = subprocess.run(
      [sys.executable, script_modules.path('flags_doc'), '--output', output],
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
      timeout=DEADLINE_SECS)
  assert (done.returncode, done.stdout) == (1, '')
  error, = [line for line in done.stderr.splitlines()
            if not line.startswith('cifar10: using oneDNN CPU kernels')]
  assert error == (
      'error: --output %s: the folder %s does not exist. Create it (mkdir -p '
      '%s) or give another --output.' % (output, tmp_path / 'nodir',
                                         tmp_path / 'nodir'))
  assert os.listdir(tmp_path) == []
  # "Create it (mkdir -p DIR)".
  test_guide_scripts.follow_mkdir_advice(error)
  assert documents.flags_doc().main(['--output', output]) == 0
  assert os.listdir(tmp_path / 'nodir') == ['x.md']


def test_flags_doc_refuses_an_empty_output_in_one_line(capsys):
  # Before: `--output "$OUT"` with OUT unset rewrote docs/flags.md, and a
  # refused flag printed argparse's usage block first.
  with pytest.raises(SystemExit) as raised:
    documents.flags_doc().parser().parse_args(['--output', ''])
  assert raised.value.code == 2
  assert capsys.readouterr().err == (
      'python scripts/flags_doc.py: error: argument --output: an empty path; '
      'give a file to write (an unset shell variable gives an empty one) '
      '(python scripts/flags_doc.py --help lists the flags)\n')
