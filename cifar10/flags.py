"""The one argparse parser every script starts from, and the flag types they share.

Flags are parsed once, in each script's `main`; nothing here runs at import time
beyond defining functions. Booleans accept `--flag`, `--flag=true` and
`--flag False` (the original's `type=bool` read "False" as true).
"""

import argparse
import sys

from cifar10 import cifar10
from cifar10 import download
from cifar10 import errors
from cifar10 import kernel_choice
from cifar10 import session_options

_TRUE = ('1', 'true', 't', 'yes', 'y', 'on')
_FALSE = ('0', 'false', 'f', 'no', 'n', 'off')


def parse_bool(text):
  """Reads a boolean flag value the way people type it."""
  lowered = text.strip().lower()
  if lowered in _TRUE:
    return True
  if lowered in _FALSE:
    return False
  raise argparse.ArgumentTypeError(
      'expected true or false, got %r' % text)


def positive_int(text):
  """An integer of at least 1."""
  return _bounded_int(text, minimum=1)


def non_negative_int(text):
  """An integer of at least 0."""
  return _bounded_int(text, minimum=0)


def _bounded_int(text, minimum):
  try:
    value = int(text)
  except ValueError:
    raise argparse.ArgumentTypeError('expected an integer, got %r' % text)
  if value < minimum:
    raise argparse.ArgumentTypeError(
        'must be at least %d, got %d' % (minimum, value))
  return value


def positive_float(text):
  """A number greater than 0."""
  try:
    value = float(text)
  except ValueError:
    raise argparse.ArgumentTypeError('expected a number, got %r' % text)
  if not value > 0:
    raise argparse.ArgumentTypeError('must be greater than 0, got %s' % text)
  return value


def add_bool(parser, name, help_text, default=False):
  """Adds a boolean flag usable as `--name`, `--name=true` or `--name false`."""
  parser.add_argument(
      '--' + name, type=parse_bool, nargs='?', const=True, default=default,
      metavar='BOOL', help=help_text)


def base_parser(description):
  """The flags every script shares, with the original tutorial's defaults."""
  parser = argparse.ArgumentParser(
      description=description,
      formatter_class=argparse.ArgumentDefaultsHelpFormatter)
  parser.add_argument(
      '--batch_size', type=positive_int, default=128,
      help='Number of images to process in a batch.')
  parser.add_argument(
      '--data_dir', default='/tmp/cifar10_data',
      help='Path to the CIFAR-10 data directory.')
  add_bool(parser, 'use_fp16', 'Train the model using fp16.')
  parser.add_argument(
      '--data_url', default=download.DATA_URL,
      help='Where to download cifar-10-binary.tar.gz from (a mirror works: '
           'the file is checked against the official MD5).')
  return parser


def add_session_flags(parser):
  """Adds the speed options of `session_options.SessionOptions`, all off."""
  parser.add_argument(
      '--mixed_precision', choices=session_options.MIXED_PRECISION_CHOICES,
      default='off',
      help='bf16: oneDNN runs the convolutions and matrix multiplies in '
           'bfloat16 while variables, checkpoints and the loss stay float32. '
           'Fast on CPUs with AMX or AVX512-BF16 (TensorFlow skips the rewrite '
           'elsewhere); results differ from float32 at bfloat16 precision.')
  add_bool(parser, 'xla',
           'Compile the graph with XLA auto-clustering (slower on CPUs: see '
           'the README\'s speed advice).')
  parser.add_argument(
      '--intra_op_threads', type=non_negative_int, default=0,
      help='Threads one op may use (0: TensorFlow\'s choice, one per core).')
  parser.add_argument(
      '--inter_op_threads', type=non_negative_int, default=0,
      help='Ops that may run at once (0: TensorFlow\'s choice).')


def run_script(main, argv=None):
  """Runs a script's main, turning a UserError into a message and exit status."""
  kernel_choice.announce()
  try:
    return main(argv)
  except errors.UserError as error:
    print('error: %s' % error, file=sys.stderr)
    return error.exit_status


def training_parser(description):
  """The shared flags plus those of the trainers (train, multi_gpu_train, ...)."""
  parser = base_parser(description)
  parser.add_argument(
      '--train_dir', default='/tmp/cifar10_train',
      help='Directory where to write event logs and checkpoint.')
  parser.add_argument(
      '--max_steps', type=positive_int, default=1000000,
      help='Number of batches to run (the global step to stop at).')
  parser.add_argument(
      '--log_frequency', type=positive_int, default=10,
      help='How often to log results to the console.')
  add_bool(parser, 'log_device_placement', 'Whether to log device placement.')
  add_bool(parser, 'fresh',
           'Start over: remove the checkpoints and event files of an earlier '
           'run in --train_dir (and nothing else) instead of resuming.')
  parser.add_argument(
      '--save_checkpoint_secs', type=positive_int, default=600,
      help='Save a checkpoint every this many seconds (the original: 10 '
           'minutes). Ignored when --save_checkpoint_steps is given.')
  parser.add_argument(
      '--save_checkpoint_steps', type=positive_int, default=None,
      help='Save a checkpoint every this many steps instead.')
  parser.add_argument(
      '--keep_checkpoints', type=positive_int, default=5,
      help='How many recent checkpoints to keep.')
  parser.add_argument(
      '--save_summaries_steps', type=positive_int, default=100,
      help='Write TensorBoard summaries every this many steps.')
  parser.add_argument(
      '--initial_learning_rate', type=positive_float,
      default=cifar10.INITIAL_LEARNING_RATE,
      help='The learning rate before its first decay (the original\'s '
           'INITIAL_LEARNING_RATE). Asynchronous distributed workers may '
           'need it divided by their number.')
  parser.add_argument(
      '--seed', type=int, default=None,
      help='Graph-level random seed for initial weights, shuffling and '
           'distortions (default: different every run, as the original). '
           'Runs with a seed repeat closely, not bit for bit: CPU kernels add '
           'in varying order.')
  add_session_flags(parser)
  return parser
