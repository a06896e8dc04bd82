"""Per-op gradient tests, checked against central finite differences.

Every case builds a small .expr program

    param a = <exact numbers>        # one line per operand
    r = <the op applied to the operands>
    W_ = <fixed random weights of r's shape>
    L = sum(r * W_)

runs it through the library (`load` + `run`) and compares the reported
gradient of every operand with central finite differences computed here,
independently of the engine: each number of each operand is nudged by
+-eps in the program *text* and the program is run again.  Numbers are
written with repr(), so the text holds exactly the float the test means.

The second half pins PyTorch's conventions at kinks and ties (docs/language.md,
"Semantics") with exact expected values, checks float32, and (only when
torch is installed) compares a few ops against torch.
"""

from __future__ import annotations

import itertools
import re
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_cli.compiling import load
from autograd_cli.errors import Source
from autograd_cli.running import run

SHAPES = [(), (4,), (3, 4), (1, 4)]
EPS = 1e-6
RTOL = 1e-6
ATOL = 1e-8


# ------------------------------------------------------------------ helpers


def lit(a) -> str:
    """An array as an exact .expr literal (nested lists of repr'd floats)."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        return repr(float(a))
    return "[" + ", ".join(lit(e) for e in a) + "]"


def rng_for(key: str) -> np.random.Generator:
    """A generator seeded from the test's own description: deterministic."""
    return np.random.default_rng(zlib.crc32(key.encode()))


def shape_id(s) -> str:
    return "x".join(map(str, s)) if s else "scalar"


def names_in(expr: str) -> set:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expr))


def program(operands: dict, body: str) -> str:
    """`operands` maps a name to (kind, array), kind 'param' or 'input'."""
    lines = []
    for name, (kind, value) in operands.items():
        lines.append(f"{'param ' if kind == 'param' else ''}{name} = {lit(value)}")
    return "\n".join(lines) + "\n" + body


def run_text(text: str, dtype: str = "float64"):
    return run(load(Source("t.expr", text), dtype=dtype))


def result_shape(operands: dict, expr: str) -> tuple:
    """The shape of `expr`, from the compiler's shape inference (no run)."""
    model = load(Source("t.expr", program(operands, f"r = {expr}\nL = sum(r)\n")))
    return tuple(model.shapes[model.by_name["r"].node])


def weighted_program(operands: dict, expr: str, weights) -> str:
    return program(operands, f"r = {expr}\nW_ = {lit(weights)}\nL = sum(r * W_)\n")


def finite_differences(operands: dict, expr: str, weights, eps: float = EPS) -> dict:
    """d L / d operand for every operand, by central differences on the text."""
    out = {}
    for name, (kind, value) in operands.items():
        value = np.asarray(value, dtype=np.float64)
        grad = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            hi, lo = value.copy(), value.copy()
            hi[idx] += eps
            lo[idx] -= eps
            step = float(hi[idx] - lo[idx])  # the step actually taken
            f = []
            for v in (hi, lo):
                nudged = dict(operands)
                nudged[name] = (kind, v)
                rep = run_text(weighted_program(nudged, expr, weights))
                f.append(float(rep.values["L"]))
            grad[idx] = (f[0] - f[1]) / step
        out[name] = grad
    return out


def check_op(operands: dict, expr: str, key: str, ref=None):
    """Run `expr` on `operands`; compare every operand's gradient with finite
    differences, and the value of `r` with the numpy reference `ref`."""
    shape = result_shape(operands, expr)
    rng = rng_for("weights " + key)
    weights = rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    rep = run_text(weighted_program(operands, expr, weights))
    assert rep.warnings == []
    assert rep.values["r"].shape == shape
    if ref is not None:
        expected = ref(*(np.asarray(v, dtype=np.float64) for _, v in operands.values()))
        np.testing.assert_allclose(rep.values["r"], expected, rtol=1e-12, atol=1e-12)
    # the intermediate node r has gradient W_ (reported for every named node)
    np.testing.assert_allclose(rep.grads["r"], weights, rtol=0, atol=0)
    fd = finite_differences(operands, expr, weights)
    for name, (_, value) in operands.items():
        got = rep.grads[name]
        assert got.shape == np.shape(value), name
        assert got.dtype == np.float64
        np.testing.assert_allclose(
            got, fd[name], rtol=RTOL, atol=ATOL, err_msg=f"d L / d {name} for r = {expr}"
        )
    return rep


# value generators: keep inputs away from kinks and domain edges


def gen_any(rng, shape):
    return rng.uniform(-2.0, 2.0, size=shape)


def gen_pos(rng, shape):
    return rng.uniform(0.5, 3.0, size=shape)


