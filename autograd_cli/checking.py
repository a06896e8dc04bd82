"""`check`: reverse-mode derivatives against central finite differences.

Like PyTorch's ``gradcheck`` and JAX's ``check_grads``, in one of two modes:

*full*: each element of each checked leaf is moved by ±eps in float64 and
the target re-evaluated, two forward passes per element.

*directional* (``gradcheck``'s ``fast_mode``), when more than `FULL_LIMIT`
elements are checked in all: each leaf of more than `samples` elements is
compared along a few random unit directions ``v`` (the reverse-mode
``<grad, v>`` and the forward-mode JVP along ``v`` against central
differences of the target along ``v``, and against each other), and
at a few random elements one by one; smaller leaves are compared whole.
The directions and elements come from a generator seeded by the seed and the
leaf's name, so a run is reproducible and a leaf's draws do not depend on
the other leaves checked.

Where the function has a kink at the point (relu or abs at 0, a tie in
max/min/maximum/minimum, clip at a bound), finite differences mean nothing
there, and a row that would fail says so instead of failing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .core import Tape, Tensor
from .derivatives import hessian, tangents
from .engine import backward, evaluate
from .errors import ExprError
from .options import CHECK_DIRECTIONS as DIRECTIONS
from .options import CHECK_FULL_LIMIT as FULL_LIMIT
from .options import CHECK_SAMPLES as SAMPLES
from .options import CHECK_SEED as SEED


@dataclass
class Directions:
    """The directional comparisons of one row."""

    count: int
    ok: bool
    max_abs_err: float
    max_rel_err: float
    worst: int  # the worst direction, counted from 1
    worst_index: list  # order 2: where in the Hessian-vector product; else []


@dataclass
class Row:
    """One compared block: a leaf (order 1), or a pair of leaves (order 2).

    The errors and `worst_index` are those of the elements compared one by
    one (`compared` of them, all of the block in full mode); `directions`,
    in directional mode, those of the comparisons along directions."""

    names: tuple
    ok: bool
    max_abs_err: float
    max_rel_err: float
    worst_index: list
    note: str
    shape: tuple
    compared: int
    directions: Directions | None = None
    elements_ok: bool = True  # the elements compared one by one, kinks aside

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass
class Result:
    """What `check` found, and how it looked."""

    target: object  # the target's Binding
    rows: list
    order: int
    mode: str  # "full" or "directional"
    selection: Selection
    total: int  # elements of the checked leaves, in all
    directions: int
    samples: int
    seed: int

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)


@dataclass
class Selection:
    """The leaves differentiated with respect to, and the ones left out."""

    names: list
    how: str  # "wrt" (named), "params" or "inputs" (the default)
    left_out: list = field(default_factory=list)  # [(name, kind)], file order


def select_leaves(model, wrt=()) -> Selection:
    """The leaves to differentiate with respect to: those named, else every
    param, else every input; with the leaves that are left out."""
    if wrt:
        names = []
        for name in wrt:
            b = model.binding(name, "--wrt")
            if b.kind == "node":
                raise ExprError(
                    f"--wrt {name}: '{name}' is computed from other nodes; "
                    "derivatives are taken with respect to params and inputs",
                    b.statement.name_span,
                )
            if name not in names:
                names.append(name)
        how = "wrt"
    else:
        names = [b.name for b in model.bindings if b.kind == "param"]
        how = "params"
        if not names:
            names = [b.name for b in model.bindings if b.kind == "input"]
            how = "inputs"
    chosen = set(names)
    left_out = [
        (b.name, b.kind) for b in model.bindings if b.kind != "node" and b.name not in chosen
    ]
    return Selection(names, how, left_out)


def scalar_target(model, target):
    """The binding `target` names (default: the last), which must have one
    element to be differentiated."""
    b = model.binding(target, "--of") if target is not None else model.bindings[-1]
    if int(np.prod(model.shapes[b.node])) != 1:
        raise ExprError(
            f"the target '{b.name}' has shape {model.shapes[b.node]}: derivatives "
            f"need a scalar target; use sum({b.name}) or mean({b.name})",
            b.statement.name_span,
        )
    return b


def _ratio(err, allowed):
    """err / allowed, with 0 for no error and inf for an error where nothing
    is allowed or for nan (which never passes)."""
    with np.errstate(all="ignore"):
        r = np.where(err == 0, 0.0, err / np.where(allowed > 0, allowed, np.nan))
    return np.where(np.isnan(r), np.inf, r)


class _Tally:
    """The worst of a series of comparisons, each of errors against what
    they allow: whether all passed, the largest absolute and relative errors
    (nan if any error is nan) and where the worst one, by error / allowed, was."""

    def __init__(self):
        self.ok = True
        self.max_abs = 0.0
        self.max_rel = 0.0
        self.ratio = -1.0
        self.worst = None

    def add(self, err, allowed, scale, where):
        """Errors `err` (an array), allowed `allowed`, relative to `scale`;
        `where(flat index)` says where one of them is."""
        err = np.asarray(err, dtype=np.float64)
        if not err.size:
            return
        self.ok = self.ok and bool(np.all(err <= allowed))
        self.max_abs = _top(self.max_abs, float(np.max(err)))
        self.max_rel = _top(self.max_rel, float(np.max(_ratio(err, scale))))
        ratio = _ratio(err, np.broadcast_to(allowed, err.shape))
        k = int(np.argmax(ratio))
        if ratio.flat[k] > self.ratio:
            self.ratio = float(ratio.flat[k])
            self.worst = where(k)

    def isclose(self, analytic, numeric, rtol, atol, where):
        """Element by element, as numpy.isclose (nan against nan is no error,
        but fails: nothing is allowed there)."""
        analytic = np.asarray(analytic, dtype=np.float64)
        numeric = np.asarray(numeric, dtype=np.float64)
        with np.errstate(all="ignore"):
            err = np.abs(analytic - numeric)
            err = np.where(np.isnan(analytic) & np.isnan(numeric), 0.0, err)
            allowed = atol + rtol * np.abs(numeric)
        self.add(err, allowed, np.abs(numeric), where)


def _top(a, b):
    """max, with nan winning."""
    return b if math.isnan(b) or (not math.isnan(a) and b > a) else a


def _excuse(row, kinks):
    """A failing row over a kink: noted, not failed."""
    if not row.ok and kinks:
        row.note = "not compared: " + "; ".join(kinks) + " — finite differences mean nothing there"
        row.ok = True
    return row


def _leaf_value(values, node):
    return np.array(values[node], dtype=np.float64)


def _scalar(values, target):
    return float(np.reshape(values[target], ()))


def _gradient_at(graph, values, target, node, at):
    """The reverse-mode gradient with respect to every leaf in `at`, with the
    leaf `node` moved to a new value."""
    moved = evaluate(graph, {node: at})
    seed = np.ones(np.shape(moved[target]), dtype=np.float64)
    return backward(graph, moved, target, seed)


def _kinks(model, values):
    """Nodes at a kink (the op table's `kinks`), as {node: description}."""
    graph = model.graph
    found = {}
    for i, op in enumerate(graph.ops):
        kinks = op.kinks
        if kinks is None:
            continue
        args = [values[a] for a in graph.args[i]]
        hit = None
        with np.errstate(all="ignore"):
            if kinks[1](values[i], *args, **graph.attrs[i]):
                hit = kinks[0]
        if hit:
            found[i] = f"{hit} (line {model.spans[i].line})"
    return found


def _depends_on(graph, start, leaf):
    """Whether node `start` depends on node `leaf` (iterative walk)."""
    seen = set()
    stack = [start]
    while stack:
        i = stack.pop()
        if i == leaf:
            return True
        if i in seen or i < leaf:
            continue
        seen.add(i)
        stack.extend(graph.args[i])
    return False


class _NoProgress:
    def start(self, total):
        pass

    def advance(self, n=1):
        pass


class _Draws:
    """One leaf's random elements and directions: `samples` distinct flat
    indices (sorted), then `count` unit vectors of `shape`, one at a time
    (a direction is as large as the leaf)."""

    def __init__(self, seed, name, shape, count, samples):
        self.rng = np.random.default_rng([seed, *name.encode()])
        self.shape = shape
        self.count = count
        size = math.prod(shape)
        self.flat = np.sort(self.rng.choice(size, size=min(samples, size), replace=False))

    def directions(self):
        for _ in range(self.count):
            v = self.rng.standard_normal(self.shape)
            yield v / np.linalg.norm(v)


def check(
    model64,
    model,
    *,
    target=None,
    wrt=(),
    eps=1e-6,
    rtol=1e-5,
    atol=1e-8,
    order=1,
    full=False,
    directions=DIRECTIONS,
    samples=SAMPLES,
    seed=SEED,
    max_elements=None,
    progress=None,
) -> Result:
    """Compare the derivatives of `model` (in its own dtype) with central
    differences of `model64` (the same file in float64).

    Every element is compared when `full` or when the checked leaves have at
    most `FULL_LIMIT` elements in all (and, for order 2, the Hessian's blocks
    fit in `max_elements`); otherwise the check is directional (see the
    module's docstring).  `progress`, if given, is told the number of
    evaluations to come (`start`) and each one done (`advance`)."""
    if eps <= 0:
        raise ExprError("--eps must be positive")
    if directions < 0 or samples < 0:
        raise ExprError("--directions and --samples cannot be negative")
    progress = progress or _NoProgress()
    tb = scalar_target(model, target)
    selection = select_leaves(model, wrt)
    names = selection.names
    sizes = {n: math.prod(model.shapes[model.by_name[n].node]) for n in names}
    total = sum(sizes.values())
    too_big = None
    if order == 2 and max_elements is not None:
        for a in names:
            for b in names:
                if sizes[a] * sizes[b] > max_elements:
                    too_big = (a, b)
                    break
            if too_big:
                break
    mode = "full" if full or (total <= FULL_LIMIT and too_big is None) else "directional"
    if mode == "full" and too_big is not None:
        a, b = too_big
        raise ExprError(
            f"the Hessian of '{tb.name}' with respect to '{a}' and '{b}' would have "
            f"{sizes[a] * sizes[b]:,} elements, over the limit of {max_elements:,} "
            "(--max-elements); without --full, check compares it along directions",
            tb.statement.name_span,
        )
    if mode == "directional" and directions == 0 and samples == 0:
        raise ExprError("--directions 0 and --samples 0 leave nothing to compare")
    with np.errstate(all="ignore"):
        values64 = evaluate(model64.graph)
        kinks = _kinks(model64, values64)
        values = evaluate(model.graph)
        work = _Work(
            model64,
            model,
            tb,
            values64,
            values,
            kinks,
            eps,
            rtol,
            atol,
            directions,
            samples,
            seed,
            progress,
        )
        if order == 1:
            rows = work.gradient(names, mode, sizes)
        else:
            rows = work.hessian(names, mode, sizes)
    return Result(tb, rows, order, mode, selection, total, directions, samples, seed)


class _Work:
    """The comparisons of one check: the values at the point, and options."""

    def __init__(
        self,
        model64,
        model,
        tb,
        values64,
        values,
        kinks,
        eps,
        rtol,
        atol,
        directions,
        samples,
        seed,
        progress,
    ):
        self.model64, self.model, self.tb = model64, model, tb
        self.graph64 = model64.graph
        self.t64 = model64.by_name[tb.name].node
        self.values64, self.values, self.kinks = values64, values, kinks
        self.eps, self.rtol, self.atol = eps, rtol, atol
        self.directions, self.samples, self.seed = directions, samples, seed
        self.progress = progress

    def _whole(self, mode, size):
        return mode == "full" or size <= self.samples

    def _near(self, *nodes64):
        """The kinks upstream of any of these leaves."""
        return [
            d
            for k, d in self.kinks.items()
            if any(_depends_on(self.graph64, k, n) for n in nodes64)
        ]

    # ------------------------------------------------------------ order 1

    def _f(self, node64, at):
        self.progress.advance()
        return _scalar(evaluate(self.graph64, {node64: at}), self.t64)

    def _numeric_elements(self, node64, flat):
        """Central differences of the target for the elements `flat` of a leaf."""
        x = _leaf_value(self.values64, node64)
        moved = x.copy()
        line, base = moved.reshape(-1), x.reshape(-1)
        out = np.zeros(len(flat))
        for k, j in enumerate(flat):
            line[j] = base[j] + self.eps
            up = self._f(node64, moved)
            line[j] = base[j] - self.eps
            down = self._f(node64, moved)
            line[j] = base[j]
            out[k] = (up - down) / (2 * self.eps)
        return out

    def gradient(self, names, mode, sizes):
        model, model64, values = self.model, self.model64, self.values
        plan = {
            n: (
                sizes[n]
                if self._whole(mode, sizes[n])
                else min(self.samples, sizes[n]) + self.directions
            )
            for n in names
        }
        self.progress.start(2 * sum(plan.values()))
        seed = np.ones(np.shape(values[self.tb.node]), dtype=values[self.tb.node].dtype)
        grads = backward(model.graph, values, self.tb.node, seed)
        rows = []
        for name in names:
            node, node64 = model.by_name[name].node, model64.by_name[name].node
            shape = tuple(model.shapes[node])
            g = grads[node] if grads[node] is not None else np.zeros_like(values[node])
            g = np.array(g, dtype=np.float64).reshape(shape)
            draws = None
            if self._whole(mode, sizes[name]):
                flat = np.arange(sizes[name])
            else:
                draws = _Draws(self.seed, name, shape, self.directions, self.samples)
                flat = draws.flat
            tally = _Tally()
            tally.isclose(
                g.reshape(-1)[flat],
                self._numeric_elements(node64, flat),
                self.rtol,
                self.atol,
                lambda k, flat=flat, shape=shape: _index(flat[k], shape),
            )
            row = _row((name,), tally, shape, len(flat))
            if draws is not None and draws.count:
                row.directions = self._gradient_directions(node, node64, g, draws)
                row.ok = row.ok and row.directions.ok
            rows.append(_excuse(row, self._near(node64)))
        return rows

    def _gradient_directions(self, node, node64, g, draws):
        """<g, v> (reverse mode) and the JVP along v (forward mode, every
        direction in one batch) against central differences along each v,
        and against each other.

        If every element were within tolerance, |eᵢ| <= atol + rtol·|gᵢ|,
        the error of <g, v> would be at most Σ (atol + rtol·|gᵢ|)·|vᵢ|: that
        is what a direction allows (at most atol·√n + rtol·‖g‖ for a unit v)."""
        x = _leaf_value(self.values64, node64)
        vs = list(draws.directions())
        forward = self._forward_directions(node, vs)
        tally = _Tally()
        for k, v in enumerate(vs):
            up = self._f(node64, x + self.eps * v)
            down = self._f(node64, x - self.eps * v)
            numeric = (up - down) / (2 * self.eps)
            analytic = float(np.sum(g * v))
            scale = float(np.sum(np.abs(g) * np.abs(v)))
            allowed = self.atol * float(np.sum(np.abs(v))) + self.rtol * scale
            # nan, which fails, if either side is
            errors = np.array(
                [
                    abs(analytic - numeric),
                    abs(forward[k] - numeric),
                    abs(forward[k] - analytic),
                ]
            )
            tally.add(errors, allowed, scale, lambda _, k=k: (k + 1, []))
        return _directions(tally, draws.count)

    def _forward_directions(self, node, vs):
        """The target's directional derivatives along the directions `vs` of
        leaf `node`, by forward mode: one pass with a batch of tangents."""
        value = self.values[node]
        seeds = {node: np.stack(vs).astype(np.asarray(value).dtype)}
        t = tangents(self.model.graph, self.values, seeds, [self.tb.node])[self.tb.node]
        if t is None:  # the target does not depend on the leaf
            return np.zeros(len(vs))
        return np.asarray(t, dtype=np.float64).reshape(len(vs))

    # ------------------------------------------------------------ order 2

    def _gradients(self, node64, at):
        """Every leaf's gradient (float64) with the leaf `node64` moved to `at`."""
        self.progress.advance()
        return _gradient_at(self.graph64, self.values64, self.t64, node64, at)

    def _numeric_columns(self, b64, at_plus, at_minus, a64s):
        """(∇f(b+) - ∇f(b-)) / 2eps for each leaf in `a64s`."""
        up = self._gradients(b64, at_plus)
        down = self._gradients(b64, at_minus)
        out = []
        for a64 in a64s:
            zero = np.zeros(np.shape(self.values64[a64]))
            gu = zero if up[a64] is None else up[a64]
            gd = zero if down[a64] is None else down[a64]
            out.append((np.asarray(gu, dtype=np.float64) - gd) / (2 * self.eps))
        return out

    def hessian(self, names, mode, sizes):
        model, model64 = self.model, self.model64
        nodes = [model.by_name[n].node for n in names]
        nodes64 = [model64.by_name[n].node for n in names]
        shapes = {n: tuple(model.shapes[model.by_name[n].node]) for n in names}
        plan = 0
        for b in names:
            plan += 2 * (
                sizes[b]
                if self._whole(mode, sizes[b])
                else min(self.samples, sizes[b]) + self.directions
            )
        self.progress.start(plan)
        if mode == "full":
            blocks = hessian(model.graph, self.tb.node, nodes)
            product = None
        else:
            blocks = None
            product = _HessianVector(model.graph, self.tb.node, nodes, self.values)
        rows = {}
        for b, b_node, b64 in zip(names, nodes, nodes64):
            x = _leaf_value(self.values64, b64)
            draws = None
            if self._whole(mode, sizes[b]):
                flat = np.arange(sizes[b])
            else:
                draws = _Draws(self.seed, b, shapes[b], self.directions, self.samples)
                flat = draws.flat
            # Column j of every block (a, b), element by element: from the
            # whole Hessian or from H·e_j, against differences of gradients.
            columns = {a: _Tally() for a in names}
            for j in flat:
                e = np.zeros(sizes[b])
                e[j] = self.eps
                e = e.reshape(shapes[b])
                cols = self._numeric_columns(b64, x + e, x - e, nodes64)
                if product is not None:
                    hv = product(b_node, e / self.eps)
                for a, a_node, col in zip(names, nodes, cols):
                    if product is not None:
                        analytic = hv[a_node]
                    else:
                        block = np.reshape(blocks[(a_node, b_node)], shapes[a] + (-1,))
                        analytic = block[..., j]
                    columns[a].isclose(
                        analytic,
                        col,
                        self.rtol,
                        self.atol,
                        lambda i, a=a, b=b, j=j: _index(i, shapes[a]) + _index(j, shapes[b]),
                    )
            # Along directions: H_ab·v against differences of ∇_a f along v,
            # element by element of a, as numpy.isclose with atol scaled by
            # ‖v‖₁ (each element of H·v sums Hessian elements weighted by |vⱼ|).
            along = {a: _Tally() for a in names}
            for k, v in enumerate(draws.directions() if draws is not None else ()):
                cols = self._numeric_columns(b64, x + self.eps * v, x - self.eps * v, nodes64)
                hv = product(b_node, v)
                l1 = float(np.sum(np.abs(v)))
                for a, a_node, col in zip(names, nodes, cols):
                    with np.errstate(all="ignore"):
                        err = np.abs(np.asarray(hv[a_node], dtype=np.float64) - col)
                    along[a].add(
                        err,
                        self.atol * l1 + self.rtol * np.abs(col),
                        np.abs(col),
                        lambda i, a=a, k=k: (k + 1, _index(i, shapes[a])),
                    )
            for a, a64 in zip(names, nodes64):
                row = _row((a, b), columns[a], shapes[a] + shapes[b], sizes[a] * len(flat))
                if draws is not None and draws.count:
                    row.directions = _directions(along[a], draws.count)
                    row.ok = row.ok and row.directions.ok
                rows[(a, b)] = _excuse(row, self._near(a64, b64))
        return [rows[(a, b)] for a in names for b in names]


def _index(flat, shape):
    """A flat index as a list of indices into `shape`."""
    return [int(i) for i in np.unravel_index(int(flat), shape)]


def _row(names, tally, shape, compared):
    return Row(
        tuple(names),
        tally.ok,
        tally.max_abs,
        tally.max_rel,
        tally.worst if tally.worst is not None else [],
        "",
        shape,
        compared,
        elements_ok=tally.ok,
    )


def _directions(tally, count):
    worst, where = tally.worst if tally.worst is not None else (1, [])
    return Directions(count, tally.ok, tally.max_abs, tally.max_rel, worst, where)


class _HessianVector:
    """Hessian-vector products forward over reverse, as `derivatives.hessian`:
    the forward and backward passes are recorded once on a tape with the
    leaves traced; H·v for a direction v over leaf b is then one forward-mode
    pass over the tape seeded with v at b: the tangent of ∇_a f is
    ∂(∇_a f)/∂b · v = H_ab·v, for every leaf a."""

    def __init__(self, graph, target, nodes, base):
        self.tape = Tape()
        self.nodes = nodes
        self.base = base
        self.leaves = {i: self.tape.leaf(base[i]) for i in nodes}
        values = evaluate(graph, self.leaves)
        out = values[target]
        raw = out.value if type(out) is Tensor else np.asarray(out)
        grads = backward(graph, values, target, np.ones(raw.shape, dtype=raw.dtype))
        # the leaves' gradients that depend on a leaf, by their tape node
        self.traced = {i: grads[i].id for i in nodes if type(grads[i]) is Tensor}

    def __call__(self, b, v):
        """{leaf node: (H·v) for that leaf}, v a direction over leaf node `b`."""
        out = {i: np.zeros(np.shape(self.base[i])) for i in self.nodes}
        if not self.traced:  # no gradient depends on any leaf
            return out
        seed = np.asarray(v, dtype=np.asarray(self.base[b]).dtype)[None]
        tans = tangents(
            self.tape, self.tape.values, {self.leaves[b].id: seed}, list(self.traced.values())
        )
        for i, node in self.traced.items():
            if tans[node] is not None:
                out[i] = tans[node][0]
        return out
