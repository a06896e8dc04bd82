"""How a graph keeps its nodes: columns of numbers, not an object a node.

A long line is millions of nodes; what each takes decides the memory of a
run.  The argument columns must still give every reader the tuple of ids it
asks for, and the graph a long line makes must stay small.
"""

import random
import tracemalloc

import pytest
from test_scale import BRACKETED, graph_of

from autograd_cli import compiler
from autograd_cli.compiling import load
from autograd_cli.core import CONST, LEAF, Args, Graph
from autograd_cli.errors import Source

from programs import random_scalar_program


@pytest.mark.parametrize("seed", range(20))
def test_the_argument_columns_give_back_what_was_added(seed):
    rng = random.Random(seed)
    added = []
    args = Args()
    for i in range(200):
        a = tuple(rng.randrange(max(i, 1)) for _ in range(rng.choice([0, 1, 2, 2, 3, 5])))
        args.append(a)
        added.append(a)
    assert len(args) == len(added)
    assert [args[i] for i in range(len(added))] == added
    assert list(args) == added
    assert [args[-k] for k in range(1, 6)] == [added[-k] for k in range(1, 6)]
    cut = rng.randrange(len(added))
    args.truncate(cut)
    assert list(args) == added[:cut]
    for a in added[cut:]:  # and it grows again from there
        args.append(a)
    assert list(args) == added


@pytest.mark.parametrize("i", [3, -4, 10**6])
def test_an_index_past_the_nodes_is_an_index_error(i):
    args = Args()
    for a in [(), (0,), (0, 1)]:
        args.append(a)
    with pytest.raises(IndexError):
        args[i]


def test_a_graph_truncated_forgets_its_last_nodes():
    graph = Graph()
    x = graph.add(LEAF, (graph.add(CONST, (), None, 1.0),))
    mark = len(graph)
    graph.add(CONST, (), None, 2.0)
    graph.add(LEAF, (x,))
    graph.truncate(mark)
    assert (len(graph), len(graph.args), len(graph.requires)) == (mark, mark, mark)
    assert list(graph.args) == [(), (0,)]
    assert list(graph.requires) == [0, 1]


def graph_bytes_per_node(n):
    text = "param x = 1.5\nL = " + " + ".join(["x*2"] * n) + "\n"
    load(Source("t.expr", text), keep_exprs=False)  # warm: the parser's records of the line
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        model = load(Source("t.expr", text), keep_exprs=False)
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return used / len(model.graph)


def test_a_long_lines_graph_takes_few_bytes_a_node():
    # An argument tuple and an int object a node took ~160 bytes a node.
    assert graph_bytes_per_node(20_000) < 120


@pytest.mark.parametrize("block", [1, 2, 3, 5])
@pytest.mark.parametrize("seed", range(8))
def test_nodes_waiting_for_their_block_get_their_spans_widened(monkeypatch, block, seed):
    """The compiler packs a block of nodes' numbers into the arrays at a
    time, and brackets widen a node's span after it is made, whether it is
    packed yet or still waiting: small blocks put the boundary everywhere."""
    text = BRACKETED if seed == 0 else random_scalar_program(random.Random(seed))
    whole = graph_of(load(Source("t.expr", text)))
    monkeypatch.setattr(compiler, "_BLOCK", block)
    assert graph_of(load(Source("t.expr", text), keep_exprs=False)) == whole
