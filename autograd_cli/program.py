"""From statements to a checked graph, and from the graph to a report.

`load` parses and compiles a file: names are resolved, every node's shape is
inferred and its size checked against the limit before anything is
allocated, constant sub-expressions are folded, and each binding gets its
kind (param, input, node).  `run` evaluates, backpropagates and collects
warnings about non-finite numbers.
"""

from __future__ import annotations

import contextlib
import gc
import math
import time
from array import array

import numpy as np

from . import ops as _ops
from .core import CONST, LEAF, Graph
from .engine import (OutOfMemory, backward, backward_floats, evaluate, evaluate_floats,
                     gradient_sources, releases)
from .errors import ExprError, ShapeError, Source, Span, Spans, shorten
from .functions import FUNCTIONS, REQUIRED
from .ops import OPS
from .parser import Expr, Statement, parse
from .shapes import fmt_shape

DEFAULT_MAX_ELEMENTS = 10**8
# eval lets go of intermediate arrays nobody needs any more (engine.releases)
# when the model has one of at least this many elements
RELEASE_SIZE = 4096
MAX_DIMS = 32
_MAX_BYTES = 2**63 - 1   # numpy's limit on an array's size in bytes (its intp)
DTYPES = {"float64": np.float64, "float32": np.float32}
_NO_ATTRS = {}      # shared by every node without attributes; never modified
_ELEMENTWISE = (_ops.broadcast, _ops.same)   # shape rules: the arguments' common shape
# functions of arrays only, bound positionally in the usual case
_PLAIN = {name for name, fn in FUNCTIONS.items() if not fn.static and not fn.varargs}


# The records below are plain classes, not dataclasses: making a dataclass
# runs `exec` for each generated method, ~0.5 ms a class at every start.

class Binding:
    __slots__ = ("name", "kind", "statement", "node")

    def __init__(self, name: str, kind: str, statement: Statement, node: int):
        self.name = name
        self.kind = kind            # 'param', 'input' or 'node'
        self.statement = statement
        self.node = node            # graph node holding the binding's value

    @property
    def expr(self) -> str:
        return self.statement.rhs_text

    def __repr__(self):
        return f"Binding({self.name!r}, {self.kind!r}, node={self.node})"


class Model:
    __slots__ = ("source", "dtype", "graph", "shapes", "spans", "labels", "owners",
                 "bindings", "by_name", "sets", "floats", "finite_constants", "largest",
                 "plans", "columns", "reshaped")

    def __init__(self, source: Source, dtype: str, graph: Graph, shapes: list, spans: Spans,
                 labels: list, owners: list, bindings: list, by_name: dict, sets=None):
        self.source = source
        self.dtype = dtype
        self.graph = graph
        self.shapes = shapes        # per node
        self.spans = spans          # per node
        self.labels = labels        # per node: what made it ('mul', 'number', 'leaf', ...)
        self.owners = owners        # per node: index of the binding it belongs to
        self.bindings = bindings
        self.by_name = by_name
        self.sets = {} if sets is None else sets  # name -> the value --set/--set-json gave
        self.floats = True          # `run` computes float64 scalars as Python floats
        self.finite_constants = {}  # see _finite_values
        self.largest = None         # elements of the largest node
        self.plans = {}             # bytes(keep) -> `releases`
        self.reshaped = []          # (name, option, file's shape, new shape, span) per
                                    # binding whose shape --set/--set-json changed
        self.columns = None         # the bindings' names and nodes, two lists (see run)

    def __repr__(self):
        return (f"Model({self.source.name!r}, {self.dtype}, "
                f"{len(self.bindings)} bindings, {len(self.shapes)} nodes)")

    def binding(self, name: str, option: str) -> Binding:
        """The binding called `name`, named by a command-line `option`."""
        b = self.by_name.get(name)
        if b is None:
            whole, bracket, _ = name.partition("[")
            if bracket and whole.strip() in self.by_name:
                whole = whole.strip()
                hint = (f"bind the element to a name in the file (t = {name}) and use "
                        f"{option} t" if option == "--of" else
                        f"use {option} {whole} (every element of it), or autograd-cli explain "
                        f"--wrt \"{name}\" for the chain rule of one element")
                raise ExprError(f"{option} {name}: {option} takes the name of a binding, and "
                                f"'{name}' is part of '{whole}': {hint}")
            raise ExprError(f"{option} {name}: there is no binding named '{name}' in "
                            f"{self.source.name}{_suggest(name, self.by_name)}")
        return b


