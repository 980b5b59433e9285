"""Private PostgreSQL and Redis servers on free ports, for the scale tests and benchmarks."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

APT_PACKAGES = {"postgresql": "initdb", "redis-server": "redis-server"}
# Durability is not under test here; these make a throwaway cluster several times faster.
PG_FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_packages() -> str | None:
    """Install postgresql and redis-server with apt-get when missing; why not, if it cannot."""
    missing = [pkg for pkg, tool in APT_PACKAGES.items() if not _find_tool(tool)]
    if not missing:
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        names = " ".join(missing)
        return f"missing {names}; install them with: sudo apt-get install -y {names}"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, capture_output=True)
    done = subprocess.run(
        ["apt-get", "install", "-y", "-qq", *missing], env=env, capture_output=True
    )
    return None if done.returncode == 0 else f"apt-get install {missing} failed: {done.stderr!r}"


def _find_tool(name: str) -> str | None:
    """A server binary on PATH or in Debian's versioned PostgreSQL directory."""
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found if isinstance(found, str) else (found[-1] if found else None)


def _as_owner(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the `postgres` user the package creates."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass
class Postgres:
    """A private PostgreSQL cluster with trust auth for the superuser `voicesmith`."""

    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="voicesmith-pg-")))

    @property
    def admin_url(self) -> str:
        return f"postgresql://voicesmith@127.0.0.1:{self.port}/postgres"

    def start(self) -> "Postgres":
        """initdb and start the cluster; returns self once it accepts connections."""
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        data = str(self.root / "data")
        initdb = [
            _find_tool("initdb"),
            "-D",
            data,
            "-U",
            "voicesmith",
            "--auth=trust",
            "-E",
            "UTF8",
        ]
        subprocess.run(_as_owner(initdb), check=True, capture_output=True)
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.root} {PG_FAST}"
        ctl = [_find_tool("pg_ctl"), "-D", data, "-l", str(self.root / "log"), "-o", opts, "-w"]
        subprocess.run(_as_owner([*ctl, "start"]), check=True, capture_output=True)
        return self

    def create_database(self, name: str) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://voicesmith@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        """Stop the cluster at once and delete its files."""
        ctl = [_find_tool("pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop"]
        subprocess.run(_as_owner(ctl), check=False, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Redis:
    """A private redis-server without persistence."""

    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="voicesmith-redis-")))
    proc: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> "Redis":
        """Start redis-server and wait until it answers PING."""
        cmd = [_find_tool("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1"]
        cmd += ["--save", "", "--appendonly", "no", "--dir", str(self.root)]
        log = (self.root / "log").open("ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        _wait_port(self.port)
        return self

    def stop(self) -> None:
        """Stop the server; the port is free again when this returns."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.proc = None

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop, stay down a while, and start again on the same port."""
        self.stop()
        time.sleep(down_seconds)
        self.start()


def _wait_port(port: int, timeout: float = 30) -> None:
    """Wait until something accepts TCP connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")
