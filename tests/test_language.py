"""The .expr language through the library (docs/language.md).

Every test builds a model with ``load(Source(...))``, evaluates it with
``run`` and compares values and gradients with numpy computed here.
"""

import math

import numpy as np
import pytest

from autograd_cli.compiling import load
from autograd_cli.errors import ExprError, Source
from autograd_cli.running import run

from common import SEED


def model_of(text, **kw):
    return load(Source("t.expr", text), **kw)


def ev(text, target=None, **kw):
    """(model, report) for `text`."""
    model = model_of(text, **kw)
    return model, run(model, target)


def values(text, **kw):
    return ev(text, **kw)[1].values


def grads(text, **kw):
    return ev(text, **kw)[1].grads


def assert_arr(got, want, rtol=1e-12, atol=1e-12):
    want = np.asarray(want, dtype=float)
    got = np.asarray(got)
    assert got.shape == want.shape, f"shape {got.shape} != {want.shape}"
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# ----------------------------------------------------------------- the seed


def test_seed_example_values_gradients_and_kinds():
    model, r = ev(SEED)
    assert [b.name for b in model.bindings] == ["a1", "a2", "w", "b1", "b2", "c", "L"]
    assert r.target.name == "L"
    assert float(r.values["L"]) == -254.0
    assert_arr(r.grads["w"], [-28, -21, -12, -23, -36])
    want = {"a1": -41, "a2": -35, "b1": -7, "b2": -3, "c": -1, "L": 1}
    for name, g in want.items():
        assert float(r.grads[name]) == g, name
    kinds = {n: model.by_name[n].kind for n in want}
    assert kinds == {
        "a1": "input",
        "a2": "input",
        "b1": "node",
        "b2": "node",
        "c": "node",
        "L": "node",
    }
    assert model.by_name["w"].kind == "param"


# ---------------------------------------------------------------- lexical


def test_comments_and_blank_lines_are_ignored():
    text = (
        "\n\n# a leading comment\n   \n"
        "a = 2   # trailing comment\n"
        "\t\n"
        "# b = 100 is commented out\n"
        "b = a * 3 # another\n"
        "\n# the end\n"
    )
    model, r = ev(text)
    assert [b.name for b in model.bindings] == ["a", "b"]
    assert float(r.values["b"]) == 6.0
    assert float(r.grads["a"]) == 3.0


def test_file_without_final_newline_and_crlf_line_endings():
    assert float(values("a = 2\r\nb = a * a\r\n")["b"]) == 4.0
    assert float(values("a = 2\nb = a * a")["b"]) == 4.0


def test_semicolons_separate_statements_on_one_line():
    model, r = ev("a = 1; b = 2;c = a * b\nd = c + 1;")
    assert [b.name for b in model.bindings] == ["a", "b", "c", "d"]
    assert float(r.values["d"]) == 3.0
    assert float(r.grads["a"]) == 2.0


def test_empty_statements_between_semicolons_are_allowed():
    assert float(values("a = 1;; b = a + 1")["b"]) == 2.0


def test_newlines_inside_parentheses_continue_the_statement():
    text = "a = 2\nb = (a +\n     3\n     * 4)\n"
    model, r = ev(text)
    assert [b.name for b in model.bindings] == ["a", "b"]
    assert float(r.values["b"]) == 14.0


def test_newlines_inside_brackets_and_calls_continue_the_statement():
    text = (
        "x = [1,\n"
        "     2,   # a comment on a continued line\n"
        "\n"
        "     3]\n"
        "y = sum(\n"
        "    x * x,\n"
        "    axis=0\n"
        ")\n"
    )
    model, r = ev(text)
    assert_arr(r.values["x"], [1, 2, 3])
    assert float(r.values["y"]) == 14.0
    assert_arr(r.grads["x"], [2, 4, 6])
    # the right side is reported on one line, without the comment
    expr = model.by_name["x"].expr
    assert "\n" not in expr and "#" not in expr and "comment" not in expr
    assert expr.replace(" ", "") == "[1,2,3]"


def test_nested_brackets_continue_across_lines():
    text = "m = [[1, 2],\n     [3, 4]]\nL = sum(m @ [1,\n 1])"
    assert float(values(text)["L"]) == 10.0