class RunWarning:
    __slots__ = ("message", "node", "span", "index")

    def __init__(self, message: str, node: str | None = None, span: Span | None = None,
                 index: tuple | None = None):
        self.message = shorten(message)   # warnings quote the input too
        self.node = node
        self.span = span
        self.index = index          # the first bad element's, () for a scalar; or None

    def __repr__(self):
        return f"RunWarning({self.message!r}, {self.node!r})"

    def __eq__(self, other):
        if not isinstance(other, RunWarning):
            return NotImplemented
        return ((self.message, self.node, self.span, self.index)
                == (other.message, other.node, other.span, other.index))

    __hash__ = None


class Report:
    __slots__ = ("model", "target", "values", "grads", "warnings", "node_values",
                 "node_grads")

    def __init__(self, model: Model, target: Binding, values: dict, grads: dict,
                 warnings=None, node_values=None, node_grads=None):
        self.model = model
        self.target = target
        self.values = values        # name -> array
        self.grads = grads          # name -> array
        self.warnings = [] if warnings is None else warnings
        self.node_values = [] if node_values is None else node_values  # per graph node
        self.node_grads = [] if node_grads is None else node_grads     # per node; None: 0

    def __repr__(self):
        return f"Report(target={self.target.name!r}, {len(self.warnings)} warnings)"


def _suggest(name, names) -> str:
    """' (did you mean ...?)' with the closest of `names`; ties go to the first."""
    import difflib          # only for a message: not at every start

    best, best_score = None, 0.5
    n = len(name)
    for candidate in names:
        # The ratio is at most this bound (difflib's real_quick_ratio): most
        # names of a long file are passed over without a matcher.
        m = len(candidate)
        if 2 * min(n, m) / (n + m or 1) < best_score:
            continue
        score = difflib.SequenceMatcher(None, name, candidate).ratio()
        if score > best_score or (score == best_score and best is None):
            best, best_score = candidate, score
    return f" (did you mean '{best}'?)" if best is not None else ""


# ---------------------------------------------------------------- compiling

def _lap(timings, phase, start):
    """Add the time since `start` to `timings[phase]`; the time now."""
    now = time.perf_counter()
    if timings is not None:
        timings[phase] = timings.get(phase, 0.0) + now - start
    return now


def load(source: Source, *, dtype: str = "float64", sets=(), values=(), any_shape=False,
         max_elements: int = DEFAULT_MAX_ELEMENTS, timings=None, keep_exprs=True) -> Model:
    """Parse and compile `source`.  `sets` are (name, Source) pairs from --set;
    `values` are `GivenValue`s (from --set-json), applied before `sets`, each
    of the shape of the binding it replaces unless `any_shape`;
    `timings`, if a dict, gets the seconds spent in 'parse' and 'check'.  With
    `keep_exprs` false, the expression trees (which `explain` reads) are let
    go once the graph is built: a statement keeps only its right side's span."""
    if not sets and not values and not keep_exprs:
        return _load_streaming(source, dtype, max_elements, timings)
    start = time.perf_counter()
    with gc_paused():
        statements = parse(source)
    if not statements:
        raise ExprError(_NO_STATEMENTS, Span.at(source, 0))
    origins = {}
    statements, replaced = _apply_values(statements, values, source, any_shape, origins)
    statements, replaced = _apply_sets(statements, sets, source, replaced, origins)
    start = _lap(timings, "parse", start)
    with np.errstate(all="ignore"), gc_paused():  # non-finite constants: see `run`
        model = _Compiler(source, dtype, max_elements).compile(statements, replaced, origins)
        if not keep_exprs:
            for b in model.bindings:
                _strip(b.statement)
    _lap(timings, "check", start)
    return model


_NO_STATEMENTS = "the file has no statements: nothing to evaluate"


def _load_streaming(source, dtype, max_elements, timings) -> Model:
    """`load` compiling each statement as soon as it is parsed, its tree let
    go at once: a long file never holds all its trees (memory stays flat).

    Errors are those of the whole-file path, which parses the whole file
    before it compiles: once a statement fails to compile, the rest is only
    parsed (a later syntax error wins over, say, running out of memory on an
    earlier constant), and then that statement is compiled again knowing
    the names bound from it on (for "used before it is bound")."""
    compiler = _Compiler(source, dtype, max_elements)
    compiler.bindings, compiler.by_name, compiler.later = [], {}, {}
    compiler.replaced, compiler.sets = {}, {}
    clock = time.perf_counter
    checking = [0.0]
    failed = []         # the first statement that did not compile, and why
    later = {}          # from it on: name -> the statement that first binds it

    def each(st):
        if failed:
            later.setdefault(st.name, st)
            _strip(st)
            return
        t = clock()
        try:
            compiler.statement(st)
        except Exception as exc:  # noqa: BLE001  (raised again once the file is parsed)
            failed.append((exc, st))
            later[st.name] = st
            return
        _strip(st)
        checking[0] += clock() - t

    start = clock()
    with np.errstate(all="ignore"), gc_paused():
        parse(source, each)
        if failed:
            exc, st = failed[0]
            if isinstance(exc, ExprError):
                compiler.later = later
                compiler.statement(st)      # raises, with what is bound later
            raise exc
        if not compiler.bindings:
            raise ExprError(_NO_STATEMENTS, Span.at(source, 0))
        model = compiler.model()
    if timings is not None:
        timings["parse"] = timings.get("parse", 0.0) + clock() - start - checking[0]
        timings["check"] = timings.get("check", 0.0) + checking[0]
    return model


