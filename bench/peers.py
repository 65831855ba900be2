"""chaingrad against its peers, side by side: ``python bench/peers.py``.

Every measurement runs in a fresh process (no warm caches, no leftover garbage
from another engine), and the engines take turns — A B C A B C … — for several
rounds, so a slow moment of the machine hits all of them alike. Each cell is the
median over rounds; each ratio is the median of the per-round ratios. Python's
settings stay as users have them: the garbage collector is on.

Engines: ``micrograd`` (PyPI, pinned; installed into this interpreter if missing),
``eager`` (chaingrad's Values), ``compiled`` (``engine.compile`` of the same
graph: one program call per step), ``torch`` (PyTorch on 0-dim float64
tensors, when installed) and ``floats`` (the same arithmetic on plain floats,
no gradients: the floor).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import Any, Callable

import workloads as W
from harness import per_call as _per_call  # puts the repository on sys.path before this folder

MICROGRAD = "micrograd==0.1.0"
CHAIN_STEPS = 400          # 801 nodes deep: under micrograd's recursion limit (1000 frames)
DEEP_STEPS = 1_000_000     # ours only: micrograd's recursive sort fails long before
MICROGRAD_DEEP = 1_000     # where micrograd is shown to fail
WIDE_TERMS = 100_000
ENGINES = ("micrograd", "eager", "compiled", "torch", "floats")
#: Workloads of well under a second per process: on a shared machine their ratios
#: move most, so they take more turns (``--small-rounds``).
SMALL = ("chain", "readme_loop", "number_chain", "sigmoid_neuron")


# ---- the engines, as seen by one worker process ---------------------------------------
def _value_class(engine: str) -> Callable[[float], Any]:
    if engine == "micrograd":
        from micrograd.engine import Value
        if not hasattr(Value, "exp"):
            Value.exp = _micrograd_exp
        return Value
    from engine import Value
    return Value


def _micrograd_exp(self: Any) -> Any:
    """e ** x for micrograd 0.1.0, which has none: the one from micrograd's lecture,
    in its own style (a closure that adds out.data · out.grad)."""
    import math
    out = type(self)(math.exp(self.data), (self,), "exp")

    def _backward() -> None:
        self.grad += out.data * out.grad
    out._backward = _backward
    return out


def _mlp_class(engine: str) -> Callable[..., Any]:
    """The engine's own ``MLP`` (micrograd.nn or chaingrad's nn)."""
    if engine == "micrograd":
        _value_class(engine)
        from micrograd.nn import MLP
        return MLP
    from nn import MLP
    return MLP


def _torch_value(requires_grad: bool) -> Callable[[float], Any]:
    import torch
    return lambda x: torch.tensor(x, dtype=torch.float64, requires_grad=requires_grad)


def _calls(engine: str, slow: int, fast: int) -> int:
    """How many calls to time: ``slow`` for micrograd and PyTorch, ``fast`` for ours,
    chosen so each timed stretch lasts a few tenths of a second at least (a short
    hiccup of a busy machine then moves a ratio little)."""
    return slow if engine in ("micrograd", "torch") else fast


def work_mlp_step(engine: str) -> dict[str, Any]:
    xs, ys = W.moons()
    numbers = W.mlp_numbers()
    if engine == "floats":
        return {"seconds": _per_call(lambda: W.float_mlp_loss(numbers, xs, ys), 30)}
    if engine == "torch":
        import torch
        param, data = _torch_value(True), _torch_value(False)
        model = W.ScalarMLP(param, numbers)
        params = model.parameters()

        def step() -> None:
            loss = W.hinge_loss(model, [[data(v) for v in row] for row in xs], ys)
            for p in params:
                p.grad = None
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p -= 0.1 * p.grad
        return {"seconds": _per_call(step, 3)}
    value = _value_class(engine)
    model = W.ScalarMLP(value, numbers)
    if engine == "compiled":
        from engine import compile
        params = model.parameters()
        start = time.perf_counter()
        loss = W.hinge_loss(model, [[value(v) for v in row] for row in xs], ys)
        program = compile(loss, params)
        built = time.perf_counter() - start
        state = [p.data for p in params]

        def step() -> None:
            nonlocal state
            _, grads = program.value_and_grad(state)
            state = [x - 0.1 * g for x, g in zip(state, grads)]
        return {"seconds": _per_call(step, 50), "compile_seconds": built}
    return {"seconds": _per_call(lambda: W.scalar_mlp_step(value, model, xs, ys),
                                 _calls(engine, 3, 10))}


def work_chain(engine: str, steps: int = CHAIN_STEPS) -> dict[str, Any]:
    if engine == "floats":
        return {"seconds": _per_call(lambda: W.float_chain(steps), 2000)}
    if engine == "torch":
        value = _torch_value(True)
        return {"seconds": _per_call(lambda: W.scalar_chain(value, steps), 20)}
    value = _value_class(engine)
    if engine == "compiled":
        from engine import compile
        a, b, x0 = value(W.CHAIN_A), value(W.CHAIN_B), value(1.0)
        x = x0
        for _ in range(steps):
            x = x * a + b
        program = compile(x, [a, b, x0])
        numbers = [W.CHAIN_A, W.CHAIN_B, 1.0]
        return {"seconds": _per_call(lambda: program.value_and_grad(numbers), 2000)}
    return {"seconds": _per_call(lambda: W.scalar_chain(value, steps), _calls(engine, 50, 200))}


def work_deep_chain(engine: str) -> dict[str, Any]:
    if engine == "floats":
        return {"seconds": _per_call(lambda: W.float_chain(DEEP_STEPS), 3)}
    if engine == "micrograd":
        try:
            W.scalar_chain(_value_class(engine), MICROGRAD_DEEP)
        except RecursionError:
            return {"failed": f"RecursionError at {MICROGRAD_DEEP} steps"}
        return {"failed": "expected a RecursionError"}
    if engine == "eager":
        return {"seconds": _per_call(lambda: W.scalar_chain(_value_class(engine), DEEP_STEPS),
                                     1, warmup=0)}
    return {"skipped": True}


def work_wide(engine: str) -> dict[str, Any]:
    xs, ws = W.wide_numbers(WIDE_TERMS)
    if engine == "floats":
        return {"seconds": _per_call(lambda: W.float_wide(xs, ws), 10)}
    if engine == "torch":
        value = _torch_value(True)
        return {"seconds": _per_call(lambda: W.scalar_wide(value, xs, ws), 1)}
    value = _value_class(engine)
    if engine == "compiled":
        from engine import compile
        weights = [value(w) for w in ws]
        start = time.perf_counter()
        total = W.pairwise_sum([value(x) * w for x, w in zip(xs, weights)])
        program = compile(total, weights)
        built = time.perf_counter() - start
        return {"seconds": _per_call(lambda: program.value_and_grad(ws), 5),
                "compile_seconds": built}
    return {"seconds": _per_call(lambda: W.scalar_wide(value, xs, ws), _calls(engine, 1, 3))}


def work_bytes_per_node(engine: str) -> dict[str, Any]:
    """tracemalloc: bytes allocated while building the mlp_step loss graph, per node
    made (inputs, constants, op results; the parameters existed before)."""
    if engine not in ("micrograd", "eager"):
        return {"skipped": True}
    value = _value_class(engine)
    children = (lambda v: v._prev) if engine == "micrograd" else (lambda v: v.inputs)
    xs, ys = W.moons()
    model = W.ScalarMLP(value, W.mlp_numbers())
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    loss = W.hinge_loss(model, [[value(v) for v in row] for row in xs], ys)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    nodes = W.count_nodes(loss, children) - len(model.parameters())
    return {"bytes": used / nodes, "nodes": nodes}


def work_readme_loop(engine: str) -> dict[str, Any]:
    """micrograd's README loop, 20 steps, with the engine's own MLP(3, [4, 4, 1])."""
    if engine not in ("micrograd", "eager"):
        return {"skipped": True}
    import random
    random.seed(0)                      # micrograd's MLP draws from the global generator
    model = _mlp_class(engine)(3, [4, 4, 1])
    return {"seconds": _per_call(lambda: W.readme_loop(model), _calls(engine, 30, 120))}


def work_number_chain(engine: str) -> dict[str, Any]:
    if engine == "floats":
        return {"seconds": _per_call(W.float_number_chain, 2000)}
    if engine in ("compiled", "torch"):
        return {"skipped": True}
    value = _value_class(engine)
    return {"seconds": _per_call(lambda: W.number_chain(value), _calls(engine, 150, 600))}


def work_sigmoid_neuron(engine: str) -> dict[str, Any]:
    if engine == "floats":
        return {"seconds": _per_call(W.float_sigmoid_neuron, 2000)}
    if engine in ("compiled", "torch"):
        return {"skipped": True}
    value = _value_class(engine)
    return {"seconds": _per_call(lambda: W.sigmoid_neuron(value), _calls(engine, 200, 800))}


WORKLOADS: dict[str, Callable[[str], dict[str, Any]]] = {
    "mlp_step": work_mlp_step, "chain": work_chain, "deep_chain": work_deep_chain,
    "wide": work_wide, "readme_loop": work_readme_loop, "number_chain": work_number_chain,
    "sigmoid_neuron": work_sigmoid_neuron, "bytes_per_node": work_bytes_per_node}
TITLES = {"mlp_step": "mlp_step (2-16-16-1, 100 points)",
          "chain": f"chain ({CHAIN_STEPS} steps, {2 * CHAIN_STEPS + 1} deep)",
          "deep_chain": f"chain ({DEEP_STEPS:.0e} steps)".replace("e+0", "e"),
          "wide": f"wide ({WIDE_TERMS:.0e} products)".replace("e+0", "e"),
          "readme_loop": "micrograd's README loop (MLP(3, [4, 4, 1]), 20 steps)",
          "number_chain": f"(y · 0.999 + 0.001).relu(), {W.NUMBER_CHAIN_STEPS} times",
          "sigmoid_neuron": f"1 / (1 + e^−z) neuron, ½(a − t)², {W.NEURON_POINTS} points",
          "bytes_per_node": "bytes per node (mlp_step graph)"}


# ---- the driver: fresh processes, taking turns ------------------------------------------
def run_worker(engine: str, workload: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", engine,
                           workload], capture_output=True, text=True)
    if done.returncode != 0:
        return {"failed": done.stderr.strip().splitlines()[-1] if done.stderr else "crashed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def available_engines(wanted: list[str]) -> list[str]:
    engines = []
    for engine in wanted:
        if engine == "micrograd" and importlib.util.find_spec("micrograd") is None:
            print(f"installing {MICROGRAD} into {sys.prefix} …", flush=True)
            subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", MICROGRAD],
                           check=False)
            importlib.invalidate_caches()
            if importlib.util.find_spec("micrograd") is None:
                print("micrograd could not be installed: its column is left out")
                continue
        if engine == "torch" and importlib.util.find_spec("torch") is None:
            print("PyTorch is not installed: its column is left out")
            continue
        engines.append(engine)
    return engines


def measure(workloads: list[str], engines: list[str], rounds: int, small_rounds: int) -> dict:
    results: dict[str, dict[str, list[dict]]] = {}
    for workload in workloads:
        turns = (1 if workload in ("bytes_per_node", "deep_chain") else
                 small_rounds if workload in SMALL else rounds)
        results[workload] = {engine: [] for engine in engines}
        for r in range(turns):
            for engine in engines:
                results[workload][engine].append(run_worker(engine, workload))
            print(f"  {workload}: round {r + 1}/{turns} done", file=sys.stderr, flush=True)
    return results


def _seconds(cell: list[dict]) -> list[float]:
    return [c["seconds"] for c in cell if "seconds" in c]


def _time(t: float) -> str:
    return f"{t * 1e3:.3g} ms" if t < 1.0 else f"{t:.3g} s"


def _ratio(results: dict, workload: str, slow: str, fast: str) -> str:
    """Median over rounds of time(slow) / time(fast), rounds paired in order."""
    a, b = results[workload].get(slow, []), results[workload].get(fast, [])
    pairs = [x["seconds"] / y["seconds"] for x, y in zip(a, b)
             if "seconds" in x and "seconds" in y]
    return f"{statistics.median(pairs):.3g}×" if pairs else "–"


def table(results: dict, engines: list[str]) -> str:
    names = {"micrograd": "micrograd", "eager": "chaingrad eager",
             "compiled": "chaingrad compiled", "torch": "PyTorch 0-dim",
             "floats": "plain floats (no grad)"}
    ratios = [("micrograd", "eager", "eager ÷ micrograd (speed-up)"),
              ("micrograd", "compiled", "compiled ÷ micrograd (speed-up)"),
              ("torch", "eager", "eager vs PyTorch (speed-up)"),
              ("compiled", "floats", "compiled ÷ floats (slow-down)")]
    ratios = [r for r in ratios if r[0] in engines and r[1] in engines]
    head = ["workload", *(names[e] for e in engines), *(r[2] for r in ratios)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for workload, cells in results.items():
        if workload == "bytes_per_node":
            continue
        row = [TITLES[workload]]
        for engine in engines:
            cell = cells[engine]
            times = _seconds(cell)
            if times:
                text = _time(statistics.median(times))
                compile_times = [c["compile_seconds"] for c in cell if "compile_seconds" in c]
                if compile_times:
                    text += f" (+{statistics.median(compile_times):.2g} s compile, once)"
                row.append(text)
            elif cell and "failed" in cell[0]:
                row.append(f"fails: {cell[0]['failed']}")
            else:
                row.append("–")
        row += [_ratio(results, workload, slow, fast) for slow, fast, _ in ratios]
        lines.append("| " + " | ".join(row) + " |")
    if "bytes_per_node" in results:
        cells = results["bytes_per_node"]
        row = [TITLES["bytes_per_node"]]
        for engine in engines:
            c = cells[engine][0] if cells[engine] else {}
            row.append(f"{c['bytes']:.0f} B" if "bytes" in c else "–")
        mg = cells.get("micrograd", [{}])[0].get("bytes")
        ours = cells.get("eager", [{}])[0].get("bytes")
        row += [f"{ours / mg:.2f} of micrograd's" if mg and ours and i == 0 else ""
                for i in range(len(ratios))]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = []
    for name in ("micrograd", "torch"):
        try:
            from importlib.metadata import version
            versions.append(f"{name} {version(name)}")
        except Exception:  # noqa: BLE001 — absent is fine
            pass
    return (f"{cpu}, {os.cpu_count()} cores; {platform.system()} {platform.release()}; "
            f"CPython {platform.python_version()}; garbage collector "
            f"{'on' if gc.isenabled() else 'off'}; {', '.join(versions)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="turns per engine (default 5)")
    parser.add_argument("--small-rounds", type=int, default=9,
                        help=f"turns per engine for {', '.join(SMALL)} (default 9)")
    parser.add_argument("--engines", nargs="*", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--workloads", nargs="*", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--json", help="also write the raw measurements to this file")
    parser.add_argument("--worker", nargs=2, metavar=("ENGINE", "WORKLOAD"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        engine, workload = args.worker
        print(json.dumps(WORKLOADS[workload](engine)))
        return 0
    engines = available_engines(args.engines)
    start = time.perf_counter()
    results = measure(args.workloads, engines, args.rounds, args.small_rounds)
    print(f"\nchaingrad vs peers — each cell the median of {args.rounds} fresh processes "
          f"({args.small_rounds} for {', '.join(SMALL)}), engines taking turns\n")
    print(table(results, engines))
    print(f"\nmachine: {machine()}")
    print(f"command: {' '.join([os.path.relpath(sys.executable), *sys.argv])}  "
          f"({time.perf_counter() - start:.0f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
