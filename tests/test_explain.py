"""explain: the chain-rule derivation of one gradient (docs/commands.md and docs/json.md).

The derivation must be the blog's for the seed example, and its total must
be what `eval` reports for every example and every element; reused nodes
give several paths, too many paths give the reverse sweep, and nothing
recurses over the input.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from autograd_cli.compiling import load
from autograd_cli.errors import ExprError, Source
from autograd_cli.explain import (
    INDENT,
    MAX_PATHS,
    MIN_WIDTH,
    explain,
    render_explain,
    terminal_width,
)
from autograd_cli.explain.folding import fold
from autograd_cli.render import fmt_number
from autograd_cli.running import run
from autograd_cli.sources import Access

from common import ROOT, SEED
from programs import smooth_programs

EXAMPLES = sorted((ROOT / "examples").glob("*.expr"))
MAX_ELEMENTS_PER_NAME = 50


def report_of(text, of=None, **kw):
    return run(load(Source("t.expr", text), **kw), of)


def derive(text, wrt, of=None, **kw):
    """The report, the document and the text, not folded (width 0)."""
    rep = report_of(text, of, **kw)
    doc = explain(rep, wrt)
    return rep, doc, render_explain(doc, rep.target.name, width=0)


def after_legend(text, total):
    """The lines after the legend, which must come first and name `total`
    (eval's notation) as the total and a `|local` derivative as local."""
    legend, *rest = text.split("\n")
    assert legend.startswith(f"{total}: the total derivative, over every path"), legend
    assert "|local: the right side of " in legend and "all else held fixed" in legend
    return rest


def strict_json(doc):
    """The document survives strict JSON (no NaN literals) unchanged."""
    text = json.dumps(doc, ensure_ascii=False, allow_nan=False)
    assert json.loads(text) == doc
    return doc


def number(x):
    return float(x)  # json_number's "nan"/"inf"/"-inf" read back too


def element_names(name, shape):
    if not shape:
        return [name]
    out = []
    for idx in np.ndindex(*shape):
        out.append(f"{name}[{', '.join(map(str, idx))}]")
        if len(out) == MAX_ELEMENTS_PER_NAME:
            break
    return out


def assert_explains(rep, wrt, doc, idx=()):
    """The derivation adds up to the reported gradient, path by path."""
    strict_json(doc)
    body = doc["explain"]
    name = wrt.split("[")[0]
    expected = float(np.asarray(rep.grads[name])[idx])
    total = number(body["total"])
    assert "differs from" not in body.get("note", ""), body["note"]
    if "sweep" in body:
        last = body["sweep"][-1]
        assert last["node"] == doc["wrt"]
        parts = [number(t["value"]) for t in last["terms"]]
        scale = math.fsum(abs(p) for p in parts) + abs(expected)
    else:
        values = []
        for p in body["paths"]:
            assert len(p["factors"]) == len(p["symbols"]) == len(p["nodes"]) - 1
            assert p["nodes"][0] == rep.target.name and p["nodes"][-1] == doc["wrt"]
            value = math.prod(number(f) for f in p["factors"])
            assert math.isclose(value, number(p["value"]), rel_tol=1e-12, abs_tol=1e-300)
            values.append(value)
        if not values:
            assert total == 0.0 and "note" in body
        scale = math.fsum(abs(v) for v in values) + abs(expected)
    # the total is eval's number; the paths (or sweep terms) add up to it
    assert total == expected or (math.isnan(total) and math.isnan(expected))
    added = math.fsum(parts if "sweep" in body else values) if math.isfinite(scale) else None
    if added is None or not math.isfinite(expected):
        return
    tol = 1e-9 if rep.model.dtype == "float64" else 1e-5
    assert abs(added - expected) <= tol * scale + 1e-13, (wrt, added, expected)


# ------------------------------------------------------------ the seed line


def test_seed_line_is_the_blogs():
    """The blog's line, each local derivative marked as such, under a legend
    that says which notation is which."""
    rep, doc, text = derive(SEED, "w[0]")
    assert text.split("\n") == [
        "∂L/∂w[0]: the total derivative, over every path (eval's ∂L/∂·). "
        "∂L/∂c|local: the right side of L differentiated by c, all else held fixed.",
        "∂L/∂w[0] = ∂L/∂c|local · ∂c/∂b1|local · ∂b1/∂w[0]|local = (−1) · w[3] · a1 "
        "= (−1) · 7 · 4 = −28",
    ]


def test_seed_document():
    rep, doc, _ = derive(SEED, "w[0]")
    assert strict_json(doc) == {
        "wrt": "w[0]",
        "explain": {
            "paths": [
                {
                    "nodes": ["L", "c", "b1", "w[0]"],
                    "symbols": ["−1", "w[3]", "a1"],
                    "factors": [-1.0, 7.0, 4.0],
                    "value": -28.0,
                }
            ],
            "total": -28.0,
        },
    }


@pytest.mark.parametrize(
    "wrt, line",
    [
        (
            "w[1]",
            "∂L/∂w[1] = ∂L/∂c|local · ∂c/∂b1|local · ∂b1/∂w[1]|local = (−1) · w[3] · a2 "
            "= (−1) · 7 · 3 = −21",
        ),
        (
            "w[2]",
            "∂L/∂w[2] = ∂L/∂c|local · ∂c/∂b2|local · ∂b2/∂w[2]|local = (−1) · w[4] · a1 "
            "= (−1) · 3 · 4 = −12",
        ),
        ("w[3]", "∂L/∂w[3] = ∂L/∂c|local · ∂c/∂w[3]|local = (−1) · b1 = (−1) · 23 = −23"),
        ("w[-1]", "∂L/∂w[4] = ∂L/∂c|local · ∂c/∂w[4]|local = (−1) · b2 = (−1) · 36 = −36"),
        ("b1", "∂L/∂b1 = ∂L/∂c|local · ∂c/∂b1|local = (−1) · w[3] = (−1) · 7 = −7"),
    ],
)
def test_seed_other_lines(wrt, line):
    rep, doc, text = derive(SEED, wrt)
    assert after_legend(text, f"∂L/∂{doc['wrt']}") == [line]


@pytest.mark.parametrize("wrt, line", [("c", "∂L/∂c = −1"), ("L", "∂L/∂L = 1")])
def test_one_step_needs_no_legend(wrt, line):
    """With one path of one step the local derivative is the total: no ∂
    of it is written, and there is no legend to read."""
    assert derive(SEED, wrt)[2] == line


def test_seed_input_used_twice_sums_two_paths():
    rep, doc, text = derive(SEED, "a1")
    assert after_legend(text, "∂L/∂a1") == [
        "path 1: ∂L/∂c|local · ∂c/∂b1|local · ∂b1/∂a1|local = (−1) · w[3] · w[0] "
        "= (−1) · 7 · 2 = −14",
        "path 2: ∂L/∂c|local · ∂c/∂b2|local · ∂b2/∂a1|local = (−1) · w[4] · w[2] "
        "= (−1) · 3 · 9 = −27",
        "∂L/∂a1 = path 1 + path 2 = −14 − 27 = −41",
    ]
    assert doc["explain"]["total"] == -41.0


# ---------------------------------------------------- local against total

# u reaches y directly and through v: ∂y/∂u|local (v) is not ∂y/∂u (v + u·x)
REUSED = "param x = 0.5\nu = sin(x)\nv = u * x\ny = u * v\n"


def fmt(x):
    return fmt_number(float(x)).replace("-", "−")


def test_local_and_total_derivatives_are_written_apart():
    rep, doc, text = derive(REUSED, "u")
    lines = after_legend(text, "∂y/∂u")
    local = fmt(rep.values["v"])  # y = u * v: ∂y/∂u|local = v
    total = fmt(rep.grads["u"])  # what eval reports
    assert local != total
    assert lines[0] == f"path 1: ∂y/∂u|local = v = {local}"
    assert lines[-1].startswith("∂y/∂u = path 1 + path 2 = ")
    assert lines[-1].endswith(f" = {total}")
    # ∂y/∂u without the mark is the total, and only the sum's left side is it
    for line in lines[:-1]:
        assert "∂y/∂u" not in line.replace("∂y/∂u|local", "")


def test_every_step_is_marked_local_and_only_totals_are_not():
    """In every derivation of the examples, each ∂a/∂b but the left side of
    the total (and the sweep's v̄ = ∂L/∂v) is a step's local derivative."""
    for path in EXAMPLES:
        rep = run(load(Source(str(path), path.read_text()), access=Access.of_file(str(path))))
        t = rep.target.name
        for b in rep.model.bindings:
            wrt = element_names(b.name, rep.values[b.name].shape)[0]
            doc = explain(rep, wrt)
            text = render_explain(doc, t, width=0)
            total = f"∂{t}/∂{doc['wrt']}"
            lines = text.split("\n")
            if "|local" in text:
                lines = after_legend(text, total)
            for line in lines:
                rest = line.replace("|local", "")
                marked = line.count("|local")
                bare = rest.count("∂") // 2 - marked  # a ∂a/∂b has two ∂s
                expected = 1 if line.startswith(total + " = ") else 0
                assert bare == expected, (path.name, wrt, line)
            for p in doc["explain"]["paths"]:
                for s, a, b in zip(p["symbols"], p["nodes"], p["nodes"][1:]):
                    assert "∂" not in s or s == f"∂{a}/∂{b}|local", s


def test_eval_reports_the_total_explain_ends_with(tmp_path, monkeypatch):
    """The command line: explain's ∂y/∂u is eval's, its local factor is not."""
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "reused.expr"
    path.write_text(REUSED)
    shown = _ok(_cli(["explain", path, "--wrt", "u"])).split("\n")
    doc = json.loads(_ok(_cli(["eval", path, "-f", "json"])))
    assert shown[-2].startswith("∂y/∂u = path 1 + path 2 = ")
    assert shown[-2].endswith(f" = {fmt(doc['nodes']['u']['grad'])}")
    assert shown[1] == f"path 1: ∂y/∂u|local = v = {fmt(doc['nodes']['v']['value'])}"


# ------------------------------------- every example, every element, = eval


def _example_cases():
    for path in EXAMPLES:
        rep = run(load(Source(str(path), path.read_text()), access=Access.of_file(str(path))))
        for b in rep.model.bindings:
            if b.kind == "param":
                for wrt in element_names(b.name, rep.values[b.name].shape):
                    yield pytest.param(path, wrt, id=f"{path.stem}:{wrt}")


@pytest.mark.parametrize("path, wrt", list(_example_cases()))
def test_every_param_element_of_every_example_adds_up_to_eval(path, wrt):
    rep = run(load(Source(str(path), path.read_text()), access=Access.of_file(str(path))))
    doc = explain(rep, wrt)
    idx = tuple(int(i) for i in wrt[wrt.index("[") + 1 : -1].split(",")) if "[" in wrt else ()
    assert_explains(rep, wrt, doc, idx)
    assert "sweep" not in doc["explain"]  # each of them has few paths
    assert doc["explain"]["paths"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_binding_of_every_example_adds_up_to_eval(path):
    """Inputs and intermediate nodes too (a few elements each)."""
    rep = run(load(Source(str(path), path.read_text()), access=Access.of_file(str(path))))
    for b in rep.model.bindings:
        shape = rep.values[b.name].shape
        for wrt in element_names(b.name, shape)[:6]:
            doc = explain(rep, wrt)
            idx = (
                tuple(np.unravel_index(element_names(b.name, shape).index(wrt), shape))
                if shape
                else ()
            )
            assert_explains(rep, wrt, doc, idx)
            text = render_explain(doc, rep.target.name, width=80)
            assert max(map(len, text.split("\n"))) <= 80


def test_float32_adds_up_to_eval():
    path = ROOT / "examples" / "mlp.expr"
    rep = run(load(Source(str(path), path.read_text()), dtype="float32"))
    for wrt in element_names("W1", (3, 5)):
        idx = tuple(int(i) for i in wrt[3:-1].split(","))
        assert_explains(rep, wrt, explain(rep, wrt), idx)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(smooth_programs())
def test_random_programs_add_up_to_eval(prog):
    rep = report_of(prog.text())
    for name, _is_param, value in prog.leaves:
        for k, wrt in enumerate(element_names(name, value.shape)):
            idx = tuple(np.unravel_index(k, value.shape)) if value.shape else ()
            assert_explains(rep, wrt, explain(rep, wrt), idx)


# -------------------------------------------------------- symbols on tensors


def test_tensor_symbols_follow_the_element():
    text = (ROOT / "examples" / "logistic.expr").read_text()
    rep, doc, out = derive(text, "w[0]")
    first = doc["explain"]["paths"][0]
    assert first["nodes"] == ["loss", "z[0]", "w[0]"]
    assert first["symbols"] == ["(σ(z[0]) − y[0])/6", "X[0, 0]"]
    assert after_legend(out, "∂loss/∂w[0]")[0].startswith(
        "path 1: ∂loss/∂z[0]|local · ∂z[0]/∂w[0]|local = (σ(z[0]) − y[0])/6 · X[0, 0] = "
    )
    assert len(doc["explain"]["paths"]) == 6


def test_tanh_layer_symbols():
    text = (ROOT / "examples" / "mlp.expr").read_text()
    _, doc, _ = derive(text, "W1[1, 2]")
    p = doc["explain"]["paths"][0]
    assert p["nodes"] == ["loss", "out[0, 0]", "h[0, 2]", "W1[1, 2]"]
    assert p["symbols"] == ["(out[0, 0] − y[0, 0])/2", "W2[2, 0]", "(1 − h[0, 2]²)·X[0, 1]"]


def test_scalar_symbols():
    text = (ROOT / "examples" / "projectile.expr").read_text()
    rep, doc, out = derive(text, "theta")
    assert [p["symbols"] for p in doc["explain"]["paths"]] == [
        ["flight", "−v·sin(theta)"],
        ["vx", "2/g", "v·cos(theta)"],
    ]
    # at 45 degrees the two paths cancel; the total is eval's own rounding of 0
    grad = float(rep.grads["theta"])
    assert doc["explain"]["total"] == grad and abs(grad) < 1e-13
    assert out.split("\n")[-1] == (
        "∂R/∂theta = path 1 + path 2 = −40.7747 + 40.7747 = " + fmt_number(grad).replace("-", "−")
    )


def test_unreadable_local_derivative_is_named():
    text = (ROOT / "examples" / "softmax.expr").read_text()
    _, doc, _ = derive(text, "W[2, 1]")
    p = doc["explain"]["paths"][0]
    assert p["symbols"] == ["∂loss/∂scores[0, 1]|local", "logits[0, 2]/t"]


def test_indexing_sums_occurrences():
    text = (ROOT / "examples" / "bond.expr").read_text()
    _, doc, _ = derive(text, "r")
    last = doc["explain"]["paths"][-1]
    assert last["nodes"] == ["P", "discount[4]", "r"]
    assert last["symbols"][0] == "coupon + face"
    assert last["factors"][0] == 104.0


# ------------------------------------------------------------- reused nodes


def test_reused_node_gives_two_paths():
    rep, doc, text = derive("x = 3; y = x * x; L = y + x", "x")
    assert strict_json(doc)["explain"] == {
        "paths": [
            {
                "nodes": ["L", "y", "x"],
                "symbols": ["1", "2·x"],
                "factors": [1.0, 6.0],
                "value": 6.0,
            },
            {"nodes": ["L", "x"], "symbols": ["1"], "factors": [1.0], "value": 1.0},
        ],
        "total": 7.0,
    }
    assert after_legend(text, "∂L/∂x") == [
        "path 1: ∂L/∂y|local · ∂y/∂x|local = 1 · 2·x = 1 · 6 = 6",
        "path 2: ∂L/∂x|local = 1",
        "∂L/∂x = path 1 + path 2 = 6 + 1 = 7",
    ]
    assert float(rep.grads["x"]) == 7.0


def test_a_name_used_twice_in_one_binding_is_one_step():
    """∂y1/∂x for y1 = x + x is 2, one factor (as a person writes it)."""
    text = "x = 3\n" + "\n".join(
        f"y{k} = {'x' if k == 1 else f'y{k - 1}'} + {'x' if k == 1 else f'y{k - 1}'}"
        for k in range(1, 11)
    )
    rep, doc, out = derive(text, "x")
    (path,) = doc["explain"]["paths"]
    assert path["symbols"] == ["2"] * 10 and path["value"] == 1024.0
    assert out.endswith("= 1024")


# ------------------------------------------------------------ the sweep


def diamonds(levels):
    """Each level uses the previous node twice, through two bindings: the
    number of paths doubles with every level."""
    lines = ["x = 0.5"]
    prev = "x"
    for k in range(1, levels + 1):
        lines += [f"a{k} = sin({prev})", f"b{k} = {prev} * 0.5", f"x{k} = a{k} + b{k}"]
        prev = f"x{k}"
    lines.append(f"L = {prev} ** 2")
    return "\n".join(lines)


def test_five_diamonds_still_print_paths():
    rep, doc, text = derive(diamonds(5), "x")
    assert len(doc["explain"]["paths"]) == 32 == MAX_PATHS
    assert_explains(rep, "x", doc)


def test_many_paths_switch_to_the_sweep():
    rep, doc, text = derive(diamonds(10), "x")
    body = strict_json(doc)["explain"]
    assert body["paths"] == [] and "sweep" in body
    assert "1,024 paths lead from L to x" in body["note"]
    assert "Baydin" in body["note"]
    nodes = [e["node"] for e in body["sweep"]]
    assert nodes[0] == "L" and nodes[-1] == "x" and len(nodes) == 3 * 10 + 2
    assert_explains(rep, "x", doc)
    # every line is its adjoint: the sum over the bindings that use it
    for entry in body["sweep"][1:]:
        assert math.isclose(
            math.fsum(t["value"] for t in entry["terms"]), entry["adjoint"], rel_tol=1e-12
        )
        assert math.isclose(entry["adjoint"], float(rep.grads[entry["node"]]), rel_tol=1e-12)
    lines = after_legend(text, "∂L/∂x")
    assert lines[0] == body["note"]
    bar = "\u0304"  # a combining macron; ā is precomposed (NFC)
    assert lines[1] == f"L{bar} = 1"
    assert lines[-2].startswith(f"x{bar} = b{bar}1 · ∂b1/∂x|local + \u01011 · ∂a1/∂x|local = ")
    assert lines[-1] == f"∂L/∂x = x{bar} = {lines[-2].split(' = ')[-1]}"


TENSOR_SWEEP = """X = randn(40, 3, seed=3)
y = randn(40, 1, seed=4)
param W1 = randn(3, 6, seed=1) * 0.5
param W2 = randn(6, 1, seed=2) * 0.5
h = tanh(X @ W1)
loss = mean((h @ W2 - y) ** 2)
"""


def test_tensor_sweep_ends_at_the_element():
    rep, doc, out = derive(TENSOR_SWEEP, "W1[0, 1]")
    body = doc["explain"]
    assert "sweep" in body and "40 paths" in body["note"]
    assert body["sweep"][-1]["node"] == "W1[0, 1]"
    assert_explains(rep, "W1[0, 1]", doc, (0, 1))


def test_zero_paths_are_left_out_when_there_are_too_many():
    # 40 structural paths; relu is off for all but 3 of them
    xs = ", ".join(str(v) for v in [1, 2, 3] + [-1] * 37)
    rep, doc, _ = derive(f"x = [{xs}]\nparam w = 2\nh = relu(x * w)\nL = sum(h)", "w")
    body = doc["explain"]
    assert [p["nodes"] for p in body["paths"]] == [["L", f"h[{k}]", "w"] for k in range(3)]
    assert body["paths"][0]["symbols"] == ["1", "[x[0] * w > 0]·x[0]"]
    assert body["note"].startswith("37 more paths pass through a local derivative that is 0")
    assert_explains(rep, "w", doc)


def test_a_zero_local_derivative_is_shown_when_paths_are_few():
    rep, doc, text = derive("x = [1, -2, 3]\nL = sum(relu(x))", "x[1]")
    assert text == "∂L/∂x[1] = [x[1] > 0] = 0"


# ------------------------------------------------------------ no dependence


@pytest.mark.parametrize(
    "text, wrt, of, why",
    [
        ("x = 1\nparam w = 2\nL = w * 3", "x", None, "no chain of bindings leads from L to x"),
        ("x = 1\nparam w = x * 2\nL = w * 3", "x", None, "x is used only through param w"),
        ("x = 1\nL = x * 3\nz = x * 2", "z", "L", "z is bound after L"),
        ("x = [1, 2]\nL = x[0] * 3", "x[1]", None, "L does not depend on this element"),
    ],
)
def test_no_dependence_gives_zero_and_says_why(text, wrt, of, why):
    rep, doc, out = derive(text, wrt, of)
    body = strict_json(doc)["explain"]
    assert body["paths"] == [] and body["total"] == 0.0
    assert why in body["note"]
    assert out == f"∂{rep.target.name}/∂{doc['wrt']} = 0: {body['note']}"


# ------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "wrt, message",
    [
        ("q", "there is no binding named 'q'"),
        ("b3", "did you mean 'b1'?"),
        ("w[5]", "index 5 is out of range for 'w' (size 5, shape (5,))"),
        ("w[-6]", "index -6 is out of range"),
        ("a1[0]", "'a1' is a scalar (shape ()); write --wrt a1, without an index"),
        (
            "w",
            "'w' has 5 elements (shape (5,)); explain derives one gradient at a time: "
            "pick an element, e.g. --wrt 'w[0]'",
        ),
        ("w[0, 1]", "so an element takes 1 index; got 2"),
        ("w[a]", "integer indices"),
        ("w[1.5]", "integer indices"),
        ("w[", "expected a name"),
        ("", "expected a name"),
    ],
)
def test_bad_wrt_is_an_input_error(wrt, message):
    rep = report_of(SEED)
    with pytest.raises(ExprError) as err:
        explain(rep, wrt)
    assert message in err.value.message


def test_one_element_tensor_needs_no_index():
    rep, doc, _ = derive("param x = [2]\nL = sum(x * x)", "x")
    assert doc["wrt"] == "x[0]" and doc["explain"]["total"] == 4.0


# -------------------------------------------------------------------- scale


def test_3000_statement_chain_has_no_recursion_limit():
    lines = ["param x = 0.5"] + [
        f"y{k} = {'x' if k == 0 else f'y{k - 1}'} * 0.999 + 0.001" for k in range(3000)
    ]
    rep, doc, text = derive("\n".join(lines), "x")
    (path,) = doc["explain"]["paths"]
    assert len(path["factors"]) == 3000 and path["symbols"] == ["0.999"] * 3000
    assert_explains(rep, "x", doc)
    assert after_legend(text, "∂y2999/∂x")[0].startswith("∂y2999/∂x = ∂y2999/∂y2998|local · ")


def test_deep_expression_has_no_recursion_limit():
    depth = 3000
    text = "x = 0.1\nL = " + "sin(" * depth + "x" + ")" * depth
    rep, doc, out = derive(text, "x")
    (path,) = doc["explain"]["paths"]
    assert path["symbols"] == ["∂L/∂x|local"]  # far too long to write out
    assert_explains(rep, "x", doc)


def test_long_sum_has_no_recursion_limit():
    text = "x = 2\nL = " + " + ".join(["x * x"] * 5000)
    rep, doc, _ = derive(text, "x")
    assert_explains(rep, "x", doc)


# ------------------------------------------------------------------ folding


def unfold(text):
    """Folded text back to one line per line: each break replaced a space."""
    return text.replace("\n" + INDENT, " ")


def sin_chain(n):
    return "x0 = 1.5\n" + "\n".join(f"x{k} = sin(x{k - 1})" for k in range(1, n + 1))


def mul_chain(n):
    return "param x = 1.1\ny1 = x * 1.01\n" + "\n".join(
        f"y{k} = y{k - 1} * 1.01" for k in range(2, n + 1)
    )


LONG = "a_rather_long_name_for_a_weight_" * 2
FOLD_CASES = {
    "sin chain": (sin_chain(300), "x0"),
    "mul chain": (mul_chain(300), "x"),
    "32 paths": (diamonds(5), "x"),
    "sweep": (diamonds(10), "x"),
    "opaque": ((ROOT / "examples" / "softmax.expr").read_text(), "W[2, 1]"),
    "tensor sweep": (TENSOR_SWEEP, "W1[0, 1]"),
    "no dependence": ("x = 1\nparam w = x * 2\nL = w * 3", "x"),
    "reused": (
        "x = 0.3\n"
        + "\n".join(f"y{k} = x * {k + 1}" for k in range(40))
        + "\nL = "
        + " + ".join(f"y{k}" for k in range(40)),
        "x",
    ),
}


@pytest.mark.parametrize("width", [40, 57, 80, 131])
@pytest.mark.parametrize("case", list(FOLD_CASES))
def test_folded_lines_fit_the_width_and_lose_nothing(case, width):
    text, wrt = FOLD_CASES[case]
    rep, doc, flat = derive(text, wrt)
    folded = render_explain(doc, rep.target.name, width=width)
    lines = folded.split("\n")
    assert max(cell_len(line) for line in lines) <= width
    if max(cell_len(line) for line in flat.split("\n")) <= width:
        assert folded == flat  # what fits is left alone
        return
    if case == "tensor sweep":
        # a tensor adjoint is laid out by rows to the width: the same text
        # but for where its lines break
        assert "".join(folded.split()) == "".join(flat.split())
        assert len(re.findall(r"\n {7}\[", folded)) == 5  # 6 rows shown, the first after =
        return
    assert unfold(folded) == flat
    # a continuation is indented, a line that starts anew is not
    assert sum(not line.startswith(" ") for line in lines) == len(flat.split("\n"))


@pytest.mark.parametrize("case", ["sin chain", "mul chain"])
def test_a_long_chain_folds_before_its_operators_and_keeps_its_factors(case):
    text, wrt = FOLD_CASES[case]
    rep, doc, _ = derive(text, wrt)
    (path,) = doc["explain"]["paths"]
    assert len(path["factors"]) == 300
    total = f"∂{rep.target.name}/∂{doc['wrt']}"
    folded = render_explain(doc, rep.target.name, width=80)
    lines = folded.split("\n")
    start = next(k for k, line in enumerate(lines) if line.startswith(total + " = "))
    lines = lines[start:]
    assert len(lines) > 10 and all(cell_len(line) <= 80 for line in lines)
    for line in lines[1:]:
        assert (
            line[: len(INDENT)] == INDENT
            and line[len(INDENT)] in "=·"
            and line[len(INDENT) + 1] == " "
        ), line
    assert after_legend(unfold(folded), total) == [unfold("\n".join(lines))]
    pieces = unfold("\n".join(lines)).split(" = ")
    assert pieces[-1] == fmt(path["value"])
    assert pieces[-2].split(" · ") == [fmt(f) if f >= 0 else f"({fmt(f)})" for f in path["factors"]]
    assert pieces[1].split(" · ") == [
        f"∂{a}/∂{b}|local" for a, b in zip(path["nodes"], path["nodes"][1:])
    ]
    assert math.isclose(math.prod(path["factors"]), float(rep.grads[wrt]), rel_tol=1e-12)


def test_a_name_wider_than_the_line_is_cut_but_kept():
    rep, doc, flat = derive(f"x = 2\n{LONG} = x * x\nL = {LONG} * 3", "x")
    folded = render_explain(doc, "L", width=40)
    assert max(cell_len(line) for line in folded.split("\n")) <= 40
    assert "".join(folded.split()) == "".join(flat.split())


def test_too_narrow_a_width_folds_at_the_least_width():
    rep, doc, flat = derive(sin_chain(30), "x0")
    folded = render_explain(doc, rep.target.name, width=5)
    assert max(cell_len(line) for line in folded.split("\n")) <= MIN_WIDTH
    assert "".join(folded.split()) == "".join(flat.split())


_WORDS = st.one_of(
    st.text("ab09[]()_.,²σ∂/−-", min_size=1, max_size=12),
    st.sampled_from(["=", "·", "+", "−", "(", ")", "[x, y]", "中文", "v\u0304"]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_WORDS, min_size=1, max_size=60), st.integers(MIN_WIDTH, 100), st.booleans())
def test_fold_fits_and_gives_the_line_back(words, width, prose):
    line = " ".join(words)
    out = fold(line, width, prose)
    assert all(cell_len(piece) <= width for piece in out)
    assert all(piece.startswith(INDENT) for piece in out[1:])
    assert not out[0].startswith(" ") or line.startswith(" ")
    if max(cell_len(w) for w in words) <= width - len(INDENT):
        assert unfold("\n".join(out)) == line  # no word had to be cut
    else:
        assert "".join("".join(out).split()) == "".join(line.split())


def test_terminal_width_reads_columns_else_80(monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdout", io.StringIO())  # not a terminal
    monkeypatch.setenv("COLUMNS", "57")
    assert terminal_width() == 57
    for bad in ("0", "wide", ""):
        monkeypatch.setenv("COLUMNS", bad)
        assert terminal_width() == 80
    monkeypatch.delenv("COLUMNS")
    assert terminal_width() == 80


# ----------------------------------------------------- through the command line


@pytest.fixture(autouse=False)
def at_root(monkeypatch):
    from common import ROOT

    monkeypatch.chdir(ROOT)


def _cli(args, input=None):
    from typer.testing import CliRunner

    from autograd_cli.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def _ok(result):
    """A command's standard output, once it has exited 0."""
    assert result.exit_code == 0, result.output
    return result.stdout


def test_explain_command_prints_the_blog_line(at_root, monkeypatch):
    """Not on a terminal and without COLUMNS, folded to 80 columns."""
    monkeypatch.delenv("COLUMNS", raising=False)
    result = _cli(["explain", "examples/seed.expr", "--wrt", "w[0]"])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "∂L/∂w[0]: the total derivative, over every path (eval's ∂L/∂·). ∂L/∂c|local: the\n"
        "    right side of L differentiated by c, all else held fixed.\n"
        "∂L/∂w[0] = ∂L/∂c|local · ∂c/∂b1|local · ∂b1/∂w[0]|local = (−1) · w[3] · a1\n"
        "    = (−1) · 7 · 4 = −28\n"
    )


def test_explain_command_folds_to_columns(tmp_path, monkeypatch):
    path = tmp_path / "chain.expr"
    path.write_text(sin_chain(300))
    monkeypatch.setenv("COLUMNS", "200")
    wide = _ok(_cli(["explain", path, "--wrt", "x0"]))
    monkeypatch.setenv("COLUMNS", "45")
    narrow = _ok(_cli(["explain", path, "--wrt", "x0"]))
    assert max(cell_len(line) for line in wide.split("\n")) <= 200
    assert max(cell_len(line) for line in narrow.split("\n")) <= 45
    assert len(narrow.split("\n")) > len(wide.split("\n")) > 10
    assert unfold(narrow) == unfold(wide)


def test_explain_command_json_is_not_folded(tmp_path, monkeypatch):
    path = tmp_path / "chain.expr"
    path.write_text(sin_chain(300))
    docs = []
    for columns in ("30", "200"):
        monkeypatch.setenv("COLUMNS", columns)
        out = _ok(_cli(["explain", path, "--wrt", "x0", "-f", "json"]))
        assert any(len(line) > 10000 for line in out.split("\n"))  # the path's one line
        docs.append(out)
    assert docs[0] == docs[1]
    assert len(json.loads(docs[0])["explain"]["paths"][0]["factors"]) == 300


@pytest.mark.parametrize(
    "wrt, idx", [("W1[1, 2]", (1, 2)), ("W1[-1,0]", (2, 0)), ("W2[ 4 , 0 ]", (4, 0)), ("b2", ())]
)
def test_explain_command_takes_an_element(at_root, wrt, idx):
    result = _cli(["explain", "examples/mlp.expr", "--wrt", wrt, "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    grads = json.loads(_cli(["eval", "examples/mlp.expr", "-f", "json"]).stdout)["nodes"]
    name = wrt.split("[")[0]
    assert doc["wrt"] == (f"{name}[{', '.join(map(str, idx))}]" if idx else name)
    assert doc["explain"]["total"] == np.asarray(grads[name]["grad"])[idx]


def test_explain_command_json_has_the_common_head(at_root):
    import json

    result = _cli(["explain", "examples/seed.expr", "--wrt", "w[0]", "-f", "json"])
    doc = json.loads(result.stdout)
    assert list(doc) == ["schema", "file", "target", "dtype", "wrt", "explain"]
    assert doc["explain"]["total"] == -28.0
    assert doc["explain"]["paths"][0]["factors"] == [-1.0, 7.0, 4.0]


def test_explain_command_needs_wrt_and_reports_bad_names(at_root):
    assert _cli(["explain", "examples/seed.expr"]).exit_code == 2
    result = _cli(["explain", "examples/seed.expr", "--wrt", "q"])
    assert result.exit_code == 1
    assert result.stderr.startswith("examples/seed.expr: error: --wrt q:")
    assert result.stdout == ""


@pytest.mark.parametrize(
    "text, want",
    [
        ("param x = 0.5\ny = log(1 + x*2)\n", "∂y/∂x = 2/(1 + x * 2) = 1"),
        ("param x = 0.5\ny = log1p(x)\n", "∂y/∂x = 1/(1 + x) = 0.666667"),
    ],
)
def test_a_sum_in_a_denominator_has_one_pair_of_brackets(text, want):
    from autograd_cli.explain import render_explain

    report = run(load(Source("t.expr", text)))
    assert render_explain(explain(report, "x"), "y").strip() == want


# ------------------------------------------------ what explain reads off the op table


def grammar_operators():
    """{(symbol, rule, op name)} of the grammar's operator productions, such
    as ``sum "+" product -> add`` under ``?sum:``, terminals resolved."""
    text = (ROOT / "autograd_cli/grammar.lark").read_text()
    terminals = dict(re.findall(r'^([A-Z_]+):\s*"([^"]+)"\s*$', text, re.M))
    found, rule = set(), None
    for line in text.splitlines():
        head = re.match(r"\??(\w+):", line)
        if head:
            rule = head.group(1)
        m = re.search(r'(?:"([^"]+)"|\b([A-Z_]+)\b)\s+\w+\s+->\s*(\w+)', line)
        if m and rule:
            found.add((m.group(1) or terminals.get(m.group(2)), rule, m.group(3)))
    return found


def test_the_op_tables_operators_are_the_grammars():
    """explain writes operators as the op table declares them (`syntax=`):
    each declaration must be the grammar's own production, and every
    operator of the grammar that makes an op must be declared."""
    from autograd_cli.ops import OPS

    grammar = {
        (sym, rule, name)
        for sym, rule, name in grammar_operators()
        if rule in ("comparison", "sum", "product", "unary", "power") and name in OPS
    }
    declared = {(op.syntax[0], op.syntax[1], op.name) for op in OPS.values() if op.syntax}
    assert {("+", "sum", "add"), ("-", "unary", "neg"), ("**", "power", "pow")} <= grammar
    assert declared == grammar


def symbol_value(symbol, rep):
    """A symbolic factor evaluated at the file's values, as Python reads it."""
    py = symbol.replace("·", "*").replace("−", "-").replace("^", "**").replace("²", "**2")
    env = {name: np.asarray(v, dtype=float) for name, v in rep.values.items()}
    env.update(log=np.log, exp=np.exp, tanh=np.tanh, σ=lambda x: 1 / (1 + np.exp(-x)))
    return float(eval(py, {"__builtins__": {}}, env))


@pytest.mark.parametrize(
    "text, wrt",
    [
        ("param x = 0.5\ny = x * 3 + 1\nL = y ** 2 - y / 4", "y"),
        ("param x = 0.5\nL = -(x ** 3) * 2", "x"),
        ("param x = 0.5\nL = -x * 2 ** x", "x"),
        ("param x = 0.5\nh = sigmoid(x)\nL = h * 2", "x"),
        ("param v = [1, 2, 3]\nL = mean(v * v)", "v[1]"),
        ("param v = [1, 2, 3]\nL = sum(v @ v)", "v[1]"),
    ],
)
def test_symbols_read_off_the_op_table_are_the_factors(text, wrt):
    """Operators (`syntax=`), sigmoid's σ (`notation=`) and the reductions
    expanded come from the op table: each symbol, evaluated, is its factor."""
    rep, doc, _ = derive(text, wrt)
    assert_explains(rep, wrt, doc, (1,) if "[" in wrt else ())
    (path,) = doc["explain"]["paths"]
    for symbol, factor in zip(path["symbols"], path["factors"]):
        assert "|local" not in symbol and "σ" not in symbol, symbol
        assert math.isclose(symbol_value(symbol, rep), number(factor), rel_tol=1e-12), symbol
