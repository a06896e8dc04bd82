"""The fit workloads: fits as a user runs them.

8. `fit`: NIST's Misra1a fitted by `autograd-cli fit examples/misra1a.expr
   --residuals r` (the default method, trf, with the engine's Jacobian), the
   whole process, against the floor any SciPy fit pays:
   `python -c "import numpy, scipy.optimize"`.
9. `adam`: 1,000 Adam steps on the perceptron of examples/mlp.expr: per
   step against a hand-written numpy loop (each in a worker process, the
   loop alone timed), and the whole `fit` process against a PyTorch script
   doing the same with `torch.optim.Adam`.

Whole processes, alternating round by round (harness.alternate); the fit's
answer is checked against NIST's certified values first.
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
        Target(
            f"fit Misra1a: {OURS} / import numpy, scipy.optimize",
            fmt_ratio(measured),
            "<= 1.50x",
            None if measured is None else measured <= 1.5,
            not unsteady(results),
        )
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
        Target(
            f"Adam on mlp.expr: {OURS} / numpy by hand, per step",
            fmt_ratio(per_step_ratio),
            "<= 1.15x",
            None if per_step_ratio is None else per_step_ratio <= 1.15,
            not unsteady(per_step),
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


WORKLOADS = {"fit": fit_misra1a, "adam": adam_mlp}
