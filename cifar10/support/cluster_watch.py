"""Watching the other tasks of a cluster: a ps task or a worker that is gone.

TensorFlow's distributed runtime takes a task that has died for a slow one
and waits for it without a word: a worker whose ps task is gone blocks in
its step for good, and a ps task waits for the done token of a worker that
died for as long as it runs. Worse, a blocked step holds the worker's main
thread inside TensorFlow's C++ code, where Python runs no signal handler:
Ctrl-C and SIGTERM wait, queued, for a step that never ends.

So each task watches the tasks it waits on, from a thread of its own, the
simplest way there is: a TCP connection to the task's address. A server
that is up accepts one, even while it is busy or stopped (the kernel
answers for it); a task that has exited is refused (or, on a host that is
down, not answered). Only then does a task say so, naming the other task
as the user gave it and what to do.

* StepWatch, in a worker: when no step has finished for a while, it looks
  for the ps tasks and, with --sync_replicas (where the steps wait for the
  chief and for each worker's gradients), for the chief and the other
  workers. It also receives the stop signals itself, through
  `signal.set_wakeup_fd`, which Python writes to even while the main
  thread is in C++, so that a stop can end the process when the step
  cannot: at once while a task it waits on is known to be gone (a ps task
  takes the variables with it, so nothing can be saved; a stalled
  synchronous step cannot finish without the task it waits for), and at a
  second stop signal while the first waits, as programs usually do.
* MissingWorkers, in a ps task: while it waits for the workers' done
  tokens, it names a worker whose address stops answering.

This module loads no TensorFlow; the worker's hook that reports each
finished step to the watch is dist_train's.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import os
import select
import signal
import socket
import sys
import threading
import time

from cifar10.support import errors

# Seconds without a finished step before a worker looks for its ps tasks. A
# step here takes well under a second, the first (which fills the shuffle
# buffer) several; a ps task that answers is never reported however long a
# step takes, so this only sets how soon a dead one is.
STALL_SECS = 5

# Seconds between two looks for the tasks a task waits on.
PROBE_SECS = 1


def connection_error(address):
  """None if 'host:port' accepts a TCP connection now, else the OSError."""
  host, _, port = address.rpartition(':')
  try:
    socket.create_connection((host, int(port)), timeout=1).close()
    return None
  except OSError as error:
    return error


def _reason(error):
  """The system's words for a failed connection: 'Connection refused'."""
  return error.strerror or str(error) or type(error).__name__


def _say(line):
  print(line, file=sys.stderr, flush=True)


