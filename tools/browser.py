"""Headless Chromium for the browser checks: install it (Debian's package) if it is missing, take
screenshots, and read the page after its scripts have run.

    python tools/browser.py ensure     # install chromium and CJK fonts if missing (needs root)

`tests/test_browser.py` uses it to open a built slide deck and an executed notebook page.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGES = ("chromium", "fonts-noto-cjk")  # the fonts: the notebooks show Chinese text
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--virtual-time-budget=15000")  # let reveal.js and MathJax finish before the capture


class BrowserUnavailable(RuntimeError):
    pass


def ensure_chromium() -> str:
    """Path of the chromium binary, installing Debian's packages first if it is missing."""
    found = shutil.which("chromium")
    if found and Path("/usr/share/fonts/opentype/noto").exists():
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise BrowserUnavailable("the browser checks need Debian's chromium and fonts-noto-cjk: "
                                 "run `sudo apt-get install chromium fonts-noto-cjk` (or the tests as root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=True, capture_output=True)
        subprocess.run(install, env=env, check=True, capture_output=True)
    found = shutil.which("chromium")
    if not found:
        raise BrowserUnavailable("apt-get installed chromium, but it is not on PATH")
    return found


def run(args: list[str], timeout: int = 90) -> subprocess.CompletedProcess:
    return subprocess.run([ensure_chromium(), *FLAGS, *args], capture_output=True, text=True, timeout=timeout)


def screenshot(url: str, path: Path, size: tuple[int, int] = (1280, 800)) -> Path:
    """Save a PNG of `url` as a window of `size` pixels sees it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    result = run([f"--window-size={size[0]},{size[1]}", f"--screenshot={path}", url])
    if not path.exists():
        raise RuntimeError(f"chromium wrote no screenshot of {url}: {result.stderr[-2000:]}")
    return path


def dom(url: str) -> str:
    """The page's DOM after its scripts ran (as serialised HTML)."""
    result = run(["--dump-dom", url])
    if result.returncode != 0 or not result.stdout:
        raise RuntimeError(f"chromium could not load {url}: {result.stderr[-2000:]}")
    return result.stdout


if __name__ == "__main__":
    if sys.argv[1:] == ["ensure"]:
        print(ensure_chromium())
    else:
        print(__doc__)
