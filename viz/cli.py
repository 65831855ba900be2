"""The ``chaingrad`` command: draw, explain and check the gradient of a formula.

    chaingrad graph   "tanh(x*w + b)" x=0.5 w=-1.2 b=0.3 -o graph.svg
    chaingrad explain "tanh(x*w + b)" x=0.5 w=-1.2 b=0.3 --wrt w
    chaingrad check   "tanh(x*w + b)" x=0.5 w=-1.2 b=0.3
    chaingrad demo    xor

A formula is never handed to ``eval``. It is parsed with :mod:`ast` and walked by a
small interpreter that knows numbers, names, ``+ - * / **``, unary minus, calls of
the op table's named ops (``exp log relu sigmoid tanh abs``) and named steps
(``z = x*w + b; L = tanh(z)``); every other piece of Python is refused with exit
status 2 and a message naming it.
A name may end in subscript digits as the lessons write them (``x₁``, ``w₁₂``). Names
are matched as Python matches them, after NFKC normalisation: ``x₁`` and ``x1`` are one
name (so ``x₁=0.5`` and ``x1=0.5`` both give it a value), shown as the formula spells
it; a formula that spells one name two ways is refused.
Each step of the walk is a Value op, so the result is a graph whose leaves carry the
names given on the command line and whose steps carry the formula's own names.
Options and ``NAME=VALUE`` pairs may come in any order.

Exit status: 0 success, 1 a failed gradient check or a maths error (``log(-1)``),
2 a usage error (refused or malformed formula, unknown name, missing or bad value).
"""

from __future__ import annotations

import argparse
import ast
import math
import os
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from engine import FUNCTIONS, OPS, Constant, Value, numerical_grad

from .arguments import RANKDIRS

#: How many arguments each function a formula may call takes: the ops of the table
#: called by name (exp, log, relu, sigmoid, tanh, abs, and any row added since).
ARITY = {op.function: op.arity for op in OPS.values() if op.function is not None}

#: Longest formula accepted, in characters, and deepest nesting of operations.
MAX_LENGTH = 2000
MAX_DEPTH = 200

_BINARY: dict[type, Callable[[Value, Value], Value]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a ** b,
}

# What to call the pieces of Python a formula may not contain.
_REFUSED_OPERATORS = {
    ast.BitXor: "^ (write ** for a power)", ast.FloorDiv: "//", ast.Mod: "%",
    ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>", ast.BitAnd: "&", ast.BitOr: "|",
    ast.Invert: "~", ast.Not: "not",
}
_REFUSED_NODES = {
    ast.Attribute: "attribute access", ast.Subscript: "subscripts", ast.Lambda: "lambda",
    ast.ListComp: "comprehensions", ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions", ast.GeneratorExp: "generator expressions",
    ast.JoinedStr: "f-strings", ast.FormattedValue: "f-strings",
    ast.NamedExpr: "assignment expressions (:=)", ast.Compare: "comparisons",
    ast.BoolOp: "and/or", ast.IfExp: "conditional expressions (… if … else …)",
    ast.List: "lists", ast.Tuple: "tuples", ast.Set: "sets", ast.Dict: "dicts",
    ast.Starred: "starred arguments (*x)", ast.Await: "await", ast.Yield: "yield",
    ast.YieldFrom: "yield", ast.Slice: "slices",
}


_REFUSED_STATEMENTS = {
    ast.Import: "import statements", ast.ImportFrom: "import statements",
    ast.AugAssign: "augmented assignments (+=, …)", ast.AnnAssign: "annotations",
    ast.Delete: "del", ast.FunctionDef: "function definitions", ast.ClassDef: "classes",
    ast.If: "if statements", ast.For: "loops", ast.While: "loops", ast.With: "with",
    ast.Return: "return", ast.Pass: "pass", ast.Raise: "raise", ast.Try: "try",
    ast.Global: "global", ast.Nonlocal: "nonlocal", ast.Assert: "assert",
}


class ExpressionError(ValueError):
    """A formula, or a value given for it, that the command refuses."""


@dataclass(frozen=True)
class Formula:
    """A parsed, checked formula: its steps in order, as (name, expression) with the
    output last (its name None when the last step is a bare expression), the names
    it needs values for, in order of first appearance, and how the formula spells
    each name (``{"x1": "x₁"}``; names are Python's, see :func:`python_name`)."""

    text: str
    steps: tuple[tuple[str | None, ast.expr], ...]
    inputs: tuple[str, ...]
    written: dict[str, str] = field(default_factory=dict)

    def spelled(self, name: str) -> str:
        """``name`` as the formula writes it (``x₁`` for x1)."""
        return self.written.get(name, name)


