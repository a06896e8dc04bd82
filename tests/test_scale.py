"""Long input: a long line, a long file with an error at its end.

Parsing keeps a bounded number of tokens in hand whatever the length of a
line; an error at the end of a long file is found in one pass over it (the
streaming load does not start again on the whole-file path, and Lark is not
run over the file), and says what the whole-file path says.
"""

import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from autograd_cli import compiler, compiling, lalr, parser, running
from autograd_cli.compiling import load
from autograd_cli.errors import ExprError, Source
from autograd_cli.sources import Access

from programs import random_scalar_program

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def long_line(n, term="x"):
    return "param x = 1.5\ny = " + " + ".join([term] * n) + "\n"


def error_of(text, keep_exprs):
    try:
        load(Source("t.expr", text), keep_exprs=keep_exprs)
    except ExprError as e:
        return (
            e.message,
            e.span.start,
            e.span.end,
            [(span.start, span.end, note) for span, note in e.notes],
        )
    return None


@pytest.mark.parametrize(
    "text",
    [
        "a = 1\nb = a + q\nq = 2\n",  # used before it is bound
        "a = 1\nb = a + q\nc = (\n",  # ... but a syntax error comes first
        "a = 1\nb = c2 + 1\nc1 = 2\n",  # undefined, with a suggestion
        "a = 1\na = 2\n",  # bound twice: a note at the first
        "pi = 1\nb = (\n",
        "a = ones(3)\nb = a @ ones(2)\nc = b +\n",
        "a = ones(3)\nb = a @ ones(2)\n",
        "a = 1\nb = a + q\nq = 2\nq = 3\n",
        "x = zeros(10**9)\ny = x\n",  # over --max-elements
        "",
        "# nothing\n",
        # Compiled as the rules reduce, an error is found before the brackets
        # around its expression are read: its span still takes them in.
        "a = ones(3)\nb = (a @ ones(2))\n",
        "a = ones(3)\nb = ((a @ ones(2))) * 2\n",
        "x = (zeros(10**9))\n",
        "a = sum(ones(3), axis=(1.5))\n",
        "a = [1, (ones(2))]\n",
        "b = (q)\nq = 1\n",
        "b = ((b))\n",
        "a = (ones(3) @ ones(2))\nz = +\n",
        # The name is checked before the right side, as the whole-file path does.
        "a = 1\na = q\n",
        "pi = (q)\n",
        "a = 1\na = (ones(3) @ ones(2))\nq = 1\n",
        # A misplaced argument is a syntax error, found while parsing.
        "a = 1\nb = q + f(a=1, 2)\n",
    ],
)
def test_streaming_load_reports_what_the_whole_file_path_reports(text):
    streamed = error_of(text, keep_exprs=False)  # eval's path
    assert streamed is not None
    assert streamed == error_of(text, keep_exprs=True)


def count_compiled(monkeypatch):
    calls = []
    check_name = compiler.Compiler.check_name

    def counted(self, s):
        calls.append(s.name)
        return check_name(self, s)

    monkeypatch.setattr(compiler.Compiler, "check_name", counted)
    monkeypatch.setattr(parser, "_lark", lambda: pytest.fail("Lark's parser was asked"))
    return calls


def test_a_syntax_error_at_the_end_of_a_long_file_takes_one_pass(monkeypatch):
    calls = count_compiled(monkeypatch)
    lines = ["x0 = 1"] + [f"x{i} = x{i - 1} + 1" for i in range(1, 3000)]
    text = "\n".join(lines) + "\ny = x2999 + * 2\n"
    with pytest.raises(ExprError, match="expected an expression") as caught:
        load(Source("t.expr", text), keep_exprs=False)
    assert caught.value.span.line == 3001
    assert len(calls) == 3000  # each statement compiled once


def test_a_compile_error_early_in_a_long_file_stops_compiling(monkeypatch):
    calls = count_compiled(monkeypatch)
    lines = ["x0 = 1", "y = x0 + q"] + [f"x{i} = x{i - 1} + 1" for i in range(1, 3000)]
    with pytest.raises(ExprError, match="undefined name 'q'"):
        load(Source("t.expr", "\n".join(lines) + "\n"), keep_exprs=False)
    # x0, then y, whose name is still checked; the rest is only parsed (what
    # it binds is noted, for "used before it is bound").
    assert calls == ["x0", "y"]


