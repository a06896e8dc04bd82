"""Text to statements: the LALR parser for the .expr language.

The grammar lives in grammar.lark.  Lark analyses it; its LALR tables, and
how its callbacks pick each rule's children, are stored in parse_tables.py
(`python -m autograd_cli.parser` regenerates it, from a fresh analysis with
the states numbered canonically, so the same grammar always gives the same
file; a module, so that Python caches it compiled), and `_FastParser` runs
them with a lean loop, and words a syntax error from them as Lark's parser
would, so Lark is not imported at run time (the tests hold the two to the
same words).  Either way `Builder`'s methods run as rules reduce, each
building an `Expr` at once: no parse tree is built or walked.  Every `Expr` keeps its source
`Span`.  `Expr`s are created children-first, so the list of them a
statement collects (`Statement.nodes`) is already in evaluation order.
"""

from __future__ import annotations

import operator
import os
import re
import sys


from .errors import ExprError, Source, Span


class Expr:
    """One node of an expression as written.

    kind: 'number' (data: float), 'name' (data: str), 'op' (data: op name),
    'call' (data: function name; `keywords` holds a (name, span) pair for
    each trailing argument given as key=value), 'index' (data: the subscripts, each an Expr or a
    ('slice', start, stop, step) tuple of Expr-or-None), 'list'.
    """

    __slots__ = ("kind", "data", "args", "keywords", "source", "start", "end", "gid", "const")

    def __init__(self, kind, data, args, source, start, end, keywords=()):
        self.kind = kind
        self.data = data
        self.args = args
        self.keywords = keywords
        self.source = source  # where it is written: offsets start:end of source.text
        self.start = start
        self.end = end
        self.gid = None     # set by the compiler: the graph node it became
        self.const = None   # set by the compiler: True if no name is involved

    @property
    def span(self) -> Span:
        """Its `Span` (made when asked for: most never are)."""
        return Span(self.source, self.start, self.end)

    @span.setter
    def span(self, span: Span):
        self.source, self.start, self.end = span.source, span.start, span.end

    @classmethod
    def at(cls, kind, data, args, span: Span) -> "Expr":
        return cls(kind, data, args, span.source, span.start, span.end)


class Statement:
    __slots__ = ("name", "name_span", "is_param", "root", "nodes", "span")

    def __init__(self, name: str, name_span: Span, is_param: bool, root: Expr, nodes: list,
                 span: Span):
        self.name = name
        self.name_span = name_span
        self.is_param = is_param
        self.root = root
        self.nodes = nodes          # every Expr of the right side, children first
        self.span = span            # the whole statement

    def __repr__(self):
        return f"Statement({self.name!r}, {self.root!r})"

    @property
    def rhs_text(self) -> str:
        """The right side as written, on one line and without comments."""
        text = self.root.span.text
        if "\n" in text or "#" in text:
            text = " ".join(re.sub(r"#[^\n]*", "", text).split())
        return text


class _BracketNewlines:
    """Post-lexer for Lark's own parser: drop newlines inside ( ) and [ ], as
    Python does (the fast parser's lexer does the same itself)."""

    always_accept = ("_NL",)

    def process(self, stream):
        depth = 0
        for tok in stream:
            kind = tok.type
            if kind == "LPAR" or kind == "LSQB":
                depth += 1
            elif kind == "RPAR" or kind == "RSQB":
                depth -= 1 if depth else 0
            elif kind == "_NL" and depth:
                continue
            yield tok


_Match = type(re.match("", ""))


def _text(tok) -> str:
    """A token's text: Lark's tokens, ours and the fast parser's matches."""
    return tok[tok.lastgroup] if type(tok) is _Match else tok.value


def _start(tok) -> int:
    """Where a token starts (blanks before it excluded)."""
    kind = type(tok)
    if kind is _Match:
        return tok.start(tok.lastgroup)
    return tok.start if kind is _Token else tok.start_pos


