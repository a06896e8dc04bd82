"""Text to statements: the LALR parser for the .expr language.

The grammar lives in grammar.lark.  Lark analyses it; its LALR tables, and
how its callbacks pick each rule's children, are stored in parse_tables.py
(`python -m autograd_cli.parser` regenerates it, from a fresh analysis with
the states numbered canonically, so the same grammar always gives the same
file; a module, so that Python caches it compiled), and `lalr.Parser` runs
them with a lean loop; a syntax error is worded here from what its tables
expected, as Lark's parser would word it, so Lark is not imported at run
time (the tests hold the two to the same words).  Either way `Builder`'s
methods run as rules reduce, each building an `Expr` at once: no parse tree
is built or walked.  Every `Expr` keeps its source `Span`.  `Expr`s are
created children-first, so the list of them a statement collects
(`Statement.nodes`) is already in evaluation order.
"""

from __future__ import annotations

import os
import re
import sys

from .errors import ExprError, Source, Span
from .hints import character_hint
from .lalr import (
    Match,
    Parser,
    Rejected,
    Token,
    end_of,
    kind_of,
    read,
    start_of,
    tables_of,
    text_of,
)
from .lalr import tables_module as tables_module_text


class Expr:
    """One node of an expression as written.

    kind: 'number' (data: float), 'name' (data: str), 'string' (data: str,
    decoded: only as an argument of `load`), 'op' (data: op name),
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
        self.gid = None  # set by the compiler: the graph node it became
        self.const = None  # set by the compiler: True if no name is involved

    @property
    def span(self) -> Span:
        """Its `Span` (made when asked for: most never are)."""
        return Span(self.source, self.start, self.end)

    @span.setter
    def span(self, span: Span):
        self.source, self.start, self.end = span.source, span.start, span.end

    @classmethod
    def at(cls, kind, data, args, span: Span) -> Expr:
        return cls(kind, data, args, span.source, span.start, span.end)


class Statement:
    __slots__ = ("name", "name_span", "is_param", "root", "nodes", "span")

    def __init__(
        self, name: str, name_span: Span, is_param: bool, root: Expr, nodes: list, span: Span
    ):
        self.name = name
        self.name_span = name_span
        self.is_param = is_param
        self.root = root
        self.nodes = nodes  # every Expr of the right side, children first
        self.span = span  # the whole statement

    def __repr__(self):
        return f"Statement({self.name!r}, {self.root!r})"

    @property
    def rhs_text(self) -> str:
        """The right side as written, on one line and without comments."""
        text = self.root.span.text
        if "\n" in text or "#" in text:
            # a '#' inside a string literal starts no comment
            # (re caches the pattern; it is not compiled at start-up)
            kept = re.sub(r'("(?:[^"\\\n]|\\[^\n])*")|#[^\n]*', lambda m: m.group(1) or "", text)
            text = " ".join(kept.split())
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


# The functions that take a string argument (a file's name); a string
# anywhere else is an error.
STRING_FUNCTIONS = frozenset({"load"})
STRING_ONLY = 'a string is valid only as an argument of load(...), as in load("data.csv")'


def decode_string(text: str, source: Source, start: int) -> str:
    """The string literal `text` (with its quotes), at offset `start` of
    `source`, decoded as JSON decodes a string; an `ExprError` at a bad
    escape or a control character."""
    import json

    if "\\" not in text and text.isprintable():
        return text[1:-1]
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        message = e.msg
        if message.startswith("Invalid") and "escape" in message:
            message = r"invalid escape in a string; JSON's are \" \\ \/ \b \f \n \r \t \uXXXX"
        elif message.startswith("Invalid control character"):
            message = "a control character (a tab, say) in a string: write it as an escape (\\t)"
        pos = e.pos
        if "escape" in e.msg:  # at the backslash that starts it
            pos = text.rfind("\\", 0, pos + 1)
        raise ExprError(message, Span.at(source, start + pos)) from None


class Builder:
    """Lark callbacks: one method per grammar rule alias."""

    def __init__(self, source: Source):
        self.source = source
        self.pending = []
        self.statements = []
        self.parser = None  # the `lalr.Parser` calling these methods, made when first needed

    def _span(self, tok) -> Span:
        kind = type(tok)
        if kind is Match:  # the fast parser's tokens are its regex's matches
            return Span(self.source, tok.start(tok.lastgroup), tok.end())
        if kind is Token:
            return tok
        return Span.of_token(self.source, tok)

    def _new(self, kind, data, args, start, end, keywords=()):
        e = Expr(kind, data, args, self.source, start, end, keywords)
        self.pending.append(e)
        return e

    # atoms
    def number(self, children):
        tok = children[0]
        if type(tok) is Match:  # the common case, `_new` inlined
            text = tok[tok.lastgroup]
            end = tok.end()
            e = Expr("number", float(text), (), self.source, end - len(text), end)
            self.pending.append(e)
            return e
        return self._new("number", float(tok.value), (), start_of(tok), end_of(tok))

    def name(self, children):
        tok = children[0]
        if type(tok) is Match:
            text = tok[tok.lastgroup]
            end = tok.end()
            e = Expr("name", sys.intern(text), (), self.source, end - len(text), end)
            self.pending.append(e)
            return e
        return self._new("name", sys.intern(tok.value), (), start_of(tok), end_of(tok))

    def string(self, children):
        tok = children[0]
        start, end = start_of(tok), end_of(tok)
        return self._new("string", decode_string(text_of(tok), self.source, start), (), start, end)

    def paren(self, children):
        lpar, inner, rpar = children
        inner.start, inner.end = start_of(lpar), end_of(rpar)
        return inner

    def list(self, children):
        lsqb, elements, rsqb = children
        return self._new("list", None, tuple(elements or ()), start_of(lsqb), end_of(rsqb))

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

    def _comparison(name):
        def build(self, children):
            x, tok, y = children
            return self._new("op", name, (x, y), x.start, y.end)

        return build

    lt = _comparison("lt")
    le = _comparison("le")
    gt = _comparison("gt")
    ge = _comparison("ge")
    eq = _comparison("eq")
    ne = _comparison("ne")
    del _comparison

    def neg(self, children):
        tok, x = children
        return self._new("op", "neg", (x,), start_of(tok), x.end)

    def pos(self, children):
        tok, x = children
        return self._new("op", "pos", (x,), start_of(tok), x.end)

    # postfix
    def call(self, children):
        name, lpar, arguments, rpar = children
        args, keywords = [], []
        for a in arguments or ():
            if isinstance(a, tuple):  # a keyword argument
                keywords.append((a[0], a[2]))
                args.append(a[1])
            else:
                if keywords:
                    raise ExprError(
                        "a positional argument cannot follow a keyword argument", a.span
                    )
                args.append(a)
        if text_of(name) not in STRING_FUNCTIONS:
            for a in args:
                if a.kind == "string":
                    raise ExprError(STRING_ONLY, a.span)
        return self._new(
            "call", text_of(name), tuple(args), start_of(name), end_of(rpar), tuple(keywords)
        )

    def arguments(self, children):
        return children

    def keyword(self, children):
        name, value = children
        return (text_of(name), value, Span(self.source, start_of(name), value.end))

    def index(self, children):
        x, subscripts, rsqb = children
        return self._new("index", subscripts, (x,), x.start, end_of(rsqb))

    def subscripts(self, children):
        return tuple(children)

    def slice(self, children):
        parts = [None, None, None]
        k = 0
        for c in children:
            if kind_of(c) == "COLON":  # a token, not an Expr
                k += 1
            elif c is not None:
                parts[k] = c
        return ("slice", *parts)

    # statements
    def _statement(self, name_tok, root, is_param, first_tok):
        nodes, self.pending = self.pending, []
        stmt = Statement(
            sys.intern(text_of(name_tok)),
            self._span(name_tok),
            is_param,
            root,
            nodes,
            Span(self.source, start_of(first_tok), root.end),
        )
        self.statements.append(stmt)
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
        _parser = Lark.open(
            "grammar.lark",
            rel_to=__file__,
            parser="lalr",
            lexer="basic",
            postlex=_BracketNewlines(),
            maybe_placeholders=True,
            transformer=_builder,
            cache=True,
        )
    return _parser


# How terminals are named in messages.
_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "PARAM": "'param'",
    "MINUS": "'-'",
    "LESS": "'<'",
    "LESSEQUAL": "'<='",
    "MORE": "'>'",
    "MOREEQUAL": "'>='",
    "EQEQUAL": "'=='",
    "NOTEQUAL": "'!='",
    "PLUS": "'+'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "AT": "'@'",
    "__ANON_0": "'**'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COLON": "':'",
    "COMMA": "','",
    "EQUAL": "'='",
    "SEMICOLON": "';'",
    "_NL": "a new line",
    "$END": "the end of the file",
}
_EXPR_START = {"NAME", "NUMBER", "MINUS", "PLUS", "LPAR", "LSQB"}
_BINARY = {"PLUS", "MINUS", "STAR", "SLASH", "AT"}
_COMPARING = {"LESS", "LESSEQUAL", "MORE", "MOREEQUAL", "EQEQUAL", "NOTEQUAL"}


def _describe_expected(expected) -> str:
    expected = set(expected)
    words = []
    if _EXPR_START <= expected:
        words.append("an expression")
        expected -= _EXPR_START
        expected.discard("STRING")  # an argument's string goes with the expressions
    if _BINARY <= expected:
        words.append("an operator")
        expected -= _BINARY
        expected -= _COMPARING  # the comparisons go with the operators
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
    if kind == "STRING":
        return f"string {text}"
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
    hint = character_hint(source.text, pos)
    if ch == '"':
        hint = "; this string is never closed (a string ends on the line it starts)"
    elif ch == "'":
        hint = '; strings are written in double quotes: load("data.csv")'
    return ExprError(f"unexpected character {shown}{hint}", Span.at(source, pos))


def _token_error(source: Source, kind: str, text: str, start: int, end: int, expected) -> ExprError:
    """The error for an unexpected token of terminal `kind` at `start:end`,
    where the terminals `expected` would do."""
    if kind == "$END":
        span = Span.at(source, len(source.text.rstrip()))
        what = "end of file"
    else:
        span = Span(source, start, end)
        what = _describe_token(kind, text)
    message = f"unexpected {what}; expected {_describe_expected(expected)}"
    if kind == "STRING":
        message = STRING_ONLY
    if kind in _COMPARING and not _EXPR_START <= set(expected):
        # a comparison right after one: a chain, which Python would allow
        message = (
            f"comparisons do not chain: for a {text} b and b {text} c, "
            f"write (a {text} b) * (b {text} c)"
        )
    unclosed = _unclosed(source.text, span.start)
    if unclosed is None:
        return ExprError(message, span)
    opener, pos = unclosed
    if what == "end of file":
        return ExprError(
            f"unexpected end of file: '{opener}' is never closed", Span.at(source, pos)
        )
    return ExprError(
        message, span, notes=[(Span.at(source, pos), f"the '{opener}' opened here is still open")]
    )


def _unclosed(text, end):
    """The last bracket left open at offset `end` of `text`, ignoring
    comments: (the bracket, its offset) or None."""
    stack = []
    # strings and comments hold no brackets (re caches it; not made at start-up)
    brackets = re.compile(r'"(?:[^"\\\n]|\\[^\n])*"|#[^\n]*|[()\[\]]')
    for m in brackets.finditer(text, 0, end):
        ch = m.group()
        if ch == "(" or ch == "[":
            stack.append((ch, m.start()))
        elif (ch == ")" or ch == "]") and stack:
            stack.pop()
    return stack[-1] if stack else None


def _rejection_error(rejected: Rejected, parser: Parser, source: Source) -> ExprError:
    """The `ExprError` for `parser`'s rejection, in the words Lark's
    exception would give (`_syntax_error`)."""
    if rejected.token is None:
        return _character_error(source, rejected.pos)
    expected = parser.expected(rejected.states)
    if rejected.kind == "$END":
        return _token_error(source, "$END", "", 0, 0, expected)
    token = rejected.token
    return _token_error(
        source, rejected.kind, text_of(token), start_of(token), end_of(token), expected
    )


def parse(source: Source, builder: Builder | None = None) -> list:
    """Parse a whole file into its `Statement`s, or raise `ExprError`.
    With `builder` (a `Builder` of one's own), its methods run as the rules
    reduce, and the result is whatever its `start` returns."""
    if builder is None:
        builder = _builder
    parser = builder.parser
    if parser is None:
        parser = builder.parser = Parser(_load_tables(), builder)
    builder.source = source
    builder.pending = []
    builder.statements = []
    try:
        try:
            return parser.parse(source)
        except Rejected as rejected:
            error = _rejection_error(rejected, parser, source)
        raise error
    finally:
        builder.pending = []
        builder.statements = []


TABLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "parse_tables.py")
GRAMMAR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "grammar.lark")


def _analysis():
    """A fresh Lark analysis of grammar.lark (the file at `GRAMMAR`), with
    `Builder`'s callbacks.  Lark's cache is left out: the tables are then
    made from the grammar itself, never from a stale or foreign file."""
    from lark import Lark

    return Lark.open(
        GRAMMAR,
        parser="lalr",
        lexer="basic",
        postlex=_BracketNewlines(),
        maybe_placeholders=True,
        transformer=_builder,
        cache=False,
    )


# The terminals a long line is mostly made of, which the lexer tries first
# where that matches the same (`lalr.try_first`).
COMMON = ("NUMBER", "NAME", "__ANON_0", "STAR", "PLUS", "MINUS", "SLASH", "LPAR", "RPAR", "COMMA")


def make_tables() -> dict:
    """The parser's tables, read off a fresh Lark analysis of grammar.lark
    (see `lalr.tables_of`)."""
    return tables_of(_analysis(), _builder, COMMON)


def _load_tables() -> dict:
    """The tables generated from the grammar (parse_tables.py), or fresh
    ones if grammar.lark has changed since."""
    try:
        from . import parse_tables

        if parse_tables.GRAMMAR == read(GRAMMAR):
            return parse_tables.TABLES
    except (ImportError, OSError, AttributeError, ValueError):
        pass
    return make_tables()


def tables_module() -> str:
    """The text of parse_tables.py: the grammar it was made from and its
    tables, as Python literals with every dict sorted (the same text under
    any hash seed)."""
    return tables_module_text(
        "The fast parser's tables for grammar.lark (see parser.py).\n\n"
        "Generated by `python -m autograd_cli.parser`; do not edit.",
        read(GRAMMAR),
        make_tables(),
    )


if __name__ == "__main__":
    # python -m autograd_cli.parser [PATH]: regenerate the tables (into PATH,
    # if given, instead of parse_tables.py).
    out = sys.argv[1] if len(sys.argv) > 1 else TABLES
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write(tables_module())
    print(f"wrote {out}")
