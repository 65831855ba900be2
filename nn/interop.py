"""PyTorch interop: carry an MLP to PyTorch and back, with the same numbers.

``to_torch(model)`` is a ``torch.nn.Module`` that computes the same function as the
MLP — ``Linear`` layers holding the same weights, the same activations, residual
connections where the MLP has them — so in float64 the same data give the same loss
and the same gradients (to the last digit or two: only the order of the sums
differs). ``from_torch(module)`` reads a ``Sequential`` of ``Linear`` layers and
activations back into an MLP; both ways copy every number exactly.
``torch_names(model)`` says where each parameter lives on the PyTorch side: W⁽ˡ⁾ⱼₖ
(``L{l}.N{j}.w{k}``) is entry ``[j − 1, k − 1]`` of the l-th ``Linear``'s weight.
``torch_loss(loss)`` is a loss's PyTorch twin (``TORCH_LOSSES`` names them all).

torch is imported inside these functions only: ``import nn`` never needs it, and
without it they raise an ImportError that says how to install it.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from .checks import check_reduction
from .losses import LOSSES
from .module import MLP

__all__ = ["to_torch", "from_torch", "torch_names", "torch_loss", "TORCH_LOSSES"]

INSTALL = "pip install torch==2.13.0"

#: The PyTorch module of each activation (``linear`` has none: the Linear's output is z).
TORCH_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}

#: Each loss's PyTorch twin: the module that gives the same value and gradients
#: (``torch_loss`` makes one). PyTorch has no hinge loss of this form (its
#: HingeEmbeddingLoss is another formula), so ours is written out in torch ops.
TORCH_LOSSES = {
    "mse": "torch.nn.MSELoss",
    "bce": "torch.nn.BCELoss",
    "bce_with_logits": "torch.nn.BCEWithLogitsLoss",
    "hinge": "nn.interop.HingeLoss",
    "softmax_cross_entropy": "torch.nn.CrossEntropyLoss",
}

#: The reductions the twins share with chaingrad's losses (PyTorch's losses have
#: no ``batchmean``: for that one, pass ``"sum"`` and divide by the batch size).
TORCH_REDUCTIONS = ("mean", "sum")

Names = dict[str, tuple[str, tuple[int, ...]]]


def _import_torch(who: str) -> Any:
    """The torch package, or an ImportError naming ``who`` and how to install it."""
    try:
        import torch
    except ImportError as error:
        raise ImportError(f"{who} needs PyTorch, which is not installed: {INSTALL}") from error
    return torch


@functools.cache
def _torch_classes() -> dict[str, type]:
    """The two torch modules chaingrad adds, made once torch is there. They are
    reachable as ``nn.interop.Residual`` and ``nn.interop.HingeLoss``, so a saved
    module (pickle, ``torch.save``) loads again."""
    torch = _import_torch("nn.interop")

    class Residual(torch.nn.Sequential):
        """Its layers plus its input, a⁽ˡ⁾ = f(W a⁽ˡ⁻¹⁾ + b) + a⁽ˡ⁻¹⁾: an MLP layer
        with ``residual=True``."""

        def forward(self, x: Any) -> Any:
            return super().forward(x) + x

    class HingeLoss(torch.nn.Module):
        """chaingrad's hinge loss max(0, 1 − y·ŷ) with y ∈ {−1, +1}, averaged
        (``reduction="mean"``) or summed (``"sum"``)."""

        def __init__(self, reduction: str = "mean") -> None:
            super().__init__()
            check_reduction(reduction, "HingeLoss", TORCH_REDUCTIONS)
            self.reduction = reduction

        def forward(self, scores: Any, targets: Any) -> Any:
            terms = torch.relu(1.0 - targets * scores)
            return terms.mean() if self.reduction == "mean" else terms.sum()

        def extra_repr(self) -> str:
            return f"reduction={self.reduction!r}"

    classes = {"Residual": Residual, "HingeLoss": HingeLoss}
    for name, cls in classes.items():
        cls.__module__, cls.__qualname__ = __name__, name
    return classes


def __getattr__(name: str) -> type:
    """``nn.interop.Residual`` and ``nn.interop.HingeLoss``, made on first use."""
    if name in ("Residual", "HingeLoss"):
        return _torch_classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _check_mlp(model: object, who: str) -> MLP:
    if not isinstance(model, MLP):
        raise TypeError(f"{who}: model must be an nn.MLP, got {type(model).__name__}")
    return model


def _linear_names(model: MLP) -> list[str]:
    """Where each layer's ``Linear`` sits in ``to_torch(model)``: ``"0"``, ``"2"`` …
    in the Sequential (an activation module takes the place between), or ``"1.0"``
    as the first module of a Residual block."""
    names, position = [], 0
    for layer in model.layers:
        if layer.residual:
            names.append(f"{position}.0")
            position += 1
        else:
            names.append(str(position))
            position += 1 if layer.activation == "linear" else 2
    return names


def torch_names(model: MLP) -> Names:
    """{label: (PyTorch parameter name, index)} for every parameter of ``model``, in
    ``to_torch(model)``: ``L1.N2.w3`` → ``("0.weight", (1, 2))``, ``L1.N2.b`` →
    ``("0.bias", (1,))``. They are also the names in a numbered Sequential that
    ``from_torch`` made ``model`` from. Needs no torch."""
    names: Names = {}
    for layer, linear in zip(_check_mlp(model, "torch_names").layers, _linear_names(model)):
        for j, neuron in enumerate(layer.neurons):
            *weights, bias = [name for name, _ in neuron.named_parameters()]
            for k, name in enumerate(weights):
                names[name] = (f"{linear}.weight", (j, k))
            names[bias] = (f"{linear}.bias", (j,))
    return names


def to_torch(model: MLP, *, dtype: Any = None) -> Any:
    """A ``torch.nn.Sequential`` computing what ``model`` computes, on a batch of
    shape (N, nin): per layer a ``Linear`` holding its weights (row j is neuron
    j + 1) followed by its activation's module (none for ``linear``); a layer with a
    residual connection is a ``Residual`` block (its Linear and activation, plus
    its input). ``dtype`` defaults to ``torch.float64``, in which every weight is
    copied exactly; move it with ``.to(device)``."""
    who = "to_torch"
    torch = _import_torch(who)
    _check_mlp(model, who)
    if dtype is None:
        dtype = torch.float64
    elif not isinstance(dtype, torch.dtype):
        raise TypeError(f"{who}: dtype must be a torch.dtype such as torch.float64, "
                        f"got {type(dtype).__name__} {dtype!r}")
    elif not dtype.is_floating_point:
        raise ValueError(f"{who}: dtype must be a floating-point type (torch.float64 keeps "
                         f"every weight exact), got {dtype}")
    residual = _torch_classes()["Residual"]
    modules = []
    for layer in model.layers:
        if layer.activation != "linear" and layer.activation not in TORCH_ACTIVATIONS:
            raise ValueError(f"{who}: no PyTorch module for the activation "
                             f"{layer.activation!r} of layer {layer.name}")
        # Made on the meta device (no memory, no draw from torch's random generator),
        # then given our weights as its parameters.
        linear = torch.nn.Linear(layer.nin, layer.nout, device="meta")
        linear.weight = torch.nn.Parameter(
            torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=dtype))
        linear.bias = torch.nn.Parameter(
            torch.tensor([n.b.data for n in layer.neurons], dtype=dtype))
        parts = [linear]
        if layer.activation != "linear":
            parts.append(getattr(torch.nn, TORCH_ACTIVATIONS[layer.activation])())
        modules.extend([residual(*parts)] if layer.residual else parts)
    return torch.nn.Sequential(*modules)


class _ReadLayer:
    """One layer of a Sequential being read: its Linear, the activation after it,
    and whether it sits in a Residual block."""

    def __init__(self, name: str, linear: Any, residual: bool = False) -> None:
        self.name, self.linear, self.residual = name, linear, residual
        self.activation = "linear"


def from_torch(module: Any) -> MLP:
    """The MLP that ``module`` computes, with its weights copied exactly.

    ``module`` is a ``torch.nn.Sequential`` of ``Linear`` layers (with biases), each
    followed by at most one activation (``ReLU``, ``Tanh``, ``Sigmoid``; none is
    linear), all hidden layers with the same one, and ``Residual`` blocks as
    ``to_torch`` makes them. Any other layer is a ValueError naming it."""
    who = "from_torch"
    torch = _import_torch(who)
    if type(module) is not torch.nn.Sequential:
        hint = ("; wrap it: torch.nn.Sequential(layer)"
                if isinstance(module, torch.nn.Module) else "")
        raise TypeError(f"{who}: module must be a torch.nn.Sequential of Linear layers and "
                        f"activations, got {type(module).__name__}{hint}")
    layers = _read_layers(module, torch, who)
    _check_chain(layers, who)
    hidden = {layer.activation for layer in layers[:-1]}
    if len(hidden) > 1:
        found = ", ".join(f"{layer.activation} after '{layer.name}'" for layer in layers[:-1])
        raise ValueError(f"{who}: an MLP's hidden layers share one activation, but this "
                         f"Sequential has {found}")
    residual = any(layer.residual for layer in layers)
    _check_residual(layers, residual, who)
    weights, biases = [], []
    for layer in layers:
        weights.append(_numbers(layer.linear.weight, f"'{layer.name}.weight'", torch, who))
        biases.append(_numbers(layer.linear.bias, f"'{layer.name}.bias'", torch, who))
    return MLP.from_weights(weights, biases, activation=hidden.pop() if hidden else "relu",
                            output_activation=layers[-1].activation, residual=residual)


def _read_layers(module: Any, torch: Any, who: str) -> list[_ReadLayer]:
    """The Sequential's layers, each Linear with the activation after it."""
    residual = _torch_classes()["Residual"]
    activations = {getattr(torch.nn, cls): name for name, cls in TORCH_ACTIVATIONS.items()}
    allowed = (f"Linear layers each followed by at most one of "
               f"{', '.join(TORCH_ACTIVATIONS.values())}")
    layers: list[_ReadLayer] = []

    def refuse(name: str, child: Any, why: str) -> ValueError:
        return ValueError(f"{who}: layer '{name}' ({child!r}) {why}; an MLP is {allowed}")

    for name, child in module.named_children():
        kind = type(child)
        if kind is torch.nn.Linear:
            layers.append(_ReadLayer(name, child))
        elif kind is residual:
            inner = list(child.named_children())
            if (not inner or type(inner[0][1]) is not torch.nn.Linear or len(inner) > 2
                    or (len(inner) == 2 and type(inner[1][1]) not in activations)):
                raise refuse(name, child, "is a Residual block that is not one Linear layer "
                                          "and at most one activation")
            read = _ReadLayer(f"{name}.{inner[0][0]}", inner[0][1], residual=True)
            if len(inner) == 2:
                read.activation = activations[type(inner[1][1])]
            layers.append(read)
        elif kind in activations:
            if not layers:
                raise refuse(name, child, "comes before any Linear layer")
            if layers[-1].activation != "linear" or layers[-1].residual:
                raise refuse(name, child, "follows another activation")
            layers[-1].activation = activations[kind]
        else:
            raise refuse(name, child, f"is a {kind.__name__}, which an MLP cannot hold")
    if not layers:
        raise ValueError(f"{who}: the Sequential has no Linear layer; an MLP is {allowed}")
    return layers


