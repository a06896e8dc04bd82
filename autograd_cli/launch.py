"""The entry point of the `autograd-cli` command.

Importing Typer (and what it brings) takes longer than evaluating a small
file, so a plain `eval` invocation — files and the documented options,
nothing else — runs without it.  Anything else (help, --version, a usage
error, another command) goes to the Typer app in cli.py, which also defines
what the options mean; test_launch.py checks that both paths agree.
"""

from __future__ import annotations

import time

# The process's CPU time so far (the interpreter's start, all of it CPU when
# its files are in the page cache) and a clock to count on from: --timings'
# start-up is the one plus what the other counts until the imports are done.
STARTED = (time.process_time(), time.perf_counter())

import os  # noqa: E402
import sys  # noqa: E402

from . import commands  # noqa: E402

# eval's options that take a value, and where each goes.
_VALUED = {"--of": "of", "--wrt": "wrt", "--set": "sets", "--set-json": "set_json",
           "--format": "format", "-f": "format", "--dtype": "dtype",
           "--max-elements": "max_elements"}
_REPEATED = {"wrt", "sets", "set_json"}
_FLAGS = {"--strict": "strict", "--timings": "timings", "--any-shape": "any_shape"}


def parse_eval_args(args):
    """eval's arguments as keyword arguments of `commands.eval_files`, or
    None when they are anything but plain (then Typer handles them)."""
    kw = {"wrt": [], "sets": [], "set_json": []}
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
        if name not in _VALUED or (eq and name == "-f"):
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
    if not files or commands.value_after_flag(args, _FLAGS):
        return None
    if kw.get("format", "table") not in commands.FORMATS:
        return None
    if kw.get("dtype", "float64") not in commands.DTYPES:
        return None
    if any(commands.bad_set(item) for item in kw["sets"]):
        return None
    if commands.stdin_conflict(files, kw["set_json"]):
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
    from .streams import output_failed

    if argv and argv[0] == "eval":
        plain = parse_eval_args(argv[1:])
        if plain is not None:
            files, kw = plain
            with commands.collector_off():
                from . import compiling, render, running  # noqa: F401  (numpy with them)
            return commands.eval_files(files, **kw)
    with commands.collector_off():
        from .cli import app

    try:
        app(args=list(argv), prog_name="autograd-cli", standalone_mode=True)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except OSError as e:
        # The commands report their own failures; what escapes is Typer's
        # help or usage text failing to be written.
        return output_failed(e)
    return 0


def main():
    from . import streams

    streams.prepare()
    try:
        code = run(sys.argv[1:])
    except KeyboardInterrupt:
        try:
            sys.stderr.write("autograd-cli: interrupted\n")
        except (OSError, ValueError):
            pass
        code = 130
    # Leave without tearing the interpreter down: the objects of a long file
    # (see commands.last_run) take a tenth of a second to free one by one,
    # and the operating system takes the memory back at once.
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    except OSError as e:
        failed = streams.output_failed(e)
        code = code or failed
    except ValueError:
        pass
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code)
