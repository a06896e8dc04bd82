"""What the commands do, apart from how their arguments are parsed.

Errors in the user's input (`ExprError`) become ``file:line:col: error:``
diagnostics on stderr here, and nowhere else; anything unexpected is a bug:
one line, exit 70 (the traceback only with AUTOGRAD_CLI_DEBUG=1).  Nothing
here imports Typer or Rich unless a table is printed, so a plain `eval`
starts fast (see launch.py).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time

EXIT_OK = 0
EXIT_INPUT = 1
EXIT_INTERNAL = 70
FORMATS = ("table", "json")
DTYPES = ("float64", "float32")
DEFAULT_MAX_ELEMENTS = 10**8
# check: every element is compared when the checked leaves have at most
# CHECK_FULL_LIMIT elements in all; otherwise, in each larger leaf, this many
# random directions and random elements (see checking.py).
CHECK_FULL_LIMIT = 256
CHECK_DIRECTIONS = 3
CHECK_SAMPLES = 16
CHECK_SEED = 0


class _Failed(Exception):
    """An input error that has already been reported."""


class _Stop(Exception):
    """Stop at once with an exit code (the reader of stdout went away)."""

    def __init__(self, code):
        self.code = code


def read_source(path: str):
    """The text of `path` (``-`` for stdin) as a `Source`, or an `ExprError`."""
    from .errors import ExprError, display_path

    label = "<stdin>" if path == "-" else display_path(path)
    try:
        if path == "-":
            if sys.stdin is None:
                raise ExprError("cannot read standard input: it is closed")
            try:
                fd = sys.stdin.buffer.fileno()
            except (OSError, ValueError):   # not a real stream (a test's, say)
                data = sys.stdin.buffer.read()
            else:
                data = _read_capped(fd, "standard input")
        else:
            fd = os.open(path, os.O_RDONLY)
            try:
                data = _read_capped(fd, "the file")
            finally:
                os.close(fd)
    except OSError as e:
        raise ExprError(f"cannot read the file: {e.strerror or e}") from None
    return source_of(data, label)


def source_of(data: bytes, label: str):
    """`data`, UTF-8 with or without a BOM, as a `Source` shown as `label`;
    an `ExprError` at the first byte that is not UTF-8."""
    from .errors import ExprError, Source, Span

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        text = data.decode("utf-8-sig", errors="replace")
        prefix = data[:e.start].decode("utf-8-sig", errors="replace")
        source = Source(label, text)
        raise ExprError(f"the file is not valid UTF-8 (byte 0x{data[e.start]:02x})",
                        Span.at(source, len(prefix))) from None
    return Source(label, text)


READ_LIMIT = 1 << 30   # bytes of a formula or JSON file read at most


def _null_device() -> int:
    try:
        return os.stat(os.devnull).st_rdev
    except OSError:
        return -1


def _read_capped(fd: int, what: str) -> bytes:
    """The bytes behind `fd`: a regular file, a pipe or a terminal, up to
    READ_LIMIT.  Devices such as /dev/zero would never end, and are
    refused."""
    import stat

    from .errors import ExprError

    info = os.fstat(fd)
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise ExprError(f"cannot read {what}: it is a directory")
    if stat.S_ISCHR(mode) and not os.isatty(fd) and info.st_rdev != _null_device():
        raise ExprError(f"cannot read {what}: it is a device, not a file")
    if stat.S_ISBLK(mode):
        raise ExprError(f"cannot read {what}: it is a device, not a file")
    if stat.S_ISREG(mode) and info.st_size > READ_LIMIT:
        raise ExprError(f"{what} is {info.st_size:,} bytes, over the {READ_LIMIT:,} bytes "
                        "autograd-cli reads")
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


def bad_set(item: str) -> bool:
    """Whether a --set argument is not of the form NAME=VALUE."""
    name, eq, _ = item.partition("=")
    return not eq or not name.strip()


def parse_sets(sets):
    """--set NAME=VALUE arguments as (name, Source) pairs."""
    from .errors import Source

    return [(item.partition("=")[0].strip(), Source("--set", item)) for item in sets]


def stdin_conflict(files, set_json) -> str | None:
    """Why these FILEs and --set-json FILEs cannot all be read, or None:
    standard input can be read only once."""
    if list(set_json).count("-") > 1:
        return "--set-json reads standard input (-) at most once"
    if "-" in set_json and "-" in files:
        return ("standard input can be read only once: FILE and --set-json cannot both be -; "
                "give one of them as a file")
    return None


# What people write after a flag when they take it for a boolean option.
_BOOLEAN_WORDS = {"true", "false", "yes", "no", "on", "off", "1", "0", "y", "n", "t", "f"}


def value_after_flag(args, flags) -> str | None:
    """Why `args` misuse one of `flags`, or None: `--update true` would
    otherwise take `true` for a file.  A word that names an existing file is
    taken as one; after `--` everything is."""
    for before, arg in zip(args, args[1:]):
        if before == "--":
            break
        if before in flags and arg.lower() in _BOOLEAN_WORDS and not os.path.exists(arg):
            return (f"{before} is a flag and takes no value: write {before} alone "
                    f"(without {arg!r})")
    return None


class Given:
    """The values the command line gives for bindings: --set, --set-json and
    --any-shape.  The JSON files are read once, before the first FILE (the
    same values go to every file)."""

    def __init__(self, sets=(), set_json=(), any_shape=False):
        self.sets = parse_sets(sets)
        self.set_json = list(set_json)
        self.any_shape = any_shape
        self.values = []

    def read(self):
        """Read the --set-json files; later files win over earlier ones."""
        if not self.set_json:
            return
        from .jsonin import given_values

        by_name = {}
        for path in self.set_json:
            with _reported(path):
                for value in given_values(read_source(path)):
                    by_name.pop(value.name, None)
                    by_name[value.name] = value
        self.values = list(by_name.values())


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


# The last file's model and report, kept until the process ends: freeing the
# objects of a long file one by one takes a tenth of a second, and the
# entry point (launch.main) exits without doing so.
last_run = []


def _write(text: str, json: bool = False):
    """Write to stdout (JSON escaped as the stream's encoding needs); a
    reader that went away stops the command quietly, a failed write with
    exit 74."""
    from . import streams

    try:
        if json:
            streams.write_json(text)
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise _Stop(EXIT_OK) from None
    except OSError as e:
        raise _Stop(streams.output_failed(e)) from None


@contextlib.contextmanager
def collector_off():
    """Python's cyclic garbage collector off, for loading modules: they make
    hundreds of thousands of objects and no garbage, and the collector's
    passes over them cost ~5 ms of a run's start (numpy, Rich, Typer).  The
    objects made so far are then frozen (`gc.freeze`): they live as long as
    the process, and a later collection would walk them all again."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _console():
    with collector_off():
        from rich.console import Console
        import rich.table  # noqa: F401  (what the renderers use, loaded in the same go)

    width = None
    if not sys.stdout.isatty() and not os.environ.get("COLUMNS"):
        width = 200
    # Everything printed is Text or plain text of the user's: no markup to
    # read in it, no :emoji: codes to replace (and no emoji table to import).
    return Console(file=sys.stdout, width=width, highlight=False, markup=False, emoji=False)


def _shown(path: str) -> str:
    """A FILE argument as messages show it."""
    from .errors import display_path

    return "<stdin>" if path == "-" else display_path(path)


@contextlib.contextmanager
def _reported(path):
    """Report an `ExprError` raised inside as a diagnostic; then fail the file."""
    from .errors import ExprError

    try:
        yield
    except ExprError as err:
        _report_error(err, _shown(path))
        raise _Failed() from None


def _each_file(files, one, given=None) -> int:
    """Run `one(path, jsonl)` for every file; the exit code.  A file fails by
    raising `_Failed` (after reporting) or by returning False.  `given`'s JSON
    files are read first; an error there stops before any file."""
    from .errors import ExprError
    from .program import gc_paused

    try:
        if given is not None:
            conflict = stdin_conflict(files, given.set_json)
            if conflict:
                _report_error(ExprError(conflict), "autograd-cli")
                return EXIT_INPUT
            try:
                given.read()
            except _Failed:
                return EXIT_INPUT
        failed = False
        for path in files:
            try:
                with gc_paused():  # see gc_paused: millions of objects, no cycles
                    if one(path, len(files) > 1) is False:
                        failed = True
            except _Failed:
                failed = True
    except _Stop as stop:
        return stop.code
    except MemoryError as exc:
        # Where the engine ran out, the error names the expression (see
        # program.out_of_memory); elsewhere this is all that can be said.
        sys.stderr.write(f"autograd-cli: error: ran out of memory ({exc}); --max-elements "
                         "limits each array's size\n")
        return EXIT_INPUT
    except Exception as exc:  # a bug: never a traceback for the user
        return internal_error(exc)
    return EXIT_INPUT if failed else EXIT_OK


def _load(source, *, dtype, given, max_elements, timings=None, keep_exprs=True):
    from .program import load

    return load(source, dtype=dtype, sets=given.sets, values=given.values,
                any_shape=given.any_shape, max_elements=max_elements, timings=timings,
                keep_exprs=keep_exprs)


def _run_file(path, *, of, dtype, given, max_elements):
    """Read, load and run a file, keeping every node's gradient."""
    from .program import run

    model = _load(read_source(path), dtype=dtype, given=given, max_elements=max_elements)
    return run(model, of)


def _emit(path, jsonl, doc, table):
    """Write `doc` as JSON, or call `table(console)` for people."""
    if doc is not None:
        from .render import to_json

        _write(to_json(doc, compact=jsonl) + "\n", json=True)
        return
    try:
        table(_console())
    except BrokenPipeError:
        _write("")
    except OSError as e:
        from .streams import output_failed

        raise _Stop(output_failed(e)) from None


def eval_files(files, *, of=None, wrt=(), sets=(), set_json=(), any_shape=False,
               format="table", dtype="float64", strict=False,
               max_elements=DEFAULT_MAX_ELEMENTS, timings=False) -> int:
    """`autograd-cli eval`: evaluate each file and report; the exit code."""
    given = Given(sets, set_json, any_shape)
    state = {}
    if timings:
        from . import program, render  # noqa: F401  (imports count as start-up)
        state["startup"] = startup_seconds()

    def one(path, jsonl):
        phases = {} if timings else None
        try:
            _eval_one(path, of=of, wrt=wrt, given=given, format=format, dtype=dtype,
                      strict=strict, max_elements=max_elements, jsonl=jsonl, timings=phases)
        finally:
            if timings:
                _print_timings(path, phases, state.pop("startup", None))

    return _each_file(files, one, given)


def _eval_one(path, *, of, wrt, given, format, dtype, strict, max_elements, jsonl, timings):
    from .errors import ExprError
    from .program import run
    from .render import render_table, report_json

    with _reported(path):
        start = time.perf_counter()
        source = read_source(path)
        if timings is not None:
            timings["parse"] = time.perf_counter() - start    # reading counts as parsing
        model = _load(source, dtype=dtype, given=given, max_elements=max_elements,
                      timings=timings, keep_exprs=False)
        report = run(model, of, timings=timings, every_node=False)
        selected = None
        if wrt:
            for name in wrt:
                model.binding(name, "--wrt")
            selected = set(wrt)
        if strict and report.warnings:
            w = report.warnings[0]
            raise ExprError(w.message + " (--strict)", w.span)
    _warn(report)
    start = time.perf_counter()
    label = _shown(path)
    if format == "json":
        for piece in report_json(report, path, selected, compact=jsonl):
            _write(piece, json=True)
        _write("\n")
    else:
        _emit(path, jsonl, None, lambda console: render_table(report, label, selected, console))
    if timings is not None:
        timings["render"] = time.perf_counter() - start
    last_run[:] = (model, report)


def check_files(files, *, of=None, wrt=(), sets=(), set_json=(), any_shape=False,
                format="table", dtype="float64", eps=1e-6, rtol=1e-5, atol=1e-8, order=1,
                full=False, directions=CHECK_DIRECTIONS, samples=CHECK_SAMPLES,
                seed=CHECK_SEED, max_elements=DEFAULT_MAX_ELEMENTS) -> int:
    """`autograd-cli check`: derivatives against finite differences; exit 1
    when any is out of tolerance."""
    from .checking import check
    from .render import check_dict, render_check

    given = Given(sets, set_json, any_shape)

    def one(path, jsonl):
        with _reported(path):
            source = read_source(path)
            model = _load(source, dtype=dtype, given=given, max_elements=max_elements)
            model64 = model if dtype == "float64" else _load(
                source, dtype="float64", given=given, max_elements=max_elements)
            label = "<stdin>" if path == "-" else os.path.basename(path)
            with _progress_bar(f"checking {label}") as bar:
                result = check(model64, model, target=of, wrt=wrt, eps=eps, rtol=rtol,
                               atol=atol, order=order, full=full, directions=directions,
                               samples=samples, seed=seed, max_elements=max_elements,
                               progress=bar)
        doc = check_dict(model, path, result) if format == "json" else None
        _emit(path, jsonl, doc, lambda console: render_check(model, _shown(path), result, rtol, atol,
                                                             console))
        return result.ok

    return _each_file(files, one, given)


class _Bar:
    """A Rich progress bar as `checking.check` drives it (start, advance)."""

    def __init__(self, progress, label):
        self.progress = progress
        self.label = label
        self.task = None

    def start(self, total):
        self.task = self.progress.add_task(self.label, total=total)

    def advance(self, n=1):
        if self.task is not None:
            self.progress.advance(self.task, n)


@contextlib.contextmanager
def _progress_bar(label):
    """A transient progress bar on stderr when stderr is a terminal, else
    None: redirected output and logs stay free of it."""
    try:
        terminal = sys.stderr.isatty()
    except (AttributeError, ValueError):
        terminal = False
    if not terminal:
        yield None
        return
    with collector_off():
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)
    columns = (TextColumn("{task.description}"), BarColumn(),
               MofNCompleteColumn(), TextColumn("evaluations"), TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(file=sys.stderr), transient=True) as progress:
        yield _Bar(progress, label)


