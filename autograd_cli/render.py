"""Reports as JSON (strict RFC 8259) and as a Rich table."""

from __future__ import annotations

import json
import math

import numpy as np

SCHEMA = 1
TABLE_THRESHOLD = 24   # tensors with more elements are summarised in the table


# ---------------------------------------------------------------------- JSON

def json_number(x):
    """A float for JSON: non-finite numbers become "nan", "inf", "-inf"."""
    if math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def json_array(a):
    """A scalar as a number, a tensor as nested lists (values exact, as
    numpy's ``tolist`` gives them)."""
    a = np.asarray(a)
    finite = np.isfinite(a)
    if finite.all():
        return a.tolist()
    obj = a.astype(object)
    obj[np.isnan(a)] = "nan"
    obj[a == np.inf] = "inf"
    obj[a == -np.inf] = "-inf"
    return obj.tolist()


def report_dict(report, file_label: str, wrt=None) -> dict:
    model = report.model
    names = [b.name for b in model.bindings if wrt is None or b.name in wrt]
    nodes = {}
    for name in names:
        b = model.by_name[name]
        nodes[name] = {
            "kind": b.kind,
            "expr": b.expr,
            "shape": list(report.values[name].shape),
            "value": json_array(report.values[name]),
            "grad": json_array(report.grads[name]),
        }
    return {
        "schema": SCHEMA,
        "file": file_label,
        "target": report.target.name,
        "dtype": model.dtype,
        "value": json_array(report.values[report.target.name]),
        "nodes": nodes,
        "warnings": [warning_dict(w) for w in report.warnings],
    }


def warning_dict(w) -> dict:
    d = {"message": w.message}
    if w.node is not None:
        d["node"] = w.node
    if w.span is not None:
        d["line"] = w.span.line
        d["column"] = w.span.column
    return d


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def to_json(doc: dict, compact: bool) -> str:
    """One line (JSON Lines) when `compact`; otherwise the layout of the
    spec: a key per line, and one line per node."""
    if compact:
        return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    lines = ["{"]
    items = list(doc.items())
    for k, (key, value) in enumerate(items):
        comma = "," if k < len(items) - 1 else ""
        if key in ("nodes", "warnings") and value:
            inner = list(value.items()) if key == "nodes" else list(enumerate(value))
            open_, close = ("{", "}") if key == "nodes" else ("[", "]")
            lines.append(f"  {_dumps(key)}: {open_}")
            for j, (name, entry) in enumerate(inner):
                sep = "," if j < len(inner) - 1 else ""
                head = f"{_dumps(name)}: " if key == "nodes" else ""
                lines.append(f"    {head}{_dumps(entry)}{sep}")
            lines.append(f"  {close}{comma}")
        else:
            lines.append(f"  {_dumps(key)}: {_dumps(value)}{comma}")
    lines.append("}")
    return "\n".join(lines)


# --------------------------------------------------------------------- table

TABLE_DIGITS = 6      # significant digits in the table; JSON has them all


def fmt_number(x) -> str:
    """A number for people: at most TABLE_DIGITS significant digits."""
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    ax = abs(float(x))
    if ax == 0 or 1e-4 <= ax < 10**TABLE_DIGITS:
        return np.format_float_positional(x, precision=TABLE_DIGITS, unique=True,
                                          fractional=False, trim="-")
    return np.format_float_scientific(x, precision=TABLE_DIGITS - 1, unique=True, trim="-")


def fmt_array(a) -> str:
    a = np.asarray(a)
    if a.ndim == 0:
        return fmt_number(a[()])
    return np.array2string(a, separator=", ", formatter={"float_kind": fmt_number},
                           threshold=TABLE_THRESHOLD, edgeitems=3, max_line_width=72)


def fmt_shape_short(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + (",)" if len(shape) == 1 else ")")


_KIND_STYLE = {"param": "bold magenta", "input": "cyan", "node": ""}


def render_table(report, file_label: str, wrt=None, console=None):
    """Print the report as a Rich table: a row per binding in file order."""
    from rich.table import Table
    from rich.text import Text

    model = report.model
    target = report.target.name
    table = Table(title=Text.assemble((file_label, "bold"), f"  target {target} = ",
                                      (fmt_array(report.values[target]), "bold"),
                                      f"  ({model.dtype})"),
                  title_justify="left", header_style="bold")
    table.add_column("name", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("expr", overflow="fold")
    table.add_column("shape", no_wrap=True)
    table.add_column("value", justify="right")
    table.add_column(f"∂{target}/∂·", justify="right")
    for b in model.bindings:
        if wrt is not None and b.name not in wrt:
            continue
        value = report.values[b.name]
        table.add_row(Text(b.name, style="bold"), Text(b.kind, style=_KIND_STYLE[b.kind]),
                      Text(b.expr), fmt_shape_short(value.shape),
                      Text(fmt_array(value)), Text(fmt_array(report.grads[b.name]),
                                                   style="green"))
    console.print(table)
