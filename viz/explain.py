"""``explain``: why a gradient has the value it has.

The chain rule says ∂out/∂x is a sum over every path from ``out`` down to ``x`` of
the product of the local derivatives along the path. ``explain`` writes that sum
out, each factor named and valued, in the lessons' notation:

    ∂z₁⁽²⁾/∂a₁⁽¹⁾ = w₁₁⁽²⁾ = 0.2

A factor's rule is the op table's local-derivative rule with the inputs' names put
in (∂(a·b)/∂a = b → the name of b). How a path is cut into factors:

* every local derivative that is not ±1 is a factor of its own;
* the ±1 edges of + and − are folded into the factor below them, so the Σ inside
  a neuron disappears as in the lessons (z = Σₖ wₖaₖ + b gives ∂z/∂aₖ = wₖ,
  and tanh(x·w + b) gives ∂(x·w + b)/∂w = x); at the end of a stretch between
  named nodes they join the factor above (∂L/∂a = 2·(a − y) through a − y);
* a fold is made only when it is honest: when the factor's top reaches its bottom
  by this one way alone, so ∂top/∂bottom is that whole derivative. In x·x + x,
  which reaches x three ways, nothing is folded: path 1 is
  ∂(x·x + x)/∂(x·x) = 1 · ∂(x·x)/∂x = x;
* a step that is one of several ways from a node to its input (both operands of
  x·x) says which operand it took: ``x·x → x (as the 1st operand of ×)``. So no
  two paths read alike, and every node where a factor starts or ends is shown.

The number of paths is counted first (dynamic programming over ``engine.order``);
past ``max_paths`` the sum is grouped by the δ of the nearest named nodes above
``wrt`` (the recurrence) instead.
"""

from __future__ import annotations

import ast
import math
import unicodedata
from dataclasses import dataclass, field
from functools import cache

from engine import OPS, Value, grad, order
from nn import checks

from .arguments import check_count, check_precision
from .names import NEURON_LABEL, ids_shown, is_number, lesson_name, node_names, predictions
from .notation import (
    SUBSCRIPTS,
    SUPERSCRIPTS,
    Notation,
    display_number,
    local_rule,
    number_operand,
    op_word,
    operand,
    term,
)

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
        """The whole factor as text, ``derivative = rule`` (``∂z₁⁽²⁾/∂a₁⁽¹⁾ = w₁₁⁽²⁾``)."""
        return self[0]

    @property
    def value(self) -> float:
        """The factor's number: the product of the engine's recorded local gradients
        along the edges it covers (so a path's factors multiply to its term)."""
        return self[1]


