"""viz.notation: the one writer of maths for diagrams, explanations and animations.

The precedence test is a round trip: a random rule is written as text, the text is
read back as Python, and both are evaluated at the same point — so every
parenthesis the writer leaves out is one the maths did not need, and every one it
puts in keeps the meaning. A new op, defined here and in no table viz knows, is
named, explained and animated from its row alone.
"""

from __future__ import annotations

import ast
import math
import re
import shutil

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine import Op, Value, grad
from viz import explain
from viz.animate import frames
from viz.names import node_names
from viz.notation import (
    ATOM,
    SUBSCRIPTS,
    SUPERSCRIPTS,
    Notation,
    applied,
    display_number,
    number_operand,
    op_term,
    operand,
    subscript,
    superscript,
    term,
)

# ---- digits -----------------------------------------------------------------------------


def test_digit_tables_cover_digits_and_minus() -> None:
    assert superscript(-12) == "⁻¹²" and subscript("12") == "₁₂"
    assert len(set(SUPERSCRIPTS.values())) == len(set(SUBSCRIPTS.values())) == 11
    assert superscript("x1") == "x¹"                        # letters stay as they are
    assert display_number(-3e-6) == "−3×10⁻⁶" and display_number(1e-7) == "10⁻⁷"


# ---- precedence: the round trip ---------------------------------------------------------
_FROM_SUPERSCRIPT = {high: digit for digit, high in SUPERSCRIPTS.items()}


def _as_python(text: str) -> str:
    """Read written maths back as Python: · → *, − → -, ^ → **, x² → x**(2)."""
    text = re.sub("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+",
                  lambda m: "**(" + "".join(_FROM_SUPERSCRIPT[c] for c in m.group()) + ")", text)
    return text.replace("·", "*").replace("×", "*").replace("−", "-").replace("^", "**")


_LEAVES = st.sampled_from(["a", "b", "out", "2", "3", "0.5"])


def _rules() -> st.SearchStrategy[str]:
    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**"]), inner).map(
            lambda t: f"({t[0]}) {t[1]} ({t[2]})")
        return st.one_of(binary, inner.map(lambda x: f"-({x})"))
    return st.recursive(_LEAVES, grow, max_leaves=7)


def _evaluate(source: str, point: dict[str, float]) -> float | None:
    try:
        value = eval(compile(ast.parse(source, mode="eval"), "rule", "eval"), {}, dict(point))
    except (ArithmeticError, ValueError):
        return None
    if isinstance(value, complex) or not math.isfinite(value) or abs(value) > 1e12:
        return None
    return value


