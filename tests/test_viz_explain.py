"""viz.explain: a gradient as a sum over paths of named local derivatives.

The expectations come from the lessons' formulas written by hand (worked result 3)
and from the engine's own gradient as referee on random graphs and on an MLP.
"""

from __future__ import annotations

import math
import random

import pytest

from engine import Value, grad
from viz.explain import Factor, explain


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def network_2221(x: list[float], W: list, b: list, y: float) -> dict[str, Value]:
    """The lessons' 2-2-2-1 network, built by hand with plain Values and labelled as
    nn does: z = Σ_k w_jk·a_k + b_j, φ = ψ = σ, L = (ŷ − y)²."""
    nodes: dict[str, Value] = {}
    a = [Value(xi, f"x{i}") for i, xi in enumerate(x, 1)]
    for layer, (matrix, bias) in enumerate(zip(W, b), 1):
        out = []
        for j, (row, bj) in enumerate(zip(matrix, bias), 1):
            ws = [Value(w, f"L{layer}.N{j}.w{k}") for k, w in enumerate(row, 1)]
            bv = Value(bj, f"L{layer}.N{j}.b")
            z = ws[0] * a[0]
            for w, ak in zip(ws[1:], a[1:]):
                z = z + w * ak
            z = z + bv
            z.label = f"L{layer}.N{j}.z"
            aj = z.sigmoid()
            aj.label = f"L{layer}.N{j}.a"
            nodes.update({w.label: w for w in ws})
            nodes[bv.label], nodes[z.label], nodes[aj.label] = bv, z, aj
            out.append(aj)
        a = out
    loss = (a[0] - Value(y, "y")) ** 2
    loss.label = "L"
    nodes["L"] = loss
    return nodes


W = [[[0.5, -0.4], [0.3, 0.8]], [[0.2, -0.6], [0.7, 0.1]], [[0.9, -0.5]]]
B = [[0.1, -0.2], [0.05, 0.0], [0.2]]


def test_worked_result_3_delta_1_1_is_a_sum_over_two_paths() -> None:
    n = network_2221([1.0, 2.0], W, B, y=1.0)
    why = explain(n["L"], n["L1.N1.z"])
    # by hand: δ⁽¹⁾₁ = [W⁽²⁾₁₁ W⁽³⁾₁₁ φ′(z⁽²⁾₁) + W⁽²⁾₂₁ W⁽³⁾₁₂ φ′(z⁽²⁾₂)]
    #                 · ∂L/∂ŷ · ψ′(z⁽³⁾) · φ′(z⁽¹⁾₁)
    a = {k: v.data for k, v in n.items()}
    dL_dyhat = 2 * (a["L3.N1.a"] - 1.0)
    psi_prime = a["L3.N1.a"] * (1 - a["L3.N1.a"])
    phi_prime = {k: a[f"{k}.a"] * (1 - a[f"{k}.a"]) for k in ("L1.N1", "L2.N1", "L2.N2")}
    expected_paths = [
        [("∂L/∂a₁⁽³⁾ = 2·(a₁⁽³⁾ − y)", dL_dyhat),
         ("∂a₁⁽³⁾/∂z₁⁽³⁾ = a₁⁽³⁾·(1 − a₁⁽³⁾)", psi_prime),
         ("∂z₁⁽³⁾/∂a₁⁽²⁾ = w₁₁⁽³⁾", W[2][0][0]),
         ("∂a₁⁽²⁾/∂z₁⁽²⁾ = a₁⁽²⁾·(1 − a₁⁽²⁾)", phi_prime["L2.N1"]),
         ("∂z₁⁽²⁾/∂a₁⁽¹⁾ = w₁₁⁽²⁾", W[1][0][0]),
         ("∂a₁⁽¹⁾/∂z₁⁽¹⁾ = a₁⁽¹⁾·(1 − a₁⁽¹⁾)", phi_prime["L1.N1"])],
        [("∂L/∂a₁⁽³⁾ = 2·(a₁⁽³⁾ − y)", dL_dyhat),
         ("∂a₁⁽³⁾/∂z₁⁽³⁾ = a₁⁽³⁾·(1 − a₁⁽³⁾)", psi_prime),
         ("∂z₁⁽³⁾/∂a₂⁽²⁾ = w₁₂⁽³⁾", W[2][0][1]),
         ("∂a₂⁽²⁾/∂z₂⁽²⁾ = a₂⁽²⁾·(1 − a₂⁽²⁾)", phi_prime["L2.N2"]),
         ("∂z₂⁽²⁾/∂a₁⁽¹⁾ = w₂₁⁽²⁾", W[1][1][0]),
         ("∂a₁⁽¹⁾/∂z₁⁽¹⁾ = a₁⁽¹⁾·(1 − a₁⁽¹⁾)", phi_prime["L1.N1"])],
    ]
    assert why.path_count == 2 and not why.grouped
    assert len(why.paths) == 2
    for path, expected in zip(why.paths, expected_paths):
        assert [name for name, _ in path.factors] == [name for name, _ in expected]
        for (_, value), (_, hand) in zip(path.factors, expected):
            assert value == pytest.approx(hand, rel=1e-12)
        assert path.product == pytest.approx(math.prod(v for _, v in expected), rel=1e-12)
    delta = (W[1][0][0] * W[2][0][0] * phi_prime["L2.N1"]
             + W[1][1][0] * W[2][0][1] * phi_prime["L2.N2"]) \
        * dL_dyhat * psi_prime * phi_prime["L1.N1"]
    assert why.total == pytest.approx(delta, rel=1e-12)
    assert why.total == pytest.approx(grad(n["L"], n["L1.N1.z"]), rel=1e-12, abs=1e-15)
    assert why.paths[0].names == ["L", "a₁⁽³⁾", "z₁⁽³⁾", "a₁⁽²⁾", "z₁⁽²⁾", "a₁⁽¹⁾", "z₁⁽¹⁾"]


