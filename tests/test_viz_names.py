"""viz.names: every node gets a readable name, in the lessons' notation where it can."""

from __future__ import annotations

import re

import pytest

from engine import Constant, Value
from viz.names import (
    SHORT_ID,
    display_number,
    format_number,
    id_definitions,
    lesson_name,
    node_names,
    role,
)


@pytest.mark.parametrize("label, expected", [
    ("L2.N1.z", "z₁⁽²⁾"),        # z^(2)_1
    ("L1.N2.a", "a₂⁽¹⁾"),        # a^(1)_2
    ("L1.N2.w3", "w₂₃⁽¹⁾"),      # W^(1)_23: into neuron 2 from neuron 3
    ("L2.N1.b", "b₁⁽²⁾"),        # b^(2)_1
    ("L12.N3.w14", "w₃,₁₄⁽¹²⁾"),  # two-digit indices get a comma: no ambiguity
    ("x1", "x₁"),
    ("w_2", "w₂"),
])
def test_lesson_name_follows_the_lessons_notation(label: str, expected: str) -> None:
    assert lesson_name(label) == expected


@pytest.mark.parametrize("label", ["loss", "L1.N2", "L1.N2.q", "xy1", "", "L1.N2.w"])
def test_lesson_name_is_none_for_other_labels(label: str) -> None:
    assert lesson_name(label) is None


def test_lesson_name_rejects_non_strings() -> None:
    with pytest.raises(TypeError, match="lesson_name"):
        lesson_name(3)  # type: ignore[arg-type]


def test_intermediates_are_named_by_expressions_of_their_inputs() -> None:
    x, w, b = Value(2.0, "x"), Value(-3.0, "w"), Value(1.0, "b")
    xw = x * w
    n = xw + b
    n.label = "n"
    out = n.tanh()
    names = node_names(out)
    assert names[x] == "x" and names[w] == "w" and names[b] == "b"
    assert names[xw] == "x·w"
    assert names[n] == "n"                       # a label wins over an expression
    assert names[out] == "tanh(n)"


def test_expression_of_a_sum_of_products() -> None:
    x, w, b = Value(2.0, "x"), Value(-3.0, "w"), Value(1.0, "b")
    root = x * w + b
    assert node_names(root)[root] == "x·w + b"


def test_parentheses_only_where_the_order_needs_them() -> None:
    a, b, c = Value(1.0, "a"), Value(2.0, "b"), Value(3.0, "c")
    cases = [
        (a - (b + c), "a − (b + c)"),
        ((a - b) + c, "a − b + c"),
        ((a + b) * c, "(a + b)·c"),
        (a / (b * c), "a/(b·c)"),
        ((a + b) ** 2, "(a + b)²"),
        (-(a * b), "−(a·b)"),
        (a + (-b), "a + (−b)"),
        (a * -1.5, "a·(−1.5)"),
        ((a * b).sigmoid(), "σ(a·b)"),
        ((a + b).relu(), "ReLU(a + b)"),
    ]
    for root, expected in cases:
        assert node_names(root)[root] == expected


def test_constants_are_named_by_their_number() -> None:
    x = Value(1.0, "x")
    root = 3e-6 * x
    constant = next(n for n in node_names(root) if n.is_constant)
    assert node_names(root)[constant] == "3×10⁻⁶"


def test_long_or_repeated_expressions_fall_back_to_short_ids() -> None:
    a, b = Value(1.0, "alpha_long_name"), Value(2.0, "beta_long_name")
    long = a * b
    assert node_names(long, max_length=16)[long] == "v1"
    assert node_names(long, max_length=40)[long] == "alpha_long_name·beta_long_name"
    x, y = Value(1.0, "x"), Value(2.0, "y")
    first, second = x * y, x * y                   # two nodes, same expression
    names = node_names(first + second)
    assert names[first] != names[second]
    assert {names[first], names[second]} == {"x·y", "v1"}


