"""A file to a checked graph (`load`): parsing and compiling together.

`load` parses a file and compiles its statements with the `Compiler`
(compiler.py), after putting the values given by --set and --set-json in
the place of their bindings' right sides; `eval`, which needs no
expression trees, compiles each expression as its rule reduces.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from .compiler import ELEMENTWISE_FUNCTIONS, Compiler, is_elementwise
from .errors import ExprError, Source, Span
from .lalr import Match, end_of, start_of, text_of
from .model import Model, lap, suggest
from .ops import OPS
from .options import DEFAULT_MAX_ELEMENTS
from .parser import Builder, Expr, Statement, parse
from .process import gc_paused


def load(
    source: Source,
    *,
    dtype: str = "float64",
    sets=(),
    values=(),
    any_shape=False,
    max_elements: int = DEFAULT_MAX_ELEMENTS,
    timings=None,
    keep_exprs=True,
    access=None,
) -> Model:
    """Parse and compile `source`.  `sets` are (name, Source) pairs from --set;
    `values` are `GivenValue`s (from --set-json), applied before `sets`, each
    of the shape of the binding it replaces unless `any_shape`;
    `timings`, if a dict, gets the seconds spent in 'parse' and 'check'.  With
    `keep_exprs` false, the expression trees (which `explain` reads) are let
    go once the graph is built: a statement keeps only its right side's span.
    `access` says where the file's `load` calls may read (a
    `datafiles.Access`; None: under the current directory)."""
    if not sets and not values and not keep_exprs:
        return _load_streaming(source, dtype, max_elements, timings, access)
    start = time.perf_counter()
    with gc_paused():
        statements = parse(source)
    if not statements:
        raise ExprError(_NO_STATEMENTS, Span.at(source, 0))
    origins = {}
    statements, replaced = _apply_values(statements, values, source, any_shape, origins)
    statements, replaced = _apply_sets(statements, sets, source, replaced, origins)
    start = lap(timings, "parse", start)
    with np.errstate(all="ignore"), gc_paused():  # non-finite constants: see `run`
        model = Compiler(source, dtype, max_elements, access).compile(statements, replaced, origins)
        if not keep_exprs:
            for b in model.bindings:
                _strip(b.statement)
    lap(timings, "check", start)
    return model


_NO_STATEMENTS = "the file has no statements: nothing to evaluate"


def _load_streaming(source, dtype, max_elements, timings, access=None) -> Model:
    """`load` compiling as the file is parsed: each expression becomes graph
    nodes as soon as its rule reduces (`_GraphBuilder`), so no statement's
    tree is ever whole, and a long line takes memory for its graph only.

    Errors are those of the whole-file path, which parses the whole file
    before it compiles: once compiling fails with an `ExprError` or a
    `MemoryError` (what the whole-file path would meet only after the
    parse), the rest is only parsed (a later syntax error wins over, say,
    running out of memory on an earlier constant), and then the error is
    raised, an undefined name's worded knowing the names bound from its
    statement on (for "used before it is bound").  Any other exception is a
    defect and goes up at once."""
    compiler = Compiler(source, dtype, max_elements, access)
    compiler.bindings, compiler.by_name, compiler.later = [], {}, {}
    compiler.replaced, compiler.sets = {}, {}
    compiler.owner = 0
    builder = _builder
    builder.begin(compiler, timings is not None)
    clock = time.perf_counter
    start = clock()
    try:
        with np.errstate(all="ignore"), gc_paused():
            parse(source, builder)
            if builder.failure is not None:
                exc, e, _ = builder.failure
                if isinstance(exc, ExprError) and e is not None and e.kind == "name":
                    compiler.later = builder.later
                    compiler.name(e)  # raises, with what is bound later
                raise exc
            if not compiler.bindings:
                raise ExprError(_NO_STATEMENTS, Span.at(source, 0))
            model = compiler.model()
    finally:
        checking = builder.checking
        builder.begin(None, False)
    if timings is not None:
        timings["parse"] = timings.get("parse", 0.0) + clock() - start - checking
        timings["check"] = timings.get("check", 0.0) + checking
    return model


class _GraphBuilder(Builder):
    """A `Builder` that compiles as the rules reduce: each `Expr` is made
    into graph nodes by the `Compiler` as soon as it is built, and then lets
    its children go, so the values the parser holds are the few on its
    stack.  After a failure it only parses (see `_load_streaming`)."""

    def __init__(self):
        super().__init__(None)
        self.begin(None, False)

    def begin(self, compiler, timed):
        """Compile into `compiler` from now on (None: let it go); with
        `timed`, `checking` adds up the seconds spent compiling."""
        self.compiler = compiler
        self.timed = timed
        self.checking = 0.0
        # The first failure: [exception, the Expr being compiled (None for a
        # statement's own error), the Statement (None until it is reduced)].
        self.failure = None
        self.later = {}  # from the failure on: name -> the statement first binding it
        # Compiling with nothing else to do (no failure, no clock): the
        # common rules then call the compiler themselves.
        self.direct = compiler is not None and not timed

    def _compile(self, e, args=None):
        """Compile `e` (an op's, on `args`, if given) unless compiling has
        failed; its children are let go."""
        if self.failure is None:
            start = time.perf_counter() if self.timed else 0.0
            try:
                if args is None:
                    self.compiler.expr(e)
                else:
                    self.compiler.apply(e, e.data, args)
            except (ExprError, MemoryError) as exc:
                self.failure = [exc, e, None]
                self.direct = False
                return e
            e.args = ()  # in the graph now: the children are not needed
            if e.kind == "index":
                e.data = None
            if self.timed:
                self.checking += time.perf_counter() - start
        return e

    def _new(self, kind, data, args, start, end, keywords=()):
        e = Expr(kind, data, args, self.source, start, end, keywords)
        if self.direct:  # `_compile`, inlined
            try:
                self.compiler.expr(e)
            except (ExprError, MemoryError) as exc:
                self.failure = [exc, e, None]
                self.direct = False
                return e
            e.args = ()
            if kind == "index":
                e.data = None
            return e
        return self._compile(e)

    def number(self, children):
        tok = children[0]
        if type(tok) is Match:
            text = tok[tok.lastgroup]
            end = tok.end()
            e = Expr("number", float(text), (), self.source, end - len(text), end)
        else:
            e = Expr("number", float(tok.value), (), self.source, start_of(tok), end_of(tok))
        if self.direct:  # `_compile`, inlined: a number cannot fail
            self.compiler.number(e)
            return e
        return self._compile(e)

    def name(self, children):
        tok = children[0]
        if type(tok) is Match:
            text = tok[tok.lastgroup]
            end = tok.end()
            e = Expr("name", sys.intern(text), (), self.source, end - len(text), end)
        else:
            e = Expr("name", sys.intern(tok.value), (), self.source, start_of(tok), end_of(tok))
        if self.direct:  # `Compiler.name`, inlined for a name bound already
            b = self.compiler.by_name.get(e.data)
            if b is not None:
                e.const = False
                e.gid = b.node
                return e
        return self._compile(e)

    def _binary(name):
        op = OPS[name]
        elementwise = is_elementwise(op)

        def build(self, children):
            x, y = children
            e = Expr("op", name, (), self.source, x.start, y.end)
            if self.direct:  # `_compile`, inlined
                try:
                    if elementwise:
                        self.compiler.elementwise(e, op, name, x, y)
                    else:
                        self.compiler.apply(e, name, children)
                except (ExprError, MemoryError) as exc:
                    self.failure = [exc, e, None]
                    self.direct = False
                return e
            return self._compile(e, children)

        return build

    add = _binary("add")
    sub = _binary("sub")
    mul = _binary("mul")
    div = _binary("div")
    matmul = _binary("matmul")
    pow = _binary("pow")
    del _binary

    def neg(self, children):
        if not self.direct:
            return super().neg(children)
        tok, x = children
        e = Expr("op", "neg", (), self.source, start_of(tok), x.end)
        try:  # `_compile`, inlined
            self.compiler.elementwise(e, _NEG, "neg", x)
        except (ExprError, MemoryError) as exc:
            self.failure = [exc, e, None]
            self.direct = False
        return e

    def call(self, children):
        name, lpar, arguments, rpar = children
        if self.direct and arguments is not None and len(arguments) == 1:
            x = arguments[0]  # a call of an elementwise function of one array
            if type(x) is Expr and x.kind != "string":
                fname = text_of(name)
                op = ELEMENTWISE_FUNCTIONS.get(fname)
                if op is not None:
                    e = Expr("call", fname, (), self.source, start_of(name), end_of(rpar))
                    try:  # `_compile` and `Compiler.call`, inlined
                        self.compiler.elementwise(e, op, fname, x)
                    except (ExprError, MemoryError) as exc:
                        self.failure = [exc, e, None]
                        self.direct = False
                    return e
        return super().call(children)

    def paren(self, children):
        """The brackets widen the span of what they hold: of its node (the
        whole-file path compiles after they are read), or of the error its
        compiling raised."""
        lpar, inner, rpar = children
        start, end = start_of(lpar), end_of(rpar)
        failure = self.failure
        if failure is None:
            if inner.kind != "name" or inner.data == "pi":  # a node of its own
                self.compiler.widen(inner.gid, start, end)
        elif failure[1] is inner:
            span = getattr(failure[0], "span", None)
            if span is not None and span.start == inner.start and span.end == inner.end:
                span.start, span.end = start, end
        inner.start, inner.end = start, end
        return inner

    def _statement(self, name_tok, root, is_param, first_tok):
        # Bindings keep the right side's span (and an alias's name), not its tree.
        st = Statement(
            sys.intern(text_of(name_tok)),
            self._span(name_tok),
            is_param,
            Expr(
                root.kind,
                root.data if root.kind == "name" else None,
                (),
                self.source,
                root.start,
                root.end,
            ),
            (),
            None,
        )
        failure = self.failure
        if failure is None:
            start = time.perf_counter() if self.timed else 0.0
            try:
                self.compiler.check_name(st)
                self.compiler.bind(st, root)
            except (ExprError, MemoryError) as exc:
                self.failure = [exc, None, st]
                self.direct = False
                self.later[st.name] = st
            if self.timed:
                self.checking += time.perf_counter() - start
        elif failure[2] is None:  # the failure was in this statement's right side
            failure[2] = st
            try:
                self.compiler.check_name(st)  # which the whole-file path checks first
            except ExprError as exc:
                failure[0], failure[1] = exc, None
            self.later[st.name] = st
        else:
            self.later.setdefault(st.name, st)
        return st

    def start(self, children):
        return None  # the statements are the compiler's bindings


_NEG = OPS["neg"]
_builder = _GraphBuilder()


def _uses_names(stmt: Statement) -> bool:
    return any(e.kind == "name" and e.data != "pi" for e in stmt.nodes)


def _settable(by_name, name, name_span, source, option):
    """The statement `name` binds, if an option may replace its right side."""
    target = by_name.get(name)
    if target is None:
        raise ExprError(
            f"there is no binding named '{name}' in {source.name}{suggest(name, by_name)}",
            name_span,
        )
    if not target.is_param and _uses_names(target):
        raise ExprError(
            f"'{name}' is computed from other nodes (line "
            f"{target.name_span.line}); only inputs and params can be set"
            + (f" with {option}" if option != "--set" else ""),
            name_span,
        )
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
        new[id(target)] = (
            Statement(target.name, target.name_span, target.is_param, root, [root], target.span),
            target,
        )
    out = [new[id(s)][0] if id(s) in new else s for s in statements]
    origins.update((id(stmt), (original, "--set-json")) for stmt, original in new.values())
    return out, {id(stmt): (None if any_shape else original) for stmt, original in new.values()}


def _apply_sets(statements, sets, source, replaced, origins):
    """Replace right sides with --set values, as `_apply_values` does; a
    value read from a file (a `GivenValue`) takes the place of a Source."""
    by_name = _first_bindings(statements)
    replaced = dict(replaced or {})
    new_statements = {}
    for _name, set_source in sets:
        if type(set_source) is not Source:  # a value read from a file (--set NAME=@PATH)
            target = _settable(by_name, set_source.name, set_source.name_span, source, "--set")
            root = Expr.at("value", set_source.value, (), set_source.span)
            stmt = Statement(
                target.name, target.name_span, target.is_param, root, [root], target.span
            )
            replaced.pop(id(target), None)
            new_statements[id(target)] = stmt
            origins[id(stmt)] = (origins.get(id(target), (target,))[0], "--set")
            continue
        parsed = parse(set_source)
        if len(parsed) != 1:
            raise ExprError(
                f"--set takes one NAME=VALUE, got {len(parsed)} statements", Span.at(set_source, 0)
            )
        new = parsed[0]
        if new.is_param:
            raise ExprError("--set takes NAME=VALUE; 'param' comes from the file", new.span)
        target = _settable(by_name, new.name, new.name_span, source, "--set")
        for e in new.nodes:
            if e.kind == "call" and e.data == "load":  # relative to what? the user means a file
                raise ExprError(
                    f"--set reads a file as {new.name}=@PATH (relative to the current "
                    "directory), not with load()",
                    e.span,
                )
        if _uses_names(new):
            raise ExprError(
                "a --set value is a constant: it cannot use other names",
                next(e.span for e in new.nodes if e.kind == "name" and e.data != "pi"),
            )
        stmt = Statement(
            target.name, target.name_span, target.is_param, new.root, new.nodes, target.span
        )
        replaced.pop(id(target), None)  # --set wins over --set-json
        new_statements[id(target)] = stmt
        file_statement = origins.get(id(target), (target,))[0]
        origins[id(stmt)] = (file_statement, "--set")
    for stmt in new_statements.values():
        replaced[id(stmt)] = None
    return [new_statements.get(id(s), s) for s in statements], replaced


def _strip(st: Statement):
    """Let a compiled statement's expression tree go; keep its right side's
    span (and an alias's name)."""
    root = st.root
    st.root = Expr(
        root.kind, root.data if root.kind == "name" else None, (), root.source, root.start, root.end
    )
    st.nodes = ()
    st.span = None  # the whole statement's span serves --set, before compiling
