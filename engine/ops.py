"""The op table: every op's forward and its local derivatives, side by side.

A rule is a Python expression over the op's inputs ``a``, ``b`` and its result
``out``. Because a rule is plain arithmetic, one rule serves three interpreters:

* floats, at forward time — a node records its local gradients as numbers;
* Values, for ``grad(..., create_graph=True)`` — gradients you can differentiate;
* source text, for ``engine.compile`` — the chain rule written out line by line.

Adding an op is one row here, a method on ``Value`` marked ``@_fast(ROW)``, and
its tests: nothing else (README, "Add an op").
"""

from __future__ import annotations

import math
from typing import Any, Callable

__all__ = ["Op", "OPS", "ADD", "SUB", "MUL", "DIV", "NEG", "POW", "POWV",
           "EXP", "LOG", "RELU", "SIGMOID", "TANH", "ABS"]


def sigmoid(a: float) -> float:
    """σ(a) = 1 / (1 + e^−a), written so that e^x never overflows."""
    if a >= 0.0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def power(a: float, b: float) -> float:
    """a ** b on real numbers: a complex result is a ValueError, not a surprise."""
    out = a ** b
    if type(out) is complex:
        raise ValueError("a negative base to a fractional power is not a real number")
    return out


def positive_power(a: float, b: float) -> float:
    """a ** b for a Value exponent: ∂out/∂b = out · ln a needs a > 0."""
    if a <= 0.0:
        raise ValueError("a Value exponent needs a base > 0 (∂out/∂b = out·ln a); "
                         "for a number exponent write x ** 2, not x ** Value(2)")
    return a ** b


def _log(x: Any) -> Any:
    """ln that works on floats (forward) and on Values (create_graph)."""
    return math.log(x) if isinstance(x, (int, float)) else x.log()


def _exp(x: Any) -> Any:
    """e ** x that works on floats (forward) and on Values (create_graph)."""
    return math.exp(x) if isinstance(x, (int, float)) else x.exp()


def sign(x: Any) -> float:
    """1, −1 or 0 (at 0): a float for a float or a Value alike, since its own
    derivative is 0 wherever it has one."""
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0


# Names a forward rule may call (on floats) and names a local rule may call
# (on floats or Values).
FORWARD_NAMES = {"exp": math.exp, "log": math.log, "tanh": math.tanh,
                 "sigmoid": sigmoid, "power": power, "positive_power": positive_power}
LOCAL_NAMES = {"log": _log, "exp": _exp, "sign": sign}


class Op:
    """One row of the table: a name, a symbol for diagrams, the forward rule and
    one local-derivative rule ∂out/∂input per input."""

    __slots__ = ("name", "symbol", "forward_rule", "local_rules", "arity",
                 "forward", "local")

    def __init__(self, name: str, symbol: str, forward: str, *local: str) -> None:
        self.name = name
        self.symbol = symbol
        self.forward_rule = forward
        self.local_rules = local
        self.arity = len(local)
        args = ", ".join("ab"[: self.arity])          # "a" or "a, b"
        #: forward(a[, b]) -> float, on floats
        self.forward: Callable[..., float] = eval(
            f"lambda {args}: {forward}", dict(FORWARD_NAMES))
        #: local(a[, b], out) -> tuple of ∂out/∂input, on floats or Values
        self.local: Callable[..., tuple] = eval(
            f"lambda {args}, out: ({', '.join(local)},)", dict(LOCAL_NAMES))

    def __repr__(self) -> str:
        return f"<op {self.name}>"


# The exponent of `pow` is a number (a Constant leaf, so no gradient flows to it);
# `powv` is a ** b with a Value exponent. ReLU′(0) = 0 and abs′(0) = sign(0) = 0, as
# in PyTorch (any number in [−1, 1] is a subgradient there; 0 is the usual choice).
#              name       symbol  forward                   ∂out/∂a               ∂out/∂b
ADD     = Op("add",     "+",    "a + b",                  "1.0",                "1.0")
SUB     = Op("sub",     "−",    "a - b",                  "1.0",                "-1.0")
MUL     = Op("mul",     "×",    "a * b",                  "b",                  "a")
DIV     = Op("div",     "÷",    "a / b",                  "1.0 / b",            "-out / b")
POW     = Op("pow",     "^",    "power(a, b)",            "b * a ** (b - 1.0) if b else 0.0",
                                                                                "0.0")  # x⁰ at 0
POWV    = Op("powv",    "^",    "positive_power(a, b)",   "b * a ** (b - 1.0)",
                                                                                "out * log(a)")
NEG     = Op("neg",     "−",    "-a",                     "-1.0")
EXP     = Op("exp",     "exp",  "exp(a)",                 "out")
LOG     = Op("log",     "log",  "log(a)",                 "1.0 / a")
RELU    = Op("relu",    "ReLU", "a if a > 0.0 else 0.0",  "1.0 if a > 0.0 else 0.0")
SIGMOID = Op("sigmoid", "σ",    "sigmoid(a)",             "out * (1.0 - out)")
TANH    = Op("tanh",    "tanh", "tanh(a)",                "1.0 - out * out")
ABS     = Op("abs",     "|·|",  "abs(a)",                 "sign(a)")

#: Every op by name: each row above, in table order.
OPS: dict[str, Op] = {row.name: row for row in list(globals().values()) if isinstance(row, Op)}
