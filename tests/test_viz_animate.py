"""viz.animate: the frames of a backward animation and the page that plays them.

The frame list is checked against its definition (forward in layer order from
the inputs, backward level by level from the output, no constants) and its
captions against hand-derived gradients. The page is checked for
self-containment, and, when Node.js is installed, its script is run against a
small stand-in DOM built from the page's own SVG, so what each frame shows is
checked too.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from engine import Value, order
from nn import MLP, mse
from viz.animate import Frame, animate_backward, backward_order, forward_order, frames
from viz.names import display_number

pytest.importorskip("graphviz")
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="graphviz's `dot` is not installed (apt-get install graphviz)")


def neuron() -> tuple[Value, Value, Value, Value]:
    """y = tanh(x·w + b) at x = 0.5, w = −1.2, b = 0.3."""
    x, w, b = Value(0.5, label="x"), Value(-1.2, label="w"), Value(0.3, label="b")
    return (x * w + b).tanh(), x, w, b


def with_constants() -> Value:
    """A graph with two constants (2 and 3) and a reused input."""
    a = Value(1.5, label="a")
    return (a * a + 2 * a) / 3


def tiny_network_loss() -> Value:
    model = MLP.from_weights([[[0.5, -0.4], [0.3, 0.8]], [[1.0, -1.5]]], [[0.1, -0.2], [0.05]],
                             activation="relu", output_activation="sigmoid")
    return mse(model([1.0, 2.0]), 1.0)


# ---- the frames ---------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: neuron()[0], with_constants, tiny_network_loss])
def test_frame_count_is_every_non_constant_node_forward_then_backward(make) -> None:
    output = make()
    nodes = order(output)
    constants = sum(n.is_constant for n in nodes)
    steps = frames(output)
    assert len(steps) == 2 * (len(nodes) - constants)
    forward = [f for f in steps if f.phase == "forward"]
    backward = [f for f in steps if f.phase == "backward"]
    assert [nodes[f.node] for f in forward] == forward_order(nodes)
    assert [nodes[f.node] for f in backward] == backward_order(nodes, output)
    assert steps == forward + backward
    # forward: every node after its inputs; backward: every node after its consumers
    seen: set = set(n for n in nodes if n.is_constant)
    for f in forward:
        assert all(c in seen for c in nodes[f.node].inputs)
        seen.add(nodes[f.node])
    done = {output}
    for f in backward[1:]:
        node = nodes[f.node]
        assert all(m in done for m in nodes if node in m.inputs)
        done.add(node)


def test_constants_have_no_frames() -> None:
    output = with_constants()                   # nodes: a, a·a, 2, 2·a, sum, 3, ÷
    assert len(order(output)) == 7
    assert len(frames(output)) == 5 + 5
    assert not any(order(output)[f.node].is_constant for f in frames(output))


def test_a_2_2_1_network_goes_forward_layer_by_layer_and_back_level_by_level() -> None:
    model = MLP.from_weights([[[0.5, -0.4], [0.3, 0.8]], [[1.0, -1.5]]], [[0.1, -0.2], [0.05]],
                             activation="tanh", output_activation="sigmoid")
    loss = mse(model([1.0, 2.0]), 1.0)
    nodes = order(loss)
    steps = frames(loss)
    forward = [nodes[f.node].label for f in steps if f.phase == "forward"]
    layer_of = lambda label: int(label[1]) if label[:1] == "L" else 1      # noqa: E731
    named = [label for label in forward if label.startswith(("L1", "L2", "x"))]
    # every first-layer node (and input) before any second-layer one: not depth first
    assert [layer_of(label) for label in named] == sorted(layer_of(label) for label in named)
    assert forward[0] in ("L1.N1.w1", "x1")
    backward = [nodes[f.node] for f in steps if f.phase == "backward"]
    labels = [n.label for n in backward]
    assert labels[0] == "L"
    # the δ wave: the second layer's z before any first-layer z, weights after their z
    assert labels.index("L2.N1.z") < labels.index("L1.N1.z") < labels.index("L1.N1.w1")
    assert labels.index("L2.N1.w1") < labels.index("L1.N1.z")
    assert max(labels.index(n.label) for n in model.parameters() if n.label.startswith("L2")) \
        < min(labels.index(n.label) for n in model.parameters() if n.label.startswith("L1"))


def test_captions_carry_the_chain_rule_numbers() -> None:
    y, x, w, b = neuron()
    steps = frames(y)
    tanh_prime = 1 - math.tanh(0.5 * -1.2 + 0.3) ** 2      # ∂y/∂z = 1 − tanh²(z)
    by_node = {(f.phase, f.node): f for f in steps}
    nodes = order(y)
    w_frame = by_node["backward", nodes.index(w)]
    assert w_frame.caption.startswith("∂y/∂w = ∂y/∂(x·w) · ∂(x·w)/∂w = ")
    assert w_frame.caption.endswith(f"= {display_number(tanh_prime * 0.5)}")
    assert "∂(x·w)/∂w = x = 0.5" in w_frame.detail          # mul's rule, with names
    x_frame = by_node["backward", nodes.index(x)]
    assert x_frame.caption.endswith(f"= {display_number(tanh_prime * -1.2)}")
    z_frame = by_node["backward", nodes.index(y.inputs[0])]
    assert z_frame.caption == f"∂y/∂(x·w + b) = 1 − y² = {display_number(tanh_prime)}"
    assert "1 − y²" in z_frame.detail                        # tanh's rule: 1 − out²
    assert by_node["forward", nodes.index(y)].caption == (
        f"y = tanh(x·w + b) = tanh(−0.3) = {display_number(math.tanh(-0.3))}")
    assert by_node["forward", nodes.index(w)].caption == "w = −1.2  (an input, given)"
    assert by_node["backward", nodes.index(y)].caption.startswith("∂y/∂y = 1")


def test_a_node_used_twice_gets_one_term_per_use() -> None:
    a = Value(3.0, label="a")
    out = a * a
    steps = frames(out)
    last = steps[-1]
    assert last.phase == "backward" and last.node == 0
    # ∂y/∂a = 1·a + 1·a = 2a = 6
    assert last.caption == "∂y/∂a = a + a = 3 + 3 = 6"


def test_relu_rule_shows_the_branch_taken() -> None:
    z = Value(-0.7, label="z")
    out = z.relu() * 2
    detail = [f.detail for f in frames(out) if f.phase == "backward" and f.node == 0][0]
    assert "∂ReLU(z)/∂z = 0 (as not z > 0) = 0" in detail


def test_frames_leave_grad_untouched() -> None:
    y, x, w, b = neuron()
    frames(y)
    if shutil.which("dot"):
        animate_backward(y)
    assert [n.grad for n in order(y)] == [0.0] * len(order(y))


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="frames: output must be a Value"):
        frames(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="animate_backward: output must be a Value"):
        animate_backward("y")  # type: ignore[arg-type]
    y = neuron()[0]
    with pytest.raises(ValueError, match="rankdir"):
        animate_backward(y, rankdir="up")
    with pytest.raises(ValueError, match="precision"):
        animate_backward(y, precision=0)


# ---- the page ------------------------------------------------------------------------
def page_data(page: str) -> dict:
    match = re.search(r"const DATA = (.*?);\n", page)
    assert match, "the page embeds its frames as JSON"
    return json.loads(match.group(1))


def page_svg(page: str) -> ET.Element:
    start, end = page.index("<svg"), page.index("</svg>") + len("</svg>")
    return ET.fromstring(page[start:end])


@needs_dot
def test_page_is_self_contained_and_written(tmp_path) -> None:
    y = tiny_network_loss()
    path = tmp_path / "backward.html"
    page = animate_backward(y, path)
    assert path.read_text(encoding="utf-8") == page
    assert page.startswith("<!DOCTYPE html>")
    lowered = page.lower()
    for reference in ("http://", "https://", "<script src", "<link", "@import", "url(",
                      "<iframe", "<img"):
        assert reference not in lowered, reference
    assert lowered.count("<script") == 1 and lowered.count("<svg") == 1
    for control in ('id="prev"', 'id="next"', 'type="range"', "keydown", "ArrowRight"):
        assert control in page


@needs_dot
def test_page_frames_match_frames_and_svg_has_every_node() -> None:
    y = tiny_network_loss()
    page = animate_backward(y)
    data = page_data(page)
    expected = frames(y)
    assert [Frame(**f) for f in data["frames"]] == expected
    nodes = order(y)
    svg = page_svg(page)
    groups = {g.get("id"): g for g in svg.iter("g")}
    for i, node in enumerate(nodes):
        kinds = [t.get("class") for t in groups[f"n{i}"].iter("text")]
        expected_kinds = (["name"] if not node.label else ["name", "data"]) \
            if node.is_constant else ["name", "data", "grad"]   # a target: its data
        assert kinds == expected_kinds
        if node.op is not None:
            assert f"op{i}" in groups and f"o{i}" in groups
            for slot, child in enumerate(node.inputs):
                assert f"e{nodes.index(child)}_{i}_{slot}" in groups


@needs_dot
def test_labels_cannot_break_out_of_the_page() -> None:
    x = Value(1.0, label="</script><script>alert(1)</script>")
    page = animate_backward((x * 2).tanh(), title="<b>t</b>")
    assert page.lower().count("<script") == 1
    assert "&lt;b&gt;t&lt;/b&gt;" in page and "<b>t</b>" not in page
    page_svg(page)                                            # still well-formed


PLACEHOLDERS = ["__TITLE__", "__SVG__", "__DATA__", "__NODES__", "__FORWARD__",
                "__GRAD_ZERO__"]


@needs_dot
@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_titles_and_labels_that_look_like_placeholders_stay_text(placeholder: str) -> None:
    """The page is filled in one pass, so a title or label reading __SVG__ or
    __DATA__ is shown as written: one SVG, one data block, nothing put in twice."""
    x = Value(0.5, label=placeholder)
    w = Value(-2.0, label=f"w{placeholder}x")
    y = (x * w).tanh()
    page = animate_backward(y, title=f"{placeholder} and {placeholder}")
    assert page.count("<svg") == 1 and page.count("const DATA = ") == 1
    assert f"<title>{placeholder} and {placeholder}</title>" in page
    assert f"<h1>{placeholder} and {placeholder}</h1>" in page
    assert [f.caption for f in (Frame(**f) for f in page_data(page)["frames"])] == \
        [f.caption for f in frames(y)]
    names = [t.text for t in page_svg(page).iter("text") if t.get("class") == "name"]
    assert placeholder in names and f"w{placeholder}x" in names
    template_only = page.replace(placeholder, "")
    assert re.search(r"__[A-Z_]+__", template_only) is None        # every slot was filled


# ---- the script, run by Node.js against a stand-in DOM ------------------------------
_SHIM = r"""
const vm = require("vm");
const spec = JSON.parse(require("fs").readFileSync(0, "utf8"));
function element(s) {
  const el = { id: s.id, classes: new Set(s.classes || []), textContent: s.text || "",
               attrs: s.attrs || {}, children: (s.children || []).map(element),
               disabled: false, value: "0", max: "0", className: "" };
  el.classList = {
    toggle(c, on) { if (on === undefined) on = !el.classes.has(c);
                    if (on) el.classes.add(c); else el.classes.delete(c); },
    remove(...cs) { cs.forEach(c => el.classes.delete(c)); },
    add(...cs) { cs.forEach(c => el.classes.add(c)); },
    contains(c) { return el.classes.has(c); },
  };
  el.getAttribute = k => (k in el.attrs ? el.attrs[k] : null);
  el.querySelectorAll = sel => el.children.filter(c => c.classes.has(sel.split(".")[1]));
  return el;
}
const all = spec.elements.map(element);
const byId = Object.fromEntries(all.map(e => [e.id, e]));
const listeners = [];
const document = {
  getElementById: id => byId[id] || null,
  querySelector: () => null,                   // no figure here: the zoom has nothing to fit
  querySelectorAll: sel => all.filter(e => e.classes.has(sel.split(".").pop())),
  addEventListener: (type, fn) => listeners.push(fn),
};
const window = { addEventListener() {}, innerHeight: 800, scrollY: 0 };
const context = vm.createContext({ document, window, setInterval: () => 1,
                                   clearInterval: () => {}, Number, Math, Infinity, Object,
                                   Array });
