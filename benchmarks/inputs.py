"""Generators of the benchmark inputs: `.expr` programs and the equivalent
Python and PyTorch scripts.

Everything is generated on each run into a temporary directory, so no large
file is kept in the repository.  Each generator is a plain loop (nothing is
recursive), and returns text.
"""

from __future__ import annotations

import json
import re

# The values shared by every version of the chain, so that all of them
# compute the same numbers.
CHAIN_P, CHAIN_Q, CHAIN_X0 = 0.9, 0.1, 0.5


def chain_expr(n: int) -> str:
    """A deep scalar chain of `n` dependent statements.

    param p = 0.9
    param q = 0.1
    x0 = 0.5
    x1 = tanh(x0 * p + q)
    ...
    x{n} = tanh(x{n-1} * p + q)     # the target
    """
    lines = [
        f"# a deep scalar chain of {n} statements (benchmarks/inputs.py)",
        f"param p = {CHAIN_P}",
        f"param q = {CHAIN_Q}",
        f"x0 = {CHAIN_X0}",
    ]
    lines.extend(f"x{i + 1} = tanh(x{i} * p + q)" for i in range(n))
    return "\n".join(lines) + "\n"


# A block of statements mixing the chain with calls, indexing, slicing and
# list literals; `{i}` numbers the block and `{x}` / `{x1}` are the chain
# variable before / after the statement.  Each entry: (template, advances
# the chain).  The text is valid Python once `param ` is removed.
_MIX_BLOCK = [
    ("{x1} = tanh({x} * p + q)", True),
    ("v{i} = w * {x} + [1.0, -2.0, 0.5, 0.25]  # a list literal", False),
    ("{x1} = tanh({x} * p + q)", True),
    ("u{i} = tanh(M @ v{i}) * 0.5", False),
    ("s{i} = sum(u{i}[1:3] ** 2) + w[0] * {x}", False),
    ("{x1} = tanh({x} * p + q)", True),
    ("m{i} = [[{x}, s{i}], [u{i}[0], -{x}]]", False),
    ("r{i} = mean(maximum(m{i}[:, 1], 0.0)) / 2 + sum(v{i}[::2])", False),
    ("{x1} = tanh({x} * p + q) + 0.01 * r{i}", True),
    ("{x1} = tanh({x} * p + q)", True),
]

_MIX_HEADER = [
    f"param p = {CHAIN_P}",
    f"param q = {CHAIN_Q}",
    "param w = [0.5, -0.25, 0.125, 1.0]",
    "param M = randn(4, 4, seed=0) * 0.5",
    f"x0 = {CHAIN_X0}",
]


def mixed_expr(n: int) -> str:
    """A realistic program of exactly `n` statements, one per line.

    Half the lines extend the scalar chain `x0, x1, ...`; the others use
    calls with keyword arguments, matrix products, indexing, slicing, list
    literals and nested lists (2x2 matrices), plus a comment now and then.
    The last statement extends the chain, so the target is a scalar and the
    file evaluates.
    """
    if n < len(_MIX_HEADER) + 1:
        raise ValueError(f"a mixed program needs at least {len(_MIX_HEADER) + 1} statements")
    statements = list(_MIX_HEADER)
    k = 0  # the chain variable is x{k}
    block = 0
    while len(statements) < n - 1:
        for template, advances in _MIX_BLOCK:
            if len(statements) == n - 1:
                break
            statements.append(template.format(i=block, x=f"x{k}", x1=f"x{k + 1}"))
            if advances:
                k += 1
        block += 1
    statements.append(f"x{k + 1} = tanh(x{k} * p + q)")
    header = f"# a mix of {n} statements (benchmarks/inputs.py)"
    return "\n".join([header, *statements]) + "\n"


def as_python(expr_text: str) -> str:
    """The same program as Python source: only the `param` keyword differs."""
    return re.sub(r"^param ", "", expr_text, flags=re.MULTILINE)


# The 2-layer perceptron of the tensor workload: two hidden layers of 512
# with tanh, a linear output, mean squared error.  Weights are scaled by
# about 1/sqrt(512) so the activations stay in tanh's useful range.
MLP_BATCH, MLP_WIDTH = 256, 512

