"""fit, predict and accuracy: models that learn (XOR, moons, the lessons' XOR
exercise), a history whose first entry is computed independently, mini-batches,
the progress bar, and divergence that names its epoch."""

from __future__ import annotations

import functools
import math
import sys

import pytest

from engine import Value
from nn import (
    MLP,
    SGD,
    Adam,
    DivergenceError,
    History,
    accuracy,
    bce_with_logits,
    datasets,
    fit,
    hinge,
    mse,
    predict,
    softmax_cross_entropy,
)
from nn.losses import LOSSES, OUTPUTS


# ---- models that learn ----------------------------------------------------------------------
def test_the_lessons_xor_exercise_reaches_loss_below_0_01():
    """LESSONS.md: 2 → 2 → 1, ReLU hidden, sigmoid out, lr 0.5, 5000 steps, loss < 0.01.
    It fails for unlucky seeds (a dead or redundant hidden unit); seed 4 succeeds."""
    X, y = datasets.xor()
    model = MLP(2, [2, 1], activation="relu", output_activation="sigmoid", seed=4)
    history = fit(model, X, y, mse, SGD(model.parameters(), lr=0.5), epochs=5000,
                  progress=False)
    assert len(history) == 5000
    assert history.loss[-1] < 0.01
    assert accuracy(predict(model, X), y) == 1.0
    assert history.accuracy[-1] == 1.0


def test_an_unlucky_seed_is_stuck_as_the_docs_say():
    X, y = datasets.xor()
    model = MLP(2, [2, 1], activation="relu", output_activation="sigmoid", seed=0)
    history = fit(model, X, y, mse, SGD(model.parameters(), lr=0.5), epochs=5000,
                  progress=False)
    assert history.loss[-1] > 0.1 and accuracy(predict(model, X), y) < 1.0


def test_moons_reaches_95_percent():
    X, y = datasets.moons(60, noise=0.1, seed=0)
    model = MLP(2, [16, 16, 1], seed=0)
    history = fit(model, X, y, bce_with_logits, Adam(model.parameters(), lr=0.05), epochs=50,
                  progress=False)
    assert accuracy(predict(model, X), y, threshold=0.0) >= 0.95
    assert history.loss[-1] < history.loss[0] / 3


def test_hinge_loss_with_plus_minus_one_labels_and_minibatches():
    X, y01 = datasets.moons(40, noise=0.05, seed=2)
    y = [2 * t - 1 for t in y01]
    model = MLP(2, [8, 8, 1], seed=0)
    fit(model, X, y, hinge, Adam(model, lr=0.02), epochs=60, batch_size=10, progress=False,
        seed=0)
    assert accuracy(predict(model, X), y) >= 0.95


def test_several_classes_with_softmax_cross_entropy():
    X, y = datasets.spiral(30, classes=3, noise=0.05, seed=0)
    model = MLP(2, [12, 3], activation="tanh", init="xavier", seed=0)
    before = accuracy(predict(model, X), y)
    history = fit(model, X, y, softmax_cross_entropy, Adam(model, lr=0.05), epochs=40,
                  progress=False)
    assert history.accuracy[0] == before                  # argmax of the first outputs
    assert history.loss[-1] < history.loss[0]
    assert accuracy(predict(model, X), y) > before


# ---- the history ----------------------------------------------------------------------------
def test_history_starts_from_the_untrained_model():
    X, y = datasets.moons(12, noise=0.1, seed=1)
    model = MLP(2, [4, 1], output_activation="sigmoid", seed=1)
    start = predict(model, X)
    expected_loss = sum((p - t) ** 2 for p, t in zip(start, y)) / len(y)
    history = fit(model, X, y, "mse", SGD(model, lr=0.1), epochs=3, progress=False)
    assert isinstance(history, History) and len(history) == 3
    assert history.loss[0] == pytest.approx(expected_loss, rel=1e-12)
    assert history.accuracy[0] == accuracy(start, y)
    assert len(history.accuracy) == 3


def test_regression_targets_have_no_accuracy():
    X = [[0.0], [1.0], [2.0]]
    y = [0.5, 1.7, 3.1]
    model = MLP(1, [1], seed=0)
    history = fit(model, X, y, mse, SGD(model, lr=0.05), epochs=2, progress=False)
    assert history.accuracy == [None, None]


