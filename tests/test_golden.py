"""`autograd-cli test`: golden files passing, failing, partial, missing and
corrupt; tolerances at their edges; --update; JUnit XML; --format json."""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_cli.golden import compare as golden_compare
from autograd_cli.golden.compare import SHOWN_MISMATCHES, rounding_noise
from autograd_cli.golden.format import NODE_KEYS, TOP_KEYS
from autograd_cli.golden.write import write_atomically

from common import ROOT, SEED, SEED_DOC
from goldens import CLEAN_ENV, eval_doc, file_line, run_test, summary, write_json


def snapshot(root):
    """Every file under `root`: bytes and modification time."""
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(Path(root).rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A folder with seed.expr and its golden file, as `eval` wrote it; the
    working directory."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seed.expr").write_text(SEED)
    write_json(tmp_path / "seed.golden.json", eval_doc("seed.expr"))
    return tmp_path


# ------------------------------------------------------------ the examples


def test_examples_pass():
    expr_files = sorted((ROOT / "examples").glob("*.expr"))
    os.chdir(ROOT)
    result = run_test("examples")
    assert result.exit_code == 0, result.stdout
    assert summary(result) == (len(expr_files), 0)
    for p in expr_files:
        status, line = file_line(result, f"examples/{p.name}")
        assert status == "PASS"
        assert re.search(r"\d+\.\d ms", line)


def test_default_path_is_the_working_directory_searched_recursively(project):
    sub = project / "a" / "b"
    sub.mkdir(parents=True)
    shutil.copy(project / "seed.expr", sub / "deep.expr")
    shutil.copy(project / "seed.golden.json", sub / "deep.golden.json")
    hidden = project / ".hidden"
    hidden.mkdir()
    (hidden / "skip.expr").write_text("x = 1 +\n")
    result = run_test()
    assert result.exit_code == 0, result.stdout
    assert summary(result) == (2, 0)
    assert file_line(result, "a/b/deep.expr")[0] == "PASS"
    assert ".hidden" not in result.stdout


def test_a_golden_path_or_expr_path_can_be_named(project):
    for arg in ("seed.expr", "seed.golden.json"):
        result = run_test(arg)
        assert result.exit_code == 0 and summary(result) == (1, 0)


def test_each_file_once(project):
    result = run_test(".", "seed.expr", str(project))
    assert summary(result) == (1, 0)


def test_nothing_to_test_is_an_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_test()
    assert result.exit_code == 1
    assert "no .expr files" in result.stderr


def test_a_path_that_is_not_there(project):
    result = run_test("seed.expr", "nope")
    assert result.exit_code == 1
    assert summary(result) == (1, 1)
    assert file_line(result, "nope")[0] == "FAIL"
    assert "nope: error: no such file or directory" in result.stdout


# ------------------------------------------------------------------ failing


def test_a_changed_number_fails_with_node_index_expected_got_difference(project):
    doc = json.loads((project / "seed.golden.json").read_text())
    want = doc["nodes"]["w"]["grad"][2] + 0.5
    doc["nodes"]["w"]["grad"][2] = want
    write_json(project / "seed.golden.json", doc)
    got = SEED_DOC["nodes"]["w"]["grad"][2]
    result = run_test()
    assert result.exit_code == 1
    assert summary(result) == (0, 1)
    status, _ = file_line(result, "seed.expr")
    assert status == "FAIL"
    details = [line.strip() for line in result.stdout.splitlines() if line.startswith("  ")]
    # allowed: rtol * |want| + atol * the field's largest magnitude (|-36|), and
    # w.grad's rounding noise, which is some 1e-14 of that
    scale = max(abs(g) for g in doc["nodes"]["w"]["grad"])
    assert scale == 36
    assert details == [
        f"w.grad[2]: expected {want!r}, got {got!r}, difference {got - want:g} "
        f"(allowed {1e-7 * abs(want) + 1e-7 * scale:.3g})"
    ]


def test_the_file_changing_fails_and_the_target_is_listed_once(project):
    (project / "seed.expr").write_text(SEED.replace("L  = 15 - c", "L  = 16 - c"))
    result = run_test()
    assert result.exit_code == 1
    # The golden `value` and L's own value are the same number: one mismatch.
    details = [line.strip() for line in result.stdout.splitlines() if line.startswith("  ")]
    assert details == ["L.value: expected -254.0, got -253.0, difference 1 (allowed 5.08e-05)"]
    doc = json.loads(run_test("-f", "json").stdout)
    assert doc["files"][0]["mismatch_count"] == 1
    # Either alone is compared, and a golden whose two disagree gets both.
    for partial, where in (
        ({"value": -254}, "value"),
        ({"nodes": {"L": {"value": -254}}}, "L.value"),
    ):
        write_json(project / "seed.golden.json", partial)
        assert f"  {where}: expected -254.0, got -253.0" in run_test().stdout
    write_json(project / "seed.golden.json", {"value": -253, "nodes": {"L": {"value": -254}}})
    result = run_test()
    assert result.exit_code == 1 and "value" not in result.stdout.replace("L.value", "")
    write_json(project / "seed.golden.json", {"value": -252, "nodes": {"L": {"value": -254}}})
    lines = [line.strip() for line in run_test().stdout.splitlines() if line.startswith("  ")]
    assert [line.split(":")[0] for line in lines] == ["value", "L.value"]


def test_mismatches_list_params_then_the_target_then_the_rest(tmp_path, monkeypatch):
    """Twelve inputs changed with a param: the param comes first, not after
    the first ten inputs' mismatches, and the target next."""
    monkeypatch.chdir(tmp_path)
    names = [f"x{k:02}" for k in range(12)]
    body = "".join(f"{n} = {k}\n" for k, n in enumerate(names))
    (tmp_path / "m.expr").write_text(
        body + "param w = 2\ns = " + " + ".join(names) + "\nL = w * s\n"
    )
    doc = eval_doc("m.expr")
    assert list(doc["nodes"])[:12] == names  # the golden lists the inputs first
    write_json(tmp_path / "m.golden.json", doc)
    (tmp_path / "m.expr").write_text(
        body.replace(" = ", " = 1 + ") + "param w = 3\ns = " + " + ".join(names) + "\nL = w * s\n"
    )
    result = run_test("-f", "json")
    [f] = json.loads(result.stdout)["files"]
    wheres = [m["where"] for m in f["mismatches"]]
    assert wheres[:3] == ["w.value", "w.grad", "L.value"]
    inputs = [f"{n}.{what}" for n in names for what in ("value", "grad")]
    assert wheres[3:] == inputs[: SHOWN_MISMATCHES - 3]
    # w's value and gradient, L's value, the inputs' values and gradients, s's
    assert f["mismatch_count"] == 2 + 1 + len(inputs) + 2
    text = run_test().stdout
    assert text.index("w.value:") < text.index("L.value:") < text.index("x00.value:")


