"""The documentation against the tool: README.md, CONTRIBUTING.md and docs/.

Every `$ command` of a page's code blocks is run, in the order of the page,
in a copy of examples/, and what it prints (stderr and stdout as a terminal
shows them) must be the lines the page shows after it, with the exit code
its errors imply. A plain `autograd-cli ...` runs in this process; pipes,
redirections and output on both streams go through bash, as a reader's
shell runs them. Times (`1.5 ms`) are compared as times, whatever their
digits; numbers to the last digits another machine's libm or BLAS may
change (and, in `NOISY`'s examples, as rounding noise); a line `...`
stands for any lines. A file the page names without shipping it is made
from what the page says it holds: a comment after the command
(`# param x = [0, 1, 1]; L = sum(relu(x))`), a `$ cat FILE` shown before it
is used, or, where the page describes it in prose, `PROSE_FILES` below.
Examples that cannot run here are in `NOT_RUN` (with the reason) or on a
folder made by hand (`HAND_MADE`), and a test keeps those lists from going
stale. docs/performance.md's examples are left out: they are measurements.

Then what the pages say about the tool itself: synopses and option tables
against `--help`, listings of the examples against the files, the hints of
errors.md against the errors, relative links and `#anchors` (as GitHub
makes them from headings), the paths, modules and names of the source
that how-it-works.md and CONTRIBUTING.md give, and docs/seed-graph.svg
against what `graph | dot` draws today.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autograd_cli.cli import app

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))]
CHECKED = [page for page in PAGES if page != "docs/performance.md"]

# Files whose content a page gives in words rather than as a comment or a `cat`.
PROSE_FILES = {
    # commands.md: "x0 = 1.5, then x1 = sin(x0) ... x300 = sin(x299)"
    "chain.expr": "x0 = 1.5\n" + "".join(f"x{i} = sin(x{i - 1})\n" for i in range(1, 301)),
    # language.md: the file its warnings quote (line 2) and its JSON shows (x)
    "nan.expr": "x = [1, 0, -1]\ny = sum(log(x))\n",
    # errors.md: the seed example with b3 for b1 on line 8, as quoted there
    "model.expr": (ROOT / "examples" / "seed.expr")
    .read_text()
    .replace("c  = w[3] * b1", "c = w[3] * b3"),
}

# (page, command) -> why it is not run here.
NOT_RUN = {
    (
        "docs/commands.md",
        "autograd-cli eval examples/mlp.expr --format json --timings > /dev/null",
    ): "a measurement: what it shows is each phase's time",
    (
        "docs/commands.md",
        "autograd-cli graph examples/seed.expr | dot -Tsvg > docs/seed-graph.svg",
    ): "test_the_seed_graph_picture_is_current checks the picture",
}
# (page, command) -> how its numbers compare, where they hold rounding noise
# that another machine's libm or BLAS changes (see _close): "noise", or
# "any" where which element is worst is itself noise (check's "worst at").
NOISY = {
    ("docs/commands.md", "autograd-cli check examples/mlp.expr"): "any",
    ("docs/commands.md", "autograd-cli check big.expr"): "any",
    ("docs/commands.md", "autograd-cli check examples/seed.expr --format json"): "any",
    (
        "docs/fit.md",
        "autograd-cli fit examples/misra1a.expr --residuals r --out misra1a.fit.json",
    ): "noise",
    ("docs/fit.md", "cat misra1a.fit.json"): "noise",
    (
        "docs/fit.md",
        "autograd-cli eval examples/misra1a.expr --set-json misra1a.fit.json --wrt b2 --wrt rss",
    ): "noise",
    ("docs/fit.md", "autograd-cli fit examples/danwood.expr --residuals r"): "noise",
    ("docs/fit.md", "autograd-cli fit examples/misra1a.expr --residuals r --format json"): "noise",
}
# Pages whose examples mostly run on a folder made by hand (a copy of
# examples/ with edits, and files the page does not show): the commands on
# that folder are not run; the page's others are.
HAND_MADE = {"docs/golden-tests.md": "formulas"}


def _blocks(text):
    """The fenced code blocks of a page: (line of the fence, lines inside),
    the lines with the fence's indentation taken off."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        fence = re.match(r"^(\s*)```", lines[i])
        if not fence:
            i += 1
            continue
        indent = len(fence.group(1))
        j = i + 1
        while not re.match(r"^\s*```", lines[j]):
            j += 1
        yield i + 1, [line[indent:] for line in lines[i + 1 : j]]
        i = j + 1


