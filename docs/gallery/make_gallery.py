"""Make the pictures of docs/gallery.md and the page itself:
``python docs/gallery/make_gallery.py`` (``make gallery``).

Each function below is one diagram, and each function of ``make_plot_gallery.py``
one plot; its body, with the imports it needs, is the code shown beside the picture
in the gallery (written from the functions' own source, so the page and the pictures
cannot drift apart). Each body ends in ``.write("name.png")`` or
``.savefig("name.png", dpi=110)`` and runs in this folder, so the PNGs land next to
this file, exactly as a reader's copy of the code writes them.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import os
import re
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))        # run from a checkout without installing
sys.path.insert(0, str(HERE))                   # make_plot_gallery, beside this file

import make_plot_gallery  # noqa: E402

from engine import Constant, Value  # noqa: E402
from nn import MLP  # noqa: E402
from viz import draw_dot, explain, explore  # noqa: E402


def neuron():
    """One tanh neuron (micrograd's example), after backward: roles, data, grads."""
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2, b = Value(-3.0, "w1"), Value(1.0, "w2"), Value(6.8813735870195432, "b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    draw_dot(o, parameters=[w1, w2, b]).write("neuron.png")


def local_derivatives():
    """∂out/∂input on every edge, and which operand is which for − ÷ ^."""
    a, b, c = Value(3.0, "a"), Value(1.0, "b"), Value(2.0, "c")
    f = (a - b) / c ** 2
    f.label = "f"
    f.backward()
    draw_dot(f, show_local=True).write("local_derivatives.png")


def dead_relu():
    """A dead ReLU: zero gradients are dashed; tiny ones keep their digits."""
    x, w = Value(1.5, "x"), Value(-2.0, "w")
    h = (x * w).relu()                 # ReLU(−3) = 0: no gradient flows back
    y = h + 3e-6 * x                   # a tiny side path: 3×10⁻⁶, never 0.0000
    y.label = "y"
    y.backward()
    draw_dot(y, parameters=[w]).write("dead_relu.png")


def network_by_neuron():
    """The lessons' 2-2-2-1 network, each neuron's Σ w·a + b, z and a in one box."""
    model = MLP.from_weights([[[0.5, -0.4], [0.3, 0.8]], [[0.2, -0.6], [0.7, 0.1]],
                              [[0.9, -0.5]]],
                             [[0.1, -0.2], [0.05, 0.0], [0.2]],
                             activation="sigmoid", output_activation="sigmoid")
    y_hat = model([1.0, 2.0])
    loss = (y_hat - Value(1.0, "y")) ** 2
    loss.label = "L"
    loss.backward()
    draw_dot(loss, collapse="neuron").write("network_by_neuron.png")


def explain_paths():
    """The two paths of δ₁⁽¹⁾ = ∂L/∂z₁⁽¹⁾ (worked result 3), highlighted."""
    model = MLP.from_weights([[[0.5, -0.4], [0.3, 0.8]], [[0.2, -0.6], [0.7, 0.1]],
                              [[0.9, -0.5]]],
                             [[0.1, -0.2], [0.05, 0.0], [0.2]],
                             activation="sigmoid", output_activation="sigmoid")
    loss = (model([1.0, 2.0]) - Value(1.0, "y")) ** 2
    loss.label = "L"
    loss.backward()
    z11 = model.layers[0].neurons[0].z           # z₁⁽¹⁾
    why = explain(loss, z11)
    print(why)
    draw_dot(loss, collapse="neuron", highlight=why).write("explain_paths.png")


def network_full():
    """The same network's whole graph, compact for a slide: neurons top to bottom in index order."""
    model = MLP.from_weights([[[0.5, -0.4], [0.3, 0.8]], [[0.2, -0.6], [0.7, 0.1]],
                              [[0.9, -0.5]]],
                             [[0.1, -0.2], [0.05, 0.0], [0.2]],
                             activation="sigmoid", output_activation="sigmoid")
    loss = (model([1.0, 2.0]) - Value(1.0, "y")) ** 2
    loss.label = "L"
    loss.backward()
    draw_dot(loss, compact=True).write("network_full.png")


def explore_neuron():
    """A live page: click the weight, move x, press step ([open](gallery/explore_neuron.html))."""
    x, w, b = Value(0.5, "x"), Value(-1.2, "w"), Value(0.3, "b")
    y_hat = (x * w + b).sigmoid()
    y_hat.label = "ŷ"
    loss = (y_hat - Constant(1.0, "y")) ** 2       # the target y: a named constant
    loss.label = "L"
    explore(loss, parameters=[w, b]).write("explore_neuron.html")


PICTURES = {"neuron": neuron, "local_derivatives": local_derivatives, "dead_relu": dead_relu,
            "network_by_neuron": network_by_neuron, "network_full": network_full,
            "explain_paths": explain_paths, "explore_neuron": explore_neuron}


INTRO = """# Gallery: computation graphs with `draw_dot`

Every picture below was made by `docs/gallery/make_gallery.py`; the code beside it is
exactly what that script ran: pasted into a fresh Python, it writes the same PNG
(`.write("name.png")` writes the one file its suffix names, at 110 dpi; in a notebook
the diagram also shows inline). Names follow the lessons' notation:
`x₁`, `w₂₃⁽¹⁾`, `z₁⁽²⁾`, `a₁⁽²⁾`, `δ`.

How to read a diagram: the fill says what a node is (legend below each picture:
input, parameter, constant, intermediate, output); the border says what the
gradient ∂output/∂node is — blue positive, red negative, thicker for larger |grad|,
dashed grey for exactly 0. Circles are ops. Edges into − ÷ ^ say which operand is
`a` and which is `b` (as in the op table).
"""

#: Every picture of the page, diagrams then plots, by the name of its PNG.
ALL = PICTURES | make_plot_gallery.PICTURES

#: What a picture's code may import, by the module that exports it.
IMPORTS = {"matplotlib.figure": ["Figure"],
           "engine": ["Constant", "Value"],
           "nn": ["MLP", "SGD", "Adam", "bce_with_logits", "datasets", "fit", "mse",
                  "softmax_cross_entropy"],
           "viz": ["draw_dot", "explain", "explore", "layer_gradients", "plot_decision_boundary",
                   "plot_gradient_flow", "plot_history"]}


def body(function) -> str:
    """A picture's code as it runs: its body, the docstring dropped."""
    lines = inspect.getsource(function).splitlines()[1:]
    code = textwrap.dedent("\n".join(lines))
    return code.split('"""', 2)[2].lstrip("\n")


def cell(function) -> str:
    """A picture's code with the imports it uses: it runs on its own."""
    code = body(function)
    imports = []
    for module, names in IMPORTS.items():
        used = [n for n in names if re.search(rf"\b{n}\b", code)]
        if used:
            imports.append(f"from {module} import {', '.join(used)}")
    return "\n".join(imports) + "\n\n" + code


def section(name: str, printed: dict[str, str]) -> str:
    """One picture's part of the page: its title, the PNG, its code and what it printed."""
    make = ALL[name]
    title = inspect.getdoc(make).rstrip(".")
    text = (f"## {title}\n\n![{name}](gallery/{name}.png)\n\n"
            f"```python\n{cell(make).rstrip()}\n```\n")
    if printed.get(name):
        text += f"\nprints\n\n```text\n{printed[name].rstrip()}\n```\n"
    return text


def gallery_page(printed: dict[str, str]) -> str:
    """The Markdown page: the diagrams, then the plots, each picture with its code."""
    return "\n".join([INTRO, *(section(name, printed) for name in PICTURES),
                      make_plot_gallery.INTRO,
                      *(section(name, printed) for name in make_plot_gallery.PICTURES),
                      make_plot_gallery.VANISHING])


def main() -> None:
    printed = {}
    here = os.getcwd()
    os.chdir(HERE)                       # each picture's write() or savefig() writes here
    try:
        for name, make in ALL.items():
            output = io.StringIO()
            with contextlib.redirect_stdout(output):
                make()
            printed[name] = output.getvalue()
            written = re.search(r'(?:write|savefig)[(]"(.+?)"', body(make)).group(1)
            print(f"wrote docs/gallery/{written}")
    finally:
        os.chdir(here)
    make_plot_gallery.vanishing()
    print("wrote docs/gallery/vanishing.png")
    page = HERE.parent / "gallery.md"
    page.write_text(gallery_page(printed), encoding="utf-8")
    print(f"wrote {page.relative_to(HERE.parents[1])}")


if __name__ == "__main__":
    main()
