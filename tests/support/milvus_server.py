"""A real Milvus server (PyPI `milvus` 2.3.5, standalone) reachable on 127.0.0.1 only.

Most of the server's ports listen on every interface and it has no listen-address setting,
so it runs in a network namespace of its own with only `lo` up. A small keeper process holds
that namespace: it is started here, binds two ports on this machine's 127.0.0.1 first (the
gRPC proxy and the health endpoint), then moves into a new network namespace, starts and
kills the server there on request and relays the two ports to it. Clients use
`http://127.0.0.1:PORT` as they would any server; nothing else can reach it.

The server is always ended by its PID (SIGTERM, then SIGKILL after a grace period: with a
collection loaded, SIGTERM may not stop it for minutes), never by name. The keeper ends the
server and itself when the pipe from the process that started it closes, so a test run
that dies leaves nothing behind.

Used by the server tests (tests/test_milvus_server.py) and benchmarks/backends.py.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
# Ports inside the namespace: the package's defaults (nothing else listens there).
PROXY_PORT = 19530
HEALTH_PORT = 9091
ROOT_TOKEN = "root:Milvus"  # the default user of a server with authorization on
START_TIMEOUT = 180.0
STOP_GRACE = 10.0


def unavailable() -> str | None:
    """Return why a server cannot be started here, or None when it can."""
    if not sys.platform.startswith("linux"):
        return "a Milvus server is tested on Linux only"
    try:
        import milvus  # noqa: F401
    except ImportError:
        return "the Milvus server package is not installed (pip install milvus==2.3.5)"
    if os.geteuid() != 0:
        return "a network namespace of the test's own needs root (CI runs as root)"
    probe = subprocess.run(
        [sys.executable, __file__, "probe"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        reason = probe.stderr.strip().splitlines()[-1:] or ["unknown"]
        return f"cannot make a network namespace here ({reason[0]})"
    return None


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _enter_new_network() -> None:
    """Move this (single-threaded) process into a new network namespace with lo up."""
    if _libc().unshare(CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(s, siocgifflags, request)[:18])[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH", b"lo", flags | iff_up))


def _die_with_parent() -> None:
    _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def binaries() -> Path:
    """Unpack the server's binaries once per machine (246 MB) and return their folder."""
    import milvus

    folder = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    folder = folder / "qabot-tests" / f"milvus-{milvus.__version__}"
    lock = folder.with_name(folder.name + ".lock")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        milvus._initialize_data_files(str(folder))  # checks its checksums, unpacks if stale
    return folder / "bin"


# -- the keeper: runs as `python milvus_server.py keep DATA_DIR AUTH` --------------------------


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, target):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _relay(listener: socket.socket, port: int) -> None:
    """Accept on this machine's loopback; connect to `port` inside the namespace."""
    while True:
        client, _ = listener.accept()
        try:
            upstream = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            client.close()  # the server is down: the client sees a closed connection
            continue
        upstream.settimeout(None)
        for s in (client, upstream):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_pipe, args=(client, upstream), daemon=True).start()
        threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()


def _write_config(data: Path, auth: bool) -> None:
    from milvus import MilvusServerConfig

    config = MilvusServerConfig(data_dir=str(data))
    config.set("authorization_enabled", auth)
    config.resolve()  # writes data/configs/milvus.yaml; the namespace's ports are all free


def _stop(process: subprocess.Popen[bytes] | None, grace: float) -> None:
    if process is None or process.poll() is not None:
        return
    if grace > 0:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            pass
    process.kill()
    process.wait()


def keep(data: Path, auth: bool) -> None:
    """Hold the namespace, relay the ports, start and stop the server as told on stdin."""
    listeners = []
    for _ in (PROXY_PORT, HEALTH_PORT):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        listeners.append(listener)
    _enter_new_network()
    for listener, port in zip(listeners, (PROXY_PORT, HEALTH_PORT), strict=True):
        threading.Thread(target=_relay, args=(listener, port), daemon=True).start()
    bin_dir = binaries()
    _write_config(data, auth)
    env = {
        **os.environ,
        "DEPLOY_MODE": "STANDALONE",
        "METRICS_PORT": str(HEALTH_PORT),
        "MILVUS_RUN_DIR": str(data / "run"),
        "LD_LIBRARY_PATH": f"{bin_dir}:{os.environ.get('LD_LIBRARY_PATH', '')}",
    }
    print(f"ports {listeners[0].getsockname()[1]} {listeners[1].getsockname()[1]}", flush=True)
    process: subprocess.Popen[bytes] | None = None
    try:
        for line in sys.stdin:
            command = line.split()
            if command[:1] == ["start"]:
                _stop(process, 0)
                with (data / "logs" / "milvus.log").open("ab") as log:
                    process = subprocess.Popen(
                        [str(bin_dir / "milvus"), "run", "standalone"],
                        cwd=data,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        preexec_fn=_die_with_parent,
                    )
                print(f"pid {process.pid}", flush=True)
            elif command[:1] == ["stop"]:
                _stop(process, float(command[1]) if len(command) > 1 else STOP_GRACE)
                print("stopped", flush=True)
            elif command[:1] == ["alive"]:
                print("yes" if process and process.poll() is None else "no", flush=True)
    finally:
        _stop(process, 0)