def _complete(command):
    """Whether bash would run `command` as it stands: no trailing backslash
    and no single quote left open."""
    return not command.endswith("\\") and command.count("'") % 2 == 0


def examples(page):
    """The `$ command` lines of a page with what each prints: a list of
    (line number, command, comment, expected lines)."""
    found = []
    for start, body in _blocks((ROOT / page).read_text()):
        k = 0
        while k < len(body):
            if not body[k].startswith("$ "):
                k += 1
                continue
            line = start + k + 1
            command = body[k][2:]
            while not _complete(command):
                k += 1
                command += "\n" + body[k]
            k += 1
            comment = ""
            if "  # " in command and "'" not in command.split("  # ", 1)[1]:
                command, comment = (part.strip() for part in command.split("  # ", 1))
            # A comment goes on below the command, indented under the first.
            while comment and k < len(body) and re.match(r"^\s+# ", body[k]):
                comment += "; " + body[k].strip()[2:]
                k += 1
            expected = []
            while k < len(body) and not body[k].startswith("$ "):
                expected.append(body[k].rstrip())
                k += 1
            while expected and expected[-1] == "":
                expected.pop()
            found.append((line, command.strip(), comment, expected))
    return found


def _normal(line):
    """A line with its times made alike: `  6.4 ms` and `322.2 ms` compare
    equal, as the width of the column they share varies with them."""
    return re.sub(r" *\b\d+(\.\d+)? ms\b", " <time> ms", line.rstrip())


# A number as the tool prints it (−, U+2212, in explain's text); digits
# inside a name (x300, W1) are not one.
NUMBER = re.compile(r"(?<![\w.])[-−]?\d+(?:\.\d+)?(?:[eE][-−+]?\d+)?(?![\w.])")


def _value(text):
    return float(text.replace("−", "-"))


def _close(shown, printed, noise):
    """Two numbers alike: to the last digits a libm or BLAS of another
    machine may change (relative 1e-9); with `noise`, to the 6 digits the
    tables show, and any two numbers below 1e-6, which are rounding noise
    there (a minimum's gradient, a finite difference's error)."""
    a, b = _value(shown), _value(printed)
    if noise == "any":
        return True
    rtol = 1e-6 if noise else 1e-9
    if abs(a - b) <= rtol * max(abs(a), abs(b)):
        return True
    return noise is not None and max(abs(a), abs(b)) <= 1e-6


def _same(shown, printed, noise=None):
    """A line printed against the line shown. Where a number's digits differ
    (within `_close`), the columns around it may be laid out otherwise:
    runs of spaces and of a table's rules are then compared as one."""
    if shown == printed:
        return True

    def layout(line):
        return re.sub(r"([━─═]){2,}", r"\1", re.sub(r" +", " ", NUMBER.sub("#", line)))

    if layout(shown) != layout(printed):
        return False
    numbers = NUMBER.findall(shown), NUMBER.findall(printed)
    if not numbers[0]:
        # A table's frame or header, whose widths follow the numbers below.
        return shown[:1] in "┏┃┡│└┌├╭╰"
    if numbers[0] == numbers[1]:
        return False
    return all(_close(a, b, noise) for a, b in zip(*numbers))


def _matches(expected, got, noise=None):
    """Whether the lines `got` are the lines `expected` (`_same`), where a
    line `...` in `expected` stands for any lines (none included)."""
    expected = [_normal(line) for line in expected]
    got = [_normal(line) for line in got]

    def run(shown, printed):
        return len(shown) == len(printed) and all(
            _same(s, p, noise) for s, p in zip(shown, printed)
        )

    parts = [[]]
    for line in expected:
        if line.strip() == "...":
            parts.append([])
        else:
            parts[-1].append(line)
    if len(parts) == 1:
        return run(expected, got)
    first, *middle, last = parts
    if len(got) < len(first) + len(last) or not run(first, got[: len(first)]):
        return False
    if not run(last, got[len(got) - len(last) :]):
        return False
    at, end = len(first), len(got) - len(last)
    for part in middle:
        while at + len(part) <= end and not run(part, got[at : at + len(part)]):
            at += 1
        if at + len(part) > end:
            return False
        at += len(part)
    return True


