"""`explain`: the chain-rule derivation of one gradient, as a person writes it.

`explain(report, wrt)` derives the target's gradient with respect to one
name, or one element of it, the way the blog post this project grew from
does by hand::

    ∂L/∂w[0] = ∂L/∂c|local · ∂c/∂b1|local · ∂b1/∂w[0]|local = (−1) · w[3] · a1 = ...

``∂L/∂w[0]`` is the total derivative, eval's ``∂L/∂·``; a step's local
derivative is marked ``|local``, as the two differ when a name reaches a
binding by more than one path (y = u * v with v made from u: ∂y/∂u|local is
v, ∂y/∂u is more).  The text says so in a legend on its first line.

Paths run through the file's named bindings.  A path from the target down to
the chosen element is the product of the local derivatives between
consecutive names; the gradient is the sum over the paths.  For a tensor the
path follows single elements (``∂z[3]/∂w[0]|local = X[3, 0]``): the steps are the
entries of each binding's local Jacobian that depend on the chosen element.

Each factor has two faces:

- its number, computed with the engine: a backward sweep over the binding's
  own part of the graph, stopping at the names it uses, seeded with a one-hot
  at the chosen element.  The numbers are therefore exactly the op table's
  vector-Jacobian products, and they add up to what `eval` reports;
- its symbols, from a light symbolic differentiation of the right side as
  written: each op's local derivative is the op table's `local` text with the
  arguments' text put in (``mul``: ``y``, ``tanh``: ``1 - tanh(x)²``), terms
  that do not involve the name are dropped and 1s are multiplied out.  Where
  that would be unreadable (an op whose local derivative is a whole Jacobian,
  such as softmax, or a long result) the factor is written ``∂c/∂b1|local`` and
  only its number is given.

When there are more than `MAX_PATHS` paths (a reused node doubles them) the
derivation shows the reverse sweep instead: one line per named node, its
adjoint as the sum over the bindings that use it (the adjoint trace of
Baydin et al., "Automatic differentiation in machine learning: a survey",
JMLR 2018, Table 3).

The text is folded to the terminal's width, a derivation before the
operators between its factors, so that a long chain reads as lines of the
screen's width rather than as one line thousands of characters long; the
JSON is not folded.

Nothing here recurses over the input: graphs, paths and expressions are
walked with explicit stacks.
"""

from __future__ import annotations

import bisect
import math
import os
import re
import sys
import unicodedata

import numpy as np

from . import ops as _ops
from .core import CONST, LEAF, Graph
from .engine import backward, evaluate
from .errors import ExprError
from .render import TABLE_THRESHOLD, fmt_array, fmt_number, json_array, json_number

MAX_PATHS = 32          # more paths than this: show the reverse sweep
MAX_ROWS = 5000         # local-Jacobian rows examined while looking for paths
MAX_WORK = 2 * 10**7    # array elements those rows may sweep over, all told
SYMBOL_BUDGET = 400     # (sub-expression, element) pairs per symbolic factor
SYMBOL_WIDTH = 80       # a longer symbolic factor is written ∂c/∂b1|local
TEXT_LIMIT = 200        # longer sub-expression texts are not shown at all
INDENT = "    "         # before each continuation of a folded line
MIN_WIDTH = 20          # lines are folded to no fewer columns than this
PROSE, MATH, LAID_OUT = range(3)    # kinds of text line: how each is folded

MINUS = "\u2212"
MACRON = "\u0304"


# ================================================================ the API

def explain(report, wrt: str) -> dict:
    """The derivation of ∂target/∂`wrt`, as a JSON-ready dict.

    `wrt` is a binding's name (``w``, allowed when it has one element) or one
    element of it (``w[0]``, ``W[1, -1]``).  Returns::

        {"wrt": "w[0]",
         "explain": {"paths": [{"nodes": [...], "symbols": [...],
                                "factors": [...], "value": ...}, ...],
                     "total": ...}}

    where a path's "symbols" and "factors" are the local derivatives of its
    steps, in symbols and in numbers, its "value" their product, and "total"
    the sum over the paths, the gradient `eval` reports; with, when the
    target does not depend on `wrt`, no paths, a total of 0
    and a "note"; and, when the paths are too many to print, no paths, a
    "sweep" (one entry per named node, target first) and a "note" saying why.
    Raises `ExprError` for an unknown name or a bad element.
    """
    ex = _Explainer(report)
    wb, idx = _parse_wrt(report.model, wrt)
    return {"wrt": ex.label(wb, idx), "explain": ex.run(wb, idx)}


def render_explain(doc: dict, target_name: str, width: int | None = None) -> str:
    """The derivation as text: one blog-style line per path, then their sum;
    or the reverse sweep, one line per named node.

    A legend comes first whenever a local derivative is written out: the
    total ``∂L/∂x`` is what `eval` reports, a local one is marked
    ``∂c/∂b1|local``.  Each line is folded to `width` columns (None: the
    terminal's width, see `terminal_width`; 0: not folded), a derivation
    before the operators between its factors, prose between words, with
    continuation lines indented by four spaces.
    """
    if width is None:
        width = terminal_width()
    if width:
        width = max(width, MIN_WIDTH)
    wrt = doc["wrt"]
    body = doc["explain"]
    lhs = _total(target_name, wrt)
    lines = []      # (text, kind): PROSE or MATH to fold, LAID_OUT as it is
    locals_ = []    # the (a, b) of each local derivative written out
    if "sweep" in body:
        lines.append((body["note"], PROSE))
        lines += _render_sweep(body["sweep"], locals_, width)
        lines.append((f"{lhs} = {_bar(wrt)} = {_fmt(body['total'])}", MATH))
    elif not body["paths"]:
        lines.append((f"{lhs} = {_fmt(body['total'])}: {body['note']}", PROSE))
    else:
        paths = body["paths"]
        if len(paths) == 1:
            lines.append((f"{lhs} = " + _render_path(
                paths[0], len(paths[0]["factors"]) > 1, locals_), MATH))
        else:
            for k, p in enumerate(paths, 1):
                lines.append((f"path {k}: " + _render_path(p, True, locals_), MATH))
            names = " + ".join(f"path {k}" for k in range(1, len(paths) + 1))
            lines.append((f"{lhs} = {names} = {_signed_sum([p['value'] for p in paths])} "
                          f"= {_fmt(body['total'])}", MATH))
        if "note" in body:
            lines.append((body["note"], PROSE))
    if locals_:
        lines.insert(0, (_legend(target_name, lhs, *locals_[0]), PROSE))
    if width:
        lines = [(folded, kind) for text, kind in lines
                 for folded in ([text] if kind == LAID_OUT else _fold(text, width, kind == PROSE))]
    return "\n".join(text for text, _ in lines)


