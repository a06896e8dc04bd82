"""The computational graph as a picture: DOT, Mermaid, a terminal tree, JSON.

`autograd-cli graph FILE` draws the graph that `run` evaluated and
backpropagated through, like micrograd's ``draw_dot``: one node per named
binding and per operation, edges in the direction data flows (from an
argument to the operation that uses it), every node labelled with its name
or operation, shape, value and gradient.

    graph_document(report) -> dict      the "graph" field of the JSON:
                                        {"nodes": [...], "edges": [...]}
    graph_json(report, head, compact)   the whole JSON output, in pieces
    to_dot(report) -> str               Graphviz: ``... | dot -Tsvg > g.svg``
    to_mermaid(report) -> str           a ``flowchart LR`` for Markdown

and, in graph_tree.py, ``render_tree(report, console)``: a tree in the
terminal, as Rich's Tree prints it.

Which nodes are shown.  Every graph node, except constants that no operation
uses: the literal right side of an input or param (``w = [2, 5, 9, 7, 3]``:
the leaf ``w`` stands for it, and the numbers inside the list are folded into
it) and folded intermediates (index literals, shape arguments, the ``2`` of a
folded ``2 * pi``).  In short: a CONST node is shown when some non-leaf node
uses it.  A param whose right side uses other names keeps its edge from that
computation (drawn dashed in DOT: the value flows in, no gradient flows
back).  There is one edge per argument slot, so ``x * x`` has two edges from
``x``; edges are listed by consumer, in argument order, so every edge goes
from an earlier node to a later one.

Ids and labels.  A binding's node has the binding's name as its id; any
other node ``n<k>``, with ``k`` its index in the graph (``n17``; should a
binding be called ``n17`` itself, underscores are appended until the id is
unique).  Labels: a param or input is its name; a computed binding is
``name = op`` (``b1 = add``; an alias ``y = x`` keeps that form); an
anonymous operation is the function or operator as written (``mul``, ``dot``,
``list``, ``sum(axis=1)``), an index shows its subscript (``w[0]``,
``x[1:3, ::2]``); a constant is its value.  Values and gradients in DOT,
Mermaid and the tree are rounded as in the table (6 significant digits,
tensors over 24 elements summarised); the JSON has every digit.  A node the
target does not depend on has gradient 0.  In DOT, a node's tooltip is where
it is written (``line:column``) and its source text, cut in the middle past
`TOOLTIP_WIDTH` characters: so every label and tooltip has a bounded length
and the output grows linearly with the file.

Deep graphs.  Nothing here recurses over the graph: node selection, ids and
edges are loops over the topological order, and the tree is walked with an
explicit stack.  The tree's lines are those of a Rich Tree, written
directly; every level indents by 4 columns, so a chain 20,000 deep could
not be printed legibly (and would be quadratic in size).  So the tree is cut into sections: a node
at depth `max_depth` whose arguments have arguments of their own is shown
as ``↓ name (continued below)``, and is the root of a further section
printed after this one.  `max_depth` is by default (width - 40) / 4 for the
console's width, so labels keep 40 columns or more, and 4 to 64.  Each
node's full label is printed exactly once; a node reached again is shown as
``↑ name`` (or ``↓ name`` if its section comes later), so the output is
linear in the size of the graph.  The tree holds only what the target
depends on; a last line counts the nodes left out.  Mermaid itself refuses
diagrams over its ``maxTextSize`` (50,000 characters) or ``maxEdges`` (500)
by default, limits a diagram cannot raise for itself, so large graphs are
better drawn with DOT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .core import CONST
from .jsonout import json_array
from .ops import OPS
from .render import fmt_array, fmt_shape_short

# Styles by kind of node: DOT (fill, border) and Mermaid classDefs share them.
_COLORS = {
    "param": ("#f6e1fa", "#8e44ad"),
    "input": ("#dff4f9", "#1b8aa5"),
    "node": ("#fff6d5", "#b58900"),
    "op": ("#f2f2f2", "#888888"),
    "const": ("#ffffff", "#aaaaaa"),
}
# Ops whose argument order does not matter: their edges carry no position.
_SYMMETRIC = {op.name for op in OPS.values() if op.symmetric}


# ----------------------------------------------------------------- the view


@dataclass
class View:
    """What every format draws: the shown nodes, their ids, labels and edges."""

    report: object
    shown: list  # graph node ids, in topological order
    ids: dict  # graph node id -> display id
    labels: dict  # graph node id -> label (one line)
    kinds: dict  # graph node id -> 'param', 'input', 'node', 'op' or 'const'
    edges: list  # (from graph id, to graph id, argument position)

    def value(self, i):
        """Node i's value."""
        return self.report.node_values[i]

    def grad(self, i):
        """Node i's gradient (zeros where the target does not depend on it)."""
        g = self.report.node_grads[i]
        return np.zeros_like(self.report.node_values[i]) if g is None else g

    def op(self, i):
        """The name of node i's op."""
        return self.report.model.graph.ops[i].name


