"""Engine-level tests: second derivatives (reverse over reverse), purity,
accumulation into reused nodes, and which nodes get which gradient.

Hessians are checked against central differences of the first-derivative
gradient, which is computed by re-running the program text with the
parameter's numbers nudged (numbers are written with repr(), so exactly).
"""

from __future__ import annotations

import numpy as np
import pytest

from autograd_cli.compiling import load
from autograd_cli.derivatives import gradients, hessian
from autograd_cli.engine import backward, evaluate
from autograd_cli.errors import Source
from autograd_cli.running import run

from common import SEED

# ------------------------------------------------------------------ helpers


def lit(a) -> str:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        return repr(float(a))
    return "[" + ", ".join(lit(e) for e in a) + "]"


def model_of(text: str, dtype: str = "float64"):
    return load(Source("t.expr", text), dtype=dtype)


def run_text(text: str):
    return run(model_of(text))


def node(model, name: str) -> int:
    return model.by_name[name].node


def hessian_by_name(text: str, wrt, target: str | None = None):
    model = model_of(text)
    t = node(model, target) if target else model.bindings[-1].node
    ids = [node(model, n) for n in wrt]
    blocks = hessian(model.graph, t, ids)
    return {(a, b): blocks[(node(model, a), node(model, b))] for a in wrt for b in wrt}


def fd_hessian(params: dict, body: str, wrt, eps: float = 1e-5):
    """Central differences of the reverse-mode gradient, by re-running the text.

    `params` maps names to arrays, written as `param` lines before `body`.
    Returns {(a, b): d(dL/da)/db} with blocks of shape shape_a + shape_b.
    """

    def text_for(ps):
        return "".join(f"param {n} = {lit(v)}\n" for n, v in ps.items()) + body

    out = {}
    for b in wrt:
        vb = np.asarray(params[b], dtype=np.float64)
        cols = {a: np.zeros(np.shape(params[a]) + vb.shape) for a in wrt}
        for idx in np.ndindex(vb.shape):
            hi, lo = vb.copy(), vb.copy()
            hi[idx] += eps
            lo[idx] -= eps
            step = float(hi[idx] - lo[idx])
            g_hi = run_text(text_for({**params, b: hi})).grads
            g_lo = run_text(text_for({**params, b: lo})).grads
            for a in wrt:
                sl = (Ellipsis,) + tuple(idx)
                cols[a][sl] = (g_hi[a] - g_lo[a]) / step
        for a in wrt:
            out[(a, b)] = cols[a]
    return out


def check_hessian(params: dict, body: str, rtol=1e-6, atol=1e-7):
    wrt = list(params)
    text = "".join(f"param {n} = {lit(v)}\n" for n, v in params.items()) + body
    got = hessian_by_name(text, wrt)
    want = fd_hessian(params, body, wrt)
    for a in wrt:
        for b in wrt:
            block = got[(a, b)]
            assert block.shape == np.shape(params[a]) + np.shape(params[b]), (a, b)
            np.testing.assert_allclose(
                block, want[(a, b)], rtol=rtol, atol=atol, err_msg=f"d2L / d{a} d{b}"
            )
            # symmetry: H[a, b] is H[b, a] transposed
            na, nb = np.ndim(params[a]), np.ndim(params[b])
            swapped = np.transpose(got[(b, a)], tuple(range(nb, nb + na)) + tuple(range(nb)))
            np.testing.assert_allclose(
                block, swapped, rtol=1e-12, atol=1e-12, err_msg=f"H[{a},{b}] vs H[{b},{a}]ᵀ"
            )
    return got


# ------------------------------------------------------------------ hessian


def test_second_derivative_of_cube():
    h = hessian_by_name("param x = 2\nL = x ** 3", ["x"])
    assert h[("x", "x")].shape == ()
    assert float(h[("x", "x")]) == pytest.approx(12.0, rel=1e-14)


@pytest.mark.parametrize("x,expected", [(-1.5, -9.0), (0.0, 0.0), (0.5, 3.0)])
def test_second_derivative_of_cube_elsewhere(x, expected):
    h = hessian_by_name(f"param x = {x!r}\nL = x ** 3", ["x"])
    assert float(h[("x", "x")]) == pytest.approx(expected, abs=1e-12)


def test_second_derivative_of_sin_times_exp():
    # d2/dx2 exp(x) sin(x) = 2 exp(x) cos(x)
    x = 0.7
    h = hessian_by_name(f"param x = {x!r}\nL = exp(x) * sin(x)", ["x"])
    assert float(h[("x", "x")]) == pytest.approx(2 * np.exp(x) * np.cos(x), rel=1e-12)


