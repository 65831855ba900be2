"""The ``chaingrad`` command, run as a user runs it: a subprocess.

Formulas are parsed against a whitelist, never eval'd: every injection attempt
below must exit with status 2, say what is not allowed, and run nothing (a marker
file the attempt would create stays absent).
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from viz.cli import MAX_DEPTH, MAX_LENGTH, ExpressionError, build, parse_assignments

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="graphviz's `dot` is not installed (apt-get install graphviz)")
ROOT = Path(__file__).resolve().parent.parent


def chaingrad(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "viz.cli", *args], cwd=cwd or ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})


NEURON = ("tanh(x*w + b)", "x=0.5", "w=-1.2", "b=0.3")


def tanh_neuron_grads(x: float, w: float, b: float) -> dict[str, float]:
    d = 1 - math.tanh(x * w + b) ** 2
    return {"x": d * w, "w": d * x, "b": d}


# ---- the interpreter, in-process ---------------------------------------------------------
def test_build_makes_value_ops_with_named_leaves() -> None:
    out, leaves = build("tanh(x*w + b) + 2 ** x - -w / 4", {"x": 0.5, "w": -1.2, "b": 0.3})
    assert list(leaves) == ["x", "w", "b"]
    assert [leaf.label for leaf in leaves.values()] == ["x", "w", "b"]
    assert out.data == pytest.approx(math.tanh(0.5 * -1.2 + 0.3) + 2 ** 0.5 - 1.2 / 4)
    out.backward()
    d = 1 - math.tanh(0.5 * -1.2 + 0.3) ** 2
    assert leaves["x"].grad == pytest.approx(d * -1.2 + 2 ** 0.5 * math.log(2))
    assert leaves["w"].grad == pytest.approx(d * 0.5 + 1 / 4)


def test_every_whitelisted_function() -> None:
    for name, f, df in [("exp", math.exp, math.exp), ("log", math.log, lambda v: 1 / v),
                        ("relu", lambda v: max(v, 0.0), lambda v: float(v > 0)),
                        ("sigmoid", lambda v: 1 / (1 + math.exp(-v)),
                         lambda v: math.exp(-v) / (1 + math.exp(-v)) ** 2),
                        ("tanh", math.tanh, lambda v: 1 - math.tanh(v) ** 2)]:
        out, leaves = build(f"{name}(v)", {"v": 0.7})
        out.backward()
        assert out.data == pytest.approx(f(0.7)) and leaves["v"].grad == pytest.approx(df(0.7))


def test_null_bytes_and_non_strings() -> None:
    with pytest.raises(ExpressionError, match="not a valid formula"):
        build("x\x00", {"x": 1.0})
    with pytest.raises(TypeError, match="parse_formula: text must be a str"):
        build(b"x", {"x": 1.0})  # type: ignore[arg-type]


def test_formulas_may_start_with_a_minus() -> None:
    result = chaingrad("check", "-x*w", "x=2", "w=3")
    assert result.returncode == 0, result.stderr
    assert chaingrad("explain", "-x", "x=2", "--wrt", "x").returncode == 0


def test_values_are_checked() -> None:
    assert parse_assignments(["x=0.5", " w = -1.2e0"]) == {"x": 0.5, "w": -1.2}
    for bad, message in [(["x"], "not name=value"), (["x=abc"], "'abc' (for x) is not a number"),
                         (["x=1", "x=2"], "given a value twice"), (["1x=2"], "not a valid name"),
                         (["x=inf"], "must be finite"), (["x=nan"], "must be finite"),
                         (["exp=1"], "is a function")]:
        with pytest.raises(ExpressionError, match=re.escape(message)):
            parse_assignments(bad)


# ---- names as the lessons write them (x₁), and as Python matches them (NFKC) -------------
def test_subscript_names_are_shown_as_typed_and_given_values_either_way() -> None:
    """x₁ is Python's x1 (NFKC): a value may name it either way; tables, diagrams and
    explanations keep the formula's spelling."""
    for value in ("x₁=0.5", "x1=0.5"):
        result = chaingrad("check", "x₁*w₁₂", value, "w₁₂=2")
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == "x₁*w₁₂ at x₁=0.5, w₁₂=2:"
        rows = {line.split()[0]: [float(v) for v in line.split()[1:3]] for line in lines[2:4]}
        assert rows == {"x₁": [2.0, pytest.approx(2.0)], "w₁₂": [0.5, pytest.approx(0.5)]}
    out, leaves = build("z₁ = x₁*w; tanh(z₁)", {"x1": 0.5, "w": -1.2})
    assert {name: leaf.label for name, leaf in leaves.items()} == {"x1": "x₁", "w": "w"}
    assert out.inputs[0].label == "z₁" and out.data == pytest.approx(math.tanh(-0.6))
    explained = chaingrad("explain", "z₁ = x₁*w; tanh(z₁)", "x1=0.5", "w=-1.2", "--wrt", "x₁")
    assert explained.returncode == 0, explained.stderr
    expected = f"{-1.2 * (1 - math.tanh(-0.6) ** 2):.4g}".replace("-", "−")    # −0.8539
    assert explained.stdout.startswith(f"∂tanh(z₁)/∂x₁ = {expected}, ")
    assert build("x1*2", {"x₁": 3.0})[1]["x1"].label == "x1"     # the formula's spelling
    ligature, leaves = build("ﬁ*2", {"fi": 3.0})                    # ﬁ is fi to Python
    assert ligature.data == 6.0 and leaves["fi"].label == "ﬁ"


