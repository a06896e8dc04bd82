"""Every user error: an ExprError with a clear message and the right location,
and through the CLI the ``path:line:col: error: message`` diagnostic, the
source line and a caret, exit 1, nothing on stdout (docs/errors.md).
"""

import json
import math
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from autograd_cli.cli import app
from autograd_cli.compiling import load
from autograd_cli.errors import MESSAGE_WIDTH, ExprError, Source, display_path
from autograd_cli.running import run

from common import ROOT, SEED

# Lark's names for terminals and rules must never reach a user.
LARK_NAMES = re.compile(
    r"\b(NAME|NUMBER|PARAM|MINUS|PLUS|STAR|SLASH|AT|LPAR|RPAR|LSQB|RSQB|"
    r"COLON|COMMA|EQUAL|SEMICOLON|COMMENT|DOUBLESTAR|_NL|__ANON\w*|"
    r"__IGNORE\w*|\$END|Token|UnexpectedToken|UnexpectedCharacters|"
    r"UnexpectedEOF)\b"
)


def error_of(text, target=None, **kw) -> ExprError:
    with pytest.raises(ExprError) as info:
        run(load(Source("t.expr", text), **kw), target)
    return info.value


def check(text, line, column, *fragments, **kw) -> ExprError:
    err = error_of(text, **kw)
    assert err.span is not None, err.message
    assert (err.span.line, err.span.column) == (line, column), (
        f"{err.message!r} at {err.span.line}:{err.span.column}, expected {line}:{column}"
    )
    for fragment in fragments:
        assert fragment in err.message, f"{fragment!r} not in {err.message!r}"
    assert not LARK_NAMES.search(err.message), err.message
    return err


# ------------------------------------------------------------------ syntax

SYNTAX = [
    # text, line, column, fragments
    ("a = 1 +", 1, 8, ["unexpected end of file", "expected an expression"]),
    ("a = 1\nb = 2 3", 2, 7, ["unexpected number 3"]),
    ("a = 1 +* 2", 1, 8, ["unexpected '*'", "expected an expression"]),
    ("a = 1 ** ** 2", 1, 10, ["unexpected '**'"]),
    ("= 3", 1, 1, ["unexpected '='", "a name"]),
    ("3 = a", 1, 1, ["unexpected number 3"]),
    ("a = 1\nb = a ]", 2, 7, ["unexpected ']'"]),
    ("a = )", 1, 5, ["unexpected ')'", "expected an expression"]),
    ("param w", 1, 8, ["expected '='"]),
    ("param = 3", 1, 7, ["unexpected '='", "a name"]),
    ("a = 1 +\n2", 1, 8, ["end of line", "expected an expression"]),
    ("x = sum([1,2)", 1, 13, ["unexpected ')'", "']'"]),
    ("a = 1\nb = a[1:2:3:4]", 2, 12, ["unexpected ':'"]),
    ("a = 1\nb = exp(,)", 2, 9, ["unexpected ','"]),
    ("a = 1\nb = sum(x=)", 2, 11, ["unexpected ')'", "expected an expression"]),
    ("a = 1 = 2", 1, 7, ["unexpected '='"]),
    ("y = 1e", 1, 6, ["unexpected name 'e'"]),
    ("y = 1.2.3", 1, 8, ["unexpected number .3"]),
]


@pytest.mark.parametrize("text, line, column, fragments", SYNTAX, ids=[repr(c[0]) for c in SYNTAX])
def test_syntax_errors_say_what_was_expected_in_words(text, line, column, fragments):
    check(text, line, column, *fragments)


@pytest.mark.parametrize(
    "text, line, column, opener",
    [
        ("a = (1 + 2", 1, 5, "("),
        ("a = [1, 2\n", 1, 5, "["),
        ("a = [1, 2\n\n# comment (\n", 1, 5, "["),
        ("a = 1\nb = (a +\n   2 *\n   3", 2, 5, "("),
        ("a = sum([1, 2]", 1, 8, "("),
        ("a = [[1, 2], [3, 4]", 1, 5, "["),
    ],
)
def test_unclosed_bracket_at_end_of_file_points_at_the_opener(text, line, column, opener):
    check(text, line, column, f"'{opener}'", "never closed")


@pytest.mark.parametrize(
    "text, line, column, shown",
    [
        ("a = 1 $ 2", 1, 7, "'$'"),
        ("a = 1\nb = 'x'", 2, 5, "'"),
        ('a = 1\nb = load("x', 2, 10, '"'),
        ("a = é", 1, 5, "é"),
        ("a = 1\nb = 2 ! 3", 2, 7, "'!'"),
        ("a =\t$", 1, 5, "'$'"),
        ("a = 1\x00", 1, 6, "\\x00"),
    ],
)
def test_unexpected_character(text, line, column, shown):
    check(text, line, column, "unexpected character", shown)


ALPHABET = [
    "a",
    "b1",
    "x",
    "1",
    "2.5",
    ".5",
    "1e3",
    "=",
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
    ",",
    ":",
    ";",
    "\n",
    " ",
    "param",
    "pi",
    "# c\n",
    "sum",
    "exp",
    "axis",
    "$",
    "\t",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(ALPHABET), min_size=1, max_size=14))
def test_any_text_gives_a_result_or_an_expr_error_in_words(tokens):
    text = "".join(tokens)
    try:
        run(load(Source("t.expr", text)))
    except ExprError as err:
        assert err.message and not LARK_NAMES.search(err.message), (text, err.message)
        if err.span is not None:
            assert err.span.line >= 1 and err.span.column >= 1


# ------------------------------------------------------------------- names


def test_undefined_name_with_did_you_mean():
    err = check("b1 = 1\nb2 = 2\nc = b3 + b2", 3, 5, "undefined name 'b3'", "did you mean 'b1'")
    assert err.span.end_column - err.span.column == 2


