"""What the commands do, apart from how their arguments are parsed.

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
import math
import os
import sys
import time

from .errors import ExprError, Source, Span, display_path, print_diagnostic
from .options import (
    CHECK_DIRECTIONS,
    CHECK_SAMPLES,
    CHECK_SEED,
    DEFAULT_MAX_ELEMENTS,
    Options,
    stdin_conflict,
)
from .process import collector_off, keep, startup_seconds
from .sources import Access, read_source
from .streams import (
    EXIT_INPUT,
    EXIT_IO,
    EXIT_OK,
    Stop,
    internal_error,
    output_failed,
    write_output,
)

# What a shell reports for a process stopped by Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130


class _Failed(Exception):
    """An input error that has already been reported."""


def parse_sets(sets):
    """--set NAME=VALUE arguments as (name, Source) pairs."""
    return [(item.partition("=")[0].strip(), Source("--set", item)) for item in sets]


def read_at_sets(sets, max_elements):
    """`sets` from `parse_sets` with each --set NAME=@PATH's file read: its
    Source becomes a `GivenValue` of the array in the file."""
    out = []
    for name, source in sets:
        text = source.text
        eq = text.index("=") + 1
        at = eq + len(text[eq:]) - len(text[eq:].lstrip())
        if text[at : at + 1] != "@":
            out.append((name, source))
            continue
        from .datafiles import load_given
        from .jsonin import GivenValue

        span = Span(source, at, len(text))
        path = text[at + 1 :].strip()
        array = load_given(path, max_elements, span)
        out.append((name, GivenValue(name, array, Span(source, 0, max(1, eq - 1)), span)))
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

    def read(self):
        """Read the files of --set NAME=@PATH, then the --set-json files;
        later files win over earlier ones."""
        if any("@" in source.text for _, source in self.sets):
            limit = self.max_elements or DEFAULT_MAX_ELEMENTS
            with _reported("--set"):
                self.sets = read_at_sets(self.sets, limit)
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
        from .compiling import load

        if source is None:
            source = self.source()
        given = self.given
        return load(
            source,
            dtype=dtype or self.options.dtype,
            sets=given.sets,
            values=given.values,
            any_shape=given.any_shape,
            max_elements=self.options.max_elements,
            timings=self.timings,
            keep_exprs=keep_exprs,
            access=Access.of_file(self.path, self.options.allow_read),
        )

    def run(self, model, *, every_node=True):
        """Evaluate `model` and backpropagate from --of's target."""
        from .running import run

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
        from .jsonout import to_json

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
    from .process import gc_paused

    given = Given(options.sets, options.set_json, options.any_shape, options.max_elements)
    startup = []
    if options.timings:
        from . import compiling, render, running  # noqa: F401  (imports count as start-up)

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


def eval_files(files, **options) -> int:
    """`autograd-cli eval` on `files`, with `Options`' fields as keywords;
    the exit code."""
    return run(Options(list(files), **options), Eval())


# ------------------------------------------------------------- the commands


class Eval(Command):
    """`autograd-cli eval`: every binding's value and gradient."""

    def compute(self, file):
        options = file.options
        model = file.load(keep_exprs=False)
        report = file.run(model, every_node=False)
        selected = None
        if options.wrt:
            for name in options.wrt:
                model.binding(name, "--wrt")
            selected = set(options.wrt)
        if options.strict and report.warnings:
            w = report.warnings[0]
            raise ExprError(w.message + " (--strict)", w.span)
        return report, selected

    def render(self, result, out):
        from .jsonout import report_json
        from .render import render_table

        report, selected = result
        if out.format == "json":
            out.json_pieces(report_json(report, out.path, selected, compact=out.jsonl))
        else:
            out.table(lambda console: render_table(report, out.label, selected, console))


