"""The other implementations autograd-cli is compared with.

Each peer is optional: `find_peers` lists what is installed and the
workloads skip the rest.  Every implementation here computes the same
numbers as autograd-cli does on the same input; the workloads check that
before timing anything.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import math

import numpy as np

from inputs import CHAIN_P, CHAIN_Q, CHAIN_X0

# import name -> distribution name (for the version shown in the header)
OPTIONAL_PEERS = {"torch": "torch", "jax": "jax", "micrograd": "micrograd", "autograd": "autograd"}


def find_peers() -> dict:
    """{import name: version, or None if not installed (skipped)}.

    Nothing is imported here: the peers are imported only by the worker
    processes that time them.
    """
    found = {}
    for module, dist in OPTIONAL_PEERS.items():
        if importlib.util.find_spec(module) is None:
            found[module] = None
            continue
        try:
            found[module] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            found[module] = "unknown version"
    return found


def micrograd_has_tanh() -> bool:
    from micrograd.engine import Value

    return hasattr(Value, "tanh")


# ------------------------------------------------------- the deep scalar chain
#
# Each function runs the whole chain x{i+1} = tanh(x{i} * p + q) for n
# statements, forward then backward, and returns (dL/dp, dL/dq).


def tape_chain(n: int) -> tuple[float, float]:
    """A minimal reverse-mode tape in pure Python: floats in lists.

    The practical lower bound for an interpreter-level tape: one list append
    per elementary op forward, one tuple unpack and a few float operations
    per op backward, and the gradient of every node comes out.
    """
    MUL, ADD, TANH = 0, 1, 2
    P, Q = 0, 1
    values = [CHAIN_P, CHAIN_Q, CHAIN_X0]  # nodes 0, 1, 2: p, q, x0
    tape = []  # (op, out, a, b) per op
    x = 2
    for _ in range(n):
        m = len(values)  # m = x * p
        values.append(values[x] * values[P])
        tape.append((MUL, m, x, P))
        s = m + 1  # s = m + q
        values.append(values[m] + values[Q])
        tape.append((ADD, s, m, Q))
        x = m + 2  # x = tanh(s)
        values.append(math.tanh(values[s]))
        tape.append((TANH, x, s, -1))
    grads = [0.0] * len(values)
    grads[x] = 1.0
    for op, out, a, b in reversed(tape):
        g = grads[out]
        if op == MUL:
            grads[a] += g * values[b]
            grads[b] += g * values[a]
        elif op == ADD:
            grads[a] += g
            grads[b] += g
        else:
            grads[a] += g * (1.0 - values[out] ** 2)
    return grads[P], grads[Q]


@functools.cache
def micrograd_tanh():
    """micrograd's tanh: `Value.tanh` where the installed version has it.

    micrograd 0.1.0 on PyPI has neither tanh nor exp, so this builds the op
    the way later versions of micrograd define it: one node, whose backward
    adds (1 - tanh^2) * out.grad.
    """
    from micrograd.engine import Value

    if hasattr(Value, "tanh"):
        return Value.tanh

    def tanh(v):
        out = Value(math.tanh(v.data), (v,), "tanh")

        def _backward():
            v.grad += (1.0 - out.data**2) * out.grad

        out._backward = _backward
        return out

    return tanh


def micrograd_chain(n: int) -> tuple[float, float]:
    from micrograd.engine import Value

    tanh = micrograd_tanh()
    p, q, x = Value(CHAIN_P), Value(CHAIN_Q), Value(CHAIN_X0)
    for _ in range(n):
        x = tanh(x * p + q)
    x.backward()  # recursive: raises RecursionError on deep graphs
    return p.grad, q.grad


def torch_chain(n: int) -> tuple[float, float]:
    """PyTorch eager mode on 0-d float64 tensors."""
    import torch

    p = torch.tensor(CHAIN_P, dtype=torch.float64, requires_grad=True)
    q = torch.tensor(CHAIN_Q, dtype=torch.float64, requires_grad=True)
    x = torch.tensor(CHAIN_X0, dtype=torch.float64)
    for _ in range(n):
        x = torch.tanh(x * p + q)
    x.backward()
    return p.grad.item(), q.grad.item()


def hips_autograd_chain(n: int) -> tuple[float, float]:
    """HIPS autograd: the gradient of a Python function looping the chain."""
    import autograd
    import autograd.numpy as anp

    def chain(p, q):
        x = CHAIN_X0
        for _ in range(n):
            x = anp.tanh(x * p + q)
        return x

    dp, dq = autograd.grad(chain, argnum=(0, 1))(CHAIN_P, CHAIN_Q)
    return float(dp), float(dq)


def _jax():
    """JAX, with float64 arrays allowed (as autograd-cli computes)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def jax_chain(n: int) -> tuple[float, float]:
    """JAX as it runs a Python function op by op: `jax.grad` of the loop,
    not compiled."""
    jax = _jax()
    import jax.numpy as jnp

    def chain(p, q):
        x = jnp.float64(CHAIN_X0)
        for _ in range(n):
            x = jnp.tanh(x * p + q)
        return x

    dp, dq = jax.grad(chain, argnums=(0, 1))(jnp.float64(CHAIN_P), jnp.float64(CHAIN_Q))
    return float(dp), float(dq)


