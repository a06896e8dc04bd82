"""The op table's elementwise maths: inverse trigonometric and hyperbolic
functions, logarithms in other bases, erf, atan2, the step functions
(sign, floor, ceil, round), the comparisons and `select` (the language's
``where(cond, a, b)``).

Declared with ops.py's `defop`, as the ops there are.  Each derivative is
written once, as a formula of the ops (``_d_asin(g, x)`` is ``g / sqrt(1 -
x²)``): the VJP calls it with the output's gradient, so the backward pass
can be traced and differentiated again, and the JVP with a batch of
tangents, which numpy broadcasts against the argument from the right.  The
two then do the same operations on each element, so forward and reverse
mode give the same bits.

Conventions follow PyTorch: the step functions have gradient 0 everywhere
(zeros, not an error); atan2's gradient at (0, 0) is 0, as PyTorch's;
comparisons give 0/1 arrays with no gradient; `select` passes the gradient
to the branch taken and none to the condition.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import kernels
from .core import OPS, raw
from .jvps import batch_size, lift
from .ops import ANS, NOTHING, add, defop, div, exp, mul, neg, sub, unbroadcast, where
from .shapes import broadcast, same

# ops.py's generic functions the formulas below use besides those imported
sqrt: Callable[..., Any] = OPS["sqrt"].apply

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# ------------------------------------------------------------------ helpers


def _zeros_jvp(tangents: Any, ans: Any, *args: Any, **attrs: Any) -> np.ndarray:
    """The JVP of a function whose derivative is 0 everywhere."""
    a = np.asarray(ans)
    return np.zeros((batch_size(tangents),) + a.shape, dtype=a.dtype)


def _zeros_vjp(g: Any, ans: Any, x: Any) -> np.ndarray:
    """A gradient of zeros for `x` (a constant: nothing of g or x is read)."""
    return np.zeros(np.shape(x), dtype=x.dtype)


def _unary(formula: Callable[..., Any]) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """A unary op's VJP and JVP from the one formula ``formula(g, ans, x)``,
    the derivative applied to `g` elementwise."""

    def vjp(g: Any, ans: Any, x: Any) -> Any:
        return formula(g, ans, x)

    def jvp(tangents: Any, ans: Any, x: Any) -> Any:
        out = formula(tangents[0], ans, x)
        return np.asarray(out, dtype=np.asarray(ans).dtype)

    vjp.__name__ = jvp.__name__ = formula.__name__
    return vjp, jvp


def _float(f: Callable[..., Any]) -> Callable[..., float]:
    """A numpy ufunc on Python floats, as a float: the function arrays
    use, so a float64 scalar gives the bits an array's element would."""
    return lambda *xs: float(f(*xs))


# -------------------------------------------------- erf without numpy's help


def _special() -> Any:
    """scipy.special, imported only when an array's erf is computed (never
    at start-up); None if SciPy is not installed."""
    try:
        return importlib.import_module("scipy.special")
    except ImportError:
        return None


def _erf_like(name: str, scalar: Callable[[float], float]) -> Callable[[Any], Any]:
    """erf or erfc on numpy values: the math module's on a single number
    (the bits the float kernel gives), SciPy's ufunc on an array (the math
    module's element by element where SciPy is missing)."""

    def forward(x: Any) -> Any:
        if np.ndim(x) == 0:
            return np.asarray(x).dtype.type(scalar(float(x)))
        special = _special()
        if special is not None:
            out: np.ndarray = getattr(special, name)(x)
            return out.astype(x.dtype, copy=False)
        return np.frompyfunc(scalar, 1, 1)(x).astype(x.dtype)

    forward.__name__ = name
    return forward


_erf = _erf_like("erf", math.erf)
_erfc = _erf_like("erfc", math.erfc)


# ------------------------------------------------------------ the formulas
# Each applies the derivative to g: a gradient in reverse mode, a batch of
# tangents in forward mode.


def _d_asin(g: Any, ans: Any, x: Any) -> Any:
    return div(g, sqrt(sub(1.0, mul(x, x))))


