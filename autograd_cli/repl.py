"""`autograd-cli repl`: a session of bindings, one line at a time.

Each line adds one binding or several (separated by `;`) to the session;
the session is then compiled whole, as a file would be, and the new
bindings' values are printed, with the gradients of the newest binding with
respect to the params so far (or the inputs, where there is no param).
The session's text keeps one line per line read (blank where a line was
not kept), so that an error is located as `<repl>:N:COL`, N counting the
lines read.  A line that fails leaves the session as it was.

On a terminal: a prompt, line editing and history through `readline`
where the platform has it (the history file's failures are ignored); Ctrl-C
drops the line being typed and Ctrl-D leaves, as in Python's REPL.  With
stdin not a terminal: no prompt or banner, and the exit code is 1 if any
line failed, as for a file.
"""

from __future__ import annotations

import os
import sys

from . import __version__
from .errors import ExprError, Source, Span, display_path, print_diagnostic
from .options import DEFAULT_MAX_ELEMENTS
from .streams import EXIT_INPUT, EXIT_OK, Stop, internal_error, is_terminal, write_output

NAME = "<repl>"
PROMPT = ">>> "
HISTORY_LENGTH = 1000

HELP = """\
Each line binds a name, as in a file: `param w = [1, 2]`, `x = 3`,
`y = sum(w * x) ** 2`; several on one line are separated by `;`. The new
values are printed, and the gradients of the newest binding with respect
to every param so far (or every input, where there is no param).
Commands:
  :help              this text
  :show              the session so far, as a file
  :undo              forget the last line kept
  :reset             forget every binding
  :functions [NAME]  the functions and operators (or one of them)
  :quit              leave (Ctrl-D too)"""


class LineSource(Source):
    """One line of the session, as the `Source` it is parsed from: its
    positions are those of line `number` of the session, so that an error
    gives the line number read."""

    __slots__ = ("number",)

    def __init__(self, text: str, number: int):
        super().__init__(NAME, text)
        self.number = number

    def line(self, lineno: int) -> str:
        return super().line(lineno - self.number + 1)

    def position(self, offset: int) -> tuple[int, int]:
        line, column = super().position(offset)
        return line + self.number - 1, column