def gen_nonzero(rng, shape):
    return rng.uniform(0.3, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def gen_tan(rng, shape):
    return rng.uniform(-1.2, 1.2, size=shape)


def gen_base(rng, shape):
    return rng.uniform(0.5, 2.0, size=shape)


def gen_exponent(rng, shape):
    return rng.uniform(-2.0, 2.0, size=shape)


def gen_distinct(rng, shape):
    """All elements at least 0.3 apart (no ties in max/min)."""
    n = int(np.prod(shape, dtype=np.int64))
    v = rng.permutation(n) * 0.35 - 0.35 * n / 2 + rng.uniform(0, 0.04, size=n)
    return v.reshape(shape)


def well_separated(*arrays, gap=0.1) -> bool:
    """Every broadcast pair of elements of the arrays differs by more than gap."""
    for x, y in itertools.combinations(arrays, 2):
        if np.any(np.abs(np.subtract(x, y)) <= gap):
            return False
    return True


# ------------------------------------------------------- elementwise unary

UNARY = {
    # name: (expression template, generator, numpy reference)
    "exp": ("exp(a)", gen_any, np.exp),
    "log": ("log(a)", gen_pos, np.log),
    "log1p": ("log1p(a)", gen_pos, np.log1p),
    "sqrt": ("sqrt(a)", gen_pos, np.sqrt),
    "abs": ("abs(a)", gen_nonzero, np.abs),
    "sin": ("sin(a)", gen_any, np.sin),
    "cos": ("cos(a)", gen_any, np.cos),
    "tan": ("tan(a)", gen_tan, np.tan),
    "tanh": ("tanh(a)", gen_any, np.tanh),
    "sigmoid": ("sigmoid(a)", gen_any, lambda x: 1 / (1 + np.exp(-x))),
    "relu": ("relu(a)", gen_nonzero, lambda x: np.maximum(x, 0)),
    "softplus": ("softplus(a)", gen_any, lambda x: np.log1p(np.exp(x))),
    "neg": ("-a", gen_any, np.negative),
    "pos": ("+a", gen_any, lambda x: x),
    "square": ("a ** 2", gen_any, np.square),
    "cube": ("a ** 3", gen_any, lambda x: x**3),
    "inv_sqrt": ("a ** -1.5", gen_pos, lambda x: x**-1.5),
    "exp2": ("2 ** a", gen_any, lambda x: 2.0**x),
    "neg_square": ("-a ** 2", gen_any, lambda x: -(x**2)),
    "reciprocal": ("1 / a", gen_nonzero, lambda x: 1 / x),
    "affine": ("3 * a - 1.5", gen_any, lambda x: 3 * x - 1.5),
    "self_mul": ("a * a", gen_any, np.square),
    "self_div": ("(a + 3) / (a * a + 1)", gen_any, lambda x: (x + 3) / (x * x + 1)),
}


@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary(name, shape):
    expr, gen, ref = UNARY[name]
    key = f"unary {name} {shape}"
    a = gen(rng_for(key), shape)
    check_op({"a": ("param", a)}, expr, key, ref)


# ------------------------------------------------ elementwise binary, broadcast

BINARY = {
    # name: (template, generator for a, generator for b, reference, needs gap)
    "add": ("a + b", gen_any, gen_any, np.add, False),
    "sub": ("a - b", gen_any, gen_any, np.subtract, False),
    "mul": ("a * b", gen_any, gen_any, np.multiply, False),
    "div": ("a / b", gen_any, gen_nonzero, np.divide, False),
    "pow": ("a ** b", gen_base, gen_exponent, np.power, False),
    "maximum": ("maximum(a, b)", gen_any, gen_any, np.maximum, True),
    "minimum": ("minimum(a, b)", gen_any, gen_any, np.minimum, True),
}

SHAPE_PAIRS = list(itertools.product(SHAPES, SHAPES))


def _binary_operands(name, sa, sb, kind_b="param"):
    _, ga, gb, _, gap = BINARY[name]
    rng = rng_for(f"binary {name} {sa} {sb} {kind_b}")
    for _ in range(1000):
        a, b = ga(rng, sa), gb(rng, sb)
        if not gap or well_separated(a, b, gap=0.1):
            return {"a": ("param", a), "b": (kind_b, b)}
    raise AssertionError("could not draw separated operands")


@pytest.mark.parametrize(
    "sa,sb", SHAPE_PAIRS, ids=[f"{shape_id(a)}-{shape_id(b)}" for a, b in SHAPE_PAIRS]
)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_broadcast(name, sa, sb):
    """Both operands are params; every shape pair broadcasts (numpy rules) and
    each operand's gradient is summed back to its own shape."""
    expr, *_, ref, _ = BINARY[name]
    operands = _binary_operands(name, sa, sb)
    check_op(operands, expr, f"binary {name} {sa} {sb}", ref)


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_with_input_operand(name):
    """An `input` binding (no `param`) is a leaf too and gets its gradient."""
    expr, *_, ref, _ = BINARY[name]
    operands = _binary_operands(name, (3, 4), (4,), kind_b="input")
    rep = check_op(operands, expr, f"binary input {name}", ref)
    assert rep.model.by_name["b"].kind == "input"


@pytest.mark.parametrize(
    "expr,ref",
    [
        ("a + 2.5", lambda a: a + 2.5),
        ("2.5 - a", lambda a: 2.5 - a),
        ("a * [1.5, -2.0, 0.5, 3.0]", lambda a: a * np.array([1.5, -2.0, 0.5, 3.0])),
        ("[1.5, -2.0, 0.5, 3.0] / a", lambda a: np.array([1.5, -2.0, 0.5, 3.0]) / a),
        ("a ** [1.0, 2.0, 0.5, -1.0]", lambda a: a ** np.array([1.0, 2.0, 0.5, -1.0])),
        ("[1.5, 2.0, 0.5, 3.0] ** a", lambda a: np.array([1.5, 2.0, 0.5, 3.0]) ** a),
        ("maximum(a, 1.0)", lambda a: np.maximum(a, 1.0)),
        ("minimum(a, 1.0)", lambda a: np.minimum(a, 1.0)),
    ],
)
def test_binary_with_constant_operand(expr, ref):
    a = np.array([[0.6, 1.7, 2.3, 0.8], [1.3, 0.55, 1.9, 2.6], [0.7, 2.1, 1.45, 0.9]])
    check_op({"a": ("param", a)}, expr, f"const {expr}", ref)


@pytest.mark.parametrize(
    "expr",
    [
        "a ** b ** 2",  # right associative: a ** (b ** 2)
        "(a ** b) ** 2",
        "a ** (b * a)",
        "b ** a - a ** b",
        "exp(b * log(a)) - a ** b",  # identically 0: its gradient is 0 too
    ],
)
def test_pow_base_and_exponent_params(expr):
    rng = rng_for("pow " + expr)
    operands = {
        "a": ("param", rng.uniform(0.6, 1.8, size=(3, 4))),
        "b": ("param", rng.uniform(0.6, 1.5, size=(4,))),
    }
    check_op(operands, expr, "pow " + expr)


# ------------------------------------------------------------------ clip

CLIP_SHAPES = [
    ((), (), ()),
    ((4,), (), ()),
    ((3, 4), (), ()),
    ((1, 4), (), ()),
    ((3, 4), (4,), ()),
    ((3, 4), (), (1, 4)),
    ((4,), (4,), (4,)),
    ((1, 4), (3, 4), (4,)),
    ((), (4,), (4,)),
]


@pytest.mark.parametrize(
    "sx,slo,shi", CLIP_SHAPES, ids=["-".join(map(shape_id, s)) for s in CLIP_SHAPES]
)
def test_clip(sx, slo, shi):
    """x, lo and hi are all params; x is kept away from both bounds."""
    rng = rng_for(f"clip {sx} {slo} {shi}")
    for _ in range(10000):
        x = rng.uniform(-1.6, 1.6, size=sx)
        lo = rng.uniform(-1.0, -0.2, size=slo)
        hi = rng.uniform(0.2, 1.0, size=shi)
        if well_separated(x, lo, hi, gap=0.05):
            break
    else:
        raise AssertionError("could not draw separated operands")
    operands = {"x": ("param", x), "lo": ("param", lo), "hi": ("param", hi)}
    check_op(operands, "clip(x, lo, hi)", f"clip {sx}", lambda x, lo, hi: np.clip(x, lo, hi))


def test_clip_gradients_reach_all_three_arguments():
    """Some elements below, inside and above: all three gradients non-zero."""
    x = np.array([-1.5, -0.3, 0.2, 1.4])
    operands = {"x": ("param", x), "lo": ("param", np.array(-0.6)), "hi": ("param", np.array(0.9))}
    rep = check_op(operands, "clip(x, lo, hi)", "clip all")
    assert np.all(rep.grads["x"][[1, 2]] != 0) and np.all(rep.grads["x"][[0, 3]] == 0)
    assert rep.grads["lo"] != 0 and rep.grads["hi"] != 0


# ------------------------------------------------------------- reductions

REDUCTIONS = {
    "sum": (gen_any, lambda x, axis: np.sum(x, axis=axis)),
    "mean": (gen_any, lambda x, axis: np.mean(x, axis=axis)),
    "max": (gen_distinct, lambda x, axis: np.max(x, axis=axis)),
    "min": (gen_distinct, lambda x, axis: np.min(x, axis=axis)),
    "logsumexp": (gen_any, lambda x, axis: np.log(np.sum(np.exp(x), axis=axis))),
}

REDUCTION_CASES = [
    (name, shape, axis)
    for name in REDUCTIONS
    for shape in SHAPES
    for axis in [None, *range(-len(shape), len(shape))]
]


@pytest.mark.parametrize(
    "name,shape,axis",
    REDUCTION_CASES,
    ids=[f"{n}-{shape_id(s)}-axis{a}" for n, s, a in REDUCTION_CASES],
)
def test_reduction(name, shape, axis):
    gen, ref = REDUCTIONS[name]
    key = f"reduce {name} {shape} {axis}"
    x = gen(rng_for(key), shape)
    expr = f"{name}(x)" if axis is None else f"{name}(x, axis={axis})"
    check_op({"x": ("param", x)}, expr, key, lambda x: ref(x, axis))


@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_norm(shape):
    key = f"norm {shape}"
    x = gen_nonzero(rng_for(key), shape)
    check_op({"x": ("param", x)}, "norm(x)", key, lambda x: np.sqrt(np.sum(x * x)))


@pytest.mark.parametrize(
    "expr",
    [
        "norm(x) * x",  # a reduction broadcast back
        "x - mean(x, axis=0)",
        "x / sum(x * x, axis=-1)[0]",
        "x - logsumexp(x, axis=1)[0]",
        "max(x, axis=0) - min(x, axis=-2)",
    ],
)
def test_reduction_in_composite(expr):
    x = gen_distinct(rng_for(expr), (3, 4)) + 0.1
    check_op({"x": ("param", x)}, expr, "composite " + expr)


# ---------------------------------------------------- softmax, log_softmax

SOFTMAX_CASES = [
    (fn, shape, axis)
    for fn in ("softmax", "log_softmax")
    for shape in SHAPES
    if shape
    for axis in [None, *range(-len(shape), len(shape))]
]


def _np_softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


@pytest.mark.parametrize(
    "fn,shape,axis", SOFTMAX_CASES, ids=[f"{f}-{shape_id(s)}-axis{a}" for f, s, a in SOFTMAX_CASES]
)
def test_softmax(fn, shape, axis):
    key = f"{fn} {shape} {axis}"
    x = gen_any(rng_for(key), shape)
    expr = f"{fn}(x)" if axis is None else f"{fn}(x, axis={axis})"
    ax = -1 if axis is None else axis
    if fn == "softmax":
        ref = lambda x: _np_softmax(x, ax)  # noqa: E731
    else:
        ref = lambda x: np.log(_np_softmax(x, ax))  # noqa: E731
    check_op({"x": ("param", x)}, expr, key, ref)


# ----------------------------------------------------------- matmul, dot

MATMUL_SHAPES = [
    ((3, 4), (4,)),
    ((4,), (4, 2)),
    ((3, 4), (4, 2)),
    ((4,), (4,)),
    ((1, 4), (4, 1)),
    ((4, 1), (1, 3)),
    ((1, 4), (4,)),
]


@pytest.mark.parametrize(
    "sa,sb", MATMUL_SHAPES, ids=[f"{shape_id(a)}@{shape_id(b)}" for a, b in MATMUL_SHAPES]
)
@pytest.mark.parametrize("form", ["a @ b", "dot(a, b)"])
def test_matmul(form, sa, sb):
    key = f"matmul {form} {sa} {sb}"
    rng = rng_for(key)
    operands = {"a": ("param", gen_any(rng, sa)), "b": ("param", gen_any(rng, sb))}
    check_op(operands, form, key, np.matmul)


@pytest.mark.parametrize(
    "expr",
    [
        "a @ transpose(a)",  # the same param on both sides
        "transpose(a) @ a",
        "a @ b @ c",
        "(a @ b) * (a @ b)",
        "dot(a @ b, c)",
        "a @ (b * 2 + 1) @ c",
    ],
)
def test_matmul_chains(expr):
    rng = rng_for(expr)
    operands = {
        "a": ("param", gen_any(rng, (3, 4))),
        "b": ("param", gen_any(rng, (4, 2))),
        "c": ("param", gen_any(rng, (2,))),
    }
    used = {k: v for k, v in operands.items() if k in names_in(expr)}
    check_op(used, expr, "chain " + expr)


# ------------------------------------------------------ reshape, transpose

RESHAPES = [
    ((3, 4), "reshape(x, 2, 6)", lambda x: x.reshape(2, 6)),
    ((3, 4), "reshape(x, 12)", lambda x: x.reshape(12)),
    ((3, 4), "reshape(x, -1, 2)", lambda x: x.reshape(-1, 2)),
    ((3, 4), "reshape(x, 4, 3, 1)", lambda x: x.reshape(4, 3, 1)),
    ((4,), "reshape(x, 2, 2)", lambda x: x.reshape(2, 2)),
    ((4,), "reshape(x, 1, 4)", lambda x: x.reshape(1, 4)),
    ((1, 4), "reshape(x, 4)", lambda x: x.reshape(4)),
    ((), "reshape(x, 1)", lambda x: x.reshape(1)),
    ((), "reshape(x, 1, 1)", lambda x: x.reshape(1, 1)),
    ((3, 4), "transpose(x)", np.transpose),
    ((1, 4), "transpose(x)", np.transpose),
    ((4,), "transpose(x)", np.transpose),
    ((), "transpose(x)", np.transpose),
    (
        (3, 4),
        "transpose(reshape(x, 6, 2)) * [[1.0], [2.0]]",
        lambda x: x.reshape(6, 2).T * np.array([[1.0], [2.0]]),
    ),
    ((3, 4), "reshape(transpose(x), 12)", lambda x: x.T.reshape(12)),
]


@pytest.mark.parametrize("shape,expr,ref", RESHAPES, ids=[e for _, e, _ in RESHAPES])
def test_shape_ops(shape, expr, ref):
    key = f"shape {shape} {expr}"
    x = gen_any(rng_for(key), shape)
    check_op({"x": ("param", x)}, expr, key, ref)


# ---------------------------------------------------------------- indexing

INDEXING = [
    ((4,), "x[0]", lambda x: x[0]),
    ((4,), "x[-1]", lambda x: x[-1]),
    ((4,), "x[1:3]", lambda x: x[1:3]),
    ((4,), "x[::2]", lambda x: x[::2]),
    ((4,), "x[::-1]", lambda x: x[::-1]),
    ((4,), "x[-3:]", lambda x: x[-3:]),
    ((4,), "x[:-1]", lambda x: x[:-1]),
    ((4,), "x[3:0:-2]", lambda x: x[3:0:-2]),
    ((3, 4), "x[0]", lambda x: x[0]),
    ((3, 4), "x[-1]", lambda x: x[-1]),
    ((3, 4), "x[1, 2]", lambda x: x[1, 2]),
    ((3, 4), "x[-2, -1]", lambda x: x[-2, -1]),
    ((3, 4), "x[:, 0]", lambda x: x[:, 0]),
    ((3, 4), "x[:, -1]", lambda x: x[:, -1]),
    ((3, 4), "x[1, 1:3]", lambda x: x[1, 1:3]),
    ((3, 4), "x[0:3:2, -1]", lambda x: x[0:3:2, -1]),
    ((3, 4), "x[::2, ::3]", lambda x: x[::2, ::3]),
    ((3, 4), "x[1:]", lambda x: x[1:]),
    ((3, 4), "x[::-1, 1::2]", lambda x: x[::-1, 1::2]),
    ((1, 4), "x[0]", lambda x: x[0]),
    ((1, 4), "x[0, -2]", lambda x: x[0, -2]),
    ((1, 4), "x[:, 1:]", lambda x: x[:, 1:]),
    # the same element read twice: the two contributions add up
    ((4,), "x[1] * x[1] + x[-3]", lambda x: x[1] * x[1] + x[-3]),
    ((3, 4), "x[0] * x[-1] + x[:, 1][0]", lambda x: x[0] * x[-1] + x[:, 1][0]),
    ((3, 4), "x[1:][0, 1:3]", lambda x: x[1:][0, 1:3]),
]


@pytest.mark.parametrize("shape,expr,ref", INDEXING, ids=[e for _, e, _ in INDEXING])
def test_indexing(shape, expr, ref):
    key = f"index {shape} {expr}"
    x = gen_any(rng_for(key), shape)
    check_op({"x": ("param", x)}, expr, key, ref)


# ------------------------------------------- list literals (differentiable stack)

STACKS = [
    "[a, b]",
    "[a, b * 2, exp(a) - b, 1.5]",
    "[[a, b], [b * a, 1]]",
    "[x[0], x[-1], a]",
    "[x, y]",
    "[x, 2 * y, x * y]",
    "[[x, y], [y, x]]",
    "[x, x]",  # the same node twice: contributions add
    "[a, a, a * a]",
    "[sum(x), max(y), a] @ [x[0], y[1], b]",
    "[x, y] @ [a, b, 1.0, 2.0]",
]


@pytest.mark.parametrize("expr", STACKS)
def test_list_literal_stacking(expr):
    rng = rng_for("stack " + expr)
    everything = {
        "a": ("param", gen_any(rng, ())),
        "b": ("param", gen_any(rng, ())),
        "x": ("param", gen_distinct(rng, (4,))),
        "y": ("param", gen_distinct(rng, (4,))),
    }
    used = {k: v for k, v in everything.items() if k in names_in(expr)}
    check_op(used, expr, "stack " + expr)


def test_list_literal_of_names_in_bindings():
    """`[a1, a2 * 2]` from the language reference, with the elements bound to names."""
    text = "a1 = 4\na2 = 3\nv = [a1, a2 * 2]\nL = sum(v * [5, 7])\n"
    rep = run_text(text)
    np.testing.assert_array_equal(rep.grads["v"], [5.0, 7.0])
    assert float(rep.grads["a1"]) == 5.0
    assert float(rep.grads["a2"]) == 14.0


# ------------------------------------------------------------ composites

COMPOSITES = [
    # a small tanh MLP
    (
        {
            "X": ("input", (4, 3)),
            "W1": ("param", (3, 5)),
            "b1": ("param", (5,)),
            "W2": ("param", (5,)),
        },
        "tanh(X @ W1 + b1) @ W2",
    ),
    # logistic regression loss, stably
    (
        {"X": ("input", (6, 2)), "w": ("param", (2,)), "b": ("param", ())},
        "mean(softplus(X @ w + b) - [1, 0, 1, 1, 0, 1] * (X @ w + b))",
    ),
    # cross-entropy through log_softmax
    (
        {"X": ("input", (3, 4)), "W": ("param", (4, 4))},
        "-sum(log_softmax(X @ W, axis=-1) * [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]])",
    ),
    # attention-like
    (
        {"Q": ("param", (3, 4)), "K": ("param", (3, 4)), "V": ("param", (3, 2))},
        "softmax(Q @ transpose(K) / sqrt(4.0), axis=-1) @ V",
    ),
    # layer norm
    (
        {"x": ("param", (3, 4)), "g": ("param", (4,))},
        "g * (x - reshape(mean(x, axis=1), 3, 1)) / "
        "sqrt(reshape(mean((x - reshape(mean(x, axis=1), 3, 1)) ** 2, axis=1), 3, 1) + 0.01)",
    ),
    # everything elementwise at once
    (
        {"x": ("param", (4,)), "y": ("param", (3, 4))},
        "sigmoid(x) * tanh(y) + sin(x) * cos(y) - softplus(x - y) + exp(-y * y)",
    ),
]


@pytest.mark.parametrize(
    "spec,expr", COMPOSITES, ids=[f"composite{i}" for i in range(len(COMPOSITES))]
)
def test_composite(spec, expr):
    rng = rng_for("composite " + expr)
    operands = {name: (kind, gen_any(rng, shape)) for name, (kind, shape) in spec.items()}
    check_op(operands, expr, "composite " + expr)


# ======================================= PyTorch conventions at kinks and ties


def grads_of(text, dtype="float64"):
    rep = run_text(text, dtype)
    return rep.grads


def test_relu_at_zero_has_gradient_zero():
    g = grads_of("param x = [-1, 0, 2]\nL = sum(relu(x))")
    np.testing.assert_array_equal(g["x"], [0.0, 0.0, 1.0])


def test_abs_at_zero_has_gradient_zero():
    g = grads_of("param x = [-1, 0, 2]\nL = sum(abs(x))")
    np.testing.assert_array_equal(g["x"], [-1.0, 0.0, 1.0])


def test_scalar_kinks():
    g = grads_of("param x = 0\nL = relu(x) + abs(x) + norm(x)")
    assert float(g["x"]) == 0.0


@pytest.mark.parametrize("fn", ["max", "min"])
def test_reduction_ties_share_gradient_evenly(fn):
    x = "[1, 3, 3, 2]" if fn == "max" else "[2, 1, 1, 3]"
    g = grads_of(f"param x = {x}\nL = {fn}(x)")
    np.testing.assert_array_equal(g["x"], [0.0, 0.5, 0.5, 0.0])


@pytest.mark.parametrize("fn", ["max", "min"])
def test_reduction_all_equal_share_gradient_evenly(fn):
    g = grads_of(f"param x = [[2, 2], [2, 2]]\nL = {fn}(x) * 8")
    np.testing.assert_array_equal(g["x"], [[2.0, 2.0], [2.0, 2.0]])


@pytest.mark.parametrize("axis", [1, -1])
def test_max_reduction_ties_along_axis(axis):
    g = grads_of(
        f"param x = [[1, 3, 3], [2, 2, 0], [5, 5, 5]]\nL = sum(max(x, axis={axis}) * [1, 2, 3])"
    )
    np.testing.assert_allclose(g["x"], [[0, 0.5, 0.5], [1, 1, 0], [1, 1, 1]], rtol=0, atol=1e-15)


@pytest.mark.parametrize("axis", [0, -2])
def test_min_reduction_ties_along_axis(axis):
    g = grads_of(
        f"param x = [[1, 3, 0], [1, 2, 0], [4, 2, 0]]\nL = sum(min(x, axis={axis}) * [2, 4, 3])"
    )
    np.testing.assert_allclose(g["x"], [[1, 0, 1], [1, 2, 1], [0, 2, 1]], rtol=0, atol=1e-15)


def test_maximum_ties_give_each_side_half():
    g = grads_of("param x = [1, 2, 3]\nparam y = [1, 0, 5]\nL = sum(maximum(x, y) * [2, 3, 4])")
    np.testing.assert_array_equal(g["x"], [1.0, 3.0, 0.0])
    np.testing.assert_array_equal(g["y"], [1.0, 0.0, 4.0])


def test_minimum_ties_give_each_side_half():
    g = grads_of("param x = [1, 2, 3]\nparam y = [1, 0, 5]\nL = sum(minimum(x, y) * [2, 3, 4])")
    np.testing.assert_array_equal(g["x"], [1.0, 0.0, 4.0])
    np.testing.assert_array_equal(g["y"], [1.0, 3.0, 0.0])


def test_minimum_without_ties_routes_gradient_to_the_smaller_side():
    g = grads_of("param x = [1, 5]\nparam y = [3, 2]\nL = sum(minimum(x, y))")
    np.testing.assert_array_equal(g["x"], [1.0, 0.0])
    np.testing.assert_array_equal(g["y"], [0.0, 1.0])


@pytest.mark.parametrize("fn", ["maximum", "minimum"])
def test_ties_with_broadcast_scalar(fn):
    # x = [1, 2, 3] against y = 2: one tie, at x[1]
    g = grads_of(f"param x = [1, 2, 3]\nparam y = 2\nL = sum({fn}(x, y))")
    if fn == "maximum":
        np.testing.assert_array_equal(g["x"], [0.0, 0.5, 1.0])
        assert float(g["y"]) == 1.5
    else:
        np.testing.assert_array_equal(g["x"], [1.0, 0.5, 0.0])
        assert float(g["y"]) == 1.5


def test_maximum_of_a_node_with_itself():
    g = grads_of("param x = [1, -2]\nL = sum(maximum(x, x) * [3, 5])")
    np.testing.assert_array_equal(g["x"], [3.0, 5.0])


def test_clip_passes_gradient_at_its_bounds():
    g = grads_of("param x = [-1, 0, 0.5, 1, 2]\nL = sum(clip(x, 0, 1) * [1, 2, 3, 4, 5])")
    np.testing.assert_array_equal(g["x"], [0.0, 2.0, 3.0, 4.0, 0.0])


def test_clip_bounds_as_params_at_ties():
    """x == lo or x == hi: the gradient goes to x, not to the bound."""
    g = grads_of(
        "param x = [-1, 0, 0.5, 1, 2]\nparam lo = 0\nparam hi = 1\n"
        "L = sum(clip(x, lo, hi) * [1, 2, 3, 4, 5])"
    )
    np.testing.assert_array_equal(g["x"], [0.0, 2.0, 3.0, 4.0, 0.0])
    assert float(g["lo"]) == 1.0
    assert float(g["hi"]) == 5.0


def test_norm_at_zero_has_gradient_zero():
    rep = run_text("param x = [0, 0, 0]\nL = norm(x)")
    np.testing.assert_array_equal(rep.grads["x"], [0.0, 0.0, 0.0])
    assert float(rep.values["L"]) == 0.0
    assert rep.warnings == []


def test_norm_at_zero_matrix_and_through_chain():
    rep = run_text("param x = [[0, 0], [0, 0]]\nL = 3 * norm(x) + sum(x)")
    np.testing.assert_array_equal(rep.grads["x"], np.ones((2, 2)))
    assert rep.warnings == []


# ================================================================== float32

F32_CASES = [
    ({"a": (3, 4)}, expr)
    for expr in [
        "exp(a)",
        "log(a)",
        "sqrt(a)",
        "abs(a)",
        "sin(a)",
        "cos(a)",
        "tan(a)",
        "tanh(a)",
        "sigmoid(a)",
        "relu(a)",
        "softplus(a)",
        "a ** 1.5",
        "2 ** a",
        "sum(a, axis=0)",
        "mean(a, axis=-1)",
        "max(a, axis=1)",
        "min(a)",
        "logsumexp(a, axis=0)",
        "norm(a)",
        "softmax(a)",
        "log_softmax(a, axis=0)",
        "transpose(a)",
        "reshape(a, 6, 2)",
        "a[1, ::2]",
        "clip(a, 0.8, 1.6)",
        "[a, 2 * a]",
    ]
] + [
    ({"a": (3, 4), "b": (4,)}, expr)
    for expr in [
        "a + b",
        "a - b",
        "a * b",
        "a / b",
        "a ** b",
        "maximum(a, b)",
        "minimum(a, b)",
        "a @ b",
    ]
]


@pytest.mark.parametrize("spec,expr", F32_CASES, ids=[e for _, e in F32_CASES])
def test_float32(spec, expr):
    """--dtype float32: values and gradients come back float32, close to float64."""
    rng = rng_for("f32 " + expr)
    operands = {n: ("param", rng.uniform(0.5, 2.0, size=s)) for n, s in spec.items()}
    shape = result_shape(operands, expr)
    weights = rng.uniform(0.5, 1.5, size=shape)
    text = weighted_program(operands, expr, weights)
    r64 = run_text(text, "float64")
    r32 = run_text(text, "float32")
    assert r32.warnings == []
    for name in list(operands) + ["r", "W_", "L"]:
        assert r32.values[name].dtype == np.float32, name
        assert r32.grads[name].dtype == np.float32, name
        assert r32.values[name].shape == r64.values[name].shape
        assert r32.grads[name].shape == r64.grads[name].shape
        np.testing.assert_allclose(r32.values[name], r64.values[name], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(r32.grads[name], r64.grads[name], rtol=1e-4, atol=1e-5)


def test_float32_constructors_and_constants():
    text = (
        "z = zeros(2, 3)\no = ones(3)\ne = eye(3)\nt = arange(3)\nl = linspace(0, 1, 3)\n"
        "n = randn(3, seed=1)\nu = rand(3, seed=2)\nparam p = pi\n"
        "L = sum(z @ o) + sum(e @ (t + l + n + u)) * p"
    )
    rep = run_text(text, "float32")
    for name, v in rep.values.items():
        assert v.dtype == np.float32, name
        assert rep.grads[name].dtype == np.float32, name


# ======================================================== optional: torch


def test_against_torch():
    """An extra oracle when torch happens to be installed (finite differences
    above are the primary one)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x = rng.uniform(0.5, 2.0, size=(3, 4))
    y = rng.uniform(0.5, 2.0, size=(4,))
    w = rng.uniform(-1, 1, size=(3, 4))
    cases = {
        "exp(x) * log(x) + sqrt(x) ** y": lambda X, Y: (
            torch.exp(X) * torch.log(X) + torch.sqrt(X) ** Y
        ),
        "softmax(x, axis=0) + log_softmax(x)": lambda X, Y: (
            torch.softmax(X, 0) + torch.log_softmax(X, -1)
        ),
        "sigmoid(x) * softplus(y) - tanh(x - y)": lambda X, Y: (
            torch.sigmoid(X) * torch.nn.functional.softplus(Y) - torch.tanh(X - Y)
        ),
        "maximum(x, y) + minimum(x, y) + clip(x, 0.7, 1.5)": lambda X, Y: (
            torch.maximum(X, Y) + torch.minimum(X, Y) + torch.clamp(X, 0.7, 1.5)
        ),
        "x * logsumexp(x, axis=1)[0] + norm(x) * max(x) - min(y)": lambda X, Y: (
            X * torch.logsumexp(X, 1)[0] + torch.linalg.norm(X) * X.max() - Y.min()
        ),
    }
    for expr, tf in cases.items():
        text = (
            f"param x = {lit(x)}\nparam y = {lit(y)}\nr = {expr}\nW_ = {lit(w)}\nL = sum(r * W_)\n"
        )
        rep = run_text(text)
        X = torch.tensor(x, requires_grad=True)
        Y = torch.tensor(y, requires_grad=True)
        (tf(X, Y) * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(rep.grads["x"], X.grad.numpy(), rtol=1e-10, atol=1e-12)
        gy = np.zeros_like(y) if Y.grad is None else Y.grad.numpy()  # y unused
        np.testing.assert_allclose(rep.grads["y"], gy, rtol=1e-10, atol=1e-12)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 4), max_size=3).map(tuple),
    st.lists(
        st.one_of(
            st.integers(-6, 6),
            st.builds(
                slice,
                st.none() | st.integers(-6, 6),
                st.none() | st.integers(-6, 6),
                st.none() | st.integers(-3, 3).filter(bool),
            ),
        ),
        max_size=4,
    ).map(tuple),
)
def test_index_shape_is_numpy_s(shape, key):
    """Shapes of indexing are worked out without numpy, errors by numpy."""
    from autograd_cli.errors import ShapeError
    from autograd_cli.shapes import index_shape

    try:
        want = np.empty(shape)[key].shape
    except IndexError:
        want = None
    try:
        got = index_shape(shape, key)
    except ShapeError:
        got = None
    assert got == want


@pytest.mark.parametrize("shape", [(2, 0, 3), (0, 4), (3, 4), (2, 3, 5), ()])
def test_nonempty_reduced_refuses_exactly_the_empty_reductions(shape):
    """mean, max and min refuse a reduction over no elements, by one axis,
    several or all, and give numpy's shape otherwise (a tuple of axes once
    raised a TypeError indexing the shape with it)."""
    from autograd_cli.errors import ShapeError
    from autograd_cli.shapes import nonempty_reduced

    axes = (
        [None]
        + list(range(len(shape)))
        + [c for n in (2, 3) for c in itertools.combinations(range(len(shape)), n)]
    )
    for axis in axes:
        picked = range(len(shape)) if axis is None else np.atleast_1d(axis)
        empty = any(shape[a] == 0 for a in picked)
        if empty:
            with pytest.raises(ShapeError, match="cannot reduce an empty array"):
                nonempty_reduced(shape, axis)
        else:
            assert nonempty_reduced(shape, axis) == np.mean(np.ones(shape), axis=axis).shape


# ------------------------------------------- VJPs computed in one buffer


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_one_buffer_vjps_give_the_bits_of_the_op_by_op_formula(name, dtype):
    """tanh's and sigmoid's VJPs on plain arrays run their formula in one
    buffer; the result must be the formula's, bit for bit (signed zeros,
    saturation, nan, inf included), and traced values still take the
    op-by-op path (so second derivatives see every step)."""
    from autograd_cli import core, ops

    rng = np.random.default_rng(7)
    x = np.concatenate(
        [rng.standard_normal(300) * 4, [0.0, -0.0, 20.0, -20.0, 1e-30, np.inf, -np.inf, np.nan]]
    )
    x = x.astype(dtype)
    op = ops.OPS[name]
    with np.errstate(all="ignore"):  # as `run` computes (inf in, nan out)
        ans = op.forward(x)
    g = rng.standard_normal(x.shape).astype(dtype)
    g[:3] = [np.nan, np.inf, -0.0]
    if name == "tanh":
        formula = ops.mul(g, ops.sub(1.0, ops.mul(ans, ans)))
    else:
        formula = ops.mul(g, ops.mul(ans, ops.sub(1.0, ans)))
    got = op.vjps[0](g, ans, x)
    assert got.dtype == formula.dtype == np.dtype(dtype)
    assert got.tobytes() == formula.tobytes()
    for shape in [(3, 4), (1,)]:  # other shapes
        xs = rng.standard_normal(shape).astype(dtype)
        a, gs = op.forward(xs), rng.standard_normal(shape).astype(dtype)
        assert (
            op.vjps[0](gs, a, xs).tobytes()
            == (
                ops.mul(gs, ops.sub(1.0, ops.mul(a, a)))
                if name == "tanh"
                else ops.mul(gs, ops.mul(a, ops.sub(1.0, a)))
            ).tobytes()
        )
    # layouts: a transposed x (so ans) and/or gradient give the layout of the
    # op-by-op result too (a gradient's layout orders later reductions' sums)
    for x_t in [False, True]:
        for g_t in [False, True]:
            xs = rng.standard_normal((5, 3) if x_t else (3, 5)).astype(dtype)
            xs = xs.T if x_t else xs
            a = op.forward(xs)
            gs = rng.standard_normal((5, 3) if g_t else (3, 5)).astype(dtype)
            gs = gs.T if g_t else gs
            got = op.vjps[0](gs, a, xs)
            tape = core.Tape()
            want = op.vjps[0](tape.leaf(gs), tape.leaf(a), tape.leaf(xs)).value
            assert got.strides == want.strides, (x_t, g_t)
            assert got.tobytes(order="A") == want.tobytes(order="A"), (x_t, g_t)
    tape = core.Tape()
    traced = op.vjps[0](tape.leaf(g), tape.leaf(ans), tape.leaf(x))
    assert type(traced) is core.Tensor
    assert traced.value.tobytes() == formula.tobytes()


def test_second_derivative_through_tanh_and_sigmoid():
    """d²/dx² of tanh and sigmoid, through the traced VJPs, against the
    closed forms."""
    from autograd_cli import derivatives

    for name, second in [
        ("tanh", lambda t: -2 * t * (1 - t * t)),
        ("sigmoid", lambda s: s * (1 - s) * (1 - 2 * s)),
    ]:
        model = load(Source("t.expr", f"param x = [0.3, -1.2, 2.0]\ny = sum({name}(x))\n"))
        b = model.by_name["x"]
        blocks = derivatives.hessian(model.graph, model.by_name["y"].node, [b.node])
        value = np.array([0.3, -1.2, 2.0])
        t = np.tanh(value) if name == "tanh" else 1 / (1 + np.exp(-value))
        np.testing.assert_allclose(np.diag(blocks[(b.node, b.node)]), second(t), rtol=1e-12)


# --------------------------------- VJPs with a fast path for plain arrays


def _traced_value(vjp, *args, **attrs):
    """The VJP's result through the op-by-op path (every argument traced)."""
    from autograd_cli import core

    tape = core.Tape()
    out = vjp(*[tape.leaf(a) for a in args], **attrs)
    assert type(out) is core.Tensor
    return out.value


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_pow_vjp_with_a_constant_exponent_gives_the_general_bits(dtype):
    """x ** c's VJP skips the exponent-zero mask when c is a nonzero
    constant: its result must be the general formula's, bit for bit."""
    from autograd_cli import ops

    rng = np.random.default_rng(11)
    x = np.concatenate(
        [rng.standard_normal(200) * 3, [0.0, -0.0, 1.0, -1.0, 1e-30, 1e30, np.inf, -np.inf, np.nan]]
    )
    x = x.astype(dtype)
    vjp = ops.OPS["pow"].vjps[0]
    for c in [2.0, 3.0, 0.5, -1.0, -2.5, 1.0, 1e-3, np.inf, -np.inf, np.nan, 0.0]:
        for y in [np.array(c, dtype=dtype), np.dtype(dtype).type(c)]:
            with np.errstate(all="ignore"):
                ans = ops.OPS["pow"].forward(x, y)
                g = rng.standard_normal(x.shape).astype(dtype)
                g[:2] = [np.nan, -0.0]
                got = vjp(g, ans, x, y)
                want = _traced_value(vjp, g, ans, x, y)
            assert type(got) is np.ndarray and got.dtype == np.dtype(dtype)
            assert got.shape == x.shape
            assert got.tobytes() == want.tobytes(), (c, type(y))
    # broadcast and transposed gradients, transposed x: the same bits and
    # the same layout (a gradient's layout orders later reductions' sums)
    x2 = rng.standard_normal((4, 3)).astype(dtype)
    y2 = np.array(2.0, dtype=dtype)
    for xx in [x2, rng.standard_normal((3, 4)).astype(dtype).T]:
        for g2 in [
            np.broadcast_to(np.array(0.25, dtype=dtype), (4, 3)),
            rng.standard_normal((3, 4)).astype(dtype).T,
            rng.standard_normal((4, 3)).astype(dtype),
        ]:
            got = vjp(g2, xx**y2, xx, y2)
            want = _traced_value(vjp, g2, xx**y2, xx, y2)
            assert got.strides == want.strides
            assert got.tobytes(order="A") == want.tobytes(order="A")


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_mean_forward_is_numpys_to_the_bit(dtype):
    """kernels.mean (numpy's sum and division without np.mean's wrappers)
    against np.mean, float32's division by the count in float64 included."""
    from autograd_cli import kernels

    rng = np.random.default_rng(8)
    for shape, axis in [
        ((7,), None),
        ((1001,), None),
        ((3, 4), 0),
        ((3, 4), -1),
        ((3, 4), (0, 1)),
        ((2, 3, 4), (0, 2)),
        ((6, 1, 5), None),
        ((), None),
    ]:
        x = (rng.standard_normal(shape) * 1e3).astype(dtype)
        for a in [x, x.T]:
            got, want = kernels.mean(a, axis=axis), np.mean(a, axis=axis)
            assert type(got) is type(want) and np.shape(got) == np.shape(want)
            assert np.asarray(got).dtype == np.asarray(want).dtype
            assert np.asarray(got).tobytes() == np.asarray(want).tobytes(), (shape, axis)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "shape, axis",
    [
        ((7,), None),
        ((3, 4), None),
        ((3, 4), 0),
        ((3, 4), -1),
        ((2, 3, 4), (0, 2)),
        ((2, 3, 4), 1),
        ((2, 3, 4), 0),
        ((4, 1, 3), None),
        ((1, 5), 1),
        ((2, 3, 4), (0, 1, 2)),
        ((), None),
    ],
)
def test_mean_vjp_gives_the_general_bits_and_layout(dtype, shape, axis):
    """mean's VJP on plain arrays: the same bits as spreading the gradient
    and dividing, and the same memory layout (strides) — later reductions
    add a gradient up in its layout's order, so a C-ordered copy of a
    transposed gradient would change the last bits downstream."""
    from autograd_cli import ops

    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape).astype(dtype)
    op = ops.OPS["mean"]
    ans = op.forward(x, axis=axis)
    vjp = op.vjps[0]
    gshape = np.shape(ans)
    base = np.asarray(rng.standard_normal(gshape[::-1]) * 3).astype(dtype)
    cases = [
        np.asarray(rng.standard_normal(gshape) * 3).astype(dtype),
        np.full(gshape, np.nan, dtype),
        np.full(gshape, -0.0, dtype),
        base.T,
    ]  # not C-contiguous when 2-d or more
    if len(gshape) == 0:
        cases += [cases[0][()]]  # a numpy scalar
    for gg in cases:
        got = vjp(gg, ans, x, axis=axis)
        want = _traced_value(vjp, gg, ans, x, axis=axis)
        assert np.shape(got) == shape
        got, want = np.asarray(got), np.asarray(want)
        assert got.dtype == np.dtype(dtype)
        assert got.strides == want.strides
        assert got.tobytes(order="A") == want.tobytes(order="A")


