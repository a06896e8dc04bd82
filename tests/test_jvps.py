"""Forward mode against reverse mode and finite differences, op by op.

Every op of the table that has VJPs must have a JVP (`Op.jvp`), and the two
must describe the same Jacobian: built column by column from JVPs (one-hot
tangents, a batch at once) and row by row from VJPs (one-hot gradients),
they agree to float64 rounding.  JVPs of random batches of tangents (B of
1 and 3) are checked against central differences of the forward, and their
shapes and dtypes against the convention (``(B,) + ans.shape``, ans's
dtype).  The table is iterated, so an op added later is covered: one
whose arguments tests/op_cases.py cannot make up fails until it gets a case
there.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_cases import CASES, generic_cases, random_array

from autograd_cli import shapes
from autograd_cli.core import OPS

# ---------------------------------------------------------------- Jacobians


def _vjp(op, k, g, ans, args, attrs):
    return np.asarray(op.vjps[k](g, ans, *args, **attrs), dtype=np.float64)


def jacobians(op, args, attrs):
    """Per argument, its Jacobian (out size × arg size) from JVPs (every
    column at once) and from VJPs (row by row)."""
    ans = op.forward(*args, **attrs)
    out_shape = np.shape(ans)
    m = math.prod(out_shape)
    fwd, rev = [], []
    for k, x in enumerate(args):
        n = math.prod(np.shape(x))
        seed = np.eye(n).reshape((n,) + np.shape(x))
        ts = [seed if j == k else None for j in range(len(args))]
        t = op.jvp(ts, ans, *args, **attrs)
        if t is None:  # an output without a derivative (a comparison): zero
            t = np.zeros((n,) + out_shape)
        assert t.shape == (n,) + out_shape, (op.name, k)
        fwd.append(np.asarray(t).reshape(n, m).T)
        rows = np.zeros((m, n))
        for r in range(m):
            g = np.zeros(m)
            g[r] = 1.0
            g = g.reshape(out_shape)
            g = g[()] if out_shape == () else g
            rows[r] = _vjp(op, k, g, ans, args, attrs).reshape(-1)
        rev.append(rows)
    return fwd, rev


def _case_ids():
    return [name for name, _ in CASES]


@pytest.mark.parametrize("name,found", CASES, ids=_case_ids())
def test_forward_and_reverse_give_the_same_jacobian(name, found):
    op = OPS[name]
    assert op.jvp is not None, f"'{name}' has VJPs but no JVP (defop's jvp=)"
    assert found, f"no arguments for '{name}': give it a case in tests/test_jvps.py"
    for args, attrs in found:
        fwd, rev = jacobians(op, args, attrs)
        for k, (f, r) in enumerate(zip(fwd, rev)):
            where = f"{name} argument {k}, shapes {[np.shape(a) for a in args]}, {attrs}"
            scale = max(1.0, float(np.max(np.abs(r), initial=0.0)))
            np.testing.assert_allclose(f, r, rtol=1e-12, atol=1e-13 * scale, err_msg=where)


@pytest.mark.parametrize("B", [1, 3])
@pytest.mark.parametrize("name,found", CASES, ids=_case_ids())
def test_jvp_against_central_differences(name, found, B):
    """A batch of random tangents, some arguments without one; each
    tangent against (f(x + eps·t) - f(x - eps·t)) / 2eps."""
    op = OPS[name]
    assert op.jvp is not None and found
    rng = np.random.default_rng(B)
    eps = 1e-6
    for c, (args, attrs) in enumerate(found):
        ans = op.forward(*args, **attrs)
        n = len(args)
        given = [True] * n if n == 1 or c % 2 == 0 else [k != c % n for k in range(n)]
        ts = [rng.standard_normal((B,) + np.shape(x)) if on else None for x, on in zip(args, given)]
        t = op.jvp(ts, ans, *args, **attrs)
        if t is None:  # no derivative: the output is piecewise constant
            t = np.zeros((B,) + np.shape(ans), np.asarray(ans).dtype)
        assert type(t) is np.ndarray, name
        assert t.shape == (B,) + np.shape(ans) and t.dtype == np.asarray(ans).dtype, name
        for b in range(B):

            def at(sign, b=b, args=args, ts=ts, attrs=attrs):
                moved = [x if tb is None else x + sign * eps * tb[b] for x, tb in zip(args, ts)]
                return np.asarray(op.forward(*moved, **attrs), dtype=np.float64)

            numeric = (at(1) - at(-1)) / (2 * eps)
            np.testing.assert_allclose(
                t[b], numeric, rtol=1e-6, atol=1e-7, err_msg=f"{name} {attrs} tangent {b}"
            )


@pytest.mark.parametrize("name,found", CASES, ids=_case_ids())
def test_float32_jvps_stay_float32(name, found):
    op = OPS[name]
    for args, attrs in found[:2]:
        args32 = tuple(np.float32(a) if np.ndim(a) == 0 else a.astype(np.float32) for a in args)
        ans = op.forward(*args32, **attrs)
        ts = [np.ones((2,) + np.shape(x), np.float32) for x in args32]
        t = op.jvp(ts, ans, *args32, **attrs)
        if t is None:  # no derivative
            continue
        assert t.dtype == np.asarray(ans).dtype == np.float32, name
        assert t.shape == (2,) + np.shape(ans)


def test_an_op_without_a_jvp_fails_the_agreement_test():
    """The table test has teeth: an op declared with VJPs and no JVP fails."""
    from autograd_cli.ops import defop, unbroadcast

    defop(
        "twice_no_jvp", lambda x: 2 * x, shapes.same, lambda g, ans, x: unbroadcast(2 * g, x.shape)
    )
    try:
        found = generic_cases(OPS["twice_no_jvp"], np.random.default_rng(0))
        assert found
        with pytest.raises(AssertionError, match="no JVP"):
            test_forward_and_reverse_give_the_same_jacobian("twice_no_jvp", found)
    finally:
        del OPS["twice_no_jvp"]


# ------------------------------------------------------------- conventions


def _jvp_rows(name, args, **attrs):
    """Each argument's JVP for a one-hot tangent per element (the forward
    Jacobian's columns), as VJPs' conventions are stated per element."""
    op = OPS[name]
    fwd, rev = jacobians(op, tuple(np.asarray(a, dtype=float) for a in args), attrs)
    return fwd, rev


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_ties_give_each_side_half_in_forward_mode(name):
    fwd, rev = _jvp_rows(name, ([1.0, 2.0, 3.0], [1.0, 0.0, 5.0]))
    want_x = {"maximum": [0.5, 1.0, 0.0], "minimum": [0.5, 0.0, 1.0]}[name]
    np.testing.assert_array_equal(np.diag(fwd[0]), want_x)
    np.testing.assert_array_equal(np.diag(fwd[1]), 1.0 - np.array(want_x))
    for f, r in zip(fwd, rev):
        np.testing.assert_array_equal(f, r)


@pytest.mark.parametrize("name", ["max", "min"])
def test_reduction_ties_share_the_tangent_evenly(name):
    fwd, rev = _jvp_rows(
        name, ([2.0, 2.0, -2.0, 2.0] if name == "max" else [-2.0, 1.0, -2.0, 3.0],)
    )
    want = [1 / 3, 1 / 3, 0, 1 / 3] if name == "max" else [0.5, 0, 0.5, 0]
    np.testing.assert_allclose(fwd[0].reshape(-1), want, rtol=1e-15)
    np.testing.assert_array_equal(fwd[0], rev[0])


def test_kinks_follow_pytorch_in_forward_mode():
    for name, x, want in [
        ("relu", [-1.0, 0.0, 2.0], [0.0, 0.0, 1.0]),
        ("abs", [-1.0, 0.0, 2.0], [-1.0, 0.0, 1.0]),
    ]:
        fwd, rev = _jvp_rows(name, (x,))
        np.testing.assert_array_equal(np.diag(fwd[0]), want)
        np.testing.assert_array_equal(fwd[0], rev[0])
    fwd, rev = _jvp_rows("norm", (np.zeros(3),))  # norm'(0) = 0
    np.testing.assert_array_equal(fwd[0], np.zeros((1, 3)))
    np.testing.assert_array_equal(fwd[0], rev[0])
    # clip passes x's tangent at its bounds, none to the bound
    fwd, rev = _jvp_rows("clip", ([-1.0, 0.0, 1.0, 2.0], -1.0, 1.0))
    np.testing.assert_array_equal(np.diag(fwd[0]), [1.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(fwd[2].reshape(-1), [0.0, 0.0, 0.0, 1.0])
    for f, r in zip(fwd, rev):
        np.testing.assert_array_equal(f, r)
    # x ** 0 passes nothing to x; 0 ** y (y >= 0) nothing to y
    with np.errstate(all="ignore"):  # log(0) and 0 · inf, masked by the convention
        fwd, rev = _jvp_rows("pow", ([0.0, 2.0], [1.5, 0.0]))
    np.testing.assert_array_equal(np.diag(fwd[0]), [0.0 * 1.5, 0.0])
    np.testing.assert_array_equal(np.diag(fwd[1]), [0.0, 1.0 * np.log(2.0)])
    for f, r in zip(fwd, rev):
        np.testing.assert_array_equal(f, r)


def test_matmul_of_a_vector_keeps_the_batch_apart():
    """A batch of tangents of a 1-D operand is a stack of vectors: B equal
    to the matrix's rows must not be mistaken for a matrix axis."""
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal(3), rng.standard_normal((3, 3))
    ta = rng.standard_normal((3, 3))
    t = OPS["matmul"].jvp([ta, None], a @ b, a, b)
    np.testing.assert_allclose(t, np.stack([row @ b for row in ta]), rtol=1e-15)
    tb = rng.standard_normal((3, 3, 3))
    t = OPS["matmul"].jvp([None, tb], a @ b, a, b)
    np.testing.assert_allclose(t, np.stack([a @ m for m in tb]), rtol=1e-15)
    t = OPS["matmul"].jvp([None, ta], b @ a, b, a)
    np.testing.assert_allclose(t, np.stack([b @ v for v in ta]), rtol=1e-15)


