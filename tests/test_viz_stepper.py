"""viz.animate_network: the layer-by-layer stepper.

The steps are checked against the lessons' recurrence computed here by hand in plain
lists (δ⁽ᴸ⁾ = (ŷ − y) ψ′(z⁽ᴸ⁾), δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ φ′(z⁽ˡ⁾), ∂L/∂W⁽ˡ⁾ = δ⁽ˡ⁾ a⁽ˡ⁻¹⁾ᵀ);
the page is played in headless Chromium as a person would — next, prev, keys, the
slider — and the δ it shows is compared with the engine's.
"""

from __future__ import annotations

import functools
import math
import re
import shutil

import pytest

from engine import grad
from nn import MLP, mse
from viz import Page, animate_network
from viz.names import display_number
from viz.stepper import network_steps

pytest.importorskip("graphviz")
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="graphviz's `dot` is not installed (apt-get install graphviz)")

X = [0.5, -1.0, 2.0]
Y = 0.8
HALF_MSE = functools.partial(mse, half=True)


def model_3431() -> MLP:
    return MLP(3, [4, 3, 1], activation="sigmoid", output_activation="sigmoid", seed=1,
               init="torch")


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def by_hand(model: MLP) -> tuple[list[list[float]], list[list[float]], list[list[list[float]]]]:
    """a⁽ˡ⁾, δ⁽ˡ⁾ and ∂L/∂W⁽ˡ⁾ for L = ½(ŷ − y)², σ everywhere, by the lessons' formulas."""
    W, b = model.weights(), model.biases()
    a = [list(X)]
    for Wl, bl in zip(W, b):
        a.append([sigmoid(sum(w * x for w, x in zip(row, a[-1])) + bj) for row, bj in zip(Wl, bl)])
    deltas = [[(a[-1][0] - Y) * a[-1][0] * (1 - a[-1][0])]]
    for layer in range(len(W) - 1, 0, -1):
        up = deltas[0]
        deltas.insert(0, [sum(W[layer][k][j] * up[k] for k in range(len(up)))
                          * a[layer][j] * (1 - a[layer][j]) for j in range(len(a[layer]))])
    weight_grads = [[[d * x for x in a[layer]] for d in deltas[layer]]
                    for layer in range(len(W))]
    return a, deltas, weight_grads


def test_a_3431_network_is_seven_layer_steps_plus_the_gradients() -> None:
    steps = network_steps(model_3431(), X, Y, loss=HALF_MSE)
    phases = [s.phase for s in steps]
    assert phases == ["input"] + ["forward"] * 3 + ["loss"] + ["backward"] * 3 + ["gradient"] * 3
    assert sum(p in ("forward", "loss", "backward") for p in phases) == 7
    assert [s.layer for s in steps if s.phase == "backward"] == [3, 2, 1]


def test_steps_write_the_recurrence_with_the_hand_numbers() -> None:
    model = model_3431()
    a, deltas, weight_grads = by_hand(model)
    steps = network_steps(model, X, Y, loss=HALF_MSE)
    num = lambda v: display_number(v, 4)                         # noqa: E731
    forward = [s for s in steps if s.phase == "forward"]
    for layer, step in enumerate(forward, 1):
        for j, line in enumerate(step.lines):
            assert line.endswith(f"= {num(a[layer][j])}")
    backward = {s.layer: s for s in steps if s.phase == "backward"}
    assert backward[2].formula == "δ⁽²⁾ = (W⁽³⁾ᵀ δ⁽³⁾) ⊙ φ′(z⁽²⁾)"
    assert backward[3].formula == "δ⁽³⁾ = ∂L/∂ŷ ⊙ ψ′(z⁽³⁾)"
    for layer, step in backward.items():
        for j, line in enumerate(step.lines):
            assert line.endswith(f"= {num(deltas[layer - 1][j])}"), line
    assert backward[1].lines[0].startswith("δ₁⁽¹⁾ = (w₁₁⁽²⁾·δ₁⁽²⁾ + w₂₁⁽²⁾·δ₂⁽²⁾ + w₃₁⁽²⁾·δ₃⁽²⁾)"
                                           " · φ′(z₁⁽¹⁾) = (")
    loss = next(s for s in steps if s.phase == "loss")
    assert loss.lines == [f"∂L/∂ŷ = ŷ − y = {num(a[-1][0] - Y)}"]
    gradients = {s.layer: s for s in steps if s.phase == "gradient"}
    for layer, step in gradients.items():
        assert step.formula.startswith(f"∂L/∂W⁽{'¹²³'[layer - 1]}⁾ = δ")
        for j, row in enumerate(step.table[1:]):
            for k, cell in enumerate(row[1:-1]):
                assert cell.endswith(f"= {num(weight_grads[layer - 1][j][k])}")
            assert row[-1] == num(deltas[layer - 1][j])             # ∂L/∂b = δ


