"""Warnings about non-finite numbers: one per source, in either pass.

A source is where a nan or an inf first appears: in the forward pass an op
(a number, a given value) whose output is not finite though its inputs are;
in the backward pass an op whose VJP gives a non-finite gradient from a
finite incoming gradient and finite values to read, or a name whose uses'
finite gradients add up to one that is not.  What a bad value or gradient
makes further on is not a source.  The expected elements are worked out
here with numpy on the test's own numbers.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from typer.testing import CliRunner

from autograd_cli import running
from autograd_cli.cli import app
from autograd_cli.compiling import load
from autograd_cli.errors import Source
from autograd_cli.running import MAX_SOURCES, run

from programs import random_scalar_program


def warnings_of(text, dtype="float64", floats=True, every_node=True):
    model = load(Source("t.expr", text), dtype=dtype)
    model.floats = floats
    return run(model, every_node=every_node).warnings


def first_of(kind, a):
    """The index of the first element of `a` that is `kind`, numpy's way."""
    a = np.asarray(a, dtype=np.float64)
    hit = {"nan": np.isnan, "inf": np.isposinf, "-inf": np.isneginf}[kind](a)
    assert hit.any()
    return tuple(int(k) for k in np.unravel_index(int(np.argmax(hit)), a.shape))


def where(w):
    return (w.node, w.span.line, w.span.column)


def described(warnings):
    """Warnings as plain tuples, to compare those of different runs."""
    return [(w.message, w.node, w.span and (w.span.line, w.span.column), w.index) for w in warnings]


# ------------------------------------------------------------ the forward pass


def test_every_independent_source_warns_with_its_first_bad_element():
    x = np.array([1.0, 0.0, -1.0, 4.0])
    text = (
        "x = [1, 0, -1, 4]\n"
        "y = log(x)\n"  # nan at x < 0 (and -inf at 0)
        "z = sqrt(x - 2)\n"  # nan where x < 2
        "m = [[1, 2], [3, 1e308]] * 10\n"
        "L = sum(y) + sum(z) + sum(m)\n"
    )
    with np.errstate(all="ignore"):
        y, z = np.log(x), np.sqrt(x - 2)
        m = np.array([[1, 2], [3, 1e308]]) * 10
    forward = [w for w in warnings_of(text) if "backward" not in w.message]
    assert [where(w) for w in forward] == [("y", 2, 5), ("z", 3, 5), ("m", 4, 5)]
    assert [w.index for w in forward] == [
        first_of("nan", y),
        first_of("nan", z),
        first_of("inf", m),
    ]
    assert forward[0].message == f"log gives nan at [{first_of('nan', y)[0]}] in the value of 'y'"
    assert forward[1].message.startswith("sqrt gives nan at [0] ")
    i, j = first_of("inf", m)
    assert forward[2].message == f"mul gives inf at [{i}, {j}] in the value of 'm'"


def test_what_a_bad_value_makes_further_on_is_not_a_source():
    text = (
        "a = 2\n"
        "b = log(-a)\n"  # the source
        "c = b * 2 + exp(b)\n"  # nan from nan
        "d = [c, c] * 0\n"
        "L = sum(d) + a\n"
    )
    warnings = warnings_of(text)
    assert [where(w) for w in warnings] == [("b", 2, 5)]
    assert warnings[0].index == () and " at " not in warnings[0].message


def test_a_scalar_source_names_no_element():
    warnings = warnings_of("z = 1e400\nq = sqrt(-1) + log(0)\nL = z + q\n")
    assert [w.message for w in warnings] == [
        "the number 1e400 is inf in float64 (in the value of 'z')",
        "sqrt gives nan in the value of 'q'",  # folded constants: the inner ones
        "log gives -inf in the value of 'q'",
    ]
    assert [w.index for w in warnings] == [(), (), ()]


def test_the_inputs_of_a_folded_constant_are_the_constants_within_it():
    """Constant expressions are folded when the file is read, so their ops
    have no arguments in the graph: what makes a folded constant's value
    from a non-finite constant inside it is not a source; a constant beside
    it, in the same binding, is."""
    text = "a = exp(log(-1) * 2) + [1, 2] * 1e308 * 10\nL = sum(a)\n"
    with np.errstate(all="ignore"):
        inf_at = first_of("inf", np.array([1.0, 2.0]) * 1e308)[0]
    warnings = warnings_of(text)
    assert [w.message for w in warnings] == [
        "log gives nan in the value of 'a'",
        f"mul gives inf at [{inf_at}] in the value of 'a'",  # [1, 2] * 1e308, not its * 10
    ]
    assert [w.span.column for w in warnings] == [9, 24]


