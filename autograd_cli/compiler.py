"""Expressions to graph nodes: the `Compiler`.

Names are resolved, every node's shape is inferred and its size checked
against the limit before anything is allocated, constant sub-expressions
are folded as they come, functions' arguments are bound (the static ones
must be constant numbers), and each statement becomes a binding of its
kind (param, input, node).
"""

from __future__ import annotations

import math
import struct
from array import array

import numpy as np

from . import ops as op_table
from . import (
    ops_linalg,  # noqa: F401  (registers its ops)
    ops_math,  # noqa: F401  (registers its ops)
    shapes,
)
from .core import CONST, LEAF, Graph
from .errors import ExprError, ShapeError, Spans
from .functions import FUNCTIONS, REQUIRED
from .model import (
    DTYPES,
    Binding,
    Model,
    blame_reshaped,
    format_bytes,
    function_hint,
    suggest,
)
from .parser import Expr
from .shapes import fmt_shape

MAX_DIMS = 32
_MAX_BYTES = 2**63 - 1  # numpy's limit on an array's size in bytes (its intp)
_BLOCK = 1024  # nodes whose records wait in a list at most (see `Compiler._node`)
_WIDTH = 9  # items of a waiting record: op, attrs, label, arity, 2 args, start, end, owner
_NO_ATTRS = {}  # shared by every node without attributes; never modified
_ELEMENTWISE = (shapes.broadcast, shapes.same)  # shape rules: the arguments' common shape
# functions of arrays only, bound positionally in the usual case
_PLAIN = {name for name, fn in FUNCTIONS.items() if not fn.static and not fn.varargs}


def is_elementwise(op) -> bool:
    """Whether `op`'s result has its arguments' common shape."""
    return op.shape in _ELEMENTWISE


# the elementwise ones of one array (sin, exp, ...): name -> op
ELEMENTWISE_FUNCTIONS = {
    name: op_table.OPS[FUNCTIONS[name].op]
    for name in _PLAIN
    if len(FUNCTIONS[name].arrays) == 1 and is_elementwise(op_table.OPS[FUNCTIONS[name].op])
}