def test_mean_of_a_transposed_gradient_adds_up_in_the_same_order():
    """A program whose gradient reaches `mean` transposed and is then summed
    back over a broadcast: the gradient is the general path's, to the bit
    (a C-ordered copy once changed 1.3 to 1.2999999999999998 here)."""
    from autograd_cli import core, engine

    text = (
        "param a = 0\nx = a + [[[1, 2], [3, 4]]]\n"
        "L = sum(transpose(mean(x, axis=0)) * [[0.1, 0.2], [0.4, 0.6]])\n"
    )
    for dtype in ["float64", "float32"]:
        model = load(Source("m.expr", text), dtype=dtype)
        got = run(model).grads["a"]
        # every VJP traced: the op-by-op formulas throughout
        g = model.graph
        values = engine.evaluate(g)
        tape = core.Tape()
        traced = engine.backward(
            g,
            [tape.leaf(v) if v is not None else v for v in values],
            model.by_name["L"].node,
            tape.leaf(np.ones((), dtype)),
        )
        want = traced[model.by_name["a"].node]
        want = want.value if type(want) is core.Tensor else want
        assert np.asarray(got).tobytes() == np.asarray(want).tobytes(), dtype


# ----------------------------------------- what each op's VJPs read (saves)


def _saves_cases(rng, dtype):
    """For every op that declares `saves`: (arguments, attributes) over a few
    shapes, broadcasting included.  Scalars are numpy scalars, as the
    engine's are."""

    def arr(shape, lo=-2.0, hi=2.0):
        a = (
            rng.uniform(lo, hi, size=shape) * rng.choice([-1.0, 1.0], size=shape)
            if lo > 0
            else rng.uniform(lo, hi, size=shape)
        ).astype(dtype)
        return a[()] if shape == () else a

    def pos(shape):
        return np.abs(arr(shape, 0.5, 2.0))

    unary = [(), (4,), (3, 4)]
    pairs = [((3, 4), (3, 4)), ((3, 4), (4,)), ((), (3,)), ((1, 4), (3, 1)), ((), ())]
    cases = {}
    for name in ("add", "sub", "mul"):
        cases[name] = [((arr(a), arr(b)), {}) for a, b in pairs]
    cases["div"] = [((arr(a), arr(b, 0.5, 2.0)), {}) for a, b in pairs]
    cases["matmul"] = [
        ((arr(a), arr(b)), {})
        for a, b in [((3, 4), (4,)), ((4,), (4, 2)), ((3, 4), (4, 2)), ((4,), (4,))]
    ]
    for name in ("neg", "pos", "exp", "tanh", "sigmoid", "sin", "cos", "abs", "relu", "softplus"):
        cases[name] = [((arr(s, 0.1, 2.0),), {}) for s in unary]
    for name in ("log", "log1p", "sqrt"):
        cases[name] = [((pos(s),), {}) for s in unary]
    cases["tan"] = [((arr(s, -1.0, 1.0),), {}) for s in unary]
    cases["sum"] = [
        ((arr(s),), {"axis": axis})
        for s, axis in [((), None), ((4,), None), ((3, 4), None), ((3, 4), 0), ((3, 4), 1)]
    ]
    cases["sum"] += [((arr((3, 4)),), {"axis": 1, "keepdims": True})]
    cases["mean"] = [
        ((arr(s),), {"axis": axis})
        for s, axis in [((4,), None), ((3, 4), None), ((3, 4), 0), ((3, 4), 1), ((), None)]
    ]
    cases["transpose"] = [((arr(s),), {}) for s in [(4,), (3, 4), (2, 3, 4)]]
    cases["reshape"] = [((arr((3, 4)),), {"shape": s}) for s in [(4, 3), (12,), (2, 2, 3)]]
    cases["broadcast_to"] = [((arr(s),), {"shape": (3, 4)}) for s in [(4,), (3, 1), ()]]
    cases["index"] = [
        ((arr((3, 4)),), {"key": k})
        for k in [(1,), (slice(None), 0), (slice(0, 2), slice(1, None)), (-1, 2)]
    ]
    cases["unindex"] = [
        ((arr((2, 4)),), {"shape": (3, 4), "key": (slice(0, 2),)}),
        ((arr(()),), {"shape": (3, 4), "key": (1, 2)}),
    ]
    cases["stack"] = [(tuple(arr(s) for _ in range(3)), {}) for s in [(), (4,), (2, 3)]]
    # ops_math.py's ops
    for name in ("asin", "acos", "atanh"):
        cases[name] = [((arr(s, -0.9, 0.9),), {}) for s in unary]
    for name in ("atan", "sinh", "cosh", "asinh", "expm1", "erf", "erfc"):
        cases[name] = [((arr(s),), {}) for s in unary]
    for name in ("sign", "floor", "ceil", "round"):
        cases[name] = [((arr(s),), {}) for s in unary]
    cases["acosh"] = [((pos(s) + 1,), {}) for s in unary]
    for name in ("log2", "log10"):
        cases[name] = [((pos(s),), {}) for s in unary]
    for name in ("atan2", "lt", "le", "gt", "ge", "eq", "ne"):
        cases[name] = [((arr(a), arr(b)), {}) for a, b in pairs]
    cases["select"] = [
        ((arr(c), arr(a), arr(b)), {})
        for c, a, b in [((3, 4), (4,), (3, 1)), ((), (3,), ()), ((4,), (4,), (4,))]
    ]
    return cases


