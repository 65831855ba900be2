"""viz.plots: the numbers on the plots are the model's and the history's.

The loss line's data are ``history.loss``; the gradient-flow values are the mean
|grad| of each layer's weights, summed here straight from ``model.layers``; the
decision boundary's filled contour puts each grid point in the band that holds the
model's own prediction there, and its line lies where the model says 0.5.
"""

from __future__ import annotations

import math
import os
import pathlib
import subprocess
import sys

import pytest

import nn
from engine import Value, no_grad
from viz import layer_gradients, plot_decision_boundary, plot_gradient_flow, plot_history

pytest.importorskip("matplotlib", reason="matplotlib is the extra `plot`: "
                    "pip install 'chaingrad[plot]'")

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def trained_moons(epochs: int = 100) -> tuple[nn.MLP, list, list, nn.History]:
    X, y = nn.datasets.moons(40, noise=0.1, seed=1)
    model = nn.MLP(2, [8, 8, 1], seed=1)
    history = nn.fit(model, X, y, nn.bce_with_logits, nn.Adam(model.parameters(), lr=0.05),
                     epochs=epochs, progress=False, compile=True)
    return model, X, y, history


def lines_by_label(ax: Axes) -> dict[str, object]:
    return {line.get_label(): line for line in ax.lines}


def twin_of(ax: Axes) -> Axes:
    twins = [a for a in ax.figure.axes if a is not ax and a.get_shared_x_axes().joined(a, ax)]
    assert len(twins) == 1
    return twins[0]


# ---- plot_history --------------------------------------------------------------------
def test_history_lines_are_the_history():
    model, X, y, history = trained_moons()
    figure = plot_history(history)
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    loss = lines_by_label(ax)["loss"]
    assert list(loss.get_xdata()) == list(range(1, len(history) + 1))
    assert list(loss.get_ydata()) == history.loss
    accuracy = lines_by_label(twin_of(ax))["accuracy"]
    assert list(accuracy.get_ydata()) == history.accuracy
    assert accuracy.get_color() == loss.get_color() and accuracy.get_linestyle() == "--"
    assert ax.get_xlabel() == "epoch" and twin_of(ax).get_ylim() == (0.0, 1.02)
    # This run's loss falls from ~0.8 to under 0.08: it spans a decade, so log.
    assert history.loss[0] / history.loss[-1] >= 10 and ax.get_yscale() == "log"


def test_history_is_linear_when_the_loss_spans_less_than_a_decade():
    figure = plot_history([0.9, 0.5, 0.3])               # a loop of your own: plain losses
    ax = figure.axes[0]
    assert ax.get_yscale() == "linear"
    assert list(lines_by_label(ax)["loss"].get_ydata()) == [0.9, 0.5, 0.3]
    assert len(figure.axes) == 1                         # no accuracy, no second axis


def test_history_of_a_regression_has_no_accuracy_axis():
    X = [[0.0], [1.0], [2.0]]
    y = [0.5, 1.5, 2.5]
    model = nn.MLP(1, [1], seed=0)
    history = nn.fit(model, X, y, nn.mse, nn.SGD(model.parameters(), lr=0.05), epochs=5,
                     progress=False)
    assert history.accuracy == [None] * 5
    figure = plot_history(history)
    assert len(figure.axes) == 1
    assert list(figure.axes[0].lines[0].get_ydata()) == history.loss


def test_several_histories_compare_on_one_axes():
    runs = {}
    for name, optimizer in (("SGD", nn.SGD), ("Adam", nn.Adam)):
        X, y = nn.datasets.xor()
        model = nn.MLP(2, [4, 1], output_activation="sigmoid", seed=3)
        runs[name] = nn.fit(model, X, y, nn.mse, optimizer(model.parameters(), lr=0.1),
                            epochs=20, progress=False)
    ax = plot_history(runs).axes[0]
    lines = lines_by_label(ax)
    assert list(lines["SGD: loss"].get_ydata()) == runs["SGD"].loss
    assert list(lines["Adam: loss"].get_ydata()) == runs["Adam"].loss
    assert lines["SGD: loss"].get_color() != lines["Adam: loss"].get_color()
    accuracy = lines_by_label(twin_of(ax))
    assert list(accuracy["Adam: accuracy"].get_ydata()) == runs["Adam"].accuracy
    assert accuracy["Adam: accuracy"].get_color() == lines["Adam: loss"].get_color()
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert set(legend) == {"SGD: loss", "Adam: loss", "SGD: accuracy", "Adam: accuracy"}

    same = plot_history(list(runs.values()), label=["SGD", "Adam"]).axes[0]
    assert sorted(lines_by_label(same)) == ["Adam: loss", "SGD: loss"]


