"""Flags: booleans that leave file names alone, defaults, bad values refused."""

import os
import subprocess
import sys

import pytest

from conftest import DEADLINE_SECS
import script_modules
from cifar10 import cifar10
from cifar10 import convert_images
from cifar10 import dist_train
from cifar10 import eval as cifar10_eval
from cifar10 import export
from cifar10 import multi_gpu_train
from cifar10 import predict
from cifar10 import synthetic
import cifar10.train as train
from cifar10.support import flags

# The fast lane (docs/testing.md): the whole file.
pytestmark = pytest.mark.fast


@pytest.mark.parametrize('argv,expected', [
    ([], False), (['--run_once'], True), (['--run_once=true'], True),
    (['--run_once=False'], False), (['--run_once=0'], False),
    (['--run_once=yes'], True), (['--run_once=FALSE'], False),
    (['--run_once', '--run_once=false'], False),
    (['--run_once=false', '--run_once'], True)])
def test_boolean_flags_mean_what_they_say(argv, expected):
  assert cifar10_eval.parser().parse_args(argv).run_once is expected


def _boolean_options(parser):
  return [action.option_strings[0] for action in parser._actions
          if action.const is True and action.option_strings]


SCRIPTS = {'train': (train.parser, []),
           'multi_gpu_train': (multi_gpu_train.parser, []),
           'dist_train': (dist_train.parser, []),
           'eval': (cifar10_eval.parser, []),
           'predict': (predict.parser, ['cat.png']),
           'export': (export.parser, [])}


@pytest.mark.parametrize('script', sorted(SCRIPTS))
def test_no_boolean_flag_takes_the_argument_after_it(script):
  make_parser, positional = SCRIPTS[script]
  options = _boolean_options(make_parser())
  assert options  # --use_fp16 at least.
  for option in options:
    name = option[2:]
    for argv, expected in (([option], True), ([option + '=true'], True),
                           ([option + '=false'], False)):
      args = make_parser().parse_args(argv + positional)
      assert getattr(args, name) is expected, argv
    if positional:  # The file name after the flag stays a file name.
      args = make_parser().parse_args([option] + positional)
      assert getattr(args, name) is True and args.images == positional


@pytest.mark.parametrize('argv,json_output,images', [
    (['--json', 'cat.png'], True, ['cat.png']),
    (['cat.png', '--json'], True, ['cat.png']),
    (['--json=false', 'cat.png'], False, ['cat.png']),
    (['--json', 'cat.png', 'dog.jpg'], True, ['cat.png', 'dog.jpg']),
    (['--json', '--', '--odd-name.png'], True, ['--odd-name.png'])])
def test_predict_flags_leave_file_names_alone(argv, json_output, images):
  args = predict.parser().parse_args(argv)
  assert (args.json, args.images) == (json_output, images)


def test_a_separate_boolean_value_is_refused_with_the_spelling_that_works(
    capsys):
  with pytest.raises(SystemExit) as raised:
    cifar10_eval.parser().parse_args(['--run_once', 'False'])
  assert raised.value.code == 2
  assert 'argument --run_once: write --run_once=False' in \
      capsys.readouterr().err


# The defaults of the original tutorial (tensorflow/models,
# tutorials/image/cifar10, as last published there), written out here rather
# than read from the port, file by file. cifar10_input.py defines no flags.
# cifar10.py: the flags every script shares.
ORIGINAL_CIFAR10_PY = {'batch_size': 128, 'data_dir': '/tmp/cifar10_data',
                       'use_fp16': False}
# cifar10_train.py.
ORIGINAL_TRAIN_PY = {'train_dir': '/tmp/cifar10_train', 'max_steps': 100000,
                     'log_device_placement': False, 'log_frequency': 10}
# cifar10_multi_gpu_train.py: its own max_steps, ten times the other's.
ORIGINAL_MULTI_GPU_TRAIN_PY = {'train_dir': '/tmp/cifar10_train',
                               'max_steps': 1000000, 'num_gpus': 1,
                               'log_device_placement': False}