@contextlib.contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector: building a graph allocates
    millions of objects and no cycles, and the collector's passes over them
    would take half the time."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _uses_names(stmt: Statement) -> bool:
    return any(e.kind == "name" and e.data != "pi" for e in stmt.nodes)


class GivenValue:
    """A value for a binding given as data (--set-json), not as text to parse."""
    __slots__ = ("name", "value", "name_span", "span")

    def __init__(self, name: str, value: np.ndarray, name_span: Span, span: Span):
        self.name = name
        self.value = value          # float64
        self.name_span = name_span  # where the name is given (a JSON key)
        self.span = span            # where the value is given


def _settable(by_name, name, name_span, source, option):
    """The statement `name` binds, if an option may replace its right side."""
    target = by_name.get(name)
    if target is None:
        raise ExprError(f"there is no binding named '{name}' in {source.name}"
                        f"{_suggest(name, by_name)}", name_span)
    if not target.is_param and _uses_names(target):
        raise ExprError(f"'{name}' is computed from other nodes (line "
                        f"{target.name_span.line}); only inputs and params can be set"
                        + (f" with {option}" if option != "--set" else ""), name_span)
    return target


def _first_bindings(statements):
    by_name = {}
    for s in statements:
        by_name.setdefault(s.name, s)
    return by_name


def _apply_values(statements, values, source, any_shape, origins):
    """Replace right sides with `GivenValue`s.  Returns the statements and, for
    each new statement (by id), the statement whose shape it must keep (None:
    any shape).  `origins` gets, for each new statement, the file's statement
    and the option that replaced it."""
    if not values:
        return statements, {}
    by_name = _first_bindings(statements)
    new = {}
    for given in values:
        target = _settable(by_name, given.name, given.name_span, source, "--set-json")
        root = Expr.at("value", given.value, (), given.span)
        new[id(target)] = (Statement(target.name, target.name_span, target.is_param, root,
                                     [root], target.span), target)
    out = [new[id(s)][0] if id(s) in new else s for s in statements]
    origins.update((id(stmt), (original, "--set-json")) for stmt, original in new.values())
    return out, {id(stmt): (None if any_shape else original) for stmt, original in new.values()}


def _apply_sets(statements, sets, source, replaced, origins):
    """Replace right sides with --set values, as `_apply_values` does."""
    by_name = _first_bindings(statements)
    replaced = dict(replaced or {})
    new_statements = {}
    for name, set_source in sets:
        parsed = parse(set_source)
        if len(parsed) != 1:
            raise ExprError(f"--set takes one NAME=VALUE, got {len(parsed)} statements",
                            Span.at(set_source, 0))
        new = parsed[0]
        if new.is_param:
            raise ExprError("--set takes NAME=VALUE; 'param' comes from the file",
                            new.span)
        target = _settable(by_name, new.name, new.name_span, source, "--set")
        if _uses_names(new):
            raise ExprError("a --set value is a constant: it cannot use other names",
                            next(e.span for e in new.nodes
                                 if e.kind == "name" and e.data != "pi"))
        stmt = Statement(target.name, target.name_span, target.is_param, new.root, new.nodes,
                         target.span)
        replaced.pop(id(target), None)   # --set wins over --set-json
        new_statements[id(target)] = stmt
        file_statement = origins.get(id(target), (target,))[0]
        origins[id(stmt)] = (file_statement, "--set")
    for old_id, stmt in new_statements.items():
        replaced[id(stmt)] = None
    return [new_statements.get(id(s), s) for s in statements], replaced


