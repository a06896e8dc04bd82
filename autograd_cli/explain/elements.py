"""Elements of bindings for `explain`: reading --wrt, and the index
arithmetic that follows one element through broadcasting, indexing and
reshaping."""

from __future__ import annotations

import math
import re

from ..errors import ExprError
from ..shapes import fmt_shape

_WRT = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[(.*)\])?\s*\Z", re.S)
_INT = re.compile(r"[+-]?\d+")


def _shape_text(shape) -> str:
    return fmt_shape(tuple(shape))


def parse_wrt(model, wrt: str):
    """(binding index, element index tuple) for a --wrt argument."""
    m = _WRT.match(wrt)
    if m is None:
        raise ExprError(
            f"--wrt {wrt}: expected a name, or one element of it such as w[0] or W[1, -1]"
        )
    name, inside = m.groups()
    b = model.binding(name, "--wrt")
    k = model.bindings.index(b)
    shape = tuple(model.shapes[b.node])
    size = math.prod(shape)
    if inside is None:
        if size == 1:
            return k, (0,) * len(shape)
        if size == 0:
            raise ExprError(
                f"--wrt {name}: '{name}' has no elements (shape "
                f"{_shape_text(shape)}): there is no gradient to explain"
            )
        first = ", ".join("0" for _ in shape)
        raise ExprError(
            f"--wrt {name}: '{name}' has {size:,} elements (shape "
            f"{_shape_text(shape)}); explain derives one gradient at a time: "
            f"pick an element, e.g. --wrt '{name}[{first}]'"
        )
    parts = [p.strip() for p in inside.split(",")]
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # a trailing comma, as Python allows
    if not all(_INT.fullmatch(p) for p in parts):
        raise ExprError(
            f"--wrt {wrt}: an element is selected with integer indices, "
            f"as in {name}[0] or {name}[1, -1]"
        )
    if not shape:
        raise ExprError(
            f"--wrt {wrt}: '{name}' is a scalar (shape ()); write --wrt {name}, without an index"
        )
    if len(parts) != len(shape):
        n = len(shape)
        raise ExprError(
            f"--wrt {wrt}: '{name}' has shape {_shape_text(shape)}, so an "
            f"element takes {n} ind{'ex' if n == 1 else 'ices'}; got {len(parts)}"
        )
    idx = []
    for d, (p, n) in enumerate(zip(parts, shape)):
        i = int(p)
        if not -n <= i < n:
            where = f"'{name}'" if len(shape) == 1 else f"dimension {d} of '{name}'"
            raise ExprError(
                f"--wrt {wrt}: index {i} is out of range for {where} "
                f"(size {n}, shape {_shape_text(shape)})"
            )
        idx.append(i % n)
    return k, tuple(idx)


def flat_index(idx, shape) -> int:
    """The flat (C-order) position of element `idx` of an array of `shape`."""
    f = 0
    for i, n in zip(idx, shape):
        f = f * n + i
    return f


def unflat_index(f, shape) -> tuple:
    """The element at flat (C-order) position `f` of an array of `shape`."""
    out = []
    for n in reversed(shape):
        f, i = divmod(f, n) if n else (f, 0)
        out.append(i)
    return tuple(reversed(out))


def index_text(idx) -> str:
    """An element's indices as written between brackets: ``1, 0``."""
    return ", ".join(map(str, idx))


def broadcast_index(idx, out_shape, in_shape) -> tuple:
    """The element of an operand of shape `in_shape` that element `idx` of a
    broadcast result of shape `out_shape` reads."""
    lead = len(out_shape) - len(in_shape)
    return tuple(0 if d == 1 else idx[lead + k] for k, d in enumerate(in_shape))


def index_source(idx, key, in_shape) -> tuple:
    """The element of x that element `idx` of x[key] is (constant key of ints
    and slices, as the compiler stores it)."""
    out, k = [], 0
    for d, s in enumerate(key):
        if isinstance(s, slice):
            start, _, step = s.indices(in_shape[d])
            out.append(start + step * idx[k])
            k += 1
        else:
            out.append(s % in_shape[d])
    out.extend(idx[k:])
    return tuple(out)
