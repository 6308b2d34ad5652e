"""Screenshot a TensorBoard page in headless Chromium: docs/tensorboard.png.

Starts ``tensorboard --logdir LOGDIR`` on a free port, and Chromium headless with its DevTools
port; opens the page, waits until its charts have drawn (their SVG paths or WebGL canvases
stop changing), and saves a PNG. Chromium is driven over the DevTools protocol by the small
websocket client below (the standard library only). ``--virtual-time-budget`` screenshots come
out blank: TensorBoard fetches its data after the page has loaded.

The README's picture, from the report's seed-aggregated logdir of the quickstart runs:

    ce-vs-mse-report --runs results/runs --experiments quickstart --out /tmp/tb-report
    python scripts/tensorboard_screenshot.py /tmp/tb-report/tensorboard docs/tensorboard.png

Any other page of the server: ``--page`` (e.g. ``ce_vs_mse.train.board.comparison_url("")``
on a folder of runs). Needs ``chromium`` (Debian: ``apt-get install chromium``) and the venv's
tensorboard.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from ce_vs_mse.report import tensorboard as aggregated

# The quickstart MLP: cross-entropy against squared error, each a mean and its band over seeds.
PAGE = aggregated.url("quickstart/softmax_(ce|mse)/digits-mlp_32/", base="")
# How many elements of the page have drawn: SVG paths (Custom Scalars) and canvases (Time
# Series), looked up through every shadow root.
COUNT_DRAWN = """(() => {
  let n = 0;
  const walk = root => {
    for (const el of root.querySelectorAll('*')) {
      if (el.tagName === 'path' && (el.getAttribute('d') || '').length > 20) n += 1;
      if (el.tagName === 'CANVAS' && el.width > 0) n += 1;
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return n;
})()"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check, timeout: float):
    """``check()``'s first true answer, asked every half second; fails after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            answer = check()
            if answer:
                return answer
        time.sleep(0.5)
    sys.exit(f"tensorboard_screenshot: {what} did not happen in {timeout:.0f} s")


class WebSocket:
    """A client websocket (RFC 6455) of text messages, enough for the DevTools protocol."""

    def __init__(self, url: str):
        host, _, path = url.removeprefix("ws://").partition("/")
        name, _, port = host.partition(":")
        self.sock = socket.create_connection((name, int(port)), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /{path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError("the DevTools socket closed during the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(head.decode(errors="replace"))

    def _exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("the DevTools socket closed")
            data += chunk
        return data

    def send(self, text: str) -> None:
        payload, mask = text.encode(), os.urandom(4)
        n = len(payload)
        size = (struct.pack("!B", 0x80 | n) if n < 126 else
                struct.pack("!BH", 0x80 | 126, n) if n < 1 << 16 else
                struct.pack("!BQ", 0x80 | 127, n))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(b"\x81" + size + mask + masked)

    def receive(self) -> str:
        message = b""
        while True:
            first, second = self._exact(2)
            n = second & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", self._exact(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", self._exact(8))
            payload = self._exact(n)
            opcode = first & 0x0F
            if opcode == 0x8:
                raise ConnectionError("the DevTools socket closed")
            if opcode in (0x0, 0x1, 0x2):
                message += payload
                if first & 0x80:  # the last fragment
                    return message.decode()


class DevTools:
    """One page target of Chromium's DevTools protocol: commands and their results."""

    def __init__(self, url: str):
        self.ws, self.next_id = WebSocket(url), 0

    def __call__(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            answer = json.loads(self.ws.receive())
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]

    def evaluate(self, expression: str):
        return self("Runtime.evaluate", expression=expression, returnByValue=True)[
            "result"].get("value")


def screenshot(logdir: Path, out: Path, page: str, width: int, height: int,
               timeout: float, settle: float) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("tensorboard_screenshot: no chromium on PATH (Debian: apt-get install chromium)")
    exe = Path(sys.executable).with_name("tensorboard")
    tb_cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "tensorboard.main"]
    tb_port, cdp_port = free_port(), free_port()
    with contextlib.ExitStack() as stack:
        profile = stack.enter_context(tempfile.TemporaryDirectory(prefix="chromium-"))
        log = stack.enter_context(open(Path(profile).parent / f"tb-{tb_port}.log", "wb"))
        server = subprocess.Popen([*tb_cmd, "--logdir", str(logdir), "--host", "127.0.0.1",
                                   "--port", str(tb_port)], stdout=log, stderr=subprocess.STDOUT)
        stack.callback(server.wait, 30)
        stack.callback(server.kill)
        base = f"http://127.0.0.1:{tb_port}"
        wait_for("TensorBoard listing runs", lambda: json.loads(
            urllib.request.urlopen(base + "/data/runs", timeout=5).read()), timeout)
        browser = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--use-gl=angle",
             "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--hide-scrollbars",
             f"--remote-debugging-port={cdp_port}", f"--user-data-dir={profile}",
             f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stack.callback(browser.wait, 30)
        stack.callback(browser.kill)
        targets = wait_for("Chromium's DevTools", lambda: [t for t in json.loads(
            urllib.request.urlopen(f"http://127.0.0.1:{cdp_port}/json", timeout=5).read())
            if t["type"] == "page"], timeout)
        tab = DevTools(targets[0]["webSocketDebuggerUrl"])
        tab("Emulation.setDeviceMetricsOverride", width=width, height=height,
            deviceScaleFactor=1, mobile=False)
        tab("Page.navigate", url=base + page)
        # drawn once the count of drawn elements is above zero and the same for `settle` s
        last, since = -1, time.monotonic()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            drawn = tab.evaluate(COUNT_DRAWN) or 0
            if drawn != last:
                last, since = drawn, time.monotonic()
            elif drawn and time.monotonic() - since >= settle:
                break
            time.sleep(0.5)
        else:
            sys.exit(f"tensorboard_screenshot: the page did not finish drawing in {timeout:.0f} s"
                     f" ({last} elements drawn)")
        png = base64.b64decode(tab("Page.captureScreenshot", format="png")["data"])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png)
    print(f"{out}: {base + page} ({last} elements drawn)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("logdir", type=Path, help="TensorBoard's --logdir")
    parser.add_argument("out", type=Path, help="the PNG to write")
    parser.add_argument("--page", default=PAGE,
                        help="the page below the server's address (default: Custom Scalars, "
                             "the quickstart MLP's CE and MSE runs)")
    parser.add_argument("--size", default="1000x1210",
                        help="window WIDTHxHEIGHT in pixels (default: the first three charts)")
    parser.add_argument("--timeout", type=float, default=180, help="seconds to wait at most")
    parser.add_argument("--settle", type=float, default=5,
                        help="seconds the drawing must stay unchanged before the screenshot")
    args = parser.parse_args(argv)
    if not args.logdir.is_dir():
        parser.error(f"logdir {args.logdir} is not a folder")
    width, _, height = args.size.partition("x")
    screenshot(args.logdir, args.out, args.page, int(width), int(height), args.timeout,
               args.settle)


if __name__ == "__main__":
    main()