def test_undefined_name_suggestion_from_a_longer_name():
    check("alpha = 1\nb = alhpa * 2", 2, 5, "undefined name 'alhpa'", "did you mean 'alpha'")


def test_undefined_name_without_a_close_match_has_no_suggestion():
    err = check("a = 1\nb = zzzz + a", 2, 5, "undefined name 'zzzz'")
    assert "did you mean" not in err.message


def test_use_before_binding():
    check("a = b + 1\nb = 2", 1, 5, "'b'", "before", "line 2")


def test_self_reference_is_use_before_binding_or_undefined():
    err = check("a = a + 1", 1, 5, "'a'")
    assert "before" in err.message or "undefined" in err.message


def test_rebinding_points_at_the_second_and_notes_the_first():
    err = check("a = 1\nb = 2\na = 3", 3, 1, "'a'", "already bound")
    assert len(err.notes) == 1
    note_span, note = err.notes[0]
    assert (note_span.line, note_span.column) == (1, 1)
    assert "'a'" in note and "first" in note


def test_rebinding_a_param_as_a_node():
    err = check("param w = 1\nx = 2\nw = x", 3, 1, "'w'", "already bound")
    assert err.notes[0][0].line == 1


@pytest.mark.parametrize(
    "text, line, column",
    [
        ("pi = 3", 1, 1),
        ("a = 1\nparam pi = 2", 2, 7),
    ],
)
def test_binding_pi_is_an_error(text, line, column):
    check(text, line, column, "'pi'", "builtin")


# --------------------------------------------------------------- functions


@pytest.mark.parametrize(
    "text, column, suggestion",
    [
        ("a = sum2([1, 2])", 5, "sum"),
        ("a = expp(1)", 5, "exp"),
        ("a = softmx([1, 2])", 5, "softmax"),
    ],
)
def test_unknown_function_with_suggestion(text, column, suggestion):
    check(text, 1, column, "unknown function", f"did you mean '{suggestion}'")


def test_unknown_function_without_suggestion():
    err = check("a = xyzzy(1)", 1, 5, "unknown function 'xyzzy'")
    assert "did you mean" not in err.message


@pytest.mark.parametrize(
    "text, line, column, name",
    [
        ("a = 1\nb = a(2)", 2, 5, "a"),
        ("b = pi(2)", 1, 5, "pi"),
    ],
)
def test_calling_a_value(text, line, column, name):
    check(text, line, column, f"'{name}'", "not a function")


@pytest.mark.parametrize(
    "text, column, fragments",
    [
        ("a = exp(1, 2)", 12, ["exp()", "at most 1 argument", "got 2", "usage: exp(x)"]),
        ("a = maximum(1, 2, 3)", 19, ["maximum()", "at most 2", "got 3"]),
        ("a = clip(1)", 5, ["clip()", "missing", "'lo'", "usage: clip(x, lo, hi)"]),
        ("a = maximum(1)", 5, ["maximum()", "missing", "'b'"]),
        ("a = eye()", 5, ["eye()", "missing", "'n'"]),
        ("a = sum()", 5, ["sum()", "missing", "'x'"]),
        ("a = reshape([1, 2])", 5, ["reshape()", "dimensions"]),
    ],
)
def test_wrong_number_of_arguments(text, column, fragments):
    check(text, 1, column, *fragments)


@pytest.mark.parametrize(
    "text, column, fragments",
    [
        ("a = sum([1, 2], axs=0)", 17, ["sum()", "no argument 'axs'", "did you mean 'axis'"]),
        ("a = exp(1, axis=0)", 12, ["exp()", "no argument 'axis'"]),
        ("a = randn(2, sed=1)", 14, ["randn()", "no argument 'sed'", "did you mean 'seed'"]),
    ],
)
def test_unknown_keyword_argument(text, column, fragments):
    """The caret is under the keyword, not its value."""
    check(text, 1, column, *fragments)


def test_positional_argument_after_keyword():
    check("a = sum(x=[1, 2], 0)", 1, 19, "positional argument", "keyword argument")


def test_same_argument_twice():
    check("a = sum([1, 2], axis=0, axis=0)", 1, 25, "'axis'", "twice")
    check("a = sum([1, 2], x=[3])", 1, 17, "'x'", "twice")


# ------------------------------------------- static integers: shape, axis, index


@pytest.mark.parametrize(
    "text, line, column, fragments",
    [
        ("a = zeros(2.5)", 1, 11, ["integer", "2.5"]),
        ("a = ones(2, 0.5)", 1, 13, ["integer", "0.5"]),
        ("a = 2\nb = zeros(a)", 2, 11, ["constant"]),
        ("a = 2\nb = randn(3, seed=a)", 2, 19, ["seed", "constant"]),
        ("a = sum([[1, 2]], axis=1.5)", 1, 24, ["axis", "integer", "1.5"]),
        ("a = 1\nb = sum([a, a], axis=a)", 2, 22, ["axis", "constant"]),
        ("a = sum([1, 2], axis=[0])", 1, 22, ["axis", "single number"]),
        ("a = [1, 2, 3]\nb = a[1.5]", 2, 7, ["index", "integer", "1.5"]),
        ("a = [1, 2, 3]\ni = 1\nb = a[i]", 3, 7, ["index", "constant"]),
        ("a = [1, 2, 3]\ni = 1\nb = a[0:i]", 3, 9, ["slice", "constant"]),
        ("a = [1, 2, 3]\nb = a[0.5:]", 2, 7, ["slice", "integer"]),
        ("a = [1, 2, 3]\nb = a[[0]]", 2, 7, ["index", "single number"]),
        ("a = eye(2.5)", 1, 9, ["integer"]),
        ("a = linspace(0, 1, 2.5)", 1, 20, ["integer"]),
        ("a = zeros(1e400)", 1, 11, ["integer"]),
    ],
)
def test_non_integer_or_non_constant_static_arguments(text, line, column, fragments):
    check(text, line, column, *fragments)


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("a = zeros(2, -1)", ["negative"]),
        ("a = eye(-1)", ["negative"]),
        ("a = linspace(0, 1, -1)", ["negative"]),
        ("a = randn(3, seed=-1)", ["seed", "negative"]),
        ("a = arange(0, 1, 0)", ["step", "zero"]),
    ],
)
def test_negative_sizes_and_zero_step(text, fragments):
    check(text, 1, 5, *fragments)


