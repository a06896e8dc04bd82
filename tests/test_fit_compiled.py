"""The fit's compiled step (fitting/compiled.py) against the engine's
passes: the same objective and gradients to the last bit, on the examples,
on programs written to reach each of its rewrites, on random ones, and on
every op of the table."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from op_cases import CASES as OP_CASES

from autograd_cli.compiling import load
from autograd_cli.core import CONST, LEAF, OPS, Graph
from autograd_cli.derivatives import only_leaves
from autograd_cli.engine import backward, evaluate
from autograd_cli.errors import Source
from autograd_cli.fitting import compiled
from autograd_cli.fitting.problem import Problem

from common import ROOT
from programs import smooth_programs


def problem(text, dtype="float64", target=None):
    model = load(Source("t.expr", text), dtype=dtype)
    names = [b.name for b in model.bindings if b.kind == "param"]
    node = model.by_name[target].node if target else model.bindings[-1].node
    return Problem(model, names, node)


def engine_side(p, x):
    """The objective and gradient by the engine's evaluate and backward."""
    return p.objective(x), p.gradient(x)


def assert_same(p, points):
    for x in points:
        f, grads = p.at(p.split(x))
        want_f, want_g = engine_side(p, x)
        assert np.float64(f).tobytes() == np.float64(want_f).tobytes(), (f, want_f)
        got = p.flat(grads)
        assert got.tobytes() == want_g.tobytes(), np.max(np.abs(got - want_g))
        for g, shape in zip(grads, p.shapes):
            assert np.shape(g) == shape
            assert np.asarray(g).dtype == p.dtype
    assert callable(p._step)  # the compiled step ran, not the fallback


def points(p, k=3, seed=0):
    rng = np.random.default_rng(seed)
    x0 = p.start()
    return [x0] + [x0 + 0.1 * rng.standard_normal(p.size) for _ in range(k - 1)]


EXAMPLES = ["mlp", "logistic", "softmax", "projectile", "bond", "seed"]


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_examples(name, dtype):
    text = (ROOT / "examples" / f"{name}.expr").read_text(encoding="utf-8")
    p = problem(text, dtype)
    if p.size == 0:
        pytest.skip(f"{name}.expr has no params")
    assert_same(p, points(p))


PROGRAMS = {
    # two matrices (the product's rewrite), a bias over the batch and a
    # scalar one (sums over fixed axes), the mean's constant gradient
    "matrices": """X = [[0.1, 0.5, -0.3], [0.9, -0.2, 0.4], [-0.6, 0.8, 0.0], [0.3, 0.3, 0.7]]
y = [[1.0], [0.0], [0.5], [-0.5]]
param W1 = [[0.2, -0.1, 0.4], [0.3, 0.1, -0.5], [-0.2, 0.6, 0.1]]
param b1 = [0.1, -0.2, 0.05]
param W2 = [[0.3], [-0.4], [0.2]]
param b2 = 0.1
h = tanh(X @ W1 + b1)
L = mean((h @ W2 + b2 - y) ** 2)
""",
    # `-` broadcast on either side, and its second argument's negation
    "subtraction": """param a = [0.5, -1.0, 2.0]
param s = 0.3
d = s - a
e = a - s
f = [[1.0, 2.0, 3.0], [0.5, 0.25, 0.125]] - a
L = sum(d * e) + sum(f ** 2) - s
""",
    # products that are not of two matrices: vector @ matrix, matrix @
    # vector, vector @ vector, stacks of matrices
    "products": """param v = [0.3, -0.2]
param M = [[1.0, 0.5], [-0.5, 2.0]]
param S = [[[1.0, 0.1], [0.2, 1.0]], [[0.5, 0.0], [0.3, 0.7]]]
L = sum(v @ M) + sum(M @ v) + v @ v + sum(S @ M)
""",
    # gradients that read nothing the params change, alone and summed
    # with ones that do: linear terms, a param used several times
    "constant gradients": """param w = [0.5, -0.3, 0.8]
param c = 2.0
x = [1.0, 2.0, 3.0]
a = tanh(w)
L = sum(w * x) + mean(a) + sum(a) + a[0] ** 2 + 3 * c + w[1] * w[1]
""",
    # a param the target does not read gets zeros; the target a param's
    # function with attributes (an axis)
    "unused param": """param u = [1.0, 2.0]
param M = [[1.0, 2.0], [3.0, 4.0]]
L = sum(logsumexp(M, axis=1)) + sum(mean(M, axis=0) ** 2)
""",
}


