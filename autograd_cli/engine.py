"""The differentiation engine: the passes over a graph of ops.

The graph (`core.Graph`) lists its nodes in topological order, so both
passes are plain loops: `evaluate` forward in order, `backward` in reverse.
Gradients come back in a fresh list; nothing accumulates on the graph, so
evaluating twice gives the same numbers.  `evaluate_floats` and
`backward_floats` are the same loops over Python floats for float64
scalars; `releases` plans which intermediate arrays the forward loops can
let go.  The forward-mode pass, Jacobians and Hessians, built on these
passes, are in `derivatives`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import count
from typing import Any, NoReturn

import numpy as np

from . import ops as op_table
from .core import Graph, Shape, call

# A release plan (see `releases`): per node, None or the nodes to let go
# before it is computed.
Release = list[list[int] | None]


def releases(graph: Graph, keep: bytes | bytearray) -> Release:
    """For the forward loops: per node, None or the nodes whose values can
    go before it is computed (their last consumer came before), so that a long chain of array
    operations does not hold every intermediate array (as PyTorch keeps only
    what its backward formulas save).  A value is needed when it is kept
    (`keep`, a bytearray as in `backward`), a constant, read by its own VJP
    (``ans``) or by a consumer's (`Op.saves`); the others become `Released`
    stand-ins of their shape and dtype after their last consumer has run."""
    ops, args, values = graph.ops, graph.args, graph.values
    needed = bytearray(keep)
    last = [-1] * len(ops)
    for i, op in enumerate(ops):
        saves = op.saves
        for k, j in enumerate(args[i]):
            last[j] = i
            if saves is None or k in saves[0]:
                needed[j] = 1
        if saves is None or saves[1] or values[i] is not None:
            needed[i] = 1
    out: Release = [None] * len(ops)
    for j, i in enumerate(last):
        if 0 <= i < len(ops) - 1 and not needed[j]:  # released before node i + 1
            nodes = out[i + 1]
            if nodes is None:
                nodes = out[i + 1] = []
            nodes.append(j)
    return out


class ReleasedValueError(RuntimeError):
    """A vector-Jacobian product read the numbers of a value `evaluate` had
    let go: the op's `saves` leaves out something its VJPs read (a bug)."""


def _refuse(self: Released, *args: Any, **kwargs: Any) -> NoReturn:
    raise ReleasedValueError(
        f"the numbers of a released value (shape {self.shape}, {self.dtype}) were read"
    )


class Released:
    """What stands in for an intermediate array once `evaluate` has let it
    go: its shape and dtype, which a VJP may read of any argument, and
    nothing else.  Reading its numbers in any way (numpy, arithmetic,
    indexing, conversion) raises `ReleasedValueError`, so a `saves` that
    leaves out a value a VJP reads fails loudly instead of computing with
    made-up numbers."""

    __slots__ = ("shape", "dtype", "ndim", "size")

    def __init__(self, shape: Shape, dtype: np.dtype):
        self.shape = shape
        self.dtype = dtype
        self.ndim = len(shape)
        self.size = math.prod(shape)

    def __getattr__(self, name: str) -> NoReturn:  # only for names other than the slots
        if name.startswith("__"):  # Python's and numpy's probes for a protocol
            raise AttributeError(name)
        _refuse(self)

    def __repr__(self) -> str:
        return f"Released(shape={self.shape}, dtype={self.dtype})"

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func is np.shape:  # its shape is known; only its numbers are gone
            return self.shape
        if func is np.ndim:
            return self.ndim
        _refuse(self)

    __array__ = __array_ufunc__ = _refuse
    __getitem__ = __setitem__ = __iter__ = __len__ = __bool__ = _refuse
    __float__ = __int__ = __index__ = __complex__ = _refuse
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __hash__ = None  # type: ignore[assignment]  # unhashable, as numpy arrays are
    for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul"):
        locals()[f"__{_name}__"] = locals()[f"__r{_name}__"] = _refuse
    __neg__ = __pos__ = __abs__ = _refuse
    del _name


# (dtype, shape) -> a `Released`: shared, never changed
_SHELLS: dict[tuple[np.dtype, Shape], Released] = {}


