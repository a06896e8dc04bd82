"""Reports for people: numbers as the tables write them, and the Rich
tables of eval, check, hessian and jacobian (their JSON documents beside
them; the writing of JSON is jsonout.py's)."""

from __future__ import annotations

import math

import numpy as np

from .jsonout import head_dict, json_array, json_number

TABLE_THRESHOLD = 24  # tensors with more elements are summarised in the table
SUMMARY_SHOWN = 36  # numbers a summary shows at most: eval's for a matrix (6 x 6)


# --------------------------------------------------------------------- table

TABLE_DIGITS = 6  # significant digits in the table; JSON has them all


def fmt_number(x) -> str:
    """A number for people: at most TABLE_DIGITS significant digits."""
    ax = abs(float(x))
    if math.isnan(ax):
        return "nan"
    if math.isinf(ax):
        return "inf" if x > 0 else "-inf"
    if ax == 0:
        return "0"  # and not "-0"
    if 1e-4 <= ax < 10**TABLE_DIGITS:
        return np.format_float_positional(
            x, precision=TABLE_DIGITS, unique=True, fractional=False, trim="-"
        )
    text = np.format_float_scientific(x, precision=TABLE_DIGITS - 1, unique=True, trim="-")
    # numpy keeps the point when rounding leaves no digit after it (1.e+06).
    return text.replace(".e", "e")


def fmt_array(a) -> str:
    a = np.asarray(a)
    if a.ndim == 0:
        return fmt_number(a[()])
    return np.array2string(
        a,
        separator=", ",
        formatter={"float_kind": fmt_number},
        threshold=TABLE_THRESHOLD,
        edgeitems=3,
        max_line_width=72,
    )


def fmt_tensor(a) -> str:
    """A value or gradient for eval's table: `fmt_array`'s summary, or the
    elements in a row where numpy's (it cuts only axes longer than six)
    would cut nothing or still show more than SUMMARY_SHOWN numbers, as for
    a (3, 3, 3, 3)."""
    if type(a) is float:  # a float64 scalar the engine ran as a Python float
        return fmt_number(np.float64(a))
    a = np.asarray(a)
    if a.size <= TABLE_THRESHOLD or (
        max(a.shape) > 6 and math.prod(min(d, 6) for d in a.shape) <= SUMMARY_SHOWN
    ):
        return fmt_array(a)
    return "flattened:\n" + fmt_array(a.reshape(-1))


