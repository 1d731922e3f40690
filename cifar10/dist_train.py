"""Trains CIFAR-10 across machines on TensorFlow's parameter-server runtime.

Every task of the cluster is a process of its own that runs a
tf.distribute.Server, known to the others by its job ('ps' or 'worker'), its
index in that job and its host:port. The parameter-server (ps) tasks build no
model: their servers keep the variables and run the reads and updates that
the workers send them. Each worker builds the whole training graph itself
(between-graph replication, the TF1 way), under a device setter that places
the variables on the ps tasks and every other op on the worker. A worker's
step therefore fetches the current weights from the ps tasks, computes the
loss and gradients of its own batch locally, and sends the gradients back,
where the ps tasks apply them. Worker 0 is the chief: it initializes (or
restores) the variables and is the only task that writes checkpoints and
summaries, in the format cifar10.eval reads.

One ps and two workers on one machine:

    python -m cifar10.dist_train --job_name ps --task_index 0 \\
        --ps_hosts localhost:2222 --worker_hosts localhost:2223,localhost:2224 &
    python -m cifar10.dist_train --job_name worker --task_index 0 \\
        --ps_hosts localhost:2222 --worker_hosts localhost:2223,localhost:2224 &
    python -m cifar10.dist_train --job_name worker --task_index 1 \\
        --ps_hosts localhost:2222 --worker_hosts localhost:2223,localhost:2224

The cluster can also come from the standard TF_CONFIG environment variable,
also in the Estimator's form, whose "chief" (or "master") task is worker 0.
Updates are asynchronous by default: each worker's gradients are applied as
soon as they arrive, whatever the other workers are doing. --sync_replicas
wraps the optimizer in a SyncReplicasOptimizer, which averages one gradient
from every worker into each update. With several ps tasks, local3/weights,
83% of the parameters, is split into one shard per ps task (a partitioned
variable; --partition_variables=false keeps it whole), and checkpoints
still hold it whole. The ps tasks exit once every worker has finished and
exited. A task that dies is named by the tasks that wait on it
(support/cluster_watch.py), which would otherwise wait for it in silence.
"""

import contextlib
import dataclasses
import json
import os
import signal
import socket
import sys
import threading
import time


from cifar10.support import errors
from cifar10.support import flags
from cifar10.support import script

JOB_NAMES = ('ps', 'worker')
# A TF_CONFIG of the Estimator era lists the first worker apart, in a job
# named 'chief' or, in older ones, 'master'.
CHIEF_JOBS = ('chief', 'master')


def parser():
  """The shared training flags plus those that describe the cluster."""
  parser = flags.training_parser('cifar10.dist_train',
                                 __doc__.splitlines()[0])
  parser.add_argument('--job_name', choices=JOB_NAMES, default=None,
                      help="This task's job, 'ps' or 'worker' (or TF_CONFIG).")
  parser.add_argument('--task_index', type=flags.non_negative_int, default=None,
                      help="This task's index within its job (or TF_CONFIG).")
  parser.add_argument('--ps_hosts', default=None,
                      help='Comma-separated host:port of the ps tasks.')
  parser.add_argument('--worker_hosts', default=None,
                      help='Comma-separated host:port of the worker tasks.')
  flags.add_bool(parser, 'sync_replicas',
                 'Average the gradients of all workers in each step instead '
                 'of applying each worker\'s as it comes.')
  flags.add_bool(parser, 'partition_variables',
                 'With several ps tasks, split each variable of 1 MiB or more '
                 '(local3/weights) into one shard per ps task, so that its '
                 'storage and traffic are shared out; false keeps every '
                 'variable whole on one task.', default=True)
  parser.add_argument('--startup_timeout', type=flags.positive_int, default=60,
                      help='Seconds to wait for the other tasks before giving '
                           'up with an error that names the missing one.')
  return parser


# The flags come first, as in the original's scripts. `--help` is answered
# here, before the imports below load TensorFlow, which takes seconds.
script.start(__name__, parser)

import numpy as np
import tensorflow as tf

from cifar10 import cifar10
from cifar10 import training_loop
import cifar10.train as train
from cifar10.support import batch_files
from cifar10.support import checkpoints
from cifar10.support import cluster_watch
from cifar10.support import learning_schedule
from cifar10.support import run_flags
from cifar10.support import training_run


# ---------------------------------------------------------------------------
# The cluster
# ---------------------------------------------------------------------------

def _hosts(text, flag):
  """Parses a comma-separated list of host:port addresses.

  Args:
    text: str or None, e.g. 'localhost:2222,localhost:2223'.
    flag: the flag (or TF_CONFIG field) the text came from, for errors.

  Returns:
    The addresses, a non-empty list of 'host:port' strings.

  Raises:
    errors.UserError: the list is empty, or an entry is not host:port with a
      port in 1..65535; the message names `flag`.
  """
  hosts = [host.strip() for host in (text or '').split(',') if host.strip()]
  if not hosts:
    raise errors.UserError('%s is empty: give host:port of at least one task.'
                           % flag)
  for host in hosts:
    name, _, port = host.rpartition(':')
    if not name or not port.isdigit() or not 0 < int(port) < 65536:
      raise errors.UserError('%s: %r is not host:port (a port 1..65535).'
                             % (flag, host))
  return hosts


