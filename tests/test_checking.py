"""check on large inputs (directional mode), the leaves each command covers,
and how hessian and jacobian show large blocks."""

import os
import re
import select
import subprocess
import sys

import numpy as np
import pytest

from autograd_cli import checking, options
from autograd_cli.ops import OPS

from clitools import invoke, strict_json, write
from common import ROOT

LIMIT = options.CHECK_FULL_LIMIT

# A square matrix product, so that a transposed gradient has the right shape.
BIG = """\
param W = randn(120, 120, seed=1) * 0.1
param b = randn(120, seed=3) * 0.1
x = randn(120, seed=2)
h = tanh(W @ x + b)
L = sum(h * h)
"""


def check_json(*args):
    result = invoke(["check", *args, "-f", "json"])
    assert result.exit_code in (0, 1), result.output
    doc = strict_json(result.stdout)
    assert doc["ok"] is (result.exit_code == 0)
    return doc


@pytest.fixture
def count_evaluations(monkeypatch):
    """Counts the forward passes check makes."""
    calls = []
    real = checking.evaluate

    def counting(graph, overrides=None, release=None):
        calls.append(1)
        return real(graph, overrides, release)

    monkeypatch.setattr(checking, "evaluate", counting)
    return calls


# ---------------------------------------------------------- which mode


def test_a_large_input_is_checked_along_directions(tmp_path, count_evaluations):
    """14,520 elements: a handful of forward passes, not two per element."""
    doc = check_json(write(tmp_path, BIG))
    assert doc["ok"] is True
    assert doc["mode"] == "directional"
    assert (doc["directions"], doc["samples"], doc["seed"]) == (
        options.CHECK_DIRECTIONS,
        options.CHECK_SAMPLES,
        options.CHECK_SEED,
    )
    for name, size in (("W", 14400), ("b", 120)):
        row = doc["check"][name]
        assert row["size"] == size and row["compared"] == options.CHECK_SAMPLES
        assert row["directional"]["count"] == options.CHECK_DIRECTIONS
        assert row["directional"]["ok"] is True
    per_leaf = 2 * (options.CHECK_SAMPLES + options.CHECK_DIRECTIONS)
    assert len(count_evaluations) <= 2 * per_leaf + 2  # and two at the point
    assert "directional" in doc["note"] and "--full" in doc["note"]


def test_the_mode_switches_above_the_limit(tmp_path):
    at = check_json(write(tmp_path, f"param x = linspace(0.1, 2, {LIMIT})\nL = sum(x * exp(-x))\n"))
    assert at["mode"] == "full" and at["check"]["x"]["compared"] == LIMIT
    assert "directions" not in at and "directional" not in at["check"]["x"]
    above = check_json(
        write(tmp_path, f"param x = linspace(0.1, 2, {LIMIT + 1})\nL = sum(x * exp(-x))\n")
    )
    assert above["mode"] == "directional"
    assert above["check"]["x"]["compared"] == options.CHECK_SAMPLES


def test_full_compares_every_element(tmp_path):
    path = write(tmp_path, f"param x = linspace(0.1, 2, {LIMIT + 40})\nL = sum(x * exp(-x))\n")
    doc = check_json(path, "--full")
    assert doc["mode"] == "full" and doc["ok"] is True
    assert doc["check"]["x"]["compared"] == doc["check"]["x"]["size"] == LIMIT + 40


def test_small_leaves_are_compared_whole_in_directional_mode(tmp_path):
    doc = check_json(
        write(
            tmp_path,
            "param W = randn(20, 20, seed=1)\nparam c = [0.5, 2]\n"
            "L = sum(tanh(W) * c[0]) + sum(c * c)\n",
        )
    )
    assert doc["mode"] == "directional"
    assert doc["check"]["c"]["compared"] == 2 and "directional" not in doc["check"]["c"]
    assert "directional" in doc["check"]["W"]


def test_the_table_says_which_mode(tmp_path):
    result = invoke(["check", write(tmp_path, BIG)])
    assert result.exit_code == 0
    out = result.stdout
    assert "16 of 14,400" in out and "3 directions" in out
    assert "directional: 14,520 elements, more than 256" in out
    small = invoke(["check", ROOT / "examples/mlp.expr"]).stdout
    assert "full: every element compared (26 elements checked)" in small
    assert "all 15" in small


