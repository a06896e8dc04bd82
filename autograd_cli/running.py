"""From a compiled model to a report (`run`): values, gradients, warnings.

`run` evaluates the graph and backpropagates from the target, on Python
floats for float64 scalars where it can, letting intermediate arrays go
early when asked; the report's values and gradients are checked for
non-finite numbers, and if any turns up, where each came from is found and
put in a warning.
"""

from __future__ import annotations

import math
import time

import numpy as np

from . import ops as _ops
from .core import CONST, LEAF
from .engine import (
    OutOfMemory,
    backward,
    backward_floats,
    evaluate,
    evaluate_floats,
    gradient_sources,
    releases,
)
from .errors import ExprError, Span, shorten
from .model import DTYPES, Binding, Model, blame_reshaped, format_bytes, lap
from .process import gc_paused
from .shapes import fmt_shape

# eval lets go of intermediate arrays nobody needs any more (engine.releases)
# when the model has one of at least this many elements
RELEASE_SIZE = 4096


class RunWarning:
    __slots__ = ("message", "node", "span", "index")

    def __init__(
        self,
        message: str,
        node: str | None = None,
        span: Span | None = None,
        index: tuple | None = None,
    ):
        self.message = shorten(message)  # warnings quote the input too
        self.node = node
        self.span = span
        self.index = index  # the first bad element's, () for a scalar; or None

    def __repr__(self):
        return f"RunWarning({self.message!r}, {self.node!r})"

    def __eq__(self, other):
        if not isinstance(other, RunWarning):
            return NotImplemented
        return (self.message, self.node, self.span, self.index) == (
            other.message,
            other.node,
            other.span,
            other.index,
        )

    __hash__ = None


class Report:
    __slots__ = ("model", "target", "values", "grads", "warnings", "node_values", "node_grads")

    def __init__(
        self,
        model: Model,
        target: Binding,
        values: dict,
        grads: dict,
        warnings=None,
        node_values=None,
        node_grads=None,
    ):
        self.model = model
        self.target = target
        self.values = values  # name -> array
        self.grads = grads  # name -> array
        self.warnings = [] if warnings is None else warnings
        self.node_values = [] if node_values is None else node_values  # per graph node
        self.node_grads = [] if node_grads is None else node_grads  # per node; None: 0

    def __repr__(self):
        return f"Report(target={self.target.name!r}, {len(self.warnings)} warnings)"


def _finite(v) -> bool:
    if type(v) is float or v.ndim == 0:
        return math.isfinite(v)  # ~100x cheaper than numpy on a scalar
    # A sum of squares is finite only if every element is (or it overflowed:
    # look closer); unlike isfinite(v).all() it allocates nothing the size of
    # v, and on contiguous memory BLAS's dot does it 2-3x faster than a sum.
    if v.flags.c_contiguous:
        flat = v.reshape(-1)
        total = flat.dot(flat)
    else:
        total = np.add.reduce(v, axis=None)
    return math.isfinite(total) or bool(np.isfinite(v).all())


def _finite_values(model, nodes, values) -> bool:
    """Are all the bindings' values (a list, in the order of `nodes`, the
    bindings' nodes) finite?  A binding that is a constant of the model (a
    literal, a folded constant, a leaf of one) has the same read-only array
    in every run: its answer is kept on the model (node -> (array, answer);
    held, so the identity test holds)."""
    floats = [v for v in values if type(v) is float]
    if not _floats_finite(floats):
        return False
    if len(floats) == len(values):
        return True
    graph, known = model.graph, memo_of(model).finite_constants
    for node, v in zip(nodes, values):
        if type(v) is float:
            continue  # checked above
        if type(v) is np.ndarray and not v.flags.writeable:
            if graph.ops[node] is LEAF:
                node = graph.args[node][0]
            if graph.values[node] is v:
                hit = known.get(node)
                if hit is None or hit[0] is not v:
                    hit = known[node] = (v, _finite(v))
                if hit[1]:
                    continue
                return False
        if not _finite(v):
            return False
    return True


