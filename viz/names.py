"""Names for the nodes of a graph, in the lessons' notation.

Every diagram and every explanation speaks of nodes by name, so the names are made
in one place:

* a labelled leaf is called by its label, and an nn label is turned into the
  lessons' symbol (``L1.N2.w3`` → ``w₂₃⁽¹⁾``, ``L2.N1.z`` → ``z₁⁽²⁾``, ``x1`` → ``x₁``);
* a constant is called by its number (``2``), unless it was given a name of its
  own (``Constant(0.9, "y1")``, as nn's losses name their targets): then it is data,
  called by that name (``y₁``) and shown with its value, with no gradient;
* the network's output — the nn activations (or linear pre-activations) of the last
  layer that a loss is computed from — is called ŷ (ŷ₁, ŷ₂, … for several), as
  in the lessons, in every view;
* an unlabelled intermediate is called by a short expression of its inputs' names
  (``x·w``, ``tanh(n)``, ``x·w + b``), or by a short id (``v3``) when the
  expression would be too long to read at a glance.

``role`` sorts nodes into input, parameter, constant, intermediate and output, the
categories diagrams style apart.
"""

from __future__ import annotations

import re
from typing import Iterable

from engine import Value, order

from .arguments import check_count, check_values
from .notation import (
    ATOM,
    SIGN,
    Term,
    display_number,
    format_number,
    infix,
    op_term,
    subscript,
    superscript,
    term,
)

__all__ = ["node_names", "id_definitions", "ids_shown", "lesson_name", "role", "format_number",
           "display_number", "ROLES", "PARAMETER_LABEL", "NEURON_LABEL", "SHORT_ID",
           "is_number", "predictions", "prediction_name", "WEIGHTED_SUM"]

#: The roles a node can play, in the order a legend lists them.
ROLES = ("input", "parameter", "constant", "intermediate", "output")

#: nn's parameter labels: ``L{l}.N{j}.w{k}`` (W⁽ˡ⁾ⱼₖ) and ``L{l}.N{j}.b`` (b⁽ˡ⁾ⱼ).
PARAMETER_LABEL = re.compile(r"^L(\d+)\.N(\d+)\.(?:w(\d+)|b)$")
#: nn's neuron quantities: ``L{l}.N{j}.z`` (pre-activation) and ``L{l}.N{j}.a`` (activation).
NEURON_LABEL = re.compile(r"^L(\d+)\.N(\d+)\.([za])$")
#: The short ids unlabelled nodes get when no expression will do: ``v1``, ``v2``, …
SHORT_ID = re.compile(r"v\d+")
_SHORT_ID_IN_TEXT = re.compile(r"(?<![\w])v\d+(?![\w])")
_INDEXED_LABEL = re.compile(r"^([A-Za-zα-ωΑ-Ω])_?(\d+)$")


def _subscript(*indices: str) -> str:
    """Indices as subscripts; a comma between them only when one has two digits
    (``w₁₂`` is W_12, ``w₁₂,₃`` is W_(12)(3))."""
    sep = "," if any(len(i) > 1 for i in indices) else ""
    return sep.join(subscript(i) for i in indices)


def lesson_name(label: str) -> str | None:
    """The lessons' symbol for an nn label, or None if the label follows no convention.

    ``L2.N1.z`` → ``z₁⁽²⁾``, ``L1.N2.a`` → ``a₂⁽¹⁾``, ``L1.N2.w3`` → ``w₂₃⁽¹⁾``,
    ``L2.N1.b`` → ``b₁⁽²⁾``, and one letter with an index ``x1`` → ``x₁``, ``w_2`` → ``w₂``."""
    if not isinstance(label, str):
        raise TypeError(f"lesson_name: label must be a str, got {type(label).__name__}")
    match = PARAMETER_LABEL.match(label)
    if match:
        layer, neuron, source = match.groups()
        layer_mark = f"⁽{superscript(layer)}⁾"
        if source is None:
            return f"b{_subscript(neuron)}{layer_mark}"
        return f"w{_subscript(neuron, source)}{layer_mark}"
    match = NEURON_LABEL.match(label)
    if match:
        layer, neuron, kind = match.groups()
        return f"{kind}{_subscript(neuron)}⁽{superscript(layer)}⁾"
    match = _INDEXED_LABEL.match(label)
    if match:                                   # x1 → x₁, w_2 → w₂
        return f"{match.group(1)}{_subscript(match.group(2))}"
    return None


def is_number(node: Value) -> bool:
    """Whether ``node`` is a plain number of an expression (an unnamed constant,
    called by its value, such as the ``2`` of ``2 * x``), as opposed to named data (a
    constant with a label, such as a target ``y₁``), which is written by name."""
    return node.is_constant and not node.label


