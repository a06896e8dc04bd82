"""Property-based and scale tests for autograd-cli (docs/language.md and docs/commands.md).

1. Random well-formed programs over smooth ops: the reported gradient of
   every param (and input) matches central finite differences.
2. Any text at all either evaluates (exit 0) or ends in the project's own
   located error (exit 1): never an internal error (70), never a usage error
   (2), never a traceback.
3. Scale: long files, long expressions, deep nesting; no recursion limits.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from autograd_cli.cli import app
from autograd_cli.compiling import load
from autograd_cli.errors import ExprError, Source
from autograd_cli.running import run

from programs import Prog, draw_number, smooth_programs

runner = CliRunner()

FUZZ_LIMIT = ["--max-elements", "100000"]


# =====================================================================
# helpers
# =====================================================================


def evaluate(text: str, **kw):
    return run(load(Source("t.expr", text), **kw))


def _strict_json(text: str):
    def bad(name):
        raise ValueError(f"non-RFC-8259 JSON constant {name}")

    return json.loads(text, parse_constant=bad)


def assert_cli_contract(res, label: str, fmt: str = "table"):
    """The §3 promise for one invocation: exit 0 or 1, no traceback, errors
    in `file:line:col: error:` form on stderr and nothing on stdout."""
    out, err = res.stdout, res.stderr
    # CliRunner turns an escaped exception into exit 1 + res.exception: that
    # is a crash, not an input error.
    assert res.exception is None or isinstance(res.exception, SystemExit), (
        f"exception escaped the CLI: {res.exception!r}"
    )
    assert "Traceback" not in out and "Traceback" not in err, err
    assert res.exit_code in (0, 1), (
        f"exit {res.exit_code} (expected 0 or 1)\nstderr: {err}\nstdout: {out[:500]}"
    )
    if res.exit_code == 1:
        assert out == "", f"stdout not empty on error: {out[:300]!r}"
        first = err.split("\n")[0]
        lab = re.escape(label)
        assert re.match(rf"^{lab}:\d+:\d+: error: |^{lab}: error: ", first), (
            f"first stderr line is not a diagnostic for {label!r}: {first!r}"
        )
    else:
        assert out.strip(), "exit 0 but nothing on stdout"
        if fmt == "json":
            doc = _strict_json(out)
            assert doc["schema"] == 1
            assert set(doc) >= {"file", "target", "dtype", "value", "nodes", "warnings"}
            if doc["target"] in doc["nodes"]:
                assert doc["value"] == doc["nodes"][doc["target"]]["value"]


def invoke_file(tmp_dir, text_or_bytes, fmt="json", extra=(), name="fuzz.expr"):
    path = tmp_dir / name
    if isinstance(text_or_bytes, bytes):
        path.write_bytes(text_or_bytes)
    else:
        path.write_text(text_or_bytes, encoding="utf-8", newline="")
    res = runner.invoke(app, ["eval", str(path), "--format", fmt, *FUZZ_LIMIT, *extra])
    return res, str(path)


def invoke_stdin(text_or_bytes, fmt="json", extra=()):
    res = runner.invoke(
        app, ["eval", "-", "--format", fmt, *FUZZ_LIMIT, *extra], input=text_or_bytes
    )
    return res, "<stdin>"


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


# =====================================================================
# 1. gradients of random smooth programs vs central finite differences
# =====================================================================


FD_EPS = 1e-6


def _fd_check(prog: Prog) -> bool:
    """Compare every leaf's reported gradient with central differences.
    Returns False (no verdict) when values are too large for FD to be sharp."""
    rep = evaluate(prog.text())
    assert rep.target.name == "L"
    L = float(rep.values["L"])
    scale = 1.0 + max(float(np.max(np.abs(v))) if np.size(v) else 0.0 for v in rep.values.values())
    if not (math.isfinite(L) and scale < 1e5):
        return False
    for name, _is_param, val in prog.leaves:
        ad = np.asarray(rep.grads[name], dtype=float)
        assert ad.shape == val.shape, (name, ad.shape, val.shape)
        fd = np.zeros(val.shape)
        for k in np.ndindex(val.shape):
            up, dn = val.copy(), val.copy()
            up[k] += FD_EPS
            dn[k] -= FD_EPS
            fu = float(evaluate(prog.text({name: up})).values["L"])
            fl = float(evaluate(prog.text({name: dn})).values["L"])
            fd[k] = (fu - fl) / (up[k] - dn[k])
        tol = 1e-5 * np.abs(fd) + 1e-6 * scale
        assert np.all(np.abs(ad - fd) <= tol), (
            f"gradient of {name}: reverse mode\n{ad}\nvs finite differences\n{fd}\n"
            f"in\n{prog.text()}"
        )
    return True


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(smooth_programs())
def test_gradients_match_finite_differences(prog):
    assume(_fd_check(prog))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(smooth_programs())
def test_float32_gradients_follow_float64(prog):
    """--dtype float32 computes the same gradients to float32 accuracy, in
    float32."""
    r64 = evaluate(prog.text())
    scale = 1.0 + max(float(np.max(np.abs(v))) for v in r64.values.values())
    assume(scale < 1e3)
    r32 = evaluate(prog.text(), dtype="float32")
    for name, _p, _v in prog.leaves:
        g32, g64 = r32.grads[name], r64.grads[name]
        assert g32.dtype == np.float32 and r32.values[name].dtype == np.float32
        assert np.all(np.abs(g32.astype(float) - g64) <= 1e-3 * (np.abs(g64) + scale)), (
            name,
            g32,
            g64,
            prog.text(),
        )


def test_fd_helper_sanity():
    """The generator's text and the FD helper agree with the seed example."""
    prog = Prog(
        [("w", True, [2.0, 5.0, 9.0, 7.0, 3.0])],
        [
            "a1 = 4",
            "a2 = 3",
            "b1 = w[0] * a1 + w[1] * a2",
            "b2 = w[2] * a1",
            "c = w[3] * b1 + w[4] * b2",
            "L = 15 - c",
        ],
    )
    rep = evaluate(prog.text())
    np.testing.assert_array_equal(rep.grads["w"], [-28, -21, -12, -23, -36])
    assert _fd_check(prog)


