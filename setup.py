"""Installs the `cifar10` package: the TensorFlow CIFAR-10 tutorial on TF 2.x."""

import setuptools

setuptools.setup(
    name='cifar10',
    version='0.1.0',
    description=('The classic TensorFlow CIFAR-10 tutorial, ported to '
                 'TensorFlow 2.x graph mode (tf.compat.v1) with tf.data.'),
    license='Apache-2.0',
    packages=['cifar10'],
    python_requires='>=3.9',
    install_requires=[
        # Tested with 2.21; graph mode through tf.compat.v1 works from 2.16 on.
        'tensorflow>=2.16,<2.22',
        'tensorboard>=2.16,<2.22',
        'numpy',
        'pillow',  # Draws the evaluator's confusion-matrix image.
        'six',
    ],
    extras_require={'test': ['pytest']},
)