def view(report) -> View:
    """What every format draws of the report's graph (see the module docstring)."""
    model = report.model
    graph = model.graph
    ops, args = graph.ops, graph.args
    n = len(ops)

    # A constant is shown when a non-leaf node uses it.
    used = [False] * n
    for i in range(n):
        if not ops[i].is_leaf:
            for a in args[i]:
                used[a] = True
    shown = [i for i in range(n) if ops[i] is not CONST or used[i]]
    is_shown = [False] * n
    for i in shown:
        is_shown[i] = True

    named = {}
    for b in model.bindings:
        named.setdefault(b.node, b)
    taken = set(b.name for b in model.bindings)
    ids = {}
    for i in shown:
        b = named.get(i)
        if b is not None:
            ids[i] = b.name
        else:
            candidate = f"n{i}"
            while candidate in taken:
                candidate += "_"
            taken.add(candidate)
            ids[i] = candidate

    labels, kinds = {}, {}
    values = report.node_values
    for i in shown:
        b = named.get(i)
        if ops[i] is CONST:
            kinds[i] = "const"
            labels[i] = one_line(fmt_array(values[i]))
        elif b is not None and b.kind != "node":
            kinds[i] = b.kind
            labels[i] = b.name
        else:
            if b is not None and ops[i].name == "pos" and b.statement.root.kind == "name":
                what = b.statement.root.data  # an alias: y = x
            else:
                what = _op_label(model, i, named)
            kinds[i] = "op" if b is None else "node"
            labels[i] = what if b is None else f"{b.name} = {what}"

    edges = []
    for i in shown:
        for k, a in enumerate(args[i]):
            if is_shown[a]:
                edges.append((a, i, k))
    return View(report, shown, ids, labels, kinds, edges)


def _op_label(model, i, named) -> str:
    graph = model.graph
    op = graph.ops[i].name
    attrs = graph.attrs[i] or {}
    if op == "index":
        sub = "[" + fmt_key(attrs.get("key", ())) + "]"
        b = named.get(graph.args[i][0])
        return b.name + sub if b is not None else "index " + sub
    label = model.labels[i]
    axis = attrs.get("axis")
    if axis is not None:
        label += f"(axis={axis})"
    return label


def fmt_key(key) -> str:
    """An index key as written: ``0``, ``1:3``, ``::2``, ``:, 0``."""
    if not isinstance(key, tuple):
        key = (key,)
    parts = []
    for k in key:
        if isinstance(k, slice):
            text = (
                ("" if k.start is None else str(k.start))
                + ":"
                + ("" if k.stop is None else str(k.stop))
            )
            if k.step is not None:
                text += ":" + str(k.step)
            parts.append(text)
        elif k is None:
            parts.append("None")
        elif k is Ellipsis:
            parts.append("...")
        else:
            parts.append(str(k))
    return ", ".join(parts)


_SPACES = re.compile(r"\s*\n\s*")


def one_line(text: str) -> str:
    """A multi-line array (a matrix) on one line."""
    return _SPACES.sub(" ", text.strip())


# --------------------------------------------------------------------- JSON


def graph_document(report) -> dict:
    """The graph as JSON-ready data (the ``"graph"`` field of the JSON output, docs/json.md)."""
    v = view(report)
    nodes = []
    for i in v.shown:
        value, grad = v.value(i), v.grad(i)
        entry = _node_entry(v, i, value)
        entry["value"], entry["grad"] = json_array(value), json_array(grad)
        nodes.append(entry)
    edges = [[v.ids[a], v.ids[i]] for a, i, _ in v.edges]
    return {"nodes": nodes, "edges": edges}


def _node_entry(v, i, value) -> dict:
    """A node's entry in the JSON, but for its value and gradient."""
    return {"id": v.ids[i], "label": v.labels[i], "op": v.op(i), "shape": list(np.shape(value))}


_PIECE_ENTRIES = 4096  # nodes or edges gathered before they are written


