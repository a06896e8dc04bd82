"""autograd-cli: a command-line gradient calculator.

Parse a file of bindings into a computational graph, evaluate it with numpy,
backpropagate through it (reverse-mode automatic differentiation) and report
every named node's value and gradient.
"""

__version__ = "0.1.0"
