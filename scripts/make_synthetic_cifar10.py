#!/usr/bin/env python
"""Writes a small learnable CIFAR-10-format data set: see cifar10/synthetic.py."""

from cifar10.support import script

if __name__ == '__main__':
  script.prepare_process()  # Before cifar10.synthetic loads TensorFlow.

from cifar10 import synthetic  # pylint: disable=g-import-not-at-top

# The same flags as `python -m cifar10.synthetic`, which this runs.
parser = synthetic.parser

if __name__ == '__main__':
  raise SystemExit(script.run(synthetic.main))