def test_draws_are_reproducible_and_the_seed_changes_them(tmp_path):
    path = write(tmp_path, BIG)
    first, again = check_json(path), check_json(path)
    assert first == again
    other = check_json(path, "--seed", "7")
    assert other["seed"] == 7
    assert other["check"]["W"]["worst_index"] != first["check"]["W"]["worst_index"]
    # a leaf's draws do not depend on the other leaves checked
    alone = check_json(path, "--wrt", "W")
    assert alone["check"]["W"] == first["check"]["W"]


def test_directions_and_samples_set_the_work(tmp_path, count_evaluations):
    doc = check_json(write(tmp_path, BIG), "--wrt", "W", "--directions", "5", "--samples", "4")
    row = doc["check"]["W"]
    assert row["compared"] == 4 and row["directional"]["count"] == 5
    assert len(count_evaluations) == 2 * (4 + 5) + 2


def test_nothing_to_compare_is_a_usage_error(tmp_path):
    result = invoke(["check", write(tmp_path, BIG), "--directions", "0", "--samples", "0"])
    assert result.exit_code == 2
    assert result.stdout == ""


# ----------------------------------------------- it still catches mistakes


def _transposed(vjp):
    return lambda g, ans, a, b: np.ascontiguousarray(np.asarray(vjp(g, ans, a, b)).T)


def _scaled(vjp, factor):
    return lambda g, ans, a, b: vjp(g, ans, a, b) * factor


@pytest.mark.parametrize(
    "options",
    [[], ["--samples", "0"], ["--directions", "0"]],
    ids=["default", "directions only", "elements only"],
)
@pytest.mark.parametrize("breakage", ["transposed", "doubled"])
def test_a_wrong_vjp_fails_on_a_large_input(tmp_path, monkeypatch, options, breakage):
    """Break the matrix product's gradient for its left argument: W's row
    fails, b's (which does not go through it) passes, exit 1."""
    op = OPS["matmul"]
    da, db = op.vjps
    broken = _transposed(da) if breakage == "transposed" else _scaled(da, 2.0)
    monkeypatch.setattr(op, "vjps", (broken, db))
    path = write(tmp_path, BIG)
    doc = check_json(path, *options)
    assert doc["mode"] == "directional"
    assert doc["ok"] is False
    w = doc["check"]["W"]
    assert w["ok"] is False and "note" not in w
    if "--samples" in options:
        assert w["directional"]["ok"] is False
    assert doc["check"]["b"]["ok"] is True
    result = invoke(["check", path, *options])
    assert result.exit_code == 1 and "FAIL" in result.stdout


def test_a_small_error_in_every_element_is_caught_by_the_elements(tmp_path, monkeypatch):
    """Directions tolerate what the elements would (an error of 0.9·rtol in
    every element passes both ways); 3·rtol fails the elements compared."""
    path = write(tmp_path, "param x = linspace(-1, 1, 2000)\nL = sum(exp(x))\n")
    exp_vjp = OPS["exp"].vjps[0]
    for factor, ok in ((1 + 0.9e-5, True), (1 + 3e-5, False)):
        monkeypatch.setattr(
            OPS["exp"], "vjps", (lambda g, ans, x, f=factor: exp_vjp(g, ans, x) * f,)
        )
        row = check_json(path)["check"]["x"]
        assert row["ok"] is ok, factor
        if ok:
            assert row["directional"]["ok"] is True
    monkeypatch.setattr(OPS["exp"], "vjps", (lambda g, ans, x: exp_vjp(g, ans, x) * (1 + 0.9e-5),))
    assert check_json(path, "--full")["ok"] is True


def test_one_wrong_element_is_caught_along_directions(tmp_path, monkeypatch):
    """An error in a single element of 2,000: no sampled element need hit
    it, but every random direction sees it."""
    exp_vjp = OPS["exp"].vjps[0]

    def wrong_at_one(g, ans, x):
        out = np.array(exp_vjp(g, ans, x), dtype=np.float64)
        out[1234] += 1.0
        return out

    monkeypatch.setattr(OPS["exp"], "vjps", (wrong_at_one,))
    path = write(tmp_path, "param x = linspace(-1, 1, 2000)\nL = sum(exp(x))\n")
    row = check_json(path, "--samples", "0")["check"]["x"]
    assert row["ok"] is False and row["directional"]["ok"] is False


