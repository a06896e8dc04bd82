"""Products, variances, running sums, joins and linear algebra: values
against independent computations, gradients (VJPs) and JVPs against central
finite differences and each other, second derivatives, shape errors located,
stacks of matrices under ``@``, and PyTorch as an extra oracle when it is
installed."""

import math

import numpy as np
import pytest

from autograd_cli import ops_linalg  # noqa: F401  (registers its ops)
from autograd_cli.core import OPS

from clitools import invoke, strict_json, write
from linalg_cases import CASES, rand, well_conditioned

IDS = [f"{name}-{'-'.join(str(np.shape(a)) for a in args)}-{attrs}" for name, args, attrs in CASES]


def forward(name, args, attrs):
    return np.asarray(OPS[name].forward(*args, **attrs), dtype=np.float64)


def numeric_jvp(name, args, attrs, tangents, h=1e-6):
    """The central difference of the op along `tangents` (one per argument)."""
    up = [a + h * t for a, t in zip(args, tangents)]
    down = [a - h * t for a, t in zip(args, tangents)]
    return (forward(name, up, attrs) - forward(name, down, attrs)) / (2 * h)


def vjps(name, args, attrs, g):
    op = OPS[name]
    ans = op.forward(*args, **attrs)
    return [np.asarray(op.vjps[k](g, ans, *args, **attrs)) for k in range(len(args))]


@pytest.mark.parametrize("name, args, attrs", CASES, ids=IDS)
def test_shape_rule_gives_the_forward_shape(name, args, attrs):
    op = OPS[name]
    assert tuple(op.shape(*[np.shape(a) for a in args], **attrs)) == np.shape(
        forward(name, args, attrs)
    )


@pytest.mark.parametrize("name, args, attrs", CASES, ids=IDS)
def test_vjp_against_central_differences(name, args, attrs):
    """Each element of each argument's gradient against the central
    difference of <g, f> along that element."""
    g = rand(*np.shape(forward(name, args, attrs)))
    grads = vjps(name, args, attrs, g)
    for k, a in enumerate(args):
        assert grads[k].shape == np.shape(a), (k, grads[k].shape)
        numeric = np.zeros(np.shape(a))
        for i in np.ndindex(*np.shape(a)):
            ts = [np.zeros(np.shape(b)) for b in args]
            ts[k][i] = 1.0
            numeric[i] = np.sum(g * numeric_jvp(name, args, attrs, ts))
        np.testing.assert_allclose(grads[k], numeric, rtol=1e-6, atol=1e-8, err_msg=f"arg {k}")


@pytest.mark.parametrize("name, args, attrs", CASES, ids=IDS)
def test_jvp_against_central_differences_and_the_vjp(name, args, attrs):
    """A batch of three tangents: each against a central difference, and
    <g, J t> = <J^T g, t> against the VJPs, to rounding; then with each
    argument's tangent left out (None) in turn."""
    op = OPS[name]
    if name == "matmul" and op.jvp is None:
        pytest.skip("the matrix product's JVP is declared with ops.py's ops, not yet")
    ans = op.forward(*args, **attrs)
    batch = 3
    tangents = [rand(batch, *np.shape(a)) for a in args]
    out = np.asarray(op.jvp(tangents, ans, *args, **attrs))
    assert out.shape == (batch,) + np.shape(ans)
    assert out.dtype == np.asarray(ans).dtype
    g = rand(*np.shape(ans))
    grads = vjps(name, args, attrs, g)
    for b in range(batch):
        ts = [t[b] for t in tangents]
        np.testing.assert_allclose(out[b], numeric_jvp(name, args, attrs, ts), rtol=1e-6, atol=1e-8)
        forward_mode = np.sum(g * out[b])
        reverse_mode = math.fsum(float(np.sum(gr * t)) for gr, t in zip(grads, ts))
        scale = np.sum(np.abs(g * out[b])) + 1.0
        assert abs(forward_mode - reverse_mode) <= 1e-12 * scale
    if len(args) > 1:
        for k in range(len(args)):
            partial = [None if j == k else t for j, t in enumerate(tangents)]
            got = np.asarray(op.jvp(partial, ans, *args, **attrs))
            zeroed = [np.zeros_like(t) if j == k else t for j, t in enumerate(tangents)]
            want = np.asarray(op.jvp(zeroed, ans, *args, **attrs))
            np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14)


