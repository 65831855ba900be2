"""README's "Add an op", followed to the letter on a copy of the tree.

The steps are README's own: its code blocks are read from README.md and put where
README says, for a two-input op whose operands may not swap (atan2, README's
example) and a one-input op (expm1, the same steps). Then the copy's own per-op
tests run on the new ops, and every part of chaingrad is asked whether it knows
them: methods, function forms, backward and second derivatives, gradient checks,
compile, diagrams, explain, the command line, and the live pages (the row in
JavaScript, run in Chromium against the copy's engine)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: The one-input op, written by the same two steps as README's example.
EXPM1 = {
    "row": 'EXPM1 = Op("expm1", "expm1", "expm1(a)", "out + 1.0", function="expm1")',
    "forward_name": '"expm1": math.expm1,',
    "op_case": 'OpCase("expm1", lambda a: a.expm1(), lambda r: (r.uniform(-3, 3),), '
               'lambda a: a < 5, lambda a: math.exp(a) - 1),',
    "compile_case": '"expm1": (lambda a: a.expm1(), [0.3], [-1.5]),',
}


def _readme_steps() -> dict[str, str]:
    """The recipe's four code blocks, from README's "Add an op" section, by the
    comment that says where each goes."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Add an op"):]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    steps = {}
    for block in blocks:
        block = textwrap.dedent(block)
        where, _, code = block.partition("\n")
        steps[where.strip()] = code.strip()
    return {"row": steps["# engine/ops.py, in the table"],
            "forward_name": steps["# engine/ops.py, in FORWARD_NAMES"],
            "op_case": steps["# tests/conftest.py, in OP_CASES"],
            "compile_case": steps["# tests/test_compile.py, in OP_CASES"]}


def _insert(path: Path, anchor: str, text: str, before: bool) -> None:
    """Put ``text`` (indented like the anchor line) before or after the first line
    that starts with ``anchor`` (after stripping)."""
    lines = path.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip().startswith(anchor))
    indent = re.match(r"\s*", lines[at if before else at + 1]).group(0)
    block = "".join(indent + line + "\n" for line in text.splitlines())
    lines.insert(at if before else at + 1, block)
    path.write_text("".join(lines))


def _follow_recipe(tree: Path, step: dict[str, str]) -> None:
    ops, conftest, compile_tests = (tree / "engine" / "ops.py", tree / "tests" / "conftest.py",
                                    tree / "tests" / "test_compile.py")
    _insert(ops, "#: Every op by name", step["row"] + "\n", before=True)
    _insert(ops, "FORWARD_NAMES: dict[", step["forward_name"], before=False)
    _insert(conftest, ")}", step["op_case"], before=True)               # end of OP_CASES
    _insert(compile_tests, "OP_CASES = {", step["compile_case"], before=False)


CHECKS = r'''
import math, subprocess, sys
import engine
from engine import OPS, Value, compile, grad, gradcheck, gradgradcheck
from viz import draw_dot, explain

# methods and function forms, from the rows alone
y, x = Value(0.3, "y"), Value(1.2, "x")
angle = y.atan2(x)
assert angle.data == math.atan2(0.3, 1.2) and angle.op is OPS["atan2"]
assert engine.atan2(0.3, 1.2).data == angle.data
assert engine.FUNCTIONS["expm1"](0.5).data == math.expm1(0.5)

# backward, second derivatives, the gradient checks
angle.backward()
r2 = 0.3 ** 2 + 1.2 ** 2
assert abs(y.grad - 1.2 / r2) < 1e-15 and abs(x.grad + 0.3 / r2) < 1e-15
assert gradcheck(lambda a, b: a.atan2(b), [0.3, 1.2])
assert gradgradcheck(lambda a, b: a.atan2(b), [0.3, 1.2])
assert gradcheck(lambda a: a.expm1() * a, [0.4]) and gradgradcheck(lambda a: a.expm1(), [0.4])
t = Value(0.7, "t")
d2 = grad(grad(t.expm1(), t, create_graph=True), t)
assert abs(d2 - math.exp(0.7)) < 1e-12

# compile
program = compile(angle, [y, x])
value, grads = program.value_and_grad([-0.5, 0.8])
assert value == math.atan2(-0.5, 0.8) and abs(grads[0] - 0.8 / 0.89) < 1e-15

# diagrams: atan2 is not commutative, so its operands are tagged a and b
source = draw_dot(angle).source
assert 'headlabel=a' in source and 'headlabel=b' in source, source
assert "atan2" in source and "expm1" in draw_dot(t.expm1()).source

# explain names the operands in the row's words, and writes the rule over names
why = explain(y.atan2(y), y)
text = str(why)
assert "(as the y of atan2)" in text and "(as the x of atan2)" in text, text
assert "atan2" in why.latex() and r"\operatorname{atan2}" in why.latex(), why.latex()

# the command line: a function of the table is a function of formulas, at its arity
done = subprocess.run([sys.executable, "-m", "viz.cli", "explain", "atan2(y, x) + expm1(x)",
                       "y=0.3", "x=1.2", "--wrt", "x"], capture_output=True, text=True)
assert done.returncode == 0, done.stderr
assert "atan2" in done.stdout and "expm1" in done.stdout, done.stdout

# the live pages: each row in JavaScript, from the row alone (Math.atan2, Math.expm1)
from viz.javascript import op_table
written = op_table([OPS["atan2"], OPS["expm1"]])
assert "forward: (a, b) => M.atan2(a, b)" in written and "forward: (a) => M.expm1(a)" in written
print("every part knows atan2 and expm1")
'''