def test_names_kinds_and_shapes_exactly(project):
    doc = json.loads((project / "seed.golden.json").read_text())
    doc["nodes"]["a1"]["kind"] = "param"
    doc["nodes"]["w"]["shape"] = [4]
    doc["nodes"]["zz"] = {"value": 1.0}
    write_json(project / "seed.golden.json", doc)
    out = run_test().stdout
    assert "a1.kind: expected param, got input" in out
    assert "w.shape: expected [4], got [5]" in out
    assert "zz: in the golden file, but there is no binding named 'zz'" in out


def test_value_of_another_shape(project):
    write_json(project / "seed.golden.json", {"nodes": {"w": {"value": [1, 2]}}})
    assert "w.value: expected shape [2], got shape [5]" in run_test().stdout


def test_mismatches_are_capped_with_a_count(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.expr").write_text("x = arange(50)\nL = sum(x)\n")
    write_json(tmp_path / "a.golden.json", {"nodes": {"x": {"value": list(range(1, 51))}}})
    out = run_test().stdout
    shown = [line for line in out.splitlines() if line.startswith("  x.value[")]
    assert len(shown) == SHOWN_MISMATCHES
    assert shown[0].startswith("  x.value[0]: expected 1.0, got 0.0, difference -1 ")
    assert f"and {50 - SHOWN_MISMATCHES} more (50 mismatches in all)" in out


def test_warnings_are_compared(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "n.expr").write_text("x = [1, 0, -1]\ny = sum(log(x))\n")
    doc = eval_doc("n.expr")
    assert doc["warnings"]
    write_json(tmp_path / "n.golden.json", doc)
    assert run_test().exit_code == 0
    doc["warnings"] = []
    write_json(tmp_path / "n.golden.json", doc)
    result = run_test()
    assert result.exit_code == 1 and "warnings[0]: expected no warning, got " in result.stdout


def test_warnings_are_compared_by_node_and_message_not_place(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "n.expr").write_text("x = [1, 0, -1]\ny = sum(log(x))\n")
    doc = eval_doc("n.expr")
    assert [(w["node"], w["line"], w["column"]) for w in doc["warnings"]] == [("y", 2, 9)] * 2
    write_json(tmp_path / "n.golden.json", doc)
    # A comment above and spaces before: every warning moves, none changes.
    (tmp_path / "n.expr").write_text("# logs\nx = [1, 0, -1]\ny =  sum(log(x))\n")
    assert [(w["line"], w["column"]) for w in eval_doc("n.expr")["warnings"]] == [(3, 10)] * 2
    result = run_test()
    assert result.exit_code == 0, result.stdout
    # The place is kept in the golden file, for people, and shown in a mismatch.
    assert json.loads((tmp_path / "n.golden.json").read_text()) == doc
    for key, value in (("message", "log gives -inf in the value of 'y'"), ("node", "x")):
        changed = json.loads(json.dumps(doc))
        changed["warnings"][0][key] = value
        write_json(tmp_path / "n.golden.json", changed)
        result = run_test()
        assert result.exit_code == 1, key
        assert (
            'warnings[0]: expected "' in result.stdout
            and "(line 2, column 9), got " in result.stdout
            and "(line 3, column 10)" in result.stdout
        )
    # The node renamed in the file: a change.
    write_json(tmp_path / "n.golden.json", doc)
    (tmp_path / "n.expr").write_text("x = [1, 0, -1]\nz = sum(log(x))\n")
    assert run_test().exit_code == 1


# ------------------------------------------------------------------ partial


@pytest.mark.parametrize(
    "partial",
    [
        {"nodes": {"w": {"grad": SEED_DOC["nodes"]["w"]["grad"]}}},
        {"value": -254},
        {"nodes": {"b1": {"value": 23}}},
        {"nodes": {"w": {"kind": "param", "shape": [5]}}},
        {"target": "L", "nodes": {"a1": {"grad": -41}}, "warnings": []},
    ],
)
def test_partial_goldens_compare_what_they_list(project, partial):
    write_json(project / "seed.golden.json", partial)
    assert run_test().exit_code == 0
    # ... and they do compare it: the same golden fails when its numbers move.
    (project / "seed.expr").write_text(
        SEED.replace("a1 = 4", "a1 = 5").replace(
            "param w = [2, 5, 9, 7, 3]", "param w = [2, 5, 9, 7, 3] * 1.5"
        )
    )
    if "kind" not in json.dumps(partial):
        assert run_test().exit_code == 1


def test_unlisted_nodes_are_not_compared(project):
    write_json(
        project / "seed.golden.json", {"nodes": {"w": {"grad": SEED_DOC["nodes"]["w"]["grad"]}}}
    )
    # A change that moves L's value but no gradient.
    (project / "seed.expr").write_text(SEED.replace("L  = 15 - c", "L  = 16 - c"))
    assert run_test().exit_code == 0


def test_a_golden_that_lists_nothing_fails(project):
    write_json(project / "seed.golden.json", {"dtype": "float64"})
    result = run_test()
    assert result.exit_code == 1 and "lists nothing to compare" in result.stdout


# --------------------------------------------------- options in the golden


def test_target_dtype_and_set_reproduce_the_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # In float32, 2**24 + 1 is 2**24: y is 0 there and 1 in float64.
    (tmp_path / "f.expr").write_text(
        "x = 16777217\nparam s = 1\ny = (x - 16777216) * s\nz = [1, 2]\nL = sum(z) * y\n"
    )
    (tmp_path / "v.json").write_text('{"z": [3, 4, 5]}')
    doc = eval_doc(
        "f.expr", "--of", "y", "--dtype", "float32", "--set-json", "v.json", "--any-shape"
    )
    assert doc["target"] == "y" and doc["dtype"] == "float32"
    assert doc["set"] == {"z": [3.0, 4.0, 5.0]} and doc["value"] == 0.0
    write_json(tmp_path / "f.golden.json", doc)
    strict = ["--rtol", "0", "--atol", "0"]
    assert run_test(*strict).exit_code == 0
    for drop, where in (("dtype", "y.value"), ("target", "L.grad"), ("set", "z.")):
        partial = {k: v for k, v in doc.items() if k != drop}
        write_json(tmp_path / "f.golden.json", partial)
        result = run_test(*strict)
        assert result.exit_code == 1, drop
        assert where in result.stdout, (drop, result.stdout)


def test_golden_set_errors_are_located_in_the_golden(project):
    (project / "seed.golden.json").write_text(
        '{\n  "set": {"w": [1, 2, 3, 4, 5],\n          "a9": 1},\n  "value": 0}\n'
    )
    result = run_test()
    assert result.exit_code == 1
    assert (
        "seed.golden.json:3:11: error: there is no binding named 'a9' in seed.expr "
        "(did you mean 'a1'?)"
    ) in result.stdout


def test_golden_target_that_is_not_bound(project):
    (project / "seed.golden.json").write_text('{"target": "Lx", "value": 1}')
    result = run_test()
    assert (
        "seed.golden.json:1:12: error: the target 'Lx' is not bound in seed.expr "
        "(did you mean 'L'?)" in result.stdout
    )


# ------------------------------------------------------------- tolerances


@pytest.fixture
def one_number(tmp_path, monkeypatch):
    """y = 1.25, an input (data: no rounding noise), against a golden value
    `want`: run with --rtol/--atol."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.expr").write_text("y = 1.25\nL = y * 1\n")

    def check(want, rtol, atol):
        write_json(tmp_path / "t.golden.json", {"nodes": {"y": {"value": want}}})
        return run_test("--rtol", repr(float(rtol)), "--atol", repr(float(atol))).exit_code

    return check


def test_absolute_tolerance_edge(one_number):
    assert one_number(1.0, 0.0, 0.25) == 0  # |1.25 - 1| == atol * |1|
    assert one_number(1.0, 0.0, np.nextafter(0.25, 0)) == 1


def test_relative_tolerance_edge_is_relative_to_the_golden_value(one_number):
    assert one_number(1.0, 0.25, 0.0) == 0  # 0.25 <= 0.25 * |1|
    assert one_number(1.0, np.nextafter(0.25, 0), 0.0) == 1
    # |want| = 1.25 here: 0.2 * 1.25 = 0.25 is enough (0.2 * |got| would not be).
    (Path.cwd() / "t.expr").write_text("y = 1.0\nL = y * 1\n")
    assert one_number(1.25, 0.2, 0.0) == 0
    assert one_number(1.25, 0.19, 0.0) == 1


def test_both_tolerances_add(one_number):
    rtol = 2.0**-20  # allowed: atol * 1 + rtol * 1 = 0.25 exactly
    assert one_number(1.0, rtol, 0.25 - rtol) == 0
    assert one_number(1.0, rtol, np.nextafter(0.25 - rtol, 0)) == 1
    assert one_number(1.0, 0.125, 0.0625) == 1


def test_atol_is_in_units_of_the_fields_largest_magnitude(tmp_path, monkeypatch):
    """An element near zero beside large ones is compared at their scale;
    the same element alone, at its own."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.expr").write_text("y = [1000, 1, 0]\nz = 1\nL = sum(y) * z\n")
    write_json(
        tmp_path / "a.golden.json",
        {"nodes": {"y": {"value": [1000, 1.5, 0.25]}, "z": {"value": 1.25}}},
    )
    # y: |1 - 1.5| and |0 - 0.25| <= 0.001 * 1000; z: 0.25 > 0.001 * 1.25.
    result = run_test("--rtol", "0", "--atol", "0.001", "-f", "json")
    [f] = json.loads(result.stdout)["files"]
    assert [(m["where"], m["allowed"]) for m in f["mismatches"]] == [("z.value", 0.00125)]
    assert run_test("--rtol", "0", "--atol", "0.0004").exit_code == 1  # 0.4 < 0.5
    assert run_test("--rtol", "0", "--atol", "0.2").exit_code == 0  # z: 0.25 <= 0.25
    # By default (1e-7 of 1000 = 1e-4) a change of 0.5 fails, as it must.
    assert "y.value[1]: expected 1.5, got 1.0" in run_test().stdout