class _Compiler:
    def __init__(self, source, dtype, max_elements):
        self.source = source
        self.dtype_name = dtype
        self.dtype = DTYPES[dtype]
        self.max_elements = max_elements
        self.graph = Graph()
        self.shapes, self.spans, self.labels = [], Spans(source), []
        self.owners = array("q")   # per node: its binding (an index)
        self.owner = -1

    # nodes

    def _node(self, op, args, attrs, shape, span, label, value=None):
        """A new graph node; `span` is a `Span` or the `Expr` written there."""
        graph = self.graph            # Graph.add, inlined: a node per operator
        requires = graph.requires
        needed = op.is_leaf
        if not needed:
            for a in args:
                if requires[a]:
                    needed = True
                    break
        g = len(requires)
        graph.ops.append(op)
        graph.args.append(args)
        graph.attrs.append(attrs or _NO_ATTRS)
        graph.values.append(value)
        requires.append(needed)
        self.shapes.append(shape)
        spans = self.spans
        if span.source is spans.source:   # Spans.append, inlined: a node per operator
            spans.starts.append(span.start)
            spans.ends.append(span.end)
        else:
            spans.append(span.span if type(span) is Expr else span)
        self.labels.append(label)
        self.owners.append(self.owner)
        return g

    def _check_size(self, shape, span):
        if len(shape) > MAX_DIMS:
            raise ExprError(f"this array would have {len(shape)} dimensions; "
                            f"at most {MAX_DIMS} are supported", span)
        size = math.prod(shape)
        if size > self.max_elements:
            raise ExprError(f"this array would have {size:,} elements (shape "
                            f"{fmt_shape(shape)}), over the limit of {self.max_elements:,} "
                            f"(--max-elements)", span)
        # numpy refuses an empty array whose other dimensions multiply past
        # what an address can hold, and any array of more bytes than that.
        extent = math.prod([d for d in shape if d]) if not size else size
        if extent > self.max_elements:
            raise ExprError(f"this empty array's dimensions (shape {fmt_shape(shape)}) multiply "
                            f"to {extent:,} without its zeros, over the limit of "
                            f"{self.max_elements:,} (--max-elements)", span)
        if extent * self.dtype().itemsize > _MAX_BYTES:
            raise ExprError(f"this array would need {extent * self.dtype().itemsize:,} bytes "
                            f"(shape {fmt_shape(shape)}), more than memory can address", span)

    def const(self, value, span, label="number"):
        value = np.asarray(value, dtype=self.dtype)   # no copy of a fresh array
        if value.ndim == 0:
            value = value[()]  # a numpy scalar: scalar arithmetic, as in the results
        else:
            value.flags.writeable = False  # shared by every run of the model
        return self._node(CONST, (), None, value.shape, span, label, value)

    def apply(self, e, opname, args, attrs=None, label=None):
        """Add op `opname` on arg Exprs `args`; fold it if they are constant."""
        op = OPS[opname]
        attrs = attrs or _NO_ATTRS
        shapes = self.shapes
        if len(args) == 2:            # the common cases first
            x, y = args
            ids = (x.gid, y.gid)
            shape = shapes[ids[0]]
            same = shape == shapes[ids[1]]
            e.const = x.const and y.const
        elif len(args) == 1:
            x = args[0]
            ids = (x.gid,)
            shape = shapes[ids[0]]
            same = True
            e.const = x.const
        else:
            ids = tuple([a.gid for a in args])
            shape = shapes[ids[0]] if ids else None
            same = bool(ids) and all([shapes[i] == shape for i in ids[1:]])
            e.const = all([a.const for a in args])
        if not (same and op.shape in _ELEMENTWISE):
            # else: an elementwise op on arguments of one shape, checked already
            try:
                shape = tuple(op.shape(*[shapes[i] for i in ids], **attrs))
            except ShapeError as err:
                raise ExprError(str(err), e.span) from None
            self._check_size(shape, e.span)
        if e.const:
            try:
                with np.errstate(all="ignore"):
                    value = op.forward(*[self.graph.values[i] for i in ids], **attrs)
                e.gid = self.const(value, e, label or opname)
            except MemoryError:
                nbytes = math.prod(shape) * self.dtype().itemsize
                raise ExprError(f"ran out of memory making this constant array of shape "
                                f"{fmt_shape(shape)} ({_bytes(nbytes)}); --max-elements "
                                "limits each array's size", e.span) from None
        else:
            e.gid = self._node(op, ids, attrs, shape, e, label or opname)

    # expressions

    def expr(self, e):
        kind = e.kind
        if kind == "number":   # `const`, for a float: a numpy scalar of the dtype
            e.const = True
            e.gid = self._node(CONST, (), None, (), e, "number", self.dtype(e.data))
        elif kind == "name":
            self.name(e)
        elif kind == "op":
            self.apply(e, e.data, e.args)
        elif kind == "call":
            self.call(e)
        elif kind == "index":
            self.index(e)
        elif kind == "value":   # given as data (--set-json)
            self._check_size(e.data.shape, e.span)
            e.const = True
            e.gid = self.const(e.data, e.span, "given value")
        else:
            self.list(e)

    def name(self, e):
        b = self.by_name.get(e.data)
        if b is not None:
            e.const = False
            e.gid = b.node
        elif e.data == "pi":
            e.const = True
            e.gid = self.const(math.pi, e.span, "pi")
        elif e.data in self.later:
            line = self.later[e.data].name_span.line
            raise ExprError(f"'{e.data}' is used before it is bound (on line {line})", e.span)
        else:
            raise ExprError(f"undefined name '{e.data}'{_suggest(e.data, self.by_name)}",
                            e.span)

    def static(self, e, what, floats=False):
        """The constant number an argument must be (a shape, an axis, a count)."""
        if not e.const:
            raise ExprError(f"{what} must be a constant number, not computed from other names",
                            e.span)
        value = self.graph.values[e.gid]
        if value.shape != ():
            raise ExprError(f"{what} must be a single number, got an array of shape "
                            f"{fmt_shape(value.shape)}", e.span)
        v = float(value)
        if floats:
            if not math.isfinite(v):
                raise ExprError(f"{what} must be finite, got {v}", e.span)
            return v
        if not math.isfinite(v) or v != int(v):
            raise ExprError(f"{what} must be an integer, got {_num(v)}", e.span)
        if abs(v) >= 2**63:
            raise ExprError(f"{what} is too large: {v:g}", e.span)
        return int(v)

    def call(self, e):
        fname = e.data
        fn = FUNCTIONS.get(fname)
        if fname in _PLAIN and not e.keywords and len(e.args) == len(fn.arrays):
            self.apply(e, fn.op, e.args, label=fname)
            return
        if fn is None:
            hint = _suggest(fname, FUNCTIONS)
            if fname in self.by_name or fname == "pi":
                raise ExprError(f"'{fname}' is a value, not a function", e.span)
            raise ExprError(f"unknown function '{fname}'{hint}", e.span)
        npos = len(e.args) - len(e.keywords)
        positional = e.args[:npos]
        keyword, keyword_spans = {}, {}
        for (k, span), a in zip(e.keywords, e.args[npos:]):
            if k in keyword:
                raise ExprError(f"{fname}() got the argument '{k}' twice", span)
            keyword[k], keyword_spans[k] = a, span
        usage = f"; usage: {fn.usage}"
        bound = {}
        names = list(fn.arrays) + ([] if fn.varargs else list(fn.static))
        extra = []
        for i, a in enumerate(positional):
            if i < len(fn.arrays) or not fn.varargs:
                if i >= len(names):
                    raise ExprError(f"{fname}() takes at most {len(names)} argument"
                                    f"{'s' if len(names) != 1 else ''}, got {len(positional)}"
                                    + usage, a.span)
                bound[names[i]] = a
            else:
                extra.append(a)
        for k, a in keyword.items():
            if k not in fn.arrays and k not in fn.static:
                known = list(fn.arrays) + list(fn.static)
                raise ExprError(f"{fname}() has no argument '{k}'{_suggest(k, known)}" + usage,
                                keyword_spans[k])
            if k in bound:
                raise ExprError(f"{fname}() got the argument '{k}' twice", keyword_spans[k])
            bound[k] = a
        missing = [n for n in fn.arrays if n not in bound]
        missing += [n for n, d in fn.static.items() if d is REQUIRED and n not in bound]
        if missing:
            raise ExprError(f"{fname}() is missing the argument '{missing[0]}'" + usage, e.span)
        attrs = {}
        for n, default in fn.static.items():
            if n in bound:
                attrs[n] = self.static(bound[n], f"{fname}(): {n}", floats=n in fn.floats)
            elif default is not None:
                attrs[n] = default
            else:
                attrs[n] = None
        if fn.varargs:
            dims = tuple(self.static(a, f"{fname}(): a dimension") for a in extra)
            if fn.op == "reshape":
                if not dims:
                    raise ExprError("reshape() needs the new dimensions" + usage, e.span)
            elif any(d < 0 for d in dims):
                raise ExprError(f"{fname}(): dimensions must not be negative, got "
                                f"{fmt_shape(dims)}", e.span)
            attrs[fn.varargs] = dims
        if OPS[fn.op].constructor:
            self._constructor_attrs(e, fn, attrs)
        self.apply(e, fn.op, [bound[n] for n in fn.arrays], attrs, label=fname)

    def _constructor_attrs(self, e, fn, attrs):
        attrs["dtype"] = self.dtype
        if fn.op == "arange" and attrs["stop"] is None:
            attrs["start"], attrs["stop"] = 0.0, attrs["start"]
        for n in ("n",):
            if n in attrs and attrs[n] < 0:
                raise ExprError(f"{e.data}(): {n} must not be negative, got {attrs[n]}", e.span)
        if "seed" in attrs and attrs["seed"] < 0:
            raise ExprError(f"{e.data}(): seed must not be negative", e.span)

    def index(self, e):
        key = []
        for s in e.data:
            if isinstance(s, tuple):
                parts = [None if p is None else self.static(p, "a slice bound") for p in s[1:]]
                if parts[2] == 0:
                    raise ExprError("slice step cannot be zero", e.span)
                key.append(slice(*parts))
            else:
                key.append(self.static(s, "an index"))
        self.apply(e, "index", e.args, {"key": tuple(key)})

    def list(self, e):
        if not e.args:
            e.const = True
            e.gid = self.const(np.zeros((0,)), e.span, "list")
            return
        first = self.shapes[e.args[0].gid]
        for k, a in enumerate(e.args[1:], 2):
            if self.shapes[a.gid] != first:
                raise ExprError(f"ragged list: element {k} has shape "
                                f"{fmt_shape(self.shapes[a.gid])}, but element 1 has shape "
                                f"{fmt_shape(first)}", a.span)
        self.apply(e, "stack", e.args, label="list")

    # statements

    def _shape_of(self, statement):
        """The shape `statement`'s right side has, without keeping its nodes."""
        mark = len(self.graph)
        for e in statement.nodes:
            self.expr(e)
        shape = self.shapes[statement.root.gid]
        g = self.graph
        for column in (g.ops, g.args, g.attrs, g.values, g.requires, self.shapes,
                       self.labels, self.owners):
            del column[mark:]
        self.spans.truncate(mark)
        return shape

    def _check_given_shape(self, s, original):
        want = self._shape_of(original)
        got = self.shapes[s.root.gid]
        if got != want:
            raise ExprError(f"'{s.name}' has shape {fmt_shape(want)} (line "
                            f"{original.name_span.line} of {self.source.name}), but the value "
                            f"given for it has shape {fmt_shape(got)} (--any-shape lets a "
                            "value change the shape)", s.root.span)

    def compile(self, statements, replaced=None, origins=None) -> Model:
        """The model of a whole file's statements.  `replaced` maps id() of a
        statement that --set/--set-json gave to the file's own statement
        (None: any shape goes); `origins` maps it to the file's statement and
        the option that gave it, to name the option in errors."""
        self.bindings, self.by_name, self.later = [], {}, {}
        self.replaced, self.sets = replaced or {}, {}
        for s in statements:
            self.later.setdefault(s.name, s)
        self.reshaped = []
        for s in statements:
            try:
                self.statement(s)
            except ExprError as e:
                raise blame_reshaped(e, self.reshaped, self.source) from None
            if origins and id(s) in origins:
                self._note_reshaped(s, *origins[id(s)])
        model = self.model()
        model.reshaped = self.reshaped
        return model

    def _note_reshaped(self, s, original, option):
        """Remember that `option` gave `s` a shape other than the file's."""
        try:
            was = self._shape_of(original)
        except ExprError:
            return
        now = self.shapes[self.by_name[s.name].node]
        if now != was:
            self.reshaped.append((s.name, option, was, now, s.root.span))

    def statement(self, s):
        """Compile one statement.  `self.later` names the statements still to
        come (for 'used before it is bound'); it may be empty."""
        if s.name == "pi":
            raise ExprError("'pi' is a builtin constant and cannot be bound", s.name_span)
        if s.name in self.by_name:
            first = self.by_name[s.name].statement
            raise ExprError(f"'{s.name}' is already bound", s.name_span,
                            notes=[(first.name_span, f"'{s.name}' is first bound here")])
        del_later = self.later.get(s.name) is s
        self.owner = len(self.bindings)
        for e in s.nodes:
            self.expr(e)
        root = s.root
        if id(s) in self.replaced:
            self.sets[s.name] = self.graph.values[root.gid]
            if self.replaced[id(s)] is not None:
                self._check_given_shape(s, self.replaced[id(s)])
        kind = "param" if s.is_param else ("input" if root.const else "node")
        if kind == "node":
            node = root.gid
            if root.kind == "name":   # an alias gets a node of its own
                node = self._node(OPS["pos"], (root.gid,), None, self.shapes[root.gid],
                                  root.span, "pos")
        else:
            node = self._node(LEAF, (root.gid,), None, self.shapes[root.gid], root.span,
                              "leaf")
        b = Binding(s.name, kind, s, node)
        self.bindings.append(b)
        self.by_name[s.name] = b
        if del_later:
            del self.later[s.name]

    def model(self) -> Model:
        return Model(self.source, self.dtype_name, self.graph, self.shapes, self.spans,
                     self.labels, self.owners, self.bindings, self.by_name, self.sets)


