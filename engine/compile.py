"""``engine.compile``: a built graph written out as straight-line Python.

Eager mode pays for a Python object per node, every time. A graph whose *shape*
stays fixed — a training loss over a fixed data set, say — can instead be
written out once as source code: one local variable per node, the forward rule
of each op from the table, then the chain rule backwards, one line per edge,
with each local derivative ∂node/∂input inlined from the table's rule strings::

    v3 = w * x                 # forward: the rule "a * b" with a → w, b → x
    ...
    d_v3 = d_v4 if v3 > 0.0 else 0.0   # backward through ReLU: d_v3 = ReLU′(v3) · d_v4
    d_w = x * d_v3             # ∂v3/∂w = x: the rule "b"

``compile()`` runs that source through Python's ``compile()`` once. The program
takes new numbers for the chosen input leaves and never creates a Value; every
other leaf is frozen at its current value (inlined as a number). Branches inside
ops (ReLU) are decided again on each call. ``program.source`` is the chain rule
written out — worth reading once.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import math
import re
import unicodedata
from collections.abc import Mapping
from types import CodeType, FunctionType
from typing import Any, Callable, Sequence, Union

from .autograd import check_recorded, order
from .errors import DomainError
from .functional import grad, replay
from .modes import enable_grad, no_grad
from .ops import FORWARD_NAMES, LOCAL_NAMES
from .rules import number, render, substitute
from .value import Constant, Value, as_float, register

Number = Union[int, float]
# The functions rules may call, on floats (a local rule's own helpers, then the
# forward ones: on floats the two ``log``s agree, and math.log is the faster).
_RULE_NAMES: dict[str, Any] = {**LOCAL_NAMES, **FORWARD_NAMES}

__all__ = ["compile", "Program"]

# Names the generated code uses itself: never given to a node.
_RESERVED = {"numbers", "inf", "nan", "fail", "count_error", "checked", "finite", "floats",
             "DomainError",
             "grads",
             "extra", "error", "forward", "value_and_grad", *_RULE_NAMES, *dir(builtins),
             *keyword.kwlist}


def compile(output: Value, inputs: Value | Sequence[Value], *,
            extra: Sequence[Value] = ()) -> Program:
    """The graph ending at ``output`` as a program of the ``inputs`` (leaf Values).

    ``program(numbers)`` is the output at new input numbers;
    ``program.value_and_grad(numbers)`` is ``(output, [∂output/∂input, ...])``.
    Leaves not among ``inputs`` are constants, frozen at their current ``data``.
    For training, pass the parameters as ``inputs``: the data points then become
    constants, and each step is one call. ``extra`` nodes of the graph (say, the
    model's predictions inside a loss) are returned too, as a third item:
    ``(output, gradients, [extra values])``.

    The graph records ops, not the Python that chose them: control flow on
    ``.data`` while the graph was built — ``z if z.data > 0 else -z``, an ``if`` on
    a loss, ``max`` over Values — is frozen into the program as the branch taken
    then, and the program computes that branch at any numbers. A branch inside an
    op is decided again on every call (ReLU, with ReLU′(0) = 0); to keep a choice
    live, write it with ops: ``z.relu() + (-z).relu()`` is |z| at every call."""
    if not isinstance(output, Value):
        raise TypeError(f"compile: output must be a Value, got {type(output).__name__}")
    check_recorded(output, "compile")
    single = isinstance(inputs, Value)
    inputs = [inputs] if single else list(inputs)  # type: ignore[list-item]
    if not inputs:
        raise ValueError("compile: no inputs: give the leaves whose numbers the program "
                         "takes (for training, the parameters)")
    nodes = order(output)
    in_graph = set(nodes)
    seen: set[Value] = set()
    for i, leaf in enumerate(inputs):
        if not isinstance(leaf, Value):
            raise TypeError(f"compile: inputs[{i}] must be a Value, got {type(leaf).__name__}")
        if leaf.op is not None:
            raise ValueError(f"compile: inputs[{i}] {_show(leaf)} is not a leaf (it was made by "
                             f"{leaf.op.name}); inputs must be leaves: parameters, data, or "
                             f"Values you made with Value(...)")
        if leaf not in in_graph:
            raise ValueError(f"compile: inputs[{i}] {_show(leaf)} is not a leaf of the graph: "
                             f"the output does not depend on it")
        if leaf in seen:
            raise ValueError(f"compile: inputs[{i}] {_show(leaf)} is given twice")
        seen.add(leaf)
    extra = list(extra)
    for i, node in enumerate(extra):
        if not isinstance(node, Value):
            raise TypeError(f"compile: extra[{i}] must be a Value, got {type(node).__name__}")
        if node not in in_graph:
            raise ValueError(f"compile: extra[{i}] {_show(node)} is not a node of the graph "
                             f"of the output")
    return Program(output, inputs, nodes, extra)


def _show(v: Value) -> str:
    return f"Value(data={v.data:.6g}{f', label={v.label!r}' if v.label else ''})"


class Program:
    """A graph compiled to Python source: see ``engine.compile``.

    ``program(numbers)`` → output; ``program.value_and_grad(numbers)`` →
    ``(output, gradients)``; ``program.source`` → the generated code."""

    def __init__(self, output: Value, inputs: list[Value], nodes: list[Value],
                 extra: Sequence[Value] = ()) -> None:
        self.inputs: tuple[Value, ...] = tuple(inputs)
        self.extra: tuple[Value, ...] = tuple(extra)
        writer = _Writer(output, self.inputs, nodes, self.extra)
        #: the generated source: ``forward(numbers)`` and ``value_and_grad(numbers)``
        self.source: str = writer.source()
        #: the variable that holds each input in ``source``, in input order
        self.input_names: tuple[str, ...] = tuple(writer.names[leaf] for leaf in self.inputs)
        self._size = len(nodes)
        self._slow = _SlowPaths(output, self.inputs, self.input_names, self.extra, nodes,
                                self.source, writer.frozen)
        #: ``value_and_grad(numbers)`` → ``(output, [∂output/∂input, ...])``; a plain
        #: function (no method call in between), so it can be passed around.
        self.value_and_grad = self._slow.define("value_and_grad")
        self._forward: Any = None              # compiled on the first call, if ever

    def __call__(self, numbers: Sequence[Number]) -> float:
        """The output at the given input numbers (no gradients)."""
        if self._forward is None:
            self._forward = self._slow.define("forward")
        return self._forward(numbers)

    def __repr__(self) -> str:
        names = ", ".join(self.input_names[:6]) + (", …" if len(self.inputs) > 6 else "")
        return f"<engine.compile program: {self._size} nodes, inputs ({names})>"


class _SlowPaths:
    """What the generated code calls when something is off, and the maker of its
    functions. It holds the graph and the source but never the Program or a
    function it made: those functions reach it through their globals, and a
    reference back would make a cycle that keeps the whole graph alive until the
    cyclic garbage collector runs — a dropped program must be freed at once, by
    reference counting, as a dropped graph is."""

    __slots__ = ("_output", "inputs", "input_names", "extra", "_nodes", "_source", "_frozen",
                 "_codes")

    def __init__(self, output: Value, inputs: tuple[Value, ...], input_names: tuple[str, ...],
                 extra: tuple[Value, ...], nodes: list[Value], source: str,
                 frozen: dict[Value, float]) -> None:
        self._output = output
        self.inputs = inputs
        self.input_names = input_names
        self.extra = extra
        self._nodes = nodes
        self._source = source
        self._frozen = frozen
        self._codes: dict[str, CodeType] = {}

    def define(self, name: str) -> Callable[[Sequence[Number]], Any]:
        """One of the two functions of the source, ``forward`` or ``value_and_grad``,
        compiled on first use (Python compiles a few µs per line: a big graph need
        not pay for a forward it never calls). The function is not put into its own
        globals (that too would be a cycle)."""
        code = self._codes.get(name)
        if code is None:
            start = self._source.index(f"\ndef {name}(")
            end = self._source.find("\n\n\ndef ", start)
            text = self._source[start:] if end < 0 else self._source[start:end]
            where = (f"<engine.compile {name}, program {id(self):#x}: "
                     f"{len(self._nodes)} nodes>")
            register(where, text)                 # inspect, tracebacks and pdb show it
            module = builtins.compile(text, where, "exec")
            code = self._codes[name] = next(c for c in module.co_consts
                                            if isinstance(c, CodeType) and c.co_name == name)
        scope: dict[str, Any] = {**_RULE_NAMES, "__builtins__": builtins,
                                 "inf": math.inf, "nan": math.nan,
                                 "fail": self.fail, "count_error": self.count_error,
                                 "checked": self.checked, "finite": _finite,
                                 "floats": self.floats, "DomainError": DomainError}
        return FunctionType(code, scope, name)

    def floats(self, numbers: Any) -> bool:
        """Are ``numbers`` what the program runs on as they are: a list or tuple of as
        many floats as it has inputs? (One C-speed pass: a set of their types.)"""
        return (type(numbers) in (list, tuple) and len(numbers) == len(self.inputs)
                and set(map(type, numbers)) <= {float})

    def count_error(self, numbers: Sequence[Any]) -> Exception:
        """The wrong count of numbers."""
        return ValueError(f"compiled program: expected {len(self.inputs)} numbers (one per "
                          f"input: {', '.join(self.input_names)}), got {len(numbers)}")

    def fail(self, numbers: Sequence[Any], error: Exception, gradients: bool) -> Any:
        """An error raised inside the generated code, explained as eager mode would:
        the op, its input values and labels. If eager mode raises nothing at these
        numbers, its result is the answer: the program evaluates every local rule,
        eager mode skips a node no gradient reaches (``(x ** 0.5 - 5.0).relu()`` at
        x = 0 has the slope 0 in eager mode, while ½·0^−½ raises in the program)."""
        found, result = self._replay(numbers, gradients)
        if found is not None:
            try:
                raise found from None
            finally:                 # this frame, in the traceback, must not hold it
                found = None
        return result

    def checked(self, numbers: Any, gradients: bool) -> Any:
        """Called when the numbers are not a list of floats, or the result is not a
        finite float. Numbers are checked as eager mode checks a Value's data
        (``engine.value.as_float``: a bool or a str is a TypeError, a huge int a
        NumberOverflowError; ints, Fractions, numpy scalars are fine) and the
        program runs again on them as floats. Otherwise eager mode answers: an
        inf/NaN made from finite numbers is its error naming the op, and where it
        raises nothing its numbers are the result (an infinite local derivative
        times a zero gradient is NaN in the program, but eager mode passes nothing
        on from a zero gradient)."""
        if isinstance(numbers, (str, bytes, Mapping)) or not isinstance(numbers, Sequence):
            raise TypeError(f"compiled program: numbers must be a sequence (a list) of "
                            f"{len(self.inputs)} numbers, got {type(numbers).__name__}")
        if len(numbers) != len(self.inputs):
            raise self.count_error(numbers)
        converted = [as_float(x, f"compiled program: numbers[{i}]")
                     for i, x in enumerate(numbers)]
        if not self.floats(numbers):
            return self.define("value_and_grad" if gradients else "forward")(converted)
        found, result = self._replay(converted, gradients)
        if found is not None:
            try:
                raise found
            finally:                 # this frame, in the traceback, must not hold it
                found = None
        return result

    def _replay(self, numbers: Sequence[Any], gradients: bool) -> tuple[Exception | None, Any]:
        """Eager mode at these numbers: ``(error, None)`` for the error it raises, else
        ``(None, result)`` with the result in the program's shape — the output, or
        ``(output, gradients[, extra values])``. The graph is built again through
        Value's own ops — so the checks and the messages, naming the op, its inputs
        and their labels, are eager mode's own — and, for gradients, swept by
        ``autograd.grad``."""
        made: dict[Value, Value] = {leaf: Value(x, leaf.label)
                                    for leaf, x in zip(self.inputs, numbers)}
        for v, x in self._frozen.items():   # a frozen leaf changed since: the program's number
            if v.data != x:
                made[v] = Constant(x, v.label) if v.is_constant else Value(x, v.label)
        try:
            with enable_grad() if gradients else no_grad():
                made = replay(self._nodes, made)
            out = made.get(self._output, self._output)
            if not gradients:
                return None, out.data
            grads = grad(out, [made[leaf] for leaf in self.inputs])
        except (ArithmeticError, ValueError) as error:
            return error.with_traceback(None), None
        if not self.extra:
            return None, (out.data, grads)
        return None, (out.data, grads, [made.get(v, v).data for v in self.extra])


def _finite(values: list[float]) -> bool:
    """All finite? One C-speed sum; an inf or NaN anywhere makes it non-finite."""
    try:
        return math.isfinite(math.fsum(values))
    except (OverflowError, ValueError):          # finite but huge, or inf − inf
        return all(math.isfinite(x) for x in values)


# ---- writing the source -----------------------------------------------------------
_NOT_WORD = re.compile(r"\W")
_LETTERS = ("a", "b", "out")                               # the names a rule is written in
_MARKS = {letter: f"\0{letter}\0" for letter in _LETTERS}  # NUL: never in Python source
_TIGHT = (ast.Name, ast.Constant, ast.Call, ast.UnaryOp)  # need no parentheses before `*`


class _Template:
    """A rule of the table parsed once, cut into pieces of source at its names a, b
    and out. The cuts are made on the parse tree (``rules.render`` renames each of
    those names to a marker), so filling in variable names is one pass that puts
    each name at its place and never reads it again, whatever the label it came
    from. A branch ``x if test else y`` also keeps its three parts, so a product
    with it can be pushed into both arms."""

    __slots__ = ("pieces", "letters", "tight", "branch")

    def __init__(self, tree: ast.expr) -> None:
        marked = render(ast.unparse(tree), _MARKS)
        self.pieces = marked.split("\0")          # even: source text; odd: a letter
        self.letters = frozenset(self.pieces[1::2])
        self.tight = isinstance(tree, _TIGHT) or (
            isinstance(tree, ast.BinOp) and isinstance(tree.op, (ast.Mult, ast.Div, ast.Pow)))
        self.branch = (None if not isinstance(tree, ast.IfExp) else
                       (_Template(tree.test), _Template(tree.body), _Template(tree.orelse)))

    def fill(self, names: dict[str, str]) -> str:
        """The rule with each letter replaced by its variable name (or number)."""
        pieces = list(self.pieces)
        pieces[1::2] = [names[letter] for letter in pieces[1::2]]
        return "".join(pieces)


_FOLDABLE: dict[str, frozenset[str]] = {}
_FOLD_NAMES = {**_RULE_NAMES, "inf": math.inf, "nan": math.nan}


class _Fold(ast.NodeTransformer):
    """Fold every subexpression over numbers only (``2.0 - 1.0`` → ``1.0``), every
    branch whose test is a number (``x if 2.0 else 0.0`` → ``x``), and the trivial
    steps that leave any float as it is: ``x ** 1.0`` → ``x``, ``x ** 0.0`` → ``1.0``,
    ``1.0 * x`` and ``x * 1.0`` → ``x`` (exact for NaN and ±inf too). So x² has the
    local derivative ``2.0 * x``, as a teacher would write it."""

    def generic_visit(self, node: ast.AST) -> ast.AST:
        node = super().generic_visit(node)
        if isinstance(node, ast.BoolOp):        # a or True → True; a and True → a
            decided = [_value(v) for v in node.values]
            short = isinstance(node.op, ast.Or)
            if any(d is not None and bool(d) is short for d in decided):
                return ast.Constant(short)
            rest = [v for v, d in zip(node.values, decided) if d is None]
            if not rest:
                return ast.Constant(not short)
            return rest[0] if len(rest) == 1 else ast.BoolOp(node.op, rest)
        if isinstance(node, ast.IfExp):
            test = _value(node.test)
            if test is not None:
                return node.body if test else node.orelse
            return node
        if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.Call)) and not any(
                isinstance(n, ast.Name) and n.id not in _RULE_NAMES for n in ast.walk(node)):
            try:
                value = eval(ast.unparse(node), dict(_FOLD_NAMES))
            except (ArithmeticError, ValueError, TypeError):
                return node
            if isinstance(value, bool):
                return ast.Constant(value)
            if isinstance(value, (int, float)) and math.isfinite(value):
                return number(float(value))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            if _is(node.right, 1.0):
                return node.left
            if _is(node.right, 0.0):
                return number(1.0)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            if _is(node.left, 1.0):
                return node.right
            if _is(node.right, 1.0):
                return node.left
        return node


def _is(tree: ast.expr, x: float) -> bool:
    """Is ``tree`` the number ``x`` (a folded literal, not a bool)?"""
    value = _value(tree)
    return value is not None and type(value) is not bool and value == x


def _value(tree: ast.expr) -> float | bool | None:
    """The number a folded literal stands for, or None."""
    if isinstance(tree, ast.Constant) and isinstance(tree.value, (int, float)):
        return tree.value
    if (isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.USub)
            and isinstance(tree.operand, ast.Constant)):
        return -tree.operand.value
    return None


def _foldable(rule: str) -> frozenset[str]:
    """The letters of ``rule`` that, when a number, let part of the rule be folded:
    those inside an operation on numbers (``b`` in ``a ** (b - 1.0)``, or the test
    of ``… if b else 0.0``), not a bare operand (``b`` in the rule ``b``)."""
    found = _FOLDABLE.get(rule)
    if found is None:
        tree = ast.parse(rule, mode="eval").body
        letters: set[str] = set()
        for node in ast.walk(tree):
            if node is tree or not isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Compare,
                                                     ast.Call)):
                continue
            free = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in _LETTERS}
            if len(free) == 1:
                letters |= free
        if isinstance(tree, ast.IfExp):
            letters |= {n.id for n in ast.walk(tree.test)
                        if isinstance(n, ast.Name) and n.id in _LETTERS}
        found = _FOLDABLE[rule] = frozenset(letters)
    return found


def _template(rule: str, numbers: dict[str, float], cache: dict[tuple, _Template]) -> _Template:
    """``rule`` parsed once per set of numbers worth folding into it (per ``cache``:
    one program's, since the numbers are its frozen data and a module-wide cache
    would grow with every compile)."""
    fixed = tuple(sorted((k, v) for k, v in numbers.items() if k in _foldable(rule)))
    found = cache.get((rule, fixed))
    if found is None:
        tree = _Fold().visit(substitute(rule, dict(fixed)))
        found = cache[rule, fixed] = _Template(tree)
    return found


def _atom(x: float) -> str:
    """A number as source that is safe anywhere an operand goes."""
    text = repr(x)
    return f"({text})" if text.startswith("-") else text


def _fold(text: str, cache: dict[str, float | None]) -> float | None:
    """The value of an expression over numbers only, or None if it raises (kept in
    ``cache``, one program's)."""
    if text not in cache:
        try:
            value = eval(text, dict(_FOLD_NAMES))
        except (ArithmeticError, ValueError):
            value = None
        cache[text] = float(value) if isinstance(value, (int, float)) else None
    return cache[text]


class _Writer:
    """Names every node and writes ``forward`` and ``value_and_grad``."""

    def __init__(self, output: Value, inputs: tuple[Value, ...], nodes: list[Value],
                 extra: tuple[Value, ...] = ()) -> None:
        self.output = output
        self.inputs = inputs
        self.extra = extra
        self.active = self._active(nodes, set(inputs))
        self.taken: set[str] = set(_RESERVED)
        self.names: dict[Value, str] = {}
        #: the frozen operands of the program's ops, at the numbers written into it
        self.frozen: dict[Value, float] = {}
        #: rules parsed with this program's frozen numbers folded in, and the values
        #: of folded expressions: this program's alone, freed with the writer
        self.templates: dict[tuple, _Template] = {}
        self.folded: dict[str, float | None] = {}
        for i, leaf in enumerate(inputs):
            self.names[leaf] = self._fresh(leaf.label, f"x{i + 1}")
        count = 0
        for node in self.active:
            if node not in self.names:
                count += 1
                self.names[node] = self._fresh(node.label, f"v{count}")

    @staticmethod
    def _active(nodes: list[Value], inputs: set[Value]) -> list[Value]:
        """The nodes that depend on an input; every other node is a frozen number."""
        live: set[Value] = set()
        active = []
        for n in nodes:
            if n in inputs or (n.op is not None and (n.input_a in live or n.input_b in live)):
                live.add(n)
                active.append(n)
        return active

    def _fresh(self, label: str, fallback: str) -> str:
        """A variable name from the node's label when it can be one, else ``fallback``."""
        # Python reads identifiers in NFKC form (ﬁ is fi): compare names as it does.
        name = _NOT_WORD.sub("_", unicodedata.normalize("NFKC", label.strip()))
        if not name.isidentifier():          # empty, a leading digit, x² …
            name = fallback
        base, k = name, 1
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name

    def _operands(self, node: Value) -> tuple[dict[str, str], dict[str, float]]:
        """Source for a, b, out of this node, and the numbers among them (frozen inputs)."""
        names = {"out": self.names.get(node, "")}
        numbers = {}
        for letter, v in zip("ab", node.inputs):
            name = self.names.get(v)
            if name is None:
                numbers[letter] = self.frozen[v] = v.data
                name = _atom(v.data)
            names[letter] = name
        return names, numbers

    def _times(self, rule: _Template, names: dict[str, str], numbers: dict[str, float],
               d: str) -> str | None:
        """``local · d`` as source, simplified: None for a zero local derivative,
        ``d`` for 1, ``-d`` for −1; a branch (ReLU′) gets the product in each arm."""
        if rule.branch is not None:
            test, body, orelse = rule.branch
            yes = self._times(body, names, numbers, d)
            no = self._times(orelse, names, numbers, d)
            if yes is None and no is None:
                return None
            return f"{yes or '0.0'} if {test.fill(names)} else {no or '0.0'}"
        text = rule.fill(names)
        if rule.letters <= numbers.keys():
            x = _fold(text, self.folded)        # depends on no variable: a number
            if x is not None:
                if x == 0.0:
                    return None
                if x == 1.0:
                    return d
                if x == -1.0:
                    return f"-{d}"
                return f"{_atom(x)} * {d}"
        return f"{text} * {d}" if rule.tight else f"({text}) * {d}"

    def forward_lines(self) -> list[str]:
        """One line per op. Also collects ``self.watched``: the variables that reach
        an op able to turn an inf or NaN into a finite number."""
        lines = []
        watched: dict[str, None] = {}
        for node in self.active:
            if node.op is not None:
                names, numbers = self._operands(node)
                if node.op.domain:                 # as eager mode: outside it, the op's error
                    domain = _template(node.op.domain, numbers, self.templates).fill(names)
                    if domain != "True":
                        lines.append(f"if not ({domain}):")
                        lines.append("    raise DomainError")
                rule = _template(node.op.forward_rule, numbers, self.templates)
                lines.append(f"{self.names[node]} = {rule.fill(names)}")
                for i, v in enumerate(node.inputs):    # an input that may hide an inf or NaN
                    if i not in node.op.carries and v in self.names:
                        watched[self.names[v]] = None
        self.watched = list(watched)
        return lines

    def backward_lines(self) -> list[str]:
        """One line per edge that carries a gradient. ``grad[v]`` is the variable
        holding ∂output/∂v so far; a node with a single path back from the output
        shares its consumer's variable (a sum passes its gradient through
        unchanged), and gets its own only when a second contribution arrives.

        Also collects ``self.dropped``: the gradient variables an edge may drop — a
        branch (ReLU′ = 0 passes nothing on) or a local derivative folded to 0 (a
        weight frozen at 0.0). An inf or NaN anywhere else reaches the gradients
        returned (inf·0 is NaN, inf + x is inf); there it could vanish, while eager
        mode refuses it, so the program checks these too."""
        out = self.names[self.output]
        own = {self.output}
        grad = {self.output: f"d_{out}" if f"d_{out}" not in self.taken else self._fresh("", "d")}
        self.taken.add(grad[self.output])
        lines = [f"{grad[self.output]} = 1.0"]
        active = set(self.active)
        dropped: dict[str, None] = {}
        for node in reversed(self.active):
            d = grad.get(node)
            if node.op is None or d is None:
                continue
            names, numbers = self._operands(node)
            for v, rule in zip(node.inputs, node.op.local_rules):
                if v not in active:
                    continue
                template = _template(rule, numbers, self.templates)
                step = self._times(template, names, numbers, d)
                if step is None or template.branch is not None:
                    dropped[d] = None             # d may stop here: see ``source``
                if step is None:
                    continue
                if v not in grad:
                    if step.isidentifier() and v.op is not None:   # the same: share it
                        grad[v] = step
                        continue
                    grad[v] = self._fresh("d_" + self.names[v], "d")
                    own.add(v)
                    lines.append(f"{grad[v]} = {step}")
                elif v not in own:
                    shared, grad[v] = grad[v], self._fresh("d_" + self.names[v], "d")
                    own.add(v)
                    if step[0] == "-" and step[1:].isidentifier():
                        lines.append(f"{grad[v]} = {shared} - {step[1:]}")
                    elif " if " in step:                  # a branch binds loosest
                        lines.append(f"{grad[v]} = {shared} + ({step})")
                    else:
                        lines.append(f"{grad[v]} = {shared} + {step}")
                elif step[0] == "-" and step[1:].isidentifier():
                    lines.append(f"{grad[v]} -= {step[1:]}")
                else:
                    lines.append(f"{grad[v]} += {step}")
        self.grad = grad
        self.dropped = list(dropped)
        return lines

    def source(self) -> str:
        n = len(self.inputs)
        unpack = f"{', '.join(self.names[v] for v in self.inputs)}{',' if n == 1 else ''} = numbers"
        out = self.names[self.output]
        forward = self.forward_lines() or ["pass"]
        backward = self.backward_lines()
        watched = (f" or not finite(({', '.join(self.watched)},))" if self.watched else "")
        both = [*self.watched, *(d for d in self.dropped if d not in self.watched)]
        watched_both = f" or not finite(({', '.join(both)},))" if both else ""
        grads = ", ".join(self.grad.get(v, "0.0") for v in self.inputs)
        labels = ", ".join(self.names[v] for v in self.inputs)
        extra = ", ".join(self.names.get(v) or _atom(v.data) for v in self.extra)
        def head(gradients: bool) -> list[str]:
            return ["    if not floats(numbers):      # one float per input? else see checked",
                    f"        return checked(numbers, {gradients})",
                    f"    {unpack}", "    try:"]
        catch = "    except (ArithmeticError, ValueError, TypeError) as error:"
        return "\n".join([
            f'"""The graph of {out} as straight-line code of ({labels}).',
            "",
            "forward: each line is one op's forward rule from the table. backward: d_v is",
            "∂output/∂v; each line is one edge of the chain rule, d_input += (∂node/∂input)",
            "· d_node, from the output back (a node reached by one path shares its",
            "consumer's d).",
            '"""',
            "",
            "",
            "def forward(numbers):", *head(False), *("        " + line for line in forward),
            catch, "        return fail(numbers, error, False)",
            f"    if type({out}) is not float or {out} - {out} != 0.0{watched}:",
            "        return checked(numbers, False)",
            f"    return {out}",
            "",
            "",
            "def value_and_grad(numbers):", *head(True),
            "        # forward", *("        " + line for line in forward),
            "        # backward", *("        " + line for line in backward),
            catch, "        return fail(numbers, error, True)",
            f"    grads = [{grads}]",
            *([f"    extra = [{extra}]"] if self.extra else []),
            f"    if type({out}) is not float or {out} - {out} != 0.0 or not finite(grads)"
            f"{watched_both}:",
            "        return checked(numbers, True)",
            f"    return {out}, grads{', extra' if self.extra else ''}",
            "",
        ])
