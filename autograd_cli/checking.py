"""`check`: reverse-mode derivatives against central finite differences.

Like PyTorch's ``gradcheck`` and JAX's ``check_grads``: each element of each
checked leaf is moved by ±eps in float64 and the target re-evaluated.  Where
the function has a kink at the point (relu or abs at 0, a tie in
max/min/maximum/minimum, clip at a bound), finite differences mean nothing
there, and a row that would fail says so instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engine import backward, evaluate, hessian
from .errors import ExprError


@dataclass
class Row:
    """One compared block: a leaf (order 1), or a pair of leaves (order 2)."""

    names: tuple
    ok: bool
    max_abs_err: float
    max_rel_err: float
    worst_index: list
    note: str
    analytic: np.ndarray
    numeric: np.ndarray


def checked_names(model, wrt=()):
    """The leaves to check: those named, else every param, else every input."""
    if wrt:
        names = []
        for name in wrt:
            b = model.binding(name, "--wrt")
            if b.kind == "node":
                raise ExprError(f"--wrt {name}: '{name}' is computed from other nodes; "
                                "derivatives are taken with respect to params and inputs",
                                b.statement.name_span)
            names.append(name)
        return names
    params = [b.name for b in model.bindings if b.kind == "param"]
    return params or [b.name for b in model.bindings if b.kind == "input"]


def _target(model, target):
    b = model.binding(target, "--of") if target is not None else model.bindings[-1]
    if int(np.prod(model.shapes[b.node])) != 1:
        raise ExprError(f"the target '{b.name}' has shape {model.shapes[b.node]}: derivatives "
                        f"need a scalar target; use sum({b.name}) or mean({b.name})",
                        b.statement.name_span)
    return b


def _compare(names, analytic, numeric, rtol, atol, kinks):
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    with np.errstate(all="ignore"):
        err = np.abs(analytic - numeric)
        err = np.where(np.isnan(analytic) & np.isnan(numeric), 0.0, err)
        allowed = atol + rtol * np.abs(numeric)
        scale = np.abs(numeric)
        rel = np.where(err == 0, 0.0, err / np.where(scale > 0, scale, np.nan))
        rel = np.where(np.isnan(rel) & (err > 0), np.inf, rel)
    bad = ~(err <= allowed)
    ok = not bad.any()
    worst = ()
    if err.size:
        ratio = np.where(np.isnan(err), np.inf, err / allowed)
        worst = np.unravel_index(int(np.argmax(ratio)), err.shape)
    note = ""
    if not ok and kinks:
        note = "not compared: " + "; ".join(kinks) + " — finite differences mean nothing there"
        ok = True
    return Row(tuple(names), ok, float(err.max()) if err.size else 0.0,
               float(rel.max()) if rel.size else 0.0, [int(i) for i in worst], note,
               analytic, numeric)


def _leaf_value(values, node):
    return np.array(values[node], dtype=np.float64)


def _numeric_gradient(graph, values, target, node, eps):
    """Central differences of the target for every element of `node`."""
    x = _leaf_value(values, node)
    out = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        f = []
        for step in (eps, -eps):
            moved = x.copy()
            moved[idx] += step
            f.append(float(np.reshape(evaluate(graph, {node: moved})[target], ())))
        out[idx] = (f[0] - f[1]) / (2 * eps)
    return out


def _gradient_at(graph, values, target, node, at):
    """The reverse-mode gradient with respect to every leaf in `at`, with the
    leaf `node` moved to a new value."""
    moved = evaluate(graph, {node: at})
    seed = np.ones(np.shape(moved[target]), dtype=np.float64)
    return backward(graph, moved, target, seed)


# A kink: (op, test on its argument values) -> what to call it.
def _kinks(model, values):
    """Nodes at a kink, as {node: description}."""
    graph = model.graph
    found = {}
    for i, op in enumerate(graph.ops):
        name = op.name
        args = [values[a] for a in graph.args[i]]
        hit = None
        with np.errstate(all="ignore"):
            if name in ("relu", "abs") and np.any(args[0] == 0):
                hit = f"{name} at 0"
            elif name in ("maximum", "minimum") and np.any(args[0] == args[1]):
                hit = f"a tie in {name}"
            elif name == "clip" and np.any((args[0] == args[1]) | (args[0] == args[2])):
                hit = "clip at a bound"
            elif name in ("max", "min"):
                axis = graph.attrs[i].get("axis")
                ans = values[i] if axis is None else np.expand_dims(values[i], axis)
                if np.any(np.sum(args[0] == ans, axis=axis) > 1):
                    hit = f"a tie in {name}"
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


def check(model64, model, *, target=None, wrt=(), eps=1e-6, rtol=1e-5, atol=1e-8, order=1):
    """Compare the derivatives of `model` (in its own dtype) with central
    differences of `model64` (the same file in float64).  Returns the rows."""
    if eps <= 0:
        raise ExprError("--eps must be positive")
    tb = _target(model, target)
    names = checked_names(model, wrt)
    graph64 = model64.graph
    t64 = model64.by_name[tb.name].node
    with np.errstate(all="ignore"):
        values64 = evaluate(graph64)
        kinks = _kinks(model64, values64)
        values = evaluate(model.graph)
        rows = []
        if order == 1:
            seed = np.ones(np.shape(values[tb.node]), dtype=values[tb.node].dtype)
            grads = backward(model.graph, values, tb.node, seed)
            for name in names:
                node, node64 = model.by_name[name].node, model64.by_name[name].node
                analytic = grads[node] if grads[node] is not None else np.zeros_like(values[node])
                numeric = _numeric_gradient(graph64, values64, t64, node64, eps)
                near = [d for k, d in kinks.items() if _depends_on(graph64, k, node64)]
                rows.append(_compare((name,), analytic, numeric, rtol, atol, near))
        else:
            nodes = [model.by_name[n].node for n in names]
            blocks = hessian(model.graph, tb.node, nodes)
            for a in names:
                for b in names:
                    na, nb = model64.by_name[a].node, model64.by_name[b].node
                    xb = _leaf_value(values64, nb)
                    numeric = np.zeros(np.shape(values64[na]) + xb.shape)
                    for idx in np.ndindex(*xb.shape):
                        sides = []
                        for step in (eps, -eps):
                            moved = xb.copy()
                            moved[idx] += step
                            g = _gradient_at(graph64, values64, t64, nb, moved)[na]
                            sides.append(np.zeros(np.shape(values64[na])) if g is None else g)
                        numeric[(Ellipsis,) + idx] = (sides[0] - sides[1]) / (2 * eps)
                    analytic = blocks[(model.by_name[a].node, model.by_name[b].node)]
                    near = [d for k, d in kinks.items()
                            if _depends_on(graph64, k, na) or _depends_on(graph64, k, nb)]
                    rows.append(_compare((a, b), analytic, numeric, rtol, atol, near))
    return tb, rows
