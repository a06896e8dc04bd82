"""First-order methods with PyTorch's update rules: `SGD`, `Adam` and `AdamW`
as `torch.optim` defines them (its single-tensor implementations), on lists
of numpy arrays updated in place.

Each takes torch's arguments with torch's defaults and refuses what torch
refuses, with the same messages.  `step(params, grads)` makes one update,
in the parameters' own dtype (float32 or float64), with hyperparameters as
Python floats that meet the arrays as numpy's weak scalars, as torch's do.

Where torch adds a scaled array (`a + alpha * b`: weight decay, momentum,
Nesterov, the step itself, Adam's running averages) it rounds once, as a
fused multiply-add: `fma` does the same with numpy, so SGD's iterates are
torch's to the last bit.  Adam's differ from torch's in the last bits only
where torch's square root is not correctly rounded (its builds with MKL);
docs/fit.md says more.  `exact=False` rounds the product first, as plain
numpy does: faster, and a unit in the last place off here and there."""

from __future__ import annotations

import math

import numpy as np

# Adam's square root; a comparison with a library whose square root is not
# correctly rounded can put that one here.
_sqrt = np.sqrt

# Veltkamp's constant for splitting a float64 into two 26-bit halves.
_SPLIT = 134217729.0  # 2**27 + 1


def _split(x: float) -> tuple[float, float]:
    """A Python float as hi + lo, each with at most 26 significant bits."""
    t = _SPLIT * x
    hi = t - (t - x)
    return hi, x - hi


def _odd(w: np.ndarray, err: np.ndarray) -> None:
    """Round-to-odd in place: where `w` + `err` is not `w` (w having been
    rounded to nearest from it) and `w` is even, move `w` one unit toward
    the exact value, which then lies strictly between `w`'s neighbours.
    A nan `err` (from an inf) moves nothing."""
    bits = w.view(np.int64)
    fix = (bits & 1) == 0
    fix &= np.abs(err) > 0
    if fix.any():
        # One unit toward err is +1 on the bits when w and err have one
        # sign and -1 otherwise (w is not 0: a sum that rounds to 0 is 0).
        away = np.signbit(w)
        away ^= np.signbit(err)
        away &= fix
        bits += fix
        bits -= away
        bits -= away


