"""The shape rules of the ops, and the errors they raise.

Each op of the table (ops.py) declares a rule that gives the shape of its
result from the shapes of its arguments (and its static attributes), or
raises `ShapeError`; the compiler runs them before anything is allocated,
and adds the location to the error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .core import Shape
from .errors import ShapeError

Axis = int | tuple[int, ...] | None  # an `axis=` argument
Key = tuple[int | slice, ...]  # an index: ints and slices, as numpy's basic indexing


def fmt_shape(shape: Sequence[int]) -> str:
    """A shape as Python writes a tuple: (), (3,), (2, 3)."""
    return "(" + ", ".join(map(str, shape)) + (",)" if len(shape) == 1 else ")")


# ---------------------------------------------------------------- shape rules


def same(s: Shape, **_: Any) -> Shape:
    """The shape rule of an elementwise op: its argument's shape."""
    return s


def broadcast(*shapes: Shape, **_: Any) -> Shape:
    """The shape rule of a broadcasting op: numpy's common shape."""
    first = shapes[0]
    if all([s == first for s in shapes]):
        return first
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ShapeError(
            "shapes " + " and ".join(map(fmt_shape, shapes)) + " do not broadcast together"
        ) from None


def norm_axis(axis: Axis, ndim: int) -> Axis:
    """Check `axis` (int, tuple or None) against `ndim`; return it normalised."""
    if axis is None:
        return None
    axes = axis if isinstance(axis, tuple) else (axis,)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ShapeError(
                f"axis {a} is out of range for an array of "
                f"{ndim} dimension{'s' if ndim != 1 else ''}"
            )
        out.append(a % ndim)
    return tuple(out) if isinstance(axis, tuple) else out[0]


def reduced(s: Shape, axis: Axis = None, keepdims: bool = False) -> Shape:
    """The shape rule of a reduction over `axis` (None: every axis)."""
    axis = norm_axis(axis, len(s))
    axes = range(len(s)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(s))
    return tuple(d for i, d in enumerate(s) if i not in axes)


def nonempty_reduced(s: Shape, axis: Axis = None, keepdims: bool = False) -> Shape:
    """`reduced`, refusing to reduce over no elements (mean, max, min)."""
    out = reduced(s, axis, keepdims)
    axis = norm_axis(axis, len(s))
    if reduced_size(s, axis) == 0:
        raise ShapeError(f"cannot reduce an empty array of shape {fmt_shape(s)}")
    return out


def along_axis(s: Shape, axis: int = -1) -> Shape:
    """The shape rule of softmax and log_softmax: an array, kept as it is."""
    if not s:
        raise ShapeError("needs an array with at least one dimension, not a scalar")
    norm_axis(axis, len(s))
    return s


def matmul_shape(a: Shape, b: Shape) -> Shape:
    """The shape rule of ``@``, numpy's `matmul`: vectors, matrices and
    stacks of matrices (the leading axes broadcast); a vector operand is a
    matrix of one row (on the left) or one column (on the right), that axis
    then dropped from the result."""
    if len(a) == 0 or len(b) == 0:
        raise ShapeError(
            "matrix product needs vectors or matrices, not scalars "
            f"(shapes {fmt_shape(a)} and {fmt_shape(b)}); use * to scale"
        )
    inner = b[0] if len(b) == 1 else b[-2]
    if a[-1] != inner:
        raise ShapeError(
            f"matrix product of shapes {fmt_shape(a)} and {fmt_shape(b)}: "
            f"inner dimensions {a[-1]} and {inner} differ"
        )
    batch = batch_shape(a[:-2], b[:-2], "matrix product", a, b)
    return batch + a[-2:-1] + b[-1:] if len(b) > 1 else batch + a[-2:-1]