# Matrices, broadcasting, axis reductions, matmul, reshape/transpose, 2-D
# indexing and slicing: a typed generator over five shapes.
S, U, V, A, B = (), (2,), (3,), (2, 3), (3, 2)
MAT_LEAVES = {S: ["s"], U: ["u"], V: ["v"], A: ["A"], B: ["transpose(A)"]}


def _mexpr(draw, shape, depth):
    g = lambda sh: _mexpr(draw, sh, depth - 1)  # noqa: E731
    if depth <= 0 or draw(st.integers(0, 4)) == 0:
        return draw(st.sampled_from(MAT_LEAVES[shape]))
    rules = [
        lambda: (
            f"{draw(st.sampled_from(['sin', 'cos', 'tanh', 'sigmoid', 'softplus']))}({g(shape)})"
        ),
        lambda: f"({g(shape)}) {draw(st.sampled_from(['+', '-', '*']))} ({g(shape)})",
        lambda: f"({g(shape)}) / (2 + ({g(shape)}) ** 2)",
        lambda: f"exp(tanh({g(shape)}))",
    ]
    if shape:  # broadcasting a scalar, or a row / column, against the shape
        small = [S] + [shape[1:]] * (len(shape) == 2)
        rules.append(
            lambda: (
                f"({g(shape)}) {draw(st.sampled_from(['+', '*', '-']))} "
                f"({g(draw(st.sampled_from(small)))})"
            )
        )
        rules.append(lambda: f"({g(draw(st.sampled_from(small)))}) / (1.5 + cos({g(shape)}))")
    if shape == S:
        rules += [
            lambda: (
                f"{draw(st.sampled_from(['sum', 'mean', 'logsumexp', 'norm']))}"
                f"({g(draw(st.sampled_from([U, V, A, B])))})"
            ),
            lambda: f"({g(A)})[{draw(st.integers(-2, 1))}, {draw(st.integers(-3, 2))}]",
            lambda: f"dot({g(V)}, {g(V)})",
            lambda: f"({g(U)}) @ ({g(A)}) @ ({g(V)})",
        ]
    elif shape == V:
        rules += [
            lambda: f"({g(A)})[{draw(st.integers(-2, 1))}]",
            lambda: f"({g(A)})[1, ::-1]",
            lambda: f"{draw(st.sampled_from(['sum', 'mean', 'logsumexp']))}({g(A)}, axis=0)",
            lambda: f"logsumexp({g(B)}, axis=-1)",
            lambda: f"({g(B)}) @ ({g(U)})",
            lambda: f"({g(U)}) @ ({g(A)})",
            lambda: f"softmax({g(V)})",
            lambda: f"log_softmax({g(V)})",
            lambda: f"({g(B)})[:, {draw(st.integers(-2, 1))}]",
        ]
    elif shape == U:
        rules += [
            lambda: f"({g(A)})[:, {draw(st.integers(-3, 2))}]",
            lambda: f"{draw(st.sampled_from(['sum', 'mean', 'logsumexp']))}({g(A)}, axis=1)",
            lambda: f"({g(A)}) @ ({g(V)})",
            lambda: f"[{g(S)}, {g(S)}]",
            lambda: f"({g(A)})[:, 1:][:, 0]",
        ]
    elif shape == A:
        rules += [
            lambda: f"transpose({g(B)})",
            lambda: f"reshape({g(B)}, 2, 3)",
            lambda: f"reshape({g(V)} * ({g(U)})[0] + 0 * sum({g(U)}), 1, 3) + ({g(A)})",
            lambda: (
                f"{draw(st.sampled_from(['softmax', 'log_softmax']))}"
                f"({g(A)}, axis={draw(st.sampled_from([0, 1, -1]))})"
            ),
            lambda: f"[{g(V)}, {g(V)}]",
            lambda: f"({g(A)}) @ (({g(B)}) @ ({g(A)}))",
            lambda: f"({g(A)})[::-1, :]",
        ]
    elif shape == B:
        rules += [
            lambda: f"transpose({g(A)})",
            lambda: f"reshape({g(A)}, 3, 2)",
            lambda: f"reshape({g(A)}, -1, 2)",
            lambda: f"({g(B)}) @ (({g(A)}) @ ({g(B)})) / 4",
        ]
    return draw(st.sampled_from(rules))()


