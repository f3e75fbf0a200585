"""The SQLite back end of :class:`~telemetry.archive.Archive`: one file in WAL mode.

What is SQLite's own: the connection (``isolation_level=None``, transactions begun explicitly:
``BEGIN IMMEDIATE`` takes the write lock at once, so a batch never fails half-way on a lock),
WAL with ``synchronous=NORMAL`` (a committed transaction survives kill -9), read-only and
immutable opening, and which errors are transient (full disk, I/O, locks, permissions: the
platform retries) and which are not (a damaged file).
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from .archive import Archive
from .errors import ArchiveError

__all__ = ["SQLiteArchive"]

_TRANSIENT = ("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_READONLY", "SQLITE_CANTOPEN")


def _describe(exc: sqlite3.Error) -> str:
    name = getattr(exc, "sqlite_errorname", "") or ""
    for prefix, what in (("SQLITE_CORRUPT", "damaged archive"), ("SQLITE_NOTADB", "not a telemetry archive"),
                         ("SQLITE_FULL", "disk full"), ("SQLITE_READONLY", "cannot write (read-only)"),
                         ("SQLITE_IOERR", "I/O error"), ("SQLITE_CANTOPEN", "cannot open")):
        if name.startswith(prefix):
            return f"{what} ({exc})"
    return str(exc)


class SQLiteArchive(Archive):
    """An archive file (or ``":memory:"``)."""

    _errors = (sqlite3.Error,)

    def __init__(self, path, *, readonly: bool = False, create: bool = True):
        self.path = str(path)
        memory = self.path == ":memory:"
        if (readonly or not create) and not memory and not Path(self.path).exists():
            raise ArchiveError(f"{self.path}: no such archive")
        try:
            self.db = self._connect(readonly and not memory)
            self.db.execute("PRAGMA busy_timeout=30000")
            if not readonly:
                mode = self.db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if mode.lower() != "wal" and not memory:
                    raise ArchiveError(f"{self.path}: cannot switch the archive to WAL mode ({mode})")
                self.db.execute("PRAGMA synchronous=NORMAL")
            self._setup(readonly)
        except (sqlite3.DatabaseError, ArchiveError) as exc:
            target = Path(self.path)
            if not readonly and not memory and target.exists() and \
                    not (os.access(target, os.W_OK) and os.access(target.parent, os.W_OK)):
                raise ArchiveError(f"{self.path}: cannot write (read-only or immutable file or directory)") from None
            if isinstance(exc, ArchiveError):
                raise
            raise self._error(exc) from None

    def _connect(self, readonly: bool) -> sqlite3.Connection:
        """A connection; read-only ones fall back to ``immutable`` in a read-only directory (SQLite
        cannot make its shared-memory file there) when no write-ahead log is waiting."""
        kw = dict(timeout=30.0, isolation_level=None, check_same_thread=False)
        if not readonly:
            return sqlite3.connect(self.path, **kw)
        uri = Path(self.path).resolve().as_uri()
        try:
            db = sqlite3.connect(uri + "?mode=ro", uri=True, **kw)
            db.execute("SELECT 1 FROM sqlite_master").fetchone()
            return db
        except sqlite3.OperationalError:
            wal = Path(self.path + "-wal")
            if (wal.exists() and wal.stat().st_size > 0) or os.access(Path(self.path).parent, os.W_OK):
                raise
        return sqlite3.connect(uri + "?immutable=1", uri=True, **kw)

    def close(self) -> None:
        self.db.close()

    def execute(self, sql: str, args=()) -> list[tuple]:
        return self.db.execute(sql, args).fetchall()

    def _iterate(self, sql: str, args=()):
        return iter(self.db.execute(sql, args))

    def _executemany(self, sql: str, rows) -> None:
        self.db.executemany(sql, rows)

    def _insert_id(self, sql: str, args) -> int:
        return self.db.execute(sql, args).lastrowid

    def _bulk(self, table: str, columns: tuple, rows: list) -> None:
        if rows:
            self.db.executemany(f"INSERT INTO {table}({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                                rows)

    def _begin(self, write: bool) -> None:
        self.db.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def _end(self, commit: bool) -> None:
        self.db.execute("COMMIT" if commit else "ROLLBACK")

    @property
    def in_transaction(self) -> bool:
        return self.db.in_transaction      # SQLite rolls back by itself after some I/O errors

    def _columns(self, table: str) -> set[str]:
        return {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}

    def _error(self, exc) -> ArchiveError:
        out = ArchiveError(f"{self.path}: {_describe(exc)}")
        name = getattr(exc, "sqlite_errorname", "") or ""
        out.transient = name.startswith(_TRANSIENT) or isinstance(exc, OSError)
        return out