def _d_acos(g: Any, ans: Any, x: Any) -> Any:
    return neg(div(g, sqrt(sub(1.0, mul(x, x)))))


def _d_atan(g: Any, ans: Any, x: Any) -> Any:
    return div(g, add(1.0, mul(x, x)))


def _d_sinh(g: Any, ans: Any, x: Any) -> Any:
    return mul(g, OPS["cosh"].apply(x))  # (declared below)


def _d_cosh(g: Any, ans: Any, x: Any) -> Any:
    return mul(g, OPS["sinh"].apply(x))


def _d_asinh(g: Any, ans: Any, x: Any) -> Any:
    return div(g, sqrt(add(mul(x, x), 1.0)))


def _d_acosh(g: Any, ans: Any, x: Any) -> Any:
    return div(g, sqrt(sub(mul(x, x), 1.0)))


def _d_atanh(g: Any, ans: Any, x: Any) -> Any:
    return div(g, sub(1.0, mul(x, x)))


def _d_log2(g: Any, ans: Any, x: Any) -> Any:
    return div(g, mul(x, _LN2))


def _d_log10(g: Any, ans: Any, x: Any) -> Any:
    return div(g, mul(x, _LN10))


def _d_expm1(g: Any, ans: Any, x: Any) -> Any:
    return mul(g, add(ans, 1.0))


def _d_erf(g: Any, ans: Any, x: Any) -> Any:
    return mul(g, mul(_TWO_OVER_SQRT_PI, exp(neg(mul(x, x)))))


def _d_erfc(g: Any, ans: Any, x: Any) -> Any:
    return neg(mul(g, mul(_TWO_OVER_SQRT_PI, exp(neg(mul(x, x))))))


def _sqrt(v: float) -> float:
    """numpy's square root of a float: nan below 0, where math.sqrt raises
    (both are IEEE's correctly rounded square root elsewhere)."""
    return math.sqrt(v) if v >= 0 else math.nan


# The same on Python floats, operation for operation (the `scalar=` VJPs);
# where Python raises (x / 0) the run is done again on numpy (see
# engine.evaluate_floats).
_FLOAT_VJPS: dict[str, Callable[[float, float, float], float]] = {
    "asin": lambda g, ans, x: g / _sqrt(1.0 - x * x),
    "acos": lambda g, ans, x: -(g / _sqrt(1.0 - x * x)),
    "atan": lambda g, ans, x: g / (1.0 + x * x),
    "sinh": lambda g, ans, x: g * float(np.cosh(x)),
    "cosh": lambda g, ans, x: g * float(np.sinh(x)),
    "asinh": lambda g, ans, x: g / _sqrt(x * x + 1.0),
    "acosh": lambda g, ans, x: g / _sqrt(x * x - 1.0),
    "atanh": lambda g, ans, x: g / (1.0 - x * x),
    "log2": lambda g, ans, x: g / (x * _LN2),
    "log10": lambda g, ans, x: g / (x * _LN10),
    "expm1": lambda g, ans, x: g * (ans + 1.0),
    "erf": lambda g, ans, x: g * (_TWO_OVER_SQRT_PI * float(np.exp(-(x * x)))),
    "erfc": lambda g, ans, x: -(g * (_TWO_OVER_SQRT_PI * float(np.exp(-(x * x))))),
}


def _unary_op(
    name: str,
    forward: Callable[..., Any],
    scalar_forward: Callable[[float], float],
    formula: Callable[..., Any],
    local: str,
    saves: tuple[tuple[int, ...], bool] = ((0,), False),
) -> None:
    vjp, jvp = _unary(formula)
    defop(
        name,
        forward,
        same,
        vjp,
        local=(local,),
        saves=saves,
        jvp=jvp,
        scalar=(scalar_forward, _FLOAT_VJPS[name]),
    )


