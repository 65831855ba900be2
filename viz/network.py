"""``draw_network``: an MLP drawn as in the lessons' figures.

Inputs on the left, the output on the right, one circle per neuron named in the
lessons' notation (x₁, a₁⁽¹⁾, ŷ), each edge labelled with its weight W⁽ˡ⁾ⱼₖ —
blue for a positive weight, orange for a negative one, thicker for a larger |w| —
and each neuron's bias b⁽ˡ⁾ⱼ. After a forward pass a neuron shows its activation
a⁽ˡ⁾ⱼ; after a backward pass it shows its error signal δ⁽ˡ⁾ⱼ = ∂L/∂z⁽ˡ⁾ⱼ, so the
recurrence δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ φ′(z⁽ˡ⁾) can be read off the picture.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from engine import OPS, Value, order

from .arguments import check_precision, check_rankdir
from .dot import FONT, GRAD_NEGATIVE, GRAD_POSITIVE, NEUTRAL, ROLE_FILL, new_diagram
from .names import lesson_name
from .notation import display_number, subscript, superscript

if TYPE_CHECKING:                                        # graphviz is imported lazily
    import graphviz

__all__ = ["draw_network", "WEIGHT_POSITIVE", "WEIGHT_NEGATIVE"]

#: Edge colours by the weight's sign (orange, not red: red already means a negative
#: gradient in draw_dot, and a weight is not a gradient).
WEIGHT_POSITIVE = "#2563eb"
WEIGHT_NEGATIVE = "#ea580c"
_ACTIVATION_NAMES = {"relu": "ReLU", "sigmoid": "σ", "tanh": "tanh", "linear": "linear"}
_WEIGHT_LABELS = ("value", "name", "both", "none")


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
    """a = φ(z) (+ a of the previous layer on a residual path), from the last forward."""
    z = getattr(neuron, "z", None)
    if not isinstance(z, Value):
        return None
    activation = getattr(neuron, "activation", "linear")
    a = z.data if activation == "linear" else OPS[activation].forward(z.data)
    if residual and previous is not None:
        a += previous
    return a


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


def _column(diagram: Any, title: str, nodes: list[tuple[str, str, str, str]]) -> None:
    """One column of circles under a title, stacked top to bottom in index order.

    ``nodes`` holds (id, HTML label, fill, width). The column is one rank chained by
    invisible edges title → first → second …, so dot keeps x₁ above x₂ instead of
    reordering to save crossings (clusters would let it reorder)."""
    with diagram.subgraph() as rank:
        rank.attr(rank="same")
        title_id = f"title_{nodes[0][0]}"
        rank.node(title_id, title, shape="plaintext", fixedsize="false", style="",
                  fontcolor=NEUTRAL, fontsize="12", width="0", height="0.3")
        for node_id, label, fill, width in nodes:
            rank.node(node_id, f"<{label}>", fillcolor=fill, width=width)
        chain = [title_id, *(node_id for node_id, *_ in nodes)]
        for upper, lower in zip(chain, chain[1:]):
            rank.edge(upper, lower, style="invis")


def _sub(*numbers: int) -> str:
    return "".join(subscript(n) for n in numbers)


def _sup(number: int) -> str:
    return f"⁽{superscript(number)}⁾"


def draw_network(model: Any, *, precision: int = 3, weights: str | None = None,
                 show_delta: bool | None = None, show_weight_grads: bool = False,
                 rankdir: str = "LR") -> graphviz.Digraph:
    """The MLP ``model`` as a diagram in the lessons' layout and notation.

    ``weights`` picks each edge's label: ``"value"`` (0.5), ``"name"`` (w₁₂⁽¹⁾),
    ``"both"`` (w₁₂⁽¹⁾ = 0.5) or ``"none"`` (colour and width still show the
    weight); the default is ``"value"`` up to 12 edges and ``"none"`` beyond, where
    labels would hide the picture. ``show_delta`` shows δ⁽ˡ⁾ⱼ = ∂L/∂z⁽ˡ⁾ⱼ
    (``neuron.z.grad``) in each neuron; by default once a backward pass has made
    some δ non-zero. ``show_weight_grads`` adds ∂L/∂W⁽ˡ⁾ⱼₖ = δ⁽ˡ⁾ⱼ a⁽ˡ⁻¹⁾ₖ under
    each weight. Values come from the model's last forward and backward pass (on
    one example: ``neuron.z`` is the last pre-activation made)."""
    layers = _check_model(model)
    edges = sum(len(n.w) for layer in layers for n in layer.neurons)
    if weights is None:
        weights = "value" if edges <= 12 else "none"
    if weights not in _WEIGHT_LABELS:
        raise ValueError(f"draw_network: weights must be one of {', '.join(_WEIGHT_LABELS)}, "
                         f"got {weights!r}")
    check_rankdir("draw_network", rankdir)
    check_precision("draw_network", precision)
    if not isinstance(show_weight_grads, bool):
        raise TypeError("draw_network: show_weight_grads must be a bool")
    num = lambda x: display_number(x, precision)           # noqa: E731

    zs = [getattr(n, "z", None) for layer in layers for n in layer.neurons]
    forward_done = all(isinstance(z, Value) for z in zs)
    if show_delta is None:
        show_delta = forward_done and any(z.grad for z in zs)   # type: ignore[union-attr]
    largest = max((abs(w.data) for layer in layers for n in layer.neurons for w in n.w),
                  default=0.0)

    diagram = new_diagram("network", rankdir=rankdir, newrank="true")
    diagram.attr("graph", ranksep="1.5" if weights != "none" else "1.1", nodesep="0.3")
    diagram.attr("node", shape="circle", style="filled", fixedsize="true")
    diagram.attr("edge", arrowsize="0.5", fontsize="11")

    xs = _inputs(layers)
    _column(diagram, "inputs", [
        (f"x{k}", _line(f"x{_sub(k)}", bold=True, size=14) +
         (f"<BR/>{_line(num(x.data))}" if x is not None else ""), ROLE_FILL["input"], "0.8")
        for k, x in enumerate(xs, 1)])
    previous = [f"x{k}" for k in range(1, len(xs) + 1)]
    previous_values = [x.data if x is not None else None for x in xs]

    last = len(layers)
    for l_index, layer in enumerate(layers, 1):
        neurons = layer.neurons
        activation = getattr(neurons[0], "activation", "linear")
        residual = bool(getattr(layer, "residual", False))
        title = ("output" if l_index == last else f"layer {l_index}") + \
            f" · {_ACTIVATION_NAMES.get(activation, activation)}" + (" + skip" if residual else "")
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
            lines = [_line(name, bold=True, size=14), _line(f"b = {num(neuron.b.data)}", size=10)]
            if forward_done and a_value is not None:
                lines.append(_line(f"a = {num(a_value)}", size=10))
            if show_delta and isinstance(neuron.z, Value):
                delta = neuron.z.grad
                colour = GRAD_POSITIVE if delta > 0 else GRAD_NEGATIVE if delta < 0 else NEUTRAL
                lines.append(_line(f"δ = {num(delta)}", colour=colour, bold=True, size=11))
            fill = ROLE_FILL["output" if l_index == last else "intermediate"]
            column.append((node_id, "<BR/>".join(lines), fill, "1.2" if len(lines) > 3 else "1.0"))
            for k, (source, w) in enumerate(zip(previous, neuron.w), 1):
                weight_name = lesson_name(w.label) or f"w{_sub(j, k)}{_sup(l_index)}"
                text = {"value": num(w.data), "name": weight_name,
                        "both": f"{weight_name} = {num(w.data)}", "none": ""}[weights]
                if show_weight_grads:
                    text = f"{text}\\n∂L/∂w = {num(w.grad)}" if text else f"∂L/∂w = {num(w.grad)}"
                colour = WEIGHT_NEGATIVE if w.data < 0 else WEIGHT_POSITIVE
                diagram.edge(source, node_id, label=text, color=colour, fontcolor=colour,
                             penwidth=_weight_width(w.data, largest),
                             tooltip=f"{weight_name} = {w.data!r}")
        _column(diagram, title, column)
        previous = [node_id for node_id, *_ in column]
        previous_values = values
    diagram.attr(label=_legend(show_delta), labelloc="b", fontsize="10", fontname=FONT,
                 fontcolor=NEUTRAL)
    return diagram


def _legend(show_delta: bool) -> str:
    parts = ["edge: weight w (blue > 0, orange < 0, width ∝ |w|)", "b: bias",
             "a: activation"]
    if show_delta:
        parts.append("δ = ∂L/∂z")
    return "   ·   ".join(parts)