@pytest.mark.parametrize(
    "text, line, column, fragments",
    [
        ("a = [1, 2, 3]\nb = a[3]", 2, 5, ["3", "out of"]),
        ("a = [1, 2, 3]\nb = a[-4]", 2, 5, ["-4", "out of"]),
        ("a = [[1, 2], [3, 4]]\nb = a[0, 2]", 2, 5, ["2", "out of"]),
        ("a = [1, 2, 3]\nb = a[0, 0]", 2, 5, ["too many indices"]),
        ("a = 1\nb = a[0]", 2, 5, ["too many indices"]),
    ],
)
def test_index_out_of_range(text, line, column, fragments):
    check(text, line, column, *fragments)


@pytest.mark.parametrize(
    "text, line, column, fragments",
    [
        ("a = [1, 2, 3]\nb = sum(a, axis=1)", 2, 5, ["axis 1", "out of range", "1 dimension"]),
        ("a = [[1, 2]]\nb = mean(a, axis=-3)", 2, 5, ["axis -3", "out of range"]),
        ("a = [1, 2, 3]\nb = sum(softmax(a, axis=1))", 2, 9, ["axis 1", "out of range"]),
        ("a = 2\nb = softmax(a)", 2, 5, ["scalar"]),
    ],
)
def test_axis_out_of_range(text, line, column, fragments):
    check(text, line, column, *fragments)


def test_slice_step_zero():
    check("a = [1, 2, 3]\nb = a[::0]", 2, 5, "step", "zero")


# ------------------------------------------------------------------ shapes


def test_broadcast_mismatch_shows_both_shapes():
    err = check("x = [1, 2, 3]\ny = [1, 2]\nz = x * y", 3, 5, "(3,)", "(2,)", "broadcast")
    assert err.span.end_column - err.span.column == len("x * y")


def test_broadcast_mismatch_of_matrices():
    check("a = ones(2, 3)\nb = ones(3, 2)\nc = a + b", 3, 5, "(2, 3)", "(3, 2)")


def test_matmul_mismatch_shows_both_shapes():
    check("a = [[1, 2], [3, 4]]\nb = [1, 2, 3]\nc = a @ b", 3, 5, "(2, 2)", "(3,)")


def test_matmul_of_scalars_is_refused():
    check("a = 3\nb = a @ 4", 2, 5, "()", "scalar")


def test_dot_mismatch():
    check("a = dot([1, 2], [1, 2, 3])", 1, 5, "(2,)", "(3,)")


@pytest.mark.parametrize(
    "text, line, column, fragments",
    [
        ("a = [[1, 2], [3]]", 1, 14, ["ragged", "(1,)", "(2,)"]),
        ("a = [1, [2, 3]]", 1, 9, ["ragged", "(2,)", "()"]),
        ("x = [1, 2]\nm = [x, 3]", 2, 9, ["ragged"]),
    ],
)
def test_ragged_list(text, line, column, fragments):
    check(text, line, column, *fragments)


def test_reshape_size_mismatch():
    check("a = reshape([1, 2, 3], 2, 2)", 1, 5, "reshape", "(3,)", "(2, 2)")
    check("a = reshape(arange(5), -1, 2)", 1, 5, "reshape", "(5,)")
    check("a = reshape(arange(6), -1, -1)", 1, 5, "-1")


@pytest.mark.parametrize(
    "text, line, name, shape",
    [
        ("a = [1, 2, 3]", 1, "a", "(3,)"),
        ("x = 1\ny = [x, x]", 2, "y", "(2,)"),
        ("m = ones(2, 2)\nz = m * 3", 2, "z", "(2, 2)"),
        ("e = []", 1, "e", "(0,)"),
    ],
)
def test_non_scalar_target_suggests_sum_or_mean(text, line, name, shape):
    err = check(text, line, 1, f"'{name}'", shape, f"sum({name})", f"mean({name})")
    assert "scalar" in err.message


def test_non_scalar_target_chosen_by_name():
    model = load(Source("t.expr", "x = [1, 2]\nL = sum(x)"))
    with pytest.raises(ExprError) as info:
        run(model, "x")
    assert "sum(x)" in info.value.message and info.value.span.line == 1


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "  \n# a\n\n; ;\n"])
def test_empty_file(text):
    err = error_of(text)
    assert "no statements" in err.message
    assert (err.span.line, err.span.column) == (1, 1)


# ------------------------------------------------------------- size limits


def test_huge_array_is_refused_before_allocation_with_its_location():
    start = time.perf_counter()
    err = check(
        "a = 1\nb = zeros(100000, 100000)\nc = sum(b)",
        2,
        5,
        "elements",
        "10,000,000,000",
        "--max-elements",
    )
    assert time.perf_counter() - start < 2.0
    assert err.span.end_column - err.span.column == len("zeros(100000, 100000)")


@pytest.mark.parametrize(
    "expr",
    [
        "randn(100000, 100000)",
        "rand(1e6, 1e6)",
        "eye(100000)",
        "arange(1e12)",
        "linspace(0, 1, 1e12)",
        "ones(100000, 1) * ones(1, 100000)",
    ],
)
def test_every_constructor_and_broadcast_is_size_checked(expr):
    start = time.perf_counter()
    err = check(f"a = 1\nb = {expr}\nc = sum(b)", 2, 5, "elements")
    assert time.perf_counter() - start < 2.0, err.message