@pytest.mark.parametrize("args, message", [
    (("x₁*x1", "x1=1"), "'x₁' and 'x1' are one name to Python ('x1') (column 4): write it "
                        "one way"),
    (("µ*μ", "μ=1"), "'µ' and 'μ' are one name to Python"),                # micro sign, mu
    (("z₁ = x*2; z1 = z₁ + 1; z1", "x=1"), "'z₁' and 'z1' are one name to Python"),
    (("x1*2", "x₁=1", "x1=2"), "'x1' is given a value twice (as 'x₁': one name to Python)"),
    (("x₁*2", "x=1"), "no value for 'x₁': add x₁=<number>"),
    (("x₁*2", "x1=1", "y₁=2"), "the formula does not use 'y₁'"),
    (("x²*2", "x=1"), "invalid character '²' (U+00B2) (a power is written x**2)"),
    (("2₁*x", "x=1"), "invalid character '₁' (U+2081)"),
    (("x*2", "x²=1"), "'x²' in 'x²=1' is not a valid name"),
    (("z₁ = x; z₁ = x; z₁", "x=1"), "'z₁' is defined twice, in steps 1 and 2"),
])
def test_names_python_cannot_tell_apart_or_read_are_usage_errors(args, message) -> None:
    result = chaingrad("check", *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr, result.stderr
    assert result.stdout == ""


# ---- injection attempts: refused with status 2, nothing executed -------------------------
INJECTIONS = [
    "__import__('os').system('touch X')",
    "exp(__import__('os').system('touch X'))",
    "x.__class__.__bases__[0].__subclasses__()",
    "x.real",
    "().__class__",
    "x[0]",
    "(lambda: __import__('os').system('touch X'))()",
    "[__import__('os').system('touch X') for _ in [1]][0]",
    "{k: 1 for k in 'ab'}",
    "(__import__('os').system('touch X') for _ in [1])",
    "f\"{__import__('os').system('touch X')}\"",
    "(y := __import__('os').system('touch X'))",
    "exp(x=1)",
    "exp(*[1])",
    "open('X', 'w')",
    "eval(\"__import__('os').system('touch X')\")",
    "exec('import os')",
    "getattr(x, 'real')",
    "globals()",
    "breakpoint()",
    "'touch X'",
    "b'X'",
    "True + x",
    "None",
    "1j * x",
    "x if x else x",
    "x < 1",
    "x and x",
    "not x",
    "~x",
    "x ^ 2",
    "x // 2",
    "x % 2",
    "x @ x",
    "[x]",
    "(x, x)",
    "...",
    "import os",
    "x; __import__('os').system('touch X')",
    "x\n__import__('os').system('touch X')",
    "exp",
    "exp(x, x)",
    "1e999 * x",
    "9" * 400 + " * x",
    "(" * 300 + "x" + ")" * 300,
    "-" * (MAX_DEPTH + 10) + "x",
    "x" + " + x" * (MAX_LENGTH // 4 + 1),
    "x" + "*x" * (MAX_DEPTH + 5),
    "z = __import__('os').system('touch X'); z",
    "z = x; import os",
    "z = x\nz.__class__",
    "z: int = x",
    "del x",
]


@pytest.mark.parametrize("formula", INJECTIONS)
def test_injection_attempts_are_refused_and_nothing_runs(formula: str, tmp_path: Path) -> None:
    result = chaingrad("graph", formula, "x=1", cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "chaingrad graph: error:" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "X").exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["explain", "check"])
def test_the_other_commands_refuse_too(command: str, tmp_path: Path) -> None:
    extra = ["--wrt", "x"] if command == "explain" else []
    result = chaingrad(command, "__import__('os').system('touch X')", "x=1", *extra,
                       cwd=tmp_path)
    assert result.returncode == 2 and "may be called" in result.stderr
    assert not (tmp_path / "X").exists()


@pytest.mark.parametrize("formula, message", [
    ("__import__('os').system('x')", "only the functions exp, log, relu, sigmoid, tanh"),
    ("open('f')", "calling 'open' is not allowed"),
    ("x.real", "attribute access not allowed"),
    ("x[0]", "subscripts not allowed"),
    ("lambda: 1", "lambda not allowed"),
    ("[x for x in y]", "comprehensions not allowed"),
    ("f'{x}'", "f-strings not allowed"),
    ("(x := 2)", "assignment expressions (:=) not allowed"),
    ("exp(x=1)", "keyword arguments are not allowed"),
    ("x ^ 2", "write ** for a power"),
    ("'s'", "str constants"),
    ("x +", "not a valid formula"),
    ("9" * 400, "too large for a float"),
    ("x" + " + x" * MAX_LENGTH, f"the limit is {MAX_LENGTH}"),
    ("-" * (MAX_DEPTH + 10) + "x", f"more than {MAX_DEPTH} deep"),
])
def test_refusals_say_what_is_not_allowed(formula: str, message: str) -> None:
    result = chaingrad("graph", formula, "x=1", "y=2")
    assert result.returncode == 2
    assert message in result.stderr, result.stderr


@pytest.mark.parametrize("args, message", [
    (("x*w", "x=1"), "no value for 'w': add w=<number>"),
    (("x*w", "x=1", "w=2", "q=3"), "the formula does not use 'q'"),
    (("x", "x=abc"), "'abc' (for x) is not a number"),
    (("x", "x"), "'x' is not name=value"),
    (("x", "x=1", "x=2"), "'x' is given a value twice"),
    (("exp * 2",), "exp is a function: call it"),
    (("",), "the formula is empty"),
])
def test_unknown_names_missing_and_bad_values(args: tuple[str, ...], message: str) -> None:
    result = chaingrad("graph", *args)
    assert result.returncode == 2
    assert message in result.stderr, result.stderr


# ---- the commands ---------------------------------------------------------------------
@pytest.mark.parametrize("argv", [(), ("graph",), ("explain",), ("check",), ("demo",)])
def test_help_everywhere(argv: tuple[str, ...]) -> None:
    result = chaingrad(*argv, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: chaingrad")
    assert "--help" in result.stdout


def test_no_command_is_a_usage_error() -> None:
    result = chaingrad()
    assert result.returncode == 2 and "usage: chaingrad" in result.stderr


def test_graph_prints_dot_with_values_and_grads() -> None:
    result = chaingrad("graph", *NEURON)
    assert result.returncode == 0, result.stderr
    grads = tanh_neuron_grads(0.5, -1.2, 0.3)
    assert result.stdout.startswith("digraph")
    for name in "xwb":
        assert f"<B>{name}</B>" in result.stdout
    assert "grad 0.4576" in result.stdout                            # ∂y/∂w, 4 digits
    assert f"{grads['w']:.4g}" == "0.4576"


@needs_dot
def test_graph_renders_svg(tmp_path: Path) -> None:
    result = chaingrad("graph", *NEURON, "-o", "graph.svg", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote graph.svg: output = {math.tanh(-0.3):.6g}\n"
    root = ET.parse(tmp_path / "graph.svg").getroot()
    texts = {"".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"x", "w", "b", "tanh"} <= texts


def test_graph_writes_dot_without_dot_program(tmp_path: Path) -> None:
    result = chaingrad("graph", "x*2", "x=3", "-o", "g.dot", cwd=tmp_path)
    assert result.returncode == 0
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    result = chaingrad("graph", "x*2", "x=3", "-o", "noformat", cwd=tmp_path)
    assert result.returncode == 2 and "cannot tell the format" in result.stderr


def test_explain_sums_paths_to_the_gradient() -> None:
    result = chaingrad("explain", *NEURON, "--wrt", "w")
    assert result.returncode == 0, result.stderr
    grads = tanh_neuron_grads(0.5, -1.2, 0.3)
    assert f"= {grads['w']:.4g}" in result.stdout
    assert "path 1" in result.stdout and "path 2" not in result.stdout
    latex = chaingrad("explain", *NEURON, "--wrt", "b", "--format", "latex")
    assert latex.returncode == 0 and "\\frac" in latex.stdout
    missing = chaingrad("explain", *NEURON, "--wrt", "q")
    assert missing.returncode == 2 and "--wrt q: not a name in the formula" in missing.stderr


def test_explain_counts_every_path() -> None:
    """y = x·x + x: three paths from x (two through the product, one direct), each
    line telling which operand it took, so no two read alike."""
    result = chaingrad("explain", "x*x + x", "x=3", "--wrt", "x")
    assert result.returncode == 0, result.stderr
    assert "path 3" in result.stdout and "path 4" not in result.stdout
    assert f"= {2 * 3 + 1:g}" in result.stdout
    routes = [line.split(": ", 1)[1] for line in result.stdout.splitlines()
              if line.startswith("path ")]
    assert routes == ["x·x + x → x·x → x (as the 1st operand of ×)",
                      "x·x + x → x·x → x (as the 2nd operand of ×)",
                      "x·x + x → x (as the 2nd operand of +)"]
    assert "  ∂(x·x + x)/∂(x·x) = 1\n" in result.stdout
    assert f"  ∂(x·x)/∂x         = x = {3:g}\n" in result.stdout


def test_check_passes_and_prints_both_gradients() -> None:
    result = chaingrad("check", *NEURON)
    assert result.returncode == 0, result.stderr
    grads = tanh_neuron_grads(0.5, -1.2, 0.3)
    out = result.stdout.splitlines()
    assert out[0] == "tanh(x*w + b) at x=0.5, w=-1.2, b=0.3:"
    assert out[1].split() == ["input", "backward", "finite", "diff", "|difference|"]
    lines = {line.split()[0]: line.split() for line in out[2:5]}
    for name, expected in grads.items():
        backward, numeric = float(lines[name][1]), float(lines[name][2])
        assert backward == pytest.approx(expected, rel=1e-9)
        assert numeric == pytest.approx(expected, rel=1e-6)
    assert "✗" not in result.stdout
    assert out[-1] == "gradient check passed (eps=1e-06, atol=1e-05, rtol=0.001)"


def test_abs_is_a_formula_function_with_its_gradient() -> None:
    # d|x·w|/dw = sign(x·w)·x = −0.5 at x = 0.5, w = −2
    result = chaingrad("check", "abs(x*w)", "x=0.5", "w=-2")
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[2:4]}
    assert float(rows["x"][1]) == -2.0 * -1.0 and float(rows["w"][1]) == -0.5


def test_a_negative_number_exponent_is_a_number_not_a_value() -> None:
    # x ** -1 at x = −2: d/dx x⁻¹ = −x⁻² = −0.25 (a Value exponent would need x > 0)
    result = chaingrad("check", "x**-1", "x=-2")
    assert result.returncode == 0, result.stderr
    row = result.stdout.splitlines()[2].split()
    assert row[0] == "x" and float(row[1]) == -0.25


def test_check_prints_the_engines_table() -> None:
    """The table is engine.check.table's, the one gradcheck's failures print, fed
    with the engine's gradients and numerical_grad's differences."""
    from engine import Value, grad, numerical_grad
    from engine.check import table

    result = chaingrad("check", *NEURON)
    x, w, b = (Value(v, label=n) for n, v in (("x", 0.5), ("w", -1.2), ("b", 0.3)))
    backward = grad((x * w + b).tanh(), [x, w, b])
    numeric = numerical_grad(lambda x, w, b: (x * w + b).tanh(), [0.5, -1.2, 0.3])
    expected = table("tanh(x*w + b) at x=0.5, w=-1.2, b=0.3:",
                     list(zip("xwb", backward, numeric)), ("backward", "finite diff"),
                     1e-5, 1e-3)
    assert result.stdout.startswith(expected + "\n")


def test_check_fails_at_a_kink_with_one_table_and_a_one_line_verdict() -> None:
    """ReLU′(0) = 0 by convention; central differences see (0.5·eps)/eps = 0.5, so
    y's row fails and x's (whose factor relu(y) is 0 both ways) passes."""
    result = chaingrad("check", "relu(x)*y + relu(y)", "x=0", "y=0")
    assert result.returncode == 1
    table = result.stdout.splitlines()
    assert len(table) == 4 and table[0] == "relu(x)*y + relu(y) at x=0, y=0:"
    assert table[1].split() == ["input", "backward", "finite", "diff", "|difference|"]
    rows = {line.split()[0]: line.split() for line in table[2:]}
    assert [float(v) for v in rows["y"][1:4]] == [0.0, pytest.approx(0.5, rel=1e-6),
                                                  pytest.approx(0.5, rel=1e-6)]
    assert rows["y"][-1] == "✗" and "✗" not in rows["x"]
    verdict = result.stderr.splitlines()
    assert verdict == ["chaingrad check: gradient check FAILED for y: |backward − finite diff| "
                       "> atol + rtol·|finite diff| (eps=1e-06, atol=1e-05, rtol=0.001)"]


def test_check_says_when_finite_differences_leave_the_domain() -> None:
    """log(x) at x = 1e-7 is fine, but x − eps is negative: status 1 and a hint."""
    result = chaingrad("check", "log(x)", "x=1e-7")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cannot take finite differences (eps=1e-06)" in result.stderr
    assert "try a smaller --eps (--eps 1e-09 works here)" in result.stderr
    assert chaingrad("check", "log(x)", "x=1e-7", "--eps", "1e-9").returncode == 0


def test_check_suggests_a_smaller_eps_only_when_one_helps() -> None:
    """log(x + 1e-300) at x = 0 is defined, but x − eps is outside log's domain for
    every eps > 0: no "smaller --eps" advice, a statement of what the method needs."""
    result = chaingrad("check", "log(x + 1e-300)", "x=0")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cannot take finite differences (eps=1e-06)" in result.stderr
    assert "smaller --eps does not help" in result.stderr
    assert "try a smaller --eps" not in result.stderr


@pytest.mark.parametrize("option, value, message", [
    ("--eps", "-1", "must be a number > 0"), ("--eps", "0", "must be a number > 0"),
    ("--eps", "nan", "must be a finite number"), ("--eps", "inf", "must be a finite number"),
    ("--eps", "tiny", "not a number"), ("--atol", "-0.5", "must be a number ≥ 0"),
    ("--rtol", "nan", "must be a finite number"),
])
def test_check_tolerances_are_usage_errors(option: str, value: str, message: str) -> None:
    result = chaingrad("check", "x*x", "x=1", option, value)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"argument {option}: {message}" in result.stderr
    assert "finite differences" not in result.stderr        # refused before any maths


def test_check_accepts_a_zero_tolerance() -> None:
    """atol = 0 turns the absolute term off, as in engine.gradcheck: d(x·x)/dx at 1 is 2."""
    result = chaingrad("check", "x*x", "x=1", "--atol", "0")
    assert result.returncode == 0, result.stderr
    assert "atol=0" in result.stdout


@pytest.mark.parametrize("command", ["graph", "check"])
def test_an_overflowing_gradient_exits_1_with_the_engine_message(command: str) -> None:
    """d log(x)/dx = 1/x overflows a float at x = 1e-310: backward raises
    OverflowError, which the command reports (status 1), not a traceback."""
    assert math.isinf(1 / 1e-310)
    result = chaingrad(command, "log(x)", "x=1e-310")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()               # one line: the engine's own words
    assert len(lines) == 1 and lines[0].startswith(f"chaingrad {command}: ")
    assert "inf" in lines[0] and "'x'" in lines[0]


def test_explain_warns_when_the_gradient_is_not_finite() -> None:
    """explain still shows the factors (where the inf comes from), then says the
    result is no gradient, with status 1."""
    result = chaingrad("explain", "log(x)", "x=1e-310", "--wrt", "x")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "∂log(x)/∂x = 1/x = inf" in result.stdout
    assert result.stderr == ("chaingrad explain: ∂log(x)/∂x = inf is no usable gradient: "
                             "a local derivative overflowed a float or is undefined\n")


def test_maths_errors_exit_1_with_the_engine_message() -> None:
    result = chaingrad("graph", "log(x)", "x=-1")
    assert result.returncode == 1
    assert "log: cannot compute log(-1.0)" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_xor_trains_with_the_lessons_settings() -> None:
    result = chaingrad("demo", "xor")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "MLP(2, [2, 1], activation='relu', output_activation='sigmoid'), seed 4" in out
    assert "mse loss, SGD lr 0.5, 5000 full-batch steps" in out
    assert "accuracy 100%" in out and "trained: loss below 0.01" in out
    lines = out.splitlines()
    header = lines.index(" x1  x2  target      ŷ")
    rows = [line.split() for line in lines[header + 1:header + 5]]
    predictions = {(float(r[0]), float(r[1])): (int(r[2]), float(r[3])) for r in rows}
    assert len(predictions) == 4
    for (x1, x2), (target, y_hat) in predictions.items():
        assert target == int(x1) ^ int(x2)
        assert abs(y_hat - target) < 0.1


def test_demo_says_so_when_a_seed_gets_stuck() -> None:
    result = chaingrad("demo", "xor", "--seed", "0", "--steps", "300")
    assert result.returncode == 0
    assert "not trained: loss is not below 0.01" in result.stdout


@needs_dot
def test_demo_moons_draws_the_network(tmp_path: Path) -> None:
    result = chaingrad("demo", "moons", "--steps", "30", "-o", "moons.svg", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "100 points" in result.stdout and "30 full-batch steps" in result.stdout
    root = ET.parse(tmp_path / "moons.svg").getroot()
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "ŷ" in texts and any(t.startswith("δ = ") for t in texts)


def test_demo_rejects_unknown_data_sets_and_bad_steps() -> None:
    assert chaingrad("demo", "mnist").returncode == 2
    result = chaingrad("demo", "xor", "--steps", "0")
    assert result.returncode == 2 and "--steps must be at least 1" in result.stderr


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "chaingrad").exists(),
                    reason="the console script is not installed in .venv")
def test_console_script() -> None:
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "chaingrad"), "check", *NEURON],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "gradient check passed" in result.stdout


