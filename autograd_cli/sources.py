"""Reading the user's files: a FILE argument (or stdin) as a `Source`.

Formulas, --set-json files and golden files are all read here, with the
same limit and the same refusal of devices that would never end.
"""

from __future__ import annotations

import os
import stat
import sys

from .errors import ExprError, Source, Span, display_path

READ_LIMIT = 1 << 30  # bytes of a formula or JSON file read at most


class InlineText(str):
    """A program given on the command line (-e TEXT) where a FILE would be:
    the string is the name messages show (`<expr>`), `text` the program.
    Being a string, it goes wherever a FILE's path goes."""

    text: str

    def __new__(cls, text: str, label: str = "<expr>"):
        self = super().__new__(cls, label)
        self.text = text
        return self


def read_source(path: str) -> Source:
    """The text of `path` (``-`` for stdin; an `InlineText` is its own
    text) as a `Source`, or an `ExprError`."""
    if isinstance(path, InlineText):
        try:
            path.text.encode("utf-8")
        except UnicodeEncodeError:
            # Python keeps argument bytes that are not UTF-8 as lone
            # surrogates; turned back into bytes, they get a file's diagnostic.
            data = path.text.encode("utf-8", errors="surrogateescape")
            return source_of(data, str(path), "the text")
        return Source(str(path), path.text)
    label = "<stdin>" if path == "-" else display_path(path)
    try:
        if path == "-":
            if sys.stdin is None:
                raise ExprError("cannot read standard input: it is closed")
            try:
                fd = sys.stdin.buffer.fileno()
            except (OSError, ValueError):  # not a real stream (a test's, say)
                data = sys.stdin.buffer.read()
            else:
                data = read_capped(fd, "standard input")
        else:
            fd = os.open(path, os.O_RDONLY)
            try:
                data = read_capped(fd, "the file")
            finally:
                os.close(fd)
    except OSError as e:
        raise ExprError(f"cannot read the file: {e.strerror or e}") from None
    return source_of(data, label)


def source_of(data: bytes, label: str, what: str = "the file") -> Source:
    """`data`, UTF-8 with or without a BOM, as a `Source` shown as `label`;
    an `ExprError` at the first byte that is not UTF-8 (`what` names it)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        text = data.decode("utf-8-sig", errors="replace")
        prefix = data[: e.start].decode("utf-8-sig", errors="replace")
        source = Source(label, text)
        raise ExprError(
            f"{what} is not valid UTF-8 (byte 0x{data[e.start]:02x})",
            Span.at(source, len(prefix)),
        ) from None
    return Source(label, text)


def null_device() -> int:
    """The device number of the null device, or -1: reading it is allowed
    (it ends at once), unlike other character devices."""
    try:
        return os.stat(os.devnull).st_rdev
    except OSError:
        return -1


def read_capped(fd: int, what: str) -> bytes:
    """The bytes behind `fd`: a regular file, a pipe or a terminal, up to
    READ_LIMIT.  Devices such as /dev/zero would never end, and are
    refused."""
    info = os.fstat(fd)
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise ExprError(f"cannot read {what}: it is a directory")
    if stat.S_ISCHR(mode) and not os.isatty(fd) and info.st_rdev != null_device():
        raise ExprError(f"cannot read {what}: it is a device, not a file")
    if stat.S_ISBLK(mode):
        raise ExprError(f"cannot read {what}: it is a device, not a file")
    if stat.S_ISREG(mode) and info.st_size > READ_LIMIT:
        raise ExprError(
            f"{what} is {info.st_size:,} bytes, over the {READ_LIMIT:,} bytes autograd-cli reads"
        )
    chunks, total = [], 0
    while True:
        chunk = os.read(fd, min(1 << 24, READ_LIMIT + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > READ_LIMIT:
            raise ExprError(f"{what} goes on past the {READ_LIMIT:,} bytes autograd-cli reads")
    return b"".join(chunks)
