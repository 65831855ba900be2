"""Numerical gradient checks: central differences as the referee.

Two ways to name what is checked:

* a function of Values and its input numbers — ``gradcheck(f, [0.5, -1.2])``,
  as in ``torch.autograd.gradcheck``;
* a graph already built — ``gradcheck(L, [w, b])``: the recorded ops are replayed
  on floats with each ``wrt`` node nudged by ±eps (interior nodes too).

Defaults are PyTorch's: eps 1e-6, atol 1e-5, rtol 1e-3 (floats are float64 here).
A failure raises ``GradcheckError``, an ``AssertionError`` whose message is a table.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Iterable, Sequence, Union

from .autograd import order
from .functional import grad, replay
from .modes import no_grad
from .value import Constant, Value

Number = Union[int, float]
EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3


class GradcheckError(AssertionError):
    """An analytic gradient disagreed with its referee; the message is a table."""


# ---- evaluating what is checked, at nudged points ---------------------------------
def value_at(output: Value, nudged: dict[Value, float]) -> float:
    """``output`` with some nodes' values replaced (``nudged``): the recorded ops
    downstream of them run again on the new numbers (``replay``, recording nothing)."""
    with no_grad():
        made = replay(order(output), {node: Constant(x) if node.is_constant else Value(x)
                                      for node, x in nudged.items()})
    return made.get(output, output).data


def _names(f: Callable[..., Any], inputs: Sequence[Any]) -> list[str]:
    """Labels of Value inputs, else f's parameter names, else x1, x2, …"""
    try:
        params = [p.name for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = []
    for i, x in enumerate(inputs):
        if isinstance(x, Value) and x.label:
            names.append(x.label)
        elif i < len(params):
            names.append(params[i])
        else:
            names.append(f"x{i + 1}")
    return names


def row_names(nodes: Sequence[Value]) -> list[str]:
    """The rows of a table of a built graph's nodes: each by its label, an unnamed
    constant by its number, any other by its place (``node2``)."""
    return [node.label or (f"{node.data:g}" if node.is_constant else f"node{i + 1}")
            for i, node in enumerate(nodes)]


def _numbers(inputs: Iterable[Any], who: str) -> list[float]:
    if isinstance(inputs, (Value, int, float)):
        raise TypeError(f"{who}: inputs must be a sequence of numbers, e.g. [{inputs!r}]")
    out = []
    for x in inputs:
        x = x.data if isinstance(x, Value) else x
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise TypeError(f"{who}: inputs must be numbers or Values, got {type(x).__name__}")
        out.append(float(x))
    return out


class _Subject:
    """What is being checked, as: names, point, f(point) and ∇f(point)."""

    def __init__(self, f_or_output: Any, inputs_or_wrt: Any, who: str) -> None:
        if isinstance(f_or_output, Value):
            self.output = f_or_output
            self.wrt = [inputs_or_wrt] if isinstance(inputs_or_wrt, Value) else list(inputs_or_wrt)
            if not all(isinstance(w, Value) for w in self.wrt):
                raise TypeError(f"{who}: with a built graph, wrt must be Values of that graph")
            self.f = None
            self.names = row_names(self.wrt)
            self.point = [w.data for w in self.wrt]
        elif callable(f_or_output):
            self.f = f_or_output
            if not isinstance(inputs_or_wrt, (Value, int, float)):
                try:                         # a generator is read once, here
                    inputs_or_wrt = list(inputs_or_wrt)
                except TypeError:
                    pass                     # _numbers says what is wrong with it
            self.point = _numbers(inputs_or_wrt, who)
            self.names = _names(f_or_output, list(inputs_or_wrt))
        else:
            raise TypeError(f"{who}: expected a function of Values or an output Value, "
                            f"got {type(f_or_output).__name__}")
        if not self.point:                # a check of nothing would pass vacuously
            raise ValueError(f"{who}: no inputs to check; give at least one "
                             f"{'number' if self.f else 'node of the graph'}")
        self.who = who

    def call(self, point: Sequence[float]) -> tuple[Value, list[Value]]:
        """f at ``point``: its output as a Value, and the input leaves it was given."""
        leaves = [Value(x, label=n) for x, n in zip(point, self.names)]
        out = self.f(*leaves)
        if isinstance(out, (int, float)) and not isinstance(out, bool):
            out = Constant(out)
        if not isinstance(out, Value):
            raise TypeError(f"{self.who}: f must return a Value or a number, "
                            f"got {type(out).__name__}")
        return out, leaves

    def value(self, point: Sequence[float]) -> float:
        if self.f is None:   # nudge only the nodes that moved: the others are recomputed
            moved = {w: p for w, p, at in zip(self.wrt, point, self.point) if p != at}
            return value_at(self.output, moved)
        with no_grad():
            return self.call(point)[0].data

    def gradient(self, point: Sequence[float] | None = None) -> list[float]:
        if self.f is None and point is None:
            return grad(self.output, self.wrt)
        if self.f is None:
            raise TypeError(f"{self.who}: second derivatives need a function, not a built graph")
        return grad(*self.call(point or self.point))

    def hessian(self) -> list[list[float]]:
        out, leaves = self.call(self.point)
        first = grad(out, leaves, create_graph=True)
        return [grad(g, leaves) for g in first]


def _central(fn: Callable[[list[float]], Any], point: Sequence[float], i: int, eps: float) -> Any:
    """(fn(x + eps·e_i) − fn(x − eps·e_i)) / 2·eps, for a scalar or a list-valued fn."""
    up, down = list(point), list(point)
    up[i] += eps
    down[i] -= eps
    hi, lo = fn(up), fn(down)
    if isinstance(hi, list):
        return [(h - low) / (2 * eps) for h, low in zip(hi, lo)]
    return (hi - lo) / (2 * eps)


def _check_tolerances(eps: float, atol: float, rtol: float, who: str) -> None:
    for name, v in (("eps", eps), ("atol", atol), ("rtol", rtol)):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError(f"{who}: {name} must be a number, got {type(v).__name__} {v!r}")
        if not v >= 0 or (name == "eps" and v == 0):
            raise ValueError(f"{who}: {name} must be a positive number, got {v!r}")


# ---- the public checks ------------------------------------------------------------
def numerical_grad(f_or_output: Any, inputs_or_wrt: Any, eps: float = EPS) -> list[float]:
    """Central-difference gradient: (f(x + ε) − f(x − ε)) / 2ε for each input.

    ``numerical_grad(f, [0.5, -1.2])`` for a function of Values, or
    ``numerical_grad(L, [w, b])`` for a graph already built."""
    _check_tolerances(eps, 0, 0, "numerical_grad")
    subject = _Subject(f_or_output, inputs_or_wrt, "numerical_grad")
    return [_central(subject.value, subject.point, i, eps) for i in range(len(subject.point))]


def close(a: float, b: float, atol: float, rtol: float) -> bool:
    """|a − b| ≤ atol + rtol·|b| (PyTorch's test); NaN is never close."""
    return abs(a - b) <= atol + rtol * abs(b)


def align(head: Sequence[str], body: Sequence[Sequence[str]], marks: Sequence[str]) -> list[str]:
    """Rows of text cells under ``head`` in aligned columns, indented two spaces, each
    row followed by its mark (``✗ …`` or nothing): the layout of every mismatch table."""
    widths = [max(len(row[c]) for row in [head, *body]) for c in range(len(head))]
    lines = ["  " + "  ".join(h.ljust(w) for h, w in zip(head, widths))]
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + mark
              for row, mark in zip(body, marks)]
    return [line.rstrip() for line in lines]