VECTOR_BODY = (
    "M = [[0.5, -1.2], [0.8, 0.3], [-0.4, 1.1]]\n"
    "L = sum(exp(x) * sin(x)) + x[0] * x[1] ** 2 + sum(tanh(x @ M))\n"
)


def test_hessian_of_vector_function_matches_finite_differences_and_is_symmetric():
    x = np.array([0.3, -0.7, 1.1])
    h = check_hessian({"x": x}, VECTOR_BODY)[("x", "x")]
    assert h.shape == (3, 3)
    np.testing.assert_allclose(h, h.T, rtol=0, atol=1e-12)
    # and analytically
    M = np.array([[0.5, -1.2], [0.8, 0.3], [-0.4, 1.1]])
    t = np.tanh(x @ M)
    want = np.diag(2 * np.exp(x) * np.cos(x))
    want[0, 1] += 2 * x[1]
    want[1, 0] += 2 * x[1]
    want[1, 1] += 2 * x[0]
    want += M @ np.diag(-2 * t * (1 - t**2)) @ M.T
    np.testing.assert_allclose(h, want, rtol=1e-12, atol=1e-12)


def test_hessian_cross_blocks_between_two_params():
    params = {"a": np.array([0.4, -0.9]), "b": np.array([1.2, 0.3, -0.5])}
    body = (
        "B = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]\n"
        "L = sum((a @ B) * b) + sum(sin(a)) * sum(b ** 2) + sum(exp(a[0] * b))\n"
    )
    h = check_hessian(params, body)
    assert h[("a", "b")].shape == (2, 3)
    assert h[("b", "a")].shape == (3, 2)
    assert np.any(h[("a", "b")] != 0)


def test_hessian_of_matrix_param_has_four_dimensional_block():
    params = {"W": np.array([[0.2, -0.4], [0.7, 0.1]]), "v": np.array([0.5, -1.5])}
    body = "L = sum(tanh(W @ v)) + sum(W * W * W)\n"
    h = check_hessian(params, body)
    assert h[("W", "W")].shape == (2, 2, 2, 2)
    assert h[("W", "v")].shape == (2, 2, 2)
    assert h[("v", "W")].shape == (2, 2, 2)


def test_hessian_of_linear_function_is_zero():
    h = hessian_by_name("param x = [1, 2, 3]\nparam y = 4\nL = sum(x * 3) - 2 * y", ["x", "y"])
    for block in h.values():
        assert not np.any(block)


def test_hessian_wrt_param_the_target_does_not_depend_on_is_zero():
    h = hessian_by_name("param x = [1, 2]\nparam u = [3, 4, 5]\nL = sum(x ** 2)", ["x", "u"])
    np.testing.assert_array_equal(h[("x", "x")], 2 * np.eye(2))
    assert h[("x", "u")].shape == (2, 3) and not np.any(h[("x", "u")])
    assert h[("u", "u")].shape == (3, 3) and not np.any(h[("u", "u")])


HESSIAN_OPS = [
    "sum(x * y) ** 2",
    "sum(x / (y + 3))",
    "sum(x ** y)",  # base and exponent both params
    "sum(sqrt(x) * log(x + y * y))",
    "sum(sigmoid(x) * softplus(y))",
    "sum(tan(x * 0.5)) + sum(cos(y) * abs(x))",
    "sum(softmax(x * y) * [1, -2, 0.5])",
    "sum(log_softmax(x + y) * [1, 2, 3])",
    "logsumexp(x * y)",
    "sum(logsumexp(reshape([x, y, x * y], 3, 3), axis=0) * [1, -1, 2])",
    "mean(x * y) * norm(x - y)",
    "max(x * y) + min(exp(x)) * sum(y)",
    "sum(maximum(x, y) ** 2) + sum(clip(x * y, 0.2, 0.9) ** 2)",
    "sum(relu(x - 1) ** 3)",
    "sum(transpose(reshape([x, y], 2, 3)) @ [0.5, -1] * y)",
    "sum([x[0] * y[2], x[-1] ** 2, y[1:] @ x[:2]] * x)",
    "(x @ y) * (x @ x)",
    "sum(mean(reshape(x * y, 3, 1) * [[1, 2]], axis=0) ** 2)",
    "sum(x[::-1] * y ** 3)",
]