# ---- names ----------------------------------------------------------------------
_PLAIN_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
#: A name in a formula: a letter or _ (not a digit, not preceded by a word character or
#: a point, so no part of 1e5 or 2.5), then word characters, subscript digits among them.
_NAME = re.compile(r"(?<![\w.])[^\W\d₀-₉]\w*")


def python_name(written: str) -> str | None:
    """The name Python reads for ``written``: subscript digits as digits (``x₁`` is
    ``x1``), then NFKC as Python's parser does (``ﬁ`` is ``fi``, the micro sign µ the
    Greek μ); None for no name (``x²``, ``2x``)."""
    spelled = written.translate(_PLAIN_DIGITS)
    return unicodedata.normalize("NFKC", spelled) if spelled.isidentifier() else None


def _plain_digits(source: str) -> str:
    """``source`` with the subscript digits of its names made plain digits, one
    character for one, so every other character keeps its place."""
    return _NAME.sub(lambda name: name.group().translate(_PLAIN_DIGITS), source)


def _lines(source: str) -> list[str]:
    """The lines of ``source`` as Python's parser counts them."""
    return re.split(r"\r\n|\r|\n", source)


def _in_characters(tree: ast.AST, source: str) -> None:
    """Make every node's columns count characters, as a reader counts them (σ is one
    column), not the UTF-8 bytes ``ast`` counts."""
    lines = [line.encode() for line in _lines(source)]
    for node in ast.walk(tree):
        for column, row in (("col_offset", "lineno"), ("end_col_offset", "end_lineno")):
            offset, line = getattr(node, column, None), getattr(node, row, None)
            if offset is not None and line is not None:
                setattr(node, column, len(lines[line - 1][:offset].decode()))


def _spellings(tree: ast.AST, source: str) -> dict[str, str]:
    """Each variable name of the formula (as Python reads it) → its spelling in
    ``source``, read at the name's place (columns in characters: ``_in_characters``;
    the parsed text has plain digits, one for one); an ExpressionError when the
    formula spells one name two ways."""
    callees = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    lines = _lines(source)
    written: dict[str, str] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Name) or id(node) in callees:
            continue
        spelled = lines[node.lineno - 1][node.col_offset:node.end_col_offset]
        first = written.setdefault(node.id, spelled)
        if spelled != first:
            raise ExpressionError(f"{first!r} and {spelled!r} are one name to Python "
                                  f"({node.id!r}){_where(node)}: write it one way")
    return written


# ---- reading a formula ----------------------------------------------------------
def parse_formula(text: str) -> Formula:
    """Parse ``text`` and check every node against the whitelist (nothing is run).

    A formula is one expression, ``tanh(x*w + b)``, or named steps separated by ``;``
    or new lines, ``z = x*w + b; L = tanh(z)``: each step's name labels its node, a
    name is defined once and before it is used, and the last step is the output.
    Raises ExpressionError saying what is not allowed, and where."""
    if not isinstance(text, str):
        raise TypeError(f"parse_formula: text must be a str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the formula is {len(text)} characters long; "
                              f"the limit is {MAX_LENGTH}")
    written = text.strip()
    if not written:
        raise ExpressionError("the formula is empty")
    source = _plain_digits(written)
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as error:
        where = f" at column {error.offset}" if error.offset else ""
        if error.lineno and error.lineno > 1:
            where = f" at line {error.lineno}, column {error.offset}"
        power = (" (a power is written x**2)" if re.search(r"'[⁰¹²³⁴⁵⁶⁷⁸⁹]'", error.msg or "")
                 else "")
        raise ExpressionError(f"not a valid formula{where}: {error.msg}{power}") from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise ExpressionError(f"not a valid formula: {error or 'nested too deeply'}") from None
    if not tree.body:
        raise ExpressionError("the formula is empty")
    _in_characters(tree, source)
    for statement in tree.body:
        if not isinstance(statement, (ast.Assign, ast.Expr)):
            what = _REFUSED_STATEMENTS.get(type(statement), f"{type(statement).__name__} "
                                                             f"statements")
            raise ExpressionError(f"{what} not allowed in a formula{_where(statement)}")
        _check_depth(statement.value)
        for node in ast.walk(statement.value):
            _check_node(node, written)
    spellings = _spellings(tree, written)
    return Formula(written, *_steps(tree.body, spellings), written=spellings)