def _first_differing(candidates, one, other):
    """The first x of `candidates` where the two ways of computing differ."""
    for x in candidates:
        if one(x) != other(x):
            return x
    raise AssertionError("no candidate differs in the last bit")


@pytest.mark.parametrize("scale", [1e-4, 1e-30, 1e30])
def test_a_doubling_fails_at_any_magnitude_and_the_last_bit_passes(project, scale):
    """x ** 3 pinned, then 2 * x ** 3: a doubling at 1e-12 is under any fixed
    absolute tolerance (1e-7 here before), and must fail all the same;
    x * x * x, the last bit off, must pass."""
    x = _first_differing(
        [scale * (1 + k / 100) for k in range(1, 100)],
        lambda x: np.float64(x) ** 3,
        lambda x: np.float64(x) * np.float64(x) * np.float64(x),
    )
    (project / "c.expr").write_text(f"param x = {x!r}\nL = x ** 3\n")
    doc = eval_doc("c.expr")
    write_json(project / "c.golden.json", doc)
    # ... and a partial golden that pins only x's gradient.
    (project / "g.expr").write_text(f"param x = {x!r}\nL = x ** 3\n")
    write_json(project / "g.golden.json", {"nodes": {"x": {"grad": doc["nodes"]["x"]["grad"]}}})
    assert run_test("c.expr", "g.expr").exit_code == 0

    for name in ("c.expr", "g.expr"):
        (project / name).write_text(f"param x = {x!r}\nL = 2 * x ** 3\n")
    result = run_test("c.expr", "g.expr", "-f", "json")
    assert result.exit_code == 1
    files = {f["file"]: f for f in json.loads(result.stdout)["files"]}
    assert [m["where"] for m in files["c.expr"]["mismatches"]] == ["x.grad", "L.value"]
    assert [m["where"] for m in files["g.expr"]["mismatches"]] == ["x.grad"]
    if scale == 1e-4:
        assert abs(x**3) < 1e-7  # what the old absolute 1e-7 let through

    for name in ("c.expr", "g.expr"):
        (project / name).write_text(f"param x = {x!r}\nL = x * x * x\n")
    assert eval_doc("c.expr")["value"] != doc["value"]  # the last bit differs
    result = run_test("c.expr", "g.expr")
    assert result.exit_code == 0, result.stdout


