"""The graph and the chain rule: ``Node``, ``order``, ``sweep``, ``backward``.

A ``Node`` is a number that remembers how it was made: its ``data``, the ``op``
that made it (a row of the table; None for a leaf), its (at most two) inputs and
the local gradients ∂node/∂input it recorded at forward time. ``Value``
(engine/value.py) is a Node you can do arithmetic with.

``order`` sorts a graph without recursion (a 10⁶-deep chain is fine). ``sweep``
is the chain rule, the one loop every gradient comes from: walking the graph
from the output back, each node passes local · δ(node) to each input,

    δ(input) += ∂node/∂input · δ(node),

one scalar step of the lessons' recurrence δ_ℓ = (W_{ℓ+1}ᵀ δ_{ℓ+1}) ⊙ f′(z_ℓ).
It runs in the nodes' own ``.grad`` slots. ``backward`` is a sweep that keeps its
result; ``engine.grad`` is a sweep that puts the slots back as they were. When a
sweep leaves an inf or NaN behind, ``refuse_non_finite`` finds the op where it was
made, in a pass of its own.
"""

from __future__ import annotations

import math
import threading
from itertools import compress
from typing import Any, Iterable, Union

from .errors import GradientError, describe
from .modes import MODE

Number = Union[int, float]


class Node:
    """A vertex of a computation graph: eight slots and nothing else.

    No closures and no containers of its own: the (at most two) inputs and their
    local gradients sit in slots of the node itself, so a dropped graph is freed
    at once by reference counting, and there is little for the garbage collector
    to scan. ``inputs`` and ``local_grads`` read and write them as tuples."""

    __slots__ = ("data", "grad", "op", "label", "input_a", "input_b", "local_a", "local_b")

    #: True for a result of ``no_grad()``, which recorded nothing to differentiate.
    detached = False

    @property
    def inputs(self) -> tuple[Any, ...]:
        """The nodes this one was made from, in operand order; ``()`` for a leaf."""
        a = self.input_a
        if a is None:
            return ()
        b = self.input_b
        return (a,) if b is None else (a, b)

    @inputs.setter
    def inputs(self, inputs: Iterable[Any]) -> None:
        inputs = tuple(inputs)
        if len(inputs) > 2:
            raise ValueError(f"{type(self).__name__}.inputs: an op has one or two inputs, "
                             f"got {len(inputs)}")
        self.input_a, self.input_b = (*inputs, None, None)[:2]

    @property
    def local_grads(self) -> tuple[Any, ...]:
        """∂self/∂input for each input, recorded at forward time; ``()`` for a leaf."""
        if self.input_a is None:
            return ()
        return (self.local_a,) if self.input_b is None else (self.local_a, self.local_b)

    @local_grads.setter
    def local_grads(self, local_grads: Iterable[Any]) -> None:
        local_grads = tuple(local_grads)
        if len(local_grads) > 2:
            raise ValueError(f"{type(self).__name__}.local_grads: an op has one or two "
                             f"inputs, got {len(local_grads)} local gradients")
        self.local_a, self.local_b = (*local_grads, 0.0, 0.0)[:2]

    @property
    def is_leaf(self) -> bool:
        """True for inputs, parameters and constants: nodes no op made."""
        return self.op is None

    @property
    def is_constant(self) -> bool:
        """True for a constant (the ``2`` of ``2 * x``, a target): a leaf no gradient
        is asked of, so ``backward`` leaves its ``.grad`` None (as PyTorch does for a
        tensor that does not require grad). It is told by its local gradients, which
        a leaf has no use for: a constant's are None, any other leaf's 0.0."""
        return self.op is None and self.local_a is None

    def backward(self, gradient: Number = 1.0) -> None:
        """Fill ``.grad`` of every node this one depends on with ∂self/∂node.

        Interior nodes are set afresh on each call; leaves *accumulate* (as in
        PyTorch), so two calls give exactly twice the leaves' gradients."""
        backward(self, gradient)

    def zero_grad(self) -> None:
        """Set ``.grad`` to 0 on this node and on everything it depends on."""
        zero_grad(self)

    # ---- copying and pickling: graphs of any depth, sharing kept ---------------------
    def __copy__(self) -> Node:
        """A new node with the same slots: the same inputs, not copies of them."""
        return _rebuild(*_fields(self))

    def __deepcopy__(self, memo: dict) -> Node:
        """The graph under this node copied, node by node in ``order`` (no recursion),
        each node copied once however many paths reach it; nodes already in ``memo``
        (a model's parameters, copied before its neurons' graphs) are reused."""
        for node in order(self):
            if id(node) not in memo:
                cls, *slots, extra = _fields(node)
                slots[4:6] = [memo[id(v)] if v is not None else None for v in slots[4:6]]
                memo[id(node)] = _rebuild(cls, *slots, extra)
                memo.setdefault(id(memo), []).append(node)      # copy's keep-alive list
        return memo[id(self)]

    def __reduce_ex__(self, protocol: Any) -> tuple:
        """Pickle a graph without recursion: the first node of a graph to be pickled
        writes every node under it first, in ``order``, so that each is written after
        its inputs and needs only references to them."""
        fields = _fields(self)
        if self.input_a is None or id(self) in _PICKLING.ready:
            _PICKLING.ready.discard(id(self))
            return _rebuild, fields
        under = order(self)[:-1]
        ready = [id(node) for node in under if node.input_a is not None]
        _PICKLING.ready.update(ready)
        return _rebuild_after, (under, _Forget(ready), *fields)


