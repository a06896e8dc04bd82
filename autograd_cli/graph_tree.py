"""`graph --format tree`: the graph as a tree in the terminal, rooted at the
target, a node's children its arguments (see graphs.py's module docstring
for which nodes are shown, and how shared and deep nodes are drawn).
"""

from __future__ import annotations

import numpy as np

from .graphs import View, one_line, view
from .render import fmt_array, fmt_shape_short

MAX_TREE_DEPTH = 64  # the most levels of one tree section, whatever the width

_RICH_STYLE = {
    "param": "bold magenta",
    "input": "bold cyan",
    "node": "bold",
    "op": "",
    "const": "dim",
}

# The tree is written line by line, as Rich's Tree would print it (the same
# guides, wrapping and styles), without building a Tree: Rich renders each
# node's label through its whole layout machinery, a cost per node that
# dwarfs the rest of the command on a large graph.

# A line's guide for one level: Rich's Tree.TREE_GUIDES[0] and ASCII_GUIDES.
_SPACE, _CONTINUE, _FORK, _END = range(4)
_GUIDES = ("    ", "│   ", "├── ", "└── ")
_ASCII_GUIDES = ("    ", "|   ", "+-- ", "`-- ")
_GUIDE_WIDTH = 4
_FURTHER = "  (no gradient flows into its right side)"


def _tree_label(v: View, i: int) -> list:
    """A node's label as (text, style) pieces."""
    kind = v.kinds[i]
    value = v.value(i)
    if kind == "const":
        return [(one_line(fmt_array(value)), ""), ("  const", "dim")]
    out = [(v.labels[i], _RICH_STYLE[kind])]
    if kind == "op":
        out.append((f" ({v.ids[i]})", "dim"))
    out += [
        (f"  {fmt_shape_short(np.shape(value))}", "dim"),
        ("  value ", "dim"),
        (one_line(fmt_array(value)), ""),
        ("  grad ", "dim"),
        (one_line(fmt_array(v.grad(i))), "green"),
    ]
    return out


def _ref_label(v: View, i: int, arrow: str, note: str = "") -> list:
    text = f"{arrow} {v.ids[i]}"
    if v.kinds[i] == "op":
        text += f" ({v.labels[i]})"
    return [(text + note, "dim")]