@st.composite
def matrix_programs(draw):
    num = lambda: draw_number(draw, -1.5, 1.5)  # noqa: E731
    leaves = [
        ("s", True, num()),
        ("u", True, [num() for _ in range(2)]),
        ("v", True, [num() for _ in range(3)]),
        ("A", True, [[num() for _ in range(3)] for _ in range(2)]),
    ]
    body, names = [], []
    for j in range(draw(st.integers(1, 3))):
        shape = draw(st.sampled_from([S, U, V, A, B]))
        body.append(f"m{j} = {_mexpr(draw, shape, draw(st.integers(1, 3)))}")
        names.append(f"m{j}")
    body.append("L = " + " + ".join(f"sum({n})" for n in names))
    return Prog(leaves, body)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(matrix_programs())
def test_matrix_gradients_match_finite_differences(prog):
    assume(_fd_check(prog))


# =====================================================================
# 2. any text either evaluates or ends in the project's own error
# =====================================================================

NAMES = ["a", "b", "c", "x", "w", "L", "pi", "param", "inf", "nan", "_", "x1"]
FUNCS = [
    "exp",
    "log",
    "sqrt",
    "abs",
    "sin",
    "cos",
    "tan",
    "tanh",
    "sigmoid",
    "relu",
    "softplus",
    "maximum",
    "minimum",
    "clip",
    "sum",
    "mean",
    "max",
    "min",
    "logsumexp",
    "norm",
    "transpose",
    "reshape",
    "dot",
    "softmax",
    "log_softmax",
    "zeros",
    "ones",
    "eye",
    "arange",
    "linspace",
    "randn",
    "rand",
    "nosuch",
]
CTORS = ["zeros", "ones", "eye", "arange", "linspace", "randn", "rand", "reshape"]
KEYWORDS = ["axis", "seed", "x", "n", "start", "stop", "step", "shape", "bogus"]

ints = st.one_of(
    st.integers(-3, 6),
    st.sampled_from(
        [
            0,
            1,
            -1,
            31,
            32,
            33,
            99999,
            100000,
            100001,
            2**31,
            2**32,
            2**63,
            2**64,
            10**20,
            -(10**20),
            10**400,
        ]
    ),
    st.integers(-(10**30), 10**30),
)
numbers = st.one_of(
    ints.map(str),
    st.sampled_from(
        [
            "4.",
            ".5",
            "1e-3",
            "2.5E+4",
            "1e308",
            "1e309",
            "1e400",
            "1e-400",
            "0.0",
            "00",
            "1e",
            "1.2.3",
            "5e-324",
            "1_000",
        ]
    ),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda v: repr(abs(v))),
)