def hessian_files(files, **options) -> int:
    """`autograd-cli hessian`: second derivatives by reverse over reverse."""
    from .checking import _target
    from .engine import hessian

    def compute(model, of, names, max_elements):
        target = _target(model, of)
        _check_hessian_size(model, target, names, max_elements)
        raw = hessian(model.graph, target.node, [model.by_name[n].node for n in names])
        return target, {a: {b: raw[(model.by_name[a].node, model.by_name[b].node)]
                            for b in names} for a in names}

    return _blocks_command(files, "hessian", compute, **options)


def jacobian_files(files, **options) -> int:
    """`autograd-cli jacobian`: derivatives of every element of a target."""
    from .engine import jacobian

    def compute(model, of, names, max_elements):
        target = model.binding(of, "--of") if of is not None else model.bindings[-1]
        _check_jacobian_size(model, target, names, max_elements)
        raw = jacobian(model.graph, target.node, [model.by_name[n].node for n in names])
        return target, dict(zip(names, raw))

    return _blocks_command(files, "jacobian", compute, **options)


def _blocks_command(files, field, compute, *, of=None, wrt=(), sets=(), set_json=(),
                    any_shape=False, format="table", dtype="float64",
                    max_elements=DEFAULT_MAX_ELEMENTS) -> int:
    """hessian and jacobian: derivative blocks for the leaves `wrt` names."""
    from .checking import select_leaves
    from .render import blocks_dict, render_blocks

    given = Given(sets, set_json, any_shape)

    def one(path, jsonl):
        with _reported(path):
            model = _load(read_source(path), dtype=dtype, given=given,
                          max_elements=max_elements)
            selection = select_leaves(model, wrt)
            with _quiet_numpy():
                target, blocks = compute(model, of, selection.names, max_elements)
        doc = (blocks_dict(model, path, target.name, field, blocks, selection)
               if format == "json" else None)
        _emit(path, jsonl, doc, lambda console: render_blocks(model, _shown(path), target.name, field,
                                                             blocks, selection, console))

    return _each_file(files, one, given)