class CountingSGD(SGD):
    """SGD that counts its steps."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.steps = 0

    def step(self):
        self.steps += 1
        super().step()


def test_minibatches_step_once_per_batch_and_the_seed_fixes_the_order():
    X, y = datasets.moons(10, noise=0.1, seed=0)
    runs = []
    for _ in range(2):
        model = MLP(2, [3, 1], seed=0)
        optimizer = CountingSGD(model, lr=0.1)
        fit(model, X, y, mse, optimizer, epochs=3, batch_size=4, progress=False, seed=9)
        assert optimizer.steps == 3 * 3                     # batches of 4, 4, 2
        runs.append(model.state_dict())
    assert runs[0] == runs[1]


def test_full_batch_is_one_step_per_epoch():
    X, y = datasets.xor()
    model = MLP(2, [2, 1], seed=0)
    optimizer = CountingSGD(model, lr=0.1)
    fit(model, X, y, mse, optimizer, epochs=5, progress=False)
    assert optimizer.steps == 5


# ---- the progress bar ------------------------------------------------------------------------
def test_the_progress_bar_shows_the_loss(capsys):
    pytest.importorskip("tqdm")
    X, y = datasets.xor()
    model = MLP(2, [2, 1], seed=0)
    history = fit(model, X, y, mse, SGD(model, lr=0.1), epochs=3, progress=True)
    err = capsys.readouterr().err
    assert "3/3" in err and f"loss={history.loss[-1]:.4f}" in err and "acc=" in err


def test_without_tqdm_training_goes_on_with_a_warning(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)      # import fails
    X, y = datasets.xor()
    model = MLP(2, [2, 1], seed=0)
    with pytest.warns(UserWarning, match="tqdm is not installed"):
        history = fit(model, X, y, mse, SGD(model, lr=0.1), epochs=2, progress=True)
    assert len(history) == 2


# ---- divergence ---------------------------------------------------------------------------------
def test_a_nan_loss_names_the_epoch_and_suggests_a_smaller_learning_rate():
    calls = []

    def loss_that_breaks(predictions, targets):
        calls.append(1)
        value = mse(predictions, targets)
        return value * math.nan if len(calls) == 3 else value

    X, y = datasets.xor()
    model = MLP(2, [2, 1], seed=0)
    with pytest.raises(DivergenceError, match=r"epoch 3 of 10: the loss is nan.*lr=0\.5.*"
                                              r"smaller one \(e\.g\. lr=0\.05\)"):
        fit(model, X, y, loss_that_breaks, SGD(model, lr=0.5), epochs=10, progress=False)


def test_an_overflow_in_the_forward_pass_is_divergence():
    model = MLP.from_weights([[[1e200, 1e200]]], [[0.0]])
    with pytest.raises(DivergenceError, match="epoch 1 of 5.*overflowed"):
        fit(model, [[1e200, 1.0]], [0.0], mse, SGD(model, lr=0.1), epochs=5, progress=False)


def test_a_step_that_makes_a_parameter_infinite_is_divergence():
    model = MLP.from_weights([[[1.0]]], [[0.0]])
    # ∂L/∂w = 2(w·x − y)·x = 2e3 at the start; lr 1e306 sends w to −inf
    with pytest.raises(DivergenceError, match=r"epoch 1 of 3.*made L1\.N1\.w1 -inf"):
        fit(model, [[1000.0]], [0.0], mse, SGD(model, lr=1e306), epochs=3, progress=False)


def test_a_learning_rate_too_large_diverges_with_a_clear_error():
    X, y = datasets.moons(20, noise=0.1, seed=0)
    model = MLP(2, [8, 8, 1], seed=0)
    with pytest.raises(DivergenceError, match=r"epoch \d+ of 200.*learning rate"):
        fit(model, X, y, mse, SGD(model, lr=5.0), epochs=200, progress=False)


# ---- predict and accuracy ------------------------------------------------------------------------
def test_predict_returns_floats_and_builds_no_graph():
    model = MLP(2, [3, 2], seed=0)
    out = predict(model, [[1.0, 2.0], [0.0, -1.0]])
    assert all(isinstance(v, float) for row in out for v in row)
    assert all(n.z is None for layer in model.layers for n in layer.neurons)  # no_grad
    with_graph = model([0.0, -1.0])
    assert [v.data for v in with_graph] == out[1]
    kept = model.layers[0].neurons[0].z
    predict(model, [[5.0, 5.0]])
    assert model.layers[0].neurons[0].z is kept            # the δ viz reads survives


def test_fit_measures_accuracy_as_the_loss_reads_the_output():
    """Logits −0.3, 0.2, 0.4 for labels 0, 1, 1: all right when cut at 0 (a logit),
    one in three when cut at the labels' midpoint ½. fit asks the loss (``output``)."""
    X, y = [[-0.3], [0.2], [0.4]], [0, 1, 1]

    def first_epoch_accuracy(loss):
        model = MLP.from_weights([[[1.0]]], [[0.0]])            # ŷ = x
        return fit(model, X, y, loss, SGD(model.parameters(), lr=0.1), epochs=1,
                   progress=False).accuracy[0]

    def own(pred, target):
        return bce_with_logits(pred, target)

    assert first_epoch_accuracy(bce_with_logits) == first_epoch_accuracy("bce_with_logits") == 1.0
    assert first_epoch_accuracy(functools.partial(bce_with_logits, reduction="sum")) == 1.0
    assert first_epoch_accuracy(own) == pytest.approx(1 / 3)     # says nothing: the midpoint
    own.output = "logits"
    assert first_epoch_accuracy(own) == 1.0
    assert first_epoch_accuracy(mse) == pytest.approx(1 / 3)      # aimed at the labels
    assert {name: loss.output for name, loss in LOSSES.items()} == {
        "mse": "labels", "bce": "probabilities", "bce_with_logits": "logits",
        "hinge": "labels", "softmax_cross_entropy": "logits"}
    assert set(OUTPUTS) == {loss.output for loss in LOSSES.values()}


