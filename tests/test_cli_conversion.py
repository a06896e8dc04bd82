"""The command line converts its values without pydantic, which Typer 0.29
imports for its own conversion at more than the cost of the rest of Typer:
to the same values, and with Typer's own messages for those it refuses."""

import subprocess
import sys
import typing

import pytest
import typer.core
import typer.main
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from autograd_cli import cli_options
from autograd_cli.cli import app

from common import ROOT

# Typer 0.29 converts through its parameters' `get_runtime_param`; older
# Typers convert with Click's types, import no pydantic, and never call
# `cli_options.convert`.
RUNTIME = hasattr(typer.core.TyperOption, "get_runtime_param")
needs_runtime = pytest.mark.skipif(not RUNTIME, reason="this Typer converts with Click's types")


def all_params():
    """(command, parameter) for every parameter of the app and its commands,
    with the context to convert its values in."""
    group = typer.main.get_command(app)
    found = []
    with group.make_context("autograd-cli", ["functions"], resilient_parsing=True) as ctx:
        found += [("", p, ctx) for p in group.get_params(ctx)]
    for name, command in sorted(group.commands.items()):
        with command.make_context(name, [], resilient_parsing=True) as sub:
            found += [(name, p, sub) for p in command.get_params(sub)]
    return found


PARAMS = all_params() if RUNTIME else []
IDS = [f"{name or 'app'} {param.name}" for name, param, _ in PARAMS]


def typers(param, ctx, value):
    """Typer's own conversion of `value`: ("ok", value) or ("refused", message)."""
    runtime = typer.core.TyperOption.get_runtime_param(param)
    try:
        return "ok", runtime.coerce(value, param=param, ctx=ctx)
    except typer.BadParameter as e:
        return "refused", e.message


def same(a, b):
    """Equal, of one type, and the same float to the sign of zero."""
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    return type(a) is type(b) and (a == b or a != a and b != b) and repr(a) == repr(b)


def ours(param, ctx, value):
    """`cli_options.convert`'s conversion of `value` for `param`."""
    desc = param.type_descriptor
    return cli_options.convert(value, desc.annotation, desc.parameter_info, ctx)


def plain_values(param):
    """Values as people write them, which must not need Typer's conversion."""
    desc = param.type_descriptor
    annotation = desc.annotation
    item = typing.get_args(annotation)[0] if typing.get_origin(annotation) else annotation
    if item is str:
        values = ["w[0]", "-", "examples/seed.expr", ""]
    elif item is int:
        low = int(desc.parameter_info.min or 0)
        values = [str(low), str(low + 1), f"+{low}"]
    elif item is float:
        values = ["0", "1e-6", "0.5", "2.", ".25", "1E+3"]
    elif item is bool:
        return []
    else:
        values = [str(choice.value) for choice in item]
    return [[v] for v in values] if item is not annotation else values


@needs_runtime
@pytest.mark.parametrize("name, param, ctx", PARAMS, ids=IDS)
def test_plain_values_and_defaults_convert_as_typer_does(name, param, ctx):
    conversion = cli_options._Conversion(lambda: pytest.fail("left to Typer's conversion"))
    values = plain_values(param) + [param.default, None]
    for value in values:
        if param.type_descriptor.annotation is bool:
            continue  # Typer converts no flag's value
        got = conversion.coerce(value, param, ctx)
        verdict, theirs = typers(param, ctx, value)
        assert verdict == "ok" and same(got, theirs), (value, got, theirs)


# Strings near the numbers' and choices' spellings.
NEAR = st.text(alphabet="0123456789+-.eEinfatINFx_ \t٣", max_size=24) | st.sampled_from(
    ["table", "json", "Json", "float32", " auto", "tree", "lm\n", "nan", "-inf"]
    + ["9" * 18, "-" + "9" * 19, "1" * 5000, "1" * 400 + "e-400"]
)
SCALARS = [(n, p, c) for n, p, c in PARAMS if not (p.multiple or p.nargs == -1)]