class _Magnitude(ast.NodeTransformer):
    """A rule's terms all made positive (− as +, −x as x): how large the numbers it
    adds up are, which bounds what rounding one of them can do to the sum."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Sub):
            node.op = ast.Add()
        if isinstance(node.op, ast.Pow):               # a positive base keeps it real
            node.left = ast.Call(ast.Name("abs", ast.Load()), [node.left], [])
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        return node.operand if isinstance(node.op, ast.USub) else node


def _magnitude(rule: str, point: dict[str, float]) -> float:
    tree = ast.fix_missing_locations(_Magnitude().visit(ast.parse(rule, mode="eval")))
    try:
        value = eval(compile(tree, "rule", "eval"), {"abs": abs}, dict(point))
    except (ArithmeticError, ValueError):
        return math.inf
    return abs(value) if isinstance(value, float) and math.isfinite(value) else math.inf


@settings(max_examples=300, deadline=None)
@given(_rules())
@example("((a) ** (a)) - ((2) ** (0.5))")              # a sum that cancels, folded
def test_written_rules_keep_their_meaning(rule: str) -> None:
    point = {"a": 1.3, "b": 0.7, "out": 2.1}
    expected = _evaluate(rule, point)
    names = {name: (name, ATOM) for name in point}
    for fold in (False, True):
        text = Notation(names, fold=fold).text(rule)
        got = _evaluate(_as_python(text), point)
        if expected is None or got is None:
            continue
        if not fold:                                   # the rule as written: exact
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), (rule, text)
            continue
        # Folded, numbers are shown to 6 significant digits (√2 as 1.41421): a sum
        # that cancels (a^a − √2) keeps only the terms' rounding, so the tolerance is
        # relative to the terms' size, not to the sum's.
        scale = max(abs(expected), min(_magnitude(rule, point), 1e12))
        assert got == pytest.approx(expected, rel=1e-4, abs=1e-5 * scale), (rule, text)


@pytest.mark.parametrize("rule, text", [
    ("a - (b + out)", "a − (b + out)"),          # a − (b + c) needs them …
    ("(a - b) + out", "a − b + out"),            # … (a − b) + c does not
    ("a / (b * out)", "a/(b·out)"),
    ("a * -b", "a·(−b)"),
    ("-a ** 2", "−a²"),
    ("(-a) ** 2", "(−a)²"),
    ("(a ** b) ** out", "(a^b)^out"),
    ("out * out", "out²"),
    ("1.0 - out * out", "1 − out²"),
])
def test_only_the_parentheses_precedence_needs(rule: str, text: str) -> None:
    assert Notation({n: (n, ATOM) for n in ("a", "b", "out")}, fold=False).text(rule) == text


def test_names_carry_their_precedence() -> None:
    """A compound name is bracketed only where it binds too loosely."""
    names = {"a": ("x·w + b", 1), "b": ("x·w", 2), "out": ("tanh(n)", ATOM)}
    notation = Notation(names)
    assert notation.text("a") == "x·w + b"                  # alone: no brackets
    assert notation.text("b * a") == "x·w·(x·w + b)"
    assert notation.text("1.0 - out * out") == "1 − tanh(n)²"
    assert notation.text("log(a)") == "log(x·w + b)"        # an argument needs none
    assert term("x·w") == ("x·w", 1) and term("σ(z)") == ("σ(z)", ATOM)
    assert operand("x·w + b") == "(x·w + b)" and operand("w₁₂⁽¹⁾") == "w₁₂⁽¹⁾"
    assert operand("(a − y)²") == "((a − y)²)" and operand("−x") == "(−x)"
    assert operand("|x·3|") == "|x·3|" and operand("|x| + 1") == "(|x| + 1)"
    assert number_operand("−2") == "(−2)" and number_operand("2") == "2"


def test_folding_numbers_and_deciding_branches() -> None:
    names = {"a": ("x", ATOM), "b": ("2", ATOM), "out": ("y", ATOM)}
    folded = Notation(names, {"b": 2.0})
    assert folded.text("b * a ** (b - 1.0) if b else 0.0") == "2·x"          # pow's rule
    assert Notation(names, {"b": 2.0}, fold=False).text("a * b") == "x·2"
    assert folded.text("1.0 if a > 0.0 else 0.0") == "[x > 0]"              # ReLU′
    rule, condition = folded.branch("1.0 if a > 0.0 else 0.0", {"a": -0.5})
    assert folded.text(rule) == "0" and condition == "not x > 0"


def test_the_value_of_a_rule_made_of_numbers() -> None:
    names = {"a": ("u", ATOM), "b": ("3", ATOM), "out": ("y", ATOM)}
    assert Notation(names, {"b": 3.0}).value("1.0 / b") == pytest.approx(1 / 3)   # ∂(u/3)/∂u
    assert Notation(names, {"b": 3.0}).value("b * a ** (b - 1.0) if b else 0.0") is None
    assert Notation(names).value("-1.0") == -1.0 and Notation(names).value("b") is None
    assert Notation(names, {"b": 0.5}).value(ast.parse("b", mode="eval").body) == 0.5


# ---- a new op needs no viz change ---------------------------------------------------------
ABS = Op("absolute", "|·|", "abs(a)", "1.0 if a > 0.0 else (-1.0 if a < 0.0 else 0.0)")
MAXIMUM = Op("maximum", "max", "a if a >= b else b", "1.0 if a >= b else 0.0",
             "0.0 if a >= b else 1.0")


def _apply(op: Op, *inputs: Value) -> Value:
    """A node made by ``op``, recorded as the engine records one (forward, then the
    local gradients), without adding the op to the engine's table."""
    data = op.forward(*(v.data for v in inputs))
    node = Value(data)
    node.op, node.inputs = op, inputs
    node.local_grads = tuple(float(g) for g in op.local(*(v.data for v in inputs), data))
    return node