def _steps(body: list[ast.stmt], written: dict[str, str]) -> tuple[
        tuple[tuple[str | None, ast.expr], ...], tuple[str, ...]]:
    """The steps of a checked statement list and the names they need from outside:
    every name defined once, before its use, and used; only the output unnamed.
    Errors spell names as ``written`` (the formula) does."""
    steps: list[tuple[str | None, ast.expr]] = []
    defined: dict[str, int] = {}                    # step name → its step number
    for number, statement in enumerate(body, 1):
        if isinstance(statement, ast.Expr):
            if number < len(body):
                raise ExpressionError(
                    f"step {number} ({ast.unparse(statement.value)}) is not named: every "
                    f"step but the last is name = formula, e.g. z = x*w + b; L = tanh(z)")
            steps.append((None, statement.value))
            continue
        target = statement.targets[0] if len(statement.targets) == 1 else None   # type: ignore[attr-defined]
        if not isinstance(target, ast.Name):
            raise ExpressionError(f"step {number} must assign one name (name = formula)"
                                  f"{_where(statement)}")
        name = target.id
        if name in FUNCTIONS:
            raise ExpressionError(f"{written.get(name, name)!r} is a function and cannot "
                                  f"name a step (step {number})")
        if name in defined:
            raise ExpressionError(f"{written.get(name, name)!r} is defined twice, in steps "
                                  f"{defined[name]} and {number}: give each step its own name")
        defined[name] = number
        steps.append((name, statement.value))           # type: ignore[attr-defined]
    inputs: list[str] = []
    used: set[str] = set()
    for number, (_, expression) in enumerate(steps, 1):
        for name in _names(expression):
            used.add(name)
            if name not in defined:
                if name not in inputs:
                    inputs.append(name)
            elif defined[name] >= number:
                raise ExpressionError(
                    f"{written.get(name, name)!r} is used in step {number} before step "
                    f"{defined[name]} defines it: define a name before the step that uses it")
    unused = [name for name, number in defined.items()
              if name not in used and number < len(steps)]
    if unused:
        raise ExpressionError(f"{', '.join(repr(written.get(n, n)) for n in unused)} is "
                              f"defined but never used: the last step is the output")
    return tuple(steps), tuple(inputs)


def _names(expression: ast.expr) -> list[str]:
    """The variable names an expression reads, in order of appearance (no callees)."""
    callees = {id(n.func) for n in ast.walk(expression) if isinstance(n, ast.Call)}
    found = [n for n in ast.walk(expression) if isinstance(n, ast.Name) and id(n) not in callees]
    return [n.id for n in sorted(found, key=lambda n: (n.lineno, n.col_offset))]


def _place(node: ast.AST) -> str:
    """Where a node is in the formula: ``column 5``, or with its line when the
    formula has several; "" for a node without a position."""
    if not hasattr(node, "col_offset"):
        return ""
    line = getattr(node, "lineno", 1)
    column = f"column {node.col_offset + 1}"
    return f"line {line}, {column}" if line > 1 else column


def _where(node: ast.AST) -> str:
    """`` (column 5)`` after a message, or "" for a node without a position."""
    place = _place(node)
    return f" ({place})" if place else ""