def _files_named(command):
    """The words of a command that name a file of bindings or JSON."""
    return [w for w in re.findall(r"[\w./-]+\.(?:expr|json)\b", command) if "/" not in w]


CLEAN_ENV = {
    name: None for name in ("COLUMNS", "NO_COLOR", "FORCE_COLOR", "TERM", "AUTOGRAD_CLI_DEBUG")
}


def _shell(command, cwd):
    """Run `command` in bash, with `autograd-cli` this interpreter's, and
    give (exit code, output): stderr and stdout as one stream, in order."""
    environment = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    environment.update(PYTHONUTF8="1", DOCS_PYTHON=sys.executable)
    script = (
        'autograd-cli() { "$DOCS_PYTHON" -m autograd_cli "$@"; }\n'
        "set -o pipefail\n" + command + "\n"
    )
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=300,
    )
    return result.returncode, result.stdout.decode("utf-8", "replace")


def _run(command, cwd):
    """Run an example: a plain `autograd-cli ARGS` through Typer's runner in
    this process (starting a process per example would double the cost of
    this file), unless it writes to both streams, whose order only a real
    process shows; anything else (pipes, redirections) in bash."""
    if command.startswith("autograd-cli ") and not re.search(r"[|<>;&$`\n]", command):
        result = CliRunner().invoke(app, shlex.split(command)[1:], env=CLEAN_ENV)
        if not (result.stdout and result.stderr):
            return result.exit_code, result.stdout + result.stderr
    return _shell(command, cwd)


def _hand_made(page, command):
    folder = HAND_MADE.get(page)
    return folder is not None and folder in command


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "docs").mkdir()
    return tmp_path


@pytest.mark.skipif(shutil.which("bash") is None, reason="the examples are shell commands")
@pytest.mark.parametrize("page", CHECKED)
def test_the_examples_of_a_page_print_what_it_shows(page, workdir):
    written = set()  # files a command of the page wrote (--out, >)
    failures = []
    ran = 0
    previous = None  # the exit code of the command before, if it ran
    for line, command, comment, expected in examples(page):
        if command == "echo $?":
            if previous is not None and expected != [str(previous)]:
                failures.append(f"{page}:{line}: exit {previous}, shown {expected}")
            continue
        previous = None
        if (page, command) in NOT_RUN or _hand_made(page, command):
            continue
        if "| jq" in command and shutil.which("jq") is None:
            continue
        cat = re.fullmatch(r"cat (\S+)", command)
        if cat and cat.group(1) not in written:
            # The page shows a file it is about to use: make it.
            (workdir / cat.group(1)).write_text("\n".join(expected) + "\n")
            continue
        for name in _files_named(command):
            if not (workdir / name).exists():
                if name in PROSE_FILES:
                    (workdir / name).write_text(PROSE_FILES[name])
                elif comment and " = " in comment:
                    (workdir / name).write_text(comment.replace("; ", "\n") + "\n")
        written.update(re.findall(r"(?:--out|>) (\S+)", command))
        code, output = _run(command, workdir)
        ran, previous = ran + 1, code
        got = output.rstrip("\n").split("\n") if output.strip() else []
        want_code = 1 if any(re.search(r": error: ", x) for x in expected) else 0
        if code != want_code or not _matches(expected, got, NOISY.get((page, command))):
            failures.append(
                f"{page}:{line}: $ {command}\n(exit {code})\n--- shown:\n"
                + "\n".join(expected)
                + "\n--- printed:\n"
                + "\n".join(got)
            )
    assert not failures, "\n\n".join(failures)
    if page in ("README.md", "docs/commands.md", "docs/json.md", "docs/fit.md"):
        assert ran >= 2, f"{page}: its examples were not found"


