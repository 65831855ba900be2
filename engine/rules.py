"""The op table's rules as source text, with their names renamed.

A rule in ``engine/ops.py`` is an expression over ``a``, ``b`` and ``out``. To
write it into generated code — the eager fast paths of ``Value`` and the
straight-line programs of ``engine.compile`` — each of those names is replaced
by a variable name or a number. The replacement works on the parsed tree
(``ast``), never on the text, so ``a`` inside ``abs`` or ``tanh`` stays put.
"""

from __future__ import annotations

import ast
from typing import Mapping, Union

Replacement = Union[str, float]


class _Rename(ast.NodeTransformer):
    def __init__(self, names: Mapping[str, Replacement]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id not in self.names:
            return node
        new = self.names[node.id]
        if isinstance(new, str):
            return ast.copy_location(ast.Name(id=new, ctx=ast.Load()), node)
        return ast.copy_location(number(float(new)), node)


def number(x: float) -> ast.expr:
    """``x`` as an expression: a float literal, a negative one (−0.0 too) as unary
    minus on a literal, as Python itself parses ``-1.5``."""
    if x < 0.0 or (x == 0.0 and str(x).startswith("-")):
        return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(-x))
    return ast.Constant(x)


def substitute(rule: str, names: Mapping[str, Replacement]) -> ast.expr:
    """``rule`` parsed, with each name in ``names`` replaced by a variable name
    (a ``str``) or a number (a ``float``)."""
    tree = ast.parse(rule, mode="eval").body
    return _Rename(names).visit(tree)


def render(rule: str, names: Mapping[str, Replacement]) -> str:
    """``substitute`` as source text: ``render("-out / b", {"out": "v3", "b": "v2"})``
    is ``'-v3 / v2'``."""
    return ast.unparse(substitute(rule, names))