MLP_EXPR = f"""\
# a 2-layer perceptron, batch {MLP_BATCH}, {MLP_WIDTH} -> {MLP_WIDTH} -> {MLP_WIDTH} -> 1
X = randn({MLP_BATCH}, {MLP_WIDTH}, seed=0)
y = randn({MLP_BATCH}, 1, seed=1)

param W1 = randn({MLP_WIDTH}, {MLP_WIDTH}, seed=2) * 0.04
param b1 = randn({MLP_WIDTH}, seed=3) * 0.1
param W2 = randn({MLP_WIDTH}, {MLP_WIDTH}, seed=4) * 0.04
param b2 = randn({MLP_WIDTH}, seed=5) * 0.1
param W3 = randn({MLP_WIDTH}, 1, seed=6) * 0.04
param b3 = randn(1, seed=7) * 0.1

h1 = tanh(X @ W1 + b1)
h2 = tanh(h1 @ W2 + b2)
out = h2 @ W3 + b3
loss = mean((out - y) ** 2)
"""

# The names of the perceptron, in file order.
MLP_NAMES = ["X", "y", "W1", "b1", "W2", "b2", "W3", "b3", "h1", "h2", "out", "loss"]


# ------------------------------------------------------------ PyTorch scripts

# The seed example of the README (examples/seed.expr) as a PyTorch script.
TORCH_SEED_SCRIPT = """\
import torch

w = torch.tensor([2., 5., 9., 7., 3.], requires_grad=True)
a1, a2 = 4., 3.
b1 = w[0] * a1 + w[1] * a2
b2 = w[2] * a1
c = w[3] * b1 + w[4] * b2
L = 15 - c
L.backward()
print(w.grad)
"""


# The same as a JAX script: the loss as a function, `jax.grad` of it.
JAX_SEED_SCRIPT = """\
import jax
import jax.numpy as jnp


def loss(w, a1, a2):
    b1 = w[0] * a1 + w[1] * a2
    b2 = w[2] * a1
    c = w[3] * b1 + w[4] * b2
    return 15 - c


print(jax.grad(loss)(jnp.array([2., 5., 9., 7., 3.]), 4., 3.))
"""


def torch_chain_script(n: int) -> str:
    """The deep chain as a PyTorch script, written the way a person would:
    a loop over 0-d float64 tensors.  It prints the target's value and the
    gradients of p and q as JSON."""
    return f"""\
import json
import torch

p = torch.tensor({CHAIN_P}, dtype=torch.float64, requires_grad=True)
q = torch.tensor({CHAIN_Q}, dtype=torch.float64, requires_grad=True)
x = torch.tensor({CHAIN_X0}, dtype=torch.float64)
for _ in range({n}):
    x = torch.tanh(x * p + q)
x.backward()
print(json.dumps({{"value": x.item(), "p": p.grad.item(), "q": q.grad.item()}}))
"""


# ------------------------------------------------- Jacobian and Hessian inputs
#
# The data come from numpy's generator as the language's randn and rand
# make them (`np.random.default_rng(seed)`), so the peer scripts rebuild the
# very numbers of the .expr files.

RESIDUALS_P = [1.0, 0.5, 0.1]


def residuals_expr(n: int) -> str:
    """n residuals of a 3-parameter model against noisy data; the last
    binding is the sum of the residuals (what `eval` differentiates)."""
    return f"""\
# {n} residuals of p[0]·exp(-p[1]·x) + p[2] (benchmarks/inputs.py)
x = linspace(0, 1, {n})
y = 2 * exp(-1.3 * x) + 0.2 + 0.01 * randn({n}, seed=1)
param p = {RESIDUALS_P}
r = p[0] * exp(-p[1] * x) + p[2] - y
total = sum(r)
"""


def residuals_jax_script(n: int, as_json: bool = False) -> str:
    """The residuals' Jacobian by `jax.jacfwd` (compiled), printed as numpy
    prints it, or whole as JSON."""
    out = "json.dumps(np.asarray(J).tolist())" if as_json else "np.asarray(J)"
    return f"""\
import json

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
import numpy as np

x = np.linspace(0, 1, {n})
y = 2 * np.exp(-1.3 * x) + 0.2 + 0.01 * np.random.default_rng(1).standard_normal({n})


def residuals(p):
    return p[0] * jnp.exp(-p[1] * x) + p[2] - y


J = jax.jit(jax.jacfwd(residuals))(jnp.array({RESIDUALS_P}))
print({out})
"""