def test_calls_on_the_same_axes_add_runs_and_share_the_accuracy_axis():
    _, _, _, first = trained_moons(5)
    _, _, _, second = trained_moons(8)
    figure = Figure()
    ax = figure.add_subplot()
    assert plot_history(first, ax=ax, label="5 epochs") is figure
    plot_history(second, ax=ax, label="8 epochs")
    assert len(figure.axes) == 2                           # one twin, not two
    assert list(lines_by_label(ax)["8 epochs: loss"].get_ydata()) == second.loss
    assert len(twin_of(ax).lines) == 2


def test_history_saves_a_png_without_a_display(tmp_path):
    _, _, _, history = trained_moons(5)
    path = tmp_path / "history.png"
    plot_history(history).savefig(path)
    assert path.read_bytes()[:8] == PNG


def test_history_bad_input_says_what_is_wrong():
    with pytest.raises(ValueError, match="plot_history: the history is empty"):
        plot_history(nn.History())
    with pytest.raises(ValueError, match="plot_history: the history is empty"):
        plot_history([])
    with pytest.raises(ValueError, match="plot_history: 2 histories but 1 label"):
        plot_history([[1.0, 0.5], [2.0, 1.0]], label=["a"])
    with pytest.raises(TypeError, match="plot_history: expected a history"):
        plot_history(3.0)
    with pytest.raises(TypeError, match="plot_history: item 1 is not a history"):
        plot_history([[1.0], "loss"])
    with pytest.raises(TypeError, match="plot_history: label must be a str"):
        plot_history([1.0, 0.5], label=3)
    with pytest.raises(TypeError, match="plot_history: ax must be a matplotlib Axes"):
        plot_history([1.0, 0.5], ax="left")
    with pytest.raises(ValueError, match="plot_history: give labels either"):
        plot_history({"a": [1.0]}, label="b")


# ---- plot_decision_boundary ----------------------------------------------------------
def contour_sets(ax: Axes) -> tuple[ContourSet, ContourSet]:
    """(the filled contour, the boundary lines) drawn on ``ax``."""
    sets = [c for c in ax.collections if isinstance(c, ContourSet)]
    filled = [c for c in sets if c.filled]
    lines = [c for c in sets if not c.filled]
    assert len(filled) == 1 and len(lines) == 1
    return filled[0], lines[0]


def grid_points(ax: Axes, resolution: int, every: int) -> list[tuple[float, float]]:
    """Every ``every``-th node of the grid the plot evaluated (it spans the axes)."""
    (left, right), (bottom, top) = ax.get_xlim(), ax.get_ylim()
    steps = range(1, resolution - 1, every)
    return [(left + (right - left) * i / (resolution - 1),
             bottom + (top - bottom) * j / (resolution - 1)) for i in steps for j in steps]


def band_of(filled: ContourSet, point: tuple[float, float]) -> int:
    """Which band of the filled contour holds ``point`` (band i is levels[i] … levels[i+1];
    with extend="both", band 0 is below the first level)."""
    found = [i for i, path in enumerate(filled.get_paths())
             if len(path.vertices) and path.contains_point(point)]
    assert len(found) == 1, (point, found)
    return found[0]


def bands_of(filled: ContourSet, point: tuple[float, float]) -> list[int]:
    """Every band that holds ``point``: two for a point on a level line."""
    found = [i for i, path in enumerate(filled.get_paths())
             if len(path.vertices) and path.contains_point(point, radius=1e-9)]
    assert found, point
    return found


