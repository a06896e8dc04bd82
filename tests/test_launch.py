"""The Typer-free path for plain `eval` invocations agrees with the Typer app."""

import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from autograd_cli import launch
from autograd_cli.cli import app

from common import ROOT

ARGVS = [
    ["examples/seed.expr"],
    ["examples/seed.expr", "--format", "json"],
    ["examples/seed.expr", "-f", "json", "--of", "c", "--wrt", "w", "--wrt", "b1"],
    ["--format=json", "examples/seed.expr", "--of=b1"],
    ["examples/seed.expr", "examples/bond.expr", "-f", "json"],
    ["examples/seed.expr", "--set", "w=[1, 2, 3, 4, 5]", "--set", "a1=0.5", "-f", "json"],
    ["examples/seed.expr", "--dtype", "float32", "-f", "json", "--strict"],
    ["examples/seed.expr", "--max-elements", "3", "-f", "json"],
    ["examples/seed.expr", "--of", "nope"],
    ["examples/seed.expr", "--set", "b1=3"],
    ["examples/missing.expr", "examples/seed.expr", "-f", "json"],
    ["--", "examples/seed.expr"],
    ["-e", "param x = 2; y = x ** 3"],
    ["--expr", "param w = [1, 2]; L = sum(w * w)", "-f", "json", "--wrt", "w"],
    ["--expr=a = 1", "-e", "b = a * 3", "--format=json"],
    ["-e", "x = 2 ^ 3"],
    ["-e", "x = 1; y = ln(x)"],
    ["-e", 'x = load("../outside.csv")'],
    ["-e", 'x = load("../outside.csv")', "--allow-read", "..", "--allow-read=/tmp"],
    ["examples/seed.expr", "--set", "a1=@examples/none.json"],
]


@pytest.mark.parametrize("args", ARGVS, ids=" ".join)
def test_fast_path_matches_typer(args, monkeypatch, capfd):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "120")
    assert launch.parse_eval_args(args) is not None, "this argv should take the fast path"
    code = launch.run(["eval", *args])
    fast = capfd.readouterr()
    typer_result = CliRunner().invoke(app, ["eval", *args])
    assert code == typer_result.exit_code
    assert fast.out == typer_result.stdout
    assert fast.err == typer_result.stderr


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--help"],
        ["-h", "examples/seed.expr"],
        ["examples/seed.expr", "--bogus"],
        ["examples/seed.expr", "--format", "yaml"],
        ["examples/seed.expr", "--dtype", "int8"],
        ["examples/seed.expr", "--set", "novalue"],
        ["examples/seed.expr", "--max-elements", "0"],
        ["examples/seed.expr", "--max-elements", "lots"],
        ["examples/seed.expr", "--of"],
        ["examples/seed.expr", "-fjson"],
        ["examples/seed.expr", "--strict", "true"],
        ["examples/seed.expr", "-e", "x = 1"],
        ["-e"],
        ["-ex = 1"],
        ["-e=x = 1"],
    ],
)
def test_anything_unusual_goes_to_typer(args):
    assert launch.parse_eval_args(args) is None


def test_usage_errors_still_exit_2(monkeypatch, capfd):
    monkeypatch.chdir(ROOT)
    assert launch.run(["eval", "examples/seed.expr", "--format", "yaml"]) == 2
    assert launch.run(["eval", "examples/seed.expr", "--set", "novalue"]) == 2
    assert launch.run(["nonsense"]) == 2
    assert launch.run(["--version"]) == 0


def test_plain_eval_imports_neither_typer_nor_rich_nor_lark():
    code = (
        "import sys, autograd_cli.launch as l\n"
        "c = l.run(['eval', 'examples/seed.expr', '-f', 'json'])\n"
        "print(c, 'typer' in sys.modules, 'rich' in sys.modules, 'lark' in sys.modules,\n"
        "      file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.stderr.split() == ["0", "False", "False", "False"], proc.stderr


@pytest.mark.parametrize("via_typer", [False, True])
def test_timings_go_to_stderr(via_typer, monkeypatch, capfd):
    import json

    monkeypatch.chdir(ROOT)
    args = ["eval", "examples/seed.expr", "-f", "json", "--timings"]
    if via_typer:
        result = CliRunner().invoke(app, args)
        code, out, err = result.exit_code, result.stdout, result.stderr
    else:
        code = launch.run(args)
        out, err = capfd.readouterr()
    assert code == 0
    assert json.loads(out)["nodes"]["w"]["grad"] == [-28, -21, -12, -23, -36]
    lines = err.splitlines()
    assert lines[0] == "timings for examples/seed.expr:"
    phases = [line.split()[0] for line in lines[1:]]
    assert phases[-6:] == ["parse", "check", "evaluate", "backward", "render", "total"]
    total = float(lines[-1].split()[1])
    assert total == pytest.approx(sum(float(line.split()[1]) for line in lines[1:-1]), abs=0.01)


def test_startup_counts_the_interpreter_then_the_clock(monkeypatch):
    """--timings' start-up: the CPU time before autograd-cli's first line
    plus the wall clock since; the kernel's coarser figure only when it says
    the process is older (a cold start from disk), less one step of that
    clock, so that the figure is one the process has certainly lived."""
    from autograd_cli import process

    now = 1000.0
    monkeypatch.setattr(process.time, "perf_counter", lambda: now)
    monkeypatch.setattr(process, "STARTED", (0.040, now - 0.025))
    monkeypatch.setattr(process, "_kernel_age", lambda: 0.070)
    assert process.startup_seconds() == pytest.approx(0.065, abs=0.004)
    monkeypatch.setattr(process, "_kernel_age", lambda: 0.300)
    assert process.startup_seconds() == pytest.approx(0.300 - process.KERNEL_CLOCK_STEP)
    assert process.startup_seconds() < 0.300
    monkeypatch.setattr(process, "_kernel_age", lambda: None)
    assert process.startup_seconds() == pytest.approx(0.065, abs=0.004)


def test_startup_of_a_real_process_is_within_its_life():
    """In a process of its own, start-up is positive and no longer than the
    run, and the run no longer than the process lived."""
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograd_cli",
            "eval",
            "examples/seed.expr",
            "-f",
            "json",
            "--timings",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lived = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stderr.splitlines() if x.strip().startswith("start-up"))
    ms = float(line.split()[1])
    total = float(proc.stderr.splitlines()[-1].split()[1])
    assert 0 < ms <= total <= lived * 1e3
