"""The op table in JavaScript: its fifth interpreter, for the live pages.

Each row's forward rule, local rules and domain rule are written as JavaScript from
the parsed rule (the same ``ast`` trees ``engine/rules.py`` renames), so a new row
needs no change here. A function a rule calls is mapped by what it is, not by op:
a function of Python's ``math`` module becomes the function of JavaScript's ``Math``
of the same name (``math.atan2`` → ``Math.atan2``), the builtins ``abs`` and
``round`` their twins, and the few helpers ``engine/ops.py`` defines (the stable
``sigmoid``, ``sign``, the ``log`` and ``exp`` of floats or Values) one small
JavaScript twin each. A rule that calls anything else, or uses syntax with no
JavaScript spelling here, is refused when the page is made, naming it
(:class:`NotInJavaScript`).

JavaScript's arithmetic is IEEE's, as Python's is, but Python refuses some numbers
that JavaScript lets through: ``x / 0`` and ``0 ** −1`` are ``ZeroDivisionError``
(JavaScript: ``Infinity``), ``math.log(−1)`` is a ``ValueError`` and
``math.exp(1000)`` an ``OverflowError`` (JavaScript: ``NaN``, ``Infinity``). So a
rule's ``/`` and ``**`` become calls of the runtime's (:data:`RUNTIME`) functions that
refuse what Python refuses, its ``Math`` is wrapped the same way, and the runtime runs
a graph as the engine does:
``forward`` replays the recorded ops in ``order`` (domain rule, forward rule, the
local rules recorded as numbers, ``inf`` where a rule fails), ``sweep`` is
engine/autograd.py's loop (each node passes local · δ to each input), and a refused
number gets the engine's own message, built from the row (``outside``) and
engine/value.py's wording. Numbers are written as Python writes them (``repr``,
``%g``, ``display_number``), so messages and labels read the same in both.

Where the results can differ: JavaScript's ``Math.exp``, ``Math.log``,
``Math.tanh``, ``**`` … are not the C library's functions Python calls, so a value
may differ in its last bit (well within 1e-12 relative); ``+ − × ÷`` and comparisons
are bit-identical.
"""

from __future__ import annotations

import ast
import builtins
import math
from typing import Any, Callable, Iterable, Mapping

from engine import OPS, Op, ops
from engine.rules import render

from .page import fill, json_for_script

__all__ = ["NotInJavaScript", "MATH_FUNCTIONS", "to_javascript", "op_table", "call_templates",
           "python_messages", "RUNTIME", "runtime"]


class NotInJavaScript(ValueError):
    """A rule calls a function, or uses syntax, that the page cannot write in JavaScript."""


#: Functions of Python's ``math`` that JavaScript's ``Math`` has, with the same meaning.
MATH_FUNCTIONS = frozenset({
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "cbrt", "ceil", "cos", "cosh",
    "exp", "expm1", "floor", "hypot", "log", "log10", "log1p", "log2", "sin", "sinh", "sqrt",
    "tan", "tanh", "trunc"})

#: The JavaScript twin of each function that is not a ``math`` one (the runtime's ``T``;
#: the float side of engine/ops.py's ``log`` and ``exp`` is math.log's and math.exp's).
_TWINS: dict[Callable[..., Any], str] = {
    ops.sigmoid: "T.sigmoid", ops.sign: "T.sign", ops.log: "M.log", ops.exp: "M.exp",
    builtins.abs: "Math.abs", builtins.round: "T.round"}

_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}
_CALLED_OPERATORS = {ast.Div: "T.div", ast.Pow: "T.pow"}    # Python refuses x / 0, 0 ** −1
_COMPARISONS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "===",
                ast.NotEq: "!=="}
_UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Not: "!"}
_BOOLEAN = {ast.And: "&&", ast.Or: "||"}


