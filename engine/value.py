"""The node: a number that remembers how it was made.

A ``Value`` holds ``data``, ``grad``, its ``inputs`` (an ordered tuple, so ``a * a``
keeps both operands), the ``local_grads`` ∂self/∂input it recorded at forward time
as plain numbers, the ``op`` (a row of the table, ``None`` for a leaf) and a
``label``. No closures and ``__slots__``: a dropped graph is freed at once by
reference counting.
"""

from __future__ import annotations

import math
import os
import sys
from typing import Any, Callable, TypeVar, Union

from .modes import MODE, Mode
from .ops import ABS, ADD, DIV, EXP, LOG, MUL, NEG, POW, POWV, RELU, SIGMOID, SUB, TANH, Op
from .rules import render

Number = Union[int, float]
F = TypeVar("F", bound=Callable[..., Any])
_new = object.__new__
_ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))


def _fast(op: Op) -> Callable[[F], F]:
    """Mark a method that is exactly ``op`` applied to ``self`` (and ``other``): it gets
    a fast path generated from the op's row (see ``_install_fast_paths``)."""
    def mark(method: F) -> F:
        method.fast_op = op                  # type: ignore[attr-defined]
        return method
    return mark


class Value:
    """A scalar in a computation graph. Mix freely with plain numbers:
    ``2 * x + 1`` works, and the constants become leaves a diagram can show."""

    # One object per node: the (at most two) inputs and their local gradients sit
    # in slots of the node itself, not in tuples of their own — a third of the
    # allocations, and a third of the objects the garbage collector must scan.
    # ``inputs`` and ``local_grads`` read and write them as tuples.
    __slots__ = ("data", "grad", "op", "label", "input_a", "input_b", "local_a", "local_b")

    def __init__(self, data: Number, label: str = "") -> None:
        self.data = _as_float(data, type(self).__name__)
        if not isinstance(label, str):
            raise TypeError(f"{type(self).__name__}: label must be a str, "
                            f"got {type(label).__name__} {label!r}")
        self.grad = 0.0
        self.inputs: tuple[Value, ...] = ()
        self.local_grads: tuple[Any, ...] = ()
        self.op: Op | None = None
        self.label = label

    @property
    def inputs(self) -> tuple[Value, ...]:
        """The Values this node was made from, in operand order; ``()`` for a leaf."""
        a = self.input_a
        if a is None:
            return ()
        b = self.input_b
        return (a,) if b is None else (a, b)

    @inputs.setter
    def inputs(self, inputs: tuple[Value, ...]) -> None:
        inputs = tuple(inputs)
        if len(inputs) > 2:
            raise ValueError(f"Value.inputs: an op has one or two inputs, got {len(inputs)}")
        self.input_a, self.input_b = (*inputs, None, None)[:2]

    @property
    def local_grads(self) -> tuple[Any, ...]:
        """∂self/∂input for each input, recorded at forward time; ``()`` for a leaf."""
        if self.input_a is None:
            return ()
        return (self.local_a,) if self.input_b is None else (self.local_a, self.local_b)

    @local_grads.setter
    def local_grads(self, local_grads: tuple[Any, ...]) -> None:
        local_grads = tuple(local_grads)
        if len(local_grads) > 2:
            raise ValueError(f"Value.local_grads: an op has one or two inputs, "
                             f"got {len(local_grads)} local gradients")
        self.local_a, self.local_b = (*local_grads, 0.0, 0.0)[:2]

    # ---- arithmetic: each operator is one row of engine/ops.py -------------
    # ``@_fast(OP)`` marks a method that is exactly that op with ``self`` as its
    # first input: a faster copy of it is generated from the row (end of this file).
    @_fast(ADD)
    def __add__(self, other: Value | Number) -> Value:
        return _binary(ADD, self, other if type(other) is Value else _operand(other, ADD))

    def __radd__(self, other: Number) -> Value:
        return _binary(ADD, _operand(other, ADD), self)

    @_fast(SUB)
    def __sub__(self, other: Value | Number) -> Value:
        return _binary(SUB, self, other if type(other) is Value else _operand(other, SUB))

    def __rsub__(self, other: Number) -> Value:
        return _binary(SUB, _operand(other, SUB), self)

    @_fast(MUL)
    def __mul__(self, other: Value | Number) -> Value:
        return _binary(MUL, self, other if type(other) is Value else _operand(other, MUL))

    def __rmul__(self, other: Number) -> Value:
        return _binary(MUL, _operand(other, MUL), self)

    @_fast(DIV)
    def __truediv__(self, other: Value | Number) -> Value:
        return _binary(DIV, self, other if type(other) is Value else _operand(other, DIV))

    def __rtruediv__(self, other: Number) -> Value:
        return _binary(DIV, _operand(other, DIV), self)

    def __pow__(self, other: Value | Number) -> Value:
        """``x ** 2`` (a number exponent) or ``x ** y`` (a Value exponent, base > 0)."""
        other = _operand(other, POW)
        return _binary(POW if type(other) is Constant else POWV, self, other)

    def __rpow__(self, other: Number) -> Value:
        return _binary(POWV, _operand(other, POWV), self)

    @_fast(NEG)
    def __neg__(self) -> Value:
        return _unary(NEG, self)

    def __pos__(self) -> Value:
        return self

    @_fast(ABS)
    def __abs__(self) -> Value:
        """``abs(x)`` = |x| (an L1 loss), with abs′(0) = 0 (as PyTorch)."""
        return _unary(ABS, self)

    @_fast(EXP)
    def exp(self) -> Value:
        """e ** x; its local derivative is the result itself."""
        return _unary(EXP, self)

    @_fast(LOG)
    def log(self) -> Value:
        """Natural logarithm; needs data > 0."""
        return _unary(LOG, self)

    @_fast(RELU)
    def relu(self) -> Value:
        """max(0, x), with ReLU′(0) = 0 (as PyTorch and micrograd)."""
        return _unary(RELU, self)

    @_fast(SIGMOID)
    def sigmoid(self) -> Value:
        """σ(x) = 1 / (1 + e^−x); finite and exact at the limits for any finite x."""
        return _unary(SIGMOID, self)

    @_fast(TANH)
    def tanh(self) -> Value:
        """tanh x, in (−1, 1); its local derivative is 1 − tanh² x."""
        return _unary(TANH, self)

    # ---- gradients -----------------------------------------------------------
    def backward(self, gradient: Number = 1.0) -> None:
        """Fill ``.grad`` of every node this one depends on with ∂self/∂node.

        Interior nodes are set afresh on each call; leaves *accumulate* (as in
        PyTorch), so two calls give exactly twice the leaves' gradients."""
        from .autograd import backward
        backward(self, gradient)

    def zero_grad(self) -> None:
        """Set ``.grad`` to 0 on this node and on everything it depends on."""
        from .autograd import zero_grad
        zero_grad(self)

    # ---- comparisons and conversions (on data; equality stays identity) -----
    def __lt__(self, other: Value | Number) -> bool:
        other = _compare(other)
        return NotImplemented if other is None else self.data < other

    def __le__(self, other: Value | Number) -> bool:
        other = _compare(other)
        return NotImplemented if other is None else self.data <= other

    def __gt__(self, other: Value | Number) -> bool:
        other = _compare(other)
        return NotImplemented if other is None else self.data > other

    def __ge__(self, other: Value | Number) -> bool:
        other = _compare(other)
        return NotImplemented if other is None else self.data >= other

    __hash__ = object.__hash__

    def __float__(self) -> float:
        return self.data

    @property
    def is_leaf(self) -> bool:
        """True for inputs, parameters and constants: nodes no op made."""
        return self.op is None

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        op = f", op={self.op.name!r}" if self.op is not None else ""
        return f"{type(self).__name__}(data={self.data:.6g}, grad={self.grad:.6g}{label}{op})"


