"""Summary ops that write exactly the tag they are given, and their writer.

`tf.compat.v1.summary` derives tags from op names, so on TF 2.x it writes
`total_loss__raw_` for 'total_loss (raw)', `total_loss_1` for a second
'total_loss', and repeats enclosing name scopes. These ops take the tag as a
string tensor instead, and join the SUMMARIES collection that
`tf.compat.v1.summary.merge_all` and MonitoredTrainingSession read.

The training session's hooks write them, and its graph, through the one
writer that `open_run_writer` makes for --train_dir.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import re

import tensorflow as tf

from cifar10.support import histogram as histogram_lib

# Multi-tower graphs prefix op names with the tower's name scope; tags drop it
# so that every tower's summaries read like the single-device ones.
_TOWER_PREFIX = re.compile(r'tower_[0-9]*/')


def clean_tag(name):
  """An op name without its `tower_N/` prefix, for use as a summary tag."""
  return _TOWER_PREFIX.sub('', name)


def _collect(summary):
  """Adds `summary` to the SUMMARIES collection and returns it."""
  tf.compat.v1.add_to_collection(tf.compat.v1.GraphKeys.SUMMARIES, summary)
  return summary


def scalar(tag, value):
  """A scalar summary written under `tag`, verbatim."""
  return _collect(tf.raw_ops.ScalarSummary(
      tags=tag, values=tf.cast(value, tf.float32)))


def histogram(tag, values):
  """A histogram summary written under `tag`, verbatim.

  HistogramSummary's proto; for big tensors from vectorised ops, several
  times faster (see histogram.py).
  """
  return _collect(histogram_lib.histogram(tag, tf.cast(values, tf.float32)))


def image(tag, images, max_outputs=3):
  """Image summaries `tag/image/0`, ... for the first images of a batch."""
  return _collect(tf.raw_ops.ImageSummary(
      tag=tag, tensor=tf.cast(images, tf.float32), max_images=max_outputs))


class _WriterWithoutGraph(tf.compat.v1.summary.FileWriter):
  """A FileWriter that drops the graphs it is given, and writes the rest."""

  def add_graph(self, *args, **kwargs):
    del args, kwargs  # The run's first event file holds the graph.

  def add_meta_graph(self, *args, **kwargs):
    del args, kwargs


def open_run_writer(logdir, with_graph=True):
  """Opens the event file a training session's hooks share.

  MonitoredTrainingSession's hooks write through tf.compat.v1.summary's
  FileWriterCache, one FileWriter per folder, which it creates with the
  graph as it stands when the first hook asks, and writes that graph at
  once. The checkpoint hook writes the graph again once the session exists
  (then complete with the session's own ops), so every run held two, and
  TensorBoard warned "Found more than one graph event per run". Cached first,
  a writer made without a graph leaves the checkpoint hook's copy alone.

  A resumed run writes an event file of its own into the same folder, which
  TensorBoard reads as one run: its writer drops the checkpoint hook's graph
  too (`with_graph=False`), leaving the first run's, which the checkpoint
  it resumed from was checked to fit.

  The writer stays open in the cache, as the cache's own writers do; one
  that an earlier run in this process left there for `logdir` is closed.

  Args:
    logdir: the folder of the session's checkpoints and summaries.
    with_graph: whether the session's graph is written; False for a run
      that resumes from a checkpoint in `logdir`.
  """
  writer = (tf.compat.v1.summary.FileWriter if with_graph
            else _WriterWithoutGraph)(logdir)
  cache = tf.compat.v1.summary.FileWriterCache
  # The cache has no public way in: its dictionary is the way.
  with cache._lock:  # pylint: disable=protected-access
    earlier = cache._cache.get(logdir)  # pylint: disable=protected-access
    cache._cache[logdir] = writer  # pylint: disable=protected-access
  if earlier is not None:
    earlier.close()


def flush_run_writer(logdir):
  """Writes out the events still queued for the run's event file, if any.

  The checkpoint hook's last event (the final save's session log) is queued
  as the session closes, and the writer writes its queue only every two
  minutes or when closed. A process that exits closes it then; one that
  trains again (a notebook, a test) closed it only as the next run opened
  its own, when the disk may have filled meanwhile and the write failed.

  Args:
    logdir: the folder given to open_run_writer.
  """
  cache = tf.compat.v1.summary.FileWriterCache
  with cache._lock:  # pylint: disable=protected-access
    writer = cache._cache.get(logdir)  # pylint: disable=protected-access
  if writer is not None:
    writer.flush()