@pytest.mark.parametrize("body", HESSIAN_OPS)
def test_hessian_through_ops(body):
    """Reverse over reverse through each op's VJP, against differences."""
    params = {"x": np.array([0.8, 1.3, 0.55]), "y": np.array([1.1, 0.35, 1.7])}
    check_hessian(params, f"L = {body}\n", rtol=1e-6, atol=1e-6)


def test_hessian_does_not_change_first_derivatives_or_graph():
    model = model_of("param x = [0.3, -0.7, 1.1]\n" + VECTOR_BODY)
    before = [None if v is None else np.copy(v) for v in model.graph.values]
    t, x = node(model, "L"), node(model, "x")
    g1 = gradients(model.graph, t, [x])
    hessian(model.graph, t, [x])
    g2 = gradients(model.graph, t, [x])
    np.testing.assert_array_equal(g1[0], g2[0])
    after = model.graph.values
    assert len(after) == len(before)
    for b, a in zip(before, after):
        assert (b is None) == (a is None)
        if b is not None:
            np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ purity


def test_run_twice_gives_identical_results():
    model = model_of("param x = [0.3, -0.7, 1.1]\n" + VECTOR_BODY)
    r1 = run(model)
    r2 = run(model)
    for name in r1.grads:
        np.testing.assert_array_equal(r1.grads[name], r2.grads[name])
        np.testing.assert_array_equal(r1.values[name], r2.values[name])


def test_backward_does_not_mutate_values():
    model = model_of(SEED)
    values = evaluate(model.graph)
    snapshot = [np.copy(v) for v in values]
    ids = [id(v) for v in values]
    t = node(model, "L")
    grads = backward(model.graph, values, t, np.ones(()))
    assert [id(v) for v in values] == ids
    for v, s in zip(values, snapshot):
        np.testing.assert_array_equal(v, s)
    # and a second sweep over the same values gives the same gradients
    again = backward(model.graph, values, t, np.ones(()))
    for g1, g2 in zip(grads, again):
        assert (g1 is None) == (g2 is None)
        if g1 is not None:
            np.testing.assert_array_equal(g1, g2)


def test_evaluate_does_not_store_computed_values_on_the_graph():
    model = model_of(SEED)
    before = list(model.graph.values)
    evaluate(model.graph)
    run(model)
    assert all(a is b for a, b in zip(model.graph.values, before))


# ------------------------------------------------------- accumulation, reuse


def test_node_used_twice_in_one_op():
    # micrograd bug #2: b = a + a must give da = 2, not 1
    g = run_text("param a = 3\nb = a + a\nL = b").grads
    assert float(g["a"]) == 2.0
    g = run_text("param a = 3\nL = a * a").grads
    assert float(g["a"]) == 6.0


def test_node_reused_many_times():
    # L = h*h + h + sum([h, h, 2h]) + h**3 with h = tanh(x)
    x = 0.4
    text = (
        f"param x = {x!r}\nh = tanh(x)\nL = h * h + h + sum([h, h, 2 * h]) + h ** 3 + h / (1 + h)"
    )
    rep = run_text(text)
    h = np.tanh(x)
    dh = 2 * h + 1 + 4 + 3 * h**2 + 1 / (1 + h) ** 2
    assert float(rep.grads["h"]) == pytest.approx(dh, rel=1e-13)
    assert float(rep.grads["x"]) == pytest.approx(dh * (1 - h**2), rel=1e-13)


def test_diamond_graph_accumulates():
    text = "param x = 2\na = x * 3\nb = x ** 2\nc = a * b\nd = a + b\nL = c + d * x"
    rep = run_text(text)
    x = 2.0
    # L = 3x*x^2 + (3x + x^2) x = 3x^3 + 3x^2 + x^3 = 4x^3 + 3x^2
    assert float(rep.grads["x"]) == pytest.approx(12 * x**2 + 6 * x, rel=1e-14)
    assert float(rep.grads["d"]) == x
    assert float(rep.grads["c"]) == 1.0
    assert float(rep.grads["a"]) == pytest.approx(x**2 + x)  # dc/da + dd/da * x
    assert float(rep.grads["b"]) == pytest.approx(3 * x + x)


def test_vector_node_reused_with_broadcasting():
    text = "param v = [1, 2, 3]\nm = [[1, 0, 2], [0, 1, 1]]\nL = sum(v * m) + sum(v) * v[0] + v @ v"
    rep = run_text(text)
    v = np.array([1.0, 2.0, 3.0])
    want = np.array([1.0, 1.0, 3.0]) + v[0] + np.array([v.sum(), 0, 0]) + 2 * v
    np.testing.assert_array_equal(rep.grads["v"], want)


