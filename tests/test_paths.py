"""Path flags pointed one level off are used as meant, with a notice, or refused
with the value that would work; nothing is downloaded or written elsewhere."""

import os
import shutil

import pytest

from cifar10 import cifar10_input
from cifar10 import eval as cifar10_eval
from cifar10 import export
import cifar10.train as train
from cifar10.support import checkpoints
from cifar10.support import console
from cifar10.support import data_sets
from cifar10.support import download
from cifar10.support import errors
from cifar10.support import paths
import script_modules

ports = script_modules.load('ports')
from test_checkpoint_fit import _snapshot

# The fast lane (docs/testing.md): the whole file.
pytestmark = pytest.mark.fast

EXTRACTED = download.EXTRACTED_DIR


def _data_dir(folder):
  """A --data_dir whose cifar-10-batches-bin/ holds (empty) batch files."""
  os.makedirs(os.path.join(folder, EXTRACTED))
  for name in download.REQUIRED_FILES:
    open(os.path.join(folder, EXTRACTED, name), 'w').close()
  return str(folder)


def _notice(capsys):
  return capsys.readouterr().err.strip()


def test_data_dir_as_given_when_it_is_right_or_new(tmp_path, capsys):
  data_dir = _data_dir(tmp_path / 'data')
  assert paths.resolve_data_dir(data_dir) == data_dir
  assert paths.resolve_data_dir(str(tmp_path / 'new')) == str(
      tmp_path / 'new')
  assert _notice(capsys) == ''


@pytest.mark.parametrize('given,meant,what', [
    ('data/' + EXTRACTED, 'data', 'is the extracted folder itself: using its '
     'parent, {meant}.'),
    ('data/%s/data_batch_3.bin' % EXTRACTED, 'data', 'is one of the batch '
     'files: using {meant}, the folder that holds %s/.' % EXTRACTED),
    ('runs', 'runs/data', 'holds no CIFAR-10 files, its subfolder {meant} '
     'does: using that.'),
], ids=['extracted-folder', 'batch-file', 'parent'])
def test_data_dir_one_level_off_is_read_as_meant(given, meant, what, tmp_path,
                                                 capsys):
  _data_dir(tmp_path / 'runs' / 'data' if given == 'runs' else
            tmp_path / 'data')
  given, meant = str(tmp_path / given), str(tmp_path / meant)
  assert paths.resolve_data_dir(given) == meant
  assert _notice(capsys) == 'notice: --data_dir %s %s' % (
      given, what.format(meant=meant))


def test_an_empty_extracted_folder_means_its_parent_too(tmp_path, capsys):
  # Downloading into it would extract a second copy inside it.
  given = str(tmp_path / EXTRACTED)
  assert paths.resolve_data_dir(given) == str(tmp_path)
  assert 'is the extracted folder itself' in _notice(capsys)


def test_data_dir_that_is_the_tarball_means_its_folder(tmp_path, capsys):
  tarball = tmp_path / download.TARBALL_NAME
  tarball.write_bytes(b'')
  assert paths.resolve_data_dir(str(tarball)) == str(tmp_path)
  assert _notice(capsys) == ('notice: --data_dir %s is the tarball itself: '
                             'using its folder, %s.' % (tarball, tmp_path))


def test_data_dir_mistakes_without_a_sure_meaning_name_what_would_work(
    tmp_path):
  loose = tmp_path / 'loose'
  _data_dir(loose)
  for name in download.REQUIRED_FILES:
    os.rename(str(loose / EXTRACTED / name), str(loose / name))
  with pytest.raises(errors.UserError, match='move them into %s' %
                     (loose / EXTRACTED)):
    paths.resolve_data_dir(str(loose))
  _data_dir(tmp_path / 'two' / 'a')
  _data_dir(tmp_path / 'two' / 'b')
  with pytest.raises(
      errors.UserError,
      match='give one of them \\(--data_dir %s, --data_dir %s\\)' % (
          tmp_path / 'two' / 'a', tmp_path / 'two' / 'b')):
    paths.resolve_data_dir(str(tmp_path / 'two'))
  (tmp_path / 'notes.txt').write_text('x')
  with pytest.raises(errors.UserError, match='notes.txt is a file'):
    paths.resolve_data_dir(str(tmp_path / 'notes.txt'))


