"""Every command, on random small programs: a result or a located error,
never an internal error (exit 70) or a traceback."""

import random

import pytest
from typer.testing import CliRunner

from autograd_cli.cli import app

ATOMS = ["x", "w", "v", "1", "2.5", "0", "-1", "pi", "[1, 2]", "[[1, 2], [3, 4]]", "[0, 0]"]
FUNCS = [
    "exp",
    "log",
    "sqrt",
    "abs",
    "relu",
    "tanh",
    "sum",
    "mean",
    "max",
    "min",
    "norm",
    "softmax",
    "logsumexp",
    "transpose",
    "sigmoid",
]
OPS = ["+", "-", "*", "/", "**", "@"]
COMMANDS = [
    ["check"],
    ["check", "--order", "2"],
    ["hessian"],
    ["jacobian", "--of", "v"],
    ["graph"],
    ["graph", "-f", "tree"],
    ["graph", "-f", "mermaid"],
    ["graph", "-f", "json"],
    ["explain", "--wrt", "w[0]"],
    ["explain", "--wrt", "x"],
    ["eval", "--strict"],
]


def random_expr(rng):
    """A random expression, built bottom up from atoms (no recursion)."""
    pool = [rng.choice(ATOMS) for _ in range(3)]
    for _ in range(rng.randint(0, 5)):
        r = rng.random()
        a, b = rng.choice(pool), rng.choice(pool)
        if r < 0.4:
            pool.append(f"({a} {rng.choice(OPS)} {b})")
        elif r < 0.55:
            pool.append(f"({a})[" + rng.choice(["0", "-1", "1:", "::-1", "0, 1"]) + "]")
        elif r < 0.7:
            pool.append(rng.choice([f"maximum({a}, {b})", f"clip({a}, 0, {b})"]))
        else:
            pool.append(f"{rng.choice(FUNCS)}({a})")
    return pool[-1]


@pytest.mark.parametrize("seed", range(60))
def test_every_command_on_random_programs(tmp_path, seed):
    rng = random.Random(seed)
    text = (
        "\n".join(
            [
                f"param w = {rng.choice(['[0.5, -0.3]', '0.7', '[[1, 0], [0, 1]]', '[0, 1]'])}",
                f"x = {rng.choice(['2', '[1, 2]', '[0.5, 0]'])}",
                f"v = {random_expr(rng)}",
                f"L = {rng.choice(['sum', 'mean', ''])}({random_expr(rng)})",
            ]
        )
        + "\n"
    )
    path = tmp_path / "random.expr"
    path.write_text(text)
    runner = CliRunner()
    for command in COMMANDS:
        result = runner.invoke(
            app, [command[0], str(path), *command[1:], "--max-elements", "10000"]
        )
        assert result.exit_code in (0, 1), (command, text, result.output)
        assert "Traceback" not in result.output
        if result.exit_code == 1 and command[0] != "check":
            assert result.stdout == "", (command, text)
            assert result.stderr.startswith(str(path)), (command, text, result.stderr)