def _grads_finite(grads) -> bool:
    """Are all of `grads` (arrays, numpy or Python scalars, None for 0) finite?"""
    if not _floats_finite([g for g in grads if type(g) is float]):
        return False
    return all(_finite(g) for g in grads if type(g) is not float and g is not None)


def _floats_finite(floats) -> bool:
    """Are these Python floats all finite?  Their sum is finite only if
    every one is (or it overflowed: then look at each)."""
    return math.isfinite(sum(floats)) or all(map(math.isfinite, floats))


def run(model: Model, target: str | None = None, timings=None, every_node=True) -> Report:
    """Evaluate the model, backpropagate from `target` (default: the last
    binding) and report every binding's value and gradient.  `timings`, if a
    dict, gets the seconds spent in 'evaluate' and 'backward'.  With
    `every_node` false, `Report.node_grads` has only the bindings' gradients,
    and the others are freed as the sweep goes (less memory)."""
    bindings = model.bindings
    tb = model.binding(target, "--of") if target is not None else bindings[-1]
    size = math.prod(model.shapes[tb.node])
    if size != 1:
        shape = fmt_shape(model.shapes[tb.node])
        raise blame_reshaped(
            ExprError(
                f"the target '{tb.name}' has shape {shape}, but a gradient needs a scalar target: "
                f"use sum({tb.name}) or mean({tb.name}) as the target, pick a scalar with --of, "
                f"or see the gradient of every element with 'autograd-cli jacobian --of "
                f"{tb.name}'",
                tb.statement.name_span,
            ),
            model.reshaped,
            model.source,
        )
    try:
        return _run(model, tb, timings, every_node)
    except OutOfMemory as e:
        raise out_of_memory(model, e.node, e.phase) from None


def out_of_memory(model: Model, i: int, phase: str) -> ExprError:
    """The error for running out of memory computing node `i`: where, and how
    large the array that did not fit and the largest of the file are."""
    b = model.bindings[model.owners[i]]
    itemsize = DTYPES[model.dtype]().itemsize
    need = math.prod(model.shapes[i]) * itemsize
    largest = max(map(math.prod, model.shapes)) * itemsize
    return ExprError(
        f"ran out of memory in the {phase} pass, computing an array of shape "
        f"{fmt_shape(model.shapes[i])} ({format_bytes(need)}) for '{b.name}'; the file's largest "
        f"array is {format_bytes(largest)} (--max-elements limits each array's size)",
        model.spans[i],
    )


def _run(model, tb, timings, every_node):
    bindings = model.bindings
    warnings = []
    keep = None
    if not every_node:
        keep = bytearray(len(model.graph))
        for b in bindings:
            keep[b.node] = 1
    with np.errstate(all="ignore"), gc_paused():
        seed = np.ones(model.shapes[tb.node], dtype=DTYPES[model.dtype])
        swept = None
        if model.floats and model.dtype == "float64":
            try:
                swept = _sweep(model, tb, seed, keep, timings, evaluate_floats, backward_floats)
            except (ArithmeticError, ValueError):
                pass  # Python refused (x / 0, an overflowing **) where numpy gives inf or nan
        if swept is None:
            swept = _sweep(
                model,
                tb,
                seed,
                keep,
                timings,
                evaluate,
                lambda graph, values, target, seed, keep: backward(
                    graph, values, target, seed, keep=keep
                ),
            )
        values, grads = swept
        start = time.perf_counter()
        # Columns, not a loop over the bindings: a report of 10^5 scalars
        # is then a few passes at C speed (lists, a sum, a zip).
        memo = memo_of(model)
        if memo.columns is None:
            memo.columns = ([b.name for b in bindings], [b.node for b in bindings])
        names, nodes = memo.columns
        binding_values = [values[i] for i in nodes]
        binding_grads = [grads[i] for i in nodes]
        # Checked while the scalars are Python floats, which one sum checks.
        bad_values = not _finite_values(model, nodes, binding_values)
        bad_grads = not _grads_finite(binding_grads)
        f64, zeros_like = np.float64, np.zeros_like
        if every_node:  # numpy's types from here on, whichever ran
            values = [f64(v) if type(v) is float else v for v in values]
            grads = [f64(g) if type(g) is float else g for g in grads]
            binding_values = [values[i] for i in nodes]
            binding_grads = [grads[i] for i in nodes]
        binding_values = [f64(v) if type(v) is float else v for v in binding_values]
        out_values = dict(zip(names, binding_values))
        out_grads = dict(
            zip(
                names,
                [
                    f64(g) if type(g) is float else (zeros_like(v) if g is None else g)  # None: 0
                    for g, v in zip(binding_grads, binding_values)
                ],
            )
        )
        if bad_values or bad_grads:
            warnings = _nonfinite_warnings(model, tb.node, seed)
        lap(timings, "backward", start)
    return Report(model, tb, out_values, out_grads, warnings, values, grads)


