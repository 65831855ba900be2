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

The pieces are small so other diagrams of Values can reuse them: ``Layout`` says
which diagram node each Value is drawn in (grouping a neuron, folding a constant
exponent), ``Look`` holds what styling reads (gradients known, the largest |grad|,
the highlighted set), ``draw_value``, ``draw_constant``, ``draw_op``,
``draw_operand`` and ``draw_neuron`` each draw one node or edge, and ``draw_boxes``
and ``draw_ops`` draw all of a layout's (``draw_dot`` and ``explore`` use them).
"""

from __future__ import annotations

import html
import math
import os
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Iterable

from engine import Value, order
from nn.checks import count

from .arguments import check_count, check_precision, check_rankdir, check_values
from .names import (
    NEURON_LABEL,
    PARAMETER_LABEL,
    ROLES,
    WEIGHTED_SUM,
    display_number,
    ids_shown,
    is_number,
    node_names,
    role,
)
from .notation import infix

if TYPE_CHECKING:                                      # graphviz is imported lazily
    import graphviz

__all__ = ["draw_dot", "new_diagram", "DotNotFoundError", "GraphTooLargeError",
           "Layout", "Look", "draw_value", "draw_constant", "draw_op", "draw_operand",
           "draw_neuron", "draw_boxes", "draw_ops", "grad_color", "grad_width", "GRAD_WIDTH",
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
OP_FILL = "#f3f4f6"
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
        """A ``graphviz.Digraph`` that explains a missing ``dot`` program and whose
        repr is one line saying what it shows (``about``, set by its maker)."""

        about = ""

        def __repr__(self) -> str:
            return f"<{self.about or f'diagram {self.name!r}'} (.source is its DOT)>"

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

        def write(self, path: str | os.PathLike[str], format: str | None = None, *,
                  dpi: int = WRITE_DPI) -> Diagram:
            """Write the diagram to ``path``, in the format its suffix names (``.svg``,
            ``.png``, ``.pdf``; ``.dot`` or ``.gv`` write the DOT text and need no
            Graphviz) or ``format``; bitmaps (png, jpg, …) at ``dpi`` dots per inch.
            Only that file is written (``render`` also leaves the DOT source beside
            it; graphviz's own ``save`` writes only the DOT source). Returns the
            diagram, so a notebook cell ending in ``write`` shows it."""
            fmt = output_format(path, format, "write")
            check_count("write", "dpi", dpi)
            if fmt in TEXT_FORMATS:
                data = self.source.encode("utf-8")
            else:
                diagram = self.copy()
                if fmt in BITMAP_FORMATS:
                    diagram.attr("graph", dpi=str(dpi))
                data = diagram.pipe(format=fmt)
            with open(path, "wb") as file:
                file.write(data)
            return self

    return Diagram


#: The resolution ``write`` gives bitmaps: sharp on slides and high-density screens.
WRITE_DPI = 110
#: Formats that are the DOT text itself, and formats that are pixels (where dpi matters).
TEXT_FORMATS = frozenset({"dot", "gv"})
BITMAP_FORMATS = frozenset({"png", "jpg", "jpeg", "jpe", "gif", "bmp", "tif", "tiff", "webp",
                            "ico"})


def output_format(path: Any, format: str | None = None, who: str = "write") -> str:
    """The format to write ``path`` in: ``format`` if given, else the path's suffix.

    A ValueError when there is none, or when Graphviz writes no such format."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{who}: path must be a str or a path, got {type(path).__name__}")
    if format is not None and not isinstance(format, str):
        raise TypeError(f"{who}: format must be a str, got {type(format).__name__}")
    name = os.path.basename(os.fspath(path))
    fmt = (format or (name.rsplit(".", 1)[-1] if "." in name else "")).lower()
    if not fmt:
        raise ValueError(f"{who}: cannot tell the format of {os.fspath(path)!r}: give it a "
                         f"suffix (.svg, .png, .pdf, .dot) or pass a format")
    import graphviz
    if fmt not in graphviz.FORMATS:
        given = f"the format {format!r}" if format else f"the suffix .{fmt}"
        raise ValueError(f"{who}: {given} is not a format Graphviz writes; use .svg, .png "
                         f"or .pdf for a picture, .dot for the DOT text")
    return fmt


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