def test_newline_outside_brackets_ends_the_statement():
    # `b = a` ends at the newline, so `- a` on the next line is not `b = a - a`
    # but a line that is not a statement
    with pytest.raises(ExprError) as info:
        model_of("a = 1\nb = a\n- a")
    assert info.value.span.line == 3


def test_newline_outside_brackets_ends_the_statement_two_bindings():
    model, r = ev("a = 5\nb = a\nc = -a")
    assert [b.name for b in model.bindings] == ["a", "b", "c"]
    assert float(r.values["b"]) == 5.0
    assert float(r.values["c"]) == -5.0


def test_dangling_operator_at_end_of_line_is_an_error_on_that_line():
    with pytest.raises(ExprError) as info:
        model_of("a = 1 +\n2")
    assert info.value.span.line == 1


@pytest.mark.parametrize(
    "literal, expected",
    [
        ("4", 4.0),
        ("4.", 4.0),
        (".5", 0.5),
        ("1e-3", 1e-3),
        ("2.5E+4", 2.5e4),
        ("1E3", 1000.0),
        ("3.25e0", 3.25),
        ("0.125", 0.125),
        ("007", 7.0),
    ],
)
def test_number_forms(literal, expected):
    v = values(f"x = {literal}")["x"]
    assert v.shape == ()
    assert float(v) == expected


def test_number_forms_in_one_list():
    assert_arr(
        values("x = [4, 4., .5, 1e-3, 2.5E+4]\nL = sum(x)")["x"], [4.0, 4.0, 0.5, 1e-3, 2.5e4]
    )


def test_names_with_underscores_digits_and_keyword_prefixes():
    text = "_a1 = 2\nparams = [1, 2]\nparameter_2 = 3\nparam pix = 4\nL = _a1 * sum(params) * parameter_2 * pix"  # noqa: E501
    model, r = ev(text)
    assert float(r.values["L"]) == 72.0
    assert model.by_name["params"].kind == "input"
    assert model.by_name["pix"].kind == "param"


# ------------------------------------------------------------- precedence


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("-x**2", -9.0),  # -(x**2)
        ("(-x)**2", 9.0),
        ("-2**2", -4.0),
        ("2**-1", 0.5),
        ("2 ** - 1", 0.5),
        ("2**3**2", 512.0),  # right associative: 2**(3**2)
        ("(2**3)**2", 64.0),
        ("2 ** -1 ** 2", 0.5),  # 2 ** (-(1 ** 2))
        ("10 - 3 - 2", 5.0),  # left associative
        ("10 - (3 - 2)", 9.0),
        ("12 / 3 * 2", 8.0),  # (12 / 3) * 2
        ("12 / 3 / 2", 2.0),
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("2 * 3 ** 2", 18.0),
        ("+x", 3.0),
        ("+-x", -3.0),
        ("- -x", 3.0),
        ("-+x", -3.0),
        ("x - -x", 6.0),
        ("-x * 2", -6.0),
    ],
)
def test_operator_precedence_and_associativity(expr, expected):
    v = values(f"x = 3\ny = {expr}")["y"]
    assert float(v) == pytest.approx(expected, rel=1e-15)


def test_neg_pow_gradient_is_that_of_minus_x_squared():
    g = grads("x = 3\ny = -x**2")
    assert float(g["x"]) == -6.0


def test_left_associative_with_names():
    r = ev("a = 20\nb = 4\nc = 2\nd = a - b - c\ne = a / b * c")[1]
    assert float(r.values["d"]) == 14.0
    assert float(r.values["e"]) == 10.0


def test_matmul_is_at_the_level_of_times_left_associative():
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    v = np.array([1.0, 1.0])
    s = np.array([1.0, 10.0])
    text = (
        "A = [[1, 2], [3, 4]]\nv = [1, 1]\ns = [1, 10]\n"
        "p = A @ v * s\n"  # (A @ v) * s
        "q = s * A @ v\n"  # (s * A) @ v
        "r = A @ v + v\n"  # (A @ v) + v
        "t = A @ v / 2\n"
        "L = sum(p) + sum(q) + sum(r) + sum(t)"
    )
    vals = values(text)
    assert_arr(vals["p"], (A @ v) * s)
    assert_arr(vals["q"], (s * A) @ v)
    assert_arr(vals["r"], A @ v + v)
    assert_arr(vals["t"], A @ v / 2)


