"""A local derivative in symbols, read off a binding's right side as
written: ∂(element i of binding k)/∂(element j of binding n).

Each op's local derivative is the op table's `local` text with the
arguments' text put in (``mul``: ``y``, ``tanh``: ``1 - tanh(x)²``); terms
that do not involve the name are dropped and 1s are multiplied out.  Where
that would be unreadable (an op whose local derivative is a whole
Jacobian, such as softmax, or a long result) there is no symbol, and
`explain` writes the factor ∂c/∂b1|local.  The right side is walked with an
explicit stack.
"""

from __future__ import annotations

import math
import re

import numpy as np

from .. import ops as op_table
from .. import (
    ops_math,  # noqa: F401  (registers its ops, comparisons among them)
    shapes,
)
from ..render import fmt_number
from .algebra import (
    ATOM,
    CMP,
    NEG,
    ONE,
    POW,
    PROD,
    SUM,
    ZERO,
    balanced,
    classify,
    s_add,
    s_mul,
    s_neg,
    s_num,
    s_render,
    s_text,
    wrap,
)
from .elements import broadcast_index, flat_index, index_source, index_text, unflat_index
from .notation import MINUS

SYMBOL_BUDGET = 400  # (sub-expression, element) pairs per symbolic factor
TEXT_LIMIT = 200  # longer sub-expression texts are not shown at all

