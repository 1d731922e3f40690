"""scripts/plot_run.py: the picture of a run holds exactly the values its event files hold."""

import logging
import os
import shlex
import shutil
import subprocess
import sys

import matplotlib.colors
import numpy as np
import pytest
from PIL import Image

import script_modules
import test_guide_scripts
from cifar10 import eval as cifar10_eval
from cifar10.support import errors
from conftest import DEADLINE_SECS, summary_values

# The fast lane (docs/testing.md): the whole file.
pytestmark = pytest.mark.fast

plot_run = script_modules.load('plot_run')


@pytest.fixture(scope='module')
def eval_dir(trained_dir, synthetic_data_dir, tmp_path_factory):
  """The evaluator's event folder after one pass over the trained run."""
  folder = str(tmp_path_factory.mktemp('plot_eval'))
  assert cifar10_eval.main([
      '--data_dir', synthetic_data_dir, '--checkpoint_dir', trained_dir,
      '--eval_dir', folder, '--run_once', '--batch_size', '125']) == 0
  return folder


def _series(folder, tag):
  """(steps, values) of `tag`, read with TensorFlow's own event reader."""
  pairs = sorted((step, value.simple_value)
                 for step, value in summary_values(folder) if value.tag == tag)
  return [step for step, _ in pairs], [value for _, value in pairs]


def test_png_has_the_documented_size(trained_dir, eval_dir, tmp_path):
  output = str(tmp_path / 'run.png')
  status = plot_run.main(['--train_dir', trained_dir, '--eval_dir', eval_dir,
                          '--output', output])
  assert status == 0
  with Image.open(output) as picture:
    assert picture.format == 'PNG'
    assert picture.size == (plot_run.FIGURE_INCHES[0] * plot_run.DPI,
                            plot_run.FIGURE_INCHES[1] * plot_run.DPI)


def _run(train_dir, eval_dir, scale):
  """One run for plot_run.draw, read by the script's own reader."""
  return {'label': 'run', 'scale': scale,
          'train': plot_run.read_scalars(train_dir, [
              plot_run.RAW_LOSS_TAG, plot_run.LOSS_TAG,
              plot_run.LEARNING_RATE_TAG]),
          'eval': eval_dir and plot_run.read_scalars(
              eval_dir, [plot_run.PRECISION_TAG])}


def test_plotted_points_are_the_event_values(trained_dir, eval_dir, tmp_path):
  figure = plot_run.draw([_run(trained_dir, eval_dir, 1)],
                         str(tmp_path / 'run.png'))
  loss_axes, rate_axes, precision_axes = figure.axes
  expected = [
      (loss_axes.lines[0], trained_dir, plot_run.RAW_LOSS_TAG),
      (loss_axes.lines[1], trained_dir, plot_run.LOSS_TAG),
      (rate_axes.lines[0], trained_dir, plot_run.LEARNING_RATE_TAG),
      (precision_axes.lines[0], eval_dir, plot_run.PRECISION_TAG)]
  for line, folder, tag in expected:
    steps, values = _series(folder, tag)
    # 300 steps summarized every 50 (steps 1, 51, ..., 251); one evaluation.
    assert len(steps) == (1 if folder == eval_dir else 6), tag
    np.testing.assert_array_equal(line.get_xdata(), steps)
    np.testing.assert_array_equal(line.get_ydata(), values)


def test_a_series_of_one_summary_is_drawn_as_a_dot(tmp_path):
  # A run of 100 steps or fewer holds one summary of each scalar, at step 1:
  # a line alone drew empty panels without a word.
  one = ([1], [2.5])
  two = ([1, 101], [2.5, 2.0])
  run = {'label': 'short', 'scale': 1, 'eval': None,
         'train': {plot_run.RAW_LOSS_TAG: one, plot_run.LOSS_TAG: two,
                   plot_run.LEARNING_RATE_TAG: ([1], [0.1])}}
  output = str(tmp_path / 'short.png')
  figure = plot_run.draw([run], output)
  loss_axes, rate_axes = figure.axes
  assert [line.get_marker() for line in loss_axes.lines] == ['o', 'None']
  assert rate_axes.lines[0].get_marker() == 'o'
  np.testing.assert_array_equal(rate_axes.lines[0].get_xydata(), [[1, 0.1]])
  # The dot is in the picture: the rate panel, the lower third, is not
  # blank white inside its axes.
  with Image.open(output) as picture:
    pixels = np.asarray(picture.convert('RGB'))
  width, height = picture.size
  box = rate_axes.get_window_extent()  # In pixels, from the bottom left.
  inside = pixels[height - int(box.y1) + 3:height - int(box.y0) - 3,
                  int(box.x0) + 3:int(box.x1) - 3]
  assert (inside < 200).any()


