"""How viz writes maths: numbers, super- and subscripts, and the op table's rules
over node names.

Every diagram, explanation and animation writes expressions the same way, so they
are written here once:

* numbers for a reader (:func:`display_number`: ``−3×10⁻⁶``, not ``-3e-06``) and
  digits as super- or subscripts (:func:`superscript`, :func:`subscript`);
* a rule of ``engine/ops.py`` — an expression over ``a``, ``b`` and ``out`` — as
  text over the names of the nodes it is applied to (:class:`Notation`), with just
  the parentheses precedence needs: ``b * a ** (b - 1.0)`` on x with exponent 2
  reads ``2·x``, ``out * (1.0 - out)`` on σ(z) reads ``σ(z)·(1 − σ(z))``;
* an op applied to named inputs (:func:`op_term`): ``x·w + b``, ``(a − y)²``,
  ``tanh(n)``, read off the op's forward rule and symbol.

Nothing here knows an op by name: functions in rules are written with the symbol of
the op whose forward rule calls them (``sigmoid(a)`` → ``σ(…)``), so a new row of the
op table is written correctly with no change here. A symbol with a ``·`` in it is a
template for its argument (``|·|`` writes ``|x|``).
"""

from __future__ import annotations

import ast
import operator
from functools import cache
from typing import Any, Callable, Mapping, Sequence

from engine import OPS, Op

from .arguments import check_precision

__all__ = ["SUPERSCRIPTS", "SUBSCRIPTS", "superscript", "subscript", "format_number",
           "display_number", "SUM", "PRODUCT", "SIGN", "POWER", "ATOM", "Term", "wrap",
           "power_base", "operand", "number_operand", "term", "applied", "local_rule", "Notation",
           "op_term", "infix", "activation_row", "activation_symbol", "activation_name",
           "op_word"]

#: Digits (and the minus sign) as superscripts and as subscripts.
SUPERSCRIPTS = dict(zip("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻"))
SUBSCRIPTS = dict(zip("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋"))
_SUP = str.maketrans(SUPERSCRIPTS)
_SUB = str.maketrans(SUBSCRIPTS)


def superscript(text: object) -> str:
    """Digits and minus signs of ``text`` raised: ``-12`` → ``⁻¹²``."""
    return str(text).translate(_SUP)


def subscript(text: object) -> str:
    """Digits and minus signs of ``text`` lowered: ``12`` → ``₁₂``."""
    return str(text).translate(_SUB)


def format_number(x: float, precision: int = 4) -> str:
    """``x`` with ``precision`` significant digits (``%.4g``-like): 3e-6 stays
    ``3e-06``, never ``0.0000``; −0.0 prints as 0."""
    check_precision("format_number", precision)
    if x == 0.0:
        return "0"
    return f"{x:.{precision}g}"


def display_number(x: float, precision: int = 4) -> str:
    """``x`` for a slide: significant digits as :func:`format_number`, a true minus
    sign and powers of ten written out (``-3e-06`` → ``−3×10⁻⁶``)."""
    text = format_number(x, precision)
    if "e" in text:
        mantissa, exponent = text.split("e")
        power = superscript(int(exponent))
        text = f"10{power}" if mantissa in ("1", "-1") else f"{mantissa}×10{power}"
        if mantissa == "-1":
            text = "-" + text
    return text.replace("-", "−")


# ---- precedence -----------------------------------------------------------------------
#: How tightly a piece of text binds, loosest first: a comparison or conditional,
#: a sum (x + y), a product (x·y, x/y), a sign (−x), a power (x²), an atom (x, σ(z)).
CONDITION, SUM, PRODUCT, SIGN, POWER, ATOM = 0, 1, 2, 3, 4, 5

#: Text and its precedence: ``("x·w", PRODUCT)``.
Term = tuple[str, int]


def wrap(text: str, precedence: int, needed: int) -> str:
    """``text`` in parentheses when it binds looser than its place ``needed``."""
    return text if precedence >= needed else f"({text})"


def operand(name: str) -> str:
    """A name fit to stand inside ∂…/∂… or a bigger expression: parenthesised when it
    is a sum, product, quotient, power or negation (``x·w + b``, ``−x``), not when
    it is a symbol or a call (``w₁``, ``σ(z)``, ``x²``)."""
    return name if _precedence(name) == ATOM else f"({name})"


def number_operand(number: str) -> str:
    """A displayed number fit to be a term or factor: a negative one in parentheses
    (``3 + (−2)``, ``0.5 × (−1.2)``)."""
    return f"({number})" if number.startswith(("−", "-")) else number


def term(name: str) -> Term:
    """A name as a Term, its precedence read from the text: ATOM for a symbol or a
    call, else the loosest (so it is parenthesised wherever that could matter)."""
    return name, _precedence(name)


