"""Writes a trained CIFAR-10 model as a SavedModel, ready for serving.

    python -m cifar10.export --checkpoint_dir /tmp/cifar10_train \
        --export_dir /tmp/cifar10_model

The SavedModel holds the moving-average weights of the newest checkpoint
(--raw_weights: the weights as trained), in the checkpoint's own dtype, and one signature, 'serving_default': given
`images`, a uint8 batch [N, 32, 32, 3] (other sizes are refused), it crops and standardizes them as the
evaluator does and returns `logits` and `probabilities` (float32 [N, C],
C = 10 for CIFAR-10), `classes` (int64 [N]) and `class_names` (string [N],
the name of each image's class). The names in label order, the columns of
`probabilities`, are in `assets.extra/class_names.txt`, one per line: those
the training run recorded (cifar10.classes). Call it through
`tf.saved_model.load(export_dir).signatures['serving_default']`, or serve it
with TensorFlow Serving (which expects numbered version folders: give
--export_dir models/cifar10/1 and so on).
"""

import os
import sys


from cifar10.support import errors
from cifar10.support import flags
from cifar10.support import paths
from cifar10.support import script


def parser():
  """Export's flags: the checkpoint to read and the folder to write.

  It reads no data set and runs no batch, so the data set's flags and
  --batch_size are not among them.
  """
  parser = flags.script_parser('cifar10.export', __doc__.splitlines()[0])
  flags.add_use_fp16(parser, reads_checkpoint=True)
  parser.add_argument(
      '--checkpoint_dir', type=flags.user_path(), default=paths.TRAIN_DIR,
      help='The training run\'s --train_dir; its newest checkpoint is '
           'exported. A single checkpoint (such as .../model.ckpt-1000) '
           'works too.')
  parser.add_argument(
      '--export_dir', type=flags.user_path(), default=paths.EXPORT_DIR,
      help='Folder to create for the SavedModel. It must not exist yet: '
           'nothing is ever written over.')
  flags.add_raw_weights(parser)
  return parser


# The flags come first, as in the original's scripts. `--help` is answered
# here, before the imports below load TensorFlow, which takes seconds.
script.start(__name__, parser)

import tensorflow as tf

from cifar10 import cifar10
from cifar10.support import batch_files
from cifar10.support import checkpoints
from cifar10.support import classes
from cifar10.support import session_options
from cifar10.support import storage


def _next_version(folder):
  """The next version folder in `folder` ('': the current folder), numbered
  as TF Serving expects."""
  versions = [int(name) for name in storage.listdir(folder or '.')
              if name.isdigit()]
  return os.path.join(folder, str(max(versions, default=0) + 1))


def _free_folder(export_dir):
  """A folder to suggest in place of the existing folder `export_dir`.

  Inside a SavedModel a new folder would be a SavedModel within another,
  and inside a run's, an evaluation's, the data's or one's pictures'
  folder it would mix with their files: beside it, then, as the next
  version where `export_dir` is a numbered version of TensorFlow Serving's
  layout, else under a new name. Other folders (a models folder, an empty
  one) get a new numbered version inside. The
  folder is written as `export_dir` was, relative where it was, so that
  the command the user copies from the message works where theirs did.

  Returns:
    (the folder, why it is a good choice: a phrase).
  """
  folder = storage.normpath(export_dir)
  used_as = paths.use_of_folder(folder)
  if not used_as:
    return (_next_version(folder),
            'a new version, in TensorFlow Serving\'s layout')
  if not storage.exists(os.path.join(folder, paths.SAVED_MODEL_FILE)):
    # A run's, the data's or one's pictures: a model inside would mix with
    # their files (the converter would read it as a class of pictures).
    return (paths.free_name(folder.rstrip('/') + '_model'),
            'beside it, since it is %s' % used_as)
  if os.path.basename(folder).isdigit():
    return (_next_version(storage.dirname(folder)),
            'the next version beside it, in TensorFlow Serving\'s layout')
  number = 2
  while storage.exists('%s_%d' % (folder, number)):
    number += 1
  return '%s_%d' % (folder, number), 'a new folder beside it'


