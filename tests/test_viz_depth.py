"""viz.explore_depth: the lesson on depth as a page.

The numbers are checked three ways: against the lessons' recurrence worked by hand in
plain floats (δ⁽ᴸ⁾ = (σ(z⁽ᴸ⁾) − y)/N, δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾ + a residual path's
∂L/∂a⁽ˡ⁺¹⁾) ⊙ φ′(z⁽ˡ⁾), ∂L/∂W⁽ˡ⁾ = Σ δ⁽ˡ⁾ a⁽ˡ⁻¹⁾ᵀ), against fresh models built here, and
against the lessons' claims (result 5 of LESSONS.md). The page is then driven in
headless Chromium as a person would: drag the depth slider, pick an activation and an
initialisation, tick residual; what it draws and writes is compared with the engine's.
"""

from __future__ import annotations

import gc
import html
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

import nn
from viz import Page, explore_depth
from viz.depth import ACTIVATIONS, MATCHED_INIT, gradient_by_layer
from viz.notation import display_number

ROOT = Path(__file__).resolve().parent.parent
X16, Y16 = nn.datasets.moons(16, noise=0.1, seed=0)      # the page's data at its defaults
KEYS = [f"{a}/{c}/{r}" for a in ACTIVATIONS for c in ("naive", "matched")
        for r in ("plain", "residual")]


def page_data(page: str) -> dict:
    match = re.search(r"const DATA = (.*?);\n", page)
    assert match, "the page embeds its numbers as JSON"
    return json.loads(match.group(1))


def curve(data: dict, activation: str, choice: str, residual: bool, depth: int) -> list[float]:
    return data["values"][f"{activation}/{choice}/{'residual' if residual else 'plain'}"][depth - 1]


# ---- the numbers --------------------------------------------------------------------
PHI = {"sigmoid": (lambda z: 1 / (1 + math.exp(-z)),
                   lambda z: math.exp(-z) / (1 + math.exp(-z)) ** 2),
       "tanh": (math.tanh, lambda z: 1 - math.tanh(z) ** 2),
       "relu": (lambda z: max(z, 0.0), lambda z: 1.0 if z > 0 else 0.0)}


def by_hand(model: nn.MLP, X: list[list[float]], y: list[int]) -> list[float]:
    """mean |∂L/∂W⁽ˡ⁾ⱼₖ| of each layer, L the mean binary cross-entropy on the logit
    z⁽ᴸ⁾, by the lessons' recurrence in plain floats."""
    W, b = model.weights(), model.biases()
    residual = [layer.residual for layer in model.layers]
    f, f_prime = PHI[model.activation]
    sums = [[[0.0] * len(row) for row in layer] for layer in W]
    for x, target in zip(X, y):
        a, z = [list(x)], []
        for n, (Wn, bn) in enumerate(zip(W, b)):                 # layer n + 1
            z.append([sum(w * ak for w, ak in zip(row, a[-1])) + bj for row, bj in zip(Wn, bn)])
            if n == len(W) - 1:
                a.append(z[-1])                                   # the linear output
            else:
                a.append([f(v) + (a[-1][j] if residual[n] else 0.0) for j, v in enumerate(z[-1])])
        delta = [(1 / (1 + math.exp(-z[-1][0])) - target) / len(X)]   # ∂L/∂z⁽ᴸ⁾ = (σ − y)/N
        below: list[float] = []                     # ∂L/∂a of the layer above, for a skip
        for n in reversed(range(len(W))):
            for j, dj in enumerate(delta):
                for k, ak in enumerate(a[n]):
                    sums[n][j][k] += dj * ak                      # ∂L/∂W⁽ˡ⁾ = δ⁽ˡ⁾ a⁽ˡ⁻¹⁾ᵀ
            if n == 0:
                break
            up = [sum(W[n][j][k] * delta[j] for j in range(len(delta)))   # ∂L/∂a⁽ˡ⁻¹⁾ =
                  for k in range(len(a[n]))]                                # W⁽ˡ⁾ᵀ δ⁽ˡ⁾
            if residual[n]:                            # a⁽ˡ⁾ = f(z⁽ˡ⁾) + a⁽ˡ⁻¹⁾: + ∂L/∂a⁽ˡ⁾
                up = [u + g for u, g in zip(up, below)]
            below = up
            delta = [g * f_prime(v) for g, v in zip(up, z[n - 1])]
    return [sum(abs(v) for row in layer for v in row) / sum(len(row) for row in layer)
            for layer in sums]


