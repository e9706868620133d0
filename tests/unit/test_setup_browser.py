"""The set-up installs the browser once, whoever calls it and however many at a time.

A fresh machine once failed here: two pytest workers ran `apt-get install chromium` at the same
moment and the second hit the package manager's lock. Now the set-up (`course setup-browser`,
run by `make test` before any test starts) installs, under a lock of its own, and no test
installs anything. These tests use real processes against a stand-in `apt-get` and `dpkg-query`
(first on PATH) that behave like Debian's: a second concurrent `apt-get install` fails with
exit 100, as the real one does on its lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

FAKE_DPKG_QUERY = """\
#!/bin/bash
# dpkg-query -W -f=${Status} PACKAGE
package="${@: -1}"
if grep -qx "$package" "$STATE/installed" 2>/dev/null; then printf 'install ok installed'; exit 0; fi
echo "dpkg-query: no packages found matching $package" >&2; exit 1
"""

FAKE_APT_GET = """\
#!/bin/bash
echo "$*" >> "$STATE/calls"
case " $* " in *" update "*) exit 0;; esac
if ! mkdir "$STATE/dpkg-lock" 2>/dev/null; then
  echo "E: Could not get lock /var/lib/dpkg/lock-frontend" >&2; exit 100
fi
sleep 1
for word in "$@"; do
  case "$word" in -*|install|DPkg::*) ;; *) echo "$word" >> "$STATE/installed";; esac
done
printf '#!/bin/sh\\necho chromium\\n' > "$FAKE_BIN/chromium" && chmod +x "$FAKE_BIN/chromium"
rmdir "$STATE/dpkg-lock"
"""


@pytest.fixture
def fake_debian(tmp_path):
    bin_dir, state = tmp_path / "bin", tmp_path / "state"
    bin_dir.mkdir()
    state.mkdir()
    for name, text in (("dpkg-query", FAKE_DPKG_QUERY), ("apt-get", FAKE_APT_GET)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin", "STATE": str(state), "FAKE_BIN": str(bin_dir)}
    return {"bin": bin_dir, "state": state, "env": env, "lock": tmp_path / "setup.lock"}


def start_setup(fake, uid: int = 0) -> subprocess.Popen:
    """`course setup-browser` in a real process, as user `uid`, with the stand-ins on PATH."""
    code = textwrap.dedent(f"""
        import os, sys
        from pathlib import Path
        os.geteuid = lambda: {uid}
        from course import browser
        browser.LOCK_FILE = Path({str(fake["lock"])!r})
        from course.cli import main
        sys.exit(main(["setup-browser"]))
    """)
    return subprocess.Popen(
        [sys.executable, "-c", code], env=fake["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_two_concurrent_set_ups_both_succeed_and_install_once(fake_debian):
    first, second = start_setup(fake_debian), start_setup(fake_debian)
    for proc in (first, second):
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, out + err
        assert "chromium:" in out
    calls = (fake_debian["state"] / "calls").read_text().splitlines()
    assert len([c for c in calls if " install " in f" {c} "]) == 1, calls
    assert sorted((fake_debian["state"] / "installed").read_text().split()) == ["chromium", "fonts-noto-cjk"]


def test_the_stand_in_fails_like_apt_get_when_two_install_at_once(fake_debian):
    """Without the set-up's lock, the second install fails: the check above can fail."""
    apt_get = [str(fake_debian["bin"] / "apt-get"), "install", "-y", "chromium"]
    procs = [subprocess.Popen(apt_get, env=fake_debian["env"], stderr=subprocess.PIPE, text=True) for _ in range(2)]
    codes = sorted(p.wait(timeout=30) for p in procs)
    assert codes == [0, 100]


def test_set_up_when_installed_changes_nothing(fake_debian):
    (fake_debian["state"] / "installed").write_text("chromium\nfonts-noto-cjk\n")
    chromium = fake_debian["bin"] / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    proc = start_setup(fake_debian)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert not (fake_debian["state"] / "calls").exists(), "apt-get was called although nothing was missing"


def test_without_root_one_clear_line_with_the_command(fake_debian):
    proc = start_setup(fake_debian, uid=1000)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "sudo apt-get install -y --no-install-recommends chromium fonts-noto-cjk" in lines[0]
    assert not (fake_debian["state"] / "calls").exists()


def test_tests_never_install(monkeypatch):
    """What the classroom tests call only looks for the browser."""
    from course import browser

    monkeypatch.setattr(browser, "missing_packages", lambda: ["chromium"])
    monkeypatch.setattr(browser, "_apt_get", lambda *a: pytest.fail("a test must not install"))
    with pytest.raises(browser.BrowserUnavailable, match="make setup"):
        browser.chromium()
