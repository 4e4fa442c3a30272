"""Render a page in headless Chromium over the DevTools protocol: console errors, images, a screenshot.

A test helper (not part of the package): launches ``chromium`` with a fresh profile and
``--remote-debugging-port=0``, reads the port from ``DevToolsActivePort``, opens the page in a new target
and talks to it with ``websocket-client``.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from mobility.report.pdf import chromium_profile

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--remote-allow-origins=*", "--window-size=1280,900"]

IMAGES_JS = """(() => Array.from(document.images).map(i => ({src: i.src.slice(0, 30), complete: i.complete,
  width: i.naturalWidth, height: i.naturalHeight})))()"""


@dataclass
class PageCheck:
    images: list[dict] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    screenshot_png: bytes = b""
    text: str = ""


class _Session:
    def __init__(self, ws_url: str):
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_for(self, event: str, timeout_s: float) -> None:
        end = time.monotonic() + timeout_s
        if any(e.get("method") == event for e in self.events):
            return
        while time.monotonic() < end:
            msg = json.loads(self.ws.recv())
            self.events.append(msg)
            if msg.get("method") == event:
                return
        raise TimeoutError(f"no {event} within {timeout_s} s")


def check_page(browser: str, page: Path, *, timeout_s: float = 60.0) -> PageCheck:
    """Load ``page`` (a local file) and report its images, text as rendered, console errors, network requests and
    a screenshot."""
    with chromium_profile() as profile:  # stopped below, Chromium would leave its socket folder in TMPDIR
        proc = subprocess.Popen([browser, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port_file = profile / "DevToolsActivePort"
            end = time.monotonic() + timeout_s
            while not (port_file.exists() and port_file.read_text().strip()):
                if time.monotonic() > end or proc.poll() is not None:
                    raise RuntimeError("chromium did not open its DevTools port")
                time.sleep(0.1)
            port = int(port_file.read_text().split()[0])
            req = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
            target = json.loads(urllib.request.urlopen(req, timeout=timeout_s).read())
            s = _Session(target["webSocketDebuggerUrl"])
            for domain in ("Page", "Runtime", "Log", "Network"):
                s.call(f"{domain}.enable")
            s.call("Page.navigate", url=page.resolve().as_uri())
            s.wait_for("Page.loadEventFired", timeout_s)
            result = PageCheck()
            value = s.call("Runtime.evaluate", expression=IMAGES_JS, returnByValue=True)
            result.images = value["result"]["value"]
            text = s.call("Runtime.evaluate", expression="document.body.innerText", returnByValue=True)
            result.text = text["result"]["value"]
            metrics = s.call("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            shot = s.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 16000),
                                "scale": 1})
            result.screenshot_png = base64.b64decode(shot["data"])
            for e in s.events:
                method, params = e.get("method"), e.get("params", {})
                if method == "Runtime.exceptionThrown":
                    result.console_errors.append(params["exceptionDetails"].get("text", "exception"))
                elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                    result.console_errors.append(str(params.get("args")))
                elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                    result.console_errors.append(params["entry"].get("text", ""))
                elif method == "Network.requestWillBeSent":
                    url = params["request"]["url"]
                    result.requests.append(url[:40] if url.startswith("data:") else url)
            s.ws.close()
            return result
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
