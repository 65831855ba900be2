"""Argument checks shared by nn's modules, so every function words a bad argument
the same way (``who: name must be …, got …``)."""

from __future__ import annotations

import math
from typing import Any, Sequence

#: How a loss combines its terms: PyTorch's mean and sum, and the lessons'
#: ``batchmean`` (sum over outputs, mean over examples; see nn/losses.py).
REDUCTIONS = ("mean", "sum", "batchmean")


def is_number(x: Any) -> bool:
    """An int or a float, but not a bool (True is an int to Python, not to us)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def is_list(x: Any) -> bool:
    """A sequence of items (a list, a tuple …), but not a str or bytes."""
    return isinstance(x, Sequence) and not isinstance(x, (str, bytes))


def one_target(target: Any) -> Any:
    """``[y]`` as ``y``: the target of a one-output model written as a column
    (``[[0], [1], …]``); any other target as it is."""
    return target[0] if is_list(target) and len(target) == 1 else target


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and its noun in the right number: ``1 neuron``, ``2 neurons``; ``plural``
    for a noun that is not made plural by an s (``count(1, "entry", "entries")``)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def as_rows(data: Any, who: str, name: str) -> list[Any]:
    """Examples, targets or predictions as a list: a list or tuple as it is, an array
    (numpy …) through its ``tolist()``, so its numbers are Python's; else a TypeError."""
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return list(data)
    tolist = getattr(data, "tolist", None)
    if callable(tolist):
        return list(tolist())
    raise TypeError(f"{who}: {name} must be a list (or a tuple or an array) of examples, "
                    f"got {type(data).__name__}")


def first_non_finite(data: Any) -> tuple[str, float] | None:
    """Where the first NaN or infinity of nested lists of numbers is (``[3][0]``), and
    the number; None when every number is finite (non-numbers are left alone)."""
    stack = [("", data)]
    while stack:
        where, item = stack.pop()
        if is_list(item):
            stack.extend((f"{where}[{i}]", x) for i, x in reversed(list(enumerate(item))))
        elif is_number(item) and not math.isfinite(item):
            return where, item
    return None


def check_int(value: Any, who: str, name: str, smallest: int = 1) -> int:
    """``value`` if it is an int ≥ ``smallest`` (not a bool): else a TypeError (not
    an int) or a ValueError (too small), naming the function ``who`` and the
    argument ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{who}: {name} must be an int ≥ {smallest}, got "
                        f"{type(value).__name__} {value!r}")
    if value < smallest:
        raise ValueError(f"{who}: {name} must be an int ≥ {smallest}, got {value!r}")
    return value


def check_reduction(reduction: object, who: str,
                    allowed: Sequence[str] = REDUCTIONS) -> None:
    """A ValueError unless ``reduction`` is one of ``allowed`` (every loss takes all
    of REDUCTIONS; a PyTorch twin only 'mean' and 'sum')."""
    if reduction not in allowed:
        names = [repr(name) for name in allowed]
        choices = (" or ".join(names) if len(names) == 2
                   else f"one of {', '.join(names)}")
        raise ValueError(f"{who}: reduction must be {choices}, got {reduction!r}")
