"""What a user sees: the port's own lines, every result and stop said plainly.

The scripts run in real child processes, with the environment a user has:
no TF_CPP_MIN_LOG_LEVEL, no CIFAR10_TF_LOGS (the suite sets the first for
its other children).
"""

import errno
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import types

import pytest

from cifar10 import export
from cifar10 import synthetic
import cifar10.train as train
from cifar10.support import classes
from cifar10.support import errors
from cifar10.support import eval_report
from cifar10.support import tensorflow_logs
import script_modules

ports = script_modules.load('ports')
from conftest import DEADLINE_SECS, latest_step, opens_the_pipe

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The parts of TensorFlow's C++ log records and of absl's warning about them.
_TF_LOG_RECORD = re.compile(r'^[IWEF]\d{4} [\d:.]+\s+\d+ \S+:\d+\] ', re.M)
_ABSL_WARNING = 'All log messages before absl::InitializeLog() is called'

# Every line a short cifar10.train run prints, and nothing else.
_TRAIN_LINES = re.compile(
    r'^(\d{4}-\d\d-\d\d [\d:.]+: step \d+, loss = [\d.]+ \([\d.]+ '
    r'examples/sec; [\d.]+ sec/batch\)'
    r'|Learning rate .* training images, at \d+ images a step\.'
    r'|Filling the shuffle buffer with .* before the first batch\.'
    r'|Finished at step \d+; saved \S+\.'
    r'|cifar10: using oneDNN CPU kernels, .*)$')


def _user_environment(**extra):
  """This process's environment, less the variables the suite sets."""
  environ = dict(os.environ, **extra)
  for name in ('TF_CPP_MIN_LOG_LEVEL', tensorflow_logs.SWITCH):
    if name not in extra:
      environ.pop(name, None)
  return environ


def _run(args, environ=None, cwd=None):
  """Runs `python args`; returns (exit status, stdout and stderr together)."""
  done = subprocess.run([sys.executable] + list(args), stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True,
                        env=environ or _user_environment(), cwd=cwd,
                        timeout=DEADLINE_SECS)
  return done.returncode, done.stdout


def _train_here(args):
  """Trains as `python -m cifar10.train args` would, in this process.

  For a run a test only starts from, whose output it does not check: a
  child would cost another TensorFlow start-up.
  """
  assert train.main(list(args)) == 0


@pytest.fixture(scope='module')
def tiny_data_dir(tmp_path_factory):
  """100 training and 20 test records: a run of a few steps costs little."""
  data_dir = str(tmp_path_factory.mktemp('tiny_data'))
  synthetic.write_synthetic_dataset(data_dir, train_records_per_file=20,
                                    test_records=20, seed=3)
  return data_dir


def _tensorflow_own_lines(level):
  """The messages of the C++ lines `import tensorflow` prints by itself.

  Args:
    level: the TF_CPP_MIN_LOG_LEVEL to import it with.
  """
  _, output = _run(['-c', 'import tensorflow'],
                   _user_environment(TF_CPP_MIN_LOG_LEVEL=level))
  return [line.split('] ', 1)[1] for line in output.splitlines()
          if _TF_LOG_RECORD.match(line)]


def test_training_prints_only_the_port_lines_and_the_switch_adds_tensorflow_s(
    tiny_data_dir, tmp_path):
  # --seed makes TensorFlow warn that the graph's seed reaches the map.
  args = ['-m', 'cifar10.train', '--data_dir', tiny_data_dir, '--max_steps',
          '20', '--batch_size', '10', '--seed', '1']
  status, quiet = _run(args + ['--train_dir', str(tmp_path / 'quiet')])
  assert status == 0, quiet
  lines = quiet.splitlines()
  assert [line for line in lines if not _TRAIN_LINES.match(line)] == []
  assert len([line for line in lines if ': step ' in line]) == 2
  # The buffer fills from the 100 records there are, not the 20,000 the
  # full data set would put in it.
  assert ('Filling the shuffle buffer with all 100 training images (it has '
          'room for 20030) before the first batch.') in lines
  # The schedule counts epochs of these 100 records: int(100 / 10 * 350).
  assert ('Learning rate 0.1 until step 3500, then multiplied by 0.1 every '
          '3500 steps: 350 epochs of the 100 training images, at 10 images a '
          'step.') in lines

  own = _tensorflow_own_lines('0')  # As TensorFlow prints them by default.
  if not own:
    pytest.skip('TensorFlow prints no start-up line on this machine')
  status, verbose = _run(args + ['--train_dir', str(tmp_path / 'verbose')],
                         _user_environment(**{tensorflow_logs.SWITCH: '1'}))
  assert status == 0, verbose
  assert _ABSL_WARNING in verbose
  for message in own:
    assert message in verbose and message not in quiet


def test_nothing_to_train_says_so_without_the_buffer_line(tiny_data_dir,
                                                          tmp_path):
  flags = ['--data_dir', tiny_data_dir, '--train_dir', str(tmp_path),
           '--max_steps', '1', '--batch_size', '10']
  _train_here(flags)
  status, output = _run(['-m', 'cifar10.train'] + flags)
  assert status == 0, output
  assert output.splitlines() == [
      'Nothing to do: the global step in %s is already 1 and --max_steps is '
      '1. Raise --max_steps to train further.' % tmp_path]


def test_a_failing_tensorflow_import_is_shown_in_full(tiny_data_dir, tmp_path):
  # A broken environment: absl, which TensorFlow imports (and this package
  # does not), fails.
  broken = tmp_path / 'broken' / 'absl'
  broken.mkdir(parents=True)
  (broken / '__init__.py').write_text(
      'raise ImportError("absl is broken here, on purpose")\n')
  environ = _user_environment(
      PYTHONPATH=os.pathsep.join([str(tmp_path / 'broken'), REPO]))
  status, output = _run(['-m', 'cifar10.train', '--data_dir', tiny_data_dir,
                         '--train_dir', str(tmp_path / 'train')], environ)
  assert status == 1
  assert 'Traceback' in output
  assert output.rstrip().endswith(
      'ImportError: absl is broken here, on purpose')
  assert 'import tensorflow' in output