@dataclass
class Path:
    """One path from the output down to ``wrt``: every node on it (output first),
    the names of the nodes where its factors start and end (what the text shows),
    its factors (in the same order) and their product. ``via[i]`` says which
    operand the step to ``names[i]`` took when that is ambiguous (``"(as the 1st
    operand of ×)"``), else ``""``; ``route`` is the line the text prints."""

    nodes: list[Value]
    names: list[str]
    factors: list[Factor]
    via: list[str] = field(default_factory=list)

    @property
    def route(self) -> str:
        """The path as one line, output first: ``tanh(x·w + b) → x·w + b → w``."""
        via = self.via or [""] * len(self.names)
        return " → ".join(f"{name} {how}" if how else name for name, how in zip(self.names, via))

    @property
    def product(self) -> float:
        """This path's term of the sum: the product of its factors' values. A zero
        factor makes it 0 even beside an infinite one (as in the engine's sweep,
        where nothing flows from a zero gradient)."""
        if any(factor.value == 0.0 for factor in self.factors):
            return 0.0
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
    paths there are in all; ``notes``: remarks a teacher would add (ReLU′(0));
    ``where``: what each short id the text shows stands for (``{"v1": "σ(v2) + …"}``)."""

    output_name: str
    wrt_name: str
    paths: list[Path]
    total: float
    path_count: int
    grouped: bool = False
    precision: int = 4
    deltas: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    form: str = "paths"
    where: dict[str, str] = field(default_factory=dict)

    @property
    def gradient_name(self) -> str:
        """``∂output/∂wrt`` in the nodes' names, e.g. ``∂(x·w + b)/∂w``."""
        return f"∂{operand(self.output_name)}/∂{operand(self.wrt_name)}"

    def _num(self, x: float) -> str:
        return display_number(x, self.precision)

    def _headline(self) -> str:
        if not self.paths:
            return (f"{self.gradient_name} = 0: no path leads from {self.output_name} "
                    f"down to {self.wrt_name}")
        if self.form == "factored" and len(self.paths) > 1:
            terms = "terms" if self.grouped else "paths"
            what = (f"[the sum over the {len(self.paths):,} {terms} of what each has of its "
                    f"own] · the factors they all share")
        elif self.grouped and all(p.factors[0].rule.startswith("δ") for p in self.paths):
            what = (f"a sum over {self.path_count:,} paths, grouped by the δ = "
                    f"∂{operand(self.output_name)}/∂z of the pre-activations above "
                    f"{self.wrt_name} (the recurrence)")
        elif self.grouped:
            what = (f"a sum over {self.path_count:,} paths, grouped by "
                    f"∂{operand(self.output_name)}/∂node at the named nodes nearest "
                    f"{self.wrt_name}")
        elif self.path_count == 1:
            what = "the product of the local derivatives along its one path"
        else:
            what = f"the sum over {self.path_count:,} paths of products of local derivatives"
        return f"{self.gradient_name} = {self._num(self.total)}, {what}"

    def _sum(self) -> str:
        """``∂o/∂x = p₁ + p₂ = total`` when there is more than one term."""
        terms = " + ".join(number_operand(self._num(p.product)) for p in self.paths)
        return f"{self.gradient_name} = {terms} = {self._num(self.total)}"

    def shared(self) -> tuple[list[Factor], list[list[Factor]], list[Factor]]:
        """The sum factored as the lessons write it: (the factors every term starts
        with, what each term has of its own, the factors every term ends with), so
        ∂out/∂wrt = [Σ middles] · head · tail. One term is all head."""
        terms = [p.factors for p in self.paths]
        if not terms:
            return [], [], []
        shortest = min(len(t) for t in terms)
        head = 0
        while head < shortest and all(_same(t[head], terms[0][head]) for t in terms):
            head += 1
        tail = 0
        while (head + tail < shortest
               and all(_same(t[-1 - tail], terms[0][-1 - tail]) for t in terms)):
            tail += 1
        middles = [t[head:len(t) - tail] for t in terms]
        return terms[0][:head], middles, terms[0][len(terms[0]) - tail:]

    def _factored_lines(self) -> list[str]:
        """``∂out/∂wrt = [Σ middles] · shared`` in symbols, then in numbers, then the result."""
        head, middles, tail = self.shared()
        shared = head + tail
        symbols, numbers = [], []
        if any(middles):
            symbols.append("[" + " + ".join("·".join(_factor_text(f.rule) for f in m) or "1"
                                            for m in middles) + "]")
            numbers.append("[" + " + ".join(" × ".join(number_operand(self._num(f.value))
                                                       for f in m) or "1" for m in middles) + "]")
        symbols += [_factor_text(f.rule) for f in shared]
        numbers += [number_operand(self._num(f.value)) for f in shared]
        lead = self.gradient_name
        pad = " " * len(lead)
        lines = [f"{lead} = {' · '.join(symbols)}", f"{pad} = {' × '.join(numbers)}"]
        if any(middles) and shared:
            inner = math.fsum(_product(m) for m in middles)
            lines.append(f"{pad} = {number_operand(self._num(inner))} × "
                         f"{number_operand(self._num(_product(shared)))}")
        lines.append(f"{pad} = {self._num(self.total)}")
        return lines

    def _factor_lines(self, path: Path) -> list[str]:
        width = max((len(f.derivative) for f in path.factors), default=0)
        rule_width = max((len(f.rule) for f in path.factors if f.rule != f.derivative),
                         default=0)
        lines = []
        for f in path.factors:
            value = self._num(f.value)
            if f.rule in (value, f.derivative):         # a number, or known: say it once
                lines.append(f"  {f.derivative:<{width}} = {value}")
            else:
                lines.append(f"  {f.derivative:<{width}} = {f.rule:<{rule_width}} = {value}")
        return lines

    def __str__(self) -> str:
        if self.form == "factored" and self.paths:
            lines = [self._headline(), ""] + self._factored_lines()
            if self.notes:
                lines += [""] + [f"Note: {note}." for note in self.notes]
            return "\n".join(lines + self._where_lines())
        lines = [self._headline()]
        for number, path in enumerate(self.paths, 1):
            lines.append("")
            kind = "term" if self.grouped else "path"
            lines.append(f"{kind} {number}: {path.route}")
            lines += self._factor_lines(path)
            if len(path.factors) > 1:
                lines.append(f"  product = {self._num(path.product)}")
        if len(self.paths) > 1:
            lines += ["", self._sum()]
        if self.notes:
            lines += [""] + [f"Note: {note}." for note in self.notes]
        return "\n".join(lines + self._where_lines())

    def _where_lines(self) -> list[str]:
        """``where v1 = …``, one line per short id the text shows."""
        return ([""] + [f"{'where' if i == 0 else '     '} {name} = {term}"
                        for i, (name, term) in enumerate(self.where.items())]
                if self.where else [])

    def __repr__(self) -> str:
        return (f"<Explanation {self.gradient_name} = {self._num(self.total)} "
                f"({checks.count(self.path_count, 'path')}{', grouped' if self.grouped else ''})>")

    def markdown(self) -> str:
        """The explanation as Markdown: one table of factors per path, then the sum
        (or, factored, the bracketed formula line by line)."""
        lines = [f"**{self._headline()}**"]
        if self.form == "factored" and self.paths:
            lines += [""] + [_md(line.strip()) + "  " for line in self._factored_lines()]
            if self.notes:
                lines += [""] + [f"*Note: {_md(note)}.*" for note in self.notes]
            return "\n".join(lines + self._where_markdown())
        for number, path in enumerate(self.paths, 1):
            kind = "Term" if self.grouped else "Path"
            lines += ["", f"{kind} {number}: {_md(path.route)}", "",
                      "| factor | rule | value |", "|---|---|---:|"]
            for f in path.factors:
                lines.append(f"| {_md(f.derivative)} | {_md(f.rule)} | {self._num(f.value)} |")
            if len(path.factors) > 1:
                lines.append(f"| **product** | | **{self._num(path.product)}** |")
        if len(self.paths) > 1:
            lines += ["", _md(self._sum())]
        if self.notes:
            lines += [""] + [f"*Note: {_md(note)}.*" for note in self.notes]
        return "\n".join(lines + self._where_markdown())

    def _where_markdown(self) -> list[str]:
        return [_md(line) + "  " if line else line for line in self._where_lines()]

    def _repr_markdown_(self) -> str:
        """How Jupyter shows an explanation (the last expression of a cell): the
        headline, then the sum as display maths (``latex()``, typeset by the
        notebook's MathJax or KaTeX), then the notes."""
        lines = [f"**{_md(self._headline())}**", "", "$$", self.latex(), "$$"]
        if self.notes:
            lines += [""] + [f"*Note: {_md(note)}.*" for note in self.notes]
        return "\n".join(lines + self._where_markdown())

    def latex(self) -> str:
        """The sum as a LaTeX ``aligned`` block: per path, the product of the rules
        and of their values (factored: the bracket and the shared factors)."""
        head = (rf"\frac{{\partial {_tex(operand(self.output_name))}}}"
                rf"{{\partial {_tex(operand(self.wrt_name))}}}")
        if self.form == "factored" and self.paths:
            return _factored_latex(self, head)
        rows = []
        for number, path in enumerate(self.paths):
            lead = "=" if number == 0 else "+"
            factors = [f for f in path.factors if f.rule != "1"]     # a product drops its 1s
            rules = _product_tex([_tex(f.rule) for f in factors], first=number == 0)
            values = [_tex(self._num(f.value)) for f in factors]
            product = _tex(self._num(path.product))
            shown = f"{_product_tex(values)} = {product}" if len(values) > 1 else product
            rows.append(f"&{lead} {rules} && = {shown}")
        if len(rows) != 1:
            rows.append(f"&= {_tex(self._num(self.total))}")
        return "\\begin{aligned}\n" + head + " " + " \\\\\n".join(rows) + "\n\\end{aligned}"


