"""The only module that speaks SQL: schema migrations, flow versions, sessions, answers, audit.

One SQLite file, opened per request (never at import time: gunicorn forks). WAL lets readers
go on while one writer writes; every write takes the lock up front with BEGIN IMMEDIATE, because
a deferred transaction that reads and then writes fails at once with "database is locked"
whatever the busy timeout.
"""

from __future__ import annotations

import datetime
import json
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from . import sealing
from .flow.model import Flow  # for types only

BUSY_TIMEOUT_MS = 10_000

migrations = Migrations("wizard")


@migrations()
def m001_base(db: Database) -> None:
    db.execute("""
        CREATE TABLE flow_versions (
            id INTEGER PRIMARY KEY,
            flow_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            source TEXT NOT NULL,          -- the exact file text that was published
            published_at TEXT NOT NULL,
            UNIQUE (flow_id, version)
        )""")
    db.execute("""
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            flow_id TEXT NOT NULL,
            flow_version INTEGER NOT NULL,   -- pinned: moved forward only by a migration
            locale TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'completed', 'deleted', 'expired')),
            revision INTEGER NOT NULL DEFAULT 0,  -- bumped by every save: detects conflicts
            resume_salt TEXT NOT NULL,       -- with the app secret, makes the resume code
            resume_hash TEXT NOT NULL UNIQUE,  -- HMAC of the resume code, for look-up
            pin_hash TEXT,                   -- HMAC of the family's PIN, when they chose one
            consent_version TEXT NOT NULL,   -- PIPL Art. 31: which consent text was agreed to
            consent_at TEXT NOT NULL,
            last_step TEXT,                  -- where the family stopped, to resume there
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            FOREIGN KEY (flow_id, flow_version) REFERENCES flow_versions (flow_id, version)
        )""")
    db.execute("""
        CREATE TABLE session_tokens (
            token_hash TEXT PRIMARY KEY,     -- sha256 of a device's cookie token; never the token
            session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            created_at TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL,               -- what is rate-limited: a code's hash or a client
            at REAL NOT NULL                 -- unix time
        )""")
    db.execute("CREATE INDEX attempts_key ON attempts (key, at)")
    db.execute("""
        CREATE TABLE answers (
            session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            field_id TEXT NOT NULL,
            value TEXT NOT NULL,            -- JSON
            revision INTEGER NOT NULL,      -- the session revision that wrote it
            entered_by TEXT NOT NULL,       -- 'family' or 'volunteer:<id>'
            entered_at TEXT NOT NULL,
            PRIMARY KEY (session_id, field_id)
        )""")
    db.execute("""
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            session_id INTEGER,             -- kept after deletion: the log outlives the data
            detail TEXT NOT NULL DEFAULT '{}'
        )""")
    db.execute("CREATE INDEX audit_log_session ON audit_log (session_id, at)")
    db.execute("CREATE INDEX sessions_updated ON sessions (status, updated_at)")


