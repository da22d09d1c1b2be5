"""Every query the store runs on data that grows with use (sessions, answers, the audit log...)
is answered through an index, never by reading a whole big table (issue 13).

The statements are not copied from store.py: a scenario calls every public Store method on a
migrated database while the connection's trace callback records each statement SQLite runs
(with its parameters filled in), and each one is then checked with EXPLAIN QUERY PLAN. A new
Store method fails test_the_scenario_calls_every_store_method until the scenario calls it; from
then on its queries are checked like the others. No ANALYZE is ever run, so the plans do not
depend on what the test database holds.
"""

from __future__ import annotations

import dataclasses
import re
import sqlite3
import time

import pytest

from wizard import store

# Tables read whole without concern: they grow with what staff do, not with families.
SMALL_TABLES = {
    "flow_versions": "one row per published version of a flow: tens",
    "flows": "one row per flow",
    "flow_drafts": "at most one per flow",
    "users": "helpers' accounts: a city's volunteers and staff, hundreds; the joins on "
             "'user:' || u.id read it once per row already found by an index",
    "sqlite_master": "the schema",
    "_sqlite_migrations": "one row per migration",
}

# Statements that read a big table in index order but stop after a fixed number of rows (no
# sort in the plan: with one, the whole table would be read before the limit applies).
BOUNDED = [
    (re.compile(r"FROM audit_log a LEFT JOIN users u ON (?:(?!WHERE).)*"
                r"(?: WHERE at [<>]=? '[^']*'(?: AND at [<>]=? '[^']*')?)? "
                r"ORDER BY a\.id DESC LIMIT \d+$"),
     "the admin's audit page, unfiltered or by time only: newest first by id (the order the "
     "page promises), read back from the newest up to its limit. Entries are logged in time "
     "order, so a time range reaching the present fills the page at once; an `until` in the "
     "past first passes over the entries since then"),
]

# A search that narrows a big table only by a column with a handful of values reads a good
# share of it: one status of every session ever made.
COARSE_COLUMNS = {"status"}

# Statements that grow with the data on purpose, each with why that is acceptable.
ACCEPTED = [
    (re.compile(r"^DELETE FROM session_tokens WHERE session_id IN \(SELECT id FROM sessions "
                r"WHERE status IN \('deleted', 'expired'\)\)$"),
     "the daily purge: device tokens of ended sessions go a day after the session ended; it "
     "reads the ended sessions' ids from an index only (no rows), about a second for a "
     "million, once a day"),
]

# Methods the scenario does not call, and why.
NOT_CALLED = {
    "close": "no SQL",
    "write": "BEGIN IMMEDIATE and COMMIT only",
    "backup": "copies the whole database by design (VACUUM INTO), from the CLI",
    "check_copy": "reads a whole copy by design (integrity check, counts), on its own "
                  "connection",
    "erase_again": "after a restore, once: reads every ended session of the replaced copy "
                   "by design (its own connection), then one primary-key look-up each",
}

SKIP = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|PRAGMA|CREATE|ALTER|SAVEPOINT|RELEASE)\b", re.I)
LOOP = re.compile(r"^(SCAN|SEARCH) (\w+)")
COARSE = re.compile(r"^SEARCH \w+ USING (?:COVERING )?INDEX \w+ \(([^)]*)\)")
NAMED = re.compile(r"\b(?:FROM|JOIN|UPDATE|INTO)\s+\[?(\w+)\]?(?:\s+(?:AS\s+)?(\w+))?", re.I)
KEYWORDS = {"where", "on", "join", "left", "inner", "cross", "set", "order", "group", "limit",
            "values", "union", "select", "as", "using", "natural"}


class Calls:
    """The store, noting which of its methods are used."""

    def __init__(self, s: store.Store):
        self._store = s
        self.names: set[str] = set()

    def __getattr__(self, name):
        self.names.add(name)
        return getattr(self._store, name)