@pytest.mark.parametrize("name", list(PROGRAMS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_rewrites(name, dtype):
    p = problem(PROGRAMS[name], dtype, target="L")
    assert_same(p, points(p))


def test_unused_param_gets_zeros():
    p = problem(PROGRAMS["unused param"], target="L")
    f, grads = p.at(p.split(p.start()))
    assert np.array_equal(grads[0], np.zeros(2))


def test_target_is_a_param():
    p = problem("param a = 1.5\nparam b = 2.0\nc = b * 3\n", target="a")
    f, grads = p.at(p.split(p.start()))
    assert f == 1.5 and grads[0] == 1.0 and np.array_equal(grads[1], 0.0)


def test_constant_gradients_are_not_written_by_the_fit():
    # A constant gradient is one array shared by every call: the first-order
    # loop must not change it in place (sgd with weight decay adds to a copy).
    p = problem("param w = [0.5, -0.3]\nL = sum(w) - mean(w)\n", target="L")
    f, grads = p.at(p.split(p.start()))
    assert p.at(p.split(p.start() + 1))[1][0] is grads[0]  # computed once
    before = grads[0].copy()
    from autograd_cli.fitting.methods import Settings, minimise

    minimise(p, Settings("sgd", 5, 0.0, weight_decay=0.1, momentum=0.9))
    _, again = p.at(p.split(p.start()))
    assert np.array_equal(again[0], before)


def test_only_what_the_target_reads_is_computed(monkeypatch):
    from autograd_cli.ops import OPS

    calls = []
    sin = OPS["sin"].forward
    monkeypatch.setattr(OPS["sin"], "forward", lambda x: calls.append(1) or sin(x))
    p = problem("param w = [0.5, -0.3]\nside = sin(w) * 3\nL = sum(w ** 2)\n", target="L")
    x = p.start()
    p.at(p.split(x))  # compiles: every value at the start is computed once
    calls.clear()
    for k in range(3):
        p.at(p.split(x + 0.1 * k))
    assert calls == []


def test_large_graphs_use_the_engine(monkeypatch):
    monkeypatch.setattr(compiled, "MAX_LINES", 3)
    p = problem(PROGRAMS["matrices"], target="L")
    x = p.start() + 0.01
    f, grads = p.at(p.split(x))
    assert p._step is False
    want_f, want_g = engine_side(p, x)
    assert f == want_f and p.flat(grads).tobytes() == want_g.tobytes()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(smooth_programs())
def test_random_programs(prog):
    p = problem(prog.text(), target="L")
    if p.size == 0:
        return
    assert_same(p, points(p, k=2, seed=1))


# --------------------------------------------------- every op of the table


def _graph_of(name, args, attrs, rng):
    """sum(op(args) * W) with each float argument a leaf and W a constant
    of the output's shape (so the seed reaching the op is not uniform)."""
    graph = Graph()
    leaves, ids = [], []
    for a in args:
        if np.asarray(a).dtype.kind == "f":
            leaves.append(graph.add(LEAF, (), None, a))
            ids.append(leaves[-1])
        else:
            ids.append(graph.add(CONST, (), None, a))
    node = graph.add(OPS[name], tuple(ids), attrs)
    ans = OPS[name].forward(*args, **attrs)
    weights = graph.add(CONST, (), None, rng.uniform(0.5, 1.5, np.shape(ans)))
    product = graph.add(OPS["mul"], (node, weights))
    return graph, leaves, graph.add(OPS["sum"], (product,))


def _engine_at(graph, leaves, target, point):
    for leaf, value in zip(leaves, point):
        graph.values[leaf] = value
    values = evaluate(graph)
    view = only_leaves(graph, leaves)
    seed = np.ones((), dtype=np.asarray(values[target]).dtype)
    grads = backward(view, list(values), target, seed)
    return values, view, [grads[leaf] for leaf in leaves]


@pytest.mark.parametrize("name,found", OP_CASES, ids=[name for name, _ in OP_CASES])
def test_every_op_gives_the_engines_bits(name, found):
    """The compiled step on each op of the table (the JVP test's cases, so
    an op added later is covered), at the point and at a nearby one."""
    assert found, f"no case for {name}: give it one in tests/op_cases.py"
    rng = np.random.default_rng(7)
    for args, attrs in found:
        graph, leaves, target = _graph_of(name, args, attrs, rng)
        if not leaves:
            continue
        with np.errstate(all="ignore"):
            start = [graph.values[leaf] for leaf in leaves]
            values, view, _ = _engine_at(graph, leaves, target, start)
            step = compiled.compile_step(graph, leaves, target, values, view.requires)
            for scale in (1.0, 1.001):
                point = [np.asarray(v) * scale for v in start]
                point = [p[()] if p.ndim == 0 else p for p in point]
                want_values, _, want = _engine_at(graph, leaves, target, point)
                f, grads = step(*point)
                assert np.asarray(f).tobytes() == np.asarray(want_values[target]).tobytes()
                for g, w, leaf in zip(grads, want, leaves):
                    w = np.zeros_like(graph.values[leaf]) if w is None else w
                    assert np.shape(g) == np.shape(w) and np.asarray(g).dtype == np.asarray(w).dtype
                    assert np.asarray(g).tobytes() == np.asarray(w).tobytes(), (name, attrs)


# ------------------------------------ random programs over the function set

# Templates by the kind of value they give (M: 3 by 3, v: 3, s: scalar),
# each filled with names of those kinds: where and comparisons, indexing and
# slicing, linear algebra, cumsum, concat and stack, reductions along axes,
# clip, maximum and minimum, softmax and logsumexp.
_MATRICES = [
    "{M} @ {M2}", "inv({M} + 3 * eye(3))", "transpose({M})", "where({M} > 0.1, {M}, -{M})",
    "clip({M}, -0.5, 0.5)", "maximum({M}, {M2})", "minimum({M}, 0.2)", "softmax({M}, axis=0)",
    "cumsum({M}, axis=1)", "log_softmax({M})", "outer({v}, {v2})", "{M} * {M2}",
    "reshape(concat({v}, {v2}, {v}), 3, 3)", "stack({v}, {v2}, {v}, axis=1)", "{M}[0:3]",
    "relu({M} - 0.1)", "{M} / (1 + {M2} ** 2)", "where({M} >= {M2}, exp({M}), {s})",
]  # fmt: skip
_VECTORS = [
    "solve({M} + 3 * eye(3), {v})", "{M} @ {v}", "sum({M}, axis=0)", "max({M}, axis=1)",
    "min({M}, axis=0)", "logsumexp({M}, axis=1)", "var({M}, axis=0)", "std({M}, axis=1)",
    "cumsum({v})", "diag({M})", "{M}[1]", "{M}[:, 2]", "concat({v}[0:1], {v}[1:3])",
    "where({v} < {s}, {v}, {s})", "softmax({v})", "clip({v}, {s}, 1)", "maximum({v}, {s})",
    "mean({M}, axis=1)", "prod({M}, axis=0)", "atan2({v}, 1 + {v2} ** 2)", "abs({v}) * {s}",
]  # fmt: skip
_SCALARS = [
    "det({M} + 2 * eye(3))", "max({v})", "min({M})", "logsumexp({M})", "var({v})", "std({M})",
    "trace({M})", "{v} @ {v2}", "norm({v})", "{M}[0, 1]", "{v}[-1]", "prod({v})",
    "{s} * {s2}", "where({s} > 0, {s}, 0.5 * {s})", "sum(cumsum({v}))",
]  # fmt: skip


def function_set_program(rng):
    """A program of 3 to 14 bindings drawn from the templates above, over
    params of every shape (a matrix, a vector, a scalar, an empty array),
    each used many times, and constants."""
    lines = [
        "param A = [[0.3, -0.2, 0.5], [0.1, 0.4, -0.3], [0.2, 0.1, 0.6]]",
        "param b = [0.7, -0.4, 0.25]",
        "param c = 0.35",
        "param e = zeros(0)",
        "K = [[1.0, 0.5, -0.5], [0.25, -1.0, 2.0], [0.5, 0.5, 0.5]]",
        "u = [1.0, -2.0, 0.5]",
    ]
    pool = {"M": ["A", "K"], "v": ["b", "u"], "s": ["c", "1.5"]}
    templates = {"M": _MATRICES, "v": _VECTORS, "s": _SCALARS}
    for i in range(rng.randint(3, 14)):
        kind = rng.choice("MMvvs")
        names = {k: rng.choice(pool[k[0]]) for k in ("M", "M2", "v", "v2", "s", "s2")}
        lines.append(f"n{i} = " + rng.choice(templates[kind]).format(**names))
        pool[kind].append(f"n{i}")
    terms = [f"sum({n})" for n in pool["M"][-2:] + pool["v"][-2:]] + pool["s"][-2:]
    return "\n".join(lines) + "\nL = " + " + ".join(terms) + " + sum(e)\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.sampled_from(["float64", "float32"]))
def test_random_programs_over_the_function_set(rng, dtype):
    p = problem(function_set_program(rng), dtype, target="L")
    with np.errstate(all="ignore"):
        assert_same(p, points(p, k=3, seed=rng.randint(0, 99)))


def test_a_long_chain_just_under_the_limit_is_compiled():
    lines = ["param w = 0.5", "param v = [0.1, 0.2]", "a0 = w"]
    lines += [f"a{i} = tanh(a{i - 1} * w + sum(v) * {i % 7 / 10})" for i in range(1, 400)]
    p = problem("\n".join(lines) + "\nL = (a399 - 0.3) ** 2 + sum(v ** 2)\n", target="L")
    assert_same(p, points(p, k=2))
