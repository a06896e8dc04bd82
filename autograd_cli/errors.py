"""Source locations and the one error type of autograd-cli.

Every error the user can cause is an `ExprError` carrying the span of the
text that caused it.  Only the command line turns it into the
``path:line:col: error: message`` form (see `format_diagnostic`).
"""

from __future__ import annotations

import bisect
import os
import sys
from array import array
from collections.abc import Iterable
from typing import Any, TextIO


class Source:
    """A text being parsed, with the name it is shown under in messages."""

    __slots__ = ("name", "text", "_lines", "_starts")

    def __init__(self, name: str, text: str):
        self.name = name
        self.text = text
        self._lines: list[str] | None = None
        self._starts: list[int] | None = None

    def line(self, lineno: int) -> str:
        """The text of line `lineno` (1-based), without its end; "" past the end."""
        if self._lines is None:
            # Only "\n" ends a line, as in the parser (not str.splitlines's
            # form feeds or U+2028).
            self._lines = self.text.replace("\r\n", "\n").split("\n")
        if 1 <= lineno <= len(self._lines):
            return self._lines[lineno - 1]
        return ""

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, column) of a character offset."""
        if self._starts is None:
            starts = [0]
            find = self.text.find
            i = find("\n")
            while i >= 0:
                starts.append(i + 1)
                i = find("\n", i + 1)
            self._starts = starts
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1


def display_path(path: str) -> str:
    """A file name as messages show it: control characters escaped (a name
    holding ESC or a newline cannot forge output), bytes that are not UTF-8
    (which Python keeps as lone surrogates) shown as U+FFFD."""
    if path.isprintable():
        return path
    out = []
    for c in path:
        code = ord(c)
        if 0xD800 <= code <= 0xDFFF:
            out.append("\ufffd")
        elif c.isprintable():
            out.append(c)
        else:
            out.append(repr(c)[1:-1])
    return "".join(out)


class Span:
    """A region of a `Source`, as character offsets, end exclusive.

    Lines and columns (1-based) are worked out only when asked for: a file
    has a span for every token and node, and few are ever shown.
    """

    __slots__ = ("source", "start", "end")

    def __init__(self, source: Source, start: int, end: int):
        self.source = source
        self.start = start
        self.end = end

    @classmethod
    def of_token(cls, source: Source, tok: Any) -> Span:
        return cls(source, tok.start_pos, tok.end_pos)

    @classmethod
    def at(cls, source: Source, pos: int) -> Span:
        """A one-character span at an offset of the source text."""
        pos = max(0, min(pos, len(source.text)))
        return cls(source, pos, pos + 1)

    def to(self, other: Span) -> Span:
        """The span from the start of this one to the end of `other`."""
        return Span(self.source, self.start, other.end)

    @property
    def line(self) -> int:
        return self.source.position(self.start)[0]

    @property
    def column(self) -> int:
        return self.source.position(self.start)[1]

    @property
    def end_line(self) -> int:
        return self.source.position(self.end)[0]

    @property
    def end_column(self) -> int:
        return self.source.position(self.end)[1]

    @property
    def text(self) -> str:
        return self.source.text[self.start : self.end]


class Spans:
    """A list of spans kept as offsets (a long file has a node per operator):
    ``spans[i]`` makes the `Span`.  Spans of other sources (a --set value)
    are kept as they are."""

    __slots__ = ("source", "starts", "ends", "others")

    def __init__(self, source: Source):
        self.source = source
        # int32: sources are read up to 2**30 bytes (sources.READ_LIMIT)
        self.starts = array("i")
        self.ends = array("i")
        self.others: dict[int, Span] = {}  # index -> a Span of another source

    def append(self, span: Span) -> None:
        if span.source is not self.source:
            self.others[len(self.starts)] = span
        self.starts.append(span.start)
        self.ends.append(span.end)

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int) -> Span:
        if self.others and i in self.others:
            return self.others[i]
        return Span(self.source, self.starts[i], self.ends[i])

    def truncate(self, n: int) -> None:
        """Drop every span from index `n` on."""
        del self.starts[n:], self.ends[n:]
        self.others = {i: s for i, s in self.others.items() if i < n}


MESSAGE_WIDTH = 400  # characters of a message kept at most


def shorten(message: str) -> str:
    """`message`, its middle cut if it is long: messages quote the input (a
    name, a number, a token), and input has no length limit."""
    if len(message) <= MESSAGE_WIDTH:
        return message
    head, tail = MESSAGE_WIDTH * 2 // 3, MESSAGE_WIDTH // 4
    cut = len(message) - head - tail
    return f"{message[:head]}… ({cut:,} characters cut) …{message[-tail:]}"


class ExprError(Exception):
    """An error in the user's input, located at `span`.

    `notes` are further ``(span, message)`` pairs shown after the error, such
    as where a name was first bound.  The message's control characters are
    escaped (`display_path`) and a long message is cut (`shorten`).
    """

    def __init__(
        self, message: str, span: Span | None = None, notes: Iterable[tuple[Span | None, str]] = ()
    ):
        # Messages are one line quoting what the user gave (an --of, a
        # --wrt), which can hold ESC or a newline: escaped as file names are,
        # then cut once, counting the escaped characters it leaves out.
        message = shorten(display_path(message))
        super().__init__(message)
        self.message = message
        self.span = span
        self.notes = list(notes)


class ShapeError(Exception):
    """Raised by an op's shape rule; the compiler adds the location."""