def _release(values: list[Any], nodes: list[int]) -> None:
    for j in nodes:
        v = values[j]
        if type(v) is np.ndarray and v.size > 1:
            key = (v.dtype, v.shape)
            shell = _SHELLS.get(key)
            if shell is None:
                shell = Released(v.shape, v.dtype)
                if len(_SHELLS) < 1024:
                    _SHELLS[key] = shell
            values[j] = shell


class OutOfMemory(Exception):
    """Memory ran out computing node `node` in the `phase` pass."""

    def __init__(self, node: int, phase: str, error: MemoryError):
        super().__init__(str(error))
        self.node = node
        self.phase = phase
        self.error = error


def fail_at(graph: Graph, i: int, phase: str, error: Exception) -> NoReturn:
    """Raise `error`, raised computing node `i` in the `phase` pass, as the
    error that names the node: `OutOfMemory` for a MemoryError, and for a
    `ReleasedValueError` (a VJP read a value `releases` let go) one naming
    the op whose `saves` is wrong.  Every sweep's ``except`` calls this,
    those of the forward-mode pass (`derivatives.tangents`) too."""
    if isinstance(error, MemoryError):
        raise OutOfMemory(i, phase, error) from None
    if isinstance(error, ReleasedValueError):
        raise ReleasedValueError(
            f"a vector-Jacobian product of '{graph.ops[i].name}' read the numbers of a value "
            f"released after the forward pass: the op's `saves` leaves out what it reads"
        ) from error
    raise error


def evaluate(
    graph: Graph, overrides: dict[int, Any] | None = None, release: Release | None = None
) -> list[Any]:
    """The value of every node, in a fresh list.

    `overrides` maps node ids to values used instead of computing them (used
    to feed traced leaves in).  `release`, from `releases`, lets the values
    no one needs go as soon as their last consumer has run.
    """
    values = list(graph.values)
    arity, first, second, more = _columns(graph)
    attrs = graph.attrs
    i = 0
    try:  # costs nothing until something raises
        if overrides is None:  # plain arrays throughout: call numpy directly
            for i, op in enumerate(graph.ops):
                if release is not None and (gone := release[i]) is not None:
                    _release(values, gone)
                if values[i] is None:
                    n = arity[i]
                    kw = attrs[i]
                    if n == 2 and not kw:
                        values[i] = op.forward(values[first[i]], values[second[i]])
                    elif n == 1 and not kw:
                        values[i] = op.forward(values[first[i]])
                    else:
                        a = _of(n, i, first, second, more)
                        values[i] = op.forward(*[values[j] for j in a], **kw)
            return values
        for i, op in enumerate(graph.ops):
            if i in overrides:
                values[i] = overrides[i]
            elif values[i] is None:
                a = _of(arity[i], i, first, second, more)
                values[i] = call(op, [values[j] for j in a], attrs[i])
    except MemoryError as e:
        fail_at(graph, i, "forward", e)
    return values


def backward(
    graph: Graph, values: list[Any], target: int, seed: Any, keep: bytes | bytearray | None = None
) -> list[Any]:
    """Reverse-mode sweep: the gradient of node `target` for every node.

    `seed` is the gradient of the target itself (ones for a scalar).  Returns
    a fresh list with None where the target does not depend on a node.
    `keep`, if given, flags the nodes to keep (a bytearray, 1 to keep): the
    gradients and the values (in `values`, which is changed) of the others
    are dropped as soon as the sweep has passed them, which keeps memory down.
    """
    add = op_table.add
    grads: list[Any] = [None] * len(graph.ops)
    grads[target] = seed
    ops, attrs, requires = graph.ops, graph.attrs, graph.requires
    arity, first, second, more = _columns(graph)
    try:  # costs nothing until something raises
        for i in range(target, -1, -1):
            g = grads[i]
            if g is None:
                continue
            vjps = ops[i].vjps
            drop = keep is not None and not keep[i]
            if drop:
                grads[i] = None
            if not vjps:
                continue
            node_args = _of(arity[i], i, first, second, more)
            argvals = [values[a] for a in node_args]
            ans = values[i]
            kw = attrs[i]
            k = -1
            for a in node_args:
                k += 1
                if not requires[a]:
                    continue
                if kw:
                    contribution = vjps[k](g, ans, *argvals, **kw)
                elif len(argvals) == 2:
                    contribution = vjps[k](g, ans, argvals[0], argvals[1])
                else:
                    contribution = vjps[k](g, ans, *argvals)
                prev = grads[a]
                grads[a] = contribution if prev is None else add(prev, contribution)
            if drop:  # every consumer of node i came before it in this sweep
                values[i] = None
    except (ReleasedValueError, MemoryError) as e:
        fail_at(graph, i, "backward", e)
    return grads