_LITERAL = re.compile(r"-?\s*(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_TIES = re.compile(r"\s*\([^()]*ties\)")

# The language's operators, from the op table: {op: (symbol, precedence)},
# each grammar level taken to explain's precedences.  A unary sign counts as
# looser than a product, so that -a * b is written (-a) * b, as unambiguous.
_LEVELS = {"comparison": CMP, "sum": SUM, "unary": NEG, "product": PROD, "power": POW}
_OPERATORS = {
    op.name: (op.syntax[0], _LEVELS[op.syntax[1]]) for op in op_table.OPS.values() if op.syntax
}


def _expands(op) -> bool:
    """Whether `op` is a reduction whose local derivative is the same number
    for every element (sum's 1, mean's 1/n, n the count): its derivative is
    then that number times the sum of its elements' derivatives."""
    if op.shape not in (shapes.reduced, shapes.nonempty_reduced) or len(op.local) != 1:
        return False
    return set(re.findall(r"[A-Za-z_]\w*", op.local[0])) <= {"n"}


_EXPANDED = {op.name for op in op_table.OPS.values() if _expands(op)}
# Ops that move elements without changing them: each element of the result
# is one element of an argument, and `_Reader.mapped` says which.  Only
# explain knows these element maps, so the list is its own.
_MAPS = ("index", "stack", "transpose", "reshape")


class _Opaque(Exception):
    """The derivative would be unreadable: write ∂c/∂b1 instead."""


def local_symbol(ex, k, i, n, j):
    """∂(element i of binding k)/∂(element j of binding n), both flat
    indices, in symbols; None where it cannot be written readably.  `ex` is
    the `Explainer` that holds the model, its values and its bindings."""
    try:
        return _Reader(ex, k, i, n, j).derive()
    except _Opaque:
        return None


def _normalise(text) -> str:
    """Source text on one line, comments dropped."""
    if "\n" in text or "#" in text:
        text = " ".join(re.sub(r"#[^\n]*", "", text).split())
    return text


class _Reader:
    """∂(element i of binding k)/∂(element j of binding n), read off binding
    k's right side; one instance per factor."""

    def __init__(self, ex, k, i, n, j):
        self.ex = ex
        self.stmt = ex.bindings[k].statement
        self.k = k
        self.i = unflat_index(i, ex.shapes[ex.bindings[k].node])
        self.n = n
        self.name = ex.bindings[n].name
        self.j = unflat_index(j, ex.shapes[ex.bindings[n].node])
        self.inv = ex.involves(k, n)

    def derive(self):
        """The symbol text, or None when it cannot be written readably."""
        memo = {}
        root = self.stmt.root
        stack = [(root, self.i, False)]
        while stack:
            e, idx, ready = stack.pop()
            key = (id(e), idx)
            if key in memo:
                continue
            kind, kids = self.plan(e, idx)
            if not ready:
                pending = [(c, ci) for c, ci in kids if (id(c), ci) not in memo]
                if pending:
                    if len(memo) + len(stack) > SYMBOL_BUDGET:
                        return None
                    stack.append((e, idx, True))
                    stack.extend((c, ci, False) for c, ci in pending)
                    continue
            memo[key] = self.combine(e, idx, kind, [memo[(id(c), ci)] for c, ci in kids])
        text = s_render(memo[(id(root), self.i)][2])[0]
        return text.replace("-", MINUS)

    # What an Expr at an element needs: its kind of rule and the
    # (sub-expression, element) pairs it is made of.
    def plan(self, e, idx):
        ex = self.ex
        if e.kind == "name":
            return ("const" if e.const else "name"), []
        if e.const:
            return "const", []
        op = ex.graph.ops[e.gid]
        name = op.name
        shape = ex.shapes[e.gid]
        involved = id(e) in self.inv
        if op.shape is shapes.same or op.shape is shapes.broadcast:
            if not involved and not shape:
                return "source", []
            args = ex.array_args(e)
            return "elementwise", [(a, broadcast_index(idx, shape, ex.shapes[a.gid])) for a in args]
        if name in _MAPS:
            if not involved and not shape:
                return "source", []
            return "map", [self.mapped(e, idx, name)]
        if not involved:
            return "source", []
        args = ex.array_args(e)
        if name in _EXPANDED:
            x = args[0]
            return "reduce", [
                (x, s)
                for s in self.reduced(idx, ex.shapes[x.gid], ex.graph.attrs[e.gid].get("axis"))
            ]
        if name == "matmul":
            a, b = args
            return "matmul", self.matmul_pairs(idx, a, b)
        raise _Opaque()

    def mapped(self, e, idx, name):
        ex = self.ex
        attrs = ex.graph.attrs[e.gid]
        if name == "stack":
            return ex.array_args(e)[idx[0]], idx[1:]
        x = e.args[0]
        in_shape = ex.shapes[x.gid]
        if name == "index":
            return x, index_source(idx, attrs["key"], in_shape)
        if name == "transpose":
            return x, tuple(reversed(idx))
        return x, unflat_index(flat_index(idx, ex.shapes[e.gid]), in_shape)  # reshape

    def reduced(self, idx, in_shape, axis):
        if len(in_shape) and math.prod(in_shape) > SYMBOL_BUDGET:
            raise _Opaque()
        if axis is None:
            return [unflat_index(f, in_shape) for f in range(math.prod(in_shape))]
        axis %= len(in_shape)
        return [idx[:axis] + (m,) + idx[axis:] for m in range(in_shape[axis])]

    def matmul_pairs(self, idx, a, b):
        sa, sb = self.ex.shapes[a.gid], self.ex.shapes[b.gid]
        inner = sa[-1]
        if inner > SYMBOL_BUDGET:
            raise _Opaque()
        # stacks of matrices: the leading axes index the pair of matrices,
        # an operand's axes of size 1 broadcast (always its index 0)
        nb = len(idx) - (len(sa) > 1) - (len(sb) > 1)
        batch, rest = idx[:nb], idx[nb:]
        rows = rest[:1] if len(sa) > 1 else ()
        cols = rest[-1:] if len(sb) > 1 else ()
        pa = tuple(0 if d == 1 else i for d, i in zip(sa[:-2], batch[nb - len(sa[:-2]) :]))
        pb = tuple(0 if d == 1 else i for d, i in zip(sb[:-2], batch[nb - len(sb[:-2]) :]))
        out = []
        for m in range(inner):
            out.append((a, pa + rows + (m,)))
            out.append((b, pb + (m,) + cols))
        return out

    # Putting an Expr together from its parts: (text, precedence, Sym, number
    # or None), where the Sym is the derivative and the number is set for a
    # literal constant, which then folds into coefficients.
    def combine(self, e, idx, kind, parts):
        ex = self.ex
        if kind == "name":
            k = ex.of_node[ex.model.by_name[e.data].node]
            text = f"{e.data}[{index_text(idx)}]" if idx else e.data
            d = ONE if (k == self.n and idx == self.j) else ZERO
            return _limit(text), ATOM, d, None
        if kind == "const":
            return self.constant(e, idx)
        if kind == "source":
            return self.source(e, idx)
        if kind == "map":
            return parts[0]
        op = ex.graph.ops[e.gid]
        if kind == "elementwise":
            text, prec = self.written(e, op.name, parts)
            d = ZERO
            if id(e) in self.inv:
                terms = []
                env = {v: (p[0], p[1], p[3]) for v, p in zip(op.args, parts)}
                for pos, p in enumerate(parts):
                    if p[2]:
                        terms.append(s_mul(self.local(e, op, pos, env), p[2]))
                d = s_add(*terms)
            return text, prec, d, None
        text, prec = self.source(e, idx)[:2]
        if kind == "reduce":
            n = len(parts)
            local = _template(op.local[0], {"n": (str(n), ATOM, float(n))})
            return text, prec, s_mul(local, s_add(*[p[2] for p in parts])), None
        # matmul: a sum of products, each differentiated by mul's local rule
        # (its table entry is a whole Jacobian, `(·) @ yᵀ`, not one element's)
        mul = op_table.OPS["mul"]
        terms = []
        for pa, pb in zip(parts[0::2], parts[1::2]):
            env = {"x": (pa[0], pa[1], pa[3]), "y": (pb[0], pb[1], pb[3])}
            if pa[2]:
                terms.append(s_mul(_template(mul.local[0], env), pa[2]))
            if pb[2]:
                terms.append(s_mul(_template(mul.local[1], env), pb[2]))
        return text, prec, s_add(*terms), None

    def local(self, e, op, pos, env):
        """The op table's local derivative of `e` for argument `pos`."""
        if op.name == "pow" and pos == 0:  # y·x^(y-1) worked out for a literal y
            return _pow_base_local(env)
        tmpl = op.local[pos]
        fixed = {}
        if e is self.stmt.root and e.kind == "call":
            own = f"{op.notation or op.name}(x)"
            if own in tmpl:
                # the binding's own value: 1 - tanh(x)² is 1 - h² for h = tanh(...)
                fixed["\0"] = self.ex.label(self.k, self.i)
                tmpl = tmpl.replace(own, "\0")
        return _template(tmpl, env, fixed)

    def constant(self, e, idx):
        ex = self.ex
        value = ex.values[e.gid]
        if np.ndim(value):
            v = float(np.asarray(value)[idx])
            text = fmt_number(v)
            return text, (NEG if text.startswith("-") else ATOM), ZERO, v
        text, prec = self.written_source(e)
        number = float(value) if _LITERAL.fullmatch(text) else None
        return text, prec, ZERO, number

    def written_source(self, e):
        text = _limit(_normalise(e.span.text))
        if e.kind in ("number", "name", "call", "index", "list") or balanced(text):
            return text, ATOM
        if e.kind == "op":
            return text, _OPERATORS[e.data][1]
        return text, classify(text)

    def source(self, e, idx):
        """An Expr the name is not in (or a whole reduction or product), as
        written, with the element picked out: `(X @ w)[3]`."""
        text, prec = self.written_source(e)
        if self.ex.shapes[e.gid]:
            text, prec = _limit(f"{wrap(text, prec, ATOM)}[{index_text(idx)}]"), ATOM
        return text, prec, ZERO, None

    def written(self, e, name, parts):
        """An elementwise Expr written out at one element."""
        if e.kind == "call":
            return _limit(f"{e.data}({', '.join(p[0] for p in parts)})"), ATOM
        symbol, prec = _OPERATORS[name]
        if prec == NEG:
            return _limit(symbol + wrap(parts[0][0], parts[0][1], NEG)), NEG
        (lt, lp), (rt, rp) = parts[0][:2], parts[1][:2]
        if prec == POW:  # right-associative, and binds tighter than a unary minus
            left, right = wrap(lt, lp, ATOM), wrap(rt, rp, NEG)
        elif prec == CMP:  # comparisons do not chain: a comparison in one is bracketed
            left, right = wrap(lt, lp, prec + 1), wrap(rt, rp, prec + 1)
        else:
            left, right = wrap(lt, lp, prec), wrap(rt, rp, prec + 1)
        return _limit(f"{left} {symbol} {right}"), prec


def _limit(text):
    """A sub-expression's text, or … where it is too long to show."""
    return text if len(text) <= TEXT_LIMIT else "…"


def _pow_base_local(env):
    """∂(x ** y)/∂x: the op table's y·x^(y-1), worked out for a literal y."""
    xt, xp, _ = env["x"]
    yt, yp, y = env["y"]
    if y is None:
        tmpl = op_table.OPS["pow"].local[0].replace("(y-1)", "(\1)")
        return _template(tmpl, env, {"\1": f"{yt} - 1"})
    if y == 0:
        return ZERO
    e = y - 1
    if e == 0:
        return s_num(y)
    power = xt if xp == ATOM else f"({xt})"
    if e != 1:
        et = fmt_number(e)
        power += "^" + (et if classify(et) == ATOM else f"({et})")
    return s_mul(s_num(y), s_text(power, ATOM if e == 1 and xp == ATOM else POW))


def _template(tmpl, env, fixed=None):
    """A local-derivative text of the op table with the arguments' text put
    in for its variables, as a Sym."""
    tmpl = _TIES.sub("", tmpl).strip()
    negative = tmpl.startswith("-")
    if negative:
        tmpl = tmpl[1:]
    if tmpl == "0":  # a step or a comparison: no derivative to write
        sym = ZERO
    elif tmpl == "1":
        sym = ONE
    elif tmpl in env:
        text, prec, number = env[tmpl]
        sym = s_num(number) if number is not None else s_text(text, prec)
    elif tmpl.startswith("1/"):
        den = tmpl[2:]
        if den.startswith("(") and balanced(den):
            den = den[1:-1]
        if den in env:
            text, prec = env[den][:2]
        else:
            text = _substitute(den, env, fixed)
            prec = classify(text)
        sym = ((1.0, (), ((text, prec),)),)
    else:
        text = _substitute(tmpl, env, fixed)
        sym = s_text(text, classify(text))
    return s_neg(sym) if negative else sym


def _substitute(tmpl, env, fixed=None):
    """`tmpl` with each variable replaced by its text (bracketed unless it is
    an atom or a function's only argument) and each placeholder of `fixed`
    by its text, all in one pass."""
    if env:
        pattern = r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, env)) + r")(?![A-Za-z0-9_])"

        def put(m):
            text, prec = env[m.group(1)][:2]
            before = tmpl[: m.start()].rstrip()[-1:]
            after = tmpl[m.end() :].lstrip()[:1]
            # a function's argument or a side of a comparison: f(x), [x > 0]
            alone = before and before in "([,<>=≤≥" and after and after in ")],<>=≤≥"
            return text if prec == ATOM or alone else f"({text})"

        tmpl = re.sub(pattern, put, tmpl)
    for mark, text in (fixed or {}).items():
        tmpl = tmpl.replace(mark, text)
    return tmpl
