"""The drills' loopback proxy (tests/proxy.py) does what it says: forwards, holds a paused
connection without delivering, resets on a cut and refuses during the cut's window, for TCP and
unix-socket targets."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest

from tests.proxy import TcpProxy


def _echo_server(family: int, address) -> tuple[socket.socket, threading.Thread]:
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.bind(address)
    srv.listen(8)

    def serve() -> None:
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return

            def echo(c=c) -> None:
                with contextlib.suppress(OSError), c:
                    while data := c.recv(4096):
                        c.sendall(data)

            threading.Thread(target=echo, daemon=True).start()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return srv, t


@pytest.fixture(params=["tcp", "unix"])
def echo_target(request, tmp_path):
    if request.param == "tcp":
        srv, _ = _echo_server(socket.AF_INET, ("127.0.0.1", 0))
        target = srv.getsockname()
    else:
        path = str(tmp_path / "echo.sock")
        srv, _ = _echo_server(socket.AF_UNIX, path)
        target = path
    yield target
    srv.close()


def _client(proxy: TcpProxy) -> socket.socket:
    c = socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
    return c


def test_forwards_pauses_and_resumes(echo_target):
    with TcpProxy(echo_target) as proxy:
        c = _client(proxy)
        c.sendall(b"ping")
        assert c.recv(16) == b"ping"
        proxy.pause()
        c.sendall(b"held")
        c.settimeout(0.3)
        with pytest.raises(TimeoutError):
            c.recv(16)  # nothing comes back while paused, and the connection stays open
        assert proxy.live() == 1
        proxy.resume()
        c.settimeout(2)
        assert c.recv(16) == b"held"  # delivered after the pause, nothing lost
        c.close()
        assert proxy.stats.pauses == 1


def test_cut_resets_connections_and_refuses_for_a_while(echo_target):
    with TcpProxy(echo_target) as proxy:
        c = _client(proxy)
        c.sendall(b"a")
        assert c.recv(4) == b"a"
        assert proxy.cut(refuse_for_s=0.6) == 1
        with pytest.raises((ConnectionResetError, BrokenPipeError)):
            c.sendall(b"b")
            c.recv(4) or (_ for _ in ()).throw(ConnectionResetError())
        # During the window a new connection is accepted and reset at once (under load the reset
        # may already be there when connect returns).
        with pytest.raises((ConnectionResetError, BrokenPipeError)):
            d = _client(proxy)
            d.sendall(b"c")
            d.recv(4) or (_ for _ in ()).throw(ConnectionResetError())
        assert proxy.stats.refused == 1 and proxy.stats.reset == 1
        time.sleep(0.7)
        e = _client(proxy)
        e.sendall(b"back")
        assert e.recv(8) == b"back"
        e.close()