def gradient_sources(
    graph: Graph,
    values: list[Any],
    target: int,
    seed: Any,
    finite: Callable[[Any], bool],
    value_ok: Sequence[bool],
) -> list[tuple[int, Any, str]]:
    """Where the reverse sweep's gradients turn non-finite: the sweep of
    `backward` again over `values` (plain arrays, every one kept), looking at
    every gradient.  Returns, in the sweep's order, ``(node, gradient, how)``:
    `how` is 'vjp' for an op whose VJPs, given a finite gradient and finite
    values to read (`Op.saves`), gave a non-finite gradient for an argument
    (the first such, once per op), and 'sum' for a node whose gradient is
    not finite although every contribution to it was (they overflowed when
    added up).  A gradient made from a non-finite one, or from a non-finite
    value, is not listed.  `finite(array)` says whether an array is finite;
    `value_ok[i]`, whether node i's value is.  `values` may be those of
    `evaluate_floats` (and `seed` a float for a float target): ops that ran
    on floats then run their float VJPs, as `backward_floats` does, and may
    raise ArithmeticError or ValueError where numpy would give inf or nan."""
    add = op_table.add
    grads: list[Any] = [None] * len(graph.ops)
    grads[target] = seed
    tainted = bytearray(len(graph.ops))  # a non-finite contribution reached the node
    found: list[tuple[int, Any, str]] = []
    ops, attrs, requires = graph.ops, graph.attrs, graph.requires
    arity, first, second, more = _columns(graph)
    isfinite = math.isfinite
    for i in range(target, -1, -1):
        g = grads[i]
        if g is None:
            continue
        g_ok = isfinite(g) if type(g) is float else finite(g)
        if not g_ok and not tainted[i]:
            found.append((i, g, "sum"))
        op = ops[i]
        if not op.vjps:
            continue
        node_args = _of(arity[i], i, first, second, more)
        saves = op.saves
        if saves is None:
            clean = value_ok[i] and all([value_ok[a] for a in node_args])
        else:
            clean = (not saves[1] or value_ok[i]) and all(
                [value_ok[node_args[k]] for k in saves[0]]
            )
        clean = clean and g_ok
        argvals = [values[a] for a in node_args]
        ans = values[i]
        kw = attrs[i]
        kernel = op.scalar
        floats = None  # the float VJPs' contributions, by argument
        if kernel is not None and type(ans) is float and not kw:  # floats ran it
            floats = kernel[1](g, ans, *argvals)
            if len(node_args) == 1:
                floats = (floats,)
        else:  # numpy ran it: its scalars as numpy's, as `backward_floats` gives them
            g, ans = _np_scalar(g), _np_scalar(ans)
            argvals = [_np_scalar(v) for v in argvals]
        listed = False
        for k, a in enumerate(node_args):
            if not requires[a]:
                continue
            if floats is not None:
                c = floats[k]
            else:
                c = op.vjps[k](g, ans, *argvals, **kw)
                if type(values[a]) is float:
                    c = float(c)
            if not (isfinite(c) if type(c) is float else finite(c)):
                tainted[a] = 1
                if clean and not listed:
                    found.append((i, c, "vjp"))
                    listed = True
            prev = grads[a]
            if prev is None:
                grads[a] = c
            elif type(c) is float:
                grads[a] = prev + c
            else:
                grads[a] = add(prev, c)
    return found


def _columns(graph: Graph) -> tuple[bytearray, Any, Any, dict[int, tuple[int, ...]]]:
    """The columns of the graph's arguments (`core.Args`), for the loops."""
    a = graph.args
    return a.arity, a.first, a.second, a.more


def _of(n: int, i: int, first: Any, second: Any, more: dict[int, tuple[int, ...]]) -> Any:
    """Node i's arguments from the columns, `n` its arity."""
    if n == 2:
        return (first[i], second[i])
    if n == 1:
        return (first[i],)
    return more.get(i, ())


def _np_scalar(v: Any) -> Any:
    return np.float64(v) if type(v) is float else v


