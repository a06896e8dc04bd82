"""Running the command line from the tests: Typer's runner, strict JSON,
files of bindings in a temporary folder."""

import json

from typer.testing import CliRunner

from autograd_cli.cli import app


def invoke(args, input=None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def strict_json(text):
    def no_constants(name):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=no_constants)


def write(tmp_path, text, name="t.expr"):
    path = tmp_path / name
    path.write_text(text)
    return path
