"""Reading the user's files: a FILE argument (or stdin) as a `Source`.

Formulas, --set-json files and golden files are all read here, with the
same limit and the same refusal of devices that would never end; and where
a file's `load` calls may read data (`Access`), which only regular files.
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


def refuse_unending(fd: int, what: str) -> os.stat_result:
    """`fd`'s `os.stat_result`, or an `ExprError` if it is a directory or a
    device other than a terminal or the null device (/dev/zero would never
    end)."""
    info = os.fstat(fd)
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise ExprError(f"cannot read {what}: it is a directory")
    if stat.S_ISCHR(mode) and not os.isatty(fd) and info.st_rdev != null_device():
        raise ExprError(f"cannot read {what}: it is a device, not a file")
    if stat.S_ISBLK(mode):
        raise ExprError(f"cannot read {what}: it is a device, not a file")
    return info


def read_capped(fd: int, what: str) -> bytes:
    """The bytes behind `fd`: a regular file, a pipe or a terminal, up to
    READ_LIMIT.  Devices such as /dev/zero would never end, and are
    refused."""
    info = refuse_unending(fd, what)
    if stat.S_ISREG(info.st_mode) and info.st_size > READ_LIMIT:
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


_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NOFOLLOW", 0)
)


class Access:
    """Where a file's `load` calls may read: under `base` (the directory of
    the .expr file; the current directory for stdin and -e) and under each
    of `allowed` (--allow-read).  `shown` is `base` as messages and data
    files' names show it (the directory as the command line gave it)."""

    def __init__(self, base: str | None = None, allowed=(), shown: str = ""):
        self.base = base
        self.allowed = list(allowed)
        self.shown = shown
        self.read: list[str] = []  # the real paths `load` read through this access

    @classmethod
    def of_file(cls, path: str | None, allowed=()) -> Access:
        """The access of the .expr file at `path` (None, "-" or an inline
        program: the current directory)."""
        if path is None or path == "-" or type(path) is not str:
            return cls(None, allowed)
        return cls(os.path.dirname(path) or None, allowed, os.path.dirname(path))

    def label(self, name: str) -> str:
        """How messages show the data file `name` (as written in `load`)."""
        if self.shown and not os.path.isabs(name):
            name = os.path.normpath(os.path.join(self.shown, name))
        return display_path(name)

    def resolve(self, name: str) -> str:
        """The real path of the data file `name`, if `load` may read it;
        else a `ValueError` saying why."""
        if not name:
            raise ValueError("load() needs the name of a file, not an empty string")
        if "\0" in name:
            raise ValueError("a file name cannot hold a NUL character")
        try:
            base = os.path.realpath(self.base or os.getcwd())
        except OSError as e:
            raise ValueError(f"cannot find the current directory: {e.strerror or e}") from None
        real = os.path.realpath(os.path.join(base, name))
        if inside(real, base):
            return real
        for d in self.allowed:
            if inside(real, os.path.realpath(d)):
                return real
        where = display_path(self.shown or ".") if self.base else "the current directory"
        raise ValueError(
            f"'{display_path(name)}' leads outside {where} (to {display_path(real)}): a file "
            "reads only data under its own directory; --allow-read DIR lets it read under DIR"
        )


def inside(real: str, tree: str) -> bool:
    """Whether the real path `real` is `tree` or lies under it."""
    return real == tree or real.startswith(tree.rstrip(os.sep) + os.sep)


def file_kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular(real: str):
    """A descriptor open on the regular file `real`, and its `os.stat_result`;
    a `ValueError` for anything else, which is never opened if it is a
    device (opening some has effects); the open cannot block."""
    mode = os.stat(real).st_mode
    if not stat.S_ISREG(mode):
        raise ValueError(f"it is {file_kind(mode)}, not a regular file")
    fd = os.open(real, _OPEN_FLAGS)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise ValueError(f"it is {file_kind(info.st_mode)}, not a regular file")
    return fd, info


def read_bytes(real: str, limit: int | None = None) -> bytes:
    """The bytes of the regular file `real`, at most `limit` of them; an
    `OSError` or a `ValueError` saying why not.  A device or a FIFO is
    never read (a device is not even opened: opening some has effects), and
    the open cannot block, so a FIFO swapped in cannot hang it."""
    limit = READ_LIMIT if limit is None else limit
    fd, info = open_regular(real)
    try:
        if info.st_size > limit:
            raise ValueError(f"it is {info.st_size:,} bytes, over the {limit:,} bytes read at most")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 24, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew while being read
                raise ValueError(f"it goes on past the {limit:,} bytes read at most")
    finally:
        os.close(fd)
    return b"".join(chunks)