# ------------------------------------------------------ values, independently


def test_values_against_independent_computations():
    x = rand(3, 4)
    assert np.allclose(forward("prod", (x,), {"axis": 1}), [math.prod(r) for r in x])
    n = x.size
    mean = sum(x.flat) / n
    var = sum((v - mean) ** 2 for v in x.flat) / (n - 1)
    assert np.isclose(forward("var", (x,), {"axis": None, "correction": 1}), var)
    assert np.isclose(forward("std", (x,), {"axis": None, "correction": 1}), math.sqrt(var))
    running = forward("cumsum", (x,), {"axis": 1})
    assert np.allclose(running, [[sum(r[: j + 1]) for j in range(4)] for r in x])
    a = well_conditioned(2, 3, 3)
    assert np.allclose(forward("inv", (a,), {}) @ a, np.eye(3))
    b = rand(3)
    assert np.allclose(a @ forward("solve", (a, b), {})[..., None], b[:, None])
    for m in a:  # det as the product of the eigenvalues
        assert np.isclose(forward("det", (m,), {}), np.prod(np.linalg.eigvals(m)).real)
    c = forward("cofactor", (a,), {})
    for m, cm in zip(a, c):  # the cofactor matrix, minor by minor
        for i, j in np.ndindex(3, 3):
            minor = np.delete(np.delete(m, i, 0), j, 1)
            assert np.isclose(cm[i, j], (-1) ** (i + j) * np.linalg.det(minor))
    p, q = rand(2, 3, 4), rand(5, 4, 2)
    got = forward("matmul", (p[:, None], q), {})
    assert got.shape == (2, 5, 3, 2)
    for i, j in np.ndindex(2, 5):
        assert np.allclose(
            got[i, j],
            [[sum(p[i, r, k] * q[j, k, c] for k in range(4)) for c in range(2)] for r in range(3)],
        )


def test_prod_gradient_with_zeros_is_the_product_of_the_others():
    """Exact, as PyTorch: one zero leaves one non-zero entry, two zeros none."""
    x = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 4.0]])
    (grad,) = vjps("prod", (x,), {"axis": 1}, np.ones(2))
    assert grad.tolist() == [[6.0, 0.0, 0.0], [0.0, 0.0, 0.0]]


def test_std_gradient_at_zero_is_zero():
    (grad,) = vjps("std", (np.full(3, 2.0),), {"axis": None, "correction": 1}, np.float64(1.0))
    assert grad.tolist() == [0.0, 0.0, 0.0]