def blame_reshaped(error: ExprError, reshaped, source) -> ExprError:
    """`error`, naming the options that changed a binding's shape: an error
    located in the file may come from a shape the command line gave."""
    if not reshaped or error.span is None or error.span.source is not source:
        return error
    error.message += "".join(f" ({option} changed the shape of '{name}' from "
                             f"{fmt_shape(was)} to {fmt_shape(now)})"
                             for name, option, was, now, _ in reshaped)
    error.notes += [(span, f"'{name}' is given shape {fmt_shape(now)} here, by {option}")
                    for name, option, was, now, span in reshaped]
    return error


def _strip(st: Statement):
    """Let a compiled statement's expression tree go; keep its right side's
    span (and an alias's name)."""
    root = st.root
    st.root = Expr(root.kind, root.data if root.kind == "name" else None, (),
                   root.source, root.start, root.end)
    st.nodes = ()
    st.span = None    # the whole statement's span serves --set, before compiling


def _num(v: float) -> str:
    return str(int(v)) if math.isfinite(v) and v == int(v) else repr(v)


# ------------------------------------------------------------------ running

def _finite(v) -> bool:
    if v.ndim == 0:
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
    graph, known = model.graph, model.finite_constants
    for node, v in zip(nodes, values):
        if type(v) is float:
            continue                     # checked above
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
        raise blame_reshaped(ExprError(
            f"the target '{tb.name}' has shape {shape}, but a gradient needs a scalar target: "
            f"use sum({tb.name}) or mean({tb.name}) as the target, pick a scalar with --of, "
            f"or see the gradient of every element with 'autograd-cli jacobian --of "
            f"{tb.name}'", tb.statement.name_span), model.reshaped, model.source)
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
        f"{fmt_shape(model.shapes[i])} ({_bytes(need)}) for '{b.name}'; the file's largest "
        f"array is {_bytes(largest)} (--max-elements limits each array's size)",
        model.spans[i])