def graph_files(files, *, of=None, sets=(), set_json=(), any_shape=False, format="dot",
                dtype="float64", max_elements=DEFAULT_MAX_ELEMENTS) -> int:
    """`autograd-cli graph`: the computational graph with values and gradients."""
    given = Given(sets, set_json, any_shape)

    def one(path, jsonl):
        from . import graphs
        from .render import head_dict

        with _reported(path):
            report = _run_file(path, of=of, dtype=dtype, given=given, max_elements=max_elements)
        _warn(report)
        model = report.model
        if format == "json":
            head = head_dict(model, path, report.target.name)
            for piece in graphs.graph_json(report, head, compact=jsonl):
                _write(piece, json=True)
            _write("\n")
        elif format == "tree":
            from .graph_tree import render_tree

            _emit(path, jsonl, None, lambda console: render_tree(report, console))
        else:
            _write((graphs.to_dot(report) if format == "dot" else graphs.to_mermaid(report))
                   + "\n")

    return _each_file(files, one, given)


def explain_files(files, *, wrt, of=None, sets=(), set_json=(), any_shape=False,
                  format="table", dtype="float64", max_elements=DEFAULT_MAX_ELEMENTS) -> int:
    """`autograd-cli explain`: the chain rule for one gradient, worked out."""
    given = Given(sets, set_json, any_shape)

    def one(path, jsonl):
        from .explain import explain, render_explain
        from .render import head_dict

        with _reported(path):
            report = _run_file(path, of=of, dtype=dtype, given=given, max_elements=max_elements)
            doc = explain(report, wrt)
        _warn(report)
        model = report.model
        target = report.target.name
        if format == "json":
            _emit(path, jsonl, {**head_dict(model, path, target), **doc}, None)
        else:
            _write(render_explain(doc, target) + "\n")

    return _each_file(files, one, given)