def tree_depth_for(width: int) -> int:
    """The default depth of one tree section on a console `width` columns wide."""
    return max(4, min(MAX_TREE_DEPTH, (width - 40) // 4))


def tree_sections(report, max_depth: int = MAX_TREE_DEPTH):
    """The tree's sections in print order, each a list of lines (guides, label),
    guides a tuple of _SPACE, _CONTINUE, _FORK or _END, one per level below
    the section's root, and the label (text, style) pieces; and how many
    shown nodes the target does not depend on.  See graphs.py's module docstring."""
    v = view(report)
    graph = report.model.graph
    args = graph.args
    is_shown = {i: True for i in v.shown}
    children = {i: [a for a in args[i] if a in is_shown] for i in v.shown}
    # A param computed from other names: its value flows in, no gradient out.
    value_only = {i for i in v.shown if graph.ops[i].is_leaf and children[i]}
    SHOWN, DEFERRED = 1, 2
    state = {}
    sections = []
    roots = [report.target.node]
    head = 0
    while head < len(roots):
        root = roots[head]
        head += 1
        label = _tree_label(v, root)
        if head > 1:
            label.append(("  (continued)", "dim"))
        if root in value_only:
            label.append((_FURTHER, "dim"))
        lines = [((), label)]
        state[root] = SHOWN
        # (node, guides above its own, last of its siblings?, depth), children
        # pushed in reverse: preorder, the order the lines are printed in.
        stack = _pushed([], children[root], (), 1)
        while stack:
            i, above, last, depth = stack.pop()
            guides = above + ((_END if last else _FORK),)
            seen = state.get(i)
            if seen == SHOWN:
                lines.append((guides, _ref_label(v, i, "↑")))
            elif seen == DEFERRED:
                lines.append((guides, _ref_label(v, i, "↓", " (continued below)")))
            elif depth >= max_depth and any(children[c] for c in children[i]):
                # Going deeper than one more level of leaves: a new section.
                state[i] = DEFERRED
                roots.append(i)
                lines.append((guides, _ref_label(v, i, "↓", " (continued below)")))
            else:
                state[i] = SHOWN
                label = _tree_label(v, i)
                if i in value_only:
                    label.append((_FURTHER, "dim"))
                lines.append((guides, label))
                _pushed(stack, children[i], above + ((_SPACE if last else _CONTINUE),), depth + 1)
        sections.append(lines)
    left_out = len(v.shown) - len(state)
    return sections, left_out


def _pushed(stack, kids, above, depth):
    """`stack` with `kids` pushed in reverse, so that they pop in order."""
    for k in range(len(kids) - 1, -1, -1):
        stack.append((kids[k], above, k == len(kids) - 1, depth))
    return stack


class _TreeSection:
    """One tree section as a Rich renderable: the lines Rich's Tree gives
    (guide_style dim), written directly.  A label wider than what its guides
    leave of the line, or holding characters Rich would treat specially, is
    laid out by Rich itself, as the Tree does it."""

    def __init__(self, lines):
        self.lines = lines

    def __rich_console__(self, console, options):
        from rich.cells import cell_len
        from rich.segment import Segment
        from rich.style import Style
        from rich.styled import Styled
        from rich.text import Text

        guides = _ASCII_GUIDES if options.ascii_only else _GUIDES
        plain = console.color_system is None
        # What the Tree applies to its guides: its guide style, then no bold.
        guide_style = console.get_style("dim") + Style(bold=False, underline2=False)
        guide_segments = [Segment(g, guide_style) for g in guides]
        styles = {"": None}
        tree_style = console.get_style("tree")
        newline = Segment.line()
        prefixes = {}  # the guides' text, by levels
        out = []
        for levels, pieces in self.lines:
            room = options.max_width - _GUIDE_WIDTH * len(levels)
            text = "".join(t for t, _ in pieces)
            if text.isprintable() and cell_len(text) <= room:
                if plain:
                    prefix = prefixes.get(levels)
                    if prefix is None:
                        prefix = prefixes[levels] = "".join(guides[g] for g in levels)
                    out.append(Segment(prefix + text + "\n"))
                    continue
                label = []
                for t, s in pieces:
                    if s not in styles:
                        styles[s] = console.get_style(s)
                    if t:
                        label.append(Segment(t, styles[s]))
                rendered = [label]
            else:
                rich_label = Text()
                for t, s in pieces:
                    rich_label.append(t, style=s or None)
                rendered = console.render_lines(
                    Styled(rich_label, tree_style),
                    options.update(width=room, highlight=False, height=None),
                    pad=options.justify is not None,
                )
            for k, line in enumerate(rendered):
                if k == 1 and levels:  # continuation lines: no fork of their own
                    levels = levels[:-1] + ((_SPACE if levels[-1] == _END else _CONTINUE),)
                if plain:
                    out.append(
                        Segment(
                            "".join(guides[g] for g in levels)
                            + "".join(s.text for s in line)
                            + "\n"
                        )
                    )
                else:
                    out.extend(guide_segments[g] for g in levels)
                    out.extend(line)
                    out.append(newline)
        return out


def render_tree(report, console, max_depth: int | None = None):
    """Print the graph as a tree rooted at the target, children being a
    node's arguments (see graphs.py's module docstring for shared and deep nodes)."""
    from rich.text import Text

    if max_depth is None:
        max_depth = tree_depth_for(console.width)
    sections, left_out = tree_sections(report, max_depth)
    # Every line fits the width unless the guides alone reach it: then
    # the console crops, as it does for a Tree.
    crop = _GUIDE_WIDTH * (max_depth + 1) >= console.width
    for lines in sections:
        console.print(_TreeSection(lines), crop=crop)
    if left_out:
        target = report.target.name
        console.print(
            Text(
                f"({left_out} node{'s' if left_out != 1 else ''} the target "
                f"{target} does not depend on {'are' if left_out != 1 else 'is'} "
                f"not shown)",
                style="dim",
            )
        )
