"""`autograd-cli test` on a checkout it does not trust: file names that are
not UTF-8 or hold control characters, FIFOs and devices where files are
expected, links out of the tree, huge integers in golden files, and
outputs that cannot be written (or must not be replaced).

Device nodes and FIFOs are made in a temporary folder; a test that cannot
make one is skipped, saying why.  Whatever could hang runs in a subprocess
with a timeout."""

import json
import os
import stat
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from common import SEED
from goldens import CLEAN_ENV, eval_doc, file_line, run_test, summary, write_json

SECRET = "DB_PASSWORD=hunter2-do-not-print"
HUGE = "9" * 5000  # past Python's 4,300-digit limit on int(str)


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """tmp_path/t, the tested tree (and working directory), with seed.expr
    and its golden file; tmp_path itself is outside the tree."""
    t = tmp_path / "t"
    t.mkdir()
    monkeypatch.chdir(t)
    (t / "seed.expr").write_text(SEED)
    write_json(t / "seed.golden.json", eval_doc("seed.expr"))
    return t


def cli(*args, cwd, stdout=subprocess.PIPE, timeout=120):
    """`autograd-cli ARGS` in a process of its own (what could hang, hangs
    there, not here)."""
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    return subprocess.run(
        [sys.executable, "-m", "autograd_cli", *args],
        cwd=cwd,
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=env,
        timeout=timeout,
    )


def mkfifo(path):
    try:
        os.mkfifo(path)
    except (OSError, AttributeError) as e:
        pytest.skip(f"cannot make a FIFO here: {e}")


def mknod_like(path, device):
    """A character device node at `path` with the numbers of `device`
    (/dev/zero, /dev/full): the same device, in a temporary folder."""
    try:
        rdev = os.stat(device).st_rdev
        os.mknod(path, stat.S_IFCHR | 0o666, rdev)
    except (OSError, AttributeError) as e:
        pytest.skip(f"cannot make a device node here: {e}")


def no_secret(result_or_texts):
    texts = (
        result_or_texts
        if isinstance(result_or_texts, list)
        else [result_or_texts.stdout, result_or_texts.stderr]
    )
    for text in texts:
        assert "hunter2" not in (text.decode(errors="replace") if isinstance(text, bytes) else text)


# ------------------------------------------------------------------ names


def test_a_name_that_is_not_utf8_is_updated_and_shown_as_eval_shows_it(tree):
    try:
        os.rename(b"seed.expr", b"bad\xff.expr")
    except OSError as e:
        pytest.skip(f"this file system refuses names that are not UTF-8: {e}")
    os.rename(b"seed.golden.json", b"old.json")
    result = run_test("--update", "--junit-xml", "r.xml")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert summary(result, update=True) == (0, 0, 1)
    assert "CREATED  bad\ufffd.expr" in result.stdout
    golden = json.loads(Path(b"bad\xff.golden.json".decode(errors="surrogateescape")).read_text())
    assert golden["file"] == "bad\ufffd.expr"
    assert golden["value"] == -254.0
    [case] = ET.parse("r.xml").getroot().iter("testcase")
    assert case.get("name") == "bad\ufffd.expr"
    result = run_test("-f", "json")
    assert result.exit_code == 0
    [entry] = json.loads(result.stdout)["files"]
    assert (entry["file"], entry["status"]) == ("bad\ufffd.expr", "pass")


@pytest.mark.parametrize(
    "name, shown",
    [
        ("esc\x1b[31mred", "esc\\x1b[31mred"),
        ("nl\nPASS     fake", "nl\\nPASS     fake"),
        ("bell\x07", "bell\\x07"),
    ],
)
def test_control_characters_in_names_are_escaped(tree, name, shown):
    (tree / f"{name}.expr").write_text("x = 1\ny = x * 2\n")
    result = run_test("--junit-xml", "r.xml")
    assert result.exit_code == 1
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    lines = result.stdout.splitlines()
    assert len(lines) == 3, result.stdout  # two files and the summary
    status, line = next((ln.split()[0], ln) for ln in lines if shown in ln)
    assert status == "FAIL" and f"no golden file {shown}.golden.json" in line
    # JUnit XML 1.0 cannot hold control characters: the escaped name
    names = [c.get("name") for c in ET.parse("r.xml").getroot().iter("testcase")]
    assert f"{shown}.expr" in names
    # JSON escapes by itself: the name as it is
    doc = json.loads(run_test("-f", "json").stdout)
    assert f"{name}.expr" in [f["file"] for f in doc["files"]]