class Constant(Value):
    """A plain number in an expression (the ``2`` of ``2 * x``): a leaf that no
    gradient is asked of. Its label is the number itself."""

    __slots__ = ()

    def __init__(self, data: Number, label: str | None = None) -> None:
        super().__init__(data, "" if label is None else label)
        if label is None:
            self.label = f"{self.data:g}"


class TracedValue(Value):
    """A node made under ``detect_anomaly()``: it remembers where it was created."""

    __slots__ = ("created_at",)


class Detached(Value):
    """A result computed under ``no_grad()``: a leaf that recorded nothing of how it
    was made, so ``backward`` from it has nothing to differentiate (an error says so).
    Used later in a recorded graph it is a constant, as in PyTorch."""

    __slots__ = ()


# ---- making nodes -------------------------------------------------------------
def _as_float(data: Any, who: str) -> float:
    if type(data) is float:
        return data
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        try:
            return float(data)
        except OverflowError:                 # an int beyond 1.8e308
            raise _too_large(who, data) from None
    if hasattr(data, "__float__") and not isinstance(data, (complex, bool, str, bytes)):
        try:                                  # numpy scalars, Fraction, Decimal …
            return float(data)
        except OverflowError:
            raise _too_large(who, data) from None
        except (TypeError, ValueError):
            pass
    raise TypeError(f"{who}: expected a real number (int or float), got "
                    f"{type(data).__name__} {data!r}")