class StepWatch:
  """A worker's watch over its steps, its ps tasks and the stop signals.

  Use it in a `with` statement, entered in the main thread, around the
  worker's run; its `step_finished` is called after each step (a session
  hook's after_run).

  Args:
    who: this worker as the user knows it, e.g. 'worker 1'.
    ps_tasks: [(name, address, given_in)] of each ps task as the user gave
      it, e.g. [('ps 0', 'localhost:2222', '--ps_hosts')].
    checkpoints: a function of no arguments that returns the clause on the
      checkpoints a stop at once leaves: on the chief, the last one saved.
    chief: (name, address, given_in) of the chief, which with
      --sync_replicas applies every update, so that the other workers'
      steps wait for it; None on the chief itself or without
      --sync_replicas.
    workers: [(name, address, given_in)] of the other workers whose
      gradients every step waits for (with --sync_replicas); () where the
      steps wait on no worker. The chief and these are looked for once the
      ps tasks all answer.
    resumes_from: a function of no arguments, called when a ps task is
      found gone, that returns what training resumes from once it is back,
      e.g. 'RUN/model.ckpt-20 (global step 21), the last checkpoint': no
      checkpoint can be saved while it is gone, so the chief's session
      restores the one that was last when it went. None: nothing is said.
    saves: whether this worker saves a checkpoint as it stops (the chief).
    stall_secs: seconds without a finished step before the ps tasks are
      looked for, and that a first stop signal waits before the watch says
      how to cut it short.
    say: the function that prints a line (stderr by default).
    end: the function that ends the process with a status (os._exit; the
      watch's thread cannot raise into the main one).
  """

  def __init__(self, who, ps_tasks, checkpoints, saves=False, chief=None,
               workers=(), resumes_from=None, stall_secs=STALL_SECS, say=_say,
               end=os._exit):  # pylint: disable=protected-access
    self._who = who
    self._saves = saves
    self._ps_tasks = ps_tasks
    self._chief = [chief] if chief else []
    self._workers = workers
    self._checkpoints = checkpoints
    self._resumes_from = resumes_from
    self._stall_secs = stall_secs
    self._say = say
    self._end = end
    self._lock = threading.Lock()
    self._last_step = time.monotonic()
    # (name, address, what its loss means) of a task known to be gone.
    self._gone = None
    self._reported = None  # The same, kept until a step finishes again.
    self._resumed_from = ''  # ', from ...', for the line saying it is back.
    # A worker looks for the chief and the other workers only once its steps
    # have begun (before, it may be waiting for a chief not yet started),
    # and for no task once they are over (at the end, the other workers
    # exit while the chief's session closes).
    self._stepped = False
    self._steps_over = False
    self._stops = 0
    self._first_stop = None  # (signal name, when) of the first stop signal.
    self._ended = False
    self._stopping = threading.Event()
    self._previous_wakeup = None

  def __enter__(self):
    self._read_end, write_end = socket.socketpair()
    self._write_end = write_end
    for end in (self._read_end, write_end):
      end.setblocking(False)
    try:
      self._previous_wakeup = signal.set_wakeup_fd(
          write_end.fileno(), warn_on_full_buffer=False)
    except ValueError:  # Not the main thread: the signals are not watched.
      self._previous_wakeup = None
    self._thread = threading.Thread(target=self._watch, daemon=True,
                                    name='StepWatch')
    self._thread.start()
    return self

  def __exit__(self, *unused_exc_info):
    self._stopping.set()
    if self._previous_wakeup is not None:
      signal.set_wakeup_fd(self._previous_wakeup)
    self._thread.join()
    self._read_end.close()
    self._write_end.close()

  def step_finished(self):
    """Notes a finished step; if a task was reported gone, says it is back."""
    with self._lock:
      self._last_step = time.monotonic()
      self._stepped = True
      reported, self._reported, self._gone = self._reported, None, None
    if reported:
      self._say('%s: %s (%s) is back, and steps finish again%s.'
                % ((self._who,) + reported[:2] + (self._resumed_from,)))

  def steps_ended(self):
    """Notes that the steps are over: no task is looked for from now on,
    and a stop is not said to wait for a step in flight."""
    with self._lock:
      self._steps_over = True

  @property
  def gone(self):
    """(name, address) of the task known to be gone, or None."""
    with self._lock:
      return self._gone and self._gone[:2]

  def _watch(self):
    while not self._stopping.is_set():
      ready, _, _ = select.select([self._read_end], [], [], PROBE_SECS)
      if ready:
        self._signals_came(self._read_end.recv(64))
      with self._lock:
        stalled = (time.monotonic() - self._last_step >= self._stall_secs and
                   not self._steps_over)
      if stalled and not self._stopping.is_set():
        self._look_for_the_tasks()
      self._say_how_a_slow_stop_goes()

  def _say_how_a_slow_stop_goes(self):
    """Once a first stop has waited `stall_secs`, says what it waits for.

    The step in flight, or the chief's save of it, is slow to finish (a ps
    task overloaded, or stopped): the user learns that the stop is under
    way, and how to cut it short. A second signal sent at once, before the
    first was taken, would be lost: the system holds one pending signal of
    each kind.
    """
    with self._lock:
      steps_over = self._steps_over
    # Once the steps are over, the stop is under way: nothing waits for a
    # step in flight, and the chief saves as its session closes.
    if (self._first_stop is None or self._stopping.is_set() or self._ended or
        steps_over):
      return
    name, since = self._first_stop
    if time.monotonic() - since < self._stall_secs:
      return
    self._first_stop = (name, float('inf'))  # Said once.
    self._say('%s: stopping by %s once the step in flight has finished%s. A '
              'second Ctrl-C or SIGTERM stops at once, saving nothing since '
              'the last checkpoint.' % (self._who, name, ' and been saved'
                                        if self._saves else ''))

  def _look_for_the_tasks(self):
    """Reports the first task waited on that accepts no connection, once.

    The ps tasks are looked for first, then (with --sync_replicas) the
    chief and the other workers. A task reported gone that answers again
    (restarted) is no longer taken for gone, though the steps may take a
    while to resume (the chief restores the variables first, a worker
    joins); it is said to be back once they do.
    """
    with self._lock:
      reported = self._reported
    if reported:
      answers = connection_error(reported[1]) is None
      with self._lock:
        if self._reported:
          self._gone = None if answers else reported
      return
    with self._lock:
      stepped = self._stepped
    for tasks, report in ((self._ps_tasks, self._ps_task_gone),
                          (self._chief if stepped else [], self._chief_gone),
                          (self._workers if stepped else [],
                           self._worker_gone)):
      for name, address, given_in in tasks:
        error = connection_error(address)
        if error is not None:
          report(name, address, given_in, error)
          return

  def _report(self, name, address, loss, line, resumed_from=''):
    """Takes task `name` for gone (`loss`: what that means for a stop) and
    says `line`, a format of the words on how long no step has finished
    ('for 12 s'); unless a task was already reported or the watch is
    ending."""
    with self._lock:
      if self._reported or self._stopping.is_set():
        return
      self._gone = self._reported = (name, address, loss)
      self._resumed_from = resumed_from
      stalled = time.monotonic() - self._last_step
      # Before the first step the worker may be waiting for its chief, or
      # filling its shuffle buffer: the time since its start, not a stall.
      since = ('for %d s' if self._stepped else
               'in the %d s since this worker started') % stalled
    self._say(line % since)
    if self._first_stop is not None and not self._ended:
      # A stop came first and waits for the step in flight, which cannot
      # finish now: it ends the worker at once, as the line says.
      self._stop_as_gone(signal.Signals[self._first_stop[0]])

  def _ps_task_gone(self, name, address, given_in, error):
    self._report(
        name, address,
        'and the variables with it, so nothing could be saved',
        '%s: no step has finished %%s, and %s (%s, from %s) accepts '
        'no connections (%s): that ps task has stopped, and the variables '
        'it held are gone with it. Start it again with its same command: '
        'the chief then restores the variables from its last checkpoint '
        '(or, with none saved, initializes them) and the workers train on '
        'from there. Or stop the workers (Ctrl-C '
        'in each), which now ends each at once, since nothing can be '
        'saved without that ps task.' % (
            self._who, name, address, given_in, _reason(error)),
        ', from %s' % self._resumes_from() if self._resumes_from else '')

  def _chief_gone(self, name, address, given_in, error):
    self._report(
        name, address,
        'and with --sync_replicas no step can finish without it',
        '%s: no step has finished %%s, and %s (%s, from %s) accepts '
        'no connections (%s): the chief has stopped, and with '
        '--sync_replicas it applies every update, so no step can finish '
        'without it. Start it again with its same command: it resumes from '
        'its last checkpoint, and the steps go on. Or stop the other tasks '
        '(Ctrl-C in each); this worker now stops at once, since its step '
        'cannot finish.' % (self._who, name, address, given_in,
                            _reason(error)))

  def _worker_gone(self, name, address, given_in, error):
    self._report(
        name, address,
        'and with --sync_replicas no step can finish without its gradients',
        '%s: no step has finished %%s, and %s (%s, from %s) accepts '
        'no connections (%s): that worker has stopped, and with '
        '--sync_replicas the steps wait for its gradients. Start it again '
        'with its same command: it rejoins, and the steps go on. Or stop the '
        'other tasks (Ctrl-C in each); this worker now stops at once, since '
        'its step cannot finish.' % (
            self._who, name, address, given_in, _reason(error)))

  def _signals_came(self, data):
    """Ends the process where a stop cannot wait for the step in flight."""
    for signum in data:
      if (signum not in errors.STOP_SIGNALS or self._stopping.is_set() or
          self._ended):
        continue
      self._stops += 1
      name = signal.Signals(signum).name
      if self._first_stop is None:
        self._first_stop = (name, time.monotonic())
      with self._lock:
        gone, steps_over = self._gone, self._steps_over
      if gone:
        self._stop_as_gone(signum)
      elif self._stops > 1 and steps_over:
        self._stop_now(signum, 'Stopped by a second stop signal (%s) at '
                       'once, as the session closed; %s.'
                       % (name, self._checkpoints()))
      elif self._stops > 1:
        self._stop_now(signum, 'Stopped by a second stop signal (%s) at '
                       'once, without waiting for the step in flight: '
                       'nothing was saved since the last checkpoint; %s.'
                       % (name, self._checkpoints()))

  def _stop_as_gone(self, signum):
    """Ends the process for stop `signum`, a task it waits on being gone."""
    with self._lock:
      gone = self._gone
    self._stop_now(signum, 'Stopped by %s at once: %s (%s) is gone, %s; %s.'
                   % ((signal.Signals(signum).name,) + gone +
                      (self._checkpoints(),)))

  def _stop_now(self, signum, line):
    self._say(line)
    sys.stdout.flush()
    self._ended = True  # For an `end` that returns (a test's).
    self._end(128 + signum)