@pytest.mark.parametrize(
    "sa,sb",
    [((2, 3, 4), (4,)), ((4,), (2, 4, 5)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((4,), (4,))],
)
def test_matmul_jvp_on_stacks_of_matrices(sa, sb):
    """numpy's matmul rules for stacks: each tangent of the batch gives what
    the product of that tangent gives (matmul is bilinear)."""
    rng = np.random.default_rng(9)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    ta, tb = rng.standard_normal((3,) + sa), rng.standard_normal((3,) + sb)
    jvp = OPS["matmul"].jvp
    got = jvp([ta, tb], a @ b, a, b)
    want = np.stack([ta[k] @ b + a @ tb[k] for k in range(3)])
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


@st.composite
def broadcast_pairs(draw):
    """Two shapes numpy broadcasts together: dimensions of 1 or the common
    size, either side possibly shorter."""
    ndim = draw(st.integers(0, 3))
    common = [draw(st.integers(1, 3)) for _ in range(ndim)]
    shapes = []
    for _ in range(2):
        drop = draw(st.integers(0, ndim))
        shapes.append(tuple(1 if draw(st.booleans()) else d for d in common[drop:]))
    return shapes


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(["add", "sub", "mul", "div", "pow", "maximum", "minimum"]),
    shapes=broadcast_pairs(),
    B=st.sampled_from([1, 3]),
    seed=st.integers(0, 2**16),
)
def test_broadcasting_jvps_agree_with_vjps_on_random_shapes(name, shapes, B, seed):
    """<g, J t> from the JVP equals <Jᵀ g, t> from the VJPs, for B random
    tangents of both arguments and a random output gradient g."""
    rng = np.random.default_rng(seed)
    op = OPS[name]
    lo = 0.5 if name in ("div", "pow") else -2.0
    args = tuple(random_array(rng, s, lo, 2.0) for s in shapes)
    ans = op.forward(*args)
    ts = [rng.standard_normal((B,) + s) for s in shapes]
    t = op.jvp(ts, ans, *args)
    assert t.shape == (B,) + np.shape(ans)
    g = rng.standard_normal(np.shape(ans))
    g = g[()] if g.ndim == 0 else g
    grads = [_vjp(op, k, g, ans, args, {}) for k in range(2)]
    for b in range(B):
        forward = float(np.sum(g * t[b]))
        reverse = sum(float(np.sum(gk * tk[b])) for gk, tk in zip(grads, ts))
        scale = sum(float(np.sum(np.abs(gk * tk[b]))) for gk, tk in zip(grads, ts))
        assert abs(forward - reverse) <= 1e-12 * max(scale, 1e-300), (name, shapes, b)
