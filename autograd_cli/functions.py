"""The functions a .expr file can call, and how their arguments bind.

Each entry names the op it builds (ops.py), its array arguments (expressions,
differentiable) and its static arguments (constants fixed when the graph is
built: shapes, axes, counts, seeds).  Binding follows Python: positional,
then keyword.
"""

from __future__ import annotations

from typing import Any

REQUIRED = object()


class Fn:
    """A function's signature (a plain class: a dataclass costs an `exec` per
    method at every start)."""

    __slots__ = ("op", "arrays", "static", "varargs", "floats", "usage", "summary", "notes")

    def __init__(
        self,
        op: str,
        arrays: tuple[str, ...] = (),
        static: dict[str, Any] | None = None,
        varargs: str | None = None,
        floats: tuple[str, ...] = (),
        usage: str = "",
        summary: str = "",
        notes: str = "",
    ):
        self.op = op
        self.arrays = arrays  # names of the array (differentiable) arguments
        self.static = {} if static is None else static  # name -> default (REQUIRED if none)
        self.varargs = varargs  # name of a trailing list of integers (a shape)
        self.floats = floats  # static arguments that are real numbers, not integers
        self.usage = usage
        self.summary = summary  # one line on what it does (`functions`)
        self.notes = notes  # its conventions, where a derivative is one

    def __repr__(self) -> str:
        return f"Fn({self.op!r}, usage={self.usage!r})"


def _unary(op: str, summary: str, notes: str = "") -> Fn:
    return Fn(op, ("x",), usage=f"{op}(x)", summary=summary, notes=notes)


def _reduction(op: str, summary: str, notes: str = "") -> Fn:
    return Fn(op, ("x",), {"axis": None}, usage=f"{op}(x, axis=None)", summary=summary, notes=notes)


FUNCTIONS = {
    "exp": _unary("exp", "e to the power x, elementwise"),
    "log": _unary("log", "natural logarithm, elementwise", "log(0) = -inf; log(x < 0) = nan"),
    "log1p": _unary("log1p", "log(1 + x), accurate for small x"),
    "sqrt": _unary("sqrt", "square root, elementwise", "sqrt'(0) = inf, as PyTorch"),
    "abs": _unary("abs", "absolute value, elementwise", "abs'(0) = 0, as PyTorch"),
    "sin": _unary("sin", "sine (radians), elementwise"),
    "cos": _unary("cos", "cosine (radians), elementwise"),
    "tan": _unary("tan", "tangent (radians), elementwise"),
    "tanh": _unary("tanh", "hyperbolic tangent, elementwise"),
    "sigmoid": _unary("sigmoid", "logistic function 1/(1 + exp(-x)), elementwise"),
    "relu": _unary("relu", "max(x, 0), elementwise", "relu'(0) = 0, as PyTorch"),
    "softplus": _unary("softplus", "log(1 + exp(x)), elementwise, without overflow"),
    "maximum": Fn(
        "maximum",
        ("a", "b"),
        usage="maximum(a, b)",
        summary="the larger of a and b, elementwise (broadcast)",
        notes="a tie gives each side half the gradient, as PyTorch",
    ),
    "minimum": Fn(
        "minimum",
        ("a", "b"),
        usage="minimum(a, b)",
        summary="the smaller of a and b, elementwise (broadcast)",
        notes="a tie gives each side half the gradient, as PyTorch",
    ),
    "clip": Fn(
        "clip",
        ("x", "lo", "hi"),
        usage="clip(x, lo, hi)",
        summary="x limited to [lo, hi], elementwise; lo and hi may be arrays",
        notes="at a bound (x = lo or x = hi) the gradient goes to x, as PyTorch's clamp",
    ),
    "sum": _reduction("sum", "sum of the elements, or along axis"),
    "mean": _reduction("mean", "mean of the elements, or along axis"),
    "max": _reduction(
        "max", "largest element, or along axis", "tied maxima share the gradient evenly"
    ),
    "min": _reduction(
        "min", "smallest element, or along axis", "tied minima share the gradient evenly"
    ),
    "logsumexp": _reduction("logsumexp", "log(sum(exp(x))), or along axis, without overflow"),
    "norm": Fn(
        "norm",
        ("x",),
        usage="norm(x)",
        summary="Euclidean (L2) norm of all the elements",
        notes="norm'(0) = 0, as PyTorch",
    ),
    "transpose": Fn(
        "transpose", ("x",), usage="transpose(x)", summary="x with its axes reversed (W.T)"
    ),
    "reshape": Fn(
        "reshape",
        ("x",),
        varargs="shape",
        usage="reshape(x, d0, d1, ...)",
        summary="x's elements in a new shape; one dimension may be -1",
    ),
    "dot": Fn(
        "matmul",
        ("a", "b"),
        usage="dot(a, b)",
        summary="matrix or vector product, the same as a @ b",
    ),
    "softmax": Fn(
        "softmax",
        ("x",),
        {"axis": -1},
        usage="softmax(x, axis=-1)",
        summary="exp(x) / sum(exp(x)) along axis, without overflow",
    ),
    "log_softmax": Fn(
        "log_softmax",
        ("x",),
        {"axis": -1},
        usage="log_softmax(x, axis=-1)",
        summary="x - logsumexp(x) along axis",
    ),
    "zeros": Fn("zeros", varargs="shape", usage="zeros(d0, d1, ...)", summary="an array of zeros"),
    "ones": Fn("ones", varargs="shape", usage="ones(d0, d1, ...)", summary="an array of ones"),
    "eye": Fn("eye", static={"n": REQUIRED}, usage="eye(n)", summary="the n x n identity matrix"),
    "arange": Fn(
        "arange",
        static={"start": REQUIRED, "stop": None, "step": 1.0},
        floats=("start", "stop", "step"),
        usage="arange(n) or arange(start, stop, step)",
        summary="evenly spaced numbers from start up to (not including) stop",
    ),
    "linspace": Fn(
        "linspace",
        static={"start": REQUIRED, "stop": REQUIRED, "n": REQUIRED},
        floats=("start", "stop"),
        usage="linspace(start, stop, n)",
        summary="n evenly spaced numbers from start to stop, both included",
    ),
    "randn": Fn(
        "randn",
        static={"seed": 0},
        varargs="shape",
        usage="randn(d0, d1, ..., seed=0)",
        summary="standard normal random numbers (numpy's default_rng(seed))",
    ),
    "rand": Fn(
        "rand",
        static={"seed": 0},
        varargs="shape",
        usage="rand(d0, d1, ..., seed=0)",
        summary="uniform random numbers in [0, 1) (numpy's default_rng(seed))",
    ),
}

# Elementwise maths, comparisons and branches.
FUNCTIONS.update({})

# Products, variances, running sums, joins and linear algebra.
FUNCTIONS.update({})
