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


def _unary(op: str) -> Fn:
    return Fn(op, ("x",), usage=f"{op}(x)")


def _reduction(op: str) -> Fn:
    return Fn(op, ("x",), {"axis": None}, usage=f"{op}(x, axis=None)")


FUNCTIONS = {
    **{
        name: _unary(name)
        for name in (
            "exp",
            "log",
            "log1p",
            "sqrt",
            "abs",
            "sin",
            "cos",
            "tan",
            "tanh",
            "sigmoid",
            "relu",
            "softplus",
        )
    },
    "maximum": Fn("maximum", ("a", "b"), usage="maximum(a, b)"),
    "minimum": Fn("minimum", ("a", "b"), usage="minimum(a, b)"),
    "clip": Fn("clip", ("x", "lo", "hi"), usage="clip(x, lo, hi)"),
    **{name: _reduction(name) for name in ("sum", "mean", "max", "min", "logsumexp")},
    "norm": Fn("norm", ("x",), usage="norm(x)"),
    "transpose": Fn("transpose", ("x",), usage="transpose(x)"),
    "reshape": Fn("reshape", ("x",), varargs="shape", usage="reshape(x, d0, d1, ...)"),
    "dot": Fn("matmul", ("a", "b"), usage="dot(a, b)"),
    "softmax": Fn("softmax", ("x",), {"axis": -1}, usage="softmax(x, axis=-1)"),
    "log_softmax": Fn("log_softmax", ("x",), {"axis": -1}, usage="log_softmax(x, axis=-1)"),
    "zeros": Fn("zeros", varargs="shape", usage="zeros(d0, d1, ...)"),
    "ones": Fn("ones", varargs="shape", usage="ones(d0, d1, ...)"),
    "eye": Fn("eye", static={"n": REQUIRED}, usage="eye(n)"),
    "arange": Fn(
        "arange",
        static={"start": REQUIRED, "stop": None, "step": 1.0},
        floats=("start", "stop", "step"),
        usage="arange(n) or arange(start, stop, step)",
    ),
    "linspace": Fn(
        "linspace",
        static={"start": REQUIRED, "stop": REQUIRED, "n": REQUIRED},
        floats=("start", "stop"),
        usage="linspace(start, stop, n)",
    ),
    "randn": Fn("randn", static={"seed": 0}, varargs="shape", usage="randn(d0, d1, ..., seed=0)"),
    "rand": Fn("rand", static={"seed": 0}, varargs="shape", usage="rand(d0, d1, ..., seed=0)"),
}

# Elementwise maths, comparisons and branches.
FUNCTIONS.update({})

# Products, variances, running sums, joins and linear algebra.
FUNCTIONS.update({})
