"""The compiled model: its records, and what compiling and running share.

A `Model` is a checked graph with its bindings; `compiling.load` makes one
from a file and `running.run` evaluates it.  Here too are the dtypes, the
default size limit, the "did you mean" hint, the pause of the garbage
collector both phases run under, and how an error names the command-line
options that reshaped a binding.
"""

from __future__ import annotations

import time

import numpy as np

from . import options
from .core import Graph
from .errors import ExprError, Source, Spans
from .parser import Statement
from .shapes import fmt_shape

# The numpy type of each --dtype choice.
DTYPES = {name: np.dtype(name).type for name in options.DTYPES}


# The records below are plain classes, not dataclasses: making a dataclass
# runs `exec` for each generated method at every start.


class Binding:
    __slots__ = ("name", "kind", "statement", "node")

    def __init__(self, name: str, kind: str, statement: Statement, node: int):
        self.name = name
        self.kind = kind  # 'param', 'input' or 'node'
        self.statement = statement
        self.node = node  # graph node holding the binding's value

    @property
    def expr(self) -> str:
        return self.statement.rhs_text

    def __repr__(self):
        return f"Binding({self.name!r}, {self.kind!r}, node={self.node})"


class Model:
    __slots__ = (
        "source",
        "dtype",
        "graph",
        "shapes",
        "spans",
        "labels",
        "owners",
        "bindings",
        "by_name",
        "sets",
        "floats",
        "reshaped",
        "memo",
    )

    def __init__(
        self,
        source: Source,
        dtype: str,
        graph: Graph,
        shapes: list,
        spans: Spans,
        labels: list,
        owners: list,
        bindings: list,
        by_name: dict,
        sets=None,
    ):
        self.source = source
        self.dtype = dtype
        self.graph = graph
        self.shapes = shapes  # per node
        self.spans = spans  # per node
        self.labels = labels  # per node: what made it ('mul', 'number', 'leaf', ...)
        self.owners = owners  # per node: index of the binding it belongs to
        self.bindings = bindings
        self.by_name = by_name
        self.sets = {} if sets is None else sets  # name -> the value --set/--set-json gave
        self.floats = True  # `run` computes float64 scalars as Python floats
        self.reshaped = []  # (name, option, file's shape, new shape, span) per
        # binding whose shape --set/--set-json changed
        self.memo = None  # what running works out once for the model (running.Memo)

    def __repr__(self):
        return (
            f"Model({self.source.name!r}, {self.dtype}, "
            f"{len(self.bindings)} bindings, {len(self.shapes)} nodes)"
        )

    def binding(self, name: str, option: str) -> Binding:
        """The binding called `name`, named by a command-line `option`."""
        b = self.by_name.get(name)
        if b is None:
            whole, bracket, _ = name.partition("[")
            if bracket and whole.strip() in self.by_name:
                whole = whole.strip()
                hint = (
                    f"bind the element to a name in the file (t = {name}) and use {option} t"
                    if option == "--of"
                    else f"use {option} {whole} (every element of it), or autograd-cli explain "
                    f'--wrt "{name}" for the chain rule of one element'
                )
                raise ExprError(
                    f"{option} {name}: {option} takes the name of a binding, and "
                    f"'{name}' is part of '{whole}': {hint}"
                )
            raise ExprError(
                f"{option} {name}: there is no binding named '{name}' in "
                f"{self.source.name}{suggest(name, self.by_name)}"
            )
        return b


def suggest(name, names) -> str:
    """' (did you mean ...?)' with the closest of `names`; ties go to the first."""
    import difflib  # only for a message: not at every start

    best, best_score = None, 0.5
    n = len(name)
    for candidate in names:
        # The ratio is at most this bound (difflib's real_quick_ratio): most
        # names of a long file are passed over without a matcher.
        m = len(candidate)
        if 2 * min(n, m) / (n + m or 1) < best_score:
            continue
        score = difflib.SequenceMatcher(None, name, candidate).ratio()
        if score > best_score or (score == best_score and best is None):
            best, best_score = candidate, score
    return f" (did you mean '{best}'?)" if best is not None else ""


def lap(timings, phase, start):
    """Add the time since `start` to `timings[phase]`; the time now."""
    now = time.perf_counter()
    if timings is not None:
        timings[phase] = timings.get(phase, 0.0) + now - start
    return now


def blame_reshaped(error: ExprError, reshaped, source) -> ExprError:
    """`error`, naming the options that changed a binding's shape: an error
    located in the file may come from a shape the command line gave."""
    if not reshaped or error.span is None or error.span.source is not source:
        return error
    error.message += "".join(
        f" ({option} changed the shape of '{name}' from {fmt_shape(was)} to {fmt_shape(now)})"
        for name, option, was, now, _ in reshaped
    )
    error.notes += [
        (span, f"'{name}' is given shape {fmt_shape(now)} here, by {option}")
        for name, option, was, now, span in reshaped
    ]
    return error


def format_bytes(n: int) -> str:
    """`n` bytes for a message: in bytes, KiB, MiB, GiB or TiB."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:,} bytes" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TiB"
