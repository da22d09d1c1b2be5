"""A crash under load (issue 13): gunicorn serving families' syncs is killed with SIGKILL, the
arbiter and every worker at once, mid-run. Every change the server acknowledged to a client
(a response fully received, status applied) must then be in the database exactly once, its
answer kept, `PRAGMA integrity_check` must say ok, and the server must start again on the same
file and save.

The changes go through the sync API because every applied change is recorded with its id in
sync_changes: "exactly once" can be checked by id. Each family's thread sends one change at a
time, each with a new child_dob, so the answer the family holds after the crash is the one of
its last applied change.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from wizard import sealing

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GUNICORN = BIN / "gunicorn"
WIZARD = BIN / "wizard"
FLOW = "kindergarten-shanghai"
SYNC = f"/api/v1/flows/{FLOW}/sync"
FAMILIES = 8
LOAD_SECONDS = 2.5

pytestmark = [
    pytest.mark.xdist_group("crash"),
    pytest.mark.skipif(not GUNICORN.exists() or not WIZARD.exists(),
                       reason="gunicorn (or the wizard command) is not installed in this venv"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn -c gunicorn.conf.py in a process group of its own, so that one killpg reaches
    the arbiter and all its workers (and nothing else)."""

    def __init__(self, env: dict, log: Path):
        self.port = free_port()
        self.env = dict(env, PORT=str(self.port), HOST="127.0.0.1",
                        WIZARD_PUBLIC_ORIGIN=f"http://127.0.0.1:{self.port}")
        self.log = log
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([str(GUNICORN), "-c", str(ROOT / "gunicorn.conf.py")],
                                         cwd=ROOT, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        self.kill()
        pytest.fail(f"gunicorn did not start; its log:\n{self.log.read_text()[-3000:]}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        # The workers are reparented when the arbiter dies: wait until the group is gone.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self.proc = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Family:
    """A phone: its own cookies, a session started on the start page with consent."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  _NoRedirect)

    def call(self, path: str, form: dict | None = None) -> tuple[int, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    def start(self) -> None:
        status, html = self.call(f"/f/{FLOW}/")
        assert status == 200, status
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
            re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
        assert found, "no csrf_token on the start page"
        status, _ = self.call(f"/f/{FLOW}/", {"csrf_token": found.group(1), "consent": "yes"})
        assert status == 303, f"consent: {status}"

    def sync(self, version: int, changes: list[dict], timeout: float = 10) -> dict:
        body = json.dumps({"version": version, "lang": "en", "changes": changes}).encode()
        request = urllib.request.Request(
            self.base + SYNC, data=body, method="POST",
            headers={"Content-Type": "application/json", "X-Wizard-Sync": "1"})
        with self.opener.open(request, timeout=timeout) as r:
            assert r.status == 200
            return json.loads(r.read())  # the whole response: only then is it acknowledged


def dob(n: int) -> dict:
    """A distinct, valid date of birth for each n below 28 * 12 * 4."""
    return {"day": str(n % 28 + 1), "month": str(n // 28 % 12 + 1),
            "year": str(2020 + n // 336 % 4)}


def iso(d: dict) -> str:
    return f"{int(d['year']):04d}-{int(d['month']):02d}-{int(d['day']):02d}"


def test_sigkill_under_load_loses_no_acknowledged_change(tmp_path):
    from wizard.flow import loader

    version = loader.load_file(ROOT / "flows" / f"{FLOW}.yaml").flow.version
    database = tmp_path / "wizard.sqlite3"
    env = dict(os.environ, WIZARD_DATABASE=str(database),
               WIZARD_SECRET_KEY="crash-test-" + os.urandom(8).hex())
    for cmd in (["init-db"], ["import"]):
        subprocess.run([str(WIZARD), *cmd], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

    server = Server(env, tmp_path / "gunicorn.log")
    server.start()
    acknowledged: dict[str, tuple[int, str]] = {}  # change id -> (family, date saved)
    lock = threading.Lock()
    stop = threading.Event()
    try:
        families = [Family(server.base) for _ in range(FAMILIES)]
        for f in families:
            f.start()

        def load(index: int) -> None:
            family = families[index]
            n = 0
            while not stop.is_set():
                d = dob(n)
                change_id = f"crash-{index}-{n}-" + os.urandom(8).hex()
                n += 1
                try:
                    body = family.sync(version, [{"id": change_id, "step": "child-birth",
                                                  "values": {"child_dob": d},
                                                  "base_revision": None}])
                except (OSError, ValueError, AssertionError, http.client.HTTPException):
                    continue  # no answer (the server is being killed): not acknowledged
                result = body["results"][0]
                if result["id"] == change_id and result["status"] == "applied":
                    with lock:
                        acknowledged[change_id] = (index, iso(d))

        threads = [threading.Thread(target=load, args=(i,), daemon=True)
                   for i in range(FAMILIES)]
        for t in threads:
            t.start()
        time.sleep(LOAD_SECONDS)
        server.kill(signal.SIGKILL)  # mid-run: the clients are still sending
        stop.set()
        for t in threads:
            t.join(timeout=15)
        assert not any(t.is_alive() for t in threads)
    finally:
        stop.set()
        server.kill(signal.SIGKILL)

    assert len(acknowledged) >= 20, f"only {len(acknowledged)} changes acknowledged"
    print(f"{len(acknowledged)} changes acknowledged before the kill")

    # Opening the file recovers from the WAL, as the server's next start would.
    conn = sqlite3.connect(database)
    keys = sealing.keyring(database, create=False)  # the server's: families' data is sealed
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        recorded: dict[str, list] = {}
        for change_id, session_id, result in conn.execute(
                "SELECT change_id, session_id, result FROM sync_changes"):
            opened = keys.open(result, f"sync_changes/{session_id}/{change_id}")
            recorded.setdefault(change_id, []).append((session_id, json.loads(opened)))
        sessions_of: dict[int, set[int]] = {}
        for change_id, (index, _) in acknowledged.items():
            rows = recorded.get(change_id, [])
            assert len(rows) == 1, f"change {change_id} recorded {len(rows)} times"
            session_id, result = rows[0]
            assert result["status"] == "applied"
            sessions_of.setdefault(index, set()).add(session_id)
        # One session per family, and the family's answer is that of its last applied change
        # (acknowledged or not: the kill may come between the commit and the response).
        assert all(len(ids) == 1 for ids in sessions_of.values())
        for index, ids in sessions_of.items():
            (session_id,) = ids
            revision = conn.execute("SELECT revision FROM sessions WHERE id = ?",
                                    (session_id,)).fetchone()[0]
            applied = [(r["revision"], cid) for cid, rows in recorded.items()
                       for sid, r in rows if sid == session_id and r["status"] == "applied"]
            last_revision, last_id = max(applied)
            assert last_revision == revision
            value = conn.execute("SELECT value FROM answers WHERE session_id = ? AND "
                                 "field_id = 'child_dob'", (session_id,)).fetchone()
            assert value is not None
            mine = [d for cid, (i, d) in acknowledged.items() if cid == last_id]
            if mine:  # the last applied change was acknowledged: its date is the answer
                opened = keys.open(value[0], f"answers/{session_id}/child_dob")
                assert json.loads(opened) == mine[0]
            # Every acknowledged change of the family is at or before the session's revision.
            for cid, (i, _) in acknowledged.items():
                if i == index:
                    (sid, r), = recorded[cid]
                    assert r["revision"] <= revision
    finally:
        conn.close()

    # The server starts again on the same file, answers and saves.
    server = Server(env, tmp_path / "gunicorn.log")
    server.start()
    try:
        with urllib.request.urlopen(server.base + "/healthz", timeout=5) as r:
            assert r.status == 200
        family = Family(server.base)
        family.start()
        body = family.sync(version, [{"id": "after-crash-" + os.urandom(8).hex(),
                                      "step": "child-birth",
                                      "values": {"child_dob": dob(1)}, "base_revision": 0}])
        assert body["results"][0]["status"] == "applied"
        assert body["answers"]["child_dob"] == iso(dob(1))
    finally:
        server.kill(signal.SIGTERM)
