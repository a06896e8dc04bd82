"""What became of each file `autograd-cli test` tested, and the reports of
it: the text lines, the summary, the JSON document and JUnit XML."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import ExprError, display_path, format_diagnostic
from ..jsonout import SCHEMA


@dataclass
class Outcome:
    """What became of one .expr file."""

    path: str
    golden: str
    status: str  # pass, fail, updated, created
    reason: str | None = None  # of a failure: mismatch, missing, unused, error
    seconds: float = 0.0
    mismatches: list = field(default_factory=list)  # the first SHOWN_MISMATCHES
    count: int = 0  # mismatches in all
    error: ExprError | None = None
    error_fallback: str = ""
    note: str = ""
    rtol: float | None = None  # the tolerances used
    atol: float | None = None
    unwritten: bool = False  # --update could not write the golden file

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    @property
    def shown(self) -> str:
        """The path as people see it (`display_path`)."""
        return display_path(self.path)

    def detail_lines(self, colour=False) -> list:
        """The lines under the file's line: mismatches, or the located error."""
        if self.error is not None:
            return format_diagnostic(
                "error",
                self.error.message,
                self.error.span,
                self.error_fallback,
                self.error.notes,
                colour=colour,
            ).split("\n")
        lines = ["  " + m.text() for m in self.mismatches]
        if self.count > len(self.mismatches):
            lines.append(
                f"  ... and {self.count - len(self.mismatches)} more "
                f"({self.count} mismatches in all)"
            )
        return lines


_LABELS = {
    "pass": ("PASS", "32"),
    "fail": ("FAIL", "31"),
    "updated": ("UPDATED", "33"),
    "created": ("CREATED", "33"),
}


def text_block(o: Outcome, colour=False, width=0) -> str:
    """The file's line (status, path, time, note), then its details."""
    label, tint = _LABELS[o.status]
    head = f"\x1b[1;{tint}m{label:<7}\x1b[0m" if colour else f"{label:<7}"
    line = f"{head}  {o.shown:<{width}}  {o.seconds * 1e3:6.1f} ms"
    if o.note:
        line += f"  {o.note}"
    return "\n".join([line] + o.detail_lines(colour)) + "\n"


def summary(outcomes, update) -> str:
    """The last line of the text report: passed, failed (and updated)."""
    passed = sum(o.status == "pass" for o in outcomes)
    failed = sum(o.failed for o in outcomes)
    text = f"{passed} passed, {failed} failed"
    if update:
        text += f", {sum(o.status in ('updated', 'created') for o in outcomes)} updated"
    return text


def json_document(outcomes, update) -> dict:
    """The run as `--format json` prints it: the counts, then each file."""
    files = []
    for o in outcomes:
        d = {"file": o.path, "golden": o.golden, "status": o.status}
        if o.reason:
            d["reason"] = o.reason
        d["seconds"] = round(o.seconds, 6)
        if o.rtol is not None:
            d["rtol"], d["atol"] = o.rtol, o.atol
        if o.note:
            d["note"] = o.note
        if o.count:
            d["mismatch_count"] = o.count
            d["mismatches"] = [m.as_dict() for m in o.mismatches]
        if o.error is not None:
            e = {"message": o.error.message}
            if o.error.span is not None:
                e.update(
                    file=o.error.span.source.name,
                    line=o.error.span.line,
                    column=o.error.span.column,
                )
            else:
                e["file"] = o.error_fallback
            e["text"] = "\n".join(o.detail_lines())
            d["error"] = e
        files.append(d)
    doc = {
        "schema": SCHEMA,
        "passed": sum(o.status == "pass" for o in outcomes),
        "failed": sum(o.failed for o in outcomes),
    }
    if update:
        doc["updated"] = sum(o.status in ("updated", "created") for o in outcomes)
    doc["files"] = files
    return doc


_XML_BAD = None


def _xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 cannot hold (paths come here
    through `display_path`, their control characters escaped; this is for
    the rest)."""
    global _XML_BAD
    if _XML_BAD is None:
        _XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
    return _XML_BAD.sub("\ufffd", text)


def junit_xml(outcomes) -> str:
    """A JUnit XML report: a testcase per .expr file; a mismatch, a missing
    golden file or one without its .expr is a <failure>, a file that cannot
    be run an <error>."""
    import socket
    import xml.etree.ElementTree as ET
    from datetime import datetime, timezone

    failures = sum(o.failed and o.reason != "error" for o in outcomes)
    errors = sum(o.failed and o.reason == "error" for o in outcomes)
    total = sum(o.seconds for o in outcomes)
    counts = {
        "tests": str(len(outcomes)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": "0",
        "time": f"{total:.6f}",
    }
    root = ET.Element("testsuites", {"name": "autograd-cli test", **counts})
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": "autograd-cli golden files",
            **counts,
            "timestamp": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "hostname": socket.gethostname(),
        },
    )
    for o in outcomes:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": "autograd-cli.golden",
                "name": _xml_text(o.shown),
                "file": _xml_text(o.shown),
                "time": f"{o.seconds:.6f}",
            },
        )
        details = "\n".join(o.detail_lines())
        if o.failed:
            if o.reason == "error":
                tag, message = "error", details.split("\n", 1)[0]
            elif o.reason in ("missing", "unused"):
                tag, message = "failure", o.note
            else:
                tag = "failure"
                message = (
                    f"{o.count} mismatch{'es' * (o.count != 1)} with "
                    f"{display_path(o.golden)}: " + o.mismatches[0].text()
                )
            el = ET.SubElement(case, tag, {"type": o.reason, "message": _xml_text(message)})
            el.text = _xml_text(details or message)
        elif o.note:
            ET.SubElement(case, "system-out").text = _xml_text(o.note)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
