"""A loopback TCP proxy the failure drills put between the platform and a server (broker or
database), to do to the connections what a restart or a partition does, without touching the
machine's shared servers.

- `pause()`: stop forwarding in both directions while holding every connection open (bytes wait in
  the kernel's buffers): a network partition, as a client sees one. `resume()` ends it.
- `cut(refuse_for_s)`: reset every connection (RST, as a server that died) and, for that long,
  reset every new one at once: a server restarting. Then new connections are forwarded again.

Threads, not asyncio: the proxy runs beside whatever event loops the test and the app use.
The target is a (host, port) or a unix socket path (the embedded PostgreSQL and Redis)."""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass


@dataclass
class ProxyStats:
    accepted: int = 0  # connections accepted
    refused: int = 0  # connections reset at once during a cut's refusal window
    reset: int = 0  # live connections reset by cuts
    cuts: int = 0
    pauses: int = 0


def _rst(sock: socket.socket) -> None:
    """Close with a reset rather than a FIN: what the peer of a killed server sees."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class _Pair:
    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.closed = False

    def close(self, reset: bool) -> None:
        if self.closed:
            return
        self.closed = True
        for s in (self.client, self.upstream):
            if reset:
                _rst(s)
            else:
                with contextlib.suppress(OSError):
                    s.close()


class TcpProxy:
    POLL_S = 0.02

    def __init__(self, target: tuple[str, int] | str) -> None:
        self.target = target
        self.stats = ProxyStats()
        self._lock = threading.Lock()
        self._pairs: set[_Pair] = set()
        self._forwarding = threading.Event()
        self._forwarding.set()
        self._refuse_until = 0.0
        self._closed = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))  # loopback only
        self._listener.listen(64)
        self._listener.settimeout(self.POLL_S * 5)
        self.port: int = self._listener.getsockname()[1]
        self._accepter = threading.Thread(target=self._accept_loop, name=f"proxy-{self.port}", daemon=True)
        self._accepter.start()

    # -- control ---------------------------------------------------------------------------------

    def pause(self) -> None:
        self.stats.pauses += 1
        self._forwarding.clear()

    def resume(self) -> None:
        self._forwarding.set()

    @property
    def paused(self) -> bool:
        return not self._forwarding.is_set()

    def cut(self, refuse_for_s: float = 0.0) -> int:
        """Reset every live connection; reset new ones for `refuse_for_s`. Returns how many were cut."""
        with self._lock:
            self._refuse_until = time.monotonic() + refuse_for_s
            pairs, self._pairs = self._pairs, set()
            self.stats.cuts += 1
            self.stats.reset += len(pairs)
        for p in pairs:
            p.close(reset=True)
        return len(pairs)

    def refusing(self) -> bool:
        return time.monotonic() < self._refuse_until

    def live(self) -> int:
        with self._lock:
            return len(self._pairs)

    def close(self) -> None:
        self._closed.set()
        self._forwarding.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        self._accepter.join(5)
        with self._lock:
            pairs, self._pairs = self._pairs, set()
        for p in pairs:
            p.close(reset=False)

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- forwarding ------------------------------------------------------------------------------

    def _connect_upstream(self) -> socket.socket:
        if isinstance(self.target, str):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.target)
        else:
            s = socket.create_connection(self.target, timeout=5)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(None)
        return s

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.refusing():
                self.stats.refused += 1
                _rst(client)
                continue
            client.settimeout(None)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                upstream = self._connect_upstream()
            except OSError:
                _rst(client)
                continue
            pair = _Pair(client, upstream)
            with self._lock:
                self._pairs.add(pair)
                self.stats.accepted += 1
            threading.Thread(target=self._pump, args=(pair,), name=f"proxy-{self.port}-pair", daemon=True).start()

    def _pump(self, pair: _Pair) -> None:
        peer = {pair.client: pair.upstream, pair.upstream: pair.client}
        try:
            while not pair.closed and not self._closed.is_set():
                if not self._forwarding.wait(self.POLL_S):
                    continue  # paused: read nothing, so nothing is delivered either way
                try:
                    readable, _, _ = select.select(list(peer), [], [], self.POLL_S)
                except (OSError, ValueError):
                    return  # a socket was closed under us (a cut)
                for s in readable:
                    if not self._forwarding.is_set():
                        break
                    data = s.recv(65536)
                    if not data:
                        return
                    peer[s].sendall(data)
        except OSError:
            return
        finally:
            with self._lock:
                self._pairs.discard(pair)
            pair.close(reset=False)