#: How a border's width tells |grad| (grad_width; the live pages draw it the same way):
#: ``thinnest`` + ``range`` at the largest |grad|, ``thinnest`` ``decades`` orders of
#: magnitude below it, ``none`` where there is no gradient to compare.
GRAD_WIDTH = {"thinnest": 1.0, "range": 2.5, "decades": 5.0, "none": 1.2}


def grad_width(grad: float, largest: float) -> float:
    """Border width 1–3.5 on a log scale: the largest |grad| is thickest, five orders
    of magnitude smaller is thinnest (so vanishing gradients look thin, not absent),
    and one order of magnitude is half a point, enough to see."""
    if not grad or not largest or not math.isfinite(grad) or not math.isfinite(largest):
        return GRAD_WIDTH["none"]
    decades = math.log10(abs(grad) / largest)                # ≤ 0
    return round(GRAD_WIDTH["thinnest"] + GRAD_WIDTH["range"]
                 * max(0.0, 1.0 + decades / GRAD_WIDTH["decades"]), 2)


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


# ---- what is drawn: grouping and folding ----------------------------------------------------
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
        if (node.op is not None and not node.label and infix(node.op) in WEIGHTED_SUM) \
                or node.is_constant \
                or (param and (int(param.group(1)), int(param.group(2))) == key):
            group[node] = key
    return group


def folds_exponent(node: Value) -> bool:
    """Whether ``node``'s op has an input that is a plain number by its row (pow's
    exponent), written on its op circle (``^2``) instead of drawn as a node of its own."""
    op = node.op
    return (op is not None and op.number is not None
            and node.inputs[op.number].is_constant)


@dataclass
class Layout:
    """Which diagram node each Value of a graph is drawn in.

    ``nodes`` is the graph in ``order``; ``groups`` maps the Values folded into a
    neuron box to their (layer, neuron); ``folded`` holds the constant exponents
    written on their ``^`` circle; ``ids`` names each Value's own box (``v3``)."""

    nodes: list[Value]
    groups: dict[Value, tuple[int, int]]
    folded: set[Value]
    ids: dict[Value, str] = field(init=False)

    def __post_init__(self) -> None:
        self.ids = {n: f"v{i}" for i, n in enumerate(self.nodes)}

    @classmethod
    def of(cls, root: Value, collapse: str | None = None) -> Layout:
        """The layout of ``root``'s graph; ``collapse="neuron"`` groups each neuron."""
        nodes = order(root)
        groups = neuron_groups(nodes) if collapse == "neuron" else {}
        folded = {n.inputs[n.op.number] for n in nodes if folds_exponent(n)} - groups.keys()
        return cls(nodes, groups, folded)

    @property
    def drawn(self) -> list[Value]:
        """The Values drawn as boxes of their own (not in a neuron, not an exponent)."""
        return [n for n in self.nodes if n not in self.groups and n not in self.folded]

    @property
    def neurons(self) -> list[tuple[int, int]]:
        """The (layer, neuron) of every neuron box, in index order."""
        return sorted(set(self.groups.values()))

    def count(self) -> int:
        """How many boxes the diagram has (Values drawn alone, plus neuron boxes)."""
        return len(self.drawn) + len(self.neurons)

    def unit(self, node: Value) -> str:
        """The diagram node ``node`` is drawn in: its own box or its neuron's."""
        if node in self.groups:
            return neuron_id(self.groups[node])
        return self.ids[node]

    def op_id(self, node: Value) -> str:
        """The op circle of ``node`` (``op3`` for the Value drawn as ``v3``)."""
        return f"op{self.ids[node][1:]}"


def neuron_id(key: tuple[int, int]) -> str:
    """The diagram node of neuron j of layer l."""
    return f"neuron_L{key[0]}_N{key[1]}"