def graph_json(report, head: dict, compact: bool):
    """``to_json({**head, "graph": graph_document(report)}, compact)``, in
    pieces and without building the document, as eval's JSON is written: a
    few thousand nodes or edges at a time, and an array of more than
    `STREAM_ELEMENTS` elements a block of rows at a time."""
    from .jsonout import PIECE_CHARS, STREAM_ELEMENTS, encoder, json_array_pieces, to_json

    encode = encoder(compact)
    sep, colon = (",", ":") if compact else (", ", ": ")
    frame = to_json({**head, "graph": {"nodes": [], "edges": []}}, compact)
    # "graph" is the last key, so its two empty lists are the last of their kind.
    nodes_at = frame.rindex(f'"nodes"{colon}[]') + len(f'"nodes"{colon}[')
    edges_at = frame.rindex(f'"edges"{colon}[]') + len(f'"edges"{colon}[')
    v = view(report)
    yield frame[:nodes_at]
    # Small nodes are encoded a batch at a time (a list's items, without its
    # brackets, are the entries with the separators between them).
    batch, first = [], True
    for i in v.shown:
        value, grad = v.value(i), v.grad(i)
        entry = _node_entry(v, i, value)
        if np.size(value) <= STREAM_ELEMENTS and np.size(grad) <= STREAM_ELEMENTS:
            entry["value"], entry["grad"] = json_array(value), json_array(grad)
            batch.append(entry)
            if len(batch) >= _PIECE_ENTRIES:
                yield ("" if first else sep) + encode(batch)[1:-1]
                batch, first = [], False
            continue
        if batch:
            yield ("" if first else sep) + encode(batch)[1:-1]
            batch, first = [], False
        opening = encode(entry)[:-1]  # without its closing brace
        piece, size = [("" if first else sep) + opening + f'{sep}"value"{colon}'], 0
        first = False
        for second, array in enumerate((value, grad)):
            if second:
                piece.append(f'{sep}"grad"{colon}')
            for text in json_array_pieces(array, compact, STREAM_ELEMENTS):
                piece.append(text)
                size += len(text)
                if size >= PIECE_CHARS:
                    yield "".join(piece)
                    piece, size = [], 0
        yield "".join(piece) + "}"
    if batch:
        yield ("" if first else sep) + encode(batch)[1:-1]
    yield frame[nodes_at:edges_at]
    ids = v.ids
    edges = v.edges
    for k in range(0, len(edges), _PIECE_ENTRIES):
        yield ("" if k == 0 else sep) + encode(
            [[ids[a], ids[i]] for a, i, _ in edges[k : k + _PIECE_ENTRIES]]
        )[1:-1]
    yield frame[edges_at:]


# ---------------------------------------------------------------------- DOT


def _html(text: str) -> str:
    """Text for a Graphviz HTML-like label: entities escaped, lines broken."""
    text = (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )
    return "<BR/>".join(text.split("\n"))