def residuals_torch_script(n: int, as_json: bool = False) -> str:
    """The residuals' Jacobian by `torch.func.jacfwd`, printed as numpy
    prints it, or whole as JSON."""
    out = "json.dumps(J.numpy().tolist())" if as_json else "J.numpy()"
    return f"""\
import json

import numpy as np
import torch

x = torch.from_numpy(np.linspace(0, 1, {n}))
y = torch.from_numpy(
    2 * np.exp(-1.3 * x.numpy()) + 0.2 + 0.01 * np.random.default_rng(1).standard_normal({n})
)


def residuals(p):
    return p[0] * torch.exp(-p[1] * x) + p[2] - y


J = torch.func.jacfwd(residuals)(torch.tensor({RESIDUALS_P}, dtype=torch.float64))
print({out})
"""


def logistic_expr(m: int, n: int) -> str:
    """A logistic loss of n parameters on an m × n matrix (soft labels)."""
    return f"""\
# a logistic loss, {n} parameters, {m} × {n} data (benchmarks/inputs.py)
X = randn({m}, {n}, seed=0)
y = rand({m}, seed=1)
param w = randn({n}, seed=2) * 0.01
z = X @ w
loss = mean(softplus(z) - y * z)
"""


_LOGISTIC_DATA = """\
import numpy as np

X = np.random.default_rng(0).standard_normal(({m}, {n}))
y = np.random.default_rng(1).random({m})
w = np.random.default_rng(2).standard_normal({n}) * 0.01
"""


def logistic_torch_script(m: int, n: int, as_json: bool = False) -> str:
    """The loss's Hessian by `torch.autograd.functional.hessian(...,
    vectorize=True)`, in float64."""
    out = "json.dumps(H.tolist())" if as_json else "H"
    return (
        "import json\n\nimport torch\n\n"
        + _LOGISTIC_DATA.format(m=m, n=n)
        + f"""
X, y, w = (torch.from_numpy(a) for a in (X, y, w))


def loss(w):
    z = X @ w
    return torch.mean(torch.nn.functional.softplus(z) - y * z)


H = torch.autograd.functional.hessian(loss, w, vectorize=True)
print({out})
"""
    )


def logistic_jax_script(m: int, n: int, as_json: bool = False) -> str:
    """The same by `jax.hessian` (compiled), in float64."""
    out = "json.dumps(np.asarray(H).tolist())" if as_json else "np.asarray(H)"
    return (
        "import json\n\nimport jax\n\n"
        'jax.config.update("jax_enable_x64", True)\n'
        "import jax.numpy as jnp\n"
        + _LOGISTIC_DATA.format(m=m, n=n)
        + f"""

def loss(w):
    z = X @ w
    return jnp.mean(jax.nn.softplus(z) - y * z)


H = jax.jit(jax.hessian(loss))(jnp.asarray(w))
print({out})
"""
    )


def adam_torch_script(start: dict, steps: int, as_json: bool = False) -> str:
    """examples/mlp.expr's perceptron trained by `torch.optim.Adam` for
    `steps` steps from the example's start (`start`: X, y, W1, b1, W2, b2 as
    nested lists), in float64; prints the last loss, or the parameters as
    one JSON list."""
    out = (
        "json.dumps(torch.cat([p.detach().reshape(-1) for p in params]).tolist())"
        if as_json
        else "loss.item()"
    )
    return f"""import json

import torch

start = json.loads({json.dumps(json.dumps(start))})
X, y, W1, b1, W2, b2 = (
    torch.tensor(start[k], dtype=torch.float64) for k in ("X", "y", "W1", "b1", "W2", "b2")
)
params = [p.requires_grad_() for p in (W1, b1, W2, b2)]
optimizer = torch.optim.Adam(params)
for _ in range({steps}):
    optimizer.zero_grad()
    loss = torch.mean((torch.tanh(X @ W1 + b1) @ W2 + b2 - y) ** 2)
    loss.backward()
    optimizer.step()
print({out})
"""
