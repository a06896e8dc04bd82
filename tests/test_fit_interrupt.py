"""Ctrl-C in a real process: `fit` run as a command, its stderr on a
terminal (a pseudo-terminal, so that its progress bar is drawn), stopped by
SIGINT while it steps.  It must report the best point so far with the
reason "interrupted", write --out, exit 130 and print no traceback.

No timing is assumed: the signal is sent once the progress bar shows that
steps are being taken, and every wait has a generous timeout, so the test
holds on a loaded machine."""

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from clitools import invoke, strict_json

pty = pytest.importorskip("pty", reason="needs a POSIX pseudo-terminal")

ROOT = Path(__file__).resolve().parent.parent
DANWOOD = ROOT / "examples" / "danwood.expr"  # loads its data from a CSV file
STEPS = 10_000_000
WAIT = 300  # seconds: only a hung or crashed process comes near it


class Terminal:
    """A pseudo-terminal for a child process's stderr; what the child
    writes is read by a thread, so the child never blocks on a full
    terminal, and can be waited for."""

    def __init__(self):
        self.master, self.slave = pty.openpty()
        self.data = bytearray()
        self.closed = False
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)

    def start(self):
        """Read in the background, the child having its own copy of the
        terminal's other end."""
        os.close(self.slave)
        self.thread.start()

    def _read(self):
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO on Linux once the child has closed it
                chunk = b""
            with self.changed:
                if chunk:
                    self.data += chunk
                else:
                    self.closed = True
                self.changed.notify_all()
            if not chunk:
                return

    def wait_for(self, pattern: bytes, timeout: float):
        """The last match of `pattern` once there is one, or None when the
        child closes the terminal or `timeout` seconds pass first."""

        def found():
            return list(re.finditer(pattern, self.data))

        with self.changed:
            self.changed.wait_for(lambda: self.closed or found(), timeout)
            matches = found()
        return matches[-1] if matches else None

    def text(self, timeout: float) -> str:
        """All the child wrote, once it has closed the terminal."""
        self.thread.join(timeout)
        os.close(self.master)
        return bytes(self.data).decode("utf-8", "replace")


def _default_sigint():
    # A process started in the background by a non-interactive shell (a CI
    # step, `cmd &`) inherits SIGINT ignored, and Python then leaves it
    # ignored; the child must get Ctrl-C as an interactive shell gives it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextlib.contextmanager
def _reaped(proc):
    """Kill `proc` on the way out if it still runs (after a failure)."""
    try:
        yield
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(WAIT)


def _endless_fit(tmp_path, terminal, *more):
    """`fit --method adam` on DanWood for STEPS steps without a convergence
    test, reporting JSON on stdout (a pipe), its bar on `terminal`."""
    quiet = ("NO_COLOR", "FORCE_COLOR", "AUTOGRAD_CLI_DEBUG")
    env = {k: v for k, v in os.environ.items() if k not in quiet}
    env.update(TERM="xterm", COLUMNS="200")
    args = ["fit", str(DANWOOD), "--method", "adam", "--steps", str(STEPS), "--tol", "0"]
    return subprocess.Popen(
        [sys.executable, "-m", "autograd_cli", *args, *more, "-f", "json"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal.slave,
        cwd=tmp_path,
        env=env,
        preexec_fn=_default_sigint,
    )


def test_ctrl_c_stops_a_running_fit_reports_the_best_point_and_exits_130(tmp_path):
    out = tmp_path / "best.json"
    terminal = Terminal()
    proc = _endless_fit(tmp_path, terminal, "--out", str(out))
    with _reaped(proc):
        terminal.start()
        # `--tol 0`: no convergence test, so the fit steps until stopped.
        # A step above 0 on the bar means the optimiser is in its loop.
        bar = rb"step ([1-9][0-9]*)/%d objective [-+.e0-9]+ \|gradient\| [-+.e0-9]+"
        shown = terminal.wait_for(bar % STEPS, WAIT)
        if shown is None:
            proc.kill()
            proc.communicate(timeout=WAIT)
            pytest.fail(f"no step shown on the terminal:\n{terminal.text(WAIT)}")
        proc.send_signal(signal.SIGINT)
        stdout, _ = proc.communicate(timeout=WAIT)
    stderr = terminal.text(WAIT)

    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "the fit did not converge: interrupted after" in stderr
    # The fit itself handled the interruption (the launcher's last resort
    # would say this and print no report).
    assert "autograd-cli: interrupted" not in stderr

    fit = strict_json(stdout.decode())["fit"]
    assert fit["method"] == "adam"
    assert fit["reason"] == "interrupted" and fit["converged"] is False
    assert fit["steps"] >= int(shown.group(1))
    assert len(fit["history"]) == fit["steps"] + 1
    assert fit["objective"]["end"] <= min(f for _, f in fit["history"])

    # --out holds the report's point, and round-trips through --set-json.
    fitted = strict_json(out.read_text())
    assert fitted == {name: p["value"] for name, p in fit["params"].items()}
    at_best = invoke(["eval", DANWOOD, "--set-json", out, "-f", "json"])
    assert at_best.exit_code == 0, at_best.output
    doc = strict_json(at_best.stdout)
    assert {name: doc["nodes"][name]["value"] for name in fitted} == fitted
    assert doc["value"] == pytest.approx(fit["objective"]["end"], rel=1e-12)


def test_a_terminal_that_goes_away_loses_the_bar_not_the_fit(tmp_path):
    # The progress bar's terminal closes while the fit runs (a dropped ssh
    # session, a closed terminal window): every later write of stderr
    # fails, and the fit must go on, then report on stdout as ever.
    terminal = Terminal()
    proc = _endless_fit(tmp_path, terminal)
    with _reaped(proc):
        terminal.start()
        shown = terminal.wait_for(rb"step ([1-9][0-9]*)/%d" % STEPS, WAIT)
        os.close(terminal.master)  # the terminal is gone: writes to it fail (EIO)
        terminal.thread.join(WAIT)
        if shown is None:
            proc.kill()
            proc.communicate(timeout=WAIT)
            pytest.fail("no step shown on the terminal")
        # Long enough for the bar to be redrawn many times into the void.
        time.sleep(2)
        assert proc.poll() is None, "the fit stopped when its terminal went away"
        proc.send_signal(signal.SIGINT)
        stdout, _ = proc.communicate(timeout=WAIT)
    assert proc.returncode == 130
    fit = strict_json(stdout.decode())["fit"]
    assert fit["reason"] == "interrupted" and fit["steps"] >= int(shown.group(1))
