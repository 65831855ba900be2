"""The errors of chaingrad's numbers: one family, each also a built-in error.

Every refusal of a number is a ``NumericError`` (an ``ArithmeticError``), and each
kind is also the built-in error Python itself would raise, so ``except ValueError``
and ``except OverflowError`` keep working:

====================  ==========================  ==========================================
error                 also a                      raised when
====================  ==========================  ==========================================
DomainError           ValueError                  an op's input is outside its domain:
                                                  log(0), (−8) ** (1/3), 2 ** x with x < 0 …
DivisionByZeroError   ZeroDivisionError           x / 0, 0 ** −1
NumberOverflowError   OverflowError               a number too large for a float: exp(1000),
                                                  1e200 · 1e200, Value(10 ** 400)
NonFiniteError        FloatingPointError          under ``detect_anomaly()``: an op made or
                                                  met an inf or NaN
GradientError         FloatingPointError,         backward or grad refused a gradient that
                      OverflowError               became inf or NaN (it names the op)
====================  ==========================  ==========================================

Wrong *types* are never these: they are ``TypeError``, everywhere.
"""

from __future__ import annotations

from typing import Any, Iterable

__all__ = ["NumericError", "DomainError", "DivisionByZeroError", "NumberOverflowError",
           "NonFiniteError", "GradientError", "describe"]


class NumericError(ArithmeticError):
    """chaingrad refused a number: the base of the family."""


class DomainError(NumericError, ValueError):
    """An op's input is outside the op's domain (log of 0, a negative base to a
    fractional power)."""


class DivisionByZeroError(NumericError, ZeroDivisionError):
    """Division by zero, or zero to a negative power."""


class NumberOverflowError(NumericError, OverflowError):
    """A number too large for a float (at most ≈ 1.8e308)."""


class NonFiniteError(NumericError, FloatingPointError):
    """An inf or NaN where none may be: what ``detect_anomaly()`` reports."""


class GradientError(NonFiniteError, OverflowError):
    """``backward`` or ``grad`` refused a gradient that became inf or NaN."""


def describe(inputs: Iterable[Any]) -> str:
    """An op's inputs for a message: ``a = 0.0 ('x'), b = 2.0``, each with its label
    unless the label is just the number (a constant's)."""
    parts = []
    for name, v in zip("ab", inputs):
        label = v.label
        shown = f" ({label!r})" if label and label != f"{v.data:g}" else ""
        parts.append(f"{name} = {v.data!r}{shown}")
    return ", ".join(parts)