class Memo:
    """What `run` works out once for a model and reuses on every later run of
    it (`check` and `test` run one model many times): kept apart from the
    model's data, in `Model.memo`."""

    __slots__ = ("finite_constants", "largest", "plans", "columns")

    def __init__(self):
        self.finite_constants = {}  # see _finite_values
        self.largest = None  # elements of the largest node
        self.plans = {}  # bytes(keep) -> `releases`
        self.columns = None  # the bindings' names and nodes, two lists (see run)


def memo_of(model) -> Memo:
    """The model's memo, made on first use."""
    memo = model.memo
    if memo is None:
        memo = model.memo = Memo()
    return memo


def _sweep(model, tb, seed, keep, timings, evaluate, backward):
    start = time.perf_counter()
    release = None
    if keep is not None:
        # What to release and when depends on the graph and `keep` only: worked
        # out once per model (and the largest size with it).
        memo = memo_of(model)
        if memo.largest is None:
            memo.largest = max(map(math.prod, model.shapes))
        if memo.largest >= RELEASE_SIZE:
            key = bytes(keep)
            release = memo.plans.get(key)
            if release is None:
                release = memo.plans[key] = releases(model.graph, keep)
    values = evaluate(model.graph, release=release)
    start = lap(timings, "evaluate", start)
    grads = backward(model.graph, values, tb.node, seed, keep)  # may drop values
    lap(timings, "backward", start)
    return values, grads


# Sources of non-finite numbers listed per pass; the rest are counted, so
# that a file with thousands of them stays readable.
MAX_SOURCES = 10


def _nonfinite_warnings(model, target, seed) -> list:
    """A warning for each source of a nan or inf: an op (or a number, or a
    given value) whose output is not finite though its inputs are, in the
    forward pass; in the backward pass, an op whose VJP gives a non-finite
    gradient from a finite incoming gradient and finite values (see
    `engine.gradient_sources`).  Called only when the report's cheap check
    found a non-finite value or gradient: the passes run again with every
    value kept, on the float kernels where the run used them (numpy where
    Python refuses), which give numpy's numbers."""
    graph = model.graph
    found = None
    if model.floats and model.dtype == "float64":
        try:  # the float kernels first: they give numpy's numbers, at a fraction of its cost
            found = _sources(model, evaluate_floats(graph), target, seed)
        except (ArithmeticError, ValueError):
            pass  # Python refused (x / 0, an overflowing **) where numpy gives inf or nan
    if found is None:
        found = _sources(model, evaluate(graph), target, seed)
    every, forward, backward = found
    warnings = []
    for i in forward[:MAX_SOURCES]:
        warnings.append(_value_warning(model, i, every[i]))
    _count_the_rest(warnings, len(forward), "forward")
    for i, g, how in backward[:MAX_SOURCES]:
        warnings.append(_gradient_warning(model, i, g, how))
    _count_the_rest(warnings, len(backward), "backward")
    return warnings