def _operand(other: Any, op: Op) -> Value:
    """An operand as a Value: numbers become Constants, anything else is a TypeError."""
    if isinstance(other, Value):
        return other
    if isinstance(other, (int, float)) and not isinstance(other, bool):
        try:
            return Constant(other)
        except OverflowError:
            raise _too_large(f"{op.name} ({op.symbol})", other) from None
    raise TypeError(f"{op.name} ({op.symbol}): operands must be Values or real numbers, "
                    f"got {type(other).__name__} {other!r}")


def _too_large(who: str, data: Any) -> OverflowError:
    """An int (or Fraction …) beyond the largest float, shown by its size: printing
    all its digits could itself fail (Python caps int-to-str at 4300 digits)."""
    try:
        digits = len(str(abs(int(data))))
    except ValueError:
        digits = int(abs(int(data)).bit_length() * math.log10(2)) + 1
    return OverflowError(f"{who}: the number ≈ {'-' if data < 0 else ''}10^{digits - 1} "
                         f"({type(data).__name__}, {digits} digits) is too large for a float "
                         f"(at most ≈ 1.8e308)")


def _compare(other: Any) -> float | None:
    if isinstance(other, Value):
        return other.data
    if isinstance(other, (int, float)):
        return other
    return None


def _binary(op: Op, a: Value, b: Value) -> Value:
    x = a.data
    y = b.data
    try:
        out = op.forward(x, y)
    except (ArithmeticError, ValueError) as error:
        raise _domain_error(op, (a, b), error) from None
    mode = MODE.get()
    if mode.anomaly or out - out != 0.0:     # checking everything, or out is inf/NaN
        return _checked(op, (a, b), out, mode)
    node = _new(Value if mode.grad else Detached)
    node.data = out
    node.grad = 0.0
    node.label = ""
    if mode.grad:
        node.local_grads = _local_grads(op, (x, y,), out)
        node.inputs = (a, b)
        node.op = op
    else:                                    # no_grad(): a leaf, set slot by slot
        node.input_a = node.input_b = node.op = None
        node.local_a = node.local_b = 0.0
    return node


def _unary(op: Op, a: Value) -> Value:
    x = a.data
    try:
        out = op.forward(x)
    except (ArithmeticError, ValueError) as error:
        raise _domain_error(op, (a,), error) from None
    mode = MODE.get()
    if mode.anomaly or out - out != 0.0:
        return _checked(op, (a,), out, mode)
    node = _new(Value if mode.grad else Detached)
    node.data = out
    node.grad = 0.0
    node.label = ""
    if mode.grad:
        node.local_grads = _local_grads(op, (x,), out)
        node.inputs = (a,)
        node.op = op
    else:                                    # no_grad(): a leaf, set slot by slot
        node.input_a = node.input_b = node.op = None
        node.local_a = node.local_b = 0.0
    return node