# ---- the op table's local rules, with names put in (viz.notation writes them) --------------
def _md(text: str) -> str:
    """Text safe in a Markdown table cell."""
    return text.replace("|", "\\|").replace("*", "\\*")


def _same(one: Factor, other: Factor) -> bool:
    """Whether two factors are the same factor (same derivative, rule and number)."""
    return tuple(one) == tuple(other) and one.rule == other.rule


def _product(factors: list[Factor]) -> float:
    """The product of factors' values (0 when one is 0, as ``Path.product``)."""
    return Path([], [], factors).product


def _factor_text(rule: str) -> str:
    """A rule fit to stand beside other factors: a sum or a negative in parentheses."""
    depth = 0
    for i, ch in enumerate(rule):
        depth += (ch in "([{") - (ch in ")]}")
        if depth == 0 and ch in "+−-" and (i == 0 or rule[i - 1] == " "):
            return f"({rule})"
    return rule


def _factored_latex(why: Explanation, head: str) -> str:
    """``Explanation.latex`` for the factored form."""
    top, middles, tail = why.shared()
    shared = top + tail
    symbols, numbers = [], []
    if any(middles):
        symbols.append(r"\left[" + " + ".join(
            _product_tex([_tex(f.rule) for f in m], k == 0) for k, m in enumerate(middles))
            + r"\right]")
        numbers.append(r"\left[" + " + ".join(
            _product_tex([_tex(why._num(f.value)) for f in m], k == 0)
            for k, m in enumerate(middles)) + r"\right]")
    symbols += [_paren_tex(_tex(f.rule), quotient=True) for f in shared]
    numbers += [_paren_tex(_tex(why._num(f.value))) for f in shared]
    dot = r" \cdot "
    rows = [f"&= {dot.join(symbols)}", f"&= {dot.join(numbers)}",
            f"&= {_tex(why._num(why.total))}"]
    return "\\begin{aligned}\n" + head + " " + " \\\\\n".join(rows) + "\n\\end{aligned}"