def test_training_on_the_extracted_folder_downloads_and_writes_nothing_there(
    synthetic_data_dir, tmp_path, capsys):
  extracted = os.path.join(synthetic_data_dir, EXTRACTED)
  before = _snapshot(extracted), sorted(os.listdir(synthetic_data_dir))
  [port] = ports.free_ports(1)  # Nobody listens: a download attempt would fail.
  assert train.main(['--data_dir', extracted, '--train_dir',
                     str(tmp_path), '--max_steps', '1', '--batch_size', '4',
                     '--data_url', 'http://127.0.0.1:%d/x.tar.gz' % port]) == 0
  assert 'is the extracted folder itself' in capsys.readouterr().err
  assert (_snapshot(extracted), sorted(os.listdir(synthetic_data_dir))) == \
      before
  assert os.path.exists(str(tmp_path / 'model.ckpt-1.index'))


def test_loose_batch_files_are_refused_when_the_flag_is_parsed(tmp_path,
                                                              capsys):
  for name in download.REQUIRED_FILES:
    (tmp_path / name).write_bytes(b'')
  with pytest.raises(SystemExit) as raised:
    train.parser().parse_args(['--data_dir', str(tmp_path)])
  assert raised.value.code == 2
  assert 'move them into %s' % (tmp_path / EXTRACTED) in \
      capsys.readouterr().err


def _run(folder, step):
  """A folder with the files of checkpoint `step` (empty) and its index file."""
  os.makedirs(folder, exist_ok=True)
  prefix = os.path.join(folder, 'model.ckpt-%d' % step)
  for suffix in ('.index', '.data-00000-of-00001'):
    open(prefix + suffix, 'w').close()
  with open(os.path.join(folder, paths.INDEX_FILE), 'w') as index:
    index.write('model_checkpoint_path: "model.ckpt-%d"\n' % step)
  return prefix


@pytest.mark.parametrize('given', ['prefix', 'index', 'data'])
def test_checkpoint_dir_naming_a_checkpoint_means_that_checkpoint(
    given, tmp_path):
  prefix = _run(str(tmp_path / 'train'), 5)
  path = prefix + {'prefix': '', 'index': '.index',
                   'data': '.data-00000-of-00001'}[given]
  assert checkpoints.locate_checkpoints(path) == (str(tmp_path / 'train'),
                                                  prefix)


def test_a_named_checkpoint_is_called_older_only_when_it_is(tmp_path,
                                                          capsys):
  # Before: the newest one, named, was used "rather than the newest".
  folder = str(tmp_path / 'train')
  older = _run(folder, 5)
  newest = _run(folder, 9)
  with open(os.path.join(folder, paths.INDEX_FILE), 'w') as index:
    index.write('model_checkpoint_path: "model.ckpt-9"\n'
                'all_model_checkpoint_paths: "model.ckpt-5"\n'
                'all_model_checkpoint_paths: "model.ckpt-9"\n')
  assert checkpoints.find_checkpoint(newest + '.index') == newest
  assert _notice(capsys) == ''
  assert checkpoints.find_checkpoint(older) == older
  assert _notice(capsys) == (
      'notice: --checkpoint_dir %s is a checkpoint: using it rather than the '
      'newest in %s.' % (older, folder))


def test_checkpoint_dir_one_level_off_means_the_run(tmp_path, capsys):
  train_dir = str(tmp_path / 'runs' / 'train')
  _run(train_dir, 5)
  index = os.path.join(train_dir, paths.INDEX_FILE)
  assert checkpoints.locate_checkpoints(index) == (train_dir, None)
  assert 'is the index file of a checkpoint folder' in _notice(capsys)
  assert checkpoints.locate_checkpoints(str(tmp_path / 'runs')) == (
      train_dir, None)
  assert _notice(capsys) == (
      'notice: --checkpoint_dir %s holds no checkpoints, its subfolder %s '
      'does: reading that.' % (tmp_path / 'runs', train_dir))
  _run(str(tmp_path / 'runs' / 'other'), 7)
  with pytest.raises(errors.UserError, match='2 of its subfolders do'):
    checkpoints.locate_checkpoints(str(tmp_path / 'runs'))


