"""A throw-away PostgreSQL server for the tests and benchmarks: Debian's ``postgresql`` package
(``/usr/lib/postgresql/*/bin``), ``initdb`` on a temporary data directory, ``pg_ctl`` on a free
loopback port, stopped and removed at the end. initdb refuses to run as root: as root the server
runs as ``nobody`` (through ``runuser``). Authentication: trust on loopback, except for the role
``PASSWORD_ROLE`` (password ``PASSWORD``), which must give its password (scram-sha-256).
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from _ports import free_port

__all__ = ["PostgresServer", "binaries", "PASSWORD_ROLE", "PASSWORD"]

PASSWORD_ROLE, PASSWORD = "groundseg_pw", "right-password"


def binaries() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb and pg_ctl, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


class PostgresServer:
    """``PostgresServer(durable=False).start()``; ``url(schema)``; ``stop()``. ``durable=False``
    turns fsync off (faster; the tests kill the platform, never the server)."""

    def __init__(self, durable: bool = False):
        self.bin = binaries()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self.durable = durable
        self.dir = Path(tempfile.mkdtemp(prefix="groundseg-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.user = "nobody" if os.geteuid() == 0 else None

    def _run(self, *argv, check=True) -> subprocess.CompletedProcess:
        cmd = [str(self.bin / argv[0]), *map(str, argv[1:])]
        if self.user is not None:
            cmd = ["runuser", "-u", self.user, "--"] + cmd
        return subprocess.run(cmd, check=check, capture_output=True, text=True, cwd=str(self.dir))

    def start(self) -> "PostgresServer":
        if self.user is not None:
            shutil.chown(self.dir, self.user)
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C",
                  "--no-sync")
        hba = self.data / "pg_hba.conf"
        hba.write_text(f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n"
                       "local all all trust\nhost all all 127.0.0.1/32 trust\n")
        settings = ["-c", "listen_addresses=127.0.0.1", "-p", str(self.port), "-k", str(self.data),
                    "-c", "max_connections=200"]
        if not self.durable:
            settings += ["-c", "fsync=off", "-c", "full_page_writes=off"]
        self._run("pg_ctl", "-D", self.data, "-l", self.dir / "log", "-w", "-t", "60", "-o", " ".join(settings),
                  "start")
        self.admin(f"CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD '{PASSWORD}'")
        return self

    def url(self, schema: str | None = None, user: str = "postgres", password: str | None = None) -> str:
        """A URL of the server's ``postgres`` database; with ``schema``, that schema (created)."""
        auth = user if password is None else f"{user}:{password}"
        base = f"postgresql://{auth}@127.0.0.1:{self.port}/postgres"
        if schema is None:
            return base
        self.admin(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        return base + f"?options=-csearch_path%3D{schema}"

    def fresh_url(self) -> str:
        """A URL of a new, empty schema: one archive."""
        return self.url("t_" + uuid.uuid4().hex[:12])

    def admin(self, sql: str) -> None:
        import psycopg
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)

    def stop(self) -> None:
        if self.data.exists():                 # immediate: no shutdown checkpoint, the data is thrown away
            self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def restart(self) -> None:
        """Stop and start the server on the same data and port (connections are lost)."""
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
        settings = ["-c", "listen_addresses=127.0.0.1", "-p", str(self.port), "-k", str(self.data)]
        self._run("pg_ctl", "-D", self.data, "-l", self.dir / "log", "-w", "-o", " ".join(settings), "start")
