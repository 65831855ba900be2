"""Value: a number you can do arithmetic with, recording the chain rule as it goes.

A ``Value`` is a ``Node`` (engine/autograd.py): ``data``, ``grad``, the ``op`` that
made it, its ``inputs`` and the ``local_grads`` ∂self/∂input it recorded at forward
time. Every operator and every named op (``x.exp()``, ``x.relu()``, …) is one row of
the op table (engine/ops.py) applied:

* ``apply(op, *operands)`` is the general path, for every op and every case: plain
  numbers become constants (leaves, ``Constant``), wrong types are a ``TypeError``, the domain
  is checked, the forward and local rules run, ``no_grad()`` and
  ``detect_anomaly()`` are obeyed, and errors name the op, its values and labels;
* each method is the same, specialised to one row: its rules written inline, for the
  common case (recording on, no anomaly mode, a finite result), anything else handed
  to ``apply``. The methods are written as source text from the rows when this module
  is imported, and registered with ``linecache``, so ``inspect.getsource(Value.__mul__)``,
  pdb, and tracebacks printed by the ``traceback`` module (pytest, IPython) show the
  code that runs. (Python's own last-resort printer reads only real files.)
"""

from __future__ import annotations

import builtins  # noqa: F401 (in the written methods)
import linecache
import math
import os
import sys
from typing import Any, Callable, Union

from . import ops
from .autograd import Node
from .errors import DivisionByZeroError, DomainError, NonFiniteError, NumberOverflowError, describe
from .modes import MODE, RECORDING  # noqa: F401 (RECORDING: in the written methods)
from .ops import ABS, ADD, DIV, MUL, NEG, OPS, POW, POWV, SUB, Op
from .rules import render

__all__ = ["Value", "Constant", "Detached", "TracedValue", "apply", "as_operand", "as_float",
           "FUNCTIONS", "creation_site", "register"]

Number = Union[int, float]
_new = object.__new__
_ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))


# ---- the methods, written from the rows ------------------------------------------------
def _qualified(name: str) -> str:
    """A function a rule calls, as the methods' source names it: ``math.log``,
    ``ops.sigmoid``, or a builtin's own name."""
    function = ops.FORWARD_NAMES.get(name) or ops.LOCAL_NAMES[name]
    module = getattr(function, "__module__", None) or "builtins"
    return {"math": f"math.{name}", ops.__name__: f"ops.{name}"}.get(module, name)


_METHOD = """\
def make(OP):
    def {name}({params}):
        \"\"\"{doc}\"\"\"
        if MODE.get() is not RECORDING:      # no_grad() or detect_anomaly()
            return {general}
{operands}{domain}            out = {forward}
{local}        except (ArithmeticError, ValueError):
            return {general}
        if out - out != 0.0:                 # inf or NaN: the general path decides
            return {general}
        node = _node()
        node.data = out
        node.grad = 0.0
        node.op = OP
        node.label = ""
        node.input_a = {a}
        node.input_b = {b}
        node.local_a = local_a
        node.local_b = {local_b}
        return node
    return {name}
"""

# How the method gets its operands' numbers (x for a, y for b), by the op's arity
# and by what ``other`` may be. A plain number becomes a constant: a leaf with no
# gradient and no local gradients, all None (``{theirs}`` names it, ``{indent}``
# is its block's).
_CONSTANT = """\
{indent}{theirs}.grad = {theirs}.op = {theirs}.input_a = {theirs}.input_b = None
{indent}{theirs}.local_a = {theirs}.local_b = None
{indent}{theirs}.label = ""
"""
_ONE = """\
        x = self.data
        try:
"""
_VALUE_OR_NUMBER = """\
        x = self.data
        try:
            if type(other) is Value:
                b = other
                y = b.data
            elif type(other) is float or type(other) is int:
                b = _node()                  # a plain number: a constant leaf
                b.data = y = other if type(other) is float else float(other)
{constant}            else:
                return {general}   # a no_grad() result, a subclass, a wrong type
"""
_NUMBER = """\
        {mine} = self.data
        try:
            if type(other) is float:         # a plain number: a constant leaf
                {number} = other
            elif type(other) is int:
                {number} = float(other)
            else:
                return {general}   # a Value, a wrong type
            {theirs} = _node()
            {theirs}.data = {number}
{constant}"""