def _precedence(name: str) -> int:
    if name[:1] in "−-(":          # −x, and a bracketed base: ∂((a − y)²), not ∂(a − y)²
        return SUM
    depth, bars = 0, False                 # |…| brackets too: |x·3| is one symbol
    for char in name:
        depth += char in "([{"
        depth -= char in ")]}"
        bars ^= char == "|"
        if depth == 0 and not bars and char in " +−-·/^×÷":
            return SUM
    return ATOM


_RAISED = frozenset(SUPERSCRIPTS.values()) | {"⁾", "⁽", "ᵀ", "′"}


def power_base(text: str, precedence: int) -> str:
    """``text`` fit to take an exponent: parenthesised when it binds looser than a
    power or already ends raised (``(a₁⁽²⁾)²``, not ``a₁⁽²⁾²``, which reads as a
    double superscript and is no valid LaTeX)."""
    if precedence < ATOM or text[-1:] in _RAISED:
        return f"({text})"
    return text


def applied(symbol: str, argument: str) -> str:
    """A one-argument function written with its symbol: ``σ(z)``, and ``|x|`` for a
    template symbol such as ``|·|``."""
    return symbol.replace("·", argument) if "·" in symbol else f"{symbol}({argument})"


# ---- the op table's rules ----------------------------------------------------------------
def local_rule(op: Op, position: int) -> ast.expr:
    """The rule for ∂out/∂input[position] of ``op``, parsed, as a lesson writes it
    (the row's ``taught`` form: ∂(a/b)/∂b is −a/b², not the table's −out/b)."""
    return ast.parse(op.taught[position], mode="eval").body


@cache
def _function_symbols() -> dict[str, str]:
    """Function name → symbol, for every one-input op whose forward rule is a call
    of its input (``sigmoid(a)`` → ``σ``, ``tanh(a)`` → ``tanh``)."""
    symbols = {}
    for op in OPS.values():
        tree = ast.parse(op.forward_rule, mode="eval").body
        if op.arity == 1 and isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name):
            symbols[tree.func.id] = op.symbol
    return symbols


_PYTHON_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


@cache
def infix(op: Op) -> str | None:
    """The Python operator of a row whose forward rule is ``a <operator> b``: ``"+"``
    for add, ``"*"`` for mul, ``"**"`` for both pows; None for any other row. How a
    feature recognises arithmetic (a neuron's Σ wₖ·aₖ + b) from the table, not by
    the ops' names."""
    tree = ast.parse(op.forward_rule, mode="eval").body
    if (isinstance(tree, ast.BinOp) and isinstance(tree.left, ast.Name) and tree.left.id == "a"
            and isinstance(tree.right, ast.Name) and tree.right.id == "b"):
        return _PYTHON_OPERATORS.get(type(tree.op))
    return None


_OPERATORS = {ast.Add: (" + ", SUM), ast.Sub: (" − ", SUM), ast.Mult: ("·", PRODUCT),
              ast.Div: ("/", PRODUCT)}
_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Pow: operator.pow}
_COMPARISONS: dict[type, tuple[str, Callable[[Any, Any], bool]]] = {
    ast.Gt: (">", operator.gt), ast.GtE: ("≥", operator.ge), ast.Lt: ("<", operator.lt),
    ast.LtE: ("≤", operator.le), ast.Eq: ("=", operator.eq), ast.NotEq: ("≠", operator.ne)}
#: Integer exponents up to this size are written as superscripts (x², x⁻¹).
_SUPERSCRIPT_LIMIT = 100


