"""The devices cifar10.multi_gpu_train puts its towers on: GPUs, or logical
devices split from one GPU or the CPU, so that the tower code runs on any
machine (--virtual_devices).
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import tensorflow as tf

from cifar10.support import errors

# The memory, in MiB, of each logical GPU that --virtual_devices makes out of
# one physical GPU.
VIRTUAL_GPU_MEMORY_MB = 2048


def find_or_make(num_gpus, virtual_devices):
  """Finds one device per tower, or makes them with `virtual_devices`.

  Call it before TensorFlow runs its first op: that is when TensorFlow sets
  up its devices, and logical devices cannot be added afterwards.

  Args:
    num_gpus: int, the number of towers.
    virtual_devices: bool. When the machine has fewer than `num_gpus` GPUs,
      split its first GPU into `num_gpus` logical GPUs of
      VIRTUAL_GPU_MEMORY_MB each, or, without a GPU, the CPU into
      `num_gpus` logical CPUs.

  Returns:
    The towers' device names, one per tower, e.g. ['/gpu:0', '/gpu:1'] (or
    ['/cpu:0', '/cpu:1'] for a split CPU).

  Raises:
    errors.UserError: too few GPUs and `virtual_devices` is false.
  """
  gpus = tf.config.list_physical_devices('GPU')
  if len(gpus) >= num_gpus:
    return ['/gpu:%d' % i for i in range(num_gpus)]
  if not virtual_devices:
    # --num_gpus is at least 1: without a GPU, lowering it cannot help.
    raise errors.UserError(
        '--num_gpus %d asks for more GPUs than this machine has: %d found. %s'
        % (num_gpus, len(gpus), (
            'Lower --num_gpus to %d, or add --virtual_devices to split the '
            'GPU into %d logical devices.' % (len(gpus), num_gpus) if gpus else
            'Add --virtual_devices to split the CPU into %d logical %s.'
            % (num_gpus, 'device' if num_gpus == 1 else 'devices'))))
  if gpus:
    tf.config.set_logical_device_configuration(gpus[0], [
        tf.config.LogicalDeviceConfiguration(memory_limit=VIRTUAL_GPU_MEMORY_MB)
        for _ in range(num_gpus)])
    return ['/gpu:%d' % i for i in range(num_gpus)]
  cpus = tf.config.list_physical_devices('CPU')
  tf.config.set_logical_device_configuration(
      cpus[0], [tf.config.LogicalDeviceConfiguration()
                for _ in range(num_gpus)])
  return ['/cpu:%d' % i for i in range(num_gpus)]
