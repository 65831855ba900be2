"""viz.explore: a graph you can touch, in one offline page.

The page is driven in headless Chromium as a learner would drive it — clicking the
weight, Tab and Enter, dragging a slider, typing into a number box, pressing step —
and every number it shows is held against the engine's at the same inputs (values
and gradients to 1e-12, the words and numbers of the chain rule as viz writes them,
borders as draw_dot draws them). Where an op is undefined the page says what the
engine says, and keeps the last good numbers.
"""

from __future__ import annotations

import re
import shutil

import pytest

from engine import Constant, Value, grad, no_grad, order, replay
from nn import MLP, mse
from viz import Page, explore
from viz.dot import grad_color, grad_width
from viz.explore import _keys, _slider, _templates
from viz.names import node_names
from viz.notation import ATOM, SIGN, display_number

pytest.importorskip("graphviz")
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="graphviz's `dot` is not installed (apt-get install graphviz)")


def one_neuron():
    """ŷ = σ(w·x + b), L = (ŷ − y)², the target y a named constant."""
    x, w, b = Value(0.5, "x"), Value(-1.2, "w"), Value(0.3, "b")
    y_hat = (x * w + b).sigmoid()
    y_hat.label = "ŷ"
    loss = (y_hat - Constant(1.0, "y")) ** 2
    loss.label = "L"
    return loss, w, b


def network_2221():
    model = MLP.from_weights([[[0.5, -0.4], [0.3, 0.8]], [[0.2, -0.6], [0.7, 0.1]],
                              [[0.9, -0.5]]], [[0.1, -0.2], [0.05, 0.0], [0.2]],
                             activation="sigmoid", output_activation="sigmoid")
    return mse(model([Value(1.0, "x1"), Value(2.0, "x2")]), 1.0)


def engine_numbers(loss, changes: dict[str, float]) -> tuple[dict, dict]:
    """The engine's values and gradients, by the page's keys, with the leaves labelled
    in ``changes`` set to new numbers (the graph replayed, as the page does)."""
    nodes = order(loss)
    keys = _keys(nodes, node_names(loss))
    leaves = {n.label: n for n in nodes if n.op is None and n.label}
    made = replay(nodes, {leaves[k]: Value(v, k) for k, v in changes.items()})
    new = [made.get(n, n) for n in nodes]
    grads = grad(new[-1], new)
    return ({k: n.data for k, n in zip(keys, new) if k is not None},
            {k: g for k, g in zip(keys, grads) if k is not None})


def assert_close(page: dict, engine: dict) -> None:
    assert page.keys() == engine.keys()
    for key, expected in engine.items():
        assert abs(page[key] - expected) <= 1e-12 * abs(expected) + 1e-300, \
            (key, page[key], expected)


def page_numbers(driver) -> tuple[dict, dict]:
    return driver.execute_script("return [chaingrad.values(), chaingrad.grads()]")


# ---- in Python ---------------------------------------------------------------------------------
def test_bad_arguments():
    loss, w, b = one_neuron()
    with pytest.raises(TypeError, match="explore: output must be a Value, got float"):
        explore(3.0)
    with pytest.raises(ValueError, match="explore: precision must be an int ≥ 1"):
        explore(loss, precision=0)
    with pytest.raises(ValueError, match="explore: rankdir must be one of"):
        explore(loss, rankdir="up")
    with pytest.raises(TypeError, match=r"explore: parameters must be a list of Values, .*"
                                        r"got one Value: write parameters=\["):
        explore(loss, parameters=w)
    with pytest.raises(TypeError, match=r"explore: parameters must be .*; item 1 is float 0\.3"):
        explore(loss, parameters=[w, 0.3])
    with pytest.raises(TypeError, match="explore: compact must be a bool"):
        explore(loss, compact="yes")
    with no_grad():
        detached = Value(2.0) * 3.0
    with pytest.raises(ValueError, match="explore: .* was computed under no_grad()"):
        explore(detached)
    with pytest.raises(ValueError, match="explore: x is inf: the page works with finite"):
        explore(Value(float("inf"), "x") * 2.0)


def test_templates_have_one_form_per_shape_of_the_numbers():
    def tanh_rule(terms):                                 # 1 − out², as Notation writes it
        text, precedence = terms["out"]
        return f"1 − {text if precedence == ATOM else f'({text})'}²"
    rule = _templates(tanh_rule)
    assert rule == {"names": ["out"], "templates": ["1 − {out}²", "1 − ({out})²"]}
    same = _templates(lambda t: f"{t['a'][0]} + {t['b'][0]}")
    assert same == {"names": ["a", "b"], "templates": ["{a} + {b}"]}
    assert _templates(lambda t: "1") is None
    assert SIGN < ATOM


