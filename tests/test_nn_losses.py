"""Losses: values from their textbook formulas, gradients against central
differences (engine.numerical_grad) and the hand results of the lessons, stability
at extreme logits, and PyTorch's own losses on the same numbers when installed."""

from __future__ import annotations

import math
import random

import pytest

from engine import Value, numerical_grad
from nn import bce, bce_with_logits, hinge, losses, mse, softmax_cross_entropy


def _values(numbers):
    return [Value(x) for x in numbers]


def _sigmoid(z):
    """σ(z), written so that e^x never overflows (for the extreme-logit tests)."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    return math.exp(z) / (1.0 + math.exp(z))


PRED = [0.3, -1.2, 2.5, 0.0, 0.9]
TARGET = [0.0, 1.0, 2.0, -0.5, 1.0]
PROB = [0.2, 0.7, 0.95, 0.5, 0.01]
LABEL01 = [0.0, 1.0, 1.0, 0.0, 0.3]                 # soft labels are allowed
LABELPM = [1.0, -1.0, 1.0, -1.0, 1.0]


# ---- values from the formulas ----------------------------------------------------------------
def test_mse_mean_and_sum():
    squared = [(p - t) ** 2 for p, t in zip(PRED, TARGET)]
    assert mse(_values(PRED), TARGET).data == pytest.approx(sum(squared) / 5, rel=1e-15)
    assert mse(_values(PRED), TARGET, reduction="sum").data == pytest.approx(sum(squared))
    assert mse(Value(3.0), 1.0).data == 4.0


def test_bce_value():
    terms = [-(y * math.log(p) + (1 - y) * math.log(1 - p)) for p, y in zip(PROB, LABEL01)]
    assert bce(_values(PROB), LABEL01).data == pytest.approx(sum(terms) / 5, rel=1e-14)


def test_bce_with_logits_equals_bce_of_the_sigmoid():
    for z, y in zip(PRED, LABEL01):
        p = _sigmoid(z)
        expected = -(y * math.log(p) + (1 - y) * math.log(1 - p))
        assert bce_with_logits(Value(z), y).data == pytest.approx(expected, rel=1e-13)


def test_hinge_value():
    expected = [max(0.0, 1 - y * s) for s, y in zip(PRED, LABELPM)]
    assert hinge(_values(PRED), LABELPM, reduction="sum").data == pytest.approx(sum(expected))


def test_softmax_cross_entropy_value():
    logits = [1.0, -0.5, 2.0, 0.3]
    total = sum(math.exp(z) for z in logits)
    for y in range(4):
        expected = -math.log(math.exp(logits[y]) / total)
        assert softmax_cross_entropy(_values(logits), y).data == pytest.approx(expected, rel=1e-14)


def test_softmax_cross_entropy_batch_averages_examples():
    batch = [[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]
    targets = [1, 0]
    each = [softmax_cross_entropy(_values(z), t).data for z, t in zip(batch, targets)]
    batch_values = [_values(z) for z in batch]
    assert softmax_cross_entropy(batch_values, targets).data == pytest.approx(sum(each) / 2)
    assert softmax_cross_entropy(batch_values, targets, reduction="sum").data == \
        pytest.approx(sum(each))


def test_nested_predictions_are_flattened():
    pred = [_values([1.0, 2.0]), _values([3.0, 4.0])]
    assert mse(pred, [[0.0, 0.0], [0.0, 0.0]]).data == pytest.approx((1 + 4 + 9 + 16) / 4)


# ---- gradients ---------------------------------------------------------------------------------
CASES = {
    "mse": (mse, PRED, TARGET),
    "bce": (bce, PROB, LABEL01),
    "bce_with_logits": (bce_with_logits, PRED, LABEL01),
    "hinge": (hinge, [0.3, -1.2, 2.5, 0.1, 0.4], LABELPM),   # away from the kink at 1
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_gradients_agree_with_finite_differences(name, reduction):
    loss, points, targets = CASES[name]
    pred = _values(points)
    out = loss(pred, targets, reduction=reduction)
    out.backward()
    numeric = numerical_grad(lambda *p: loss(list(p), targets, reduction=reduction), points)
    for p, expected in zip(pred, numeric):
        assert p.grad == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_softmax_cross_entropy_gradient_is_softmax_minus_one_hot():
    logits = [0.4, -1.3, 2.2, 0.0]
    z = _values(logits)
    softmax_cross_entropy(z, 2).backward()
    total = sum(math.exp(v) for v in logits)
    for k, v in enumerate(z):
        assert v.grad == pytest.approx(math.exp(logits[k]) / total - (k == 2), rel=1e-12)
    numeric = numerical_grad(lambda *v: softmax_cross_entropy(list(v), 2), logits)
    assert [v.grad for v in z] == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_the_lessons_sigmoid_neuron_with_bce():
    """LESSONS.md result 1: ∂L/∂w = (a − y)·x and ∂L/∂b = a − y."""
    w, b, x, y = Value(0.8), Value(-0.3), 1.7, 1.0
    a = (w * x + b).sigmoid()
    bce(a, y).backward()
    assert w.grad == pytest.approx((a.data - y) * x, rel=1e-12)
    assert b.grad == pytest.approx(a.data - y, rel=1e-12)
    w2, b2 = Value(0.8), Value(-0.3)
    bce_with_logits(w2 * x + b2, y).backward()
    assert (w2.grad, b2.grad) == pytest.approx((w.grad, b.grad), rel=1e-12)


# ---- stability -------------------------------------------------------------------------------
@pytest.mark.parametrize("z, y", [(1000.0, 0.0), (1000.0, 1.0), (-1000.0, 0.0),
                                  (-1000.0, 1.0), (40.0, 0.0), (-745.0, 1.0)])
def test_bce_with_logits_is_finite_at_extreme_logits(z, y):
    logit = Value(z)
    out = bce_with_logits(logit, y)
    out.backward()
    # exact: softplus(z) − z·y, and ∂/∂z = σ(z) − y
    softplus = max(z, 0.0) + math.log1p(math.exp(-abs(z)))
    assert out.data == pytest.approx(softplus - z * y, rel=1e-12, abs=1e-300)
    assert logit.grad == pytest.approx(_sigmoid(z) - y, abs=1e-15)


def test_softmax_cross_entropy_is_finite_at_huge_logits():
    z = _values([1000.0, -1000.0, 999.0])
    out = softmax_cross_entropy(z, 2)
    out.backward()
    # −log softmax_3 = log(e^1000 + e^−1000 + e^999) − 999 = log(e + 1 + e^−1999)
    assert out.data == pytest.approx(math.log(math.e + 1.0), rel=1e-12)
    assert z[0].grad == pytest.approx(1 / (1 + math.exp(-1)), rel=1e-12)
    assert z[1].grad == 0.0


def test_bce_on_a_saturated_probability_points_to_bce_with_logits():
    with pytest.raises(ValueError, match="use bce_with_logits"):
        bce(Value(1.0), 0.0)
    assert bce(Value(1.0), 1.0).data == 0.0       # log(1) on the right side is fine


@pytest.mark.parametrize("p, y", [(1.5, 1.0), (1.5, 0.0), (-0.2, 0.0), (-0.2, 1.0)])
def test_bce_refuses_a_prediction_that_is_no_probability(p, y):
    # −log 1.5 < 0 would be a negative "loss": a logit passed by mistake, say so
    with pytest.raises(ValueError, match=f"bce: {p!r} is not a probability.*bce_with_logits"):
        bce(Value(p), y)


# ---- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, message", [
    (lambda: mse(_values([1.0, 2.0]), [1.0]), ValueError, "mse: 2 predictions but 1 target;"),
    (lambda: mse(Value(1.0), [1.0, 2.0]), ValueError,
     r"mse: one prediction but 2 targets; pred and target must have the same shape \(a model "
     r"with one output gives one Value: its target is one number, or \[y\]\)"),
    (lambda: mse([Value(1.0)], [[1.0, 2.0]]), ValueError,
     r"mse: one prediction at \[0\] but 2 targets"),
    (lambda: mse(Value(1.0), [[1.0]]), ValueError,
     r"mse: one prediction but a list of 1 list of targets;"),
    (lambda: mse([[Value(1.0)], [Value(2.0)]], [1.0, 2.0]), ValueError,
     r"mse: 1 prediction at \[0\] but target 1\.0;"),
    (lambda: mse(Value(1.0), "a"), TypeError, "mse: targets must be numbers"),
    (lambda: mse(["a"], [1.0]), TypeError, "mse: predictions must be Values or numbers"),
    (lambda: mse([], []), ValueError, "mse: no predictions"),
    (lambda: mse(Value(1.0), 1.0, reduction="none"), ValueError, "reduction must be"),
    (lambda: bce(Value(0.5), 2.0), ValueError, r"bce: targets must lie in \[0, 1\]"),
    (lambda: hinge(Value(0.5), 0.0), ValueError, "hinge: targets must be −1 or \\+1"),
    (lambda: softmax_cross_entropy(_values([1.0, 2.0]), 2), ValueError, "out of range"),
    (lambda: softmax_cross_entropy(_values([1.0, 2.0]), 1.0), TypeError, "class index"),
    (lambda: softmax_cross_entropy([_values([1.0])], [0, 0]), ValueError, "1 examples but 2"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_losses_are_exported_by_name():
    assert set(losses.LOSSES) == {"mse", "bce", "bce_with_logits", "hinge",
                                  "softmax_cross_entropy"}
    assert losses.mse is mse


# ---- PyTorch as the oracle -------------------------------------------------------------------
def _torch_case(rng, n=6):
    return ([rng.uniform(-3, 3) for _ in range(n)], [rng.random() for _ in range(n)],
            [rng.choice((-1.0, 1.0)) for _ in range(n)])


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_losses_agree_with_pytorch(seed, reduction):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = random.Random(seed)
    scores, soft, signs = _torch_case(rng)
    probs = [_sigmoid(s) for s in scores]
    cases = [
        (mse, scores, soft, lambda t, y: F.mse_loss(t, y, reduction=reduction)),
        (bce, probs, soft, lambda t, y: F.binary_cross_entropy(t, y, reduction=reduction)),
        (bce_with_logits, scores, soft,
         lambda t, y: F.binary_cross_entropy_with_logits(t, y, reduction=reduction)),
        (hinge, scores, signs,
         lambda t, y: getattr(torch.relu(1 - y * t), reduction)()),
    ]
    for ours, points, targets, theirs in cases:
        pred = _values(points)
        out = ours(pred, targets, reduction=reduction)
        out.backward()
        t = torch.tensor(points, dtype=torch.float64, requires_grad=True)
        reference = theirs(t, torch.tensor(targets, dtype=torch.float64))
        reference.backward()
        assert out.data == pytest.approx(reference.item(), rel=1e-12, abs=1e-15), ours.__name__
        assert [p.grad for p in pred] == pytest.approx(t.grad.tolist(), rel=1e-10, abs=1e-15)


@pytest.mark.parametrize("seed", range(5))
def test_softmax_cross_entropy_agrees_with_pytorch(seed):
    torch = pytest.importorskip("torch")
    rng = random.Random(seed)
    batch = [[rng.uniform(-5, 5) for _ in range(4)] for _ in range(3)]
    targets = [rng.randrange(4) for _ in range(3)]
    values = [_values(z) for z in batch]
    out = softmax_cross_entropy(values, targets)
    out.backward()
    t = torch.tensor(batch, dtype=torch.float64, requires_grad=True)
    reference = torch.nn.functional.cross_entropy(t, torch.tensor(targets))
    reference.backward()
    assert out.data == pytest.approx(reference.item(), rel=1e-12)
    for row, grads in zip(values, t.grad.tolist()):
        assert [v.grad for v in row] == pytest.approx(grads, rel=1e-10, abs=1e-15)


def test_bce_with_logits_agrees_with_pytorch_at_extremes():
    torch = pytest.importorskip("torch")
    logits, targets = [1000.0, -1000.0, 1000.0, -1000.0, 30.0], [0.0, 1.0, 1.0, 0.0, 0.5]
    pred = _values(logits)
    out = bce_with_logits(pred, targets, reduction="sum")
    out.backward()
    t = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    reference = torch.nn.functional.binary_cross_entropy_with_logits(
        t, torch.tensor(targets, dtype=torch.float64), reduction="sum")
    reference.backward()
    assert out.data == pytest.approx(reference.item(), rel=1e-12)
    assert [p.grad for p in pred] == pytest.approx(t.grad.tolist(), rel=1e-10, abs=1e-15)


# ---- the lessons' conventions -----------------------------------------------------------
def test_half_squared_error_has_the_lessons_gradient():
    # L = ½(ŷ − y)² ⇒ ∂L/∂ŷ = ŷ − y, without the 2
    y_hat = Value(0.75)
    loss = mse(y_hat, 0.25, half=True)
    loss.backward()
    assert loss.data == 0.5 * 0.5 ** 2
    assert y_hat.grad == 0.5


def test_batchmean_sums_over_outputs_and_averages_over_examples():
    # 3 examples of 2 outputs: "mean" divides by 6, "batchmean" by 3, "sum" by 1
    pred = [[Value(0.1), Value(0.9)], [Value(0.4), Value(0.3)], [Value(-0.2), Value(1.5)]]
    target = [[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]
    total = sum((p.data - t) ** 2 for row, trow in zip(pred, target) for p, t in zip(row, trow))
    assert mse(pred, target, reduction="sum").data == pytest.approx(total, rel=1e-15)
    assert mse(pred, target).data == pytest.approx(total / 6, rel=1e-15)
    assert mse(pred, target, reduction="batchmean").data == pytest.approx(total / 3, rel=1e-15)
    assert mse(pred, target, reduction="batchmean", half=True).data == \
        pytest.approx(total / 6, rel=1e-15)
    # a single Value is one example
    assert mse(Value(3.0), 1.0, reduction="batchmean").data == 4.0


def test_targets_are_named_constants_that_carry_no_gradient_request():
    from engine import Constant
    from nn import MLP
    model = MLP.from_weights([[[0.5, -0.4]], ], [[0.1]])
    loss = mse(model([1.0, 2.0]), 0.9)
    sub = loss.inputs[0]                      # (ŷ − y)²'s base
    y = sub.inputs[1]
    assert y.is_constant and y.label == "y" and y.data == 0.9
    two = MLP.from_weights([[[0.5, -0.4], [0.3, 0.2]]], [[0.1, 0.0]])
    loss = mse(two([1.0, 2.0]), [0.9, 0.1], reduction="sum")
    names = sorted(n.label for n in _leaves(loss) if n.is_constant and n.label.startswith("y"))
    assert names == ["y1", "y2"]
    loss = mse([Value(0.2), Value(0.4)], [1.0, 0.0])   # not nn outputs: by position
    assert sorted(n.label for n in _leaves(loss) if n.label.startswith("y")) == ["y1", "y2"]
    given = Constant(0.3, "t")                         # a Value target is used as it is
    assert given in _leaves(mse(Value(1.0), given))


def _leaves(root):
    from engine import order
    return [n for n in order(root) if n.op is None]


def test_reduction_and_half_are_checked():
    with pytest.raises(ValueError,
                       match="mse: reduction must be one of 'mean', 'sum', 'batchmean'"):
        mse(Value(1.0), 1.0, reduction="batch")
    with pytest.raises(TypeError, match="mse: half must be a bool"):
        mse(Value(1.0), 1.0, half=1)


def test_as_loss_turns_a_name_into_its_loss_and_keeps_a_function():
    from functools import partial
    assert losses.as_loss("mse", "fit") is mse
    assert losses.as_loss("bce_with_logits", "fit") is bce_with_logits
    half = partial(mse, half=True)
    assert losses.as_loss(half, "fit") is half
    assert losses.as_loss(half, "fit")(Value(3.0), 1.0).data == 2.0      # ½·(3 − 1)²
    with pytest.raises(ValueError, match=r"^fit: unknown loss 'l2'; one of mse, bce, "):
        losses.as_loss("l2", "fit")
    with pytest.raises(TypeError, match=r"^animate_network: loss must be callable .* got int$"):
        losses.as_loss(3, "animate_network")


def test_one_prediction_takes_its_target_as_a_number_or_a_list_of_one():
    # a model with one output returns one Value; y written as a column ([[0], [1], …])
    # gives it [y]: the same loss, the same named target
    for target in (0.25, [0.25]):
        loss = mse(Value(1.0, "L2.N1.a"), target)
        assert loss.data == (1.0 - 0.25) ** 2
    by_rows = mse([Value(1.0), Value(2.0)], [[0.5], [1.0]])
    assert by_rows.data == ((1.0 - 0.5) ** 2 + (2.0 - 1.0) ** 2) / 2
