"""viz.network.draw_network: the MLP in the lessons' layout, checked on its DOT source.

The δ values it prints are derived here independently, by the lessons' recurrence
δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ φ′(z⁽ˡ⁾) in plain-list matrix maths.
"""

from __future__ import annotations

import math
import re
import shutil
import xml.etree.ElementTree as ET

import pytest

from nn import MLP, mse
from viz.names import display_number
from viz.network import WEIGHT_NEGATIVE, WEIGHT_POSITIVE, draw_network

pytest.importorskip("graphviz")

W1 = [[0.5, -0.4], [0.3, 0.8]]          # W⁽¹⁾[j][k]: into neuron j from input k
B1 = [0.1, -0.2]
W2 = [[1.2, -0.9]]
B2 = [0.05]
X = [1.0, 2.0]
Y = 1.0


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def network() -> MLP:
    return MLP.from_weights([W1, W2], [B1, B2], activation="sigmoid",
                            output_activation="sigmoid")


def hand_deltas() -> tuple[list[float], list[float], list[float], float]:
    """Forward and backward for L = (ŷ − y)² by hand: (a⁽¹⁾, δ⁽¹⁾, δ⁽²⁾, ŷ)."""
    z1 = [sum(w * x for w, x in zip(row, X)) + b for row, b in zip(W1, B1)]
    a1 = [sigmoid(z) for z in z1]
    z2 = [sum(w * a for w, a in zip(row, a1)) + b for row, b in zip(W2, B2)]
    y_hat = sigmoid(z2[0])
    delta2 = [2 * (y_hat - Y) * y_hat * (1 - y_hat)]                      # ∂L/∂ŷ · ψ′(z⁽²⁾)
    delta1 = [sum(W2[j][k] * delta2[j] for j in range(len(W2))) * a1[k] * (1 - a1[k])
              for k in range(len(a1))]                                     # (W⁽²⁾ᵀδ⁽²⁾) ⊙ φ′
    return a1, delta1, delta2, y_hat


def trained_once() -> MLP:
    model = network()
    loss = mse(model(X), Y)             # mean over one output: (ŷ − y)²
    loss.backward()
    return model


def node_label(source: str, node_id: str) -> str:
    match = re.search(rf"^\s*{node_id} \[label=<(.*)> ", source, re.M)
    assert match, f"no node {node_id}"
    return match.group(1)


def test_neurons_show_the_lessons_names_and_the_hand_derived_deltas() -> None:
    model = trained_once()
    a1, delta1, delta2, y_hat = hand_deltas()
    source = draw_network(model).source
    for j in (1, 2):
        label = node_label(source, f"L1N{j}")
        assert f"a{'₁₂'[j - 1]}⁽¹⁾" in label
        assert f"δ = {display_number(delta1[j - 1], 4)}" in label
        assert f"a = {display_number(a1[j - 1], 4)}" in label
        assert f"b = {display_number(B1[j - 1], 4)}" in label
        assert math.isclose(model.layers[0].neurons[j - 1].z.grad, delta1[j - 1], rel_tol=1e-12)
    out = node_label(source, "L2N1")
    assert "ŷ" in out and f"δ = {display_number(delta2[0], 4)}" in out
    assert f"a = {display_number(y_hat, 4)}" in out
    assert "x₁" in node_label(source, "x1") and ">1<" not in node_label(source, "x1")
    assert node_label(source, "x2").endswith("<BR/>2")
    assert "δ = ∂L/∂z" in source                                  # the legend

    for neuron in (n for layer in model.layers for n in layer.neurons):
        neuron.a = None                     # a neuron that kept only z: a = σ(z) from its row
    again = draw_network(model).source
    assert f"a = {display_number(a1[0], 4)}" in node_label(again, "L1N1")
    assert f"a = {display_number(y_hat, 4)}" in node_label(again, "L2N1")


