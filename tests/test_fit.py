"""`autograd-cli fit`: its derivatives against finite differences, the
report, --out, the errors, convergence and Ctrl-C, and the first-order
methods' wiring."""

import contextlib
import math
import os
import stat
import sys
import threading

import nist
import numpy as np
import pytest

from autograd_cli.compiling import load
from autograd_cli.errors import ExprError, Source
from autograd_cli.fitting import job as fit_job
from autograd_cli.fitting import methods as fit_methods
from autograd_cli.fitting.job import Job
from autograd_cli.fitting.methods import Settings
from autograd_cli.fitting.problem import Problem
from autograd_cli.fitting.report import standard_errors

from clitools import invoke, strict_json, write
from common import ROOT

MISRA = ROOT / "examples" / "misra1a.expr"

# A problem with parameters of several shapes, where the Hessian is not
# constant: residuals of a small model, and a scalar target of them.
SHAPED = """x = [0.1, 0.4, 0.9, 1.3, 2.0, 2.6]
y = [1.2, 1.9, 2.2, 3.1, 2.4, 1.7]
param w = [0.5, -0.3]
param c = 1.1
param M = [[0.2, 0.1], [-0.4, 0.3]]
h = tanh(w[0] * x + M[0, 1]) + w[1] * sin(x * M[1, 0]) + c * exp(-M[1, 1] * x)
r = y - h
L = sum(r ** 2) + 0.1 * sum(w ** 2)
"""


def model_of(text, dtype="float64"):
    return load(Source("t.expr", text), dtype=dtype, keep_exprs=False)


def problem_of(text, residuals=None, target="L"):
    model = model_of(text)
    names = [b.name for b in model.bindings if b.kind == "param"]
    node = model.by_name[residuals].node if residuals else None
    return Problem(model, names, None if residuals else model.by_name[target].node, node)


def central(f, x, eps=1e-6):
    """Central differences of `f` (vector-valued or scalar) at `x`, a
    column per element of x."""
    cols = []
    for k in range(len(x)):
        e = np.zeros_like(x)
        e[k] = eps
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * eps))
    return np.stack(cols, axis=-1)


# ------------------------------------------------ derivatives against an oracle


def test_gradient_against_finite_differences():
    p = problem_of(SHAPED)
    x = p.start() + 0.05 * np.arange(p.size)
    np.testing.assert_allclose(p.gradient(x), central(p.objective, x), rtol=1e-6, atol=1e-8)


def test_jacobian_against_finite_differences():
    p = problem_of(SHAPED, residuals="r")
    x = p.start() - 0.03 * np.arange(p.size)
    J = p.jacobian(x)
    assert J.shape == (6, p.size)
    np.testing.assert_allclose(J, central(p.residual_vector, x), rtol=1e-6, atol=1e-8)
    # The objective of least squares is the sum of squares: its gradient 2 Jᵀr.
    np.testing.assert_allclose(p.gradient(x), 2 * J.T @ p.residual_vector(x), rtol=1e-10)


def test_jacobian_by_reverse_mode_when_residuals_are_few():
    # Two residuals, seven parameter elements: one reverse sweep per residual.
    text = SHAPED.replace("r = y - h", "r = [sum(y - h), sum((y - h) * x)]")
    p = problem_of(text, residuals="r")
    x = p.start() + 0.01
    assert p.m < p.size
    np.testing.assert_allclose(p.jacobian(x), central(p.residual_vector, x), rtol=1e-6, atol=1e-8)


def test_hessian_against_finite_differences_of_the_gradient():
    p = problem_of(SHAPED)
    x = p.start() + 0.02
    H = p.hessian(x)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(H, central(p.gradient, x, eps=1e-5), rtol=1e-5, atol=1e-7)


def test_standard_errors_are_the_covariance_formula():
    rng = np.random.default_rng(3)
    J = rng.normal(size=(20, 4))
    r = rng.normal(size=20)
    s2 = r @ r / (20 - 4)
    want = np.sqrt(np.diag(s2 * np.linalg.inv(J.T @ J)))
    np.testing.assert_allclose(standard_errors(J, r), want, rtol=1e-12)
    assert np.isnan(standard_errors(J[:4], r[:4])).all()  # no degrees of freedom left
    J[:, 3] = J[:, 2]
    assert np.isnan(standard_errors(J, r)).all()  # a parameter the data cannot tell apart


