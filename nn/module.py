"""Module, Neuron, Layer and MLP: micrograd's three tiny classes, with names.

Every parameter is a leaf ``Value`` whose label is its name in the lessons' layout:
``L{l}.N{j}.w{k}`` is W^(l)_jk (into neuron j of layer l from neuron k of layer
l − 1) and ``L{l}.N{j}.b`` is b^(l)_j, all counted from 1. A forward pass labels
what it builds the same way: the pre-activation z^(l)_j is ``L{l}.N{j}.z``, the
activation a^(l)_j is ``L{l}.N{j}.a``, and plain-number inputs become leaves
``x1``, ``x2``, … . Diagrams read these labels to write z₁⁽²⁾, a₁⁽²⁾, w₂₃⁽¹⁾.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from contextlib import contextmanager
from functools import cache
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence, Union

from engine import Value, is_grad_enabled

from .checks import check_int, count, is_list, is_number
from .init import check_scheme, initial_bias, initial_weight
from .rng import Seed, as_rng

__all__ = ["Module", "Neuron", "Layer", "MLP", "Outputs", "ACTIVATIONS"]

Number = Union[int, float]

#: The activation functions by name; ``linear`` is the identity (no node is made).
ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    "linear": None,
    "relu": Value.relu,
    "sigmoid": Value.sigmoid,
    "tanh": Value.tanh,
}


def _check_activation(activation: object, who: str, argument: str = "activation") -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(f"{who}: {argument} must be one of "
                         f"{', '.join(map(repr, ACTIVATIONS))}, got {activation!r}")
    return activation  # type: ignore[return-value]


@cache
def _input_labels(nin: int) -> tuple[str, ...]:
    """``x1`` … ``x{nin}``: the labels of a model's inputs (written once per width)."""
    return tuple(f"x{i}" for i in range(1, nin + 1))


def _as_inputs(x: Any, nin: int, who: str) -> list[Value]:
    """The inputs as Values: numbers become leaves labelled ``x1``, ``x2``, …
    (their position), Values are used as they are (and keep their labels)."""
    if type(x) is not list and type(x) is not tuple:   # (lists first: no ABC checks)
        if isinstance(x, Value) or is_number(x):
            x = [x]
        elif isinstance(x, (str, bytes, Mapping)) or not isinstance(x, Iterable):
            raise TypeError(f"{who}: x must be a sequence of {nin} numbers or Values, "
                            f"got {type(x).__name__}")
        elif not isinstance(x, Sequence):
            x = list(x)                            # a generator, an array …
    if len(x) != nin:
        raise ValueError(f"{who}: expected {nin} input{'s' if nin != 1 else ''}, got {len(x)}")
    values = []
    for i, (xi, label) in enumerate(zip(x, _input_labels(nin)), 1):
        if isinstance(xi, Value):
            values.append(xi)
            continue
        try:                                       # ints, floats, numpy scalars, Fractions
            values.append(Value(xi, label))
        except TypeError:
            raise TypeError(f"{who}: input {i} must be a number or a Value, "
                            f"got {type(xi).__name__} {xi!r}") from None
    return values


