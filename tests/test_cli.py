"""The command line (docs/commands.md and docs/json.md): Typer's CliRunner for most of it, and a few
real subprocesses of the installed console script and ``python -m``.

The installed typer (0.29) vendors its own click; its CliRunner keeps
stdout and stderr apart (``result.stdout``, ``result.stderr``) and
``result.output`` is the two interleaved.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import autograd_cli
from autograd_cli.cli import app

from common import ROOT, SEED_DOC, SEED_PATH

NODE_KEYS = ["kind", "expr", "shape", "value", "grad"]
ANSI = re.compile(r"\x1b\[")

# Environment variables that would change what the CLI prints.
CLEAN_ENV = {
    "NO_COLOR": None,
    "FORCE_COLOR": None,
    "AUTOGRAD_CLI_DEBUG": None,
    "COLUMNS": None,
    "TERM": None,
}


def _reject(name):
    raise ValueError(f"non-standard JSON constant {name}")


def strict_json(text):
    """json.loads that refuses NaN, Infinity and -Infinity."""
    return json.loads(text, parse_constant=_reject)


def invoke(args, input=None, **env):
    environment = dict(CLEAN_ENV)
    environment.update(env)
    return CliRunner().invoke(app, args, input=input, env=environment)


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def ok(result):
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


# ------------------------------------------------------------------- table


def test_table_for_the_seed_example():
    result = ok(invoke(["eval", SEED_PATH]))
    out = result.stdout
    assert "∂L/∂·" in out
    assert SEED_PATH in out
    for number in ["-28", "-21", "-12", "-23", "-36", "-41", "-35", "-254", "269"]:
        assert number in out, number
    for name in ["a1", "a2", "w", "b1", "b2", "c", "L"]:
        assert re.search(rf"\b{name}\b", out), name
    for kind in ["input", "param", "node"]:
        assert kind in out
    assert "w[0] * a1 + w[1] * a2" in out
    assert result.stderr == ""
    assert not ANSI.search(out)


def test_table_rows_are_in_file_order():
    out = ok(invoke(["eval", SEED_PATH])).stdout
    rows = [line for line in out.splitlines() if "│" in line]
    names = [row.split("│")[1].strip() for row in rows]
    assert names == ["a1", "a2", "w", "b1", "b2", "c", "L"]


def test_table_header_names_another_target():
    out = ok(invoke(["eval", SEED_PATH, "--of", "b1"])).stdout
    assert "∂b1/∂·" in out and "∂L/∂·" not in out


def test_table_summarises_large_tensors():
    out = ok(invoke(["eval", "-"], input="x = arange(1000)\nL = sum(x)\n")).stdout
    assert "..." in out or "…" in out
    assert "500, 501" not in out
    assert max(len(line) for line in out.splitlines()) < 200


@pytest.mark.parametrize("shape", ["3, 3, 3, 3", "2, 2, 2, 2, 2", "7, 7, 7", "25"])
def test_table_summarises_every_tensor_over_24_elements(shape):
    """numpy cuts only axes longer than six: a (3, 3, 3, 3) would show all
    81 numbers.  The table shows a handful, whatever the shape."""
    text = f"x = arange({shape.replace(', ', ' * ')}) * 1.5\ny = reshape(x, {shape})\nL = sum(y)\n"
    out = ok(invoke(["eval", "-", "--wrt", "y"], input=text, COLUMNS="200")).stdout
    numbers = re.findall(r"\d+\.\d+|\b\d+\b", out.split("┡", 1)[1])
    assert "..." in out
    assert len(numbers) <= 2 * 36 + 10, out


# -------------------------------------------------------------------- JSON


def test_json_is_exactly_the_spec_document_for_the_seed():
    result = ok(invoke(["eval", SEED_PATH, "--format", "json"]))
    doc = strict_json(result.stdout)
    assert doc == SEED_DOC
    assert list(doc) == list(SEED_DOC)
    assert list(doc["nodes"]) == list(SEED_DOC["nodes"])
    for name, node in doc["nodes"].items():
        assert list(node) == NODE_KEYS, name
    assert result.stderr == ""
    assert result.stdout.endswith("\n")


def test_json_short_option():
    assert strict_json(ok(invoke(["eval", SEED_PATH, "-f", "json"])).stdout) == SEED_DOC


def test_json_numbers_have_the_right_types():
    doc = strict_json(ok(invoke(["eval", SEED_PATH, "--format", "json"])).stdout)
    assert isinstance(doc["schema"], int)
    assert isinstance(doc["value"], float)
    assert all(isinstance(g, float) for g in doc["nodes"]["w"]["grad"])


def test_json_with_non_finite_numbers_is_strict():
    text = "x = [1, 0, -1]\ny = sum(log(x))\n"
    result = ok(invoke(["eval", "-", "--format", "json"], input=text))
    assert "NaN" not in result.stdout and "Infinity" not in result.stdout
    doc = strict_json(result.stdout)
    assert doc["value"] == "nan"
    assert doc["nodes"]["x"]["grad"] == [1.0, "inf", -1.0]
    assert [w["node"] for w in doc["warnings"]] and all(
        set(w) <= {"message", "node", "line", "column", "index"} for w in doc["warnings"]
    )
    assert [w["index"] for w in doc["warnings"]] == [[2], [1]]  # log(-1), then 1/0
    assert "warning" in result.stderr


def test_json_matrix_values_are_nested_lists_and_shapes_lists():
    text = "m = [[1, 2], [3, 4]]\nL = sum(m * m)\n"
    doc = strict_json(ok(invoke(["eval", "-", "-f", "json"], input=text)).stdout)
    m = doc["nodes"]["m"]
    assert m["shape"] == [2, 2]
    assert m["value"] == [[1.0, 2.0], [3.0, 4.0]]
    assert m["grad"] == [[2.0, 4.0], [6.0, 8.0]]


def test_several_files_give_json_lines():
    result = ok(invoke(["eval", SEED_PATH, SEED_PATH, "--format", "json"]))
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and result.stdout.endswith("\n")
    for line in lines:
        doc = strict_json(line)
        assert doc == SEED_DOC
        assert doc["file"] == SEED_PATH
        # one compact object per line
        assert line == json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def test_several_different_files_each_have_their_file(tmp_path):
    second = tmp_path / "two.expr"
    second.write_text("a = 2\nb = a * a\n")
    result = ok(
        invoke(
            ["eval", SEED_PATH, str(second), "-", "--format", "json"], input="z = 3\ny = z + 1\n"
        )
    )
    docs = [strict_json(line) for line in result.stdout.splitlines()]
    assert [d["file"] for d in docs] == [SEED_PATH, str(second), "-"]
    assert [d["target"] for d in docs] == ["L", "b", "y"]
    assert docs[1]["nodes"]["a"]["grad"] == 4.0


def test_several_files_as_tables():
    out = ok(invoke(["eval", SEED_PATH, SEED_PATH])).stdout
    assert out.count("∂L/∂·") == 2


def test_stdin_is_dash_and_file_is_dash():
    result = ok(invoke(["eval", "-", "--format", "json"], input="a = 2\nb = a * a\n"))
    doc = strict_json(result.stdout)
    assert doc["file"] == "-"
    assert doc["target"] == "b"
    assert doc["nodes"]["a"]["grad"] == 4.0


def test_stdin_seed_gives_the_seed_numbers():
    text = (ROOT / SEED_PATH).read_text()
    doc = strict_json(ok(invoke(["eval", "-", "-f", "json"], input=text)).stdout)
    assert doc == {**SEED_DOC, "file": "-"}


def test_stdin_errors_are_located_in_stdin():
    result = invoke(["eval", "-"], input="a = 1\nb = q\n")
    assert result.exit_code == 1 and result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert re.match(r"(<stdin>|-):2:5: error: undefined name 'q'", first), first


# ------------------------------------------------------------------ options


def test_of_selects_the_target():
    doc = strict_json(ok(invoke(["eval", SEED_PATH, "--of", "b1", "-f", "json"])).stdout)
    assert doc["target"] == "b1"
    assert doc["value"] == 23.0
    assert doc["nodes"]["w"]["grad"] == [4.0, 3.0, 0.0, 0.0, 0.0]
    assert doc["nodes"]["L"]["grad"] == 0.0


def test_wrt_limits_the_report_and_keeps_file_order():
    doc = strict_json(
        ok(invoke(["eval", SEED_PATH, "--wrt", "w", "--wrt", "a1", "-f", "json"])).stdout
    )
    assert list(doc["nodes"]) == ["a1", "w"]
    assert doc["nodes"]["w"] == SEED_DOC["nodes"]["w"]
    assert doc["nodes"]["a1"] == SEED_DOC["nodes"]["a1"]
    assert doc["target"] == "L" and doc["value"] == -254.0


def test_wrt_in_the_table():
    out = ok(invoke(["eval", SEED_PATH, "--wrt", "w"])).stdout
    rows = [line.split("│")[1].strip() for line in out.splitlines() if "│" in line]
    assert rows == ["w"]
    assert "-28" in out


def test_set_replaces_a_param():
    doc = strict_json(
        ok(invoke(["eval", SEED_PATH, "--set", "w=[1,2,3,4,5]", "-f", "json"])).stdout
    )
    w = doc["nodes"]["w"]
    assert w["value"] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert w["kind"] == "param"
    assert w["expr"].replace(" ", "") == "[1,2,3,4,5]"
    # L = 15 - (w3 (w0 a1 + w1 a2) + w4 w2 a1), a1 = 4, a2 = 3
    assert w["grad"] == [-16.0, -12.0, -20.0, -10.0, -12.0]
    assert doc["value"] == -85.0


def test_set_is_repeatable_and_takes_expressions():
    doc = strict_json(
        ok(
            invoke(
                [
                    "eval",
                    SEED_PATH,
                    "--set",
                    "a1=0.5",
                    "--set",
                    "a2=2 * 3",
                    "--set",
                    "w=[1, 1, 1, 1, 1]",
                    "-f",
                    "json",
                ]
            )
        ).stdout
    )
    assert doc["nodes"]["a1"]["value"] == 0.5
    assert doc["nodes"]["a2"]["value"] == 6.0
    # b1 = 0.5 + 6, b2 = 0.5, c = b1 + b2 = 7, L = 8
    assert doc["value"] == 8.0


def test_set_without_equals_is_a_usage_error():
    result = invoke(["eval", SEED_PATH, "--set", "a1"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--set" in result.stderr
    assert "Traceback" not in result.stderr


def test_set_with_empty_name_is_a_usage_error():
    assert invoke(["eval", SEED_PATH, "--set", "=3"]).exit_code == 2


def test_dtype_float32():
    doc = strict_json(ok(invoke(["eval", SEED_PATH, "--dtype", "float32", "-f", "json"])).stdout)
    assert doc["dtype"] == "float32"
    assert doc["nodes"]["w"]["grad"] == [-28.0, -21.0, -12.0, -23.0, -36.0]


def test_dtype_float32_numbers_are_the_float32_values():
    doc = strict_json(
        ok(
            invoke(["eval", "-", "--dtype", "float32", "-f", "json"], input="a = 0.1\nb = a * 1\n")
        ).stdout
    )
    assert doc["nodes"]["a"]["value"] == float(np.float32(0.1))


def test_dtype_table_mentions_the_dtype():
    assert "float32" in ok(invoke(["eval", SEED_PATH, "--dtype", "float32"])).stdout


def test_bad_dtype_and_bad_format_are_usage_errors():
    assert invoke(["eval", SEED_PATH, "--dtype", "float16"]).exit_code == 2
    assert invoke(["eval", SEED_PATH, "--format", "xml"]).exit_code == 2


def test_strict_passes_a_clean_file():
    assert strict_json(ok(invoke(["eval", SEED_PATH, "--strict", "-f", "json"])).stdout) == SEED_DOC


def test_strict_fails_on_nan():
    result = invoke(["eval", "-", "--strict", "-f", "json"], input="a = -1\nb = log(a)\n")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert ": error: " in result.stderr.splitlines()[0]


def test_version():
    result = ok(invoke(["--version"]))
    assert autograd_cli.__version__ in result.stdout
    assert result.stdout.strip() == f"autograd-cli {autograd_cli.__version__}"


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["eval", "--help"], ["eval", "-h"]])
def test_help(args):
    result = ok(invoke(args))
    assert "Usage" in result.stdout
    if args[0] == "eval":
        for option in ["--of", "--wrt", "--set", "--format", "--dtype", "--strict"]:
            assert option in result.stdout, option
    else:
        assert "eval" in result.stdout


COMMANDS = ["eval", "check", "hessian", "jacobian", "graph", "explain", "test", "functions", "repl"]


def test_help_lists_each_command_on_one_line_with_a_whole_example():
    """The app's help gives each command one line (the first of its help),
    and each command's example is one line, as typed: a summary wrapped in
    the docstring, or a \\n in it that Python turns into a newline, splits
    them."""
    text = ok(invoke(["--help"], COLUMNS="200")).stdout
    rows = text.split("Commands", 1)[1].splitlines()[1:]
    rows = [row for row in rows[: next(i for i, r in enumerate(rows) if r.startswith("╰"))]]
    names = [row.split()[1] for row in rows]
    assert names == COMMANDS[:-3] + ["functions", "repl", "test", "fit"], rows
    for command in names:
        help_text = ok(invoke([command, "--help"], COLUMNS="200")).stdout
        (example,) = [line for line in help_text.splitlines() if "Example:" in line]
        typed = example.split("Example:", 1)[1].strip()
        assert "autograd-cli " + command in typed, example
        assert typed.count("'") % 2 == 0, example


@pytest.mark.parametrize("args", [["--help"]] + [[command, "--help"] for command in COMMANDS])
def test_help_shows_flags_as_flags_and_arguments_by_name(args):
    """Flags take no value, so help shows none after them; arguments show
    their name (FILE..., [PATH]...), not a Python type."""
    text = ok(invoke(args, COLUMNS="200")).stdout
    for python_type in ["<bool>", "<list[", "<str>", "{FILE}"]:
        assert python_type not in text, (python_type, text)
    flag_lines = [
        line
        for line in text.splitlines()
        if re.search(r"--(help|strict|update|any-shape|version|timings)\b", line)
    ]
    assert flag_lines
    for line in flag_lines:
        assert "<" not in line.split("--", 1)[1].split("  ")[0], line
    if args[0] in ("eval", "check"):
        assert "[FILE]..." in text  # optional: -e TEXT may stand for it
    if args[0] == "test":
        assert "[PATH]..." in text


@pytest.mark.parametrize(
    "args, flag",
    [
        (["test", "examples", "--update", "true"], "--update"),
        (["test", "--update", "false", "examples"], "--update"),
        (["eval", SEED_PATH, "--strict", "true"], "--strict"),
        (["eval", SEED_PATH, "--strict", "YES"], "--strict"),
        (["check", SEED_PATH, "--any-shape", "1"], "--any-shape"),
    ],
)
def test_a_value_after_a_flag_is_a_usage_error(args, flag):
    result = invoke(args)
    assert result.exit_code == 2, result.stderr
    assert result.stdout == ""
    assert f"{flag} is a flag and takes no value" in result.stderr


def test_a_file_named_like_a_boolean_is_still_a_file(tmp_path, monkeypatch):
    (tmp_path / "true").write_text("x = 2\nL = x * x\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["eval", "--strict", "true", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    assert strict_json(result.stdout)["value"] == 4.0


@pytest.mark.parametrize("command", ["eval", "check", "hessian", "jacobian"])
def test_wrt_an_element_is_refused_with_what_to_write_instead(command):
    """--wrt takes binding names; an element selection gets an error that
    says what to write (explain takes elements)."""
    result = invoke([command, SEED_PATH, "--wrt", "w[0]"])
    assert result.exit_code == 1 and result.stdout == ""
    assert "'w[0]' is part of 'w': use --wrt w" in result.stderr
    assert 'explain --wrt "w[0]"' in result.stderr
    assert ok(invoke(["explain", SEED_PATH, "--wrt", "w[0]"])).stdout


def test_of_an_element_is_refused_with_what_to_write_instead():
    result = invoke(["eval", SEED_PATH, "--of", "w[0]"])
    assert result.exit_code == 1 and result.stdout == ""
    assert "(t = w[0])" in result.stderr


def test_unknown_option_is_a_usage_error():
    result = invoke(["eval", SEED_PATH, "--bogus"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--bogus" in result.stderr


def test_unknown_command_is_a_usage_error():
    assert invoke(["evaluate", SEED_PATH]).exit_code == 2


def test_eval_without_file_is_a_usage_error():
    assert invoke(["eval"]).exit_code == 2


# ------------------------------------------------------------------ colour


def _colour_codes(text):
    """SGR parameters that set a colour (not bold or reset)."""
    found = []
    for params in re.findall(r"\x1b\[([0-9;]*)m", text):
        for p in params.split(";"):
            if p and (30 <= int(p) <= 49 or 90 <= int(p) <= 107):
                found.append(p)
    return found


def test_no_ansi_escapes_when_not_a_terminal():
    result = ok(invoke(["eval", SEED_PATH]))
    assert not ANSI.search(result.stdout)
    bad = invoke(["eval", "-"], input="a = q\n")
    assert not ANSI.search(bad.stderr)


def test_force_color_colours_the_diagnostics():
    # sanity check for the NO_COLOR test below: colour can be switched on
    bad = invoke(["eval", "-"], input="a = q\n", FORCE_COLOR="1")
    assert ANSI.search(bad.stderr)


def test_no_color_is_honoured_even_when_colour_is_forced():
    bad = invoke(["eval", "-"], input="a = q\n", FORCE_COLOR="1", NO_COLOR="1")
    assert bad.exit_code == 1
    assert not ANSI.search(bad.stderr)
    good = ok(invoke(["eval", SEED_PATH], FORCE_COLOR="1", NO_COLOR="1"))
    assert _colour_codes(good.stdout) == []


# ---------------------------------------------------------- internal errors


def _boom(*args, **kwargs):
    raise RuntimeError("boom")


def test_internal_error_is_one_line_and_exit_70(monkeypatch):
    monkeypatch.setattr("autograd_cli.running.run", _boom)
    result = invoke(["eval", SEED_PATH])
    assert result.exit_code == 70
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "internal error" in lines[0] and "bug" in lines[0] and "report" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "target, args",
    [
        ("autograd_cli.compiling.load", ["eval", SEED_PATH]),
        ("autograd_cli.jsonout.report_json", ["eval", SEED_PATH, "-f", "json"]),
        ("autograd_cli.render.render_table", ["eval", SEED_PATH]),
    ],
)
def test_internal_error_anywhere_is_exit_70(monkeypatch, target, args):
    monkeypatch.setattr(target, _boom)
    result = invoke(args)
    assert result.exit_code == 70
    assert "internal error" in result.stderr and "Traceback" not in result.stderr


def test_internal_error_traceback_only_with_debug(monkeypatch):
    monkeypatch.setattr("autograd_cli.running.run", _boom)
    result = invoke(["eval", SEED_PATH], AUTOGRAD_CLI_DEBUG="1")
    assert result.exit_code == 70
    assert "Traceback" in result.stderr
    assert "RuntimeError: boom" in result.stderr


# ------------------------------------------------------- real subprocesses


def _env():
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    return env


def _console_script():
    script = shutil.which("autograd-cli")
    if script is None:
        pytest.skip("the autograd-cli console script is not on PATH")
    return script


def _run(cmd, cwd=ROOT, input=None):
    return subprocess.run(
        cmd, cwd=cwd, input=input, capture_output=True, text=True, env=_env(), timeout=60
    )


def test_console_script_json_and_exit_codes():
    script = _console_script()
    good = _run([script, "eval", SEED_PATH, "--format", "json"])
    assert good.returncode == 0, good.stderr
    assert good.stderr == ""
    assert strict_json(good.stdout) == SEED_DOC

    bad = _run([script, "eval", "-"], input="a = 1\nb = c + a\n")
    assert bad.returncode == 1
    assert bad.stdout == ""
    assert re.match(r"(<stdin>|-):2:5: error: undefined name 'c'", bad.stderr)

    usage = _run([script, "eval", SEED_PATH, "--nope"])
    assert usage.returncode == 2 and usage.stdout == ""
    for proc in (good, bad, usage):
        assert "Traceback" not in proc.stdout + proc.stderr


def test_console_script_several_files_and_a_missing_one(tmp_path):
    script = _console_script()
    proc = _run(
        [script, "eval", SEED_PATH, str(tmp_path / "missing.expr"), SEED_PATH, "-f", "json"]
    )
    assert proc.returncode == 1
    docs = [strict_json(line) for line in proc.stdout.splitlines()]
    assert len(docs) == 2 and all(d == SEED_DOC for d in docs)
    assert "missing.expr" in proc.stderr and "error" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_python_dash_m_json_stdin_and_errors():
    proc = _run(
        [sys.executable, "-m", "autograd_cli", "eval", "-", "-f", "json"],
        input="x = [1, 2, 3]\ny = sum(x * x)\n",
    )
    assert proc.returncode == 0, proc.stderr
    doc = strict_json(proc.stdout)
    assert doc["file"] == "-" and doc["nodes"]["x"]["grad"] == [2.0, 4.0, 6.0]

    nan = _run(
        [sys.executable, "-m", "autograd_cli", "eval", "-", "-f", "json"],
        input="a = -1\nb = log(a)\n",
    )
    assert nan.returncode == 0
    assert strict_json(nan.stdout)["value"] == "nan"
    assert "warning" in nan.stderr and "'b'" in nan.stderr

    strict = _run(
        [sys.executable, "-m", "autograd_cli", "eval", "-", "--strict"],
        input="a = -1\nb = log(a)\n",
    )
    assert strict.returncode == 1 and strict.stdout == ""

    version = _run([sys.executable, "-m", "autograd_cli", "--version"])
    assert version.returncode == 0 and autograd_cli.__version__ in version.stdout
    for p in (proc, nan, strict, version):
        assert "Traceback" not in p.stdout + p.stderr


def test_python_dash_m_big_array_and_bad_bytes(tmp_path):
    big = _run(
        [sys.executable, "-m", "autograd_cli", "eval", "-"],
        input="x = zeros(100000, 100000)\nL = sum(x)\n",
    )
    assert big.returncode == 1 and big.stdout == ""
    assert ":1:5: error: " in big.stderr
    bad = tmp_path / "bad.expr"
    bad.write_bytes(b"a = \xff\xfe\n")
    proc = _run([sys.executable, "-m", "autograd_cli", "eval", str(bad)])
    assert proc.returncode == 1 and proc.stdout == ""
    assert "Traceback" not in big.stderr + proc.stderr


# ------------------------------------------------------ the installed package


def test_installed_console_script_finds_its_grammar_outside_the_source_tree(tmp_path):
    script = _console_script()
    (tmp_path / "m.expr").write_text("param w = [1, 2]\nL = sum(w * w)\n")
    proc = _run([script, "eval", "m.expr", "-f", "json"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert strict_json(proc.stdout)["nodes"]["w"]["grad"] == [2.0, 4.0]


def test_installed_package_ships_its_grammar(tmp_path):
    code = (
        "import importlib.resources as r, autograd_cli, autograd_cli.parser as p\n"
        "p._lark()\n"
        "assert r.files('autograd_cli').joinpath('grammar.lark').is_file()\n"
        "import autograd_cli.parse_tables as t\n"
        "assert p._load_tables() is t.TABLES  # the shipped tables are current\n"
        "print(autograd_cli.__file__)\n"
    )
    env = {k: v for k, v in _env().items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    if "No module named 'autograd_cli'" in proc.stderr:
        pytest.skip(
            f"autograd_cli is not installed in {sys.executable} "
            "(only importable from the source tree)"
        )
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()).name == "__init__.py"