# cifar10_eval.py.
ORIGINAL_EVAL_PY = {'eval_dir': '/tmp/cifar10_eval', 'eval_data': 'test',
                    'checkpoint_dir': '/tmp/cifar10_train',
                    'eval_interval_secs': 60 * 5, 'num_examples': 10000,
                    'run_once': False}
# The one default the port changed (docs/from_the_original.md): None, not
# given, counts the original's 10,000 where the data holds them and all of
# them where it holds fewer, without a notice about a flag nobody gave
# (tests/test_run_bounds.py).
CHANGED_DEFAULTS = {'num_examples': None}


@pytest.mark.parametrize('make_parser,originals', [
    (train.parser, {**ORIGINAL_CIFAR10_PY, **ORIGINAL_TRAIN_PY}),
    (multi_gpu_train.parser,
     {**ORIGINAL_CIFAR10_PY, **ORIGINAL_MULTI_GPU_TRAIN_PY}),
    (cifar10_eval.parser, {**ORIGINAL_CIFAR10_PY, **ORIGINAL_EVAL_PY}),
    # No original: the distributed trainer takes cifar10_train.py's.
    (dist_train.parser, {**ORIGINAL_CIFAR10_PY, **ORIGINAL_TRAIN_PY}),
], ids=['train', 'multi_gpu_train', 'eval', 'dist_train'])
def test_defaults_are_the_originals(make_parser, originals):
  defaults = vars(make_parser().parse_args([]))
  expected = {name: CHANGED_DEFAULTS.get(name, value)
              for name, value in originals.items()}
  assert {name: defaults[name] for name in originals} == expected


def test_the_flags_default_to_the_models_own_constants():
  # flags.py repeats them, since --help is answered before TensorFlow (and
  # so cifar10.py) loads: each pair must agree.
  defaults = vars(train.parser().parse_args([]))
  assert (defaults['batch_size'], defaults['initial_learning_rate'],
          defaults['data_dir']) == (cifar10.BATCH_SIZE,
                                    cifar10.INITIAL_LEARNING_RATE,
                                    cifar10.DATA_DIR)
  # The schedule's too: the original's 0.1 every 350 epochs.
  assert (defaults['learning_rate_decay_factor'],
          defaults['num_epochs_per_decay']) == (
              cifar10.LEARNING_RATE_DECAY_FACTOR,
              cifar10.NUM_EPOCHS_PER_DECAY) == (0.1, 350.0)


@pytest.mark.parametrize('parser,flag', [
    (train.parser, '--train_dir'), (train.parser, '--max_steps'),
    (train.parser, '--data_url'), (cifar10_eval.parser, '--eval_interval_secs'),
    (cifar10_eval.parser, '--run_once')])
def test_help_lists_flags_with_defaults(parser, flag, capsys):
  with pytest.raises(SystemExit):
    parser().parse_args(['--help'])
  help_text = capsys.readouterr().out
  assert flag in help_text and '(default:' in help_text


def _flag_help(parser, flag, capsys):
  """The lines `--help` shows for `flag`, joined into one."""
  with pytest.raises(SystemExit):
    parser.parse_args(['--help'])
  lines = capsys.readouterr().out.splitlines()
  start = next(index for index, line in enumerate(lines)
               if line.lstrip().startswith(flag))
  end = next((index for index, line in enumerate(lines[start + 1:], start + 1)
              if line.lstrip().startswith('-')), len(lines))
  return ' '.join(' '.join(lines[start:end]).split())


@pytest.mark.parametrize('parser,trains', [
    (train.parser, True), (multi_gpu_train.parser, True),
    (dist_train.parser, True), (cifar10_eval.parser, False),
    (predict.parser, False), (export.parser, False)],
    ids=['train', 'multi_gpu_train', 'dist_train', 'eval', 'predict', 'export'])
