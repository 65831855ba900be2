"""Random expression graphs from hypothesis, checked against finite differences and
PyTorch, plus the invariants of ``order`` and ``backward`` on them.

A graph is a program: each step applies an op of ``engine.OPS`` to earlier nodes
(chosen by index, so sub-expressions are shared and nodes reused) or to plain numbers.
The program is *resolved* once at the drawn inputs: a step whose operand is too close
to the edge of its op's domain (log of a number near 0, ReLU near its kink …) or whose
result is large becomes ``tanh`` of the operand. The resolved program is then replayed
on Values (the engine), on floats with independent formulas (finite differences) and
on float64 tensors (PyTorch), so all three compute the same function.
"""

from __future__ import annotations

import math

import pytest
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import OPS, Value, grad, order

EXPONENTS = (2.0, 3.0, -1.0, 0.5, 1.5)   # for pow: a number exponent
LARGEST = 100.0                         # bigger intermediate results are replaced by tanh

SETTINGS = settings(max_examples=examples(60), deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

steps = st.lists(
    st.tuples(st.sampled_from(sorted(OPS)),                    # op
              st.integers(0, 1 << 16), st.integers(0, 1 << 16),  # operand choices
              st.floats(-3, 3).filter(lambda c: abs(c) > 0.25),  # a plain-number operand
              st.booleans()),                                   # use it as operand b?
    min_size=1, max_size=30)
inputs = st.lists(st.floats(-2, 2), min_size=1, max_size=4)


def resolve(op_cases, program, xs):
    """The program as concrete steps ``(op name, operands)`` valid at ``xs``; an operand
    is ``("node", index)`` or ``("number", value)``. Returns (steps, node values)."""
    values = list(xs)
    resolved = []
    for name, i, j, number, constant_b in program:
        case = op_cases[name]
        arity = OPS[name].arity
        operands = [("node", i % len(values))]
        if arity == 2:
            if 1 in case.numbers:
                operands.append(("number", EXPONENTS[j % len(EXPONENTS)]))
            elif constant_b:
                operands.append(("number", number))
            else:
                operands.append(("node", j % len(values)))
        floats = [values[k] if kind == "node" else k for kind, k in operands]
        result = case.formula(*floats) if case.ok(*floats) else math.inf
        if not abs(result) <= LARGEST:
            name, operands = "tanh", operands[:1]
            result = math.tanh(floats[0])
        resolved.append((name, operands))
        values.append(result)
    return resolved, values


def replay(op_cases, resolved, leaves, apply):
    """Run the resolved program on ``leaves``; the output is the sum of every node, so
    every step matters. ``apply(case, operands)`` evaluates one step."""
    nodes = list(leaves)
    for name, operands in resolved:
        args = [nodes[k] if kind == "node" else k for kind, k in operands]
        nodes.append(apply(op_cases[name], args))
    total = nodes[0]
    for node in nodes[1:]:
        total = total + node
    return total, nodes


def on_values(case, args):
    return case.call(*args)


def on_floats(case, args):
    return case.formula(*args)


def on_tensors(case, args):
    """A step on torch tensors: a plain-number operand becomes a tensor too (torch's
    atan2 takes no float), except where the op wants a number (pow's exponent)."""
    import torch
    return case.call(*(torch.tensor(a, dtype=torch.float64)
                       if isinstance(a, float) and i not in case.numbers else a
                       for i, a in enumerate(args)))


def build(op_cases, program, xs):
    resolved, _ = resolve(op_cases, program, xs)
    leaves = [Value(x, label=f"x{k}") for k, x in enumerate(xs)]
    out, nodes = replay(op_cases, resolved, leaves, on_values)
    return resolved, leaves, out, nodes


@SETTINGS
@given(program=steps, xs=inputs)
def test_gradients_match_central_differences(op_cases, central_difference, program, xs):
    resolved, leaves, out, _ = build(op_cases, program, xs)
    out.backward()

    def f(point):
        return replay(op_cases, resolved, point, on_floats)[0]

    assert math.isclose(out.data, f(list(xs)), rel_tol=1e-12, abs_tol=1e-12)
    for k, leaf in enumerate(leaves):
        numeric = central_difference(f, list(xs), k)
        assert math.isclose(leaf.grad, numeric, rel_tol=1e-4, abs_tol=1e-5), \
            (resolved, xs, k, leaf.grad, numeric)
    assert grad(out, leaves) == [leaf.grad for leaf in leaves]


@SETTINGS
@given(program=steps, xs=inputs)
def test_gradients_and_hessians_match_torch(op_cases, central_difference, program, xs):
    """PyTorch is the oracle; where it disagrees, finite differences referee. (They
    side with the engine at a ** b with b = 0, where PyTorch's second derivative
    drops the term ∂²/∂a∂b: ``make soak`` found it, docs/benchmarks.md says more.)"""
    torch = pytest.importorskip("torch")
    resolved, leaves, out, _ = build(op_cases, program, xs)

    def engine_gradient(point):
        values = [Value(x) for x in point]
        return grad(replay(op_cases, resolved, values, on_values)[0], values)

    firsts = grad(out, leaves, create_graph=True)
    hessian = [grad(g, leaves) for g in firsts]

    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    t_out, _ = replay(op_cases, resolved, tensors, on_tensors)
    t_firsts = torch.autograd.grad(t_out, tensors, create_graph=True, allow_unused=True)
    assert math.isclose(out.data, t_out.item(), rel_tol=1e-10, abs_tol=1e-12)
    for k, (ours, theirs) in enumerate(zip(firsts, t_firsts)):
        theirs_value = 0.0 if theirs is None else theirs.item()
        assert math.isclose(ours.data, theirs_value, rel_tol=1e-9, abs_tol=1e-11), \
            (resolved, xs, k)
        if theirs is None or not theirs.requires_grad:
            row = [0.0] * len(tensors)
        else:
            row = [0.0 if h is None else h.item()
                   for h in torch.autograd.grad(theirs, tensors, retain_graph=True,
                                                 allow_unused=True)]
        for m, (a, b) in enumerate(zip(hessian[k], row)):
            if math.isclose(a, b, rel_tol=1e-8, abs_tol=1e-10):
                continue
            numeric = central_difference(lambda p, k=k: engine_gradient(p)[k], list(xs), m)
            assert math.isclose(a, numeric, rel_tol=1e-4, abs_tol=1e-5), \
                (resolved, xs, k, m, a, b, numeric)              # the engine is right …
            assert not math.isclose(b, numeric, rel_tol=1e-4, abs_tol=1e-5)   # … torch not


@SETTINGS
@given(program=steps, xs=inputs)
def test_order_lists_each_node_once_inputs_first(op_cases, program, xs):
    _, leaves, out, nodes = build(op_cases, program, xs)
    topo = order(out)
    assert topo[-1] is out
    assert len(topo) == len(set(map(id, topo)))                # each node once
    position = {id(node): k for k, node in enumerate(topo)}
    for node in topo:
        for child in node.inputs:
            assert position[id(child)] < position[id(node)]     # inputs before outputs
    # exactly the nodes the output depends on: found by a plain search, no order assumed
    reachable, stack = {id(out)}, [out]
    while stack:
        for child in stack.pop().inputs:
            if id(child) not in reachable:
                reachable.add(id(child))
                stack.append(child)
    assert set(position) == reachable
    assert all(id(leaf) in reachable for leaf in leaves)
    assert all(id(node) in reachable for node in nodes)
    # and in the order of a recursive depth-first search, inputs in operand order:
    # the order diagrams number their nodes by (v1, v2, …)
    expected: list = []
    done: set = set()

    def visit(node):
        if id(node) not in done:
            done.add(id(node))
            for child in node.inputs:
                visit(child)
            expected.append(node)
    visit(out)
    assert [id(n) for n in topo] == [id(n) for n in expected]


@SETTINGS
@given(program=steps, xs=inputs)
def test_backward_twice_doubles_the_leaves_and_recomputes_the_interior(op_cases, program, xs):
    _, leaves, out, nodes = build(op_cases, program, xs)
    out.backward()
    once = [leaf.grad for leaf in leaves]
    interior = [node.grad for node in order(out) if not node.is_leaf]
    out.backward()
    assert [leaf.grad for leaf in leaves] == [2 * g for g in once]     # exact: g + g
    assert [node.grad for node in order(out) if not node.is_leaf] == interior
    out.zero_grad()                   # a constant stays asked for no gradient: None
    assert all(node.grad is None if node.is_constant else node.grad == 0.0
               for node in order(out))
