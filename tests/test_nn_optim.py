"""Optimizers and gradient clipping: one step against the update rule written out
by hand, many steps against PyTorch's optimizers on the same parameters and
gradients (when torch is installed), and the checks on their arguments."""

from __future__ import annotations

import math
import random

import pytest

from engine import Value
from nn import MLP, SGD, Adam, Optimizer, clip_grad_norm


def _params(data, grads):
    params = [Value(d, label=f"p{i}") for i, d in enumerate(data, 1)]
    for p, g in zip(params, grads):
        p.grad = g
    return params


DATA = [0.5, -1.5, 2.0]
GRADS = [0.1, -0.4, 0.25]


# ---- SGD ----------------------------------------------------------------------------------
def test_sgd_step_is_w_minus_lr_times_grad():
    params = _params(DATA, GRADS)
    SGD(params, lr=0.1).step()
    assert [p.data for p in params] == pytest.approx([w - 0.1 * g for w, g in zip(DATA, GRADS)],
                                                     rel=1e-15)


def test_sgd_momentum_and_weight_decay_by_hand():
    params = _params(DATA, GRADS)
    opt = SGD(params, lr=0.1, momentum=0.9, weight_decay=0.01)
    w = list(DATA)
    v = None
    for step in range(3):
        g = [gi + 0.01 * wi for gi, wi in zip(GRADS, w)]
        v = g if v is None else [0.9 * vi + gi for vi, gi in zip(v, g)]
        w = [wi - 0.1 * vi for wi, vi in zip(w, v)]
        opt.step()
        assert [p.data for p in params] == pytest.approx(w, rel=1e-14), f"step {step + 1}"


def test_zero_grad_and_a_learning_rate_schedule():
    params = _params(DATA, GRADS)
    opt = SGD(params, lr=1.0)
    opt.lr = 0.5                                   # a schedule changes it between steps
    opt.step()
    assert params[0].data == pytest.approx(0.5 - 0.5 * 0.1)
    opt.zero_grad()
    assert [p.grad for p in params] == [0.0, 0.0, 0.0]


def test_an_optimizer_accepts_a_module():
    model = MLP(2, [2, 1], seed=0)
    opt = SGD(model, lr=0.1)
    assert opt.params == model.parameters()


# ---- Adam -----------------------------------------------------------------------------------
def test_adam_steps_by_hand():
    params = _params(DATA, GRADS)
    lr, b1, b2, eps = 0.01, 0.8, 0.99, 1e-6
    opt = Adam(params, lr=lr, betas=(b1, b2), eps=eps)
    w, m, s = list(DATA), [0.0] * 3, [0.0] * 3
    for t in range(1, 4):
        m = [b1 * mi + (1 - b1) * g for mi, g in zip(m, GRADS)]
        s = [b2 * si + (1 - b2) * g * g for si, g in zip(s, GRADS)]
        m_hat = [mi / (1 - b1 ** t) for mi in m]
        s_hat = [si / (1 - b2 ** t) for si in s]
        w = [wi - lr * mh / (math.sqrt(sh) + eps) for wi, mh, sh in zip(w, m_hat, s_hat)]
        opt.step()
        assert [p.data for p in params] == pytest.approx(w, rel=1e-13), f"step {t}"
    assert opt.t == 3


def test_adams_first_step_has_size_lr_whatever_the_gradient_scale():
    params = _params([0.0, 0.0], [1e-6, -300.0])
    Adam(params, lr=0.01, eps=0.0).step()
    assert [p.data for p in params] == pytest.approx([-0.01, 0.01], rel=1e-12)