def _negated(node: ast.expr) -> ast.expr:
    """``−node`` with the sign folded in where it reads better (−(−a/b²) → a/b²)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return ast.Constant(-node.value)
    if (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div))
            and isinstance(node.left, ast.UnaryOp) and isinstance(node.left.op, ast.USub)):
        return ast.BinOp(node.left.operand, node.op, node.right)
    return ast.UnaryOp(ast.USub(), node)


def rule_text(node: Value, position: int, names: dict[Value, str],
              negate: bool = False, scale: float = 1.0, *, out: str | None = None,
              branch: bool = False) -> str:
    """The local rule ∂node/∂input[position], from the op table, over node names
    (negated when the factor also crosses an odd number of −1 edges, and times
    ``scale`` when it crosses constant factors: ½·2·(ŷ − y) reads ŷ − y).

    ``out`` names the node itself in the rule (default: its name). With ``branch``
    a conditional rule (ReLU's ``1 if a > 0 else 0``) shows only the branch the
    node's numbers take, with its condition when that is a comparison:
    ``0 (as not z > 0)``."""
    op = node.op
    assert op is not None
    slots = "ab"[: op.arity]
    bound = dict(zip(slots, node.inputs))
    text = Notation(
        names={**{s: term(names[v]) for s, v in bound.items()},
               "out": term(out or names[node])},
        numbers={s: v.data for s, v in bound.items() if is_number(v)})
    rule, condition = local_rule(op, position), ""
    if branch:
        values = {**{s: v.data for s, v in bound.items()}, "out": node.data}
        rule, condition = text.branch(rule, values)
    if scale != 1.0:
        rule = ast.BinOp(ast.Constant(scale), ast.Mult(), rule)
    written = text.text(_negated(rule) if negate else rule)
    return f"{written} (as {condition})" if condition else written


def _constant_local(node: Value, position: int) -> float | None:
    """The local derivative when it is a number whatever the graph's values: a rule
    made of numbers and of inputs that are plain numbers (∂(0.5·u)/∂u = 0.5,
    ∂(s/3)/∂s = 1/3), else None."""
    op = node.op
    assert op is not None
    numbers = {s: v.data for s, v in zip("ab", node.inputs) if is_number(v)}
    return Notation({}, numbers).value(local_rule(op, position))


def _unit_sign(node: Value, position: int) -> float | None:
    """±1 when the rule is the number ±1 (the edges of + and −, and of unary −), else None."""
    assert node.op is not None
    try:
        number = float(node.op.local_rules[position])
    except ValueError:
        return None
    return number if number in (1.0, -1.0) else None


def _operand(node: Value, position: int) -> str:
    """Which operand an edge is, in the row's words: ``(as the 1st operand of ×)``,
    ``(as the denominator)``."""
    assert node.op is not None
    return f"(as {node.op.operands[position]})"


# ---- paths ---------------------------------------------------------------------------------
def _named(node: Value, output: Value, wrt: Value) -> bool:
    """Where a factor must start or end: labelled nodes, leaves, the output and wrt."""
    return node is output or node is wrt or node.op is None or (
        bool(node.label) and not node.is_constant)


class _PathWriter:
    """Writes a path (a list of (node, input position) edges, output first) as
    factors, the way the chain rule is written on a board.

    Every local derivative that is not ±1 is one factor. The ±1 edges of + and −
    are folded into the factor below them (the + of Σ w·a + b: ∂z/∂a = w), or, at
    the end of a stretch between named nodes, into the one above (∂L/∂a = 2·(a − y)
    through the − of a − y). A fold is only made when it is honest: when the
    factor's top reaches its bottom by this one way alone, so that ∂top/∂bottom is
    the whole derivative. Otherwise (x·x + x, where x·x + x reaches x three ways)
    each edge is its own factor: ∂(x·x + x)/∂(x·x) = 1, ∂(x·x)/∂x = x. A step that
    is still one of several ways down (the two operands of x·x) says which operand
    it took, so no two paths read alike."""

    def __init__(self, nodes: list[Value], names: dict[Value, str], output: Value,
                 wrt: Value, symbolic: bool = False) -> None:
        self.nodes, self.names, self.output, self.wrt = nodes, names, output, wrt
        self.symbolic = symbolic
        self.predictions = set(predictions(output, nodes))
        self.notes: list[str] = []
        self._ways: dict[Value, dict[Value, int]] = {}

    def ways(self, top: Value, bottom: Value) -> int:
        """How many paths lead from ``top`` down to ``bottom``: 0, 1 or 2 (two or more)."""
        counts = self._ways.get(bottom)
        if counts is None:
            counts = {bottom: 1}
            for node in self.nodes:                      # inputs before outputs
                if node is not bottom:
                    total = sum(counts.get(child, 0) for child in node.inputs)
                    if total:
                        counts[node] = min(total, 2)
            self._ways[bottom] = counts
        return counts.get(top, 0)

    def _groups(self, edges: list[tuple[Value, int]], chain: list[Value]) -> list[tuple[int, int]]:
        """The factors as (top, bottom) indices into ``chain``."""
        named = [i for i, n in enumerate(chain)
                 if i in (0, len(chain) - 1) or _named(n, self.output, self.wrt)]
        groups: list[tuple[int, int]] = []
        if self.symbolic:                    # ∂L/∂ŷ as one factor: the loss kept abstract
            at = next((i for i, n in enumerate(chain) if n in self.predictions), None)
            if at and self.ways(chain[0], chain[at]) == 1:
                groups.append((0, at))
                named = [i for i in named if i >= at]
        for start, end in zip(named, named[1:]):
            groups += self._fold(edges, chain, start, end, fold_constants=True)
        return groups

    def _fold(self, edges: list[tuple[Value, int]], chain: list[Value], start: int, end: int,
              fold_constants: bool) -> list[tuple[int, int]]:
        """The factors between two named nodes: one per real local derivative, the ±1
        edges (and, with ``fold_constants``, the constant ones above it: ½, 1/n of a
        loss) folded in; a constant below the last real one is a factor of its own
        (∂(x·3)/∂x = 3). A group that is not honest is cut again without the
        constants folded, then unfolded edge by edge."""
        real = [k for k in range(start, end) if _unit_sign(*edges[k]) is None
                and (not fold_constants or _constant_local(*edges[k]) is None)]
        cuts = [start, *(k + 1 for k in real[:-1]), end]
        if real and any(_unit_sign(*edges[k]) is None for k in range(real[-1] + 1, end)):
            cuts.insert(-1, real[-1] + 1)      # a constant below the last rule: its own factor
        groups: list[tuple[int, int]] = []
        for i, j in zip(cuts, cuts[1:]):
            if j - i > 1 and self.ways(chain[i], chain[j]) > 1:     # not honest
                groups += (self._fold(edges, chain, i, j, False) if fold_constants
                           else [(k, k + 1) for k in range(i, j)])
            else:
                groups.append((i, j))
        return groups

    def _factor(self, edges: list[tuple[Value, int]], chain: list[Value], i: int,
                j: int) -> Factor:
        names = self.names
        derivative = f"∂{operand(names[chain[i]])}/∂{operand(names[chain[j]])}"
        value, negative, real, reals, scale = 1.0, False, None, 0, 1.0
        for node, position in edges[i:j]:
            value *= node.local_grads[position]
            sign = _unit_sign(node, position)
            constant = _constant_local(node, position) if sign is None else None
            if sign is not None:
                negative ^= sign < 0
            elif constant is not None:
                scale *= constant
            else:
                real, reals = (node, position), reals + 1
        if real is None:
            return Factor(derivative, display_number(-scale if negative else scale, 6), value)
        if reals > 1 or (self.symbolic and i == 0 and chain[j] in self.predictions):
            return Factor(derivative, derivative, value)     # ∂L/∂ŷ kept whole (symbolic)
        node, position = real
        assert node.op is not None
        if self.symbolic and _is_activation(node):
            prime = "ψ′" if node in self.predictions else "φ′"
            return Factor(derivative, f"{prime}({names[node.inputs[0]]})", value)
        note = _kink_note(node, position, names)
        if note and note not in self.notes:
            self.notes.append(note)
        return Factor(derivative, rule_text(node, position, names, negative, scale), value)

    def path(self, edges: list[tuple[Value, int]], top: Value,
             first: Factor | None = None) -> Path:
        """The Path for ``edges`` (which start at ``top``), with ``first`` (a δ) in front."""
        chain = [top] + [node.inputs[position] for node, position in edges]
        groups = self._groups(edges, chain)
        factors = [] if first is None else [first]
        factors += [self._factor(edges, chain, i, j) for i, j in groups]
        via = [""] + [_operand(*edges[i]) if j == i + 1 and self.ways(chain[i], chain[j]) > 1
                      else "" for i, j in groups]
        return Path(nodes=chain, names=[self.names[chain[0]]]
                    + [self.names[chain[j]] for _, j in groups], factors=factors, via=via)


def _kink_note(node: Value, position: int, names: dict[Value, str]) -> str:
    """What a teacher adds when ``node``'s op is at a corner of its graph (the row's
    ``kink``: ReLU and abs at 0), where the local derivative is a convention:
    "z = 0 is ReLU's kink, where it has no derivative: chaingrad (like PyTorch)
    takes ReLU′(0) = 0"; "" elsewhere."""
    op = node.op
    if op is None or not op.at_kink(*(v.data for v in node.inputs)):
        return ""
    function = op_word(op)                                      # ReLU, abs (not |·|)
    at = ", ".join(display_number(v.data) for v in node.inputs)
    where = ", ".join(f"{names[v]} = {display_number(v.data)}" for v in node.inputs)
    return (f"{where} is {function}'s kink, where it has no derivative: chaingrad (like "
            f"PyTorch) takes {function}′({at}) = {display_number(node.local_grads[position])}")


