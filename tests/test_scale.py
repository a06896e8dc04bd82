"""Long input: a long line, a long file with an error at its end.

Parsing keeps a bounded number of tokens in hand whatever the length of a
line; an error at the end of a long file is found in one pass over it (the
streaming load does not start again on the whole-file path, and Lark is not
run over the file), and says what the whole-file path says.
"""

import subprocess
import sys
import time

import pytest

from autograd_cli import compiling, lalr, parser, running
from autograd_cli.errors import ExprError, Source
from autograd_cli.compiling import load


def long_line(n, term="x"):
    return "param x = 1.5\ny = " + " + ".join([term] * n) + "\n"


def error_of(text, keep_exprs):
    try:
        load(Source("t.expr", text), keep_exprs=keep_exprs)
    except ExprError as e:
        return (e.message, e.span.start, e.span.end,
                [(span.start, span.end, note) for span, note in e.notes])
    return None


@pytest.mark.parametrize("text", [
    "a = 1\nb = a + q\nq = 2\n",                 # used before it is bound
    "a = 1\nb = a + q\nc = (\n",                 # ... but a syntax error comes first
    "a = 1\nb = c2 + 1\nc1 = 2\n",               # undefined, with a suggestion
    "a = 1\na = 2\n",                            # bound twice: a note at the first
    "pi = 1\nb = (\n",
    "a = ones(3)\nb = a @ ones(2)\nc = b +\n",
    "a = ones(3)\nb = a @ ones(2)\n",
    "a = 1\nb = a + q\nq = 2\nq = 3\n",
    "x = zeros(10**9)\ny = x\n",                # over --max-elements
    "", "# nothing\n",
])
def test_streaming_load_reports_what_the_whole_file_path_reports(text):
    streamed = error_of(text, keep_exprs=False)       # eval's path
    assert streamed is not None
    assert streamed == error_of(text, keep_exprs=True)


def count_compiled(monkeypatch):
    calls = []
    statement = compiling.Compiler.statement

    def counted(self, s):
        calls.append(s.name)
        return statement(self, s)

    monkeypatch.setattr(compiling.Compiler, "statement", counted)
    monkeypatch.setattr(parser, "_lark", lambda: pytest.fail("Lark's parser was asked"))
    return calls


def test_a_syntax_error_at_the_end_of_a_long_file_takes_one_pass(monkeypatch):
    calls = count_compiled(monkeypatch)
    lines = ["x0 = 1"] + [f"x{i} = x{i - 1} + 1" for i in range(1, 3000)]
    text = "\n".join(lines) + "\ny = x2999 + * 2\n"
    with pytest.raises(ExprError, match="expected an expression") as caught:
        load(Source("t.expr", text), keep_exprs=False)
    assert caught.value.span.line == 3001
    assert len(calls) == 3000               # each statement compiled once


def test_a_compile_error_early_in_a_long_file_is_compiled_once_more(monkeypatch):
    calls = count_compiled(monkeypatch)
    lines = ["x0 = 1", "y = x0 + q"] + [f"x{i} = x{i - 1} + 1" for i in range(1, 3000)]
    with pytest.raises(ExprError, match="undefined name 'q'"):
        load(Source("t.expr", "\n".join(lines) + "\n"), keep_exprs=False)
    # x0, y, then y again knowing what the rest of the file binds.
    assert calls == ["x0", "y", "y"]


def test_a_long_line_is_parsed_a_few_tokens_at_a_time(monkeypatch):
    most = []
    steps = lalr.Parser._steps

    def watched(self, states, values, tokens, kinds, record=None):
        most.append(len(tokens))
        return steps(self, states, values, tokens, kinds, record)

    monkeypatch.setattr(lalr.Parser, "_steps", watched)
    parser._fast = None         # a parser of its own: nothing replayed from earlier tests
    try:
        model = load(Source("t.expr", long_line(5_000, "(x * 2)")), keep_exprs=False)
    finally:
        parser._fast = None
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
    done = subprocess.run([sys.executable, "-c", GROWTH, str(n)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # Its expression tree takes ~400 bytes a term; holding every token's
    # regex match until the end of the line took ~1,300.
    assert int(done.stdout) / n < 800


def test_a_long_line_loads_in_linear_time():
    def seconds(n):
        text = long_line(n, "1")              # constants: folded as they come
        start = time.process_time()
        load(Source("t.expr", text), keep_exprs=False)
        return time.process_time() - start

    seconds(1000)                             # warm: the parser's tables, numpy
    small, large = seconds(3_000), seconds(30_000)
    assert large / small < 25, (small, large)


def test_deep_nesting_and_a_long_sum_still_evaluate():
    n = 10_000
    text = "param x = 2\ny = " + "(" * n + "x" + " + 1)" * n + "\nL = y + " + \
        " + ".join(["x"] * n) + "\n"
    report = running.run(load(Source("t.expr", text), keep_exprs=False), every_node=False)
    assert float(report.values["L"]) == 2 + n + 2 * n
    assert float(report.grads["x"]) == 1 + n
