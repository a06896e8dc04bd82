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

    __slots__ = (
        "op",
        "arrays",
        "static",
        "varargs",
        "floats",
        "usage",
        "summary",
        "notes",
        "many",
    )

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
        many: bool = False,
    ):
        self.op = op
        self.arrays = arrays  # names of the array (differentiable) arguments
        self.static = {} if static is None else static  # name -> default (REQUIRED if none)
        self.varargs = varargs  # name of a trailing list of integers (a shape)
        self.floats = floats  # static arguments that are real numbers, not integers
        self.usage = usage
        self.summary = summary  # one line on what it does (`functions`)
        self.notes = notes  # its conventions, where a derivative is one
        # any number of arrays (at least one), all positional; the static
        # arguments then go by keyword only
        self.many = many

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


def _math(op: str, summary: str, notes: str = "") -> Fn:
    return Fn(op, ("x",), usage=f"{op}(x)", summary=summary, notes=notes)


# Elementwise maths, comparisons and branches.
FUNCTIONS.update(
    {
        "asin": _math("asin", "inverse sine, in [-π/2, π/2]", "nan outside [-1, 1]"),
        "acos": _math("acos", "inverse cosine, in [0, π]", "nan outside [-1, 1]"),
        "atan": _math("atan", "inverse tangent, in (-π/2, π/2)"),
        "sinh": _math("sinh", "hyperbolic sine"),
        "cosh": _math("cosh", "hyperbolic cosine"),
        "asinh": _math("asinh", "inverse hyperbolic sine"),
        "acosh": _math("acosh", "inverse hyperbolic cosine", "nan below 1"),
        "atanh": _math("atanh", "inverse hyperbolic tangent", "nan outside [-1, 1]"),
        "log2": _math("log2", "logarithm in base 2", "nan below 0"),
        "log10": _math("log10", "logarithm in base 10", "nan below 0"),
        "expm1": _math("expm1", "exp(x) - 1, accurate for small x"),
        "erf": _math("erf", "the error function"),
        "erfc": _math("erfc", "the complementary error function, 1 - erf(x)"),
        "atan2": Fn(
            "atan2",
            ("y", "x"),
            usage="atan2(y, x)",
            summary="the angle of the point (x, y), in [-π, π]",
            notes="gradient 0 at (0, 0), as PyTorch's; a jump where y = 0 and x < 0",
        ),
        "sign": _math("sign", "-1, 0 or 1 by the sign of x", "gradient 0 everywhere, as PyTorch"),
        "floor": _math("floor", "the largest integer ≤ x", "gradient 0 everywhere, as PyTorch"),
        "ceil": _math("ceil", "the smallest integer ≥ x", "gradient 0 everywhere, as PyTorch"),
        "round": _math(
            "round",
            "the nearest integer, halves to even",
            "gradient 0 everywhere, as PyTorch",
        ),
        "where": Fn(
            "select",
            ("cond", "a", "b"),
            usage="where(cond, a, b)",
            summary="a where cond is nonzero, else b (broadcast together)",
            notes="the gradient goes to the branch taken, none to cond, as torch.where",
        ),
    }
)

# Products, variances, running sums, joins and linear algebra.
FUNCTIONS.update(
    {
        "prod": Fn(
            "prod",
            ("x",),
            {"axis": None},
            usage="prod(x, axis=None)",
            summary="product of the elements, of all or along one axis",
            notes="gradient: the product of the other elements, exact where some are zero "
            "(as PyTorch)",
        ),
        "var": Fn(
            "var",
            ("x",),
            {"axis": None, "correction": 1},
            floats=("correction",),
            usage="var(x, axis=None, correction=1)",
            summary="variance, the squared deviations summed over (n - correction)",
            notes="correction=1 (Bessel's) by default, as PyTorch; 0 gives numpy's np.var",
        ),
        "std": Fn(
            "std",
            ("x",),
            {"axis": None, "correction": 1},
            floats=("correction",),
            usage="std(x, axis=None, correction=1)",
            summary="standard deviation: the square root of var",
            notes="correction=1 by default, as PyTorch; gradient 0 where std is 0 (as PyTorch)",
        ),
        "cumsum": Fn(
            "cumsum",
            ("x",),
            {"axis": None},
            usage="cumsum(x, axis=None)",
            summary="running sum along an axis",
            notes="with no axis, of the flattened array (as numpy; PyTorch requires dim)",
        ),
        "concat": Fn(
            "concat",
            static={"axis": 0},
            many=True,
            usage="concat(a, b, ..., axis=0)",
            summary="arrays joined end to end along an existing axis",
        ),
        "stack": Fn(
            "stack_axis",
            static={"axis": 0},
            many=True,
            usage="stack(a, b, ..., axis=0)",
            summary="arrays of one shape stacked along a new axis",
        ),
        "diag": Fn(
            "diag",
            ("x",),
            usage="diag(x)",
            summary="a vector's diagonal matrix, or a matrix's diagonal (as numpy)",
        ),
        "trace": Fn("trace", ("x",), usage="trace(x)", summary="sum of a matrix's diagonal"),
        "outer": Fn(
            "outer",
            ("a", "b"),
            usage="outer(a, b)",
            summary="outer product of two vectors: a matrix",
        ),
        "det": Fn(
            "det",
            ("A",),
            usage="det(A)",
            summary="determinant of a square matrix, or of each in a stack",
            notes="gradient: the cofactor matrix, exact at singular matrices too (as "
            "PyTorch); its second derivative there is nan",
        ),
        "inv": Fn(
            "inv",
            ("A",),
            usage="inv(A)",
            summary="inverse of a square matrix, or of each in a stack",
            notes="a singular matrix gives nan (numpy and PyTorch raise)",
        ),
        "solve": Fn(
            "solve",
            ("A", "b"),
            usage="solve(A, b)",
            summary="x with A @ x = b; b a vector, or a matrix of columns (stacks broadcast)",
            notes="b is a vector only when it has one dimension (numpy 2's rule); a "
            "singular A gives nan",
        ),
    }
)