def _check_size(count: int, max_nodes: int | None, collapse: str | None) -> None:
    if max_nodes is None or count <= max_nodes:
        return
    hint = ("draw the network with viz.draw_network(model), "
            "or group each neuron's arithmetic into one box with "
            "draw_dot(root, collapse='neuron')" if collapse is None
            else "draw the network with viz.draw_network(model)")
    raise GraphTooLargeError(
        f"draw_dot: the graph has {count} nodes, more than max_nodes={max_nodes}; "
        f"{hint}, or pass a larger max_nodes (None for no limit)")


# ---- where each box goes: columns, each top to bottom in reading order -----------------------
def reading_order(root: Value) -> dict[Value, int]:
    """Each node's place when the graph is read from ``root`` back, every op's inputs
    in operand order (a preorder walk): the first input's whole subgraph comes before
    the second's, so neuron 1 comes before neuron 2 and w₁₁ before w₁₂. A node used
    several times keeps the place of its first use."""
    place: dict[Value, int] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if node in place:
            continue
        place[node] = len(place)
        stack.extend(reversed(node.inputs))
    return place


def columns(layout: Layout, root: Value, compact: bool = False) -> list[list[str]]:
    """The diagram's nodes (value boxes, op circles, neuron boxes) by rank, each rank
    in reading order. A node's rank is one more than its latest input's; a leaf sits
    just before its first consumer, as Graphviz would put it."""
    place = reading_order(root)
    edges: list[tuple[str, str]] = []
    first: dict[str, int] = {}                          # a diagram node's reading place
    for n in layout.nodes:
        if n in layout.folded:
            continue
        unit = layout.unit(n)
        first[unit] = min(first.get(unit, place[n]), place[n])
        if n.op is None:
            continue
        head = unit if compact or n in layout.groups else layout.op_id(n)
        if head != unit:
            first[head] = place[n]
            edges.append((head, unit))
        for child in n.inputs:
            if child not in layout.folded and layout.unit(child) != unit:
                edges.append((layout.unit(child), head))
    feeds: dict[str, list[str]] = {}
    for tail, head in edges:
        feeds.setdefault(tail, []).append(head)
    rank = dict.fromkeys(first, 0)
    for unit in _topological(first, edges):
        for head in feeds.get(unit, ()):
            rank[head] = max(rank[head], rank[unit] + 1)
    sources = set(first) - {head for _, head in edges}
    for unit in sources & feeds.keys():
        rank[unit] = min(rank[head] for head in feeds[unit]) - 1
    by_rank: dict[int, list[str]] = {}
    for unit in sorted(first, key=first.__getitem__):
        by_rank.setdefault(rank[unit], []).append(unit)
    return [by_rank[r] for r in sorted(by_rank)]


def _topological(units: Iterable[str], edges: list[tuple[str, str]]) -> list[str]:
    """The diagram's nodes, every tail before its heads (Kahn's algorithm)."""
    waiting = {unit: 0 for unit in units}
    feeds: dict[str, list[str]] = {}
    for tail, head in edges:
        waiting[head] += 1
        feeds.setdefault(tail, []).append(head)
    ready = [unit for unit, count in waiting.items() if count == 0]
    done = []
    while ready:
        unit = ready.pop()
        done.append(unit)
        for head in feeds.get(unit, ()):
            waiting[head] -= 1
            if waiting[head] == 0:
                ready.append(head)
    return done


def keep_in_order(diagram: graphviz.Digraph, ranks: list[list[str]]) -> None:
    """Pin every rank's nodes in the given order (top to bottom for ``rankdir="LR"``):
    one ``rank=same`` group per rank, chained by invisible edges, so Graphviz does not
    reorder them to save a crossing."""
    for nodes in ranks:
        if len(nodes) < 2:
            continue
        with diagram.subgraph() as rank:
            rank.attr(rank="same")
            for upper, lower in zip(nodes, nodes[1:]):
                rank.edge(upper, lower, style="invis")


