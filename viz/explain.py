"""``explain``: why a gradient has the value it has.

The chain rule says ∂out/∂x is a sum over every path from ``out`` down to ``x`` of
the product of the local derivatives along the path. ``explain`` writes that sum
out, each factor named and valued, in the lessons' notation:

    ∂z₁⁽²⁾/∂a₁⁽¹⁾ = w₁₁⁽²⁾ = 0.2

A factor's rule is the op table's local-derivative rule with the inputs' names put
in (∂(a·b)/∂a = b → the name of b). Edges whose local derivative is identically 1
(the + of Σ w·a + b) are folded into the next factor, so a factor goes from one
named node to the next, as in the lessons. The number of paths is counted first
(dynamic programming over ``engine.order``); past ``max_paths`` the sum is grouped
by the δ of the nearest named nodes above ``wrt`` (the recurrence) instead.
"""

from __future__ import annotations

import ast
import math
import operator
from dataclasses import dataclass, field

from engine import Constant, Value, order

from .names import display_number, lesson_name, node_names

__all__ = ["explain", "Explanation", "Path", "Factor"]


class Factor(tuple):
    """One factor of a path: a ``(name, value)`` pair, e.g.
    ``("∂z₁⁽²⁾/∂a₁⁽¹⁾ = w₁₁⁽²⁾", 0.2)``; ``.derivative`` is the left part
    (``∂z₁⁽²⁾/∂a₁⁽¹⁾``) and ``.rule`` the right (``w₁₁⁽²⁾``)."""

    derivative: str
    rule: str

    def __new__(cls, derivative: str, rule: str, value: float) -> Factor:
        self = super().__new__(cls, (f"{derivative} = {rule}", float(value)))
        self.derivative = derivative
        self.rule = rule
        return self

    @property
    def name(self) -> str:
        return self[0]

    @property
    def value(self) -> float:
        return self[1]


@dataclass
class Path:
    """One path from the output down to ``wrt``: every node on it (output first),
    the names of its named nodes (what the text shows), its factors (in the same
    order) and their product."""

    nodes: list[Value]
    names: list[str]
    factors: list[Factor]

    @property
    def product(self) -> float:
        result = 1.0
        for factor in self.factors:
            result *= factor.value
        return result


@dataclass
class Explanation:
    """∂output/∂wrt as a sum over paths of products of local derivatives.

    ``paths``: the terms of the sum. When the graph has more than ``max_paths``
    paths, ``grouped`` is True and each term starts with the δ = ∂output/∂node of
    a named node above ``wrt`` (which itself sums many paths) instead.
    ``total``: the sum, equal to the engine's gradient; ``path_count``: how many
    paths there are in all."""

    output_name: str
    wrt_name: str
    paths: list[Path]
    total: float
    path_count: int
    grouped: bool = False
    precision: int = 4
    deltas: dict[str, float] = field(default_factory=dict)

    @property
    def gradient_name(self) -> str:
        return f"∂{_atom(self.output_name)}/∂{_atom(self.wrt_name)}"

    def _num(self, x: float) -> str:
        return display_number(x, self.precision)

    def _headline(self) -> str:
        what = (f"a sum over {self.path_count:,} paths, grouped by the δ = "
                f"∂{_atom(self.output_name)}/∂node of the nodes nearest "
                f"{self.wrt_name}" if self.grouped else
                f"the sum over {self.path_count:,} path{'s' * (self.path_count != 1)} "
                "of products of local derivatives")
        return f"{self.gradient_name} = {self._num(self.total)}, {what}"

    def __str__(self) -> str:
        lines = [self._headline()]
        for number, path in enumerate(self.paths, 1):
            lines.append("")
            kind = "term" if self.grouped else "path"
            lines.append(f"{kind} {number}: {' → '.join(path.names)}")
            width = max((len(f.derivative) for f in path.factors), default=0)
            rule_width = max((len(f.rule) for f in path.factors), default=0)
            for f in path.factors:
                lines.append(f"  {f.derivative:<{width}} = {f.rule:<{rule_width}} = "
                             f"{self._num(f.value)}")
            lines.append(f"  product = {self._num(path.product)}")
        if not self.paths:
            lines.append(f"(no path leads from {self.output_name} to {self.wrt_name}: "
                         "the gradient is 0)")
        if len(self.paths) != 1:
            sum_text = " + ".join(_paren(self._num(p.product)) for p in self.paths) or "0"
            lines += ["", f"{self.gradient_name} = {sum_text} = {self._num(self.total)}"]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<Explanation {self.gradient_name} = {self._num(self.total)} "
                f"({self.path_count} paths{', grouped' if self.grouped else ''})>")

    def markdown(self) -> str:
        """The explanation as Markdown: one table of factors per path, then the sum."""
        lines = [f"**{self._headline()}**"]
        for number, path in enumerate(self.paths, 1):
            kind = "Term" if self.grouped else "Path"
            lines += ["", f"{kind} {number}: {' → '.join(path.names)}", "",
                      "| factor | rule | value |", "|---|---|---:|"]
            for f in path.factors:
                lines.append(f"| {_md(f.derivative)} | {_md(f.rule)} | {self._num(f.value)} |")
            lines.append(f"| **product** | | **{self._num(path.product)}** |")
        sum_text = " + ".join(_paren(self._num(p.product)) for p in self.paths) or "0"
        lines += ["", f"{self.gradient_name} = {sum_text} = **{self._num(self.total)}**"]
        return "\n".join(lines)

    def latex(self) -> str:
        """The sum as a LaTeX ``aligned`` block: per path, the product of the rules
        and of their values."""
        rows = []
        for number, path in enumerate(self.paths):
            lead = "=" if number == 0 else "+"
            rules = r" \cdot ".join(_paren_tex(_tex(f.rule)) for f in path.factors) or "1"
            values = r" \cdot ".join(_paren_tex(_tex(self._num(f.value)))
                                     for f in path.factors) or "1"
            rows.append(f"&{lead} {rules} && = {values} = {_tex(self._num(path.product))}")
        if not rows:
            rows.append("&= 0")
        head = (rf"\frac{{\partial {_tex(self.output_name)}}}"
                rf"{{\partial {_tex(self.wrt_name)}}}")
        return ("\\begin{aligned}\n" + head + " "
                + " \\\\\n".join(rows)
                + f" \\\\\n&= {_tex(self._num(self.total))}\n\\end{{aligned}}")


