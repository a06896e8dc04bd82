"""Running `autograd-cli test`: each .expr file against its golden file
(`check_file`), and the whole run (`run_tests`)."""

from __future__ import annotations

import os
import sys
import time

from ..errors import ExprError, display_path
from .compare import DEFAULT_TOLERANCES, compare, moved_warnings
from .files import (
    GOLDEN_SUFFIX,
    expr_path,
    find_expr_files,
    golden_path,
    link_text,
    read_found,
    resolve,
    tree_of,
)
from .format import golden_text, locate, project, read_golden
from .report import Outcome, json_document, junit_xml, summary, text_block
from .write import write_atomically, write_report


def _run(source, golden, max_elements, access=None):
    """Load and run the .expr `source` as `golden` says (defaults without
    one); its `load` calls read as `access` allows."""
    from ..compiling import load
    from ..model import suggest
    from ..running import run

    if golden is None:
        model = load(source, max_elements=max_elements, keep_exprs=False, access=access)
        return run(model, every_node=False)
    model = load(
        source,
        dtype=golden.dtype,
        values=golden.values,
        any_shape=True,
        max_elements=max_elements,
        keep_exprs=False,
        access=access,
    )
    target = golden.target
    if target is not None and target not in model.by_name:
        raise ExprError(
            f"the target '{target}' is not bound in {source.name}{suggest(target, model.by_name)}",
            locate(golden.source, ["target"]),
        )
    return run(model, target, every_node=False)


def unused_golden(gpath) -> Outcome:
    """A golden file whose .expr is gone: a failure, as a snapshot tool
    reports an unused snapshot (a renamed .expr left its golden file
    behind, and whatever it pinned is no longer tested).  --update leaves
    it: deleting files is for their owner."""
    shown = display_path(gpath)
    return Outcome(
        gpath,
        gpath,
        "fail",
        "unused",
        error_fallback=shown,
        note=f"no {display_path(expr_path(gpath))} for this golden file (delete it "
        f"if that file is gone for good)",
    )


def check_file(
    path, *, tree=None, rtol=None, atol=None, update=False, max_elements=None, allow_read=()
) -> Outcome:
    """Test one .expr file against its golden file (and rewrite it with
    `update` when it is missing or differs, or when only the places of its
    warnings have moved: `moved_warnings`); a golden file named as `path`
    has lost its .expr (`unused_golden`).  `tree` is the tested tree (see
    `resolve`; by default the file's directory).  The file's `load` calls
    read under its own directory, and under `allow_read`'s."""
    from ..jsonout import report_dict
    from ..options import DEFAULT_MAX_ELEMENTS
    from ..process import gc_paused
    from ..sources import Access

    max_elements = max_elements or DEFAULT_MAX_ELEMENTS
    if path.endswith(GOLDEN_SUFFIX):
        return unused_golden(path)
    tree = tree_of(path) if tree is None else tree
    gpath = golden_path(path)
    shown, gshown = display_path(path), display_path(gpath)
    outcome = Outcome(path, gpath, "pass", error_fallback=shown)
    access = Access.of_file(path, allow_read)
    # Imported before the clock starts: `rounding_noise` needs numpy.random,
    # `_run` the compiler, its tables and the engine, and their first import would
    # otherwise be counted in the first file's time.
    import numpy.random  # noqa: F401

    from .. import compiling, jsonin, model, parse_tables, running  # noqa: F401

    start = time.perf_counter()
    try:
        with gc_paused():
            source = read_found(path, resolve(path, tree))
            outcome.error_fallback = gshown
            greal = resolve(gpath, tree)
            glink = greal != gpath and os.path.islink(gpath)
            outcome.error_fallback = shown
            if not os.path.lexists(gpath):
                report = _run(source, None, max_elements, access)  # a file in error says so first
                if not update:
                    outcome.status, outcome.reason = "fail", "missing"
                    outcome.note = f"no golden file {gshown} (--update writes it)"
                    return outcome
                outcome.error_fallback = gshown
                write_atomically(gpath, golden_text(report_dict(report, path)))
                outcome.status, outcome.note = "created", f"wrote {gshown}"
                return outcome
            outcome.error_fallback = gshown
            golden = read_golden(gpath, greal)
            outcome.error_fallback = shown
            report = _run(source, golden, max_elements, access)
            default_rtol, default_atol = DEFAULT_TOLERANCES[report.model.dtype]
            outcome.rtol = default_rtol if rtol is None else rtol
            outcome.atol = default_atol if atol is None else atol
            shown_mismatches, count = compare(golden, report, outcome.rtol, outcome.atol)
            outcome.mismatches, outcome.count = shown_mismatches, count
            if count:
                outcome.status, outcome.reason = "fail", "mismatch"
                if update and glink:
                    # Writing through would change the file linked to (another
                    # test's golden file, perhaps); replacing the link would
                    # undo what its owner set up.
                    outcome.note = (
                        f"not rewritten: {gshown} is a link (to "
                        f"{link_text(gpath)}), and --update writes only "
                        "regular files"
                    )
                elif update:
                    new = project(report_dict(report, path), golden.doc)
                    outcome.error_fallback = gshown
                    write_atomically(gpath, golden_text(new))
                    outcome.status, outcome.reason = "updated", None
                    outcome.note = f"rewrote {gshown} ({count} mismatch{'es' * (count != 1)})"
            elif update and not glink:
                # A warning's place is not compared, so a comment added above it
                # does not fail the file; --update still brings the place up to date.
                moved = moved_warnings(golden, report)
                if moved:
                    new = project(report_dict(report, path), golden.doc)
                    outcome.error_fallback = gshown
                    write_atomically(gpath, golden_text(new))
                    outcome.status = "updated"
                    outcome.note = f"rewrote {gshown} ({moved} warning{'s' * (moved != 1)} moved)"
    except ExprError as err:
        outcome.status, outcome.reason, outcome.error = "fail", "error", err
        outcome.mismatches, outcome.count = [], 0
    except OSError as err:  # writing a golden file; reading ones is an ExprError
        outcome.status, outcome.reason, outcome.unwritten = "fail", "error", True
        outcome.error = ExprError(f"cannot write the golden file: {err.strerror or err}")
        outcome.error_fallback = gshown
        outcome.mismatches, outcome.count, outcome.note = [], 0, ""
    finally:
        outcome.seconds = time.perf_counter() - start
    return outcome