@dataclasses.dataclass(frozen=True)
class Cluster:
  """The cluster as the servers see it, and as the user gave it.

  The servers know two jobs: 'ps', and 'worker', whose task 0 is the chief.
  A TF_CONFIG of the Estimator era lists the chief apart, in a job of its
  own, 'chief' (or 'master', its older name), and indexes its workers from
  0 after it. Here that chief is worker 0 and TF_CONFIG's worker i is
  worker i + 1, on every task alike, so that all servers agree on the
  cluster; messages still name each task as the user gave it.

  Attributes:
    hosts: {'ps': [...], 'worker': [...]}: the 'host:port' of each task, in
      the servers' order.
    job_name: this task's job, 'ps' or 'worker'.
    task_index: this task's index in hosts[job_name].
    tf_config: whether TF_CONFIG gave the cluster (else the flags did).
    chief_job: the job TF_CONFIG lists worker 0 in: 'worker', 'chief' or
      'master'.
  """
  hosts: dict
  job_name: str
  task_index: int
  tf_config: bool = False
  chief_job: str = 'worker'

  def _given_as(self, job_name, task_index):
    """(job, index) of a task of the servers' cluster, as the user gave it."""
    if job_name == 'worker' and self.chief_job != 'worker':
      return ((self.chief_job, 0) if task_index == 0 else
              ('worker', task_index - 1))
    return job_name, task_index

  def name(self, job_name, task_index):
    """A task as the user knows it: 'ps 0', or its "task" in TF_CONFIG."""
    job, index = self._given_as(job_name, task_index)
    if self.tf_config:
      return 'TF_CONFIG task {"type": "%s", "index": %d}' % (job, index)
    return '%s %d' % (job, index)

  def address_given_in(self, job_name, task_index):
    """Where the user gave a task's address: a flag or a TF_CONFIG field."""
    job, _ = self._given_as(job_name, task_index)
    return ('TF_CONFIG cluster.%s' % job if self.tf_config else
            '--%s_hosts' % job)

  def tasks(self, job_name):
    """[(name, address, where given)] of each task of a job, by index, as
    the messages of support/cluster_watch.py name them."""
    return [(self.name(job_name, index), address,
             self.address_given_in(job_name, index))
            for index, address in enumerate(self.hosts[job_name])]


def _listed_hosts(jobs, job, required=True):
  """The addresses TF_CONFIG's cluster lists for `job`.

  Args:
    jobs: TF_CONFIG's "cluster" object.
    job: the job's name, e.g. 'ps'.
    required: whether the job must list a task; if not, [] when it lists none.

  Raises:
    errors.UserError: they are not a list of host:port strings, or none when
      `required`.
  """
  addresses = jobs.get(job) or []
  if not (isinstance(addresses, list) and
          all(isinstance(address, str) for address in addresses)):
    raise errors.UserError('TF_CONFIG cluster.%s is %s, not a list of '
                           '"host:port" strings.' % (job, json.dumps(addresses)))
  if not addresses and not required:
    return []
  return _hosts(','.join(addresses), 'TF_CONFIG cluster.%s' % job)


def _cluster_from_tf_config(text):
  """The Cluster that the TF_CONFIG environment variable describes.

  Args:
    text: TF_CONFIG's value, JSON of {"cluster": {"ps": [...], "worker":
      [...]}, "task": {"type": ..., "index": ...}}; the cluster may also
      list the first worker apart, as "chief": [address] (or "master").

  Returns:
    A Cluster, tf_config=True.

  Raises:
    errors.UserError: the JSON is not of that shape, a list of addresses is
      empty or malformed, the chief's job lists other than one task, the
      task's type or index is not one of the cluster's, or two tasks are
      given one address.
  """
  try:
    config = json.loads(text)
    jobs, task = config['cluster'], config['task']
    job_name, task_index = task['type'], int(task['index'])
    chief_jobs = [job for job in CHIEF_JOBS if jobs.get(job) is not None]
  except (ValueError, KeyError, TypeError, AttributeError) as error:
    raise errors.UserError('TF_CONFIG is not valid cluster JSON (%s): it '
                           'needs {"cluster": {"ps": [...], "worker": '
                           '[...]}, "task": {"type": ..., "index": ...}}.'
                           % error)
  if len(chief_jobs) > 1:
    raise errors.UserError('TF_CONFIG cluster lists both a chief and a '
                           'master: they are two names of one task, the '
                           'first worker; keep one of them.')
  chief_job = chief_jobs[0] if chief_jobs else 'worker'
  given = {'ps': _listed_hosts(jobs, 'ps'),
           'worker': _listed_hosts(jobs, 'worker',
                                   required=chief_job == 'worker')}
  if chief_job != 'worker':
    given[chief_job] = _listed_hosts(jobs, chief_job)
    if len(given[chief_job]) != 1:
      raise errors.UserError(
          'TF_CONFIG cluster.%s lists %d tasks: it is the one chief; list '
          'the other workers in cluster.worker.'
          % (chief_job, len(given[chief_job])))
  if not (isinstance(job_name, str) and given.get(job_name)):
    raise errors.UserError(
        'TF_CONFIG task type %s is not a job of its cluster, which lists %s.%s'
        % (json.dumps(job_name),
           ', '.join(sorted(job for job, hosts in given.items() if hosts)),
           ' An evaluator is not a task of cifar10.dist_train: evaluate '
           'beside the cluster with python -m cifar10.eval --checkpoint_dir '
           'DIR, DIR being the chief\'s --train_dir.'
           if job_name == 'evaluator' else ''))
  if not 0 <= task_index < len(given[job_name]):
    raise errors.UserError(
        'TF_CONFIG task index %d is out of range: cluster.%s lists %d '
        'task(s), indexed from 0.'
        % (task_index, job_name, len(given[job_name])))
  hosts = {'ps': given['ps'], 'worker': given['worker']}
  if chief_job != 'worker':
    # Worker 0 is the chief; TF_CONFIG's worker i becomes worker i + 1.
    hosts['worker'] = given[chief_job] + given['worker']
    if job_name == chief_job:
      job_name, task_index = 'worker', 0
    elif job_name == 'worker':
      task_index += 1
  return _with_an_address_each(Cluster(hosts, job_name, task_index,
                                       tf_config=True, chief_job=chief_job))