@st.composite
def calls(draw, arg=None, funcs=FUNCS):
    f = draw(st.sampled_from(funcs))
    arg = arg if arg is not None else st.one_of(numbers, st.sampled_from(NAMES))
    args = draw(st.lists(arg, max_size=4))
    if draw(st.booleans()):
        args.append(f"{draw(st.sampled_from(KEYWORDS))}={draw(numbers)}")
    return f"{f}({', '.join(args)})"


@st.composite
def subscripts(draw):
    items = []
    for _ in range(draw(st.integers(1, 3))):
        parts = draw(st.lists(st.one_of(st.just(""), ints.map(str)), min_size=1, max_size=3))
        if len(parts) == 1 and not parts[0]:
            parts = ["0"]
        items.append(":".join(parts))
    return "[" + ", ".join(items) + "]"


TOKENS = st.one_of(
    st.sampled_from(NAMES),
    numbers,
    st.sampled_from(
        [
            "+",
            "-",
            "*",
            "/",
            "@",
            "**",
            "(",
            ")",
            "[",
            "]",
            "=",
            ";",
            "\n",
            ",",
            ":",
            "::",
            "#",
            "# c\n",
            "\r\n",
            "\t",
            "\\",
            "$",
            "'",
            '"',
            "param",
            "=",
            "**-",
            "--",
            "[]",
            "()",
            "[[",
            "]]",
            "\x00",
            "é",
            "\ufeff",
            "\x0c",
            "\x0b",
            "\u2028",
        ]
    ),
    calls(),
    subscripts(),
)

token_soup = st.lists(TOKENS, max_size=40).flatmap(
    lambda toks: st.sampled_from([" ", "", "\n"]).map(lambda sep: sep.join(toks))
)


@st.composite
def statement_soup(draw):
    """Lines that look like statements, with token soup on the right."""
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        head = ("param " if draw(st.booleans()) else "") + draw(st.sampled_from(NAMES))
        rhs = " ".join(draw(st.lists(TOKENS, min_size=0, max_size=8)))
        lines.append(f"{head} = {rhs}")
    return draw(st.sampled_from(["\n", ";", "\r\n"])).join(lines)


@st.composite
def small_ints(draw):
    """Mostly small (a plausible dimension, index or axis); 1 in 20 is huge,
    negative or otherwise odd."""
    roll = draw(st.integers(0, 19))
    if roll == 0:
        return draw(ints)
    if roll <= 2:
        return draw(st.integers(-3, -1))
    return draw(st.integers(0, 3))


small_dims = st.lists(small_ints(), max_size=3)


@st.composite
def small_subscripts(draw):
    items = []
    for _ in range(draw(st.integers(1, 2))):
        if draw(st.booleans()):
            items.append(str(draw(small_ints())))
        else:
            parts = draw(
                st.lists(st.one_of(st.just(""), small_ints().map(str)), min_size=2, max_size=3)
            )
            items.append(":".join(parts))
    return "[" + ", ".join(items) + "]"


UNARY = [
    "exp",
    "log",
    "sqrt",
    "abs",
    "sin",
    "cos",
    "tan",
    "tanh",
    "sigmoid",
    "relu",
    "softplus",
    "norm",
    "transpose",
]
REDUCE = ["sum", "mean", "max", "min", "logsumexp", "softmax", "log_softmax"]