def test_postscript_is_written_without_a_warning(trained_dir, eval_dir,
                                                tmp_path, capsys, caplog):
  # Before: "The PostScript backend does not support transparency;
  # partially transparent artists will be rendered opaque." on stderr (a
  # warning of matplotlib's logger), and the raw loss (then transparent)
  # drawn as dark as its moving average.
  output = str(tmp_path / 'run.eps')
  status = plot_run.main(['--train_dir', trained_dir, '--eval_dir', eval_dir,
                          '--output', output])
  assert (status, capsys.readouterr()) == (0, ('Wrote %s\n' % output, ''))
  assert [record.getMessage() for record in caplog.records
          if record.levelno >= logging.WARNING] == []
  with open(output, 'rb') as picture:
    assert picture.read(11) == b'%!PS-Adobe-'
  figure = plot_run.draw([_run(trained_dir, eval_dir, 1)],
                         str(tmp_path / 'run.png'))
  raw, average = figure.axes[0].lines
  assert raw.get_alpha() is None
  # The raw loss is the average's colour at 35% over white.
  np.testing.assert_allclose(
      matplotlib.colors.to_rgb(raw.get_color()),
      0.35 * np.array(matplotlib.colors.to_rgb(average.get_color())) + 0.65)


def test_without_eval_dir_a_run_is_drawn_in_two_panels(trained_dir, tmp_path,
                                                       capsys):
  # A run not yet evaluated: --eval_dir was required, and the picture
  # could not be drawn at all.
  output = tmp_path / 'run.png'
  status = plot_run.main(['--train_dir', trained_dir, '--examples_per_step',
                          '256', '--output', str(output)])
  assert (status, capsys.readouterr().out) == (0, 'Wrote %s\n' % output)
  figure = plot_run.draw([_run(trained_dir, None, 256)],
                         str(tmp_path / 'again.png'))
  loss_axes, rate_axes = figure.axes
  steps, values = _series(trained_dir, plot_run.LEARNING_RATE_TAG)
  np.testing.assert_array_equal(rate_axes.lines[0].get_xdata(),
                                np.array(steps) * 256)
  np.testing.assert_array_equal(rate_axes.lines[0].get_ydata(), values)
  assert len(loss_axes.lines) == 2
  assert rate_axes.get_xlabel() == 'training images seen'
  assert output.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_examples_per_step_scales_the_x_axis(trained_dir, eval_dir, tmp_path):
  figure = plot_run.draw([_run(trained_dir, eval_dir, 256)],
                         str(tmp_path / 'run.png'))
  steps, _ = _series(eval_dir, plot_run.PRECISION_TAG)
  np.testing.assert_array_equal(figure.axes[2].lines[0].get_xdata(),
                                [256 * step for step in steps])
  assert figure.axes[2].get_xlabel() == 'training images seen'


def test_a_folder_without_the_tags_is_named(trained_dir, tmp_path, capsys):
  status = plot_run.main(['--train_dir', trained_dir, '--eval_dir',
                          str(tmp_path), '--output', str(tmp_path / 'x.png')])
  assert status == 1
  error = capsys.readouterr().err
  assert "No 'Precision @ 1' values in the event files of %s" % tmp_path in error
  assert not os.path.exists(tmp_path / 'x.png')


def test_another_runs_evaluations_are_refused_then_its_own_drawn(
    trained_dir, eval_dir, tmp_path, capsys):
  # Before: drawn without a word, run1's precision under run2's name.
  other_run = str(tmp_path / 'run2')
  shutil.copytree(trained_dir, other_run)
  output = str(tmp_path / 'x.png')
  status = plot_run.main(['--train_dir', trained_dir, other_run, '--eval_dir',
                          eval_dir, eval_dir, '--output', output])
  assert status == 1
  assert capsys.readouterr().err == (
      'error: --eval_dir %s holds the evaluations of another run, %s (its '
      'evaluated_run.txt says so), not of --train_dir %s. Give each run\'s '
      'own --eval_dir, in the order of --train_dir.\n' % (
          eval_dir, os.path.abspath(trained_dir), other_run))
  assert not os.path.exists(output)
  # The run's own evaluations, as the message asks.
  assert plot_run.main(['--train_dir', trained_dir, '--eval_dir', eval_dir,
                        '--output', output]) == 0


