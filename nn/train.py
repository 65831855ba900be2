"""The training loop: ``fit``, ``predict``, ``accuracy`` and the ``History`` it returns.

One step is the lessons' loop: forward every example of a batch, the loss, ``backward``,
``optimizer.step()``. A loss that becomes NaN or infinite (or a parameter that
does) stops training with a ``DivergenceError`` naming the epoch: almost always a
learning rate that is too large.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence, Union

from engine import NonFiniteError, Value, no_grad, order
from engine import compile as compile_graph

from .checks import as_rows, check_int, count, first_non_finite, is_number, one_target
from .losses import as_loss, reads_as
from .rng import Seed, as_rng

__all__ = ["fit", "predict", "accuracy", "History", "DivergenceError"]

Number = Union[int, float]
Loss = Callable[[Any, Any], Value]


class DivergenceError(NonFiniteError):
    """Training produced a NaN or an infinity (in the loss or in a parameter)."""


@dataclass
class History:
    """What ``fit`` saw, one entry per epoch: the mean loss over the epoch's
    examples and the accuracy of the predictions made during the epoch (each
    before its batch's step), or None when the targets are not class labels."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.loss)


def _data(prediction: Any) -> Any:
    """A prediction as floats (a Value's data, or a list of them)."""
    if isinstance(prediction, Value):
        return prediction.data
    if isinstance(prediction, (list, tuple)):
        return [_data(p) for p in prediction]
    if is_number(prediction):
        return float(prediction)
    raise TypeError(f"expected a Value, a number or a list of them, got "
                    f"{type(prediction).__name__} {prediction!r}")


def predict(model: Callable[[Any], Any], X: Sequence[Any]) -> list[Any]:
    """The model's output for every example of ``X`` as plain floats (a float per
    example, or a list for a model with several outputs), computed under
    ``no_grad()`` so no graph is kept."""
    if not callable(model):
        raise TypeError(f"predict: model must be callable, got {type(model).__name__}")
    with no_grad():
        return [_data(model(x)) for x in X]


def _binary_labels(targets: Sequence[Any]) -> tuple[float, float] | None:
    """(low, high) for 0/1 or −1/+1 targets, else None."""
    values = set(targets)
    if values <= {0, 1}:
        return 0.0, 1.0
    if values <= {-1, 1}:
        return -1.0, 1.0
    return None


def accuracy(predictions: Sequence[Any], targets: Sequence[Any],
             threshold: float | None = None) -> float:
    """The fraction of examples classified right.

    * One number per example (binary): targets in {0, 1} or {−1, +1}; the
      prediction says the higher label when it is above ``threshold`` (default: the
      midpoint of the labels, 0.5 for a probability, 0 for a ±1 score; pass 0 for
      logits with 0/1 targets).
    * A list per example (several classes): targets are class indices and the
      prediction is the index of the largest output (argmax).

    Predictions may be Values or floats (see ``predict``)."""
    who = "accuracy"
    predictions = as_rows(predictions, who, "predictions")
    targets = as_rows(targets, who, "targets")
    if len(predictions) != len(targets):
        raise ValueError(f"{who}: {count(len(predictions), 'prediction')} but "
                         f"{count(len(targets), 'target')}")
    if not predictions:
        raise ValueError(f"{who}: no predictions given")
    outputs = [_data(p) for p in predictions]
    if isinstance(outputs[0], list):
        right = 0
        for out, t in zip(outputs, targets):
            if not isinstance(out, list) or not out:
                raise ValueError(f"{who}: every prediction must be a list of class scores")
            if isinstance(t, bool) or not isinstance(t, int) or not 0 <= t < len(out):
                raise ValueError(f"{who}: a target must be a class index in "
                                 f"0 … {len(out) - 1}, got {t!r}")
            right += max(range(len(out)), key=out.__getitem__) == t
        return right / len(outputs)
    targets = [one_target(t) for t in targets]  # one output: [y] is y (a column of targets)
    for t in targets:
        if not is_number(t):
            raise TypeError(f"{who}: targets must be numbers, got {type(t).__name__} {t!r}")
    labels = _binary_labels(targets)
    if labels is None:
        raise ValueError(f"{who}: one output per example needs binary targets in {{0, 1}} "
                         f"or {{−1, +1}}, got {sorted(set(targets))[:6]}")
    low, high = labels
    cut = (low + high) / 2 if threshold is None else threshold
    right = sum((high if out > cut else low) == t for out, t in zip(outputs, targets))
    return right / len(outputs)


def _classification(targets: Sequence[Any], vector_outputs: bool) -> bool:
    """Whether the targets are class labels accuracy can be measured against."""
    if vector_outputs:
        return all(isinstance(t, int) and not isinstance(t, bool) for t in targets)
    targets = [one_target(t) for t in targets]
    return all(is_number(t) for t in targets) and _binary_labels(targets) is not None


def _diverged(epoch: int, epochs: int, batch: int, batches: int, what: str,
              optimizer: Any) -> DivergenceError:
    lr = getattr(optimizer, "lr", None)
    advice = (f"the learning rate (lr={lr:g}) is probably too large: try a smaller one "
              f"(e.g. lr={lr / 10:g})" if is_number(lr) else
              "the learning rate is probably too large: try a smaller one")
    where = f"epoch {epoch} of {epochs}" + (f", batch {batch} of {batches}" if batches > 1 else "")
    return DivergenceError(f"fit: training diverged at {where}: {what}; {advice}, "
                           f"or clip the gradients with nn.clip_grad_norm")


def fit(model: Callable[[Any], Any], X: Sequence[Any], y: Sequence[Any],
        loss: Loss | str, optimizer: Any, epochs: int, batch_size: int | None = None,
        progress: bool = True, *, seed: Seed = None, compile: bool = False) -> History:
    """Train ``model`` on (X, y) for ``epochs`` passes and return the ``History``.

    Each step: ``optimizer.zero_grad()``, the model on every example of a batch,
    ``loss(predictions, targets)`` (a callable such as ``nn.mse``, or its name),
    ``backward()``, ``optimizer.step()``. Without ``batch_size`` each epoch is one
    step on all of X (full-batch gradient descent); with it the examples are
    shuffled every epoch (by ``seed``) and cut into mini-batches.

    ``progress=True`` shows a tqdm bar with the loss (and accuracy). A NaN or
    infinite loss or parameter raises ``DivergenceError`` naming the epoch.

    ``compile=True`` (full batch only) builds the loss graph over all of X once,
    compiles it with ``engine.compile`` (parameters as inputs, data frozen) and
    trains through the program: same numbers, many times faster per epoch. The
    program re-decides only the engine's own branches (ReLU); a Python ``if`` on a
    Value's ``.data`` in a custom model or loss is frozen at build time, so the
    program would train another function. The built-in losses and modules have
    none; a custom one must branch with Value ops (max(z, 0) = ``z.relu()``). As a
    guard, fit rebuilds the loss once more at the end and raises a ValueError if
    the compiled loss disagrees with it (a branch that flipped and flipped back
    goes unseen). softmax_cross_entropy's shift by the largest logit is frozen too
    (exact for any shift), so logits that drift by more than ~700 from their
    first values raise an error (e^z overflows or log 0) where eager would not."""
    run = _Training.checked(model, X, y, loss, optimizer, epochs, batch_size, seed, compile)
    bar = _progress_bar(epochs) if progress else None
    history = History()
    try:
        for epoch in range(1, epochs + 1):
            run.record(history, *run.epoch(epoch))
            if bar is not None:
                _show(bar, history)
    finally:
        if bar is not None:
            bar.close()
    if run.program is not None:
        run.program.verify(run.who)
    return history


@dataclass
class _Training:
    """One call of ``fit``: what it trains, with what, and in which order.

    ``epoch`` runs one pass over X in steps (``step``); ``record`` adds the pass to
    the History. ``program`` is the compiled loss of ``compile=True``, else None."""

    model: Callable[[Any], Any]
    X: Sequence[Any]
    y: Sequence[Any]
    loss: Loss
    optimizer: Any
    epochs: int
    size: int                                 # examples per step
    params: Sequence[Value] | None            # the optimizer's, checked after each step
    rng: Any                                  # shuffles each epoch (mini-batches only)
    program: _CompiledLoss | None
    who: str = "fit"
    indices: list[int] = field(default_factory=list)
    measure: bool | None = None               # accuracy? decided on the first predictions

    @classmethod
    def checked(cls, model: Any, X: Any, y: Any, loss: Any, optimizer: Any, epochs: Any,
                batch_size: Any, seed: Seed, compile: bool) -> _Training:
        """The training ``fit`` was asked for, every argument checked (and, with
        ``compile``, the loss graph built and compiled)."""
        who = "fit"
        if not callable(model):
            raise TypeError(f"{who}: model must be callable, got {type(model).__name__}")
        loss = as_loss(loss, who)
        if isinstance(optimizer, type):
            raise TypeError(f"{who}: optimizer must be an optimizer made for the model's "
                            f"parameters, e.g. nn.SGD(model.parameters(), lr=0.1), not the "
                            f"class {optimizer.__name__}")
        for method in ("zero_grad", "step"):
            if not callable(getattr(optimizer, method, None)):
                raise TypeError(f"{who}: optimizer must have {method}() (e.g. nn.SGD), "
                                f"got {type(optimizer).__name__}")
        X, y = as_rows(X, who, "X"), as_rows(y, who, "y")
        for name, data in (("X", X), ("y", y)):
            bad = first_non_finite(data)
            if bad is not None:
                raise ValueError(f"{who}: {name}{bad[0]} is {bad[1]}: every example and "
                                 f"target must be a finite number (a missing value in the "
                                 f"data?)")
        params = optimizer.params if hasattr(optimizer, "params") else None
        own = getattr(model, "parameters", None)
        if params is not None and callable(own) and own() and set(params).isdisjoint(own()):
            raise ValueError(f"{who}: the optimizer updates none of the model's parameters: "
                             f"make it with this model's, e.g. nn.Adam(model.parameters())")
        if len(X) != len(y):
            raise ValueError(f"{who}: {count(len(X), 'example')} in X but "
                             f"{count(len(y), 'target')} in y")
        if not X:
            raise ValueError(f"{who}: X is empty")
        check_int(epochs, who, "epochs")
        size = len(X) if batch_size is None else check_int(batch_size, who, "batch_size")
        rng = as_rng(seed, who) if batch_size is not None else None
        program = None
        if compile:
            if batch_size is not None:
                raise ValueError(f"{who}: compile=True trains on all of X at once (one "
                                 f"graph, compiled once); drop batch_size")
            if params is None:
                raise TypeError(f"{who}: compile=True needs an optimizer with .params "
                                f"(e.g. nn.SGD)")
            program = _CompiledLoss(model, X, y, loss, params, who)
        return cls(model, X, y, loss, optimizer, epochs, size, params, rng, program, who,
                   indices=list(range(len(X))))

    @property
    def batches(self) -> int:
        return math.ceil(len(self.X) / self.size)

    def epoch(self, epoch: int) -> tuple[float, list[Any], list[Any]]:
        """One pass over X: the mean loss, and every prediction (as floats) with its
        target, each prediction made before its batch's step."""
        if self.rng is not None:
            self.rng.shuffle(self.indices)
        total = 0.0
        predictions: list[Any] = []
        targets: list[Any] = []
        for b in range(self.batches):
            chunk = self.indices[b * self.size:(b + 1) * self.size]
            chunk_targets = [self.y[i] for i in chunk]
            value, chunk_predictions = self.step(chunk, chunk_targets, epoch, b + 1)
            total += value.data * len(chunk)
            predictions.extend(_data(p) for p in chunk_predictions)
            targets.extend(chunk_targets)
        return total / len(self.X), predictions, targets

    def step(self, chunk: list[int], targets: list[Any], epoch: int,
             batch: int) -> tuple[Value, list[Any]]:
        """One optimizer step on the examples ``chunk``: the loss and the predictions
        it was computed from. A NaN or infinity is a DivergenceError."""
        self.optimizer.zero_grad()
        try:
            if self.program is not None:              # gradients land in p.grad
                value, predictions = self.program.step()
            else:
                predictions = [self.model(self.X[i]) for i in chunk]
                value = self.loss(predictions, targets)
            if not isinstance(value, Value):
                raise TypeError(f"{self.who}: the loss must return a Value, "
                                f"got {type(value).__name__}")
            if not math.isfinite(value.data):
                raise self.diverged(epoch, batch, f"the loss is {value.data}")
            if self.program is None:
                value.backward()
        except OverflowError as error:
            raise self.diverged(epoch, batch, f"a number overflowed ({error})") from error
        self.optimizer.step()
        if self.params is not None:
            bad = next((p for p in self.params if not math.isfinite(p.data)), None)
            if bad is not None:
                raise self.diverged(epoch, batch, f"the step made {bad.label or 'a parameter'} "
                                                  f"{bad.data}")
        return value, predictions

    def diverged(self, epoch: int, batch: int, what: str) -> DivergenceError:
        """The error for training that diverged at this epoch and batch."""
        return _diverged(epoch, self.epochs, batch, self.batches, what, self.optimizer)

    def record(self, history: History, mean_loss: float, predictions: list[Any],
               targets: list[Any]) -> None:
        """Add one epoch to ``history``: its mean loss and, when the targets are class
        labels, the accuracy of its predictions."""
        if self.measure is None:
            self.measure = _classification(targets, isinstance(predictions[0], list))
        threshold = 0.0 if reads_as(self.loss) == "logits" else None   # else the labels' midpoint
        history.loss.append(mean_loss)
        history.accuracy.append(accuracy(predictions, targets, threshold)
                                if self.measure else None)


def _show(bar: Any, history: History) -> None:
    """Advance the progress bar by one epoch, showing its loss (and accuracy)."""
    shown = {"loss": f"{history.loss[-1]:.4f}"}
    if history.accuracy[-1] is not None:
        shown["acc"] = f"{history.accuracy[-1]:.0%}"
    bar.set_postfix(shown, refresh=False)
    bar.update(1)


class _CompiledLoss:
    """``fit(compile=True)``: the loss over all of X, built once and compiled with
    the parameters as inputs and the predictions as extra outputs."""

    def __init__(self, model: Callable[[Any], Any], X: Sequence[Any], y: Sequence[Any],
                 loss: Loss, params: Sequence[Value], who: str) -> None:
        self.model, self.X, self.y, self.loss = model, X, list(y), loss
        predictions = [model(x) for x in X]
        value = loss(predictions, self.y)
        if not isinstance(value, Value):
            raise TypeError(f"{who}: the loss must return a Value, got {type(value).__name__}")
        self.sizes = [len(p) if isinstance(p, (list, tuple)) else None for p in predictions]
        flat = [v for p in predictions for v in (p if isinstance(p, (list, tuple)) else [p])]
        in_graph = set(order(value))
        self.params = [p for p in params if p in in_graph]   # a parameter unused gets 0
        # Predictions in the graph come back from the program; any other is a number.
        self.tracked = [isinstance(v, Value) and v in in_graph for v in flat]
        self.fixed = [None if t else _data(v) for t, v in zip(self.tracked, flat)]
        self.program = compile_graph(value, self.params,
                                     extra=[v for t, v in zip(self.tracked, flat) if t])
        release = getattr(model, "release_graph", None)
        if callable(release):                  # the program never updates neuron.z's δ
            release()

    def verify(self, who: str) -> None:
        """A ValueError if the program's loss at the current parameters is not the
        loss the model and the loss function compute now: the sign that a Python
        ``if`` on a Value's data was frozen when the graph was built."""
        compiled, _grads, *_ = self.program.value_and_grad([p.data for p in self.params])
        with no_grad():
            eager = self.loss([self.model(x) for x in self.X], self.y)
        eager = eager.data if isinstance(eager, Value) else eager
        if not math.isclose(compiled, eager, rel_tol=1e-9, abs_tol=1e-12):
            raise ValueError(
                f"{who}: compile=True trained on a different loss than the model and the "
                f"loss compute: at the final parameters the compiled program gives "
                f"{compiled!r} but building the graph again gives {eager!r}. The model or "
                f"the loss decides something with a Python `if` on a Value's .data, which "
                f"compile freezes when it builds the graph; write the branch with Value "
                f"ops (relu, …) or train with compile=False")

    def step(self) -> tuple[Value, list[Any]]:
        """The loss (a leaf Value) and the predictions at the current parameters;
        ∂loss/∂p is added to each ``p.grad``, as ``backward()`` would."""
        out, grads, *extra = self.program.value_and_grad([p.data for p in self.params])
        for p, g in zip(self.params, grads):
            p.grad += g
        computed = iter(extra[0] if extra else ())
        flat = [next(computed) if t else x for t, x in zip(self.tracked, self.fixed)]
        predictions, i = [], 0
        for n in self.sizes:
            predictions.append(flat[i] if n is None else flat[i:i + n])
            i += 1 if n is None else n
        return Value(out), predictions


def _progress_bar(epochs: int) -> Any:
    """A tqdm bar over the epochs, or None (with a warning) if tqdm is missing."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        warnings.warn("fit: tqdm is not installed, so there is no progress bar "
                      "(pip install tqdm, or pass progress=False)", stacklevel=3)
        return None
    return tqdm(total=epochs, desc="fit", unit="epoch")
