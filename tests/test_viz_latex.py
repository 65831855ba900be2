"""LaTeX from explain, parsed by a real TeX parser (matplotlib's mathtext), not
compared as strings alone: every op of the table, nn's names, a 2-2-2-1 network in
every form. mathtext refuses what KaTeX and MathJax refuse ("Double superscript")."""

from __future__ import annotations

import random
import re

import pytest

from engine import OPS, Constant, Value
from nn import MLP, mse
from viz.explain import _tex, explain
from viz.names import lesson_name

mathtext = pytest.importorskip(
    "matplotlib.mathtext", reason="matplotlib is not installed (pip install 'chaingrad[dev]')")
_PARSER = mathtext.MathTextParser("path")


def parse(formula: str) -> None:
    """Parse one line of maths, failing the test with TeX's complaint."""
    try:
        _PARSER.parse(f"${formula}$")
    except ValueError as error:                       # mathtext's ParseFatalException
        pytest.fail(f"invalid LaTeX {formula!r}: {str(error).splitlines()[-1]}")


def parse_aligned(latex: str) -> None:
    """An ``aligned`` block: its frame, then every row parsed (alignment marks dropped,
    as mathtext has no environments)."""
    assert latex.startswith("\\begin{aligned}\n") and latex.endswith("\n\\end{aligned}")
    body = latex[len("\\begin{aligned}\n"):-len("\n\\end{aligned}")]
    rows = body.split(" \\\\\n")
    for row in rows:
        assert "\\\\" not in row
        parse(re.sub(r"(?<!\\)&", "", row))


def test_the_parser_refuses_a_double_superscript() -> None:
    with pytest.raises(pytest.fail.Exception, match="Double superscript"):
        parse("a_{1}^{(2)}^{2}")


def test_a_squared_lesson_name_is_bracketed() -> None:
    z = Value(0.3, "L2.N1.z")
    a = z.tanh()
    a.label = "L2.N1.a"
    above = a * 2.0
    above.label = "L3.N1.z"
    why = explain(above, z)
    assert "1 − (a₁⁽²⁾)²" in str(why)
    assert "(a_{1}^{(2)})^{2}" in why.latex() and "}^{(2)}^{2}" not in why.latex()
    parse_aligned(why.latex())


def _op_graph(case) -> tuple[Value, list[Value]]:
    """The op of ``case`` (tests/conftest.py: one per row of the table) applied to
    inputs named as nn names them (so names carry sub- and superscripts), its result
    squared (a name with a superscript, raised again)."""
    point = case.sample(random.Random(f"latex-{case.name}"))
    labels = ("L1.N2.a", "L2.N1.w2")
    args = [x if i in case.numbers else Value(x, labels[i]) for i, x in enumerate(point)]
    out = case.call(*args)
    out.label = "L2.N1.z"
    loss = out ** 2
    loss.label = "L"
    return loss, [v for v in args if isinstance(v, Value)]


def test_every_op_writes_valid_latex(op_case) -> None:
    loss, inputs = _op_graph(op_case)
    for wrt in inputs:
        for form in ("paths", "factored"):
            parse_aligned(explain(loss, wrt, form=form).latex())


@pytest.mark.parametrize("op", [op for op in OPS.values() if op.symbol.isidentifier()],
                         ids=lambda op: op.name)
def test_an_op_word_is_written_as_its_row_says(op) -> None:
    latex = _tex(f"{op.symbol}(z₁⁽²⁾) · {op.symbol}′(x)")
    assert latex.startswith(op.latex) and latex.count(op.latex) == 2
    parse(latex)


def test_a_new_rows_word_is_read_from_the_row(monkeypatch) -> None:
    """No op names are written into viz: a row added to the table is written as it says."""
    from engine.ops import Op
    from viz.explain import _op_latex
    row = Op("softplus", "softplus", "log(1.0 + exp(a))", "1.0 / (1.0 + exp(-a))",
             function="softplus", latex=r"\zeta")
    try:
        with monkeypatch.context() as patch:
            patch.setitem(OPS, "softplus", row)
            _op_latex.cache_clear()
            assert _tex("softplus(x)") == r"\zeta (x)"
    finally:
        _op_latex.cache_clear()
    assert _tex("softplus(x)") == r"\operatorname{softplus}(x)"   # without the row: a word


