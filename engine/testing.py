"""``assert_grad``: check a hand-derived gradient against the engine, with finite
differences as the referee.

    L = ...                                   # built from w and b
    assert_grad(L, {w: (a.data - y) * x, b: a.data - y})

Fails with a table (input, engine, expected, numeric, difference) when your formula
and the engine disagree, and also when the engine and finite differences disagree.
"""

from __future__ import annotations

from typing import Any, Mapping

from .check import ATOL, EPS, RTOL, GradcheckError, align, close, numerical_grad, row_names
from .functional import grad
from .value import Value


def assert_grad(output: Value, expected: Mapping[Value, Any], *, atol: float = 1e-9,
                rtol: float = 1e-7, eps: float = EPS) -> None:
    """Assert ∂output/∂node == expected[node] for each node (leaf or interior).

    Your formula is held to ``atol``/``rtol`` (tight: a derivation is exact); finite
    differences (central, ``eps``) are held to gradcheck's tolerances."""
    __tracebackhide__ = True
    if not isinstance(output, Value):
        raise TypeError(f"assert_grad: output must be a Value, got {type(output).__name__}")
    if not isinstance(expected, Mapping) or not expected:
        raise TypeError("assert_grad: expected must be a non-empty dict {node: gradient}")
    nodes = list(expected)
    for node in nodes:
        if not isinstance(node, Value):
            raise TypeError(f"assert_grad: keys must be Values, got {type(node).__name__}")
    wanted = []
    for node in nodes:
        value = expected[node]
        value = value.data if isinstance(value, Value) else value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"assert_grad: the expected gradient for {node.label or node!r} "
                            f"must be a number, got {type(value).__name__}")
        wanted.append(float(value))
    engine = grad(output, nodes)
    numeric = numerical_grad(output, nodes, eps=eps)
    names = row_names(nodes)
    rows = list(zip(names, engine, wanted, numeric))
    bad = [r for r in rows
           if not close(r[1], r[2], atol, rtol) or not close(r[1], r[3], ATOL, RTOL)]
    if bad:
        raise GradcheckError(_report(output, rows, bad, atol, rtol))


def _report(output: Value, rows: list[tuple[str, float, float, float]],
            bad: list[tuple[str, float, float, float]], atol: float, rtol: float) -> str:
    what = output.label or "output"
    head = ("input", "engine", "expected", "numeric", "|engine − expected|")
    body = [(n, f"{e:.10g}", f"{w:.10g}", f"{m:.10g}", f"{abs(e - w):.3g}") for n, e, w, m in rows]
    marks = []
    for _, engine, wanted, numeric in rows:
        if not close(engine, wanted, atol, rtol):
            marks.append("✗ expected" if close(engine, numeric, ATOL, RTOL)
                         else "✗ expected, ✗ numeric")
        else:
            marks.append("" if close(engine, numeric, ATOL, RTOL) else "✗ numeric")
    lines = [f"assert_grad: {len(bad)} of {len(rows)} gradients of {what} disagree "
             f"(expected: atol={atol:g}, rtol={rtol:g}; numeric: atol={ATOL:g}, rtol={RTOL:g}):",
             *align(head, body, marks)]
    if any(close(r[1], r[3], ATOL, RTOL) and not close(r[1], r[2], atol, rtol) for r in bad):
        lines.append("  engine and finite differences agree: check the hand derivation.")
    return "\n".join(line.rstrip() for line in lines)


__all__ = ["assert_grad", "GradcheckError"]
