"""Losses: how wrong a prediction is, as a Value to call ``backward()`` on.

Each loss takes a prediction (one Value, or a list of Values: one per example or
per output, nested lists allowed) and targets of the same shape, and reduces the
per-element terms:

* ``reduction="mean"`` (as PyTorch): the sum divided by the number of elements,
  outputs × examples — a 2-output network on 3 examples divides by 6;
* ``reduction="sum"``: the sum over everything;
* ``reduction="batchmean"``: the lessons' "sum over outputs, mean over examples",
  the sum divided by the number of examples, ``len(pred)`` (PyTorch's ``batchmean``;
  a single Value is one example). For one example of several outputs pass
  ``reduction="sum"``: a flat list counts as a list of examples.

A target is a number or a Value. A number becomes a named constant, a leaf that
diagrams show with its name and value and no gradient: ``y1`` for the target of
the nn output ŷ₁ (labelled ``L{l}.N1.a`` or ``.z``; ``y`` when the network has one
output), else ``y`` for one target and ``y1``, ``y2``, … by position; so ``explain``
writes 2·(ŷ − y), not 2·(ŷ − 0.9). The formulas are written so that no term overflows:

* ``mse``:  (ŷ − y)², or the lessons' ½(ŷ − y)² with ``half=True`` (so that
  ∂L/∂ŷ = ŷ − y, without the 2)
* ``bce``:  −y log p − (1 − y) log(1 − p), for probabilities p (a sigmoid output)
* ``bce_with_logits``: the same on logits z, p = σ(z), as
  max(z, 0) − z·y + log(1 + e^−|z|), finite for z = ±1000 (prefer it to ``bce``)
* ``hinge``: max(0, 1 − y·ŷ) with y ∈ {−1, +1} (micrograd's max-margin loss)
* ``softmax_cross_entropy``: −log softmax(z)_y = log Σ_k e^(z_k − m) + m − z_y with
  m = max_k z_k, for class indices y

Every loss is made of Value ops only, with no Python ``if`` on a Value's data, so
a graph compiled with ``engine.compile`` (``fit(compile=True)``) computes the same
loss at new parameters: its branches are ReLU's, which the program decides again
on every call (max(z, 0) = ReLU(z), −|z| = z − 2·ReLU(z)). softmax_cross_entropy's
shift m is a plain number, fixed when the graph is built: any m gives the same
value and gradient (∂m/∂z is not part of the formula), m only keeps e^(z − m) in
range.

Each loss has a PyTorch twin that gives the same value and gradients on the same
batch (``nn.torch_loss(loss)`` makes it): ``mse`` ↔ ``torch.nn.MSELoss``, ``bce`` ↔
``BCELoss``, ``bce_with_logits`` ↔ ``BCEWithLogitsLoss``, ``softmax_cross_entropy`` ↔
``CrossEntropyLoss``, ``hinge`` ↔ ``nn.interop.HingeLoss`` (written out in torch ops).
The twins take ``"mean"`` and ``"sum"``; PyTorch has no ``batchmean`` for these
losses (use ``"sum"`` divided by the batch size).
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Sequence, Union

from engine import Constant, Value

from .checks import check_reduction, count, is_list, is_number, one_target

__all__ = ["mse", "bce", "bce_with_logits", "hinge", "softmax_cross_entropy", "LOSSES",
           "OUTPUTS", "as_loss", "reads_as"]

Number = Union[int, float]
Prediction = Union[Value, Number, Sequence[Any]]
Target = Union[Number, Value, Sequence[Any]]
_OUTPUT_LABEL = re.compile(r"^L\d+\.N(\d+)\.[az]$")


def _targets_found(t: Any) -> str:
    """How a mismatched target reads in an error: "3 targets", "a list of 2 lists
    of targets" or "target 0.5"."""
    if not is_list(t):
        return f"target {t!r}"
    if t and all(is_list(row) for row in t):
        return f"a list of {count(len(t), 'list')} of targets"
    return count(len(t), "target")