#: In the copy: a page of a graph with both new ops, and the engine's numbers for it.
PAGE = r'''
import json, sys
from engine import Value, grad, order
from viz import explore
from viz.explore import _keys
from viz.names import node_names

points = [(0.3, 1.2), (-2.0, 0.7), (1.5, -0.4)]
def numbers(y, x):
    y, x = Value(y, "y"), Value(x, "x")
    out = y.atan2(x) * x.expm1()
    out.label = "L"
    nodes = order(out)
    keys = _keys(nodes, node_names(out))
    grads = grad(out, nodes)
    return out, ({k: n.data for k, n in zip(keys, nodes) if k},
                 {k: g for k, g in zip(keys, grads) if k})
out, _ = numbers(*points[0])
json.dump({"page": explore(out), "points": points,
           "numbers": [numbers(*point)[1] for point in points]}, sys.stdout)
'''


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tree with README's recipe applied for atan2 and for expm1."""
    tree = tmp_path_factory.mktemp("recipe")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for part in ("engine", "nn", "viz", "tests"):
        shutil.copytree(ROOT / part, tree / part, ignore=ignore)
    for step in (_readme_steps(), EXPM1):
        _follow_recipe(tree, step)
    return tree


def _run(tree: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([sys.executable, *args], cwd=tree, env=env, capture_output=True,
                          text=True, timeout=900)


def test_readme_gives_every_step():
    step = _readme_steps()
    assert step["row"].startswith("ATAN2 = Op(") and "atan2" in step["forward_name"]
    assert step["op_case"].startswith('OpCase("atan2"') and '"atan2"' in step["compile_case"]


def test_the_copy_knows_the_new_ops_everywhere(tree: Path):
    done = _run(tree, "-c", CHECKS)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "every part knows atan2 and expm1" in done.stdout


#: The copy's tests that check every op of the table, or draw random graphs over it.
PER_OP = ["tests/test_ops.py", "tests/test_compile.py", "tests/test_torch_oracle.py",
          "tests/test_viz_latex.py"]
OVER_THE_TABLE = ["tests/test_random_graphs.py"]


def test_the_copys_per_op_tests_cover_the_new_ops(tree: Path):
    """Each new op gets as many per-op tests as any op of its arity already has, and
    passes them all; the random graphs, which now draw the new ops too, pass as well."""
    listed = _run(tree, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only",
                  *PER_OP)
    ids = [line for line in listed.stdout.splitlines() if "::" in line]
    def tests_of(name: str) -> int:
        return sum(bool(re.search(rf"[\[-]{name}[\]-]", i)) for i in ids)

    from engine import OPS  # this tree's table: the ops already there
    fewest = {arity: min(tests_of(op.name) for op in OPS.values() if op.arity == arity)
              for arity in (1, 2)}
    assert tests_of("atan2") >= fewest[2] > 0 and tests_of("expm1") >= fewest[1] > 0, \
        (fewest, tests_of("atan2"), tests_of("expm1"))
    count = {"atan2": tests_of("atan2"), "expm1": tests_of("expm1")}
    done = _run(tree, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "atan2 or expm1",
                *PER_OP)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    passed = int(re.search(r"(\d+) passed", done.stdout).group(1))
    assert passed >= count["atan2"] + count["expm1"], done.stdout[-2000:]
    graphs = _run(tree, "-m", "pytest", "-q", "-p", "no:cacheprovider", *OVER_THE_TABLE)
    assert graphs.returncode == 0, graphs.stdout[-3000:] + graphs.stderr[-2000:]


@pytest.mark.skipif(shutil.which("dot") is None,
                    reason="graphviz's `dot` is not installed (apt-get install graphviz)")
def test_the_copys_live_page_runs_the_new_ops_as_the_engine_does(tree: Path, browser):
    """explore's page of atan2(y, x)·expm1(x), made in the copy, gives the copy's
    engine's values and gradients at several points: the new rows run in JavaScript."""
    import json

    done = _run(tree, "-c", PAGE)
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout)
    driver = browser.open(made["page"], "recipe")
    for (y, x), (values, grads) in zip(made["points"], made["numbers"]):
        assert driver.execute_script("return chaingrad.set('y', arguments[0]) && "
                                     "chaingrad.set('x', arguments[1])", y, x) is True
        shown = driver.execute_script("return [chaingrad.values(), chaingrad.grads()]")
        for page, engine in zip(shown, (values, grads)):
            assert page.keys() == engine.keys()
            for key, expected in engine.items():
                assert abs(page[key] - expected) <= 1e-12 * abs(expected), (key, page, engine)
    assert browser.errors() == [] and browser.requests() == []
