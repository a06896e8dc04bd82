"""`hessian` and `jacobian`: blocks of derivatives for the leaves --wrt
names, within --max-elements."""

from __future__ import annotations

import math

from ..errors import ExprError
from .runner import Command


class _Blocks(Command):
    """hessian and jacobian: derivative blocks for the leaves --wrt names,
    under the JSON key `field`."""

    field = ""

    def derivatives(self, model, of, names, max_elements):
        """The target's binding and the blocks, by leaf name."""
        raise NotImplementedError

    def compute(self, file):
        import numpy as np

        from ..checking import select_leaves

        options = file.options
        model = file.load()
        selection = select_leaves(model, options.wrt)
        with np.errstate(all="ignore"):
            target, blocks = self.derivatives(
                model, options.of, selection.names, options.max_elements
            )
        return model, target, blocks, selection

    def render(self, result, out):
        from ..render import blocks_dict, render_blocks

        model, target, blocks, selection = result
        if out.format == "json":
            out.json(blocks_dict(model, out.path, target.name, self.field, blocks, selection))
        else:
            out.table(
                lambda console: render_blocks(
                    model, out.label, target.name, self.field, blocks, selection, console
                )
            )


class Hessian(_Blocks):
    """`autograd-cli hessian`: second derivatives by forward over reverse."""

    field = "hessian"

    def derivatives(self, model, of, names, max_elements):
        from ..checking import scalar_target
        from ..derivatives import hessian
        from ..engine import OutOfMemory

        target = scalar_target(model, of)
        _check_hessian_size(model, target, names, max_elements)
        nodes = [model.by_name[n].node for n in names]
        try:
            raw = hessian(model.graph, target.node, nodes, max_elements=max_elements)
        except OutOfMemory as e:  # on the recorded tape, whose nodes the file does not name
            raise e.error from None
        return target, {
            a: {b: raw[(model.by_name[a].node, model.by_name[b].node)] for b in names}
            for a in names
        }


class Jacobian(_Blocks):
    """`autograd-cli jacobian`: derivatives of every element of a target, by
    forward mode (a batch of tangents, one column per input element) when
    the inputs have fewer elements than the target, else by reverse mode
    (one sweep per element of the target); `mode` forces one."""

    field = "jacobian"

    def __init__(self, mode="auto"):
        self.mode = mode
        self.ran = None  # the mode that ran on the last file

    def derivatives(self, model, of, names, max_elements):
        from ..derivatives import jacobian, jacobian_reverse, tangent_size
        from ..engine import OutOfMemory
        from ..running import out_of_memory

        target = model.binding(of, "--of") if of is not None else model.bindings[-1]
        _check_jacobian_size(model, target, names, max_elements)
        nodes = [model.by_name[n].node for n in names]
        inputs = sum(math.prod(model.shapes[i]) for i in nodes)
        outputs = math.prod(model.shapes[target.node])
        forward = self.mode == "forward" or (self.mode == "auto" and inputs < outputs)
        self.ran = "forward" if forward else "reverse"
        try:
            if forward:
                # B tangent columns make every tangent B times its node: B is
                # chosen so that the largest stays within --max-elements.
                per = tangent_size(model.graph, nodes, model.shapes, [target.node])
                raw = jacobian(model.graph, target.node, nodes, batch=max(1, max_elements // per))
            else:
                raw = jacobian_reverse(model.graph, target.node, nodes)
        except OutOfMemory as e:
            raise out_of_memory(model, e.node, e.phase) from None
        return target, dict(zip(names, raw))

    def render(self, result, out):
        from ..render import blocks_dict, render_blocks

        model, target, blocks, selection = result
        if out.format == "json":
            doc = blocks_dict(model, out.path, target.name, self.field, blocks, selection)
            out.json({**doc, "mode": self.ran})
        else:
            how = (
                "by forward mode, one tangent per element of the inputs"
                if self.ran == "forward"
                else f"one reverse sweep per element of {target.name}"
            )
            out.table(
                lambda console: render_blocks(
                    model, out.label, target.name, self.field, blocks, selection, console, how
                )
            )


def _check_jacobian_size(model, target, names, max_elements):
    out = math.prod(model.shapes[target.node])
    for n in names:
        size = out * math.prod(model.shapes[model.by_name[n].node])
        if size > max_elements:
            raise ExprError(
                f"the Jacobian of '{target.name}' with respect to '{n}' would have "
                f"{size:,} elements, over the limit of {max_elements:,} "
                "(--max-elements)",
                target.statement.name_span,
            )


def _check_hessian_size(model, target, names, max_elements):
    for a in names:
        for b in names:
            size = math.prod(model.shapes[model.by_name[a].node]) * math.prod(
                model.shapes[model.by_name[b].node]
            )
            if size > max_elements:
                raise ExprError(
                    f"the Hessian of '{target.name}' with respect to '{a}' and "
                    f"'{b}' would have {size:,} elements, over the limit of "
                    f"{max_elements:,} (--max-elements)",
                    target.statement.name_span,
                )
