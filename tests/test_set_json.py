"""--set-json: values for inputs and params from a JSON object (a file or stdin),
its errors, the other commands, the fast launch path, and a shell pipeline."""

import io
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from autograd_cli import launch
from autograd_cli.cli import app

from common import ROOT, SEED, SEED_DOC, SEED_PATH

SEED_NAMES = set(SEED_DOC["nodes"])

CLEAN_ENV = {
    "NO_COLOR": None,
    "FORCE_COLOR": None,
    "AUTOGRAD_CLI_DEBUG": None,
    "COLUMNS": None,
    "TERM": None,
}


def invoke(args, input=None):
    return CliRunner().invoke(app, args, input=input, env=CLEAN_ENV)


def _reject(name):
    raise ValueError(f"non-standard JSON constant {name}")


def strict_json(text):
    return json.loads(text, parse_constant=_reject)


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def seed_by_hand(w, a1, a2):
    """L = 15 - (w3 (w0 a1 + w1 a2) + w4 w2 a1) and its gradient, worked out."""
    w0, w1, w2, w3, w4 = w
    value = 15 - (w3 * (w0 * a1 + w1 * a2) + w4 * w2 * a1)
    grad_w = [-w3 * a1, -w3 * a2, -w4 * a1, -(w0 * a1 + w1 * a2), -w2 * a1]
    grad_a1 = -(w3 * w0 + w4 * w2)
    return value, grad_w, grad_a1


def write(tmp_path, name, text):
    p = tmp_path / name
    (p.write_bytes if isinstance(text, bytes) else p.write_text)(text)
    return str(p)


def error_lines(result, exit_code=1):
    assert result.exit_code == exit_code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return result.stderr.splitlines()


# ------------------------------------------------------------------ values


