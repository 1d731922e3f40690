"""Text on a console that may not show every character, in aligned columns.

A class name is whatever the user's folder was called (convert_images takes
the names from there), Chinese characters, say, and an image file's name
can be anything. Three things then go wrong:

* Python's stdout raises UnicodeEncodeError on a character its encoding
  lacks (ASCII under LC_ALL=C, cp1252 where a Windows console's output goes
  to a file), which ended a script over a name. The scripts therefore write
  such characters as backslash escapes (`escape_unencodable`, called once
  from script.start), as Python's stderr always does.
* A name holding a line break (a newline, U+2028) or another control
  character would split or scramble the one line that names it (predict's
  line per file, a row of eval's table). Such characters are shown as the
  escapes Python writes for them (`one_line`).
* East Asian wide and fullwidth characters take two columns of a terminal,
  so a table padded by len() loses its columns. Tables pad by `width`, the
  columns the text takes as the stream will show it (`as_shown`): a name
  that became escapes is as wide as its escapes.

This module loads no TensorFlow.
"""
if not __package__:  # Run as a file: see run_as_file.py.
  import run_as_file
  run_as_file.refuse(__file__)

import codecs
import re
import sys
import unicodedata

# A handler for a stream that was set to 'surrogateescape', as Python sets
# stdout under the C locale: there a file name's bytes that the locale could
# not decode go back out unchanged (the terminal may well show them), and
# any other character it cannot encode becomes an escape instead of an error.
_BYTES_BACK_OR_ESCAPE = 'cifar10.surrogateescape_else_backslashreplace'


def _bytes_back_or_escape(error):
  try:
    return codecs.lookup_error('surrogateescape')(error)
  except UnicodeError:
    return codecs.backslashreplace_errors(error)


# A handler for the other streams: a file name's bytes that are not UTF-8
# (which Python hands over as the surrogates U+DC80 to U+DCFF) are written
# as \xNN, the form of the converter's lines and of predict --json, and any
# other character the encoding lacks as backslashreplace writes it.
_BYTES_AS_HEX_ELSE_ESCAPE = 'cifar10.bytes_as_hex_else_backslashreplace'


def _bytes_as_hex_or_escape(error):
  if isinstance(error, UnicodeEncodeError):
    undecoded = error.object[error.start:error.end]
    if all('\udc80' <= character <= '\udcff' for character in undecoded):
      return ''.join('\\x%02x' % (ord(character) - 0xdc00)
                     for character in undecoded), error.end
  return codecs.backslashreplace_errors(error)


def _forgiving(handler):
  """The error handler to use instead of `handler`, or None to keep it.

  'strict' (stdout's by default) and 'surrogateescape' (stdout's under the
  C locale) raise on a character the encoding lacks; 'backslashreplace'
  (stderr's) writes a name's undecoded byte as `\\udce9`. The replacements
  are registered on first use: importing this module changes nothing in
  the process.
  """
  if handler in ('strict', 'backslashreplace'):
    codecs.register_error(_BYTES_AS_HEX_ELSE_ESCAPE, _bytes_as_hex_or_escape)
    return _BYTES_AS_HEX_ELSE_ESCAPE
  if handler == 'surrogateescape':
    codecs.register_error(_BYTES_BACK_OR_ESCAPE, _bytes_back_or_escape)
    return _BYTES_BACK_OR_ESCAPE
  return None


def escape_unencodable():
  """Makes stdout and stderr write what their encoding lacks as escapes.

  stderr's 'backslashreplace' then writes a file name's undecoded bytes as
  \\xNN too (see _forgiving). A stream with any other handler (one the
  user chose through PYTHONIOENCODING, such as 'replace') is left as it
  is, and so is a stream that is no text file (replaced by a test, or None
  without a console).
  """
  for stream in (sys.stdout, sys.stderr):
    if not hasattr(stream, 'reconfigure'):
      continue
    forgiving = _forgiving(stream.errors)
    if forgiving:
      stream.reconfigure(errors=forgiving)


# The characters that do not stay on their line as a character: the control
# characters (Unicode's category Cc: \n, \r, \t, ESC, NEL, ...) and the line
# and paragraph separators. Together they are every character that
# str.splitlines() breaks a line at, and every one that moves a terminal's
# cursor instead of showing.
_OFF_THE_LINE = re.compile('[\x00-\x1f\x7f-\x9f\u2028\u2029]')


def one_line(text):
  """`text` with each character that would break or move its line escaped.

  Each is written as Python writes it in a string literal (`\\n`,
  `\\x85`, `\\u2028`), the form the consoles' escapes of characters
  they lack take too.
  """
  return _OFF_THE_LINE.sub(
      lambda found: found.group().encode('unicode_escape').decode('ascii'),
      text)


def message_lines(text):
  """A message's `text` with only its own line breaks kept: within each of
  its lines, what `one_line` escapes is escaped (a class name or path
  holding U+2028 or a carriage return, quoted in an error).
  """
  return '\n'.join(one_line(line) for line in text.split('\n'))


def as_shown(text, stream=None):
  """`text` as the scripts show it on `stream` (stdout by default), on one
  line (`one_line`), with what the stream's encoding lacks as the escapes
  the stream writes instead. Print this, not `text`."""
  text = one_line(text)
  stream = stream or sys.stdout
  encoding = getattr(stream, 'encoding', None)
  if not encoding:  # A stream of str, such as io.StringIO: shown as it is.
    return text
  handler = getattr(stream, 'errors', None) or 'strict'
  encoded = text.encode(encoding, _forgiving(handler) or handler)
  return encoded.decode(encoding, 'surrogateescape')


def write_at_once(text, stream=None):
  """Writes `text` to `stream` (stdout by default) in one write, and flushes.

  A report written line by line can be cut by a Ctrl-C between two lines,
  or between a line and its line end, and the stop's message then runs on
  after half a line. Written at once, the text goes out whole.

  Text longer than the stream's buffer goes straight to the file, and
  where the file takes only a part (a pipe whose reader left), Python's
  buffered writer returns how much it wrote rather than raising: the rest
  would be dropped without a word. The rest is therefore written again,
  so that such a pipe is reported as any other write to it is.
  """
  stream = stream or sys.stdout
  binary = getattr(stream, 'buffer', None)
  if binary is None:  # A stream of str, such as io.StringIO.
    stream.write(text)
    stream.flush()
    return
  stream.flush()  # What was written before comes first.
  rest = memoryview(text.encode(stream.encoding, stream.errors))
  while rest:
    rest = rest[binary.write(rest):]
  binary.flush()


def width(text):
  """The columns `text` takes on a terminal.

  East Asian wide and fullwidth characters take two, combining marks (an
  accent written as its own code point) none, every other character one.
  """
  return sum(0 if unicodedata.combining(character) else
             2 if unicodedata.east_asian_width(character) in ('W', 'F') else 1
             for character in text)


def ljust(text, columns, stream=None):
  """`text` as `stream` shows it, padded with spaces to `columns` columns."""
  shown = as_shown(text, stream)
  return shown + ' ' * (columns - width(shown))