@pytest.mark.fast
def test_lines_held_back_when_the_process_aborts_are_shown():
  # A C++ FATAL record ends the process at once, as an abort: Python never
  # gets to show what it held back, so the watcher process does.
  status, output = _run(['-c', 'import os; '
                         'from cifar10.support import tensorflow_logs; '
                         'tensorflow_logs._run_with_stderr_held(lambda: ('
                         'os.write(2, b"F0000 the reason it died\\n"), '
                         'os.abort()))'])
  assert status == -signal.SIGABRT
  assert 'F0000 the reason it died' in output


@pytest.mark.fast
@pytest.mark.parametrize('end, shown', [
    ('os.kill(os.getpid(), signal.SIGSEGV)', True),
    ('os.kill(os.getpid(), signal.SIGKILL)', False),
    ('os.kill(os.getpid(), signal.SIGTERM)', False),
    ('os.kill(os.getpid(), signal.SIGINT)', False)],
    ids=['SIGSEGV', 'SIGKILL', 'SIGTERM', 'SIGINT'])
def test_held_back_lines_are_shown_for_a_crash_not_for_a_kill(end, shown,
                                                             tmp_path):
  # Before: the watcher showed them however the process ended, so that
  # `kill -9` during a script's start-up printed TensorFlow's lines, often
  # after the shell's prompt. The output is read to its end, which the
  # watcher, holding stderr too, reaches only when it is done.
  status, output = _run(
      ['-c', 'import os, signal; '
             'from cifar10.support import tensorflow_logs; '
             'tensorflow_logs._run_with_stderr_held(lambda: ('
             'os.write(2, b"W0000 a start-up line\\n"), %s))' % end],
      _user_environment(TMPDIR=str(tmp_path)))
  assert status != 0
  assert ('W0000 a start-up line' in output) == shown, output
  if 'SIGKILL' in end or 'SIGTERM' in end:
    assert output == ''  # (Ctrl-C's KeyboardInterrupt is python -c's.)
  # The held-back lines' file and the crash file are removed either way.
  assert os.listdir(tmp_path) == []


@pytest.mark.fast
def test_a_stop_while_the_held_back_files_are_made_waits_with_a_thread_beside(
    ):
  # Before: the stops were blocked in the main thread only, and the kernel
  # gives a signal sent to the process to any thread that does not block it
  # (numpy's OpenBLAS starts one before TensorFlow loads), whose handler
  # then ran in the main thread at once: a stop in that moment left the
  # held-back lines' file in the temporary folder (seen once in CI).
  handled = []
  previous = signal.signal(signal.SIGTERM,
                           lambda signum, frame: handled.append(signum))
  other_thread_may_end = threading.Event()
  other_thread = threading.Thread(target=other_thread_may_end.wait)
  other_thread.start()
  try:
    with tensorflow_logs._stops_held():  # pylint: disable=protected-access
      os.kill(os.getpid(), signal.SIGTERM)
      # Time enough for a stop that was not held to be handled.
      deadline = time.monotonic() + 0.5
      while time.monotonic() < deadline:
        time.sleep(0.01)
      handled_while_held = list(handled)
    assert handled_while_held == []
    assert handled == [signal.SIGTERM]
  finally:
    signal.signal(signal.SIGTERM, previous)
    other_thread_may_end.set()
    other_thread.join()


@pytest.mark.fast
def test_start_up_lines_held_back_in_another_thread_come_back(tmp_path):
  # Only the main thread may set signal handlers: where a user's program
  # first imports TensorFlow in a thread of its own, nothing is held, and
  # the lines still come back with the result, their files removed.
  status, output = _run(
      ['-c', 'import os, threading; '
             'from cifar10.support import tensorflow_logs; '
             'thread = threading.Thread(target=lambda: print('
             'tensorflow_logs._run_with_stderr_held(lambda: ('
             'os.write(2, b"W0000 a start-up line\\n"), 7)[1]))); '
             'thread.start(); thread.join()'],
      _user_environment(TMPDIR=str(tmp_path)))
  assert (status, output) == (0, "(7, b'W0000 a start-up line\\n')\n")
  assert os.listdir(tmp_path) == []


def test_a_crash_after_the_import_shows_the_held_back_lines():
  # The lines held back are those of the level a script sets.
  own = _tensorflow_own_lines('3')
  status, output = _run(['-c', 'from cifar10.support import script; '
                         'script.prepare_process(); import tensorflow; '
                         'raise RuntimeError("something broke")'])
  assert status == 1
  assert output.rstrip().endswith('RuntimeError: something broke')
  if not own:
    pytest.skip('TensorFlow prints no start-up line on this machine')
  assert output.startswith("TensorFlow's start-up lines, held back until "
                           "now (CIFAR10_TF_LOGS=1 shows them as they come):")
  for message in own:
    assert message in output


def test_device_placement_is_printed_once(tiny_data_dir, tmp_path):
  status, output = _run(['-m', 'cifar10.train', '--data_dir', tiny_data_dir,
                         '--train_dir', str(tmp_path), '--max_steps', '1',
                         '--batch_size', '10', '--log_device_placement'])
  assert status == 0, output[-3000:]
  placements = re.findall(r'^conv1/Conv2D: \(Conv2D\): (\S+)$', output, re.M)
  assert len(placements) == 1, output[-3000:]


