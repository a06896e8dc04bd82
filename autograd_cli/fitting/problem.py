"""A compiled model seen as a function of one flat vector of parameters, as
optimisers want it: the objective, its gradient and Hessian, and for least
squares the residuals and their Jacobian, all from the engine."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core import OPS
from ..derivatives import hessian, jacobian, jacobian_reverse, only_leaves
from ..engine import backward, evaluate


class Problem:
    """The model's objective as a function of the parameters `names` laid
    end to end in one float64 vector.

    With `residuals` (a node of any shape) the objective is the sum of its
    squares, a node appended to the graph, so that gradients and Hessians
    come from the engine as for any target; otherwise it is the scalar node
    `target`.  Every evaluation writes the point into the graph's leaves, so
    after a fit the model holds whatever point was evaluated last: call
    `set` with the answer."""

    def __init__(self, model, names, target: int | None, residuals: int | None = None):
        self.model = model
        self.graph = graph = model.graph
        self.names = list(names)
        self.nodes = [model.by_name[n].node for n in self.names]
        self.shapes = [tuple(model.shapes[i]) for i in self.nodes]
        self.sizes = [math.prod(s) for s in self.shapes]
        self.offsets = np.cumsum([0] + self.sizes).tolist()
        self.size = self.offsets[-1]
        self.dtype = np.dtype(model.dtype)
        self.residuals = residuals
        if residuals is not None:
            squares = graph.add(OPS["mul"], (residuals, residuals))
            target = graph.add(OPS["sum"], (squares,))
            model.shapes.extend([model.shapes[residuals], ()])
        self.target = target
        self.view = only_leaves(graph, self.nodes)
        self.m = math.prod(model.shapes[residuals]) if residuals is not None else None
        self.evaluations = {"function": 0, "gradient": 0, "hessian": 0}
        self._key = None
        self._values = None
        self._step: Any = None  # compile_step's function; False: the engine's passes

    # -- points

    def start(self) -> np.ndarray:
        """The parameters' values in the file (or as --set gave them)."""
        with np.errstate(all="ignore"):
            values = evaluate(self.graph)  # a leaf's value is its argument's, a constant
        return self.flat([values[i] for i in self.nodes])

    def flat(self, arrays) -> np.ndarray:
        """Arrays shaped as the parameters, as one float64 vector."""
        if not arrays:
            return np.zeros(0)
        return np.concatenate([np.asarray(a, dtype=np.float64).reshape(-1) for a in arrays])

    def split(self, x) -> list[np.ndarray]:
        """A vector as arrays shaped as the parameters, in the model's dtype."""
        x = np.asarray(x, dtype=np.float64)
        return [
            x[lo:hi].astype(self.dtype).reshape(shape)
            for lo, hi, shape in zip(self.offsets, self.offsets[1:], self.shapes)
        ]

    def views(self, buffer: np.ndarray) -> list[np.ndarray]:
        """Arrays shaped as the parameters that are views of the flat
        `buffer` (in the model's dtype): what an optimiser updates in place
        is what the next evaluation reads."""
        return [
            buffer[lo:hi].reshape(shape)
            for lo, hi, shape in zip(self.offsets, self.offsets[1:], self.shapes)
        ]

    def set(self, x):
        """Put the point `x` into the model's leaves."""
        for node, value in zip(self.nodes, self.split(x)):
            self.graph.values[node] = value

    def values(self, x) -> list:
        """Every node's value at `x` (the last point's are kept: optimisers
        ask for the function and its derivatives at the same point)."""
        x = np.asarray(x, dtype=np.float64)
        key = x.tobytes()
        if key != self._key:
            self.set(x)
            with np.errstate(all="ignore"):
                self._values = evaluate(self.graph)
            self._key = key
            self.evaluations["function"] += 1
        return self._values

    # -- the objective

    def objective(self, x) -> float:
        """The objective at `x`."""
        return float(self.values(x)[self.target])

    def gradient(self, x) -> np.ndarray:
        """The objective's gradient at `x`, by the reverse sweep."""
        values = list(self.values(x))  # the sweep may change the list it reads
        seed = np.ones((), dtype=np.asarray(values[self.target]).dtype)
        with np.errstate(all="ignore"):
            grads = backward(self.view, values, self.target, seed)
        self.evaluations["gradient"] += 1
        return self.flat(
            [np.zeros(s) if grads[i] is None else grads[i] for i, s in zip(self.nodes, self.shapes)]
        )

    def objective_and_gradient(self, x):
        """(objective, gradient) at `x`, as scipy.optimize's jac=True wants."""
        f, grads = self.at(self.split(x))
        return f, self.flat(grads)

    def at(self, arrays) -> tuple[float, list[np.ndarray]]:
        """The objective and its gradient for each parameter, given arrays
        shaped as the parameters in the model's dtype: one pass of the
        compiled step (fitting/compiled.py), or of the engine where the
        graph is too large to compile.  Numpy's floating-point warnings are
        the caller's to silence (minimise runs under np.errstate): entering
        errstate costs more than a small model's whole step."""
        if self._step is None:
            from .compiled import compile_step

            values = self.values(self.start())
            step = compile_step(self.graph, self.nodes, self.target, values, self.view.requires)
            self._step = False if step is None else step
        if self._step is False:
            x = self.flat(arrays)
            return self.objective(x), self.split(self.gradient(x))
        try:
            f, grads = self._step(*arrays)
        except MemoryError:  # the engine's passes say which node it was
            x = self.flat(arrays)
            return self.objective(x), self.split(self.gradient(x))
        self.evaluations["function"] += 1
        self.evaluations["gradient"] += 1
        return float(f), grads

    def hessian(self, x) -> np.ndarray:
        """The objective's Hessian at `x` (forward over reverse), n by n."""
        self.set(x)
        self._key = None
        with np.errstate(all="ignore"):
            blocks = hessian(self.graph, self.target, self.nodes)
        self.evaluations["hessian"] += 1
        rows = [
            np.concatenate(
                [np.reshape(blocks[(i, j)], (si, sj)) for j, sj in zip(self.nodes, self.sizes)],
                axis=1,
            )
            for i, si in zip(self.nodes, self.sizes)
        ]
        return np.concatenate(rows, axis=0).astype(np.float64)

    # -- least squares

    def residual_vector(self, x) -> np.ndarray:
        """The residuals at `x`, flat."""
        return np.asarray(self.values(x)[self.residuals], dtype=np.float64).reshape(-1)

    def jacobian(self, x) -> np.ndarray:
        """The residuals' Jacobian at `x`, m by n: forward mode (one tangent
        per parameter element) when the parameters are fewer than the
        residuals, as they usually are; else one reverse sweep per residual."""
        values = list(self.values(x))
        with np.errstate(all="ignore"):
            if self.size < self.m:
                blocks = jacobian(self.graph, self.residuals, self.nodes, values=values)
            else:
                blocks = jacobian_reverse(self.view, self.residuals, self.nodes, values=values)
        self.evaluations["gradient"] += 1
        return np.concatenate(
            [np.reshape(b, (self.m, s)) for b, s in zip(blocks, self.sizes)], axis=1
        ).astype(np.float64)
