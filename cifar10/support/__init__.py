"""The machinery that keeps the tutorial's users safe and fast.

A learner need not read any of it to learn TF1-style training. The tutorial
itself lives one level up (cifar10/__init__.py gives the reading order);
each of its modules calls into this package in a line where it needs one of
these, and a learner can take each such line at its word:

* no TensorFlow, so that `--help` is answered before it loads: `flags` (the
  one shared parser), `paths` (folders and their checks), `errors` (what the
  user is told), `download`, `classes` (class names of a data set and run),
  `data_sets` and `data_choice` (the data sets' formats, and which one a
  script reads), `batch_files` (the binary format and its checks), `script`
  (how a script starts and ends), `console` (text a console cannot show,
  and table columns), `kernel_choice`, `tensorflow_logs`, `run_as_file`,
  `learning_schedule` (the schedule's words);
* the data's files: `storage` (every read and write, local or at a URL),
  `pickled_batches` (the Python versions, unpickled safely);
* around the training loop: `training_run` (settings, the data and
  --train_dir readied, --fresh, resuming, signals, failures), `checkpoints`
  (finding and checking them), `session_options` (the speed flags),
  `warm_start` and `trained_layers` (starting from a trained model, training
  some layers), `tower_devices` (the multi-GPU trainer's devices);
* fast forms of the tutorial's ops, each tested against the readable one it
  replaces: `fast_ops`; and the summaries: `summaries`, `histogram`;
* the evaluator's report: `eval_report`, `confusion`, and the checkpoints it
  scores beyond the newest, `checkpoint_choice`; and for the user's own
  pictures `image_files` (decoding, resizing) and `image_splits` (copies
  kept in one split, the record of each file's split).

Nothing here imports the tutorial's modules: the lower tier never reaches up.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)
