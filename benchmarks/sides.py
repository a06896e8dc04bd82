"""The sides timed in-process, each in a worker process of its own.

Each entry of `SIDES` sets a side up from its arguments: it builds the
input, runs once (the warm-up) and returns ``(run, check)``, where `run` is
the function of no arguments to time and `check` a small JSON value the
workload verifies before timing (gradients, a count).  Only what a side
needs is imported: autograd-cli's process never imports PyTorch, and the
peers' processes do not hold an autograd-cli model while they are timed
(some load one first, to check their gradients against it).
"""

from __future__ import annotations

import gc
import time

import numpy as np

import inputs
import peers

# ------------------------------------------------------- the deep scalar chain


def chain_autograd_cli(n: int):
    from autograd_cli.compiling import load
    from autograd_cli.errors import Source
    from autograd_cli.running import run

    model = load(Source(f"chain{n}.expr", inputs.chain_expr(n)))  # not timed
    report = run(model, every_node=False)  # as `autograd-cli eval` runs it
    return (lambda: run(model, every_node=False)), [
        float(report.grads["p"]),
        float(report.grads["q"]),
    ]


CHAIN_PEERS = {
    "tape": peers.tape_chain,
    "micrograd": peers.micrograd_chain,
    "torch": peers.torch_chain,
    "jax": peers.jax_chain,
    "jax-loop": peers.jax_loop_chain,
    "autograd": peers.hips_autograd_chain,
}


def chain_peer(n: int, peer: str):
    """(run, [dp, dq, seconds of the first call]): the first call is where
    a compiling peer (JAX's jit) compiles."""
    chain = CHAIN_PEERS[peer]
    start = time.perf_counter()
    dp, dq = chain(n)  # a RecursionError here fails the side
    first = time.perf_counter() - start
    return (lambda: chain(n)), [float(dp), float(dq), first]


# ----------------------------------------------------------------- parsing


def parse_autograd_cli(n: int):
    from autograd_cli.compiling import load
    from autograd_cli.errors import Source
    from autograd_cli.running import run

    name, text = f"mixed{n}.expr", inputs.mixed_expr(n)
    model = load(Source(name, text), keep_exprs=False)  # as `autograd-cli eval` loads
    run(model)  # the generated program evaluates, too
    return (lambda: load(Source(name, text), keep_exprs=False)), len(model.bindings)


def parse_ast(n: int):
    import ast

    text = inputs.as_python(inputs.mixed_expr(n))
    return (lambda: ast.parse(text)), len(ast.parse(text).body)


# ----------------------------------------------------------------- tensors