def _bytes(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:,} bytes" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TiB"


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
                swept = _sweep(model, tb, seed, keep, timings, evaluate_floats,
                               backward_floats)
            except (ArithmeticError, ValueError):
                pass  # Python refused (x / 0, an overflowing **) where numpy gives inf or nan
        if swept is None:
            swept = _sweep(model, tb, seed, keep, timings, evaluate,
                           lambda graph, values, target, seed, keep:
                           backward(graph, values, target, seed, keep=keep))
        values, grads = swept
        if every_node:  # numpy's types from here on, whichever ran
            values = [_np_float(v) for v in values]
            grads = [_np_float(g) for g in grads]
        start = time.perf_counter()
        # Columns, not a loop over the bindings: a report of 10^5 scalars
        # is then a few passes at C speed (lists, a sum, a zip).
        if model.columns is None:
            model.columns = ([b.name for b in bindings], [b.node for b in bindings])
        names, nodes = model.columns
        binding_values = [values[i] for i in nodes]
        binding_grads = [grads[i] for i in nodes]
        bad_values = not _finite_values(model, nodes, binding_values)
        bad_grads = not _grads_finite(binding_grads)
        f64, zeros_like = np.float64, np.zeros_like
        binding_values = [f64(v) if type(v) is float else v for v in binding_values]
        out_values = dict(zip(names, binding_values))
        out_grads = dict(zip(names, [
            f64(g) if type(g) is float else (zeros_like(v) if g is None else g)  # None: 0
            for g, v in zip(binding_grads, binding_values)]))
        if bad_values or bad_grads:
            warnings = _nonfinite_warnings(model, tb.node, seed)
        _lap(timings, "backward", start)
    return Report(model, tb, out_values, out_grads, warnings, values, grads)


