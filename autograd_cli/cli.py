"""The Typer app: every command's arguments, options and help.

It only translates arguments; the work is in commands.py.  Usage errors are
Click's (exit 2).
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from typing import List, Optional

import typer

from . import __version__, commands

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
    max_elements: int = typer.Option(commands.DEFAULT_MAX_ELEMENTS, "--max-elements", min=1,
                                     metavar="N",
                                     help="Refuse any array with more elements than this."),
    timings: bool = typer.Option(False, "--timings",
                                 help="Print the time of each phase on stderr."),
):
    """Evaluate FILE, backpropagate from the target, report values and gradients.

    Example: autograd-cli eval examples/seed.expr --format json | jq .nodes.w.grad
    """
    for item in set_:
        if commands.bad_set(item):
            raise typer.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--set")
    code = commands.eval_files(files, of=of, wrt=wrt, sets=set_, format=format.value,
                               dtype=dtype.value, strict=strict, max_elements=max_elements,
                               timings=timings)
    if code:
        raise typer.Exit(code)


def main():
    """The console script's entry point (see launch.py for the fast path)."""
    from .launch import main as launch

    launch()
