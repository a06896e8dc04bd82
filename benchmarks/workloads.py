"""Workloads 1 to 5 of the benchmark suite (6 and 7 are in derivatives.py).

Each workload is a function of a `Config` returning a `Section`: a table of
medians and ratios, the targets it is held to, and the raw figures for
`--json`.  See README.md in this directory for what each one measures.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field

import inputs
import peers
from harness import (
    CHILD_ENV,
    MALLOC_KEEP,
    alternate,
    close_workers,
    fmt,
    fmt_ratio,
    peak_method,
    ratio,
    run_process,
    start_workers,
    table,
    unsteady,
)

MiB = 2**20
OURS = "autograd-cli"


@dataclass
class Config:
    quick: bool
    workdir: str  # where generated inputs are written
    repo: str  # the repository root (for examples/seed.expr)
    peers: dict  # from peers.find_peers()

    def rounds(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def has(self, peer: str) -> bool:
        return self.peers.get(peer) is not None


@dataclass
class Target:
    what: str
    measured: str
    goal: str
    ok: bool | None  # None: could not be measured
    firm: bool = True  # False: the machine was busy during the rounds


@dataclass
class Section:
    name: str
    title: str
    table: str
    notes: list = field(default_factory=list)  # paragraphs printed under the table
    targets: list = field(default_factory=list)
    data: dict = field(default_factory=dict)


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def write_input(cfg: Config, name: str, text: str) -> str:
    path = os.path.join(cfg.workdir, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def same_numbers(got, want, tol: float = 1e-9) -> bool:
    return all(abs(g - w) <= tol * abs(w) for g, w in zip(got, want))


def json_of(cfg: Config, argv: list[str]):
    """What the process `argv` prints, read as JSON (through a file in the
    work folder)."""
    answer = os.path.join(cfg.workdir, "answer.json")
    run_process(argv, stdout_path=answer)
    with open(answer, encoding="utf-8") as f:
        return json.load(f)


def whole_processes(commands: dict, rounds: int, ours_name: str) -> tuple[dict, list]:
    """Run the processes of `commands` ({name: argv}) in alternating rounds:
    their results by name, and a table's rows of each one's median time,
    peak memory and time over ours."""
    results = alternate({k: (lambda a=a: run_process(a)) for k, a in commands.items()}, rounds)
    ours = results[ours_name]
    rows = [
        [name, fmt(s.median), fmt(mib(s.peak)), fmt_ratio(ratio(s, ours))]
        for name, s in results.items()
    ]
    return results, rows


def ours_commands() -> dict:
    """How to start autograd-cli: {label: argv}.  The console script is the
    one installed beside this Python, else the one on PATH."""
    commands = {}
    script = os.path.join(os.path.dirname(sys.executable), "autograd-cli")
    if not os.path.exists(script):
        script = shutil.which("autograd-cli")
    if script:
        commands["autograd-cli"] = [script]
    commands["python -m autograd_cli"] = [sys.executable, "-m", "autograd_cli"]
    return commands


def editable_install() -> bool:
    """Is autograd-cli installed in editable mode (pip install -e)?"""
    from importlib import metadata

    try:
        direct = metadata.distribution("autograd-cli").read_text("direct_url.json")
        return bool(direct and json.loads(direct).get("dir_info", {}).get("editable"))
    except (metadata.PackageNotFoundError, ValueError):
        return False


def mib(value: float | None) -> float | None:
    return None if value is None else value / MiB


def unsteady_note(results: dict, where: str = "") -> list:
    """A note naming the sides whose times were unsteady, if any."""
    names = unsteady(results)
    if not names:
        return []
    return [
        f"Unsteady{where}: the median time of {', '.join(names)} is over twice the "
        "fastest run, so the machine was busy with something else for much of the "
        "run; the figures are not firm. Run this workload again (--only) on a quieter "
        "machine."
    ]


# ------------------------------------------------------------- 1. cold start


def cold_start(cfg: Config) -> Section:
    rounds = cfg.rounds(21, 3)  # a process is ~0.1 s: many rounds are cheap, and steady
    seed = os.path.join("examples", "seed.expr")
    commands, ours = {}, []
    for label, argv in ours_commands().items():
        for extra in ([], ["--format", "json"]):
            name = " ".join([label, "eval seed.expr", *extra])
            commands[name] = [*argv, "eval", seed, *extra]
            ours.append(name)
    numpy_name = "python -c 'import numpy'"
    commands[numpy_name] = [sys.executable, "-c", "import numpy"]
    torch_name = "python seed_torch.py (PyTorch)"
    if cfg.has("torch"):
        commands[torch_name] = [
            sys.executable,
            write_input(cfg, "seed_torch.py", inputs.TORCH_SEED_SCRIPT),
        ]
    jax_name = "python seed_jax.py (JAX)"
    if cfg.has("jax"):
        commands[jax_name] = [
            sys.executable,
            write_input(cfg, "seed_jax.py", inputs.JAX_SEED_SCRIPT),
        ]

    progress(f"cold start: {len(commands)} commands, one warm-up run each, {rounds} rounds")
    sides = {
        name: (lambda argv=argv: run_process(argv, cwd=cfg.repo)) for name, argv in commands.items()
    }
    for run_once in sides.values():
        run_once()  # warm-up: the OS file cache, .pyc files
    results = alternate(sides, rounds)

    rows, targets = [], []
    firm = not unsteady(results)
    for name, s in results.items():
        is_ours = name in ours
        over_numpy = ratio(s, results[numpy_name]) if is_ours else None
        torch_over = ratio(results.get(torch_name), s) if is_ours else None
        jax_over = ratio(results.get(jax_name), s) if is_ours else None
        rows.append(
            [
                name,
                fmt(s.median * 1e3),
                fmt(mib(s.peak)),
                fmt_ratio(over_numpy),
                fmt_ratio(torch_over),
                fmt_ratio(jax_over),
            ]
        )
        if name in ours[:2]:  # the console script where there is one
            targets.append(
                Target(
                    f"cold start, {name}: time / numpy import",
                    fmt_ratio(over_numpy),
                    "<= 1.30x",
                    over_numpy <= 1.3,
                    firm,
                )
            )
            if torch_over is not None:
                targets.append(
                    Target(
                        f"cold start, {name}: PyTorch script / this",
                        fmt_ratio(torch_over),
                        ">= 10x",
                        torch_over >= 10,
                        firm,
                    )
                )
    notes = [
        f"Whole processes, started from the repository root, {rounds} rounds. "
        "ours/numpy: the command's time over `import numpy`'s in the same round "
        "(target <= 1.3x). torch/ours: the PyTorch script's time over the command's "
        "(target >= 10x); the script computes the seed example's gradient and prints it. "
        "jax/ours: the same for the JAX script (jax.grad of the loss as a function). "
        "Bytecode is cached, as for an installed package (PYTHONDONTWRITEBYTECODE is "
        f"unset for every process the suite starts). Peak memory: {peak_method()}."
    ]
    for module, shown in (("torch", "PyTorch"), ("jax", "JAX")):
        if not cfg.has(module):
            notes.append(f"{shown} is not installed: its script is skipped.")
    if editable_install():
        notes.append(
            "autograd-cli is installed in editable mode here (pip install -e): every "
            "Python process of this environment, `import numpy`'s included, starts "
            "by loading the editable install's finder (pathlib and more, ~20 ms on a "
            "2-core VM), which makes the ratios to numpy look better than a regular "
            "install's. For the figures a user sees, `pip install .`."
        )
    notes += unsteady_note(results)
    data = {
        "rounds": rounds,
        "commands": {n: " ".join(a) for n, a in commands.items()},
        "results": {n: s.to_json() for n, s in results.items()},
    }
    return Section(
        "cold",
        "1. Cold start",
        table(["command", "median ms", "peak MiB", "ours/numpy", "torch/ours", "jax/ours"], rows),
        notes,
        targets,
        data,
    )


# ------------------------------------------------------- 2. deep scalar chain

# peer (sides.CHAIN_PEERS) -> (the module it needs, the name shown, the
# largest N it runs at: JAX op by op takes ~0.3 ms an op, 10 s a run at 10^4)
CHAIN_PEERS = {
    "micrograd": ("micrograd", "micrograd", None),
    "torch": ("torch", "PyTorch eager, 0-d tensors", None),
    "jax": ("jax", "JAX, jax.grad op by op", 10**3),
    "jax-loop": ("jax", "JAX, jit(grad) of lax.fori_loop", None),
    "autograd": ("autograd", "HIPS autograd", None),
}


def deep_chain(cfg: Config) -> Section:
    plan = {10**3: 3, 10**4: 3} if cfg.quick else {10**3: 15, 10**4: 7, 10**5: 3}
    ours_name = f"{OURS} run(model)"
    rows, targets, data, per_statement, unsteady_notes = [], [], {}, {}, []
    firm, compiled = {}, {}
    for n, rounds in plan.items():
        kinds = {
            ours_name: ("chain/autograd-cli", {"n": n}),
            "pure-Python tape": ("chain/peer", {"n": n, "peer": "tape"}),
        }
        for peer, (module, shown, largest) in CHAIN_PEERS.items():
            if cfg.has(module) and (largest is None or n <= largest):
                kinds[shown] = ("chain/peer", {"n": n, "peer": peer})
        progress(
            f"deep chain N={n}: setting up {len(kinds)} workers (loading, one warm-up "
            "run, checking the gradients)"
        )
        workers, checks = start_workers(kinds)
        try:
            want = checks.pop(ours_name)
            if isinstance(want, Exception):
                raise RuntimeError(f"autograd-cli failed on the chain of {n}: {want}")
            for name, got in checks.items():
                if not isinstance(got, Exception) and not same_numbers(got[:2], want):
                    raise AssertionError(
                        f"{name}, chain of {n}: gradients {got}, autograd-cli {want}"
                    )
            progress(f"deep chain N={n}: {rounds} rounds")
            results = alternate({k: w.run for k, w in workers.items()}, rounds)
        finally:
            close_workers(workers)
        ours = results[ours_name]
        per_statement[n] = ours.median / n * 1e6
        unsteady_notes += unsteady_note(results, f" at N={n:,}")
        firm[n] = not unsteady(results)
        for name in kinds:
            s = results.get(name)
            failure = checks.get(name) if s is None else s.error
            if failure:
                rows.append([f"{n:,}", name, str(failure), "", "", ""])
                continue
            rows.append(
                [
                    f"{n:,}",
                    name,
                    fmt(s.median * 1e3),
                    fmt(s.median / n * 1e6),
                    fmt(s.median / n / 3 * 1e6),
                    fmt_ratio(ratio(s, ours)),
                ]
            )
        loop = checks.get(CHAIN_PEERS["jax-loop"][1])
        if loop is not None and not isinstance(loop, Exception):
            compiled[n] = loop[2]
        data[str(n)] = {
            "rounds": rounds,
            "gradients_p_q": want,
            "failed": {k: str(v) for k, v in checks.items() if isinstance(v, Exception)},
            "results": {k: v.to_json() for k, v in results.items()},
        }
        # The target: 2 us per op, an elementary op (its peer figures,
        # PyTorch eager at 9-15 us/op, are per elementary op too).
        per_op = per_statement[n] / 3
        targets.append(
            Target(
                f"deep chain N={n:,}: {OURS} us per elementary op",
                fmt(per_op),
                "<= 2",
                per_op <= 2,
                firm[n],
            )
        )
        torch_s = results.get(CHAIN_PEERS["torch"][1])
        if torch_s is not None and not torch_s.error:
            r = ratio(torch_s, ours)
            targets.append(
                Target(
                    f"deep chain N={n:,}: PyTorch eager / {OURS}",
                    fmt_ratio(r),
                    "> 1.00x",
                    r > 1,
                    firm[n],
                )
            )
    small, large = min(plan), max(plan)
    flat_rounds = cfg.rounds(9, 3)
    # Flatness compares autograd-cli with itself at two sizes: in the same
    # rounds, alternating, as every other comparison (minutes apart, the
    # machine's drift would be the figure).
    names = {n: f"{OURS} N={n:,}" for n in (small, large)}
    progress(f"deep chain: N={small:,} against N={large:,}, {flat_rounds} rounds")
    workers, _ = start_workers({names[n]: ("chain/autograd-cli", {"n": n}) for n in (small, large)})
    try:
        flat = alternate({k: w.run for k, w in workers.items()}, flat_rounds)
    finally:
        close_workers(workers)
    growth = ratio(flat[names[large]], flat[names[small]]) * small / large
    unsteady_notes += unsteady_note(flat, " (flatness)")
    targets.append(
        Target(
            f"deep chain: flat, us per statement at N={large:,} / N={small:,}",
            fmt_ratio(growth),
            "<= 1.25x",
            growth <= 1.25,
            not unsteady(flat),
        )
    )
    data["flat"] = {
        "rounds": flat_rounds,
        "growth": growth,
        "results": {k: v.to_json() for k, v in flat.items()},
    }
    notes = [
        "N dependent statements x{i+1} = tanh(x{i} * p + q), forward and backward, "
        "each side in a process of its own. autograd-cli: the model is loaded outside "
        "the timer and `run(model, every_node=False)` is timed, as `eval` runs it "
        "(evaluate, backward, report). us/stmt: "
        "per statement; each statement is 3 elementary ops (mul, add, tanh): us/elem op. "
        "time/ours: the time over autograd-cli's in the same round. Every side's "
        "gradients of p and q agree with autograd-cli's to 1e-9.",
        f"Flat: autograd-cli's time per statement at N={large:,} over N={small:,}, the two "
        f"timed in the same rounds, alternating ({flat_rounds} rounds, median of the "
        f"rounds' ratios): {fmt_ratio(growth)}.",
    ]
    if cfg.has("micrograd"):
        how = (
            "Value.tanh"
            if peers.micrograd_has_tanh()
            else "0.1.0 has no tanh (nor exp), so tanh is one node written as in later "
            "versions of micrograd"
        )
        notes.append(
            f"micrograd: {how}. Its backward sorts the graph recursively: it stops "
            "with RecursionError once the graph is deeper than the recursion limit "
            f"({sys.getrecursionlimit()}), and the chain is 3 nodes per statement."
        )
    if cfg.has("jax"):
        notes.append(
            "JAX: `jax.grad` of the Python loop runs op by op, so slowly (its row) "
            f"that it runs only at N={min(plan):,}; `jax.jit(jax.grad(...))` of the chain "
            "written as `lax.fori_loop`, as JAX users write a recurrence, is one "
            "compiled loop: compiled in the warm-up, not timed (the first call, "
            "compiling, took "
            + ", ".join(f"{fmt(t * 1e3)} ms at N={k:,}" for k, t in compiled.items())
            + "; the first in a process also starts JAX). Both in float64."
        )
    skipped = [shown for module, shown, _ in CHAIN_PEERS.values() if not cfg.has(module)]
    if skipped:
        notes.append(f"Not installed, skipped: {', '.join(skipped)}.")
    notes += unsteady_notes
    return Section(
        "chain",
        "2. Deep scalar chain (engine only)",
        table(
            ["N", "implementation", "median ms", "us/stmt", "us/elem op", "time/ours"], rows, left=2
        ),
        notes,
        targets,
        data,
    )


# ----------------------------------------------------------------- 3. parsing


def parsing(cfg: Config) -> Section:
    plan = {10**3: 5, 10**4: 3} if cfg.quick else {10**3: 15, 10**4: 7, 10**5: 3}
    ours_name, ast_name = f"{OURS} load", "ast.parse"
    rows, targets, data, unsteady_notes = [], [], {}, []
    for n, rounds in plan.items():
        text = inputs.mixed_expr(n)  # written out for people to look at
        write_input(cfg, f"mixed{n}.expr", text)
        write_input(cfg, f"mixed{n}.py", inputs.as_python(text))
        progress(f"parsing N={n}: setting up 2 workers, then {rounds} rounds")
        workers, checks = start_workers(
            {ours_name: ("parse/autograd-cli", {"n": n}), ast_name: ("parse/ast", {"n": n})}
        )
        try:
            if not checks[ours_name] == checks[ast_name] == n:
                raise AssertionError(
                    f"parsing, {n} lines: autograd-cli found "
                    f"{checks[ours_name]} bindings, ast {checks[ast_name]}"
                )
            results = alternate({k: w.run for k, w in workers.items()}, rounds)
        finally:
            close_workers(workers)
        ours, py = results[ours_name], results[ast_name]
        r = ratio(ours, py)
        unsteady_notes += unsteady_note(results, f" at N={n:,}")
        rows.append(
            [
                f"{n:,}",
                fmt(ours.median * 1e3),
                fmt(n / ours.median),
                fmt(py.median * 1e3),
                fmt(n / py.median),
                fmt_ratio(r),
            ]
        )
        data[str(n)] = {
            "rounds": rounds,
            "ours_over_ast": r,
            "results": {k: v.to_json() for k, v in results.items()},
        }
    # The targets are for the largest file, the last one.
    lines_per_s = n / ours.median
    firm = not unsteady(results)
    targets.append(
        Target(
            f"parsing N={n:,}: {OURS} lines/s",
            fmt(lines_per_s),
            ">= 25,000",
            lines_per_s >= 25_000,
            firm,
        )
    )
    targets.append(
        Target(f"parsing N={n:,}: {OURS} load / ast.parse", fmt_ratio(r), "<= 2.00x", r <= 2, firm)
    )
    notes = [
        "A generated program of N statements, one per line: half extend a scalar "
        "chain, the others use calls, keyword arguments, matrix products, indexing, "
        "slicing and nested list literals. load: `load(Source(name, text))`, from text "
        "to the checked graph (parsing, names, shapes, constants). ast.parse: Python "
        "parsing the same text (without the `param` keyword) to its syntax tree. Each in "
        "a process of its own, alternating; load/ast is the same-round ratio.",
        *unsteady_notes,
    ]
    return Section(
        "parse",
        "3. Parsing",
        table(
            ["lines", "load ms", "load lines/s", "ast.parse ms", "ast lines/s", "load/ast"], rows
        ),
        notes,
        targets,
        data,
    )


# -------------------------------------------------------------- 4. end to end


def end_to_end(cfg: Config) -> Section:
    n = 10**4 if cfg.quick else 10**5
    rounds = cfg.rounds(3, 2)
    label, argv = next(iter(ours_commands().items()))
    ours_name = f"{label} eval chain{n}.expr --format json"
    torch_name = f"python chain{n}_torch.py (PyTorch)"

    # First, on a small chain, both programs must print the same gradients.
    small = 1000
    progress(f"end to end: checking both programs on a chain of {small}")
    path = write_input(cfg, f"chain{small}.expr", inputs.chain_expr(small))
    nodes = json_of(cfg, [*argv, "eval", path, "--format", "json"])["nodes"]
    want = (nodes["p"]["grad"], nodes["q"]["grad"])
    if cfg.has("torch"):
        script = write_input(cfg, f"chain{small}_torch.py", inputs.torch_chain_script(small))
        doc = json_of(cfg, [sys.executable, script])
        if not same_numbers((doc["p"], doc["q"]), want):
            raise AssertionError(f"end to end: PyTorch gives {doc}, autograd-cli {want}")

    commands = {
        ours_name: [
            *argv,
            "eval",
            write_input(cfg, f"chain{n}.expr", inputs.chain_expr(n)),
            "--format",
            "json",
        ]
    }
    if cfg.has("torch"):
        commands[torch_name] = [
            sys.executable,
            write_input(cfg, f"chain{n}_torch.py", inputs.torch_chain_script(n)),
        ]
    progress(f"end to end: N={n}, {len(commands)} processes, {rounds} rounds")
    results, rows = whole_processes(commands, rounds, ours_name)
    ours = results[ours_name]
    targets = []
    if cfg.has("torch"):
        speedup = ratio(results[torch_name], ours)
        targets.append(
            Target(
                f"end to end N={n:,}: PyTorch script / {OURS}",
                fmt_ratio(speedup),
                "> 1.00x",
                speedup > 1,
                not unsteady(results),
            )
        )
    peak = mib(ours.peak)
    targets.append(
        Target(
            f"end to end N={n:,}: {OURS} peak memory",
            fmt(peak, unit=" MiB"),
            "< 200 MiB",
            None if peak is None else peak < 200,
        )
    )
    notes = [
        f"Whole processes, stdout to the null device, {rounds} rounds. The file holds a "
        f"chain of {n:,} statements; autograd-cli parses it and writes every node's "
        "value and gradient as JSON. The PyTorch script builds the same chain in a loop "
        "of 0-d tensors and prints the target's value and the gradients of p and q "
        "(checked against autograd-cli's first, on a chain of 1,000). Peak memory: "
        f"{peak_method()}."
    ]
    if not cfg.has("torch"):
        notes.append("PyTorch is not installed: its script is skipped.")
    if cfg.has("jax"):
        notes.append(
            f"No JAX script: op by op (see the deep chain) a chain of {n:,} statements "
            "would take minutes a run."
        )
    notes += unsteady_note(results)
    data = {
        "n": n,
        "rounds": rounds,
        "commands": {k: " ".join(a) for k, a in commands.items()},
        "results": {k: v.to_json() for k, v in results.items()},
    }
    return Section(
        "e2e",
        "4. End to end",
        table(["command", "median s", "peak MiB", "time/ours"], rows),
        notes,
        targets,
        data,
    )


# ----------------------------------------------------------------- 5. tensors

# A pause before each run of the tensor workload: OpenBLAS's threads spin for
# about 0.1 s after a matrix product, which would slow the next side's run.
SETTLE = 0.2


# The C library's settings the tensor workload runs under: its defaults, and
# freed memory kept for reuse (glibc's tunables, as `run.py --malloc-keep`
# sets for every workload).  Under the defaults glibc gives the top of its
# heap back to the system once more than a threshold is free there, and sets
# that threshold from the sizes of earlier blocks: in a loop of runs, whether
# a run finds its memory again or faults it in anew then hangs on the order
# of the previous runs' allocations and frees, not on the work it does.
MALLOC_SETTINGS = {"defaults": {}, "kept": MALLOC_KEEP}


def _tensor_rounds(
    kinds: dict, where: str, rounds: int, env: dict | None = None, runs: dict | None = None
):
    """Set up the workers of `kinds` and time `rounds` alternating rounds:
    (results, checks).  `runs`, for workers that set up several runs, maps
    each side's name to (worker, run)."""
    progress(f"tensors {where}: setting up (checking the gradients)")
    workers, checks = start_workers(kinds, env)
    try:
        progress(f"tensors {where}: {rounds} rounds")
        if runs is None:
            sides = {k: w.run for k, w in workers.items()}
        else:
            sides = {
                name: (lambda w=workers[worker], r=run: w.run(r))
                for name, (worker, run) in runs.items()
            }
        return alternate(sides, rounds, settle=SETTLE), checks
    finally:
        close_workers(workers)


