"""The fit workloads: fits as a user runs them.

8. `fit`: NIST's Misra1a fitted by `autograd-cli fit examples/misra1a.expr
   --residuals r` (the default method, trf, with the engine's Jacobian), the
   whole process, against the floor any SciPy fit pays:
   `python -c "import numpy, scipy.optimize"`.
9. `adam`: 1,000 Adam steps on the perceptron of examples/mlp.expr: per
   step against a hand-written numpy loop (each in a worker process, the
   loop alone timed), and the whole `fit` process against a PyTorch script
   doing the same with `torch.optim.Adam`.
10. `logistic`: a logistic regression of 10,000 points with 50 features,
   read from `.npy` files, fitted by `autograd-cli fit` with L-BFGS (the
   default method for a scalar target), the whole process, against the
   same fit written by hand: numpy for the loss and its gradient,
   `scipy.optimize.minimize(jac=True, method="L-BFGS-B")`.

Whole processes (and worker processes for Adam's steps), alternating round
by round (harness.alternate); each fit's answer is checked first (NIST's
certified values; Adam's sides against one another and torch.optim's; the
two logistic fits against each other and against the loss's gradient).
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

from harness import (
    alternate,
    close_workers,
    fmt,
    fmt_ratio,
    ratio,
    run_process,
    start_workers,
    table,
    unsteady,
)
from inputs import adam_torch_script
from workloads import (
    OURS,
    Config,
    Section,
    Target,
    ours_commands,
    progress,
    unsteady_note,
    write_input,
)

# NIST's certified values for Misra1a; the example fits k = b2 * 10^4.
MISRA1A = {"b1": 2.3894212918e02, "k": 5.5015643181e-04 * 1e4}


def at_most(what: str, measured: float | None, limit: float, results: dict) -> Target:
    """The target that a same-round ratio be at most `limit`, firm only if
    no side of `results` was unsteady."""
    ok = None if measured is None else measured <= limit
    return Target(what, fmt_ratio(measured), f"<= {limit:.2f}x", ok, not unsteady(results))


def fit_misra1a(cfg: Config) -> Section:
    rounds = cfg.rounds(15, 3)
    label, argv = next(iter(ours_commands().items()))
    example = os.path.join(cfg.repo, "examples", "misra1a.expr")
    ours_name = f"{label} fit misra1a.expr --residuals r"
    floor_name = 'python -c "import numpy, scipy.optimize"'

    progress("fit: checking the answer against NIST's certified values")
    answer = os.path.join(cfg.workdir, "fit.json")
    run_process([*argv, "fit", example, "--residuals", "r", "-f", "json"], stdout_path=answer)
    with open(answer, encoding="utf-8") as f:
        params = json.load(f)["fit"]["params"]
    for name, want in MISRA1A.items():
        got = params[name]["value"]
        if abs(got - want) > 1e-8 * abs(want):
            raise AssertionError(f"fit: {name} = {got}, NIST certifies {want}")

    commands = {
        ours_name: [*argv, "fit", example, "--residuals", "r"],
        floor_name: [sys.executable, "-c", "import numpy, scipy.optimize"],
    }
    progress(f"fit: {len(commands)} processes, {rounds} rounds")
    results = alternate({k: (lambda a=a: run_process(a)) for k, a in commands.items()}, rounds)
    ours, floor = results[ours_name], results[floor_name]
    rows = [[name, fmt(s.median), fmt_ratio(ratio(s, floor))] for name, s in results.items()]
    measured = ratio(ours, floor)
    targets = [
        at_most(f"fit Misra1a: {OURS} / import numpy, scipy.optimize", measured, 1.5, results)
    ]
    notes = [
        f"Whole processes, the table to the null device, {rounds} rounds. autograd-cli "
        "reads the file (14 observations, 2 parameters), fits it with trf and the "
        "engine's forward-mode Jacobian, and prints the report; the other side only "
        "imports what any SciPy fit imports. The answer is checked against NIST's "
        "certified values first."
    ]
    notes += unsteady_note(results)
    data = {
        "rounds": rounds,
        "commands": {k: " ".join(a) for k, a in commands.items()},
        "results": {k: v.to_json() for k, v in results.items()},
    }
    return Section(
        "fit",
        "8. Fitting",
        table(["command", "median s", "time/floor"], rows),
        notes,
        targets,
        data,
    )


ADAM_STEPS = 1000


def _close(a, b, what: str, tol: float = 1e-9) -> None:
    a, b = np.asarray(a), np.asarray(b)
    err = float(np.max(np.abs(a - b))) / float(np.max(np.abs(b)))
    if not err <= tol:
        raise AssertionError(f"adam: {what} differ by {err:.3g} (relative), over {tol:g}")


def adam_mlp(cfg: Config) -> Section:
    steps = ADAM_STEPS
    example = os.path.join(cfg.repo, "examples", "mlp.expr")
    label, argv = next(iter(ours_commands().items()))

    # Per step: the loops alone, each side in a worker process of its own.
    progress("adam: setting up the per-step sides")
    sides = {
        f"{OURS} fit's Adam loop": ("adam/autograd-cli", {"path": example, "steps": steps}),
        "numpy, by hand": ("adam/numpy", {"path": example, "steps": steps}),
    }
    workers, checks = start_workers(sides)
    try:
        for name, check in checks.items():
            if isinstance(check, Exception):
                raise AssertionError(f"adam: {name} failed: {check}")
        ours_name, numpy_name = list(sides)
        _close(checks[ours_name]["x"], checks[numpy_name]["x"], "the parameters after Adam")
        rounds = cfg.rounds(11, 3)
        progress(f"adam: {len(workers)} loops of {steps} steps, {rounds} rounds")
        per_step = alternate({k: w.run for k, w in workers.items()}, rounds, settle=0.2)
    finally:
        close_workers(workers)
    per_step_ratio = ratio(per_step[ours_name], per_step[numpy_name])

    # End to end: the whole fit process against a PyTorch script.
    commands = {
        f"{label} fit mlp.expr --method adam --steps {steps} --tol 0": [
            *argv,
            "fit",
            example,
            "--method",
            "adam",
            "--steps",
            str(steps),
            "--tol",
            "0",
        ]
    }
    ours_cmd = next(iter(commands))
    answer = os.path.join(cfg.workdir, "adam.json")
    run_process([*commands[ours_cmd], "-f", "json"], stdout_path=answer)
    with open(answer, encoding="utf-8") as f:
        fitted = json.load(f)["fit"]["params"]
    ours_x = np.concatenate([np.ravel(fitted[k]["value"]) for k in ("W1", "b1", "W2", "b2")])
    _close(ours_x, checks[ours_name]["x"], "the fit command's parameters and its loop's")
    torch_name = f"python adam_torch.py (torch.optim.Adam, {steps} steps)"
    if cfg.has("torch"):
        start = {k: np.asarray(v).tolist() for k, v in _start_values(example).items()}
        check = write_input(cfg, "adam_torch_check.py", adam_torch_script(start, steps, True))
        torch_x = json.loads(run_process_output([sys.executable, check]))
        _close(ours_x, torch_x, "autograd-cli's and torch.optim.Adam's parameters")
        script = write_input(cfg, "adam_torch.py", adam_torch_script(start, steps))
        commands[torch_name] = [sys.executable, script]
    rounds = cfg.rounds(7, 3)
    progress(f"adam: {len(commands)} processes, {rounds} rounds")
    whole = alternate({k: (lambda a=a: run_process(a)) for k, a in commands.items()}, rounds)
    end_to_end = ratio(whole[ours_cmd], whole.get(torch_name))

    rows = [
        [name, fmt(s.median / steps * 1e6, unit=" us"), fmt_ratio(ratio(s, per_step[numpy_name]))]
        for name, s in per_step.items()
    ]
    rows += [
        [name, fmt(s.median, unit=" s"), fmt_ratio(ratio(s, whole[ours_cmd]))]
        for name, s in whole.items()
    ]
    targets = [
        at_most(
            f"Adam on mlp.expr: {OURS} / numpy by hand, per step", per_step_ratio, 1.15, per_step
        ),
        Target(
            f"Adam on mlp.expr: {OURS} fit / PyTorch script, end to end",
            fmt_ratio(end_to_end),
            "< 1.00x",
            None if end_to_end is None else end_to_end < 1.0,
            not unsteady(whole),
        ),
    ]
    notes = [
        f"Per step: {steps} steps of each loop in a worker process of its own, the loop "
        f"alone timed, {cfg.rounds(11, 3)} rounds; the first rows are microseconds a "
        "step and the ratio to the numpy loop. The numpy loop is the perceptron's "
        "forward and backward written out by hand and Adam's update parameter by "
        "parameter; autograd-cli's is the fit command's loop (the compiled objective "
        "and gradient, Adam on the parameters as one array). Both are checked to end "
        "at the same parameters first (1e-9 relative), and the fit command at the "
        "same as its loop and as torch.optim.Adam.",
        f"End to end: whole processes, {rounds} rounds; the ratio is to autograd-cli's.",
    ]
    if not cfg.has("torch"):
        notes.append("PyTorch is not installed: the end-to-end comparison is skipped.")
    notes += unsteady_note(per_step, " (per step)") + unsteady_note(whole, " (end to end)")
    data = {
        "steps": steps,
        "per_step": {k: v.to_json() for k, v in per_step.items()},
        "whole": {k: v.to_json() for k, v in whole.items()},
        "commands": {k: " ".join(a) for k, a in commands.items()},
    }
    return Section(
        "adam",
        "9. Adam on the perceptron",
        table(["side", "median", "ratio"], rows),
        notes,
        targets,
        data,
    )


# Workload 9's data: N points of D features, labels drawn from a known logistic
# model, so that the loss has one minimum, away from infinity.
LOGISTIC_N, LOGISTIC_D = 10_000, 50
# The largest gradient element accepted at either side's answer: ten times
# L-BFGS-B's default gtol, since it may also stop on the loss's relative change.
LOGISTIC_GRADIENT = 1e-4

LOGISTIC_EXPR = """\
# Logistic regression: 10,000 labelled points with 50 features, from .npy.
X = load("X.npy")                 # (10000, 50)
y = load("y.npy")                 # (10000,), labels 0 or 1
param w = zeros(50)
param b = 0
z = X @ w + b                     # logits
# the mean of -[y log p + (1 - y) log(1 - p)], p = sigmoid(z), written stably
loss = mean(softplus(z) - y * z)
"""

# The same fit as a user writes it with numpy and SciPy.
LOGISTIC_SCRIPT = """\
import json

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

