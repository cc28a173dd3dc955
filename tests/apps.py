"""Run the real service (`python app.py`) as a separate process for tests that need
several replicas or a hard kill."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def console_script(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """Run the installed `orcoursetrion` console script as a user would (text output, 60 s cap)."""
    script = os.path.join(os.path.dirname(sys.executable), "orcoursetrion")
    return subprocess.run([script, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


class AppProcess:
    """`python app.py` (or another `script` serving /healthz) with the given environment, on its own port."""

    def __init__(self, env: dict[str, str], log_path: Path, script: Path = ROOT / "app.py") -> None:
        self.script = script
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("ORC_", "SLACK_", "ZENDESK_", "EDX_"))}
        self.env.update(env)
        self.env["PORT"] = str(self.port)
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def start(self, timeout: float = 30.0) -> AppProcess:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, str(self.script)], env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app exited with {self.proc.returncode}:\n{self.log_path.read_text()[-3000:]}")
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"app did not start:\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no clean-up, no goodbye (and reap it, so its pid is really gone)."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