def test_an_unlabelled_leaf_gets_an_id() -> None:
    x = Value(1.0)
    root = x * 2
    names = node_names(root)
    assert names[x] == "v1" and names[root] == "v1·2"


def test_nn_labels_become_lesson_names() -> None:
    nn = pytest.importorskip("nn")
    model = nn.MLP(2, [2, 1], activation="tanh", seed=0)
    out = model([0.5, -1.0])
    names = node_names(out)
    by_label = {n.label: names[n] for n in names if n.label}
    assert by_label["L1.N2.w1"] == "w₂₁⁽¹⁾"
    assert by_label["L1.N1.z"] == "z₁⁽¹⁾"
    assert by_label["L1.N1.a"] == "a₁⁽¹⁾"
    assert by_label["x1"] == "x₁"


def test_roles() -> None:
    x, w = Value(2.0, "x1"), Value(0.5, "L1.N1.w1")
    hand = Value(0.1, "w")
    product = x * w
    root = product * 3 + hand
    three = next(n for n in node_names(root) if n.is_constant)
    assert role(root, root) == "output"
    assert role(product, root) == "intermediate"
    assert role(three, root) == "constant"
    assert role(w, root) == "parameter"              # an nn parameter label
    assert role(x, root) == "input"
    assert role(hand, root) == "input"               # a hand-made leaf: an input …
    assert role(hand, root, parameters=[hand]) == "parameter"   # … unless we say so
    assert role(w, root, parameters=[hand]) == "input"
    with pytest.raises(TypeError, match="role"):
        role(1.0, root)  # type: ignore[arg-type]


@pytest.mark.parametrize("x, text", [(3e-6, "3e-06"), (-0.0, "0"), (0.5, "0.5"),
                                     (123456.0, "1.235e+05"), (2.0, "2")])
def test_format_number_keeps_significant_digits(x: float, text: str) -> None:
    assert format_number(x, 4) == text
    assert format_number(x, 4) == (f"{x:.4g}" if x else "0")


@pytest.mark.parametrize("x, text", [(3e-6, "3×10⁻⁶"), (-3e-6, "−3×10⁻⁶"), (1e-7, "10⁻⁷"),
                                     (-2.5, "−2.5"), (123456.0, "1.235×10⁵")])
def test_display_number_reads_well_on_a_slide(x: float, text: str) -> None:
    assert display_number(x, 4) == text