def _end(tok) -> int:
    kind = type(tok)
    if kind is _Match:
        return tok.end()
    return tok.end if kind is _Token else tok.end_pos


def _kind(x):
    """A token's terminal, or None for anything else."""
    return x.lastgroup if type(x) is _Match else getattr(x, "type", None)


class Builder:
    """Lark callbacks: one method per grammar rule alias."""

    def __init__(self, source: Source):
        self.source = source
        self.pending = []
        self.statements = []
        self.each = None      # called with every statement as it is parsed

    def _span(self, tok) -> Span:
        kind = type(tok)
        if kind is _Match:           # the fast parser's tokens are its regex's matches
            return Span(self.source, tok.start(tok.lastgroup), tok.end())
        if kind is _Token:
            return tok
        return Span.of_token(self.source, tok)

    def _new(self, kind, data, args, start, end, keywords=()):
        e = Expr(kind, data, args, self.source, start, end, keywords)
        self.pending.append(e)
        return e

    # atoms
    def number(self, children):
        tok = children[0]
        if type(tok) is _Match:   # the common case, `_new` inlined
            text = tok[tok.lastgroup]
            end = tok.end()
            e = Expr("number", float(text), (), self.source, end - len(text), end)
            self.pending.append(e)
            return e
        return self._new("number", float(tok.value), (), _start(tok), _end(tok))

    def name(self, children):
        tok = children[0]
        if type(tok) is _Match:
            text = tok[tok.lastgroup]
            end = tok.end()
            e = Expr("name", sys.intern(text), (), self.source, end - len(text), end)
            self.pending.append(e)
            return e
        return self._new("name", sys.intern(tok.value), (), _start(tok), _end(tok))

    def paren(self, children):
        lpar, inner, rpar = children
        inner.start, inner.end = _start(lpar), _end(rpar)
        return inner

    def list(self, children):
        lsqb, elements, rsqb = children
        return self._new("list", None, tuple(elements or ()), _start(lsqb), _end(rsqb))

    def elements(self, children):
        return children

    # operators
    def _binary(name):
        def build(self, children):
            x, y = children
            e = Expr("op", name, (x, y), self.source, x.start, y.end)
            self.pending.append(e)
            return e
        return build

    add = _binary("add")
    sub = _binary("sub")
    mul = _binary("mul")
    div = _binary("div")
    matmul = _binary("matmul")
    pow = _binary("pow")
    del _binary

    def neg(self, children):
        tok, x = children
        return self._new("op", "neg", (x,), _start(tok), x.end)

    def pos(self, children):
        tok, x = children
        return self._new("op", "pos", (x,), _start(tok), x.end)

    # postfix
    def call(self, children):
        name, lpar, arguments, rpar = children
        args, keywords = [], []
        for a in arguments or ():
            if isinstance(a, tuple):        # a keyword argument
                keywords.append((a[0], a[2]))
                args.append(a[1])
            else:
                if keywords:
                    raise ExprError("a positional argument cannot follow a keyword argument",
                                    a.span)
                args.append(a)
        return self._new("call", _text(name), tuple(args), _start(name), _end(rpar),
                         tuple(keywords))

    def arguments(self, children):
        return children

    def keyword(self, children):
        name, value = children
        return (_text(name), value, Span(self.source, _start(name), value.end))

    def index(self, children):
        x, subscripts, rsqb = children
        return self._new("index", subscripts, (x,), x.start, _end(rsqb))

    def subscripts(self, children):
        return tuple(children)

    def slice(self, children):
        parts = [None, None, None]
        k = 0
        for c in children:
            if _kind(c) == "COLON":       # a token, not an Expr
                k += 1
            elif c is not None:
                parts[k] = c
        return ("slice", *parts)

    # statements
    def _statement(self, name_tok, root, is_param, first_tok):
        nodes, self.pending = self.pending, []
        stmt = Statement(sys.intern(_text(name_tok)), self._span(name_tok), is_param, root, nodes,
                         Span(self.source, _start(first_tok), root.end))
        self.statements.append(stmt)
        if self.each is not None:
            self.each(stmt)
        return stmt

    def assign(self, children):
        name, root = children
        return self._statement(name, root, False, name)

    def param(self, children):
        kw, name, root = children
        return self._statement(name, root, True, kw)

    def start(self, children):
        return self.statements


