"""`fit`'s first-order methods end to end on examples/mlp.expr: the
parameters after N steps against Adam and SGD written out by hand in numpy,
and against torch.optim itself when PyTorch is installed."""

import numpy as np
import pytest

from clitools import invoke, strict_json
from common import ROOT

MLP = ROOT / "examples" / "mlp.expr"
ORDER = ("W1", "b1", "W2", "b2")


def start():
    """The example's inputs and parameters, by `eval`."""
    result = invoke(["eval", MLP, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    nodes = strict_json(result.stdout)["nodes"]
    return {k: np.array(nodes[k]["value"], dtype=np.float64) for k in ("X", "y", *ORDER)}


def fitted(*options):
    result = invoke(["fit", MLP, "--tol", "0", *options, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    params = strict_json(result.stdout)["fit"]["params"]
    return np.concatenate([np.ravel(params[k]["value"]) for k in ORDER])


def gradients(a, params):
    """The perceptron's loss gradient, by hand: mean((tanh(X W1 + b1) W2 + b2 - y)²)."""
    X, y = a["X"], a["y"]
    W1, b1, W2, b2 = params
    h = np.tanh(X @ W1 + b1)
    g_out = (h @ W2 + b2 - y) * (2.0 / y.size)
    g_z = (g_out @ W2.T) * (1.0 - h * h)
    return [X.T @ g_z, g_z.sum(axis=0), h.T @ g_out, g_out.sum()]


def close(got, want, tol=1e-12):
    err = np.max(np.abs(got - want)) / np.max(np.abs(want))
    assert err <= tol, err


def test_adam_is_adams_rule():
    a = start()
    params = [a[k].copy() for k in ORDER]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    lr, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8
    for t in range(1, 301):
        for p, g, mi, vi in zip(params, gradients(a, params), m, v):
            mi[...] = beta1 * mi + (1 - beta1) * g
            vi[...] = beta2 * vi + (1 - beta2) * g * g
            p -= lr / (1 - beta1**t) * mi / (np.sqrt(vi) / np.sqrt(1 - beta2**t) + eps)
    want = np.concatenate([np.ravel(p) for p in params])
    close(fitted("--method", "adam", "--lr", "0.01", "--steps", "300"), want)


def test_sgd_with_nesterov_momentum_is_sgds_rule():
    a = start()
    params = [a[k].copy() for k in ORDER]
    bufs = [None] * 4
    lr, mu, wd = 0.05, 0.9, 0.01
    for _ in range(300):
        for k, (p, g) in enumerate(zip(params, gradients(a, params))):
            g = g + wd * p
            bufs[k] = g.copy() if bufs[k] is None else mu * bufs[k] + g
            p -= lr * (g + mu * bufs[k])
    want = np.concatenate([np.ravel(p) for p in params])
    options = ["--method", "sgd", "--lr", "0.05", "--momentum", "0.9", "--nesterov"]
    close(fitted(*options, "--weight-decay", "0.01", "--steps", "300"), want)


@pytest.mark.parametrize(
    "method, options",
    [
        ("adam", {}),
        ("adam", {"lr": 0.05, "weight_decay": 0.01}),
        ("sgd", {"lr": 0.1, "momentum": 0.5}),
    ],
)
def test_torch_optim_takes_the_same_steps(method, options):
    torch = pytest.importorskip("torch")
    a = start()
    t = {k: torch.tensor(v, dtype=torch.float64) for k, v in a.items()}
    params = [t[k].requires_grad_() for k in ORDER]
    make = torch.optim.Adam if method == "adam" else torch.optim.SGD
    optimizer = make(params, **options)
    for _ in range(500):
        optimizer.zero_grad()
        h = torch.tanh(t["X"] @ t["W1"] + t["b1"])
        loss = torch.mean((h @ t["W2"] + t["b2"] - t["y"]) ** 2)
        loss.backward()
        optimizer.step()
    want = torch.cat([p.detach().reshape(-1) for p in params]).numpy()
    flags = []
    for name, value in options.items():
        flags += [f"--{name.replace('_', '-')}", str(value)]
    close(fitted("--method", method, *flags, "--steps", "500"), want)