_unary_op("asin", np.arcsin, _float(np.arcsin), _d_asin, "1/sqrt(1 - x²)")
_unary_op("acos", np.arccos, _float(np.arccos), _d_acos, "-1/sqrt(1 - x²)")
_unary_op("atan", np.arctan, _float(np.arctan), _d_atan, "1/(1 + x²)")
_unary_op("sinh", np.sinh, _float(np.sinh), _d_sinh, "cosh(x)")
_unary_op("cosh", np.cosh, _float(np.cosh), _d_cosh, "sinh(x)")
_unary_op("asinh", np.arcsinh, _float(np.arcsinh), _d_asinh, "1/sqrt(x² + 1)")
_unary_op("acosh", np.arccosh, _float(np.arccosh), _d_acosh, "1/sqrt(x² - 1)")
_unary_op("atanh", np.arctanh, _float(np.arctanh), _d_atanh, "1/(1 - x²)")
_unary_op("log2", np.log2, _float(np.log2), _d_log2, "1/(x·ln 2)")
_unary_op("log10", np.log10, _float(np.log10), _d_log10, "1/(x·ln 10)")
_unary_op("expm1", np.expm1, _float(np.expm1), _d_expm1, "expm1(x) + 1", saves=ANS)
_unary_op("erf", _erf, math.erf, _d_erf, "2/√π·exp(-x²)")
_unary_op("erfc", _erfc, math.erfc, _d_erfc, "-2/√π·exp(-x²)")


# ------------------------------------------------------------------- atan2


def _atan2_recip(y: Any, x: Any) -> Any:
    """1/(x² + y²), and 0 where that is infinite: PyTorch's convention, which
    makes the gradient 0 at (0, 0) (and where x² + y² underflows)."""
    recip = div(1.0, add(mul(x, x), mul(y, y)))
    r = raw(recip)
    return where(np.zeros((), r.dtype), recip, cond=np.isinf(r))


def _atan2_dy(g: Any, ans: Any, y: Any, x: Any) -> Any:
    """g·x/(x² + y²), in PyTorch's order: (g·x)·recip."""
    return mul(mul(g, x), _atan2_recip(y, x))


def _atan2_dx(g: Any, ans: Any, y: Any, x: Any) -> Any:
    return mul(mul(g, neg(y)), _atan2_recip(y, x))


def _atan2_jvp(tangents: Any, ans: Any, y: Any, x: Any) -> Any:
    ty, tx = tangents
    ndim = np.ndim(ans)
    out: Any = None
    if ty is not None:
        out = _atan2_dy(lift(ty, ndim), ans, y, x)
    if tx is not None:
        dx = _atan2_dx(lift(tx, ndim), ans, y, x)
        out = dx if out is None else out + dx
    full = (batch_size(tangents),) + np.shape(ans)
    return np.broadcast_to(out, full).astype(np.asarray(ans).dtype)


def _float_atan2_vjp(g: float, ans: float, y: float, x: float) -> tuple[float, float]:
    r = x * x + y * y
    recip = 1.0 / r if r != 0 else math.inf
    if recip == math.inf:
        recip = 0.0
    return g * x * recip, g * -y * recip


defop(
    "atan2",
    np.arctan2,
    broadcast,
    lambda g, ans, y, x: unbroadcast(_atan2_dy(g, ans, y, x), y.shape),
    lambda g, ans, y, x: unbroadcast(_atan2_dx(g, ans, y, x), x.shape),
    args=("y", "x"),
    local=("x/(x² + y²)", "-y/(x² + y²)"),
    saves=((0, 1), False),
    kinks=("atan2 on its branch cut (y = 0, x ≤ 0)", lambda ans, y, x: np.any((y == 0) & (x <= 0))),
    jvp=_atan2_jvp,
    scalar=(_float(np.arctan2), _float_atan2_vjp),
)


# ------------------------------------------------------- the step functions


def _at_integer(ans: Any, x: Any) -> Any:
    return np.any(np.isfinite(x) & (x == np.floor(x)))


def _at_half(ans: Any, x: Any) -> Any:
    return np.any(np.isfinite(x) & (x - np.floor(x) == 0.5))