def scenario(s: Calls, flow) -> None:
    """A little of everything: families, helpers, staff, the sync API and the clean-up."""
    far = "2999-01-01T00:00:00+00:00"
    s.migrate()
    s.health()
    s.publish_flow(flow)
    s.publish_flows([flow])
    s.flow_source(flow.id)
    s.flow_source(flow.id, flow.version)
    s.latest_version(flow.id)
    s.latest_versions()

    def new(token, resume, **kw):
        return s.create_session(token, flow.id, flow.version, "en", resume_salt="salt",
                                resume_hash=resume, consent_version="v1", **kw)

    sid = new("tok-a", "res-a", device_kind="android")
    offline = new("tok-b", "res-b", start_hash="start-b", started_offline=True,
                  consent_claimed_at="2027-03-01T08:00:00+00:00")
    assert new("tok-b2", "res-b2", start_hash="start-b") == offline  # a retried start
    spare = new(None, "res-c")
    s.add_token(sid, "tok-a2", {"ip": "1.2.3.4"})
    s.remove_token("tok-a2")
    s.session(sid)
    s.session_by_token("tok-a")
    s.session_by_start(flow.id, "start-b")
    s.session_by_resume("res-a")
    s.set_pin(sid, "pin")
    s.touch(sid, "hukou", "zh_Hans")

    seen = s.save_answers(sid, {"child_dob": "2023-01-01", "hukou": "other"}, reached=1)
    s.save_answers(sid, {"hukou": "shanghai"}, seen_revision=seen, device="tok-a", reached=1)
    with pytest.raises(store.Conflict):
        s.save_answers(sid, {"hukou": "other"}, seen_revision=seen)
    s.save_answers(offline, {"child_dob": "2022-05-05"}, reached=0)
    s.answers(sid)
    s.answer_rows(sid)
    s.keep_draft(sid, "hukou", {"hukou": "nowhere"})
    s.take_draft(sid, "hukou")
    s.keep_draft(offline, "birth", {"child_dob": "x"}, checked=False)

    now = time.time()
    wait, ids, _left = s.claim_attempt([("code:res-a", 5, 3600), ("client:1.2.3.4", 50, 86400)],
                                       now)
    assert wait == 0
    s.forget_attempts(ids)

    rev = s.session(offline)["revision"]
    s.apply_change(offline, "c1", "hukou", {"hukou": "other"}, rev, device="tok-b", reached=1)
    s.apply_change(offline, "c1", "hukou", {"hukou": "other"}, rev, device="tok-b")  # replay
    s.change_result(offline, "c1")
    s.record_change(offline, "c2", "hukou", {"status": "refused"})
    s.complete_change(offline, "c3")

    uid = s.create_user("vol", "Volunteer", "Org", "volunteer", "en", "hash")
    staff = s.create_user("staff", "Staff", "Org", "staff", "en", "hash")
    s.user(uid)
    s.user_by_login("vol")
    s.users()
    s.start_sign_in("sign-1", uid, {"ip": "1.2.3.4"})
    s.signed_in("sign-1", "2000-01-01", "2000-01-01", far)  # seen long ago: moves on

    grant = s.offer_grant(sid, "code-1", "Aunt", far)
    assert s.accept_grant("code-1", uid, far) == grant
    s.live_grant(grant, uid)
    s.helper_grant(grant)
    s.add_helper_token(grant, sid, uid, "tok-helper")
    s.token_grant("tok-helper")
    s.grants_of_user(uid)
    s.grants_of_session(sid)
    s.save_answers(sid, {"mobile": "13800138000"}, entered_by=f"volunteer:{uid}")
    s.provenance(sid)
    s.add_note(sid, "hukou", uid, "ask about the permit")
    s.notes(sid)
    s.notes(sid, "hukou")

    s.audit(f"user:{uid}", "view", sid, {"step": "hukou"})
    s.audit_once("anonymous", "bad-code", {"ip": "1.2.3.4"}, 60)
    s.audit_once("anonymous", "bad-code", {"ip": "1.2.3.4"}, 60)
    s.audit_entries(sid)
    s.access_history(sid)
    s.audit_search()
    s.audit_search(actor=f"user:{uid}")
    s.audit_search(action="view")
    s.audit_search(session_id=sid)
    s.audit_search(since="2000-01-01")
    s.audit_search(since="2000-01-01", until=far)
    s.audit_search(actor="family", action="delete")
    s.audit_search(actor=f"user:{uid}", since="2000-01-01", until=far)

    s.set_status(sid, "completed")
    s.end_grant(grant, sid, "family", "family")
    started = s.start_grant(spare, uid, "Neighbour", far, True)
    s.hand_over(started, spare, f"user:{uid}", "pin")
    s.new_resume_code(spare, "salt2", "res-c2")
    s.start_grant(spare, uid, "Neighbour", far, False)
    s.end_grants(spare, "family")

    s.set_language(uid, "zh_Hans")
    s.set_password(uid, "hash2", False, f"user:{uid}", keep="sign-1")
    s.end_sign_in("sign-1")
    s.set_disabled(uid, True, f"user:{staff}")
    s.set_disabled(uid, False, f"user:{staff}")

    # Staff: a draft, published as version 2, and the open sessions moved to it.
    s.studio_flows()
    s.flow_settings(flow.id)
    s.versions(flow.id)
    s.draft(flow.id)
    draft = s.save_draft(flow.id, flow.source, None, f"user:{staff}")
    s.drop_draft(flow.id, draft)
    draft = s.save_draft(flow.id, flow.source, None, f"user:{staff}")
    draft = s.save_draft(flow.id, flow.source + "\n", draft, f"user:{staff}")
    second = dataclasses.replace(flow, version=flow.version + 1, source=flow.source + "\n")
    s.publish_draft(second, draft, f"user:{staff}", [])
    s.set_retention(flow.id, 30, f"user:{staff}")
    for row in s.open_sessions(flow.id, flow.version):
        assert s.move_session(row["id"], row["revision"], second.version,
                              {"child_dob": ("child_dob", "2022-05-05")}, {"old": 1},
                              [{"step": "birth", "field": "child_dob", "reason": "changed"}],
                              1, "birth", f"user:{staff}")
    s.pending_checks(spare)
    s.moves(spare)

    s.count_errors(flow.id, flow.version, "hukou", ["hukou", "mobile"], "en", "android")
    s.version_figures(flow.id, flow.version)
    s.completion_times(flow.id, flow.version)
    list(s.completed_answers(flow.id, flow.version))
    s.reseal()  # `wizard rotate-key`: finds nothing to do with one key, but runs its queries

    s.expire_idle(far, spare)
    s.delete_session(offline, "family")
    s.purge_preview(far, now + 400 * 86400)
    s.purge(far, now + 400 * 86400)
    s.expire_idle(far)


