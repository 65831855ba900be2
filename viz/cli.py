"""The ``chaingrad`` command: draw, explain and check the gradient of a formula.

    chaingrad graph   "tanh(x*w + b)" x=0.5 w=-1.2 b=0.3 -o graph.svg
    chaingrad explain "tanh(x*w + b)" x=0.5 w=-1.2 b=0.3 --wrt w
    chaingrad check   "tanh(x*w + b)" x=0.5 w=-1.2 b=0.3
    chaingrad demo    xor

A formula is never handed to ``eval``. It is parsed with :mod:`ast` and walked by a
small interpreter that knows numbers, names, ``+ - * / **``, unary minus and calls
of the op table's named ops (``exp log relu sigmoid tanh abs``); every other piece
of Python is refused with exit status 2 and a message naming it. Each step of the
walk is a Value op, so the result is a graph whose leaves carry the names given on
the command line.

Exit status: 0 success, 1 a failed gradient check or a maths error (``log(-1)``),
2 a usage error (refused or malformed formula, unknown name, missing or bad value).
"""

from __future__ import annotations

import argparse
import ast
import math
import re
import sys
from dataclasses import dataclass
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


class ExpressionError(ValueError):
    """A formula, or a value given for it, that the command refuses."""


# ---- reading a formula ----------------------------------------------------------
def parse_formula(text: str) -> ast.Expression:
    """Parse ``text`` and check every node against the whitelist (nothing is run).

    Raises ExpressionError saying what is not allowed, and where."""
    if not isinstance(text, str):
        raise TypeError(f"parse_formula: text must be a str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the formula is {len(text)} characters long; "
                              f"the limit is {MAX_LENGTH}")
    if not text.strip():
        raise ExpressionError("the formula is empty")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        where = f" at column {error.offset}" if error.offset else ""
        raise ExpressionError(f"not a valid formula{where}: {error.msg}") from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise ExpressionError(f"not a valid formula: {error or 'nested too deeply'}") from None
    _check_depth(tree.body)
    for node in ast.walk(tree.body):
        _check_node(node, text.strip())
    return tree


def _check_depth(root: ast.AST) -> None:
    """Refuse nesting deeper than MAX_DEPTH, measured without recursion."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(f"the formula nests operations more than {MAX_DEPTH} deep")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _check_node(node: ast.AST, text: str = "") -> None:
    """Refuse ``node`` unless the whitelist allows it; ``text`` (the parsed formula)
    lets a refused operator be pointed at exactly."""
    where = f" (column {node.col_offset + 1})" if hasattr(node, "col_offset") else ""
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
            raise ExpressionError(f"the number {str(value)[:20]}{where} is too large "
                                  f"for a float")
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            symbol = _REFUSED_OPERATORS[type(node.op)].split()[0]
            gap = text[node.left.end_col_offset:node.right.col_offset] if text else ""
            if symbol in gap and node.left.end_lineno == node.right.lineno == 1:
                column = node.left.end_col_offset + gap.index(symbol) + 1
                where = f" (column {column})"           # the operator itself
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
            raise ExpressionError(f"calling {name!r} is not allowed{where}; "
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


def formula_names(tree: ast.Expression) -> list[str]:
    """The variable names a parsed formula uses, in order of first appearance."""
    names: list[str] = []
    callees = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in sorted((n for n in ast.walk(tree) if isinstance(n, ast.Name)),
                       key=lambda n: (n.lineno, n.col_offset)):
        if id(node) not in callees and node.id not in names:
            names.append(node.id)
    return names


def evaluate(tree: ast.Expression, leaves: dict[str, Value]) -> Value:
    """Walk a whitelisted tree (from :func:`parse_formula`), building Value ops.

    ``leaves`` maps each name to its Value; numbers become Constants, so the
    result is always a Value whose graph a diagram can show."""
    def walk(node: ast.AST) -> Value:
        if isinstance(node, ast.Constant):
            return Constant(node.value)
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise ExpressionError(f"{node.id} is a function: call it, as in {node.id}(x)")
            if node.id not in leaves:
                raise ExpressionError(f"no value for {node.id!r}: add {node.id}=<number>")
            return leaves[node.id]
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

    for node in ast.walk(tree.body):     # trees not from parse_formula are checked too
        _check_node(node)
    return walk(tree.body)


def parse_assignments(pairs: Sequence[str]) -> dict[str, float]:
    """``["x=0.5", "w=-1.2"]`` → ``{"x": 0.5, "w": -1.2}``, with a clear error for
    a malformed pair, a name used twice, a function's name or a bad number."""
    values: dict[str, float] = {}
    for pair in pairs:
        name, sep, number = pair.partition("=")
        name = name.strip()
        if not sep:
            raise ExpressionError(f"{pair!r} is not name=value (for example x=0.5)")
        if not name.isidentifier():
            raise ExpressionError(f"{name!r} in {pair!r} is not a valid name")
        if name in FUNCTIONS:
            raise ExpressionError(f"{name!r} is a function and cannot be given a value")
        if name in values:
            raise ExpressionError(f"{name!r} is given a value twice")
        try:
            value = float(number)
        except ValueError:
            raise ExpressionError(f"{number.strip()!r} (for {name}) is not a number") from None
        if not math.isfinite(value):
            raise ExpressionError(f"{name}={number.strip()}: the value must be finite")
        values[name] = value
    return values