def test_boundary_of_a_hand_set_sigmoid_neuron_is_the_line_it_says():
    # ŷ = σ(x1 − x2): P(class 1) = 0.5 exactly on the diagonal x1 = x2.
    model = nn.MLP.from_weights([[[1.0, -1.0]]], [[0.0]], output_activation="sigmoid")
    X = [[-1.0, 1.0], [1.0, -1.0], [0.5, -0.5], [-0.5, 0.5]]
    y = [0, 1, 1, 0]
    resolution = 41
    ax = plot_decision_boundary(model, X, y, resolution=resolution).axes[0]
    filled, line = contour_sets(ax)
    assert list(line.levels) == [0.5]
    assert list(filled.levels) == pytest.approx([i / 10 for i in range(11)])
    vertices = [v for path in line.get_paths() for v in path.vertices]
    assert len(vertices) > 10
    for x1, x2 in vertices:
        assert x1 == pytest.approx(x2, abs=1e-9)
    for x1, x2 in grid_points(ax, resolution, 3):
        probability = sigmoid(x1 - x2)
        for band in bands_of(filled, (x1, x2)):        # on the diagonal: both sides of 0.5
            assert filled.levels[band] <= probability <= filled.levels[band + 1]


def test_boundary_bands_hold_the_trained_models_predictions():
    model, X, y, _ = trained_moons()
    resolution = 60
    ax = plot_decision_boundary(model, X, y, resolution=resolution).axes[0]
    filled, line = contour_sets(ax)
    assert list(line.levels) == [0.0]                      # a logit: the boundary is ŷ = 0
    assert 0.0 in list(filled.levels)
    levels = [-math.inf, *filled.levels, math.inf]          # extend="both": open end bands
    points = grid_points(ax, resolution, 7)
    for point, score in zip(points, nn.predict(model, [list(p) for p in points])):
        band = band_of(filled, point)
        assert levels[band] <= score <= levels[band + 1], (point, score)
    # The data is drawn as it is, coloured by class.
    scatters = [c for c in ax.collections if not isinstance(c, ContourSet)]
    drawn = sorted(tuple(p) for s in scatters for p in s.get_offsets().tolist())
    assert drawn == sorted(tuple(p) for p in X)
    assert scatters[0].get_facecolor().tolist() != scatters[1].get_facecolor().tolist()


def test_boundary_of_several_outputs_is_the_argmax():
    X, y = nn.datasets.spiral(30, classes=3, seed=2)
    model = nn.MLP(2, [8, 3], seed=2)
    nn.fit(model, X, y, nn.softmax_cross_entropy, nn.Adam(model.parameters(), lr=0.05),
           epochs=20, progress=False)
    resolution = 40
    ax = plot_decision_boundary(model, X, y, resolution=resolution).axes[0]
    sets = [c for c in ax.collections if isinstance(c, ContourSet)]
    (filled,) = [c for c in sets if c.filled]
    assert list(filled.levels) == [-0.5, 0.5, 1.5, 2.5]
    edges = [c for c in sets if not c.filled]             # one per class: where it ends
    assert len(edges) == 3 and all(list(c.levels) == [0.5] for c in edges)
    points = grid_points(ax, resolution, 5)
    seen = set()
    for point, scores in zip(points, nn.predict(model, [list(p) for p in points])):
        best = max(range(3), key=scores.__getitem__)
        if sorted(scores)[-1] - sorted(scores)[-2] > 1e-6:     # no tie at this point
            assert band_of(filled, point) == best
            seen.add(best)
    assert len(seen) >= 2


def test_threshold_moves_the_boundary():
    model = nn.MLP.from_weights([[[1.0, 0.0]]], [[0.0]])   # ŷ = x1, linear
    X, y = [[0.0, 0.0], [1.0, 1.0]], [0, 1]
    ax = plot_decision_boundary(model, X, y, threshold=0.5, resolution=21).axes[0]
    filled, line = contour_sets(ax)
    assert list(line.levels) == [0.5]
    for x1, _ in (v for path in line.get_paths() for v in path.vertices):
        assert x1 == pytest.approx(0.5)


def test_boundary_leaves_the_models_last_pass_alone_and_works_under_no_grad():
    model = nn.MLP(2, [3, 1], seed=0)
    loss = nn.mse(model([0.5, -0.5]), 1.0)
    loss.backward()
    kept = [n.z for layer in model.layers for n in layer.neurons]
    deltas = [z.grad for z in kept]
    with no_grad():
        plot_decision_boundary(model, [[0.0, 0.0], [1.0, 1.0]], [0, 1], resolution=10)
    assert [n.z for layer in model.layers for n in layer.neurons] == kept
    assert [z.grad for z in kept] == deltas


