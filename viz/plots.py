"""Plots of training with matplotlib: the loss falling, the boundary a model drew
through the data, and how much gradient reaches each layer.

``plot_history`` draws what ``nn.fit`` returns; ``plot_decision_boundary`` the
output of a two-input model over the plane, with the data on top;
``plot_gradient_flow`` the mean |∂L/∂W⁽ˡ⁾ⱼₖ| of each layer after a backward pass
(``layer_gradients`` gives those numbers without plotting). Each returns a
matplotlib ``Figure``: it shows inline in Jupyter, and ``fig.savefig("x.png")``
works without a display. Pass ``ax=`` to draw into an axes of your own figure
(side by side, or several runs on one axes).

matplotlib is the optional extra ``plot`` (``pip install 'chaingrad[plot]'``) and is
imported only when a plot is drawn.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from engine import Value, enable_grad, no_grad, order
from engine import compile as compile_graph
from nn import History
from nn.checks import is_list, is_number

from .arguments import check_count
from .names import PARAMETER_LABEL
from .notation import activation_name

if TYPE_CHECKING:                                   # matplotlib is imported lazily
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_history", "plot_decision_boundary", "plot_gradient_flow", "layer_gradients",
           "CLASS_COLOURS"]

#: One colour per class (red, blue, green, purple, gold, …); the probability map runs
#: from class 0's red to class 1's blue.
CLASS_COLOURS = ("#b2182b", "#2166ac", "#15803d", "#7e22ce", "#a16207", "#be185d", "#0e7490",
                 "#4d7c0f", "#57534e", "#b91c1c")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<")
_LOSS_GID = "chaingrad-loss"
#: The margin around a plot the functions draw in a figure of their own, in inches.
PAD = 0.1
_ACCURACY_GID = "chaingrad-accuracy"


# ---- matplotlib, lazily --------------------------------------------------------------
def _require_matplotlib(who: str) -> None:
    """Import matplotlib, or raise an ImportError saying how to install it."""
    try:
        import matplotlib.figure  # noqa: F401
        import numpy  # noqa: F401                      # matplotlib's own dependency
    except ImportError as error:
        raise ImportError(f"{who} needs matplotlib, chaingrad's optional extra `plot`: "
                          f"pip install 'chaingrad[plot]'") from error


@functools.cache
def _figure_class() -> type:
    """A matplotlib Figure made outside pyplot — so it needs no display (savefig works
    headless), and pyplot never shows it a second time at the end of a notebook cell
    — that shows itself in Jupyter as a PNG when it is a cell's value."""
    from matplotlib.figure import Figure

    class PlotFigure(Figure):
        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png")
            return buffer.getvalue()

    return PlotFigure


def _axes(who: str, ax: Any, figsize: tuple[float, float]) -> Axes:
    """``ax`` checked, or the one axes of a new Figure."""
    _require_matplotlib(who)
    if ax is None:
        figure = _figure_class()(figsize=figsize, layout="constrained")
        # a margin a slide can see: constrained layout's own 3 pt put the title of a
        # square plot (decision boundary, three classes) on the picture's top edge
        figure.get_layout_engine().set(w_pad=PAD, h_pad=PAD)
        return figure.add_subplot()
    from matplotlib.axes import Axes
    if not isinstance(ax, Axes):
        raise TypeError(f"{who}: ax must be a matplotlib Axes, got {type(ax).__name__}")
    return ax


