"""The process's standard streams, made safe before anything is written,
and the exit codes a run ends with.

A CI job may run the tool with a stream closed, on a console whose encoding
cannot show `∂`, or with output going to a full disk.  None of that is a bug
of ours: closed streams are held open on the null device (so that no file we
open later takes their number), characters an encoding lacks are spelled in
what it has, and a failed write becomes one line and exit 74 (EX_IOERR).
"""

from __future__ import annotations

import codecs
import errno
import io
import os
import sys

EXIT_OK = 0
EXIT_INPUT = 1  # an error in the input, reported as a diagnostic
EXIT_INTERNAL = 70  # sysexits.h's EX_SOFTWARE: a bug of ours
EXIT_IO = 74  # sysexits.h's EX_IOERR: an output could not be written

# What people read when their console cannot show a character.
_SPELLED = {
    "\u2202": "d",
    "\u2212": "-",
    "\u00b7": "*",
    "\u00d7": "x",
    "\u2026": "...",
    "\u2192": "->",
    "\u2190": "<-",
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2260": "!=",
    "\u2248": "~",
    "\u2211": "sum",
    "\u221a": "sqrt",
    "\u03c0": "pi",
    "\u00b2": "^2",
    "\u2070": "^0",
    "\u00b9": "^1",
    "\u00b3": "^3",
    "\u2074": "^4",
    "\u2075": "^5",
    "\u2076": "^6",
    "\u2077": "^7",
    "\u2078": "^8",
    "\u2079": "^9",
    "\u207b": "^-",
    "\u1d40": "^T",
    "\u2500": "-",
    "\u2501": "-",
    "\u2502": "|",
    "\u2503": "|",
    "\u250c": "+",
    "\u2510": "+",
    "\u2514": "`",
    "\u2518": "+",
    "\u251c": "|",
    "\u2524": "|",
    "\u252c": "+",
    "\u2534": "+",
    "\u253c": "+",
    "\u2570": "`",
    "\u256d": "+",
    "\u2022": "*",
    "\u2713": "ok",
    "\u2717": "x",
    "\ufffd": "?",
}


def _spell(err: UnicodeEncodeError):
    """Codec error handler for people's text: an ASCII spelling, else '?'."""
    text = err.object[err.start : err.end]
    return "".join(_SPELLED.get(c, "?") for c in text), err.end


def _escape(err: UnicodeEncodeError):
    """Codec error handler for JSON, where the characters an encoding lacks
    can only stand inside strings: a \\u escape (U+FFFD for a lone surrogate,
    as a file name that is not UTF-8 gives)."""
    out = []
    for c in err.object[err.start : err.end]:
        code = ord(c)
        if 0xD800 <= code <= 0xDFFF:
            out.append("\\ufffd")
        elif code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out), err.end


codecs.register_error("autograd-cli-spell", _spell)


def spelled(text: str) -> str:
    """`text` as stdout will show it: the characters its encoding lacks
    spelled now, so that Rich measures the text a table really holds (a
    `²` spelled `^2` as it is written would push the border out)."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode(encoding, errors="autograd-cli-spell").decode(encoding)
    except LookupError:
        pass
    return text


codecs.register_error("autograd-cli-json", _escape)


class _Closed(io.TextIOBase):
    """Standard output when the process was started with it closed: every
    write fails as writing to a closed descriptor does."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self, fd):
        self._fd = fd

    def write(self, text):
        raise OSError(errno.EBADF, "standard output is closed")

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        return self._fd

    def flush(self):
        pass


class _LostIfUnwritable(io.RawIOBase):
    """Standard error's descriptor, for diagnostics: a write that fails (a
    full disk, a terminal that went away) is dropped, not raised, so that
    losing the diagnostics never changes what the run does or its exit
    code."""

    def __init__(self, fd):
        self._fd = fd

    def writable(self):
        return True

    def fileno(self):
        return self._fd

    def isatty(self):
        try:
            return os.isatty(self._fd)
        except OSError:
            return False

    def write(self, data):
        view = memoryview(data).cast("B")
        size = len(view)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError:
            pass
        return size


