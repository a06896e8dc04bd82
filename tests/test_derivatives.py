"""check, hessian and jacobian: against finite differences and each other."""

import numpy as np
import pytest

from autograd_cli.ops import OPS

from clitools import invoke, strict_json, write
from common import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.expr"))


# -------------------------------------------------------------------- check


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_check_passes_on_every_example(path):
    result = invoke(["check", path, "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = strict_json(result.stdout)
    assert list(doc)[:6] == ["schema", "file", "target", "dtype", "ok", "check"]
    assert doc["ok"] is True
    for row in doc["check"].values():
        assert row["ok"] is True
        assert row["max_abs_err"] < 1e-6
        assert list(row)[:4] == ["ok", "max_abs_err", "max_rel_err", "worst_index"]


def test_check_names_params_else_inputs(tmp_path):
    doc = strict_json(invoke(["check", ROOT / "examples/seed.expr", "-f", "json"]).stdout)
    assert list(doc["check"]) == ["w"]
    path = write(tmp_path, "x = 2\ny = 3\nL = x * y ** 2\n")
    doc = strict_json(invoke(["check", path, "-f", "json"]).stdout)
    assert list(doc["check"]) == ["x", "y"]


def test_check_catches_a_wrong_gradient(monkeypatch):
    """Break tanh's derivative: the check must fail, exit 1, and say where."""
    monkeypatch.setattr(OPS["tanh"], "vjps", (lambda g, ans, x: g,))
    result = invoke(["check", ROOT / "examples/mlp.expr"])
    assert result.exit_code == 1
    assert "FAIL" in result.stdout
    doc = strict_json(invoke(["check", ROOT / "examples/mlp.expr", "-f", "json"]).stdout)
    assert doc["ok"] is False
    assert doc["check"]["W1"]["ok"] is False
    assert doc["check"]["b2"]["ok"] is True  # the output bias does not go through tanh


def test_check_tolerances_decide(tmp_path):
    path = write(tmp_path, "param x = 0.7\nL = exp(x) * sin(x)\n")
    assert invoke(["check", path]).exit_code == 0
    # an eps so large that central differences are visibly off
    assert invoke(["check", path, "--eps", "0.1"]).exit_code == 1
    assert invoke(["check", path, "--eps", "0.1", "--rtol", "0.01"]).exit_code == 0


@pytest.mark.parametrize(
    "expr, noted",
    [
        ("sum(relu(x))", True),  # reverse mode says 0, differences say 1/2
        ("sum(clip(x, 0, 2))", True),  # reverse mode passes 1 at the bound
        ("sum(abs(x))", False),  # both say 0
        ("max(x)", False),  # a tie: both share the gradient
        ("sum(maximum(x, 0))", False),  # both give each side half
    ],
)
def test_a_kink_is_noted_not_failed(tmp_path, expr, noted):
    path = write(tmp_path, f"param x = [0, 1, 1]\nL = {expr}\n")
    result = invoke(["check", path, "-f", "json"])
    assert result.exit_code == 0, result.output
    row = strict_json(result.stdout)["check"]["x"]
    assert row["ok"] is True
    assert ("line 2" in row.get("note", "")) == noted


def test_a_real_failure_is_not_excused_by_an_unrelated_kink(tmp_path, monkeypatch):
    monkeypatch.setattr(OPS["exp"], "vjps", (lambda g, ans, x: g,))
    path = write(tmp_path, "param x = [0, 1]\nparam y = 0.5\nL = sum(relu(x)) + exp(y)\n")
    doc = strict_json(invoke(["check", path, "-f", "json"]).stdout)
    assert doc["check"]["x"]["ok"] is True and "relu at 0" in doc["check"]["x"]["note"]
    assert doc["check"]["y"]["ok"] is False and "note" not in doc["check"]["y"]


def test_check_in_float32_uses_float64_differences():
    result = invoke(["check", ROOT / "examples/softmax.expr", "--dtype", "float32", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = strict_json(result.stdout)
    assert doc["dtype"] == "float32"
    assert all(row["max_abs_err"] < 1e-5 for row in doc["check"].values())


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_check_order_2_passes_on_every_example(path):
    result = invoke(["check", path, "--order", "2", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = strict_json(result.stdout)
    assert doc["order"] == 2 and doc["ok"] is True


def test_check_reads_stdin_once_in_float32():
    text = (ROOT / "examples/seed.expr").read_text()
    result = invoke(["check", "-", "--dtype", "float32", "-f", "json"], input=text)
    assert result.exit_code == 0, result.output
    assert strict_json(result.stdout)["file"] == "-"


# ------------------------------------------------------------------ hessian


def test_hessian_of_a_cube(tmp_path):
    path = write(tmp_path, "param x = 2\nL = x ** 3\n")
    doc = strict_json(invoke(["hessian", path, "-f", "json"]).stdout)
    assert doc["hessian"] == {"x": {"x": 12.0}}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_hessian_is_symmetric_and_matches_differences(path):
    result = invoke(["hessian", path, "-f", "json"])
    assert result.exit_code == 0, result.output
    blocks = strict_json(result.stdout)["hessian"]
    names = list(blocks)
    sizes = {a: int(round(np.sqrt(np.array(blocks[a][a]).size))) for a in names}
    full = np.block(
        [[np.array(blocks[a][b]).reshape(sizes[a], sizes[b]) for b in names] for a in names]
    )
    np.testing.assert_allclose(full, full.T, rtol=1e-10, atol=1e-12)
    checked = strict_json(invoke(["check", path, "--order", "2", "-f", "json"]).stdout)
    assert checked["ok"] is True


def test_hessian_wrt_selects_blocks():
    doc = strict_json(
        invoke(["hessian", ROOT / "examples/logistic.expr", "--wrt", "b", "-f", "json"]).stdout
    )
    assert list(doc["hessian"]) == ["b"] and list(doc["hessian"]["b"]) == ["b"]


def test_hessian_wrt_a_node_is_an_error():
    result = invoke(["hessian", ROOT / "examples/seed.expr", "--wrt", "b1"])
    assert result.exit_code == 1
    assert "computed from other nodes" in result.stderr
    assert result.stdout == ""


def test_hessian_needs_a_scalar_target():
    result = invoke(["hessian", ROOT / "examples/logistic.expr", "--of", "p"])
    assert result.exit_code == 1
    assert "sum(p)" in result.stderr


# ----------------------------------------------------------------- jacobian


def test_jacobian_matches_finite_differences():
    from autograd_cli.compiling import load
    from autograd_cli.engine import evaluate
    from autograd_cli.errors import Source

    path = ROOT / "examples/logistic.expr"
    doc = strict_json(invoke(["jacobian", path, "--of", "p", "--wrt", "w", "-f", "json"]).stdout)
    jac = np.array(doc["jacobian"]["w"])
    assert jac.shape == (6, 2)
    model = load(Source(str(path), path.read_text()))
    wn, pn = model.by_name["w"].node, model.by_name["p"].node
    base = evaluate(model.graph)[wn]
    eps = 1e-6
    for j in range(2):
        up, down = base.copy(), base.copy()
        up[j] += eps
        down[j] -= eps
        fd = (evaluate(model.graph, {wn: up})[pn] - evaluate(model.graph, {wn: down})[pn]) / (
            2 * eps
        )
        np.testing.assert_allclose(jac[:, j], fd, rtol=1e-6, atol=1e-9)


def test_jacobian_of_a_scalar_is_the_gradient():
    doc = strict_json(invoke(["jacobian", ROOT / "examples/seed.expr", "-f", "json"]).stdout)
    assert doc["jacobian"]["w"] == [-28.0, -21.0, -12.0, -23.0, -36.0]


def test_jacobian_shape_is_target_then_param(tmp_path):
    path = write(tmp_path, "param W = [[1, 2], [3, 4], [5, 6]]\nx = [1, -1]\ny = W @ x\n")
    doc = strict_json(invoke(["jacobian", path, "--wrt", "W", "-f", "json"]).stdout)
    jac = np.array(doc["jacobian"]["W"])
    assert jac.shape == (3, 3, 2)
    # d y_i / d W_jk = [i == j] x_k
    want = np.einsum("ij,k->ijk", np.eye(3), np.array([1.0, -1.0]))
    np.testing.assert_array_equal(jac, want)


def test_jacobian_size_is_limited(tmp_path):
    path = write(tmp_path, "param w = ones(200)\ny = w * 2\n")
    result = invoke(["jacobian", path, "--max-elements", "1000"])
    assert result.exit_code == 1
    assert "over the limit" in result.stderr


def test_eval_points_a_vector_target_to_jacobian():
    result = invoke(["eval", ROOT / "examples/logistic.expr", "--of", "p"])
    assert result.exit_code == 1
    assert "autograd-cli jacobian --of p" in result.stderr


@pytest.mark.parametrize("command", ["check", "hessian", "jacobian"])
def test_errors_are_located_and_exit_1(tmp_path, command):
    path = write(tmp_path, "param a = 1\nb = a * zz\n")
    result = invoke([command, path])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{path}:2:9: error: undefined name 'zz'")
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["check", "hessian", "jacobian"])
def test_tables_render(command):
    result = invoke(
        [command, ROOT / "examples/logistic.expr"]
        + (["--of", "p"] if command == "jacobian" else [])
    )
    assert result.exit_code == 0, result.output
    assert "examples/logistic.expr" in result.stdout


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_jacobian_of_the_target_is_evals_gradient_on_every_example(path):
    jac = strict_json(invoke(["jacobian", path, "-f", "json"]).stdout)["jacobian"]
    nodes = strict_json(invoke(["eval", path, "-f", "json"]).stdout)["nodes"]
    assert jac, path
    for name, block in jac.items():
        np.testing.assert_allclose(
            np.array(block), np.array(nodes[name]["grad"]), rtol=1e-12, atol=1e-15
        )


@pytest.mark.parametrize(
    "command",
    [
        ["check"],
        ["check", "--order", "2"],
        ["hessian"],
        ["jacobian"],
        ["graph"],
        ["explain", "--wrt", "w[0]"],
        ["eval"],
    ],
)
def test_a_one_element_vector_target_works_everywhere(tmp_path, command):
    """A target of shape (1,) is a scalar for gradients (found by fuzzing check)."""
    path = write(
        tmp_path, "param w = [0.5, -0.3]\nv = max([1, 2]) + [1, 2][1:]\nL = v * w[0] / 2.5\n"
    )
    result = invoke([command[0], path, *command[1:]])
    assert result.exit_code == 0, result.output
