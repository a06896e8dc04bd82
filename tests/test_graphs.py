"""The graph picture (autograd_cli/graphs.py): JSON document, DOT, Mermaid, tree.

DOT is fed to Graphviz's `dot -Tsvg` where Graphviz is installed (skipped
otherwise: CI installs it).
"""

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from autograd_cli import graph_tree, graphs
from autograd_cli.compiling import load
from autograd_cli.errors import Source
from autograd_cli.jsonout import head_dict, to_json
from autograd_cli.render import fmt_array, fmt_shape_short
from autograd_cli.running import run
from autograd_cli.sources import Access

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.expr"))
DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(DOT is None, reason="Graphviz (dot) is not installed")

# Node and edge counts, checked by hand against each file.
COUNTS = {
    "bond": (13, 13),
    "danwood": (10, 9),
    "logistic": (11, 11),
    "misra1a": (16, 15),
    "mlp": (15, 14),
    "projectile": (11, 12),
    "seed": (17, 21),
    "softmax": (12, 11),
}

# Names Mermaid and DOT could trip on, slices, non-finite numbers, an alias,
# a param computed from other names, a name that looks like a generated id.
AWKWARD = """\
end = [1, 2, 3, 4]
style = end[1:3] * 2
class = style[::2]
o1 = sum(class)
x = o1
n7 = log(end - 3)
param p = o1 * 2
default = n7[0] + p * x + style[-1] + sum(softmax([[1, 2], [3, 4]], axis=1)[:, 0])
"""


def report_of(text, name="test.expr", target=None, dtype="float64"):
    return run(load(Source(name, text), dtype=dtype), target)


def report_file(path):
    # The file's `load`s read beside it, as on the command line.
    text, name = path.read_text(), str(path.relative_to(ROOT))
    return run(load(Source(name, text), access=Access.of_file(str(path))), None)


def chain(n):
    """A file of `n` statements, each using the one before: a graph about
    4n nodes deep."""
    lines = ["param p = 0.999", "x0 = 1"]
    lines += [f"x{k} = tanh(x{k - 1} * p + 0.001)" for k in range(1, n - 1)]
    return "\n".join(lines) + "\n"


def tree_text(report, width=100, **kw):
    buf = io.StringIO()
    graph_tree.render_tree(report, Console(file=buf, width=width, color_system=None), **kw)
    return buf.getvalue()


def expected_counts(report):
    """Counted straight from the model: every node but the constants that no
    non-leaf node uses; an edge per argument slot between shown nodes."""
    graph = report.model.graph
    n = len(graph.ops)
    used = [False] * n
    for i in range(n):
        if graph.ops[i].name != "leaf":
            for a in graph.args[i]:
                used[a] = True
    shown = [graph.ops[i].name != "const" or used[i] for i in range(n)]
    edges = sum(1 for i in range(n) if shown[i] for a in graph.args[i] if shown[a])
    return sum(shown), edges


def check_document(doc):
    ids = [node["id"] for node in doc["nodes"]]
    assert len(set(ids)) == len(ids), "ids are unique"
    position = {node_id: k for k, node_id in enumerate(ids)}
    for a, b in doc["edges"]:
        assert a in position and b in position, (a, b)
        assert position[a] < position[b], f"edge {a} -> {b} goes backwards"
    for node in doc["nodes"]:
        assert list(node) == ["id", "label", "op", "shape", "value", "grad"]
        assert isinstance(node["shape"], list)
    json.dumps(doc, allow_nan=False)  # strict JSON: non-finite numbers are strings


# ------------------------------------------------------------------ document


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_document_of_every_example(path):
    report = report_file(path)
    doc = graphs.graph_document(report)
    check_document(doc)
    assert (len(doc["nodes"]), len(doc["edges"])) == expected_counts(report)
    assert (len(doc["nodes"]), len(doc["edges"])) == COUNTS[path.stem]
    ids = {node["id"] for node in doc["nodes"]}
    for b in report.model.bindings:  # every binding is a node, named after it
        assert b.name in ids
    # The target is the last node: nothing in these files comes after it.
    assert doc["nodes"][-1]["id"] == report.target.name


