"""Timing machinery shared by the workloads: interleaved rounds, same-round
ratios, worker processes, whole-process runs with their peak memory, and
plain-text tables.

The machine these benchmarks run on is assumed to be noisy (shared, few
cores, speed drifting by 25% or more from one minute to the next).  So no
figure here rests on an absolute time alone: the sides of a comparison run
in turn, round after round (A, B, A, B, ...), a ratio is taken inside each
round, where both sides saw the same machine, and the figure reported is
the median over the rounds.

Sides timed in-process each run in a worker process of their own
(`worker.py`).  A Python process's garbage collector walks every object
alive in it, so timing autograd-cli next to an imported PyTorch, or parsing
next to a loaded 100,000-node model, would charge one side for the other's
objects.  In its own process each side pays only for itself, as it would
when run for real.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))


class SideFailed(Exception):
    """A side that cannot run, such as micrograd hitting the recursion limit.
    It is reported in the table in place of a time."""


@dataclass
class Run:
    """One timed run of a side."""

    seconds: float
    peak_bytes: int | None = None  # whole processes: peak resident set size
    page_faults: int | None = None  # in-process sides: minor page faults during the run


@dataclass
class Samples:
    """The measurements of one side of a comparison, one per round."""

    name: str
    times: list = field(default_factory=list)  # seconds
    peaks: list = field(default_factory=list)  # bytes, for whole-process sides
    faults: list = field(default_factory=list)  # minor page faults, for in-process sides
    error: str | None = None  # why there are no times

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    @property
    def peak(self) -> float | None:
        return statistics.median(self.peaks) if self.peaks else None

    @property
    def page_faults(self) -> float | None:
        return statistics.median(self.faults) if self.faults else None

    def to_json(self) -> dict:
        return {
            "median_s": self.median,
            "times_s": self.times,
            "peak_bytes": self.peak,
            "peaks_bytes": self.peaks,
            "page_faults": self.page_faults,
            "page_faults_each": self.faults,
            "error": self.error,
        }


def alternate(
    sides: dict[str, Callable[[], Run]], rounds: int, *, settle: float = 0.0
) -> dict[str, Samples]:
    """Run every side once per round, in turn, for `rounds` rounds.

    A side is a function of no arguments that does one complete run and
    returns a `Run`.  A side raising `SideFailed` is recorded as failed and
    not run again.

    Each round runs the sides in an order of its own, shuffled (seeded by
    the round's number, so a run of the suite is repeatable): a side can
    leave the machine slower for the next process (a PyTorch script
    freeing 200 MB), and in a fixed cycle, rotated or not, the same side
    would nearly always come right after it.

    `settle` is a pause before each run, for sides that leave the machine
    busy after they return: OpenBLAS's threads spin for about 0.1 s after a
    matrix product, and on a 2-core machine a spinning thread of one worker
    would slow the next worker's run.
    """
    results = {name: Samples(name) for name in sides}
    order = list(sides.items())
    for r in range(rounds):
        for name, run_once in random.Random(r).sample(order, len(order)):
            samples = results[name]
            if samples.error is not None:
                continue
            if settle:
                time.sleep(settle)
            try:
                run = run_once()
            except SideFailed as failure:
                samples.error = str(failure)
                continue
            samples.times.append(run.seconds)
            if run.peak_bytes is not None:
                samples.peaks.append(run.peak_bytes)
            if run.page_faults is not None:
                samples.faults.append(run.page_faults)
    return results


def ratio(a: Samples | None, b: Samples | None) -> float | None:
    """The median over the rounds of a's time divided by b's in the same round."""
    if a is None or b is None or not a.times or len(a.times) != len(b.times):
        return None
    return statistics.median(x / y for x, y in zip(a.times, b.times))


def unsteady(results: dict[str, Samples], limit: float = 2.0) -> list[str]:
    """The sides whose median time is over `limit` times their fastest run:
    something else took the machine during most of their rounds."""
    return [name for name, s in results.items() if s.times and s.median > limit * min(s.times)]


# -------------------------------------------------------------- worker sides


class Worker:
    """A side timed in a process of its own: see `worker.py` for the other end.

    `kind` names a side in `sides.SIDES`; `args` are passed to it.  Setting
    up (building inputs, one warm-up run, checking the result) is started by
    `start` and collected by `setup`, so that several workers can set up at
    once; `run` then times one run inside the worker.
    """

    def __init__(self, kind: str, env: dict | None = None, **args):
        self.kind, self.args = kind, args
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "worker.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**CHILD_ENV, **(env or {})},
        )

    def _send(self, message: dict) -> None:
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def _receive(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(
                f"the worker for {self.kind} {self.args} died (exit code {self.proc.wait()})"
            )
        reply = json.loads(line)
        if "fatal" in reply:
            raise RuntimeError(f"the worker for {self.kind} {self.args} failed:\n" + reply["fatal"])
        if "failed" in reply:
            raise SideFailed(reply["failed"])
        return reply

    def start(self) -> Worker:
        self._send({"setup": self.kind, "args": self.args})
        return self

    def setup(self):
        """The result of the warm-up run, for checking (raises SideFailed)."""
        return self._receive()["check"]

    def run(self, which: str | None = None) -> Run:
        """Time one run in the worker (`which` names one of a side's runs,
        for a side that sets up several in one process)."""
        self._send({"run": which or True})
        reply = self._receive()
        return Run(reply["seconds"], page_faults=reply["page_faults"])

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self._send({"quit": True})
            except BrokenPipeError:
                pass
        self.proc.stdin.close()
        self.proc.wait()
        self.proc.stdout.close()


def start_workers(kinds: dict[str, tuple], env: dict | None = None) -> tuple[dict, dict]:
    """Start and set up one worker per side, all at once: {name: (kind, args)};
    `env` adds to every worker's environment.

    Returns ({name: worker} for the sides that work, {name: check result or
    the error of a side that failed}).
    """
    workers = {name: Worker(kind, env, **args).start() for name, (kind, args) in kinds.items()}
    checks = {}
    try:
        for name, worker in list(workers.items()):
            try:
                checks[name] = worker.setup()
            except SideFailed as failure:
                checks[name] = failure
                worker.close()
                del workers[name]
    except BaseException:
        close_workers(workers)
        raise
    return workers, checks


def close_workers(workers: dict) -> None:
    for worker in workers.values():
        worker.close()


# ------------------------------------------------------------ whole processes


def _gnu_time() -> str | None:
    for candidate in filter(None, ("/usr/bin/time", shutil.which("time"))):
        try:
            out = subprocess.run([candidate, "--version"], capture_output=True, text=True)
        except OSError:
            continue
        if "GNU" in out.stdout + out.stderr:
            return candidate
    return None


GNU_TIME = _gnu_time()

# Without GNU time: a small Python wrapper runs the command and reads its
# peak from getrusage(RUSAGE_CHILDREN).
_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[2:])\n"
    "with open(sys.argv[1], 'w') as f:\n"
    "    f.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(code)\n"
)


def peak_method() -> str:
    if GNU_TIME:
        return f"{GNU_TIME} -f %M"
    if importlib.util.find_spec("resource") is None:  # Windows
        return "none (no GNU time, no resource module)"
    return "getrusage(RUSAGE_CHILDREN) in a Python wrapper"


# Child processes cache their bytecode, as an installed package has it (pip
# compiles it at install): a PYTHONDONTWRITEBYTECODE in this environment
# would make every cold start compile autograd-cli's modules again.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
# glibc's tunables for `run.py --malloc-keep`: no returning the top of the
# heap to the system, no separate mappings for big blocks, so that memory
# freed by one run is reused by the next instead of being faulted in again.
MALLOC_KEEP = {"MALLOC_TRIM_THRESHOLD_": str(2**30), "MALLOC_MMAP_THRESHOLD_": str(2**25)}


def run_process(argv: list[str], *, cwd: str | None = None, stdout_path: str | None = None) -> Run:
    """Run `argv` to completion, its stdout to `stdout_path` (by default the
    null device).  Returns the wall-clock time and the peak resident set
    size (None if it cannot be had); a non-zero exit raises, with the
    child's stderr.

    The peak memory comes from GNU time (`-f %M`), whose own process is tiny.
    (Reading it from this process's wait4 would not do: a child forked from
    a big parent inherits the parent's peak.)  The timer includes starting
    the measuring wrapper, the same small cost for every command.
    """
    fd, peak_file = tempfile.mkstemp(prefix="peak-")
    os.close(fd)
    if GNU_TIME:
        wrapped = [GNU_TIME, "-f", "%M", "-o", peak_file, *argv]
    elif peak_method().startswith("getrusage"):
        wrapped = [sys.executable, "-c", _WRAPPER, peak_file, *argv]
    else:
        wrapped = argv
    try:
        with open(stdout_path or os.devnull, "wb") as out:
            start = time.perf_counter()
            proc = subprocess.run(
                wrapped, cwd=cwd, stdout=out, stderr=subprocess.PIPE, env=CHILD_ENV
            )
            seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} exited with {proc.returncode}:\n"
                + proc.stderr.decode(errors="replace").strip()
            )
        with open(peak_file, encoding="utf-8") as f:
            last = (f.read().split() or [""])[-1]
    finally:
        os.unlink(peak_file)
    kib = int(last) if last.isdigit() else None
    if kib is not None and sys.platform == "darwin" and not GNU_TIME:
        kib //= 1024  # macOS's ru_maxrss is in bytes
    return Run(seconds, peak_bytes=kib * 1024 if kib is not None else None)


# ---------------------------------------------------------------- formatting


def table(headers: list[str], rows: list[list[str]], *, left: int = 1, indent: str = "  ") -> str:
    """A plain-text table: the first `left` columns left-aligned, the others
    (the figures) right-aligned."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells):
        parts = [
            str(c).ljust(widths[i]) if i < left else str(c).rjust(widths[i])
            for i, c in enumerate(cells)
        ]
        return indent + "  ".join(parts).rstrip()

    rule = indent + "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def fmt(value: float | None, digits: int = 3, unit: str = "") -> str:
    """`value` to `digits` significant digits (thousands separated), or '-'."""
    if value is None:
        return "-"
    if value == 0 or abs(value) >= 10 ** (digits - 1):
        return f"{value:,.0f}{unit}"
    return f"{value:.{digits}g}{unit}"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"
