"""The elementwise maths (asin ... erfc, atan2), the step functions, the
comparisons and where(cond, a, b): values against numpy and the math
module, gradients against central differences of those references (and
PyTorch when it is installed), forward mode against reverse mode, second
derivatives, explain, check's kinks and the language's comparisons."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from autograd_cli.compiling import load
from autograd_cli.core import OPS
from autograd_cli.errors import ExprError, Source
from autograd_cli.explain import explain, render_explain
from autograd_cli.running import run

from clitools import invoke, strict_json, write
from common import ROOT

# name -> (the reference on float64 arrays, where to sample x)
_erf = np.vectorize(math.erf, otypes=[float])
_erfc = np.vectorize(math.erfc, otypes=[float])
UNARY = {
    "asin": (np.arcsin, (-0.9, 0.9)),
    "acos": (np.arccos, (-0.9, 0.9)),
    "atan": (np.arctan, (-3.0, 3.0)),
    "sinh": (np.sinh, (-3.0, 3.0)),
    "cosh": (np.cosh, (-3.0, 3.0)),
    "asinh": (np.arcsinh, (-3.0, 3.0)),
    "acosh": (np.arccosh, (1.1, 4.0)),
    "atanh": (np.arctanh, (-0.9, 0.9)),
    "log2": (np.log2, (0.1, 5.0)),
    "log10": (np.log10, (0.1, 5.0)),
    "expm1": (np.expm1, (-2.0, 2.0)),
    "erf": (_erf, (-2.5, 2.5)),
    "erfc": (_erfc, (-2.5, 2.5)),
}
STEPS = {"sign": np.sign, "floor": np.floor, "ceil": np.ceil, "round": np.round}
COMPARISONS = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}
# Every op ops_math.py declares.
NEW_OPS = [*UNARY, "atan2", *STEPS, "lt", "le", "gt", "ge", "eq", "ne", "select"]


def lit(a) -> str:
    """An array as the language writes it."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        v = float(a)
        return repr(v) if v >= 0 else f"({v!r})"
    return "[" + ", ".join(lit(x) for x in a) + "]"


def report(text, dtype="float64"):
    return run(load(Source("t.expr", text), dtype=dtype))


def samples(lo, hi, n=7, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, n)


def central(f, x, h=1e-6):
    """d f(x) / dx elementwise, by central differences of the reference."""
    return (f(x + h) - f(x - h)) / (2 * h)


# ------------------------------------------------------------------- values