def evaluate_floats(graph: Graph, release: Release | None = None) -> list[Any]:
    """`evaluate` for float64 graphs, with every scalar a Python float.

    An op with float kernels (`Op.scalar`) runs them when its arguments are
    floats; anything else runs on numpy, its scalar arguments as numpy
    scalars and its scalar result made a float.  Python's float arithmetic
    is IEEE double, as numpy's float64 scalars are, and the kernels call the
    same numpy functions for the rest, at a fraction of numpy's per-call
    cost.  Where Python refuses (x / 0, an overflowing **) this raises
    ArithmeticError or ValueError, and the caller runs `evaluate` instead.
    """
    values = list(graph.values)
    ops, attrs = graph.ops, graph.attrs
    arity, first, second, more = _columns(graph)
    i = 0
    try:  # costs nothing until something raises
        for i, op, n, j, k in zip(count(), ops, arity, first, second):
            if release is not None and (gone := release[i]) is not None:
                _release(values, gone)
            v = values[i]
            if v is not None:  # a constant
                if v.ndim == 0:
                    values[i] = float(v)
                continue
            kernel = op.scalar
            if kernel is not None and not attrs[i]:
                if n == 2:
                    x, y = values[j], values[k]
                    if type(x) is float and type(y) is float:
                        values[i] = kernel[0](x, y)
                        continue
                elif n == 1:
                    x = values[j]
                    if type(x) is float:
                        values[i] = kernel[0](x)
                        continue
                else:
                    xs = [values[j] for j in more.get(i, ())]
                    if all([type(x) is float for x in xs]):
                        values[i] = kernel[0](*xs)
                        continue
            a = _of(n, i, first, second, more)
            v = op.forward(*[_np_scalar(values[j]) for j in a], **attrs[i])
            values[i] = float(v) if v.ndim == 0 else v
    except MemoryError as e:
        fail_at(graph, i, "forward", e)
    return values


def backward_floats(
    graph: Graph, values: list[Any], target: int, seed: Any, keep: bytes | bytearray | None = None
) -> list[Any]:
    """`backward` over the values of `evaluate_floats`: the gradients of
    scalars are Python floats too.  `keep` as in `backward`."""
    add = op_table.add
    grads: list[Any] = [None] * len(graph.ops)
    grads[target] = float(seed) if type(values[target]) is float else seed
    ops, attrs, requires = graph.ops, graph.attrs, graph.requires
    arity, first, second, more = _columns(graph)
    try:  # costs nothing until something raises
        for i in range(target, -1, -1):
            g = grads[i]
            if g is None:
                continue
            drop = keep is not None and not keep[i]
            if drop:
                grads[i] = None
            op = ops[i]
            if not op.vjps:
                if drop:
                    values[i] = None
                continue
            n = arity[i]
            ans = values[i]
            kernel = op.scalar
            if kernel is not None and type(ans) is float and not attrs[i]:  # floats ran it
                vjp = kernel[1]
                if n == 1:
                    j = first[i]
                    if requires[j]:
                        c = vjp(g, ans, values[j])
                        prev = grads[j]
                        grads[j] = c if prev is None else prev + c
                elif n == 2:
                    j, k = first[i], second[i]
                    cj, ck = vjp(g, ans, values[j], values[k])
                    if requires[j]:
                        prev = grads[j]
                        grads[j] = cj if prev is None else prev + cj
                    if requires[k]:
                        prev = grads[k]
                        grads[k] = ck if prev is None else prev + ck
                else:
                    a = more.get(i, ())
                    for j, c in zip(a, vjp(g, ans, *[values[j] for j in a])):
                        if requires[j]:
                            prev = grads[j]
                            grads[j] = c if prev is None else prev + c
            else:  # numpy ran it
                a = _of(n, i, first, second, more)
                vjps = op.vjps
                g = _np_scalar(g)
                argvals = [_np_scalar(values[j]) for j in a]
                ans = _np_scalar(ans)
                kw = attrs[i]
                for k, j in enumerate(a):
                    if not requires[j]:
                        continue
                    c = vjps[k](g, ans, *argvals, **kw)
                    prev = grads[j]
                    if type(values[j]) is float:
                        c = float(c)
                        grads[j] = c if prev is None else prev + c
                    else:
                        grads[j] = c if prev is None else add(prev, c)
            if drop:
                values[i] = None
    except (ReleasedValueError, MemoryError) as e:
        fail_at(graph, i, "backward", e)
    return grads
