"""viz.draw_dot: the DOT source says what the diagram shows; one real render per format."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ElementTree

import pytest

graphviz = pytest.importorskip("graphviz")

from engine import Value, order  # noqa: E402
from viz import explain  # noqa: E402
from viz.dot import (  # noqa: E402
    GRAD_NEGATIVE,
    GRAD_POSITIVE,
    GRAD_ZERO,
    HIGHLIGHT,
    INSTALL_HINT,
    ROLE_FILL,
    DotNotFoundError,
    GraphTooLargeError,
    Layout,
    columns,
    draw_dot,
)
from viz.names import display_number  # noqa: E402

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")


def neuron() -> tuple[Value, dict[str, Value]]:
    """micrograd's neuron: o = tanh(x1·w1 + x2·w2 + b), after backward."""
    v = {"x1": Value(2.0, "x1"), "x2": Value(0.0, "x2"), "w1": Value(-3.0, "w1"),
         "w2": Value(1.0, "w2"), "b": Value(6.8813735870195432, "b")}
    n = v["x1"] * v["w1"] + v["x2"] * v["w2"] + v["b"]
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    v["n"], v["o"] = n, o
    return o, v


def node_line(source: str, node_id: str) -> str:
    """The DOT statement of one node (its attributes)."""
    match = re.search(rf"^\s*{node_id} \[.*?\]$", source, re.M | re.S)
    assert match, f"no node {node_id} in the DOT source"
    return match.group(0)


def ids_by_value(root: Value) -> dict[Value, str]:
    return {n: f"v{i}" for i, n in enumerate(order(root))}


def test_every_value_shows_its_name_data_and_grad() -> None:
    o, v = neuron()
    source = draw_dot(o).source
    ids = ids_by_value(o)
    expected_names = {"x1": "x₁", "x2": "x₂", "w1": "w₁", "w2": "w₂", "b": "b", "n": "n",
                      "o": "o"}
    for key, name in expected_names.items():
        line = node_line(source, ids[v[key]])
        assert f"<B>{name}</B>" in line
        assert f"data {display_number(v[key].data)}" in line
        assert f"grad {display_number(v[key].grad)}" in line
    # the engine's numbers, as hand-derived: ∂o/∂n = 1 − tanh²(n), ∂o/∂x1 = w1·(1 − o²)
    assert f"grad {display_number(1 - v['o'].data ** 2)}" in node_line(source, ids[v["n"]])
    # unlabelled intermediates are named by expressions of their inputs
    assert "<B>x₁·w₁</B>" in source and "<B>x₁·w₁ + x₂·w₂</B>" in source


def test_op_nodes_show_the_op_symbol() -> None:
    o, _ = neuron()
    labels = re.findall(r"^\s*op\d+ \[label=\"?([^\s\"]+)\"?", draw_dot(o).source, re.M)
    assert sorted(labels) == sorted(["×", "×", "+", "+", "tanh"])


def test_no_grad_rows_when_show_grad_is_false() -> None:
    o, _ = neuron()
    assert "grad " not in draw_dot(o, show_grad=False, legend=False).source


def test_roles_are_told_apart_by_fill_and_a_legend() -> None:
    x, w = Value(2.0, "x1"), Value(0.5, "L1.N1.w1")
    out = x * w * 3
    out.backward()
    source = draw_dot(out).source
    ids = ids_by_value(out)
    assert ROLE_FILL["input"] in node_line(source, ids[x])
    assert ROLE_FILL["parameter"] in node_line(source, ids[w])
    assert ROLE_FILL["output"] in node_line(source, ids[out])
    constant = next(n for n in ids if n.is_constant and n.data == 3.0)
    assert ROLE_FILL["constant"] in node_line(source, ids[constant])
    for word in ("input", "parameter", "constant", "intermediate", "output"):
        assert f"> {word} </TD>" in source              # the legend names each role shown
    assert "> input </TD>" not in draw_dot(out, legend=False).source


def test_gradient_sign_colours_the_border_and_zero_is_dashed() -> None:
    a, b = Value(-1.0, "a"), Value(2.0, "b")
    dead = (a * b).relu()                  # ReLU(−2) = 0: nothing flows back
    out = dead + b * -3.0                  # ∂out/∂b = −3 (through the live branch)
    out.backward()
    assert a.grad == 0.0 and b.grad == -3.0
    source = draw_dot(out).source
    ids = ids_by_value(out)
    assert f'color="{GRAD_NEGATIVE}"' in node_line(source, ids[b])
    assert f'color="{GRAD_POSITIVE}"' in node_line(source, ids[out])
    dead_line = node_line(source, ids[a])
    assert "dashed" in dead_line and f'color="{GRAD_ZERO}"' in dead_line
    # the edge into ReLU carries a local derivative of 0: drawn dashed
    relu_op = f"op{ids[dead][1:]}"
    edge = re.search(rf"{ids[dead.inputs[0]]} -> {relu_op} \[(.*?)\]", source)
    assert edge and "dashed" in edge.group(1)


