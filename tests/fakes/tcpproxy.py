"""A TCP forwarder in front of a real server (PostgreSQL) that a test can take away and
bring back, as a network or a database host does: `down()` drops every open connection
and closes new ones at once; `hang()` holds every byte (the server "accepts and never
answers"); `up()` forwards again."""

from __future__ import annotations

import socket
import threading


class TcpProxy:
    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._held: list[socket.socket] = []
        self._flowing = threading.Event()
        self._flowing.set()
        self._mode = "up"
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True, name="tcpproxy")
        self._thread.start()

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    def up(self) -> None:
        with self._lock:
            self._mode = "up"
            held, self._held = self._held, []
        self._flowing.set()
        for client in held:
            self._connect(client)

    def down(self) -> None:
        with self._lock:
            self._mode = "down"
            doomed, self._open = self._open, []
            doomed += self._held
            self._held = []
        self._flowing.set()  # let held pumps notice their sockets are gone
        for sock in doomed:
            _close(sock)

    def hang(self) -> None:
        with self._lock:
            self._mode = "hang"
        self._flowing.clear()

    def close(self) -> None:
        self._closed.set()
        self.down()
        self._thread.join(2)
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                mode = self._mode
                if mode == "hang":
                    self._held.append(client)
            if mode == "down":
                _close(client)
            elif mode == "up":
                self._connect(client)

    def _connect(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.target, timeout=5)
            server.settimeout(None)
        except OSError:
            _close(client)
            return
        with self._lock:
            self._open += [client, server]
        for src, dst in ((client, server), (server, client)):
            threading.Thread(target=self._pump, args=(src, dst), daemon=True, name="tcpproxy-pump").start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self._flowing.wait()
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _close(src)
            _close(dst)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
