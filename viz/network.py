"""``draw_network``: an MLP drawn as in the lessons' figures.

Inputs on the left, the output on the right, one circle per neuron named in the
lessons' notation (x₁, a₁⁽¹⁾, ŷ), each edge labelled with its weight W⁽ˡ⁾ⱼₖ —
blue for a positive weight, orange for a negative one, thicker for a larger |w|,
the label beside its own edge, clear of the others (``edge_labels``) — and each
neuron's bias b⁽ˡ⁾ⱼ (when it is not 0, or when asked). After a forward pass a
neuron shows its activation a⁽ˡ⁾ⱼ; after a backward pass it shows its error signal
δ⁽ˡ⁾ⱼ = ∂L/∂z⁽ˡ⁾ⱼ, so the recurrence δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ φ′(z⁽ˡ⁾) can be read
off the picture. With ``loss=`` the loss node L and its targets (y₁ = 0.9) are
drawn too. The column headers stand on one line.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any, Mapping

from engine import Value, order

from .arguments import check_precision, check_rankdir
from .dot import (
    FONT,
    GRAD_NEGATIVE,
    GRAD_POSITIVE,
    NEUTRAL,
    ROLE_FILL,
    DotNotFoundError,
    new_diagram,
)
from .edge_labels import tail_label_places
from .names import is_number, lesson_name
from .notation import (
    activation_row,
    activation_symbol,
    display_number,
    subscript,
    superscript,
)

if TYPE_CHECKING:                                        # graphviz is imported lazily
    import graphviz

__all__ = ["draw_network", "WEIGHT_POSITIVE", "WEIGHT_NEGATIVE"]

#: Edge colours by the weight's sign (orange, not red: red already means a negative
#: gradient in draw_dot, and a weight is not a gradient).
WEIGHT_POSITIVE = "#2563eb"
WEIGHT_NEGATIVE = "#ea580c"
_WEIGHT_LABELS = ("value", "name", "both", "none")
_TAGS = re.compile(r"<[^>]+>")


def _check_model(model: Any) -> list[Any]:
    """The model's layers, checked to be an nn.MLP-like object (``.layers`` of
    ``.neurons`` with ``.w`` and ``.b``)."""
    layers = getattr(model, "layers", None)
    if not isinstance(layers, (list, tuple)) or not layers:
        raise TypeError(f"draw_network: model must be an nn.MLP (with .layers), "
                        f"got {type(model).__name__}")
    for layer in layers:
        neurons = getattr(layer, "neurons", None)
        if not neurons or not all(isinstance(getattr(n, "b", None), Value) for n in neurons):
            raise TypeError("draw_network: every layer needs .neurons, each with .w and .b")
    return list(layers)


def _inputs(layers: list[Any]) -> list[Value | None]:
    """The input leaves x₁ … xₙ of the last forward pass (None when not found):
    they are the leaves labelled x1, x2, … under a first-layer neuron's z."""
    nin = len(layers[0].neurons[0].w)
    found: list[Value | None] = [None] * nin
    z = getattr(layers[0].neurons[0], "z", None)
    if isinstance(z, Value):
        weights = set(layers[0].neurons[0].w)
        for node in order(z):
            if node.op is None and node not in weights and node.label.startswith("x"):
                index = node.label[1:]
                if index.isdigit() and 1 <= int(index) <= nin:
                    found[int(index) - 1] = node
    return found


def _activation_value(neuron: Any, previous: float | None, residual: bool) -> float | None:
    """a = φ(z) (+ a of the previous layer on a residual path), from the last forward:
    ``neuron.a`` when the neuron kept it, else recomputed from ``neuron.z``."""
    a = getattr(neuron, "a", None)
    if isinstance(a, Value):
        return a.data
    z = getattr(neuron, "z", None)
    if not isinstance(z, Value):
        return None
    row = activation_row(getattr(neuron, "activation", "linear"))
    value = z.data if row is None else row.forward(z.data)
    if residual and previous is not None:
        value += previous
    return value


def _line(text: str, colour: str | None = None, bold: bool = False, size: int | None = None) -> str:
    body = html.escape(text)
    if bold:
        body = f"<B>{body}</B>"
    attrs = (f' COLOR="{colour}"' if colour else "") + (f' POINT-SIZE="{size}"' if size else "")
    return f"<FONT{attrs}>{body}</FONT>" if attrs else body


def _weight_width(weight: float, largest: float) -> str:
    """Edge width 0.6–4.5 by |w| relative to the largest |w| in the network."""
    if not largest:
        return "0.8"
    return f"{0.6 + 3.9 * abs(weight) / largest:.2f}"