class Outputs(list):
    """The Values a layer or a model with several outputs returns, one per neuron: a
    list, which explains itself when used as one Value (``outputs.backward()``)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or not hasattr(Value, name):
            raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")
        what = f"a list of {len(self)} Values (one per output neuron), not one Value"
        if name == "backward":
            raise AttributeError(f"{what}: backward() starts from a single number. Make "
                                 f"one first, e.g. a loss such as nn.mse(outputs, targets) "
                                 f"or sum(outputs), and call .backward() on it")
        raise AttributeError(f"{what}: take one (outputs[0].{name}) or all "
                             f"([v.{name} for v in outputs])")


class Module(ABC):
    """Something with parameters that maps inputs to outputs.

    Subclasses say which parameters they hold (``named_parameters``) and how they
    compute (``__call__``); gradients, zeroing and state dicts come from here."""

    @abstractmethod
    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        """(name, parameter) pairs in a fixed order; the name is the parameter's label."""

    @abstractmethod
    def __call__(self, x: Any) -> Any:
        """The forward pass."""

    def parameters(self) -> list[Value]:
        """Every parameter, in ``named_parameters`` order (what an optimizer updates)."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0 (leaves accumulate across backward calls)."""
        for p in self.parameters():
            p.grad = 0.0

    #: The attributes a forward pass (with gradients on) sets on this module and
    #: that keep its graph alive: a Neuron's last ``z`` and ``a``.
    forward_keeps: tuple[str, ...] = ()

    def _modules(self) -> Iterator[Module]:
        """This module and, depth first, every sub-module held in an attribute or in
        a list or tuple attribute (Layer.neurons, MLP.layers)."""
        stack: list[Module] = [self]
        seen: set[int] = set()
        while stack:
            module = stack.pop()
            if id(module) in seen:                 # held twice, or holding its holder
                continue
            seen.add(id(module))
            yield module
            for value in reversed(list(vars(module).values())):
                items = value if isinstance(value, (list, tuple)) else (value,)
                stack.extend(item for item in reversed(items) if isinstance(item, Module))

    def release_graph(self) -> None:
        """Drop what the module keeps of its last forward pass, so that graph can be
        freed: every ``forward_keeps`` attribute of it and of its sub-modules (a
        Neuron's ``z`` and ``a``) becomes None."""
        for module in self._modules():
            for name in module.forward_keeps:
                setattr(module, name, None)

    @contextmanager
    def keep_last_pass(self) -> Iterator[None]:
        """Forward passes inside leave the module as it was: on leaving, every
        ``forward_keeps`` attribute (each neuron's ``z`` and ``a``, what
        ``draw_network`` shows) is put back. For a pass that needs a graph but is
        not the user's, such as the one ``viz.plot_decision_boundary`` compiles::

            with model.keep_last_pass():
                scratch = model([x1, x2])       # a graph; the model still shows the last one
        """
        missing = object()                       # not set yet: none was kept
        kept = [(module, name, getattr(module, name, missing)) for module in self._modules()
                for name in module.forward_keeps]
        try:
            yield
        finally:
            for module, name, value in kept:
                if value is not missing:
                    setattr(module, name, value)
                elif hasattr(module, name):
                    delattr(module, name)

    def state_dict(self) -> dict[str, float]:
        """{name: value} of every parameter, as plain floats (a snapshot, not views)."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Number]) -> None:
        """Set every parameter from ``state`` (as made by ``state_dict``).

        The names must match exactly: a missing or unexpected name is a ValueError
        listing them, and nothing is changed. The parameter Values stay the same
        objects, so an optimizer holding them keeps working."""
        who = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, Mapping):
            raise TypeError(f"{who}: state must be a mapping of name to number, "
                            f"got {type(state).__name__}")
        named = dict(self.named_parameters())
        missing = [name for name in named if name not in state]
        unexpected = [name for name in state if name not in named]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(missing[:5])}"
                             f"{' …' if len(missing) > 5 else ''}")
            if unexpected:
                parts.append(f"unexpected {', '.join(map(str, unexpected[:5]))}"
                             f"{' …' if len(unexpected) > 5 else ''}")
            raise ValueError(f"{who}: the state does not fit this model: {'; '.join(parts)}")
        for name, value in state.items():
            if not is_number(value) or not math.isfinite(value):
                raise ValueError(f"{who}: {name} must be a finite number, got {value!r}")
        for name, p in named.items():
            p.data = float(state[name])


class Neuron(Module):
    """z = Σ_k w_k x_k + b, a = f(z).

    ``w`` (list of Values), ``b``, ``activation`` (its name) and, after a forward
    call, ``z`` and ``a``: the last pre-activation and activation Values, so
    ``neuron.z.grad`` is δ = ∂L/∂z after a backward pass (what ``viz.draw_network``
    shows) and ``neuron.a.grad`` is ∂L/∂a, not δ (they differ by the factor f′(z);
    for a linear neuron ``a`` is ``z``). None before any call; a call with gradient
    recording off (``no_grad()``, ``nn.predict``) leaves them as they were.
    Keeping them keeps that example's graph alive after the loss is dropped;
    ``release_graph()`` lets it go. ``name`` prefixes the parameter labels
    (``L1.N2`` gives ``L1.N2.w1`` … ``L1.N2.b``). ``fan_out`` only matters for
    ``init="xavier"`` (a Layer passes its width)."""

    forward_keeps = ("z", "a")

    def __init__(self, nin: int, activation: str = "relu", init: str = "he",
                 seed: Seed = None, *, name: str = "", fan_out: int = 1) -> None:
        who = "Neuron"
        check_int(nin, who, "nin")
        check_int(fan_out, who, "fan_out")
        self.activation = _check_activation(activation, who)
        check_scheme(init, who)
        if not isinstance(name, str):
            raise TypeError(f"{who}: name must be a str, got {type(name).__name__}")
        rng = as_rng(seed, who)
        self.name = name
        prefix = f"{name}." if name else ""
        self.w = [Value(initial_weight(init, nin, fan_out, rng), label=f"{prefix}w{k}")
                  for k in range(1, nin + 1)]
        self.b = Value(initial_bias(init, nin, rng), label=f"{prefix}b")
        self.z: Value | None = None
        self.a: Value | None = None
        self._f = ACTIVATIONS[activation]
        self._z_label = f"{prefix}z"
        self._a_label = f"{prefix}a"

    @property
    def nin(self) -> int:
        """How many inputs the neuron takes."""
        return len(self.w)

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        prefix = f"{self.name}." if self.name else ""
        for k, w in enumerate(self.w, 1):
            yield f"{prefix}w{k}", w
        yield f"{prefix}b", self.b

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]          # named_parameters' order, without writing names

    def __call__(self, x: Sequence[Value | Number] | Value | Number) -> Value:
        """a = f(Σ_k w_k x_k + b) for one example ``x`` (numbers or Values)."""
        return self._forward(_as_inputs(x, self.nin, "Neuron"))

    def _forward(self, x: list[Value], skip: Value | None = None) -> Value:
        """The forward pass on checked inputs; ``skip`` (a residual path) is added
        after the activation: a = f(z) + skip."""
        w = self.w
        z = w[0] * x[0]
        for k in range(1, len(w)):
            z = z + w[k] * x[k]
        z = z + self.b
        z.label = self._z_label
        f = self._f
        a = z
        if f is not None or skip is not None:
            a = z if f is None else f(z)
            if skip is not None:
                a = a + skip
            a.label = self._a_label
        if is_grad_enabled():                      # a graph worth a δ: keep it for viz
            self.z, self.a = z, a
        return a

    def __repr__(self) -> str:
        name = f", name={self.name!r}" if self.name else ""
        return f"Neuron({self.nin}, activation={self.activation!r}{name})"


class Layer(Module):
    """``nout`` neurons reading the same inputs: a^(l) = f(W^(l) a^(l−1) + b^(l)).

    With ``residual=True`` (needs ``nin == nout``) the inputs are added back:
    a^(l) = f(W^(l) a^(l−1) + b^(l)) + a^(l−1). A call returns a list of Values
    (one per neuron), even for one neuron."""

    def __init__(self, nin: int, nout: int, activation: str = "relu", init: str = "he",
                 seed: Seed = None, *, name: str = "", residual: bool = False) -> None:
        who = "Layer"
        check_int(nin, who, "nin")
        check_int(nout, who, "nout")
        _check_activation(activation, who)
        check_scheme(init, who)
        if not isinstance(name, str):
            raise TypeError(f"{who}: name must be a str, got {type(name).__name__}")
        if not isinstance(residual, bool):
            raise TypeError(f"{who}: residual must be a bool, got {type(residual).__name__}")
        if residual and nin != nout:
            raise ValueError(f"{who}: residual=True adds a^(l−1) to a^(l), so it needs "
                             f"nin == nout, got nin={nin}, nout={nout}")
        rng = as_rng(seed, who)
        self.name = name
        self.activation = activation
        self.residual = residual
        prefix = f"{name}." if name else ""
        self.neurons = [Neuron(nin, activation, init, rng, name=f"{prefix}N{j}", fan_out=nout)
                        for j in range(1, nout + 1)]

    @property
    def nin(self) -> int:
        """How many inputs each neuron takes."""
        return self.neurons[0].nin

    @property
    def nout(self) -> int:
        """How many neurons (outputs) the layer has."""
        return len(self.neurons)

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        for neuron in self.neurons:
            yield from neuron.named_parameters()

    def parameters(self) -> list[Value]:
        return [p for neuron in self.neurons for p in (*neuron.w, neuron.b)]

    def __call__(self, x: Sequence[Value | Number] | Value | Number) -> Outputs:
        """The layer's activations for one example ``x`` (numbers or Values)."""
        return Outputs(self._forward(_as_inputs(x, self.nin, "Layer")))

    def _forward(self, x: list[Value]) -> list[Value]:
        if self.residual:
            return [n._forward(x, x[j]) for j, n in enumerate(self.neurons)]
        return [n._forward(x) for n in self.neurons]

    def __repr__(self) -> str:
        extra = f", name={self.name!r}" if self.name else ""
        if self.residual:
            extra += ", residual=True"
        return f"Layer({self.nin}, {self.nout}, activation={self.activation!r}{extra})"