@pytest.mark.parametrize("depth, activation, residual, init", [
    (1, "sigmoid", False, "uniform"), (3, "sigmoid", False, "uniform"),
    (5, "tanh", True, "xavier"), (4, "relu", True, "he"), (6, "sigmoid", True, "uniform")])
def test_gradient_by_layer_is_the_recurrence_by_hand(depth, activation, residual, init) -> None:
    got = gradient_by_layer(depth, activation, residual, init, 4, 3, X16, Y16)
    model = nn.MLP(2, [4] * (depth - 1) + [1], activation=activation, init=init, seed=3,
                   residual=residual)
    assert len(got) == depth
    assert got == pytest.approx(by_hand(model, X16, Y16), rel=1e-9, abs=0)


def test_the_page_carries_chaingrads_numbers_for_every_setting(tmp_path) -> None:
    path = tmp_path / "depth.html"
    page = explore_depth(path, max_depth=5, width=3, points=6, seed=1)
    assert isinstance(page, Page) and path.read_text(encoding="utf-8") == page
    data = page_data(page)
    assert data["maxDepth"] == 5 and sorted(data["values"]) == sorted(KEYS)
    X, y = nn.datasets.moons(6, noise=0.1, seed=0)
    for activation in ACTIVATIONS:
        for choice, init in (("naive", "uniform"), ("matched", MATCHED_INIT[activation])):
            for residual in (False, True):
                for depth in range(1, 6):
                    want = gradient_by_layer(depth, activation, residual, init, 3, 1, X, y)
                    assert curve(data, activation, choice, residual, depth) == want
                    key = f"{activation}/{choice}/{'residual' if residual else 'plain'}"
                    assert data["shown"][key][depth - 1] == [display_number(v, 3) for v in want]
    chart = data["chart"]                     # one log range holds every number on the page
    every = [v for curves in data["values"].values() for c in curves for v in c if v > 0]
    assert 10 ** chart["low"] <= min(every) and max(every) <= 10 ** chart["high"]
    assert chart["high"] - chart["low"] < 2 + math.log10(max(every) / min(every))
    assert all(label == "10" + "".join("⁰¹²³⁴⁵⁶⁷⁸⁹⁻"["0123456789-".index(c)] for c in str(k))
               for k, label in chart["yTicks"])
    assert chart["xTicks"] == [1, 2, 3, 4, 5]


def test_the_page_is_one_offline_file_and_shows_inline_in_jupyter() -> None:
    page = explore_depth(max_depth=2, width=2, points=4)
    svg_namespace = "http://www.w3.org/2000/svg"                 # a name, never fetched
    assert page.count(svg_namespace) == 1
    lowered = page.lower().replace(svg_namespace, "")
    for reference in ("http://", "https://", "<script src", "<link", "@import", "url(", "<img"):
        assert reference not in lowered, reference
    assert page.count("<svg") == 1 and "<path" not in page        # the script draws the chart
    inline = page._repr_html_()
    assert inline.startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;')
    assert html.unescape(re.search(r'srcdoc="(.*?)"', inline, re.S).group(1)) == page
    assert 'sandbox="allow-scripts"' in inline


def test_a_title_that_looks_like_a_placeholder_stays_text() -> None:
    page = explore_depth(max_depth=1, width=1, points=2, title="__DATA__ <b>")
    assert "<title>__DATA__ &lt;b&gt;</title>" in page and page.count("const DATA = ") == 1


def test_bad_arguments_say_which() -> None:
    for kwargs, error, message in [
            ({"max_depth": 0}, ValueError, "explore_depth: max_depth must be an int ≥ 1, got 0"),
            ({"max_depth": 2.5}, TypeError, "explore_depth: max_depth must be an int ≥ 1"),
            ({"width": True}, TypeError, "explore_depth: width must be an int ≥ 1"),
            ({"points": 1}, ValueError, "explore_depth: points must be an int ≥ 2"),
            ({"seed": "0"}, TypeError, "explore_depth: seed must be an int"),
            ({"title": 3}, TypeError, "explore_depth: title must be a str or None")]:
        with pytest.raises(error, match=re.escape(message)):
            explore_depth(**kwargs)
    with pytest.raises(TypeError, match="explore_depth: path must be a str, a path or None"):
        explore_depth(3)