def _method_source(op: Op, name: str, reflected: bool) -> str:
    """The source of the method: ``apply`` specialised to ``op``, its rules inline.
    ``reflected`` (``2 - x``): ``other`` is a number and comes first."""
    functions = {f: _qualified(f) for f in {*ops.FORWARD_NAMES, *ops.LOCAL_NAMES}}
    if functions.get(name, name) == name:    # Value.abs's rule abs(a) is the builtin, not itself
        functions[name] = f"builtins.{name}"
    names = {"a": "x", "b": "y", "out": "out", **functions}
    doc = op.doc or (f"{_spelled(op)}: the op table's row {op.name!r} (out = {op.forward_rule}; "
                     + ", ".join(f"∂out/∂{v} = {r}" for v, r in zip("ab", op.local_rules)) + ").")
    if op.arity == 1:
        general, a, b, operands = "apply(OP, self)", "self", "None", _ONE
    elif reflected:
        general, a, b = "apply(OP, other, self)", "a", "self"
        operands = _NUMBER.format(general=general, mine="y", theirs="a", number="x",
                                  constant=_CONSTANT.format(indent=" " * 12, theirs="a"))
    else:
        general, a, b = "apply(OP, self, other)", "self", "b"
        constant = _CONSTANT.format(indent=" " * (12 if op.number is not None else 16),
                                    theirs="b")
        operands = (_NUMBER.format(general=general, mine="x", theirs="b", number="y",
                                   constant=constant)
                    if op.number is not None else
                    _VALUE_OR_NUMBER.format(general=general, constant=constant))
    domain = (f"            if not ({render(op.domain, names)}):\n"
              f"                return {general}\n" if op.domain else "")
    local = "".join(f"            local_{v} = {render(r, names)}\n"
                    for v, r in zip("ab", op.local_rules))
    return _METHOD.format(name=name, params="self" if op.arity == 1 else "self, other",
                          doc=doc, general=general, operands=operands, domain=domain,
                          forward=render(op.forward_rule, names), local=local, a=a, b=b,
                          local_b="local_b" if op.arity == 2 else "0.0")


def _spelled(op: Op) -> str:
    """The op on a and b as a learner writes it: ``a × b``, ``−a``, ``exp(a)``."""
    if op.arity == 2:
        return f"a {op.symbol} b"
    if "·" in op.symbol:
        return op.symbol.replace("·", "a")
    return f"{op.symbol}(a)" if op.symbol.isalpha() else f"{op.symbol}a"


