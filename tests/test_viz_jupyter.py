"""Every visual result shows inline in Jupyter, and docs/tour.ipynb runs.

First what each result hands IPython (its MIME bundle, through IPython's own display
formatter); then the tour notebook, executed by a real kernel (nbclient and
ipykernel), each cell's output checked — its MIME type and its content, against what
chaingrad computes here.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import nn
from engine import Value
from nn import MLP, mse
from viz import animate_backward, animate_network, draw_dot, draw_network, explain, explore_depth
from viz.depth import gradient_by_layer

ROOT = Path(__file__).resolve().parent.parent
TOUR = ROOT / "docs" / "tour.ipynb"
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="graphviz's `dot` is not installed (apt-get install graphviz)")


def display(obj: object) -> dict[str, object]:
    """What a notebook gets when ``obj`` is a cell's last expression."""
    formatter = pytest.importorskip("IPython.core.formatters")
    data, _ = formatter.DisplayFormatter().format(obj)
    return data


def neuron() -> tuple[Value, Value, Value, Value]:
    """The tour's tanh neuron y = tanh(x·w + b) after backward: y, x, w, b."""
    x, w, b = Value(0.5, "x"), Value(-1.2, "w"), Value(0.3, "b")
    y = (x * w + b).tanh()
    y.label = "y"
    y.backward()
    return y, x, w, b


def srcdoc(iframe: str) -> str:
    """The page inside a ``<iframe srcdoc="…">``."""
    assert iframe.startswith('<iframe srcdoc="') and iframe.endswith("</iframe>")
    assert 'sandbox="allow-scripts"' in iframe
    return html.unescape(re.search(r'srcdoc="(.*?)"', iframe, re.S).group(1))


def page_data(page: str) -> dict:
    return json.loads(re.search(r"const DATA = (.*?);\n", page).group(1))


# ---- each result's MIME bundle --------------------------------------------------------
@needs_dot
def test_diagrams_show_as_svg() -> None:
    y, *_ = neuron()
    model = MLP.from_weights([[[0.5, -0.4]]], [[0.1]], output_activation="sigmoid")
    loss = mse(model([1.0, 2.0]), 1.0)
    loss.backward()
    for diagram in (draw_dot(y), draw_network(model, loss=loss)):
        svg = display(diagram)["image/svg+xml"]
        root = ET.fromstring(svg.encode("utf-8"))
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = "".join(ET.fromstring(display(draw_dot(y))["image/svg+xml"].encode()).itertext())
    assert "grad 0.4576" in texts                     # ∂y/∂w = (1 − y²)·x, on the w box


def test_a_plain_repl_prints_one_short_line_for_each_result() -> None:
    """Outside Jupyter a result is its repr: what it shows, not the DOT or a default
    ``<… object at 0x…>``; in a notebook it is the text/plain beside the picture."""
    y, x, w, _ = neuron()
    model = MLP.from_weights([[[0.5, -0.4]]], [[0.1]], output_activation="sigmoid")
    model([1.0, 2.0]).backward()
    assert repr(draw_dot(y)) == "<draw_dot diagram of y: 6 values, 3 ops (.source is its DOT)>"
    assert repr(draw_network(model)) == (
        "<draw_network diagram of MLP(2, [1], activation='relu', output_activation='sigmoid') "
        "(.source is its DOT)>")
    assert repr(explain(y, w)) == "<Explanation ∂y/∂w = 0.4576 (1 path)>"
    z = x * w + x
    assert repr(explain(z, x)) == "<Explanation ∂(x·w + x)/∂x = −0.2 (2 paths)>"
    page = animate_backward(y)
    assert repr(page).startswith("<chaingrad page ") and repr(page).endswith(" bytes of HTML>")
    assert str(page).startswith("<!DOCTYPE html>")            # the page itself, as a str
    for result in (draw_dot(y), draw_network(model), explain(y, w), page):
        assert "\n" not in repr(result) and display(result)["text/plain"] == repr(result)


def test_explain_shows_as_markdown_with_its_maths_typeset() -> None:
    from test_viz_latex import parse_aligned

    y, _, w, _ = neuron()
    why = explain(y, w)
    shown = display(why)
    assert shown["text/plain"] == repr(why)
    markdown = shown["text/markdown"]
    assert markdown == ("**∂y/∂w = 0.4576, the product of the local derivatives along its "
                        "one path**\n\n$$\n" + why.latex() + "\n$$")
    parse_aligned(why.latex())
    kink = Value(0.0, "z").relu()
    kink.label = "a"
    noted = explain(kink, kink.inputs[0])._repr_markdown_()
    assert noted.endswith("*Note: z = 0 is ReLU's kink, where it has no derivative: chaingrad "
                          "(like PyTorch) takes ReLU′(0) = 0.*")


