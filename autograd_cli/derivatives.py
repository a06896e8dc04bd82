"""The derivative drivers built on the engine's passes: first
derivatives of a scalar (`gradients`), the forward-mode pass (`tangents`),
Jacobians and Hessians.

`tangents` pushes a batch of tangents through a graph, each op by its JVP;
`jacobian` runs it on a batch of one-hot tangents, `jacobian_reverse` one
backward sweep per output element.  `hessian` differentiates the backward
pass again, traced on a `core.Tape`, then pushes a batch of tangents
through that tape (forward over reverse); `hessian_reverse` is its
reference, reverse over reverse.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ops as op_table
from .core import Graph, Shape, Tape, Tensor, raw
from .engine import backward, evaluate, fail_at


def _ones_like(x: Any) -> np.ndarray:
    return np.ones(np.shape(raw(x)), dtype=raw(x).dtype)


def gradients(
    graph: Graph, target: int, wrt: Sequence[int], values: list[Any] | None = None
) -> list[Any]:
    """First derivatives of scalar node `target` for the nodes in `wrt`.

    Runs on plain arrays: nothing is traced.
    """
    if values is None:
        values = evaluate(graph)
    grads = backward(graph, values, target, _ones_like(values[target]))
    return [grads[i] if grads[i] is not None else np.zeros_like(values[i]) for i in wrt]


def _on_path(graph: Graph, sources: Sequence[int], keep: Sequence[int]) -> bytearray:
    """The nodes a forward-mode pass computes: those that depend on a node
    of `sources` and, if `keep` is given, that a node of `keep` depends on
    (the rest would be computed for nothing)."""
    args = graph.args
    n = max(keep) + 1 if keep else len(graph.ops)
    flows = bytearray(len(graph.ops))
    for i in sources:
        flows[i] = 1
    for i in range(n):
        if not flows[i]:
            for a in args[i]:
                if flows[a]:
                    flows[i] = 1
                    break
    if not keep:
        return flows
    needed = bytearray(len(graph.ops))
    for i in keep:
        needed[i] = flows[i]
    for i in range(n - 1, -1, -1):
        if needed[i]:
            for a in args[i]:
                if flows[a]:
                    needed[a] = 1
    return needed


def tangents(
    graph: Graph,
    values: list[Any],
    seeds: dict[int, Any],
    keep: Sequence[int] = (),
) -> list[Any]:
    """Forward mode: the tangents of the nodes, given the tangents of some
    (`seeds`: node id -> an array of shape ``(B,) + shape(node)``, a batch
    of B directions along a leading axis, as ``jax.vmap(jax.jvp)``).

    `values` are the nodes' values (from `evaluate`, plain arrays); each
    op's JVP (`Op.jvp`) reads its arguments' values and tangents.  Returns a
    fresh list with None where no tangent flows.  Without `keep` it holds
    every node's tangent; with it (node ids), the pass computes only what
    they depend on and lets each other tangent go once its last consumer
    has run, so a long chain holds only the tangents still to be read.
    """
    ops, args, attrs = graph.ops, graph.args, graph.attrs
    on = _on_path(graph, list(seeds), keep)
    n = max(keep) + 1 if keep else len(ops)
    tans: list[Any] = [None] * len(ops)
    for i, t in seeds.items():
        tans[i] = t
    last = [-1] * len(ops)
    for i in range(n):
        if on[i]:
            for a in args[i]:
                last[a] = i
    held = bytearray(len(ops)) if keep else bytearray(b"\x01") * len(ops)
    for i in list(seeds) + list(keep):  # the ones that stay to the end
        held[i] = 1
    i = 0
    try:  # costs nothing until something raises
        for i in range(n):
            if not on[i] or tans[i] is not None:
                continue
            node_args = args[i]
            ts = [tans[a] for a in node_args]
            if all([t is None for t in ts]):  # cut off by an op without a derivative
                continue
            jvp = ops[i].jvp
            if jvp is None:
                raise TypeError(f"the op '{ops[i].name}' has no forward-mode derivative (jvp)")
            tans[i] = jvp(ts, values[i], *[values[a] for a in node_args], **attrs[i])
            for a in node_args:
                if last[a] == i and not held[a]:
                    tans[a] = None
    except MemoryError as e:
        fail_at(graph, i, "forward-mode", e)
    return tans


def chunks(total: int, per: int) -> list[tuple[int, int]]:
    """[start, stop) ranges of at most `per` (at least 1) covering `total`."""
    per = max(1, per)
    return [(s, min(total, s + per)) for s in range(0, total, per)]


class _Columns:
    """The inputs of a forward-mode derivative laid end to end: chunks of
    the identity over their elements as seeds, and the tangents that come
    out written into blocks of shape ``out_shape + input shape``."""

    def __init__(self, shapes: Sequence[Shape]):
        self.shapes = [tuple(s) for s in shapes]
        self.sizes = [math.prod(s) for s in self.shapes]
        self.offsets = [0]
        for size in self.sizes:
            self.offsets.append(self.offsets[-1] + size)
        self.total = self.offsets[-1]

    def spans(self, start: int, stop: int) -> list[tuple[int, int, int] | None]:
        """Per input, None or (lo, hi, offset): the elements lo..hi of the
        chunk start..stop (counted over all the inputs) that are its own."""
        out: list[tuple[int, int, int] | None] = []
        for offset, size in zip(self.offsets, self.sizes):
            lo, hi = max(start, offset), min(stop, offset + size)
            out.append((lo, hi, offset) if lo < hi else None)
        return out

    def seeds(self, start: int, stop: int, dtypes: Sequence[Any]) -> list[Any]:
        """Per input, its rows start..stop of the identity, shaped (B,) +
        its shape, or None where the chunk does not reach it."""
        out: list[Any] = []
        for span, shape, size, dtype in zip(
            self.spans(start, stop), self.shapes, self.sizes, dtypes
        ):
            if span is None:
                out.append(None)
                continue
            lo, hi, offset = span
            seed = np.zeros((stop - start, size), dtype=dtype)
            rows = np.arange(lo, hi)
            seed[rows - start, rows - offset] = 1
            out.append(seed.reshape((stop - start,) + shape))
        return out

    def write(self, blocks: Sequence[np.ndarray], t: Any, start: int, stop: int) -> None:
        """Put the tangents `t` of the chunk start..stop (shape (B,) +
        out_shape) in the blocks' columns."""
        t = np.reshape(t, (stop - start, -1))
        for block, span, size in zip(blocks, self.spans(start, stop), self.sizes):
            if span is not None:
                lo, hi, offset = span
                block.reshape(-1, size)[:, lo - offset : hi - offset] = t[lo - start : hi - start].T