def predictions(root: Value, nodes: list[Value] | None = None) -> list[Value]:
    """The network's outputs ŷ in ``root``'s graph: the nodes with an nn neuron label
    (``L3.N1.a``, or ``L3.N1.z`` for a linear output) of the deepest layer from which
    ``root`` is reached through no other neuron's node (a hidden activation that a
    loss also uses, as a penalty, stays a⁽ˡ⁾ⱼ). None when ``root`` is itself a neuron's
    node (then the graph is a piece of the network, not a loss on its output), and
    none when two of them are neuron j of that layer (two networks' outputs, or a
    neuron's z and a): no two nodes may both be called ŷⱼ."""
    if NEURON_LABEL.match(root.label):
        return []
    nodes = order(root) if nodes is None else nodes
    clear = {root}
    found = []
    for node in reversed(nodes):                    # consumers before their inputs
        if node not in clear:
            continue
        if node is not root and NEURON_LABEL.match(node.label):
            found.append(node)
            continue
        clear.update(node.inputs)
    place = {node: tuple(map(int, NEURON_LABEL.match(node.label).groups()[:2]))  # type: ignore[union-attr]
             for node in found}
    deepest = max((layer for layer, _ in place.values()), default=0)
    found = [node for node in found if place[node][0] == deepest]
    if len({place[node] for node in found}) < len(found):
        return []
    return found


def prediction_name(neuron: int, single: bool) -> str:
    """ŷ for the only output, ŷⱼ for output j of several."""
    return "ŷ" if single else f"ŷ{_subscript(str(neuron))}"


def role(node: Value, root: Value, parameters: Iterable[Value] | None = None) -> str:
    """What ``node`` is in the graph of ``root``: one of :data:`ROLES`.

    * ``output``: ``root`` itself (the loss, or whatever was differentiated);
    * ``constant``: a plain number from an expression (an ``engine.Constant``);
    * ``parameter``: a leaf in ``parameters`` if given, else a leaf whose label is
      an nn parameter name (``L1.N2.w3``, ``L1.N2.b``) — what training changes;
    * ``input``: every other leaf — data the graph is evaluated at;
    * ``intermediate``: every other node an op made.

    Without ``parameters`` a hand-built ``w = Value(0.5, label="w")`` is an input:
    pass ``parameters=[w, b]`` (or ``model.parameters()``) to say otherwise."""
    if not isinstance(node, Value) or not isinstance(root, Value):
        raise TypeError("role: node and root must be Values")
    if node is root:
        return "output"
    if node.op is not None:
        return "intermediate"
    if node.is_constant:
        return "constant"
    if parameters is not None:
        params = parameters if isinstance(parameters, (set, frozenset, dict)) else \
            check_values("role", "parameters", parameters)
        return "parameter" if node in params else "input"
    return "parameter" if PARAMETER_LABEL.match(node.label) else "input"


# ---- a neuron's running sums ---------------------------------------------------------
#: The operators a weighted sum z = Σₖ wₖ·aₖ + b is made of (and a difference, in one
#: written by hand), as ``notation.infix`` reads them off the rows.
WEIGHTED_SUM = frozenset({"+", "-", "*"})


def _running_sums(nodes: list[Value]) -> dict[Value, tuple[int, int, int, list[Value]]]:
    """The partial sums nn's Neuron builds on the way to z⁽ˡ⁾ⱼ = Σₖ wⱼₖ aₖ + bⱼ: each
    unlabelled ``+`` node that adds the products w⁽ˡ⁾ⱼ₁·a₁ … w⁽ˡ⁾ⱼₘ·aₘ, as
    (layer l, neuron j, terms m, the inputs a₁ … aₘ). Found from the labels of z and
    of the weights, so a graph built otherwise is left alone."""
    sums: dict[Value, tuple[int, int, int, list[Value]]] = {}
    for z in nodes:
        match = NEURON_LABEL.match(z.label)
        if not match or match.group(3) != "z" or z.op is None or infix(z.op) != "+":
            continue
        layer, j = int(match.group(1)), int(match.group(2))
        chain, node = [], z.inputs[0]
        while node.op is not None and infix(node.op) == "+" and not node.label:
            chain.append(node)
            node = node.inputs[0]
        products = [node, *(s.inputs[1] for s in reversed(chain))]      # w₁·a₁, w₂·a₂ …
        if all(_is_weighted_input(p, layer, j, k) for k, p in enumerate(products, 1)):
            inputs = [p.inputs[1] for p in products]
            for m, s in enumerate(reversed(chain), 2):
                sums[s] = (layer, j, m, inputs[:m])
    return sums


def _is_weighted_input(node: Value, layer: int, j: int, k: int) -> bool:
    """Whether ``node`` is w⁽ˡ⁾ⱼₖ·aₖ: a product whose first input is that weight."""
    return (node.op is not None and infix(node.op) == "*"
            and node.inputs[0].label == f"L{layer}.N{j}.w{k}")


def _running_sum_name(layer: int, j: int, m: int, input_names: list[str]) -> str:
    """Σ₁ᵐ w⁽ˡ⁾ⱼₖ·aₖ, the first m terms of z⁽ˡ⁾ⱼ: ``Σ₁² w₁ₖ⁽¹⁾·xₖ``. The inputs are
    written as one indexed symbol when their names are one (x₁, x₂ → xₖ), else as
    the lessons' aₖ⁽ˡ⁻¹⁾."""
    first = input_names[0]
    at = first.find(subscript(1))
    prefix, suffix = first[:at], first[at + 1:]
    if at < 0 or any(name != f"{prefix}{subscript(k)}{suffix}"
                     for k, name in enumerate(input_names, 1)):
        prefix, suffix = "a", f"⁽{superscript(layer - 1)}⁾"
    comma = "," if j > 9 else ""
    weight = f"w{subscript(j)}{comma}ₖ⁽{superscript(layer)}⁾"
    return f"Σ{subscript(1)}{superscript(m)} {weight}·{prefix}ₖ{suffix}"


