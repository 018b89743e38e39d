"""Shared fixtures: a private data folder, loopback HTTP servers (a normal, a trickling and a silent one)
serving MedMNIST-format files."""
from __future__ import annotations

import functools
import http.server
import socket
import threading

import pytest

from fake_medmnist import make_medmnist_npz, use_stand_in
from helpers import data


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty, private cache folder (COURSE_DATA_DIR points at it; the per-user fallback cache is private too)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(data.ENV_VAR, str(folder))
    monkeypatch.setenv(data.USER_CACHE_VAR, str(tmp_path / "user-cache"))
    monkeypatch.delenv(data.OFFLINE_VAR, raising=False)
    return folder


@pytest.fixture
def fake_pneumonia(tmp_path, monkeypatch):
    """A tiny MedMNIST-format 'pneumoniamnist.npz' on a served folder, with the registry's MD5 patched to match."""
    served = tmp_path / "served"
    served.mkdir()
    path = make_medmnist_npz(served / "pneumoniamnist.npz")
    use_stand_in(monkeypatch, "pneumoniamnist", path)
    return path


@pytest.fixture
def http_server(tmp_path):
    """Serve tmp_path/served on 127.0.0.1 (a random free port); yields the base URL."""
    served = tmp_path / "served"
    served.mkdir(exist_ok=True)
    handler = functools.partial(QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def trickling_server():
    """A loopback HTTP server that promises 1,000,000 bytes and sends one byte every 0.2 s; yields its base URL."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)

    def serve():
        conns = []
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            conns.append(conn)
            threading.Thread(target=trickle, args=(conn,), daemon=True).start()
        for conn in conns:
            conn.close()

    def trickle(conn):
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n"
                         b"Content-Type: application/octet-stream\r\n\r\n")
            for _ in range(600):  # at most 2 minutes, whatever happens
                if stop.wait(0.2):
                    break
                conn.sendall(b"x")
        except OSError:
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


@pytest.fixture
def silent_server():
    """A loopback TCP port that accepts connections (the kernel's backlog) but never answers; yields its base URL."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


@pytest.fixture
def scripted_server():
    """A factory: ``scripted_server(reply)`` starts a loopback server that answers every request with the bytes
    ``reply`` and closes the connection; returns its base URL. Stopped after the test."""
    stops = []

    def start(reply: bytes) -> str:
        stop = threading.Event()
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.2)

        def serve():
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except OSError:
                    continue
                with conn:
                    try:
                        conn.recv(65536)
                        conn.sendall(reply)
                    except OSError:
                        pass
            listener.close()

        threading.Thread(target=serve, daemon=True).start()
        stops.append(stop)
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    for stop in stops:
        stop.set()
