"""Helpers for the tests of `autograd-cli test`: running it, reading its
report, writing golden files."""

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from autograd_cli.cli import app

CLEAN_ENV = {
    "NO_COLOR": None,
    "FORCE_COLOR": None,
    "AUTOGRAD_CLI_DEBUG": None,
    "COLUMNS": None,
    "TERM": None,
}
SUMMARY = re.compile(r"(\d+) passed, (\d+) failed(?:, (\d+) updated)?")


def invoke(args, input=None):
    return CliRunner().invoke(app, args, input=input, env=CLEAN_ENV)


def run_test(*args):
    return invoke(["test", *args])


def summary(result, update=False):
    """(passed, failed[, updated]) from the last line, which must be only that."""
    last = result.stdout.splitlines()[-1]
    m = SUMMARY.fullmatch(last)
    assert m, last
    counts = tuple(int(g) for g in m.groups() if g is not None)
    assert len(counts) == (3 if update else 2), last
    return counts


def file_line(result, path):
    """The line of `path` in the report: its status, and the rest."""
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1] == path:
            return parts[0], line
    raise AssertionError(f"no line for {path} in:\n{result.stdout}")


def eval_doc(path, *args):
    result = invoke(["eval", path, "-f", "json", *args])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def write_json(path, doc):
    Path(path).write_text(json.dumps(doc, indent=1) + "\n")
