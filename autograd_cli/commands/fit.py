"""`fit`: a fit of the params, its progress bar on a terminal, and
--out's file."""

from __future__ import annotations

import contextlib
import os
import sys

from ..errors import display_path, print_diagnostic, shorten
from ..process import collector_off
from ..streams import EXIT_IO, Stop, is_terminal
from .runner import Command, at_path

# What a shell reports for a process stopped by Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130


class Fit(Command):
    """`autograd-cli fit`: minimise the scalar target (or, with
    `residuals`, the sum of the squares of that node) over the params, or
    the leaves --wrt names; report how it went, write `out` (the fitted
    values in --set-json's format)."""

    def __init__(self, settings, residuals=None, out=None):
        self.settings = settings  # fitting.methods.Settings; method None: the default
        self.residuals = residuals
        self.out = out
        self.strict = False  # the last file's --strict

    def compute(self, file):
        from ..fitting.job import Job
        from ..fitting.report import out_text

        options = file.options
        self.strict = options.strict
        model = file.load(keep_exprs=False)
        if self.out is not None and is_input(self.out, file.access.read):
            from ..errors import ExprError

            raise ExprError(f"--out {self.out} is a data file the model loads: name another file")
        job = Job(
            model, self.settings, self.residuals, options.of, options.wrt, options.max_elements
        )
        if self.out is not None:
            self._check_set_json(file.given.names_in, job.problem.names)
        label = "<stdin>" if file.path == "-" else os.path.basename(str(file.label))
        with _fit_progress(f"fit {label}", job.settings.steps) as bar:
            fitted = job.run(bar)
        outcome = fitted.outcome
        if self.out is not None:
            _write_out(self.out, out_text(fitted))
        if not outcome.converged and not self._ran_all_steps(fitted):
            print_diagnostic(
                "warning",
                f"the fit did not converge: {outcome.reason} after {outcome.steps} steps"
                + (" (--steps raises the limit)" if outcome.reason == "step limit reached" else ""),
                None,
                file.label,
            )
        return fitted

    def _ran_all_steps(self, fitted):
        """Whether the fit ran its --steps with the convergence test off
        (--tol 0), as asked: no warning, no failure."""
        return fitted.settings.tol == 0 and fitted.outcome.reason == "step limit reached"

    def _check_set_json(self, names_in, fitted):
        """--out may be the --set-json file the fit started from (a warm
        restart) only when that file holds nothing but the fitted params:
        anything else in it would be lost."""
        for path, names in names_in.items():
            if not is_input(self.out, [path]):
                continue
            others = [name for name in names if name not in fitted]
            if others:
                from ..errors import ExprError

                raise ExprError(
                    f"--out {self.out} is the --set-json file, which also gives "
                    f"{_listed(others)}: the fitted params alone would replace it; "
                    "name another file"
                )

    def render(self, fitted, out):
        from ..fitting.report import fit_dict, render_fit

        if out.format == "json":
            out.json(fit_dict(fitted, out.path))
        else:
            out.table(lambda console: render_fit(fitted, out.label, console))

    def passed(self, fitted):
        if fitted.outcome.reason == "interrupted":
            raise Stop(EXIT_INTERRUPTED)
        if self._ran_all_steps(fitted):
            return True
        return fitted.outcome.converged or not self.strict


def is_input(out, files) -> bool:
    """Whether `out` names one of `files` (the same file, by another name
    or a link too)."""
    for path in files:
        if path == "-":
            continue
        try:
            if os.path.samefile(out, path):
                return True
        except OSError:  # either missing: not the same file
            pass
    return False


def given_files(sets):
    """The data files the command line itself has the run read, each with
    the option that names it: every --set NAME=@PATH's PATH.  (A --set-json
    file may be --out when it holds only the fitted params: see
    `Fit._check_set_json`.)"""
    files = []
    for item in sets:
        found = at_path(item)
        if found is not None:
            files.append((found[1], f"--set {item.partition('=')[0].strip()}=@"))
    return files


def _listed(names, most=5):
    """`names` quoted for a message, the first `most` of them."""
    shown = ", ".join(f"'{name}'" for name in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _write_out(path, text):
    """Write `fit --out`'s file as `test --junit-xml` writes its report: a
    regular file atomically (readers never see half of it); a FIFO, the
    terminal, /dev/null or our own stdout in place; a directory, another
    device or a link to a file refused.  A failure is reported and stops
    with exit 74."""
    from ..golden.write import write_report

    try:
        write_report(path, text)
    except OSError as e:
        sys.stderr.write(
            shorten(
                f"autograd-cli: error: cannot write --out {display_path(path)}: {e.strerror or e}"
            )
            + "\n"
        )
        raise Stop(EXIT_IO) from None


class _FitBar:
    """The fit's Rich progress bar, told each step's objective and
    gradient norm."""

    def __init__(self, progress, task):
        self.progress = progress
        self.task = task

    def update(self, step, objective, grad_norm):
        """Show step `step`."""
        from ..render import fmt_number

        self.progress.update(
            self.task,
            completed=step,
            objective=fmt_number(objective),
            grad="" if grad_norm is None else fmt_number(grad_norm),
        )


@contextlib.contextmanager
def _fit_progress(label, steps):
    """A transient progress bar on stderr while a fit runs on a terminal
    (step, objective, gradient norm); None when stderr is not one."""
    if not is_terminal(sys.stderr):
        yield None
        return
    with collector_off():
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("step {task.completed}/{task.total}"),
        TextColumn("objective {task.fields[objective]}"),
        TextColumn("|gradient| {task.fields[grad]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(file=sys.stderr), transient=True) as progress:
        task = progress.add_task(label, total=steps, objective="", grad="")
        yield _FitBar(progress, task)
