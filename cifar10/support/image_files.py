"""Image files as the network's 32x32 colour pictures, read with Pillow.

cifar10.convert_images prepares training and test images this way and
cifar10.predict the images it classifies, so that a picture is seen the same
way in both. Each file is decoded (PNG, JPEG, BMP or GIF, its first frame),
turned upright as its EXIF orientation says (phone photos), converted to RGB
and resized:

* colour: grey images get three equal channels, palette images their
  palette's colours, 16-bit images their top 8 bits (rounded: value / 257),
  and transparency is dropped (the colour stored under each pixel stays),
  as tf.keras and torchvision load images;
* size: the whole picture is stretched to 32x32, its aspect ratio not kept
  (tf.keras's image_dataset_from_directory does the same by default), so
  nothing at the edges is cut off. Pillow's BOX filter makes each output
  pixel the plain average of the source pixels under it (area averaging):
  every source pixel counts, so shrinking does not alias, and a 64x64
  picture becomes exactly the means of its 2x2 blocks.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import io

import numpy as np
from PIL import Image
from PIL import ImageOps

from cifar10.support import errors
from cifar10.support import storage

# The formats read; tf.io.decode_image reads the same four.
FORMATS = ('PNG', 'JPEG', 'BMP', 'GIF')
FORMATS_TEXT = 'PNG, JPEG, BMP or GIF'

SIZE = 32  # The side of a CIFAR-10 image.

# The Pillow modes of 16-bit (and 32-bit integer) grey images.
_WIDE_GREY_MODES = ('I', 'I;16', 'I;16B', 'I;16L', 'I;16N')


def read_rgb(path):
  """Decodes the image file at `path` as an upright RGB Pillow image.

  Args:
    path: the file (a local path, or a URL TensorFlow serves).

  Returns:
    A PIL.Image.Image in mode 'RGB', at the file's own size.

  Raises:
    errors.UserError: '<path>: <why>', when the file cannot be read, is not
      one of FORMATS, or is damaged.
  """
  data = storage.read_input_file(path)
  try:
    with Image.open(io.BytesIO(data), formats=FORMATS) as image:
      image.load()
      return _to_rgb(ImageOps.exif_transpose(image))
  except Image.UnidentifiedImageError:
    raise errors.UserError('%s: not a %s image' % (path, FORMATS_TEXT))
  except Image.DecompressionBombError as error:
    raise errors.UserError('%s: too large to decode safely (%s)'
                           % (path, error))
  # Pillow's "broken PNG file" is a SyntaxError; a truncated one an OSError.
  except (OSError, SyntaxError, ValueError) as error:
    raise errors.UserError('%s: damaged image (%s)' % (path, error))


def _to_rgb(image):
  """`image` in mode 'RGB', as the module docstring describes."""
  if image.mode in _WIDE_GREY_MODES:
    values = np.asarray(image).astype(np.float64)
    image = Image.fromarray(
        np.clip(np.round(values / 257.0), 0, 255).astype(np.uint8), 'L')
  elif image.mode == 'P':
    # Through RGBA, so that a palette with a transparent entry converts
    # without Pillow's warning.
    image = image.convert('RGBA')
  return image.convert('RGB')


def to_32x32(image):
  """An RGB Pillow image stretched to [32, 32, 3] uint8 with the BOX filter."""
  return np.asarray(image.resize((SIZE, SIZE), Image.Resampling.BOX),
                    dtype=np.uint8)


def load(path):
  """The image file at `path` as [32, 32, 3] uint8 (see the module docstring).

  Raises:
    errors.UserError: naming the file, as read_rgb does.
  """
  return to_32x32(read_rgb(path))
