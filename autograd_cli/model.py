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
from .hints import ALIASES, alias_hint
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
    """' (did you mean ...?)' with the closest of `names`, or "" when none
    is close enough; ties go to the first.

    Close enough: at most one edit (insert, delete, replace, or swap two
    neighbours) per three characters of `name`, and at least half the
    characters in common (difflib's ratio).  Looser, `matmul` would get
    'maximum': no suggestion is better than a wrong one."""
    import difflib  # only for a message: not at every start

    n = len(name)
    limit = max(1, n // 3)
    best, best_edits = None, limit + 1
    for candidate in names:
        # Most names of a long file are passed over on their length alone.
        if abs(len(candidate) - n) >= best_edits:
            continue
        edits = edit_distance(name, candidate, best_edits)
        if edits >= best_edits:
            continue
        if difflib.SequenceMatcher(None, name, candidate).ratio() < 0.5:
            continue
        best, best_edits = candidate, edits
    return f" (did you mean '{best}'?)" if best is not None else ""


def function_hint(name, functions) -> str:
    """The hint for an unknown function `name`: its counterpart if it comes
    from numpy, PyTorch or maths (`ln`: 'log'; `matmul`: write a @ b), else
    the closest of `functions`.  A name known from elsewhere whose
    counterpart the language lacks gets nothing: its near spellings (`sgn`,
    'sin') are not what was meant."""
    if name in ALIASES:
        return alias_hint(name, functions)
    return suggest(name, functions)


def edit_distance(a: str, b: str, cap: int) -> int:
    """The optimal string alignment distance between `a` and `b` (edits:
    insert, delete, replace, swap two neighbours), or `cap` if it is at
    least `cap`."""
    if abs(len(a) - len(b)) >= cap:
        return cap
    before, row = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
            if before is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) >= cap:
            return cap
        before, row = row, current
    return min(row[-1], cap)


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
