"""Data read from files: `load("data.csv", column=...)` and `--set NAME=@PATH`.

The format goes by the file's extension: .csv (commas), .tsv, .txt and
.dat (numbers separated by blanks or tabs), all with `#` comments and a
header row of names detected when none of its cells is a number; .npy
(numpy's own format, never with pickles); .json (a number or nested lists,
read by jsonin's strict reader).  A file of a `load` is read only when it
lies, links followed, under the directory of the .expr file or under a
directory `--allow-read` names (`Access`), and only when it is a regular
file.  The size limit holds before the numbers are read: from the .npy
header, and for text from the file's size, then its rows counted.  A bad
cell, a ragged row or an empty file is an error located in the data file,
with a note at the `load` call.
"""

from __future__ import annotations

import math
import os

import numpy as np

from .errors import ExprError, Source, Span, display_path
from .sources import Access, open_regular, read_bytes, source_of

TEXT_FORMATS = (".csv", ".tsv", ".txt", ".dat")
FORMATS = TEXT_FORMATS + (".npy", ".json")


class Request:
    """One read: the file's `name` as written, its `label` in messages, its
    real path, the `column` asked for (None, an int or a name), the size
    limit, and the spans of the call and its arguments (for errors)."""

    __slots__ = (
        "name",
        "label",
        "real",
        "column",
        "max_elements",
        "call",
        "name_span",
        "column_span",
    )

    def __init__(self, name, label, real, column, max_elements, call, name_span, column_span):
        self.name = name
        self.label = label
        self.real = real
        self.column = column
        self.max_elements = max_elements
        self.call = call
        self.name_span = name_span
        self.column_span = column_span

    def at_call(self, message: str) -> ExprError:
        """An error at the `load` call (or the --set option), naming the file."""
        return ExprError(f"{self.label}: {message}", self.name_span)

    def in_file(self, message: str, span: Span) -> ExprError:
        """An error located in the data file, with a note at the call."""
        return ExprError(message, span, notes=[(self.call, f"{self.label} is loaded here")])


def load_file(
    name: str,
    column,
    *,
    access: Access,
    max_elements: int,
    call: Span,
    name_span: Span,
    column_span: Span | None = None,
) -> np.ndarray:
    """The array `load(name, column=column)` reads (float64), with the path
    rules of `access`; an `ExprError` at `name_span`, or in the data file."""
    try:
        real = access.resolve(name)
    except ValueError as e:
        raise ExprError(str(e), name_span) from None
    access.read.append(real)
    req = Request(
        name, access.label(name), real, column, max_elements, call, name_span, column_span
    )
    return read_request(req)


def load_given(path: str, max_elements: int, span: Span) -> np.ndarray:
    """The array in the file `path` a --set NAME=@PATH names (no directory
    rule: the user named it), located at `span` for errors."""
    if not path:
        raise ExprError("--set NAME=@PATH needs the name of a file after '@'", span)
    if "\0" in path:
        raise ExprError("a file name cannot hold a NUL character", span)
    # Links are followed (the path is the user's); the file itself is opened
    # without following one, so the real path is what is opened.
    real = os.path.realpath(path)
    req = Request(path, display_path(path), real, None, max_elements, span, span, None)
    return read_request(req)


def read_request(req: Request) -> np.ndarray:
    """The array of `req`'s file, read by the format of its extension."""
    ext = os.path.splitext(req.name)[1].lower()
    if ext not in FORMATS:
        shown = f"'{display_path(ext)}'" if ext else "none"
        raise req.at_call(
            f"cannot tell the format of the file from its extension ({shown}); load reads "
            + ", ".join(FORMATS)
        )
    try:
        if ext == ".npy":
            array = _read_npy(req)
        else:
            data = read_bytes(req.real)
            if ext == ".json":
                array = _read_json(req, data)
            else:
                array = _read_text(req, data, "," if ext == ".csv" else None)
    except FileNotFoundError:
        raise req.at_call("no such file") from None
    except OSError as e:
        raise req.at_call(f"cannot read the file: {e.strerror or e}") from None
    except ValueError as e:
        raise req.at_call(f"cannot read the file: {e}") from None
    if req.column is not None and ext in (".npy", ".json"):
        array = _column_of_array(req, array)
    return array


def _too_many(req: Request, count: int, shape=None) -> ExprError:
    what = f" (shape {_fmt(shape)})" if shape is not None else ""
    return req.at_call(
        f"holds {count:,} numbers{what}, over the limit of {req.max_elements:,} (--max-elements)"
    )