MAX_COLUMNS = 1000  # wider than any screen; Rich lays text out in memory at this width


def prepare():
    """Hold closed standard streams open on the null device, let stdout and
    stderr spell what their encoding lacks instead of raising, let a failed
    write of stderr lose the diagnostics rather than stop the run, and keep a
    COLUMNS of millions (Rich would lay out help that wide) to a screen's."""
    columns = os.environ.get("COLUMNS")
    if columns is not None:
        try:
            wide = int(columns) > MAX_COLUMNS
        except ValueError:
            wide = False
        if wide:
            os.environ["COLUMNS"] = str(MAX_COLUMNS)
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        if getattr(sys, name) is not None:
            continue
        try:
            os.fstat(fd)
        except OSError:
            held = os.open(os.devnull, os.O_RDWR)
            if held != fd:  # a lower descriptor was free: keep it all as it was
                os.close(held)
                continue
        if name == "stdout":
            sys.stdout = _Closed(fd)
        elif name == "stderr":
            sys.stderr = open(fd, "w", encoding="utf-8", closefd=False)
        # stdin stays None: reading it is an error the reader reports.
    err = sys.stderr
    if isinstance(err, io.TextIOWrapper):
        try:
            sys.stderr = io.TextIOWrapper(
                _LostIfUnwritable(err.fileno()),
                encoding=err.encoding,
                line_buffering=True,
                write_through=True,
            )
        except (OSError, ValueError):
            pass
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            try:
                stream.reconfigure(errors="autograd-cli-spell")
            except (ValueError, OSError):
                pass


def is_terminal(stream) -> bool:
    """Whether `stream` is a terminal; False for None, a closed stream or
    one that cannot say (prompts and progress bars are shown only there)."""
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def write_json(text: str):
    """Write JSON text to stdout whatever its encoding: characters it lacks
    are escaped as JSON escapes them."""
    stream = sys.stdout
    if isinstance(stream, io.TextIOWrapper) and stream.errors != "autograd-cli-json":
        kept = stream.errors
        stream.flush()
        stream.reconfigure(errors="autograd-cli-json")
        try:
            stream.write(text)
            stream.flush()
        finally:
            stream.reconfigure(errors=kept)
    else:
        stream.write(text)
        stream.flush()


def output_failed(error: OSError) -> int:
    """Say that stdout could not be written, and why; the exit code.  Later
    writes (and the final flush) go to the null device."""
    reason = error.strerror or str(error)
    try:
        sys.stderr.write(f"autograd-cli: error: cannot write the output: {reason}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
    return EXIT_IO


class Stop(Exception):
    """Stop at once with an exit code (the reader of stdout went away, or
    writing it failed)."""

    def __init__(self, code):
        self.code = code


def write_output(text: str, json: bool = False):
    """Write to stdout (JSON escaped as the stream's encoding needs); a
    reader that went away stops the command quietly, a failed write with
    exit 74 (both by raising `Stop`)."""
    try:
        if json:
            write_json(text)
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise Stop(EXIT_OK) from None
    except OSError as e:
        raise Stop(output_failed(e)) from None


def internal_error(exc: BaseException) -> int:
    """Report an unexpected exception, a bug, in one line (the traceback
    only with AUTOGRAD_CLI_DEBUG=1); the exit code."""
    if os.environ.get("AUTOGRAD_CLI_DEBUG") == "1":
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    sys.stderr.write(
        f"autograd-cli: internal error ({type(exc).__name__}: {exc}); this is a bug, "
        "please report it with the input that caused it "
        "(set AUTOGRAD_CLI_DEBUG=1 for the traceback)\n"
    )
    return EXIT_INTERNAL