def test_a_neurons_running_sums_are_named_as_part_of_its_z() -> None:
    """z⁽ˡ⁾ⱼ = Σₖ w⁽ˡ⁾ⱼₖ aₖ + b⁽ˡ⁾ⱼ is built one term at a time; the sum of the first
    m terms is named Σ₁ᵐ w⁽ˡ⁾ⱼₖ·aₖ (never a bare v1), and holds that sum."""
    nn = pytest.importorskip("nn")
    model = nn.MLP.from_weights([[[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], [[1.0, -2.0]]],
                                [[0.1, -0.2], [0.3]], activation="relu")
    out = model([1.0, 2.0, 3.0])
    names = node_names(out)
    sums = {names[n]: n.data for n in names if names[n].startswith("Σ")}
    assert sums == {
        "Σ₁² w₁ₖ⁽¹⁾·xₖ": 0.5 * 1 - 1.0 * 2, "Σ₁³ w₁ₖ⁽¹⁾·xₖ": 0.5 * 1 - 1.0 * 2 + 2.0 * 3,
        "Σ₁² w₂ₖ⁽¹⁾·xₖ": 1.5 * 1 + 0.25 * 2, "Σ₁³ w₂ₖ⁽¹⁾·xₖ": 1.5 * 1 + 0.25 * 2 - 0.5 * 3,
        "Σ₁² w₁ₖ⁽²⁾·aₖ⁽¹⁾": 1.0 * (4.5 + 0.1) - 2.0 * max(0.0, 0.5 - 0.2),
    }
    assert not any(re.fullmatch(r"v\d+", name) for name in names.values())
    assert id_definitions(out) == {}


def test_running_sums_of_inputs_without_one_indexed_name_use_the_lessons_a0() -> None:
    nn = pytest.importorskip("nn")
    model = nn.MLP(2, [1], seed=0)
    height, weight = Value(1.8, "height"), Value(70.0, "weight")
    out = model([height, weight])
    names = node_names(out)
    assert "Σ₁² w₁ₖ⁽¹⁾·aₖ⁽⁰⁾" in names.values()             # the lessons' a⁽⁰⁾ = x


def test_a_sum_that_only_looks_like_a_neuron_keeps_its_expression() -> None:
    x, w = Value(1.0, "x1"), Value(2.0, "w")               # w is no nn weight label
    z = (w * x + w * x) + Value(0.5, "L1.N1.b")
    z.label = "L1.N1.z"
    names = node_names(z)
    assert not any(name.startswith("Σ") for name in names.values())


def test_id_definitions_say_what_each_short_id_stands_for() -> None:
    x1, x2, w1, w2, b = (Value(v, n) for n, v in
                         [("x1", 1.0), ("x2", 2.0), ("w1", 0.5), ("w2", -0.3), ("b", 0.1)])
    n = x1 * w1 + x2 * w2 + b                              # 17 characters: too long
    out = (n.sigmoid() - Value(1.0, "y")) ** 2
    assert node_names(out)[n] == "v1"
    assert id_definitions(out) == {"v1": "x₁·w₁ + x₂·w₂ + b"}
    leaf = Value(3.0)
    assert id_definitions(leaf * leaf) == {"v1": "an unlabelled leaf (data 3)"}


def _two_layer_output() -> tuple[Value, Value, Value]:
    """ŷ = a₁⁽²⁾ of a 2-2-1 network and its hidden a₁⁽¹⁾, as nn labels them."""
    from nn import MLP
    model = MLP.from_weights([[[0.5, -0.4], [0.3, 0.8]], [[0.9, -0.5]]], [[0.1, -0.2], [0.2]],
                             activation="tanh", output_activation="sigmoid")
    y_hat = model([1.0, 2.0])
    return y_hat, model.layers[0].neurons[0].a, model.layers[1].neurons[0].z


def test_the_networks_output_is_y_hat_and_named_once() -> None:
    y_hat, hidden, z = _two_layer_output()
    names = node_names((y_hat - Constant(1.0, "y")) ** 2)
    assert names[y_hat] == "ŷ" and names[hidden] == "a₁⁽¹⁾"
    # a penalty on a hidden activation does not make it a second ŷ
    names = node_names((y_hat - Constant(1.0, "y")) ** 2 + 0.1 * hidden)
    assert names[y_hat] == "ŷ" and names[hidden] == "a₁⁽¹⁾"
    # a loss on both z and a of the output neuron: neither may claim ŷ alone
    names = node_names(y_hat + z)
    assert list(names.values()).count("ŷ") == 0
    assert (names[y_hat], names[z]) == ("a₁⁽²⁾", "z₁⁽²⁾")
    # a node already called ŷ keeps the name; the network's output stays a₁⁽²⁾
    names = node_names(y_hat - Value(0.3, "ŷ"))
    assert list(names.values()).count("ŷ") == 1 and names[y_hat] == "a₁⁽²⁾"


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="precision"):
        format_number(1.0, 0)
    with pytest.raises(TypeError, match="node_names"):
        node_names(3.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_length"):
        node_names(Value(1.0), max_length=0)
    with pytest.raises(TypeError, match="id_definitions: root"):
        id_definitions("x")  # type: ignore[arg-type]


def test_equal_numbers_keep_their_number_as_name():
    # each plain number is its own constant: two 2s are both called 2, not v1
    x, y = Value(1.0, "x"), Value(2.0, "y")
    names = node_names(x * 2 + y * 2)
    assert sorted(names.values()) == sorted(["x", "2", "x·2", "y", "2", "y·2", "x·2 + y·2"])
    assert not any(SHORT_ID.fullmatch(n) for n in names.values())
