"""The command line's declarations that its commands share: the options of
the commands on FILEs, declared once and laid out by `file_command`, and
the Typer classes that show flags as flags, refuse a value after one, and
convert values without importing pydantic.
"""

from __future__ import annotations

import functools
import inspect
import re
import typing
from enum import Enum

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from .options import (
    DEFAULT_MAX_ELEMENTS,
    Options,
    bad_set,
    stdin_conflict,
    value_after_flag,
)
from .sources import InlineText

# Typer 0.29 converts every value (defaults too) through a pydantic
# TypeAdapter, and importing pydantic costs more than the rest of Typer.  The
# values this command line takes (strings, integers and numbers written
# plainly, enum names) are converted here as Typer would; anything else
# (a value Typer would refuse, an unusual spelling) goes to Typer's own
# conversion, so its result and its messages stay Typer's.
# Integers of at most 18 digits: pydantic refuses more than Python's default
# limit of digits, which the environment can change.
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}\Z")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
UNSURE = object()  # what `convert` leaves to Typer


def convert(value, annotation, info, ctx=None):
    """`value` of a parameter of type `annotation` (Typer's `ParameterInfo`
    `info`) converted as Typer 0.29 converts it, or `UNSURE`."""
    if annotation is str:
        return value if type(value) is str else UNSURE
    if annotation is int or annotation is float:
        if type(value) is str:
            if not (_INTEGER if annotation is int else _NUMBER).match(value):
                return UNSURE
            value = annotation(value)
        elif type(value) is not annotation:
            return UNSURE
        if (info.min is not None and not value >= info.min) or (
            info.max is not None and not value <= info.max
        ):
            return UNSURE
        return value
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        if isinstance(value, annotation):
            return value
        plain = ctx is None or ctx.token_normalize_func is None
        if type(value) is str and info.case_sensitive and plain:
            for choice in annotation:
                if str(choice.value) == value:
                    return choice
    return UNSURE


class _Conversion:
    """A parameter's conversion: `convert` where it is sure, else Typer's."""

    def __init__(self, typers):
        self.typers = typers

    def coerce(self, value, param, ctx):
        """The value converted, or Typer's usage error (`BadParameter`)."""
        result = UNSURE
        info = param.type_descriptor.parameter_info
        annotation = param.type_descriptor.annotation
        many = param.multiple or param.nargs == -1
        if info.parser is not None or info.clamp:
            pass  # a conversion of the parameter's own: Typer's
        elif value is None:
            result = () if many else None
        elif many and typing.get_origin(annotation) is list and type(value) in (list, tuple):
            (item_type,) = typing.get_args(annotation)
            items = [convert(item, item_type, info, ctx) for item in value]
            if not any(item is UNSURE for item in items):
                result = items
        elif not many:
            result = convert(value, annotation, info, ctx)
        if result is UNSURE:
            return self.typers().coerce(value, param=param, ctx=ctx)
        return result

    def __getattr__(self, name):
        # Anything else a later Typer asks of a parameter's conversion is
        # Typer's own.
        return getattr(self.typers(), name)


class _Option(TyperOption):
    """An option converted by `_Conversion`."""

    def get_runtime_param(self):
        # Called by Typer 0.29 and later only: older ones convert with
        # Click's types, which need no pydantic.
        return _Conversion(super().get_runtime_param)


class _Argument(TyperArgument):
    """An argument shown as `FILE...` / `[PATH]...` in usage and help, as
    Click and most tools write them (not with its Python type), and
    converted by `_Conversion`."""

    def get_runtime_param(self):
        return _Conversion(super().get_runtime_param)

    def display_type_rich(self, ctx):
        return None

    def _usage_display_name(self):
        name = self.metavar or self.name.upper()
        name = name if self.required else f"[{name}]"
        return name + "..." if self.nargs != 1 else name


def _as_flags_and_arguments(params):
    """Show flags as flags (no "<bool>" after them) and arguments by name;
    convert values with `_Conversion`."""
    for param in params:
        if isinstance(param, TyperArgument):
            param.__class__ = _Argument
        elif isinstance(param, TyperOption):
            param.__class__ = _Option
        if getattr(param, "is_flag", False):
            param.metavar = ""
    return params


class Command(TyperCommand):
    """A command whose help shows flags as flags, and which refuses a value
    written after a flag (`--update true`) instead of taking it for a file."""

    def get_params(self, ctx):
        return _as_flags_and_arguments(super().get_params(ctx))

    def parse_args(self, ctx, args):
        flags = {
            opt
            for param in self.get_params(ctx)
            if getattr(param, "is_flag", False)
            for opt in param.opts
        }
        problem = value_after_flag(args, flags)
        if problem:
            ctx.fail(problem)
        return super().parse_args(ctx, args)


class Group(TyperGroup):
    """The app, its flags shown as its commands' are."""

    def get_params(self, ctx):
        return _as_flags_and_arguments(super().get_params(ctx))


class Format(str, Enum):
    table = "table"
    json = "json"


class DType(str, Enum):
    float64 = "float64"
    float32 = "float32"