def test_a_kink_is_noted_in_directional_mode(tmp_path):
    doc = check_json(write(tmp_path, "param x = zeros(400)\nL = sum(relu(x))\n"))
    assert doc["mode"] == "directional" and doc["ok"] is True
    assert "relu at 0" in doc["check"]["x"]["note"]


# A program at each declared kink (the op table's `kinks`), and one beside it.
KINK_PROGRAMS = {
    "relu": ("param x = [0, 1]\nL = sum(relu(x))\n", "param x = [0.5, 1]\nL = sum(relu(x))\n"),
    "abs": ("param x = [0, 1]\nL = sum(abs(x))\n", "param x = [0.5, 1]\nL = sum(abs(x))\n"),
    "maximum": (
        "param x = [2, 1]\nL = sum(maximum(x, 2))\n",
        "param x = [3, 1]\nL = sum(maximum(x, 2))\n",
    ),
    "minimum": (
        "param x = [2, 1]\nL = sum(minimum(x, 2))\n",
        "param x = [3, 1]\nL = sum(minimum(x, 2))\n",
    ),
    "clip": (
        "param x = [0.5, 1]\nL = sum(clip(x, 0, 1))\n",
        "param x = [0.5, 0.75]\nL = sum(clip(x, 0, 1))\n",
    ),
    "max": (
        "param x = [[3, 1], [3, 2]]\nL = sum(max(x, axis=0))\n",
        "param x = [[1, 3], [2, 2]]\nL = sum(max(x, axis=0))\n",
    ),
    "min": ("param x = [1, 1, 2]\nL = min(x)\n", "param x = [1, 3, 2]\nL = min(x)\n"),
    "std": ("param x = [2, 2, 2]\nL = std(x)\n", "param x = [2, 3, 2]\nL = std(x)\n"),
    "det": (
        "param A = [[1, 2], [2, 4]]\nL = det(A)\n",
        "param A = [[1, 2], [2, 5]]\nL = det(A)\n",
    ),
    "inv": (
        "param A = [[1, 2], [2, 4]]\nL = sum(inv(A))\n",
        "param A = [[1, 2], [2, 5]]\nL = sum(inv(A))\n",
    ),
    "solve": (
        "param A = [[1, 2], [2, 4]]\nL = sum(solve(A, [1, 1]))\n",
        "param A = [[1, 2], [2, 5]]\nL = sum(solve(A, [1, 1]))\n",
    ),
    "atan2": (
        "param y = [0, 1]\nparam x = [-1, 1]\nL = sum(atan2(y, x))\n",
        "param y = [0, 1]\nparam x = [1, 1]\nL = sum(atan2(y, x))\n",
    ),
    "sign": (
        "param x = [0, 1]\nL = sum(sign(x) * x)\n",
        "param x = [0.5, 1]\nL = sum(sign(x) * x)\n",
    ),
    "floor": (
        "param x = [2, 1.5]\nL = sum(floor(x))\n",
        "param x = [2.5, 1.5]\nL = sum(floor(x))\n",
    ),
    "ceil": ("param x = [2, 1.5]\nL = sum(ceil(x))\n", "param x = [2.5, 1.5]\nL = sum(ceil(x))\n"),
    "round": (
        "param x = [2.5, 1]\nL = sum(round(x))\n",
        "param x = [2.4, 1.2]\nL = sum(round(x))\n",
    ),
}
_COMPARISONS = (("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">="), ("eq", "=="), ("ne", "!="))
for _name, _symbol in _COMPARISONS:
    KINK_PROGRAMS[_name] = (
        f"param x = [2, 1]\nL = sum((x {_symbol} 2) * x)\n",
        f"param x = [3, 1]\nL = sum((x {_symbol} 2) * x)\n",
    )


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items() if op.kinks))
def test_every_declared_kink_is_noted(tmp_path, name):
    """check finds each op's declared kink where the values sit on it, and
    not beside it."""
    from autograd_cli.compiling import load
    from autograd_cli.engine import evaluate
    from autograd_cli.errors import Source

    at, beside = KINK_PROGRAMS[name]
    what = OPS[name].kinks[0]
    found = []
    for text in (at, beside):
        model = load(Source("k.expr", text))
        found.append(" ".join(checking._kinks(model, evaluate(model.graph)).values()))
    assert what in found[0] and what not in found[1]