# -- the side of the tests ---------------------------------------------------------------------


class MilvusServer:
    """A standalone Milvus server in its own network namespace, on 127.0.0.1:`port`.

    Args:
        data: the server's folder (configuration, logs, data); it survives restarts.
        auth: turn authorization on (the user root:Milvus).
    """

    def __init__(self, data: Path, auth: bool = False) -> None:
        self.data = data
        self.auth = auth
        self.pid: int | None = None
        self._lock = threading.Lock()
        data.mkdir(parents=True, exist_ok=True)
        self._keeper = subprocess.Popen(
            [sys.executable, __file__, "keep", str(data), "1" if auth else "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=_die_with_parent,
        )
        words = self._read().split()
        if words[:1] != ["ports"]:
            self.close()
            raise RuntimeError(f"the Milvus keeper did not start: {words}")
        self.port, self.health_port = int(words[1]), int(words[2])

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _read(self) -> str:
        assert self._keeper.stdout is not None
        line = self._keeper.stdout.readline()
        if not line:
            raise RuntimeError("the Milvus keeper ended")
        return line.strip()

    def _tell(self, command: str) -> str:
        with self._lock:
            assert self._keeper.stdin is not None
            self._keeper.stdin.write(command + "\n")
            self._keeper.stdin.flush()
            return self._read()

    def start(self, wait: bool = True) -> None:
        """Start the server process; with `wait`, return once it says it is healthy."""
        self.pid = int(self._tell("start").split()[1])
        if wait:
            self.wait_ready()

    def healthy(self) -> bool:
        """Tell whether the server's health endpoint answers OK."""
        try:
            url = f"http://127.0.0.1:{self.health_port}/healthz"
            with urllib.request.urlopen(url, timeout=2) as response:
                return b"OK" in response.read()
        except (OSError, urllib.error.URLError):
            return False

    def wait_ready(self, timeout: float = START_TIMEOUT) -> float:
        """Wait until the health endpoint says OK; return the seconds it took."""
        started = time.monotonic()
        while not self.healthy():
            if self._tell("alive") != "yes":
                raise RuntimeError(f"the Milvus server ended; see {self.data / 'logs'}")
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"Milvus was not ready in {timeout:.0f} s")
            time.sleep(0.25)
        return time.monotonic() - started

    def kill(self) -> None:
        """End the server at once (SIGKILL by PID): what a crash or an OOM kill does."""
        self._tell("stop 0")
        self.pid = None

    def stop(self, grace: float = STOP_GRACE) -> None:
        """End the server by its PID: SIGTERM, then SIGKILL after `grace` seconds."""
        self._tell(f"stop {grace}")
        self.pid = None

    def restart(self) -> None:
        """Kill the server and start it again on the same data."""
        self.kill()
        self.start()

    def close(self) -> None:
        """End the server and the keeper (by their PIDs) and wait for both."""
        if self._keeper.poll() is None:
            assert self._keeper.stdin is not None
            try:
                self._keeper.stdin.close()  # the keeper kills the server, then ends
            except OSError:
                pass
            try:
                self._keeper.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._keeper.kill()
                self._keeper.wait()
        if self._keeper.stdout is not None:
            self._keeper.stdout.close()
        self.pid = None

    def __enter__(self) -> MilvusServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def running_server(data: Path, auth: bool = False) -> Iterator[MilvusServer]:
    """Start a server on `data`, wait until it is ready, and end it (by PID) afterwards."""
    with MilvusServer(data, auth) as server:
        server.start()
        yield server


def peak_memory_mb(pid: int) -> float:
    """Return a process's peak resident memory (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _probe() -> None:
    _enter_new_network()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))


if __name__ == "__main__":
    if sys.argv[1] == "probe":
        _probe()
    elif sys.argv[1] == "keep":
        keep(Path(sys.argv[2]), sys.argv[3] == "1")