def _is_activation(node: Value) -> bool:
    """Whether ``node`` is an nn neuron's a = f(z): labelled ``L{l}.N{j}.a``, made by
    one op from its own ``L{l}.N{j}.z``."""
    made = NEURON_LABEL.match(node.label)
    if not made or made.group(3) != "a" or len(node.inputs) != 1:
        return False
    source = NEURON_LABEL.match(node.inputs[0].label)
    return bool(source) and source.groups()[:2] == made.groups()[:2] and source.group(3) == "z"


def _delta_rule(node: Value, names: dict[Value, str], output: Value) -> str:
    """How a term's first factor ∂out/∂node is called: δ (δⱼ⁽ˡ⁾) only at an nn
    pre-activation z, as in the lessons (δ = ∂L/∂z, not ∂L/∂a); elsewhere the
    derivative itself."""
    label = NEURON_LABEL.match(node.label)
    if label and label.group(3) == "z":
        return "δ" + names[node][1:]                    # z₁⁽²⁾ → δ₁⁽²⁾
    return f"∂{operand(names[output])}/∂{operand(names[node])}"


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


def _grouped(writer: _PathWriter, reaches: set[Value], adjoint: dict[Value, float],
             max_terms: int) -> list[Path]:
    """Terms δ(N)·∂N/∂wrt for the named nodes N nearest above wrt (the recurrence)."""
    output, wrt, names = writer.output, writer.wrt, writer.names
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
        if edges and _named(node, output, wrt) and not _is_activation(node):
            partial.append(edges)                      # (climb past a to the z's above)
            continue
        ups = sorted(consumers.get(node, []), key=lambda e: names[e[0]])
        if len(partial) + len(stack) + len(ups) > max_terms and edges:
            partial.append(edges)                     # too many: stop at this node
            continue
        for up in ups:
            stack.append((up[0], [up] + edges))
    terms = []
    partial.sort(key=lambda edges: names[edges[0][0]])        # δ₁ before δ₂
    for edges in partial:
        top = edges[0][0]
        delta = Factor(f"∂{operand(names[output])}/∂{operand(names[top])}",
                       _delta_rule(top, names, output), adjoint.get(top, 0.0))
        terms.append(writer.path(edges, top, first=delta))
    return terms