X = np.load("X.npy")
y = np.load("y.npy")
n, d = X.shape


def loss_and_grad(theta):
    w, b = theta[:d], theta[d]
    z = X @ w + b
    # mean(log(1 + e^z) - y z): logaddexp(0, z) does not overflow
    loss = np.mean(np.logaddexp(0.0, z) - y * z)
    r = (expit(z) - y) / n
    return loss, np.append(X.T @ r, r.sum())


res = minimize(loss_and_grad, np.zeros(d + 1), jac=True, method="L-BFGS-B")
print(json.dumps({"loss": res.fun, "w": res.x[:d].tolist(), "b": res.x[d], "nit": res.nit,
                  "nfev": res.nfev, "success": bool(res.success), "message": res.message}))
"""


def _logistic_data(folder: str):
    """Write X.npy and y.npy into `folder`; return (X, y)."""
    rng = np.random.default_rng(9)
    n, d = LOGISTIC_N, LOGISTIC_D
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d) * (2 / np.sqrt(d))  # logits of standard deviation ~2
    # A label is 1 where the logit plus logistic noise is positive: the model
    # holds exactly, and the classes overlap (no hyperplane separates them).
    y = (X @ w_true + 0.5 + rng.logistic(size=n) > 0).astype(np.float64)
    np.save(os.path.join(folder, "X.npy"), X)
    np.save(os.path.join(folder, "y.npy"), y)
    return X, y


def _logistic_state(X, y, theta):
    """The mean logistic loss at theta = (w, b), its gradient, and the
    smallest eigenvalue of its Hessian."""
    A = np.hstack([X, np.ones((len(y), 1))])
    z = A @ theta
    p = 0.5 * (1 + np.tanh(0.5 * z))  # sigmoid, without overflow
    loss = float(np.mean(np.logaddexp(0.0, z) - y * z))
    grad = A.T @ (p - y) / len(y)
    hessian = (A * (p * (1 - p))[:, None]).T @ A / len(y)
    return loss, grad, float(np.linalg.eigvalsh(hessian)[0])


def check_logistic(X, y, ours: dict, theirs: dict) -> dict:
    """Check that both fits converged to the loss's one minimum (raises
    AssertionError if not); return the figures for the notes.

    Each side stops where SciPy's tests say, not at the exact minimum: with
    its defaults, when the largest gradient element is at most 1e-5 or the
    loss stops decreasing.  So each answer's gradient, computed here in
    numpy, must be at most LOGISTIC_GRADIENT in every element, and then the
    two answers are close: the loss is strongly convex with modulus mu (the
    Hessian's smallest eigenvalue at the answers, halved as a margin for its
    change nearby), so a point of gradient g lies within |g| / mu of the
    minimum, and its loss within |g|^2 / (2 mu) of the least.
    """
    fit = ours["fit"]
    if not fit["converged"]:
        raise AssertionError(f"logistic: the fit did not converge: {fit['reason']}")
    if not theirs["success"]:
        raise AssertionError(f"logistic: the script did not converge: {theirs['message']}")
    params = fit["params"]
    a = np.append(params["w"]["value"], params["b"]["value"])
    b = np.append(theirs["w"], theirs["b"])
    loss_a, grad_a, low_a = _logistic_state(X, y, a)
    loss_b, grad_b, low_b = _logistic_state(X, y, b)
    for side, reported, loss, grad in (
        ("fit", fit["objective"]["end"], loss_a, grad_a),
        ("script", theirs["loss"], loss_b, grad_b),
    ):
        if abs(reported - loss) > 1e-12 * abs(loss):
            raise AssertionError(f"logistic: the {side} reports {reported}, its point gives {loss}")
        if np.max(np.abs(grad)) > LOGISTIC_GRADIENT:
            raise AssertionError(
                f"logistic: the {side}'s answer is no minimum: a gradient element of "
                f"{np.max(np.abs(grad)):.3g} there (limit {LOGISTIC_GRADIENT:g})"
            )
    mu = min(low_a, low_b) / 2
    g = LOGISTIC_GRADIENT * np.sqrt(len(a))  # the largest |gradient| passing the test above
    apart, apart_limit = float(np.linalg.norm(a - b)), 2 * g / mu
    gap, gap_limit = abs(loss_a - loss_b), g**2 / (2 * mu)
    if not (apart <= apart_limit and gap <= gap_limit):
        raise AssertionError(
            f"logistic: the fits disagree: |a - b| = {apart:.3g} (limit {apart_limit:.3g}), "
            f"|loss a - loss b| = {gap:.3g} (limit {gap_limit:.3g})"
        )
    ga, gb = float(np.linalg.norm(grad_a)), float(np.linalg.norm(grad_b))
    return {
        "loss": loss_a,
        "steps": fit["steps"],
        "evaluations": fit["evaluations"],
        "script_nit": theirs["nit"],
        "script_nfev": theirs["nfev"],
        "gradient_norms": [ga, gb],
        "apart": apart,
        "apart_limit": apart_limit,
        "loss_gap": gap,
        "loss_gap_limit": gap_limit,
    }


def fit_logistic(cfg: Config) -> Section:
    rounds = cfg.rounds(15, 3)
    label, argv = next(iter(ours_commands().items()))
    folder = os.path.join(cfg.workdir, "logistic")
    os.makedirs(folder, exist_ok=True)
    X, y = _logistic_data(folder)
    for name, text in (("logistic.expr", LOGISTIC_EXPR), ("logistic_scipy.py", LOGISTIC_SCRIPT)):
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            f.write(text)
    ours_name = f"{label} fit logistic.expr --method lbfgs"
    script_name = "python logistic_scipy.py"
    floor_name = 'python -c "import numpy, scipy.optimize"'
    commands = {
        ours_name: [*argv, "fit", "logistic.expr", "--method", "lbfgs"],
        script_name: [sys.executable, "logistic_scipy.py"],
        floor_name: [sys.executable, "-c", "import numpy, scipy.optimize"],
    }

    progress("logistic: checking both fits' answers")
    answers = {}
    for side, command in (("fit", [*commands[ours_name], "-f", "json"]), ("script", None)):
        path = os.path.join(cfg.workdir, f"logistic-{side}.json")
        run_process(command or commands[script_name], cwd=folder, stdout_path=path)
        with open(path, encoding="utf-8") as f:
            answers[side] = json.load(f)
    check = check_logistic(X, y, answers["fit"], answers["script"])

    progress(f"logistic: {len(commands)} processes, {rounds} rounds")
    results = alternate(
        {k: (lambda a=a: run_process(a, cwd=folder)) for k, a in commands.items()}, rounds
    )
    ours, script = results[ours_name], results[script_name]
    rows = [[name, fmt(s.median), fmt_ratio(ratio(s, script))] for name, s in results.items()]
    measured = ratio(ours, script)
    targets = [
        at_most(f"fit logistic 10,000 x 50: {OURS} / numpy + SciPy script", measured, 1.3, results)
    ]
    calls = check["evaluations"]
    notes = [
        f"Whole processes, output to the null device, {rounds} rounds. Both read X.npy "
        f"({LOGISTIC_N:,} x {LOGISTIC_D}) and y.npy and minimise the mean logistic loss "
        "over w and b from zeros by L-BFGS-B with SciPy's default tolerances: autograd-cli "
        f"in {check['steps']} iterations ({calls['function']} evaluations, "
        f"{calls['gradient']} gradients), printing its table; the script (numpy's loss and "
        f"gradient, minimize(jac=True)) in {check['script_nit']} iterations "
        f"({check['script_nfev']} evaluations), printing its answer as JSON. The last row "
        "is what both pay before they start.",
        "Checked first: both converged, every element of the loss's gradient (computed "
        f"in numpy) is at most {LOGISTIC_GRADIENT:g} at both answers (gradient norms "
        f"{check['gradient_norms'][0]:.2g} and {check['gradient_norms'][1]:.2g}), and the "
        f"points are {check['apart']:.2g} apart (limit {check['apart_limit']:.2g}, from that "
        f"test and the Hessian's smallest eigenvalue), the losses {check['loss_gap']:.2g} "
        f"(limit {check['loss_gap_limit']:.2g}); the loss at the minimum is "
        f"{check['loss']:.6g}.",
    ]
    notes += unsteady_note(results)
    data = {
        "rounds": rounds,
        "commands": {k: " ".join(a) for k, a in commands.items()},
        "check": check,
        "results": {k: v.to_json() for k, v in results.items()},
    }
    return Section(
        "logistic",
        "10. Fitting a logistic regression",
        table(["command", "median s", "time/script"], rows),
        notes,
        targets,
        data,
    )


def _start_values(path: str) -> dict:
    """The example's inputs and params at the start, by `eval -f json`."""
    label, argv = next(iter(ours_commands().items()))
    out = run_process_output([*argv, "eval", path, "-f", "json"])
    nodes = json.loads(out)["nodes"]
    return {k: nodes[k]["value"] for k in ("X", "y", "W1", "b1", "W2", "b2")}


def run_process_output(argv: list[str]) -> str:
    """A process's standard output (it must succeed)."""
    import subprocess

    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


WORKLOADS = {"fit": fit_misra1a, "adam": adam_mlp, "logistic": fit_logistic}