class MissingWorkers:
  """A ps task's watch over the workers whose done tokens it still waits for.

  Call `look` now and then while waiting (it looks at most once per
  `probe_secs`), and `finished` with each token's worker. A worker that does
  not answer is named once, until it answers again, when it was seen
  before, when another worker has finished already (the cluster is past
  its start), or `startup_secs` after the watch began (a worker never
  started).

  Args:
    who: this ps task as the user knows it, e.g. 'ps 0'.
    workers: [(name, address, given_in)] of each worker, by index.
    startup_secs: seconds the workers are given to start (--startup_timeout).
    say: the function that prints a line (stdout by default, where the ps
      task says how many workers are done).
    probe_secs: the least seconds between two looks.
  """

  def __init__(self, who, workers, startup_secs,
               say=lambda line: print(line, flush=True),
               probe_secs=PROBE_SECS):
    self._who = who
    self._workers = workers
    self._startup_end = time.monotonic() + startup_secs
    self._say = say
    self._waiting = set(range(len(workers)))
    self._seen = set()
    self._reported = set()
    self._next_look = 0
    self._probe_secs = probe_secs

  def finished(self, index):
    """Notes that worker `index` has handed in its done token."""
    self._waiting.discard(index)

  def look(self):
    """Names each worker still waited for that has stopped answering."""
    now = time.monotonic()
    if now < self._next_look:
      return
    self._next_look = now + self._probe_secs
    past_start = (len(self._waiting) < len(self._workers) or
                  now >= self._startup_end)
    for index in sorted(self._waiting):
      name, address, given_in = self._workers[index]
      error = connection_error(address)
      if error is None:
        self._seen.add(index)
        self._reported.discard(index)
      elif index not in self._reported and (index in self._seen or
                                            past_start):
        self._reported.add(index)
        self._say(
            '%s: still waiting for %s (%s, from %s), which accepts no '
            'connections (%s): it has stopped before it finished. Start it '
            'again with its same command: it rejoins the cluster (or, with '
            'the global step at --max_steps already, finishes at once), and '
            'this task goes on. Or stop this ps task with Ctrl-C.' % (
                self._who, name, address, given_in, _reason(error)))