def cluster_from(args, environ=os.environ):
  """The cluster and this task's place in it, from the flags or TF_CONFIG.

  TF_CONFIG is read only when neither --ps_hosts nor --worker_hosts is
  given; with TF_CONFIG set, one of them alone is refused.

  Args:
    args: the parsed flags.
    environ: the environment to read TF_CONFIG from.

  Returns:
    A Cluster.

  Raises:
    errors.UserError: TF_CONFIG is not valid JSON of the expected shape,
      TF_CONFIG is set and only one host flag given, a host list is empty
      or malformed, the job is unknown, the task index
      is missing or out of range, or two tasks are given one address.
  """
  given = [flag for flag, value in (('--ps_hosts', args.ps_hosts),
                                    ('--worker_hosts', args.worker_hosts))
           if value is not None]
  if environ.get('TF_CONFIG'):
    if not given:
      return _cluster_from_tf_config(environ['TF_CONFIG'])
    if len(given) == 1:
      # Half the cluster from a flag, half from TF_CONFIG, would mix two
      # descriptions that may not agree: one source or the other.
      missing = ({'--ps_hosts', '--worker_hosts'} - set(given)).pop()
      raise errors.UserError(
          '%s is given but %s is not, and TF_CONFIG is set: TF_CONFIG is '
          'read only when neither flag is given. Give both flags, or '
          'neither to take the cluster from TF_CONFIG.' % (given[0], missing))
  hosts = {'ps': _hosts(args.ps_hosts, '--ps_hosts'),
           'worker': _hosts(args.worker_hosts, '--worker_hosts')}
  job_name, task_index = args.job_name, args.task_index
  if job_name not in JOB_NAMES:
    raise errors.UserError('Unknown job name %r: use ps or worker.'
                           % (job_name,))
  if task_index is None:
    raise errors.UserError('Give --task_index (this task\'s index in its job).')
  if not 0 <= task_index < len(hosts[job_name]):
    raise errors.UserError(
        '--task_index %d is out of range: --%s_hosts lists %d task(s), '
        'indexed from 0.' % (task_index, job_name, len(hosts[job_name])))
  return _with_an_address_each(Cluster(hosts, job_name, task_index))


def _with_an_address_each(cluster):
  """Returns `cluster` once no two of its tasks share an address.

  Each task's server listens on the port of its own address, so two tasks
  given one address could not both start.

  Raises:
    errors.UserError: an address is given twice; the message names both
      tasks, and where each was given, as the user gave them.
  """
  first_given = {}
  for job_name in JOB_NAMES:
    for task_index, address in enumerate(cluster.hosts[job_name]):
      host, _, port = address.rpartition(':')
      # A server listens on its port on every interface: 'localhost:2222'
      # and '127.0.0.1:2222' are one address.
      place = ('this machine' if _names_this_machine(host) else host, port)
      if place in first_given:
        first = first_given[place]
        spelled_alike = address == first[2]

        def task(job_name, task_index, address):
          return '%s (%sfrom %s)' % (
              cluster.name(job_name, task_index),
              '' if spelled_alike else address + ', ',
              cluster.address_given_in(job_name, task_index))
        raise errors.UserError(
            '%s is the address of two tasks, %s and %s: each task listens on '
            'a port of its own. Give each task an address of its own, and '
            'every task the same %s.' % (
                address if spelled_alike else 'Port %s of this machine' % port,
                task(*first), task(job_name, task_index, address),
                'TF_CONFIG cluster' if cluster.tf_config else
                '--ps_hosts and --worker_hosts'))
      first_given[place] = (job_name, task_index, address)
  return cluster


def _names_this_machine(host):
  """Whether `host` is a name or loopback address of this machine."""
  return (host in ('localhost', '0.0.0.0', '::1', '[::1]', '[::]',
                   socket.gethostname()) or host.startswith('127.'))


def start_server(cluster):
  """Starts this task's gRPC server, which listens on its address's port.

  Every task runs one: the ps tasks' servers hold the variables, and the
  workers' run the ops placed on them.

  Args:
    cluster: the Cluster, with this task's place in it.

  Returns:
    The running tf.distribute.Server.

  Raises:
    errors.UserError: the server could not start (TensorFlow says only
      "Could not start gRPC server"); the message names the address, where
      it was given, and, if another process listens on its port, says so.
  """
  job_name, task_index = cluster.job_name, cluster.task_index
  address = cluster.hosts[job_name][task_index]
  try:
    return tf.distribute.Server(
        tf.train.ClusterSpec(cluster.hosts), job_name=job_name,
        task_index=task_index, start=True)
  except tf.errors.UnknownError as error:
    # The server listens on the port on every interface of this machine,
    # whatever the host part of the address.
    port = int(address.rpartition(':')[2])
    given_in = cluster.address_given_in(job_name, task_index)
    if cluster_watch.connection_error('localhost:%d' % port) is None:
      why = ('another process already listens on port %d, perhaps a task '
             'of an earlier run still running. Stop that process, or give '
             'this task a free port in %s, and every task the same %s' % (
                 port, given_in, given_in))
    else:
      why = 'TensorFlow says: %s' % error.message
    raise errors.UserError('Cannot start the server of %s on %s (from %s): '
                           '%s.' % (cluster.name(job_name, task_index),
                                    address, given_in, why)) from None


