"""`check`: derivatives against finite differences, with a progress bar on
a terminal."""

from __future__ import annotations

import contextlib
import os
import sys

from ..options import CHECK_DIRECTIONS, CHECK_SAMPLES, CHECK_SEED
from ..process import collector_off
from ..streams import is_terminal
from .runner import Command


class Check(Command):
    """`autograd-cli check`: derivatives against finite differences; a file
    fails when any is out of tolerance."""

    def __init__(
        self,
        eps=1e-6,
        rtol=1e-5,
        atol=1e-8,
        order=1,
        full=False,
        directions=CHECK_DIRECTIONS,
        samples=CHECK_SAMPLES,
        seed=CHECK_SEED,
    ):
        self.eps, self.rtol, self.atol, self.order = eps, rtol, atol, order
        self.full, self.directions, self.samples, self.seed = full, directions, samples, seed

    def compute(self, file):
        from ..checking import check

        options = file.options
        source = file.source()
        model = file.load(source)
        model64 = model if options.dtype == "float64" else file.load(source, dtype="float64")
        label = "<stdin>" if file.path == "-" else os.path.basename(file.path)
        with _progress_bar(f"checking {label}") as bar:
            result = check(
                model64,
                model,
                target=options.of,
                wrt=options.wrt,
                eps=self.eps,
                rtol=self.rtol,
                atol=self.atol,
                order=self.order,
                full=self.full,
                directions=self.directions,
                samples=self.samples,
                seed=self.seed,
                max_elements=options.max_elements,
                progress=bar,
            )
        return model, result

    def render(self, result, out):
        from ..render import check_dict, render_check

        model, checked = result
        if out.format == "json":
            out.json(check_dict(model, out.path, checked))
        else:
            out.table(
                lambda console: render_check(
                    model, out.label, checked, self.rtol, self.atol, console
                )
            )

    def passed(self, result):
        return result[1].ok


class _Bar:
    """A Rich progress bar as `checking.check` drives it (start, advance)."""

    def __init__(self, progress, label):
        self.progress = progress
        self.label = label
        self.task = None

    def start(self, total):
        self.task = self.progress.add_task(self.label, total=total)

    def advance(self, n=1):
        if self.task is not None:
            self.progress.advance(self.task, n)


@contextlib.contextmanager
def _progress_bar(label):
    """A transient progress bar on stderr when stderr is a terminal, else
    None: redirected output and logs stay free of it."""
    if not is_terminal(sys.stderr):
        yield None
        return
    with collector_off():
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("evaluations"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=sys.stderr), transient=True) as progress:
        yield _Bar(progress, label)