def test_a_weight_gradient_is_delta_times_the_input() -> None:
    # ∂L/∂W⁽¹⁾_ij = δ⁽¹⁾_i · x_j: the last factor of every path is x_j
    n = network_2221([1.0, 2.0], W, B, y=1.0)
    why = explain(n["L"], n["L1.N1.w2"])
    delta = explain(n["L"], n["L1.N1.z"]).total
    assert all(path.factors[-1] == ("∂z₁⁽¹⁾/∂w₁₂⁽¹⁾ = x₂", 2.0) for path in why.paths)
    assert why.total == pytest.approx(delta * 2.0, rel=1e-12)


def test_factors_are_name_value_pairs_with_their_parts() -> None:
    x, w = Value(2.0, "x"), Value(-3.0, "w")
    out = x * w
    factor = explain(out, x).paths[0].factors[0]
    assert isinstance(factor, Factor)
    name, value = factor
    assert (name, value) == ("∂(x·w)/∂x = w", -3.0)
    assert factor.derivative == "∂(x·w)/∂x" and factor.rule == "w"
    assert factor.name == name and factor.value == value


def random_graph(rng: random.Random, leaves: list[Value], size: int) -> Value:
    """A random expression over the leaves, reusing nodes (so many paths)."""
    pool = list(leaves)
    for _ in range(size):
        kind = rng.choice(["add", "sub", "mul", "div", "tanh", "sigmoid", "exp", "pow", "relu",
                           "const"])
        a, b = rng.choice(pool), rng.choice(pool)
        if kind == "add":
            node = a + b
        elif kind == "sub":
            node = a - b
        elif kind == "mul":
            node = a * b
        elif kind == "div":
            node = a / (b * b + 1.0)
        elif kind == "tanh":
            node = a.tanh()
        elif kind == "sigmoid":
            node = a.sigmoid()
        elif kind == "exp":
            node = (a * 0.1).exp()
        elif kind == "pow":
            node = a ** 2
        elif kind == "relu":
            node = a.relu()
        else:
            node = a * rng.uniform(-2, 2) + 0.5
        pool.append(node)
    root = pool[-1]
    for node in pool[len(leaves):-1]:             # make every node matter
        root = root + node * 0.01
    return root