for _name, _forward, _kink in (
    ("sign", np.sign, ("sign at 0", kernels.at_zero)),
    ("floor", np.floor, ("floor at an integer", _at_integer)),
    ("ceil", np.ceil, ("ceil at an integer", _at_integer)),
    ("round", np.rint, ("round halfway between integers", _at_half)),
):
    defop(
        _name,
        _forward,
        same,
        _zeros_vjp,
        local=("0",),
        saves=NOTHING,
        kinks=_kink,
        jvp=_zeros_jvp,
        scalar=(
            kernels.float_sign if _name == "sign" else _float(_forward),
            lambda g, ans, x: 0.0,
        ),
    )
del _name, _forward, _kink


# -------------------------------------------------------------- comparisons


def _comparison(f: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """A comparison as 0/1 numbers of the arguments' dtype."""

    def forward(x: Any, y: Any) -> Any:
        return f(x, y).astype(np.result_type(x, y))

    forward.__name__ = f.__name__
    return forward


def _no_tangent(tangents: Any, ans: Any, x: Any, y: Any) -> None:
    """A comparison's output has no derivative."""
    return None


# Comparisons have no VJPs: the engine passes no gradient through them.
for _name, _ufunc, _symbol in (
    ("lt", np.less, "<"),
    ("le", np.less_equal, "<="),
    ("gt", np.greater, ">"),
    ("ge", np.greater_equal, ">="),
    ("eq", np.equal, "=="),
    ("ne", np.not_equal, "!="),
):
    defop(
        _name,
        _comparison(_ufunc),
        broadcast,
        args=("x", "y"),
        local=("0", "0"),
        saves=NOTHING,
        jvp=_no_tangent,
        syntax=(_symbol, "comparison"),
        # a step where the sides are equal: `check` must not trust differences there
        kinks=(f"{_symbol} with its sides equal", kernels.tie),
    )
del _name, _ufunc, _symbol


# ------------------------------------------------------------------ select
# where(cond, a, b): a where cond is nonzero, else b.  ops.py's `where` (a
# constant mask as an attribute) is what its VJPs use.


def _taken(c: Any) -> np.ndarray:
    """The condition as a mask: nonzero is true (nan too, as bool(nan))."""
    taken: np.ndarray = np.asarray(raw(c)) != 0
    return taken


def _select(c: Any, a: Any, b: Any) -> Any:
    return np.where(c != 0, a, b).astype(np.result_type(a, b))


def _select_jvp(tangents: Any, ans: Any, c: Any, a: Any, b: Any) -> Any:
    _, ta, tb = tangents
    ndim = np.ndim(ans)
    taken = _taken(c)
    dtype = np.asarray(ans).dtype
    zero = np.zeros((), dtype)
    out: Any = None
    if ta is not None:
        out = np.where(taken, lift(ta, ndim), zero)
    if tb is not None:
        db = np.where(taken, zero, lift(tb, ndim))
        out = db if out is None else out + db
    if out is None:  # a tangent for the condition only
        return _zeros_jvp(tangents, ans)
    return np.broadcast_to(out, (batch_size(tangents),) + np.shape(ans)).astype(dtype)


defop(
    "select",
    _select,
    broadcast,
    lambda g, ans, c, a, b: _zeros_vjp(g, ans, c),
    lambda g, ans, c, a, b: unbroadcast(
        where(g, np.zeros((), g.dtype), cond=_taken(c)),
        a.shape,
    ),
    lambda g, ans, c, a, b: unbroadcast(
        where(np.zeros((), g.dtype), g, cond=_taken(c)),
        b.shape,
    ),
    args=("cond", "a", "b"),
    local=("0", "[cond]", "[not cond]"),
    saves=((0,), False),
    jvp=_select_jvp,
    scalar=(
        lambda c, a, b: a if c != 0 else b,
        lambda g, ans, c, a, b: (0.0, g if c != 0 else 0.0, 0.0 if c != 0 else g),
    ),
)