def _check_chain(layers: list[_ReadLayer], who: str) -> None:
    """Every Linear has a bias, reads what the one before writes, and a Residual
    block's Linear keeps the width."""
    for before, layer in zip([None, *layers], layers):
        linear = layer.linear
        if not linear.in_features or not linear.out_features:
            raise ValueError(f"{who}: layer '{layer.name}' is a Linear with "
                             f"{linear.in_features} inputs and {linear.out_features} outputs; "
                             f"an MLP's layers have at least one of each")
        if linear.bias is None:
            raise ValueError(f"{who}: layer '{layer.name}' is a Linear without bias; every "
                             f"neuron of an MLP has one (make it with bias=True)")
        if before is not None and linear.in_features != before.linear.out_features:
            raise ValueError(f"{who}: layer '{layer.name}' takes {linear.in_features} inputs "
                             f"but layer '{before.name}' gives {before.linear.out_features}")
        if layer.residual and linear.in_features != linear.out_features:
            raise ValueError(f"{who}: the Residual block '{layer.name}' adds its input to "
                             f"its output, so its Linear needs in_features == out_features, "
                             f"got {linear.in_features} and {linear.out_features}")


def _check_residual(layers: list[_ReadLayer], residual: bool, who: str) -> None:
    """An MLP with ``residual=True`` has the identity path on exactly its hidden
    layers as wide as their input, and never on its last layer."""
    if not residual:
        return
    if layers[-1].residual:
        raise ValueError(f"{who}: the last layer '{layers[-1].name}' is a Residual block; an "
                         f"MLP's output layer has no residual connection")
    for layer in layers[:-1]:
        square = layer.linear.in_features == layer.linear.out_features
        if square and not layer.residual:
            raise ValueError(
                f"{who}: layer '{layer.name}' is as wide as its input but has no residual "
                f"connection while other layers do; an MLP with residual=True adds the "
                f"identity path to every hidden layer as wide as its input")


