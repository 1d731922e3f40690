"""docs/flags.md is the parsers' own listing; what the documents say of flags, defaults and Python versions is what the code has."""

import re

import pytest

import documents

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
