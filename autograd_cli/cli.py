"""The Typer app: every command's arguments, options and help.

It only translates arguments; the work is in commands.py.  Usage errors are
Click's (exit 2).
"""

from __future__ import annotations

from enum import Enum
from typing import List, Optional

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

from . import __version__, commands

class _Argument(TyperArgument):
    """An argument shown as `FILE...` / `[PATH]...` in usage and help, as
    Click and most tools write them (not with its Python type)."""

    def display_type_rich(self, ctx):
        return None

    def _usage_display_name(self):
        name = self.metavar or self.name.upper()
        name = name if self.required else f"[{name}]"
        return name + "..." if self.nargs != 1 else name


def _as_flags_and_arguments(params):
    """Show flags as flags (no "<bool>" after them) and arguments by name."""
    for param in params:
        if isinstance(param, TyperArgument):
            param.__class__ = _Argument
        elif getattr(param, "is_flag", False):
            param.metavar = ""
    return params


class Command(TyperCommand):
    """A command whose help shows flags as flags, and which refuses a value
    written after a flag (`--update true`) instead of taking it for a file."""

    def get_params(self, ctx):
        return _as_flags_and_arguments(super().get_params(ctx))

    def parse_args(self, ctx, args):
        flags = {opt for param in self.get_params(ctx) if getattr(param, "is_flag", False)
                 for opt in param.opts}
        problem = commands.value_after_flag(args, flags)
        if problem:
            ctx.fail(problem)
        return super().parse_args(ctx, args)


class Group(TyperGroup):
    """The app, its flags shown as its commands' are."""

    def get_params(self, ctx):
        return _as_flags_and_arguments(super().get_params(ctx))