def _runs(who: str, what: str, runs: Any, labels: Any, label_arg: str,
          is_one: Callable[[Any], bool]) -> tuple[list[tuple[str | None, Any]], bool]:
    """(label or None, run) pairs from one run, a list of runs or a {label: run}
    mapping, and whether it was one run."""
    if isinstance(runs, Mapping):
        if labels is not None:
            raise ValueError(f"{who}: give labels either as the keys of a mapping or as "
                             f"{label_arg}=, not both")
        pairs = [(str(key), run) for key, run in runs.items()]
    elif is_one(runs):
        if labels is not None and not isinstance(labels, str):
            raise TypeError(f"{who}: {label_arg} must be a str for one {what}, "
                            f"got {type(labels).__name__}")
        pairs = [(labels, runs)]
    elif is_list(runs):
        runs = list(runs)
        if labels is None:
            labels = [None] * len(runs)
        elif isinstance(labels, str) or not is_list(labels):
            raise TypeError(f"{who}: {label_arg} must be a list of str, one per {what}, "
                            f"got {type(labels).__name__}")
        elif len(labels) != len(runs):
            plural = "histories" if what == "history" else f"{what}s"
            raise ValueError(f"{who}: {len(runs)} {plural} but {len(labels)} {label_arg}")
        pairs = list(zip(labels, runs))
    else:
        raise TypeError(f"{who}: expected a {what}, a list of them or a {{label: {what}}} "
                        f"mapping, got {type(runs).__name__}")
    if not pairs:
        raise ValueError(f"{who}: no {what} given")
    for index, (label, run) in enumerate(pairs):
        if not is_one(run):
            raise TypeError(f"{who}: item {index} is not a {what}: got {type(run).__name__}")
        if label is not None and not isinstance(label, str):
            raise TypeError(f"{who}: {label_arg} must be str, got {type(label).__name__}")
    return pairs, is_one(runs) and not isinstance(runs, Mapping)


# ---- plot_history --------------------------------------------------------------------
def _is_history(x: Any) -> bool:
    """A History, or a plain list of losses (one per epoch) from a loop of your own."""
    return isinstance(x, History) or (is_list(x) and all(is_number(v) for v in x))


def _curves(who: str, run: Any) -> tuple[list[float], list[float] | None]:
    """(loss per epoch, accuracy per epoch or None) of one history, checked."""
    losses = list(run.loss) if isinstance(run, History) else list(run)
    if not losses:
        raise ValueError(f"{who}: the history is empty (no epochs recorded)")
    for epoch, loss in enumerate(losses, 1):
        if not is_number(loss):
            raise TypeError(f"{who}: the loss of epoch {epoch} is not a number: {loss!r}")
    accuracy = list(run.accuracy) if isinstance(run, History) else []
    if not any(a is not None for a in accuracy):
        return [float(v) for v in losses], None
    if len(accuracy) != len(losses):
        raise ValueError(f"{who}: the history has {len(losses)} losses but "
                         f"{len(accuracy)} accuracies")
    return [float(v) for v in losses], [math.nan if a is None else float(a) for a in accuracy]


def _accuracy_axes(ax: Axes) -> Axes:
    """The axes' twin on the right for accuracy: the one made before, or a new one."""
    for other in ax.figure.axes:
        if getattr(other, "_chaingrad_accuracy_of", None) is ax:
            return other
    twin = ax.twinx()
    twin._chaingrad_accuracy_of = ax                   # found again by the next call
    twin.set_ylabel("accuracy (dashed)")
    twin.set_ylim(0.0, 1.02)
    from matplotlib.ticker import PercentFormatter
    twin.yaxis.set_major_formatter(PercentFormatter(1.0))
    return twin


def plot_history(history: Any, *, ax: Axes | None = None,
                 label: str | Sequence[str] | None = None) -> Figure:
    """The loss per epoch of ``history`` (what ``nn.fit`` returns) and, when fit
    measured it, the accuracy per epoch on a second axis (right, dashed).

    ``history`` may also be a plain list of losses (a loop of your own), a list of
    histories, or a ``{label: history}`` mapping: several runs on one axes, one
    colour each, to compare optimizers or learning rates; ``label`` names a single
    run (or is a list, one per run). Calls with the same ``ax`` add their runs to
    it. The loss axis is logarithmic when the losses on it span a factor of 10 or
    more (and are all > 0). Returns the Figure."""
    who = "plot_history"
    _require_matplotlib(who)
    runs, single = _runs(who, "history", history, label, "label", _is_history)
    curves = [(name if name is not None else "" if single else f"run {i}", *_curves(who, run))
              for i, (name, run) in enumerate(runs, 1)]
    ax = _axes(who, ax, (6.4, 4.0))
    twin = None
    for name, losses, accuracy in curves:
        prefix = f"{name}: " if name else ""
        epochs = list(range(1, len(losses) + 1))
        (line,) = ax.plot(epochs, losses, label=f"{prefix}loss", linewidth=2, gid=_LOSS_GID)
        if accuracy is not None:
            twin = twin or _accuracy_axes(ax)
            twin.plot(epochs, accuracy, label=f"{prefix}accuracy", color=line.get_color(),
                      linestyle="--", linewidth=1.5, gid=_ACCURACY_GID)
    twin = twin or next((a for a in ax.figure.axes
                         if getattr(a, "_chaingrad_accuracy_of", None) is ax), None)
    all_losses = [v for line in ax.lines if line.get_gid() == _LOSS_GID
                  for v in line.get_ydata() if math.isfinite(v)]
    if all_losses and min(all_losses) > 0 and max(all_losses) >= 10 * min(all_losses):
        ax.set_yscale("log")
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss" + (" (log scale)" if ax.get_yscale() == "log" else ""))
    ax.grid(True, which="major", alpha=0.3)
    if not ax.get_title():
        ax.set_title("training loss" + (" and accuracy" if twin is not None else ""))
    loss_lines = [line for line in ax.lines if line.get_gid() == _LOSS_GID]
    accuracy_lines = [line for line in (twin.lines if twin is not None else [])
                      if line.get_gid() == _ACCURACY_GID]
    handles = loss_lines + accuracy_lines
    if len(loss_lines) == 1:                           # one run: inside, out of the way
        ax.legend(handles=handles, loc="center right", framealpha=0.9)
    else:                                              # several: below, loss | accuracy
        ax.legend(handles=handles, loc="upper center", ncol=2 if accuracy_lines else 1,
                  bbox_to_anchor=(0.5, -0.14), frameon=False, fontsize="small")
    return ax.figure