def _quoted(text: str) -> str:
    """A DOT double-quoted string (an id, a tooltip)."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\r", "").replace("\n", "\\n") + '"'


TOOLTIP_WIDTH = 80  # characters of source text in a node's tooltip, at most


def _excerpt(span, width: int = TOOLTIP_WIDTH) -> str:
    """The source text of `span`, its middle cut to `width` characters: an
    operator's span holds all of its operands, so in a long sum a tooltip
    quoting each one whole would make the output quadratic in the file's
    length (hence also no slice of the whole span is made)."""
    text, start, end = span.source.text, span.start, span.end
    if end - start <= width:
        return text[start:end]
    head = (width - 1) * 2 // 3
    tail = width - 1 - head
    return f"{text[start : start + head]}…{text[end - tail : end]}"


def to_dot(report) -> str:
    """The graph in Graphviz DOT: ``autograd-cli graph f.expr | dot -Tsvg``."""
    v = view(report)
    model = report.model
    target = report.target
    title = (
        f"{model.source.name}: target {target.name} = "
        f"{one_line(fmt_array(report.values[target.name]))} ({model.dtype}); "
        f"grad = ∂{target.name}/∂node"
    )
    out = [
        "digraph autograd {",
        f'  graph [rankdir=LR, fontname="Helvetica", fontsize=12, labelloc=t, '
        f"labeljust=l, label=<{_html(title)}>];",
        '  node [shape=plain, fontname="Helvetica", fontsize=11];',
        '  edge [color="#666666", arrowsize=0.7, fontname="Helvetica", fontsize=9, '
        'fontcolor="#666666"];',
    ]
    target_node = target.node
    spans = model.spans
    for i in v.shown:
        kind = v.kinds[i]
        fill, line = _COLORS[kind]
        value = v.value(i)
        shape = _html(fmt_shape_short(np.shape(value)))
        border = 3 if i == target_node else 1
        style = ' STYLE="ROUNDED"' if kind == "op" else ""
        head = (
            f'<TABLE BORDER="{border}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
            f'BGCOLOR="{fill}" COLOR="{line}"{style}>'
        )
        if kind == "const":
            rows = [
                f'<TR><TD BALIGN="LEFT">{_html(fmt_array(value))}</TD>'
                f'<TD VALIGN="TOP"><FONT COLOR="#888888">{shape}</FONT></TD></TR>'
            ]
        else:
            rows = [
                f'<TR><TD ALIGN="LEFT" COLSPAN="2"><B>{_html(v.labels[i])}</B>  '
                f'<FONT COLOR="#888888">{shape}</FONT></TD></TR>',
                f'<TR><TD ALIGN="LEFT" VALIGN="TOP"><FONT COLOR="#888888">value</FONT></TD>'
                f'<TD ALIGN="LEFT" BALIGN="LEFT">{_html(fmt_array(value))}</TD></TR>',
                f'<TR><TD ALIGN="LEFT" VALIGN="TOP"><FONT COLOR="#888888">grad</FONT></TD>'
                f'<TD ALIGN="LEFT" BALIGN="LEFT"><FONT COLOR="#1a7f37">'
                f"{_html(fmt_array(v.grad(i)))}</FONT></TD></TR>",
            ]
        span = spans[i]
        tooltip = (
            f"{span.line}:{span.column}: {_excerpt(span)}" if span is not None else v.labels[i]
        )
        out.append(
            f"  {_quoted(v.ids[i])} [label=<{head}{''.join(rows)}</TABLE>>, "
            f"tooltip={_quoted(tooltip)}];"
        )
    ops, args = model.graph.ops, model.graph.args
    for a, i, k in v.edges:
        attrs = []
        if ops[i].is_leaf:
            attrs.append(
                'style=dashed, tooltip="no gradient flows back into a param\'s right side"'
            )
        elif len(args[i]) > 1 and ops[i].name not in _SYMMETRIC:
            attrs.append(f'label="{k + 1}"')
        extra = f" [{', '.join(attrs)}]" if attrs else ""
        out.append(f"  {_quoted(v.ids[a])} -> {_quoted(v.ids[i])}{extra};")
    out.append("}")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ Mermaid

# Characters Mermaid would read as syntax or HTML inside a quoted label; they
# are written as its entity codes (#35; is '#', decoded as &#35;).
_MERMAID_ESCAPES = {c: f"#{ord(c)};" for c in '"#&<>:;`'}
_MERMAID_SHAPES = {
    "param": ('[["', '"]]'),
    "input": ('["', '"]'),
    "node": ('["', '"]'),
    "op": ('("', '")'),
    "const": ('(["', '"])'),
}


def _mermaid_text(text: str) -> str:
    return "".join(_MERMAID_ESCAPES.get(c, c) for c in text)


def _mermaid_id(node_id: str) -> str:
    # A fixed prefix keeps ids clear of Mermaid's keywords (end, class, style,
    # ...) and of the o/x edge endings, and is one-to-one.
    return "v_" + node_id


def to_mermaid(report) -> str:
    """The graph as a Mermaid ``flowchart LR``, to paste into Markdown."""
    v = view(report)
    out = ["flowchart LR"]
    for kind, (fill, line) in _COLORS.items():
        out.append(f"  classDef {kind} fill:{fill},stroke:{line},color:#000000")
    target_node = report.target.node
    for i in v.shown:
        kind = v.kinds[i]
        value = v.value(i)
        shape = fmt_shape_short(np.shape(value))
        if kind == "const":
            lines = [fmt_array(value) + "  " + shape]
        else:
            lines = [
                f"{v.labels[i]}  {shape}",
                "value " + fmt_array(value),
                "grad " + fmt_array(v.grad(i)),
            ]
        text = "<br>".join(_mermaid_text(part) for line in lines for part in line.split("\n"))
        opening, closing = _MERMAID_SHAPES[kind]
        out.append(f"  {_mermaid_id(v.ids[i])}{opening}{text}{closing}:::{kind}")
    for a, i, _ in v.edges:
        out.append(f"  {_mermaid_id(v.ids[a])} --> {_mermaid_id(v.ids[i])}")
    if target_node in v.ids:
        out.append(f"  style {_mermaid_id(v.ids[target_node])} stroke-width:3px")
    return "\n".join(out) + "\n"