app = typer.Typer(
    name="autograd-cli",
    cls=Group,
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


# Options shared by the commands (sqlite-utils style: declared once).
FILES = typer.Argument(..., metavar="FILE", help="Files of bindings; - reads stdin.")
OF = typer.Option(None, "--of", metavar="NAME",
                  help="The target to differentiate (default: the last binding).")
SET = typer.Option([], "--set", metavar="NAME=VALUE",
                   help="Replace the value of an input or param, written in the language: "
                        "--set 'w=[1, 2, 3]' (repeatable).")
SET_JSON = typer.Option([], "--set-json", metavar="FILE",
                        help='Replace inputs and params with the values in a JSON object, '
                             '{"w": [1, 2, 3], "a1": 0.5} ("nan", "inf", "-inf" as in the '
                             'output); - reads stdin. Each value keeps its binding\'s shape '
                             'unless --any-shape. --set wins over it (repeatable; later files '
                             'win).')
ANY_SHAPE = typer.Option(False, "--any-shape",
                         help="Let --set-json values change a binding's shape (the file is "
                              "checked again with it, as with --set).")
FORMAT = typer.Option(Format.table, "--format", "-f", help="table for people, json for programs.")
DTYPE = typer.Option(DType.float64, "--dtype", help="Floating-point type.")
MAX_ELEMENTS = typer.Option(commands.DEFAULT_MAX_ELEMENTS, "--max-elements", min=1, metavar="N",
                            help="Refuse any array with more elements than this.")
WRT_LEAVES = typer.Option([], "--wrt", metavar="NAME",
                          help="Differentiate with respect to these params or inputs "
                               "(repeatable; default: every param, else every input).")


def _check_sets(sets, files=(), set_json=()):
    for item in sets:
        if commands.bad_set(item):
            raise typer.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--set")
    conflict = commands.stdin_conflict(files, set_json)
    if conflict:
        raise typer.BadParameter(conflict, param_hint="--set-json")


def _exit(code):
    if code:
        raise typer.Exit(code)


@app.command("eval", cls=Command)
def eval_command(
    files: List[str] = FILES,
    of: Optional[str] = OF,
    wrt: List[str] = typer.Option([], "--wrt", metavar="NAME",
                                  help="Report only these names (repeatable)."),
    set_: List[str] = SET,
    set_json: List[str] = SET_JSON,
    any_shape: bool = ANY_SHAPE,
    format: Format = FORMAT,
    dtype: DType = DTYPE,
    strict: bool = typer.Option(False, "--strict",
                                help="Treat a non-finite value or gradient as an error."),
    max_elements: int = MAX_ELEMENTS,
    timings: bool = typer.Option(False, "--timings",
                                 help="Print the time of each phase on stderr."),
):
    """Evaluate FILE, backpropagate from the target, report values and gradients.

    Example: autograd-cli eval examples/seed.expr --format json | jq .nodes.w.grad
    """
    _check_sets(set_, files, set_json)
    _exit(commands.eval_files(files, of=of, wrt=wrt, sets=set_, set_json=set_json,
                              any_shape=any_shape, format=format.value, dtype=dtype.value,
                              strict=strict, max_elements=max_elements, timings=timings))


@app.command("check", cls=Command)
def check_command(
    files: List[str] = FILES,
    of: Optional[str] = OF,
    wrt: List[str] = WRT_LEAVES,
    set_: List[str] = SET,
    set_json: List[str] = SET_JSON,
    any_shape: bool = ANY_SHAPE,
    eps: float = typer.Option(1e-6, "--eps", help="The finite-difference step."),
    rtol: float = typer.Option(1e-5, "--rtol", min=0.0, help="Relative tolerance."),
    atol: float = typer.Option(1e-8, "--atol", min=0.0,
                               help="Absolute tolerance: pass when |reverse - numeric| <= "
                                    "atol + rtol * |numeric|, as numpy.isclose."),
    order: int = typer.Option(1, "--order", min=1, max=2,
                              help="1 checks the gradient, 2 the Hessian."),
    full: bool = typer.Option(False, "--full",
                              help="Compare every element, however many (default: only "
                                   f"when the checked leaves have at most "
                                   f"{commands.CHECK_FULL_LIMIT} elements in all; above "
                                   "that, random directions and elements)."),
    directions: int = typer.Option(commands.CHECK_DIRECTIONS, "--directions", min=0,
                                   metavar="N",
                                   help="Random directions per leaf when not every element "
                                        "is compared."),
    samples: int = typer.Option(commands.CHECK_SAMPLES, "--samples", min=0, metavar="N",
                                help="Random elements per leaf compared one by one when not "
                                     "every element is (leaves this small are compared "
                                     "whole)."),
    seed: int = typer.Option(commands.CHECK_SEED, "--seed", min=0, metavar="N",
                             help="Seed of the random directions and elements."),
    format: Format = FORMAT,
    dtype: DType = DTYPE,
    max_elements: int = MAX_ELEMENTS,
):
    """Check reverse-mode derivatives against central finite differences (in float64).

    Exit 0 when all are within tolerance, 1 otherwise.
    Example: autograd-cli check examples/mlp.expr
    """
    _check_sets(set_, files, set_json)
    if directions == 0 and samples == 0:
        raise typer.BadParameter("--directions 0 and --samples 0 leave nothing to compare",
                                 param_hint="--directions")
    _exit(commands.check_files(files, of=of, wrt=wrt, sets=set_, set_json=set_json,
                               any_shape=any_shape, format=format.value, dtype=dtype.value,
                               eps=eps, rtol=rtol, atol=atol, order=order, full=full,
                               directions=directions, samples=samples, seed=seed,
                               max_elements=max_elements))


@app.command("hessian", cls=Command)
def hessian_command(
    files: List[str] = FILES,
    of: Optional[str] = OF,
    wrt: List[str] = WRT_LEAVES,
    set_: List[str] = SET,
    set_json: List[str] = SET_JSON,
    any_shape: bool = ANY_SHAPE,
    format: Format = FORMAT,
    dtype: DType = DTYPE,
    max_elements: int = MAX_ELEMENTS,
):
    """Second derivatives of the scalar target, by differentiating the backward pass.

    Example: autograd-cli hessian examples/logistic.expr --wrt w
    """
    _check_sets(set_, files, set_json)
    _exit(commands.hessian_files(files, of=of, wrt=wrt, sets=set_, set_json=set_json,
                                 any_shape=any_shape, format=format.value, dtype=dtype.value,
                                 max_elements=max_elements))


@app.command("jacobian", cls=Command)
def jacobian_command(
    files: List[str] = FILES,
    of: Optional[str] = OF,
    wrt: List[str] = WRT_LEAVES,
    set_: List[str] = SET,
    set_json: List[str] = SET_JSON,
    any_shape: bool = ANY_SHAPE,
    format: Format = FORMAT,
    dtype: DType = DTYPE,
    max_elements: int = MAX_ELEMENTS,
):
    """Derivatives of every element of a target of any shape (shape y.shape + p.shape).

    Example: autograd-cli jacobian examples/logistic.expr --of p --wrt w
    """
    _check_sets(set_, files, set_json)
    _exit(commands.jacobian_files(files, of=of, wrt=wrt, sets=set_, set_json=set_json,
                                  any_shape=any_shape, format=format.value, dtype=dtype.value,
                                  max_elements=max_elements))


class GraphFormat(str, Enum):
    dot = "dot"
    mermaid = "mermaid"
    tree = "tree"
    json = "json"


@app.command("graph", cls=Command)
def graph_command(
    files: List[str] = FILES,
    of: Optional[str] = OF,
    set_: List[str] = SET,
    set_json: List[str] = SET_JSON,
    any_shape: bool = ANY_SHAPE,
    format: GraphFormat = typer.Option(GraphFormat.dot, "--format", "-f",
                                       help="dot (Graphviz), mermaid (Markdown), tree "
                                            "(the terminal) or json."),
    dtype: DType = DTYPE,
    max_elements: int = MAX_ELEMENTS,
):
    """The computational graph, every node with its value and gradient.

    Example: autograd-cli graph examples/seed.expr | dot -Tsvg > seed.svg
    """
    _check_sets(set_, files, set_json)
    _exit(commands.graph_files(files, of=of, sets=set_, set_json=set_json, any_shape=any_shape,
                               format=format.value, dtype=dtype.value,
                               max_elements=max_elements))


@app.command("explain", cls=Command)
def explain_command(
    files: List[str] = FILES,
    wrt: str = typer.Option(..., "--wrt", metavar="NAME",
                            help="The gradient to explain: a name, or one element of it "
                                 "(--wrt 'w[0]')."),
    of: Optional[str] = OF,
    set_: List[str] = SET,
    set_json: List[str] = SET_JSON,
    any_shape: bool = ANY_SHAPE,
    format: Format = FORMAT,
    dtype: DType = DTYPE,
    max_elements: int = MAX_ELEMENTS,
):
    """The chain rule for one gradient, worked out in symbols and numbers.

    Example: autograd-cli explain examples/seed.expr --wrt 'w[0]'
    """
    _check_sets(set_, files, set_json)
    _exit(commands.explain_files(files, wrt=wrt, of=of, sets=set_, set_json=set_json,
                                 any_shape=any_shape, format=format.value, dtype=dtype.value,
                                 max_elements=max_elements))


class TestFormat(str, Enum):
    text = "text"
    json = "json"


@app.command("test", cls=Command)
def test_command(
    paths: List[str] = typer.Argument(None, metavar="PATH",
                                      help="Files and directories to test (directories "
                                           "recursively; default: .)."),
    rtol: Optional[float] = typer.Option(None, "--rtol", min=0.0,
                                         help="Relative tolerance (default: 1e-7 for float64, "
                                              "1.3e-6 for float32, as torch.testing)."),
    atol: Optional[float] = typer.Option(None, "--atol", min=0.0,
                                         help="Absolute tolerance, in units of the largest "
                                              "magnitude in the field (one node's value or "
                                              "gradient), so that a change is caught at any "
                                              "scale (default: 1e-7 for float64, 1e-5 for "
                                              "float32): a number passes when |got - want| <= "
                                              "rtol * |want| + atol * max|field| + the field's "
                                              "rounding noise; nan matches nan."),
    update: bool = typer.Option(False, "--update",
                                help="Write missing golden files and rewrite failing ones "
                                     "(each atomically), keeping what they list."),
    junit_xml: Optional[str] = typer.Option(None, "--junit-xml", metavar="FILE",
                                            help="Also write a JUnit XML report to FILE (a "
                                                 "regular file, replaced atomically; or a "
                                                 "FIFO, /dev/stdout, /dev/null)."),
    format: TestFormat = typer.Option(TestFormat.text, "--format", "-f",
                                      help="text for people, json for programs."),
    max_elements: int = MAX_ELEMENTS,
):
    """Test every NAME.expr against the NAME.golden.json beside it.

    A golden file is an eval --format json document, whole or in part. Exit 0
    when all pass, 1 otherwise, 74 when an output (stdout, the report, a golden
    file) could not be written. A golden file whose NAME.expr is gone fails too
    (--update leaves it). Links are followed only to files inside the tested
    tree.

    Example: autograd-cli test examples --junit-xml report.xml
    """
    from .golden import run_tests

    if junit_xml == "":
        # An empty name would write nothing, and the CI job would find no report.
        raise typer.BadParameter("expected the name of a file, got ''",
                                 param_hint="--junit-xml")
    _exit(run_tests(paths or ["."], rtol=rtol, atol=atol, update=update,
                    junit_xml_path=junit_xml, format=format.value, max_elements=max_elements))


def main():
    """The console script's entry point (see launch.py for the fast path)."""
    from .launch import main as launch

    launch()
