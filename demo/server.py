"""Run the demo in a subprocess on a free loopback port, for the browser tests and the screenshot script."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")  # Debian's chromium: Playwright's own browser cannot be downloaded here
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
UNSAFE_PORTS = {5060, 5061, 6000, 6665, 6666, 6667, 6668, 6669, 10080}


def free_port() -> int:
    "An ephemeral port Chromium agrees to load."
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in UNSAFE_PORTS: return port


class DemoServer:
    "The demo app in a uvicorn subprocess with its own data folder."
    def __init__(self, data_dir: Path, sessions: int, database_url: str = ""):
        self.port, self.data_dir, self.database_url = free_port(), data_dir, database_url
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DEMO_SESSION_SECRET": "subprocess-demo-" + "x" * 40}
        more = ["--database-url", database_url] if database_url else []
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "demo" / "app.py"), "--port", str(self.port),
                                      "--data", str(data_dir), "--sessions", str(sessions), *more], env=env, cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._wait()

    def _wait(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"demo server exited: {self.proc.stdout.read().decode()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200: return
            except OSError: time.sleep(0.1)
        raise RuntimeError("demo server did not answer /healthz within 30 s")

    def stop(self):
        self.proc.terminate()
        try: self.proc.wait(10)
        except subprocess.TimeoutExpired: self.proc.kill()

    @property
    def db(self) -> Path: return self.data_dir / "workflow_state.db"
