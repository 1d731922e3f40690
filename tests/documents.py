"""The project's documents and the scripts' parsers, for the tests that check one against the other."""

import glob
import os

import script_modules

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS_MD = os.path.join(REPO, 'docs', 'flags.md')


def paths():
  """README.md, then docs/*.md in name order, as paths relative to REPO."""
  return ['README.md'] + sorted(
      os.path.relpath(path, REPO)
      for path in glob.glob(os.path.join(REPO, 'docs', '*.md')))


def read(path):
  with open(os.path.join(REPO, path)) as document:
    return document.read()


def flags_doc():
  """scripts/flags_doc.py, which lists every script and writes docs/flags.md."""
  return script_modules.load('flags_doc')


def parsers():
  """{command: parser} of every script that has a parser() function."""
  return {command: module.parser()
          for command, module in flags_doc().scripts()
          if hasattr(module, 'parser')}
