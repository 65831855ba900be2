"""PyTorch interop: a model carried to PyTorch computes the same function, so the same
data give the same loss and the same gradient for every parameter (float64, 1e-12
relative) and a few optimizer steps on each side leave the same parameters; both
ways copy every weight exactly. Tests that need torch skip, saying how to install it.

Only the order of the sums differs (PyTorch multiplies matrices), so the last bits
can too: a gradient that is a sum of terms cancelling to almost nothing (two
examples pulling a weight opposite ways; a hinge gradient of 7e-18 on our side is 0
on PyTorch's) is rounding noise, so it is compared to 1e-12 of the model's largest
gradient instead."""

from __future__ import annotations

import math
import pickle
import random
import subprocess
import sys

import pytest

import nn
from nn import ACTIVATIONS, MLP, from_torch, to_torch, torch_loss, torch_names
from nn.interop import TORCH_ACTIVATIONS, TORCH_LOSSES

INSTALL = "pip install torch==2.13.0"
NAMES = sorted(ACTIVATIONS)                  # every activation, hidden or output


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason=f"PyTorch is not installed ({INSTALL})")


def close(ours: float, theirs: float, scale: float = 0.0) -> bool:
    """Equal to 1e-12 relative; a number far smaller than ``scale`` (a gradient that
    cancels to almost nothing, whose last digits are rounding noise on either side)
    to 1e-12 of ``scale``."""
    return math.isclose(ours, theirs, rel_tol=1e-12, abs_tol=1e-12 * scale)


def _model(activation="tanh", output_activation="linear", residual=False, nout=1, seed=0,
           nin=3):
    """Three hidden layers of 4 (the second and third as wide as their input, so
    residual=True gives them the identity path), ``nout`` outputs."""
    return MLP(nin, [4, 4, 4, nout], activation, output_activation, init="xavier", seed=seed,
               residual=residual)


# ---- without torch ---------------------------------------------------------------------------
def test_import_nn_does_not_import_torch():
    code = "import sys, nn, engine; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "False"


def test_without_torch_each_function_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)        # `import torch` now fails
    model = MLP(2, [3, 1], seed=0)
    for call, who in [(lambda: to_torch(model), "to_torch"),
                      (lambda: from_torch(object()), "from_torch"),
                      (lambda: torch_loss(nn.mse), "torch_loss")]:
        with pytest.raises(ImportError, match=f"{who} needs PyTorch.*{INSTALL}"):
            call()
    assert torch_names(model)["L1.N2.w1"] == ("0.weight", (1, 0))   # names need no torch


# ---- names -----------------------------------------------------------------------------------
def test_torch_names_in_the_lessons_layout():
    names = torch_names(MLP(3, [2, 1], seed=0))
    assert names["L1.N2.w3"] == ("0.weight", (1, 2))      # W⁽¹⁾₂₃ is weight[1, 2]
    assert names["L1.N2.b"] == ("0.bias", (1,))
    assert names["L2.N1.w2"] == ("2.weight", (0, 1))      # after ReLU, module 1
    assert list(names) == [name for name, _ in MLP(3, [2, 1], seed=0).named_parameters()]


def test_torch_names_skip_no_module_for_a_linear_activation_and_enter_residual_blocks():
    plain = torch_names(MLP(2, [3, 1], activation="linear", seed=0))
    assert plain["L2.N1.w3"] == ("1.weight", (0, 2))
    residual = torch_names(_model(residual=True))
    assert [residual[f"L{n}.N1.b"][0] for n in (1, 2, 3, 4)] == \
        ["0.bias", "2.0.bias", "3.0.bias", "4.bias"]


@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("activation", NAMES)
def test_every_name_points_at_the_same_number(torch, activation, residual):
    model = _model(activation, "sigmoid", residual, nout=2)
    tensors = dict(to_torch(model).named_parameters())
    names = torch_names(model)
    assert len(names) == sum(t.numel() for t in tensors.values())
    for label, p in model.named_parameters():
        tensor, index = names[label]
        assert tensors[tensor][index].item() == p.data, label


# ---- both ways, exactly ----------------------------------------------------------------------
@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("output_activation", NAMES)
@pytest.mark.parametrize("activation", NAMES)
def test_a_round_trip_gives_the_same_model_exactly(torch, activation, output_activation,
                                                    residual):
    model = _model(activation, output_activation, residual, nout=2, seed=3)
    module = to_torch(model)
    for layer, weights, biases in zip([m for m in module.modules()
                                       if isinstance(m, torch.nn.Linear)],
                                      model.weights(), model.biases()):
        assert layer.weight.dtype == torch.float64
        assert layer.weight.tolist() == weights and layer.bias.tolist() == biases
    back = from_torch(module)
    assert repr(back) == repr(model)
    assert back.state_dict() == model.state_dict()       # every float, to the bit