class Session:
    """The bindings so far, as the lines of a program: `lines` has one entry
    per line read, the line's text where it was kept, else ""."""

    def __init__(self, dtype: str = "float64", max_elements: int = DEFAULT_MAX_ELEMENTS):
        self.dtype = dtype
        self.max_elements = max_elements
        self.lines: list[str] = []
        # Per line read, the statements it holds if it was kept: a line is
        # parsed once, and the session compiled from its statements.
        self.statements: list[list] = []
        self.failed = False

    def text(self) -> str:
        """The kept lines, as a file would hold them."""
        return "".join(line + "\n" for line in self.lines if line)

    def enter(self, line: str) -> str:
        """Take one line read: a binding (or several), a `:command`, a
        comment or nothing.  Returns what to print on stdout; an error is
        reported on stderr (`failed` is then set) and the line is not kept."""
        self.lines.append("")
        self.statements.append([])
        number = len(self.lines)
        stripped = line.strip()
        if stripped.startswith(":"):
            return self.command(stripped, number)
        if not stripped or stripped.startswith("#"):
            return ""
        source = LineSource(line, number)
        try:
            line.encode("utf-8")
        except UnicodeEncodeError as e:
            # bytes that are not UTF-8, kept as lone surrogates: refused as
            # a file's are, at the first of them
            self.failed = True
            code = ord(line[e.start])
            byte = f" (byte 0x{code - 0xDC00:02x})" if 0xDC80 <= code <= 0xDCFF else ""
            print_diagnostic(
                "error", f"the line is not valid UTF-8{byte}", Span.at(source, e.start), NAME
            )
            return ""
        try:
            shown, statements = self.evaluate(source)
        except ExprError as err:
            self.failed = True
            print_diagnostic("error", err.message, err.span, NAME, err.notes)
            return ""
        self.lines[-1] = line
        self.statements[-1] = statements
        return shown

    def evaluate(self, source: Source) -> tuple[str, list]:
        """The session with the new line (`source`) compiled and run: the
        new bindings' values and the newest one's gradients, as text, and
        the line's statements."""
        import numpy as np

        from .compiler import Compiler
        from .parser import parse
        from .process import gc_paused

        with gc_paused():
            fresh = parse(source)
        if not fresh:
            return "", fresh
        statements = [s for kept in self.statements for s in kept] + fresh
        with np.errstate(all="ignore"), gc_paused():
            model = Compiler(source, self.dtype, self.max_elements).compile(statements)
        return self.answer(model, model.bindings[-len(fresh) :]), fresh

    def answer(self, model, new) -> str:
        """What to print for the `new` bindings of `model`."""
        import numpy as np

        from .running import run

        newest = model.bindings[-1]
        if int(np.prod(model.shapes[newest.node])) == 1:
            report = run(model)
            for w in report.warnings:
                print_diagnostic("warning", w.message, w.span, NAME)
            values, grads = report.values, report.grads
        else:
            from .engine import evaluate

            with np.errstate(all="ignore"):
                computed = evaluate(model.graph)
            values = {b.name: np.asarray(computed[b.node]) for b in model.bindings}
            grads = None
        out = [_assignment(b.name, values[b.name]) for b in new]
        if newest.kind != "node":
            return "\n".join(out) + "\n"
        if grads is None:
            shape = model.shapes[newest.node]
            out.append(
                f"  (no gradient: '{newest.name}' has shape {_shape(shape)}; "
                f"a gradient needs one element, as sum({newest.name}))"
            )
            return "\n".join(out) + "\n"
        leaves = [b for b in model.bindings if b.kind == "param"] or [
            b for b in model.bindings if b.kind == "input"
        ]
        for b in leaves:
            out.append(_assignment(f"  ∂{newest.name}/∂{b.name}", grads[b.name]))
        return "\n".join(out) + "\n"

    def command(self, text: str, number: int) -> str:
        """Run a `:command`; what to print."""
        word, _, rest = text[1:].partition(" ")
        rest = rest.strip()
        if word in ("quit", "q", "exit"):
            raise EOFError
        if word in ("help", "h", "?"):
            return HELP + "\n"
        if word == "show":
            return self.text()
        if word == "reset":
            self.lines = [""] * len(self.lines)
            self.statements = [[] for _ in self.lines]
            return ""
        if word == "undo":
            kept = [i for i, line in enumerate(self.lines) if line]
            if kept:
                self.lines[kept[-1]] = ""
                self.statements[kept[-1]] = []
            return ""
        if word == "functions":
            try:
                return _functions(rest or None)
            except ExprError as err:  # an unknown name: an error, as `functions NAME` says it
                self.failed = True
                print_diagnostic("error", err.message, None, f"{NAME}:{number}")
                return ""
        self.failed = True
        known = ["help", "show", "undo", "reset", "functions", "quit"]
        from .model import suggest

        print_diagnostic(
            "error",
            f"unknown command ':{display_path(word)}'{suggest(word, known)}; :help lists them",
            None,
            f"{NAME}:{number}",
        )
        return ""


