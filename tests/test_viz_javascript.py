"""viz/javascript.py: the op table's fifth interpreter.

The rules are written from their parsed trees (JavaScript's traps avoided), a rule
that cannot be written is refused naming what it calls, and the runtime writes
numbers and refuses them exactly as Python and the engine do. In headless Chromium,
every row of ``engine.OPS`` — iterated, so a new row is covered by itself — gives
the engine's values and gradients to 1e-12, and the engine's message where it is
undefined.
"""

from __future__ import annotations

import math
import random
import shutil

import pytest

from engine import OPS, Op, Value, grad, ops
from engine.value import _call
from viz.javascript import (
    MATH_FUNCTIONS,
    NotInJavaScript,
    call_templates,
    op_table,
    python_messages,
    runtime,
    to_javascript,
)
from viz.notation import display_number

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="graphviz's `dot` is not installed (apt-get install graphviz)")


# ---- the rules, written from their trees --------------------------------------------------
def test_every_row_is_written_in_javascript():
    table = op_table()
    for op in OPS.values():
        assert f'"{op.name}": Object.assign(' in table
        assert to_javascript(op, op.forward_rule, "forward")
        for rule in op.local_rules:
            assert to_javascript(op, rule, "local")


@pytest.mark.parametrize("rule, javascript", [
    ("-a ** b", "(-T.pow(a, b))"),                   # a syntax error as JavaScript writes it
    ("(-a) ** b", "T.pow((-a), b)"),
    ("a / b", "T.div(a, b)"),                        # 1 / 0 would be Infinity
    ("1.0 if a > 0.0 else 0.0", "((a > 0.0) ? 1.0 : 0.0)"),
    ("a >= 0.0 or b == round(b)", "((a >= 0.0) || (b === T.round(b)))"),
    ("0.0 < a <= b", "((0.0 < a) && (a <= b))"),
    ("not a > b", "(!(a > b))"),
    ("tanh(a) + exp(b) * log(a)", "(M.tanh(a) + (M.exp(b) * M.log(a)))"),
    ("sigmoid(a)", "T.sigmoid(a)"),
    ("abs(a)", "Math.abs(a)"),
])
def test_rules_become_javascript_that_means_the_same(rule, javascript):
    op = Op("test", "t", "a + b", "1.0", "1.0")
    assert to_javascript(op, rule, "forward") == javascript


def test_local_rules_call_the_local_names_and_may_use_out():
    assert to_javascript(OPS["abs"], "sign(a)", "local") == "T.sign(a)"
    assert to_javascript(OPS["tanh"], "1.0 - out * out", "local") == "(1.0 - (out * out))"
    with pytest.raises(NotInJavaScript, match="uses the name 'out'"):
        to_javascript(OPS["tanh"], "out", "forward")


def test_a_math_function_is_javascripts_math_function_of_that_name(monkeypatch):
    monkeypatch.setitem(ops.FORWARD_NAMES, "atan2", math.atan2)
    monkeypatch.setitem(ops.FORWARD_NAMES, "expm1", math.expm1)
    assert to_javascript(OPS["add"], "atan2(a, b) + expm1(a)", "forward") == \
        "(M.atan2(a, b) + M.expm1(a))"
    assert {"atan2", "expm1", "log1p", "hypot"} <= MATH_FUNCTIONS
    monkeypatch.setitem(ops.FORWARD_NAMES, "pi", math.pi)         # a number by name: a number
    assert to_javascript(OPS["add"], "pi * a", "forward") == "(3.141592653589793 * a)"


def test_a_function_with_no_javascript_twin_is_refused_naming_it(monkeypatch):
    monkeypatch.setitem(ops.FORWARD_NAMES, "gamma", math.gamma)          # Math has no gamma
    monkeypatch.setitem(ops.LOCAL_NAMES, "digamma", lambda x: x)
    row = Op("gamma", "Γ", "gamma(a)", "out * digamma(a)")
    with pytest.raises(NotInJavaScript, match=r"op 'gamma': its forward rule 'gamma\(a\)' "
                                              r"calls gamma, which has no JavaScript twin"):
        op_table([row])
    with pytest.raises(NotInJavaScript, match="local rule 'out \\* digamma\\(a\\)' calls digamma"):
        to_javascript(row, row.local_rules[0], "local")
    assert issubclass(NotInJavaScript, ValueError)