def test_edges_carry_weights_coloured_by_sign_and_wide_by_size() -> None:
    source = draw_network(trained_once()).source
    largest = max(abs(w) for m in (W1, W2) for row in m for w in row)
    expected = [(f"x{k + 1}", f"L1N{j + 1}", W1[j][k]) for j in range(2) for k in range(2)]
    expected += [(f"L1N{k + 1}", "L2N1", W2[0][k]) for k in range(2)]
    for tail, head, w in expected:
        line = re.search(rf"^\s*{tail} -> {head} \[(.*)\]$", source, re.M).group(1)
        assert re.search(f'taillabel="?{display_number(w, 4)}"? ', line)
        colour = WEIGHT_NEGATIVE if w < 0 else WEIGHT_POSITIVE
        assert f'color="{colour}"' in line
        width = float(re.search(r"penwidth=([\d.]+)", line).group(1))
        assert width == pytest.approx(0.6 + 3.9 * abs(w) / largest, abs=0.01)


def test_weight_names_in_lesson_notation() -> None:
    source = draw_network(trained_once(), weights="both").source
    assert re.search(r'x2 -> L1N1 \[.*taillabel="w₁₂⁽¹⁾ = −0.4"', source)   # W⁽¹⁾₁₂ = −0.4
    assert re.search(r'L1N2 -> L2N1 \[.*taillabel="w₁₂⁽²⁾ = −0.9"', source)
    names = draw_network(trained_once(), weights="name").source
    assert re.search(r'x1 -> L1N2 \[.*taillabel="w₂₁⁽¹⁾"', names)
    assert 'taillabel=""' in draw_network(trained_once(), weights="none").source


def test_weight_gradients_are_delta_times_input() -> None:
    """∂L/∂W⁽¹⁾ⱼₖ = δ⁽¹⁾ⱼ xₖ (lessons, result 3)."""
    _, delta1, _, _ = hand_deltas()
    source = draw_network(trained_once(), show_weight_grads=True).source
    line = re.search(r"^\s*x2 -> L1N1 \[(.*)\]$", source, re.M).group(1)
    assert f"∂L/∂w = {display_number(delta1[0] * X[1], 4)}" in line


def test_no_delta_before_backward_and_no_values_before_forward() -> None:
    fresh = draw_network(network()).source
    assert "δ =" not in fresh and "a =" not in fresh
    model = network()
    model(X)
    forward_only = draw_network(model).source
    assert "δ =" not in forward_only and "a =" in forward_only
    assert "δ = 0" in draw_network(model, show_delta=True).source


def test_columns_keep_index_order() -> None:
    source = draw_network(trained_once()).source
    for chain in (("title_x1", "x1", "x2"), ("title_L1N1", "L1N1", "L1N2")):
        for upper, lower in zip(chain, chain[1:]):
            assert f"{upper} -> {lower} [style=invis]" in source
    assert "layer 1 · σ" in source and "output · σ" in source


def test_big_networks_drop_weight_labels_by_default() -> None:
    model = MLP(4, [8, 8, 1], seed=3)                      # 32 + 64 + 8 edges
    source = draw_network(model).source
    assert re.findall(r"-> L\dN\d \[.*taillabel=\"\"", source)
    assert not re.findall(r"-> L\dN\d \[.*taillabel=\"?[^\" ]", source)


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="draw_network: model must be an nn.MLP"):
        draw_network(object())
    with pytest.raises(ValueError, match="weights must be one of"):
        draw_network(network(), weights="all")
    with pytest.raises(ValueError, match="rankdir"):
        draw_network(network(), rankdir="sideways")
    with pytest.raises(ValueError, match="precision"):
        draw_network(network(), precision=0)


@pytest.mark.skipif(shutil.which("dot") is None,
                    reason="graphviz's `dot` is not installed (apt-get install graphviz)")
def test_renders_to_svg() -> None:
    _, delta1, _, _ = hand_deltas()
    svg = draw_network(trained_once(), weights="both").pipe(format="svg")
    root = ET.fromstring(svg)
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert f"δ = {display_number(delta1[0], 4)}" in texts
    assert "w₁₂⁽¹⁾ = −0.4" in texts
    assert "ŷ" in texts and "x₁" in texts


# ---- what the lessons need ------------------------------------------------------------
def test_default_precision_shows_three_decimals_unrounded() -> None:
    model = MLP.from_weights([[[1.815, -0.125]]], [[0.0]])
    model([1.0, 1.0])
    source = draw_network(model).source
    assert "taillabel=1.815 " in source and "1.82 " not in source


