"""`autograd-cli repl`, driven through stdin: values and gradients line by
line, errors located as `<repl>:LINE:COL` with the session kept, the
`:commands`, the exit code of a piped session, and a terminal session
through a pseudo-terminal."""

import math
import os
import stat
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from autograd_cli import repl
from autograd_cli.cli import app

from common import ROOT

ENV = {"NO_COLOR": "1", "COLUMNS": "100", "FORCE_COLOR": None}


def session(*lines, args=()):
    result = CliRunner().invoke(
        app, ["repl", *args], input="".join(f"{x}\n" for x in lines), env=ENV
    )
    return result.exit_code, result.stdout, result.stderr


def number_after(text, prefix):
    [line] = [x for x in text.splitlines() if x.startswith(prefix)]
    return float(line[len(prefix) :].split()[0])


def test_values_and_gradients_line_by_line():
    code, out, err = session("param x = 0.7", "y = sin(x) * x ** 2")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "x = 0.7"
    f = lambda x: math.sin(x) * x**2  # noqa: E731
    assert number_after(out, "y = ") == pytest.approx(f(0.7), rel=1e-5)
    h = 1e-6
    numeric = (f(0.7 + h) - f(0.7 - h)) / (2 * h)
    assert number_after(out, "  ∂y/∂x = ") == pytest.approx(numeric, rel=1e-5)


def test_gradients_are_with_respect_to_every_param_so_far():
    code, out, _ = session("param a = 2", "b = 5", "param c = 3", "y = a * b + c ** 2")
    assert code == 0
    grads = [x for x in out.splitlines() if x.startswith("  ∂y/")]
    # the params, in order; not the input b
    assert grads == ["  ∂y/∂a = 5", "  ∂y/∂c = 6"]


def test_without_params_the_inputs_get_gradients():
    code, out, _ = session("a = 2; b = 3", "y = a * b ** 2")
    assert code == 0
    assert out.splitlines() == ["a = 2", "b = 3", "y = 18", "  ∂y/∂a = 9", "  ∂y/∂b = 12"]


def test_tensors_show_their_shape_and_a_vector_target_no_gradient():
    code, out, err = session("param w = [1, 2, 3]", "v = w * 2", "L = sum(v)")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "w = [1, 2, 3]  (3,)"
    assert lines[1] == "v = [2, 4, 6]  (3,)"
    assert "no gradient" in lines[2] and "sum(v)" in lines[2]
    assert lines[3:] == ["L = 12", "  ∂L/∂w = [2, 2, 2]  (3,)"]


def test_an_error_is_located_and_the_session_kept():
    code, out, err = session("param x = 2", "y = x ^ 2", "", "y = lnn(x)", "y = x ** 2")
    assert code == 1
    first, source, caret = err.splitlines()[:3]
    assert first == "<repl>:2:7: error: unexpected character '^'; write ** for a power (x ** 2)"
    assert source.endswith("| y = x ^ 2")
    assert caret.index("^") == source.index("y = x ^ 2") + 6
    assert "<repl>:4:5: error: unknown function 'lnn'" in err
    # the failed lines left nothing behind: y is still free, and x still there
    assert out.splitlines() == ["x = 2", "y = 4", "  ∂y/∂x = 4"]


def test_an_error_can_point_at_an_earlier_line():
    code, _, err = session("a = 1", "# nothing", "a = 2")
    assert code == 1
    assert err.startswith("<repl>:3:1: error:")
    assert "<repl>:1:1: note:" in err
    # each line is shown as typed, the earlier one too
    assert "    3 | a = 2\n" in err and "    1 | a = 1\n" in err


def test_a_clean_session_exits_0_and_prints_no_prompt():
    code, out, err = session("x = 1", "", "# a comment")
    assert (code, out, err) == (0, "x = 1\n", "")


def test_commands():
    code, out, err = session(
        ":help", "param x = 2", "y = x * 3", ":show", ":undo", ":show", ":reset", ":show", "y = 1"
    )
    assert (code, err) == (0, "")
    assert ":reset" in out and ":quit" in out
    assert "param x = 2\ny = x * 3\n" in out
    after_undo = out.split("y = x * 3\n")[-1]
    assert after_undo.startswith("param x = 2\n")
    assert out.endswith("y = 1\n")


def test_quit_stops_reading():
    code, out, _ = session("x = 1", ":quit", "y = 2")
    assert (code, out) == (0, "x = 1\n")