def test_swapped_folders_are_named_then_drawn_as_told(trained_dir, eval_dir,
                                                      tmp_path, capsys):
  # Before: "No 'total_loss (raw)' values in the event files of EVAL ...
  # Is it the right folder", where the two folders were only swapped.
  output = str(tmp_path / 'x.png')
  assert plot_run.main(['--train_dir', eval_dir, '--eval_dir', trained_dir,
                        '--output', output]) == 1
  assert capsys.readouterr().err == (
      'error: --train_dir %s is an evaluator\'s --eval_dir (its '
      'evaluated_run.txt names the run %s): give that run as --train_dir, '
      'and this folder as --eval_dir.\n' % (eval_dir,
                                              os.path.abspath(trained_dir)))
  assert plot_run.main(['--train_dir', trained_dir, '--eval_dir', trained_dir,
                        '--output', output]) == 1
  assert capsys.readouterr().err == (
      'error: --eval_dir %s is a training run\'s folder (it holds '
      'checkpoints): give it as --train_dir, and the evaluator\'s --eval_dir '
      'of that run as --eval_dir.\n' % trained_dir)
  assert not os.path.exists(output)
  assert plot_run.main(['--train_dir', trained_dir, '--eval_dir', eval_dir,
                        '--output', output]) == 0


def test_one_label_per_run_is_required(trained_dir, eval_dir, tmp_path, capsys):
  status = plot_run.main(['--train_dir', trained_dir, '--eval_dir', eval_dir,
                          '--label', 'a', 'b', '--output',
                          str(tmp_path / 'x.png')])
  assert status == 1
  # Before: "2 given for 1 runs".
  assert '--label takes one value per --train_dir: 2 given for 1 run.' in (
      capsys.readouterr().err)


def test_a_non_positive_examples_per_step_is_refused(trained_dir, eval_dir,
                                                     tmp_path, capsys):
  # Before: accepted, and every point drawn at x = 0.
  for value in ('0', '-128'):
    with pytest.raises(SystemExit) as raised:
      plot_run.main(['--train_dir', trained_dir, '--eval_dir', eval_dir,
                     '--examples_per_step', value, '--output',
                     str(tmp_path / 'x.png')])
    assert raised.value.code == 2
    assert ('argument --examples_per_step: must be at least 1, got %s'
            % value) in capsys.readouterr().err
  assert not os.path.exists(tmp_path / 'x.png')


def test_an_eval_folder_written_out_of_step_order_reads_in_step_order(
    tmp_path, caplog):
  # As the guide's order writes it: a --run_once on the newest checkpoint,
  # later an --all_checkpoints on the older ones, each from an evaluator
  # that writes its graph. The second file's name sorts after the first's.
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  written = [('.1', [(169, 0.31)]),
             ('.2', [(0, 0.1), (300, 0.52), (169, 0.33)])]
  with tf.Graph().as_default() as graph:
    tf.constant(1.0, name='something_to_draw')
    for suffix, points in written:
      writer = tf.compat.v1.summary.FileWriter(str(tmp_path), graph,
                                               filename_suffix=suffix)
      for step, value in points:
        writer.add_summary(tf.compat.v1.Summary(value=[
            tf.compat.v1.Summary.Value(tag=plot_run.PRECISION_TAG,
                                       simple_value=value)]), step)
      writer.close()
  caplog.set_level('INFO')
  series = plot_run.read_scalars(str(tmp_path), [plot_run.PRECISION_TAG])
  steps, values = series[plot_run.PRECISION_TAG]
  assert steps == [0, 169, 300]
  # Step 169 was evaluated twice: the newer value counts.
  np.testing.assert_allclose(values, [0.1, 0.33, 0.52])
  assert 'more than one graph' not in caplog.text


def test_an_existing_output_is_kept_then_a_new_file_or_overwrite(
    trained_dir, eval_dir, tmp_path, capsys):
  # Before: the user's file was written over without a word.
  args = ['--train_dir', trained_dir, '--eval_dir', eval_dir]
  mine = tmp_path / 'mine.png'
  mine.write_bytes(b'my own picture')
  assert plot_run.main(args + ['--output', str(mine)]) == 1
  assert capsys.readouterr().err == (
      'error: --output %s exists already, and nothing is written over. Give '
      'a new file, such as --output %s, or add --overwrite to replace it.\n'
      % (mine, tmp_path / 'mine_2.png'))
  assert mine.read_bytes() == b'my own picture'
  # "Give a new file, such as --output .../mine_2.png".
  assert plot_run.main(args + ['--output', str(tmp_path / 'mine_2.png')]) == 0
  # "or add --overwrite to replace it".
  assert plot_run.main(args + ['--output', str(mine), '--overwrite']) == 0
  with Image.open(mine) as picture:
    assert picture.format == 'PNG'


