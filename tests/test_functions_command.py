"""`autograd-cli functions`: every function and operator of the language,
read off FUNCTIONS and the op table, as a table and as strict JSON."""

import json

import pytest
from typer.testing import CliRunner

from autograd_cli import catalog
from autograd_cli.cli import app
from autograd_cli.core import OPS
from autograd_cli.functions import FUNCTIONS

ENV = {"NO_COLOR": "1", "COLUMNS": "200", "FORCE_COLOR": None}


def invoke(args):
    return CliRunner().invoke(app, args, env=ENV)


def strict_json(text):
    def refuse(name):
        raise ValueError(name)

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_every_function_says_what_it_does(name):
    fn = FUNCTIONS[name]
    assert fn.summary.strip(), f"{name} has no summary"
    assert "\n" not in fn.summary
    assert fn.usage.startswith(f"{name}("), fn.usage
    assert fn.op in OPS


@pytest.mark.parametrize("name", [n for n, fn in FUNCTIONS.items() if OPS[fn.op].kinks is not None])
def test_a_function_with_a_kink_states_its_convention(name):
    assert FUNCTIONS[name].notes.strip(), f"{name} has a kink but no convention"


def test_json_lists_every_function_in_order():
    result = invoke(["functions", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = strict_json(result.stdout)
    assert list(doc) == ["schema", "functions", "operators"]
    assert [e["name"] for e in doc["functions"]] == list(FUNCTIONS)
    for entry in doc["functions"]:
        fn = FUNCTIONS[entry["name"]]
        assert list(entry) == ["name", "usage", "summary", "derivative", "notes"]
        assert (entry["usage"], entry["summary"], entry["notes"]) == (
            fn.usage,
            fn.summary,
            fn.notes,
        )
        op = OPS[fn.op]
        assert len(entry["derivative"]) == len(op.local)
        if len(op.local) == len(fn.arrays):
            assert list(entry["derivative"]) == list(fn.arrays)


def test_derivatives_use_the_functions_own_argument_names():
    doc = catalog.catalog()
    by_name = {e["name"]: e for e in doc["functions"]}
    assert by_name["maximum"]["derivative"] == {
        "a": "[a > b] (½ on ties)",
        "b": "[b > a] (½ on ties)",
    }
    assert by_name["dot"]["derivative"] == {"a": "(·) @ bᵀ", "b": "aᵀ @ (·)"}
    assert by_name["exp"]["derivative"] == {"x": "exp(x)"}
    assert by_name["relu"]["notes"] == "relu'(0) = 0, as PyTorch"
    assert by_name["zeros"]["derivative"] == {}


def test_renaming_leaves_other_words_alone():
    assert catalog._renamed("exp(x)·max(x, y)", {"x": "a", "y": "b"}) == "exp(a)·max(a, b)"
    assert catalog._renamed("xᵀ @ (·)", {"x": "a"}) == "aᵀ @ (·)"


def test_operators_are_listed_with_their_derivatives():
    doc = catalog.catalog()
    usages = {e["usage"]: e for e in doc["operators"]}
    for usage in ["x + y", "x - y", "x * y", "x / y", "x ** y", "x @ y", "-x", "+x"]:
        assert usage in usages, usage
        assert usages[usage]["summary"]
    assert usages["x / y"]["derivative"] == {"x": "1/y", "y": "-x/y²"}
    assert doc["operators"][-1]["name"] == "[]"
    symbols = {op.syntax[0] for op in OPS.values() if op.syntax is not None}
    assert symbols <= {e["name"] for e in doc["operators"]}


def test_table_shows_every_function_and_operator():
    result = invoke(["functions"])
    assert result.exit_code == 0, result.stderr
    for name, fn in FUNCTIONS.items():
        assert f"{name}(" in result.stdout, name
        assert fn.summary in result.stdout, fn.summary
    assert "Operators" in result.stdout and "x ** y" in result.stdout
    assert "relu'(0) = 0" in result.stdout
    assert result.stderr == ""


def test_one_function_by_name():
    result = invoke(["functions", "clip", "-f", "json"])
    assert result.exit_code == 0
    doc = strict_json(result.stdout)
    assert [e["name"] for e in doc["functions"]] == ["clip"]
    assert doc["operators"] == []
    assert set(doc["functions"][0]["derivative"]) == {"x", "lo", "hi"}
    table = invoke(["functions", "clip"]).stdout
    assert "clip(x, lo, hi)" in table and "softplus" not in table


def test_an_operator_by_its_symbol_gives_both_forms():
    doc = strict_json(invoke(["functions", "-", "-f", "json"]).stdout)
    assert doc["functions"] == []
    assert sorted(e["usage"] for e in doc["operators"]) == ["-x", "x - y"]


@pytest.mark.parametrize(
    "name, hint",
    [
        ("frobnicate", None),
        ("ln", "did you mean 'log'?"),
        ("matmul", "write a @ b or dot(a, b)"),
        ("sigmoud", "did you mean 'sigmoid'?"),
    ],
)
def test_an_unknown_name_is_an_error_with_a_hint(name, hint):
    result = invoke(["functions", name])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"there is no function or operator named '{name}'" in result.stderr
    if hint is None:
        assert "did you mean" not in result.stderr
    else:
        assert hint in result.stderr


@pytest.mark.parametrize("args", [["--help"], ["eval", "--help"]])
def test_help_points_to_the_functions(args):
    result = invoke(args)
    assert result.exit_code == 0
    assert "autograd-cli functions" in " ".join(result.stdout.split())


def test_a_function_added_later_is_listed(monkeypatch):
    from autograd_cli.functions import Fn

    monkeypatch.setitem(
        FUNCTIONS,
        "cube_root",
        Fn("exp", ("v",), usage="cube_root(v)", summary="a new one", notes="by convention"),
    )
    entry = catalog.lookup("cube_root")["functions"][0]
    assert entry == {
        "name": "cube_root",
        "usage": "cube_root(v)",
        "summary": "a new one",
        "derivative": {"v": "exp(v)"},
        "notes": "by convention",
    }


@pytest.mark.parametrize("symbol", ["<", "<=", ">", ">=", "==", "!="])
def test_every_comparison_is_listed_with_no_derivative(symbol):
    [entry] = catalog.lookup(symbol)["operators"]
    assert entry["usage"] == f"x {symbol} y"
    assert entry["summary"] == f"1 where x {symbol} y, else 0"
    assert entry["derivative"] == {"x": "0", "y": "0"}
    assert "no gradient" in entry["notes"]
    result = invoke(["functions", symbol])
    assert f"x {symbol} y" in result.stdout and "no gradient flows" in result.stdout


def test_an_unknown_name_cannot_write_escapes():
    result = invoke(["functions", "\x1b[2Jx"])
    assert result.exit_code == 1
    assert "\x1b" not in result.stderr and "'\\x1b[2Jx'" in result.stderr