def _vjps_with_poison(op, saves, args, attrs, rng):
    """Each VJP of `op` on `args`, with everything kept and with what
    `saves` leaves out replaced by what eval leaves in its place (a value
    whose numbers cannot be read): the two lists of gradients."""
    from autograd_cli.engine import Released

    ans = op.forward(*args, **attrs)
    g = np.asarray(rng.standard_normal(np.shape(ans))).astype(np.asarray(ans).dtype)
    g = g[()] if g.ndim == 0 else g

    def poison(v):
        return Released(np.shape(v), np.asarray(v).dtype)

    held = [v if k in saves[0] else poison(v) for k, v in enumerate(args)]
    held_ans = ans if saves[1] else poison(ans)
    n = len(args) if op.vjps else 0  # a comparison has no VJPs
    full = [op.vjps[k](g, ans, *args, **attrs) for k in range(n)]
    lean = [op.vjps[k](g, held_ans, *held, **attrs) for k in range(n)]
    return full, lean


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_saves_declaration_is_honest(dtype):
    """eval lets go of the values an op's `saves` says its VJPs do not read.
    Every op that declares it gets the same gradients — bits, type and
    layout — when those values are gone as when everything is kept; reading
    a gone value raises.  Every op of the table with a declaration is
    covered here."""
    from autograd_cli.ops import OPS

    rng = np.random.default_rng(21)
    cases = _saves_cases(rng, dtype)
    declared = {name for name, op in OPS.items() if op.saves is not None}
    assert declared == set(cases)
    for name in sorted(declared):
        op = OPS[name]
        for args, attrs in cases[name]:
            full, lean = _vjps_with_poison(op, op.saves, args, attrs, rng)
            for k, (want, got) in enumerate(zip(full, lean)):
                where = f"{name} argument {k}, shapes {[np.shape(a) for a in args]}, {attrs}"
                assert type(got) is type(want), where
                want, got = np.asarray(want), np.asarray(got)
                assert got.dtype == want.dtype and got.shape == want.shape, where
                assert got.strides == want.strides, where
                assert got.tobytes(order="A") == want.tobytes(order="A"), where