def fmt_shape_short(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + (",)" if len(shape) == 1 else ")")


_KIND_STYLE = {"param": "bold magenta", "input": "cyan", "node": ""}


def render_table(report, file_label: str, wrt=None, console=None):
    """Print the report as a Rich table: a row per binding in file order."""
    from rich.text import Text

    from .tables import new_table

    model = report.model
    target = report.target.name
    bindings = [b for b in model.bindings if wrt is None or b.name in wrt]
    table = new_table(
        len(bindings),
        title=Text.assemble(
            (file_label, "bold"),
            f"  target {target} = ",
            (fmt_array(report.values[target]), "bold"),
            f"  ({model.dtype})",
        ),
        title_justify="left",
        header_style="bold",
    )
    table.add_column("name", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("expr", overflow="fold")
    table.add_column("shape", no_wrap=True)
    table.add_column("value", justify="right")
    table.add_column(f"∂{target}/∂·", justify="right")
    for b in bindings:
        value = report.values[b.name]
        table.add_row(
            (b.name, "bold"),
            (b.kind, _KIND_STYLE[b.kind]),
            (b.expr, ""),
            fmt_shape_short(value.shape),
            (fmt_tensor(value), ""),
            (fmt_tensor(report.grads[b.name]), "green"),
        )
    console.print(table)


# ------------------------------------------------- check, hessian, jacobian


def _title(file_label, what):
    from rich.text import Text

    return Text.assemble((file_label, "bold"), f"  {what}")


def check_dict(model, file_label, result) -> dict:
    """`check`'s JSON: `ok`, the rows, then how the check was made: `mode`
    (with `directions`, `samples` and `seed` when directional), `wrt` (the
    leaves checked), `left_out` (the other params and inputs) and `note`."""

    def entry(r):
        d = {
            "ok": r.ok,
            "max_abs_err": json_number(r.max_abs_err),
            "max_rel_err": json_number(r.max_rel_err),
            "worst_index": r.worst_index,
            "compared": r.compared,
            "size": r.size,
        }
        if r.directions is not None:
            dr = r.directions
            d["directional"] = {
                "count": dr.count,
                "ok": dr.ok,
                "max_abs_err": json_number(dr.max_abs_err),
                "max_rel_err": json_number(dr.max_rel_err),
                "worst_direction": dr.worst,
            }
            if result.order != 1:
                d["directional"]["worst_index"] = dr.worst_index
        if r.note:
            d["note"] = r.note
        return d

    rows = result.rows
    if result.order == 1:
        check = {r.names[0]: entry(r) for r in rows}
    else:
        check = {}
        for r in rows:
            check.setdefault(r.names[0], {})[r.names[1]] = entry(r)
    doc = {**head_dict(model, file_label, result.target.name), "ok": result.ok}
    if result.order != 1:
        doc["order"] = result.order
    doc["check"] = check
    doc["mode"] = result.mode
    if result.mode == "directional":
        doc["directions"] = result.directions
        doc["samples"] = result.samples
        doc["seed"] = result.seed
    doc["wrt"] = list(result.selection.names)
    doc["left_out"] = [name for name, _ in result.selection.left_out]
    doc["note"] = _mode_note(result)
    return doc


def _plural(n, word):
    return f"{n:,} {word}{'s' if n != 1 else ''}"


def _mode_note(result) -> str:
    """Which mode `check` used, and why, in a sentence."""
    from .options import CHECK_FULL_LIMIT as FULL_LIMIT

    total = _plural(result.total, "element")
    if result.mode == "full":
        if result.order == 2:
            return f"full: every element of the Hessian compared ({result.total**2:,})"
        return f"full: every element compared ({total} checked)"
    parts = []
    if result.directions:
        parts.append(_plural(result.directions, "random direction"))
    if result.samples:
        parts.append(
            _plural(result.samples, "random " + ("column" if result.order == 2 else "element"))
        )
    how = "Hessian-vector products along " if result.order == 2 else ""
    return (
        f"directional: {total}, more than {FULL_LIMIT} — {how}{' and '.join(parts)} per "
        f"leaf (leaves of at most {_plural(result.samples, 'element')} whole; seed "
        f"{result.seed}); --full compares every element"
    )


def _names(names, limit=8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit:,} more" if len(names) > limit else "")


def selection_text(selection, verb) -> str:
    """Which leaves the derivatives are taken with respect to, and which
    params and inputs are left out (and how to add them)."""
    names = selection.names
    if selection.how == "params":
        text = f"{verb} every param: {_names(names)}"
    elif selection.how == "inputs":
        text = f"{verb} every input (there is no param): {_names(names)}"
    else:
        text = f"{verb} {_names(names)} (--wrt)"
    if selection.left_out:
        parts = []
        for kind in ("param", "input"):
            left = [n for n, k in selection.left_out if k == kind]
            if left:
                parts.append(f"{kind}{'s' if len(left) > 1 else ''} {_names(left)}")
        text += "; left out: " + "; ".join(parts) + " (--wrt NAME adds one)"
    return text


def render_check(model, file_label, result, rtol, atol, console):
    from rich.text import Text

    from .tables import new_table

    order, rows = result.order, result.rows
    what = "gradient" if order == 1 else "Hessian"
    console.print(
        _title(
            file_label,
            f"{what} of {result.target.name} against central "
            f"differences (rtol {rtol:g}, atol {atol:g}, "
            f"{model.dtype})",
        )
    )
    directional = sum(r.directions is not None for r in rows)
    table = new_table(len(rows) + directional, header_style="bold")
    for col in ("name", "shape", "compared", "max abs err", "max rel err", "worst at", "result"):
        table.add_column(col, justify="right" if "err" in col else "left")

    def result_text(ok, note):
        return ("ok", "green") if ok else ("kink", "yellow") if note else ("FAIL", "bold red")

    for r in rows:
        name = r.names[0] if order == 1 else f"{r.names[0]}, {r.names[1]}"
        compared = f"all {r.size:,}" if r.compared == r.size else f"{r.compared:,} of {r.size:,}"
        table.add_row(
            (name, "bold"),
            fmt_shape_short(r.shape),
            compared,
            fmt_number(r.max_abs_err),
            fmt_number(r.max_rel_err),
            "[" + ", ".join(map(str, r.worst_index)) + "]",
            result_text(r.elements_ok, r.note),
        )
        dr = r.directions
        if dr is not None:
            where = f"direction {dr.worst}"
            if dr.worst_index:
                where += " at [" + ", ".join(map(str, dr.worst_index)) + "]"
            table.add_row(
                "",
                "",
                f"{dr.count} direction{'s' if dr.count != 1 else ''}",
                fmt_number(dr.max_abs_err),
                fmt_number(dr.max_rel_err),
                where,
                result_text(dr.ok, r.note),
            )
    console.print(table)
    for r in rows:
        if r.note:
            console.print(Text(f"{', '.join(r.names)}: {r.note}", style="yellow"))
    console.print(Text(_mode_note(result)))
    console.print(Text(selection_text(result.selection, "checked with respect to")))
    bad = [r for r in rows if not r.ok]
    if bad:
        console.print(Text(f"{len(bad)} of {len(rows)} out of tolerance", style="bold red"))
    else:
        console.print(Text(f"all {len(rows)} within tolerance", style="bold green"))


def blocks_dict(model, file_label, target, field, blocks, selection) -> dict:
    """hessian: {a: {b: block}}; jacobian: {a: block}; then `wrt` (the
    leaves) and `left_out` (the other params and inputs)."""

    def convert(v):
        return {k: convert(x) for k, x in v.items()} if isinstance(v, dict) else json_array(v)

    return {
        **head_dict(model, file_label, target),
        field: convert(blocks),
        "wrt": list(selection.names),
        "left_out": [name for name, _ in selection.left_out],
    }


def fmt_block(a, split) -> str:
    """A derivative block for the table, of shape ``out.shape + in.shape``
    with ``split = len(out.shape)``: as `fmt_array` (eval's summary) when
    that shows at most SUMMARY_SHOWN numbers; otherwise summarised as the
    ``(out elements) x (in elements)`` matrix it is.  numpy summarises only
    axes longer than six, so a (4, 6, 4, 6) block would show all 576."""
    a = np.asarray(a)
    if a.size <= TABLE_THRESHOLD or math.prod(min(d, 6) for d in a.shape) <= SUMMARY_SHOWN:
        return fmt_array(a)
    rows, cols = math.prod(a.shape[:split]), math.prod(a.shape[split:])
    if rows == 1 or cols == 1:
        return "flattened:\n" + fmt_array(a.reshape(-1))
    return f"as a {rows} × {cols} matrix:\n" + fmt_array(a.reshape(rows, cols))


def render_blocks(model, file_label, target, field, blocks, selection, console, how=None):
    """hessian's and jacobian's table; `how` says how a Jacobian was made."""
    from rich.text import Text

    from .tables import new_table

    def ndim(name):
        return len(model.shapes[model.by_name[name].node])

    if field == "hessian":
        title = f"∂²{target}/∂a∂b, by forward over reverse"
        rows = [
            (f"∂²{target}/∂{a}∂{b}", block, ndim(a))
            for a, inner in blocks.items()
            for b, block in inner.items()
        ]
    else:
        title = f"∂{target}/∂·, {how or f'one reverse sweep per element of {target}'}"
        rows = [(f"∂{target}/∂{a}", block, ndim(target)) for a, block in blocks.items()]
    console.print(_title(file_label, title))
    table = new_table(len(rows), header_style="bold")
    table.add_column("block")
    table.add_column("shape")
    table.add_column("value", justify="right")
    from .streams import spelled

    for name, block, split in rows:
        table.add_row(
            (spelled(name), "bold"),
            fmt_shape_short(block.shape),
            (fmt_block(block, split), "green"),
        )
    console.print(table)
    console.print(Text(selection_text(selection, "with respect to")))
    if any(np.size(block) > TABLE_THRESHOLD for _, block, _ in rows):
        console.print(
            Text(
                f"blocks of more than {TABLE_THRESHOLD} elements are summarised; "
                "--format json has them whole"
            )
        )