class MLP(Module):
    """A multilayer perceptron: ``MLP(2, [16, 16, 1])`` is 2 inputs, two ReLU hidden
    layers of 16 and one linear output, as in micrograd.

    Hidden layers use ``activation``, the last layer ``output_activation`` (one of
    ``linear``, ``relu``, ``sigmoid``, ``tanh``). ``init`` draws the first weights
    (``he``, ``xavier``, ``uniform``, ``torch`` or ``zeros``; biases start at 0 but
    for ``torch``, PyTorch's U(±1/√fan_in) for both) from ``seed``
    (an int or a ``random.Random``; None draws a fresh seed from the OS).
    ``residual=True`` adds the identity path a^(l) = f(W a^(l−1) + b) + a^(l−1) to
    every hidden layer whose width equals its input width.

    A call takes one example (a sequence of ``nin`` numbers or Values) and returns
    a single Value when the last layer has one neuron, else a list. Each neuron
    keeps its last pre-activation z for diagrams (δ = ``neuron.z.grad``), which
    keeps the last example's forward graph alive after the loss is dropped;
    ``model.release_graph()`` frees it (forward passes under ``no_grad()`` keep
    nothing)."""

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "relu",
                 output_activation: str = "linear", init: str = "he", seed: Seed = None,
                 residual: bool = False) -> None:
        who = "MLP"
        check_int(nin, who, "nin")
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(f"{who}: nouts must be a non-empty list of layer widths, "
                             f"got {nouts!r}")
        for index, n in enumerate(nouts):
            check_int(n, who, f"nouts[{index}] (the width of layer {index + 1})")
        _check_activation(activation, who)
        _check_activation(output_activation, who, "output_activation")
        check_scheme(init, who)
        if not isinstance(residual, bool):
            raise TypeError(f"{who}: residual must be a bool, got {type(residual).__name__}")
        rng = as_rng(seed, who)
        self.nin = nin
        self.nouts = list(nouts)
        self.activation = activation
        self.output_activation = output_activation
        self.residual = residual
        sizes = [nin, *self.nouts]
        last = len(self.nouts)
        self.layers = [
            Layer(sizes[n - 1], sizes[n],
                  output_activation if n == last else activation, init, rng,
                  name=f"L{n}", residual=residual and n < last and sizes[n - 1] == sizes[n])
            for n in range(1, last + 1)]

    @classmethod
    def from_weights(cls, weights: Sequence[Sequence[Sequence[Number]]],
                     biases: Sequence[Sequence[Number]], activation: str = "relu",
                     output_activation: str = "linear", residual: bool = False) -> MLP:
        """An MLP with the weights you chose, in the lessons' layout.

        ``weights[l][j][i]`` is the weight from neuron i of layer l to neuron j of
        layer l + 1 (row j of the matrix W, indices from 0; layer 0 is the input),
        i.e. W^(l+1)_(j+1)(i+1), the parameter ``L{l+1}.N{j+1}.w{i+1}``;
        ``biases[l][j]`` is the bias of neuron j of layer l + 1. Shapes are checked:
        a ragged or mismatched matrix is a ValueError saying which and why."""
        who = "MLP.from_weights"
        nin, nouts = _check_shapes(weights, biases, who)
        model = cls(nin, nouts, activation, output_activation, init="zeros", seed=0,
                    residual=residual)
        for layer, matrix, bias in zip(model.layers, weights, biases):
            for neuron, row, b in zip(layer.neurons, matrix, bias):
                for w, value in zip(neuron.w, row):
                    w.data = float(value)
                neuron.b.data = float(b)
        return model

    def weights(self) -> list[list[list[float]]]:
        """The weights as plain floats, in ``from_weights``' layout: ``[l][j][i]``."""
        return [[[w.data for w in n.w] for n in layer.neurons] for layer in self.layers]

    def biases(self) -> list[list[float]]:
        """The biases as plain floats, in ``from_weights``' layout: ``[l][j]``."""
        return [[n.b.data for n in layer.neurons] for layer in self.layers]

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        for layer in self.layers:
            yield from layer.named_parameters()

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for neuron in layer.neurons
                for p in (*neuron.w, neuron.b)]

    def __call__(self, x: Sequence[Value | Number] | Value | Number) -> Value | Outputs:
        """ŷ for one example ``x``: a Value if the last layer has one neuron, else a
        list of Values (an ``Outputs``, which says so if asked to ``backward()``)."""
        a = _as_inputs(x, self.nin, "MLP")
        for layer in self.layers:
            a = layer._forward(a)
        return a[0] if len(a) == 1 else Outputs(a)

    def __repr__(self) -> str:
        extra = ", residual=True" if self.residual else ""
        return (f"MLP({self.nin}, {self.nouts}, activation={self.activation!r}, "
                f"output_activation={self.output_activation!r}{extra})")


