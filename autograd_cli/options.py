"""The options of the commands that read files of bindings: the one record
they arrive in, their choices and defaults, and the checks that both
argument parsers (the Typer app and launch.py's plain `eval`) make.
"""

from __future__ import annotations

import os

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


class Options:
    """What the command line says about the FILEs, whatever the command:
    a command that has no such option leaves its default.  (A plain class,
    not a dataclass: importing dataclasses would slow a plain eval's
    start.)"""

    __slots__ = (
        "files",
        "of",
        "wrt",
        "sets",
        "set_json",
        "any_shape",
        "format",
        "dtype",
        "max_elements",
        "strict",
        "timings",
        "allow_read",
    )

    def __init__(
        self,
        files=(),
        *,
        of: str | None = None,
        wrt=(),
        sets=(),
        set_json=(),
        any_shape=False,
        format="table",
        dtype="float64",
        max_elements=DEFAULT_MAX_ELEMENTS,
        strict=False,
        timings=False,
        allow_read=(),
    ):
        self.files = list(files)
        self.of = of
        # Names (eval, check, hessian, jacobian), or the one gradient (explain).
        self.wrt = wrt if isinstance(wrt, str) else list(wrt)
        self.sets = list(sets)
        self.set_json = list(set_json)
        self.any_shape = any_shape
        self.format = format
        self.dtype = dtype
        self.max_elements = max_elements
        self.strict = strict
        self.timings = timings
        # directories a file's load() may read under, besides its own
        self.allow_read = list(allow_read)

    def _fields(self):
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other):
        return type(other) is Options and self._fields() == other._fields()

    def __repr__(self):
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"Options({fields})"


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
        return (
            "standard input can be read only once: FILE and --set-json cannot both be -; "
            "give one of them as a file"
        )
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
            return f"{before} is a flag and takes no value: write {before} alone (without {arg!r})"
    return None