def test_use_fp16_help_says_what_it_does_in_each_script(parser, trains,
                                                        capsys):
  help_text = _flag_help(parser(), '--use_fp16', capsys)
  # A trainer trains in float16; the tools that read a checkpoint take its
  # dtype from the checkpoint.
  assert ('Train the model in float16' in help_text) == trains
  assert ("the model is built in the checkpoint's own dtype" in
          help_text) == (not trains)


@pytest.mark.parametrize('parser,flag,stated', [
    (convert_images.parser, '--test_fraction', '(0.2 when not given)'),
    (train.parser, '--seed', 'Without it every run differs'),
    (cifar10_eval.parser, '--num_examples',
     "Not given: the original's 10,000, or all of them")],
    ids=['convert_images', 'train', 'eval'])
def test_a_flag_without_a_default_says_once_what_happens_without_it(
    parser, flag, stated, capsys):
  help_text = _flag_help(parser(), flag, capsys)
  assert stated in help_text and '(default:' not in help_text, help_text


@pytest.mark.parametrize('tool', ['plot_run', 'eval_image',
                                  'distortion_picture', 'layer_table',
                                  'accuracy_table', 'benchmark', 'cpu_study',
                                  'gpu_check', 'warm_start_study'])
def test_the_tools_in_scripts_show_defaults_as_the_modules_do(tool, capsys):
  # Before, plot_run.py's help ended required flags and flags without a
  # default with "(default: None)", and the other tools showed no default;
  # the tools in benchmarks/ said "(default: None)" too.
  parser = script_modules.load(tool).parser()
  for action in parser._actions:
    if action.option_strings[0] in ('-h', '--help'):
      continue
    help_text = _flag_help(parser, action.option_strings[0], capsys)
    assert '(default: None)' not in help_text
    # A long default may be wrapped anywhere: compare without the spaces.
    shown = ('(default:%s)' % action.default).replace(' ', '') in (
        help_text.replace(' ', ''))
    assert shown == (action.default is not None), help_text


@pytest.mark.parametrize('parser,argv,complaint', [
    (train.parser, ['--batch_size', '0'], 'must be at least 1, got 0'),
    (train.parser, ['--max_steps', '-1'], 'must be at least 1, got -1'),
    (train.parser, ['--log_frequency', 'often'], "expected an integer"),
    (cifar10_eval.parser, ['--eval_data', 'validation'], 'invalid choice'),
    (cifar10_eval.parser, ['--run_once=maybe'], 'expected true or false'),
    (train.parser, ['--initial_learning_rate', 'nan'],
     'must be greater than 0, got nan'),
    # Before: taken, and the loss was NaN at the first step.
    (train.parser, ['--initial_learning_rate', 'inf'],
     'must be a finite number, got inf'),
    (train.parser, ['--num_epochs_per_decay', 'Infinity'],
     'must be a finite number, got Infinity'),
])
def test_bad_values_are_refused_with_a_message(parser, argv, complaint, capsys):
  with pytest.raises(SystemExit) as raised:
    parser().parse_args(argv)
  assert raised.value.code == 2
  error = capsys.readouterr().err
  assert argv[0].split('=')[0] in error and complaint in error


def test_seed_defaults_to_none_and_takes_an_integer():
  assert train.parser().parse_args([]).seed is None
  assert train.parser().parse_args(['--seed', '7']).seed == 7


# Every `python -m cifar10.X` script and its parser function.
EVERY_SCRIPT = dict({name: parser for name, (parser, _) in SCRIPTS.items()},
                    synthetic=synthetic.parser,
                    convert_images=convert_images.parser)

# Runs the module named by its argument as `python -m` does, with --help, and
# says how it exited and whether TensorFlow had been imported by then.
_HELP_CHILD = """
import runpy, sys
module = sys.argv[1]
sys.argv = [module, '--help']
try:
  runpy.run_module(module, run_name='__main__', alter_sys=True)
except SystemExit as done:
  sys.stderr.write('exit %s, tensorflow imported: %s'
                   % (done.code, 'tensorflow' in sys.modules))
"""


