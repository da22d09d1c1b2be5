"""Children's data sealed at rest: AES-GCM (the `cryptography` package) with a key kept outside
the database, so a stolen database file or backup shows no name and no ID number.

Where the keys are: the environment variable WIZARD_DATA_KEY, else the file `data_key` beside
the database (the instance folder), made on first use. Either holds one key or several
(separated by newlines or commas): the first seals, every one opens. Several keys exist only
for a while: during `wizard rotate-key`, or to restore a backup sealed with a retired key.

A sealed value is text, `s1.<key id>.<base64 of nonce + ciphertext>`: the key id (12 hex
digits of a hash of the key, never the key) says which key opens it. Each value is sealed
with its context (table, session, field) as associated data: a value copied into another
session's row or another field does not open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import tempfile
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "s1."
ENV = "WIZARD_DATA_KEY"
FILE_NAME = "data_key"
ID_LENGTH = 12
_NONCE = 12  # 96 bits, random per value: AES-GCM's standard nonce
_SHAPE = re.compile(r"s1\.([0-9a-f]{%d})\." % ID_LENGTH)
# In SQL: GLOB, unlike LIKE, minds case.
SQL_SEALED = "GLOB 's1.*'"


class KeyProblem(Exception):
    """The keys cannot be found or read, or a sealed value does not open with them."""


def new_key() -> str:
    """A fresh 256-bit key as text (URL-safe base64)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"wizard data key\0" + key).hexdigest()[:ID_LENGTH]


def sealed_with(value: str) -> str | None:
    """The key id a sealed value names, or None for a value that is not sealed."""
    found = _SHAPE.match(value)
    return found.group(1) if found else None


