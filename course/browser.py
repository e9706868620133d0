"""Debian's headless Chromium and CJK fonts, which the classroom tests drive (through Playwright,
`course/layout.py`; Playwright's own browser download is never used).

    course setup-browser     # install them if missing (run once by `make setup`, before any test)

The set-up installs the packages, once and serially: concurrent callers (two `make` runs, two
pytest workers) wait on one lock file, and whoever comes second finds them installed. A test
never installs anything: `chromium()` only finds the browser, and says how to get it when it is
missing. Without root, the set-up prints the one command to run instead.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

PACKAGES = ("chromium", "fonts-noto-cjk")  # the fonts: the notebooks show Chinese text
INSTALL_COMMAND = f"sudo apt-get install -y --no-install-recommends {' '.join(PACKAGES)}"
LOCK_FILE = Path(tempfile.gettempdir()) / "course-setup-browser.lock"


class BrowserUnavailable(RuntimeError):
    """Chromium or the fonts are missing (the message gives the command that installs them)."""


def missing_packages() -> list[str]:
    """The PACKAGES that are not installed, by dpkg's word (or, without dpkg, by PATH)."""
    if shutil.which("dpkg-query") is None:
        return [] if shutil.which("chromium") else list(PACKAGES)
    missing = []
    for package in PACKAGES:
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
        if status.returncode != 0 or not status.stdout.strip().endswith("installed"):
            missing.append(package)
    return missing


def chromium() -> str:
    """The path of the installed chromium; BrowserUnavailable (naming the set-up) when missing."""
    found = shutil.which("chromium")
    missing = missing_packages()
    if found is None or missing:
        raise BrowserUnavailable(
            f"missing {', '.join(missing or ['chromium'])}: run `make setup` as root, or `{INSTALL_COMMAND}`"
        )
    return found


def _apt_get(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # wait for another package manager (unattended upgrades) instead of failing at once
    return subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=600", *args], env=env, capture_output=True, text=True)


def ensure() -> str:
    """Install the missing PACKAGES (root only), one caller at a time; return chromium's path."""
    if not missing_packages():
        return chromium()
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise BrowserUnavailable(
            f"the classroom tests need {' and '.join(PACKAGES)}; install them once with: {INSTALL_COMMAND}"
        )
    with open(LOCK_FILE, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second caller waits here, then finds them installed
        missing = missing_packages()
        if missing:
            print(f"installing {', '.join(missing)} with apt-get (once) ...", flush=True)
            install = ["install", "-y", "--no-install-recommends", *missing]
            result = _apt_get(*install)
            if result.returncode != 0:  # a fresh machine's package lists may be missing or old
                _apt_get("update")
                result = _apt_get(*install)
            if result.returncode != 0:
                raise BrowserUnavailable(
                    f"apt-get install {' '.join(missing)} failed "
                    f"(exit {result.returncode}): {result.stderr.strip()[-500:]}"
                )
    return chromium()
