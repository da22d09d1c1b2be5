"""The store on a real SQLite file: migrations, flow versions, sessions, answers, audit."""

import multiprocessing
import sqlite3

import pytest

from wizard import store


def test_connection_settings(db):
    conn = db.db.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == store.BUSY_TIMEOUT_MS
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_migrations_are_idempotent_and_reported(db):
    assert db.migrate() == []
    health = db.health()
    assert health["ok"] and health["pending"] == []
    assert health["migrations"] == ["m001_base", "m002_drafts", "m003_sync",
                                    "m004_answer_device", "m005_helpers",
                                    "m006_helper_phones", "m007_studio",
                                    "m008_draft_serial", "m009_indexes", "m010_sealed"]


def test_publish_flow_keeps_exact_source(db, branching):
    assert db.publish_flow(branching) is True
    assert db.publish_flow(branching) is False  # same text again: nothing to do
    assert db.flow_source("branching") == (1, branching.source)
    from dataclasses import replace

    with pytest.raises(store.VersionClash):
        db.publish_flow(replace(branching, source=branching.source + "\n# changed"))
    db.publish_flow(replace(branching, version=2, source="v2"))
    assert db.flow_source("branching") == (2, "v2")
    assert db.flow_source("branching", 1) == (1, branching.source)
    assert [(r["flow_id"], r["version"]) for r in db.latest_versions()] == [("branching", 2)]


def new_session(db, token_hash, flow_id="branching", version=1, locale="zh_Hans"):
    return db.create_session(token_hash, flow_id, version, locale, resume_salt="s",
                             resume_hash="r-" + token_hash, consent_version="v1")


def make_session(db, flow):
    db.publish_flow(flow)
    return new_session(db, "hash-" + str(id(flow)), flow.id, flow.version)


def test_save_answers_bumps_revision_and_records_who(db, branching):
    sid = make_session(db, branching)
    assert db.save_answers(sid, {"hukou": "other", "child_dob": "2023-10-01"}) == 1
    assert db.save_answers(sid, {"has_permit": True}, entered_by="volunteer:7") == 2
    assert db.answers(sid) == {"hukou": "other", "child_dob": "2023-10-01", "has_permit": True}
    rows = {r["field_id"]: r for r in db.answer_rows(sid)}
    assert rows["has_permit"]["entered_by"] == "volunteer:7"
    assert rows["has_permit"]["revision"] == 2 and rows["hukou"]["revision"] == 1
    assert rows["hukou"]["entered_at"]
    assert db.session(sid)["revision"] == 2


def test_none_means_asked_and_left_empty(db, branching):
    sid = make_session(db, branching)
    db.save_answers(sid, {"points": 120, "hukou": "other"})
    db.save_answers(sid, {"points": None})
    assert db.answers(sid) == {"hukou": "other", "points": None}


def test_a_change_from_another_device_is_not_overwritten(db, branching):
    sid = make_session(db, branching)
    seen = db.save_answers(sid, {"hukou": "other", "mobile": "13800138000"})
    db.save_answers(sid, {"hukou": "shanghai"}, entered_by="volunteer:2")  # the other phone
    with pytest.raises(store.Conflict) as info:
        db.save_answers(sid, {"hukou": "other"}, seen_revision=seen)
    assert info.value.changed == {"hukou": "shanghai"}
    assert db.answers(sid)["hukou"] == "shanghai"
    # Saves that touch other fields, or agree with the change, go through.
    db.save_answers(sid, {"mobile": "13900139000"}, seen_revision=seen)
    db.save_answers(sid, {"hukou": "shanghai"}, seen_revision=seen)
    # Once the person has seen the new value, their choice wins.
    latest = db.session(sid)["revision"]
    db.save_answers(sid, {"hukou": "other"}, seen_revision=latest)
    assert db.answers(sid)["hukou"] == "other"


def test_a_failed_save_leaves_nothing_half_written(db, branching):
    sid = make_session(db, branching)
    db.save_answers(sid, {"hukou": "other"})
    with pytest.raises(TypeError):
        db.save_answers(sid, {"mobile": "13800138000", "bad": object()})
    assert db.answers(sid) == {"hukou": "other"}
    assert db.session(sid)["revision"] == 1