def build(text: str, values: dict[str, float]) -> tuple[Value, dict[str, Value]]:
    """Parse ``text`` and evaluate it at ``values``: the output and its named leaves.

    Every name in the formula needs a value, and every value a name in the formula."""
    tree = parse_formula(text)
    names = formula_names(tree)
    for name in names:
        if name in FUNCTIONS:
            raise ExpressionError(f"{name} is a function: call it, as in {name}(x)")
    missing = [n for n in names if n not in values]
    if missing:
        hint = " ".join(f"{n}=<number>" for n in missing)
        raise ExpressionError(f"no value for {', '.join(map(repr, missing))}: add {hint}")
    unused = [n for n in values if n not in names]
    if unused:
        raise ExpressionError(f"the formula does not use {', '.join(map(repr, unused))}")
    leaves = {name: Value(values[name], label=name) for name in names}
    return evaluate(tree, leaves), leaves


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


_TEXT_FORMATS = {"dot", "gv"}


def _write_diagram(diagram: Any, path: str, fmt: str | None) -> None:
    """Write a graphviz diagram to ``path`` in ``fmt`` (default: the suffix)."""
    fmt = fmt or (path.rsplit(".", 1)[-1].lower() if "." in path else "")
    if not fmt:
        raise ExpressionError(f"cannot tell the format of {path!r}: give it a suffix "
                              f"(.svg, .png, .pdf, .dot) or --format")
    if fmt in _TEXT_FORMATS:
        data = diagram.source.encode()
    else:
        import graphviz

        from .dot import DotNotFoundError
        try:
            data = diagram.pipe(format=fmt)
        except (DotNotFoundError, graphviz.ExecutableNotFound):
            raise CommandFailed("graphviz's `dot` program is not installed (Debian/Ubuntu: "
                                "apt-get install graphviz); -o FILE.dot writes the DOT "
                                "source without it") from None
        except (ValueError, graphviz.CalledProcessError) as error:
            raise CommandFailed(f"dot cannot write {fmt!r}: {error}") from None
    try:
        with open(path, "wb") as file:
            file.write(data)
    except OSError as error:
        raise CommandFailed(f"cannot write {path}: {error.strerror}") from None


def cmd_graph(args: argparse.Namespace) -> int:
    """Draw the formula's graph after a backward pass.

    A gradient that overflows raises the engine's OverflowError, which ``main``
    reports with exit status 1."""
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
    """Print ∂output/∂wrt as a sum over paths of products of local gradients."""
    output, leaves = _build_from(args)
    if args.wrt not in leaves:
        known = ", ".join(leaves) or "none"
        raise ExpressionError(f"--wrt {args.wrt}: not a name in the formula (names: {known})")
    from .explain import explain
    explanation = explain(output, leaves[args.wrt])
    if args.format == "markdown":
        print(explanation.markdown())
    elif args.format == "latex":
        print(explanation.latex())
    else:
        print(explanation)
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
    from engine.check import close, table
    names = list(leaves)
    inputs = [leaves[n] for n in names]
    tree = parse_formula(args.formula)

    def f(*values: Value) -> Value:
        return evaluate(tree, dict(zip(names, values)))

    output.backward()
    try:
        numeric = numerical_grad(f, inputs, eps=args.eps)
    except (ArithmeticError, ValueError) as error:
        raise CommandFailed(f"cannot take finite differences (eps={args.eps:g}): "
                            f"{error}{_eps_hint(f, inputs, args.eps)}") from None
    rows = [(name, value.grad, estimate) for name, value, estimate in zip(names, inputs, numeric)]
    point = ", ".join(f"{name}={value.data:g}" for name, value in zip(names, inputs))
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
_FORMULA_HELP = ("a formula in x, w, … using numbers, + - * / **, unary minus and "
                 "exp log relu sigmoid tanh abs, e.g. \"tanh(x*w + b)\" (quote it)")
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
                    "+ - * / **, unary minus and exp log relu sigmoid tanh abs are allowed.",
        epilog="exit status: 0 ok, 1 failed check or maths error, 2 usage error")
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = make_parser()
    args = parser.parse_args(_protect_leading_minus(sys.argv[1:] if argv is None else argv))
    prog = f"chaingrad {args.command}"
    try:
        return args.run(args)
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