def test_to_torch_leaves_torchs_random_generator_alone(torch):
    torch.manual_seed(0)
    state = torch.get_rng_state()
    module = to_torch(_model(residual=True))
    assert torch.equal(torch.get_rng_state(), state)
    assert all(p.device.type == "cpu" and p.requires_grad for p in module.parameters())


def test_a_sequential_comes_back_the_same_from_an_mlp(torch):
    torch.manual_seed(0)
    made = torch.nn.Sequential(torch.nn.Linear(2, 5), torch.nn.Tanh(),
                               torch.nn.Linear(5, 5), torch.nn.Tanh(),
                               torch.nn.Linear(5, 1), torch.nn.Sigmoid())  # float32
    model = from_torch(made)
    assert repr(model) == ("MLP(2, [5, 5, 1], activation='tanh', "
                           "output_activation='sigmoid')")
    again = to_torch(model, dtype=torch.float32)
    assert str(again) == str(made)
    for (name, theirs), (again_name, ours) in zip(made.state_dict().items(),
                                                   again.state_dict().items()):
        assert name == again_name and torch.equal(theirs, ours), name
    assert torch_names(model)["L2.N4.w3"] == ("2.weight", (3, 2))
    tensors = dict(made.named_parameters())               # the names fit the original too
    for label, p in model.named_parameters():
        tensor, index = torch_names(model)[label]
        assert tensors[tensor][index].item() == p.data, label


def test_one_linear_layer_and_an_mlp_without_hidden_layers(torch):
    model = from_torch(torch.nn.Sequential(torch.nn.Linear(3, 2, dtype=torch.float64)))
    assert (model.nin, model.nouts, model.output_activation) == (3, [2], "linear")
    assert str(to_torch(model)) == str(torch.nn.Sequential(torch.nn.Linear(3, 2)))


def test_a_residual_module_pickles(torch):
    module = to_torch(_model("relu", residual=True))
    again = pickle.loads(pickle.dumps(module))
    x = torch.ones(2, 3, dtype=torch.float64)
    assert type(again[2]) is nn.interop.Residual
    assert torch.equal(again(x), module(x))


# ---- the same loss and the same gradients ----------------------------------------------------
def _targets(loss, nout, rng, n):
    if loss is nn.softmax_cross_entropy:
        return [rng.randrange(nout) for _ in range(n)]
    if loss is nn.hinge:
        return [rng.choice((-1.0, 1.0)) for _ in range(n)]
    if loss is nn.bce_with_logits:
        return [float(rng.randrange(2)) for _ in range(n)]
    if nout == 1:
        return [rng.random() for _ in range(n)]         # soft targets for mse and bce
    return [[rng.uniform(-1, 1) for _ in range(nout)] for _ in range(n)]


def _torch_targets(torch, loss, targets):
    if loss is nn.softmax_cross_entropy:
        return torch.tensor(targets)                      # class indices, int64
    shaped = [t if isinstance(t, list) else [t] for t in targets]
    return torch.tensor(shaped, dtype=torch.float64)      # (N, nout), like the output


LOSS_CASES = [(nn.mse, "linear", 2), (nn.mse, "relu", 2), (nn.mse, "tanh", 1),
              (nn.mse, "sigmoid", 1), (nn.bce, "sigmoid", 1), (nn.bce_with_logits, "linear", 1),
              (nn.hinge, "linear", 1), (nn.softmax_cross_entropy, "linear", 3)]


@pytest.mark.parametrize("loss, output_activation, nout", LOSS_CASES,
                         ids=[f"{f.__name__}-{out}" for f, out, _ in LOSS_CASES])