_FORMS = ("paths", "factored")


def explain(output: Value, wrt: Value, max_paths: int = 64, precision: int = 4, *,
            form: str = "paths", symbolic: bool = False) -> Explanation:
    """∂output/∂wrt written out as Σ over paths Π local derivatives.

    Each path lists its factors as (name, value) pairs, e.g.
    ``("∂z₁⁽²⁾/∂a₁⁽¹⁾ = w₁₁⁽²⁾", 0.2)``; ``.total`` is the sum (the engine's
    gradient). Graphs with more than ``max_paths`` paths are grouped by the
    δ = ∂L/∂z of the nn pre-activations above ``wrt`` (the recurrence), or by
    ∂L/∂node of the nearest named nodes.

    ``form="factored"`` writes the sum as the lessons do, the factors every path
    shares pulled out of a bracket: δ₁⁽¹⁾ = [w₁₁⁽³⁾·φ′(z₁⁽²⁾)·w₁₁⁽²⁾ + …] · ∂L/∂ŷ ·
    ψ′(z₁⁽³⁾) · φ′(z₁⁽¹⁾). ``symbolic=True`` keeps the activations and the loss
    abstract: an nn activation's factor reads φ′(z) (ψ′(z) at the output) instead
    of its rule, and the loss above the output ŷ is one factor ∂L/∂ŷ."""
    if not isinstance(output, Value):
        raise TypeError(f"explain: output must be a Value, got {type(output).__name__}")
    if not isinstance(wrt, Value):
        raise TypeError(f"explain: wrt must be a Value, got {type(wrt).__name__}")
    check_count("explain", "max_paths", max_paths)
    check_precision("explain", precision)
    if form not in _FORMS:
        raise ValueError(f"explain: form must be one of {', '.join(map(repr, _FORMS))}, "
                         f"got {form!r}")
    if not isinstance(symbolic, bool):
        raise TypeError(f"explain: symbolic must be a bool, got {type(symbolic).__name__}")
    nodes = order(output)
    names = node_names(output)
    if wrt not in names:
        names = {**names, wrt: lesson_name(wrt.label) or wrt.label or "x"}
    count, reaches = _count_paths(nodes, output, wrt)
    writer = _PathWriter(nodes, names, output, wrt, symbolic)
    if count <= max_paths:
        paths = [writer.path(edges, output) for edges in _enumerate(output, wrt, reaches)]
        total = math.fsum(p.product for p in paths)
        why = Explanation(names[output], names[wrt], paths, total, count,
                          precision=precision, notes=writer.notes, form=form)
    else:
        adjoint = dict(zip(nodes, grad(output, nodes)))  # ∂output/∂node: the engine's sweep
        terms = _grouped(writer, reaches, adjoint, max_paths)
        deltas = {names[t.nodes[0]]: t.factors[0].value for t in terms}
        total = math.fsum(t.product for t in terms)
        why = Explanation(names[output], names[wrt], terms, total, count, grouped=True,
                          precision=precision, deltas=deltas, notes=writer.notes, form=form)
    why.where = ids_shown(output, str(why))
    return why



