"""Make the draw_network pictures in docs/gallery/, the animation docs/animation.html,
the stepper docs/stepper.html, the depth page docs/depth.html and their screenshots,
and the screenshot of the live page make_gallery.py writes (when Chromium and
selenium are installed, as for the page tests).

    .venv/bin/python docs/gallery/make_network_gallery.py

Each function's body is the code docs/viz.md shows beside its picture (a test holds
them equal); it runs in the folder its file belongs in, so ``write("network_341.png")``
writes docs/gallery/network_341.png exactly as a reader's copy writes it.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from engine import Value  # noqa: E402
from nn import MLP, SGD, datasets, fit, mse  # noqa: E402
from viz import animate_backward, animate_network, draw_network, explore_depth  # noqa: E402


def lessons_2221() -> None:
    """The lessons' 2-2-2-1 network (worked result 3), one example, after backward."""
    model = MLP.from_weights(
        weights=[[[0.5, -0.4], [0.3, 0.8]],          # W⁽¹⁾: weights[0][j][k] = W⁽¹⁾ⱼₖ
                 [[0.2, -0.6], [0.7, 0.1]],          # W⁽²⁾
                 [[0.9, -0.5]]],                     # W⁽³⁾
        biases=[[0.1, -0.2], [0.05, 0.0], [0.2]],
        activation="sigmoid", output_activation="sigmoid")
    loss = mse(model([1.0, 2.0]), 1.0)               # L = (ŷ − y)², y = 1
    loss.backward()
    draw_network(model, weights="both", loss=loss).write("network_2221.png")


def xor_trained() -> None:
    """The lessons' XOR exercise, trained, drawn at x = (1, 0) with ∂L/∂w = δ·a
    under each weight."""
    X, y = datasets.xor()
    model = MLP(2, [2, 1], activation="relu", output_activation="sigmoid", seed=4)
    fit(model, X, y, mse, SGD(model.parameters(), lr=0.5), epochs=5000, progress=False)
    model.zero_grad()                                # fit left the last step's gradients
    mse(model([1.0, 0.0]), 1.0).backward()
    draw_network(model, show_weight_grads=True).write("network_xor.png")


def exercise_341() -> None:
    """The 3 → 4 → 1 ReLU/sigmoid exercise, one SGD example: 16 edges, so weights are
    shown by colour and width only (labels would hide the picture)."""
    model = MLP(3, [4, 1], activation="relu", output_activation="sigmoid", seed=7)
    loss = mse(model([0.5, -1.0, 2.0]), 1.0, half=True)   # ½(ŷ − y)²
    loss.backward()
    draw_network(model).write("network_341.png")


def animation() -> None:
    """One tanh neuron: 6 nodes, so 6 forward + 6 backward frames."""
    x, w, b = Value(0.5, label="x"), Value(-1.2, label="w"), Value(0.3, label="b")
    y = (x * w + b).tanh()
    animate_backward(y, "animation.html")


def stepper() -> None:
    """The lessons' layer-by-layer widget on a 3-4-3-1 sigmoid network, ½(ŷ − y)²."""
    model = MLP(3, [4, 3, 1], activation="sigmoid", output_activation="sigmoid",
                init="torch", seed=1)
    animate_network(model, [0.5, -1.0, 2.0], 0.8, "stepper.html",
                    loss=functools.partial(mse, half=True))     # ½(ŷ − y)²


def depth() -> None:
    """The lesson on depth as a page: 12 settings × 30 depths of fresh MLPs."""
    explore_depth("depth.html")


#: Each picture's maker and the folder it writes in.
PICTURES = {lessons_2221: HERE, xor_trained: HERE, exercise_341: HERE, animation: HERE.parent,
            stepper: HERE.parent, depth: HERE.parent}


