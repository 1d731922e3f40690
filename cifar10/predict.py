"""Classifies image files with a trained CIFAR-10 model.

    python -m cifar10.predict cat.png truck.jpg --checkpoint_dir /tmp/cifar10_train

Each PNG, JPEG, BMP or GIF, whatever its size, is resized to 32x32 as
cifar10.convert_images resizes training images (see cifar10.image_files)
and then prepared exactly as the evaluator prepares a test image (the
central 24x24 crop, standardized), so predictions agree with the
evaluator's. The model is the newest checkpoint's moving-average weights
(--raw_weights: the weights as trained), in the checkpoint's own dtype. The
class names are those the training run recorded beside its checkpoints
(class_names.txt; CIFAR-10's ten without one). It prints the checkpoint and
its global step, then for each file the --top_k most probable classes (or
JSON with --json). Files that cannot be read or decoded are named on
stderr, the rest are classified anyway, and the exit status is then 1.
"""

import glob
import json
import os
import sys


from cifar10.support import console
from cifar10.support import errors
from cifar10.support import flags
from cifar10.support import paths
from cifar10.support import script
from cifar10.support import storage


# The classes listed per file unless --top_k says otherwise; a model of
# fewer classes lists all of its own.
DEFAULT_TOP_K = 3


def parser():
  """Predict's flags: image files, checkpoints, batch size, output form.

  It reads no data set, so the data set's flags (--data_dir, --data_url)
  are not among them.
  """
  parser = flags.script_parser('cifar10.predict', __doc__.splitlines()[0])
  flags.add_batch_size(parser)
  flags.add_use_fp16(parser, reads_checkpoint=True)
  parser.add_argument('images', nargs='+', metavar='IMAGE',
                      type=flags.non_empty_path(what='an image file'),
                      help='PNG, JPEG, BMP or GIF files to classify.')
  parser.add_argument(
      '--checkpoint_dir', type=flags.user_path(), default=paths.TRAIN_DIR,
      help='The training run\'s --train_dir; its newest checkpoint is used. '
           'A single checkpoint (such as .../model.ckpt-1000) works too.')
  parser.add_argument('--top_k', type=flags.positive_int, default=None,
                      help='Number of classes to print per file, most '
                           'probable first (default: %d, or all of them for '
                           'a model of fewer classes).' % DEFAULT_TOP_K)
  flags.add_bool(parser, 'json',
                 'Print one JSON document (checkpoint, and per file its '
                 'classes and probabilities, or its error) instead of lines.')
  flags.add_raw_weights(parser)
  return parser


# The flags come first, as in the original's scripts. `--help` is answered
# here, before the imports below load TensorFlow, which takes seconds.
script.start(__name__, parser)

import numpy as np
import tensorflow as tf

from cifar10 import cifar10
from cifar10.support import batch_files
from cifar10.support import checkpoints
from cifar10.support import eval_report
from cifar10.support import image_files
from cifar10.support import session_options

_SIZE = batch_files.ORIGINAL_SIZE


def predict(paths, checkpoint_dir, top_k, batch_size, use_fp16=False,
            raw_weights=False):
  """Classifies image files with the newest checkpoint in `checkpoint_dir`.

  Args:
    paths: the image files.
    checkpoint_dir: a folder of checkpoints, or one checkpoint's prefix (or
      file), as `checkpoints.locate_checkpoints` reads it.
    top_k: classes to return per file; None: DEFAULT_TOP_K, or all of the
      model's classes where it has fewer. A number given is not lowered.
    batch_size: images classified per run of the graph.
    use_fp16: the --use_fp16 flag; the checkpoint's own dtype decides.
    raw_weights: restore the trained variables instead of their moving
      averages.

  Returns:
    (the checkpoint used, its global step, [(path, outcome)] in the order
    of `paths`), where an outcome is a list of `top_k` (class name,
    probability) pairs, most probable first, or the error message (a str)
    naming the file.

  Raises:
    errors.UserError: there is no usable checkpoint, its folder records
      another number of classes than it scores, or `top_k` is more than
      that number.
  """
  checkpoint, run_classes, use_fp16 = checkpoints.checkpoint_to_serve(
      checkpoint_dir, use_fp16)
  if top_k is None:
    top_k = min(DEFAULT_TOP_K, run_classes.count)
  eval_report.check_top_k(top_k, run_classes, lists_classes=True)
  with tf.Graph().as_default():
    images = tf.compat.v1.placeholder(tf.uint8, [None, _SIZE, _SIZE, 3])
    _, probabilities, _ = cifar10.classify(images, use_fp16,
                                           run_classes.count)
    with tf.compat.v1.Session(config=session_options.SessionOptions()
                              .config_beside_training()) as sess:
      global_step = checkpoints.restore_weights(
          sess, checkpoint, cifar10.variables_to_restore(), raw_weights)
      checkpoints.say_classes_assumed(checkpoint, run_classes)
      # Decode every file first, so that a bad one is reported on its own
      # and the good ones still go through in full batches.
      loaded, results = [], []
      for path in paths:
        try:
          loaded.append((path, image_files.load(path)))
        except errors.UserError as error:
          results.append((path, str(error) + _next_step(path)))
      for start in range(0, len(loaded), batch_size):
        chunk = loaded[start:start + batch_size]
        batch = sess.run(probabilities,
                         {images: np.stack([image for _, image in chunk])})
        for (path, _), row in zip(chunk, batch):
          # A stable sort lists tied classes in their usual order.
          best = np.argsort(-row, kind='stable')[:top_k]
          results.append((path, [(run_classes.names[index],
                                  float(row[index])) for index in best]))
  order = {path: index for index, path in enumerate(paths)}
  return (checkpoint.path, global_step,
          sorted(results, key=lambda item: order[item[0]]))