def _fmt(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


# ------------------------------------------------------------------ .npy


def _read_npy(req: Request) -> np.ndarray:
    """A .npy file: its header read and checked first (format, dtype, shape,
    size), then its data, never with pickles."""
    from numpy.lib import format as npy

    fd, info = open_regular(req.real)
    with os.fdopen(fd, "rb") as f:
        try:
            version = npy.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = npy.read_array_header_1_0(f)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = npy.read_array_header_2_0(f)
            else:
                raise ValueError(f"unknown .npy format version {version}")
        except (ValueError, SyntaxError, TypeError, OverflowError, UnicodeDecodeError) as e:
            raise req.at_call(f"not a .npy file numpy can read ({_first_line(e)})") from None
        if dtype.hasobject:
            raise req.at_call(
                "holds Python objects, which only a pickle can read; load never reads pickles"
            )
        if dtype.fields is not None or dtype.subdtype is not None:
            raise req.at_call(f"holds records ({dtype}), not numbers")
        if dtype.kind not in "biuf":
            raise req.at_call(f"holds {dtype} values, not real numbers")
        if any(d < 0 for d in shape):
            raise req.at_call(
                f"not a .npy file numpy can read (its header's shape {_fmt(shape)} has "
                "a negative dimension)"
            )
        count = math.prod(shape)
        if count > req.max_elements:
            raise _too_many(req, count, shape)
        # As for zeros(0, 2**62, 2**62): numpy refuses an empty array whose
        # other dimensions multiply past what an address can hold.
        extent = math.prod([d for d in shape if d])
        if extent > req.max_elements:
            raise req.at_call(
                f"its header's shape {_fmt(shape)} multiplies to {extent:,} without its "
                f"zeros, over the limit of {req.max_elements:,} (--max-elements)"
            )
        if len(shape) > 32:
            raise req.at_call(f"has {len(shape)} dimensions; at most 32 are supported")
        header = f.tell()
        need = count * dtype.itemsize
        if info.st_size - header < need:
            raise req.at_call(
                f"is cut short: its header says {_fmt(shape)} {dtype}, {need:,} bytes of "
                f"data, but {max(0, info.st_size - header):,} follow it"
            )
        buffer = f.read(need)
        if len(buffer) < need:
            raise req.at_call("is cut short (it shrank while being read)")
    array = np.frombuffer(buffer, dtype=dtype, count=count)
    array = array.reshape(shape, order="F" if fortran else "C")
    return np.array(array, dtype=np.float64)


def _first_line(e: Exception) -> str:
    text = str(e).strip().split("\n")[0]
    return text if len(text) <= 160 else text[:157] + "..."


# ------------------------------------------------------------------ .json


def _read_json(req: Request, data: bytes) -> np.ndarray:
    """A .json file: a number, "nan"/"inf"/"-inf", or nested lists of them."""
    from .jsonin import parse, start_of_value, to_array

    source = _text_source(req, data)
    if not source.text.strip():
        raise req.in_file("the file is empty: no numbers to load", Span.at(source, 0))
    # A number is at least a character and a comma apart from the next:
    # counted before Python holds them all.
    bound = source.text.count(",") + 1
    if bound > req.max_elements:
        import re

        bound = sum(1 for _ in re.finditer(r'[0-9]+|"', source.text))
        if bound > req.max_elements:
            raise req.at_call(
                f"holds up to {bound:,} numbers, over the limit of {req.max_elements:,} "
                "(--max-elements)"
            )
    try:
        doc = parse(source)
    except ExprError as e:
        raise req.in_file(e.message, e.span) from None
    span = Span(source, start_of_value(source), len(source.text.rstrip()))
    if type(doc) is dict:
        raise req.in_file(
            "a JSON object: load reads a number or nested lists of numbers "
            "(--set-json reads objects of names and values)",
            Span.at(source, span.start),
        )
    try:
        array = to_array(doc, span, "the data")
    except ExprError as e:
        raise req.in_file(e.message, e.span) from None
    if array.size > req.max_elements:
        raise _too_many(req, array.size, array.shape)
    return array


def _text_source(req: Request, data: bytes) -> Source:
    """`data` as the `Source` of the data file: UTF-8, and no NUL byte (a
    binary file given a text file's extension)."""
    try:
        source = source_of(data, req.label)
    except ExprError as e:
        raise req.in_file(e.message + ": a text file is read as UTF-8", e.span) from None
    nul = source.text.find("\0")
    if nul >= 0:
        raise req.in_file("a NUL byte: this is a binary file, not text", Span.at(source, nul))
    return source


# ------------------------------------------------------------------ text


def _is_number(cell: str) -> bool:
    """Whether a cell is a number as numpy.loadtxt reads one: Python's
    float syntax, without its digit separators and non-ASCII digits."""
    if "_" in cell or not cell.isascii():
        return False
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _unquote(cell: str) -> str:
    """A cell without the double quotes around it, if it has them."""
    return cell[1:-1] if len(cell) >= 2 and cell[0] == cell[-1] == '"' else cell


def _cells(line: str, sep: str | None):
    """The cells of a line (its comment gone) as (offset in the line, text)."""
    out = []
    if sep is None:
        pos, n = 0, len(line)
        while pos < n:
            while pos < n and line[pos] in " \t\f\v\r":
                pos += 1
            if pos >= n:
                break
            end = pos
            while end < n and line[end] not in " \t\f\v\r":
                end += 1
            out.append((pos, line[pos:end]))
            pos = end
        return out
    pos = 0
    for cell in line.split(sep):
        stripped = cell.strip(" \t\f\v\r")
        lead = len(cell) - len(cell.lstrip(" \t\f\v\r"))
        out.append((pos + lead, stripped))
        pos += len(cell) + 1
    return out


def _read_text(req: Request, data: bytes, sep: str | None) -> np.ndarray:
    """A table of numbers: rows of cells separated by `sep` (None: blanks
    and tabs), `#` comments, blank lines skipped, an optional header row of
    names; shape (rows, columns), or (rows,) for one column or a column
    asked for."""
    source = _text_source(req, data)
    text = source.text
    # The rows' offsets, comments and blank lines left out, counted (and the
    # size limit checked) before any number is read.
    rows = []  # (offset of the line, its text without the comment)
    offset = 0
    for line in text.split("\n"):
        body = line.partition("#")[0] if "#" in line else line
        if body.strip(" \t\f\v\r"):
            rows.append((offset, body))
        offset += len(line) + 1
    if not rows:
        what = "the file is empty" if not text.strip() else "the file holds only comments"
        raise req.in_file(f"{what}: no numbers to load", Span.at(source, 0))
    first_offset, first = rows[0]
    first_cells = _cells(first, sep)
    names = None
    # A header: names, every cell (none a number, none empty).
    if all(c and not _is_number(_unquote(c)) for _, c in first_cells):
        names = [_unquote(c) for _, c in first_cells]
        rows = rows[1:]
        if not rows:
            raise req.in_file(
                "a header row but no rows of numbers below it", Span.at(source, first_offset)
            )
    width = len(first_cells)
    count = len(rows) * width
    if count > req.max_elements:
        raise _too_many(req, count, (len(rows), width))
    index = _column_index(req, names, width, source, first_offset)
    table = None
    data = text[rows[0][0] :]
    # A ragged row (counted cheaply) goes straight to the loop's located
    # error: numpy would first make every cell of a line of millions.
    even = sep is None or all(body.count(sep) + 1 == width for _, body in rows)
    if even and data.isascii() and "_" not in data and '"' not in data:
        # numpy's own parser, where it reads what the loop below would; any
        # row it refuses is then found, and worded, by the loop.
        try:
            table = np.loadtxt(
                [body for _, body in rows], delimiter=sep, comments=None, ndmin=2, dtype=np.float64
            )
        except ValueError:
            table = None
        if table is not None and table.shape != (len(rows), width):
            table = None
    if table is None:
        table = _rows_one_by_one(req, source, rows, sep, width, names)
    if index is not None:
        return table[:, index].copy()
    return table[:, 0].copy() if width == 1 else table


def _rows_one_by_one(req, source, rows, sep, width, names):
    """The table of `rows`, checked row by row: the first bad one raises
    its located error."""
    table = np.empty((len(rows), width), dtype=np.float64)
    for r, (offset, body) in enumerate(rows):
        if _cell_count(body, sep) != width:  # before a ragged row's cells are made
            _check_row(req, source, offset, body, sep, width, names)
        cells = body.split(sep) if sep is not None else body.split()
        if '"' in body:  # numbers in quotes, as spreadsheets export them
            cells = [_unquote(c.strip(" \t\f\v\r")) for c in cells]
        if len(cells) != width or not body.isascii() or "_" in body:
            _check_row(req, source, offset, body, sep, width, names)
        try:
            table[r] = cells
        except ValueError:
            _check_row(req, source, offset, body, sep, width, names)
            raise  # _check_row finds every cell numpy refuses
    return table


_BLANKS_RE = None  # (a cell between blanks, a blank), compiled when first needed
_COUNTED = 1 << 16  # characters of a line whose cells are counted at once


def _blanks():
    global _BLANKS_RE
    if _BLANKS_RE is None:
        import re

        _BLANKS_RE = re.compile(r"[^ \t\f\v\r]+"), re.compile(r"[ \t\f\v\r]")
    return _BLANKS_RE


def _cell_spans(body: str, sep: str | None):
    """The (start, end) of each cell of a line, one at a time: a line of
    millions of cells is counted without holding them."""
    if sep is None:
        for m in _blanks()[0].finditer(body):
            yield m.start(), m.end()
        return
    start = 0
    while True:
        end = body.find(sep, start)
        yield start, len(body) if end < 0 else end
        if end < 0:
            return
        start = end + len(sep)


def _cell_count(body: str, sep: str | None) -> int:
    """How many cells a line has, as `_cells` would split it."""
    if sep is not None:
        return body.count(sep) + 1
    cell, blank = _blanks()
    count, start, n = 0, 0, len(body)
    while start < n:
        # A part of the line ending at a blank, so that no cell is cut.
        end = start + _COUNTED
        if end < n:
            at = blank.search(body, end)
            end = n if at is None else at.start()
        else:
            end = n
        part = body[start:end] if end - start <= 2 * _COUNTED else ""
        if part and part.isascii() and not any(c in part for c in "\x1c\x1d\x1e\x1f"):
            # str.split's blanks, in ASCII, are these and those four (and
            # a newline, which a line has not): its cells are made a part
            # at a time, many times faster than matched one by one.
            count += len(part.split())
        else:
            count += sum(1 for _ in cell.finditer(body, start, end))
        start = end
    return count


def _check_row(req, source, offset, body, sep, width, names):
    """Raise the located error of a row that is ragged or has a cell that
    is not a number."""
    count = _cell_count(body, sep)
    if count != width:
        line = source.position(offset)[0]
        first = "the header" if names is not None else "the first row"
        at = len(body.rstrip(" \t\f\v\r"))
        if count > width:  # the first cell too many
            import itertools

            start, end = next(itertools.islice(_cell_spans(body, sep), width, None))
            cell = body[start:end]
            at = start + len(cell) - len(cell.lstrip(" \t\f\v\r"))
        raise req.in_file(
            f"ragged rows: line {line} has {count:,} cell{'s' * (count != 1)}, "
            f"but {first} has {width:,}",
            Span(source, offset + at, offset + max(at + 1, len(body.rstrip()))),
        )
    cells = _cells(body, sep)
    for pos, cell in cells:
        if not _is_number(_unquote(cell)):
            if not cell:
                raise req.in_file("an empty cell: expected a number", Span.at(source, offset + pos))
            shown = cell if len(cell) <= 40 else cell[:37] + "..."
            raise req.in_file(
                f"not a number: {display_path(repr(shown))}",
                Span(source, offset + pos, offset + pos + len(cell)),
            )


def _column_index(req, names, width, source, header_offset):
    """The index of the column `req` asks for, or None for the whole table."""
    column = req.column
    if column is None:
        return None
    where = req.column_span or req.name_span
    if isinstance(column, str):
        if names is None:
            raise ExprError(
                f"{req.label} has no header row of names (its first row is numbers): "
                "give the column by its index, column=0 for the first",
                where,
            )
        if column not in names:
            from .model import suggest

            listed = ", ".join(repr(n) for n in names[:12]) + (", ..." if len(names) > 12 else "")
            raise ExprError(
                f"{req.label} has no column named '{column}'{suggest(column, names)}; "
                f"its columns are {listed}",
                where,
                notes=[(Span.at(source, header_offset), f"the header of {req.label}")],
            )
        if names.count(column) > 1:
            raise ExprError(
                f"{req.label} has {names.count(column)} columns named '{column}': "
                "give the column by its index",
                where,
            )
        return names.index(column)
    if not -width <= column < width:
        raise ExprError(
            f"column {column} is out of range: {req.label} has {width} "
            f"column{'s' * (width != 1)} (0 to {width - 1})",
            where,
        )
    return column % width


def _column_of_array(req: Request, array: np.ndarray) -> np.ndarray:
    """Column `req.column` of a 2-D array read from .npy or .json."""
    where = req.column_span or req.name_span
    if isinstance(req.column, str):
        raise ExprError(
            f"{req.label} has no names for its columns (only .csv, .tsv, .txt and .dat "
            "files have a header row): give the column by its index",
            where,
        )
    if array.ndim != 2:
        raise ExprError(
            f"column= picks a column of a table, but {req.label} holds an array of shape "
            f"{_fmt(array.shape)}",
            where,
        )
    width = array.shape[1]
    if not -width <= req.column < width:
        raise ExprError(
            f"column {req.column} is out of range: {req.label} has {width} "
            f"column{'s' * (width != 1)} (0 to {width - 1})",
            where,
        )
    return array[:, req.column].copy()
