"""A throwaway PostgreSQL server for tests and benchmarks, started from the installed binaries.

``initdb`` refuses to run as root, so as root the server runs as the ``postgres``
system user (through ``runuser``). The data directory lives in a temporary
directory removed by :meth:`PostgresServer.stop`.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["INSTALL_HINT", "PostgresServer", "find_postgres_bindir"]

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found: install them "
    "(Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql) "
    "or point OMNICX_PG_BINDIR at the directory holding initdb"
)


def find_postgres_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``: ``$OMNICX_PG_BINDIR``, the ``PATH``,
    or the newest ``/usr/lib/postgresql/*/bin``; ``None`` when there is none."""
    env = os.environ.get("OMNICX_PG_BINDIR")
    if env and (Path(env) / "initdb").exists():
        return Path(env)
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name or 0)
    )
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresServer:
    """A PostgreSQL cluster in a temporary directory, on a free local port, trust auth.

    ``start()`` returns the server URL for the database ``omnicx``; ``stop()`` shuts it
    down and deletes the directory. Use it as a context manager. Raises
    ``RuntimeError`` with the server log when the server does not come up.
    """

    def __init__(self, bindir: Path | None = None, *, durable: bool = False) -> None:
        found = bindir or find_postgres_bindir()
        if found is None:
            raise RuntimeError(INSTALL_HINT)
        self.bindir = found
        self.durable = durable
        self.port = 0
        self.directory: Path | None = None
        self._as_postgres = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log = ""
            if self.directory is not None and (self.directory / "log").exists():
                log = (self.directory / "log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(args[:2])} failed: {result.stderr.strip()}\n{log}")

    @property
    def url(self) -> str:
        """``postgresql://omnicx@127.0.0.1:PORT/omnicx``."""
        return f"postgresql://omnicx@127.0.0.1:{self.port}/omnicx"

    def start(self) -> str:
        """Create and start the cluster and the ``omnicx`` database; return :attr:`url`."""
        self.directory = Path(tempfile.mkdtemp(prefix="omnicx-pg-"))
        if self._as_postgres:
            shutil.chown(self.directory, "postgres")
        data = self.directory / "data"
        self._run("initdb", "-D", str(data), "-A", "trust", "-U", "omnicx", "--no-sync", "-E", "UTF8")
        self.port = _free_port()
        try:
            self._launch(data)
        except BaseException:
            self.stop()
            raise
        return self.url

    def _launch(self, data: Path) -> None:
        assert self.directory is not None
        options = f"-k {self.directory} -p {self.port} -h 127.0.0.1 -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(data), "-o", options, "-l", str(self.directory / "log"), "-w", "start")
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "omnicx", "omnicx")

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its directory. Safe to call twice."""
        if self.directory is None:
            return
        try:
            if (self.directory / "data" / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