def test_a_zero_bias_is_shown_only_when_asked() -> None:
    model = network()
    model.layers[0].neurons[0].b.data = 0.0
    model(X)
    source = draw_network(model).source
    assert "b = " not in node_label(source, "L1N1") and "b = −0.2" in node_label(source, "L1N2")
    assert "b = 0<" in node_label(draw_network(model, show_bias=True).source, "L1N1")
    assert "b = " not in draw_network(model, show_bias=False).source
    assert "b: bias" not in draw_network(model, show_bias=False).source   # nor in the key


def test_the_loss_node_and_its_targets() -> None:
    model = network()
    loss = mse(model(X), Y)
    loss.backward()
    source = draw_network(model, loss=loss).source
    assert f"L = {display_number(loss.data, 4)}" in node_label(source, "loss")
    assert "y = 1" in node_label(source, "target1")          # the target, with its value
    assert "L2N1 -> loss" in source
    assert "ŷ" in node_label(source, "L2N1")                # one name for the output
    from viz.explain import explain
    assert explain(loss, model.layers[1].neurons[0].z).paths[0].names[1] == "ŷ"


def test_column_headers_stand_on_one_line() -> None:
    source = draw_network(trained_once()).source
    assert "title_x1 -> title_L1N1 [style=invis weight=100]" in source
    assert "title_L1N1 -> title_L2N1 [style=invis weight=100]" in source


@pytest.mark.skipif(shutil.which("dot") is None,
                    reason="graphviz's `dot` is not installed (apt-get install graphviz)")
def test_headers_share_one_line() -> None:
    svg = ET.fromstring(draw_network(trained_once(), weights="both").pipe(format="svg"))
    ns = "{http://www.w3.org/2000/svg}"
    groups = {g.get("id"): g for g in svg.iter(f"{ns}g")}
    heights = {float(groups[t].find(f"{ns}text").get("y"))
               for t in ("title_x1", "title_L1N1", "title_L2N1")}
    assert len(heights) == 1


# ---- each weight label beside its own edge, read off dot's own layout ---------------------
def _bezier_line(pos: str) -> list[tuple[float, float]]:
    """An edge's drawn line, finely sampled from the cubic Béziers of its ``pos``."""
    points, tip = [], None
    for part in pos.split():
        fields = part.split(",")
        if fields[0] == "e":
            tip = (float(fields[1]), float(fields[2]))
        elif fields[0] != "s":
            points.append((float(fields[0]), float(fields[1])))
    line = []
    for i in range(0, len(points) - 3, 3):
        p = points[i:i + 4]
        for step in range(41):
            t, u = step / 40, 1 - step / 40
            line.append(tuple(u ** 3 * p[0][c] + 3 * u * u * t * p[1][c] + 3 * u * t * t * p[2][c]
                              + t ** 3 * p[3][c] for c in (0, 1)))
    return line + ([tip] if tip else [])


def _text_box(drawing: list[dict]) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) of a label's lines as dot drew them (centred text)."""
    size, boxes = 14.0, []
    for op in drawing:
        if op["op"] == "F":
            size = op["size"]
        elif op["op"] == "T":
            (x, y), half = op["pt"], op["width"] / 2
            boxes.append((x - half, y - 0.25 * size, x + half, y + 0.8 * size))
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
            max(b[3] for b in boxes))


def _gap(box: tuple[float, float, float, float], point: tuple[float, float]) -> float:
    return math.hypot(max(box[0] - point[0], 0, point[0] - box[2]),
                      max(box[1] - point[1], 0, point[1] - box[3]))


def _lessons_2221() -> tuple[MLP, object]:
    model = MLP.from_weights([[[0.5, -0.4], [0.3, 0.8]], [[0.2, -0.6], [0.7, 0.1]],
                              [[0.9, -0.5]]], [[0.1, -0.2], [0.05, 0.0], [0.2]],
                             activation="sigmoid", output_activation="sigmoid")
    loss = mse(model([1.0, 2.0]), 1.0)
    loss.backward()
    return model, loss


def _with_loss(model: MLP, loss: object) -> object:
    return draw_network(model, weights="both", loss=loss)