def _semantic_expr(names):
    """Expressions with the right arities and small shapes, over bound names."""
    refs = st.sampled_from(names) if names else st.sampled_from(["pi"])
    k = small_ints().map(str)
    ctor = st.one_of(
        st.tuples(
            st.sampled_from(["zeros", "ones", "randn", "rand"]),
            small_dims,
            st.one_of(st.just(""), k.map(lambda v: f"seed={v}")),
        ).map(lambda t: f"{t[0]}({', '.join([str(d) for d in t[1]] + ([t[2]] if t[2] else []))})"),
        k.map(lambda n: f"eye({n})"),
        st.lists(k, min_size=1, max_size=3).map(lambda a: f"arange({', '.join(a)})"),
        st.tuples(k, k, k).map(lambda t: f"linspace({t[0]}, {t[1]}, {t[2]})"),
    )
    atoms = st.one_of(
        refs,
        refs,
        refs,
        st.sampled_from(["0", "1", "2", "0.5", "-1", "1e400", "pi"]),
        ctor,
        st.lists(st.sampled_from(["0", "1", "2.5"]) | refs, max_size=3).map(
            lambda xs: "[" + ", ".join(xs) + "]"
        ),
    )

    def axis():
        return st.one_of(st.just(""), small_ints().map(lambda a: f", axis={a}"))

    def extend(c):
        return st.one_of(
            st.tuples(c, st.sampled_from(["+", "-", "*", "/", "@", "**"]), c).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            st.tuples(st.sampled_from(["-", "+"]), c).map("".join),
            st.tuples(st.sampled_from(UNARY), c).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(st.sampled_from(REDUCE), c, axis()).map(lambda t: f"{t[0]}({t[1]}{t[2]})"),
            st.tuples(st.sampled_from(["maximum", "minimum", "dot"]), c, c).map(
                lambda t: f"{t[0]}({t[1]}, {t[2]})"
            ),
            st.tuples(c, c, c).map(lambda t: f"clip({t[0]}, {t[1]}, {t[2]})"),
            st.tuples(c, st.lists(small_ints().map(str), min_size=1, max_size=3)).map(
                lambda t: f"reshape({t[0]}, {', '.join(t[1])})"
            ),
            st.tuples(c, small_subscripts()).map(lambda t: f"({t[0]}){t[1]}"),
            st.lists(c, min_size=1, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        )

    return st.recursive(atoms, extend, max_leaves=8)


@st.composite
def wellformed_programs(draw):
    """Syntactically valid programs with arbitrary semantics, mostly over
    names bound earlier and with small shapes, so that many of them reach
    the evaluator and the backward pass (and the rest fail late, in the
    compiler's shape and argument checks)."""
    names, lines = [], []
    for i in range(draw(st.integers(1, 4))):
        rhs = draw(_semantic_expr(names))
        if names and draw(st.integers(0, 19)) == 0:
            name = draw(st.sampled_from(names + ["pi", "undefined"]))  # rebinding
        else:
            name = f"v{i}"
        lines.append(("param " if draw(st.booleans()) else "") + f"{name} = {rhs}")
        names.append(name)
    if draw(st.integers(0, 3)):
        lines.append(
            f"T = {draw(st.sampled_from(['sum', 'mean', 'max', 'norm', 'logsumexp']))}"
            f"({draw(st.sampled_from(names))})"
        )
    return "\n".join(lines)


any_text = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    token_soup,
    statement_soup(),
    wellformed_programs(),
)

cli_extras = st.one_of(
    st.just(()),
    st.just(("--dtype", "float32")),
    st.just(("--strict",)),
    st.sampled_from(["a", "v0", "v1", "T", "L", "nosuch"]).map(lambda n: ("--of", n)),
    st.sampled_from(["a", "v0", "T", "nosuch"]).map(lambda n: ("--wrt", n)),
)

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(FUZZ, max_examples=120)
@given(text=any_text, fmt=st.sampled_from(["json", "table"]), extra=cli_extras)
def test_any_text_via_file(fuzz_dir, text, fmt, extra):
    res, label = invoke_file(fuzz_dir, text, fmt, extra)
    assert_cli_contract(res, label, fmt)


@settings(FUZZ, max_examples=80)
@given(text=any_text, fmt=st.sampled_from(["json", "table"]), extra=cli_extras)
def test_any_text_via_stdin(text, fmt, extra):
    res, label = invoke_stdin(text, fmt, extra)
    assert_cli_contract(res, label, fmt)


@settings(FUZZ, max_examples=80)
@given(text=wellformed_programs(), fmt=st.sampled_from(["json", "table"]), extra=cli_extras)
def test_wellformed_programs_never_crash(fuzz_dir, text, fmt, extra):
    res, label = invoke_file(fuzz_dir, text, fmt, extra)
    assert_cli_contract(res, label, fmt)
    if res.exit_code == 0:  # deterministic: the same input gives the same output
        again, _ = invoke_file(fuzz_dir, text, fmt, extra)
        assert (again.exit_code, again.stdout) == (res.exit_code, res.stdout)


