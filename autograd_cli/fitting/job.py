"""One fit of a compiled model, from what the command line names to the
`Fitted` report: which node is minimised, over which leaves, by which
method."""

from __future__ import annotations

import math

from ..checking import scalar_target, select_leaves
from ..errors import ExprError
from .methods import LEAST_SQUARES, minimise
from .problem import Problem
from .report import Fitted


class Job:
    """A fit ready to run: the `problem`, the `settings` with the method
    chosen, and the names the report gives (`target`, `residuals`)."""

    def __init__(self, model, settings, residuals=None, of=None, wrt=(), max_elements=None):
        residual_node = target_node = None
        if residuals is not None:
            if of is not None:
                raise ExprError("--of and --residuals both name what to minimise: give one of them")
            b = model.binding(residuals, "--residuals")
            residual_node = b.node
        else:
            b = scalar_target(model, of)
            target_node = b.node
        method = settings.method or ("trf" if residual_node is not None else "lbfgs")
        if method in LEAST_SQUARES and residual_node is None:
            raise ExprError(
                f"--method {method} is least squares: name the node whose squares are "
                "summed with --residuals NAME (or use lbfgs, bfgs, newton, adam or sgd "
                f"on the target '{b.name}')"
            )
        selection = select_leaves(model, wrt)
        if selection.how == "inputs":
            raise ExprError(
                f"{model.source.name} has no param to fit: declare the values to fit with "
                "`param` (param w = 0) or name them with --wrt"
            )
        self.model = model
        self.settings = settings.chosen(method)
        self.target = b.name
        self.residuals = residuals
        self.problem = problem = Problem(model, selection.names, target_node, residual_node)
        if problem.size == 0:
            raise ExprError(
                f"nothing to fit: {', '.join(selection.names)} "
                f"{'has' if len(selection.names) == 1 else 'have'} no elements"
            )
        if max_elements is not None:
            _check_size(problem, method, residuals, max_elements, b.statement.name_span)
        self.start = problem.start()
        start = problem.objective(self.start)
        if not math.isfinite(start):
            what = f"the sum of squares of '{b.name}'" if residuals else f"the target '{b.name}'"
            raise ExprError(
                f"{what} is {start} at the start: a fit needs a finite objective there "
                "(change the params' starting values, or --set them)",
                b.statement.name_span,
            )

    def run(self, progress=None) -> Fitted:
        """Fit; `progress` (or None) is told each step."""
        outcome = minimise(self.problem, self.settings, progress)
        return Fitted(
            self.model,
            self.problem,
            self.settings,
            outcome,
            self.target,
            self.residuals,
            self.start,
            dict(self.problem.evaluations),
        )


def _check_size(problem, method, residuals, max_elements, span):
    """Refuse, before the fit, a matrix the method would make of more than
    `max_elements` elements: the Jacobian of least squares (and of the
    standard errors reported with --residuals), the Hessian of newton, the
    inverse-Hessian estimate of bfgs; each grows as the params' count
    squared, where the params themselves passed the limit."""
    n, m = problem.size, problem.m
    no_matrix = "lbfgs, adam and sgd keep no matrix of the params"
    needs = []
    if m is not None:
        hint = f"a target sum({residuals} ** 2) without --residuals: {no_matrix}"
        needs.append((m * n, f"the Jacobian of '{residuals}'", (m, n), hint))
    if method == "newton":
        needs.append((n * n, "--method newton's Hessian", (n, n), no_matrix))
    elif method == "bfgs":
        what = "--method bfgs's estimate of the inverse Hessian"
        needs.append((n * n, what, (n, n), no_matrix))
    for size, what, (rows, columns), hint in needs:
        if size > max_elements:
            raise ExprError(
                f"{what} would have {size:,} elements ({rows:,} × {columns:,}), over the "
                f"limit of {max_elements:,} (--max-elements); {hint}",
                span,
            )
