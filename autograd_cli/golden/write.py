"""Writing what `autograd-cli test` leaves behind: golden files, atomically,
and the JUnit XML report, never through a link planted where it goes
(`write_report`)."""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile

from ..sources import file_kind
from .files import link_text


def write_atomically(path: str, text: str):
    """Write `text` to `path` through a temporary file in the same directory
    and a rename: readers see the old file or the new one, never half of
    one.  The file keeps its permissions (a new one gets the umask's)."""
    directory = os.path.dirname(path) or "."
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(
        dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _own_stream(info):
    """1 or 2 when `info` (an `os.stat` result) is of what our stdout or
    stderr writes to (a pipe, a terminal, a file); else None."""
    for fd in (1, 2):
        try:
            mine = os.fstat(fd)
        except OSError:
            continue
        if (mine.st_dev, mine.st_ino) == (info.st_dev, info.st_ino):
            return fd
    return None


def _speakable_device(rdev: int) -> bool:
    """Whether a report may go to the character device `rdev`: the null
    device or the controlling terminal.  Any other device (a disk,
    /dev/full, a watchdog that reboots the machine when closed) is refused
    without being opened."""
    for name in (os.devnull, "/dev/tty"):
        try:
            if os.stat(name).st_rdev == rdev:
                return True
        except OSError:
            pass
    return False


def write_report(path: str, text: str):
    """Write a report (the JUnit XML file) to `path`; an `OSError` saying why
    it cannot be.

    A regular file, or a new one, is written atomically (`write_atomically`).
    A FIFO, the terminal, /dev/null, and our own stdout or stderr (named as
    /dev/stdout, /dev/fd/1, or a link to them) are written in place, as
    `> FILE` would write them: they cannot be replaced, and writing to them is
    what was asked.  Anything else is refused: a device, a directory, a
    socket, a link that leads nowhere, and a link to a regular file, which a
    checkout may have put where the report goes to have it overwrite another
    file (``report.xml -> ~/.bashrc``).  A link is never replaced."""
    try:
        own = os.lstat(path)
    except FileNotFoundError:
        own = None
    if own is None or stat.S_ISREG(own.st_mode):
        write_atomically(path, text)
        return
    link = stat.S_ISLNK(own.st_mode)
    try:
        info = os.stat(path) if link else own
    except OSError as e:
        raise OSError(e.errno, f"it is a link to {link_text(path)}: {e.strerror or e}") from None
    mode = info.st_mode
    data = text.encode("utf-8")
    own_fd = _own_stream(info)
    if own_fd is not None:
        sys.stdout.flush()  # what `test` printed comes first
        _write_all(own_fd, data)
        return
    if stat.S_ISREG(mode):
        raise OSError(
            errno.EINVAL,
            f"it is a link to {link_text(path)}, "
            "and reports are not written through links to files "
            "(name the file itself)",
        )
    if not (stat.S_ISFIFO(mode) or (stat.S_ISCHR(mode) and _speakable_device(info.st_rdev))):
        raise OSError(
            errno.EINVAL,
            f"it is {file_kind(mode)}: a report goes to a regular file, "
            "a FIFO, the terminal or /dev/null",
        )
    # A FIFO's open waits for its reader, as `> FIFO` does.
    fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        now = os.fstat(fd)
        if stat.S_IFMT(now.st_mode) != stat.S_IFMT(mode) or now.st_rdev != info.st_rdev:
            raise OSError(errno.EINVAL, "it changed while it was being opened")
        _write_all(fd, data)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