# The options of the commands that read FILEs, declared once (as sqlite-utils
# shares its output options): by parameter name, its type and its Typer
# declaration.  `file_command` lays them out.
SHARED = {
    "files": (
        list[str] | None,
        typer.Argument(None, metavar="FILE", help="Files of bindings; - reads stdin. Or -e TEXT."),
    ),
    "expr": (
        list[str],
        typer.Option(
            [],
            "--expr",
            "-e",
            metavar="TEXT",
            help="The program itself instead of a FILE, statements separated by ';': "
            "-e 'param x = 2; y = x ** 3' (repeatable: each -e is a line).",
        ),
    ),
    "of": (
        str | None,
        typer.Option(
            None,
            "--of",
            metavar="NAME",
            help="The target to differentiate (default: the last binding).",
        ),
    ),
    "wrt": (
        list[str],
        typer.Option(
            [],
            "--wrt",
            metavar="NAME",
            help="Differentiate with respect to these params or inputs "
            "(repeatable; default: every param, else every "
            "input).",
        ),
    ),
    "set_": (
        list[str],
        typer.Option(
            [],
            "--set",
            metavar="NAME=VALUE",
            help="Replace the value of an input or param, written in "
            "the language: --set 'w=[1, 2, 3]', or read from a file: "
            "--set x=@data.csv (repeatable).",
        ),
    ),
    "set_json": (
        list[str],
        typer.Option(
            [],
            "--set-json",
            metavar="FILE",
            help="Replace inputs and params with the values in a "
            'JSON object, {"w": [1, 2, 3], "a1": 0.5} '
            '("nan", "inf", "-inf" as in the output); - reads '
            "stdin. Each value keeps its binding's shape "
            "unless --any-shape. --set wins over it "
            "(repeatable; later files win).",
        ),
    ),
    "any_shape": (
        bool,
        typer.Option(
            False,
            "--any-shape",
            help="Let --set-json values change a binding's shape (the "
            "file is checked again with it, as with --set).",
        ),
    ),
    "format": (
        Format,
        typer.Option(Format.table, "--format", "-f", help="table for people, json for programs."),
    ),
    "dtype": (DType, typer.Option(DType.float64, "--dtype", help="Floating-point type.")),
    "strict": (
        bool,
        typer.Option(False, "--strict", help="Treat a non-finite value or gradient as an error."),
    ),
    "max_elements": (
        int,
        typer.Option(
            DEFAULT_MAX_ELEMENTS,
            "--max-elements",
            min=1,
            metavar="N",
            help="Refuse any array with more elements than this.",
        ),
    ),
    "allow_read": (
        list[str],
        typer.Option(
            [],
            "--allow-read",
            metavar="DIR",
            help="Let load() read files under DIR too (repeatable; by default a file "
            "reads data only under its own directory).",
        ),
    ),
    "timings": (
        bool,
        typer.Option(False, "--timings", help="Print the time of each phase on stderr."),
    ),
}


MAX_ELEMENTS = SHARED["max_elements"][1]


_FIELDS = {"set_": "sets"}  # a parameter's `Options` field, where the names differ


def file_command(name: str, layout: str, *, on: typer.Typer):
    """Register the decorated function as the command `name` on FILEs of
    the app `on`.

    `layout` names its parameters in order: shared options (`SHARED`), and
    ``...`` where the function's own go.  A function's own parameter of a
    shared name (eval's --wrt) replaces the shared declaration.  The
    function gets the shared options as one `Options` and its own as
    keywords, and returns the exit code."""
    order = layout.split()
    keyword = inspect.Parameter.KEYWORD_ONLY

    def register(fn):
        hints = typing.get_type_hints(fn)
        own = {
            p.name: p.replace(annotation=hints[p.name], kind=keyword)
            for p in list(inspect.signature(fn).parameters.values())[1:]
        }
        shared = [n for n in order if n != "..."]
        if "..." not in order and set(own) - set(shared):
            raise TypeError(f"{fn.__name__}'s own options need a place ('...') in {layout!r}")
        params = []
        for item in order:
            if item == "...":
                params += [p for n, p in own.items() if n not in shared]
            elif item in own:
                params.append(own[item])
            else:
                annotation, default = SHARED[item]
                params.append(
                    inspect.Parameter(item, keyword, default=default, annotation=annotation)
                )

        @functools.wraps(fn)
        def command(**kwargs):
            if "expr" in kwargs:
                kwargs["files"] = _files_or_text(kwargs["files"], kwargs.pop("expr"))
            fields = {_FIELDS.get(n, n): kwargs.pop(n) for n in shared if n != "expr"}
            options = Options(
                **{k: v.value if isinstance(v, Enum) else v for k, v in fields.items()}
            )
            _check_sets(options)
            code = fn(options, **kwargs)
            if code:
                raise typer.Exit(code)

        command.__signature__ = inspect.Signature(params)
        command.__annotations__ = {p.name: p.annotation for p in params}
        return on.command(name, cls=Command)(command)

    return register


def _files_or_text(files, expr):
    """The FILEs to read: those given, or the -e TEXTs as one program, a
    line each; exactly one of the two (a usage error otherwise)."""
    if expr and files:
        raise typer.BadParameter(
            "give either FILE... or -e TEXT, not both", param_hint="'FILE' / '-e'"
        )
    if not expr and not files:
        raise typer.BadParameter(
            "missing FILE (or -e TEXT for a program on the command line)",
            param_hint="'FILE' / '-e'",
        )
    return [InlineText("\n".join(expr))] if expr else list(files)


def _check_sets(options):
    for item in options.sets:
        if bad_set(item):
            raise typer.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--set")
    conflict = stdin_conflict(options.files, options.set_json)
    if conflict:
        raise typer.BadParameter(conflict, param_hint="--set-json")