def terminal_width() -> int:
    """The width to fold text to: $COLUMNS when it is a positive number (as
    Rich takes it), else the width of the terminal standard output goes to,
    else 80."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        if sys.stdout.isatty():
            return os.get_terminal_size(sys.stdout.fileno()).columns or 80
    except (AttributeError, OSError, ValueError):
        pass               # not a real file (a test's capture), or no terminal size
    return 80


# ======================================================== choosing the element

_WRT = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[(.*)\])?\s*\Z", re.S)
_INT = re.compile(r"[+-]?\d+")


def _shape_text(shape) -> str:
    return _ops.fmt_shape(tuple(shape))


def _parse_wrt(model, wrt: str):
    """(binding index, element index tuple) for a --wrt argument."""
    m = _WRT.match(wrt)
    if m is None:
        raise ExprError(f"--wrt {wrt}: expected a name, or one element of it such as "
                        f"w[0] or W[1, -1]")
    name, inside = m.groups()
    b = model.binding(name, "--wrt")
    k = model.bindings.index(b)
    shape = tuple(model.shapes[b.node])
    size = math.prod(shape)
    if inside is None:
        if size == 1:
            return k, (0,) * len(shape)
        if size == 0:
            raise ExprError(f"--wrt {name}: '{name}' has no elements (shape "
                            f"{_shape_text(shape)}): there is no gradient to explain")
        first = ", ".join("0" for _ in shape)
        raise ExprError(f"--wrt {name}: '{name}' has {size:,} elements (shape "
                        f"{_shape_text(shape)}); explain derives one gradient at a time: "
                        f"pick an element, e.g. --wrt '{name}[{first}]'")
    parts = [p.strip() for p in inside.split(",")]
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # a trailing comma, as Python allows
    if not all(_INT.fullmatch(p) for p in parts):
        raise ExprError(f"--wrt {wrt}: an element is selected with integer indices, "
                        f"as in {name}[0] or {name}[1, -1]")
    if not shape:
        raise ExprError(f"--wrt {wrt}: '{name}' is a scalar (shape ()); "
                        f"write --wrt {name}, without an index")
    if len(parts) != len(shape):
        n = len(shape)
        raise ExprError(f"--wrt {wrt}: '{name}' has shape {_shape_text(shape)}, so an "
                        f"element takes {n} ind{'ex' if n == 1 else 'ices'}; got {len(parts)}")
    idx = []
    for d, (p, n) in enumerate(zip(parts, shape)):
        i = int(p)
        if not -n <= i < n:
            where = f"'{name}'" if len(shape) == 1 else f"dimension {d} of '{name}'"
            raise ExprError(f"--wrt {wrt}: index {i} is out of range for {where} "
                            f"(size {n}, shape {_shape_text(shape)})")
        idx.append(i % n)
    return k, tuple(idx)


# ====================================================== element index helpers

def _flat(idx, shape) -> int:
    f = 0
    for i, n in zip(idx, shape):
        f = f * n + i
    return f


def _unflat(f, shape) -> tuple:
    out = []
    for n in reversed(shape):
        f, i = divmod(f, n) if n else (f, 0)
        out.append(i)
    return tuple(reversed(out))


def _idx_text(idx) -> str:
    return ", ".join(map(str, idx))


def _broadcast_idx(idx, out_shape, in_shape) -> tuple:
    """The element of an operand of shape `in_shape` that element `idx` of a
    broadcast result of shape `out_shape` reads."""
    lead = len(out_shape) - len(in_shape)
    return tuple(0 if d == 1 else idx[lead + k] for k, d in enumerate(in_shape))


def _index_source(idx, key, in_shape) -> tuple:
    """The element of x that element `idx` of x[key] is (constant key of ints
    and slices, as the compiler stores it)."""
    out, k = [], 0
    for d, s in enumerate(key):
        if isinstance(s, slice):
            start, _, step = s.indices(in_shape[d])
            out.append(start + step * idx[k])
            k += 1
        else:
            out.append(s % in_shape[d])
    out.extend(idx[k:])
    return tuple(out)


# ============================================================ the explainer

class _TooMany(Exception):
    """The search for paths went over MAX_ROWS local-Jacobian rows, or
    MAX_WORK array elements."""


class _Explainer:
    def __init__(self, report):
        self.report = report
        model = self.model = report.model
        self.graph = model.graph
        self.values = report.node_values
        self.shapes = model.shapes
        self.bindings = model.bindings
        self.target = self.bindings.index(report.target)
        self.of_node = {b.node: k for k, b in enumerate(self.bindings)}
        self.owned = {}
        for i, owner in enumerate(model.owners):
            self.owned.setdefault(owner, []).append(i)
        self._uses = {}
        self._subgraphs = {}
        self._rows = {}
        self._children = {}
        self._involves = {}
        self._symbols = {}
        self._array_args = {}
        self.row_budget = MAX_ROWS
        self.work = 0

    # ---------------------------------------------------------------- names

    def label(self, k, idx) -> str:
        """How element `idx` of binding k is written: `c`, `w[0]`."""
        b = self.bindings[k]
        if k == self.target or not self.shapes[b.node]:
            return b.name
        if isinstance(idx, int):
            idx = _unflat(idx, self.shapes[b.node])
        return f"{b.name}[{_idx_text(idx)}]"

    def whole_label(self, k) -> str:
        """A binding as a whole: its name, or its one element."""
        if math.prod(self.shapes[self.bindings[k].node]) == 1:
            return self.label(k, 0)
        return self.bindings[k].name

    def uses(self, k) -> list:
        """The bindings whose values binding k's right side reads and passes
        gradient to (none for params and inputs), in order of appearance."""
        out = self._uses.get(k)
        if out is None:
            out = []
            b = self.bindings[k]
            if b.kind == "node":
                by_name = self.model.by_name
                seen = set()
                for e in b.statement.nodes:
                    if e.kind == "name" and e.data in by_name and not e.const:
                        n = self.of_node[by_name[e.data].node]
                        if n not in seen:
                            seen.add(n)
                            out.append(n)
            self._uses[k] = out
        return out

    # ---------------------------------------------------- local derivatives

    def subgraph(self, k):
        """Binding k's own nodes as a Graph of their own, with each name it
        uses as a leaf: (graph, the binding's node in it, {binding: leaf})."""
        got = self._subgraphs.get(k)
        if got is not None:
            return got
        graph, values = self.graph, self.values
        sub = Graph()
        local, leaves = {}, {}
        for i in self.owned[k]:
            for a in graph.args[i]:
                if a not in local:
                    local[a] = sub.add(LEAF, (), None, values[a])
                    leaves[self.of_node[a]] = local[a]
            op = graph.ops[i]
            if op is CONST:
                local[i] = sub.add(CONST, (), None, values[i])
            else:
                local[i] = sub.add(op, tuple(local[a] for a in graph.args[i]),
                                   graph.attrs[i], values[i])
        cost = sum(math.prod(self.shapes[i]) for i in self.owned[k]) + \
            sum(math.prod(self.shapes[self.bindings[n].node]) for n in leaves)
        got = self._subgraphs[k] = (sub, local[self.bindings[k].node], leaves, cost)
        return got

    def vjp(self, k, seed) -> dict:
        """{binding n: ∂(seed · binding k)/∂n through k's right side only}."""
        sub, top, leaves, _ = self.subgraph(k)
        with np.errstate(all="ignore"):
            grads = backward(sub, sub.values, top, seed)
        return {n: grads[leaf] for n, leaf in leaves.items()}

    def row(self, k, i) -> dict:
        """Row i of binding k's local Jacobians: {n: (values, depends)}, both
        flat over n's elements; `depends` is structural (an entry that is 0
        for these values, like relu'(-1), still counts), found by seeding a
        NaN, which survives multiplication by 0."""
        key = (k, i)
        got = self._rows.get(key)
        if got is not None:
            return got
        if self.row_budget is not None:
            self.work += 2 * self.subgraph(k)[3]
            if len(self._rows) >= self.row_budget or self.work > MAX_WORK:
                raise _TooMany()
        value = self.values[self.bindings[k].node]
        ones = self.vjp(k, _one_hot(value, i, 1))
        nans = self.vjp(k, _one_hot(value, i, np.nan))
        got = {}
        for n, g in ones.items():
            if g is None:
                continue
            v = np.asarray(g).reshape(-1)
            s = nans.get(n)
            depends = v != 0 if s is None else np.isnan(np.asarray(s).reshape(-1)) | (v != 0)
            got[n] = (v, depends)
        self._rows[key] = got
        return got

    # ----------------------------------------------------------- the paths

    def run(self, wb, idx) -> dict:
        T = self.target
        wnode = self.bindings[wb].node
        j = _flat(idx, self.shapes[wnode])
        grad = self.report.node_grads[wnode]
        expected = 0.0 if grad is None else float(np.asarray(grad).reshape(-1)[j])
        tname, xname = self.bindings[T].name, self.label(wb, idx)
        if wb == T:
            return {"paths": [{"nodes": [tname], "symbols": [], "factors": [],
                               "value": 1.0}], "total": 1.0}
        self.wb, self.j = wb, j
        self.relevant = self._relevant(wb)
        if T not in self.relevant:
            return {"paths": [], "total": json_number(expected),
                    "note": self._no_dependence(wb)}
        self.reach = self._reach(wnode, j)
        try:
            counts = self._count("depends")
            mode, dropped = "depends", 0
            if counts[(T, 0)] > MAX_PATHS:
                nonzero = self._count("nonzero")
                if nonzero[(T, 0)] <= MAX_PATHS:
                    dropped = counts[(T, 0)] - nonzero[(T, 0)]
                    counts, mode = nonzero, "nonzero"
        except _TooMany:
            return self._sweep(f"the paths from {tname} to {xname} run through too many "
                               f"tensor elements to list one by one")
        n = counts[(T, 0)]
        if n > MAX_PATHS:
            return self._sweep(f"{_count_text(n)} paths lead from {tname} to {xname}, more "
                               f"than {MAX_PATHS}: too many to print")
        paths = []
        for nodes in self._enumerate(counts, mode):
            factors, symbols = [], []
            for (a, i), (b, jj) in zip(nodes, nodes[1:]):
                factors.append(float(self.row(a, i)[b][0][jj]))
                symbols.append(self.symbol(a, i, b, jj))
            value = math.prod(factors)
            paths.append((nodes, symbols, factors, value))
        values = [p[3] for p in paths]
        total = _fsum(values)
        # The total is the engine's own number, what eval reports, bit for bit;
        # the paths add up to it but for rounding (they multiply in another
        # order).  A real disagreement would be a bug: show the sweep instead.
        if not _agrees(total, expected, values, self.values[wnode].dtype):
            why = (f"the sum over the paths, {_fmt(total)}, differs from the gradient the "
                   f"reverse sweep computes, {_fmt(expected)}")
            if not (math.isfinite(total) and math.isfinite(expected)):
                why += " (with non-finite numbers, 0 · inf terms count in one and not the other)"
            return self._sweep(why)
        out = {"paths": [{"nodes": [self.label(a, i) for a, i in nodes],
                          "symbols": symbols,
                          "factors": [json_number(f) for f in factors],
                          "value": json_number(v)} for nodes, symbols, factors, v in paths],
               "total": json_number(expected)}
        if not paths and dropped:
            out["note"] = (f"all {_count_text(dropped)} paths from {tname} to {xname} pass "
                           f"through a local derivative that is 0 here")
        elif not paths:
            out["note"] = (f"every chain of elements from {tname} stops short of {xname}: "
                           f"{tname} does not depend on this element")
        elif dropped:
            out["note"] = (f"{_count_text(dropped)} more path{'s' if dropped != 1 else ''} "
                           f"pass{'es' if dropped == 1 else ''} through a local derivative "
                           f"that is 0 here and add{'s' if dropped == 1 else ''} nothing")
        return out

    def _relevant(self, wb) -> set:
        """Bindings on some name-level path from the target down to wb."""
        T = self.target
        above = {wb}                     # bindings that depend on wb
        for k in range(wb + 1, T + 1):
            if any(u in above for u in self.uses(k)):
                above.add(k)
        if T not in above:
            return set()
        below, stack = {T}, [T]          # bindings the target depends on
        while stack:
            for u in self.uses(stack.pop()):
                if u in above and u not in below:
                    below.add(u)
                    stack.append(u)
        return below

    def _no_dependence(self, wb) -> str:
        t, x = self.bindings[self.target].name, self.bindings[wb].name
        params = [b.name for k, b in enumerate(self.bindings) if b.kind == "param"
                  and any(e.kind == "name" and e.data == x for e in b.statement.nodes)]
        if wb > self.target:
            why = f"{x} is bound after {t}"
        elif params:
            why = (f"{x} is used only through param {params[0]}, whose right side is "
                   f"evaluated once and passes no gradient")
        else:
            why = f"no chain of bindings leads from {t} to {x}"
        return f"{t} does not depend on {x}: {why}"

    def _reach(self, wnode, j) -> dict:
        """For each relevant binding, which of its elements depend on element
        j of the chosen name: a forward pass with that element set to NaN."""
        v = np.array(self.values[wnode], copy=True)
        v.reshape(-1)[j] = np.nan
        with np.errstate(all="ignore"):
            values = evaluate(self.graph, {wnode: v})
        return {k: np.isnan(np.asarray(values[self.bindings[k].node])).reshape(-1)
                for k in self.relevant}

    def children(self, node, mode) -> list:
        """The elements one step down from `node` on the way to the chosen one."""
        key = (node, mode)
        got = self._children.get(key)
        if got is not None:
            return got
        k, i = node
        got = []
        if k != self.wb and k in self.relevant:
            for n, (values, depends) in self.row(k, i).items():
                if n not in self.relevant:
                    continue
                keep = (depends if mode == "depends" else values != 0) & self.reach[n]
                got.extend((n, int(jj)) for jj in np.flatnonzero(keep))
        if len(got) > MAX_ROWS:
            raise _TooMany()
        self._children[key] = got
        return got

    def _count(self, mode) -> dict:
        """The number of paths from each element down to the chosen one."""
        goal = (self.wb, self.j)
        counts = {goal: 1}
        stack = [((self.target, 0), False)]
        while stack:
            node, ready = stack.pop()
            if node in counts:
                continue
            kids = self.children(node, mode)
            if ready:
                counts[node] = sum(counts[c] for c in kids)
            else:
                stack.append((node, True))
                stack.extend((c, False) for c in kids if c not in counts)
        return counts

    def _enumerate(self, counts, mode):
        goal = (self.wb, self.j)
        path = []
        stack = [((self.target, 0), 0)]
        while stack:
            node, depth = stack.pop()
            del path[depth:]
            path.append(node)
            if node == goal:
                yield list(path)
                continue
            for c in reversed(self.children(node, mode)):
                if counts.get(c):
                    stack.append((c, depth + 1))

    # ---------------------------------------------------------- the sweep

    def _sweep(self, why) -> dict:
        """The adjoint trace: each relevant name's adjoint as the sum over
        the relevant bindings that use it, target first."""
        T, wb, j = self.target, self.wb, self.j
        tname = self.bindings[T].name
        self.row_budget = None
        order = sorted(self.relevant, reverse=True)
        grad = self.report.node_grads[self.bindings[wb].node]
        total = 0.0 if grad is None else float(np.asarray(grad).reshape(-1)[j])
        contributions = {}                 # (consumer, used) -> array
        for k in order:
            if k == wb:
                continue
            g = self.report.node_grads[self.bindings[k].node]
            if g is None:
                continue
            for n, c in self.vjp(k, np.asarray(g)).items():
                if n in self.relevant and c is not None:
                    contributions[(k, n)] = np.asarray(c)
        entries = []
        for m in order:
            node = self.bindings[m].node
            element = m == wb
            scalar = element or math.prod(self.shapes[node]) == 1
            terms = []
            for k in order:
                c = contributions.get((k, m))
                if c is None:
                    continue
                local_known = scalar and math.prod(self.shapes[self.bindings[k].node]) == 1
                mi = j if element else 0
                if local_known:
                    local = float(self.row(k, 0)[m][0][mi])
                    symbol = self.symbol(k, 0, m, mi)
                else:
                    local, symbol = None, None
                value = c.reshape(-1)[mi] if element else c
                terms.append({"from": self.whole_label(k),
                              "symbol": symbol,
                              "local": None if local is None else json_number(local),
                              "value": json_array(value)})
            if m == T:
                adj = np.ones(self.shapes[node])
            elif element:
                adj = total
            else:
                adj = self.report.grads[self.bindings[m].name]
            label = self.label(m, j) if element else self.whole_label(m)
            entries.append({"node": label, "adjoint": json_array(adj), "terms": terms})
        note = (f"{why}; here instead is the reverse sweep that computes it: one line per "
                f"named node v, its adjoint v̄ = ∂{tname}/∂v as the sum, over the bindings "
                f"u that use v, of their adjoint ū times their local derivative "
                f"{_local('u', 'v')} (the adjoint trace of reverse mode, Baydin et al., "
                f"JMLR 2018, Table 3)")
        return {"paths": [], "total": json_number(total), "sweep": entries,
                "note": note}

    # ------------------------------------------------------------ symbols

    def involves(self, k, n) -> set:
        """ids of the Exprs of binding k's right side that contain name n."""
        key = (k, n)
        got = self._involves.get(key)
        if got is None:
            name = self.bindings[n].name
            got = set()
            for e in self.bindings[k].statement.nodes:
                if (e.kind == "name" and e.data == name and not e.const) or \
                        any(id(a) in got for a in e.args):
                    got.add(id(e))
            self._involves[key] = got
        return got

    def symbol(self, k, i, n, j) -> str:
        """∂(element i of binding k)/∂(element j of binding n) in symbols."""
        key = (k, i, n, j)
        got = self._symbols.get(key)
        if got is None:
            try:
                got = _Symbolic(self, k, i, n, j).derive()
            except _Opaque:
                got = None
            if got is None or len(got) > SYMBOL_WIDTH or "…" in got:
                got = _local(self.label(k, i), self.label(n, j))
            self._symbols[key] = got
        return got

    def array_args(self, e) -> list:
        """The array arguments of Expr e, in the order its graph node takes
        them (a call's keywords resolved)."""
        if e.kind != "call":
            return list(e.args)
        got = self._array_args.get(id(e))
        if got is None:
            pool = list(e.args)
            got = []
            for a in self.graph.args[e.gid]:
                for p, c in enumerate(pool):
                    if c.gid == a:
                        got.append(pool.pop(p))
                        break
            self._array_args[id(e)] = got
        return got


def _one_hot(like, i, value):
    """A fresh array shaped like `like`, zero but for flat element i (the
    engine may hand a seed back as a gradient, so each pass gets its own)."""
    seed = np.zeros(np.shape(like), dtype=like.dtype)
    seed.reshape(-1)[i] = value
    return seed


def _count_text(n: int) -> str:
    return f"{n:,}" if n < 10**15 else f"about {float(n):.3g}"


def _fsum(values) -> float:
    if all(math.isfinite(v) for v in values):
        return math.fsum(values)
    return float(sum(values))


def _agrees(total, expected, values, dtype) -> bool:
    if not (math.isfinite(total) and math.isfinite(expected)):
        return (math.isnan(total) and math.isnan(expected)) or total == expected
    eps = float(np.finfo(dtype).eps)
    scale = math.fsum(abs(v) for v in values) + abs(expected)
    # relative to the terms, plus a floor for what cancels inside a factor
    # (softmax of equal inputs: exactly 0 one way, 1e-17 the other)
    return abs(total - expected) <= 1e4 * eps * scale + 1e3 * eps


# ================================================ light symbolic derivatives
#
# A symbolic value (`Sym`) is a sum of terms; a term is (coefficient,
# numerator factors, denominator factors), each factor a (text, precedence)
# pair of already written text.  Sums are flat and products are flat, so
# nothing nests and writing one out needs no recursion.

SUM, NEG, PROD, MPROD, POW, ATOM = range(6)   # PROD: * / @ in the text; MPROD: ·

ZERO = ()
ONE = ((1.0, (), ()),)


class _Opaque(Exception):
    """The derivative would be unreadable: write ∂c/∂b1 instead."""


def _s_num(c):
    return ((float(c), (), ()),) if c != 0 else ZERO


def _s_text(text, prec):
    return ((1.0, ((text, prec),), ()),)


def _s_neg(a):
    return tuple((-c, n, d) for c, n, d in a)


def _s_add(*syms):
    merged = {}
    for s in syms:
        for c, n, d in s:
            merged[(n, d)] = merged.get((n, d), 0.0) + c
    return tuple((c, n, d) for (n, d), c in merged.items() if c != 0)


def _s_mul(a, b):
    if not a or not b:
        return ZERO
    if len(a) > 1:
        a = _s_text(_s_render(a)[0], SUM)
    if len(b) > 1:
        b = _s_text(_s_render(b)[0], SUM)
    (ca, na, da), = a
    (cb, nb, db), = b
    return ((ca * cb, na + nb, da + db),)


def _wrap(text, prec, below):
    return f"({text})" if prec < below else text


def _render_term(c, nums, dens):
    """A term with coefficient c >= 0: (text, precedence).  Whole-number
    denominators fold into the coefficient: 2·(a − b)/4 is (a − b)/2."""
    dens = list(dens)
    whole = [int(t) for t, _ in dens if t.isdigit()]
    if whole and float(c).is_integer():
        top, bottom = int(c), math.prod(whole)
        g = math.gcd(top, bottom)
        c = top // g
        dens = [(t, p) for t, p in dens if not t.isdigit()]
        if bottom // g != 1:
            dens.append((str(bottom // g), ATOM))
    factors = list(nums)
    if c != 1 or not factors:
        factors.insert(0, (fmt_number(c), ATOM))
    if len(factors) == 1 and not dens:
        return factors[0]
    if len(factors) == 1:
        body, prec = _wrap(*factors[0], MPROD), factors[0][1]
        prec = ATOM if prec < MPROD else prec
    else:
        body = "·".join(_wrap(t, p, MPROD) for t, p in factors)
        prec = MPROD
    if not dens:
        return body, prec
    if len(dens) > 1:
        den = "(" + "·".join(_wrap(t, p, MPROD) for t, p in dens) + ")"
    else:   # one pair of brackets at most: 1/(1 + x), not 1/((1 + x))
        den = _wrap(*dens[0], POW)
    return f"{body}/{den}", PROD


def _s_render(sym):
    """(text, precedence) of a Sym."""
    if not sym:
        return "0", ATOM
    parts = []
    for k, (c, nums, dens) in enumerate(sym):
        text, prec = _render_term(abs(c), nums, dens)
        if k == 0:
            parts.append(f"-{_wrap(text, prec, PROD)}" if c < 0 else text)
        elif c < 0:
            parts.append(f" - {_wrap(text, prec, PROD)}")
        else:
            parts.append(f" + {text}")
    if len(sym) > 1:
        return "".join(parts), SUM
    c = sym[0][0]
    return parts[0], (NEG if c < 0 else prec)


def _balanced(text) -> bool:
    """Whether text is wholly enclosed by its first bracket pair."""
    if not text or text[0] not in "([" or text[-1] not in ")]":
        return False
    depth = 0
    for k, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth == 0 and k != len(text) - 1:
                return False
    return True


def _classify(text) -> int:
    """The precedence of a piece of written math (parentheses respected)."""
    text = text.strip()
    if not text or _balanced(text):
        return ATOM
    found = set()
    depth = 0
    for k, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0:
            if ch in "+-" + MINUS and 0 < k and text[k - 1] == " ":
                found.add(SUM)
            elif ch == "*":
                found.add(POW if text[k - 1:k + 1] == "**" or text[k:k + 2] == "**" else PROD)
            elif ch in "/@":
                found.add(PROD)
            elif ch == "·":
                found.add(MPROD)
            elif ch in "^²":
                found.add(POW)
    if SUM in found:
        return SUM
    if text[0] in "-+" + MINUS:
        return NEG
    for p in (PROD, MPROD, POW):
        if p in found:
            return p
    return ATOM


def _normalise(text) -> str:
    if "\n" in text or "#" in text:
        text = " ".join(re.sub(r"#[^\n]*", "", text).split())
    return text


_LITERAL = re.compile(r"-?\s*(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_TIES = re.compile(r"\s*\([^()]*ties\)")
_BINARY = {"add": (" + ", SUM), "sub": (" - ", SUM), "mul": (" * ", PROD),
           "div": (" / ", PROD), "pow": (" ** ", POW)}
_MAPS = ("index", "stack", "transpose", "reshape")
_SELF = {"sigmoid": "σ"}   # how the op table's local text writes an op's own value


class _Symbolic:
    """∂(element i of binding k)/∂(element j of binding n), read off binding
    k's right side; one instance per factor."""

    def __init__(self, ex, k, i, n, j):
        self.ex = ex
        self.stmt = ex.bindings[k].statement
        self.k = k
        self.i = _unflat(i, ex.shapes[ex.bindings[k].node])
        self.n = n
        self.name = ex.bindings[n].name
        self.j = _unflat(j, ex.shapes[ex.bindings[n].node])
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
        text = _s_render(memo[(id(root), self.i)][2])[0]
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
        if op.shape is _ops.same or op.shape is _ops.broadcast:
            if not involved and not shape:
                return "source", []
            args = ex.array_args(e)
            return "elementwise", [(a, _broadcast_idx(idx, shape, ex.shapes[a.gid]))
                                   for a in args]
        if name in _MAPS:
            if not involved and not shape:
                return "source", []
            return "map", [self.mapped(e, idx, name)]
        if not involved:
            return "source", []
        args = ex.array_args(e)
        if name in ("sum", "mean"):
            x = args[0]
            return "reduce", [(x, s) for s in self.reduced(idx, ex.shapes[x.gid],
                                                             ex.graph.attrs[e.gid].get("axis"))]
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
            return x, _index_source(idx, attrs["key"], in_shape)
        if name == "transpose":
            return x, tuple(reversed(idx))
        return x, _unflat(_flat(idx, ex.shapes[e.gid]), in_shape)    # reshape

    def reduced(self, idx, in_shape, axis):
        if len(in_shape) and math.prod(in_shape) > SYMBOL_BUDGET:
            raise _Opaque()
        if axis is None:
            return [_unflat(f, in_shape) for f in range(math.prod(in_shape))]
        axis %= len(in_shape)
        return [idx[:axis] + (m,) + idx[axis:] for m in range(in_shape[axis])]

    def matmul_pairs(self, idx, a, b):
        sa, sb = self.ex.shapes[a.gid], self.ex.shapes[b.gid]
        inner = sa[-1]
        if inner > SYMBOL_BUDGET:
            raise _Opaque()
        rows = idx[:1] if len(sa) == 2 else ()
        cols = idx[-1:] if len(sb) == 2 else ()
        out = []
        for m in range(inner):
            out.append((a, rows + (m,)))
            out.append((b, (m,) + cols))
        return out

    # Putting an Expr together from its parts: (text, precedence, Sym, number
    # or None), where the Sym is the derivative and the number is set for a
    # literal constant, which then folds into coefficients.
    def combine(self, e, idx, kind, parts):
        ex = self.ex
        if kind == "name":
            k = ex.of_node[ex.model.by_name[e.data].node]
            text = f"{e.data}[{_idx_text(idx)}]" if idx else e.data
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
                        terms.append(_s_mul(self.local(e, op, pos, env), p[2]))
                d = _s_add(*terms)
            return text, prec, d, None
        text, prec = self.source(e, idx)[:2]
        if kind == "reduce":
            n = len(parts)
            local = _template(op.local[0], {"n": (str(n), ATOM, float(n))})
            return text, prec, _s_mul(local, _s_add(*[p[2] for p in parts])), None
        # matmul: a sum of products, each differentiated by mul's local rule
        mul = _ops.OPS["mul"]
        terms = []
        for pa, pb in zip(parts[0::2], parts[1::2]):
            env = {"x": (pa[0], pa[1], pa[3]), "y": (pb[0], pb[1], pb[3])}
            if pa[2]:
                terms.append(_s_mul(_template(mul.local[0], env), pa[2]))
            if pb[2]:
                terms.append(_s_mul(_template(mul.local[1], env), pb[2]))
        return text, prec, _s_add(*terms), None

    def local(self, e, op, pos, env):
        """The op table's local derivative of `e` for argument `pos`."""
        if op.name == "pow" and pos == 0:
            return _pow_base_local(env)
        tmpl = op.local[pos]
        fixed = {}
        if e is self.stmt.root and e.kind == "call":
            own = f"{_SELF.get(op.name, op.name)}(x)"
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
        if e.kind in ("number", "name", "call", "index", "list") or _balanced(text):
            return text, ATOM
        if e.kind == "op":
            return text, {"add": SUM, "sub": SUM, "mul": PROD, "div": PROD, "matmul": PROD,
                          "pow": POW, "neg": NEG, "pos": NEG}[e.data]
        return text, _classify(text)

    def source(self, e, idx):
        """An Expr the name is not in (or a whole reduction or product), as
        written, with the element picked out: `(X @ w)[3]`."""
        text, prec = self.written_source(e)
        if self.ex.shapes[e.gid]:
            text, prec = _limit(f"{_wrap(text, prec, ATOM)}[{_idx_text(idx)}]"), ATOM
        return text, prec, ZERO, None

    def written(self, e, name, parts):
        """An elementwise Expr written out at one element."""
        if e.kind == "call":
            return _limit(f"{e.data}({', '.join(p[0] for p in parts)})"), ATOM
        if name in ("neg", "pos"):
            sign = "-" if name == "neg" else "+"
            return _limit(sign + _wrap(parts[0][0], parts[0][1], NEG)), NEG
        sep, prec = _BINARY[name]
        (lt, lp), (rt, rp) = parts[0][:2], parts[1][:2]
        if name == "pow":
            left, right = _wrap(lt, lp, ATOM), _wrap(rt, rp, NEG)
        else:
            left, right = _wrap(lt, lp, prec), _wrap(rt, rp, prec + 1)
        return _limit(left + sep + right), prec


def _limit(text):
    return text if len(text) <= TEXT_LIMIT else "…"


def _pow_base_local(env):
    """∂(x ** y)/∂x: the op table's y·x^(y-1), worked out for a literal y."""
    xt, xp, _ = env["x"]
    yt, yp, y = env["y"]
    if y is None:
        tmpl = _ops.OPS["pow"].local[0].replace("(y-1)", "(\1)")
        return _template(tmpl, env, {"\1": f"{yt} - 1"})
    if y == 0:
        return ZERO
    e = y - 1
    if e == 0:
        return _s_num(y)
    power = xt if xp == ATOM else f"({xt})"
    if e != 1:
        et = fmt_number(e)
        power += "^" + (et if _classify(et) == ATOM else f"({et})")
    return _s_mul(_s_num(y), _s_text(power, ATOM if e == 1 and xp == ATOM else POW))


def _template(tmpl, env, fixed=None):
    """A local-derivative text of the op table with the arguments' text put
    in for its variables, as a Sym."""
    tmpl = _TIES.sub("", tmpl).strip()
    negative = tmpl.startswith("-")
    if negative:
        tmpl = tmpl[1:]
    if tmpl == "1":
        sym = ONE
    elif tmpl in env:
        text, prec, number = env[tmpl]
        sym = _s_num(number) if number is not None else _s_text(text, prec)
    elif tmpl.startswith("1/"):
        den = tmpl[2:]
        if den.startswith("(") and _balanced(den):
            den = den[1:-1]
        if den in env:
            text, prec = env[den][:2]
        else:
            text = _substitute(den, env, fixed)
            prec = _classify(text)
        sym = ((1.0, (), ((text, prec),)),)
    else:
        text = _substitute(tmpl, env, fixed)
        sym = _s_text(text, _classify(text))
    return _s_neg(sym) if negative else sym


def _substitute(tmpl, env, fixed=None):
    """`tmpl` with each variable replaced by its text (bracketed unless it is
    an atom or a function's only argument) and each placeholder of `fixed`
    by its text, all in one pass."""
    if env:
        pattern = r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, env)) + r")(?![A-Za-z0-9_])"

        def put(m):
            text, prec = env[m.group(1)][:2]
            before = tmpl[:m.start()].rstrip()[-1:]
            after = tmpl[m.end():].lstrip()[:1]
            # a function's argument or a side of a comparison: f(x), [x > 0]
            alone = before and before in "([,<>=≤≥" and after and after in ")],<>=≤≥"
            return text if prec == ATOM or alone else f"({text})"

        tmpl = re.sub(pattern, put, tmpl)
    for mark, text in (fixed or {}).items():
        tmpl = tmpl.replace(mark, text)
    return tmpl


# ================================================================ rendering

def _fmt(x) -> str:
    """A number for people, with a real minus sign: −28, 0.5, 1e−07."""
    return fmt_number(float(x)).replace("-", MINUS)


def _factor_text(x) -> str:
    t = _fmt(x)
    return f"({t})" if t.startswith(MINUS) else t


def _symbol_text(s) -> str:
    return f"({s})" if _classify(s) in (SUM, NEG) else s


def _signed_sum(values) -> str:
    out = ""
    for k, v in enumerate(values):
        t = _fmt(v)
        if k == 0:
            out = t
        elif t.startswith(MINUS):
            out += f" {MINUS} {t[1:]}"
        else:
            out += f" + {t}"
    return out


def _total(t, x) -> str:
    """The total derivative of t with respect to x, through every path: the
    notation of eval's column header."""
    return f"∂{t}/∂{x}"


def _local(a, b) -> str:
    """The local derivative of binding a with respect to b, one step of a
    path: marked, as it differs from the total when b reaches a another way."""
    return f"∂{a}/∂{b}|local"


def _legend(target, lhs, a, b) -> str:
    return (f"{lhs}: the total derivative, over every path (eval's ∂{target}/∂·). "
            f"{_local(a, b)}: the right side of {a} differentiated by {b}, all else held fixed.")


def _render_path(p, with_chain, locals_) -> str:
    """One path as `chain = symbols = numbers = value`; the (a, b) of each
    local derivative written in ∂ notation are added to `locals_`."""
    nodes = p["nodes"]
    steps = list(zip(nodes, nodes[1:]))
    opaque = [s == _local(a, b) for s, (a, b) in zip(p["symbols"], steps)]
    pieces = []
    if with_chain:
        pieces.append(" · ".join(_local(a, b) for a, b in steps))
        locals_ += steps
    if len(p["factors"]) == 1:
        if with_chain or not opaque[0]:
            pieces.append(p["symbols"][0])
        pieces.append(_fmt(p["factors"][0]))
    elif p["factors"]:
        pieces.append(" · ".join(_symbol_text(s) for s in p["symbols"]))
        pieces.append(" · ".join(_factor_text(f) for f in p["factors"]))
        locals_ += [step for step, o in zip(steps, opaque) if o]
    pieces.append(_fmt(p["value"]))
    out = []
    for piece in pieces:       # `1 = 1`: say it once
        if not out or out[-1] != piece:
            out.append(piece)
    return " = ".join(out)


def _bar(label) -> str:
    """The adjoint of a name: v̄ (a macron over the name's first letter; NFC,
    so ā is the one precomposed character where there is one)."""
    return unicodedata.normalize("NFC", label[:1] + MACRON) + label[1:]


def _render_sweep(entries, locals_, width) -> list:
    """The sweep's lines, (text, kind) as render_explain takes them."""
    adjoints = {}
    lines = []
    for entry in entries:
        node, adj = entry["node"], entry["adjoint"]
        adjoints[node] = adj
        terms = entry["terms"]
        if not terms:
            lines += _equals_array(_bar(node), adj, width)
            continue
        chain = " + ".join(f"{_bar(t['from'])} · {_local(t['from'], node)}" for t in terms)
        locals_ += [(t["from"], node) for t in terms]
        numbers = None
        if all(t["local"] is not None and t["from"] in adjoints
               and np.ndim(adjoints[t["from"]]) == 0 for t in terms):
            numbers = " + ".join(f"{_factor_text(adjoints[t['from']])} · "
                                 f"{_factor_text(t['local'])}" for t in terms)
        lines += _equals_array(f"{_bar(node)} = " + " = ".join([chain] + ([numbers] if numbers
                                                                          else [])),
                               adj, width)
    return lines


def _equals_array(head, a, width) -> list:
    """`head = a` as (text, kind) lines: on one line where it fits (or is
    not to be folded), else `a` laid out by rows below `head`, to the width."""
    text = _array_text(a)
    one = f"{head} = {text}"
    if not width or np.ndim(a) == 0 or ("\n" not in text and sum(map(_cells, one)) <= width):
        return [(one, MATH)]
    prefix = INDENT + "= "
    block = prefix + _array_text(a, width, prefix)
    if max(sum(map(_cells, line)) for line in block.split("\n")) > width:
        # a number wider than what is left of a row: fold the whole as a line
        return [(f"{head} = {' '.join(text.split())}", MATH)]
    return [(head, MATH), (block, LAID_OUT)]


# ================================================================ folding

_OPERATORS = "=·+−-*/@×"


def _cells(ch) -> int:
    """The columns a character takes on a terminal."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def _fold(line, width, prose=False) -> list:
    """`line` as lines of at most `width` columns, the later ones indented
    by INDENT (`width` must exceed it).

    A break replaces one space, so joining the lines with a space where
    each continuation's INDENT was gives `line` back.  A derivation breaks
    before an `=`, else before another operator between factors (outside
    brackets), where that keeps the line at least half full; else before any
    operator; else at any space.  Prose breaks between words, keeping
    `v̄ = ∂L/∂v` together where it can.  A word wider than a whole line is cut where
    the width runs out.
    """
    cum = [0]
    for ch in line:
        cum.append(cum[-1] + _cells(ch))
    if cum[-1] <= width:
        return [line]
    equals, top, ops, words, spaces = [], [], [], [], []
    depth = 0
    last = len(line) - 1
    for p, ch in enumerate(line):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == " " and 0 < p < last:
            spaces.append(p)
            if line[p - 1] not in _OPERATORS and line[p + 1] not in _OPERATORS:
                words.append(p)
            if not prose and line[p + 1] in _OPERATORS and (p + 2 > last or line[p + 2] == " "):
                ops.append(p)
                if depth == 0:
                    top.append(p)
                    if line[p + 1] == "=":
                        equals.append(p)
    tiers = [words, spaces] if prose else [equals, top, ops, spaces]
    out, s, room = [], 0, width
    while cum[-1] - cum[s] > room:
        e = bisect.bisect_right(cum, cum[s] + room) - 1    # line[s:e] fits
        cut = None
        for t, candidates in enumerate(tiers):
            k = bisect.bisect_right(candidates, e) - 1
            if k >= 0 and candidates[k] > s and \
                    (t == len(tiers) - 1 or 2 * (cum[candidates[k]] - cum[s]) >= room):
                cut = candidates[k]
                break
        if cut is None:
            e = max(e, s + 1)
            while e > s + 1 and unicodedata.combining(line[e]):
                e -= 1     # keep a mark with its letter
            out.append(line[s:e])
            s = e
        else:
            out.append(line[s:cut])
            s = cut + 1
        room = width - len(INDENT)
    out.append(line[s:])
    return out[:1] + [INDENT + piece for piece in out[1:]]


def _array_text(a, width=None, prefix="") -> str:
    """An array as `eval`'s table writes it; with a width, its lines fit in
    it when they follow `prefix` and are indented to go under it."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        return _fmt(a[()])
    if width is None:
        return fmt_array(a).replace("-", MINUS)
    return np.array2string(a, separator=", ", formatter={"float_kind": fmt_number},
                           threshold=TABLE_THRESHOLD, edgeitems=3, max_line_width=width,
                           prefix=prefix).replace("-", MINUS)
