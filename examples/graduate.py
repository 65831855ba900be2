"""Graduate to PyTorch: the same model, the same gradients, one call each way.

1. chaingrad trains the 2-16-16-1 MLP on 100 moons points (full batch, Adam), the
   way a learner does;
2. ``nn.to_torch`` hands it to PyTorch: on the same points both give the same loss
   and the same gradient for every weight (a few printed side by side, named as in
   the lessons and as in PyTorch, from ``nn.torch_names``);
3. PyTorch goes on training on more data in mini-batches (on a GPU when one is
   present), which is why one graduates;
4. ``nn.from_torch`` brings the trained model back, and chaingrad's loss on the
   first 100 points is PyTorch's.

Everything is float64, so the numbers agree to the last digit or two.

    python examples/graduate.py [--epochs 50] [--torch-epochs 20] [--points 5000]
                                [--batch-size 50] [--seed 0]
"""

from __future__ import annotations

import argparse
import time

import nn

#: The weights whose gradients are shown side by side (W⁽ˡ⁾ⱼₖ and b⁽ˡ⁾ⱼ).
SHOWN = ("L1.N1.w1", "L1.N1.w2", "L1.N1.b", "L2.N2.w1", "L3.N1.w16", "L3.N1.b")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50, help="epochs in chaingrad")
    parser.add_argument("--torch-epochs", type=int, default=20, help="epochs in PyTorch")
    parser.add_argument("--points", type=int, default=5000,
                        help="moons points PyTorch trains on")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the weights")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        raise SystemExit("examples/graduate.py needs PyTorch: pip install torch==2.13.0") from None

    # 1. chaingrad, where the learning happens
    X, y = nn.datasets.moons(100, noise=0.1, seed=args.seed)
    model = nn.MLP(2, [16, 16, 1], seed=args.seed)
    optimizer = nn.Adam(model.parameters(), lr=0.05)
    started = time.perf_counter()
    history = nn.fit(model, X, y, nn.bce_with_logits, optimizer, epochs=args.epochs,
                     progress=False)
    chaingrad_epoch = (time.perf_counter() - started) / args.epochs
    print(f"chaingrad: {model}, {len(model.parameters())} parameters")
    print(f"  {args.epochs} epochs on {len(X)} moons points (full batch, Adam): "
          f"loss {history.loss[0]:.4f} → {history.loss[-1]:.4f}")

    # 2. the hand-over: one call, and the same numbers on both sides
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(1)        # batches this small gain nothing from threads
    module = nn.to_torch(model).to(device)                # float64, every weight exact
    loss_fn = nn.torch_loss(nn.bce_with_logits)           # torch.nn.BCEWithLogitsLoss
    X_t = torch.tensor(X, dtype=torch.float64, device=device)
    y_t = torch.tensor(y, dtype=torch.float64, device=device).reshape(-1, 1)
    model.zero_grad()
    ours = nn.bce_with_logits([model(x) for x in X], y)
    ours.backward()
    theirs = loss_fn(module(X_t), y_t)
    theirs.backward()
    print(f"\nhand-over: nn.to_torch(model) → torch.nn.Sequential on {device} "
          f"({'GPU' if device.type == 'cuda' else 'no GPU found'}), float64")
    print(f"  loss on the {len(X)} points   chaingrad {ours.data:.12f}   "
          f"PyTorch {theirs.item():.12f}")
    names = nn.torch_names(model)
    ours_by_name = dict(model.named_parameters())
    theirs_by_name = dict(module.named_parameters())

    def torch_grad(label: str) -> float:
        tensor, index = names[label]
        return theirs_by_name[tensor].grad[index].item()

    print(f"  {'weight':<11}{'in PyTorch':<17}{'chaingrad ∂L/∂w':>19}{'PyTorch ∂L/∂w':>21}")
    for label in SHOWN:
        tensor, index = names[label]
        entry = f"{tensor}[{', '.join(map(str, index))}]"
        print(f"  {label:<11}{entry:<17}{ours_by_name[label].grad:>19.11e}"
              f"{torch_grad(label):>21.11e}")
    largest = max(abs(p.grad) for p in ours_by_name.values())
    difference = max(abs(p.grad - torch_grad(label)) for label, p in ours_by_name.items())
    print(f"  largest difference over all {len(names)} gradients: {difference:.1e} "
          f"(the largest gradient is {largest:.1e})")

    # 3. PyTorch, where the data and the machine can grow
    Xb, yb = nn.datasets.moons(args.points, noise=0.1, seed=args.seed + 1)
    data = torch.utils.data.TensorDataset(torch.tensor(Xb, dtype=torch.float64),
                                          torch.tensor(yb, dtype=torch.float64).reshape(-1, 1))
    loader = torch.utils.data.DataLoader(data, batch_size=args.batch_size, shuffle=True,
                                         generator=torch.Generator().manual_seed(args.seed))
    torch_optimizer = torch.optim.Adam(module.parameters(), lr=0.01)
    losses = []
    started = time.perf_counter()
    for _ in range(args.torch_epochs):
        total = 0.0
        for xb, tb in loader:
            xb, tb = xb.to(device), tb.to(device)
            torch_optimizer.zero_grad()
            loss = loss_fn(module(xb), tb)
            loss.backward()
            torch_optimizer.step()
            total += loss.item() * len(xb)
        losses.append(total / len(data))
    torch_epoch = (time.perf_counter() - started) / args.torch_epochs
    print(f"\nPyTorch: {args.torch_epochs} epochs on {len(data)} moons points in "
          f"mini-batches of {args.batch_size} (Adam): loss {losses[0]:.4f} → {losses[-1]:.4f}")

    # 4. and back: the trained model in chaingrad computes what PyTorch computes
    back = nn.from_torch(module)
    again = nn.bce_with_logits(nn.predict(back, X), y).data
    with torch.no_grad():
        reference = loss_fn(module(X_t), y_t).item()
    accuracy = nn.accuracy(nn.predict(back, Xb), yb, threshold=0.0)
    print(f"\nback: nn.from_torch(module) → {back}")
    print(f"  loss on the first {len(X)} points   chaingrad {again:.12f}   "
          f"PyTorch {reference:.12f}")
    print(f"  accuracy on PyTorch's {len(Xb)} points: {accuracy:.1%}")

    print("\ntime per epoch")
    for who, seconds, points in (("chaingrad", chaingrad_epoch, len(X)),
                                 (f"PyTorch ({device.type})", torch_epoch, len(data))):
        print(f"  {who:<15}{seconds * 1e3:9.1f} ms for {points:>6} points "
              f"({seconds / points * 1e6:7.1f} µs per point)")


if __name__ == "__main__":
    main()
