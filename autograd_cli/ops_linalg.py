"""The op table's products, variances, running sums, joins and linear algebra.

Declared as ops.py declares its ops (`defop`: forward, shape rule, one VJP
per argument written with the table's own ops, so a Hessian can trace them,
and a JVP on a batch of tangents); importing this module registers them.

Conventions follow PyTorch: `prod`'s gradient is the product of the other
elements, exact where some are zero; `var` and `std` take Bessel's
correction (1) unless told; `std`'s gradient at 0 is 0; `det`'s gradient is
the cofactor matrix, exact at singular matrices too.  `inv` and `solve` of a
singular matrix give nan (numpy and PyTorch raise), which the run reports as
a non-finite value; their gradients there, and `det`'s second derivative at
a singular matrix, are nan.

Three ops here are internal, made only by VJPs: ``matrix_transpose`` (the
last two axes swapped), ``others`` (along an axis, the product of the other
elements) and ``cofactor`` (det's gradient).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .core import OPS, VJP, raw
from .jvps import with_zeros
from .ops import (
    add,
    broadcast_to,
    defop,
    div,
    expand,
    index,
    mask,
    matmul,
    mul,
    neg,
    reshape,
    sub,
    sum,
    unbroadcast,
    where,
)
from .shapes import (
    Axis,
    concat_shape,
    cumsum_shape,
    det_shape,
    diag_shape,
    inv_shape,
    outer_shape,
    reduced,
    reduced_size,
    solve_shape,
    stack_axis_shape,
    swap_shape,
    trace_shape,
    var_shape,
)

# ------------------------------------------------------------ helpers


def _batched_axis(axis: Axis, ndim: int) -> Any:
    """A reduction's `axis` on an argument of `ndim` dimensions, moved past
    the tangents' leading axis (None: every axis but that one)."""
    if axis is None:
        return tuple(range(1, ndim + 1))
    return axis % ndim + 1


def _swap_np(x: np.ndarray) -> np.ndarray:
    return np.swapaxes(x, -1, -2)


def _each_matrix(f: Callable[..., Any], *arrays: np.ndarray) -> np.ndarray:
    """`f` on stacks of matrices, with nan for a singular one: numpy raises
    for the whole stack, so on failure the matrices go one by one."""
    try:
        return np.asarray(f(*arrays))
    except np.linalg.LinAlgError:
        pass
    shape = np.broadcast_shapes(*[a.shape[:-2] for a in arrays])
    parts = [np.broadcast_to(a, shape + a.shape[-2:]) for a in arrays]
    out = None
    for i in np.ndindex(*shape):
        try:
            r = np.asarray(f(*[p[i] for p in parts]))
        except np.linalg.LinAlgError:
            r = None
        if out is None:
            like = np.asarray(f(*[np.eye(p.shape[-2], p.shape[-1]) for p in parts]))
            out = np.empty(shape + like.shape, dtype=np.result_type(*arrays))
        out[i] = np.nan if r is None else r
    assert out is not None
    return out


def _singular(ans: Any, *args: Any, **_: Any) -> Any:
    """Whether a matrix of the stack in `args[0]` is singular (its rank
    is short)."""
    a = np.asarray(args[0], dtype=np.float64)
    # the rank's SVD raises on nan or inf; such a matrix is no kink (its
    # non-finite numbers fail the check on their own)
    a = a[np.isfinite(a).all(axis=(-2, -1))]
    return bool(np.any(np.linalg.matrix_rank(a) < a.shape[-1]))


# ---------------------------------------------------------- matrix_transpose

defop(
    "matrix_transpose",
    _swap_np,
    swap_shape,
    lambda g, ans, x: swap(g),
    local=("transpose of the last two axes",),
    jvp=lambda tangents, ans, x: _swap_np(tangents[0]),
)
swap: Callable[..., Any] = OPS["matrix_transpose"].apply


# -------------------------------------------------------------------- prod


def _others_np(x: np.ndarray, axis: int) -> np.ndarray:
    """Along `axis`, each element's product of the others, without dividing
    (exact where elements are zero): the running products from the left and
    from the right, each stopping short of the element."""
    n = x.shape[axis]
    out = np.ones_like(x)
    if n < 2:
        return out
    before = [slice(None)] * x.ndim
    after = [slice(None)] * x.ndim
    before[axis], after[axis] = slice(1, None), slice(None, -1)
    left = np.cumprod(x[tuple(after)], axis=axis)
    flipped = [slice(None)] * x.ndim
    flipped[axis] = slice(None, None, -1)
    right = np.cumprod(x[tuple(before)][tuple(flipped)], axis=axis)[tuple(flipped)]
    out[tuple(before)] *= left
    out[tuple(after)] *= right
    return out