# ---- plot_decision_boundary ----------------------------------------------------------
def _points(who: str, X: Any, y: Any) -> tuple[list[tuple[float, float]], list[Any]]:
    """X as (x1, x2) float pairs and y as a list, checked to fit each other."""
    if not is_list(X) or not is_list(y):
        raise TypeError(f"{who}: X and y must be sequences (a list of [x1, x2] points and "
                        f"a list of class labels), got {type(X).__name__} and "
                        f"{type(y).__name__}")
    if len(X) != len(y):
        raise ValueError(f"{who}: {len(X)} points in X but {len(y)} labels in y")
    if not X:
        raise ValueError(f"{who}: X is empty: there are no points to draw")
    points = []
    for i, point in enumerate(X):
        if not is_list(point) or not all(is_number(v) for v in point):
            raise TypeError(f"{who}: X[{i}] must be a point [x1, x2] of numbers, got {point!r}")
        if len(point) != 2:
            raise ValueError(f"{who}: X[{i}] has {len(point)} coordinates; a decision "
                             f"boundary is drawn in the plane of two inputs")
        if not all(math.isfinite(v) for v in point):
            raise ValueError(f"{who}: X[{i}] must be finite, got {point!r}")
        points.append((float(point[0]), float(point[1])))
    for i, label in enumerate(y):
        if not is_number(label):
            raise TypeError(f"{who}: y[{i}] must be a class label (an int), got {label!r}")
        if not math.isfinite(label) or label != int(label):
            raise ValueError(f"{who}: y[{i}] must be a whole number (a class label), "
                             f"got {label!r}")
    return points, [int(label) for label in y]


def _compiled_model(who: str, model: Any,
                    points: list[tuple[float, float]]) -> tuple[Callable[[float, float],
                                                                        list[float]], int]:
    """The model as a plain function of (x1, x2) → its outputs, from one forward
    graph compiled with ``engine.compile`` (so the grid builds no Values), and how
    many outputs it has. Checked against the model itself at the data points."""
    nin = getattr(model, "nin", 2)
    if nin != 2:
        raise ValueError(f"{who}: the model takes {nin} inputs; a decision boundary is drawn "
                         f"in the plane of two inputs (x1, x2)")
    # A forward pass with gradients on keeps each neuron's z and a for draw_network:
    # this one is ours, so the model keeps showing the user's last pass.
    keep = getattr(model, "keep_last_pass", None)
    x1, x2 = Value(0.0, "x1"), Value(0.0, "x2")
    with keep() if callable(keep) else contextlib.nullcontext(), enable_grad():
        output = model([x1, x2])
    outputs = list(output) if isinstance(output, (list, tuple)) else [output]
    if not outputs or not all(isinstance(o, Value) for o in outputs):
        raise TypeError(f"{who}: the model must return a Value or a list of Values for an "
                        f"input [x1, x2], got {type(output).__name__}")
    programs = []
    for out in outputs:
        in_graph = set(order(out))
        used = [i for i, x in enumerate((x1, x2)) if x in in_graph]
        if out.op is None:                              # the output is an input, or fixed
            programs.append(lambda numbers, out=out, used=used:
                            numbers[used[0]] if used else out.data)
            continue
        program = compile_graph(out, [(x1, x2)[i] for i in used])
        programs.append(lambda numbers, program=program, used=used:
                        program([numbers[i] for i in used]))

    def evaluate(a: float, b: float) -> list[float]:
        return [program((a, b)) for program in programs]

    with no_grad():                        # the guard: compiled and eager agree on the data
        for point in points:
            eager = model([Value(point[0], "x1"), Value(point[1], "x2")])
            eager = list(eager) if isinstance(eager, (list, tuple)) else [eager]
            for got, want in zip(evaluate(*point), eager):
                if not math.isclose(got, want.data, rel_tol=1e-9, abs_tol=1e-12):
                    raise ValueError(
                        f"{who}: the model's output at {list(point)} is {want.data!r}, but its "
                        f"graph built at (0, 0) gives {got!r}: the model decides something "
                        f"with a Python `if` on a Value's .data, frozen when the graph was "
                        f"built. Write the branch with Value ops (max(z, 0) is z.relu())")
    return evaluate, len(outputs)