@pytest.mark.parametrize('script', sorted(EVERY_SCRIPT))
def test_usage_shows_the_command_that_runs_the_script(script, capsys):
  make_parser = EVERY_SCRIPT[script]
  with pytest.raises(SystemExit) as raised:
    make_parser().parse_args(['--help'])
  assert raised.value.code == 0
  assert capsys.readouterr().out.startswith(
      'usage: python -m cifar10.%s [-h]' % script)


@pytest.mark.parametrize('script', sorted(EVERY_SCRIPT))
def test_help_is_answered_before_tensorflow_is_imported(script):
  # The import takes seconds; --help needs none of it.
  child = subprocess.run(
      [sys.executable, '-c', _HELP_CHILD, 'cifar10.' + script],
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
      timeout=DEADLINE_SECS)
  assert child.stdout.startswith('usage: python -m cifar10.%s [-h]' % script)
  assert child.stderr == 'exit 0, tensorflow imported: False'


@pytest.mark.parametrize('argv,meant', [
    (['--max_step', '20'], '--max_steps'), (['--max_steps=20', '--log_freq',
                                             '5'], '--log_frequency'),
    (['--fres'], '--fresh')])
def test_abbreviations_are_refused_naming_the_flag_meant(argv, meant, capsys):
  with pytest.raises(SystemExit) as raised:
    train.parser().parse_args(argv)
  assert raised.value.code == 2
  error = capsys.readouterr().err
  given = [arg for arg in argv if arg.startswith('--') and
           not arg.startswith('--max_steps=')][0]
  assert error == ('python -m cifar10.train: error: unrecognized flag %s; '
                   'did you mean %s? Flags are never abbreviated. '
                   '(python -m cifar10.train --help lists the flags)\n'
                   % (given, meant))


@pytest.mark.parametrize('argv,meant,why', [
    (['--max-steps', '20'], '--max_steps', ''),
    (['--train-dir=runs/a'], '--train_dir', ''),
    (['--log-freq', '5'], '--log_frequency', ' Flags are never abbreviated.'),
    (['--learning-rate', '0.05'], '--initial_learning_rate',
     ' That is its name here.')])
def test_a_flag_spelled_with_dashes_is_told_its_underscored_name(
    argv, meant, why, capsys):
  # absl and many argparse scripts take --max-steps; the refusal named
  # neither the flag nor the spelling.
  with pytest.raises(SystemExit) as raised:
    train.parser().parse_args(argv)
  assert raised.value.code == 2
  given = argv[0].partition('=')[0]
  assert capsys.readouterr().err == (
      'python -m cifar10.train: error: unrecognized flag %s; did you mean '
      '%s? Flags are written with underscores, not dashes.%s '
      '(python -m cifar10.train --help lists the flags)\n'
      % (given, meant, why))
  # Followed, the advice's spelling is taken.
  parsed = train.parser().parse_args(
      [meant + '=' + (argv[0].partition('=')[2] or argv[1])])
  assert str(getattr(parsed, meant[2:])) == (
      argv[0].partition('=')[2] or argv[1])


@pytest.mark.parametrize('make_parser,given,meant', [
    (train.parser, '--learning_rate', '--initial_learning_rate'),
    (dist_train.parser, '--lr', '--initial_learning_rate'),
    (train.parser, '--checkpoint_dir', '--train_dir'),
    (multi_gpu_train.parser, '--model_dir', '--train_dir'),
    (cifar10_eval.parser, '--train_dir', '--checkpoint_dir'),
    (predict.parser, '--train_dir', '--checkpoint_dir'),
    (export.parser, '--model_dir', '--checkpoint_dir'),
    (cifar10_eval.parser, '--intra_op_parallelism_threads',
     '--intra_op_threads')])
def test_another_tools_name_is_told_the_flag_of_that_meaning(
    make_parser, given, meant, capsys):
  # --learning_rate was told --learning_rate_decay_factor, which it begins.
  with pytest.raises(SystemExit) as raised:
    make_parser().parse_args(['%s=0.05' % given, 'cat.png'])
  assert raised.value.code == 2
  error = capsys.readouterr().err
  assert ('error: unrecognized flag %s; did you mean %s? That is its name '
          'here. (' % (given, meant)) in error