def test_every_example_is_counted():
    assert {p.stem for p in EXAMPLES} == set(COUNTS)


def test_seed_document():
    report = report_file(ROOT / "examples/seed.expr")
    doc = graphs.graph_document(report)
    nodes = {node["id"]: node for node in doc["nodes"]}
    assert nodes["w"] == {
        "id": "w",
        "label": "w",
        "op": "leaf",
        "shape": [5],
        "value": [2.0, 5.0, 9.0, 7.0, 3.0],
        "grad": [-28.0, -21.0, -12.0, -23.0, -36.0],
    }
    want = {
        "b1": ("b1 = add", 23.0, -7.0),
        "b2": ("b2 = mul", 36.0, -3.0),
        "c": ("c = add", 269.0, -1.0),
        "L": ("L = sub", -254.0, 1.0),
        "a1": ("a1", 4.0, -41.0),
        "a2": ("a2", 3.0, -35.0),
    }
    for name, (label, value, grad) in want.items():
        assert (
            nodes[name]["label"],
            nodes[name]["value"],
            nodes[name]["grad"],
            nodes[name]["shape"],
        ) == (label, value, grad, [])
    labels = [node["label"] for node in doc["nodes"]]
    # The indices show their subscripts; the literals of w are folded into it.
    assert [x for x in labels if x.startswith("w[")] == [f"w[{k}]" for k in range(5)]
    consts = [node for node in doc["nodes"] if node["op"] == "const"]
    assert [(c["label"], c["value"], c["grad"]) for c in consts] == [("15", 15.0, 0.0)]
    # Anonymous nodes are n<graph index>: w[0] is the 13th node of the graph.
    assert nodes["n12"]["label"] == "w[0]" and nodes["n12"]["grad"] == -28.0
    assert ["w", "n12"] in doc["edges"] and ["c", "L"] in doc["edges"]
    assert doc["edges"].count(["w", "n12"]) == 1


def test_edge_per_argument_slot():
    doc = graphs.graph_document(report_of("x = 3\ny = x * x\n"))
    assert doc["edges"] == [["x", "y"], ["x", "y"]]
    assert doc["nodes"][0]["grad"] == 6.0


def test_awkward_names_labels_and_ids():
    report = report_of(AWKWARD)
    doc = graphs.graph_document(report)
    check_document(doc)
    assert (len(doc["nodes"]), len(doc["edges"])) == expected_counts(report)
    by_label = {node["label"]: node for node in doc["nodes"]}
    assert "end[1:3]" in by_label and "class = style[::2]" in by_label
    assert "style[-1]" in by_label and "n7[0]" in by_label
    assert by_label["x = o1"]["op"] == "pos"  # an alias keeps its form
    assert by_label["n7 = log"]["value"] == ["nan", "nan", "-inf", 0.0]
    # The param computed from o1 keeps its edge; nothing flows back through it.
    p_in = [a for a, b in doc["edges"] if b == "p"]
    assert len(p_in) == 1
    source = next(node for node in doc["nodes"] if node["id"] == p_in[0])
    assert (source["op"], source["value"], source["grad"]) == ("mul", 8.0, 0.0)
    assert ["o1", p_in[0]] in doc["edges"]


def test_generated_ids_never_collide_with_names():
    # Graph node 3 is the anonymous `a * 3`; a binding is called n3.
    report = report_of("a = 2\nn3 = a * 3 + 1\nn3_ = n3 * 2\n")
    doc = graphs.graph_document(report)
    check_document(doc)
    mul = [node for node in doc["nodes"] if node["label"] == "mul"]
    assert [node["id"] for node in mul] == ["n3__"]
    assert {"n3", "n3_"} <= {node["id"] for node in doc["nodes"]}


