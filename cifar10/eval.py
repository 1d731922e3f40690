"""Evaluates checkpoints: precision @ 1, and each class's recall and precision.

    python -m cifar10.eval --run_once       # the newest checkpoint
    python -m cifar10.eval                  # each new one, as it comes
    python -m cifar10.eval --all_checkpoints  # each kept one not yet evaluated

Each evaluation restores the moving averages of the weights (which classify
better than the weights of any single step; --raw_weights restores the
weights as trained instead), classifies the images of --eval_data (the
first --num_examples of them, when given), and reports:

* `precision @ 1`, the name the original tutorial gave to the fraction of
  images whose most probable class is the true one (top-1 accuracy);
* with --top_k k, the fraction whose true class is among the k most probable
  (top-k accuracy);
* for each class, its recall (of that class's images, the share classified
  correctly) and its precision (of the images classified as that class, the
  share that belong to it), with the counts behind each;
* a confusion-matrix picture for TensorBoard's Images tab.

Without --run_once it looks for a new checkpoint every --eval_interval_secs,
so it can run beside a training run on the same folder; a checkpoint it
cannot use is reported in one line and skipped.

The precision measured at each checkpoint of real runs is in docs/accuracy.md.
"""

import datetime
import sys
import time


from cifar10.support import batch_files
from cifar10.support import data_sets
from cifar10.support import errors
from cifar10.support import flags
from cifar10.support import paths
from cifar10.support import script

EVAL_DATA_CHOICES = ('test', 'train_eval')


def parser():
  """The shared flags plus the evaluator's, with the original's defaults.

  --num_examples is None when not given: the original's 10,000 images then,
  or all the data holds where it holds fewer, without a word
  (docs/from_the_original.md).
  """
  parser = flags.base_parser('cifar10.eval', __doc__.splitlines()[0],
                              reads_checkpoint=True)
  parser.add_argument(
      '--eval_dir', default=paths.EVAL_DIR,
      type=flags.user_path(paths.check_eval_dir),
      help='Folder for the evaluator\'s TensorBoard event files.')
  parser.add_argument(
      '--eval_data', default='test', choices=EVAL_DATA_CHOICES,
      help='test: the data\'s test images (CIFAR-10 has 10,000); '
           'train_eval: its training images, cropped as test images are.')
  parser.add_argument(
      '--checkpoint_dir', type=flags.user_path(), default=paths.TRAIN_DIR,
      help='The training run\'s --train_dir, where the checkpoints are. A '
           'single checkpoint (such as .../model.ckpt-1000) is evaluated '
           'once.')
  parser.add_argument(
      '--eval_interval_secs', type=flags.positive_int, default=60 * 5,
      help='Seconds between looks for a new checkpoint.')
  parser.add_argument(
      '--num_examples', type=flags.positive_int, default=None,
      help='Images to classify and count, from the start of the data. Not '
           'given: the original\'s 10,000, or all of them where the data '
           'holds fewer. Given more than the data holds, it counts them all '
           'and says so.')
  flags.add_bool(parser, 'run_once',
                 'Evaluate the newest checkpoint, then exit.')
  flags.add_bool(parser, 'all_checkpoints',
                 'Evaluate, oldest first, every checkpoint of '
                 '--checkpoint_dir that has no precision @ 1 in --eval_dir '
                 'yet, then exit: the whole curve of a finished run. Not '
                 'with --run_once.')
  parser.add_check(flags.refuse_run_once_with_all_checkpoints)
  flags.add_session_flags(parser)
  flags.add_raw_weights(parser)
  parser.add_argument(
      '--top_k', type=flags.positive_int, default=1,
      help='Also report top-k accuracy for this k: the fraction of images '
           'whose true class is among the k most probable (1: do not). Less '
           'than the number of classes (9 at most for CIFAR-10), since all '
           'of them hold every image\'s true class.')
  return parser


# The flags come first, as in the original's scripts. `--help` is answered
# here, before the imports below load TensorFlow, which takes seconds.
script.start(__name__, parser)

import numpy as np
import tensorflow as tf

from cifar10 import cifar10
from cifar10.support import checkpoint_choice
from cifar10.support import checkpoints
from cifar10.support import classes
from cifar10.support import eval_report
from cifar10.support import run_flags
from cifar10.support import session_options as session_options_lib
from cifar10.support import storage

_HOW_TO_PROCEED = checkpoints.read_instead(
    '--checkpoint_dir',
    checkpoints.POINT_AT_TRAINING_RUN + ' Or let that run save a new '
    'checkpoint.', checkpoints.NO_WHOLE_CHECKPOINT,
    misfit=checkpoints.POINT_AT_TRAINING_RUN)  # Its new saves won't fit.