@functools.cache
def _jax_loop_grad(n: int):
    jax = _jax()
    import jax.numpy as jnp

    def chain(p, q):
        return jax.lax.fori_loop(0, n, lambda i, x: jnp.tanh(x * p + q), jnp.float64(CHAIN_X0))

    return jax.jit(jax.grad(chain, argnums=(0, 1)))


def jax_loop_chain(n: int) -> tuple[float, float]:
    """The chain as a JAX user would write a recurrence: `lax.fori_loop`
    under `jax.jit(jax.grad(...))`, compiled on the first call (the warm-up,
    not timed) and run compiled after."""
    import jax.numpy as jnp

    dp, dq = _jax_loop_grad(n)(jnp.float64(CHAIN_P), jnp.float64(CHAIN_Q))
    return float(dp), float(dq)


# ---------------------------------------------------- the 2-layer perceptron
#
# Both versions take the arrays of inputs and parameters by name (X, y, W1,
# b1, W2, b2, W3, b3) and return the gradient of the loss for every name of
# the program -- inputs, parameters and intermediate nodes alike -- since
# that is what autograd-cli computes and reports.


def numpy_mlp(a: dict) -> dict:
    """Forward and backward written by hand in numpy (in the arrays' dtype)."""
    X, y, W1, b1, W2, b2, W3, b3 = (a[k] for k in ("X", "y", "W1", "b1", "W2", "b2", "W3", "b3"))
    # forward
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    out = h2 @ W3 + b3
    diff = out - y
    loss = np.mean(diff**2)
    # backward: d loss / d out = 2 (out - y) / size
    g_out = diff * (2.0 / diff.size)
    g_W3 = h2.T @ g_out
    g_b3 = g_out.sum(axis=0)
    g_h2 = g_out @ W3.T
    g_z2 = g_h2 * (1.0 - h2 * h2)  # through tanh
    g_W2 = h1.T @ g_z2
    g_b2 = g_z2.sum(axis=0)
    g_h1 = g_z2 @ W2.T
    g_z1 = g_h1 * (1.0 - h1 * h1)
    g_W1 = X.T @ g_z1
    g_b1 = g_z1.sum(axis=0)
    g_X = g_z1 @ W1.T
    return {
        "X": g_X,
        "y": -g_out,
        "W1": g_W1,
        "b1": g_b1,
        "W2": g_W2,
        "b2": g_b2,
        "W3": g_W3,
        "b3": g_b3,
        "h1": g_h1,
        "h2": g_h2,
        "out": g_out,
        "loss": np.ones_like(loss),
    }


def torch_mlp_leaves(a: dict) -> dict:
    """The arrays as PyTorch leaves that require gradients (memory shared)."""
    import torch

    return {k: torch.from_numpy(np.ascontiguousarray(v)).requires_grad_() for k, v in a.items()}