def _sources(model, every, target, seed):
    """Every node's value (`every`, from a forward pass that kept them all)
    and the sources of non-finite numbers in the forward and backward passes."""
    ok = bytearray([v is None or _finite(v) for v in every])
    forward = _value_sources(model, every, ok)
    if type(every[target]) is float:
        seed = float(seed)
    return every, forward, gradient_sources(model.graph, every, target, seed, _finite, ok)


def _count_the_rest(warnings, found, stage):
    more = found - MAX_SOURCES
    if more > 0:
        warnings.append(
            RunWarning(
                f"and {more} more source{'s' if more > 1 else ''} of nan or "
                f"inf in the {stage} pass, not listed"
            )
        )


def _value_sources(model, values, ok) -> list:
    """The nodes whose value is not finite though their arguments' are.  A
    folded constant has no arguments left in the graph: its inputs were the
    constants folded into it, which lie within its span and came just before
    it, so it is a source only when no non-finite constant of its binding
    does (a stack of the non-finite constants seen, innermost last)."""
    graph, spans, owners = model.graph, model.spans, model.owners
    columns = graph.args
    arity, first, second = columns.arity, columns.first, columns.second
    out = []
    inner = []  # spans of the binding's non-finite constants not yet enclosed
    owner = -1
    for i in range(len(values)):
        if ok[i]:
            continue
        if graph.ops[i] is CONST:
            if owners[i] != owner:
                owner, inner = owners[i], []
            span = spans[i]
            enclosed = False
            while inner and (
                inner[-1].source is span.source
                and span.start <= inner[-1].start
                and inner[-1].end <= span.end
            ):
                inner.pop()
                enclosed = True
            inner.append(span)
            if not enclosed:
                out.append(i)
        else:
            n = arity[i]
            if n == 2:
                clean = ok[first[i]] and ok[second[i]]
            elif n == 1:
                clean = ok[first[i]]
            else:
                clean = all([ok[a] for a in columns[i]])
            if clean:
                out.append(i)
    return out


def _first_bad(v):
    """What non-finite number the array `v` holds (nan before inf before
    -inf) and the index of the first element that is one, () for a scalar."""
    v = np.asarray(_ops.raw(v))
    for kind, hit in (("nan", np.isnan), ("inf", np.isposinf), ("-inf", np.isneginf)):
        where = hit(v)
        if where.any():
            if v.ndim == 0:
                return kind, ()
            return kind, tuple(int(k) for k in np.unravel_index(int(where.argmax()), v.shape))
    return "nan", ()  # not reached: `v` is not finite


def _at(index) -> str:
    return f" at [{', '.join(map(str, index))}]" if index else ""


def _value_warning(model, i, v):
    b = model.bindings[model.owners[i]]
    kind, index = _first_bad(v)
    if model.labels[i] == "number":
        message = (
            f"the number {model.spans[i].text} is {kind} in "
            f"{model.dtype} (in the value of '{b.name}')"
        )
    elif model.labels[i] == "given value":
        # Shown at the binding in the file: the value's place in a JSON
        # document is no part of the file's report.
        in_dtype = "" if model.dtype == "float64" else f" in {model.dtype}"
        return RunWarning(
            f"the value given for '{b.name}' has {kind}{_at(index)}{in_dtype}",
            b.name,
            b.statement.name_span,
            index,
        )
    else:
        message = f"{model.labels[i]} gives {kind}{_at(index)} in the value of '{b.name}'"
    return RunWarning(message, b.name, model.spans[i], index)


def _gradient_warning(model, i, g, how):
    b = model.bindings[model.owners[i]]
    kind, index = _first_bad(g)
    if how == "vjp":
        return RunWarning(
            f"the gradient through {model.labels[i]} gives {kind}{_at(index)} "
            f"(backward pass, in '{b.name}')",
            b.name,
            model.spans[i],
            index,
        )
    # Gradients add up only where a node has more than one use, and only a
    # binding's node has: every other node is one operand of one expression.
    return RunWarning(
        f"the gradients from the uses of '{b.name}' add up to {kind}{_at(index)} (backward pass)",
        b.name,
        b.statement.name_span,
        index,
    )
