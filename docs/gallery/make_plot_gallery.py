"""Make the matplotlib plots of docs/gallery.md: ``python docs/gallery/make_plot_gallery.py``.

Each function below is one picture; its body is the code shown beside it in the
gallery (``make_gallery.py`` puts ``plot_section()`` at the end of the page, so
page and pictures cannot drift apart). The lesson on depth is drawn by
``examples/vanishing.py --png``. The PNGs are written next to this file.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))                  # run from a checkout without installing

from matplotlib.figure import Figure  # noqa: E402

from nn import MLP, SGD, Adam, bce_with_logits, datasets, fit, mse, softmax_cross_entropy  # noqa: E402,E501
from viz import plot_decision_boundary, plot_gradient_flow, plot_history  # noqa: E402

DPI = 110                                      # crisp on slides and retina screens


def moons_training():
    """Two moons: the boundary a 2-16-16-1 MLP drew, and its loss falling (`make demo`)"""
    X, y = datasets.moons(100, noise=0.1, seed=0)
    model = MLP(2, [16, 16, 1], seed=0)                 # ReLU hidden, one logit out
    history = fit(model, X, y, bce_with_logits, Adam(model.parameters(), lr=0.05),
                  epochs=100, progress=False, compile=True)
    figure = Figure(figsize=(12, 4.6), layout="constrained")
    left, right = figure.subplots(1, 2)
    plot_decision_boundary(model, X, y, ax=left)
    plot_history(history, ax=right)
    return figure


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
    return plot_history(runs)


def xor():
    """The lessons' XOR exercise: a sigmoid output is a probability, 0.5 the boundary"""
    X, y = datasets.xor()
    model = MLP(2, [2, 1], activation="relu", output_activation="sigmoid", seed=4)
    fit(model, X, y, mse, SGD(model.parameters(), lr=0.5), epochs=5000, progress=False)
    return plot_decision_boundary(model, X, y)


def spiral():
    """Three classes: the arg-max of three outputs over the plane"""
    X, y = datasets.spiral(150, classes=3, seed=0)
    model = MLP(2, [32, 32, 3], seed=0)
    fit(model, X, y, softmax_cross_entropy, Adam(model.parameters(), lr=0.02),
        epochs=300, progress=False, compile=True)
    return plot_decision_boundary(model, X, y)


def gradient_flow():
    """How much gradient reaches each layer of three 12-layer nets, after one backward pass"""
    X, y = datasets.moons(16, noise=0.1, seed=0)
    models = [MLP(2, [8] * 11 + [1], activation=activation, init=init, seed=0)
              for activation, init in [("sigmoid", "xavier"), ("tanh", "xavier"),
                                       ("relu", "he")]]
    for model in models:
        bce_with_logits([model(x) for x in X], y).backward()
    return plot_gradient_flow(models)


PICTURES = {"moons_training": moons_training, "optimizers": optimizers, "xor": xor,
            "spiral": spiral, "gradient_flow": gradient_flow}
#: Where each name the pictures use comes from, for the import lines shown with them.
MODULES = {"matplotlib.figure": ["Figure"],
           "nn": ["MLP", "SGD", "Adam", "bce_with_logits", "datasets", "fit", "mse",
                  "softmax_cross_entropy"],
           "viz": ["plot_decision_boundary", "plot_gradient_flow", "plot_history"]}

INTRO = """# Plots: training, decision boundaries, gradient flow

Made with matplotlib (`pip install 'chaingrad[plot]'`; `make` installs it) by
`docs/gallery/make_plot_gallery.py`; the code beside each picture is that script's
own. Each function returns a matplotlib `Figure`: in a notebook the last line shows
it inline, and `.savefig("name.png")` saves it (no display needed). Pass `ax=` to
draw into a figure of your own, as the first picture does.
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


def body(function) -> str:
    """A picture's code as a notebook cell: its body, the final ``return`` dropped."""
    lines = inspect.getsource(function).splitlines()[1:]
    code = textwrap.dedent("\n".join(lines))
    code = code.split('"""', 2)[2].lstrip("\n")            # drop the docstring
    code = code.replace("    return figure\n", "").replace("return figure", "figure")
    return code.replace("return plot_", "plot_")


def imports(code: str) -> str:
    """The import lines for the names ``code`` uses."""
    lines = []
    for module, names in MODULES.items():
        used = [n for n in names if re.search(rf"\b{n}\b", code)]
        if used:
            lines.append(f"from {module} import {', '.join(used)}\n")
    return "".join(lines)


def plot_section() -> str:
    """The Markdown for the plots: per picture, its title, the PNG and its code."""
    parts = [INTRO]
    for name, make in PICTURES.items():
        title = inspect.getdoc(make).rstrip(".")
        code = body(make).rstrip()
        parts.append(f"## {title}\n\n![{name}](gallery/{name}.png)\n\n"
                     f"```python\n{imports(code)}\n{code}\n```\n")
    parts.append(VANISHING)
    return "\n".join(parts)


def main() -> None:
    for name, make in PICTURES.items():
        path = HERE / f"{name}.png"
        make().savefig(path, dpi=DPI)
        print(f"wrote {path.relative_to(ROOT)}")
    path = HERE / "vanishing.png"
    subprocess.run([sys.executable, str(ROOT / "examples" / "vanishing.py"), "--png",
                    str(path)], check=True, stdout=subprocess.DEVNULL)
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
