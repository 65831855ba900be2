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
def test_headers_share_one_line_and_labels_sit_near_their_edges_start() -> None:
    svg = ET.fromstring(draw_network(trained_once(), weights="both").pipe(format="svg"))
    ns = "{http://www.w3.org/2000/svg}"
    groups = {g.get("id"): g for g in svg.iter(f"{ns}g")}
    heights = {float(groups[t].find(f"{ns}text").get("y"))
               for t in ("title_x1", "title_L1N1", "title_L2N1")}
    assert len(heights) == 1
    # each weight label is nearer its edge's start than the middle, where edges cross
    for edge_id, source_id in (("w_L1N1_2", "x2"), ("w_L1N2_1", "x1")):
        label = groups[edge_id].find(f"{ns}text")
        node_x = float(groups[source_id].find(f"{ns}ellipse").get("cx"))
        head_x = float(groups["L1N1"].find(f"{ns}ellipse").get("cx"))
        assert abs(float(label.get("x")) - node_x) < abs(head_x - node_x) / 2


def test_bad_loss_and_flags() -> None:
    with pytest.raises(TypeError, match="draw_network: loss must be a Value"):
        draw_network(network(), loss=0.5)
    with pytest.raises(TypeError, match="draw_network: show_bias must be a bool"):
        draw_network(network(), show_bias="yes")