def _function(name: str, namespace: Mapping[str, Any], where: str) -> str:
    """The JavaScript that calls what ``name`` is in the rule's namespace."""
    function = namespace.get(name, getattr(builtins, name, None))
    twin = _TWINS.get(function) if function is not None else None
    if twin is not None:
        return twin
    if getattr(function, "__module__", None) == "math" and \
            getattr(function, "__name__", None) in MATH_FUNCTIONS:
        return f"M.{function.__name__}"
    raise NotInJavaScript(
        f"{where} calls {name}, which has no JavaScript twin: JavaScript's Math has "
        f"{', '.join(sorted(MATH_FUNCTIONS))}; another function needs a twin in "
        f"viz/javascript.py")


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "(-Infinity)"
    return repr(value) if isinstance(value, int) else repr(number)


def _js(node: ast.expr, variables: frozenset[str], namespace: Mapping[str, Any],
        where: str) -> str:
    """``node`` as a JavaScript expression, fully parenthesised (so ``-a ** b``, a
    syntax error in JavaScript, never appears: ``**`` is written as ``T.pow``)."""
    def js(child: ast.expr) -> str:
        return _js(child, variables, namespace, where)

    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return _number(node.value)
    if isinstance(node, ast.Name):
        if node.id in variables:
            return node.id
        value = namespace.get(node.id)
        if isinstance(value, (int, float)):        # a number the namespace names (pi)
            return _number(value)
        raise NotInJavaScript(f"{where} uses the name {node.id!r}, which is not one of "
                              f"{', '.join(sorted(variables))}")
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return f"({js(node.left)} {_OPERATORS[type(node.op)]} {js(node.right)})"
    if isinstance(node, ast.BinOp) and type(node.op) in _CALLED_OPERATORS:
        return f"{_CALLED_OPERATORS[type(node.op)]}({js(node.left)}, {js(node.right)})"
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return f"({_UNARY[type(node.op)]}{js(node.operand)})"
    if isinstance(node, ast.BoolOp) and type(node.op) in _BOOLEAN:
        return "(" + f" {_BOOLEAN[type(node.op)]} ".join(map(js, node.values)) + ")"
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARISONS for op in node.ops):
        operands = [node.left, *node.comparators]
        parts = [f"({js(left)} {_COMPARISONS[type(op)]} {js(right)})"
                 for left, op, right in zip(operands, node.ops, operands[1:])]
        return parts[0] if len(parts) == 1 else "(" + " && ".join(parts) + ")"
    if isinstance(node, ast.IfExp):
        return f"({js(node.test)} ? {js(node.body)} : {js(node.orelse)})"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords \
            and not any(isinstance(arg, ast.Starred) for arg in node.args):
        function = _function(node.func.id, namespace, where)
        return f"{function}({', '.join(map(js, node.args))})"
    raise NotInJavaScript(f"{where} uses {ast.unparse(node)!r}, which viz/javascript.py "
                          f"cannot write in JavaScript")


def to_javascript(op: Op, rule: str, kind: str) -> str:
    """``rule`` of ``op`` as a JavaScript expression over ``a``, ``b`` (and ``out``,
    for a ``kind="local"`` rule; ``"forward"`` and ``"domain"`` rules call the
    functions of ``FORWARD_NAMES``, local rules those of ``LOCAL_NAMES``, as in
    engine/ops.py). A :class:`NotInJavaScript` error names what it cannot write."""
    variables = frozenset("ab"[: op.arity]) | ({"out"} if kind == "local" else set())
    namespace = ops.LOCAL_NAMES if kind == "local" else ops.FORWARD_NAMES
    where = f"op {op.name!r}: its {kind} rule {rule!r}"
    try:
        tree = ast.parse(rule, mode="eval").body
    except SyntaxError as error:
        raise NotInJavaScript(f"{where} is not an expression: {error}") from None
    return _js(tree, variables, namespace, where)


#: Stand-ins for the operands while a message's template is written (see call_templates).
_SENTINELS = {"a": 7.77e-111, "b": 8.88e-222}