def _check_depth(root: ast.AST) -> None:
    """Refuse nesting deeper than MAX_DEPTH, measured without recursion."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(f"the formula nests operations more than {MAX_DEPTH} deep")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _segment(node: ast.AST, text: str) -> str:
    """The text of a one-line ``node`` in ``text`` (columns in characters); "" when
    there is no text or the node spans lines."""
    line = getattr(node, "lineno", None)
    if not text or line is None or line != getattr(node, "end_lineno", None):
        return ""
    return _lines(text)[line - 1][node.col_offset:node.end_col_offset]  # type: ignore[attr-defined]


def _as_written(node: ast.AST, text: str) -> str:
    """A number as the formula writes it, a very long one shortened honestly."""
    written = _segment(node, text) or repr(node.value)  # type: ignore[attr-defined]
    if len(written) <= 24:
        return written
    kind = "digits" if written.isdigit() else "characters"
    return f"{written[:12]}…{written[-4:]} ({len(written)} {kind})"


def _check_node(node: ast.AST, text: str = "") -> None:
    """Refuse ``node`` unless the whitelist allows it; ``text`` (the formula as
    written, columns in characters) lets a refused operator be pointed at exactly and
    a number or a name be quoted as written."""
    where = _where(node)
    if isinstance(node, (ast.expr_context, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow,
                         ast.USub, ast.UAdd, ast.Name)):
        return
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ExpressionError(f"{type(value).__name__} constants like {value!r} are "
                                  f"not allowed{where}; only real numbers are")
        try:
            finite = math.isfinite(value)
        except OverflowError:
            finite = False
        if not finite:
            place = f" at {_place(node)}" if _place(node) else ""
            raise ExpressionError(f"the number {_as_written(node, text)}{place} is too large "
                                  f"for a float (the largest is about 1.8e308)")
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            symbol = _REFUSED_OPERATORS[type(node.op)].split()[0]
            line = node.left.end_lineno
            if text and line == node.right.lineno:
                gap = _lines(text)[line - 1][node.left.end_col_offset:node.right.col_offset]
                if symbol in gap:                           # point at the operator itself
                    column = node.left.end_col_offset + gap.index(symbol) + 1
                    where = f" ({'' if line == 1 else f'line {line}, '}column {column})"
            raise ExpressionError(f"the operator {_REFUSED_OPERATORS[type(node.op)]} is "
                                  f"not allowed{where}; use + - * / **")
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise ExpressionError(f"the operator {_REFUSED_OPERATORS[type(node.op)]} is "
                                  f"not allowed{where}")
        return
    if isinstance(node, ast.Call):
        allowed = ", ".join(FUNCTIONS)
        if not isinstance(node.func, ast.Name):
            raise ExpressionError(f"only the functions {allowed} may be called{where}")
        name = node.func.id
        if name not in FUNCTIONS:
            shown = _segment(node.func, text) or name                 # relu₁ as typed
            raise ExpressionError(f"calling {shown!r} is not allowed{where}; "
                                  f"the functions are {allowed}")
        if node.keywords:
            raise ExpressionError(f"keyword arguments are not allowed{where}: "
                                  f"write {name}(x)")
        if len(node.args) != ARITY[name]:
            wanted = "one argument" if ARITY[name] == 1 else f"{ARITY[name]} arguments"
            raise ExpressionError(f"{name} takes exactly {wanted}{where}, "
                                  f"got {len(node.args)}")
        return
    what = _REFUSED_NODES.get(type(node), f"{type(node).__name__} nodes")
    raise ExpressionError(f"{what} not allowed in a formula{where}")


def evaluate(formula: Formula, leaves: dict[str, Value]) -> Value:
    """Walk a checked formula (from :func:`parse_formula`) step by step, building
    Value ops; a step's name labels the node it makes.

    ``leaves`` maps each input name to its Value; numbers become Constants, so the
    result is always a Value whose graph a diagram can show."""
    known = dict(leaves)

    def walk(node: ast.AST) -> Value:
        if isinstance(node, ast.Constant):
            return Constant(node.value)
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise ExpressionError(f"{node.id} is a function: call it, as in {node.id}(x)")
            if node.id not in known:
                raise ExpressionError(f"no value for {node.id!r}: add {node.id}=<number>")
            return known[node.id]
        if isinstance(node, ast.BinOp):
            return _BINARY[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.operand, ast.Constant):   # -1 is a number, as in x ** -1
                value = node.operand.value
                return Constant(-value if isinstance(node.op, ast.USub) else value)
            operand = walk(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.Call):
            return FUNCTIONS[node.func.id](*map(walk, node.args))  # type: ignore[attr-defined]
        raise ExpressionError(f"{type(node).__name__} not allowed in a formula")  # unreachable

    result = None
    for name, expression in formula.steps:
        for node in ast.walk(expression):   # formulas not from parse_formula are checked too
            _check_node(node)
        result = walk(expression)
        if name is not None:
            if all(result is not value for value in known.values()):  # a new node, not z = x
                result.label = formula.spelled(name)
            known[name] = result
    assert result is not None
    return result


def parse_assignments(pairs: Sequence[str]) -> dict[str, float]:
    """``["x=0.5", "w=-1.2"]`` → ``{"x": 0.5, "w": -1.2}``, with a clear error for
    a malformed pair, a name used twice, a function's name or a bad number."""
    values: dict[str, float] = {}
    seen: dict[str, str] = {}                     # Python's name → as first written
    for pair in pairs:
        name, sep, number = pair.partition("=")
        name = name.strip()
        if not sep:
            raise ExpressionError(f"{pair!r} is not name=value (for example x=0.5)")
        key = python_name(name)
        if key is None:
            raise ExpressionError(f"{name!r} in {pair!r} is not a valid name")
        if key in FUNCTIONS:
            raise ExpressionError(f"{name!r} is a function and cannot be given a value")
        if key in seen:
            also = "" if seen[key] == name else f" (as {seen[key]!r}: one name to Python)"
            raise ExpressionError(f"{name!r} is given a value twice{also}")
        seen[key] = name
        try:
            value = float(number)
        except ValueError:
            raise ExpressionError(f"{number.strip()!r} (for {name}) is not a number") from None
        if not math.isfinite(value):
            raise ExpressionError(f"{name}={number.strip()}: the value must be finite")
        values[name] = value
    return values