def _pairs(pred: Prediction, target: Target, who: str,
           reduction: str) -> list[tuple[Value, Value]]:
    """(prediction, target) element pairs of two equally nested structures (after
    checking ``reduction``, which every loss takes), each target a Value: a number
    becomes a named constant (see the module docstring)."""
    check_reduction(reduction, who)
    pairs: list[tuple[Value, float]] = []
    stack = [(pred, target, "")]
    while stack:
        p, t, where = stack.pop()
        if is_list(p):
            if not is_list(t) or len(t) != len(p):
                raise ValueError(f"{who}: {count(len(p), 'prediction')}"
                                 f"{f' at {where}' if where else ''} but "
                                 f"{_targets_found(t)}; "
                                 f"pred and target must have the same shape")
            stack.extend((pi, ti, f"{where}[{i}]") for i, (pi, ti) in
                         reversed(list(enumerate(zip(p, t)))))
            continue
        if isinstance(p, Value):
            value = p
        elif is_number(p):
            value = Value(p)
        else:
            raise TypeError(f"{who}: predictions must be Values or numbers, got "
                            f"{type(p).__name__} {p!r}{f' at {where}' if where else ''}")
        single = one_target(t)        # [y]: the one target of a model with one output
        if is_list(single):
            raise ValueError(f"{who}: one prediction{f' at {where}' if where else ''} but "
                             f"{_targets_found(t)}; pred "
                             f"and target must have the same shape (a model with one "
                             f"output gives one Value: its target is one number, or [y])")
        t = single
        if not is_number(t) and not isinstance(t, Value):
            raise TypeError(f"{who}: targets must be numbers or Values, got "
                            f"{type(t).__name__} {t!r}{f' at {where}' if where else ''}")
        pairs.append((value, t))
    if not pairs:
        raise ValueError(f"{who}: no predictions given")
    outputs = [_OUTPUT_LABEL.match(p.label) for p, _ in pairs]
    if all(outputs):                  # nn's outputs ŷ_j: targets y_j (y for one output)
        indices = [match.group(1) for match in outputs]         # type: ignore[union-attr]
        labels = ["y" if set(indices) == {"1"} else f"y{j}" for j in indices]
    else:                             # y for one target, else y1, y2, … by position
        labels = ["y"] if len(pairs) == 1 else [f"y{i}" for i in range(1, len(pairs) + 1)]
    return [(p, t if isinstance(t, Value) else Constant(t, label))
            for (p, t), label in zip(pairs, labels)]


def _examples(pred: Prediction) -> int:
    """How many examples ``batchmean`` averages over: the length of the first axis."""
    return len(pred) if is_list(pred) else 1


def _probability_pairs(pred: Prediction, target: Target, who: str,
                       reduction: str) -> list[tuple[Value, Value]]:
    """``_pairs`` for the binary cross-entropies, whose targets lie in [0, 1]."""
    pairs = _pairs(pred, target, who, reduction)
    for _, y in pairs:
        if not 0.0 <= y.data <= 1.0:
            raise ValueError(f"{who}: targets must lie in [0, 1], got {y.data!r}")
    return pairs


def _reduce(terms: list[Value], reduction: str, examples: int = 1) -> Value:
    """The mean, the sum or the sum over ``examples`` of the per-element terms,
    labelled L as in the lessons. A division by 1 is left out (no ÷ 1 node for
    diagrams to show)."""
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    divisor = {"mean": len(terms), "sum": 1, "batchmean": examples}[reduction]
    if divisor > 1:
        total = total / divisor
    total.label = "L"
    return total


def mse(pred: Prediction, target: Target, reduction: str = "mean", *,
        half: bool = False) -> Value:
    """Squared error (ŷ − y)² (with ``half=True`` the lessons' ½(ŷ − y)², whose
    ∂L/∂ŷ is ŷ − y), reduced over the elements (see the module docstring:
    ``"mean"`` divides by outputs × examples).
    PyTorch twin: ``torch.nn.MSELoss`` (``half=True`` is half of it)."""
    if not isinstance(half, bool):
        raise TypeError(f"mse: half must be a bool, got {type(half).__name__} {half!r}")
    terms = [(p - t) ** 2 for p, t in _pairs(pred, target, "mse", reduction)]
    if half:
        terms = [0.5 * term for term in terms]
    return _reduce(terms, reduction, _examples(pred))


