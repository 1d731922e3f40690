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

import errno
import os
import re
import shutil

from google.protobuf import text_format
import tensorflow as tf

from cifar10.support import errors
from cifar10.support import histogram as histogram_lib
from cifar10.support import storage

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


# The file the checkpoint hook writes the session's graph to, as text, in
# the run's folder: a resumed run compares its own graph with it.
GRAPH_FILE = 'graph.pbtxt'


def _nodes(graph_def):
  """A graph's shape as TensorBoard draws it: each op's name and type.

  Attributes are left out: they name the tf.data functions by a counter
  that runs on within a process, so the same graph built twice in one
  process (a notebook, the tests) differs there.
  """
  return [(node.name, node.op) for node in graph_def.node]


class _WriterOfChangedGraph(tf.compat.v1.summary.FileWriter):
  """A FileWriter that writes the graph only if it is not the folder's own.

  Made for a resumed run, before its session exists: `earlier_nodes` are
  those of the folder's graph.pbtxt as the first run left it (the
  checkpoint hook writes the file anew just before it hands this writer the
  graph), or None where there is none.
  """

  def __init__(self, logdir, earlier_nodes):
    super().__init__(logdir)
    self._earlier_nodes = earlier_nodes
    self._graph_written = False

  def add_graph(self, graph, *args, **kwargs):
    if _nodes(graph.as_graph_def()) != self._earlier_nodes:
      self._graph_written = True
      super().add_graph(graph, *args, **kwargs)

  def add_meta_graph(self, *args, **kwargs):
    # The hook sends the meta graph after the graph: written with it.
    if self._graph_written:
      super().add_meta_graph(*args, **kwargs)


def _nodes_of_graph_file(logdir):
  """The _nodes of the graph.pbtxt in `logdir`, or None if it has none."""
  path = os.path.join(logdir, GRAPH_FILE)
  if not storage.isfile(path):
    return None
  return _nodes(text_format.Parse(storage.read_bytes(path).decode('utf-8'),
                                  tf.compat.v1.GraphDef()))


def open_run_writer(logdir, resuming=False):
  """Opens the event file a training session's hooks share.

  MonitoredTrainingSession's hooks write through tf.compat.v1.summary's
  FileWriterCache, one FileWriter per folder, which it creates with the
  graph as it stands when the first hook asks, and writes that graph at
  once. The checkpoint hook writes the graph again once the session exists
  (then complete with the session's own ops), so every run held two, and
  TensorBoard warned "Found more than one graph event per run". Cached first,
  a writer made without a graph leaves the checkpoint hook's copy alone.

  A resumed run writes an event file of its own into the same folder, which
  TensorBoard reads as one run: its writer leaves the checkpoint hook's
  graph out too, where it is the graph the first run wrote. A graph that
  differs (the other trainer resumed the run, say, or another speed flag)
  is written, and TensorBoard shows it, the newest, with its warning.

  The writer stays open in the cache, as the cache's own writers do; one
  that an earlier run in this process left there for `logdir` is closed.

  Args:
    logdir: the folder of the session's checkpoints and summaries.
    resuming: whether the run resumes from a checkpoint in `logdir`.
  """
  if resuming:
    writer = _WriterOfChangedGraph(logdir, _nodes_of_graph_file(logdir))
  else:
    writer = tf.compat.v1.summary.FileWriter(logdir)
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