FIGURES = {
    "2-2-1 values": lambda: draw_network(trained_once()),
    "2-2-1 names and values": lambda: draw_network(trained_once(), weights="both"),
    "2-2-1 with ∂L/∂w": lambda: draw_network(trained_once(), show_weight_grads=True),
    "2-2-2-1 with the loss": lambda: _with_loss(*_lessons_2221()),
    "2-2-2-1 with ∂L/∂w": lambda: draw_network(_lessons_2221()[0], weights="both",
                                               show_weight_grads=True),
    "3-2-1": lambda: draw_network(MLP.from_weights([[[0.4, -0.7, 0.2], [-0.3, 0.9, 0.5]],
                                                    [[1.1, -0.6]]], [[0.1, 0.0], [0.3]])),
    "2-2-2-1 top to bottom": lambda: draw_network(_lessons_2221()[0], rankdir="TB"),
    "3-4-1, labels asked for": lambda: draw_network(_exercise_341(), weights="value")}


def _exercise_341() -> MLP:
    """The lessons' 3 → 4 → 1 exercise: 16 edges, so labelled only when asked."""
    model = MLP(3, [4, 1], activation="relu", output_activation="sigmoid", seed=7)
    mse(model([0.5, -1.0, 2.0]), 1.0).backward()
    return model


@pytest.mark.skipif(shutil.which("dot") is None,
                    reason="graphviz's `dot` is not installed (apt-get install graphviz)")
@pytest.mark.parametrize("name", list(FIGURES))
def test_each_weight_label_stands_beside_its_own_edge(name: str) -> None:
    """No label lies on another edge or reads as another edge's (as the crossing
    edges x₁ → a₂ and x₂ → a₁ tempt): its own edge is the nearest to it, every other
    edge at least 4 pt away; no label covers a neuron or another label."""
    import json
    layout = json.loads(FIGURES[name]().pipe(format="json"))
    edges = {e["id"]: (_bezier_line(e["pos"]), e.get("_tldraw_"))
             for e in layout["edges"] if e.get("style") != "invis"}
    boxes = {}
    for edge_id, (line, drawing) in edges.items():
        if not drawing:
            continue
        box = boxes[edge_id] = _text_box(drawing)
        own = min(_gap(box, p) for p in line)
        for other_id, (other, _) in edges.items():
            if other_id != edge_id:
                nearest = min(_gap(box, p) for p in other)
                assert nearest > own and nearest >= 4.0, (
                    f"{name}: the label of {edge_id} is {nearest:.1f} pt from {other_id}, "
                    f"{own:.1f} pt from its own edge")
    assert len(boxes) == sum(1 for e in layout["edges"] if e.get("id", "").startswith("w_"))
    circles = [(tuple(map(float, n["pos"].split(","))), float(n["width"]) * 36)
               for n in layout["objects"] if n.get("shape") == "circle"]
    for edge_id, box in boxes.items():
        for centre, radius in circles:
            assert _gap(box, centre) >= radius, f"{name}: the label of {edge_id} covers a neuron"
        for other_id, other in boxes.items():
            apart = (box[2] <= other[0] or other[2] <= box[0] or box[3] <= other[1]
                     or other[3] <= box[1])
            assert other_id == edge_id or apart, f"{name}: {edge_id} and {other_id} overlap"


def test_without_dot_the_labels_turn_by_the_edges_direction(monkeypatch) -> None:
    """With no `dot` to lay the figure out, the DOT text is still written (for
    ``write("x.dot")``): each label turned from its edge, above one going down."""
    monkeypatch.setenv("PATH", "")
    source = draw_network(trained_once(), weights="both").source
    assert re.search(r"x1 -> L1N2 \[.*labelangle=22 labeldistance=5 ", source)
    assert re.search(r"x2 -> L1N1 \[.*labelangle=-22 labeldistance=5 ", source)


def test_bad_loss_and_flags() -> None:
    with pytest.raises(TypeError, match="draw_network: loss must be a Value"):
        draw_network(network(), loss=0.5)
    with pytest.raises(TypeError, match="draw_network: show_bias must be a bool"):
        draw_network(network(), show_bias="yes")
