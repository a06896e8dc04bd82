"""The Jacobian and Hessian workloads: forward mode as a user runs it.

6. `jacobian`: the Jacobian of 100,000 residuals of a 3-parameter model
   (`autograd-cli jacobian --of r --wrt p`, forward mode), held against one
   `eval` of the same file (the gradient of the residuals' sum), with
   `torch.func.jacfwd` and `jax.jacfwd` as peers.
7. `hessian`: the Hessian of a logistic loss of 1,000 parameters on a
   500 × 1,000 matrix (`autograd-cli hessian`, forward over reverse),
   against `torch.autograd.functional.hessian(..., vectorize=True)` and
   `jax.hessian`.

Whole processes, alternating round by round (harness.alternate), each
printing its result as a person reads it (autograd-cli's table, numpy's or
PyTorch's summary of the array); the numbers are checked first, whole, as
JSON.  See README.md in this directory.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

import inputs
from harness import fmt, fmt_ratio, peak_method, ratio, run_process, table, unsteady
from workloads import (
    OURS,
    Config,
    Section,
    Target,
    mib,
    ours_commands,
    progress,
    unsteady_note,
    write_input,
)

RESIDUALS = 100_000
LOGISTIC = (500, 1000)  # rows of the matrix, parameters


def _json_of(argv: list[str], cfg: Config, name: str):
    """Run `argv` and read what it printed as JSON."""
    path = os.path.join(cfg.workdir, name)
    run_process(argv, stdout_path=path)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _rows(results: dict, ours) -> list:
    return [
        [name, fmt(s.median), fmt(mib(s.peak)), fmt_ratio(ratio(s, ours)) if s.times else s.error]
        for name, s in results.items()
    ]


def _data(n, rounds, commands, results) -> dict:
    return {
        "n": n,
        "rounds": rounds,
        "commands": {k: " ".join(a) for k, a in commands.items()},
        "results": {k: v.to_json() for k, v in results.items()},
    }


# ----------------------------------------------------------- 6. the Jacobian


def jacobian(cfg: Config) -> Section:
    from harness import alternate

    n = RESIDUALS
    rounds = cfg.rounds(7, 2)
    label, argv = next(iter(ours_commands().items()))
    path = write_input(cfg, f"residuals{n}.expr", inputs.residuals_expr(n))

    # The numbers first: forward mode against the closed form, and jax's.
    progress("jacobian: checking the Jacobian against the closed form")
    doc = _json_of(
        [*argv, "jacobian", path, "--of", "r", "--wrt", "p", "-f", "json"], cfg, "j.json"
    )
    if doc["mode"] != "forward":
        raise AssertionError(f"jacobian: ran {doc['mode']} mode, not forward")
    got = np.array(doc["jacobian"]["p"])
    x = np.linspace(0, 1, n)
    p = inputs.RESIDUALS_P
    e = np.exp(-p[1] * x)
    want = np.stack([e, -p[0] * x * e, np.ones(n)], axis=1)
    if not np.allclose(got, want, rtol=1e-12, atol=1e-15):
        raise AssertionError("jacobian: autograd-cli's Jacobian is not the closed form's")
    jax_script = None
    if cfg.has("jax"):
        check = write_input(cfg, "residuals_jax_check.py", inputs.residuals_jax_script(n, True))
        theirs = np.array(_json_of([sys.executable, check], cfg, "jj.json"))
        if not np.allclose(theirs, got, rtol=1e-12, atol=1e-15):
            raise AssertionError("jacobian: jax.jacfwd disagrees with autograd-cli")
        jax_script = write_input(cfg, "residuals_jax.py", inputs.residuals_jax_script(n))
    torch_script = None
    if cfg.has("torch"):
        check = write_input(cfg, "residuals_torch_check.py", inputs.residuals_torch_script(n, True))
        theirs = np.array(_json_of([sys.executable, check], cfg, "jt.json"))
        if not np.allclose(theirs, got, rtol=1e-12, atol=1e-15):
            raise AssertionError("jacobian: torch.func.jacfwd disagrees with autograd-cli")
        torch_script = write_input(cfg, "residuals_torch.py", inputs.residuals_torch_script(n))

    eval_name = f"{label} eval residuals.expr"
    ours_name = f"{label} jacobian residuals.expr --of r --wrt p"
    jax_name = "python residuals_jax.py (jax.jacfwd, jit)"
    torch_name = "python residuals_torch.py (torch.func.jacfwd)"
    commands = {
        eval_name: [*argv, "eval", path],
        ours_name: [*argv, "jacobian", path, "--of", "r", "--wrt", "p"],
    }
    if torch_script:
        commands[torch_name] = [sys.executable, torch_script]
    if jax_script:
        commands[jax_name] = [sys.executable, jax_script]
    progress(f"jacobian: {n:,} residuals, {len(commands)} processes, {rounds} rounds")
    results = alternate({k: (lambda a=a: run_process(a)) for k, a in commands.items()}, rounds)
    ours = results[ours_name]
    over_eval = ratio(ours, results[eval_name])
    targets = [
        Target(
            f"jacobian {n:,} x 3: {OURS} jacobian / one eval",
            fmt_ratio(over_eval),
            "<= 3.00x",
            None if over_eval is None else over_eval <= 3,
            not unsteady(results),
        )
    ]
    notes = [
        f"Whole processes, stdout to the null device, {rounds} rounds; time/ours is "
        "each side's time over the jacobian command's, round by round. The file: "
        f"x = linspace(0, 1, {n:,}), y = 2·exp(-1.3x) + 0.2 + noise (randn, seed 1), "
        "param p = [1, 0.5, 0.1], r = p[0]·exp(-p[1]·x) + p[2] - y, then sum(r), which "
        "eval differentiates (one forward and one backward pass, every node's value and "
        "gradient reported). jacobian runs forward mode (3 inputs, 100,000 outputs): "
        "one pass with a batch of 3 tangents. Both print autograd-cli's table. The "
        "Jacobian was checked first against the closed form (and the peers') to 1e-12. "
        f"Peak memory: {peak_method()}."
    ]
    if not jax_script:
        notes.append("JAX is not installed: its script is skipped.")
    if not torch_script:
        notes.append("PyTorch is not installed: its script is skipped.")
    notes += unsteady_note(results)
    return Section(
        "jacobian",
        "6. Jacobian, forward mode",
        table(["command", "median s", "peak MiB", "time/ours"], _rows(results, ours)),
        notes,
        targets,
        _data(n, rounds, commands, results),
    )


# ------------------------------------------------------------ 7. the Hessian


def hessian(cfg: Config) -> Section:
    from harness import alternate

    m, n = LOGISTIC
    rounds = cfg.rounds(5, 1)
    label, argv = next(iter(ours_commands().items()))

    # The numbers first, on a small problem: ours against PyTorch's and jax's.
    sm, sn = 40, 30
    progress(f"hessian: checking the Hessians on a {sm} x {sn} problem")
    small = write_input(cfg, "logistic_small.expr", inputs.logistic_expr(sm, sn))
    want = np.array(
        _json_of([*argv, "hessian", small, "-f", "json"], cfg, "h.json")["hessian"]["w"]["w"]
    )
    peers_found = []
    for peer, make in (
        ("torch", inputs.logistic_torch_script),
        ("jax", inputs.logistic_jax_script),
    ):
        if cfg.has(peer):
            check = write_input(cfg, f"logistic_{peer}_check.py", make(sm, sn, True))
            theirs = np.array(_json_of([sys.executable, check], cfg, f"h_{peer}.json"))
            if not np.allclose(theirs, want, rtol=1e-10, atol=1e-14):
                raise AssertionError(f"hessian: {peer} disagrees with autograd-cli")
            peers_found.append(peer)

    path = write_input(cfg, "logistic.expr", inputs.logistic_expr(m, n))
    ours_name = f"{label} hessian logistic.expr"
    names = {
        "torch": "python logistic_torch.py (hessian, vectorize=True)",
        "jax": "python logistic_jax.py (jax.hessian, jit)",
    }
    commands = {ours_name: [*argv, "hessian", path]}
    for peer in peers_found:
        make = inputs.logistic_torch_script if peer == "torch" else inputs.logistic_jax_script
        commands[names[peer]] = [
            sys.executable,
            write_input(cfg, f"logistic_{peer}.py", make(m, n)),
        ]
    progress(f"hessian: n={n:,} on {m} x {n}, {len(commands)} processes, {rounds} rounds")
    results = alternate({k: (lambda a=a: run_process(a)) for k, a in commands.items()}, rounds)
    ours = results[ours_name]
    targets = []
    if "torch" in peers_found:
        speedup = ratio(results[names["torch"]], ours)
        targets.append(
            Target(
                f"hessian n={n:,}: PyTorch script / {OURS}",
                fmt_ratio(speedup),
                ">= 5.00x",
                None if speedup is None else speedup >= 5,
                not unsteady(results),
            )
        )
    notes = [
        f"Whole processes, stdout to the null device, {rounds} rounds. The loss: "
        f"mean(softplus(X @ w) - y·(X @ w)), X = randn({m}, {n}), y = rand({m}), "
        f"{n:,} parameters w; its Hessian has {n * n:,} elements. autograd-cli records "
        "the backward pass once and pushes the identity over w through it by forward "
        "mode, as one batch (forward over reverse); it prints its table. The scripts "
        "build the same data with numpy's generator and print the array (PyTorch's or "
        "numpy's summary); PyTorch's time includes importing it, as a user's script "
        "does. The Hessians were checked first against each other to 1e-10 on a "
        f"{sm} x {sn} problem. Peak memory: {peak_method()}."
    ]
    for peer in ("torch", "jax"):
        if peer not in peers_found:
            notes.append(f"{'PyTorch' if peer == 'torch' else 'JAX'} is not installed: skipped.")
    notes += unsteady_note(results)
    return Section(
        "hessian",
        "7. Hessian, forward over reverse",
        table(["command", "median s", "peak MiB", "time/ours"], _rows(results, ours)),
        notes,
        targets,
        _data(n, rounds, commands, results),
    )


WORKLOADS = {"jacobian": jacobian, "hessian": hessian}
