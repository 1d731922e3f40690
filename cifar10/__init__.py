"""The TensorFlow CIFAR-10 tutorial on TensorFlow 2.x, in graph mode via tf.compat.v1.

Read it in this order: the original's five files, with the training loop
every trainer shares between the model and the trainers:

1. cifar10_input.py  reads the binary batch files and distorts the images;
2. cifar10.py        the network, its loss, its training step and the
                     moving averages of its weights;
3. training_loop.py  the session, its hooks and the loop every trainer runs;
4. train.py          one device; then multi_gpu_train.py, one tower per GPU;
5. eval.py           restores the moving averages and counts precision @ 1.

The other scripts go beyond the original: dist_train.py (parameter servers),
predict.py, export.py, synthetic.py and convert_images.py. Everything a
learner need not read lives in cifar10/support/.

Importing the package does nothing to the caller's process: no TensorFlow,
no environment variable, no import hook. The scripts set up their process
where they start (support/script.py). As with the original's `import
cifar10`, the model's functions can be reached from the package itself
(`cifar10.inference(images)`, `cifar10.maybe_download_and_extract()`, ...);
TensorFlow loads when the first of them is used.
"""

if not __package__:  # Run as a file: see support/run_as_file.py.
  from support import run_as_file
  run_as_file.refuse(__file__)
else:  # `python -m cifar10.X` where X is no script: say so, as above.
  from cifar10.support import run_as_file as _run_as_file
  _run_as_file.refuse_module_run_with_m()

# The names the original's scripts used after `import cifar10`, served from
# cifar10/cifar10.py on first use (PEP 562), so that the import stays free.
# `train` is also the name of the one-device script: after `import
# cifar10.train` the package attribute is that module, as Python sets it.
_MODEL_NAMES = frozenset([
    'maybe_download_and_extract', 'distorted_inputs', 'inputs', 'inference',
    'loss', 'train', 'variables_to_restore', 'IMAGE_SIZE', 'NUM_CLASSES',
    'NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN', 'NUM_EXAMPLES_PER_EPOCH_FOR_EVAL',
    'MOVING_AVERAGE_DECAY', 'NUM_EPOCHS_PER_DECAY',
    'LEARNING_RATE_DECAY_FACTOR', 'INITIAL_LEARNING_RATE', 'BATCH_SIZE',
    'DATA_DIR', 'TOWER_NAME'])


def __getattr__(name):
  if name in _MODEL_NAMES:
    from cifar10 import cifar10 as model  # pylint: disable=g-import-not-at-top
    return getattr(model, name)
  raise AttributeError('module %r has no attribute %r' % (__name__, name))


def __dir__():
  return sorted(set(globals()) | _MODEL_NAMES)