# ---- how Values look: what every node and edge drawer reads ---------------------------------
@dataclass(frozen=True)
class Look:
    """The styling state of one diagram of Values.

    ``gradients_known`` (some node has a non-zero grad) turns on gradient colours;
    ``largest`` is the largest finite |grad| (the thickest border); ``marked`` is the
    highlighted set, and every other node and edge fades when it is not empty."""

    precision: int = 4
    show_grad: bool = True
    gradients_known: bool = False
    largest: float = 0.0
    marked: frozenset[Value] = frozenset()

    @classmethod
    def of(cls, nodes: Iterable[Value], show_grad: bool = True, precision: int = 4,
           marked: Iterable[Value] = (), grads: Iterable[float] | None = None) -> Look:
        """The look of a diagram of ``nodes``, its gradients read from their ``.grad``
        or, when given, from ``grads`` (one per node, e.g. ``engine.grad``'s)."""
        nodes = list(nodes)
        grads = [n.grad for n in nodes] if grads is None else list(grads)
        return cls(precision, show_grad,
                   gradients_known=show_grad and any(grads),
                   largest=max((abs(g) for n, g in zip(nodes, grads)
                                if not n.is_constant and math.isfinite(g)),
                               default=0.0),
                   marked=frozenset(marked))

    def faded(self, node: Value) -> bool:
        """Whether ``node`` is drawn faded: something is highlighted, and not it."""
        return bool(self.marked) and node not in self.marked

    def on_path(self, tail: Value, head: Value) -> bool:
        """Whether the edge tail → head joins two highlighted nodes."""
        return tail in self.marked and head in self.marked

    def number(self, x: float) -> str:
        """``x`` with the diagram's significant digits."""
        return display_number(x, self.precision)

    def border(self, grad: float) -> tuple[str, float]:
        """Border colour and width for a node with this gradient."""
        if not self.gradients_known:
            return NEUTRAL, GRAD_WIDTH["none"]
        return grad_color(grad), grad_width(grad, self.largest)


# ---- drawing one node or edge ---------------------------------------------------------------
def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _value_label(name: str, data: str, grad: str | None, grad_font: str,
                 data_font: str = "#111827", op: str | None = None) -> str:
    rows = [f'<TD><B>{_esc(name)}</B></TD>',
            f'<TD><FONT POINT-SIZE="10" COLOR="{data_font}">{_esc(data)}</FONT></TD>']
    if grad is not None:
        rows.append(f'<TD><FONT POINT-SIZE="10" COLOR="{grad_font}">{_esc(grad)}</FONT></TD>')
    if op is not None:                            # the op that made it, in a cell before
        rows[0] = (f'<TD ROWSPAN="{len(rows)}" BGCOLOR="{OP_FILL}" CELLPADDING="3">'
                   f'<FONT POINT-SIZE="12" COLOR="{data_font}">{_esc(op)}</FONT></TD>' + rows[0])
    return ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
            + "".join(f"<TR>{row}</TR>" for row in rows) + "</TABLE>>")


def draw_value(diagram: graphviz.Digraph, node_id: str, node: Value, name: str, fill: str,
               look: Look, op: str | None = None, grad: float | None = None) -> None:
    """One Value as a rounded box: its name, data and (with ``show_grad``) grad, the
    border coloured and sized by the gradient, dashed where it is exactly 0; ``op``
    (the symbol of the op that made it) is written in a cell at the box's side.
    ``grad``: the gradient to show, if not the node's ``.grad``."""
    fade = look.faded(node)
    grad = node.grad if grad is None else grad
    grad_text = f"grad {look.number(grad)}" if look.show_grad else None
    dead = look.gradients_known and grad == 0.0
    border, width = look.border(grad)
    grad_font = GRAD_ZERO if dead or fade else border
    if node in look.marked:
        border, width = HIGHLIGHT, 2.6
    label = _value_label(name, f"data {look.number(node.data)}", grad_text,
                         grad_font=grad_font, data_font=FADED if fade else "#111827", op=op)
    diagram.node(node_id, label=label, shape="box",
                 style="rounded,filled,dashed" if dead else "rounded,filled",
                 fillcolor="#ffffff" if fade else fill,
                 color=FADED if fade else border, penwidth=str(width),
                 fontcolor=FADED if fade else "#111827",
                 margin="0.04,0.03" if op is not None else "0.08,0.03")


