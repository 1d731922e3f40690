"""The confusion matrix of an evaluation, as numbers and as a labelled picture.

Rows are true classes, columns predicted ones; the picture shades each cell
by the fraction of its row, so the classes the model confuses stand out in
TensorBoard's Images tab.
"""

import io

import numpy as np
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

_CELL = 36          # Pixels per matrix cell.
_MARGIN = 84        # Room for the class names left of and above the matrix.


def confusion_matrix(labels, predictions, num_classes):
  """Counts [true class, predicted class] over paired label and prediction arrays."""
  matrix = np.zeros([num_classes, num_classes], dtype=np.int64)
  np.add.at(matrix, (labels, predictions), 1)
  return matrix


def per_class_counts(labels, correct, num_classes):
  """For each class: (images counted correct, images)."""
  hits = np.bincount(labels, weights=correct.astype(np.int64),
                     minlength=num_classes).astype(np.int64)
  return hits, np.bincount(labels, minlength=num_classes)


def render_png(matrix, class_names):
  """A PNG of the matrix: names on both axes, counts in shaded cells."""
  size = len(class_names)
  side = _MARGIN + size * _CELL
  picture = Image.new('RGB', (side, side), 'white')
  draw = ImageDraw.Draw(picture)
  font = ImageFont.load_default()
  row_totals = np.maximum(matrix.sum(axis=1, keepdims=True), 1)
  for row in range(size):
    for column in range(size):
      share = matrix[row, column] / row_totals[row, 0]
      shade = int(255 * (1 - share))
      left, top = _MARGIN + column * _CELL, _MARGIN + row * _CELL
      draw.rectangle([left, top, left + _CELL - 1, top + _CELL - 1],
                     fill=(shade, shade, 255), outline=(200, 200, 200))
      draw.text((left + 3, top + _CELL // 3), str(matrix[row, column]),
                fill='white' if share > 0.5 else 'black', font=font)
  for index, name in enumerate(class_names):
    draw.text((4, _MARGIN + index * _CELL + _CELL // 3), name, fill='black',
              font=font)
    # Column heads: the names' first letters, which tell CIFAR-10's apart.
    draw.text((_MARGIN + index * _CELL + 3, _MARGIN - 16), name[:5],
              fill='black', font=font)
  draw.text((4, _MARGIN - 40), 'rows: true class', fill='black', font=font)
  draw.text((4, _MARGIN - 28), 'columns: predicted', fill='black', font=font)
  stream = io.BytesIO()
  picture.save(stream, format='PNG')
  return stream.getvalue(), picture.size
