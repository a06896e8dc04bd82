"""The methods `fit` minimises with: least squares (`lm`, `trf`),
quasi-Newton (`lbfgs`, `bfgs`) and Newton (`newton`) from SciPy's
`optimize`, and the first-order methods (`adam`, `sgd`) of `first_order`,
each driven by a `Problem`'s exact derivatives.  `minimise` runs one and
returns an `Outcome`; Ctrl-C stops it at the best point so far."""

from __future__ import annotations

import math
import warnings

import numpy as np

LEAST_SQUARES = ("lm", "trf")
QUASI_NEWTON = ("lbfgs", "bfgs", "newton")
FIRST_ORDER = ("adam", "sgd")
METHODS = LEAST_SQUARES + QUASI_NEWTON + FIRST_ORDER

# The steps a method may take when --steps does not say: least squares
# counts evaluations of the residuals (least_squares' max_nfev), and NIST's
# harder problems need over a thousand from their first starting point.
DEFAULT_STEPS = {"lm": 10_000, "trf": 10_000, "lbfgs": 15_000, "bfgs": 15_000, "newton": 1_000}
DEFAULT_STEPS.update({"adam": 1_000, "sgd": 1_000})

# Least squares stops only when a further step cannot change the residuals,
# the parameters or the gradient in float64 (MINPACK's tolerances at machine
# epsilon): NIST's certified values are reached that way.  The others keep
# SciPy's defaults (their gradient tolerances) unless --tol says otherwise.
EPS = float(np.finfo(np.float64).eps)
FIRST_ORDER_TOL = 1e-5  # on the largest |gradient| element, as L-BFGS-B's gtol

_LSQ_REASONS = {
    -1: "improper input",
    0: "step limit reached",
    1: "gradient below tolerance",
    2: "objective change below tolerance",
    3: "step below tolerance",
    4: "objective change and step below tolerance",
}


class Settings:
    """What the command line says about the method: `method` (None: the
    default, decided by `chosen`), `steps` (None: the method's default),
    `tol` (None: its default; 0: off) and the first-order methods'
    hyperparameters (None: torch.optim's defaults)."""

    def __init__(
        self,
        method=None,
        steps=None,
        tol=None,
        lr=None,
        momentum=None,
        nesterov=False,
        weight_decay=None,
    ):
        self.method = method
        self.steps = DEFAULT_STEPS[method] if steps is None and method is not None else steps
        self.tol = tol
        self.lr, self.momentum, self.nesterov = lr, momentum, nesterov
        self.weight_decay = weight_decay

    def chosen(self, method):
        """These settings with `method` where none was named."""
        if self.method is not None:
            return self
        return Settings(
            method, self.steps, self.tol, self.lr, self.momentum, self.nesterov, self.weight_decay
        )


class Outcome:
    """How a fit went: the point it ends at (`x`), whether it converged and
    why (`reason`), its steps, the objective after each (`history`: [step,
    objective] pairs, step 0 the start)."""

    def __init__(self, x, converged, reason, steps, history):
        self.x = x
        self.converged = converged
        self.reason = reason
        self.steps = steps
        self.history = history


class _Watch:
    """What a run records as it goes: the objective after each step (for
    the history and the progress bar) and the best point evaluated, which
    Ctrl-C falls back to."""

    def __init__(self, problem, progress):
        self.problem = problem
        self.progress = progress
        self.history = []
        self.best = None  # (objective, x)

    def step(self, x, objective, grad_norm=None):
        """Record the point after a step (the start is step 0)."""
        step = len(self.history)
        self.history.append([step, float(objective)])
        self.seen(x, objective)
        if self.progress is not None:
            self.progress.update(step, float(objective), grad_norm)

    def seen(self, x, objective):
        """Note a point evaluated, keeping the best."""
        if math.isfinite(objective) and (self.best is None or objective < self.best[0]):
            self.best = (float(objective), np.array(x, dtype=np.float64))


def minimise(problem, settings: Settings, progress=None) -> Outcome:
    """Minimise `problem`'s objective from its start with `settings`'s
    method; `progress` (or None) is told each step.  Ctrl-C ends the run at
    the best point evaluated so far, with the reason "interrupted"."""
    watch = _Watch(problem, progress)
    x0 = problem.start()
    run = {"lm": _least_squares, "trf": _least_squares, "lbfgs": _scipy_minimize}
    run.update({"bfgs": _scipy_minimize, "newton": _scipy_minimize})
    run.update({"adam": _first_order, "sgd": _first_order})
    if settings.steps == 0 and settings.method not in FIRST_ORDER:
        # SciPy's least squares refuses a limit of 0, and L-BFGS-B and
        # trust-exact take a step with one: --steps 0 means the start.
        with np.errstate(all="ignore"):
            watch.step(x0, problem.objective(x0))
        return Outcome(x0, False, "step limit reached", 0, watch.history)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SciPy's overflow notes: the report says what matters
            return run[settings.method](problem, settings, x0, watch)
    except KeyboardInterrupt:
        x = watch.best[1] if watch.best is not None else x0
        return Outcome(x, False, "interrupted", max(0, len(watch.history) - 1), watch.history)
    except ValueError as e:  # SciPy refusing what it was given: say so, not a bug
        from ..errors import ExprError

        raise ExprError(f"--method {settings.method}: {e}") from None