def _fields(node: Node) -> tuple:
    """What a node is: its class, its eight slots and any slot of its kind
    (a TracedValue's ``created_at``)."""
    return (type(node), node.data, node.grad, node.op, node.label, node.input_a, node.input_b,
            node.local_a, node.local_b, getattr(node, "created_at", None))


def _rebuild(cls: type, *fields: Any) -> Node:
    """A node of class ``cls`` with these slots (and ``created_at``, if not None),
    made without the class's constructor, which checks numbers a graph already has."""
    if not isinstance(cls, type):         # pickled when Constant was a class: a constant
        from .value import Value
        data, _, op, label, a, b, *_, created_at = fields
        cls, fields = Value, (data, None, op, label, a, b, None, None, created_at)
    node = object.__new__(cls)
    for slot, value in zip(Node.__slots__, fields):
        setattr(node, slot, value)
    if fields[-1] is not None:
        node.created_at = fields[-1]  # type: ignore[attr-defined]
    return node


def _rebuild_after(under: list[Node], forget: tuple, *fields: Any) -> Node:
    """``_rebuild``, once the nodes ``under`` it were rebuilt (pickle's order)."""
    return _rebuild(*fields)


class _Forget:
    """Pickled right after the nodes it names: they are written, so forget them."""

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids

    def __reduce__(self) -> tuple:
        _PICKLING.ready.difference_update(self.ids)
        return tuple, ()


class _Pickling(threading.local):
    def __init__(self) -> None:
        #: ids of nodes whose inputs are being written first: pickle them plainly
        self.ready: set[int] = set()


_PICKLING = _Pickling()


def check_node(x: Any, who: str, what: str = "") -> None:
    """A TypeError unless ``x`` is a node (a Value)."""
    if not isinstance(x, Node):
        raise TypeError(f"{who}: {what + ' ' if what else ''}expected a Value, "
                        f"got {type(x).__name__} {x!r}")


def order(root: Node) -> list[Node]:
    """Every node ``root`` depends on, itself last, each node after all its inputs.

    Iterative depth-first search: no recursion limit, and each node appears once
    however many paths lead to it."""
    check_node(root, "order")
    # ``stack`` + ``node`` is the current path from the root (the end kept in a
    # variable, not read as stack[-1]: cheaper). Reached from its consumer, ``node``
    # descends into its first input not yet seen, then its second; with both done,
    # it is finished, and the path goes back to the consumer, which knows by the
    # child it was working on whether its second input is still to do. (A node seen
    # but unfinished is on the path, so in a graph without cycles every input seen
    # is finished before its consumer is.) A leaf input is finished at once,
    # without a trip onto the stack: there is nothing under it.
    seen = {root}
    nodes: list[Node] = []
    stack: list[Node] = []                # the path above ``node``
    node = root
    while True:                           # ``node`` just reached: its first input
        a = node.input_a
        if a is not None and a not in seen:
            seen.add(a)
            if a.input_a is not None:
                stack.append(node)
                node = a
                continue
            nodes.append(a)
        b = node.input_b
        while True:                       # its first input done: its second, ``b``
            if b is not None and b not in seen:
                seen.add(b)
                if b.input_a is not None:
                    stack.append(node)
                    node = b
                    break                 # (reach b)
                nodes.append(b)
            nodes.append(node)            # both done: finished
            if not stack:
                return nodes
            child = node
            node = stack.pop()            # back on its consumer; if ``child`` was
            b = node.input_b              # the consumer's second input, the
            if child is b:                # consumer is finished too
                b = None