def test_boundary_puts_back_each_neurons_z_and_a_with_gradients_on():
    model = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    nn.mse(model([0.5, -0.5]), 1.0).backward()
    neurons = [n for layer in model.layers for n in layer.neurons]
    kept = [(n.z, n.a) for n in neurons]
    assert all(z is not None and a is not None for z, a in kept)
    plot_decision_boundary(model, [[0.0, 0.0], [1.0, 1.0]], [0, 1], resolution=10)
    assert all(n.z is z and n.a is a for n, (z, a) in zip(neurons, kept))
    fresh = nn.MLP(2, [2, 1], seed=1)                       # no pass yet: still none after
    plot_decision_boundary(fresh, [[0.0, 0.0], [1.0, 1.0]], [0, 1], resolution=10)
    assert all(n.z is None and n.a is None for layer in fresh.layers for n in layer.neurons)


def test_a_python_branch_on_data_is_refused_not_drawn_wrong():
    def model(x):                                  # |x1| by an `if`: frozen at x1 = 0
        return x[0] if x[0].data > 0 else -x[0]
    with pytest.raises(ValueError, match="Python `if`"):
        plot_decision_boundary(model, [[1.0, 0.0], [-1.0, 0.0]], [1, 0], resolution=5)


def test_boundary_bad_input_says_what_is_wrong():
    model = nn.MLP(2, [1], seed=0)
    X, y = [[0.0, 0.0], [1.0, 1.0]], [0, 1]
    with pytest.raises(ValueError, match="plot_decision_boundary: the model takes 3 inputs"):
        plot_decision_boundary(nn.MLP(3, [1], seed=0), X, y)
    with pytest.raises(ValueError, match="2 points in X but 3 labels in y"):
        plot_decision_boundary(model, X, [0, 1, 1])
    with pytest.raises(ValueError, match="X is empty"):
        plot_decision_boundary(model, [], [])
    with pytest.raises(ValueError, match=r"X\[1\] has 3 coordinates"):
        plot_decision_boundary(model, [[0.0, 0.0], [1.0, 1.0, 1.0]], y)
    with pytest.raises(ValueError, match="y has 3 classes but the model has one output"):
        plot_decision_boundary(model, X + [[2.0, 2.0]], [0, 1, 2])
    with pytest.raises(ValueError, match="resolution must be an int ≥ 2"):
        plot_decision_boundary(model, X, y, resolution=1)
    with pytest.raises(TypeError, match="resolution must be an int"):
        plot_decision_boundary(model, X, y, resolution=20.0)
    with pytest.raises(TypeError, match="model must be callable"):
        plot_decision_boundary("mlp", X, y)
    with pytest.raises(TypeError, match=r"X\[0\] must be a point"):
        plot_decision_boundary(model, ["ab", "cd"], y)
    with pytest.raises(TypeError, match="y\\[1\\] must be a class label"):
        plot_decision_boundary(model, X, [0, "one"])
    with pytest.raises(ValueError, match=r"y\[0\] must be a whole number"):
        plot_decision_boundary(model, X, [0.5, 1])
    with pytest.raises(TypeError, match="X and y must be sequences"):
        plot_decision_boundary(model, 3, y)
    with pytest.raises(TypeError, match="threshold must be a number"):
        plot_decision_boundary(model, X, y, threshold="half")
    with pytest.raises(ValueError, match="threshold is for a model with one output"):
        plot_decision_boundary(nn.MLP(2, [2], seed=0), X, y, threshold=0.5)
    with pytest.raises(ValueError, match="labels must be class indices 0 … 1"):
        plot_decision_boundary(nn.MLP(2, [2], seed=0), X, [1, 2])


# ---- layer_gradients and plot_gradient_flow ------------------------------------------
def backward_once(model: nn.MLP) -> None:
    X, y = nn.datasets.moons(12, noise=0.1, seed=0)
    nn.bce_with_logits([model(x) for x in X], y).backward()