def _two_sum(a: np.ndarray, b: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Knuth's TwoSum: `s` is given as a + b rounded; returns the rounding
    error, so that s + error = a + b exactly."""
    bb = s - a
    return (a - (s - bb)) + (b - bb)


def _split_array(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Veltkamp's split of float64s: hi + lo = x, each with 26 bits."""
    t = x * _SPLIT
    hi = t - (t - x)
    return hi, x - hi


def _round_sum(c: np.ndarray, p: np.ndarray, e: np.ndarray, out: np.ndarray) -> None:
    """c + (p + e) rounded once into `out`, for float64s with e below half
    a unit of p: Boldo and Melquiond's emulated FMA, whose middle sum is
    rounded to odd so that the last rounding is the only one that shows.
    Where that overflows (a product beyond 1e300), the unfused c + p."""
    s = c + p
    tl = _two_sum(c, p, s)
    v = tl + e
    _odd(v, _two_sum(tl, e, v))
    s += v
    bad = ~np.isfinite(s)
    if bad.any():
        s[bad] = (c + p)[bad]
    np.copyto(out, s)


def _to_float32(s: np.ndarray, p: np.ndarray, c: np.ndarray, out: np.ndarray) -> None:
    """`s` = p + c rounded to float64, into `out` as float32, rounded once
    from the exact p + c: a second rounding can only show where `s` is a
    float32 midpoint (the 29 bits float32 drops are 1 then zeros), so the
    sum is rounded to odd first when one is."""
    if ((s.view(np.int64) & 0x1FFFFFFF) == 0x10000000).any():
        _odd(s, _two_sum(p, c.astype(np.float64), s))
    np.copyto(out, s, casting="same_kind")


def fma(
    alpha: float, b: np.ndarray, c: np.ndarray, out: np.ndarray, exact: bool = True
) -> np.ndarray:
    """`c + alpha * b` into `out` (which may be `c` or `b`), for float32 or
    float64 arrays and a Python float `alpha` cast to their dtype first,
    rounded once as a fused multiply-add rounds it (`exact`), or product
    then sum (not `exact`).

    float32 works in float64, where the product is exact.  float64 splits
    the product into an exact pair (Dekker) and rounds the three terms'
    sum once.  Results in the subnormal range may be a unit off."""
    if not exact:
        return np.add(c, np.multiply(b, alpha), out=out)
    if b.dtype == np.float32:
        p = b.astype(np.float64)
        p *= float(np.float32(alpha))
        s = p + c
        _to_float32(s, p, c, out)
        return out
    a = float(alpha)
    if a == 0.0 or not math.isfinite(a):
        return np.add(c, np.multiply(b, a), out=out)
    ah, al = _split(a)
    p = b * a
    bh, bl = _split_array(b)
    e = ah * bh - p  # p + e = a * b exactly (Dekker's product)
    e += ah * bl
    e += al * bh
    e += al * bl
    _round_sum(c, p, e, out)
    return out


def fma_arrays(a: np.ndarray, b: np.ndarray, c: np.ndarray, exact: bool = True) -> None:
    """c += a * b in place, for arrays of one dtype, rounded once
    (`exact`) or product then sum, as `fma`."""
    if not exact:
        np.add(c, np.multiply(a, b), out=c)
    elif a.dtype == np.float32:
        p = a.astype(np.float64)
        p *= b
        s = p + c
        _to_float32(s, p, c, c)
    else:
        p = a * b
        ah, al = _split_array(a)
        bh, bl = _split_array(b)
        e = ah * bh - p
        e += ah * bl
        e += al * bh
        e += al * bl
        _round_sum(c, p, e, c)


def _finite(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"Invalid {name}: {value!r}")
    return float(value)


class _Method:
    """What the methods share: the arrays' checks and the per-array state,
    kept by position in the list `step` is given."""

    def _check(self, params, grads) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The parameters as views of at least one dimension (the arithmetic
        writes into its temporaries, which a single number would not be),
        and the gradients as arrays of their dtypes, after checking that the
        two lists match."""
        if len(params) != len(grads):
            raise ValueError(f"{len(params)} parameters but {len(grads)} gradients")
        if (  # the fit's case, every step: one flat array and its gradient
            len(params) == 1
            and self._shapes is not None
            and type(p := params[0]) is np.ndarray
            and type(g := grads[0]) is np.ndarray
            and p.ndim == 1
            and (p.shape, p.dtype) == self._shapes[0]
            and (g.shape, g.dtype) == self._shapes[0]
        ):
            return [p], [g]
        kinds = [(p.shape, p.dtype) for p in params]
        if self._shapes is None:
            self._shapes = kinds
        elif kinds != self._shapes:
            raise ValueError("not the parameters the method started with")
        out = []
        for i, (p, g) in enumerate(zip(params, grads)):
            if p.dtype not in (np.float32, np.float64):
                raise TypeError(f"parameter {i}: dtype {p.dtype}, not float32 or float64")
            g = np.asarray(g, dtype=p.dtype)
            if g.shape != p.shape:
                raise ValueError(f"parameter {i}: gradient of shape {g.shape}, not {p.shape}")
            out.append(np.atleast_1d(g))
        return [np.atleast_1d(p) for p in params], out


class SGD(_Method):
    """Stochastic gradient descent as `torch.optim.SGD`: weight decay added
    to the gradient, momentum (its buffer starting at the first gradient),
    dampening, Nesterov momentum, and `maximize` to climb."""

    def __init__(
        self,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        maximize: bool = False,
        *,
        exact: bool = True,
    ) -> None:
        lr = _finite("learning rate", lr)
        momentum = _finite("momentum value", momentum)
        dampening = _finite("dampening value", dampening)
        weight_decay = _finite("weight_decay value", weight_decay)
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        self.lr, self.momentum, self.dampening = lr, momentum, dampening
        self.weight_decay, self.nesterov, self.maximize = (
            weight_decay,
            bool(nesterov),
            bool(maximize),
        )
        self.exact = bool(exact)
        self.buffers: list[np.ndarray | None] = []
        self._shapes = None

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """One update of each array of `params`, in place, given the
        gradients of the objective at them (`grads`, left untouched)."""
        params, grads = self._check(params, grads)
        if not self.buffers:
            self.buffers = [None] * len(params)
        momentum, wd = self.momentum, self.weight_decay
        for i, param in enumerate(params):
            grad = grads[i]
            if self.maximize:
                grad = np.negative(grad)
            if wd != 0:
                grad = fma(wd, param, grad, np.empty_like(grad), self.exact)
            if momentum != 0:
                buf = self.buffers[i]
                if buf is None:
                    buf = self.buffers[i] = grad.copy()
                else:
                    np.multiply(buf, momentum, out=buf)
                    fma(1 - self.dampening, grad, buf, buf, self.exact)
                if self.nesterov:
                    grad = fma(momentum, buf, grad, np.empty_like(grad), self.exact)
                else:
                    grad = buf
            fma(-self.lr, grad, param, param, self.exact)


class Adam(_Method):
    """Adam as `torch.optim.Adam`: running averages of the gradient and its
    square with bias corrections, L2 weight decay added to the gradient (or,
    as AdamW, decoupled), AMSGrad, and `maximize` to climb."""

    decoupled = False

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        maximize: bool = False,
        *,
        exact: bool = True,
    ) -> None:
        lr = _finite("learning rate", lr)
        eps = _finite("epsilon value", eps)
        if len(betas) != 2:
            raise ValueError(f"betas must be two numbers, not {betas!r}")
        beta1 = _finite("beta parameter at index 0", betas[0])
        beta2 = _finite("beta parameter at index 1", betas[1])
        weight_decay = _finite("weight_decay value", weight_decay)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= beta1 < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {beta1}")
        if not 0.0 <= beta2 < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {beta2}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        self.lr, self.betas, self.eps = lr, (beta1, beta2), eps
        self.weight_decay, self.amsgrad, self.maximize = weight_decay, bool(amsgrad), bool(maximize)
        self.exact = bool(exact)
        # torch counts steps in a float32 tensor, and reads the count back
        # as a Python float for the bias corrections.
        self.steps = np.float32(0)
        self.exp_avgs: list[np.ndarray] = []
        self.exp_avg_sqs: list[np.ndarray] = []
        self.max_exp_avg_sqs: list[np.ndarray] = []
        self._shapes = None

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """One update of each array of `params`, in place, given the
        gradients of the objective at them (`grads`, left untouched)."""
        params, grads = self._check(params, grads)
        if not self.exp_avgs:
            self.exp_avgs = [np.zeros_like(p) for p in params]
            self.exp_avg_sqs = [np.zeros_like(p) for p in params]
            if self.amsgrad:
                self.max_exp_avg_sqs = [np.zeros_like(p) for p in params]
        self.steps = np.float32(self.steps + np.float32(1))
        step = float(self.steps)
        lr, (beta1, beta2), eps, wd = self.lr, self.betas, self.eps, self.weight_decay
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5
        # torch's lerp: below a weight of 0.5 from the start, above it from
        # the end, in the arrays' dtype.
        weight = 1 - beta1
        for i, param in enumerate(params):
            grad = grads[i]
            if self.maximize:
                grad = np.negative(grad)
            if wd != 0:
                if self.decoupled:
                    np.multiply(param, 1 - lr * wd, out=param)
                else:
                    grad = fma(wd, param, grad, np.empty_like(grad), self.exact)
            exp_avg, exp_avg_sq = self.exp_avgs[i], self.exp_avg_sqs[i]
            diff = np.subtract(grad, exp_avg)
            if weight < 0.5:
                fma(weight, diff, exp_avg, exp_avg, self.exact)
            else:
                fma(
                    float(param.dtype.type(weight) - param.dtype.type(1)),
                    diff,
                    grad,
                    exp_avg,
                    self.exact,
                )
            np.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
            square = np.multiply(grad, 1 - beta2)
            fma_arrays(square, grad, exp_avg_sq, self.exact)
            if self.amsgrad:
                np.maximum(self.max_exp_avg_sqs[i], exp_avg_sq, out=self.max_exp_avg_sqs[i])
                denom = _sqrt(self.max_exp_avg_sqs[i])
            else:
                denom = _sqrt(exp_avg_sq)
            np.divide(denom, bias_correction2_sqrt, out=denom)
            np.add(denom, eps, out=denom)
            update = np.multiply(exp_avg, -step_size)
            np.divide(update, denom, out=update)
            np.add(param, update, out=param)


class AdamW(Adam):
    """AdamW as `torch.optim.AdamW`: Adam whose weight decay shrinks the
    parameters (by 1 - lr * weight_decay) instead of entering the gradient;
    its default weight decay is 1e-2."""

    decoupled = True

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
        *,
        exact: bool = True,
    ) -> None:
        super().__init__(lr, betas, eps, weight_decay, amsgrad, maximize, exact=exact)


METHODS = {"sgd": SGD, "adam": Adam, "adamw": AdamW}
