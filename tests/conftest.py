"""Shared fixtures: small CIFAR-10-format data made on the fly, and one trained run."""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import numpy as np  # pylint: disable=g-import-not-at-top
import pytest

from cifar10 import synthetic
from cifar10 import train

RECORD_BYTES = 3073


def crafted_record(label, red, green, blue):
  """One record by hand: a label byte, then solid red, green and blue planes."""
  return bytes([label]) + bytes([red]) * 1024 + bytes([green]) * 1024 + bytes(
      [blue]) * 1024


@pytest.fixture(scope='session')
def synthetic_data_dir(tmp_path_factory):
  """A --data_dir holding a small learnable data set in the native format."""
  data_dir = tmp_path_factory.mktemp('cifar10_data')
  synthetic.write_synthetic_dataset(str(data_dir), train_records_per_file=200,
                                    test_records=250, seed=1)
  return str(data_dir)


@pytest.fixture(scope='session')
def trained_dir(synthetic_data_dir, tmp_path_factory):
  """A --train_dir after 300 steps of cifar10.train on the synthetic data."""
  train_dir = str(tmp_path_factory.mktemp('cifar10_train'))
  status = train.main([
      '--data_dir', synthetic_data_dir, '--train_dir', train_dir,
      '--max_steps', '300', '--batch_size', '32',
      '--save_summaries_steps', '50', '--log_frequency', '50',
      # Seeded: the tutorial's learning rate occasionally diverges on this
      # very easy data with a batch this small.
      '--seed', '1'])
  assert status == 0
  return train_dir


@pytest.fixture
def rng():
  return np.random.default_rng(1234)
