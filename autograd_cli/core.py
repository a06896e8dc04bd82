"""The core types: ops, the graph of their applications, and tracing.

An `Op` is one entry of the op table (declared in ops.py, registered in
`OPS`).  A `Graph` is a list of nodes in topological order (every node's
arguments come before it), so the engine's passes are plain loops: forward
in order, backward in reverse.

Higher derivatives: every vector-Jacobian product in ops.py is written with
the same ops it differentiates, called through `call` (or an op's `apply`).
On plain numpy arrays that is a direct function call.  When an argument is a
`Tensor` (a value being traced), the op is recorded on that tensor's `Tape`,
which is itself a `Graph`; the recorded backward pass can then be
differentiated by the engine's own `backward` (reverse over reverse).

This module imports nothing of the package: the op table (ops.py) and the
engine (engine.py) are built on it.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

Shape = tuple[int, ...]
Attrs = dict[str, Any]
# A vector-Jacobian product: vjp(g, ans, *args, **attrs) -> the gradient of
# one argument.
VJP = Callable[..., Any]


class VJPs(Protocol):
    """An op's VJPs: one per argument, by position (a tuple, or for an op
    of any number of arguments an object that makes them)."""

    def __getitem__(self, k: int, /) -> VJP: ...


class Op:
    """One entry of the op table (declared in ops.py with `defop`).

    forward(*args, **attrs) -> array; shape(*arg_shapes, **attrs) -> shape;
    vjps[k](g, ans, *args, **attrs) -> gradient for argument k;
    args -> the names of the array arguments, as `local` writes them;
    local[k] -> the local derivative for argument k in symbols, written with
    the names of `args` and ``ans`` for the output;
    scalar -> None, or the op on Python floats as a pair (forward, vjp) for
    `engine.evaluate_floats`: forward(*xs) -> float and vjp(g, ans, *xs) ->
    the gradient of the one argument, or a tuple with one per argument (only
    for ops without attributes);
    saves -> None (the VJPs may read every value), or what they read: a
    pair (argument positions, whether ``ans``); of the others they read only
    the shape and dtype (see `engine.releases`);
    kinks -> None, or (what to call it, test(ans, *args, **attrs)): where
    the op is not differentiable and the gradient is a convention;
    jvp -> the forward-mode derivative, for a batch of tangents at once:
    jvp(tangents, ans, *args, **attrs) -> the output's tangent, where
    `tangents` has one entry per argument, None for an argument without a
    tangent (at least one is not None) or an array of shape
    ``(B,) + shape(arg)`` (B tangents along a leading axis, as
    ``jax.vmap(jax.jvp)``); it returns an array of shape ``(B,) +
    shape(ans)``, or None for an op whose output has no derivative (a
    comparison).  It runs on plain numpy arrays, never traced;
    symmetric -> whether the order of the arguments does not matter;
    syntax -> None, or (symbol, grammar level) for an op the language writes
    as an operator: ``("+", "sum")``, the level one of sum, product, unary
    and power (grammar.lark), a unary one written before its argument;
    notation -> None, or how `local` texts write the op's value if not by
    its name (``σ`` for sigmoid);
    constructor -> whether it builds a constant from static arguments only;
    apply -> the op as a function: straight to `forward` on plain arrays,
    recorded on the tape when an argument is traced (`generic`; the op table
    gives the binary arithmetic ops the faster `generic2`).
    """

    __slots__ = (
        "name",
        "forward",
        "shape",
        "vjps",
        "local",
        "is_leaf",
        "scalar",
        "saves",
        "args",
        "kinks",
        "jvp",
        "symmetric",
        "syntax",
        "notation",
        "constructor",
        "apply",
    )

    name: str
    forward: Callable[..., Any]
    shape: Callable[..., Shape] | None
    vjps: VJPs
    local: Sequence[str]
    is_leaf: bool
    scalar: tuple[Callable[..., Any], VJP] | None
    saves: tuple[tuple[int, ...], bool] | None
    args: tuple[str, ...]
    kinks: tuple[str, Callable[..., Any]] | None
    jvp: Any
    symmetric: bool
    syntax: tuple[str, str] | None
    notation: str | None
    constructor: bool
    apply: Callable[..., Any]

    def __init__(
        self,
        name: str,
        forward: Callable[..., Any],
        shape: Callable[..., Shape] | None = None,
        vjps: VJPs = (),
        local: Sequence[str] = (),
        is_leaf: bool = False,
    ):
        self.name = name
        self.forward = forward
        self.shape = shape
        self.vjps = vjps
        self.local = local
        self.is_leaf = is_leaf
        self.scalar = None
        self.saves = None
        self.args = ()
        self.kinks = None
        self.jvp = None
        self.symmetric = False
        self.syntax = None
        self.notation = None
        self.constructor = False
        self.apply = generic(self)

    def __repr__(self) -> str:
        return f"Op({self.name})"


_NO_ATTRS: Attrs = {}  # shared by every node without attributes; never modified


class Args:
    """The nodes' arguments, as columns: `arity` (0, 1, 2, or 3 for more),
    the first two ids in `first` and `second`, and the arguments of a node
    of three or more in `more`.  A long file has millions of nodes: a tuple
    of ids a node (with an int object per id) took ~90 bytes where this
    takes 9.  ``args[i]`` is the tuple; the engine's loops read the columns
    (`of` is the tuple from them)."""

    __slots__ = ("arity", "first", "second", "more")

    def __init__(self) -> None:
        self.arity = bytearray()
        # node ids: a graph has fewer than 2**31 nodes (files are < 2**30 bytes)
        self.first = array("i")
        self.second = array("i")
        self.more: dict[int, tuple[int, ...]] = {}  # node -> its 3 or more arguments

    def __len__(self) -> int:
        return len(self.arity)

    def __getitem__(self, i: int) -> tuple[int, ...]:
        n = self.arity[i]  # raises IndexError, and makes a negative i count from the end
        if i < 0:
            i += len(self.arity)
        if n == 2:
            return (self.first[i], self.second[i])
        if n == 1:
            return (self.first[i],)
        return self.more.get(i, ())

    def __iter__(self) -> Iterator[tuple[int, ...]]:
        for i in range(len(self.arity)):
            yield self[i]

    def append(self, args: tuple[int, ...]) -> None:
        """Add the next node's arguments."""
        n = len(args)
        if n > 2:
            self.more[len(self.arity)] = tuple(args)
            n = 3
        self.arity.append(n)
        self.first.append(args[0] if n else 0)
        self.second.append(args[1] if n > 1 else 0)

    def truncate(self, n: int) -> None:
        """Drop the arguments of every node from node `n` on."""
        del self.arity[n:], self.first[n:], self.second[n:]
        self.more = {i: a for i, a in self.more.items() if i < n}