def register(filename: str, source: str) -> None:
    """Make code the engine writes readable where it runs: ``linecache`` then serves
    its lines to ``inspect.getsource``, to tracebacks printed by the ``traceback``
    module (pytest, IPython, logging) and to pdb, under ``filename``."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def op_method(op: Op, name: str, reflected: bool = False) -> Callable[..., Value]:
    """The method ``name`` that applies ``op`` to ``self`` (and ``other``): ``apply``
    specialised to the row, its rules written inline (see the module docstring).
    ``reflected``: ``self`` is the second operand (``__rsub__``: other − self)."""
    source = _method_source(op, name, reflected)
    filename = f"<engine: Value.{name}, written from the op table's row {op.name!r}>"
    register(filename, source)
    scope: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), globals(), scope)
    method = scope["make"](op)
    method.__qualname__ = f"Value.{name}"
    return method


class _ValueType(type):
    """The type of ``Value``, where ``Value(data, label)`` checks its arguments.

    The check lives here, not in an ``__init__``, so that the class has none: the
    ops make each new node by calling the class bare (``_node()``), which is about
    half the cost of ``object.__new__(Value)`` (that builds two argument tuples)."""

    def __call__(cls, data: Number, label: str = "") -> Value:
        node = type.__call__(cls)
        node.data = as_float(data, cls.__name__)
        if not isinstance(label, str):
            raise TypeError(f"{cls.__name__}: label must be a str, "
                            f"got {type(label).__name__} {label!r}")
        node.grad = 0.0
        node.op = node.input_a = node.input_b = None
        node.local_a = node.local_b = 0.0
        node.label = label
        return node


class Value(Node, metaclass=_ValueType):
    """A scalar in a computation graph: ``Value(data, label="")``. Mix freely with
    plain numbers: ``2 * x + 1`` works, and the numbers become constants, leaves a
    diagram can show."""

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass cannot have an ``__init__``: Value has none to call, as
        ``Value(data, label)`` is checked by its type (see ``_ValueType``)."""
        super().__init_subclass__(**kwargs)
        if "__init__" in vars(cls):
            raise TypeError(f"{cls.__name__}: a Value subclass cannot define __init__ "
                            f"(Value(data, label) is checked by its type, and there is no "
                            f"Value.__init__ to call); set what else it needs after "
                            f"construction, e.g. in a classmethod that calls cls(data, label)")

    # ---- arithmetic: each operator is one row of engine/ops.py ------------------
    # (and each row with a function name is a method too: x.exp(), x.relu(), …,
    # added from the table at the end of this module)
    __add__ = op_method(ADD, "__add__")
    __radd__ = op_method(ADD, "__radd__", reflected=True)
    __sub__ = op_method(SUB, "__sub__")
    __rsub__ = op_method(SUB, "__rsub__", reflected=True)
    __mul__ = op_method(MUL, "__mul__")
    __rmul__ = op_method(MUL, "__rmul__", reflected=True)
    __truediv__ = op_method(DIV, "__truediv__")
    __rtruediv__ = op_method(DIV, "__rtruediv__", reflected=True)
    __neg__ = op_method(NEG, "__neg__")
    __abs__ = op_method(ABS, "__abs__")
    __pow__ = op_method(POW, "__pow__")     # x ** 2; a Value exponent, x ** y, is powv
    __rpow__ = op_method(POWV, "__rpow__", reflected=True)

    def __pos__(self) -> Value:
        return self

    # ---- comparisons and conversions (on data; equality stays identity) ---------
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

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        if self.is_constant:
            return f"Constant(data={self.data:.6g}{label})"
        op = f", op={self.op.name!r}" if self.op is not None else ""
        grad = f"{self.grad:.6g}" if isinstance(self.grad, (int, float)) else repr(self.grad)
        return f"{type(self).__name__}(data={self.data:.6g}, grad={grad}{label}{op})"


#: A new Value with no slot set yet: the ops' way to make a node (see ``_ValueType``).
_node = type.__call__.__get__(Value)


def Constant(data: Number, label: str | None = None) -> Value:
    """A constant: a number that is part of an expression but not something to
    differentiate by, such as the ``2`` of ``2 * x`` (which becomes one by itself) or
    a target ``Constant(0.9, "y")``. A leaf no gradient is asked of: ``backward``
    leaves its ``.grad`` None (as PyTorch does a tensor that does not require grad),
    and ``x.is_constant`` tells one (its local gradients, which a leaf has no use
    for, are None too). Diagrams write an unnamed one as its number. (A function,
    named as the kind of Value it makes.)"""
    number = as_float(data, "Constant")
    if label is not None and not isinstance(label, str):
        raise TypeError(f"Constant: label must be a str, got {type(label).__name__} {label!r}")
    node = constant(number)
    node.label = label or ""
    return node


class TracedValue(Value):
    """A node made under ``detect_anomaly()``: it remembers where it was created."""

    __slots__ = ("created_at",)


class Detached(Value):
    """A result computed under ``no_grad()``: a leaf that recorded nothing of how it
    was made, so ``backward`` from it has nothing to differentiate (an error says so).
    Used later in a recorded graph it is a leaf there: no gradient flows past it, as
    in PyTorch (and as pow's exponent it is a number, a constant)."""

    __slots__ = ()
    detached = True


# ---- numbers in --------------------------------------------------------------------------
def as_float(data: Any, who: str) -> float:
    """``data`` as a float, or a TypeError (not a real number) / NumberOverflowError."""
    if type(data) is float:
        return data
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        try:
            return float(data)
        except OverflowError:                 # an int beyond 1.8e308
            raise _too_large(who, data) from None
    if isinstance(data, Node):
        raise TypeError(f"{who}: expected a real number (int or float), got a "
                        f"{type(data).__name__} ({data!r}): give its .data")
    if hasattr(data, "__float__") and not isinstance(data, (complex, bool, str, bytes)):
        try:                                  # numpy scalars, Fraction, Decimal …
            return float(data)
        except OverflowError:
            raise _too_large(who, data) from None
        except (TypeError, ValueError):
            pass
    raise TypeError(f"{who}: expected a real number (int or float), got "
                    f"{type(data).__name__} {data!r}")


