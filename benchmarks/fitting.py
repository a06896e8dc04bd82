"""The fit workload: a least-squares fit as a user runs it.

8. `fit`: NIST's Misra1a fitted by `autograd-cli fit examples/misra1a.expr
   --residuals r` (the default method, trf, with the engine's Jacobian), the
   whole process, against the floor any SciPy fit pays:
   `python -c "import numpy, scipy.optimize"`.

Whole processes, alternating round by round (harness.alternate); the fit's
answer is checked against NIST's certified values first.
"""

from __future__ import annotations

import json
import os
import sys

from harness import alternate, fmt, fmt_ratio, ratio, run_process, table, unsteady
from workloads import OURS, Config, Section, Target, ours_commands, progress, unsteady_note

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


WORKLOADS = {"fit": fit_misra1a}