# ---- names inside expressions ---------------------------------------------------------
_FUNCTION_CALL = ("tanh(", "σ(", "ReLU(", "exp(", "log(")


def _atom(name: str) -> str:
    """``name`` safe to put inside a bigger expression: parenthesised if compound."""
    if name.startswith(_FUNCTION_CALL) and name.endswith(")") and name.count("(") == 1:
        return name
    if any(ch in name for ch in " ·/^+") or name.startswith("−"):
        return f"({name})"
    return name


def _paren(number: str) -> str:
    return f"({number})" if number.startswith("−") else number


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*")


# ---- the op table's local rules, with names put in -------------------------------------
_SUM, _PRODUCT, _SIGN, _POWER, _ATOM = 1, 2, 3, 4, 5
_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
               ast.Div: operator.truediv, ast.Pow: operator.pow}
_COMPARE = {ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Lt: operator.lt,
            ast.LtE: operator.le, ast.Eq: operator.eq, ast.NotEq: operator.ne}
_BINARY = {ast.Add: (" + ", _SUM), ast.Sub: (" − ", _SUM), ast.Mult: ("·", _PRODUCT),
           ast.Div: ("/", _PRODUCT)}


class _RuleText:
    """Turns a rule such as ``b * a ** (b - 1.0)`` into text over node names,
    folding arithmetic on numbers (an exponent 2 makes ``2·a``, not ``2·a^(2 − 1)``)."""

    def __init__(self, names: dict[str, str], numbers: dict[str, float]) -> None:
        self.names = names          # a / b / out → display name
        self.numbers = numbers      # a / b that are constants → their number

    def render(self, rule: str) -> str:
        return self._text(ast.parse(rule, mode="eval").body)[0]

    def _number(self, node: ast.expr) -> float | None:
        """The value of a subexpression made only of numbers, else None."""
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            return self.numbers.get(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self._number(node.operand)
            return None if inner is None else -inner
        if isinstance(node, ast.BinOp):
            left, right = self._number(node.left), self._number(node.right)
            if left is None or right is None:
                return None
            arithmetic = _ARITHMETIC.get(type(node.op))
            try:
                return None if arithmetic is None else float(arithmetic(left, right))
            except (ArithmeticError, ValueError, TypeError):
                return None
        return None

    def _truth(self, node: ast.expr) -> bool | None:
        """The value of a condition on numbers only (``b`` for a constant b), else None."""
        number = self._number(node)
        if number is not None:
            return bool(number)
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            left, right = self._number(node.left), self._number(node.comparators[0])
            compare = _COMPARE.get(type(node.ops[0]))
            if left is not None and right is not None and compare is not None:
                return bool(compare(left, right))
        return None

    def _text(self, node: ast.expr) -> tuple[str, int]:
        number = self._number(node)
        if number is not None:
            text = display_number(number, 6)
            return text, _SIGN if text.startswith("−") else _ATOM
        if isinstance(node, ast.Name):
            return _atom(self.names[node.id]), _ATOM
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            text, prec = self._text(node.operand)
            return f"−{text if prec >= _POWER else f'({text})'}", _SIGN
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return self._binary(node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            base, bp = self._text(node.left)
            exponent = self._number(node.right)
            if exponent is not None and exponent == 1.0:
                return base, bp
            base = base if bp >= _ATOM else f"({base})"
            if exponent is not None and exponent == int(exponent):
                return f"{base}{str(int(exponent)).translate(_SUP)}", _POWER
            power, pp = self._text(node.right)
            return f"{base}^{power if pp >= _ATOM else f'({power})'}", _POWER
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = ", ".join(self._text(arg)[0] for arg in node.args)
            return f"{node.func.id}({args.strip('()') if args.startswith('(') else args})", _ATOM
        if isinstance(node, ast.Compare):
            left = self._text(node.left)[0]
            parts = [left]
            for op, right in zip(node.ops, node.comparators):
                symbol = {ast.Gt: ">", ast.GtE: "≥", ast.Lt: "<", ast.LtE: "≤",
                          ast.Eq: "=", ast.NotEq: "≠"}[type(op)]
                parts.append(f"{symbol} {self._text(right)[0]}")
            return " ".join(parts), _SUM
        if isinstance(node, ast.IfExp):
            truth = self._truth(node.test)                       # decided by constants
            if truth is not None:
                return self._text(node.body if truth else node.orelse)
            body, orelse = self._number(node.body), self._number(node.orelse)
            condition = self._text(node.test)[0]
            if body == 1.0 and orelse == 0.0:                    # ReLU′: an Iverson bracket
                return f"[{condition}]", _ATOM
            if orelse == 0.0:
                text, prec = self._text(node.body)
                return f"[{condition}]·{text if prec >= _PRODUCT else f'({text})'}", _PRODUCT
            return (f"{self._text(node.body)[0]} if {condition} else "
                    f"{self._text(node.orelse)[0]}"), _SUM
        raise ValueError(f"explain: cannot write the rule {ast.unparse(node)!r} as text")

    def _binary(self, node: ast.BinOp) -> tuple[str, int]:
        symbol, prec = _BINARY[type(node.op)]
        left_number, right_number = self._number(node.left), self._number(node.right)
        if isinstance(node.op, ast.Mult):
            if left_number == 1.0:
                return self._text(node.right)
            if right_number == 1.0:
                return self._text(node.left)
            if (isinstance(node.left, ast.Name) and isinstance(node.right, ast.Name)
                    and node.left.id == node.right.id):           # out·out → out²
                base = self._text(node.left)[0]
                return f"{base}²", _POWER
        left, lp = self._text(node.left)
        right, rp = self._text(node.right)
        right_needed = prec + 1 if isinstance(node.op, (ast.Sub, ast.Div)) else prec
        if rp == _SIGN:
            right_needed = _POWER
        left = left if lp >= prec else f"({left})"
        right = right if rp >= right_needed else f"({right})"
        return f"{left}{symbol}{right}", prec


def _rule_text(node: Value, position: int, names: dict[Value, str]) -> str:
    """The local rule ∂node/∂input[position], from the op table, over node names."""
    op = node.op
    assert op is not None
    slots = "ab"[: op.arity]
    bound = dict(zip(slots, node.inputs))
    text = _RuleText(
        names={**{s: names[v] for s, v in bound.items()}, "out": names[node]},
        numbers={s: v.data for s, v in bound.items() if isinstance(v, Constant)})
    return text.render(op.local_rules[position])


def _is_identity_rule(node: Value, position: int) -> bool:
    """True when the rule is the number 1 (the + of a sum, the a of a − b)."""
    assert node.op is not None
    try:
        return float(node.op.local_rules[position]) == 1.0
    except ValueError:
        return False


# ---- paths ---------------------------------------------------------------------------------
def _named(node: Value, output: Value, wrt: Value) -> bool:
    """Where a factor may start or end: labelled nodes, leaves, the output and wrt."""
    return node is output or node is wrt or node.op is None or (
        bool(node.label) and not isinstance(node, Constant))


def _chain_names(chain: list[Value], names: dict[Value, str], output: Value,
                 wrt: Value) -> list[str]:
    """The named nodes of a path (labelled nodes, leaves, ends): what a reader follows."""
    return [names[n] for i, n in enumerate(chain) if i == 0 or _named(n, output, wrt)]


def _factors(edges: list[tuple[Value, int]], names: dict[Value, str], output: Value,
             wrt: Value) -> list[Factor]:
    """Factors of a path given as (node, input position) edges, output first.

    Runs of identity edges are folded into the next non-identity edge of the same
    stretch between named nodes (its derivative reads from the stretch's top), or,
    at the end of a stretch, into the previous one."""
    factors: list[Factor] = []
    stretch: list[tuple[Value, int]] = []

    def close(stretch: list[tuple[Value, int]]) -> None:
        if not stretch:
            return
        top = stretch[0][0]
        bottom = stretch[-1][0].inputs[stretch[-1][1]]
        real = [i for i, (n, p) in enumerate(stretch) if not _is_identity_rule(n, p)]
        if not real:
            factors.append(Factor(f"∂{_atom(names[top])}/∂{_atom(names[bottom])}", "1", 1.0))
            return
        for k, i in enumerate(real):
            node, position = stretch[i]
            upper = top if k == 0 else node
            lower = bottom if k == len(real) - 1 else node.inputs[position]
            factors.append(Factor(f"∂{_atom(names[upper])}/∂{_atom(names[lower])}",
                                  _rule_text(node, position, names),
                                  node.local_grads[position]))

    for node, position in edges:
        stretch.append((node, position))
        child = node.inputs[position]
        if _named(child, output, wrt):
            close(stretch)
            stretch = []
    close(stretch)
    return factors


def _count_paths(nodes: list[Value], output: Value, wrt: Value) -> tuple[int, set[Value]]:
    """How many paths lead from output to wrt (exact integer), and the nodes on them."""
    reaches = set()
    for node in nodes:                              # inputs before outputs
        if node is wrt or any(child in reaches for child in node.inputs):
            reaches.add(node)
    count: dict[Value, int] = {output: 1} if output in reaches else {}
    for node in reversed(nodes):
        c = count.get(node, 0)
        if not c or node is wrt:
            continue
        for child in node.inputs:
            if child in reaches:
                count[child] = count.get(child, 0) + c
    return count.get(wrt, 0), reaches


def _enumerate(output: Value, wrt: Value, reaches: set[Value]) -> list[list[tuple[Value, int]]]:
    """Every path from output to wrt as (node, input position) edges, depth first."""
    paths: list[list[tuple[Value, int]]] = []
    stack: list[tuple[Value, list[tuple[Value, int]]]] = [(output, [])]
    while stack:
        node, edges = stack.pop()
        if node is wrt:
            paths.append(edges)
            continue
        for position in reversed(range(len(node.inputs))):
            child = node.inputs[position]
            if child in reaches:
                stack.append((child, edges + [(node, position)]))
    return paths


def _adjoints(nodes: list[Value], output: Value) -> dict[Value, float]:
    """δ = ∂output/∂node for every node, by the engine's own recurrence."""
    adjoint: dict[Value, float] = {output: 1.0}
    for node in reversed(nodes):
        g = adjoint.get(node)
        if g is None:
            continue
        for child, local in zip(node.inputs, node.local_grads):
            adjoint[child] = adjoint.get(child, 0.0) + local * g
    return adjoint


def _grouped(output: Value, wrt: Value, reaches: set[Value], names: dict[Value, str],
             adjoint: dict[Value, float], max_terms: int) -> list[Path]:
    """Terms δ(N)·∂N/∂wrt for the named nodes N nearest above wrt (the recurrence)."""
    consumers: dict[Value, list[tuple[Value, int]]] = {}
    for node in reaches:
        for position, child in enumerate(node.inputs):
            if child in reaches:
                consumers.setdefault(child, []).append((node, position))
    # climb from wrt to the first named node on each way up
    partial: list[list[tuple[Value, int]]] = []
    stack: list[tuple[Value, list[tuple[Value, int]]]] = [(wrt, [])]
    while stack:
        node, edges = stack.pop()
        if edges and _named(node, output, wrt):
            partial.append(edges)
            continue
        ups = sorted(consumers.get(node, []), key=lambda e: names[e[0]])
        if len(partial) + len(stack) + len(ups) > max_terms and edges:
            partial.append(edges)                     # too many: stop at this node
            continue
        for up in ups:
            stack.append((up[0], [up] + edges))
    terms = []
    for edges in partial:
        top = edges[0][0]
        delta = Factor(f"∂{_atom(names[output])}/∂{_atom(names[top])}", f"δ({names[top]})",
                       adjoint.get(top, 0.0))
        chain = [top] + [n.inputs[p] for n, p in edges]
        terms.append(Path(nodes=chain, names=_chain_names(chain, names, output, wrt),
                          factors=[delta] + _factors(edges, names, output, wrt)))
    return terms


def explain(output: Value, wrt: Value, max_paths: int = 64, precision: int = 4) -> Explanation:
    """∂output/∂wrt written out as Σ over paths Π local derivatives.

    Each path lists its factors as (name, value) pairs, e.g.
    ``("∂z₁⁽²⁾/∂a₁⁽¹⁾ = w₁₁⁽²⁾", 0.2)``; ``.total`` is the sum (the engine's
    gradient). Graphs with more than ``max_paths`` paths are grouped by δ."""
    if not isinstance(output, Value):
        raise TypeError(f"explain: output must be a Value, got {type(output).__name__}")
    if not isinstance(wrt, Value):
        raise TypeError(f"explain: wrt must be a Value, got {type(wrt).__name__}")
    if isinstance(max_paths, bool) or not isinstance(max_paths, int) or max_paths < 1:
        raise ValueError(f"explain: max_paths must be an int ≥ 1, got {max_paths!r}")
    if isinstance(precision, bool) or not isinstance(precision, int) or precision < 1:
        raise ValueError(f"explain: precision must be an int ≥ 1, got {precision!r}")
    nodes = order(output)
    names = node_names(output)
    if wrt not in names:
        names = {**names, wrt: lesson_name(wrt.label) or wrt.label or "x"}
    count, reaches = _count_paths(nodes, output, wrt)
    if count <= max_paths:
        paths = []
        for edges in _enumerate(output, wrt, reaches):
            chain = [output] + [n.inputs[p] for n, p in edges]
            paths.append(Path(nodes=chain, names=_chain_names(chain, names, output, wrt),
                              factors=_factors(edges, names, output, wrt)))
        total = math.fsum(p.product for p in paths)
        return Explanation(names[output], names[wrt], paths, total, count,
                           precision=precision)
    adjoint = _adjoints(nodes, output)
    terms = _grouped(output, wrt, reaches, names, adjoint, max_paths)
    deltas = {t.factors[0].rule[2:-1]: t.factors[0].value for t in terms}
    total = math.fsum(t.product for t in terms)
    return Explanation(names[output], names[wrt], terms, total, count, grouped=True,
                       precision=precision, deltas=deltas)


_SUB_DIGITS = dict(zip("₀₁₂₃₄₅₆₇₈₉₋", "0123456789-"))
_SUP_DIGITS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-"))
_SYMBOLS = {"·": r" \cdot ", "−": "-", "σ": r"\sigma", "δ": r"\delta", "∂": r"\partial ",
            "×": r"\times ", "≥": r"\geq ", "≤": r"\leq ", "≠": r"\neq ", "ŷ": r"\hat{y}",
            "[": r"[", "]": r"]"}


def _tex(text: str) -> str:
    """Our display text (Unicode sub/superscripts, ·, −, σ) as LaTeX."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in _SUB_DIGITS or ch == ",":
            j = i
            while j < len(text) and (text[j] in _SUB_DIGITS or (text[j] == "," and j + 1 < len(text)
                                                                and text[j + 1] in _SUB_DIGITS)):
                j += 1
            if j == i:                                   # a plain comma
                out.append(ch)
                i += 1
                continue
            out.append("_{" + "".join(_SUB_DIGITS.get(c, c) for c in text[i:j]) + "}")
            i = j
        elif ch == "⁽":
            j = text.index("⁾", i)
            out.append("^{(" + "".join(_SUP_DIGITS.get(c, c) for c in text[i + 1:j]) + ")}")
            i = j + 1
        elif ch in _SUP_DIGITS:
            j = i
            while j < len(text) and text[j] in _SUP_DIGITS:
                j += 1
            out.append("^{" + "".join(_SUP_DIGITS[c] for c in text[i:j]) + "}")
            i = j
        elif ch in _SYMBOLS:
            out.append(_SYMBOLS[ch])
            i += 1
        elif text.startswith(("tanh", "exp", "log"), i) and not text[i - 1:i].isalpha():
            word = next(w for w in ("tanh", "exp", "log") if text.startswith(w, i))
            out.append("\\" + word + " ")
            i += len(word)
        elif text.startswith("ReLU", i):
            out.append(r"\mathrm{ReLU}")
            i += 4
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _paren_tex(text: str) -> str:
    """Parentheses around a factor that is a sum or starts with a minus sign."""
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch in "({[") - (ch in ")}]")
        if depth == 0 and ch in "+-" and (i == 0 or text[i - 1] == " "):
            return f"({text})"
    return text