def statements(db: store.Store, flow) -> tuple[Calls, list[str]]:
    seen: dict[str, None] = {}
    calls = Calls(db)
    db.db.conn.set_trace_callback(lambda sql: seen.setdefault(sql.strip(), None))
    try:
        scenario(calls, flow)
    finally:
        db.db.conn.set_trace_callback(None)
    return calls, [sql for sql in seen if not SKIP.match(sql)]


def tables_of(sql: str, conn: sqlite3.Connection) -> dict[str, str]:
    """Names a plan may use for a table (its own, or an alias in the statement) -> table."""
    real = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    names = {name: name for name in real}
    for table, alias in NAMED.findall(sql):
        if table in real and alias and alias.lower() not in KEYWORDS:
            names[alias] = table
    return names


def plan(conn: sqlite3.Connection, sql: str) -> list[str]:
    return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]


def problems(conn: sqlite3.Connection, sql: str) -> list[str]:
    """Plan lines that read the whole of a big table (or the whole of one of its indexes), or
    a share of it that grows with it."""
    if any(pattern.search(sql) for pattern, _why in ACCEPTED):
        return []
    names = tables_of(sql, conn)
    rows = list(conn.execute("EXPLAIN QUERY PLAN " + sql))
    lines = [row[3] for row in rows]

    def table(line: str) -> str | None:
        m = LOOP.match(line)
        return names.get(m.group(2)) if m else None  # not a table: a CTE, a constant row

    found = []
    for line in lines:
        big = table(line) not in {*SMALL_TABLES, None}
        if big and line.startswith("SCAN "):
            bounded = any(pattern.search(sql) for pattern, _why in BOUNDED)
            if not bounded or any("TEMP B-TREE" in other for other in lines):
                found.append(line)
        m = COARSE.search(line)
        if big and m and {c.split("=")[0] for c in m.group(1).split(" AND ")} <= COARSE_COLUMNS:
            found.append(line)
    # A small table read whole as the outer loop of a join: every search of a big table
    # inside it takes its key from the small table, not from what the query asked for (so
    # reading, say, the audit entries of every helper to find those of one session).
    by_parent: dict[int, list[str]] = {}
    for row in rows:
        if LOOP.match(row[3]):
            by_parent.setdefault(row[1], []).append(row[3])
    for loops in by_parent.values():
        if loops[0].startswith("SCAN ") and table(loops[0]) in SMALL_TABLES:
            found += [line for line in loops[1:] if table(line) not in {*SMALL_TABLES, None}]
    return found


def test_the_scenario_calls_every_store_method(db, branching):
    calls, _ = statements(db, branching)
    public = {name for name, value in vars(store.Store).items()
              if callable(value) and not name.startswith("_")} - set(NOT_CALLED)
    assert public - calls.names == set(), "add a call to the scenario in test_query_plans.py"


def test_no_query_reads_a_whole_big_table(db, branching):
    _, sqls = statements(db, branching)
    assert len(sqls) > 100  # the scenario really ran
    conn = db.db.conn
    bad = [f"{sql}\n    " + "\n    ".join(plan(conn, sql)) for sql in sqls if problems(conn, sql)]
    assert not bad, "queries without a fitting index:\n" + "\n".join(bad)


def test_the_check_sees_what_it_should(db):
    conn = db.db.conn
    assert problems(conn, "SELECT * FROM sessions s WHERE s.locale = 'en'") == ["SCAN s"]
    assert problems(conn, "DELETE FROM answers WHERE value = '1'")
    assert problems(conn, "SELECT * FROM sessions WHERE resume_hash = 'x'") == []
    assert problems(conn, "SELECT * FROM users WHERE name = 'x'") == []  # a small table
    # Queries of the store before m009_indexes, each reading more than it needed:
    assert problems(conn, "DELETE FROM drafts WHERE step_id = 'x'")  # no index
    assert problems(conn, "SELECT a.id, u.login FROM audit_log a LEFT JOIN users u "
                          "ON a.actor = 'user:' || u.id WHERE actor = 'x' "
                          "ORDER BY a.id DESC LIMIT 200")  # the order beat the index
    assert problems(conn, "SELECT s.id FROM sessions s JOIN flows f ON f.id = s.flow_id "
                          "WHERE f.retention_days IS NOT NULL AND s.status = 'completed' "
                          "AND s.completed_at < date('now', '-' || f.retention_days || ' days')"
                    )  # every completed session
    assert problems(conn, "SELECT a.at FROM audit_log a JOIN users u "
                          "ON a.actor = 'user:' || u.id WHERE a.session_id = 1 "
                          "ORDER BY a.id DESC LIMIT 50")  # every helper's entries
