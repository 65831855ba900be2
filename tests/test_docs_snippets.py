"""The docs' snippets stand on their own and reproduce the gallery.

Every Python snippet of docs/viz.md and docs/gallery.md is run by itself in a fresh
interpreter, in an empty folder: it must succeed and leave exactly the files it
names (``.write("x.png")`` writes one file, no DOT source beside it); a plot it saves
under a gallery picture's name is that picture (its pixel size, and its bytes when
the same matplotlib drew both). And the pictures in docs/ — diagrams and plots — are
drawn by the very code the docs (README.md too) show beside them.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "docs" / "viz.md", ROOT / "docs" / "gallery.md"]
SHOWN_IN = [*DOCS, ROOT / "README.md"]          # README's snippets share names: not run alone
GALLERY = ROOT / "docs" / "gallery"
WRITES = re.compile(r'(?:\.write|\.savefig|animate_backward|animate_network|explore_depth)'
                    r'\([^"\n]*"([^"]+\.\w+)"')
SAVES = re.compile(r'\.savefig\([^"\n]*"([^"]+\.png)"')


def snippets(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def without_imports(code: str) -> list[str]:
    """The code's lines that do something: imports and blank lines dropped."""
    return [line for line in code.splitlines()
            if line.strip() and not line.startswith(("from ", "import "))]


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height of a PNG, from its IHDR chunk."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def png_software(png: bytes) -> bytes | None:
    """The PNG's ``Software`` text (matplotlib writes its version there), or None."""
    position = 8
    while position < len(png):
        length = int.from_bytes(png[position:position + 4], "big")
        kind, data = png[position + 4:position + 8], png[position + 8:position + 8 + length]
        if kind == b"tEXt" and data.startswith(b"Software\0"):
            return data.removeprefix(b"Software\0")
        position += 12 + length
    return None


CASES = [pytest.param(code, id=f"{path.name}-{number}")
         for path in DOCS for number, code in enumerate(snippets(path), 1)]


@pytest.mark.parametrize("code", CASES)
def test_each_snippet_runs_alone_and_writes_only_what_it_names(code: str, tmp_path: Path):
    named = set(WRITES.findall(code))
    if shutil.which("dot") is None and any(not n.endswith(".dot") for n in named):
        pytest.skip("graphviz's `dot` is not installed (apt-get install graphviz)")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert {p.name for p in tmp_path.iterdir()} == named
    for name in SAVES.findall(code):       # a reader's plot named as a gallery picture is it
        if (GALLERY / name).exists():
            ours, gallery = (tmp_path / name).read_bytes(), (GALLERY / name).read_bytes()
            assert png_size(ours) == png_size(gallery), f"{name}: not at the gallery's dpi"
            if png_software(ours) == png_software(gallery):     # the same matplotlib drew both
                assert ours == gallery, f"{name} differs from docs/gallery/{name}"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, GALLERY / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_pictures_in_docs_are_drawn_by_the_code_the_docs_show() -> None:
    make_gallery = _load("make_gallery")
    makers = list(make_gallery.ALL.values()) + list(_load("make_network_gallery").PICTURES)
    drawn_by = {}
    for make in makers:
        code = make_gallery.body(make)
        (written,) = WRITES.findall(code)
        drawn_by[written] = without_imports(code)
    shown = {}
    for path in SHOWN_IN:
        for code in snippets(path):
            for written in WRITES.findall(code):
                shown.setdefault(written, []).append(without_imports(code))
    for written, code in drawn_by.items():
        assert written in shown, f"no snippet in the docs shows how {written} is made"
        assert all(snippet == code for snippet in shown[written]), written
    for written in shown:                 # and every picture a snippet names is in docs/
        assert (GALLERY / written).exists() or (ROOT / "docs" / written).exists(), written


def test_gallery_md_is_what_make_gallery_writes() -> None:
    make_gallery = _load("make_gallery")
    page = (ROOT / "docs" / "gallery.md").read_text(encoding="utf-8")
    assert snippets(ROOT / "docs" / "gallery.md") == [
        make_gallery.cell(make).rstrip() + "\n" for make in make_gallery.ALL.values()]
    # the whole page, word for word; what the pictures' code printed is taken from it
    printed = dict(re.findall(r"!\[(\w+)\]\(gallery/\w+\.png\)\n\n```python\n(?:(?!```).)*```\n\n"
                              r"prints\n\n```text\n(.*?)```", page, re.S))
    assert page == make_gallery.gallery_page(printed)