def test_eval_result_names_the_checkpoint_and_its_step(tiny_data_dir,
                                                       tmp_path):
  train_dir = str(tmp_path / 'train')
  _train_here(['--data_dir', tiny_data_dir, '--train_dir', train_dir,
               '--max_steps', '3', '--batch_size', '10'])
  status, output = _run(['-m', 'cifar10.eval', '--data_dir', tiny_data_dir,
                         '--checkpoint_dir', train_dir, '--eval_dir',
                         str(tmp_path / 'eval'), '--run_once',
                         '--batch_size', '10', '--top_k', '2'])
  assert status == 0, output
  checkpoint = os.path.join(train_dir, 'model.ckpt-3')
  assert re.search(r'^[\d :.-]+: %s \(global step 3\) on 20 test images: precision @ 1 = '
                   r'\d\.\d{3}$' % re.escape(checkpoint), output, re.M), output
  assert re.search(r'^[\d :.-]+: %s \(global step 3\) on 20 test images: top-2 accuracy = '
                   r'\d\.\d{3}$' % re.escape(checkpoint), output, re.M), output
  assert not _TF_LOG_RECORD.search(output) and _ABSL_WARNING not in output
  assert 'WARNING:tensorflow' not in output and 'Warning:' not in output


def _interrupt_and_check(child, waiting, last_line, signum=signal.SIGINT):
  """Sends `signum` once `child` prints `waiting`; checks how it stops.

  It must exit with 128 + signum, without a traceback or the port's
  `error:` (which begins a line), and end with `last_line`.
  """
  child.wait_for(waiting)
  child.process.send_signal(signum)
  status, output = child.finish()
  assert status == 128 + signum, output[-3000:]
  assert 'Traceback' not in output and not re.search('^error:', output, re.M)
  assert output.splitlines()[-1] == last_line


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM],
                         ids=['SIGINT', 'SIGTERM'])
def test_a_stop_ends_the_eval_loop_quietly(signum, tiny_data_dir, tmp_path,
                                           children):
  # Before: SIGTERM ended the evaluator at once, without a word.
  os.makedirs(tmp_path / 'train')  # A run's folder before its checkpoint.
  evaluator = children('-m', 'cifar10.eval', '--checkpoint_dir',
                       str(tmp_path / 'train'), '--eval_dir',
                       str(tmp_path / 'eval'), '--data_dir', tiny_data_dir,
                       '--eval_interval_secs', '1')
  # Before: "The results of every evaluation that finished are in
  # --eval_dir ...", a folder that none had made.
  _interrupt_and_check(
      evaluator, r'^No checkpoint in .* yet; waiting for one\.$',
      'Stopped by %s. No evaluation finished: nothing was written into '
      '--eval_dir %s.' % (signum.name, tmp_path / 'eval'), signum)
  assert not (tmp_path / 'eval').exists()


def test_the_eval_loop_says_that_the_folder_it_waits_on_does_not_exist(
    tiny_data_dir, tmp_path, children):
  # Before: "No checkpoint in DIR yet; waiting for one.", for a folder a
  # typo names as well as one a trainer is about to make. It still waits.
  missing = str(tmp_path / 'notyet')
  evaluator = children('-m', 'cifar10.eval', '--checkpoint_dir', missing,
                       '--eval_dir', str(tmp_path / 'eval'), '--data_dir',
                       tiny_data_dir, '--eval_interval_secs', '1')
  _interrupt_and_check(
      evaluator, '^%s$' % re.escape(
          '--checkpoint_dir %s does not exist yet; waiting for a training '
          'run to make it and save a checkpoint there.' % missing),
      'Stopped by SIGINT. No evaluation finished: nothing was written into '
      '--eval_dir %s.' % (tmp_path / 'eval'))
  assert not os.path.exists(missing)


def test_the_eval_loop_says_once_that_it_waits_for_a_checkpoint(
    synthetic_data_dir, tmp_path, capsys, monkeypatch):
  # Before: "No checkpoint in DIR yet; waiting for one." at every interval,
  # a line every --eval_interval_secs for as long as training took to save.
  # The intervals are counted, not timed: the loop's sleep here counts its
  # calls, and the fourth is a Ctrl-C.
  from cifar10 import eval as cifar10_eval  # pylint: disable=g-import-not-at-top
  from cifar10.support import checkpoints  # pylint: disable=g-import-not-at-top
  from cifar10.support import session_options  # pylint: disable=g-import-not-at-top
  intervals = []

  def sleep(seconds):
    intervals.append(seconds)
    if len(intervals) == 4:
      raise KeyboardInterrupt
  monkeypatch.setattr(cifar10_eval, 'time', types.SimpleNamespace(
      sleep=sleep))
  train_dir = str(tmp_path / 'train')
  os.makedirs(train_dir)  # A run's folder before its checkpoint.
  args = cifar10_eval.parser().parse_args([
      '--checkpoint_dir', train_dir, '--eval_dir', str(tmp_path / 'eval'),
      '--data_dir', synthetic_data_dir, '--eval_interval_secs', '7'])
  folder, named = checkpoints.locate_checkpoints(args.checkpoint_dir)
  with pytest.raises(errors.Stopped):
    cifar10_eval.evaluate(
        args, session_options.SessionOptions.from_flags(args), folder, named)
  assert intervals == [7] * 4
  assert capsys.readouterr().out.splitlines() == [
      'No checkpoint in %s yet; waiting for one.' % train_dir]


# Drops the stop it is given where Python cannot raise it: in a finalizer,
# as when the evaluator's session and graph are freed after a report.
_STOP_IN_A_FINALIZER = '''
class StopInAFinalizer:
  def __del__(self):
    os.kill(os.getpid(), signal.SIGINT)
    ran_on.append(True)  # Python's hook says nothing; then this line runs.
'''


@pytest.mark.fast
def test_a_stop_lost_in_a_finalizer_is_raised_again_quietly(capsys):
  # Python prints "Exception ignored in" and a traceback for a
  # KeyboardInterrupt raised inside __del__, then goes on as if there were
  # no stop. Before: the evaluator went back to sleep; see the next test.
  from cifar10.support import script  # pylint: disable=g-import-not-at-top
  ran_on, after_the_stop = [], []
  scope = {'os': os, 'signal': signal, 'ran_on': ran_on}
  exec(_STOP_IN_A_FINALIZER, scope)  # pylint: disable=exec-used

  def main(argv):
    del argv  # Unused.
    script.raise_stop_asked()  # None yet, even after an earlier run's stop.
    scope['StopInAFinalizer']()  # Freed at once.
    after_the_stop.append(True)
    script.raise_stop_asked()
    return 0
  for _ in range(2):
    assert script.run(main) == 130
  assert ran_on == [] and after_the_stop == [True, True]
  error = capsys.readouterr().err
  assert error == 'Stopped by SIGINT.\n' * 2


