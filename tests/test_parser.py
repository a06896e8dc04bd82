"""The fast LALR driver gives exactly what Lark's own runtime gives.

parser.parse runs Lark's tables through a lean loop of its own; Lark's parser
is the reference.  For any text, both accept or both reject, and when they
accept they build the same statements, node for node, span for span.
"""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark.exceptions import UnexpectedInput

from autograd_cli import lalr, parser
from autograd_cli.errors import ExprError, Source

ROOT = Path(__file__).resolve().parent.parent


def _span(sp):
    return (sp.start, sp.end, sp.line, sp.column, sp.end_line, sp.end_column)


def dump(statements):
    """Statements as plain nested tuples, Exprs named by their index."""
    out = []
    for stmt in statements:
        where = {id(e): i for i, e in enumerate(stmt.nodes)}

        def ref(e, where=where):
            return None if e is None else where[id(e)]

        nodes = []
        for e in stmt.nodes:
            data = e.data
            if e.kind == "index":
                data = tuple(
                    ("slice",) + tuple(ref(p) for p in s[1:]) if isinstance(s, tuple) else ref(s)
                    for s in data
                )
            keywords = tuple((k, _span(sp)) for k, sp in e.keywords)
            nodes.append((e.kind, data, tuple(ref(a) for a in e.args), keywords, _span(e.span)))
        out.append(
            (
                stmt.name,
                stmt.is_param,
                _span(stmt.name_span),
                _span(stmt.span),
                ref(stmt.root),
                tuple(nodes),
            )
        )
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


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.expr")), ids=lambda p: p.stem)
def test_examples(path):
    same_as_lark(path.read_text())


@pytest.mark.parametrize(
    "text",
    [
        "a = 1",
        "a = 1\n",
        "\n\n; a = 1 ;; b = a\n\n",
        "param w = [1,\n 2,  # c\n 3]\n",
        "y = -x**2 ** 3 + f(a, b=2)[1:3, ::2, -1]",
        "y = x[:, 0] @ w / 2 - +3",
        "a = [[1, 2], [3, 4]][1, ::-1]",
        "a = sum(x, axis=-1,)",
        "a=1;b=2\r\nc=3",
        "params = 1\nparam_ = params",
        "a = .5 + 4. + 1e-3 + 2.5E+4",
        "a = (((((b)))))",
        "a = f()",
        "a = x[1:]",
        "a = x[:]",
        "a = x[::]",
        "a = x[1::2]",
    ],
)
def test_handwritten(text):
    same_as_lark(text)


TOKENS = [
    "a",
    "b",
    "w",
    "param",
    "=",
    "1",
    "2.5",
    ".5",
    "1e3",
    "+",
    "-",
    "*",
    "/",
    "@",
    "**",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    ";",
    "\n",
    " ",
    "#c\n",
    "sum",
    "x",
    "axis",
    "=",
    "\t",
    '"d.csv"',
    '"a#(\\"b"',
    "load",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=30))
def test_token_soup(tokens):
    same_as_lark(" ".join(tokens))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab=+-*/@()[],:;.e1\n #\r\t\x0cp", max_size=40))
def test_character_soup(text):
    same_as_lark(text)


def fast_tokens(text):
    """The fast parser's lexer over `text`: (terminal, start, end) of each
    token it hands the automaton, and where it stopped on a character no
    terminal matches (None if it did not)."""
    p = parser._builder.parser or lalr.Parser(parser._load_tables(), parser._builder)
    tokens, pos, depth = [], 0, 0
    while pos < len(text):
        m = p.regex.match(text, pos)
        if m is None:
            return tokens, pos
        kind, pos = m.lastgroup, m.end()
        if kind in p.skip or (kind == "_NL" and depth):
            continue
        kind = p.keywords.get(m[kind], kind) if kind == "NAME" else kind
        depth += 1 if kind in ("LPAR", "LSQB") else -1 if kind in ("RPAR", "RSQB") and depth else 0
        tokens.append((kind, m.start(m.lastgroup), pos))
    return tokens, None


