"""eval's JSON is written in pieces (jsonout.report_json); the pieces make
exactly the document jsonout.report_dict describes, in both layouts."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import numpy as np
import pytest

from autograd_cli import jsonout
from autograd_cli.compiling import load
from autograd_cli.errors import Source
from autograd_cli.jsonout import json_array, json_array_pieces, report_dict, report_json, to_json
from autograd_cli.running import run
from autograd_cli.sources import Access

from common import ROOT
from programs import random_scalar_program

EXAMPLES = sorted((ROOT / "examples").glob("*.expr"))
ODD = [
    "param x = 2\ny = x / 0\nL = y * 0",  # inf, nan, warnings
    "param w = [1, -2]\nv = log(w)\nL = sum(v)",  # nan inside an array
    "param x = 1\ny = x  # a comment\nz = (x +\n  y)\nL = z",  # multi-line expr
    "param x = 3\nL = x",
]


def _both(text, name="t.expr", wrt=None, access=None):
    report = run(load(Source(name, text), access=access), every_node=False)
    for compact in (False, True):
        got = "".join(report_json(report, name, wrt, compact=compact))
        want = to_json(report_dict(report, name, wrt), compact=compact)
        assert got == want, (text, compact)
        json.loads(got)  # strict JSON


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples(path):
    _both(path.read_text(), str(path), access=Access.of_file(str(path)))


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
    report = run(
        load(Source("t.expr", text), sets=[("nodes", Source("--set", "nodes = 3"))]),
        every_node=False,
    )
    for compact in (False, True):
        got = "".join(report_json(report, "t.expr", compact=compact))
        assert got == to_json(report_dict(report, "t.expr"), compact=compact)
        assert json.loads(got)["set"] == {"nodes": 3.0}


# ------------------------------------------------------- large arrays, in blocks

SHAPES = [
    (),
    (0,),
    (1,),
    (13,),
    (0, 3),
    (3, 0),
    (6, 0),
    (2, 0, 4),
    (5, 4, 0, 2),
    (3, 1, 0),
    (7, 3),
    (2, 3, 4),
    (4, 1, 5),
    (1, 1, 1, 7),
    (3, 5, 2, 2),
    (2,) * 7,
    (1,) * 32,
]


def _arrays():
    """Arrays of every shape above, in each dtype, finite and not, and views."""
    rng = np.random.default_rng(7)
    for shape in SHAPES:
        for dtype in (np.float64, np.float32):
            a = np.asarray(rng.standard_normal(shape) * 1e3, dtype=dtype)
            yield a
            if a.size:
                odd = a.copy().reshape(-1)
                odd[::3], odd[1::4], odd[2::5], odd[3::7] = np.nan, np.inf, -np.inf, -0.0
                yield odd.reshape(shape)
            yield np.broadcast_to(np.asarray(0.1, dtype), shape)
    m = rng.standard_normal((6, 8))
    yield from (m.T, m[::2, 1::3], m[:, ::-1])


@pytest.mark.parametrize("compact", [False, True])
def test_array_in_blocks_is_the_encoders_text(compact):
    encode = jsonout.encoder(compact)
    count = 0
    for a in _arrays():
        want = encode(json_array(a))
        for block in (1, 2, 3, 5, 8, 64):
            pieces = list(json_array_pieces(a, compact, block))
            assert "".join(pieces) == want, (a.shape, a.dtype, block)
            count += 1
    assert count > 500


def test_large_arrays_through_report_json(monkeypatch):
    monkeypatch.setattr(jsonout, "STREAM_ELEMENTS", 7)
    text = (
        "param w = randn(4, 3, 5, seed=1)\nx = zeros(0, 40)\ny = zeros(30, 0)\n"
        "v = log(w - 0.5)\nparam s = 2\nL = sum(exp(v) * s) + sum(x) + sum(y)\n"
    )
    _both(text)
    _both(text, wrt={"w", "y"})


GROWTH = """
import resource, sys
from autograd_cli.errors import Source
from autograd_cli.compiling import load
from autograd_cli.running import run
from autograd_cli.jsonout import report_json
report = run(load(Source("big.expr", "x = zeros(250000)\\nL = sum(x)\\n")), every_node=False)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
longest = max(map(len, report_json(report, "big.expr")))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) * 1024, longest)
"""


def test_memory_of_a_large_array_is_a_few_blocks():
    # In a process of its own: the peak resident size cannot be reset.
    done = subprocess.run(
        [sys.executable, "-c", GROWTH], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    growth, longest = map(int, done.stdout.split())
    # The value and the gradient as lists of Python floats would take 8 MB
    # each, and their text 1.25 MB each.
    assert growth < 8e6, growth
    assert longest < 2 * jsonout.PIECE_CHARS