def test_a_stop_lost_after_a_report_still_ends_the_eval_loop(
    trained_dir, synthetic_data_dir, tmp_path, children):
  # Before: a SIGINT that landed as the session and graph of an evaluation
  # were freed (just after its report) was printed as "Exception ignored",
  # and the evaluator slept on for --eval_interval_secs (seen about once in
  # 12 real Ctrl-Cs; in 50 more, none landed there). A finalizer there
  # sends it here.
  driver = textwrap.dedent('''
      import os, signal, sys
      from cifar10.support import script
      script.prepare_process()
      from cifar10 import eval as cifar10_eval
      from cifar10.support import eval_report
      ran_on = []
      %s
      report = eval_report.report
      def report_then_free(*args):
        report(*args)
        StopInAFinalizer()
      eval_report.report = report_then_free
      sys.exit(script.run(cifar10_eval.main))
      ''') % textwrap.indent(_STOP_IN_A_FINALIZER, ' ' * 6).strip()
  evaluator = children(
      '-c', driver, '--checkpoint_dir', trained_dir, '--eval_dir',
      str(tmp_path / 'eval'), '--data_dir', synthetic_data_dir,
      '--eval_interval_secs', str(DEADLINE_SECS * 10))
  status, output = evaluator.finish()
  assert status == 130, output[-3000:]
  assert 'Traceback' not in output and 'Exception ignored' not in output
  assert output.splitlines()[-1] == (
      'Stopped by SIGINT. The results of every evaluation that finished are '
      'in --eval_dir %s; the one under way, if any, was dropped.'
      % (tmp_path / 'eval'))


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM],
                         ids=['SIGINT', 'SIGTERM'])
def test_a_stop_after_tensorflow_loaded_and_before_training_is_one_line(
    signum, tmp_path):
  # Between TensorFlow's import and the training loop's own handler, the
  # trainer downloads the data: the test's server takes the request and
  # never answers, so the signal lands there, on any machine. Before:
  # SIGTERM ended the trainer without a word (status -15), and left the
  # --data_dir it had created.
  data_dir, train_dir = tmp_path / 'data', tmp_path / 'run'
  with socket.create_server(('127.0.0.1', 0)) as server:
    server.settimeout(DEADLINE_SECS)
    child = subprocess.Popen(
        [sys.executable, '-m', 'cifar10.train', '--data_dir', str(data_dir),
         '--train_dir', str(train_dir), '--data_url',
         'http://127.0.0.1:%d/cifar-10-binary.tar.gz'
         % server.getsockname()[1]],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
      connection, _ = server.accept()
      with connection:
        request = b''
        while b'\r\n\r\n' not in request:
          received = connection.recv(4096)
          assert received, request
          request += received
        child.send_signal(signum)
        output, _ = child.communicate(timeout=DEADLINE_SECS)
    finally:
      child.kill()
  assert child.returncode == 128 + signum, output
  *before, last = output.splitlines()
  assert last == 'Stopped by %s.' % signum.name
  assert _only_the_kernel_announcement('\n'.join(before)), output
  assert not data_dir.exists() and not train_dir.exists()


# A trainer that stops once its graph is built, before its session: after
# it has prepared --train_dir and before its first checkpoint.
_WAIT_ONCE_BUILT = textwrap.dedent('''
    import signal, sys
    from cifar10.support import script
    script.prepare_process()
    import cifar10.train as train
    build_graph = train.build_graph
    def build_graph_then_wait(*args, **kwargs):
      built = build_graph(*args, **kwargs)
      print('graph built', flush=True)
      signal.pause()
      return built
    train.build_graph = build_graph_then_wait
    sys.exit(script.run(train.main))
    ''')


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM],
                         ids=['SIGINT', 'SIGTERM'])
@pytest.mark.parametrize('existed', [False, True], ids=['new', 'existing'])
def test_a_stop_before_the_first_checkpoint_takes_away_what_the_run_wrote(
    synthetic_data_dir, tmp_path, children, signum, existed):
  # Before: the new --train_dir stayed, holding class_names.txt, and a run
  # on other data was then refused there, even with --fresh.
  train_dir = tmp_path / 'runs' / 'run'
  if existed:
    train_dir.mkdir(parents=True)
    (train_dir / 'notes.txt').write_text('mine')
  trainer = children('-c', _WAIT_ONCE_BUILT, '--data_dir', synthetic_data_dir,
                     '--train_dir', str(train_dir), '--max_steps', '1')
  trainer.wait_for('^graph built$')
  assert (train_dir / classes.RUN_FILE).is_file()
  trainer.process.send_signal(signum)
  status, output = trainer.finish()
  assert status == 128 + signum, output[-3000:]
  assert output.splitlines()[-1] == 'Stopped by %s.' % signum.name
  if existed:
    assert sorted(os.listdir(train_dir)) == ['notes.txt']
    assert (train_dir / 'notes.txt').read_text() == 'mine'
  else:
    assert not (tmp_path / 'runs').exists()


def test_ctrl_c_stops_a_waiting_ps_quietly(tmp_path, children):
  ps, worker = ports.free_ports(2)
  task = children('-m', 'cifar10.dist_train', '--job_name', 'ps',
                  '--task_index', '0', '--ps_hosts', '127.0.0.1:%d' % ps,
                  '--worker_hosts', '127.0.0.1:%d' % worker,
                  '--train_dir', str(tmp_path))
  _interrupt_and_check(
      task, r'^ps 0: serving the variables until every worker is done '
      r'\(1 in the cluster\)\.$',
      'ps 0: stopped by SIGINT, 0 of 1 workers done. A ps task writes no '
      'files: the chief (worker 0) keeps the checkpoints, in its --train_dir.')


