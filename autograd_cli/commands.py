"""What the commands do, apart from how their arguments are parsed.

Errors in the user's input (`ExprError`) become ``file:line:col: error:``
diagnostics on stderr here, and nowhere else; anything unexpected is a bug:
one line, exit 70 (the traceback only with AUTOGRAD_CLI_DEBUG=1).  Nothing
here imports Typer or Rich unless a table is printed, so a plain `eval`
starts fast (see launch.py).
"""

from __future__ import annotations

import os
import sys
import time

EXIT_OK = 0
EXIT_INPUT = 1
EXIT_INTERNAL = 70
FORMATS = ("table", "json")
DTYPES = ("float64", "float32")
DEFAULT_MAX_ELEMENTS = 10**8


class _Failed(Exception):
    """An input error that has already been reported."""


class _Stop(Exception):
    """Stop at once with an exit code (the reader of stdout went away)."""

    def __init__(self, code):
        self.code = code


def read_source(path: str):
    """The text of `path` (``-`` for stdin) as a `Source`, or an `ExprError`."""
    from .errors import ExprError, Source, Span

    label = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as f:
                data = f.read()
    except OSError as e:
        raise ExprError(f"cannot read the file: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        text = data.decode("utf-8-sig", errors="replace")
        prefix = data[:e.start].decode("utf-8-sig", errors="replace")
        source = Source(label, text)
        raise ExprError(f"the file is not valid UTF-8 (byte 0x{data[e.start]:02x})",
                        Span.at(source, len(prefix))) from None
    return Source(label, text)


def bad_set(item: str) -> bool:
    """Whether a --set argument is not of the form NAME=VALUE."""
    name, eq, _ = item.partition("=")
    return not eq or not name.strip()


def parse_sets(sets):
    """--set NAME=VALUE arguments as (name, Source) pairs."""
    from .errors import Source

    return [(item.partition("=")[0].strip(), Source("--set", item)) for item in sets]


def _report_error(err, fallback):
    from .errors import print_diagnostic

    print_diagnostic("error", err.message, err.span, fallback, err.notes)


def _warn(report):
    from .errors import print_diagnostic

    for w in report.warnings:
        print_diagnostic("warning", w.message, w.span, report.model.source.name)


def internal_error(exc: BaseException) -> int:
    if os.environ.get("AUTOGRAD_CLI_DEBUG") == "1":
        import traceback
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    sys.stderr.write(
        f"autograd-cli: internal error ({type(exc).__name__}: {exc}); this is a bug, "
        "please report it with the input that caused it "
        "(set AUTOGRAD_CLI_DEBUG=1 for the traceback)\n")
    return EXIT_INTERNAL


def _write(text: str):
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise _Stop(EXIT_OK) from None


def _console():
    from rich.console import Console

    width = None
    if not sys.stdout.isatty() and not os.environ.get("COLUMNS"):
        width = 200
    return Console(file=sys.stdout, width=width, highlight=False)


def eval_files(files, *, of=None, wrt=(), sets=(), format="table", dtype="float64",
               strict=False, max_elements=DEFAULT_MAX_ELEMENTS, timings=False) -> int:
    """`autograd-cli eval`: evaluate each file and report; the exit code."""
    try:
        if timings:
            from . import program, render  # noqa: F401  (imports count as start-up)
            startup = startup_seconds()
        parsed_sets = parse_sets(sets)
        failed = False
        for path in files:
            phases = {} if timings else None
            try:
                _eval_one(path, of=of, wrt=wrt, sets=parsed_sets, format=format,
                          dtype=dtype, strict=strict, max_elements=max_elements,
                          jsonl=len(files) > 1, timings=phases)
            except _Failed:
                failed = True
            if timings:
                _print_timings(path, phases, startup)
                startup = None  # once per process
    except _Stop as stop:
        return stop.code
    except Exception as exc:  # a bug: never a traceback for the user
        return internal_error(exc)
    return EXIT_INPUT if failed else EXIT_OK


def _eval_one(path, *, of, wrt, sets, format, dtype, strict, max_elements, jsonl, timings):
    from .errors import ExprError
    from .program import load, run

    label = "<stdin>" if path == "-" else path
    try:
        source = read_source(path)
        model = load(source, dtype=dtype, sets=sets, max_elements=max_elements,
                     timings=timings)
        report = run(model, of, timings=timings)
        selected = None
        if wrt:
            for name in wrt:
                model.binding(name, "--wrt")
            selected = set(wrt)
        if strict and report.warnings:
            w = report.warnings[0]
            raise ExprError(w.message + " (--strict)", w.span)
    except ExprError as err:
        _report_error(err, label)
        raise _Failed() from None
    _warn(report)
    start = time.perf_counter()
    if format == "json":
        from .render import report_dict, to_json

        _write(to_json(report_dict(report, path, selected), compact=jsonl) + "\n")
    else:
        from .render import render_table

        try:
            render_table(report, label, selected, _console())
        except BrokenPipeError:
            _write("")
    if timings is not None:
        timings["render"] = time.perf_counter() - start


def startup_seconds():
    """Seconds from the start of this process to now, to the kernel's clock
    tick (10 ms); None where /proc is not there."""
    try:
        with open("/proc/self/stat") as f:
            started = int(f.read().rpartition(")")[2].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - started / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


_PHASES = [("start-up", "the interpreter and the imports"), ("parse", "text to statements"),
           ("check", "names, shapes, sizes, constants"), ("evaluate", "the forward pass"),
           ("backward", "the reverse sweep"), ("render", "the table or the JSON")]


def _print_timings(path, phases, startup):
    phases = dict(phases)
    if startup is not None:
        phases["start-up"] = startup
    lines = [f"timings for {'<stdin>' if path == '-' else path}:"]
    for phase, what in _PHASES:
        if phase in phases:
            lines.append(f"  {phase:<9} {phases[phase] * 1e3:10.3f} ms  ({what})")
    total = sum(phases.values())
    lines.append(f"  {'total':<9} {total * 1e3:10.3f} ms")
    sys.stderr.write("\n".join(lines) + "\n")