def test_an_output_in_a_missing_folder_is_refused_then_made_as_told(
    trained_dir, eval_dir, tmp_path, capsys):
  # Before: the picture was drawn, then saving it ended in
  # FileNotFoundError and its traceback.
  args = ['--train_dir', trained_dir, '--eval_dir', eval_dir]
  output = str(tmp_path / 'nodir' / 'p.png')
  assert plot_run.main(args + ['--output', output]) == 1
  error = capsys.readouterr().err
  assert error == (
      'error: --output %s: the folder %s does not exist. Create it (mkdir -p '
      '%s) or give another --output.\n' % (output, tmp_path / 'nodir',
                                           tmp_path / 'nodir'))
  assert not os.path.exists(tmp_path / 'nodir')
  # "Create it (mkdir -p DIR)".
  test_guide_scripts.follow_mkdir_advice(error)
  assert plot_run.main(args + ['--output', output]) == 0
  with Image.open(output) as picture:
    assert picture.format == 'PNG'


def _refused_output(args, output, capsys):
  """The one line plot_run says refusing `output`, and the --output that
  line offers, as a shell reads it."""
  assert plot_run.main(args + ['--output', output]) == 1
  error = capsys.readouterr().err
  assert error.count('\n') == 1, error
  typed, = shlex.split(error.partition('. Give --output ')[2].partition(
      ', or end the name')[0])
  return error, typed


def _endings():
  return ', '.join('.' + name for name in plot_run.writable_formats())


def test_an_output_matplotlib_cannot_write_is_refused_then_one_it_can(
    trained_dir, tmp_path, capsys):
  # Before: the picture was drawn, then matplotlib's "ValueError: Format
  # 'txt' is not supported" ended the tool in a traceback; and where
  # notes.txt existed, the "exists already" refusal offered notes_2.txt,
  # which met the same traceback.
  args = ['--train_dir', trained_dir]
  (tmp_path / 'notes.txt').write_text('my notes')
  for name, offered in [('a.txt', 'a.png'), ('x.bmp', 'x.png'),
                        ('run.v2', 'run.png'), ('notes.txt', 'notes.png')]:
    output = str(tmp_path / name)
    error, typed = _refused_output(args, output, capsys)
    assert error == (
        'error: --output %s: matplotlib cannot write %s here. Give --output '
        '%s, or end the name in any format matplotlib writes here: %s.\n'
        % (output, os.path.splitext(name)[1], tmp_path / offered,
           _endings()))
    # "Give --output NAME.png".
    assert plot_run.main(args + ['--output', typed]) == 0
    with Image.open(typed) as picture:
      assert picture.format == 'PNG'
  assert sorted(os.listdir(tmp_path)) == [
      'a.png', 'notes.png', 'notes.txt', 'run.png', 'x.png']
  assert (tmp_path / 'notes.txt').read_text() == 'my notes'


def test_every_format_the_refusal_lists_is_written_under_its_name(
    trained_dir, tmp_path, capsys):
  # "or end the name in any format matplotlib writes here: ...", and in
  # capitals too (matplotlib reads the ending in either).
  endings = _endings().split(', ')
  assert {'.pdf', '.png', '.svg'} <= set(endings)
  names = ['run' + ending for ending in endings] + ['RUN.PDF']
  for name in names:
    assert plot_run.main(['--train_dir', trained_dir, '--output',
                          str(tmp_path / name)]) == 0, name
    assert capsys.readouterr().out == 'Wrote %s\n' % (tmp_path / name)
  assert sorted(os.listdir(tmp_path)) == sorted(names)
  with open(tmp_path / 'RUN.PDF', 'rb') as pdf:
    assert pdf.read(5) == b'%PDF-'
  with open(tmp_path / 'run.svg', 'rb') as svg:
    assert b'<svg' in svg.read()