_builder = Builder(None)
_parser = None


def _lark():
    """Lark's own parser for grammar.lark: the reference the tests compare
    the fast parser with (its tables come from `_analysis`)."""
    global _parser
    if _parser is None:
        from lark import Lark


        # cache=True keeps the analysed grammar in a temporary file keyed by
        # the grammar's hash, so later runs skip the LALR table construction
        # (its state numbers may differ from run to run: only messages use it).
        _parser = Lark.open("grammar.lark", rel_to=__file__, parser="lalr",
                            lexer="basic", postlex=_BracketNewlines(),
                            maybe_placeholders=True, transformer=_builder, cache=True)
    return _parser


# How terminals are named in messages.
_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "PARAM": "'param'",
    "MINUS": "'-'", "PLUS": "'+'", "STAR": "'*'", "SLASH": "'/'", "AT": "'@'",
    "__ANON_0": "'**'", "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'",
    "COLON": "':'", "COMMA": "','", "EQUAL": "'='", "SEMICOLON": "';'",
    "_NL": "a new line", "$END": "the end of the file",
}
_EXPR_START = {"NAME", "NUMBER", "MINUS", "PLUS", "LPAR", "LSQB"}
_BINARY = {"PLUS", "MINUS", "STAR", "SLASH", "AT"}


def _describe_expected(expected) -> str:
    expected = set(expected)
    words = []
    if _EXPR_START <= expected:
        words.append("an expression")
        expected -= _EXPR_START
    if _BINARY <= expected:
        words.append("an operator")
        expected -= _BINARY
    expected.discard("__ANON_0")  # '**' goes with the operators
    expected.discard("COMMENT")
    words += sorted(_WORDS.get(t, t.lower()) for t in expected)
    if len(words) > 1:
        return ", ".join(words[:-1]) + " or " + words[-1]
    return words[0] if words else "something else"


def _describe_token(kind: str, text: str) -> str:
    if kind == "$END":
        return "end of file"
    if kind == "_NL":
        return "end of line"
    if kind == "NAME":
        return f"name '{text}'"
    if kind == "NUMBER":
        return f"number {text}"
    return f"'{text}'"


