"""chaingrad's nn: tiny models that train, with weights you can set by hand and
parameters named as in the lessons (``L1.N2.w3`` is W^(1)_23).

    from nn import MLP, SGD, fit, mse
    model = MLP(2, [16, 16, 1], seed=0)        # ReLU hidden, linear out
"""

from . import datasets, interop, losses
from .init import INIT_SCHEMES
from .interop import from_torch, to_torch, torch_loss, torch_names
from .losses import bce, bce_with_logits, hinge, mse, softmax_cross_entropy
from .module import ACTIVATIONS, MLP, Layer, Module, Neuron
from .optim import SGD, Adam, Optimizer, clip_grad_norm
from .serialize import load, save
from .train import DivergenceError, History, accuracy, fit, predict

__all__ = ["Module", "Neuron", "Layer", "MLP", "ACTIVATIONS", "INIT_SCHEMES",
           "mse", "bce", "bce_with_logits", "hinge", "softmax_cross_entropy",
           "Optimizer", "SGD", "Adam", "clip_grad_norm",
           "fit", "predict", "accuracy", "History", "DivergenceError",
           "save", "load", "to_torch", "from_torch", "torch_names", "torch_loss",
           "datasets", "losses", "interop"]
