"""A self-contained HTML page that is also a ``str``: written to a file, returned to
code that expects text, and shown inline by Jupyter.

Jupyter (JupyterLab, Notebook 7, VS Code) runs the scripts of an output only inside
an iframe, so ``_repr_html_`` puts the page in one, as its ``srcdoc``: the page
stays one offline document, its script and styles apart from the notebook's.
"""

from __future__ import annotations

import html
from os import PathLike

__all__ = ["Page"]


class Page(str):
    """The HTML of one page. ``str(page)`` is the document itself; in Jupyter it shows
    inline in an iframe ``height`` pixels high."""

    height: int = 760

    def __new__(cls, document: str, height: int | None = None) -> Page:
        page = super().__new__(cls, document)
        if height is not None:
            page.height = height
        return page

    def write(self, path: str | PathLike[str] | None) -> Page:
        """Write the page to ``path`` (UTF-8) when a path is given; return the page."""
        if path is not None:
            with open(path, "w", encoding="utf-8") as file:
                file.write(self)
        return self

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(str(self), quote=True)}" '
                f'style="width: 100%; height: {self.height}px; border: 0" '
                f'sandbox="allow-scripts" title="chaingrad page"></iframe>')
