"""The plumbing every command shares: its options declared once
(`cli_options.file_command`), one path from files to exit code (`runner.run`) for
a command that is only its computation and its renderer, and the readable
JSON layout derived from the document (docs/how-it-works.md)."""

import json

import pytest
import typer
from typer.testing import CliRunner

from autograd_cli import cli, cli_options
from autograd_cli.commands import runner
from autograd_cli.jsonout import to_json
from autograd_cli.options import DEFAULT_MAX_ELEMENTS, Options

from clitools import strict_json, write


def probe_app():
    """A Typer app of one file command that records what it was given."""
    app = typer.Typer(cls=cli_options.Group)
    got = []

    @app.callback()
    def root():
        """Probe."""

    @cli_options.file_command("probe", "files of ... format max_elements", on=app)
    def probe(
        options: Options,
        level: int = typer.Option(3, "--level", help="A level of the probe's own."),
    ):
        """Probe the options."""
        got.append((options, level))
        return level if level > 5 else 0

    return app, got


def test_shared_options_arrive_as_one_record_and_own_ones_as_keywords():
    app, got = probe_app()
    result = CliRunner().invoke(
        app,
        [
            "probe",
            "a.expr",
            "b.expr",
            "--of",
            "L",
            "--level",
            "4",
            "-f",
            "json",
            "--max-elements",
            "7",
        ],
    )
    assert result.exit_code == 0, result.output
    [(options, level)] = got
    assert options == Options(files=["a.expr", "b.expr"], of="L", format="json", max_elements=7)
    assert type(options.format) is str and level == 4
    CliRunner().invoke(app, ["probe", "a.expr"])
    assert got[1] == (Options(files=["a.expr"], max_elements=DEFAULT_MAX_ELEMENTS), 3)


def test_the_layout_orders_the_help_and_leaves_out_what_it_does_not_name():
    app, _ = probe_app()
    result = CliRunner().invoke(app, ["probe", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    at = [
        result.stdout.index(option) for option in ("--of", "--level", "--format", "--max-elements")
    ]
    assert at == sorted(at)
    assert "--set" not in result.stdout and "--dtype" not in result.stdout
    assert CliRunner().invoke(app, ["probe", "a.expr", "--dtype", "float32"]).exit_code == 2


def test_the_exit_code_and_the_set_checks_are_the_commands():
    app, _ = probe_app()
    assert CliRunner().invoke(app, ["probe", "a.expr", "--level", "9"]).exit_code == 9
    with pytest.raises(TypeError, match="need a place"):

        @cli_options.file_command("bad", "files of", on=typer.Typer())
        def bad(options: Options, level: int = typer.Option(3, "--level")):
            """Never registered."""


def test_every_command_on_files_refuses_a_bad_set():
    for name in ("eval", "check", "hessian", "jacobian", "graph"):
        result = CliRunner().invoke(cli.app, [name, "examples/seed.expr", "--set", "novalue"])
        assert result.exit_code == 2 and "NAME=VALUE" in result.output, name


class Count(runner.Command):
    """A command made of a computation and a renderer only: how many
    bindings a file has; a file of one binding fails."""

    def compute(self, file):
        return len(file.load().bindings)

    def render(self, n, out):
        if out.format == "json":
            out.json({"file": out.path, "bindings": n})
        else:
            out.text(f"{out.label}: {n} bindings")

    def passed(self, n):
        return n > 1


def test_a_new_command_gets_files_errors_and_exit_codes(tmp_path, capsys):
    two = write(tmp_path, "x = 1\ny = x * 2\n", "two.expr")
    one = write(tmp_path, "x = 1\n", "one.expr")
    bad = write(tmp_path, "x = 1\ny = x *\n", "bad.expr")
    code = runner.run(Options([str(two), str(bad), str(one)], format="json"), Count())
    out, err = capsys.readouterr()
    assert code == 1
    docs = [strict_json(line) for line in out.splitlines()]  # one line a file
    assert docs == [{"file": str(two), "bindings": 2}, {"file": str(one), "bindings": 1}]
    assert err.startswith(f"{bad}:2:") and ": error: " in err.splitlines()[0]

    assert runner.run(Options([str(two)]), Count()) == 0
    out, err = capsys.readouterr()
    assert out == f"{two}: 2 bindings\n" and err == ""


def test_a_new_command_gets_set_values_and_a_bug_is_one_line(tmp_path, capsys):
    two = write(tmp_path, "x = 1\ny = x * 2\n", "two.expr")
    assert runner.run(Options([str(two)], sets=["z=1"]), Count()) == 1
    out, err = capsys.readouterr()
    assert out == "" and "'z'" in err and "--set" in err

    class Broken(Count):
        def compute(self, file):
            raise RuntimeError("no such thing")

    assert runner.run(Options([str(two)]), Broken()) == 70
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    assert "internal error (RuntimeError: no such thing)" in err


def test_readable_json_puts_entries_of_objects_on_lines_of_their_own():
    doc = {
        "schema": 1,
        "novel": {"a": 1, "b": [1, 2]},
        "rows": [{"x": 1}, {"y": 2}],
        "value": [[1, 2], [3, 4]],
        "names": ["a", "b"],
        "empty": {},
        "none": [],
    }
    text = to_json(doc, compact=False)
    assert json.loads(text) == doc
    lines = text.splitlines()
    assert '    "a": 1,' in lines and '    "b": [1, 2]' in lines
    assert '    {"x": 1},' in lines and '    {"y": 2}' in lines
    for key in ("schema", "value", "names", "empty", "none"):
        [line] = [line for line in lines if line.startswith(f'  "{key}": ')]
        assert json.loads("{" + line.rstrip(",") + "}") == {key: doc[key]}
    assert to_json(doc, compact=True) == json.dumps(doc, separators=(",", ":"))


def test_the_fast_path_knows_every_option_eval_declares():
    """launch.py parses a plain eval without Typer; an option it did not
    know would only send the run to Typer, so this says when it falls
    behind."""
    from autograd_cli import launch

    command = typer.main.get_command(cli.app).commands["eval"]
    valued, flags, repeated = {}, {}, set()
    for param in command.params:
        if param.param_type_name != "option" or param.name in ("help",):
            continue
        field = cli_options._FIELDS.get(param.name, param.name)
        for opt in param.opts:
            (flags if param.is_flag else valued)[opt] = field
        if param.multiple:
            repeated.add(field)
    assert valued == launch._VALUED
    assert flags == launch._FLAGS
    assert repeated == launch._REPEATED