def lark_tokens(text):
    """Lark's lexer over `text`, as `fast_tokens` gives it."""
    tokens = []
    try:
        for tok in parser._lark().lex(text):
            tokens.append((tok.type, tok.start_pos, tok.end_pos))
    except UnexpectedInput as e:
        return tokens, e.pos_in_stream
    return tokens, None


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet='ab_p9=<>!+-*/@()[],:;.eE1\n #\r\t"\\', max_size=40))
def test_lexer_matches_lark_s(text):
    """The lexer tries the common terminals first (`lalr.try_first`): the
    tokens stay those of Lark's order, whatever the characters' neighbours."""
    assert fast_tokens(text) == lark_tokens(text)


def test_first_chars_holds_every_first_character():
    """What `lalr.first_chars` says a terminal can begin with includes every
    character a match of it begins with (tried with a few continuations)."""
    for terminal in parser._analysis().lexer_conf.terminals:
        regex = terminal.pattern.to_regexp()
        starts = lalr.first_chars(regex)
        if starts is None:
            continue
        assert starts, regex  # a terminal's match is never empty
        for code in range(128):
            for tail in ("", "*", "=", "1", "a", "\n", '"', "e5", "p"):
                if re.match(regex, chr(code) + tail):
                    assert chr(code) in starts, (regex, chr(code) + tail)


@pytest.mark.parametrize(
    "regex, chars",
    [
        (r"\*\*", "*"),
        (r"\r?\n", "\r\n"),
        (r"([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][+-]?[0-9]+)?", ".0123456789"),
        (r"[ \t]+", " \t"),
        (r"a?b", "ab"),
        (r"(?:a|)c", "ac"),
        (r"a*", None),  # may be empty: anything may follow
        (r"\w", None),  # a category: not worked out
        (r"(?i:x)", None),  # flags: not worked out
        (r"[^x]", None),
    ],
)
def test_first_chars(regex, chars):
    got = lalr.first_chars(regex)
    assert got == (None if chars is None else set(chars))


def test_common_terminals_moved_only_past_ones_that_begin_otherwise():
    terms = [
        ("EQEQUAL", "=="),
        ("EQUAL", "="),
        ("STAR2", r"\*\*"),
        ("STAR", r"\*"),
        ("N", "[0-9]+"),
    ]
    order = lalr.try_first(terms, ("N", "STAR", "EQUAL"), lambda t: t[0], lambda t: t[1])
    # STAR may not pass STAR2 ('*' both): it stays after it; EQUAL stays after EQEQUAL
    assert [t[0] for t in order] == ["N", "EQEQUAL", "EQUAL", "STAR2", "STAR"]
    order = lalr.try_first(terms, ("STAR2", "STAR"), lambda t: t[0], lambda t: t[1])
    assert [t[0] for t in order] == ["STAR2", "STAR", "EQEQUAL", "EQUAL", "N"]


def test_shipped_tables_are_lark_s_analysis_of_the_grammar():
    """autograd_cli/parse_tables.py holds today's grammar.lark and the tables
    of a fresh Lark analysis of it (made without Lark's cache), states
    numbered canonically (regenerate it when the grammar changes)."""
    from autograd_cli import parse_tables

    assert parse_tables.GRAMMAR == Path(parser.GRAMMAR).read_text(encoding="utf-8")
    assert parse_tables.TABLES == parser.make_tables()
    assert lalr.canonical(parse_tables.TABLES) == parse_tables.TABLES
    assert parser._load_tables() is parse_tables.TABLES


def test_shipped_tables_are_plain_literals():
    """Nothing in parse_tables.py but literals (Lark's names are str
    subclasses, which would be written as calls)."""
    module = ast.parse(Path(parser.TABLES).read_text(encoding="utf-8"))
    assigned = {}
    for node in module.body:
        if isinstance(node, ast.Assign):
            (target,) = node.targets
            assigned[target.id] = ast.literal_eval(node.value)
    from autograd_cli import parse_tables

    assert assigned == {"GRAMMAR": parse_tables.GRAMMAR, "TABLES": parse_tables.TABLES}


