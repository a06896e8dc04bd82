"""The fast LALR driver gives exactly what Lark's own runtime gives.

parser.parse runs Lark's tables through a lean loop of its own; Lark's parser
is the reference.  For any text, both accept or both reject, and when they
accept they build the same statements, node for node, span for span.
"""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark.exceptions import UnexpectedInput

from autograd_cli import parser
from autograd_cli.errors import ExprError, Source

ROOT = Path(__file__).resolve().parent.parent


def _span(sp):
    return (sp.start, sp.end, sp.line, sp.column, sp.end_line, sp.end_column)


def dump(statements):
    """Statements as plain nested tuples, Exprs named by their index."""
    out = []
    for stmt in statements:
        where = {id(e): i for i, e in enumerate(stmt.nodes)}

        def ref(e):
            return None if e is None else where[id(e)]

        nodes = []
        for e in stmt.nodes:
            data = e.data
            if e.kind == "index":
                data = tuple(("slice",) + tuple(ref(p) for p in s[1:]) if isinstance(s, tuple)
                             else ref(s) for s in data)
            keywords = tuple((k, _span(sp)) for k, sp in e.keywords)
            nodes.append((e.kind, data, tuple(ref(a) for a in e.args), keywords, _span(e.span)))
        out.append((stmt.name, stmt.is_param, _span(stmt.name_span), _span(stmt.span),
                    ref(stmt.root), tuple(nodes)))
    return out


def lark_parse(text):
    """Lark's own runtime, with the same callbacks."""
    b = parser._builder
    b.source, b.pending, b.statements = Source("t.expr", text), [], []
    try:
        return parser._lark().parse(text)
    finally:
        b.pending, b.statements = [], []


def same_as_lark(text):
    try:
        reference = dump(lark_parse(text))
    except (UnexpectedInput, ExprError):
        reference = None
    try:
        fast = dump(parser.parse(Source("t.expr", text)))
    except ExprError:
        fast = None
    assert fast == reference, text


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.expr")),
                         ids=lambda p: p.stem)
def test_examples(path):
    same_as_lark(path.read_text())


@pytest.mark.parametrize("text", [
    "a = 1", "a = 1\n", "\n\n; a = 1 ;; b = a\n\n", "param w = [1,\n 2,  # c\n 3]\n",
    "y = -x**2 ** 3 + f(a, b=2)[1:3, ::2, -1]", "y = x[:, 0] @ w / 2 - +3",
    "a = [[1, 2], [3, 4]][1, ::-1]", "a = sum(x, axis=-1,)", "a=1;b=2\r\nc=3",
    "params = 1\nparam_ = params", "a = .5 + 4. + 1e-3 + 2.5E+4",
    "a = (((((b)))))", "a = f()", "a = x[1:]", "a = x[:]", "a = x[::]", "a = x[1::2]",
])
def test_handwritten(text):
    same_as_lark(text)


TOKENS = ["a", "b", "w", "param", "=", "1", "2.5", ".5", "1e3", "+", "-", "*", "/", "@", "**",
          "(", ")", "[", "]", ",", ":", ";", "\n", " ", "#c\n", "sum", "x", "axis", "=", "\t"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=30))
def test_token_soup(tokens):
    same_as_lark(" ".join(tokens))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab=+-*/@()[],:;.e1\n #\r\t\x0cp", max_size=40))
def test_character_soup(text):
    same_as_lark(text)


def test_shipped_tables_are_lark_s_analysis_of_the_grammar():
    """autograd_cli/parse_tables.py is what `python -m autograd_cli.parser`
    makes from grammar.lark now (regenerate it when the grammar changes)."""
    from autograd_cli import parse_tables

    assert Path(parser.TABLES).read_text(encoding="utf-8") == parser.tables_module()
    assert parse_tables.TABLES == parser.make_tables()
    assert parser._load_tables() is parse_tables.TABLES


def test_tables_made_afresh_when_the_grammar_changed(monkeypatch):
    """An edited grammar.lark without regenerated tables is not parsed with
    the old tables: they are made from the grammar again."""
    from autograd_cli import parse_tables

    monkeypatch.setattr(parse_tables, "GRAMMAR", parse_tables.GRAMMAR + "\n// edited\n")
    tables = parser._load_tables()
    assert tables is not parse_tables.TABLES
    assert tables == parse_tables.TABLES


# The fast parser records what the automaton does with a line's tokens and
# replays it for every later line of the same shape (in this file or
# another): lines alike but for names and numbers must still parse as Lark
# parses them.

def test_lines_of_one_shape_replayed():
    lines = [f"x{i} = tanh(x{i - 1} * p{i % 3} + {i}.5)" for i in range(1, 40)]
    same_as_lark("x0 = 1\n" + "\n".join(lines) + "\n")
    same_as_lark("x0 = 1;" + ";".join(lines))
    same_as_lark("param p = [1,\n 2]\n" + "\n\n".join(lines[:5]) + "  # end")
    long = "y = " + " + ".join(f"x{i} * {i}" for i in range(100))    # not recorded
    same_as_lark("\n".join([long, lines[0], long.replace("y", "z"), lines[1]]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=20), st.sampled_from(["\n", ";", "\n\n"]))
def test_token_soup_repeated(tokens, sep):
    line = " ".join(tokens)
    same_as_lark(sep.join([line, line.replace("a", "b"), line.replace("1", "7")]))