def call_templates(op: Op) -> list[str]:
    """The op's forward rule with its operands written in, as engine/value.py's messages
    write it (``log(-1.0)``, ``(-2.0) ** 0.5``), with ``__a__``/``__b__`` for the
    operands' Python ``repr`` (of their size: the sign is written in). One template per
    pattern of signs: index 1 when a is negative (−0.0 too), + 2 when b is, since a
    negative number changes the parentheses around it."""
    slots = "ab"[: op.arity]
    templates = []
    for pattern in range(2 ** op.arity):
        numbers = {s: -_SENTINELS[s] if pattern >> i & 1 else _SENTINELS[s]
                   for i, s in enumerate(slots)}
        text = render(op.forward_rule, numbers)
        for s in slots:
            text = text.replace(repr(_SENTINELS[s]), f"__{s}__")
        templates.append(text)
    return templates


def op_table(rows: Iterable[Op] | None = None) -> str:
    """JavaScript source for ``const OPS = {…}``: each row (default: every row of
    ``engine.OPS``) with its rules as functions, its domain, its words and its
    message templates."""
    entries = []
    for op in (OPS.values() if rows is None else rows):
        args = ", ".join("ab"[: op.arity])
        forward = to_javascript(op, op.forward_rule, "forward")
        local = ", ".join(to_javascript(op, rule, "local") for rule in op.local_rules)
        domain = (f"({args}) => {to_javascript(op, op.domain, 'domain')}" if op.domain
                  else "null")
        words = json_for_script({"name": op.name, "outside": op.outside,
                                 "call": call_templates(op)})
        entries.append(f"  {json_for_script(op.name)}: Object.assign({words}, {{arity: "
                       f"{op.arity}, forward: ({args}) => {forward}, local: ({args}, out) => "
                       f"[{local}], defined: {domain}}})")
    return "const OPS = {\n" + ",\n".join(entries) + "\n};\n"


def python_messages() -> dict[str, str]:
    """What this Python says when it refuses ``x / 0`` and ``0.0 ** −1`` (the
    engine's messages quote it, and its wording changes between versions)."""
    said = {}
    for key, compute in (("division", lambda: 1.0 / 0.0), ("power", lambda: 0.0 ** -1.0)):
        try:
            compute()
        except ZeroDivisionError as error:
            said[key] = str(error)
    return said