def _shape(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + (",)" if len(shape) == 1 else ")")


def _assignment(name: str, value) -> str:
    """`name = value`, a tensor's shape after it, its further lines
    indented under the first."""
    import numpy as np

    from .render import fmt_tensor

    value = np.asarray(value)
    text = fmt_tensor(value)
    pad = "\n" + " " * (len(name) + 3)
    text = text.replace("\n", pad)
    if value.ndim:
        text += f"  {_shape(value.shape)}"
    return f"{name} = {text}"


def _functions(name) -> str:
    """The `functions` catalog (or one entry) as text, for `:functions`;
    an `ExprError` for a name that is neither a function nor an operator."""
    import io

    from rich.console import Console

    from .catalog import lookup, render_catalog
    from .model import function_hint

    if name is None:
        from .catalog import catalog

        doc = catalog()
    else:
        doc = lookup(name)
        if doc is None:
            from .functions import FUNCTIONS

            hint = function_hint(name, FUNCTIONS)
            raise ExprError(f"there is no function or operator named '{display_path(name)}'{hint}")
    buffer = io.StringIO()
    width = None if sys.stdout.isatty() else 100
    console = Console(file=buffer, width=width, highlight=False, markup=False, emoji=False)
    render_catalog(doc, console, footer=False)
    return buffer.getvalue()


def history_path() -> str:
    """Where the history of terminal sessions is kept: under
    $XDG_STATE_HOME, else ~/.local/state."""
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(state, "autograd-cli", "history")


def _start_history():
    """Line editing and history through `readline`, where it exists: the
    readline module, or None.  The history file is a convenience: a failure
    to read it is ignored."""
    try:
        import readline
    except ImportError:
        return None
    readline.set_history_length(HISTORY_LENGTH)
    path = history_path()
    if _history_is_a_file(path):
        try:
            readline.read_history_file(path)
        except (OSError, ValueError):
            pass
    return readline


def _history_is_a_file(path: str) -> bool:
    """Whether the history at `path` may be read and written: missing, or a
    regular file (links followed) of at most READ_LIMIT bytes.  readline
    would wait forever on a FIFO, and read or write a device."""
    import stat

    from .sources import READ_LIMIT

    try:
        info = os.stat(path)
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size <= READ_LIMIT


def _save_history(readline) -> None:
    """Write the history file; a failure (a read-only home) is ignored, as
    the history is a convenience, and anything but a regular file is left
    alone."""
    if readline is None:
        return
    path = history_path()
    if not _history_is_a_file(path):
        return
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        readline.write_history_file(path)
    except (OSError, ValueError):
        pass


def _read_line(interactive: bool) -> str:
    """The next line of stdin, without its end; EOFError at the end."""
    if interactive:
        if is_terminal(sys.stdout):
            return input(PROMPT)
        sys.stderr.write(PROMPT)
        sys.stderr.flush()
        return input()
    from .sources import READ_LIMIT

    data = sys.stdin.buffer.readline(READ_LIMIT + 1)
    if not data:
        raise EOFError
    # A line of READ_LIMIT bytes is read whole, its newline after them.
    if len(data) > READ_LIMIT and not data.endswith(b"\n"):
        raise ExprError(f"a line goes on past the {READ_LIMIT:,} bytes autograd-cli reads")
    return data.decode("utf-8", errors="surrogateescape").rstrip("\r\n")


def run(dtype: str = "float64", max_elements: int = DEFAULT_MAX_ELEMENTS) -> int:
    """Run a session on stdin; the exit code."""
    if sys.stdin is None:
        sys.stderr.write("autograd-cli: error: cannot read standard input: it is closed\n")
        return EXIT_INPUT
    interactive = is_terminal(sys.stdin)
    if not interactive:
        from .sources import refuse_unending

        try:
            refuse_unending(sys.stdin.fileno(), "standard input")
        except ExprError as e:
            sys.stderr.write(f"autograd-cli: error: {e.message}\n")
            return EXIT_INPUT
        except (OSError, ValueError, AttributeError):  # not a real stream (a test's)
            pass
    session = Session(dtype, max_elements)
    readline = _start_history() if interactive else None
    if interactive:
        sys.stderr.write(
            f"autograd-cli {__version__} repl ({dtype}): bind names as in a file; "
            ":help for more, Ctrl-D to leave\n"
        )
    try:
        while True:
            try:
                line = _read_line(interactive)
            except ExprError as e:  # a line too long to hold: the rest is not read
                sys.stderr.write(f"{NAME}:{len(session.lines) + 1}: error: {e.message}\n")
                session.failed = True
                break
            except EOFError:
                if interactive:
                    sys.stderr.write("\n")
                break
            except KeyboardInterrupt:
                if not interactive:
                    raise
                sys.stderr.write("\nKeyboardInterrupt\n")
                continue
            try:
                shown = session.enter(line)
            except EOFError:  # :quit
                break
            except KeyboardInterrupt:
                if not interactive:
                    raise
                session.lines[-1] = ""
                sys.stderr.write("\nKeyboardInterrupt\n")
                continue
            except MemoryError as exc:
                session.failed = True
                sys.stderr.write(
                    f"autograd-cli: error: ran out of memory ({exc}); --max-elements "
                    "limits each array's size\n"
                )
                continue
            if shown:
                write_output(shown)
    except Stop as stop:
        return stop.code
    except Exception as exc:  # a bug: never a traceback for the user
        return internal_error(exc)
    finally:
        _save_history(readline)
    return EXIT_INPUT if session.failed and not interactive else EXIT_OK
