"""Long tables (autograd_cli/tables.py): `LongTable` draws what Rich's own
`Table` draws from the same cells, byte for byte, on every kind of console
the tool writes to; and eval's, check's and hessian's tables switch to it
when they are long."""

import io
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table
from rich.text import Text

from autograd_cli import tables
from autograd_cli.render import fmt_number
from autograd_cli.tables import LONG_TABLE_ROWS, LongTable, new_table

from clitools import invoke, write

STYLES = ["", "bold", "green", "bold magenta", "cyan", "yellow", "bold red"]


class _Encoded(io.StringIO):
    """A text stream that says it has an encoding: Rich draws ASCII boxes
    for one that is not UTF-8."""

    def __init__(self, encoding):
        super().__init__()
        self._encoding = encoding

    @property
    def encoding(self):
        return self._encoding


# The consoles the tool writes tables on: piped (200 columns), COLUMNS set
# to narrow and wide, an ASCII or Latin-1 stream, and terminals with colours.
CONSOLES = {
    "piped": dict(width=200),
    "narrow": dict(width=40),
    "tiny": dict(width=12),
    "wide": dict(width=120),
    "ascii": dict(width=80, encoding="ascii"),
    "latin-1": dict(width=60, encoding="latin-1"),
    "terminal": dict(width=100, force_terminal=True, color_system="truecolor"),
    "terminal-16": dict(width=50, force_terminal=True, color_system="standard"),
}


def console(kind):
    """A console of the kind named, writing into a string."""
    options = dict(CONSOLES[kind])
    stream = _Encoded(options.pop("encoding", "utf-8"))
    return Console(file=stream, highlight=False, markup=False, emoji=False, **options), stream


def drawn(table, kind) -> str:
    con, stream = console(kind)
    con.print(table)
    return stream.getvalue()


def as_rich(cell):
    return Text(cell[0], style=cell[1]) if isinstance(cell, tuple) else cell


COLUMNS = [
    ("name", dict(no_wrap=True)),
    ("kind", dict(no_wrap=True)),
    ("expr", dict(overflow="fold")),
    ("shape", dict(no_wrap=True)),
    ("value", dict(justify="right")),
    ("\u2202L/\u2202\u00b7", dict(justify="right")),
]


def both(rows, title=None):
    """The same table as Rich's `Table` and as a `LongTable`."""
    made = []
    for cls in (Table, LongTable):
        kwargs = dict(header_style="bold")
        if title is not None:
            kwargs.update(title=Text(title, style="bold"), title_justify="left")
        table = cls(**kwargs)
        for header, options in COLUMNS:
            table.add_column(header, **options)
        for row in rows:
            table.add_row(*(map(as_rich, row) if cls is Table else row))
        made.append(table)
    return made


def varied_rows(n, seed=0):
    """Rows with every kind of cell a report has and some it might: short
    and long, several lines, wide characters, empty, spaces at the ends,
    control characters, styled and not."""
    rng = random.Random(seed)
    words = [
        "x",
        "sum(w * x)",
        "tanh(p * 3) + n2",
        "\u03b1\u03b2",
        "\u6570\u5b66",
        "a_very_long_name_that_will_not_fit_in_a_narrow_column",
        "-inf",
        "nan",
        "1.5e+300",
        "[[1, 2],\n [3, 4]]",
        "flattened:\n[1, 2, 3, ..., 7, 8, 9]",
        "",
        " lead",
        "trail ",
        "tab\there",
        "bell\x07",
        "\u2202L/\u2202x",
        "()",
        "(3, 4)",
        "caf\u00e9",
        "x\u0301",
        "a  b   c",
    ]
    rows = []
    for _ in range(n):
        row = []
        for c in range(len(COLUMNS)):
            if rng.random() < 0.6:
                text = rng.choice(words)
            else:
                text = f"n{rng.randrange(10 ** rng.randrange(1, 9))}"
            row.append(text if c == 3 else (text, rng.choice(STYLES)))
        rows.append(row)
    return rows


@pytest.mark.parametrize("kind", sorted(CONSOLES))
def test_a_long_table_is_drawn_as_rich_draws_it(kind):
    rows = varied_rows(500)
    rich_table, long_table = both(rows, title="file.expr  target L = 1.5  (float64)")
    want = drawn(rich_table, kind)
    assert want.count("\n") > 500  # the rows are all there
    assert drawn(long_table, kind) == want