def test_broadcast_result_over_the_limit_points_at_the_operation():
    text = "u = ones(11, 1)\nv = ones(1, 11)\nm = u * v\nL = sum(m)"
    err = check(text, 3, 5, "121", "100", max_elements=100)
    assert err.span.end_column - err.span.column == len("u * v")
    check("x = 1\nm = reshape(zeros(10), 10, 1) @ ones(1, 20)", 2, 5, "200", max_elements=100)


@pytest.mark.parametrize(
    "expr",
    [
        "zeros(0, 2**62, 2**62)",
        "ones(0, 2**62, 2**62)",
        "randn(0, 2**62, 2**62)",
        "rand(0, 2**62, 2**62)",
        "reshape(zeros(0), 0, 2**62, 2**62)",
        "zeros(0, 2**40)[:, ::2]",
    ],
)
def test_an_empty_array_with_huge_dimensions_is_refused(expr):
    """Zero elements pass the element count, but numpy refuses dimensions
    whose product (without the zeros) is past what an address holds."""
    check(f"a = 1\nb = {expr}", 2, 5, "empty array", "without its zeros", "--max-elements")
    check(f"param b = {expr}", 1, 11, "empty array")


def test_an_array_of_more_bytes_than_memory_can_address_is_refused():
    err = check(
        "x = zeros(2**61, 8)", 1, 5, "bytes", "more than memory can address", max_elements=10**30
    )
    assert "147,573,952,589,676,412,928" in err.message


def test_max_elements_option_of_the_library():
    check("z = zeros(11)\nL = sum(z)", 1, 5, "11", "10", max_elements=10)
    load(Source("t.expr", "z = zeros(10)\nL = sum(z)"), max_elements=10)
    check("z = ones(4)\nm = [z, z, z]\nL = sum(m)", 2, 5, "12", max_elements=10)


def test_too_many_dimensions():
    ones = ", ".join(["1"] * 33)
    check(f"a = ones({ones})", 1, 5, "33 dimensions")


# ---------------------------------------------------- --of, --set, --wrt (library)


def test_of_unknown_name_with_suggestion():
    model = load(Source("t.expr", SEED))
    with pytest.raises(ExprError) as info:
        run(model, "b3")
    assert "'b3'" in info.value.message and "did you mean 'b1'" in info.value.message


def _set(name_value):
    name = name_value.partition("=")[0]
    return [(name, Source("--set", name_value))]


@pytest.mark.parametrize(
    "item, column, fragments",
    [
        ("zz=1", 1, ["no binding named 'zz'"]),
        ("b3=1", 1, ["no binding named 'b3'", "did you mean 'b1'"]),
        ("c=1", 1, ["'c'", "computed", "inputs and params"]),
        ("a1=(1", 4, ["'('", "never closed"]),
        ("a1=1 +", 7, ["expected an expression"]),
        ("a1=a2", 4, ["constant", "names"]),
        ("a1=1; a2=3", 1, ["one NAME=VALUE"]),
    ],
)
def test_set_errors_are_located_in_the_set_text(item, column, fragments):
    with pytest.raises(ExprError) as info:
        load(Source("t.expr", SEED), sets=_set(item))
    err = info.value
    assert err.span is not None and err.span.source.name == "--set"
    assert (err.span.line, err.span.column) == (1, column), err.message
    for fragment in fragments:
        assert fragment in err.message, err.message


def test_set_value_with_wrong_shape_is_checked_against_the_file():
    """The file's line is where the shape fails, but the option gave the
    shape: the error names it, and a note points at the value it gave."""
    with pytest.raises(ExprError) as info:
        run(load(Source("t.expr", SEED), sets=_set("w=[1, 2]")))
    err = info.value
    assert "out of" in err.message and err.span.source.name == "t.expr"
    assert "--set changed the shape of 'w' from (5,) to (2,)" in err.message
    [(span, note)] = err.notes
    assert span.source.name == "--set" and span.column == 3 and "by --set" in note


def test_set_json_value_with_another_shape_names_the_option():
    from autograd_cli.jsonin import given_values

    values = given_values(Source("w.json", '{"w": [1, 2, 3]}'))
    with pytest.raises(ExprError) as info:
        load(Source("t.expr", SEED), values=values, any_shape=True)
    assert "--set-json changed the shape of 'w' from (5,) to (3,)" in info.value.message
    assert info.value.notes[0][0].source.name == "w.json"


def test_set_that_makes_the_target_a_vector_names_the_option():
    with pytest.raises(ExprError) as info:
        run(load(Source("t.expr", SEED), sets=_set("a1=[1, 2]")))
    assert "needs a scalar target" in info.value.message
    assert "--set changed the shape of 'a1' from () to (2,)" in info.value.message


def test_set_that_keeps_the_shape_adds_nothing_to_an_error():
    with pytest.raises(ExprError) as info:
        load(Source("t.expr", SEED + "z = w @ ones(3)\n"), sets=_set("w=[1, 2, 3, 4, 6]"))
    assert "--set" not in info.value.message and not info.value.notes


# ------------------------------------------------ no internal errors, ever


@pytest.mark.parametrize(
    "text, outcome",
    [
        ("x = softmax([])", "error: the target 'x' has shape (0,)"),
        ("x = sum(softmax([]))", 0.0),
        ("x = sum(log_softmax([]))", 0.0),
        ("x = logsumexp([])", -math.inf),
        ("a = 1\nx = sum(softmax([]) * a)", 0.0),
        ("x = mean([])", "error: cannot reduce an empty array of shape (0,)"),
        ("x = max(zeros(0))", "error: cannot reduce an empty array of shape (0,)"),
        ("x = min(zeros(3, 0), axis=1)", "error: cannot reduce an empty array of shape (3, 0)"),
        ("x = sum(zeros(0, 5))", 0.0),
    ],
)
def test_empty_arrays_give_a_result_or_an_expr_error(text, outcome):
    """No input, of any kind, is an internal error: an empty array either gives
    the value PyTorch gives (an empty sum is 0, an empty logsumexp -inf) or a
    located error that says why."""
    if isinstance(outcome, str):
        with pytest.raises(ExprError) as info:
            run(load(Source("t.expr", text)))
        assert outcome.removeprefix("error: ") in info.value.message
        assert info.value.span is not None and info.value.span.source.name == "t.expr"
    else:
        report = run(load(Source("t.expr", text)))
        assert float(report.values[report.target.name]) == outcome