@pytest.mark.parametrize("residual", [False, True], ids=["plain", "residual"])
@pytest.mark.parametrize("activation", NAMES)
def test_same_data_same_loss_same_gradient_for_every_parameter(torch, activation, residual,
                                                              loss, output_activation, nout):
    rng = random.Random(f"{activation}{residual}{loss.__name__}{output_activation}")
    model = _model(activation, output_activation, residual, nout, seed=rng.randrange(1000))
    for neuron in (n for layer in model.layers for n in layer.neurons):
        neuron.b.data = rng.uniform(-0.5, 0.5)            # biases start at 0: move them
    X = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(8)]
    y = _targets(loss, nout, rng, len(X))
    module = to_torch(model)

    ours = loss([model(x) for x in X], y)
    ours.backward()
    theirs = torch_loss(loss)(module(torch.tensor(X, dtype=torch.float64)),
                              _torch_targets(torch, loss, y))
    theirs.backward()

    assert close(ours.data, theirs.item()), (ours.data, theirs.item())
    tensors = dict(module.named_parameters())
    parameters = dict(model.named_parameters())
    largest = max(abs(p.grad) for p in parameters.values())
    for label, (tensor, index) in torch_names(model).items():
        mine, reference = parameters[label].grad, tensors[tensor].grad[index].item()
        assert close(mine, reference, largest), (label, mine, reference)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_each_loss_names_its_twin(torch, reduction):
    twins = {name: torch_loss(name, reduction) for name in TORCH_LOSSES}
    assert type(twins["mse"]) is torch.nn.MSELoss
    assert type(twins["bce"]) is torch.nn.BCELoss
    assert type(twins["bce_with_logits"]) is torch.nn.BCEWithLogitsLoss
    assert type(twins["softmax_cross_entropy"]) is torch.nn.CrossEntropyLoss
    assert type(twins["hinge"]) is nn.interop.HingeLoss
    assert all(twin.reduction == reduction for twin in twins.values())
    assert type(torch_loss(nn.bce_with_logits)) is torch.nn.BCEWithLogitsLoss
    scores, signs = [0.5, -2.0, 1.5], [1.0, 1.0, -1.0]     # max(0, 1 − y·ŷ): ½, 3, 5/2
    value = twins["hinge"](torch.tensor(scores), torch.tensor(signs)).item()
    assert value == pytest.approx(6.0 if reduction == "sum" else 2.0)
    assert value == pytest.approx(nn.hinge(scores, signs, reduction=reduction).data)


def test_batchmean_and_half_are_had_from_the_sum_twin(torch):
    """What docs/graduate.md says: batchmean is the "sum" twin over the batch size, and
    mse(half=True) half of MSELoss."""
    pred = [[0.2, 0.9], [0.4, -0.3], [1.5, 0.0]]                  # 3 examples, 2 outputs
    target = [[1.0, 0.0], [0.5, 0.5], [1.0, -1.0]]
    total = torch_loss(nn.mse, "sum")(torch.tensor(pred, dtype=torch.float64),
                                      torch.tensor(target, dtype=torch.float64)).item()
    assert nn.mse(pred, target, reduction="batchmean").data == pytest.approx(total / 3,
                                                                             rel=1e-15)
    assert nn.mse(pred, target, reduction="sum", half=True).data == pytest.approx(total / 2,
                                                                                  rel=1e-15)


# ---- training on both sides ------------------------------------------------------------------
OPTIMIZERS = [("SGD", {"lr": 0.1, "momentum": 0.9}),
              ("Adam", {"lr": 0.02, "betas": (0.8, 0.99), "weight_decay": 0.01})]


@pytest.mark.parametrize("kind, kwargs", OPTIMIZERS, ids=[k for k, _ in OPTIMIZERS])
@pytest.mark.parametrize("residual", [False, True], ids=["plain", "residual"])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_training_both_leaves_the_same_parameters(torch, activation, residual, kind, kwargs):
    X, y = nn.datasets.moons(20, noise=0.1, seed=1)
    model = _model(activation, "linear", residual, seed=2, nin=2)
    start = model.state_dict()
    module = to_torch(model)
    optimizer = getattr(nn, kind)(model.parameters(), **kwargs)
    reference = getattr(torch.optim, kind)(module.parameters(), **kwargs)
    X_t = torch.tensor(X, dtype=torch.float64)
    y_t = torch.tensor(y, dtype=torch.float64).reshape(-1, 1)
    twin = torch_loss(nn.bce_with_logits)
    for step in range(1, 6):
        optimizer.zero_grad()
        loss = nn.bce_with_logits([model(x) for x in X], y)
        loss.backward()
        optimizer.step()
        reference.zero_grad()
        their_loss = twin(module(X_t), y_t)
        their_loss.backward()
        reference.step()
        assert close(loss.data, their_loss.item()), f"step {step}"
    back = from_torch(module).state_dict()                # and home again
    for label, ours in model.state_dict().items():
        assert close(ours, back[label]), (label, ours, back[label])
    moved = [label for label, w in model.state_dict().items() if w != start[label]]
    assert len(moved) > len(start) // 2                  # (a dead ReLU's weights stay)


