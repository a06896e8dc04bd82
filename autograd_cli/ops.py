"""The op table: every operation's calculus, declared in one place.

One `defop` per op holds all of it: the forward, the shape rule (from
shapes.py), one
vector-Jacobian product (VJP) per argument, the float kernel, what the VJPs
read, the kinks, the local derivative in symbols and (not yet filled in)
the forward-mode derivative; see `defop` for the slots.  A VJP takes the
output's gradient `g`, the forward output `ans` and the forward arguments,
and returns the gradient for one argument.  VJPs are written with the
generic functions defined at the bottom of this file (``add``, ``mul``,
...), which run straight on numpy arrays and record themselves when traced,
so the backward pass can be differentiated again (see engine.py).  `local`
states each argument's local derivative in symbols, written with the names
of `args` (``x, y, z`` unless declared), ``ans`` the output.

Conventions at kinks follow PyTorch: relu'(0) = 0, abs'(0) = 0, ties in
max/min reductions share the gradient evenly, maximum/minimum ties give each
side half, clip passes the gradient at its bounds, norm'(0) = 0.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .core import OPS, VJP, Op, Shape, Tensor, generic2, raw
from .shapes import (
    Axis,
    Key,
    along_axis,
    arange_size,
    broadcast,
    index_shape,
    matmul_shape,
    nonempty_reduced,
    reduced,
    reduced_size,
    reshape_shape,
    same,
    stack_shape,
)

if TYPE_CHECKING:  # for annotations only: numpy.typing is not loaded at run time
    from numpy.typing import ArrayLike, DTypeLike

# ------------------------------------------------------------- VJP helpers


def unbroadcast(g: Any, shape: Shape) -> Any:
    """Sum `g` back down to `shape`, undoing numpy broadcasting."""
    gshape = g.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and gshape[lead + i] != 1
    )
    if type(g) is np.ndarray:  # what np.sum and np.reshape call, without their wrappers
        return np.add.reduce(g, axis=axes).reshape(shape)
    return reshape(sum(g, axis=axes), shape=shape)


def expand(g: Any, x_shape: Shape, axis: Axis, keepdims: bool = False) -> Any:
    """Broadcast the gradient of a reduction back to the reduced input's shape."""
    if not keepdims:
        g = reshape(g, shape=reduced(x_shape, axis, keepdims=True))
    return broadcast_to(g, shape=x_shape)


def mask(cond: Any, like: Any) -> np.ndarray:
    """A constant 0/1 array (no gradient) of `like`'s dtype."""
    return np.asarray(cond, dtype=raw(like).dtype)


# ------------------------------------------------------------ numpy kernels


def _sigmoid(x: Any) -> Any:
    return np.exp(-np.logaddexp(0, -x))


def _logsumexp(x: np.ndarray, axis: Axis = None, keepdims: bool = False) -> Any:
    # initial=-inf: the logsumexp of nothing is -inf, as in PyTorch
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0).astype(x.dtype)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax(x: np.ndarray, axis: int = -1) -> Any:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True, initial=-np.inf))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x: np.ndarray, axis: int = -1) -> Any:
    return x - _logsumexp(x, axis=axis, keepdims=True)


def _unindex(g: np.ndarray, shape: Shape, key: Key) -> np.ndarray:
    out = np.zeros(shape, dtype=g.dtype)
    out[key] = g
    return out


def _power(x: Any, y: Any) -> Any:
    """x ** y, with numpy's rule for arrays everywhere: ** 0.5 is sqrt (so
    (-inf) ** 0.5 is nan and (-0) ** 0.5 is -0, as PyTorch gives too)."""
    if (type(y) is not np.ndarray or y.ndim == 0) and y == 0.5:
        return np.sqrt(x)
    return x**y


# ------------------------------------------------ float64 scalars as floats
# The `scalar=` slot: the same ops on Python floats (see
# engine.evaluate_floats): +, -, *, / and ** are Python's, which give what
# numpy's float64 scalars give (IEEE double; ** is the C library's pow, as
# numpy's scalar power); the functions call the numpy ufuncs that arrays use.
# Each VJP computes in the order its numpy VJP does, so the two give the same
# bits.  Python raises where numpy would give inf or nan (x / 0, an
# overflowing **); a complex ** does too.