def build(text: str, values: dict[str, float]) -> tuple[Value, dict[str, Value]]:
    """Parse ``text`` and evaluate it at ``values``: the output and its named leaves,
    by Python's name (:func:`python_name`), each labelled as the formula spells it.

    Every input name of the formula needs a value, and every value an input name."""
    formula = parse_formula(text)
    names = formula.inputs
    for name in names:
        if name in FUNCTIONS:
            raise ExpressionError(f"{name} is a function: call it, as in {name}(x)")
    given: dict[str, str] = {}                      # Python's name → as the value names it
    for written in values:
        key = python_name(written) or written
        if key in given:
            raise ExpressionError(f"{written!r} is given a value twice (as {given[key]!r}: "
                                  f"one name to Python)")
        given[key] = written
    steps = [formula.spelled(name) for name, _ in formula.steps if name in given]
    if steps:
        raise ExpressionError(f"{', '.join(map(repr, steps))} is a step of the formula, "
                              f"computed from the others: give it no value")
    missing = [formula.spelled(n) for n in names if n not in given]
    if missing:
        hint = " ".join(f"{n}=<number>" for n in missing)
        raise ExpressionError(f"no value for {', '.join(map(repr, missing))}: add {hint}")
    unused = [written for key, written in given.items() if key not in names]
    if unused:
        raise ExpressionError(f"the formula does not use {', '.join(map(repr, unused))}")
    leaves = {name: Value(values[given[name]], label=formula.spelled(name)) for name in names}
    return evaluate(formula, leaves), leaves


# ---- the subcommands ---------------------------------------------------------------
class CommandFailed(Exception):
    """A command ran but its answer is "no" (a failed check) or the maths failed."""


def _build_from(args: argparse.Namespace) -> tuple[Value, dict[str, Value]]:
    try:
        return build(args.formula, parse_assignments(args.values))
    except (ArithmeticError, ValueError) as error:
        if isinstance(error, ExpressionError):
            raise
        raise CommandFailed(f"cannot evaluate the formula: {error}") from None


def _output_format(path: str, fmt: str | None) -> str:
    """The format ``-o path`` (and ``--format``) asks for, checked before any work:
    a missing suffix or a format Graphviz does not write is a usage error."""
    from .dot import output_format
    try:
        return output_format(path, fmt, f"-o {path}")
    except ValueError as error:
        raise ExpressionError(str(error)) from None


def _write_diagram(diagram: Any, path: str, fmt: str | None) -> None:
    """Write a graphviz diagram to ``path`` in ``fmt`` (default: the suffix)."""
    import graphviz

    from .dot import DotNotFoundError
    try:
        diagram.write(path, _output_format(path, fmt))
    except (DotNotFoundError, graphviz.ExecutableNotFound):
        raise CommandFailed("graphviz's `dot` program is not installed (Debian/Ubuntu: "
                            "apt-get install graphviz); -o FILE.dot writes the DOT "
                            "source without it") from None
    except graphviz.CalledProcessError as error:
        raise CommandFailed(f"dot cannot write {path}: {error}") from None
    except OSError as error:
        raise CommandFailed(f"cannot write {path}: {error.strerror}") from None


