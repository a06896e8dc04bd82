"""What `fit` reports: the fitted model's numbers (`Fitted`, with the
standard errors of least squares), its JSON, its table, and the file
`--out` writes (`--set-json`'s format)."""

from __future__ import annotations

import numpy as np

from ..jsonout import head_dict, json_array, json_number, to_json


def standard_errors(J, r) -> np.ndarray:
    """Each parameter's standard error from the residuals' Jacobian `J`
    (m by p) and residuals `r` at the optimum: sqrt(diag(s² (JᵀJ)⁻¹)) with
    s² = RSS / (m − p), as NIST's reference datasets certify them.  The
    inverse comes from J's singular values rather than from JᵀJ, whose
    condition number is the square of J's; nan where it does not exist
    (m ≤ p, or J rank-deficient)."""
    m, p = J.shape
    if m <= p or not np.all(np.isfinite(J)) or not np.all(np.isfinite(r)):
        return np.full(p, np.nan)
    _, s, vt = np.linalg.svd(J, full_matrices=False)
    if s[-1] <= s[0] * p * np.finfo(np.float64).eps:
        return np.full(p, np.nan)
    s2 = float(r @ r) / (m - p)
    return np.sqrt(np.sum((vt / s[:, None]) ** 2, axis=0) * s2)


class Fitted:
    """A fit's result for the report: the method's `outcome`, the
    objective at the start and the end, and per parameter its start,
    value, gradient and (least squares) standard error, shaped as the
    parameter."""

    def __init__(self, model, problem, settings, outcome, target, residuals, start, evaluations):
        self.model = model
        self.problem = problem
        self.settings = settings
        self.outcome = outcome
        self.target = target  # the objective's name as the report gives it
        self.residuals = residuals  # --residuals' name, or None
        self.evaluations = evaluations
        x = np.asarray(outcome.x, dtype=np.float64)
        self.objective_start = problem.objective(start)
        self.objective_end = problem.objective(x)
        grad = problem.gradient(x)
        self.stderr = None
        if residuals is not None:
            self.stderr = problem.split(
                standard_errors(problem.jacobian(x), problem.residual_vector(x))
            )
        problem.set(x)  # the model holds the answer from now on
        self.start = problem.split(start)
        self.value = problem.split(x)
        self.grad = problem.split(grad)
        self.names = problem.names

    def params(self) -> dict:
        """The fitted values by name, as --set-json reads them."""
        return {n: json_array(v) for n, v in zip(self.names, self.value)}


def out_text(fitted: Fitted) -> str:
    """The file --out writes: the fitted parameters in --set-json's format."""
    return to_json(fitted.params(), compact=False) + "\n"


def fit_dict(fitted: Fitted, file_label: str) -> dict:
    """The JSON document: the common head, then "fit"."""
    o = fitted.outcome
    params = {}
    for k, name in enumerate(fitted.names):
        entry = {"start": json_array(fitted.start[k]), "value": json_array(fitted.value[k])}
        if fitted.stderr is not None:
            entry["stderr"] = json_array(fitted.stderr[k])
        entry["grad"] = json_array(fitted.grad[k])
        params[name] = entry
    fit = {"method": fitted.settings.method}
    if fitted.residuals is not None:
        fit["residuals"] = fitted.residuals
    fit.update(
        {
            "converged": bool(o.converged),
            "reason": o.reason,
            "steps": int(o.steps),
            "evaluations": dict(fitted.evaluations),
            "objective": {
                "start": json_number(fitted.objective_start),
                "end": json_number(fitted.objective_end),
            },
            "params": params,
            "history": [[int(s), json_number(f)] for s, f in o.history],
        }
    )
    return {**head_dict(fitted.model, file_label, fitted.target), "fit": fit}


def render_fit(fitted: Fitted, file_label: str, console):
    """The report for people: a line on how the fit went, the objective
    from start to end, and a row per parameter."""
    from rich.table import Table
    from rich.text import Text

    from ..render import fmt_number, fmt_shape_short, fmt_tensor

    o = fitted.outcome
    what = (
        f"sum of squares of {fitted.residuals}" if fitted.residuals is not None else fitted.target
    )
    status = ("converged", "green") if o.converged else ("not converged", "yellow")
    ev = fitted.evaluations
    counts = f"{ev['function']} function, {ev['gradient']} gradient"
    if ev.get("hessian"):
        counts += f", {ev['hessian']} Hessian"
    console.print(
        Text.assemble(
            (file_label, "bold"),
            f"  fit of {what} by {fitted.settings.method}: ",
            status,
            f" ({o.reason}) after {o.steps} steps, {counts} evaluations",
        )
    )
    console.print(
        Text.assemble(
            f"objective {fmt_number(fitted.objective_start)} → ",
            (fmt_number(fitted.objective_end), "bold"),
            f"  ({fitted.model.dtype})",
        )
    )
    table = Table(header_style="bold")
    table.add_column("param", no_wrap=True)
    table.add_column("shape", no_wrap=True)
    table.add_column("start", justify="right")
    table.add_column("value", justify="right")
    if fitted.stderr is not None:
        table.add_column("std. error", justify="right")
    table.add_column("gradient", justify="right")
    for k, name in enumerate(fitted.names):
        row = [
            Text(name, style="bold"),
            fmt_shape_short(np.shape(fitted.value[k])),
            Text(fmt_tensor(fitted.start[k])),
            Text(fmt_tensor(fitted.value[k]), style="bold"),
        ]
        if fitted.stderr is not None:
            row.append(Text(fmt_tensor(fitted.stderr[k])))
        row.append(Text(fmt_tensor(fitted.grad[k]), style="green"))
        table.add_row(*row)
    console.print(table)
