"""The forward-mode derivatives of the op table (the `jvp=` slot of ops.py).

Each takes a batch of tangents and returns the output's tangents:
``jvp(tangents, ans, *args, **attrs)``, `tangents` one entry per argument,
None for an argument without one, otherwise an array of shape ``(B,) +
shape(arg)``; the result has shape ``(B,) + shape(ans)`` and ans's dtype
(see `core.Op`).  They run on plain numpy arrays only, never traced, and
follow the conventions of the VJPs beside them in ops.py at every kink, so
that forward and reverse mode give the same numbers (tests/test_jvps.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import kernels
from .shapes import Axis, Key

# ------------------------------------------------------------------ helpers


def batch_size(tangents: Any) -> int:
    """B, the number of tangents, from the first argument that has them."""
    for t in tangents:
        if t is not None:
            return int(t.shape[0])
    raise ValueError("a JVP needs at least one tangent")


def lift(t: Any, ndim: int) -> Any:
    """Tangent `t`, of shape (B,) + s, with axes of size 1 inserted after B
    so that it broadcasts against an output of `ndim` dimensions (numpy
    aligns shapes from the right, so they cannot go in front of B)."""
    missing = ndim - (t.ndim - 1)
    if missing <= 0:
        return t
    return t.reshape((t.shape[0],) + (1,) * missing + t.shape[1:])


def with_zeros(tangents: list[Any], xs: Sequence[Any], ans: Any) -> list[np.ndarray]:
    """Each argument's tangents, and zeros of shape (B,) + its shape, in
    ans's dtype, for an argument without them: the JVPs that lay their
    arguments' tangents side by side (stack, concat) need every one."""
    B = batch_size(tangents)
    dtype = np.asarray(ans).dtype
    return [np.zeros((B,) + np.shape(x), dtype) if t is None else t for t, x in zip(tangents, xs)]


def full(t: Any, ans: Any) -> np.ndarray:
    """`t` as the tangent of `ans`: broadcast to shape (B,) + ans.shape, in
    ans's dtype."""
    shape = (t.shape[0],) + np.shape(ans)
    dtype = np.asarray(ans).dtype
    if t.shape != shape:
        t = np.broadcast_to(lift(t, len(shape) - 1), shape)
    return t if t.dtype == dtype else t.astype(dtype)


def combine(tangents: list[Any], locals_: list[Any], ans: Any) -> np.ndarray:
    """Σ_k tangent_k · local_k, each term lifted to the output's rank: the
    JVP of an elementwise op of several (broadcast) arguments whose local
    derivatives are `locals_` (arrays, or None for 1)."""
    ndim = np.ndim(ans)
    out = None
    for t, d in zip(tangents, locals_):
        if t is None:
            continue
        term = lift(t, ndim) if d is None else lift(t, ndim) * d
        out = term if out is None else out + term
    return full(out, ans)


def batch_axis(axis: Axis) -> Axis:
    """`axis` of an argument as an axis of its batch of tangents (B first):
    non-negative axes move up by one; None, every axis of the argument."""
    if axis is None:
        return None
    if isinstance(axis, tuple):
        return tuple(a + 1 if a >= 0 else a for a in axis)
    return axis + 1 if axis >= 0 else axis


def _all_but_batch(t: Any) -> tuple[int, ...]:
    return tuple(range(1, t.ndim))


def _reduce_axes(t: Any, axis: Axis) -> tuple[int, ...] | int:
    b = batch_axis(axis)
    return _all_but_batch(t) if b is None else b


def elementwise(local: Any) -> Any:
    """The JVP of a one-argument elementwise op whose local derivative is
    ``local(ans, x)``."""

    def jvp(tangents: list[Any], ans: Any, x: Any) -> Any:
        return full(tangents[0] * local(ans, x), ans)

    return jvp


# ---------------------------------------------------------------- arithmetic


def add(tangents: list[Any], ans: Any, x: Any, y: Any) -> Any:
    """tx + ty, each broadcast to the output."""
    return combine(tangents, [None, None], ans)


def sub(tangents: list[Any], ans: Any, x: Any, y: Any) -> Any:
    """tx - ty, each broadcast to the output."""
    tx, ty = tangents
    return combine([tx, None if ty is None else -ty], [None, None], ans)


def mul(tangents: list[Any], ans: Any, x: Any, y: Any) -> Any:
    """tx·y + x·ty."""
    return combine(tangents, [y, x], ans)


def div(tangents: list[Any], ans: Any, x: Any, y: Any) -> Any:
    """tx/y - ty·ans/y."""
    tx, ty = tangents
    ndim = np.ndim(ans)
    out = None if tx is None else lift(tx, ndim) / y
    if ty is not None:
        term = -(lift(ty, ndim) * ans) / y  # the order of div's VJP: -(g·ans)/y
        out = term if out is None else out + term
    return full(out, ans)


