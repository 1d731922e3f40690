"""Exports a trained CIFAR-10 model as a TensorFlow SavedModel.

    python -m cifar10.export --checkpoint_dir /tmp/cifar10_train \
        --export_dir /tmp/cifar10_model

The SavedModel holds the moving averages of the weights from the latest
checkpoint and one serving signature, 'serving_default': it takes `images`,
a batch of uint8 [N, 32, 32, 3] images, prepares them as the evaluator does
and returns `logits`, `probabilities` and `classes`. Load it with
`tf.saved_model.load(export_dir).signatures['serving_default']`, or serve it
with TensorFlow Serving.
"""

import os
import shutil
import sys
import tempfile

import tensorflow as tf

from cifar10 import checkpoints
from cifar10 import cifar10
from cifar10 import cifar10_input
from cifar10 import errors
from cifar10 import flags


def parser():
  parser = flags.base_parser(__doc__.splitlines()[0])
  parser.add_argument('--checkpoint_dir', default='/tmp/cifar10_train',
                      help='Directory where to read model checkpoints.')
  parser.add_argument('--export_dir', default='/tmp/cifar10_model',
                      help='Where to write the SavedModel; must not exist yet.')
  return parser


def export(checkpoint_dir, export_dir, use_fp16=False):
  """Writes the SavedModel; returns the checkpoint it was made from.

  It is written beside `export_dir` and renamed into place when complete, so
  a failed export leaves nothing half-written.
  """
  if os.path.exists(export_dir):
    raise errors.UserError(
        '--export_dir %s already exists. Choose a new folder (or remove this '
        'one) so that nothing is overwritten.' % export_dir)
  checkpoint = checkpoints.require_latest(checkpoint_dir)
  parent = os.path.dirname(os.path.abspath(export_dir))
  os.makedirs(parent, exist_ok=True)
  staging = tempfile.mkdtemp(prefix='.export-', dir=parent)
  try:
    with tf.Graph().as_default():
      size = cifar10_input.ORIGINAL_SIZE
      images = tf.compat.v1.placeholder(tf.uint8, [None, size, size, 3],
                                        name='images')
      logits, probabilities, classes = cifar10.classify(images, use_fp16)
      with tf.compat.v1.Session() as sess:
        checkpoints.restore_moving_averages(sess, checkpoint)
        builder = tf.compat.v1.saved_model.Builder(
            os.path.join(staging, 'model'))
        signature = tf.compat.v1.saved_model.predict_signature_def(
            inputs={'images': images},
            outputs={'logits': logits, 'probabilities': probabilities,
                     'classes': classes})
        builder.add_meta_graph_and_variables(
            sess, [tf.saved_model.SERVING],
            signature_def_map={'serving_default': signature},
            strip_default_attrs=True)
        builder.save()
    os.rename(os.path.join(staging, 'model'), export_dir)
  finally:
    shutil.rmtree(staging, ignore_errors=True)
  return checkpoint


def main(argv=None):
  args = parser().parse_args(argv)
  checkpoint = export(args.checkpoint_dir, args.export_dir, args.use_fp16)
  print('Exported %s (moving averages) to %s' % (checkpoint, args.export_dir))
  return 0


if __name__ == '__main__':
  sys.exit(flags.run_script(main))