# ------------------------------------------- which nodes get which gradient


def test_seed_example_gradients_of_every_node():
    rep = run_text(SEED)
    expect = {"a1": -41.0, "a2": -35.0, "b1": -7.0, "b2": -3.0, "c": -1.0, "L": 1.0}
    for name, g in expect.items():
        assert rep.grads[name].shape == ()
        assert float(rep.grads[name]) == g, name
    np.testing.assert_array_equal(rep.grads["w"], [-28.0, -21.0, -12.0, -23.0, -36.0])
    values = {"a1": 4.0, "a2": 3.0, "b1": 23.0, "b2": 36.0, "c": 269.0, "L": -254.0}
    for name, v in values.items():
        assert float(rep.values[name]) == v, name
    kinds = {b.name: b.kind for b in rep.model.bindings}
    assert kinds == {
        "a1": "input",
        "a2": "input",
        "w": "param",
        "b1": "node",
        "b2": "node",
        "c": "node",
        "L": "node",
    }


def test_seed_example_with_another_target():
    rep = run(model_of(SEED), target="b1")
    np.testing.assert_array_equal(rep.grads["w"], [4.0, 3.0, 0.0, 0.0, 0.0])
    assert float(rep.grads["a1"]) == 2.0
    assert float(rep.grads["a2"]) == 5.0
    # nodes downstream of the target do not feed it: gradient 0
    for name in ("b2", "c", "L"):
        assert float(rep.grads[name]) == 0.0


def test_unrelated_bindings_have_zero_gradient_of_their_shape():
    text = "param u = [5, 6, 7]\nparam x = 2\nz = u * 3\nm = [[1, 2], [3, 4]]\nL = x * x"
    rep = run_text(text)
    assert float(rep.grads["x"]) == 4.0
    for name, shape in (("u", (3,)), ("z", (3,)), ("m", (2, 2))):
        assert rep.grads[name].shape == shape
        assert not np.any(rep.grads[name])


def test_backward_returns_none_for_independent_nodes():
    model = model_of("param u = 1\nparam x = 2\nL = x * 5")
    grads = backward(model.graph, evaluate(model.graph), node(model, "L"), np.ones(()))
    assert grads[node(model, "u")] is None
    assert float(grads[node(model, "x")]) == 5.0
    g = gradients(model.graph, node(model, "L"), [node(model, "u"), node(model, "x")])
    assert float(g[0]) == 0.0 and float(g[1]) == 5.0


def test_alias_gets_its_own_gradient():
    rep = run_text("x = 3\ny = x\nL = x * y")
    assert float(rep.grads["y"]) == 3.0
    assert float(rep.grads["x"]) == 6.0
    assert rep.model.by_name["y"].node != rep.model.by_name["x"].node
    assert rep.model.by_name["y"].kind == "node"


def test_alias_chain_and_vector_alias():
    rep = run_text("param x = [1, 2]\ny = x\nz = y\nL = sum(x * z) + sum(y)")
    np.testing.assert_array_equal(rep.grads["z"], [1.0, 2.0])
    np.testing.assert_array_equal(rep.grads["y"], [2.0, 3.0])
    np.testing.assert_array_equal(rep.grads["x"], [3.0, 5.0])


def test_param_computed_from_other_names_is_a_leaf_without_history():
    rep = run_text("a = 2\nparam p = a * 3\nL = p * a")
    assert rep.model.by_name["p"].kind == "param"
    assert float(rep.values["p"]) == 6.0
    assert float(rep.grads["p"]) == 2.0
    # only the direct path: dL/da = p (6), not p + 3a (12)
    assert float(rep.grads["a"]) == 6.0


def test_param_from_param_does_not_pass_gradient_back():
    rep = run_text("param w = [1, 2]\nparam v = w * w\nL = sum(v * [3, 4])")
    np.testing.assert_array_equal(rep.grads["v"], [3.0, 4.0])
    np.testing.assert_array_equal(rep.grads["w"], [0.0, 0.0])


def test_intermediate_gradients_of_vector_nodes():
    rep = run_text("param x = [1, 2, 3]\nh = x * x\ns = sum(h)\nL = s * 2 + h[1]")
    assert float(rep.grads["s"]) == 2.0
    np.testing.assert_array_equal(rep.grads["h"], [2.0, 3.0, 2.0])
    np.testing.assert_array_equal(rep.grads["x"], [4.0, 12.0, 12.0])


