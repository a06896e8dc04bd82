"""Folding `explain`'s text to the terminal's width: a derivation breaks
before the operators between its factors, prose between words, so that a
long chain reads as lines of the screen's width rather than as one line
thousands of characters long."""

from __future__ import annotations

import bisect
import unicodedata

INDENT = "    "  # before each continuation of a folded line

_OPERATORS = "=·+−-*/@×"


def cells(ch) -> int:
    """The columns a character takes on a terminal."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def fold(line, width, prose=False) -> list:
    """`line` as lines of at most `width` columns, the later ones indented
    by INDENT (`width` must exceed it).

    A break replaces one space, so joining the lines with a space where
    each continuation's INDENT was gives `line` back.  A derivation breaks
    before an `=`, else before another operator between factors (outside
    brackets), where that keeps the line at least half full; else before any
    operator; else at any space.  Prose breaks between words, keeping
    `v̄ = ∂L/∂v` together where it can.  A word wider than a whole line is cut where
    the width runs out.
    """
    cum = [0]
    for ch in line:
        cum.append(cum[-1] + cells(ch))
    if cum[-1] <= width:
        return [line]
    equals, top, ops, words, spaces = [], [], [], [], []
    depth = 0
    last = len(line) - 1
    for p, ch in enumerate(line):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == " " and 0 < p < last:
            spaces.append(p)
            if line[p - 1] not in _OPERATORS and line[p + 1] not in _OPERATORS:
                words.append(p)
            if not prose and line[p + 1] in _OPERATORS and (p + 2 > last or line[p + 2] == " "):
                ops.append(p)
                if depth == 0:
                    top.append(p)
                    if line[p + 1] == "=":
                        equals.append(p)
    tiers = [words, spaces] if prose else [equals, top, ops, spaces]
    out, s, room = [], 0, width
    while cum[-1] - cum[s] > room:
        e = bisect.bisect_right(cum, cum[s] + room) - 1  # line[s:e] fits
        cut = None
        for t, candidates in enumerate(tiers):
            k = bisect.bisect_right(candidates, e) - 1
            if (
                k >= 0
                and candidates[k] > s
                and (t == len(tiers) - 1 or 2 * (cum[candidates[k]] - cum[s]) >= room)
            ):
                cut = candidates[k]
                break
        if cut is None:
            e = max(e, s + 1)
            while e > s + 1 and unicodedata.combining(line[e]):
                e -= 1  # keep a mark with its letter
            out.append(line[s:e])
            s = e
        else:
            out.append(line[s:cut])
            s = cut + 1
        room = width - len(INDENT)
    out.append(line[s:])
    return out[:1] + [INDENT + piece for piece in out[1:]]
