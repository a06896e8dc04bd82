"""The world outside: closed standard streams, a full disk, consoles whose
encoding lacks `∂`, file names that are not UTF-8.  None of it is a bug of
ours: no traceback, no exit 70; a failed write is one line and exit 74.

These run real processes (the streams are the process's own) through a
shell, which is what closes a descriptor or points one at /dev/full.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from common import ROOT

SEED = str(ROOT / "examples" / "seed.expr")
LOGISTIC = str(ROOT / "examples" / "logistic.expr")
EXIT_IO = 74


def shell(command, env=None, cwd=None):
    """Run `command` with `$AG` standing for the tool; (exit code, stdout
    bytes, stderr text)."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "AUTOGRAD_CLI_DEBUG")
    }
    environment["AG"] = f"{sys.executable} -m autograd_cli"
    environment["PYTHONPATH"] = str(ROOT)
    environment.update(env or {})
    done = subprocess.run(
        ["sh", "-c", command], capture_output=True, env=environment, cwd=cwd or ROOT, timeout=120
    )
    return done.returncode, done.stdout, done.stderr.decode("utf-8", "replace")


def no_bug(stderr):
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr


def test_closed_stdout_is_a_failed_write():
    code, _, err = shell(f'$AG eval "{SEED}" >&-')
    no_bug(err)
    assert code == EXIT_IO
    assert err.strip() == "autograd-cli: error: cannot write the output: standard output is closed"


def test_closed_stdout_with_help():
    code, _, err = shell("$AG --help >&-")
    no_bug(err)
    assert code == EXIT_IO


@pytest.mark.parametrize("args", ["eval -", f'eval "{SEED}" --set-json -'])
def test_closed_stdin_is_an_input_error(args):
    code, out, err = shell(f"$AG {args} <&-")
    no_bug(err)
    assert code == 1 and out == b""
    assert "<stdin>: error: cannot read standard input: it is closed" in err


def test_closed_stderr_does_not_fail_a_good_run():
    code, out, _ = shell(f'$AG eval "{SEED}" -f json 2>&-')
    assert code == 0
    assert json.loads(out)["nodes"]["w"]["grad"] == [-28, -21, -12, -23, -36]


def test_closed_stderr_keeps_the_exit_code_of_a_bad_file(tmp_path):
    bad = tmp_path / "bad.expr"
    bad.write_text("a = 1\nb = a * zz\n")
    code, out, _ = shell(f'$AG eval "{bad}" 2>&-')
    assert code == 1 and out == b""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args, want",
    [
        ("eval warn.expr", 0),
        ("eval warn.expr -f json", 0),
        ("fit fit.expr --method sgd --steps 2", 0),
        ("fit fit.expr --method sgd --steps 2 -f json", 0),
        ("fit bad.expr", 1),
        ("functions ln", 1),
        ("graph bad.expr -f tree", 1),
        ("jacobian bad.expr --mode forward", 1),
        ("explain bad.expr --wrt a", 1),
        ("repl < lines.txt", 1),
    ],
)
def test_stderr_on_a_full_disk_loses_only_the_diagnostics(tmp_path, args, want):
    # Warnings, a fit's "did not converge" and errors all go to stderr: none
    # of them written, the run and its exit code are the same.
    (tmp_path / "warn.expr").write_text("param a = 2\nx = log(a - 3)\nL = (a - 1) ** 2 + 0 * x\n")
    (tmp_path / "bad.expr").write_text("a = 1\nb = a * zz\n")
    (tmp_path / "fit.expr").write_text("param a = 2\nL = (a - 1) ** 2\n")  # 2 steps: no convergence
    (tmp_path / "lines.txt").write_text("param w = 2\nz = w ^ 2\nL = w ** 2\n")
    code, out, err = shell(f"$AG {args}", cwd=tmp_path)
    assert code == want and err, err
    full_code, full_out, full_err = shell(f"$AG {args} 2>/dev/full", cwd=tmp_path)
    assert (full_code, full_err, full_out) == (want, "", out)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args",
    [
        f'eval "{SEED}"',
        f'eval "{SEED}" -f json',
        f'check "{SEED}"',
        f'hessian "{LOGISTIC}"',
        f'graph "{SEED}"',
        f'explain "{SEED}" --wrt "w[0]"',
        "--help",
        "eval --help",
    ],
)
def test_full_disk_is_a_failed_write(args):
    code, _, err = shell(f"$AG {args} > /dev/full")
    no_bug(err)
    assert code == EXIT_IO, err
    assert "cannot write the output: No space left on device" in err