def test_keys_are_labels_else_names_and_never_repeat():
    x, x_again = Value(1.0, "x"), Value(2.0, "x")
    y = x * 2 + x_again
    nodes = order(y)
    keys = dict(zip(nodes, _keys(nodes, node_names(y))))
    assert keys[x] == "x" and keys[x_again] == "x#2"
    assert [k for n, k in keys.items() if n.is_constant] == [None]   # the 2
    assert keys[y] == "x·2 + x"


def test_a_sliders_reach_is_a_round_number_past_twice_the_value():
    assert _slider(0.5) == {"min": -1.0, "max": 1.0, "step": 0.002}
    assert _slider(-1.2)["max"] == 5.0 and _slider(7.0)["max"] == 20.0
    assert _slider(0.0)["max"] == 1.0 and _slider(-400.0)["min"] == -1000.0


@needs_dot
def test_the_page_is_one_offline_file_shown_inline_and_grads_are_left_alone(tmp_path):
    loss, w, b = one_neuron()
    path = tmp_path / "neuron.html"
    page = explore(loss, path, parameters=[w, b])
    assert isinstance(page, Page) and isinstance(page, str)
    assert path.read_text(encoding="utf-8") == page
    lowered = page.lower()
    for reference in ("http://", "https://", "<script src", "<link", "@import", "url(", "<img"):
        assert reference not in lowered, reference
    assert page._repr_html_().startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;')
    assert all(node.grad is None if node.is_constant else node.grad == 0.0  # engine.grad,
               for node in order(loss))                                     # not backward


@needs_dot
def test_a_2221_networks_page_is_tens_of_kilobytes():
    """The page of the lessons' 2-2-2-1 network with its loss: 45 values, 27 ops."""
    loss = network_2221()
    full, compact = len(explore(loss).encode()), len(explore(loss, compact=True).encode())
    assert full < 100_000 and compact < full, (full, compact)


# ---- in the browser: one neuron, as a learner uses it ------------------------------------------
def _node(driver, name: str):
    return driver.find_element("css selector", f'svg.graph g.node[aria-label="{name}"]')


def _panel(driver) -> tuple[str, list[str]]:
    title = driver.find_element("id", "selected-title").text
    return title, [p.text for p in driver.find_elements("css selector", "#selected p")]


