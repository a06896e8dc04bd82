"""`autograd-cli test`: every .expr file against its golden file.

A golden file, ``NAME.golden.json`` beside ``NAME.expr``, is what
``autograd-cli eval NAME.expr --format json`` printed, whole or in part:
only what it lists is compared.  Its `target`, `dtype` and `set` say how to
run the file again (``--of``, ``--dtype``, ``--set-json``); numbers are
compared within a tolerance (see `tolerance`), names, kinds and shapes
exactly, warnings by node and message; `file`, `schema`, each node's `expr`
and each warning's line and column are not compared.  A golden file whose
.expr is gone fails too.

The files are the checkout's, which CI may not trust: a link is followed
only to a file inside the tested tree (`resolve`), only regular files are
read (`read_found`), and a report is never written through a link planted
where it goes (`write_report`).
"""

from __future__ import annotations

import copy
import errno
import math
import os
import re
import stat
import sys
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from .errors import ExprError, Source, Span, display_path, format_diagnostic

GOLDEN_SUFFIX = ".golden.json"
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
TOP_KEYS = ("schema", "file", "target", "dtype", "set", "value", "nodes", "warnings")
NODE_KEYS = ("kind", "expr", "shape", "value", "grad")
KINDS = ("param", "input", "node")
SCHEMA = 1


# ------------------------------------------------------------------ results

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
        return None if self.message is not None else self.got - self.expected

    def text(self) -> str:
        if self.message is not None:
            return f"{self.where}: {self.message}"
        idx = "" if not self.index else "[" + ", ".join(map(str, self.index)) + "]"
        with np.errstate(all="ignore"):
            diff = self.difference
        return (f"{self.where}{idx}: expected {_num(self.expected)}, got {_num(self.got)}, "
                f"difference {diff:.6g} (allowed {self.allowed:.3g})")

    def as_dict(self) -> dict:
        from .render import json_number

        d = {"where": self.where}
        if self.message is not None:
            d["message"] = self.message
            return d
        with np.errstate(all="ignore"):
            diff = self.difference
        d.update(index=list(self.index or ()), expected=json_number(self.expected),
                 got=json_number(self.got), difference=json_number(diff),
                 allowed=json_number(self.allowed))
        return d


def _num(x: float) -> str:
    return repr(float(x))


@dataclass
class Outcome:
    """What became of one .expr file."""
    path: str
    golden: str
    status: str                  # pass, fail, updated, created
    reason: str | None = None    # of a failure: mismatch, missing, unused, error
    seconds: float = 0.0
    mismatches: list = field(default_factory=list)   # the first SHOWN_MISMATCHES
    count: int = 0                                   # mismatches in all
    error: ExprError | None = None
    error_fallback: str = ""
    note: str = ""
    rtol: float | None = None    # the tolerances used
    atol: float | None = None
    unwritten: bool = False      # --update could not write the golden file

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    @property
    def shown(self) -> str:
        """The path as people see it (`display_path`)."""
        return display_path(self.path)

    def detail_lines(self, colour=False) -> list:
        """The lines under the file's line: mismatches, or the located error."""
        if self.error is not None:
            return format_diagnostic("error", self.error.message, self.error.span,
                                     self.error_fallback, self.error.notes,
                                     colour=colour).split("\n")
        lines = ["  " + m.text() for m in self.mismatches]
        if self.count > len(self.mismatches):
            lines.append(f"  ... and {self.count - len(self.mismatches)} more "
                         f"({self.count} mismatches in all)")
        return lines


# ------------------------------------------------------------------ finding

