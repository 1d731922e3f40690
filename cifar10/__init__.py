"""The TensorFlow CIFAR-10 tutorial on TensorFlow 2.x, in graph mode via tf.compat.v1."""
