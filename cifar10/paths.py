"""The folders the scripts use when no flag names another.

The first three are the original tutorial's defaults. Keep them here, and
only here: the flags, the docstrings and the tests read them from this
module. Like kernel_choice, this module must not import TensorFlow.
"""

# The original's --data_dir: cifar-10-batches-bin/ and the tarball go here.
DATA_DIR = '/tmp/cifar10_data'

# The original's --train_dir: checkpoints and the trainer's event files.
TRAIN_DIR = '/tmp/cifar10_train'

# The original's --eval_dir: the evaluator's event files.
EVAL_DIR = '/tmp/cifar10_eval'

# Where cifar10.export writes the SavedModel (the original had no export).
EXPORT_DIR = '/tmp/cifar10_model'

# Where cifar10.synthetic writes its stand-in data set. Not DATA_DIR: nothing
# marks the synthetic files as such, and a later run on DATA_DIR would take
# them for CIFAR-10 (and skip the real download).
SYNTHETIC_DATA_DIR = '/tmp/cifar10_synthetic'