def _ufunc(f: Callable[[float], Any]) -> Callable[[float], float]:
    return lambda x: float(f(x))


def _fpow(x: float, y: float) -> float:
    if y == 0.5:
        return float(np.sqrt(x))  # as _power
    ans: float = x**y  # or complex: Python's ** does not say which
    if type(ans) is complex:  # a negative number to a fractional power
        raise ValueError("complex power")
    return ans


def _fpow_vjp(g: float, ans: float, x: float, y: float) -> tuple[float, float]:
    dx = 0.0 if y == 0 else g * (y * _fpow(x, y - 1.0))
    dy = 0.0 if x == 0 and y >= 0 else g * (ans * float(np.log(x)))
    return dx, dy


def _fsign(x: float) -> float:
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0 if x == 0 else x  # nan stays


# ------------------------------------------------------------ VJP formulas
# The VJPs too long for a line of the table.


def _pow_dx(g: Any, ans: Any, x: Any, y: Any) -> Any:
    """g·y·x^(y-1), and 0 where y = 0 (so 0 ** 0 has no gradient for x)."""
    rx, ry = raw(x), raw(y)
    cond = np.broadcast_to(ry == 0, np.broadcast_shapes(rx.shape, ry.shape))
    return unbroadcast(
        where(np.zeros((), rx.dtype), mul(g, mul(y, pow(x, sub(y, 1.0)))), cond=cond), x.shape
    )


def _pow_dy(g: Any, ans: Any, x: Any, y: Any) -> Any:
    rx, ry = raw(x), raw(y)
    zero = (rx == 0) & (ry >= 0)
    return unbroadcast(
        where(
            np.zeros((), rx.dtype),
            mul(g, mul(ans, log(x))),
            cond=np.broadcast_to(zero, np.broadcast_shapes(rx.shape, ry.shape)),
        ),
        y.shape,
    )


