"""Arguments for every op of the table: points away from kinks and ties,
shapes with broadcasting, for the tests that iterate the op table (JVPs
against VJPs, the fit's compiled step against the engine).

A support module, so that test files share cases without importing one
another.  An op added later gets cases here, or from `generic_cases` when
its shape rule says it is elementwise or broadcasting.
"""

from __future__ import annotations

import math

import numpy as np

from autograd_cli import compiler, shapes
from autograd_cli.core import OPS

from linalg_cases import CASES as LINALG_CASES

# The compiler imports every module that registers ops: the table is whole.
assert compiler


def random_array(rng, shape, lo=-2.0, hi=2.0, dtype="float64"):
    a = rng.uniform(lo, hi, size=shape).astype(dtype)
    return a[()] if shape == () else a


def _signed(rng, shape, lo, hi):
    a = rng.uniform(lo, hi, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return a[()] if shape == () else a


UNARY = [(), (4,), (3, 4)]
PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((), (3,)), ((1, 4), (3, 1)), ((2, 1, 4), (3, 1))]


def cases(rng):
    """{op name: [(arguments, attributes)]}: points away from kinks and ties
    (finite differences cannot confirm a convention), shapes with
    broadcasting."""

    def arr(shape, lo=-2.0, hi=2.0):
        return random_array(rng, shape, lo, hi)

    def pos(shape):
        return arr(shape, 0.5, 2.0)

    c = {}
    for name in ("add", "sub", "mul", "maximum", "minimum"):
        c[name] = [((arr(a), arr(b)), {}) for a, b in PAIRS]
    c["div"] = [((arr(a), _signed(rng, b, 0.5, 2.0)), {}) for a, b in PAIRS]
    c["pow"] = [((pos(a), arr(b, -1.5, 2.5)), {}) for a, b in PAIRS]
    c["matmul"] = [
        ((arr(a), arr(b)), {})
        for a, b in [((3, 4), (4,)), ((4,), (4, 2)), ((3, 4), (4, 2)), ((4,), (4,))]
    ]
    c["clip"] = [
        ((arr(x, -3.0, 3.0), arr(lo, -2.0, -0.5), arr(hi, 0.5, 2.0)), {})
        for x, lo, hi in [((3, 4), (), ()), ((3, 4), (4,), (3, 1)), ((), (), ())]
    ]
    c["where"] = [
        ((arr(a), arr(b)), {"cond": rng.random(s) < 0.5})
        for a, b, s in [((3, 4), (3, 4), (3, 4)), ((4,), (), (3, 4)), ((), (), ())]
    ]
    for name in ("neg", "pos", "exp", "tanh", "sigmoid", "sin", "cos", "softplus"):
        c[name] = [((arr(s),), {}) for s in UNARY]
    for name in ("abs", "relu"):
        c[name] = [((_signed(rng, s, 0.1, 2.0),), {}) for s in UNARY]
    for name in ("log", "log1p", "sqrt"):
        c[name] = [((pos(s),), {}) for s in UNARY]
    c["tan"] = [((arr(s, -1.0, 1.0),), {}) for s in UNARY]
    axes = [((), None), ((4,), None), ((3, 4), None), ((3, 4), 0), ((3, 4), 1), ((3, 4), -1)]
    axes += [((2, 3, 4), (0, 2)), ((2, 3, 4), -2)]
    c["sum"] = [((arr(s),), {"axis": a}) for s, a in axes]
    c["sum"] += [((arr((3, 4)),), {"axis": 1, "keepdims": True})]
    c["mean"] = [((arr(s),), {"axis": a}) for s, a in axes]
    c["logsumexp"] = [((arr(s),), {"axis": a}) for s, a in axes]
    # distinct elements: no ties (a tie's convention is tested below)
    c["max"] = c["min"] = [
        ((rng.permutation(math.prod(s)).reshape(s).astype(float) / 3.0,), {"axis": a})
        for s, a in axes
        if s
    ]
    c["norm"] = [((arr(s),), {}) for s in [(), (4,), (3, 4)]]
    for name in ("softmax", "log_softmax"):
        c[name] = [((arr(s),), {"axis": a}) for s, a in [((4,), -1), ((3, 4), 0), ((3, 4), -1)]]
    c["transpose"] = [((arr(s),), {}) for s in [(4,), (3, 4), (2, 3, 4)]]
    c["reshape"] = [((arr((3, 4)),), {"shape": s}) for s in [(4, 3), (12,), (2, -1, 3)]]
    c["broadcast_to"] = [((arr(s),), {"shape": (3, 4)}) for s in [(4,), (3, 1), ()]]
    c["index"] = [
        ((arr((3, 4)),), {"key": k})
        for k in [
            (1,),
            (slice(None), 0),
            (slice(0, 2), slice(1, None)),
            (-1, 2),
            (slice(None, None, -2),),
        ]
    ]
    c["unindex"] = [
        ((arr((2, 4)),), {"shape": (3, 4), "key": (slice(0, 2),)}),
        ((arr(()),), {"shape": (3, 4), "key": (1, 2)}),
    ]
    c["stack"] = [(tuple(arr(s) for _ in range(3)), {}) for s in [(), (4,), (2, 3)]]
    for name, args, attrs in LINALG_CASES:
        c.setdefault(name, []).append((args, attrs))
    return c


# Ranges tried for an elementwise op this file has no case for: the first
# where its forward is finite everywhere (domains such as log's or acosh's).
_RANGES = [(0.2, 0.8), (1.2, 2.0), (-2.0, 2.0), (-0.8, -0.2)]


def generic_cases(op, rng):
    """Cases for an op this file does not list, if its shape rule says it
    is elementwise (`same`) or broadcasting (`broadcast`); else None."""
    n = len(op.args)
    if op.shape is shapes.same:
        layouts = [((),), ((4,),), ((3, 4),)]
    elif op.shape is shapes.broadcast and n >= 1:
        layouts = [tuple((3, 4) for _ in range(n)), ((3, 4),) + ((4,),) * (n - 1)]
        layouts.append(((),) * n)
    else:
        return None
    for lo, hi in _RANGES:
        found = []
        for layout in layouts:
            args = tuple(random_array(rng, s, lo, hi) for s in layout)
            with np.errstate(all="ignore"):
                if not np.all(np.isfinite(op.forward(*args))):
                    break
            found.append((args, {}))
        else:
            return found
    return None


def all_cases():
    """(op name, arguments, attributes) for every op with VJPs."""
    rng = np.random.default_rng(2024)
    listed = cases(rng)
    out = []
    for name, op in sorted(OPS.items()):
        if not op.vjps:
            continue
        found = listed.get(name) or generic_cases(op, rng)
        out.append((name, found))
    return out


CASES = all_cases()