def test_syntax_javascript_would_read_differently_is_refused():
    op = Op("test", "t", "a + b", "1.0", "1.0")
    for rule in ("a % b", "a // b", "a if a is b else b", "max(*a)"):
        with pytest.raises(NotInJavaScript, match="op 'test'"):
            to_javascript(op, rule, "forward")


def test_message_templates_write_the_numbers_as_the_engine_does():
    for op in OPS.values():
        for a in (2.5, -2.5, 0.0, -0.0, 1e-300, -7e22):
            for b in (0.5, -3.0, -0.0, 1e16):
                inputs = [Value(a), Value(b)][: op.arity]
                template = call_templates(op)[sum(math.copysign(1, v.data) < 0 and 1 << k
                                                  for k, v in enumerate(inputs))]
                written = template.replace("__a__", repr(abs(a))).replace("__b__", repr(abs(b)))
                assert written == _call(op, tuple(inputs)), (op, a, b)


def test_python_messages_are_this_pythons():
    said = python_messages()
    with pytest.raises(ZeroDivisionError) as division:
        1.0 / 0.0                                                          # noqa: B018
    with pytest.raises(ZeroDivisionError) as power:
        0.0 ** -1.0                                                        # noqa: B018
    assert said == {"division": str(division.value), "power": str(power.value)}


# ---- in the browser --------------------------------------------------------------------------
def _runtime_page() -> str:
    return f"<!DOCTYPE html><html><body><script>{runtime()}{op_table()}</script></body></html>"


def test_numbers_are_written_as_python_writes_them(browser):
    rng = random.Random(3)
    cases = [[x, p] for x, p in [(0.125, 2), (0.375, 2), (2.5, 1), (3.5, 1), (1.0625, 4),
                                 (-0.0, 4), (0.0, 3), (1e16, 4), (1e-5, 4), (9.9995, 4),
                                 (5e-324, 4), (1.7976931348623157e308, 6), (-3e-6, 4),
                                 (123456789.0, 4), (0.1 + 0.2, 17), (1e22, 4), (1e-7, 1)]]
    for _ in range(1500):
        x = rng.choice([rng.uniform(-10, 10), rng.choice([-1, 1]) * 10 ** rng.uniform(-30, 30),
                        round(rng.uniform(-5, 5), rng.randint(0, 5)),
                        rng.randint(-1000, 1000) / 2 ** rng.randint(0, 12)])
        cases.append([x, rng.randint(1, 17)])
    driver = browser.open(_runtime_page(), "runtime")
    written = driver.execute_script(
        "return arguments[0].map(([x, p]) => [pyRepr(x), formatG(x, p), displayNumber(x, p)])",
        cases)
    for (x, p), got in zip(cases, written):
        assert got == [repr(x), f"{x:.{p}g}", display_number(x, p)], (x, p)
    assert driver.execute_script("return [pyRepr(Infinity), pyRepr(-Infinity), pyRepr(NaN)]") \
        == ["inf", "-inf", "nan"]
    assert browser.errors() == []


def test_pythons_float_refusals_are_kept(browser):
    driver = browser.open(_runtime_page(), "runtime")
    said = python_messages()
    results = driver.execute_script("""
      const tried = f => { try { return ["ok", f()]; } catch (e) { return [e.kind, e.reason]; } };
      return [tried(() => T.div(1, 0)), tried(() => T.div(1, -0)), tried(() => T.pow(0, -1)),
              tried(() => T.pow(-8, 1 / 3)), tried(() => T.pow(2, 10000)),
              tried(() => M.log(-1)), tried(() => M.log(0)), tried(() => M.exp(1000)),
              tried(() => M.tanh(1000)), tried(() => T.round(2.5)), tried(() => T.round(-0.5)),
              tried(() => T.round(3.5)), tried(() => T.sigmoid(-800)), tried(() => T.sign(-0))];
    """)
    assert results == [["zero", said["division"]], ["zero", said["division"]],
                       ["zero", said["power"]], ["domain", "math domain error"],
                       ["overflow", "math range error"], ["domain", "math domain error"],
                       ["domain", "math domain error"], ["overflow", "math range error"],
                       ["ok", 1.0], ["ok", 2], ["ok", 0], ["ok", 4],
                       ["ok", ops.sigmoid(-800.0)], ["ok", 0]]


