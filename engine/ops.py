"""The op table: every op's forward and its local derivatives, side by side.

A rule is a Python expression over the op's inputs ``a``, ``b`` and its result
``out``. Because a rule is plain arithmetic, one rule serves every interpreter:

* floats, at forward time — a node records its local gradients as numbers;
* Values, for ``grad(..., create_graph=True)`` — gradients you can differentiate;
* source text — the generated methods of ``Value`` and ``engine.compile``'s programs;
* maths for people — ``viz`` writes the rules in the lessons' notation.

Everything else an op is also lives in its row — what it is called as a function, how
it is written in LaTeX, where it is defined, which operand is which — so adding an op
is one row here and its test cases: nothing else (README, "Add an op").
"""

from __future__ import annotations

import math
from typing import Any, Callable

# What a rule may call, by name: the forward rules on floats, the local rules on
# floats and on Values alike (create_graph), so these take either.


def sigmoid(a: float) -> float:
    """σ(a) = 1 / (1 + e^−a), written so that e^x never overflows."""
    if a >= 0.0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def log(x: Any) -> Any:
    """ln x, of a float (forward) or of a Value (create_graph)."""
    return math.log(x) if isinstance(x, (int, float)) else x.log()


def exp(x: Any) -> Any:
    """e ** x, of a float (forward) or of a Value (create_graph)."""
    return math.exp(x) if isinstance(x, (int, float)) else x.exp()


def sign(x: Any) -> float:
    """1, −1 or 0 (at 0): a float for a float or a Value alike, since its own
    derivative is 0 wherever it has one."""
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0


#: Names a forward rule may call (on floats) and names a local rule may call
#: (on floats or Values).
FORWARD_NAMES: dict[str, Callable[..., Any]] = {
    "exp": math.exp, "log": math.log, "tanh": math.tanh, "sigmoid": sigmoid, "round": round}
LOCAL_NAMES: dict[str, Callable[..., Any]] = {"log": log, "exp": exp, "sign": sign}

_ORDINALS = ("1st", "2nd")


class Op:
    """One row of the table: the whole op.

    * ``name``, and ``symbol``: how diagrams write it (``×``, ``σ``, ``|·|`` with ``·``
      standing for the operand);
    * ``forward``: the rule for ``out``; ``local``: one rule ∂out/∂input per input;
    * ``function``: its name as a method (``x.exp()``), a function (``engine.exp(x)``)
      and in ``chaingrad`` formulas; None for an op written as an operator (``+``);
    * ``latex``: the symbol in LaTeX (default ``\\operatorname{symbol}``);
    * ``domain``: a rule over ``a``, ``b`` that is true where the op is defined, and
      ``outside``: what to tell someone who stepped out of it;
    * ``commutative``: whether the operands may swap (else diagrams tag them a, b);
    * ``operands``: each input's part in words, for explanations ("the numerator");
    * ``number``: the position of an input that is always a plain number (pow's
      exponent): a diagram writes it on the op (``^2``) and no gradient flows to it;
      ``otherwise``: the row to use when a Value is given there (pow → powv);
    * ``carries``: the inputs whose inf or NaN always reaches ``out`` (a + b: both;
      a / b: only a, since x / inf = 0); any other input may hide one;
    * ``kink``: a rule over ``a``, ``b`` that is true where the op has a corner and
      so no derivative, its local rule there being a convention (PyTorch's):
      ReLU′(0) = 0; explanations say so;
    * ``taught``: the local rules as a lesson writes them, for display only;
    * ``doc``: a line for the method's docstring.

    A row pickles and copies as its name: a graph's nodes keep pointing at the table."""

    __slots__ = ("name", "symbol", "forward_rule", "local_rules", "arity", "function", "latex",
                 "domain", "outside", "commutative", "operands", "number", "otherwise", "carries",
                 "kink", "taught", "doc", "forward", "local", "each_local", "defined", "at_kink")

    def __init__(self, name: str, symbol: str, forward: str, *local: str,
                 function: str | None = None, latex: str | None = None,
                 domain: str | None = None, outside: str = "",
                 commutative: bool = False, operands: tuple[str, ...] = (),
                 number: int | None = None, otherwise: str | None = None,
                 carries: tuple[int, ...] = (), kink: str | None = None,
                 taught: tuple[str, ...] = (), doc: str = "") -> None:
        if len(local) not in (1, 2):
            raise ValueError(f"Op {name!r}: one local rule per input, and one or two inputs; "
                             f"got {len(local)} rules")
        self.name = name
        self.symbol = symbol
        self.forward_rule = forward
        self.local_rules = local
        self.arity = len(local)
        self.function = function
        self.latex = latex if latex is not None else (
            rf"\operatorname{{{symbol}}}" if symbol.isidentifier() else symbol)
        self.domain = domain
        self.outside = outside or (f"{name} needs {domain}" if domain else "")
        self.commutative = commutative
        self.operands = operands or tuple(
            f"the {_ORDINALS[i]} operand of {symbol}" if self.arity == 2 else f"the operand of "
            f"{symbol}" for i in range(self.arity))
        self.number = number
        self.otherwise = otherwise
        self.carries = carries
        self.kink = kink
        self.taught = taught or local
        self.doc = doc
        args = ", ".join("ab"[: self.arity])          # "a" or "a, b"
        #: forward(a[, b]) -> float, on floats
        self.forward: Callable[..., float] = eval(
            f"lambda {args}: {forward}", dict(FORWARD_NAMES))
        #: local(a[, b], out) -> tuple of ∂out/∂input, on floats or Values
        self.local: Callable[..., tuple] = eval(
            f"lambda {args}, out: ({', '.join(local)},)", dict(LOCAL_NAMES))
        #: each local rule alone, for when one of them fails (1/a at a = 0) and the
        #: other (∂out/∂b) still has a value
        self.each_local: tuple[Callable[..., Any], ...] = tuple(
            eval(f"lambda {args}, out: {rule}", dict(LOCAL_NAMES)) for rule in local)
        #: defined(a[, b]) -> bool, on floats: is (a, b) inside the domain?
        self.defined: Callable[..., bool] = eval(
            f"lambda {args}: {domain or 'True'}", dict(FORWARD_NAMES))
        #: at_kink(a[, b]) -> bool, on floats: is (a, b) a corner of the op?
        self.at_kink: Callable[..., bool] = eval(
            f"lambda {args}: {kink or 'False'}", dict(FORWARD_NAMES))

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    def __reduce__(self) -> tuple[Callable[[str], Op], tuple[str]]:
        if OPS.get(self.name) is not self:
            raise TypeError(f"cannot pickle op {self.name!r}: it is not a row of the op table "
                            f"(engine.OPS), so it could not be found again by its name")
        return row, (self.name,)

    def __copy__(self) -> Op:
        return self

    def __deepcopy__(self, memo: dict) -> Op:
        return self


