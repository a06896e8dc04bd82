"""The commands that report a file's run as it is: `eval` (values and
gradients), `graph` and `explain`; and `functions`, the language's
functions and operators."""

from __future__ import annotations

from ..errors import ExprError, display_path
from ..options import Options
from ..streams import EXIT_INPUT, EXIT_OK, Stop, internal_error, write_output
from .runner import Command, Output, report_error, run


def eval_files(files, **options) -> int:
    """`autograd-cli eval` on `files`, with `Options`' fields as keywords;
    the exit code."""
    return run(Options(list(files), **options), Eval())


class Eval(Command):
    """`autograd-cli eval`: every binding's value and gradient."""

    def compute(self, file):
        options = file.options
        model = file.load(keep_exprs=False)
        report = file.run(model, every_node=False)
        selected = None
        if options.wrt:
            for name in options.wrt:
                model.binding(name, "--wrt")
            selected = set(options.wrt)
        if options.strict and report.warnings:
            w = report.warnings[0]
            raise ExprError(w.message + " (--strict)", w.span)
        return report, selected

    def render(self, result, out):
        from ..jsonout import report_json
        from ..render import render_table

        report, selected = result
        if out.format == "json":
            out.json_pieces(report_json(report, out.path, selected, compact=out.jsonl))
        else:
            out.table(lambda console: render_table(report, out.label, selected, console))


class Graph(Command):
    """`autograd-cli graph`: the computational graph with values and
    gradients, as DOT, Mermaid, a terminal tree or JSON."""

    def compute(self, file):
        return file.run(file.load())

    def render(self, report, out):
        from .. import graphs
        from ..jsonout import head_dict

        if out.format == "json":
            head = head_dict(report.model, out.path, report.target.name)
            out.json_pieces(graphs.graph_json(report, head, compact=out.jsonl))
        elif out.format == "tree":
            from ..graph_tree import render_tree

            out.table(lambda console: render_tree(report, console))
        else:
            out.text(graphs.to_dot(report) if out.format == "dot" else graphs.to_mermaid(report))


class Explain(Command):
    """`autograd-cli explain`: the chain rule for one gradient (--wrt),
    worked out."""

    def compute(self, file):
        from ..explain import explain

        report = file.run(file.load())
        return report, explain(report, file.options.wrt)

    def render(self, result, out):
        from ..explain import render_explain
        from ..jsonout import head_dict

        report, doc = result
        target = report.target.name
        if out.format == "json":
            out.json({**head_dict(report.model, out.path, target), **doc})
        else:
            out.text(render_explain(doc, target))


def functions(name: str | None = None, format: str = "table") -> int:
    """`autograd-cli functions [NAME]`: every function and operator of the
    language (or the one called `name`) with its signature, what it does,
    its derivative and its conventions; the exit code (1 for an unknown
    name)."""
    try:
        from ..catalog import catalog, lookup
        from ..functions import FUNCTIONS
        from ..jsonout import SCHEMA, to_json
        from ..model import function_hint

        doc = catalog() if name is None else lookup(name)
        if doc is None:
            hint = function_hint(name, FUNCTIONS)
            report_error(
                ExprError(f"there is no function or operator named '{display_path(name)}'{hint}"),
                "autograd-cli functions",
            )
            return EXIT_INPUT
        if format == "json":
            write_output(to_json({"schema": SCHEMA, **doc}, compact=False) + "\n", json=True)
        else:
            from ..catalog import render_catalog

            Output(None, None, format, False).table(
                lambda console: render_catalog(doc, console, footer=name is None)
            )
    except Stop as stop:
        return stop.code
    except Exception as exc:  # a bug: never a traceback for the user
        return internal_error(exc)
    return EXIT_OK