def jacobian(
    graph: Graph,
    target: int,
    wrt: Sequence[int],
    values: list[Any] | None = None,
    batch: int | None = None,
) -> list[np.ndarray]:
    """First derivatives of every element of node `target` (any shape) by
    forward mode: the identity over the elements of the `wrt` nodes pushed
    through `tangents`, `batch` columns at a time (all at once if None).
    Returns one array per node of `wrt`, of shape ``target.shape +
    node.shape``, as `jacobian_reverse`."""
    if values is None:
        values = evaluate(graph)
    out_shape = np.shape(values[target])
    dtype = raw(values[target]).dtype
    columns = _Columns([np.shape(values[i]) for i in wrt])
    blocks = [np.zeros(out_shape + s, dtype=dtype) for s in columns.shapes]
    dtypes = [np.asarray(values[i]).dtype for i in wrt]
    for start, stop in chunks(columns.total, batch or columns.total):
        seeds: dict[int, Any] = {}
        for i, seed in zip(wrt, columns.seeds(start, stop, dtypes)):
            if seed is not None:  # a node named twice gets one seed, the sum
                seeds[i] = seed if i not in seeds else seeds[i] + seed
        t = tangents(graph, values, seeds, [target])[target]
        if t is not None:
            columns.write(blocks, t, start, stop)
    return blocks


def only_leaves(graph: Graph, wrt: Sequence[int]) -> Graph:
    """`graph` seen as if only the nodes `wrt` were leaves: the backward pass
    over it computes no gradient for the other leaves (an input's gradient
    is not needed for a Hessian in the params, and may be large)."""
    view = Graph()
    view.ops, view.args, view.attrs, view.values = graph.ops, graph.args, graph.attrs, graph.values
    requires = bytearray(len(graph.ops))
    for i in wrt:
        requires[i] = 1
    for i, node_args in enumerate(graph.args):
        if not requires[i]:
            for a in node_args:
                if requires[a]:
                    requires[i] = 1
                    break
    view.requires = requires
    return view


