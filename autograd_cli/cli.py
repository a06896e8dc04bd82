"""The Typer app: every command's arguments, options and help.

It only translates arguments; the work is in commands/.  Usage errors are
Click's (exit 2).
"""

from __future__ import annotations

from enum import Enum

import typer

from . import __version__
from .cli_options import MAX_ELEMENTS, SHARED, Command, DType, Format, Group, file_command
from .commands import blocks, check, fit, reports, runner
from .options import CHECK_DIRECTIONS, CHECK_FULL_LIMIT, CHECK_SAMPLES, CHECK_SEED, Options

app = typer.Typer(
    name="autograd-cli",
    cls=Group,
    help="A command-line gradient calculator: evaluate a file of bindings, "
    "backpropagate through it, and report every node's value and gradient. "
    "The functions and operators a file can use: autograd-cli functions.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool):
    if value:
        typer.echo(f"autograd-cli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
):
    """A command-line gradient calculator."""


@file_command(
    "eval",
    "files expr of wrt set_ set_json any_shape allow_read format dtype strict max_elements timings",
    on=app,
)
def eval_command(
    options: Options,
    wrt: list[str] = typer.Option(
        [], "--wrt", metavar="NAME", help="Report only these names (repeatable)."
    ),
):
    """Evaluate FILE, backpropagate from the target, report values and gradients.

    The functions and operators a file can use, with their derivatives:
    autograd-cli functions.
    Example: autograd-cli eval examples/seed.expr --format json | jq .nodes.w.grad
    """
    return runner.run(options, reports.Eval())


@file_command(
    "check",
    "files expr of wrt set_ set_json any_shape allow_read ... format dtype max_elements",
    on=app,
)
def check_command(
    options: Options,
    eps: float = typer.Option(1e-6, "--eps", help="The finite-difference step."),
    rtol: float = typer.Option(1e-5, "--rtol", min=0.0, help="Relative tolerance."),
    atol: float = typer.Option(
        1e-8,
        "--atol",
        min=0.0,
        help="Absolute tolerance: pass when |reverse - numeric| <= "
        "atol + rtol * |numeric|, as numpy.isclose.",
    ),
    order: int = typer.Option(
        1, "--order", min=1, max=2, help="1 checks the gradient, 2 the Hessian."
    ),
    full: bool = typer.Option(
        False,
        "--full",
        help="Compare every element, however many (default: only "
        f"when the checked leaves have at most "
        f"{CHECK_FULL_LIMIT} elements in all; above "
        "that, random directions and elements).",
    ),
    directions: int = typer.Option(
        CHECK_DIRECTIONS,
        "--directions",
        min=0,
        metavar="N",
        help="Random directions per leaf when not every element is compared.",
    ),
    samples: int = typer.Option(
        CHECK_SAMPLES,
        "--samples",
        min=0,
        metavar="N",
        help="Random elements per leaf compared one by one when not "
        "every element is (leaves this small are compared "
        "whole).",
    ),
    seed: int = typer.Option(
        CHECK_SEED, "--seed", min=0, metavar="N", help="Seed of the random directions and elements."
    ),
):
    """Check reverse-mode derivatives against central finite differences (in float64).

    Exit 0 when all are within tolerance, 1 otherwise.
    Example: autograd-cli check examples/mlp.expr
    """
    if directions == 0 and samples == 0:
        raise typer.BadParameter(
            "--directions 0 and --samples 0 leave nothing to compare", param_hint="--directions"
        )
    return runner.run(
        options,
        check.Check(
            eps=eps,
            rtol=rtol,
            atol=atol,
            order=order,
            full=full,
            directions=directions,
            samples=samples,
            seed=seed,
        ),
    )


@file_command(
    "hessian",
    "files expr of wrt set_ set_json any_shape allow_read format dtype max_elements",
    on=app,
)
def hessian_command(options: Options):
    """Second derivatives of the scalar target, by forward mode over the backward pass.

    Example: autograd-cli hessian examples/logistic.expr --wrt w
    """
    return runner.run(options, blocks.Hessian())


class JacobianMode(str, Enum):
    auto = "auto"
    forward = "forward"
    reverse = "reverse"


@file_command(
    "jacobian",
    "files expr of wrt set_ set_json any_shape allow_read ... format dtype max_elements",
    on=app,
)
def jacobian_command(
    options: Options,
    mode: JacobianMode = typer.Option(
        JacobianMode.auto,
        "--mode",
        help="forward: one pass for a batch of tangents, one per input element; "
        "reverse: one backward sweep per element of the target; auto: forward "
        "when the inputs have fewer elements than the target.",
    ),
):
    """Derivatives of every element of a target of any shape (shape y.shape + p.shape).

    Example: autograd-cli jacobian examples/logistic.expr --of p --wrt w
    """
    return runner.run(options, blocks.Jacobian(mode=mode.value))


class GraphFormat(str, Enum):
    dot = "dot"
    mermaid = "mermaid"
    tree = "tree"
    json = "json"


@file_command(
    "graph", "files expr of set_ set_json any_shape allow_read format dtype max_elements", on=app
)
def graph_command(
    options: Options,
    format: GraphFormat = typer.Option(
        GraphFormat.dot,
        "--format",
        "-f",
        help="dot (Graphviz), mermaid (Markdown), tree (the terminal) or json.",
    ),
):
    """The computational graph, every node with its value and gradient.

    Example: autograd-cli graph examples/seed.expr | dot -Tsvg > seed.svg
    """
    return runner.run(options, reports.Graph())


@file_command(
    "explain",
    "files expr wrt of set_ set_json any_shape allow_read format dtype max_elements",
    on=app,
)
def explain_command(
    options: Options,
    wrt: str = typer.Option(
        ...,
        "--wrt",
        metavar="NAME",
        help="The gradient to explain: a name, or one element of it (--wrt 'w[0]').",
    ),
):
    """The chain rule for one gradient, worked out in symbols and numbers.

    Example: autograd-cli explain examples/seed.expr --wrt 'w[0]'
    """
    return runner.run(options, reports.Explain())


@app.command("functions", cls=Command)
def functions_command(
    name: str | None = typer.Argument(
        None,
        metavar="NAME",
        help="Show only this function or operator (exp, clip, @, ...).",
    ),
    format: Format = typer.Option(
        Format.table, "--format", "-f", help="table for people, json for programs."
    ),
):
    """Every function and operator: signature, what it does, derivative, conventions.

    Example: autograd-cli functions clip
    """
    code = reports.functions(name, format.value)
    if code:
        raise typer.Exit(code)


@app.command("repl", cls=Command)
def repl_command(
    dtype: DType = typer.Option(DType.float64, "--dtype", help="Floating-point type."),
    max_elements: int = MAX_ELEMENTS,
):
    """A session of bindings, one line at a time: values and gradients as you type.

    Each line binds names as in a file (several separated by ';'); the new
    values are printed with the gradients of the newest binding. :help lists
    the commands. With stdin not a terminal: no prompt, and exit 1 if any line
    failed.
    Example: printf 'param x = 2\\ny = x ** 3\\n' | autograd-cli repl
    """
    from . import repl

    code = repl.run(dtype.value, max_elements)
    if code:
        raise typer.Exit(code)


class TestFormat(str, Enum):
    text = "text"
    json = "json"


@app.command("test", cls=Command)
def test_command(
    paths: list[str] = typer.Argument(
        None,
        metavar="PATH",
        help="Files and directories to test (directories recursively; default: .).",
    ),
    rtol: float | None = typer.Option(
        None,
        "--rtol",
        min=0.0,
        help="Relative tolerance (default: 1e-7 for float64, "
        "1.3e-6 for float32, as torch.testing).",
    ),
    atol: float | None = typer.Option(
        None,
        "--atol",
        min=0.0,
        help="Absolute tolerance, in units of the largest "
        "magnitude in the field (one node's value or "
        "gradient), so that a change is caught at any "
        "scale (default: 1e-7 for float64, 1e-5 for "
        "float32): a number passes when |got - want| <= "
        "rtol * |want| + atol * max|field| + the field's "
        "rounding noise; nan matches nan.",
    ),
    update: bool = typer.Option(
        False,
        "--update",
        help="Write missing golden files and rewrite failing ones "
        "(each atomically), keeping what they list.",
    ),
    junit_xml: str | None = typer.Option(
        None,
        "--junit-xml",
        metavar="FILE",
        help="Also write a JUnit XML report to FILE (a "
        "regular file, replaced atomically; or a "
        "FIFO, /dev/stdout, /dev/null).",
    ),
    format: TestFormat = typer.Option(
        TestFormat.text, "--format", "-f", help="text for people, json for programs."
    ),
    max_elements: int = MAX_ELEMENTS,
    allow_read: list[str] = SHARED["allow_read"][1],
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
        raise typer.BadParameter("expected the name of a file, got ''", param_hint="--junit-xml")
    code = run_tests(
        paths or ["."],
        rtol=rtol,
        atol=atol,
        update=update,
        junit_xml_path=junit_xml,
        format=format.value,
        max_elements=max_elements,
        allow_read=allow_read,
    )
    if code:
        raise typer.Exit(code)


class FitMethod(str, Enum):
    lm = "lm"
    trf = "trf"
    lbfgs = "lbfgs"
    bfgs = "bfgs"
    newton = "newton"
    adam = "adam"
    sgd = "sgd"


@file_command(
    "fit",
    "files expr of wrt ... set_ set_json any_shape allow_read format dtype strict max_elements",
    on=app,
)
def fit_command(
    options: Options,
    of: str | None = typer.Option(
        None,
        "--of",
        metavar="NAME",
        help="The scalar target to minimise (default: the last binding).",
    ),
    wrt: list[str] = typer.Option(
        [],
        "--wrt",
        metavar="NAME",
        help="Fit only these params (or inputs) (repeatable; default: every param).",
    ),
    residuals: str | None = typer.Option(
        None,
        "--residuals",
        metavar="NAME",
        help="Least squares: minimise the sum of the squares of NAME (any shape), and "
        "report standard errors.",
    ),
    method: FitMethod | None = typer.Option(
        None,
        "--method",
        help="lm or trf (least squares, with --residuals; default trf), lbfgs (the "
        "default otherwise), bfgs, newton (exact Hessian), adam or sgd (torch.optim's "
        "rules).",
    ),
    steps: int | None = typer.Option(
        None,
        "--steps",
        min=0,
        metavar="N",
        help="At most N steps (lm and trf: evaluations of the residuals; default: "
        "10,000 for least squares, 15,000 for lbfgs and bfgs, 1,000 for newton, adam, sgd).",
    ),
    tol: float | None = typer.Option(
        None,
        "--tol",
        min=0.0,
        metavar="T",
        help="Convergence tolerance (0: off, so adam and sgd run exactly --steps steps; "
        "default: each method's, see docs/fit.md).",
    ),
    lr: float | None = typer.Option(
        None, "--lr", min=0.0, metavar="R", help="adam, sgd: the learning rate (default 0.001)."
    ),
    momentum: float | None = typer.Option(
        None, "--momentum", min=0.0, metavar="M", help="sgd: momentum (default 0)."
    ),
    nesterov: bool = typer.Option(False, "--nesterov", help="sgd: Nesterov momentum."),
    weight_decay: float | None = typer.Option(
        None,
        "--weight-decay",
        min=0.0,
        metavar="W",
        help="adam, sgd: L2 penalty added to the gradient, as torch.optim (default 0).",
    ),
    out: str | None = typer.Option(
        None,
        "--out",
        metavar="FILE",
        help="Write the fitted parameters to FILE as JSON, for eval --set-json FILE.",
    ),
):
    """Fit the params: minimise the scalar target, or with --residuals a sum of squares.

    The params are every param, or those --wrt names.
    Ctrl-C stops at the best point so far (exit 130, --out written). A fit
    that does not converge within --steps is a warning (exit 0; --strict: 1).
    Example: autograd-cli fit examples/misra1a.expr --residuals r
    """
    from .fitting.methods import Settings

    first_order = method in (FitMethod.adam, FitMethod.sgd)
    for flag, given in (
        ("--lr", lr is not None),
        ("--weight-decay", weight_decay is not None),
    ):
        if given and not first_order:
            raise typer.BadParameter("only for --method adam or sgd", param_hint=flag)
    for flag, given in (("--momentum", momentum is not None), ("--nesterov", nesterov)):
        if given and method is not FitMethod.sgd:
            raise typer.BadParameter("only for --method sgd", param_hint=flag)
    if nesterov and not momentum:
        # torch.optim.SGD refuses it too: Nesterov's step is a look-ahead along the momentum.
        raise typer.BadParameter(
            "Nesterov momentum needs a momentum: add --momentum M, M above 0",
            param_hint="--nesterov",
        )
    for flag, value in (("--lr", lr), ("--momentum", momentum), ("--weight-decay", weight_decay)):
        # The range check refuses nan; inf would be refused only after the file is read.
        if value == float("inf"):
            raise typer.BadParameter("expected a finite number, got inf", param_hint=flag)
    if len(options.files) > 1 and out is not None:
        raise typer.BadParameter("--out takes one FILE's fit: give one FILE", param_hint="--out")
    if out == "":
        # An empty name can be written nowhere: say so before the fit, not after it.
        raise typer.BadParameter("expected the name of a file, got ''", param_hint="--out")
    if out is not None and fit.is_input(out, options.files):
        # Replacing the file being fitted with its parameters would lose the model.
        raise typer.BadParameter("is the file being fitted: name another file", param_hint="--out")
    for path, option in fit.given_files(options.sets) if out else ():
        if fit.is_input(out, [path]):
            # The fitted params would replace the data the fit started from.
            raise typer.BadParameter(
                f"is the file {option} reads: name another file", param_hint="--out"
            )
    settings = Settings(
        method.value if method is not None else None,
        steps,
        tol,
        lr=lr,
        momentum=momentum,
        nesterov=nesterov,
        weight_decay=weight_decay,
    )
    return runner.run(options, fit.Fit(settings, residuals=residuals, out=out))
