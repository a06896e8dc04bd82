"""Long tables for people: a Rich table laid out as Rich lays it out, but
measured and drawn in one pass over plain strings.

Rich measures every cell as a renderable and renders each through padding,
wrapping and justification; on a file of thousands of bindings that is
nearly all of `eval`'s time.  `LongTable` keeps Rich's own code for the
column widths, the title and the header, and draws a body cell itself when
the cell is one line that fits its column; any other cell (several lines,
one to wrap, control characters) is rendered by Rich as its table would.
The segments are the ones Rich's table yields, styles included, so the
output is the same byte for byte on every console (a test holds it to
Rich's table)."""

from __future__ import annotations

from rich.cells import cell_len
from rich.measure import Measurement
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.table import Column, Table
from rich.text import Text

LONG_TABLE_ROWS = 100  # tables with more rows are drawn by LongTable

_PADDING = (0, 1, 0, 1)  # Rich's default cell padding: one space either side
_PAD = 2


def _renderable(cell):
    """A cell as Rich's table holds it: a str, or a Text for (text, style)."""
    if isinstance(cell, tuple):
        return Text(cell[0], style=cell[1])
    return cell


def _plain(cell) -> str:
    return cell[0] if isinstance(cell, tuple) else cell


def _simple(text: str) -> bool:
    """Whether Rich draws `text` as itself, justified: one printable line
    with no space at either end to strip."""
    return bool(text) and text.isprintable() and text[0] != " " and text[-1] != " "


def _measure(cell) -> tuple:
    """(narrowest, widest) the cell's text can be laid out in, as Rich's
    `Text` measures it (its longest word, its longest line)."""
    text = _plain(cell)
    if text.isascii() and text.isprintable() and " " not in text:
        return len(text), len(text)  # one word, a cell per character
    if not _simple(text):
        plain = Text(text).plain  # Rich drops control characters before measuring
        lines = plain.splitlines()
        widest = max(map(cell_len, lines)) if lines else 0
        words = plain.split()
        return (max(map(cell_len, words)) if words else widest), widest
    widest = cell_len(text)
    if " " not in text:
        return widest, widest
    return max(map(cell_len, text.split())), widest