def constant(number: Number) -> Value:
    """A constant leaf for a plain int or float, made without the constructor's
    checks (the caller checked the type)."""
    node = _node()
    node.data = float(number)                 # an int beyond 1.8e308: OverflowError
    node.grad = node.op = node.input_a = node.input_b = None
    node.local_a = node.local_b = None
    node.label = ""
    return node


def as_operand(x: Any, op: Op) -> Value:
    """An operand of ``op`` as a Value: numbers become constants, anything else is a
    TypeError naming the op."""
    if isinstance(x, Value):
        return x
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        try:
            return constant(x)
        except OverflowError:
            raise _too_large(f"{op.name} ({op.symbol})", x) from None
    raise TypeError(f"{op.name} ({op.symbol}): operands must be Values or real numbers, "
                    f"got {type(x).__name__} {x!r}")


def _compare(other: Any) -> float | None:
    if isinstance(other, Value):
        return other.data
    if isinstance(other, (int, float)):
        return other
    return None


# ---- the general path of every op --------------------------------------------------------
def apply(op: Op, *operands: Value | Number) -> Value:
    """``op`` applied to ``operands`` (Values or plain numbers): the new node.

    Records the inputs and the local gradients ∂out/∂input as numbers, unless
    inside ``no_grad()`` (then the result is a ``Detached`` leaf). Math outside the
    op's domain is an error naming the op, its values and labels; so is a result
    that overflows from finite inputs. An inf or NaN that came in with an input is
    carried (the user's choice), unless ``detect_anomaly()`` is on."""
    if len(operands) != op.arity:
        raise TypeError(f"{op.name}: takes {op.arity} operand{'s' * (op.arity > 1)}, "
                        f"got {len(operands)}")
    inputs = tuple(as_operand(x, op) for x in operands)
    if op.number is not None and type(inputs[op.number]) is Detached:    # a constant too
        inputs = tuple(constant(v.data) if i == op.number else v for i, v in enumerate(inputs))
    if op.number is not None and not inputs[op.number].is_constant:
        if op.otherwise is not None:          # x ** y with a Value y: the row powv
            return apply(OPS[op.otherwise], *inputs)
        raise TypeError(f"{op.name}: {op.operands[op.number]} must be a number, got "
                        f"{inputs[op.number]!r}")
    datas = tuple(v.data for v in inputs)
    finite_inputs = all(math.isfinite(x) for x in datas)
    try:                                      # (an inf or NaN that came in is carried)
        if finite_inputs and not op.defined(*datas):
            raise DomainError(op.outside)
        out = op.forward(*datas)
    except (ArithmeticError, ValueError) as error:
        raise _domain_error(op, inputs, error) from None
    mode = MODE.get()
    if out - out != 0.0:                      # inf or NaN
        if finite_inputs:
            where = f"; the op was created at {creation_site()}" if mode.anomaly else ""
            raise NumberOverflowError(f"{op.name}: {_call(op, inputs)} = {out} overflows a "
                                      f"float; inputs: {describe(inputs)}{where}")
        if mode.anomaly:
            raise NonFiniteError(f"{op.name}: produced {out} in forward from inputs "
                                 f"{describe(inputs)}; the op was created at {creation_site()}")
    node = _new(Detached if not mode.grad else TracedValue if mode.anomaly else Value)
    node.data = out
    node.grad = 0.0
    node.label = ""
    node.op = node.input_a = node.input_b = None
    node.local_a = node.local_b = 0.0
    if not mode.grad:                         # no_grad(): a leaf
        return node
    local_grads = _local_grads(op, datas, out)
    if mode.anomaly:
        node.created_at = creation_site()
        if finite_inputs and not all(map(math.isfinite, local_grads)):
            raise NonFiniteError(
                f"{op.name}: its local derivatives ({', '.join(op.local_rules)}) are "
                f"{local_grads} at {describe(inputs)}: no gradient can flow back "
                f"through it; the op was created at {node.created_at}")
    node.op = op
    node.inputs = inputs
    node.local_grads = local_grads
    return node


