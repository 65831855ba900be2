"""nn.Module, Neuron, Layer, MLP: names, labels, hand-set weights, forward values,
initialisation and state dicts. Expected values come from the lessons' formulas
z^(l)_j = Σ_k W^(l)_jk a^(l−1)_k + b^(l)_j, a^(l)_j = f(z^(l)_j), written out here."""

from __future__ import annotations

import gc
import math
import random
import statistics

import pytest

from engine import Value, no_grad, order
from nn import MLP, Layer, Module, Neuron

W1 = [[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]]     # 2 inputs → 3 neurons
B1 = [0.1, -0.2, 0.3]
W2 = [[1.0, -2.0, 0.5]]                           # 3 → 1
B2 = [-0.4]


def _forward(weights, biases, x, hidden, output):
    """a^(L) with plain lists: the reference the engine must match."""
    a = list(x)
    for index, (matrix, bias) in enumerate(zip(weights, biases)):
        f = output if index == len(weights) - 1 else hidden
        a = [f(sum(w * ai for w, ai in zip(row, a)) + b) for row, b in zip(matrix, bias)]
    return a


def _relu(z):
    return max(0.0, z)


def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def _identity(z):
    return z


# ---- names and labels -------------------------------------------------------------
def test_parameter_names_follow_the_lessons_layout_and_are_the_labels():
    model = MLP(3, [2, 1], seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert names == ["L1.N1.w1", "L1.N1.w2", "L1.N1.w3", "L1.N1.b",
                     "L1.N2.w1", "L1.N2.w2", "L1.N2.w3", "L1.N2.b",
                     "L2.N1.w1", "L2.N1.w2", "L2.N1.b"]
    assert [p.label for _, p in model.named_parameters()] == names
    assert model.parameters() == [p for _, p in model.named_parameters()]
    assert all(p.is_leaf for p in model.parameters())


def test_micrograd_shape_has_micrograd_parameter_count():
    model = MLP(2, [16, 16, 1], seed=0)
    assert len(model.parameters()) == (2 + 1) * 16 + (16 + 1) * 16 + (16 + 1) * 1
    assert [layer.neurons[0].activation for layer in model.layers] == ["relu", "relu", "linear"]
    assert isinstance(model([0.5, -0.5]), Value)                # one output: one Value


def test_the_structure_viz_reads():
    model = MLP(2, [3, 2], activation="tanh", output_activation="sigmoid", seed=1)
    assert model.nin == 2 and model.nouts == [3, 2]
    assert [len(layer.neurons) for layer in model.layers] == [3, 2]
    neuron = model.layers[1].neurons[0]
    assert neuron.activation == "sigmoid" and len(neuron.w) == 3
    assert neuron.w[2].label == "L2.N1.w3" and neuron.b.label == "L2.N1.b"
    assert neuron.z is None                                    # no forward pass yet
    out = model([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 2
    assert neuron.z is not None and neuron.z.label == "L2.N1.z"


def test_forward_labels_inputs_preactivations_and_activations():
    model = MLP.from_weights([W1, W2], [B1, B2], activation="relu",
                             output_activation="sigmoid")
    y = model([1.0, -2.0])
    assert y.label == "L2.N1.a"
    z = y.inputs[0]
    assert z.label == "L2.N1.z" and z is model.layers[1].neurons[0].z
    hidden = model.layers[0].neurons
    for j, neuron in enumerate(hidden, 1):
        assert neuron.z.label == f"L1.N{j}.z"
    leaves = {}
    stack = [y]
    while stack:
        node = stack.pop()
        if node.is_leaf and node.label.startswith("x"):
            leaves.setdefault(node.label, set()).add(id(node))
        stack.extend(node.inputs)
    # one leaf per input, shared by every neuron of the first layer
    assert {k: len(v) for k, v in leaves.items()} == {"x1": 1, "x2": 1}
    activations = [n.label for n in _nodes(y) if n.label.endswith(".a")]
    assert sorted(activations) == ["L1.N1.a", "L1.N2.a", "L1.N3.a", "L2.N1.a"]


def _nodes(root):
    seen, stack, out = set(), [root], []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        out.append(node)
        stack.extend(node.inputs)
    return out


def test_a_linear_output_is_its_own_z():
    model = MLP.from_weights([W1, W2], [B1, B2])
    y = model([1.0, -2.0])
    assert y.label == "L2.N1.z" and y is model.layers[1].neurons[0].z


def test_values_passed_in_keep_their_labels_and_get_gradients():
    model = MLP.from_weights([W1, W2], [B1, B2])
    u, v = Value(1.0, label="u"), Value(-2.0, label="v")
    y = model([u, v])
    y.backward()
    assert u.label == "u" and v.label == "v"
    # ∂y/∂x_k = Σ_j W2_1j ReLU′(z1_j) W1_jk
    z1 = [sum(w * x for w, x in zip(row, (1.0, -2.0))) + b for row, b in zip(W1, B1)]
    for k, x in enumerate((u, v)):
        expected = sum(W2[0][j] * (z1[j] > 0) * W1[j][k] for j in range(3))
        assert x.grad == pytest.approx(expected, abs=1e-12)


# ---- hand-set weights ---------------------------------------------------------------
@pytest.mark.parametrize("hidden, output, f, g", [
    ("relu", "linear", _relu, _identity),
    ("tanh", "sigmoid", math.tanh, _sigmoid),
    ("sigmoid", "tanh", _sigmoid, math.tanh),
])
def test_from_weights_computes_the_lessons_forward(hidden, output, f, g):
    model = MLP.from_weights([W1, W2], [B1, B2], activation=hidden, output_activation=output)
    for x in ([1.0, -2.0], [0.3, 0.7], [-1.5, 0.0]):
        expected = _forward([W1, W2], [B1, B2], x, f, g)[0]
        assert model(x).data == pytest.approx(expected, rel=1e-14, abs=1e-15)


def test_from_weights_puts_row_j_column_i_at_Lj_Ni_wi():
    model = MLP.from_weights([W1, W2], [B1, B2])
    state = model.state_dict()
    for j, row in enumerate(W1, 1):
        for i, w in enumerate(row, 1):
            assert state[f"L1.N{j}.w{i}"] == w
        assert state[f"L1.N{j}.b"] == B1[j - 1]
    assert state["L2.N1.w3"] == W2[0][2] and state["L2.N1.b"] == B2[0]
    assert model.weights() == [W1, W2] and model.biases() == [B1, B2]


@pytest.mark.parametrize("weights, biases, message", [
    ([], [], "non-empty list of matrices"),
    ([W1, W2], [B1], "2 weight matrices but 1 bias"),
    ([[[1.0, 2.0], [3.0]]], [[0.0, 0.0]], r"weights\[0\]\[1\] has 1 entry but the input has 2"),
    ([W1, [[1.0, 2.0]]], [B1, B2], r"weights\[1\]\[0\] has 2 entries but layer 1 has 3 neurons"),
    ([W1, W2], [B1, [0.0, 1.0]], r"biases\[1\] must have one entry per neuron of layer 2"),
    ([W1, [[1.0, "a", 0.0]]], [B1, B2], r"weights\[1\]\[0\]\[1\] must be a finite number"),
    ([W1, [[1.0, math.nan, 0.0]]], [B1, B2], r"weights\[1\]\[0\]\[1\] must be a finite"),
    ([W1, W2], [B1, [True]], r"biases\[1\]\[0\] must be a finite number"),
    ([[[]]], [[0.0]], "non-empty row"),
])
def test_from_weights_rejects_bad_shapes_clearly(weights, biases, message):
    with pytest.raises(ValueError, match=message) as info:
        MLP.from_weights(weights, biases)
    assert "MLP.from_weights" in str(info.value)


def test_from_weights_checks_activations():
    with pytest.raises(ValueError, match="activation must be one of"):
        MLP.from_weights([W1, W2], [B1, B2], activation="swish")


# ---- inputs -------------------------------------------------------------------------
def test_inputs_are_checked():
    model = MLP(2, [1], seed=0)
    with pytest.raises(ValueError, match="MLP: expected 2 inputs, got 3"):
        model([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="input 2 must be a number or a Value"):
        model([1.0, "2"])
    with pytest.raises(TypeError, match="x must be a sequence"):
        model("12")
    with pytest.raises(ValueError, match="Neuron: expected 3 inputs, got 2"):
        Neuron(3, seed=0)([1.0, 2.0])


def test_inputs_may_be_any_iterable_of_real_numbers():
    from fractions import Fraction
    model = MLP.from_weights([[[1.0, 10.0]]], [[0.0]])
    assert model(iter([Fraction(1, 2), 3])).data == 30.5
    assert model((2, 0.5)).data == 7.0
    with pytest.raises(TypeError, match="input 1 must be a number or a Value, got bool"):
        model([True, 1.0])
    with pytest.raises(TypeError, match="x must be a sequence"):
        model({"x1": 1.0, "x2": 2.0})


def test_one_input_may_be_a_bare_number():
    model = MLP.from_weights([[[2.0]]], [[1.0]])
    assert model(3.0).data == 7.0 and model([3.0]).data == 7.0


# ---- residual -----------------------------------------------------------------------
def test_residual_adds_the_previous_activation_to_equal_width_hidden_layers():
    weights = [[[1.0, -1.0], [0.5, 2.0]], [[0.3, -0.7], [1.1, 0.2]], [[1.0, 1.0]]]
    biases = [[0.0, 0.1], [-0.2, 0.3], [0.0]]
    plain = MLP.from_weights(weights, biases, activation="tanh")
    residual = MLP.from_weights(weights, biases, activation="tanh", residual=True)
    # layer 1: 2 → 2 gets the skip too (its input width equals its width); the
    # output layer never does
    assert [layer.residual for layer in residual.layers] == [True, True, False]
    x = [0.4, -0.9]
    a = x
    for matrix, bias in zip(weights[:2], biases[:2]):
        a = [math.tanh(sum(w * ai for w, ai in zip(row, a)) + b) + ai_prev
             for row, b, ai_prev in zip(matrix, bias, a)]
    expected = sum(w * ai for w, ai in zip(weights[2][0], a)) + biases[2][0]
    assert residual(x).data == pytest.approx(expected, rel=1e-14)
    assert plain(x).data != pytest.approx(expected)
    hidden = residual.layers[1].neurons[0]
    out = residual(x)
    a_node = next(n for n in _nodes(out) if n.label == "L2.N1.a")
    assert a_node.op.name == "add" and a_node.inputs[0].inputs[0] is hidden.z


def test_residual_skips_layers_of_different_width():
    model = MLP(2, [4, 4, 3, 3, 1], residual=True, seed=0)
    assert [layer.residual for layer in model.layers] == [False, True, False, True, False]


def test_a_residual_layer_needs_equal_width():
    with pytest.raises(ValueError, match="nin == nout"):
        Layer(2, 3, residual=True, seed=0)


# ---- construction errors --------------------------------------------------------------
@pytest.mark.parametrize("args, kwargs, error, message", [
    ((0, [1]), {}, ValueError, "nin must be an int ≥ 1"),
    (("2", [1]), {}, TypeError, "nin must be an int ≥ 1, got str '2'"),
    ((2, [1.5]), {}, TypeError, "must be an int"),
    ((2, []), {}, ValueError, "nouts must be a non-empty list"),
    ((2, [3, 0]), {}, ValueError, r"nouts\[1\] \(the width of layer 2\)"),
    ((2, 3), {}, ValueError, "nouts must be a non-empty list"),
    ((2, [1]), {"activation": "gelu"}, ValueError, "activation must be one of"),
    ((2, [1]), {"output_activation": "softmax"}, ValueError, "output_activation must be"),
    ((2, [1]), {"init": "kaiming"}, ValueError, "init must be one of"),
    ((2, [1]), {"seed": 1.5}, TypeError, "seed must be an int"),
    ((2, [1]), {"residual": 1}, TypeError, "residual must be a bool"),
])
def test_mlp_rejects_bad_arguments(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        MLP(*args, **kwargs)


# ---- initialisation ---------------------------------------------------------------------
def test_same_seed_same_weights_and_a_shared_generator_continues():
    assert MLP(3, [4, 2], seed=7).state_dict() == MLP(3, [4, 2], seed=7).state_dict()
    assert MLP(3, [4, 2], seed=7).state_dict() != MLP(3, [4, 2], seed=8).state_dict()
    rng = random.Random(5)
    first, second = MLP(2, [2], seed=rng), MLP(2, [2], seed=rng)
    assert first.state_dict() != second.state_dict()


def test_initialisation_does_not_touch_the_global_generator():
    random.seed(123)
    before = random.random()
    random.seed(123)
    MLP(4, [8, 8], seed=None)
    assert random.random() == before


def _first_layer(init, nin, nout):
    layer = MLP(nin, [nout], init=init, seed=3).layers[0]
    return [w.data for n in layer.neurons for w in n.w], [n.b.data for n in layer.neurons]


def test_he_initialisation_has_variance_2_over_fan_in():
    weights, biases = _first_layer("he", 50, 200)
    # 10 000 draws: the sample variance is within ~3 % of 2/50 (5 standard errors)
    assert statistics.pvariance(weights) == pytest.approx(2 / 50, rel=0.07)
    assert abs(statistics.fmean(weights)) < 5 * math.sqrt(2 / 50 / len(weights))
    assert biases == [0.0] * 200


def test_xavier_initialisation_is_uniform_within_the_glorot_limit():
    weights, _ = _first_layer("xavier", 30, 10)
    limit = math.sqrt(6 / (30 + 10))
    assert max(weights) <= limit and min(weights) >= -limit
    assert max(weights) > 0.9 * limit and min(weights) < -0.9 * limit
    assert statistics.pvariance(weights) == pytest.approx(limit ** 2 / 3, rel=0.15)


def test_uniform_and_zeros_initialisation():
    weights, _ = _first_layer("uniform", 20, 20)
    assert -1.0 <= min(weights) < -0.9 and 0.9 < max(weights) <= 1.0
    weights, biases = _first_layer("zeros", 3, 4)
    assert weights == [0.0] * 12 and biases == [0.0] * 4


# ---- Neuron and Layer on their own ------------------------------------------------------------
def test_a_neuron_alone():
    neuron = Neuron(2, activation="sigmoid", seed=0)
    assert [name for name, _ in neuron.named_parameters()] == ["w1", "w2", "b"]
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 2.0, -1.0, 0.5
    a = neuron([1.0, 3.0])
    assert a.data == pytest.approx(_sigmoid(2.0 - 3.0 + 0.5), rel=1e-15)
    assert a.label == "a" and neuron.z.label == "z" and neuron.z.data == -0.5
    named = Neuron(2, name="L3.N4", seed=0)
    assert [p.label for p in named.parameters()] == ["L3.N4.w1", "L3.N4.w2", "L3.N4.b"]


def test_a_layer_returns_one_value_per_neuron():
    layer = Layer(2, 3, activation="linear", name="L1", seed=0)
    out = layer([1.0, 2.0])
    assert len(out) == 3
    for neuron, value in zip(layer.neurons, out):
        assert value.data == pytest.approx(neuron.w[0].data + 2 * neuron.w[1].data)
    assert layer.nin == 2 and layer.nout == 3
    assert repr(layer) == "Layer(2, 3, activation='linear', name='L1')"


def test_module_is_abstract():
    with pytest.raises(TypeError):
        Module()


# ---- gradients, zero_grad and state ------------------------------------------------------
def test_zero_grad_clears_accumulated_gradients():
    model = MLP(2, [3, 1], seed=0)
    model([1.0, 2.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_state_dict_round_trip_keeps_the_parameter_objects():
    source, target = MLP(2, [3, 1], seed=1), MLP(2, [3, 1], seed=2)
    before = target.parameters()
    target.load_state_dict(source.state_dict())
    assert target.state_dict() == source.state_dict()
    assert all(a is b for a, b in zip(before, target.parameters()))
    with no_grad():
        assert target([0.3, -0.2]).data == source([0.3, -0.2]).data


def test_state_dict_is_a_snapshot():
    model = MLP(1, [1], seed=0)
    state = model.state_dict()
    model.parameters()[0].data += 1.0
    assert state["L1.N1.w1"] != model.parameters()[0].data


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("L1.N1.b"), "missing L1.N1.b"),
    (lambda s: s.update({"L9.N1.b": 0.0}), "unexpected L9.N1.b"),
    (lambda s: s.update({"L1.N1.b": "x"}), "L1.N1.b must be a finite number"),
    (lambda s: s.update({"L1.N1.b": math.inf}), "L1.N1.b must be a finite number"),
])
def test_load_state_dict_rejects_a_mismatch_and_changes_nothing(change, message):
    model = MLP(2, [2, 1], seed=0)
    before = model.state_dict()
    state = dict(before)
    change(state)
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(state)
    assert model.state_dict() == before


def test_repr():
    assert repr(MLP(2, [16, 16, 1], seed=0)) == \
        "MLP(2, [16, 16, 1], activation='relu', output_activation='linear')"
    assert repr(Neuron(3, name="L1.N2", seed=0)) == "Neuron(3, activation='relu', name='L1.N2')"


# ---- the graph a model keeps: each neuron's last z, for viz; release_graph() drops it ---------
def live_values() -> int:
    return sum(issubclass(type(o), Value) for o in gc.get_objects())


@pytest.fixture
def gc_off():
    """The collector off (only reference counting frees); Values alive at the start."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _zs(model: MLP) -> list:
    return [n.z for layer in model.layers for n in layer.neurons]


def test_release_graph_frees_what_the_neurons_kept(gc_off):
    model = MLP(2, [4, 1], seed=0)
    start = live_values()
    loss = (model([1.0, -2.0]) - 1.0) ** 2
    loss.backward()
    parameters = set(model.parameters())
    kept = {node for z in _zs(model) for node in order(z)} - parameters
    assert {node for node in order(loss) if node not in parameters} >= kept
    del loss
    count = len(kept)
    del kept
    assert live_values() - start == count > 0              # z's graphs outlive the loss …
    assert model.layers[1].neurons[0].z.grad != 0.0        # … so δ is there for viz
    model.release_graph()
    assert _zs(model) == [None] * 5
    assert live_values() == start                          # … and then nothing is left


def test_no_grad_forward_passes_keep_no_graph(gc_off):
    model = MLP(2, [4, 1], seed=0)
    start = live_values()
    with no_grad():
        out = model([1.0, -2.0])
    assert _zs(model) == [None] * 5
    del out
    assert live_values() == start
    kept = model([0.5, 0.5])
    first = _zs(model)
    with no_grad():
        model([3.0, 3.0])
    assert _zs(model) == first and all(z is not None for z in first)   # left as it was
    del kept


def test_release_graph_on_a_layer_and_a_neuron():
    layer = Layer(2, 3, seed=0)
    layer([1.0, 2.0])
    assert all(n.z is not None for n in layer.neurons)
    layer.release_graph()
    assert all(n.z is None for n in layer.neurons)
    neuron = Neuron(2, seed=0)
    neuron([1.0, 2.0])
    neuron.release_graph()
    assert neuron.z is None


class Two(Module):
    """A custom module holding an MLP and, in a tuple, a Neuron."""

    def __init__(self, activation: str = "relu"):
        self.first = MLP(2, [2], seed=0)
        self.rest = (Neuron(2, activation=activation, seed=1),)

    def named_parameters(self):
        yield from self.first.named_parameters()
        yield from self.rest[0].named_parameters()

    def __call__(self, x):
        return self.rest[0](self.first(x))


def test_release_graph_reaches_modules_a_custom_module_holds():
    two = Two()
    two([1.0, 2.0])
    assert two.rest[0].z is not None and two.first.layers[0].neurons[0].z is not None
    two.release_graph()
    assert two.rest[0].z is None and two.first.layers[0].neurons[0].z is None


def test_keep_last_pass_puts_back_what_each_neuron_kept():
    two = Two(activation="tanh")
    neurons = [*two.first.layers[0].neurons, two.rest[0]]
    with two.keep_last_pass():                    # nothing kept before: nothing after
        scratch = two([1.0, 2.0])
    assert scratch.op is not None and all(n.z is n.a is None for n in neurons)
    y = two([0.5, -1.0])
    kept = [(n.z, n.a) for n in neurons]
    with two.keep_last_pass():
        two([3.0, 3.0])
        assert two.rest[0].z is not kept[-1][0]   # the pass inside records as usual …
    assert [(n.z, n.a) for n in neurons] == kept  # … and is forgotten on leaving
    assert two.rest[0].a is y
    with pytest.raises(RuntimeError), two.keep_last_pass():   # also when the pass fails
        two([9.0, 9.0])
        raise RuntimeError
    assert [(n.z, n.a) for n in neurons] == kept


def test_neuron_keeps_its_last_activation_beside_z():
    from nn import MLP
    model = MLP.from_weights([[[0.5, -1.0]], [[2.0]]], [[0.1], [0.3]], activation="tanh",
                             output_activation="linear")
    y_hat = model([1.0, 0.5])
    hidden, out = model.layers[0].neurons[0], model.layers[1].neurons[0]
    assert hidden.a.label == "L1.N1.a" and hidden.a.data == pytest.approx(math.tanh(0.1))
    assert out.a is out.z is y_hat                   # a linear neuron's a is its z
    (y_hat * y_hat).backward()
    # ∂L/∂a and δ = ∂L/∂z differ by f′(z) = 1 − a²: the lessons' gotcha
    assert hidden.z.grad == pytest.approx(hidden.a.grad * (1 - hidden.a.data ** 2), rel=1e-12)
    model.release_graph()
    assert hidden.a is None and hidden.z is None


def test_torch_init_draws_weights_and_biases_from_pytorchs_default():
    from nn import MLP
    model = MLP(4, [16, 3], init="torch", seed=0)
    for layer in model.layers:
        bound = 1 / math.sqrt(layer.nin)
        ws = [w.data for n in layer.neurons for w in n.w]
        bs = [n.b.data for n in layer.neurons]
        assert all(-bound <= v <= bound for v in ws + bs)
        assert any(b != 0.0 for b in bs)              # biases are drawn too
        assert max(map(abs, ws)) > 0.5 * bound        # spread over the interval
    assert MLP(4, [16, 3], init="torch", seed=0).state_dict() == model.state_dict()


def test_a_model_pickles_and_deep_copies_after_a_forward_pass():
    import copy
    import pickle

    model = MLP(2, [3, 1], seed=0)
    loss = (model([0.5, -1.0]) - 1.0) ** 2                 # neurons now hold z: a graph
    loss.backward()
    for twin in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert [p.data for p in twin.parameters()] == [p.data for p in model.parameters()]
        assert [p.grad for p in twin.parameters()] == [p.grad for p in model.parameters()]
        # the copied graphs point at the copied parameters, not at the originals
        z = twin.layers[1].neurons[0].z
        leaves = {id(v) for v in order(z) if v.op is None}
        assert {id(p) for p in twin.parameters()} <= leaves
        assert not {id(p) for p in model.parameters()} & leaves
        assert twin([0.5, -1.0]).data == model([0.5, -1.0]).data


def test_several_outputs_say_so_when_used_as_one_value():
    """MLP(2, [3]) returns 3 Values: calling backward on them explains what to do,
    where a plain list would say only "'list' object has no attribute 'backward'"."""
    model = MLP(2, [3], seed=0)
    outputs = model([1.0, 2.0])
    assert isinstance(outputs, list) and len(outputs) == 3
    assert all(isinstance(v, Value) for v in outputs)
    with pytest.raises(AttributeError, match=r"a list of 3 Values \(one per output neuron\), "
                                             r"not one Value: backward\(\) starts from a "
                                             r"single number.*nn\.mse\(outputs, targets\)"):
        outputs.backward()
    with pytest.raises(AttributeError, match=r"take one \(outputs\[0\]\.data\)"):
        outputs.data  # noqa: B018
    assert not hasattr(outputs, "backward") and not hasattr(outputs, "nonsense")
    sum(outputs).backward()                        # the way out the message gives works
    assert model.layers[0].neurons[2].b.grad == 1.0
    assert isinstance(model.layers[0]([1.0, 2.0]), type(outputs))


def test_a_one_neuron_layer_is_counted_in_the_singular():
    with pytest.raises(ValueError, match=r"weights\[1\]\[0\] has 2 entries but layer 1 has "
                                         r"1 neuron \(weights\[0\] has 1 row\)"):
        MLP.from_weights([[[1.0, 2.0]], [[1.0, 2.0]]], [[0.0], [0.0]])


@pytest.mark.parametrize("make", [lambda: MLP(3, [4, 2, 1], seed=0),
                                  lambda: MLP(2, [2, 2], residual=True, seed=1)])
def test_parameters_are_named_parameters_in_the_same_order(make):
    model = make()
    named = [p for _, p in model.named_parameters()]
    assert model.parameters() == named and all(a is b for a, b in zip(model.parameters(), named))
    for layer in model.layers:
        assert layer.parameters() == [p for _, p in layer.named_parameters()]
        for neuron in layer.neurons:
            assert neuron.parameters() == [p for _, p in neuron.named_parameters()]


def test_keep_last_pass_leaves_unset_what_a_custom_module_had_not_kept_yet():
    class Hidden(Module):                       # keeps h, but only once it has been called
        forward_keeps = ("h",)

        def __init__(self):
            self.inner = MLP(2, [2], seed=0)

        def named_parameters(self):
            yield from self.inner.named_parameters()

        def __call__(self, x):
            self.h = self.inner(x)
            return self.h[0]

    model = Hidden()
    with model.keep_last_pass():
        model([1.0, 2.0])
    assert not hasattr(model, "h")              # as before: never set
    kept = model([0.5, 0.5])
    with model.keep_last_pass():
        model([1.0, 2.0])
    assert model.h is not None and model.h[0] is kept