def test_unary_plus_passes_the_gradient():
    model, r = ev("x = [1, 2]\ny = +x\nL = sum(+y * 3)")
    assert_arr(r.values["y"], [1, 2])
    assert_arr(r.grads["x"], [3, 3])
    assert model.by_name["y"].kind == "node"


# ------------------------------------------------------------------ calls


def test_call_with_keyword_arguments():
    m = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    text = (
        "m = [[1, 2, 3], [4, 5, 6]]\n"
        "r0 = sum(m, axis=0)\n"
        "r1 = sum(x=m, axis=1)\n"
        "rn = mean(m, axis=-1)\n"
        "s0 = softmax(m, axis=0)\n"
        "c = clip(m, hi=5, lo=2)\n"
        "t = sum(m,)\n"
        "L = sum(r0) + sum(r1) + sum(rn) + sum(s0) + sum(c) + t"
    )
    vals = values(text)
    assert_arr(vals["r0"], m.sum(axis=0))
    assert_arr(vals["r1"], m.sum(axis=1))
    assert_arr(vals["rn"], m.mean(axis=-1))
    e = np.exp(m - m.max(axis=0))
    assert_arr(vals["s0"], e / e.sum(axis=0), rtol=1e-12)
    assert_arr(vals["c"], np.clip(m, 2, 5))
    assert float(vals["t"]) == 21.0


def test_call_arguments_may_be_expressions():
    x = np.array([0.5, 1.0, 2.0])
    r = ev("x = [0.5, 1, 2]\ny = sum(exp(x * 2) + log(x + 1) / 2)")[1]
    assert float(r.values["y"]) == pytest.approx(np.sum(np.exp(2 * x) + np.log(x + 1) / 2))
    assert_arr(r.grads["x"], 2 * np.exp(2 * x) + 0.5 / (x + 1))


def test_static_arguments_may_be_constant_expressions():
    v = values("z = zeros(2 * 3, 4 - 2)\nL = sum(z)")["z"]
    assert v.shape == (6, 2)


# --------------------------------------------------------------- indexing

X5 = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
M23 = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


@pytest.mark.parametrize(
    "subscript, want",
    [
        ("x[0]", X5[0]),
        ("x[-1]", X5[-1]),
        ("x[-2]", X5[-2]),
        ("x[1:3]", X5[1:3]),
        ("x[::2]", X5[::2]),
        ("x[::-1]", X5[::-1]),
        ("x[-2:]", X5[-2:]),
        ("x[:2]", X5[:2]),
        ("x[1:-1:2]", X5[1:-1:2]),
        ("x[:]", X5[:]),
        ("m[:, 0]", M23[:, 0]),
        ("m[1]", M23[1]),
        ("m[-1, -2]", M23[-1, -2]),
        ("m[0, 1:]", M23[0, 1:]),
        ("m[:, ::2]", M23[:, ::2]),
        ("m[::-1, 0]", M23[::-1, 0]),
        ("m[1][2]", M23[1][2]),
    ],
)
def test_indexing_and_slicing_values_and_gradients(subscript, want):
    text = f"x = [10, 20, 30, 40, 50]\nm = [[1, 2, 3], [4, 5, 6]]\ny = {subscript}\nL = sum(y * 2)"
    model, r = ev(text)
    assert_arr(r.values["y"], want)
    # the gradient goes back only into the selected elements
    base, key = subscript.split("[", 1)
    source = X5 if base == "x" else M23
    probe = np.arange(source.size, dtype=float).reshape(source.shape)  # noqa: F841 (eval reads it)
    mask = np.zeros_like(source)
    picked = eval(f"probe[{key}")  # same numpy indexing as the language
    for v in np.atleast_1d(picked).ravel():
        mask[np.unravel_index(int(v), source.shape)] += 2
    assert_arr(r.grads[base], mask)


# ---------------------------------------------------------- list literals


def test_nested_lists_build_matrices_from_expressions():
    a = 1.5
    model, r = ev("a = 1.5\nm = [[a, 2 * a], [3, a ** 2]]\nL = sum(m)")
    assert_arr(r.values["m"], [[a, 2 * a], [3, a**2]])
    assert model.by_name["m"].kind == "node"
    # the gradient flows into every element that uses `a`
    assert float(r.grads["a"]) == pytest.approx(1 + 2 + 2 * a)
    assert_arr(r.grads["m"], np.ones((2, 2)))