def _local_grads(op: Op, datas: tuple[float, ...], out: float) -> tuple[Any, ...]:
    """∂out/∂input at forward time. Where a rule has no finite value (√a at a = 0, 1/a
    at a tiny a) it is recorded as inf: the forward value is fine, and a gradient is
    refused only if one flows through it (by backward or grad; under
    ``detect_anomaly()``, here and now)."""
    try:
        return op.local(*datas, out)
    except (ArithmeticError, ValueError):     # one rule failed: each on its own
        return tuple(_one_local(rule, datas, out) for rule in op.each_local)


def _one_local(rule: Callable[..., Any], datas: tuple[float, ...], out: float) -> Any:
    try:
        return rule(*datas, out)
    except (ArithmeticError, ValueError):
        return math.inf


# ---- messages that name the op, the values and the labels --------------------------------
def _call(op: Op, inputs: tuple[Value, ...]) -> str:
    """The row's forward rule with the input values written in: ``log(0.0)``,
    ``(-2.0) ** 0.5``."""
    return render(op.forward_rule, {name: v.data if math.isfinite(v.data) else repr(v.data)
                                    for name, v in zip("ab", inputs)})


def _domain_error(op: Op, inputs: tuple[Value, ...], error: Exception) -> Exception:
    """An error of the forward rule, as one of the family (engine/errors.py)."""
    if isinstance(error, DomainError) or str(error) == "math domain error":
        kind, reason = DomainError, f"outside the op's domain ({op.outside or error})"
    elif isinstance(error, OverflowError):
        kind, reason = NumberOverflowError, "the result overflows a float"
    elif isinstance(error, ZeroDivisionError):
        kind, reason = DivisionByZeroError, str(error)
    else:
        kind, reason = DomainError, str(error)
    return kind(f"{op.name}: cannot compute {_call(op, inputs)}: {reason}; "
                f"inputs: {describe(inputs)}")


def _too_large(who: str, data: Any) -> NumberOverflowError:
    """An int (or Fraction …) beyond the largest float, shown by its size: printing
    all its digits could itself fail (Python caps int-to-str at 4300 digits)."""
    try:
        digits = len(str(abs(int(data))))
    except ValueError:
        digits = int(abs(int(data)).bit_length() * math.log10(2)) + 1
    return NumberOverflowError(
        f"{who}: the number ≈ {'-' if data < 0 else ''}10^{digits - 1} ({type(data).__name__}, "
        f"{digits} digits) is too large for a float (at most ≈ 1.8e308)")


def _inside_engine(filename: str) -> bool:
    """A file of the engine, or a method the engine wrote (``<engine: Value.__mul__ …>``)."""
    return (filename.startswith("<engine")
            or os.path.dirname(os.path.abspath(filename)) == _ENGINE_DIR)


def creation_site() -> str:
    """'file:line in function: source' of the first caller outside the engine."""
    frame = sys._getframe(1)
    while frame is not None and _inside_engine(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    source = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}: {source}"


# ---- every row with a function name: a method, and a function of Values and numbers ------
def _function_form(op: Op) -> Callable[..., Value]:
    method = getattr(Value, op.function)

    def form(*operands: Value | Number) -> Value:
        if len(operands) == op.arity and type(operands[0]) is Value:
            return method(*operands)
        return apply(op, *operands)

    form.__name__ = form.__qualname__ = op.function
    form.__doc__ = f"{op.doc or op.name} A function of Values or plain numbers: {op.function}(x)."
    form.__module__ = "engine"
    return form


#: The ops called by name — ``exp``, ``log``, ``relu``, … — as functions of Values
#: or numbers, one per row with a ``function`` name (engine.exp(x), chaingrad formulas).
FUNCTIONS: dict[str, Callable[..., Value]] = {}
for _op in OPS.values():
    if _op.function is None:
        continue
    if _op.function in vars(Value) or _op.function in vars(Node):
        raise ValueError(f"op {_op.name!r}: its function name {_op.function!r} is taken "
                         f"by Value.{_op.function}")
    setattr(Value, _op.function, op_method(_op, _op.function))
    FUNCTIONS[_op.function] = _function_form(_op)
del _op