def find_expr_files(paths):
    """The .expr files under `paths`, sorted within each directory, each once,
    with the golden files whose .expr is gone in their place among them, as
    ``(path, tree)`` pairs; and ``(path, message)`` for each path that is
    not usable.

    `tree` is the real path of the tested tree the file was found in: the
    PATH directory, or the directory of a file named as PATH (see
    `resolve`).  Directories are walked without recursion, and links to
    directories are not followed (their files are found under their real
    place, or not at all); hidden ones (``.git``, ``.venv``) are skipped,
    unless named.  Every other entry named NAME.expr is listed, whatever it
    is (a link, a FIFO): `check_file` says why it cannot be tested, rather
    than leave it out without a word."""
    found, problems, seen = [], [], set()
    real_dirs = {}

    def add(p, tree):
        p = os.path.normpath(p)
        # The same file named twice (`test . seed.expr`) is tested once; a
        # link to a file found already is a file of its own, tested against
        # its own golden file.
        d = os.path.dirname(p) or "."
        if d not in real_dirs:
            real_dirs[d] = os.path.realpath(d)
        key = (real_dirs[d], os.path.basename(p))
        if key not in seen:
            seen.add(key)
            found.append((p, tree))

    for path in paths:
        if os.path.isdir(path):
            tree = os.path.realpath(path)
            stack = [path]
            while stack:
                d = stack.pop()
                try:
                    with os.scandir(d) as it:
                        entries = sorted(it, key=lambda e: e.name)
                except OSError as e:
                    problems.append((d, f"cannot read the directory: {e.strerror or e}"))
                    continue
                subdirs = []
                for e in entries:
                    try:
                        is_dir = e.is_dir(follow_symlinks=False)
                    except OSError:
                        is_dir = False
                    if is_dir:
                        if not e.name.startswith("."):
                            subdirs.append(os.path.join(d, e.name))
                    elif e.name.endswith(".expr"):
                        add(os.path.join(d, e.name), tree)
                    elif e.name.endswith(GOLDEN_SUFFIX):
                        gpath = os.path.join(d, e.name)
                        if not _has_expr(gpath):
                            add(gpath, tree)
                stack.extend(reversed(subdirs))
        elif path.endswith(".expr") and os.path.lexists(path):
            add(path, _tree_of(path))
        elif path.endswith(GOLDEN_SUFFIX) and os.path.lexists(path):
            add(expr_path(path) if _has_expr(path) else path, _tree_of(path))
        elif not os.path.lexists(path):
            problems.append((path, "no such file or directory"))
        else:
            problems.append((path, "not a .expr file or a directory"))
    return found, problems


def _tree_of(path: str) -> str:
    """The tested tree of a file named as a PATH: its directory."""
    return os.path.realpath(os.path.dirname(path) or ".")


def _has_expr(gpath: str) -> bool:
    """Whether the golden file `gpath` has its NAME.expr beside it: anything
    of that name but a directory (a link or a FIFO is tested, and fails)."""
    e = expr_path(gpath)
    try:
        return not stat.S_ISDIR(os.lstat(e).st_mode)
    except OSError:
        return False


def _inside(real: str, tree: str) -> bool:
    return real == tree or real.startswith(tree.rstrip(os.sep) + os.sep)


def resolve(path: str, tree: str) -> str:
    """What to open for `path`, a file `test` found or paired in the tested
    tree `tree` (a real path): `path` itself, or for a link the real path of
    the file it leads to, when that is inside `tree`.  A link that leads out
    of the tree (a checkout's ``x.expr -> /home/ci/.env``), nowhere, or
    round in a loop is an `ExprError` naming it and where it points; what it
    points to is never opened."""
    if not os.path.islink(path):
        return path
    to = _link_text(path)
    real = os.path.realpath(path)
    if not _inside(real, tree):
        raise ExprError(f"a link to {to}, outside the tested tree {display_path(tree)}: "
                        "not followed (links are followed only within the tree)")
    try:
        os.stat(path)
    except OSError as e:
        if e.errno == errno.ENOENT:
            raise ExprError(f"a link to {to}, which does not exist") from None
        if e.errno == errno.ELOOP:
            raise ExprError(f"a link to {to}, which leads round in a loop of links") from None
        raise ExprError(f"a link to {to}: {e.strerror or e}") from None
    return real


def _link_text(path: str) -> str:
    """Where the link `path` points, as people see it."""
    try:
        return display_path(os.readlink(path))
    except OSError as e:
        return f"? ({e.strerror or e})"


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


_OPEN_FLAGS = (os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0))


def read_found(path: str, real: str | None = None):
    """The text of a file `test` found or paired (a .expr, a golden file) as
    a `Source` shown under `path`, read from `real` (see `resolve`).

    Regular files only, up to `commands.READ_LIMIT` bytes: a checkout may
    hold a FIFO (which never ends, or never opens) or a link to /dev/zero
    where a file is expected.  The file is checked before it is opened (a
    device is never opened: opening some has effects) and again on the open
    descriptor, opened without blocking so that a FIFO swapped in between
    cannot hang the open."""
    from .sources import read_capped as _read_capped, source_of

    real = path if real is None else real
    try:
        mode = os.stat(real).st_mode
        if not stat.S_ISREG(mode):
            raise ExprError(f"cannot read the file: it is {_kind(mode)}, not a regular file")
        fd = os.open(real, _OPEN_FLAGS)
        try:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                raise ExprError(f"cannot read the file: it is {_kind(mode)}, not a regular file")
            data = _read_capped(fd, "the file")
        finally:
            os.close(fd)
    except OSError as e:
        raise ExprError(f"cannot read the file: {e.strerror or e}") from None
    return source_of(data, display_path(path))


def golden_path(path: str) -> str:
    """NAME.golden.json of NAME.expr."""
    base = path[:-len(".expr")] if path.endswith(".expr") else path
    return base + GOLDEN_SUFFIX


def expr_path(golden: str) -> str:
    """NAME.expr of NAME.golden.json."""
    return golden[:-len(GOLDEN_SUFFIX)] + ".expr"