class Compiler:
    """Statements to a graph, one at a time (`statement`), or a whole file's
    (`compile`); `model()` is what has been compiled so far."""

    def __init__(self, source, dtype, max_elements, access=None):
        self.source = source
        # where `load` may read (a datafiles.Access; None: the current directory)
        self.access = access
        self.dtype_name = dtype
        self.dtype = DTYPES[dtype]
        self.max_elements = max_elements
        self.graph = Graph()
        self.shapes, self.spans, self.labels = [], Spans(source), []
        self.owners = array("i")  # per node: its binding (an index)
        self.owner = -1
        # The newest nodes' ops, attributes, labels and numbers (arguments,
        # spans and owners) wait in one list, a record of `_WIDTH` items a
        # node, and go into their columns a block at a time (`_flush`): one
        # `+=` of a tuple costs less than an append to each column, and
        # appending to an array several times what it does to a list.
        self._waiting = []
        self._full = _BLOCK * _WIDTH  # its length when a block waits

    # nodes

    def _node(self, op, args, attrs, shape, span, label, value=None):
        """A new graph node; `span` is a `Span` or the `Expr` written there."""
        graph = self.graph  # Graph.add, inlined: a node per operator
        requires = graph.requires
        n = len(args)
        if n == 2:
            needed = op.is_leaf or requires[args[0]] or requires[args[1]]
        else:
            needed = op.is_leaf
            if not needed:
                for a in args:
                    if requires[a]:
                        needed = True
                        break
        g = len(requires)
        graph.values.append(value)
        requires.append(needed)
        self.shapes.append(shape)
        if span.source is self.source and n < 3:
            waiting = self._waiting
            attrs = attrs or _NO_ATTRS
            if n == 2:
                waiting += (op, attrs, label, 2, args[0], args[1], span.start, span.end, self.owner)
            elif n == 1:
                waiting += (op, attrs, label, 1, args[0], 0, span.start, span.end, self.owner)
            else:
                waiting += (op, attrs, label, 0, 0, 0, span.start, span.end, self.owner)
            if len(waiting) >= self._full:
                self._flush()
            return g
        # a span of another source (a --set value), or three or more
        # arguments (kept in `Args.more`): in place at once
        self._flush()
        graph.ops.append(op)
        graph.attrs.append(attrs or _NO_ATTRS)
        self.labels.append(label)
        graph.args.append(args)
        self.owners.append(self.owner)
        self.spans.append(span.span if type(span) is Expr else span)
        return g

    def _flush(self):
        """Move the newest nodes' records from the waiting list into the
        graph's and the model's columns."""
        waiting = self._waiting
        if not waiting:
            return
        graph, spans = self.graph, self.spans
        columns = graph.args
        graph.ops += waiting[0::_WIDTH]
        graph.attrs += waiting[1::_WIDTH]
        self.labels += waiting[2::_WIDTH]
        columns.arity += bytes(waiting[3::_WIDTH])
        for array_, k in (
            (columns.first, 4),
            (columns.second, 5),
            (spans.starts, 6),
            (spans.ends, 7),
            (self.owners, 8),
        ):
            # packed, as extending an array item by item costs as much as
            # appending each
            numbers = waiting[k::_WIDTH]
            array_.frombytes(struct.pack(f"{len(numbers)}{array_.typecode}", *numbers))
        waiting.clear()

    def widen(self, g, start, end):
        """Give node `g` the span from `start` to `end` of the source (the
        brackets around it, read after it was compiled)."""
        k = g - len(self.spans.starts)
        if k >= 0:
            self._waiting[k * _WIDTH + 6 : k * _WIDTH + 8] = start, end
        else:
            self.spans.starts[g], self.spans.ends[g] = start, end

    def _check_size(self, shape, span):
        if len(shape) > MAX_DIMS:
            raise ExprError(
                f"this array would have {len(shape)} dimensions; at most {MAX_DIMS} are supported",
                span,
            )
        size = math.prod(shape)
        if size > self.max_elements:
            raise ExprError(
                f"this array would have {size:,} elements (shape "
                f"{fmt_shape(shape)}), over the limit of {self.max_elements:,} "
                f"(--max-elements)",
                span,
            )
        # numpy refuses an empty array whose other dimensions multiply past
        # what an address can hold, and any array of more bytes than that.
        extent = math.prod([d for d in shape if d]) if not size else size
        if extent > self.max_elements:
            raise ExprError(
                f"this empty array's dimensions (shape {fmt_shape(shape)}) multiply "
                f"to {extent:,} without its zeros, over the limit of "
                f"{self.max_elements:,} (--max-elements)",
                span,
            )
        if extent * self.dtype().itemsize > _MAX_BYTES:
            raise ExprError(
                f"this array would need {extent * self.dtype().itemsize:,} bytes "
                f"(shape {fmt_shape(shape)}), more than memory can address",
                span,
            )

    def const(self, value, span, label="number"):
        value = np.asarray(value, dtype=self.dtype)  # no copy of a fresh array
        if value.ndim == 0:
            value = value[()]  # a numpy scalar: scalar arithmetic, as in the results
        else:
            value.flags.writeable = False  # shared by every run of the model
        return self._node(CONST, (), None, value.shape, span, label, value)

    def apply(self, e, opname, args, attrs=None, label=None):
        """Add op `opname` on arg Exprs `args`; fold it if they are constant."""
        op = op_table.OPS[opname]
        attrs = attrs or _NO_ATTRS
        shapes = self.shapes
        if len(args) == 2:  # the common cases first
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
                raise ExprError(
                    f"ran out of memory making this constant array of shape "
                    f"{fmt_shape(shape)} ({format_bytes(nbytes)}); --max-elements "
                    "limits each array's size",
                    e.span,
                ) from None
        else:
            e.gid = self._node(op, ids, attrs, shape, e, label or opname)

    # expressions

    def number(self, e):
        """Compile a number: `const`, for a float (a numpy scalar of the dtype)."""
        e.const = True
        if e.source is not self.source:
            e.gid = self._node(CONST, (), None, (), e, "number", self.dtype(e.data))
            return
        # `_node`, inlined: a long line has a number every few operators
        graph = self.graph
        requires = graph.requires
        e.gid = len(requires)
        graph.values.append(self.dtype(e.data))
        requires.append(False)
        self.shapes.append(())
        waiting = self._waiting
        waiting += (CONST, _NO_ATTRS, "number", 0, 0, 0, e.start, e.end, self.owner)
        if len(waiting) >= self._full:
            self._flush()

    def elementwise(self, e, op, label, x, y=None):
        """`apply` of `op`, an elementwise op of one argument (`x`) or two,
        named `label`, for the common case (arguments of one shape, not all
        constant) with `_node` inlined; any other goes to `apply`."""
        shapes = self.shapes
        gx = x.gid
        shape = shapes[gx]
        graph = self.graph
        requires = graph.requires
        if y is None:
            if x.const or e.source is not self.source:
                self.apply(e, op.name, (x,), None, label)
                return
            needed = op.is_leaf or requires[gx]
            gy, arity = 0, 1
        else:
            gy = y.gid
            if (x.const and y.const) or shape != shapes[gy] or e.source is not self.source:
                self.apply(e, op.name, (x, y), None, label)
                return
            needed = op.is_leaf or requires[gx] or requires[gy]
            arity = 2
        e.const = False
        e.gid = len(requires)
        graph.values.append(None)
        requires.append(needed)
        shapes.append(shape)
        waiting = self._waiting
        waiting += (op, _NO_ATTRS, label, arity, gx, gy, e.start, e.end, self.owner)
        if len(waiting) >= self._full:
            self._flush()

    def expr(self, e):
        """Compile `e`, whose arguments are compiled already."""
        kind = e.kind
        if kind == "number":  # `number`, inlined
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
        elif kind == "value":  # given as data (--set-json)
            self._check_size(e.data.shape, e.span)
            e.const = True
            e.gid = self.const(e.data, e.span, "given value")
        elif kind == "string":  # only ever an argument of load, which reads it
            e.const = True
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
            raise ExprError(f"undefined name '{e.data}'{suggest(e.data, self.by_name)}", e.span)

    def static(self, e, what, floats=False):
        """The constant number an argument must be (a shape, an axis, a count)."""
        if not e.const:
            raise ExprError(
                f"{what} must be a constant number, not computed from other names", e.span
            )
        value = self.graph.values[e.gid]
        if value.shape != ():
            raise ExprError(
                f"{what} must be a single number, got an array of shape {fmt_shape(value.shape)}",
                e.span,
            )
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
            hint = function_hint(fname, FUNCTIONS)
            if fname in self.by_name or fname == "pi":
                raise ExprError(f"'{fname}' is a value, not a function", e.span)
            raise ExprError(f"unknown function '{fname}'{hint}", e.span)
        if fname == "load":
            self.load(e)
            return
        npos = len(e.args) - len(e.keywords)
        positional = e.args[:npos]
        keyword, keyword_spans = {}, {}
        for (k, span), a in zip(e.keywords, e.args[npos:]):
            if k in keyword:
                raise ExprError(f"{fname}() got the argument '{k}' twice", span)
            keyword[k], keyword_spans[k] = a, span
        usage = f"; usage: {fn.usage}"
        if fn.many:
            self._call_many(e, fn, positional, keyword, keyword_spans, usage)
            return
        bound = {}
        names = list(fn.arrays) + ([] if fn.varargs else list(fn.static))
        extra = []
        for i, a in enumerate(positional):
            if i < len(fn.arrays) or not fn.varargs:
                if i >= len(names):
                    raise ExprError(
                        f"{fname}() takes at most {len(names)} argument"
                        f"{'s' if len(names) != 1 else ''}, got {len(positional)}" + usage,
                        a.span,
                    )
                bound[names[i]] = a
            else:
                extra.append(a)
        for k, a in keyword.items():
            if k not in fn.arrays and k not in fn.static:
                known = list(fn.arrays) + list(fn.static)
                raise ExprError(
                    f"{fname}() has no argument '{k}'{suggest(k, known)}" + usage, keyword_spans[k]
                )
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
                raise ExprError(
                    f"{fname}(): dimensions must not be negative, got {fmt_shape(dims)}", e.span
                )
            attrs[fn.varargs] = dims
        if op_table.OPS[fn.op].constructor:
            self._constructor_attrs(e, fn, attrs)
        self.apply(e, fn.op, [bound[n] for n in fn.arrays], attrs, label=fname)

    def load(self, e):
        """Compile a call of `load`: the file read now, its array a constant
        (so the binding is an input, which --set can replace)."""
        from .datafiles import Access, load_file

        usage = '; usage: load("file", column=NAME or INDEX)'
        npos = len(e.args) - len(e.keywords)
        bound, spans = {}, {}
        for k, a in enumerate(e.args[:npos]):
            if k >= 2:
                raise ExprError(f"load() takes at most 2 arguments, got {npos}" + usage, a.span)
            bound[("file", "column")[k]] = a
        for (k, span), a in zip(e.keywords, e.args[npos:]):
            if k not in ("file", "column"):
                raise ExprError(
                    f"load() has no argument '{k}'{suggest(k, ['file', 'column'])}" + usage, span
                )
            if k in bound:
                raise ExprError(f"load() got the argument '{k}' twice", span)
            bound[k], spans[k] = a, span
        if "file" not in bound:
            raise ExprError("load() is missing the argument 'file'" + usage, e.span)
        name = bound["file"]
        if name.kind != "string":
            raise ExprError(
                'load() takes the name of the file as a string: load("data.csv")', name.span
            )
        column = bound.get("column")
        if column is not None:
            if column.kind == "string":
                column_value = column.data
            else:
                column_value = self.static(column, "load(): column")
        array = load_file(
            name.data,
            None if column is None else column_value,
            access=self.access or Access(),
            max_elements=self.max_elements,
            call=e.span,
            name_span=name.span,
            column_span=None if column is None else column.span,
        )
        self._check_size(array.shape, e.span)
        e.const = True
        e.gid = self.const(array, e, "load")

    def _call_many(self, e, fn, arrays, keyword, keyword_spans, usage):
        """A call of a function of any number of arrays (`Fn.many`): the
        positional arguments are the arrays, the keywords its static ones."""
        fname = e.data
        if not arrays:
            raise ExprError(f"{fname}() needs at least one array" + usage, e.span)
        attrs = {}
        for k, a in keyword.items():
            if k not in fn.static:
                raise ExprError(
                    f"{fname}() has no argument '{k}'{suggest(k, list(fn.static))}" + usage,
                    keyword_spans[k],
                )
            attrs[k] = self.static(a, f"{fname}(): {k}", floats=k in fn.floats)
        for n, default in fn.static.items():
            attrs.setdefault(n, default)
        self.apply(e, fn.op, arrays, attrs, label=fname)

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
                raise ExprError(
                    f"ragged list: element {k} has shape "
                    f"{fmt_shape(self.shapes[a.gid])}, but element 1 has shape "
                    f"{fmt_shape(first)}",
                    a.span,
                )
        self.apply(e, "stack", e.args, label="list")

    # statements

    def _shape_of(self, statement):
        """The shape `statement`'s right side has, without keeping its nodes."""
        self._flush()
        mark = len(self.graph)
        for e in statement.nodes:
            self.expr(e)
        shape = self.shapes[statement.root.gid]
        self._flush()
        self.graph.truncate(mark)
        for column in (self.shapes, self.labels, self.owners):
            del column[mark:]
        self.spans.truncate(mark)
        return shape

    def _check_given_shape(self, s, original):
        want = self._shape_of(original)
        got = self.shapes[s.root.gid]
        if got != want:
            raise ExprError(
                f"'{s.name}' has shape {fmt_shape(want)} (line "
                f"{original.name_span.line} of {self.source.name}), but the value "
                f"given for it has shape {fmt_shape(got)} (--any-shape lets a "
                "value change the shape)",
                s.root.span,
            )

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
        self.check_name(s)
        del_later = self.later.get(s.name) is s
        self.owner = len(self.bindings)
        for e in s.nodes:
            self.expr(e)
        root = s.root
        if id(s) in self.replaced:
            self.sets[s.name] = self.graph.values[root.gid]
            if self.replaced[id(s)] is not None:
                self._check_given_shape(s, self.replaced[id(s)])
        self.bind(s, root)
        if del_later:
            del self.later[s.name]

    def check_name(self, s):
        """Raise if statement `s` may not bind its name: 'pi', or a name
        bound already."""
        if s.name == "pi":
            raise ExprError("'pi' is a builtin constant and cannot be bound", s.name_span)
        if s.name in self.by_name:
            first = self.by_name[s.name].statement
            raise ExprError(
                f"'{s.name}' is already bound",
                s.name_span,
                notes=[(first.name_span, f"'{s.name}' is first bound here")],
            )

    def bind(self, s, root):
        """Bind `s`'s name to its right side `root`, compiled already; the
        nodes made from now on belong to the next binding."""
        kind = "param" if s.is_param else ("input" if root.const else "node")
        if kind == "node":
            node = root.gid
            if root.kind == "name":  # an alias gets a node of its own
                node = self._node(
                    op_table.OPS["pos"], (root.gid,), None, self.shapes[root.gid], root.span, "pos"
                )
        else:
            node = self._node(LEAF, (root.gid,), None, self.shapes[root.gid], root.span, "leaf")
        b = Binding(s.name, kind, s, node)
        self.bindings.append(b)
        self.by_name[s.name] = b
        self.owner = len(self.bindings)

    def model(self) -> Model:
        """The `Model` of what has been compiled."""
        self._flush()
        return Model(
            self.source,
            self.dtype_name,
            self.graph,
            self.shapes,
            self.spans,
            self.labels,
            self.owners,
            self.bindings,
            self.by_name,
            self.sets,
        )


def _num(v: float) -> str:
    return str(int(v)) if math.isfinite(v) and v == int(v) else repr(v)