class LongTable(Table):
    """A Rich `Table` (default box, padding and edges; no footer, no row
    styles) whose rows are cells of plain text: a str, or (str, style).
    Its output is the same as a `Table` given the same cells as `Text`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cells = []  # the rows, as add_row was given them
        self._measured = None  # each column's measure, once drawn

    def add_row(self, *cells, **kwargs):
        """Add a row of str or (str, style) cells."""
        self.cells.append(cells)
        self._measured = None

    @property
    def row_count(self) -> int:
        """How many rows the table has."""
        return len(self.cells)

    def _measures(self):
        """For each column, the widest (narrowest, widest) over its header
        and cells: what Rich's measurement of the column reduces to."""
        cached = self._measured
        if cached is None:
            cached = []
            for index, column in enumerate(self.columns):
                low, high = _measure(column.header)
                for row in self.cells:
                    cell = row[index]
                    text = cell[0] if type(cell) is tuple else cell
                    if text.isascii() and text.isprintable() and " " not in text:
                        a = b = len(text)  # one word, a cell per character
                    else:
                        a, b = _measure(text)
                    if a > low:
                        low = a
                    if b > high:
                        high = b
                cached.append((low, high))
            self._measured = cached
        return cached

    def _measure_column(self, console, options, column):
        # Rich measures each padded cell against the width on offer and
        # takes the widest; clamping the column's widest does the same.
        max_width = options.max_width
        if max_width < 1:
            return Measurement(0, 0)
        if max_width - _PAD < 1:
            return Measurement(max_width, max_width)
        low, high = self._measures()[column._index]
        inner = max_width - _PAD
        return Measurement(min(low, inner) + _PAD, min(high, inner) + _PAD)

    def _render(self, console, options, widths):
        get_style = console.get_style
        border_style = get_style(self.style or "") + get_style(self.border_style or "")
        box = self.box.substitute(
            options, safe=self.safe_box if self.safe_box is not None else console.safe_box
        )
        new_line = Segment.line()
        columns = self.columns
        body_style = Style.null()
        cell_styles = [get_style(column.style or "") + body_style for column in columns]
        column_options = [
            options.update(
                width=width,
                justify=column.justify,
                no_wrap=column.no_wrap,
                overflow=column.overflow,
                height=None,
                highlight=column.highlight,
            )
            for width, column in zip(widths, columns)
        ]
        edges = [
            (
                Segment(left, border_style),
                Segment(right, border_style),
                Segment(vertical, border_style),
            )
            for left, right, vertical in (
                (box.head_left, box.head_right, box.head_vertical),
                (box.mid_left, box.mid_right, box.mid_vertical),
                (box.foot_left, box.foot_right, box.foot_vertical),
            )
        ]

        def rich_cell(index, renderable, style):
            return console.render_lines(
                Padding(renderable, _PADDING), column_options[index], style=style
            )

        def row_lines(cells, styles, vertical, row_style):
            row_height = max(len(cell) for cell in cells)
            height = max(1, row_height)
            if all(len(cell) == 1 for cell in cells):
                return cells, 1
            align = Segment.align_bottom if vertical == "bottom" else Segment.align_top
            return [
                Segment.set_shape(align(cell, width, row_height, style + row_style), width, height)
                for cell, width, style in zip(cells, widths, styles)
            ], height

        # A console writes a segment with no style as its bare text, and one
        # without colours every segment so: such runs are joined into one
        # segment, which writes the same bytes and is far cheaper to write.
        bare = console.color_system is None and not console.record

        def joined(segments):
            out, run = [], []
            for segment in segments:
                if (bare or not segment.style) and not segment.control:
                    run.append(segment.text)
                    continue
                if run:
                    out.append(Segment("".join(run)))
                    run = []
                out.append(segment)
            if run:
                out.append(Segment("".join(run)))
            return out

        def emit(cells, height, edge):
            left, right, divider = edge
            if not divider.text.strip():
                divider = Segment(divider.text, body_style.background_style + divider.style)
            for line_no in range(height):
                line = [left]
                for index, cell in enumerate(cells):
                    if index:
                        line.append(divider)
                    line.extend(cell[line_no])
                line.append(right)
                yield from joined(line)
                yield new_line

        yield Segment(box.get_top(widths), border_style)
        yield new_line
        header_style = get_style(self.header_style or "")
        header_styles = [header_style + get_style(column.header_style) for column in columns]
        header = [
            rich_cell(index, column.header, style)
            for index, (column, style) in enumerate(zip(columns, header_styles))
        ]
        cells, height = row_lines(header, header_styles, "bottom", Style.null())
        yield from emit(cells, height, edges[0])
        yield Segment(box.get_row(widths, "head", edge=True), border_style)
        yield new_line

        # How Rich draws a one-line cell that fits, found by drawing one.
        drawn = {}

        def simple_form(index, style):
            key = (index, style)
            if key not in drawn:
                drawn[key] = None
                inner = widths[index] - _PAD
                if inner >= 1:
                    lines = rich_cell(index, Text("x", style=style), cell_styles[index])
                    right = columns[index].justify == "right"
                    want = " " * (inner - 1) + "x" if right else "x" + " " * (inner - 1)
                    if len(lines) == 1 and len(lines[0]) == 3:
                        a, b, c = lines[0]
                        if (a.text, b.text, c.text) == (" ", want, " ") and not (
                            a.control or b.control or c.control
                        ):
                            drawn[key] = (a, b.style, c, inner, right)
            return drawn[key]

        rows = self.cells
        last = len(rows) - 1
        for number, row in enumerate(rows):
            edge = edges[2 if number == last else 1]
            # Each cell's text, form and room to spare where it is drawn
            # here (one line that fits), None where Rich draws it.
            fitted = []
            for index, cell in enumerate(row):
                text, style = cell if type(cell) is tuple else (cell, "")
                form = drawn.get((index, style), 0)
                if form == 0:
                    form = simple_form(index, style)
                room = -1
                if form is not None and _simple(text):
                    room = form[3] - (len(text) if text.isascii() else cell_len(text))
                fitted.append((text, form, room) if room >= 0 else None)
            if bare and None not in fitted:
                # A row of cells that fit on one line is, for a console
                # without colours, only its text: written as one segment.
                texts = [
                    " " + (" " * room + text if form[4] else text + " " * room) + " "
                    for text, form, room in fitted
                ]
                yield Segment(edge[0].text + edge[2].text.join(texts) + edge[1].text)
                yield new_line
                continue
            cells = []
            for index, (cell, fit) in enumerate(zip(row, fitted)):
                if fit is None:
                    cells.append(rich_cell(index, _renderable(cell), cell_styles[index]))
                    continue
                text, (a, style, c, inner, right), room = fit
                padded = " " * room + text if right else text + " " * room
                cells.append([[a, Segment(padded, style), c]])
            cells, height = row_lines(cells, cell_styles, "top", body_style)
            yield from emit(cells, height, edge)
        yield Segment(box.get_bottom(widths), border_style)
        yield new_line


class _ShortTable(Table):
    """Rich's own table, taking the cells a LongTable takes."""

    def add_row(self, *cells, **kwargs):
        """Add a row of str or (str, style) cells."""
        super().add_row(*map(_renderable, cells), **kwargs)


# LongTable stands in for Table's private layout methods and reads what
# Rich's columns hold since 13.8; with a Rich that lacks any of it, Rich's
# own table draws every table (slower on long ones, the same output).
_RICH_HAS_WHAT_LONG_TABLE_USES = all(
    hasattr(Table, name) for name in ("_measure_column", "_render")
) and all(hasattr(Column, name) for name in ("highlight", "_index"))


def new_table(rows: int, **kwargs) -> Table:
    """A table for `rows` rows whose cells are str or (str, style): Rich's
    own `Table` when short, a `LongTable` (the same output) when long."""
    long = rows > LONG_TABLE_ROWS and _RICH_HAS_WHAT_LONG_TABLE_USES
    return (LongTable if long else _ShortTable)(**kwargs)
