"""A graph's objective and gradient with respect to some leaves, as one
generated Python function of those leaves' values.

An optimiser evaluates the same graph at thousands of points.  The engine's
passes (`engine.evaluate`, `engine.backward`) walk every node each time,
constants included, and look up each node's arguments as they go; for the
small models first-order methods are run on, that walking costs more than
the arithmetic.  `compile_step` walks the graph once instead and writes out
what a pass would do as straight-line code, as `torch.fx` does for a traced
module: one line per node that depends on the leaves, calling the op's own
forward, then one line per vector-Jacobian product, in the reverse sweep's
order.  Between two points only the leaves' values change, never a shape,
so the code can also be written for the shapes at hand:

- a contribution to a gradient that reads nothing the leaves change (the
  mean's 1/n spread over its input, from the constant seed) is computed
  once, here;
- the VJPs of `+`, `-` and of a product of two matrices are written out as
  the numpy operations they come to for those shapes (a gradient passed on
  as it is, a sum over fixed axes, `g @ b.transpose()`), the very
  operations the op's VJP performs, without its dispatch.

The same operations run on the same values in the same order, so the
results are the engine's to the last bit (tests/test_fit_compiled.py holds
the two equal); only the bookkeeping is gone.  Graphs too large to be worth
compiling (`MAX_LINES`) are left to the engine's passes."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import kernels
from .. import ops as op_table
from ..kernels import broadcast_axes
from ..shapes import reduced_size

# Beyond this many generated lines the Python compiler's own time and memory
# grow past what the walking costs; the engine's passes take over.
MAX_LINES = 5_000

Step = Callable[..., tuple[Any, list[Any]]]

# Forwards that are Python's operators, written as the operator.
_INFIX = {
    operator.add: "+",
    operator.sub: "-",
    operator.mul: "*",
    operator.truediv: "/",
    operator.matmul: "@",
}


def compile_step(
    graph: Any, leaves: Sequence[int], target: int, values: Sequence[Any], requires: Any
) -> Step | None:
    """`step(*leaf_values) -> (target's value, [its gradient for each leaf])`
    for `graph` with the nodes `leaves` free, or None if the graph is too
    large to compile.  `values` are every node's values at some point (those
    that do not depend on the leaves are the step's constants, and their
    shapes are every point's); `requires` flags the nodes a gradient flows
    to (`engine.only_leaves(...).requires`).  A leaf the target does not
    depend on gets zeros as its gradient.  The gradients returned may be
    shared between calls (a constant one is): read them, do not write."""
    n = len(graph.ops)
    needed = bytearray(n)  # what the target is computed from
    needed[target] = 1
    for i in range(target, -1, -1):
        if needed[i]:
            for a in graph.args[i]:
                needed[a] = 1
    depends = bytearray(n)
    for leaf in leaves:
        depends[leaf] = 1
    forward: list[int] = []
    for i in range(target + 1):
        if not depends[i] and any(depends[a] for a in graph.args[i]):
            depends[i] = 1
            if needed[i]:
                forward.append(i)

    # The reverse sweep's contributions, in the order engine.backward makes
    # them (nodes from the target down, each node's arguments in order).
    reaches = bytearray(n)
    reaches[target] = 1
    sweep: list[tuple[int, int, int]] = []  # (node, argument position, argument)
    for i in range(target, -1, -1):
        if not reaches[i] or not graph.ops[i].vjps:
            continue
        for k, a in enumerate(graph.args[i]):
            if requires[a]:
                reaches[a] = 1
                sweep.append((i, k, a))
    if len(forward) + len(sweep) > MAX_LINES:
        return None
    return _Writer(graph, leaves, values, depends).write(forward, sweep, target)


class _Writer:
    """The source of one step function, and the names it refers to."""

    def __init__(self, graph: Any, leaves: Sequence[int], values: Sequence[Any], depends: Any):
        self.graph, self.values, self.depends = graph, values, depends
        self.leaves = list(leaves)
        self.env: dict[str, Any] = {
            "ADD": op_table.add,
            "REDUCE": np.add.reduce,
            "TRUE_DIVIDE": np.true_divide,
            "POWER": kernels.power,
        }
        self.names = {leaf: f"p{k}" for k, leaf in enumerate(leaves)}
        self.lines = [f"def step({', '.join(self.names[leaf] for leaf in leaves)}):"]

    def bind(self, name: str, value: Any) -> str:
        self.env[name] = value
        return name

    def value(self, j: int) -> str:
        """The expression for node j's value: a local for the computed
        nodes and the leaves, a bound constant for the rest."""
        if j not in self.names:
            self.names[j] = self.bind(f"c{j}", self.values[j])
        return self.names[j]

    def call(self, fn: str, i: int, first: str = "") -> str:
        args = [self.value(a) for a in self.graph.args[i]]
        if self.graph.attrs[i]:
            args.append("**" + self.bind(f"K{i}", self.graph.attrs[i]))
        return f"{fn}({first}{', '.join(args)})"

    def write(self, forward: list[int], sweep: list[tuple[int, int, int]], target: int) -> Step:
        graph, values = self.graph, self.values
        for i in forward:
            op, args = graph.ops[i], graph.args[i]
            infix = _INFIX.get(op.forward)
            if infix and len(args) == 2 and not graph.attrs[i]:
                line = f"v{i} = {self.value(args[0])} {infix} {self.value(args[1])}"
            elif op.forward is kernels.mean and self._plain_float(args[0]):
                line = self._mean(i)
            else:
                line = f"v{i} = {self.call(self.bind(f'F{i}', op.forward), i)}"
            self.lines.append("    " + line)
            self.names[i] = f"v{i}"

        # Gradients known here (read nothing the leaves change) by node; the
        # others are locals g<node> once assigned.
        fixed: dict[int, Any] = {target: np.ones((), dtype=np.asarray(values[target]).dtype)}
        assigned: set[int] = set()
        for i, k, a in sweep:
            op = graph.ops[i]
            if i in fixed and self._reads_only_constants(i):
                args = [values[j] for j in graph.args[i]]
                c = op.vjps[k](fixed[i], values[i], *args, **graph.attrs[i])
                if a in fixed:
                    fixed[a] = op_table.add(fixed[a], c)
                elif a in assigned:
                    self.lines.append(f"    g{a} = ADD(g{a}, {self.bind(f'C{a}_{i}_{k}', c)})")
                else:
                    fixed[a] = c
                continue
            g = self.bind(f"G{i}", fixed[i]) if i in fixed else f"g{i}"
            term = self._vjp(i, k, g)
            if a in fixed:  # a known part, then this one
                term = f"ADD({self.bind(f'H{a}', fixed.pop(a))}, {term})"
            elif a in assigned:
                term = f"ADD(g{a}, {term})"
            self.lines.append(f"    g{a} = {term}")
            assigned.add(a)

        grads = []
        for leaf in self.leaves:
            if leaf in assigned:
                grads.append(f"g{leaf}")
            else:  # known here, or zeros for a leaf the target does not read
                v = values[leaf]
                known = fixed.get(leaf, np.zeros(np.shape(v), np.asarray(v).dtype))
                grads.append(self.bind(f"Z{leaf}", known))
        self.lines.append(f"    return {self.value(target)}, [{', '.join(grads)}]")
        exec(compile("\n".join(self.lines), "<fit step>", "exec"), self.env)
        step: Step = self.env["step"]
        return step

    def _reads_only_constants(self, i: int) -> bool:
        """Do node i's VJPs read only values the leaves do not change?"""
        saves = self.graph.ops[i].saves
        args = self.graph.args[i]
        if saves is None:
            return not self.depends[i] and not any(self.depends[a] for a in args)
        positions, ans = saves
        return not (ans and self.depends[i]) and not any(self.depends[args[p]] for p in positions)

    def _plain_float(self, j: int) -> bool:
        """Is node j's value, at every point, a float32 or float64 array
        (not a numpy scalar: those have no dimensions)?"""
        v = self.values[j]
        return type(v) is np.ndarray and v.ndim > 0 and v.dtype.char in "fd"

    def _mean(self, i: int) -> str:
        """kernels.mean's sum and division, for an input of known shape."""
        x = self.graph.args[i][0]
        axis = self.graph.attrs[i].get("axis")
        shape = np.shape(self.values[x])
        n = self.bind(f"N{i}", np.intp(reduced_size(shape, axis)))
        s = f"REDUCE({self.value(x)}, axis={self.bind(f'MA{i}', axis)})"
        if np.ndim(self.values[i]) == 0:  # a numpy scalar, divided as one
            return f"v{i} = {self.bind(f'T{i}', self.values[i].dtype.type)}({s} / {n})"
        return f'v{i} = {s}; TRUE_DIVIDE(v{i}, {n}, out=v{i}, casting="unsafe")'

    def _vjp(self, i: int, k: int, g: str) -> str:
        """The contribution of node i's gradient `g` to its argument k."""
        graph, values = self.graph, self.values
        name, args = graph.ops[i].name, graph.args[i]
        shape = np.shape(values[i])
        if name in ("add", "sub") and (name, k) != ("sub", 1):
            return self._sum_to(g, shape, np.shape(values[args[k]]))
        if name == "sub":
            return self._sum_to(f"-{g}", shape, np.shape(values[args[k]]))
        if name == "matmul" and all(np.ndim(values[a]) == 2 for a in args):
            # ops._matmul_da and _matmul_db for two matrices
            a, b = (self.value(j) for j in args)
            return f"{g} @ {b}.transpose()" if k == 0 else f"{a}.transpose() @ {g}"
        if name == "pow" and k == 0 and (term := self._square_like(i, g)):
            return term
        return self.call(self.bind(f"B{i}_{k}", graph.ops[i].vjps[k]), i, f"{g}, {self.value(i)}, ")

    def _square_like(self, i: int, g: str) -> str | None:
        """kernels.pow_dx_fast's g * (y * x ** (y - 1)) for x ** y with a
        constant exponent y, where it applies (a float array x, y a number
        other than 0, the result of x's dtype and shape), else None."""
        x, y = self.graph.args[i]
        yv, xv = self.values[y], self.values[x]
        if self.depends[y] or not self._plain_float(x) or np.ndim(yv) or yv == 0:
            return None
        g_like = np.ones(np.shape(self.values[i]), np.asarray(self.values[i]).dtype)
        d = g_like * (yv * kernels.power(xv, yv - 1.0))
        if type(d) is not np.ndarray or d.dtype != xv.dtype or d.shape != xv.shape:
            return None
        if yv == 2:  # x ** 1.0 is x (as in pow_dx_fast)
            return f"{g} * ({self.value(y)} * {self.value(x)})"
        y1 = self.bind(f"Y{i}", yv - 1.0)
        return f"{g} * ({self.value(y)} * POWER({self.value(x)}, {y1}))"

    def _sum_to(self, g: str, gshape: tuple[int, ...], shape: tuple[int, ...]) -> str:
        """ops.unbroadcast(g, shape) for a gradient of shape `gshape`: g
        itself where nothing was broadcast, else kernels.sum_to's sum."""
        if gshape == shape:
            return g
        axes = self.bind(f"RA{len(self.env)}", broadcast_axes(gshape, shape))
        return f"REDUCE({g}, axis={axes}).reshape({shape!r})"