def _sweep(model, tb, seed, keep, timings, evaluate, backward):
    start = time.perf_counter()
    release = None
    if keep is not None:
        # What to release and when depends on the graph and `keep` only: worked
        # out once per model (and the largest size with it).
        if model.largest is None:
            model.largest = max(map(math.prod, model.shapes))
        if model.largest >= RELEASE_SIZE:
            key = bytes(keep)
            release = model.plans.get(key)
            if release is None:
                release = model.plans[key] = releases(model.graph, keep)
    values = evaluate(model.graph, release=release)
    start = _lap(timings, "evaluate", start)
    grads = backward(model.graph, values, tb.node, seed, keep)  # may drop values
    _lap(timings, "backward", start)
    return values, grads


def _np_float(v):
    return np.float64(v) if type(v) is float else v


# Sources of non-finite numbers listed per pass; the rest are counted, so
# that a file with thousands of them stays readable.
MAX_SOURCES = 10


def _nonfinite_warnings(model, target, seed) -> list:
    """A warning for each source of a nan or inf: an op (or a number, or a
    given value) whose output is not finite though its inputs are, in the
    forward pass; in the backward pass, an op whose VJP gives a non-finite
    gradient from a finite incoming gradient and finite values (see
    `engine.gradient_sources`).  Called only when the report's cheap check
    found a non-finite value or gradient: the passes run again on numpy with
    every value kept, which gives the same numbers as the float kernels."""
    graph = model.graph
    every = evaluate(graph)
    ok = bytearray([v is None or _finite(v) for v in every])
    warnings = []
    forward = _value_sources(model, every, ok)
    for i in forward[:MAX_SOURCES]:
        warnings.append(_value_warning(model, i, every[i]))
    _count_the_rest(warnings, len(forward), "forward")
    backward = gradient_sources(graph, every, target, seed, _finite, ok)
    for i, g, how in backward[:MAX_SOURCES]:
        warnings.append(_gradient_warning(model, i, g, how))
    _count_the_rest(warnings, len(backward), "backward")
    return warnings