def _column(diagram: Any, title: str, nodes: list[tuple[str, str, dict[str, str]]]) -> str:
    """One column of nodes under a title, stacked top to bottom in index order; the
    title's id is returned.

    ``nodes`` holds (id, HTML label, attributes). The column is one rank chained by
    invisible edges title → first → second …, so dot keeps x₁ above x₂ instead of
    reordering to save crossings (clusters would let it reorder)."""
    title_id = f"title_{nodes[0][0]}"
    with diagram.subgraph() as rank:
        rank.attr(rank="same")
        rank.node(title_id, title, shape="plaintext", fixedsize="false", style="",
                  fontcolor=NEUTRAL, fontsize="13", width="0", height="0.3", id=title_id)
        for node_id, label, attrs in nodes:
            rank.node(node_id, f"<{label}>", id=node_id, **attrs)
        chain = [title_id, *(node_id for node_id, *_ in nodes)]
        for upper, lower in zip(chain, chain[1:]):
            rank.edge(upper, lower, style="invis")
    return title_id


def _sub(*numbers: int) -> str:
    return "".join(subscript(n) for n in numbers)


def _sup(number: int) -> str:
    return f"⁽{superscript(number)}⁾"


def _label_angle(k: int, j: int, sources: int, targets: int, rankdir: str) -> float:
    """Where the label of the weight from node k (of ``sources``) to node j (of
    ``targets``) sits when no layout can be had (no ``dot`` to place it, see
    ``_label_places``): turned from its edge near the edge's start, above an edge
    going down, below an edge going up, a level edge's on the outer side."""
    if rankdir not in ("LR", "RL"):
        return 0.0
    above = 22.0 if rankdir == "LR" else -22.0
    if j > k or (j == k and k == 1):
        return above
    if j < k or k == sources or j == targets:
        return -above
    return 0.0


def _spacing(labels: list[str], rankdir: str, fan: int) -> tuple[str, str]:
    """The graph's ranksep and nodesep (inches): room between the columns for the
    weight labels beside the edges, which are wider than tall (about 0.08 in a
    character at 12 pt); across the edges when the columns stand side by side (TB).
    A column of more than two neurons (``fan``: the most in one) sends more edges
    through the same room: the figure grows with it, so its labels keep clear."""
    widest = max((len(line) for text in labels for line in text.split("\\n")), default=0)
    lines = max((text.count("\\n") + 1 for text in labels if text), default=0)
    width = 0.08 * widest
    crowd = max(0, fan - 2) if widest else 0
    if rankdir in ("LR", "RL"):
        ranksep = 1.0 + (0.7 if lines < 2 else 1.25) * width + 0.4 * crowd
        nodesep = max(0.25, 0.3 * lines) * (1 + 0.6 * crowd)
    else:
        ranksep = 0.9 + 0.3 * width + 0.2 * crowd
        nodesep = max(0.35, 1.1 * width) * (1 + 0.3 * crowd)
    return f"{max(1.1, ranksep):.2f}", f"{nodesep:.2f}"


def _label_places(diagram: graphviz.Digraph) -> dict[str, tuple[float, float]]:
    """Each weight label's (labelangle, labeldistance) beside its own edge, clear of
    the others (``edge_labels``), from one layout of ``diagram`` by ``dot``; none
    when ``dot`` is missing (the DOT text can still be written)."""
    try:
        layout = diagram.pipe(format="json")
    except DotNotFoundError:
        return {}
    return tail_label_places(layout)


def draw_network(model: Any, *, precision: int = 4, weights: str | None = None,
                 show_delta: bool | None = None, show_weight_grads: bool = False,
                 show_bias: bool | None = None, loss: Value | None = None,
                 rankdir: str = "LR") -> graphviz.Digraph:
    """The MLP ``model`` as a diagram in the lessons' layout and notation.

    ``weights`` picks each edge's label: ``"value"`` (0.5), ``"name"`` (w₁₂⁽¹⁾),
    ``"both"`` (w₁₂⁽¹⁾ = 0.5) or ``"none"`` (colour and width still show the
    weight); the default is ``"value"`` up to 12 edges and ``"none"`` beyond, where
    labels would hide the picture. ``show_delta`` shows δ⁽ˡ⁾ⱼ = ∂L/∂z⁽ˡ⁾ⱼ
    (``neuron.z.grad``) in each neuron; by default once a backward pass has made
    some δ non-zero. ``show_weight_grads`` adds ∂L/∂W⁽ˡ⁾ⱼₖ = δ⁽ˡ⁾ⱼ a⁽ˡ⁻¹⁾ₖ under
    each weight. ``show_bias`` shows each b⁽ˡ⁾ⱼ (default: the biases that are not 0).
    ``loss`` (the loss Value computed from the model's output) adds the loss node
    with its value and the targets it was computed against. ``precision`` is in
    significant digits (4 shows a lesson's 1.815 unrounded). Values come from the
    model's last forward and backward pass (on one example: ``neuron.z`` is the last
    pre-activation made)."""
    return network_diagram(model, precision=precision, weights=weights, show_delta=show_delta,
                           show_weight_grads=show_weight_grads, show_bias=show_bias, loss=loss,
                           rankdir=rankdir)