def _matmul_da(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if b.ndim == 1:
        if a.ndim == 1:
            return mul(g, b)
        return mul(reshape(g, shape=(-1, 1)), reshape(b, shape=(1, -1)))
    return matmul(b, g) if a.ndim == 1 else matmul(g, transpose(b))


def _matmul_db(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if a.ndim == 1:
        if b.ndim == 1:
            return mul(g, a)
        return mul(reshape(a, shape=(-1, 1)), reshape(g, shape=(1, -1)))
    return matmul(g, a) if b.ndim == 1 else matmul(transpose(a), g)


def _share(x: Any, y: Any, wins: Callable[[Any, Any], Any]) -> np.ndarray:
    """x's share of the gradient of maximum/minimum: 1 where `wins(x, y)`,
    1/2 on ties, 0 elsewhere (a constant)."""
    rx, ry = raw(x), raw(y)
    return mask(wins(rx, ry) + 0.5 * (rx == ry), x)


def _extreme_vjp(g: Any, ans: Any, x: Any, axis: Axis = None) -> Any:
    rx = raw(x)
    hit = rx == np.expand_dims(raw(ans), axis) if axis is not None else rx == raw(ans)
    share = hit / np.sum(hit, axis=axis, keepdims=True)
    return mul(expand(g, x.shape, axis), mask(share, x))


class _StackVJPs:
    """stack's VJPs: argument k gets row k of the gradient."""

    def __getitem__(self, k: int) -> VJP:
        return lambda g, ans, *xs: index(g, key=(k,))

    def __bool__(self) -> bool:
        return True


# ------------------------------------------------------------- speed helpers
# The `fast=` slot: a shortcut tried before the op's VJP formula.  It returns
# None where it does not apply, and otherwise the very bits the formula in
# the table gives: the same operations in the same order, only without the
# formula's temporaries (tests/test_ops.py compares the two).


def _plain(g: Any, ans: Any) -> bool:
    """Are `g` and `ans` plain arrays of one shape, dtype and layout (not
    traced, not numpy scalars)?  Then a VJP may compute in one buffer of its
    own: laid out as the op-by-op formula's result would be (numpy lays a
    result out as its arguments are; a gradient's layout decides the order
    in which later reductions add it up, so it must be the same)."""
    return (
        type(g) is np.ndarray
        and type(ans) is np.ndarray
        and g.shape == ans.shape
        and g.dtype == ans.dtype
        and g.strides == ans.strides
    )


def _tanh_fast(g: Any, ans: Any, x: Any) -> Any:
    """tanh's formula g * (1 - ans*ans), the same operations in one buffer."""
    if _plain(g, ans):
        out = np.multiply(ans, ans)
        np.subtract(1.0, out, out=out)
        return np.multiply(g, out, out=out)
    return None


def _sigmoid_fast(g: Any, ans: Any, x: Any) -> Any:
    """sigmoid's formula g * (ans * (1 - ans)), in one buffer."""
    if _plain(g, ans):
        out = np.subtract(1.0, ans)
        np.multiply(ans, out, out=out)
        return np.multiply(g, out, out=out)
    return None


def _pow_dx_fast(g: Any, ans: Any, x: Any, y: Any) -> Any:
    """`_pow_dx` for a constant exponent (x ** 2): its mask is all False, so
    these are its very operations, without the mask and its copy."""
    if (
        type(x) is np.ndarray
        and type(g) is not Tensor
        and type(y) is not Tensor
        and (type(y) is not np.ndarray or y.ndim == 0)
        and y != 0
    ):
        d = g * (y * _power(x, y - 1.0))
        if type(d) is np.ndarray and d.dtype == x.dtype:
            return unbroadcast(d, x.shape)
    return None


def _mean_fast(g: Any, ans: Any, x: Any, axis: Axis = None) -> Any:
    """mean's formula expand(g) / n for the mean of everything: g / n in
    every element, computed once.  The formula divides a zero-stride view,
    whose result numpy lays out in C order as this is (a gradient's layout
    decides the order in which later reductions add it up, so it must not
    change)."""
    if type(g) is not Tensor and type(x) is np.ndarray and x.ndim and g.size == 1:
        n = float(reduced_size(x.shape, axis))
        d = np.empty(x.shape, dtype=np.result_type(g, n))
        d.fill((g / n).reshape(()))
        return d
    return None


def _with_fast(fast: VJP, formula: VJP) -> VJP:
    """`formula`, tried through the shortcut `fast` first."""

    def vjp(g: Any, ans: Any, *args: Any, **attrs: Any) -> Any:
        d = fast(g, ans, *args, **attrs)
        return formula(g, ans, *args, **attrs) if d is None else d

    vjp.__name__ = formula.__name__
    return vjp


# --------------------------------------------------------------- kink tests
# The `kinks=` slot: (what `check` calls it, test(ans, *args, **attrs)):
# where an op is not differentiable its gradient is a convention, which
# finite differences cannot confirm.


def _at_zero(ans: Any, x: Any) -> Any:
    return np.any(x == 0)


def _tie(ans: Any, x: Any, y: Any) -> Any:
    return np.any(x == y)


def _at_bound(ans: Any, x: Any, lo: Any, hi: Any) -> Any:
    return np.any((x == lo) | (x == hi))


def _tie_in_reduction(ans: Any, x: Any, axis: Axis = None) -> Any:
    ans = ans if axis is None else np.expand_dims(ans, axis)
    return np.any(np.sum(x == ans, axis=axis) > 1)


# ------------------------------------------------------------------ the table


def defop(
    name: str,
    forward: Callable[..., Any],
    shape: Callable[..., Shape],
    *vjps: VJP,
    args: tuple[str, ...] | None = None,
    local: Sequence[str] = (),
    scalar: tuple[Callable[..., Any], VJP] | None = None,
    saves: tuple[tuple[int, ...], bool] | None = None,
    kinks: tuple[str, Callable[..., Any]] | None = None,
    fast: Sequence[VJP | None] | None = None,
    jvp: Any = None,
    symmetric: bool = False,
    syntax: tuple[str, str] | None = None,
    notation: str | None = None,
) -> None:
    """Declare op `name`, every slot of it here:

    forward(*args, **attrs) -> array, and `shape`, its rule on shapes;
    vjps -> one VJP per argument: vjp(g, ans, *args, **attrs) -> gradient;
    args -> the names of the array arguments in `local` (default x, y, z);
    local -> per argument, its local derivative in symbols (`explain`);
    scalar -> (forward, vjp) on Python floats (see the section above);
    saves -> (argument positions, whether ``ans``): the values the VJPs read
    (see engine.releases); None: they may read every one;
    kinks -> (name, test) where the gradient is a convention (`check`);
    fast -> per argument, None or a speed helper for its VJP;
    jvp -> the forward-mode derivative (none declared yet);
    symmetric -> whether the order of the arguments does not matter;
    syntax -> (symbol, grammar level) if the language writes it as an
    operator: ("+", "sum"); levels sum, product, unary, power (`explain`);
    notation -> how `local` texts write its value, if not by its name.
    """
    if fast is not None:
        vjps = tuple(v if f is None else _with_fast(f, v) for f, v in zip(fast, vjps))
    op = OPS[name] = Op(name, forward, shape, vjps, local)
    op.args = ("x", "y", "z")[: len(vjps)] if args is None else args
    op.scalar = scalar
    op.saves = saves
    op.kinks = kinks
    op.jvp = jvp
    op.symmetric = symmetric
    op.syntax = syntax
    op.notation = notation


NOTHING = ((), False)  # saves: the VJPs read only shapes and dtypes
ANS = ((), True)  # saves: the VJPs read only the output

# Each op: forward, shape rule, one VJP per argument, then its other slots.

defop(
    "add",
    operator.add,
    broadcast,
    lambda g, ans, x, y: unbroadcast(g, x.shape),
    lambda g, ans, x, y: unbroadcast(g, y.shape),
    local=("1", "1"),
    saves=NOTHING,
    symmetric=True,
    syntax=("+", "sum"),
    scalar=(operator.add, lambda g, ans, x, y: (g, g)),
)
defop(
    "sub",
    operator.sub,
    broadcast,
    lambda g, ans, x, y: unbroadcast(g, x.shape),
    lambda g, ans, x, y: unbroadcast(neg(g), y.shape),
    local=("1", "-1"),
    saves=NOTHING,
    syntax=("-", "sum"),
    scalar=(operator.sub, lambda g, ans, x, y: (g, -g)),
)
defop(
    "mul",
    operator.mul,
    broadcast,
    lambda g, ans, x, y: unbroadcast(mul(g, y), x.shape),
    lambda g, ans, x, y: unbroadcast(mul(g, x), y.shape),
    local=("y", "x"),
    saves=((0, 1), False),
    symmetric=True,
    syntax=("*", "product"),
    scalar=(operator.mul, lambda g, ans, x, y: (g * y, g * x)),
)
defop(
    "div",
    operator.truediv,
    broadcast,
    lambda g, ans, x, y: unbroadcast(div(g, y), x.shape),
    lambda g, ans, x, y: unbroadcast(neg(div(mul(g, ans), y)), y.shape),
    local=("1/y", "-x/y²"),
    saves=((1,), True),  # g / y and -(g·ans) / y
    syntax=("/", "product"),
    scalar=(operator.truediv, lambda g, ans, x, y: (g / y, -(g * ans / y))),
)
defop(
    "pow",
    _power,
    broadcast,
    _pow_dx,
    _pow_dy,
    fast=(_pow_dx_fast, None),
    local=("y·x^(y-1)", "log(x)·x^y"),
    syntax=("**", "power"),
    scalar=(_fpow, _fpow_vjp),
)
defop(
    "matmul",
    operator.matmul,
    matmul_shape,
    _matmul_da,
    _matmul_db,
    local=("(·) @ yᵀ", "xᵀ @ (·)"),
    saves=((0, 1), False),
    syntax=("@", "product"),
)
defop(
    "maximum",
    np.maximum,
    broadcast,
    lambda g, ans, x, y: unbroadcast(mul(g, _share(x, y, np.greater)), x.shape),
    lambda g, ans, x, y: unbroadcast(mul(g, _share(y, x, np.greater)), y.shape),
    local=("[x > y] (½ on ties)", "[y > x] (½ on ties)"),
    symmetric=True,
    kinks=("a tie in maximum", _tie),
    scalar=(
        lambda x, y: float(np.maximum(x, y)),
        lambda g, ans, x, y: (g * ((x > y) + 0.5 * (x == y)), g * ((y > x) + 0.5 * (y == x))),
    ),
)
defop(
    "minimum",
    np.minimum,
    broadcast,
    lambda g, ans, x, y: unbroadcast(mul(g, _share(x, y, np.less)), x.shape),
    lambda g, ans, x, y: unbroadcast(mul(g, _share(y, x, np.less)), y.shape),
    local=("[x < y] (½ on ties)", "[y < x] (½ on ties)"),
    symmetric=True,
    kinks=("a tie in minimum", _tie),
    scalar=(
        lambda x, y: float(np.minimum(x, y)),
        lambda g, ans, x, y: (g * ((x < y) + 0.5 * (x == y)), g * ((y < x) + 0.5 * (y == x))),
    ),
)
defop(
    "clip",
    np.clip,
    broadcast,
    lambda g, ans, x, lo, hi: unbroadcast(
        mul(g, mask((raw(x) >= raw(lo)) & (raw(x) <= raw(hi)), x)), x.shape
    ),
    lambda g, ans, x, lo, hi: unbroadcast(mul(g, mask(raw(x) < raw(lo), x)), lo.shape),
    lambda g, ans, x, lo, hi: unbroadcast(mul(g, mask(raw(x) > raw(hi), x)), hi.shape),
    args=("x", "lo", "hi"),
    local=("[lo ≤ x ≤ hi]", "[x < lo]", "[x > hi]"),
    kinks=("clip at a bound", _at_bound),
    scalar=(
        lambda x, lo, hi: float(np.clip(x, lo, hi)),
        lambda g, ans, x, lo, hi: (
            g * (1.0 if lo <= x <= hi else 0.0),
            g * (1.0 if x < lo else 0.0),
            g * (1.0 if x > hi else 0.0),
        ),
    ),
)


def _where(a: ArrayLike, b: ArrayLike, cond: ArrayLike) -> np.ndarray:
    return np.where(cond, a, b).astype(np.result_type(a, b))


# Internal: where(a, b, cond) takes a where the constant mask `cond` holds.
defop(
    "where",
    _where,
    lambda a, b, cond: broadcast(a, b, np.shape(cond)),
    lambda g, ans, a, b, cond: unbroadcast(
        where(g, np.zeros((), raw(g).dtype), cond=cond), a.shape
    ),
    lambda g, ans, a, b, cond: unbroadcast(
        where(np.zeros((), raw(g).dtype), g, cond=cond), b.shape
    ),
    args=("a", "b"),
    local=("[cond]", "[not cond]"),
)

defop(
    "neg",
    operator.neg,
    same,
    lambda g, ans, x: neg(g),
    local=("-1",),
    saves=NOTHING,
    syntax=("-", "unary"),
    scalar=(operator.neg, lambda g, ans, x: -g),
)
defop(
    "pos",
    lambda x: x,
    same,
    lambda g, ans, x: g,
    local=("1",),
    saves=NOTHING,
    syntax=("+", "unary"),
    scalar=(lambda x: x, lambda g, ans, x: g),
)
defop(
    "exp",
    np.exp,
    same,
    lambda g, ans, x: mul(g, ans),
    local=("exp(x)",),
    saves=ANS,
    scalar=(_ufunc(np.exp), lambda g, ans, x: g * ans),
)
defop(
    "log",
    np.log,
    same,
    lambda g, ans, x: div(g, x),
    local=("1/x",),
    saves=((0,), False),
    scalar=(_ufunc(np.log), lambda g, ans, x: g / x),
)
defop(
    "log1p",
    np.log1p,
    same,
    lambda g, ans, x: div(g, add(1.0, x)),
    local=("1/(1 + x)",),
    saves=((0,), False),
    scalar=(_ufunc(np.log1p), lambda g, ans, x: g / (1.0 + x)),
)
defop(
    "sqrt",
    np.sqrt,
    same,
    lambda g, ans, x: div(g, mul(2.0, ans)),
    local=("1/(2·sqrt(x))",),
    saves=ANS,
    scalar=(_ufunc(np.sqrt), lambda g, ans, x: g / (2.0 * ans)),
)
defop(
    "abs",
    np.abs,
    same,
    lambda g, ans, x: mul(g, mask(np.sign(raw(x)), x)),
    local=("sign(x)",),
    saves=((0,), False),
    kinks=("abs at 0", _at_zero),
    scalar=(abs, lambda g, ans, x: g * _fsign(x)),
)
defop(
    "sin",
    np.sin,
    same,
    lambda g, ans, x: mul(g, cos(x)),
    local=("cos(x)",),
    saves=((0,), False),
    scalar=(_ufunc(np.sin), lambda g, ans, x: g * float(np.cos(x))),
)
defop(
    "cos",
    np.cos,
    same,
    lambda g, ans, x: neg(mul(g, sin(x))),
    local=("-sin(x)",),
    saves=((0,), False),
    scalar=(_ufunc(np.cos), lambda g, ans, x: -(g * float(np.sin(x)))),
)
defop(
    "tan",
    np.tan,
    same,
    lambda g, ans, x: mul(g, add(1.0, mul(ans, ans))),
    local=("1 + tan(x)²",),
    saves=ANS,
    scalar=(_ufunc(np.tan), lambda g, ans, x: g * (1.0 + ans * ans)),
)
defop(
    "tanh",
    np.tanh,
    same,
    lambda g, ans, x: mul(g, sub(1.0, mul(ans, ans))),
    fast=(_tanh_fast,),
    local=("1 - tanh(x)²",),
    saves=ANS,
    scalar=(_ufunc(np.tanh), lambda g, ans, x: g * (1.0 - ans * ans)),
)
defop(
    "sigmoid",
    _sigmoid,
    same,
    lambda g, ans, x: mul(g, mul(ans, sub(1.0, ans))),
    fast=(_sigmoid_fast,),
    local=("σ(x)·(1 - σ(x))",),
    saves=ANS,
    notation="σ",
    scalar=(_ufunc(_sigmoid), lambda g, ans, x: g * (ans * (1.0 - ans))),
)
defop(
    "relu",
    lambda x: np.maximum(x, 0).astype(x.dtype),
    same,
    lambda g, ans, x: mul(g, mask(raw(x) > 0, x)),
    local=("[x > 0]",),
    saves=((0,), False),
    kinks=("relu at 0", _at_zero),
    scalar=(lambda x: x if x > 0 or x != x else 0.0, lambda g, ans, x: g * (1.0 if x > 0 else 0.0)),
)
defop(
    "softplus",
    lambda x: np.logaddexp(0, x).astype(x.dtype),
    same,
    lambda g, ans, x: mul(g, sigmoid(x)),
    local=("σ(x)",),
    saves=((0,), False),
    scalar=(_ufunc(lambda x: np.logaddexp(0, x)), lambda g, ans, x: g * float(_sigmoid(x))),
)

defop(
    "sum",
    lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
    reduced,
    lambda g, ans, x, axis=None, keepdims=False: expand(g, x.shape, axis, keepdims),
    local=("1",),
    saves=NOTHING,
)
defop(
    "mean",
    np.mean,
    nonempty_reduced,
    lambda g, ans, x, axis=None: div(expand(g, x.shape, axis), float(reduced_size(x.shape, axis))),
    fast=(_mean_fast,),
    local=("1/n",),
    saves=NOTHING,
)
defop(
    "max",
    np.max,
    nonempty_reduced,
    _extreme_vjp,
    local=("[x = max] / #ties",),
    kinks=("a tie in max", _tie_in_reduction),
)
defop(
    "min",
    np.min,
    nonempty_reduced,
    _extreme_vjp,
    local=("[x = min] / #ties",),
    kinks=("a tie in min", _tie_in_reduction),
)
defop(
    "logsumexp",
    _logsumexp,
    reduced,
    lambda g, ans, x, axis=None: mul(
        expand(g, x.shape, axis), exp(sub(x, expand(ans, x.shape, axis)))
    ),
    local=("softmax(x)",),
)
defop(
    "norm",
    lambda x: np.sqrt(np.sum(x * x)),
    lambda s: (),
    lambda g, ans, x: mul(g, div(x, add(ans, mask(raw(ans) == 0, x)))),
    local=("x / norm(x)",),
)
defop(
    "softmax",
    _softmax,
    along_axis,
    lambda g, ans, x, axis=-1: mul(ans, sub(g, sum(mul(g, ans), axis=axis, keepdims=True))),
    local=("diag(s) - s sᵀ",),
)
defop(
    "log_softmax",
    _log_softmax,
    along_axis,
    lambda g, ans, x, axis=-1: sub(g, mul(exp(ans), sum(g, axis=axis, keepdims=True))),
    local=("I - softmax(x)",),
)

defop(
    "transpose",
    lambda x: x.transpose() if type(x) is np.ndarray else np.transpose(x),
    lambda s: s[::-1],
    lambda g, ans, x: transpose(g),
    local=("transpose",),
    saves=NOTHING,
)
defop(
    "reshape",
    np.reshape,
    reshape_shape,
    lambda g, ans, x, shape: reshape(g, shape=x.shape),
    local=("reshape",),
    saves=NOTHING,
)
defop(
    "broadcast_to",
    np.broadcast_to,
    lambda s, shape: broadcast(s, shape),
    lambda g, ans, x, shape: unbroadcast(g, x.shape),
    local=("1",),
    saves=NOTHING,
)
defop(
    "index",
    lambda x, key: x[key],
    index_shape,
    lambda g, ans, x, key: unindex(g, shape=x.shape, key=key),
    local=("1 at the index",),
    saves=NOTHING,
)
defop(
    "unindex",
    _unindex,
    lambda s, shape, key: shape,
    lambda g, ans, x, shape, key: index(g, key=key),
    local=("1 at the index",),
    saves=NOTHING,
)
defop("stack", lambda *xs: np.stack(xs), stack_shape, local=("1",), saves=NOTHING)
OPS["stack"].vjps = _StackVJPs()  # any number of arguments


# Constructors: no arguments, so no gradient; built once, then constant.
def _randn(shape: Shape, seed: int, dtype: DTypeLike) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _rand(shape: Shape, seed: int, dtype: DTypeLike) -> np.ndarray:
    return np.random.default_rng(seed).random(shape).astype(dtype)


def defconstructor(name: str, forward: Callable[..., Any], shape: Callable[..., Shape]) -> None:
    """Declare a constructor: an op of static arguments only."""
    defop(name, forward, shape)
    OPS[name].constructor = True


defconstructor("zeros", lambda shape, dtype: np.zeros(shape, dtype), lambda shape, dtype: shape)
defconstructor("ones", lambda shape, dtype: np.ones(shape, dtype), lambda shape, dtype: shape)
defconstructor("eye", lambda n, dtype: np.eye(n, dtype=dtype), lambda n, dtype: (n, n))
defconstructor(
    "arange",
    lambda start, stop, step, dtype: (
        start + step * np.arange(arange_size(start, stop, step))
    ).astype(dtype),
    lambda start, stop, step, dtype: (arange_size(start, stop, step),),
)
defconstructor(
    "linspace",
    lambda start, stop, n, dtype: np.linspace(start, stop, n, dtype=dtype),
    lambda start, stop, n, dtype: (n,),
)
defconstructor("randn", _randn, lambda shape, seed, dtype: shape)
defconstructor("rand", _rand, lambda shape, seed, dtype: shape)


# ------------------------------------------- generic functions used by VJPs

for _name in ("add", "sub", "mul", "div", "pow", "matmul"):
    OPS[_name].apply = generic2(OPS[_name])
del _name

# Named as the ops (so in this module `sum` and `pow` are the ops, not
# Python's): annotated one by one, as the VJPs above use them before this.
add: Callable[..., Any] = OPS["add"].apply
sub: Callable[..., Any] = OPS["sub"].apply
mul: Callable[..., Any] = OPS["mul"].apply
div: Callable[..., Any] = OPS["div"].apply
pow: Callable[..., Any] = OPS["pow"].apply
matmul: Callable[..., Any] = OPS["matmul"].apply
neg: Callable[..., Any] = OPS["neg"].apply
exp: Callable[..., Any] = OPS["exp"].apply
log: Callable[..., Any] = OPS["log"].apply
sin: Callable[..., Any] = OPS["sin"].apply
cos: Callable[..., Any] = OPS["cos"].apply
sigmoid: Callable[..., Any] = OPS["sigmoid"].apply
sum: Callable[..., Any] = OPS["sum"].apply
transpose: Callable[..., Any] = OPS["transpose"].apply
reshape: Callable[..., Any] = OPS["reshape"].apply
broadcast_to: Callable[..., Any] = OPS["broadcast_to"].apply
index: Callable[..., Any] = OPS["index"].apply
unindex: Callable[..., Any] = OPS["unindex"].apply
where: Callable[..., Any] = OPS["where"].apply
