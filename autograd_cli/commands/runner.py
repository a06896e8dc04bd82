"""What every command shares, apart from how its arguments are parsed.

A command is its computation on one file and its renderer (a `Command`);
`run` does the rest for every command: reads the --set-json files, then
each FILE, and reports.  Errors in the user's input (`ExprError`) become
``file:line:col: error:`` diagnostics on stderr here, and nowhere else;
anything unexpected is a bug: one line, exit 70 (the traceback only with
AUTOGRAD_CLI_DEBUG=1).  Nothing here imports Typer, or Rich unless a table
is printed, so a plain `eval` starts fast (see process.py).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time

from ..errors import ExprError, Source, Span, display_path, print_diagnostic
from ..options import DEFAULT_MAX_ELEMENTS, Options, stdin_conflict
from ..process import collector_off, keep, startup_seconds
from ..sources import Access, read_source
from ..streams import EXIT_INPUT, EXIT_OK, Stop, internal_error, output_failed, write_output


class _Failed(Exception):
    """An input error that has already been reported."""


def parse_sets(sets):
    """--set NAME=VALUE arguments as (name, Source) pairs."""
    return [(item.partition("=")[0].strip(), Source("--set", item)) for item in sets]


def at_path(text):
    """For a --set NAME=@PATH argument `text`: the offset of its '@' and the
    PATH; None for a --set of a value."""
    eq = text.find("=") + 1
    if not eq:
        return None
    at = eq + len(text[eq:]) - len(text[eq:].lstrip())
    return (at, text[at + 1 :].strip()) if text[at : at + 1] == "@" else None


def read_at_sets(sets, max_elements):
    """`sets` from `parse_sets` with each --set NAME=@PATH's file read: its
    Source becomes a `GivenValue` of the array in the file."""
    out = []
    for name, source in sets:
        text = source.text
        found = at_path(text)
        if found is None:
            out.append((name, source))
            continue
        at, path = found
        from ..datafiles import load_given
        from ..jsonin import GivenValue

        span = Span(source, at, len(text))
        array = load_given(path, max_elements, span)
        out.append((name, GivenValue(name, array, Span(source, 0, max(1, text.index("="))), span)))
    return out


class Given:
    """The values the command line gives for bindings: --set, --set-json and
    --any-shape.  The JSON files are read once, before the first FILE (the
    same values go to every file)."""

    def __init__(self, sets=(), set_json=(), any_shape=False, max_elements=None):
        self.sets = parse_sets(sets)
        self.max_elements = max_elements
        self.set_json = list(set_json)
        self.any_shape = any_shape
        self.values = []
        self.names_in = {}  # --set-json file -> the names it gives values to

    def read(self):
        """Read the files of --set NAME=@PATH, then the --set-json files;
        later files win over earlier ones."""
        if any("@" in source.text for _, source in self.sets):
            limit = self.max_elements or DEFAULT_MAX_ELEMENTS
            with _reported("--set"):
                self.sets = read_at_sets(self.sets, limit)
        if not self.set_json:
            return
        from ..jsonin import given_values

        by_name = {}
        for path in self.set_json:
            with _reported(path):
                values = given_values(read_source(path))
            self.names_in[path] = [value.name for value in values]
            for value in values:
                by_name.pop(value.name, None)
                by_name[value.name] = value
        self.values = list(by_name.values())


class FileRun:
    """One FILE of a command: the options it runs with, its name as messages
    show it (`label`), and its reading, loading and running, timed when
    `timings` is a dict (--timings)."""

    def __init__(self, path, options: Options, given: Given):
        self.path = path
        self.label = _shown(path)
        self.options = options
        self.given = given
        self.timings = {} if options.timings else None
        self.reports = []  # what `run` gave: their warnings are shown
        self.access = None  # the last `load`'s datafiles access: the files it read

    def source(self):
        """The file's text, as a `Source`."""
        start = time.perf_counter()
        source = read_source(self.path)
        if self.timings is not None:
            self.timings["parse"] = time.perf_counter() - start  # reading counts as parsing
        return source

    def load(self, source=None, *, dtype=None, keep_exprs=True):
        """The file (or `source`) compiled, with the values the command line
        gives, in `dtype` (default: --dtype's)."""
        from ..compiling import load

        if source is None:
            source = self.source()
        given = self.given
        self.access = Access.of_file(self.path, self.options.allow_read)
        return load(
            source,
            dtype=dtype or self.options.dtype,
            sets=given.sets,
            values=given.values,
            any_shape=given.any_shape,
            max_elements=self.options.max_elements,
            timings=self.timings,
            keep_exprs=keep_exprs,
            access=self.access,
        )

    def run(self, model, *, every_node=True):
        """Evaluate `model` and backpropagate from --of's target."""
        from ..running import run

        report = run(model, self.options.of, timings=self.timings, every_node=every_node)
        self.reports.append(report)
        return report


