"""Free ports on this machine, for servers started beside whatever else runs.

cifar10.dist_train's examples give fixed ports (localhost:2222, ...); the
tests and benchmarks/benchmark.py start clusters and servers of their own on a
machine where other programs may hold those, so they ask the system for
ports nobody is using.
"""

if __name__ == '__main__':  # A helper module, run as a program.
  raise SystemExit(
      'benchmarks/ports.py is a module that benchmark.py and the tests '
      'import, not a tool: run python benchmarks/benchmark.py '
      '(README.md lists the tools).')

import socket


def free_ports(count):
  """`count` distinct ports on 127.0.0.1 that were free a moment ago.

  Each port is bound, then released for the caller's server to bind;
  another program could take it in between, which is rare enough.

  Returns:
    A list of `count` ints.
  """
  sockets = [socket.socket() for _ in range(count)]
  try:
    for sock in sockets:
      sock.bind(('127.0.0.1', 0))
    return [sock.getsockname()[1] for sock in sockets]
  finally:
    for sock in sockets:
      sock.close()