def _checked(op: Op, inputs: tuple[Value, ...], out: float, mode: Mode) -> Value:
    """The slow path: a non-finite result, or anomaly mode. Overflow from finite
    inputs is an error; NaN/inf carried in from the inputs is the user's choice,
    unless ``detect_anomaly()`` is on."""
    finite_inputs = all(math.isfinite(v.data) for v in inputs)
    if not math.isfinite(out):
        if finite_inputs:
            where = f"; the op was created at {creation_site()}" if mode.anomaly else ""
            raise OverflowError(f"{op.name}: {_call(op, inputs)} = {out} overflows a float; "
                                f"inputs: {_describe(inputs)}{where}")
        if mode.anomaly:
            raise FloatingPointError(
                f"{op.name}: produced {out} in forward from inputs {_describe(inputs)}; "
                f"the op was created at {creation_site()}")
    node = _new(TracedValue if mode.anomaly else Value if mode.grad else Detached)
    node.data = out
    node.grad = 0.0
    node.label = ""
    node.input_a = node.input_b = node.op = None
    node.local_a = node.local_b = 0.0
    if mode.anomaly:
        node.created_at = creation_site()
    if mode.grad:
        local_grads = _local_grads(op, tuple(v.data for v in inputs), out)
        if mode.anomaly and finite_inputs and not all(map(math.isfinite, local_grads)):
            raise FloatingPointError(
                f"{op.name}: its local derivatives ({', '.join(op.local_rules)}) are "
                f"{local_grads} at {_describe(inputs)}: no gradient can flow back "
                f"through it; the op was created at {node.created_at}")
        node.local_grads = local_grads
        node.inputs = inputs
        node.op = op
    return node


def _local_grads(op: Op, datas: tuple[float, ...], out: float) -> tuple[Any, ...]:
    """∂out/∂input at forward time. Where a rule has no finite value (√a at a = 0, 1/a
    at a tiny a) it is recorded as inf: the forward value is fine, and a gradient is
    refused only if one flows through it (by backward or grad; under
    ``detect_anomaly()``, here and now)."""
    try:
        return op.local(*datas, out)
    except (ArithmeticError, ValueError):
        return (math.inf,) * op.arity


# ---- messages that name the op, the values and the labels ----------------------
def _describe(inputs: tuple[Value, ...]) -> str:
    parts = []
    for name, v in zip("ab", inputs):
        label = f" ({v.label!r})" if v.label and type(v) is not Constant else ""
        parts.append(f"{name} = {v.data!r}{label}")
    return ", ".join(parts)


def _call(op: Op, inputs: tuple[Value, ...]) -> str:
    """The row's forward rule with the input values written in, e.g. ``log(0.0)``."""
    return render(op.forward_rule, {name: repr(v.data) for name, v in zip("ab", inputs)})


def _domain_error(op: Op, inputs: tuple[Value, ...], error: Exception) -> Exception:
    reason = str(error)
    if reason == "math domain error":
        reason = "outside the op's domain" + (" (log needs a > 0)" if op is LOG else "")
    elif isinstance(error, OverflowError):
        reason = "the result overflows a float"
    return type(error)(f"{op.name}: cannot compute {_call(op, inputs)}: {reason}; "
                       f"inputs: {_describe(inputs)}")


def _inside_engine(filename: str) -> bool:
    """A file of the engine, or code the engine generated (``<engine fast path: mul>``)."""
    return (filename.startswith("<engine")
            or os.path.dirname(os.path.abspath(filename)) == _ENGINE_DIR)


def creation_site() -> str:
    """'file:line in function: source' of the first caller outside the engine."""
    frame = sys._getframe(1)
    while frame is not None and _inside_engine(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    import linecache
    source = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}: {source}"


# ---- the named ops as functions, for Values and plain numbers alike --------------
def exp(x: Value | Number) -> Value:
    """e ** x."""
    return _unary(EXP, _operand(x, EXP))


