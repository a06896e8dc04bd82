"""What to say to someone who writes numpy, PyTorch or textbook maths.

Names of functions people bring from elsewhere (`ln`, `arctan`, `matmul`,
`concatenate`) map to what the language calls them, or to the operator that
does the job; characters the language lacks (`^`, `W.T`, `np.exp`) get the
way to write them.  A near spelling is the last resort (`model.suggest`):
a wrong suggestion is worse than none.  This module imports nothing of the
package, so that the parser can use it.
"""

from __future__ import annotations

import re

# A name from numpy, PyTorch or maths -> the function the language has (an
# identifier, offered only where it exists), or what to write instead.
ALIASES = {
    # maths
    "ln": "log",
    "lg": "log10",
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "arcsinh": "asinh",
    "arccosh": "acosh",
    "arctanh": "atanh",
    "arctan2": "atan2",
    "sgn": "sign",
    "signum": "sign",
    "determinant": "det",
    "inverse": "inv",
    "tr": "trace",
    "variance": "var",
    "stdev": "std",
    "product": "prod",
    "average": "mean",
    # numpy
    "amax": "max",
    "amin": "min",
    "absolute": "abs",
    "fabs": "abs",
    "fmax": "maximum",
    "fmin": "minimum",
    "concatenate": "concat",
    "expit": "sigmoid",
    "cumulative_sum": "cumsum",
    "inner": "dot",
    "vdot": "dot",
    # PyTorch
    "cat": "concat",
    "clamp": "clip",
    "logsoftmax": "log_softmax",
    "logistic": "sigmoid",
    "t": "transpose",
    "permute": "transpose",
    "select": "where",
    "ifelse": "where",
    "if_else": "where",
    # operators and compositions
    "matmul": "write a @ b or dot(a, b)",
    "mm": "write a @ b or dot(a, b)",
    "bmm": "write a @ b (a stack of matrix products)",
    "einsum": "write a @ b, dot(a, b), transpose and sum",
    "power": "write x ** y",
    "pow": "write x ** y",
    "float_power": "write x ** y",
    "square": "write x ** 2",
    "exp2": "write 2 ** x",
    "rsqrt": "write 1 / sqrt(x)",
    "reciprocal": "write 1 / x",
    "negative": "write -x",
    "neg": "write -x",
    "add": "write a + b",
    "subtract": "write a - b",
    "sub": "write a - b",
    "multiply": "write a * b",
    "mul": "write a * b",
    "divide": "write a / b",
    "true_divide": "write a / b",
    "div": "write a / b",
    "flatten": "write reshape(x, -1)",
    "ravel": "write reshape(x, -1)",
    "view": "write reshape(x, d0, d1, ...)",
    "greater": "write a > b",
    "less": "write a < b",
    "equal": "write a == b",
}

# Names that come before a dot when people write numpy or PyTorch.
_MODULES = {"np", "numpy", "torch", "math", "jnp", "jax", "F", "scipy", "tf"}
_WORD_BEFORE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_WORD_AFTER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def alias_hint(name: str, functions) -> str:
    """' (did you mean ...?)' or '; write ...' for a function `name` known
    from elsewhere; "" when it is none (or its counterpart does not exist)."""
    target = ALIASES.get(name)
    if target is None:
        return ""
    if target.isidentifier():
        return f" (did you mean '{target}'?)" if target in functions else ""
    return f"; {target}"


def character_hint(text: str, pos: int) -> str:
    """What to write instead of the character at `pos` of `text`, which the
    language does not have ('; ...'), or ""."""
    ch = text[pos : pos + 1]
    if ch == "^":
        return "; write ** for a power (x ** 2)"
    if ch != ".":
        return ""
    before = _WORD_BEFORE.search(text, 0, pos)
    after = _WORD_AFTER.match(text, pos + 1)
    if before is None or after is None:
        return ""
    owner, attr = before.group(), after.group()
    if owner in _MODULES:
        return f"; functions are called by their name alone: {attr}(...)"
    if attr == "T" and not text[after.end() : after.end() + 1] == "(":
        return f"; write transpose({owner}) for {owner}.T"
    rest = text[after.end() : after.end() + 2]
    if rest[:1] == "(":
        call = f"{attr}({owner})" if rest == "()" else f"{attr}({owner}, ...)"
        return f"; functions are called by name, not as methods: {call}"
    return ""