def draw_constant(diagram: graphviz.Digraph, node_id: str, node: Value, name: str,
                  look: Look) -> None:
    """A constant as a small grey box with no gradient: a plain number of an
    expression shows just its value (``2``), named data (a labelled Constant, such as
    a loss's target) its name and value (``y = 0.9``)."""
    fade = look.faded(node)
    shown = name if is_number(node) else f"{name} = {look.number(node.data)}"
    diagram.node(node_id, label=_esc(shown), shape="box", style="rounded,filled",
                 fillcolor=ROLE_FILL["constant"], color=FADED if fade else GRAD_ZERO,
                 fontcolor=FADED if fade else NEUTRAL, fontsize="10",
                 height="0.25", width="0.3", margin="0.04,0.02")


def op_text(node: Value) -> str:
    """What an op circle says: the op's symbol, with its number input if it has one
    (``^2``)."""
    op = node.op
    assert op is not None
    if folds_exponent(node):
        return f"{op.symbol}{display_number(node.inputs[op.number].data)}"
    return op.symbol


def draw_op(diagram: graphviz.Digraph, op_id: str, node: Value, result_id: str,
            look: Look) -> None:
    """The op that made ``node`` as a circle, and the edge to its result's box."""
    fade = look.faded(node)
    diagram.node(op_id, label=_esc(op_text(node)), shape="circle",
                 style="filled", fillcolor="#f9fafb",
                 color=FADED if fade else NEUTRAL, fontcolor=FADED if fade else "#111827",
                 fontsize="12", width="0.36", height="0.36", fixedsize="false",
                 margin="0.02")
    diagram.edge(op_id, result_id, color=HIGHLIGHT if node in look.marked else
                 FADED if fade else NEUTRAL, penwidth="2.5" if node in look.marked else "1.0")


def operand_tag(node: Value, position: int) -> str:
    """``a`` or ``b`` for an input of a two-input op whose operands are not
    interchangeable (its row is not ``commutative``), else ``""``; a folded
    exponent's base needs no tag."""
    assert node.op is not None
    if node.op.arity != 2 or node.op.commutative or folds_exponent(node):
        return ""
    return "ab"[position]


def draw_operand(diagram: graphviz.Digraph, tail_id: str, op_id: str, node: Value,
                 position: int, look: Look, show_local: bool = False) -> None:
    """The edge from input ``position`` of ``node`` into its op circle: tagged ``a``/``b``
    where operand order matters, with ∂out/∂input on it when ``show_local``, dashed
    where that local derivative is 0 (no gradient flows back through it)."""
    child, local = node.inputs[position], node.local_grads[position]
    on_path = look.on_path(child, node)
    no_flow = look.gradients_known and local == 0.0
    attrs = {"color": HIGHLIGHT if on_path else FADED if look.marked or no_flow else NEUTRAL,
             "penwidth": "2.5" if on_path else "1.0"}
    if no_flow:
        attrs["style"] = "dashed"
    operand = operand_tag(node, position)
    if show_local:                                 # one label: "a: ∂ = 0.25", or "∂ = 0.25"
        local_text = f"∂ = {look.number(float(local))}"
        attrs["label"] = f"{operand}: {local_text}" if operand else local_text
        attrs["fontcolor"] = GRAD_ZERO if local == 0.0 else NEUTRAL
    elif operand:
        attrs["headlabel"] = operand
        attrs["labelfontsize"] = "9"
        attrs["labelfontcolor"] = NEUTRAL
        attrs["labeldistance"] = "1.4"
    diagram.edge(tail_id, op_id, **attrs)