@settings(FUZZ, max_examples=30)
@given(data=st.binary(max_size=60))
def test_any_bytes(fuzz_dir, data):
    """Invalid UTF-8, NULs, BOMs: still exit 0 or 1 with a located error."""
    res, label = invoke_file(fuzz_dir, data, "json")
    assert_cli_contract(res, label, "json")
    res, label = invoke_stdin(data, "json")
    assert_cli_contract(res, label, "json")


# Minimal reproductions of the internal errors (exit 70) found by the fuzz
# tests above. Each should be an input error (exit 1) or evaluate (exit 0).
KNOWN_CRASHERS = [
    # empty reductions in the logsumexp/softmax kernels (np.max of an empty axis)
    "y = logsumexp([])",
    "y = sum(softmax([]))",
    "y = sum(softmax(zeros(0, 3), axis=0))",
    "y = sum(log_softmax(zeros(0, 3), axis=0))",
    "y = sum(logsumexp(zeros(3, 0), axis=1))",
    # arange's size computation overflows to infinity (math.ceil(inf))
    "y = sum(arange(-1e308, 1e308))",
    "y = sum(arange(0, 5, 1e-320))",
    # an empty array whose other dimension numpy cannot represent
    "y = sum(zeros(0, 1e20))",
    "y = sum(reshape(zeros(0), 1e20, 0))",
    # numpy refuses arange(0, -1e19) although the size rule says 0 elements
    "y = sum(arange(-1e19))",
    "y = sum(arange(1e20, 0))",
]


@pytest.mark.parametrize("text", KNOWN_CRASHERS)
def test_fuzz_found_inputs_are_not_internal_errors(fuzz_dir, text):
    res, label = invoke_file(fuzz_dir, text, "json")
    assert_cli_contract(res, label, "json")


@pytest.mark.parametrize(
    "text",
    [
        "a = 1\n\x0c\nb = $\n",  # a form-feed page break between statements
        "a = 1  # note \u2028 more\nb = $\n",  # U+2028 inside a comment
        "a = 1 \x0c\nb = $\n",
        "a = 1  # \x85\nb = $\n",
    ],
)
def test_diagnostic_excerpt_shows_the_offending_line(fuzz_dir, text):
    """The excerpt under a diagnostic shows the line the error is on, even
    when the file holds characters that str.splitlines() treats as line
    breaks (form feed, NEL, U+2028) but the language does not: the error is
    at line L (lines counted by '\\n', as the header says), and the excerpt
    must be that line, not a fragment of another one."""
    res, label = invoke_file(fuzz_dir, text, "json")
    assert_cli_contract(res, label)
    assert res.exit_code == 1
    err = res.stderr.split("\n")  # not splitlines(): see the docstring
    lineno = text.count("\n", 0, text.index("$")) + 1
    m = re.match(rf"^{re.escape(label)}:(\d+):(\d+): error: ", err[0])
    assert m and int(m.group(1)) == lineno, err
    assert err[1] == f"    {lineno} | b = $", err


# =====================================================================
# 3. scale: no recursion anywhere
# =====================================================================

CHAIN_N = 20_000


def _chain_text(n=CHAIN_N, p=0.9, x0=0.3):
    lines = [f"param p = {p!r}", f"x0 = {x0!r}"]
    lines += [f"x{i + 1} = tanh(x{i} * p + 0.1)" for i in range(n)]
    return "\n".join(lines) + "\n"


def _chain_analytic(n=CHAIN_N, p=0.9, x0=0.3):
    xs = [x0]
    for _ in range(n):
        xs.append(math.tanh(xs[-1] * p + 0.1))
    gx, gp = 1.0, 0.0  # d x_n / d x_i, accumulated d x_n / d p
    for i in range(n, 0, -1):
        d = gx * (1.0 - xs[i] ** 2)
        gp += d * xs[i - 1]
        gx = d * p
    return xs[-1], gp, gx


@pytest.fixture(scope="module")
def chain_report():
    text = _chain_text()
    return text, evaluate(text)


