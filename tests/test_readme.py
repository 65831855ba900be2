"""README stays true: its Python examples run, and a line ending in ``# → text``
prints exactly that text."""

import contextlib
import io
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
RUNNABLE = [b for b in BLOCKS if "..." not in b and not b.startswith("# engine/")]


def test_readme_has_examples():
    assert len(RUNNABLE) >= 2


@pytest.mark.parametrize("block", RUNNABLE, ids=[f"block{i}" for i in range(len(RUNNABLE))])
def test_readme_example_runs_and_prints_what_it_says(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    expected = [m.group(1).strip() for m in re.finditer(r"#[^\n]*?→ ([^\n]*)", block)]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, str(README), "exec"), {"__name__": "readme"})
    printed = out.getvalue().splitlines()
    for line in expected:
        assert line in printed, f"README promises {line!r}; the code printed {printed}"