def cmd_graph(args: argparse.Namespace) -> int:
    """Draw the formula's graph after a backward pass.

    A gradient that overflows raises the engine's OverflowError, which ``main``
    reports with exit status 1."""
    if args.output is not None:
        _output_format(args.output, args.format)
    output, _ = _build_from(args)
    output.backward()
    from .dot import draw_dot
    diagram = draw_dot(output, rankdir=args.rankdir)
    if args.output is None:
        print(diagram.source, end="")
        return 0
    _write_diagram(diagram, args.output, args.format)
    print(f"wrote {args.output}: output = {output.data:.6g}")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """Print ∂output/∂wrt as a sum over paths of products of local gradients, and
    what any short id in it (``v1``) stands for."""
    output, leaves = _build_from(args)
    wrt = leaves.get(python_name(args.wrt) or args.wrt)
    if wrt is None:
        known = ", ".join(leaf.label for leaf in leaves.values()) or "none"
        raise ExpressionError(f"--wrt {args.wrt}: not a name in the formula (names: {known})")
    from .explain import explain
    explanation = explain(output, wrt)
    text = {"markdown": explanation.markdown, "latex": explanation.latex}.get(
        args.format, explanation.__str__)()
    print(text)
    if args.format == "latex":                # the text forms say it on their last lines
        for name, term in explanation.where.items():
            print(f"% where {name} = {term}")
    if not math.isfinite(explanation.total):
        # The factors above show where it happened; the number itself is no gradient.
        raise CommandFailed(f"{explanation.gradient_name} = {explanation.total} is no usable "
                            f"gradient: a local derivative overflowed a float or is undefined")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Compare backward's gradients with central finite differences: engine.check's
    table (input, backward, finite diff, |difference|, ✗ on a failing row) under a
    title naming the point, then a one-line verdict.

    A row fails gradcheck's test, engine.check.close: |backward − finite diff| >
    atol + rtol·|finite diff|."""
    output, leaves = _build_from(args)
    if not leaves:
        raise ExpressionError("the formula has no names, so it has no gradient to check: "
                              "check one with a name and a value for it, e.g. "
                              "chaingrad check \"3*x\" x=2")
    from engine.check import close, table
    names = list(leaves)
    inputs = [leaves[n] for n in names]
    formula = parse_formula(args.formula)

    def f(*values: Value) -> Value:
        return evaluate(formula, dict(zip(names, values)))

    output.backward()
    try:
        numeric = numerical_grad(f, inputs, eps=args.eps)
    except (ArithmeticError, ValueError) as error:
        raise CommandFailed(f"cannot take finite differences (eps={args.eps:g}): "
                            f"{error}{_eps_hint(f, inputs, args.eps)}") from None
    rows = [(value.label, value.grad, estimate) for value, estimate in zip(inputs, numeric)]
    point = ", ".join(f"{value.label}={value.data:g}" for value in inputs)
    print(table(f"{args.formula.strip()} at {point}:", rows, ("backward", "finite diff"),
                args.atol, args.rtol))
    failed = [name for name, a, b in rows if not close(a, b, args.atol, args.rtol)]
    tolerances = f"eps={args.eps:g}, atol={args.atol:g}, rtol={args.rtol:g}"
    if failed:
        raise CommandFailed(f"gradient check FAILED for {', '.join(failed)}: |backward − "
                            f"finite diff| > atol + rtol·|finite diff| ({tolerances})")
    print(f"gradient check passed ({tolerances})")
    return 0


def _eps_hint(f: Callable[..., Value], inputs: list[Value], eps: float) -> str:
    """What to say after finite differences failed at x ± eps: suggest a smaller
    --eps only when one (eps/1000) actually works, else say what the method needs."""
    smaller = eps / 1000
    if smaller > 0.0:
        try:
            numerical_grad(f, inputs, eps=smaller)
        except (ArithmeticError, ValueError):
            pass
        else:
            return f"; try a smaller --eps (--eps {smaller:g} works here)"
    return ("; central differences need the formula defined at x ± eps, and a smaller "
            "--eps does not help here")


@dataclass(frozen=True)
class Demo:
    """A toy problem the ``demo`` command trains on, with the lessons' settings."""

    nouts: tuple[int, ...]
    activation: str
    loss: str
    optimizer: str
    lr: float
    steps: int
    seed: int
    target_loss: float


DEMOS = {
    # The lessons' exercise: 2 → 2 → 1, ReLU hidden, sigmoid out, SGD lr 0.5, 5000
    # steps, loss below 0.01. Many seeds get stuck (a dead ReLU); seed 4 trains.
    "xor": Demo((2, 1), "relu", "mse", "SGD", 0.5, 5000, 4, 0.01),
    "moons": Demo((8, 8, 1), "relu", "bce", "Adam", 0.05, 100, 0, 0.05),
}


