"""viz.explain: a gradient as a sum over paths of named local derivatives.

The expectations come from the lessons' formulas written by hand (worked result 3)
and from the engine's own gradient as referee on random graphs and on an MLP.
"""

from __future__ import annotations

import math
import random
import re

import pytest

from engine import Value, grad
from viz.explain import Factor, explain
from viz.names import id_definitions


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
        [("∂L/∂ŷ = 2·(ŷ − y)", dL_dyhat),
         ("∂ŷ/∂z₁⁽³⁾ = ŷ·(1 − ŷ)", psi_prime),
         ("∂z₁⁽³⁾/∂a₁⁽²⁾ = w₁₁⁽³⁾", W[2][0][0]),
         ("∂a₁⁽²⁾/∂z₁⁽²⁾ = a₁⁽²⁾·(1 − a₁⁽²⁾)", phi_prime["L2.N1"]),
         ("∂z₁⁽²⁾/∂a₁⁽¹⁾ = w₁₁⁽²⁾", W[1][0][0]),
         ("∂a₁⁽¹⁾/∂z₁⁽¹⁾ = a₁⁽¹⁾·(1 − a₁⁽¹⁾)", phi_prime["L1.N1"])],
        [("∂L/∂ŷ = 2·(ŷ − y)", dL_dyhat),
         ("∂ŷ/∂z₁⁽³⁾ = ŷ·(1 − ŷ)", psi_prime),
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
    # the network's output is ŷ, as in draw_network and the lessons
    assert why.paths[0].names == ["L", "ŷ", "z₁⁽³⁾", "a₁⁽²⁾", "z₁⁽²⁾", "a₁⁽¹⁾", "z₁⁽¹⁾"]


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
                # no two paths read alike
                assert len({p.route for p in why.paths}) == len(why.paths)
            for path in why.paths:
                assert_factors_chain(path, why.grouped)


def assert_factors_chain(path, grouped: bool = False) -> None:
    """Factor k reads ∂names[k]/∂names[k+1] (after ∂out/∂top, if grouped): the factors
    go from node to shown node with no step left out."""
    factors = path.factors[1:] if grouped else path.factors
    assert len(factors) == len(path.names) - 1
    for factor, (upper, lower) in zip(factors, zip(path.names, path.names[1:])):
        assert factor.derivative in {f"∂{u}/∂{v}" for u in (upper, f"({upper})")
                                     for v in (lower, f"({lower})")}


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
    # grouped by ∂h/∂h₁ at h₁, the named node nearest x: ∂h/∂x = ∂h/∂h₁·∂h₁/∂x, two
    # ways up; h₁ reaches x two ways, so neither is folded into one ∂h₁/∂x. h₁ is no
    # pre-activation, so no δ: in the lessons δ means ∂L/∂z only.
    assert [p.names for p in why.paths] == [["h₁", "x·0.7", "x"], ["h₁", "x·0.4", "x"]]
    assert why.paths[0].factors[0].rule == why.paths[0].factors[0].derivative == "∂h₃₀/∂h₁"
    assert list(why.deltas) == ["h₁"]
    assert "grouped by ∂h₃₀/∂node" in str(why) and "δ" not in str(why)
    assert re.search(r"^  ∂h₃₀/∂h₁ += [0-9.]+$", str(why), re.M)       # said once


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


# ---- how a path is cut into factors, and told apart ---------------------------------------
def test_x_times_x_plus_x_steps_through_the_product_and_names_the_operand() -> None:
    """y = x·x + x = u + x with u = x·x: ∂y/∂u = 1, ∂u/∂x = x (twice: once per
    operand), plus the direct ∂y/∂x = 1. Nothing is folded, because y reaches x three
    ways, so one factor ∂y/∂x = x would not be the derivative it names."""
    x = Value(3.0, "x")
    why = explain(x * x + x, x)
    assert [p.names for p in why.paths] == [["x·x + x", "x·x", "x"]] * 2 + [["x·x + x", "x"]]
    assert [p.route for p in why.paths] == [
        "x·x + x → x·x → x (as the 1st operand of ×)",
        "x·x + x → x·x → x (as the 2nd operand of ×)",
        "x·x + x → x (as the 2nd operand of +)"]
    through_product = [("∂(x·x + x)/∂(x·x) = 1", 1.0), ("∂(x·x)/∂x = x", x.data)]
    assert [list(p.factors) for p in why.paths] == [through_product, through_product,
                                                   [("∂(x·x + x)/∂x = 1", 1.0)]]
    assert why.total == 2 * x.data + 1 == grad(x * x + x, x)
    text = str(why)
    assert "path 1: x·x + x → x·x → x (as the 1st operand of ×)" in text
    assert "path 2: x·x + x → x·x → x (as the 2nd operand of ×)" in text


def test_a_times_a_has_two_paths_one_per_operand() -> None:
    a = Value(-1.5, "a")
    why = explain(a * a, a)
    assert [p.route for p in why.paths] == ["a·a → a (as the 1st operand of ×)",
                                            "a·a → a (as the 2nd operand of ×)"]
    assert [list(p.factors) for p in why.paths] == [[("∂(a·a)/∂a = a", a.data)]] * 2
    assert why.total == 2 * a.data


def test_a_neuron_folds_its_sum_into_the_weight_factor() -> None:
    """tanh(x·w + b): ∂y/∂(x·w + b) = 1 − y², then ∂(x·w + b)/∂w = x — the + is
    folded (x·w + b reaches w one way), and no step is skipped."""
    x, w, b = Value(0.5, "x"), Value(-1.2, "w"), Value(0.3, "b")
    y = (x * w + b).tanh()
    path, = explain(y, w).paths
    assert path.names == ["tanh(x·w + b)", "x·w + b", "w"]
    assert [f.name for f in path.factors] == [
        "∂tanh(x·w + b)/∂(x·w + b) = 1 − tanh(x·w + b)²", "∂(x·w + b)/∂w = x"]
    assert [f.value for f in path.factors] == [1 - math.tanh(0.5 * -1.2 + 0.3) ** 2, 0.5]
    # to b, the + at the bottom joins the factor above: ∂y/∂b = 1 − y², one step
    assert list(explain(y, b).paths[0].factors) == [("∂tanh(x·w + b)/∂b = 1 − tanh(x·w + b)²",
                                                     y.local_grads[0])]


def test_minus_signs_are_folded_into_the_rule() -> None:
    """c − x·w reaches w one way: ∂(c − x·w)/∂w = −x. y − x/z: the − and the
    quotient rule's −x/z² make +x/z², written as a teacher would."""
    x, w, c = Value(2.0, "x"), Value(0.5, "w"), Value(4.0, "c")
    assert list(explain(c - x * w, w).paths[0].factors) == [("∂(c − x·w)/∂w = −x", -2.0)]
    y, z = Value(1.0, "y"), Value(4.0, "z")
    factor, = explain(y - x / z, z).paths[0].factors
    assert factor.name == "∂(y − x/z)/∂z = x/z²"
    assert factor.value == pytest.approx(x.data / z.data ** 2, rel=1e-15)
    factor, = explain(w * -x, x).paths[0].factors
    assert factor == ("∂(w·(−x))/∂x = −w", -w.data)


def test_a_quotient_minus_a_square() -> None:
    """x/y − y² reaches y two ways, so each keeps its ±1 step; the quotient rule
    reads −x/y², not the op table's −out/b = −(x/y)/y."""
    x, y = Value(2.0, "x"), Value(3.0, "y")
    out = x / y - y ** 2
    why = explain(out, y)
    assert [p.names for p in why.paths] == [["x/y − y²", "x/y", "y"], ["x/y − y²", "y²", "y"]]
    assert [f.name for p in why.paths for f in p.factors] == [
        "∂(x/y − y²)/∂(x/y) = 1", "∂(x/y)/∂y = −x/y²", "∂(x/y − y²)/∂y² = −1", "∂y²/∂y = 2·y"]
    assert [p.product for p in why.paths] == [pytest.approx(-2.0 / 9.0, rel=1e-15), -6.0]
    assert why.total == pytest.approx(-2.0 / 9.0 - 6.0, rel=1e-15)
    assert list(explain(out, x).paths[0].factors) == [("∂(x/y − y²)/∂x = 1/y", 1 / 3)]
    latex = why.latex()
    assert r"\frac{\partial (x/y - y^{2})}{\partial y}" in latex
    assert r"&= (-x/y^{2}) && = -0.2222" not in latex and r"&= -x/y^{2} && = -0.2222" in latex


def test_relu_at_its_kink_says_which_derivative_it_took() -> None:
    x = Value(0.0, "x")
    why = explain(x.relu(), x)
    assert list(why.paths[0].factors) == [("∂ReLU(x)/∂x = [x > 0]", 0.0)]
    assert why.notes == ["x = 0 is ReLU's kink, where it has no derivative: "
                         "chaingrad (like PyTorch) takes ReLU′(0) = 0"]
    assert str(why).endswith("takes ReLU′(0) = 0.")
    assert "ReLU′(0) = 0" in why.markdown()
    assert explain(Value(0.1, "x").relu(), x).notes == []


def test_abs_at_its_kink_says_so_too_from_its_row() -> None:
    x, w = Value(0.0, "x"), Value(3.0, "w")
    why = explain(abs(x * w), x)
    assert why.total == 0.0
    assert why.notes == ["x·w = 0 is abs's kink, where it has no derivative: "
                         "chaingrad (like PyTorch) takes abs′(0) = 0"]
    left = Value(-0.5, "x")
    assert explain(abs(left), left).notes == []


def test_every_step_of_a_composition_is_shown() -> None:
    x = Value(2.0, "x")
    why = explain(x.log().exp(), x)
    assert why.paths[0].names == ["exp(log(x))", "log(x)", "x"]
    assert [f.value for f in why.paths[0].factors] == [pytest.approx(2.0), 0.5]
    assert r"\exp (\log (x)) \cdot (1/x)" in why.latex()        # not ⋅ 1/x


def test_one_path_says_so_once() -> None:
    x, w = Value(2.0, "x"), Value(-3.0, "w")
    why = explain(x * w, x)
    text, markdown, latex = str(why), why.markdown(), why.latex()
    assert text.splitlines()[0] == ("∂(x·w)/∂x = −3, the product of the local derivatives "
                                    "along its one path")
    assert "product =" not in text                              # one factor: it is the product
    assert "**product**" not in markdown and markdown.count("−3") == 2
    assert latex.count("&") == 3                                # one row: no separate total


def test_every_public_member_of_viz_says_what_it_is() -> None:
    """Every public class, function, method and property of viz has a docstring
    (Factor.name and .value, Path.route and .product among them)."""
    import importlib
    import inspect

    missing = []
    for module_name in ("names", "dot", "explain", "animate", "network", "cli"):
        module = importlib.import_module(f"viz.{module_name}")
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if not obj.__doc__:
                missing.append(f"{module_name}.{name}")
            if inspect.isclass(obj):
                missing += [f"{module_name}.{name}.{attr}" for attr, member in vars(obj).items()
                            if not attr.startswith("_")
                            and (isinstance(member, property) or inspect.isfunction(member))
                            and not member.__doc__]
    assert missing == []
    assert "derivative = rule" in Factor.name.__doc__ and Factor.value.__doc__


def test_a_zero_factor_beside_an_infinite_one_makes_the_path_zero() -> None:
    # relu(√x − 5) at x = 0: ReLU′ = 0 while (√x)′ = ∞; the engine sends nothing back
    x = Value(0.0, "x")
    y = (x ** 0.5 - 5.0).relu()
    why = explain(y, x)
    values = [factor.value for factor in why.paths[0].factors]
    assert 0.0 in values and math.inf in values
    assert why.paths[0].product == 0.0 and why.total == grad(y, x) == 0.0


# ---- the lessons' notation ------------------------------------------------------------------
def mlp_2221():
    nn = pytest.importorskip("nn")
    model = nn.MLP.from_weights(W, B, activation="sigmoid", output_activation="sigmoid")
    loss = nn.mse(model([1.0, 2.0]), 0.9, half=True)
    loss.backward()
    return model, loss


def test_delta_means_dL_dz_only() -> None:
    model, loss = mlp_2221()
    z11 = model.layers[0].neurons[0].z
    text = str(explain(loss, z11, max_paths=1))
    assert "δ(a₁⁽¹⁾)" not in text and "δ" not in text.split("\n", 1)[1]
    assert re.search(r"^  ∂L/∂a₁⁽¹⁾ += −?[0-9.]+$", text, re.M)
    # grouped, a term climbs past a⁽¹⁾₁ to the pre-activations above: the recurrence
    # δ⁽¹⁾₁ = Σₖ δ⁽²⁾ₖ W⁽²⁾ₖ₁ φ′(z⁽¹⁾₁), on a 2-2-2-2-1 network (4 paths down to z⁽¹⁾₁)
    nn = pytest.importorskip("nn")
    deep = nn.MLP(2, [2, 2, 2, 1], activation="sigmoid", seed=3)
    loss = nn.mse(deep([1.0, 2.0]), 0.9, half=True)
    loss.backward()
    z11 = deep.layers[0].neurons[0].z
    why = explain(loss, z11, max_paths=3)
    assert why.grouped and why.path_count == 4
    assert [p.factors[0].rule for p in why.paths] == ["δ₁⁽²⁾", "δ₂⁽²⁾"]
    deltas = [n.z.grad for n in deep.layers[1].neurons]
    assert [p.factors[0].value for p in why.paths] == deltas
    assert why.deltas == {"z₁⁽²⁾": deltas[0], "z₂⁽²⁾": deltas[1]}
    assert "grouped by the δ = ∂L/∂z of the pre-activations above z₁⁽¹⁾" in str(why)
    assert why.total == pytest.approx(z11.grad, rel=1e-12)
    # and ∂L/∂W⁽¹⁾₁₁ = δ⁽¹⁾₁ x₁
    w11 = deep.layers[0].neurons[0].w[0]
    why = explain(loss, w11, max_paths=3)
    assert [(f.rule, f.value) for f in why.paths[0].factors] == [("δ₁⁽¹⁾", z11.grad),
                                                                  ("x₁", 1.0)]


def test_factored_form_is_the_lessons_bracket() -> None:
    model, loss = mlp_2221()
    z11 = model.layers[0].neurons[0].z
    why = explain(loss, z11, form="factored", symbolic=True)
    lines = str(why).splitlines()
    assert lines[2] == ("∂L/∂z₁⁽¹⁾ = [w₁₁⁽³⁾·φ′(z₁⁽²⁾)·w₁₁⁽²⁾ + w₁₂⁽³⁾·φ′(z₂⁽²⁾)·w₂₁⁽²⁾]"
                        " · ∂L/∂ŷ · ψ′(z₁⁽³⁾) · φ′(z₁⁽¹⁾)")
    head, middles, tail = why.shared()
    a = {f"L{i}.N{j}": n.a.data for i, layer in enumerate(model.layers, 1)
         for j, n in enumerate(layer.neurons, 1)}
    s = lambda k: a[k] * (1 - a[k])                                  # noqa: E731  σ′ = a(1 − a)
    # by hand: δ⁽¹⁾₁ = [W⁽²⁾₁₁ W⁽³⁾₁₁ φ′(z⁽²⁾₁) + W⁽²⁾₂₁ W⁽³⁾₁₂ φ′(z⁽²⁾₂)] · (ŷ − y) · ψ′ · φ′
    bracket = W[1][0][0] * W[2][0][0] * s("L2.N1") + W[1][1][0] * W[2][0][1] * s("L2.N2")
    outside = (a["L3.N1"] - 0.9) * s("L3.N1") * s("L1.N1")
    assert [f.value for f in head] == pytest.approx([a["L3.N1"] - 0.9, s("L3.N1")], rel=1e-12)
    assert [f.value for f in tail] == pytest.approx([s("L1.N1")], rel=1e-12)
    assert math.fsum(math.prod(f.value for f in m) for m in middles) == \
        pytest.approx(bracket, rel=1e-12)
    assert why.total == pytest.approx(bracket * outside, rel=1e-12)
    assert why.total == pytest.approx(z11.grad, rel=1e-12)
    assert lines[-1].strip() == f"= {why._num(why.total)}"
    assert "\\left[" in why.latex() and "[w₁₁⁽³⁾" in why.markdown()


def test_symbolic_form_keeps_activations_and_the_loss_abstract() -> None:
    model, loss = mlp_2221()
    why = explain(loss, model.layers[1].neurons[0].w[1], symbolic=True)
    rules = [f.rule for f in why.paths[0].factors]
    assert rules == ["∂L/∂ŷ", "ψ′(z₁⁽³⁾)", "w₁₁⁽³⁾", "φ′(z₁⁽²⁾)", "a₂⁽¹⁾"]
    y_hat = model.layers[2].neurons[0].a.data
    assert why.paths[0].factors[0].value == pytest.approx(y_hat - 0.9, rel=1e-12)   # ½(ŷ−y)²
    plain = explain(loss, model.layers[1].neurons[0].w[1])
    assert plain.total == why.total


def test_targets_are_named_in_explain() -> None:
    model, loss = mlp_2221()
    why = explain(loss, model.layers[2].neurons[0].w[0])
    # ½(ŷ − y)²: the ½ and the 2 cancel, as the lessons write it
    assert "∂L/∂ŷ          = ŷ − y " in str(why) and "0.9" not in str(why)


def test_bad_form_is_named() -> None:
    x = Value(1.0, "x")
    with pytest.raises(ValueError, match="explain: form must be one of 'paths', 'factored'"):
        explain(x * x, x, form="bracket")
    with pytest.raises(TypeError, match="explain: symbolic must be a bool"):
        explain(x * x, x, symbolic="yes")


def test_constant_factors_of_a_loss_fold_into_the_rule_below_them() -> None:
    # L = ½(u − y)² averaged over two examples: ∂L/∂u = ½·½·2·(u − y) = 0.5·(u − y)
    nn = pytest.importorskip("nn")
    u, v = Value(0.75, "u"), Value(0.25, "v")
    loss = nn.mse([u, v], [1.0, 0.0], half=True)
    why = explain(loss, u)
    assert [(f.derivative, f.rule) for f in why.paths[0].factors] == [("∂L/∂u", "0.5·(u − y₁)")]
    assert why.total == pytest.approx(0.5 * (0.75 - 1.0), rel=1e-15)
    # a constant below the last rule stays a factor of its own: ∂(x·3)/∂x = 3
    x = Value(0.5, "x")
    why = explain((x * 3.0).tanh(), x)
    assert [f.rule for f in why.paths[0].factors][-1] == "3"


def test_explain_says_what_each_short_id_it_shows_stands_for():
    x, w = Value(0.5, "x"), Value(-1.5, "w")
    y = (x * w + 1.0).tanh() + (x * w + 1.0).tanh() ** 2    # too long a name: an id
    why = explain(y, w)
    text = str(why)
    ids = set(re.findall(r"\bv\d+\b", text.split("\nwhere")[0]))
    assert ids, text                                     # the output is called by an id
    assert set(why.where) >= ids
    for name, term in why.where.items():
        assert f"{name} = {term}" in text
        assert term == id_definitions(y)[name]
    assert "where" in why.markdown() and "where" in why._repr_markdown_()
    # every id a definition uses is defined too, earlier
    for term in why.where.values():
        assert set(re.findall(r"\bv\d+\b", term)) <= set(why.where)


def test_explain_without_short_ids_has_no_where_line():
    x, w = Value(0.5, "x"), Value(-1.5, "w")
    why = explain(x * w, w)
    assert why.where == {} and "where" not in str(why)


def test_rule_text_writes_the_rule_over_names_or_only_the_branch_taken() -> None:
    from viz.explain import rule_text
    from viz.names import node_names
    z = Value(-0.5, "z")
    a = z.relu()
    names = node_names(a)
    assert rule_text(a, 0, names) == "[z > 0]"                     # the whole row (Iverson)
    assert rule_text(a, 0, names, branch=True) == "0 (as not z > 0)"
    alive = Value(2.0, "z").relu()
    assert rule_text(alive, 0, node_names(alive), branch=True) == "1 (as z > 0)"
    y = (Value(0.3, "x") * 2.0).tanh()                               # out named as asked
    assert rule_text(y, 0, node_names(y)) == "1 − tanh(x·2)²"
    assert rule_text(y, 0, node_names(y), out="y") == "1 − y²"
    assert rule_text(y, 0, node_names(y), out="y", branch=True) == "1 − y²"