def by_hand(model: nn.MLP) -> list[float]:
    """mean |∂L/∂W⁽ˡ⁾ⱼₖ| per layer, straight from the neurons' weights."""
    means = []
    for layer in model.layers:
        grads = [abs(w.grad) for neuron in layer.neurons for w in neuron.w]
        means.append(sum(grads) / len(grads))
    return means


def test_layer_gradients_are_the_mean_absolute_weight_gradients():
    model = nn.MLP(2, [4, 3, 1], activation="tanh", seed=5)
    backward_once(model)
    assert layer_gradients(model) == pytest.approx(by_hand(model), rel=1e-15)
    assert all(g > 0 for g in layer_gradients(model))


def test_gradient_flow_plots_those_values_on_a_log_scale():
    models = {name: nn.MLP(2, [6] * 7 + [1], activation=name,
                           init="he" if name == "relu" else "xavier", seed=0)
              for name in ("sigmoid", "relu")}
    for model in models.values():
        backward_once(model)
    ax = plot_gradient_flow(list(models.values())).axes[0]
    assert ax.get_yscale() == "log"
    lines = lines_by_label(ax)
    assert sorted(lines) == ["ReLU, 8 layers", "sigmoid, 8 layers"]   # as the lessons say
    for name, model in models.items():
        line = lines[f"{'ReLU' if name == 'relu' else name}, 8 layers"]
        assert list(line.get_xdata()) == list(range(1, 9))
        assert list(line.get_ydata()) == pytest.approx(by_hand(model), rel=1e-15)
    # σ′ ≤ ¼: the sigmoid net's first layer gets orders of magnitude less than its last.
    sigmoid_line = lines["sigmoid, 8 layers"].get_ydata()
    assert sigmoid_line[0] < sigmoid_line[-1] * 1e-2


def test_gradient_flow_takes_labels_a_mapping_and_precomputed_numbers():
    model = nn.MLP(2, [4, 4, 1], seed=1, residual=True)
    backward_once(model)
    ax = plot_gradient_flow(model, labels="mine").axes[0]
    assert list(lines_by_label(ax)["mine"].get_ydata()) == pytest.approx(by_hand(model))
    ax = plot_gradient_flow(model).axes[0]
    assert list(lines_by_label(ax)) == ["ReLU, 3 layers, residual"]
    tanh = nn.MLP(2, [3, 1], activation="tanh", seed=1)
    backward_once(tanh)
    assert list(lines_by_label(plot_gradient_flow(tanh).axes[0])) == ["tanh, 2 layers"]
    ax = plot_gradient_flow({"averaged": [1e-3, 1e-2, 1e-1]}).axes[0]
    assert list(lines_by_label(ax)["averaged"].get_ydata()) == [1e-3, 1e-2, 1e-1]
    # A net with every unit dead is a result, not an error; its label says why no line.
    ax = plot_gradient_flow({"alive": [1e-2, 1e-1], "dead": [0.0, 0.0]}).axes[0]
    assert sorted(lines_by_label(ax)) == ["alive", "dead (0 in every layer)"]


def test_gradient_flow_bad_input_says_what_is_wrong():
    fresh = nn.MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match="every gradient is 0: run loss.backward"):
        plot_gradient_flow(fresh)
    with pytest.raises(TypeError, match="plot_gradient_flow: expected a model"):
        plot_gradient_flow(42)
    with pytest.raises(ValueError, match="no model given"):
        plot_gradient_flow([])
    with pytest.raises(ValueError, match="2 models but 1 labels"):
        plot_gradient_flow([[1.0], [2.0]], labels=["a"])
    with pytest.raises(ValueError, match="finite and ≥ 0"):
        plot_gradient_flow([[1.0, math.nan]])
    with pytest.raises(TypeError, match="layer_gradients: model must be an nn model"):
        layer_gradients(Value(1.0))

    class Unnamed(nn.Module):
        def __init__(self):
            self.w = Value(1.0, "w")

        def named_parameters(self):
            yield "w", self.w

        def __call__(self, x):
            return self.w * x
    with pytest.raises(ValueError, match=r"no weights labelled L\{l\}.N\{j\}.w\{k\}"):
        layer_gradients(Unnamed())


