"""Arguments for the ops of ops_linalg and for the matrix product on
stacks: small random arrays, shared by their own tests and by the op-by-op
forward-mode tests."""

import numpy as np

RNG = np.random.default_rng(20261203)


def rand(*shape, lo=-1.0, hi=1.0):
    return RNG.uniform(lo, hi, shape)


def well_conditioned(*shape):
    """Square matrices (or stacks) far from singular."""
    n = shape[-1]
    return rand(*shape) + n * np.eye(n)


# (op, arguments, attributes): every op of ops_linalg and the matrix product
# on stacks, on small random arrays.
CASES = [
    ("prod", (rand(3, 4, lo=0.5, hi=1.5),), {"axis": None}),
    ("prod", (rand(3, 4),), {"axis": 0}),
    ("prod", (rand(3, 4),), {"axis": -1}),
    ("prod", (np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 1.5], [1.0, 2.0, 0.5]]),), {"axis": 1}),
    ("prod", (np.array([0.0, 2.0, -1.5, 3.0]),), {"axis": None}),
    ("prod", (np.array(2.5),), {"axis": None}),
    ("others", (np.array([[0.0, 2.0, 3.0], [1.0, 0.0, 0.0]]),), {"axis": 1}),
    ("others", (rand(4, 3),), {"axis": 0}),
    ("var", (rand(3, 4),), {"axis": None, "correction": 1}),
    ("var", (rand(3, 4),), {"axis": 0, "correction": 1}),
    ("var", (rand(3, 4),), {"axis": -1, "correction": 0}),
    ("std", (rand(3, 4),), {"axis": None, "correction": 1}),
    ("std", (rand(3, 4),), {"axis": 1, "correction": 0}),
    ("cumsum", (rand(3, 4),), {"axis": None}),
    ("cumsum", (rand(3, 4),), {"axis": 0}),
    ("cumsum", (rand(2, 3, 4),), {"axis": -1}),
    ("concat", (rand(2, 3), rand(4, 3)), {"axis": 0}),
    ("concat", (rand(2, 3), rand(2, 1), rand(2, 2)), {"axis": -1}),
    ("stack_axis", (rand(2, 3), rand(2, 3)), {"axis": 0}),
    ("stack_axis", (rand(2, 3), rand(2, 3), rand(2, 3)), {"axis": 2}),
    ("stack_axis", (rand(4), rand(4)), {"axis": -1}),
    ("diag", (rand(3),), {}),
    ("diag", (rand(3, 3),), {}),
    ("diag", (rand(2, 4),), {}),
    ("diag", (rand(4, 2),), {}),
    ("trace", (rand(3, 3),), {}),
    ("trace", (rand(2, 3),), {}),
    ("outer", (rand(3), rand(2)), {}),
    ("det", (well_conditioned(3, 3),), {}),
    ("det", (well_conditioned(2, 3, 3),), {}),
    ("det", (np.array([[1.0, 2.0], [2.0, 4.0]]),), {}),  # singular: still exact
    ("cofactor", (well_conditioned(3, 3),), {}),
    ("cofactor", (well_conditioned(2, 2, 2),), {}),
    ("inv", (well_conditioned(3, 3),), {}),
    ("inv", (well_conditioned(2, 3, 3),), {}),
    ("solve", (well_conditioned(3, 3), rand(3)), {}),
    ("solve", (well_conditioned(3, 3), rand(3, 2)), {}),
    ("solve", (well_conditioned(2, 3, 3), rand(3)), {}),
    ("solve", (well_conditioned(2, 3, 3), rand(3, 1)), {}),
    ("solve", (well_conditioned(3, 3), rand(2, 3, 2)), {}),
    ("matrix_transpose", (rand(2, 3, 4),), {}),
    ("matmul", (rand(2, 3, 4), rand(4, 5)), {}),
    ("matmul", (rand(4), rand(2, 4, 5)), {}),
    ("matmul", (rand(2, 3, 4), rand(4)), {}),
    ("matmul", (rand(2, 1, 3, 4), rand(5, 4, 2)), {}),
    ("matmul", (rand(3, 4), rand(2, 4, 2)), {}),
]
