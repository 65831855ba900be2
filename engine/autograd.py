"""Reverse mode: one topological order, one loop of the chain rule.

``order`` sorts a graph without recursion (a 10⁶-deep chain is fine). ``backward``
walks it from the output, and for each node and each (input, local gradient) pair
does ``input.grad += local * node.grad``: one scalar step of the lessons'
recurrence δ_ℓ = (W_{ℓ+1}ᵀ δ_{ℓ+1}) ⊙ f′(z_ℓ).
"""

from __future__ import annotations

import math
from typing import Any, Sequence, Union, overload

from .modes import MODE
from .value import Constant, Value, creation_site  # noqa: F401  (creation_site re-exported)

Number = Union[int, float]


def order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, itself last, each node after all its inputs.

    Iterative depth-first search: no recursion limit, and each node appears once
    however many paths lead to it."""
    if not isinstance(root, Value):
        raise TypeError(f"order: expected a Value, got {type(root).__name__}")
    # The stack is the current path from the root. The node on top descends into
    # its first input not yet seen; with none left, it is finished. (A node seen
    # but unfinished is on the path, so in a graph without cycles every input
    # seen is finished before its consumer is.)
    seen = {root}
    nodes: list[Value] = []
    stack = [root]
    while stack:
        node = stack[-1]
        a = node.input_a
        if a is not None and a not in seen:
            seen.add(a)
            stack.append(a)
            continue
        b = node.input_b
        if b is not None and b not in seen:
            seen.add(b)
            stack.append(b)
            continue
        nodes.append(stack.pop())
    return nodes


def _check_gradient(gradient: Any, who: str) -> float:
    if isinstance(gradient, Value):
        gradient = gradient.data
    if isinstance(gradient, bool) or not isinstance(gradient, (int, float)):
        raise TypeError(f"{who}: gradient must be a number (the output is a scalar), "
                        f"got {type(gradient).__name__} {gradient!r}")
    seed = float(gradient)
    if not math.isfinite(seed):
        raise ValueError(f"{who}: gradient must be finite, got {seed!r}")
    return seed


def backward(root: Value, gradient: Number = 1.0) -> None:
    """Set ``node.grad`` = ∂root/∂node · gradient on every node of the graph.

    Interior nodes are recomputed from zero; leaves accumulate into what they hold."""
    if not isinstance(root, Value):
        raise TypeError(f"backward: expected a Value, got {type(root).__name__}")
    seed = _check_gradient(gradient, "backward")
    nodes = order(root)
    leaves = []
    held = []          # leaves' earlier gradients, added back in one step at the end so
    for node in nodes:  # that two calls give exactly twice (not a re-rounded sum)
        if node.op is None:
            leaves.append(node)
            if node.grad:
                held.append((node, node.grad))
        node.grad = 0.0
    root.grad = seed
    try:
        _propagate(nodes, leaves)
    finally:
        for node, earlier in held:
            node.grad += earlier


def _propagate(nodes: list[Value], leaves: list[Value]) -> None:
    if MODE.get().anomaly:
        return _backward_checked(nodes)
    for node in reversed(nodes):               # inputs are the node's slots (value.py)
        g = node.grad
        if g:                                  # nothing flows from a zero gradient
            a = node.input_a
            if a is not None:
                a.grad += node.local_a * g
                b = node.input_b
                if b is not None:
                    b.grad += node.local_b * g
    _check_leaves(leaves)


def _check_leaves(nodes: list[Value]) -> None:
    """Finite forward values can still give an infinite gradient (a product that
    overflows): say so instead of handing back inf or NaN."""
    for node in nodes:
        if node.op is None and node.grad - node.grad != 0.0 and math.isfinite(node.data):
            raise OverflowError(
                f"backward: the gradient reaching {node!r} is {node.grad}; run it under "
                f"engine.detect_anomaly() to find the op where it overflowed")


def _backward_checked(nodes: list[Value]) -> None:
    """``backward`` under ``detect_anomaly()``: every step is checked."""
    for node in reversed(nodes):
        g = node.grad
        if not g:
            continue
        for child, local in zip(node.inputs, node.local_grads):
            step = local * g
            if not math.isfinite(child.grad + step):    # the step, or the sum it makes
                where = getattr(node, "created_at", "<made outside detect_anomaly()>")
                inputs = ", ".join(f"{v.data!r}" for v in node.inputs)
                what = (f"backward produced {step} (local gradient {local!r} × upstream "
                        f"gradient {g!r})" if not math.isfinite(step) else
                        f"backward's step {step!r}, added to the {child.grad!r} its input "
                        f"already had, overflows")
                raise FloatingPointError(
                    f"{node.op.name}: {what}; op inputs: {inputs}; the op was created at {where}")
            child.grad += step


def zero_grad(root: Value) -> None:
    """Set ``.grad`` to 0 on ``root`` and every node it depends on."""
    for node in order(root):
        node.grad = 0.0


@overload
def grad(output: Value, wrt: Value, create_graph: bool = False) -> Any: ...
@overload
def grad(output: Value, wrt: Sequence[Value], create_graph: bool = False) -> list[Any]: ...


def grad(output: Value, wrt: Value | Sequence[Value], create_graph: bool = False) -> Any:
    """∂output/∂wrt, without touching any ``.grad``.

    ``wrt`` is one Value (returns one gradient) or a sequence (returns a list). A node
    ``output`` does not depend on gets 0. With ``create_graph=True`` the gradients
    are Values built from the same rules, so they can be differentiated again:
    ``grad(grad(y, x, create_graph=True), x)`` is ∂²y/∂x²."""
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, got {type(output).__name__} {output!r}")
    single = isinstance(wrt, Value)
    try:
        targets = [wrt] if single else list(wrt)  # type: ignore[arg-type]
    except TypeError:
        targets = [wrt]                         # not iterable: reported just below
    for t in targets:
        if not isinstance(t, Value):
            raise TypeError(f"grad: wrt must be a Value or a sequence of Values, "
                            f"got {type(t).__name__} {t!r}")
    adjoint: dict[Value, Any] = {output: 1.0}
    for node in reversed(order(output)):
        g = adjoint.get(node)
        if g is None or node.op is None:
            continue
        if create_graph:
            args = [v.data if type(v) is Constant else v for v in node.inputs]
            locals_ = node.op.local(*args, node)
        else:
            locals_ = node.local_grads
        for child, local in zip(node.inputs, locals_):
            step = local * g
            adjoint[child] = adjoint[child] + step if child in adjoint else step
    results = [adjoint.get(t, 0.0) for t in targets]
    if create_graph:
        results = [r if isinstance(r, Value) else Constant(r) for r in results]
    else:
        results = [float(r) for r in results]
    return results[0] if single else results