def screenshots(page: str) -> str:
    """docs/gallery/stepper_delta.png and stepper_gradients.png: the stepper at the δ of
    layer 1 and at the gradients of layer 2, in headless Chromium (tests/browser.py), as
    a 1920 × 1080 screen or projector shows it: the figure, the controls and the whole
    step (it is an error if the step does not fit), down to the step's end."""
    sys.path.insert(0, str(HERE.parents[1] / "tests"))
    from browser import Browser, missing
    if missing():
        return f"no screenshots: {missing()}"
    browser = Browser()
    try:
        browser.viewport(1920, 1080)
        driver = browser.open(page, "stepper")
        slider = driver.find_element("id", "slider")
        for step, name in ((7, "stepper_delta"), (9, "stepper_gradients")):
            driver.execute_script("arguments[0].value = arguments[1]; arguments[0]"
                                  ".dispatchEvent(new Event('input'))", slider, step)
            bottom = driver.execute_script("return [document.getElementById('step')"
                                           ".getBoundingClientRect().bottom, innerHeight]")
            if bottom[0] > bottom[1]:
                raise RuntimeError(f"{name}: the step ends at {bottom[0]:.0f} px, below the "
                                   f"window's {bottom[1]} px")
            browser.capture(HERE / f"{name}.png", down_to=bottom[0] + 16)
    finally:
        browser.close()
    return "docs/gallery/stepper_delta.png, stepper_gradients.png"


def explore_screenshot() -> str:
    """docs/gallery/explore_neuron.png: the live page of make_gallery.py's neuron after a
    learner clicked the weight, set x to 1.5 and pressed step three times at rate 2."""
    sys.path.insert(0, str(HERE.parents[1] / "tests"))
    from browser import Browser, missing
    if missing():
        return f"no screenshot of the live page: {missing()}"
    browser = Browser()
    try:
        driver = browser.open((HERE / "explore_neuron.html").read_text(encoding="utf-8"),
                              "explore")
        driver.find_element("css selector", 'svg.graph g.node[aria-label="w"]').click()
        for key, value in (("x", "1.5"), ("lr", "2")):
            box = driver.find_element("css selector", f'input.number[data-key="{key}"]'
                                      if key == "x" else "#lr")
            box.clear()
            box.send_keys(value)
        for _ in range(3):
            driver.find_element("id", "step").click()
        driver.set_window_size(1280, 1000)                       # then just as tall as the page
        inner = driver.execute_script("return [document.body.getBoundingClientRect().bottom + 16, "
                                      "window.outerHeight - window.innerHeight]")
        driver.set_window_size(1280, int(sum(inner)))
        driver.save_screenshot(str(HERE / "explore_neuron.png"))
    finally:
        browser.close()
    return "docs/gallery/explore_neuron.png"


def depth_screenshot(page: str) -> str:
    """docs/gallery/depth_page.png: the depth page at L = 30, sigmoid with naive
    initialisation, residual ticked (so the plain nets show, dashed, beside)."""
    sys.path.insert(0, str(HERE.parents[1] / "tests"))
    from browser import Browser, missing
    if missing():
        return f"no screenshot: {missing()}"
    from selenium.webdriver.common.keys import Keys
    browser = Browser()
    try:
        driver = browser.open(page, "depth")
        driver.find_element("id", "depth").send_keys(Keys.END)
        driver.find_element("id", "residual").click()
        driver.save_screenshot(str(HERE / "depth_page.png"))
    finally:
        browser.close()
    return "docs/gallery/depth_page.png"


def main() -> None:
    here = os.getcwd()
    try:
        for make, folder in PICTURES.items():
            os.chdir(folder)
            make()
    finally:
        os.chdir(here)
    shots = screenshots((HERE.parent / "stepper.html").read_text(encoding="utf-8"))
    depth_shot = depth_screenshot((HERE.parent / "depth.html").read_text(encoding="utf-8"))
    print("wrote docs/gallery/network_2221.png, network_xor.png, network_341.png, "
          f"docs/animation.html, docs/stepper.html, docs/depth.html, {shots} and "
          f"{depth_shot}; {explore_screenshot()}")


if __name__ == "__main__":
    main()