def _syntax_error(e, source: Source) -> ExprError:
    """Lark's exception `e` as an `ExprError` in words: what the fast parser
    says of the same text (`_rejection_error`); the tests hold it to this."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF

    if isinstance(e, UnexpectedCharacters):
        return _character_error(source, e.pos_in_stream)
    tok = e.token
    expected = getattr(e, "accepts", None) or e.expected
    if tok.type == "$END" or isinstance(e, UnexpectedEOF):
        return _token_error(source, "$END", "", 0, 0, expected)
    return _token_error(source, tok.type, str(tok), tok.start_pos, tok.end_pos, expected)


def _character_error(source: Source, pos: int) -> ExprError:
    ch = source.text[pos] if pos < len(source.text) else ""
    shown = repr(ch) if not ch.isprintable() or ch in "'\"" else f"'{ch}'"
    return ExprError(f"unexpected character {shown}", Span.at(source, pos))


def _token_error(source: Source, kind: str, text: str, start: int, end: int,
                 expected) -> ExprError:
    """The error for an unexpected token of terminal `kind` at `start:end`,
    where the terminals `expected` would do."""
    if kind == "$END":
        span = Span.at(source, len(source.text.rstrip()))
        what = "end of file"
    else:
        span = Span(source, start, end)
        what = _describe_token(kind, text)
    message = f"unexpected {what}; expected {_describe_expected(expected)}"
    unclosed = _unclosed(source.text, span.start)
    if unclosed is None:
        return ExprError(message, span)
    opener, pos = unclosed
    if what == "end of file":
        return ExprError(f"unexpected end of file: '{opener}' is never closed",
                         Span.at(source, pos))
    return ExprError(message, span, notes=[(Span.at(source, pos),
                                            f"the '{opener}' opened here is still open")])


def _unclosed(text, end):
    """The last bracket left open at offset `end` of `text`, ignoring
    comments: (the bracket, its offset) or None."""
    stack = []
    brackets = re.compile(r"#[^\n]*|[()\[\]]")    # (re caches it; not made at start-up)
    for m in brackets.finditer(text, 0, end):
        ch = m.group()
        if ch == "(" or ch == "[":
            stack.append((ch, m.start()))
        elif (ch == ")" or ch == "]") and stack:
            stack.pop()
    return stack[-1] if stack else None


def parse(source: Source, each=None) -> list:
    """Parse a whole file into its `Statement`s, or raise `ExprError`.
    `each(statement)`, if given, is called with every statement as soon as
    it is parsed (before the rest of the file is read)."""
    global _fast
    if _fast is None:
        _fast = _FastParser(_load_tables())
    _builder.source = source
    _builder.pending = []
    _builder.statements = []
    _builder.each = each
    try:
        try:
            return _fast.parse(source)
        except _Rejected as rejected:
            error = _fast.error(rejected, source)
        raise error
    finally:
        _builder.pending = []
        _builder.statements = []
        _builder.each = None


# ------------------------------------------------------------- fast parsing
#
# Lark's general-purpose runtime costs ~100 us a line.  `_FastParser` runs the
# same LALR tables, made by Lark from grammar.lark, with a lean loop: one
# regular expression for the whole lexer, light tokens, and no callback for
# the chain reductions of inlined ``?rule``s (expr -> sum -> product -> ...),
# which pass their only child through.  On a rejection it keeps where it
# stopped (the token and the state stack), and `_FastParser.error` words the
# error from the tables as Lark's exception would be worded: one grammar and
# one way of reporting errors.

class _Rejected(Exception):
    """The text has a syntax error: at `token` (of terminal `kind`), with
    the automaton's state stack `states` then; or, `token` None, at a
    character no terminal matches, at offset `pos`."""

    def __init__(self, token=None, kind=None, states=(), pos=0):
        super().__init__(kind)
        self.token = token
        self.kind = kind
        self.states = states
        self.pos = pos


class _Token(Span):
    """A token that is its own `Span` (Lark's tokens are converted)."""

    __slots__ = ("type", "value")

    def __init__(self, type, value, source, start, end):
        self.type = type
        self.value = value
        self.source = source
        self.start = start
        self.end = end


# Paths as strings: pathlib costs a few ms to import, at every start.
TABLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "parse_tables.py")
GRAMMAR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "grammar.lark")


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


_SPLICE = "*splice*"  # an inlined _rule: its children go into its parent's


def _analysis():
    """A fresh Lark analysis of grammar.lark (the file at `GRAMMAR`), with
    `Builder`'s callbacks.  Lark's cache is left out: the tables are then
    made from the grammar itself, never from a stale or foreign file."""
    from lark import Lark

    return Lark.open(GRAMMAR, parser="lalr", lexer="basic", postlex=_BracketNewlines(),
                     maybe_placeholders=True, transformer=_builder, cache=False)


def canonical(tables: dict) -> dict:
    """`tables` with their states renumbered breadth-first from the start
    state, following each state's shifts and gotos in the order of their
    symbols' names (each state's actions and the keywords sorted too).

    Lark numbers its states in an order that depends on Python's hash seed;
    this numbering depends only on the automaton, so the same grammar always
    gives the same tables, and two analyses of it compare equal."""
    actions = {int(state): row for state, row in tables["actions"].items()}
    number = {tables["start"]: 0}
    order = [tables["start"]]
    for state in order:                  # `order` grows as states are found
        row = actions[state]
        for kind in sorted(row):
            target = row[kind]
            if type(target) is int and target not in number:
                number[target] = len(order)
                order.append(target)
    # Lark's LR(0) states are all made by following symbols from the start.
    assert len(order) == len(actions), "states unreachable from the start state"
    return {
        "actions": {str(number[state]): {kind: (act if type(act) is not int else number[act])
                                         for kind, act in sorted(actions[state].items())}
                    for state in order},
        "blanks": tables["blanks"],
        "end": number[tables["end"]],
        "ignore": sorted(tables["ignore"]),
        "keywords": dict(sorted(tables["keywords"].items())),
        "regex": tables["regex"],
        "rules": tables["rules"],
        "start": 0,
    }