def test_larger_gradients_get_thicker_borders() -> None:
    small, large = Value(1.0, "small"), Value(1.0, "large")
    out = small * 1e-4 + large * 10.0
    out.backward()
    source = draw_dot(out).source
    ids = ids_by_value(out)
    width = {v: float(re.search(r'penwidth="?([\d.]+)', node_line(source, ids[v])).group(1))
             for v in (small, large)}
    assert width[large] > width[small]


def test_operand_order_is_marked_for_sub_div_and_pow() -> None:
    a, b = Value(5.0, "a"), Value(2.0, "b")
    for root in (a - b, a / b, a ** b):
        source = draw_dot(root).source
        ids = ids_by_value(root)
        op = f"op{ids[root][1:]}"
        assert re.search(rf"{ids[a]} -> {op} \[[^\]]*headlabel=a", source)
        assert re.search(rf"{ids[b]} -> {op} \[[^\]]*headlabel=b", source)
    commutative = a * b
    assert "headlabel" not in draw_dot(commutative).source


def test_a_constant_exponent_is_written_on_the_power_node() -> None:
    x = Value(3.0, "x")
    root = x ** 2
    source = draw_dot(root).source
    assert re.search(r'label="\^2"', source)
    assert len(re.findall(r"^\s*v\d+ \[", source, re.M)) == 2          # x and x², no "2" box


def test_show_local_writes_each_local_derivative_on_its_edge() -> None:
    o, v = neuron()
    source = draw_dot(o, show_local=True).source
    ids = ids_by_value(o)
    for node in order(o):
        for child, local in zip(node.inputs, node.local_grads):
            label = f"∂ = {display_number(local)}"
            assert re.search(rf"{ids[child]} -> op{ids[node][1:]} \[[^\]]*label=\"{label}\"",
                             source), (child, node)
    # ∂o/∂n = 1 − o² by hand
    assert f"∂ = {display_number(1 - v['o'].data ** 2)}" in source


def test_numbers_keep_significant_digits() -> None:
    x = Value(3e-6, "x")
    root = x * 1.0
    source = draw_dot(root, precision=3).source
    assert "data 3×10⁻⁶" in source and "0.0000" not in source
    y = Value(1.23456789, "y")
    assert "data 1.23<" in draw_dot(y * 1.0, precision=3).source


def test_highlight_marks_a_set_and_fades_the_rest() -> None:
    o, v = neuron()
    source = draw_dot(o, highlight=[v["n"], v["o"]]).source
    ids = ids_by_value(o)
    assert f'color="{HIGHLIGHT}"' in node_line(source, ids[v["n"]])
    assert f'color="{HIGHLIGHT}"' not in node_line(source, ids[v["x1"]])
    assert re.search(rf"op{ids[v['o']][1:]} -> {ids[v['o']]} \[[^\]]*{HIGHLIGHT}", source)


def test_highlight_takes_the_paths_of_an_explanation() -> None:
    o, v = neuron()
    why = explain(o, v["w1"])
    source = draw_dot(o, highlight=why).source
    ids = ids_by_value(o)
    on_path = {n for path in why.paths for n in path.nodes}
    for node in order(o):
        if node.op is None and node.label in {"x1", "x2", "w2", "b"}:
            assert f'color="{HIGHLIGHT}"' not in node_line(source, ids[node])
    for node in on_path:
        assert f'color="{HIGHLIGHT}"' in node_line(source, ids[node])


def test_too_many_nodes_says_what_to_do_instead() -> None:
    x = Value(1.0, "x")
    root = x
    for _ in range(40):
        root = root * 1.01 + 0.5
    with pytest.raises(GraphTooLargeError, match=r"draw_network.*collapse='neuron'"):
        draw_dot(root, max_nodes=50)
    assert draw_dot(root, max_nodes=None).source                      # no limit


