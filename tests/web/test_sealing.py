"""Children's data at rest (issue 13, item 5): a stolen database file, its write-ahead log or a
backup shows no child's name and no ID number; the key, kept outside the database, opens each
value only in its own row; `wizard rotate-key` seals everything again with a new key while
the app goes on serving; a backup sealed with a retired key is refused until that key is back.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time

import pytest
from family_helpers import KG, KG_LOCAL, answer_all, begin
from people_helpers import make_user

from wizard import sealing, store

NAME = "王小明"
ID_NUMBER = "110105202401010014"
TYPED = "王晓鸣"  # typed on a page with a mistake: kept as a draft for the redirect
NOTE = "外婆陪孩子来的"  # a volunteer's note
LABEL = "小明妈妈"  # what the family asked a helper to call them
KEPT = "李华"  # an answer a version move did not carry over
CONFLICT = "王大明"  # the other side of a conflict, in a replayed change's result
SECRETS = (NAME, ID_NUMBER, TYPED, NOTE, LABEL, KEPT, CONFLICT)


def spellings(text: str) -> list[bytes]:
    """Every way SQLite or JSON could hold the text: UTF-8, JSON's \\u escapes, UTF-16."""
    return [text.encode(), json.dumps(text).strip('"').encode(), text.encode("utf-16-le"),
            text.encode("utf-16-be")]


def found_in(data: bytes) -> list[str]:
    return [secret for secret in SECRETS if any(form in data for form in spellings(secret))]


def fill(app, client, db) -> int:
    """A family's answers and every other kind of sealed value, written the way the app
    writes them; returns the session id."""
    begin(client, KG)
    steps = [(step, {"child_name": NAME, "child_id": ID_NUMBER} if step == "child-details"
              else data) for step, data in KG_LOCAL]
    answer_all(client, steps)
    sid = db.db.execute("SELECT id FROM sessions").fetchone()[0]
    assert db.answers(sid)["child_id"] == ID_NUMBER
    # A page with a mistake keeps what was typed for the redirect (not followed here).
    response = client.post(f"{KG}/child-details", data={"child_name": TYPED, "child_id": "1"})
    assert response.status_code == 303
    helper = make_user(app)
    db.offer_grant(sid, "code-hash", LABEL, "2999-01-01T00:00:00+00:00")
    db.add_note(sid, "child-details", helper, NOTE)
    db.record_change(sid, "c" * 22, "child-details",
                     {"status": "conflict", "theirs": {"child_name": CONFLICT}})
    sess = db.session(sid)
    answers = {field: (field, value) for field, value in db.answers(sid).items()}
    assert db.move_session(sid, sess["revision"], sess["flow_version"], answers,
                           {"old_name": KEPT}, [], 0, None, "cli")
    # The move recorded the page's input; the family types it again, with the mistake.
    response = client.post(f"{KG}/child-details", data={"child_name": TYPED, "child_id": "1"})
    assert response.status_code == 303
    return sid


def test_a_stolen_database_or_backup_shows_no_name_and_no_id_number(app, client, db, runner,
                                                                    tmp_path):
    sid = fill(app, client, db)
    path = app.config["DATABASE"]
    wal = open(f"{path}-wal", "rb").read()
    assert len(wal) > 10_000, "the values are expected in the write-ahead log first"
    assert found_in(wal) == []
    assert found_in(open(path, "rb").read()) == []
    result = runner.invoke(args=["backup", str(tmp_path / "copy.sqlite3")])
    assert result.exit_code == 0, result.output
    assert "sealed with key" in result.output
    copy = open(tmp_path / "copy.sqlite3", "rb").read()
    assert found_in(copy) == []
    # The search would see them: the flow's own Chinese text is in the file in clear.
    assert "孩子的姓名".encode() in copy
    db.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert found_in(open(path, "rb").read()) == []
    # With the key, everything opens where it belongs.
    assert db.answers(sid)["child_name"] == NAME
    assert db.notes(sid)[0]["text"] == NOTE
    assert db.moves(sid)[0]["kept"]["answers"] == {"old_name": KEPT}
    assert db.change_result(sid, "c" * 22)["theirs"] == {"child_name": CONFLICT}
    assert db.moves(sid)[0]["kept"]["unsent"]["raw"]["child_name"] == TYPED
    assert db.take_draft(sid, "child-details")[0]["child_name"] == TYPED
    assert NAME in client.get(f"{KG}/review").get_data(as_text=True)


def test_every_column_of_a_familys_data_is_sealed(app, client, db):
    fill(app, client, db)
    for table, column, _keys, _json in store.SEALED:
        values = [row[0] for row in db.db.execute(f"SELECT {column} FROM {table}")]
        assert values, f"the test wrote no {table}.{column}"
        assert all(sealing.sealed_with(v) == db.keys.current for v in values), table