def test_accuracy_rules():
    assert accuracy([0.2, 0.7, 0.6, 0.1], [0, 1, 0, 0]) == 0.75        # threshold ½
    assert accuracy([-0.3, 0.2, 0.4], [-1, 1, -1]) == pytest.approx(2 / 3)  # threshold 0
    assert accuracy([-0.3, 0.2], [0, 1], threshold=0.0) == 1.0              # logits
    assert accuracy([Value(0.9), Value(0.1)], [1, 0]) == 1.0
    assert accuracy([[0.1, 2.0, 0.3], [1.0, 0.0, -1.0]], [1, 2]) == 0.5    # argmax


@pytest.mark.parametrize("call, error, message", [
    (lambda: accuracy([0.1], [0, 1]), ValueError, "1 prediction but 2 targets"),
    (lambda: accuracy([], []), ValueError, "no predictions"),
    (lambda: accuracy([0.1, 0.2], [0, 2]), ValueError, "binary targets"),
    (lambda: accuracy([[0.1, 0.2]], [2]), ValueError, "class index in 0 … 1"),
])
def test_accuracy_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---- bad arguments to fit -----------------------------------------------------------------------
def _fit_with(**changes):
    X, y = datasets.xor()
    model = MLP(2, [2, 1], seed=0)
    arguments = dict(model=model, X=X, y=y, loss=mse, optimizer=SGD(model, lr=0.1), epochs=1,
                     progress=False)
    arguments.update(changes)
    return fit(**arguments)


@pytest.mark.parametrize("changes, error, message", [
    ({"loss": "l2"}, ValueError, "unknown loss 'l2'"),
    ({"loss": 3}, TypeError, "loss must be callable"),
    ({"optimizer": object()}, TypeError, r"optimizer must have zero_grad\(\)"),
    ({"y": [0, 1]}, ValueError, "4 examples in X but 2 targets"),
    ({"X": [], "y": []}, ValueError, "X is empty"),
    ({"epochs": 0}, ValueError, "epochs must be an int ≥ 1"),
    ({"batch_size": 0}, ValueError, "batch_size must be an int ≥ 1"),
    ({"model": 3}, TypeError, "model must be callable"),
    ({"loss": lambda p, t: 1.0}, TypeError, "the loss must return a Value"),
])
def test_fit_rejects_bad_arguments(changes, error, message):
    with pytest.raises(error, match=message):
        _fit_with(**changes)