def test_another_summation_order_passes(tmp_path, monkeypatch):
    """A matrix product summed in another order (math.fsum: exactly, then
    rounded once) differs in the last bits; on a row that cancels to nearly
    zero that is a large relative change, yet it is rounding at the scale
    of the other rows."""
    import math

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, (4, 40)).round(6)
    w = rng.uniform(-1, 1, 40).round(6)
    X[3] = X[0] - (X[0] @ w) / (w @ w) * w  # X[3] @ w is about 0
    rows = ",\n     ".join("[" + ", ".join(map(repr, r)) + "]" for r in X.tolist())
    (tmp_path / "m.expr").write_text(
        f"X = [{rows}]\n"
        f"param w = [{', '.join(map(repr, w.tolist()))}]\n"
        "y = X @ w\nL = sum(y ** 2)\n"
    )
    got = eval_doc("m.expr")["nodes"]["y"]["value"]
    other = [math.fsum(a * b for a, b in zip(r, w.tolist())) for r in X.tolist()]
    assert other != got  # the order made a difference
    assert abs(other[3]) < 1e-6 * max(map(abs, other))
    assert abs(other[3] - got[3]) > 1e-6 * abs(other[3])  # relative to itself: a change
    write_json(tmp_path / "m.golden.json", {"nodes": {"y": {"value": other}}})
    result = run_test()
    assert result.exit_code == 0, result.stdout
    # ... and a real change of that row, at the rows' scale, still fails.
    other[3] += 1e-3
    write_json(tmp_path / "m.golden.json", {"nodes": {"y": {"value": other}}})
    assert "y.value[3]: expected" in run_test().stdout


