"""`explain`'s derivation as text: one blog-style line per path, then their
sum, or the reverse sweep, one line per named node; a legend first, and
every line folded to the terminal's width (the JSON is not folded)."""

from __future__ import annotations

import os
import sys

import numpy as np

from ..render import TABLE_THRESHOLD, fmt_array, fmt_number
from .algebra import CMP, NEG, SUM, classify
from .folding import INDENT, cells, fold
from .notation import MINUS, adjoint, fmt, local_derivative, total_derivative

MIN_WIDTH = 20  # lines are folded to no fewer columns than this
PROSE, MATH, LAID_OUT = range(3)  # kinds of text line: how each is folded


def render_explain(doc: dict, target_name: str, width: int | None = None) -> str:
    """The derivation as text: one blog-style line per path, then their sum;
    or the reverse sweep, one line per named node.

    A legend comes first whenever a local derivative is written out: the
    total ``∂L/∂x`` is what `eval` reports, a local one is marked
    ``∂c/∂b1|local``.  Each line is folded to `width` columns (None: the
    terminal's width, see `terminal_width`; 0: not folded), a derivation
    before the operators between its factors, prose between words, with
    continuation lines indented by four spaces.
    """
    if width is None:
        width = terminal_width()
    if width:
        width = max(width, MIN_WIDTH)
    wrt = doc["wrt"]
    body = doc["explain"]
    lhs = total_derivative(target_name, wrt)
    lines = []  # (text, kind): PROSE or MATH to fold, LAID_OUT as it is
    locals_ = []  # the (a, b) of each local derivative written out
    if "sweep" in body:
        lines.append((body["note"], PROSE))
        lines += _render_sweep(body["sweep"], locals_, width)
        lines.append((f"{lhs} = {adjoint(wrt)} = {fmt(body['total'])}", MATH))
    elif not body["paths"]:
        lines.append((f"{lhs} = {fmt(body['total'])}: {body['note']}", PROSE))
    else:
        paths = body["paths"]
        if len(paths) == 1:
            lines.append(
                (f"{lhs} = " + _render_path(paths[0], len(paths[0]["factors"]) > 1, locals_), MATH)
            )
        else:
            for k, p in enumerate(paths, 1):
                lines.append((f"path {k}: " + _render_path(p, True, locals_), MATH))
            names = " + ".join(f"path {k}" for k in range(1, len(paths) + 1))
            lines.append(
                (
                    f"{lhs} = {names} = {_signed_sum([p['value'] for p in paths])} "
                    f"= {fmt(body['total'])}",
                    MATH,
                )
            )
        if "note" in body:
            lines.append((body["note"], PROSE))
    if locals_:
        lines.insert(0, (_legend(target_name, lhs, *locals_[0]), PROSE))
    if width:
        lines = [
            (folded, kind)
            for text, kind in lines
            for folded in ([text] if kind == LAID_OUT else fold(text, width, kind == PROSE))
        ]
    return "\n".join(text for text, _ in lines)