# The package's scripts (README.md lists them); every other file is a module
# they import. A new script must be added here.
_SCRIPTS = ('train', 'multi_gpu_train', 'dist_train', 'eval', 'predict',
            'export', 'synthetic', 'convert_images')
_PACKAGE_FILES = sorted(
    os.path.relpath(path, REPO)
    for path in glob.glob(os.path.join(REPO, 'cifar10', '**', '*.py'),
                          recursive=True))


@pytest.mark.fast
@pytest.mark.parametrize('file', _PACKAGE_FILES)
def test_every_file_of_the_package_run_as_a_file_says_how_to_run_it(file,
                                                                   tmp_path):
  # Its one line, before anything else: no TensorFlow start-up line (the
  # user's environment shows them), no traceback, and not a silent exit.
  path = os.path.join(REPO, file)
  name = os.path.splitext(os.path.basename(file))[0]
  status, output = _run([path], cwd=str(tmp_path))
  if os.path.dirname(file) == 'cifar10' and name in _SCRIPTS:
    line = ('%s is a module of the cifar10 package: run it as one, from the '
            'folder that holds cifar10/: python -m cifar10.%s' % (path, name))
  else:
    line = ('%s is a module of the cifar10 package, not a script: the '
            'scripts import it. Run a script from the folder that holds '
            'cifar10/, such as python -m cifar10.train (README.md lists '
            'them).' % path)
  assert (status, output) == (1, line + '\n')


def _dotted(file):
  """The module name of a package file: cifar10/support/flags.py ->
  cifar10.support.flags, cifar10/__init__.py -> cifar10."""
  name = os.path.splitext(file)[0].replace(os.sep, '.')
  return name[:-len('.__init__')] if name.endswith('.__init__') else name


@pytest.mark.fast
@pytest.mark.parametrize('file', [
    file for file in _PACKAGE_FILES
    if os.path.splitext(os.path.basename(file))[0] not in _SCRIPTS or
    os.path.dirname(file) != 'cifar10'])
def test_every_module_that_is_no_script_run_with_m_says_so(file, tmp_path):
  # Without the line, `python -m cifar10.cifar10` loaded TensorFlow, printed
  # its start-up lines and ended with status 0, having done nothing.
  module = _dotted(file)
  status, output = _run(['-m', module], cwd=REPO)
  what = ('a package' if file.endswith('__init__.py')
          else 'a module the scripts import')
  assert (status, output) == (
      1, '%s is %s, not a script. Run one of the scripts, such as python -m '
      'cifar10.train (README.md lists them).\n' % (module, what))


@pytest.mark.fast
@pytest.mark.parametrize('command', [
    ['-mcifar10.cifar10'], ['-Bmcifar10.cifar10', 'extra'],
    ['-B', '-m', 'cifar10.cifar10', '--max_steps', '5']])
def test_the_module_is_found_however_m_is_written(command):
  # Python takes the module joined to -m, after other options, and passes
  # what follows it on as the module's arguments.
  assert _run(command, cwd=REPO) == (
      1, 'cifar10.cifar10 is a module the scripts import, not a script. Run '
      'one of the scripts, such as python -m cifar10.train (README.md lists '
      'them).\n')


@pytest.mark.fast
def test_a_script_or_another_module_run_with_m_is_left_alone(tmp_path):
  status, output = _run(['-m', 'cifar10.train', '--help'], cwd=REPO)
  assert status == 0 and output.startswith('usage: python -m cifar10.train')
  # A module the package does not have gets Python's own line.
  for name in ('cifar10.no_such_module', 'cifar10.'):
    status, output = _run(['-m', name], cwd=REPO)
    assert status == 1 and 'No module named %s\n' % name in output
  # Another program's -m that imports the package is not refused.
  (tmp_path / 'user_tool.py').write_text('import cifar10\nprint("ran")\n')
  status, output = _run(['-m', 'user_tool'], cwd=str(tmp_path),
                        environ=_user_environment(PYTHONPATH=REPO))
  assert (status, output) == (0, 'ran\n')


@pytest.mark.fast
def test_importing_the_model_from_inside_its_folder_says_where_to_run():
  # `import cifar10` there finds cifar10/cifar10.py, and the program (here
  # `python -c`) is no file of the package: the line names the module.
  folder = os.path.join(REPO, 'cifar10')
  status, output = _run(['-c', 'import cifar10'], cwd=folder)
  assert (status, output) == (
      1, '%s is a module of the cifar10 package, not a script: the scripts '
      'import it. Run a script from the folder that holds cifar10/, such as '
      'python -m cifar10.train (README.md lists them).\n'
      % os.path.join(folder, 'cifar10.py'))


@pytest.mark.fast
def test_stopped_is_said_without_error(capsys):
  from cifar10.support import script  # pylint: disable=g-import-not-at-top

  def main(argv):
    del argv  # Unused.
    raise errors.TrainingInterrupted(signal.SIGINT, 'Stopped by SIGINT.')
  assert script.run(main) == 130
  error = capsys.readouterr().err
  assert error.splitlines()[-1] == 'Stopped by SIGINT.'
  assert 'error:' not in error


@pytest.mark.fast
@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM],
                         ids=['SIGINT', 'SIGTERM'])
def test_a_stop_that_pybind11_wrapped_in_a_runtime_error_is_a_stop(signum,
                                                                  capsys):
  # Before: its traceback, and exit 1. Ctrl-C (or SIGTERM) landing as the
  # evaluator's sess.run met the end of the data raised this, about once in
  # 20 tries; a race no test can force, so `main` raises it.
  from cifar10.support import script  # pylint: disable=g-import-not-at-top
  replaced_by = {signal.SIGINT: 'KeyboardInterrupt',
                 signal.SIGTERM: 'Terminated'}[signum]

  def main(argv):
    del argv  # Unused.
    raise RuntimeError(
        'pybind11::error_already_set: MISMATCH of original and normalized '
        'active exception types: ORIGINAL OutOfRangeError REPLACED BY %s: '
        % replaced_by)
  assert script.run(main) == 128 + signum
  assert capsys.readouterr().err.splitlines()[-1] == (
      'Stopped by %s.' % signum.name)

  def other_error(argv):
    del argv  # Unused.
    raise RuntimeError('MISMATCH of original and normalized active exception '
                       'types: ORIGINAL OutOfRangeError REPLACED BY '
                       'MemoryError: ')
  with pytest.raises(RuntimeError, match='REPLACED BY MemoryError'):
    script.run(other_error)