@pytest.mark.parametrize("via_stdin", [False, True])
def test_values_from_a_file_or_stdin(tmp_path, via_stdin):
    w, a1 = [1.0, 2.0, 3.0, 4.0, 5.0], 0.5
    text = json.dumps({"w": w, "a1": a1})
    if via_stdin:
        result = invoke(["eval", SEED_PATH, "--set-json", "-", "-f", "json"], input=text)
    else:
        path = write(tmp_path, "values.json", text)
        result = invoke(["eval", SEED_PATH, "--set-json", path, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    doc = strict_json(result.stdout)
    value, grad_w, grad_a1 = seed_by_hand(w, a1, 3.0)
    assert doc["value"] == pytest.approx(value)
    assert doc["nodes"]["w"]["value"] == w
    assert doc["nodes"]["w"]["grad"] == pytest.approx(grad_w)
    assert doc["nodes"]["a1"]["grad"] == pytest.approx(grad_a1)
    assert doc["nodes"]["a2"]["value"] == 3.0  # not given: the file's
    assert doc["nodes"]["w"]["kind"] == "param" and doc["nodes"]["a1"]["kind"] == "input"
    # The document says which values were given, in file order.
    assert doc["set"] == {"a1": a1, "w": w}
    assert list(doc)[:5] == ["schema", "file", "target", "dtype", "set"]


def test_same_numbers_as_set():
    via_json = invoke(
        ["eval", SEED_PATH, "--set-json", "-", "-f", "json"],
        input='{"w": [1, 1, 2, 3, 5], "a2": -2}',
    )
    via_set = invoke(
        ["eval", SEED_PATH, "--set", "w=[1, 1, 2, 3, 5]", "--set", "a2=-2", "-f", "json"]
    )
    a, b = strict_json(via_json.stdout), strict_json(via_set.stdout)
    for doc in (a, b):
        for node in doc["nodes"].values():
            node.pop("expr")
    assert a == b


def test_without_set_json_there_is_no_set_key():
    doc = strict_json(invoke(["eval", SEED_PATH, "-f", "json"]).stdout)
    assert "set" not in doc


def test_non_finite_strings_as_the_output_writes_them(tmp_path):
    path = write(tmp_path, "x.expr", "x = [1, 2, 3, 4]\nL = sum(x * 2)\n")
    result = invoke(
        ["eval", path, "--set-json", "-", "-f", "json"], input='{"x": [1.5, "inf", "-inf", "nan"]}'
    )
    assert result.exit_code == 0
    doc = strict_json(result.stdout)
    assert doc["nodes"]["x"]["value"] == [1.5, "inf", "-inf", "nan"]
    assert doc["set"]["x"] == [1.5, "inf", "-inf", "nan"]
    assert doc["value"] == "nan"
    # The warning names the binding, at its place in the .expr file.
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{path}:1:1: warning: ") and "'x'" in first and "nan" in first


def test_output_feeds_input_exactly(tmp_path):
    """Every digit survives: a value read back from eval's JSON is the same float."""
    first = invoke(
        ["eval", "-", "-f", "json"], input="param w = randn(4, seed=3)\nL = sum(sin(w))\n"
    )
    w = strict_json(first.stdout)["nodes"]["w"]["value"]
    path = write(tmp_path, "b.expr", "param w = zeros(4)\nL = sum(w ** 2)\n")
    second = invoke(["eval", path, "--set-json", "-", "-f", "json"], input=json.dumps({"w": w}))
    doc = strict_json(second.stdout)
    assert doc["nodes"]["w"]["value"] == w
    assert doc["nodes"]["w"]["grad"] == [2 * x for x in w]
    assert doc["value"] == sum(np.array(w) ** 2)


def test_float32_rounds_the_given_value():
    result = invoke(
        ["eval", SEED_PATH, "--dtype", "float32", "--set-json", "-", "-f", "json"],
        input='{"a1": 0.1}',
    )
    doc = strict_json(result.stdout)
    assert doc["nodes"]["a1"]["value"] == float(np.float32(0.1)) != 0.1


def test_matrices_and_empty_arrays(tmp_path):
    path = write(tmp_path, "m.expr", "m = [[1, 2], [3, 4]]\ne = zeros(0)\nL = sum(m * m)\n")
    result = invoke(
        ["eval", path, "--set-json", "-", "-f", "json"], input='{"m": [[0.5, -1], [2, 0]], "e": []}'
    )
    assert result.exit_code == 0, result.stderr
    doc = strict_json(result.stdout)
    assert doc["nodes"]["m"]["grad"] == [[1.0, -2.0], [4.0, 0.0]]
    assert doc["nodes"]["e"]["shape"] == [0]


def test_set_wins_over_set_json_and_later_files_win(tmp_path):
    one = write(tmp_path, "one.json", '{"a1": 1, "a2": 1}')
    two = write(tmp_path, "two.json", '{"a1": 2}')
    doc = strict_json(
        invoke(
            ["eval", SEED_PATH, "--set-json", one, "--set-json", two, "--set", "a2=7", "-f", "json"]
        ).stdout
    )
    assert doc["nodes"]["a1"]["value"] == 2.0
    assert doc["nodes"]["a2"]["value"] == 7.0
    assert doc["nodes"]["a2"]["expr"] == "7"


def test_several_files_get_the_same_values(tmp_path):
    other = write(tmp_path, "other.expr", "a1 = 0\nL = a1 * 3\n")
    result = invoke(["eval", SEED_PATH, other, "--set-json", "-", "-f", "json"], input='{"a1": 10}')
    assert result.exit_code == 0
    docs = [strict_json(line) for line in result.stdout.splitlines()]
    assert [d["nodes"]["a1"]["value"] for d in docs] == [10.0, 10.0]
    assert docs[1]["value"] == 30.0


# ---------------------------------------------------------------- shapes


def test_shape_must_match_the_binding():
    lines = error_lines(invoke(["eval", SEED_PATH, "--set-json", "-"], input='{"w": [1, 2, 3]}'))
    assert lines[0].startswith("<stdin>:1:7: error: ")
    assert "'w' has shape (5,)" in lines[0] and "(3,)" in lines[0]
    assert "--any-shape" in lines[0]
    assert lines[1].endswith('{"w": [1, 2, 3]}')
    assert lines[2].endswith("^" * len("[1, 2, 3]"))


def test_scalar_is_not_a_one_element_vector():
    lines = error_lines(invoke(["eval", SEED_PATH, "--set-json", "-"], input='{"a1": [4]}'))
    assert "'a1' has shape ()" in lines[0] and "(1,)" in lines[0]


def test_shape_of_a_constructor_binding_is_checked(tmp_path):
    path = write(tmp_path, "z.expr", "z = zeros(2, 3)\nL = sum(z)\n")
    assert (
        invoke(["eval", path, "--set-json", "-"], input='{"z": [[1, 2, 3], [4, 5, 6]]}').exit_code
        == 0
    )
    lines = error_lines(invoke(["eval", path, "--set-json", "-"], input='{"z": [1, 2, 3]}'))
    assert "(2, 3)" in lines[0] and "line 1" in lines[0]


def test_any_shape_lets_the_shape_change_and_checks_the_file_again(tmp_path):
    path = write(tmp_path, "x.expr", "x = [1, 2, 3]\nL = sum(x * x)\n")
    result = invoke(
        ["eval", path, "--set-json", "-", "--any-shape", "-f", "json"],
        input='{"x": [[1, 2], [3, 4]]}',
    )
    assert result.exit_code == 0, result.stderr
    doc = strict_json(result.stdout)
    assert doc["nodes"]["x"]["shape"] == [2, 2] and doc["value"] == 30.0
    # A shape the file cannot take is the file's error, as with --set.
    bad = write(tmp_path, "y.expr", "x = [1, 2, 3]\nL = sum(x * [1, 1, 1])\n")
    lines = error_lines(
        invoke(["eval", bad, "--set-json", "-", "--any-shape"], input='{"x": [1, 2]}')
    )
    assert lines[0].startswith(f"{bad}:2:")


# ---------------------------------------------------------------- errors


def _decoder_position(text):
    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        return e.lineno, e.colno
    raise AssertionError("valid JSON")


@pytest.mark.parametrize(
    "text",
    [
        '{"w": [1, 2, 3, 4, 5],\n "a1": 0.5,,\n}',
        '{"a1": 0.5',
        "{'a1': 0.5}",
        '{"a1": 0.5} {"a2": 1}',
        '\n\n   {"a1": .5}',
        "",
        '{"a1": 0.5, "w": [1, 2, 3, 4, 5}',
    ],
)
def test_bad_json_is_located_where_the_decoder_stopped(tmp_path, text):
    path = write(tmp_path, "bad.json", text)
    lines = error_lines(invoke(["eval", SEED_PATH, "--set-json", path]))
    line, column = _decoder_position(text)
    assert lines[0].startswith(f"{path}:{line}:{column}: error: invalid JSON: ")


@pytest.mark.parametrize(
    "text, fragment, column",
    [
        ('{"w1": 3}', "no binding named 'w1'", 2),
        ('{"a1": 1, "b3": 2}', "did you mean 'b1'", 11),
        ('{"b1": 2}', "computed from other nodes", 2),
        ('{"L": 2}', "only inputs and params", 2),
        ('{"a1": true}', "is true; expected a number", 8),
        ('{"a1": null}', "is null", 8),
        ('{"a1": "4"}', '"4"', 8),
        ('{"a1": "NaN"}', '"NaN"', 8),
        ('{"a1": {"v": 1}}', "an object", 8),
        ('{"w": [1, 2, "x", 4, 5]}', "element [2]", 7),
        ('{"w": [1, [2], 3, 4, 5]}', "ragged", 7),
        ('{"w": [[1, 2], [3]]}', "ragged list: element [1] has 1 element", 7),
        (
            '{"a1": 1e999999999999999999999999999999999999999999999999999999999999999999999999999'
            "99999999999999999999999999999999999999999999999999999999999999999999999999999999999"
            "99999999999999999999999999999999999999999999999999999999999999999999999999999999999"
            "999999999999999999999999999}",
            None,
            None,
        ),
        ('{"a1": ' + "1" + "0" * 400 + "}", "too large", 8),
        ('{"a1": 1, "a1": 2}', "given twice", 11),
        ("[1, 2]", "takes a JSON object", 1),
        ('"w"', "takes a JSON object", 1),
    ],
)
def test_value_errors_are_located_in_the_json(text, fragment, column):
    result = invoke(["eval", SEED_PATH, "--set-json", "-"], input=text)
    if fragment is None:  # 1e999... is a float: inf, accepted with a warning
        assert result.exit_code == 0 and "'a1' has inf" in result.stderr
        return
    lines = error_lines(result)
    assert lines[0].startswith(f"<stdin>:1:{column}: error: "), lines[0]
    assert fragment in lines[0], lines[0]


def test_nesting_past_32_dimensions(tmp_path):
    text = '{"a1": ' + "[" * 40 + "1" + "]" * 40 + "}"
    lines = error_lines(invoke(["eval", SEED_PATH, "--set-json", "-"], input=text))
    assert "32" in lines[0]


def test_nesting_too_deep_for_the_decoder(tmp_path):
    depth = 200_000
    path = write(tmp_path, "deep.json", '{"a1": ' + "[" * depth + "]" * depth + "}")
    lines = error_lines(invoke(["eval", SEED_PATH, "--set-json", path]))
    assert lines[0].startswith(f"{path}:1:")
    assert "too deep" in lines[0]
    assert max(len(line) for line in lines) < 200  # the excerpt is cut around the place


def test_long_one_line_json_error_is_shown_around_the_place():
    text = json.dumps({"w": list(range(5)), "a9": 1, "pad": list(range(3000))})
    lines = error_lines(invoke(["eval", SEED_PATH, "--set-json", "-"], input=text))
    assert "'a9'" in lines[0] and "did you mean 'a1'" in lines[0]
    assert '"a9"' in lines[1] and len(lines[1]) < 200
    caret = lines[2].index("^")
    assert lines[1][caret : caret + 4] == '"a9"'


def test_not_utf8_and_missing_file(tmp_path):
    path = write(tmp_path, "latin.json", b'{"a1": "\xe9"}')
    lines = error_lines(invoke(["eval", SEED_PATH, "--set-json", path]))
    assert lines[0].startswith(f"{path}:1:9: error: ") and "UTF-8" in lines[0]
    lines = error_lines(invoke(["eval", SEED_PATH, "--set-json", str(tmp_path / "no.json")]))
    assert "cannot read" in lines[0]


def test_json_error_stops_before_any_file():
    lines = error_lines(invoke(["eval", SEED_PATH, SEED_PATH, "--set-json", "-"], input="{"))
    assert len([line for line in lines if ": error: " in line]) == 1


def test_stdin_cannot_be_read_twice(tmp_path):
    result = invoke(["eval", "-", "--set-json", "-"], input=SEED)
    lines = error_lines(result, exit_code=2)
    assert "--set-json" in result.stderr and "once" in result.stderr
    path = write(tmp_path, "v.json", "{}")
    error_lines(
        invoke(["eval", SEED_PATH, "--set-json", "-", "--set-json", "-"], input="{}"), exit_code=2
    )
    # A file for one of them is fine.
    assert invoke(["eval", "-", "--set-json", path], input=SEED).exit_code == 0
    assert lines


def test_library_refuses_stdin_twice(capsys):
    from autograd_cli.commands import reports

    assert reports.eval_files(["-"], set_json=["-"]) == 1
    assert "once" in capsys.readouterr().err


def test_empty_object_changes_nothing():
    a = strict_json(invoke(["eval", SEED_PATH, "--set-json", "-", "-f", "json"], input="{}").stdout)
    b = strict_json(invoke(["eval", SEED_PATH, "-f", "json"]).stdout)
    assert a == b


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.floats(allow_nan=False)
        | st.integers()
        | st.sampled_from(["nan", "inf", "-inf", "w", ""]),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.sampled_from(["w", "a1", "a2", "b1", "zz"]), inner, max_size=3)
        ),
        max_leaves=12,
    )
)
def test_any_json_gives_a_result_or_a_located_error(value):
    text = json.dumps(value)
    result = invoke(["eval", SEED_PATH, "--set-json", "-", "-f", "json"], input=text)
    assert result.exit_code in (0, 1), (text, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    if result.exit_code == 1:
        assert result.stdout == ""
        assert result.stderr.startswith("<stdin>:1:") or result.stderr.startswith(
            "examples/seed.expr:"
        ), result.stderr


# ---------------------------------------------------------- other commands


@pytest.mark.parametrize(
    "command",
    [
        ["check"],
        ["hessian"],
        ["jacobian"],
        ["graph", "-f", "json"],
        ["explain", "--wrt", "w[0]"],
    ],
)
def test_every_command_takes_set_json_as_set(command):
    args = [command[0], SEED_PATH, *command[1:]]
    fmt = [] if "-f" in command else ["-f", "json"]
    via_json = invoke(args + ["--set-json", "-"] + fmt, input='{"w": [1, 2, 3, 4, 5]}')
    via_set = invoke(args + ["--set", "w=[1.0, 2.0, 3.0, 4.0, 5.0]"] + fmt)
    assert via_json.exit_code == via_set.exit_code == 0, via_json.stderr
    a, b = strict_json(via_json.stdout), strict_json(via_set.stdout)
    assert a["set"] == {"w": [1.0, 2.0, 3.0, 4.0, 5.0]}
    if command[0] == "graph":
        # The list literal of --set is a node per element, the JSON value one
        # constant: compare the named nodes.
        for doc in (a, b):
            doc["graph"] = {
                n["id"]: (n["op"], n["shape"], n["value"], n["grad"])
                for n in doc["graph"]["nodes"]
                if n["id"] in SEED_NAMES
            }
        assert len(a["graph"]) == len(SEED_NAMES)
    assert a == b


def test_other_commands_report_set_json_errors():
    lines = error_lines(invoke(["hessian", SEED_PATH, "--set-json", "-"], input='{"w": 1}'))
    assert lines[0].startswith("<stdin>:1:7: error: ") and "(5,)" in lines[0]


def test_help_describes_set_json():
    for command in ("eval", "check", "hessian", "jacobian", "graph", "explain"):
        out = invoke([command, "--help"]).stdout
        assert "--set-json" in out and "--any-shape" in out, command


# ---------------------------------------------------------------- launch

FAST_ARGVS = [
    ["examples/seed.expr", "--set-json", "VALUES", "-f", "json"],
    ["examples/seed.expr", "--set-json=VALUES", "--set", "a1=2", "-f", "json"],
    ["examples/seed.expr", "--set-json", "SHORT", "--any-shape", "-f", "json"],
    ["examples/seed.expr", "--set-json", "SHORT"],
    ["examples/seed.expr", "--set-json", "BAD"],
    ["examples/seed.expr", "--set-json", "-", "-f", "json"],
]


@pytest.mark.parametrize("args", FAST_ARGVS, ids=" ".join)
def test_fast_path_matches_typer(args, tmp_path, monkeypatch, capfd):
    files = {
        "VALUES": '{"w": [1, 2, 3, 4, 5], "a2": 0.25}',
        "SHORT": '{"w": [1, 2]}',
        "BAD": '{"w": [1, 2, 3, 4, 5],}',
    }
    args = [a for a in args]
    for k, text in files.items():
        path = write(tmp_path, k + ".json", text)
        args = [a.replace(k, path) for a in args]
    stdin = '{"a1": 1.5}'
    monkeypatch.setenv("COLUMNS", "120")
    assert launch.parse_eval_args(args) is not None, "this argv should take the fast path"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    code = launch.run(["eval", *args])
    fast = capfd.readouterr()
    typer_result = CliRunner().invoke(app, ["eval", *args], input=stdin)
    assert code == typer_result.exit_code
    assert fast.out == typer_result.stdout
    assert fast.err == typer_result.stderr


def test_stdin_twice_goes_to_typer():
    assert launch.parse_eval_args(["-", "--set-json", "-"]) is None
    assert launch.parse_eval_args(["a.expr", "--set-json", "-", "--set-json", "-"]) is None
    assert launch.parse_eval_args(["a.expr", "--set-json"]) is None
    assert launch.parse_eval_args(["a.expr", "--set-json", "-"])[1]["set_json"] == ["-"]


# ------------------------------------------------------ a real shell pipeline


def console_script():
    """The console script of the interpreter running the tests (else PATH's)."""
    here = Path(sys.executable).parent / "autograd-cli"
    script = str(here) if here.exists() else shutil.which("autograd-cli")
    if script is None:
        pytest.skip("the autograd-cli console script is not installed")
    return script


def _shell(command, cwd):
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    return subprocess.run(
        command, shell=True, cwd=cwd, capture_output=True, text=True, env=env, timeout=120
    )


def _pipeline_files(tmp_path):
    (tmp_path / "a.expr").write_text("x = [1, 2, 3]\nparam w = [0.5, -1, 2]\nL = sum(w * x) ** 2\n")
    (tmp_path / "b.expr").write_text("param w = zeros(3)\nL = sum(w * w)\n")
    # dL/dw of a.expr = 2 * (w . x) * x, with w . x = 4.5
    return [9.0, 18.0, 27.0]


def test_pipeline_of_two_runs_through_a_shell(tmp_path):
    grad = _pipeline_files(tmp_path)
    script = shlex.quote(console_script())
    python = shlex.quote(sys.executable)
    filt = (
        "import json, sys; d = json.load(sys.stdin); "
        "json.dump({'w': d['nodes']['w']['grad']}, sys.stdout)"
    )
    proc = _shell(
        f"{script} eval a.expr --format json | {python} -c {shlex.quote(filt)} "
        f"| {script} eval b.expr --set-json - --format json",
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    doc = strict_json(proc.stdout)
    assert doc["nodes"]["w"]["value"] == grad
    assert doc["value"] == sum(g * g for g in grad)
    assert doc["nodes"]["w"]["grad"] == [2 * g for g in grad]


def test_pipeline_with_jq(tmp_path):
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed")
    grad = _pipeline_files(tmp_path)
    script = shlex.quote(console_script())
    proc = _shell(
        f"{script} eval a.expr --format json | jq '{{w: .nodes.w.grad}}' "
        f"| {script} eval b.expr --set-json - --format json",
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert strict_json(proc.stdout)["nodes"]["w"]["value"] == grad


def test_pipeline_failure_is_located_and_exits_1(tmp_path):
    _pipeline_files(tmp_path)
    script = shlex.quote(console_script())
    proc = _shell(
        f"echo '{{\"v\": [1, 2, 3]}}' | {script} eval b.expr --set-json - "
        "--format json; echo exit=$?",
        tmp_path,
    )
    assert proc.stdout.strip() == "exit=1"
    assert proc.stderr.startswith("<stdin>:1:2: error: there is no binding named 'v'")
    assert "Traceback" not in proc.stderr


def test_members_from_a_deeper_stack_than_parse_is_still_an_error():
    """Locating keys decodes each value again, from a deeper call stack."""
    from autograd_cli import jsonin
    from autograd_cli.errors import ExprError, Source

    depth = 900
    source = Source("t.json", '{"a": ' + "[" * depth + "]" * depth + "}")
    jsonin.parse(source)

    def nested(n):
        if n:
            return nested(n - 1)
        return jsonin.members(source, 0)

    with pytest.raises(ExprError) as info:
        nested(sys.getrecursionlimit() - depth // 2)
    assert info.value.span.column == 7 and "too deep" in info.value.message


@pytest.mark.parametrize(
    "text, where",
    [
        ('{"w": 1%s}', "the value of 'w' is an integer of 5,000 digits"),
        ('{"w": [1%s, 2]}', "element [0] is an integer of 5,000 digits"),
        ('{"w": -1%s}', "is an integer of 5,000 digits"),
    ],
)
def test_an_integer_past_python_s_digit_limit_is_a_located_error(text, where):
    """Python refuses to convert integers of over 4,300 digits (ValueError);
    no float holds one anyway."""
    from autograd_cli.errors import ExprError, Source
    from autograd_cli.jsonin import given_values

    source = Source("big.json", text % ("1" * 4999))
    with pytest.raises(ExprError) as info:
        given_values(source)
    assert where in info.value.message
    assert (info.value.span.line, info.value.span.column) == (1, 7)