@needs_dot
def test_a_learner_clicks_the_weight_moves_x_and_steps_the_loss_down(browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    loss, w, b = one_neuron()
    driver = browser.open(explore(loss, parameters=[w, b]), "neuron")
    values, grads = engine_numbers(loss, {})
    page_values, page_grads = page_numbers(driver)
    assert_close(page_values, values)
    assert_close(page_grads, grads)
    num = lambda x: display_number(x, 4)                             # noqa: E731

    def box(name):
        return [t.text for t in _node(driver, name).find_elements("tag name", "text")]
    assert box("w") == ["w", f"data {num(-1.2)}", f"grad {num(grads['w'])}"]

    _node(driver, "w").click()                                       # why is ∂L/∂w what it is?
    title, lines = _panel(driver)
    assert title == "w — a parameter"
    assert lines[0] == "w = −1.2"
    assert lines[2] == (f"∂L/∂w = ∂L/∂(x·w) · ∂(x·w)/∂w = ({num(grads['x·w'])}) × 0.5 = "
                        f"{num(grads['w'])}")
    assert lines[3] == "∂(x·w)/∂w = x = 0.5"
    lit = driver.execute_script("return [...document.querySelectorAll('.arrives')].map(e => e.id)")
    assert len(lit) == 2                                             # w → × → x·w
    browser.screenshot("explore-1-weight")

    slider = driver.find_element("css selector", 'input[type=range][data-key="x"]')
    ActionChains(driver).click_and_hold(slider).move_by_offset(70, 0).release().perform()
    x = driver.execute_script("return chaingrad.values().x")
    assert x != 0.5 and float(slider.get_attribute("value")) == x
    values, grads = engine_numbers(loss, {"x": x})
    page_values, page_grads = page_numbers(driver)
    assert_close(page_values, values)
    assert_close(page_grads, grads)
    assert _panel(driver)[1][3] == f"∂(x·w)/∂w = x = {num(x)}"      # the panel follows
    browser.screenshot("explore-2-moved-x")

    number = driver.find_element("css selector", 'input.number[data-key="x"]')
    number.send_keys(Keys.CONTROL, "a")
    number.send_keys("-2.5")
    values, grads = engine_numbers(loss, {"x": -2.5})
    assert_close(page_numbers(driver)[0], values)
    assert box("x") == ["x", "data −2.5", f"grad {num(grads['x'])}"]

    driver.execute_script("document.activeElement.blur()")          # Tab to ŷ, Enter
    for _ in range(40):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        if driver.switch_to.active_element.get_attribute("aria-label") == "ŷ":
            break
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    title, lines = _panel(driver)
    assert title == "ŷ — made by sigmoid"
    y_hat = values["ŷ"]
    local = y_hat * (1 - y_hat)
    assert lines[0] == f"ŷ = σ(x·w + b) = σ({num(values['x·w + b'])}) = {num(y_hat)}"
    assert f"∂ŷ/∂(x·w + b) = ŷ·(1 − ŷ) = {num(y_hat)}·(1 − {num(y_hat)}) = {num(local)}" \
        in lines

    rate = driver.find_element("id", "lr")
    rate.send_keys(Keys.CONTROL, "a")
    rate.send_keys("2")
    losses = [values["L"]]
    for _ in range(3):
        before = page_numbers(driver)
        driver.find_element("id", "step").click()
        after = page_numbers(driver)
        for p in ("w", "b"):                                         # p − lr · ∂L/∂p, exactly
            assert after[0][p] == before[0][p] - 2.0 * before[1][p]
        assert after[0]["x"] == -2.5 and after[0]["y"] == 1.0       # inputs stay
        losses.append(after[0]["L"])
        values, grads = engine_numbers(loss, {"x": -2.5, "w": after[0]["w"],
                                              "b": after[0]["b"]})
        assert_close(after[0], values)
        assert_close(after[1], grads)
    assert losses == sorted(losses, reverse=True) and losses[-1] < losses[0]
    history = driver.find_element("id", "history").text
    assert history == "after 3 steps: " + " → ".join(num(v) for v in losses)
    browser.screenshot("explore-3-stepped")
    assert driver.execute_script("return chaingrad.set('x', 1.0)") is True
    assert driver.find_element("id", "history").text == ""       # moved by hand: a new record
    assert browser.requests() == [] and browser.errors() == []


# ---- refusals: the engine's message, the last good numbers -------------------------------------
def _shown(driver) -> str:
    return driver.execute_script("return document.body.innerText + ' ' + [...document"
                                 ".querySelectorAll('svg text')].map(t => t.textContent).join(' ')")


def _engine_error(make) -> str:
    with pytest.raises(ArithmeticError) as error:
        make()
    return str(error.value)


@needs_dot
@pytest.mark.parametrize("name, build, changes, again", [
    ("division by zero", lambda x, w: x / w, {"w": 0.0}, lambda x, w: x / w),
    ("exp overflows", lambda x, w: (x * w).exp(), {"x": 1000.0},
     lambda x, w: (x * w).exp()),
    ("a product overflows", lambda x, w: x * w * 1e300, {"x": 1e10},
     lambda x, w: x * w * 1e300),
    ("a gradient overflows", lambda x, w: (x * w).log(), {"x": 1e-310},
     lambda x, w: (x * w).log().backward()),
])
def test_a_refused_number_shows_the_engines_message_and_keeps_the_last_good(
        browser, name, build, changes, again):
    x, w = Value(0.5, "x"), Value(2.0, "w")
    out = build(x, w)
    driver = browser.open(explore(out), "refused")
    before = page_numbers(driver)
    (key, value), = changes.items()
    assert driver.execute_script("return chaingrad.set(arguments[0], arguments[1])",
                                 key, value) is False
    numbers = {"x": 0.5, "w": 2.0, **changes}
    message = _engine_error(lambda: again(Value(numbers["x"], "x"), Value(numbers["w"], "w")))
    # Python's advice about anomaly mode, said as what to do in Python to find the op
    message = message.replace(
        "run it under engine.detect_anomaly() to see the line that created the op",
        "to find the line that made this op, run the code that builds the graph in Python "
        "under engine.detect_anomaly()")
    assert ("in Python under engine.detect_anomaly()" in message) == (name == "a gradient "
                                                                      "overflows")
    assert driver.execute_script("return chaingrad.message()") == message
    assert page_numbers(driver) == before
    shown = _shown(driver)
    assert message in shown
    assert not re.search(r"NaN|Infinity|undefined|\binf\b", shown.replace(message, "")), shown
    box = driver.find_element("css selector", f'input.number[data-key="{key}"]')
    assert "refused" in box.get_attribute("class")
    assert driver.execute_script("return chaingrad.set(arguments[0], 0.25)", key) is True
    assert driver.execute_script("return chaingrad.message()") == ""
    assert browser.errors() == []


@needs_dot
@pytest.mark.parametrize("text, why, last_good", [
    ("1e400", "x: 1e400 is too large for a float (it overflows to inf); the page keeps "
              f"x = {display_number(1e40, 4)}", 1e40),  # 1, 1e4 and 1e40 were numbers
    ("inf", "x: inf is not a finite number; the page keeps x = 0.5", 0.5),
    ("nan", "x: nan is not a finite number; the page keeps x = 0.5", 0.5),
    ("-Infinity", "x: -Infinity is not a finite number; the page keeps x = 0.5", 0.5),
    ("abc", 'x: "abc" is not a number; the page keeps x = 0.5', 0.5),
    ("0x10", 'x: "0x10" is not a number; the page keeps x = 0', 0.0),
    ("", "x: the box is empty: type a number; the page keeps x = 0.5", 0.5),
])
def test_a_typed_box_that_holds_no_number_says_why_and_keeps_the_last_good(
        browser, text, why, last_good):
    from selenium.webdriver.common.keys import Keys
    loss, w, b = one_neuron()
    driver = browser.open(explore(loss, parameters=[w, b]), "typed")
    box = driver.find_element("css selector", 'input.number[data-key="x"]')
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(*(text or [Keys.BACKSPACE]))                # key by key, as a person types
    message = driver.find_element("id", "message")
    assert message.is_displayed() and message.text == why
    assert driver.execute_script("return chaingrad.message()") == why
    assert "refused" in box.get_attribute("class")
    values, grads = engine_numbers(loss, {"x": last_good})
    page_values, page_grads = page_numbers(driver)
    assert_close(page_values, values)
    assert_close(page_grads, grads)
    shown = _shown(driver).replace(why, "")
    assert not re.search(r"NaN|Infinity|undefined|\binf\b", shown), shown
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("−0.25")                                    # the diagram's own minus sign
    assert not message.is_displayed() and "refused" not in box.get_attribute("class")
    assert driver.execute_script("return chaingrad.values().x") == -0.25
    assert browser.errors() == []


@needs_dot
def test_a_learning_rate_that_is_no_number_takes_no_step_and_says_why(browser):
    from selenium.webdriver.common.keys import Keys
    loss, w, b = one_neuron()
    driver = browser.open(explore(loss, parameters=[w, b]), "rate")
    before = page_numbers(driver)
    rate = driver.find_element("id", "lr")
    rate.send_keys(Keys.CONTROL, "a")
    rate.send_keys("fast")
    driver.find_element("id", "step").click()
    assert driver.execute_script("return chaingrad.message()") == \
        'learning rate: "fast" is not a number; no step taken'
    assert page_numbers(driver) == before and "refused" in rate.get_attribute("class")
    rate.send_keys(Keys.CONTROL, "a")
    rate.send_keys("0.5")
    driver.find_element("id", "step").click()
    assert driver.execute_script("return chaingrad.message()") == ""
    assert page_numbers(driver)[0]["w"] == before[0]["w"] - 0.5 * before[1]["w"]


# ---- a network: every number, every border ------------------------------------------------------
@needs_dot
@pytest.mark.parametrize("compact", [False, True])
def test_a_networks_page_keeps_every_number_and_border_equal_to_the_engine(browser, compact):
    loss = network_2221()
    driver = browser.open(explore(loss, compact=compact), "network")
    changes = {"x1": -0.7, "x2": 1.3, "L1.N1.w1": 2.5, "L2.N2.b": -1.0}
    for key, value in changes.items():
        assert driver.execute_script("return chaingrad.set(arguments[0], arguments[1])",
                                     key, value) is True
    values, grads = engine_numbers(loss, changes)
    page_values, page_grads = page_numbers(driver)
    assert_close(page_values, values)
    assert_close(page_grads, grads)
    assert {"L1.N1.w1", "L3.N1.b", "x1", "L1.N1.z", "L3.N1.a"} <= page_values.keys()
    boxes = driver.execute_script("""
      return [...document.querySelectorAll('svg.graph g.node')].filter(g => g.querySelector(
        'text.grad')).map(g => [g.getAttribute('aria-label'), [...g.querySelectorAll('text')]
        .map(t => t.textContent), g.querySelector('rect').getAttribute('stroke'),
        Number(g.querySelector('rect').getAttribute('stroke-width'))]);""")
    nodes = order(loss)
    by_name = {name: key for key, name in zip(_keys(nodes, node_names(loss)),
                                                 node_names(loss).values()) if key}
    largest = max(abs(grads[by_name[name]]) for node, name in node_names(loss).items()
                  if not node.is_constant)
    assert len(boxes) >= 40
    for label, texts, stroke, width in boxes:
        key = by_name[label]
        assert texts[-2:] == [f"data {display_number(values[key])}",
                              f"grad {display_number(grads[key])}"], label
        assert stroke == grad_color(grads[key]), label
        assert width == pytest.approx(grad_width(grads[key], largest), abs=0.011), label
    _node(driver, "z₁⁽¹⁾").click()
    title, lines = _panel(driver)
    assert title == "z₁⁽¹⁾ — made by add"
    assert lines[0].startswith("z₁⁽¹⁾ = Σ₁² w₁ₖ⁽¹⁾·xₖ + b₁⁽¹⁾ = ")
    passed = driver.execute_script("return [...document.querySelectorAll('.passes')].length")
    assert passed == (2 if compact else 3)
    browser.screenshot(f"network-{'compact' if compact else 'full'}")
    assert browser.requests() == [] and browser.errors() == []


@needs_dot
def test_a_dead_relu_is_dashed_where_its_gradient_stops(browser):
    x, w = Value(1.5, "x"), Value(2.0, "w")
    y = (x * w).relu() + 0.5 * x
    y.label = "y"
    driver = browser.open(explore(y), "relu")

    def dashes():
        return driver.execute_script("""
          const box = [...document.querySelectorAll('svg.graph g.node')].find(g =>
            g.getAttribute('aria-label') === 'x·w');
          const edge = document.getElementById(arguments[0]);
          return [box.querySelector('rect').getAttribute('stroke-dasharray'),
                  edge.querySelector('path').getAttribute('stroke-dasharray')];""", edge)
    nodes = order(y)
    relu = next(i for i, n in enumerate(nodes) if n.op is not None and n.op.name == "relu")
    edge = f"e{relu}_0"
    assert dashes() == [None, None]
    driver.execute_script("chaingrad.set('w', -2.0)")               # ReLU(−3) = 0: dead
    assert dashes() == ["5,2", "5,2"]
    assert driver.execute_script("return chaingrad.grads().w") == 0.0
    assert driver.execute_script("return chaingrad.grads().x") == 0.5
    driver.execute_script("chaingrad.set('w', 1.0)")
    assert dashes() == [None, None]


@needs_dot
def test_the_page_runs_inside_jupyters_iframe(browser):
    loss, w, b = one_neuron()
    page = explore(loss, parameters=[w, b])
    driver = browser.open(f"<!DOCTYPE html><html><body>{page._repr_html_()}</body></html>",
                          "notebook-cell")
    driver.switch_to.frame(driver.find_element("tag name", "iframe"))
    try:
        assert driver.execute_script("return chaingrad.set('x', 1.5)") is True
        values, _ = engine_numbers(loss, {"x": 1.5})
        assert_close(driver.execute_script("return chaingrad.values()"), values)
        driver.find_element("id", "step").click()
        assert driver.execute_script("return chaingrad.values().L") < values["L"]
    finally:
        driver.switch_to.default_content()
    assert browser.requests() == [] and browser.errors() == []


def test_a_graph_too_large_for_a_page_is_refused_saying_what_to_do():
    from viz import GraphTooLargeError
    x = Value(0.5, "x")
    y = x
    for _ in range(80):
        y = y * 1.01 + 0.1
    with pytest.raises(GraphTooLargeError, match=r"explore: the graph has \d+ values, more "
                                                 r"than max_nodes=150"):
        explore(y)
    with pytest.raises(TypeError, match="explore: max_nodes must be an int ≥ 1 or None"):
        explore(x, max_nodes="all")


@needs_dot
def test_on_a_projector_the_graph_fills_the_width_and_the_panels_stay_in_view(browser):
    """At fit on 1920 × 1080 the graph is drawn larger than its own size (up to 1.5
    times), without sideways scrolling, and the numbers and the chain rule below it
    start on the screen."""
    loss, w, b = one_neuron()
    try:
        browser.viewport(1920, 1080)
        driver = browser.open(explore(loss, parameters=[w, b]), "neuron-1920")
        seen = driver.execute_script("""
            const svg = document.querySelector("svg.graph"), frame = svg.parentElement;
            return {scale: svg.getBoundingClientRect().width /
                           (svg.viewBox.baseVal.width * 4 / 3),
                    across: frame.scrollWidth <= frame.clientWidth,
                    panels: document.querySelector(".panels").getBoundingClientRect().top,
                    window: innerHeight};""")
        assert 1.1 <= seen["scale"] <= 1.5 and seen["across"], seen
        assert seen["panels"] < seen["window"] / 2, seen
        assert browser.errors() == []
    finally:
        driver.set_window_size(1400, 1000)
