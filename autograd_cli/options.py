"""The options of the commands that read files of bindings: the one record
they arrive in, their choices and defaults, and the checks that both
argument parsers (the Typer app and launch.py's plain `eval`) make.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

FORMATS = ("table", "json")
DTYPES = ("float64", "float32")
DEFAULT_MAX_ELEMENTS = 10**8
# check: every element is compared when the checked leaves have at most
# CHECK_FULL_LIMIT elements in all; otherwise, in each larger leaf, this many
# random directions and random elements (see checking.py).
CHECK_FULL_LIMIT = 256
CHECK_DIRECTIONS = 3
CHECK_SAMPLES = 16
CHECK_SEED = 0


@dataclass
class Options:
    """What the command line says about the FILEs, whatever the command:
    a command that has no such option leaves its default."""

    files: list = field(default_factory=list)
    of: str | None = None
    # Names (eval, check, hessian, jacobian) or the one gradient (explain).
    wrt: list | str = field(default_factory=list)
    sets: list = field(default_factory=list)
    set_json: list = field(default_factory=list)
    any_shape: bool = False
    format: str = "table"
    dtype: str = "float64"
    max_elements: int = DEFAULT_MAX_ELEMENTS
    strict: bool = False
    timings: bool = False


def bad_set(item: str) -> bool:
    """Whether a --set argument is not of the form NAME=VALUE."""
    name, eq, _ = item.partition("=")
    return not eq or not name.strip()


def stdin_conflict(files, set_json) -> str | None:
    """Why these FILEs and --set-json FILEs cannot all be read, or None:
    standard input can be read only once."""
    if list(set_json).count("-") > 1:
        return "--set-json reads standard input (-) at most once"
    if "-" in set_json and "-" in files:
        return ("standard input can be read only once: FILE and --set-json cannot both be -; "
                "give one of them as a file")
    return None


# What people write after a flag when they take it for a boolean option.
_BOOLEAN_WORDS = {"true", "false", "yes", "no", "on", "off", "1", "0", "y", "n", "t", "f"}


def value_after_flag(args, flags) -> str | None:
    """Why `args` misuse one of `flags`, or None: `--update true` would
    otherwise take `true` for a file.  A word that names an existing file is
    taken as one; after `--` everything is."""
    for before, arg in zip(args, args[1:]):
        if before == "--":
            break
        if before in flags and arg.lower() in _BOOLEAN_WORDS and not os.path.exists(arg):
            return (f"{before} is a flag and takes no value: write {before} alone "
                    f"(without {arg!r})")
    return None