@pytest.mark.parametrize("seed", range(8))
def test_totals_equal_the_engine_on_random_graphs(seed: int) -> None:
    rng = random.Random(seed)
    leaves = [Value(rng.uniform(-1.5, 1.5), f"x{i}") for i in range(1, 4)]
    root = random_graph(rng, leaves, size=12)
    engine_grads = grad(root, leaves)
    for leaf, expected in zip(leaves, engine_grads):
        for max_paths in (10**6, 3):                # listed, and grouped by δ
            why = explain(root, leaf, max_paths=max_paths)
            assert why.total == pytest.approx(expected, rel=1e-12, abs=1e-12)
            assert math.fsum(p.product for p in why.paths) == pytest.approx(why.total,
                                                                            rel=1e-12, abs=1e-12)
            if not why.grouped:
                assert len(why.paths) == why.path_count


def test_totals_equal_the_engine_on_an_mlp() -> None:
    nn = pytest.importorskip("nn")
    model = nn.MLP(3, [4, 4, 1], activation="tanh", output_activation="sigmoid", seed=7)
    loss = (model([0.3, -0.8, 1.2]) - 1.0) ** 2
    params = model.parameters()
    engine_grads = grad(loss, params)
    for p, expected in zip(params, engine_grads):
        why = explain(loss, p)
        assert why.total == pytest.approx(expected, rel=1e-12, abs=1e-15)
        # a first-layer weight reaches the loss along one path per second-layer neuron
        if p.label.startswith("L1."):
            assert why.path_count == 4


def test_many_paths_are_counted_not_listed_and_grouped_by_delta() -> None:
    # 30 diamonds in a row: h ← (h·c₁ + h·c₂), so 2³⁰ paths from the output to x
    x = Value(0.9, "x")
    h = x
    for i in range(30):
        h = h * 0.7 + (h * 0.4).tanh()
        h.label = f"h{i + 1}"
    why = explain(h, x, max_paths=64)
    assert why.path_count == 2 ** 30
    assert why.grouped
    assert why.total == pytest.approx(grad(h, x), rel=1e-12)
    # grouped by the δ of h₁, the named node nearest x: ∂h/∂x = δ(h₁)·∂h₁/∂x, two ways up
    assert [p.names for p in why.paths] == [["h₁", "x"], ["h₁", "x"]]
    assert why.paths[0].factors[0].rule == "δ(h₁)"
    assert "grouped by the δ" in str(why)


def test_text_markdown_and_latex_show_every_factor() -> None:
    n = network_2221([1.0, 2.0], W, B, y=1.0)
    why = explain(n["L"], n["L1.N1.z"])
    text, markdown, latex = str(why), why.markdown(), why.latex()
    for path in why.paths:
        for factor in path.factors:
            assert factor.derivative in text and factor.rule in text
            assert f"| {factor.derivative} | {factor.rule} |" in markdown
    assert text.startswith("∂L/∂z₁⁽¹⁾ = ")
    assert "w_{11}^{(3)}" in latex and "w_{21}^{(2)}" in latex
    assert latex.startswith("\\begin{aligned}") and latex.rstrip().endswith("\\end{aligned}")
    assert r"\frac{\partial L}{\partial z_{1}^{(1)}}" in latex


def test_no_path_means_zero_and_the_output_itself_means_one() -> None:
    x, y = Value(1.0, "x"), Value(2.0, "y")
    out = x * 3.0
    assert explain(out, y).total == 0.0 and explain(out, y).paths == []
    assert "no path" in str(explain(out, y))
    itself = explain(out, out)
    assert itself.total == 1.0 and itself.path_count == 1


def test_dead_relu_paths_contribute_zero() -> None:
    x = Value(-2.0, "x")
    out = x.relu() + x * 3.0
    why = explain(out, x)
    products = sorted(p.product for p in why.paths)
    assert products == [0.0, 3.0]
    assert any(f.rule == "[x > 0]" and f.value == 0.0 for p in why.paths for f in p.factors)


def test_bad_arguments_are_named() -> None:
    x = Value(1.0, "x")
    with pytest.raises(TypeError, match="explain: output"):
        explain(1.0, x)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="explain: wrt"):
        explain(x, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_paths"):
        explain(x, x, max_paths=0)
