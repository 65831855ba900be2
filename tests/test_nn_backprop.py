"""The engine's gradients of an MLP against backprop written out by hand.

The reference is the lessons' matrix form, computed here with plain Python lists:
δ^(L) = ∂L/∂a^(L) ⊙ ψ′(z^(L)), δ^(l) = (W^(l+1)ᵀ δ^(l+1)) ⊙ f′(z^(l)),
∂L/∂W^(l) = δ^(l) a^(l−1)ᵀ, ∂L/∂b^(l) = δ^(l). Finite differences referee the
residual case, and the LESSONS.md 3 → 4 → 1 exercise is checked step for step.
"""

from __future__ import annotations

import math
import random

import pytest

from engine import numerical_grad
from nn import MLP, SGD


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


# f and f′ as functions of z, written independently of the engine's table
FUNCTIONS = {
    "relu": (lambda z: max(0.0, z), lambda z: 1.0 if z > 0 else 0.0),
    "tanh": (math.tanh, lambda z: 1.0 / math.cosh(z) ** 2),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1.0 - _sigmoid(z))),
    "linear": (lambda z: z, lambda z: 1.0),
}


def _matvec(W, v):
    return [sum(w * x for w, x in zip(row, v)) for row in W]


def _transpose(W):
    return [list(column) for column in zip(*W)]


def matrix_backprop(weights, biases, x, y, hidden, output):
    """(z per layer, δ per layer, ∂L/∂W per layer, ∂L/∂b per layer) for
    L = Σ_j (a^(L)_j − y_j)², by the matrix recurrence."""
    a, zs, activations = list(x), [], [list(x)]
    for index, (W, b) in enumerate(zip(weights, biases)):
        f = FUNCTIONS[output if index == len(weights) - 1 else hidden][0]
        z = [zi + bi for zi, bi in zip(_matvec(W, a), b)]
        a = [f(zi) for zi in z]
        zs.append(z)
        activations.append(a)
    last = len(weights) - 1
    dpsi = FUNCTIONS[output][1]
    delta = [2.0 * (aj - yj) * dpsi(zj) for aj, yj, zj in zip(a, y, zs[last])]
    deltas = [None] * len(weights)
    deltas[last] = delta
    for index in range(last - 1, -1, -1):
        back = _matvec(_transpose(weights[index + 1]), deltas[index + 1])
        df = FUNCTIONS[hidden][1]
        deltas[index] = [g * df(zj) for g, zj in zip(back, zs[index])]
    dW = [[[dj * ai for ai in activations[index]] for dj in deltas[index]]
          for index in range(len(weights))]
    db = [list(d) for d in deltas]
    return zs, deltas, dW, db


def _random_net(rng, sizes):
    weights = [[[rng.uniform(-1, 1) for _ in range(n_in)] for _ in range(n_out)]
               for n_in, n_out in zip(sizes, sizes[1:])]
    biases = [[rng.uniform(-0.5, 0.5) for _ in range(n_out)] for n_out in sizes[1:]]
    return weights, biases


@pytest.mark.parametrize("hidden, output", [("relu", "linear"), ("tanh", "sigmoid"),
                                            ("sigmoid", "tanh"), ("relu", "sigmoid")])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_layer_gradients_equal_the_matrix_form_of_backprop(hidden, output, seed):
    rng = random.Random(seed)
    sizes = [3, 4, 3, 2]
    weights, biases = _random_net(rng, sizes)
    x = [rng.uniform(-2, 2) for _ in range(3)]
    y = [rng.uniform(-1, 1) for _ in range(2)]
    model = MLP.from_weights(weights, biases, activation=hidden, output_activation=output)
    out = model(x)
    loss = sum(((o - t) ** 2 for o, t in zip(out, y)), start=0.0)
    loss.backward()

    zs, deltas, dW, db = matrix_backprop(weights, biases, x, y, hidden, output)
    for n, layer in enumerate(model.layers):
        for j, neuron in enumerate(layer.neurons):
            assert neuron.z.data == pytest.approx(zs[n][j], rel=1e-13, abs=1e-14)
            # δ^(l)_j = ∂L/∂z^(l)_j: what viz reads from neuron.z.grad
            assert neuron.z.grad == pytest.approx(deltas[n][j], rel=1e-12, abs=1e-14)
            assert neuron.b.grad == pytest.approx(db[n][j], rel=1e-12, abs=1e-14)
            for i, w in enumerate(neuron.w):
                assert w.grad == pytest.approx(dW[n][j][i], rel=1e-12, abs=1e-14)