#: Unicode sub- and superscripts our text uses, as the characters they raise or lower.
_LOWERED = {**{low: digit for digit, low in SUBSCRIPTS.items()},
            **dict(zip("ₖⱼᵢₗₙₘₐₑₒₓ₊", "kjilnmaeox+"))}
_RAISED = {**{high: digit for digit, high in SUPERSCRIPTS.items()},
           **dict(zip("⁽⁾ˡⁿⁱᵏʲ⁺ᵀ", "()lnikj+T"))}
_SYMBOLS = {"·": r" \cdot ", "−": "-", "∂": r"\partial ", "×": r"\times ", "≥": r"\geq ",
            "≤": r"\leq ", "≠": r"\neq ", "ŷ": r"\hat{y}", "′": "'", "⊙": r"\odot ",
            "Σ": r"\sum ", "…": r"\ldots ", "→": r"\to ", "φ": r"\varphi ", "ε": r"\epsilon ",
            "{": r"\{", "}": r"\}", "_": r"\_", "%": r"\%", "&": r"\text{\&}", "#": r"\text{\#}",
            "$": r"\$", "\\": r"\backslash ", "~": r"\sim ", "'": "'"}
#: Words that read as words between formulas (a condition of a rule: "a if z > 0 else b").
_SPACED_WORDS = ("if", "else", "not", "and", "or")


def _greek(ch: str) -> str | None:
    r"""A Greek letter as its LaTeX command (σ → \sigma, Δ → \Delta), else None."""
    name = unicodedata.name(ch, "")
    if not name.startswith(("GREEK SMALL LETTER ", "GREEK CAPITAL LETTER ")) or " WITH " in name:
        return None
    word = name.rsplit(" ", 1)[-1].lower()
    if word == "lamda":
        word = "lambda"
    return "\\" + (word.capitalize() if "CAPITAL" in name else word) + " "


def _run(text: str, i: int, table: dict[str, str]) -> int:
    """The end of the run of characters of ``table`` starting at ``i`` (commas between
    lowered digits belong to the run: w₁₂,₃)."""
    j = i
    while j < len(text) and (text[j] in table or (
            text[j] == "," and j + 1 < len(text) and text[j + 1] in table and j > i)):
        j += 1
    return j


