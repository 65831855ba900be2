"""``draw_dot``: the computation graph as a Graphviz diagram a teacher can put on a slide.

One box per Value (its name, data and grad), one circle per op (its symbol). What
the diagram tells at a glance:

* **roles** by fill: input, parameter, constant, intermediate, output (legend below);
* **the gradient** by border: blue for ∂out/∂node > 0, red for < 0, thicker for a
  larger magnitude (log scale); a dashed grey border where it is exactly 0 (a dead
  ReLU and everything behind it);
* **operand order** of − ÷ ^ on the edges (``a`` and ``b``, as in the op table),
  and with ``show_local=True`` the local derivative ∂out/∂input on each edge;
* **a highlighted set or path** (e.g. the paths of ``explain``) in purple, the
  rest faded.

The result is a ``graphviz.Digraph``: it shows inline in Jupyter and saves to
svg/png/pdf; without Graphviz's ``dot`` program the error says how to install it,
and ``.source`` (the DOT text) still works.
"""

from __future__ import annotations

import html
import math
from functools import cache
from typing import TYPE_CHECKING, Any, Iterable

from engine import Constant, Value, order

from .arguments import check_count, check_precision, check_rankdir
from .names import NEURON_LABEL, PARAMETER_LABEL, ROLES, display_number, is_number, node_names, role

if TYPE_CHECKING:                                      # graphviz is imported lazily
    import graphviz

__all__ = ["draw_dot", "new_diagram", "DotNotFoundError", "GraphTooLargeError",
           "FONT", "ROLE_FILL", "GRAD_POSITIVE", "GRAD_NEGATIVE", "GRAD_ZERO", "HIGHLIGHT"]

# ---- the look, shared by every diagram of the package ------------------------------------
FONT = "Helvetica,Arial,DejaVu Sans,sans-serif"
ROLE_FILL = {"input": "#dbeafe", "parameter": "#fef3c7", "constant": "#f3f4f6",
             "intermediate": "#ffffff", "output": "#dcfce7"}
GRAD_POSITIVE = "#2563eb"
GRAD_NEGATIVE = "#dc2626"
GRAD_ZERO = "#9ca3af"
NEUTRAL = "#4b5563"
FADED = "#d1d5db"
HIGHLIGHT = "#7c3aed"
NEURON_FILL = "#f5f3ff"
#: Ops whose operands are not interchangeable: their edges say which input is which.
ORDERED_OPS = {"sub", "div", "pow", "powv"}
_COLLAPSE = (None, "neuron")

INSTALL_HINT = ("Graphviz's `dot` program was not found on PATH; it is needed to render "
                "images (svg/png/pdf) and to show diagrams in Jupyter. Install it with "
                "`apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS), "
                "`conda install -c conda-forge graphviz` or `choco install graphviz` "
                "(Windows), or from https://graphviz.org/download/. The DOT text is still "
                "available as `diagram.source`.")


class GraphTooLargeError(ValueError):
    """The graph has more nodes than ``max_nodes``: draw it some other way."""


class DotNotFoundError(RuntimeError):
    """Graphviz's ``dot`` program is missing: the message says how to install it.

    Raised (from graphviz's own ``ExecutableNotFound``) by ``render``, ``pipe`` and
    ``view`` of the diagrams this package makes."""

    def __init__(self, message: str = INSTALL_HINT) -> None:
        super().__init__(message)