def _next_step(path):
  """What to give instead of a file argument that is a folder, a pattern
  or '-'.

  A folder of pictures (imgs/red) is given as its files, which the shell
  lists for imgs/red/*.png. The patterns named are those of the picture
  files there (imgs/red/*.jpg imgs/red/*.png), not imgs/red/*: that would
  also give its other files and subfolders, each an error that makes the
  run exit with 1. A pattern reaches predict as it is only where it was
  quoted ('imgs/red/*.png'), and predict reads file names as they are, as
  the shell's other commands do: a file may be named so.

  Returns:
    '; <the advice>' to add to the file's error, or ''.
  """
  if storage.scheme(path):
    return ''
  if path == '-' and not os.path.lexists(path):
    # Many tools read standard input for '-'; predict reads files.
    return ('; predict reads files, not its standard input: save the picture '
            'in a file, and give that file\'s name')
  if os.path.isdir(path):
    folder = paths.for_shell(path.rstrip('/') or '/')
    holds_files = False
    # A folder of class folders holds its pictures one level down, one of
    # train/ and test/ class folders (as convert_images reads) two.
    for depth in range(1, 6):
      pattern = os.path.join(*['*'] * depth)
      files = [name for name in glob.glob(
          os.path.join(glob.escape(path), pattern)) if os.path.isfile(name)]
      holds_files = holds_files or bool(files)
      endings = image_files.picture_endings(files)
      if endings:
        deeper = 'it holds folders of pictures: ' if depth > 2 else ''
        return '; ' + deeper + (
            'give the pictures in it: %s (the shell expands an unquoted * '
            'into their names)' % ' '.join('%s/%s%s' % (folder, pattern, ending)
                                           for ending in endings))
    if holds_files:
      return ('; it holds no file named as a %s image (%s)'
              % (image_files.FORMATS_TEXT, ', '.join(image_files.ENDINGS)))
    return '; it holds no files'
  if glob.has_magic(path) and not os.path.lexists(path):
    if not glob.glob(path):
      return '; no file matches that pattern either'
    return ('; give it as %s, its wildcards unquoted, for the files it '
            'matches: the shell expands a pattern, predict does not'
            % paths.pattern_for_shell(path))
  return ''


def _json_file(path):
  """The fields that name an image file in the JSON output.

  A name that is not valid UTF-8 reaches Python with each such byte as a
  lone surrogate, which JSON cannot carry: json.dumps writes "\\udce9",
  which strict readers refuse and jq turns into U+FFFD. Such a name is
  'file' as the converter's lines show it (storage.printable: each such
  byte as \\xNN), and 'file_bytes' holds the name's bytes, as numbers, to
  open the file by (journalctl's JSON gives values that are not UTF-8 so
  too).
  """
  try:
    path.encode('utf-8')
  except UnicodeEncodeError:
    return {'file': storage.printable(path),
            'file_bytes': list(os.fsencode(path))}
  return {'file': path}


def main(argv=None):
  args = parser().parse_args(argv)
  checkpoint, global_step, results = predict(
      args.images, args.checkpoint_dir, args.top_k, args.batch_size,
      args.use_fp16, args.raw_weights)
  weights = 'raw weights' if args.raw_weights else 'moving averages'
  failed = [path for path, outcome in results if isinstance(outcome, str)]
  if args.json:
    print(json.dumps({
        'checkpoint': storage.printable(checkpoint),
        'global_step': global_step, 'weights': weights, 'results': [
            dict(_json_file(path), error=storage.printable(outcome))
            if isinstance(outcome, str) else
            dict(_json_file(path), predictions=[
                {'class': name, 'probability': p} for name, p in outcome])
            for path, outcome in results]}, indent=2))
  else:
    # What scored the files, as the evaluator's result line names it; where
    # no file could be classified there is nothing for it to head.
    if len(failed) < len(results):
      print('Classified by %s (global step %d, %s):' % (
          checkpoint, global_step, weights))
    # One line per file, whatever its name and its classes' names hold (a
    # newline, U+2028): such characters are shown escaped (console.py).
    for path, outcome in results:
      if isinstance(outcome, str):
        print('error: %s' % console.as_shown(outcome, sys.stderr),
              file=sys.stderr)
      else:
        print('%s: %s' % (console.as_shown(path), ', '.join(
            '%s %.3f' % (console.as_shown(name), p) for name, p in outcome)))
  return 1 if failed else 0


if __name__ == '__main__':
  sys.exit(script.run(main))