def _others_vjp(g: Any, ans: Any, x: Any, axis: int) -> Any:
    """The gradient of `others` (prod's second derivative), exact with zeros:
    ∂others_i/∂x_j is the product of all elements but i and j, so for each i
    the elements are laid out along a new axis with x_i replaced by 1, and
    `others` of that row gives it for every j."""
    s = tuple(x.shape)
    n = s[axis]
    dtype = raw(x).dtype
    rows = s[:axis] + (n,) + s[axis:]  # [..., i, j, ...]: i at axis, j after it
    eye = np.eye(n, dtype=bool).reshape((n, n) + (1,) * (len(s) - axis - 1))
    diagonal = np.broadcast_to(eye, rows)
    spread = broadcast_to(reshape(x, shape=s[:axis] + (1,) + s[axis:]), shape=rows)
    pairs = others(where(np.ones((), dtype), spread, cond=diagonal), axis=axis + 1)
    gi = reshape(g, shape=s[: axis + 1] + (1,) + s[axis + 1 :])
    return sum(where(np.zeros((), dtype), mul(gi, pairs), cond=diagonal), axis=axis)


defop(
    "others",
    _others_np,
    lambda s, axis: s,
    _others_vjp,
    local=("product of all elements but two",),
    # its Jacobian is symmetric: the JVP is the VJP, on a batch of tangents
    jvp=lambda tangents, ans, x, axis: _others_vjp(
        tangents[0], ans, np.broadcast_to(x, tangents[0].shape), axis + 1
    ),
)
others: Callable[..., Any] = OPS["others"].apply


def _prod_others(x: Any, axis: Axis) -> Any:
    """Each element's product of the others in its reduction, traced."""
    if axis is None:
        return reshape(others(reshape(x, shape=(-1,)), axis=0), shape=x.shape)
    return others(x, axis=axis % x.ndim)


def _prod_others_np(x: np.ndarray, axis: Axis) -> np.ndarray:
    if axis is None:
        return _others_np(np.reshape(x, -1), 0).reshape(np.shape(x))
    return _others_np(x, axis % x.ndim)


defop(
    "prod",
    lambda x, axis=None: np.prod(x, axis=axis),
    reduced,
    lambda g, ans, x, axis=None: mul(expand(g, x.shape, axis), _prod_others(x, axis)),
    local=("product of the others",),
    jvp=lambda tangents, ans, x, axis=None: np.sum(
        tangents[0] * _prod_others_np(np.asarray(x), axis), axis=_batched_axis(axis, np.ndim(x))
    ),
)


# ------------------------------------------------------------ var and std


def _dof(x: Any, axis: Axis, correction: float) -> float:
    """The degrees of freedom: the elements reduced, less the correction."""
    return reduced_size(np.shape(x), axis) - correction


def _centred(x: Any, axis: Axis) -> Any:
    """x less its mean over `axis`, traced."""
    n = float(reduced_size(x.shape, axis))
    return sub(x, expand(div(sum(x, axis=axis), n), x.shape, axis))


def _centred_np(x: np.ndarray, axis: Axis) -> np.ndarray:
    return x - np.mean(x, axis=axis, keepdims=True)


def _var(x: np.ndarray, axis: Axis = None, correction: float = 1) -> Any:
    return np.var(x, axis=axis, ddof=correction)


def _std(x: np.ndarray, axis: Axis = None, correction: float = 1) -> Any:
    return np.sqrt(_var(x, axis, correction))


def _std_vjp(g: Any, ans: Any, x: Any, axis: Axis = None, correction: float = 1) -> Any:
    """g·(x - mean)/(dof·std), and 0 where std is 0 (as PyTorch)."""
    zero = mask(raw(ans) == 0, ans)
    scale = div(mask(raw(ans) != 0, ans), mul(add(ans, zero), _dof(x, axis, correction)))
    return mul(_centred(x, axis), expand(mul(g, scale), x.shape, axis))