def _numbers(tensor: Any, name: str, torch: Any, who: str) -> list[Any]:
    """A weight matrix or bias vector as (lists of) Python floats, exact from any
    float dtype, or a ValueError naming the first entry that is not finite."""
    exact = tensor.detach().to("cpu", torch.float64)
    bad = (~torch.isfinite(exact)).nonzero().tolist()
    if bad:
        index = ", ".join(map(str, bad[0]))
        raise ValueError(f"{who}: {name}[{index}] is {exact[tuple(bad[0])].item()}; an MLP's "
                         f"parameters must be finite")
    return exact.tolist()


def torch_loss(loss: Callable[..., Any] | str, reduction: str = "mean") -> Any:
    """The PyTorch twin of a chaingrad loss (the function or its name), as a module:
    ``torch_loss(nn.mse)`` is ``torch.nn.MSELoss()``. Fed the model's output on a
    batch and the targets as tensors of the same shape (class indices as a 1-D
    long tensor for ``softmax_cross_entropy``), it gives the value chaingrad's loss
    gives on the same examples, and the same gradients."""
    who = "torch_loss"
    name = loss if isinstance(loss, str) else getattr(loss, "__name__", None)
    if not isinstance(loss, str) and not callable(loss):
        raise TypeError(f"{who}: loss must be a chaingrad loss (e.g. nn.mse) or its name, "
                        f"got {type(loss).__name__}")
    if name not in TORCH_LOSSES or (not isinstance(loss, str) and LOSSES[name] is not loss):
        raise ValueError(f"{who}: {loss!r} is not one of chaingrad's losses "
                         f"({', '.join(TORCH_LOSSES)})")
    check_reduction(reduction, who, TORCH_REDUCTIONS)
    torch = _import_torch(who)
    if name == "hinge":
        return _torch_classes()["HingeLoss"](reduction=reduction)
    return getattr(torch.nn, TORCH_LOSSES[name].rsplit(".", 1)[1])(reduction=reduction)

