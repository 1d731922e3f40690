"""The TensorFlow CIFAR-10 tutorial on TensorFlow 2.x, in graph mode via tf.compat.v1.

Importing the package first chooses TensorFlow's CPU kernels (see
cifar10/kernel_choice.py) and arranges for TensorFlow's start-up lines to be
held back (see cifar10/tensorflow_logs.py). Both have to happen before
TensorFlow is imported, so nothing above this point may import it.
"""

from cifar10 import kernel_choice
from cifar10 import tensorflow_logs

kernel_choice.announcement = kernel_choice.choose_before_tensorflow()
tensorflow_logs.hold_back_start_up_lines()