# ------------------------------------------------------- what is read


def test_a_fifo_golden_file_fails_and_does_not_hang(tree):
    (tree / "f.expr").write_text(SEED)
    mkfifo(tree / "f.golden.json")
    proc = cli("test", cwd=tree, timeout=60)
    out = proc.stdout.decode()
    assert proc.returncode == 1
    assert (
        "f.golden.json: error: cannot read the file: it is a FIFO (named pipe), "
        "not a regular file" in out
    )
    assert "1 passed, 1 failed" in out


def test_a_fifo_named_expr_fails_and_does_not_hang(tree):
    mkfifo(tree / "p.expr")
    proc = cli("test", cwd=tree, timeout=60)
    assert proc.returncode == 1
    assert "p.expr: error: cannot read the file: it is a FIFO" in proc.stdout.decode()


@pytest.mark.parametrize("which", ["expr", "golden"])
def test_a_device_in_the_tree_is_refused_unread(tree, which):
    (tree / "d.expr").write_text(SEED)
    target = tree / ("d.golden.json" if which == "golden" else "z.expr")
    mknod_like(target, "/dev/zero")
    proc = cli("test", cwd=tree, timeout=60)
    out = proc.stdout.decode()
    assert proc.returncode == 1
    assert f"{target.name}: error: cannot read the file: it is a device, not a regular file" in out
    assert stat.S_ISCHR(os.lstat(target).st_mode)


def test_a_golden_linked_to_dev_zero_is_not_read(tree):
    (tree / "z.expr").write_text(SEED)
    os.symlink("/dev/zero", tree / "z.golden.json")
    proc = cli("test", cwd=tree, timeout=60)
    assert proc.returncode == 1
    assert (
        "z.golden.json: error: a link to /dev/zero, outside the tested tree" in proc.stdout.decode()
    )


# ------------------------------------------------------------------ links


def test_a_link_out_of_the_tree_fails_without_reading_it(tree):
    secret = tree.parent / ".env"
    secret.write_text(SECRET + "\n")
    os.symlink("../.env", tree / "leak.expr")
    os.symlink(str(secret), tree / "abs.expr")
    result = run_test("--junit-xml", "r.xml")
    assert result.exit_code == 1
    assert summary(result) == (1, 2)
    for name, to in (("leak.expr", "../.env"), ("abs.expr", str(secret))):
        assert file_line(result, name)[0] == "FAIL"
        assert (
            f"{name}: error: a link to {to}, outside the tested tree {tree}: not followed"
            in result.stdout
        )
    no_secret(result)
    no_secret([Path("r.xml").read_text(), run_test("-f", "json").stdout])
    # Named on the command line, a file's tree is its directory.
    result = run_test("leak.expr")
    assert result.exit_code == 1 and "outside the tested tree" in result.stdout
    no_secret(result)


def test_a_link_to_a_file_in_the_tree_is_tested_with_its_own_golden(tree):
    os.symlink("seed.expr", tree / "alias.expr")
    sub = tree / "sub"
    sub.mkdir()
    os.symlink("../seed.expr", sub / "deep.expr")
    # alias's own golden file pins another number: alias must fail, even
    # though the file it links to passes.
    write_json(tree / "alias.golden.json", {"value": 1.0})
    write_json(sub / "deep.golden.json", {"value": -254.0})
    result = run_test()
    assert result.exit_code == 1
    assert summary(result) == (2, 1)
    assert file_line(result, "alias.expr")[0] == "FAIL"
    assert "value: expected 1.0, got -254.0" in result.stdout
    assert file_line(result, "seed.expr")[0] == "PASS"
    assert file_line(result, "sub/deep.expr")[0] == "PASS"
    write_json(tree / "alias.golden.json", {"value": -254.0})
    assert run_test().exit_code == 0