ENCODINGS = [
    {"PYTHONIOENCODING": "ascii"},
    {"PYTHONIOENCODING": "latin-1"},
    {"PYTHONIOENCODING": "cp1252"},
    {"PYTHONUTF8": "0", "LC_ALL": "C"},
]
COMMANDS = [
    f'eval "{SEED}"',
    f'graph "{SEED}" -f tree',
    f'explain "{SEED}" --wrt "w[0]"',
    f'hessian "{LOGISTIC}"',
    f'check "{LOGISTIC}"',
    "eval --help",
]


@pytest.mark.parametrize("env", ENCODINGS, ids=lambda e: " ".join(f"{k}={v}" for k, v in e.items()))
@pytest.mark.parametrize("args", COMMANDS)
def test_an_encoding_without_the_symbols_shows_what_it_can(env, args):
    code, out, err = shell(f"$AG {args}", env=env)
    no_bug(err)
    assert code == 0, err
    encoding = env.get("PYTHONIOENCODING", "ascii")
    text = out.decode(encoding)  # what was written is in the stream's encoding
    assert text.strip()
    if args.startswith('eval "'):
        assert "dL/d" in text or "\u2202L/\u2202" in text


@pytest.mark.parametrize(
    "args",
    [f'hessian "{LOGISTIC}"', "functions", "functions atan2", "functions @", "functions erf"],
)
def test_tables_keep_their_borders_when_symbols_are_spelled(args):
    """A symbol spelled in more characters than it has (x² as x^2, π as pi)
    is spelled before the table is laid out, so every row of a table is as
    wide as its borders."""
    code, out, err = shell(f"$AG {args}", env={"PYTHONIOENCODING": "ascii", "COLUMNS": "100"})
    no_bug(err)
    assert code == 0, err
    text = out.decode("ascii")
    assert "^2" in text or args == "functions @"
    assert "^T" in text or args != "functions @"
    widths = {len(line) for line in text.splitlines() if line[:1] in "+|"}
    assert len(widths) == 1, sorted(widths)


@pytest.mark.parametrize("env", ENCODINGS, ids=lambda e: " ".join(f"{k}={v}" for k, v in e.items()))
def test_json_escapes_what_the_encoding_lacks(env, tmp_path):
    name = tmp_path / "\u00e9t\u00e9 \u2202.expr"
    name.write_text("x = 2\nL = x * x  # \u2202L/\u2202x\n", encoding="utf-8")
    code, out, err = shell(f'$AG eval "{name}" -f json', env=env)
    no_bug(err)
    assert code == 0, err
    doc = json.loads(out.decode(env.get("PYTHONIOENCODING", "ascii")))
    if "LC_ALL" in env:
        # The C locale decodes the command line as ASCII: each byte of the
        # name's UTF-8 that it cannot decode is shown as U+FFFD.
        want = "".join(c if c.isascii() else "\ufffd" * len(c.encode()) for c in str(name))
    else:
        want = str(name)
    assert doc["file"] == want and doc["value"] == 4.0


def test_an_error_in_a_non_ascii_line_on_an_ascii_console(tmp_path):
    bad = tmp_path / "bad.expr"
    bad.write_text("x = 2\ny = \u00e9t\u00e9 + x\n", encoding="utf-8")
    code, out, err = shell(f'$AG eval "{bad}"', env={"PYTHONIOENCODING": "ascii"})
    no_bug(err)
    assert code == 1 and out == b""
    assert "bad.expr:2:5: error:" in err