@cache
def _diagram_class() -> type:
    """A ``graphviz.Digraph`` whose rendering errors say how to install ``dot``.

    Made on first use so that importing ``viz`` does not import graphviz."""
    try:
        import graphviz
    except ImportError as error:                        # pragma: no cover - graphviz is a dep
        raise ImportError("viz needs the `graphviz` Python package: "
                          "pip install 'chaingrad[viz]' (or pip install graphviz)") from error

    class Diagram(graphviz.Digraph):
        """A ``graphviz.Digraph`` that explains a missing ``dot`` program."""

        def pipe(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().pipe(*args, **kwargs)
            except graphviz.ExecutableNotFound as error:
                raise DotNotFoundError() from error

        def render(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().render(*args, **kwargs)
            except graphviz.ExecutableNotFound as error:
                raise DotNotFoundError() from error

        def _repr_mimebundle_(self, *args: Any, **kwargs: Any) -> dict:
            try:
                return super()._repr_mimebundle_(*args, **kwargs)
            except (DotNotFoundError, graphviz.ExecutableNotFound):
                return {"text/plain": INSTALL_HINT}

    return Diagram


def new_diagram(name: str = "chaingrad", **graph_attr: str) -> graphviz.Digraph:
    """An empty ``graphviz.Digraph`` in the package's look (font, colours), whose
    render/pipe errors explain how to install a missing ``dot``."""
    diagram = _diagram_class()(name=name)
    diagram.attr("graph", fontname=FONT, bgcolor="white", pad="0.2", nodesep="0.25",
                 ranksep="0.35", **graph_attr)
    diagram.attr("node", fontname=FONT, fontsize="11", color=NEUTRAL, penwidth="1.2")
    diagram.attr("edge", fontname=FONT, fontsize="9", color=NEUTRAL, arrowsize="0.6",
                 penwidth="1.0")
    return diagram


# ---- gradients as colour and width --------------------------------------------------------
def grad_color(grad: float) -> str:
    """Border colour for a gradient: blue > 0, red < 0, grey = 0."""
    if grad > 0:
        return GRAD_POSITIVE
    if grad < 0:
        return GRAD_NEGATIVE
    return GRAD_ZERO


def grad_width(grad: float, largest: float) -> float:
    """Border width 1–3.5 on a log scale: the largest |grad| is thickest, five orders
    of magnitude smaller is thinnest (so vanishing gradients look thin, not absent),
    and one order of magnitude is half a point, enough to see."""
    if not grad or not largest or not math.isfinite(grad) or not math.isfinite(largest):
        return 1.2
    decades = math.log10(abs(grad) / largest)                # ≤ 0
    return round(1.0 + 2.5 * max(0.0, 1.0 + decades / 5.0), 2)


# ---- the argument checks ------------------------------------------------------------------
def _highlight_set(highlight: Any) -> set[Value]:
    """A Value, an iterable of Values, an ``explain`` result or one of its paths."""
    if highlight is None:
        return set()
    if isinstance(highlight, Value):
        return {highlight}
    if hasattr(highlight, "paths") and hasattr(highlight, "total"):     # an Explanation
        return {v for path in highlight.paths for v in path.nodes}
    if hasattr(highlight, "nodes") and hasattr(highlight, "factors"):   # one Path
        return set(highlight.nodes)
    try:
        values = list(highlight)
    except TypeError:
        raise TypeError("draw_dot: highlight must be a Value, an iterable of Values or an "
                        f"explain() result, got {type(highlight).__name__}") from None
    for v in values:
        if not isinstance(v, Value):
            raise TypeError("draw_dot: highlight must contain only Values, "
                            f"got {type(v).__name__}")
    return set(values)


def _check_arguments(root: Any, rankdir: Any, precision: Any, max_nodes: Any,
                     collapse: Any) -> None:
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot: root must be a Value, got {type(root).__name__}")
    check_rankdir("draw_dot", rankdir)
    check_precision("draw_dot", precision)
    check_count("draw_dot", "max_nodes", max_nodes, allow_none=True)
    if collapse not in _COLLAPSE:
        raise ValueError(f"draw_dot: collapse must be None or 'neuron', got {collapse!r}")


# ---- grouping a neuron's arithmetic -------------------------------------------------------
def neuron_groups(nodes: list[Value]) -> dict[Value, tuple[int, int]]:
    """Which nodes make up each nn neuron (layer l, neuron j): its ``z`` and ``a``
    (labelled ``L{l}.N{j}.z`` / ``.a``), the unlabelled + × − nodes that only feed
    them (Σ_k w_jk·a_k + b), the neuron's own parameters and constants used nowhere else."""
    consumers: dict[Value, list[Value]] = {}
    for node in nodes:
        for child in node.inputs:
            consumers.setdefault(child, []).append(node)
    group: dict[Value, tuple[int, int]] = {}
    for node in reversed(nodes):                   # consumers before their inputs
        match = NEURON_LABEL.match(node.label)
        if match:
            group[node] = (int(match.group(1)), int(match.group(2)))
            continue
        users = consumers.get(node)
        if not users:
            continue
        keys = {group.get(user) for user in users}
        if len(keys) != 1 or None in keys:
            continue
        key = keys.pop()
        param = PARAMETER_LABEL.match(node.label)
        if (node.op is not None and not node.label and node.op.name in ("add", "mul", "sub")) \
                or isinstance(node, Constant) \
                or (param and (int(param.group(1)), int(param.group(2))) == key):
            group[node] = key
    return group


# ---- labels --------------------------------------------------------------------------------
def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _value_label(name: str, data: str, grad: str | None, grad_font: str,
                 data_font: str = "#111827") -> str:
    rows = [f'<TR><TD><B>{_esc(name)}</B></TD></TR>',
            f'<TR><TD><FONT POINT-SIZE="10" COLOR="{data_font}">{_esc(data)}</FONT></TD></TR>']
    if grad is not None:
        rows.append(f'<TR><TD><FONT POINT-SIZE="10" COLOR="{grad_font}">'
                    f'{_esc(grad)}</FONT></TD></TR>')
    return ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
            + "".join(rows) + "</TABLE>>")


def _legend(roles: list[str], show_grad: bool, show_local: bool, collapsed: bool,
            highlighted: bool, gradients_known: bool) -> str:
    cells = [f'<TD BGCOLOR="{ROLE_FILL[r]}" BORDER="1" COLOR="{FADED}"> {r} </TD>'
             for r in ROLES if r in roles]
    if collapsed:
        cells.append(f'<TD BGCOLOR="{NEURON_FILL}" BORDER="1" COLOR="{FADED}"> neuron </TD>')
    notes = []
    if show_grad and gradients_known:
        notes.append(f'<FONT COLOR="{GRAD_POSITIVE}">■</FONT> grad &gt; 0 '
                     f'<FONT COLOR="{GRAD_NEGATIVE}">■</FONT> grad &lt; 0 '
                     f'<FONT COLOR="{GRAD_ZERO}">┅</FONT> grad = 0 · '
                     'thicker border = larger |grad|')
    elif show_grad:
        notes.append("grad = 0 everywhere: call backward() on the output first")
    if show_local:
        notes.append("∂ on an edge: local derivative ∂out/∂input")
    if highlighted:
        notes.append(f'<FONT COLOR="{HIGHLIGHT}">━</FONT> highlighted')
    note_cell = (f'<TD BORDER="0">  {"   ·   ".join(notes)}</TD>' if notes else "")
    return ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="2"><TR>'
            + "".join(cells) + note_cell + "</TR></TABLE>>")