def _count_the_rest(warnings, found, stage):
    more = found - MAX_SOURCES
    if more > 0:
        warnings.append(RunWarning(f"and {more} more source{'s' if more > 1 else ''} of nan or "
                                   f"inf in the {stage} pass, not listed"))


def _value_sources(model, values, ok) -> list:
    """The nodes whose value is not finite though their arguments' are.  A
    folded constant has no arguments left in the graph: its inputs were the
    constants folded into it, which lie within its span and came just before
    it, so it is a source only when no non-finite constant of its binding
    does (a stack of the non-finite constants seen, innermost last)."""
    graph, spans, owners = model.graph, model.spans, model.owners
    args = graph.args
    out = []
    inner = []          # spans of the binding's non-finite constants not yet enclosed
    owner = -1
    for i, v in enumerate(values):
        if ok[i]:
            continue
        if graph.ops[i] is CONST:
            if owners[i] != owner:
                owner, inner = owners[i], []
            span = spans[i]
            enclosed = False
            while inner and (inner[-1].source is span.source and span.start <= inner[-1].start
                             and inner[-1].end <= span.end):
                inner.pop()
                enclosed = True
            inner.append(span)
            if not enclosed:
                out.append(i)
        elif all([ok[a] for a in args[i]]):
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
    return "nan", ()   # not reached: `v` is not finite


def _at(index) -> str:
    return f" at [{', '.join(map(str, index))}]" if index else ""


def _value_warning(model, i, v):
    b = model.bindings[model.owners[i]]
    kind, index = _first_bad(v)
    if model.labels[i] == "number":
        message = (f"the number {model.spans[i].text} is {kind} in "
                   f"{model.dtype} (in the value of '{b.name}')")
    elif model.labels[i] == "given value":
        # Shown at the binding in the file: the value's place in a JSON
        # document is no part of the file's report.
        in_dtype = "" if model.dtype == "float64" else f" in {model.dtype}"
        return RunWarning(f"the value given for '{b.name}' has {kind}{_at(index)}{in_dtype}",
                          b.name, b.statement.name_span, index)
    else:
        message = f"{model.labels[i]} gives {kind}{_at(index)} in the value of '{b.name}'"
    return RunWarning(message, b.name, model.spans[i], index)


def _gradient_warning(model, i, g, how):
    b = model.bindings[model.owners[i]]
    kind, index = _first_bad(g)
    if how == "vjp":
        return RunWarning(f"the gradient through {model.labels[i]} gives {kind}{_at(index)} "
                          f"(backward pass, in '{b.name}')", b.name, model.spans[i], index)
    # Gradients add up only where a node has more than one use, and only a
    # binding's node has: every other node is one operand of one expression.
    return RunWarning(f"the gradients from the uses of '{b.name}' add up to {kind}"
                      f"{_at(index)} (backward pass)", b.name, b.statement.name_span, index)