def network_diagram(model: Any, *, precision: int = 4, weights: str | None = None,
                    show_delta: bool | None = None, show_weight_grads: bool = False,
                    show_bias: bool | None = None, loss: Value | None = None,
                    rankdir: str = "LR", gradients: Mapping[Value, float] | None = None,
                    who: str = "draw_network") -> graphviz.Digraph:
    """``draw_network``, with the gradients read from ``gradients`` instead of
    ``.grad`` when given (so a page can show a backward pass without running one).
    Every neuron's node has the id ``L{l}N{j}``, every edge ``w_L{l}N{j}_{k}``."""
    layers = _check_model(model)
    edges = sum(len(n.w) for layer in layers for n in layer.neurons)
    if weights is None:
        weights = "value" if edges <= 12 else "none"
    if weights not in _WEIGHT_LABELS:
        raise ValueError(f"{who}: weights must be one of {', '.join(_WEIGHT_LABELS)}, "
                         f"got {weights!r}")
    check_rankdir(who, rankdir)
    check_precision(who, precision)
    for name, flag in (("show_weight_grads", show_weight_grads), ("show_bias", show_bias),
                       ("show_delta", show_delta)):
        if flag is not None and not isinstance(flag, bool):
            raise TypeError(f"{who}: {name} must be a bool, got {type(flag).__name__}")
    if loss is not None and not isinstance(loss, Value):
        raise TypeError(f"{who}: loss must be a Value (the loss computed from the model's "
                        f"output), got {type(loss).__name__}")
    num = lambda x: display_number(x, precision)           # noqa: E731
    grad_of = (lambda v: v.grad) if gradients is None else (   # noqa: E731
        lambda v: gradients.get(v, 0.0))

    zs = [getattr(n, "z", None) for layer in layers for n in layer.neurons]
    forward_done = all(isinstance(z, Value) for z in zs)
    if show_delta is None:
        show_delta = forward_done and any(grad_of(z) for z in zs)  # type: ignore[arg-type]
    largest = max((abs(w.data) for layer in layers for n in layer.neurons for w in n.w),
                  default=0.0)

    labels = {}                                          # weight → (name, edge label)
    for l_index, layer in enumerate(layers, 1):
        for j, neuron in enumerate(layer.neurons, 1):
            for k, w in enumerate(neuron.w, 1):
                weight_name = lesson_name(w.label) or f"w{_sub(j, k)}{_sup(l_index)}"
                text = {"value": num(w.data), "name": weight_name,
                        "both": f"{weight_name} = {num(w.data)}", "none": ""}[weights]
                if show_weight_grads:
                    gradient = f"∂L/∂w = {num(grad_of(w))}"
                    text = f"{text}\\n{gradient}" if text else gradient
                labels[w] = (weight_name, text)
    fan = max(len(layers[0].neurons[0].w), *(len(layer.neurons) for layer in layers))
    ranksep, nodesep = _spacing([text for _, text in labels.values()], rankdir, fan)

    def draw(places: Mapping[str, tuple[float, float]]) -> graphviz.Digraph:
        """The diagram, each weight label at ``places[edge id]`` (labelangle,
        labeldistance) or, where not given, by its edge's direction alone."""
        diagram = new_diagram("network", rankdir=rankdir, newrank="true")
        diagram.about = f"{who} diagram of {model!r}"
        diagram.attr("graph", ranksep=ranksep, nodesep=nodesep)
        diagram.attr("node", shape="circle", style="filled", fixedsize="true", fontsize="14")
        diagram.attr("edge", arrowsize="0.5", fontsize="12")
        biases = False                                   # is any b drawn (for the legend)?

        xs = _inputs(layers)
        titles = [_column(diagram, "inputs", [
            (f"x{k}", _line(f"x{_sub(k)}", bold=True, size=16) +
             (f"<BR/>{_line(num(x.data))}" if x is not None else ""),
             {"fillcolor": ROLE_FILL["input"], "width": "0.8"})
            for k, x in enumerate(xs, 1)])]
        previous = [f"x{k}" for k in range(1, len(xs) + 1)]
        previous_values = [x.data if x is not None else None for x in xs]

        last = len(layers)
        outputs = []
        for l_index, layer in enumerate(layers, 1):
            neurons = layer.neurons
            activation = getattr(neurons[0], "activation", "linear")
            residual = bool(getattr(layer, "residual", False))
            title = ("output" if l_index == last else f"layer {l_index}") + \
                f" · {activation_symbol(activation)}" + (" + skip" if residual else "")
            column, values = [], []
            for j, neuron in enumerate(neurons, 1):
                node_id = f"L{l_index}N{j}"
                before = previous_values[j - 1] if j - 1 < len(previous_values) else None
                a_value = _activation_value(neuron, before, residual)
                values.append(a_value)
                if l_index == last:
                    name = "ŷ" if len(neurons) == 1 else f"ŷ{_sub(j)}"
                else:
                    name = f"a{_sub(j)}{_sup(l_index)}"
                lines = [_line(name, bold=True, size=16)]
                if show_bias or (show_bias is None and neuron.b.data != 0.0):
                    biases = True
                    lines.append(_line(f"b = {num(neuron.b.data)}", size=12))
                if forward_done and a_value is not None:
                    lines.append(_line(f"a = {num(a_value)}", size=12))
                if show_delta and isinstance(neuron.z, Value):
                    delta = grad_of(neuron.z)
                    colour = GRAD_POSITIVE if delta > 0 else GRAD_NEGATIVE if delta < 0 else NEUTRAL
                    lines.append(_line(f"δ = {num(delta)}", colour=colour, bold=True, size=12))
                fill = ROLE_FILL["output" if l_index == last else "intermediate"]
                longest = max(len(html.unescape(_TAGS.sub("", line))) for line in lines)
                width = max(1.35 if len(lines) > 3 else 1.2, 0.1 * longest + 0.1)
                column.append((node_id, "<BR/>".join(lines),
                               {"fillcolor": fill, "width": f"{width:.2f}"}))
                for k, (source, w) in enumerate(zip(previous, neuron.w), 1):
                    weight_name, text = labels[w]
                    colour = WEIGHT_NEGATIVE if w.data < 0 else WEIGHT_POSITIVE
                    edge_id = f"w_{node_id}_{k}"
                    angle, distance = places.get(edge_id, (
                        _label_angle(k, j, len(previous), len(neurons), rankdir), 5.0))
                    diagram.edge(source, node_id, taillabel=text, labelfontcolor=colour,
                                 labelfontsize="12", labelangle=f"{angle:.4g}",
                                 labeldistance=f"{distance:.4g}", color=colour,
                                 penwidth=_weight_width(w.data, largest), id=edge_id,
                                 tooltip=f"{weight_name} = {w.data!r}")
            titles.append(_column(diagram, title, column))
            previous = [node_id for node_id, *_ in column]
            previous_values = values
            outputs = previous
        if loss is not None:
            titles += _loss_columns(diagram, loss, outputs, num)
        for left, right in zip(titles, titles[1:]):          # the headers on one line
            diagram.edge(left, right, style="invis", weight="100")
        diagram.attr(label=_legend(biases, forward_done, bool(show_delta)), labelloc="b",
                     fontsize="12", fontname=FONT, fontcolor=NEUTRAL)
        return diagram

    diagram = draw({})
    if weights != "none" or show_weight_grads:
        diagram = draw(_label_places(diagram))
    return diagram