@pytest.mark.parametrize('make_parser,given,meant', [
    (train.parser, '--batchsize', '--batch_size'),
    (cifar10_eval.parser, '--checkpoint_dirr', '--checkpoint_dir'),
    (predict.parser, '--chekpoint_dir', '--checkpoint_dir'),
    (train.parser, '--save_checkpoints_secs',
     '--save_checkpoint_secs or --save_checkpoint_steps')])
def test_a_slip_of_the_keys_is_told_the_flags_spelled_nearly_alike(
    make_parser, given, meant, capsys):
  # They were refused as unknown arguments, naming nothing.
  with pytest.raises(SystemExit) as raised:
    make_parser().parse_args([given, '10', 'cat.png'])
  assert raised.value.code == 2
  assert ('error: unrecognized flag %s; did you mean %s? (' % (given, meant)
          in capsys.readouterr().err)


@pytest.mark.parametrize('make_parser,given', [
    (train.parser, '--num_epochs'), (train.parser, '--save_checkpoint'),
    (train.parser, '--epochs'), (cifar10_eval.parser, '--learning_rate')])
def test_a_whole_word_name_is_not_told_the_longer_flags_it_begins(
    make_parser, given, capsys):
  # --num_epochs 10 would set --num_epochs_per_decay, of another meaning.
  with pytest.raises(SystemExit) as raised:
    make_parser().parse_args([given, '10'])
  assert raised.value.code == 2
  assert ('error: unrecognized arguments: %s 10 (' % given
          in capsys.readouterr().err)


def test_a_refusal_is_one_line_without_the_usage_block(capsys):
  with pytest.raises(SystemExit):
    cifar10_eval.parser().parse_args(['--eval_data', 'validation'])
  captured = capsys.readouterr()
  assert captured.out == ''
  assert len(captured.err.splitlines()) == 1
  assert captured.err.startswith('python -m cifar10.eval: error: argument '
                                 '--eval_data: invalid choice')
  assert 'usage:' not in captured.err


@pytest.mark.parametrize('make_parser,positional', [
    (predict.parser, ['cat.png']), (export.parser, [])])
def test_predict_and_export_take_no_data_set_flags(make_parser, positional,
                                                   tmp_path, capsys):
  # Their --data_dir used to be checked, on its default too, though unused.
  options = {option for action in make_parser()._actions
             for option in action.option_strings}
  assert not options & {'--data_dir', '--data_url'}
  assert ('--batch_size' in options) == (make_parser is predict.parser)
  with pytest.raises(SystemExit) as raised:
    make_parser().parse_args(['--data_dir', str(tmp_path)] + positional)
  assert raised.value.code == 2
  assert 'unrecognized arguments: --data_dir' in capsys.readouterr().err


# Every path a script takes, by script: (the flag or positional's name in
# messages, the other arguments it is parsed with, what the refusal asks for).
_TRAINER_PATHS = [('--data_dir', 'a folder'), ('--train_dir', 'a folder'),
                  ('--warm_start_from',
                   'a checkpoint or a training run\'s folder')]
PATH_ARGUMENTS = dict(
    train=_TRAINER_PATHS, multi_gpu_train=_TRAINER_PATHS,
    dist_train=_TRAINER_PATHS,
    eval=[('--data_dir', 'a folder'), ('--eval_dir', 'a folder'),
          ('--checkpoint_dir', 'a folder')],
    predict=[('--checkpoint_dir', 'a folder'), ('IMAGE', 'an image file')],
    export=[('--checkpoint_dir', 'a folder'), ('--export_dir', 'a folder')],
    synthetic=[('--data_dir', 'a folder')],
    convert_images=[('SRC', 'a folder'), ('OUT', 'a folder')])