def test_the_examples_left_out_are_on_their_pages():
    """NOT_RUN names commands as the pages write them: one that is edited
    must be dropped from it (and then runs) or named again."""
    commands = {(page, command) for page in PAGES for _, command, _, _ in examples(page)}
    for key in [*NOT_RUN, *NOISY]:
        assert key in commands, key
    for page, folder in HAND_MADE.items():
        assert any(folder in command for p, command in commands if p == page), page


def test_the_example_reader_understands_the_pages():
    """The parser of examples on what the pages use: a command continued
    over lines, a comment that gives the file, a `...` that skips lines."""
    found = {
        command: (comment, out) for page in PAGES for _, command, comment, out in examples(page)
    }
    step = [c for c in found if c.startswith("autograd-cli eval examples/logistic.expr -f json \\")]
    assert len(step) == 1 and step[0].count("\n") == 3
    comment, _ = found["autograd-cli check big.expr"]
    assert comment.startswith("param W = randn(1000, 1000, seed=1)") and comment.endswith(
        "L = sum(tanh(W @ x + b) ** 2)"
    )
    assert _matches(["a", "...", "z"], ["a", "b", "c", "z"])
    assert _matches(["a", "...", "z"], ["a", "z"])
    assert not _matches(["a", "...", "z"], ["a", "b"])
    assert not _matches(["a", "b"], ["a", "c"])
    assert _matches(["PASS  x.expr   6.4 ms"], ["PASS  x.expr 322.2 ms"])
    # Numbers: the last digits of another machine, and layout that follows them.
    assert _matches(["│ w │ 0.24877899058367 │"], ["│ w │ 0.24877899058368 │"])
    assert not _matches(["│ w │ 0.24877899 │"], ["│ w │ 0.24877900 │"])
    assert _matches(
        ["┃ a ┃ 1.1766e-10 ┃", "┡━━━━━━━━━━━━┩"], ["┃ a ┃ 3e-11 ┃", "┡━━━━━━━┩"], "noise"
    )
    assert not _matches(["│ w │    0.5 │"], ["│ w │ 0.5 │"])  # the same number, laid out otherwise
    assert not _matches(["│ b1 │ 2 │"], ["│ b2 │ 2 │"])
    assert not _matches(["L = −457.899"], ["L = −457.898"], "noise")
    assert _matches(["worst at [1, 0]"], ["worst at [2, 0]"], "any")
    assert not _matches(["with respect to w"], ["with  respect to w"], "any")
    assert not _matches(["PASS  x.expr   6.4 ms"], ["FAIL  x.expr   6.4 ms"])


def _options(command):
    """A command's options as its help lists them: {option: choices or None},
    short forms (-e, -f) included, --help left out."""
    result = CliRunner().invoke(app, [command, "--help"], env={**CLEAN_ENV, "COLUMNS": "250"})
    found = {}
    for row in result.stdout.splitlines():
        option = re.match(r"│ (?:\* +)?(--[a-z-]+)(?: +(-[a-z]))?(?: +<([a-z0-9|]+)>)?", row)
        if option and option.group(1) != "--help":
            long, short, choices = option.groups()
            choices = choices.split("|") if choices else None
            found[long] = choices
            if short:
                found[short] = choices
    return found


def _synopses():
    """The synopses of the pages: (page, line, command, text)."""
    for page in PAGES:
        for line, body in _blocks((ROOT / page).read_text()):
            head = re.match(r"autograd-cli (\w+) .*\[", body[0]) if body else None
            if head:
                yield page, line, head.group(1), "\n".join(body)


def _table_options(page, heading):
    """The options of the table under `heading` in `page`, from its first column."""
    text = (ROOT / page).read_text().split(heading, 1)[1]
    table = text.split("\n\n|", 1)[1].split("\n\n", 1)[0]
    cells = [re.split(r"(?<!\\)\|", row)[1] for row in table.splitlines()[2:]]
    return {name for cell in cells for name in re.findall(r"(?<![\w-])--?[a-z][a-z-]*", cell)}