def wait_for_tasks(cluster, job_name, timeout_secs):
  """Waits until every task of a job accepts TCP connections.

  Args:
    cluster: the Cluster.
    job_name: the job whose tasks to wait for, e.g. 'ps'.
    timeout_secs: seconds to wait for all of them together.

  Raises:
    errors.UserError: a task still refuses connections after
      `timeout_secs`; the message names it, and where its address was given,
      as the user gave them.
  """
  deadline = time.monotonic() + timeout_secs
  for task_index, address in enumerate(cluster.hosts[job_name]):
    while True:
      error = cluster_watch.connection_error(address)
      if error is None:
        break
      if time.monotonic() > deadline:
        raise errors.UserError(
            'Cannot reach %s (%s) within --startup_timeout %d s (%s). Start '
            'that task, or correct its address in %s.'
            % (address, cluster.name(job_name, task_index), timeout_secs,
               error.strerror or error,
               cluster.address_given_in(job_name, task_index)))
      time.sleep(0.5)


def wait_for_tasks_to_exit(addresses, timeout_secs):
  """Waits until no address accepts TCP connections any more.

  Args:
    addresses: 'host:port' strings.
    timeout_secs: seconds to wait for all of them together.

  Returns:
    The addresses still accepting connections after `timeout_secs`: empty
    when every task has exited.
  """
  deadline = time.monotonic() + timeout_secs
  remaining = list(addresses)
  while remaining and time.monotonic() <= deadline:
    remaining = [address for address in remaining
                 if cluster_watch.connection_error(address) is None]
    if remaining:
      time.sleep(0.5)
  return remaining


class _GreedyByBytes:
  """Places each variable on the ps task holding the fewest bytes so far.

  replica_device_setter calls it for each variable op it places on a ps
  task. Its default deals the variables out round-robin, whatever their
  size, while in this network one variable, local3/weights, holds 885,120 of
  the 1,068,298 parameters.

  Args:
    num_tasks: int, the number of ps tasks.
  """

  def __init__(self, num_tasks):
    self.loads = [0] * num_tasks

  def __call__(self, op):
    """The ps task index for a variable op, whose size is then counted there."""
    shape = tf.TensorShape(op.get_attr('shape'))
    size = (shape.num_elements() or 1) * tf.as_dtype(op.get_attr('dtype')).size
    task = int(np.argmin(self.loads))
    self.loads[task] += size
    return task


def worker_device(task_index):
  """The device name of worker `task_index`, where its own ops run."""
  return '/job:worker/task:%d' % task_index


def worker_device_setter(cluster, task_index):
  """Device function for a worker's graph: variables on ps tasks, by size."""
  return tf.compat.v1.train.replica_device_setter(
      worker_device=worker_device(task_index), cluster=cluster,
      ps_strategy=_GreedyByBytes(len(cluster['ps'])))


def bytes_per_ps_task(variables, num_ps):
  """How many bytes of `variables` each ps task holds, read from their devices.

  Args:
    variables: placed tf.Variables, e.g. the global variables of a worker's
      graph; those not on a ps task are left out.
    num_ps: int, the number of ps tasks.

  Returns:
    A list of `num_ps` ints, the bytes on ps task 0, 1, ...
  """
  loads = [0] * num_ps
  for variable in variables:
    device = tf.DeviceSpec.from_string(variable.device)
    if device.job == 'ps':
      loads[device.task] += (variable.shape.num_elements() *
                             variable.dtype.base_dtype.size)
  return loads


# The size from which a variable is split across the ps tasks. In this
# network only local3/weights reaches it: 3.4 MiB in float32 (1.7 MiB in
# float16), 83% of the parameters. The next largest, conv2/weights, holds
# 0.4 MiB; splitting it, or the biases, would add requests to every step and
# balance little that the placement by size does not.
PARTITION_MIN_BYTES = 1 << 20


def large_variable_getter(num_shards, min_bytes=PARTITION_MIN_BYTES):
  """A custom getter that splits the large trainable variables, on axis 0.

  Given to tf.compat.v1.variable_scope(custom_getter=...), it hands
  get_variable TensorFlow's fixed_size_partitioner for each trainable
  variable of `min_bytes` or more. A partitioner set on the scope itself
  would reach every variable: those it left in one piece would still
  become partitioned variables of one shard, renamed <name>/part_0.
  Variables that are not trained (moving averages, which TensorFlow keeps
  beside each shard, the global step) are left alone.

  Args:
    num_shards: int, the shards of each large variable (one per ps task);
      fewer when its first axis is shorter.
    min_bytes: int, the size in bytes from which a variable is split.

  Returns:
    The getter, a function that takes get_variable's arguments.
  """
  split = tf.compat.v1.fixed_size_partitioner(num_shards)

  def partitioning_getter(getter, shape=None, dtype=tf.float32,
                          trainable=None, partitioner=None, **kwargs):
    known = tf.TensorShape(shape)  # Unknown for None.
    if (partitioner is None and trainable is not False and
        known.is_fully_defined() and
        known.num_elements() * tf.as_dtype(dtype).size >= min_bytes):
      partitioner = split
    return getter(shape=shape, dtype=dtype, trainable=trainable,
                  partitioner=partitioner, **kwargs)

  return partitioning_getter


