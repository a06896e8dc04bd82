"""How `explain` writes its numbers and derivatives, in the text and in
the JSON alike: a real minus sign, ∂t/∂x for a total derivative,
∂a/∂b|local for one step of a path, v̄ for an adjoint."""

from __future__ import annotations

import unicodedata

from ..render import fmt_number

MINUS = "\u2212"
MACRON = "\u0304"


def fmt(x) -> str:
    """A number for people, with a real minus sign: −28, 0.5, 1e−07."""
    return fmt_number(float(x)).replace("-", MINUS)


def total_derivative(t, x) -> str:
    """The total derivative of t with respect to x, through every path: the
    notation of eval's column header."""
    return f"∂{t}/∂{x}"


def local_derivative(a, b) -> str:
    """The local derivative of binding a with respect to b, one step of a
    path: marked, as it differs from the total when b reaches a another way."""
    return f"∂{a}/∂{b}|local"


def adjoint(label) -> str:
    """The adjoint of a name: v̄ (a macron over the name's first letter; NFC,
    so ā is the one precomposed character where there is one)."""
    return unicodedata.normalize("NFC", label[:1] + MACRON) + label[1:]