@pytest.mark.fast
def test_a_refused_path_is_read_from_tensorflow_s_errors_and_no_other():
  from cifar10.support import script  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  # As TensorFlow's file system raises it, and as its summary writer does.
  assert script._refused_path(tf.errors.PermissionDeniedError(
      None, None, '/runs/a; b/new; Permission denied')) == (
          '/runs/a; b/new', 'Permission denied')
  assert script._refused_path(RuntimeError(
      '/runs/ev/events.out.tfevents.1; Read-only file system\n\tCreating '
      'writable file /runs/ev/events.out.tfevents.1')) == (
          '/runs/ev/events.out.tfevents.1', 'Read-only file system')
  assert script._refused_path(PermissionError(
      errno.EACCES, 'Permission denied', '/runs/x')) == (
          '/runs/x', 'Permission denied')
  # Any other RuntimeError is not one.
  for message in ('', 'Permission denied', 'a; b',
                  'Session graph is empty; Permission denied later'):
    assert script._refused_path(RuntimeError(message)) is None, message


def test_export_never_suggests_a_folder_inside_a_saved_model(tmp_path):
  model = tmp_path / 'model'
  model.mkdir()
  (model / 'saved_model.pb').write_bytes(b'')
  with pytest.raises(errors.UserError, match=re.escape(
      'such as --export_dir %s_2 (a new folder beside it)' % model)):
    export.export(str(tmp_path / 'no_run'), str(model))
  version = tmp_path / 'models' / '1'
  version.mkdir(parents=True)
  (version / 'saved_model.pb').write_bytes(b'')
  with pytest.raises(errors.UserError, match=re.escape(
      'such as --export_dir %s (the next version beside it' %
      (tmp_path / 'models' / '2'))):
    export.export(str(tmp_path / 'no_run'), str(version))
  with pytest.raises(errors.UserError, match=re.escape(
      'such as --export_dir %s (a new version' % (tmp_path / 'models' / '2'))):
    export.export(str(tmp_path / 'no_run'), str(tmp_path / 'models'))


def test_export_suggests_a_relative_folder_for_a_relative_export_dir(
    tmp_path, monkeypatch):
  # Before: the next version beside a numbered SavedModel was suggested as
  # an absolute path (/home/.../models/2), whatever the user had typed.
  version = tmp_path / 'models' / '1'
  version.mkdir(parents=True)
  (version / 'saved_model.pb').write_bytes(b'')
  for folder, given, suggested in ((tmp_path, os.path.join('models', '1'),
                                    os.path.join('models', '2')),
                                   (version.parent, '1', '2')):
    monkeypatch.chdir(folder)
    with pytest.raises(errors.UserError, match=re.escape(
        'such as --export_dir %s (the next version beside it' % suggested)):
      export.export(str(tmp_path / 'no_run'), given)


# ---------------------------------------------------------------------------
# A reader that stops reading: `python -m cifar10.predict *.png | head -1`
# ---------------------------------------------------------------------------

def _read_one_line_then_close(args):
  """Runs `python args` into a real pipe, reads one line and closes the pipe.

  The pipe holds a single page (4 KiB), so a child with more to say than
  that and its own 8 KiB buffer must still be writing when the pipe is
  closed, however fast it runs: its next write meets the closed pipe, as
  `cat` would after `head -1` left.

  Returns:
    (the first line, the exit status, what the child wrote to stderr).
  """
  import fcntl  # pylint: disable=g-import-not-at-top
  reading, writing = os.pipe()
  fcntl.fcntl(writing, fcntl.F_SETPIPE_SZ, 4096)
  child = subprocess.Popen([sys.executable] + list(args), stdout=writing,
                           stderr=subprocess.PIPE, text=True,
                           env=_user_environment())
  os.close(writing)  # The child's copy is now the only writing end.
  with os.fdopen(reading) as output:
    first = output.readline()
  error = child.stderr.read()  # Up to the end, bounded by the child's own.
  return first, child.wait(timeout=DEADLINE_SECS), error


def _only_the_kernel_announcement(error):
  """Whether stderr holds nothing but the kernel choice's own line."""
  return all(line.startswith('cifar10: using oneDNN CPU kernels')
             for line in error.splitlines())


@pytest.mark.parametrize('form', ['lines', 'json'])
def test_predict_ends_quietly_when_its_reader_stops(tiny_data_dir, tmp_path,
                                                    form):
  from PIL import Image  # pylint: disable=g-import-not-at-top
  run_dir = str(tmp_path / 'run')
  _train_here(['--data_dir', tiny_data_dir, '--train_dir', run_dir,
               '--max_steps', '1', '--batch_size', '4'])
  # One picture named 200 times under a long name: 200 results of more than
  # 150 bytes each, far more than the pipe and the child's buffer hold.
  image = str(tmp_path / ('picture_%s.png' % ('x' * 120)))
  Image.new('RGB', (32, 32), (200, 30, 30)).save(image)
  first, status, error = _read_one_line_then_close(
      ['-m', 'cifar10.predict', '--checkpoint_dir', run_dir] + [image] * 200
      + (['--json'] if form == 'json' else []))
  # The plain form's first line names the checkpoint that classified them.
  assert first.startswith('{' if form == 'json' else 'Classified by %s'
                          % os.path.join(run_dir, 'model.ckpt-1'))
  # No traceback, no TensorFlow start-up lines: the shell's status for a
  # command that the end of its pipe stopped.
  assert status == 141, error
  assert _only_the_kernel_announcement(error), error