def test_a_long_line_is_parsed_a_few_tokens_at_a_time(monkeypatch):
    most = []
    steps = lalr.Parser._steps

    def watched(self, states, values, tokens, kinds, record=None):
        most.append(len(tokens))
        return steps(self, states, values, tokens, kinds, record)

    monkeypatch.setattr(lalr.Parser, "_steps", watched)
    compiling._builder.parser = None  # a parser of its own: nothing replayed from earlier
    try:
        model = load(Source("t.expr", long_line(5_000, "(x * 2)")), keep_exprs=False)
    finally:
        compiling._builder.parser = None
    assert len(model.graph.ops) > 10_000
    assert most and max(most) <= lalr.LONG


GROWTH = """
import resource, sys
from autograd_cli.errors import Source
from autograd_cli.parser import parse
text = "param x = 1.5\\ny = " + " + ".join(["x"] * int(sys.argv[1])) + "\\n"
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
statements = parse(Source("t.expr", text))
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)
"""


def test_a_long_line_takes_memory_for_its_tree_only():
    n = 100_000
    done = subprocess.run(
        [sys.executable, "-c", GROWTH, str(n)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    # Its expression tree takes ~400 bytes a term; holding every token's
    # regex match until the end of the line took ~1,300.
    assert int(done.stdout) / n < 800


def test_a_long_line_loads_in_linear_time():
    def seconds(n):
        text = long_line(n, "1")  # constants: folded as they come
        start = time.process_time()
        load(Source("t.expr", text), keep_exprs=False)
        return time.process_time() - start

    seconds(1000)  # warm: the parser's tables, numpy
    small, large = seconds(3_000), seconds(30_000)
    assert large / small < 25, (small, large)


def test_deep_nesting_and_a_long_sum_still_evaluate():
    n = 10_000
    text = (
        "param x = 2\ny = "
        + "(" * n
        + "x"
        + " + 1)" * n
        + "\nL = y + "
        + " + ".join(["x"] * n)
        + "\n"
    )
    report = running.run(load(Source("t.expr", text), keep_exprs=False), every_node=False)
    assert float(report.values["L"]) == 2 + n + 2 * n
    assert float(report.grads["x"]) == 1 + n


def graph_of(model):
    """Everything the commands read of a model's graph and bindings."""
    g = model.graph
    return (
        g.ops,
        list(g.args),
        [sorted(a.items(), key=str) for a in g.attrs],
        g.requires,
        [v if v is None else (np.asarray(v).dtype, np.asarray(v).tobytes()) for v in g.values],
        model.shapes,
        model.labels,
        list(model.owners),
        [(s.start, s.end) for s in (model.spans[i] for i in range(len(model.spans)))],
        [
            (
                b.name,
                b.kind,
                b.node,
                b.expr,
                b.statement.name_span.start,
                b.statement.root.start,
                b.statement.root.end,
            )
            for b in model.bindings
        ],
    )


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.expr")))
def test_compiling_as_rules_reduce_makes_the_whole_file_paths_graph(name):
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    access = Access.of_file(str(EXAMPLES / name))  # its loads read beside it
    streamed = load(Source(name, text), keep_exprs=False, access=access)
    assert graph_of(streamed) == graph_of(load(Source(name, text), access=access))


BRACKETED = """param w = [[0.5, -1], [(2), 0.25]]
x = ((([1, 2])))
h = (tanh((w @ x)) + (pi)) * ((2))
s = sum((h), axis=(0)) + (h[(1)]) + reshape((h), (2), 1)[0, 0]
alias = ((s))
L = (((alias) ** 2)) / (-(3)) + mean(((w)))
"""


@pytest.mark.parametrize("seed", range(40))
def test_compiling_as_rules_reduce_keeps_every_span(seed):
    """Brackets are read after what they hold is compiled: the spans of its
    nodes are widened then, as the whole-file path has them."""
    text = BRACKETED if seed == 0 else random_scalar_program(random.Random(seed))
    streamed = load(Source("t.expr", text), keep_exprs=False)
    assert graph_of(streamed) == graph_of(load(Source("t.expr", text)))


def mixed_line(rng, n):
    """One long line of terms of every kind a long line is made of: ops on
    scalars and on arrays of one shape or of shapes that broadcast,
    constants folded, functions of one array, negations, brackets."""
    atoms = ["x", "y", "v", "w", "2", "0.5", "(x)", "(-v)", "pi", "c", "[1, 2, 3]"]
    out = []
    for _ in range(n):
        a, b = rng.choice(atoms), rng.choice(atoms)
        out.append(
            rng.choice(
                [
                    f"{a} {rng.choice(['+', '-', '*', '/', '**'])} {b}",
                    f"{rng.choice(['sin', 'exp', 'tanh', 'abs', 'sqrt'])}({a})",
                    f"-{a}",
                    f"-({a} * {b})",
                    f"(({a}) - {b})",
                    f"maximum({a}, {b})",
                    f"sum({a} * v)",
                ]
            )
        )
    return (
        "param x = 0.5\nparam y = -1.25\nparam v = [0.5, 1, 2]\nw = [3, 2, 1]\nc = 2\n"
        "L = sum(" + " + ".join(out) + ")\n"
    )


@pytest.mark.parametrize("seed", range(30))
def test_a_long_line_of_every_kind_makes_the_whole_file_paths_graph(seed):
    """The common nodes of a long line are compiled by shortcuts as their
    rules reduce (`Compiler.number`, `Compiler.elementwise`): the graph is
    the one the whole-file path makes, node for node and span for span."""
    text = mixed_line(random.Random(seed), 60)
    streamed = load(Source("t.expr", text), keep_exprs=False)
    assert graph_of(streamed) == graph_of(load(Source("t.expr", text)))


def test_a_line_of_many_blocks_makes_the_whole_file_paths_graph():
    """Past `_BLOCK` nodes the waiting records go into the columns while
    the line is read: a bracket closed just after its node moved there
    widens it there (here every node is bracketed: each sum, each term)."""
    terms = ["(x * y)", "(-x)", "(sin(y))", "(x ** 2)"] * 400
    line = "(" * len(terms) + "x" + "".join(f" + {term})" for term in terms)
    text = "param x = 0.5\nparam y = 2\nL = " + line + "\n"
    streamed = load(Source("t.expr", text), keep_exprs=False)
    assert len(streamed.graph) > 2 * compiler._BLOCK
    assert graph_of(streamed) == graph_of(load(Source("t.expr", text)))


@pytest.mark.parametrize(
    "term",
    [
        "sin(x, x)",
        "sin(y=x)",
        'sin("a")',
        "[1, 2] + [1, 2, 3]",
        "-[1, 2] * ones(3)",
        "sin(zz)",
        "x * later",
        "sinn(x)",
        "x(2)",
        "(v @ [1, 2])",
        "zeros(10**9) * 2",
    ],
)
def test_an_error_in_a_long_line_is_the_whole_file_paths(term):
    terms = ["x * 2", "sin(x)", "-(x)", "v - 1"] * 30
    terms[57] = term
    text = "param x = 0.5\nparam v = [1, 2, 3]\nL = " + " + ".join(terms) + "\nlater = 1\n"
    streamed = error_of(text, keep_exprs=False)
    assert streamed is not None
    assert streamed == error_of(text, keep_exprs=True)


VARIED = """
import random, resource, sys
from autograd_cli.errors import Source
from autograd_cli.compiling import load
rng = random.Random(7)
terms = ["x*2", "sin(x)", "(x - 1.5)**2", "x/3.25", "exp(-x)"]
n = int(sys.argv[1])
text = "param x = 0.5\\nL = " + " + ".join(rng.choice(terms) for _ in range(n)) + "\\n"
load(Source("w.expr", "param x = 1\\ny = sin(x) * 2 + (x - 1)\\n"), keep_exprs=False)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
model = load(Source("t.expr", text), keep_exprs=False)
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
print(grown / len(model.graph))
"""


def test_a_long_line_of_varied_terms_takes_memory_for_its_graph_only():
    """eval compiles as the rules reduce, and the parser keeps no record of
    the pieces of a line it will not see again: what a long line takes is
    its graph's (~80 bytes a node).  Holding the statement's tree until
    its end, and every piece's record, took over 500 bytes a node more."""
    done = subprocess.run(
        [sys.executable, "-c", VARIED, "60000"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) < 300
