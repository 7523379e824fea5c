"""The real server under test: gunicorn on 127.0.0.1, started and always stopped by us."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from benchmarks.environment import ROOT

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ServerConfig:
    workers: int
    threads: int

    @property
    def worker_class(self) -> str:
        return "gthread" if self.threads > 1 else "sync"

    def describe(self) -> str:
        if self.threads > 1:
            return f"gunicorn {self.workers} gthread workers × {self.threads} threads"
        return f"gunicorn {self.workers} sync workers"


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    config: ServerConfig
    pid: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def cpu_seconds(self) -> float | None:
        """CPU time used so far by gunicorn and its workers (Linux /proc), else None.

        Unlike latency, CPU per request hardly changes when other work shares the machine.
        """
        total, found = 0, False
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                # After "pid (comm)": state, ppid, ..., utime and stime are the 12th and 13th.
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(stat.parent.name) == self.pid or int(fields[1]) == self.pid:
                total += int(fields[11]) + int(fields[12])
                found = True
        return total / os.sysconf("SC_CLK_TCK") if found else None


def _gunicorn_major() -> int:
    import gunicorn

    return int(gunicorn.__version__.split(".")[0])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        connection.request("GET", "/healthz", headers={"Host": HOST})
        response = connection.getresponse()
        return response.status == 200 and response.read() == b"ok"
    except OSError:
        return False
    finally:
        connection.close()


def _stop(process: subprocess.Popen, grace: float = 10) -> None:
    if process.poll() is not None:
        return
    # SIGTERM to the arbiter: it stops its workers gracefully.
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
        return
    except subprocess.TimeoutExpired:
        pass
    # The arbiter leads its own session (start_new_session), so this group is ours alone.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=grace)


@contextmanager
def running_server(
    env: dict[str, str], config: ServerConfig, log_path: Path, *, startup_timeout: float = 60
):
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "backbone.config.wsgi",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(config.workers),
        "--worker-class",
        config.worker_class,
        "--threads",
        str(config.threads),
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        "--keep-alive",
        "5",
        "--backlog",
        "256",
        "--error-logfile",
        "-",
    ]
    if _gunicorn_major() >= 27:
        # gunicorn 27 opens a control socket at one fixed path per user by default, which
        # another gunicorn on the machine (`make demo`) may already hold.
        command.append("--no-control-socket")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + startup_timeout
            while not _healthy(port):
                if process.poll() is not None:
                    raise RuntimeError(
                        f"gunicorn exited with code {process.returncode}; see {log_path}:\n"
                        + log_path.read_text()[-3000:]
                    )
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not answer /healthz; see {log_path}.")
                time.sleep(0.2)
            yield Server(HOST, port, config, process.pid)
        finally:
            _stop(process)
