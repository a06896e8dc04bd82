"""eval's JSON is written in pieces (render.report_json); the pieces make
exactly the document render.report_dict describes, in both layouts."""

from __future__ import annotations

import json
import random

import pytest

from autograd_cli.errors import Source
from autograd_cli.program import load, run
from autograd_cli.render import report_dict, report_json, to_json

from common import ROOT
from programs import random_scalar_program

EXAMPLES = sorted((ROOT / "examples").glob("*.expr"))
ODD = [
    "param x = 2\ny = x / 0\nL = y * 0",                       # inf, nan, warnings
    "param w = [1, -2]\nv = log(w)\nL = sum(v)",               # nan inside an array
    'param x = 1\ny = x  # a comment\nz = (x +\n  y)\nL = z',    # multi-line expr
    "param x = 3\nL = x",
]


def _both(text, name="t.expr", wrt=None):
    report = run(load(Source(name, text)), every_node=False)
    for compact in (False, True):
        got = "".join(report_json(report, name, wrt, compact=compact))
        want = to_json(report_dict(report, name, wrt), compact=compact)
        assert got == want, (text, compact)
        json.loads(got)  # strict JSON


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples(path):
    _both(path.read_text(), str(path))


@pytest.mark.parametrize("text", ODD)
def test_odd_programs(text):
    _both(text)


@pytest.mark.parametrize("seed", range(10))
def test_random_programs(seed):
    _both(random_scalar_program(random.Random(seed)))


def test_wrt_and_odd_file_names():
    text = (ROOT / "examples" / "seed.expr").read_text()
    _both(text, wrt={"w", "L"})
    _both(text, name='dir/"nodes": {}.expr')
    _both(text, name='"nodes":{}')


def test_many_bindings_span_several_pieces():
    text = "param p = 0.5\n" + "".join(f"x{i} = p * {i}\n" for i in range(10000))
    report = run(load(Source("big.expr", text)), every_node=False)
    pieces = list(report_json(report, "big.expr"))
    assert len(pieces) > 3
    assert "".join(pieces) == to_json(report_dict(report, "big.expr"), compact=False)


def test_set_values_named_like_keys():
    text = "param nodes = 1\nwarnings = 2\nL = nodes * warnings\n"
    report = run(load(Source("t.expr", text), sets=[("nodes", Source("--set", "nodes = 3"))]),
                 every_node=False)
    for compact in (False, True):
        got = "".join(report_json(report, "t.expr", compact=compact))
        assert got == to_json(report_dict(report, "t.expr"), compact=compact)
        assert json.loads(got)["set"] == {"nodes": 3.0}