def test_the_callers_garbage_collector_is_left_alone(monkeypatch) -> None:
    """A library does not switch the user's cycle collector off and on (a script may,
    around the call: bench/depth.py times both)."""
    switched = []
    monkeypatch.setattr(gc, "disable", lambda: switched.append("disable"))
    monkeypatch.setattr(gc, "enable", lambda: switched.append("enable"))
    page = explore_depth(max_depth=3, width=2, points=4)
    assert switched == [] and gc.isenabled()
    assert len(page_data(page)["values"]["relu/matched/plain"]) == 3


def test_vanishing_example_writes_the_page(tmp_path) -> None:
    path = tmp_path / "depth.html"
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "vanishing.py"), "--every",
                             "30", "--seeds", "1", "--width", "2", "--html", str(path)],
                            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith(f"wrote {path}")
    data = page_data(path.read_text(encoding="utf-8"))
    assert data["maxDepth"] == 30
    assert curve(data, "tanh", "matched", True, 7) == gradient_by_layer(7, "tanh", True, "xavier",
                                                                        2, 0, X16, Y16)


# ---- the lessons' claims, at the page's defaults --------------------------------------
@pytest.fixture(scope="module")
def default_page() -> Page:
    """The page at its defaults (depths 1 … 30, width 8, 16 points): about 20 s to make."""
    return explore_depth()


def test_sigmoid_with_naive_init_collapses_by_orders_of_magnitude(default_page) -> None:
    """LESSONS.md result 5: from 10 to 20 to 30 layers the first layer's gradient falls by
    orders of magnitude; the lessons quote about 10⁻⁹ at L = 20. With these 16 points,
    width 8 and seed 0 chaingrad finds 3×10⁻⁶, 5.5×10⁻¹¹, 5×10⁻¹⁵: four orders per ten
    layers, and at L = 20 within two orders of the lessons' 10⁻⁹ (below it)."""
    data = page_data(default_page)
    first = {L: curve(data, "sigmoid", "naive", False, L)[0] for L in (10, 20, 30)}
    assert first[10] / first[20] > 1e3 and first[20] / first[30] > 1e3
    assert 1e-11 < first[20] < 1e-7
    for L, value in first.items():                         # the numbers are chaingrad's own
        assert value == gradient_by_layer(L, "sigmoid", False, "uniform", 8, 0, X16, Y16)[0]


def test_a_residual_path_keeps_the_gradient_alive(default_page) -> None:
    """With residual connections no first layer starves at any depth (10⁻² or more, in
    every setting, from 1 to 30 layers): sigmoid's curve, 12 to 15 orders of magnitude
    tall without them at L = 30, is within 5 with them; tanh's curves are flat either
    way (within an order or two), and ReLU's explode instead (what clipping by global
    norm is for)."""
    data = page_data(default_page)
    span = lambda c: math.log10(max(c) / min(c))                          # noqa: E731
    for activation in ACTIVATIONS:
        for choice in ("naive", "matched"):
            plain = curve(data, activation, choice, False, 30)
            residual = curve(data, activation, choice, True, 30)
            key = f"{activation}/{choice}/residual"
            assert all(c[0] > 1e-2 for c in data["values"][key]), key     # at every depth
            if activation == "sigmoid":
                assert span(plain) > 12 and span(residual) < 5
            if activation == "tanh":
                assert span(plain) < 1.5 and span(residual) < 2.5
            if activation == "relu":
                assert residual[0] > 1e3 and residual[0] > 1e3 * plain[0]


# ---- in the browser ---------------------------------------------------------------------
def _read(driver) -> dict:
    """What the page shows now."""
    text = lambda i: driver.find_element("id", i).text                    # noqa: E731
    dots = driver.find_elements("css selector", "#curve circle.dot")
    return {"depth": text("depth-value"), "first": text("first"), "compare": text("compare"),
            "legend": text("legend"), "flow": driver.execute_script(
                "return window.chaingrad.flow()"),
            "settings": driver.execute_script("return window.chaingrad.settings()"),
            "dots": [(float(d.get_attribute("cy")),
                      d.find_element("tag name", "title").get_attribute("textContent"))
                     for d in dots]}