# ---- without matplotlib, and the examples ---------------------------------------------
def test_without_matplotlib_each_plot_says_how_to_install_it(monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    model = nn.MLP(2, [1], seed=0)
    calls = [lambda: plot_history([1.0, 0.5]),
             lambda: plot_decision_boundary(model, [[0.0, 0.0]], [0]),
             lambda: plot_gradient_flow([[1.0]])]
    for call in calls:
        with pytest.raises(ImportError, match=r"pip install 'chaingrad\[plot\]'"):
            call()


def test_engine_and_nn_do_not_import_matplotlib():
    code = ("import sys, engine, nn, viz\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT, timeout=60)
    assert result.stdout.strip() == "[]"


def _headless() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MPLBACKEND")}
    return env


def png_size(path: pathlib.Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_moons_example_writes_the_boundary_and_the_curve(tmp_path):
    path = tmp_path / "pictures" / "moons.png"
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "moons.py"), "--epochs",
                             "10", "--no-progress", "--png", str(path)], capture_output=True,
                            text=True, check=True, timeout=300, env=_headless())
    assert f"wrote {path}" in result.stdout
    assert png_size(path) == (1320, 506)                     # 12 × 4.6 inches at 110 dpi


def test_vanishing_example_draws_the_curves(tmp_path):
    path = tmp_path / "vanishing.png"
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "vanishing.py"),
                             "--seeds", "1", "--every", "10", "--width", "4", "--png",
                             str(path)], capture_output=True, text=True, check=True,
                            timeout=300, env=_headless())
    assert f"wrote {path}" in result.stdout
    assert png_size(path) == (1320, 528)                     # 12 × 4.8 inches at 110 dpi


def test_vanishing_pictures_plot_the_tables_numbers():
    import importlib.util
    spec = importlib.util.spec_from_file_location("vanishing", ROOT / "examples" / "vanishing.py")
    vanishing = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vanishing)
    X, y = nn.datasets.moons(8, noise=0.1, seed=0)
    depths = [2, 6]
    first, deepest = {}, {}
    for activation, residual in (("sigmoid", False), ("relu", True)):
        name = vanishing.name(activation, residual)
        runs = [vanishing.gradient_by_layer(d, activation, residual, "xavier", 4, 0, X, y)
                for d in depths]
        first[name] = [r[0] for r in runs]
        deepest[name] = runs[-1]
        assert runs[0][0] == vanishing.first_layer_gradient(2, activation, residual, "xavier",
                                                            4, 0, X, y)
    by_layer, by_depth = vanishing.draw(depths, first, deepest, "title").axes
    for name in first:
        assert list(lines_by_label(by_layer)[name].get_ydata()) == deepest[name]
        assert list(lines_by_label(by_depth)[name].get_xdata()) == depths
        assert list(lines_by_label(by_depth)[name].get_ydata()) == first[name]
    assert lines_by_label(by_depth)["relu + residual"].get_linestyle() == "--"
    assert lines_by_label(by_depth)["sigmoid"].get_linestyle() == "-"


# ---- in a notebook -------------------------------------------------------------------
def test_a_returned_figure_is_a_png_for_jupyter():
    figure = plot_history([1.0, 0.5, 0.25])
    assert figure._repr_png_()[:8] == PNG


def test_a_notebook_shows_each_plot_once_inline():
    nbformat = pytest.importorskip("nbformat", reason="pip install nbclient ipykernel")
    nbclient = pytest.importorskip("nbclient", reason="pip install nbclient ipykernel")
    pytest.importorskip("ipykernel", reason="pip install ipykernel")
    cells = ["import nn\nfrom viz import plot_decision_boundary, plot_history\n"
             "plot_history([1.0, 0.5, 0.1])",
             "import matplotlib.pyplot as plt             # pyplot's inline backend too\n"
             "plot_decision_boundary(nn.MLP(2, [3, 1], seed=0), [[0, 0], [1, 1]], [0, 1],\n"
             "                       resolution=20)"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbclient.NotebookClient(notebook, timeout=120,
                            resources={"metadata": {"path": str(ROOT)}}).execute()
    for cell in notebook.cells:
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert len(images) == 1, cell.outputs                # shown, and only once
        assert images[0]["data"]["image/png"].startswith("iVBORw0KGgo")   # base64 of PNG