def test_collapse_neuron_draws_one_box_per_neuron() -> None:
    nn = pytest.importorskip("nn")
    model = nn.MLP(3, [4, 4, 1], activation="tanh", seed=1)
    y = Value(0.5, "y")
    loss = (model([0.1, -0.2, 0.3]) - y) ** 2
    loss.backward()
    with pytest.raises(GraphTooLargeError):
        draw_dot(loss, max_nodes=60)
    source = draw_dot(loss, collapse="neuron", max_nodes=60).source
    boxes = re.findall(r"^\s*(neuron_L\d+_N\d+) \[", source, re.M)
    assert len(boxes) == 4 + 4 + 1
    # every weight and its grad is shown in its neuron's box, in the lessons' notation
    w = model.layers[1].neurons[2].w[3]                                # W^(2)_34
    box = node_line(source, "neuron_L2_N3")
    assert "w₃₄⁽²⁾" in box and display_number(w.grad) in box
    z = model.layers[1].neurons[2].z
    assert f"δ {display_number(z.grad)}" in box                        # δ = ∂L/∂z
    # no multiplication op survives inside the boxes: only the loss's own ops are drawn
    ops = re.findall(r"^\s*op\d+ \[label=\"?([^\s\"]+)", source, re.M)
    assert sorted(ops) == sorted(["−", "^2"])