def test_a_new_row_is_named_from_its_symbol_and_rule() -> None:
    x, w = Value(-2.0, label="x"), Value(0.5, label="w")
    product = x * w
    absolute = _apply(ABS, product)
    largest = _apply(MAXIMUM, absolute, w)
    names = node_names(largest + 1)
    assert names[absolute] == "|x·w|"
    assert names[largest] == "max(|x·w|, w)"
    assert op_term(ABS, [("x", ATOM)]) == ("|x|", ATOM) and applied("σ", "z") == "σ(z)"


def test_a_new_row_is_explained_and_animated_from_its_rules() -> None:
    x = Value(-2.0, label="x")
    y = _apply(ABS, x * 3.0)                     # |3x|: ∂/∂x = −1 · 3 at x = −2
    why = explain(y, x)
    assert why.total == grad(y, [x])[0] == -3.0
    rules = [f.rule for p in why.paths for f in p.factors]
    assert rules[0] == "1 if x·3 > 0 else [x·3 < 0]·(−1)"
    assert why.paths[0].factors[0].derivative == "∂|x·3|/∂(x·3)"
    steps = frames(y)
    forward = [f for f in steps if f.phase == "forward"]     # x, x·3, |x·3|: no constant
    assert len(forward) == 3
    assert forward[-1].caption == f"y = |x·3| = |−6| = {display_number(6.0)}"
    assert any("∂y/∂(x·3) = −1 (as x·3 < 0) = −1" in f.detail for f in steps)


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's `dot` is not installed")
def test_a_new_row_is_drawn() -> None:
    from viz import draw_dot
    x = Value(-2.0, label="x")
    y = _apply(ABS, x)
    y.backward()
    source = draw_dot(y).source
    assert "|·|" in source and "grad -1" in source.replace("−", "-")


def test_an_activation_is_written_with_its_op_rows_symbol() -> None:
    from engine import OPS
    from nn import ACTIVATIONS
    from viz.notation import activation_name, activation_symbol
    assert [activation_symbol(a) for a in ("relu", "sigmoid", "tanh")] == ["ReLU", "σ", "tanh"]
    assert activation_symbol("linear") == "linear"
    assert activation_symbol("linear", linear="identity") == "identity"
    # in words, as the lessons' prose names them (LESSONS.md): for a legend
    assert [activation_name(a) for a in ("relu", "sigmoid", "tanh", "linear")] == [
        "ReLU", "sigmoid", "tanh", "linear"]
    for name in ACTIVATIONS:                  # every nn activation but linear is a row
        if name != "linear":
            assert activation_symbol(name) in {op.symbol for op in OPS.values()}


def test_infix_reads_the_operator_off_the_forward_rule() -> None:
    from engine import OPS
    from viz.notation import infix
    assert {name: infix(op) for name, op in OPS.items() if infix(op)} == {
        "add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "powv": "**"}
    plus = Op("plus", "⊕", "a + b", "1.0", "1.0")             # a row no table knows
    assert infix(plus) == "+" and infix(ABS) is None and infix(MAXIMUM) is None
    assert infix(Op("rsub", "−", "b - a", "-1.0", "1.0")) is None   # not a <operator> b


def test_an_op_is_named_in_words_one_way_for_legends_and_notes():
    from engine import OPS
    from viz.notation import activation_name, op_word
    assert [op_word(OPS[n]) for n in ("relu", "tanh", "sigmoid", "abs")] == [
        "ReLU", "tanh", "sigmoid", "abs"]
    assert [activation_name(a) for a in ("relu", "tanh", "sigmoid")] == ["ReLU", "tanh", "sigmoid"]
