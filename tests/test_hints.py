"""Suggestions for people who bring names and notation from numpy, PyTorch
or maths: the alias table, the hints for characters the language lacks, and
a "did you mean" that offers no wrong name."""

import pytest

from autograd_cli.errors import ExprError, Source
from autograd_cli.functions import FUNCTIONS
from autograd_cli.hints import ALIASES, alias_hint, character_hint
from autograd_cli.model import edit_distance, function_hint, suggest


def error_of(text):
    from autograd_cli.compiling import load

    with pytest.raises(ExprError) as info:
        load(Source("t.expr", text))
    return info.value


@pytest.mark.parametrize(
    "name, want",
    [
        ("ln", "did you mean 'log'?"),
        ("amax", "did you mean 'max'?"),
        ("amin", "did you mean 'min'?"),
        ("absolute", "did you mean 'abs'?"),
        ("clamp", "did you mean 'clip'?"),
        ("expit", "did you mean 'sigmoid'?"),
        ("matmul", "write a @ b or dot(a, b)"),
        ("mm", "write a @ b or dot(a, b)"),
        ("power", "write x ** y"),
        ("pow", "write x ** y"),
        ("square", "write x ** 2"),
    ],
)
def test_names_from_elsewhere_get_their_counterpart(name, want):
    err = error_of(f"a = 2\nb = {name}(a, a)")
    assert err.message.startswith(f"unknown function '{name}'")
    assert want in err.message
    assert (err.span.line, err.span.column) == (2, 5)


@pytest.mark.parametrize(
    "name, target",
    [
        ("arctan", "atan"),
        ("arcsin", "asin"),
        ("arccos", "acos"),
        ("arcsinh", "asinh"),
        ("arccosh", "acosh"),
        ("arctanh", "atanh"),
        ("arctan2", "atan2"),
        ("concatenate", "concat"),
        ("cat", "concat"),
        ("sgn", "sign"),
    ],
)
def test_an_alias_names_its_function_once_the_language_has_it(name, target):
    assert alias_hint(name, {target: None}) == f" (did you mean '{target}'?)"
    # A counterpart the language lacks is not offered (nor is a near spelling).
    assert alias_hint(name, {}) == ""
    assert function_hint(name, {"tan": None, "sin": None, "cos": None, "clip": None}) == ""


def test_the_alias_targets_are_functions_of_the_language():
    missing = sorted({t for t in ALIASES.values() if t.isidentifier()} - set(FUNCTIONS))
    if missing:
        pytest.skip(f"not functions of the language yet: {', '.join(missing)}")
    for name, target in ALIASES.items():
        if target.isidentifier():
            assert function_hint(name, FUNCTIONS) == f" (did you mean '{target}'?)"


def test_no_alias_shadows_a_function():
    assert not set(ALIASES) & set(FUNCTIONS)


@pytest.mark.parametrize(
    "name, names",
    [
        ("matmul", ["maximum", "minimum", "max", "mean"]),
        ("arctan", ["tan", "atan2x"]),
        ("mm", ["min", "max"]),
        ("a", ["b", "c"]),
        ("cumprod", ["cumsum"]),
        ("einsum", ["sin", "sum"]),
        ("frobnicate", list(FUNCTIONS)),
    ],
)
def test_no_far_fetched_suggestion(name, names):
    assert suggest(name, names) == ""


@pytest.mark.parametrize(
    "name, names, want",
    [
        ("b3", ["b1", "b2"], "b1"),
        ("alhpa", ["a", "alpha"], "alpha"),
        ("sigmoud", list(FUNCTIONS), "sigmoid"),
        ("softmx", list(FUNCTIONS), "softmax"),
        ("mena", list(FUNCTIONS), "mean"),
        ("lgo", list(FUNCTIONS), "log"),
        ("reshap", list(FUNCTIONS), "reshape"),
        ("learning_rte", ["lr", "learning_rate"], "learning_rate"),
    ],
)
def test_typos_are_still_caught(name, names, want):
    assert suggest(name, names) == f" (did you mean '{want}'?)"


def test_the_closest_wins_over_the_first():
    assert suggest("maximun", ["minimum", "maximum"]) == " (did you mean 'maximum'?)"


@pytest.mark.parametrize(
    "a, b, distance",
    [
        ("", "", 0),
        ("abc", "abc", 0),
        ("abc", "acb", 1),
        ("abc", "ab", 1),
        ("ab", "abc", 1),
        ("kitten", "sitting", 3),
        ("matmul", "maximum", 3),
        ("ca", "abc", 3),
    ],
)
def test_edit_distance(a, b, distance):
    assert edit_distance(a, b, 99) == distance
    assert edit_distance(b, a, 99) == distance
    assert edit_distance(a, b, 2) == min(distance, 2)


@pytest.mark.parametrize(
    "text, column, want",
    [
        ("x = 2 ^ 3", 7, "write ** for a power"),
        ("W = [[1, 2], [3, 4]]\ny = sum(W.T)", 10, "write transpose(W) for W.T"),
        ("y = np.exp(2)", 7, "called by their name alone: exp(...)"),
        ("y = torch.tanh(2)", 10, "called by their name alone: tanh(...)"),
        ("x = 1\ny = x.sum()", 6, "not as methods: sum(x)"),
        ("x = 1\ny = x.clip(0, 1)", 6, "not as methods: clip(x, ...)"),
    ],
)
def test_characters_from_elsewhere_get_what_to_write(text, column, want):
    err = error_of(text)
    assert err.message.startswith("unexpected character")
    assert want in err.message
    assert (err.span.line, err.span.column) == (text.count("\n") + 1, column)


@pytest.mark.parametrize("text", ["x = 1 $ 2", "x = 1 .", "x = [1, 2].", "x = 2 . 3"])
def test_other_characters_get_no_hint(text):
    err = error_of(text)
    assert ";" not in err.message, err.message


def test_character_hint_at_the_ends_of_the_text():
    assert character_hint("W.T", 1) == "; write transpose(W) for W.T"
    assert character_hint(".", 0) == ""
    assert character_hint("x.", 1) == ""
    assert character_hint("^", 0).startswith("; write **")
