"""What `autograd-cli functions` lists: every function and operator of the
language, with its signature, what it does, its derivative and its
conventions.

Everything comes from the declarations: a function's entry in `FUNCTIONS`
(usage, summary, notes) and its op in the op table (the `local` texts, with
the op's argument names replaced by the function's).  A function added to
`FUNCTIONS` is listed with no change here; the operators are the ops the
language writes with a symbol (`syntax=`), plus indexing.
"""

from __future__ import annotations

import re

from . import compiler  # noqa: F401  (registers every module of ops)
from .core import OPS, Op
from .functions import FUNCTIONS, Fn

# What each operator does, by symbol and number of arguments; an operator
# declared later without one here is still listed, with its symbol.
_OPERATOR_SUMMARIES = {
    ("+", 2): "sum, elementwise (numpy broadcasting)",
    ("-", 2): "difference, elementwise (numpy broadcasting)",
    ("*", 2): "product, elementwise (numpy broadcasting)",
    ("/", 2): "quotient, elementwise (numpy broadcasting)",
    ("**", 2): "power, elementwise; right associative, binds tighter than unary minus",
    ("@", 2): "matrix product, numpy's matmul rules (as dot)",
    ("-", 1): "negation",
    ("+", 1): "the value itself",
    ("<", 2): "1 where x < y, else 0",
    ("<=", 2): "1 where x <= y, else 0",
    (">", 2): "1 where x > y, else 0",
    (">=", 2): "1 where x >= y, else 0",
    ("==", 2): "1 where x == y, else 0",
    ("!=", 2): "1 where x != y, else 0",
}
_OPERATOR_NOTES = {
    ("**", 2): "x ** 0.5 is sqrt(x); (-inf) ** 0.5 is nan, as numpy and PyTorch",
    **{
        (symbol, 2): "no gradient flows through a comparison (PyTorch's are booleans); "
        "binds looser than + and -; a < b < c is an error: write (a < b) * (b < c)"
        for symbol in ("<", "<=", ">", ">=", "==", "!=")
    },
}
# Indexing is an operator of the grammar without a symbol of its own.
_INDEXING = {
    "name": "[]",
    "usage": "x[i], x[i, j], x[-1], x[1:3], x[::2], x[:, 0]",
    "summary": "elements and slices, as numpy's basic indexing",
    "derivative": {"x": "1 at the index"},
    "notes": "indices and slice bounds are constant integers",
}


def _renamed(text: str, names: dict[str, str]) -> str:
    """A `local` text with the op's argument names replaced by the
    function's, in one pass (a name inside another word stays)."""
    if not names:
        return text
    pattern = r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, names)) + r")(?![A-Za-z0-9_])"
    return re.sub(pattern, lambda m: names[m.group(1)], text)


def derivative(op: Op, arrays: tuple[str, ...]) -> dict[str, str]:
    """Each array argument's local derivative in symbols, by the name
    `arrays` gives it (the op's own names where the counts differ); empty
    for an op without one (a constant)."""
    own = tuple(op.args)
    names = arrays if len(arrays) == len(own) else own
    rename = {a: b for a, b in zip(own, names) if a != b}
    return {name: _renamed(text, rename) for name, text in zip(names, op.local)}


def function_entry(name: str, fn: Fn) -> dict:
    """The entry of function `name`: name, usage, summary, derivative,
    notes."""
    op = OPS.get(fn.op)
    return {
        "name": name,
        "usage": fn.usage or f"{name}(...)",
        "summary": fn.summary,
        "derivative": derivative(op, fn.arrays) if op is not None else {},
        "notes": fn.notes,
    }


def operator_entries() -> list[dict]:
    """The operators: those of the op table (`syntax=`), then indexing."""
    found = []
    for op in OPS.values():
        if op.syntax is None:
            continue
        symbol, level = op.syntax
        args = tuple(op.args) or ("x", "y")
        arity = 1 if level == "unary" else 2
        if arity == 1:
            usage = f"{symbol}{args[0]}"
        else:
            usage = f" {symbol} ".join(args[:2])
        found.append(
            {
                "name": symbol,
                "usage": usage,
                "summary": _OPERATOR_SUMMARIES.get((symbol, arity), ""),
                "derivative": derivative(op, args),
                "notes": _OPERATOR_NOTES.get((symbol, arity), ""),
            }
        )
    return found + [dict(_INDEXING)]


def catalog() -> dict:
    """{"functions": [...], "operators": [...]}: every entry, functions in
    the order of `FUNCTIONS`."""
    return {
        "functions": [function_entry(name, fn) for name, fn in FUNCTIONS.items()],
        "operators": operator_entries(),
    }


def lookup(name: str) -> dict | None:
    """The catalog with only the entry called `name` (a function, or an
    operator's symbol; a unary and a binary operator may share one), or
    None."""
    whole = catalog()
    found = {kind: [e for e in entries if e["name"] == name] for kind, entries in whole.items()}
    return found if any(found.values()) else None


def render_catalog(doc: dict, console, footer: bool = True) -> None:
    """Print the catalog as Rich tables: two columns (the signature, then
    what it does, its derivative and conventions on lines of their own),
    so that it reads on a narrow terminal."""
    from rich.table import Table
    from rich.text import Text

    from .streams import spelled

    for kind, title in (("functions", "Functions"), ("operators", "Operators")):
        entries = doc[kind]
        if not entries:
            continue
        table = Table(title=Text(title, style="bold"), title_justify="left", header_style="bold")
        table.add_column("usage", style="bold", overflow="fold", max_width=28)
        table.add_column(spelled("what it does · derivative · conventions"), overflow="fold")
        for e in entries:
            text = Text(spelled(e["summary"] or ""))
            for arg, local in e["derivative"].items():
                wrt = f"∂/∂{arg}" if len(e["derivative"]) > 1 else "derivative"
                text.append(spelled(f"\n{wrt}: "), style="dim")
                text.append(spelled(local), style="green")
            if not e["derivative"]:
                text.append("\nno derivative", style="dim")
            if e["notes"]:
                text.append(spelled(f"\n{e['notes']}"), style="italic")
            table.add_row(Text(spelled(e["usage"])), text)
        console.print(table)
    if footer:
        console.print(
            Text(
                "autograd-cli functions NAME shows one; --format json for programs.",
                style="dim",
            )
        )