def eval_once(checkpoint_path, eval_data, data_dir, batch_size, num_examples,
              use_fp16, summary_writer, top_k=1,
              session_options=session_options_lib.SessionOptions(),
              raw_weights=False, data_format=data_sets.CIFAR10):
  """Evaluates one checkpoint, writes its summaries and prints the report.

  The model is built in the checkpoint's own dtype (float16 for a run
  trained with --use_fp16), whatever `use_fp16` says; a notice says so when
  the two differ. It scores the data's classes (its batches.meta.txt), and
  a checkpoint trained on another number of classes, or on other names
  where its run recorded them, is refused first.

  Args:
    checkpoint_path: the checkpoint prefix whose weights to restore.
    eval_data: 'test' or 'train_eval'.
    data_dir: the --data_dir, holding cifar-10-batches-bin/.
    batch_size: images per batch.
    num_examples: how many images to count, from the start of the data
      (more than there are: all of them, and a line says so); None: the
      original's 10,000 (NUM_EXAMPLES_PER_EPOCH_FOR_EVAL), or all there
      are where fewer, without a word.
    use_fp16: the --use_fp16 flag.
    summary_writer: a FileWriter; summaries go in at the checkpoint's step.
    top_k: also count top-k accuracy for this k.
    session_options: a session_options.SessionOptions, the speed flags'
      settings from which the session's ConfigProto is made.
    raw_weights: restore the trained variables instead of their moving
      averages.
    data_format: the data's format (--dataset and --label_set read).

  Returns:
    An eval_report.EvalResult.

  Raises:
    errors.UserError: the checkpoint cannot be used (see
      checkpoints.restore_weights), was trained on other classes, or the
      data is bad.
  """
  limit = (cifar10.NUM_EXAMPLES_PER_EPOCH_FOR_EVAL
           if num_examples is None else num_examples)
  data_classes = cifar10.data_classes(data_dir, data_format)
  checkpoint = checkpoints.read_checkpoint(checkpoint_path, _HOW_TO_PROCEED)
  checkpoints.check_classes(checkpoint, data_classes,
                            checkpoints.other_classes_advice(checkpoint_path,
                                                             data_dir))
  use_fp16 = checkpoints.checkpoint_uses_fp16(checkpoint, use_fp16)
  with tf.Graph().as_default():
    images, labels = cifar10.inputs(eval_data == 'test', data_dir, batch_size,
                                    use_fp16, data_format)
    logits = tf.cast(
        cifar10.inference(images, num_classes=data_classes.count), tf.float32)
    fetches = {
        'labels': labels,
        'predictions': tf.argmax(logits, axis=1),
        'top_1': tf.nn.in_top_k(predictions=logits, targets=labels, k=1),
        'top_k': tf.nn.in_top_k(predictions=logits, targets=labels, k=top_k),
    }
    summary_op = tf.compat.v1.summary.merge_all()
    with tf.compat.v1.Session(
        config=session_options.config_beside_training()) as sess:
      # The moving averages of the weights, restored into the weights.
      global_step = checkpoints.restore_weights(
          sess, checkpoint, cifar10.variables_to_restore(), raw_weights,
          _HOW_TO_PROCEED)
      try:
        # One run of the graph's own summaries (image and histograms) is
        # enough: they come with the first batch.
        first, summary_bytes = sess.run([fetches, summary_op])
        batches = [first]
        counted = len(first['labels'])
        while counted < limit:
          batches.append(sess.run(fetches))
          counted += len(batches[-1]['labels'])
      except tf.errors.OpError as error:
        # The end of the data (all of it asked for, or fewer images than
        # --num_examples) is fine, unless a file changed while it was read:
        # truncated, the reader may take that for the end too.
        bad_file = batch_files.bad_file_complaint(
            batch_files.batches_dir(data_dir, data_format),
            eval_data == 'test', data_format)
        if bad_file or not isinstance(error, tf.errors.OutOfRangeError):
          raise errors.UserError('Evaluating %s stopped: %s' % (
              checkpoint_path, bad_file or errors.describe(error)))
  result = eval_report.EvalResult(
      global_step=global_step, k=top_k, class_names=data_classes.names,
      **{name: np.concatenate([batch[name] for batch in batches])[:limit]
         for name in fetches})
  if num_examples is not None and len(result.labels) < num_examples:
    errors.notice('--num_examples is %d, but the %s data holds %d images: '
                  'counted them all.' % (num_examples, eval_data,
                                         len(result.labels)))
  eval_report.record_and_report(result, summary_bytes, summary_writer,
                                checkpoint_path, eval_data, raw_weights)
  return result