def _op_text(node: Value) -> str:
    op = node.op
    assert op is not None
    if op.name == "pow" and isinstance(node.inputs[1], Constant):
        return f"^{display_number(node.inputs[1].data)}"
    return op.symbol


# ---- the diagram ---------------------------------------------------------------------------
def draw_dot(root: Value, rankdir: str = "LR", show_grad: bool = True, precision: int = 4,
             highlight: Any = None, max_nodes: int | None = 150, show_local: bool = False,
             collapse: str | None = None, parameters: Iterable[Value] | None = None,
             legend: bool = True) -> graphviz.Digraph:
    """Draw the computation graph that produced ``root``.

    ``show_grad`` shows each node's ``.grad`` (= ∂root/∂node after ``root.backward()``);
    ``precision`` is the number of significant digits; ``highlight`` marks a Value, a
    set or path of Values, or an ``explain(...)`` result; ``show_local`` writes
    ∂out/∂input on each edge; ``collapse="neuron"`` draws each nn neuron (its
    Σ w·a + b, z and a) as one box; ``parameters`` says which leaves are parameters
    (default: leaves with nn parameter labels); ``legend`` adds the key below.
    More than ``max_nodes`` Values is a :class:`GraphTooLargeError` (None: no limit)."""
    _check_arguments(root, rankdir, precision, max_nodes, collapse)
    nodes = order(root)
    names = node_names(root)
    params = set(parameters) if parameters is not None else None
    marked = _highlight_set(highlight)
    groups = neuron_groups(nodes) if collapse == "neuron" else {}
    # a constant exponent is written on its ^ node, not drawn as a node of its own
    folded = {n.inputs[1] for n in nodes
              if n.op is not None and n.op.name == "pow" and isinstance(n.inputs[1], Constant)}
    folded = {c for c in folded if c not in groups}
    drawn = [n for n in nodes if n not in groups and n not in folded]
    count = len(drawn) + len(set(groups.values()))
    if max_nodes is not None and count > max_nodes:
        hint = ("draw the network with viz.draw_network(model), "
                "or group each neuron's arithmetic into one box with "
                "draw_dot(root, collapse='neuron')" if collapse is None
                else "draw the network with viz.draw_network(model)")
        raise GraphTooLargeError(
            f"draw_dot: the graph has {count} nodes, more than max_nodes={max_nodes}; "
            f"{hint}, or pass a larger max_nodes (None for no limit)")

    gradients_known = show_grad and any(n.grad for n in nodes)
    largest = max((abs(n.grad) for n in nodes if not isinstance(n, Constant)
                   and math.isfinite(n.grad)), default=0.0)
    number = {n: display_number(n.data, precision) for n in nodes}
    ids = {n: f"v{i}" for i, n in enumerate(nodes)}
    unit = dict(ids)                                # the diagram node a Value is drawn in
    for n, (layer, j) in groups.items():
        unit[n] = f"neuron_L{layer}_N{j}"

    diagram = new_diagram("draw_dot", rankdir=rankdir)
    roles_seen: list[str] = []

    def faded(n: Value) -> bool:
        return bool(marked) and n not in marked

    for n in drawn:
        r = role(n, root, params)
        roles_seen.append(r)
        fade = faded(n)
        if isinstance(n, Constant):                 # a number, or named data: no gradient
            shown = names[n] if is_number(n) else f"{names[n]} = {number[n]}"
            diagram.node(ids[n], label=_esc(shown), shape="box", style="rounded,filled",
                         fillcolor=ROLE_FILL["constant"], color=FADED if fade else GRAD_ZERO,
                         fontcolor=FADED if fade else NEUTRAL, fontsize="10",
                         height="0.25", width="0.3", margin="0.04,0.02")
            continue
        grad_text = f"grad {display_number(n.grad, precision)}" if show_grad else None
        dead = gradients_known and n.grad == 0.0
        border = grad_color(n.grad) if gradients_known else NEUTRAL
        width = grad_width(n.grad, largest) if gradients_known else 1.2
        grad_font = GRAD_ZERO if dead or fade else border
        if n in marked:
            border, width = HIGHLIGHT, 2.6
        label = _value_label(names[n], f"data {number[n]}", grad_text, grad_font=grad_font,
                             data_font=FADED if fade else "#111827")
        diagram.node(ids[n], label=label, shape="box",
                     style="rounded,filled,dashed" if dead else "rounded,filled",
                     fillcolor="#ffffff" if fade else ROLE_FILL[r],
                     color=FADED if fade else border, penwidth=str(width),
                     fontcolor=FADED if fade else "#111827", margin="0.08,0.03")

    for key in sorted(set(groups.values())):
        _draw_neuron(diagram, key, [n for n in nodes if groups.get(n) == key], names,
                     root, show_grad, gradients_known, largest, precision, marked)
        roles_seen.append("neuron")

    edges: set[tuple[str, str]] = set()
    for n in nodes:
        if n.op is None:
            continue
        if n in groups:                             # arithmetic inside a neuron box
            for child in n.inputs:
                if unit[child] != unit[n] and child not in folded:
                    pair = (unit[child], unit[n])
                    if pair not in edges:
                        edges.add(pair)
                        on_path = child in marked and n in marked
                        diagram.edge(*pair, color=HIGHLIGHT if on_path else
                                     FADED if marked else NEUTRAL,
                                     penwidth="2.5" if on_path else "1.0")
            continue
        op_id = f"op{ids[n][1:]}"
        fade = faded(n)
        diagram.node(op_id, label=_esc(_op_text(n)), shape="circle",
                     style="filled", fillcolor="#f9fafb",
                     color=FADED if fade else NEUTRAL, fontcolor=FADED if fade else "#111827",
                     fontsize="12", width="0.36", height="0.36", fixedsize="false",
                     margin="0.02")
        diagram.edge(op_id, unit[n], color=HIGHLIGHT if n in marked else
                     FADED if fade else NEUTRAL, penwidth="2.5" if n in marked else "1.0")
        ordered = n.op.name in ORDERED_OPS and not (n.op.name == "pow"
                                                    and n.inputs[1] in folded)
        for position, (child, local) in enumerate(zip(n.inputs, n.local_grads)):
            if child in folded and n.op.name == "pow":
                continue
            on_path = child in marked and n in marked
            no_flow = gradients_known and local == 0.0
            attrs = {"color": HIGHLIGHT if on_path else FADED if marked or no_flow else NEUTRAL,
                     "penwidth": "2.5" if on_path else "1.0"}
            if no_flow:
                attrs["style"] = "dashed"
            operand = "ab"[position] if ordered else ""
            if show_local:                         # one label: "a: ∂ = 0.25", or "∂ = 0.25"
                local_text = f"∂ = {display_number(float(local), precision)}"
                attrs["label"] = f"{operand}: {local_text}" if operand else local_text
                attrs["fontcolor"] = GRAD_ZERO if local == 0.0 else NEUTRAL
            elif operand:
                attrs["headlabel"] = operand
                attrs["labelfontsize"] = "9"
                attrs["labelfontcolor"] = NEUTRAL
                attrs["labeldistance"] = "1.4"
            diagram.edge(unit[child], op_id, **attrs)

    if legend:
        present = [r for r in ROLES if r in roles_seen]
        diagram.attr("graph", label=_legend(present, show_grad, show_local, bool(groups),
                                            bool(marked), gradients_known),
                     labelloc="b", labeljust="l", fontsize="9", fontcolor=NEUTRAL)
    return diagram


