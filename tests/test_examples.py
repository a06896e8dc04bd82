"""The shipped examples: golden JSON files, and gradients against finite differences.

Each examples/NAME.expr has examples/NAME.golden.json beside it, made with
``autograd-cli eval examples/NAME.expr --format json > examples/NAME.golden.json``
and checked by hand (and below, against finite differences) when it changes.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from autograd_cli.cli import app
from autograd_cli.compiling import load
from autograd_cli.errors import Source
from autograd_cli.running import run
from autograd_cli.sources import Access

from common import SEED_DOC

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.expr"))
RTOL, ATOL = 1e-9, 1e-12


def _close(got, want, where):
    """Numbers within tolerance; strings ("nan", "inf"), keys and lists exactly."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want), where
        for k in want:
            _close(got[k], want[k], f"{where}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            _close(g, w, f"{where}[{i}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert isinstance(got, (int, float)), where
        assert abs(got - want) <= ATOL + RTOL * abs(want), f"{where}: {got} != {want}"
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"


def test_every_example_has_a_golden_file():
    assert len(EXAMPLES) >= 5
    for path in EXAMPLES:
        assert path.with_suffix(".golden.json").is_file(), path


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_matches_its_golden_file(path, monkeypatch):
    monkeypatch.chdir(ROOT)
    rel = path.relative_to(ROOT).as_posix()
    result = CliRunner().invoke(app, ["eval", rel, "--format", "json"])
    assert result.exit_code == 0, result.output
    want = json.loads(path.with_suffix(".golden.json").read_text())
    _close(json.loads(result.stdout), want, path.stem)


def test_seed_example_is_the_blog_post_and_the_spec_document(monkeypatch):
    """The numbers of the worked example the project grew from, exactly."""
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["eval", "examples/seed.expr", "--format", "json"])
    doc = json.loads(result.stdout)
    assert doc == SEED_DOC
    assert list(doc) == ["schema", "file", "target", "dtype", "value", "nodes", "warnings"]


def _finite_difference(model, name, eps=1e-6):
    """Central differences of the target for every element of leaf `name`."""
    from autograd_cli.engine import evaluate

    graph = model.graph
    node = model.by_name[name].node
    target = model.bindings[-1].node
    base = evaluate(graph)[node]
    out = np.zeros(base.shape)
    for idx in np.ndindex(base.shape):
        f = []
        for step in (eps, -eps):
            x = np.array(base)  # a writable copy, scalars too
            x[idx] += step
            f.append(float(evaluate(graph, {node: x})[target]))
        out[idx] = (f[0] - f[1]) / (2 * eps)
    return out


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_gradients_match_finite_differences(path):
    # The file's `load`s read beside it, as on the command line.
    model = load(Source(str(path), path.read_text()), access=Access.of_file(str(path)))
    report = run(model)
    leaves = [b.name for b in model.bindings if b.kind != "node"]
    for name in leaves:
        fd = _finite_difference(model, name)
        np.testing.assert_allclose(
            report.grads[name], fd, rtol=1e-6, atol=1e-6, err_msg=f"{path.stem}: {name}"
        )


def test_bond_duration_matches_the_closed_form():
    """dP/dr of a bond is -sum(t * cashflow_t / (1 + r)**(t + 1))."""
    model = load(Source("bond.expr", (ROOT / "examples" / "bond.expr").read_text()))
    report = run(model)
    r, t = 0.035, np.arange(1, 6)
    cash = np.array([4, 4, 4, 4, 104.0])
    assert report.values["P"] == pytest.approx(np.sum(cash / (1 + r) ** t), rel=1e-12)
    assert report.grads["r"] == pytest.approx(-np.sum(t * cash / (1 + r) ** (t + 1)), rel=1e-12)


def test_projectile_range_is_flat_at_45_degrees():
    model = load(Source("projectile.expr", (ROOT / "examples" / "projectile.expr").read_text()))
    report = run(model)
    assert report.values["R"] == pytest.approx(20.0**2 / 9.81, rel=1e-12)
    assert abs(report.grads["theta"]) < 1e-12
    assert report.grads["v"] == pytest.approx(2 * 20.0 / 9.81, rel=1e-12)


def test_danwood_reads_nist_data_and_fits_to_the_certified_values(monkeypatch, tmp_path):
    """examples/danwood.csv holds NIST's DanWood data; the example's fit
    from NIST's first start reaches the certified values, and its --out
    evaluates the file at the optimum."""
    import nist

    problem = nist.Problem("DanWood")
    path = ROOT / "examples" / "danwood.expr"
    model = load(Source(str(path), path.read_text()), access=Access.of_file(str(path)))
    report = run(model)
    assert list(report.values["T"]) == [float(v) for v in problem.columns["x"]]
    assert list(report.values["E"]) == [float(v) for v in problem.columns["y"]]
    assert [report.values["b1"], report.values["b2"]] == [float(v) for v in problem.starts[0]]

    monkeypatch.chdir(ROOT)
    out = tmp_path / "fit.json"
    args = ["fit", "examples/danwood.expr", "--residuals", "r", "-f", "json", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    fit = json.loads(result.stdout)["fit"]
    assert fit["converged"] is True
    for i, name in enumerate(["b1", "b2"]):
        assert fit["params"][name]["value"] == pytest.approx(problem.certified[i], rel=1e-8)
        assert fit["params"][name]["stderr"] == pytest.approx(problem.stderr[i], rel=1e-6)
    at_optimum = CliRunner().invoke(
        app, ["eval", "examples/danwood.expr", "--set-json", str(out), "-f", "json"]
    )
    assert at_optimum.exit_code == 0, at_optimum.output
    assert json.loads(at_optimum.stdout)["value"] == pytest.approx(fit["objective"]["end"])


def test_every_command_works_on_a_fitted_file(monkeypatch, tmp_path):
    """The DanWood example at the point its fit found (--out read back with
    --set-json): the other commands run on it, and check's derivatives
    agree with finite differences there."""
    monkeypatch.chdir(ROOT)
    out = tmp_path / "fit.json"
    fitted = CliRunner().invoke(
        app, ["fit", "examples/danwood.expr", "--residuals", "r", "--out", str(out)]
    )
    assert fitted.exit_code == 0, fitted.output
    for command in (
        ["eval"],
        ["check", "-f", "json"],
        ["hessian", "--wrt", "b1", "--wrt", "b2"],
        ["jacobian", "--of", "r"],
        ["graph"],
        ["explain", "--wrt", "b1"],
    ):
        args = [command[0], "examples/danwood.expr", *command[1:], "--set-json", str(out)]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, (command, result.output)
        assert "Traceback" not in result.output
        if command[0] == "check":
            assert json.loads(result.stdout)["ok"] is True
