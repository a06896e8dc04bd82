"""Random programs for the tests: smooth programs for finite-difference
checks (hypothesis strategies) and scalar programs for the float path.

A support module, so that test files share generators without importing
one another.
"""

import random

import numpy as np
from hypothesis import strategies as st


def draw_number(draw, lo=-2.0, hi=2.0):
    return round(draw(st.floats(lo, hi, allow_nan=False, allow_infinity=False)), 3)


def _fmt(v: float) -> str:
    # repr round-trips exactly in float64 and is always a valid literal
    # (possibly with a leading '-', which the language parses as negation).
    return repr(float(v))


def _lit(a) -> str:
    """A numpy array as a (nested) list literal, or a number."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        return _fmt(a)
    return "[" + ", ".join(_lit(x) for x in a) + "]"


class Prog:
    """A generated program, re-renderable with other param/input values."""

    def __init__(self, leaves, body):
        # leaves: [(name, is_param, value)]; each value a float or nested list
        self.leaves = [(n, p, np.asarray(v, dtype=float)) for n, p, v in leaves]
        self.body = body  # the other statements, as fixed text

    def text(self, override=None):
        lines = []
        for name, is_param, val in self.leaves:
            if override and name in override:
                val = override[name]
            lines.append(("param " if is_param else "") + f"{name} = {_lit(val)}")
        return "\n".join(lines + self.body) + "\n"

    def __repr__(self):
        return "Prog:\n" + self.text()


def _expr(draw, env, size, depth):
    """Text of a smooth expression of shape () (size 0) or (size,)."""
    scalars = [n for n, s in env if s == 0]
    vectors = [(n, s) for n, s in env if s > 0]
    same = [n for n, s in vectors if s == size]
    sub = lambda sz, d=depth - 1: _expr(draw, env, sz, d)  # noqa: E731

    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        # leaves
        if size == 0:
            options = (
                ["const"]
                + (["scalar"] * 3 if scalars else [])
                + (["elem", "red"] if vectors else [])
            )
            kind = draw(st.sampled_from(options))
            if kind == "const":
                return _fmt(draw_number(draw, -1.5, 1.5))
            if kind == "scalar":
                return draw(st.sampled_from(scalars))
            name, n = draw(st.sampled_from(vectors))
            if kind == "elem":
                return f"{name}[{draw(st.integers(-n, n - 1))}]"
            return f"{draw(st.sampled_from(['sum', 'mean']))}({name})"
        if same and draw(st.integers(0, 2)):
            return draw(st.sampled_from(same))
        return "[" + ", ".join(sub(0, 0) for _ in range(size)) + "]"

    kinds = ["unary", "unary", "binop", "binop", "div", "square", "exp", "neg"]
    if size == 0:
        kinds += ["reduce", "index", "dot", "lse"]
    else:
        kinds += ["list", "reverse", "softmax"]
    kind = draw(st.sampled_from(kinds))
    if kind == "unary":
        f = draw(st.sampled_from(["sin", "cos", "tanh", "sigmoid", "softplus"]))
        return f"{f}({sub(size)})"
    if kind == "exp":
        return f"exp(tanh({sub(size)}))"
    if kind == "square":
        inner = sub(size)
        return draw(st.sampled_from([f"({inner})**2", f"tanh({inner}) ** 2"]))
    if kind == "neg":
        return f"-({sub(size)})"
    if kind == "binop":
        op = draw(st.sampled_from(["+", "-", "*"]))
        # broadcasting: for a vector result one side may be a scalar
        if size and draw(st.booleans()):
            a, b = sub(size), sub(0)
            if draw(st.booleans()):
                a, b = b, a
        else:
            a, b = sub(size), sub(size)
        return f"({a}) {op} ({b})"
    if kind == "div":
        a = sub(size)
        b = sub(draw(st.sampled_from([0, size])))
        den = draw(
            st.sampled_from([f"(2 + ({b})*({b}))", f"(1 + sigmoid({b}))", f"(1.5 + cos({b}))"])
        )
        return f"({a}) / {den}"
    if kind == "reduce":
        n = draw(st.integers(2, 3))
        return f"{draw(st.sampled_from(['sum', 'mean']))}({sub(n)})"
    if kind == "lse":
        return f"logsumexp({sub(draw(st.integers(2, 3)))})"
    if kind == "index":
        n = draw(st.integers(2, 3))
        return f"({sub(n)})[{draw(st.integers(-n, n - 1))}]"
    if kind == "dot":
        n = draw(st.integers(2, 3))
        a, b = sub(n), sub(n)
        return draw(st.sampled_from([f"dot({a}, {b})", f"({a}) @ ({b})"]))
    if kind == "list":
        return "[" + ", ".join(sub(0) for _ in range(size)) + "]"
    if kind == "reverse":
        return f"({sub(size)})[::-1]"
    if kind == "softmax":
        return f"softmax({sub(size)})"
    raise AssertionError(kind)


@st.composite
def smooth_programs(draw):
    leaves, env = [], []
    for i in range(draw(st.integers(1, 3))):
        size = draw(st.sampled_from([0, 0, 2, 3]))
        vals = [draw_number(draw) for _ in range(size)] if size else draw_number(draw)
        leaves.append((f"p{i}", True, vals))
        env.append((f"p{i}", size))
    if draw(st.booleans()):  # an input: its gradient is reported too
        size = draw(st.sampled_from([0, 2]))
        leaves.append(
            ("c", False, [draw_number(draw) for _ in range(size)] if size else draw_number(draw))
        )
        env.append(("c", size))
    body = []
    for j in range(draw(st.integers(1, 5))):
        size = draw(st.sampled_from([0, 2, 3]))
        body.append(f"n{j} = {_expr(draw, env, size, draw(st.integers(1, 3)))}")
        env.append((f"n{j}", size))
    # the scalar target: a sum over a few of the names
    picks = draw(st.lists(st.sampled_from(env), min_size=1, max_size=3, unique=True))
    terms = [f"sum({n})" if s else n for n, s in picks]
    if draw(st.booleans()):  # always involve the last node
        n, s = env[-1]
        terms.append(f"mean({n})" if s else f"0.5 * {n}")
    body.append("L = " + " + ".join(terms))
    return Prog(leaves, body)


def random_scalar_program(rng: random.Random) -> str:
    """Scalars mostly, with an array or two feeding them (sum, index)."""
    lines = ["param p = 0.9", "param q = -0.35", "v = [0.5, -1.5, 2.0]", "x0 = 0.25"]
    names = ["p", "q", "x0", "sum(v)", "v[1]", "2", "0.5"]
    unary = ["tanh", "exp", "sin", "cos", "sigmoid", "relu", "abs", "softplus", "-"]
    for i in range(1, 25):
        a, b = rng.choice(names), rng.choice(names)
        r = rng.random()
        if r < 0.45:
            e = f"{a} {rng.choice(['+', '-', '*', '/'])} {b}"
        elif r < 0.6:
            e = f"{rng.choice(unary)}({a})"
        elif r < 0.7:
            e = f"abs({a}) ** {rng.choice(['2', '0.5', '1.5', '-1', b])}"
        elif r < 0.8:
            e = f"{rng.choice(['maximum', 'minimum'])}({a}, {b})"
        elif r < 0.85:
            e = f"clip({a}, -1, {b})"
        elif r < 0.9:
            e = f"sqrt(abs({a}) + 1)"
        else:
            e = f"sum(v * {a})"
        lines.append(f"x{i} = {e}")
        names.append(f"x{i}")
    lines.append("L = " + " + ".join(names[-4:]))
    return "\n".join(lines) + "\n"