def test_the_saves_check_catches_a_vjp_that_reads_what_was_let_go():
    """The check above has teeth: mul declared to save nothing reads both
    arguments, and the gone value raises."""
    from autograd_cli.engine import ReleasedValueError
    from autograd_cli.ops import OPS

    rng = np.random.default_rng(3)
    args = (rng.standard_normal((3, 4)), rng.standard_normal(4))
    with pytest.raises(ReleasedValueError):
        _vjps_with_poison(OPS["mul"], ((), False), args, {}, rng)
    with pytest.raises(ReleasedValueError):
        _vjps_with_poison(OPS["exp"], ((), False), (args[0],), {}, rng)  # exp reads ans


def test_float_kernels_read_what_saves_declares():
    """Scalars run as Python floats are never let go, but a declaration is
    the op's, whichever path runs it: each float kernel's VJP gives the same
    numbers with what `saves` leaves out made nan."""
    from autograd_cli.ops import OPS

    rng = np.random.default_rng(8)
    checked = 0
    for name, op in OPS.items():
        if op.saves is None or op.scalar is None or op.scalar[1] is None:
            continue
        n = op.scalar[1].__code__.co_argcount - 2  # vjp(g, ans, *xs)
        for _ in range(20):
            xs = [float(rng.uniform(0.3, 1.5)) for _ in range(n)]
            with np.errstate(invalid="ignore"):
                ans = op.scalar[0](*xs)
            g = float(rng.standard_normal())
            held = [x if k in op.saves[0] else float("nan") for k, x in enumerate(xs)]
            want = op.scalar[1](g, ans, *xs)
            got = op.scalar[1](g, ans if op.saves[1] else float("nan"), *held)
            # (equal_nan: uniform(0.3, 1.5) is outside asin's and acosh's domains)
            assert np.array_equal(want, got, equal_nan=True), (name, xs)
        checked += 1
    assert checked >= 15