class WriterOnFirstSummary:
  """A FileWriter that makes its folder and event file with the first summary.

  The evaluator opens its writer before it knows whether any checkpoint can
  be evaluated; a refused one (trained on other classes, say) would leave
  an empty event file behind, and a folder that did not exist. This one
  writes nothing until there is something to write. It offers the
  FileWriter methods the evaluator uses: add_summary, flush and close,
  and says whether it has opened its file (`opened`).

  Args:
    logdir: the folder of the event file.
    filename_suffix: as FileWriter's.
    on_open: None, or a function called once the event file is made (so
      its folder exists), to write a file beside it.
  """

  def __init__(self, logdir, filename_suffix=None, on_open=None):
    self._logdir = logdir
    self._filename_suffix = filename_suffix
    self._on_open = on_open
    self._writer = None
    self._made = None  # What opening made, until the first flush is done.
    self._path = None  # The event file, where it is known and local.
    self._given = 0  # Bytes of summaries given: its size is no less.

  def add_summary(self, summary, global_step=None):
    if self._writer is None:
      self._open()
    self._writer.add_summary(summary, global_step)
    self._given += (len(summary) if isinstance(summary, bytes)
                    else summary.ByteSize())

  def _open(self):
    """Makes the event file (and its folder) and the file beside it."""
    # The folders that opening makes, innermost first, and the event files
    # there already: what `_take_back` removes.
    missing = storage.missing_folders(self._logdir)
    self._made = (missing, set() if missing else set(
        _event_files(self._logdir)))
    try:
      with tf.Graph().as_default():  # FileWriter refuses eager mode.
        self._writer = tf.compat.v1.summary.FileWriter(
            self._logdir, filename_suffix=self._filename_suffix)
      made = sorted(set(_event_files(self._logdir)) - self._made[1])
      if len(made) == 1 and not storage.scheme(self._logdir):
        self._path = os.path.join(self._logdir, made[0])
      if self._on_open:
        self._on_open()
    except BaseException:
      self._take_back()
      raise

  def _take_back(self):
    """Removes what opening made, after a failure before the first flush.

    A full disk stops the writer as it writes its first event, or the
    first summaries: the event file would stay behind, empty or holding no
    summary, in a folder that may not have existed. Both go, so that the
    failure leaves the folder as it was. (The file beside it is written
    atomically: it is whole, or not there.)
    """
    missing, before = self._made
    self._made = None
    if self._writer is not None:
      try:
        self._writer.close()
      except Exception:  # pylint: disable=broad-except
        pass  # It cannot flush either; its file goes now.
      self._writer = None
    if storage.isdir(self._logdir):
      for name in set(_event_files(self._logdir)) - before:
        storage.remove(os.path.join(self._logdir, name))
    storage.remove_made_folders(missing)

  @property
  def opened(self):
    """Whether a summary was given: the event file exists."""
    return self._writer is not None

  def flush(self):
    if self._writer is None:
      return
    try:
      self._writer.flush()
      self._check_written()
    except BaseException:
      if self._made is not None:  # The first flush: nothing is kept.
        self._take_back()
      raise
    self._made = None

  def _check_written(self):
    """Raises OSError (ENOSPC) where the event file is shorter than the
    summaries given, and the disk is full.

    A disk with a few kilobytes left takes the first part of a write and
    drops the rest, and TensorFlow's writer says nothing: the evaluator
    would print a result that its event file does not hold (TensorBoard,
    --all_checkpoints and plot_run would never see it).
    """
    if self._path is None or os.path.getsize(self._path) >= self._given:
      return
    if shutil.disk_usage(self._logdir).free < self._given:
      raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self._path)

  def close(self):
    if self._writer is not None:
      self._writer.close()


def reload_events(accumulator, folder):
  """Loads what a TensorBoard EventAccumulator of `folder` finds there.

  TensorBoard lists the folder through TensorFlow, which fails on a file
  name that is not UTF-8 text (caf\xe9.png, saved under another system's
  encoding): most often a folder of one's pictures given by mistake.

  Args:
    accumulator: an event_accumulator.EventAccumulator of `folder`.
    folder: the folder it reads, for the message.

  Raises:
    errors.UserError: naming the folder and what to give instead.
  """
  try:
    accumulator.Reload()
  except UnicodeError:
    raise errors.UserError(
        '%s holds a file whose name is not UTF-8 text, which TensorBoard\'s '
        'reader cannot list. Give the folder of a run\'s event files (its '
        '--train_dir, or the evaluator\'s --eval_dir), or rename that file.'
        % storage.printable(folder)) from None


def _event_files(folder):
  """The names of the event files in `folder`."""
  return [name for name in storage.listdir(folder)
          if name.startswith('events.out.tfevents.')]
