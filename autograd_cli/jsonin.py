"""JSON read back in: --set-json and golden files.

Errors are located in the JSON text as everywhere else (``file:line:col``,
the decoder's own line and column for a syntax error).  Values follow the
output's conventions: a number, nested lists for a tensor, and the strings
"nan", "inf", "-inf" for non-finite numbers, so what `eval --format json`
writes can be read again.  Nothing here recurses over the data: nested lists
are walked a level at a time.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np

from .errors import ExprError, Source, Span

MAX_DIMS = 32  # as the language's arrays
NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}

_WS = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_scanstring = json.decoder.scanstring


class GivenValue:
    """A value for a binding given as data (--set-json), not as text to parse."""

    __slots__ = ("name", "value", "name_span", "span")

    def __init__(self, name: str, value: np.ndarray, name_span: Span, span: Span):
        self.name = name
        self.value = value  # float64
        self.name_span = name_span  # where the name is given (a JSON key)
        self.span = span  # where the value is given


class HugeInteger:
    """A JSON integer of more digits than Python converts (its limit guards
    against conversions of quadratic cost): no float could hold it anyway."""

    __slots__ = ("digits",)

    def __init__(self, digits: int):
        self.digits = digits


def _integer(text: str):
    # sys.get_int_max_str_digits() is 4,300 by default; 4,000 digits are far
    # past any float (10^309 is already inf).
    return int(text) if len(text) <= 4000 else HugeInteger(len(text.lstrip("-")))


_decode = json.JSONDecoder(parse_int=_integer).raw_decode


def parse(source: Source):
    """The JSON value in `source`, or an `ExprError` where the decoder stopped."""
    try:
        return json.loads(source.text, parse_int=_integer)
    except json.JSONDecodeError as e:
        raise ExprError(f"invalid JSON: {e.msg}", Span.at(source, e.pos)) from None
    except RecursionError:
        depth, pos = _deepest(source.text)
        raise ExprError(
            f"the JSON nests {depth:,} levels deep here: too deep to read", Span.at(source, pos)
        ) from None


def _deepest(text):
    """The greatest depth of [ and { outside strings, and where it is reached."""
    masked = _STRING.sub(lambda m: " " * len(m.group()), text)
    codes = np.frombuffer(masked.encode("utf-32-le"), dtype=np.uint32)
    step = np.isin(codes, (ord("["), ord("{"))).astype(np.int64) - np.isin(
        codes, (ord("]"), ord("}"))
    )
    depth = np.cumsum(step)
    pos = int(np.argmax(depth)) if len(depth) else 0
    return int(depth[pos]) if len(depth) else 0, pos


def start_of_value(source: Source, pos: int = 0) -> int:
    """The offset of the first character that is not JSON white space."""
    return _WS.match(source.text, pos).end()


def members(source: Source, start: int):
    """``(key, key_span, value, value_span)`` for each member of the JSON
    object that begins at offset `start` of a text `parse` has accepted.  A
    key given twice is an error at its second place."""
    text = source.text
    pos = _WS.match(text, start).end()
    if text[pos : pos + 1] != "{":
        raise ValueError("not the start of an object")
    pos = _WS.match(text, pos + 1).end()
    out, seen = [], set()
    if text[pos] == "}":
        return out
    while True:
        key, end = _scanstring(text, pos + 1)
        key_span = Span(source, pos, end)
        if key in seen:
            raise ExprError(f"'{key}' is given twice in this object", key_span)
        seen.add(key)
        pos = _WS.match(text, _WS.match(text, end).end() + 1).end()  # past the ':'
        try:
            value, end = _decode(text, pos)
        except RecursionError:  # `parse` read it, from a shallower stack
            raise ExprError(
                "the JSON nests too deeply to read here", Span.at(source, pos)
            ) from None
        out.append((key, key_span, value, Span(source, pos, end)))
        pos = _WS.match(text, end).end()
        if text[pos] == "}":
            return out
        pos = _WS.match(text, pos + 1).end()  # past the ','


def describe(value) -> str:
    """A JSON value's type in words, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if len(value) <= 20 else "a string"
    if isinstance(value, (int, float, HugeInteger)):
        return "a number"
    return "a list" if isinstance(value, list) else "an object"


def to_array(value, span: Span, what: str) -> np.ndarray:
    """`value` — a number, "nan", "inf", "-inf", or nested lists of them, not
    ragged — as a float64 array; otherwise an `ExprError` at `span` naming the
    element (`what` says whose value it is)."""
    shape = []
    level = [value]
    while level and type(level[0]) is list:
        n = len(level[0])
        for k, item in enumerate(level):
            if type(item) is not list or len(item) != n:
                where = _index(k, shape)
                got = (
                    f"has {len(item)} element{'s' * (len(item) != 1)}"
                    if type(item) is list
                    else f"is {describe(item)}"
                )
                raise ExprError(
                    f"{what}: ragged list: {where} {got}, but "
                    f"{_index(0, shape)} has {n} element{'s' * (n != 1)}",
                    span,
                )
        shape.append(n)
        if len(shape) > MAX_DIMS:
            raise ExprError(
                f"{what}: more than {MAX_DIMS} levels of lists; at most "
                f"{MAX_DIMS} dimensions are supported",
                span,
            )
        level = [x for item in level for x in item]
    if not level:
        return np.zeros(shape)
    numeric = True
    for x in level:
        t = type(x)
        if t is not float and t is not int:
            numeric = False
            break
    if not numeric:
        for k, x in enumerate(level):
            t = type(x)
            if t is float or t is int or (t is str and x in NON_FINITE):
                continue
            if t is list:
                raise ExprError(
                    f"{what}: ragged list: {_index(k, shape)} is a list, but "
                    f"{_index(0, shape)} is a number",
                    span,
                )
            subject = f"{what}: {_index(k, shape)}" if shape else what
            if t is HugeInteger:
                raise ExprError(
                    f"{subject} is an integer of {x.digits:,} digits, too large for a float", span
                )
            raise ExprError(
                f'{subject} is {describe(x)}; expected a number (or "nan", '
                '"inf", "-inf")' + ("" if shape else ", or lists of them"),
                span,
            )
        level = [NON_FINITE[x] if type(x) is str else x for x in level]
    try:
        array = np.array(level, dtype=np.float64)
    except OverflowError:
        k = next(k for k, x in enumerate(level) if type(x) is int and abs(x) > 2**1023)
        subject = f"{what}: {_index(k, shape)}" if shape else what
        raise ExprError(f"{subject} is an integer too large for a float", span) from None
    return array.reshape(shape)


def _index(k, shape) -> str:
    """Flat index `k` of `shape` as ``element [i, j]``."""
    if not shape:
        return "the value"
    return "element [" + ", ".join(map(str, np.unravel_index(k, shape))) + "]"


def given_values(source: Source, option: str = "--set-json"):
    """The bindings in a JSON object ``{"NAME": VALUE, ...}`` as `GivenValue`s."""
    doc = parse(source)
    start = start_of_value(source)
    if type(doc) is not dict:
        raise ExprError(
            f"{option} takes a JSON object of names and values, like "
            f'{{"w": [1, 2, 3], "a1": 0.5}}; this is {describe(doc)}',
            Span.at(source, start),
        )
    return values_of(members(source, start))


def values_of(items):
    """`GivenValue`s for ``members(...)`` of an object of names and values."""
    return [
        GivenValue(key, to_array(value, span, f"the value of '{key}'"), key_span, span)
        for key, key_span, value, span in items
    ]