vm.runInContext(spec.script, context);
function snapshot() {
  const nodes = {}, edges = {};
  all.forEach(e => {
    if (e.classes.has("node")) {
      const text = k => e.children.filter(c => c.classes.has(k)).map(c => c.textContent);
      nodes[e.id] = { classes: [...e.classes].sort(), data: text("data"), grad: text("grad") };
    }
    if (e.classes.has("edge")) edges[e.id] = [...e.classes].sort();
  });
  return { step: byId.step.textContent, phase: byId.phase.textContent,
           caption: byId.caption.textContent, detail: byId.detail.textContent,
           slider: byId.slider.value, max: byId.slider.max,
           prevDisabled: byId.prev.disabled, nextDisabled: byId.next.disabled, nodes, edges };
}
const shown = [];
for (let k = 0; k < spec.frames; k++) { context.show(k); shown.push(snapshot()); }
const keys = [];
context.show(0);
for (const key of spec.keys) {
  listeners.forEach(fn => fn({ key, target: null, preventDefault() {} }));
  keys.push(byId.step.textContent);
}
process.stdout.write(JSON.stringify({ shown, keys }));
"""


def run_page_script(page: str, keys: list[str]) -> dict:
    """Run the page's script in Node against a DOM made of the page's SVG groups."""
    svg = page_svg(page)
    elements = []
    for group in svg.iter("g"):
        if group.get("class") not in ("node", "edge"):
            continue
        children = [{"classes": [t.get("class")] if t.get("class") else [],
                     "attrs": {"data-full": t.get("data-full", "")}, "text": t.text or ""}
                    for t in group.iter("text")]
        elements.append({"id": group.get("id"), "classes": [group.get("class")],
                         "children": children})
    for control in ("first", "prev", "play", "next", "last", "slider", "step", "phase",
                    "caption", "detail", "zoom-in", "zoom-out", "zoom-fit"):
        assert f'id="{control}"' in page
        elements.append({"id": control})
    script = re.search(r"<script>(.*)</script>", page, re.S).group(1)
    spec = {"elements": elements, "script": script, "frames": len(page_data(page)["frames"]),
            "keys": keys}
    result = subprocess.run(["node", "-e", _SHIM], input=json.dumps(spec), text=True,
                            capture_output=True, timeout=60, check=True)
    return json.loads(result.stdout)


@needs_dot
@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_script_reveals_values_then_gradients_frame_by_frame() -> None:
    y, x, w, b = neuron()
    nodes = order(y)
    steps = frames(y)
    page = animate_backward(y)
    run = run_page_script(page, ["ArrowRight", "ArrowRight", "End", "ArrowRight", "Home",
                                 "ArrowLeft"])
    total = len(steps)
    n = len(nodes)
    for k, (frame, seen) in enumerate(zip(steps, run["shown"])):
        assert seen["step"] == f"frame {k + 1} / {total}"
        assert seen["caption"] == frame.caption and seen["detail"] == frame.detail
        assert seen["phase"] == f"{frame.phase}:"
        assert seen["max"] == total - 1 and seen["slider"] == k
        assert seen["prevDisabled"] == (k == 0) and seen["nextDisabled"] == (k == total - 1)
        for i, node in enumerate(nodes):
            shown = seen["nodes"][f"n{i}"]
            valued = steps.index(next(f for f in steps if f.node == i)) <= k
            graded = k >= n and steps.index(Frame("backward", i, *_rest(steps, i))) <= k
            assert n == len(steps) // 2                        # no constants here
            expect_data = f"data {display_number(node.data)}" if valued else "data ?"
            expect_grad = "grad ?"
            if graded:
                expect_grad = f"grad {display_number(_dy(y, node))}"
            assert shown["data"] == [expect_data], (k, i)
            assert shown["grad"] == [expect_grad], (k, i)
            assert ("waiting" in shown["classes"]) == (not valued)
            assert ("now-forward" in shown["classes"]) == (frame.phase == "forward"
                                                           and frame.node == i)
            assert ("now-backward" in shown["classes"]) == (frame.phase == "backward"
                                                            and frame.node == i)
        flowing = sorted(e for e, classes in seen["edges"].items()
                         if f"flow-{frame.phase}" in classes)
        node = nodes[frame.node]
        if frame.phase == "forward":       # the edges that make the node
            expected = [] if node.op is None else sorted(
                [f"o{frame.node}"] + [f"e{nodes.index(c)}_{frame.node}_{s}"
                                      for s, c in enumerate(node.inputs)])
        else:                              # the edges its gradient comes back along
            expected = sorted({e for j, m in enumerate(nodes) for s, c in enumerate(m.inputs)
                               if c is node for e in (f"e{frame.node}_{j}_{s}", f"o{j}")})
        assert flowing == expected, k
    assert run["keys"] == [f"frame {k} / {total}" for k in (2, 3, total, total, 1, 1)]


def _rest(steps: list[Frame], i: int) -> tuple[str, str]:
    frame = next(f for f in steps if f.phase == "backward" and f.node == i)
    return frame.caption, frame.detail


def _dy(y: Value, node: Value) -> float:
    """∂y/∂node for y = tanh(x·w + b), by hand."""
    x, w, b = 0.5, -1.2, 0.3
    d = 1 - math.tanh(x * w + b) ** 2
    z = y.inputs[0]
    xw = z.inputs[0]
    local = {y: 1.0, z: d, xw: d, z.inputs[1]: d, xw.inputs[0]: d * w, xw.inputs[1]: d * x}
    return local[node]


@needs_dot
def test_the_title_names_the_output_as_its_node_shows_it() -> None:
    a, b, c = Value(0.5, "a"), Value(-1.5, "b"), Value(2.0, "c")
    out = ((a * b + c).tanh() * a - b * c).exp()          # unlabelled, too long: short id
    page = animate_backward(out)
    names = [t.text for t in page_svg(page).iter("text") if t.get("class") == "name"]
    title = re.search(r"<h1>(.*)</h1>", page).group(1)
    shown = title.removeprefix("Backpropagation through ").rsplit(" = ", 1)[0]
    assert shown in names                                  # the node's own first line
    assert shown.startswith("y = ")                        # not a bare short id (v4)


@needs_dot
def test_the_page_is_a_str_shown_inline_in_jupyter() -> None:
    from viz import Page
    page = animate_backward(neuron()[0])
    assert isinstance(page, Page) and isinstance(page, str) and page.startswith("<!DOCTYPE")
    inline = page._repr_html_()
    assert inline.startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;')
    assert "<script" not in inline                          # escaped inside srcdoc


_FIGURE = """
const svg = document.querySelector("svg.graph"), frame = svg.parentElement;
return {scale: svg.getBoundingClientRect().width / (svg.viewBox.baseVal.width * 4 / 3),
        across: frame.scrollWidth <= frame.clientWidth,
        caption: document.getElementById("detail").getBoundingClientRect().bottom,
        window: innerHeight};