@pytest.mark.parametrize("name", sorted(UNARY))
def test_values_and_gradients_against_the_reference(name):
    f, (lo, hi) = UNARY[name]
    x = samples(lo, hi)
    w = samples(-2, 2, seed=1)
    rep = report(f"param x = {lit(x)}\nw = {lit(w)}\ny = {name}(x)\nL = sum(w * y)\n")
    np.testing.assert_allclose(rep.values["y"], f(x), rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(rep.grads["x"], w * central(f, x), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_a_single_number_runs_as_a_float_and_agrees(name):
    """The float kernel (float64 scalars) and the array path give the same
    value and gradient (to the last bit where both call the same function;
    erf's arrays go through SciPy, its numbers through the math module)."""
    f, (lo, hi) = UNARY[name]
    for x in samples(lo, hi, n=3, seed=2):
        one = report(f"param x = {float(x)!r}\nL = {name}(x)\n")
        many = report(f"param x = [{float(x)!r}]\nL = sum({name}(x))\n")
        assert type(one.values["L"]) in (float, np.float64)
        rtol = 4e-16 if name in ("erf", "erfc") else 0
        np.testing.assert_allclose(one.values["L"], many.values["L"], rtol=rtol)
        np.testing.assert_allclose(one.grads["x"], many.grads["x"][0], rtol=rtol)
        np.testing.assert_allclose(one.values["L"], f(np.array(x)), rtol=1e-15)


def test_erf_of_an_array_matches_the_math_module_closely():
    x = np.linspace(-6, 6, 1001)
    rep = report("x = linspace(-6, 6, 1001)\ny = erf(x)\nz = erfc(x)\nL = sum(y + z)\n")
    np.testing.assert_allclose(rep.values["y"], _erf(x), rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(rep.values["z"], _erfc(x), rtol=1e-14, atol=1e-300)


def test_erf_works_without_scipy(monkeypatch):
    from autograd_cli import ops_math

    monkeypatch.setattr(ops_math, "_special", lambda: None)
    x = np.array([-1.5, 0.25, 3.0])
    assert np.array_equal(OPS["erf"].forward(x), _erf(x))
    assert np.array_equal(OPS["erfc"].forward(x), _erfc(x))
    assert OPS["erf"].forward(x.astype(np.float32)).dtype == np.float32


def test_float32_keeps_its_dtype():
    text = (
        "param x = [0.25, 0.5]\n"
        "y = asin(x) + erf(x) + atan2(x, 1) + sign(x) + (x < 0.3) + where(x > 0.3, x, 1)\n"
        "L = sum(y)\n"
    )
    rep = report(text, dtype="float32")
    assert rep.values["y"].dtype == np.float32 and rep.grads["x"].dtype == np.float32


def test_domain_errors_give_nan_with_the_usual_warning(tmp_path):
    for expr in ("asin(2)", "acos(-1.5)", "acosh(0.5)", "atanh(2)", "log10(-1)", "log2(-1)"):
        path = write(tmp_path, f"param x = 1\nL = x * {expr}\n")
        result = invoke(["eval", path, "-f", "json"])
        doc = strict_json(result.stdout)
        assert doc["value"] == "nan", expr
        assert any("nan" in w["message"] for w in doc["warnings"]), (expr, doc["warnings"])


# -------------------------------------------------------------------- atan2


def test_atan2_broadcasts_and_its_gradients_match_central_differences():
    y = samples(-2, 2, n=3, seed=3).reshape(3, 1)
    x = samples(-2, 2, n=4, seed=4)
    w = samples(-1, 1, n=12, seed=5).reshape(3, 4)
    rep = report(
        f"param y = {lit(y.ravel())}\nparam x = {lit(x)}\nw = reshape({lit(w.ravel())}, 3, 4)\n"
        "a = atan2(reshape(y, 3, 1), x)\nL = sum(w * a)\n"
    )
    np.testing.assert_allclose(rep.values["a"], np.arctan2(y, x), rtol=1e-15)
    dy = (w * central(lambda v: np.arctan2(v, x), y)).sum(axis=1)
    dx = (w * central(lambda v: np.arctan2(y, v), x)).sum(axis=0)
    np.testing.assert_allclose(rep.grads["y"], dy, rtol=1e-7)
    np.testing.assert_allclose(rep.grads["x"], dx, rtol=1e-7)


@pytest.mark.parametrize("y, x", [("0", "0"), ("0", "-0"), ("1e-200", "1e-200"), ("0", "1e-170")])
def test_atan2_has_gradient_0_where_x2_plus_y2_is_0_as_pytorch(y, x):
    """PyTorch takes 1/(x² + y²) as 0 where it is infinite: the gradient is
    0 at the origin (and where x² + y² underflows), not 0/0."""
    for text in (f"param y = {y}\nparam x = {x}\n", f"param y = [{y}]\nparam x = [{x}]\n"):
        rep = report(text + "L = sum(atan2(y, x))\n")
        assert np.all(np.asarray(rep.grads["x"]) == 0), text
        assert np.all(np.asarray(rep.grads["y"]) == 0), text


# ----------------------------------------------------------- step functions


@pytest.mark.parametrize("name", sorted(STEPS))
def test_step_functions_have_zero_gradient(name):
    x = np.array([-2.5, -1.0, -0.3, 0.0, 0.5, 1.5, 2.5, 3.7])
    rep = report(f"param x = {lit(x)}\ny = {name}(x)\nL = sum(y * 3)\n")
    assert np.array_equal(rep.values["y"], STEPS[name](x))
    assert np.array_equal(rep.grads["x"], np.zeros_like(x))


def test_round_is_half_to_even():
    rep = report("y = round([0.5, 1.5, 2.5, -0.5, -1.5, 2.6])\nL = sum(y)\n")
    assert rep.values["y"].tolist() == [0, 2, 2, 0, -2, 3]


def test_sign_of_nan_and_zeros():
    rep = report("param x = 1\nL = sign(x - 1) + sign(-x) + sign(x)\n")
    assert rep.values["L"] == 0.0 and rep.grads["x"] == 0.0


# ---------------------------------------------------------------- where


def test_where_takes_a_branch_and_the_gradient_follows_it():
    c = np.array([[1.0], [0.0]])  # broadcast along columns
    a = np.array([1.0, 2.0, 3.0])
    b = 5.0
    text = (
        f"param c = [[1], [0]]\nparam a = {lit(a)}\nparam b = {b!r}\n"
        "y = where(c, a * a, b * b)\nL = sum(y)\n"
    )
    rep = report(text)
    assert np.array_equal(rep.values["y"], np.where(c != 0, a * a, b * b))
    # a is taken in row 0 only, b in the three columns of row 1
    assert np.array_equal(rep.grads["a"], 2 * a)
    assert rep.grads["b"] == 3 * 2 * b
    assert np.array_equal(rep.grads["c"], np.zeros_like(c))


def test_where_counts_any_nonzero_as_true():
    rep = report("y = where([2, -1, 0, 0.5], 1, 0)\nL = sum(y)\n")
    assert rep.values["y"].tolist() == [1, 1, 0, 1]


def test_where_passes_a_nan_of_the_branch_not_taken_as_torch_where():
    """The branch not taken gets a gradient of 0, which sqrt's VJP at a
    negative number turns into nan (0/nan): torch.where's well-known trap,
    kept so that the two agree."""
    rep = report("param x = [-1, 4]\nL = sum(where(x > 0, sqrt(x), 0))\n")
    assert rep.grads["x"][1] == 0.25
    assert math.isnan(rep.grads["x"][0])


# ------------------------------------------------------------- comparisons


@pytest.mark.parametrize("symbol", sorted(COMPARISONS))
def test_comparisons_are_0_1_arrays_without_gradient(symbol):
    x = np.array([-1.0, 0.0, 1.0, 2.0, np.nan])
    rep = report(
        f"param x = [-1, 0, 1, 2, 0]\nx2 = x + [0, 0, 0, 0, 0]\ny = x2 {symbol} 1\nL = sum(y * x)\n"
    )
    want = COMPARISONS[symbol](x[:4], 1.0).astype(float)
    assert np.array_equal(rep.values["y"][:4], want)
    # the gradient reaches x only through the factor x, not the comparison
    np.testing.assert_array_equal(rep.grads["x"], rep.values["y"])


def test_comparisons_with_nan_are_false_except_not_equal():
    rep = report(
        "n = 0 * log(-1)\ny = [n < 1, n <= 1, n > 1, n >= 1, n == n, n != n]\nL = sum(y)\n"
    )
    assert rep.values["y"].tolist() == [0, 0, 0, 0, 0, 1]


@pytest.mark.parametrize(
    "text, want",
    [
        ("1 + 2 < 2 * 2", 1.0),  # (1 + 2) < (2 * 2)
        ("2 * 3 == 6", 1.0),
        ("-1 < 0", 1.0),
        ("2 ** 2 > 3", 1.0),
        ("(1 < 2) + (2 < 1)", 1.0),
        ("1 < (2 < 3)", 0.0),
        ("(1 < 2) < 3", 1.0),
        ("1 - 1 != 0", 0.0),
        ("sum([1, 2] >= 2)", 1.0),
        ("1 <= 1", 1.0),
    ],
)
def test_comparisons_bind_looser_than_sums(text, want):
    assert report(f"L = {text}\n").values["L"] == want


def test_a_comparison_spans_lines_inside_brackets():
    assert report("L = (1\n  <\n  2)\n").values["L"] == 1.0


def test_a_keyword_argument_is_not_a_comparison():
    rep = report("x = [1, 2]\nL = sum(softmax(x, axis=0) == 1)\n")
    assert rep.values["L"] == 0.0


@pytest.mark.parametrize("text, col", [("1 < 2 < 3", 11), ("1 == 2 != 3", 12), ("1<2>3", 8)])
def test_chained_comparisons_are_an_error_that_suggests_the_product(tmp_path, text, col):
    result = invoke(["eval", write(tmp_path, f"L = {text}\n")])
    assert result.exit_code == 1 and result.stdout == ""
    assert f"t.expr:1:{col}: error: comparisons do not chain" in result.stderr
    assert ") * (b " in result.stderr


def test_chained_comparison_error_is_the_same_on_both_parsers():
    from autograd_cli import parser

    text = "L = 1 < 2 < 3\n"
    with pytest.raises(ExprError) as fast:
        parser.parse(Source("t.expr", text))
    with pytest.raises(Exception) as lark_error:
        parser._lark().parse(text)
    slow = parser._syntax_error(lark_error.value, Source("t.expr", text))
    assert str(slow) == str(fast.value) and "do not chain" in str(fast.value)


# ------------------------------------------------------------------ arity


@pytest.mark.parametrize(
    "call, message",
    [
        ("asin(1, 2)", "asin() takes at most 1 argument, got 2; usage: asin(x)"),
        ("atan2(1)", "atan2() is missing the argument 'x'; usage: atan2(y, x)"),
        ("where(1, 2)", "where() is missing the argument 'b'; usage: where(cond, a, b)"),
        ("sign()", "sign() is missing the argument 'x'; usage: sign(x)"),
        ("erf(x=1, y=2)", "erf() has no argument 'y'"),
    ],
)
def test_bad_arity_is_a_located_error(tmp_path, call, message):
    result = invoke(["eval", write(tmp_path, f"L = {call}\n")])
    assert result.exit_code == 1 and result.stdout == ""
    assert "t.expr:1:" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------- forward against reverse


def _args_for(name, rng):
    """Arguments for op `name` inside its domain, with broadcasting where
    the op takes more than one."""
    if name in UNARY:
        lo, hi = UNARY[name][1]
        return [rng.uniform(lo, hi, (2, 3))]
    if name in STEPS:
        return [rng.uniform(-3, 3, (2, 3))]
    if name == "atan2":
        return [rng.uniform(-2, 2, (2, 1)), rng.uniform(-2, 2, (3,))]
    if name == "select":
        return [
            rng.integers(0, 2, (2, 3)).astype(float),
            rng.normal(size=(3,)),
            rng.normal(size=(2, 1)),
        ]
    return [rng.normal(size=(2, 3)), rng.normal(size=(3,))]  # comparisons


def _jacobians(op, args, reverse):
    """The Jacobian of op at args for each argument, of shape ans.shape +
    arg.shape: by VJPs, one one-hot gradient per output element, or by
    JVPs, one batch of one-hot tangents per argument."""
    ans = op.forward(*args)
    blocks = []
    for k, a in enumerate(args):
        if reverse:
            J = np.zeros(ans.shape + a.shape)
            for pos in np.ndindex(*ans.shape):
                g = np.zeros(ans.shape)
                g[pos] = 1
                J[pos] = op.vjps[k](g, ans, *args)
        else:
            eye = np.eye(a.size).reshape((a.size,) + a.shape)
            tangents = [None] * len(args)
            tangents[k] = eye
            t = op.jvp(tangents, ans, *args)
            assert t.shape == (a.size,) + ans.shape and t.dtype == ans.dtype
            J = np.moveaxis(t.reshape((a.size,) + ans.shape), 0, -1).reshape(ans.shape + a.shape)
        blocks.append(J)
    return blocks


@pytest.mark.parametrize("name", [n for n in NEW_OPS if OPS[n].vjps])
def test_forward_and_reverse_mode_agree_to_the_bit(name):
    op = OPS[name]
    args = _args_for(name, np.random.default_rng(11))
    for rev, fwd in zip(_jacobians(op, args, True), _jacobians(op, args, False)):
        assert np.array_equal(rev, fwd, equal_nan=True), name


@pytest.mark.parametrize("name", [n for n in NEW_OPS if OPS[n].vjps])
def test_jvp_of_both_arguments_is_the_sum_and_keeps_float32(name):
    op = OPS[name]
    rng = np.random.default_rng(12)
    args = [a.astype(np.float32) for a in _args_for(name, rng)]
    ans = op.forward(*args)
    tangents = [rng.normal(size=(4,) + a.shape).astype(np.float32) for a in args]
    both = op.jvp(tangents, ans, *args)
    assert both.shape == (4,) + ans.shape and both.dtype == np.float32
    parts = []
    for k in range(len(args)):
        only = [t if j == k else None for j, t in enumerate(tangents)]
        parts.append(op.jvp(only, ans, *args))
    np.testing.assert_allclose(both, sum(parts), rtol=1e-6)


def test_comparisons_have_no_tangent_and_no_vjps():
    for name in ("lt", "le", "gt", "ge", "eq", "ne"):
        op = OPS[name]
        x, y = np.arange(3.0), np.ones(3)
        assert not op.vjps
        assert op.jvp([np.ones((2, 3)), None], op.forward(x, y), x, y) is None


def test_a_jvp_through_a_scalar_argument_gets_its_axes():
    """A scalar's tangents (B,) against an output (2, 3): axes go after B."""
    y, x = np.float64(0.5), np.linspace(1, 2, 6).reshape(2, 3)
    ans = OPS["atan2"].forward(y, x)
    t = OPS["atan2"].jvp([np.array([1.0, 2.0]), None], ans, y, x)
    assert t.shape == (2, 2, 3)
    np.testing.assert_allclose(t[1], 2 * x / (x * x + y * y))


@pytest.mark.parametrize("name", [*UNARY, *STEPS])
def test_jvp_of_a_single_number(name):
    """A numpy scalar's tangents have shape (B,); each is scaled by the
    derivative the VJP gives."""
    op = OPS[name]
    x = np.float64(UNARY[name][1][0] * 0.5 + UNARY[name][1][1] * 0.5 if name in UNARY else 0.3)
    ans = op.forward(x)
    t = op.jvp([np.array([1.0, -2.0, 0.5])], ans, x)
    d = op.vjps[0](np.float64(1.0), ans, x)
    assert t.shape == (3,) and t.dtype == np.float64
    assert np.array_equal(t, np.array([1.0, -2.0, 0.5]) * d)


def test_where_has_no_tangent_from_its_condition():
    op = OPS["select"]
    c, a, b = np.float64(1), np.arange(3.0), np.float64(2)
    ans = op.forward(c, a, b)
    t = op.jvp([np.ones(2), None, None], ans, c, a, b)
    assert t.shape == (2, 3) and not t.any()
    t = op.jvp([None, None, np.ones(2)], ans, c, a, b)
    assert t.shape == (2, 3) and not t.any()  # b is not taken anywhere
    t = op.jvp([None, np.ones((2, 3)), None], ans, c, a, b)
    assert np.array_equal(t, np.ones((2, 3)))


# ---------------------------------------------------- second derivatives


SECOND = {  # f(x) -> f''(x), worked out by hand
    "sinh": lambda x: np.sinh(x),
    "atan": lambda x: -2 * x / (1 + x * x) ** 2,
    "asin": lambda x: x / (1 - x * x) ** 1.5,
    "erf": lambda x: -4 * x / math.sqrt(math.pi) * np.exp(-x * x),
    "log10": lambda x: -1 / (x * x * math.log(10)),
    "expm1": np.exp,
}


@pytest.mark.parametrize("name", sorted(SECOND))
def test_hessian_of_the_new_functions(tmp_path, name):
    lo, hi = UNARY[name][1]
    x = samples(lo, hi, n=3, seed=6)
    result = invoke(
        ["hessian", write(tmp_path, f"param x = {lit(x)}\nL = sum({name}(x))\n"), "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    h = np.array(strict_json(result.stdout)["hessian"]["x"]["x"])
    np.testing.assert_allclose(h, np.diag(SECOND[name](x)), rtol=1e-12, atol=1e-14)


def test_hessian_through_atan2_and_where_is_symmetric(tmp_path):
    text = (
        "param x = [0.3, -0.7]\nparam y = [1.2, 0.4]\n"
        "L = sum(where(x > 0, atan2(y, x) * y, x * x * y))\n"
    )
    result = invoke(["hessian", write(tmp_path, text), "-f", "json"])
    h = strict_json(result.stdout)["hessian"]
    xy, yx = np.array(h["x"]["y"]), np.array(h["y"]["x"])
    np.testing.assert_allclose(xy, yx.T, rtol=1e-12)
    # d²/dxdy of atan2(y, x)·y at element 0, and of x²y at element 1
    x0, y0 = 0.3, 1.2
    r = x0 * x0 + y0 * y0
    want0 = -2 * x0 * x0 * y0 / (r * r)  # d/dx of x·y/r + atan2(y, x)
    np.testing.assert_allclose(xy[0, 0], want0, rtol=1e-12)
    np.testing.assert_allclose(xy[1, 1], 2 * -0.7, rtol=1e-12)


# ---------------------------------------------------------- explain, check


@pytest.mark.parametrize(
    "text, want",
    [
        ("param x = 0.5\ny = asin(x)\n", "∂y/∂x = 1/sqrt(1 − x²) = 1.1547"),
        ("param x = 0.5\ny = sinh(x)\n", "∂y/∂x = cosh(x) = 1.12763"),
        ("param x = 2\ny = log2(x * 3)\n", "∂y/∂x = 3/((x * 3)·ln 2) = 0.721348"),
        ("param x = 0.5\ny = (x < 1) * x\n", "∂y/∂x = (x < 1) = 1"),
        ("param x = 0.5\ny = where(x > 0, x * 3, x)\n", "∂y/∂x = 3·[x > 0] + [not (x > 0)] = 3"),
        ("param x = 0.5\ny = floor(x) + x\n", "∂y/∂x = 1"),
    ],
)
def test_explain_writes_the_local_derivatives(text, want):
    rep = report(text)
    assert render_explain(explain(rep, "x"), "y").strip() == want


@pytest.mark.parametrize(
    "text, kink",
    [
        ("param x = [0, 1]\nL = sum(sign(x))\n", "sign at 0"),
        ("param x = [-1, 2]\nparam y = [0, 1]\nL = sum(atan2(y, x))\n", "branch cut"),
        ("param x = [3, 0.5]\nL = sum(floor(x) * x)\n", "floor at an integer"),
        ("param x = [1.5, 0.2]\nL = sum(round(x) * x)\n", "round halfway"),
        ("param x = [1, -1]\nL = sum((x < 1) * x)\n", "< with its sides equal"),
        ("param x = [2, 0.5]\nL = sum(where(x >= 2, x, 0))\n", ">= with its sides equal"),
    ],
)
def test_check_notes_the_kinks(tmp_path, text, kink):
    result = invoke(["check", write(tmp_path, text)])
    assert kink in result.stdout, result.stdout
    # a jump excused, not a failure
    assert result.exit_code == 0, result.stdout


def test_check_passes_on_smooth_new_functions(tmp_path):
    text = (
        "param x = [0.3, -0.4, 0.8]\nparam y = [1.5, 2.5, -1.2]\n"
        "L = sum(asin(x) * acosh(y * y + 1) + atan2(y, x) * erf(x) + log10(y * y) * expm1(x)"
        " + where(x > 0, sinh(y), cosh(x)) + atanh(x) * asinh(y) + erfc(y) * acos(x) * atan(y))\n"
    )
    result = invoke(["check", write(tmp_path, text), "-f", "json"])
    assert result.exit_code == 0, result.output
    assert strict_json(result.stdout)["ok"] is True


# ------------------------------------------------------------- start-up


def test_a_scalar_erf_does_not_import_scipy(tmp_path):
    path = write(tmp_path, "param x = 0.5\nL = erf(x) + erfc(x)\n")
    code = (
        "import sys, autograd_cli.launch as l\n"
        f"c = l.run(['eval', {str(path)!r}, '-f', 'json'])\n"
        "print(c, 'scipy' in sys.modules, file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.stderr.split() == ["0", "False"], proc.stderr


# ---------------------------------------------------------- PyTorch oracle


TORCH_FUNCTIONS = {
    **{n: n for n in UNARY},
    "sign": "sign",
    "floor": "floor",
    "ceil": "ceil",
    "round": "round",
}


@pytest.mark.parametrize("name", sorted(TORCH_FUNCTIONS))
def test_gradients_agree_with_pytorch(name):
    torch = pytest.importorskip("torch")
    lo, hi = UNARY[name][1] if name in UNARY else (-3, 3)
    x = np.append(samples(lo, hi, n=6, seed=9), [2.5, 0.0] if name in STEPS else [])
    w = samples(-1, 1, n=x.size, seed=10)
    rep = report(f"param x = {lit(x)}\nw = {lit(w)}\nL = sum(w * {name}(x))\n")
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    fn = {"asin": torch.asin, "acos": torch.acos, "atan": torch.atan}.get(name) or getattr(
        torch, name
    )
    (torch.tensor(w) * fn(tx)).sum().backward()
    np.testing.assert_allclose(
        rep.values["L"], float((torch.tensor(w) * fn(tx.detach())).sum()), rtol=1e-14
    )
    np.testing.assert_allclose(rep.grads["x"], tx.grad.numpy(), rtol=1e-14, atol=1e-300)


def test_atan2_and_where_agree_with_pytorch():
    torch = pytest.importorskip("torch")
    y = np.array([0.0, 1.0, -2.0, 0.0])
    x = np.array([0.0, -1.0, 0.5, -3.0])
    rep = report(
        f"param y = {lit(y)}\nparam x = {lit(x)}\nL = sum(where(x < 0, atan2(y, x), y * x))\n"
    )
    ty = torch.tensor(y, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    torch.where(tx < 0, torch.atan2(ty, tx), ty * tx).sum().backward()
    want = torch.where(tx < 0, torch.atan2(ty, tx), ty * tx).sum().detach()
    np.testing.assert_allclose(rep.values["L"], float(want))
    np.testing.assert_array_equal(rep.grads["y"], ty.grad.numpy())
    np.testing.assert_array_equal(rep.grads["x"], tx.grad.numpy())
    o = torch.zeros((), dtype=torch.float64, requires_grad=True)
    torch.atan2(o, torch.zeros((), dtype=torch.float64)).backward()
    assert float(o.grad) == 0  # the convention the tests above hold this to
