"""The argument checks viz's functions share: one rule each for precision and
rankdir, with errors that name the function the user called."""

from __future__ import annotations

import shutil
from typing import Any, Callable

import pytest

from engine import Value
from nn import MLP
from viz import (
    Page,
    animate_backward,
    animate_network,
    draw_dot,
    draw_network,
    explain,
    explore,
    explore_depth,
)
from viz.arguments import RANKDIRS, check_count
from viz.cli import make_parser
from viz.dot import ROLE_FILL
from viz.names import format_number, node_names, role

pytest.importorskip("graphviz")


def graph() -> Value:
    x = Value(0.5, label="x")
    return (x * 2.0).tanh()


def tiny_mlp() -> MLP:
    return MLP(1, [1], seed=0)


PRECISION_TAKERS: dict[str, Callable[[Any], Any]] = {
    "format_number": lambda p: format_number(1.0, precision=p),
    "draw_dot": lambda p: draw_dot(graph(), precision=p),
    "explain": lambda p: explain(graph(), graph().inputs[0], precision=p),
    "draw_network": lambda p: draw_network(tiny_mlp(), precision=p),
    "animate_backward": lambda p: animate_backward(graph(), precision=p),
}
RANKDIR_TAKERS: dict[str, Callable[[Any], Any]] = {
    "draw_dot": lambda r: draw_dot(graph(), rankdir=r),
    "draw_network": lambda r: draw_network(tiny_mlp(), rankdir=r),
    "animate_backward": lambda r: animate_backward(graph(), rankdir=r),
}


@pytest.mark.parametrize("who", PRECISION_TAKERS)
@pytest.mark.parametrize("precision, error", [
    (0, ValueError), (-3, ValueError), (2.5, TypeError), ("4", TypeError), (True, TypeError),
    (None, TypeError)])
def test_precision_is_an_int_of_at_least_one_everywhere(who: str, precision: Any,
                                                        error: type[Exception]) -> None:
    with pytest.raises(error, match=rf"^{who}: precision must be an int ≥ 1, got "):
        PRECISION_TAKERS[who](precision)


@pytest.mark.parametrize("who", RANKDIR_TAKERS)
@pytest.mark.parametrize("rankdir", ["up", "lr", "", None, ("LR",)])
def test_rankdir_is_one_of_graphviz_directions_everywhere(who: str, rankdir: Any) -> None:
    with pytest.raises(ValueError, match=rf"^{who}: rankdir must be one of LR, TB, RL, BT, got "):
        RANKDIR_TAKERS[who](rankdir)


@pytest.mark.parametrize("who", RANKDIR_TAKERS)
def test_every_direction_is_accepted_everywhere(who: str) -> None:
    if who == "animate_backward" and shutil.which("dot") is None:
        pytest.skip("animate_backward renders with graphviz's `dot`, not installed")
    for rankdir in RANKDIRS:
        RANKDIR_TAKERS[who](rankdir)
    source = draw_dot(graph(), rankdir="BT").source
    assert "rankdir=BT" in source


def test_the_command_line_offers_the_same_directions() -> None:
    graph_command = make_parser()._subparsers._group_actions[0].choices["graph"]
    rankdir = next(a for a in graph_command._actions if a.dest == "rankdir")
    assert tuple(rankdir.choices) == RANKDIRS


def test_counts_name_their_argument_and_may_allow_none() -> None:
    with pytest.raises(ValueError, match=r"^node_names: max_length must be an int ≥ 1, got 0$"):
        node_names(graph(), max_length=0)
    with pytest.raises(ValueError, match=r"^explain: max_paths must be an int ≥ 1, got 0$"):
        explain(graph(), graph(), max_paths=0)
    with pytest.raises(ValueError, match=r"^draw_dot: max_nodes must be an int ≥ 1 or None"):
        draw_dot(graph(), max_nodes=0)
    assert draw_dot(graph(), max_nodes=None).source.count("tanh") >= 1
    check_count("f", "n", None, allow_none=True)                  # accepted: returns quietly
    with pytest.raises(TypeError, match=r"^f: n must be an int ≥ 1, got NoneType None$"):
        check_count("f", "n", None)


def test_parameters_is_a_list_of_values_and_one_value_says_how_to_write_it() -> None:
    x, w = Value(0.5, label="x"), Value(2.0, label="w")
    out = (x * w).tanh()
    with pytest.raises(TypeError, match=r"^draw_dot: parameters must be a list of Values, "
                                        r"e\.g\. \[w, b\] or model\.parameters\(\); got one "
                                        r"Value: write parameters=\[w\]$"):
        draw_dot(out, parameters=w)
    for bad, said in ((3, "got int$"), ("w", "got str 'w'$"), ([w, 3], "item 1 is int 3$")):
        with pytest.raises(TypeError, match=rf"^draw_dot: parameters must be .*; {said}"):
            draw_dot(out, parameters=bad)
    with pytest.raises(TypeError, match=r"^role: parameters must be .*; got one Value"):
        role(w, out, parameters=w)
    assert role(w, out, parameters=[w]) == role(w, out, parameters={w}) == "parameter"
    assert role(x, out, parameters=(v for v in [w])) == "input"
    parameter_fill = ROLE_FILL["parameter"]
    assert parameter_fill not in draw_dot(out).source           # w is an input by default …
    for given in ([w], (w,), {w}, (v for v in [w])):            # … and a parameter when told
        assert parameter_fill in draw_dot(out, parameters=given).source


PATH_TAKERS: dict[str, Callable[[Any], Any]] = {
    "Page.write": lambda p: Page("<!DOCTYPE html>").write(p),
    "animate_backward": lambda p: animate_backward(graph(), p),
    "animate_network": lambda p: animate_network(tiny_mlp(), [0.5], 1.0, p),
    "explore": lambda p: explore(graph(), p),
    "explore_depth": lambda p: explore_depth(p, max_depth=1, width=1, points=2),
}


@pytest.mark.parametrize("who", PATH_TAKERS)
@pytest.mark.parametrize("path", [123, b"page.html", ["page.html"], 1.5])
def test_a_page_is_written_to_a_str_or_a_path_everywhere(who: str, path: Any) -> None:
    with pytest.raises(TypeError, match=rf"^{who}: path must be a str, a path or None, got "
                                        rf"{type(path).__name__}$"):
        PATH_TAKERS[who](path)


def test_page_write_writes_to_a_str_or_a_path_and_none_writes_nothing(tmp_path) -> None:
    page = Page("<!DOCTYPE html><title>t</title>")
    assert page.write(None) is page
    assert page.write(tmp_path / "a.html") is page
    assert page.write(str(tmp_path / "b.html")) is page
    assert (tmp_path / "a.html").read_text(encoding="utf-8") == page
    assert (tmp_path / "b.html").read_text(encoding="utf-8") == page
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html", "b.html"]