def test_float32_gradients_stay_float32():
    model = model_of(SEED, dtype="float32")
    rep = run(model)
    for name in rep.grads:
        assert rep.grads[name].dtype == np.float32, name
        assert rep.values[name].dtype == np.float32, name
    np.testing.assert_array_equal(rep.grads["w"], [-28.0, -21.0, -12.0, -23.0, -36.0])


# ------------------------------------------------ eval lets arrays go early

RELEASING = """\
param W = randn(64, 64, seed=1) * 0.1
param b = randn(64, seed=2)
X = randn(64, 64, seed=3)
z = tanh(X @ W + b) * 2 - 1
e = exp(-z) / (1 + abs(z)) + sqrt(abs(z) + 1) + sigmoid(z) + tan(z * 0.1)
f = log(abs(e) + 1) + sin(e) * cos(e) + relu(e - 1) + softplus(-e)
g = transpose(reshape(f, 4096, 1) * 1)[0, ::128] + (b + zeros(64, 64))[1, :32]
h = [g, -g, +g]
L = mean(h[1] ** 2) + sum(sum(f, axis=0) ** 2) / 100
"""


def test_released_arrays_change_no_result():
    """eval lets intermediate arrays go once nothing needs them (Op.saves):
    every binding's value and gradient stay exactly as with all kept."""
    from autograd_cli.engine import releases

    model = model_of(RELEASING)
    keep = bytearray(len(model.graph))
    for b in model.bindings:
        keep[b.node] = 1
    released = {j for nodes in releases(model.graph, keep) if nodes for j in nodes}
    assert {model.graph.ops[j].name for j in released} >= {
        "add",
        "matmul",
        "mul",
        "abs",
        "log",
        "relu",
        "transpose",
        "index",
    }
    for dtype in ("float64", "float32"):
        lean_model = model_of(RELEASING, dtype)
        full = run(model_of(RELEASING, dtype))
        for _ in range(3):  # the plan is made once per model, then reused
            lean = run(lean_model, every_node=False)
            for name in full.values:
                assert np.array_equal(lean.values[name], full.values[name]), name
                assert np.array_equal(lean.grads[name], full.grads[name]), name
        assert bytes(keep) in lean_model.memo.plans


def test_a_released_value_keeps_its_shape_and_refuses_its_numbers():
    """What eval leaves where it let a value go answers for its shape and
    dtype (all a VJP may read of a value its op does not save) and raises on
    any read of its numbers."""
    from autograd_cli.engine import Released, ReleasedValueError

    r = Released((3, 4), np.dtype("float32"))
    assert (r.shape, r.dtype, r.ndim, r.size) == ((3, 4), np.dtype("float32"), 2, 12)
    assert np.shape(r) == (3, 4) and np.ndim(r) == 2
    g = np.ones((3, 4), dtype=np.float32)
    reads = [
        lambda: g * r,
        lambda: r * g,
        lambda: 2.0 - r,
        lambda: -r,
        lambda: g @ r,
        lambda: np.asarray(r),
        lambda: np.exp(r),
        lambda: np.sum(r),
        lambda: r[0],
        lambda: r.T,
        lambda: r.reshape(12),
        lambda: float(r),
        lambda: r > 0,
        lambda: np.broadcast_to(r, (2, 3, 4)),
        lambda: g.dot(r),
        lambda: bool(r),
    ]
    for read in reads:
        with pytest.raises(ReleasedValueError):
            read()


def test_a_wrong_saves_declaration_fails_loudly(monkeypatch):
    """If an op's `saves` leaves out a value its VJPs read (mul declared to
    read nothing), eval's lean run raises an internal error naming the op —
    it once gave gradients of exactly zero, silently."""
    from autograd_cli.engine import ReleasedValueError
    from autograd_cli.ops import OPS

    monkeypatch.setattr(OPS["mul"], "saves", ((), False))
    model = model_of(RELEASING)
    with pytest.raises(ReleasedValueError, match="'mul'"):
        run(model, every_node=False)
    full = run(model_of(RELEASING))  # nothing let go: the declaration is not used
    assert np.abs(full.grads["W"]).max() > 0