@pytest.mark.parametrize("theta_grad", [0.0, -7.105427357601002e-15, 1.4210854715202004e-14])
def test_rounding_noise_of_a_cancellation_passes(tmp_path, monkeypatch, theta_grad):
    """The projectile's dR/dtheta is 40.77 - 40.77 = 7.1e-15 here; where
    sin and cos round otherwise it is 0 or a few units in the last place of
    40.77 either way.  That must pass; a change far above it must not."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(ROOT / "examples" / "projectile.expr", tmp_path)
    doc = json.loads((ROOT / "examples" / "projectile.golden.json").read_text())
    here = doc["nodes"]["theta"]["grad"]
    assert 0 < abs(here) < 1e-14
    doc["nodes"]["theta"]["grad"] = theta_grad
    write_json(tmp_path / "projectile.golden.json", doc)
    result = run_test()
    assert result.exit_code == 0, result.stdout
    doc["nodes"]["theta"]["grad"] = theta_grad + 1e-9
    write_json(tmp_path / "projectile.golden.json", doc)
    result = run_test("-f", "json")
    [m] = json.loads(result.stdout)["files"][0]["mismatches"]
    assert m["where"] == "theta.grad"
    # The noise allowed: well above a few units in the last place of 40.77
    # (7.1e-15 each), far below anything the projectile could mean.
    assert 1e-13 < m["allowed"] < 1e-10


def test_a_gradient_that_cancels_at_any_inputs_passes_as_noise(project):
    (project / "c.expr").write_text(
        "x = [0.3, 1.7, -2.2, 5.1, 0.9]\nparam w = 1.3\n"
        "param b = 0.7\nh = x * w + b\nhc = h - mean(h)\n"
        "L = sum(hc ** 2)\n"
    )
    doc = eval_doc("c.expr")
    here = doc["nodes"]["b"]["grad"]
    assert 0 < abs(here) < 1e-14
    for other, code in ((0.0, 0), (-here, 0), (3 * here, 0), (1e-9, 1)):
        doc["nodes"]["b"]["grad"] = other
        write_json(project / "c.golden.json", doc)
        assert run_test("c.expr").exit_code == code, other


def test_examples_pass_with_every_number_a_few_units_off_in_the_last_place(tmp_path):
    """What another machine's libm and BLAS may give: each number of each
    golden file three units in the last place away, up or down."""
    count = 0

    def moved(value):
        nonlocal count
        if type(value) in (int, float):
            count += 1
            for _ in range(3):
                value = float(np.nextafter(value, np.inf if count % 2 else -np.inf))
        elif type(value) is list:
            value = [moved(v) for v in value]
        return value

    for data in (ROOT / "examples").glob("*.csv"):  # what the examples load
        shutil.copy(data, tmp_path)
    for path in sorted((ROOT / "examples").glob("*.expr")):
        shutil.copy(path, tmp_path)
        doc = json.loads(path.with_suffix(".golden.json").read_text())
        doc["value"] = moved(doc["value"])
        for entry in doc["nodes"].values():
            for what in ("value", "grad"):
                entry[what] = moved(entry[what])
        write_json(tmp_path / f"{path.stem}.golden.json", doc)
    result = run_test(str(tmp_path))
    assert result.exit_code == 0, result.stdout
    assert summary(result) == (len(list((ROOT / "examples").glob("*.expr"))), 0)


def test_noise_is_estimated_for_cancellations_only():
    """golden.compare.rounding_noise: a value or gradient that is what is left of a
    cancellation gets its noise; any other field, a few 1e-14 of its size;
    params and inputs (data), none."""
    from autograd_cli.compiling import load
    from autograd_cli.errors import Source
    from autograd_cli.running import run

    # R = 2 vx vy / g: dR/dt = 2 (vx' vy + vx vy') / g cancels at 45 degrees.
    text = (
        "param t = pi / 4\ng = 9.81\nvx = 20 * cos(t)\nvy = 20 * sin(t)\n"
        "d = vx - vy\nR = 2 * vx * vy / g\n"
    )
    report = run(load(Source("p.expr", text)), every_node=False)
    fields = [(b.name, what) for b in report.model.bindings for what in ("value", "grad")]
    noise = rounding_noise(report, fields)
    assert sorted(noise) == sorted(fields)
    ulp = np.spacing(40.8)
    assert report.values["d"] != 0 and abs(report.values["d"]) <= 2 * np.spacing(20 * 0.8)
    assert abs(report.grads["t"]) <= 4 * ulp
    assert noise["d", "value"] > 10 * np.spacing(14.2)
    assert noise["t", "grad"] > 10 * ulp
    for name in ("t", "g"):
        assert noise[name, "value"] == 0.0
    for name, what in (
        ("g", "grad"),
        ("vx", "value"),
        ("vy", "value"),
        ("vx", "grad"),
        ("R", "value"),
        ("d", "grad"),
    ):
        field = (report.values if what == "value" else report.grads)[name]
        assert noise[name, what] <= 1e-12 * abs(field), (name, what)
    assert noise["R", "grad"] == 0.0  # the seed: exactly 1
    # The same numbers every time (fixed seeds).
    assert rounding_noise(report, fields) == noise


def test_noise_of_a_number_that_cancels_at_any_inputs():
    """A bias before centering has a gradient of 0 at any inputs: what is
    computed is rounding alone, which the nudged runs round otherwise."""
    from autograd_cli.compiling import load
    from autograd_cli.errors import Source
    from autograd_cli.running import run

    text = (
        "x = [0.3, 1.7, -2.2, 5.1, 0.9]\nparam w = 1.3\nparam b = 0.7\n"
        "h = x * w + b\nhc = h - mean(h)\nL = sum(hc ** 2)\n"
    )
    report = run(load(Source("c.expr", text)), every_node=False)
    assert 0 < abs(report.grads["b"]) < 1e-14
    noise = rounding_noise(report, [("b", "grad"), ("w", "grad")])
    assert noise["b", "grad"] > 4 * abs(report.grads["b"])
    assert noise["w", "grad"] < 1e-12 * abs(report.grads["w"])


def test_no_nudged_run_without_a_computed_field(monkeypatch):
    from autograd_cli.compiling import load
    from autograd_cli.errors import Source
    from autograd_cli.running import run

    report = run(load(Source("s.expr", SEED)), every_node=False)
    monkeypatch.setattr(golden_compare, "_nudged", lambda *a: pytest.fail("a nudged run"))
    assert rounding_noise(report, [("w", "value"), ("a1", "value")]) == {
        ("w", "value"): 0.0,
        ("a1", "value"): 0.0,
    }
    assert rounding_noise(report, []) == {}


def test_a_field_of_zeros_is_zero(project):
    """0 has no scale of its own: it stays 0, up to numbers below the
    smallest normal (a machine may flush those to zero)."""
    (project / "z.expr").write_text("param a = 2\nparam b = 3\nL = a * 1\n")
    doc = eval_doc("z.expr")
    assert doc["nodes"]["b"]["grad"] == 0
    write_json(project / "z.golden.json", doc)
    assert run_test("z.expr").exit_code == 0
    for extra, code in (("5e-324", 0), ("1e-300", 1), ("1e-20", 1)):
        (project / "z.expr").write_text(f"param a = 2\nparam b = 3\nL = a * 1 + b * {extra}\n")
        result = run_test("z.expr")
        assert result.exit_code == code, (extra, result.stdout)
        if code:
            assert "b.grad: expected 0.0, got " in result.stdout


def test_default_tolerances(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.expr").write_text("x = 1.25\ny = x * 1\n")
    # float64: allowed 1e-7 * |want| + 1e-7 * |want| (a scalar is its own
    # field's largest magnitude), 2.5e-7 here.
    for want, code in ((1.25 + 2.4e-7, 0), (1.25 - 2.4e-7, 0), (1.25 + 2.6e-7, 1)):
        write_json(tmp_path / "t.golden.json", {"nodes": {"y": {"value": want}}})
        assert run_test().exit_code == code, want
    help_text = run_test("--help").stdout
    assert "1e-7" in help_text and "1.3e-6" in help_text and "1e-5" in help_text


def test_float32_goldens_get_float32_tolerances(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.expr").write_text("x = 1.25\ny = x * 1\n")
    write_json(
        tmp_path / "t.golden.json", {"dtype": "float32", "nodes": {"y": {"value": 1.25 + 1e-6}}}
    )
    assert run_test().exit_code == 0
    write_json(
        tmp_path / "t.golden.json", {"dtype": "float64", "nodes": {"y": {"value": 1.25 + 1e-6}}}
    )
    assert run_test().exit_code == 1


def test_nan_matches_nan_and_inf_matches_inf(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "n.expr").write_text("x = [1, 0, -1]\ny = sum(log(x))\n")
    doc = eval_doc("n.expr")
    assert doc["value"] == "nan" and "inf" in doc["nodes"]["x"]["grad"]
    write_json(tmp_path / "n.golden.json", {"value": "nan", "nodes": {"x": doc["nodes"]["x"]}})
    assert run_test().exit_code == 0
    for value, grad in (
        (1.0, doc["nodes"]["x"]["grad"]),
        ("nan", [1.0, "-inf", -1.0]),
        ("nan", [1.0, 1e308, -1.0]),
        ("inf", doc["nodes"]["x"]["grad"]),
    ):
        write_json(tmp_path / "n.golden.json", {"value": value, "nodes": {"x": {"grad": grad}}})
        assert run_test().exit_code == 1, (value, grad)


# ----------------------------------------------------------- missing golden


def test_missing_golden_is_reported_and_nothing_is_written(project):
    (project / "new.expr").write_text("x = 2\ny = x * x\n")
    before = snapshot(project)
    result = run_test()
    assert result.exit_code == 1
    assert summary(result) == (1, 1)
    status, line = file_line(result, "new.expr")
    assert status == "FAIL" and "no golden file new.golden.json" in line and "--update" in line
    assert snapshot(project) == before


def test_a_golden_file_without_its_expr_fails(project):
    """Renamed or deleted, the .expr left its golden file behind: what it
    pinned is tested no more, and that is a failure, counted everywhere."""
    (project / "sub").mkdir()
    shutil.copy(project / "seed.golden.json", project / "old.golden.json")
    shutil.copy(project / "seed.golden.json", project / "sub" / "gone.golden.json")
    result = run_test()
    assert result.exit_code == 1
    assert summary(result) == (1, 2)
    names = [line.split()[1] for line in result.stdout.splitlines()[:-1]]
    assert names == ["old.golden.json", "seed.expr", "sub/gone.golden.json"]
    status, line = file_line(result, "old.golden.json")
    assert status == "FAIL" and "no old.expr for this golden file" in line
    assert "delete it" in line

    doc = json.loads(run_test("-f", "json").stdout)
    assert (doc["passed"], doc["failed"]) == (1, 2)
    files = {f["file"]: f for f in doc["files"]}
    assert (files["old.golden.json"]["status"], files["old.golden.json"]["reason"]) == (
        "fail",
        "unused",
    )
    assert files["sub/gone.golden.json"]["golden"] == "sub/gone.golden.json"

    assert run_test("--junit-xml", "r.xml").exit_code == 1
    suite = ET.parse(project / "r.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "2", "0")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    [failure] = cases["old.golden.json"]
    assert failure.tag == "failure" and failure.get("type") == "unused"
    assert "no old.expr" in failure.get("message")

    # Named, it fails the same; its .expr back, it is tested.
    assert file_line(run_test("old.golden.json"), "old.golden.json")[0] == "FAIL"
    shutil.copy(project / "seed.expr", project / "old.expr")
    result = run_test("old.golden.json")
    assert result.exit_code == 0 and file_line(result, "old.expr")[0] == "PASS"


def test_update_leaves_a_golden_file_without_its_expr(project):
    (project / "old.golden.json").write_text('{"value": 1}\n')
    (project / "new.expr").write_text("x = 1\n")
    result = run_test("--update")
    assert result.exit_code == 1
    assert summary(result, update=True) == (1, 1, 1)
    assert file_line(result, "old.golden.json")[0] == "FAIL"
    assert (project / "old.golden.json").read_text() == '{"value": 1}\n'


# ------------------------------------------------------------ broken files


def test_a_file_that_does_not_parse_is_a_located_failure(project):
    (project / "bad.expr").write_text("x = 1\ny = x +\n")
    write_json(project / "bad.golden.json", {"value": 1})
    result = run_test()
    assert result.exit_code == 1 and summary(result) == (1, 1)
    lines = result.stdout.splitlines()
    k = lines.index(file_line(result, "bad.expr")[1])
    assert lines[k + 1].startswith("bad.expr:2:8: error: ")
    assert lines[k + 2].endswith("| y = x +")
    assert lines[k + 3].endswith("^")
    assert "Traceback" not in result.stdout + result.stderr


def test_a_file_that_does_not_parse_and_has_no_golden(project):
    (project / "bad.expr").write_text("y = (\n")
    result = run_test()
    assert "bad.expr:1:" in result.stdout and ": error: " in result.stdout


@pytest.mark.parametrize(
    "text",
    [
        '{"value": -254,\n "nodes": {"w": {"grad": [1, 2,, 3]}}}',
        '{"value": -254',
        "",
        "\n\n  nope",
        '{"value": -254} []',
    ],
)
def test_corrupt_golden_shows_the_decoders_line_and_column(project, text):
    (project / "seed.golden.json").write_text(text)
    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        line, column = e.lineno, e.colno
    result = run_test()
    assert result.exit_code == 1
    assert f"seed.golden.json:{line}:{column}: error: invalid JSON: " in result.stdout


@pytest.mark.parametrize(
    "doc, position, fragment",
    [
        ('{"nodes": {"w": {"grads": [1]}}}', "1:18", "unknown key 'grads'"),
        ('{"valeu": 1}', "1:2", "did you mean 'value'"),
        ('{"schema": 2, "value": 1}', "1:12", "schema 2"),
        ('{"dtype": "float16", "value": 1}', "1:11", "dtype"),
        ('{"dtype": [1], "value": 1}', "1:11", "dtype"),
        ('{"nodes": [1]}', "1:11", "'nodes' is an object"),
        ('{"nodes": {"w": 3}}', "1:17", "entry of 'w'"),
        ('{"nodes": {"w": {"kind": "leaf"}}}', "1:26", "param, input or node"),
        ('{"nodes": {"w": {"shape": [-1]}}}', "1:27", "shape of 'w'"),
        ('{"nodes": {"w": {"shape": null}}}', "1:27", "shape of 'w'"),
        ('{"nodes": {"w": {"grad": [1, true, 3, 4, 5]}}}', "1:26", "element [1] is true"),
        ('{"value": [[1], [2, 3]]}', "1:11", "ragged"),
        ('{"set": [1]}', "1:9", "'set' is an object"),
        ('{"set": {"w": "x"}, "value": 1}', "1:15", "expected a number"),
        ('{"target": 3, "value": 1}', "1:12", "'target'"),
        ('{"warnings": {}, "value": 1}', "1:14", "'warnings' is a list"),
        ("[1, 2]", "1:1", "JSON object"),
    ],
)
def test_golden_format_errors_are_located(project, doc, position, fragment):
    (project / "seed.golden.json").write_text(doc)
    result = run_test()
    assert result.exit_code == 1
    head = next(line for line in result.stdout.splitlines() if ": error: " in line)
    assert head.startswith(f"seed.golden.json:{position}: error: "), head
    assert fragment in head, head


def test_deeply_nested_golden(project):
    depth = 100_000
    (project / "seed.golden.json").write_text('{"value": ' + "[" * depth + "]" * depth + "}")
    result = run_test()
    assert result.exit_code == 1 and "too deep" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.floats()
        | st.integers()
        | st.sampled_from(["nan", "inf", "-inf", "w", "L", "float32", "node"]),
        lambda inner: (
            st.lists(inner, max_size=5)
            | st.dictionaries(
                st.sampled_from(list(TOP_KEYS) + list(NODE_KEYS) + ["w", "a1", "L"]),
                inner,
                max_size=4,
            )
        ),
        max_leaves=15,
    )
)
def test_any_golden_gives_pass_or_fail_never_a_crash(value):
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "seed.expr").write_text(SEED)
        (Path(d) / "seed.golden.json").write_text(json.dumps(value))
        result = run_test(d)
    assert result.exit_code in (0, 1), result.stdout
    assert "Traceback" not in result.stdout and "internal error" not in result.stderr


# ------------------------------------------------------------------ update


def test_update_round_trip(project):
    (project / "new.expr").write_text("x = [1, 2, 3]\nL = sum(x ** 3)\n")
    (project / "part.expr").write_text(SEED)
    write_json(project / "part.golden.json", {"nodes": {"w": {"grad": [0, 0, 0, 0, 0]}}})
    (project / "seed.golden.json").chmod(0o640)
    untouched = (project / "seed.golden.json").stat().st_mtime_ns

    result = run_test("--update")
    assert result.exit_code == 0, result.stdout
    assert summary(result, update=True) == (1, 0, 2)
    assert file_line(result, "new.expr")[0] == "CREATED"
    status, line = file_line(result, "part.expr")
    assert status == "UPDATED" and "part.golden.json" in line and "5 mismatches" in line
    assert "w.grad[0]: expected 0.0, got -28.0" in result.stdout
    assert (project / "seed.golden.json").stat().st_mtime_ns == untouched

    # The new golden is the full eval document; the partial one stays partial.
    created = json.loads((project / "new.golden.json").read_text())
    assert created == eval_doc("new.expr")
    assert created["nodes"]["x"]["grad"] == [3.0, 12.0, 27.0]
    assert json.loads((project / "part.golden.json").read_text()) == {
        "nodes": {"w": {"grad": SEED_DOC["nodes"]["w"]["grad"]}}
    }
    # No temporary files left; permissions kept.
    assert sorted(p.name for p in project.iterdir()) == sorted(
        [
            "seed.expr",
            "seed.golden.json",
            "new.expr",
            "new.golden.json",
            "part.expr",
            "part.golden.json",
        ]
    )
    assert (project / "seed.golden.json").stat().st_mode & 0o777 == 0o640

    after_update = snapshot(project)
    result = run_test()
    assert result.exit_code == 0 and summary(result) == (3, 0)
    result = run_test("--update")
    assert result.exit_code == 0 and summary(result, update=True) == (3, 0, 0)
    assert snapshot(project) == after_update


def test_update_keeps_the_options_of_the_golden(project):
    doc = eval_doc("seed.expr", "--of", "c", "--dtype", "float32", "--set", "a1=2")
    doc["value"] = 0.0
    write_json(project / "seed.golden.json", doc)
    assert run_test("--update").exit_code == 0
    new = json.loads((project / "seed.golden.json").read_text())
    want = eval_doc("seed.expr", "--of", "c", "--dtype", "float32", "--set", "a1=2")
    # `expr` of a1 is the value as the golden file writes it (2.0, not 2).
    assert new["nodes"].pop("a1").pop("expr") == "2.0"
    assert want["nodes"].pop("a1").pop("expr") == "2"
    assert new == want
    assert run_test().exit_code == 0


def test_update_fills_a_golden_that_lists_only_options(project):
    write_json(project / "seed.golden.json", {"target": "b1", "set": {"a2": 10}})
    result = run_test("--update")
    assert file_line(result, "seed.expr")[0] == "UPDATED"
    new = json.loads((project / "seed.golden.json").read_text())
    assert new["target"] == "b1" and new["value"] == 2 * 4 + 5 * 10
    assert new["set"] == {"a2": 10.0} and list(new["nodes"]) == list(SEED_DOC["nodes"])


def test_update_drops_nodes_that_are_gone(project):
    write_json(project / "seed.golden.json", {"nodes": {"zz": {"value": 1}, "b1": {"value": 0}}})
    assert run_test("--update").exit_code == 0
    assert json.loads((project / "seed.golden.json").read_text()) == {
        "nodes": {"b1": {"value": 23.0}}
    }


LOGS = "x = [1, 0, -1]\ny = sum(log(x))\nz = sum(sqrt(x))\n"


def test_update_rewrites_warnings_whose_place_moved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "n.expr").write_text(LOGS)
    doc = eval_doc("n.expr")
    assert [(w["node"], w["line"]) for w in doc["warnings"]] == [("y", 2), ("z", 3)]
    write_json(tmp_path / "n.golden.json", doc)
    # A line between y and z moves z's warning and no other.
    (tmp_path / "n.expr").write_text(LOGS.replace("\nz", "\n# roots\nz"))
    moved = eval_doc("n.expr")
    assert [(w["node"], w["line"]) for w in moved["warnings"]] == [("y", 2), ("z", 4)]

    # A plain run passes and writes nothing, as before.
    before = snapshot(tmp_path)
    result = run_test()
    assert result.exit_code == 0 and summary(result) == (1, 0)
    assert file_line(result, "n.expr")[1].split()[-1] == "ms"  # no note
    assert snapshot(tmp_path) == before

    # --update brings the place up to date, and says so.
    result = run_test("--update")
    assert result.exit_code == 0, result.stdout
    assert summary(result, update=True) == (0, 0, 1)
    status, line = file_line(result, "n.expr")
    assert status == "UPDATED" and line.endswith("rewrote n.golden.json (1 warning moved)")
    assert json.loads((tmp_path / "n.golden.json").read_text()) == moved

    # Up to date, it passes and is left alone, with or without --update.
    after = snapshot(tmp_path)
    assert summary(run_test("--update"), update=True) == (1, 0, 0)
    assert snapshot(tmp_path) == after


def test_update_of_moved_warnings_keeps_a_partial_golden_partial(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "n.expr").write_text(LOGS)
    doc = eval_doc("n.expr")
    write_json(tmp_path / "n.golden.json", {"warnings": doc["warnings"]})
    (tmp_path / "n.expr").write_text("# logs and roots\n" + LOGS)
    result = run_test("--update", "-f", "json")
    assert result.exit_code == 0, result.stdout
    [entry] = json.loads(result.stdout)["files"]
    assert entry["status"] == "updated" and "reason" not in entry
    assert entry["note"] == "rewrote n.golden.json (2 warnings moved)"
    assert json.loads((tmp_path / "n.golden.json").read_text()) == {
        "warnings": eval_doc("n.expr")["warnings"]
    }


def test_update_leaves_warnings_without_a_place_or_behind_a_link(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "n.expr").write_text(LOGS)
    warnings = eval_doc("n.expr")["warnings"]
    # Written by hand without line and column: nothing is stale.
    write_json(
        tmp_path / "n.golden.json",
        {
            "warnings": [
                {k: v for k, v in w.items() if k not in ("line", "column")} for w in warnings
            ]
        },
    )
    # A golden file that is a link is never rewritten, even with places moved.
    (tmp_path / "m.expr").write_text("# moved\n" + LOGS)
    write_json(tmp_path / "real.json", {"warnings": warnings})
    os.symlink("real.json", tmp_path / "m.golden.json")
    before = snapshot(tmp_path)
    result = run_test("--update")
    assert result.exit_code == 0, result.stdout
    assert summary(result, update=True) == (2, 0, 0)
    assert snapshot(tmp_path) == before
    assert os.readlink(tmp_path / "m.golden.json") == "real.json"


def test_update_leaves_corrupt_goldens_and_broken_files_alone(project):
    (project / "seed.golden.json").write_text('{"value": ')
    (project / "bad.expr").write_text("y = (\n")
    before = snapshot(project)
    result = run_test("--update")
    assert result.exit_code == 1
    assert summary(result, update=True) == (0, 2, 0)
    assert snapshot(project) == before


def test_update_is_atomic(project, monkeypatch):
    """A failure while writing leaves the old golden whole and no temporary file."""
    doc = json.loads((project / "seed.golden.json").read_text())
    doc["value"] = 1.0
    write_json(project / "seed.golden.json", doc)
    old = (project / "seed.golden.json").read_bytes()

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    result = run_test("--update")
    assert result.exit_code == 74  # EX_IOERR: an output could not be written
    assert (
        "seed.golden.json: error: cannot write the golden file: No space left on device"
        in result.stdout.splitlines()
    )
    assert (project / "seed.golden.json").read_bytes() == old
    assert sorted(p.name for p in project.iterdir()) == ["seed.expr", "seed.golden.json"]

    replaced = []
    real_replace = os.replace
    monkeypatch.undo()
    monkeypatch.chdir(project)
    monkeypatch.setattr(os, "replace", lambda a, b: (replaced.append((a, b)), real_replace(a, b)))
    assert run_test("--update").exit_code == 0
    [(tmp, dst)] = replaced
    assert dst == "seed.golden.json"
    assert os.path.dirname(os.path.abspath(tmp)) == str(project)  # the same directory
    assert json.loads((project / "seed.golden.json").read_text())["value"] == -254.0


def test_write_atomically_new_file_mode(tmp_path):
    umask = os.umask(0o022)
    try:
        write_atomically(str(tmp_path / "g.json"), "{}\n")
    finally:
        os.umask(umask)
    assert (tmp_path / "g.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "g.json").read_text() == "{}\n"


# ------------------------------------------------------------------- JUnit


def test_junit_xml(project):
    (project / "bad.expr").write_text("y = (\n")
    (project / "new.expr").write_text("x = 1\n")
    (project / "part.expr").write_text(SEED)
    write_json(project / "part.golden.json", {"nodes": {"w": {"grad": [0, 0, 0, 0, 0]}}})
    result = run_test("--junit-xml", "report.xml")
    assert result.exit_code == 1
    root = ET.parse(project / "report.xml").getroot()
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert sorted(cases) == ["bad.expr", "new.expr", "part.expr", "seed.expr"]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "2", "1")
    assert root.get("tests") == "4"
    for c in cases.values():
        assert float(c.get("time")) >= 0 and c.get("classname")
    assert list(cases["seed.expr"]) == []
    [error] = cases["bad.expr"]
    assert error.tag == "error" and error.get("message").startswith("bad.expr:1:")
    assert "^" in error.text
    [missing] = cases["new.expr"]
    assert missing.tag == "failure" and missing.get("type") == "missing"
    [failure] = cases["part.expr"]
    assert failure.tag == "failure" and failure.get("type") == "mismatch"
    assert "5 mismatches" in failure.get("message")
    assert "w.grad[0]: expected 0.0, got -28.0" in failure.text
    assert float(suite.get("time")) == pytest.approx(
        sum(float(c.get("time")) for c in cases.values()), abs=1e-5
    )


def test_junit_xml_holds_any_text(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ctl.expr").write_bytes(b"x = 1\ny = x \x01 2 \x1b\n")
    write_json(tmp_path / "ctl.golden.json", {"value": 1})
    assert run_test("--junit-xml", "r.xml").exit_code == 1
    [case] = ET.parse(tmp_path / "r.xml").getroot().iter("testcase")
    assert case[0].tag == "error"


def test_junit_xml_unwritable(project):
    result = run_test("--junit-xml", str(project / "no" / "such" / "dir.xml"))
    assert result.exit_code == 74 and "cannot write the JUnit XML report" in result.stderr


# -------------------------------------------------------------- JSON output


def test_json_output(project):
    (project / "new.expr").write_text("x = 1\n")
    result = run_test("--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert (doc["passed"], doc["failed"]) == (1, 1)
    files = {f["file"]: f for f in doc["files"]}
    assert files["seed.expr"]["status"] == "pass"
    assert files["seed.expr"]["rtol"] == 1e-7 and files["seed.expr"]["atol"] == 1e-7
    assert (files["new.expr"]["status"], files["new.expr"]["reason"]) == ("fail", "missing")


def test_json_output_mismatch_and_error(project):
    write_json(project / "seed.golden.json", {"nodes": {"w": {"grad": [0, 0, -12, 0, 0]}}})
    (project / "bad.expr").write_text("y = (\n")
    doc = json.loads(run_test("-f", "json", "--atol", "1").stdout)
    files = {f["file"]: f for f in doc["files"]}
    seed = files["seed.expr"]
    assert seed["reason"] == "mismatch" and seed["mismatch_count"] == 4
    first = seed["mismatches"][0]
    # allowed: 1 * 12 (atol, in units of the field's largest magnitude) and
    # w.grad's rounding noise
    assert first.pop("allowed") == pytest.approx(12, rel=1e-9)
    assert first == {
        "where": "w.grad",
        "index": [0],
        "expected": 0.0,
        "got": -28.0,
        "difference": -28.0,
    }
    err = files["bad.expr"]["error"]
    assert (err["file"], err["line"]) == ("bad.expr", 1) and err["text"].startswith("bad.expr:1:")


# ------------------------------------------------------- a real subprocess


def test_console_script_in_a_shell(project):
    here = Path(sys.executable).parent / "autograd-cli"
    script = str(here) if here.exists() else shutil.which("autograd-cli")
    if script is None:
        pytest.skip("the autograd-cli console script is not installed")
    (project / "new.expr").write_text("x = 3\ny = x * x\n")
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    q = shlex.quote(script)
    proc = subprocess.run(
        f"{q} test; echo exit=$?; {q} test --update > /dev/null; "
        f"{q} test --junit-xml r.xml; echo exit=$?",
        shell=True,
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    lines = proc.stdout.splitlines()
    assert lines.count("exit=1") == 1 and lines[-1] == "exit=0", proc.stdout + proc.stderr
    assert lines[-2] == "2 passed, 0 failed"
    assert proc.stderr == ""
    assert ET.parse(project / "r.xml").getroot().get("failures") == "0"


def test_reader_gone_still_tests_every_file(project):
    """`autograd-cli test | head -1`: stdout goes away after a line, yet
    every file is tested, the JUnit report written, and a failure is still
    in the exit code."""
    here = Path(sys.executable).parent / "autograd-cli"
    script = str(here) if here.exists() else shutil.which("autograd-cli")
    if script is None:
        pytest.skip("the autograd-cli console script is not installed")
    for k in range(40):  # enough lines to outlast the pipe's first read
        (project / f"more{k:02}.expr").write_text(f"x = {k}\ny = x * x\n")
    (project / "zz_new.expr").write_text("x = 3\n")  # no golden: a failure
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    q = shlex.quote(script)
    proc = subprocess.run(
        f"{q} test --junit-xml r.xml | head -1; echo exit=${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.stdout.splitlines()[-1] == "exit=1", proc.stdout + proc.stderr
    root = ET.parse(project / "r.xml").getroot()
    assert int(root.get("tests")) >= 42 and int(root.get("failures")) >= 1
    assert "Traceback" not in proc.stderr


def test_a_files_time_counts_no_first_import():
    """The time `test` reports for a file is its own: nothing is imported
    while its clock runs, so the first file is not charged the modules
    every file needs (in a fresh process, as the command runs it)."""
    script = """
import sys, time
from autograd_cli.golden import run
marks = []
def clock():
    marks.append(set(sys.modules))
    return time.perf_counter()
run.time = type("T", (), {"perf_counter": staticmethod(clock)})
outcome = run.check_file(sys.argv[1])
assert outcome.status == "pass", outcome.reason
start, end = marks[0], marks[-1]
# Built-in modules and codecs cost microseconds: not counted.
cheap = set(sys.builtin_module_names)
print(sorted(m for m in end - start if m not in cheap and not m.startswith("encodings.")))
"""
    done = subprocess.run(
        [sys.executable, "-c", script, str(ROOT / "examples" / "bond.expr")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