def test_20000_statement_chain(chain_report):
    _text, rep = chain_report
    value, gp, gx0 = _chain_analytic()
    assert rep.target.name == f"x{CHAIN_N}"
    assert len(rep.values) == CHAIN_N + 2
    assert float(rep.values[f"x{CHAIN_N}"]) == pytest.approx(value, rel=1e-12)
    assert float(rep.grads["p"]) == pytest.approx(gp, rel=1e-9)
    assert float(rep.grads["x0"]) == pytest.approx(gx0, rel=1e-9, abs=1e-300)
    assert float(rep.grads[f"x{CHAIN_N}"]) == 1.0


def test_20000_statement_chain_matches_finite_differences():
    """A shorter copy of the chain checked by finite differences (the long
    one is checked against the analytic loop above)."""
    n, eps = 2_000, 1e-6
    rep = evaluate(_chain_text(n))
    up = float(evaluate(_chain_text(n, p=0.9 + eps)).values[f"x{n}"])
    dn = float(evaluate(_chain_text(n, p=0.9 - eps)).values[f"x{n}"])
    assert float(rep.grads["p"]) == pytest.approx((up - dn) / (2 * eps), rel=1e-6)


def test_20000_statement_chain_through_cli(tmp_path):
    path = tmp_path / "chain.expr"
    path.write_text(_chain_text())
    res = runner.invoke(app, ["eval", str(path), "--format", "json", "--wrt", "p", "--wrt", "x0"])
    assert_cli_contract(res, str(path), "json")
    assert res.exit_code == 0
    doc = _strict_json(res.stdout)
    value, gp, _ = _chain_analytic()
    assert doc["target"] == f"x{CHAIN_N}"
    assert doc["value"] == pytest.approx(value, rel=1e-12)
    assert doc["nodes"]["p"]["grad"] == pytest.approx(gp, rel=1e-9)
    assert list(doc["nodes"]) == ["p", "x0"]


def test_sum_of_20000_terms():
    n = 20_000
    rep = evaluate("param x = 1.5\ny = " + " + ".join(["x"] * n) + "\n")
    assert float(rep.values["y"]) == 1.5 * n
    assert float(rep.grads["x"]) == n


def test_sum_of_20000_terms_through_cli(tmp_path):
    n = 20_000
    path = tmp_path / "sum.expr"
    path.write_text("param x = 1.5\ny = " + " + ".join(["x"] * n) + "\n")
    for fmt in ("json", "table"):
        res = runner.invoke(app, ["eval", str(path), "--format", fmt])
        assert_cli_contract(res, str(path), fmt)
        assert res.exit_code == 0
    doc = _strict_json(runner.invoke(app, ["eval", str(path), "--format", "json"]).stdout)
    assert doc["nodes"]["x"]["grad"] == n


def test_product_of_mixed_terms():
    """A long flat expression mixing + - * / (precedence and left
    associativity over thousands of operators)."""
    n = 5_000
    rhs = " + ".join(["x * 2 - x / 4"] * n)  # each term: 1.75 x
    rep = evaluate(f"param x = 3\ny = {rhs}\n")
    assert float(rep.values["y"]) == pytest.approx(1.75 * 3 * n, rel=1e-12)
    assert float(rep.grads["x"]) == pytest.approx(1.75 * n, rel=1e-12)


@pytest.mark.parametrize("depth", [2_000, 10_000])
def test_deeply_nested_parentheses(depth):
    rep = evaluate("param x = 2.5\ny = " + "(" * depth + "x" + ")" * depth + " * x\n")
    assert float(rep.values["y"]) == 6.25
    assert float(rep.grads["x"]) == 5.0


def test_deeply_nested_parentheses_across_lines():
    """Newlines inside brackets continue the statement, at any depth."""
    depth = 2_000
    text = "param x = 2\ny = " + "(\n" * depth + "x" + "\n)" * depth + "\nz = y * 3\n"
    rep = evaluate(text)
    assert float(rep.grads["x"]) == 3.0


@pytest.mark.parametrize("count, sign", [(5_000, 1.0), (5_001, -1.0)])
def test_chained_unary_minus(count, sign):
    for sep in ("", " "):
        rep = evaluate("param x = 2\ny = " + sep.join(["-"] * count) + " x\n")
        assert float(rep.values["y"]) == sign * 2
        assert float(rep.grads["x"]) == sign


def test_chained_mixed_unary_signs():
    rep = evaluate("param x = 2\ny = " + "+-" * 2_500 + "x * x\n")  # 2500 minus signs
    assert float(rep.values["y"]) == 4.0
    assert float(rep.grads["x"]) == 4.0