class _Rename(ast.NodeTransformer):
    def __init__(self, names: Mapping[str, Term]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in self.names:
            return ast.Name(id=wrap(*self.names[node.id], ATOM), ctx=ast.Load())
        return node


class Notation:
    """Writes op-table rules (Python expressions over ``a``, ``b``, ``out``) as text
    over node names.

    ``names`` gives each rule name's text and precedence (``{"a": ("x·w", PRODUCT)}``);
    ``numbers`` the inputs that are plain numbers (constants), by rule name. With
    ``fold`` (the default), arithmetic on numbers is done — an exponent 2 makes
    ``2·x``, not ``2·x^(2 − 1)`` — and conditions decided by numbers pick their
    branch, others becoming Iverson brackets (ReLU′: ``[z > 0]``). Without it, the
    rule is written as it stands (names for ops: ``x·1`` stays ``x·1``)."""

    def __init__(self, names: Mapping[str, Term], numbers: Mapping[str, float] | None = None,
                 *, fold: bool = True) -> None:
        self.names = names
        self.numbers = numbers or {}
        self.fold = fold

    def text(self, rule: str | ast.expr) -> str:
        """The rule as text."""
        return self.term(rule)[0]

    def term(self, rule: str | ast.expr) -> Term:
        """The rule as text, with its precedence (to put it inside something bigger)."""
        tree = ast.parse(rule, mode="eval").body if isinstance(rule, str) else rule
        return self._term(tree)

    def value(self, rule: str | ast.expr) -> float | None:
        """The rule's value when it is made of numbers only — literals and the
        ``numbers`` inputs (∂(0.5·u)/∂u is 0.5, ∂(s/3)/∂s is 1/3) — else None."""
        tree = ast.parse(rule, mode="eval").body if isinstance(rule, str) else rule
        return self._number(tree)

    def branch(self, rule: str | ast.expr, values: Mapping[str, float]) -> tuple[ast.expr, str]:
        """The branch a conditional rule takes when its names have ``values``, and
        the condition that chose it as text (``"z > 0"``, ``"not z > 0"``; ``""``
        when the condition is no comparison)."""
        tree = ast.parse(rule, mode="eval").body if isinstance(rule, str) else rule
        condition = ""
        while isinstance(tree, ast.IfExp):
            taken = self._truth(tree.test, values)
            if taken is None:
                raise ValueError(f"cannot decide the condition {ast.unparse(tree.test)!r}")
            if isinstance(tree.test, ast.Compare):
                text = self.text(tree.test)
                condition = text if taken else f"not {text}"
            tree = tree.body if taken else tree.orelse
        return tree, condition

    # ---- numbers --------------------------------------------------------------------
    def _number(self, node: ast.expr, values: Mapping[str, float] | None = None) -> float | None:
        """The value of a subexpression made only of numbers, else None. Without
        folding only a literal or a number input counts."""
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name):
            found = (values if values is not None else self.numbers).get(node.id)
            return None if found is None else float(found)
        if not self.fold and values is None:
            return None
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self._number(node.operand, values)
            return None if inner is None else (-inner if isinstance(node.op, ast.USub) else inner)
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            left, right = self._number(node.left, values), self._number(node.right, values)
            if left is None or right is None:
                return None
            try:
                result = _ARITHMETIC[type(node.op)](left, right)
            except (ArithmeticError, ValueError, TypeError):
                return None
            return result if isinstance(result, float) else None
        return None

    def _truth(self, node: ast.expr, values: Mapping[str, float] | None = None) -> bool | None:
        """The value of a condition on numbers only, else None."""
        number = self._number(node, values)
        if number is not None:
            return bool(number)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and \
                type(node.ops[0]) in _COMPARISONS:
            left, right = self._number(node.left, values), self._number(node.comparators[0], values)
            if left is not None and right is not None:
                return bool(_COMPARISONS[type(node.ops[0])][1](left, right))
        return None

    # ---- text -----------------------------------------------------------------------
    def _term(self, node: ast.expr) -> Term:
        number = self._number(node)
        if number is not None:
            text = display_number(number, 6)
            return text, SIGN if text.startswith("−") else ATOM
        if isinstance(node, ast.Name) and node.id in self.names:
            return self.names[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            text, precedence = self._term(node.operand)
            return f"−{wrap(text, precedence, POWER)}", SIGN
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return self._binary(node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return self._power(node.left, node.right)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            return self._call(node.func.id, node.args)
        if isinstance(node, ast.Compare) and all(type(op) in _COMPARISONS for op in node.ops):
            parts = [self._term(node.left)[0]]
            for op, right in zip(node.ops, node.comparators):
                parts.append(f"{_COMPARISONS[type(op)][0]} {self._term(right)[0]}")
            return " ".join(parts), CONDITION
        if isinstance(node, ast.IfExp):
            return self._conditional(node)
        # Anything else a rule might hold: Python's own spelling, names put in.
        return ast.unparse(_Rename(self.names).visit(node)), CONDITION

    def _decided(self, node: ast.expr) -> ast.expr:
        """``node`` with the conditions its numbers decide taken (folding only)."""
        while self.fold and isinstance(node, ast.IfExp):
            truth = self._truth(node.test)
            if truth is None:
                break
            node = node.body if truth else node.orelse
        return node

    def _binary(self, node: ast.BinOp) -> Term:
        symbol, precedence = _OPERATORS[type(node.op)]
        if self.fold and isinstance(node.op, ast.Mult):
            if self._number(node.left) == 1.0:
                return self._term(node.right)
            if self._number(node.right) == 1.0:
                return self._term(node.left)
            left, right = self._number(node.left), self._decided(node.right)
            inner = self._number(right.left) if (isinstance(right, ast.BinOp) and isinstance(
                right.op, ast.Mult)) else None
            if left is not None and inner is not None:     # ½·(2·x) → x: numbers multiply
                return self._term(ast.BinOp(ast.Constant(left * inner), ast.Mult(),
                                            right.right))   # type: ignore[union-attr]
        if (isinstance(node.op, ast.Mult) and isinstance(node.left, ast.Name)
                and isinstance(node.right, ast.Name) and node.left.id == node.right.id):
            base, base_precedence = self._term(node.left)               # out·out → out²
            return f"{power_base(base, base_precedence)}²", POWER
        left, left_precedence = self._term(node.left)
        right, right_precedence = self._term(node.right)
        # a − (b + c) and a/(b·c) need the parentheses; a + b + c does not; x + (−y)
        right_needed = precedence + 1 if isinstance(node.op, (ast.Sub, ast.Div)) else precedence
        if right_precedence == SIGN:
            right_needed = POWER
        return (f"{wrap(left, left_precedence, precedence)}{symbol}"
                f"{wrap(right, right_precedence, right_needed)}"), precedence

    def _power(self, base_node: ast.expr, exponent_node: ast.expr) -> Term:
        base, base_precedence = self._term(base_node)
        exponent = self._number(exponent_node)
        if self.fold and exponent == 1.0:
            return base, base_precedence
        base = power_base(base, base_precedence)
        if exponent is not None and exponent == int(exponent) and \
                abs(exponent) < _SUPERSCRIPT_LIMIT:
            return f"{base}{superscript(int(exponent))}", POWER
        power, power_precedence = self._term(exponent_node)
        return f"{base}^{wrap(power, power_precedence, ATOM)}", POWER

    def _call(self, function: str, args: list[ast.expr]) -> Term:
        arguments = ", ".join(self._term(arg)[0] for arg in args)
        return applied(_function_symbols().get(function, function), arguments), ATOM

    def _conditional(self, node: ast.IfExp) -> Term:
        truth = self._truth(node.test) if self.fold else None      # decided by numbers
        if truth is not None:
            return self._term(node.body if truth else node.orelse)
        condition = self._term(node.test)[0]
        if self.fold:
            body, orelse = self._number(node.body), self._number(node.orelse)
            if body == 1.0 and orelse == 0.0:                     # ReLU′: an Iverson bracket
                return f"[{condition}]", ATOM
            if orelse == 0.0:
                text, precedence = self._term(node.body)
                needed = POWER if precedence == SIGN else PRODUCT    # [c]·(−1), not [c]·−1
                return f"[{condition}]·{wrap(text, precedence, needed)}", PRODUCT
        return (f"{self._term(node.body)[0]} if {condition} else "
                f"{self._term(node.orelse)[0]}"), CONDITION


def op_term(op: Op, inputs: Sequence[Term], numbers: Mapping[int, float] | None = None) -> Term:
    """``op`` applied to inputs with these names, read off the op table: an op whose
    forward rule is arithmetic by that rule (``x·w``, ``−x``, ``x²``), any other
    (exp, ReLU, σ, …) as a function written with its symbol (``σ(z)``, ``|x|``). ``numbers`` gives
    the inputs that are plain numbers, by position (so an exponent 2 is ``²``)."""
    slots = "ab"[: op.arity]
    tree = ast.parse(op.forward_rule, mode="eval").body
    arithmetic = isinstance(tree, (ast.UnaryOp, ast.BinOp))
    if not arithmetic:                       # a function: σ(z), ReLU(x), |x|, max(x, w)
        return applied(op.symbol, ", ".join(text for text, _ in inputs)), ATOM
    known = {slots[i]: x for i, x in (numbers or {}).items()}
    return Notation(dict(zip(slots, inputs)), known, fold=False).term(tree)


def activation_row(activation: str) -> Op | None:
    """The op row an nn activation calls (``relu`` → the ReLU row, found by the row's
    ``function``); None for ``linear`` (no op) or a name no row has."""
    return next((op for op in OPS.values() if op.function == activation), None)


def activation_symbol(activation: str, linear: str = "linear") -> str:
    """How the lessons write an nn activation: the symbol of the op row it calls
    (``relu`` → ReLU, ``sigmoid`` → σ, ``tanh``), ``linear`` for none (the layer's
    z is its a); another name as it is."""
    if activation == "linear":
        return linear
    row = activation_row(activation)
    return row.symbol if row is not None else activation


def op_word(op: Op) -> str:
    """An op named in words, as prose names it (ReLU, tanh, sigmoid, abs): its
    symbol when that is a word, else its function name (σ is sigmoid, |·| is abs)."""
    return op.symbol if op.symbol.isascii() and op.symbol.isalpha() else op.function or op.name


def activation_name(activation: str) -> str:
    """An nn activation named in words, as the lessons' prose names it (ReLU,
    sigmoid, tanh) for a legend: :func:`op_word` of the op row it calls; another
    name as it is."""
    row = activation_row(activation)
    return activation if row is None else op_word(row)
