"""Optimizers: turn the gradients in ``.grad`` into a step on ``.data``.

The update rules are PyTorch's (so a lesson can check one against the other):

* ``SGD``: g = ∂L/∂w + λw; v = μ v + g (v = g on the first step); w ← w − η v
* ``Adam``: g = ∂L/∂w + λw; m = β₁ m + (1 − β₁) g; s = β₂ s + (1 − β₂) g²;
  w ← w − η · m̂ / (√ŝ + ε) with m̂ = m / (1 − β₁ᵗ), ŝ = s / (1 − β₂ᵗ)

The learning rate η is the plain attribute ``opt.lr``: a schedule may change it
between steps. ``clip_grad_norm`` rescales gradients whose global norm is too large
(the cure for exploding gradients).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, Iterable, Union

from engine import Value

from .checks import is_number
from .module import Module

__all__ = ["Optimizer", "SGD", "Adam", "clip_grad_norm"]

Params = Union[Module, Iterable[Value]]


def _check_params(params: Any, who: str) -> list[Value]:
    """The parameters as a list: a Module's, or the Values given (leaves, no repeats)."""
    if isinstance(params, Module):
        params = params.parameters()
    if isinstance(params, Value) or not isinstance(params, Iterable):
        raise TypeError(f"{who}: params must be an iterable of Values (e.g. "
                        f"model.parameters()) or a Module, got {type(params).__name__}")
    values = list(params)
    if not values:
        raise ValueError(f"{who}: params is empty: there is nothing to optimize")
    seen: set[Value] = set()
    for p in values:
        if not isinstance(p, Value):
            raise TypeError(f"{who}: params must be Values, got {type(p).__name__} {p!r}")
        if p.op is not None:
            raise ValueError(f"{who}: {p!r} was made by an op; only leaves (parameters) "
                             f"can be optimized")
        if p.is_constant:
            raise ValueError(f"{who}: {p!r} is a constant, which no gradient is asked of; "
                             f"a parameter is a Value")
        if p in seen:
            raise ValueError(f"{who}: {p!r} appears twice in params; it would be "
                             f"stepped twice")
        seen.add(p)
    return values


