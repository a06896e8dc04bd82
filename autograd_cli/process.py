"""How an autograd-cli process starts and ends.

A run on a small file is mostly start-up and shut-down, so both are cut
short: importing Typer (and what it brings) takes longer than evaluating a
small file, so a plain `eval` runs without it (launch.py's fast path);
modules load with the cyclic garbage collector off, and what they made is
then frozen out of later collections (`collector_off`); the last file's
objects are kept (`keep`) and the process leaves without tearing the
interpreter down (`leave`), as freeing a long file's objects one by one
costs more than the operating system taking the memory back at once.
While a file is compiled and run the collector is paused (`gc_paused`).
`--timings` counts start-up from `STARTED`.
"""

from __future__ import annotations

import time

# The process's CPU time so far (the interpreter's start, all of it CPU when
# its files are in the page cache) and a clock to count on from: --timings'
# start-up is the one plus what the other counts until the imports are done.
STARTED = (time.process_time(), time.perf_counter())

import contextlib  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

_kept = []


@contextlib.contextmanager
def collector_off():
    """Python's cyclic garbage collector off, for loading modules: they make
    hundreds of thousands of objects and no garbage, and the collector's
    passes over them would only slow the start.  The objects made so far are
    then frozen (`gc.freeze`): they live as long as the process, and a later
    collection would walk them all again."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


@contextlib.contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector: building a graph allocates
    millions of objects and no cycles, and the collector's passes over them
    would take half the time."""
    import gc

    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def keep(*objects):
    """Keep `objects` (the last file's model and results) until the process
    ends, in place of what was kept before: `leave` never frees them."""
    _kept[:] = objects


def leave(code: int):
    """End the process with `code` once stdout and stderr are flushed,
    without tearing the interpreter down.  A failed flush of stdout is
    reported (exit 74 unless the code already says a failure)."""
    from .streams import output_failed

    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    except OSError as e:
        failed = output_failed(e)
        code = code or failed
    except ValueError:
        pass
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code)


def startup_seconds():
    """Seconds from the start of this process to now, or None.

    The interpreter's own start (before autograd-cli's first line) is its
    CPU time, to the microsecond; from then on the wall clock counts.  If
    the kernel's clock says the process has been alive longer than that, as
    when its files came from a cold disk, the kernel's figure less one step
    of its clock is given: both are then figures the process has certainly
    lived, so start-up never exceeds the process's life."""
    cpu, clock = STARTED
    estimate = cpu + time.perf_counter() - clock
    kernel = _kernel_age()
    if kernel is None:
        return estimate
    return max(estimate, kernel - KERNEL_CLOCK_STEP)


# The kernel's process clock counts ticks (SC_CLK_TCK a second) and
# /proc/uptime hundredths: an age read from them can be one tick too long.
KERNEL_CLOCK_STEP = max(0.01, 1 / os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 0.01


def _kernel_age():
    """Seconds since the process started, by the kernel's process clock
    (to its tick, 10 ms); None where /proc is not there."""
    try:
        with open("/proc/self/stat") as f:
            started = int(f.read().rpartition(")")[2].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - started / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None
