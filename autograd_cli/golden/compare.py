"""Comparing a golden file with a run: the tolerances, rounding noise, and
the mismatches found.

Numbers are compared within a tolerance (see `tolerance`), names, kinds and
shapes exactly, warnings by node and message; `file`, `schema`, each node's
`expr` and each warning's line and column are not compared.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

from ..errors import ExprError
from .format import Golden, locate

# (rtol, atol) by dtype, when --rtol/--atol are not given: the numbers of
# torch.testing.assert_close, but atol counts in units of the field's
# largest magnitude (see `tolerance`).  They absorb the last-bit differences
# between machines and numpy builds (a BLAS's order of summation, a libm's exp).
DEFAULT_TOLERANCES = {"float64": (1e-7, 1e-7), "float32": (1.3e-6, 1e-5)}
# Rounding noise (see `rounding_noise`): the params and inputs are moved by
# about NUDGE units in the last place, and a number may differ by NOISE_FACTOR
# times what that moved it.
NUDGE = 8
NOISE_FACTOR = 8
NOISE_SEEDS = (1, 2)
SHOWN_MISMATCHES = 10


@dataclass
class Mismatch:
    """One difference between a golden file and the run.  For numbers, the
    element `index` with `expected`, `got`, their difference and the
    tolerance allowed there; otherwise a `message`."""

    where: str
    index: tuple | None = None
    expected: float | None = None
    got: float | None = None
    allowed: float | None = None
    message: str | None = None

    @property
    def difference(self):
        """got - expected, for numbers; None otherwise."""
        return None if self.message is not None else self.got - self.expected

    def text(self) -> str:
        """The mismatch as a line of the text report."""
        if self.message is not None:
            return f"{self.where}: {self.message}"
        idx = "" if not self.index else "[" + ", ".join(map(str, self.index)) + "]"
        with np.errstate(all="ignore"):
            diff = self.difference
        return (
            f"{self.where}{idx}: expected {_num(self.expected)}, got {_num(self.got)}, "
            f"difference {diff:.6g} (allowed {self.allowed:.3g})"
        )

    def as_dict(self) -> dict:
        """The mismatch as `--format json` gives it."""
        from ..jsonout import json_number

        d = {"where": self.where}
        if self.message is not None:
            d["message"] = self.message
            return d
        with np.errstate(all="ignore"):
            diff = self.difference
        d.update(
            index=list(self.index or ()),
            expected=json_number(self.expected),
            got=json_number(self.got),
            difference=json_number(diff),
            allowed=json_number(self.allowed),
        )
        return d


def _num(x: float) -> str:
    return repr(float(x))


def _expected(golden, keys, what):
    """A number or tensor of the golden file as a float64 array."""
    from .. import jsonin

    value = golden.doc
    for k in keys:
        value = value[k]
    try:
        return jsonin.to_array(value, None, what)
    except ExprError as err:
        err.span = locate(golden.source, keys)
        raise


class _Collector:
    def __init__(self):
        self.shown = []
        self.count = 0

    def add(self, mismatch, count=1):
        if len(self.shown) < SHOWN_MISMATCHES:
            self.shown.append(mismatch)
        self.count += count


def field_scale(want) -> float:
    """The largest finite magnitude in a golden field (one node's value or
    gradient, or the golden `value`); 0 if it has none."""
    if want.ndim == 0:
        return abs(float(want)) if math.isfinite(want) else 0.0
    with np.errstate(all="ignore"):
        finite = np.abs(want[np.isfinite(want)])
    return float(finite.max()) if finite.size else 0.0


def tolerance(want, rtol, atol, noise=0.0, dtype="float64"):
    """What each element of the golden field `want` may differ by:
    ``rtol * |want| + atol * field_scale(want) + noise + tiny``.

    The absolute part is in units of the field's largest magnitude, not a
    fixed number, so a change is caught at any scale (a tiny scalar that
    doubles fails, as a huge one does) while elements near zero beside large
    ones may carry the large ones' rounding.  `noise` is the field's
    rounding noise (`rounding_noise`); `tiny`, the dtype's smallest normal
    number, lets a number that underflows on one machine be 0 on another."""
    tiny = float(np.finfo(dtype).tiny)
    with np.errstate(all="ignore"):
        return rtol * np.abs(want) + (atol * field_scale(want) + noise + tiny)


def _compare_numbers(out, where, want, got, rtol, atol, noise, dtype):
    got = np.asarray(got, dtype=np.float64)
    if want.shape != got.shape:
        out.add(
            Mismatch(
                where, message=f"expected shape {list(want.shape)}, got shape {list(got.shape)}"
            )
        )
        return
    room = tolerance(want, rtol, atol, noise, dtype)
    with np.errstate(all="ignore"):
        finite = np.isfinite(want) & np.isfinite(got)
        # inf matches only an inf of its sign, nan only nan
        ok = np.where(
            finite, np.abs(got - want) <= room, (got == want) | (np.isnan(got) & np.isnan(want))
        )
    bad = np.flatnonzero(~ok)
    space = max(0, SHOWN_MISMATCHES - len(out.shown))
    for k in bad[:space]:
        index = tuple(int(i) for i in np.unravel_index(k, want.shape))
        out.add(
            Mismatch(where, index, float(want.flat[k]), float(got.flat[k]), float(room.flat[k]))
        )
    out.count += max(0, len(bad) - space)


def rounding_noise(report, fields) -> dict:
    """The rounding noise of some of a run's fields: ``{(name, "value" or
    "grad"): noise}`` for the `fields` given so.

    A number left over from a cancellation is rounding noise: it may come
    out 0, or of either sign, where another machine rounds otherwise.
    Nothing in the golden file tells it from a small number that means
    something; how much it moves when the last bits move does.  The file is
    run again (once per NOISE_SEEDS) with every param and input multiplied
    by 1 + NUDGE * eps * z, z standard normal from a fixed seed, which
    stirs the last bits of every intermediate as another machine's rounding
    would; a field's noise is NOISE_FACTOR times the most it moved.  That
    is far below `rtol` for a number that is not noise, and the size of the
    cancelled terms' last bits for one that is, whether it cancels at these
    inputs only or at any (a sum of deviations from the mean).  The values
    of params and inputs are data, not computed: no noise.  The figures,
    for the projectile example, are in docs/golden-tests.md (Tolerances)."""
    by_name = report.model.by_name
    moved = dict.fromkeys(fields, 0.0)
    computed = [
        (name, what) for name, what in moved if what == "grad" or by_name[name].kind == "node"
    ]
    if not computed:
        return moved
    eps = float(np.finfo(report.model.dtype).eps)
    for seed in NOISE_SEEDS:
        run = _nudged(report, seed, NUDGE * eps)
        for name, what in computed:
            base = (report.values if what == "value" else report.grads)[name]
            got = (run.values if what == "value" else run.grads)[name]
            with np.errstate(all="ignore"):
                d = np.abs(np.asarray(got, dtype=np.float64) - np.asarray(base, dtype=np.float64))
            if d.ndim == 0:
                d = float(d)
                if math.isfinite(d):  # a nan or inf moved tells nothing of rounding
                    moved[name, what] = max(moved[name, what], d)
                continue
            d = d[np.isfinite(d)]
            if d.size:
                moved[name, what] = max(moved[name, what], float(d.max()))
        del run  # one nudged run held at a time
    return {field: NOISE_FACTOR * m for field, m in moved.items()}


_NUDGE_CHUNK = 1 << 16  # elements: the random numbers are made a slice at a time


def _nudged(report, seed, delta):
    """The run of `report` again, every param and input times 1 + delta * z."""
    from ..model import DTYPES
    from ..running import run

    model = report.model
    graph = copy.copy(model.graph)
    graph.values = list(graph.values)
    rng = np.random.default_rng(seed)
    dtype = DTYPES[model.dtype]
    for b in model.bindings:
        if b.kind == "node":
            continue
        v = np.asarray(report.values[b.name])
        nudged = np.empty(v.shape, dtype)
        src, out = v.reshape(-1), nudged.reshape(-1)
        with np.errstate(all="ignore"):
            for start in range(0, src.size, _NUDGE_CHUNK):
                part = src[start : start + _NUDGE_CHUNK]
                z = rng.standard_normal(part.size)
                out[start : start + part.size] = part + part * (delta * z)
        # A leaf given a value is not computed, as a constant is not.
        graph.values[b.node] = nudged
    nudged_model = copy.copy(model)
    nudged_model.graph = graph
    nudged_model.memo = None  # what was worked out is of the model's own constants
    return run(nudged_model, report.target.name, every_node=False)


def _same(a, b) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


def compare(golden: Golden, report, rtol: float, atol: float):
    """The mismatches between a golden file and a run: (first few, count).

    They are listed params first (the numbers a formula is about), then
    the target, then the other bindings, then the warnings.  The
    golden `value` and the target's own value are one number: compared
    once."""
    from ..jsonout import warning_dict
    from ..model import suggest

    head, params, target, rest, tail = (_Collector() for _ in range(5))
    doc = golden.doc
    model = report.model
    name_of_target = report.target.name
    dtype = model.dtype
    nodes = doc.get("nodes", {})
    fields = [(name_of_target, "value")] if "value" in doc else []
    fields += [
        (name, what)
        for name, entry in nodes.items()
        if name in model.by_name
        for what in ("value", "grad")
        if what in entry
    ]
    noise = rounding_noise(report, fields)
    if "value" not in doc and not nodes and "warnings" not in doc:
        head.add(
            Mismatch(
                "golden file",
                message="it lists nothing to compare (no value, "
                "nodes or warnings); --update fills it in",
            )
        )
    if "value" in doc:
        want = _expected(golden, ["value"], "the golden 'value'")
        entry = nodes.get(name_of_target)
        twin = (
            type(entry) is dict
            and "value" in entry
            and _same(
                want,
                _expected(
                    golden,
                    ["nodes", name_of_target, "value"],
                    f"the golden value of '{name_of_target}'",
                ),
            )
        )
        if not twin:
            _compare_numbers(
                target,
                "value",
                want,
                report.values[name_of_target],
                rtol,
                atol,
                noise[name_of_target, "value"],
                dtype,
            )
    order = {b.name: k for k, b in enumerate(model.bindings)}

    def rank(name):
        b = model.by_name.get(name)
        if b is None:  # after the bound ones, in the golden file's order
            return (2, len(order))
        return (1 if name == name_of_target else 0 if b.kind == "param" else 2, order[name])

    for name in sorted(nodes, key=rank):
        entry = nodes[name]
        b = model.by_name.get(name)
        if b is None:
            rest.add(
                Mismatch(
                    name,
                    message=f"in the golden file, but there is no binding "
                    f"named '{name}' in {model.source.name}"
                    f"{suggest(name, model.by_name)}",
                )
            )
            continue
        out = target if name == name_of_target else params if b.kind == "param" else rest
        if "kind" in entry and entry["kind"] != b.kind:
            out.add(Mismatch(f"{name}.kind", message=f"expected {entry['kind']}, got {b.kind}"))
        shape = list(report.values[name].shape)
        if "shape" in entry and entry["shape"] != shape:
            out.add(Mismatch(f"{name}.shape", message=f"expected {entry['shape']}, got {shape}"))
            continue
        for what, got in (("value", report.values), ("grad", report.grads)):
            if what in entry:
                want = _expected(golden, ["nodes", name, what], f"the golden {what} of '{name}'")
                _compare_numbers(
                    out, f"{name}.{what}", want, got[name], rtol, atol, noise[name, what], dtype
                )
    if "warnings" in doc:
        got = [warning_dict(w) for w in report.warnings]
        want = doc["warnings"]
        got_keys, want_keys = [_warning_key(w) for w in got], [_warning_key(w) for w in want]
        if got_keys != want_keys:
            k = next(
                (k for k, (a, b) in enumerate(zip(want_keys, got_keys)) if a != b),
                min(len(want), len(got)),
            )
            tail.add(
                Mismatch(
                    f"warnings[{k}]",
                    message=f"expected "
                    f"{_warning_text(want[k]) if k < len(want) else 'no warning'}, "
                    f"got {_warning_text(got[k]) if k < len(got) else 'no warning'}",
                )
            )
    groups = (head, params, target, rest, tail)
    shown = [m for g in groups for m in g.shown][:SHOWN_MISMATCHES]
    return shown, sum(g.count for g in groups)


def moved_warnings(golden: Golden, report) -> int:
    """How many of the golden file's warnings are the run's (the same node and
    message, in the same order) but stored at a line or column where they no
    longer are: 0 when the golden file does not list warnings, or when they
    differ (a mismatch, which `compare` reports).  The place is not compared,
    so such a file passes; `--update` rewrites it."""
    from ..jsonout import warning_dict

    if "warnings" not in golden.doc:
        return 0
    want = golden.doc["warnings"]
    got = [warning_dict(w) for w in report.warnings]
    if [_warning_key(w) for w in want] != [_warning_key(w) for w in got]:
        return 0
    # Equal keys make every stored warning a dict, as the run's are.
    return sum(
        any(k in w and w[k] != g.get(k) for k in ("line", "column")) for w, g in zip(want, got)
    )


def _warning_key(w):
    """What of a warning is compared: all but its place, which moves when a
    line is added above it (it stays in the golden file, for people)."""
    if type(w) is dict:
        return {k: v for k, v in w.items() if k not in ("line", "column")}
    return w


def _warning_text(w) -> str:
    import json

    if type(w) is dict and "message" in w:
        node = f" in '{w['node']}'" if type(w.get("node")) is str else ""
        where = ""
        if "line" in w:
            where = f" (line {json.dumps(w['line'])}"
            where += f", column {json.dumps(w['column'])})" if "column" in w else ")"
        return f"{json.dumps(w['message'], ensure_ascii=False)}{node}{where}"
    return json.dumps(w, ensure_ascii=False)