# ---- every row of the table, in a page, against the engine -----------------------------------
def _graph(case, point):
    """``L = 1.5 · op(a, b)``, with the op's plain-number operands plain numbers."""
    leaves = [x if k in case.numbers else Value(x, "ab"[k]) for k, x in enumerate(point)]
    y = case.call(*leaves)
    y.label = "y"
    loss = y * 1.5
    loss.label = "L"
    return leaves, y, loss


def _engine(case, point):
    leaves, y, loss = _graph(case, point)
    named = {"y": y, "L": loss, **{v.label: v for v in leaves if isinstance(v, Value)}}
    grads = grad(loss, list(named.values()))
    return ({k: v.data for k, v in named.items()}, dict(zip(named, grads)))


def _close(page: dict, engine: dict, what: str) -> None:
    assert page.keys() >= engine.keys(), (page, engine)
    for key, expected in engine.items():
        got = page[key]
        assert abs(got - expected) <= 1e-12 * abs(expected) + 1e-300, (what, key, got, expected)


@needs_dot
def test_every_row_gives_the_engines_values_and_gradients_in_the_page(browser, op_case):
    """Each row of engine.OPS at many points: the page's numbers are the engine's to 1e-12
    relative (where Math.exp/tanh/log/** differ from the C library in the last bit)."""
    from viz import explore

    rng = random.Random(op_case.name)
    points = [op_case.sample(rng) for _ in range(24)]
    pages = {}                               # one page per value of the plain-number operands
    for point in points:
        fixed = tuple(point[k] for k in op_case.numbers)
        pages.setdefault(fixed, []).append(point)
    for group in list(pages.values())[:6]:
        _, _, loss = _graph(op_case, group[0])
        driver = browser.open(explore(loss), f"op-{op_case.name}")
        for point in group:
            settable = {"ab"[k]: x for k, x in enumerate(point) if k not in op_case.numbers}
            for name, x in settable.items():
                assert driver.execute_script("return chaingrad.set(arguments[0], arguments[1])",
                                             name, x) is True, driver.execute_script(
                                                 "return chaingrad.message()")
            values, grads = _engine(op_case, point)
            _close(driver.execute_script("return chaingrad.values()"), values, "value")
            _close(driver.execute_script("return chaingrad.grads()"), grads, "gradient")
        assert browser.errors() == [] and browser.requests() == []


def _one_step_outside(op, case, rng):
    """A point inside ``op``'s domain and one that leaves it by one settable operand."""
    settable = [k for k in range(op.arity) if k not in case.numbers]
    for _ in range(500):
        inside = list(case.sample(rng))
        for k in settable:
            for _ in range(40):
                point = list(inside)
                point[k] = rng.choice([rng.uniform(-3, 3), float(rng.randint(-3, 3))])
                if not op.defined(*point):
                    return inside, k, point
    raise AssertionError(f"no point found outside the domain of {op.name}")


def _shown_text(driver) -> str:
    return driver.execute_script("return document.body.innerText + ' ' + "
                                 "[...document.querySelectorAll('svg text')]"
                                 ".map(t => t.textContent).join(' ')")


@needs_dot
@pytest.mark.parametrize("name", sorted(name for name, op in OPS.items() if op.domain))
def test_outside_its_domain_each_row_says_what_the_engine_says(browser, op_cases, name):
    """Where a row's domain rule fails, the page shows the engine's own message and
    keeps the last good numbers: no NaN, no Infinity on screen."""
    from viz import explore

    op, op_case = OPS[name], op_cases[name]

    inside, k, point = _one_step_outside(op, op_case, random.Random(5))
    _, _, loss = _graph(op_case, inside)
    driver = browser.open(explore(loss), f"domain-{op.name}")
    before = driver.execute_script("return [chaingrad.values(), chaingrad.grads()]")
    assert driver.execute_script("return chaingrad.set(arguments[0], arguments[1])",
                                 "ab"[k], point[k]) is False
    with pytest.raises(ValueError) as engine_error:
        op_case.call(*[x if j in op_case.numbers else Value(x, "ab"[j])
                       for j, x in enumerate(point)])
    assert driver.execute_script("return chaingrad.message()") == str(engine_error.value)
    assert driver.execute_script("return [chaingrad.values(), chaingrad.grads()]") == before
    shown = _shown_text(driver)
    assert str(engine_error.value) in shown
    for word in ("NaN", "Infinity", "undefined"):
        assert word not in shown
    assert browser.errors() == []