def test_list_of_vectors_is_a_differentiable_stack():
    r = ev("u = [1, 2]\nv = [3, 4]\nm = [u, v * 2, u + v]\nL = sum(m * [[1, 1], [1, 1], [1, 10]])")[
        1
    ]
    assert_arr(r.values["m"], [[1, 2], [6, 8], [4, 6]])
    assert_arr(r.grads["u"], [2, 11])
    assert_arr(r.grads["v"], [3, 12])


def test_three_dimensional_tensor_literal():
    v = values("t = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]\nL = sum(t)")["t"]
    assert_arr(v, np.arange(1, 9).reshape(2, 2, 2))


def test_nested_list_with_trailing_comma_and_parenthesised_elements():
    assert_arr(values("m = [[(1), -2,], [3, +4],]\nL = sum(m)")["m"], [[1, -2], [3, 4]])


# --------------------------------------------------------------------- pi


def test_pi_is_the_builtin_constant():
    model, r = ev("t = pi\nh = pi / 2\nL = sin(h) + t")
    assert float(r.values["t"]) == math.pi
    assert float(r.values["h"]) == math.pi / 2
    assert float(r.values["L"]) == pytest.approx(1 + math.pi)
    assert model.by_name["t"].kind == "input"
    assert model.by_name["h"].kind == "input"


# ------------------------------------------------------------------ kinds


def test_kinds_param_input_node():
    text = (
        "a1 = 4\n"
        "x = [1, 2, 3]\n"
        "z = zeros(3)\n"
        "t = 2 * pi\n"
        "n = -3\n"
        "e = eye(2) @ [1, 2]\n"
        "param w = [0.5, 1, 2]\n"
        "param s = 2\n"
        "y = x\n"
        "u = a1 * 2\n"
        "L = sum(w * x + z) * s + u + t + n + sum(e) + sum(y)"
    )
    model = model_of(text)
    kinds = {b.name: b.kind for b in model.bindings}
    assert kinds == {
        "a1": "input",
        "x": "input",
        "z": "input",
        "t": "input",
        "n": "input",
        "e": "input",
        "w": "param",
        "s": "param",
        "y": "node",
        "u": "node",
        "L": "node",
    }


def test_param_computed_from_a_name_has_no_history():
    # docs/language.md, Statements: a param is a leaf; no gradient flows past it into what made it
    r = ev("a = 2\nparam w = [a, 3]\nL = sum(w)")[1]
    assert_arr(r.grads["w"], [1, 1])
    assert float(r.grads["a"]) == 0.0


def test_alias_has_its_own_node_and_gradient():
    model, r = ev("x = 3\ny = x\nL = y * x")
    assert model.by_name["y"].kind == "node"
    assert float(r.grads["y"]) == 3.0
    assert float(r.grads["x"]) == 6.0


def test_bindings_the_target_does_not_use_get_zero_gradient_of_their_shape():
    r = ev("x = [1, 2, 3]\nm = ones(2, 2)\nk = 5\nL = k * 2")[1]
    assert_arr(r.grads["x"], np.zeros(3))
    assert_arr(r.grads["m"], np.zeros((2, 2)))
    assert float(r.grads["k"]) == 2.0


# --------------------------------------------------------------- targets


def test_default_target_is_the_last_binding():
    r = ev(SEED)[1]
    assert r.target.name == "L"


def test_other_target_by_name():
    model = model_of(SEED)
    r = run(model, "b1")
    assert r.target.name == "b1"
    assert float(r.values["b1"]) == 23.0
    # b1 = w0*a1 + w1*a2
    assert_arr(r.grads["w"], [4, 3, 0, 0, 0])
    assert float(r.grads["a1"]) == 2.0
    assert float(r.grads["a2"]) == 5.0
    assert float(r.grads["b1"]) == 1.0
    for later in ("b2", "c", "L"):
        assert float(r.grads[later]) == 0.0
    # the model can be run again with the default target
    assert float(run(model).grads["c"]) == -1.0


