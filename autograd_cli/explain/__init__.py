"""`explain`: the chain-rule derivation of one gradient, as a person writes it.

`explain(report, wrt)` derives the target's gradient with respect to one
name, or one element of it, as a JSON-ready dict; `render_explain` writes it
as text::

    ∂L/∂w[0] = ∂L/∂c|local · ∂c/∂b1|local · ∂b1/∂w[0]|local = (−1) · w[3] · a1 = ...

The modules, each with one job (docs/how-it-works.md tells the whole story):

- `paths`: the numbers: the paths through the named bindings, or the
  reverse sweep where they are too many;
- `symbols`: each local derivative in symbols, read off the right side as
  written, on the light algebra of `algebra`;
- `elements`: reading --wrt, and following one element through
  broadcasting, indexing and reshaping;
- `notation`: how numbers and derivatives are written (−, ∂, |local, v̄);
- `text` and `folding`: the text, folded to the terminal's width.
"""

from .folding import INDENT
from .paths import MAX_PATHS, explain
from .text import MIN_WIDTH, render_explain, terminal_width

__all__ = ["INDENT", "MAX_PATHS", "MIN_WIDTH", "explain", "render_explain", "terminal_width"]
