"""Packaging for `cifar10`: the TensorFlow CIFAR-10 tutorial on TF 2.x.

The distribution is named cifar10-tf-tutorial because the name cifar10 on
the Python package index belongs to an unrelated project. Only the name that
pip shows differs: the import package is `cifar10`, and the scripts run as
`python -m cifar10.train` and so on.
"""

import setuptools

setuptools.setup(
    name='cifar10-tf-tutorial',
    version='0.1.0',
    description=('The classic TensorFlow CIFAR-10 tutorial, ported to '
                 'TensorFlow 2.x graph mode (tf.compat.v1) with tf.data.'),
    license='Apache-2.0',
    # The tutorial, and the machinery beneath it.
    packages=['cifar10', 'cifar10.support'],
    # The Python versions TensorFlow 2.21 publishes wheels for: its wheel
    # says Requires-Python >=3.10 and lists 3.10 to 3.13 (checked in its
    # METADATA, 2026-12-04). On 3.14, pip would fail later, on TensorFlow.
    python_requires='>=3.10,<3.14',
    classifiers=[
        'Programming Language :: Python :: 3.10',
        'Programming Language :: Python :: 3.11',
        'Programming Language :: Python :: 3.12',
        'Programming Language :: Python :: 3.13',
    ],
    install_requires=[
        # Tested with 2.21. A fresh install of 2.20 pulls a protobuf whose
        # text_format no longer takes the float_format TF 2.20 passes it.
        'tensorflow>=2.21,<2.22',
        'tensorboard>=2.21,<2.22',
        'numpy',
        'pillow',  # Draws the evaluator's confusion-matrix image.
    ],
    extras_require={
        # scripts/plot_run.py draws a run's curves; the tests check it too.
        'plot': ['matplotlib'],
        'test': ['pytest', 'pytest-xdist', 'matplotlib'],
    },
)
