"""Image files as the network's 32x32 colour pictures, read with Pillow.

cifar10.convert_images prepares training and test images this way and
cifar10.predict the images it classifies, so that a picture is seen the same
way in both. Each file is decoded (PNG, JPEG, BMP or GIF, its first frame),
turned upright as its EXIF orientation says (phone photos), converted to RGB
and resized:

* colour: grey images get three equal channels, palette images their
  palette's colours, and transparency is dropped (the colour stored under
  each pixel stays), as tf.keras and torchvision load images. 16-bit
  images keep their top 8 bits (value >> 8), grey and colour alike: that is
  what Pillow's decoder does to 16-bit colour, and tf.io.decode_png to
  every 16-bit PNG, so one picture saved in either 16-bit mode gives the
  same pixels as there (dividing by 257 and rounding would differ from
  them by one step in a quarter of the values);
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
import os
import warnings

import numpy as np
from PIL import Image
from PIL import ImageOps

from cifar10.support import errors
from cifar10.support import storage

# The formats read; tf.io.decode_image reads the same four.
FORMATS = ('PNG', 'JPEG', 'BMP', 'GIF')
FORMATS_TEXT = 'PNG, JPEG, BMP or GIF'

# The file-name endings Pillow gives FORMATS ('.png', '.jpg', '.jpeg', ...),
# lower case. Images are read by their bytes, not their names; the endings
# serve only advice that names a folder's pictures by pattern.
ENDINGS = tuple(sorted(ending for ending, kind
                       in Image.registered_extensions().items()
                       if kind in FORMATS))

SIZE = 32  # The side of a CIFAR-10 image.

# The Pillow modes of 16-bit (and 32-bit integer) grey images.
_WIDE_GREY_MODES = ('I', 'I;16', 'I;16B', 'I;16L', 'I;16N')


def read_rgb(path, warn=errors.notice):
  """Decodes the image file at `path` as an upright RGB Pillow image.

  Pillow's own warnings (a very large image, damaged metadata) would print
  as two lines naming Pillow's source and not the file, and only the first
  time: each is passed to `warn` instead, as one line naming the file.

  Args:
    path: the file (a local path, or a URL TensorFlow serves).
    warn: called with each such line, or None to drop them (for a file
      decoded a second time, whose lines were given the first).

  Returns:
    A PIL.Image.Image in mode 'RGB', at the file's own size.

  Raises:
    errors.UserError: '<path>: <why>', when the file cannot be read, is
      empty, is not one of FORMATS, or is damaged.
  """
  data = storage.read_input_file(path)
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')  # Every file's, not the first only.
    image = _decode(path, data)
  for warning in caught if warn else ():
    warn(_warning_line(path, image, warning))
  return image


def _warning_line(path, image, warning):
  """The line that says what a warning of Pillow's means for the file."""
  if issubclass(warning.category, Image.DecompressionBombWarning):
    return ('%s: %dx%d pixels, more than the %d at which Pillow warns of a '
            'possible decompression bomb (a small file that decodes to a '
            'huge image); read anyway' % ((path,) + image.size +
                                          (Image.MAX_IMAGE_PIXELS,)))
  return '%s: Pillow warns: %s' % (path, str(warning.message).strip())


def _decode(path, data):
  """The upright RGB image that `data`, the bytes of `path`, hold."""
  if not data:
    # "Not a PNG ..." would send the user looking at its format; an empty
    # file is a copy or a download that never got its bytes.
    raise errors.UserError('%s: the file is empty (0 bytes), not an image'
                           % path)
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
    # Pillow's own conversion would clip the values to 255, not scale them.
    values = np.asarray(image).astype(np.int64) >> 8
    image = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), 'L')
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


def picture_endings(names):
  """The endings of `names` that are an image format's, each spelled as in
  the names ('.PNG' and '.png' apart, as the shell's patterns match them),
  sorted: the `*.png`-style patterns that pick out these pictures."""
  return sorted({os.path.splitext(name)[1] for name in names
                 if os.path.splitext(name)[1].lower() in ENDINGS})