def _check_hyper(value: Any, who: str, name: str, upper: float | None = None) -> float:
    """A hyperparameter as a float: finite, ≥ 0 and (if ``upper``) < upper."""
    if not is_number(value):
        raise TypeError(f"{who}: {name} must be a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value) or value < 0 or (upper is not None and value >= upper):
        bound = f"in [0, {upper:g})" if upper is not None else "finite and ≥ 0"
        raise ValueError(f"{who}: {name} must be {bound}, got {value!r}")
    return float(value)


class Optimizer(ABC):
    """What every optimizer shares: the parameters, the learning rate ``lr`` (a
    plain attribute), weight decay λ (an L2 term λw added to each gradient) and
    ``zero_grad``. Subclasses define ``step``."""

    def __init__(self, params: Params, lr: float, weight_decay: float = 0.0) -> None:
        who = type(self).__name__
        self.params = _check_params(params, who)
        self.lr = _check_hyper(lr, who, "lr")
        self.weight_decay = _check_hyper(weight_decay, who, "weight_decay")

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0 before the next backward pass."""
        for p in self.params:
            p.grad = 0.0

    @abstractmethod
    def step(self) -> None:
        """Update every parameter from its ``.grad``."""

    def _gradients(self) -> list[float]:
        """∂L/∂w + λw for every parameter (the gradient the update uses). A gradient
        set to None that no backward pass has reached since (one behind a dead
        ReLU) counts as 0; with every gradient None, no backward ran: an error."""
        grads = [p.grad for p in self.params]
        if None in grads:
            if all(g is None for g in grads):
                raise ValueError(f"{type(self).__name__}.step: no parameter has a gradient "
                                 f"(every .grad is None): call backward() on the loss first")
            grads = [0.0 if g is None else g for g in grads]
        decay = self.weight_decay
        if decay:
            return [g + decay * p.data for g, p in zip(grads, self.params)]
        return grads


class SGD(Optimizer):
    """Gradient descent w ← w − η g, with optional momentum μ (a velocity v that
    remembers past steps: v = μ v + g) and weight decay λ."""

    def __init__(self, params: Params, lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)
        self.momentum = _check_hyper(momentum, "SGD", "momentum")
        self.velocity: list[float] | None = None

    def step(self) -> None:
        """One step: w ← w − η (μ v + g)."""
        grads = self._gradients()
        if self.momentum:
            if self.velocity is None:
                self.velocity = grads
            else:
                mu = self.momentum
                self.velocity = [mu * v + g for v, g in zip(self.velocity, grads)]
            grads = self.velocity
        lr = self.lr
        for p, g in zip(self.params, grads):
            p.data -= lr * g

    def __repr__(self) -> str:
        return (f"SGD(lr={self.lr:g}, momentum={self.momentum:g}, "
                f"weight_decay={self.weight_decay:g}, params={len(self.params)})")


class Adam(Optimizer):
    """Adam: a step per parameter scaled by running averages of the gradient (m) and
    of its square (s), bias-corrected for the first steps (t counts them).

    ``eps = 0`` is allowed: a parameter whose gradient has been 0 all along (a dead
    ReLU) then does not move, where PyTorch would divide 0 by 0 and make it NaN."""

    def __init__(self, params: Params, lr: float = 0.001,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam: betas must be a pair (β₁, β₂), got {betas!r}")
        self.betas = (_check_hyper(betas[0], "Adam", "betas[0]", upper=1.0),
                      _check_hyper(betas[1], "Adam", "betas[1]", upper=1.0))
        self.eps = _check_hyper(eps, "Adam", "eps")
        self.t = 0
        self.m = [0.0] * len(self.params)
        self.s = [0.0] * len(self.params)

    def step(self) -> None:
        """One step: w ← w − η m̂ / (√ŝ + ε)."""
        grads = self._gradients()
        beta1, beta2 = self.betas
        self.t += 1
        correction1 = 1.0 - beta1 ** self.t
        root_correction2 = math.sqrt(1.0 - beta2 ** self.t)
        step_size = self.lr / correction1
        m, s, eps = self.m, self.s, self.eps
        for k, (p, g) in enumerate(zip(self.params, grads)):
            m[k] = beta1 * m[k] + (1.0 - beta1) * g
            s[k] = beta2 * s[k] + (1.0 - beta2) * g * g
            denominator = math.sqrt(s[k]) / root_correction2 + eps
            if denominator != 0.0:          # 0 only with eps = 0 and no gradient yet
                p.data -= step_size * m[k] / denominator

    def __repr__(self) -> str:
        return (f"Adam(lr={self.lr:g}, betas={self.betas}, eps={self.eps:g}, "
                f"weight_decay={self.weight_decay:g}, params={len(self.params)})")


def clip_grad_norm(params: Params, max_norm: float) -> float:
    """Scale all gradients by max_norm / ‖g‖ when their global norm ‖g‖ = √(Σ g²)
    exceeds ``max_norm`` (the direction is kept, the step is bounded). Returns ‖g‖
    before clipping. A NaN or infinite gradient is a ValueError: no scaling can
    repair it."""
    who = "clip_grad_norm"
    values = _check_params(params, who)
    if not is_number(max_norm):
        raise TypeError(f"{who}: max_norm must be a number, got {type(max_norm).__name__}")
    if not max_norm > 0 or not math.isfinite(max_norm):
        raise ValueError(f"{who}: max_norm must be finite and > 0, got {max_norm!r}")
    values = [p for p in values if p.grad is not None]    # None: no gradient reached it
    largest = max((abs(p.grad) for p in values), default=0.0)
    if not math.isfinite(largest):
        bad = next(p for p in values if not math.isfinite(p.grad))
        raise ValueError(f"{who}: the gradient of {bad!r} is {bad.grad}; clipping cannot "
                         f"repair a non-finite gradient (try a smaller learning rate)")
    if largest == 0.0:
        return 0.0
    # ‖g‖ = M √(Σ (g/M)²) with M = max |g|: no overflow for gradients near 1e200
    norm = largest * math.sqrt(sum((p.grad / largest) ** 2 for p in values))
    coefficient = max_norm / (norm + 1e-6)             # PyTorch's ε, same factor
    if coefficient < 1.0:
        for p in values:
            p.grad *= coefficient
    return norm