def _draw_neuron(diagram: graphviz.Digraph, key: tuple[int, int], members: list[Value],
                 names: dict[Value, str], root: Value, show_grad: bool,
                 gradients_known: bool, largest: float, precision: int,
                 marked: set[Value]) -> None:
    """One box for neuron j of layer l: a table of its z, a and own parameters."""
    layer, j = key
    shown = [n for n in members if n.label and not isinstance(n, Constant)]
    z = next((n for n in shown if n.label.endswith(".z")), None)
    delta_node = z or shown[0]
    fade = bool(marked) and not any(n in marked for n in members)
    header = f'<TR><TD COLSPAN="3"><B>neuron {j} · layer {layer}</B></TD></TR>'
    rows = [header]
    order_key = {".z": 0, ".a": 1, ".b": 3}           # z, a, then w₁ w₂ …, then b
    shown.sort(key=lambda n: (order_key.get(n.label[-2:], 2), len(n.label), n.label))
    for n in shown:
        grad_cell = ""
        if show_grad:
            color = grad_color(n.grad) if gradients_known else NEUTRAL
            word = "δ" if n is z else "grad"
            grad_cell = (f'<TD ALIGN="LEFT"><FONT POINT-SIZE="10" COLOR="{color}">{word} '
                         f'{_esc(display_number(n.grad, precision))}</FONT></TD>')
        rows.append(f'<TR><TD ALIGN="LEFT">{_esc(names[n])}</TD>'
                    f'<TD ALIGN="LEFT"><FONT POINT-SIZE="10">'
                    f'{_esc(display_number(n.data, precision))}</FONT></TD>{grad_cell}</TR>')
    label = ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">'
             + "".join(rows) + "</TABLE>>")
    contains_root = root in members
    border = grad_color(delta_node.grad) if gradients_known else NEUTRAL
    if any(n in marked for n in members):
        border = HIGHLIGHT
    diagram.node(f"neuron_L{layer}_N{j}", label=label, shape="box", style="rounded,filled",
                 fillcolor="#ffffff" if fade else
                 ROLE_FILL["output"] if contains_root else NEURON_FILL,
                 color=FADED if fade else border,
                 penwidth=str(grad_width(delta_node.grad, largest) if gradients_known else 1.2),
                 fontcolor=FADED if fade else "#111827", margin="0.08,0.04")