def test_synopses_and_option_tables_name_the_options_there_are():
    """Each synopsis lists every option of its command and no other, with
    the same choices (`--format table|json`); eval's and test's tables of
    options describe every option."""
    seen = set()
    for page, line, command, text in _synopses():
        options = _options(command)
        written = set(re.findall(r"(?<![\w-])--?[a-z][a-z-]*", text)) - {"-"}
        written |= {"--expr"} if "-e" in written else set()
        written |= {"-f"} if "--format" in written else set()
        assert written == set(options), (f"{page}:{line}", written ^ set(options))
        for name, choices in re.findall(r"(--[a-z-]+) (\w+(?:\\?\|\w+)+)", text):
            assert choices.replace("\\", "").split("|") == options[name], (page, line, name)
        seen.add(command)
    assert {"eval", "fit", "test", "functions", "repl"} <= seen, seen
    for page, heading, command in [
        ("docs/commands.md", "## `autograd-cli eval`", "eval"),
        ("docs/commands.md", "## `autograd-cli test`", "test"),
    ]:
        assert _table_options(page, heading) - {"-"} == set(_options(command)), (page, command)


def _bindings(lines):
    """The lines of a listing that bind, comments and blank lines left out."""
    return [line.rstrip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _same_line(shown, actual):
    """A line of a listing against the file's: `...` in it ends the part shown."""
    if shown.endswith(", ...]"):
        return actual.startswith(shown[: -len("...]")])
    return " ".join(shown.split()) == " ".join(actual.split())


def test_listings_of_the_examples_are_the_files():
    """A page's listing of an example (README's seed.expr, fit.md's misra1a
    and danwood) binds what the file binds, line for line."""
    files = {
        p.name: _bindings(p.read_text().split("\n")) for p in (ROOT / "examples").glob("*.expr")
    }
    listed = set()
    for page in PAGES:
        for line, body in _blocks((ROOT / page).read_text()):
            shown = _bindings(body)
            for name, actual in files.items():
                if shown and actual and _same_line(shown[0], actual[0]):
                    assert len(shown) == len(actual), f"{page}:{line}: {name}"
                    for s, a in zip(shown, actual):
                        assert _same_line(s, a), f"{page}:{line}: {name}: {s!r} is {a!r}"
                    listed.add(name)
    assert {"seed.expr", "misra1a.expr", "danwood.expr"} <= listed, listed


def _hints():
    """errors.md's list of names and notation from elsewhere, with what the
    error says to write instead: (what is written, `name` or "words")."""
    text = " ".join((ROOT / "docs" / "errors.md").read_text().split())
    sentence = text.split("get what this language writes instead:", 1)[1].split(". ", 1)[0]
    return re.findall(r'`([^`]+)` → (`[^`]+`|"[^"]+")', sentence)


def test_the_hints_errors_md_lists_are_what_the_errors_say():
    hints = _hints()
    assert len(hints) >= 10, hints
    for written, instead in hints:
        if re.fullmatch(r"\w+", written):
            program = f"y = {written}(1)"
        else:
            program = f"x = [1]; W = [[1]]; y = {written}"
        result = CliRunner().invoke(app, ["eval", "-e", program], env=CLEAN_ENV)
        assert result.exit_code == 1 and result.stdout == "", program
        said = result.stderr.splitlines()[0]
        if instead.startswith("`"):
            assert f"(did you mean '{instead[1:-1]}'?)" in said, (program, said)
        else:
            assert instead[1:-1] in said, (program, said)


# ------------------------------------------------------------------ pictures


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) is not installed")
def test_the_seed_graph_picture_is_current(tmp_path):
    """docs/seed-graph.svg is what `graph | dot -Tsvg` draws today: the same
    nodes, labels and edges (compared as text, not as layout, which moves
    between Graphviz versions)."""
    dot = _shell("autograd-cli graph examples/seed.expr", ROOT)
    assert dot[0] == 0, dot[1]
    fresh = subprocess.run(
        ["dot", "-Tsvg"], input=dot[1].encode(), capture_output=True, check=True
    ).stdout.decode()

    def texts(svg):
        return sorted(re.findall(r"<(?:text|title)[^>]*>([^<]*)</", svg))

    assert texts((ROOT / "docs" / "seed-graph.svg").read_text()) == texts(fresh)