# ---------------------------------------------------------------- non-finite


def test_non_finite_value_is_a_warning_naming_the_node_and_line():
    r = run(load(Source("t.expr", "a = 1\nb = log(-a)\nc = b + a")))
    assert r.warnings, "log(-1) must warn"
    w = r.warnings[0]
    assert w.node == "b" and w.span.line == 2
    assert "nan" in w.message and "'b'" in w.message


def test_non_finite_gradient_is_a_backward_warning():
    r = run(load(Source("t.expr", "a = 0\nb = sqrt(a)")))
    assert len(r.warnings) == 1
    w = r.warnings[0]
    assert w.node == "b" and w.span.line == 2 and "backward" in w.message


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_finiteness_check_of_arrays(dtype):
    """`_finite` on arrays: every kind of non-finite element anywhere, in
    contiguous and strided arrays, and finite values whose squares overflow
    (the sum of squares is inf: the check looks closer and says finite)."""
    import numpy as np

    from autograd_cli.running import _finite

    big = np.finfo(dtype).max
    with np.errstate(all="ignore"):  # as `run` calls it
        _finiteness_cases(_finite, dtype, big)


def _finiteness_cases(_finite, dtype, big):
    import numpy as np

    for shape in [(7,), (3, 5), (4, 1, 6)]:
        a = np.linspace(-3, 3, int(np.prod(shape)), dtype=dtype).reshape(shape)
        views = [a, a.T, a[..., ::2], np.broadcast_to(a[..., :1], shape)]
        for v in views:
            assert _finite(v)
        for bad in [np.nan, np.inf, -np.inf]:
            for at in [0, a.size // 2, a.size - 1]:
                b = a.copy()
                b.flat[at] = bad
                assert not _finite(b), (shape, bad, at)
                assert not _finite(b.T), (shape, bad, at)
        huge = np.full(shape, big / 2, dtype=dtype)
        huge.flat[0] = -big
        assert _finite(huge) and _finite(huge.T)
    assert _finite(np.zeros((0, 3), dtype=dtype))


def test_finiteness_check_of_python_floats():
    """Scalars computed as Python floats are checked by their sum: any nan
    or inf anywhere makes it non-finite, and finite values whose sum
    overflows are looked at one by one (and found finite)."""
    from autograd_cli.running import _floats_finite, _grads_finite

    big = 1.7976931348623157e308
    assert _floats_finite([]) and _floats_finite([1.0, -2.5, 0.0, -0.0])
    assert _floats_finite([big, big, big]) and _floats_finite([-big, -big])
    for bad in [float("nan"), float("inf"), float("-inf")]:
        for at in [0, 2, 4]:
            xs = [1.0, big, -3.0, big, 2.0]
            xs[at] = bad
            assert not _floats_finite(xs), (bad, at)
    assert not _floats_finite([float("inf"), float("-inf")])  # sums to nan
    import numpy as np

    assert _grads_finite([1.0, None, np.ones(3), np.float64(2.0), big, big])
    assert not _grads_finite([1.0, None, np.array([1.0, np.nan])])
    assert not _grads_finite([None, float("-inf")])


@pytest.mark.parametrize(
    "text, name, stage",
    [
        ("a = 1e308\nb = a * 10\nc = b - b\n", "b", "in the value of 'b'"),
        ("x = 2\ny = [1, 2] * x\nz = log(x - 2)\nt = sum(y) + z\n", "z", "in the value of 'z'"),
        ("x = 0\nparam p = 1\nt = sqrt(x) * p\n", "t", "backward pass"),
    ],
)
def test_non_finite_scalars_warn_from_the_float_path(text, name, stage):
    """A scalar program (run on Python floats) with one non-finite value or
    gradient among finite ones, scalars and arrays mixed, warns once and
    names it; the report's types are numpy's."""
    import numpy as np

    r = run(load(Source("t.expr", text)))
    assert len(r.warnings) >= 1
    assert r.warnings[0].node == name and stage in r.warnings[0].message
    for v in list(r.values.values()) + list(r.grads.values()):
        assert isinstance(v, (np.ndarray, np.generic))


def test_gradient_of_a_binding_the_target_does_not_use_is_zeros():
    import numpy as np

    r = run(load(Source("t.expr", "a = [1, 2, 3]\nb = 4\nc = b * 2\n")))
    assert r.grads["a"].shape == (3,) and not r.grads["a"].any()
    assert r.grads["b"] == 2 and type(r.grads["b"]) is np.float64


def test_constant_bindings_warn_in_every_run():
    """The finiteness of a constant binding's array is worked out once per
    model; the warning still comes in every run, a computed binding's is
    checked afresh, and another model with other values gets its own answer."""
    text = "x = [1, 2, 1e308] * 10\ny = sum(x * 0)\n"
    model = load(Source("t.expr", text))
    for _ in range(3):
        r = run(model)
        assert [w.node for w in r.warnings] == ["x"]
    fine = load(Source("t.expr", text.replace("1e308", "3")))
    for _ in range(2):
        assert run(fine).warnings == []
    model = load(Source("t.expr", "param w = [1, 2]\nz = w / (w - 1) - 1\nL = sum(z)\n"))
    for _ in range(2):
        warnings = run(model).warnings
        assert warnings and {w.node for w in warnings} == {"z"}


# ======================================================================= CLI


def invoke(args, input=None, env=None):
    return CliRunner().invoke(app, args, input=input, env=env or {"NO_COLOR": "1"})


def diagnostic(result, path, line, column, *fragments, source_line=None, caret=None):
    """Exit 1, empty stdout, and ``path:line:col: error: ...`` + source + caret."""
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    head = f"{path}:{line}:{column}: error: "
    assert lines and lines[0].startswith(head), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    if source_line is not None:
        assert re.fullmatch(rf" +{line} \| " + re.escape(source_line), lines[1]), lines[1]
        bar = lines[1].index("|")
        assert lines[2][: bar + 1].strip() == "|", lines[2]
        caret_text = lines[2][bar + 2 :]
        assert caret_text.startswith(" " * (column - 1) + "^"), lines[2]
        if caret is not None:
            assert caret_text.strip() == "^" * caret, lines[2]
    assert "Traceback" not in result.stderr
    return lines


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def write(name, text):
        p = tmp_path / name
        (p.write_bytes if isinstance(text, bytes) else p.write_text)(text)
        return name

    return write


def test_cli_undefined_name_diagnostic(in_tmp):
    path = in_tmp("model.expr", "b1 = 1\nb2 = 2\nc = 3 * b3 + b2\n")
    diagnostic(
        invoke(["eval", path]),
        "model.expr",
        3,
        9,
        "undefined name 'b3'",
        "did you mean 'b1'",
        source_line="c = 3 * b3 + b2",
        caret=2,
    )


def test_cli_syntax_error_diagnostic(in_tmp):
    path = in_tmp("s.expr", "a = 1\nb = a +* 2\n")
    lines = diagnostic(
        invoke(["eval", path, "--format", "json"]),
        "s.expr",
        2,
        8,
        "unexpected '*'",
        source_line="b = a +* 2",
        caret=1,
    )
    assert not LARK_NAMES.search("\n".join(lines))


def test_cli_unclosed_bracket_diagnostic(in_tmp):
    path = in_tmp("u.expr", "a = 1\nb = sum([a,\n  2\n")
    diagnostic(invoke(["eval", path]), "u.expr", 2, 9, "never closed", source_line="b = sum([a,")


def test_cli_rebinding_has_a_note_at_the_first_binding(in_tmp):
    path = in_tmp("r.expr", "a = 1\nb = 2\na = 3\n")
    lines = diagnostic(invoke(["eval", path]), "r.expr", 3, 1, "'a'", source_line="a = 3", caret=1)
    notes = [ln for ln in lines if ": note: " in ln]
    assert notes and notes[0].startswith("r.expr:1:1: note: ")
    after = lines[lines.index(notes[0]) + 1]
    assert re.fullmatch(r" +1 \| a = 1", after)


def test_cli_shape_mismatch_diagnostic(in_tmp):
    path = in_tmp("m.expr", "a = [[1, 2], [3, 4]]\nb = [1, 2, 3]\nc = sum(a @ b)\n")
    diagnostic(
        invoke(["eval", path]),
        "m.expr",
        3,
        9,
        "(2, 2)",
        "(3,)",
        source_line="c = sum(a @ b)",
        caret=5,
    )


def test_cli_non_scalar_target_diagnostic(in_tmp):
    path = in_tmp("ns.expr", "w = [1, 2, 3]\ny = w * 2\n")
    diagnostic(
        invoke(["eval", path]), "ns.expr", 2, 1, "sum(y)", "mean(y)", source_line="y = w * 2"
    )


def test_cli_empty_file(in_tmp):
    path = in_tmp("empty.expr", "")
    result = invoke(["eval", path])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("empty.expr:1:1: error: ")
    assert "no statements" in result.stderr


def test_cli_huge_array_refused_quickly(in_tmp):
    path = in_tmp("big.expr", "a = zeros(100000, 100000)\nb = sum(a)\n")
    start = time.perf_counter()
    result = invoke(["eval", path])
    assert time.perf_counter() - start < 3.0
    diagnostic(
        result,
        "big.expr",
        1,
        5,
        "elements",
        "--max-elements",
        source_line="a = zeros(100000, 100000)",
        caret=len("zeros(100000, 100000)"),
    )


def test_cli_max_elements_option(in_tmp):
    path = in_tmp("z.expr", "a = zeros(11)\nb = sum(a)\n")
    diagnostic(
        invoke(["eval", path, "--max-elements", "10"]),
        "z.expr",
        1,
        5,
        "11",
        "10",
        source_line="a = zeros(11)",
    )
    ok = in_tmp("ok.expr", "a = zeros(10)\nb = sum(a)\n")
    assert invoke(["eval", ok, "--max-elements", "10"]).exit_code == 0
    assert invoke(["eval", path]).exit_code == 0


def test_cli_of_unknown_name(in_tmp):
    path = in_tmp("seed.expr", SEED)
    result = invoke(["eval", path, "--of", "b3"])
    assert result.exit_code == 1 and result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert first.startswith("seed.expr") and ": error: " in first
    assert "--of" in first and "'b3'" in first and "did you mean 'b1'" in first


@pytest.mark.parametrize(
    "item, column, fragments",
    [
        ("zz=1", 1, ["no binding named 'zz'"]),
        ("c=1", 1, ["'c'", "computed"]),
        ("a1=(1", 4, ["never closed"]),
        ("a1=1 ] 2", 6, ["unexpected ']'"]),
        ("a1=a2 * 2", 4, ["constant"]),
    ],
)
def test_cli_set_errors(in_tmp, item, column, fragments):
    path = in_tmp("seed.expr", SEED)
    lines = diagnostic(
        invoke(["eval", path, "--set", item]), "--set", 1, column, *fragments, source_line=item
    )
    assert not LARK_NAMES.search(lines[0])


def test_cli_wrt_unknown(in_tmp):
    path = in_tmp("seed.expr", SEED)
    result = invoke(["eval", path, "--wrt", "w", "--wrt", "zz", "--format", "json"])
    assert result.exit_code == 1 and result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert ": error: " in first and "--wrt" in first and "'zz'" in first


def test_cli_missing_file(in_tmp):
    result = invoke(["eval", "nope.expr"])
    assert result.exit_code == 1 and result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert first.startswith("nope.expr") and ": error: " in first
    assert "No such file" in first or "not found" in first or "does not exist" in first
    assert "Traceback" not in result.stderr


def test_cli_directory(in_tmp, tmp_path):
    (tmp_path / "adir").mkdir()
    result = invoke(["eval", "adir"])
    assert result.exit_code == 1 and result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert first.startswith("adir") and ": error: " in first and "directory" in first.lower()


def test_cli_non_utf8_bytes(in_tmp):
    path = in_tmp("bad.expr", b"a = 1\nb = 2 # caf\xe9\n")
    lines = diagnostic(invoke(["eval", path]), "bad.expr", 2, 12, "UTF-8", "0xe9")
    assert lines[1].lstrip().startswith("2 | b = 2 # caf")


def test_cli_nul_byte(in_tmp):
    path = in_tmp("nul.expr", b"a = 1\nb = a\x00 + 1\n")
    diagnostic(invoke(["eval", path]), "nul.expr", 2, 6, "unexpected character")


def test_cli_utf8_bom_is_accepted(in_tmp):
    path = in_tmp("bom.expr", "\ufeffa = 1\nb = a * 2\n".encode("utf-8"))
    assert invoke(["eval", path]).exit_code == 0


def test_cli_one_bad_file_among_several(in_tmp):
    good = in_tmp("good.expr", "a = 2\nb = a * a\n")
    bad = in_tmp("bad.expr", "a = 2\nb = c\n")
    result = invoke(["eval", good, bad, good, "--format", "json"])
    assert result.exit_code == 1
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["file"] for d in docs] == ["good.expr", "good.expr"]
    assert result.stderr.startswith("bad.expr:2:5: error: ")