def test_target_can_be_a_param_or_an_input():
    model = model_of("a = 3\nparam p = 2\nL = a * p")
    r = run(model, "p")
    assert float(r.grads["p"]) == 1.0
    assert float(r.grads["a"]) == 0.0
    assert float(run(model, "a").grads["a"]) == 1.0


def test_single_element_non_scalar_target_is_allowed():
    r = ev("x = [3]\ny = x * x")[1]
    assert r.values["y"].shape == (1,)
    assert_arr(r.grads["x"], [6])


# ------------------------------------------------------------------ dtype


def test_float64_is_the_default():
    model, r = ev("x = [1, 2]\nL = sum(x * pi)")
    assert model.dtype == "float64"
    assert r.values["x"].dtype == np.float64
    assert r.grads["x"].dtype == np.float64


def test_float32_values_and_gradients_everywhere():
    text = (
        "a = 0.1\n"
        "x = [1, 2, 3]\n"
        "z = zeros(3)\n"
        "o = ones(3)\n"
        "r = randn(3, seed=1)\n"
        "q = rand(3, seed=1)\n"
        "g = arange(3)\n"
        "s = linspace(0, 1, 3)\n"
        "e = eye(3)\n"
        "t = pi\n"
        "param w = [0.5, -1, 2]\n"
        "h = tanh(w * x + a) + sigmoid(x) + z + o * r + q * g + s\n"
        "L = mean(e @ h) + logsumexp(h) + norm(h) * t"
    )
    model, r32 = ev(text, dtype="float32")
    assert model.dtype == "float32"
    for name in r32.values:
        assert r32.values[name].dtype == np.float32, name
        assert r32.grads[name].dtype == np.float32, name
    r64 = ev(text)[1]
    for name in r64.values:
        np.testing.assert_allclose(r32.values[name], r64.values[name], rtol=2e-6, atol=1e-6)
        np.testing.assert_allclose(r32.grads[name], r64.grads[name], rtol=2e-5, atol=1e-5)
    # 0.1 is rounded to float32
    assert r32.values["a"] == np.float32(0.1)
    assert r32.values["t"] == np.float32(math.pi)


# ----------------------------------------------------------- constructors


def test_zeros_ones_eye():
    vals = values(
        "z = zeros(2, 3)\no = ones(4)\ne = eye(3)\ns = zeros()\nL = sum(z) + sum(o) + sum(e) + s"
    )
    assert_arr(vals["z"], np.zeros((2, 3)))
    assert_arr(vals["o"], np.ones(4))
    assert_arr(vals["e"], np.eye(3))
    assert vals["s"].shape == ()


@pytest.mark.parametrize(
    "call, want",
    [
        ("arange(5)", np.arange(5.0)),
        ("arange(2, 7, 1)", np.arange(2.0, 7.0, 1.0)),
        ("arange(1, 2, 0.25)", np.arange(1.0, 2.0, 0.25)),
        ("arange(5, 0, -2)", np.arange(5.0, 0.0, -2.0)),
        ("arange(0)", np.arange(0.0)),
        ("linspace(0, 1, 5)", np.linspace(0.0, 1.0, 5)),
        ("linspace(-1, 1, 3)", np.linspace(-1.0, 1.0, 3)),
        ("linspace(2, 3, 1)", np.linspace(2.0, 3.0, 1)),
    ],
)
def test_arange_and_linspace(call, want):
    assert_arr(values(f"v = {call}\nL = sum(v)")["v"], want)


def test_randn_and_rand_shapes_and_ranges():
    vals = values("n = randn(3, 4, seed=7)\nu = rand(50, seed=7)\nL = sum(n) + sum(u)")
    assert vals["n"].shape == (3, 4)
    assert vals["u"].shape == (50,)
    assert np.all((vals["u"] >= 0) & (vals["u"] < 1))


@pytest.mark.parametrize("fn", ["randn", "rand"])
def test_random_constructors_are_deterministic_for_a_seed(fn):
    def sample(seed_arg):
        return values(f"v = {fn}(2, 3{seed_arg})\nL = sum(v)")["v"]

    same1, same2 = sample(", seed=5"), sample(", seed=5")
    other = sample(", seed=6")
    np.testing.assert_array_equal(same1, same2)
    assert not np.array_equal(same1, other)
    # the default seed is 0
    np.testing.assert_array_equal(sample(""), sample(", seed=0"))