def test_a_sealed_value_opens_only_in_its_own_row(app, client, db):
    sid = fill(app, client, db)
    other = store.Store(app.config["DATABASE"])
    try:
        # A value copied from the child's name into another field does not open there.
        db.db.execute("UPDATE answers SET value = (SELECT value FROM answers WHERE "
                      "field_id = 'child_name') WHERE session_id = ? AND field_id = 'district'",
                      (sid,))
        with pytest.raises(sealing.KeyProblem, match="does not open"):
            other.answers(sid)
        # Nor does one altered by a byte.
        sealed = db.db.execute("SELECT text FROM helper_notes").fetchone()[0]
        middle = len(sealed) * 3 // 4  # inside the ciphertext, never base64's padding bits
        flipped = sealed[:middle] + ("A" if sealed[middle] != "A" else "B") + sealed[middle + 1:]
        db.db.execute("UPDATE helper_notes SET text = ?", (flipped,))
        with pytest.raises(sealing.KeyProblem):
            other.notes(sid)
    finally:
        other.close()


def test_without_its_key_a_sealed_database_is_refused_not_given_a_new_key(app, client, db):
    fill(app, client, db)
    key_file = sealing.key_file(app.config["DATABASE"])
    key_file.rename(key_file.with_name("elsewhere"))
    with pytest.raises(sealing.KeyProblem, match="no key to open them"):
        store.Store(app.config["DATABASE"])
    assert not key_file.exists()


def test_a_database_from_before_sealing_is_sealed_by_its_migration(tmp_path, branching):
    s = store.Store(tmp_path / "old.sqlite3")
    with s.write():
        store.migrations.apply(s.db, stop_before="m010_sealed")
    s.publish_flow(branching)
    sid = s.db.execute(
        "INSERT INTO sessions (flow_id, flow_version, locale, resume_salt, resume_hash, "
        "consent_version, consent_at, created_at, updated_at) VALUES ('branching', 1, 'en', "
        "'s', 'h', 'v1', 'then', 'then', 'then')").lastrowid
    # As the code before m010 wrote them: JSON answers, plain text notes and labels.
    s.db.execute("INSERT INTO answers (session_id, field_id, value, revision, entered_by, "
                 "entered_at) VALUES (?, 'name', ?, 1, 'family', 'then')",
                 (sid, json.dumps(NAME, ensure_ascii=False)))
    user = s.create_user("li", "Li", "Centre", "volunteer", "en", "x")
    s.db.execute("INSERT INTO helper_notes (session_id, step_id, user_id, text, at) "
                 "VALUES (?, 'birth', ?, ?, 'then')", (sid, user, NOTE))
    s.db.execute("INSERT INTO grants (session_id, label, kind, created_at) "
                 "VALUES (?, ?, 'code', 'then')", (sid, LABEL))
    # A note that happens to start the way sealed values do is plain text too.
    looks_sealed = "s1.0123456789ab.2 grade, ask about the permit"
    s.db.execute("INSERT INTO helper_notes (session_id, step_id, user_id, text, at) "
                 "VALUES (?, 'birth', ?, ?, 'then')", (sid, user, looks_sealed))
    assert s.migrate() == ["m010_sealed"]
    assert s.answers(sid) == {"name": NAME}
    assert [n["text"] for n in s.notes(sid)] == [NOTE, looks_sealed]
    assert s._label_opened(dict(s._one("SELECT label, session_id FROM grants")))["label"] == LABEL
    s.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.db.execute("VACUUM")
    assert found_in(open(tmp_path / "old.sqlite3", "rb").read()) == []
    s.close()


def test_rotate_key_seals_everything_again_while_the_app_serves(app, client, db, runner,
                                                                tmp_path):
    sid = fill(app, client, db)
    before = db.keys.current
    total = sum(db.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table, *_rest in store.SEALED)
    assert runner.invoke(args=["backup", str(tmp_path / "before.sqlite3")]).exit_code == 0
    refused = runner.invoke(args=["rotate-key"])
    assert refused.exit_code == 1 and "--retired-to FILE" in refused.output
    result = runner.invoke(args=["rotate-key", "--retired-to", str(tmp_path / "old.key")])
    assert result.exit_code == 0, result.output
    assert f"sealed {total} value(s) again" in result.output, result.output
    key_file = sealing.key_file(app.config["DATABASE"])
    assert len(key_file.read_text().split()) == 1
    assert sealing.parse((tmp_path / "old.key").read_text(), "old") != \
        sealing.parse(key_file.read_text(), "new")
    assert oct(key_file.stat().st_mode & 0o777) == oct(0o600)
    # Every value is now sealed with the new key, and the old key is gone from the keyring.
    after = store.Store(app.config["DATABASE"])
    assert after.keys.current != before and after.keys.ids == [after.keys.current]
    for table, column, _keys, _json in store.SEALED:
        kids = {sealing.sealed_with(row[0]) for row in
                after.db.execute(f"SELECT {column} FROM {table}")}
        assert kids == {after.keys.current}, table
    # The app, with its connection and keys from before, reads and saves as before.
    assert NAME in client.get(f"{KG}/review").get_data(as_text=True)
    assert client.post(f"{KG}/district", data={"district": "minhang"}).status_code == 303
    assert after.answers(sid)["district"] == "minhang"
    after.close()
    # A backup from before the rotation needs the retired key: refused, then accepted.
    check = runner.invoke(args=["restore", str(tmp_path / "before.sqlite3")])
    assert check.exit_code == 1 and f"sealed with key(s) {before}" in check.output
    key_file.write_text(key_file.read_text() + (tmp_path / "old.key").read_text())
    check = runner.invoke(args=["restore", str(tmp_path / "before.sqlite3")])
    assert check.exit_code == 0 and "nothing was changed" in check.output, check.output