def bce(pred: Prediction, target: Target, reduction: str = "mean") -> Value:
    """Binary cross-entropy −y log p − (1 − y) log(1 − p) for probabilities p ∈ (0, 1)
    and targets y ∈ [0, 1]. With p = σ(z): ∂L/∂z = p − y.

    A probability of exactly 0 or 1 on the wrong side is an infinite loss: a
    ValueError that points to ``bce_with_logits``, which never saturates.
    PyTorch twin: ``torch.nn.BCELoss``."""
    who = "bce"
    terms = []
    for p, target_value in _probability_pairs(pred, target, who, reduction):
        y = target_value.data
        if not 0.0 <= p.data <= 1.0:
            raise ValueError(f"{who}: {p.data!r} is not a probability (they lie in [0, 1]); "
                             f"for raw scores (logits) use bce_with_logits")
        if (y != 0.0 and p.data <= 0.0) or (y != 1.0 and p.data >= 1.0):
            raise ValueError(
                f"{who}: the probability {p.data!r} with target {y:g} gives an infinite "
                f"loss (log 0); probabilities must lie in (0, 1). A sigmoid output "
                f"saturates for large |z|: use bce_with_logits on z instead")
        term = None
        if y != 0.0:
            term = -target_value * p.log()
        if y != 1.0:
            rest = -(1.0 - target_value) * (1.0 - p).log()
            term = rest if term is None else term + rest
        terms.append(term)
    return _reduce(terms, reduction, _examples(pred))


def bce_with_logits(pred: Prediction, target: Target, reduction: str = "mean") -> Value:
    """Binary cross-entropy on logits z (p = σ(z)), stable for any finite z:
    ReLU(z) − z·y + log(1 + e^(z − 2·ReLU(z))), which is max(z, 0) − z·y +
    log(1 + e^−|z|). ∂L/∂z = σ(z) − y, also at z = 0.
    PyTorch twin: ``torch.nn.BCEWithLogitsLoss``."""
    who = "bce_with_logits"
    terms = []
    for z, y in _probability_pairs(pred, target, who, reduction):
        # No Python branch on z.data: engine.compile would freeze it. ReLU decides
        # again on every call, and z − 2·ReLU(z) = −|z| exactly (2·r and z − 2r are
        # exact in floating point), with derivative 1 at z = 0, so ∂/∂z = ½ − y there.
        r = z.relu()
        term = r + (1.0 + (z - 2.0 * r).exp()).log()
        if y.data != 0.0:
            term = term - z * y
        terms.append(term)
    return _reduce(terms, reduction, _examples(pred))


def hinge(pred: Prediction, target: Target, reduction: str = "mean") -> Value:
    """Max-margin loss max(0, 1 − y·ŷ) with labels y ∈ {−1, +1}: zero once a score
    is on the right side with a margin of 1. PyTorch has no such module (its
    HingeEmbeddingLoss is another formula); its twin ``nn.interop.HingeLoss`` is this
    formula in torch ops."""
    who = "hinge"
    terms = []
    for s, y in _pairs(pred, target, who, reduction):
        if y.data not in (-1.0, 1.0):
            raise ValueError(f"{who}: targets must be −1 or +1, got {y.data!r} "
                             f"(for 0/1 labels use 2·y − 1)")
        terms.append((1.0 - y * s).relu())
    return _reduce(terms, reduction, _examples(pred))


def _class_index(target: Any, classes: int, who: str) -> int:
    if isinstance(target, bool) or not isinstance(target, int):
        raise TypeError(f"{who}: a target must be a class index (int), got "
                        f"{type(target).__name__} {target!r}")
    if not 0 <= target < classes:
        raise ValueError(f"{who}: class index {target} is out of range for {classes} logits")
    return target