def compare(values: list[float]) -> str:
    """The line under layer 1's number: how it compares with the output layer's."""
    depth = len(values)
    n = round(math.log10(values[-1] / values[0]))
    orders = f"{abs(n)} order{'s' if abs(n) != 1 else ''} of magnitude"
    much = (f"About {orders} less than" if n >= 1 else f"About {orders} more than" if n <= -1
            else "About as much as")
    return f"{much} the output layer (l = {depth}), which gets {display_number(values[-1], 3)}."


def _choose(driver, name: str, value: str) -> None:
    """Click the label of a radio button, as a person does."""
    driver.find_element("css selector", f"input[name={name}][value={value}]").find_element(
        "xpath", "..").click()


def _check_drawn(shown: dict, values: list[float]) -> None:
    """The dots are the numbers, on a log scale: one per layer, each titled with its
    number, and cy linear in log₁₀ of the value."""
    assert [title for _, title in shown["dots"]] == [
        f"layer {n}: {display_number(v, 3)}" for n, v in enumerate(values, 1)]
    logs = [math.log10(v) for v in values]
    ys = [cy for cy, _ in shown["dots"]]
    if max(logs) - min(logs) > 1:
        top, bottom = logs.index(max(logs)), logs.index(min(logs))
        scale = (ys[bottom] - ys[top]) / (logs[top] - logs[bottom])        # px per decade
        assert scale > 0
        for log, cy in zip(logs, ys):
            assert cy == pytest.approx(ys[top] + (logs[top] - log) * scale, abs=0.6)


def test_the_page_plays_in_chromium_with_the_engines_numbers(browser, default_page) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver = browser.open(default_page, "depth")
    data = page_data(default_page)
    shown = _read(driver)
    assert shown["settings"] == {"depth": 10, "activation": "sigmoid", "init": "uniform",
                                 "residual": False}
    assert shown["flow"] == curve(data, "sigmoid", "naive", False, 10)
    assert shown["flow"] == gradient_by_layer(10, "sigmoid", False, "uniform", 8, 0, X16, Y16)
    assert shown["depth"] == "L = 10" and shown["first"] == "3×10⁻⁶"
    assert shown["compare"] == compare(shown["flow"]) == (
        "About 4 orders of magnitude less than the output layer (l = 10), which gets 0.0199.")
    assert shown["legend"] == "sigmoid σ, naive U(−1, 1), L = 10"
    _check_drawn(shown, shown["flow"])
    axis = [t.text for t in driver.find_elements("css selector", "#axes text")]
    assert "mean |∂L/∂W⁽ˡ⁾ⱼₖ| (log scale)" in " ".join(" ".join(axis).split())
    assert "10⁰" in axis and "10⁻²⁰" in axis and "layer l (1 = first hidden layer, L = output " \
        "layer)" in " ".join(" ".join(axis).split())
    browser.screenshot("depth-0-start")

    slider = driver.find_element("id", "depth")          # drag the slider to its right end
    ActionChains(driver).click_and_hold(slider).move_by_offset(slider.size["width"], 0) \
        .release().perform()
    shown = _read(driver)
    assert shown["depth"] == "L = 30" and len(shown["dots"]) == 30
    assert shown["flow"] == curve(data, "sigmoid", "naive", False, 30)
    assert shown["first"] == display_number(shown["flow"][0], 3) == "5×10⁻¹⁵"
    _check_drawn(shown, shown["flow"])
    browser.screenshot("depth-1-sigmoid-30")
    ActionChains(driver).click_and_hold(slider).move_by_offset(-slider.size["width"], 0) \
        .release().perform()
    assert _read(driver)["depth"] == "L = 1"
    assert _read(driver)["compare"] == "A single layer: layer 1 is the output layer."

    firsts, depth = {}, 1                                # the keys: 10, 20, 30 layers
    slider.send_keys(Keys.HOME)
    for L in (10, 20, 30):
        slider.send_keys(*[Keys.ARROW_RIGHT] * (L - depth))
        depth = L
        shown = _read(driver)
        assert shown["depth"] == f"L = {L}"
        firsts[L] = shown["flow"][0]
        assert shown["first"] == display_number(firsts[L], 3)
    assert firsts[10] / firsts[20] > 1e3 and firsts[20] / firsts[30] > 1e3

    driver.find_element("id", "residual").find_element("xpath", "..").click()   # tick it
    shown = _read(driver)
    assert shown["settings"]["residual"] is True
    assert shown["flow"] == curve(data, "sigmoid", "naive", True, 30)
    assert shown["legend"].split() == ("sigmoid σ, naive U(−1, 1), residual, L = 30 "
                                       "the same nets without residual").split()
    plain = driver.find_element("css selector", "#plain-curve path").get_attribute("d")
    assert plain.count("L") == 29 and "NaN" not in plain
    assert shown["first"] == display_number(shown["flow"][0], 3) == "0.0207"
    _check_drawn(shown, shown["flow"])
    browser.screenshot("depth-2-sigmoid-residual")

    for activation, init, label in (("tanh", "xavier", "tanh"), ("relu", "he", "ReLU")):
        _choose(driver, "activation", activation)
        _choose(driver, "init", "matched")
        shown = _read(driver)
        assert shown["settings"] == {"depth": 30, "activation": activation, "init": init,
                                     "residual": True}
        assert shown["flow"] == gradient_by_layer(30, activation, True, init, 8, 0, X16, Y16)
        matched = driver.find_element("id", "matched-name").text
        assert matched.startswith("matched: " + {"xavier": "Xavier", "he": "He"}[init])
        assert shown["legend"].startswith(f"{label}, {matched.removeprefix('matched: ')}")
        _check_drawn(shown, shown["flow"])
    assert shown["first"] == display_number(shown["flow"][0], 3)
    assert shown["compare"] == compare(shown["flow"])
    browser.screenshot("depth-3-relu-he-residual")
    driver.find_element("id", "residual").click()                   # untick: He alone
    shown = _read(driver)
    assert shown["flow"] == curve(data, "relu", "matched", False, 30)
    assert driver.find_elements("css selector", "#plain-curve") == []
    assert browser.requests() == [] and browser.errors() == []


