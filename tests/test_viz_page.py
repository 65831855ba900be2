"""viz.page: what the live pages share, written once — the base style, the player's bar
and script, the zoom — and each page built from those same pieces, keeping its own
keys, buttons and titles."""

from __future__ import annotations

import re
import shutil

import pytest

from engine import Value
from nn import MLP
from viz import animate_backward, animate_network, explore, explore_depth
from viz.animate import frames
from viz.page import (
    BASE_CSS,
    FIT_SCRIPT,
    HALO,
    PLAYER_CSS,
    player_controls,
    player_script,
    zoom_buttons,
    zoom_script,
)
from viz.stepper import network_steps

pytest.importorskip("graphviz")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz `dot` not installed")


def titles(html: str) -> dict[str, str]:
    """Each button's id and its title (what a pointer's hover says)."""
    return dict(re.findall(r'<button id="([\w-]+)" title="([^"]*)"', html))


def test_zoom_buttons_name_their_keys_only_where_the_page_has_them() -> None:
    assert titles(zoom_buttons()) == {"zoom-out": "smaller (−)", "zoom-fit": "fit the page (0)",
                                      "zoom-in": "larger (+)"}
    assert titles(zoom_buttons(keys=False)) == {"zoom-out": "smaller", "zoom-fit": "fit the page",
                                                "zoom-in": "larger"}
    assert titles(zoom_buttons(fit="fit the window"))["zoom-fit"] == "fit the window (0)"


def test_the_player_bar_says_what_a_step_is_called() -> None:
    bar = player_controls("frame", "counter")
    assert titles(bar) == {
        "first": "first frame (Home)", "prev": "previous frame (←)",
        "play": "play / pause (space)", "next": "next frame (→)", "last": "last frame (End)",
        "zoom-out": "smaller (−)", "zoom-fit": "fit the page (0)", "zoom-in": "larger (+)"}
    assert '<input id="slider" type="range" min="0" value="0" aria-label="frame">' in bar
    assert '<span id="counter"></span>' in bar


def test_the_scripts_are_filled_in_and_the_keys_are_optional() -> None:
    script = player_script(12, "step", "where", 2500)
    assert "slider.max = 11;" in script and "}, 2500);" in script
    assert 'document.getElementById("where").textContent =\n    "step" + " "' in script
    assert re.search(r"__[A-Z]+__", script) is None
    zoom = zoom_script(grow=1.5, least=0.3)
    assert zoom.startswith(FIT_SCRIPT) and "fitScale(svg, room(svg), 1.5)" in zoom
    assert "Math.max(0.3, Math.min(4," in zoom and 'ev.key === "0"' in zoom
    assert 'ev.key === "0"' not in zoom_script(grow=2, least=0.5, keys=False)


def _output() -> Value:
    x, w = Value(0.5, "x"), Value(-1.2, "w")
    y = (x * w).tanh()
    y.label = "y"
    return y


def _pages() -> dict[str, str]:
    return {"animate_backward": animate_backward(_output()),
            "animate_network": animate_network(MLP(2, [2, 1], seed=0), [0.5, -1.0], 1.0),
            "explore": explore(_output())}


@needs_dot
def test_every_page_is_built_from_the_one_copy_of_each_piece() -> None:
    pages = _pages()
    pages["explore_depth"] = explore_depth(max_depth=2, width=2, points=2)
    for name, page in pages.items():
        assert page.count(BASE_CSS) == 1, name
        assert page.count("font-family: system-ui") == 1, name      # the base style, once
    steps = len(network_steps(MLP(2, [2, 1], seed=0), [0.5, -1.0], 1.0))
    assert steps == 8                            # input, 2 forward, loss, 2 backward, 2 W
    players = {"animate_backward": player_script(len(frames(_output())), "frame", "step", 1100),
               "animate_network": player_script(steps, "step", "where", 2500)}
    for name, script in players.items():
        assert pages[name].count(script) == 1, name
        assert pages[name].count("function play(") == 1, name
        assert pages[name].count(PLAYER_CSS) == 1, name
    zooms = {"animate_backward": zoom_script(2, 0.5), "animate_network": zoom_script(4, 0.3),
             "explore": zoom_script(1.5, 0.5, keys=False)}
    for name, script in zooms.items():
        assert pages[name].count(script) == 1, name
        assert pages[name].count("function setZoom(") == 1, name
        assert pages[name].count("function fitScale(") == 1, name
    assert "function play(" not in pages["explore"]
    assert "setZoom" not in pages["explore_depth"]