def cmd_demo(args: argparse.Namespace) -> int:
    """Train an MLP on a toy data set with nn.fit and report loss and accuracy."""
    import nn

    if args.output:
        _output_format(args.output, args.format)
    demo = DEMOS[args.dataset]
    seed = demo.seed if args.seed is None else args.seed
    steps = demo.steps if args.steps is None else args.steps
    if steps < 1:
        raise ExpressionError(f"--steps must be at least 1, got {steps}")
    X, y = nn.datasets.xor() if args.dataset == "xor" else nn.datasets.moons(100, 0.1, seed=seed)
    model = nn.MLP(2, list(demo.nouts), activation=demo.activation,
                   output_activation="sigmoid", seed=seed)
    optimizer = (nn.SGD(model.parameters(), lr=demo.lr) if demo.optimizer == "SGD"
                 else nn.Adam(model.parameters(), lr=demo.lr))
    print(f"{args.dataset}: {len(X)} points, {model!r}, seed {seed}")
    print(f"{demo.loss} loss, {demo.optimizer} lr {demo.lr:g}, {steps} full-batch steps")
    history = nn.fit(model, X, y, demo.loss, optimizer, epochs=steps, progress=False)
    print(f"{'step':>6}  {'loss':>10}  {'accuracy':>8}")
    shown = sorted({1, *range(steps // 5, steps + 1, max(steps // 5, 1)), steps})
    for step in shown:
        acc = history.accuracy[step - 1]
        acc_text = "" if acc is None else f"{acc:.0%}"
        print(f"{step:>6}  {history.loss[step - 1]:>10.4g}  {acc_text:>8}")
    predictions = nn.predict(model, X)
    final = nn.accuracy(predictions, y)
    if args.dataset == "xor":
        print("\n x1  x2  target      ŷ")
        for (x1, x2), target, p in zip(X, y, predictions):
            print(f"{x1:>3g} {x2:>3g}  {target:>6}  {p:>6.3f}")
    print(f"\nafter training: accuracy {final:.0%}, loss {history.loss[-1]:.4g}")
    if history.loss[-1] < demo.target_loss:
        print(f"trained: loss below {demo.target_loss:g}")
    else:
        print(f"not trained: loss is not below {demo.target_loss:g}. Small nets can get stuck "
              f"(a ReLU that never fires, or an unlucky start), as the lessons warn: "
              f"try another --seed or more --steps")
    if args.output:
        example, target = X[len(X) // 2], y[len(X) // 2]
        loss = getattr(nn, demo.loss)(model(example), float(target))
        loss.backward()
        from .network import draw_network
        _write_diagram(draw_network(model), args.output, args.format)
        shown = ", ".join(f"{v:.3g}" for v in example)
        print(f"wrote {args.output}: the network at x = ({shown}), y = {target} "
              f"(δ from one backward pass of its {demo.loss} loss)")
    return 0


# ---- argument parsing ------------------------------------------------------------------
_FORMULA_HELP = (f"a formula in x, w, … using numbers, + - * / **, unary minus and "
                 f"{' '.join(ARITY)}, e.g. \"tanh(x*w + b)\" (quote it)")
_VALUES_HELP = "a value for every name in the formula, as name=number (e.g. x=0.5 w=-1.2)"


def _add_formula(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("formula", help=_FORMULA_HELP)
    parser.add_argument("values", nargs="*", metavar="NAME=VALUE", help=_VALUES_HELP)


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    """argparse type for --eps: a finite number > 0 (a bad one is exit status 2)."""
    value = _finite_float(text)
    if value <= 0.0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}")
    return value


def _tolerance(text: str) -> float:
    """argparse type for --atol/--rtol: a finite number ≥ 0 (0 turns that term off,
    as in engine.gradcheck)."""
    value = _finite_float(text)
    if value < 0.0:
        raise argparse.ArgumentTypeError(f"must be a number ≥ 0, got {text!r}")
    return value


def make_parser() -> argparse.ArgumentParser:
    """The argument parser for ``chaingrad`` and its four subcommands."""
    parser = argparse.ArgumentParser(
        prog="chaingrad",
        description="Draw, explain and check the gradient of a formula, or train a toy "
                    "network. Formulas are parsed, never eval'd: only numbers, names, "
                    f"+ - * / **, unary minus and {' '.join(ARITY)} are allowed.",
        epilog="Options and NAME=VALUE pairs may come in any order. "
               "exit status: 0 ok, 1 failed check or maths error, 2 usage error")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    graph = commands.add_parser(
        "graph", help="draw the computation graph with values and gradients",
        description="Evaluate the formula, run backward, and draw its graph (every node's "
                    "value and gradient). Without -o the DOT source goes to stdout.")
    _add_formula(graph)
    graph.add_argument("-o", "--output", metavar="FILE",
                       help="write the drawing here; the format comes from the suffix "
                            "(.svg .png .pdf, or .dot/.gv for the DOT source)")
    graph.add_argument("--format", help="output format, overriding the file's suffix")
    graph.add_argument("--rankdir", choices=RANKDIRS, default="LR",
                       help="direction of the drawing (default: LR, inputs on the left)")
    graph.set_defaults(run=cmd_graph)

    explain = commands.add_parser(
        "explain", help="write a gradient as a sum over paths (the chain rule)",
        description="Write ∂output/∂NAME as a sum over every path from NAME to the output "
                    "of the product of the local gradients along it, each factor named "
                    "and valued.")
    _add_formula(explain)
    explain.add_argument("--wrt", required=True, metavar="NAME",
                         help="the name to differentiate with respect to")
    explain.add_argument("--format", choices=["text", "markdown", "latex"], default="text",
                         help="how to write it (default: text)")
    explain.set_defaults(run=cmd_explain)

    check = commands.add_parser(
        "check", help="compare backward with finite differences",
        description="Compute every input's gradient by backward and by central finite "
                    "differences, print both, and exit 1 if they disagree.")
    _add_formula(check)
    check.add_argument("--eps", type=_positive_float, default=1e-6,
                       help="finite-difference step, a number > 0 (default: 1e-6)")
    check.add_argument("--atol", type=_tolerance, default=1e-5,
                       help="absolute tolerance, a number ≥ 0 (default: 1e-5)")
    check.add_argument("--rtol", type=_tolerance, default=1e-3,
                       help="relative tolerance, a number ≥ 0 (default: 1e-3)")
    check.set_defaults(run=cmd_check)

    demo = commands.add_parser(
        "demo", help="train a small network on xor or moons",
        description="Train an MLP on a toy data set with chaingrad's nn and print the loss "
                    "and accuracy. xor: the lessons' 2 → 2 → 1 exercise (ReLU hidden, "
                    "sigmoid out, mse, SGD lr 0.5, 5000 steps). moons: 100 noisy points, "
                    "2 → 8 → 8 → 1, binary cross-entropy, Adam lr 0.05.")
    demo.add_argument("dataset", choices=["xor", "moons"], help="which data set")
    demo.add_argument("--seed", type=int, default=None,
                      help="random seed for the weights (and the moons points); default: "
                           "4 for xor (a seed where 2 → 2 → 1 trains: many get stuck), "
                           "0 for moons")
    demo.add_argument("--steps", type=int, default=None,
                      help="full-batch training steps (default: 5000 for xor, 100 for moons)")
    demo.add_argument("-o", "--output", metavar="FILE",
                      help="also draw the trained network (draw_network) to FILE")
    demo.add_argument("--format", help="output format, overriding the file's suffix")
    demo.set_defaults(run=cmd_demo)
    return parser


_OPTION = re.compile(r"-[ho]|--|--[a-z][a-z-]*(=.*)?", re.S)
_VALUED_OPTIONS = {"-o", "--output", "--format", "--rankdir", "--wrt", "--eps", "--atol",
                   "--rtol", "--seed", "--steps"}


def _protect_leading_minus(argv: Sequence[str]) -> list[str]:
    """Let a formula start with a minus (``chaingrad check "-x*w" …``): argparse would
    take it for an option, so such a word gets a leading space (parse_formula strips
    it). Real options (``-h``, ``-o``, ``--…``) and option values are left alone."""
    protected = []
    for index, word in enumerate(argv):
        previous = argv[index - 1] if index else ""
        if (word.startswith("-") and not _OPTION.fullmatch(word)
                and previous not in _VALUED_OPTIONS):
            word = " " + word
        protected.append(word)
    return protected


def _version() -> str:
    """The installed distribution's version (pyproject.toml's)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("chaingrad")
    except PackageNotFoundError:
        return "(version unknown: chaingrad is not installed; pip install -e .)"


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    """The command line as a Namespace, options and NAME=VALUE pairs in any order:
    ``graph "x*w" -o g.svg x=1 w=2`` is ``graph "x*w" x=1 w=2 -o g.svg``. argparse
    stops filling NAME=VALUE at the first option; the words it leaves over are the
    rest of them (an unknown option among them is still a usage error)."""
    parser = make_parser()
    args, extra = parser.parse_known_args(_protect_leading_minus(argv))
    takes_values = hasattr(args, "values")
    stray = [word for word in extra if word.startswith("-") or not takes_values]
    if stray:
        parser.error(f"unrecognized arguments: {' '.join(stray)}")
    if extra:
        args.values = [*args.values, *extra]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    prog = f"chaingrad {args.command}"
    try:
        status = args.run(args)
        sys.stdout.flush()                  # here, so a closed pipe is caught below
        return status
    except BrokenPipeError:
        # The reader stopped reading (| head): no traceback, as the Python docs advise.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except ExpressionError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    except (CommandFailed, ArithmeticError, ValueError) as error:
        # CommandFailed: a failed check; ArithmeticError/ValueError: the engine's
        # maths errors (log of 0, an overflowing gradient), reported by its message.
        sys.stdout.flush()                  # the table first, then the verdict under it
        print(f"{prog}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
