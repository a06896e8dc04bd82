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

# Data from files (datafiles.py): the compiler reads the file when it meets
# the call, so the array is a constant and its binding an input.
FUNCTIONS["load"] = Fn(
    "const",
    static={"file": REQUIRED, "column": None},
    usage='load("file", column=None)',
    summary="an array read from a .csv, .tsv, .txt, .dat, .npy or .json file; column= "
    "picks one column, by its header name or its index from 0",
    notes="paths are relative to the file's directory and may not lead outside it "
    "(--allow-read DIR); an input, replaceable with --set",
)