# -------------------------------------------------------- non-finite via CLI


def _reject(name):
    raise ValueError(f"non-standard JSON constant {name}")


def test_cli_log_of_negative_warns_and_reports_nan(in_tmp):
    path = in_tmp("nan.expr", "a = 1\nb = log(-a)\nc = b + a\n")
    result = invoke(["eval", path, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith("nan.expr:2:") and ": warning: " in first and "'b'" in first
    doc = json.loads(result.stdout, parse_constant=_reject)
    assert doc["nodes"]["b"]["value"] == "nan"
    assert doc["value"] == "nan"
    w = doc["warnings"][0]
    assert w["node"] == "b" and w["line"] == 2 and isinstance(w["column"], int)
    assert "nan" in w["message"]


def test_cli_log_of_negative_fails_under_strict(in_tmp):
    path = in_tmp("nan.expr", "a = 1\nb = log(-a)\nc = b + a\n")
    for fmt in ("table", "json"):
        result = invoke(["eval", path, "--strict", "--format", fmt])
        assert result.exit_code == 1
        assert result.stdout == ""
        first = result.stderr.splitlines()[0]
        assert first.startswith("nan.expr:2:") and ": error: " in first and "'b'" in first


def test_cli_infinite_gradient_warns_and_fails_under_strict(in_tmp):
    path = in_tmp("inf.expr", "a = 0\nb = sqrt(a)\n")
    result = invoke(["eval", path, "--format", "json"])
    assert result.exit_code == 0
    assert "warning" in result.stderr and "backward" in result.stderr
    doc = json.loads(result.stdout, parse_constant=_reject)
    assert doc["nodes"]["a"]["grad"] == "inf"
    strict = invoke(["eval", path, "--strict"])
    assert strict.exit_code == 1 and strict.stdout == ""


def test_cli_table_shows_nan_and_warns(in_tmp):
    path = in_tmp("nan.expr", "a = 1\nb = log(-a)\nc = b + a\n")
    result = invoke(["eval", path])
    assert result.exit_code == 0
    assert "nan" in result.stdout
    assert "warning" in result.stderr


def test_cli_empty_softmax_is_not_an_internal_error(in_tmp):
    path = in_tmp("e.expr", "x = sum(softmax([]))\n")
    result = invoke(["eval", path])
    assert result.exit_code in (0, 1), (result.exit_code, result.stderr)
    assert "internal error" not in result.stderr


def test_cli_caret_lines_up_after_a_tab(in_tmp):
    path = in_tmp("tab.expr", "a =\tq\n")
    diagnostic(
        invoke(["eval", path]), "tab.expr", 1, 5, "undefined name 'q'", source_line="a = q", caret=1
    )


def test_an_unclosed_bracket_is_noted_where_it_opened():
    err = check("a = [1, 2\nb = 3\n", 2, 1, "unexpected name 'b'")
    assert len(err.notes) == 1
    note_span, note = err.notes[0]
    assert (note_span.line, note_span.column) == (1, 5)
    assert "'['" in note and "open" in note


def test_control_characters_are_not_echoed_raw(tmp_path):
    path = tmp_path / "ctl.expr"
    path.write_bytes(b"a = 1\x00\n")
    result = CliRunner().invoke(app, ["eval", str(path)])
    assert result.exit_code == 1
    assert "\x00" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[1].endswith("a = 1\ufffd")
    assert lines[2].index("^") == lines[1].index("\ufffd")


# ------------------------------------------------ long lines, long messages


def test_caret_under_an_error_at_the_end_of_a_long_line():
    from autograd_cli.errors import format_diagnostic

    text = "x = " + " + ".join(["1"] * 60) + " +"
    err = error_of(text)
    assert err.span.column == len(text) + 1
    lines = format_diagnostic("error", err.message, err.span).splitlines()
    shown, caret = lines[1], lines[2]
    assert caret.rstrip().endswith("^"), caret
    # The caret stands just past the last character shown.
    assert caret.rstrip().index("^") == len(shown.rstrip())


def test_a_huge_number_is_not_echoed_whole():
    from autograd_cli.errors import MESSAGE_WIDTH, format_diagnostic

    number = "1" + "0" * 1_000_000 + ".5"
    report = run(load(Source("t.expr", f"x = {number}\nL = exp(x)")))
    [warning] = [w for w in report.warnings if w.node == "x"]
    assert len(warning.message) < MESSAGE_WIDTH + 50
    assert "characters cut" in warning.message and "'x'" in warning.message[-100:]
    assert len(format_diagnostic("warning", warning.message, warning.span)) < 1000


def test_a_huge_name_is_not_echoed_whole():
    name = "a" * 1_000_000
    err = check(f"x = 1\ny = {name} + x", 2, 5, "undefined name", "characters cut")
    assert len(err.message) < 500


# ------------------------------------------------------ running out of memory


def _short_of_memory(monkeypatch, opname, after=0):
    """Make op `opname` raise MemoryError, as numpy does when an array does
    not fit, from its (after+1)-th call on."""
    from autograd_cli.ops import OPS

    op = OPS[opname]
    forward, calls = op.forward, [0]

    def failing(*args, **kwargs):
        calls[0] += 1
        if calls[0] > after:
            raise MemoryError("Unable to allocate 762. MiB for an array")
        return forward(*args, **kwargs)

    monkeypatch.setattr(op, "forward", failing)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_out_of_memory_in_the_forward_pass_names_the_expression(monkeypatch, dtype):
    model = load(Source("t.expr", "a = ones(4)\nb = a * 2\nL = sum(exp(b))"), dtype=dtype)
    _short_of_memory(monkeypatch, "exp")
    with pytest.raises(ExprError) as info:
        run(model)
    err = info.value
    assert "ran out of memory in the forward pass" in err.message
    assert "shape (4,)" in err.message and "'L'" in err.message
    assert (err.span.line, err.span.column) == (3, 9)


def test_out_of_memory_in_the_backward_pass_names_the_expression(monkeypatch):
    from autograd_cli.ops import OPS

    def vjp(*args):
        raise MemoryError("Unable to allocate 762. MiB for an array")

    model = load(Source("t.expr", "param w = ones(3)\nL = sum(w * w)"))
    monkeypatch.setattr(OPS["mul"], "vjps", (vjp, vjp))
    with pytest.raises(ExprError) as info:
        run(model)
    assert "ran out of memory in the backward pass" in info.value.message
    assert info.value.span.line == 2


def test_out_of_memory_making_a_constant_names_it(monkeypatch):
    _short_of_memory(monkeypatch, "zeros")
    err = check(
        "x = 1\ny = zeros(1000, 1000)", 2, 5, "ran out of memory", "shape (1000, 1000)", "7.6 MiB"
    )
    assert "--max-elements" in err.message


def test_out_of_memory_in_a_real_process_is_exit_1_with_the_place(tmp_path):
    """A real allocation failure, under an address-space limit."""
    import subprocess
    import sys

    f = tmp_path / "big.expr"
    f.write_text("a = zeros(10**8)\nb = a + 1\nc = b * 2\nL = sum(c * b)\n")
    limit = 1_500_000  # KiB of address space: numpy and one 763 MiB array at most
    done = subprocess.run(
        [
            "sh",
            "-c",
            f'ulimit -v {limit} && exec "$0" -m autograd_cli eval "$1" -f json',
            sys.executable,
            str(f),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if "ulimit" in done.stderr or "Cannot allocate" in done.stderr:
        pytest.skip(f"this shell cannot limit memory: {done.stderr.strip()}")
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert re.search(
        r"big\.expr:[234]:5: error: ran out of memory in the (forward|backward) "
        r"pass, computing an array of shape \(100000000,\) \(762\.9 MiB\)",
        done.stderr,
    ), done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["fit", "{mlp}", "--residuals", "{name}"],
        ["fit", "{mlp}", "--of", "{name}"],
        ["eval", "{mlp}", "--of", "{name}"],
        ["eval", "{mlp}", "--wrt", "{name}"],
        ["explain", "{mlp}", "--wrt", "{name}"],
        ["hessian", "{mlp}", "--wrt", "{name}"],
        ["jacobian", "{mlp}", "--mode", "forward", "--wrt", "{name}"],
        ["functions", "{name}"],
    ],
)
def test_an_option_s_control_characters_are_escaped_in_its_error(tmp_path, args):
    # An --of or --wrt holding ESC must not colour or rewrite the terminal.
    mlp = str(ROOT / "examples" / "mlp.expr")
    name = "x\x1b[31m\nforged: ok\r"
    result = CliRunner().invoke(app, [a.format(mlp=mlp, name=name) for a in args])
    assert result.exit_code == 1 and result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert "x\\x1b[31m\\nforged: ok\\r" in first
    assert not any(c in result.stderr for c in "\x1b\r")
    assert "\nforged" not in result.stderr


def test_a_long_out_name_is_cut_in_its_error(tmp_path):
    name = str(tmp_path / "no-such-folder" / ("a" * 100_000))
    fit = ["fit", str(ROOT / "examples" / "mlp.expr"), "--steps", "1", "--out", name]
    result = CliRunner().invoke(app, fit)
    assert result.exit_code == 74
    (line,) = result.stderr.splitlines()
    assert line.startswith("autograd-cli: error: cannot write --out ")
    assert "characters cut" in line and len(line) < 500


def test_a_long_message_s_cut_counts_the_escaped_characters():
    # Escaped first, then cut: the count said is of what the escapes
    # would have shown, and the message stays within its width.
    given = "--of " + "\x1b" * 1000 + " in model.expr"
    message = ExprError(given).message
    cut = re.search(r"… \(([0-9,]+) characters cut\) …", message)
    assert cut and "\x1b" not in message
    shown = len(message) - len(cut.group(0))
    assert shown + int(cut.group(1).replace(",", "")) == len(display_path(given))
    assert len(message) <= MESSAGE_WIDTH + len(cut.group(0))