@contextlib.contextmanager
def variable_placement(cluster, task_index, partition_variables=True):
  """Places the graph built inside it as worker `task_index`'s graph.

  Its ops run on the worker and its variables on the ps tasks, by size
  (see _GreedyByBytes). With several ps tasks and `partition_variables`,
  get_variable makes each trainable variable of PARTITION_MIN_BYTES or more
  a partitioned variable: one shard per ps task, each shard a variable of its
  own, placed by size like any other, so that the shards land on different
  tasks. The model computes with the whole variable, which TensorFlow
  concatenates from the shards on the worker; each shard's moving average
  sits on the shard's task; and a Saver writes the shards as the one whole
  variable, so that the checkpoint is the same model as an unsplit one.

  Args:
    cluster: {'ps': [...], 'worker': [...]}, the hosts of a Cluster.
    task_index: int, the worker's index.
    partition_variables: bool, the --partition_variables flag.
  """
  num_ps = len(cluster['ps'])
  with tf.compat.v1.device(worker_device_setter(cluster, task_index)):
    if not partition_variables or num_ps == 1:
      yield
      return
    # The root scope, entered again with the getter: no name changes, and
    # the model's own scopes (conv1, local3, ...) inherit the getter.
    with tf.compat.v1.variable_scope(
        tf.compat.v1.get_variable_scope(),
        custom_getter=large_variable_getter(num_ps)):
      yield


def _done_queue(cluster, ps_task):
  """The queue on ps task `ps_task` where each worker leaves a token when done.

  A ps server has no way to learn on its own that training is over, so each
  worker enqueues its index in every ps task's queue at the end, and each ps
  task waits for as many tokens as there are workers. `shared_name` makes the
  graph of every task refer to the one queue on that ps task. A ps task
  builds only its own queue: its session sees no other task (its device
  filters), and TensorFlow places every op of a session's graph, so a queue
  of another ps task there would stop it with an error.

  Args:
    cluster: {'ps': [...], 'worker': [...]}, the hosts of a Cluster.
    ps_task: int, the index of the ps task that holds the queue.

  Returns:
    A tf.queue.FIFOQueue on that task, with room for a token per worker.
  """
  with tf.device('/job:ps/task:%d' % ps_task):
    return tf.queue.FIFOQueue(len(cluster['worker']), tf.int32,
                              shared_name='done_queue_%d' % ps_task)


# ---------------------------------------------------------------------------
# The tasks
# ---------------------------------------------------------------------------

def _run_interruptibly(function, while_waiting=lambda: None):
  """Calls `function()` in a thread of its own, so that Ctrl-C can stop it.

  While a session's run blocks (a ps waits hours for its workers), the main
  thread is inside TensorFlow's C++ code, and Python delivers SIGINT only
  once it returns: Ctrl-C would do nothing. Waiting on the thread instead
  keeps the main thread where KeyboardInterrupt arrives, and free to call
  `while_waiting()` every half second meanwhile.

  Returns:
    What `function` returns.

  Raises:
    KeyboardInterrupt: on Ctrl-C; the thread is left to the process's end.
    Whatever `function` raises.
  """
  outcome = {}

  def call():
    try:
      outcome['value'] = function()
    except BaseException as error:  # Handed to the waiting thread.
      outcome['error'] = error

  thread = threading.Thread(target=call, daemon=True)
  thread.start()
  while thread.is_alive():
    thread.join(0.5)
    while_waiting()
  if 'error' in outcome:
    raise outcome['error']
  return outcome['value']


def run_ps(server, cluster, timeout_secs):
  """Serves the variables until every worker has said it is done, and left.

  The server already answers the workers' requests from its own threads;
  this only blocks on the done queue and reports each token it takes.
  Meanwhile it names a worker it still waits for whose address stops
  answering (cluster_watch.MissingWorkers): a worker that died would
  otherwise be waited for in silence, for good. A
  worker still talks to this task after its token: closing its session
  releases the graph it registered here, and that call never returns if
  this task is gone (checked with TF 2.21: the worker hangs). So this task
  stays until every worker's server has closed, that is, its process ended.

  Args:
    server: this task's running tf.distribute.Server.
    cluster: the Cluster, with this ps task's place in it.
    timeout_secs: --startup_timeout: seconds a worker is given to start
      before one that does not answer is named, and to exit after the last
      token; a worker still up after that is left to itself, with a notice.

  Raises:
    errors.Stopped: Ctrl-C (SIGINT) stopped it.
  """
  task_index = cluster.task_index
  who = cluster.name('ps', task_index)  # As the user gave it.
  num_workers = len(cluster.hosts['worker'])
  finished = 0
  missing = cluster_watch.MissingWorkers(who, cluster.tasks('worker'),
                                         timeout_secs)
  with tf.Graph().as_default():
    done = _done_queue(cluster.hosts, task_index).dequeue()
    config = tf.compat.v1.ConfigProto(
        device_filters=['/job:ps/task:%d' % task_index])
    try:
      # Not closed on Ctrl-C: closing waits for the dequeue still under
      # way, and the process is about to end anyway.
      sess = tf.compat.v1.Session(server.target, config=config)
      print('%s: serving the variables until every worker is done (%d in '
            'the cluster).' % (who, num_workers), flush=True)
      while finished < num_workers:
        missing.finished(int(_run_interruptibly(lambda: sess.run(done),
                                                missing.look)))
        finished += 1
        print('%s: %d of %d workers done.' % (who, finished, num_workers),
              flush=True)
    except KeyboardInterrupt:
      raise errors.Stopped(
          signal.SIGINT, '%s: stopped by SIGINT, %d of %d workers done. A '
          'ps task writes no files: the chief (%s) keeps the checkpoints, '
          'in its --train_dir.' % (who, finished, num_workers,
                                   cluster.name('worker', 0))) from None
    sess.close()
  still_up = wait_for_tasks_to_exit(cluster.hosts['worker'], timeout_secs)
  if still_up:
    print('%s: exiting, though %s still accept connections %d s after the '
          'last worker finished.' % (who, ', '.join(still_up), timeout_secs),
          flush=True)