def test_a_layer_with_no_gradient_is_a_hollow_dot_on_the_axis(browser) -> None:
    """A layer whose every ReLU is dead has gradient exactly 0: no place on a log scale,
    so its dot sits hollow on the axis and the curve breaks there (never a NaN)."""
    driver = browser.open(explore_depth(max_depth=6, width=3, points=4), "depth-zero")
    driver.execute_script("DATA.values['sigmoid/naive/plain'][5][2] = 0;"
                          "DATA.shown['sigmoid/naive/plain'][5][2] = '0';")
    from selenium.webdriver.common.keys import Keys
    driver.find_element("id", "depth").send_keys(Keys.HOME, Keys.END)     # redraw L = 6
    path = driver.find_element("css selector", "#curve path").get_attribute("d")
    assert path.count("M") == 2 and "NaN" not in path
    zero = driver.find_element("css selector", "#curve circle.zero")
    assert zero.get_attribute("data-layer") == "3"
    axis = driver.find_elements("css selector", "#axes line.axis")[-1]
    assert float(zero.get_attribute("cy")) == float(axis.get_attribute("y1"))
    assert browser.errors() == []


def test_the_page_runs_inside_jupyters_iframe_and_fits_a_projector(browser) -> None:
    page = explore_depth(max_depth=12)
    driver = browser.open(f"<!DOCTYPE html><html><body>{page._repr_html_()}</body></html>",
                          "depth-notebook-cell")
    driver.switch_to.frame(driver.find_element("tag name", "iframe"))
    try:
        assert driver.execute_script("return window.chaingrad.settings().depth") == 10
        driver.find_element("id", "depth").click()
        _choose(driver, "activation", "tanh")
        assert driver.execute_script("return window.chaingrad.settings().activation") == "tanh"
    finally:
        driver.switch_to.default_content()
    assert browser.requests() == [] and browser.errors() == []
    size = driver.get_window_size()
    driver.set_window_size(1280, 720)                  # a projector: the chart fits below
    try:                                               # the controls, its text 17 px
        driver = browser.open(page, "depth-projector")
        chart = driver.find_element("id", "chart")
        bottom = chart.rect["y"] + chart.rect["height"]
        assert bottom <= driver.execute_script("return window.innerHeight")
        assert chart.rect["height"] >= 320
        tick = driver.find_element("css selector", "#axes text.ytick")
        assert tick.value_of_css_property("font-size") == "17px"
        browser.screenshot("depth-projector-1280x720")
    finally:
        driver.set_window_size(size["width"], size["height"])
