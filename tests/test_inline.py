"""-e TEXT / --expr TEXT: the program on the command line instead of a
FILE, for every command on files; `;` separates statements, each -e is a
line, and errors are located in `<expr>`."""

import json

import pytest
from typer.testing import CliRunner

from autograd_cli.cli import app

ENV = {"NO_COLOR": "1", "COLUMNS": "120", "FORCE_COLOR": None}
PROGRAM = "param w = [0.5, -1, 2]; x = [1, 2, 3]; L = sum(tanh(w * x) ** 2)"


def invoke(args):
    return CliRunner().invoke(app, args, env=ENV)


@pytest.mark.parametrize(
    "command",
    [
        ["eval"],
        ["check"],
        ["hessian"],
        ["jacobian", "--of", "L"],
        ["graph"],
        ["explain", "--wrt", "w[1]"],
    ],
    ids=lambda c: c[0],
)
def test_every_command_takes_the_program_inline(command, tmp_path):
    path = tmp_path / "p.expr"
    path.write_text(PROGRAM.replace("; ", "\n") + "\n")
    from_file = invoke([*command, str(path), "-f", "json"])
    inline = invoke([*command, "-e", PROGRAM, "-f", "json"])
    assert from_file.exit_code == inline.exit_code == 0, inline.stderr
    a, b = json.loads(from_file.stdout), json.loads(inline.stdout)
    assert (a.pop("file"), b.pop("file")) == (str(path), "<expr>")
    assert a == b
    assert inline.stderr == ""


def test_each_e_is_a_line():
    result = invoke(["eval", "-e", "param x = 3", "--expr", "y = x ** 2", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["nodes"]["x"]["grad"] == 6.0
    assert list(doc["nodes"]) == ["x", "y"]


@pytest.mark.parametrize(
    "args, where, message",
    [
        (["-e", "param x = 2; y = x ^ 2"], "<expr>:1:20:", "unexpected character '^'"),
        (["-e", "a = 1; b = c + a"], "<expr>:1:12:", "undefined name 'c'"),
        (["-e", "a = 1", "-e", "b = ln(a)"], "<expr>:2:5:", "unknown function 'ln'"),
        (["-e", "a = [1, 2]; b = a * [1, 2, 3]"], "<expr>:1:17:", "broadcast"),
    ],
)
def test_errors_are_located_in_the_text(args, where, message):
    result = invoke(["eval", *args])
    assert result.exit_code == 1
    assert result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert first.startswith(where + " error: "), first
    assert message in first
    # the caret lines up under the column of the text as typed
    column = int(where.split(":")[2])
    source, caret = result.stderr.splitlines()[1:3]
    text = args[-1]
    assert source.endswith(text)
    assert (
        caret.index("^") - caret.index("|") == source.index(text) - source.index("|") + column - 1
    )


@pytest.mark.parametrize(
    "args, words",
    [
        (["eval", "examples/seed.expr", "-e", "x = 1"], "not both"),
        (["check"], "missing FILE"),
        (["eval"], "missing FILE"),
        (["graph", "-e"], "requires an argument"),
    ],
)
def test_exactly_one_of_file_or_text(args, words, monkeypatch):
    from common import ROOT

    monkeypatch.chdir(ROOT)
    result = invoke(args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert words in " ".join(result.stderr.split())


def test_a_program_starting_with_a_dash_is_still_the_text():
    result = invoke(["eval", "-e", "-x"])
    assert result.exit_code == 1
    assert result.stderr.startswith("<expr>:1:1: error: unexpected '-'")


@pytest.mark.parametrize("command", ["eval", "check"])
@pytest.mark.parametrize(
    "text, where, byte",
    [
        (b"y = \xff\xfe 1", "<expr>:1:5:", "0xff"),
        # in a comment too, as in a file: the text is refused whole
        (b"y = 1  # caf\xe9", "<expr>:1:13:", "0xe9"),
        (b"y = 1\nz = \xed\xa0\x80", "<expr>:2:5:", "0xed"),
    ],
)
def test_text_that_is_not_utf8_is_refused_as_a_file_is(command, text, where, byte):
    """Argument bytes that are not UTF-8 reach Python as lone surrogates;
    they get the diagnostic a file's bytes get, not an odd character."""
    import subprocess
    import sys

    from common import ROOT

    proc = subprocess.run(
        [sys.executable.encode(), b"-m", b"autograd_cli", command.encode(), b"-e", text],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stdout == b""
    first = proc.stderr.decode("utf-8").splitlines()[0]
    assert first == f"{where} error: the text is not valid UTF-8 (byte {byte})"
