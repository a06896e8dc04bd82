"""The numpy and Python-float functions the op table (ops.py) is declared
with: forwards numpy lacks, the float64 kernels of the `scalar=` slot, the
shortcuts of the `fast=` slot and the tests of the `kinks=` slot.  They work
on plain arrays and floats only, so nothing here calls the table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .core import VJP, Shape, Tensor
from .shapes import Axis, Key, reduced_size


def broadcast_axes(gshape: Shape, shape: Shape) -> tuple[int, ...]:
    """The axes a gradient of shape `gshape` is summed over to get back to
    `shape`, the shape it was broadcast from."""
    lead = len(gshape) - len(shape)
    return tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and gshape[lead + i] != 1
    )


def sum_to(g: np.ndarray, shape: Shape) -> np.ndarray:
    """A plain array's gradient summed back down to `shape` (ops.unbroadcast
    on arrays): what np.sum and np.reshape call, without their wrappers."""
    if g.shape == shape:
        return g
    summed: np.ndarray = np.add.reduce(g, axis=broadcast_axes(g.shape, shape))
    return summed.reshape(shape)


# ------------------------------------------------------------ numpy kernels


def sigmoid(x: Any) -> Any:
    return np.exp(-np.logaddexp(0, -x))


def logsumexp(x: np.ndarray, axis: Axis = None, keepdims: bool = False) -> Any:
    # initial=-inf: the logsumexp of nothing is -inf, as in PyTorch
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0).astype(x.dtype)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def softmax(x: np.ndarray, axis: int = -1) -> Any:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True, initial=-np.inf))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x: np.ndarray, axis: int = -1) -> Any:
    return x - logsumexp(x, axis=axis, keepdims=True)


def unindex(g: np.ndarray, shape: Shape, key: Key) -> np.ndarray:
    out = np.zeros(shape, dtype=g.dtype)
    out[key] = g
    return out


def mean(x: Any, axis: Axis = None) -> Any:
    """np.mean of a float32 or float64 array, without its wrappers: the
    same sum (np.add.reduce) divided by the count as numpy divides it (an
    intp, so float32 divides in float64 and rounds once)."""
    if type(x) is not np.ndarray or x.dtype.char not in "fd":
        return np.mean(x, axis=axis)
    s = np.add.reduce(x, axis=axis)
    n = np.intp(reduced_size(x.shape, axis))
    if type(s) is np.ndarray:
        return np.true_divide(s, n, out=s, casting="unsafe")
    return s.dtype.type(s / n)


def power(x: Any, y: Any) -> Any:
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


def on_floats(f: Callable[[float], Any]) -> Callable[[float], float]:
    return lambda x: float(f(x))


def float_pow(x: float, y: float) -> float:
    if y == 0.5:
        return float(np.sqrt(x))  # as power
    ans: float = x**y  # or complex: Python's ** does not say which
    if type(ans) is complex:  # a negative number to a fractional power
        raise ValueError("complex power")
    return ans


def float_pow_vjp(g: float, ans: float, x: float, y: float) -> tuple[float, float]:
    dx = 0.0 if y == 0 else g * (y * float_pow(x, y - 1.0))
    dy = 0.0 if x == 0 and y >= 0 else g * (ans * float(np.log(x)))
    return dx, dy


def float_sign(x: float) -> float:
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0 if x == 0 else x  # nan stays


# ------------------------------------------------------------- speed helpers
# The `fast=` slot: a shortcut tried before the op's VJP formula.  It returns
# None where it does not apply, and otherwise the very bits the formula in
# the table gives: the same operations in the same order, only without the
# formula's temporaries (tests/test_ops.py compares the two).


def plain(g: Any, ans: Any) -> bool:
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


def tanh_fast(g: Any, ans: Any, x: Any) -> Any:
    """tanh's formula g * (1 - ans*ans), the same operations in one buffer."""
    if plain(g, ans):
        out = np.multiply(ans, ans)
        np.subtract(1.0, out, out=out)
        return np.multiply(g, out, out=out)
    return None


def sigmoid_fast(g: Any, ans: Any, x: Any) -> Any:
    """sigmoid's formula g * (ans * (1 - ans)), in one buffer."""
    if plain(g, ans):
        out = np.subtract(1.0, ans)
        np.multiply(ans, out, out=out)
        return np.multiply(g, out, out=out)
    return None


def pow_dx_fast(g: Any, ans: Any, x: Any, y: Any) -> Any:
    """ops' `pow_dx` for a constant exponent (x ** 2): its mask is all False, so
    these are its very operations, without the mask and its copy."""
    if (
        type(x) is np.ndarray
        and type(g) is not Tensor
        and type(y) is not Tensor
        and (type(y) is not np.ndarray or y.ndim == 0)
        and y != 0
    ):
        # x ** 1.0 is x to the bit (C's pow is exact there): skip it for x ** 2.
        d = g * (y * (x if y == 2 else power(x, y - 1.0)))
        if type(d) is np.ndarray and d.dtype == x.dtype:
            return sum_to(d, x.shape)
    return None


def mean_fast(g: Any, ans: Any, x: Any, axis: Axis = None) -> Any:
    """mean's formula expand(g) / n for the mean of everything: g / n in
    every element, computed once.  The formula divides a zero-stride view,
    whose result numpy lays out in C order as this is (a gradient's layout
    decides the order in which later reductions add it up, so it must not
    change)."""
    if type(g) is not Tensor and type(x) is np.ndarray and x.ndim and g.size == 1:
        each = (g / float(reduced_size(x.shape, axis))).reshape(())
        d = np.empty(x.shape, dtype=each.dtype)
        d.fill(each)
        return d
    return None


def with_fast(fast: VJP, formula: VJP) -> VJP:
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


def at_zero(ans: Any, x: Any) -> Any:
    return np.any(x == 0)


def share(x: Any, y: Any, wins: Callable[[Any, Any], Any]) -> Any:
    """x's share of what maximum/minimum pass on (plain arrays): 1 where
    `wins(x, y)`, 1/2 on ties, 0 elsewhere."""
    return wins(x, y) + 0.5 * (x == y)


def tie(ans: Any, x: Any, y: Any) -> Any:
    return np.any(x == y)


def at_bound(ans: Any, x: Any, lo: Any, hi: Any) -> Any:
    return np.any((x == lo) | (x == hi))


def tie_in_reduction(ans: Any, x: Any, axis: Axis = None) -> Any:
    ans = ans if axis is None else np.expand_dims(ans, axis)
    return np.any(np.sum(x == ans, axis=axis) > 1)
