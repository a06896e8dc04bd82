"""Workload 11, `longline`: one statement of many terms.

A generated expression (what a computer algebra system or a code generator
writes) is a single line of thousands of terms: here 10^5 (10^4 with
--quick). `autograd-cli eval line.expr --format json` against the same sum
written as a PyTorch script would be: a loop adding one term at a time to
0-d float64 tensors, then `backward()`. Whole processes, alternating round
by round; where PyTorch is installed, both must agree on the value and the
gradients first, on a short line. Besides time, the peak memory of each
side, and what autograd-cli's peak adds to its start-up's as a multiple of
the file's size.
"""

from __future__ import annotations

import os
import sys

from harness import fmt, fmt_ratio, peak_method, ratio, run_process, table, unsteady
from workloads import (
    OURS,
    Config,
    Section,
    Target,
    json_of,
    mib,
    ours_commands,
    progress,
    same_numbers,
    unsteady_note,
    whole_processes,
    write_input,
)

P, Q = 0.7, 0.3

# Term i of the line, as the language writes it and as Python does (the
# two texts differ only in the module the functions come from).
_TERMS = [
    "{a} * {m}sin(p * {b})",
    "(p - {b}) ** 2",
    "{m}exp(-q * {b})",
    "{m}tanh(p * q + {b})",
]


def _term(i: int, module: str = "") -> str:
    a, b = (i % 7 + 1) / 4, (i % 89 + 1) / 16  # exact in binary: same numbers both sides
    return _TERMS[i % len(_TERMS)].format(a=a, b=b, m=module)


def line_expr(n: int) -> str:
    """Two params and one binding, the sum of `n` terms, on one line."""
    terms = " + ".join(_term(i) for i in range(n))
    return (
        f"# one line of {n} terms (benchmarks/longline.py)\n"
        f"param p = {P}\nparam q = {Q}\nL = {terms}\n"
    )


def line_torch_script(n: int) -> str:
    """The same sum as a PyTorch script: the terms added in a loop, in the
    line's order; prints the value and the gradients of p and q as JSON."""
    branches = "\n".join(
        f"    {'if' if k == 0 else 'elif'} k == {k}:\n"
        f"        t = {_TERMS[k].format(a='a', b='b', m='torch.')}"
        for k in range(len(_TERMS) - 1)
    )
    last = _TERMS[-1].format(a="a", b="b", m="torch.")
    return f"""\
import json
import torch

p = torch.tensor({P}, dtype=torch.float64, requires_grad=True)
q = torch.tensor({Q}, dtype=torch.float64, requires_grad=True)
L = None
for i in range({n}):
    a, b, k = (i % 7 + 1) / 4, (i % 89 + 1) / 16, i % {len(_TERMS)}
{branches}
    else:
        t = {last}
    L = t if L is None else L + t
L.backward()
print(json.dumps({{"value": L.item(), "p": p.grad.item(), "q": q.grad.item()}}))
"""


def long_line(cfg: Config) -> Section:
    n = 10**4 if cfg.quick else 10**5
    rounds = cfg.rounds(3, 2)
    label, argv = next(iter(ours_commands().items()))
    ours_name = f"{label} eval line{n}.expr --format json"
    torch_name = f"python line{n}_torch.py (PyTorch)"

    small = 1000
    progress(f"long line: checking both programs on a line of {small} terms")
    path = write_input(cfg, f"line{small}.expr", line_expr(small))
    nodes = json_of(cfg, [*argv, "eval", path, "--format", "json"])["nodes"]
    want = (nodes["L"]["value"], nodes["p"]["grad"], nodes["q"]["grad"])
    if cfg.has("torch"):
        script = write_input(cfg, f"line{small}_torch.py", line_torch_script(small))
        doc = json_of(cfg, [sys.executable, script])
        if not same_numbers((doc["value"], doc["p"], doc["q"]), want):
            raise AssertionError(f"long line: PyTorch gives {doc}, autograd-cli {want}")

    # What the process takes before the line's own memory: one term.
    path = write_input(cfg, "line1.expr", line_expr(1))
    base = run_process([*argv, "eval", path, "--format", "json"]).peak_bytes

    path = write_input(cfg, f"line{n}.expr", line_expr(n))
    size = os.path.getsize(path)
    commands = {ours_name: [*argv, "eval", path, "--format", "json"]}
    if cfg.has("torch"):
        commands[torch_name] = [
            sys.executable,
            write_input(cfg, f"line{n}_torch.py", line_torch_script(n)),
        ]
    progress(f"long line: {n} terms, {len(commands)} processes, {rounds} rounds")
    results, rows = whole_processes(commands, rounds, ours_name)
    ours = results[ours_name]
    targets = []
    if cfg.has("torch"):
        theirs = results[torch_name]
        speedup = ratio(theirs, ours)
        targets.append(
            Target(
                f"long line of {n:,} terms: PyTorch script / {OURS}",
                fmt_ratio(speedup),
                "> 1.00x",
                None if speedup is None else speedup > 1,
                not unsteady(results),
            )
        )
        less = None if ours.peak is None or theirs.peak is None else theirs.peak / ours.peak
        targets.append(
            Target(
                f"long line of {n:,} terms: PyTorch's peak memory / {OURS}'s",
                fmt_ratio(less),
                "> 1.00x",
                None if less is None else less > 1,
            )
        )
    notes = [
        f"Whole processes, stdout to the null device, {rounds} rounds. The file is one "
        f"statement of {n:,} terms cycling through a * sin(p * b), (p - b) ** 2, "
        f"exp(-q * b) and tanh(p * q + b) ({size / 1e6:.1f} MB); autograd-cli writes "
        "every binding's value and gradient as JSON. The PyTorch script adds the same "
        "terms in a loop of 0-d float64 tensors and prints the value and the gradients "
        f"(checked against autograd-cli's first, on {small:,} terms). Peak memory: "
        f"{peak_method()}."
    ]
    if ours.peak is not None and base is not None:
        grown = ours.peak - base
        notes.append(
            f"Over its peak on a line of one term ({fmt(mib(base))} MiB: the interpreter, "
            f"numpy), {OURS} takes {grown / size:.0f} times the file's size, "
            f"{grown / n:,.0f} bytes a term."
        )
    if not cfg.has("torch"):
        notes.append("PyTorch is not installed: its script is skipped.")
    notes += unsteady_note(results)
    data = {
        "n": n,
        "bytes": size,
        "rounds": rounds,
        "commands": {k: " ".join(a) for k, a in commands.items()},
        "results": {k: v.to_json() for k, v in results.items()},
    }
    return Section(
        "longline",
        "11. One long line",
        table(["command", "median s", "peak MiB", "time/ours"], rows),
        notes,
        targets,
        data,
    )


WORKLOADS = {"longline": long_line}