def test_other_words_are_upright_or_operator_names() -> None:
    assert _tex("sign(x)") == r"\operatorname{sign}(x)"       # called as a function
    assert _tex("loss") == r"\mathrm{loss}" and _tex("x·y") == r"x \cdot y"
    assert _tex("expm1") == r"\mathrm{expm}1"                  # not exp followed by m1
    assert _tex("δσ(z)").startswith(r"\delta \sigma")           # Greek letters stay letters
    parse(_tex("δσ(z)"))


@pytest.mark.parametrize("label", ["L1.N2.w3", "L2.N1.b", "L2.N1.z", "L1.N2.a", "L12.N3.w14",
                                   "x1", "w_2"])
def test_nn_names_are_valid_latex(label: str) -> None:
    name = lesson_name(label)
    assert name is not None
    parse(_tex(name))
    parse(_tex(f"({name})²"))


@pytest.mark.parametrize("text", ["loss_total", "50% off", "a&b", "#1", "x{y}", "price$",
                                  "a\\b", "x~y", "x^y", "θ·λ", "Ω", "naïve", "x^0.5",
                                  "x^(n − 1)", "1 if z > 0 else 0", "W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾ ⊙ φ′(z⁽ˡ⁾)",
                                  "Σₖ W⁽ˡ⁺¹⁾ₖⱼ δ⁽ˡ⁺¹⁾ₖ", "−3×10⁻⁶", "∂L/∂ŷ₁"])
def test_any_label_or_symbol_is_escaped_into_valid_latex(text: str) -> None:
    parse(_tex(text))


def test_a_label_with_tex_specials_survives_explain() -> None:
    x = Value(2.0, "my_x")
    cost = Value(3.0, "50%") * x.tanh()
    cost.label = "total&cost"
    latex = explain(cost, x).latex()
    assert r"\mathrm{my}\_x" in latex and r"\%" in latex and r"\text{\&}" in latex
    parse_aligned(latex)


def network_2221() -> tuple[MLP, Value]:
    model = MLP.from_weights([[[0.15, 0.2], [0.25, 0.3]], [[0.4, 0.45], [0.5, 0.55]],
                              [[0.6, 0.7]]], [[0.35, 0.35], [0.6, 0.6], [0.1]],
                             activation="sigmoid", output_activation="sigmoid")
    loss = mse(model([0.05, 0.1]), 0.9, half=True)
    loss.backward()
    return model, loss


@pytest.mark.parametrize("form", ["paths", "factored"])
@pytest.mark.parametrize("symbolic", [False, True])
def test_explain_on_a_2221_network_is_valid_latex(form: str, symbolic: bool) -> None:
    model, loss = network_2221()
    wrts = [*model.parameters(), *(n.z for layer in model.layers for n in layer.neurons)]
    for wrt in wrts:
        parse_aligned(explain(loss, wrt, form=form, symbolic=symbolic).latex())
        parse_aligned(explain(loss, wrt, max_paths=1, form=form, symbolic=symbolic).latex())


def test_the_2221_latex_reads_as_the_lesson() -> None:
    model, loss = network_2221()
    latex = explain(loss, model.layers[0].neurons[0].z, form="factored", symbolic=True).latex()
    first = latex.splitlines()[1]
    assert first.startswith(r"\frac{\partial L}{\partial z_{1}^{(1)}} &= \left[")
    assert first.endswith(r"\right] \cdot (\partial L/\partial \hat{y}) \cdot "
                          r"\psi '(z_{1}^{(3)}) \cdot \varphi '(z_{1}^{(1)}) \\")


def test_a_named_constant_is_written_by_name() -> None:
    x = Value(0.5, "x")
    y = Constant(0.9, "y")
    loss = (x * y).tanh()
    loss.label = "L"
    why = explain(loss, x)
    assert why.paths[0].factors[-1].rule == "y"            # not 0.9
    parse_aligned(why.latex())
