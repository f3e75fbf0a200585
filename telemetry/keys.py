"""CurveZMQ keys: the platform's key pair, one key pair per source, and what each source may claim.

Layout of a key directory (``groundseg telemetry keys --dir DIR [--source NAME]``)::

    DIR/                                   mode 0700
      server.key, server.key_secret        the platform's key pair (secret files 0600)
      authorized_platforms/server.key      the platform keys a source's replay port accepts
      NAME.key, NAME.key_secret            source NAME's key pair: hand NAME.key_secret and
                                           authorized_platforms/ to that source only
      authorized_clients/NAME.key          the client keys the platform's endpoint accepts
      authorized_clients/NAME.json         {"source": NAME, "spacecraft": [...] or ["*"],
                                            "replay": [endpoint patterns]}

The platform takes a message's identity from the CURVE key that authenticated its connection
(ZAP User-Id = the client's Z85 public key), never from the message: a source may only publish
the spacecraft its JSON lists (default: the one named NAME), only under source ids it created
itself, and the platform connects only to replay endpoints its ``replay`` patterns match (default:
loopback). A pattern is an endpoint, or one ending in ``*``: ``tcp://HOST:*`` (any port),
``ipc://*``, ``inproc://*``. Existing key files are never overwritten without ``force``.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import zmq

from .errors import StreamError

__all__ = ["LOOPBACK_REPLAY", "generate_keys", "SourceIdentity", "PlatformKeys", "SourceKeys", "endpoint_allowed"]

LOOPBACK_REPLAY = ("tcp://127.0.0.1:*", "tcp://[::1]:*", "ipc://*", "inproc://*")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_SERVER = "server"


def endpoint_allowed(endpoint: str, patterns) -> bool:
    """Whether ``endpoint`` matches one of ``patterns`` (exact, or ``PREFIX*``; a tcp port wildcard
    matches digits only)."""
    for p in patterns:
        if p == endpoint:
            return True
        if p.endswith("*") and endpoint.startswith(p[:-1]):
            rest = endpoint[len(p) - 1:]
            if rest and (not p.startswith("tcp://") or rest.isdigit()):
                return True
    return False


def _write(path: Path, text: str, mode: int, force: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, mode)
    except FileExistsError:
        raise StreamError(f"{path}: exists (give --force to replace the keys)") from None
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)


def _cert(public: bytes, secret: bytes | None = None) -> str:
    kind = "Secret" if secret else "Public"
    text = f"#   ZeroMQ CURVE {kind} Certificate (groundseg telemetry keys)\nmetadata\ncurve\n" \
           f"    public-key = \"{public.decode()}\"\n"
    return text + (f"    secret-key = \"{secret.decode()}\"\n" if secret else "")


def _pair(d: Path, name: str, force: bool) -> tuple[bytes, list[str]]:
    public, secret = zmq.curve_keypair()
    if not force:
        for f in (d / f"{name}.key", d / f"{name}.key_secret"):
            if f.exists():
                raise StreamError(f"{f}: exists (give --force to replace the keys)")
    _write(d / f"{name}.key_secret", _cert(public, secret), 0o600, force)
    _write(d / f"{name}.key", _cert(public), 0o644, force)
    return public, [str(d / f"{name}.key"), str(d / f"{name}.key_secret")]


def _subdir(d: Path, name: str) -> Path:
    sub = d / name
    sub.mkdir(mode=0o700, exist_ok=True)
    return sub


def generate_keys(directory, source: str | None = None, *, spacecraft=None, replay=None,
                  force: bool = False) -> dict:
    """Write the platform's key pair (if ``directory`` has none, or with ``force``) and, with
    ``source``, that source's key pair and allow-list entry: ``spacecraft`` (names it may publish,
    default [source]; "*" for any) and ``replay`` (endpoint patterns, default loopback).
    Returns {"server": public key file, "source": ..., "files": [written files]}."""
    d = Path(directory)
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    out: dict = {"directory": str(d), "files": []}
    has_server = (d / f"{_SERVER}.key_secret").is_file()
    if source is None or not has_server:
        if has_server and not force and source is None:
            raise StreamError(f"{d / 'server.key_secret'}: exists (give --force to replace the keys)")
        public, files = _pair(d, _SERVER, force or not has_server)
        _write(_subdir(d, "authorized_platforms") / f"{_SERVER}.key", _cert(public), 0o644, True)
        out["files"] += files + [str(d / "authorized_platforms" / f"{_SERVER}.key")]
    out["server"] = str(d / f"{_SERVER}.key")
    if source is not None:
        if not _NAME.fullmatch(source) or source == _SERVER:
            raise StreamError(f"--source {source!r}: expected 1-32 letters, digits, '.', '_' or '-' (not 'server')")
        sc = [str(s) for s in (spacecraft or [source])]
        rp = [str(r) for r in (replay or LOOPBACK_REPLAY)]
        for r in rp:
            if not re.fullmatch(r"(tcp|ipc|inproc)://\S+", r):
                raise StreamError(f"--replay {r!r}: expected tcp://HOST:PORT (or :*), ipc://PATH or inproc://NAME")
        public, files = _pair(d, source, force)
        clients = _subdir(d, "authorized_clients")
        _write(clients / f"{source}.key", _cert(public), 0o644, True)
        _write(clients / f"{source}.json", json.dumps({"source": source, "spacecraft": sc, "replay": rp}, indent=1) + "\n",
               0o644, True)
        out["source"] = str(d / f"{source}.key")
        out["files"] += files + [str(clients / f"{source}.key"), str(clients / f"{source}.json")]
    return out


def _load(path: Path) -> tuple[bytes, bytes | None]:
    import zmq.auth
    try:
        return zmq.auth.load_certificate(str(path))
    except (OSError, ValueError) as exc:
        raise StreamError(f"{path}: unreadable key file ({exc})") from None


@dataclass(frozen=True)
class SourceIdentity:
    """What the holder of one client key may do: ``spacecraft`` None means any."""

    name: str
    public_key: str
    spacecraft: frozenset | None
    replay: tuple

    def may_publish(self, spacecraft: str) -> bool:
        return self.spacecraft is None or spacecraft in self.spacecraft


class _Keys:
    def __init__(self, directory, role: str, allowed: str, hint: str):
        self.directory = d = Path(directory)
        secret = d / f"{role}.key_secret"
        if not secret.is_file():
            raise StreamError(f"{secret}: missing (run 'groundseg telemetry keys --dir {d}{hint}')")
        self.public, self.secret = _load(secret)
        if self.secret is None:
            raise StreamError(f"{secret}: no secret key in the file")
        self.allowed_dir = d / allowed
        if not self.allowed_dir.is_dir():
            raise StreamError(f"{self.allowed_dir}: missing allow-list directory")

    def start_authenticator(self, ctx: zmq.Context):
        """Start a ZAP handler in ``ctx`` that accepts only the allow-listed keys."""
        from zmq.auth.thread import ThreadAuthenticator
        auth = ThreadAuthenticator(ctx)
        auth.start()
        auth.configure_curve(domain="*", location=str(self.allowed_dir))
        return auth


class PlatformKeys(_Keys):
    """The platform's key pair and the identities of the allow-listed sources (by Z85 public key)."""

    def __init__(self, directory):
        super().__init__(directory, _SERVER, "authorized_clients", "")
        self.identities: dict[str, SourceIdentity] = {}
        for f in sorted(self.allowed_dir.glob("*.key")):
            public = _load(f)[0].decode()
            meta = f.with_suffix(".json")
            try:
                info = json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else {}
                sc = info.get("spacecraft", [f.stem])
                rp = info.get("replay", list(LOOPBACK_REPLAY))
                if not (isinstance(sc, list) and isinstance(rp, list) and all(isinstance(x, str) for x in sc + rp)):
                    raise ValueError("spacecraft and replay must be lists of strings")
            except (OSError, ValueError, AttributeError) as exc:
                raise StreamError(f"{meta}: unreadable allow-list entry ({exc})") from None
            self.identities[public] = SourceIdentity(f.stem, public, None if "*" in sc else frozenset(sc), tuple(rp))


class SourceKeys(_Keys):
    """Source ``name``'s key pair and the platform's public key (its CURVE server key)."""

    def __init__(self, directory, name: str):
        super().__init__(directory, name, "authorized_platforms", f" --source {name}")
        self.name = name
        server = self.allowed_dir / f"{_SERVER}.key"
        if not server.is_file():
            raise StreamError(f"{server}: missing (the platform's public key)")
        self.peer_public = _load(server)[0]
