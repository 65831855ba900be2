"""The examples teach what they claim: XOR is solved, the decision map draws the
model's boundary, depth starves a sigmoid net's first layer unless a residual
path carries the gradient, and a model handed to PyTorch has the same gradients."""

from __future__ import annotations

import importlib.util
import math
import pathlib
import re
import subprocess
import sys

import pytest

from nn import MLP, datasets, torch_names

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def _example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_xor_example_solves_xor():
    result = subprocess.run([sys.executable, str(EXAMPLES / "xor.py")], capture_output=True,
                            text=True, check=True, timeout=120)
    assert "accuracy: 100%" in result.stdout
    final = float(result.stdout.split(" after ")[0].rsplit("→", 1)[1])
    assert final < 0.01


def test_decision_map_draws_the_boundary_and_the_points():
    moons = _example("moons")
    model = MLP.from_weights([[[1.0, 0.0]]], [[0.0]])          # logit = x1: boundary x1 = 0
    X, y = [[-1.0, 0.0], [1.0, 0.0]], [0, 1]
    lines = moons.decision_map(model, X, y, columns=9, rows=3).splitlines()
    assert lines[0] == lines[-1] == "+" + "-" * 9 + "+"
    rows = [line[1:-1] for line in lines[1:-1]]
    assert rows[0] == "·····    " and rows[2] == "·····    "     # x1 ≤ 0 is class 0
    assert rows[1][1] == "o" and rows[1][7] == "x"             # the points, in place


def test_vanishing_example_shows_collapse_and_the_residual_cure():
    vanishing = _example("vanishing")
    X, y = datasets.moons(8, noise=0.1, seed=0)

    def gradient(depth, activation, residual):
        return vanishing.first_layer_gradient(depth, activation, residual, "xavier", 6, 0, X, y)

    shallow = gradient(2, "sigmoid", False)
    deep = gradient(20, "sigmoid", False)
    deep_residual = gradient(20, "sigmoid", True)
    assert deep < shallow * 1e-6                     # σ′ ≤ ¼ per layer: orders of magnitude
    assert deep_residual > shallow * 0.1             # the identity path carries it through
    assert math.isfinite(deep_residual)


def test_graduate_example_hands_over_identical_gradients_and_comes_back():
    pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch==2.13.0)")
    result = subprocess.run([sys.executable, str(EXAMPLES / "graduate.py"), "--epochs", "3",
                             "--torch-epochs", "2", "--points", "200", "--batch-size", "40"],
                            capture_output=True, text=True, check=True, timeout=300)
    lines = result.stdout.splitlines()
    names = torch_names(MLP(2, [16, 16, 1], seed=0))
    rows = [line.split() for line in lines if line.startswith("  L")]
    assert [row[0] for row in rows] == list(_example("graduate").SHOWN)
    for label, tensor, *index, ours, theirs in rows:        # "0.weight[0, 15]" was split
        entry, where = names[label]
        assert f"{tensor}{''.join(index)}" == f"{entry}[{','.join(map(str, where))}]"
        assert math.isclose(float(ours), float(theirs), rel_tol=1e-10), (label, ours, theirs)
        assert float(ours) != 0.0
    difference, largest = re.search(r"all 337 gradients: (\S+) \(the largest gradient is "
                                    r"(\S+)\)", result.stdout).groups()
    assert float(difference) < 1e-12 * float(largest)
    handed, back = re.findall(r"chaingrad (\d\.\d{12}) +PyTorch (\d\.\d{12})", result.stdout)
    for ours, theirs in (handed, back):
        assert math.isclose(float(ours), float(theirs), abs_tol=2e-12)
    assert float(back[0]) < float(handed[0])            # PyTorch went on learning
    assert "2 epochs on 200 moons points in mini-batches of 40" in result.stdout
    times = re.findall(r"^  (chaingrad|PyTorch \((?:cpu|cuda)\)) +(\S+) ms for +(\d+) points",
                       result.stdout, re.M)
    assert [(who.split()[0], points) for who, _, points in times] == \
        [("chaingrad", "100"), ("PyTorch", "200")]
    assert all(float(ms) > 0 for _, ms, _ in times)


def test_graduate_example_without_torch_says_how_to_install_it():
    code = ("import runpy, sys; sys.modules['torch'] = None; sys.argv = ['graduate.py']; "
            f"runpy.run_path({str(EXAMPLES / 'graduate.py')!r}, run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert "needs PyTorch: pip install torch==2.13.0" in result.stderr