# The exponent of `pow` is a number (a Constant leaf, so no gradient flows to it);
# `powv` is a ** b with a Value exponent. ReLU′(0) = 0 and abs′(0) = sign(0) = 0, as
# in PyTorch (any number in [−1, 1] is a subgradient there; 0 is the usual choice).
#              name       symbol  forward                   ∂out/∂a               ∂out/∂b
ADD     = Op("add",     "+",    "a + b",                  "1.0",                "1.0",
             commutative=True, carries=(0, 1))
SUB     = Op("sub",     "−",    "a - b",                  "1.0",                "-1.0",
             carries=(0, 1))
MUL     = Op("mul",     "×",    "a * b",                  "b",                  "a",
             commutative=True, carries=(0, 1), latex=r"\times")
DIV     = Op("div",     "÷",    "a / b",                  "1.0 / b",            "-out / b",
             operands=("the numerator", "the denominator"), carries=(0,), latex=r"\div",
             taught=("1.0 / b", "-a / b ** 2"))
POW     = Op("pow",     "^",    "a ** b",                 "b * a ** (b - 1.0) if b else 0.0",
                                                                                "0.0",  # x⁰ at 0
             number=1, otherwise="powv", operands=("the base", "the exponent"), latex="^",
             domain="a >= 0.0 or b == round(b)",
             outside="a negative base to a fractional power is not a real number")
POWV    = Op("powv",    "^",    "a ** b",                 "b * a ** (b - 1.0)", "out * log(a)",
             operands=("the base", "the exponent"), latex="^", domain="a > 0.0",
             outside="a Value exponent needs a base > 0, as ∂out/∂b = out·ln a; an exponent "
                     "that is a fixed number is written as one: x ** 2")
NEG     = Op("neg",     "−",    "-a",                     "-1.0",
             carries=(0,), latex="-")
EXP     = Op("exp",     "exp",  "exp(a)",                 "out",
             function="exp", latex=r"\exp", doc="e ** x; its local derivative is the result "
                                                "itself.")
LOG     = Op("log",     "log",  "log(a)",                 "1.0 / a",
             function="log", latex=r"\log", domain="a > 0.0", outside="log needs a > 0",
             carries=(0,), doc="Natural logarithm; needs x > 0.")
RELU    = Op("relu",    "ReLU", "0.0 if a <= 0.0 else a", "1.0 if a > 0.0 else 0.0",
             function="relu", latex=r"\mathrm{ReLU}", kink="a == 0.0",
             doc="max(0, x), with ReLU′(0) = 0 (as PyTorch and micrograd).")
SIGMOID = Op("sigmoid", "σ",    "sigmoid(a)",             "out * (1.0 - out)",
             function="sigmoid", latex=r"\sigma",
             doc="σ(x) = 1 / (1 + e^−x); finite and exact at the limits for any finite x.")
TANH    = Op("tanh",    "tanh", "tanh(a)",                "1.0 - out * out",
             function="tanh", latex=r"\tanh",
             doc="tanh x, in (−1, 1); its local derivative is 1 − tanh² x.")
ABS     = Op("abs",     "|·|",  "abs(a)",                 "sign(a)",
             function="abs", latex=r"\lvert·\rvert", carries=(0,), kink="a == 0.0",
             doc="|x| (an L1 loss), with abs′(0) = 0 (as PyTorch).")

#: Every op by name: each row above, in table order.
OPS: dict[str, Op] = {r.name: r for r in list(globals().values()) if isinstance(r, Op)}


def row(name: str) -> Op:
    """The row called ``name`` (how a pickled graph finds its ops again)."""
    try:
        return OPS[name]
    except KeyError:
        raise ValueError(f"no op {name!r} in the op table; the ops are "
                         f"{', '.join(OPS)}") from None


__all__ = ["Op", "OPS", "row", "FORWARD_NAMES", "LOCAL_NAMES",
           *(name for name, v in list(globals().items()) if isinstance(v, Op))]