@needs_dot
def test_pages_show_as_iframes_and_stay_str(tmp_path) -> None:
    y, *_ = neuron()
    model = MLP(2, [2, 1], seed=0)
    pages = [animate_backward(y), animate_network(model, [1.0, 0.0], 1.0),
             explore_depth(max_depth=2, width=2, points=4)]
    for page in pages:
        shown = display(page)
        assert set(shown) == {"text/html", "text/plain"}
        assert srcdoc(shown["text/html"]) == page == str(page)
        title = html.unescape(re.search(r"<title>(.*?)</title>", page).group(1))
        size = len(page.encode("utf-8"))
        assert shown["text/plain"] == f"<chaingrad page {title!r}: {size:,} bytes of HTML>"
        # code that takes the page for a str keeps working
        assert isinstance(page, str) and page.startswith("<!DOCTYPE html>")
        assert page.replace("<!DOCTYPE html>", "").endswith("</html>\n")
        assert page.encode("utf-8").decode("utf-8") == page and str(page) + "" == page
        path = tmp_path / "page.html"
        path.write_text(page, encoding="utf-8")
        assert path.read_text(encoding="utf-8") == page


# ---- the tour -------------------------------------------------------------------------
def _png_size(data: str) -> tuple[int, int]:
    png = base64.b64decode(data)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def _stdout(cell) -> str:
    assert all(o["output_type"] == "stream" and o["name"] == "stdout" for o in cell.outputs)
    return "".join(o["text"] for o in cell.outputs)


def _result(cell) -> dict:
    (output,) = cell.outputs
    assert output["output_type"] == "execute_result"
    return output["data"]


def _engine(cell) -> None:
    y, x, w, b = neuron()
    assert _stdout(cell) == (f"y = {y.data:.4f}   ∂y/∂w = {w.grad:.4f}   ∂y/∂b = "
                             f"{b.grad:.4f}   ∂y/∂x = {x.grad:.4f}\n")


def _xor_train(cell) -> None:
    first, last = re.fullmatch(r"loss (\d\.\d{4}) → (\d\.\d{6})\n", _stdout(cell)).groups()
    assert float(last) < 0.01 < float(first)           # the lessons' target: below 0.01


def _plot(cell) -> None:
    data = _result(cell)
    assert data["text/plain"].startswith("<PlotFigure")
    width, height = _png_size(data["image/png"])
    assert width >= 500 and height >= 400


def _svg(*texts: str):
    def check(cell) -> None:
        root = ET.fromstring(_result(cell)["image/svg+xml"].encode("utf-8"))
        shown = " ".join(root.itertext())
        for text in texts:
            assert text in shown, text
    return check


def _explain(cell) -> None:
    y, _, w, _ = neuron()
    assert _result(cell)["text/markdown"] == explain(y, w)._repr_markdown_()


def _animate_backward(cell) -> None:
    y, *_ = neuron()
    assert _result(cell)["text/html"] == animate_backward(y)._repr_html_()


def _animate_network(cell) -> None:
    page = srcdoc(_result(cell)["text/html"])
    assert "<title>Backpropagation through a 2-2-1 network, one layer per step</title>" in page


def _assert_grad(cell) -> None:
    assert _stdout(cell) == ("∂L/∂w = (ŷ − y)·x and ∂L/∂b = ŷ − y: the engine and finite "
                             "differences agree\n")


def _assert_grad_wrong(cell) -> None:
    text = _stdout(cell)
    assert text.startswith("assert_grad: 1 of 2 gradients of output disagree")
    assert re.search(r"\n  w +-0\.4335757461 +-0\.2890504974 +-0\.4335757461 .*✗ expected", text)
    assert "engine and finite differences agree: check the hand derivation." in text


def _explore(cell) -> None:
    page = srcdoc(_result(cell)["text/html"])
    assert "window.chaingrad" in page
    assert page.count('"role": "parameter"') == 2        # w and b: step has work to do


def _explore_depth(cell) -> None:
    data = page_data(srcdoc(_result(cell)["text/html"]))
    assert data["maxDepth"] == 20
    X, y = nn.datasets.moons(16, noise=0.1, seed=0)
    assert data["values"]["sigmoid/naive/plain"][19] == gradient_by_layer(
        20, "sigmoid", False, "uniform", 8, 0, X, y)


#: What each code cell of the tour must show, by cell id.
EXPECTED = {
    "engine": _engine, "xor-train": _xor_train, "xor-history": _plot, "xor-boundary": _plot,
    "draw-dot": _svg("y", "w", "grad 0.4576"), "explain": _explain,
    "draw-network": _svg("ŷ", "δ", "L"), "animate-backward": _animate_backward,
    "animate-network": _animate_network, "assert-grad": _assert_grad,
    "assert-grad-wrong": _assert_grad_wrong, "explore": _explore,
    "explore-depth": _explore_depth,
}


def test_the_tour_is_shipped_without_outputs() -> None:
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(TOUR, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.id for cell in code] == list(EXPECTED)
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)


@needs_dot
def test_the_tour_runs_in_a_kernel_and_shows_each_result_inline(tmp_path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip(
        "nbclient", reason="the notebook test needs nbclient and ipykernel (the dev extra)")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    notebook = nbformat.read(TOUR, as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    ran = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.id for cell in ran] == list(EXPECTED)
    for cell in ran:
        try:
            EXPECTED[cell.id](cell)
        except AssertionError as error:
            raise AssertionError(f"cell {cell.id!r}: {error}") from error
    assert list(tmp_path.iterdir()) == []               # the tour writes no files
