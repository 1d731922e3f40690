"""scripts/benchmark.py: the profile's parts and cluster_cost's traffic counts.

Only the bookkeeping is tested; what the figures are depends on the machine.
"""

import os
import socket
import time

import pytest

from conftest import DEADLINE_SECS
import script_modules

benchmark = script_modules.load('benchmark')


@pytest.mark.parametrize('node_name,op_type,part', [
    ('conv2/conv2', '_MklNativeFusedConv2D', 'convolutions'),
    ('gradients/conv1/Conv2D_grad/Conv2DBackpropFilter',
     'Conv2DBackpropFilter', 'convolutions'),
    ('norm1', 'LRN', 'local response normalization'),
    ('gradients/norm2_grad/LRNGrad', 'LRNGrad',
     'local response normalization'),
    ('norm2/BiasAdd', '_MklNativeFusedMatMul', 'local response normalization'),
    ('gradients/norm1/IdentityN_grad/mul_2', 'Mul',
     'local response normalization'),
    ('gradients/pool1_grad/MaxPoolGrad', 'MaxPoolGrad', 'rest'),
    ('local3/local3', '_MklNativeFusedMatMul', 'rest'),
    ('gradients', 'NoOp', 'rest'),
])
def test_ops_are_sorted_into_parts(node_name, op_type, part):
  assert benchmark._profile_part(node_name, op_type) == part  # pylint: disable=protected-access


@pytest.mark.parametrize('reference_ops', [True, False])
def test_a_traced_step_finds_each_part(reference_ops):
  # The node names the sorting relies on are those the model builds: each
  # graph's traced step has time in every part, and the step's parts are
  # what the trace holds.
  session, train_op = benchmark._constant_batch_step(  # pylint: disable=protected-access
      8, ('--inter_op_threads', '1'), reference_ops=reference_ops)
  with session:
    parts = benchmark._traced_step_ms(session, train_op)  # pylint: disable=protected-access
  assert set(parts) == set(benchmark.PROFILE_PARTS)
  assert all(ms > 0 for ms in parts.values()), parts


def test_tcp_bytes_counts_what_a_process_sends_and_receives():
  # cluster_cost reads each ps task's traffic from the kernel's counters of
  # its connections; here both ends of one connection are this process.
  payload = 100000
  with socket.create_server(('127.0.0.1', 0)) as server, \
      socket.create_connection(server.getsockname()) as client:
    peer, _ = server.accept()
    with peer:
      before = benchmark._tcp_bytes(os.getpid())  # pylint: disable=protected-access
      client.sendall(b'x' * payload)
      received = 0
      while received < payload:
        received += len(peer.recv(payload))
      # The sender's count is of bytes acknowledged, which may trail.
      deadline = time.monotonic() + DEADLINE_SECS
      while True:
        after = benchmark._tcp_bytes(os.getpid())  # pylint: disable=protected-access
        if after[1] - before[1] >= payload or time.monotonic() > deadline:
          break
        time.sleep(0.01)
  assert (after[0] - before[0], after[1] - before[1]) == (payload, payload)