def test_train_dir_one_level_off_is_refused_with_the_folder_that_resumes(
    tmp_path):
  train_dir = str(tmp_path / 'runs' / 'train')
  prefix = _run(train_dir, 5)
  for given in (prefix, prefix + '.index',
                os.path.join(train_dir, paths.INDEX_FILE)):
    with pytest.raises(errors.UserError, match='give its folder, --train_dir '
                       '%s, to resume that run' % train_dir):
      paths.check_train_dir(given)
  with pytest.raises(errors.UserError, match='give --train_dir %s to resume '
                     'that run, or a new folder' % train_dir):
    paths.check_train_dir(str(tmp_path / 'runs'))
  assert paths.check_train_dir(train_dir) == train_dir


def test_eval_of_one_named_checkpoint_evaluates_it_once(
    trained_dir, synthetic_data_dir, tmp_path, capsys):
  prefix = os.path.join(trained_dir, 'model.ckpt-300')
  assert cifar10_eval.main([
      '--data_dir', synthetic_data_dir, '--checkpoint_dir', prefix,
      '--eval_dir', str(tmp_path), '--num_examples', '64',
      '--batch_size', '64']) == 0  # Returns, though --run_once is not given.
  captured = capsys.readouterr()
  assert ('notice: --checkpoint_dir %s is a checkpoint: evaluating it once. '
          'Give its folder, %s, to evaluate each new one.'
          % (prefix, trained_dir)) in captured.err
  assert captured.out.count('precision @ 1 = ') == 1


def test_eval_dir_given_as_an_event_file_means_its_folder(tmp_path, capsys):
  events = tmp_path / 'events.out.tfevents.123.host'
  events.write_bytes(b'')
  args = cifar10_eval.parser().parse_args(['--eval_dir', str(events)])
  assert args.eval_dir == str(tmp_path)
  assert 'is an event file: writing beside it' in capsys.readouterr().err
  with pytest.raises(SystemExit):
    cifar10_eval.parser().parse_args(['--eval_dir', __file__])
  assert 'is a file, not a folder' in capsys.readouterr().err


def test_export_dir_that_exists_is_refused_naming_the_next_version(
    trained_dir, tmp_path):
  for version in ('1', '2'):
    (tmp_path / version).mkdir()
  with pytest.raises(errors.UserError, match='such as --export_dir %s' %
                     (tmp_path / '3')):
    export.export(trained_dir, str(tmp_path))
  assert sorted(os.listdir(tmp_path)) == ['1', '2']


def _test_files_only(synthetic_data_dir, data_dir):
  """A --data_dir holding only the test split (test_batch.bin, the names)."""
  os.makedirs(os.path.join(data_dir, EXTRACTED))
  shutil.copy(os.path.join(synthetic_data_dir, EXTRACTED, 'test_batch.bin'),
              os.path.join(data_dir, EXTRACTED))
  with open(os.path.join(data_dir, EXTRACTED, 'batches.meta.txt'), 'w') as out:
    out.write('\n'.join(cifar10_input.CLASS_NAMES) + '\n')
  return str(data_dir)


def test_eval_of_the_test_split_needs_only_its_file(
    trained_dir, synthetic_data_dir, tmp_path, capsys):
  data_dir = _test_files_only(synthetic_data_dir, tmp_path / 'data')
  [port] = ports.free_ports(1)  # Nobody listens: a download attempt would fail.
  common = ['--data_dir', data_dir, '--checkpoint_dir', trained_dir,
            '--eval_dir', str(tmp_path / 'eval'), '--run_once',
            '--num_examples', '64', '--batch_size', '64',
            '--data_url', 'http://127.0.0.1:%d/x.tar.gz' % port]
  assert cifar10_eval.main(common + ['--eval_data', 'test']) == 0
  assert 'precision @ 1 = ' in capsys.readouterr().out
  with pytest.raises(errors.UserError, match='lacks data_batch_1.bin, .*'
                     'data_batch_5.bin, which this script reads; it holds '
                     'test_batch.bin, batches.meta.txt'):
    cifar10_eval.main(common + ['--eval_data', 'train_eval'])
  with pytest.raises(errors.UserError, match='lacks data_batch_1.bin'):
    train.main(['--data_dir', data_dir, '--train_dir', str(tmp_path / 'run'),
                '--max_steps', '1', '--data_url',
                'http://127.0.0.1:%d/x.tar.gz' % port])
  assert sorted(os.listdir(os.path.join(data_dir, EXTRACTED))) == [
      'batches.meta.txt', 'test_batch.bin']