def test_a_dangling_link_fails(tree):
    os.symlink("gone.expr", tree / "dangling.expr")
    result = run_test()
    assert result.exit_code == 1 and summary(result) == (1, 1)
    assert "dangling.expr: error: a link to gone.expr, which does not exist" in result.stdout


def test_a_loop_of_links_fails(tree):
    os.symlink("b.expr", tree / "a.expr")
    os.symlink("a.expr", tree / "b.expr")
    result = run_test()
    assert result.exit_code == 1 and summary(result) == (1, 2)
    assert "a.expr: error: a link to b.expr, which leads round in a loop" in result.stdout
    assert "b.expr: error: a link to a.expr, which leads round in a loop" in result.stdout


def test_links_to_directories_are_not_followed(tree):
    sub = tree / "sub"
    sub.mkdir()
    (sub / "x.expr").write_text(SEED)
    write_json(sub / "x.golden.json", {"value": -254.0})
    os.symlink("sub", tree / "again")  # inside: its files are found once
    outside = tree.parent / "elsewhere"
    outside.mkdir()
    (outside / "secret.expr").write_text(SECRET + "\n")
    os.symlink(str(outside), tree / "out")  # outside: not entered
    result = run_test()
    assert result.exit_code == 0, result.stdout
    assert summary(result) == (2, 0)
    assert file_line(result, "sub/x.expr")[0] == "PASS"
    assert "again" not in result.stdout and "secret" not in result.stdout
    no_secret(result)


def test_a_link_named_expr_to_a_directory_fails(tree):
    (tree / "sub").mkdir()
    os.symlink("sub", tree / "d.expr")
    result = run_test()
    assert result.exit_code == 1
    assert "d.expr: error: cannot read the file: it is a directory" in result.stdout


def test_a_linked_golden_is_read_but_never_rewritten(tree):
    (tree / "b.expr").write_text(SEED)
    os.symlink("seed.golden.json", tree / "b.golden.json")
    assert run_test().exit_code == 0
    (tree / "b.expr").write_text(SEED.replace("a2 = 3", "a2 = 3.5"))
    before = (tree / "seed.golden.json").read_bytes()
    result = run_test("--update")
    assert result.exit_code == 1
    status, line = file_line(result, "b.expr")
    assert status == "FAIL"
    assert "not rewritten: b.golden.json is a link (to seed.golden.json)" in line
    assert os.readlink(tree / "b.golden.json") == "seed.golden.json"
    assert (tree / "seed.golden.json").read_bytes() == before


def test_a_golden_linked_out_of_the_tree_or_nowhere_is_not_written(tree):
    (tree / "n.expr").write_text(SEED)
    os.symlink("../made.json", tree / "n.golden.json")
    result = run_test("--update")
    assert result.exit_code == 1
    assert "n.golden.json: error: a link to ../made.json, outside the tested tree" in result.stdout
    os.unlink(tree / "n.golden.json")
    os.symlink("made.json", tree / "n.golden.json")
    result = run_test("--update")
    assert result.exit_code == 1
    assert "n.golden.json: error: a link to made.json, which does not exist" in result.stdout
    assert not (tree / "made.json").exists() and not (tree.parent / "made.json").exists()
    assert os.path.islink(tree / "n.golden.json")


# --------------------------------------------------------- huge integers