class Check(Command):
    """`autograd-cli check`: derivatives against finite differences; a file
    fails when any is out of tolerance."""

    def __init__(
        self,
        eps=1e-6,
        rtol=1e-5,
        atol=1e-8,
        order=1,
        full=False,
        directions=CHECK_DIRECTIONS,
        samples=CHECK_SAMPLES,
        seed=CHECK_SEED,
    ):
        self.eps, self.rtol, self.atol, self.order = eps, rtol, atol, order
        self.full, self.directions, self.samples, self.seed = full, directions, samples, seed

    def compute(self, file):
        from .checking import check

        options = file.options
        source = file.source()
        model = file.load(source)
        model64 = model if options.dtype == "float64" else file.load(source, dtype="float64")
        label = "<stdin>" if file.path == "-" else os.path.basename(file.path)
        with _progress_bar(f"checking {label}") as bar:
            result = check(
                model64,
                model,
                target=options.of,
                wrt=options.wrt,
                eps=self.eps,
                rtol=self.rtol,
                atol=self.atol,
                order=self.order,
                full=self.full,
                directions=self.directions,
                samples=self.samples,
                seed=self.seed,
                max_elements=options.max_elements,
                progress=bar,
            )
        return model, result

    def render(self, result, out):
        from .render import check_dict, render_check

        model, checked = result
        if out.format == "json":
            out.json(check_dict(model, out.path, checked))
        else:
            out.table(
                lambda console: render_check(
                    model, out.label, checked, self.rtol, self.atol, console
                )
            )

    def passed(self, result):
        return result[1].ok


class _Blocks(Command):
    """hessian and jacobian: derivative blocks for the leaves --wrt names,
    under the JSON key `field`."""

    field = ""

    def derivatives(self, model, of, names, max_elements):
        """The target's binding and the blocks, by leaf name."""
        raise NotImplementedError

    def compute(self, file):
        import numpy as np

        from .checking import select_leaves

        options = file.options
        model = file.load()
        selection = select_leaves(model, options.wrt)
        with np.errstate(all="ignore"):
            target, blocks = self.derivatives(
                model, options.of, selection.names, options.max_elements
            )
        return model, target, blocks, selection

    def render(self, result, out):
        from .render import blocks_dict, render_blocks

        model, target, blocks, selection = result
        if out.format == "json":
            out.json(blocks_dict(model, out.path, target.name, self.field, blocks, selection))
        else:
            out.table(
                lambda console: render_blocks(
                    model, out.label, target.name, self.field, blocks, selection, console
                )
            )


class Hessian(_Blocks):
    """`autograd-cli hessian`: second derivatives by forward over reverse."""

    field = "hessian"

    def derivatives(self, model, of, names, max_elements):
        from .checking import scalar_target
        from .derivatives import hessian
        from .engine import OutOfMemory

        target = scalar_target(model, of)
        _check_hessian_size(model, target, names, max_elements)
        nodes = [model.by_name[n].node for n in names]
        try:
            raw = hessian(model.graph, target.node, nodes, max_elements=max_elements)
        except OutOfMemory as e:  # on the recorded tape, whose nodes the file does not name
            raise e.error from None
        return target, {
            a: {b: raw[(model.by_name[a].node, model.by_name[b].node)] for b in names}
            for a in names
        }