def evaluate(args, session_options, folder, named):
  """Evaluates the newest checkpoint once, or each new one as it appears.

  Without --run_once, the loop evaluates each new checkpoint once. A
  checkpoint it cannot use (deleted by training meanwhile, damaged, or not
  one of this model) is reported in one line and skipped, and the loop
  waits for the next. A single checkpoint named by --checkpoint_dir, or
  --all_checkpoints, is evaluated by support/checkpoint_choice.py instead.

  Args:
    args: the parsed flags.
    session_options: a session_options.SessionOptions, the settings of
      --mixed_precision and the other speed flags.
    folder, named: checkpoints.locate_checkpoints of --checkpoint_dir.

  Raises:
    errors.UserError: with --run_once, --all_checkpoints or a single
      checkpoint named, when there is no usable checkpoint.
    errors.Stopped: Ctrl-C or SIGTERM; it says what was kept.
  """
  # A folder that cannot be written is refused before the first evaluation,
  # not after it; the event file itself is opened with the first results,
  # so that a refused checkpoint leaves --eval_dir as it was.
  storage.check_writable(args.eval_dir)
  # Beside the first results, a record of the run evaluated (paths.
  # EVALUATED_RUN_FILE), by which a later evaluation of another run into
  # this folder is refused: the event files do not say. It refuses the run
  # once started over (--fresh) since, and other data. The writer takes
  # the folder for this evaluator alone (a second one's results would show
  # twice).
  record = eval_report.evaluation_record(
      args, folder, cifar10.NUM_EXAMPLES_PER_EPOCH_FOR_EVAL)
  summary_writer = eval_report.ResultsWriter(args.eval_dir, record)

  def evaluate_one(checkpoint_path, skip_unusable):
    # With `skip_unusable` (the waiting loop, --all_checkpoints) a checkpoint
    # that cannot be used is reported in one line, and None returned.
    script.raise_stop_asked()  # Lost in the evaluation before? See script.py.
    record.check_run(evaluating=True)  # Not skipped: a refusal.
    try:
      return eval_once(checkpoint_path, args.eval_data, args.data_dir,
                       args.batch_size, args.num_examples, args.use_fp16,
                       summary_writer, args.top_k, session_options,
                       args.raw_weights, args.data_format)
    except errors.UserError as error:
      script.raise_stop_asked()  # Not a damaged checkpoint, but a stop.
      if not skip_unusable:
        raise
      print('%s: skipped: %s' % (datetime.datetime.now(), error), flush=True)
      return None

  try:
    if checkpoint_choice.evaluate_chosen(args, folder, named, evaluate_one):
      return script.work_done()  # Said and written: a stop now loses nothing.
    if args.run_once:
      evaluate_one(checkpoints.require_latest(folder, args), False)
      return script.work_done()
    last_seen = said_waiting = None
    while True:
      try:
        checkpoint_path = checkpoints.latest_checkpoint(folder, _HOW_TO_PROCEED)
      except errors.UserError as error:  # A damaged index file, say.
        script.raise_stop_asked()
        print('%s: skipped: %s' % (datetime.datetime.now(), error), flush=True)
        checkpoint_path = last_seen
      record.check_run()  # Refused once started over (--fresh) beside it.
      if checkpoint_path is None and not said_waiting:
        print(checkpoints.waiting_line(folder), flush=True)
      elif checkpoint_path not in (None, last_seen):
        last_seen = checkpoint_path
        evaluate_one(checkpoint_path, True)
      said_waiting = checkpoint_path is None  # Once a wait, not each interval.
      script.raise_stop_asked()  # Rather than sleep through a lost stop.
      time.sleep(args.eval_interval_secs)
  except errors.STOPS as stop:  # Ctrl-C or SIGTERM.
    # Each finished evaluation was flushed to --eval_dir when it ended.
    signum = errors.stop_signal(stop)
    kept = ('The results of every evaluation that finished are in --eval_dir '
            '%s; the one under way, if any, was dropped.'
            if summary_writer.opened else
            'No evaluation finished: nothing was written into --eval_dir %s.')
    raise errors.Stopped(signum, 'Stopped by %s. %s' % (
        signum.name, kept % args.eval_dir)) from None
  finally:
    summary_writer.close()


def main(argv=None):
  args = parser().parse_args(argv)
  session_options = session_options_lib.SessionOptions.from_flags(args)
  session_options.apply_to_process()
  # What to evaluate first: with no checkpoint there, the test data need
  # not be downloaded, and nothing is written into --eval_dir.
  folder, named = checkpoints.locate_checkpoints(args.checkpoint_dir)
  paths.check_eval_dir_apart(args.eval_dir, folder, args.data_dir,
                             args.data_format)
  if args.run_once and not named:
    checkpoints.require_latest(folder, args)
  classes.check_run_before_download(
      folder, args.data_dir, args.data_format,
      run_flags.other_data_dir_of_run(folder, args.data_dir))
  cifar10.maybe_download_and_extract(
      args.data_dir, data_url=args.data_url,
      needed_files=batch_files.file_names(args.eval_data == 'test',
                                          args.data_format),
      data_format=args.data_format)
  eval_report.check_top_k(args.top_k, cifar10.data_classes(args.data_dir,
                                                           args.data_format))
  evaluate(args, session_options, folder, named)
  return 0


if __name__ == '__main__':
  sys.exit(script.run(main))
