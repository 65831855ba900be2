"""Datasets: the same points for the same seed, the right sizes and labels, and the
shapes they promise (checked on the noise-free version against the curves' equations)."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from nn import datasets


def test_xor_is_the_truth_table():
    X, y = datasets.xor()
    assert X == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    assert y == [int(a) ^ int(b) for a, b in X]


@pytest.mark.parametrize("make", [datasets.moons, datasets.circles, datasets.spiral])
def test_same_seed_same_points_and_a_different_seed_differs(make):
    assert make(60, seed=3) == make(60, seed=3)
    assert make(60, seed=3) != make(60, seed=4)
    assert make(60, seed=random.Random(3)) == make(60, seed=3)


@pytest.mark.parametrize("make", [datasets.moons, datasets.circles, datasets.spiral])
def test_the_global_generator_is_untouched(make):
    random.seed(0)
    expected = random.random()
    random.seed(0)
    make(30, seed=1)
    assert random.random() == expected


@pytest.mark.parametrize("n", [2, 7, 100])
def test_moons_sizes_and_labels(n):
    X, y = datasets.moons(n, noise=0.1, seed=0)
    assert len(X) == len(y) == n
    assert all(len(p) == 2 and all(isinstance(c, float) for c in p) for p in X)
    assert y.count(0) == n // 2 and y.count(1) == n - n // 2


def test_noise_free_moons_lie_on_their_half_circles():
    X, y = datasets.moons(50, noise=0.0, seed=0)
    for (a, b), label in zip(X, y):
        if label == 0:      # upper arc: a² + b² = 1, b ≥ 0
            assert math.hypot(a, b) == pytest.approx(1.0) and b >= -1e-12
        else:               # lower arc centred at (1, ½): b ≤ ½
            assert math.hypot(a - 1.0, b - 0.5) == pytest.approx(1.0) and b <= 0.5 + 1e-12


def test_moons_noise_has_the_asked_spread():
    clean, _ = datasets.moons(2000, noise=0.0, seed=5)
    noisy, _ = datasets.moons(2000, noise=0.2, seed=5)
    # independent N(0, σ²) noise leaves the mean of x1 and adds σ² to its variance
    clean_x = [p[0] for p in clean]
    noisy_x = [p[0] for p in noisy]
    assert statistics.fmean(noisy_x) == pytest.approx(statistics.fmean(clean_x), abs=0.03)
    added = statistics.pvariance(noisy_x) - statistics.pvariance(clean_x)
    assert added == pytest.approx(0.2 ** 2, rel=0.25)


def test_noise_free_circles_have_radius_1_and_factor():
    X, y = datasets.circles(40, noise=0.0, factor=0.3, seed=0)
    for point, label in zip(X, y):
        assert math.hypot(*point) == pytest.approx(1.0 if label == 0 else 0.3)
    assert y.count(0) == 20 and y.count(1) == 20


def test_spiral_classes_and_radius():
    X, y = datasets.spiral(91, classes=3, noise=0.0, seed=0)
    assert len(X) == 91 and sorted(set(y)) == [0, 1, 2]
    assert [y.count(c) for c in range(3)] == [31, 30, 30]
    assert max(math.hypot(*p) for p in X) == pytest.approx(1.0)
    # noise-free arm c: the point at radius r has angle 4r + 2πc/3 (from the y axis)
    for (a, b), c in zip(X, y):
        r = math.hypot(a, b)
        if r > 0.05:
            angle = 4 * r + 2 * math.pi * c / 3
            assert (a, b) == pytest.approx((r * math.sin(angle), r * math.cos(angle)), abs=1e-12)


@pytest.mark.parametrize("call, error, message", [
    (lambda: datasets.moons(1, seed=0), ValueError, "moons: n must be an int ≥ 2"),
    (lambda: datasets.moons(10, noise=-0.1, seed=0), ValueError, "noise must be finite"),
    (lambda: datasets.moons(10, noise="a", seed=0), TypeError, "noise must be a number"),
    (lambda: datasets.moons(10, seed="a"), TypeError, "seed must be an int"),
    (lambda: datasets.circles(10, factor=1.5, seed=0), ValueError, "factor"),
    (lambda: datasets.spiral(10, classes=1, seed=0), ValueError, "classes must be an int ≥ 2"),
    (lambda: datasets.spiral(2, classes=3, seed=0), ValueError, "cannot fill 3 classes"),
])
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
