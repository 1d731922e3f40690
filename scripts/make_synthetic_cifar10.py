#!/usr/bin/env python
"""Writes a small learnable CIFAR-10-format data set: see cifar10/synthetic.py."""

from cifar10 import flags
from cifar10 import synthetic

# The same flags as `python -m cifar10.synthetic`, which this runs.
parser = synthetic.parser

if __name__ == '__main__':
  raise SystemExit(flags.run_script(synthetic.main))