@pytest.fixture
def odd_names(tmp_path):
    """Files whose names are not UTF-8, or hold ESC and a newline."""
    if sys.platform == "darwin":
        pytest.skip("macOS file systems refuse names that are not UTF-8")
    folder = os.fsencode(tmp_path)
    names = [b"bad\xff.expr", b"esc\x1b[31mred.expr", b"new\nline.expr"]
    for name in names:
        shutil.copyfile(SEED, os.path.join(folder, name))
    return tmp_path, names


def test_file_names_that_are_not_utf8_give_valid_json(odd_names):
    folder, _ = odd_names
    code, out, err = shell("$AG eval bad*.expr -f json", cwd=folder)
    no_bug(err)
    assert code == 0
    doc = json.loads(out.decode("utf-8"))  # strict UTF-8: a raw 0xff would fail here
    assert doc["file"] == "bad\ufffd.expr"


def test_control_characters_in_file_names_are_shown_escaped(odd_names):
    folder, _ = odd_names
    (folder / "err\x1b.expr").write_text("a = zz\n")
    code, out, err = shell("$AG eval esc*.expr new*.expr err*.expr", cwd=folder)
    no_bug(err)
    text = out.decode("utf-8")
    assert "esc\\x1b[31mred.expr" in text and "new\\nline.expr" in text
    assert "\x1b" not in text
    assert "err\\x1b.expr:1:5: error:" in err and "\x1b" not in err


def test_huge_columns_is_clamped():
    code, out, err = shell("$AG eval --help", env={"COLUMNS": "99999999"})
    no_bug(err)
    assert code == 0
    assert max(len(line) for line in out.decode().splitlines()) <= 1000


# ------------------------------------------------ files that are not files


@pytest.fixture
def zero_device(tmp_path):
    """A character device that never ends (as /dev/zero), made in a
    temporary folder."""
    import stat

    path = tmp_path / "zero"
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 5))
    except (PermissionError, AttributeError, OSError) as e:
        pytest.skip(f"cannot make a device node here: {e}")
    return path


@pytest.mark.parametrize("args", ['eval "{dev}"', f'eval "{SEED}" --set-json "{{dev}}"'])
def test_a_device_is_refused_at_once(zero_device, args):
    code, out, err = shell("$AG " + args.format(dev=zero_device))
    no_bug(err)
    assert code == 1 and out == b""
    assert "it is a device, not a file" in err


def test_a_pipe_and_the_null_device_are_read(tmp_path):
    code, out, err = shell(f'cat "{SEED}" | $AG eval /dev/stdin -f json')
    assert code == 0 and json.loads(out)["value"] == -254.0, err
    code, out, err = shell(f'$AG eval "{SEED}" --set-json /dev/null')
    assert code == 1 and "JSON" in err and "device" not in err, err


def test_a_directory_is_refused(tmp_path):
    code, out, err = shell(f'$AG eval "{tmp_path}"')
    assert code == 1 and "it is a directory" in err


def test_input_past_the_read_limit_is_refused(monkeypatch, tmp_path):
    from autograd_cli import sources
    from autograd_cli.errors import ExprError

    monkeypatch.setattr(sources, "READ_LIMIT", 1000)
    big = tmp_path / "big.expr"
    big.write_text("x = 1\n" * 500)
    with pytest.raises(ExprError, match="over the 1,000 bytes"):
        sources.read_source(str(big))
    read, write = os.pipe()
    os.write(write, b"x = 1\n" * 200)
    os.close(write)
    monkeypatch.setattr(sys, "stdin", os.fdopen(read, "r"))
    with pytest.raises(ExprError, match="goes on past the 1,000 bytes"):
        sources.read_source("-")


def test_is_terminal_says_no_for_streams_that_cannot_tell():
    """Prompts and progress bars ask `is_terminal`: a missing, closed or
    failing stream is no terminal, and asking never raises."""
    import io

    from autograd_cli.streams import is_terminal

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    class Failing(io.StringIO):
        def isatty(self):
            raise OSError("the descriptor went away")

    closed = io.StringIO()
    closed.close()
    assert is_terminal(Terminal()) is True
    assert is_terminal(io.StringIO()) is False
    assert [is_terminal(s) for s in (None, object(), closed, Failing())] == [False] * 4
