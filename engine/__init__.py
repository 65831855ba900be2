"""chaingrad's engine: scalar reverse-mode autodiff with the chain rule in plain sight."""

from .autograd import backward, grad, order, zero_grad
from .check import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from .compile import Program, compile
from .modes import detect_anomaly, enable_grad, is_grad_enabled, no_grad
from .ops import OPS, Op
from .testing import assert_grad
from .value import Constant, Detached, Value, exp, log, relu, sigmoid, tanh

__all__ = ["Value", "Constant", "Detached", "Op", "OPS", "order", "backward", "grad", "zero_grad",
           "no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly",
           "exp", "log", "relu", "sigmoid", "tanh",
           "numerical_grad", "gradcheck", "gradgradcheck", "GradcheckError", "assert_grad",
           "compile", "Program"]