def torch_mlp(t: dict) -> dict:
    """The same perceptron in PyTorch: forward, then `torch.autograd.grad`
    for every name (intermediate nodes included, as autograd-cli reports
    them)."""
    import torch

    h1 = torch.tanh(t["X"] @ t["W1"] + t["b1"])
    h2 = torch.tanh(h1 @ t["W2"] + t["b2"])
    out = h2 @ t["W3"] + t["b3"]
    loss = torch.mean((out - t["y"]) ** 2)
    names = ["X", "y", "W1", "b1", "W2", "b2", "W3", "b3"]
    grads = torch.autograd.grad(loss, [t[k] for k in names] + [h1, h2, out])
    result = dict(zip(names + ["h1", "h2", "out"], grads))
    result["loss"] = torch.ones_like(loss)
    return result


def jax_mlp():
    """The perceptron in JAX, compiled: `jax.jit(jax.grad(loss))` with the
    gradients of every name, those of h1, h2 and out by the usual device of
    adding a zero to each and differentiating with respect to it.  Returns
    a function of (arrays, zeros) giving every gradient, computed (JAX
    dispatches asynchronously: it waits for the results)."""
    jax = _jax()
    import jax.numpy as jnp

    def loss(a, zeros):
        h1 = jnp.tanh(a["X"] @ a["W1"] + a["b1"]) + zeros["h1"]
        h2 = jnp.tanh(h1 @ a["W2"] + a["b2"]) + zeros["h2"]
        out = h2 @ a["W3"] + a["b3"] + zeros["out"]
        return jnp.mean((out - a["y"]) ** 2)

    grad = jax.jit(jax.grad(loss, argnums=(0, 1)))

    def run(a, zeros):
        g, gz = grad(a, zeros)
        result = {**g, **gz}
        jax.block_until_ready(result)
        return result

    return run


def jax_mlp_inputs(a: dict, dtype: str):
    """The arrays on JAX's device, and the zeros added to h1, h2 and out."""
    _jax()
    import jax.numpy as jnp

    arrays = {k: jnp.asarray(v, dtype=dtype) for k, v in a.items()}
    batch, width = a["X"].shape[0], a["W1"].shape[1]
    zeros = {
        "h1": jnp.zeros((batch, width), dtype),
        "h2": jnp.zeros((batch, width), dtype),
        "out": jnp.zeros((batch, 1), dtype),
    }
    return arrays, zeros


# ------------------------------------------- Adam on examples/mlp.expr's perceptron


def numpy_adam_mlp(a: dict, steps: int) -> np.ndarray:
    """examples/mlp.expr's perceptron trained by Adam, written by hand in
    numpy as a user porting `torch.optim.Adam` (its rule and defaults)
    would: forward, backward, then the update parameter by parameter.
    Returns the parameters W1, b1, W2, b2 after `steps` steps, end to end."""
    X, y = a["X"], a["y"]
    params = [np.array(a[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2")]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    lr, beta1, beta2, eps = 1e-3, 0.9, 0.999, 1e-8
    for t in range(1, steps + 1):
        W1, b1, W2, b2 = params
        h = np.tanh(X @ W1 + b1)
        out = h @ W2 + b2
        diff = out - y
        # d mean(diff²) / d out = 2 diff / size
        g_out = diff * (2.0 / diff.size)
        g_W2 = h.T @ g_out
        g_b2 = g_out.sum()
        g_z = (g_out @ W2.T) * (1.0 - h * h)  # through tanh
        g_W1 = X.T @ g_z
        g_b1 = g_z.sum(axis=0)
        step_size = lr / (1 - beta1**t)
        bias_correction2_sqrt = math.sqrt(1 - beta2**t)
        for p, g, mi, vi in zip(params, (g_W1, g_b1, g_W2, g_b2), m, v):
            mi *= beta1
            mi += (1 - beta1) * g
            vi *= beta2
            vi += (1 - beta2) * g * g
            p -= step_size * mi / (np.sqrt(vi) / bias_correction2_sqrt + eps)
    return np.concatenate([p.reshape(-1) for p in params])
