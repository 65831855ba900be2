"""pytest plugin (entry point ``pytest11``): chaingrad's checks as fixtures.

    def test_neuron(assert_grad): ...
    def test_my_op(gradcheck): assert gradcheck(lambda x: my_op(x), [0.3])

A failure is an ``AssertionError`` whose message is a table, so pytest reports it
as an ordinary test failure."""

from __future__ import annotations

from typing import Callable

import pytest

from .check import gradcheck as _gradcheck
from .check import gradgradcheck as _gradgradcheck
from .check import numerical_grad as _numerical_grad
from .testing import assert_grad as _assert_grad


@pytest.fixture
def gradcheck() -> Callable[..., bool]:
    """``engine.gradcheck``: analytic gradient vs central differences."""
    return _gradcheck


@pytest.fixture
def gradgradcheck() -> Callable[..., bool]:
    """``engine.gradgradcheck``: second derivatives vs differences of the first."""
    return _gradgradcheck


@pytest.fixture
def numerical_grad() -> Callable[..., list]:
    """``engine.numerical_grad``: central differences."""
    return _numerical_grad


@pytest.fixture
def assert_grad() -> Callable[..., None]:
    """``engine.assert_grad``: a hand-derived gradient vs the engine and finite differences."""
    return _assert_grad
