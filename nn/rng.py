"""Randomness is passed in: a seed or a ``random.Random``, never the global RNG."""

from __future__ import annotations

import random
from typing import Union

Seed = Union[int, random.Random, None]


def as_rng(seed: Seed, who: str) -> random.Random:
    """A ``random.Random`` for ``seed``: the generator itself if one is given (so a
    caller can share one stream), a fresh one seeded with an int, or one seeded from
    the operating system for ``None``."""
    if isinstance(seed, random.Random):
        return seed
    if seed is None:
        return random.Random()
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"{who}: seed must be an int, a random.Random or None, "
                        f"got {type(seed).__name__} {seed!r}")
    return random.Random(seed)