def test_random_constructors_use_numpy_default_rng():
    # docs/language.md, Functions: numpy's default_rng(seed) (PCG64)
    vals = values("n = randn(2, 3, seed=3)\nu = rand(4, seed=3)\nL = sum(n) + sum(u)")
    np.testing.assert_array_equal(vals["n"], np.random.default_rng(3).standard_normal((2, 3)))
    np.testing.assert_array_equal(vals["u"], np.random.default_rng(3).random(4))


def test_constructors_are_inputs_with_gradients():
    model, r = ev("z = zeros(3)\no = ones(2, 3)\nL = sum(z * [1, 2, 3]) + sum(o * 2)")
    assert model.by_name["z"].kind == "input"
    assert_arr(r.grads["z"], [1, 2, 3])
    assert_arr(r.grads["o"], np.full((2, 3), 2.0))


# ----------------------------------------------------------- broadcasting


def test_broadcasting_values_and_gradients_sum_back_to_each_shape():
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    b = np.array([10.0, 20.0, 30.0])
    c = np.array([[1.0], [2.0]])
    s = 0.5
    text = (
        "a = [[1, 2, 3], [4, 5, 6]]\nb = [10, 20, 30]\nc = [[1], [2]]\ns = 0.5\n"
        "d = a * b + c - s\nL = sum(d * d)"
    )
    r = ev(text)[1]
    d = a * b + c - s
    assert_arr(r.values["d"], d)
    gd = 2 * d
    assert_arr(r.grads["d"], gd)
    assert_arr(r.grads["a"], gd * b)
    assert_arr(r.grads["b"], (gd * a).sum(axis=0))
    assert_arr(r.grads["c"], gd.sum(axis=1, keepdims=True))
    assert float(r.grads["s"]) == pytest.approx(-gd.sum())


def test_broadcasting_column_times_row_makes_a_matrix():
    r = ev("u = [[1], [2], [3]]\nv = [1, 10]\nm = u * v\nL = sum(m)")[1]
    assert_arr(r.values["m"], np.array([[1.0], [2.0], [3.0]]) * np.array([1.0, 10.0]))
    assert_arr(r.grads["u"], [[11], [11], [11]])
    assert_arr(r.grads["v"], [6, 6])


def test_matrix_products_and_their_gradients():
    A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    x = np.array([0.5, -1.0])
    text = (
        "A = [[1, 2], [3, 4], [5, 6]]\nx = [0.5, -1]\ny = A @ x\nL = sum(y * [1, 2, 3]) + dot(x, x)"
    )
    r = ev(text)[1]
    w = np.array([1.0, 2.0, 3.0])
    assert_arr(r.values["y"], A @ x)
    assert_arr(r.grads["A"], np.outer(w, x))
    assert_arr(r.grads["x"], A.T @ w + 2 * x)


# ------------------------------------------------------ functions, briefly

X3 = np.array([0.3, 1.7, 2.5])


