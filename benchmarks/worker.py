"""A worker process: one side of a comparison, timed in a process of its own.

Started by `harness.Worker`, it reads one JSON message per line on stdin
and answers one per line:

    {"setup": KIND, "args": {...}}  ->  {"check": ...}     set up a side of sides.SIDES
    {"run": true}                   ->  {"seconds": ..., "page_faults": ...}
    {"run": NAME}                   ->  the same, for the run called NAME of a
                                        side that sets up several (a dict of them)
    {"quit": true}                  ->  (exits)

A side that cannot run answers {"failed": "RecursionError"}; any other
exception is a bug and answers {"fatal": traceback}.

Each run is timed here, around the call alone.  Garbage left by the
previous run is collected before the timer starts; the collector stays
enabled during the run, as in normal use.  The minor page faults of the run
are counted too: fresh memory from the operating system can cost more than
the arithmetic done in it.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
import traceback

import sides

try:
    import resource

    def page_faults() -> int | None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
except ImportError:  # Windows

    def page_faults() -> int | None:
        return None


def timed(run) -> dict:
    gc.collect()
    faults = page_faults()
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    if faults is not None:
        faults = page_faults() - faults
    del result  # freed outside the timer
    return {"seconds": seconds, "page_faults": faults}


def main() -> None:
    # Answers go to the original stdout; anything the code under test prints
    # goes to stderr instead.
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    run = None
    for line in sys.stdin:
        message = json.loads(line)
        if "quit" in message:
            break
        try:
            if "setup" in message:
                run, check = sides.SIDES[message["setup"]](**message["args"])
                reply = {"check": check}
            elif isinstance(run, dict):
                reply = timed(run[message["run"]])
            else:
                reply = timed(run)
        except RecursionError:
            reply = {"failed": "RecursionError"}
        except Exception:
            reply = {"fatal": traceback.format_exc()}
        answers.write(json.dumps(reply) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