def _std_jvp(tangents: Any, ans: Any, x: Any, axis: Axis = None, correction: float = 1) -> Any:
    ans = np.asarray(ans)
    dot = np.sum(tangents[0] * _centred_np(x, axis), axis=_batched_axis(axis, np.ndim(x)))
    with np.errstate(all="ignore"):
        scale = np.where(ans != 0, 1 / (ans * _dof(x, axis, correction)), 0).astype(ans.dtype)
    return dot * scale


defop(
    "var",
    _var,
    var_shape,
    lambda g, ans, x, axis=None, correction=1: mul(
        _centred(x, axis), expand(mul(g, 2.0 / _dof(x, axis, correction)), x.shape, axis)
    ),
    local=("2·(x - mean(x))/(n - correction)",),
    jvp=lambda tangents, ans, x, axis=None, correction=1: (
        np.sum(tangents[0] * _centred_np(x, axis), axis=_batched_axis(axis, np.ndim(x)))
        * (2.0 / _dof(x, axis, correction))
    ),
)
defop(
    "std",
    _std,
    var_shape,
    _std_vjp,
    local=("(x - mean(x))/((n - correction)·std(x))",),
    kinks=("std at 0", lambda ans, x, axis=None, correction=1: np.any(ans == 0)),
    jvp=_std_jvp,
)


# ------------------------------------------------------------------ cumsum


def _flip(x: Any, axis: int) -> Any:
    return index(x, key=(slice(None),) * axis + (slice(None, None, -1),))


def _cumsum_vjp(g: Any, ans: Any, x: Any, axis: int | None = None) -> Any:
    """The running sum from the other end: each element reaches every later
    position."""
    ax = 0 if axis is None else axis % x.ndim
    back = _flip(cumsum(_flip(g, ax), axis=ax), ax)
    return back if axis is not None else reshape(back, shape=x.shape)


def _cumsum_jvp(tangents: Any, ans: Any, x: Any, axis: int | None = None) -> Any:
    t = tangents[0]
    if axis is None:
        return np.cumsum(np.reshape(t, (t.shape[0], -1)), axis=1)
    return np.cumsum(t, axis=axis % np.ndim(x) + 1)


defop(
    "cumsum",
    lambda x, axis=None: np.cumsum(x, axis=axis),
    cumsum_shape,
    _cumsum_vjp,
    local=("[j ≤ i]",),
    jvp=_cumsum_jvp,
)
cumsum: Callable[..., Any] = OPS["cumsum"].apply


# ------------------------------------------------------------------- joins


class _ConcatVJPs:
    """concat's VJPs: argument k gets its own stretch of the gradient."""

    def __getitem__(self, k: int) -> VJP:
        def vjp(g: Any, ans: Any, *xs: Any, axis: int = 0) -> Any:
            ax = axis % len(xs[0].shape)
            start = 0
            for x in xs[:k]:
                start += x.shape[ax]
            piece = slice(start, start + xs[k].shape[ax])
            return index(g, key=(slice(None),) * ax + (piece,))

        return vjp

    def __bool__(self) -> bool:
        return True


class _StackVJPs:
    """stack's VJPs: argument k gets its slice of the gradient at the new axis."""

    def __getitem__(self, k: int) -> VJP:
        def vjp(g: Any, ans: Any, *xs: Any, axis: int = 0) -> Any:
            return index(g, key=(slice(None),) * (axis % g.ndim) + (k,))

        return vjp

    def __bool__(self) -> bool:
        return True


def _concat_jvp(tangents: Any, ans: Any, *xs: Any, axis: int = 0) -> Any:
    ts = with_zeros(list(tangents), xs, ans)
    return np.concatenate(ts, axis=axis % np.ndim(xs[0]) + 1)


def _stack_jvp(tangents: Any, ans: Any, *xs: Any, axis: int = 0) -> Any:
    ts = with_zeros(list(tangents), xs, ans)
    return np.stack(ts, axis=axis % (np.ndim(xs[0]) + 1) + 1)


defop(
    "concat",
    lambda *xs, axis=0: np.concatenate(xs, axis=axis),
    concat_shape,
    args=("a", "b"),
    local=("1 at its own stretch",),
    jvp=_concat_jvp,
)
OPS["concat"].vjps = _ConcatVJPs()  # any number of arguments
defop(
    "stack_axis",
    lambda *xs, axis=0: np.stack(xs, axis=axis),
    stack_axis_shape,
    args=("a", "b"),
    local=("1 at its own slice",),
    jvp=_stack_jvp,
)
OPS["stack_axis"].vjps = _StackVJPs()