ELEMENTWISE = [
    ("exp(x)", np.exp, np.exp),
    ("log(x)", np.log, lambda x: 1 / x),
    ("sqrt(x)", np.sqrt, lambda x: 0.5 / np.sqrt(x)),
    ("abs(x - 1)", lambda x: np.abs(x - 1), lambda x: np.sign(x - 1)),
    ("sin(x)", np.sin, np.cos),
    ("cos(x)", np.cos, lambda x: -np.sin(x)),
    ("tan(x)", np.tan, lambda x: 1 / np.cos(x) ** 2),
    ("tanh(x)", np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    ("sigmoid(x)", lambda x: 1 / (1 + np.exp(-x)), lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
    ("relu(x - 1)", lambda x: np.maximum(x - 1, 0), lambda x: (x > 1).astype(float)),
    ("softplus(x)", lambda x: np.log1p(np.exp(x)), lambda x: 1 / (1 + np.exp(-x))),
    ("maximum(x, 1)", lambda x: np.maximum(x, 1), lambda x: (x > 1).astype(float)),
    ("maximum(1, x)", lambda x: np.maximum(1, x), lambda x: (x > 1).astype(float)),
    ("minimum(x, 1)", lambda x: np.minimum(x, 1), lambda x: (x < 1).astype(float)),
    ("minimum(1, x)", lambda x: np.minimum(1, x), lambda x: (x < 1).astype(float)),
    ("clip(x, 1, 2)", lambda x: np.clip(x, 1, 2), lambda x: ((x > 1) & (x < 2)).astype(float)),
    ("x ** 3", lambda x: x**3, lambda x: 3 * x**2),
    ("2 ** x", lambda x: 2**x, lambda x: np.log(2) * 2**x),
    ("1 / x", lambda x: 1 / x, lambda x: -1 / x**2),
]


@pytest.mark.parametrize("expr, f, df", ELEMENTWISE, ids=[c[0] for c in ELEMENTWISE])
def test_elementwise_functions_values_and_gradients(expr, f, df):
    r = ev(f"x = [0.3, 1.7, 2.5]\ny = {expr}\nL = sum(y)")[1]
    assert_arr(r.values["y"], f(X3), rtol=1e-12, atol=1e-12)
    assert_arr(r.grads["x"], df(X3), rtol=1e-10, atol=1e-12)


REDUCTIONS = [
    ("sum(x)", np.sum, lambda x: np.ones_like(x)),
    ("mean(x)", np.mean, lambda x: np.full_like(x, 1 / x.size)),
    ("max(x)", np.max, lambda x: (x == x.max()).astype(float)),
    ("min(x)", np.min, lambda x: (x == x.min()).astype(float)),
    ("logsumexp(x)", lambda x: np.log(np.sum(np.exp(x))), lambda x: np.exp(x) / np.sum(np.exp(x))),
    ("norm(x)", np.linalg.norm, lambda x: x / np.linalg.norm(x)),
    (
        "sum(softmax(x) * [1, 2, 3])",
        lambda x: np.sum(np.exp(x) / np.exp(x).sum() * [1, 2, 3]),
        lambda x: (lambda s: s * ([1, 2, 3] - np.dot(s, [1, 2, 3])))(np.exp(x) / np.exp(x).sum()),
    ),
    (
        "sum(log_softmax(x) * [1, 0, 0])",
        lambda x: x[0] - np.log(np.sum(np.exp(x))),
        lambda x: np.array([1.0, 0, 0]) - np.exp(x) / np.exp(x).sum(),
    ),
    ("sum(reshape(x, 3, 1) * [1, 2])", lambda x: 3 * x.sum(), lambda x: np.full_like(x, 3.0)),
    ("sum(transpose([x, x * 2]) * [[1, 0], [1, 0], [1, 0]])", np.sum, lambda x: np.ones_like(x)),
]


@pytest.mark.parametrize("expr, f, df", REDUCTIONS, ids=[c[0] for c in REDUCTIONS])
def test_reductions_and_shape_functions(expr, f, df):
    r = ev(f"x = [0.3, 1.7, 2.5]\ny = {expr}")[1]
    assert float(r.values["y"]) == pytest.approx(float(f(X3)), rel=1e-12)
    assert_arr(r.grads["x"], df(X3), rtol=1e-10, atol=1e-12)


def test_reshape_with_minus_one_and_transpose_shapes():
    vals = values("v = arange(6)\nm = reshape(v, -1, 3)\nt = transpose(m)\nL = sum(t)")
    assert_arr(vals["m"], np.arange(6.0).reshape(2, 3))
    assert_arr(vals["t"], np.arange(6.0).reshape(2, 3).T)


# ---------------------------------------------------------------- general


def test_running_twice_gives_identical_results():
    model = model_of(SEED)
    r1, r2 = run(model), run(model)
    for name in r1.values:
        np.testing.assert_array_equal(r1.values[name], r2.values[name])
        np.testing.assert_array_equal(r1.grads[name], r2.grads[name])


def test_long_programs_and_deep_nesting_do_not_recurse():
    # docs/errors.md, Limits: nothing is recursive over the input
    terms = " + ".join(["x"] * 5000)
    assert float(values(f"x = 1\ny = {terms}")["y"]) == 5000.0
    deep = "(" * 1500 + "x" + ")" * 1500
    assert float(values(f"x = 2\ny = {deep}")["y"]) == 2.0
    chain = "x0 = 1\n" + "\n".join(f"x{i} = x{i - 1} + 1" for i in range(1, 3000))
    r = ev(chain)[1]
    assert float(r.values["x2999"]) == 3000.0
    assert float(r.grads["x0"]) == 1.0
