"""Classifies image files with a trained CIFAR-10 model.

    python -m cifar10.predict cat.png truck.jpg --checkpoint_dir /tmp/cifar10_train

It restores the moving averages of the weights from the latest checkpoint,
resizes each PNG or JPEG (any size) to 32x32, prepares it exactly as the
evaluator prepares test images (central 24x24 crop, standardization) and
prints the most probable classes. A file that cannot be read or decoded is
reported by name, the others are still classified, and the exit status is 1.
"""

import json
import sys

import numpy as np
import tensorflow as tf

from cifar10 import checkpoints
from cifar10 import cifar10
from cifar10 import cifar10_input
from cifar10 import errors
from cifar10 import flags

_SIZE = cifar10_input.ORIGINAL_SIZE


def parser():
  parser = flags.base_parser(__doc__.splitlines()[0])
  parser.add_argument('images', nargs='+', metavar='IMAGE',
                      help='PNG or JPEG files to classify.')
  parser.add_argument('--checkpoint_dir', default='/tmp/cifar10_train',
                      help='Directory where to read model checkpoints.')
  parser.add_argument('--top_k', type=flags.positive_int, default=3,
                      help='How many of the most probable classes to print.')
  flags.add_bool(parser, 'json', 'Print machine-readable JSON instead.')
  return parser


def _image_decoder():
  """A graph that turns a file's bytes into a [32, 32, 3] uint8 image."""
  contents = tf.compat.v1.placeholder(tf.string, [])
  decoded = tf.io.decode_image(contents, channels=3, expand_animations=False)
  resized = tf.image.resize(decoded, [_SIZE, _SIZE], antialias=True)
  return contents, tf.saturate_cast(tf.round(resized), tf.uint8)


def _load(session, decoder, path):
  """The file at `path` as a 32x32 image; UserError naming it if it is not one."""
  contents, image = decoder
  try:
    with open(path, 'rb') as stream:
      data = stream.read()
  except OSError as error:
    raise errors.UserError('%s: cannot read it (%s)' % (path, error.strerror))
  try:
    return session.run(image, {contents: data})
  except tf.errors.InvalidArgumentError:
    raise errors.UserError('%s: not a PNG or JPEG image' % path)


def predict(paths, checkpoint_dir, top_k, batch_size, use_fp16=False):
  """Classifies the files; returns (checkpoint, [(path, classes or error)]).

  Each classes entry is a list of (class name, probability), most probable
  first; each error is the UserError message naming the file.
  """
  checkpoint = checkpoints.require_latest(checkpoint_dir)
  with tf.Graph().as_default():
    decoder = _image_decoder()
    images = tf.compat.v1.placeholder(tf.uint8, [None, _SIZE, _SIZE, 3])
    _, probabilities, _ = cifar10.classify(images, use_fp16)
    with tf.compat.v1.Session() as sess:
      checkpoints.restore_moving_averages(sess, checkpoint)
      loaded, results = [], []
      for path in paths:
        try:
          loaded.append((path, _load(sess, decoder, path)))
        except errors.UserError as error:
          results.append((path, str(error)))
      for start in range(0, len(loaded), batch_size):
        chunk = loaded[start:start + batch_size]
        batch = sess.run(probabilities,
                         {images: np.stack([image for _, image in chunk])})
        for (path, _), row in zip(chunk, batch):
          best = np.argsort(-row, kind='stable')[:top_k]
          results.append((path, [(cifar10_input.CLASS_NAMES[index],
                                  float(row[index])) for index in best]))
  order = {path: index for index, path in enumerate(paths)}
  return checkpoint, sorted(results, key=lambda item: order[item[0]])


def main(argv=None):
  args = parser().parse_args(argv)
  checkpoint, results = predict(args.images, args.checkpoint_dir, args.top_k,
                                args.batch_size, args.use_fp16)
  failed = [path for path, outcome in results if isinstance(outcome, str)]
  if args.json:
    print(json.dumps({'checkpoint': checkpoint, 'results': [
        {'file': path, 'error': outcome} if isinstance(outcome, str) else
        {'file': path, 'predictions': [{'class': name, 'probability': p}
                                       for name, p in outcome]}
        for path, outcome in results]}, indent=2))
  else:
    for path, outcome in results:
      if isinstance(outcome, str):
        print('error: %s' % outcome, file=sys.stderr)
      else:
        print('%s: %s' % (path, ', '.join('%s %.3f' % (name, p)
                                          for name, p in outcome)))
  return 1 if failed else 0


if __name__ == '__main__':
  sys.exit(flags.run_script(main))