def _grid(points: list[tuple[float, float]], resolution: int) -> tuple[list[float], list[float]]:
    """``resolution`` evenly spaced x1 and x2 values covering the points with a margin."""
    axes = []
    for values in zip(*points):
        low, high = min(values), max(values)
        margin = max(0.1 * (high - low), 0.25)
        low, high = low - margin, high + margin
        axes.append([low + (high - low) * i / (resolution - 1) for i in range(resolution)])
    return axes[0], axes[1]


def _score_levels(distance: Any, cut: float) -> Any:
    """Round contour levels symmetric about ``cut``, spanning the 95th percentile of
    the distance |ŷ − cut| over the grid (the few farther corners are drawn in the
    end colours), so the shades near the boundary stay visible."""
    import numpy as np
    from matplotlib.ticker import MaxNLocator
    span = float(np.percentile(distance, 95)) or float(np.max(distance)) or 1.0
    steps = MaxNLocator(nbins=10, symmetric=True, steps=[1, 2, 2.5, 5, 10])
    levels = [v for v in steps.tick_values(-span, span) if -span * 1.5 <= v <= span * 1.5]
    if 0.0 not in levels:                                  # the boundary is a level
        levels = sorted({*levels, 0.0})
    return cut + np.array(levels)


def plot_decision_boundary(model: Any, X: Sequence[Sequence[float]], y: Sequence[int], *,
                           ax: Axes | None = None, resolution: int = 200,
                           threshold: float | None = None) -> Figure:
    """The output of a two-input ``model`` over the plane around ``X`` as a filled
    contour, its decision boundary as a black line, and the points ``X`` coloured
    (and marked) by their class ``y``.

    * one output with a sigmoid (``output_activation="sigmoid"``): the probability
      ŷ = P(class 1), boundary at ŷ = 0.5;
    * one output otherwise (a logit, a score): ŷ itself, boundary at ŷ = 0 (pass
      ``threshold=0.5`` for a linear output trained with mse on 0/1 labels);
    * several outputs: the class of the largest output (argmax), the boundaries
      where it changes.

    The ``resolution`` × ``resolution`` grid is evaluated without building a graph
    per point: one forward graph is compiled (``engine.compile``) and run on plain
    floats. At 200 × 200, micrograd's 2-16-16-1 MLP takes about 1.2 s for the whole
    call, 0.75 s of it the grid (in eager mode under ``no_grad`` the grid alone
    would take ~20 s; ``bench/plots.py``, one core of a 2-core Xeon).
    The model must branch only through Value ops (nn's models do): its output at
    each data point is checked against the compiled one. Returns the Figure."""
    who = "plot_decision_boundary"
    _require_matplotlib(who)
    if not callable(model):
        raise TypeError(f"{who}: model must be callable (an nn.MLP), got {type(model).__name__}")
    check_count(who, "resolution", resolution)
    if resolution < 2:
        raise ValueError(f"{who}: resolution must be an int ≥ 2, got {resolution!r}")
    if threshold is not None and not is_number(threshold):
        raise TypeError(f"{who}: threshold must be a number, got {type(threshold).__name__}")
    if threshold is not None and not math.isfinite(threshold):
        raise ValueError(f"{who}: threshold must be finite, got {threshold!r}")
    points, labels = _points(who, X, y)
    evaluate, outputs = _compiled_model(who, model, points)
    classes = sorted(set(labels))
    if outputs == 1 and len(classes) > 2:
        raise ValueError(f"{who}: y has {len(classes)} classes but the model has one output; "
                         f"give it one output per class")
    if outputs > 1:
        if threshold is not None:
            raise ValueError(f"{who}: threshold is for a model with one output; this one "
                             f"has {outputs} and is read by argmax")
        if classes[0] < 0 or classes[-1] >= outputs:
            raise ValueError(f"{who}: with {outputs} outputs the labels must be class "
                             f"indices 0 … {outputs - 1}, got {classes}")
    if len(classes) > len(CLASS_COLOURS):
        raise ValueError(f"{who}: at most {len(CLASS_COLOURS)} classes can be told apart "
                         f"by colour, got {len(classes)}")

    import numpy as np
    from matplotlib.colors import ListedColormap, TwoSlopeNorm
    from matplotlib.lines import Line2D

    xs, ys = _grid(points, resolution)
    rows = [[evaluate(a, b) for a in xs] for b in ys]            # rows[i][j] at (xs[j], ys[i])
    aspect = (xs[-1] - xs[0]) / (ys[-1] - ys[0])        # a new figure fits the data's shape
    ax = _axes(who, ax, (min(max(3.4 * aspect + (1.8 if outputs == 1 else 0.8), 4.8), 10.0), 4.8))
    sigmoid = getattr(model, "output_activation", None) == "sigmoid"
    if outputs == 1:
        field = np.array([[out[0] for out in row] for row in rows])
        cut = float(threshold) if threshold is not None else 0.5 if sigmoid else 0.0
        if sigmoid and threshold is None:
            levels, norm, extend = np.linspace(0.0, 1.0, 11), None, "neither"
            title = "ŷ = P(class 1)"
        else:
            levels = _score_levels(np.abs(field - cut), cut)
            norm = TwoSlopeNorm(vcenter=cut, vmin=levels[0], vmax=levels[-1])
            extend = "both"
            title = f"model output ŷ  (class 1 where ŷ > {cut:g})"
        filled = ax.contourf(xs, ys, field, levels=levels, cmap="RdBu", norm=norm, alpha=0.55,
                             extend=extend)
        ax.contour(xs, ys, field, levels=[cut], colors="black", linewidths=2)
        colorbar = ax.figure.colorbar(filled, ax=ax, shrink=0.85)
        colorbar.set_label(title)
        boundary = f"boundary ŷ = {cut:g}"
        point_classes = {classes[0]: 0, classes[-1]: 1} if len(classes) == 2 else \
            {classes[0]: 0 if classes[0] <= cut else 1}
    else:
        field = np.array([[max(range(outputs), key=out.__getitem__) for out in row]
                          for row in rows])
        levels = np.arange(outputs + 1) - 0.5
        colours = ListedColormap(CLASS_COLOURS[:outputs])
        ax.contourf(xs, ys, field, levels=levels, cmap=colours, alpha=0.3)
        for c in range(outputs):               # each class's edge: one line per boundary,
            ax.contour(xs, ys, (field == c).astype(float), levels=[0.5],   # drawn from
                       colors="black", linewidths=1.5)                       # both sides
        boundary = "boundary"
        point_classes = {c: c for c in classes}
    for label in classes:
        colour_index = point_classes[label]
        mine = [p for p, t in zip(points, labels) if t == label]
        ax.scatter([p[0] for p in mine], [p[1] for p in mine], s=34, linewidths=0.9,
                   color=CLASS_COLOURS[colour_index], marker=_MARKERS[colour_index],
                   edgecolors="black", label=f"class {label}", zorder=3)
    handles, names = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color="black", linewidth=2))
    names.append(boundary)
    ax.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.14),
              ncol=len(handles), frameon=False, fontsize="small", handletextpad=0.3,
              columnspacing=1.2)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if not ax.get_title():
        ax.set_title("decision boundary")
    return ax.figure