def draw_neuron(diagram: graphviz.Digraph, key: tuple[int, int], members: list[Value],
                names: dict[Value, str], is_output: bool, look: Look) -> None:
    """One box for neuron j of layer l: a table of its z (with δ), a and own parameters."""
    layer, j = key
    shown = [n for n in members if n.label and not n.is_constant]
    z = next((n for n in shown if n.label.endswith(".z")), None)
    delta_node = z or shown[0]
    fade = bool(look.marked) and not any(n in look.marked for n in members)
    header = f'<TR><TD COLSPAN="3"><B>neuron {j} · layer {layer}</B></TD></TR>'
    rows = [header]
    order_key = {".z": 0, ".a": 1, ".b": 3}           # z, a, then w₁ w₂ …, then b
    shown.sort(key=lambda n: (order_key.get(n.label[-2:], 2), len(n.label), n.label))
    for n in shown:
        grad_cell = ""
        if look.show_grad:
            color = grad_color(n.grad) if look.gradients_known else NEUTRAL
            word = "δ" if n is z else "grad"
            grad_cell = (f'<TD ALIGN="LEFT"><FONT POINT-SIZE="10" COLOR="{color}">{word} '
                         f'{_esc(look.number(n.grad))}</FONT></TD>')
        rows.append(f'<TR><TD ALIGN="LEFT">{_esc(names[n])}</TD>'
                    f'<TD ALIGN="LEFT"><FONT POINT-SIZE="10">'
                    f'{_esc(look.number(n.data))}</FONT></TD>{grad_cell}</TR>')
    label = ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">'
             + "".join(rows) + "</TABLE>>")
    border, width = look.border(delta_node.grad)
    if any(n in look.marked for n in members):
        border = HIGHLIGHT
    diagram.node(neuron_id(key), label=label, shape="box", style="rounded,filled",
                 fillcolor="#ffffff" if fade else
                 ROLE_FILL["output"] if is_output else NEURON_FILL,
                 color=FADED if fade else border, penwidth=str(width),
                 fontcolor=FADED if fade else "#111827", margin="0.08,0.04")


# ---- the legend ----------------------------------------------------------------------------
def _legend(roles: list[str], show_grad: bool, show_local: bool, collapsed: bool,
            highlighted: bool, gradients_known: bool,
            definitions: dict[str, str] | None = None) -> str:
    """The key below a diagram: the roles drawn, what borders and edges mean, and
    (``definitions``) what each short id drawn stands for, ``v1 = x·w + b``."""
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
    where = ""
    if definitions:
        text = "   ·   ".join(f"{name} = {_esc(term)}" for name, term in definitions.items())
        where = (f'<TR><TD BORDER="0" ALIGN="LEFT" COLSPAN="{len(cells) + bool(notes)}">'
                 f'where {text}</TD></TR>')
    return ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="2"><TR>'
            + "".join(cells) + note_cell + "</TR>" + where + "</TABLE>>")


# ---- the diagram ---------------------------------------------------------------------------
def draw_dot(root: Value, rankdir: str = "LR", show_grad: bool = True, precision: int = 4,
             highlight: Any = None, max_nodes: int | None = 150, show_local: bool = False,
             collapse: str | None = None, parameters: Iterable[Value] | None = None,
             legend: bool = True, compact: bool = False) -> graphviz.Digraph:
    """Draw the computation graph that produced ``root``.

    ``show_grad`` shows each node's ``.grad`` (= ∂root/∂node after ``root.backward()``);
    ``precision`` is the number of significant digits; ``highlight`` marks a Value, a
    set or path of Values, or an ``explain(...)`` result; ``show_local`` writes
    ∂out/∂input on each edge; ``collapse="neuron"`` draws each nn neuron (its
    Σ w·a + b, z and a) as one box; ``parameters`` says which leaves are parameters
    (default: leaves with nn parameter labels); ``legend`` adds the key below;
    ``compact`` writes each op in its result's box instead of a circle of its own,
    which makes a deep graph about a third narrower (for slides).
    More than ``max_nodes`` Values is a :class:`GraphTooLargeError` (None: no limit).

    Inputs are drawn in operand order, top to bottom for ``rankdir="LR"``, so an nn
    network reads as in the lessons' figures: neuron 1 above neuron 2, w₁₁ above w₁₂."""
    _check_arguments(root, rankdir, precision, max_nodes, collapse)
    if not isinstance(compact, bool):
        raise TypeError(f"draw_dot: compact must be a bool, got {type(compact).__name__}")
    params = check_values("draw_dot", "parameters", parameters)
    marked = _highlight_set(highlight)
    layout = Layout.of(root, collapse)
    _check_size(layout.count(), max_nodes, collapse)
    look = Look.of(layout.nodes, show_grad, precision, marked)
    names = node_names(root)

    diagram = new_diagram("draw_dot", rankdir=rankdir)
    ops = sum(n.op is not None for n in layout.nodes)
    diagram.about = (f"draw_dot diagram of {names[root]}: {count(len(layout.nodes), 'value')}, "
                     f"{count(ops, 'op')}")
    if compact:
        diagram.attr("graph", ranksep="0.3", nodesep="0.2")
    roles_seen = draw_boxes(diagram, layout, names, root, params, look, compact)
    draw_ops(diagram, layout, look, show_local, compact)
    keep_in_order(diagram, columns(layout, root, compact))
    if legend:
        present = [r for r in ROLES if r in roles_seen]
        definitions = ids_shown(root, " ".join(names[n] for n in layout.drawn)) or None
        diagram.attr("graph", label=_legend(present, show_grad, show_local,
                                            bool(layout.groups), bool(marked),
                                            look.gradients_known, definitions),
                     labelloc="b", labeljust="l", fontsize="9", fontcolor=NEUTRAL)
    return diagram