def test_an_output_without_an_ending_is_refused_and_no_other_file_written(
    trained_dir, tmp_path, capsys):
  # Before: `--output report` said "Wrote report", and matplotlib had
  # written the picture over the user's report.png (it adds .png to a name
  # without an ending), which nothing had checked.
  args = ['--train_dir', trained_dir]
  (tmp_path / 'report.png').write_text('my notes')
  output = str(tmp_path / 'report')
  error, typed = _refused_output(args, output, capsys)
  assert error == (
      "error: --output %s has no ending to name the picture's format. Give "
      '--output %s, or end the name in any format matplotlib writes here: '
      '%s.\n' % (output, tmp_path / 'report_2.png', _endings()))
  assert os.listdir(tmp_path) == ['report.png']
  assert (tmp_path / 'report.png').read_text() == 'my notes'
  # "Give --output report_2.png": report.png is the user's.
  assert plot_run.main(args + ['--output', typed]) == 0
  assert (tmp_path / 'report.png').read_text() == 'my notes'
  # "or end the name in any format matplotlib writes here".
  assert plot_run.main(args + ['--output', output + '.pdf']) == 0
  assert sorted(os.listdir(tmp_path)) == ['report.pdf', 'report.png',
                                          'report_2.png']


def test_an_ending_alone_is_refused_then_a_name_before_it(trained_dir,
                                                          tmp_path, capsys):
  # Before: `--output .svg` "has no ending to name the picture's format"
  # (to Python, .svg is a hidden file's name), and the offer was .svg.png.
  args = ['--train_dir', trained_dir]
  output = str(tmp_path / '.svg')
  assert plot_run.main(args + ['--output', output]) == 1
  error = capsys.readouterr().err
  assert error == (
      "error: --output %s is an ending without a name (Python and matplotlib "
      "would take it for a hidden file's whole name, with no ending). Give a "
      'name before it, such as --output %s.\n' % (output,
                                                  tmp_path / 'picture.svg'))
  assert os.listdir(tmp_path) == []
  # "Give a name before it, such as --output DIR/picture.svg."
  typed = error.rpartition(' --output ')[2][:-2]
  assert plot_run.main(args + ['--output', typed]) == 0
  with open(tmp_path / 'picture.svg', 'rb') as svg:
    assert b'<svg' in svg.read()


def test_a_refused_output_is_one_line_without_tensorflows_lines(
    trained_dir, tmp_path):
  # Before: TensorFlow's held-back start-up lines (which it writes twice,
  # once per library that logs them), then matplotlib's traceback.
  done = subprocess.run(
      [sys.executable, script_modules.path('plot_run'), '--train_dir',
       trained_dir, '--output', str(tmp_path / 'a.txt')],
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
      timeout=DEADLINE_SECS)
  assert (done.returncode, done.stdout) == (1, '')
  assert [line for line in done.stderr.splitlines()
          if not line.startswith('cifar10: using oneDNN CPU kernels')] == [
      'error: --output %s: matplotlib cannot write .txt here. Give --output '
      '%s, or end the name in any format matplotlib writes here: %s.'
      % (tmp_path / 'a.txt', tmp_path / 'a.png', _endings())]
  assert os.listdir(tmp_path) == []


def test_a_folder_with_a_name_not_utf8_then_the_runs_folder(trained_dir,
                                                            tmp_path):
  # Before: TensorBoard's reader ended in a UnicodeDecodeError traceback on
  # a folder holding caf\xe9.png (found by a new user's trial); a path
  # flag holding such a name did too.
  photos = tmp_path / 'photos'
  photos.mkdir()
  (photos / os.fsdecode(b'caf\xe9.png')).touch()
  output = str(tmp_path / 'run.png')
  with pytest.raises(errors.UserError) as raised:
    plot_run.main(['--train_dir', str(photos), '--output', output])
  assert str(raised.value) == (
      "%s holds a file whose name is not UTF-8 text, which TensorBoard's "
      "reader cannot list. Give the folder of a run's event files (its "
      "--train_dir, or the evaluator's --eval_dir), or rename that file."
      % photos)
  # As it says: the run's folder.
  assert plot_run.main(['--train_dir', trained_dir, '--output', output]) == 0
  assert os.path.getsize(output) > 0
  # A path flag with such a name is refused as the command line is read.
  for flag, value in (('--train_dir', str(tmp_path / os.fsdecode(b'r\xe9n'))),
                      ('--output', os.path.join(os.fsdecode(b'r\xe9n'),
                                                'q.png'))):
    argv = ['--train_dir', trained_dir, '--output', str(tmp_path / 'q.png')]
    argv[argv.index(flag) + 1] = value
    with pytest.raises(SystemExit):
      plot_run.main(argv)