def export(checkpoint_dir, export_dir, use_fp16=False, raw_weights=False):
  """Writes the SavedModel of the newest checkpoint in `checkpoint_dir`.

  The model is assembled in a temporary folder beside `export_dir` and
  renamed to it once complete, so a failed export leaves nothing behind.

  Args:
    checkpoint_dir: a folder of checkpoints, or one checkpoint's prefix (or
      file), as `checkpoints.locate_checkpoints` reads it.
    export_dir: the folder to create.
    use_fp16: the --use_fp16 flag; the checkpoint's own dtype decides.
    raw_weights: export the trained variables instead of their moving
      averages.

  Returns:
    The checkpoint exported.

  Raises:
    errors.UserError: `export_dir` exists (the message names a free folder
      inside it when it is a folder), cannot be made, there is no usable
      checkpoint, or its folder records another number of classes than it
      scores.
  """
  if storage.isdir(export_dir):
    free, why = _free_folder(export_dir)
    raise errors.UserError(
        '--export_dir %s already exists, and nothing is written over. Give '
        'a new folder, such as %s (%s).'
        % (export_dir, paths.flag_value('--export_dir', free), why))
  if storage.exists(export_dir):
    raise errors.UserError(
        '--export_dir %s is a file. Give a new folder for the SavedModel.'
        % export_dir)
  # Refused now, the folder is named as given, before the model is built.
  storage.check_writable(export_dir)
  checkpoint, run_classes, use_fp16 = checkpoints.checkpoint_to_serve(
      checkpoint_dir, use_fp16)
  parent = storage.dirname(storage.absolute(export_dir))
  storage.makedirs(parent)
  staging = storage.partial_name(os.path.join(parent, 'export'))
  try:
    with tf.Graph().as_default():
      size = batch_files.ORIGINAL_SIZE
      images = tf.compat.v1.placeholder(tf.uint8, [None, size, size, 3],
                                        name='images')
      # The placeholder's shape is not checked where the model is served
      # (tf.saved_model.load's signatures, TensorFlow Serving): a picture
      # of another size would be cropped or padded to the network's
      # 24x24 and classified, a confident answer about part of it. The
      # check is an op of the graph, so that every server runs it.
      checked = tf.ensure_shape(images, [None, size, size, 3],
                                name='images_are_32x32')
      logits, probabilities, predicted = cifar10.classify(
          checked, use_fp16, run_classes.count)
      # The names travel inside the graph too: a server then answers with
      # each image's class name, not only its index.
      predicted_names = tf.gather(tf.constant(run_classes.names), predicted,
                                  name='class_names')
      with tf.compat.v1.Session(config=session_options.SessionOptions()
                                .config_beside_training()) as sess:
        checkpoints.restore_weights(sess, checkpoint,
                                  cifar10.variables_to_restore(), raw_weights)
        checkpoints.say_classes_assumed(checkpoint, run_classes)
        builder = tf.compat.v1.saved_model.Builder(
            os.path.join(staging, 'model'))
        signature = tf.compat.v1.saved_model.predict_signature_def(
            inputs={'images': images},
            outputs={'logits': logits, 'probabilities': probabilities,
                     'classes': predicted, 'class_names': predicted_names})
        # Attributes left at their defaults are dropped, so that a server
        # built on an older TensorFlow can still load the graph.
        builder.add_meta_graph_and_variables(
            sess, [tf.saved_model.SERVING],
            signature_def_map={'serving_default': signature},
            strip_default_attrs=True)
        builder.save()
    # assets.extra/ is the SavedModel's folder for files the graph does not
    # load (TensorFlow Serving reads its warm-up requests from there).
    extra = os.path.join(staging, 'model', 'assets.extra')
    storage.makedirs(extra)
    storage.write_atomically(os.path.join(extra, classes.RUN_FILE),
                             classes.format_names(run_classes.names))
    # A rename within one folder is atomic: on a local disk, export_dir
    # appears whole or not at all.
    storage.move_folder(os.path.join(staging, 'model'), export_dir)
  finally:
    storage.remove_tree(staging)
  return checkpoint.path


def main(argv=None):
  args = parser().parse_args(argv)
  checkpoint = export(args.checkpoint_dir, args.export_dir, args.use_fp16,
                      args.raw_weights)
  print('Exported %s (%s) to %s' % (
      checkpoint, 'raw weights' if args.raw_weights else 'moving averages',
      args.export_dir))
  return 0


if __name__ == '__main__':
  sys.exit(script.run(main))