# The arguments that name files or folders, by their namespace attribute.
_PATH_DESTS = ('data_dir', 'train_dir', 'warm_start_from', 'eval_dir',
               'checkpoint_dir', 'export_dir', 'images', 'src', 'out')


def test_every_path_argument_is_in_the_list_of_paths():
  for script, make_parser in EVERY_SCRIPT.items():
    listed = {name for name, _ in PATH_ARGUMENTS[script]}
    found = {action.option_strings[0] if action.option_strings
             else action.metavar for action in make_parser()._actions
             if action.dest in _PATH_DESTS}
    assert found == listed, script


@pytest.mark.parametrize('script,name,what', [
    (script, name, what)
    for script, arguments in sorted(PATH_ARGUMENTS.items())
    for name, what in arguments])
def test_an_empty_path_is_refused_naming_its_flag(script, name, what, tmp_path,
                                                  capsys):
  # As `--export_dir "$EXPORT"` reads with EXPORT unset: TensorFlow took ''
  # for the current folder (eval wrote its events there) or failed deep in
  # a traceback.
  if name.startswith('--'):
    argv = [name, ''] + (['cat.png'] if script == 'predict' else [])
  else:
    argv = {'IMAGE': ['cat.png', ''], 'SRC': ['', str(tmp_path / 'out')],
            'OUT': [str(tmp_path), '']}[name]
  with pytest.raises(SystemExit) as raised:
    EVERY_SCRIPT[script]().parse_args(argv)
  assert raised.value.code == 2
  assert capsys.readouterr().err == (
      'python -m cifar10.%s: error: argument %s: an empty path; give %s (an '
      'unset shell variable gives an empty one) (python -m cifar10.%s --help '
      'lists the flags)\n' % (script, name, what, script))
  assert os.listdir(str(tmp_path)) == []  # Nothing was written.


# The tools in scripts/ and their path flags: (the flag, the other arguments
# it is parsed with, its namespace attribute).
_TOOL_PATHS = {
    'plot_run': [('--train_dir', ['--output', 'p.png'], 'train_dir'),
                 ('--eval_dir', ['--train_dir', 'r', '--output', 'p.png'],
                  'eval_dir'),
                 ('--output', ['--train_dir', 'r'], 'output')],
    'eval_image': [('--eval_dir', ['--output', 'p.png'], 'eval_dir'),
                   ('--output', [], 'output')],
    'distortion_picture': [('--data_dir', ['--output', 'p.png'], 'data_dir'),
                           ('--output', [], 'output')],
    'flags_doc': [('--output', [], 'output')],
    # The measurement tools in benchmarks/.
    'accuracy_table': [
        ('--train_dir', ['--eval_dir', 'e'], 'train_dir'),
        ('--eval_dir', ['--train_dir', 'r'], 'eval_dir'),
        ('--json', ['--train_dir', 'r', '--eval_dir', 'e'], 'json'),
        ('--markdown', ['--train_dir', 'r', '--eval_dir', 'e'], 'markdown')],
    'benchmark': [('--data_dir', [], 'data_dir')],
    'cpu_study': [('--data_dir', [], 'data_dir')],
    'gpu_check': [('--out_dir', [], 'out_dir'),
                  ('--data_dir', ['--out_dir', 'o'], 'data_dir')],
    'warm_start_study': [
        ('--cifar_dir', ['--work_dir', 'w'], 'cifar_dir'),
        ('--work_dir', ['--cifar_dir', 'c'], 'work_dir'),
        ('--json', ['--cifar_dir', 'c', '--work_dir', 'w'], 'json')],
}


@pytest.fixture
def home(tmp_path, monkeypatch):
  """A home folder of the test's own, as HOME names it to ~."""
  folder = tmp_path / 'home'
  folder.mkdir()
  monkeypatch.setenv('HOME', str(folder))
  return str(folder)


def _tilde_argv(script, name):
  """The arguments that give path argument `name` as ~/given, and the
  namespace attribute that holds it."""
  other = ['cat.png'] if script == 'predict' else []
  if name.startswith('--'):
    return [name + '=~/given'] + other, name[2:]
  return {'IMAGE': (['~/given'], 'images'),
          'SRC': (['~/given', 'out'], 'src'),
          'OUT': (['src', '~/given'], 'out')}[name]