@migrations()
def m002_drafts(db: Database) -> None:
    # What a family typed on a page with mistakes, kept for the redirect that shows the page
    # again (post/redirect/get). It holds answers (a child's name and ID number), so it lives
    # here, deleted when shown, never in a cookie.
    db.execute("""
        CREATE TABLE drafts (
            session_id INTEGER PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
            step_id TEXT NOT NULL,
            raw TEXT NOT NULL,               -- JSON: the page's fields as typed
            created_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX session_tokens_session ON session_tokens (session_id)")


@migrations()
def m003_sync(db: Database) -> None:
    # A flow started offline: the phone's start id (hashed, so a copy of the database cannot
    # be used to claim the session) makes a retried start find the session it already made;
    # the phone's clock at consent is kept as claimed, never as consent_at (the server's).
    db.execute("ALTER TABLE sessions ADD COLUMN started_offline INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE sessions ADD COLUMN consent_claimed_at TEXT")
    db.execute("ALTER TABLE sessions ADD COLUMN start_hash TEXT")
    # NULLs are distinct in a unique index: sessions started online have none.
    db.execute("CREATE UNIQUE INDEX sessions_start ON sessions (flow_id, start_hash)")
    # Every change a phone replayed, with what came of it: a change seen again (a retry after
    # a dropped response, a queue sent twice) gets the same answer and changes nothing.
    db.execute("""
        CREATE TABLE sync_changes (
            session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            change_id TEXT NOT NULL,         -- made by the phone
            step_id TEXT NOT NULL,
            result TEXT NOT NULL,            -- JSON: what the phone was told
            claimed_at TEXT,                 -- the phone's clock, as claimed: a record only
            received_at TEXT NOT NULL,       -- the server's clock
            PRIMARY KEY (session_id, change_id)
        )""")


@migrations()
def m004_answer_device(db: Database) -> None:
    # Which device wrote each answer: the SHA-256 of its cookie token (as in session_tokens),
    # NULL when not known (answers saved before this migration, or by a save naming no
    # device). A phone queues several changes offline with one base_revision (it cannot know
    # the server's next one): its own later edit of an answer is not a conflict with its
    # earlier one.
    db.execute("ALTER TABLE answers ADD COLUMN device TEXT")
    # When the family last confirmed their answers (server time), for the phone's copy. Sessions
    # completed before this migration get the best time known: their last change.
    db.execute("ALTER TABLE sessions ADD COLUMN completed_at TEXT")
    db.execute("UPDATE sessions SET completed_at = updated_at WHERE status = 'completed'")


@migrations()
def m005_helpers(db: Database) -> None:
    # Volunteers, staff and admins. The password is hashed by Werkzeug (scrypt); the login is
    # matched without regard to case.
    db.execute("""
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            login TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT NOT NULL,              -- shown to the families they help
            org TEXT NOT NULL,               -- likewise
            role TEXT NOT NULL CHECK (role IN ('volunteer', 'staff', 'admin')),
            language TEXT NOT NULL,          -- their interface language
            password_hash TEXT NOT NULL,
            must_change INTEGER NOT NULL DEFAULT 0,  -- set by an admin's reset
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            last_sign_in TEXT
        )""")
    # One row per sign-in: the cookie holds a random id whose hash is here, so signing out,
    # a disabled account or a reset ends it on the server, at once, on every phone.
    db.execute("""
        CREATE TABLE sign_ins (
            token_hash TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users (id),
            started_at TEXT NOT NULL,        -- the absolute timeout counts from here
            seen_at TEXT NOT NULL,           -- the idle timeout from here
            ended_at TEXT
        )""")
    db.execute("CREATE INDEX sign_ins_user ON sign_ins (user_id, ended_at)")
    # A family's consent to one helper: offered with a one-time code (kind 'code'), or given
    # on the helper's phone when the helper started the session for them (kind 'started').
    db.execute("""
        CREATE TABLE grants (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            user_id INTEGER REFERENCES users (id),  -- NULL until a helper enters the code
            label TEXT NOT NULL,             -- what the family asked to be called
            kind TEXT NOT NULL CHECK (kind IN ('code', 'started')),
            guardian_present INTEGER NOT NULL DEFAULT 0,  -- may confirm on the family's behalf
            code_hash TEXT UNIQUE,           -- HMAC of the code; NULL once used or withdrawn
            code_expires_at TEXT,
            created_at TEXT NOT NULL,
            accepted_at TEXT,
            expires_at TEXT,                 -- access ends by itself then
            ended_at TEXT,
            ended_by TEXT                    -- 'family', 'helper', 'hand-over', 'replaced'
        )""")
    db.execute("CREATE INDEX grants_user ON grants (user_id, ended_at)")
    db.execute("CREATE INDEX grants_session ON grants (session_id)")
    # Notes per step that only helpers see (a family's data: erased with their answers).
    db.execute("""
        CREATE TABLE helper_notes (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            step_id TEXT NOT NULL,
            user_id INTEGER NOT NULL REFERENCES users (id),
            text TEXT NOT NULL,
            at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX helper_notes_session ON helper_notes (session_id, step_id)")
    # The admin's audit page filters by time and by actor.
    db.execute("CREATE INDEX audit_log_at ON audit_log (at)")
    db.execute("CREATE INDEX audit_log_actor ON audit_log (actor, at)")


@migrations()
def m006_helper_phones(db: Database) -> None:
    # A helper's phone keeping a family's walkthrough for use without signal holds a device
    # token like a family's, bound to the helper's grant: it opens nothing once the grant
    # has ended (see sessions.from_cookie).
    db.execute("ALTER TABLE session_tokens ADD COLUMN grant_id INTEGER REFERENCES grants (id)")
    db.execute("CREATE INDEX session_tokens_grant ON session_tokens (grant_id)")
    # Set when the helper signs out, changes or loses their password, or is disabled: the
    # phone may now be in other hands. Kept (not deleted) so the phone is told to let go
    # of its copy of the family's answers.
    db.execute("ALTER TABLE session_tokens ADD COLUMN revoked INTEGER NOT NULL DEFAULT 0")
    # A walkthrough a helper handed over: the family's first resume gives it a new code.
    db.execute("ALTER TABLE sessions ADD COLUMN handed_over INTEGER NOT NULL DEFAULT 0")


@migrations()
def m007_studio(db: Database) -> None:
    # Staff's studio. A flow's own settings (how long families' answers are kept), and the one
    # draft staff edit before publishing it as a new version. `revision` is bumped by every
    # save: two staff editing one draft cannot overwrite each other silently.
    db.execute("""
        CREATE TABLE flows (
            id TEXT PRIMARY KEY,
            retention_days INTEGER,          -- NULL: the site's SESSION_IDLE_DAYS
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL         -- 'cli' or 'user:<id>'
        )""")
    db.execute("""
        CREATE TABLE flow_drafts (
            flow_id TEXT PRIMARY KEY,
            source TEXT NOT NULL,            -- YAML text, perhaps with problems
            revision INTEGER NOT NULL DEFAULT 1,
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL
        )""")
    db.execute("ALTER TABLE flow_versions ADD COLUMN published_by TEXT")
    # What changed since the version before (JSON list from flow/diff.py), for the studio.
    db.execute("ALTER TABLE flow_versions ADD COLUMN changes TEXT")
    # A session moved to a newer version: what the family is asked to check again, and every
    # answer not carried over (the family's data: erased with their answers).
    db.execute("""
        CREATE TABLE session_moves (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            from_version INTEGER NOT NULL,
            to_version INTEGER NOT NULL,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            to_check TEXT NOT NULL,          -- JSON: [{step, field, reason}]
            kept TEXT NOT NULL,              -- JSON: {field id: value} not carried over
            checked_at TEXT                  -- when the family confirmed after the move
        )""")
    db.execute("CREATE INDEX session_moves_session ON session_moves (session_id)")
    # The dashboard's figures, kept as they happen (never read from logs): the kind of device
    # a session started on, and the furthest step (its place in the flow's order) it saved.
    db.execute("ALTER TABLE sessions ADD COLUMN device_kind TEXT")
    db.execute("ALTER TABLE sessions ADD COLUMN furthest INTEGER NOT NULL DEFAULT -1")
    db.execute("CREATE INDEX sessions_version ON sessions (flow_id, flow_version, status)")
    # Answers refused with a mistake, counted per field (no value, no session): which
    # questions families find hard.
    db.execute("""
        CREATE TABLE field_errors (
            flow_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            step_id TEXT NOT NULL,
            field_id TEXT NOT NULL,
            locale TEXT NOT NULL,
            device_kind TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (flow_id, version, field_id, locale, device_kind)
        )""")


@migrations()
def m008_draft_serial(db: Database) -> None:
    # A flow's drafts share one count of revisions: a new draft (after a publish or a discard)
    # goes on from the last number, so an editor page left open on the old draft can never
    # match the new one's revision and overwrite it.
    db.execute("ALTER TABLE flows ADD COLUMN draft_serial INTEGER NOT NULL DEFAULT 0")
    db.execute("UPDATE flows SET draft_serial = COALESCE((SELECT revision FROM flow_drafts "
               "WHERE flow_id = flows.id), 0)")


@migrations()
def m009_indexes(db: Database) -> None:
    # Every query whose cost grows with the data goes through an index (checked with EXPLAIN
    # QUERY PLAN by tests/unit/test_query_plans.py). Old rate-limit attempts are deleted on
    # every resume attempt; drafts, sign-ins and codes that ran out by the daily purge.
    db.execute("CREATE INDEX attempts_at ON attempts (at)")
    db.execute("CREATE INDEX drafts_created ON drafts (created_at)")
    db.execute("CREATE INDEX sign_ins_started ON sign_ins (started_at)")
    # Only codes still waiting: once used, withdrawn or run out the hash is NULL.
    db.execute("CREATE INDEX grants_code_expiry ON grants (code_expires_at) "
               "WHERE code_hash IS NOT NULL")
    # Retention is per flow: completed sessions of one flow confirmed before a time.
    db.execute("CREATE INDEX sessions_retention ON sessions (flow_id, status, completed_at)")
    # The admin's audit page filters by action too (actor, session and time have theirs),
    # newest first by id: an index on the action alone keeps each action's entries in id
    # order, so the page reads back from the newest and stops at its limit.
    db.execute("CREATE INDEX audit_log_action ON audit_log (action)")


@migrations()
def m010_sealed(db: Database) -> None:
    # What families typed is sealed from here on (sealing.py): the values already stored are
    # sealed by Store.migrate in the same transaction, with the database's key (a migration
    # is given only the database). Nothing changes in the schema.
    pass


# The columns that hold what a family typed or what is said about them, sealed at rest
# (sealing.py), each with the columns that make a value's context: a sealed value opens only
# in its own row. Values move between rows only through the Store, which seals them again.
# Sealed values are JSON; the last item says whether the column held JSON before m010.
SEALED = (
    ("answers", "value", ("session_id", "field_id"), True),
    ("drafts", "raw", ("session_id",), True),
    ("sync_changes", "result", ("session_id", "change_id"), True),  # conflicts hold answers
    ("helper_notes", "text", ("session_id",), False),
    ("session_moves", "kept", ("session_id",), True),
    ("grants", "label", ("session_id",), False),  # what the family asked to be called
)


def _context(table: str, *keys: Any) -> str:
    return "/".join((table, *map(str, keys)))


class Conflict(Exception):
    """Answers changed by another save since the page was opened (another device saved first):
    `changed` maps each such field to the value now stored."""

    def __init__(self, current: int, changed: Mapping[str, Any]):
        super().__init__(f"changed since: {', '.join(changed)}")
        self.current = current
        self.changed = dict(changed)


class DraftClash(Exception):
    """A flow draft saved by someone else since the editor opened it: `current` is its row
    (revision, updated_by, updated_at), or None when it is gone (published or thrown away)."""

    def __init__(self, current: dict | None):
        super().__init__("the draft changed since it was opened")
        self.current = current


class VersionClash(Exception):
    """A flow version that was already published with different content."""


# The helper an audit entry's actor ('user:<id>') names, found by primary key: matched on
# 'user:' || u.id alone, the planner read every user for each entry (or worse, every entry
# of every user). The second condition keeps 'family', 'cli' and the like from matching.
_USER_OF_ACTOR = ("u.id = CAST(substr(a.actor, 6) AS INTEGER) "
                  "AND a.actor = 'user:' || u.id")


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _iso(unix_time: float) -> str:
    return datetime.datetime.fromtimestamp(unix_time, datetime.timezone.utc).isoformat(
        timespec="seconds")


_turns: dict[str, threading.Lock] = {}
_turns_lock = threading.Lock()


def _write_turn(path: Path) -> threading.Lock:
    """This process's lock for writes to the database at `path` (see Store.write)."""
    if sealing.in_memory(path):  # each connection has a database of its own
        return threading.Lock()
    key = os.path.realpath(path)
    with _turns_lock:
        return _turns.setdefault(key, threading.Lock())


def connect(path: str | Path) -> Database:
    """Open the database file with the settings every connection needs."""
    # Children's data: a new database (and so its -wal and -shm files, which SQLite makes
    # with the database's mode) is readable by its owner only, whatever the umask.
    if not sealing.in_memory(path):
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except OSError:  # there already; or no such folder, which sqlite3 reports below
            pass
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    # Deleted answers are overwritten with zeros, not left in free pages of the file: do not
    # rely on how this SQLite happened to be built.
    conn.execute("PRAGMA secure_delete = ON")
    return Database(conn)


class Store:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.db = connect(self.path)
        keys = sealing.keyring(self.path, create=False)
        if keys is None:
            # A new key for a database with sealed values would seal new ones beside values
            # nothing can open: say where the key was looked for instead.
            if self._holds_sealed():
                self.close()
                raise sealing.KeyProblem(
                    f"the database {self.path} holds sealed answers, and there is no key to "
                    f"open them: neither {sealing.ENV} nor the file "
                    f"{sealing.key_file(self.path)}. Put the key back (from where the "
                    "backups' keys are kept) and start again.")
            keys = sealing.keyring(self.path, create=True)
        self.keys = keys
        self._check_keys()

    def _holds_sealed(self) -> bool:
        tables = set(self.db.table_names())
        return any(self._one(f"SELECT 1 AS x FROM {table} WHERE {column} "
                             f"{sealing.SQL_SEALED} LIMIT 1")
                   for table, column, _keys, _json in SEALED if table in tables)

    def _check_keys(self) -> None:
        """The newest value of each sealed column opens with these keys: a wrong key (a typo
        in WIZARD_DATA_KEY, the old one after a rotation) is refused at start, before it seals
        new values beside ones it cannot open."""
        tables = set(self.db.table_names())
        for table, column, _keys, _json in SEALED:
            if table not in tables:
                continue
            row = self.db.execute(f"SELECT {column} FROM {table} ORDER BY rowid DESC LIMIT 1"
                                  ).fetchone()
            kid = sealing.sealed_with(row[0]) if row else None
            if kid is not None and not self.keys.opens(kid):
                self.close()
                raise sealing.KeyProblem(
                    f"the database {self.path} holds values sealed with key {kid}, which "
                    f"{self.keys.where} lacks (it has {', '.join(self.keys.ids)}): a wrong "
                    "or an old key. Give it the key the database was sealed with.")

    def _seal(self, value: Any, table: str, *keys: Any) -> str:
        """A value as JSON, sealed for its row (call inside a write transaction: the keys
        were refreshed as it began)."""
        return self.keys.seal(json.dumps(value, ensure_ascii=False), _context(table, *keys))

    def _open(self, sealed: str, table: str, *keys: Any) -> Any:
        return json.loads(self.keys.open(sealed, _context(table, *keys)))

    def close(self) -> None:
        self.db.conn.close()

    @contextmanager
    def write(self) -> Iterator[Database]:
        """One write transaction, taking the write lock at the start.

        The threads of one process take turns on a lock of their own first: one waiting for
        SQLite's lock sleeps in its busy handler (1, 2, 5 ... up to 100 ms a nap) and wakes
        late, while a thread waiting for a Python lock wakes the moment it is free. Under
        load, saved steps' p99 was most of a second (bench/load.py). Only the processes
        (gunicorn's workers) still meet at SQLite's lock."""
        turn = _write_turn(self.path)
        if not turn.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
            raise sqlite3.OperationalError("database is locked (waited for this process's "
                                           "other writes)")
        try:
            conn = self.db.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Holding the write lock: a key made by `wizard rotate-key` before this
                # began is the one that seals (its re-sealing passes wait for this lock).
                self.keys.refresh()
                yield self.db
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")
        finally:
            turn.release()

    def _rows(self, sql: str, params: Any = ()) -> list[dict]:
        """The rows of a query as dicts. Not sqlite-utils' query(), which wraps every read
        in a SAVEPOINT and its RELEASE (three statements for one; a step page runs a dozen
        reads)."""
        cursor = self.db.execute(sql, params)
        keys = [column[0] for column in cursor.description]
        return [dict(zip(keys, row)) for row in cursor]

    def _one(self, sql: str, params: Any = ()) -> dict | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    # ------------------------------------------------------------ schema

    def migrate(self) -> list[str]:
        """Apply pending migrations (safe when several processes start at once)."""
        with self.write():
            pending = [m.name for m in migrations.pending(self.db)]
            migrations.apply(self.db)
            self._owner_only()
            if "m010_sealed" in pending:
                # Everything stored before is plain, even a note that starts like a sealed
                # value ("s1.2 ...").
                for table, column, keys, was_json in SEALED:
                    after: int | None = 0
                    while after is not None:
                        _n, after, _ = self._reseal_some(table, column, keys, was_json, after,
                                                         plain=True)
        return pending

    def _owner_only(self) -> None:
        """Children's data: a database made before new ones were made owner-only (see
        connect) becomes so, with its -wal and -shm files, at the next `wizard init-db`
        (run by every `make serve` and upgrade)."""
        if sealing.in_memory(self.path):
            return
        for end in ("", "-wal", "-shm"):
            path = Path(f"{self.path}{end}")
            try:
                mode = path.stat().st_mode
                if mode & 0o077:
                    os.chmod(path, mode & 0o700)
            except OSError:  # gone meanwhile, or not ours: left as it is
                pass

    def _reseal_some(self, table: str, column: str, keys: tuple[str, ...], was_json: bool,
                     after: int, plain: bool = False, limit: int = 500
                     ) -> tuple[int, int | None, set[str]]:
        """Seal with the current key up to `limit` values of a column sealed with another key
        (or, with `plain`, every value: stored before m010), from the row after `after`
        (rowid). Returns (how many, the rowid to go on from or None at the end, the keys
        they were sealed with). The caller holds the write transaction."""
        if plain:
            rows = list(self.db.execute(
                f"SELECT rowid, {column}, {', '.join(keys)} FROM {table} WHERE rowid > ? "
                "ORDER BY rowid LIMIT ?", (after, limit)))
        else:
            rows = list(self.db.execute(
                f"SELECT rowid, {column}, {', '.join(keys)} FROM {table} WHERE rowid > ? "
                f"AND {column} NOT GLOB ? ORDER BY rowid LIMIT ?",
                (after, f"{sealing.PREFIX}{self.keys.current}.*", limit)))
        seen = set()
        for rowid, value, *context in rows:
            where = _context(table, *context)
            kid = None if plain else sealing.sealed_with(value)
            if kid is not None:
                seen.add(kid)
                text = self.keys.open(value, where)
            else:
                text = value if was_json else json.dumps(value, ensure_ascii=False)
            self.db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?",
                            (self.keys.seal(text, where), rowid))
        return len(rows), (rows[-1][0] if len(rows) == limit else None), seen

    def reseal(self) -> dict[str, int]:
        """Seal again, with the key that now seals, every value sealed with another key (and
        any not sealed): `wizard rotate-key`. In batches, each its own write transaction, so
        a running server waits at most a batch; passes repeat until one finds nothing, so a
        value a server sealed with the old key meanwhile is not missed. Returns how many
        values of each table were sealed again."""
        done = {table: 0 for table, *_rest in SEALED}
        passes = 0
        while True:
            found, kids = 0, set()
            for table, column, keys, was_json in SEALED:
                after: int | None = 0
                while after is not None:
                    with self.write():
                        n, after, seen = self._reseal_some(table, column, keys, was_json, after)
                    done[table] += n
                    found += n
                    kids |= seen
            passes += 1
            if not found:
                return done
            # Every write that began after the key file changed seals with the new key, so
            # a second pass finds nothing, unless a process runs with other keys (a server
            # not restarted with WIZARD_DATA_KEY=NEW,OLD): its values would be lost.
            if passes > 1 and kids - {self.keys.current}:
                raise sealing.KeyProblem(
                    f"a running process still seals with key {', '.join(sorted(kids))}: "
                    "restart the server with the new key first (and the old one after it), "
                    "then run this again")

    def health(self) -> dict:
        pending = [m.name for m in migrations.pending(self.db)]
        applied = [m.name for m in migrations.applied(self.db)]
        mode = self.db.execute("PRAGMA journal_mode").fetchone()[0]
        return {
            "ok": not pending and bool(applied),
            "migrations": applied,
            "pending": pending,
            "journal_mode": mode,
            "flows": self.db["flow_versions"].count if "flow_versions" in self.db.table_names()
            else 0,
        }

    # ------------------------------------------------------------ flow versions

    def publish_flow(self, flow: Flow) -> bool:
        """Store the exact source of a flow version. True when new, False when already there
        with the same text; VersionClash when that version was published with other text."""
        return self.publish_flows([flow])[0]

    def publish_flows(self, flows: list[Flow]) -> list[bool]:
        """Publish several flow versions in one transaction: all of them, or (on a
        VersionClash) none. One bool per flow: published now, or already there."""
        published = []
        with self.write():
            for flow in flows:
                row = self._one(
                    "SELECT source FROM flow_versions WHERE flow_id = ? AND version = ?",
                    (flow.id, flow.version),
                )
                if row is not None:
                    if row["source"] != flow.source:
                        raise VersionClash(
                            f"{flow.id} version {flow.version} is already published with "
                            "different content; give the changed flow a new version number")
                    published.append(False)
                    continue
                self.db.execute(
                    "INSERT INTO flow_versions (flow_id, version, source, published_at, "
                    "published_by) VALUES (?, ?, ?, ?, 'cli')",
                    (flow.id, flow.version, flow.source, now()),
                )
                self._ensure_flow(flow.id, "cli")
                published.append(True)
        return published

    def flow_source(self, flow_id: str, version: int | None = None) -> tuple[int, str] | None:
        """(version, source) of a flow: the given version, or the latest."""
        if version is None:
            row = self._one("SELECT version, source FROM flow_versions WHERE flow_id = ? "
                            "ORDER BY version DESC LIMIT 1", (flow_id,))
        else:
            row = self._one("SELECT version, source FROM flow_versions WHERE flow_id = ? "
                            "AND version = ?", (flow_id, version))
        return (row["version"], row["source"]) if row else None

    def latest_version(self, flow_id: str) -> int | None:
        row = self._one("SELECT MAX(version) AS v FROM flow_versions WHERE flow_id = ?",
                        (flow_id,))
        return row["v"] if row else None

    def latest_versions(self) -> list[dict]:
        """flow_id and newest version of every published flow."""
        return self._rows("SELECT flow_id, MAX(version) AS version FROM flow_versions "
                          "GROUP BY flow_id ORDER BY flow_id")

    # ------------------------------------------------------------ sessions and answers

    def create_session(self, token_hash: str | None, flow_id: str, version: int, locale: str, *,
                       resume_salt: str, resume_hash: str, consent_version: str,
                       start_hash: str | None = None, consent_claimed_at: str | None = None,
                       started_offline: bool = False, device_kind: str | None = None) -> int:
        """A new session with this device's token; returns its id.

        With start_hash (a flow started offline, see the sync API): if a session was already
        made from that start (the phone retried after the answer was lost), this device's
        token is added to it instead, so one start never makes two sessions."""
        stamp = now()
        with self.write():
            found = None if start_hash is None else self._one(
                "SELECT id FROM sessions WHERE flow_id = ? AND start_hash = ?",
                (flow_id, start_hash))
            if found is not None:
                session_id = found["id"]
            else:
                session_id = self.db.execute(
                    "INSERT INTO sessions (flow_id, flow_version, locale, resume_salt, "
                    "resume_hash, consent_version, consent_at, consent_claimed_at, "
                    "started_offline, start_hash, created_at, updated_at, device_kind) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (flow_id, version, locale, resume_salt, resume_hash, consent_version, stamp,
                     consent_claimed_at, int(started_offline), start_hash, stamp, stamp,
                     device_kind),
                ).lastrowid
            if token_hash is not None:  # None: started by a helper, for the family to open later
                self.db.execute("INSERT INTO session_tokens (token_hash, session_id, "
                                "created_at) VALUES (?, ?, ?)", (token_hash, session_id, stamp))
        return session_id

    def add_token(self, session_id: int, token_hash: str, detail: Mapping | None = None) -> None:
        """Another device (resumed with the code) gets its own token for the same session; the
        audit log records it, since whoever holds the code and the birth date can now read the
        answers."""
        with self.write():
            self.db.execute("INSERT INTO session_tokens (token_hash, session_id, created_at) "
                            "VALUES (?, ?, ?)", (token_hash, session_id, now()))
            self._audit("resume", "new-device", session_id, detail or {})

    def remove_token(self, token_hash: str) -> None:
        """One device lets go of a session ("Forget this phone"); the others keep theirs."""
        with self.write():
            self.db.execute("DELETE FROM session_tokens WHERE token_hash = ?", (token_hash,))

    def session(self, session_id: int) -> dict | None:
        return self._one("SELECT * FROM sessions WHERE id = ?", (session_id,))

    def session_by_token(self, token_hash: str) -> dict | None:
        """The session a device token opens, with `helper_grant`: the grant a helper's token
        is bound to (None for a family's own device), and `revoked` (see m006)."""
        return self._one("SELECT s.*, t.grant_id AS helper_grant, t.revoked FROM sessions s "
                         "JOIN session_tokens t ON t.session_id = s.id WHERE t.token_hash = ?",
                         (token_hash,))

    def session_by_start(self, flow_id: str, start_hash: str) -> dict | None:
        """The session made from an offline start (its id hashed), or None."""
        return self._one("SELECT * FROM sessions WHERE flow_id = ? AND start_hash = ?",
                         (flow_id, start_hash))

    def session_by_resume(self, resume_hash: str) -> dict | None:
        return self._one("SELECT * FROM sessions WHERE resume_hash = ?", (resume_hash,))

    def set_pin(self, session_id: int, pin_hash: str) -> None:
        with self.write():
            self.db.execute("UPDATE sessions SET pin_hash = ?, updated_at = ? WHERE id = ?",
                            (pin_hash, now(), session_id))

    def touch(self, session_id: int, last_step: str | None = None,
              locale: str | None = None) -> None:
        """Note where the family is (and in which language) without a new revision."""
        with self.write():
            self.db.execute(
                "UPDATE sessions SET last_step = COALESCE(?, last_step), "
                "locale = COALESCE(?, locale), updated_at = ? WHERE id = ?",
                (last_step, locale, now(), session_id))

    def expire_idle(self, before: str, session_id: int | None = None) -> int:
        """Erase the answers of sessions idle since before `before` (ISO time): all of them, or
        just one; returns how many. Shortest retention: an abandoned session's answers are
        erased as soon as anyone touches it, and `wizard purge` erases the rest."""
        only = "" if session_id is None else " AND id = ?"
        params = (before,) if session_id is None else (before, session_id)
        with self.write():
            ids = [r["id"] for r in self._rows(
                "SELECT id FROM sessions WHERE status IN ('active', 'completed') "
                "AND updated_at < ?" + only, params)]
            for session_id in ids:
                self._erase(session_id)
                self.db.execute("UPDATE sessions SET status = 'expired' WHERE id = ?",
                                (session_id,))
        return len(ids)

    def _erase(self, session_id: int) -> None:
        """What a family entered, gone: answers, a page's unsaved input, replayed changes, the
        PIN."""
        self.db.execute("DELETE FROM answers WHERE session_id = ?", (session_id,))
        self.db.execute("DELETE FROM drafts WHERE session_id = ?", (session_id,))
        # A replayed change's result can hold answers (both sides of a conflict).
        self.db.execute("DELETE FROM sync_changes WHERE session_id = ?", (session_id,))
        self.db.execute("DELETE FROM helper_notes WHERE session_id = ?", (session_id,))
        # What a version move did not carry over is the family's data too.
        self.db.execute("DELETE FROM session_moves WHERE session_id = ?", (session_id,))
        self.db.execute("UPDATE sessions SET pin_hash = NULL WHERE id = ?", (session_id,))
        # No helper keeps access to a session whose answers are gone.
        self.db.execute("UPDATE grants SET ended_at = ?, ended_by = 'erased', code_hash = NULL "
                        "WHERE session_id = ? AND ended_at IS NULL", (now(), session_id))

    def _past_retention(self, at: float) -> list[int]:
        """Completed sessions of flows with a retention period, confirmed longer ago."""
        # One look-up per flow, with its own cut-off: a bound that comes from a joined row
        # cannot narrow the index (the planner read every completed session instead).
        flows = self._rows("SELECT id, retention_days FROM flows "
                           "WHERE retention_days IS NOT NULL")
        return [r["id"] for flow in flows for r in self._rows(
            "SELECT id FROM sessions WHERE flow_id = ? AND status = 'completed' "
            "AND completed_at < ?", (flow["id"], _iso(at - flow["retention_days"] * 86400)))]

    def purge_preview(self, idle_before: str, at: float) -> dict[str, int]:
        """What `purge` would erase now, erasing nothing (`wizard purge --dry-run`)."""
        idle = self._one("SELECT COUNT(*) AS n FROM sessions WHERE status IN "
                         "('active', 'completed') AND updated_at < ?", (idle_before,))["n"]
        return {"expired sessions": idle, "past retention": len(self._past_retention(at))}

    def purge(self, idle_before: str, at: float) -> dict[str, int]:
        """The daily clean-up (`wizard purge`): erase idle sessions' answers and those of
        completed sessions past their flow's retention period, and remove what no longer
        serves a purpose. Returns how many rows of each kind went."""
        expired = self.expire_idle(idle_before)
        with self.write():
            past = self._past_retention(at)
            for session_id in past:
                self._erase(session_id)
                self.db.execute("UPDATE sessions SET status = 'expired' WHERE id = ?",
                                (session_id,))
            removed = {
                "expired sessions": expired,
                "past retention": len(past),
                # An ended session's devices cannot open it again: their tokens only say
                # that a phone once held it.
                "device tokens of ended sessions": self.db.execute(
                    "DELETE FROM session_tokens WHERE session_id IN (SELECT id FROM sessions "
                    "WHERE status IN ('deleted', 'expired'))").rowcount,
                # A draft waits for one redirect; one left over was never shown again.
                "unsent page drafts": self.db.execute(
                    "DELETE FROM drafts WHERE created_at < ?",
                    (_iso(at - 86400),)).rowcount,
                # The longest rate-limit window is a day.
                "old resume attempts": self.db.execute(
                    "DELETE FROM attempts WHERE at < ?", (at - 86400,)).rowcount,
                # A sign-in lasts at most HELPER_MAX_HOURS (12): one two days old is over
                # (the audit log keeps the sign-in and sign-out themselves).
                "helpers' old sign-ins": self.db.execute(
                    "DELETE FROM sign_ins WHERE started_at < ?",
                    (_iso(at - 2 * 86400),)).rowcount,
                # A code that ran out opens nothing; its hash need not stay.
                "helper codes that ran out": self.db.execute(
                    "UPDATE grants SET code_hash = NULL WHERE code_hash IS NOT NULL "
                    "AND code_expires_at < ?", (_iso(at),)).rowcount,
            }
        return removed

    # ------------------------------------------------------------ drafts

    def keep_draft(self, session_id: int, step_id: str, raw: Mapping[str, Any],
                   checked: bool = True) -> None:
        """A page's typed values until the page is shown again: with their mistakes
        (checked), or just as typed (a language switch in the middle of a page)."""
        draft = {"raw": dict(raw), "checked": checked}
        with self.write():
            self.db.execute(
                "INSERT INTO drafts (session_id, step_id, raw, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (session_id) DO UPDATE SET step_id = excluded.step_id, "
                "raw = excluded.raw, created_at = excluded.created_at",
                (session_id, step_id, self._seal(draft, "drafts", session_id), now()))

    def take_draft(self, session_id: int, step_id: str) -> tuple[dict, bool] | None:
        """(typed values, whether to show their mistakes) for this page, removed as it is
        read (a reload shows the saved answers)."""
        find = "SELECT step_id, raw FROM drafts WHERE session_id = ?"
        if self._one(find, (session_id,)) is None:  # most pages: no write lock taken
            return None
        # Read again, opened and deleted in one transaction: with the keys of this moment.
        with self.write():
            row = self._one(find, (session_id,))
            if row is None:
                return None
            self.db.execute("DELETE FROM drafts WHERE session_id = ?", (session_id,))
            if row["step_id"] != step_id:
                return None
            draft = self._open(row["raw"], "drafts", session_id)
        return draft["raw"], draft["checked"]

    # ------------------------------------------------------------ rate limits

    def claim_attempt(self, limits: list[tuple[str, int, int]], at: float
                      ) -> tuple[int, list[int], int]:
        """Count earlier attempts and record this one in one transaction.

        limits: (key, how many, window in seconds). Returns (seconds to wait, [], 0) when a
        limit is reached (nothing recorded), else (0, ids of the recorded attempt rows, tries
        left after this one before some limit is reached)."""
        with self.write():
            wait, left = 0, None
            for key, limit, window in limits:
                row = self._one("SELECT COUNT(*) AS n, MIN(at) AS oldest FROM attempts "
                                "WHERE key = ? AND at >= ?", (key, at - window))
                if row["n"] >= limit:
                    wait = max(wait, int(row["oldest"] + window - at) + 1)
                left = min(limit - row["n"] - 1, left if left is not None else limit)
            if wait:
                return wait, [], 0
            keys = dict.fromkeys(key for key, _limit, _window in limits)  # one row per key
            ids = [self.db.execute("INSERT INTO attempts (key, at) VALUES (?, ?)",
                                   (key, at)).lastrowid for key in keys]
            self.db.execute("DELETE FROM attempts WHERE at < ?", (at - 86400,))
        return 0, ids, left or 0

    def forget_attempts(self, ids: list[int]) -> None:
        """A successful attempt does not count against the family."""
        with self.write():
            for attempt_id in ids:
                self.db.execute("DELETE FROM attempts WHERE id = ?", (attempt_id,))

    def answers(self, session_id: int) -> dict[str, Any]:
        return {
            row["field_id"]: self._open(row["value"], "answers", session_id, row["field_id"])
            for row in self._rows(
                "SELECT field_id, value FROM answers WHERE session_id = ?", (session_id,))
        }

    def answer_rows(self, session_id: int) -> list[dict]:
        """Answers with who entered them and when (value decoded)."""
        rows = self._rows(
            "SELECT field_id, value, revision, entered_by, entered_at FROM answers "
            "WHERE session_id = ? ORDER BY field_id", (session_id,))
        for row in rows:
            row["value"] = self._open(row["value"], "answers", session_id, row["field_id"])
        return rows

    def save_answers(
        self,
        session_id: int,
        values: Mapping[str, Any],
        entered_by: str = "family",
        seen_revision: int | None = None,
        device: str | None = None,
        reached: int | None = None,
    ) -> int:
        """Save one step's answers in one transaction; returns the session's new revision.

        None is stored as "asked, left empty" (so the page counts as answered). With
        seen_revision (the revision when the person opened the page), a save is refused with
        Conflict if another save since then, e.g. from the volunteer's phone, changed one of
        these answers to something else: the person is shown it instead of overwriting it.
        `device` (the hash of the saving device's token) is stored with each answer; with it,
        only answers another device wrote since seen_revision count: a device never conflicts
        with its own earlier saves. Without it, every save since seen_revision counts.
        """
        with self.write():
            return self._save(session_id, values, entered_by, seen_revision, device, reached)

    def _save(self, session_id: int, values: Mapping[str, Any], entered_by: str,
              seen_revision: int | None, device: str | None = None,
              reached: int | None = None) -> int:
        """save_answers inside a write transaction the caller holds (shared with
        apply_change, which records the change in the same transaction)."""
        stamp = now()
        row = self._one("SELECT revision, status FROM sessions WHERE id = ?", (session_id,))
        # An expired session's answers were erased: a late save must not bring some back.
        if row is None or row["status"] in ("deleted", "expired"):
            raise LookupError(f"no session {session_id}")
        # The answers stored for these fields, opened (JSON text): sealed values differ
        # every time, so what changed is found here, not by comparing columns in SQL.
        stored: dict[str, dict] = {}
        if values:
            marks = ", ".join("?" * len(values))
            for r in self._rows(
                    f"SELECT field_id, value, revision, device FROM answers "
                    f"WHERE session_id = ? AND field_id IN ({marks})", (session_id, *values)):
                r["text"] = self.keys.open(r["value"],
                                           _context("answers", session_id, r["field_id"]))
                stored[r["field_id"]] = r
        if seen_revision is not None:
            # An answer of unknown origin (NULL) counts as another device's.
            changed = {
                field_id: json.loads(r["text"]) for field_id, r in stored.items()
                if r["revision"] > seen_revision
                and (device is None or r["device"] is None or r["device"] != device)
                and json.loads(r["text"]) != values[field_id]
            }
            if changed:
                raise Conflict(row["revision"], changed)
        revision = row["revision"] + 1
        changed_rows = 0
        for field_id, value in values.items():
            text = json.dumps(value, ensure_ascii=False)
            # An answer saved again unchanged (a step is saved whole) keeps its revision and
            # author: it was not changed, so it can be no one's conflict.
            if field_id in stored and stored[field_id]["text"] == text:
                continue
            changed_rows += 1
            self.db.execute(
                "INSERT INTO answers (session_id, field_id, value, revision, entered_by, "
                "entered_at, device) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (session_id, field_id) "
                "DO UPDATE SET value = excluded.value, revision = excluded.revision, "
                "entered_by = excluded.entered_by, entered_at = excluded.entered_at, "
                "device = excluded.device",
                (session_id, field_id,
                 self.keys.seal(text, _context("answers", session_id, field_id)), revision,
                 entered_by, stamp, device))
        # `reached`: this step's place in the flow's order, for the dashboard's funnel.
        self.db.execute("UPDATE sessions SET revision = ?, updated_at = ?, "
                        "furthest = MAX(furthest, COALESCE(?, -1)) WHERE id = ?",
                        (revision, stamp, reached, session_id))
        if entered_by != "family" and row["status"] == "completed" and changed_rows:
            # The family confirmed other answers than these: they confirm again (a helper
            # never confirms for them by changing answers after).
            self.db.execute("UPDATE sessions SET status = 'active', completed_at = NULL "
                            "WHERE id = ?", (session_id,))
        return revision

    # ------------------------------------------------------------ replayed changes (sync API)

    def _recorded(self, session_id: int, change_id: str) -> dict | None:
        row = self._one("SELECT result FROM sync_changes WHERE session_id = ? AND change_id = ?",
                        (session_id, change_id))
        return None if row is None else {
            **self._open(row["result"], "sync_changes", session_id, change_id), "replayed": True}

    def _record(self, session_id: int, change_id: str, step_id: str, result: Mapping,
                claimed_at: str | None) -> None:
        self.db.execute(
            "INSERT INTO sync_changes (session_id, change_id, step_id, result, claimed_at, "
            "received_at) VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, change_id, step_id,
             self._seal(dict(result), "sync_changes", session_id, change_id), claimed_at, now()))

    def change_result(self, session_id: int, change_id: str) -> dict | None:
        """What a change seen before came to (with "replayed": true), or None."""
        return self._recorded(session_id, change_id)

    def record_change(self, session_id: int, change_id: str, step_id: str, result: Mapping,
                      claimed_at: str | None = None) -> dict:
        """Record a change that saved nothing (refused, skipped, in conflict). Returns
        `result`, or, when the same change was recorded meanwhile (the phone sent its queue
        twice at once), what that one came to."""
        with self.write():
            earlier = self._recorded(session_id, change_id)
            if earlier is not None:
                return earlier
            self._record(session_id, change_id, step_id, result, claimed_at)
        return dict(result)

    def apply_change(self, session_id: int, change_id: str, step_id: str,
                     values: Mapping[str, Any], seen_revision: int | None,
                     claimed_at: str | None = None, extra: Mapping | None = None,
                     entered_by: str = "family", device: str | None = None,
                     move_last_step: bool = True, reached: int | None = None) -> dict:
        """Save a step's answers from a phone's queue and record the change, in one
        transaction: a crash can never save without recording (the retry would save again)
        or record without saving (the answers would be lost). Returns
        {"status": "applied", "revision": n, **extra}; a change recorded before returns what
        it came to then, with "replayed": true, and saves nothing. Raises Conflict (nothing
        saved or recorded) like save_answers (`device` as there), and LookupError for an
        ended session."""
        with self.write():
            earlier = self._recorded(session_id, change_id)
            if earlier is not None:
                return earlier
            revision = self._save(session_id, values, entered_by, seen_revision, device,
                                  reached)
            # Where the family was on the phone: where the step pages will take them (not
            # where their helper was).
            if move_last_step:
                self.db.execute("UPDATE sessions SET last_step = ? WHERE id = ?",
                                (step_id, session_id))
            result = {"status": "applied", "revision": revision, **(extra or {})}
            self._record(session_id, change_id, step_id, result, claimed_at)
        return result

    def complete_change(self, session_id: int, change_id: str, claimed_at: str | None = None
                        ) -> dict:
        """Mark the session completed ("Confirm answers" pressed on the phone) and record the
        change, in one transaction; a change recorded before returns what it came to."""
        with self.write():
            earlier = self._recorded(session_id, change_id)
            if earlier is not None:
                return earlier
            stamp = now()
            self.db.execute("UPDATE sessions SET status = 'completed', updated_at = ?, "
                            "completed_at = ? WHERE id = ? AND status IN ('active', 'completed')",
                            (stamp, stamp, session_id))
            self._checked_after_move(session_id, stamp)
            result = {"status": "completed"}
            self._record(session_id, change_id, "", result, claimed_at)
        return result

    def set_status(self, session_id: int, status: str) -> None:
        """A new status; "completed" also notes when (the last time the family confirmed)."""
        stamp = now()
        with self.write():
            self.db.execute(
                "UPDATE sessions SET status = ?, updated_at = ?, completed_at = CASE "
                "WHEN ? = 'completed' THEN ? ELSE completed_at END WHERE id = ?",
                (status, stamp, status, stamp, session_id))
            if status == "completed":
                self._checked_after_move(session_id, stamp)

    def delete_session(self, session_id: int, actor: str = "family") -> None:
        """Erase a family's answers (PIPL deletion on request); the session row stays as a
        tombstone so its cookie gets a clear message, and the audit log records who did it."""
        with self.write():
            self._erase(session_id)
            self.db.execute("UPDATE sessions SET status = 'deleted', updated_at = ? "
                            "WHERE id = ?", (now(), session_id))
            self._audit(actor, "delete", session_id, {})

    # ------------------------------------------------------------ audit log

    def _audit(self, actor: str, action: str, session_id: int | None, detail: Mapping) -> None:
        self.db.execute(
            "INSERT INTO audit_log (at, actor, action, session_id, detail) VALUES (?, ?, ?, ?, ?)",
            (now(), actor, action, session_id, json.dumps(dict(detail), ensure_ascii=False)),
        )

    def audit(self, actor: str, action: str, session_id: int | None = None,
              detail: Mapping | None = None) -> None:
        """Record that someone other than the family read or changed a family's data."""
        with self.write():
            self._audit(actor, action, session_id, detail or {})

    def audit_once(self, actor: str, action: str, detail: Mapping,
                   within_seconds: int) -> bool:
        """Record an event unless the same one (actor, action, detail) was recorded in the
        last `within_seconds`: for what a stranger can repeat at will. True when recorded."""
        since = _iso(datetime.datetime.now(datetime.timezone.utc).timestamp() - within_seconds)
        text = json.dumps(dict(detail), ensure_ascii=False)
        with self.write():
            if self._one("SELECT id FROM audit_log WHERE actor = ? AND action = ? AND at >= ? "
                         "AND detail = ?", (actor, action, since, text)):
                return False
            self._audit(actor, action, None, detail)
        return True

    def audit_entries(self, session_id: int) -> list[dict]:
        rows = self._rows(
            "SELECT at, actor, action, detail FROM audit_log WHERE session_id = ? ORDER BY id",
            (session_id,))
        for row in rows:
            row["detail"] = json.loads(row["detail"])
        return rows

    def audit_search(self, *, actor: str | None = None, action: str | None = None,
                     session_id: int | None = None, since: str | None = None,
                     until: str | None = None, limit: int = 200) -> list[dict]:
        """The audit log, newest first, filtered (the admin's audit page): actor as stored
        ('family', 'user:<id>', 'anonymous'...), times as ISO strings."""
        where, params = [], []
        for clause, value in (("actor = ?", actor), ("action = ?", action),
                              ("session_id = ?", session_id), ("at >= ?", since),
                              ("at < ?", until)):
            if value is not None:
                where.append(clause)
                params.append(value)
        sql = ("SELECT a.id, a.at, a.actor, a.action, a.session_id, a.detail, u.login, u.name, "
               "u.org FROM audit_log a LEFT JOIN users u ON " + _USER_OF_ACTOR
               + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY a.id DESC LIMIT ?")
        rows = self._rows(sql, (*params, limit))
        for row in rows:
            row["detail"] = json.loads(row["detail"])
        return rows

    def access_history(self, session_id: int, limit: int = 50) -> list[dict]:
        """What helpers did with a family's answers, newest first (shown to the family)."""
        return self._rows(
            "SELECT a.at, a.action, a.detail, u.name, u.org FROM audit_log a "
            "JOIN users u ON " + _USER_OF_ACTOR + " WHERE a.session_id = ? "
            "ORDER BY a.id DESC LIMIT ?", (session_id, limit))

    # ------------------------------------------------------------ helpers' accounts

    def create_user(self, login: str, name: str, org: str, role: str, language: str,
                    password_hash: str, must_change: bool = False,
                    actor: str = "cli") -> int | None:
        """A new account; None when the login is taken (in any case)."""
        with self.write():
            if self._one("SELECT id FROM users WHERE login = ?", (login,)):
                return None
            user_id = self.db.execute(
                "INSERT INTO users (login, name, org, role, language, password_hash, "
                "must_change, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (login, name, org, role, language, password_hash, int(must_change), now()),
            ).lastrowid
            self._audit(actor, "user-created", None,
                        {"user": user_id, "login": login, "role": role, "org": org})
        return user_id

    def user(self, user_id: int) -> dict | None:
        return self._one("SELECT * FROM users WHERE id = ?", (user_id,))

    def user_by_login(self, login: str) -> dict | None:
        return self._one("SELECT * FROM users WHERE login = ?", (login,))

    def users(self) -> list[dict]:
        return self._rows("SELECT * FROM users ORDER BY org, name")

    def _sign_out_everywhere(self, user_id: int, keep: str | None = None) -> None:
        """Every sign-in of this account ends (but `keep`, a sign-in's token hash), and the
        family walkthroughs its phones keep open nothing more: whoever holds those phones
        now may not be them (a disabled account, a new password)."""
        self.db.execute("UPDATE sign_ins SET ended_at = ? WHERE user_id = ? "
                        "AND ended_at IS NULL AND token_hash IS NOT ?", (now(), user_id, keep))
        self._drop_kept(user_id)

    def _drop_kept(self, user_id: int) -> None:
        self.db.execute("UPDATE session_tokens SET revoked = 1 WHERE grant_id IN "
                        "(SELECT id FROM grants WHERE user_id = ?)", (user_id,))

    def set_disabled(self, user_id: int, disabled: bool, actor: str) -> None:
        """Disable (every open sign-in ends at once, every grant too) or enable an account."""
        with self.write():
            self.db.execute("UPDATE users SET disabled = ? WHERE id = ?",
                            (int(disabled), user_id))
            if disabled:
                self._sign_out_everywhere(user_id)
                for row in self._rows(
                        "SELECT id, session_id FROM grants WHERE user_id = ? "
                        "AND ended_at IS NULL", (user_id,)):
                    # In each family's own record: this helper stopped helping them.
                    self._end_grant(row["id"], row["session_id"], "disabled",
                                    f"user:{user_id}", {"by": actor})
            self._audit(actor, "user-disabled" if disabled else "user-enabled", None,
                        {"user": user_id})

    def set_password(self, user_id: int, password_hash: str, must_change: bool,
                     actor: str, keep: str | None = None) -> None:
        """A new password (an admin's reset, or the user's own change): every sign-in ends,
        but the one that changed it (`keep`, its token hash): whoever held the old password
        is signed out."""
        with self.write():
            self.db.execute("UPDATE users SET password_hash = ?, must_change = ? WHERE id = ?",
                            (password_hash, int(must_change), user_id))
            self._sign_out_everywhere(user_id, keep)
            self._audit(actor, "password-reset" if must_change else "password-changed", None,
                        {"user": user_id})

    def set_language(self, user_id: int, language: str) -> None:
        with self.write():
            self.db.execute("UPDATE users SET language = ? WHERE id = ?", (language, user_id))

    def start_sign_in(self, token_hash: str, user_id: int, detail: Mapping) -> None:
        stamp = now()
        with self.write():
            self.db.execute("INSERT INTO sign_ins (token_hash, user_id, started_at, seen_at) "
                            "VALUES (?, ?, ?, ?)", (token_hash, user_id, stamp, stamp))
            self.db.execute("UPDATE users SET last_sign_in = ? WHERE id = ?", (stamp, user_id))
            self._audit(f"user:{user_id}", "sign-in", None, detail)

    def signed_in(self, token_hash: str, idle_since: str, started_since: str,
                  seen_gap: str) -> dict | None:
        """The user of a live sign-in, or None: ended, idle since before `idle_since`, begun
        before `started_since`, or the account disabled. The sign-in's last-seen time moves
        on when it is older than `seen_gap` (not on every request: that would be a write)."""
        row = self._one(
            "SELECT u.*, s.seen_at FROM sign_ins s JOIN users u ON u.id = s.user_id "
            "WHERE s.token_hash = ? AND s.ended_at IS NULL AND u.disabled = 0 "
            "AND s.seen_at >= ? AND s.started_at >= ?", (token_hash, idle_since, started_since))
        if row is not None and row.pop("seen_at") < seen_gap:
            with self.write():
                self.db.execute("UPDATE sign_ins SET seen_at = ? WHERE token_hash = ?",
                                (now(), token_hash))
        return row

    def end_sign_in(self, token_hash: str) -> None:
        with self.write():
            row = self._one("SELECT user_id FROM sign_ins WHERE token_hash = ? "
                            "AND ended_at IS NULL", (token_hash,))
            if row is not None:
                self.db.execute("UPDATE sign_ins SET ended_at = ? WHERE token_hash = ?",
                                (now(), token_hash))
                self._drop_kept(row["user_id"])
                self._audit(f"user:{row['user_id']}", "sign-out", None, {})

    # ------------------------------------------------------------ grants: a family's consent

    def offer_grant(self, session_id: int, code_hash: str, label: str, code_expires_at: str
                    ) -> int | None:
        """A one-time code the family shows a helper; a code offered before and not yet used
        is withdrawn (one waiting code per session). None when the code's hash clashes with
        another waiting code (the caller draws another)."""
        stamp = now()
        with self.write():
            # Codes that ran out are forgotten, so their numbers can be drawn again.
            self.db.execute("UPDATE grants SET code_hash = NULL WHERE code_hash IS NOT NULL "
                            "AND code_expires_at < ?", (stamp,))
            if self._one("SELECT id FROM grants WHERE code_hash = ?", (code_hash,)):
                return None
            self.db.execute("UPDATE grants SET code_hash = NULL, ended_at = ?, "
                            "ended_by = 'replaced' WHERE session_id = ? AND user_id IS NULL "
                            "AND ended_at IS NULL", (stamp, session_id))
            grant_id = self.db.execute(
                "INSERT INTO grants (session_id, label, kind, code_hash, code_expires_at, "
                "created_at) VALUES (?, ?, 'code', ?, ?, ?)",
                (session_id, self._seal(label, "grants", session_id), code_hash,
                 code_expires_at, stamp)).lastrowid
            self._audit("family", "grant-offered", session_id, {"grant": grant_id})
        return grant_id

    def accept_grant(self, code_hash: str, user_id: int, until: str) -> int | None:
        """A helper entered a family's code: the grant is theirs until `until`, and the code
        is spent. None for a code unknown, spent, withdrawn or out of time, or a session no
        longer open."""
        stamp = now()
        with self.write():
            row = self._one(
                "SELECT g.id, g.session_id FROM grants g JOIN sessions s ON s.id = g.session_id "
                "WHERE g.code_hash = ? AND g.code_expires_at >= ? AND g.user_id IS NULL "
                "AND g.ended_at IS NULL AND s.status IN ('active', 'completed')",
                (code_hash, stamp))
            if row is None:
                return None
            self.db.execute("UPDATE grants SET user_id = ?, accepted_at = ?, expires_at = ?, "
                            "code_hash = NULL WHERE id = ?", (user_id, stamp, until, row["id"]))
            self._audit(f"user:{user_id}", "grant-accepted", row["session_id"],
                        {"grant": row["id"]})
        return row["id"]

    def start_grant(self, session_id: int, user_id: int, label: str, until: str,
                    guardian_present: bool) -> int:
        """A helper started the session on their own phone, with the guardian's consent."""
        stamp = now()
        with self.write():
            grant_id = self.db.execute(
                "INSERT INTO grants (session_id, user_id, label, kind, guardian_present, "
                "created_at, accepted_at, expires_at) VALUES (?, ?, ?, 'started', ?, ?, ?, ?)",
                (session_id, user_id, self._seal(label, "grants", session_id),
                 int(guardian_present), stamp, stamp, until),
            ).lastrowid
            self._audit(f"user:{user_id}", "session-started", session_id,
                        {"grant": grant_id, "guardian_present": guardian_present})
        return grant_id

    _LIVE = ("g.ended_at IS NULL AND g.accepted_at IS NOT NULL AND g.expires_at > ? "
             "AND s.status IN ('active', 'completed')")

    def _label_opened(self, grant: dict | None) -> dict | None:
        if grant is not None:
            grant["label"] = self._open(grant["label"], "grants", grant["session_id"])
        return grant

    def live_grant(self, grant_id: int, user_id: int) -> dict | None:
        """This helper's grant, while it lasts and its session is open, with the session's
        flow and status; None otherwise (another helper's, ended, expired, never accepted)."""
        return self._label_opened(self._one(
            "SELECT g.*, s.flow_id, s.flow_version, s.locale, s.status, s.last_step, "
            "s.updated_at AS session_updated FROM grants g JOIN sessions s "
            f"ON s.id = g.session_id WHERE g.id = ? AND g.user_id = ? AND {self._LIVE}",
            (grant_id, user_id, now())))

    def token_grant(self, token_hash: str) -> dict | None:
        """For a helper's phone's token: the grant it is bound to (live or not) and whether
        it was revoked; None for a family's own device or an unknown token."""
        row = self._one("SELECT grant_id, revoked FROM session_tokens WHERE token_hash = ? "
                        "AND grant_id IS NOT NULL", (token_hash,))
        return row

    def helper_grant(self, grant_id: int) -> dict | None:
        """A grant while it lasts, with its helper (whose account is not disabled): what a
        helper's device token needs to open the family's pages."""
        return self._label_opened(self._one(
            "SELECT g.id, g.session_id, g.user_id, g.label, g.kind, g.guardian_present, "
            "g.expires_at, "
            "u.name, u.org FROM grants g JOIN sessions s ON s.id = g.session_id "
            "JOIN users u ON u.id = g.user_id "
            f"WHERE g.id = ? AND u.disabled = 0 AND {self._LIVE}", (grant_id, now())))

    def add_helper_token(self, grant_id: int, session_id: int, user_id: int,
                         token_hash: str) -> None:
        """The helper's phone keeps the family's walkthrough for use without signal."""
        with self.write():
            self.db.execute("INSERT INTO session_tokens (token_hash, session_id, created_at, "
                            "grant_id) VALUES (?, ?, ?, ?)",
                            (token_hash, session_id, now(), grant_id))
            self._audit(f"user:{user_id}", "kept-on-phone", session_id, {"grant": grant_id})

    def grants_of_user(self, user_id: int) -> list[dict]:
        """A helper's live grants with their sessions, most recently active first."""
        return [self._label_opened(row) for row in self._rows(
            "SELECT g.*, s.flow_id, s.flow_version, s.locale, s.status, s.last_step, "
            "s.updated_at AS session_updated FROM grants g JOIN sessions s "
            f"ON s.id = g.session_id WHERE g.user_id = ? AND {self._LIVE} "
            "ORDER BY s.updated_at DESC", (user_id, now()))]

    def grants_of_session(self, session_id: int) -> list[dict]:
        """Helpers who can see this family's answers now, with their names."""
        return self._rows(
            "SELECT g.id, g.expires_at, g.kind, u.name, u.org FROM grants g "
            "JOIN sessions s ON s.id = g.session_id JOIN users u ON u.id = g.user_id "
            f"WHERE g.session_id = ? AND {self._LIVE} ORDER BY g.id", (session_id, now()))

    def end_grants(self, session_id: int, ended_by: str) -> None:
        """Every grant of a session ends (the family started again on this phone)."""
        with self.write():
            for row in self._rows(
                    "SELECT id FROM grants WHERE session_id = ? AND ended_at IS NULL",
                    (session_id,)):
                self._end_grant(row["id"], session_id, ended_by, ended_by)

    def hand_over(self, grant_id: int, session_id: int, actor: str,
                  pin_hash: str | None) -> None:
        """A helper hands a walkthrough they started to the family: their access ends, the
        guardian's PIN (if they chose one) is set, and the family's first resume will give
        the session a new code."""
        with self.write():
            if pin_hash is not None:
                self.db.execute("UPDATE sessions SET pin_hash = ? WHERE id = ?",
                                (pin_hash, session_id))
            self.db.execute("UPDATE sessions SET handed_over = 1 WHERE id = ?", (session_id,))
            self._end_grant(grant_id, session_id, "hand-over", actor,
                            {"pin": pin_hash is not None})

    def new_resume_code(self, session_id: int, salt: str, resume_hash: str) -> None:
        with self.write():
            self.db.execute("UPDATE sessions SET resume_salt = ?, resume_hash = ?, "
                            "handed_over = 0 WHERE id = ?", (salt, resume_hash, session_id))
            self._audit("family", "new-resume-code", session_id, {})

    def _end_grant(self, grant_id: int, session_id: int, ended_by: str, actor: str,
                   detail: Mapping | None = None) -> bool:
        done = self.db.execute(
            "UPDATE grants SET ended_at = ?, ended_by = ?, code_hash = NULL "
            "WHERE id = ? AND session_id = ? AND ended_at IS NULL",
            (now(), ended_by, grant_id, session_id)).rowcount
        if done:
            self._audit(actor, f"grant-ended-by-{ended_by}", session_id,
                        {"grant": grant_id, **(detail or {})})
        return bool(done)

    def end_grant(self, grant_id: int, session_id: int, ended_by: str, actor: str) -> bool:
        """End a grant of this session (the family's "End access", a helper's hand-back or
        hand-over); False when it had ended already."""
        with self.write():
            return self._end_grant(grant_id, session_id, ended_by, actor)

    # ------------------------------------------------------------ helpers' notes

    def add_note(self, session_id: int, step_id: str, user_id: int, text: str) -> None:
        with self.write():
            self.db.execute("INSERT INTO helper_notes (session_id, step_id, user_id, text, at) "
                            "VALUES (?, ?, ?, ?, ?)", (session_id, step_id, user_id,
                                                       self._seal(text, "helper_notes",
                                                                  session_id), now()))
            self._audit(f"user:{user_id}", "note", session_id, {"step": step_id})

    def notes(self, session_id: int, step_id: str | None = None) -> list[dict]:
        only = "" if step_id is None else " AND n.step_id = ?"
        rows = self._rows(
            "SELECT n.step_id, n.text, n.at, u.name, u.org FROM helper_notes n "
            "JOIN users u ON u.id = n.user_id WHERE n.session_id = ?" + only + " ORDER BY n.id",
            (session_id,) + (() if step_id is None else (step_id,)))
        for row in rows:
            row["text"] = self._open(row["text"], "helper_notes", session_id)
        return rows

    def provenance(self, session_id: int) -> dict[str, dict]:
        """Answers a helper entered: field id -> {name, org, at}."""
        return {row["field_id"]: row for row in self._rows(
            "SELECT a.field_id, a.entered_at AS at, u.name, u.org FROM answers a "
            "JOIN users u ON u.id = CAST(substr(a.entered_by, 11) AS INTEGER) "
            "AND a.entered_by = 'volunteer:' || u.id WHERE a.session_id = ?",
            (session_id,))}

    # ------------------------------------------------------------ studio: flows and drafts

    def _ensure_flow(self, flow_id: str, actor: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO flows (id, created_at, created_by) "
                        "VALUES (?, ?, ?)", (flow_id, now(), actor))

    def studio_flows(self) -> list[dict]:
        """Every flow staff know of (published, or only a draft): its newest version, its
        draft's revision and who saved it last, its retention."""
        return self._rows(
            "WITH ids AS (SELECT flow_id AS id FROM flow_versions UNION "
            "SELECT flow_id FROM flow_drafts UNION SELECT id FROM flows) "
            "SELECT ids.id, (SELECT MAX(version) FROM flow_versions v WHERE v.flow_id = ids.id) "
            "AS latest, d.revision AS draft_revision, d.updated_at AS draft_updated_at, "
            "d.updated_by AS draft_updated_by, f.retention_days FROM ids "
            "LEFT JOIN flow_drafts d ON d.flow_id = ids.id "
            "LEFT JOIN flows f ON f.id = ids.id ORDER BY ids.id")

    def flow_settings(self, flow_id: str) -> dict | None:
        return self._one("SELECT * FROM flows WHERE id = ?", (flow_id,))

    def versions(self, flow_id: str) -> list[dict]:
        """Published versions, newest first, with how many families are on each and how
        many of them are still open (active)."""
        return self._rows(
            "SELECT v.version, v.published_at, v.published_by, v.changes, "
            "(SELECT COUNT(*) FROM sessions s WHERE s.flow_id = v.flow_id "
            " AND s.flow_version = v.version AND s.status = 'active') AS open, "
            "(SELECT COUNT(*) FROM sessions s WHERE s.flow_id = v.flow_id "
            " AND s.flow_version = v.version AND s.status = 'completed') AS completed "
            "FROM flow_versions v WHERE v.flow_id = ? ORDER BY v.version DESC", (flow_id,))

    def draft(self, flow_id: str) -> dict | None:
        return self._one("SELECT * FROM flow_drafts WHERE flow_id = ?", (flow_id,))

    def save_draft(self, flow_id: str, source: str, seen_revision: int | None,
                   actor: str) -> int:
        """Save a draft's text; returns its new revision. seen_revision is the revision the
        editor started from (None: a new draft). DraftClash when someone saved it since (or
        a new draft's flow already has one): nothing is saved."""
        stamp = now()
        with self.write():
            row = self._one("SELECT revision, updated_by, updated_at FROM flow_drafts "
                            "WHERE flow_id = ?", (flow_id,))
            current = row["revision"] if row else None
            if current != seen_revision:
                raise DraftClash(row)
            self._ensure_flow(flow_id, actor)
            self.db.execute("UPDATE flows SET draft_serial = draft_serial + 1 WHERE id = ?",
                            (flow_id,))
            revision = self._one("SELECT draft_serial FROM flows WHERE id = ?",
                                 (flow_id,))["draft_serial"]
            self.db.execute(
                "INSERT INTO flow_drafts (flow_id, source, revision, updated_at, updated_by) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (flow_id) DO UPDATE SET "
                "source = excluded.source, revision = excluded.revision, "
                "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                (flow_id, source, revision, stamp, actor))
            return revision

    def drop_draft(self, flow_id: str, seen_revision: int) -> bool:
        """Throw a draft away (only the revision the person saw); False when it changed."""
        with self.write():
            return bool(self.db.execute("DELETE FROM flow_drafts WHERE flow_id = ? AND "
                                        "revision = ?", (flow_id, seen_revision)).rowcount)

    def publish_draft(self, flow: Flow, seen_revision: int, actor: str,
                      changes: list[dict]) -> None:
        """Publish a draft as the immutable version `flow.version` and remove the draft, in
        one transaction. DraftClash when the draft changed since it was checked; VersionClash
        when that version number is taken."""
        with self.write():
            row = self._one("SELECT revision, updated_by, updated_at FROM flow_drafts "
                            "WHERE flow_id = ?", (flow.id,))
            if row is None or row["revision"] != seen_revision:
                raise DraftClash(row)
            if self._one("SELECT 1 FROM flow_versions WHERE flow_id = ? AND version = ?",
                         (flow.id, flow.version)):
                raise VersionClash(f"{flow.id} version {flow.version} is already published")
            self._ensure_flow(flow.id, actor)
            self.db.execute(
                "INSERT INTO flow_versions (flow_id, version, source, published_at, "
                "published_by, changes) VALUES (?, ?, ?, ?, ?, ?)",
                (flow.id, flow.version, flow.source, now(), actor,
                 json.dumps(changes, ensure_ascii=False)))
            self.db.execute("DELETE FROM flow_drafts WHERE flow_id = ?", (flow.id,))
            self._audit(actor, "publish", None, {"flow": flow.id, "version": flow.version})

    def set_retention(self, flow_id: str, days: int | None, actor: str) -> None:
        with self.write():
            self._ensure_flow(flow_id, actor)
            self.db.execute("UPDATE flows SET retention_days = ? WHERE id = ?", (days, flow_id))
            self._audit(actor, "retention", None, {"flow": flow_id, "days": days})

    # ------------------------------------------------------------ studio: moving sessions

    def open_sessions(self, flow_id: str, version: int) -> list[dict]:
        """Sessions on a version that are still open (moved forward on publishing)."""
        return self._rows(
            "SELECT id, revision, furthest, last_step FROM sessions WHERE flow_id = ? "
            "AND flow_version = ? AND status = 'active' ORDER BY id", (flow_id, version))

    def move_session(self, session_id: int, seen_revision: int, to_version: int,
                     answers: Mapping[str, tuple[str, Any]], kept: Mapping[str, Any],
                     to_check: list[dict], furthest: int, last_step: str | None,
                     actor: str) -> bool:
        """Move an open session to a newer version of its flow, in one transaction: its
        answers become `answers` (new field id -> (old field id, value): who entered each and
        when stays with it), and what was not carried over is recorded in `kept` with the
        list of what to check again. False (nothing changed) when the session was saved since
        `seen_revision` or is no longer open: the caller plans it again."""
        with self.write():
            row = self._one("SELECT flow_version, revision, status FROM sessions WHERE id = ?",
                            (session_id,))
            if row is None or row["revision"] != seen_revision or row["status"] != "active":
                return False
            old = {r["field_id"]: r for r in self._rows(
                "SELECT * FROM answers WHERE session_id = ?", (session_id,))}
            revision = seen_revision + 1
            self.db.execute("DELETE FROM answers WHERE session_id = ?", (session_id,))
            for new_id, (old_id, value) in answers.items():
                was = old.get(old_id)
                self.db.execute(
                    "INSERT INTO answers (session_id, field_id, value, revision, entered_by, "
                    "entered_at, device) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (session_id, new_id, self._seal(value, "answers", session_id, new_id),
                     revision if was is None else was["revision"],
                     was["entered_by"] if was else actor, was["entered_at"] if was else now(),
                     was["device"] if was else None))
            # A page's typed values wait for a step of the old version: recorded, not lost.
            draft = self._one("SELECT step_id, raw FROM drafts WHERE session_id = ?",
                              (session_id,))
            self.db.execute("DELETE FROM drafts WHERE session_id = ?", (session_id,))
            record = {"answers": dict(kept)}
            if draft is not None:
                record["unsent"] = {"step": draft["step_id"],
                                    **self._open(draft["raw"], "drafts", session_id)}
            stamp = now()
            self.db.execute(
                "INSERT INTO session_moves (session_id, from_version, to_version, at, actor, "
                "to_check, kept) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (session_id, row["flow_version"], to_version, stamp, actor,
                 json.dumps(to_check, ensure_ascii=False),
                 self._seal(record, "session_moves", session_id)))
            self.db.execute(
                "UPDATE sessions SET flow_version = ?, revision = ?, furthest = ?, "
                "last_step = ?, updated_at = ? WHERE id = ?",
                (to_version, revision, furthest, last_step, stamp, session_id))
            self._audit(actor, "move-version", session_id,
                        {"from": row["flow_version"], "to": to_version,
                         "kept": sorted(kept), "to_check": len(to_check)})
        return True

    def _checked_after_move(self, session_id: int, stamp: str) -> None:
        # The family confirmed their answers after a move: they have seen what to check.
        self.db.execute("UPDATE session_moves SET checked_at = ? WHERE session_id = ? "
                        "AND checked_at IS NULL", (stamp, session_id))

    def pending_checks(self, session_id: int) -> dict | None:
        """The newest move of this session the family has not confirmed since: from and to
        version, when, and what to check again; None when there is none."""
        row = self._one("SELECT from_version, to_version, at, to_check FROM session_moves "
                        "WHERE session_id = ? AND checked_at IS NULL ORDER BY id DESC LIMIT 1",
                        (session_id,))
        if row is not None:
            row["to_check"] = json.loads(row["to_check"])
        return row

    def moves(self, session_id: int) -> list[dict]:
        rows = self._rows("SELECT * FROM session_moves WHERE session_id = ? "
                          "ORDER BY id", (session_id,))
        for row in rows:
            row["to_check"] = json.loads(row["to_check"])
            row["kept"] = self._open(row["kept"], "session_moves", session_id)
        return rows

    # ------------------------------------------------------------ studio: figures

    def count_errors(self, flow_id: str, version: int, step_id: str, field_ids: list[str],
                     locale: str, device_kind: str | None) -> None:
        """One more refused answer for each of these fields (the dashboard's "hardest
        questions"): counts only, nothing of what was typed."""
        with self.write():
            for field_id in field_ids:
                self.db.execute(
                    "INSERT INTO field_errors (flow_id, version, step_id, field_id, locale, "
                    "device_kind, count) VALUES (?, ?, ?, ?, ?, ?, 1) ON CONFLICT "
                    "(flow_id, version, field_id, locale, device_kind) "
                    "DO UPDATE SET count = count + 1",
                    (flow_id, version, step_id, field_id, locale, device_kind or "unknown"))

    def version_figures(self, flow_id: str, version: int) -> dict:
        """Counts for the dashboard of one version: sessions by status, language and device
        kind, furthest step reached, time to complete (seconds, sorted) and refused answers.
        Deleted and expired sessions count as started (their answers are gone; the counts
        are not anyone's data)."""
        where = "flow_id = ? AND flow_version = ?"
        params = (flow_id, version)
        by = self._rows(
            f"SELECT status, locale, COALESCE(device_kind, 'unknown') AS device, "
            f"furthest, COUNT(*) AS n FROM sessions WHERE {where} "
            f"GROUP BY status, locale, device, furthest", params)
        durations = [r["d"] for r in self._rows(
            f"SELECT (julianday(completed_at) - julianday(created_at)) * 86400 AS d "
            f"FROM sessions WHERE {where} AND status = 'completed' AND completed_at IS NOT NULL "
            f"ORDER BY d", params)]
        errors = self._rows(
            "SELECT step_id, field_id, locale, device_kind, count FROM field_errors "
            "WHERE flow_id = ? AND version = ?", params)
        return {"groups": by, "durations": durations, "errors": errors}

    def completion_times(self, flow_id: str, version: int) -> list[dict]:
        """Time to complete (seconds) of each completed session of a version, with its
        language and device kind: the dashboard's median for one language or device."""
        return self._rows(
            "SELECT locale, COALESCE(device_kind, 'unknown') AS device, "
            "(julianday(completed_at) - julianday(created_at)) * 86400 AS seconds "
            "FROM sessions WHERE flow_id = ? AND flow_version = ? AND status = 'completed' "
            "AND completed_at IS NOT NULL ORDER BY seconds", (flow_id, version))

    # ------------------------------------------------------------ studio: export

    def completed_answers(self, flow_id: str, version: int) -> Iterator[tuple[dict, dict]]:
        """(session, answers) of every completed session of a version, oldest first."""
        for sess in self._rows(
                "SELECT id, locale, created_at, completed_at FROM sessions WHERE flow_id = ? "
                "AND flow_version = ? AND status = 'completed' ORDER BY id",
                (flow_id, version)):
            yield sess, self.answers(sess["id"])

    # ------------------------------------------------------------ backup and restore

    def backup(self, dest: str | Path) -> dict:
        """A consistent copy of the database at `dest`, made while the server runs, then
        checked (`check_copy`): returns what the copy holds. Refuses to overwrite anything
        (FileExistsError); a copy that fails its check is removed and ValueError raised.

        `VACUUM INTO` rather than the backup API: it reads the whole database in one read
        transaction, so in WAL mode it sees exactly the committed rows of one moment and
        neither waits for writers nor holds them up; the copy is compact (no free pages,
        no -wal file: one self-contained file in rollback mode that `cp` or `rsync` can
        take as is). The backup API copies page by page and starts over whenever another
        connection writes in between, unless it copies everything in one step, and then it
        is no better."""
        dest = Path(dest)
        # Children's data: the copy is readable by its owner only. VACUUM INTO accepts an
        # empty file, so it is made here, atomically refusing one that exists.
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        try:
            self.db.execute("VACUUM INTO ?", (str(dest),))
            fd = os.open(dest, os.O_RDONLY)  # on disk before it is called a backup
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            report = self.check_copy(dest)
            live = [m.name for m in migrations.applied(self.db)]
            if report["migrations"] != live:
                raise ValueError("the copy's migrations differ from the database's: "
                                 f"{report['migrations']} against {live}")
        except BaseException:
            dest.unlink(missing_ok=True)
            raise
        report["path"] = str(dest)
        report["bytes"] = dest.stat().st_size
        return report

    @staticmethod
    def check_copy(path: str | Path) -> dict:
        """Whether the file at `path` is a sound wizard database this code can use: SQLite's
        integrity check passes, it has the migrations table and every table its migrations
        make, and no migration this code does not know (a backup from newer code). Returns
        {integrity, migrations (applied), pending (to apply here), counts}; raises
        ValueError saying what is wrong. It may write to the file (SQLite recovers a hot
        journal): give it a copy, never a live database."""
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"{path} is not a file")
        conn = sqlite3.connect(str(path), isolation_level=None)
        try:
            try:
                rows = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            except sqlite3.DatabaseError as exc:
                raise ValueError(f"not a usable SQLite database ({exc})") from exc
            if rows != ["ok"]:
                raise ValueError("SQLite's integrity check failed: " + "; ".join(rows[:5]))
            copy = Database(conn)
            tables = set(copy.table_names())
            if migrations.migrations_table not in tables:
                raise ValueError("not a wizard database: it has no "
                                 f"{migrations.migrations_table} table")
            applied = [m.name for m in migrations.applied(copy)]
            if not applied:
                raise ValueError("not a wizard database: no wizard migration was applied")
            # Every migration this code knows, in order (pending on an empty database).
            known = [m.name for m in migrations.pending(Database(memory=True))]
            newer = [name for name in applied if name not in known]
            if newer:
                raise ValueError("made by a newer version of wizard: migration(s) "
                                 f"{', '.join(newer)} unknown here; upgrade the code first")
            pending = [name for name in known if name not in applied]
            # The tables those migrations make, made again in memory to compare with.
            model = Database(memory=True)
            migrations.apply(model, stop_before=pending or None)
            missing = sorted(set(model.table_names()) - tables)
            if missing:
                raise ValueError(f"tables missing: {', '.join(missing)}")
            counts = {table: conn.execute(f"SELECT COUNT(*) FROM [{table}]").fetchone()[0]
                      for table in ("sessions", "answers", "flow_versions")}
            # Which keys the copy's sealed values need ("": not sealed, from before m010).
            sealed: dict[str, int] = {}
            for table, column, _keys, _json in SEALED:
                if table in tables:
                    for kid, n in conn.execute(
                            f"SELECT CASE WHEN {column} {sealing.SQL_SEALED} "
                            f"THEN substr({column}, {len(sealing.PREFIX) + 1}, "
                            f"{sealing.ID_LENGTH}) ELSE '' END, "
                            f"COUNT(*) FROM {table} GROUP BY 1"):
                        sealed[kid] = sealed.get(kid, 0) + n
        finally:
            conn.close()
        return {"integrity": "ok", "migrations": applied, "pending": pending,
                "counts": counts, "sealed": sealed}

    def erase_again(self, replaced: str | Path) -> dict[str, int]:
        """After a restore: what had been erased in the database that was replaced (families'
        deletions on request, idle or past-retention sessions) is erased here again, so an
        older backup does not bring it back. A session is the same one when its id and its
        creation time match (sessions are never removed, so ids are not reused). Returns how
        many sessions of each kind were erased again."""
        conn = sqlite3.connect(str(replaced), isolation_level=None)
        try:
            gone = conn.execute("SELECT id, created_at, status FROM sessions "
                                "WHERE status IN ('deleted', 'expired')").fetchall()
        finally:
            conn.close()
        done = {"deleted": 0, "expired": 0}
        for session_id, created_at, status in gone:
            here = self._one("SELECT status FROM sessions WHERE id = ? AND created_at = ?",
                             (session_id, created_at))
            if here is None or here["status"] in ("deleted", "expired"):
                continue
            if status == "deleted":
                self.delete_session(session_id, actor="restore")
            else:
                with self.write():
                    self._erase(session_id)
                    self.db.execute("UPDATE sessions SET status = 'expired' WHERE id = ?",
                                    (session_id,))
            done[status] += 1
        return done
