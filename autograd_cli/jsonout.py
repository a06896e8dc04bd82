"""Reports as JSON (strict RFC 8259): documents as dicts, and eval's and
graph's written in pieces without building the whole document."""

from __future__ import annotations

import math

import numpy as np

# The version of the layout of every JSON document the commands print (eval's
# and the others', which start as it does, and test's report), and so of a
# golden file, which is eval's.
SCHEMA = 1


def json_number(x):
    """A float for JSON: non-finite numbers become "nan", "inf", "-inf"."""
    if math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def json_array(a):
    """A scalar as a number, a tensor as nested lists (values exact, as
    numpy's ``tolist`` gives them)."""
    a = np.asarray(a)
    if a.ndim == 0:
        return json_number(float(a))
    if np.isfinite(a).all():
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
    return _report_frame(report, file_label, nodes)


def _report_frame(report, file_label: str, nodes: dict) -> dict:
    return {
        **head_dict(report.model, file_label, report.target.name),
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
    if w.index is not None:  # of the first bad element: [] for a scalar
        d["index"] = list(w.index)
    return d


_encoders = None


def encoder(compact: bool):
    """The JSON encoder of the readable layout, or of JSON Lines: one each
    for the whole output (json.dumps with options makes a new one per call),
    made when first needed (the table never needs them)."""
    global _encoders
    if _encoders is None:
        import json

        _encoders = (
            json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(", ", ": ")).encode,
            json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode,
        )
    return _encoders[compact]


def head_dict(model, file_label: str, target: str) -> dict:
    """The keys every command's JSON starts with; `set` (the values --set and
    --set-json gave, by name) only where there were some, so that the
    document says how to make it again."""
    head = {"schema": SCHEMA, "file": file_label, "target": target, "dtype": model.dtype}
    if model.sets:
        head["set"] = {name: json_array(v) for name, v in model.sets.items()}
    return head


def _line_each(value) -> bool:
    """Whether a top-level value gets a line for each of its entries in the
    readable layout: an object (entries by name: nodes, blocks, ...) or a
    list of objects (warnings, files), not empty; numbers, strings and
    arrays stay on one line."""
    if isinstance(value, dict):
        return bool(value)
    return isinstance(value, list) and bool(value) and isinstance(value[0], dict)


def to_json(doc: dict, compact: bool) -> str:
    """One line (JSON Lines) when `compact`; otherwise the layout of the
    spec: a key per line, and one line per node."""
    if compact:
        return encoder(True)(doc)
    _dumps = encoder(False)
    lines = ["{"]
    items = list(doc.items())
    for k, (key, value) in enumerate(items):
        comma = "," if k < len(items) - 1 else ""
        if _line_each(value):
            is_dict = isinstance(value, dict)
            inner = list(value.items()) if is_dict else list(enumerate(value))
            open_, close = ("{", "}") if is_dict else ("[", "]")
            lines.append(f"  {_dumps(key)}: {open_}")
            for j, (name, entry) in enumerate(inner):
                sep = "," if j < len(inner) - 1 else ""
                head = f"{_dumps(name)}: " if is_dict else ""
                lines.append(f"    {head}{_dumps(entry)}{sep}")
            lines.append(f"  {close}{comma}")
        else:
            lines.append(f"  {_dumps(key)}: {_dumps(value)}{comma}")
    lines.append("}")
    return "\n".join(lines)