def test_python_dash_m_viz() -> None:
    result = subprocess.run([sys.executable, "-m", "viz", "check", "x*x", "x=2"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "gradient check passed" in result.stdout


@pytest.mark.parametrize("formula, operator, column", [
    ("x*w + b^2", "^", 8),           # ^ binds more loosely than +: the whole x*w + b is its left
    ("x % 2", "%", 3),
    ("(x) // (2)", "//", 5),         # parentheses are not part of the operands' nodes
])
def test_a_refused_operator_is_pointed_at_exactly(formula, operator, column):
    message = rf"operator {re.escape(operator)} .*\(column {column}\)"
    with pytest.raises(ExpressionError, match=message):
        build(formula, {"x": 1.0, "w": 2.0, "b": 3.0})


# ---- options and NAME=VALUE pairs in any order; --version ---------------------------------
@pytest.mark.parametrize("argv", [
    ("explain", "x*w", "x=1", "w=2", "--wrt", "w"),
    ("explain", "x*w", "--wrt", "w", "x=1", "w=2"),
    ("explain", "--wrt", "w", "x*w", "x=1", "w=2"),
    ("explain", "x*w", "x=1", "--wrt", "w", "w=2"),
    ("explain", "x*w", "--wrt=w", "x=1", "--format", "text", "w=2"),
])
def test_options_and_values_go_in_any_order(argv: tuple[str, ...]) -> None:
    result = chaingrad(*argv)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("∂(x·w)/∂w = 1, ")               # ∂(xw)/∂w = x = 1


def test_graph_and_check_take_options_before_the_values(tmp_path: Path) -> None:
    result = chaingrad("graph", "x*w", "-o", "g.dot", "x=1", "w=2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "wrote g.dot: output = 2\n"
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    result = chaingrad("check", "x*x", "--eps", "1e-4", "x=3")
    assert result.returncode == 0 and "eps=0.0001" in result.stdout
    rows = result.stdout.splitlines()[2].split()
    assert rows[0] == "x" and float(rows[1]) == 6.0                  # d(x²)/dx = 2x


@pytest.mark.parametrize("argv, message", [
    (("graph", "x*w", "x=1", "--bogus", "w=2"), "unrecognized arguments: --bogus"),
    (("demo", "xor", "x=1"), "unrecognized arguments: x=1"),
    (("check", "x*w", "--eps", "1e-4", "x=1", "w"), "'w' is not name=value"),
])
def test_a_stray_word_is_still_a_usage_error(argv: tuple[str, ...], message: str) -> None:
    result = chaingrad(*argv)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_version_prints_the_distributions_version() -> None:
    version = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(),
                        re.M).group(1)
    result = chaingrad("--version")
    assert result.returncode == 0 and result.stdout == f"chaingrad {version}\n"


# ---- named steps -------------------------------------------------------------------------------
STEPS = "z = w1*x1 + w2*x2 + b; L = (sigmoid(z) - y)**2"
POINT = {"w1": 0.5, "x1": 1.0, "w2": -0.3, "x2": 2.0, "b": 0.1, "y": 1.0}


def test_named_steps_label_their_nodes_and_give_the_same_gradients() -> None:
    output, leaves = build(STEPS, POINT)
    assert list(leaves) == ["w1", "x1", "w2", "x2", "b", "y"]
    assert output.label == "L"
    z = output.inputs[0].inputs[0].inputs[0]                        # L = (σ(z) − y)²
    assert z.label == "z" and z.data == pytest.approx(0.5 * 1 - 0.3 * 2 + 0.1)
    output.backward()
    a = 1 / (1 + math.exp(-z.data))
    delta = 2 * (a - 1.0) * a * (1 - a)                              # ∂L/∂z by hand
    for name, expected in [("x1", delta * 0.5), ("w1", delta * 1.0), ("b", delta)]:
        assert leaves[name].grad == pytest.approx(expected, rel=1e-12)
    same, same_leaves = build("(sigmoid(w1*x1 + w2*x2 + b) - y)**2", POINT)
    same.backward()
    assert same.data == output.data
    assert same_leaves["x1"].grad == leaves["x1"].grad


def test_named_steps_from_the_command_line_name_the_explanation() -> None:
    pairs = [f"{name}={value:g}" for name, value in POINT.items()]
    result = chaingrad("explain", STEPS, *pairs, "--wrt", "x1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("∂L/∂x₁ = −0.125, ")
    assert "path 1: L → σ(z) − y → z → x₁" in result.stdout
    assert "  ∂z/∂x₁         = w₁              = 0.5" in result.stdout
    assert not re.search(r"\bv\d", result.stdout) and "where" not in result.stdout
    multiline = chaingrad("check", STEPS.replace("; ", "\n"), *pairs)
    assert multiline.returncode == 0, multiline.stderr


@pytest.mark.parametrize("formula, values, message", [
    ("L = z*2; z = x", {"x": 1}, "'z' is used in step 1 before step 2 defines it"),
    ("z = x*2; z = x*3; z", {"x": 1}, "'z' is defined twice, in steps 1 and 2"),
    ("a = x*2; L = x*3", {"x": 1}, "'a' is defined but never used"),
    ("exp = x*2; exp", {"x": 1}, "'exp' is a function and cannot name a step"),
    ("z = x*2; L = z", {"x": 1, "z": 3}, "'z' is a step of the formula"),
    ("x*2; L = x", {"x": 1}, "step 1 (x * 2) is not named"),
    ("z = y = x", {"x": 1}, "step 1 must assign one name"),
    ("z += x", {"x": 1}, "augmented assignments"),
    ("import os", {}, "import statements not allowed"),
])
def test_named_steps_are_checked(formula: str, values: dict, message: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)):
        build(formula, values)


# ---- what a short id stands for -------------------------------------------------------------
def test_explain_says_what_each_short_id_stands_for() -> None:
    pairs = [f"{name}={value:g}" for name, value in POINT.items()]
    result = chaingrad("explain", "(sigmoid(w1*x1 + w2*x2 + b) - y)**2", *pairs, "--wrt", "x1")
    assert result.returncode == 0, result.stderr
    assert "∂v1/∂x₁" in result.stdout
    assert result.stdout.endswith("\n\nwhere v1 = w₁·x₁ + w₂·x₂ + b\n")
    latex = chaingrad("explain", "(sigmoid(w1*x1 + w2*x2 + b) - y)**2", *pairs, "--wrt", "x1",
                      "--format", "latex")
    assert latex.stdout.endswith("\\end{aligned}\n% where v1 = w₁·x₁ + w₂·x₂ + b\n")
    nested = chaingrad("explain", "tanh(tanh(a1*b1 + a2*b2 + c)*3 + d)", "a1=0.1", "b1=0.2",
                       "a2=0.3", "b2=0.4", "c=0.5", "d=0.6", "--wrt", "a1")
    assert nested.stdout.endswith("where v1 = a₁·b₁ + a₂·b₂ + c\n"
                                  "      v2 = tanh(tanh(v1)·3 + d)\n")
    plain = chaingrad("explain", *NEURON, "--wrt", "w")
    assert "where" not in plain.stdout


# ---- errors that say what the user did ------------------------------------------------------
@pytest.mark.parametrize("formula, message", [
    ("1" + "0" * 399, "the number 100000000000…0000 (400 digits) at column 1 is too large "
                      "for a float"),
    ("1e999 * x", "the number 1e999 at column 1 is too large for a float"),
    ("x + 2e400", "the number 2e400 at column 5 is too large"),
])
def test_a_number_too_large_is_shown_as_written(formula: str, message: str) -> None:
    result = chaingrad("graph", formula, "x=1")
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "inf" not in result.stderr


@pytest.mark.parametrize("argv, message", [
    (("-o", "graph.txt"), "-o graph.txt: the suffix .txt is not a format Graphviz writes; "
                          "use .svg, .png or .pdf for a picture, .dot for the DOT text"),
    (("-o", "graph"), "-o graph: cannot tell the format of 'graph'"),
    (("-o", "graph.svg", "--format", "nope"), "the format 'nope' is not a format Graphviz"),
])
def test_a_bad_output_file_is_one_usage_error(argv, message, tmp_path: Path) -> None:
    result = chaingrad("graph", "x*2", "x=3", *argv, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("chaingrad graph: error: -o graph") and message in result.stderr
    assert len(result.stderr.splitlines()) == 1 and "bmp" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_demo_refuses_a_bad_output_file_before_training() -> None:
    result = chaingrad("demo", "moons", "-o", "net.txt")
    assert result.returncode == 2 and "-o net.txt: the suffix .txt" in result.stderr
    assert result.stdout == ""                                      # no training happened


def test_check_without_names_says_so_first() -> None:
    result = chaingrad("check", "3")
    assert result.returncode == 2
    assert result.stderr.startswith("chaingrad check: error: the formula has no names")
    assert "eps" not in result.stderr


def test_a_reader_that_stops_reading_gets_no_traceback() -> None:
    """`chaingrad explain … | head -1`: the pipe closes before the command writes."""
    process = subprocess.Popen([sys.executable, "-m", "viz.cli", "explain", *NEURON, "--wrt", "w"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    process.stdout.close()                                    # the reader is gone
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 1
    assert stderr == ""


@pytest.mark.parametrize("formula, message", [
    ("z = x*2\nL = z ^ 2", r"operator \^ .*\(line 2, column 7\)"),
    ("z = x*2\nL = z.real", r"attribute access not allowed in a formula \(line 2, column 5\)"),
    ("z = x*2\nL = z +", r"not a valid formula at line 2, column 8"),
])
def test_a_step_on_another_line_is_pointed_at_by_line_and_column(formula, message):
    with pytest.raises(ExpressionError, match=message):
        build(formula, {"x": 1.0})


def test_columns_count_characters_and_names_are_quoted_as_written() -> None:
    # ast counts UTF-8 bytes (σ₁ is 5 of them); a reader counts characters
    mixed = chaingrad("check", "σ₁ = x₁*2; σ₁*x1", "x1=1")
    assert mixed.returncode == 2
    assert "'x₁' and 'x1' are one name to Python ('x1') (column 15)" in mixed.stderr
    operator = chaingrad("check", "σ₁ = x₁*2; σ₁ @ x₁", "x1=1")
    assert "the operator @ is not allowed (column 15)" in operator.stderr
    number = chaingrad("check", "σ*1e999", "σ=1")
    assert "the number 1e999 at column 3 is too large" in number.stderr
    call = chaingrad("check", "relu₁(x)", "x=1")
    assert call.returncode == 2 and "calling 'relu₁' is not allowed (column 1)" in call.stderr