def _least_squares(problem, settings, x0, watch):
    from scipy.optimize import least_squares

    def residuals(x):
        r = problem.residual_vector(x)
        watch.seen(x, problem.objective(x))
        return r

    def jacobian(x):
        # Both methods ask for the Jacobian once per step, at the point the
        # step reached: the step's record.
        J = problem.jacobian(x)
        r = problem.residual_vector(x)
        watch.step(x, problem.objective(x), float(np.linalg.norm(2 * (J.T @ r))))
        return J

    tol = EPS if settings.tol is None else max(settings.tol, EPS)
    ftol = xtol = gtol = tol
    if settings.tol == 0 and settings.method == "trf":
        # SciPy needs one test at epsilon or above: the gradient's stays, so
        # only a stationary point ends the run early.  MINPACK's lm allows no
        # test below epsilon.
        ftol = xtol = None
    if problem.size > problem.m and settings.method == "lm":
        from ..errors import ExprError

        raise ExprError(
            f"method lm needs at least as many residuals as parameters "
            f"({problem.m} residuals, {problem.size} parameters); use --method trf"
        )
    try:
        res = least_squares(
            residuals,
            x0,
            jac=jacobian,
            method=settings.method,
            ftol=ftol,
            xtol=xtol,
            gtol=gtol,
            # MINPACK counts evaluations in a C int: a larger limit is never reached.
            max_nfev=min(settings.steps, 2**31 - 1),
        )
    except ValueError as e:
        return _not_finite(e, watch, x0)
    steps = max(0, len(watch.history) - 1)
    return Outcome(
        res.x, res.status > 0, _LSQ_REASONS.get(res.status, res.message), steps, watch.history
    )


def _not_finite(e: ValueError, watch, x0) -> Outcome:
    """The end of a fit whose Jacobian or Hessian held inf or nan, which
    SciPy's linear algebra refuses (trf, trust-exact): the best point
    reached, rather than SciPy's error and no fit.  Any other ValueError
    is raised again."""
    if "infs or NaNs" not in str(e):
        raise e
    x = watch.best[1] if watch.best is not None else x0
    steps = max(0, len(watch.history) - 1)
    return Outcome(x, False, "derivatives not finite", steps, watch.history)


def _scipy_minimize(problem, settings, x0, watch):
    from scipy.optimize import minimize

    last = {}

    def fun(x):
        f, g = problem.objective_and_gradient(x)
        watch.seen(x, f)
        last["norm"] = float(np.linalg.norm(g))
        return f, g

    def callback(intermediate_result):
        watch.step(intermediate_result.x, intermediate_result.fun, last.get("norm"))

    f0, g0 = problem.objective_and_gradient(x0)
    watch.step(x0, f0, float(np.linalg.norm(g0)))
    options = {"maxiter": settings.steps}
    tol = settings.tol
    if settings.method == "lbfgs":
        name = "L-BFGS-B"
        if tol is not None:
            options.update(gtol=tol, ftol=tol)
    elif settings.method == "bfgs":
        name = "BFGS"
        if tol is not None:
            options.update(gtol=tol)
    else:
        name = "trust-exact"
        if tol is not None:
            options.update(gtol=tol)
    kwargs = {"hess": problem.hessian} if name == "trust-exact" else {}
    try:
        res = minimize(fun, x0, jac=True, method=name, callback=callback, options=options, **kwargs)
    except ValueError as e:
        return _not_finite(e, watch, x0)
    steps = int(getattr(res, "nit", len(watch.history) - 1))
    reason = str(res.message).strip().rstrip(".:").lower()  # L-BFGS-B's "ABNORMAL: "
    if not res.success and steps >= settings.steps:
        reason = "step limit reached"
    x = res.x
    if watch.best is not None and not np.isfinite(res.fun):
        x = watch.best[1]
    return Outcome(x, bool(res.success), reason, steps, watch.history)


def _first_order(problem, settings, x0, watch):
    from . import first_order

    kwargs = {}
    if settings.lr is not None:
        kwargs["lr"] = settings.lr
    if settings.weight_decay is not None:
        kwargs["weight_decay"] = settings.weight_decay
    if settings.method == "sgd":
        if settings.momentum is not None:
            kwargs["momentum"] = settings.momentum
        if settings.nesterov:
            kwargs["nesterov"] = True
        make = first_order.SGD
    else:
        # Adam rounds as numpy does (product, then sum) rather than as
        # torch's fused multiply-adds: torch's own Adam differs from build
        # to build in the last bits (its square root), and the emulated
        # rounding would cost more than the rest of a step (docs/fit.md).
        kwargs["exact"] = False
        make = first_order.Adam
    try:
        optimizer = make(**kwargs)
    except ValueError as e:
        from ..errors import ExprError

        raise ExprError(f"--method {settings.method}: {e}") from None
    tol = FIRST_ORDER_TOL if settings.tol is None else settings.tol
    # The methods' rules act element by element, so the parameters go to
    # them as one flat array in the model's dtype: the same iterates as
    # array by array, in one array operation a rule instead of one a param.
    # The objective reads the parameters through views of that array.
    buffer = np.asarray(x0, dtype=problem.dtype).copy()
    views = problem.views(buffer)
    params = [buffer]
    steps = 0
    while True:
        f, grads = problem.at(views)
        g = np.concatenate(grads, axis=None)  # flat, and a copy: the step's may be shared
        norm = None
        if watch.progress is not None:  # the norm is for the progress bar only
            g64 = g.astype(np.float64)
            norm = math.sqrt(float(g64 @ g64))
        watch.step(buffer, f, norm)
        if tol > 0 and float(np.maximum.reduce(np.abs(g), initial=0.0)) <= tol:
            return Outcome(
                buffer.astype(np.float64), True, "gradient below tolerance", steps, watch.history
            )
        if not math.isfinite(f):
            return Outcome(
                watch.best[1] if watch.best else buffer.astype(np.float64),
                False,
                "objective not finite",
                steps,
                watch.history,
            )
        if steps >= settings.steps:
            return Outcome(
                buffer.astype(np.float64), False, "step limit reached", steps, watch.history
            )
        optimizer.step(params, [g])
        steps += 1