def test_target_in_the_middle_and_float32():
    report = report_of("x = [1, 2]\ny = sum(x * x)\nz = y * 3\n", target="y", dtype="float32")
    doc = graphs.graph_document(report)
    nodes = {node["id"]: node for node in doc["nodes"]}
    assert nodes["x"]["grad"] == [2.0, 4.0]
    assert nodes["z"]["grad"] == 0.0  # the target does not depend on z
    assert "z" not in tree_text(report)


def test_fmt_key():
    assert graphs.fmt_key((0,)) == "0"
    assert graphs.fmt_key((-1,)) == "-1"
    assert graphs.fmt_key((slice(1, 3, None),)) == "1:3"
    assert graphs.fmt_key((slice(None, None, 2),)) == "::2"
    assert graphs.fmt_key((slice(None, None, None), 0)) == ":, 0"
    assert graphs.fmt_key((slice(None, -1, -2), 1)) == ":-1:-2, 1"


# ----------------------------------------------------------------------- DOT


def run_dot(text):
    done = subprocess.run([DOT, "-Tsvg"], input=text.encode(), capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert b"<svg" in done.stdout
    assert not done.stderr.strip(), done.stderr.decode()  # no warnings either
    return done.stdout.decode()


def test_dot_shape_of_the_text():
    report = report_file(ROOT / "examples/seed.expr")
    text = graphs.to_dot(report)
    assert text.startswith("digraph ") and text.rstrip().endswith("}")
    assert "rankdir=LR" in text
    doc = graphs.graph_document(report)
    assert len(re.findall(r"^  \"[^\"]+\" -> \"[^\"]+\"", text, re.M)) == len(doc["edges"])
    for node in doc["nodes"]:
        assert f'  "{node["id"]}" [label=<' in text
    assert "[-28, -21, -12, -23, -36]" in text
    assert 'BORDER="3"' in text  # the target stands out


@needs_dot
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_dot_renders_with_graphviz(path):
    svg = run_dot(graphs.to_dot(report_file(path)))
    assert svg.count('class="node"') == COUNTS[path.stem][0]
    assert svg.count('class="edge"') == COUNTS[path.stem][1]


@needs_dot
def test_dot_escapes_awkward_text():
    report = report_of(AWKWARD, name='we<ird"&\\name\n.expr')
    text = graphs.to_dot(report)
    svg = run_dot(text)
    assert "we&lt;ird&quot;&amp;" in svg  # the file name, escaped through to SVG
    assert "style = w" not in text and "end[1:3]" in text
    assert "style=dashed" in text  # into the param: no gradient back


# ------------------------------------------------------------------- Mermaid

NODE_LINE = re.compile(r'^  v_\w+(\[\["|\["|\(\["|\(")[^"]*("\]\]|"\]|"\]\)|"\)):::\w+$')


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_mermaid_of_every_example(path):
    report = report_file(path)
    text = graphs.to_mermaid(report)
    doc = graphs.graph_document(report)
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    edges = [line for line in lines if "-->" in line]
    assert len(edges) == len(doc["edges"])
    assert edges == [f"  v_{a} --> v_{b}" for a, b in doc["edges"]]
    nodes = [line for line in lines if ":::" in line]
    assert len(nodes) == len(doc["nodes"])
    for line in nodes:
        assert NODE_LINE.match(line), line


def test_mermaid_escapes_awkward_text():
    text = graphs.to_mermaid(report_of(AWKWARD))
    for line in text.splitlines():
        if ":::" in line:
            assert NODE_LINE.match(line), line
    # ids clear of Mermaid's keywords; ':' in a slice as an entity code
    assert "  v_end[" in text and "  v_class[" in text and "  v_style[" in text
    assert "end[1#58;3]" in text and "[1:3]" not in text
    assert "\n  end" not in text and "\n  style v_" in text


@pytest.mark.parametrize("compact", [False, True])
def test_json_written_in_pieces_is_the_document(compact):
    """`graph -f json` writes its document in pieces: the same bytes as the
    whole document through jsonout.to_json, with arrays large enough to be
    written in blocks, non-finite numbers, awkward names and a set value."""
    big = (
        "param W = randn(140, 130, seed=3)\nx = [1, 2, 3]\n"
        "L = sum(tanh(W) ** 2) + sum(log(x - 2))\n"
    )
    reports = [report_file(path) for path in EXAMPLES]
    reports += [report_of(AWKWARD), report_of(big), report_of(chain(30))]
    counts = []
    for report in reports:
        head = head_dict(report.model, 'a "file".expr', report.target.name)
        whole = to_json({**head, "graph": graphs.graph_document(report)}, compact)
        pieces = list(graphs.graph_json(report, head, compact))
        assert "".join(pieces) == whole
        counts.append(len(pieces))
    assert counts[-2] > 3  # the large arrays went a block at a time


# ---------------------------------------------------------------------- tree


def test_tree_of_the_seed():
    report = report_file(ROOT / "examples/seed.expr")
    text = tree_text(report)
    lines = text.splitlines()
    assert lines[0].startswith("L = sub  ()  value -254  grad 1")
    assert "c = add" in lines[2]
    # w is drawn once, then referred to; so is a1.
    assert (
        sum(
            "w  (5,)  value [2, 5, 9, 7, 3]  grad [-28, -21, -12, -23, -36]" in line
            for line in lines
        )
        == 1
    )
    assert sum(line.endswith("↑ w") for line in lines) == 4
    assert sum(line.endswith("↑ a1") for line in lines) == 1
    assert len(lines) == 17 + 5  # every node once, plus 5 references
    assert "(continued" not in text and "not shown" not in text


def test_tree_sections_when_deep():
    report = report_file(ROOT / "examples/seed.expr")
    text = tree_text(report, max_depth=3)
    assert text.splitlines()[0].startswith("L = sub")
    assert "↓ b1 (continued below)" in text
    assert "b1 = add  ()  value 23  grad -7  (continued)" in text
    # Still every node exactly once.
    full = [line for line in text.splitlines() if "value" in line or "const" in line]
    assert len(full) == 17


def test_tree_leaves_out_what_the_target_does_not_use():
    report = report_file(ROOT / "examples/softmax.expr")
    text = tree_text(report)
    assert text.startswith("loss = neg")
    assert "probs" not in text
    assert "(1 node the target loss does not depend on is not shown)" in text


def test_tree_marks_a_param_computed_from_names():
    text = tree_text(report_of(AWKWARD), width=160)
    assert "p  ()  value 8  grad 4  (no gradient flows into its right side)" in text


def rich_tree_text(report, console, max_depth=None):
    """The tree printed through Rich's own Tree, one per section: the
    reference the tree writer must match byte for byte (sections and
    labels as graphs.py's module docstring describes them)."""
    from rich.text import Text
    from rich.tree import Tree

    style = {
        "param": "bold magenta",
        "input": "bold cyan",
        "node": "bold",
        "op": "",
        "const": "dim",
    }
    v = graphs.view(report)

    def label_of(i):
        value, kind = v.value(i), v.kinds[i]
        label = Text()
        if kind == "const":
            label.append(" ".join(fmt_array(value).split()))
            label.append("  const", style="dim")
            return label
        label.append(v.labels[i], style=style[kind])
        if kind == "op":
            label.append(f" ({v.ids[i]})", style="dim")
        label.append(f"  {fmt_shape_short(np.shape(value))}", style="dim")
        label.append("  value ", style="dim")
        label.append(" ".join(fmt_array(value).split()))
        label.append("  grad ", style="dim")
        label.append(" ".join(fmt_array(v.grad(i)).split()), style="green")
        return label

    def ref(i, arrow, note=""):
        text = f"{arrow} {v.ids[i]}" + (f" ({v.labels[i]})" if v.kinds[i] == "op" else "")
        return Text(text + note, style="dim")

    if max_depth is None:
        max_depth = graph_tree.tree_depth_for(console.width)
    graph = report.model.graph
    shown = set(v.shown)
    children = {i: [a for a in graph.args[i] if a in shown] for i in v.shown}
    value_only = {i for i in v.shown if graph.ops[i].is_leaf and children[i]}
    further = "  (no gradient flows into its right side)"
    state, roots = {}, [report.target.node]
    for root in roots:  # grows as sections are cut off
        label = label_of(root)
        if root != roots[0]:
            label.append("  (continued)", style="dim")
        if root in value_only:
            label.append(further, style="dim")
        tree = Tree(label, guide_style="dim")
        state[root] = "shown"
        stack = [(c, tree, 1) for c in reversed(children[root])]
        while stack:
            i, parent, depth = stack.pop()
            if state.get(i) == "shown":
                parent.add(ref(i, "↑"))
            elif state.get(i) == "deferred":
                parent.add(ref(i, "↓", " (continued below)"))
            elif depth >= max_depth and any(children[c] for c in children[i]):
                state[i] = "deferred"
                roots.append(i)
                parent.add(ref(i, "↓", " (continued below)"))
            else:
                state[i] = "shown"
                node = parent.add(label_of(i))
                if i in value_only:
                    node.label.append(further, style="dim")
                stack.extend((c, node, depth + 1) for c in reversed(children[i]))
        console.print(tree)
    left_out = len(v.shown) - len(state)
    if left_out:
        console.print(
            Text(
                f"({left_out} node{'s' if left_out != 1 else ''} the target "
                f"{report.target.name} does not depend on "
                f"{'are' if left_out != 1 else 'is'} not shown)",
                style="dim",
            )
        )


# Labels longer than a line (so Rich wraps them), and deep enough to cut.
LONG_NAMES = """\
param averyveryveryverylongnameforaparameter = [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0.7, 0.8, 0.9, 1.0, 1.1, 1.2]]
anotherextremelylongbindingnamewhichoverflowsthelabels = tanh(averyveryveryverylongnameforaparameter @ transpose(averyveryveryverylongnameforaparameter)) * 3.14159265358979
L = sum(anotherextremelylongbindingnamewhichoverflowsthelabels ** 2)
"""


@pytest.mark.parametrize("width", [30, 60, 100, 200])
@pytest.mark.parametrize("color", [None, "standard", "truecolor"])
@pytest.mark.parametrize("ascii_only", [False, True])
def test_tree_is_what_rich_prints(width, color, ascii_only):
    """Byte for byte what Rich's Tree gives, guides, wrapping and colours."""
    reports = [report_file(path) for path in EXAMPLES]
    reports += [report_of(AWKWARD), report_of(LONG_NAMES), report_of(chain(40))]

    def printed(draw, report, **kw):
        buf = io.StringIO()
        console = Console(
            file=_AsciiFile(buf) if ascii_only else buf,
            width=width,
            color_system=color,
            force_terminal=bool(color),
            highlight=False,
            markup=False,
            emoji=False,
            legacy_windows=False,
        )
        draw(report, console, **kw)
        return buf.getvalue()

    for report in reports:
        for kw in ({}, {"max_depth": 4}):
            expected = printed(rich_tree_text, report, **kw)
            assert printed(graph_tree.render_tree, report, **kw) == expected
            if ascii_only:
                assert "└" not in expected and "`-- " in expected


class _AsciiFile:
    """A stream that says its encoding is ASCII, so Rich draws ASCII guides."""

    encoding = "ascii"

    def __init__(self, buf):
        self.buf = buf

    def write(self, text):
        return self.buf.write(text)

    def flush(self):
        pass


# --------------------------------------------------------------- deep graphs


@pytest.fixture(scope="module")
def deep_report():
    return report_of(chain(5000), name="chain.expr")


def test_deep_chain_document_and_dot(deep_report):
    doc = graphs.graph_document(deep_report)
    assert (len(doc["nodes"]), len(doc["edges"])) == expected_counts(deep_report)
    check_document(doc)
    text = graphs.to_dot(deep_report)
    assert text.count(" -> ") == len(doc["edges"])


def test_deep_chain_mermaid(deep_report):
    text = graphs.to_mermaid(deep_report)
    assert text.startswith("flowchart LR\n")
    assert text.count(" --> ") == len(graphs.graph_document(deep_report)["edges"])


def test_deep_chain_tree(deep_report):
    depth = 10
    text = tree_text(deep_report, width=120, max_depth=depth)
    lines = text.splitlines()
    assert lines[0].startswith("x4998 = tanh")
    # No line is indented deeper than the cut (a level is 4 columns).
    for line in lines:
        indent = len(line) - len(line.lstrip("│├└─ "))
        assert indent <= 4 * (depth + 1), line
    # Every node the target depends on is drawn in full exactly once.
    full = [line for line in lines if "value" in line or line.rstrip().endswith("const")]
    assert len(full) == len(graphs.graph_document(deep_report)["nodes"])
    assert sum("(continued)" in line for line in lines) > 100


# ------------------------------------------------------------- long sources


def long_sum(n):
    """One statement of `n` terms: every operator's span holds the ones before it."""
    return "param x = 1.5\nL = " + " + ".join(["x"] * n) + "\n"


TOOLTIP = re.compile(r'tooltip="(\d+):(\d+): ((?:[^"\\]|\\.)*)"')


def test_dot_tooltips_quote_the_source_and_are_cut_in_the_middle():
    report = report_of("param x = 1.5\ny = x * 2\nL = " + " + ".join(["y"] * 200) + "\n")
    text = graphs.to_dot(report)
    tips = TOOLTIP.findall(text)
    assert tips
    assert ("2", "5", "x * 2") in tips  # short: quoted whole
    long = [t for t in tips if t[0] == "3"]
    assert long and all(len(t[2]) <= graphs.TOOLTIP_WIDTH for t in long)
    whole = " + ".join(["y"] * 200)
    last = long[-1][2]  # the last add: the whole sum
    head, tail = last.split("…")
    assert whole.startswith(head) and whole.endswith(tail) and len(last) == graphs.TOOLTIP_WIDTH


@pytest.mark.parametrize(
    "render",
    [graphs.to_dot, graphs.to_mermaid, lambda r: json.dumps(graphs.graph_document(r))],
    ids=["dot", "mermaid", "json"],
)
def test_output_grows_linearly_with_a_long_sum(render):
    small, large = (len(render(report_of(long_sum(n)))) for n in (300, 3000))
    # Ten times the terms: ten times the output (a hundred if each operator
    # quoted its whole span).
    assert 8 < large / small < 12, (small, large)


# ----------------------------------------------------- through the command line


def _cli(args):
    from typer.testing import CliRunner

    from autograd_cli.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.mark.parametrize(
    "fmt, start", [("dot", "digraph"), ("mermaid", "flowchart LR"), ("tree", "L = sub")]
)
def test_graph_command_formats(fmt, start):
    result = _cli(["graph", ROOT / "examples/seed.expr", "--format", fmt])
    assert result.exit_code == 0, result.output
    assert result.stdout.lstrip().startswith(start)


def test_graph_command_json_has_the_common_head():
    result = _cli(["graph", ROOT / "examples/seed.expr", "-f", "json"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert list(doc) == ["schema", "file", "target", "dtype", "graph"]
    assert list(doc["graph"]) == ["nodes", "edges"]
    w = next(n for n in doc["graph"]["nodes"] if n["id"] == "w")
    assert w["grad"] == [-28.0, -21.0, -12.0, -23.0, -36.0]


def test_graph_command_errors_are_located():
    result = _cli(["graph", ROOT / "examples/logistic.expr", "--of", "p"])
    assert result.exit_code == 1
    assert "sum(p)" in result.stderr and result.stdout == ""