@needs_dot
def test_each_page_keeps_its_own_buttons_and_titles() -> None:
    pages = _pages()
    assert titles(pages["animate_backward"]) == titles(player_controls("frame", "step"))
    assert titles(pages["animate_network"]) == titles(
        player_controls("step", "where", fit="fit the window"))
    assert titles(pages["animate_network"])["zoom-fit"] == "fit the window (0)"
    explore_titles = titles(pages["explore"])
    assert {k: explore_titles[k] for k in ("zoom-out", "zoom-fit", "zoom-in")} == {
        "zoom-out": "smaller", "zoom-fit": "fit the page", "zoom-in": "larger"}
    for name in ("animate_backward", "animate_network"):
        assert "Keys: ← → step, Home/End jump, space plays, + − 0 zoom." in \
            pages[name].replace("\n", " "), name


_STYLE = """
const shape = document.querySelector(arguments[0]), style = getComputedStyle(shape);
return {filter: style.filter, stroke: style.stroke};
"""
_YELLOW = "rgb(250, 204, 21)"                       # HALO, as the browser writes it


def _rgb(colour: str) -> str:
    return "rgb({}, {}, {})".format(*(int(colour[k:k + 2], 16) for k in (1, 3, 5)))


@needs_dot
def test_the_node_at_work_wears_the_same_yellow_halo_on_every_page(browser) -> None:
    """Not a red border (red is grad < 0 in the colour key): a halo, the node's own
    border kept, on the three pages that point at a node."""
    from viz.dot import GRAD_NEGATIVE, HIGHLIGHT
    assert HALO == "#facc15" and _rgb(HALO) == _YELLOW
    pages = _pages()
    driver = browser.open(pages["animate_backward"], "halo-backward")
    driver.execute_script("show(DATA.frames.length - 1)")         # x gets its gradient
    seen = driver.execute_script(_STYLE, "svg.graph .node.now-backward > path")
    assert _YELLOW in seen["filter"] and seen["stroke"] == _rgb("#334155"), seen
    arrow = driver.execute_script(_STYLE, "svg.graph .edge.flow-backward > path")
    assert arrow["stroke"] == _rgb(HIGHLIGHT) != _rgb(GRAD_NEGATIVE), arrow
    driver.execute_script("show(1)")
    seen = driver.execute_script(_STYLE, "svg.graph .node.now-forward > path")
    assert _YELLOW in seen["filter"] and seen["stroke"] == _rgb("#334155"), seen

    driver = browser.open(pages["animate_network"], "halo-network")
    driver.execute_script("show(5)")                               # backward: layer 1
    seen = driver.execute_script(_STYLE, "svg.graph .node.now > ellipse")
    assert _YELLOW in seen["filter"], seen

    driver = browser.open(pages["explore"], "halo-explore")
    driver.execute_script("chaingrad.select('x')")                 # ∂y/∂x < 0: a red border
    assert driver.execute_script("return chaingrad.grads().x") < 0
    seen = driver.execute_script(_STYLE, "svg.graph g.node.selected > :first-child")
    assert _YELLOW in seen["filter"] and seen["stroke"] == _rgb(GRAD_NEGATIVE), seen
    assert "selected" in driver.find_element("css selector", ".legend").text
    assert browser.errors() == []