# ------------------------------------------------------------ the command


def test_misra1a_json_report():
    problem = nist.Problem("Misra1a")
    result = invoke(["fit", MISRA, "--residuals", "r", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    doc = strict_json(result.stdout)
    assert (doc["file"], doc["target"], doc["dtype"]) == (str(MISRA), "r", "float64")
    fit = doc["fit"]
    assert fit["method"] == "trf" and fit["converged"] is True
    # The example fits k = b2 * 10^4 from NIST's second start.
    assert list(fit["params"]) == ["b1", "k"]
    for i, (name, scale) in enumerate([("b1", 1), ("k", 1e4)]):
        entry = fit["params"][name]
        assert entry["start"] == pytest.approx(float(problem.starts[1][i]) * scale, rel=1e-15)
        assert entry["value"] == pytest.approx(problem.certified[i] * scale, rel=1e-8)
        assert entry["stderr"] == pytest.approx(problem.stderr[i] * scale, rel=1e-6)
    assert fit["objective"]["end"] == pytest.approx(1.2455138894e-01, rel=1e-9)
    history = fit["history"]
    assert history[0] == [0, fit["objective"]["start"]]
    assert [s for s, _ in history] == list(range(len(history)))
    assert history[-1][1] == pytest.approx(fit["objective"]["end"], rel=1e-12)
    assert fit["steps"] == len(history) - 1
    assert fit["evaluations"]["function"] >= fit["steps"]


def test_misra1a_table():
    result = invoke(["fit", MISRA, "--residuals", "r"])
    assert result.exit_code == 0, result.stderr
    assert "by trf: converged" in result.stdout
    assert "std. error" in result.stdout and "238.942" in result.stdout


def test_out_round_trips_through_set_json(tmp_path):
    out = tmp_path / "fitted.json"
    result = invoke(["fit", MISRA, "--residuals", "r", "-f", "json", "--out", out])
    assert result.exit_code == 0, result.stderr
    fit = strict_json(result.stdout)["fit"]
    saved = strict_json(out.read_text())
    assert saved == {n: p["value"] for n, p in fit["params"].items()}
    back = invoke(["eval", MISRA, "--set-json", out, "--format", "json"])
    assert back.exit_code == 0, back.stderr
    nodes = strict_json(back.stdout)["nodes"]
    assert nodes["b1"]["value"] == saved["b1"] and nodes["k"]["value"] == saved["k"]
    assert nodes["rss"]["value"] == pytest.approx(fit["objective"]["end"], rel=1e-12)
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file went with the rename
    # The other commands take the fitted values too.
    checked = invoke(["check", MISRA, "--set-json", out, "--format", "json"])
    assert checked.exit_code == 0, checked.stdout
    assert strict_json(checked.stdout)["set"] == saved


def test_scalar_target_methods_reach_the_same_minimum():
    for method in ("bfgs", "newton"):
        result = invoke(["fit", MISRA, "--method", method, "-f", "json"])
        assert result.exit_code == 0, (method, result.stderr)
        fit = strict_json(result.stdout)["fit"]
        assert fit["method"] == method and fit["converged"], fit["reason"]
        assert "stderr" not in fit["params"]["b1"]
        assert fit["objective"]["end"] == pytest.approx(1.2455138894e-01, rel=1e-6)
        assert fit["params"]["b1"]["value"] == pytest.approx(238.94212918, rel=1e-6)
    newton = strict_json(invoke(["fit", MISRA, "--method", "newton", "-f", "json"]).stdout)
    assert newton["fit"]["evaluations"]["hessian"] > 0


def test_lbfgs_is_the_default_without_residuals(tmp_path):
    path = write(tmp_path, "param w = [3, -2]\nL = sum((w - [1, 2]) ** 2)\n")
    result = invoke(["fit", path, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    fit = strict_json(result.stdout)["fit"]
    assert fit["method"] == "lbfgs" and fit["converged"]
    assert fit["params"]["w"]["value"] == pytest.approx([1, 2], abs=1e-6)
    assert fit["params"]["w"]["grad"] == pytest.approx([0, 0], abs=1e-5)


def test_wrt_fits_only_the_named_params(tmp_path):
    path = write(tmp_path, "param a = 5\nparam b = 7\nL = (a - 1) ** 2 + (b - a) ** 2\n")
    fit = strict_json(invoke(["fit", path, "--wrt", "b", "-f", "json"]).stdout)["fit"]
    assert list(fit["params"]) == ["b"]
    assert fit["params"]["b"]["value"] == pytest.approx(5, abs=1e-6)


def test_lm_fits_misra1a_too():
    result = invoke(["fit", MISRA, "--residuals", "r", "--method", "lm", "-f", "json"])
    fit = strict_json(result.stdout)["fit"]
    assert fit["method"] == "lm" and fit["converged"]
    assert fit["params"]["k"]["value"] == pytest.approx(5.5015643181, rel=1e-8)


def test_float32_fit(tmp_path):
    path = write(tmp_path, "param w = [3, -2]\nL = sum((w - [1, 2]) ** 2)\n")
    result = invoke(["fit", path, "--dtype", "float32", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    doc = strict_json(result.stdout)
    assert doc["dtype"] == "float32"
    assert doc["fit"]["params"]["w"]["value"] == pytest.approx([1, 2], abs=1e-4)


# ------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "args,message",
    [
        (["--method", "lm"], "--method lm is least squares"),
        (["--residuals", "q"], "there is no binding named 'q'"),
        (["--residuals", "r", "--of", "rss"], "give one of them"),
        (["--of", "r"], "need a scalar target"),
        (["--wrt", "model"], "is computed from other nodes"),
    ],
)
def test_input_errors(args, message):
    result = invoke(["fit", MISRA, *args])
    assert result.exit_code == 1, result.stdout
    assert result.stdout == ""
    assert message in result.stderr and ": error: " in result.stderr
    assert "Traceback" not in result.stderr


def test_no_params_is_an_error(tmp_path):
    path = write(tmp_path, "x = 3\ny = x ** 2\n")
    result = invoke(["fit", path])
    assert result.exit_code == 1 and result.stdout == ""
    assert "has no param to fit" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--lr", "0.1"],
        ["--momentum", "0.9", "--method", "adam"],
        ["--nesterov"],
        ["--method", "sgd", "--nesterov"],
        ["--method", "sgd", "--nesterov", "--momentum", "0"],
        ["--method", "newtn"],
        ["--steps", "-1"],
        ["--tol", "-1"],
        ["--out", ""],
        ["--method", "sgd", "--lr", "inf"],
        ["--method", "adam", "--lr", "nan"],
        ["--method", "sgd", "--momentum", "inf"],
        ["--method", "adam", "--weight-decay", "inf"],
        ["--method", "sgd", "--weight-decay", "1e999"],
    ],
)
def test_usage_errors(args):
    result = invoke(["fit", MISRA, *args])
    assert result.exit_code == 2 and result.stdout == ""
    assert "Traceback" not in result.stderr


def test_unwritable_out(tmp_path):
    result = invoke(["fit", MISRA, "--residuals", "r", "--out", tmp_path / "no" / "f.json"])
    assert result.exit_code == 74
    assert "cannot write --out" in result.stderr


# ------------------------------------------------ convergence, steps, Ctrl-C


def test_not_converged_warns_and_exits_0_or_1_with_strict():
    result = invoke(["fit", MISRA, "--residuals", "r", "--steps", "3", "-f", "json"])
    assert result.exit_code == 0
    assert "warning: the fit did not converge: step limit reached" in result.stderr
    assert strict_json(result.stdout)["fit"]["converged"] is False
    strict = invoke(["fit", MISRA, "--residuals", "r", "--steps", "3", "--strict"])
    assert strict.exit_code == 1
    assert "by trf: not converged" in strict.stdout


def test_tol_0_runs_every_step_without_a_warning():
    result = invoke(["fit", MISRA, "--method", "bfgs", "--steps", "3", "--tol", "0", "-f", "json"])
    fit = strict_json(result.stdout)["fit"]
    assert result.exit_code == 0 and result.stderr == ""
    assert fit["steps"] == 3 and fit["reason"] == "step limit reached"


def _interrupt_after(monkeypatch, calls):
    real = Problem.jacobian
    seen = []

    def jacobian(self, x):
        seen.append(1)
        if len(seen) > calls:
            raise KeyboardInterrupt
        return real(self, x)

    monkeypatch.setattr(Problem, "jacobian", jacobian)


def test_ctrl_c_keeps_the_best_point(monkeypatch):
    _interrupt_after(monkeypatch, 5)
    job = Job(model_of(MISRA.read_text()), Settings(), residuals="r")
    outcome = fit_methods.minimise(job.problem, job.settings)
    assert outcome.reason == "interrupted" and not outcome.converged
    best = min(f for _, f in outcome.history)
    assert job.problem.objective(outcome.x) <= best
    assert outcome.steps == len(outcome.history) - 1 == 4


def test_ctrl_c_reports_writes_out_and_exits_130(monkeypatch, tmp_path):
    out = tmp_path / "best.json"
    real = Problem.jacobian
    _interrupt_after(monkeypatch, 4)
    # The report's own Jacobian (for the standard errors) runs after the
    # interruption: let it through.
    monkeypatch.setattr(
        fit_job, "minimise", _and_then(fit_methods.minimise, Problem, "jacobian", real)
    )
    result = invoke(["fit", MISRA, "--residuals", "r", "-f", "json", "--out", out])
    assert result.exit_code == 130, result.stderr
    fit = strict_json(result.stdout)["fit"]
    assert fit["reason"] == "interrupted" and fit["converged"] is False
    assert strict_json(out.read_text()) == {n: p["value"] for n, p in fit["params"].items()}
    assert fit["objective"]["end"] <= min(f for _, f in fit["history"])


def _and_then(minimise, cls, name, restore):
    def run(*args, **kwargs):
        try:
            return minimise(*args, **kwargs)
        finally:
            setattr(cls, name, restore)

    return run


# ------------------------------------------------ first-order methods


def _sgd_by_hand(w, lr, momentum, nesterov, wd, steps):
    """The iterates of torch.optim.SGD on L = sum((w - t)²), written out."""
    t = np.array([1.0, 2.0])
    w = np.array(w, dtype=np.float64)
    buf = None
    for _ in range(steps):
        g = 2 * (w - t) + wd * w
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + g
            g = g + momentum * buf if nesterov else buf
        w = w - lr * g
    return w


@pytest.mark.parametrize(
    "extra,momentum,nesterov,wd",
    [
        ([], 0, False, 0),
        (["--momentum", "0.9", "--nesterov", "--weight-decay", "0.01"], 0.9, True, 0.01),
    ],
)
def test_sgd_runs_exactly_steps_with_tol_0(tmp_path, extra, momentum, nesterov, wd):
    path = write(tmp_path, "param w = [3, -2]\nL = sum((w - [1, 2]) ** 2)\n")
    args = ["fit", path, "--method", "sgd", "--lr", "0.05", "--steps", "25", "--tol", "0"]
    result = invoke([*args, *extra, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    fit = strict_json(result.stdout)["fit"]
    assert fit["steps"] == 25 and len(fit["history"]) == 26
    assert fit["converged"] is False and fit["reason"] == "step limit reached"
    want = _sgd_by_hand([3, -2], 0.05, momentum, nesterov, wd, 25)
    np.testing.assert_allclose(fit["params"]["w"]["value"], want, rtol=1e-12)


def test_adam_stops_on_the_gradient(tmp_path):
    # A scalar param beside a vector: both reach the optimiser.
    text = "param w = [3, -2]\nparam c = 0.5\nL = sum((w - [1, 2]) ** 2) + (c - 1) ** 2\n"
    path = write(tmp_path, text)
    result = invoke(
        ["fit", path, "--method", "adam", "--lr", "0.1", "--steps", "5000", "-f", "json"]
    )
    fit = strict_json(result.stdout)["fit"]
    assert result.exit_code == 0, result.stderr
    assert fit["converged"] and fit["reason"] == "gradient below tolerance"
    assert max(abs(g) for g in fit["params"]["w"]["grad"]) <= 1e-5
    assert abs(fit["params"]["c"]["grad"]) <= 1e-5
    assert fit["params"]["c"]["value"] == pytest.approx(1, abs=1e-5)


def test_first_order_argument_errors_are_reported():
    # The command line refuses --nesterov without --momentum before this
    # (a usage error); a caller of the fitting package gets the optimiser's
    # refusal as a located error, not a ValueError.
    model = model_of("param w = [3, -2]\nL = sum((w - [1, 2]) ** 2)\n")
    job = Job(model, Settings("sgd", 10, nesterov=True))
    with pytest.raises(ExprError, match="^--method sgd: Nesterov momentum requires a momentum"):
        job.run()


def test_progress_bar_only_on_a_terminal(monkeypatch):
    import io

    from autograd_cli.commands import fit

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    with fit._fit_progress("fit t", 10) as bar:
        bar.update(3, 1.5, 0.25)
    text = screen.getvalue()
    assert "fit t" in text and "objective 1.5" in text and "0.25" in text
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with fit._fit_progress("fit t", 10) as bar:
        assert bar is None


def test_objective_math():
    # The objective of least squares is the residual sum of squares itself.
    p = problem_of(SHAPED, residuals="r")
    x = p.start()
    r = p.residual_vector(x)
    assert p.objective(x) == pytest.approx(float(r @ r), rel=1e-14)
    assert math.isfinite(p.objective(x))


@pytest.mark.parametrize(
    "text,message",
    [
        ("param a = -1\nL = log(a)\n", "the target 'L' is nan at the start"),
        ("x = [1, 2]\nparam a = 0\nr = x / a\n", "the sum of squares of 'r' is inf at the start"),
        ("param w = zeros(0)\nL = sum(w)\n", "nothing to fit: w has no elements"),
    ],
)
def test_a_start_that_cannot_be_fitted_is_an_error(tmp_path, text, message):
    args = ["--residuals", "r"] if "r =" in text else []
    result = invoke(["fit", write(tmp_path, text), *args])
    assert result.exit_code == 1 and result.stdout == ""
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("method", ["trf", "lm"])
def test_tol_0_for_least_squares(method):
    # trf keeps only the gradient test (at machine epsilon), lm all three
    # there (MINPACK allows no less); neither is a usage error or a bug.
    args = ["fit", MISRA, "--residuals", "r", "--method", method, "--tol", "0", "--steps", "40"]
    result = invoke([*args, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    fit = strict_json(result.stdout)["fit"]
    assert fit["params"]["b1"]["value"] == pytest.approx(238.94212918, rel=1e-8)
    if method == "trf":
        assert fit["reason"] in ("step limit reached", "gradient below tolerance")
        assert result.stderr == ""


# ------------------------------------------------ --out: nothing clobbered


def _fit_file(tmp_path):
    path = write(tmp_path, "param a = 1\nL = (a - 3) ** 2\n", "m.expr")
    return path, path.read_text()


@pytest.mark.parametrize("how", ["same", "dotted", "absolute", "hard link", "symlink"])
def test_out_never_replaces_the_file_being_fitted(tmp_path, how):
    path, text = _fit_file(tmp_path)
    out = {
        "same": "m.expr",
        "dotted": "./m.expr",
        "absolute": str(path),
        "hard link": "h.expr",
        "symlink": "s.expr",
    }[how]
    if how == "hard link":
        os.link(path, tmp_path / out)
    elif how == "symlink":
        os.symlink("m.expr", tmp_path / out)
    with _cwd(tmp_path):
        result = invoke(["fit", "m.expr", "--out", out])
    assert result.exit_code == 2 and result.stdout == ""
    assert "is the file being fitted" in result.stderr
    assert path.read_text() == text
    assert os.path.islink(tmp_path / out) == (how == "symlink")


def test_out_through_a_link_or_to_a_directory_is_refused(tmp_path):
    path, _ = _fit_file(tmp_path)
    other = tmp_path / "other.json"
    other.write_text("keep")
    os.symlink("other.json", tmp_path / "link.json")
    result = invoke(["fit", path, "--out", tmp_path / "link.json"])
    assert result.exit_code == 74 and "cannot write --out" in result.stderr
    assert other.read_text() == "keep" and os.path.islink(tmp_path / "link.json")
    (tmp_path / "d").mkdir()
    result = invoke(["fit", path, "--out", tmp_path / "d"])
    assert result.exit_code == 74 and "cannot write --out" in result.stderr


def test_out_to_a_device_is_refused_and_the_device_kept(tmp_path):
    # A node of /dev/full's device in the temporary folder: were it replaced,
    # the machine's own /dev/full would be untouched.
    path, _ = _fit_file(tmp_path)
    full = tmp_path / "full"
    try:
        os.mknod(full, stat.S_IFCHR | 0o666, os.stat("/dev/full").st_rdev)
    except (OSError, AttributeError) as e:
        pytest.skip(f"cannot make a device node here (root only): {e}")
    result = invoke(["fit", path, "--out", full])
    assert result.exit_code == 74 and "cannot write --out" in result.stderr
    assert result.stdout == ""
    info = os.lstat(full)
    assert stat.S_ISCHR(info.st_mode) and info.st_rdev == os.stat("/dev/full").st_rdev
    assert sorted(os.listdir(tmp_path)) == ["full", "m.expr"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_out_to_a_fifo_is_written_into_it(tmp_path):
    path, _ = _fit_file(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    result = invoke(["fit", path, "--out", fifo])
    reader.join(10)
    assert result.exit_code == 0, result.stderr
    assert strict_json(got[0])["a"] == pytest.approx(3, abs=1e-4)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@contextlib.contextmanager
def _cwd(path):
    here = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(here)


@pytest.mark.parametrize("method", fit_methods.METHODS)
def test_steps_0_reports_the_start_and_a_huge_limit_is_taken(tmp_path, method):
    path = write(tmp_path, "x = [1, 2, 3]\nparam a = 1\nr = 2 * x - a * x\nL = sum(r ** 2)\n")
    args = ["fit", path, "-f", "json", "--method", method]
    if method in fit_methods.LEAST_SQUARES:
        args += ["--residuals", "r"]
    if method in fit_methods.FIRST_ORDER:
        args += ["--lr", "0.01"]
    result = invoke(args + ["--steps", "0", "--tol", "0"])
    assert result.exit_code == 0, result.stderr
    fit = strict_json(result.stdout)["fit"]
    assert fit["steps"] == 0 and fit["reason"] == "step limit reached"
    assert fit["params"]["a"]["value"] == 1.0 and fit["objective"]["end"] == 14.0
    huge = invoke(args + ["--steps", str(2**63)])
    assert huge.exit_code == 0, huge.stderr
    assert strict_json(huge.stdout)["fit"]["params"]["a"]["value"] == pytest.approx(2, abs=1e-4)


def test_newton_where_the_objective_overflows_reports_the_fit(tmp_path):
    path = write(tmp_path, "param a = 1\nL = -exp(a)\n")
    result = invoke(["fit", path, "--method", "newton", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    fit = strict_json(result.stdout)["fit"]
    assert not fit["converged"] and fit["reason"] == "derivatives not finite"
    assert "the fit did not converge: derivatives not finite" in result.stderr
    assert "--steps" not in result.stderr
    assert fit["objective"]["end"] == -math.exp(fit["params"]["a"]["value"])
    assert fit["objective"]["end"] < fit["objective"]["start"]
    strict = invoke(["fit", path, "--method", "newton", "--strict"])
    assert strict.exit_code == 1 and "not converged" in strict.stdout


@pytest.mark.parametrize("method", ["trf", "lm"])
def test_least_squares_with_an_infinite_jacobian_reports_the_fit(tmp_path, method):
    # sqrt's derivative at 0 is inf: trf's linear algebra refuses the Jacobian.
    path = write(tmp_path, "param a = 0\nr = [sqrt(abs(a)) - 1, a]\n")
    result = invoke(["fit", path, "--residuals", "r", "--method", method, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    fit = strict_json(result.stdout)["fit"]
    assert fit["objective"]["end"] <= fit["objective"]["start"] == 1.0
    if not fit["converged"]:
        assert fit["reason"] == "derivatives not finite"
        assert "did not converge: derivatives not finite" in result.stderr


def test_lbfgs_reason_has_no_trailing_colon(tmp_path):
    path = write(tmp_path, "param a = 0\nL = sqrt(abs(a)) + (a - 1) ** 2\n")
    fit = strict_json(invoke(["fit", path, "-f", "json"]).stdout)["fit"]
    assert fit["reason"] == fit["reason"].strip().rstrip(":.") and fit["reason"]


@pytest.mark.parametrize("name", ["d.csv", "./d.csv", "link.csv"])
def test_out_never_replaces_a_data_file_the_model_loads(tmp_path, name):
    data = tmp_path / "d.csv"
    data.write_text("x,y\n1,2\n2,4\n")
    os.link(data, tmp_path / "link.csv")
    path = write(tmp_path, 'x = load("d.csv", column="x")\nparam a = 1\nL = sum((x - a) ** 2)\n')
    with _cwd(tmp_path):
        result = invoke(["fit", path.name, "--out", name])
    assert result.exit_code == 1 and result.stdout == ""
    assert "is a data file the model loads" in result.stderr
    assert data.read_text() == "x,y\n1,2\n2,4\n"
    other = invoke(["fit", path, "--out", tmp_path / "fit.json"])
    assert other.exit_code == 0, other.stderr
    assert strict_json((tmp_path / "fit.json").read_text())["a"] == pytest.approx(1.5)


@pytest.mark.parametrize("option", ["--set", "--set-json"])
@pytest.mark.parametrize("name", ["given", "./given", "link"])
def test_out_never_replaces_data_the_command_line_reads(tmp_path, option, name):
    ext = ".csv" if option == "--set" else ".json"
    given = tmp_path / f"given{ext}"
    text = "1\n2\n" if option == "--set" else '{"x": [1, 2]}\n'
    given.write_text(text)
    os.link(given, tmp_path / f"link{ext}")
    path = write(tmp_path, "x = [0, 0]\nparam a = 1\nL = sum((x - a) ** 2)\n", "m.expr")
    args = ["--set", f"x=@{given.name}"] if option == "--set" else ["--set-json", given.name]
    with _cwd(tmp_path):
        result = invoke(["fit", path.name, *args, "--out", name + ext])
        # --set's file is data (a usage error); this --set-json file gives
        # 'x', which is not fitted (an error of the run, before the fit).
        assert result.exit_code == (2 if option == "--set" else 1) and result.stdout == ""
        if option == "--set":
            assert "is the file --set x=@ reads" in result.stderr
        else:
            assert "is the --set-json file, which also gives 'x'" in result.stderr
        assert given.read_text() == text
        # The same values fit, written elsewhere: a = 1.5.
        other = invoke(["fit", path.name, *args, "--out", "fit.json"])
    assert other.exit_code == 0, other.stderr
    assert strict_json((tmp_path / "fit.json").read_text())["a"] == pytest.approx(1.5)


@pytest.mark.parametrize(
    "method, residuals, matrix",
    [
        ("newton", False, "--method newton's Hessian"),
        ("bfgs", False, "--method bfgs's estimate of the inverse Hessian"),
        ("trf", True, "the Jacobian of 'r'"),
        ("lm", True, "the Jacobian of 'r'"),
        ("adam", True, "the Jacobian of 'r'"),  # the standard errors need it
        ("lbfgs", False, None),
        ("adam", False, None),
        ("sgd", False, None),
    ],
)
def test_a_matrix_of_the_params_counts_against_max_elements(tmp_path, method, residuals, matrix):
    # 101 params pass a limit of 10,000; a 101 x 101 matrix of them does not.
    path = write(tmp_path, "param a = zeros(101)\nr = a - 1\nL = sum(r ** 2)\n")
    args = ["fit", path, "--method", method, "--steps", "3", "-f", "json"]
    args += ["--residuals", "r"] if residuals else []
    result = invoke(args + ["--max-elements", "10000"])
    if matrix is None:
        assert result.exit_code == 0, result.stderr
        return
    assert result.exit_code == 1 and result.stdout == ""
    line = result.stderr.splitlines()[0]
    assert line.startswith(f"{path}:{3 if not residuals else 2}:1: error: {matrix} would have ")
    assert "10,201 elements (101 × 101), over the limit of 10,000 (--max-elements)" in line
    at_limit = invoke(args + ["--max-elements", "10201"])
    assert at_limit.exit_code == 0, at_limit.stderr
    assert strict_json(at_limit.stdout)["fit"]["objective"]["end"] < 101


@pytest.mark.parametrize("name", ["start.json", "./start.json", "link.json"])
def test_out_may_be_the_set_json_file_of_the_params_alone(tmp_path, name):
    """A warm restart: the params saved by one fit start the next, which
    saves its own over them (nothing else was in the file)."""
    start = tmp_path / "start.json"
    start.write_text('{"a": 0.25}\n')
    os.link(start, tmp_path / "link.json")
    path = write(tmp_path, "x = [1, 2]\nparam a = 1\nL = sum((x - a) ** 2)\n", "m.expr")
    with _cwd(tmp_path):
        result = invoke(["fit", path.name, "--set-json", "start.json", "--out", name])
    assert result.exit_code == 0, result.stderr
    assert strict_json((tmp_path / name).read_text())["a"] == pytest.approx(1.5)