def make_tables() -> dict:
    """The fast parser's tables, read off a fresh Lark analysis of
    grammar.lark: the LALR actions (states numbered by `canonical`), and for
    each rule how Lark's callbacks pick the children passed to `Builder`
    (JSON-ready)."""
    import functools
    import re
    from lark.lexer import PatternRE, PatternStr
    from lark.parsers.lalr_analysis import Shift

    lark = _analysis()
    lalr = lark.parser.parser.parser
    table = lalr.parse_table
    rules, index = [], {}
    for rule, callback in lalr.callbacks.items():
        if isinstance(rule, str):
            continue
        # Lark's names may be its Tokens (a str subclass): plain strs, so
        # that the generated module is plain literals.
        size, name = len(rule.expansion), str(rule.origin.name)
        if rule.options.expand1 and rule.alias is None and size == 1:
            rules.append([size, name, None, None, 0])  # passes its only child through
        else:
            f, include, append_none = callback, None, 0
            if hasattr(f, "to_include"):
                include = [[t[0], bool(t[1]), t[2] if len(t) > 2 else 0] for t in f.to_include]
                append_none = getattr(f, "append_none", 0)
                f = f.node_builder
            if getattr(f, "__self__", None) is _builder:
                target = str(rule.alias or name)  # the method Lark called
                assert getattr(_builder, target) == f, (rule, f)
            elif isinstance(f, functools.partial):
                target = _SPLICE
            else:
                raise AssertionError(f"unexpected Lark callback for {rule}: {f!r}")
            rules.append([size, name, target, include, append_none])
        index[rule] = len(rules) - 1
    actions = {str(state): {str(kind): (arg if action is Shift else [index[arg]])
                            for kind, (action, arg) in row.items()}
               for state, row in table.states.items()}
    # The lexer: Lark's terminals in Lark's order, keywords matched as names.
    terms = list(lark.lexer_conf.terminals)
    keywords = {}
    for t in terms:
        if isinstance(t.pattern, PatternStr):
            for r in terms:
                if isinstance(r.pattern, PatternRE) and \
                        re.fullmatch(r.pattern.to_regexp(), t.pattern.value):
                    keywords[str(t.pattern.value)] = str(t.name)
    terms = [t for t in terms if not (isinstance(t.pattern, PatternStr)
                                      and t.pattern.value in keywords)]
    terms.sort(key=lambda x: (-x.priority, -x.pattern.max_width, -len(x.pattern.value), x.name))
    return canonical({
        "start": table.start_states["start"],
        "end": table.end_states["start"],
        "rules": rules,
        "actions": actions,
        "regex": "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terms),
        "blanks": "|".join(t.pattern.to_regexp() for t in terms
                           if t.name in lark.lexer_conf.ignore and re.fullmatch(
                               t.pattern.to_regexp(), " \t")),
        "keywords": keywords,
        "ignore": sorted(str(name) for name in lark.lexer_conf.ignore),
    })


def _load_tables() -> dict:
    """The tables generated from the grammar (parse_tables.py), or fresh
    ones if grammar.lark has changed since."""
    try:
        from . import parse_tables
        if parse_tables.GRAMMAR == _read(GRAMMAR):
            return parse_tables.TABLES
    except (ImportError, OSError, AttributeError, ValueError):
        pass
    return make_tables()


