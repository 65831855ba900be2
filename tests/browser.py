"""Headless Chromium for page tests: Debian's ``chromium`` and ``chromium-driver``
driven by selenium. ``tests/conftest.py`` offers it as the ``browser`` fixture; where
the browser is missing the tests skip saying how to install it.

A page is opened from a file (``browser.open(html)``), as a teacher would open it,
with the network cut off: Chromium is started with every background service off, and
``requests()`` lists what the page asked the network for (it must be nothing).
Screenshots are written beside the pages, in a temporary folder that is removed at
the end unless ``CHAINGRAD_KEEP_PAGES`` is set (then its path is printed: look).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

INSTALL = ("the page tests need Chromium and its driver: apt-get install chromium "
           "chromium-driver (and pip install selenium)")
CHROMIUM = ("/usr/bin/chromium", "chromium", "chromium-browser")
DRIVER = ("/usr/bin/chromedriver", "chromedriver")


def _which(candidates: tuple[str, ...]) -> str | None:
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def missing() -> str | None:
    """Why the browser cannot run here, or None when it can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return INSTALL
    if _which(CHROMIUM) is None or _which(DRIVER) is None:
        return INSTALL
    return None


class Browser:
    """One headless Chromium, with a fresh profile, for a whole test session."""

    def __init__(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="chaingrad-chromium-")
        self.pages = Path(tempfile.mkdtemp(prefix="chaingrad-pages-"))
        options = webdriver.ChromeOptions()
        options.binary_location = _which(CHROMIUM) or ""
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1400,1000",
                     "--force-device-scale-factor=1", f"--user-data-dir={self.profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        self.driver = webdriver.Chrome(service=Service(_which(DRIVER)), options=options)
        self.count = 0

    def open(self, page: str, name: str = "page") -> Any:
        """Open ``page`` (HTML text) from a file, as a person would; the driver."""
        self.count += 1
        path = self.pages / f"{self.count}-{name}.html"
        path.write_text(page, encoding="utf-8")
        self.driver.get_log("performance")              # forget earlier pages' requests
        self.driver.get(path.as_uri())
        return self.driver

    def viewport(self, width: int, height: int) -> None:
        """Make the page's own area (not the window around it) width × height CSS
        pixels: a projector's 1280 × 720, a screen's 1920 × 1080."""
        self.driver.set_window_size(width, height)
        inner = self.driver.execute_script("return [window.innerWidth, window.innerHeight]")
        self.driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])

    def capture(self, path: str | Path, down_to: float | None = None) -> None:
        """A PNG of the window, cut at ``down_to`` CSS pixels from its top when given
        (so a picture ends where the page's subject does, not mid-line)."""
        import base64
        width, height = self.driver.execute_script("return [innerWidth, innerHeight]")
        clip = {"x": 0, "y": 0, "width": width, "scale": 1,
                "height": min(height, down_to) if down_to else height}
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot",
                                           {"format": "png", "clip": clip})
        Path(path).write_bytes(base64.b64decode(shot["data"]))

    def requests(self) -> list[str]:
        """The network URLs the open page asked for (Chromium's own chrome:// pages
        and the page's file are no network)."""
        import json
        urls = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                url = message["params"]["request"]["url"]
                if not url.startswith(("file://", "data:", "about:", "chrome:", "blob:")):
                    urls.append(url)
        return urls

    def errors(self) -> list[str]:
        """Console errors of the open page."""
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    def screenshot(self, name: str) -> Path:
        """A PNG of the window, kept beside the page files (to look at)."""
        path = self.pages / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def close(self) -> None:
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)
        if os.environ.get("CHAINGRAD_KEEP_PAGES"):
            print(f"\npages and screenshots kept in {self.pages}")
        else:
            shutil.rmtree(self.pages, ignore_errors=True)