def hessian(
    graph: Graph,
    target: int,
    wrt: Sequence[int],
    batch: int | None = None,
    max_elements: int | None = None,
) -> dict[tuple[int, int], np.ndarray]:
    """Second derivatives of scalar node `target`: forward over reverse.

    The forward and backward passes run once on traced leaves, recording
    the gradient computation on a Tape; the identity over the leaves'
    elements is then pushed through that tape by forward mode
    (`tangents`), `batch` columns at a time (all at once if None), or as
    many as keep every tangent within `max_elements`: the tangent of
    gradient i for the columns of leaf j is the block (i, j).
    Returns a dict ``{(i, j): block}`` with blocks of shape ``shape_i +
    shape_j``.
    """
    base = evaluate(graph)
    tape = Tape()
    leaves = {i: tape.leaf(base[i]) for i in wrt}
    values = evaluate(graph, leaves)
    grads = backward(only_leaves(graph, wrt), values, target, _ones_like(values[target]))
    columns = _Columns([np.shape(base[i]) for i in wrt])
    rows = {
        i: [
            np.zeros(np.shape(base[i]) + s, dtype=base[j].dtype)
            for j, s in zip(wrt, columns.shapes)
        ]
        for i in wrt
    }
    traced = {i: grads[i].id for i in wrt if type(grads[i]) is Tensor}
    if batch is None and max_elements is not None:
        shapes = [np.shape(v) for v in tape.values]
        per = tangent_size(tape, [leaves[i].id for i in wrt], shapes, list(traced.values()))
        batch = max(1, max_elements // per)
    dtypes = [base[i].dtype for i in wrt]
    for start, stop in chunks(columns.total, batch or columns.total) if traced else ():
        seeds = {
            leaves[i].id: seed
            for i, seed in zip(wrt, columns.seeds(start, stop, dtypes))
            if seed is not None
        }
        tans = tangents(tape, tape.values, seeds, list(traced.values()))
        for i, node in traced.items():
            if tans[node] is not None:
                columns.write(rows[i], tans[node], start, stop)
    return {(i, j): rows[i][k] for i in wrt for k, j in enumerate(wrt)}


def tangent_size(
    graph: Graph, sources: Sequence[int], shapes: Sequence[Shape], keep: Sequence[int] = ()
) -> int:
    """The most elements one tangent direction has at any node of a
    forward-mode pass from `sources` to `keep` (as `tangents` computes it):
    the largest such node, by `shapes` (indexed by node id).  A batch of B
    directions needs B times that there; at least 1, as callers divide by
    it (nodes of no elements, as a sum of an empty array's path has, cost
    nothing)."""
    on = _on_path(graph, sources, keep)
    return max([math.prod(shapes[i]) for i in range(len(on)) if on[i]] + [1])


def hessian_reverse(
    graph: Graph, target: int, wrt: Sequence[int]
) -> dict[tuple[int, int], np.ndarray]:
    """Second derivatives of scalar node `target`: reverse over reverse, one
    backward sweep per element of each gradient (`hessian` is forward over
    reverse; this is its reference in the tests).

    The forward and backward passes run on traced leaves, recording the
    gradient computation on a Tape; each element of each gradient is then
    differentiated by a backward sweep over that tape.  Returns a dict
    ``{(i, j): block}`` with blocks of shape ``shape_i + shape_j``.
    """
    index = op_table.index
    base = evaluate(graph)
    tape = Tape()
    leaves = {i: tape.leaf(base[i]) for i in wrt}
    values = evaluate(graph, leaves)
    grads = backward(graph, values, target, _ones_like(values[target]))
    blocks = {}
    for i in wrt:
        gi = grads[i]
        shape_i = base[i].shape
        rows = {j: np.zeros(shape_i + base[j].shape, dtype=base[j].dtype) for j in wrt}
        if type(gi) is Tensor:
            for flat in range(int(np.prod(shape_i, dtype=np.int64))):
                pos = np.unravel_index(flat, shape_i) if shape_i else ()
                elem = index(gi, key=tuple(int(p) for p in pos))
                second = backward(tape, tape.values, elem.id, np.ones((), dtype=elem.dtype))
                for j in wrt:
                    s = second[leaves[j].id]
                    if s is not None:
                        rows[j][pos] = s
        for j in wrt:
            blocks[(i, j)] = rows[j]
    return blocks


def jacobian_reverse(
    graph: Graph, target: int, wrt: Sequence[int], values: list[Any] | None = None
) -> list[np.ndarray]:
    """First derivatives of every element of node `target` (any shape): one
    reverse sweep per output element.  Returns a list with one array per
    node of `wrt`, of shape ``target.shape + node.shape``."""
    if values is None:
        values = evaluate(graph)
    out_shape = np.shape(values[target])
    dtype = raw(values[target]).dtype
    blocks = [np.zeros(out_shape + np.shape(values[i]), dtype=dtype) for i in wrt]
    for pos in np.ndindex(*out_shape):
        seed = np.zeros(out_shape, dtype=dtype)
        seed[pos] = 1
        grads = backward(graph, values, target, seed)
        for block, i in zip(blocks, wrt):
            if grads[i] is not None:
                block[pos] = grads[i]
    return blocks