# ---- fit(compile=True): the same training, through one compiled program -----------------------
def _shifted_model(loss: str) -> MLP:
    """A small model whose output starts on one side for every example (every
    logit below 0, or class 0 the argmax everywhere), so training must cross it."""
    output = "sigmoid" if loss == "bce" else "linear"
    model = MLP(2, [5, 3 if loss == "softmax_cross_entropy" else 1], activation="tanh",
                output_activation=output, init="xavier", seed=3)
    model.layers[-1].neurons[0].b.data = 2.0 if loss == "softmax_cross_entropy" else -2.0
    return model


def _logits(model: MLP, X) -> list:
    """The last layer's pre-activations z for every example (no graph kept)."""
    out = predict(model, X)
    if model.output_activation == "sigmoid":
        return [math.log(p / (1.0 - p)) for p in out]
    return out


def _trained_both_ways(loss: str, X, y, optimizer_class, lr):
    runs = []
    for compiled in (False, True):
        model = _shifted_model(loss)
        history = fit(model, X, y, loss, optimizer_class(model, lr=lr), epochs=25,
                      progress=False, compile=compiled)
        runs.append((model, history))
    return runs


@pytest.mark.parametrize("loss", ["bce", "bce_with_logits", "hinge", "mse",
                                  "softmax_cross_entropy"])
@pytest.mark.parametrize("optimizer_class, lr", [(SGD, 0.3), (Adam, 0.05)])
def test_compiled_fit_equals_eager_fit_while_logits_change_sign(loss, optimizer_class, lr):
    X, labels = datasets.moons(24, noise=0.1, seed=4)
    if loss == "softmax_cross_entropy":
        y = [int(t) + (1 if x[0] > 1.0 else 0) for x, t in zip(X, labels)]  # 3 classes
    elif loss == "hinge":
        y = [2 * t - 1 for t in labels]
    else:
        y = [float(t) for t in labels]
    before = _logits(_shifted_model(loss), X)
    (eager, eager_history), (compiled, compiled_history) = _trained_both_ways(
        loss, X, y, optimizer_class, lr)
    after = _logits(eager, X)
    # the situation that froze a Python branch: the decisions change during training
    if loss == "softmax_cross_entropy":
        def argmax(z):
            return max(range(len(z)), key=z.__getitem__)
        assert {argmax(z) for z in before} == {0}
        assert any(argmax(z) != 0 for z in after)
    else:
        assert all(z < 0.0 for z in before) and any(z > 0.0 for z in after)
    assert len(compiled_history) == len(eager_history) == 25
    for got, want in zip(compiled_history.loss, eager_history.loss):
        assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12)
    assert compiled_history.accuracy == eager_history.accuracy
    for (name, got), want in zip(compiled.named_parameters(), eager.parameters()):
        assert math.isclose(got.data, want.data, rel_tol=1e-12, abs_tol=1e-12), name
    # the program never updates a neuron's z, so compiled training keeps none
    assert all(n.z is None for layer in compiled.layers for n in layer.neurons)


@pytest.mark.parametrize("z, y", [(0.0, 1.0), (0.0, 0.0), (-2.0, 1.0), (3.0, 0.0)])
def test_compiled_bce_with_logits_has_the_eager_value_and_gradient_at_any_sign(z, y):
    """Built at z = 1.5, run at z: log(1 + e^z) − z·y and σ(z) − y, as by hand."""
    from engine import compile as compile_graph
    w = Value(1.5)
    program = compile_graph(bce_with_logits(w * 1.0, y), [w])
    value, [gradient] = program.value_and_grad([z])
    assert value == pytest.approx(math.log1p(math.exp(z)) - z * y, rel=1e-15)
    assert gradient == pytest.approx(1.0 / (1.0 + math.exp(-z)) - y, rel=1e-15)


def _softplus_with_a_python_branch(predictions, targets):
    """log(1 + e^z) − z·y written with an ``if`` on z.data: right in eager mode,
    frozen by compile (the bug bce_with_logits once had)."""
    terms = []
    for z, t in zip(predictions, targets):
        minus_abs = -z if z.data > 0.0 else z
        terms.append(z.relu() + (1.0 + minus_abs.exp()).log() - z * t)
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total / len(terms)