def _cross_entropy(logits: Sequence[Any], target: Any, who: str) -> Value:
    """−log softmax(z)_y for one example."""
    if not is_list(logits) or not logits:
        raise ValueError(f"{who}: logits must be a non-empty list of Values, got {logits!r}")
    for raw in logits:
        if not isinstance(raw, Value) and not is_number(raw):
            raise TypeError(f"{who}: logits must be Values or numbers, got "
                            f"{type(raw).__name__} {raw!r}")
    z = [v if isinstance(v, Value) else Value(v) for v in logits]
    y = _class_index(target, len(z), who)
    m = max(v.data for v in z)
    if not math.isfinite(m):
        raise ValueError(f"{who}: logits must be finite, got a maximum of {m}")
    total = (z[0] - m).exp()
    for v in z[1:]:
        total = total + (v - m).exp()
    return total.log() + m - z[y]


def softmax_cross_entropy(logits: Sequence[Any], target: int | Sequence[int],
                          reduction: str = "mean") -> Value:
    """Cross-entropy of softmax(z) against class index y: log Σ_k e^(z_k) − z_y,
    computed with the largest logit m subtracted first so e^z never overflows (m is
    a plain number, not a node: any shift gives the same value and gradient).
    ∂L/∂z_k = softmax(z)_k − [k = y].

    One example: ``logits`` a list of Values and ``target`` an int. A batch: a list
    of such lists and a list of ints (averaged or summed).
    PyTorch twin: ``torch.nn.CrossEntropyLoss``."""
    who = "softmax_cross_entropy"
    check_reduction(reduction, who)
    if is_list(logits) and logits and is_list(logits[0]):
        if not is_list(target) or len(target) != len(logits):
            raise ValueError(f"{who}: {len(logits)} examples but {_targets_found(target)}; "
                             f"give one class index per example")
        terms = [_cross_entropy(z, y, who) for z, y in zip(logits, target)]
        return _reduce(terms, reduction, len(terms))
    return _cross_entropy(logits, target, who)


#: What a loss reads the model's output as, its ``output`` attribute, so that ``fit``
#: can tell the class a prediction says: ``"logits"`` (class 1 where z > 0; argmax of
#: several), ``"probabilities"`` (p > ½) or ``"labels"`` (an output aimed at the
#: labels themselves, 0/1 or ±1: the nearer one). A loss of your own may say too.
OUTPUTS = ("logits", "probabilities", "labels")
mse.output = "labels"                                      # type: ignore[attr-defined]
bce.output = "probabilities"                               # type: ignore[attr-defined]
bce_with_logits.output = "logits"                          # type: ignore[attr-defined]
hinge.output = "labels"        # ±1, class +1 where ŷ > 0    # type: ignore[attr-defined]
softmax_cross_entropy.output = "logits"                    # type: ignore[attr-defined]

#: The losses by name (``fit(..., loss="mse")`` accepts a name).
LOSSES = {f.__name__: f for f in (mse, bce, bce_with_logits, hinge, softmax_cross_entropy)}


def as_loss(loss: Any, who: str) -> Callable[..., Value]:
    """``loss`` as a function ``loss(prediction, target)``: a loss function as it is,
    a name (``"mse"``) as the loss of :data:`LOSSES` it names. ``who`` is the function
    the user called, named in the error for an unknown name or another type."""
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"{who}: unknown loss {loss!r}; one of {', '.join(LOSSES)}")
        return LOSSES[loss]
    if not callable(loss):
        raise TypeError(f"{who}: loss must be callable (a loss function such as nn.mse, or "
                        f"functools.partial(nn.mse, half=True)) or a loss's name, "
                        f"got {type(loss).__name__}")
    output = reads_as(loss)
    if output is not None and output not in OUTPUTS:
        raise ValueError(f"{who}: the loss's output must be one of "
                         f"{', '.join(map(repr, OUTPUTS))} (what it reads the model's output "
                         f"as), got {output!r}")
    return loss


def reads_as(loss: Callable[..., Any]) -> Any:
    """What ``loss`` reads the model's output as, its ``output`` (one of
    :data:`OUTPUTS`), also through a ``functools.partial``; None when it does not say."""
    output = getattr(loss, "output", None)
    if output is None:
        output = getattr(getattr(loss, "func", None), "output", None)
    return output