@settings(max_examples=50, deadline=None)
@given(st.randoms(use_true_random=False))
def test_canonical_numbering_ignores_how_the_states_were_numbered(rng):
    """Lark's state numbers vary with the hash seed; `canonical` gives the
    same tables for any numbering of the same automaton."""
    from autograd_cli import parse_tables

    tables = parse_tables.TABLES
    n = len(tables["actions"])
    new = list(range(n))
    rng.shuffle(new)
    shuffled = dict(tables)
    shuffled["actions"] = {
        str(new[int(state)]): {
            kind: (new[act] if type(act) is int else act) for kind, act in row.items()
        }
        for state, row in tables["actions"].items()
    }
    shuffled["start"], shuffled["end"] = new[tables["start"]], new[tables["end"]]
    assert lalr.canonical(shuffled) == tables


def test_tables_are_the_same_under_any_hash_seed_and_lark_cache(tmp_path):
    """`python -m autograd_cli.parser` writes the same bytes under several
    hash seeds, each with an empty temporary directory, and where Lark's
    cache already holds an analysis made under another seed; its tables are
    the shipped ones."""
    from autograd_cli import parse_tables

    def env(seed, tmp):
        tmp.mkdir(exist_ok=True)
        return {**os.environ, "PYTHONHASHSEED": str(seed), "TMPDIR": str(tmp)}

    warm = tmp_path / "warm"
    subprocess.run(
        [sys.executable, "-c", "from autograd_cli import parser; parser._lark()"],
        env=env(10, warm),
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    assert any("lark" in p.name for p in warm.iterdir()), "Lark left no cache"
    runs = [(seed, tmp_path / f"empty{seed}") for seed in range(4)] + [(3, warm)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "autograd_cli.parser", str(tmp_path / f"out{k}.py")],
            env=env(seed, tmp),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        for k, (seed, tmp) in enumerate(runs)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * len(runs)
    made = [(tmp_path / f"out{k}.py").read_bytes() for k in range(len(runs))]
    assert all(m == made[0] for m in made), "the module depends on the hash seed or the cache"
    namespace = {}
    exec(made[0].decode("utf-8"), namespace)
    assert namespace["TABLES"] == parse_tables.TABLES
    assert namespace["GRAMMAR"] == parse_tables.GRAMMAR


def test_tables_made_afresh_when_the_grammar_changed(tmp_path, monkeypatch):
    """An edited grammar.lark without regenerated tables is not parsed with
    the old tables: they are made from the grammar again."""
    from autograd_cli import parse_tables

    grammar = tmp_path / "grammar.lark"
    monkeypatch.setattr(parser, "GRAMMAR", str(grammar))

    # Only a comment added: new tables, equal to the shipped ones.
    grammar.write_text(parse_tables.GRAMMAR + "\n// edited\n", encoding="utf-8")
    tables = parser._load_tables()
    assert tables is not parse_tables.TABLES
    assert tables == parse_tables.TABLES

    # A new operator: the tables parse it.
    edited = parse_tables.GRAMMAR.replace(
        '| product "@" unary              -> matmul',
        '| product "@" unary              -> matmul\n        | product "%" unary -> mul',
    )
    assert edited != parse_tables.GRAMMAR
    grammar.write_text(edited, encoding="utf-8")
    tables = parser._load_tables()
    assert tables != parse_tables.TABLES
    (stmt,) = fast_parse(tables, "y = a % b\n")
    assert (stmt.root.kind, stmt.root.data) == ("op", "mul")
    assert [a.data for a in stmt.root.args] == ["a", "b"]
    with pytest.raises(lalr.Rejected):  # the shipped tables do not know '%'
        fast_parse(parse_tables.TABLES, "y = a % b\n")


def fast_parse(tables, text):
    """The fast parser run with `tables` (not the ones `parser.parse` uses)."""
    b = parser._builder
    b.source, b.pending, b.statements = Source("t.expr", text), [], []
    try:
        return lalr.Parser(tables, b).parse(b.source)
    finally:
        b.pending, b.statements = [], []


# The fast parser records what the automaton does with a line's tokens and
# replays it for every later line of the same shape (in this file or
# another): lines alike but for names and numbers must still parse as Lark
# parses them.


def test_lines_of_one_shape_replayed():
    lines = [f"x{i} = tanh(x{i - 1} * p{i % 3} + {i}.5)" for i in range(1, 40)]
    same_as_lark("x0 = 1\n" + "\n".join(lines) + "\n")
    same_as_lark("x0 = 1;" + ";".join(lines))
    same_as_lark("param p = [1,\n 2]\n" + "\n\n".join(lines[:5]) + "  # end")
    long = "y = " + " + ".join(f"x{i} * {i}" for i in range(100))  # not recorded
    same_as_lark("\n".join([long, lines[0], long.replace("y", "z"), lines[1]]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=20), st.sampled_from(["\n", ";", "\n\n"]))
def test_token_soup_repeated(tokens, sep):
    line = " ".join(tokens)
    same_as_lark(sep.join([line, line.replace("a", "b"), line.replace("1", "7")]))


# Syntax errors are found and worded by the fast parser alone, from its
# tables; Lark's own parser, with its exception put in words by
# `_syntax_error`, is the reference for every word and position.


def lark_error(text):
    source = Source("t.expr", text)
    try:
        lark_parse(text)
    except UnexpectedInput as e:
        return parser._syntax_error(e, source)
    except ExprError as e:  # from a callback (a keyword before a positional)
        return e
    return None


def error_key(error):
    if error is None:
        return None
    return (
        error.message,
        error.span.start,
        error.span.end,
        [(span.start, span.end, note) for span, note in error.notes],
    )


def same_error_as_lark(text):
    want = error_key(lark_error(text))
    try:
        parser.parse(Source("t.expr", text))
        got = None
    except ExprError as e:
        got = error_key(e)
    assert got == want, text
    return want


ODD_TOKENS = TOKENS + ["$", "%", "\r", "\x0c", "?"]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from(ODD_TOKENS), max_size=30),
    st.integers(0, 2),
    st.sampled_from([0, 0, 0, 130, 300]),
)
def test_syntax_errors_worded_as_lark_words_them(tokens, lines_before, long_terms):
    # Lines before it (replayed shapes), and a long line before it (one
    # that goes through the automaton in pieces).
    prefix = "x = 1\n" * lines_before
    if long_terms:
        prefix += "y = " + " + ".join(["x"] * long_terms)
    same_error_as_lark(prefix + " ".join(tokens))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a",
        "a =",
        "a = (1 +",
        "a = [1, (2,\n 3]",
        "a = f(b=1, 2)",
        "a = 1 $ 2",
        "a = (1 $",
        "param = 3",
        "a = 1 +\n",
        "a = )",
        "a = 1\n\n]",
        "# only a comment",
        "a = [1, 2\n# (\nb = 3",
        "a = x[1:2:3:4]",
        'a = load("d.csv", column="x")',
        'a = load("d.csv" + 1)',
        'a = "d.csv"',
        'a = [load("x"), "y"]',
        'a = load("(", ]',
        'a = load("x\\q")',
        'a = load("x',
        "a = 1;;b = 2 3",
        "y = " + "(" * 3000 + "x",  # deep and never closed
        "y = " + " + ".join(["x"] * 3000) + " + * 2",  # far into a long line
        "y = " + " + ".join(["x"] * 3000) + " $",
        "y = " + "(" * 300 + " + ".join(["x"] * 700) + ")" * 299 + "\nz = 1",
    ],
)
def test_syntax_errors_worded_as_lark_words_them_by_hand(text):
    want = same_error_as_lark(text)
    assert (want is None) == (text in ("", "# only a comment", 'a = load("d.csv", column="x")'))


def test_a_syntax_error_is_described_without_lark(monkeypatch):
    def no_lark():
        raise AssertionError("Lark's parser was asked")

    monkeypatch.setattr(parser, "_lark", no_lark)
    with pytest.raises(ExprError, match=r"unexpected '\*'; expected an expression"):
        parser.parse(Source("t.expr", "x = 1\n" * 100 + "y = x + * 2\n"))
    with pytest.raises(ExprError, match=r"'\(' is never closed"):
        parser.parse(Source("t.expr", "y = " + "(" * 5000 + "x\n"))
