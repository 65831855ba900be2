"""chaingrad's engine: scalar reverse-mode autodiff with the chain rule in plain sight."""

import builtins

from .autograd import Node, backward, order, zero_grad
from .check import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from .compile import Program, compile
from .errors import (
    DivisionByZeroError,
    DomainError,
    GradientError,
    NonFiniteError,
    NumberOverflowError,
    NumericError,
)
from .functional import grad, replay
from .modes import detect_anomaly, enable_grad, is_grad_enabled, no_grad
from .ops import OPS, Op
from .testing import assert_grad
from .value import FUNCTIONS, Constant, Detached, Value, apply

# Every op with a function name, as a function of Values or numbers: exp, log, relu, …
globals().update(FUNCTIONS)

__all__ = ["Value", "Constant", "Detached", "Node", "Op", "OPS", "apply", "FUNCTIONS",
           "order", "backward", "grad", "replay", "zero_grad",
           "no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly",
           "numerical_grad", "gradcheck", "gradgradcheck", "GradcheckError", "assert_grad",
           "NumericError", "DomainError", "DivisionByZeroError", "NumberOverflowError",
           "NonFiniteError", "GradientError", "compile", "Program",
           # (abs stays the builtin under `from engine import *`: it calls Value.__abs__)
           *(name for name in FUNCTIONS if not hasattr(builtins, name))]
