"""JupyterLab really works: `make lab`'s server, started headless on a free loopback port, lists
and opens every notebook and runs one through its own kernel; nothing is left running."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import nbformat
import pytest

from helpers.paths import REPO_ROOT, notebook_path, notebook_paths


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab():
    port, token = free_port(), secrets.token_hex(16)
    before = {p: p.read_bytes() for p in notebook_paths()}
    args = f"--no-browser --ip=127.0.0.1 --port={port} --ServerApp.token={token} --ServerApp.port_retries=0"
    proc = subprocess.Popen(
        # this interpreter's environment, taken as set up (-o): a checkout newer than its set-up
        # stamp must not reinstall the packages, or point their editable install here, mid-test
        ["make", "-s", "-o", f"{sys.prefix}/.installed", "lab", f"LAB_ARGS={args}", f"VENV={sys.prefix}"],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            get(base, token, "/api/status")
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"JupyterLab did not start: {proc.stderr.read()[-2000:]}") from None
            time.sleep(0.5)
    yield base, token
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    time.sleep(1)
    left = subprocess.run(["pgrep", "-f", f"--port={port}"], capture_output=True, text=True).stdout.split()
    assert not left, f"processes left behind: {left}"
    changed = [p.name for p, text in before.items() if p.read_bytes() != text]
    assert not changed, f"the server or the browser saved over notebooks: {changed}"


def get(base: str, token: str, path: str, method: str = "GET", body: dict | None = None):
    request = urllib.request.Request(
        base + path,
        method=method,
        headers={"Authorization": f"token {token}"},
        data=json.dumps(body).encode() if body is not None else None,
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
        return json.loads(text) if text else None


def test_every_notebook_is_listed_and_opens(lab):
    base, token = lab
    listed = {item["name"] for item in get(base, token, "/api/contents/")["content"]}
    for path in notebook_paths():
        assert path.name in listed
        model = get(base, token, f"/api/contents/{path.name}?content=1")
        assert model["type"] == "notebook" and model["content"]["cells"]


async def run_cells(base: str, token: str, kernel_id: str, sources: list[str]) -> list[str]:
    from tornado.websocket import websocket_connect

    ws_url = base.replace("http", "ws") + f"/api/kernels/{kernel_id}/channels?token={token}"
    conn = await websocket_connect(ws_url)
    errors = []
    for source in sources:
        msg_id = uuid.uuid4().hex
        await conn.write_message(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "msg_type": "execute_request",
                        "username": "test",
                        "session": "s",
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "channel": "shell",
                    "content": {
                        "code": source,
                        "silent": False,
                        "store_history": True,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                }
            )
        )
        while True:
            reply = json.loads(await asyncio.wait_for(conn.read_message(), timeout=300))
            if reply.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if reply["msg_type"] == "error":
                errors.append(f"{reply['content']['ename']}: {reply['content']['evalue']}")
            if reply["msg_type"] == "execute_reply":
                break
    conn.close()
    return errors


def test_a_notebook_runs_in_the_servers_kernel(lab):
    base, token = lab
    kernel = get(base, token, "/api/kernels", "POST", {"name": "python3"})
    try:
        nb = nbformat.read(notebook_path("01"), as_version=4)
        sources = [c.source for c in nb.cells if c.cell_type == "code"]
        assert asyncio.run(run_cells(base, token, kernel["id"], sources)) == []
    finally:
        get(base, token, f"/api/kernels/{kernel['id']}", "DELETE")
    assert all(k["id"] != kernel["id"] for k in get(base, token, "/api/kernels"))


def test_course_settings_are_in_force(lab):
    """`make setup` installs course/jupyterlab/overrides.json: the glossary opens rendered, and the
    course never asks the network for news."""
    base, token = lab
    docs = get(base, token, "/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    assert docs["schema"]["properties"]["defaultViewers"]["default"]["markdown"] == "Markdown Preview"
    news = get(base, token, "/lab/api/settings/@jupyterlab/apputils-extension:notification")
    assert news["schema"]["properties"]["fetchNews"]["default"] == "false"


def test_jupyterlab_shows_a_notebook_in_a_real_browser(lab):
    """Playwright in Debian's Chromium opens 01 in JupyterLab and waits until its markdown and
    formulas are rendered; the screenshot (build/screenshots/jupyterlab_01.png) shows that."""
    from course import browser, layout

    base, token = lab
    try:
        browser.chromium()
    except browser.BrowserUnavailable as error:
        pytest.fail(str(error))
    url = f"{base}/lab/tree/01_loss_functions.ipynb?token={token}"
    with layout.session() as page:
        page.goto(url, wait_until="load", timeout=layout.READY_TIMEOUT_MS)
        page.wait_for_selector(".jp-Notebook .jp-RenderedMarkdown mjx-container", timeout=layout.READY_TIMEOUT_MS)
        page.wait_for_function(
            "() => document.querySelectorAll('.jp-Notebook .jp-RenderedMarkdown').length > 5",
            timeout=layout.READY_TIMEOUT_MS,
        )
        html = page.content()
        assert re.search(r'href="[^"]*glossary\.md[^"]*#fine-tuning"', html), "the glossary links are rendered"
        shot = layout.screenshot(page, REPO_ROOT / "build" / "screenshots" / "jupyterlab_01.png")
    assert shot.stat().st_size > 20_000
