"""Initial weights: how a layer's first guess is drawn.

* ``he``: W ~ N(0, 2 / fan_in), for ReLU (keeps the variance of a^(l) steady);
* ``xavier``: W ~ U(−r, r), r = √(6 / (fan_in + fan_out)), for sigmoid and tanh;
* ``uniform``: W ~ U(−1, 1), micrograd's choice (the "naive" initialisation of the
  lessons, under which deep sigmoid nets stop learning);
* ``torch``: W ~ U(−r, r) and b ~ U(−r, r), r = 1/√fan_in: PyTorch's default for
  ``nn.Linear``, to mirror a lesson's PyTorch listing (the distribution, not
  PyTorch's random numbers);
* ``zeros``: every weight 0, the symmetric start that never breaks symmetry.

Biases start at 0 in every scheme but ``torch``.
"""

from __future__ import annotations

import math
import random

INIT_SCHEMES = ("he", "xavier", "uniform", "torch", "zeros")


def check_scheme(init: object, who: str) -> str:
    """``init`` if it names a scheme, else a ValueError listing the schemes."""
    if init not in INIT_SCHEMES:
        raise ValueError(f"{who}: init must be one of {', '.join(map(repr, INIT_SCHEMES))}, "
                         f"got {init!r}")
    return init  # type: ignore[return-value]


def initial_weight(init: str, fan_in: int, fan_out: int, rng: random.Random) -> float:
    """One weight of a layer with ``fan_in`` inputs and ``fan_out`` neurons."""
    if init == "he":
        return rng.gauss(0.0, math.sqrt(2.0 / fan_in))
    if init == "xavier":
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit)
    if init == "uniform":
        return rng.uniform(-1.0, 1.0)
    if init == "torch":
        return rng.uniform(-1.0, 1.0) / math.sqrt(fan_in)
    if init == "zeros":
        return 0.0
    raise ValueError(f"initial_weight: unknown init {init!r}")


def initial_bias(init: str, fan_in: int, rng: random.Random) -> float:
    """One bias of a neuron with ``fan_in`` inputs: U(±1/√fan_in) for ``torch``, else 0."""
    if init == "torch":
        return rng.uniform(-1.0, 1.0) / math.sqrt(fan_in)
    return 0.0
