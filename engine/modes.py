"""Recording modes: ``no_grad()`` and ``detect_anomaly()``.

Both live in one ContextVar, so a thread or an asyncio task that switches a mode
never leaks it into another; an op reads the mode once.

Leaving a block removes exactly that block's switch, whatever was entered or left
in between. That matters for generators: Python runs a generator in its caller's
context, so a generator suspended inside ``with no_grad():`` keeps its caller in
no_grad until it resumes and leaves the block; closed later, or from another
thread, it never brings back a mode its caller has already left.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Iterator, NamedTuple


class Mode(NamedTuple):
    grad: bool = True       # record inputs and local gradients?
    anomaly: bool = False   # turn a NaN/inf into an error naming the op?


#: The four modes, one object each, so that an op can tell the default by identity
#: (``MODE.get() is RECORDING``) on its fast path.
_MODES = {(grad, anomaly): Mode(grad, anomaly) for grad in (True, False)
          for anomaly in (False, True)}
RECORDING = _MODES[True, False]           # the default: recording on, anomaly off
MODE: ContextVar[Mode] = ContextVar("chaingrad_mode", default=RECORDING)  # noqa: B039 (immutable)
# The blocks in force here, outermost first; MODE is their changes applied in turn.
_BLOCKS: ContextVar[tuple[dict[str, bool], ...]] = ContextVar("chaingrad_blocks", default=())


def _enter(blocks: tuple[dict[str, bool], ...]) -> None:
    mode = RECORDING
    for changes in blocks:
        mode = mode._replace(**changes)
    _BLOCKS.set(blocks)
    MODE.set(_MODES[mode])


@contextlib.contextmanager
def _switch(**changes: bool) -> Iterator[None]:
    block = dict(changes)                 # a new object: identity tells this block apart
    _enter((*_BLOCKS.get(), block))
    try:
        yield
    finally:                              # not ContextVar.reset: it fails in another context
        blocks = _BLOCKS.get()
        if any(b is block for b in blocks):
            _enter(tuple(b for b in blocks if b is not block))


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Ops inside record nothing: results are leaves, no graph is kept (evaluation)."""
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
