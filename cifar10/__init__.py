"""The TensorFlow CIFAR-10 tutorial on TensorFlow 2.x, in graph mode via tf.compat.v1.

Importing the package first chooses TensorFlow's CPU kernels (see
cifar10/kernel_choice.py): that has to happen before TensorFlow is imported,
so nothing above this point may import it.
"""

from cifar10 import kernel_choice

kernel_choice.announcement = kernel_choice.choose_before_tensorflow()