def batch_shape(a: Shape, b: Shape, what: str, sa: Shape, sb: Shape) -> Shape:
    """The broadcast of two stacks' leading (batch) axes `a` and `b`, for
    `what` of operands of shapes `sa` and `sb`."""
    if a == b:
        return a
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        raise ShapeError(
            f"{what} of shapes {fmt_shape(sa)} and {fmt_shape(sb)}: the stacks' "
            f"leading dimensions {fmt_shape(a)} and {fmt_shape(b)} do not broadcast"
        ) from None


def index_shape(s: Shape, key: Key) -> Shape:
    """The shape of an array of shape `s` indexed by `key` (ints and slices,
    as numpy's basic indexing); numpy words the errors."""
    if len(key) <= len(s):
        out = []
        for k, d in zip(key, s):
            if type(k) is slice:
                out.append(len(range(*k.indices(d))))
            elif not -d <= k < d:
                break
        else:
            return tuple(out) + s[len(key) :]
    probe = np.broadcast_to(np.empty((), dtype=np.int8), s)
    try:
        return probe[key].shape
    except IndexError as e:
        raise ShapeError(str(e)) from None


def reshape_shape(s: Shape, shape: Shape) -> Shape:
    """The shape rule of reshape: `shape`, with at most one -1 worked out."""
    size = math.prod(s)
    if shape.count(-1) > 1:
        raise ShapeError("reshape takes at most one -1 dimension")
    if any(d < -1 for d in shape):
        raise ShapeError(f"reshape dimensions must be non-negative (or one -1), got {shape}")
    if -1 in shape:
        rest = math.prod(d for d in shape if d != -1)
        if rest == 0 or size % rest:
            raise ShapeError(
                f"cannot reshape an array of shape {fmt_shape(s)} "
                f"(size {size}) into {fmt_shape(shape)}"
            )
        shape = tuple(size // rest if d == -1 else d for d in shape)
    if math.prod(shape) != size:
        raise ShapeError(
            f"cannot reshape an array of shape {fmt_shape(s)} (size {size}) "
            f"into {fmt_shape(shape)} (size {math.prod(shape)})"
        )
    return tuple(shape)


def stack_shape(*shapes: Shape) -> Shape:
    """The shape rule of a list literal: its elements' common shape, one more axis."""
    for s in shapes[1:]:
        if s != shapes[0]:
            raise ShapeError(
                f"ragged list: elements have shapes {fmt_shape(shapes[0])} and {fmt_shape(s)}"
            )
    return (len(shapes),) + (shapes[0] if shapes else ())


def reduced_size(shape: Shape, axis: Axis) -> int:
    """How many elements a reduction over `axis` (None: all) adds up into each."""
    if axis is None:
        return math.prod(shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    return math.prod(shape[a] for a in axes)


def arange_size(start: float, stop: float, step: float) -> int:
    """How many elements arange(start, stop, step) has."""
    if step == 0:
        raise ShapeError("arange: step must not be zero")
    q = (stop - start) / step
    if not math.isfinite(q):
        raise ShapeError("arange: the number of elements is not finite")
    return max(0, math.ceil(q))


# ------------------------------------------- joins and linear algebra


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def var_shape(s: Shape, axis: int | None = None, correction: float = 1) -> Shape:
    """The shape rule of var and std: a reduction that leaves degrees of
    freedom (more elements than `correction`)."""
    out = nonempty_reduced(s, axis)
    n = reduced_size(s, norm_axis(axis, len(s)))
    if n - correction <= 0:
        raise ShapeError(
            f"correction={correction:g} leaves no degrees of freedom for "
            f"{_plural(n, 'element')} (it needs more elements than the correction)"
        )
    return out


def cumsum_shape(s: Shape, axis: int | None = None) -> Shape:
    """The shape rule of cumsum: `s`, or flattened with no axis (as numpy)."""
    if axis is None:
        return (math.prod(s),)
    norm_axis(axis, len(s))
    return s


def concat_shape(*shapes: Shape, axis: int = 0) -> Shape:
    """The shape rule of concat: arrays of one rank, equal but along `axis`."""
    first = shapes[0]
    if not first:
        raise ShapeError("concat joins arrays along an axis, not scalars; stack() stacks them")
    ax = norm_axis(axis, len(first))
    assert isinstance(ax, int)
    for k, s in enumerate(shapes[1:], 2):
        if len(s) != len(first) or s[:ax] + s[ax + 1 :] != first[:ax] + first[ax + 1 :]:
            raise ShapeError(
                f"concat along axis {axis}: array {k} has shape {fmt_shape(s)}, but "
                f"array 1 has shape {fmt_shape(first)}; they must match but along the axis"
            )
    return first[:ax] + (sum([s[ax] for s in shapes]),) + first[ax + 1 :]


def stack_axis_shape(*shapes: Shape, axis: int = 0) -> Shape:
    """The shape rule of stack: arrays of one shape, a new axis at `axis`."""
    first = shapes[0]
    for k, s in enumerate(shapes[1:], 2):
        if s != first:
            raise ShapeError(
                f"stack: array {k} has shape {fmt_shape(s)}, but array 1 has shape "
                f"{fmt_shape(first)}; stacked arrays must have one shape"
            )
    ax = norm_axis(axis, len(first) + 1)
    assert isinstance(ax, int)
    return first[:ax] + (len(shapes),) + first[ax:]


def diag_shape(s: Shape) -> Shape:
    """The shape rule of diag: a vector's square matrix, a matrix's diagonal."""
    if len(s) == 1:
        return (s[0], s[0])
    if len(s) == 2:
        return (min(s),)
    raise ShapeError(f"diag takes a vector or a matrix, not an array of shape {fmt_shape(s)}")


def trace_shape(s: Shape) -> Shape:
    """The shape rule of trace: one matrix to a number."""
    if len(s) != 2:
        raise ShapeError(f"trace takes a matrix, not an array of shape {fmt_shape(s)}")
    return ()


def outer_shape(a: Shape, b: Shape) -> Shape:
    """The shape rule of outer: two vectors to a matrix."""
    if len(a) != 1 or len(b) != 1:
        raise ShapeError(
            f"outer takes two vectors, not arrays of shapes {fmt_shape(a)} and {fmt_shape(b)}"
        )
    return a + b


def square_shape(s: Shape, what: str) -> Shape:
    """Check that `s` is a square matrix or a stack of them, for `what`."""
    if len(s) < 2 or s[-1] != s[-2]:
        raise ShapeError(
            f"{what} takes a square matrix (or a stack of them), not an array "
            f"of shape {fmt_shape(s)}"
        )
    if s[-1] == 0:
        raise ShapeError(f"{what} takes a matrix of at least one row, not of shape {fmt_shape(s)}")
    return s


def det_shape(s: Shape) -> Shape:
    """The shape rule of det: square matrices to numbers."""
    return square_shape(s, "det")[:-2]


def inv_shape(s: Shape) -> Shape:
    """The shape rule of inv: square matrices to their inverses."""
    return square_shape(s, "inv")


def solve_shape(a: Shape, b: Shape) -> Shape:
    """The shape rule of solve(A, b), numpy 2's: `b` is one vector when it
    has one dimension, else a matrix of columns (or a stack of them) whose
    leading axes broadcast with A's."""
    square_shape(a, "solve")
    n = a[-1]
    if len(b) == 1:
        if b[0] != n:
            raise ShapeError(
                f"solve: A of shape {fmt_shape(a)} needs a vector b of {n} elements, "
                f"not of shape {fmt_shape(b)}"
            )
        return a[:-1]
    if len(b) == 0 or b[-2] != n:
        raise ShapeError(
            f"solve: A of shape {fmt_shape(a)} needs b of shape ({n},) or "
            f"({n}, k) (or a stack of them), not {fmt_shape(b)}"
        )
    return batch_shape(a[:-2], b[:-2], "solve", a, b) + b[-2:]


def swap_shape(s: Shape) -> Shape:
    """The shape rule of swapping the last two axes."""
    return s[:-2] + s[-1:] + s[-2:-1]