# Sessions that cannot be closed: see _wait_for_chief.
_LEFT_OPEN = []


def _wait_for_chief(server, replica, cluster, timeout_secs):
  """Waits until the chief has initialized (or restored) the variables.

  Only the chief initializes or restores the variables; the other workers
  must not start before it has. MonitoredTrainingSession would wait for the
  chief too, but it looks again only after 30 seconds (its SessionManager's
  default), so a worker that starts first could idle that long; this looks
  twice a second. A ps task that stops meanwhile (the worker's StepWatch
  names it) is waited for too: started again, it gets the variables from
  the chief like the others.

  Args:
    server: this worker's running tf.distribute.Server.
    replica: the training_loop.Replica, for its device filters.
    cluster: the Cluster, for the names of the chief and the ps tasks.
    timeout_secs: seconds to wait before giving up.

  Raises:
    errors.UserError: variables are still uninitialized after
      `timeout_secs`; the message names the ps task that is gone, if one
      is, else the chief.
  """
  uninitialized = tf.compat.v1.report_uninitialized_variables(
      tf.compat.v1.global_variables())
  config = tf.compat.v1.ConfigProto(device_filters=replica.device_filters)
  deadline = time.monotonic() + timeout_secs
  sess = None
  while True:
    if sess is None and _a_lost_ps_task(cluster) is None:
      sess = tf.compat.v1.Session(server.target, config=config)
    if sess is not None:
      try:
        # A run waits for a ps task that is silent (stopped, not gone)
        # until it answers, unless given a deadline.
        options = tf.compat.v1.RunOptions(
            timeout_in_ms=int(1000 * max(deadline - time.monotonic(), 1)))
        if not sess.run(uninitialized, options=options).size:
          break
      except (tf.errors.UnavailableError, tf.errors.DeadlineExceededError,
              tf.errors.AbortedError, tf.errors.CancelledError):
        # A ps task is gone (the StepWatch names it), or came back without
        # the graph this session registered on it; either way the session
        # fails from now on, and a new one, once every ps task answers,
        # registers the graph anew. Closing this one would wait for good
        # for a task that is gone (as would its destructor): it is left
        # open, for the process's end, which closes nothing (os._exit).
        _LEFT_OPEN.append(sess)
        sess = None
    if time.monotonic() > deadline:
      lost = _a_lost_ps_task(cluster)
      if lost:
        raise errors.UserError(
            '%s (%s) stopped while this worker waited for the chief, and is '
            'still gone as --startup_timeout (%d s) runs out. Start it again '
            'with its same command, then this worker.' % (
                lost + (timeout_secs,)))
      raise errors.UserError(
          'The chief (%s) has not initialized the variables within '
          '--startup_timeout %d s. Start it, or raise --startup_timeout.'
          % (cluster.name('worker', 0), timeout_secs))
    time.sleep(0.5)
  sess.close()


def _a_lost_ps_task(cluster):
  """(name, address) of a ps task that accepts no connection, or None."""
  for task_index, address in enumerate(cluster.hosts['ps']):
    if cluster_watch.connection_error(address) is not None:
      return cluster.name('ps', task_index), address
  return None


class _QuietOnceClosed:
  """A session's Coordinator, for the chief's sync thread, quiet at the close.

  SyncReplicasOptimizer's chief runs a thread (a QueueRunner) that applies
  each averaged update and hands out the tokens of the next step. Between
  steps it blocks in the accumulators' TakeGrad, waiting for the next
  round of gradients, and after the last step none comes. Closing the
  session waits `stop_grace_period_secs` for the thread, gives up, marks
  the Coordinator joined, and then cancels the op the thread is blocked in.
  The thread reports that CancelledError to the Coordinator, which, being
  joined, raises it in the thread, and Python prints its traceback, though
  the run ended well (TensorFlow issues #11823, #20833, unfixed). This
  passes every call on to the session's Coordinator, except that one report.
  A failure while training still stops the session as before.
  """

  def __init__(self, coord):
    self._coord = coord

  def __getattr__(self, name):
    return getattr(self._coord, name)

  def request_stop(self, ex=None):
    if self._coord.joined and isinstance(ex, tf.errors.CancelledError):
      return  # The session closed under the thread: the end of a run.
    self._coord.request_stop(ex)


