"""Data from files: string literals, `load("file", column=...)` in every
format, the path rules and --allow-read, the size limit, errors located in
the data file, --set NAME=@PATH, and the commands (test among them) on files
that load data.

numpy reads every file the tests write (np.loadtxt, np.load, json) as the
oracle for the values; gradients through loaded data are checked against
central differences.  FIFOs, devices and links are made in a temporary
folder; whatever could hang runs in a subprocess with a timeout."""

import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_cli import sources
from autograd_cli.compiling import load as compile_file
from autograd_cli.errors import ExprError, Source
from autograd_cli.parser import parse
from autograd_cli.sources import Access

from clitools import invoke, strict_json
from common import ROOT
from goldens import CLEAN_ENV, eval_doc, file_line, run_test, summary, write_json

SECRET = "DB_PASSWORD=hunter2-do-not-print"


@pytest.fixture
def here(tmp_path, monkeypatch):
    """tmp_path/d, the working directory; tmp_path itself is outside it."""
    d = tmp_path / "d"
    d.mkdir()
    monkeypatch.chdir(d)
    return d


def cli(*args, cwd, timeout=120):
    """`autograd-cli ARGS` in a process of its own (what could hang, hangs
    there, not here)."""
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    return subprocess.run(
        [sys.executable, "-m", "autograd_cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def value_of(text, name="x", **kw):
    """The value `name` is bound to in the program `text` (loads relative to
    the current directory, unless `access` is given)."""
    model = compile_file(Source("t.expr", text), **kw)
    b = model.by_name[name]
    return np.asarray(model.graph.values[model.graph.args[b.node][0]]), b.kind


def error_of(text, **kw) -> ExprError:
    with pytest.raises(ExprError) as info:
        compile_file(Source("t.expr", text), **kw)
    return info.value


def where(span):
    return (span.source.name, span.line, span.column)


def no_traceback(result):
    for text in (result.stdout, result.stderr):
        assert "Traceback" not in text


def failed(result, head):
    """`result` failed on bad input: exit 1, nothing on stdout, and stderr
    starting with `head`."""
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith(head), result.stderr
    no_traceback(result)


# ------------------------------------------------------------ string literals


@pytest.mark.parametrize(
    "text, column",
    [
        ('x = "m.csv"', 5),
        ('x = exp("m.csv")', 9),
        ('x = [load("m.csv"), "y"]', 21),
        ('x = sum(load("m.csv"), axis="0")', 29),
        ('x = load("m.csv") + "1"', 21),
        ('param p = "1"', 11),
    ],
)
def test_a_string_is_valid_only_as_an_argument_of_load(here, text, column):
    (here / "m.csv").write_text("1\n2\n")
    err = error_of(text)
    assert "a string is valid only as an argument of load" in err.message
    assert (err.span.line, err.span.column) == (1, column)


def test_strings_decode_json_escapes(here):
    (here / "m é.csv").write_text("1\n2\n")
    value, _ = value_of('x = load("m\\u0020\\u00e9.csv")')
    assert value.tolist() == [1.0, 2.0]
    value, _ = value_of('x = load("m é.csv")')
    assert value.tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    "text, column, fragment",
    [
        ('x = load("a\\q.csv")', 12, "invalid escape"),
        ('x = load("a\\u12.csv")', 12, "invalid escape"),
        ('x = load("a\tb.csv")', 12, "control character"),
        ('x = load("a.csv)', 10, "never closed"),
        ('x = load("a.csv\n")', 10, "never closed"),
        ("x = load('a.csv')", 10, "double quotes"),
    ],
)
def test_a_bad_string_is_a_located_error(text, column, fragment):
    err = error_of(text)
    assert fragment in err.message
    assert (err.span.line, err.span.column) == (1, column)


def test_comments_and_brackets_inside_a_string_are_text(here):
    (here / "a#(b].csv").write_text("x\n3\n")
    statements = parse(Source("t", 'x = load("a#(b].csv",  # a comment\n column="x")\n'))
    assert statements[0].rhs_text == 'load("a#(b].csv", column="x")'
    value, kind = value_of('x = load("a#(b].csv", column="x")  # (')
    assert value.tolist() == [3.0] and kind == "input"


# -------------------------------------------------------------------- formats


def test_csv_with_a_header_by_name_by_index_and_whole(here):
    rows = [[10.07, 77.6], [14.73, 114.9], [17.94, 141.1]]
    (here / "m.csv").write_text("y, x\n" + "\n".join(f"{a},{b}" for a, b in rows) + "\n")
    want = np.loadtxt(here / "m.csv", delimiter=",", skiprows=1)
    assert np.array_equal(value_of('x = load("m.csv", column="x")')[0], want[:, 1])
    assert np.array_equal(value_of('x = load("m.csv", column=0)')[0], want[:, 0])
    assert np.array_equal(value_of('x = load("m.csv", column=-1)')[0], want[:, 1])
    assert np.array_equal(value_of('x = load(column="y", file="m.csv")')[0], want[:, 0])
    whole, kind = value_of('x = load("m.csv")')
    assert whole.shape == (3, 2) and np.array_equal(whole, want) and kind == "input"


def test_a_csv_of_one_column_is_a_vector_and_quoted_names_are_names(here):
    (here / "v.csv").write_text('"speed"\n1.5\n-2e3\nnan\ninf\n')
    value = value_of('x = load("v.csv")')[0]
    assert value.shape == (4,)
    assert np.array_equal(value, [1.5, -2000.0, np.nan, np.inf], equal_nan=True)
    assert np.array_equal(value_of('x = load("v.csv", column="speed")')[0], value, equal_nan=True)


def test_comments_blank_lines_crlf_and_a_bom(here):
    (here / "c.csv").write_bytes(b"\xef\xbb\xbf# made by hand\r\na,b\r\n\r\n1,2 # first\r\n3,4\r\n")
    assert value_of('x = load("c.csv")')[0].tolist() == [[1, 2], [3, 4]]
    assert value_of('x = load("c.csv", column="b")')[0].tolist() == [2, 4]


@pytest.mark.parametrize("ext", [".txt", ".dat", ".tsv"])
def test_whitespace_separated_files_as_numpy_loadtxt_reads_them(here, ext):
    text = "# x y z\n1 2\t3\n\n4.5   -5e-1 6 # six\n\t7 8 9\n"
    (here / f"t{ext}").write_text(text)
    want = np.loadtxt(here / f"t{ext}", ndmin=2)
    assert np.array_equal(value_of(f'x = load("t{ext}")')[0], want)
    assert np.array_equal(value_of(f'x = load("t{ext}", column=1)')[0], want[:, 1])


@pytest.mark.parametrize(
    "array",
    [
        np.arange(6.0).reshape(2, 3),
        np.arange(6, dtype=np.int32),
        np.array([True, False]),
        np.float32(2.5) * np.ones((2, 2, 2), dtype=np.float32),
        np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        np.array(7.0),
        np.zeros((0, 3)),
    ],
)
def test_npy_as_numpy_saved_it(here, array):
    np.save(here / "a.npy", array)
    value = value_of('x = load("a.npy")')[0]
    assert value.shape == array.shape and np.array_equal(value, array.astype(np.float64))


def test_npy_column_by_index(here):
    np.save(here / "a.npy", np.arange(6.0).reshape(3, 2))
    assert value_of('x = load("a.npy", column=1)')[0].tolist() == [1, 3, 5]
    err = error_of('x = load("a.npy", column="x")')
    assert "no names for its columns" in err.message
    np.save(here / "v.npy", np.arange(3.0))
    err = error_of('x = load("v.npy", column=0)')
    assert "picks a column of a table" in err.message and "(3,)" in err.message


@pytest.mark.parametrize(
    "array, fragment",
    [
        (np.array([{"a": 1}, None], dtype=object), "never reads pickles"),
        (np.array([1 + 2j]), "not real numbers"),
        (np.zeros(2, dtype=[("a", "f8"), ("b", "i4")]), "records"),
        (np.array(["a", "b"]), "not real numbers"),
    ],
)
def test_npy_of_anything_but_real_numbers_is_refused(here, array, fragment):
    np.save(here / "a.npy", array, allow_pickle=True)
    err = error_of('x = load("a.npy")')
    assert fragment in err.message
    assert err.message.startswith("a.npy: ")
    assert (err.span.line, err.span.column) == (1, 10)


def npy_header(shape, dtype="<f8") -> bytes:
    """A version 1.0 .npy header for `shape`, with no data after it."""
    header = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header


def test_npy_size_checked_from_the_header_before_the_data(here):
    # The header claims 10^12 elements in a file of a hundred bytes: the
    # limit, not the missing data, is what stops it.
    (here / "h.npy").write_bytes(npy_header((1000000, 1000000)))
    err = error_of('x = load("h.npy")')
    assert "1,000,000,000,000 numbers" in err.message and "--max-elements" in err.message
    (here / "s.npy").write_bytes(npy_header((10, 10)) + b"\0" * 16)
    assert "over the limit of 50" in error_of('x = load("s.npy")', max_elements=50).message
    err = error_of('x = load("s.npy")')
    assert "cut short" in err.message and "800 bytes" in err.message


@pytest.mark.parametrize(
    "shape, fragment",
    [
        ((0, 2**62, 2**62), "multiplies to 21,267,647,932,558,653,966,460,912,964,485,513,216 "),
        ((0, 20000, 20000), "multiplies to 400,000,000 without its zeros, over the limit"),
        ((-1,), "not a .npy file numpy can read (its header's shape (-1,) has a negative"),
        ((3, -4), "not a .npy file numpy can read (its header's shape (3, -4) has a negative"),
    ],
)
def test_npy_header_shapes_numpy_cannot_make_are_refused(here, shape, fragment):
    # An empty shape passes an element count of 0; numpy then refuses the
    # array (or a read of negative length) with its own words.
    (here / "h.npy").write_bytes(npy_header(shape))
    err = error_of('x = load("h.npy")')
    assert err.message.startswith("h.npy: ") and fragment in err.message, err.message
    assert where(err.span)[1:] == (1, 10)


@pytest.mark.parametrize("data", [b"", b"\x93NUMPY", b"not numpy at all", b"\x93NUMPY\x09\x00ab"])
def test_a_broken_npy_file_is_an_error(here, data):
    (here / "b.npy").write_bytes(data)
    err = error_of('x = load("b.npy")')
    assert err.message.startswith("b.npy: not a .npy file numpy can read")


def test_json_numbers_and_nested_lists(here):
    (here / "v.json").write_text('[[1, 2.5], [-3e2, "nan"]]')
    value = value_of('x = load("v.json")')[0]
    assert np.array_equal(value, [[1, 2.5], [-300, np.nan]], equal_nan=True)
    (here / "s.json").write_text(" 4 \n")
    assert value_of('x = load("s.json")')[0].shape == ()
    assert value_of('x = load("v.json", column=0)')[0].tolist() == [1, -300]


@pytest.mark.parametrize(
    "text, line, column, fragment",
    [
        ('{"x": 1}', 1, 1, "a JSON object"),
        ("[1, 2,\n 3,]", 2, 4, "invalid JSON"),
        ("[[1, 2], [3]]", 1, 1, "ragged list"),
        ('[1, "a"]', 1, 1, "element [1]"),
        ("", 1, 1, "empty"),
    ],
)
def test_bad_json_data_is_located_in_the_file(here, text, line, column, fragment):
    (here / "v.json").write_text(text)
    err = error_of('y = 1\nx = load("v.json")')
    assert fragment in err.message
    assert where(err.span) == ("v.json", line, column)
    assert [(where(s), n) for s, n in err.notes] == [(("t.expr", 2, 5), "v.json is loaded here")]


def test_float32_reads_the_file_into_float32(here):
    (here / "a.csv").write_text("0.1\n0.2\n")
    model = compile_file(Source("t.expr", 'x = load("a.csv")\ny = sum(x)'), dtype="float32")
    assert model.graph.values[model.by_name["x"].node - 1].dtype == np.float32


# -------------------------------------------------- errors in the data file


@pytest.mark.parametrize(
    "text, line, column, fragment",
    [
        ("a,b\n1,2\n3,n/a\n", 3, 3, "not a number: 'n/a'"),
        ("1,2\n3,4,5\n", 2, 5, "line 2 has 3 cells, but the first row has 2"),
        ("a,b\n1,2\n3\n", 3, 2, "line 3 has 1 cell, but the header has 2"),
        ("1,2\n3,\n", 2, 3, "an empty cell"),
        ("1,2\n3,1_000\n", 2, 3, "not a number: '1_000'"),
        ("1,2\n3,١٢\n", 2, 3, "not a number"),
        ("1,x\n", 1, 3, "not a number: 'x'"),
        ("", 1, 1, "the file is empty"),
        ("# nothing\n\n", 1, 1, "only comments"),
        ("a,b\n# no rows\n", 1, 1, "a header row but no rows"),
    ],
)
def test_a_bad_csv_is_located_in_the_file_and_at_the_call(here, text, line, column, fragment):
    (here / "data.csv").write_text(text, encoding="utf-8")
    err = error_of('\n\nx = load("data.csv")')
    assert fragment in err.message, err.message
    assert where(err.span) == ("data.csv", line, column)
    assert [(where(s), n) for s, n in err.notes] == [(("t.expr", 3, 5), "data.csv is loaded here")]


def test_the_spec_example_as_the_command_line_shows_it(here):
    rows = ["y,x"] + [f"{i},{i * 2}" for i in range(5)] + ["6,n/a"]
    (here / "misra1a.csv").write_text("\n".join(rows) + "\n")
    (here / "m.expr").write_text('x = load("misra1a.csv", column="x")\ny = sum(x)\n')
    result = invoke(["eval", "m.expr"])
    failed(result, "misra1a.csv:7:3: error: not a number: 'n/a'\n    7 | 6,n/a\n")
    assert "m.expr:1:5: note: misra1a.csv is loaded here" in result.stderr


def test_a_data_file_in_a_folder_is_shown_under_the_folder(here):
    (here / "sub").mkdir()
    (here / "sub" / "d.csv").write_text("1\nx\n")
    (here / "sub" / "m.expr").write_text('x = load("d.csv")\n')
    result = invoke(["eval", "sub/m.expr"])
    failed(result, f"{os.path.join('sub', 'd.csv')}:2:1: error: not a number: 'x'")


@pytest.mark.parametrize(
    "column, fragment, col",
    [
        ('"z"', "no column named 'z'; its columns are 'speed', 'time'", 26),
        ('"sped"', "(did you mean 'speed'?)", 26),
        ("2", "column 2 is out of range: d.csv has 2 columns (0 to 1)", 26),
        ("-3", "column -3 is out of range", 26),
        ("1.5", "must be an integer", 26),
        ("x", "must be a constant number", 26),
    ],
)
def test_a_missing_column_is_an_error_at_the_column(here, column, fragment, col):
    (here / "d.csv").write_text("speed,time\n1,2\n")
    err = error_of(f'x = 1\ny = load("d.csv", column={column})')
    assert fragment in err.message, err.message
    assert (err.span.line, err.span.column) == (2, col)


def test_a_name_needs_a_header_and_a_unique_one(here):
    (here / "d.csv").write_text("1,2\n")
    assert "no header row" in error_of('x = load("d.csv", column="a")').message
    (here / "e.csv").write_text("a,a\n1,2\n")
    assert "2 columns named 'a'" in error_of('x = load("e.csv", column="a")').message


@pytest.mark.parametrize(
    "call, fragment",
    [
        ("load()", "missing the argument 'file'"),
        ('load("d.csv", 0, 1)', "at most 2 arguments"),
        ('load("d.csv", colum=0)', "no argument 'colum' (did you mean 'column'?)"),
        ('load("d.csv", file="d.csv")', "got the argument 'file' twice"),
        ("load(1)", "the name of the file as a string"),
        ('load("")', "not an empty string"),
        ('load("d.xlsx")', "extension ('.xlsx'); load reads .csv, .tsv, .txt, .dat, .npy, .json"),
        ('load("d")', "extension (none)"),
        ('load("missing.csv")', "missing.csv: no such file"),
        ('load("sub.csv")', "it is a directory, not a regular file"),
        ('load("a\\u0000.csv")', "NUL character"),
    ],
)
def test_a_bad_call_is_an_error_at_the_call(here, call, fragment):
    (here / "d.csv").write_text("1\n")
    (here / "sub.csv").mkdir()
    err = error_of(f"x = {call}")
    assert fragment in err.message, err.message
    assert err.span.line == 1 and err.span.column >= 5


def test_binary_and_non_utf8_files_get_a_clear_error(here):
    (here / "b.csv").write_bytes(b"1,2\n3,\x00\x01\x02\n")
    err = error_of('x = load("b.csv")')
    assert "binary file" in err.message and where(err.span) == ("b.csv", 2, 3)
    (here / "l.csv").write_bytes(b"1,2\n3,\xe9\n")
    err = error_of('x = load("l.csv")')
    assert "not valid UTF-8 (byte 0xe9)" in err.message and where(err.span) == ("l.csv", 2, 3)
    np.save(here / "real.npy", np.arange(3.0))
    os.rename(here / "real.npy", here / "real.csv")
    assert "not valid UTF-8" in error_of('x = load("real.csv")').message


def test_a_file_over_the_read_limit_is_refused_unread(here, monkeypatch):
    (here / "big.csv").write_text("1\n" * 100)
    monkeypatch.setattr(sources, "READ_LIMIT", 50)
    err = error_of('x = load("big.csv")')
    assert "200 bytes, over the 50 bytes read at most" in err.message


def test_a_huge_sparse_file_is_refused_from_its_size(here):
    with open(here / "huge.csv", "wb") as f:
        f.truncate(sources.READ_LIMIT + 1)  # sparse: no disk, no reading
    err = error_of('x = load("huge.csv")')
    assert f"{sources.READ_LIMIT + 1:,} bytes, over the" in err.message


def test_the_size_limit_counts_rows_before_reading_numbers(here):
    (here / "t.csv").write_text("1,2,3\n" * 10)
    err = error_of('x = load("t.csv")', max_elements=29)
    assert "holds 30 numbers (shape (10, 3)), over the limit of 29 (--max-elements)" in err.message
    assert value_of('x = load("t.csv")', max_elements=30)[0].shape == (10, 3)
    (here / "t.json").write_text(json.dumps([[1, 2, 3]] * 10))
    assert "over the limit of 29" in error_of('x = load("t.json")', max_elements=29).message
    result = invoke(["eval", "-e", 'x = load("t.csv"); y = sum(x)', "--max-elements", "20"])
    failed(result, "<expr>:1:10: error: t.csv: holds 30 numbers")


def test_a_fifo_is_refused_and_does_not_hang(here):
    try:
        os.mkfifo(here / "p.csv")
    except (OSError, AttributeError) as e:
        pytest.skip(f"cannot make a FIFO here: {e}")
    proc = cli("eval", "-e", 'x = load("p.csv")', cwd=here, timeout=60)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "p.csv: cannot read the file: it is a FIFO (named pipe), not a regular file" in (
        proc.stderr
    )


def test_a_device_is_refused_unopened(here):
    os.symlink("/dev/zero", here / "z.csv")
    # Outside the directory: refused by the path rule first.
    proc = cli("eval", "-e", 'x = load("z.csv")', cwd=here, timeout=60)
    assert proc.returncode == 1 and "leads outside" in proc.stderr
    proc = cli("eval", "-e", 'x = load("z.csv")', "--allow-read", "/dev", cwd=here, timeout=60)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "z.csv: cannot read the file: it is a device, not a regular file" in proc.stderr
    no_traceback(proc)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(
                st.floats(allow_nan=False, width=32).map(repr),
                st.sampled_from(["", " ", "n/a", "1e", "-", "nan", "1,5", "#", "2 3", "é"]),
            ),
            min_size=1,
            max_size=4,
        ),
        max_size=5,
    )
)
def test_random_csv_tables_load_as_numpy_reads_them_or_fail_located(tmp_path_factory, rows):
    d = tmp_path_factory.mktemp("r")
    text = "\n".join(",".join(r) for r in rows) + "\n"
    (d / "r.csv").write_text(text, encoding="utf-8")
    # numpy reads the rows below the header, if the first row is one (all
    # its cells names: not numbers, not empty).
    lines = [line.partition("#")[0] for line in text.split("\n")]
    lines = [line for line in lines if line.strip()]
    if lines:
        cells = [c.strip() for c in lines[0].split(",")]
        if all(c and c != "nan" for c in cells):
            try:
                [float(c) for c in cells if c.isascii()]
                header = all(not c.isascii() for c in cells)
            except ValueError:
                header = not any(_number(c) for c in cells)
            if header:
                lines = lines[1:]
                if any(len(line.split(",")) != len(cells) for line in lines):
                    lines = []  # ragged against the header
    (d / "rows.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    want = None
    if lines:
        try:
            want = np.loadtxt(d / "rows.csv", delimiter=",", ndmin=2, encoding="utf-8")
        except ValueError:
            pass
    try:
        got = compile_file(Source("t.expr", 'x = load("r.csv")'), access=Access(str(d)))
    except ExprError as err:
        assert err.span is not None
        assert err.span.source.name in ("r.csv", "t.expr"), err.message
        assert want is None, (text, err.message)
        return
    assert want is not None, text
    value = got.graph.values[got.graph.args[got.by_name["x"].node][0]]
    want = want[:, 0] if want.shape[1] == 1 else want
    assert np.array_equal(value, want, equal_nan=True)


def _number(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return cell.isascii()


# ----------------------------------------------------------- the path rules


def test_paths_are_relative_to_the_expr_file_not_the_working_directory(here):
    (here / "sub").mkdir()
    (here / "sub" / "d.csv").write_text("5\n6\n")
    (here / "d.csv").write_text("1\n2\n")
    (here / "sub" / "m.expr").write_text('x = load("d.csv")\ny = sum(x)\n')
    assert eval_doc("sub/m.expr")["value"] == 11.0
    assert eval_doc(str(here / "sub" / "m.expr"))["value"] == 11.0
    # stdin and -e: the working directory
    result = invoke(["eval", "-", "-f", "json"], input='x = load("d.csv")\ny = sum(x)\n')
    assert strict_json(result.stdout)["value"] == 3.0
    result = invoke(["eval", "-e", 'x = load("d.csv"); y = sum(x)', "-f", "json"])
    assert strict_json(result.stdout)["value"] == 3.0


@pytest.mark.parametrize(
    "name",
    ["../secret.csv", "{outside}/secret.csv", "link.csv", "sub/../../secret.csv", "linkdir/s.csv"],
)
def test_a_path_leading_outside_is_refused_unless_allowed(here, name):
    outside = here.parent
    (outside / "secret.csv").write_text(SECRET.replace("=", ",") + "\n1,2\n")
    (outside / "od").mkdir()
    (outside / "od" / "s.csv").write_text("1\n")
    (here / "sub").mkdir()
    os.symlink(outside / "secret.csv", here / "link.csv")
    os.symlink(outside / "od", here / "linkdir")
    name = name.format(outside=outside)
    (here / "m.expr").write_text(f'x = load("{name}")\n')
    result = invoke(["eval", "m.expr"])
    failed(result, f"m.expr:1:10: error: '{name}' leads outside")
    assert "--allow-read DIR" in result.stderr and "hunter2" not in result.stderr
    # Allowed: read (the secret is not numbers, so it says so, from the file).
    result = invoke(["eval", "m.expr", "--allow-read", str(outside)])
    assert "leads outside" not in result.stderr
    # A directory beside it allows nothing.
    (outside / "other").mkdir()
    result = invoke(["eval", "m.expr", "--allow-read", str(outside / "other")])
    assert "leads outside" in result.stderr


def test_paths_that_stay_inside_are_read(here):
    (here / "sub").mkdir()
    (here / "sub" / "d.csv").write_text("4\n")
    os.symlink("sub/d.csv", here / "inner.csv")
    for name in ("sub/d.csv", "sub/../sub/d.csv", "inner.csv", f"{here}/sub/d.csv"):
        assert value_of(f'x = load("{name}")')[0].tolist() == [4.0], name


def test_allow_read_on_every_command_on_files(here):
    outside = here.parent / "data"
    outside.mkdir()
    (outside / "d.csv").write_text("1\n2\n")
    text = f'x = load("{outside}/d.csv")\nparam w = 2\ny = sum(w * x)\n'
    (here / "m.expr").write_text(text)
    for command in (
        ["eval"],
        ["check"],
        ["hessian"],
        ["jacobian"],
        ["graph"],
        ["explain", "--wrt", "w"],
    ):
        result = invoke([*command, "m.expr"])
        failed(result, "m.expr:1:10: error:")
        result = invoke([*command, "m.expr", "--allow-read", str(outside)])
        assert result.exit_code == 0, (command, result.stderr)


def test_test_reads_data_beside_each_expr_and_refuses_what_leads_out(here):
    (here / "g").mkdir()
    (here / "g" / "d.csv").write_text("x\n1\n2\n")
    (here / "g" / "fit.expr").write_text(
        'x = load("d.csv", column="x")\nparam w = 3\ny = sum(w * x)\n'
    )
    result = run_test("g", "--update")
    assert result.exit_code == 0, result.stdout
    golden = json.loads((here / "g" / "fit.golden.json").read_text())
    assert golden["nodes"]["x"]["kind"] == "input" and golden["value"] == 9.0
    result = run_test("g")
    assert result.exit_code == 0 and summary(result) == (1, 0)
    # A changed data file fails the test.
    (here / "g" / "d.csv").write_text("x\n1\n5\n")
    result = run_test("g")
    assert summary(result) == (0, 1)
    # A folder from elsewhere that reads a file outside it fails, unread.
    (here / "secret.csv").write_text(SECRET + "\n")
    (here / "g" / "leak.expr").write_text('x = load("../secret.csv")\n')
    write_json(here / "g" / "leak.golden.json", {"nodes": {}})
    result = run_test("g", "-f", "json")
    assert result.exit_code == 1 and "hunter2" not in result.stdout
    result = run_test("g")
    assert file_line(result, "g/leak.expr")[0] == "FAIL"
    assert "leads outside" in result.stdout
    result = run_test("g", "--allow-read", str(here))
    assert "leads outside" not in result.stdout


# --------------------------------------------------- kinds, --set, commands


def test_a_load_binding_is_an_input_that_set_and_set_json_replace(here):
    (here / "d.csv").write_text("1\n2\n3\n")
    (here / "m.expr").write_text('x = load("d.csv")\nparam w = 2\ny = sum(w * x)\n')
    doc = eval_doc("m.expr")
    assert doc["nodes"]["x"]["kind"] == "input"
    assert doc["nodes"]["x"]["expr"] == 'load("d.csv")'
    assert eval_doc("m.expr", "--set", "x=[1, 1]")["value"] == 4.0
    (here / "v.json").write_text('{"x": [0, 0, 5]}')
    assert eval_doc("m.expr", "--set-json", "v.json")["value"] == 10.0
    # Replaced by --set, the file is not needed at all.
    os.remove(here / "d.csv")
    assert eval_doc("m.expr", "--set", "x=[4]")["value"] == 8.0


@pytest.mark.parametrize(
    "write, want",
    [
        (lambda p: p.with_suffix(".csv").write_text("a,b\n1,2\n3,4\n"), [[1, 2], [3, 4]]),
        (lambda p: np.save(p.with_suffix(".npy"), np.array([5.0, 6.0])), [5, 6]),
        (lambda p: p.with_suffix(".json").write_text("[7, 8]"), [7, 8]),
    ],
)
def test_set_at_path_reads_a_value_from_a_file(here, write, want):
    outside = here.parent / "elsewhere"
    outside.mkdir()
    write(outside / "v")
    (path,) = [p for p in outside.iterdir()]
    (here / "m.expr").write_text("param x = 0\ny = sum(x)\n")
    doc = eval_doc("m.expr", "--set", f"x=@{path}")  # no directory rule
    assert doc["nodes"]["x"]["value"] == want
    assert doc["value"] == float(np.sum(want))
    rel = os.path.relpath(path, here)
    assert eval_doc("m.expr", "--set", f"x=@{rel}")["nodes"]["x"]["value"] == want


def test_set_at_path_follows_links_and_refuses_what_they_reach(here):
    # The path is the user's own: a link to a data file reads that file; a
    # link to a device or to nothing is refused as the device or the missing
    # file itself is.
    (here / "m.expr").write_text("param x = 0\ny = sum(x)\n")
    (here / "v.csv").write_text("1\n2\n")
    os.symlink("v.csv", here / "link.csv")
    assert eval_doc("m.expr", "--set", "x=@link.csv")["nodes"]["x"]["value"] == [1, 2]
    os.symlink("nowhere.csv", here / "dangling.csv")
    result = invoke(["eval", "m.expr", "--set", "x=@dangling.csv"])
    failed(result, "--set:1:3: error: dangling.csv: no such file")
    os.symlink("/dev/zero", here / "zero.csv")
    result = invoke(["eval", "m.expr", "--set", "x=@zero.csv"])
    failed(result, "--set:1:3: error: zero.csv: cannot read the file: it is a device")


def test_set_at_path_errors_are_located(here):
    (here / "m.expr").write_text("x = 0\ny = sum(x)\n")
    (here / "bad.csv").write_text("1\nz\n")
    result = invoke(["eval", "m.expr", "--set", "x=@bad.csv"])
    failed(result, "bad.csv:2:1: error: not a number: 'z'")
    assert "--set:1:3: note: bad.csv is loaded here" in result.stderr
    result = invoke(["eval", "m.expr", "--set", "x=@nope.csv"])
    failed(result, "--set:1:3: error: nope.csv: no such file")
    result = invoke(["eval", "m.expr", "--set", "x=@"])
    failed(result, "--set:1:3: error: --set NAME=@PATH needs the name of a file")
    result = invoke(["eval", "m.expr", "--set", "q=@bad.csv"])
    assert result.exit_code == 1 and result.stdout == ""


def test_gradients_through_loaded_data_match_central_differences(here):
    rng = np.random.default_rng(1)
    x = rng.uniform(1, 5, 12)
    y = 2.0 * (1 - np.exp(-0.3 * x)) + rng.normal(0, 0.01, 12)
    (here / "d.csv").write_text(
        "x,y\n" + "\n".join(f"{float(a)!r},{float(b)!r}" for a, b in zip(x, y))
    )
    (here / "m.expr").write_text(
        'x = load("d.csv", column="x")\ny = load("d.csv", column="y")\n'
        "param b = [1.5, 0.5]\nr = y - b[0] * (1 - exp(-b[1] * x))\nL = sum(r ** 2)\n"
    )
    doc = eval_doc("m.expr")
    grad = np.array(doc["nodes"]["b"]["grad"])

    def loss(b):
        return float(np.sum((y - b[0] * (1 - np.exp(-b[1] * x))) ** 2))

    b, h = np.array([1.5, 0.5]), 1e-6
    numeric = [(loss(b + h * e) - loss(b - h * e)) / (2 * h) for e in np.eye(2)]
    assert np.allclose(grad, numeric, rtol=1e-6, atol=1e-8)
    result = invoke(["check", "m.expr"])
    assert result.exit_code == 0, result.stdout


def test_graph_explain_and_jacobian_show_the_load_binding(here):
    (here / "d.csv").write_text("1\n2\n")
    (here / "m.expr").write_text('x = load("d.csv")\nparam w = 3\ny = sum(w * x)\n')
    doc = strict_json(invoke(["graph", "m.expr", "-f", "json"]).stdout)
    labels = {n["label"] for n in doc["graph"]["nodes"]}
    assert "x" in labels
    result = invoke(["explain", "m.expr", "--wrt", "w"])
    assert result.exit_code == 0 and "x[0]" in result.stdout
    result = invoke(["explain", "m.expr", "--wrt", "x[1]"])
    assert result.exit_code == 0 and "= 3" in result.stdout
    doc = strict_json(invoke(["jacobian", "m.expr", "--wrt", "x", "-f", "json"]).stdout)
    assert doc["jacobian"]["x"] == [3.0, 3.0]


def test_repl_reads_relative_to_the_working_directory(here):
    (here / "d.csv").write_text("1\n2\n")
    result = invoke(["repl"], input='x = load("d.csv")\ny = sum(x)\n')
    assert result.exit_code == 0, result.stderr
    assert "3" in result.stdout


def test_eval_without_load_does_not_import_the_data_module(here):
    (here / "m.expr").write_text("x = 2\ny = x * 3\n")
    code = (
        "import sys, runpy; sys.argv = ['autograd-cli', 'eval', 'm.expr'];\n"
        "from autograd_cli import launch\n"
        "code = launch.run(sys.argv[1:])\n"
        "print('DATA' if 'autograd_cli.datafiles' in sys.modules else 'NONE')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=here, capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.strip().endswith("NONE"), proc.stdout + proc.stderr


def test_a_file_mode_without_read_permission_is_an_error(here):
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    (here / "d.csv").write_text("1\n")
    os.chmod(here / "d.csv", 0)
    err = error_of('x = load("d.csv")')
    assert "Permission denied" in err.message
    os.chmod(here / "d.csv", stat.S_IRUSR | stat.S_IWUSR)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([".csv", ".tsv", ".txt", ".dat", ".json", ".npy"]),
    st.one_of(
        st.binary(max_size=64),
        st.text(alphabet='0123456789.,-+eE#\n\t "[]{}nai\x00é_', max_size=64).map(str.encode),
        st.binary(max_size=48).map(lambda b: npy_header((2,)) + b),
        st.binary(max_size=48).map(lambda b: b"\x93NUMPY\x01\x00" + b),
    ),
    st.sampled_from([None, "0", "-1", '"a"', "3"]),
)
def test_any_bytes_in_any_format_load_or_fail_with_a_located_error(
    tmp_path_factory, ext, data, column
):
    d = tmp_path_factory.mktemp("b")
    (d / f"f{ext}").write_bytes(data)
    call = f'load("f{ext}")' if column is None else f'load("f{ext}", column={column})'
    try:
        model = compile_file(Source("t.expr", f"x = {call}"), access=Access(str(d)))
    except ExprError as err:
        assert err.span is not None and err.message
        return
    value = model.graph.values[model.graph.args[model.by_name["x"].node][0]]
    assert np.asarray(value).dtype == np.float64


def test_set_takes_a_file_as_at_path_not_as_load(here):
    (here / "d.csv").write_text("1\n")
    (here / "m.expr").write_text("x = 0\ny = sum(x)\n")
    result = invoke(["eval", "m.expr", "--set", 'x=load("d.csv")'])
    failed(result, "--set:1:3: error: --set reads a file as x=@PATH")
    assert eval_doc("m.expr", "--set", "x=@d.csv")["value"] == 1.0


def test_functions_lists_load(here):
    doc = strict_json(invoke(["functions", "load", "-f", "json"]).stdout)
    (entry,) = doc["functions"]
    assert entry["usage"] == 'load("file", column=None)'
    assert entry["derivative"] == {} and "--allow-read" in entry["notes"]


def test_numbers_in_double_quotes_as_spreadsheets_export_them(here):
    (here / "q.csv").write_text('"t","v"\n"1","2.5"\n3, "4"\n')
    assert value_of('x = load("q.csv")')[0].tolist() == [[1, 2.5], [3, 4]]
    assert value_of('x = load("q.csv", column="v")')[0].tolist() == [2.5, 4]
    (here / "b.csv").write_text('t\n"1"\n"x"\n')
    err = error_of('x = load("b.csv")')
    assert "not a number: '\"x\"'" in err.message and where(err.span) == ("b.csv", 3, 1)


def test_a_param_starts_from_a_file(here):
    np.save(here / "w0.npy", np.array([0.5, -1.0, 2.0]))
    (here / "m.expr").write_text('param w = load("w0.npy")\ny = sum(w * w)\n')
    doc = eval_doc("m.expr")
    assert doc["nodes"]["w"]["kind"] == "param"
    assert doc["nodes"]["w"]["grad"] == [1.0, -2.0, 4.0]  # 2w, exact in binary


def test_set_json_keeps_a_loaded_binding_s_shape(here):
    (here / "d.csv").write_text("1\n2\n3\n")
    (here / "m.expr").write_text('x = load("d.csv")\ny = sum(x)\n')
    (here / "v.json").write_text('{"x": [1, 2]}')
    result = invoke(["eval", "m.expr", "--set-json", "v.json"])
    failed(result, "v.json:1:7: error: 'x' has shape (3,)")
    assert eval_doc("m.expr", "--set-json", "v.json", "--any-shape")["value"] == 3.0


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB is Linux's")
def test_a_ragged_line_of_millions_of_cells_is_found_without_making_them(here):
    # Two million empty cells on one 2 MB line: each used to become a
    # string, twice (numpy's try, then the row's check), some 250 MB.
    (here / "wide.csv").write_text("x\n1" + "," * 2_000_000 + "\n")
    (here / "m.expr").write_text('x = load("wide.csv")\nL = sum(x)\n')
    code = (
        "import resource, sys\n"
        "from autograd_cli import launch, compiling, datafiles, render, running\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "code = launch.run(['eval', 'm.expr'])\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(code, after - before)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=here,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    code, grown_kib = map(int, done.stdout.split())
    assert code == 1
    assert "wide.csv:2:3: error: ragged rows: line 2 has 2,000,001 cells, but the" in done.stderr
    assert grown_kib < 50 * 1024, f"{grown_kib:,} KiB for a 2 MB file"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=" \t\f\v\r\x1c\x1f\xa0\u2003ab1,é", max_size=40), st.integers(1, 8))
def test_a_line_s_cells_are_counted_as_they_are_split(body, size):
    # Counted a part of the line at a time (parts of `size` here, so that
    # cells and blanks fall across the parts' ends): the count is still
    # that of the cells the row's check makes.
    from unittest import mock

    from autograd_cli import datafiles

    with mock.patch.object(datafiles, "_COUNTED", size):
        assert datafiles._cell_count(body, None) == len(datafiles._cells(body, None))
