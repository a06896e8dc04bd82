"""The entry point of the `autograd-cli` command.

A plain `eval` invocation (files and the documented options, nothing else)
runs without Typer, for the reason process.py gives.  Anything else (help,
--version, a usage error, another command) goes to the Typer app in cli.py,
which also defines what the options mean; test_launch.py checks that both
paths agree.
"""

from __future__ import annotations

from . import process  # first: it notes when the process started

# isort: split
import sys

from . import streams
from .commands import reports
from .options import DTYPES, FORMATS, bad_set, stdin_conflict, value_after_flag
from .sources import InlineText

# eval's options that take a value, and where each goes.
_VALUED = {
    "--expr": "expr",
    "-e": "expr",
    "--of": "of",
    "--wrt": "wrt",
    "--set": "sets",
    "--set-json": "set_json",
    "--format": "format",
    "-f": "format",
    "--dtype": "dtype",
    "--max-elements": "max_elements",
    "--allow-read": "allow_read",
}
_REPEATED = {"expr", "wrt", "sets", "set_json", "allow_read"}
_FLAGS = {"--strict": "strict", "--timings": "timings", "--any-shape": "any_shape"}


def parse_eval_args(args):
    """eval's FILEs and the keyword arguments of their `Options`, or None
    when they are anything but plain (then Typer handles them)."""
    kw = {"expr": [], "wrt": [], "sets": [], "set_json": [], "allow_read": []}
    files = []
    i, n = 0, len(args)
    only_files = False
    while i < n:
        arg = args[i]
        i += 1
        if only_files or arg == "-" or not arg.startswith("-"):
            files.append(arg)
            continue
        if arg == "--":
            only_files = True
            continue
        if arg in _FLAGS:
            kw[_FLAGS[arg]] = True
            continue
        name, eq, value = arg.partition("=")
        if name not in _VALUED or (eq and name in ("-f", "-e")):
            return None
        if not eq:
            if i == n:
                return None
            value = args[i]
            i += 1
            if value.startswith("-") and not (name == "--set-json" and value == "-"):
                return None
        key = _VALUED[name]
        if key in _REPEATED:
            kw[key].append(value)
        else:
            kw[key] = value
    expr = kw.pop("expr")
    if expr:
        if files:
            return None  # a usage error: Typer words it
        files = [InlineText("\n".join(expr))]
    if not files or value_after_flag(args, _FLAGS):
        return None
    if kw.get("format", "table") not in FORMATS:
        return None
    if kw.get("dtype", "float64") not in DTYPES:
        return None
    if any(bad_set(item) for item in kw["sets"]):
        return None
    if stdin_conflict(files, kw["set_json"]):
        return None
    if "max_elements" in kw:
        try:
            kw["max_elements"] = int(kw["max_elements"])
        except ValueError:
            return None
        if kw["max_elements"] < 1:
            return None
    return files, kw


def run(argv) -> int:
    """Run the command line `argv` (without the program name); the exit code."""
    if argv and argv[0] == "eval":
        plain = parse_eval_args(argv[1:])
        if plain is not None:
            files, kw = plain
            with process.collector_off():
                from . import compiling, render, running  # noqa: F401  (numpy with them)
            return reports.eval_files(files, **kw)
    with process.collector_off():
        from .cli import app

    try:
        app(args=list(argv), prog_name="autograd-cli", standalone_mode=True)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except OSError as e:
        # The commands report their own failures; what escapes is Typer's
        # help or usage text failing to be written.
        return streams.output_failed(e)
    return 0


def main():
    """The console script: run the command line, then leave at once
    (`process.leave`)."""
    streams.prepare()
    try:
        code = run(sys.argv[1:])
    except KeyboardInterrupt:
        try:
            sys.stderr.write("autograd-cli: interrupted\n")
        except (OSError, ValueError):
            pass
        code = 130
    process.leave(code)
