"""The command line: translates arguments, calls the library, reports.

Errors in the user's input (`ExprError`) become ``file:line:col: error:``
diagnostics on stderr and exit 1 here, and nowhere else; usage errors are
Click's (exit 2); anything unexpected is a bug: one line, exit 70 (the
traceback only with AUTOGRAD_CLI_DEBUG=1).
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from typing import List, Optional

import typer

from . import __version__

EXIT_INPUT = 1
EXIT_INTERNAL = 70

app = typer.Typer(
    name="autograd-cli",
    help="A command-line gradient calculator: evaluate a file of bindings, "
         "backpropagate through it, and report every node's value and gradient.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(str, Enum):
    table = "table"
    json = "json"


class DType(str, Enum):
    float64 = "float64"
    float32 = "float32"


def _version(value: bool):
    if value:
        typer.echo(f"autograd-cli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
):
    """A command-line gradient calculator."""


class _Failed(Exception):
    """An input error that has already been reported."""


def _read(path: str):
    from .errors import ExprError, Source, Span

    label = "<stdin>" if path == "-" else path
    try:
        data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()
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


def _parse_sets(sets):
    from .errors import Source

    out = []
    for item in sets:
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise typer.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--set")
        out.append((name.strip(), Source("--set", item)))
    return out


def _report_error(err, fallback):
    from .errors import print_diagnostic

    print_diagnostic("error", err.message, err.span, fallback, err.notes)


def _warn(report):
    from .errors import print_diagnostic

    for w in report.warnings:
        print_diagnostic("warning", w.message, w.span, report.model.source.name)


def _internal_error(exc: BaseException):
    if os.environ.get("AUTOGRAD_CLI_DEBUG") == "1":
        import traceback
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    sys.stderr.write(
        f"autograd-cli: internal error ({type(exc).__name__}: {exc}); this is a bug, "
        "please report it with the input that caused it "
        "(set AUTOGRAD_CLI_DEBUG=1 for the traceback)\n")
    raise typer.Exit(EXIT_INTERNAL)


def _write(text: str):
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(0)


def _console():
    from rich.console import Console

    width = None
    if not sys.stdout.isatty() and not os.environ.get("COLUMNS"):
        width = 200
    return Console(file=sys.stdout, width=width, highlight=False)


@app.command("eval")
def eval_command(
    files: List[str] = typer.Argument(..., metavar="FILE",
                                      help="Files of bindings to evaluate; - reads stdin."),
    of: Optional[str] = typer.Option(None, "--of", metavar="NAME",
                                     help="The target to differentiate (default: the last binding)."),
    wrt: List[str] = typer.Option([], "--wrt", metavar="NAME",
                                  help="Report only these names (repeatable)."),
    set_: List[str] = typer.Option([], "--set", metavar="NAME=VALUE",
                                   help="Replace the value of an input or param, written in "
                                        "the language: --set 'w=[1, 2, 3]' (repeatable)."),
    format: Format = typer.Option(Format.table, "--format", "-f",
                                  help="table for people, json for programs."),
    dtype: DType = typer.Option(DType.float64, "--dtype", help="Floating-point type."),
    strict: bool = typer.Option(False, "--strict",
                                help="Treat a non-finite value or gradient as an error."),
    max_elements: int = typer.Option(10**8, "--max-elements", min=1, metavar="N",
                                     help="Refuse any array with more elements than this."),
):
    """Evaluate FILE, backpropagate from the target, report values and gradients.

    Example: autograd-cli eval examples/seed.expr --format json | jq .nodes.w.grad
    """
    sets = _parse_sets(set_)
    try:
        failed = False
        for path in files:
            try:
                _eval_one(path, of=of, wrt=wrt, sets=sets, format=format, dtype=dtype.value,
                          strict=strict, max_elements=max_elements, jsonl=len(files) > 1)
            except _Failed:
                failed = True
    except typer.Exit:
        raise
    except Exception as exc:  # a bug: never a traceback for the user
        _internal_error(exc)
    if failed:
        raise typer.Exit(EXIT_INPUT)


def _eval_one(path, *, of, wrt, sets, format, dtype, strict, max_elements, jsonl):
    from .errors import ExprError
    from .program import load, run

    label = "<stdin>" if path == "-" else path
    try:
        source = _read(path)
        model = load(source, dtype=dtype, sets=sets, max_elements=max_elements)
        report = run(model, of)
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
    if format is Format.json:
        from .render import report_dict, to_json

        doc = report_dict(report, path, selected)
        _write(to_json(doc, compact=jsonl) + "\n")
    else:
        from .render import render_table

        console = _console()
        try:
            render_table(report, label, selected, console)
        except BrokenPipeError:
            _write("")


def main():
    """The console script's entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("autograd-cli: interrupted\n")
        sys.exit(130)