def _evaluated_run(tmp_path):
  """A run's folder (one event file, no checkpoints needed) and an
  --eval_dir whose record names it, as cifar10.eval writes it."""
  run = tmp_path / 'runs' / 'loop'
  os.makedirs(run)
  first = 'events.out.tfevents.1700000000.host'
  (run / first).write_bytes(b'')
  eval_dir = tmp_path / 'runs' / 'loop_eval'
  os.makedirs(eval_dir)
  (eval_dir / paths.EVALUATED_RUN_FILE).write_text(
      '%s\n../loop\n%s\n' % (run, first))
  return str(run), str(eval_dir)


def test_a_run_reached_through_a_link_is_the_same_run(tmp_path):
  # Before: --checkpoint_dir runs/loop_link, a link to runs/loop, was
  # refused as another run ("--eval_dir runs/loop_eval holds the
  # evaluations of another run, /abs/runs/loop"), and would have had the
  # record rewritten to name the link.
  run, eval_dir = _evaluated_run(tmp_path)
  record = os.path.join(eval_dir, paths.EVALUATED_RUN_FILE)
  before = open(record).read()
  link = str(tmp_path / 'runs' / 'loop_link')
  os.symlink(run, link)
  data_dir = str(tmp_path / 'data')
  for given in (link, os.path.relpath(link)):
    paths.check_eval_dir_apart(eval_dir, given, data_dir, data_sets.CIFAR10)
    paths.EvaluationRecord(eval_dir, given).write()
    assert open(record).read() == before
  # Another folder is another run still.
  other = str(tmp_path / 'runs' / 'other')
  shutil.copytree(run, other)
  with pytest.raises(errors.UserError, match='evaluations of another run'):
    paths.check_eval_dir_apart(eval_dir, other, data_dir, data_sets.CIFAR10)


def test_a_record_without_the_data_is_read_and_given_it(tmp_path):
  # A folder of evaluations from before the data was recorded is not
  # checked that time, and is given what its next evaluation scores.
  run, eval_dir = _evaluated_run(tmp_path)
  assert paths.evaluated_data(eval_dir) is None
  paths.EvaluationRecord(eval_dir, run, paths.Scored('test', 1000)).write()
  assert open(os.path.join(eval_dir, paths.EVALUATED_DATA_FILE)).read() == (
      'test 1000\n')
  assert paths.evaluated_data(eval_dir) == paths.Scored('test', 1000)
  # The same data again is accepted; other data is refused.
  paths.EvaluationRecord(eval_dir, run, paths.Scored('test', 1000)).write()
  for other in (paths.Scored('train_eval', 1000), paths.Scored('test', 100),
                paths.Scored('test', 1000, raw_weights=True)):
    with pytest.raises(errors.UserError, match=(
        r'holds evaluations of 1000 test images \(its evaluated_data.txt '
        r'says so\), not of the %s this one' % other)):
      paths.EvaluationRecord(eval_dir, run, other)
  # --raw_weights is recorded after the data, and read back.
  raw_dir = tmp_path / 'raw_eval'
  raw_dir.mkdir()  # The summary writer makes it before the record.
  paths.EvaluationRecord(str(raw_dir), run,
                         paths.Scored('test', 1000, True)).write()
  assert (raw_dir / paths.EVALUATED_DATA_FILE).read_text() == 'test 1000 raw\n'
  assert paths.evaluated_data(str(raw_dir)) == paths.Scored('test', 1000, True)
  with pytest.raises(errors.UserError, match=(
      r'holds evaluations of 1000 test images, raw weights \(its '
      r'evaluated_data.txt says so\), not of the 1000 test images this one '
      r'.* such as \S*raw_eval_test_1000\.$')):
    paths.EvaluationRecord(str(raw_dir), run, paths.Scored('test', 1000))
  # Event files without any record (earlier versions): whose and of what
  # they are is unknown, so neither is claimed for this evaluation.
  old = tmp_path / 'old_eval'
  os.makedirs(old)
  (old / 'events.out.tfevents.1700000001.host').write_bytes(b'')
  paths.EvaluationRecord(str(old), run, paths.Scored('test', 1000)).write()
  assert sorted(os.listdir(old)) == ['events.out.tfevents.1700000001.host']