@needs_runtime
@settings(max_examples=300, deadline=None)
@given(which=st.integers(0, max(len(SCALARS) - 1, 0)), text=NEAR)
def test_what_convert_takes_typer_takes_to_the_same_value(which, text):
    _, param, ctx = SCALARS[which]
    got = ours(param, ctx, text)
    if got is not cli_options.UNSURE:
        verdict, theirs = typers(param, ctx, text)
        assert verdict == "ok" and same(got, theirs), (param.name, text, got, theirs)


# Command lines whose values Typer refuses or that are spelled unusually,
# and plain ones.
ARGVS = [
    ["check", "examples/seed.expr", "--order", "3"],
    ["check", "examples/seed.expr", "--order", "0x1"],
    ["check", "examples/seed.expr", "--rtol", "nan"],
    ["check", "examples/seed.expr", "--rtol", "-1e-3"],
    ["check", "examples/seed.expr", "--atol", "1_0", "--eps", " 1e-4", "--seed", "0007"],
    ["check", "examples/seed.expr", "--directions", "1.0", "--samples", "2"],
    ["hessian", "examples/seed.expr", "--max-elements", "٣"],
    ["hessian", "examples/seed.expr", "--max-elements", "1" * 40],
    ["hessian", "examples/seed.expr", "--dtype", "FLOAT32"],
    ["hessian", "examples/seed.expr", "--dtype", "float32", "-f", "json"],
    ["jacobian", "examples/seed.expr", "--mode", "sideways"],
    ["graph", "examples/seed.expr", "-f", "table"],
    ["functions", "clip", "-f", "yaml"],
    ["functions", "clip", "-f", "json"],
    ["fit", "examples/misra1a.expr", "--method", "Adam"],
    ["fit", "examples/misra1a.expr", "--steps", "-1"],
    ["fit", "examples/misra1a.expr", "--lr", "inf", "--method", "adam"],
    ["test", "examples", "--rtol", "x"],
    ["repl", "--max-elements", "0"],
    ["eval", "examples/seed.expr", "--max-elements", "lots"],
]


@pytest.mark.parametrize("argv", ARGVS, ids=" ".join)
def test_command_lines_come_out_as_with_typers_conversion(argv, monkeypatch):
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    ours = runner.invoke(app, argv)
    monkeypatch.setattr(cli_options, "convert", lambda *args: cli_options.UNSURE)
    theirs = runner.invoke(app, argv)
    # `output` is stdout and stderr interleaved (Click 8.1's runner keeps no
    # separate stderr).
    assert (ours.exit_code, ours.stdout, ours.output) == (
        theirs.exit_code,
        theirs.stdout,
        theirs.output,
    )


# Every command, run as the console script runs it; a help, and an `eval`
# that goes to Typer (-fjson, which launch.py leaves to it).
STARTS = [
    ["check", "examples/seed.expr"],
    ["hessian", "examples/seed.expr", "--wrt", "w"],
    ["jacobian", "examples/seed.expr"],
    ["graph", "examples/seed.expr", "-f", "tree"],
    ["explain", "examples/seed.expr", "--wrt", "w[0]"],
    ["functions", "exp"],
    ["test", "examples/seed.expr"],
    ["fit", "examples/misra1a.expr", "--residuals", "r", "--max-elements", "100"],
    ["repl", "--dtype", "float32"],
    ["check", "--help"],
    ["eval", "examples/seed.expr", "-fjson"],
]


def test_no_command_imports_pydantic():
    code = (
        "import sys, autograd_cli.launch as l\n"
        f"for argv in {STARTS!r}:\n"
        "    code = l.run(argv)\n"
        "    print('RAN', argv[0], code, 'pydantic' in sys.modules, file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        input="param x = 2\n",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
    )
    runs = [line.split()[1:] for line in proc.stderr.splitlines() if line.startswith("RAN ")]
    assert runs == [[argv[0], "0", "False"] for argv in STARTS], proc.stderr


def test_anything_else_asked_of_a_conversion_is_typers():
    """A later Typer may ask a parameter's conversion for more than
    `coerce`: it gets its own runtime parameter's answer, not an error."""

    class Runtime:
        answer = 42

    conversion = cli_options._Conversion(Runtime)
    assert conversion.answer == 42
    with pytest.raises(AttributeError):
        _ = conversion.nothing_of_the_kind
