"""Forward mode in the engine and the commands: the `tangents` pass,
Jacobians by forward mode against reverse mode and finite differences,
Hessians by forward over reverse against reverse over reverse and finite
differences, batches bounded by --max-elements, and `jacobian --mode`."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from autograd_cli import derivatives, engine
from autograd_cli.compiling import load
from autograd_cli.errors import Source

from clitools import invoke, strict_json, write
from common import ROOT
from programs import smooth_programs


def model_of(text: str, dtype: str = "float64"):
    return load(Source("t.expr", text), dtype=dtype)


def nodes(model, *names):
    return [model.by_name[n].node for n in names]


def numeric_jacobian(model, target, leaf, eps=1e-6):
    """Central differences of node `target` for each element of `leaf`."""
    base = engine.evaluate(model.graph)
    x = np.asarray(base[leaf], dtype=np.float64)
    out_shape = np.shape(base[target])
    cols = []
    for j in range(x.size):
        up, down = x.copy().reshape(-1), x.copy().reshape(-1)
        up[j] += eps
        down[j] -= eps
        fu = engine.evaluate(model.graph, {leaf: up.reshape(x.shape)})[target]
        fd = engine.evaluate(model.graph, {leaf: down.reshape(x.shape)})[target]
        cols.append((np.asarray(fu) - np.asarray(fd)) / (2 * eps))
    return np.stack(cols, axis=-1).reshape(out_shape + x.shape)


JACOBIAN_PROGRAMS = [
    "param p = [1, 0.5, 0.1]\nx = linspace(0, 1, 40)\nr = p[0] * exp(-p[1] * x) + p[2] - x\n",
    "param W = [[0.5, -1, 2], [0.3, 0.2, -0.7]]\nparam b = [0.1, -0.2]\n"
    "x = [[1, 2, 3], [-1, 0.5, 2], [0, 1, -1], [2, 2, 1]]\n"
    "h = tanh(x @ transpose(W) + b)\nr = softmax(h * [[1, 2]], axis=1)\n",
    "param a = 0.7\nparam v = [1.5, -0.5]\nr = [v * a, maximum(v, a), clip(v * 3, -1, a)] ** 2\n",
    "param M = [[1, 2], [3, 4]]\nr = log_softmax(M @ M, axis=0) + norm(M) + M[1:, ::-1]\n",
]


@pytest.mark.parametrize("text", JACOBIAN_PROGRAMS)
@pytest.mark.parametrize("batch", [None, 1, 2, 5])
def test_forward_jacobian_agrees_with_reverse_and_differences(text, batch):
    model = model_of(text)
    leaves = [b.name for b in model.bindings if b.kind == "param"]
    wrt = nodes(model, *leaves)
    target = nodes(model, "r")[0]
    fwd = derivatives.jacobian(model.graph, target, wrt, batch=batch)
    rev = derivatives.jacobian_reverse(model.graph, target, wrt)
    for name, leaf, f, r in zip(leaves, wrt, fwd, rev):
        assert f.shape == r.shape
        np.testing.assert_allclose(f, r, rtol=1e-12, atol=1e-14, err_msg=name)
        numeric = numeric_jacobian(model, target, leaf)
        np.testing.assert_allclose(f, numeric, rtol=1e-6, atol=1e-8, err_msg=name)


@settings(max_examples=40, deadline=None)
@given(smooth_programs())
def test_forward_and_reverse_jacobians_agree_on_random_programs(prog):
    model = model_of(prog.text())
    names = [n for n, _, _ in prog.leaves]
    wrt = nodes(model, *names)
    for out in [b.name for b in model.bindings if b.name.startswith("n")] + ["L"]:
        target = nodes(model, out)[0]
        fwd = derivatives.jacobian(model.graph, target, wrt, batch=2)
        rev = derivatives.jacobian_reverse(model.graph, target, wrt)
        for f, r in zip(fwd, rev):
            np.testing.assert_allclose(f, r, rtol=1e-11, atol=1e-12)


def test_tangents_lets_intermediate_tangents_go_but_keeps_what_is_asked():
    model = model_of("param x = [1, 2, 3]\na = x * 2\nb = exp(a)\nc = sum(b)\nd = c * 3\n")
    x, a, b, c, d = nodes(model, "x", "a", "b", "c", "d")
    values = engine.evaluate(model.graph)
    seeds = {x: np.eye(3)}
    every = derivatives.tangents(model.graph, values, seeds)
    assert all(every[i] is not None for i in (x, a, b, c, d))
    kept = derivatives.tangents(model.graph, values, seeds, [c])
    assert kept[a] is None and kept[b] is None  # let go after their last consumer
    assert kept[d] is None  # the pass stops at the last node kept
    np.testing.assert_array_equal(kept[c], every[c])
    np.testing.assert_allclose(every[c], 2 * np.exp(2 * np.array([1.0, 2, 3])), rtol=1e-15)


def test_a_node_without_tangent_flow_gets_none():
    model = model_of("param x = 2\ny = [1, 2]\nu = y * 3\nv = u * x\n")
    x, u, v = nodes(model, "x", "u", "v")
    values = engine.evaluate(model.graph)
    t = derivatives.tangents(model.graph, values, {x: np.ones((1,))})
    assert t[u] is None
    np.testing.assert_array_equal(t[v], [[3.0, 6.0]])


# ------------------------------------------------------------------ hessian

HESSIAN_BODIES = [
    "sum(x * y) ** 2",
    "sum(x ** y) + sum(sqrt(x) * log(x + y * y))",
    "sum(sigmoid(x) * softplus(y)) + sum(tan(x * 0.5)) + sum(cos(y) * abs(x))",
    "sum(softmax(x * y) * [1, -2, 0.5]) + sum(log_softmax(x + y) * [1, 2, 3])",
    "sum(logsumexp(reshape([x, y, x * y], 3, 3), axis=0) * [1, -1, 2])",
    "mean(x * y) * norm(x - y) + max(x * y) + min(exp(x)) * sum(y)",
    "sum(maximum(x, y) ** 2) + sum(clip(x * y, 0.2, 0.9) ** 2)",
    "sum(transpose(reshape([x, y], 2, 3)) @ [0.5, -1] * y) + (x @ y) * (x @ x)",
    "sum([x[0] * y[2], x[-1] ** 2, y[1:] @ x[:2]] * x) + sum(x[::-1] * y ** 3)",
]


@pytest.mark.parametrize("body", HESSIAN_BODIES)
@pytest.mark.parametrize("batch", [None, 1, 4])
def test_forward_over_reverse_agrees_with_reverse_over_reverse(body, batch):
    model = model_of(f"param x = [0.8, 1.3, 0.55]\nparam y = [1.1, 0.35, 1.7]\nL = {body}\n")
    t, x, y = nodes(model, "L", "x", "y")
    new = derivatives.hessian(model.graph, t, [x, y], batch=batch)
    old = derivatives.hessian_reverse(model.graph, t, [x, y])
    assert set(new) == set(old)
    for key in old:
        np.testing.assert_allclose(new[key], old[key], rtol=1e-12, atol=1e-13, err_msg=key)
    # and against differences of the gradient
    for leaf in (x, y):
        base = engine.evaluate(model.graph)
        eps = 1e-6
        for j in range(3):
            up, down = base[leaf].copy(), base[leaf].copy()
            up[j] += eps
            down[j] -= eps
            gu = derivatives.gradients(
                model.graph, t, [x, y], engine.evaluate(model.graph, {leaf: up})
            )
            gd = derivatives.gradients(
                model.graph, t, [x, y], engine.evaluate(model.graph, {leaf: down})
            )
            for a, gau, gad in zip((x, y), gu, gd):
                np.testing.assert_allclose(
                    new[(a, leaf)][:, j], (gau - gad) / (2 * eps), rtol=1e-5, atol=1e-6
                )


def test_hessian_batch_follows_max_elements(monkeypatch):
    """With max_elements, every tangent of the pass stays within it: the
    batch is the limit over the largest traced node."""
    model = model_of(
        "param w = [0.1, 0.2, 0.3, 0.4]\nL = sum(tanh(reshape(w, 4, 1) * [[1, 2, 3, 4, 5]]) ** 2)\n"
    )
    t, w = nodes(model, "L", "w")
    seen = []
    real = derivatives.tangents

    def spy(graph, values, seeds, keep=()):
        out = real(graph, values, seeds, keep)
        seen.append(max(np.size(v) for v in out if v is not None))
        return out

    monkeypatch.setattr(derivatives, "tangents", spy)
    h = derivatives.hessian(model.graph, t, [w], max_elements=40)
    assert len(seen) == 2 and max(seen) <= 40  # 20-element nodes: 2 columns a pass
    np.testing.assert_allclose(h[(w, w)], derivatives.hessian_reverse(model.graph, t, [w])[(w, w)])


# ------------------------------------------------------------- the command


def test_jacobian_mode_auto_picks_forward_for_few_inputs(tmp_path):
    path = write(tmp_path, JACOBIAN_PROGRAMS[0])
    docs = {}
    for mode in ("auto", "forward", "reverse"):
        result = invoke(["jacobian", path, "--wrt", "p", "--mode", mode, "-f", "json"])
        assert result.exit_code == 0, result.output
        docs[mode] = strict_json(result.stdout)
    assert docs["auto"]["mode"] == "forward" and docs["reverse"]["mode"] == "reverse"
    assert docs["forward"]["mode"] == "forward"
    f, r = (np.array(docs[m]["jacobian"]["p"]) for m in ("auto", "reverse"))
    assert f.shape == (40, 3)
    np.testing.assert_allclose(f, r, rtol=1e-12, atol=1e-15)


def test_jacobian_mode_auto_picks_reverse_for_a_scalar_target():
    doc = strict_json(invoke(["jacobian", ROOT / "examples/seed.expr", "-f", "json"]).stdout)
    assert doc["mode"] == "reverse"
    forced = invoke(["jacobian", ROOT / "examples/seed.expr", "--mode", "forward", "-f", "json"])
    assert strict_json(forced.stdout)["jacobian"] == doc["jacobian"]


@pytest.mark.parametrize(
    "command, text, field, shape",
    [
        (["hessian"], "param x = zeros(0)\ny = prod(x)\n", "hessian", (0, 0)),
        (["hessian"], "param x = zeros(0, 3)\ny = sum(prod(x, axis=0))\n", "hessian", (0, 3, 0, 3)),
        (["jacobian", "--mode", "forward"], "param x = zeros(0)\ny = x * 2\n", "jacobian", (0, 0)),
        (["jacobian", "--mode", "reverse"], "param x = zeros(0)\ny = x * 2\n", "jacobian", (0, 0)),
    ],
)
def test_derivatives_of_empty_arrays_are_empty_blocks(tmp_path, command, text, field, shape):
    """Forward mode sizes its batches by the largest tangent on the path; a
    path of empty arrays has none, which must not divide by zero."""
    result = invoke([*command, write(tmp_path, text), "-f", "json"])
    assert result.exit_code == 0, result.output
    block = strict_json(result.stdout)[field]["x"]
    block = block["x"] if field == "hessian" else block
    assert np.array(block).size == 0
    assert np.zeros(shape).tolist() == block


def test_jacobian_table_says_how_it_was_made(tmp_path):
    path = write(tmp_path, JACOBIAN_PROGRAMS[0])
    out = invoke(["jacobian", path, "--wrt", "p"]).stdout
    assert "forward mode" in out
    out = invoke(["jacobian", path, "--wrt", "p", "--mode", "reverse"]).stdout
    assert "reverse sweep" in out


def test_jacobian_forward_batches_within_max_elements(tmp_path, monkeypatch):
    """Ten inputs, 50 outputs, an intermediate of 500 elements: under a
    limit of 1,000 a tangent holds at most two columns there, so the ten
    columns go five batches of two, each tangent within the limit; the
    result is the same as in one batch."""
    path = write(
        tmp_path,
        "param p = linspace(0.1, 1, 10)\nx = linspace(0, 1, 50)\n"
        "M = reshape(x, 50, 1) * p ** 2\nr = sum(M, axis=1) + p[3] * x\n",
    )
    seen = []
    real = derivatives.tangents

    def spy(graph, values, seeds, keep=()):
        out = real(graph, values, seeds, keep)
        seen.append(max(np.size(v) for v in out if v is not None))
        return out

    monkeypatch.setattr(derivatives, "tangents", spy)
    small = invoke(["jacobian", path, "--max-elements", "1000", "-f", "json"])
    assert small.exit_code == 0, small.output
    assert len(seen) == 5 and max(seen) <= 1000
    big = invoke(["jacobian", path, "-f", "json"])
    assert strict_json(small.stdout)["mode"] == "forward"
    assert strict_json(small.stdout)["jacobian"] == strict_json(big.stdout)["jacobian"]


def test_a_bad_mode_is_a_usage_error(tmp_path):
    path = write(tmp_path, JACOBIAN_PROGRAMS[0])
    result = invoke(["jacobian", path, "--mode", "sideways"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "sideways" in result.stderr


# --------------------------------------------------------------- check


def test_check_along_directions_compares_forward_mode_too(tmp_path, monkeypatch):
    """With reverse mode right and exp's JVP off by 1%, the directions fail
    (the elements, compared by reverse mode, pass); with it right, all pass."""
    from autograd_cli.core import OPS

    path = write(tmp_path, "param x = linspace(-1, 1, 2000)\nL = sum(exp(x))\n")
    assert strict_json(invoke(["check", path, "-f", "json"]).stdout)["ok"] is True
    jvp = OPS["exp"].jvp
    monkeypatch.setattr(OPS["exp"], "jvp", lambda ts, ans, x: jvp(ts, ans, x) * 1.01)
    result = invoke(["check", path, "-f", "json"])
    assert result.exit_code == 1
    row = strict_json(result.stdout)["check"]["x"]
    assert row["directional"]["ok"] is False and row["ok"] is False


@pytest.mark.parametrize("command", ["jacobian", "hessian"])
def test_running_out_of_memory_is_an_error_not_a_traceback(tmp_path, monkeypatch, command):
    from autograd_cli.core import OPS

    def no_memory(*args, **attrs):
        raise MemoryError("no room")

    monkeypatch.setattr(OPS["tanh"], "jvp", no_memory)
    path = write(
        tmp_path,
        "param p = [0.5, 0.1]\nx = linspace(0, 1, 5)\nr = tanh(p[0] * x + p[1])\nL = sum(r ** 2)\n",
    )
    args = ["--of", "r", "--mode", "forward"] if command == "jacobian" else []
    result = invoke([command, path, *args])
    assert result.exit_code == 1 and result.stdout == "", result.stderr
    assert "out of memory" in result.stderr and "Traceback" not in result.stderr
    if command == "jacobian":  # located at the binding whose array did not fit
        assert result.stderr.startswith(f"{path}:3:")