# ------------------------------------------------------ diag, trace, outer


def _diag(x: np.ndarray) -> np.ndarray:
    return np.diag(x).copy()  # a matrix's diagonal is a read-only view in numpy


def _undiag(g: Any, ans: Any, x: Any) -> Any:
    """A vector's gradient from its matrix: the diagonal; a matrix's from its
    diagonal: that diagonal, zeros elsewhere (of the matrix's shape)."""
    if x.ndim == 1:
        return diag(g)
    m, n = x.shape
    column = reshape(g, shape=(-1, 1) if m <= n else (1, -1))
    return mul(column, np.eye(m, n, dtype=raw(x).dtype))


def _diag_jvp(tangents: Any, ans: Any, x: Any) -> Any:
    t = tangents[0]
    if np.ndim(x) == 1:
        return t[:, :, None] * np.eye(t.shape[1], dtype=t.dtype)
    return np.diagonal(t, axis1=1, axis2=2).copy()


defop("diag", _diag, diag_shape, _undiag, local=("1 on the diagonal",), jvp=_diag_jvp)
diag: Callable[..., Any] = OPS["diag"].apply

defop(
    "trace",
    lambda x: np.trace(x),
    trace_shape,
    lambda g, ans, x: mul(g, np.eye(*x.shape, dtype=raw(x).dtype)),
    local=("I",),
    jvp=lambda tangents, ans, x: np.trace(tangents[0], axis1=1, axis2=2),
)
defop(
    "outer",
    np.outer,
    outer_shape,
    lambda g, ans, a, b: matmul(g, b),
    lambda g, ans, a, b: matmul(a, g),
    args=("a", "b"),
    local=("(·) @ b", "aᵀ @ (·)"),
    jvp=lambda tangents, ans, a, b: (
        (0 if tangents[0] is None else tangents[0][:, :, None] * b)
        + (0 if tangents[1] is None else a[:, None] * tangents[1][:, None, :])
    ),
)


# ---------------------------------------------------------- det, inv, solve


def _cofactor_np(a: np.ndarray) -> np.ndarray:
    """The cofactor matrix (det(A)·A⁻ᵀ), from the singular value
    decomposition so that it is exact at singular matrices too (as PyTorch's
    det gradient): U·diag(product of the other singular values)·Vᵀ, times
    the signs of det U and det V.  The SVD fails on a matrix holding nan:
    that matrix's cofactors are nan, as a singular one's inverse is."""

    def cofactors(m: np.ndarray) -> np.ndarray:
        u, s, vh = np.linalg.svd(m)
        sign = np.sign(np.linalg.det(u) * np.linalg.det(vh))
        return (u * _others_np(s, s.ndim - 1)[..., None, :]) @ vh * sign[..., None, None]

    return _each_matrix(cofactors, a).astype(a.dtype)


def _cofactor_vjp(g: Any, ans: Any, a: Any) -> Any:
    """With W = A⁻ᵀ and C = det(A)·W: dC = ⟨C, dA⟩·W - det(A)·W·dAᵀ·W, so
    the gradient is ⟨G, W⟩·C - det(A)·W·Gᵀ·W (nan at a singular matrix)."""
    w = swap(inv(a))
    both = (-2, -1)
    d = reshape(det(a), shape=raw(a).shape[:-2] + (1, 1))
    return sub(
        mul(sum(mul(g, w), axis=both, keepdims=True), ans),
        mul(d, matmul(matmul(w, swap(g)), w)),
    )


def _cofactor_jvp(tangents: Any, ans: Any, a: Any) -> Any:
    t = tangents[0]
    with np.errstate(all="ignore"):
        w = _swap_np(_each_matrix(np.linalg.inv, a))
        d = np.linalg.det(a)[..., None, None]
        return np.sum(ans * t, axis=(-2, -1), keepdims=True) * w - d * (w @ _swap_np(t) @ w)


defop(
    "cofactor",
    _cofactor_np,
    inv_shape,
    _cofactor_vjp,
    args=("A",),
    local=("d(det(A)·A⁻ᵀ)",),
    jvp=_cofactor_jvp,
)
cofactor: Callable[..., Any] = OPS["cofactor"].apply