def test_plain_rows_take_the_quick_path_and_still_match():
    """Rows of short one-line cells, as a long file's are: the cells Rich
    would only pad are drawn without Rich, and the table is the same."""
    rows = [
        [
            (f"n{i}", "bold"),
            ("node", ""),
            (f"tanh(p * {i % 7 + 1}) + n{i - 1}", ""),
            "()",
            (f"{i * 0.87:.6g}", ""),
            ("1", "green"),
        ]
        for i in range(300)
    ]
    for kind in ("piped", "terminal", "ascii", "narrow"):
        rich_table, long_table = both(rows, title="long.expr")
        assert drawn(long_table, kind) == drawn(rich_table, kind), kind


cell_text = st.text(
    alphabet=st.sampled_from(list("ab x-1.[],()\n\t") + ["\u2202", "\u6570", "\x07", "\u00e9"]),
    max_size=30,
)
cell = st.one_of(cell_text, st.tuples(cell_text, st.sampled_from(STYLES)))


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.lists(cell, min_size=6, max_size=6), min_size=1, max_size=8),
    kind=st.sampled_from(sorted(CONSOLES)),
)
def test_any_cells_are_drawn_as_rich_draws_them(rows, kind):
    rich_table, long_table = both(rows)
    assert drawn(long_table, kind) == drawn(rich_table, kind)


def test_only_long_tables_are_long():
    assert type(new_table(LONG_TABLE_ROWS)) is not LongTable
    assert isinstance(new_table(LONG_TABLE_ROWS), Table)
    assert type(new_table(LONG_TABLE_ROWS + 1)) is LongTable


def test_a_rich_without_what_long_tables_use_draws_them_itself(monkeypatch):
    # Rich before 13.8 (which the version range admits) has no Column.highlight.
    monkeypatch.setattr(tables, "_RICH_HAS_WHAT_LONG_TABLE_USES", False)
    table = new_table(LONG_TABLE_ROWS + 1)
    assert type(table) is not LongTable and isinstance(table, Table)


def _long_file(tmp_path, n):
    lines = ["param p = 0.5", "param w = randn(30, seed=1)", "m = [[1, 2], [3, 4]]"]
    lines += [
        f"n{i} = tanh(p * {i % 7 + 1}) + sum(w) * {i} + n{i - 1}" if i else "n0 = p + sum(m)"
        for i in range(n)
    ]
    return write(tmp_path, "\n".join(lines) + "\n")


@pytest.mark.parametrize(
    "args",
    [["eval"], ["check"], ["hessian", "--wrt", "p"]],
)
def test_long_reports_are_the_tables_rich_draws(tmp_path, monkeypatch, args):
    """A report long enough for a LongTable prints what it printed when
    Rich's table drew it (the threshold raised past its length)."""
    path = _long_file(tmp_path, LONG_TABLE_ROWS + 50)
    if args[0] == "check":  # a row per leaf: make many leaves
        lines = [f"param p{i} = {i / 7:.4f}" for i in range(LONG_TABLE_ROWS + 20)]
        lines.append("L = " + " + ".join(f"tanh(p{i}) * p{i}" for i in range(LONG_TABLE_ROWS + 20)))
        path = write(tmp_path, "\n".join(lines) + "\n", name="many.expr")
    if args[0] == "hessian":
        lines = [f"param h{i} = {i / 5:.3f}" for i in range(11)]
        lines.append("L = " + " + ".join(f"sin(h{i} * h{(i + 1) % 11})" for i in range(11)))
        path = write(tmp_path, "\n".join(lines) + "\n", name="h.expr")
        args = ["hessian"]  # 121 blocks
    for columns in ("200", "60"):
        monkeypatch.setenv("COLUMNS", columns)
        fast = invoke([*args, str(path)])
        monkeypatch.setattr(tables, "LONG_TABLE_ROWS", 10**9)
        slow = invoke([*args, str(path)])
        monkeypatch.undo()
        assert fast.exit_code == slow.exit_code == 0, fast.stderr
        assert fast.stdout.count("\n") > LONG_TABLE_ROWS
        assert fast.stdout == slow.stdout


@settings(max_examples=400, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_a_number_in_a_table_is_the_number_to_six_digits(x):
    text = fmt_number(x)
    assert not text.endswith(".") and ".e" not in text, text
    assert float(text) == pytest.approx(x, rel=1e-5, abs=0)


@pytest.mark.parametrize("x", [2000000000001.0, -1000001.0, 3.00000001e-9, 9.9999999e-5])
def test_a_number_rounded_to_one_digit_keeps_no_point(x):
    test_a_number_in_a_table_is_the_number_to_six_digits.hypothesis.inner_test(x)