def test_token_hash_is_unique(db, branching):
    make_session(db, branching)
    with pytest.raises(sqlite3.IntegrityError):
        db.create_session("hash-" + str(id(branching)), "branching", 1, "en", resume_salt="t",
                          resume_hash="other", consent_version="v1")


def test_session_needs_a_published_flow_version(db):
    with pytest.raises(sqlite3.IntegrityError):
        new_session(db, "h", "nowhere")


def test_delete_erases_answers_and_is_audited(db, branching):
    sid = make_session(db, branching)
    db.save_answers(sid, {"hukou": "other"})
    db.delete_session(sid)
    assert db.answers(sid) == {}
    assert db.session(sid)["status"] == "deleted"
    assert [e["action"] for e in db.audit_entries(sid)] == ["delete"]
    with pytest.raises(LookupError):
        db.save_answers(sid, {"hukou": "other"})


def test_second_device_token_and_resume_lookup(db, branching):
    sid = make_session(db, branching)
    db.add_token(sid, "second-phone")
    assert db.session_by_token("second-phone")["id"] == sid
    assert db.session_by_resume("r-hash-" + str(id(branching)))["id"] == sid
    assert db.session_by_token("nobody") is None


def test_touch_and_expire_idle(db, branching):
    sid = make_session(db, branching)
    db.save_answers(sid, {"hukou": "other"})
    db.touch(sid, last_step="hukou", locale="en")
    row = db.session(sid)
    assert row["last_step"] == "hukou" and row["locale"] == "en" and row["revision"] == 1
    assert db.expire_idle("2000-01-01T00:00:00+00:00") == 0
    assert db.expire_idle("2999-01-01T00:00:00+00:00") == 1
    assert db.answers(sid) == {} and db.session(sid)["status"] == "expired"


def test_attempts_are_claimed_before_they_are_judged(db):
    limits = [("code:x", 2, 900), ("client:y", 3, 3600)]
    assert db.claim_attempt(limits, 1000.0)[2] == 1  # code:x: one more after this one
    wait, ids, left = db.claim_attempt(limits, 1010.0)
    assert wait == 0 and len(ids) == 2 and left == 0
    assert db.claim_attempt(limits, 1020.0) == (881, [], 0)  # code:x is full until 1000 + 900
    db.forget_attempts(ids)  # a success does not count
    assert db.claim_attempt(limits, 1030.0)[0] == 0
    # Old attempts are dropped as new ones come.
    assert db.claim_attempt(limits, 1000.0 + 2 * 86400)[0] == 0
    assert db.db.execute("SELECT COUNT(*) FROM attempts").fetchone()[0] == 2


def test_simultaneous_attempts_cannot_pass_the_limit(tmp_path, branching):
    import threading

    path = tmp_path / "race.sqlite3"
    setup = store.Store(path)
    setup.migrate()
    setup.close()
    allowed = []

    def attempt(i):
        s = store.Store(path)
        wait, _, _ = s.claim_attempt([("code:same", 5, 900), (f"client:{i}", 60, 3600)], 5000.0)
        allowed.append(wait == 0)
        s.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(allowed) == 5


def test_audit_log(db, branching):
    sid = make_session(db, branching)
    db.audit("volunteer:3", "view", sid, {"step": "hukou"})
    (entry,) = db.audit_entries(sid)
    assert entry["actor"] == "volunteer:3" and entry["detail"] == {"step": "hukou"}


# ------------------------------------------------------------ concurrency

WORKERS = 8
SAVES = 200


def _worker(args):
    path, worker = args
    s = store.Store(path)
    errors = 0
    sid = new_session(s, f"token-{worker}")
    for i in range(SAVES):
        try:
            s.save_answers(sid, {f"f{i}": {"worker": worker, "i": i}})
        except Exception:
            errors += 1
    s.close()
    return sid, errors