def test_the_model_is_left_as_it_was() -> None:
    model = model_3431()
    before = model.state_dict()
    network_steps(model, X, Y)
    if shutil.which("dot"):
        animate_network(model, X, Y)
    assert model.state_dict() == before
    assert all(p.grad == 0.0 for p in model.parameters())


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="animate_network: model must be an nn.MLP"):
        animate_network(object(), X, Y)
    with pytest.raises(ValueError, match="animate_network: residual layers"):
        animate_network(MLP(2, [2, 2, 1], residual=True, seed=0), [1.0, 2.0], 0.0)
    with pytest.raises(ValueError, match="animate_network: unknown loss 'l2'"):
        animate_network(model_3431(), X, Y, loss="l2")
    with pytest.raises(TypeError, match=r"animate_network: loss must be callable \(a loss "
                                        r"function such as nn.mse"):
        animate_network(model_3431(), X, Y, loss=3)
    with pytest.raises(ValueError, match="animate_network: precision"):
        animate_network(model_3431(), X, Y, precision=0)


@needs_dot
def test_page_is_one_offline_file_and_shows_inline_in_jupyter(tmp_path) -> None:
    path = tmp_path / "stepper.html"
    page = animate_network(model_3431(), X, Y, path, loss=HALF_MSE)
    assert isinstance(page, Page) and isinstance(page, str)
    assert path.read_text(encoding="utf-8") == page
    lowered = page.lower()
    for reference in ("http://", "https://", "<script src", "<link", "@import", "url(", "<img"):
        assert reference not in lowered, reference
    inline = page._repr_html_()
    assert inline.startswith("<iframe srcdoc=\"&lt;!DOCTYPE html&gt;")
    assert 'sandbox="allow-scripts"' in inline


# ---- in the browser -----------------------------------------------------------------
def _deltas(driver) -> dict[str, tuple[str, float]]:
    """The δ the figure shows now: node id → (visible text, data-value)."""
    found = {}
    for text in driver.find_elements("css selector", "svg.graph text.delta"):
        if text.value_of_css_property("visibility") == "visible":
            node = driver.execute_script("return arguments[0].closest('g.node').id", text)
            found[node] = (text.text, float(text.get_attribute("data-value")))
    return found


def _shown(driver, kind: str) -> list[str]:
    return [t.get_attribute("id") or t.text for t in
            driver.find_elements("css selector", f"svg.graph text.{kind}")
            if t.value_of_css_property("visibility") == "visible"]


@needs_dot
def test_the_stepper_plays_in_chromium_with_the_engines_deltas(browser) -> None:
    from selenium.webdriver.common.keys import Keys

    model = model_3431()
    page = animate_network(model, X, Y, loss=HALF_MSE)
    loss = HALF_MSE(model(X), Y)
    zs = {f"L{i}N{j}": n.z for i, layer in enumerate(model.layers, 1)
          for j, n in enumerate(layer.neurons, 1)}
    engine = dict(zip(zs, grad(loss, list(zs.values()))))
    driver = browser.open(page, "stepper")
    where = driver.find_element("id", "where")
    title = driver.find_element("id", "title")
    assert where.text == "step 1 / 11" and title.text == "The input"
    assert _deltas(driver) == {} and _shown(driver, "act") == []
    browser.screenshot("stepper-0-input")
    nxt = driver.find_element("id", "next")
    for _ in range(3):                                          # forward, one layer a click
        nxt.click()
    assert title.text == "Forward: the output layer" and len(_shown(driver, "act")) == 8
    assert _shown(driver, "loss") == []
    nxt.click()
    assert title.text == "The loss" and len(_shown(driver, "loss")) == 1
    browser.screenshot("stepper-4-loss")
    seen = {}
    for layer in (3, 2, 1):                                     # backward, one layer a step
        driver.find_element("tag name", "body").send_keys(Keys.ARROW_RIGHT)
        assert title.text == ("Backward: the output layer" if layer == 3
                              else f"Backward: layer {layer}")
        shown = _deltas(driver)
        new = {k: v for k, v in shown.items() if k not in seen}
        assert sorted(new) == sorted(k for k in zs if k.startswith(f"L{layer}N"))
        seen.update(shown)
    browser.screenshot("stepper-7-delta1")
    assert where.text == "step 8 / 11"
    for node, (text, value) in seen.items():                   # the page's δ = the engine's
        assert value == engine[node]
        assert text == f"δ = {display_number(engine[node], 4)}"
    lines = driver.find_element("id", "lines").text
    assert "δ₁⁽¹⁾ = (w₁₁⁽²⁾·δ₁⁽²⁾" in lines
    slider = driver.find_element("id", "slider")              # the slider, by keyboard
    slider.click()
    driver.execute_script("arguments[0].value = 10; arguments[0].dispatchEvent("
                          "new Event('input'))", slider)
    assert where.text == "step 11 / 11" and title.text == "Weight gradients: layer 1"
    cells = driver.find_elements("css selector", "#table td")
    assert len(cells) == 4 * 4                                # 4 neurons × (3 inputs + bias)
    browser.screenshot("stepper-10-gradients")
    slider.send_keys(Keys.ARROW_LEFT)
    assert where.text == "step 10 / 11"
    driver.find_element("tag name", "body").send_keys(Keys.HOME)
    assert where.text == "step 1 / 11" and driver.find_element("id", "prev").get_attribute(
        "disabled")
    driver.find_element("id", "last").click()
    assert where.text == "step 11 / 11"
    driver.find_element("id", "prev").click()
    assert where.text == "step 10 / 11"
    assert browser.requests() == [] and browser.errors() == []