def rel_error(a, b) -> float:
    """max |a - b| / max |b|: a relative error that does not blow up where
    single elements are near zero."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    diff = float(np.max(np.abs(a - b), initial=0.0))
    scale = float(np.max(np.abs(b), initial=0.0))
    return diff / scale if scale else diff


def _mlp_reference(dtype: str):
    """autograd-cli's perceptron: its inputs and parameters (writable
    copies) and the gradient of every name."""
    from autograd_cli.compiling import load
    from autograd_cli.errors import Source
    from autograd_cli.running import run

    report = run(load(Source("mlp.expr", inputs.MLP_EXPR), dtype=dtype))
    arrays = {k: np.array(report.values[k]) for k in inputs.MLP_NAMES[:8]}
    grads = {k: np.array(report.grads[k]) for k in inputs.MLP_NAMES}
    return arrays, grads


def _check_grads(what: str, got: dict, want: dict, tol: float) -> float:
    worst = 0.0
    for name, expected in want.items():
        err = rel_error(got[name], expected)
        if not err <= tol:
            raise AssertionError(
                f"{what}: the gradient of {name} differs from autograd-cli's "
                f"by {err:.3g} (relative), over {tol:g}"
            )
        worst = max(worst, err)
    return worst


def mlp_autograd_cli(dtype: str):
    from autograd_cli.compiling import load
    from autograd_cli.errors import Source
    from autograd_cli.running import run

    # The same start as the peers' processes (they compute the reference
    # first), so that every side's C library has the same history of
    # allocations before the timing: that history decides whether freed
    # memory goes back to the system between runs, and page faults follow.
    reference = _mlp_reference(dtype)
    del reference
    gc.collect()
    model = load(Source("mlp.expr", inputs.MLP_EXPR), dtype=dtype)  # not timed
    report = run(model, every_node=False)  # as `autograd-cli eval` runs it
    return (lambda: run(model, every_node=False)), {"loss": float(report.values["loss"])}


def mlp_numpy(dtype: str, tol: float):
    arrays, want = _mlp_reference(dtype)
    error = _check_grads(f"numpy by hand ({dtype})", peers.numpy_mlp(arrays), want, tol)
    del want
    gc.collect()
    return (lambda: peers.numpy_mlp(arrays)), {"max_rel_error": error}


def mlp_torch(dtype: str, tol: float):
    import torch

    arrays, want = _mlp_reference(dtype)
    leaves = peers.torch_mlp_leaves(arrays)
    got = {k: v.detach().numpy() for k, v in peers.torch_mlp(leaves).items()}
    error = _check_grads(f"PyTorch ({dtype})", got, want, tol)
    del want, got
    gc.collect()
    return (lambda: peers.torch_mlp(leaves)), {
        "max_rel_error": error,
        "threads": torch.get_num_threads(),
    }


def mlp_one_process(dtype: str, tol: float):
    """autograd-cli and the hand-written numpy in one process, timed in turn:
    both then run on the same history of allocations (see the tensor
    workload's notes)."""
    from autograd_cli.compiling import load
    from autograd_cli.errors import Source
    from autograd_cli.running import run

    arrays, want = _mlp_reference(dtype)
    error = _check_grads(f"numpy by hand ({dtype})", peers.numpy_mlp(arrays), want, tol)
    del want
    gc.collect()
    model = load(Source("mlp.expr", inputs.MLP_EXPR), dtype=dtype)  # not timed
    run(model, every_node=False)
    return (
        {
            "autograd-cli": lambda: run(model, every_node=False),
            "numpy": lambda: peers.numpy_mlp(arrays),
        },
        {"max_rel_error": error},
    )


def mlp_jax(dtype: str, tol: float):
    arrays, want = _mlp_reference(dtype)
    device, zeros = peers.jax_mlp_inputs(arrays, dtype)
    run = peers.jax_mlp()
    got = {k: np.asarray(v) for k, v in run(device, zeros).items()}  # compiles
    got["loss"] = np.ones(())
    error = _check_grads(f"JAX ({dtype})", got, want, tol)
    del want, got
    gc.collect()
    import jax

    return (lambda: run(device, zeros)), {"max_rel_error": error, "device": str(jax.devices()[0])}


# ------------------------------------------------ Adam on examples/mlp.expr


def _mlp_example(path: str):
    """examples/mlp.expr compiled, and its inputs' and params' values."""
    from autograd_cli.compiling import load
    from autograd_cli.errors import Source
    from autograd_cli.running import run

    with open(path, encoding="utf-8") as f:
        source = Source(path, f.read())
    values = run(load(source)).values
    return load(source), {k: np.array(values[k]) for k in ("X", "y", "W1", "b1", "W2", "b2")}


def adam_autograd_cli(path: str, steps: int):
    """`fit --method adam --steps STEPS --tol 0`'s loop: the Adam steps of
    autograd-cli's fit on the example, the objective and gradient by its
    compiled step (one run as the warm-up compiles it)."""
    from autograd_cli.fitting.job import Job
    from autograd_cli.fitting.methods import Settings, minimise

    model, _ = _mlp_example(path)
    job = Job(model, Settings("adam", steps, 0.0))
    outcome = minimise(job.problem, job.settings)
    return (lambda: minimise(job.problem, job.settings)), {"x": outcome.x.tolist()}


def adam_numpy(path: str, steps: int):
    _, arrays = _mlp_example(path)
    x = peers.numpy_adam_mlp(arrays, steps)
    return (lambda: peers.numpy_adam_mlp(arrays, steps)), {"x": x.tolist()}


SIDES = {
    "chain/autograd-cli": chain_autograd_cli,
    "chain/peer": chain_peer,
    "parse/autograd-cli": parse_autograd_cli,
    "parse/ast": parse_ast,
    "mlp/autograd-cli": mlp_autograd_cli,
    "mlp/numpy": mlp_numpy,
    "mlp/torch": mlp_torch,
    "mlp/jax": mlp_jax,
    "mlp/one-process": mlp_one_process,
    "adam/autograd-cli": adam_autograd_cli,
    "adam/numpy": adam_numpy,
}