class Output:
    """Where a command's result goes: stdout, as JSON (a line for each file
    when there are several) or for people (a table or text)."""

    def __init__(self, path, label, format, jsonl):
        self.path = path  # as the JSON's "file" says it
        self.label = label  # as people read it
        self.format = format
        self.jsonl = jsonl

    def json(self, doc: dict):
        """Write `doc` as JSON."""
        from ..jsonout import to_json

        write_output(to_json(doc, compact=self.jsonl) + "\n", json=True)

    def json_pieces(self, pieces):
        """Write a JSON document made in pieces."""
        for piece in pieces:
            write_output(piece, json=True)
        write_output("\n")

    def text(self, text: str):
        """Write a line (or lines) of text."""
        write_output(text + "\n")

    def table(self, draw):
        """Call `draw(console)` to print for people."""
        try:
            draw(_console())
        except BrokenPipeError:
            write_output("")
        except OSError as e:
            raise Stop(output_failed(e)) from None


class Command:
    """A command: its computation on one file (`compute`, where an
    `ExprError` is the user's: reported, and the file fails) and its
    renderer (`render`)."""

    def compute(self, file: FileRun):
        """The command's result for one file."""
        raise NotImplementedError

    def render(self, result, out: Output):
        """Write `result` to `out`."""
        raise NotImplementedError

    def passed(self, result) -> bool:
        """Whether the file passes once its result is written."""
        return True


def run(options: Options, command: Command) -> int:
    """Run `command` on each of `options.files`: read the --set-json files
    (an error there stops before any file), then each file: compute, show
    the warnings, render.  The exit code: 0; 1 when a file failed (its
    error reported, or `passed` false); 74 when the output could not be
    written; 70 for a bug."""
    from ..process import gc_paused

    given = Given(options.sets, options.set_json, options.any_shape, options.max_elements)
    startup = []
    if options.timings:
        from .. import compiling, render, running  # noqa: F401  (imports count as start-up)

        startup.append(startup_seconds())
    jsonl = len(options.files) > 1
    try:
        conflict = stdin_conflict(options.files, given.set_json)
        if conflict:
            report_error(ExprError(conflict), "autograd-cli")
            return EXIT_INPUT
        try:
            given.read()
        except _Failed:
            return EXIT_INPUT
        failed = False
        for path in options.files:
            try:
                with gc_paused():  # see gc_paused: millions of objects, no cycles
                    if not _one_file(command, FileRun(path, options, given), jsonl, startup):
                        failed = True
            except _Failed:
                failed = True
    except Stop as stop:
        return stop.code
    except MemoryError as exc:
        # Where the engine ran out, the error names the expression (see
        # running.out_of_memory); elsewhere this is all that can be said.
        sys.stderr.write(
            f"autograd-cli: error: ran out of memory ({exc}); --max-elements "
            "limits each array's size\n"
        )
        return EXIT_INPUT
    except Exception as exc:  # a bug: never a traceback for the user
        return internal_error(exc)
    return EXIT_INPUT if failed else EXIT_OK


def _one_file(command, file, jsonl, startup) -> bool:
    """Run `command` on one file; whether it passed.  An input error is
    reported and raises `_Failed`."""
    try:
        with _reported(file.path):
            result = command.compute(file)
        for report in file.reports:
            _warn(report)
        start = time.perf_counter()
        command.render(result, Output(file.path, file.label, file.options.format, jsonl))
        if file.timings is not None:
            file.timings["render"] = time.perf_counter() - start
        keep(result)
        return command.passed(result)
    finally:
        if file.timings is not None:
            _print_timings(file.label, file.timings, startup.pop() if startup else None)


def report_error(err, fallback):
    """Write `err` as a diagnostic on stderr, naming `fallback` where it
    has no place in a file."""
    print_diagnostic("error", err.message, err.span, fallback, err.notes)


def _warn(report):
    for w in report.warnings:
        print_diagnostic("warning", w.message, w.span, report.model.source.name)


def _shown(path: str) -> str:
    """A FILE argument as messages show it."""
    return "<stdin>" if path == "-" else display_path(path)


@contextlib.contextmanager
def _reported(path):
    """Report an `ExprError` raised inside as a diagnostic; then fail the file."""
    try:
        yield
    except ExprError as err:
        report_error(err, _shown(path))
        raise _Failed() from None


def _console():
    with collector_off():
        import rich.table  # noqa: F401  (what the renderers use, loaded in the same go)
        from rich.console import Console

    width = None
    if not sys.stdout.isatty() and not os.environ.get("COLUMNS"):
        width = 200
    # Everything printed is Text or plain text of the user's: no markup to
    # read in it, no :emoji: codes to replace (and no emoji table to import).
    return Console(file=sys.stdout, width=width, highlight=False, markup=False, emoji=False)


_PHASES = [
    ("start-up", "the interpreter and the imports"),
    ("parse", "reading, and text to statements"),
    ("check", "names, shapes, sizes, constants"),
    ("evaluate", "the forward pass"),
    ("backward", "the reverse sweep"),
    ("render", "the table or the JSON"),
]


def _print_timings(label, phases, startup):
    phases = dict(phases)
    if startup is not None:
        phases["start-up"] = startup
    lines = [f"timings for {label}:"]
    for phase, what in _PHASES:
        if phase in phases:
            lines.append(f"  {phase:<9} {phases[phase] * 1e3:10.3f} ms  ({what})")
    total = sum(phases.values())
    lines.append(f"  {'total':<9} {total * 1e3:10.3f} ms")
    sys.stderr.write("\n".join(lines) + "\n")