def test_nan_fails_in_directional_mode(tmp_path):
    result = invoke(
        [
            "check",
            write(tmp_path, "param x = linspace(-1, 1, 400)\nL = sum(log(x) * x)\n"),
            "-f",
            "json",
        ]
    )
    assert result.exit_code == 1
    row = strict_json(result.stdout)["check"]["x"]
    assert row["directional"]["ok"] is False and row["directional"]["max_abs_err"] == "nan"


def test_float32_in_directional_mode(tmp_path):
    doc = check_json(write(tmp_path, BIG), "--dtype", "float32")
    assert doc["dtype"] == "float32" and doc["mode"] == "directional" and doc["ok"] is True


# ---------------------------------------------------------------- order 2


def test_order_2_on_a_large_input_uses_hessian_vector_products(tmp_path, count_evaluations):
    doc = check_json(write(tmp_path, BIG), "--order", "2")
    assert doc["order"] == 2 and doc["mode"] == "directional" and doc["ok"] is True
    ww = doc["check"]["W"]["W"]
    assert ww["size"] == 14400**2
    assert ww["compared"] == 14400 * options.CHECK_SAMPLES
    assert ww["directional"]["count"] == options.CHECK_DIRECTIONS
    assert len(ww["directional"]["worst_index"]) == 2
    assert len(ww["worst_index"]) == 4
    # two gradients per column and per direction, per leaf; nothing per element
    assert len(count_evaluations) < 200


def test_order_2_catches_a_wrong_second_derivative(tmp_path, monkeypatch):
    """tanh's VJP with 1 - ans² taken as a constant: the gradient is right,
    the Hessian (which differentiates the VJP) is not."""
    from autograd_cli.core import raw
    from autograd_cli.ops import mul

    monkeypatch.setattr(OPS["tanh"], "vjps", (lambda g, ans, x: mul(g, 1 - raw(ans) ** 2),))
    path = write(tmp_path, BIG)
    assert check_json(path)["ok"] is True
    doc = check_json(path, "--order", "2")
    assert doc["mode"] == "directional" and doc["ok"] is False
    assert doc["check"]["W"]["W"]["directional"]["ok"] is False
    assert invoke(["check", path, "--order", "2"]).exit_code == 1


def test_order_2_full_agrees_on_the_sampled_columns(tmp_path):
    """Directional and full runs compare the same Hessian: both pass, and
    --full compares every element."""
    path = write(
        tmp_path, "param w = linspace(0.1, 1, 300)\nL = mean(w * w * w) + mean(w) * mean(sin(w))\n"
    )
    directional = check_json(path, "--order", "2")
    full = check_json(path, "--order", "2", "--full")
    assert directional["mode"] == "directional" and full["mode"] == "full"
    assert directional["ok"] is True and full["ok"] is True
    assert full["check"]["w"]["w"]["compared"] == 300 * 300


def test_order_2_full_over_max_elements_is_an_error(tmp_path):
    path = write(tmp_path, "param w = linspace(-1, 1, 20)\nL = sum(w ** 4)\n")
    result = invoke(["check", path, "--order", "2", "--full", "--max-elements", "100"])
    assert result.exit_code == 1 and result.stdout == ""
    assert "400 elements, over the limit of 100" in result.stderr
    # without --full, the Hessian that does not fit is compared along directions
    doc = check_json(path, "--order", "2", "--max-elements", "100")
    assert doc["mode"] == "directional" and doc["ok"] is True


# ------------------------------------------------------------ the leaves


@pytest.mark.parametrize(
    "command", [["check"], ["check", "--order", "2"], ["hessian"], ["jacobian"]]
)
def test_left_out_inputs_are_named(command):
    path = ROOT / "examples/mlp.expr"
    doc = strict_json(invoke([command[0], path, *command[1:], "-f", "json"]).stdout)
    assert doc["wrt"] == ["W1", "b1", "W2", "b2"]
    assert doc["left_out"] == ["X", "y"]
    table = invoke([command[0], path, *command[1:]]).stdout
    assert "every param: W1, b1, W2, b2; left out: inputs X, y (--wrt NAME adds one)" in table