def run_tests(
    paths,
    *,
    rtol=None,
    atol=None,
    update=False,
    junit_xml_path=None,
    format="text",
    max_elements=None,
    allow_read=(),
) -> int:
    """`autograd-cli test`: the exit code: 0 when every file passes, 1 when
    one fails, 74 (EX_IOERR) when an output could not be written (stdout,
    the JUnit XML report, a golden file of --update), whatever the tests
    gave: the run did not leave what it was asked to."""
    from ..errors import want_colour
    from ..streams import (
        EXIT_INPUT,
        EXIT_IO,
        EXIT_OK,
        internal_error,
    )
    from ..streams import (
        Stop as _Stop,
    )
    from ..streams import (
        write_output as _write,
    )

    gone = []

    def out(text, json=False):
        """Write to stdout; once its reader has gone (`| head`) or a write
        failed (a full disk: said on stderr), carry on without it: every
        file is still tested, the JUnit report written and a failure still
        in the exit code."""
        if not gone:
            try:
                _write(text, json=json)
            except _Stop as stop:
                gone.append(stop.code)

    try:
        files, problems = find_expr_files(paths or ["."])
        outcomes = []
        for path, message in problems:
            outcomes.append(
                Outcome(
                    path,
                    "",
                    "fail",
                    "error",
                    error=ExprError(message),
                    error_fallback=display_path(path),
                )
            )
        colour = format == "text" and want_colour(sys.stdout)
        width = min(
            60,
            max([len(display_path(p)) for p, _ in files] + [len(o.shown) for o in outcomes] + [0]),
        )
        if format == "text":
            for o in outcomes:
                out(text_block(o, colour, width))
        for path, tree in files:
            o = check_file(
                path,
                tree=tree,
                rtol=rtol,
                atol=atol,
                update=update,
                max_elements=max_elements,
                allow_read=allow_read,
            )
            outcomes.append(o)
            if format == "text":
                out(text_block(o, colour, width))
        if not outcomes:
            where = ", ".join(display_path(p) for p in paths or ["."])
            sys.stderr.write(f"autograd-cli: error: no .expr files found in {where}\n")
            return EXIT_INPUT
        if format == "text":
            out(summary(outcomes, update) + "\n")
        else:
            from ..jsonout import to_json

            out(to_json(json_document(outcomes, update), compact=False) + "\n", json=True)
        code = EXIT_INPUT if any(o.failed for o in outcomes) else EXIT_OK
        if any(gone) or any(o.unwritten for o in outcomes):
            code = EXIT_IO
        if junit_xml_path is not None:
            try:
                write_report(junit_xml_path, junit_xml(outcomes))
            except OSError as err:
                sys.stderr.write(
                    f"{display_path(junit_xml_path)}: error: cannot write the "
                    f"JUnit XML report: {err.strerror or err}\n"
                )
                code = EXIT_IO
        return code
    except _Stop as stop:
        return stop.code
    except Exception as exc:  # a bug: never a traceback for the user
        return internal_error(exc)