def report_json(report, file_label: str, wrt=None, compact=False):
    """``to_json(report_dict(report, file_label, wrt), compact)``, in pieces
    and without building the document: a file of 10^5 bindings makes 10^5
    lines, and a scalar's line is written straight from its two floats; an
    array of more than `STREAM_ELEMENTS` elements is written a block of rows
    at a time (`json_array_pieces`), so its text is never whole in memory."""
    doc = _report_frame(report, file_label, {})  # all but the nodes
    model = report.model
    values, grads = report.values, report.grads
    encode = encoder(compact)
    if compact:
        entry = '{{"kind":"{}","expr":{},"shape":[],"value":{},"grad":{}}}'
        opening = '{{"kind":"{}","expr":{},"shape":{},"value":'
        middle = ',"grad":'
        sep, colon = ",", ":"
    else:
        entry = '{{"kind": "{}", "expr": {}, "shape": [], "value": {}, "grad": {}}}'
        opening = '{{"kind": "{}", "expr": {}, "shape": {}, "value": '
        middle = ', "grad": '
        sep, colon = ",\n    ", ": "

    if compact:
        text = to_json(doc, compact=True)
        at = text.index('"nodes":{}') + len('"nodes":{')
    else:
        text = to_json(doc, compact=False)
        at = text.index('\n  "nodes": {}') + len('\n  "nodes": {')
    yield text[:at]

    # Entries are gathered into pieces of at most 4,096 entries, or about
    # PIECE_CHARS characters once a large array has been written into one.
    piece, size = [], 0
    first = True
    for b in model.bindings:
        name = b.name
        if wrt is not None and name not in wrt:
            continue
        v, g = values[name], grads[name]
        if first:
            if not compact:
                piece.append("\n    ")
            first = False
        else:
            piece.append(sep)
        if type(v) is np.float64 and type(g) is np.float64:
            piece.append(
                f"{encode(name)}{colon}"
                f"{entry.format(b.kind, encode(b.expr), _json_float(v), _json_float(g))}"
            )
        elif _cells(v) <= STREAM_ELEMENTS and _cells(g) <= STREAM_ELEMENTS:
            text_part = f"{encode(name)}{colon}" + encode(
                {
                    "kind": b.kind,
                    "expr": b.expr,
                    "shape": list(v.shape),
                    "value": json_array(v),
                    "grad": json_array(g),
                }
            )
            piece.append(text_part)
            size += len(text_part)
        else:
            piece.append(
                f"{encode(name)}{colon}"
                f"{opening.format(b.kind, encode(b.expr), encode(list(v.shape)))}"
            )
            for second, array in enumerate((v, g)):
                if second:
                    piece.append(middle)
                for text_part in json_array_pieces(array, compact, STREAM_ELEMENTS):
                    piece.append(text_part)
                    size += len(text_part)
                    if size >= PIECE_CHARS:
                        yield "".join(piece)
                        piece, size = [], 0
            piece.append("}")
        if len(piece) >= 8192 or size >= PIECE_CHARS:  # 8,192: 4,096 entries and seps
            yield "".join(piece)
            piece, size = [], 0
    if piece:
        yield "".join(piece)
    if not first and not compact:
        yield "\n  "
    yield text[at:]


STREAM_ELEMENTS = 1 << 14  # arrays larger than this are written in blocks of this size
PIECE_CHARS = 1 << 18  # characters of JSON gathered before they are written


def json_array_pieces(a, compact: bool, block: int):
    """``encode(json_array(a))``, in pieces of at most `block` elements each
    (as JSON: nested lists, the shortest repr of each number, "nan", "inf"
    and "-inf" as strings, separators as the layout has them), without the
    whole array as Python objects or as one string.

    The array is cut along one axis `q` into slabs of whole sub-arrays
    (``a[i0, ..., i(q-1), r0:r1]``) of at most `block` cells; each slab's
    text is the JSON encoder's, and the brackets between slabs follow from
    how the leading index ``(i0, ..., i(q-1))`` moves on.
    The cells of an empty array are the ``[]`` at its first zero dimension.
    """
    a = np.asarray(a)
    shape = a.shape
    k = shape.index(0) if a.size == 0 else a.ndim  # the cells' axes: shape[:k]
    outer = shape[:k]
    encode = encoder(compact)
    if _product(outer) <= block:
        yield encode(json_array(a))
        return
    sep = "," if compact else ", "
    # j: the first axis from which a sub-array a[i0, ..., i(j-1)] has at
    # most `block` cells (j >= 1: the whole has more); slabs are cut along
    # the axis before it.
    inner, j = 1, k
    while inner * outer[j - 1] <= block:
        j -= 1
        inner *= outer[j]
    q = j - 1
    rows = max(1, block // inner)
    leading = outer[:q]
    yield "[" * (q + 1)
    index = [0] * q
    started = False
    while True:
        for r0 in range(0, outer[q], rows):
            if started:
                yield sep
            started = True
            slab = a[tuple(index) + (slice(r0, r0 + rows),)]
            yield encode(json_array(slab))[1:-1]  # its items, without its brackets
        # The next leading index, in C order: `closed` lists end here.
        closed = 0
        for axis in range(q - 1, -1, -1):
            index[axis] += 1
            if index[axis] < leading[axis]:
                break
            index[axis] = 0
            closed += 1
        else:
            break
        yield "]" * (closed + 1) + sep + "[" * (closed + 1)
        started = False
    yield "]" * (q + 1)


def _cells(a) -> int:
    """How many numbers, or ``[]`` of an empty array, `a`'s JSON holds."""
    shape = np.shape(a)
    return _product(shape[: shape.index(0)] if 0 in shape else shape)


def _product(dims) -> int:
    n = 1
    for d in dims:
        n *= d
    return n


def _json_float(x) -> str:
    if math.isfinite(x):
        return float.__repr__(x)
    return '"nan"' if math.isnan(x) else ('"inf"' if x > 0 else '"-inf"')