@needs_dot
def test_animate_backward_plays_in_chromium_in_the_lessons_order(browser) -> None:
    from viz import animate_backward
    model = MLP.from_weights([[[0.5, -0.4], [0.3, 0.8]], [[1.0, -1.5]]], [[0.1, -0.2], [0.05]],
                             activation="tanh", output_activation="sigmoid")
    loss = mse(model([1.0, 2.0]), 1.0)
    driver = browser.open(animate_backward(loss), "backward")
    step = driver.find_element("id", "step")
    total = int(re.search(r"/ (\d+)", step.text).group(1))
    assert step.text == f"frame 1 / {total}"
    caption = driver.find_element("id", "caption")
    captions = []
    for _ in range(total - 1):
        captions.append(caption.text)
        driver.find_element("id", "next").click()
    captions.append(caption.text)
    assert captions[0].startswith(("w₁₁⁽¹⁾ = 0.5", "x₁ = 1"))
    first_backward = next(i for i, c in enumerate(captions) if c.startswith("∂L/∂L"))
    assert captions[first_backward + 1].startswith("∂L/∂(ŷ − y)")
    driver.find_element("id", "zoom-in").click()
    svg = driver.find_element("css selector", "svg.graph")
    assert svg.value_of_css_property("max-width") == "none"
    browser.screenshot("backward-last-zoomed")
    assert browser.requests() == [] and browser.errors() == []


@needs_dot
def test_the_stepper_runs_inside_jupyters_iframe(browser) -> None:
    page = animate_network(model_3431(), X, Y)
    driver = browser.open(f"<!DOCTYPE html><html><body>{page._repr_html_()}</body></html>",
                          "notebook-cell")
    driver.switch_to.frame(driver.find_element("tag name", "iframe"))
    try:
        assert driver.find_element("id", "where").text == "step 1 / 11"
        driver.find_element("id", "next").click()
        assert driver.find_element("id", "title").text == "Forward: layer 1"
    finally:
        driver.switch_to.default_content()
    assert browser.requests() == [] and browser.errors() == []


# ---- on a projector ---------------------------------------------------------------------
_MEASURE = """
const svg = document.querySelector("svg.graph");
const px = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
const sizes = [...svg.querySelectorAll("text")].map(t => parseFloat(t.getAttribute("font-size")));
const bottom = id => document.getElementById(id).getBoundingClientRect().bottom;
return {smallest: Math.min(...sizes) * px, numbers: 12 * px, figure: bottom("slider"),
        step: bottom("step"), window: innerHeight,
        wide: document.documentElement.scrollWidth <= innerWidth};
"""


@needs_dot
@pytest.mark.parametrize("width, height", [(1280, 720), (1920, 1080)])
def test_the_stepper_reads_on_a_projector(browser, width: int, height: int) -> None:
    """At fit, as a projector shows the page: the figure's smallest text is 12.8 px or
    more, and the figure with its controls is on the screen without scrolling; at
    1920 × 1080 the whole step too, every step (the gradient table's last row as well)."""
    page = animate_network(model_3431(), X, Y, loss=HALF_MSE)
    try:
        browser.viewport(width, height)
        driver = browser.open(page, f"stepper-{width}")
        for step in range(11):
            driver.execute_script("const s = document.getElementById('slider'); s.value = "
                                  "arguments[0]; s.dispatchEvent(new Event('input'))", step)
            seen = driver.execute_script(_MEASURE)
            assert seen["smallest"] >= 12.7 and seen["numbers"] >= 12.7, (step, seen)
            assert seen["figure"] <= seen["window"] and seen["wide"], (step, seen)
            if height >= 1080:
                assert seen["step"] <= seen["window"], (step, seen)
        browser.screenshot(f"stepper-{width}x{height}-gradients")
        assert browser.errors() == []
    finally:
        driver.set_window_size(1400, 1000)