def _tex(text: str) -> str:
    r"""Our display text (Unicode sub/superscripts, ·, −, Greek, ŷ) as LaTeX that a
    TeX parser accepts: each run of raised characters is one superscript (W⁽ˡ⁺¹⁾ᵀ is
    W^{(l+1)T}), ``x^0.5`` is x^{0.5}, TeX's special characters in labels are
    escaped, an op's word is written as its row says (``op.latex``: \tanh, \sigma),
    another word called as a function is \operatorname{sign}, and any other word of
    several letters is upright (\mathrm{loss})."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in _LOWERED:
            j = _run(text, i, _LOWERED)
            out.append("_{" + "".join(_LOWERED.get(c, c) for c in text[i:j]) + "}")
            i = j
        elif ch in _RAISED:
            j = _run(text, i, _RAISED)
            out.append("^{" + "".join(_RAISED[c] for c in text[i:j]) + "}")
            i = j
        elif ch == "^":                                   # x^0.5, x^(b − 1), x^y
            j = i + 1
            if text[j:j + 1] == "(":
                depth, k = 0, j
                while k < len(text):
                    depth += (text[k] == "(") - (text[k] == ")")
                    k += 1
                    if depth == 0:
                        break
                exponent, i = text[j + 1:k - 1], k
            else:
                k = j + (text[j:j + 1] in "−-")
                while k < len(text) and (text[k].isalnum() or text[k] == "."):
                    k += 1
                exponent, i = text[j:k], k
            out.append("^{" + _tex(exponent) + "}")
        elif ch.isalpha() and not text[i - 1:i].isalpha() and _function_at(text, i):
            word = _function_at(text, i)                  # an op's word (its row's LaTeX)
            latex = _op_latex().get(word, rf"\operatorname{{{word}}}")
            i += len(word)
            out.append(latex + " " if latex[1:].isalpha() else latex)    # \exp x, \tanh(z)
        elif ch.isascii() and ch.isalpha():
            j = i
            while j < len(text) and text[j].isascii() and text[j].isalpha():
                j += 1
            word = text[i:j]
            if word in _SPACED_WORDS:
                out.append(rf"\ \mathrm{{{word}}}\ ")
            else:
                out.append(word if len(word) == 1 else rf"\mathrm{{{word}}}")
            i = j
        elif ch in _SYMBOLS:
            out.append(_SYMBOLS[ch])
            i += 1
        elif _greek(ch):
            out.append(_greek(ch))                         # type: ignore[arg-type]
            i += 1
        elif ch.isascii():
            out.append(ch)
            i += 1
        else:                                              # any other character: as text
            out.append(rf"\text{{{ch}}}")
            i += 1
    return "".join(out)


@cache
def _op_latex() -> dict[str, str]:
    """Each op written as a word or a letter (tanh, ReLU, σ) → its LaTeX, from its row."""
    return {op.symbol: op.latex for op in OPS.values() if op.symbol.isidentifier()}


def _function_at(text: str, i: int) -> str:
    """The op's symbol starting at ``text[i]`` (``σ``, ``tanh``), or a longer word of
    Latin letters called as a function (``sign(``); else ''."""
    j = i
    while j < len(text) and (text[j].isalpha() or text[j] in "0123456789"):
        j += 1
    word = text[i:j]
    if word in _op_latex() or (len(word) > 1 and word.isascii() and text[j:j + 1] == "("):
        return word
    return ""


def _product_tex(factors: list[str], first: bool = False) -> str:
    """Factors joined by ⋅, each in parentheses where it would otherwise run into
    its neighbours (a sum, a leading minus, a quotient next to other factors); a
    lone factor only needs them after a + (``+ (−x/y²)``), not as the first term."""
    if not factors:
        return "1"
    if len(factors) == 1:
        return factors[0] if first else _paren_tex(factors[0])
    return r" \cdot ".join(_paren_tex(f, quotient=True) for f in factors)


def _paren_tex(text: str, quotient: bool = False) -> str:
    r"""Parentheses around a factor that is a sum or starts with a minus sign (or,
    with ``quotient``, is a quotient: ``e^x \cdot (1/x)``, not ``e^x \cdot 1/x``)."""
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch in "({[") - (ch in ")}]")
        if depth == 0 and ch in "+-" and (i == 0 or text[i - 1] == " "):
            return f"({text})"
        if depth == 0 and ch == "/" and quotient:
            return f"({text})"
    return text