@pytest.mark.parametrize("levels", [300, 1_000])
def test_right_associative_power_chain(levels):
    rep = evaluate("param x = 3\ny = x" + " ** 1" * levels + "\n")
    assert float(rep.values["y"]) == 3.0
    assert float(rep.grads["x"]) == 1.0


def test_right_associative_power_chain_with_names():
    """x ** (o ** (o ** ...)) with o a param equal to 1: nothing is folded,
    so both passes walk the whole chain.  With r_k = o ** r_(k+1) = 1,
    dr_k/do = r_(k+1) * o**(r_(k+1) - 1) + r_k * log(o) * dr_(k+1)/do = 1,
    so dy/do = y * log(x) * dr_1/do = 3 log 3, and dy/dx = r_1 * x**0 = 1."""
    levels = 300
    rep = evaluate("param x = 3\nparam o = 1\ny = x" + " ** o" * levels + "\n")
    assert float(rep.values["y"]) == 3.0
    assert float(rep.grads["x"]) == pytest.approx(1.0)
    assert float(rep.grads["o"]) == pytest.approx(3 * math.log(3))


def test_deeply_nested_function_calls():
    depth = 2_000
    rep = evaluate("param x = 0.5\ny = " + "sin(" * depth + "x" + ")" * depth + "\n")
    v, g = 0.5, 1.0
    for _ in range(depth):
        g *= math.cos(v)
        v = math.sin(v)
    assert float(rep.values["y"]) == pytest.approx(v, rel=1e-12)
    assert float(rep.grads["x"]) == pytest.approx(g, rel=1e-9)


def test_deeply_nested_index_chain():
    depth = 2_000
    rep = evaluate("param w = [1, 2, 3]\ny = w" + "[::-1]" * depth + "[0] * 2\n")
    # an even number of reversals: element 0 is w[0]
    np.testing.assert_array_equal(rep.grads["w"], [2.0, 0.0, 0.0])


def _nested_list(depth, inner="x"):
    return "[" * depth + inner + "]" * depth


def test_32_dimensional_list_is_accepted():
    rep = evaluate(f"param x = 2\ny = sum({_nested_list(32)}) * x\n")
    assert float(rep.values["y"]) == 4.0
    assert float(rep.grads["x"]) == 4.0


@pytest.mark.parametrize("depth", [33, 2_000])
def test_deeply_nested_list_is_refused_cleanly(depth):
    text = f"x = 2\ny = sum({_nested_list(depth)})\n"
    with pytest.raises(ExprError) as info:
        evaluate(text)
    err = info.value
    assert "32" in err.message and "dimension" in err.message
    assert err.span is not None and err.span.line == 2


def test_deeply_nested_list_is_refused_through_cli(tmp_path):
    path = tmp_path / "deep.expr"
    path.write_text(f"x = 2\ny = sum({_nested_list(2_000)})\n")
    res = runner.invoke(app, ["eval", str(path)])
    assert_cli_contract(res, str(path))
    assert res.exit_code == 1
    assert re.match(rf"^{re.escape(str(path))}:2:\d+: error: .*32", res.stderr)
    assert res.stderr.count("\n") <= 10  # one diagnostic, not a dump


def test_deep_cases_through_cli_stdin():
    cases = [
        ("param x = 2\ny = " + "(" * 2_000 + "x" + ")" * 2_000 + "\n", 1.0),
        ("param x = 2\ny = " + "-" * 5_000 + "x\n", 1.0),
        ("param x = 2\ny = x" + " ** 1" * 300 + "\n", 1.0),
    ]
    for text, grad in cases:
        res = runner.invoke(app, ["eval", "-", "--format", "json"], input=text)
        assert_cli_contract(res, "<stdin>", "json")
        assert res.exit_code == 0
        assert _strict_json(res.stdout)["nodes"]["x"]["grad"] == grad


def test_deep_syntax_error_is_located():
    """An unclosed bracket 2,000 levels down is an ordinary syntax error."""
    text = "x = 1\ny = " + "(" * 2_000 + "x\n"
    res = runner.invoke(app, ["eval", "-"], input=text)
    assert_cli_contract(res, "<stdin>")
    assert res.exit_code == 1