def test_compiled_fit_refuses_a_loss_whose_python_branch_was_frozen():
    X, labels = datasets.moons(24, noise=0.1, seed=4)
    y = [float(t) for t in labels]
    eager = _shifted_model("bce_with_logits")
    fit(eager, X, y, _softplus_with_a_python_branch, SGD(eager, lr=0.3), epochs=25,
        progress=False)
    assert any(z > 0.0 for z in _logits(eager, X))           # the branch did flip
    model = _shifted_model("bce_with_logits")
    with pytest.raises(ValueError, match=r"compile=True trained on a different loss.*"
                                         r"Python `if` on a Value's \.data"):
        fit(model, X, y, _softplus_with_a_python_branch, SGD(model, lr=0.3), epochs=25,
            progress=False, compile=True)


# ---- what a learner gets wrong, said plainly --------------------------------------------
def test_a_missing_value_in_the_data_is_named_not_blamed_on_the_learning_rate():
    X, y = datasets.moons(20, noise=0.1, seed=0)
    X[3] = [float("nan"), 0.5]
    model = MLP(2, [4, 1], seed=0)
    with pytest.raises(ValueError, match=r"X\[3\]\[0\] is nan: .*missing value"):
        fit(model, X, y, bce_with_logits, Adam(model.parameters(), lr=0.05), epochs=1,
            progress=False)
    y[5] = float("inf")
    with pytest.raises(ValueError, match=r"y\[5\] is inf"):
        fit(model, datasets.moons(20, seed=0)[0], y, mse, SGD(model.parameters(), lr=0.1),
            epochs=1, progress=False)


def test_an_optimizer_of_another_model_or_its_class_is_refused():
    X, y = datasets.xor()
    model = MLP(2, [3, 1], seed=0)
    other = SGD(MLP(2, [3, 1], seed=1).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="updates none of the model's parameters"):
        fit(model, X, y, mse, other, epochs=1, progress=False)
    with pytest.raises(TypeError, match=r"not the class SGD"):
        fit(model, X, y, mse, SGD, epochs=1, progress=False)


def test_arrays_are_taken_as_the_lists_they_hold():
    class Array:                                   # numpy's surface, without numpy
        def __init__(self, rows):
            self.rows = rows

        def tolist(self):
            return self.rows

    X, y = datasets.xor()
    model = MLP(2, [3, 1], seed=0)
    history = fit(model, Array(X), Array(y), mse, SGD(model.parameters(), lr=0.1),
                  epochs=2, progress=False)
    assert len(history.loss) == 2 and all(type(a) is float for a in history.accuracy)
    assert accuracy(Array([0.9, 0.1, 0.2, 0.8]), Array([1, 0, 0, 1])) == 1.0


@pytest.mark.parametrize("compiled", [False, True])
def test_targets_as_a_column_train_and_measure_as_flat_ones(compiled):
    # y written as a column ([[0], [1], …], as PyTorch users do) for a one-output model:
    # the same losses and the same accuracy as y written flat
    X, y = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 3, [0, 1, 1, 0] * 3
    histories = []
    for targets in (y, [[t] for t in y]):
        model = MLP(2, [4, 1], seed=3)
        histories.append(fit(model, X, targets, "mse", SGD(model.parameters(), lr=0.1), 4,
                             progress=False, compile=compiled))
    flat, column = histories
    assert column.loss == flat.loss
    assert column.accuracy == flat.accuracy and None not in column.accuracy
    predictions = predict(model, X)
    assert accuracy(predictions, [[t] for t in y]) == accuracy(predictions, y)


def test_a_loss_whose_output_is_misspelt_is_refused_before_training():
    def own(pred, target):
        return mse(pred, target)
    own.output = "logit"                                   # not one of OUTPUTS
    model = MLP(2, [1], seed=0)
    with pytest.raises(ValueError, match=r"^fit: the loss's output must be one of 'logits', "
                                         r"'probabilities', 'labels' .* got 'logit'$"):
        fit(model, [[0.0, 1.0]], [1], own, SGD(model.parameters(), lr=0.1), 1, progress=False)
    with pytest.raises(ValueError, match="got 'logit'"):
        fit(model, [[0.0, 1.0]], [1], functools.partial(own), SGD(model.parameters(), lr=0.1), 1,
            progress=False)
