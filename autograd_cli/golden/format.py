"""The golden file: what it may hold, reading and checking one, and the
document `--update` writes.

A golden file, ``NAME.golden.json`` beside ``NAME.expr``, is what
``autograd-cli eval NAME.expr --format json`` printed, whole or in part:
only what it lists is compared.  Its `target`, `dtype` and `set` say how to
run the file again (``--of``, ``--dtype``, ``--set-json``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ExprError, Source, Span
from ..jsonout import SCHEMA  # a golden file is eval's document: its schema
from ..options import DTYPES
from .files import read_found

TOP_KEYS = ("schema", "file", "target", "dtype", "set", "value", "nodes", "warnings")
NODE_KEYS = ("kind", "expr", "shape", "value", "grad")
KINDS = ("param", "input", "node")


@dataclass
class Golden:
    """A golden file read and checked: its text, its JSON document, and how
    to run its .expr again (the target, dtype and `set` values)."""

    source: Source
    doc: dict
    target: str | None
    dtype: str
    values: list  # GivenValues from `set`


def locate(source: Source, keys, key_itself=False) -> Span:
    """The span of the value at `keys` (a path of object keys) in a golden
    file; of the key itself with `key_itself`; as deep as it exists."""
    from .. import jsonin

    start = jsonin.start_of_value(source)
    span = Span.at(source, start)
    for k, key in enumerate(keys):
        if source.text[start : start + 1] != "{":
            break
        match = next((m for m in jsonin.members(source, start) if m[0] == key), None)
        if match is None:
            break
        span = match[1] if key_itself and k == len(keys) - 1 else match[3]
        start = match[3].start
    return span


def read_golden(path: str, real: str | None = None) -> Golden:
    """Read and check a golden file (from `real`, see `read_found`); an
    `ExprError` located in it if it is not one."""
    from .. import jsonin
    from ..model import suggest

    source = read_found(path, real)
    doc = jsonin.parse(source)

    def fail(message, *keys, key_itself=False):
        raise ExprError(message, locate(source, keys, key_itself))

    if type(doc) is not dict:
        fail(
            "a golden file holds a JSON object (what `autograd-cli eval --format json` "
            f"prints); this is {jsonin.describe(doc)}"
        )
    for key in doc:
        if key not in TOP_KEYS:
            fail(
                f"unknown key '{key}' in a golden file{suggest(key, TOP_KEYS)}; it may "
                f"have {', '.join(TOP_KEYS)}",
                key,
                key_itself=True,
            )
    schema = doc.get("schema", SCHEMA)
    if type(schema) is not int or schema != SCHEMA:
        shown = schema if type(schema) is int else jsonin.describe(schema)
        fail(f"schema {shown}: this autograd-cli reads schema {SCHEMA}", "schema")
    target = doc.get("target")
    if target is not None and type(target) is not str:
        fail(f"'target' is the name of a binding, not {jsonin.describe(target)}", "target")
    dtype = doc.get("dtype", "float64")
    if type(dtype) is not str or dtype not in DTYPES:
        fail(f'\'dtype\' is "float64" or "float32", not {jsonin.describe(dtype)}', "dtype")
    values = []
    if "set" in doc:
        if type(doc["set"]) is not dict:
            fail(
                "'set' is an object of names and values, like {\"a1\": 0.5}, not "
                f"{jsonin.describe(doc['set'])}",
                "set",
            )
        values = jsonin.values_of(jsonin.members(source, locate(source, ["set"]).start))
    nodes = doc.get("nodes", {})
    if type(nodes) is not dict:
        fail(f"'nodes' is an object, one entry per binding, not {jsonin.describe(nodes)}", "nodes")
    for name, entry in nodes.items():
        if type(entry) is not dict:
            fail(
                f"the entry of '{name}' is an object (kind, shape, value, grad), not "
                f"{jsonin.describe(entry)}",
                "nodes",
                name,
            )
        for key in entry:
            if key not in NODE_KEYS:
                fail(
                    f"unknown key '{key}' in the entry of '{name}'{suggest(key, NODE_KEYS)}; "
                    f"it may have {', '.join(NODE_KEYS)}",
                    "nodes",
                    name,
                    key,
                    key_itself=True,
                )
        if "kind" in entry and entry["kind"] not in KINDS:
            fail(
                f"the kind of '{name}' is param, input or node, not "
                f"{jsonin.describe(entry['kind'])}",
                "nodes",
                name,
                "kind",
            )
        if "shape" in entry:
            shape = entry["shape"]
            if type(shape) is not list:
                fail(
                    f"the shape of '{name}' is a list of sizes, like [2, 3], not "
                    f"{jsonin.describe(shape)}",
                    "nodes",
                    name,
                    "shape",
                )
            for k, d in enumerate(shape):
                if type(d) is jsonin.HugeInteger:
                    fail(
                        f"the shape of '{name}': size {k} is an integer of {d.digits:,} "
                        "digits, larger than any array",
                        "nodes",
                        name,
                        "shape",
                    )
                if type(d) is not int or d < 0:
                    got = d if type(d) is int else jsonin.describe(d)
                    fail(
                        f"the shape of '{name}' is a list of sizes, like [2, 3]: size {k} "
                        f"is {got}, not a whole number 0 or more",
                        "nodes",
                        name,
                        "shape",
                    )
    if "warnings" in doc:
        if type(doc["warnings"]) is not list:
            fail(f"'warnings' is a list, not {jsonin.describe(doc['warnings'])}", "warnings")
        huge = _huge_integer(doc["warnings"])
        if huge is not None:
            fail(
                f"'warnings' holds an integer of {huge.digits:,} digits, larger than any "
                "line or column",
                "warnings",
            )
    return Golden(source, doc, target, dtype, values)


def _huge_integer(value):
    """The first `jsonin.HugeInteger` in a JSON value, or None (walked
    without recursion): it cannot be shown or compared as a number."""
    from ..jsonin import HugeInteger

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
            value = {
                name: {f: v for f, v in entry.items() if f in listed[name]}
                for name, entry in value.items()
                if name in listed
            }
        out[key] = value
    return out


_SURROGATE = re.compile("[\ud800-\udfff]")


def golden_text(doc) -> str:
    """A golden file's text: a file name that is not UTF-8 (its bytes kept
    as lone surrogates) is written with U+FFFD, as `eval` prints it."""
    from ..jsonout import to_json

    return _SURROGATE.sub("\ufffd", to_json(doc, compact=False)) + "\n"
