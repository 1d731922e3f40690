"""Flags: booleans that leave file names alone, defaults, bad values refused."""

import pytest

from cifar10 import dist_train
from cifar10 import eval as cifar10_eval
from cifar10 import export
from cifar10 import multi_gpu_train
from cifar10 import predict
from cifar10 import train


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


def test_defaults_are_the_originals():
  train_args = train.parser().parse_args([])
  assert (train_args.batch_size, train_args.data_dir, train_args.train_dir,
          train_args.max_steps, train_args.log_frequency,
          train_args.use_fp16, train_args.log_device_placement) == (
              128, '/tmp/cifar10_data', '/tmp/cifar10_train', 1000000, 10,
              False, False)
  eval_args = cifar10_eval.parser().parse_args([])
  assert (eval_args.eval_dir, eval_args.eval_data, eval_args.checkpoint_dir,
          eval_args.eval_interval_secs, eval_args.num_examples,
          eval_args.run_once) == ('/tmp/cifar10_eval', 'test',
                                  '/tmp/cifar10_train', 300, 10000, False)


@pytest.mark.parametrize('parser,flag', [
    (train.parser, '--train_dir'), (train.parser, '--max_steps'),
    (train.parser, '--data_url'), (cifar10_eval.parser, '--eval_interval_secs'),
    (cifar10_eval.parser, '--run_once')])
def test_help_lists_flags_with_defaults(parser, flag, capsys):
  with pytest.raises(SystemExit):
    parser().parse_args(['--help'])
  help_text = capsys.readouterr().out
  assert flag in help_text and '(default:' in help_text


@pytest.mark.parametrize('parser,argv,complaint', [
    (train.parser, ['--batch_size', '0'], 'must be at least 1, got 0'),
    (train.parser, ['--max_steps', '-1'], 'must be at least 1, got -1'),
    (train.parser, ['--log_frequency', 'often'], "expected an integer"),
    (cifar10_eval.parser, ['--eval_data', 'validation'], 'invalid choice'),
    (cifar10_eval.parser, ['--run_once=maybe'], 'expected true or false'),
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
