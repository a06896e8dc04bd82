"""The package's modules import one another in layers: no cycles (imports
inside functions included), no private names taken from another module, and
the plumbing (errors, streams, file reading, options, process) at the
bottom, the commands above the computations, the command line on top
(docs/how-it-works.md)."""

import ast
from pathlib import Path

import pytest

from common import ROOT

PACKAGE = "autograd_cli"

# The bottom layer imports only from itself; only the top imports the
# command line; only the top imports the commands.
BOTTOM = {
    "autograd_cli.errors",
    "autograd_cli.streams",
    "autograd_cli.sources",
    "autograd_cli.options",
    "autograd_cli.process",
}
TOP = {
    "autograd_cli.cli",
    "autograd_cli.cli_options",
    "autograd_cli.launch",
    "autograd_cli.__main__",
}
COMMANDS = "autograd_cli.commands"  # the package and its modules


def modules(root: Path, package: str = PACKAGE) -> dict:
    """{module name: path} for every .py file of the package under `root`."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known) -> list:
    """(module imported, name taken from it or None, line) for every import
    of a module of the package in `path`, at any depth (inside functions
    too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    here = name if is_package else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    found.append((alias.name, None, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base[: len(base) - (node.level - 1)]
                base = ".".join(base + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base.split(".")[0] != PACKAGE:
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in known:
                    found.append((submodule, None, node.lineno))
                else:
                    found.append((base, alias.name, node.lineno))
    return found


def import_graph(root: Path) -> tuple:
    """{module: {module it imports: line}}, and every private name imported
    across modules as (importer, line, module, name)."""
    known = modules(root)
    graph, private = {}, []
    for name, path in known.items():
        edges = graph.setdefault(name, {})
        for target, taken, line in imports(name, path, known):
            if target != name:
                edges.setdefault(target, line)
            if (
                taken is not None
                and taken.startswith("_")
                and not taken.startswith("__")
                and target != name
            ):
                private.append((name, line, target, taken))
            if (
                taken is None
                and target.rpartition(".")[2].startswith("_")
                and not target.endswith("__main__")
            ):
                private.append((name, line, target.rpartition(".")[0], target))
    return graph, private


def cycles(graph: dict) -> list:
    """The import cycles of `graph`, each as a list of modules (its strongly
    connected components of more than one module), found without recursion
    (Tarjan's algorithm with an explicit stack)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph.get(start, ())))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, ()))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def in_commands(module: str) -> bool:
    """Whether `module` is the commands package or one of its modules."""
    return module == COMMANDS or module.startswith(COMMANDS + ".")


def write_package(root: Path, files: dict):
    for rel, text in files.items():
        path = root / PACKAGE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


# ------------------------------------------------------- the checker itself


def test_the_checker_finds_a_cycle_through_a_function_level_import(tmp_path):
    write_package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from . import b\n",
            "b.py": "def f():\n    from .sub.c import g\n",
            "sub/__init__.py": "",
            "sub/c.py": "def g():\n    import autograd_cli.a\n",
            "d.py": "from .a import b\n",
        },
    )
    graph, _ = import_graph(tmp_path)
    assert cycles(graph) == [["autograd_cli.a", "autograd_cli.b", "autograd_cli.sub.c"]]
    assert graph["autograd_cli.d"] == {"autograd_cli.a": 1}


def test_the_checker_finds_private_names_and_nothing_else(tmp_path):
    write_package(
        tmp_path,
        {
            "__init__.py": "__version__ = '1'\n",
            "a.py": "_hidden = 1\nshown = 2\n",
            "b.py": (
                "from . import __version__\nfrom .a import shown as _alias\n"
                "def f():\n    from .a import _hidden\n"
            ),
            "pkg/__init__.py": "",
            "pkg/_inner.py": "",
            "pkg/c.py": "from . import _inner\n",
        },
    )
    graph, private = import_graph(tmp_path)
    assert cycles(graph) == []
    assert sorted(private) == [
        ("autograd_cli.b", 4, "autograd_cli.a", "_hidden"),
        ("autograd_cli.pkg.c", 1, "autograd_cli.pkg", "autograd_cli.pkg._inner"),
    ]


# ------------------------------------------------------------ the package


@pytest.fixture(scope="module")
def package():
    return import_graph(Path(ROOT))


def test_no_import_cycles(package):
    graph, _ = package
    assert cycles(graph) == []


def test_no_private_names_across_modules(package):
    _, private = package
    left = [
        f"{importer}:{line} imports {name} from {module}"
        for importer, line, module, name in private
    ]
    assert left == []


def test_layers_point_down(package):
    graph, _ = package
    wrong = []
    for module, edges in graph.items():
        for target, line in edges.items():
            if module in BOTTOM and target not in BOTTOM:
                wrong.append(f"{module}:{line} (bottom layer) imports {target}")
            if target in TOP and module not in TOP:
                wrong.append(f"{module}:{line} imports the command line ({target})")
            if in_commands(target) and module not in TOP and not in_commands(module):
                wrong.append(f"{module}:{line} imports the commands ({target})")
    assert wrong == []