# ---- expressions for unlabelled nodes ------------------------------------------------
def _expression(node: Value, names: dict[Value, Term]) -> Term:
    """A name for an op node: its op applied to its inputs' names (op_term), with
    constants known as numbers, so an exponent 2 is written ``²``."""
    assert node.op is not None
    numbers = {i: c.data for i, c in enumerate(node.inputs)
               if c.is_constant and names[c][0] == display_number(c.data, 6)}
    return op_term(node.op, [names[c] for c in node.inputs], numbers)


def node_names(root: Value, max_length: int = 16) -> dict[Value, str]:
    """A display name for every node of ``root``'s graph (see the module docstring).

    Expressions longer than ``max_length`` characters, and expressions that would
    repeat another node's name, become short ids ``v1``, ``v2``, … numbered in
    graph order (inputs before outputs); :func:`id_definitions` says what each
    stands for."""
    terms, _ = _name_terms(root, max_length, "node_names")
    return {node: name for node, (name, _) in terms.items()}


def id_definitions(root: Value, max_length: int = 16) -> dict[str, str]:
    """What each short id among ``root``'s node names stands for, in id order: its
    op applied to its inputs' names, ``{"v1": "w₁·x₁ + w₂·x₂ + b", "v2": "σ(v1)"}``
    (an id may use earlier ids). Text that shows ``v1`` should say this beside it."""
    terms, ids = _name_terms(root, max_length, "id_definitions")
    definitions = {}
    for node in ids:
        name = terms[node][0]
        if node.op is None:
            definitions[name] = f"an unlabelled leaf (data {display_number(node.data)})"
        else:
            definitions[name] = _expression(node, terms)[0]
    return dict(sorted(definitions.items(), key=lambda item: int(item[0][1:])))


def ids_shown(root: Value, text: str, max_length: int = 16) -> dict[str, str]:
    """:func:`id_definitions` of the short ids ``text`` shows (``v1``), and of the
    ids their definitions use, in id order: the ``where v1 = …`` a text owes."""
    shown = _SHORT_ID_IN_TEXT.findall(text)
    if not shown:                                  # most texts: no names to work out
        return {}
    definitions = id_definitions(root, max_length)
    needed: set[str] = set()
    pending = [name for name in shown if name in definitions]
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending.extend(n for n in _SHORT_ID_IN_TEXT.findall(definitions[name])
                           if n in definitions)
    return {name: term for name, term in definitions.items() if name in needed}


def _name_terms(root: Value, max_length: int, who: str) -> tuple[dict[Value, Term], list[Value]]:
    """Every node's name with its precedence, and the nodes named by a short id."""
    if not isinstance(root, Value):
        raise TypeError(f"{who}: root must be a Value, got {type(root).__name__}")
    check_count(who, "max_length", max_length)
    nodes = order(root)
    outputs = predictions(root, nodes)
    neuron = {node: int(NEURON_LABEL.match(node.label).group(2))   # type: ignore[union-attr]
              for node in outputs}
    single = all(j == 1 for j in neuron.values())
    others = {lesson_name(n.label) or n.label for n in nodes if n.label and n not in neuron}
    if any(prediction_name(j, single) in others for j in neuron.values()):
        neuron = {}                                # a node already called ŷ: keep a⁽ˡ⁾ⱼ
    taken = {lesson_name(n.label) or n.label for n in nodes if n.label}
    terms: dict[Value, Term] = {}
    ids: list[Value] = []
    sums = _running_sums(nodes)
    next_id = 1
    for node in nodes:
        short = not node.label and not is_number(node)     # an expression: may need an id
        if is_number(node):
            name = display_number(node.data, 6)            # 3e-06 → 3×10⁻⁶
            prec = SIGN if node.data < 0 else ATOM
        elif node in neuron:
            name, prec = prediction_name(neuron[node], single), ATOM
        elif node.label:
            name = lesson_name(node.label) or node.label
            prec = ATOM
        elif node.op is None:                      # an unlabelled leaf
            name, prec = "", ATOM
        elif node in sums:                         # part of z⁽ˡ⁾ⱼ: named like a label
            layer, j, m, inputs = sums[node]
            name, prec = term(_running_sum_name(layer, j, m, [terms[i][0] for i in inputs]))
            short = False
        else:
            name, prec = _expression(node, terms)
        if not name or (short and (len(name) > max_length or name in taken)):
            while f"v{next_id}" in taken:
                next_id += 1
            name, prec = f"v{next_id}", ATOM
            ids.append(node)
        taken.add(name)
        terms[node] = name, prec
    return terms, ids
