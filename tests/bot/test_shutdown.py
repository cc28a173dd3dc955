"""SIGTERM with a kept-alive HTTP connection open (a load balancer's, Slack's client's):
the server closes it and the process exits cleanly instead of waiting for it to time out."""

from __future__ import annotations

import socket

from tests.apps import AppProcess
from tests.conftest import make_env


def read_response(conn: socket.socket) -> bytes:
    """One whole HTTP response (headers, then Content-Length bytes of body), however it arrives."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += conn.recv(65536)
    return data


def test_sigterm_closes_idle_keep_alive_connections(github, slack, sqlite_url, tmp_path):
    env = make_env(
        github, sqlite_url, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="sig-secret", SLACK_API_URL=slack.api_url
    )
    app = AppProcess(env, tmp_path / "app.log").start()
    try:
        conn = socket.create_connection(("127.0.0.1", app.port), timeout=10)
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n")
        answer = read_response(conn)
        assert answer.startswith(b"HTTP/1.1 200")
        conn.settimeout(4)  # the old server kept it open until its 5 s wait for connections ran out
        app.proc.terminate()
        rest = b""
        while chunk := conn.recv(65536):  # EOF once the server closes the idle connection
            rest += chunk
        assert rest == b""
        assert app.proc.wait(timeout=10) == 0
    finally:
        conn.close()
        app.stop()
    assert "Traceback" not in app.log()
