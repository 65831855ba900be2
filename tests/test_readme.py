"""The docs stay true: the Python examples of README.md and docs/*.md run (each
file's blocks in order, sharing names), and a line ending in ``# → text`` prints
exactly that text."""

import contextlib
import io
import pathlib
import re
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "docs" / "nn.md", ROOT / "docs" / "viz.md",
        ROOT / "docs" / "graduate.md"]
NEEDS_TORCH = {"graduate.md"}


def blocks(path: pathlib.Path) -> list[str]:
    found = re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)
    # a block that says which file it goes into (README's "Add an op") is a fragment
    return [b for b in found
            if "..." not in b and not textwrap.dedent(b).startswith(("# engine/", "# tests/"))]


def test_readme_has_examples():
    assert len(blocks(DOCS[0])) >= 2


@pytest.mark.parametrize("path", DOCS, ids=[p.name for p in DOCS])
def test_examples_run_and_print_what_they_say(path, tmp_path, monkeypatch):
    if path.name in NEEDS_TORCH:
        pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch==2.13.0)")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "docs"}
    for number, block in enumerate(blocks(path), 1):
        expected = [m.group(1).strip() for m in re.finditer(r"#[^\n]*?→ ([^\n]*)", block)]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, f"{path.name} block {number}", "exec"), namespace)
        printed = out.getvalue().splitlines()
        for line in expected:
            assert line in printed, (f"{path.name} block {number} promises {line!r}; "
                                     f"it printed {printed}")