def test_rotating_while_another_thread_saves_leaves_nothing_under_the_old_key(app, client, db,
                                                                             runner, tmp_path):
    """Each write picks up the key file as it begins: a save made during the rotation is
    sealed with the new key or sealed again by the next pass, never left under the old one."""
    sid = fill(app, client, db)
    before = db.keys.current
    stop, saves, errors = threading.Event(), [], []

    def save():
        writer = store.Store(app.config["DATABASE"])  # another connection, as a server thread
        try:
            n = 0
            while not stop.is_set():
                n += 1
                writer.save_answers(sid, {"district": f"d{n}", "housing": f"h{n}"})
                saves.append(n)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            writer.close()

    thread = threading.Thread(target=save)
    thread.start()
    try:
        while len(saves) < 20:
            time.sleep(0.01)
        result = runner.invoke(args=["rotate-key", "--forget-old"])
        done = len(saves)
        while len(saves) < done + 20 and thread.is_alive():
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    assert errors == [] and len(saves) > 40
    after = store.Store(app.config["DATABASE"])
    try:
        assert after.keys.current != before
        kids = {sealing.sealed_with(row[0]) for row in after.db.execute(
            "SELECT value FROM answers")}
        assert kids == {after.keys.current}
        assert after.answers(sid)["district"] == f"d{saves[-1]}"
    finally:
        after.close()


def test_a_wrong_key_is_refused_at_start(app, client, db, monkeypatch):
    fill(app, client, db)
    monkeypatch.setenv(sealing.ENV, sealing.new_key())  # well formed, but not this database's
    with pytest.raises(sealing.KeyProblem, match="a wrong or an old key"):
        store.Store(app.config["DATABASE"])


def test_a_key_file_others_can_read_is_refused(app, db):
    key_file = sealing.key_file(app.config["DATABASE"])
    key_file.chmod(0o644)
    with pytest.raises(sealing.KeyProblem, match="can be read by others"):
        store.Store(app.config["DATABASE"])


@pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")
def test_a_key_made_by_root_belongs_to_the_databases_owner(app, client, db, runner, tmp_path):
    """`wizard rotate-key` (or an upgrade's init-db) run as root must leave a key file the
    server's user can read."""
    fill(app, client, db)
    database = app.config["DATABASE"]
    for path in (database, sealing.key_file(database)):
        os.chown(path, 4242, 4242)
    result = runner.invoke(args=["rotate-key", "--forget-old"])
    assert result.exit_code == 0, result.output
    info = sealing.key_file(database).stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (4242, 4242, 0o600)
    # An upgrade run as root: the server's database gets its first key, the server's too.
    upgraded = tmp_path / "upgraded"
    upgraded.mkdir()
    sqlite3.connect(upgraded / "w.sqlite3").close()
    os.chown(upgraded / "w.sqlite3", 4343, 4343)
    store.Store(upgraded / "w.sqlite3").close()
    assert (upgraded / "data_key").stat().st_uid == 4343


def test_keys_from_the_environment(monkeypatch, tmp_path, branching):
    key = sealing.new_key()
    monkeypatch.setenv(sealing.ENV, f" {key} ")
    s = store.Store(tmp_path / "env.sqlite3")
    s.migrate()
    assert not sealing.key_file(tmp_path / "env.sqlite3").exists()
    assert s.keys.current == sealing.key_id(sealing.parse(key, "k")[0])
    s.close()
    monkeypatch.setenv(sealing.ENV, "not-a-key")
    with pytest.raises(sealing.KeyProblem, match=f"{sealing.ENV}: key 1 is not a key"):
        store.Store(tmp_path / "env.sqlite3")


def test_two_workers_starting_at_once_share_one_key(tmp_path):
    path = tmp_path / "data_key"
    for n in range(2):
        sealing.write_key_file(path, [sealing.new_key()], replace=False, like=tmp_path)
        if n == 0:
            first = path.read_text()
    assert path.read_text() == first
    assert [p.name for p in tmp_path.iterdir()] == ["data_key"]  # no temporary file left


def test_the_raw_search_finds_what_is_not_sealed(tmp_path):
    """The search in these tests is not blind: a plain SQLite file holding the values (the
    way the database held them before m010) is caught, in each spelling."""
    conn = sqlite3.connect(tmp_path / "plain.sqlite3")
    conn.execute("CREATE TABLE t (v TEXT)")
    conn.execute("INSERT INTO t VALUES (?)", (json.dumps({"n": NAME, "i": ID_NUMBER}),))
    conn.commit()
    conn.close()
    assert found_in((tmp_path / "plain.sqlite3").read_bytes()) == [NAME, ID_NUMBER]