def test_only_a_gradient_bad_still_names_the_value_that_made_it():
    """log(0) is -inf, and exp takes it back to 0: every binding's value is
    finite, but the gradient through log is 0/0.  Both are named."""
    text = "param m = [1, 0]\nlm = log(m)\nL = sum(exp(lm) * [1, 2])\n"
    warnings = warnings_of(text)
    assert [(w.node, w.index) for w in warnings] == [("lm", (1,)), ("lm", (1,))]
    assert warnings[0].message == "log gives -inf at [1] in the value of 'lm'"
    assert (
        warnings[1].message == "the gradient through log gives nan at [1] (backward pass, in 'lm')"
    )


def test_a_given_value_is_a_source_at_its_element(tmp_path):
    given = tmp_path / "v.json"
    given.write_text('{"x": [1, 2, "nan", 4]}')
    from autograd_cli.jsonin import given_values

    values = given_values(Source(str(given), given.read_text()))
    model = load(Source("t.expr", "x = [1, 2, 3, 4]\ny = log(x)\nL = sum(y)\n"), values=values)
    warnings = run(model).warnings
    assert [w.message for w in warnings] == ["the value given for 'x' has nan at [2]"]
    assert warnings[0].span.line == 1


# ----------------------------------------------------------- the backward pass


def test_a_vjp_reading_finite_values_is_a_source():
    """sqrt's gradient at 0 is inf from a finite answer: a source.  exp's
    gradient reads its answer, which overflowed: the forward warning covers
    it, and the backward pass adds nothing for exp."""
    x = np.array([0.0, 1.0, 0.0])
    text = "param x = [0, 1, 0]\nL = sum(sqrt(x)) + sum(exp(x * 1000))\n"
    with np.errstate(all="ignore"):
        dsqrt = 1 / (2 * np.sqrt(x))
        e = np.exp(x * 1000)
    warnings = warnings_of(text)
    assert [(w.message.split(" ")[0], w.span.column, w.index) for w in warnings] == [
        ("exp", 24, first_of("inf", e)),
        ("the", 9, first_of("inf", dsqrt)),
    ]
    assert warnings[1].message == (
        f"the gradient through sqrt gives inf at "
        f"[{first_of('inf', dsqrt)[0]}] (backward pass, in 'L')"
    )


def test_a_gradient_made_from_a_bad_gradient_is_not_a_source():
    """The gradient through sqrt at 0 is inf; what the ops before it make of
    that (the product, the sum, the leaf) is not listed again."""
    text = "param p = [3, 0]\nq = p * 2\nr = sum(sqrt(q * 0.5) * 4)\nL = r * r\n"
    warnings = warnings_of(text)
    assert [where(w) for w in warnings] == [("r", 3, 9)]
    assert warnings[0].index == (1,)


def test_finite_gradients_that_add_up_to_inf_are_named_at_the_name():
    """Each use of x passes 1e308 back; their sum overflows at x itself."""
    text = "param x = 1\nL = x * 1e308 + x * 1e308\n"
    warnings = [w for w in warnings_of(text) if "backward" in w.message]
    assert [w.message for w in warnings] == [
        "the gradients from the uses of 'x' add up to inf (backward pass)"
    ]
    assert where(warnings[0]) == ("x", 1, 7)


# -------------------------------------------------------------------- limits


def test_at_most_ten_sources_a_pass_then_a_count():
    n = MAX_SOURCES + 15
    lines = [f"x{k} = log(-{k + 1})" for k in range(n)]  # n forward sources
    lines += ["z = 0"] + [f"s{k} = sqrt(z * {k + 1})" for k in range(n + 2)]  # backward
    lines.append("L = " + " + ".join([f"x{k}" for k in range(n)] + [f"s{k}" for k in range(n + 2)]))
    warnings = warnings_of("\n".join(lines) + "\n")
    forward, backward = warnings[: MAX_SOURCES + 1], warnings[MAX_SOURCES + 1 :]
    assert [w.node for w in forward[:-1]] == [f"x{k}" for k in range(MAX_SOURCES)]
    assert (
        forward[-1].message == "and 15 more sources of nan or inf in the forward pass, not listed"
    )
    assert forward[-1].node is None and forward[-1].span is None and forward[-1].index is None
    # the sweep goes backwards: the last sqrt first
    assert [w.node for w in backward[:-1]] == [
        f"s{k}" for k in range(n + 1, n + 1 - MAX_SOURCES, -1)
    ]
    assert (
        backward[-1].message == "and 17 more sources of nan or inf in the backward pass, not listed"
    )


def test_one_more_source_than_listed_is_counted_in_the_singular():
    lines = [f"x{k} = log(-{k + 1})" for k in range(MAX_SOURCES + 1)]
    lines.append("L = " + " + ".join(f"x{k}" for k in range(MAX_SOURCES + 1)))
    warnings = warnings_of("\n".join(lines) + "\n")
    assert len(warnings) == MAX_SOURCES + 1
    assert warnings[-1].message == "and 1 more source of nan or inf in the forward pass, not listed"


