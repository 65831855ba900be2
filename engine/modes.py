"""Recording modes: ``no_grad()`` and ``detect_anomaly()``.

Both live in one ContextVar, so a thread or an asyncio task that switches a mode
never leaks it into another; an op reads the mode once.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Iterator, NamedTuple


class Mode(NamedTuple):
    grad: bool = True       # record inputs and local gradients?
    anomaly: bool = False   # turn a NaN/inf into an error naming the op?


MODE: ContextVar[Mode] = ContextVar("chaingrad_mode", default=Mode())  # noqa: B039 (immutable)


@contextlib.contextmanager
def _switch(**changes: bool) -> Iterator[None]:
    token = MODE.set(MODE.get()._replace(**changes))
    try:
        yield
    finally:
        MODE.reset(token)


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Ops inside record nothing: results are leaves (cheap evaluation, e.g. of a model)."""
    return _switch(grad=False)


def enable_grad() -> contextlib.AbstractContextManager[None]:
    """Undo an enclosing ``no_grad()`` for a block."""
    return _switch(grad=True)


def detect_anomaly() -> contextlib.AbstractContextManager[None]:
    """A NaN or inf made in forward or backward raises ``FloatingPointError`` naming
    the op, its input values and the line of your code that created the op."""
    return _switch(anomaly=True)


def is_grad_enabled() -> bool:
    """Whether ops record a graph here (False inside ``no_grad()``)."""
    return MODE.get().grad
