"""Reverse mode: one topological order, the chain rule as a loop.

``order`` sorts a graph without recursion (a 10⁶-deep chain is fine). The sweep
walks it from the output, and for each node and each (input, local gradient) pair
does ``δ(input) += local · δ(node)``: one scalar step of the lessons' recurrence
δ_ℓ = (W_{ℓ+1}ᵀ δ_{ℓ+1}) ⊙ f′(z_ℓ). ``grad`` hands the δs back from ``_sweep``,
which also checks them. ``backward`` runs the same loop in the nodes' own
``.grad`` slots for speed, and falls back to ``_sweep`` when an inf or NaN
appears, so the two refuse the same gradients.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Sequence, Union, overload

from .modes import MODE, enable_grad
from .value import Constant, Detached, Value, _describe

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


def _check_recorded(output: Value, who: str) -> None:
    """A result of ``no_grad()`` recorded no graph: differentiating it would silently
    give nothing, so say so (PyTorch refuses it too)."""
    if isinstance(output, Detached):
        raise ValueError(f"{who}: {output!r} was computed under no_grad(), which records "
                         f"no graph, so it has no gradient to give; compute it outside "
                         f"no_grad() (or inside enable_grad())")


def backward(root: Value, gradient: Number = 1.0) -> None:
    """Set ``node.grad`` = ∂root/∂node · gradient on every node of the graph.

    Interior nodes are set afresh; leaves add to what they hold (PyTorch's rule), so
    two calls give exactly twice. A refused sweep (see ``_sweep``) writes nothing."""
    if not isinstance(root, Value):
        raise TypeError(f"backward: expected a Value, got {type(root).__name__}")
    seed = _check_gradient(gradient, "backward")
    _check_recorded(root, "backward")
    nodes = order(root)
    if MODE.get().anomaly:
        return _write(nodes, _sweep(nodes, seed, "backward"))
    # The common case runs the chain rule in the nodes' own .grad slots (no dict:
    # a third of backward's time). Leaves start from 0 and get their earlier
    # gradient back in one step at the end, so a second call gives exactly twice.
    earlier = [node.grad for node in nodes]
    for node in nodes:
        node.grad = 0.0
    root.grad = seed
    for node in reversed(nodes):
        g = node.grad
        if g and node.op is not None:           # nothing flows from 0, nor from a leaf
            node.input_a.grad += node.local_a * g
            b = node.input_b
            if b is not None:
                b.grad += node.local_b * g
    if not math.isfinite(sum(node.grad for node in nodes if node.op is None)):
        for node, before in zip(nodes, earlier):   # an inf or NaN reached a leaf: undo,
            node.grad = before                      # and let the checked sweep name the op
        return _write(nodes, _sweep(nodes, seed, "backward"))
    for node, before in zip(nodes, earlier):
        if before and node.op is None:
            node.grad += before


def _write(nodes: list[Value], delta: dict) -> None:
    """Store a sweep's δ in ``.grad``: interior nodes afresh, leaves added to."""
    get = delta.get
    for node in nodes:
        if node.op is None:
            node.grad += get(node, 0.0)
        else:
            node.grad = get(node, 0.0)


def _sweep(nodes: list[Value], seed: Any, who: str, create_graph: bool = False) -> dict:
    """δ(node) = ∂output/∂node · seed for the graph ``nodes`` (in ``order``): the chain
    rule, shared by ``backward`` and ``grad`` so that they cannot disagree.

    A gradient that is not finite is refused, naming the op where it appeared. Under
    ``detect_anomaly()`` or ``create_graph`` each node is checked before it passes its
    gradient on; otherwise the sweep runs unchecked and, only if a non-finite number
    came out, again checked. An inf or NaN that came in with an input's data is the
    user's choice, as in forward. With ``create_graph`` the rules run on Values, and
    record even inside ``no_grad()`` (PyTorch's rule too)."""
    checked = create_graph or MODE.get().anomaly
    with enable_grad() if create_graph else contextlib.nullcontext():
        delta = _propagate(nodes, seed, who, create_graph, checked)
    if not checked and not math.isfinite(sum(delta.values())):  # an inf or NaN somewhere
        _propagate(nodes, seed, who, create_graph, checked=True)   # raises, naming the op
    return delta


def _propagate(nodes: list[Value], seed: Any, who: str, create_graph: bool,
               checked: bool) -> dict:
    """The loop itself: from the output back, each node passes local · δ(node) to
    each input — the lessons' δ_ℓ = (W_{ℓ+1}ᵀ δ_{ℓ+1}) ⊙ f′(z_ℓ), one scalar at a time."""
    delta: dict[Value, Any] = {nodes[-1]: seed}
    get = delta.get
    for node in reversed(nodes):
        g = get(node)
        if not g or node.op is None:               # nothing flows from 0, nor from a leaf
            continue
        if checked:
            _check(node, g, delta, who)
        if create_graph:                            # the rules again, on Values
            args = [v.data if type(v) is Constant else v for v in node.inputs]
            local_a, local_b = (*node.op.local(*args, node), None)[:2]
        else:
            local_a, local_b = node.local_a, node.local_b
        a = node.input_a                            # the node's inputs are its slots
        before = get(a)
        delta[a] = local_a * g if before is None else before + local_a * g
        b = node.input_b
        if b is not None:
            before = get(b)
            delta[b] = local_b * g if before is None else before + local_b * g
    return delta


def _number(x: Any) -> float:
    return x.data if isinstance(x, Value) else x


def _check(node: Value, g: Any, delta: dict, who: str) -> None:
    """Before ``node`` passes δ on: refuse a step local · δ, or a sum it makes, that
    is not finite — on the numbers recorded at forward, so even a create_graph
    gradient is checked before its Values are built. Outside ``detect_anomaly()``,
    an inf or NaN that came in with the data is let through (the user's choice)."""
    g = _number(g)
    came_in = not math.isfinite(g) or not all(math.isfinite(v.data) for v in node.inputs)
    sums: dict[Value, float] = {}
    for child, local in zip(node.inputs, node.local_grads):
        step = local * g
        before = sums.get(child, _number(delta.get(child, 0.0)))
        sums[child] = before + step
        if math.isfinite(before + step):
            continue
        if not MODE.get().anomaly and (came_in or not math.isfinite(before)):
            continue
        what = (f"produced {step} (local gradient {local!r} × upstream gradient {g!r})"
                if not math.isfinite(step) else
                f"made the step {step!r}, which added to the {before!r} its input already "
                f"had overflows")
        raise _refused(node, who, what)


def _refused(node: Value, who: str, what: str) -> Exception:
    """The error for a gradient refused at ``node``: the op, its inputs and labels,
    and where the op was created (under ``detect_anomaly()``) or how to find out."""
    text = f"{node.op.name}: {who} {what}; op inputs: {_describe(node.inputs)}; "
    if MODE.get().anomaly:
        where = getattr(node, "created_at", "<made outside detect_anomaly()>")
        return FloatingPointError(text + f"the op was created at {where}")
    return OverflowError(text + "run it under engine.detect_anomaly() to see the line "
                                "that created the op")


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
    _check_recorded(output, "grad")
    delta = _sweep(order(output), 1.0, "grad", create_graph)
    results = [delta.get(t, 0.0) for t in targets]
    if create_graph:
        results = [r if isinstance(r, Value) else Constant(r) for r in results]
    else:
        results = [float(r) for r in results]
    return results[0] if single else results