# ------------------------------------------------- every path warns the same

SCALAR_PROGRAMS = [
    # forward sources only, on Python floats throughout
    ("param p = 2\na = p * 1e308\nb = log(-p)\nc = exp(p * 400)\nL = a + b + c + p\n", True),
    # a backward source: d/dx of log(x) * 1e300 is 1e310
    ("param x = 1e-10\nL = log(x) * 1e300\n", True),
    # the gradients of x's uses overflow as they add up
    ("param x = 1\nL = x * 1e308 + x * 1e308\n", True),
    # Python refuses 1/0: numpy runs it
    ("param x = 0\nL = log(x) + sqrt(x)\n", False),
]


@pytest.mark.parametrize("text, on_floats", SCALAR_PROGRAMS)
def test_float_path_numpy_path_and_lean_runs_warn_alike(text, on_floats):
    """float64 scalars run as Python floats (where Python does not refuse),
    anything else on numpy, and eval lets values go: every way gives the
    same warnings."""
    want = described(warnings_of(text, floats=False))
    assert want
    assert described(warnings_of(text)) == want
    assert described(warnings_of(text, every_node=False)) == want
    model = load(Source("t.expr", text))
    lean = run(model, every_node=False)
    assert on_floats == all(type(lean.node_values[b.node]) is float for b in model.bindings)


def test_float32_warns_where_float64_does_not():
    text = "param x = 1e20\nL = x * x\n"
    assert warnings_of(text) == []
    warnings = warnings_of(text, dtype="float32")
    assert [w.message for w in warnings] == ["mul gives inf in the value of 'L'"]


# ----------------------------------------------------------------------- CLI


def test_json_lists_the_index_and_strict_fails_on_the_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nan.expr").write_text("x = [1, 0, -1]\ny = sum(log(x))\nz = sqrt(-1)\nL = y + z\n")
    runner = CliRunner()
    result = runner.invoke(app, ["eval", "nan.expr", "--format", "json"], env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["warnings"] == [
        {
            "message": "log gives nan at [2] in the value of 'y'",
            "node": "y",
            "line": 2,
            "column": 9,
            "index": [2],
        },
        {
            "message": "sqrt gives nan in the value of 'z'",
            "node": "z",
            "line": 3,
            "column": 5,
            "index": [],
        },
        {
            "message": "the gradient through log gives inf at [1] (backward pass, in 'y')",
            "node": "y",
            "line": 2,
            "column": 9,
            "index": [1],
        },
    ]
    lines = result.stderr.splitlines()
    assert lines[0] == "nan.expr:2:9: warning: log gives nan at [2] in the value of 'y'"
    assert lines[2] == "      |         ^^^^^^"
    assert lines[3] == "nan.expr:3:5: warning: sqrt gives nan in the value of 'z'"
    strict = runner.invoke(app, ["eval", "nan.expr", "--strict"], env={"NO_COLOR": "1"})
    assert strict.exit_code == 1 and strict.stdout == ""
    assert strict.stderr.splitlines()[0] == (
        "nan.expr:2:9: error: log gives nan at [2] in the value of 'y' (--strict)"
    )


def test_the_count_of_the_rest_is_a_warning_of_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    n = MAX_SOURCES + 3
    lines = [f"x{k} = log(-{k + 1})" for k in range(n)]
    lines.append("L = " + " + ".join(f"x{k}" for k in range(n)))
    (tmp_path / "many.expr").write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["eval", "many.expr", "-f", "json"], env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-1] == (
        "many.expr: warning: and 3 more sources of nan or inf in the forward pass, not listed"
    )
    assert json.loads(result.stdout)["warnings"][-1] == {
        "message": "and 3 more sources of nan or inf in the forward pass, not listed"
    }


@pytest.mark.parametrize("seed", range(40))
def test_the_sources_found_on_floats_are_those_found_on_numpy(seed):
    """The search for sources runs on the float kernels where the run did:
    random programs pushed past float64's range warn as on numpy."""
    text = (
        random_scalar_program(random.Random(seed))
        .replace("param p = 0.9", "param p = 1e200")
        .replace("param q = -0.35", "param q = 1e-200")
    )
    assert described(warnings_of(text)) == described(warnings_of(text, floats=False))


@pytest.mark.parametrize("text", [t for t, on_floats in SCALAR_PROGRAMS if on_floats])
def test_the_search_runs_on_floats_where_the_run_did(text, monkeypatch):
    want = described(warnings_of(text))
    assert want

    def refused(*args, **kwargs):
        raise AssertionError("the search ran on numpy")

    monkeypatch.setattr(running, "evaluate", refused)
    assert described(warnings_of(text)) == want