def _check_shapes(weights: Any, biases: Any, who: str) -> tuple[int, list[int]]:
    """(nin, nouts) of a weights/biases pair, or a ValueError naming the first misfit."""
    layout = ("weights[l][j][i] is the weight from neuron i of layer l to neuron j of "
              "layer l+1 (row j of W)")

    if not is_list(weights) or not weights:
        raise ValueError(f"{who}: weights must be a non-empty list of matrices (one per "
                         f"layer), got {weights!r}; {layout}")
    if not is_list(biases):
        raise ValueError(f"{who}: biases must be a list of vectors (one per layer), "
                         f"got {biases!r}")
    if len(biases) != len(weights):
        raise ValueError(f"{who}: {len(weights)} weight matrices but {len(biases)} bias "
                         f"vectors; there must be one of each per layer")
    width = None                                 # neurons in the layer below
    nin = 0
    nouts = []
    for li, (matrix, bias) in enumerate(zip(weights, biases)):
        if not is_list(matrix) or not matrix:
            raise ValueError(f"{who}: weights[{li}] must be a non-empty matrix (a list of "
                             f"rows), got {matrix!r}")
        for j, row in enumerate(matrix):
            if not is_list(row) or not row:
                raise ValueError(f"{who}: weights[{li}][{j}] must be a non-empty row of "
                                 f"numbers, got {row!r}")
            if width is None:
                width = len(row)
            if len(row) != width:
                source = "the input" if li == 0 else f"layer {li}"
                rows = "" if li == 0 else f" (weights[{li - 1}] has {count(width, 'row')})"
                raise ValueError(
                    f"{who}: weights[{li}][{j}] has {count(len(row), 'entry', 'entries')} but "
                    f"{source} has {count(width, 'input' if li == 0 else 'neuron')}{rows}; "
                    f"{layout}")
            for i, w in enumerate(row):
                if not is_number(w) or not math.isfinite(w):
                    raise ValueError(f"{who}: weights[{li}][{j}][{i}] must be a finite "
                                     f"number, got {w!r}")
        if not is_list(bias) or len(bias) != len(matrix):
            got = count(len(bias), "entry", "entries") if is_list(bias) else repr(bias)
            raise ValueError(f"{who}: biases[{li}] must have one entry per neuron of layer "
                             f"{li + 1} ({len(matrix)}, the rows of weights[{li}]), got {got}")
        for j, b in enumerate(bias):
            if not is_number(b) or not math.isfinite(b):
                raise ValueError(f"{who}: biases[{li}][{j}] must be a finite number, got {b!r}")
        if li == 0:
            nin = width
        nouts.append(len(matrix))
        width = len(matrix)
    return nin, nouts