def test_convert_images_ends_quietly_and_leaves_nothing_when_its_reader_stops(
    tmp_path):
  from PIL import Image  # pylint: disable=g-import-not-at-top
  src, out = tmp_path / 'src', tmp_path / 'out'
  for name in ('cat', 'dog'):
    (src / name).mkdir(parents=True)
    for index in range(5):
      Image.new('RGB', (40, 40), (index, 0, 0)).save(
          src / name / ('%d.png' % index))
  # 100 files that are no pictures: the converter names each as it skips it,
  # mid-conversion, while its work waits in OUT's .part folder.
  for index in range(100):
    (src / 'dog' / ('broken_%s_%03d.png' % ('y' * 60, index))).write_bytes(
        b'not a picture')
  first, status, error = _read_one_line_then_close(
      ['-m', 'cifar10.convert_images', str(src), str(out)])
  assert first.startswith('skipped %s' % (src / 'dog' / 'broken_'))
  assert status == 141, error
  assert _only_the_kernel_announcement(error), error
  # OUT did not exist: the converter made it, and removes it with the
  # .part folder inside.
  assert not out.exists()


def test_eval_keeps_its_results_when_its_reader_stops(tiny_data_dir,
                                                      tmp_path):
  # `python -m cifar10.eval --run_once | head -1`: the precision alone.
  data_dir, run_dir = str(tmp_path / 'data'), str(tmp_path / 'run')
  eval_dir = str(tmp_path / 'eval')
  shutil.copytree(tiny_data_dir, data_dir)
  # 100 classes of long names: a report of some 20 KB, far more than the
  # pipe and the child's buffer hold, one line per class.
  names = ['class_%03d_%s' % (index, 'z' * 150) for index in range(100)]
  with open(os.path.join(data_dir, 'cifar-10-batches-bin', classes.META_FILE),
            'wb') as meta:
    meta.write(classes.format_names(names))
  _train_here(['--data_dir', data_dir, '--train_dir', run_dir,
               '--max_steps', '1', '--batch_size', '10'])
  first, status, error = _read_one_line_then_close(
      ['-m', 'cifar10.eval', '--data_dir', data_dir, '--checkpoint_dir',
       run_dir, '--eval_dir', eval_dir, '--run_once', '--batch_size', '10'])
  assert re.search(r': precision @ 1 = \d\.\d{3}$', first), first
  assert status == 141, error
  assert _only_the_kernel_announcement(error), error
  # Before: the report came first, and its broken pipe ended the script
  # before the results were written.
  assert eval_report.evaluated_steps(eval_dir) == {1}


# Root writes into any folder whatever its permissions; setpriv drops that
# power (CAP_DAC_OVERRIDE), so that root sees a read-only folder as a user
# does.
_AS_A_USER = (['setpriv', '--inh-caps=-dac_override,-dac_read_search',
               '--bounding-set=-dac_override,-dac_read_search', '--']
              if os.geteuid() == 0 else [])


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which('setpriv'),
                    reason='root, and no setpriv to write as a user does')
@pytest.mark.parametrize('script, flag', [
    ('cifar10.train', '--train_dir'), ('cifar10.export', '--export_dir'),
    ('cifar10.convert_images', 'OUT'), ('cifar10.eval', '--eval_dir')])
def test_a_folder_that_cannot_be_written_is_one_line_then_another_works(
    script, flag, tiny_data_dir, tmp_path):
  from PIL import Image  # pylint: disable=g-import-not-at-top
  locked = tmp_path / 'locked'
  locked.mkdir()
  locked.chmod(0o555)
  run_dir = str(tmp_path / 'run')
  _train_here(['--data_dir', tiny_data_dir, '--train_dir', run_dir,
               '--max_steps', '1', '--batch_size', '4'])
  src = tmp_path / 'pictures'
  for name in ('cat', 'dog'):
    for split, count in (('train', 5), ('test', 1)):
      (src / split / name).mkdir(parents=True)
      for index in range(count):
        Image.new('RGB', (40, 40), (index * 40, 0, 0)).save(
            src / split / name / ('%d.png' % index))
  args = {'cifar10.train': ['--data_dir', tiny_data_dir, '--max_steps', '1',
                            '--batch_size', '4', '--train_dir'],
          'cifar10.export': ['--checkpoint_dir', run_dir, '--export_dir'],
          'cifar10.convert_images': [str(src)],
          'cifar10.eval': ['--data_dir', tiny_data_dir, '--checkpoint_dir',
                           run_dir, '--run_once', '--eval_dir']}[script]

  def command(folder):
    return subprocess.run(
        _AS_A_USER + [sys.executable, '-m', script] + args + [folder],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=_user_environment(), timeout=DEADLINE_SECS)

  # Before: TensorFlow's held-back lines, then a traceback ending in
  # PermissionDeniedError (train, export) or PermissionError (the converter).
  # The evaluator's folder as it exists, locked: TensorFlow's summary writer
  # says so in a RuntimeError of its own.
  target = locked if script == 'cifar10.eval' else locked / 'new'
  refused = command(str(target))
  [line] = [each for each in refused.stderr.splitlines()
            if not _only_the_kernel_announcement(each)]
  # Each names the folder given (the export used to name the staging folder
  # it makes beside it, the evaluator its event file).
  assert line == ('error: cannot use %s (Permission denied). Give a folder '
                  'you can read and write, or change its permissions.'
                  % target), (flag, line)
  assert refused.returncode == 1 and os.listdir(locked) == []
  # "Give a folder you can write to."
  assert command(str(tmp_path / 'writable')).returncode == 0


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which('setpriv'),
                    reason='root, and no setpriv to read as a user does')
@pytest.mark.parametrize('script', ['cifar10.predict', 'cifar10.export',
                                    'cifar10.eval'])
