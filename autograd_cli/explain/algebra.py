"""A light symbolic algebra for `explain`'s local derivatives, and the
precedence of written math.

A symbolic value (a Sym) is a sum of terms; a term is (coefficient,
numerator factors, denominator factors), each factor a (text, precedence)
pair of already written text.  Sums are flat and products are flat, so
nothing nests and writing one out needs no recursion.
"""

from __future__ import annotations

import math

from ..render import fmt_number
from .notation import MINUS

CMP, SUM, NEG, PROD, MPROD, POW, ATOM = range(7)  # PROD: * / @ in the text; MPROD: ·
# CMP: the comparisons (< == ...), looser than a sum as in the language

ZERO = ()
ONE = ((1.0, (), ()),)


def s_num(c):
    """The number `c` as a Sym."""
    return ((float(c), (), ()),) if c != 0 else ZERO


def s_text(text, prec):
    """Written text of precedence `prec` as a Sym."""
    return ((1.0, ((text, prec),), ()),)


def s_neg(a):
    """-a."""
    return tuple((-c, n, d) for c, n, d in a)


def s_add(*syms):
    """The sum of Syms, like terms collected."""
    merged = {}
    for s in syms:
        for c, n, d in s:
            merged[(n, d)] = merged.get((n, d), 0.0) + c
    return tuple((c, n, d) for (n, d), c in merged.items() if c != 0)


def s_mul(a, b):
    """a·b; a sum is written out and bracketed as one factor, so products stay flat."""
    if not a or not b:
        return ZERO
    if len(a) > 1:
        a = s_text(s_render(a)[0], SUM)
    if len(b) > 1:
        b = s_text(s_render(b)[0], SUM)
    ((ca, na, da),) = a
    ((cb, nb, db),) = b
    return ((ca * cb, na + nb, da + db),)


def wrap(text, prec, below):
    """`text` in brackets if it binds less tightly than `below`."""
    return f"({text})" if prec < below else text


def _render_term(c, nums, dens):
    """A term with coefficient c >= 0: (text, precedence).  Whole-number
    denominators fold into the coefficient: 2·(a − b)/4 is (a − b)/2."""
    dens = list(dens)
    whole = [int(t) for t, _ in dens if t.isdigit()]
    if whole and float(c).is_integer():
        top, bottom = int(c), math.prod(whole)
        g = math.gcd(top, bottom)
        c = top // g
        dens = [(t, p) for t, p in dens if not t.isdigit()]
        if bottom // g != 1:
            dens.append((str(bottom // g), ATOM))
    factors = list(nums)
    if c != 1 or not factors:
        factors.insert(0, (fmt_number(c), ATOM))
    if len(factors) == 1 and not dens:
        return factors[0]
    if len(factors) == 1:
        body, prec = wrap(*factors[0], MPROD), factors[0][1]
        prec = ATOM if prec < MPROD else prec
    else:
        body = "·".join(wrap(t, p, MPROD) for t, p in factors)
        prec = MPROD
    if not dens:
        return body, prec
    if len(dens) > 1:
        den = "(" + "·".join(wrap(t, p, MPROD) for t, p in dens) + ")"
    else:  # one pair of brackets at most: 1/(1 + x), not 1/((1 + x))
        den = wrap(*dens[0], POW)
    return f"{body}/{den}", PROD


def s_render(sym):
    """(text, precedence) of a Sym."""
    if not sym:
        return "0", ATOM
    parts = []
    for k, (c, nums, dens) in enumerate(sym):
        text, prec = _render_term(abs(c), nums, dens)
        if len(sym) > 1:  # a comparison as a term: (x < y) + 1
            text = wrap(text, prec, SUM)
        if k == 0:
            parts.append(f"-{wrap(text, prec, PROD)}" if c < 0 else text)
        elif c < 0:
            parts.append(f" - {wrap(text, prec, PROD)}")
        else:
            parts.append(f" + {text}")
    if len(sym) > 1:
        return "".join(parts), SUM
    c = sym[0][0]
    return parts[0], (NEG if c < 0 else prec)


def balanced(text) -> bool:
    """Whether text is wholly enclosed by its first bracket pair."""
    if not text or text[0] not in "([" or text[-1] not in ")]":
        return False
    depth = 0
    for k, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth == 0 and k != len(text) - 1:
                return False
    return True


def classify(text) -> int:
    """The precedence of a piece of written math (parentheses respected)."""
    text = text.strip()
    if not text or balanced(text):
        return ATOM
    found = set()
    depth = 0
    for k, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0:
            if ch in "+-" + MINUS and 0 < k and text[k - 1] == " ":
                found.add(SUM)
            elif ch == "*":
                found.add(POW if text[k - 1 : k + 1] == "**" or text[k : k + 2] == "**" else PROD)
            elif ch in "/@":
                found.add(PROD)
            elif ch == "·":
                found.add(MPROD)
            elif ch in "^²":
                found.add(POW)
            elif ch in "<>" or text[k : k + 2] in ("==", "!="):
                found.add(CMP)
    if CMP in found:
        return CMP
    if SUM in found:
        return SUM
    if text[0] in "-+" + MINUS:
        return NEG
    for p in (PROD, MPROD, POW):
        if p in found:
            return p
    return ATOM