@pytest.mark.parametrize(
    "doc, position, fragment",
    [
        ('{"value": %s}', "1:11", "the golden 'value' is an integer of 5,000 digits"),
        ('{"set": {"a1": %s}, "value": 1}', "1:16", "the value of 'a1' is an integer of 5,000"),
        (
            '{"nodes": {"w": {"shape": [%s]}}}',
            "1:27",
            "the shape of 'w': size 0 is an integer of 5,000 digits",
        ),
        ('{"nodes": {"w": {"value": [1, %s, 3, 4, 5]}}}', "1:27", "element [1] is an integer"),
        (
            '{"warnings": [{"message": "m", "line": %s}]}',
            "1:14",
            "'warnings' holds an integer of 5,000 digits",
        ),
        ('{"warnings": [%s]}', "1:14", "'warnings' holds an integer"),
        ('{"schema": %s}', "1:12", "schema a number"),
    ],
)
def test_huge_integers_in_a_golden_are_located_errors(tree, doc, position, fragment):
    (tree / "seed.golden.json").write_text(doc % HUGE)
    result = run_test()
    assert result.exit_code == 1, result.stdout + result.stderr
    head = next(line for line in result.stdout.splitlines() if ": error: " in line)
    assert head.startswith(f"seed.golden.json:{position}: error: "), head
    assert fragment in head, head
    assert "internal error" not in result.stderr


def test_a_shape_names_its_bad_size(tree):
    write_json(tree / "seed.golden.json", {"nodes": {"w": {"shape": [5, -2]}}})
    result = run_test()
    assert "the shape of 'w' is a list of sizes, like [2, 3]: size 1 is -2" in result.stdout


# ---------------------------------------------------------------- outputs


def test_an_empty_junit_xml_name_is_a_usage_error(tree):
    result = run_test("--junit-xml", "")
    assert result.exit_code == 2
    assert "--junit-xml" in result.stderr and result.stdout == ""


def test_junit_xml_to_a_directory_is_one_line_and_exit_74(tree):
    (tree / "out").mkdir()
    result = run_test("--junit-xml", "out")
    assert result.exit_code == 74
    assert result.stderr == (
        "out: error: cannot write the JUnit XML report: it is a "
        "directory: a report goes to a regular file, a FIFO, the "
        "terminal or /dev/null\n"
    )
    assert (tree / "out").is_dir() and not any((tree / "out").iterdir())


def test_junit_xml_to_a_device_is_refused_and_the_device_kept(tree):
    mknod_like(tree / "full", "/dev/full")
    rdev = os.lstat(tree / "full").st_rdev
    proc = cli("test", "--junit-xml", "full", cwd=tree, timeout=60)
    assert proc.returncode == 74
    assert proc.stderr.decode() == (
        "full: error: cannot write the JUnit XML report: it is a "
        "device: a report goes to a regular file, a FIFO, the "
        "terminal or /dev/null\n"
    )
    info = os.lstat(tree / "full")
    assert stat.S_ISCHR(info.st_mode) and info.st_rdev == rdev
    assert sorted(os.listdir(tree)) == ["full", "seed.expr", "seed.golden.json"]


def test_junit_xml_through_a_link_to_a_file_is_refused(tree):
    victim = tree.parent / "bashrc"
    victim.write_text("precious\n")
    os.symlink(str(victim), tree / "report.xml")
    result = run_test("--junit-xml", "report.xml")
    assert result.exit_code == 74
    assert result.stderr.startswith(
        "report.xml: error: cannot write the JUnit XML report: "
        f"it is a link to {victim}, and reports are not written "
        "through links to files"
    )
    assert result.stderr.count("\n") == 1
    assert victim.read_text() == "precious\n"
    assert os.readlink(tree / "report.xml") == str(victim)


def test_junit_xml_through_a_dangling_link_is_refused(tree):
    os.symlink("nowhere/r.xml", tree / "report.xml")
    result = run_test("--junit-xml", "report.xml")
    assert result.exit_code == 74
    assert "it is a link to nowhere/r.xml: No such file or directory" in result.stderr
    assert os.readlink(tree / "report.xml") == "nowhere/r.xml"


def test_junit_xml_to_a_link_to_the_null_device_writes_through_it(tree):
    os.symlink(os.devnull, tree / "null.xml")
    result = run_test("--junit-xml", "null.xml")
    assert result.exit_code == 0, result.stderr
    assert os.readlink(tree / "null.xml") == os.devnull