def log(x: Value | Number) -> Value:
    """Natural logarithm of x (x > 0)."""
    return _unary(LOG, _operand(x, LOG))


def relu(x: Value | Number) -> Value:
    """max(0, x); ReLU′(0) = 0."""
    return _unary(RELU, _operand(x, RELU))


def sigmoid(x: Value | Number) -> Value:
    """σ(x) = 1 / (1 + e^−x), stable for any finite x."""
    return _unary(SIGMOID, _operand(x, SIGMOID))


def tanh(x: Value | Number) -> Value:
    """tanh x, in (−1, 1); exact ±1 far from 0."""
    return _unary(TANH, _operand(x, TANH))


# ---- fast paths, generated from the op table at import time ---------------------
# Each method below is ``_binary`` / ``_unary`` specialised to one row of the table:
# the row's rules are written inline (names renamed with ``engine.rules``) and the
# common case — two Values, recording on, no anomaly mode, a finite result — makes
# one node with no further call. Anything else takes the general path above, so
# errors, ``no_grad()`` and ``detect_anomaly()`` behave exactly as before — and so
# does an op whose ``forward`` or ``local`` was replaced after import (a test that
# plants a wrong rule must see it used).
_PLAIN_MODE = Mode()                     # the default: recording on, anomaly off

_BINARY_TEMPLATE = """
def fast_path(self, other):
    if (type(other) is not Value or MODE.get() != PLAIN
            or OP.local is not LOCAL or OP.forward is not FORWARD):
        return _binary(OP, self, _operand(other, OP))
    x = self.data
    y = other.data
    try:
        out = {forward}
    except (ArithmeticError, ValueError):
        return _binary(OP, self, other)
    if out - out != 0.0:
        return _binary(OP, self, other)
    try:
        local_a = {local_a}
        local_b = {local_b}
    except (ArithmeticError, ValueError):
        return _binary(OP, self, other)
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node.input_a = self
    node.input_b = other
    node.local_a = local_a
    node.local_b = local_b
    node.op = OP
    node.label = ""
    return node
"""

_UNARY_TEMPLATE = """
def fast_path(self):
    if MODE.get() != PLAIN or OP.local is not LOCAL or OP.forward is not FORWARD:
        return _unary(OP, self)
    x = self.data
    try:
        out = {forward}
    except (ArithmeticError, ValueError):
        return _unary(OP, self)
    if out - out != 0.0:
        return _unary(OP, self)
    try:
        local_a = {local_a}
    except (ArithmeticError, ValueError):
        return _unary(OP, self)
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node.input_a = self
    node.input_b = None
    node.local_a = local_a
    node.local_b = 0.0
    node.op = OP
    node.label = ""
    return node
"""


def _install_fast_paths() -> None:
    """Replace each ``@_fast(OP)`` method of Value by code generated from OP's row."""
    from .ops import FORWARD_NAMES, LOCAL_NAMES
    names = {"a": "x", "b": "y", "out": "out"}
    for method, function in list(vars(Value).items()):
        op = getattr(function, "fast_op", None)
        if op is None:
            continue
        local = [render(rule, names) for rule in op.local_rules]
        template = _BINARY_TEMPLATE if op.arity == 2 else _UNARY_TEMPLATE
        source = template.format(forward=render(op.forward_rule, names),
                                 local_a=local[0], local_b=local[-1])
        scope = {**LOCAL_NAMES, **FORWARD_NAMES, "__name__": __name__, "Value": Value, "OP": op,
                 "FORWARD": op.forward, "LOCAL": op.local, "MODE": MODE,
                 "PLAIN": _PLAIN_MODE, "_new": _new, "_binary": _binary,
                 "_unary": _unary, "_operand": _operand}
        exec(compile(source, f"<engine fast path: {op.name}>", "exec"), scope)
        fast_path = scope["fast_path"]
        fast_path.__doc__ = function.__doc__
        fast_path.__qualname__ = function.__qualname__
        fast_path.__name__ = function.__name__
        setattr(Value, method, fast_path)


_install_fast_paths()
