"""The matplotlib plots of docs/gallery.md, drawn with the diagrams by
``python docs/gallery/make_gallery.py`` (``make gallery``).

Each function below is one picture, held to the diagrams' rule: its body, with the
imports it needs, is the code shown beside the picture, and it ends in
``.savefig("name.png", dpi=110)``, run in this folder, so the PNG lands next to this
file exactly as a reader's copy of the code writes it. ``dpi=110`` is written out
because matplotlib's own default is 100: it is the 110 dpi of the diagrams'
``.write``. The lesson on depth is drawn by ``examples/vanishing.py --png``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))                  # run from a checkout without installing

from matplotlib.figure import Figure  # noqa: E402

from nn import MLP, SGD, Adam, bce_with_logits, datasets, fit, mse, softmax_cross_entropy  # noqa: E402,E501
from viz import layer_gradients, plot_decision_boundary, plot_gradient_flow, plot_history  # noqa: E402,E501


def moons_training():
    """Two moons: the boundary a 2-16-16-1 MLP drew, and its loss falling (`make demo`)"""
    X, y = datasets.moons(100, noise=0.1, seed=0)
    model = MLP(2, [16, 16, 1], seed=0)                 # ReLU hidden, one logit out
    history = fit(model, X, y, bce_with_logits, Adam(model.parameters(), lr=0.05),
                  epochs=100, progress=False, compile=True)
    print(f"loss {history.loss[0]:.4f} → {history.loss[-1]:.4f}")   # → loss 1.0660 → 0.0101
    figure = Figure(figsize=(12, 4.6), layout="constrained")
    left, right = figure.subplots(1, 2)
    plot_decision_boundary(model, X, y, ax=left)    # ŷ over the plane; the boundary ŷ = 0 in black
    plot_history(history, ax=right)                 # loss per epoch (log scale) and accuracy
    figure.savefig("moons_training.png", dpi=110)


def optimizers():
    """Three optimizers on the same net and data: one history each, on one axes"""
    X, y = datasets.moons(100, noise=0.1, seed=0)
    runs = {}
    for name, make in [("SGD lr 0.1", lambda p: SGD(p, lr=0.1)),
                       ("SGD lr 0.1, momentum 0.9", lambda p: SGD(p, lr=0.1, momentum=0.9)),
                       ("Adam lr 0.05", lambda p: Adam(p, lr=0.05))]:
        model = MLP(2, [16, 16, 1], seed=0)
        runs[name] = fit(model, X, y, bce_with_logits, make(model.parameters()),
                         epochs=100, progress=False, compile=True)
    plot_history(runs).savefig("optimizers.png", dpi=110)


def xor():
    """The lessons' XOR exercise: a sigmoid output is a probability, 0.5 the boundary"""
    X, y = datasets.xor()
    model = MLP(2, [2, 1], activation="relu", output_activation="sigmoid", seed=4)
    fit(model, X, y, mse, SGD(model.parameters(), lr=0.5), epochs=5000, progress=False)
    plot_decision_boundary(model, X, y).savefig("xor.png", dpi=110)


def spiral():
    """Three classes: the arg-max of three outputs over the plane"""
    X, y = datasets.spiral(150, classes=3, seed=0)
    model = MLP(2, [32, 32, 3], seed=0)
    fit(model, X, y, softmax_cross_entropy, Adam(model.parameters(), lr=0.02),
        epochs=300, progress=False, compile=True)
    plot_decision_boundary(model, X, y).savefig("spiral.png", dpi=110)


def gradient_flow():
    """How much gradient reaches each layer of three 12-layer nets, after one backward pass"""
    X, y = datasets.moons(16, noise=0.1, seed=0)
    models = [MLP(2, [8] * 11 + [1], activation=activation, init=init, seed=0)
              for activation, init in [("sigmoid", "xavier"), ("tanh", "xavier"),
                                       ("relu", "he")]]
    for model in models:
        bce_with_logits([model(x) for x in X], y).backward()
    print(f"{layer_gradients(models[0])[0]:.1e}")        # sigmoid, layer 1 → 1.6e-08
    plot_gradient_flow(models).savefig("gradient_flow.png", dpi=110)


PICTURES = {"moons_training": moons_training, "optimizers": optimizers, "xor": xor,
            "spiral": spiral, "gradient_flow": gradient_flow}

INTRO = """# Plots: training, decision boundaries, gradient flow

Made with matplotlib (`pip install 'chaingrad[plot]'`; `make` installs it) by
`docs/gallery/make_plot_gallery.py`; as with the diagrams, the code beside each
picture is exactly what that script ran, and pasted into a fresh Python it writes
the same PNG. Each plot function returns a matplotlib `Figure`: in a notebook it
shows inline as a cell's value, and `.savefig("name.png", dpi=110)` writes it (no
display needed; 110 dpi as the diagrams' `.write`, where matplotlib's default is
100). Pass `ax=` to draw into a figure of your own, as the first picture does.
"""

VANISHING = """## The lesson on depth: vanishing and exploding gradients

![vanishing](gallery/vanishing.png)

```sh
python examples/vanishing.py --png vanishing.png
```

Left, `plot_gradient_flow` of 30-layer nets (mean |∂L/∂W⁽ˡ⁾ⱼₖ| of each layer,
averaged over three seeds); right, the first layer's gradient as the net gets
deeper — the numbers of the table the script prints. Sigmoid's σ′ ≤ ¼ starves the
first layers (10⁻²⁰ at depth 30); a residual path keeps the gradient alive, and
with ReLU makes it explode instead.
"""


def vanishing() -> None:
    """docs/gallery/vanishing.png, as the page's command draws it."""
    path = HERE / "vanishing.png"
    subprocess.run([sys.executable, str(ROOT / "examples" / "vanishing.py"), "--png",
                    str(path)], check=True, stdout=subprocess.DEVNULL)