def test_junit_xml_to_a_fifo_is_written_in_place(tree):
    mkfifo(tree / "pipe.xml")
    got = []
    reader = threading.Thread(
        target=lambda: got.append((tree / "pipe.xml").read_bytes()), daemon=True
    )
    reader.start()
    proc = cli("test", "--junit-xml", "pipe.xml", cwd=tree, timeout=60)
    reader.join(60)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(os.lstat(tree / "pipe.xml").st_mode)
    [data] = got
    assert ET.fromstring(data).get("tests") == "1"


@pytest.mark.parametrize("to_file", [False, True])
def test_junit_xml_to_our_own_stdout_follows_the_text(tree, to_file):
    """--junit-xml /dev/stdout, with stdout a pipe or a file.  /dev/stdout
    is a link to /proc/self/fd/1; the link here is a copy of it in the
    temporary folder, so that a regression replaces the copy, not the
    machine's."""
    if not os.path.exists("/proc/self/fd/1"):
        pytest.skip("no /proc/self/fd here")
    os.symlink("/proc/self/fd/1", tree / "stdout")
    if to_file:
        with open(tree / "out.txt", "wb") as f:
            proc = cli("test", "--junit-xml", "stdout", cwd=tree, stdout=f)
        out = (tree / "out.txt").read_text()
    else:
        proc = cli("test", "--junit-xml", "stdout", cwd=tree)
        out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr
    text, sep, xml = out.partition("<?xml")
    assert text.splitlines()[-1] == "1 passed, 0 failed"
    assert ET.fromstring(sep + xml).get("tests") == "1"
    assert os.readlink(tree / "stdout") == "/proc/self/fd/1"


def test_update_into_a_directory_it_cannot_write(tree, monkeypatch):
    """A located line, exit 74, and neither a half-written golden nor a
    temporary file left."""
    import tempfile

    write_json(tree / "seed.golden.json", {"value": 1.0})
    (tree / "new.expr").write_text("x = 2\n")
    before = (tree / "seed.golden.json").read_bytes()

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    result = run_test("--update")
    assert result.exit_code == 74
    lines = result.stdout.splitlines()
    for name in ("new", "seed"):
        assert file_line(result, f"{name}.expr")[0] == "FAIL"
        assert (
            f"{name}.golden.json: error: cannot write the golden file: Permission denied" in lines
        )
    assert (tree / "seed.golden.json").read_bytes() == before
    assert sorted(os.listdir(tree)) == ["new.expr", "seed.expr", "seed.golden.json"]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root writes into a read-only directory anyway",
)
def test_update_into_a_read_only_directory(tree):
    write_json(tree / "seed.golden.json", {"value": 1.0})
    tree.chmod(0o555)
    try:
        result = run_test("--update")
    finally:
        tree.chmod(0o755)
    assert result.exit_code == 74
    assert (
        "seed.golden.json: error: cannot write the golden file: Permission denied"
        in result.stdout.splitlines()
    )
    assert json.loads((tree / "seed.golden.json").read_text()) == {"value": 1.0}


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_stdout_on_a_full_disk_is_one_line_and_exit_74(tree, fmt):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    (tree / "new.expr").write_text("x = 1\n")  # a failure: 74 still wins
    with open("/dev/full", "wb") as full:
        proc = cli("test", "-f", fmt, "--junit-xml", "r.xml", cwd=tree, stdout=full)
    assert proc.returncode == 74
    assert (
        proc.stderr.decode()
        == "autograd-cli: error: cannot write the output: No space left on device\n"
    )
    # Every file was still tested and the report written.
    assert ET.parse(tree / "r.xml").getroot().get("tests") == "2"


def test_stdout_closed_is_one_line_and_exit_74(tree):
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    proc = subprocess.run(
        [sys.executable, "-m", "autograd_cli", "test"],
        cwd=tree,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        timeout=120,
        preexec_fn=lambda: os.close(1),
    )
    assert proc.returncode == 74
    assert (
        proc.stderr.decode()
        == "autograd-cli: error: cannot write the output: standard output is closed\n"
    )
