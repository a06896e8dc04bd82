"""The functions a .expr file can call, and how their arguments bind.

Each entry names the op it builds (ops.py), its array arguments (expressions,
differentiable) and its static arguments (constants fixed when the graph is
built: shapes, axes, counts, seeds).  Binding follows Python: positional,
then keyword.
"""

from __future__ import annotations

from dataclasses import dataclass, field

REQUIRED = object()


@dataclass(frozen=True)
class Fn:
    op: str
    arrays: tuple = ()            # names of the array (differentiable) arguments
    static: dict = field(default_factory=dict)  # name -> default (REQUIRED if none)
    varargs: str | None = None    # name of a trailing list of integers (a shape)
    floats: tuple = ()            # static arguments that are real numbers, not integers
    usage: str = ""


def _unary(op):
    return Fn(op, ("x",), usage=f"{op}(x)")


def _reduction(op):
    return Fn(op, ("x",), {"axis": None}, usage=f"{op}(x, axis=None)")


FUNCTIONS = {
    **{name: _unary(name) for name in ("exp", "log", "sqrt", "abs", "sin", "cos", "tan",
                                       "tanh", "sigmoid", "relu", "softplus")},
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
    "arange": Fn("arange", static={"start": REQUIRED, "stop": None, "step": 1.0},
                 floats=("start", "stop", "step"),
                 usage="arange(n) or arange(start, stop, step)"),
    "linspace": Fn("linspace", static={"start": REQUIRED, "stop": REQUIRED, "n": REQUIRED},
                   floats=("start", "stop"), usage="linspace(start, stop, n)"),
    "randn": Fn("randn", static={"seed": 0}, varargs="shape", usage="randn(d0, d1, ..., seed=0)"),
    "rand": Fn("rand", static={"seed": 0}, varargs="shape", usage="rand(d0, d1, ..., seed=0)"),
}