# ---- arguments -------------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, message", [
    (lambda: SGD([], lr=0.1), ValueError, "params is empty"),
    (lambda: SGD(Value(1.0), lr=0.1), TypeError, "params must be an iterable"),
    (lambda: SGD([1.0], lr=0.1), TypeError, "params must be Values"),
    (lambda: SGD([Value(1.0) + 1], lr=0.1), ValueError, "only leaves"),
    (lambda: SGD([Value(1.0)], lr=-0.1), ValueError, "lr must be finite and ≥ 0"),
    (lambda: SGD([Value(1.0)], lr="0.1"), TypeError, "lr must be a number"),
    (lambda: SGD([Value(1.0)], lr=0.1, momentum=-1), ValueError, "momentum must be"),
    (lambda: Adam([Value(1.0)], lr=0.1, betas=(0.9, 1.0)), ValueError, r"betas\[1\] must be"),
    (lambda: Adam([Value(1.0)], lr=0.1, betas=0.9), TypeError, "betas must be a pair"),
    (lambda: Adam([Value(1.0)], lr=0.1, eps=math.nan), ValueError, "eps must be"),
])
def test_bad_arguments_are_named(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_a_parameter_given_twice_is_rejected():
    w = Value(1.0, label="w")
    with pytest.raises(ValueError, match="appears twice"):
        SGD([w, w], lr=0.1)


def test_optimizer_is_abstract():
    with pytest.raises(TypeError):
        Optimizer([Value(1.0)], lr=0.1)


# ---- clip_grad_norm -----------------------------------------------------------------------------
def test_clip_grad_norm_scales_to_max_norm_and_returns_the_norm_before():
    params = _params([0.0] * 3, [3.0, 4.0, 12.0])           # ‖g‖ = 13
    norm = clip_grad_norm(params, max_norm=1.3)
    assert norm == pytest.approx(13.0, rel=1e-15)
    grads = [p.grad for p in params]
    assert math.sqrt(sum(g * g for g in grads)) == pytest.approx(1.3, rel=1e-6)
    assert grads == pytest.approx([0.3, 0.4, 1.2], rel=1e-6)   # the direction is kept


def test_clip_grad_norm_leaves_small_gradients_alone():
    params = _params([0.0] * 2, [0.3, 0.4])
    assert clip_grad_norm(params, max_norm=1.0) == pytest.approx(0.5)
    assert [p.grad for p in params] == [0.3, 0.4]


def test_clip_grad_norm_handles_huge_and_rejects_non_finite_gradients():
    params = _params([0.0] * 2, [3e200, 4e200])
    assert clip_grad_norm(params, 1.0) == pytest.approx(5e200, rel=1e-15)
    assert [p.grad for p in params] == pytest.approx([0.6, 0.8], rel=1e-12)
    with pytest.raises(ValueError, match="p2.*is inf"):
        clip_grad_norm(_params([0.0] * 2, [1.0, math.inf]), 1.0)
    with pytest.raises(ValueError, match="max_norm must be finite and > 0"):
        clip_grad_norm(_params([0.0], [1.0]), 0.0)


# ---- PyTorch as the oracle -----------------------------------------------------------------
def _quadratic_gradients(rng, n):
    """A fixed random quadratic bowl: g(w) = A w + c, so gradients depend on w."""
    A = [[rng.uniform(-1, 1) for _ in range(n)] for _ in range(n)]
    c = [rng.uniform(-1, 1) for _ in range(n)]
    return lambda w: [sum(a * wi for a, wi in zip(row, w)) + ci for row, ci in zip(A, c)]


@pytest.mark.parametrize("kind, kwargs", [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": 0.01}),
])
def test_optimizers_agree_with_pytorch_step_by_step(kind, kwargs):
    torch = pytest.importorskip("torch")
    rng = random.Random(0)
    n = 5
    start = [rng.uniform(-2, 2) for _ in range(n)]
    gradient = _quadratic_gradients(rng, n)
    ours = [Value(w) for w in start]
    theirs = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in start]
    opt = {"SGD": SGD, "Adam": Adam}[kind](ours, **kwargs)
    reference = getattr(torch.optim, kind)(theirs, **kwargs)
    for step in range(1, 31):
        if step == 15:                              # a schedule halves the rate
            opt.lr /= 2
            for group in reference.param_groups:
                group["lr"] /= 2
        opt.zero_grad()
        for p, g in zip(ours, gradient([p.data for p in ours])):
            p.grad = g
        for t, g in zip(theirs, gradient([t.item() for t in theirs])):
            t.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        reference.step()
        assert [p.data for p in ours] == pytest.approx([t.item() for t in theirs],
                                                       rel=1e-12, abs=1e-14), f"step {step}"


def test_clip_grad_norm_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    rng = random.Random(1)
    grads = [rng.uniform(-5, 5) for _ in range(7)]
    for max_norm in (0.5, 3.0, 100.0):
        ours = _params([0.0] * 7, grads)
        theirs = [torch.zeros((), dtype=torch.float64, requires_grad=True) for _ in grads]
        for t, g in zip(theirs, grads):
            t.grad = torch.tensor(g, dtype=torch.float64)
        norm = clip_grad_norm(ours, max_norm)
        reference = torch.nn.utils.clip_grad_norm_(theirs, max_norm)
        assert norm == pytest.approx(reference.item(), rel=1e-12)
        assert [p.grad for p in ours] == pytest.approx([t.grad.item() for t in theirs],
                                                       rel=1e-12)


def test_adam_with_eps_0_leaves_a_parameter_without_gradient_where_it_is():
    # PyTorch divides 0 by 0 here and makes the parameter NaN; chaingrad does not move it
    dead, alive = _params([0.5, -1.0], [0.0, 2.0])
    optimizer = Adam([dead, alive], lr=0.1, eps=0.0)
    for _ in range(3):
        optimizer.step()
    assert dead.data == 0.5
    assert alive.data == pytest.approx(-1.0 - 3 * 0.1, rel=1e-12)   # each step has size lr


def test_an_optimizer_refuses_a_constant_and_says_which_gradient_is_missing():
    from engine import Constant
    with pytest.raises(ValueError, match="is a constant"):
        SGD([Value(1.0, "w"), Constant(0.9, "y")], lr=0.1)
    w = Value(1.0, "w")
    opt = SGD([w], lr=0.1)
    w.grad = None                                     # never differentiated
    with pytest.raises(ValueError, match="no parameter has a gradient"):
        opt.step()
    assert w.data == 1.0


def test_a_gradient_set_to_none_that_backward_does_not_reach_counts_as_zero():
    # PyTorch's set-to-none habit: behind a dead ReLU no gradient reaches w2, which
    # keeps its None; the optimizers and clip_grad_norm read it as 0
    w1, w2 = Value(2.0, "w1"), Value(-1.0, "w2")
    x = Value(3.0, "x")
    loss = w1 * x + (w2 * x).relu()                   # w2·x = −3: ReLU′ = 0
    for p in (w1, w2):
        p.grad = None
    loss.backward()
    assert w1.grad == 3.0 and w2.grad is None
    assert clip_grad_norm([w1, w2], 1.0) == pytest.approx(3.0)
    assert w1.grad == pytest.approx(3.0 / (3.0 + 1e-6)) and w2.grad is None
    SGD([w1, w2], lr=0.1, weight_decay=0.5).step()    # w ← w − η (g + λw)
    assert w1.data == pytest.approx(2.0 - 0.1 * (3.0 / (3.0 + 1e-6) + 0.5 * 2.0))
    assert w2.data == pytest.approx(-1.0 - 0.1 * (0.0 + 0.5 * -1.0))
    w1.grad, w2.grad = 1.0, None
    adam = Adam([w1, w2], lr=0.1)
    adam.step()
    assert adam.m[1] == 0.0 and adam.s[1] == 0.0       # w2: as a zero gradient