def tables_module() -> str:
    """The text of parse_tables.py: the grammar it was made from and its
    tables, as Python literals with every dict sorted (the same text under
    any hash seed)."""
    import pprint

    grammar = _read(GRAMMAR)
    return ('"""The fast parser\'s tables for grammar.lark (see parser.py).\n\n'
            'Generated by `python -m autograd_cli.parser`; do not edit.\n"""\n\n'
            f"GRAMMAR = {grammar!r}\n\n"
            f"TABLES = {pprint.pformat(make_tables(), width=99, sort_dicts=True)}\n")


def _picker(include, append_none, splice):
    """The children Lark's ChildFilterLALR passes for one rule, as a function
    of the reduced values.  `include` lists (index, expand, Nones before);
    an expanded child is a list spliced in (reused when it comes first, so
    left recursion stays linear)."""
    include = [tuple(t) for t in include]
    if not append_none and not any(expand or nones for _, expand, nones in include):
        indices = [i for i, _, _ in include]
        if len(indices) >= 2 and not splice:
            return operator.itemgetter(*indices)       # a tuple, unpacked by the Builder
        return lambda children: [children[i] for i in indices]

    def pick(children):
        kept = []
        for i, expand, nones in include:
            if nones:
                kept += [None] * nones
            if expand:
                if kept:
                    kept += children[i]
                else:
                    kept = children[i]
            else:
                kept.append(children[i])
        if append_none:
            kept += [None] * append_none
        return kept

    return pick


