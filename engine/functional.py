"""A graph as a function: ``grad`` (its gradients) and ``replay`` (its value at new
numbers), both leaving the graph as it was.

``grad`` is the chain rule's one sweep (engine/autograd.py), borrowing the nodes'
``.grad`` slots and putting them back. ``replay`` runs the recorded ops again,
through ``engine.apply`` — so every check, mode and message is eager mode's own.
"""

from __future__ import annotations

from typing import Any, Sequence, overload

from .autograd import Node, check_node, check_recorded, order, refuse_non_finite, sweep
from .modes import enable_grad
from .value import Constant, Value, apply

__all__ = ["grad", "replay"]


@overload
def grad(output: Value, wrt: Value, create_graph: bool = False) -> Any: ...
@overload
def grad(output: Value, wrt: Sequence[Value], create_graph: bool = False) -> list[Any]: ...


def grad(output: Value, wrt: Value | Sequence[Value], create_graph: bool = False) -> Any:
    """∂output/∂wrt, without touching any ``.grad``.

    ``wrt`` is one Value (returns one gradient) or a sequence (returns a list). A node
    ``output`` does not depend on gets 0. A constant gets its gradient too (``backward``
    asks none of it; ``grad`` answers for any node). With ``create_graph=True`` the gradients
    are Values built from the same rules, so they can be differentiated again:
    ``grad(grad(y, x, create_graph=True), x)`` is ∂²y/∂x²."""
    check_node(output, "grad", "output:")
    single = isinstance(wrt, Node)
    try:
        targets = [wrt] if single else list(wrt)  # type: ignore[arg-type]
    except TypeError:
        targets = [wrt]                         # not iterable: reported just below
    for t in targets:
        if not isinstance(t, Node):
            raise TypeError(f"grad: wrt must be a Value or a sequence of Values, "
                            f"got {type(t).__name__} {t!r}")
    check_recorded(output, "grad")
    nodes = order(output)
    in_graph = set(nodes)
    kept = [node.grad for node in nodes]
    try:
        _zero_every_grad(nodes)
        sweep(nodes, 1.0)                       # the numbers, checked …
        refuse_non_finite(nodes, "grad", [t for t in targets if t in in_graph])
        if create_graph:                        # … then the same sweep on Values
            _zero_every_grad(nodes)
            with enable_grad():
                sweep(nodes, 1.0, create_graph=True)
        results = [t.grad if t in in_graph else 0.0 for t in targets]
    finally:
        for node, g in zip(nodes, kept):
            node.grad = g
    if create_graph:
        results = [r if isinstance(r, Value) else Constant(r) for r in results]
    else:
        results = [float(r) for r in results]
    return results[0] if single else results


def _zero_every_grad(nodes: list[Value]) -> None:
    """Every ``.grad`` to 0.0, constants' too (``clear`` leaves theirs None):
    ``grad`` answers for any node it is asked about."""
    for node in nodes:
        node.grad = 0.0


def replay(nodes: Sequence[Value], changed: dict[Value, Value]) -> dict[Value, Value]:
    """Run the recorded ops of ``nodes`` (a graph in ``order``) again where an input
    changed: ``changed`` maps nodes to their replacements, and the result maps every
    node downstream of them to its new node as well (other nodes are unchanged).

    Each op runs through ``engine.apply``, so it records or not by the mode in force,
    and errors are eager mode's own, naming the op, its values and labels."""
    made = dict(changed)
    for node in nodes:
        if node.op is not None and node not in made and (
                node.input_a in made or node.input_b in made):
            new = apply(node.op, *(made.get(v, v) for v in node.inputs))
            new.label = node.label
            made[node] = new
    return made