# ----------------------------------------------------------- golden files

@dataclass
class Golden:
    source: Source
    doc: dict
    target: str | None
    dtype: str
    values: list     # GivenValues from `set`


def _locate(source: Source, keys, key_itself=False) -> Span:
    """The span of the value at `keys` (a path of object keys) in a golden
    file; of the key itself with `key_itself`; as deep as it exists."""
    from . import jsonin

    start = jsonin.start_of_value(source)
    span = Span.at(source, start)
    for k, key in enumerate(keys):
        if source.text[start:start + 1] != "{":
            break
        match = next((m for m in jsonin.members(source, start) if m[0] == key), None)
        if match is None:
            break
        span = match[1] if key_itself and k == len(keys) - 1 else match[3]
        start = match[3].start
    return span


def _suggest(name, names) -> str:
    from .program import _suggest as suggest

    return suggest(name, names)


def read_golden(path: str, real: str | None = None) -> Golden:
    """Read and check a golden file (from `real`, see `read_found`); an
    `ExprError` located in it if it is not one."""
    from . import jsonin

    source = read_found(path, real)
    doc = jsonin.parse(source)

    def fail(message, *keys, key_itself=False):
        raise ExprError(message, _locate(source, keys, key_itself))

    if type(doc) is not dict:
        fail("a golden file holds a JSON object (what `autograd-cli eval --format json` "
             f"prints); this is {jsonin.describe(doc)}")
    for key in doc:
        if key not in TOP_KEYS:
            fail(f"unknown key '{key}' in a golden file{_suggest(key, TOP_KEYS)}; it may "
                 f"have {', '.join(TOP_KEYS)}", key, key_itself=True)
    schema = doc.get("schema", SCHEMA)
    if type(schema) is not int or schema != SCHEMA:
        shown = schema if type(schema) is int else jsonin.describe(schema)
        fail(f"schema {shown}: this autograd-cli reads schema {SCHEMA}", "schema")
    target = doc.get("target")
    if target is not None and type(target) is not str:
        fail(f"'target' is the name of a binding, not {jsonin.describe(target)}", "target")
    dtype = doc.get("dtype", "float64")
    if type(dtype) is not str or dtype not in DEFAULT_TOLERANCES:
        fail(f"'dtype' is \"float64\" or \"float32\", not {jsonin.describe(dtype)}", "dtype")
    values = []
    if "set" in doc:
        if type(doc["set"]) is not dict:
            fail("'set' is an object of names and values, like {\"a1\": 0.5}, not "
                 f"{jsonin.describe(doc['set'])}", "set")
        values = jsonin.values_of(jsonin.members(source, _locate(source, ["set"]).start))
    nodes = doc.get("nodes", {})
    if type(nodes) is not dict:
        fail(f"'nodes' is an object, one entry per binding, not {jsonin.describe(nodes)}",
             "nodes")
    for name, entry in nodes.items():
        if type(entry) is not dict:
            fail(f"the entry of '{name}' is an object (kind, shape, value, grad), not "
                 f"{jsonin.describe(entry)}", "nodes", name)
        for key in entry:
            if key not in NODE_KEYS:
                fail(f"unknown key '{key}' in the entry of '{name}'{_suggest(key, NODE_KEYS)}; "
                     f"it may have {', '.join(NODE_KEYS)}", "nodes", name, key, key_itself=True)
        if "kind" in entry and entry["kind"] not in KINDS:
            fail(f"the kind of '{name}' is param, input or node, not "
                 f"{jsonin.describe(entry['kind'])}", "nodes", name, "kind")
        if "shape" in entry:
            shape = entry["shape"]
            if type(shape) is not list:
                fail(f"the shape of '{name}' is a list of sizes, like [2, 3], not "
                     f"{jsonin.describe(shape)}", "nodes", name, "shape")
            for k, d in enumerate(shape):
                if type(d) is jsonin.HugeInteger:
                    fail(f"the shape of '{name}': size {k} is an integer of {d.digits:,} "
                         "digits, larger than any array", "nodes", name, "shape")
                if type(d) is not int or d < 0:
                    got = d if type(d) is int else jsonin.describe(d)
                    fail(f"the shape of '{name}' is a list of sizes, like [2, 3]: size {k} "
                         f"is {got}, not a whole number 0 or more", "nodes", name, "shape")
    if "warnings" in doc:
        if type(doc["warnings"]) is not list:
            fail(f"'warnings' is a list, not {jsonin.describe(doc['warnings'])}", "warnings")
        huge = _huge_integer(doc["warnings"])
        if huge is not None:
            fail(f"'warnings' holds an integer of {huge.digits:,} digits, larger than any "
                 "line or column", "warnings")
    return Golden(source, doc, target, dtype, values)