def pow(tangents: list[Any], ans: Any, x: Any, y: Any) -> Any:
    """The conventions of `_pow_dx` and `_pow_dy`: no tangent from x where
    y = 0, none from y where x = 0 and y >= 0."""
    tx, ty = tangents
    dx = dy = None
    with np.errstate(all="ignore"):
        if tx is not None:
            dx = np.where(np.asarray(y) == 0, 0.0, y * kernels.power(x, y - 1.0))
        if ty is not None:
            zero = (np.asarray(x) == 0) & (np.asarray(y) >= 0)
            dy = np.where(zero, 0.0, ans * np.log(x))
    dtype = np.asarray(ans).dtype
    return combine(
        [tx, ty],
        [None if dx is None else dx.astype(dtype), None if dy is None else dy.astype(dtype)],
        ans,
    )


def matmul(tangents: list[Any], ans: Any, a: Any, b: Any) -> Any:
    """ta @ b + a @ tb, the batch axis kept apart from the matrix axes: a
    1-D operand's tangent is a stack of vectors, not a matrix."""
    ta, tb = tangents
    nd = np.ndim(ans)
    out = None
    if ta is not None:
        B = ta.shape[0]
        if a.ndim == 1 and b.ndim == 2:
            out = ta @ b  # B vectors times a matrix: one matrix product
        elif a.ndim == 1 and b.ndim > 2:
            # (B, 1.., 1, n) @ b -> (B, ..., 1, k), then the 1 dropped
            t = ta.reshape((B,) + (1,) * (b.ndim - 2) + (1, a.shape[0]))
            out = np.squeeze(t @ b, axis=-2)
        elif a.ndim >= 2 and b.ndim >= 2:
            out = lift(ta, nd) @ b
        else:  # b 1-D: a stack of (..., n) rows times a vector
            out = ta @ b
    if tb is not None:
        B = tb.shape[0]
        if b.ndim == 1 and a.ndim == 2:
            term = tb @ a.T  # a matrix times B vectors: one matrix product
        elif b.ndim == 1 and a.ndim > 2:
            t = tb.reshape((B,) + (1,) * (a.ndim - 2) + (b.shape[0], 1))
            term = np.squeeze(a @ t, axis=-1)
        elif b.ndim == 1:  # both 1-D: a dot product per tangent
            term = tb @ a
        elif a.ndim == 1:
            term = a @ tb  # numpy makes a a (1, n) matrix for each of the stack
        else:
            term = a @ lift(tb, nd)
        out = term if out is None else out + term
    return full(out, ans)


def _share(x: Any, y: Any, wins: Any) -> Any:
    x, y = np.asarray(x), np.asarray(y)
    return kernels.share(x, y, wins).astype(np.result_type(x.dtype, y.dtype))


def maximum(tangents: list[Any], ans: Any, x: Any, y: Any) -> Any:
    """Half of each side's tangent on ties, as maximum's VJPs share."""
    return combine(tangents, [_share(x, y, np.greater), _share(y, x, np.greater)], ans)


def minimum(tangents: list[Any], ans: Any, x: Any, y: Any) -> Any:
    return combine(tangents, [_share(x, y, np.less), _share(y, x, np.less)], ans)


def clip(tangents: list[Any], ans: Any, x: Any, lo: Any, hi: Any) -> Any:
    """x's tangent inside the bounds, bounds included; a bound's beyond it."""
    x, lo, hi = np.asarray(x), np.asarray(lo), np.asarray(hi)
    dtype = np.asarray(ans).dtype
    masks = [(x >= lo) & (x <= hi), x < lo, x > hi]
    return combine(tangents, [m.astype(dtype) for m in masks], ans)


def where(tangents: list[Any], ans: Any, a: Any, b: Any, cond: Any) -> Any:
    """The tangent of the branch taken (none from the other)."""
    ta, tb = tangents
    nd = np.ndim(ans)
    zero = np.zeros((1,) + (1,) * nd, np.asarray(ans).dtype)  # keeps the batch axis
    out = np.where(cond, zero if ta is None else lift(ta, nd), zero if tb is None else lift(tb, nd))
    return full(out, ans)


# -------------------------------------------------------- elementwise, one x