class _SyncReplicasHook(tf.compat.v1.train.SessionRunHook):
  """SyncReplicasOptimizer's own hook, changed so that a chief can come back.

  The optimizer's hook initializes the tokens and, on the chief, starts the
  thread that applies the averaged updates and hands each worker a token
  for its next step, from a queue on the ps tasks. As TensorFlow wrote it,
  the thread closes that queue whenever the chief's session closes: the
  workers then take the closed queue for the end of training and say they
  finished, and a chief restarted on the same ps tasks fails, unable to put
  tokens into the closed queue. Here the chief closes it only once the run
  has reached --max_steps, which ends the workers with it. A chief stopped
  (or failed) before that leaves it open: the workers wait for it, and,
  restarted, it restores its checkpoint, hands out new tokens and the
  steps go on. The thread also gets a Coordinator that lets it end without
  a traceback (see _QuietOnceClosed).

  Args:
    optimizer: the tf.compat.v1.train.SyncReplicasOptimizer.
    is_chief: bool, whether this worker is the chief.
    global_step: the global step variable.
    max_steps: int, the step at which the run is finished (--max_steps).
  """

  def __init__(self, optimizer, is_chief, global_step, max_steps):
    self._optimizer = optimizer
    self._hook = optimizer.make_session_run_hook(is_chief)
    self._is_chief = is_chief
    self._global_step = global_step
    self._max_steps = max_steps
    self._close_tokens = None

  def begin(self):
    self._hook.begin()
    if self._is_chief:
      runner = self._optimizer.get_chief_queue_runner()
      self._close_tokens = runner.queue.close()
      # The same thread, but nothing closes the queue when the session does.
      # pylint: disable-next=protected-access
      self._hook._q_runner = tf.compat.v1.train.QueueRunner(
          runner.queue, runner.enqueue_ops, close_op=tf.no_op(),
          cancel_op=tf.no_op())

  def after_create_session(self, session, coord):
    self._hook.after_create_session(session, _QuietOnceClosed(coord))

  def before_run(self, run_context):
    return self._hook.before_run(run_context)

  def after_run(self, run_context, run_values):
    self._hook.after_run(run_context, run_values)

  def end(self, session):
    self._hook.end(session)
    if self._close_tokens is not None and (
        session.run(self._global_step) >= self._max_steps):
      session.run(self._close_tokens)


class _StepsToWatch(tf.compat.v1.train.SessionRunHook):
  """Tells a cluster_watch.StepWatch of each step that finishes, and when
  the steps are over."""

  def __init__(self, watch):
    self._watch = watch

  def after_run(self, run_context, run_values):
    self._watch.step_finished()

  def end(self, session):
    self._watch.steps_ended()


def _checkpoints_clause(cluster, train_dir):
  """A function for the StepWatch: the clause on the checkpoints kept."""
  if cluster.task_index != 0:
    return lambda: 'the chief (%s) keeps the checkpoints' % cluster.name(
        'worker', 0)

  def latest():
    checkpoint = tf.train.latest_checkpoint(train_dir)
    return ('the last checkpoint is %s' % checkpoint if checkpoint else
            'no checkpoint was saved yet')
  return latest


def _resumes_from(train_dir):
  """A function for the chief's StepWatch: what a lost ps task resumes from.

  Called when the ps task is found gone. Nothing can be saved while it is,
  so the checkpoint last then is the one the chief's session restores once
  it is back (or, with none, the session starts the variables anew).
  """
  def latest():
    checkpoint = tf.train.latest_checkpoint(train_dir)
    if not checkpoint:
      return 'the start: no checkpoint had been saved'
    step = checkpoints.global_step_of(checkpoint)
    return '%s%s, the last checkpoint' % (
        checkpoint, '' if step is None else ' (global step %d)' % step)
  return latest


def run_worker(server, cluster, args, settings):
  """Trains with the shared loop; the chief also checkpoints and summarizes.

  A cluster_watch.StepWatch watches the steps: when they stall because a
  ps task is gone (or, with --sync_replicas, the chief or another worker),
  it says so, and a stop signal then ends the worker at once (as does a
  second one while the first waits for the step in flight).

  Args:
    server: this worker's running tf.distribute.Server.
    cluster: the Cluster, with this worker's place in it; worker 0 is the
      chief.
    args: the parsed flags.
    settings: the training_loop.LoopSettings made from the flags.
  """
  # A synchronous step waits for every worker's gradients, and for the
  # chief, which applies the update: a worker that is gone stalls the
  # others as a ps task does.
  is_chief = cluster.task_index == 0
  workers = cluster.tasks('worker')
  sync = args.sync_replicas
  watch = cluster_watch.StepWatch(
      cluster.name('worker', cluster.task_index), cluster.tasks('ps'),
      _checkpoints_clause(cluster, args.train_dir), saves=is_chief,
      chief=workers[0] if sync and not is_chief else None,
      workers=[task for index, task in enumerate(workers)
               if sync and index not in (0, cluster.task_index)],
      resumes_from=_resumes_from(args.train_dir) if is_chief else None)
  with watch:
    _train_as_worker(server, cluster, args, settings, watch)