"""


@needs_dot
@pytest.mark.parametrize("width, height, larger", [(1280, 720, 1.3), (1920, 1080, 1.3)])
def test_fit_enlarges_a_small_graph_for_a_projector(browser, width, height, larger) -> None:
    """A six-node graph is drawn larger than its own size on a projector (up to twice),
    with no sideways scrolling and its caption on the screen."""
    try:
        browser.viewport(width, height)
        driver = browser.open(animate_backward(neuron()[0]), f"backward-{width}")
        seen = driver.execute_script(_FIGURE)
        assert larger <= seen["scale"] <= 2.0 and seen["across"], seen
        assert seen["caption"] <= seen["window"], seen
        driver.find_element("id", "zoom-in").click()        # + and fit still work
        assert driver.execute_script(_FIGURE)["scale"] == pytest.approx(1.25 * seen["scale"])
        driver.find_element("id", "zoom-fit").click()
        assert driver.execute_script(_FIGURE)["scale"] == pytest.approx(seen["scale"])
        assert browser.errors() == []
    finally:
        driver.set_window_size(1400, 1000)


def test_the_page_says_what_each_short_id_it_shows_stands_for():
    o, n, w = Value(0.5, "o"), Value(-1.0, "n"), Value(0.3, "w")
    y = ((o * w + n * w + o).tanh() - 1.0) ** 2            # tanh(…) is too long: v1
    page = str(animate_backward(y))
    assert '<p class="where">where v1 = tanh(o·w + n·w + o)</p>' in page
    plain = str(animate_backward(o * w))
    assert 'class="where"' not in plain
