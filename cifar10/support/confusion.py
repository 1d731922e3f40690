"""Per-class figures of an evaluation: confusion matrix, recall and precision.

Row i of the confusion matrix counts the images whose true class is i, by the
class the model predicted; column j counts the images predicted as class j,
by their true class. So, for each class,

* recall is the diagonal cell over its row: of the images of that class, the
  share the model classified correctly;
* precision is the diagonal cell over its column: of the images the model
  called that class, the share that really are.

The two differ: a model that calls most images "frog" has a high recall for
frogs and a low precision. The picture shows both beside the matrix.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import dataclasses
import io

import numpy as np
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

_CELL = 36          # Pixels per matrix cell, up to 30 classes.
_MATRIX = 30 * _CELL  # The matrix's side beyond that: cells shrink to fit.
_MIN_CELL = 4       # A cell is never smaller than this (256 classes).
_TEXT_CELL = 12     # Cells smaller than this carry no text: it would not fit.
_MARGIN = 84        # Room above and left of the matrix for the class names.
_NAME_CHARS = 13    # The characters of a row's name that fit in the margin.
_FIGURES = 48       # Room right of and below the matrix for recall, precision.


def confusion_matrix(labels, predictions, num_classes):
  """Counts the images per (true class, predicted class).

  Args:
    labels: [N] integer true classes in 0..num_classes-1.
    predictions: [N] integer predicted classes, likewise.
    num_classes: the number of classes, C.

  Returns:
    A [C, C] int64 array: element [i, j] counts the images of class i that
    were predicted as class j.
  """
  matrix = np.zeros([num_classes, num_classes], dtype=np.int64)
  np.add.at(matrix, (labels, predictions), 1)
  return matrix


@dataclasses.dataclass(frozen=True)
class ClassFigures:
  """Recall and precision of each class, with the counts they come from.

  Every field is a [C] array. Where a class has no images (for recall) or no
  image was predicted as it (for precision), the ratio is NaN: 0 of 0.
  """
  correct: np.ndarray    # int64: images of the class predicted as it.
  images: np.ndarray     # int64: images of the class (row sums).
  predicted: np.ndarray  # int64: images predicted as the class (column sums).
  recall: np.ndarray     # float64: correct / images.
  precision: np.ndarray  # float64: correct / predicted.


def class_figures(matrix):
  """Reads each class's recall and precision off a [C, C] confusion matrix."""
  correct = np.diag(matrix).astype(np.int64)
  images = matrix.sum(axis=1)
  predicted = matrix.sum(axis=0)
  with np.errstate(invalid='ignore', divide='ignore'):
    return ClassFigures(correct, images, predicted, correct / images,
                        correct / predicted)


def render_png(matrix, class_names):
  """Draws the matrix, with each class's recall and precision, as a PNG.

  Rows are true classes and columns predicted ones, named on both axes; each
  cell holds its count and is shaded by its share of the row. Recall is
  written to the right of each row, precision below each column. Beyond 30
  classes the cells shrink so that the picture stays about 1,200 pixels
  wide, and once they are too small for text only the shading is drawn.

  Args:
    matrix: a [C, C] confusion matrix (see `confusion_matrix`).
    class_names: the C class names.

  Returns:
    (PNG bytes, (width, height) in pixels).
  """
  size = len(class_names)
  cell = max(_MIN_CELL, min(_CELL, _MATRIX // size))
  texts = cell >= _TEXT_CELL
  side = _MARGIN + size * cell + _FIGURES
  picture = Image.new('RGB', (side, side), 'white')
  draw = ImageDraw.Draw(picture)
  font = ImageFont.load_default()
  row_totals = np.maximum(matrix.sum(axis=1, keepdims=True), 1)
  for row in range(size):
    for column in range(size):
      share = matrix[row, column] / row_totals[row, 0]
      shade = int(255 * (1 - share))
      left, top = _MARGIN + column * cell, _MARGIN + row * cell
      draw.rectangle([left, top, left + cell - 1, top + cell - 1],
                     fill=(shade, shade, 255), outline=(200, 200, 200))
      if cell == _CELL:
        draw.text((left + 3, top + cell // 3), str(matrix[row, column]),
                  fill='white' if share > 0.5 else 'black', font=font)
  figures = class_figures(matrix)
  end = _MARGIN + size * cell
  for index, name in enumerate(class_names if texts else ()):
    offset = _MARGIN + index * cell
    draw.text((4, offset + cell // 3), name[:_NAME_CHARS], fill='black',
              font=font)
    # Column heads: five letters tell CIFAR-10's class names apart.
    draw.text((offset + 3, _MARGIN - 16), name[:cell // 7], fill='black',
              font=font)
    draw.text((end + 4, offset + cell // 3),
              _ratio_text(figures.recall[index]), fill='black', font=font)
    if cell == _CELL:
      draw.text((offset + 3, end + 8),
                _ratio_text(figures.precision[index]), fill='black',
                font=font)
  draw.text((4, _MARGIN - 52), 'rows: true class; recall at the right',
            fill='black', font=font)
  draw.text((4, _MARGIN - 40), 'columns: predicted class; precision below',
            fill='black', font=font)
  draw.text((end + 4, _MARGIN - 16), 'recall', fill='black', font=font)
  draw.text((4, end + 8), 'precision', fill='black', font=font)
  stream = io.BytesIO()
  picture.save(stream, format='PNG')
  return stream.getvalue(), picture.size


def _ratio_text(value):
  """A ratio with 3 decimals, or '-' for 0 of 0."""
  return '-' if np.isnan(value) else '%.3f' % value
