"""float64 scalars as Python floats (engine.evaluate_floats): the same bits
as numpy's own scalars, op by op and program by program, and numpy
throughout wherever Python's float arithmetic refuses."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest

from autograd_cli.compiling import load
from autograd_cli.engine import backward, backward_floats, evaluate, evaluate_floats
from autograd_cli.errors import Source
from autograd_cli.ops import OPS
from autograd_cli.running import run

from programs import random_scalar_program

EDGES = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    2.5,
    -2.5,
    0.5,
    3.0,
    1e-310,
    1e308,
    -1e308,
    math.inf,
    -math.inf,
    math.nan,
]
KERNEL_OPS = sorted(name for name, op in OPS.items() if op.scalar is not None and name != "leaf")


def same(a, b) -> bool:
    """The same float64, bit for bit (nan equals nan, 0.0 is not -0.0)."""
    a, b = np.float64(a), np.float64(b)
    return a.tobytes() == b.tobytes() or (np.isnan(a) and np.isnan(b))


# where libm and numpy's vectorised functions part (tanh, exp, tan, log
# differ in the last bit on a few in a hundred)
SPREAD = [float(x) for x in np.random.default_rng(7).normal(scale=3.0, size=300)]


def cases(arity):
    if arity == 1:
        return [(x,) for x in EDGES + SPREAD + [abs(x) for x in SPREAD]]
    if arity == 2:
        pairs = list(zip(SPREAD, SPREAD[1:] + SPREAD[:1]))
        return list(itertools.product(EDGES, repeat=2)) + pairs + [(abs(x), y) for x, y in pairs]
    if arity == 3:  # clip: a smaller grid
        few = [0.0, -0.0, 1.0, -2.5, 3.0, math.inf, math.nan]
        return list(itertools.product(few, repeat=3))
    raise ValueError(arity)


def arity(name):
    return OPS[name].vjps.__len__()


def test_the_kernels_cover_the_elementwise_ops():
    assert set(KERNEL_OPS) >= {
        "add",
        "sub",
        "mul",
        "div",
        "pow",
        "neg",
        "pos",
        "exp",
        "log",
        "log1p",
        "sqrt",
        "abs",
        "sin",
        "cos",
        "tan",
        "tanh",
        "sigmoid",
        "relu",
        "softplus",
        "maximum",
        "minimum",
        "clip",
    }


@pytest.mark.parametrize("name", KERNEL_OPS)
def test_kernel_gives_numpy_scalar_bits(name):
    """Forward and every VJP on floats against the numpy op on np.float64,
    over zeros of both signs, infinities, nan, tiny and huge numbers.  A
    kernel may refuse (ArithmeticError, ValueError): run() then uses numpy."""
    op = OPS[name]
    forward, vjp = op.scalar
    n = arity(name)
    refused = checked = 0
    with np.errstate(all="ignore"):
        for xs in cases(n):
            nx = [np.float64(x) for x in xs]
            want = op.forward(*nx)
            try:
                got = forward(*xs)
            except (ArithmeticError, ValueError):
                refused += 1
                continue
            assert type(got) is float, (name, xs)
            assert same(got, want), (name, xs, got, want)
            for g in (1.0, -2.5):
                wants = [op.vjps[k](np.float64(g), want, *nx) for k in range(n)]
                try:
                    gots = vjp(g, got, *xs)
                except (ArithmeticError, ValueError):
                    refused += 1
                    continue
                gots = (gots,) if n == 1 else gots
                for k in range(n):
                    assert type(gots[k]) is float, (name, xs, k)
                    assert same(gots[k], wants[k]), (name, xs, g, k, gots[k], wants[k])
                checked += 1
    assert checked > refused


@pytest.mark.parametrize("seed", range(40))
def test_float_path_gives_numpy_bits_for_every_node(seed):
    text = random_scalar_program(random.Random(seed))
    model = load(Source("r.expr", text))
    graph = model.graph
    target = model.bindings[-1].node
    one = np.ones(())
    with np.errstate(all="ignore"):
        want_values = evaluate(graph)
        want_grads = backward(graph, want_values, target, one)
        try:
            values = evaluate_floats(graph)
            grads = backward_floats(graph, values, target, one)
        except (ArithmeticError, ValueError):
            # Python refuses a float operation here: run() goes to numpy throughout
            got, want = run(load(Source("r.expr", text))), _numpy_run(text)
            for name in want.values:
                assert same(got.values[name], want.values[name]), name
                assert same(got.grads[name], want.grads[name]), name
            return
    for i in range(len(graph)):
        if model.shapes[i] == ():
            assert type(values[i]) is float
            assert same(values[i], want_values[i]), (text, i)
        else:
            assert np.array_equal(values[i], want_values[i], equal_nan=True)
        if want_grads[i] is None:
            assert grads[i] is None, (text, i)
        elif model.shapes[i] == ():
            assert same(grads[i], want_grads[i]), (text, i, grads[i], want_grads[i])
        else:
            assert np.array_equal(grads[i], want_grads[i], equal_nan=True), (text, i)


def test_most_random_programs_run_on_floats():
    """The skip above is the exception: the float path is what runs."""
    refused = 0
    for seed in range(40):
        model = load(Source("r.expr", random_scalar_program(random.Random(seed))))
        try:
            with np.errstate(all="ignore"):
                evaluate_floats(model.graph)
        except (ArithmeticError, ValueError):
            refused += 1
    assert refused <= 10


def _numpy_run(text, **kw):
    model = load(Source("t.expr", text))
    model.floats = False  # numpy throughout
    return run(model, **kw)


@pytest.mark.parametrize(
    "text",
    [
        "param x = 2\ny = x / 0\nL = y * 3",  # x / 0 = inf
        "param x = 0\nL = x / x",  # nan
        "param x = 0\nL = x ** -1",  # 0 ** -1
        "param x = -8\nL = x ** (1 / 3)",  # complex in Python
        "param x = 10\nL = x ** 400",  # overflow in **
        "param x = 0\nL = log(x) + sqrt(x)",  # finite forward, 1/0 backward
        "param x = 3\ny = 0 * x\nL = sqrt(y) * x",
    ],
)
def test_where_python_refuses_numpy_runs(text):
    got = run(load(Source("t.expr", text)))
    want = _numpy_run(text)
    for name in want.values:
        assert same(got.values[name], want.values[name]), name
        assert same(got.grads[name], want.grads[name]), name
    assert [w.message for w in got.warnings] == [w.message for w in want.warnings]
    assert got.warnings, "a non-finite number is reported"


def test_run_takes_the_float_path_and_reports_numpy_types():
    model = load(Source("t.expr", "param p = 0.5\nx = tanh(p * 3)\nv = [x, 2 * x]\nL = sum(v)\n"))
    lean = run(model, every_node=False)
    assert type(lean.node_values[model.by_name["x"].node]) is float  # floats ran
    full = run(model)
    for name, b in model.by_name.items():
        assert isinstance(full.values[name], (np.ndarray, np.float64))
        assert isinstance(full.grads[name], (np.ndarray, np.float64))
        assert same(full.values[name], lean.values[name]) if b.name != "v" else True
    for v in full.node_values + full.node_grads:
        assert type(v) is not float
    assert math.isclose(float(full.grads["p"]), 3 * 3 * (1 - math.tanh(1.5) ** 2))


def test_float32_runs_on_numpy():
    model = load(Source("t.expr", "param p = 0.5\nL = tanh(p * 3)\n"), dtype="float32")
    report = run(model)
    assert report.values["L"].dtype == np.float32
    assert report.grads["p"].dtype == np.float32


@pytest.mark.parametrize(
    "base, want", [("-inf", "nan"), ("-0.0", "-0.0"), ("4", "2.0"), ("-4", "nan"), ("inf", "inf")]
)
def test_power_one_half_is_sqrt_everywhere(base, want):
    """x ** 0.5 is numpy's sqrt for arrays; scalars, on floats or on numpy,
    give the same (PyTorch does too)."""
    b = {"-inf": "-1e400", "inf": "1e400"}.get(base, base)
    text = f"x = {b}\nv = [x, x]\ns = x ** 0.5\nt = v ** 0.5\nL = s + sum(t)\n"
    for floats in (True, False):
        model = load(Source("t.expr", text))
        model.floats = floats
        report = run(model)
        assert same(report.values["s"], float(want)), (floats, report.values["s"])
        assert same(report.values["t"][0], float(want)), (floats, report.values["t"])


def test_a_later_syntax_error_wins_over_a_failure_while_streaming(monkeypatch):
    """eval compiles each statement as it is parsed; anything going wrong
    there (here: memory) is reported by the whole-file path, which meets
    the file's syntax error first."""
    from autograd_cli import compiler
    from autograd_cli.errors import ExprError

    def out_of_memory(self, e):
        raise MemoryError()

    monkeypatch.setattr(compiler.Compiler, "expr", out_of_memory)
    with pytest.raises(ExprError, match="never closed"):
        load(Source("t.expr", "a = ones(3)\nb = (\n"), keep_exprs=False)


def test_a_defect_while_streaming_is_not_held_back(monkeypatch):
    """Only what the whole-file path would meet after the parse (an
    ExprError, running out of memory) waits for the rest of the file: any
    other exception is a defect, raised where it happens."""
    from autograd_cli import compiler

    def broken(self, e):
        raise ZeroDivisionError("a defect")

    monkeypatch.setattr(compiler.Compiler, "expr", broken)
    with pytest.raises(ZeroDivisionError, match="a defect"):
        load(Source("t.expr", "a = ones(3)\nb = (\n"), keep_exprs=False)