def test_bad_arguments_are_named() -> None:
    x = Value(1.0, "x")
    with pytest.raises(TypeError, match="draw_dot: root"):
        draw_dot(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(x, rankdir="XY")
    with pytest.raises(ValueError, match="precision"):
        draw_dot(x, precision=0)
    with pytest.raises(ValueError, match="collapse"):
        draw_dot(x, collapse="layer")
    with pytest.raises(TypeError, match="highlight"):
        draw_dot(x, highlight=[1.0])


def test_it_is_a_graphviz_digraph_that_shows_in_jupyter() -> None:
    o, _ = neuron()
    diagram = draw_dot(o)
    assert isinstance(diagram, graphviz.Digraph)
    assert hasattr(diagram, "_repr_mimebundle_")


@needs_dot
def test_rendered_svg_parses_as_xml_and_shows_the_names(tmp_path) -> None:
    o, _ = neuron()
    svg = draw_dot(o).pipe(format="svg").decode("utf-8")
    tree = ElementTree.fromstring(svg)
    assert tree.tag.endswith("svg")
    text = "".join(tree.itertext())
    for name in ("x₁", "w₁", "tanh", "data 0.7071", "grad 1"):
        assert name in text
    png = draw_dot(o).render(tmp_path / "graph", format="png", cleanup=True)
    with open(png, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    bundle = draw_dot(o)._repr_mimebundle_()
    assert "image/svg+xml" in bundle


def test_without_dot_the_error_says_how_to_install_it(tmp_path, monkeypatch) -> None:
    o, _ = neuron()
    diagram = draw_dot(o)
    monkeypatch.setenv("PATH", str(tmp_path))              # a PATH with no `dot` on it
    with pytest.raises(DotNotFoundError, match="apt-get install graphviz"):
        diagram.pipe(format="svg")
    with pytest.raises(DotNotFoundError, match="brew install graphviz"):
        diagram.render(tmp_path / "graph", format="png")
    assert diagram._repr_mimebundle_() == {"text/plain": INSTALL_HINT}
    assert "digraph" in diagram.source                     # the DOT text still works


def test_with_show_local_the_operand_and_its_derivative_share_one_label() -> None:
    a, b = Value(3.0, "a"), Value(2.0, "b")
    root = a / b                                   # ∂/∂a = 1/b, ∂/∂b = −a/b²
    source = draw_dot(root, show_local=True).source
    assert f'label="a: ∂ = {display_number(1 / 2.0)}"' in source
    assert f'label="b: ∂ = {display_number(-3.0 / 2.0 ** 2)}"' in source
    assert "headlabel" not in source


def test_a_named_constant_shows_its_name_and_value_and_no_gradient() -> None:
    from engine import Constant
    y_hat = Value(0.75, "y_hat")
    loss = (y_hat - Constant(0.9, "y")) ** 2
    loss.backward()
    source = draw_dot(loss).source
    assert 'label="y = 0.9"' in source
    assert "grad" not in re.search(r'label="y = 0.9"[^\]]*\]', source).group(0)


# ---- an nn network, in the lessons' order and compact enough for a slide -------------------
def lessons_2221() -> tuple[Value, object]:
    """The lessons' 2-2-2-1 sigmoid network with L = (ŷ − y)², after backward."""
    nn = pytest.importorskip("nn")
    model = nn.MLP.from_weights([[[0.5, -0.4], [0.3, 0.8]], [[0.2, -0.6], [0.7, 0.1]],
                                 [[0.9, -0.5]]], [[0.1, -0.2], [0.05, 0.0], [0.2]],
                                activation="sigmoid", output_activation="sigmoid")
    loss = (model([1.0, 2.0]) - Value(1.0, "y")) ** 2
    loss.label = "L"
    loss.backward()
    return loss, model


def pinned_columns(source: str) -> list[list[str]]:
    """The node ids of each rank=same group of the DOT source, in their pinned order."""
    groups = re.findall(r"\{\s*rank=same\s*(.*?)\}", source, re.S)
    columns = []
    for group in groups:
        pairs = re.findall(r"(\w+) -> (\w+) \[style=invis\]", group)
        columns.append([pairs[0][0]] + [lower for _, lower in pairs])
    return columns


def ids_by_label(root: Value) -> dict[str, str]:
    return {n.label: i for n, i in ids_by_value(root).items() if n.label}


@pytest.mark.parametrize("compact", [False, True])
def test_neurons_and_weights_are_pinned_in_index_order(compact: bool) -> None:
    loss, _ = lessons_2221()
    ids = ids_by_label(loss)
    columns = pinned_columns(draw_dot(loss, compact=compact).source)
    position = {node: (c, r) for c, column in enumerate(columns) for r, node in enumerate(column)}

    def above(upper: str, lower: str) -> bool:
        (c1, r1), (c2, r2) = position[ids[upper]], position[ids[lower]]
        return c1 == c2 and r1 < r2

    for layer, (width, nin) in enumerate([(2, 2), (2, 2), (1, 2)], 1):
        weights = [f"L{layer}.N{j}.w{k}" for j in range(1, width + 1) for k in range(1, nin + 1)]
        assert all(above(u, v) for u, v in zip(weights, weights[1:])), (layer, columns)
        if width == 2:
            assert above(f"L{layer}.N1.z", f"L{layer}.N2.z")
            assert above(f"L{layer}.N1.a", f"L{layer}.N2.a")
            assert above(f"L{layer}.N1.b", f"L{layer}.N2.b")
    assert above("x1", "x2") and above("L3.N1.a", "y")        # operand order: a − y


@needs_dot
@pytest.mark.parametrize("compact", [False, True])
def test_graphviz_keeps_the_pinned_order(compact: bool) -> None:
    """Read the positions Graphviz gave: every neuron below the one before it."""
    import json

    loss, _ = lessons_2221()
    ids = ids_by_label(loss)
    layout = json.loads(draw_dot(loss, compact=compact).pipe(format="json"))
    y = {o["name"]: float(o["pos"].split(",")[1]) for o in layout["objects"] if "pos" in o}
    for layer in (1, 2):                                     # y grows upwards in Graphviz
        for what in ("z", "a", "w1", "w2", "b"):
            assert y[ids[f"L{layer}.N1.{what}"]] > y[ids[f"L{layer}.N2.{what}"]]
        assert y[ids[f"L{layer}.N1.w1"]] > y[ids[f"L{layer}.N1.w2"]]


def test_compact_writes_each_op_in_its_results_box() -> None:
    loss, _ = lessons_2221()
    source = draw_dot(loss, compact=True).source
    ids = ids_by_value(loss)
    assert not re.search(r"^\s*op\d+ \[", source, re.M)             # no op circles
    box = {n.label: node_line(source, i) for n, i in ids.items()
           if n.label in ("L1.N1.z", "L1.N1.a", "L")}
    op_cell = r'<FONT POINT-SIZE="12"[^>]*>{}</FONT>'
    assert re.search(op_cell.format(r"\+"), box["L1.N1.z"])
    assert re.search(op_cell.format("σ"), box["L1.N1.a"])
    assert re.search(op_cell.format(r"\^2"), box["L"])
    # the operands go straight into the box, still tagged a and b where order matters
    difference = loss.inputs[0]
    assert re.search(rf"{ids[difference.inputs[0]]} -> {ids[difference]} \[[^\]]*headlabel=a",
                     source)
    assert re.search(rf"{ids[difference.inputs[1]]} -> {ids[difference]} \[[^\]]*headlabel=b",
                     source)
    with pytest.raises(TypeError, match="draw_dot: compact must be a bool"):
        draw_dot(loss, compact="yes")  # type: ignore[arg-type]


@needs_dot
def test_compact_is_much_narrower() -> None:
    """The full 2-2-2-1 graph: 15 columns instead of 29, at least a quarter narrower."""
    loss, _ = lessons_2221()

    def width(diagram) -> float:
        svg = ElementTree.fromstring(diagram.pipe(format="svg"))
        return float(svg.get("width").removesuffix("pt"))

    assert len(columns(Layout.of(loss), loss, compact=True)) == 15
    assert len(columns(Layout.of(loss), loss, compact=False)) == 29
    assert width(draw_dot(loss, compact=True)) < 0.75 * width(draw_dot(loss))


# ---- write: one call, one file -----------------------------------------------------------
@needs_dot
def test_write_makes_exactly_the_file_it_names(tmp_path) -> None:
    o, _ = neuron()
    diagram = draw_dot(o)
    assert diagram.write(tmp_path / "neuron.png") is diagram          # shows in a notebook
    assert diagram.write(tmp_path / "neuron.svg") is diagram
    assert sorted(p.name for p in tmp_path.iterdir()) == ["neuron.png", "neuron.svg"]
    png = (tmp_path / "neuron.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    rendered = diagram.render(tmp_path / "plain", format="png", cleanup=True)
    width = int.from_bytes(png[16:20], "big")                 # 110 dpi, not Graphviz's 96
    plain_width = int.from_bytes(open(rendered, "rb").read()[16:20], "big")
    assert width == pytest.approx(plain_width * 110 / 96, abs=3)
    assert "dpi" not in diagram.source                         # the diagram is unchanged


def test_write_dot_text_needs_no_graphviz(tmp_path, monkeypatch) -> None:
    o, _ = neuron()
    monkeypatch.setenv("PATH", str(tmp_path))
    draw_dot(o).write(tmp_path / "neuron.dot")
    assert (tmp_path / "neuron.dot").read_text(encoding="utf-8") == draw_dot(o).source


@pytest.mark.parametrize("path, format, message", [
    ("graph.txt", None, "the suffix .txt is not a format Graphviz writes"),
    ("graph", None, "cannot tell the format of 'graph'"),
    ("graph.png", "nope", "the format 'nope' is not a format Graphviz writes"),
])
def test_write_refuses_what_it_cannot_write(tmp_path, monkeypatch, path, format, message):
    monkeypatch.chdir(tmp_path)
    o, _ = neuron()
    with pytest.raises(ValueError, match=re.escape(f"write: {message}")):
        draw_dot(o).write(path, format)
    with pytest.raises(ValueError, match="write: dpi must be an int ≥ 1"):
        draw_dot(o).write("graph.png", dpi=0)
    with pytest.raises(TypeError, match="write: path must be a str or a path"):
        draw_dot(o).write(3)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_the_legend_says_what_a_short_id_stands_for() -> None:
    x1, x2, w1, w2, b = (Value(v, n) for n, v in
                         [("x1", 1.0), ("x2", 2.0), ("w1", 0.5), ("w2", -0.3), ("b", 0.1)])
    n = x1 * w1 + x2 * w2 + b                              # too long a name: drawn as v1
    out = (n.sigmoid() - Value(1.0, "y")) ** 2
    source = draw_dot(out).source
    assert "<B>v1</B>" in node_line(source, ids_by_value(out)[n])
    assert "where v1 = x₁·w₁ + x₂·w₂ + b</TD>" in source
    assert "where" not in draw_dot(out, legend=False).source
    o, _ = neuron()
    assert "where" not in draw_dot(o).source                # every name is an expression


def test_draw_ops_returns_the_edges_it_drew_in_order() -> None:
    from viz.dot import Layout, Look, draw_ops, new_diagram
    x, w = Value(0.5, "x"), Value(-1.2, "w")
    y = (x * w).tanh() ** 2                      # the exponent 2 is folded: no edge of its own
    layout = Layout.of(y)
    diagram = new_diagram()
    drawn = draw_ops(diagram, layout, Look(), show_local=False)
    xw, t = y.inputs[0].inputs[0], y.inputs[0]
    ids = layout.ids
    assert [(tail, head, node.label or node.op.name, position)
            for tail, head, node, position in drawn] == [
        (layout.op_id(xw), ids[xw], "mul", None), (ids[x], layout.op_id(xw), "mul", 0),
        (ids[w], layout.op_id(xw), "mul", 1),
        (layout.op_id(t), ids[t], "tanh", None), (ids[xw], layout.op_id(t), "tanh", 0),
        (layout.op_id(y), ids[y], "pow", None), (ids[t], layout.op_id(y), "pow", 0)]
    edges = [line.split("[")[0].strip() for line in diagram.body if "->" in line]
    assert edges == [f"{tail} -> {head}" for tail, head, _, _ in drawn]