# ---- plot_gradient_flow --------------------------------------------------------------
def layer_gradients(model: Any) -> list[float]:
    """mean |∂L/∂W⁽ˡ⁾ⱼₖ| over the weights of each layer l = 1 … L of ``model`` (the
    parameters labelled ``L{l}.N{j}.w{k}``), from their ``.grad`` after a backward
    pass: how much gradient reaches each layer. Biases are left out."""
    who = "layer_gradients"
    named = getattr(model, "named_parameters", None)
    if not callable(named):
        raise TypeError(f"layer_gradients: model must be an nn model (with "
                        f"named_parameters()), got {type(model).__name__}")
    sums: dict[int, list[float]] = {}
    for name, parameter in named():
        match = PARAMETER_LABEL.match(name)
        if match and match.group(3) is not None:
            sums.setdefault(int(match.group(1)), []).append(abs(parameter.grad))
    if not sums:
        raise ValueError(f"{who}: the model has no weights labelled L{{l}}.N{{j}}.w{{k}} "
                         f"(as nn.MLP names them)")
    layers = sorted(sums)
    if layers != list(range(1, len(layers) + 1)):
        raise ValueError(f"{who}: the model's weights are in layers {layers}; expected "
                         f"1 … {len(layers)}")
    return [sum(sums[layer]) / len(sums[layer]) for layer in layers]