class Graph:
    """Nodes in topological order, as parallel columns indexed by node id
    (lists, and flat arrays where a column holds numbers: `Args`, and
    `requires` a bytearray)."""

    __slots__ = ("ops", "args", "attrs", "values", "requires")

    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.args = Args()
        self.attrs: list[Attrs] = []
        self.values: list[Any] = []  # set for CONST nodes (all nodes on a Tape)
        self.requires = bytearray()  # 1: the node depends on a leaf

    def __len__(self) -> int:
        return len(self.ops)

    def add(
        self, op: Op, args: tuple[int, ...] = (), attrs: Attrs | None = None, value: Any = None
    ) -> int:
        """Append a node applying `op` to nodes `args`; returns its id."""
        requires = self.requires
        self.ops.append(op)
        self.args.append(args)
        self.attrs.append(attrs or _NO_ATTRS)
        self.values.append(value)
        needed = op.is_leaf
        if not needed:
            for a in args:
                if requires[a]:
                    needed = True
                    break
        requires.append(needed)
        return len(self.ops) - 1

    def truncate(self, n: int) -> None:
        """Drop every node from node `n` on."""
        del self.ops[n:], self.attrs[n:], self.values[n:], self.requires[n:]
        self.args.truncate(n)


class Tape(Graph):
    """A Graph recorded while running ops on `Tensor`s."""

    __slots__ = ()

    def leaf(self, value: Any) -> Tensor:
        """A new traced leaf holding `value`."""
        return Tensor(self, self.add(LEAF, (), None, value), value)

    def record(self, op: Op, args: Sequence[Any], attrs: Attrs) -> Tensor:
        """Run `op` on `args` (traced or plain) and record it on the tape."""
        ids = []
        raw = []
        for a in args:
            if type(a) is Tensor:
                ids.append(a.id)
                raw.append(a.value)
            else:
                ids.append(self.add(CONST, (), None, a))
                raw.append(a)
        value = op.forward(*raw, **attrs)
        return Tensor(self, self.add(op, tuple(ids), attrs, value), value)


class Tensor:
    """A value being traced onto a `Tape`."""

    __slots__ = ("tape", "id", "value")

    def __init__(self, tape: Tape, id: int, value: Any):
        self.tape = tape
        self.id = id
        self.value = value

    shape = property(lambda self: self.value.shape)
    ndim = property(lambda self: self.value.ndim)
    dtype = property(lambda self: self.value.dtype)

    def __repr__(self) -> str:
        return f"Tensor(#{self.id}, {self.value!r})"


def raw(x: Any) -> Any:
    """The plain array behind `x`, traced or not."""
    return x.value if type(x) is Tensor else x


def call(op: Op, args: Sequence[Any], attrs: Attrs) -> Any:
    """Run `op`: directly on plain arrays, recorded when any arg is traced."""
    for a in args:
        if type(a) is Tensor:
            return a.tape.record(op, args, attrs)
    return op.forward(*args, **attrs)


def generic(op: Op) -> Callable[..., Any]:
    """`op` as a function, as `call` runs it (what `Op.apply` holds)."""
    forward = op.forward

    def f(*args: Any, **attrs: Any) -> Any:
        for a in args:
            if type(a) is Tensor:
                return a.tape.record(op, args, attrs)
        return forward(*args, **attrs)

    f.__name__ = op.name
    return f


def generic2(op: Op) -> Callable[[Any, Any], Any]:
    """The same for an op of two arguments and no attributes (the hot path
    of every backward pass)."""
    forward = op.forward

    def f(x: Any, y: Any) -> Any:
        if type(x) is Tensor:
            return x.tape.record(op, (x, y), {})
        if type(y) is Tensor:
            return y.tape.record(op, (x, y), {})
        return forward(x, y)

    f.__name__ = op.name
    return f


def _never_called(*args: Any, **attrs: Any) -> Any:
    """What fills the slots no loop calls: a constant's forward (its value is
    in `Graph.values`) and a leaf's float VJP (it has no argument to pass a
    gradient on to)."""
    raise TypeError("called a slot of the constant or the leaf op that nothing should call")


# A node whose value is fixed when the graph is built (literals, folded
# constants); it has no arguments and no gradient.  Its forward is never
# called: every loop reads a constant's value from `Graph.values`.
CONST = Op("const", _never_called)
# A differentiable leaf (a `param` or an `input`): the value of its argument,
# with no history behind it (like PyTorch's `detach().requires_grad_()`).
LEAF = Op("leaf", lambda x: x, shape=lambda s: s, is_leaf=True)
LEAF.args = ("x",)
LEAF.scalar = (float, _never_called)

# Every op by name.  ops.py fills it in when imported.
OPS: dict[str, Op] = {"const": CONST, "leaf": LEAF}