def test_a_wrong_saves_declaration_is_an_internal_error_on_the_command_line(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from autograd_cli.cli import app
    from autograd_cli.ops import OPS
    from autograd_cli.streams import EXIT_INTERNAL

    path = tmp_path / "r.expr"
    path.write_text(RELEASING)
    monkeypatch.setattr(OPS["mul"], "saves", ((), False))
    result = CliRunner().invoke(app, ["eval", str(path), "-f", "json"], env={"NO_COLOR": "1"})
    assert result.exit_code == EXIT_INTERNAL and result.stdout == ""
    assert "internal error (ReleasedValueError" in result.stderr and "'mul'" in result.stderr


# ------------------------------------- errors each sweep pins on its node

SWEEP_TEXT = "param w = 3\nx = w * 2\nL = exp(x) * w\n"


def _failing_everywhere(monkeypatch, opname, error):
    """Make every way the sweeps run op `opname` raise `error`: its numpy
    forward and VJPs and its float kernel and float VJP."""
    from autograd_cli.ops import OPS

    def fail(*args, **kwargs):
        raise error

    op = OPS[opname]
    monkeypatch.setattr(op, "forward", fail)
    monkeypatch.setattr(op, "vjps", (fail,) * len(op.vjps))
    monkeypatch.setattr(op, "scalar", (fail, fail))


@pytest.mark.parametrize("floats", [False, True])
def test_each_forward_sweep_names_the_node_that_ran_out_of_memory(monkeypatch, floats):
    from autograd_cli.engine import OutOfMemory, evaluate_floats

    model = model_of(SWEEP_TEXT)
    _failing_everywhere(monkeypatch, "exp", MemoryError("no room"))
    with pytest.raises(OutOfMemory) as info:
        (evaluate_floats if floats else evaluate)(model.graph)
    assert model.graph.ops[info.value.node].name == "exp"
    assert info.value.phase == "forward" and str(info.value.error) == "no room"


@pytest.mark.parametrize("floats", [False, True])
def test_each_backward_sweep_names_the_node_that_ran_out_of_memory(monkeypatch, floats):
    from autograd_cli.engine import OutOfMemory, backward_floats, evaluate_floats

    model = model_of(SWEEP_TEXT)
    g = model.graph
    values = evaluate_floats(g) if floats else evaluate(g)
    assert (type(values[node(model, "L")]) is float) == floats
    _failing_everywhere(monkeypatch, "exp", MemoryError("no room"))
    sweep = backward_floats if floats else backward
    with pytest.raises(OutOfMemory) as info:
        sweep(g, values, node(model, "L"), np.ones(()))
    assert g.ops[info.value.node].name == "exp"
    assert info.value.phase == "backward" and info.value.__cause__ is None


@pytest.mark.parametrize("floats", [False, True])
def test_each_backward_sweep_names_the_op_that_read_a_released_value(monkeypatch, floats):
    from autograd_cli.engine import ReleasedValueError, backward_floats, evaluate_floats

    model = model_of(SWEEP_TEXT)
    g = model.graph
    values = evaluate_floats(g) if floats else evaluate(g)
    read = ReleasedValueError("the numbers of a released value were read")
    _failing_everywhere(monkeypatch, "exp", read)
    sweep = backward_floats if floats else backward
    with pytest.raises(ReleasedValueError, match="of 'exp' read the numbers") as info:
        sweep(g, values, node(model, "L"), np.ones(()))
    assert info.value.__cause__ is read


def test_the_core_types_and_the_op_table_sit_below_the_engine():
    """Layers point one way: core.py imports nothing of the package, the
    shape rules only core.py and errors.py, the op table's kernels only
    those, ops.py only those and the kernels, and none of
    them the engine (imports inside functions included)."""
    import ast
    from pathlib import Path

    import autograd_cli

    package = Path(autograd_cli.__file__).parent

    def imported(module):
        tree = ast.parse((package / f"{module}.py").read_text())
        names = set()
        for n in ast.walk(tree):
            if isinstance(n, ast.ImportFrom) and n.level:
                names |= {n.module} if n.module else {a.name for a in n.names}
            elif isinstance(n, ast.ImportFrom) and (n.module or "").startswith("autograd_cli"):
                names.add(n.module.partition(".")[2] or "?")
            elif isinstance(n, ast.Import):
                names |= {
                    a.name.partition(".")[2] for a in n.names if a.name.startswith("autograd_cli")
                }
        return names

    assert imported("core") == set()
    assert imported("shapes") == {"core", "errors"}
    assert imported("kernels") == {"core", "shapes"}
    assert imported("jvps") == {"kernels", "shapes"}
    assert imported("ops") == {"core", "shapes", "kernels", "jvps"}
    assert imported("errors") == imported("functions") == set()