def table(title: str, rows: list[tuple[str, float, float]], columns: tuple[str, str],
          atol: float, rtol: float) -> str:
    """A mismatch report: one row per input, failing rows marked ✗."""
    head = ("input", *columns, "|difference|")
    body = [(name, f"{a:.10g}", f"{b:.10g}", f"{abs(a - b):.3g}") for name, a, b in rows]
    marks = ["" if close(a, b, atol, rtol) else "✗" for _, a, b in rows]
    return "\n".join([title.rstrip(), *align(head, body, marks)])


def _verdict(who: str, rows: list[tuple[str, float, float]], columns: tuple[str, str],
             atol: float, rtol: float) -> bool:
    bad = [r for r in rows if not close(r[1], r[2], atol, rtol)]
    if bad:
        title = (f"{who} failed for {len(bad)} of {len(rows)} "
                 f"(atol={atol:g}, rtol={rtol:g}):")
        raise GradcheckError(table(title, rows, columns, atol, rtol))
    return True


def gradcheck(f_or_output: Any, inputs_or_wrt: Any, eps: float = EPS, atol: float = ATOL,
              rtol: float = RTOL) -> bool:
    """Check the engine's gradient against central differences.

    Returns True, or raises ``GradcheckError`` with a table of input, analytic,
    numeric and difference."""
    __tracebackhide__ = True
    _check_tolerances(eps, atol, rtol, "gradcheck")
    subject = _Subject(f_or_output, inputs_or_wrt, "gradcheck")
    analytic = subject.gradient()
    numeric = [_central(subject.value, subject.point, i, eps) for i in range(len(subject.point))]
    rows = list(zip(subject.names, analytic, numeric))
    return _verdict("gradcheck", rows, ("engine", "numeric"), atol, rtol)


def gradgradcheck(f: Callable[..., Any], inputs: Sequence[Any], eps: float = EPS,
                  atol: float = ATOL, rtol: float = RTOL) -> bool:
    """Check second derivatives: ∂²f/∂xᵢ∂xⱼ from ``grad(..., create_graph=True)``
    against central differences of the engine's first derivatives."""
    __tracebackhide__ = True
    _check_tolerances(eps, atol, rtol, "gradgradcheck")
    if isinstance(f, Value) or not callable(f):
        raise TypeError("gradgradcheck: expected a function of Values (second derivatives "
                        "re-run f), got " + type(f).__name__)
    subject = _Subject(f, inputs, "gradgradcheck")
    analytic = subject.hessian()
    rows = []
    for j in range(len(subject.point)):
        column = _central(subject.gradient, subject.point, j, eps)
        for i in range(len(subject.point)):
            name = f"∂²/∂{subject.names[i]}∂{subject.names[j]}"
            rows.append((name, analytic[i][j], column[i]))
    return _verdict("gradgradcheck", rows, ("engine", "numeric"), atol, rtol)