@pytest.mark.parametrize('script,name', [
    (script, name) for script, arguments in sorted(PATH_ARGUMENTS.items())
    for name, _ in arguments])
def test_a_leading_tilde_is_the_home_folder_in_every_path_argument(
    script, name, home):
  # Before: `--train_dir=~/run` (the shell expands no ~ after "=") trained
  # into ./~/run, while every message said ~/run; an advice naming it sent
  # a user's `rm -rf ~/run` to their home.
  argv, dest = _tilde_argv(script, name)
  value = getattr(EVERY_SCRIPT[script]().parse_args(argv), dest)
  if isinstance(value, list):  # predict's IMAGE arguments.
    value = value[0]
  assert value == os.path.join(home, 'given')
  assert not os.path.exists('~')


@pytest.mark.parametrize('tool,name,others,dest', [
    (tool, name, others, dest) for tool, flags in sorted(_TOOL_PATHS.items())
    for name, others, dest in flags])
def test_a_leading_tilde_is_the_home_folder_in_the_tools_too(
    tool, name, others, dest, home):
  parsed = script_modules.load(tool).parser().parse_args(
      [name + '=~/given'] + others)
  value = getattr(parsed, dest)
  assert (value[0] if isinstance(value, list) else value) == os.path.join(
      home, 'given')


# The tools' own path flags, beyond the scripts' (_PATH_DESTS).
_TOOL_PATH_DESTS = ('output', 'json', 'markdown', 'out_dir', 'cifar_dir',
                    'work_dir')


@pytest.mark.parametrize('module', ['roofline', 'ports', 'measured_on'])
def test_a_helper_module_of_the_benchmarks_run_as_a_tool_says_so(module):
  # Before: roofline.py --help measured a matmul among TensorFlow's start-up
  # lines; ports.py and measured_on.py printed nothing and exited 0.
  done = subprocess.run(
      [sys.executable, os.path.join(script_modules.BENCHMARKS, module + '.py'),
       '--help'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
      timeout=DEADLINE_SECS)
  assert (done.returncode, done.stdout) == (1, '')
  assert done.stderr.startswith('benchmarks/%s.py is a module that ' % module)
  assert done.stderr.endswith(', not a tool: run python benchmarks/'
                              'benchmark.py (README.md lists the tools).\n')


def test_predict_takes_images_on_both_sides_of_a_flag(home):
  # Before: "unrecognized arguments: b.png", of an image like the first.
  parse = EVERY_SCRIPT['predict']().parse_args
  assert parse(['a.png', '--top_k', '1', 'b.png', '~/c.png']).images == [
      'a.png', 'b.png', os.path.join(home, 'c.png')]
  assert parse(['--top_k', '1', 'a.png', '--json', 'b.png']).images == [
      'a.png', 'b.png']


def test_the_tools_path_flags_are_all_listed():
  for tool, listed in _TOOL_PATHS.items():
    found = {action.option_strings[0]
             for action in script_modules.load(tool).parser()._actions
             if action.dest in _PATH_DESTS + _TOOL_PATH_DESTS}
    assert found == {name for name, _, _ in listed}, tool


@pytest.mark.parametrize('text,expected', [
    ('~', '{home}'), ('~/run', '{home}/run'), ('~/', '{home}/'),
    # Only a leading ~ is the home folder, as in the shell.
    ('./~/run', './~/run'), ('run~', 'run~'), ('a/~/b', 'a/~/b'),
    # A URL is not a local path.
    ('gs://bucket/~/run', 'gs://bucket/~/run'), ('ram://~/run', 'ram://~/run')])
def test_expand_home_reads_a_path_as_the_shell_does(text, expected, home):
  assert flags.expand_home(text) == expected.format(home=home)
  assert flags.non_empty_path()(text) == expected.format(home=home)