class _FastParser:
    def __init__(self, tables):
        self.start_state = tables["start"]
        self.end_state = tables["end"]
        # A reduction: (size, rule name, target, pick); target None passes the
        # only child through, _SPLICE hands the children to the parent,
        # anything else is a Builder method; pick(children), if not None,
        # gives the children Lark's callbacks would pass (see `_picker`).
        reductions = []
        for size, name, target, include, append_none in tables["rules"]:
            if target == _SPLICE:
                target = _SPLICE  # this very object: the loop tests identity
            elif target is not None:
                target = getattr(_builder, target)
            pick = None if include is None else _picker(include, append_none,
                                                        target is _SPLICE)
            spec = None if include is None else ([tuple(t) for t in include], append_none)
            reductions.append((size, name, target, pick, spec))
        # actions[state][terminal]: the next state (an int) for a shift, or a
        # reduction.
        self.actions = {
            int(state): {kind: (act if type(act) is int else reductions[act[0]])
                         for kind, act in row.items()}
            for state, row in tables["actions"].items()}
        # One match a token, the blanks before it included (Lark's pattern
        # for blanks stays an alternative, for blanks at the end of the text).
        self.regex = re.compile(f"(?:{tables['blanks']})?(?:{tables['regex']})")
        self.keywords = tables["keywords"]
        self.skip = frozenset(tables["ignore"])
        self.chains = {}   # (state below, state, terminal) -> `_chain`
        # (states, kinds of a chunk's tokens) -> [replay code or None, steps, states after]
        self.replays = {}

    def parse(self, source):
        """The statements of `source`, or `_Rejected`.

        The lexer is inlined: one match per token (blanks included), newlines
        inside brackets dropped as in Python.  Tokens are gathered up to each
        statement separator, and the chunk goes through the LALR automaton in
        one go (a line of more than `_LONG` tokens, in pieces of that many).
        What the automaton does with a chunk depends only on the
        states on the stack and the kinds of the tokens, so it is recorded
        once and replayed for every chunk alike (a long file repeats a few
        shapes of line): a replay shifts and reduces the values without
        looking anything up, by code made for the shape when it comes a
        second time (making it costs more than a line once).
        """
        text = source.text
        match = self.regex.match
        skip = self.skip
        keywords = self.keywords
        replays = self.replays
        states = [self.start_state]
        values = []
        pos, n = 0, len(text)
        depth = 0
        chunk, kinds = [], []
        while True:
            if pos < n:                                   # the next token
                m = match(text, pos)
                if m is None:
                    # The tokens before it come first, as with Lark's lexer,
                    # which hands the parser one token at a time.
                    self._steps(states, values, chunk, kinds)
                    raise _Rejected(states=states, pos=pos)
                kind = m.lastgroup
                stop = m.end()
                if kind in skip or (kind == "_NL" and depth):
                    pos = stop
                    continue
                if kind == "NAME":
                    value = m[kind]
                    if value in keywords:
                        kind = keywords[value]
                elif kind == "LPAR" or kind == "LSQB":
                    depth += 1
                elif (kind == "RPAR" or kind == "RSQB") and depth:
                    depth -= 1
                chunk.append(m)            # the token: Builder reads the match
                kinds.append(kind)
                pos = stop
                if kind != "_NL" and kind != "SEMICOLON" and len(kinds) < _LONG:
                    continue
                # A line, or _LONG tokens of a long one (a match holds ~450
                # bytes: a long line's go as they come; its pieces repeat
                # when it does).  Deep in brackets, the stack is no key.
                if len(states) > _DEEP:
                    self._steps(states, values, chunk, kinds)
                    chunk, kinds = [], []
                    continue
                key = (tuple(states), tuple(kinds))
                replay = replays.get(key)
                if replay is None:
                    steps, final = self._steps(states, values, chunk, kinds, record=[])
                    if len(replays) < 10000:
                        replays[key] = [None, steps, final]
                elif replay[0] is not None:
                    replay[0](chunk, values)
                    states[:] = replay[2]
                else:           # a shape seen again: worth its code from now on
                    replay[0] = _replayer(replay[1], len(chunk))
                    replay[0](chunk, values)
                    states[:] = replay[2]
                chunk, kinds = [], []
            else:
                chunk.append(_Token("$END", "", source, n, n))
                kinds.append("$END")
                return self._steps(states, values, chunk, kinds)

    def _steps(self, states, values, tokens, kinds, record=None):
        """Run the automaton over `tokens`; `record`, a list, gets its steps
        (None for a shift, (size, target, pick, spec) for a reduction that makes a
        value) and the result is (steps, the states after).  At $END, the
        parse's result."""
        actions = self.actions
        end_state = self.end_state
        chains = self.chains
        for token, kind in zip(tokens, kinds):
            while True:
                state = states[-1]
                act = actions[state].get(kind)
                if act is None:
                    raise _Rejected(token, kind, states)
                if type(act) is int:                      # shift
                    states.append(act)
                    values.append(token)
                    if record is not None:
                        record.append(None)
                    break
                size, name, target, pick, spec = act      # reduce
                if target is None:  # rules passing their only child through
                    key = (states[-2], state, kind)
                    top = chains.get(key)
                    if top is None:
                        top = chains[key] = self._chain(states[-2], name, kind)
                    states[-1] = top
                    continue
                children = values[-size:] if size else []
                if size:
                    del states[-size:]
                    del values[-size:]
                if pick is not None:
                    children = pick(children)
                values.append(children if target is _SPLICE else target(children))
                states.append(actions[states[-1]][name])
                if record is not None:
                    record.append((size, target, pick, spec))
                if states[-1] == end_state and kind == "$END":
                    return values[-1]
        return record, tuple(states)

    def error(self, rejected: _Rejected, source: Source) -> ExprError:
        """The `ExprError` for a rejection, in the words Lark's exception
        would give (`_syntax_error`): what was expected is what Lark's
        ``accepts`` finds, the terminals that would be shifted (or, for the
        end of the file, reach the end state) after the reductions they call
        for, else every terminal of the state."""
        if rejected.token is None:
            return _character_error(source, rejected.pos)
        actions = self.actions
        states = rejected.states
        terminals = [t for t in actions[states[-1]] if t.isupper()]
        accepts = set()
        for t in terminals:
            stack = list(states)
            while True:
                act = actions[stack[-1]].get(t)
                if act is None:
                    break
                if type(act) is int:
                    accepts.add(t)
                    break
                size, name = act[0], act[1]
                if size:
                    del stack[-size:]
                stack.append(actions[stack[-1]][name])
                if t == "$END" and stack[-1] == self.end_state:     # the end reached
                    accepts.add(t)
                    break
        token = rejected.token
        expected = accepts or terminals
        if rejected.kind == "$END":
            return _token_error(source, "$END", "", 0, 0, expected)
        return _token_error(source, rejected.kind, _text(token), _start(token), _end(token),
                            expected)

    def _chain(self, below, name, kind):
        """The state on top of `below` after a run of pass-through reductions
        (the first of rule `name`) with `kind` next: the values stay put."""
        actions = self.actions
        while True:
            top = actions[below][name]
            act = actions[top].get(kind)
            if act is None or type(act) is int or act[2] is not None:
                return top
            name = act[1]


