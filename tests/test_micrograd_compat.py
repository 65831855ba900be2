"""A micrograd user's programs run on chaingrad after changing only the import.

Each program below is written against micrograd's API (``Value``, ``+ - * / **``,
``relu``, ``backward``, ``.data``, ``.grad``, resetting ``p.grad = 0``). The test
swaps the import line and runs it; the numbers are refereed by hand-derived
formulas, by finite differences of the same program, and by PyTorch when installed.
"""

from __future__ import annotations

import textwrap

import pytest

MICROGRAD_IMPORT = "from micrograd.engine import Value"
CHAINGRAD_IMPORT = "from engine import Value"


def run_as_chaingrad(program: str, **inputs) -> dict:
    """Run a micrograd program with only its import line changed; its globals after."""
    source = textwrap.dedent(program)
    assert MICROGRAD_IMPORT in source
    namespace = dict(inputs)
    exec(compile(source.replace(MICROGRAD_IMPORT, CHAINGRAD_IMPORT), "<micrograd program>",
                 "exec"), namespace)
    return namespace


# The kind of expression micrograd's tests are built from: reflected numbers, relu on
# both sides of 0, a reused node, += rebinding, powers and divisions.
EXPRESSION = """
from micrograd.engine import Value

a = Value(A)
b = Value(B)
c = a * b + b ** 3 - 2 * a
c += c * 0.5 + (a - b).relu()
d = (b - a).relu() + 1 / (c * c + 1) - (-a) * 3
e = d ** 2 / 4 + c
f = e - 10.0 / (1 + b ** 2)
f.backward()
"""


def floats_version(A, B):
    """The same program on plain floats (relu = max(0, ·)): the referee's forward."""
    a, b = A, B
    c = a * b + b ** 3 - 2 * a
    c = c + c * 0.5 + max(a - b, 0.0)
    d = max(b - a, 0.0) + 1 / (c * c + 1) - (-a) * 3
    e = d ** 2 / 4 + c
    return e - 10.0 / (1 + b ** 2)


@pytest.mark.parametrize("A, B", [(-4.0, 2.0), (1.5, -0.5), (0.3, 0.7)])
def test_an_expression_program_against_finite_differences(A, B):
    ns = run_as_chaingrad(EXPRESSION, A=A, B=B)
    eps = 1e-6
    assert ns["f"].data == pytest.approx(floats_version(A, B), rel=1e-14)
    da = (floats_version(A + eps, B) - floats_version(A - eps, B)) / (2 * eps)
    db = (floats_version(A, B + eps) - floats_version(A, B - eps)) / (2 * eps)
    assert ns["a"].grad == pytest.approx(da, rel=1e-6, abs=1e-6)
    assert ns["b"].grad == pytest.approx(db, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("A, B", [(-4.0, 2.0), (1.5, -0.5), (0.3, 0.7)])
def test_an_expression_program_against_torch(A, B):
    torch = pytest.importorskip("torch")
    ns = run_as_chaingrad(EXPRESSION, A=A, B=B)
    a = torch.tensor(A, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(B, dtype=torch.float64, requires_grad=True)
    c = a * b + b ** 3 - 2 * a
    c = c + c * 0.5 + (a - b).relu()
    d = (b - a).relu() + 1 / (c * c + 1) - (-a) * 3
    e = d ** 2 / 4 + c
    f = e - 10.0 / (1 + b ** 2)
    f.backward()
    assert ns["f"].data == pytest.approx(f.item(), rel=1e-14)
    assert ns["a"].grad == pytest.approx(a.grad.item(), rel=1e-12)
    assert ns["b"].grad == pytest.approx(b.grad.item(), rel=1e-12)


SANITY = """
from micrograd.engine import Value

x = Value(X)
z = 2 * x + 2 + x
q = z.relu() + z * x
h = (z * z).relu()
y = h + q + q * x
y.backward()
"""


@pytest.mark.parametrize("X", [-4.0, 3.0])
def test_the_sanity_check_program_by_hand(X):
    # z = 3x + 2, z′ = 3.  q = relu(z) + zx, q′ = 3·[z > 0] + 3x + z.  h = z², h′ = 6z.
    # y = h + q + qx, y′ = h′ + q′ + q′x + q.
    ns = run_as_chaingrad(SANITY, X=X)
    z = 3 * X + 2
    q = max(z, 0.0) + z * X
    dq = 3 * (z > 0) + 3 * X + z
    y = z * z + q + q * X
    dy = 6 * z + dq + dq * X + q
    assert ns["y"].data == y
    assert ns["x"].grad == dy


TRAINING = """
import random
from micrograd.engine import Value

class Neuron:
    def __init__(self, nin, rng, nonlin=True):
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin
    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act
    def parameters(self):
        return self.w + [self.b]

class MLP:
    def __init__(self, nin, nouts, rng):
        sizes = [nin] + nouts
        self.layers = [[Neuron(sizes[i], rng, nonlin=i != len(nouts) - 1)
                        for _ in range(sizes[i + 1])] for i in range(len(nouts))]
    def __call__(self, x):
        for layer in self.layers:
            x = [n(x) for n in layer]
        return x[0]
    def parameters(self):
        return [p for layer in self.layers for n in layer for p in n.parameters()]

rng = random.Random(SEED)
model = MLP(2, [8, 8, 1], rng)
xs = [[2.0, 3.0], [3.0, -1.0], [0.5, 1.0], [1.0, 1.0]]
ys = [1.0, -1.0, -1.0, 1.0]
losses, grads = [], []
for step in range(STEPS):
    loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys))
    for p in model.parameters():
        p.grad = 0
    loss.backward()
    grads.append([p.grad for p in model.parameters()])
    losses.append(loss.data)
    for p in model.parameters():
        p.data += -0.01 * p.grad
"""


def test_a_micrograd_training_loop_learns():
    ns = run_as_chaingrad(TRAINING, SEED=1, STEPS=40)
    losses = ns["losses"]
    assert losses[-1] < 0.5 * losses[0]
    assert all(later <= earlier * 1.5 for earlier, later in zip(losses, losses[1:]))


def test_a_micrograd_training_loop_against_torch():
    torch = pytest.importorskip("torch")
    ns = run_as_chaingrad(TRAINING, SEED=3, STEPS=5)
    # replay the same weights and updates in torch, layer by layer
    rebuilt = run_as_chaingrad(TRAINING, SEED=3, STEPS=0)["model"]
    layers = [(torch.tensor([[w.data for w in n.w] for n in layer], dtype=torch.float64,
                            requires_grad=True),
               torch.tensor([n.b.data for n in layer], dtype=torch.float64, requires_grad=True))
              for layer in rebuilt.layers]
    params = [t for pair in layers for t in pair]
    xs = torch.tensor(ns["xs"], dtype=torch.float64)
    ys = torch.tensor(ns["ys"], dtype=torch.float64)
    for step in range(5):
        h = xs
        for k, (W, b) in enumerate(layers):
            h = h @ W.T + b
            if k < len(layers) - 1:
                h = h.relu()
        loss = ((h[:, 0] - ys) ** 2).sum()
        for p in params:
            p.grad = None
        loss.backward()
        assert ns["losses"][step] == pytest.approx(loss.item(), rel=1e-12)
        theirs = [g for W, b in layers
                  for j in range(W.shape[0]) for g in [*W.grad[j].tolist(), b.grad[j].item()]]
        assert ns["grads"][step] == pytest.approx(theirs, rel=1e-10, abs=1e-12)
        with torch.no_grad():
            for p in params:
                p -= 0.01 * p.grad
