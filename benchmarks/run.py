"""The benchmark suite of autograd-cli.

    python benchmarks/run.py                  # everything (several minutes)
    python benchmarks/run.py --quick          # a smoke run, under a minute
    python benchmarks/run.py --only chain     # one workload
    python benchmarks/run.py --json out.json  # also write the figures

Prints the environment, then one table of medians and ratios per workload,
then every target with its verdict.  Progress goes to stderr.  See
benchmarks/README.md for what each workload measures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
WIDTH = 96  # notes are wrapped to this many columns

import fitting  # noqa: E402
import longline  # noqa: E402
import numpy as np  # noqa: E402  (for its version)

import derivatives  # noqa: E402
import harness  # noqa: E402
import peers  # noqa: E402
import workloads  # noqa: E402
from harness import table  # noqa: E402
from workloads import Config  # noqa: E402

WORKLOADS = {
    **workloads.WORKLOADS,
    **derivatives.WORKLOADS,
    **fitting.WORKLOADS,
    **longline.WORKLOADS,
}


def _git_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "autograd_cli"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (autograd_cli/ has uncommitted changes)" if dirty.strip() else "")


def _load_average() -> str | None:
    """The 1, 5 and 15-minute load averages: how busy the machine is anyway."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (AttributeError, OSError):
        return None


def environment(found: dict) -> dict:
    import autograd_cli

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = None
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "executable": sys.executable,
        "numpy": np.__version__,
        "autograd_cli": autograd_cli.__version__,
        "revision": _git_revision(),
        "editable": workloads.editable_install(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "load_average": _load_average(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "peers": found,
    }


def print_environment(env: dict) -> None:
    cpus = f"{env['cpu_count']}"
    if env["cpus_usable"] not in (None, env["cpu_count"]):
        cpus += f" ({env['cpus_usable']} usable)"
    found = ", ".join(f"{m} {v}" for m, v in env["peers"].items() if v) or "none"
    skipped = ", ".join(m for m, v in env["peers"].items() if not v) or "none"
    print("autograd-cli benchmarks")
    print(f"  date          {env['date']}")
    install = "; an editable install" if env["editable"] else ""
    print(f"  autograd-cli  {env['autograd_cli']}, revision {env['revision']}{install}")
    print(f"  python        {env['python']} ({env['executable']})")
    print(f"  numpy         {env['numpy']}")
    print(f"  platform      {env['platform']}")
    print(f"  CPUs          {cpus}")
    if env["load_average"]:
        print(f"  load average  {env['load_average']} (before the suite)")
    if env["OPENBLAS_CORETYPE"]:
        print(f"  OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']}")
    print(f"  malloc        {env['malloc']}")
    print(f"  peers found   {found}")
    print(f"  skipped       {skipped}")
    print()


def print_section(section) -> None:
    print(section.title)
    print(section.table)
    for paragraph in section.notes:
        print()
        print(
            textwrap.fill(
                paragraph,
                width=WIDTH,
                initial_indent="  ",
                subsequent_indent="  ",
                break_on_hyphens=False,
            )
        )
    print(flush=True)


def print_targets(targets) -> None:
    verdicts = {True: "ok", False: "MISS", None: "-"}
    print("Targets")
    print(
        table(
            ["", "measured", "target", ""],
            [
                [t.what, t.measured, t.goal, verdicts[t.ok] + ("" if t.firm else "?")]
                for t in targets
            ],
        )
    )
    if not all(t.firm for t in targets):
        print(
            "\n  ?: the machine was busy during those rounds (see the notes): not a firm verdict."
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmarks of autograd-cli: medians and same-run ratios."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer rounds and smaller inputs: a smoke run of under a minute",
    )
    parser.add_argument(
        "--only",
        choices=list(WORKLOADS),
        metavar="NAME",
        help=f"run one workload: {', '.join(WORKLOADS)}",
    )
    parser.add_argument("--json", metavar="FILE", help="also write every figure to FILE")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the directory of generated inputs (its path is printed)",
    )
    parser.add_argument(
        "--malloc-keep",
        action="store_true",
        help="tell the C library (glibc) of every process the suite starts to "
        "keep freed memory instead of giving it back between runs, to "
        "see a workload's figures without the page faults that follow",
    )
    args = parser.parse_args(argv)

    if args.malloc_keep:
        harness.CHILD_ENV.update(harness.MALLOC_KEEP)
    env = environment(peers.find_peers())
    env["malloc"] = (
        "keep freed memory: " + " ".join(f"{k}={v}" for k, v in harness.MALLOC_KEEP.items())
        if args.malloc_keep
        else "the C library's defaults"
    )
    print_environment(env)
    names = [args.only] if args.only else list(WORKLOADS)
    workdir = tempfile.mkdtemp(prefix="autograd-cli-bench-")
    cfg = Config(quick=args.quick, workdir=workdir, repo=REPO, peers=env["peers"])
    sections = []
    started = time.perf_counter()
    try:
        for name in names:
            sections.append(WORKLOADS[name](cfg))
            print_section(sections[-1])
    finally:
        if args.keep:
            print(f"generated inputs kept in {workdir}\n")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.perf_counter() - started
    targets = [t for s in sections for t in s.targets]
    print_targets(targets)
    print(
        f"\n  {sum(t.ok is True for t in targets)} of {len(targets)} targets met; "
        f"the suite took {elapsed:.0f} s{' (--quick)' if args.quick else ''}; "
        f"load average now {_load_average()}."
    )

    if args.json:
        document = {
            "environment": env,
            "quick": args.quick,
            "elapsed_s": elapsed,
            "load_average_after": _load_average(),
            "workloads": {s.name: s.data for s in sections},
            "targets": [vars(t) for t in targets],
        }
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(document, f, indent=2)
            f.write("\n")
        print(f"  figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