def terminal_width() -> int:
    """The width to fold text to: $COLUMNS when it is a positive number (as
    Rich takes it), else the width of the terminal standard output goes to,
    else 80."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        if sys.stdout.isatty():
            return os.get_terminal_size(sys.stdout.fileno()).columns or 80
    except (AttributeError, OSError, ValueError):
        pass  # not a real file (a test's capture), or no terminal size
    return 80


def _factor_text(x) -> str:
    t = fmt(x)
    return f"({t})" if t.startswith(MINUS) else t


def _symbol_text(s) -> str:
    return f"({s})" if classify(s) in (CMP, SUM, NEG) else s


def _signed_sum(values) -> str:
    out = ""
    for k, v in enumerate(values):
        t = fmt(v)
        if k == 0:
            out = t
        elif t.startswith(MINUS):
            out += f" {MINUS} {t[1:]}"
        else:
            out += f" + {t}"
    return out


def _legend(target, lhs, a, b) -> str:
    return (
        f"{lhs}: the total derivative, over every path (eval's ∂{target}/∂·). "
        f"{local_derivative(a, b)}: the right side of {a} differentiated by {b}, "
        f"all else held fixed."
    )


def _render_path(p, with_chain, locals_) -> str:
    """One path as `chain = symbols = numbers = value`; the (a, b) of each
    local derivative written in ∂ notation are added to `locals_`."""
    nodes = p["nodes"]
    steps = list(zip(nodes, nodes[1:]))
    opaque = [s == local_derivative(a, b) for s, (a, b) in zip(p["symbols"], steps)]
    pieces = []
    if with_chain:
        pieces.append(" · ".join(local_derivative(a, b) for a, b in steps))
        locals_ += steps
    if len(p["factors"]) == 1:
        if with_chain or not opaque[0]:
            symbol = p["symbols"][0]
            # a comparison between = signs would read as a chain: (x < 1)
            pieces.append(f"({symbol})" if classify(symbol) == CMP else symbol)
        pieces.append(fmt(p["factors"][0]))
    elif p["factors"]:
        pieces.append(" · ".join(_symbol_text(s) for s in p["symbols"]))
        pieces.append(" · ".join(_factor_text(f) for f in p["factors"]))
        locals_ += [step for step, o in zip(steps, opaque) if o]
    pieces.append(fmt(p["value"]))
    out = []
    for piece in pieces:  # `1 = 1`: say it once
        if not out or out[-1] != piece:
            out.append(piece)
    return " = ".join(out)


def _render_sweep(entries, locals_, width) -> list:
    """The sweep's lines, (text, kind) as render_explain takes them."""
    adjoints = {}
    lines = []
    for entry in entries:
        node, adj = entry["node"], entry["adjoint"]
        adjoints[node] = adj
        terms = entry["terms"]
        if not terms:
            lines += _equals_array(adjoint(node), adj, width)
            continue
        chain = " + ".join(
            f"{adjoint(t['from'])} · {local_derivative(t['from'], node)}" for t in terms
        )
        locals_ += [(t["from"], node) for t in terms]
        numbers = None
        if all(
            t["local"] is not None and t["from"] in adjoints and np.ndim(adjoints[t["from"]]) == 0
            for t in terms
        ):
            numbers = " + ".join(
                f"{_factor_text(adjoints[t['from']])} · {_factor_text(t['local'])}" for t in terms
            )
        lines += _equals_array(
            f"{adjoint(node)} = " + " = ".join([chain] + ([numbers] if numbers else [])), adj, width
        )
    return lines


def _equals_array(head, a, width) -> list:
    """`head = a` as (text, kind) lines: on one line where it fits (or is
    not to be folded), else `a` laid out by rows below `head`, to the width."""
    text = _array_text(a)
    one = f"{head} = {text}"
    if not width or np.ndim(a) == 0 or ("\n" not in text and sum(map(cells, one)) <= width):
        return [(one, MATH)]
    prefix = INDENT + "= "
    block = prefix + _array_text(a, width, prefix)
    if max(sum(map(cells, line)) for line in block.split("\n")) > width:
        # a number wider than what is left of a row: fold the whole as a line
        return [(f"{head} = {' '.join(text.split())}", MATH)]
    return [(head, MATH), (block, LAID_OUT)]


def _array_text(a, width=None, prefix="") -> str:
    """An array as `eval`'s table writes it; with a width, its lines fit in
    it when they follow `prefix` and are indented to go under it."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        return fmt(a[()])
    if width is None:
        return fmt_array(a).replace("-", MINUS)
    return np.array2string(
        a,
        separator=", ",
        formatter={"float_kind": fmt_number},
        threshold=TABLE_THRESHOLD,
        edgeitems=3,
        max_line_width=width,
        prefix=prefix,
    ).replace("-", MINUS)