def _train_as_worker(server, cluster, args, settings, watch):
  """run_worker's work, under its watch."""
  hosts, task_index = cluster.hosts, cluster.task_index
  is_chief = task_index == 0
  num_workers = len(hosts['worker'])
  # The schedule first: refused, it leaves --train_dir as it was.
  schedule = training_loop.schedule_from_flags(args)
  schedule.decay_steps(args.batch_size)
  # Only the chief touches --train_dir, around its whole run as
  # cifar10.train does (a stop before the first checkpoint leaves nothing).
  flags_of_run = (run_flags.RunFlags.from_flags(args, schedule) if is_chief
                  else None)
  prepared = training_run.prepare_train_dir(
      args.train_dir, args.fresh,
      cifar10.data_classes(args.data_dir, args.data_format),
      args.warm_start_from, args.trainable_scopes, cifar10.classify,
      args.use_fp16, flags_of_run=flags_of_run) if is_chief else (
          contextlib.nullcontext((None, None)))
  with prepared as (_, warm_source), tf.Graph().as_default():
    settings = dataclasses.replace(
        training_run.with_warm_source(settings, warm_source),
        run_flags=flags_of_run)
    # Each worker reads all the training files, shuffled with its own seed:
    # the same data distribution for every worker, whatever their number.
    if args.seed is not None:
      tf.compat.v1.set_random_seed(args.seed + task_index)
    sync = []

    def wrap_optimizer(optimizer):
      sync.append(tf.compat.v1.train.SyncReplicasOptimizer(
          optimizer, replicas_to_aggregate=num_workers,
          total_num_replicas=num_workers))
      return sync[0]

    with variable_placement(hosts, task_index, args.partition_variables):
      train_op, loss, global_step = train.build_graph(
          args.data_dir, args.batch_size, args.use_fp16,
          wrap_optimizer if args.sync_replicas else None, schedule,
          args.trainable_scopes, args.data_format)
    if is_chief:
      print('Variables on the ps tasks: %s.' % ', '.join(
          '%s %.2f MB' % (cluster.name('ps', task), size / 1e6)
          for task, size in enumerate(
              bytes_per_ps_task(tf.compat.v1.global_variables(),
                                len(hosts['ps'])))), flush=True)
    signal_done = [_done_queue(hosts, ps_task).enqueue(task_index)
                   for ps_task in range(len(hosts['ps']))]
    replica = training_loop.Replica(
        master=server.target, is_chief=is_chief,
        sync_replicas=args.sync_replicas,
        hooks=(_StepsToWatch(watch),) + tuple(
            _SyncReplicasHook(opt, is_chief, global_step, settings.max_steps)
            for opt in sync),
        device_filters=('/job:ps', worker_device(task_index)),
        # Closing the session waits this long for its threads. The only one
        # is the synchronous chief's, which never finishes by itself (see
        # _QuietOnceClosed): a longer wait only delays a stopped chief's
        # last line, and its exit, for nothing.
        max_wait_secs=args.startup_timeout, stop_grace_period_secs=1)
    if not is_chief:
      _wait_for_chief(server, replica, cluster, args.startup_timeout)
    # The log line reports the whole cluster's rate, read from the global
    # step: an asynchronous step is one worker's batch, a synchronous one
    # averages a batch from every worker, like multi_gpu_train's towers.
    batches_per_step = num_workers if args.sync_replicas else 1
    # The schedule counts one worker's batch a step (train.build_graph), so
    # a synchronous step, which averages a batch from every worker, makes
    # the decays come after that many times the epochs.
    if args.sync_replicas:
      step_words = ('each step averaging a batch of %d images from each of '
                    'the %d workers' % (args.batch_size, num_workers))
    else:
      step_words = 'each step one worker\'s batch of %d images' % (
          args.batch_size)
    training_loop.run(train_op, loss, global_step,
                      examples_per_step=args.batch_size * batches_per_step,
                      settings=settings, towers=batches_per_step,
                      replica=replica,
                      schedule_line=learning_schedule.describe(
                          schedule, args.batch_size, step_words,
                          args.batch_size * batches_per_step))
    config = tf.compat.v1.ConfigProto(device_filters=replica.device_filters)
    # The ps tasks wait for this process to exit before they do (see
    # run_ps), so they are still there when this session closes.
    with tf.compat.v1.Session(server.target, config=config) as sess:
      sess.run(signal_done)


def main(argv=None):
  args = parser().parse_args(argv)
  settings = training_loop.LoopSettings.from_flags(args)
  if settings.session_options.mixed_precision != 'off':
    # The distributed runtime skips oneDNN's graph pass, and the plain fused
    # convolution the bf16 rewrite leaves behind has no bfloat16 kernel.
    raise errors.UserError(
        '--mixed_precision %s does not work on TensorFlow\'s distributed '
        'runtime (its convolutions have no bfloat16 kernels there): leave it '
        'off for cifar10.dist_train.'
        % settings.session_options.mixed_precision)
  settings.session_options.apply_to_process()
  cluster = cluster_from(args)
  if cluster.job_name == 'worker':
    cifar10.maybe_download_and_extract(
        args.data_dir, data_url=args.data_url,
        needed_files=batch_files.file_names(False, args.data_format),
        data_format=args.data_format)
  server = start_server(cluster)
  wait_for_tasks(cluster, 'ps', args.startup_timeout)
  if cluster.job_name == 'ps':
    run_ps(server, cluster, args.startup_timeout)
  else:
    run_worker(server, cluster, args, settings)
  return 0


if __name__ == '__main__':
  status = script.run(main)
  sys.stdout.flush()
  # The gRPC server's threads would keep the process alive: leave at once.
  os._exit(status)
