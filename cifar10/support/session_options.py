"""Speed options for a session: mixed precision, XLA and thread counts.

Each helps on some hardware and hurts on other hardware, so each is a flag,
off by default, with the advice measured for it in docs/speed.md.
None of them changes the variables or the checkpoints.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import dataclasses
import os
import sys

import tensorflow as tf
from tensorflow.core.protobuf import rewriter_config_pb2

from cifar10.support import errors
from cifar10.support import kernel_choice

_CPU_JIT_FLAG = '--tf_xla_cpu_global_jit'


@dataclasses.dataclass(frozen=True)
class SessionOptions:
  """The speed options a session runs with; the defaults are TensorFlow's.

  Attributes:
    mixed_precision: 'off', or 'bf16' for oneDNN's bfloat16 rewrite of the
      convolutions and matrix multiplies (the variables stay float32).
    xla: bool, compile the graph with XLA auto-clustering on every device.
    intra_op_threads: int, threads one op may use; 0 lets TensorFlow choose
      (one per core).
    inter_op_threads: int, ops that may run at once; 0 lets TensorFlow
      choose.
  """
  mixed_precision: str = 'off'
  xla: bool = False
  intra_op_threads: int = 0
  inter_op_threads: int = 0

  @classmethod
  def from_flags(cls, args):
    """The options of `flags.add_session_flags`, checked against --use_fp16.

    Args:
      args: parsed flags holding the speed flags and --use_fp16.

    Returns:
      A SessionOptions.

    Raises:
      errors.UserError: --mixed_precision together with --use_fp16, which
        both set the model's precision.
    """
    if args.mixed_precision != 'off' and args.use_fp16:
      raise errors.UserError(
          '--mixed_precision %s and --use_fp16 both choose the precision of '
          'the model: give one of them.' % args.mixed_precision)
    return cls(**{field.name: getattr(args, field.name)
                  for field in dataclasses.fields(cls)})

  def apply_to_process(self):
    """Sets what TensorFlow fixes once per process, at its first op.

    TensorFlow sizes its thread pools, and reads TF_XLA_FLAGS, when it first
    runs anything, so each script calls this before building its graph.
    With --xla it adds --tf_xla_cpu_global_jit to TF_XLA_FLAGS, without which
    auto-clustering would compile GPU ops only. With --mixed_precision bf16
    it prints a line on stderr saying what the rewrite does on this machine
    (mixed_precision_line).

    Raises:
      errors.UserError: a thread count is asked for after TensorFlow has
        already started with a different one in this process.
    """
    for requested, setter, getter, flag in [
        (self.intra_op_threads,
         tf.config.threading.set_intra_op_parallelism_threads,
         tf.config.threading.get_intra_op_parallelism_threads,
         '--intra_op_threads'),
        (self.inter_op_threads,
         tf.config.threading.set_inter_op_parallelism_threads,
         tf.config.threading.get_inter_op_parallelism_threads,
         '--inter_op_threads')]:
      if requested and getter() != requested:
        try:
          setter(requested)
        except RuntimeError:
          raise errors.UserError(
              '%s %d comes too late: TensorFlow already runs with %d in this '
              'process. Give it on the command line of a fresh process.'
              % (flag, requested, getter()))
    if self.xla:
      xla_flags = os.environ.get('TF_XLA_FLAGS', '')
      if _CPU_JIT_FLAG not in xla_flags.split():
        os.environ['TF_XLA_FLAGS'] = (xla_flags + ' ' + _CPU_JIT_FLAG).strip()
    if self.mixed_precision == 'bf16':
      print(mixed_precision_line(), file=sys.stderr, flush=True)

  def config_proto(self, **fields):
    """A session ConfigProto that carries these options.

    Args:
      **fields: other ConfigProto fields to set, e.g.
        log_device_placement=True.

    Returns:
      A tf.compat.v1.ConfigProto.
    """
    config = tf.compat.v1.ConfigProto(
        intra_op_parallelism_threads=self.intra_op_threads,
        inter_op_parallelism_threads=self.inter_op_threads, **fields)
    # A session made with an explicit ConfigProto gets one CPU device unless
    # the config asks for more: the logical CPUs that tf.config made (for
    # multi_gpu_train --virtual_devices) would not exist in it, and every
    # tower would quietly run on /cpu:0.
    cpus = len(tf.config.list_logical_devices('CPU'))
    if cpus > 1:
      config.device_count['CPU'] = cpus
    if self.mixed_precision == 'bf16':
      rewrites = config.graph_options.rewrite_options
      rewrites.auto_mixed_precision_onednn_bfloat16 = (
          rewriter_config_pb2.RewriterConfig.ON)
    if self.xla:
      config.graph_options.optimizer_options.global_jit_level = (
          tf.compat.v1.OptimizerOptions.ON_1)
    return config

  def config_beside_training(self):
    """The session config of eval, predict and export: GPU memory as needed.

    TensorFlow lets a process map nearly all of a GPU's memory up front, so
    an evaluator started beside a training run on one GPU would fail for
    memory. With allow_growth a process maps only what it uses, and the two
    share the GPU. The trainers keep TensorFlow's default (see
    docs/troubleshooting.md for TF_FORCE_GPU_ALLOW_GROWTH).

    Returns:
      A tf.compat.v1.ConfigProto with these options and allow_growth set.
    """
    return self.config_proto(
        gpu_options=tf.compat.v1.GPUOptions(allow_growth=True))


# mixed_precision_line's default for `flags`, which can be None itself.
_THIS_CPU = object()


def mixed_precision_line(onednn=None, flags=_THIS_CPU, gpus=None):
  """The start-up line of --mixed_precision bf16: what it does here.

  The rewrite is TensorFlow's and silent: it is a pass of oneDNN's graph
  optimizer, which runs only where TensorFlow uses its oneDNN kernels, it
  converts the ops placed on the CPU, and it speeds them up only on CPUs
  with bfloat16 arithmetic (kernel_choice.has_native_bfloat16). Without
  this line a user could not tell whether the flag did anything.

  Args:
    onednn: whether TensorFlow runs its oneDNN kernels; default, this
      process's (kernel_choice.onednn_in_use).
    flags: the CPU's feature flags, or None where they cannot be read;
      default, this machine's (kernel_choice.cpu_flags).
    gpus: the number of GPUs TensorFlow sees; default, this machine's.

  Returns:
    One line, starting 'cifar10: --mixed_precision bf16'.
  """
  onednn = kernel_choice.onednn_in_use() if onednn is None else onednn
  if not onednn:
    return ('cifar10: --mixed_precision bf16 changes nothing in this '
            'process: the bfloat16 rewrite is a pass of oneDNN\'s, and '
            'TensorFlow runs without its oneDNN kernels here%s.' % (
                ' (%s=%s)' % (kernel_choice.ONEDNN_VARIABLE,
                              os.environ[kernel_choice.ONEDNN_VARIABLE])
                if kernel_choice.ONEDNN_VARIABLE in os.environ else ''))
  flags = kernel_choice.cpu_flags() if flags is _THIS_CPU else flags
  gpus = (len(tf.config.list_physical_devices('GPU')) if gpus is None
          else gpus)
  features = sorted(set(kernel_choice.BFLOAT16_FEATURES) & (flags or set()))
  words = ('cifar10: --mixed_precision bf16: oneDNN computes the CPU\'s '
           'convolutions and matrix multiplies in bfloat16 (variables, '
           'checkpoints and the loss stay float32)')
  if kernel_choice.has_native_bfloat16(flags or frozenset()):
    words += ', natively on this CPU (%s among its flags)' % ', '.join(
        features)
  elif features:
    words += (', but ONEDNN_MAX_CPU_ISA=%s keeps oneDNN from this CPU\'s '
              'bfloat16 arithmetic (%s): expect no speed-up' % (
                  os.environ.get('ONEDNN_MAX_CPU_ISA'), ', '.join(features)))
  elif flags is None:
    words += ('; whether this CPU has bfloat16 arithmetic is unknown (no '
              '/proc/cpuinfo to read its flags)')
  else:
    words += ('; this CPU has no bfloat16 arithmetic (neither %s among its '
              'flags): expect no speed-up' % ' nor '.join(
                  kernel_choice.BFLOAT16_FEATURES))
  if gpus:
    words += '. Ops placed on a GPU are not rewritten: they stay float32'
  return words + '.'