def _huge_integer(value):
    """The first `jsonin.HugeInteger` in a JSON value, or None (walked
    without recursion): it cannot be shown or compared as a number."""
    from .jsonin import HugeInteger

    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is HugeInteger:
            return v
        if t is list:
            stack.extend(reversed(v))
        elif t is dict:
            stack.extend(reversed(list(v.values())))
    return None


def _expected(golden, keys, what):
    """A number or tensor of the golden file as a float64 array."""
    from . import jsonin

    value = golden.doc
    for k in keys:
        value = value[k]
    try:
        return jsonin.to_array(value, None, what)
    except ExprError as err:
        err.span = _locate(golden.source, keys)
        raise


# -------------------------------------------------------------- comparing

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
    fixed number, so a change is caught at any scale (a scalar 1e-12 that
    doubles fails, as a 1e+30 does) while elements near zero beside large
    ones may carry the large ones' rounding.  `noise` is the field's
    rounding noise (`rounding_noise`); `tiny`, the dtype's smallest normal
    number, lets a number that underflows on one machine be 0 on another."""
    tiny = float(np.finfo(dtype).tiny)
    with np.errstate(all="ignore"):
        return rtol * np.abs(want) + (atol * field_scale(want) + noise + tiny)


def _compare_numbers(out, where, want, got, rtol, atol, noise, dtype):
    got = np.asarray(got, dtype=np.float64)
    if want.shape != got.shape:
        out.add(Mismatch(where, message=f"expected shape {list(want.shape)}, "
                                        f"got shape {list(got.shape)}"))
        return
    room = tolerance(want, rtol, atol, noise, dtype)
    with np.errstate(all="ignore"):
        finite = np.isfinite(want) & np.isfinite(got)
        # inf matches only an inf of its sign, nan only nan
        ok = np.where(finite, np.abs(got - want) <= room,
                      (got == want) | (np.isnan(got) & np.isnan(want)))
    bad = np.flatnonzero(~ok)
    space = max(0, SHOWN_MISMATCHES - len(out.shown))
    for k in bad[:space]:
        index = tuple(int(i) for i in np.unravel_index(k, want.shape))
        out.add(Mismatch(where, index, float(want.flat[k]), float(got.flat[k]),
                         float(room.flat[k])))
    out.count += max(0, len(bad) - space)


def rounding_noise(report, fields) -> dict:
    """The rounding noise of some of a run's fields: ``{(name, "value" or
    "grad"): noise}`` for the `fields` given so.

    A number left over from a cancellation is rounding noise: the
    projectile's dR/dtheta is 40.77 - 40.77 = 7.1e-15 here, and may be 0 or
    -7.1e-15 where `sin` and `cos` round otherwise.  Nothing in the golden
    file tells it from a small number that means something; how much it
    moves when the last bits move does.  The file is run again (twice)
    with every param and input multiplied by 1 + NUDGE * eps * z, z
    standard normal from a fixed seed, which stirs the last bits of every
    intermediate as another machine's rounding would; a field's noise is
    NOISE_FACTOR times the most it moved.  That is about 1e-14 of the
    field's size for a number that is not noise (in float64), and the size
    of the cancelled terms' last bits for one that is, whether it cancels
    at these inputs only (the projectile at 45 degrees) or at any (a sum of
    deviations from the mean).  The values of params and inputs are data,
    not computed: no noise."""
    by_name = report.model.by_name
    moved = dict.fromkeys(fields, 0.0)
    computed = [(name, what) for name, what in moved
                if what == "grad" or by_name[name].kind == "node"]
    if not computed:
        return moved
    eps = float(np.finfo(report.model.dtype).eps)
    for seed in NOISE_SEEDS:
        run = _nudged(report, seed, NUDGE * eps)
        for name, what in computed:
            base = (report.values if what == "value" else report.grads)[name]
            got = (run.values if what == "value" else run.grads)[name]
            with np.errstate(all="ignore"):
                d = np.abs(np.asarray(got, dtype=np.float64)
                           - np.asarray(base, dtype=np.float64))
            if d.ndim == 0:
                d = float(d)
                if math.isfinite(d):    # a nan or inf moved tells nothing of rounding
                    moved[name, what] = max(moved[name, what], d)
                continue
            d = d[np.isfinite(d)]
            if d.size:
                moved[name, what] = max(moved[name, what], float(d.max()))
        del run   # one nudged run held at a time
    return {field: NOISE_FACTOR * m for field, m in moved.items()}


_NUDGE_CHUNK = 1 << 16   # elements: the random numbers are made a slice at a time


def _nudged(report, seed, delta):
    """The run of `report` again, every param and input times 1 + delta * z."""
    from .program import DTYPES, run

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
                part = src[start:start + _NUDGE_CHUNK]
                z = rng.standard_normal(part.size)
                out[start:start + part.size] = part + part * (delta * z)
        # A leaf given a value is not computed, as a constant is not.
        graph.values[b.node] = nudged
    nudged_model = copy.copy(model)
    nudged_model.graph = graph
    nudged_model.finite_constants = {}   # its cache is of the model's own constants
    return run(nudged_model, report.target.name, every_node=False)


def _same(a, b) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


def compare(golden: Golden, report, rtol: float, atol: float):
    """The mismatches between a golden file and a run: (first few, count).

    They are listed params first (the numbers a formula is about), then
    the target, then the other bindings, then the warnings.  The
    golden `value` and the target's own value are one number: compared
    once."""
    from .render import warning_dict

    head, params, target, rest, tail = (_Collector() for _ in range(5))
    doc = golden.doc
    model = report.model
    name_of_target = report.target.name
    dtype = model.dtype
    nodes = doc.get("nodes", {})
    fields = [(name_of_target, "value")] if "value" in doc else []
    fields += [(name, what) for name, entry in nodes.items() if name in model.by_name
               for what in ("value", "grad") if what in entry]
    noise = rounding_noise(report, fields)
    if "value" not in doc and not nodes and "warnings" not in doc:
        head.add(Mismatch("golden file", message="it lists nothing to compare (no value, "
                                                 "nodes or warnings); --update fills it in"))
    if "value" in doc:
        want = _expected(golden, ["value"], "the golden 'value'")
        entry = nodes.get(name_of_target)
        twin = (type(entry) is dict and "value" in entry and _same(want, _expected(
            golden, ["nodes", name_of_target, "value"],
            f"the golden value of '{name_of_target}'")))
        if not twin:
            _compare_numbers(target, "value", want, report.values[name_of_target], rtol,
                             atol, noise[name_of_target, "value"], dtype)
    order = {b.name: k for k, b in enumerate(model.bindings)}

    def rank(name):
        b = model.by_name.get(name)
        if b is None:   # after the bound ones, in the golden file's order
            return (2, len(order))
        return (1 if name == name_of_target else 0 if b.kind == "param" else 2, order[name])

    for name in sorted(nodes, key=rank):
        entry = nodes[name]
        b = model.by_name.get(name)
        if b is None:
            rest.add(Mismatch(name, message=f"in the golden file, but there is no binding "
                                            f"named '{name}' in {model.source.name}"
                                            f"{_suggest(name, model.by_name)}"))
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
                _compare_numbers(out, f"{name}.{what}", want, got[name], rtol, atol,
                                 noise[name, what], dtype)
    if "warnings" in doc:
        got = [warning_dict(w) for w in report.warnings]
        want = doc["warnings"]
        got_keys, want_keys = [_warning_key(w) for w in got], [_warning_key(w) for w in want]
        if got_keys != want_keys:
            k = next((k for k, (a, b) in enumerate(zip(want_keys, got_keys)) if a != b),
                     min(len(want), len(got)))
            tail.add(Mismatch(f"warnings[{k}]", message=f"expected "
                              f"{_warning_text(want[k]) if k < len(want) else 'no warning'}, "
                              f"got {_warning_text(got[k]) if k < len(got) else 'no warning'}"))
    groups = (head, params, target, rest, tail)
    shown = [m for g in groups for m in g.shown][:SHOWN_MISMATCHES]
    return shown, sum(g.count for g in groups)


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


# --------------------------------------------------------------- updating

def project(new: dict, old: dict) -> dict:
    """The run's document `new` cut down to what the golden file `old` lists
    (the same keys, nodes and fields); all of it if `old` compares nothing."""
    if "value" not in old and not old.get("nodes") and "warnings" not in old:
        return new
    out = {}
    for key, value in new.items():
        if key not in old:
            continue
        if key == "nodes":
            listed = old["nodes"]
            value = {name: {f: v for f, v in entry.items() if f in listed[name]}
                     for name, entry in value.items() if name in listed}
        out[key] = value
    return out


def write_atomically(path: str, text: str):
    """Write `text` to `path` through a temporary file in the same directory
    and a rename: readers see the old file or the new one, never half of
    one.  The file keeps its permissions (a new one gets the umask's)."""
    directory = os.path.dirname(path) or "."
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _own_stream(info):
    """1 or 2 when `info` (an `os.stat` result) is of what our stdout or
    stderr writes to (a pipe, a terminal, a file); else None."""
    for fd in (1, 2):
        try:
            mine = os.fstat(fd)
        except OSError:
            continue
        if (mine.st_dev, mine.st_ino) == (info.st_dev, info.st_ino):
            return fd
    return None


def _speakable_device(rdev: int) -> bool:
    """Whether a report may go to the character device `rdev`: the null
    device or the controlling terminal.  Any other device (a disk,
    /dev/full, a watchdog that reboots the machine when closed) is refused
    without being opened."""
    for name in (os.devnull, "/dev/tty"):
        try:
            if os.stat(name).st_rdev == rdev:
                return True
        except OSError:
            pass
    return False


def write_report(path: str, text: str):
    """Write a report (the JUnit XML file) to `path`; an `OSError` saying why
    it cannot be.

    A regular file, or a new one, is written atomically (`write_atomically`).
    A FIFO, the terminal, /dev/null, and our own stdout or stderr (named as
    /dev/stdout, /dev/fd/1, or a link to them) are written in place, as
    `> FILE` would write them: they cannot be replaced, and writing to them is
    what was asked.  Anything else is refused: a device, a directory, a
    socket, a link that leads nowhere, and a link to a regular file, which a
    checkout may have put where the report goes to have it overwrite another
    file (``report.xml -> ~/.bashrc``).  A link is never replaced."""
    try:
        own = os.lstat(path)
    except FileNotFoundError:
        own = None
    if own is None or stat.S_ISREG(own.st_mode):
        write_atomically(path, text)
        return
    link = stat.S_ISLNK(own.st_mode)
    try:
        info = os.stat(path) if link else own
    except OSError as e:
        raise OSError(e.errno, f"it is a link to {_link_text(path)}: "
                               f"{e.strerror or e}") from None
    mode = info.st_mode
    data = text.encode("utf-8")
    own_fd = _own_stream(info)
    if own_fd is not None:
        sys.stdout.flush()   # what `test` printed comes first
        _write_all(own_fd, data)
        return
    if stat.S_ISREG(mode):
        raise OSError(errno.EINVAL, f"it is a link to {_link_text(path)}, "
                                    "and reports are not written through links to files "
                                    "(name the file itself)")
    if not (stat.S_ISFIFO(mode) or (stat.S_ISCHR(mode) and _speakable_device(info.st_rdev))):
        raise OSError(errno.EINVAL, f"it is {_kind(mode)}: a report goes to a regular file, "
                                    "a FIFO, the terminal or /dev/null")
    # A FIFO's open waits for its reader, as `> FIFO` does.
    fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        now = os.fstat(fd)
        if stat.S_IFMT(now.st_mode) != stat.S_IFMT(mode) or now.st_rdev != info.st_rdev:
            raise OSError(errno.EINVAL, "it changed while it was being opened")
        _write_all(fd, data)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# ---------------------------------------------------------------- running

def _run(source, golden, max_elements):
    """Load and run the .expr `source` as `golden` says (defaults without one)."""
    from .program import load, run

    if golden is None:
        model = load(source, max_elements=max_elements, keep_exprs=False)
        return run(model, every_node=False)
    model = load(source, dtype=golden.dtype, values=golden.values, any_shape=True,
                 max_elements=max_elements, keep_exprs=False)
    target = golden.target
    if target is not None and target not in model.by_name:
        raise ExprError(f"the target '{target}' is not bound in {source.name}"
                        f"{_suggest(target, model.by_name)}",
                        _locate(golden.source, ["target"]))
    return run(model, target, every_node=False)


def unused_golden(gpath) -> Outcome:
    """A golden file whose .expr is gone: a failure, as a snapshot tool
    reports an unused snapshot (a renamed .expr left its golden file
    behind, and whatever it pinned is no longer tested).  --update leaves
    it: deleting files is for their owner."""
    shown = display_path(gpath)
    return Outcome(gpath, gpath, "fail", "unused", error_fallback=shown,
                   note=f"no {display_path(expr_path(gpath))} for this golden file (delete it "
                        f"if that file is gone for good)")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _golden_text(doc) -> str:
    """A golden file's text: a file name that is not UTF-8 (its bytes kept
    as lone surrogates) is written with U+FFFD, as `eval` prints it."""
    from .render import to_json

    return _SURROGATE.sub("\ufffd", to_json(doc, compact=False)) + "\n"


def check_file(path, *, tree=None, rtol=None, atol=None, update=False,
               max_elements=None) -> Outcome:
    """Test one .expr file against its golden file (and rewrite it with
    `update` when it is missing or differs); a golden file named as `path`
    has lost its .expr (`unused_golden`).  `tree` is the tested tree (see
    `resolve`; by default the file's directory)."""
    from .program import DEFAULT_MAX_ELEMENTS, gc_paused
    from .render import report_dict

    max_elements = max_elements or DEFAULT_MAX_ELEMENTS
    if path.endswith(GOLDEN_SUFFIX):
        return unused_golden(path)
    tree = _tree_of(path) if tree is None else tree
    gpath = golden_path(path)
    shown, gshown = display_path(path), display_path(gpath)
    outcome = Outcome(path, gpath, "pass", error_fallback=shown)
    import numpy.random  # noqa: F401  (rounding_noise: its first import is no file's time)

    start = time.perf_counter()
    try:
        with gc_paused():
            source = read_found(path, resolve(path, tree))
            outcome.error_fallback = gshown
            greal = resolve(gpath, tree)
            glink = greal != gpath and os.path.islink(gpath)
            outcome.error_fallback = shown
            if not os.path.lexists(gpath):
                report = _run(source, None, max_elements)   # a file in error says so first
                if not update:
                    outcome.status, outcome.reason = "fail", "missing"
                    outcome.note = f"no golden file {gshown} (--update writes it)"
                    return outcome
                outcome.error_fallback = gshown
                write_atomically(gpath, _golden_text(report_dict(report, path)))
                outcome.status, outcome.note = "created", f"wrote {gshown}"
                return outcome
            outcome.error_fallback = gshown
            golden = read_golden(gpath, greal)
            outcome.error_fallback = shown
            report = _run(source, golden, max_elements)
            default_rtol, default_atol = DEFAULT_TOLERANCES[report.model.dtype]
            outcome.rtol = default_rtol if rtol is None else rtol
            outcome.atol = default_atol if atol is None else atol
            shown_mismatches, count = compare(golden, report, outcome.rtol, outcome.atol)
            outcome.mismatches, outcome.count = shown_mismatches, count
            if count:
                outcome.status, outcome.reason = "fail", "mismatch"
                if update and glink:
                    # Writing through would change the file linked to (another
                    # test's golden file, perhaps); replacing the link would
                    # undo what its owner set up.
                    outcome.note = (f"not rewritten: {gshown} is a link (to "
                                    f"{_link_text(gpath)}), and --update writes only "
                                    "regular files")
                elif update:
                    new = project(report_dict(report, path), golden.doc)
                    outcome.error_fallback = gshown
                    write_atomically(gpath, _golden_text(new))
                    outcome.status, outcome.reason = "updated", None
                    outcome.note = (f"rewrote {gshown} ({count} mismatch"
                                    f"{'es' * (count != 1)})")
    except ExprError as err:
        outcome.status, outcome.reason, outcome.error = "fail", "error", err
        outcome.mismatches, outcome.count = [], 0
    except OSError as err:   # writing a golden file; reading ones is an ExprError
        outcome.status, outcome.reason, outcome.unwritten = "fail", "error", True
        outcome.error = ExprError(f"cannot write the golden file: {err.strerror or err}")
        outcome.error_fallback = gshown
        outcome.mismatches, outcome.count, outcome.note = [], 0, ""
    finally:
        outcome.seconds = time.perf_counter() - start
    return outcome


# -------------------------------------------------------------- reporting

_LABELS = {"pass": ("PASS", "32"), "fail": ("FAIL", "31"), "updated": ("UPDATED", "33"),
           "created": ("CREATED", "33")}


def text_block(o: Outcome, colour=False, width=0) -> str:
    """The file's line (status, path, time, note), then its details."""
    label, tint = _LABELS[o.status]
    head = f"\x1b[1;{tint}m{label:<7}\x1b[0m" if colour else f"{label:<7}"
    line = f"{head}  {o.shown:<{width}}  {o.seconds * 1e3:6.1f} ms"
    if o.note:
        line += f"  {o.note}"
    return "\n".join([line] + o.detail_lines(colour)) + "\n"


def summary(outcomes, update) -> str:
    passed = sum(o.status == "pass" for o in outcomes)
    failed = sum(o.failed for o in outcomes)
    text = f"{passed} passed, {failed} failed"
    if update:
        text += f", {sum(o.status in ('updated', 'created') for o in outcomes)} updated"
    return text


def json_document(outcomes, update) -> dict:
    files = []
    for o in outcomes:
        d = {"file": o.path, "golden": o.golden, "status": o.status}
        if o.reason:
            d["reason"] = o.reason
        d["seconds"] = round(o.seconds, 6)
        if o.rtol is not None:
            d["rtol"], d["atol"] = o.rtol, o.atol
        if o.note:
            d["note"] = o.note
        if o.count:
            d["mismatch_count"] = o.count
            d["mismatches"] = [m.as_dict() for m in o.mismatches]
        if o.error is not None:
            e = {"message": o.error.message}
            if o.error.span is not None:
                e.update(file=o.error.span.source.name, line=o.error.span.line,
                         column=o.error.span.column)
            else:
                e["file"] = o.error_fallback
            e["text"] = "\n".join(o.detail_lines())
            d["error"] = e
        files.append(d)
    doc = {"schema": SCHEMA,
           "passed": sum(o.status == "pass" for o in outcomes),
           "failed": sum(o.failed for o in outcomes)}
    if update:
        doc["updated"] = sum(o.status in ("updated", "created") for o in outcomes)
    doc["files"] = files
    return doc


_XML_BAD = None


def _xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 cannot hold (paths come here
    through `display_path`, their control characters escaped; this is for
    the rest)."""
    global _XML_BAD
    if _XML_BAD is None:
        _XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
    return _XML_BAD.sub("\ufffd", text)


def junit_xml(outcomes) -> str:
    """A JUnit XML report: a testcase per .expr file; a mismatch, a missing
    golden file or one without its .expr is a <failure>, a file that cannot
    be run an <error>."""
    import socket
    import xml.etree.ElementTree as ET
    from datetime import datetime, timezone

    failures = sum(o.failed and o.reason != "error" for o in outcomes)
    errors = sum(o.failed and o.reason == "error" for o in outcomes)
    total = sum(o.seconds for o in outcomes)
    counts = {"tests": str(len(outcomes)), "failures": str(failures), "errors": str(errors),
              "skipped": "0", "time": f"{total:.6f}"}
    root = ET.Element("testsuites", {"name": "autograd-cli test", **counts})
    suite = ET.SubElement(root, "testsuite", {
        "name": "autograd-cli golden files", **counts,
        "timestamp": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "hostname": socket.gethostname()})
    for o in outcomes:
        case = ET.SubElement(suite, "testcase", {
            "classname": "autograd-cli.golden", "name": _xml_text(o.shown),
            "file": _xml_text(o.shown), "time": f"{o.seconds:.6f}"})
        details = "\n".join(o.detail_lines())
        if o.failed:
            if o.reason == "error":
                tag, message = "error", details.split("\n", 1)[0]
            elif o.reason in ("missing", "unused"):
                tag, message = "failure", o.note
            else:
                tag = "failure"
                message = (f"{o.count} mismatch{'es' * (o.count != 1)} with "
                           f"{display_path(o.golden)}: " + o.mismatches[0].text())
            el = ET.SubElement(case, tag, {"type": o.reason, "message": _xml_text(message)})
            el.text = _xml_text(details or message)
        elif o.note:
            ET.SubElement(case, "system-out").text = _xml_text(o.note)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") \
        + "\n"


def run_tests(paths, *, rtol=None, atol=None, update=False, junit_xml_path=None,
              format="text", max_elements=None) -> int:
    """`autograd-cli test`: the exit code: 0 when every file passes, 1 when
    one fails, 74 (EX_IOERR) when an output could not be written (stdout,
    the JUnit XML report, a golden file of --update), whatever the tests
    gave: the run did not leave what it was asked to."""
    from .streams import EXIT_INPUT, EXIT_OK, Stop as _Stop, internal_error, write_output as _write
    from .errors import _want_colour
    from .streams import EXIT_IO

    gone = []

    def out(text, json=False):
        """Write to stdout; once its reader has gone (`| head`) or a write
        failed (a full disk: said on stderr), carry on without it: every
        file is still tested, the JUnit report written and a failure still
        in the exit code."""
        if not gone:
            try:
                _write(text, json=json)
            except _Stop as stop:
                gone.append(stop.code)

    try:
        files, problems = find_expr_files(paths or ["."])
        outcomes = []
        for path, message in problems:
            outcomes.append(Outcome(path, "", "fail", "error", error=ExprError(message),
                                    error_fallback=display_path(path)))
        colour = format == "text" and _want_colour(sys.stdout)
        width = min(60, max([len(display_path(p)) for p, _ in files]
                            + [len(o.shown) for o in outcomes] + [0]))
        if format == "text":
            for o in outcomes:
                out(text_block(o, colour, width))
        for path, tree in files:
            o = check_file(path, tree=tree, rtol=rtol, atol=atol, update=update,
                           max_elements=max_elements)
            outcomes.append(o)
            if format == "text":
                out(text_block(o, colour, width))
        if not outcomes:
            where = ", ".join(display_path(p) for p in paths or ["."])
            sys.stderr.write(f"autograd-cli: error: no .expr files found in {where}\n")
            return EXIT_INPUT
        if format == "text":
            out(summary(outcomes, update) + "\n")
        else:
            from .render import to_json

            out(to_json(json_document(outcomes, update), compact=False) + "\n", json=True)
        code = EXIT_INPUT if any(o.failed for o in outcomes) else EXIT_OK
        if any(gone) or any(o.unwritten for o in outcomes):
            code = EXIT_IO
        if junit_xml_path is not None:
            try:
                write_report(junit_xml_path, junit_xml(outcomes))
            except OSError as err:
                sys.stderr.write(f"{display_path(junit_xml_path)}: error: cannot write the "
                                 f"JUnit XML report: {err.strerror or err}\n")
                code = EXIT_IO
        return code
    except _Stop as stop:
        return stop.code
    except Exception as exc:  # a bug: never a traceback for the user
        return internal_error(exc)