@pytest.mark.slow
def test_eight_processes_each_save_200_steps(tmp_path, branching):
    path = tmp_path / "busy.sqlite3"
    setup = store.Store(path)
    setup.migrate()
    setup.publish_flow(branching)
    setup.close()
    with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
        results = pool.map(_worker, [(str(path), w) for w in range(WORKERS)])
    assert sum(errors for _, errors in results) == 0
    check = store.Store(path)
    assert check.db.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == WORKERS * SAVES
    for sid, _ in results:
        assert check.session(sid)["revision"] == SAVES
        assert len(check.answers(sid)) == SAVES
    check.close()


# ------------------------------------------------------------ replayed changes (sync API)


def test_migration_m003_sync_is_applied(db):
    assert "m003_sync" in db.health()["migrations"]
    assert "sync_changes" in db.db.table_names()
    columns = {c.name for c in db.db["sessions"].columns}
    assert {"started_offline", "consent_claimed_at", "start_hash"} <= columns


def test_apply_change_saves_records_and_replays_once(db, branching):
    sid = make_session(db, branching)
    result = db.apply_change(sid, "c" * 22, "hukou", {"hukou": "other"}, None,
                             claimed_at="phone clock", extra={"version_moved": True})
    assert result == {"status": "applied", "revision": 1, "version_moved": True}
    assert db.answers(sid) == {"hukou": "other"} and db.session(sid)["last_step"] == "hukou"
    row = db.db.execute("SELECT step_id, claimed_at, received_at FROM sync_changes").fetchone()
    assert row[0] == "hukou" and row[1] == "phone clock" and row[2].startswith("20")
    # The same change again (even with other values) changes nothing and says so.
    again = db.apply_change(sid, "c" * 22, "hukou", {"hukou": "shanghai"}, None)
    assert again == {**result, "replayed": True}
    assert db.answers(sid) == {"hukou": "other"} and db.session(sid)["revision"] == 1
    assert db.change_result(sid, "c" * 22) == again
    assert db.change_result(sid, "d" * 22) is None


def test_a_change_id_belongs_to_its_session(db, branching):
    one = make_session(db, branching)
    two = new_session(db, "another-token")
    db.apply_change(one, "c" * 22, "hukou", {"hukou": "other"}, None)
    assert db.apply_change(two, "c" * 22, "hukou", {"hukou": "shanghai"}, None)["status"] \
        == "applied"
    assert db.answers(two) == {"hukou": "shanghai"}


def test_a_change_is_never_saved_without_being_recorded(db, branching, monkeypatch):
    sid = make_session(db, branching)

    def crash(*args):
        raise RuntimeError("power cut")

    monkeypatch.setattr(db, "_record", crash)
    with pytest.raises(RuntimeError):
        db.apply_change(sid, "c" * 22, "hukou", {"hukou": "other"}, None)
    assert db.answers(sid) == {} and db.session(sid)["revision"] == 0
    assert db.session(sid)["last_step"] is None
    monkeypatch.undo()
    # The phone's retry then saves it, once.
    assert db.apply_change(sid, "c" * 22, "hukou", {"hukou": "other"}, None)["revision"] == 1


def test_a_conflicting_change_saves_and_records_nothing(db, branching):
    sid = make_session(db, branching)
    seen = db.save_answers(sid, {"hukou": "other"})
    db.save_answers(sid, {"hukou": "shanghai"}, entered_by="volunteer:2")
    with pytest.raises(store.Conflict) as info:
        db.apply_change(sid, "c" * 22, "hukou", {"hukou": "other"}, seen)
    assert info.value.changed == {"hukou": "shanghai"} and info.value.current == 2
    assert db.change_result(sid, "c" * 22) is None and db.answers(sid)["hukou"] == "shanghai"


def test_record_change_keeps_the_first_result(db, branching):
    sid = make_session(db, branching)
    first = db.record_change(sid, "c" * 22, "hukou", {"status": "invalid", "errors": {}})
    assert first == {"status": "invalid", "errors": {}}
    assert db.record_change(sid, "c" * 22, "hukou", {"status": "skipped"}) == {
        **first, "replayed": True}
    assert db.apply_change(sid, "c" * 22, "hukou", {"hukou": "other"}, None)["status"] \
        == "invalid"
    assert db.answers(sid) == {}