# ---- bad input -------------------------------------------------------------------------------
def _sequential(torch, *layers):
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("make, error, message", [
    (lambda t: t.nn.Linear(2, 1), TypeError, r"got Linear; wrap it: torch.nn.Sequential"),
    (lambda t: [t.nn.Linear(2, 1)], TypeError, r"must be a torch.nn.Sequential.*got list"),
    (lambda t: _sequential(t), ValueError, "has no Linear layer"),
    (lambda t: _sequential(t, t.nn.Linear(2, 3), t.nn.Dropout(0.5), t.nn.Linear(3, 1)),
     ValueError, r"layer '1' \(Dropout\(p=0.5, inplace=False\)\) is a Dropout, which an MLP "
                 r"cannot hold; an MLP is Linear layers each followed by at most one of "
                 r"ReLU, Tanh, Sigmoid"),
    (lambda t: _sequential(t, t.nn.Linear(2, 3), t.nn.LeakyReLU(), t.nn.Linear(3, 1)),
     ValueError, "is a LeakyReLU"),
    (lambda t: _sequential(t, t.nn.ReLU(), t.nn.Linear(2, 1)),
     ValueError, "layer '0' .* comes before any Linear layer"),
    (lambda t: _sequential(t, t.nn.Linear(2, 3), t.nn.ReLU(), t.nn.Tanh()),
     ValueError, "layer '2' .* follows another activation"),
    (lambda t: _sequential(t, t.nn.Linear(2, 3), t.nn.Linear(4, 1)),
     ValueError, "layer '1' takes 4 inputs but layer '0' gives 3"),
    (lambda t: _sequential(t, t.nn.Linear(2, 3, bias=False)),
     ValueError, "layer '0' is a Linear without bias"),
    (lambda t: _sequential(t, t.nn.Linear(2, 3), t.nn.ReLU(), t.nn.Linear(3, 3), t.nn.Tanh(),
                           t.nn.Linear(3, 1)),
     ValueError, "share one activation, but this Sequential has relu after '0', tanh after '2'"),
    (lambda t: _sequential(t, t.nn.Linear(2, 2), nn.interop.Residual(t.nn.Linear(2, 2))),
     ValueError, "the last layer '1.0' is a Residual block"),
    (lambda t: _sequential(t, t.nn.Linear(2, 3), t.nn.ReLU(),
                           nn.interop.Residual(t.nn.Linear(3, 3), t.nn.ReLU()),
                           t.nn.Linear(3, 3), t.nn.ReLU(), t.nn.Linear(3, 1)),
     ValueError, "layer '3' is as wide as its input but has no residual connection"),
    (lambda t: _sequential(t, nn.interop.Residual(t.nn.Linear(2, 3)), t.nn.Linear(3, 1)),
     ValueError, r"Residual block '0.0' .* in_features == out_features, got 2 and 3"),
    (lambda t: _sequential(t, nn.interop.Residual(t.nn.ReLU()), t.nn.Linear(2, 1)),
     ValueError, "is a Residual block that is not one Linear layer"),
])
def test_from_torch_names_what_an_mlp_cannot_hold(torch, make, error, message):
    with pytest.raises(error, match=f"(?s)^from_torch: .*{message}"):
        from_torch(make(torch))


def test_from_torch_refuses_a_weight_that_is_not_finite(torch):
    module = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    with torch.no_grad():
        module[2].weight[0, 1] = math.nan
    with pytest.raises(ValueError, match=r"from_torch: '2.weight'\[0, 1\] is nan"):
        from_torch(module)


def test_to_torch_and_torch_loss_check_their_arguments(torch):
    model = MLP(2, [1], seed=0)
    with pytest.raises(TypeError, match="to_torch: model must be an nn.MLP, got str"):
        to_torch("model")
    with pytest.raises(TypeError, match="to_torch: dtype must be a torch.dtype"):
        to_torch(model, dtype="float64")
    with pytest.raises(ValueError, match="to_torch: dtype must be a floating-point type"):
        to_torch(model, dtype=torch.int64)
    with pytest.raises(TypeError, match="torch_names: model must be an nn.MLP"):
        torch_names(to_torch(model))
    with pytest.raises(ValueError, match="torch_loss: 'nope' is not one of chaingrad's losses"):
        torch_loss("nope")
    with pytest.raises(ValueError, match="torch_loss: .* is not one of chaingrad's losses"):
        torch_loss(lambda pred, target: pred)
    with pytest.raises(TypeError, match="torch_loss: loss must be a chaingrad loss"):
        torch_loss(3)
    with pytest.raises(ValueError, match="torch_loss: reduction must be 'mean' or 'sum'"):
        torch_loss(nn.mse, reduction="none")
    # chaingrad's losses also take the lessons' batchmean; PyTorch's twins do not
    with pytest.raises(ValueError, match="torch_loss: reduction must be 'mean' or 'sum', "
                                         "got 'batchmean'"):
        torch_loss(nn.mse, reduction="batchmean")
    with pytest.raises(ValueError, match="HingeLoss: reduction must be 'mean' or 'sum'"):
        nn.interop.HingeLoss(reduction="batchmean")


def test_every_activation_and_every_loss_has_a_twin():
    assert set(ACTIVATIONS) == {"linear", *TORCH_ACTIVATIONS}
    assert set(TORCH_LOSSES) == set(nn.losses.LOSSES)