def _loss_columns(diagram: Any, loss: Value, outputs: list[str], num: Any) -> list[str]:
    """The loss column: the targets (named constants of the loss: y₁ = 0.9) above
    the loss node L with its value; the column title's id."""
    targets = [n for n in order(loss) if n.is_constant and not is_number(n)]
    box = {"shape": "box", "style": "rounded,filled", "fixedsize": "false"}
    nodes = [(f"target{i}", _line(f"{lesson_name(t.label) or t.label} = {num(t.data)}", size=13),
              {**box, "fillcolor": ROLE_FILL["constant"], "width": "0.6", "height": "0.4"})
             for i, t in enumerate(targets, 1)]
    name = lesson_name(loss.label) or loss.label or "L"
    nodes.append(("loss", _line(f"{name} = {num(loss.data)}", bold=True, size=15),
                  {**box, "fillcolor": ROLE_FILL["output"], "width": "0.9", "height": "0.6"}))
    title = _column(diagram, "targets · loss" if targets else "loss", nodes)
    for source in outputs:
        diagram.edge(source, "loss", color=NEUTRAL, id=f"to_loss_{source}")
    return [title]


def _legend(bias: bool, activation: bool, delta: bool) -> str:
    """The key to what the figure shows, and only that (no "b: bias" where no b is)."""
    parts = ["edge: weight w (blue > 0, orange < 0, width ∝ |w|)"]
    parts += [part for part, shown in (("b: bias", bias), ("a: activation", activation),
                                       ("δ = ∂L/∂z", delta)) if shown]
    return "   ·   ".join(parts)