def test_the_same_change_sent_at_once_by_many_threads_is_applied_once(tmp_path, branching):
    import threading

    path = tmp_path / "replay.sqlite3"
    setup = store.Store(path)
    setup.migrate()
    sid = make_session(setup, branching)
    setup.close()
    results = []

    def send():
        s = store.Store(path)
        results.append(s.apply_change(sid, "c" * 22, "hukou", {"hukou": "other"}, 0))
        s.close()

    threads = [threading.Thread(target=send) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for r in results if not r.get("replayed")) == 1 and len(results) == 12
    check = store.Store(path)
    assert check.session(sid)["revision"] == 1
    check.close()


def test_one_offline_start_makes_one_session(db, branching):
    db.publish_flow(branching)

    def start(token):
        return db.create_session(token, "branching", 1, "en", resume_salt=token,
                                 resume_hash="r-" + token, consent_version="v1",
                                 start_hash="start-hash", consent_claimed_at="phone",
                                 started_offline=True)

    first, retried = start("t1"), start("t2")
    assert first == retried
    assert db.session_by_token("t2")["id"] == first  # the retry's device can open it
    row = db.session(first)
    assert row["started_offline"] == 1 and row["consent_claimed_at"] == "phone"
    assert row["start_hash"] == "start-hash" and row["resume_hash"] == "r-t1"
    assert db.db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 1
    assert db.audit_entries(first) == []  # the family's own start is not audited
    # Sessions started online have no start hash, and never clash on it.
    assert new_session(db, "a") != new_session(db, "b")


def test_erasing_a_session_erases_its_replayed_changes(db, branching):
    sid = make_session(db, branching)
    db.record_change(sid, "c" * 22, "hukou", {"status": "conflict", "conflicts": {
        "hukou": {"server": "shanghai", "phone": "other"}}})
    db.delete_session(sid)
    assert db.db.execute("SELECT COUNT(*) FROM sync_changes").fetchone()[0] == 0


def test_an_expired_session_takes_no_answers(db, branching):
    sid = make_session(db, branching)
    db.save_answers(sid, {"hukou": "other"})
    db.expire_idle("2999-01-01T00:00:00+00:00")
    with pytest.raises(LookupError):
        db.save_answers(sid, {"hukou": "other"})
    with pytest.raises(LookupError):
        db.apply_change(sid, "c" * 22, "hukou", {"hukou": "other"}, None)
    assert db.answers(sid) == {}


# ------------------------------------------------------------ which device wrote an answer


def test_migration_m004_adds_the_device_and_the_completion_time(tmp_path, branching):
    # A database made before m004, with a session completed then: it gets the best time known.
    s = store.Store(tmp_path / "old.sqlite3")
    with s.write():
        store.migrations.apply(s.db, stop_before="m004_answer_device")
    # Rows as the code of that time wrote them (today's store writes later columns).
    s.db.execute("INSERT INTO flow_versions (flow_id, version, source, published_at) "
                 "VALUES ('branching', 1, ?, 'then')", (branching.source,))
    done, active = (s.db.execute(
        "INSERT INTO sessions (flow_id, flow_version, locale, resume_salt, resume_hash, "
        "consent_version, consent_at, created_at, updated_at) VALUES ('branching', 1, 'en', "
        "'s', ?, 'v1', 'then', 'then', 'then')", (code,)).lastrowid for code in "ab")
    s.db.execute("INSERT INTO answers (session_id, field_id, value, revision, entered_by, "
                 "entered_at) VALUES (?, 'hukou', '\"other\"', 1, 'family', 'then')", (active,))
    s.db.execute("UPDATE sessions SET status = 'completed' WHERE id = ?", (done,))
    assert s.migrate() == ["m004_answer_device", "m005_helpers", "m006_helper_phones",
                           "m007_studio", "m008_draft_serial", "m009_indexes",
                           "m010_sealed"]
    assert "device" in {c.name for c in s.db["answers"].columns}
    assert s.db.execute("SELECT device FROM answers").fetchall() == [(None,)]
    assert s.session(done)["completed_at"] == s.session(done)["updated_at"]
    assert s.session(active)["completed_at"] is None
    s.close()