_LONG = 256    # tokens of a line run at once at most; a longer one goes in pieces
_DEEP = 64     # states on the stack at most for a piece to be recorded


def _replayer(steps, ntokens):
    """A function ``replay(tokens, values)`` doing to the value stack what
    `steps` (from `_FastParser._steps`) do, as straight-line code: the
    values the chunk makes are local variables until the end, each reduction
    one call with its children picked as `_picker`'s function would pick
    them.  Reductions may take values from under the chunk's own (the
    statements before it)."""
    env = {}
    tokens = [f"t{k}" for k in range(ntokens)]
    lines = []
    stack = []       # the expressions for the values the chunk has pushed
    below = 0        # values taken from under them so far
    shifted = 0
    for step in steps:
        if step is None:                                   # shift
            stack.append(tokens[shifted])
            shifted += 1
            continue
        size, target, pick, spec = step                    # reduce
        own = min(size, len(stack))
        taken = [f"values[-{below + i}]" for i in range(size - own, 0, -1)]
        below += size - own
        children = taken + (stack[len(stack) - own:] if own else [])
        del stack[len(stack) - own:]
        n = len(lines)
        if spec is not None:
            children = _picked(children, *spec, target is _SPLICE, f"k{n}", lines)
        else:
            children = "[" + ", ".join(children) + "]"
        if target is not _SPLICE:
            env[f"R{n}"] = target
            children = f"R{n}({children})"
        lines.append(f"v{n} = {children}")
        stack.append(f"v{n}")
    assert shifted == ntokens
    body = [f"{', '.join(tokens)}, = tokens" if tokens else "pass", *lines]
    if below:
        body.append(f"del values[-{below}:]")
    if stack:
        body.append(f"values += ({', '.join(stack)},)")
    code = "def replay(tokens, values):\n" + "".join(f"    {line}\n" for line in body)
    exec(compile(code, "<replay>", "exec"), env)
    return env["replay"]


def _picked(children, include, append_none, splice, kept, lines):
    """Code for what `_picker(include, append_none, splice)` returns for the
    children written `children`: an expression, after `lines` made for it."""
    if not append_none and not any(expand or nones for _, expand, nones in include):
        picked = [children[i] for i, _, _ in include]
        if len(picked) >= 2 and not splice:
            return "(" + ", ".join(picked) + ")"       # as itemgetter's tuple
        return "[" + ", ".join(picked) + "]"
    lines.append(f"{kept} = []")
    for i, expand, nones in include:
        if nones:
            lines.append(f"{kept} += [None] * {nones}")
        if expand:
            lines.append(f"if {kept}: {kept} += {children[i]}")    # reuse a first list
            lines.append(f"else: {kept} = {children[i]}")
        else:
            lines.append(f"{kept}.append({children[i]})")
    if append_none:
        lines.append(f"{kept} += [None] * {append_none}")
    return kept


_fast = None


if __name__ == "__main__":
    # python -m autograd_cli.parser [PATH]: regenerate the tables (into PATH,
    # if given, instead of parse_tables.py).
    out = sys.argv[1] if len(sys.argv) > 1 else TABLES
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write(tables_module())
    print(f"wrote {out}")
