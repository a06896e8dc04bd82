"""The op table: every operation's calculus, declared in one place.

One `defop` per op holds all of it: the forward, the shape rule (from
shapes.py), one
vector-Jacobian product (VJP) per argument, the float kernel, what the VJPs
read, the kinks, the local derivative in symbols and the forward-mode
derivative (its formulas in jvps.py); see `defop` for the slots.  A VJP takes the
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

from . import jvps, kernels
from .core import OPS, VJP, Op, Shape, generic2, raw
from .shapes import (
    Axis,
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
    if type(g) is np.ndarray:
        return kernels.sum_to(g, shape)
    if g.shape == shape:
        return g
    return reshape(sum(g, axis=kernels.broadcast_axes(g.shape, shape)), shape=shape)


def expand(g: Any, x_shape: Shape, axis: Axis, keepdims: bool = False) -> Any:
    """Broadcast the gradient of a reduction back to the reduced input's shape."""
    if not keepdims:
        g = reshape(g, shape=reduced(x_shape, axis, keepdims=True))
    return broadcast_to(g, shape=x_shape)


def mask(cond: Any, like: Any) -> np.ndarray:
    """A constant 0/1 array (no gradient) of `like`'s dtype."""
    return np.asarray(cond, dtype=raw(like).dtype)


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
    if a.ndim > 2 or b.ndim > 2:
        return _stacked_matmul_vjp(g, a, b, 0)
    if b.ndim == 1:
        if a.ndim == 1:
            return mul(g, b)
        return mul(reshape(g, shape=(-1, 1)), reshape(b, shape=(1, -1)))
    return matmul(b, g) if a.ndim == 1 else matmul(g, transpose(b))