def sweep(nodes: list[Node], seed: Any, create_graph: bool = False) -> None:
    """The chain rule: set every node's ``.grad`` to ∂output/∂node · ``seed``, for
    the graph ``nodes`` in ``order`` (the output last).

    From the output back, each node passes ``local · δ(node)`` to each input. The
    local gradients are the numbers recorded at forward time; with ``create_graph``
    the op table's rules are run again on the nodes themselves, so the gradients
    are Values with graphs of their own (call it with recording on). A constant
    whose ``.grad`` is None (as ``backward`` leaves it) is passed nothing.

    Every other ``.grad`` must be 0.0 when it starts (``clear``): ``backward`` and
    ``grad`` first keep what was there."""
    nodes[-1].grad = seed
    for node in reversed(nodes):
        if node.op is None:               # a leaf: nothing flows from it
            continue
        g = node.grad
        if not g:                         # nor from a zero gradient (a Value gradient,
            continue                      # under create_graph, is never falsy: it flows on)
        if create_graph:                  # the rules again, on the nodes themselves
            args = list(node.inputs)
            if node.op.number is not None:    # an input that is a plain number stays one
                args[node.op.number] = args[node.op.number].data
            local_a, local_b = (*node.op.local(*args, node), None)[:2]
        else:
            local_a, local_b = node.local_a, node.local_b
        a = node.input_a
        before = a.grad                   # (None and no local gradients: a constant)
        if before is not None or a.local_a is not None:
            step = local_a * g            # the first contribution is the step itself, so
            a.grad = before + step if before else step    # a Value does not start at 0 + …
        b = node.input_b
        if b is not None:
            before = b.grad
            if before is not None or b.local_a is not None:
                step = local_b * g
                b.grad = before + step if before else step


def clear(nodes: list[Node]) -> None:
    """Set every node's ``.grad`` to 0.0, as a sweep needs to start; a constant's
    stays as it is (None: no gradient is asked of it)."""
    for node in nodes:
        if node.local_a is not None:      # not a constant
            node.grad = 0.0


def refuse_non_finite(nodes: list[Node], who: str, asked: list[Node] | None = None) -> None:
    """After a sweep: if a gradient became inf or NaN, raise ``GradientError`` naming
    the op where a finite number first became non-finite. ``asked``: the only nodes
    whose gradients matter (``grad``'s wrt; ``backward`` fills every node's).

    The sweep's own numbers are the evidence: walking it again in its order, each
    step ``local · δ(node)`` is added to a running sum per input, and the first
    step, or sum, that is not finite names its op. An inf or NaN that came in with
    an input's data is the user's choice, and let through — except under
    ``detect_anomaly()``, which refuses every one."""
    anomaly = MODE.get().anomaly
    grads = [node.grad for node in asked or nodes]
    if not anomaly and math.isfinite(sum(filter(None, grads))):    # None: a constant's
        return
    sums: dict[Node, float] = {}
    for node in reversed(nodes):
        if node.op is None or not node.grad:
            continue
        g = _number(node.grad)
        came_in = not math.isfinite(g) or not all(math.isfinite(v.data) for v in node.inputs)
        for child, local in zip(node.inputs, node.local_grads):
            if child.is_constant and child.grad is None:    # the sweep passed it nothing
                continue
            step = local * g
            before = sums.get(child, 0.0)
            sums[child] = before + step
            if math.isfinite(before + step):
                continue
            if not anomaly and (came_in or not math.isfinite(before)):
                continue
            what = (f"produced {step} (local gradient {local!r} × upstream gradient {g!r})"
                    if not math.isfinite(step) else
                    f"made the step {step!r}, which added to the {before!r} its input "
                    f"already had overflows")
            raise _refused(node, who, what, anomaly)