EXCERPT_WIDTH = 120  # characters of a source line shown at most


def _excerpt(span: Span) -> list[str]:
    src_line = span.source.line(span.line)
    if not src_line and span.start >= len(span.source.text):
        return []
    # One printable character per source character, so the caret lines up.
    shown = "".join(c if c.isprintable() else " " if c == "\t" else "\ufffd" for c in src_line)
    if span.end_line == span.line:
        width = max(1, span.end_column - span.column)
    else:
        width = max(1, len(shown) - span.column + 1)
    width = min(width, max(1, len(shown) - span.column + 1))
    column = span.column
    if len(shown) > EXCERPT_WIDTH:
        # A long line (one-line JSON from a pipeline, say): show the part
        # around the span, marked as cut with an ellipsis.
        start = max(0, min(column - 1 - EXCERPT_WIDTH // 3, len(shown) - EXCERPT_WIDTH))
        end = start + EXCERPT_WIDTH
        head = "\u2026" if start > 0 else ""
        shown = head + shown[start:end] + ("\u2026" if end < len(shown) else "")
        column = column - start + len(head)
        width = max(1, min(width, end - (span.column - 1)))  # a caret even at the end
    gutter = " " * len(str(span.line))
    return [
        f"    {span.line} | {shown}",
        f"    {gutter} | {' ' * (column - 1)}{'^' * width}",
    ]


def want_colour(stream: Any) -> bool:
    """Whether diagnostics written to `stream` should be coloured: never
    under NO_COLOR, always under FORCE_COLOR, else only on a terminal."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def format_diagnostic(
    severity: str,
    message: str,
    span: Span | None,
    fallback_name: str = "autograd-cli",
    notes: Iterable[tuple[Span | None, str]] = (),
    colour: bool = False,
) -> str:
    """Render a diagnostic as editors and CI read it:

    ``path:line:col: error: message``, the source line, and a caret under
    the offending span; then each note in the same form.
    """

    def head(sev: str, msg: str, sp: Span | None) -> str:
        where = f"{sp.source.name}:{sp.line}:{sp.column}" if sp else fallback_name
        if colour:
            tint = {"error": "1;31", "warning": "1;35", "note": "1;36"}[sev]
            return f"\x1b[1m{where}:\x1b[0m \x1b[{tint}m{sev}:\x1b[0m \x1b[1m{msg}\x1b[0m"
        return f"{where}: {sev}: {msg}"

    lines = [head(severity, shorten(message), span)]
    if span is not None:
        lines += _excerpt(span)
    for note_span, note in notes:
        lines.append(head("note", shorten(note), note_span))
        if note_span is not None:
            lines += _excerpt(note_span)
    return "\n".join(lines)


def print_diagnostic(
    severity: str,
    message: str,
    span: Span | None,
    fallback_name: str = "autograd-cli",
    notes: Iterable[tuple[Span | None, str]] = (),
) -> None:
    """`format_diagnostic` written to stderr, coloured if it wants colour."""
    stream: TextIO = sys.stderr
    stream.write(
        format_diagnostic(severity, message, span, fallback_name, notes, colour=want_colour(stream))
        + "\n"
    )