def test_a_checkpoint_folder_that_cannot_be_read_is_not_called_unwritable(
    script, tiny_data_dir, tmp_path):
  # Before: "cannot write RUN (Permission denied). Give a folder you can
  # write to": these only read RUN, and a writable folder would not help.
  from PIL import Image  # pylint: disable=g-import-not-at-top
  run_dir = tmp_path / 'run'
  _train_here(['--data_dir', tiny_data_dir, '--train_dir', str(run_dir),
               '--max_steps', '1', '--batch_size', '4'])
  image = str(tmp_path / 'red.png')
  Image.new('RGB', (32, 32), (200, 30, 30)).save(image)
  args = {'cifar10.predict': [image],
          'cifar10.export': ['--export_dir', str(tmp_path / 'model')],
          'cifar10.eval': ['--data_dir', tiny_data_dir, '--eval_dir',
                           str(tmp_path / 'eval'), '--run_once',
                           '--num_examples', '20', '--batch_size', '10']}
  command = _AS_A_USER + [sys.executable, '-m', script, '--checkpoint_dir',
                          str(run_dir)] + args[script]
  run_dir.chmod(0o000)
  try:
    refused = subprocess.run(command, capture_output=True, text=True,
                             env=_user_environment(), timeout=DEADLINE_SECS)
  finally:
    run_dir.chmod(0o755)  # "or change its permissions".
  [line] = [each for each in refused.stderr.splitlines()
            if not _only_the_kernel_announcement(each)]
  assert line == ('error: cannot use %s (Permission denied). Give a folder '
                  'you can read and write, or change its permissions.'
                  % run_dir)
  assert refused.returncode == 1
  done = subprocess.run(command, capture_output=True, text=True,
                        env=_user_environment(), timeout=DEADLINE_SECS)
  assert done.returncode == 0, done.stderr


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which('setpriv'),
                    reason='root, and no setpriv to read as a user does')
def test_checkpoint_files_that_cannot_be_read_are_named_not_called_damaged(
    tiny_data_dir, tmp_path):
  # Before: "RUN/checkpoint is damaged or names a checkpoint that is not
  # there": advice on which a user may delete intact files.
  from PIL import Image  # pylint: disable=g-import-not-at-top
  run_dir = str(tmp_path / 'run')
  _train_here(['--data_dir', tiny_data_dir, '--train_dir', run_dir,
               '--max_steps', '1', '--batch_size', '4'])
  image = str(tmp_path / 'red.png')
  Image.new('RGB', (32, 32), (200, 30, 30)).save(image)
  command = _AS_A_USER + [sys.executable, '-m', 'cifar10.predict',
                          '--checkpoint_dir', run_dir, image]
  files = sorted(glob.glob(os.path.join(run_dir, '*')))
  # The folder's index file first, then the checkpoint's own index file.
  for locked in (os.path.join(run_dir, 'checkpoint'),
                 os.path.join(run_dir, 'model.ckpt-1.index')):
    for name in files:
      os.chmod(name, 0o000 if name == locked else 0o644)
    refused = subprocess.run(command, capture_output=True, text=True,
                             env=_user_environment(), timeout=DEADLINE_SECS)
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[-1] == (
        'error: %s cannot be read (Permission denied): change its '
        'permissions to let you read it.' % locked)
    os.chmod(locked, 0o644)  # "change its permissions to let you read it".
    done = subprocess.run(command, capture_output=True, text=True,
                          env=_user_environment(), timeout=DEADLINE_SECS)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1].startswith(image + ': ')


def test_predict_refuses_a_named_pipe_unopened_and_classifies_the_rest(
    tiny_data_dir, tmp_path, capsys):
  # Before: predict opened the pipe and waited for a writer, forever.
  import threading  # pylint: disable=g-import-not-at-top
  from PIL import Image  # pylint: disable=g-import-not-at-top
  from cifar10 import predict  # pylint: disable=g-import-not-at-top
  run_dir = str(tmp_path / 'run')
  _train_here(['--data_dir', tiny_data_dir, '--train_dir', run_dir,
               '--max_steps', '1', '--batch_size', '4'])
  image = str(tmp_path / 'red.png')
  Image.new('RGB', (32, 32), (200, 30, 30)).save(image)
  pipe = str(tmp_path / 'pipe.png')
  os.mkfifo(pipe)
  statuses = []  # main, not script.run: a thread cannot set signal handlers.
  worker = threading.Thread(target=lambda: statuses.append(predict.main(
      ['--checkpoint_dir', run_dir, pipe, image])), daemon=True)
  worker.start()
  assert not opens_the_pipe(worker, pipe), 'predict opened the named pipe'
  assert statuses == [1]
  shown = capsys.readouterr()
  assert shown.err.splitlines()[-1] == (
      'error: %s: a named pipe, not a regular file' % pipe)
  assert shown.out.splitlines()[-1].startswith(image + ': ')


def test_training_whose_reader_stops_keeps_its_steps_and_ends_quietly(
    tiny_data_dir, tmp_path):
  # `cifar10.train ... | head -20`: before, the run died at the next log
  # line with a traceback, keeping only model.ckpt-0.
  import fcntl  # pylint: disable=g-import-not-at-top
  run_dir = str(tmp_path / 'run')
  reading, writing = os.pipe()
  fcntl.fcntl(writing, fcntl.F_SETPIPE_SZ, 4096)
  child = subprocess.Popen(
      [sys.executable, '-m', 'cifar10.train', '--data_dir', tiny_data_dir,
       '--train_dir', run_dir, '--max_steps', '100000', '--batch_size', '4',
       '--log_frequency', '1'], stdout=writing, stderr=subprocess.PIPE,
      text=True, env=_user_environment())
  os.close(writing)
  with os.fdopen(reading) as output:
    for line in output:  # Read up to step 5's line, then stop reading.
      step = re.search(r': step (\d+), loss = ', line)
      if step and int(step.group(1)) >= 5:
        break
  error = child.stderr.read()
  assert child.wait(timeout=DEADLINE_SECS) == 141, error
  assert _only_the_kernel_announcement(error), error
  assert latest_step(run_dir) >= 5