def test_residual_gradients_agree_with_finite_differences():
    rng = random.Random(4)
    weights, biases = _random_net(rng, [2, 3, 3, 3, 1])
    model = MLP.from_weights(weights, biases, activation="tanh", residual=True)
    params = model.parameters()
    loss = (model([0.7, -0.4]) - 0.25) ** 2
    loss.backward()
    numeric = numerical_grad(loss, params)
    for p, expected in zip(params, numeric):
        assert p.grad == pytest.approx(expected, rel=1e-6, abs=1e-8), p.label


def test_the_lessons_3_4_1_exercise_agrees_with_hand_backprop_step_for_step():
    """LESSONS.md: a 3 → 4 → 1 ReLU/sigmoid net on one example, L = ½(ŷ − y)², SGD.
    Hand-written backprop: δ² = (ŷ − y) ŷ (1 − ŷ); ∂L/∂W²_1k = δ² a¹_k;
    δ¹_j = W²_1j δ² ReLU′(z¹_j); ∂L/∂W¹_jk = δ¹_j x_k."""
    rng = random.Random(11)
    W1 = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(4)]
    b1 = [rng.uniform(-0.3, 0.3) for _ in range(4)]
    W2 = [rng.uniform(-1, 1) for _ in range(4)]
    b2 = rng.uniform(-0.3, 0.3)
    x, y, lr = [0.5, -1.2, 2.0], 1.0, 0.3

    model = MLP.from_weights([W1, [W2]], [b1, [b2]], activation="relu",
                             output_activation="sigmoid")
    optimizer = SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(25):
        # by hand
        z1 = [sum(w * xk for w, xk in zip(row, x)) + b for row, b in zip(W1, b1)]
        a1 = [max(0.0, z) for z in z1]
        z2 = sum(w * a for w, a in zip(W2, a1)) + b2
        y_hat = _sigmoid(z2)
        delta2 = (y_hat - y) * y_hat * (1 - y_hat)
        dW2 = [delta2 * a for a in a1]
        delta1 = [W2[j] * delta2 * (1.0 if z1[j] > 0 else 0.0) for j in range(4)]
        dW1 = [[delta1[j] * xk for xk in x] for j in range(4)]

        # by the engine
        optimizer.zero_grad()
        loss = 0.5 * (model(x) - y) ** 2
        loss.backward()
        assert loss.data == pytest.approx(0.5 * (y_hat - y) ** 2, rel=1e-13)
        hidden, out = model.layers[0].neurons, model.layers[1].neurons[0]
        assert out.b.grad == pytest.approx(delta2, rel=1e-12)
        for j in range(4):
            assert out.w[j].grad == pytest.approx(dW2[j], rel=1e-12, abs=1e-15)
            assert hidden[j].b.grad == pytest.approx(delta1[j], rel=1e-12, abs=1e-15)
            for k in range(3):
                assert hidden[j].w[k].grad == pytest.approx(dW1[j][k], rel=1e-12, abs=1e-15)
        optimizer.step()
        losses.append(loss.data)

        # the same SGD step by hand: W ← W − η ∂L/∂W
        W2 = [w - lr * g for w, g in zip(W2, dW2)]
        b2 -= lr * delta2
        W1 = [[w - lr * g for w, g in zip(row, grow)] for row, grow in zip(W1, dW1)]
        b1 = [b - lr * d for b, d in zip(b1, delta1)]
        for got, want in zip(model.weights()[0], W1):
            assert got == pytest.approx(want, rel=1e-12, abs=1e-15)
        assert model.weights()[1][0] == pytest.approx(W2, rel=1e-12, abs=1e-15)
        assert model.biases() == [pytest.approx(b1, rel=1e-12, abs=1e-15),
                                  pytest.approx([b2], rel=1e-12)]
    assert losses[-1] < losses[0]                  # and it learns