neg = elementwise(lambda ans, x: -1.0)
pos = elementwise(lambda ans, x: 1.0)
exp = elementwise(lambda ans, x: ans)
log = elementwise(lambda ans, x: 1.0 / x)
log1p = elementwise(lambda ans, x: 1.0 / (1.0 + x))
sqrt = elementwise(lambda ans, x: 1.0 / (2.0 * ans))
abs = elementwise(lambda ans, x: np.sign(x))  # abs'(0) = 0
sin = elementwise(lambda ans, x: np.cos(x))
cos = elementwise(lambda ans, x: -np.sin(x))
tan = elementwise(lambda ans, x: 1.0 + ans * ans)
tanh = elementwise(lambda ans, x: 1.0 - ans * ans)
sigmoid = elementwise(lambda ans, x: ans * (1.0 - ans))
relu = elementwise(lambda ans, x: (np.asarray(x) > 0).astype(np.asarray(ans).dtype))
softplus = elementwise(lambda ans, x: kernels.sigmoid(x))


# ---------------------------------------------------------------- reductions


def sum(tangents: list[Any], ans: Any, x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """The tangents summed over the same axes (each moved past B)."""
    t = tangents[0]
    return full(np.sum(t, axis=_reduce_axes(t, axis), keepdims=keepdims), ans)


def mean(tangents: list[Any], ans: Any, x: Any, axis: Axis = None) -> Any:
    """The tangents averaged over the same axes."""
    t = tangents[0]
    return full(np.mean(t, axis=_reduce_axes(t, axis)), ans)


def extreme(tangents: list[Any], ans: Any, x: Any, axis: Axis = None) -> Any:
    """max and min: the tangents of the elements that reach the extreme,
    averaged over ties, as the VJP shares the gradient evenly."""
    t = tangents[0]
    x = np.asarray(x)
    hit = x == (np.expand_dims(ans, axis) if axis is not None else ans)
    share = (hit / np.sum(hit, axis=axis, keepdims=True)).astype(x.dtype)
    return full(np.sum(t * share, axis=_reduce_axes(t, axis)), ans)


def logsumexp(tangents: list[Any], ans: Any, x: Any, axis: Axis = None) -> Any:
    """<t, softmax(x)> along the reduced axes."""
    t = tangents[0]
    a = np.asarray(ans)
    weights = np.exp(x - (np.expand_dims(a, axis) if axis is not None else a))
    return full(np.sum(t * weights, axis=_reduce_axes(t, axis)), ans)


def norm(tangents: list[Any], ans: Any, x: Any) -> Any:
    """<t, x> / norm(x), and 0 at x = 0 (the VJP's convention)."""
    t = tangents[0]
    a = np.asarray(ans)
    unit = x / (a + (a == 0))
    return full(np.sum(t * unit, axis=_all_but_batch(t)), ans)


def softmax(tangents: list[Any], ans: Any, x: Any, axis: int = -1) -> Any:
    """s·(t - <t, s>) along the axis (the Jacobian is symmetric)."""
    t = tangents[0]
    return full(ans * (t - np.sum(t * ans, axis=batch_axis(axis), keepdims=True)), ans)


def log_softmax(tangents: list[Any], ans: Any, x: Any, axis: int = -1) -> Any:
    """t - <t, softmax(x)> along the axis (the transpose of the VJP's form)."""
    t = tangents[0]
    return full(t - np.sum(t * np.exp(ans), axis=batch_axis(axis), keepdims=True), ans)


# ------------------------------------------------------------- moving shapes


def transpose(tangents: list[Any], ans: Any, x: Any) -> Any:
    """Every axis but B reversed."""
    t = tangents[0]
    return full(np.transpose(t, (0,) + tuple(range(t.ndim - 1, 0, -1))), ans)


def reshape(tangents: list[Any], ans: Any, x: Any, shape: Any) -> Any:
    """Each tangent reshaped as the output."""
    t = tangents[0]
    return full(t.reshape((t.shape[0],) + np.shape(ans)), ans)


def broadcast_to(tangents: list[Any], ans: Any, x: Any, shape: Any) -> Any:
    """Each tangent broadcast as the output."""
    return full(tangents[0], ans)


def index(tangents: list[Any], ans: Any, x: Any, key: Key) -> Any:
    """Each tangent indexed with the same key."""
    return full(tangents[0][(slice(None),) + tuple(key)], ans)


def unindex(tangents: list[Any], ans: Any, x: Any, shape: Any, key: Key) -> Any:
    """Each tangent put at the key in zeros of the output's shape."""
    t = tangents[0]
    out = np.zeros((t.shape[0],) + np.shape(ans), dtype=np.asarray(ans).dtype)
    out[(slice(None),) + tuple(key)] = t
    return out


def stack(tangents: list[Any], ans: Any, *xs: Any) -> Any:
    """Each argument's tangent in its row; zeros for one without."""
    return full(np.stack(with_zeros(list(tangents), xs, ans), axis=1), ans)