def _matmul_db(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if a.ndim > 2 or b.ndim > 2:
        return _stacked_matmul_vjp(g, a, b, 1)
    if a.ndim == 1:
        if b.ndim == 1:
            return mul(g, a)
        return mul(reshape(a, shape=(-1, 1)), reshape(g, shape=(1, -1)))
    return matmul(g, a) if b.ndim == 1 else matmul(transpose(a), g)


def _stacked_matmul_vjp(g: Any, a: Any, b: Any, k: int) -> Any:
    """The gradient of argument `k` of a product of stacks of matrices: a
    vector operand made a matrix of one row (left) or column (right), the
    matrices' rule, then summed back over the batch axes it was broadcast
    along."""
    # The swap of the last two axes is ops_linalg's op, which builds on this
    # module, so it is looked up by name when a product of stacks first runs.
    swap = OPS["matrix_transpose"].apply
    a2 = reshape(a, shape=(1,) + a.shape) if a.ndim == 1 else a
    b2 = reshape(b, shape=b.shape + (1,)) if b.ndim == 1 else b
    dropped = (a.ndim == 1) + (b.ndim == 1)
    batch = g.shape[: g.ndim - 2 + dropped]
    g2 = reshape(g, shape=batch + (a2.shape[-2], b2.shape[-1]))
    if k == 0:
        return reshape(unbroadcast(matmul(g2, swap(b2)), a2.shape), shape=a.shape)
    return reshape(unbroadcast(matmul(swap(a2), g2), b2.shape), shape=b.shape)


def _share(x: Any, y: Any, wins: Callable[[Any, Any], Any]) -> np.ndarray:
    """x's share of the gradient of maximum/minimum: 1 where `wins(x, y)`,
    1/2 on ties, 0 elsewhere (a constant)."""
    return mask(kernels.share(raw(x), raw(y), wins), x)


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
    jvp -> the forward-mode derivative on a batch of tangents (see `Op`):
    jvp(tangents, ans, *args, **attrs) -> tangent of shape (B,) + ans.shape;
    symmetric -> whether the order of the arguments does not matter;
    syntax -> (symbol, grammar level) if the language writes it as an
    operator: ("+", "sum"); levels sum, product, unary, power (`explain`);
    notation -> how `local` texts write its value, if not by its name.
    """
    if fast is not None:
        vjps = tuple(v if f is None else kernels.with_fast(f, v) for f, v in zip(fast, vjps))
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
    jvp=jvps.add,
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
    jvp=jvps.sub,
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
    jvp=jvps.mul,
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
    jvp=jvps.div,
    local=("1/y", "-x/y²"),
    saves=((1,), True),  # g / y and -(g·ans) / y
    syntax=("/", "product"),
    scalar=(operator.truediv, lambda g, ans, x, y: (g / y, -(g * ans / y))),
)
defop(
    "pow",
    kernels.power,
    broadcast,
    _pow_dx,
    _pow_dy,
    fast=(kernels.pow_dx_fast, None),
    jvp=jvps.pow,
    local=("y·x^(y-1)", "log(x)·x^y"),
    syntax=("**", "power"),
    scalar=(kernels.float_pow, kernels.float_pow_vjp),
)
defop(
    "matmul",
    operator.matmul,
    matmul_shape,
    _matmul_da,
    _matmul_db,
    jvp=jvps.matmul,
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
    jvp=jvps.maximum,
    local=("[x > y] (½ on ties)", "[y > x] (½ on ties)"),
    symmetric=True,
    kinks=("a tie in maximum", kernels.tie),
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
    jvp=jvps.minimum,
    local=("[x < y] (½ on ties)", "[y < x] (½ on ties)"),
    symmetric=True,
    kinks=("a tie in minimum", kernels.tie),
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
    jvp=jvps.clip,
    local=("[lo ≤ x ≤ hi]", "[x < lo]", "[x > hi]"),
    kinks=("clip at a bound", kernels.at_bound),
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
    jvp=jvps.where,
    local=("[cond]", "[not cond]"),
)

defop(
    "neg",
    operator.neg,
    same,
    lambda g, ans, x: neg(g),
    jvp=jvps.neg,
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
    jvp=jvps.pos,
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
    jvp=jvps.exp,
    local=("exp(x)",),
    saves=ANS,
    scalar=(kernels.on_floats(np.exp), lambda g, ans, x: g * ans),
)
defop(
    "log",
    np.log,
    same,
    lambda g, ans, x: div(g, x),
    jvp=jvps.log,
    local=("1/x",),
    saves=((0,), False),
    scalar=(kernels.on_floats(np.log), lambda g, ans, x: g / x),
)
defop(
    "log1p",
    np.log1p,
    same,
    lambda g, ans, x: div(g, add(1.0, x)),
    jvp=jvps.log1p,
    local=("1/(1 + x)",),
    saves=((0,), False),
    scalar=(kernels.on_floats(np.log1p), lambda g, ans, x: g / (1.0 + x)),
)
defop(
    "sqrt",
    np.sqrt,
    same,
    lambda g, ans, x: div(g, mul(2.0, ans)),
    jvp=jvps.sqrt,
    local=("1/(2·sqrt(x))",),
    saves=ANS,
    scalar=(kernels.on_floats(np.sqrt), lambda g, ans, x: g / (2.0 * ans)),
)
defop(
    "abs",
    np.abs,
    same,
    lambda g, ans, x: mul(g, mask(np.sign(raw(x)), x)),
    jvp=jvps.abs,
    local=("sign(x)",),
    saves=((0,), False),
    kinks=("abs at 0", kernels.at_zero),
    scalar=(abs, lambda g, ans, x: g * kernels.float_sign(x)),
)
defop(
    "sin",
    np.sin,
    same,
    lambda g, ans, x: mul(g, cos(x)),
    jvp=jvps.sin,
    local=("cos(x)",),
    saves=((0,), False),
    scalar=(kernels.on_floats(np.sin), lambda g, ans, x: g * float(np.cos(x))),
)
defop(
    "cos",
    np.cos,
    same,
    lambda g, ans, x: neg(mul(g, sin(x))),
    jvp=jvps.cos,
    local=("-sin(x)",),
    saves=((0,), False),
    scalar=(kernels.on_floats(np.cos), lambda g, ans, x: -(g * float(np.sin(x)))),
)
defop(
    "tan",
    np.tan,
    same,
    lambda g, ans, x: mul(g, add(1.0, mul(ans, ans))),
    jvp=jvps.tan,
    local=("1 + tan(x)²",),
    saves=ANS,
    scalar=(kernels.on_floats(np.tan), lambda g, ans, x: g * (1.0 + ans * ans)),
)
defop(
    "tanh",
    np.tanh,
    same,
    lambda g, ans, x: mul(g, sub(1.0, mul(ans, ans))),
    fast=(kernels.tanh_fast,),
    jvp=jvps.tanh,
    local=("1 - tanh(x)²",),
    saves=ANS,
    scalar=(kernels.on_floats(np.tanh), lambda g, ans, x: g * (1.0 - ans * ans)),
)
defop(
    "sigmoid",
    kernels.sigmoid,
    same,
    lambda g, ans, x: mul(g, mul(ans, sub(1.0, ans))),
    fast=(kernels.sigmoid_fast,),
    jvp=jvps.sigmoid,
    local=("σ(x)·(1 - σ(x))",),
    saves=ANS,
    notation="σ",
    scalar=(kernels.on_floats(kernels.sigmoid), lambda g, ans, x: g * (ans * (1.0 - ans))),
)
defop(
    "relu",
    lambda x: np.maximum(x, 0).astype(x.dtype),
    same,
    lambda g, ans, x: mul(g, mask(raw(x) > 0, x)),
    jvp=jvps.relu,
    local=("[x > 0]",),
    saves=((0,), False),
    kinks=("relu at 0", kernels.at_zero),
    scalar=(lambda x: x if x > 0 or x != x else 0.0, lambda g, ans, x: g * (1.0 if x > 0 else 0.0)),
)
defop(
    "softplus",
    lambda x: np.logaddexp(0, x).astype(x.dtype),
    same,
    lambda g, ans, x: mul(g, sigmoid(x)),
    jvp=jvps.softplus,
    local=("σ(x)",),
    saves=((0,), False),
    scalar=(
        kernels.on_floats(lambda x: np.logaddexp(0, x)),
        lambda g, ans, x: g * float(kernels.sigmoid(x)),
    ),
)

defop(
    "sum",
    lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
    reduced,
    lambda g, ans, x, axis=None, keepdims=False: expand(g, x.shape, axis, keepdims),
    jvp=jvps.sum,
    local=("1",),
    saves=NOTHING,
)
defop(
    "mean",
    kernels.mean,
    nonempty_reduced,
    lambda g, ans, x, axis=None: div(expand(g, x.shape, axis), float(reduced_size(x.shape, axis))),
    fast=(kernels.mean_fast,),
    jvp=jvps.mean,
    local=("1/n",),
    saves=NOTHING,
)
defop(
    "max",
    np.max,
    nonempty_reduced,
    _extreme_vjp,
    jvp=jvps.extreme,
    local=("[x = max] / #ties",),
    kinks=("a tie in max", kernels.tie_in_reduction),
)
defop(
    "min",
    np.min,
    nonempty_reduced,
    _extreme_vjp,
    jvp=jvps.extreme,
    local=("[x = min] / #ties",),
    kinks=("a tie in min", kernels.tie_in_reduction),
)
defop(
    "logsumexp",
    kernels.logsumexp,
    reduced,
    lambda g, ans, x, axis=None: mul(
        expand(g, x.shape, axis), exp(sub(x, expand(ans, x.shape, axis)))
    ),
    jvp=jvps.logsumexp,
    local=("softmax(x)",),
)
defop(
    "norm",
    lambda x: np.sqrt(np.sum(x * x)),
    lambda s: (),
    lambda g, ans, x: mul(g, div(x, add(ans, mask(raw(ans) == 0, x)))),
    jvp=jvps.norm,
    local=("x / norm(x)",),
)
defop(
    "softmax",
    kernels.softmax,
    along_axis,
    lambda g, ans, x, axis=-1: mul(ans, sub(g, sum(mul(g, ans), axis=axis, keepdims=True))),
    jvp=jvps.softmax,
    local=("diag(s) - s sᵀ",),
)
defop(
    "log_softmax",
    kernels.log_softmax,
    along_axis,
    lambda g, ans, x, axis=-1: sub(g, mul(exp(ans), sum(g, axis=axis, keepdims=True))),
    jvp=jvps.log_softmax,
    local=("I - softmax(x)",),
)

defop(
    "transpose",
    lambda x: x.transpose() if type(x) is np.ndarray else np.transpose(x),
    lambda s: s[::-1],
    lambda g, ans, x: transpose(g),
    jvp=jvps.transpose,
    local=("transpose",),
    saves=NOTHING,
)
defop(
    "reshape",
    np.reshape,
    reshape_shape,
    lambda g, ans, x, shape: reshape(g, shape=x.shape),
    jvp=jvps.reshape,
    local=("reshape",),
    saves=NOTHING,
)
defop(
    "broadcast_to",
    np.broadcast_to,
    lambda s, shape: broadcast(s, shape),
    lambda g, ans, x, shape: unbroadcast(g, x.shape),
    jvp=jvps.broadcast_to,
    local=("1",),
    saves=NOTHING,
)
defop(
    "index",
    lambda x, key: x[key],
    index_shape,
    lambda g, ans, x, key: unindex(g, shape=x.shape, key=key),
    jvp=jvps.index,
    local=("1 at the index",),
    saves=NOTHING,
)
defop(
    "unindex",
    kernels.unindex,
    lambda s, shape, key: shape,
    lambda g, ans, x, shape, key: index(g, key=key),
    jvp=jvps.unindex,
    local=("1 at the index",),
    saves=NOTHING,
)
defop("stack", lambda *xs: np.stack(xs), stack_shape, jvp=jvps.stack, local=("1",), saves=NOTHING)
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
