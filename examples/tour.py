"""A short tour of chaingrad's engine: build an expression, run backward, read the
gradients, take a second derivative, and check a hand-derived gradient."""

from engine import Value, assert_grad, grad, gradcheck

# 1. Build an expression: one neuron, z = w·x + b, a = tanh(z).
x, w, b = Value(0.5, "x"), Value(-1.2, "w"), Value(0.3, "b")
z = w * x + b
a = z.tanh()
print(f"forward:  z = w·x + b = {z.data:.4f},  a = tanh(z) = {a.data:.4f}")

# 2. Backward: every node's .grad is ∂a/∂node.
a.backward()
print(f"backward: ∂a/∂w = {w.grad:.4f},  ∂a/∂b = {b.grad:.4f},  ∂a/∂x = {x.grad:.4f}")
print(f"          (by hand: ∂a/∂w = (1 − a²)·x = {(1 - a.data ** 2) * x.data:.4f})")

# 3. Each node recorded its local gradients (∂node/∂input) at forward time.
wx = z.inputs[0]                                   # z = (w·x) + b
print(f"local gradients: ∂(w·x)/∂w = x = {wx.local_grads[0]},  ∂(w·x)/∂x = w = "
      f"{wx.local_grads[1]},  ∂a/∂z = 1 − a² = {a.local_grads[0]:.4f}")

# 4. Gradients of gradients: d²a/dz² = −2a(1 − a²).
dz = grad(a, z, create_graph=True)
print(f"second derivative: d²a/dz² = {grad(dz, z):.4f}  "
      f"(by hand: {-2 * a.data * (1 - a.data ** 2):.4f})")

# 5. Check the lessons' single-neuron result: with L the binary cross-entropy of
#    ŷ = σ(wx + b) against y, ∂L/∂w = (ŷ − y)·x and ∂L/∂b = ŷ − y.
x, y = 1.5, 1.0
w, b = Value(0.8, "w"), Value(-0.3, "b")
y_hat = (w * x + b).sigmoid()
L = -(y * y_hat.log() + (1 - y) * (1 - y_hat).log())
assert_grad(L, {w: (y_hat.data - y) * x, b: y_hat.data - y})
print(f"assert_grad: ∂L/∂w = (ŷ − y)·x = {(y_hat.data - y) * x:.6f} ✓ "
      "(engine, hand formula and finite differences agree)")
print("gradcheck(tanh(w·1.5 + b)):", gradcheck(lambda w, b: (w * 1.5 + b).tanh(), [0.8, -0.3]))