def _tensor_rows(dtype, setting, results, ours_name, numpy_name) -> list:
    ours, by_hand = results[ours_name], results[numpy_name]
    return [
        [
            dtype,
            setting,
            name,
            fmt(s.median * 1e3),
            fmt(s.page_faults),
            fmt_ratio(ratio(s, by_hand)),
            fmt_ratio(ratio(s, ours)),
        ]
        for name, s in results.items()
    ]


def tensors(cfg: Config) -> Section:
    rounds = cfg.rounds(21, 5)
    write_input(cfg, "mlp.expr", inputs.MLP_EXPR)
    ours_name, numpy_name, torch_name = f"{OURS} run(model)", "numpy, by hand", "PyTorch"
    jax_name = "JAX, jit(grad)"
    tolerances = {"float64": 1e-8, "float32": 1e-4}
    # Under `run.py --malloc-keep` every process keeps its memory already.
    settings = {
        k: v
        for k, v in MALLOC_SETTINGS.items()
        if not (k == "defaults" and MALLOC_KEEP.items() <= CHILD_ENV.items())
    }
    rows, targets, data, unsteady_notes = [], [], {}, []
    threads = None
    for dtype, tol in tolerances.items():
        kinds = {
            ours_name: ("mlp/autograd-cli", {"dtype": dtype}),
            numpy_name: ("mlp/numpy", {"dtype": dtype, "tol": tol}),
        }
        if cfg.has("torch"):
            kinds[torch_name] = ("mlp/torch", {"dtype": dtype, "tol": tol})
        if cfg.has("jax"):
            kinds[jax_name] = ("mlp/jax", {"dtype": dtype, "tol": tol})
        for setting, env in settings.items():
            where = f"{dtype}, memory {setting}"
            results, checks = _tensor_rounds(kinds, where, rounds, env)
            unsteady_notes += unsteady_note(results, f" in {where}")
            rows += _tensor_rows(dtype, setting, results, ours_name, numpy_name)
            if cfg.has("torch"):
                threads = checks[torch_name]["threads"]
            data[f"{dtype}/{setting}"] = {
                "rounds": rounds,
                "checks": checks,
                "env": env,
                "results": {k: v.to_json() for k, v in results.items()},
            }
        # The two in one process, in turn: the same history of allocations.
        where = f"{dtype}, one process"
        results, checks = _tensor_rounds(
            {"pair": ("mlp/one-process", {"dtype": dtype, "tol": tol})},
            where,
            rounds,
            runs={ours_name: ("pair", "autograd-cli"), numpy_name: ("pair", "numpy")},
        )
        unsteady_notes += unsteady_note(results, f" in {where}")
        rows += _tensor_rows(dtype, "one process", results, ours_name, numpy_name)
        r = ratio(results[ours_name], results[numpy_name])
        targets.append(
            Target(
                f"tensors {dtype}: {OURS} / numpy by hand (one process)",
                fmt_ratio(r),
                "<= 1.10x",
                r <= 1.1,
                not unsteady(results),
            )
        )
        data[f"{dtype}/one process"] = {
            "rounds": rounds,
            "checks": checks,
            "results": {k: v.to_json() for k, v in results.items()},
        }
    notes = [
        f"A 2-layer perceptron, batch {inputs.MLP_BATCH}, {inputs.MLP_WIDTH} -> "
        f"{inputs.MLP_WIDTH} -> {inputs.MLP_WIDTH} -> 1, tanh, mean squared error: "
        "forward and backward, with the gradient of every name (the input X and the "
        "hidden layers too, as autograd-cli reports them). autograd-cli: "
        "`run(model, every_node=False)`, as `eval` runs it, "
        "the model loaded outside the timer. Before timing, the gradients agree with "
        f"autograd-cli's (max|a-b|/max|b| <= {tolerances['float64']:g} in float64, <= "
        f"{tolerances['float32']:g} in float32). Each side in a process of its own, "
        f"alternating, {rounds} rounds, with a pause of {SETTLE} s before each run for "
        "OpenBLAS's threads of the previous side to stop spinning.",
        "faults/run: the minor page faults of a run (median), each a page of memory "
        "newly obtained from the operating system, as happens when the C library gave "
        "freed memory back between runs; each costs about a microsecond or more, "
        "more in a virtual machine.",
        "memory: 'defaults' runs every side under the C library's defaults; 'kept' "
        "under " + " ".join(f"{k}={v}" for k, v in MALLOC_KEEP.items()) + ", which "
        "keeps freed memory for the next run. Under the defaults glibc gives the top "
        "of its heap back to the system when more than a threshold is free there, a "
        "threshold it sets from the sizes of earlier blocks, so in a loop of runs "
        "whether a run faults its memory in again depends on the order of earlier "
        "allocations, not on the work done. Under 'kept' every side reuses its "
        "memory. 'one process': autograd-cli and the hand-written numpy set up in one "
        "worker and timed in turn there, so that both run on the same history of "
        "allocations (in processes of their own, with the C library's defaults, "
        "autograd-cli's runs fault ~1,500-3,500 pages each and the hand-written "
        "code's none; set up as autograd-cli's and then as the hand-written side's, a "
        "worker's autograd-cli runs fault none). The target is judged there: the "
        "arithmetic and each side's own overhead, on the same memory. (A command-line "
        "`eval` runs once per process: it faults its memory in once, as a script "
        "does.)",
    ]
    if threads is not None:
        notes.append(f"PyTorch threads: {threads} (its default).")
        data["torch_threads"] = threads
    if cfg.has("jax"):
        notes.append(
            "JAX: `jax.jit(jax.grad(loss))`, compiled in the warm-up (not timed); the "
            "gradients of h1, h2 and out as those of zeros added to them; the run "
            "waits for its results (JAX dispatches asynchronously)."
        )
    notes += unsteady_notes
    return Section(
        "tensors",
        "5. Tensors",
        table(
            [
                "dtype",
                "setting",
                "implementation",
                "median ms",
                "faults/run",
                "time/numpy",
                "time/ours",
            ],
            rows,
            left=3,
        ),
        notes,
        targets,
        data,
    )


WORKLOADS = {
    "cold": cold_start,
    "chain": deep_chain,
    "parse": parsing,
    "e2e": end_to_end,
    "tensors": tensors,
}