# --------------------------------------------------------------------- links


def _anchors(page):
    """The #anchors of a page's headings, as GitHub makes them."""
    found = set()
    fenced = False
    for line in page.read_text().split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        heading = None if fenced else re.match(r"^#{1,6}\s+(.*)", line)
        if heading:
            slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
            anchor, n = slug, 1
            while anchor in found:
                anchor, n = f"{slug}-{n}", n + 1
            found.add(anchor)
    return found


def _links(page):
    text = re.sub(r"```.*?```", "", (ROOT / page).read_text(), flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    return re.findall(r"\]\(([^)\s]+)\)", text)


@pytest.mark.parametrize("page", [*PAGES, "CONTRIBUTING.md"])
def test_links_and_anchors_resolve(page):
    source = ROOT / page
    links = _links(page)
    assert links or page == "CONTRIBUTING.md"
    for link in links:
        if re.match(r"[a-z]+:", link):
            continue
        path, _, anchor = link.partition("#")
        target = (source.parent / path).resolve() if path else source
        assert target.exists(), f"{page}: {link}: no such file"
        assert ROOT in target.parents, f"{page}: {link}: outside the repository"
        if anchor:
            assert target.suffix == ".md", f"{page}: {link}"
            assert anchor in _anchors(target), f"{page}: {link}: no such heading"


def test_anchors_are_made_as_github_makes_them():
    page = ROOT / "docs" / "json.md"
    assert {"json-in---set-json", "json-out---format-json", "functions"} <= _anchors(page)


# ------------------------------------------------------------ source names


def test_how_it_works_maps_every_source_file():
    """Every module of the package has its row in how-it-works.md's table
    (a package's modules in its row, a generated module in its generator's),
    and every row names a file there is."""
    text = (ROOT / "docs" / "how-it-works.md").read_text()
    rows = {
        re.match(r"\| `([^`]+)`", row).group(1): row
        for row in text.splitlines()
        if row.startswith("| `autograd_cli/")
    }
    for name in rows:
        assert (ROOT / name).exists(), name
    for path in sorted((ROOT / "autograd_cli").rglob("*.py")):
        if path.name in ("__init__.py", "__main__.py"):
            continue
        name = path.relative_to(ROOT).as_posix()
        folder = path.parent.relative_to(ROOT).as_posix() + "/"
        # A generated module is named in its generator's row; a mention in
        # the prose would be no map of it.
        named = [rows.get(folder, "")]
        named += rows.values() if folder == "autograd_cli/" else []
        assert name in rows or any(f"`{path.name}`" in row for row in named), name


def test_the_paths_the_pages_name_exist():
    pages = [*PAGES, "CONTRIBUTING.md"]
    named = 0
    for page in pages:
        text = (ROOT / page).read_text()
        for path in re.findall(
            r"(?<![\w/.])(?:autograd_cli|tests|examples|benchmarks)/[\w./-]*\w", text
        ):
            if "NAME" in path:
                continue
            assert (ROOT / path).exists(), f"{page}: {path}"
            named += 1
    assert named > 50


# Names of other libraries the pages give in code style.
ELSEWHERE = {"least_squares"}


@pytest.mark.parametrize("page", ["docs/how-it-works.md", "CONTRIBUTING.md"])
def test_the_names_of_the_source_the_pages_give_are_defined(page):
    """A class, constant or function the page names (`Tape`, `READ_LIMIT`,
    `evaluate_floats`, `KINK_PROGRAMS`) is defined in the package or its
    tests: a rename has to take the page along."""
    defined = set()
    for path in [*(ROOT / "autograd_cli").rglob("*.py"), *(ROOT / "tests").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defined.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                defined.add(node.id)
    text = (ROOT / page).read_text()
    shape = r"[A-Z][a-z]+(?:[A-Z][a-z]*)+|[A-Z][A-Z_]{2,}|[a-z]+(?:_[a-z0-9]+)+"
    names = {n for n in re.findall(r"`(\w+)`", text) if re.fullmatch(shape, n)}
    assert len(names) >= 3, names
    assert names - ELSEWHERE <= defined, sorted(names - ELSEWHERE - defined)
