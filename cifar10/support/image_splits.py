"""Honest training and test splits of the user's images.

cifar10.convert_images uses these to decide, and to record, which of the
user's images the network trains on and which it is tested on. A test
score means something only when the test images are new to the network:

* Copies. Two files hold the same picture when their bytes are identical,
  or when they decode to the same pixels at full size (the same picture
  saved as PNG and as BMP, or saved again with other metadata). A copy on
  each side of the split would let the test score an image the network
  trained on, so each group of copies is kept in one split. Pictures that
  only look alike (resized, cropped, re-compressed as JPEG) differ in their
  pixels and are not copies here.
* Skipped files. The split is drawn over the images that were read, so a
  file that could not be used takes no place in it.
* The record. MANIFEST_FILE, written beside the batch files, names each
  image's file and split, so that the test images can be found again (to
  classify them alone, or to look at the ones the network got wrong), and
  the file each copy is a copy of.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import csv
import hashlib

import numpy as np

from cifar10.support import errors

# The file beside the batch files naming each image's split, and its columns.
MANIFEST_FILE = 'split.csv'
MANIFEST_COLUMNS = ('path', 'class', 'split', 'copy_of')

_CHUNK_BYTES = 1 << 20


def file_digest(path):
  """The SHA-256 digest of the file at `path`, or None if it cannot be read.

  A file that cannot be read is left to the image decoder, whose message
  says why.
  """
  digest = hashlib.sha256()
  try:
    with open(path, 'rb') as file:
      for chunk in iter(lambda: file.read(_CHUNK_BYTES), b''):
        digest.update(chunk)
  except OSError:
    return None
  return digest.digest()


def _pixel_digest(picture):
  """The SHA-256 digest of a Pillow RGB image's size and pixels."""
  return hashlib.sha256(b'%dx%d:' % picture.size +
                        picture.tobytes()).digest()


class IdenticalImages:
  """Numbers the distinct pictures among the files read, 0, 1, 2, ...

  Each file gets the number of its picture: that of an earlier file with
  the same bytes (found from the bytes alone, before decoding) or the same
  pixels, else the next new number.

  Reading out the full-size pixels of every image to compare them would add
  half the decoding time on large photos. Identical pixels always give the
  same size and the same 32x32 form, so the pixels are compared only
  between pictures whose size and form agree: a rare event between
  different photos, after which the earlier one is decoded again.
  """

  def __init__(self, decode):
    """Args: decode: path -> RGB Pillow image, raising errors.UserError."""
    self._decode = decode
    self._by_bytes = {}  # File digest -> picture number.
    self._by_form = {}  # (size, digest of the 32x32 form) -> [numbers].
    self._first_paths = []  # Picture number -> the first file holding it.
    self._pixels = {}  # Picture number -> pixel digest, once computed.

  def of_bytes(self, digest):
    """The number of an earlier picture whose file had `digest`, or None."""
    return None if digest is None else self._by_bytes.get(digest)

  def of_pixels(self, path, digest, picture, form):
    """The number of `picture`, decoded from `path`, and whether it is new.

    Args:
      path: the file it was decoded from.
      digest: file_digest(path).
      picture: the RGB Pillow image at full size.
      form: its 32x32 form as bytes.

    Returns:
      (picture number, True if no earlier file held these pixels).
    """
    candidates = self._by_form.setdefault(
        (picture.size, hashlib.sha256(form).digest()), [])
    if candidates:
      pixels = _pixel_digest(picture)
      for number in candidates:
        if self._pixels_of(number) == pixels:
          self._remember(digest, number)
          return number, False
    number = len(self._first_paths)
    self._first_paths.append(path)
    if candidates:
      self._pixels[number] = pixels
    candidates.append(number)
    self._remember(digest, number)
    return number, True

  def _pixels_of(self, number):
    if number not in self._pixels:
      try:
        self._pixels[number] = _pixel_digest(
            self._decode(self._first_paths[number]))
      except errors.UserError:  # Changed since: it matches nothing.
        self._pixels[number] = None
    return self._pixels[number]

  def _remember(self, digest, number):
    if digest is not None:
      self._by_bytes.setdefault(digest, number)


def draw_test_split(labels, pictures, class_count, fraction, rng):
  """Draws each class's test share, each group of copies kept together.

  A class of n images gets round(fraction * n) test images, as nearly as
  the groups allow. The pictures (a single image, or a group of copies)
  are visited in a random order, and each goes to the test split if its
  images fit in what every one of their classes still lacks there, else to
  the training split. A class of distinct images thus gets its share
  exactly, drawn uniformly at random, and a group too large for what is
  left goes to training.

  Args:
    labels: [images] int, each image's label.
    pictures: [images] int, each image's picture number (copies share one).
    class_count: the number of classes.
    fraction: the share of each class to draw, between 0 and 1.
    rng: a numpy.random.Generator.

  Returns:
    [images] bool, True for the images in the test split.
  """
  labels = np.asarray(labels, dtype=np.int64)
  wanted = np.round(fraction * np.bincount(labels, minlength=class_count))
  groups = {}
  for index, picture in enumerate(pictures):
    groups.setdefault(picture, []).append(index)
  groups = list(groups.values())  # In the order of the images: seeded below.
  taken = np.zeros(class_count, dtype=np.int64)
  in_test = np.zeros(len(labels), dtype=bool)
  for group in (groups[index] for index in rng.permutation(len(groups))):
    needed = np.bincount(labels[group], minlength=class_count)
    if np.all(taken + needed <= wanted):
      taken += needed
      in_test[group] = True
  return in_test


def write_manifest(path, rows):
  """Writes the manifest: a header line, then one line per image.

  The format is CSV, as any CSV reader (Python's csv module, pandas, a
  spreadsheet) reads it, with plain '\\n' line ends so that grep and awk
  read it as well: a name holding a comma, a double quote or a line break
  is quoted, as CSV does. A file name that is not valid UTF-8 is written as
  its own bytes (Python's surrogateescape), so that the name read back is
  the file's.

  Args:
    path: the file to create.
    rows: (path relative to SRC, class name, split, copy_of) of each
      image, copy_of naming the file it is a copy of (see
      cifar10.convert_images) or ''.
  """
  with open(path, 'x', encoding='utf-8', errors='surrogateescape',
            newline='') as file:
    writer = csv.writer(file, lineterminator='\n')
    writer.writerow(MANIFEST_COLUMNS)
    writer.writerows(rows)