class Jacobian(_Blocks):
    """`autograd-cli jacobian`: derivatives of every element of a target, by
    forward mode (a batch of tangents, one column per input element) when
    the inputs have fewer elements than the target, else by reverse mode
    (one sweep per element of the target); `mode` forces one."""

    field = "jacobian"

    def __init__(self, mode="auto"):
        self.mode = mode
        self.ran = None  # the mode that ran on the last file

    def derivatives(self, model, of, names, max_elements):
        from .derivatives import jacobian, jacobian_reverse, tangent_size
        from .engine import OutOfMemory
        from .running import out_of_memory

        target = model.binding(of, "--of") if of is not None else model.bindings[-1]
        _check_jacobian_size(model, target, names, max_elements)
        nodes = [model.by_name[n].node for n in names]
        inputs = sum(math.prod(model.shapes[i]) for i in nodes)
        outputs = math.prod(model.shapes[target.node])
        forward = self.mode == "forward" or (self.mode == "auto" and inputs < outputs)
        self.ran = "forward" if forward else "reverse"
        try:
            if forward:
                # B tangent columns make every tangent B times its node: B is
                # chosen so that the largest stays within --max-elements.
                per = tangent_size(model.graph, nodes, model.shapes, [target.node])
                raw = jacobian(model.graph, target.node, nodes, batch=max(1, max_elements // per))
            else:
                raw = jacobian_reverse(model.graph, target.node, nodes)
        except OutOfMemory as e:
            raise out_of_memory(model, e.node, e.phase) from None
        return target, dict(zip(names, raw))

    def render(self, result, out):
        from .render import blocks_dict, render_blocks

        model, target, blocks, selection = result
        if out.format == "json":
            doc = blocks_dict(model, out.path, target.name, self.field, blocks, selection)
            out.json({**doc, "mode": self.ran})
        else:
            how = (
                "by forward mode, one tangent per element of the inputs"
                if self.ran == "forward"
                else f"one reverse sweep per element of {target.name}"
            )
            out.table(
                lambda console: render_blocks(
                    model, out.label, target.name, self.field, blocks, selection, console, how
                )
            )


class Graph(Command):
    """`autograd-cli graph`: the computational graph with values and
    gradients, as DOT, Mermaid, a terminal tree or JSON."""

    def compute(self, file):
        return file.run(file.load())

    def render(self, report, out):
        from . import graphs
        from .jsonout import head_dict

        if out.format == "json":
            head = head_dict(report.model, out.path, report.target.name)
            out.json_pieces(graphs.graph_json(report, head, compact=out.jsonl))
        elif out.format == "tree":
            from .graph_tree import render_tree

            out.table(lambda console: render_tree(report, console))
        else:
            out.text(graphs.to_dot(report) if out.format == "dot" else graphs.to_mermaid(report))


class Explain(Command):
    """`autograd-cli explain`: the chain rule for one gradient (--wrt),
    worked out."""

    def compute(self, file):
        from .explain import explain

        report = file.run(file.load())
        return report, explain(report, file.options.wrt)

    def render(self, result, out):
        from .explain import render_explain
        from .jsonout import head_dict

        report, doc = result
        target = report.target.name
        if out.format == "json":
            out.json({**head_dict(report.model, out.path, target), **doc})
        else:
            out.text(render_explain(doc, target))


class Fit(Command):
    """`autograd-cli fit`: minimise the scalar target (or, with
    `residuals`, the sum of the squares of that node) over the params, or
    the leaves --wrt names; report how it went, write `out` (the fitted
    values in --set-json's format)."""

    def __init__(self, settings, residuals=None, out=None):
        self.settings = settings  # fitting.methods.Settings; method None: the default
        self.residuals = residuals
        self.out = out
        self.strict = False  # the last file's --strict

    def compute(self, file):
        from .fitting.job import Job
        from .fitting.report import out_text

        options = file.options
        self.strict = options.strict
        job = Job(
            file.load(keep_exprs=False), self.settings, self.residuals, options.of, options.wrt
        )
        label = "<stdin>" if file.path == "-" else os.path.basename(str(file.label))
        with _fit_progress(f"fit {label}", job.settings.steps) as bar:
            fitted = job.run(bar)
        outcome = fitted.outcome
        if self.out is not None:
            _write_out(self.out, out_text(fitted))
        if not outcome.converged and not self._ran_all_steps(fitted):
            print_diagnostic(
                "warning",
                f"the fit did not converge: {outcome.reason} after {outcome.steps} steps"
                + ("" if outcome.reason == "interrupted" else " (--steps raises the limit)"),
                None,
                file.label,
            )
        return fitted

    def _ran_all_steps(self, fitted):
        """Whether the fit ran its --steps with the convergence test off
        (--tol 0), as asked: no warning, no failure."""
        return fitted.settings.tol == 0 and fitted.outcome.reason == "step limit reached"

    def render(self, fitted, out):
        from .fitting.report import fit_dict, render_fit

        if out.format == "json":
            out.json(fit_dict(fitted, out.path))
        else:
            out.table(lambda console: render_fit(fitted, out.label, console))

    def passed(self, fitted):
        if fitted.outcome.reason == "interrupted":
            raise Stop(EXIT_INTERRUPTED)
        if self._ran_all_steps(fitted):
            return True
        return fitted.outcome.converged or not self.strict


def _check_jacobian_size(model, target, names, max_elements):
    out = math.prod(model.shapes[target.node])
    for n in names:
        size = out * math.prod(model.shapes[model.by_name[n].node])
        if size > max_elements:
            raise ExprError(
                f"the Jacobian of '{target.name}' with respect to '{n}' would have "
                f"{size:,} elements, over the limit of {max_elements:,} "
                "(--max-elements)",
                target.statement.name_span,
            )


def _check_hessian_size(model, target, names, max_elements):
    for a in names:
        for b in names:
            size = math.prod(model.shapes[model.by_name[a].node]) * math.prod(
                model.shapes[model.by_name[b].node]
            )
            if size > max_elements:
                raise ExprError(
                    f"the Hessian of '{target.name}' with respect to '{a}' and "
                    f"'{b}' would have {size:,} elements, over the limit of "
                    f"{max_elements:,} (--max-elements)",
                    target.statement.name_span,
                )


def functions(name: str | None = None, format: str = "table") -> int:
    """`autograd-cli functions [NAME]`: every function and operator of the
    language (or the one called `name`) with its signature, what it does,
    its derivative and its conventions; the exit code (1 for an unknown
    name)."""
    try:
        from .catalog import catalog, lookup
        from .functions import FUNCTIONS
        from .jsonout import SCHEMA, to_json
        from .model import function_hint

        doc = catalog() if name is None else lookup(name)
        if doc is None:
            hint = function_hint(name, FUNCTIONS)
            report_error(
                ExprError(f"there is no function or operator named '{display_path(name)}'{hint}"),
                "autograd-cli functions",
            )
            return EXIT_INPUT
        if format == "json":
            write_output(to_json({"schema": SCHEMA, **doc}, compact=False) + "\n", json=True)
        else:
            from .catalog import render_catalog

            Output(None, None, format, False).table(
                lambda console: render_catalog(doc, console, footer=name is None)
            )
    except Stop as stop:
        return stop.code
    except Exception as exc:  # a bug: never a traceback for the user
        return internal_error(exc)
    return EXIT_OK


# ------------------------------------------------------------ the plumbing


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
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("evaluations"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=sys.stderr), transient=True) as progress:
        yield _Bar(progress, label)


def _write_out(path, text):
    """Write `fit --out`'s file atomically (readers never see half of it);
    a failure is reported and stops with exit 74."""
    from .golden.write import write_atomically

    try:
        write_atomically(path, text)
    except OSError as e:
        sys.stderr.write(
            f"autograd-cli: error: cannot write --out {display_path(path)}: {e.strerror or e}\n"
        )
        raise Stop(EXIT_IO) from None


class _FitBar:
    """The fit's Rich progress bar, told each step's objective and
    gradient norm."""

    def __init__(self, progress, task):
        self.progress = progress
        self.task = task

    def update(self, step, objective, grad_norm):
        """Show step `step`."""
        from .render import fmt_number

        self.progress.update(
            self.task,
            completed=step,
            objective=fmt_number(objective),
            grad="" if grad_norm is None else fmt_number(grad_norm),
        )


@contextlib.contextmanager
def _fit_progress(label, steps):
    """A transient progress bar on stderr while a fit runs on a terminal
    (step, objective, gradient norm); None when stderr is not one."""
    try:
        terminal = sys.stderr.isatty()
    except (AttributeError, ValueError):
        terminal = False
    if not terminal:
        yield None
        return
    with collector_off():
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("step {task.completed}/{task.total}"),
        TextColumn("objective {task.fields[objective]}"),
        TextColumn("|gradient| {task.fields[grad]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(file=sys.stderr), transient=True) as progress:
        task = progress.add_task(label, total=steps, objective="", grad="")
        yield _FitBar(progress, task)


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