def _is_flow(x: Any) -> bool:
    """A model, or a list of per-layer numbers (already averaged, say over seeds)."""
    return callable(getattr(x, "named_parameters", None)) or (
        is_list(x) and bool(x) and all(is_number(v) for v in x))


def _model_label(model: Any, index: int) -> str:
    """A model's line in the legend: its hidden activation as the lessons name it
    (ReLU, sigmoid, tanh), its depth and whether residual; else ``model {index}``."""
    activation = getattr(model, "activation", None)
    layers = getattr(model, "layers", None)
    if isinstance(activation, str) and isinstance(layers, (list, tuple)):
        residual = ", residual" if getattr(model, "residual", False) else ""
        return f"{activation_name(activation)}, {len(layers)} layers{residual}"
    return f"model {index}"


def plot_gradient_flow(models: Any, *, ax: Axes | None = None,
                       labels: str | Sequence[str] | None = None) -> Figure:
    """The gradient reaching each layer: mean |∂L/∂W⁽ˡ⁾ⱼₖ| over layer l's weights
    (``layer_gradients``) against l, on a log scale, one labelled line per model —
    the lessons' vanishing-gradient curves.

    ``models``: one model after ``loss.backward()``, a list of them, or a
    ``{label: model}`` mapping; in place of a model, a list of per-layer numbers
    (e.g. ``layer_gradients`` averaged over seeds). ``labels`` names the lines
    (default: the activation, the depth and whether residual). A layer whose
    gradient is exactly 0 (every ReLU dead) has no point on the log scale; a line
    that is 0 everywhere says so in its label.
    Returns the Figure."""
    who = "plot_gradient_flow"
    _require_matplotlib(who)
    runs, _ = _runs(who, "model", models, labels, "labels", _is_flow)
    lines = []
    for index, (name, run) in enumerate(runs, 1):
        name = name if name is not None else _model_label(run, index)
        values = [float(v) for v in run] if is_list(run) else layer_gradients(run)
        if not all(math.isfinite(v) and v >= 0 for v in values):
            raise ValueError(f"{who}: {name!r}: the mean |gradients| must be finite and "
                             f"≥ 0, got {values}")
        if not any(values):                        # nothing to draw on a log scale: say so
            name += " (0 in every layer)"
        lines.append((name, values))
    if not any(v for _, values in lines for v in values):
        raise ValueError(f"{who}: every gradient is 0: run loss.backward() first (or every "
                         f"unit is dead)")
    ax = _axes(who, ax, (6.4, 4.2))
    for name, values in lines:
        ax.plot(range(1, len(values) + 1), values, marker="o", markersize=3.5, linewidth=2,
                label=name)
    ax.set_yscale("log")
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.set_xlabel("layer $l$  (1 = first hidden layer)")
    ax.set_ylabel(r"mean $|\partial L/\partial W^{(l)}_{jk}|$")
    ax.grid(True, which="major", alpha=0.3)
    if not ax.get_title():
        ax.set_title("gradient reaching each layer")
    ax.legend(fontsize="small", framealpha=0.9)
    return ax.figure