# ---- the runtime -------------------------------------------------------------------------
#: The engine in JavaScript, apart from the rows: Python's float semantics where
#: JavaScript's differ (T, M), numbers as Python writes them, and a graph's forward
#: replay and backward sweep with the engine's refusals. ``__PYTHON__`` is filled with
#: :func:`python_messages`, ``__MATH__`` with :data:`MATH_FUNCTIONS`.
RUNTIME = r"""
// ---- Python's arithmetic where JavaScript's differs ------------------------------------
class Refusal extends Error {                 // a number Python (so the engine) refuses
  constructor(kind, reason) { super(reason); this.kind = kind; this.reason = reason; }
}
const PYTHON = __PYTHON__;
const T = {
  div(x, y) {                                 // x / 0 is a ZeroDivisionError in Python
    if (y === 0) throw new Refusal("zero", PYTHON.division);
    return x / y;
  },
  pow(x, y) {                                 // float ** float, as Python does it
    if (x === 0 && y < 0) throw new Refusal("zero", PYTHON.power);
    const r = x ** y;
    if (Number.isNaN(r) && !Number.isNaN(x) && !Number.isNaN(y))
      throw new Refusal("domain", "math domain error");
    if (!Number.isFinite(r) && Number.isFinite(x) && Number.isFinite(y))
      throw new Refusal("overflow", "math range error");
    return r;
  },
  round(x) {                                  // Python's round: halves to even
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
  },
  sigmoid(a) {                                // engine/ops.py's sigmoid, step for step
    if (a >= 0.0) return 1.0 / (1.0 + Math.exp(-a));
    const e = Math.exp(a);
    return e / (1.0 + e);
  },
  sign(x) { return x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : 0.0; },
};
// Python's math functions refuse NaN from numbers (ValueError) and overflow
// (OverflowError); a pole (log 0) is a domain error there too.
const POLES = new Set(["log", "log10", "log2", "log1p", "atanh"]);
const M = {};
for (const name of __MATH__) {
  const f = Math[name];
  M[name] = (...args) => {
    const r = f(...args);
    if (Number.isNaN(r) && !args.some(Number.isNaN))
      throw new Refusal("domain", "math domain error");
    if (!Number.isFinite(r) && !Number.isNaN(r) && args.every(Number.isFinite))
      throw POLES.has(name) ? new Refusal("domain", "math domain error")
                            : new Refusal("overflow", "math range error");
    return r;
  };
}

// ---- numbers as Python writes them -----------------------------------------------------
function shortestDigits(x) {                  // repr's digits: [digits, exponent of the 1st]
  let [mantissa, e = "0"] = String(Math.abs(x)).split("e");
  let [whole, fraction = ""] = mantissa.split(".");
  let digits = whole + fraction, exponent = whole.length - 1 + Number(e);
  const zeros = digits.match(/^0*/)[0].length;
  digits = digits.slice(zeros).replace(/0+$/, "");
  return [digits || "0", exponent - zeros];
}
function negative(x) { return x < 0 || Object.is(x, -0); }
function pyRepr(x) {                          // Python's repr of a float
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const sign = negative(x) ? "-" : "";
  if (x === 0) return sign + "0.0";
  const [digits, e] = shortestDigits(x);
  if (-4 <= e && e < 16) return sign + fixed(digits, e, true);
  return sign + scientific(digits, e);
}
function fixed(digits, e, point) {            // d.ddd × 10^e in positional notation
  let whole, fraction;
  if (e >= 0) {
    whole = digits.slice(0, e + 1).padEnd(e + 1, "0");
    fraction = digits.slice(e + 1);
  } else {
    whole = "0";
    fraction = "0".repeat(-e - 1) + digits;
  }
  fraction = fraction.replace(/0+$/, "");
  return fraction ? whole + "." + fraction : point ? whole + ".0" : whole;
}
function scientific(digits, e) {
  const mantissa = digits.length > 1 ? digits[0] + "." + digits.slice(1) : digits;
  return mantissa + "e" + (e < 0 ? "-" : "+") + String(Math.abs(e)).padStart(2, "0");
}
function roundedDigits(x, p) {                // p significant digits, halves to even, exact
  const [m, e] = Math.abs(x).toExponential(99).split("e");
  const all = m.replace(".", "");
  let head = all.slice(0, p), exponent = Number(e);
  const rest = all.slice(p);
  const up = rest[0] > "5" || (rest[0] === "5" &&
    (/[1-9]/.test(rest.slice(1)) || Number(head[head.length - 1]) % 2 === 1));
  if (up) {
    const bumped = (BigInt(head) + 1n).toString();
    if (bumped.length > head.length) exponent += 1;
    head = bumped.slice(0, p);
  }
  return [head, exponent];
}
function formatG(x, p) {                      // Python's f"{x:.{p}g}"
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  p = Math.min(Math.max(p, 1), 99);
  const sign = negative(x) ? "-" : "";
  if (x === 0) return sign + "0";
  const [digits, e] = roundedDigits(x, p);
  const kept = digits.replace(/0+$/, "") || "0";
  if (-4 <= e && e < p) return sign + fixed(kept, e, false);
  return sign + scientific(kept, e);
}
const SUPERSCRIPT = {"0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶",
                     "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻"};
function displayNumber(x, p) {                // viz.notation.display_number
  let text = x === 0 ? "0" : formatG(x, p);
  if (text.includes("e")) {
    const [mantissa, exponent] = text.split("e");
    const power = String(Number(exponent)).replace(/./g, c => SUPERSCRIPT[c]);
    text = mantissa === "1" ? "10" + power : mantissa === "-1" ? "-10" + power
         : mantissa + "×10" + power;
  }
  return text.replace(/-/g, "−");
}

// ---- a graph, run as the engine runs it -------------------------------------------------
// graph.nodes: in engine.order (inputs first, the output last), each {op: row name or
// null, inputs: [indices], label, labelRepr}. Refusals carry the engine's message.
function describe(graph, values, inputs) {    // engine.errors.describe
  return inputs.map((i, k) => {
    const node = graph.nodes[i];
    const shown = node.label && node.label !== formatG(values[i], 6)
      ? " (" + node.labelRepr + ")" : "";
    return "ab"[k] + " = " + pyRepr(values[i]) + shown;
  }).join(", ");
}
function call(row, datas) {                   // the forward rule with the numbers written in
  const pattern = datas.reduce((bits, x, k) => bits + (negative(x) ? 1 << k : 0), 0);
  return row.call[pattern].replace(/__([ab])__/g,
    (_, s) => pyRepr(Math.abs(datas["ab".indexOf(s)])));
}
function forward(graph, leaves) {             // every value and local gradient, or a Refusal
  const values = [], locals = [];
  graph.nodes.forEach((node, i) => {
    if (node.op === null) { values.push(leaves[i]); locals.push([]); return; }
    const row = OPS[node.op], datas = node.inputs.map(j => values[j]);
    let out;
    try {
      if (row.defined && !row.defined(...datas)) throw new Refusal("domain", row.outside);
      out = row.forward(...datas);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      const reason = error.kind === "domain"
        ? "outside the op's domain (" + (row.outside || error.reason) + ")"
        : error.kind === "overflow" ? "the result overflows a float" : error.reason;
      throw new Refusal(error.kind, row.name + ": cannot compute " + call(row, datas) + ": " +
                        reason + "; inputs: " + describe(graph, values, node.inputs));
    }
    if (out - out !== 0.0 && datas.every(Number.isFinite))
      throw new Refusal("overflow", row.name + ": " + call(row, datas) + " = " + pyRepr(out) +
                        " overflows a float; inputs: " + describe(graph, values, node.inputs));
    let local;
    try { local = row.local(...datas, out); }
    catch (error) {                           // no finite local gradient: recorded as inf
      if (!(error instanceof Refusal)) throw error;
      local = node.inputs.map(() => Infinity);
    }
    values.push(out);
    locals.push(local);
  });
  return {values, locals};
}
function sweep(graph, locals) {               // engine.autograd.sweep, seed 1
  const n = graph.nodes.length, grads = new Array(n).fill(0.0);
  grads[n - 1] = 1.0;
  for (let i = n - 1; i >= 0; i--) {
    const node = graph.nodes[i], g = grads[i];
    if (node.op === null || g === 0.0) continue;
    node.inputs.forEach((j, k) => {
      const before = grads[j], step = locals[i][k] * g;
      grads[j] = before === 0.0 ? step : before + step;
    });
  }
  return grads;
}
// The engine's "run it under engine.detect_anomaly()" is Python advice: here, what to do
// in Python to find the op (a page has no lines of code to point at).
const ANOMALY_ADVICE = "to find the line that made this op, run the code that builds the " +
  "graph in Python under engine.detect_anomaly()";
function refuseNonFinite(graph, values, locals, grads) {   // engine.autograd.refuse_non_finite
  const sums = new Array(graph.nodes.length).fill(0.0);
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i], g = grads[i];
    if (node.op === null || g === 0.0) continue;
    const cameIn = !Number.isFinite(g) || node.inputs.some(j => !Number.isFinite(values[j]));
    node.inputs.forEach((j, k) => {
      const local = locals[i][k], step = local * g, before = sums[j];
      sums[j] = before + step;
      if (Number.isFinite(before + step) || cameIn || !Number.isFinite(before)) return;
      const what = !Number.isFinite(step)
        ? "produced " + pyRepr(step) + " (local gradient " + pyRepr(local) +
          " × upstream gradient " + pyRepr(g) + ")"
        : "made the step " + pyRepr(step) + ", which added to the " + pyRepr(before) +
          " its input already had overflows";
      throw new Refusal("gradient", node.op + ": backward " + what + "; op inputs: " +
        describe(graph, values, node.inputs) + "; " + ANOMALY_ADVICE);
    });
  }
}
function compute(graph, leaves) {             // values, local gradients and gradients
  const {values, locals} = forward(graph, leaves);
  const grads = sweep(graph, locals);
  refuseNonFinite(graph, values, locals, grads);
  return {values, locals, grads};
}
"""


def runtime() -> str:
    """:data:`RUNTIME` with this Python's messages and the ``Math`` functions filled in."""
    return fill(RUNTIME, {"PYTHON": json_for_script(python_messages()),
                          "MATH": json_for_script(sorted(MATH_FUNCTIONS))})