def _check_jacobian_size(model, target, names, max_elements):
    from .errors import ExprError

    out = math.prod(model.shapes[target.node])
    for n in names:
        size = out * math.prod(model.shapes[model.by_name[n].node])
        if size > max_elements:
            raise ExprError(f"the Jacobian of '{target.name}' with respect to '{n}' would have "
                            f"{size:,} elements, over the limit of {max_elements:,} "
                            "(--max-elements)", target.statement.name_span)


def _check_hessian_size(model, target, names, max_elements):
    from .errors import ExprError

    for a in names:
        for b in names:
            size = (math.prod(model.shapes[model.by_name[a].node])
                    * math.prod(model.shapes[model.by_name[b].node]))
            if size > max_elements:
                raise ExprError(f"the Hessian of '{target.name}' with respect to '{a}' and "
                                f"'{b}' would have {size:,} elements, over the limit of "
                                f"{max_elements:,} (--max-elements)", target.statement.name_span)


@contextlib.contextmanager
def _quiet_numpy():
    import numpy as np

    with np.errstate(all="ignore"):
        yield


def startup_seconds():
    """Seconds from the start of this process to now, or None.

    The interpreter's own start (before autograd-cli's first line) is its
    CPU time, to the microsecond; from then on the wall clock counts.  If
    the kernel's clock (to its tick, 10 ms) says the process has been alive
    longer than that by more than a tick, as when its files came from a
    cold disk, the kernel's figure is given."""
    from .launch import STARTED

    cpu, clock = STARTED
    estimate = cpu + time.perf_counter() - clock
    kernel = _kernel_age()
    if kernel is not None and kernel > estimate + 0.010:
        return kernel
    return estimate


def _kernel_age():
    """Seconds since the process started, by the kernel's process clock
    (to its tick, 10 ms); None where /proc is not there."""
    try:
        with open("/proc/self/stat") as f:
            started = int(f.read().rpartition(")")[2].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - started / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


_PHASES = [("start-up", "the interpreter and the imports"), ("parse", "reading, and text to statements"),
           ("check", "names, shapes, sizes, constants"), ("evaluate", "the forward pass"),
           ("backward", "the reverse sweep"), ("render", "the table or the JSON")]


def _print_timings(path, phases, startup):
    phases = dict(phases)
    if startup is not None:
        phases["start-up"] = startup
    lines = [f"timings for {_shown(path)}:"]
    for phase, what in _PHASES:
        if phase in phases:
            lines.append(f"  {phase:<9} {phases[phase] * 1e3:10.3f} ms  ({what})")
    total = sum(phases.values())
    lines.append(f"  {'total':<9} {total * 1e3:10.3f} ms")
    sys.stderr.write("\n".join(lines) + "\n")