def _number(x: Any) -> float:
    return x if isinstance(x, (int, float)) else x.data


def _refused(node: Node, who: str, what: str, anomaly: bool) -> GradientError:
    """The error for a gradient refused at ``node``: the op, its inputs and labels,
    and where the op was created (under ``detect_anomaly()``) or how to find out."""
    text = f"{node.op.name}: {who} {what}; op inputs: {describe(node.inputs)}; "
    if anomaly:
        where = getattr(node, "created_at", "<made outside detect_anomaly()>")
        return GradientError(text + f"the op was created at {where}")
    return GradientError(text + "run it under engine.detect_anomaly() to see the line "
                                "that created the op")


def check_seed(gradient: Any, who: str) -> float:
    """The seed of a sweep: a finite number (or a Value's data)."""
    if isinstance(gradient, Node):
        gradient = gradient.data
    if isinstance(gradient, bool) or not isinstance(gradient, (int, float)):
        raise TypeError(f"{who}: gradient must be a number (the output is a scalar), "
                        f"got {type(gradient).__name__} {gradient!r}")
    seed = float(gradient)
    if not math.isfinite(seed):
        raise ValueError(f"{who}: gradient must be finite, got {seed!r}")
    return seed


def check_recorded(output: Node, who: str) -> None:
    """A result of ``no_grad()`` recorded no graph: differentiating it would silently
    give nothing, so say so (PyTorch refuses it too)."""
    if output.detached:
        raise ValueError(f"{who}: {output!r} was computed under no_grad(), which records "
                         f"no graph, so it has no gradient to give; compute it outside "
                         f"no_grad() (or inside enable_grad())")


def backward(root: Node, gradient: Number = 1.0) -> None:
    """Set ``node.grad`` = ∂root/∂node · gradient on every node of the graph.

    Interior nodes are set afresh; leaves add to what they hold (PyTorch's rule):
    the sweep starts them from 0 and their earlier gradient is added back in one
    step at the end, so two calls give exactly twice. A refused sweep writes
    nothing."""
    check_node(root, "backward")
    seed = check_seed(gradient, "backward")
    check_recorded(root, "backward")
    if root.is_constant:
        raise ValueError(f"backward: {root!r} is a constant, which no gradient is asked "
                         f"of; differentiate a Value computed from it (engine.grad "
                         f"answers for a constant too)")
    nodes = order(root)
    earlier = [node.grad for node in nodes]
    held = any(earlier)                   # swept before, or leaves holding gradients
    if held:
        clear(nodes)
    sweep(nodes, seed)
    try:
        refuse_non_finite(nodes, "backward")
        if held:                          # the leaves' earlier gradients, added back
            totals = [(node, node.grad + before) for node, before in
                      compress(zip(nodes, earlier), earlier) if node.op is None]
            _refuse_overflowing_sums(totals, earlier_of=dict(zip(nodes, earlier)))
    except GradientError:
        for node, before in zip(nodes, earlier):
            node.grad = before
        raise
    if held:
        for node, total in totals:
            node.grad = total


def _refuse_overflowing_sums(totals: list[tuple[Node, float]], earlier_of: dict) -> None:
    """A leaf whose new gradient, added to the finite one it held, overflows."""
    for node, total in totals:
        if total - total != 0.0 and math.isfinite(earlier_of[node]) and math.isfinite(
                node.grad):
            label = f" ({node.label!r})" if node.label else ""
            raise GradientError(
                f"backward: the gradient {node.grad!r} of a leaf{label} (data "
                f"{node.data!r}), added to the {earlier_of[node]!r} it already held, "
                f"overflows a float; zero it first (zero_grad()) or scale the loss down")


def zero_grad(root: Node) -> None:
    """Set ``.grad`` to 0 on ``root`` and every node it depends on."""
    clear(order(root))
