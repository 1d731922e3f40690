#!/usr/bin/env python
"""Draws training images before and after the trainer's random distortions.

One row per class: the first image of that class in data_batch_1.bin as
stored (32x32), then the same record passed through
`cifar10_input.distorted_batch`, the function that feeds the trainer, a few
times over (24x24 each, every pass with new random crops, flips, brightness
and contrast). Both sizes are drawn at the same scale, so the crop shows.
The distorted images are standardized (mean 0, deviation 1 per image); they
are drawn as 128 + 48 * value, clipped to 0..255.

    python scripts/distortion_picture.py --data_dir /tmp/cifar10_data --output distortions.png
"""

import os
import sys

import numpy as np

from cifar10.support import batch_files
from cifar10.support import script

# Before TensorFlow loads (TensorBoard's reader loads it too): the CPU kernels
# and the quiet start-up of every script (see cifar10/support/script.py).
if __name__ == '__main__':
  script.prepare_process()
import tensorflow as tf  # pylint: disable=g-import-not-at-top
from PIL import Image  # pylint: disable=g-import-not-at-top
from PIL import ImageDraw  # pylint: disable=g-import-not-at-top

from cifar10 import cifar10_input  # pylint: disable=g-import-not-at-top
from cifar10.support import errors  # pylint: disable=g-import-not-at-top
from cifar10.support import flags  # pylint: disable=g-import-not-at-top
from cifar10.support import paths  # pylint: disable=g-import-not-at-top

SCALE = 2          # Screen pixels per image pixel.
GAP = 4            # Pixels between images.
LABEL_WIDTH = 76   # Room for the class name left of each row.
# How a standardized value maps to a grey level: 128 + DISPLAY_GAIN * value.
DISPLAY_GAIN = 48.0


def first_record_of_each_class(path, class_names):
  """The first raw record of each class in a batch file, in class order.

  Args:
    path: a batch file.
    class_names: the data's class names, in label order (CIFAR-10's, or
      those of a converted data set's batches.meta.txt).

  Raises:
    errors.UserError: some class has no record in the file.
  """
  count = batch_files.check_batch_file(path)
  data = np.fromfile(path, dtype=np.uint8).reshape(
      count, batch_files.RECORD_BYTES)
  records = []
  for label, name in enumerate(class_names):
    [indices] = np.nonzero(data[:, 0] == label)
    if not indices.size:
      raise errors.UserError('%s has no image of class %d (%s); the picture '
                             'needs one of each.' % (path, label, name))
    records.append(data[indices[0]].tobytes())
  return records


def stored_and_distorted(records, passes, seed):
  """Decodes `records` and distorts them `passes` times with the trainer's code.

  Returns:
    stored: [N, 32, 32, 3] uint8, the images as the file holds them.
    distorted: [passes, N, 24, 24, 3] float32, standardized.
  """
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(seed)
    raw = tf.constant(records)
    stored, _ = cifar10_input.decode_records(raw)
    distorted, _ = cifar10_input.distorted_batch(raw)
    with tf.compat.v1.Session() as sess:
      stored_images = sess.run(stored)
      distorted_images = np.stack([sess.run(distorted) for _ in range(passes)])
  return stored_images, distorted_images


def to_grey_levels(standardized):
  """Standardized images as uint8 pixels, 128 + DISPLAY_GAIN * value, clipped."""
  return np.clip(np.round(128.0 + DISPLAY_GAIN * standardized), 0,
                 255).astype(np.uint8)


def draw(stored, distorted, class_names):
  """The picture: one row per image, stored then each distorted version.

  Args:
    stored: [N, 32, 32, 3] uint8.
    distorted: [P, N, 24, 24, 3] uint8, already mapped to grey levels.
    class_names: N names written left of the rows.

  Returns:
    A PIL image.
  """
  stored_side = cifar10_input.ORIGINAL_SIZE * SCALE
  distorted_side = cifar10_input.IMAGE_SIZE * SCALE
  passes = distorted.shape[0]
  width = LABEL_WIDTH + stored_side + passes * (GAP + distorted_side) + GAP
  header = 16
  height = header + len(stored) * (stored_side + GAP)
  picture = Image.new('RGB', (width, height), 'white')
  pen = ImageDraw.Draw(picture)
  pen.text((LABEL_WIDTH, 2), 'stored', fill='black')
  pen.text((LABEL_WIDTH + stored_side + 2 * GAP, 2),
           'distorted for training (%d random draws)' % passes, fill='black')
  for row, name in enumerate(class_names):
    top = header + row * (stored_side + GAP)
    pen.text((4, top + stored_side // 2 - 6), name, fill='black')
    picture.paste(_enlarged(stored[row]), (LABEL_WIDTH, top))
    for column in range(passes):
      left = LABEL_WIDTH + stored_side + GAP + column * (GAP + distorted_side)
      # Centred vertically beside the 32x32 image, as the crop was taken.
      picture.paste(_enlarged(distorted[column, row]),
                    (left, top + (stored_side - distorted_side) // 2))
  return picture


def _enlarged(pixels):
  image = Image.fromarray(pixels)
  return image.resize((image.width * SCALE, image.height * SCALE),
                      Image.NEAREST)


def parser():
  """The script's flags.

  The package's parser, so that a refused flag (a --data_dir of pictures,
  say) is one line, as the scripts that train on the same --data_dir say
  it, instead of argparse's usage block.
  """
  result = flags.Parser(prog='python scripts/distortion_picture.py',
                        description=__doc__.splitlines()[0])
  result.add_argument('--data_dir', default=paths.DATA_DIR,
                      type=flags.user_path(paths.resolve_data_dir_to_read),
                      help='The --data_dir of training, holding '
                           'cifar-10-batches-bin/.')
  flags.add_output(result, 'The PNG to write (a name ending .png).')
  result.add_argument('--passes', type=flags.positive_int, default=4,
                      help='Distorted versions of each image.')
  result.add_argument('--seed', type=int, default=1,
                      help='Graph-level random seed of the distortions.')
  return result


def main(argv=None):
  args = parser().parse_args(argv)
  paths.check_data_dir_to_read(args.data_dir)
  # Pillow is told the format: a name of another would get PNG bytes.
  flags.check_png_output(args, 'a PNG picture')
  flags.check_output(args)
  path = os.path.join(batch_files.batches_dir(args.data_dir),
                      cifar10_input.TRAIN_FILES[0])
  class_names = batch_files.data_classes(args.data_dir).names
  stored, distorted = stored_and_distorted(
      first_record_of_each_class(path, class_names), args.passes, args.seed)
  picture = draw(stored, to_grey_levels(distorted), class_names)
  picture.save(args.output, format='PNG', optimize=True)
  print('Wrote %s (%d x %d pixels, %d bytes)' % (
      args.output, picture.width, picture.height, os.path.getsize(args.output)))
  return 0


if __name__ == '__main__':
  sys.exit(script.run(main))