def test_a_devices_own_saves_never_conflict_with_each_other(db, branching):
    sid = make_session(db, branching)
    # One phone, two saves of one answer, both made from revision 0 (queued offline).
    assert db.save_answers(sid, {"hukou": "other"}, seen_revision=0, device="phone") == 1
    assert db.save_answers(sid, {"hukou": "shanghai"}, seen_revision=0, device="phone") == 2
    assert db.answers(sid) == {"hukou": "shanghai"}
    assert db.db.execute("SELECT device FROM answers").fetchall() == [("phone",)]
    # Another device from revision 0: a conflict, as before.
    with pytest.raises(store.Conflict) as info:
        db.save_answers(sid, {"hukou": "other"}, seen_revision=0, device="volunteer")
    assert info.value.changed == {"hukou": "shanghai"}
    # Without a device every save since seen_revision counts, even the phone's own.
    with pytest.raises(store.Conflict):
        db.save_answers(sid, {"hukou": "other"}, seen_revision=0)
    # An answer of unknown origin (saved without a device) is another device's.
    db.save_answers(sid, {"mobile": "13800138000"})
    with pytest.raises(store.Conflict):
        db.save_answers(sid, {"mobile": "13900139000"}, seen_revision=0, device="phone")
    # Once another device wrote it last, the phone's old revision conflicts again.
    db.save_answers(sid, {"hukou": "other"}, seen_revision=2, device="volunteer")
    with pytest.raises(store.Conflict):
        db.save_answers(sid, {"hukou": "shanghai"}, seen_revision=0, device="phone")


def test_apply_change_records_the_device(db, branching):
    sid = make_session(db, branching)
    db.apply_change(sid, "a" * 22, "hukou", {"hukou": "other"}, 0, device="phone")
    assert db.apply_change(sid, "b" * 22, "hukou", {"hukou": "shanghai"}, 0,
                           device="phone")["status"] == "applied"
    with pytest.raises(store.Conflict):
        db.apply_change(sid, "c" * 22, "hukou", {"hukou": "other"}, 0, device="other")


def test_completion_time_is_noted(db, branching):
    sid = make_session(db, branching)
    assert db.session(sid)["completed_at"] is None
    db.set_status(sid, "completed")
    first = db.session(sid)["completed_at"]
    assert first and first == db.session(sid)["updated_at"]
    db.set_status(sid, "deleted")  # another status keeps it (as a record of when)
    assert db.session(sid)["completed_at"] == first
    other = new_session(db, "other-phone")
    db.complete_change(other, "d" * 22)
    assert db.session(other)["completed_at"] == db.session(other)["updated_at"]


def test_an_answer_saved_again_unchanged_is_no_conflict_for_another_device(db, branching):
    """A step is saved whole: its unchanged answers keep their revision and author, so a
    device that changed only one of them conflicts with that one alone."""
    sid = make_session(db, branching)
    first = db.save_answers(sid, {"a": "1", "b": "2"}, device="phone-1")
    db.save_answers(sid, {"a": "changed", "b": "2"}, device="phone-2", seen_revision=first)
    rows = {r["field_id"]: r for r in db.answer_rows(sid)}
    assert rows["b"]["revision"] == first
    with pytest.raises(store.Conflict) as conflict:
        db.save_answers(sid, {"a": "mine", "b": "new"}, device="phone-1", seen_revision=first)
    assert set(conflict.value.changed) == {"a"}


def test_a_new_database_and_its_log_are_readable_by_their_owner_only(tmp_path):
    s = store.Store(tmp_path / "new.sqlite3")
    s.migrate()
    try:
        for name in ("new.sqlite3", "new.sqlite3-wal", "new.sqlite3-shm", "data_key"):
            assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name
    finally:
        s.close()


def test_init_db_makes_an_older_database_owner_only(tmp_path):
    s = store.Store(tmp_path / "old.sqlite3")
    s.migrate()
    s.close()
    (tmp_path / "old.sqlite3").chmod(0o644)  # as databases were made before
    s = store.Store(tmp_path / "old.sqlite3")
    try:
        assert s.migrate() == []
        assert (tmp_path / "old.sqlite3").stat().st_mode & 0o777 == 0o600
    finally:
        s.close()