def parse(text: str, where: str) -> list[bytes]:
    """Keys from the text of the file or variable; KeyProblem naming `where` and the entry."""
    keys = []
    entries = [e.strip() for line in text.splitlines() for e in line.split(",")]
    for n, entry in enumerate((e for e in entries if e and not e.startswith("#")), 1):
        try:
            key = base64.urlsafe_b64decode(entry.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            key = b""
        if len(key) != 32:
            raise KeyProblem(f"{where}: key {n} is not a key made by `wizard rotate-key` "
                             "(32 bytes in URL-safe base64)")
        keys.append(key)
    if not keys:
        raise KeyProblem(f"{where} holds no key")
    return keys


class Keyring:
    """The keys of one database. Reads its file again when the file changes (`wizard
    rotate-key` run beside a live server): `refresh` is called at the start of every write
    transaction, so a value sealed after the file changed is sealed with its first key."""

    def __init__(self, file: Path | None, text: str | None = None, where: str = ""):
        self.file = file
        self._where = where or (f"the file {file}" if file else f"the environment variable {ENV}")
        self._lock = threading.Lock()
        self._seen: tuple | None = None
        self._state: tuple = ("", {}, [])
        if file is None:
            self._use(parse(text or "", ENV))
        else:
            self.refresh()

    @property
    def where(self) -> str:
        return self._where

    def _use(self, keys: list[bytes]) -> None:
        # A key this process has loaded still opens after it leaves the file (until a
        # restart): a value read just before a rotation ended is opened just after it.
        ring = {**self._state[1], **{key_id(key): AESGCM(key) for key in keys}}
        # One assignment: threads sharing this keyring see the old state or the new one.
        self._state = (key_id(keys[0]), ring, [key_id(key) for key in keys])

    def refresh(self) -> None:
        if self.file is None:
            return
        try:
            info = os.stat(self.file)
            seen = (info.st_ino, info.st_mtime_ns, info.st_ctime_ns, info.st_size)
            if seen == self._seen:
                return
            if info.st_mode & 0o077:
                raise KeyProblem(f"the data key file {self.file} can be read by others "
                                 f"(mode {info.st_mode & 0o777:o}): chmod 600 it")
            with self._lock:
                if seen != self._seen:
                    self._use(parse(self.file.read_text(), str(self.file)))
                    self._seen = seen
        except OSError as exc:
            raise KeyProblem(f"cannot read the data key file {self.file}: {exc}") from exc

    @property
    def current(self) -> str:
        """The id of the key that seals."""
        return self._state[0]

    @property
    def ids(self) -> list[str]:
        """The keys configured now (the file's or the variable's), the first sealing."""
        return list(self._state[2])

    def opens(self, kid: str) -> bool:
        return kid in self._state[1]

    def seal(self, text: str, context: str) -> str:
        current, ring, _ids = self._state
        nonce = os.urandom(_NONCE)
        box = ring[current].encrypt(nonce, text.encode(), context.encode())
        return f"{PREFIX}{current}.{base64.b64encode(nonce + box).decode()}"

    def open(self, value: str, context: str) -> str:
        kid = sealed_with(value)
        if kid is None:
            raise KeyProblem(f"{context}: the value is not sealed")
        aead = self._state[1].get(kid)
        if aead is None:
            self.refresh()  # the file may have gained the key since
            aead = self._state[1].get(kid)
        if aead is None:
            raise KeyProblem(f"{context}: sealed with key {kid}, which {self.where} lacks")
        try:
            box = base64.b64decode(value[len(PREFIX) + ID_LENGTH + 1:], validate=True)
            return aead.decrypt(box[:_NONCE], box[_NONCE:], context.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise KeyProblem(f"{context}: the sealed value does not open (altered, or "
                             "moved from another row)") from exc


_rings: dict[tuple, Keyring] = {}
_rings_lock = threading.Lock()


def key_file(database: str | Path) -> Path:
    return Path(database).resolve().parent / FILE_NAME


def in_memory(database: str | Path) -> bool:
    return str(database) in ("", ":memory:")


def keyring(database: str | Path, create: bool) -> Keyring | None:
    """The keys of the database at `database` (one Keyring per source, shared by threads).
    With the file missing: a new key is made when `create`, else None."""
    text = os.environ.get(ENV)
    if str(database).startswith("file:"):
        raise KeyProblem(f"{database}: give the database as a path, not an SQLite URI (the "
                         "key file is looked for beside it)")
    if in_memory(database):
        # Gone with the process, like the database: a key of its own, never a file.
        return Keyring(None, new_key(), where="a key made for an in-memory database")
    if text is not None:
        source: tuple = ("env", text)
    else:
        source = ("file", key_file(database))
    with _rings_lock:
        ring = _rings.get(source)
        # A key file removed since (moved away, a new instance folder) is looked for again.
        if ring is not None and (ring.file is None or ring.file.exists()):
            ring.refresh()
            return ring
        if source[0] == "env":
            ring = Keyring(None, text)
        else:
            path = source[1]
            if not path.exists():
                if not create:
                    return None
                write_key_file(path, [new_key()], replace=False, like=Path(database))
            ring = Keyring(path)
        _rings[source] = ring
        return ring


def write_key_file(path: Path, keys: list[str], replace: bool, like: Path) -> None:
    """Write the keys (first: the one that seals) to `path`, readable by its owner only, on
    disk before it is used. Written whole to a temporary file, then linked into place: a
    reader never sees half a file, and with `replace` False two processes starting at once
    keep the first one's key (the other's link fails). Run as root (an upgrade, a rotation),
    the file gets the owner of `like` (the database, or the key file it replaces): the
    server's user must still read it."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        if os.geteuid() == 0:
            for owner in (path, like, path.parent):
                if owner.exists():
                    info = owner.stat()
                    os.fchown(fd, info.st_uid, info.st_gid)
                    break
        with os.fdopen(fd, "w") as handle:
            handle.write("".join(f"{key}\n" for key in keys))
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temp, path)
        else:
            try:
                os.link(temp, path)
            except FileExistsError:
                pass
    finally:
        Path(temp).unlink(missing_ok=True)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
