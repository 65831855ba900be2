"""Checks of the arguments viz's functions share, in one place.

Each check names the function that was called and the argument, so an error reads
``draw_dot: precision must be an int ≥ 1, got 0`` whichever function it came from.
"""

from __future__ import annotations

from os import PathLike
from typing import Any

from engine import Value

__all__ = ["RANKDIRS", "check_count", "check_path", "check_precision", "check_rankdir",
           "check_values"]

#: graphviz's layout directions: inputs on the left (LR), top (TB), right, bottom.
RANKDIRS = ("LR", "TB", "RL", "BT")


def check_count(who: str, name: str, value: Any, *, allow_none: bool = False) -> None:
    """Require an int ≥ 1 (or None, with ``allow_none``): a TypeError for another
    type (a bool is no count), a ValueError for 0 or less."""
    if value is None and allow_none:
        return
    wanted = "an int ≥ 1 or None" if allow_none else "an int ≥ 1"
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{who}: {name} must be {wanted}, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{who}: {name} must be {wanted}, got {value!r}")


def check_precision(who: str, precision: Any) -> None:
    """Require a number of significant digits: an int ≥ 1."""
    check_count(who, "precision", precision)


def check_rankdir(who: str, rankdir: Any) -> None:
    """Require one of :data:`RANKDIRS`."""
    if not isinstance(rankdir, str) or rankdir not in RANKDIRS:
        raise ValueError(f"{who}: rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")


def check_values(who: str, name: str, values: Any) -> set[Value] | None:
    """Require a collection of Values (a list, a set, ``model.parameters()`` …) and
    return them as a set; None stays None. One Value is a TypeError that says to
    write ``[w]``, as is a str or any item that is not a Value."""
    if values is None:
        return None
    wanted = f"{who}: {name} must be a list of Values, e.g. [w, b] or model.parameters()"
    if isinstance(values, Value):
        label = values.label or "w"
        raise TypeError(f"{wanted}; got one Value: write {name}=[{label}]")
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{wanted}; got {type(values).__name__} {values!r}")
    try:
        items = list(values)
    except TypeError:
        raise TypeError(f"{wanted}; got {type(values).__name__}") from None
    for index, item in enumerate(items):
        if not isinstance(item, Value):
            raise TypeError(f"{wanted}; item {index} is {type(item).__name__} {item!r}")
    return set(items)


def check_path(who: str, path: Any) -> None:
    """Require where to write a page: a str, an ``os.PathLike`` or None (write nothing)."""
    if path is not None and not isinstance(path, (str, PathLike)):
        raise TypeError(f"{who}: path must be a str, a path or None, got {type(path).__name__}")