def draw_boxes(diagram: graphviz.Digraph, layout: Layout, names: dict[Value, str],
               root: Value, params: set[Value] | None, look: Look, compact: bool = False,
               grads: dict[Value, float] | None = None) -> set[str]:
    """Every Value drawn alone (with the op that made it, if ``compact``), then every
    neuron box; returns the roles drawn. ``grads``: the gradients to show, if not
    the nodes' ``.grad``."""
    roles_seen = set()
    for n in layout.drawn:
        r = role(n, root, params)
        roles_seen.add(r)
        if n.is_constant:
            draw_constant(diagram, layout.ids[n], n, names[n], look)
        else:
            op = op_text(n) if compact and n.op is not None else None
            draw_value(diagram, layout.ids[n], n, names[n], ROLE_FILL[r], look, op,
                       grad=None if grads is None else grads[n])
    for key in layout.neurons:
        members = [n for n in layout.nodes if layout.groups.get(n) == key]
        draw_neuron(diagram, key, members, names, root in members, look)
        roles_seen.add("neuron")
    return roles_seen


def draw_ops(diagram: graphviz.Digraph, layout: Layout, look: Look, show_local: bool,
             compact: bool = False) -> list[tuple[str, str, Value, int | None]]:
    """Every op: a circle (or, if ``compact``, its result's box) with its operand
    edges, or, inside a neuron box, just the edges that enter the box. Returns the
    edges of the ops drawn, in drawing order, as (tail, head, the op's node, the
    operand's position, None for the edge from an op circle to its result's box)."""
    drawn: list[tuple[str, str, Value, int | None]] = []
    entering: set[tuple[str, str]] = set()
    for n in layout.nodes:
        if n.op is None:
            continue
        if n in layout.groups:
            _draw_entering(diagram, n, layout, look, entering)
            continue
        if compact:
            op_id = layout.unit(n)
        else:
            op_id = layout.op_id(n)
            draw_op(diagram, op_id, n, layout.unit(n), look)
            drawn.append((op_id, layout.unit(n), n, None))
        for position, child in enumerate(n.inputs):
            if folds_exponent(n) and position == n.op.number:
                continue
            draw_operand(diagram, layout.unit(child), op_id, n, position, look, show_local)
            drawn.append((layout.unit(child), op_id, n, position))
    return drawn


def _draw_entering(diagram: graphviz.Digraph, node: Value, layout: Layout, look: Look,
                   drawn: set[tuple[str, str]]) -> None:
    """The edges into a neuron box from the inputs of ``node`` (arithmetic inside the
    box) that lie outside it, each pair of boxes joined once."""
    for child in node.inputs:
        if layout.unit(child) == layout.unit(node) or child in layout.folded:
            continue
        pair = (layout.unit(child), layout.unit(node))
        if pair in drawn:
            continue
        drawn.add(pair)
        on_path = look.on_path(child, node)
        diagram.edge(*pair, color=HIGHLIGHT if on_path else FADED if look.marked else NEUTRAL,
                     penwidth="2.5" if on_path else "1.0")
