"""The argparse parser all scripts share, and the value checks their flags use.

Each script builds its parser here and parses its command line once, in its
`main`. This module, and those it imports, load no TensorFlow (its import
takes seconds): each script defines its flags above its own TensorFlow
imports and answers `--help` before them (`script.start`).

Boolean flags are written `--name`, `--name=true` or `--name=false`: they
never take the next word as their value, so `predict --json cat.png`
classifies cat.png. (The original used `type=bool`, which reads "False" as
true; a flag that took an optional separate value would swallow a file name.)
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import argparse
import difflib
import math
import os
import sys

from cifar10.support import data_choice
from cifar10.support import data_sets
from cifar10.support import errors
from cifar10.support import paths
from cifar10.support import storage

# The flags' defaults for the model's own constants, cifar10.BATCH_SIZE (the
# original's 128 images) and the learning rate's schedule
# (cifar10.INITIAL_LEARNING_RATE, LEARNING_RATE_DECAY_FACTOR and
# NUM_EPOCHS_PER_DECAY): written again here because --help is answered
# before TensorFlow, and so the model, loads. tests/test_flags.py holds each
# pair equal.
BATCH_SIZE = 128
INITIAL_LEARNING_RATE = 0.1
LEARNING_RATE_DECAY_FACTOR = 0.1
NUM_EPOCHS_PER_DECAY = 350.0

# --mixed_precision's values: float32 throughout, or bfloat16 matrix math.
MIXED_PRECISION_CHOICES = ('off', 'bf16')

_TRUE = ('1', 'true', 't', 'yes', 'y', 'on')
_FALSE = ('0', 'false', 'f', 'no', 'n', 'off')


def parse_bool(text):
  """Reads `text` as a boolean: true/false, yes/no, on/off or 1/0, any case.

  Raises:
    argparse.ArgumentTypeError: `text` is none of those words.
  """
  lowered = text.strip().lower()
  if lowered in _TRUE:
    return True
  if lowered in _FALSE:
    return False
  raise argparse.ArgumentTypeError(
      'expected true or false, got %r' % text)


def positive_int(text):
  """Reads an integer of 1 or more; ArgumentTypeError names a bad `text`."""
  return _bounded_int(text, minimum=1)


def non_negative_int(text):
  """Reads an integer of 0 or more; ArgumentTypeError names a bad `text`."""
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
  """Reads a finite number above 0; ArgumentTypeError names a bad `text`.

  float() takes 'inf' (and 'nan', which the comparison refuses): a rate or
  a period that is infinite trains nothing (the loss is NaN at once).
  """
  try:
    value = float(text)
  except ValueError:
    raise argparse.ArgumentTypeError('expected a number, got %r' % text)
  if not value > 0:
    raise argparse.ArgumentTypeError('must be greater than 0, got %s' % text)
  if math.isinf(value):
    raise argparse.ArgumentTypeError('must be a finite number, got %s' % text)
  return value


def name_list(text):
  """Reads comma-separated names ('local4, softmax_linear') into a tuple."""
  return tuple(name.strip() for name in text.split(',') if name.strip())


def expand_home(text):
  """`text` with a leading ~ (or ~user) read as the shell reads it: the home
  folder. A URL is kept as it is.

  The shell expands ~ only at the start of a word: `--train_dir ~/run`
  reaches the script as /home/me/run, but `--train_dir=~/run` as ~/run
  itself, which the script would take for a folder named "~" in the
  current one. The files would then land in ./~/run while every message
  says ~/run, and an advice such as `--train_dir ~/run`, typed into a
  shell, would point at the user's home. Each path is read here as the
  user meant it. (A folder really named "~" is still given as ./~.)
  """
  return text if storage.scheme(text) else os.path.expanduser(text)


def non_empty_path(parse=None, what='a folder'):
  """Makes an argparse type of a path that refuses an empty one first.

  An empty path is almost always an unset shell variable (`--export_dir
  $OUT`), and each tool would take it its own way: TensorFlow for the
  current folder, or for a file it cannot find, Python's open() for no
  file at all. So it is refused while the command line is read, naming the
  flag (argparse puts "argument --export_dir:" before the message). A
  leading ~ is then expanded (`expand_home`): every path flag and path
  argument of every script is read through here.

  Args:
    parse: an argparse type function for the path that is not empty, or
      None to keep the text as it is.
    what: what the flag takes, for the message: 'a folder', 'an image
      file', ...
  """
  def parse_non_empty(text):
    if not text:
      raise argparse.ArgumentTypeError(
          'an empty path; give %s (an unset shell variable gives an empty '
          'one)' % what)
    text = expand_home(text)
    return parse(text) if parse else text
  # argparse names the type in some errors.
  parse_non_empty.__name__ = parse.__name__ if parse else 'path'
  return parse_non_empty


def user_path(check=None, what='a folder'):
  """Makes an argparse type of a path check that raises errors.UserError.

  The check runs when the flag is parsed (on the default too), and its
  message becomes argparse's one-line error for the flag. Before it, an
  empty path is refused (`non_empty_path`), and so are a path holding a
  name that is not UTF-8 and a URL that TensorFlow does not serve and
  reach (storage.check_served), so that nothing is written for a path that
  cannot work.

  Args:
    check: a function of the flag's text returning the path to use, or
      None for the URL check alone.
    what: what the flag takes, for the refusal of an empty path.
  """
  def parse(text):
    try:
      storage.check_served(text)
      path = check(text) if check else text
      # The check may take a subfolder it found instead (resolve_data_dir's
      # "its subfolder ... does: using that"), whose name TensorFlow must
      # take too.
      return storage.check_served(path) if path != text else path
    except errors.UserError as error:
      raise argparse.ArgumentTypeError(str(error))
  parse.__name__ = check.__name__ if check else 'path'
  return non_empty_path(parse, what)


def add_output(parser, help_text='The PNG file to write.',
               what='a PNG file to write', required=True):
  """Adds --output, the file a tool writes, and --overwrite.

  An existing file is refused unless --overwrite says to replace it
  (check_output): a file of the user's that a tool wrote over would be
  lost, as cifar10.export and cifar10.convert_images never write over a
  folder.

  Args:
    parser: an argparse parser.
    help_text: what --output takes.
    what: what --output takes, for the refusal of an empty one.
    required: False for a tool with a file of its own to write where
      --output is not given (its help_text says which).
  """
  # user_path: a name that is not UTF-8 is refused, since the checks of
  # the output's folder go through TensorFlow (storage.check_writable).
  parser.add_argument('--output', required=required,
                      type=user_path(what=what), help=help_text)
  parser.add_argument('--overwrite', action='store_true',
                      help='Replace --output where that file exists already '
                           '(without it, the file is kept and the tool '
                           'refuses).')


def check_png_output(args, what):
  """Refuses an --output whose name asks for another format than PNG.

  A tool that writes PNG bytes would give them, under a name such as
  cm.jpg, to a file that passes for a JPEG and is none: viewers that go by
  the name fail to open it. So the refusal names the .png to give (a free
  one, unless --overwrite is given).

  Args:
    args: the parsed flags of a parser given add_output.
    what: what the tool writes, for the message, e.g. 'a PNG'.

  Raises:
    errors.UserError: naming the file and the .png to give instead.
  """
  refuse_a_bare_ending(args, lambda ending: ending == 'png')
  ending = os.path.splitext(args.output)[1]
  if ending.lower() == '.png' or os.path.isdir(args.output):
    return  # A folder: check_output names it.
  raise errors.UserError(
      '--output %s: this tool writes %s, so the file must be named .png. '
      'Give --output %s.' % (args.output, what, paths.for_shell(
          output_ending_in(args, '.png'))))


def check_output(args, new_file='picture.png'):
  """Refuses an --output that cannot be written, or exists without
  --overwrite.

  Call it before the tool's work, so that a refused command costs nothing:
  the output is written last, and a folder that is not there (or not a
  folder, or not writable) would end the tool in a traceback after all its
  work.

  Args:
    args: the parsed flags of a parser given add_output.
    new_file: the name of a file the tool could write, which the refusal of
      a folder as --output offers inside it.

  Raises:
    errors.UserError: naming the file or its folder, and what to give
      instead.
  """
  if os.path.isdir(args.output):
    raise errors.UserError(
        '--output %s is a folder. Give a new file, such as %s.'
        % (args.output, paths.flag_value('--output', paths.free_name(
            *os.path.splitext(os.path.join(args.output, new_file)),
            taken=os.path.lexists))))
  _check_output_folder(args.output)
  if os.path.lexists(args.output) and not args.overwrite:
    raise errors.UserError(
        '--output %s exists already, and nothing is written over. Give a '
        'new file, such as %s, or add --overwrite to replace it.'
        % (args.output, paths.flag_value('--output', paths.free_name(
            *os.path.splitext(args.output), taken=os.path.lexists))))


def _all_ending(name):
  """Whether file `name` looks like an ending alone (.png, .bashrc): one dot,
  its first character."""
  return name.startswith('.') and '.' not in name[1:]


def output_ending_in(args, ending):
  """The --output a refusal of its name's ending offers: args.output with
  `ending` for its own (cm.jpg -> cm.png), a free name (paths.free_name)
  unless --overwrite says an existing file may be replaced, so that the
  advice works as written. A name that is all ending to a reader (.png,
  .svg: see refuse_a_bare_ending) is offered picture.png beside it, not
  .svg.png, and a folder's name written with its slash (out/) picture.png
  in it, not out/.png.

  Args:
    args: the parsed flags of a parser given add_output.
    ending: the ending to give, such as '.png'.
  """
  stem, name = os.path.splitext(args.output)[0], os.path.basename(args.output)
  if not name or _all_ending(name):
    stem = os.path.join(os.path.dirname(args.output), 'picture')
  return paths.free_name(
      stem, ending,
      taken=(lambda name: False) if args.overwrite else os.path.lexists)


def refuse_a_bare_ending(args, writes):
  """Refuses an --output that is an ending alone, such as .png.

  Python and matplotlib read such a name as a hidden file's whole name,
  without an ending: the format checks would call it a name without an
  ending, or not a .png, and offer .png.png.

  Args:
    args: the parsed flags of a parser given add_output.
    writes: whether the tool writes an ending, given without its dot
      ('png').

  Raises:
    errors.UserError: naming --output and a name with that ending to give.
  """
  name = os.path.basename(args.output)
  if (not _all_ending(name) or not writes(name[1:].lower()) or
      os.path.isdir(args.output)):
    return
  raise errors.UserError(
      '--output %s is an ending without a name (Python and matplotlib would '
      'take it for a hidden file\'s whole name, with no ending). Give a name '
      'before it, such as --output %s.' % (args.output, paths.for_shell(
          output_ending_in(args, name))))


def _check_output_folder(output):
  """Refuses an --output whose folder is missing, a file, or not writable."""
  folder = os.path.dirname(output) or '.'
  existing = folder
  while not os.path.exists(existing):  # '.' and '/' always exist.
    existing = os.path.dirname(existing) or '.'
  if not os.path.isdir(existing):
    raise errors.UserError(
        '--output %s: %s is a file, not a folder. Give an --output in a '
        'folder, such as %s.' % (output, existing, paths.flag_value(
            '--output', paths.free_name(
                *os.path.splitext(os.path.basename(output)),
                taken=os.path.lexists))))
  if existing != folder:
    # The tools make no folder: a mistyped one would be made without a word.
    raise errors.UserError(
        '--output %s: the folder %s does not exist. Create it (mkdir -p %s) '
        'or give another --output.' % (output, folder,
                                       paths.for_shell(folder)))
  storage.check_writable(folder)


# Flags of the same meaning that TensorFlow's other tutorials and tools
# (Keras, Estimator's model_dir, PyTorch's examples' --lr) or this port's
# other scripts name otherwise: an unknown flag here is told the first of
# its names that the script has. Only names whose value means the same
# here: --epochs is not --max_steps (a step is one batch, not one pass).
OTHER_NAMES = {
    '--learning_rate': ('--initial_learning_rate',),
    '--lr': ('--initial_learning_rate',),
    # The trainers' folder of checkpoints is the readers' --checkpoint_dir.
    '--checkpoint_dir': ('--train_dir',),
    '--train_dir': ('--checkpoint_dir',),
    '--model_dir': ('--train_dir', '--checkpoint_dir'),
    # tf.ConfigProto's names for the two thread pools.
    '--intra_op_parallelism_threads': ('--intra_op_threads',),
    '--inter_op_parallelism_threads': ('--inter_op_threads',),
}


# How alike an unknown flag and a flag must be (difflib's ratio: twice the
# matching characters over both lengths) to be offered: one letter left
# out, doubled or swapped in a name of ten (--batchsize: 0.96), not two
# names that share a word (--eval_dir and --train_dir: 0.74).
_CLOSE_ENOUGH = 0.85


class Parser(argparse.ArgumentParser):
  """An ArgumentParser whose boolean flags never consume the next argument.

  argparse can give a flag an optional value only by letting it take the next
  word, which is how `--json cat.png` used to fail. Here a boolean is a flag
  without a value for argparse, and its `--name=VALUE` spelling is read before
  argparse sees the command line.
  """

  def __init__(self, *args, **kwargs):
    # An abbreviation that works today (--max_step) would silently change
    # meaning the day a flag with the same start is added: none is accepted.
    kwargs.setdefault('allow_abbrev', False)
    # Every script's --help shows the defaults the same way (_HelpFormatter).
    kwargs.setdefault('formatter_class', _HelpFormatter)
    super().__init__(*args, **kwargs)
    self._booleans = {}  # '--name' -> the namespace attribute it sets.
    self._checks = []  # Run on the parsed flags (see add_check).
    self._dash_file = None  # A file name read as a flag (_find_dash_file).
    self._flag_as_file = None  # A flag read as a file (_find_flag_as_file).

  def error(self, message):
    """Refuses the command line in one line, without the usage block."""
    if self._dash_file and message.startswith(
        ('the following arguments are required', 'unrecognized')):
      message += ('. %s is read as a flag: give a file of that name as %s '
                  '(or after --, which ends the flags: every argument after it '
                  'is a file, so give the flags before it)'
                  % (self._dash_file, paths.for_shell('./' + self._dash_file)))
    self.exit(2, '%s: error: %s (%s --help lists the flags)\n'
              % (self.prog, message, self.prog))

  def _find_dash_file(self, args):
    """The first argument that argparse takes for an unknown short flag
    (-red.png), where the script takes file arguments; else None.

    Such a word is a file name more often than a flag (the scripts have no
    one-letter flags but -h), and argparse only says that IMAGE is missing
    or that -red.png is not known.
    """
    if all(action.option_strings for action in self._actions):
      return None
    options = {option for action in self._actions
               for option in action.option_strings}
    for arg in args:
      if arg == '--':
        return None
      if (len(arg) > 1 and arg.startswith('-') and not arg.startswith('--')
          and arg not in options and
          not self._negative_number_matcher.match(arg)):
        return arg
    return None

  def _find_flag_as_file(self, args):
    """The first of this script's flags that comes after `--` and names no
    file (`-- -red.png --checkpoint_dir RUN`); else None.

    Every argument after `--` is a file: the flag would be one that is not
    there, and the flag's default would be used without a word (predict
    then looked for the default run).
    """
    if '--' not in args:
      return None
    options = {option for action in self._actions
               for option in action.option_strings if option.startswith('--')}
    return next((arg for arg in args[args.index('--') + 1:]
                 if arg.partition('=')[0] in options and
                 not os.path.lexists(arg)), None)

  def parse_args(self, args=None, namespace=None):
    namespace, extras = self.parse_known_args(args, namespace)
    if self._flag_as_file:
      self.error('%s comes after --, which ends the flags, so it is read as a '
                 'file, and there is none of that name. Give the flags before '
                 '--' % self._flag_as_file)
    extras = self._files_after_flags(namespace, extras)
    if extras:
      self.error(self._unrecognized(extras))
    for check in self._checks:
      try:
        check(namespace)
      except errors.UserError as error:
        self.error(str(error))
    return namespace

  def _files_after_flags(self, namespace, extras):
    """Adds the words left after a flag to the one argument that takes many
    (predict's IMAGE); returns what is still left over.

    argparse takes such an argument's words in one run only, so in `a.png
    --top_k 1 b.png` it left b.png over, refused as an "unrecognized
    argument" though it is a file like the first. Words that start with a
    dash are left to the refusal, which names them.
    """
    many = [action for action in self._actions
            if not action.option_strings and action.nargs in ('+', '*')]
    if (len(many) != 1 or not extras or
        any(extra.startswith('-') for extra in extras)):
      return extras
    action = many[0]
    try:
      more = [action.type(extra) if action.type else extra
              for extra in extras]
    except argparse.ArgumentTypeError as error:
      self.error('argument %s: %s' % (action.metavar or action.dest, error))
    setattr(namespace, action.dest,
            list(getattr(namespace, action.dest) or []) + more)
    return []

  def add_check(self, check):
    """Runs `check(namespace)` on the parsed flags, in the order added.

    For what depends on several flags together; a check reads them and may
    set values, and its errors.UserError becomes the parser's one-line
    error.
    """
    self._checks.append(check)

  def _unrecognized(self, extras):
    """The complaint about unknown arguments; it names the flags they mean.

    Dashes in a name are read as underscores first (--max-steps is told
    --max_steps). A name that matches no rule below is told the flags
    spelled nearly alike (--batchsize: --batch_size). A flag's name from elsewhere (OTHER_NAMES) is told this
    script's name for the same thing. Otherwise an abbreviation is told the flags it
    begins, but only where it stops inside a word of theirs (--max_step,
    --log_freq): a name that stops at the end of a word (--learning_rate,
    --num_epochs) is a whole name of its own, and the longer flags it
    begins (--learning_rate_decay_factor, --num_epochs_per_decay) mean
    something else, which the flag's value would silently set.
    """
    options = [option for action in self._actions
               for option in action.option_strings if option.startswith('--')]
    for extra in extras:
      given = extra.partition('=')[0]
      if not given.startswith('--'):
        continue
      # --max-steps, as absl and many argparse scripts spell flags, is read
      # as --max_steps before the rules below.
      name = '--' + given[2:].replace('-', '_')
      meant = [option for option in OTHER_NAMES.get(name, ())
               if option in options][:1]
      if name in options:
        meant, why = [name], ''
      elif meant:
        why = ' That is its name here.'
      else:
        meant = [option for option in options if option.startswith(name)
                 and option[len(name)] != '_']
        why = ' Flags are never abbreviated.'
      if not meant:
        # A slip of the keys (--batchsize, --checkpoint_dirr): the flags
        # spelled nearly alike, less the longer ones a whole name begins.
        meant = [option for option in difflib.get_close_matches(
            name, options, n=2, cutoff=_CLOSE_ENOUGH)
                 if not option.startswith(name + '_')]
        why = ''
      if meant:
        if name != given:
          why = ' Flags are written with underscores, not dashes.' + why
        return ('unrecognized flag %s; did you mean %s?%s'
                % (given, ' or '.join(meant), why))
    return 'unrecognized arguments: %s' % ' '.join(extras)

  def add_bool(self, name, help_text, default=False):
    """Adds `--name`, also accepted as `--name=true` and `--name=false`."""
    option = '--' + name
    self.add_argument(option, dest=name, action='store_const', const=True,
                      default=default,
                      help='%s Write %s or %s=false.' % (help_text, option,
                                                         option))
    self._booleans[option] = name

  def parse_known_args(self, args=None, namespace=None):
    args = sys.argv[1:] if args is None else list(args)
    self._dash_file = self._find_dash_file(args)
    self._flag_as_file = self._find_flag_as_file(args)
    remaining, values = self._take_booleans(args)
    namespace, extras = super().parse_known_args(remaining, namespace)
    for name, value in values:  # In command-line order: the last one wins.
      setattr(namespace, name, value)
    return namespace, extras

  def _take_booleans(self, args):
    """Splits the booleans (`--name`, `--name=VALUE`) from the other arguments.

    Returns:
      (the other arguments, [(attribute, bool)] in command-line order).
    """
    remaining, values = [], []
    for index, arg in enumerate(args):
      if arg == '--':  # Everything after it is positional.
        return remaining + args[index:], values
      option, equals, text = arg.partition('=')
      if option not in self._booleans:
        remaining.append(arg)
        continue
      if not equals:
        following = args[index + 1] if index + 1 < len(args) else ''
        if following.strip().lower() in _TRUE + _FALSE:
          self.error('argument %s: write %s=%s; a boolean flag does not take '
                     'the next argument as its value' % (option, option,
                                                        following))
        text = 'true'
      try:
        values.append((self._booleans[option], parse_bool(text)))
      except argparse.ArgumentTypeError as error:
        self.error('argument %s: %s' % (option, error))
    return remaining, values


def add_bool(parser, name, help_text, default=False):
  """Adds a boolean flag to a `Parser` (see `Parser.add_bool`)."""
  parser.add_bool(name, help_text, default)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
  """Adds each flag's default to its help, except a default of None.

  None stands for "not given", and the help of such a flag says what
  happens then: "(default: None)" after it would say nothing, or contradict
  it.
  """

  def _get_help_string(self, action):
    if action.default is None:
      return action.help
    return super()._get_help_string(action)


def script_parser(module, description):
  """An empty `Parser` for the script run as `python -m module`.

  Args:
    module: the script's module name, such as 'cifar10.eval': the usage line
      shows the command that runs it, not the file's name.
    description: the line `--help` shows under the usage.
  """
  return Parser(prog='python -m %s' % module, description=description)


def add_batch_size(parser):
  """Adds --batch_size, the original's 128 images per batch."""
  parser.add_argument(
      '--batch_size', type=positive_int, default=BATCH_SIZE,
      help='Images in each batch.')


def add_use_fp16(parser, reads_checkpoint=False):
  """Adds --use_fp16, with the help that is true for the script.

  Args:
    parser: a `Parser`.
    reads_checkpoint: the script reads a trained checkpoint (eval, predict,
      export), whose own dtype decides (checkpoints.checkpoint_uses_fp16).
  """
  if reads_checkpoint:
    help_text = ('Not needed here: the model is built in the checkpoint\'s '
                 'own dtype (float16 for a run trained with --use_fp16), and '
                 'a notice says so when this flag disagrees.')
  else:
    help_text = ('Train the model in float16 instead of float32 (its '
                 'variables and checkpoints too); slow on CPUs, which lack '
                 'float16 kernels.')
  add_bool(parser, 'use_fp16', help_text)


def add_raw_weights(parser):
  """Adds --raw_weights, for the tools that restore a checkpoint."""
  add_bool(parser, 'raw_weights',
           'Restore the trained variables themselves instead of their '
           'moving averages: for a checkpoint that holds no averages '
           '(written by another trainer or your own script). The averages '
           'usually classify a little better.')


def refuse_run_once_with_all_checkpoints(args):
  """cifar10.eval's check: refuses --run_once with --all_checkpoints.

  Each says what to evaluate, and neither wins in a way a user could guess
  (the loop took --all_checkpoints without a word).

  Raises:
    errors.UserError: both are given.
  """
  if args.run_once and args.all_checkpoints:
    raise errors.UserError(
        '--run_once and --all_checkpoints both choose what to evaluate: '
        '--run_once the newest checkpoint, --all_checkpoints every checkpoint '
        'without a result in --eval_dir yet, oldest first. Give one of them.')


def base_parser(module, description, reads_checkpoint=False):
  """A parser with the flags of every script that reads the data set.

  Args:
    module: the script's module name, as for `script_parser`.
    description: the line `--help` shows under the usage.
    reads_checkpoint: the script evaluates a trained checkpoint instead of
      training (see `add_use_fp16`).
  """
  parser = script_parser(module, description)
  add_batch_size(parser)
  parser.add_argument(
      '--data_dir', type=user_path(paths.resolve_data_dir),
      default=paths.DATA_DIR,
      help='Folder that holds (or will hold) cifar-10-batches-bin/ and the '
           'downloaded tarball; or cifar-100-binary/, or the Python version '
           'cifar-10-batches-py/ or cifar-100-python/ (converted once into '
           'a folder of the port\'s own). Given the extracted folder itself, '
           'the tarball, or its parent, the scripts find the data and say '
           'so.')
  parser.add_argument(
      '--dataset', choices=data_sets.DATASETS, default=None,
      help='The data set to read, or to download into an empty --data_dir. '
           'Default: the one --data_dir holds; cifar10 when it holds none, '
           'or both.')
  parser.add_argument(
      '--label_set', choices=data_sets.LABEL_SETS, default='fine',
      help='CIFAR-100\'s labels to learn: its 100 fine classes, or its 20 '
           'coarse superclasses. CIFAR-10 has fine labels only.')
  add_use_fp16(parser, reads_checkpoint)
  parser.add_argument(
      '--data_url', default=None,
      help='URL of the data set\'s binary tarball, or its path on this '
           'machine; default: the official one (cifar-10-binary.tar.gz or '
           'cifar-100-binary.tar.gz). A mirror works: the download is kept '
           'only if its MD5 is the official one.')
  parser.add_check(data_choice.choose)
  return parser


def data_flags(args):
  """The data flags of `args` that a command of another script repeats to
  read the same data, quoted for a shell: ' --data_dir DIR', say, or ''.

  Only those not at their defaults: advice such as "Train first (python -m
  cifar10.train ...)" that left out a --data_dir of one's own would read,
  or download (170 MB), the data at the default /tmp/cifar10_data instead.

  Args:
    args: flags parsed by a base_parser, settled by data_choice.choose.
  """
  given = []
  if args.data_dir != paths.DATA_DIR:
    given += ['--data_dir', args.data_dir]
  if args.dataset != 'cifar10':
    given += ['--dataset', args.dataset]
  if args.label_set != 'fine':
    given += ['--label_set', args.label_set]
  if args.data_url != args.data_format.url:
    given += ['--data_url', args.data_url]
  return ''.join(' ' + paths.for_shell(str(part)) for part in given)


def add_session_flags(parser):
  """Adds the speed flags `session_options.SessionOptions` reads, all off."""
  parser.add_argument(
      '--mixed_precision', choices=MIXED_PRECISION_CHOICES,
      default='off',
      help='bf16: oneDNN computes convolutions and matrix multiplies in '
           'bfloat16; variables, checkpoints and the loss stay float32. It '
           'pays off on CPUs with AMX or AVX512-BF16 (TensorFlow skips the '
           'rewrite on others). Results then agree with float32 to about 2 '
           'or 3 significant digits.')
  add_bool(parser, 'xla',
           'Let XLA compile clusters of the graph. On CPUs this is slower '
           '(XLA\'s convolutions replace oneDNN\'s): see docs/speed.md.')
  parser.add_argument(
      '--intra_op_threads', type=non_negative_int, default=0,
      help='Threads a single op may use; 0 lets TensorFlow pick (one per '
           'core).')
  parser.add_argument(
      '--inter_op_threads', type=non_negative_int, default=0,
      help='How many ops may run at the same time; 0 lets TensorFlow pick.')


def training_parser(module, description):
  """A parser with the shared flags and those of every trainer."""
  parser = base_parser(module, description)
  parser.add_argument(
      '--train_dir', type=user_path(paths.check_train_dir),
      default=paths.TRAIN_DIR,
      help='Folder for checkpoints and TensorBoard event files. A run '
           'resumes from the newest checkpoint it finds there.')
  parser.add_argument(
      '--max_steps', type=positive_int, default=100000,
      help='The global step at which training ends, counted from the first '
           'run: resuming at step k trains max_steps - k more steps, and a '
           'run already at max_steps trains none.')
  parser.add_argument(
      '--log_frequency', type=positive_int, default=10,
      help='Print the loss and speed line every this many steps.')
  add_bool(parser, 'log_device_placement',
           'Print the device each op is placed on.')
  add_bool(parser, 'fresh',
           'Start over: delete the checkpoints, event files and class '
           'names an earlier run left in --train_dir (nothing else) instead '
           'of resuming.')
  parser.add_argument(
      '--save_checkpoint_secs', type=positive_int, default=600,
      help='Seconds between checkpoints (the original saved every 10 '
           'minutes). Not used when --save_checkpoint_steps is given.')
  parser.add_argument(
      '--save_checkpoint_steps', type=positive_int, default=None,
      help='Steps between checkpoints, in place of --save_checkpoint_secs.')
  parser.add_argument(
      '--keep_checkpoints', type=positive_int, default=5,
      help='Number of the newest checkpoints kept; older ones are deleted.')
  parser.add_argument(
      '--save_summaries_steps', type=positive_int, default=100,
      help='Steps between TensorBoard summaries.')
  parser.add_argument(
      '--initial_learning_rate', type=positive_float,
      default=INITIAL_LEARNING_RATE,
      help='Learning rate until its first decay (the original\'s '
           'INITIAL_LEARNING_RATE). Asynchronous distributed workers each '
           'update the weights, so divide it by their number there.')
  parser.add_argument(
      '--learning_rate_decay_factor', type=positive_float,
      default=LEARNING_RATE_DECAY_FACTOR,
      help='What each decay multiplies the learning rate by (the original\'s '
           'LEARNING_RATE_DECAY_FACTOR); 1 keeps it constant.')
  parser.add_argument(
      '--num_epochs_per_decay', type=positive_float,
      default=NUM_EPOCHS_PER_DECAY,
      help='Epochs between two decays of the learning rate (the original\'s '
           'NUM_EPOCHS_PER_DECAY). An epoch is one pass over the records of '
           'the training files in --data_dir, however many they hold; the '
           'trainer prints the step of the first decay as it starts.')
  parser.add_argument(
      '--seed', type=int, default=None,
      help='Graph-level random seed for the initial weights, the shuffling '
           'and the distortions. Without it every run differs, as in the '
           'original. Seeded runs agree closely but not bit for bit, since '
           'CPU kernels may sum in a different order each run.')
  parser.add_argument(
      '--warm_start_from',
      type=user_path(what='a checkpoint or a training run\'s folder'),
      default=None,
      metavar='CHECKPOINT_OR_RUN',
      help='Start a new run from a trained model: a checkpoint, or a '
           'training run\'s folder (its newest checkpoint). Every variable '
           'whose name, dtype and shape fit is loaded from it with its '
           'moving average; the rest (the last layer, when the number of '
           'classes differs) start fresh, and the global step starts at 0. '
           'The source is only read. A run resuming from its own checkpoint '
           'ignores it.')
  parser.add_argument(
      '--trainable_scopes', type=name_list, default=None,
      metavar='SCOPE,SCOPE',
      help='Train only the variables of these layers (variable scopes, such '
           'as local4,softmax_linear); the others keep their values, e.g. '
           'those loaded by --warm_start_from. The moving averages of all '
           'are still updated. Default: train every layer.')
  add_session_flags(parser)
  return parser
