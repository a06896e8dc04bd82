"""The derivation's numbers: the paths from the target down to one element,
or the reverse sweep where they are too many.

Paths run through the file's named bindings.  A path from the target down to
the chosen element is the product of the local derivatives between
consecutive names; the gradient is the sum over the paths.  For a tensor the
path follows single elements (``∂z[3]/∂w[0]|local = X[3, 0]``): the steps
are the entries of each binding's local Jacobian that depend on the chosen
element.  A factor's number comes from the engine: a backward sweep over the
binding's own part of the graph, stopping at the names it uses, seeded with
a one-hot at the chosen element, so the numbers are exactly the op table's
vector-Jacobian products and add up to what `eval` reports.

When there are more than `MAX_PATHS` paths (a reused node doubles them) the
derivation is the reverse sweep instead: one entry per named node, its
adjoint as the sum over the bindings that use it.  Graphs and paths are
walked with explicit stacks.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import CONST, LEAF, Graph
from ..engine import backward, evaluate
from ..jsonout import json_array, json_number
from .elements import flat_index, index_text, parse_wrt, unflat_index
from .notation import fmt, local_derivative
from .symbols import local_symbol

MAX_PATHS = 32  # more paths than this: show the reverse sweep
MAX_ROWS = 5000  # local-Jacobian rows examined while looking for paths
MAX_WORK = 2 * 10**7  # array elements those rows may sweep over, all told
SYMBOL_WIDTH = 80  # a longer symbolic factor is written ∂c/∂b1|local


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
    ex = Explainer(report)
    wb, idx = parse_wrt(report.model, wrt)
    return {"wrt": ex.label(wb, idx), "explain": ex.run(wb, idx)}


class _TooMany(Exception):
    """The search for paths went over MAX_ROWS local-Jacobian rows, or
    MAX_WORK array elements."""


class Explainer:
    """One derivation's working state: the model, its values and gradients,
    and what has been worked out so far (uses, subgraphs, Jacobian rows,
    symbols), each computed once."""

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
            idx = unflat_index(idx, self.shapes[b.node])
        return f"{b.name}[{index_text(idx)}]"

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
                local[i] = sub.add(
                    op, tuple(local[a] for a in graph.args[i]), graph.attrs[i], values[i]
                )
        cost = sum(math.prod(self.shapes[i]) for i in self.owned[k]) + sum(
            math.prod(self.shapes[self.bindings[n].node]) for n in leaves
        )
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
        j = flat_index(idx, self.shapes[wnode])
        grad = self.report.node_grads[wnode]
        expected = 0.0 if grad is None else float(np.asarray(grad).reshape(-1)[j])
        tname, xname = self.bindings[T].name, self.label(wb, idx)
        if wb == T:
            return {
                "paths": [{"nodes": [tname], "symbols": [], "factors": [], "value": 1.0}],
                "total": 1.0,
            }
        self.wb, self.j = wb, j
        self.relevant = self._relevant(wb)
        if T not in self.relevant:
            return {"paths": [], "total": json_number(expected), "note": self._no_dependence(wb)}
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
            return self._sweep(
                f"the paths from {tname} to {xname} run through too many "
                f"tensor elements to list one by one"
            )
        n = counts[(T, 0)]
        if n > MAX_PATHS:
            return self._sweep(
                f"{_count_text(n)} paths lead from {tname} to {xname}, more "
                f"than {MAX_PATHS}: too many to print"
            )
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
            why = (
                f"the sum over the paths, {fmt(total)}, differs from the gradient the "
                f"reverse sweep computes, {fmt(expected)}"
            )
            if not (math.isfinite(total) and math.isfinite(expected)):
                why += " (with non-finite numbers, 0 · inf terms count in one and not the other)"
            return self._sweep(why)
        out = {
            "paths": [
                {
                    "nodes": [self.label(a, i) for a, i in nodes],
                    "symbols": symbols,
                    "factors": [json_number(f) for f in factors],
                    "value": json_number(v),
                }
                for nodes, symbols, factors, v in paths
            ],
            "total": json_number(expected),
        }
        if not paths and dropped:
            out["note"] = (
                f"all {_count_text(dropped)} paths from {tname} to {xname} pass "
                f"through a local derivative that is 0 here"
            )
        elif not paths:
            out["note"] = (
                f"every chain of elements from {tname} stops short of {xname}: "
                f"{tname} does not depend on this element"
            )
        elif dropped:
            out["note"] = (
                f"{_count_text(dropped)} more path{'s' if dropped != 1 else ''} "
                f"pass{'es' if dropped == 1 else ''} through a local derivative "
                f"that is 0 here and add{'s' if dropped == 1 else ''} nothing"
            )
        return out

    def _relevant(self, wb) -> set:
        """Bindings on some name-level path from the target down to wb."""
        T = self.target
        above = {wb}  # bindings that depend on wb
        for k in range(wb + 1, T + 1):
            if any(u in above for u in self.uses(k)):
                above.add(k)
        if T not in above:
            return set()
        below, stack = {T}, [T]  # bindings the target depends on
        while stack:
            for u in self.uses(stack.pop()):
                if u in above and u not in below:
                    below.add(u)
                    stack.append(u)
        return below

    def _no_dependence(self, wb) -> str:
        t, x = self.bindings[self.target].name, self.bindings[wb].name
        params = [
            b.name
            for k, b in enumerate(self.bindings)
            if b.kind == "param"
            and any(e.kind == "name" and e.data == x for e in b.statement.nodes)
        ]
        if wb > self.target:
            why = f"{x} is bound after {t}"
        elif params:
            why = (
                f"{x} is used only through param {params[0]}, whose right side is "
                f"evaluated once and passes no gradient"
            )
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
        return {
            k: np.isnan(np.asarray(values[self.bindings[k].node])).reshape(-1)
            for k in self.relevant
        }

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
        contributions = {}  # (consumer, used) -> array
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
                terms.append(
                    {
                        "from": self.whole_label(k),
                        "symbol": symbol,
                        "local": None if local is None else json_number(local),
                        "value": json_array(value),
                    }
                )
            if m == T:
                adj = np.ones(self.shapes[node])
            elif element:
                adj = total
            else:
                adj = self.report.grads[self.bindings[m].name]
            label = self.label(m, j) if element else self.whole_label(m)
            entries.append({"node": label, "adjoint": json_array(adj), "terms": terms})
        note = (
            f"{why}; here instead is the reverse sweep that computes it: one line per "
            f"named node v, its adjoint v̄ = ∂{tname}/∂v as the sum, over the bindings "
            f"u that use v, of their adjoint ū times their local derivative "
            f"{local_derivative('u', 'v')} (the adjoint trace of reverse mode, Baydin et al., "
            f"JMLR 2018, Table 3)"
        )
        return {"paths": [], "total": json_number(total), "sweep": entries, "note": note}

    # ------------------------------------------------------------ symbols

    def involves(self, k, n) -> set:
        """ids of the Exprs of binding k's right side that contain name n."""
        key = (k, n)
        got = self._involves.get(key)
        if got is None:
            name = self.bindings[n].name
            got = set()
            for e in self.bindings[k].statement.nodes:
                if (e.kind == "name" and e.data == name and not e.const) or any(
                    id(a) in got for a in e.args
                ):
                    got.add(id(e))
            self._involves[key] = got
        return got

    def symbol(self, k, i, n, j) -> str:
        """∂(element i of binding k)/∂(element j of binding n) in symbols."""
        key = (k, i, n, j)
        got = self._symbols.get(key)
        if got is None:
            got = local_symbol(self, k, i, n, j)
            if got is None or len(got) > SYMBOL_WIDTH or "…" in got:
                got = local_derivative(self.label(k, i), self.label(n, j))
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
