"""The console's users file: names, roles and memory-hard password hashes.

A JSON object ``{"users": {NAME: {"role": ROLE, "password": HASH}}}`` in a file only its owner
may read or write (created 0600; a file that group or others can read is refused, as ssh
refuses a private key). ``HASH`` is ``scrypt$N$r$p$SALT$KEY`` (hashlib.scrypt, N = 2**15,
r = 8, p = 1: 32 MiB and about 0.1 s per check; salt and key base64), so a stolen file costs
an attacker that much memory and time per guess. Checks compare in constant time and a
wrong user name costs as much as a wrong password.

Roles, weakest first: ``viewer`` (reads), ``operator`` (also acknowledges and shelves
alarms), ``supervisor`` (also what needs a second person, such as releasing critical
commands).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
import tempfile
from pathlib import Path

from ..errors import TelemetryError

__all__ = ["ROLES", "UserError", "Users", "hash_password", "check_password", "add_user"]

ROLES = ("viewer", "operator", "supervisor")
_N, _R, _P = 1 << 15, 8, 1
_MAXMEM = 64 << 20
_MAX_FILE_BYTES = 1 << 20
_MAX_PASSWORD = 1024
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@")


class UserError(TelemetryError):
    """A users file, user name, role or password that cannot be used."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=32)


def hash_password(password: str) -> str:
    """The stored form of ``password`` (``scrypt$N$r$p$SALT$KEY``)."""
    check_password_text(password)
    salt = secrets.token_bytes(16)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(_derive(password, salt, _N, _R, _P))}"


_DUMMY = None


def check_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored`` (None: an unknown user, checked against a dummy
    hash so that the answer takes as long)."""
    global _DUMMY
    if stored is None:
        _DUMMY = _DUMMY or hash_password("not a password of anyone")
        stored, password = _DUMMY, password + "\x00"
    try:
        kind, n, r, p, salt, key = stored.split("$")
        n, r, p = int(n), int(r), int(p)
        if kind != "scrypt" or n > 1 << 20 or r > 32 or p > 16:
            return False
        got = _derive(password, base64.b64decode(salt), n, r, p)
        return hmac.compare_digest(got, base64.b64decode(key))
    except (ValueError, TypeError, MemoryError):
        return False


def check_name(name) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 64 or not set(name) <= _NAME_CHARS:
        raise UserError(f"user name {name!r}: 1-64 of letters, digits and . _ - @")
    return name


def check_password_text(password) -> str:
    if not isinstance(password, str) or not 8 <= len(password) <= _MAX_PASSWORD:
        raise UserError(f"password: 8 to {_MAX_PASSWORD} characters")
    return password


class Users:
    """The users of a file (read once; :meth:`reload` to read again)."""

    def __init__(self, path):
        self.path = Path(path)
        self.users: dict[str, dict] = {}
        self.reload()

    @classmethod
    def empty(cls) -> "Users":
        u = cls.__new__(cls)
        u.path, u.users = None, {}
        return u

    def reload(self) -> None:
        self.users = _read(self.path)

    def authenticate(self, name, password) -> str | None:
        """The user's role if ``password`` is theirs, else None (same cost either way)."""
        if not isinstance(name, str) or not isinstance(password, str) or len(password) > _MAX_PASSWORD:
            return None
        entry = self.users.get(name)
        ok = check_password(password, entry["password"] if entry else None)
        return entry["role"] if ok and entry else None


def _read(path: Path) -> dict[str, dict]:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise UserError(f"{path}: no such users file (create it with 'groundseg console adduser')") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UserError(f"{path}: group or others may read or write it; chmod 600 {path}")
    if st.st_size > _MAX_FILE_BYTES:
        raise UserError(f"{path}: larger than {_MAX_FILE_BYTES} bytes: not a users file")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not a users file (JSON: {exc})") from None
    users = doc.get("users") if isinstance(doc, dict) else None
    if not isinstance(users, dict):
        raise UserError(f"{path}: expected {{\"users\": {{NAME: {{\"role\", \"password\"}}}}}}")
    for name, entry in users.items():
        check_name(name)
        if not isinstance(entry, dict) or entry.get("role") not in ROLES or not isinstance(entry.get("password"), str):
            raise UserError(f"{path}: user {name}: expected a role ({', '.join(ROLES)}) and a password hash")
    return users


def add_user(path, name: str, role: str, password: str) -> bool:
    """Add or replace user ``name`` in the users file ``path`` (created 0600 if missing);
    True if the user was new. The file is replaced atomically."""
    path = Path(path)
    check_name(name)
    if role not in ROLES:
        raise UserError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    users = _read(path) if path.exists() else {}
    new = name not in users
    users[name] = {"role": role, "password": hash_password(password)}
    text = json.dumps({"users": users}, indent=1, sort_keys=True) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".users-", dir=path.parent or ".")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return new
