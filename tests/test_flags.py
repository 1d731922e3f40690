"""Flags: booleans as people type them, defaults in --help, bad values refused."""

import pytest

from cifar10 import eval as cifar10_eval
from cifar10 import train


@pytest.mark.parametrize('argv,expected', [
    ([], False), (['--run_once'], True), (['--run_once=true'], True),
    (['--run_once', 'False'], False), (['--run_once=0'], False),
    (['--run_once', 'yes'], True), (['--run_once=FALSE'], False)])
def test_boolean_flags_mean_what_they_say(argv, expected):
  assert cifar10_eval.parser().parse_args(argv).run_once is expected


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
    (cifar10_eval.parser, ['--run_once', 'maybe'], 'expected true or false'),
])
def test_bad_values_are_refused_with_a_message(parser, argv, complaint, capsys):
  with pytest.raises(SystemExit) as raised:
    parser().parse_args(argv)
  assert raised.value.code == 2
  error = capsys.readouterr().err
  assert argv[0] in error and complaint in error


def test_seed_defaults_to_none_and_takes_an_integer():
  assert train.parser().parse_args([]).seed is None
  assert train.parser().parse_args(['--seed', '7']).seed == 7