def test_wrt_adds_an_input_and_says_what_is_left_out():
    path = ROOT / "examples/mlp.expr"
    doc = check_json(path, "--wrt", "X", "--wrt", "b2")
    assert doc["wrt"] == ["X", "b2"] and list(doc["check"]) == ["X", "b2"]
    assert doc["left_out"] == ["y", "W1", "b1", "W2"]
    table = invoke(["check", path, "--wrt", "X", "--wrt", "b2"]).stdout
    assert "with respect to X, b2 (--wrt); left out: params W1, b1, W2; input y" in table


def test_without_params_every_input_is_covered(tmp_path):
    path = write(tmp_path, "x = 2\ny = 3\nL = x * y ** 2\n")
    doc = check_json(path)
    assert doc["wrt"] == ["x", "y"] and doc["left_out"] == []
    table = invoke(["check", path]).stdout
    assert "every input (there is no param): x, y" in table and "left out" not in table


# ------------------------------------------------ hessian and jacobian tables

NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?")


def _value_numbers(stdout):
    """The numbers in the table's value column."""
    count = 0
    for line in stdout.splitlines():
        cells = line.split("│")
        if len(cells) == 5:
            count += len(NUMBER.findall(cells[3].replace("as a 24 × 24 matrix", "")))
    return count


@pytest.mark.parametrize("command, of", [("hessian", []), ("jacobian", ["--of", "g"])])
def test_a_large_block_is_summarised_and_json_is_whole(tmp_path, command, of):
    """A (4, 6, 4, 6) block: numpy would show all 576 numbers, as no axis
    is longer than six; the table shows it as a 24 x 24 matrix, summarised."""
    path = write(tmp_path, "param W = randn(4, 6, seed=1)\ng = W * W * W\nL = sum(g)\n")
    result = invoke([command, path, *of])
    assert result.exit_code == 0, result.output
    assert "as a 24 × 24 matrix" in result.stdout
    assert 0 < _value_numbers(result.stdout) <= 36
    assert "--format json has them whole" in result.stdout
    doc = strict_json(invoke([command, path, *of, "-f", "json"]).stdout)
    block = np.array(doc["hessian"]["W"]["W"] if command == "hessian" else doc["jacobian"]["W"])
    assert block.shape == (4, 6, 4, 6)
    w = np.random.default_rng(1).standard_normal((4, 6))
    want = np.einsum(
        "ij,ik,jl->ijkl",
        (6 if command == "hessian" else 3) * w ** (1 if command == "hessian" else 2),
        np.eye(4),
        np.eye(6),
    )
    np.testing.assert_allclose(block, want, rtol=1e-12)


def test_a_small_block_is_shown_whole():
    result = invoke(["hessian", ROOT / "examples/logistic.expr"])
    assert "0.0436674" in result.stdout and "summarised" not in result.stdout


def test_a_block_with_a_scalar_side_is_flattened(tmp_path):
    path = write(tmp_path, "param W = randn(2, 2, 2, 2, 2, 2, seed=1)\nL = sum(W * W)\n")
    result = invoke(["jacobian", path])
    assert "flattened" in result.stdout
    assert 0 < _value_numbers(result.stdout) <= 6


def test_hessian_over_max_elements_is_an_error(tmp_path):
    path = write(tmp_path, "param w = ones(200)\nL = sum(w ** 3)\n")
    result = invoke(["hessian", path, "--max-elements", "1000"])
    assert result.exit_code == 1 and result.stdout == ""
    assert "40,000 elements, over the limit of 1,000" in result.stderr


# ----------------------------------------------------------- progress bar


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path):
    result = invoke(["check", write(tmp_path, BIG), "--wrt", "b", "--full"])
    assert result.exit_code == 0
    assert result.stderr == ""


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_a_progress_bar_on_a_terminal(tmp_path):
    path = write(tmp_path, BIG)
    master, slave = os.openpty()
    env = {**os.environ, "COLUMNS": "160", "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autograd_cli",
            "check",
            str(path),
            "--wrt",
            "b",
            "--full",
            "-f",
            "json",
        ],
        stdout=subprocess.PIPE,
        stderr=slave,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    out = proc.stdout.read()
    proc.stdout.close()
    assert proc.wait() == 0
    assert strict_json(out.decode())["mode"] == "full"
    assert b"checking t.expr" in seen and b"/240" in seen