def _det(a: np.ndarray) -> Any:
    # LAPACK's pivoting can step over a nan and give 0 (det([[nan, 1], [1, 1]])):
    # a matrix holding nan has a nan determinant, as PyTorch's
    d = np.where(np.isnan(a).any(axis=(-2, -1)), np.nan, np.linalg.det(a))
    return d.astype(a.dtype)[()]


defop(
    "det",
    _det,
    det_shape,
    lambda g, ans, a: mul(reshape(g, shape=np.shape(g) + (1, 1)), cofactor(a)),
    args=("A",),
    local=("det(A)·A⁻ᵀ (the cofactor matrix)",),
    kinks=("det at a singular matrix (its second derivative is not computed)", _singular),
    jvp=lambda tangents, ans, a: np.sum(tangents[0] * _cofactor_np(a), axis=(-2, -1)),
)
det: Callable[..., Any] = OPS["det"].apply


def _inv(a: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return _each_matrix(np.linalg.inv, a).astype(a.dtype)


defop(
    "inv",
    _inv,
    inv_shape,
    lambda g, ans, a: neg(matmul(matmul(swap(ans), g), swap(ans))),
    args=("A",),
    local=("-A⁻ᵀ (·) A⁻ᵀ",),
    kinks=("inv of a singular matrix", _singular),
    jvp=lambda tangents, ans, a: -(ans @ tangents[0] @ ans),
)
inv: Callable[..., Any] = OPS["inv"].apply


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        if b.ndim == 1:  # numpy 2: a vector only when b has one dimension
            x = _each_matrix(np.linalg.solve, a, b[:, None])[..., 0]
        else:
            x = _each_matrix(np.linalg.solve, a, b)
    return x.astype(np.result_type(a, b))


def _as_columns(x: Any, b: Any) -> Any:
    """solve's answer (or its gradient) as a stack of matrices: a vector b's
    answers as columns."""
    return reshape(x, shape=tuple(x.shape) + (1,)) if b.ndim == 1 else x


def _solve_db(g: Any, ans: Any, a: Any, b: Any) -> Any:
    """solve(Aᵀ, g), summed back to b's shape."""
    gb = solve(swap(a), _as_columns(g, b))
    if b.ndim == 1:
        gb = reshape(gb, shape=tuple(gb.shape[:-1]))
    return unbroadcast(gb, b.shape)


def _solve_da(g: Any, ans: Any, a: Any, b: Any) -> Any:
    """-solve(Aᵀ, g)·xᵀ, summed back to A's shape."""
    gb = solve(swap(a), _as_columns(g, b))
    return unbroadcast(neg(matmul(gb, swap(_as_columns(ans, b)))), a.shape)


def _lifted(t: np.ndarray, ndim: int) -> np.ndarray:
    """Tangents (B,) + s with axes put in after B, to `ndim` dimensions in
    all: numpy aligns shapes from the right, and B must stay first."""
    return t.reshape(t.shape[:1] + (1,) * (ndim - t.ndim) + t.shape[1:])


def _solve_jvp(tangents: Any, ans: Any, a: Any, b: Any) -> Any:
    """dx = solve(A, db - dA·x), a batch of right-hand sides at once."""
    ta, tb = tangents
    x = ans[..., None] if np.ndim(b) == 1 else ans  # the answers as columns
    rhs: Any = 0
    if tb is not None:
        rhs = _lifted(tb[..., None] if np.ndim(b) == 1 else tb, x.ndim + 1)
    if ta is not None:
        rhs = rhs - _lifted(ta, x.ndim + 1) @ x
    with np.errstate(all="ignore"):
        batch = np.broadcast_shapes(np.shape(rhs)[:-2], np.shape(a)[:-2])
        dx = _each_matrix(np.linalg.solve, np.broadcast_to(a, batch + np.shape(a)[-2:]), rhs)
    dx = dx[..., 0] if np.ndim(b) == 1 else dx
    return np.broadcast_to(dx, (dx.shape[0],) + np.shape(ans)).astype(np.asarray(ans).dtype)


defop(
    "solve",
    _solve,
    solve_shape,
    _solve_da,
    _solve_db,
    args=("A", "b"),
    local=("-A⁻ᵀ (·) xᵀ", "A⁻ᵀ (·)"),
    kinks=("solve with a singular matrix", _singular),
    jvp=_solve_jvp,
)
solve: Callable[..., Any] = OPS["solve"].apply