# A name in Latin-1, not UTF-8 (a file saved under another system's
# encoding): Python reads its byte \xe9 as the surrogate \udce9, and the
# scripts show it as caf\xe9.
_NOT_UTF8 = os.fsdecode(b'caf\xe9')


@pytest.mark.parametrize('name', ['cafe', _NOT_UTF8],
                         ids=['ascii', 'not-utf8'])
def test_a_file_name_that_is_not_utf8_is_checked_as_any_other(name, tmp_path,
                                                              capsys):
  # TensorFlow's file layer cannot decode such a name as it lists a folder:
  # every folder check that listed one (the folder given, a neighbour, a
  # child) failed, and argparse said "invalid resolve_data_dir value".
  picture = name + '.png'
  for folder in ('photos/a', 'photos/b', 'pics'):
    os.makedirs(str(tmp_path / folder))
    (tmp_path / folder / picture).write_bytes(b'')
  # One folder of pictures below is no data set of pictures: a new folder,
  # to download into.
  parse = train.parser().parse_args
  assert parse(['--data_dir', str(tmp_path)]).data_dir == str(tmp_path)
  with pytest.raises(SystemExit):
    parse(['--data_dir', str(tmp_path / 'photos')])
  assert ('argument --data_dir: --data_dir %s holds folders of pictures (a/, '
          'b/), but the scripts read data in CIFAR-10\'s format: convert '
          'them first' % (tmp_path / 'photos')) in capsys.readouterr().err
  assert paths.other_use_of_folder(str(tmp_path / 'pics')) == (
      'a folder of pictures (%s)' % picture)
  assert paths.use_of_folder(str(tmp_path / 'photos')) == (
      'a folder of pictures (a/, b/), the input of cifar10.convert_images')
  # A run's folder holding such a subfolder (runs_below's glob lists it).
  run = tmp_path / 'run'
  _run(str(run), 5)
  os.makedirs(str(run / name))
  (run / name / 'plot.png').write_bytes(b'')
  assert paths.check_train_dir(str(run)) == str(run)
  assert paths.unlisted_checkpoints(str(run)) == [str(run / 'model.ckpt-5')]


def test_a_path_flag_that_is_not_utf8_is_refused_in_one_line(tmp_path,
                                                            capsys):
  # TensorFlow cannot read or write there. Before, its UnicodeEncodeError
  # made argparse say "invalid check_train_dir value" and no reason.
  refusal = ('%s: a name in it is not UTF-8 text, and TensorFlow reads and '
             'writes only paths that are. Give a path of UTF-8 names: rename '
             'that file or folder, or choose another.')
  parse = train.parser().parse_args
  shown = str(tmp_path / 'caf\\xe9')
  with pytest.raises(SystemExit) as raised:
    parse(['--train_dir', str(tmp_path / _NOT_UTF8)])
  assert raised.value.code == 2
  assert 'error: argument --train_dir: %s' % (refusal % shown) in \
      capsys.readouterr().err
  # A data folder found below --data_dir under such a name: the notice
  # says which, as the scripts show it (script.start), and the refusal why
  # it cannot be read.
  console.escape_unencodable()
  _data_dir(tmp_path / _NOT_UTF8)
  with pytest.raises(SystemExit):
    parse(['--data_dir', str(tmp_path)])
  err = capsys.readouterr().err
  assert 'its subfolder %s does: using that.' % shown in err
  assert 'error: argument --data_dir: %s' % (refusal % shown) in err