def test_an_unknown_command_is_an_error():
    code, out, err = session(":shwo")
    assert code == 1 and out == ""
    assert err.startswith("<repl>:1: error: unknown command ':shwo' (did you mean 'show'?)")


def test_functions_inside_the_session():
    code, out, err = session(":functions clip")
    assert (code, err) == (0, "")
    assert "clip(x, lo, hi)" in out and "tanh" not in out


def test_functions_of_an_unknown_name_is_an_error_and_the_session_goes_on():
    """As `autograd-cli functions ln` does: the error on stderr, nothing on
    stdout for the line; then the next line runs, and a piped session ends
    with exit 1."""
    code, out, err = session(":functions ln", "x = 2")
    assert code == 1
    assert out == "x = 2\n"
    assert err == (
        "<repl>:1: error: there is no function or operator named 'ln' (did you mean 'log'?)\n"
    )


def test_float32():
    code, out, _ = session("param x = 0.1", "y = x * 3", args=["--dtype", "float32"])
    assert code == 0
    assert number_after(out, "y = ") == pytest.approx(0.3, rel=1e-6)


def test_a_real_pipe_and_bad_bytes():
    """Bytes that are not UTF-8 are refused as in a file, comments
    included: at the byte, naming it."""
    proc = subprocess.run(
        [sys.executable, "-m", "autograd_cli", "repl"],
        input=b"param x = 3\ny = x \xff 2\nz = 1  # caf\xe9\ny = x * x\n",
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stdout.decode() == "x = 3\ny = 9\n  ∂y/∂x = 6\n"
    errors = [x for x in proc.stderr.decode().splitlines() if "error" in x]
    assert errors == [
        "<repl>:2:7: error: the line is not valid UTF-8 (byte 0xff)",
        "<repl>:3:13: error: the line is not valid UTF-8 (byte 0xe9)",
    ]
    assert "Traceback" not in proc.stderr.decode()


def test_history_lives_under_xdg_state_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert repl.history_path() == str(tmp_path / "autograd-cli" / "history")
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert repl.history_path() == str(tmp_path / ".local" / "state" / "autograd-cli" / "history")


def test_a_history_that_cannot_be_written_is_ignored(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    readline = pytest.importorskip("readline")
    repl._save_history(readline)  # must not raise
    assert not (blocker / "autograd-cli").exists()


@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_a_history_that_is_not_a_file_is_neither_read_nor_written(tmp_path, kind):
    # readline would wait forever for a FIFO's writer; a device is not ours
    # to write.  Run in a process of its own: a hang fails there, not here.
    pytest.importorskip("readline")
    folder = tmp_path / "autograd-cli"
    folder.mkdir()
    history = folder / "history"
    if kind == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs")
        os.mkfifo(history)
    elif kind == "device":
        try:  # /dev/zero's device, made in the temporary folder
            os.mknod(history, stat.S_IFCHR | 0o666, os.stat("/dev/zero").st_rdev)
        except (OSError, AttributeError) as e:
            pytest.skip(f"cannot make a device node here (root only): {e}")
    else:
        history.mkdir()
    before = os.lstat(history)
    code = "from autograd_cli import repl; repl._save_history(repl._start_history())"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "XDG_STATE_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == b"", done.stderr
    after = os.lstat(history)
    assert (after.st_mode, after.st_rdev, after.st_ino) == (
        before.st_mode,
        before.st_rdev,
        before.st_ino,
    )
    assert os.listdir(folder) == ["history"]


def test_a_device_as_stdin_is_refused_at_once(tmp_path):
    # /dev/zero holds no newline: reading a line of it never ended, until
    # memory ran out (exit 70).  A node of its device, made here.
    zero = tmp_path / "zero"
    try:
        os.mknod(zero, stat.S_IFCHR | 0o666, os.stat("/dev/zero").st_rdev)
    except (OSError, AttributeError) as e:
        pytest.skip(f"cannot make a device node here (root only): {e}")
    import resource

    def bounded():  # were it read, 2 GiB of address space would end it soon
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    with open(zero, "rb") as stdin:
        done = subprocess.run(
            [sys.executable, "-m", "autograd_cli", "repl"],
            stdin=stdin,
            preexec_fn=bounded,
            capture_output=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    assert done.returncode == 1 and done.stdout == b""
    assert done.stderr == (
        b"autograd-cli: error: cannot read standard input: it is a device, not a file\n"
    )


def test_a_line_past_the_read_limit_stops_the_session(monkeypatch, capsys):
    import io

    from autograd_cli import sources

    monkeypatch.setattr(sources, "READ_LIMIT", 1000)
    lines = b"x = 1\ny = " + b"1 + " * 500 + b"1\nz = 2\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(lines)))
    assert repl.run() == 1
    out, err = capsys.readouterr()
    assert out == "x = 1\n"  # the long line is not run, nor what follows it
    assert err == "<repl>:2: error: a line goes on past the 1,000 bytes autograd-cli reads\n"


def test_a_line_of_the_read_limit_is_read(monkeypatch, capsys):
    import io

    from autograd_cli import sources

    monkeypatch.setattr(sources, "READ_LIMIT", 1000)
    line = b"y = 1" + b" " * 995  # 1,000 bytes, then its newline
    lines = b"x = 1\n" + line + b"\nz = 2\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(lines)))
    assert repl.run() == 0
    out, err = capsys.readouterr()
    assert (out, err) == ("x = 1\ny = 1\nz = 2\n", "")


def test_ctrl_c_on_a_terminal_drops_the_line_and_goes_on(monkeypatch, capsys):
    """As in Python's REPL: Ctrl-C while typing (or computing) drops that
    line, says KeyboardInterrupt, and the session goes on; Ctrl-D ends it
    with exit 0."""
    typed = iter(["param x = 2", KeyboardInterrupt, "y = x * 5", EOFError])

    def read_line(interactive):
        assert interactive
        item = next(typed)
        if isinstance(item, type):
            raise item
        return item

    monkeypatch.setattr(repl, "is_terminal", lambda stream: True)
    monkeypatch.setattr(repl, "_read_line", read_line)
    monkeypatch.setattr(repl, "_start_history", lambda: None)
    assert repl.run() == 0
    out, err = capsys.readouterr()
    assert out == "x = 2\ny = 10\n  ∂y/∂x = 5\n"
    assert "\nKeyboardInterrupt\n" in err


def test_ctrl_c_without_a_terminal_stops_the_session(monkeypatch):
    monkeypatch.setattr(repl, "is_terminal", lambda stream: False)

    def interrupted(interactive):
        raise KeyboardInterrupt

    monkeypatch.setattr(repl, "_read_line", interrupted)
    with pytest.raises(KeyboardInterrupt):
        repl.run()


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_a_terminal_session(tmp_path):
    """On a terminal: a prompt, Ctrl-D leaves with exit 0 (even after an
    error, as Python's REPL), and the history is written."""
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:  # the child: the repl on the terminal
        os.environ.update({"XDG_STATE_HOME": str(tmp_path), "NO_COLOR": "1", "TERM": "dumb"})
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, "-m", "autograd_cli", "repl"])
    seen = b""

    def read_until(done, timeout=30):
        """Read the terminal until `done(seen)`; a line is typed only at a
        prompt, as readline drops what was typed before it took over."""
        nonlocal seen
        end = time.monotonic() + timeout
        while not done(seen):
            left = end - time.monotonic()
            assert left > 0, seen
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk

    def prompts(n):
        return lambda text: text.count(b">>> ") >= n

    try:
        read_until(prompts(1))
        os.write(fd, b"param x = 2\r")
        read_until(prompts(2))
        os.write(fd, b"y = x ^ 2\r")
        read_until(prompts(3))
        os.write(fd, b"y = x ** 2\r")
        read_until(prompts(4))
        os.write(fd, b"\x04")
        end = time.monotonic() + 30
        while time.monotonic() < end:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"the session did not end on Ctrl-D: {seen!r}")
    finally:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        read_until(lambda text: True)
        os.close(fd)
    text = seen.decode("utf-8", errors="replace").replace("\r\n", "\n")
    assert "\nx = 2\n" in text
    assert "<repl>:2:7: error: unexpected character '^'" in text
    assert "\ny = 4\n  ∂y/∂x = 4\n" in text
    assert os.waitstatus_to_exitcode(status) == 0, text
    history = (tmp_path / "autograd-cli" / "history").read_text()
    assert "param x = 2" in history and "y = x ** 2" in history


def test_control_characters_are_shown_escaped():
    code, out, err = session(":\x1b[2J", ":functions \x07", "x = \x00")
    assert code == 1
    assert "\x1b" not in err and "\x07" not in out and "\x00" not in err
    assert "unknown command ':\\x1b[2J'" in err
    assert "named '\\x07'" in err and "\x07" not in err
    assert "<repl>:3:5: error: unexpected character '\\x00'" in err