def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    (grad,) = vjps("det", (a,), {}, np.float64(1.0))
    assert np.allclose(grad, [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)


def test_float32_stays_float32():
    for name, args, attrs in CASES:
        args32 = tuple(np.asarray(a, dtype=np.float32) for a in args)
        ans = np.asarray(OPS[name].forward(*args32, **attrs))
        assert ans.dtype == np.float32, name
        g = np.ones(ans.shape, np.float32)
        for k in range(len(args)):
            assert np.asarray(OPS[name].vjps[k](g, ans, *args32, **attrs)).dtype == np.float32, name
        if OPS[name].jvp is not None:
            ts = [np.ones((2,) + a.shape, np.float32) for a in args32]
            assert np.asarray(OPS[name].jvp(ts, ans, *args32, **attrs)).dtype == np.float32, name


# ------------------------------------------------------ PyTorch as an oracle


def _torch_case(torch, name, args, attrs):
    """The op in PyTorch, or None where it has no counterpart."""
    axis = attrs.get("axis")
    dim = {} if axis is None else {"dim": axis}
    fns = {
        "prod": lambda x: torch.prod(x.reshape(-1)) if axis is None else torch.prod(x, axis),
        "var": lambda x: torch.var(x, correction=attrs["correction"], **dim),
        "std": lambda x: torch.std(x, correction=attrs["correction"], **dim),
        "cumsum": lambda x: (
            torch.cumsum(x.reshape(-1), 0) if axis is None else torch.cumsum(x, axis)
        ),
        "concat": lambda *xs: torch.cat(xs, axis),
        "stack_axis": lambda *xs: torch.stack(xs, axis),
        "diag": lambda x: torch.diag(x),
        "trace": torch.trace,
        "outer": torch.outer,
        "det": torch.linalg.det,
        "inv": torch.linalg.inv,
        "matmul": torch.matmul,
        "solve": lambda a, b: (
            torch.linalg.solve(a, b[:, None])[..., 0] if b.ndim == 1 else torch.linalg.solve(a, b)
        ),
    }
    return fns.get(name)


@pytest.mark.parametrize("name, args, attrs", CASES, ids=IDS)
def test_against_pytorch(name, args, attrs):
    torch = pytest.importorskip("torch")
    f = _torch_case(torch, name, args, attrs)
    if f is None:
        pytest.skip(f"{name} is internal: no PyTorch counterpart")
    if name == "det" and np.any(np.linalg.matrix_rank(args[0]) < args[0].shape[-1]):
        pytest.skip("PyTorch's first-order det gradient is 0 at a singular matrix")
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    out = f(*ts)
    np.testing.assert_allclose(
        forward(name, args, attrs), out.detach().numpy(), rtol=1e-12, atol=1e-12
    )
    g = rand(*out.shape)
    want = torch.autograd.grad(out, ts, torch.tensor(g))
    for got, w in zip(vjps(name, args, attrs, g), want):
        np.testing.assert_allclose(got, w.numpy(), rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------ on the command line


def run_json(tmp_path, command, text, *options):
    result = invoke([command, write(tmp_path, text), "-f", "json", *options])
    assert result.exit_code == 0, result.output
    return strict_json(result.stdout)


PROGRAMS = {
    "det": "param A = [[2, 1, 0.5], [1, 3, 1], [0, 1, 4]]\nL = det(A)\n",
    "det of a stack": "param A = [[[2, 1], [1, 3]], [[1, 0.5], [0.2, 2]]]\nL = sum(det(A) ** 2)\n",
    "inv": "param A = [[2, 1], [0.5, 3]]\nL = sum(inv(A) * [[1, 2], [3, 4]])\n",
    "solve": "param A = [[2, 1], [0.5, 3]]\nparam b = [1, 2]\nL = sum(solve(A, b) ** 2)\n",
    "solve a stack": (
        "param A = [[[2, 1], [0.5, 3]], [[1, 0], [0.3, 2]]]\nparam b = [[1, 2], [0.5, 1]]\n"
        "L = sum(solve(A, b) ** 2)\n"
    ),
    "prod": "param v = [0.5, 2, 3, -1]\nL = prod(v)\n",
    "prod with a zero": "param v = [0, 2, 3, -1]\nL = prod(v * v + v)\n",
    "prod with two zeros": "param v = [[0, 2, 0], [1, 2, 3]]\nL = sum(prod(v, axis=1))\n",
    "var and std": "param x = [[1, 2, 4], [0.5, 3, 1]]\nL = sum(var(x, axis=1)) + std(x)\n",
    "batched @": (
        "param A = randn(2, 3, 4, seed=1)\nparam B = randn(4, 2, seed=2)\n"
        "param v = [1, 2, 3]\nL = sum(tanh(v @ (A @ B)))\n"
    ),
    "broadcast batches": (
        "param A = randn(2, 1, 3, 4, seed=3)\nparam B = randn(5, 4, 2, seed=4)\n"
        "L = sum(sin(A @ B))\n"
    ),
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_check_first_and_second_derivatives(tmp_path, name):
    """check compares the gradient and the Hessian (reverse over reverse)
    with central differences, every element."""
    for order in ("1", "2"):
        doc = run_json(tmp_path, "check", PROGRAMS[name], "--order", order)
        assert doc["ok"] is True, (order, doc)
        assert doc["mode"] == "full"
        rows = doc["check"].values()
        if order == "2":  # a block per pair of names
            rows = [row for block in rows for row in block.values()]
        assert rows and all(row["ok"] and row["compared"] == row["size"] for row in rows)


def test_hessian_of_prod_with_zeros(tmp_path):
    """d²(v0·v1·v2)/dv_i dv_j is the remaining element, zeros or not."""
    doc = run_json(tmp_path, "hessian", "param v = [0, 2, 0]\nL = prod(v)\n")
    block = doc["hessian"]["v"]["v"] if "hessian" in doc else None
    assert block == [[0.0, 0.0, 2.0], [0.0, 0.0, 0.0], [2.0, 0.0, 0.0]], doc


def test_eval_of_every_function(tmp_path):
    text = (
        "param A = [[2, 1], [1, 3]]\nparam v = [1, 2]\n"
        "L = det(A) + trace(inv(A)) + sum(solve(A, v)) + prod(v) + var(v) + std(v)"
        " + sum(cumsum(v)) + sum(concat(v, v)) + sum(stack(v, v, axis=1))"
        " + sum(diag(v)) + sum(diag(A)) + sum(outer(v, v))\n"
    )
    doc = run_json(tmp_path, "eval", text)
    a, v = np.array([[2.0, 1.0], [1.0, 3.0]]), np.array([1.0, 2.0])
    want = (
        np.linalg.det(a)
        + np.trace(np.linalg.inv(a))
        + np.linalg.solve(a, v).sum()
        + 2.0
        + 0.5
        + math.sqrt(0.5)
        + 4.0
        + 6.0
        + 6.0
        + 3.0
        + 5.0
        + 9.0
    )
    assert np.isclose(doc["value"], want)


def test_singular_matrices_give_nan_with_a_warning_and_check_notes_them(tmp_path):
    text = "param A = [[1, 2], [2, 4]]\nL = sum(inv(A))\n"
    result = invoke(["eval", write(tmp_path, text), "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = strict_json(result.stdout)
    assert doc["value"] == "nan"
    assert any("inv gives nan" in w["message"] for w in doc["warnings"]), doc["warnings"]
    doc = strict_json(invoke(["check", write(tmp_path, text), "-f", "json"]).stdout)
    assert "inv of a singular matrix" in doc["check"]["A"].get("note", ""), doc


@pytest.mark.parametrize(
    "body, column, fragments",
    [
        ("L = det(M)", 5, ["det", "square", "(2, 3)"]),
        ("L = inv(v)", 5, ["inv", "square", "(3,)"]),
        ("L = solve(S, v)", 5, ["solve", "vector b of 2 elements", "(3,)"]),
        ("L = solve(zeros(3, 2, 2), T)", 5, ["solve", "(3,) and (2,) do not broadcast"]),
        ("L = solve(S, M[0:1])", 5, ["solve", "(2,) or (2, k)"]),
        ("L = trace(v)", 5, ["trace", "matrix", "(3,)"]),
        ("L = diag(T)", 5, ["diag", "vector or a matrix", "(2, 2, 2)"]),
        ("L = outer(v, M)", 5, ["outer", "two vectors"]),
        ("L = M @ v[0:2]", 5, ["inner dimensions 3 and 2"]),
        ("L = T @ zeros(3, 2, 2)", 5, ["leading dimensions (2,) and (3,) do not broadcast"]),
        ("L = concat(v, M)", 5, ["concat", "array 2", "(2, 3)"]),
        ("L = concat(M, M, axis=2)", 5, ["axis 2 is out of range"]),
        ("L = concat(1, 2)", 5, ["concat", "not scalars"]),
        ("L = concat()", 5, ["concat() needs at least one array"]),
        ("L = concat(v, v, axs=0)", 18, ["no argument 'axs'", "did you mean 'axis'"]),
        ("L = stack(v, M)", 5, ["stack", "array 2", "one shape"]),
        ("L = stack(v, v, axis=-3)", 5, ["axis -3 is out of range"]),
        ("L = stack(v, v, axis=v[0])", 22, ["axis", "constant"]),
        ("L = var(v, correction=3)", 5, ["correction=3", "no degrees of freedom"]),
        ("L = std(M, axis=2)", 5, ["axis 2 is out of range"]),
        ("L = prod(v, axis=1)", 5, ["axis 1 is out of range"]),
        ("L = cumsum(M, axis=-3)", 5, ["axis -3 is out of range"]),
        ("L = det(zeros(0, 0))", 5, ["det", "at least one row"]),
    ],
)
def test_shape_errors_are_located_at_the_call(tmp_path, body, column, fragments):
    text = (
        "v = [1, 2, 3]\nM = [[1, 2, 3], [4, 5, 6]]\nS = [[1, 2], [3, 5]]\n"
        "T = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]\n" + body + "\n"
    )
    result = invoke(["eval", write(tmp_path, text)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"t.expr:5:{column}: error:" in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_explain_writes_the_linear_algebra_factors_with_their_numbers(tmp_path):
    """det and prod are whole Jacobians: explain names the local factor and
    gives its number, which is the gradient's element."""
    text = "param A = [[2, 1], [1, 3]]\nparam v = [2, 5]\nd = det(A)\np = prod(v)\nL = d * p\n"
    path = write(tmp_path, text)
    result = invoke(["explain", path, "--wrt", "A[0, 1]"])
    assert result.exit_code == 0, result.output
    # ∂d/∂A[0, 1] is the cofactor -A[1, 0] = -1, times p = 10
    assert "∂d/∂A[0, 1]|local" in result.stdout and "= 10 · (−1) = −10" in result.stdout
    result = invoke(["explain", path, "--wrt", "v[0]"])
    assert result.exit_code == 0, result.output
    # ∂p/∂v[0] is v[1] = 5, times d = 5
    assert "∂p/∂v[0]|local" in result.stdout and "= 5 · 5 = 25" in result.stdout


def test_function_entries_name_their_op_and_say_what_they_do():
    from autograd_cli.functions import FUNCTIONS

    names = "prod var std cumsum concat stack diag trace outer det inv solve".split()
    for name in names:
        fn = FUNCTIONS[name]
        assert fn.op in OPS, name
        assert fn.usage.startswith(name + "(") and fn.summary, name
    assert FUNCTIONS["concat"].many and FUNCTIONS["stack"].many


def test_explain_follows_an_element_through_a_product_of_stacks(tmp_path):
    """C[0, 2, 0] = Σ_r v[r]·(A[0, 0] @ B[2])[r, 0]: its derivative by B[2, 1, 0]
    reads A's matrix [0, 0] (A's axis of size 1 broadcast), column 1."""
    text = (
        "param A = randn(2, 1, 2, 2, seed=1)\nparam B = randn(3, 2, 2, seed=2)\n"
        "v = [1, 2]\nC = v @ (A @ B)\nL = sum(C * C)\n"
    )
    result = invoke(["explain", write(tmp_path, text), "--wrt", "B[2, 1, 0]"])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.stdout.split())
    want = "∂C[0, 2, 0]/∂B[2, 1, 0]|local = 2·C[0, 2, 0] · (v[0]·A[0, 0, 0, 1] + "
    want += "v[1]·A[0, 0, 1, 1])"
    assert want in flat
    assert "∂C[1, 2, 0]/∂B[2, 1, 0]|local" in flat and "v[1]·A[1, 0, 1, 1]" in flat


@pytest.mark.parametrize("command", [["eval"], ["hessian"], ["jacobian", "--mode", "forward"]])
@pytest.mark.parametrize(
    "body",
    ["L = det(A)", "L = sum(inv(A))", "L = sum(solve(A, [1, 1]))", "L = sum(det(stack(A, B)))"],
)
def test_a_matrix_holding_nan_gives_nan_not_an_internal_error(tmp_path, command, body):
    """numpy's SVD raises on a matrix holding nan (det's gradient is taken
    from it); that matrix's numbers are nan, as a singular one's are."""
    text = f"param A = [[0/0, 1], [1, 1]]\nparam B = [[2, 1], [1, 1]]\n{body}\n"
    result = invoke([*command, write(tmp_path, text), "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = strict_json(result.stdout)
    if command == ["eval"]:
        assert doc["value"] == "nan"
        assert doc["nodes"]["A"]["grad"] == [["nan", "nan"], ["nan", "nan"]]
        if "stack" in body:  # the other matrix of the stack keeps its cofactors
            np.testing.assert_allclose(doc["nodes"]["B"]["grad"], [[1, -1], [-1, 2]], rtol=1e-14)


def test_check_on_a_matrix_holding_nan_fails_without_an_internal_error(tmp_path):
    """The singular-matrix kink test takes a rank by SVD, which raises on
    nan: a matrix holding nan is no kink, and its nan fails the check."""
    text = "param A = [[0/0, 1], [1, 1]]\nL = det(A) + sum(inv(A)) + sum(solve(A, [1, 1]))\n"
    result = invoke(["check", write(tmp_path, text), "-f", "json"])
    assert result.exit_code == 1, result.output
    doc = strict_json(result.stdout)
    assert doc["ok"] is False and "note" not in doc["check"]["A"], doc
