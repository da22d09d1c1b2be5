"""`wizard backup` and `wizard restore`: consistent online copies, checked before use."""

import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from wizard import store


def _session(s: store.Store, name: str, answers: dict) -> int:
    sid = s.create_session(f"token-{name}", "branching", 1, "en", resume_salt=name,
                           resume_hash=f"resume-{name}", consent_version="v1")
    s.save_answers(sid, answers)
    return sid


def _count(path, table: str) -> int:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def _children(app) -> list[str]:
    return sorted(p.name for p in Path(app.config["DATABASE"]).parent.iterdir())


@pytest.fixture
def families(app):
    """Two families' sessions with answers in the app's database."""
    s = store.Store(app.config["DATABASE"])
    ids = [_session(s, "a", {"hukou": "other", "child_dob": "2023-10-01"}),
           _session(s, "b", {"hukou": "shanghai"})]
    s.close()
    return ids


@pytest.fixture
def backup(app, runner, families, tmp_path):
    """A backup of the database with the two families, in a directory of its own."""
    dest = tmp_path / "backups" / "one.sqlite3"
    dest.parent.mkdir()
    result = runner.invoke(args=["backup", str(dest)])
    assert result.exit_code == 0, result.output
    return dest


# ------------------------------------------------------------ backup


def test_backup_while_a_write_is_open_copies_every_committed_row_only(app, runner, families,
                                                                       tmp_path):
    live = store.Store(app.config["DATABASE"])
    assert live.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # Another connection is in the middle of a write (its rows are in no commit yet).
    live.db.execute("BEGIN IMMEDIATE")
    live.db.execute("INSERT INTO answers (session_id, field_id, value, revision, entered_by, "
                    "entered_at) VALUES (?, 'uncommitted', '1', 9, 'family', 'now')",
                    (families[0],))
    try:
        dest = tmp_path / "copy.sqlite3"
        result = runner.invoke(args=["backup", str(dest)])
    finally:
        live.db.execute("ROLLBACK")
        live.close()
    assert result.exit_code == 0, result.output
    assert f"wrote {dest}" in result.output
    assert "integrity check: ok" in result.output
    assert "sessions: 2, answers: 3, flow versions: 2" in result.output
    assert "secret key" in result.output
    # Children's data: the owner alone may read the copy.
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    conn = sqlite3.connect(str(dest))
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    # Self-contained: not in WAL mode, nothing to carry beside it.
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    rows = conn.execute("SELECT session_id, field_id FROM answers ORDER BY 1, 2").fetchall()
    conn.close()
    assert rows == [(families[0], "child_dob"), (families[0], "hukou"),
                    (families[1], "hukou")]
    assert not Path(f"{dest}-wal").exists()


def test_the_copy_has_the_live_databases_migrations(app, backup):
    report = store.Store.check_copy(backup)
    live = store.Store(app.config["DATABASE"])
    assert report["migrations"] == [m.name for m in store.migrations.applied(live.db)]
    live.close()
    assert report["pending"] == [] and report["integrity"] == "ok"
    assert report["counts"] == {"sessions": 2, "answers": 3, "flow_versions": 2}


def test_backup_refuses_to_overwrite_a_file(runner, app, tmp_path):
    dest = tmp_path / "taken.sqlite3"
    dest.write_bytes(b"something precious")
    result = runner.invoke(args=["backup", str(dest)])
    assert result.exit_code == 1
    assert "refused" in result.output and "never overwrites" in result.output
    assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
    assert dest.read_bytes() == b"something precious"


def test_the_store_refuses_an_existing_file_too(app, tmp_path):
    dest = tmp_path / "taken.sqlite3"
    dest.write_bytes(b"")
    s = store.Store(app.config["DATABASE"])
    with pytest.raises(FileExistsError):
        s.backup(dest)
    s.close()
    assert dest.read_bytes() == b""


def test_backup_into_a_directory_makes_a_timestamped_name(runner, app, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    result = runner.invoke(args=["backup", str(folder)])
    assert result.exit_code == 0, result.output
    made = list(folder.iterdir())
    assert len(made) == 1
    name = made[0].name
    assert name.startswith("wizard-") and name.endswith(".sqlite3")
    stamp = name[len("wizard-"):-len(".sqlite3")]
    assert len(stamp) == 15 and stamp[8] == "-" and stamp.replace("-", "").isdigit()
    assert f"wrote {made[0]}" in result.output


def test_backup_into_a_missing_directory_is_refused(runner, app, tmp_path):
    for dest in [tmp_path / "nowhere" / "copy.sqlite3", f"{tmp_path / 'nowhere'}/"]:
        result = runner.invoke(args=["backup", str(dest)])
        assert result.exit_code == 1
        assert "does not exist" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "nowhere").exists()


def test_backup_without_a_database_is_refused(tmp_path):
    from wizard import create_app

    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "none.sqlite3"),
                      "SECRET_KEY": "x"})
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "copy.sqlite3")])
    assert result.exit_code == 1 and "there is no database" in result.output
    assert not (tmp_path / "none.sqlite3").exists()


# ------------------------------------------------------------ restore


def _fingerprint(app):
    path = app.config["DATABASE"]
    return _count(path, "sessions"), _count(path, "answers"), _children(app)


def test_restore_of_a_corrupt_file_is_refused_and_changes_nothing(runner, app, families,
                                                                  tmp_path):
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"\x00garbage, not a database\xff" * 200)
    before = _fingerprint(app)
    for args in (["restore", str(bad)], ["restore", str(bad), "--yes"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1
        assert "cannot be restored" in result.output and "Nothing was changed" in result.output
        assert "Traceback" not in result.output
        assert _fingerprint(app) == before


def test_restore_of_a_damaged_backup_is_refused(runner, app, backup):
    # A good backup with a page in the middle overwritten.
    data = bytearray(backup.read_bytes())
    data[4096 * 3: 4096 * 3 + 2048] = b"\xa5" * 2048
    backup.write_bytes(bytes(data))
    before = _fingerprint(app)
    result = runner.invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 1 and "cannot be restored" in result.output
    assert _fingerprint(app) == before


def test_restore_of_a_database_that_is_not_wizards_is_refused(runner, app, tmp_path):
    other = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(str(other))
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    result = runner.invoke(args=["restore", str(other), "--yes"])
    assert result.exit_code == 1 and "not a wizard database" in result.output


def test_restore_of_a_backup_from_newer_code_is_refused(runner, app, backup):
    conn = sqlite3.connect(str(backup))
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('wizard', 'm999_from_the_future', 'later')")
    conn.commit()
    conn.close()
    result = runner.invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 1
    assert "newer version of wizard" in result.output and "m999_from_the_future" in result.output


def test_restore_without_yes_only_checks(runner, app, backup):
    s = store.Store(app.config["DATABASE"])
    _session(s, "c", {"hukou": "other"})  # after the backup
    s.close()
    before = _fingerprint(app)
    result = runner.invoke(args=["restore", str(backup)])
    assert result.exit_code == 0, result.output
    assert "sound wizard database" in result.output
    assert "sessions: 2, answers: 3" in result.output
    assert "nothing was changed" in result.output and "--yes" in result.output
    assert _fingerprint(app) == before
    assert before[0] == 3


def test_restore_with_yes_replaces_the_data_and_keeps_the_old_file_aside(runner, app, backup):
    database = Path(app.config["DATABASE"])
    s = store.Store(database)
    _session(s, "c", {"hukou": "other"})  # after the backup: gone once restored
    s.close()
    result = runner.invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    assert f"restored {backup} into {database}" in result.output
    assert "secret key" in result.output
    assert _count(database, "sessions") == 2 and _count(database, "answers") == 3
    asides = [p for p in database.parent.iterdir()
              if p.name.startswith(database.name + ".before-restore-")]
    old = [p for p in asides if not p.name.endswith(("-wal", "-shm"))]
    assert len(old) == 1 and f"moved the old database aside: {old[0]}" in result.output
    assert _count(old[0], "sessions") == 3  # the old data, whole
    # No stray files: the staged copy became the database.
    assert not [p for p in database.parent.iterdir() if ".restoring-" in p.name]
    # The restored database works with the app.
    s = store.Store(database)
    assert s.health()["ok"] and s.answers(1) == {"hukou": "other", "child_dob": "2023-10-01"}
    s.close()
    # The backup itself is untouched and can be restored again.
    assert store.Store.check_copy(backup)["counts"]["sessions"] == 2


def test_restore_into_an_empty_place(tmp_path, backup):
    from wizard import create_app

    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "new" / "w.sqlite3"),
                      "SECRET_KEY": "x"})
    (tmp_path / "new").mkdir()
    # A new machine without the data key: refused, since no answer could be read.
    result = app.test_cli_runner().invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 1 and "which this server does not have" in result.output
    assert not (tmp_path / "new" / "w.sqlite3").exists()
    # The operator brings the key from where it is kept, apart from the backups.
    shutil.copy(tmp_path / "data_key", tmp_path / "new" / "data_key")
    result = app.test_cli_runner().invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    assert "there was no database" in result.output
    assert _count(tmp_path / "new" / "w.sqlite3", "sessions") == 2


def test_restoring_an_older_backup_applies_the_migrations(runner, app, tmp_path):
    old = tmp_path / "old.sqlite3"
    s = store.Store(old)
    with s.write():
        store.migrations.apply(s.db, stop_before="m007_studio")
    # A row as the code of that time wrote it.
    s.db.execute("INSERT INTO flow_versions (flow_id, version, source, published_at) "
                 "VALUES ('branching', 1, 'id: branching', 'then')")
    s.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.db.execute("PRAGMA journal_mode = DELETE")
    s.close()
    result = runner.invoke(args=["restore", str(old)])
    assert result.exit_code == 0, result.output
    assert "m007_studio" in result.output and "nothing was changed" in result.output
    result = runner.invoke(args=["restore", str(old), "--yes"])
    assert result.exit_code == 0, result.output
    assert "applied m007_studio" in result.output
    restored = store.Store(app.config["DATABASE"])
    health = restored.health()
    assert health["ok"] and health["pending"] == []
    assert "m007_studio" in health["migrations"]
    assert restored.latest_version("branching") == 1
    restored.close()


def test_restore_refuses_the_database_itself_and_a_copy_with_a_log(runner, app, tmp_path):
    import shutil

    live = store.Store(app.config["DATABASE"])
    live.db.execute("PRAGMA wal_autocheckpoint = 0")
    _session(live, "d", {"hukou": "other"})  # in the -wal file, not yet in the main one
    result = runner.invoke(args=["restore", app.config["DATABASE"], "--yes"])
    assert result.exit_code == 1 and "the database itself" in result.output
    # Files copied from under a running server: the main file alone would lose the log's rows.
    copied = tmp_path / "copied.sqlite3"
    shutil.copyfile(app.config["DATABASE"], copied)
    shutil.copyfile(app.config["DATABASE"] + "-wal", f"{copied}-wal")
    live.close()
    result = runner.invoke(args=["restore", str(copied), "--yes"])
    assert result.exit_code == 1 and "write-ahead log" in result.output
    assert "wizard backup" in result.output


def test_a_restore_does_not_bring_back_what_was_erased_since_the_backup(runner, app, families,
                                                                        backup):
    s = store.Store(app.config["DATABASE"])
    s.delete_session(families[1])  # the family asked, after the backup was made
    s.expire_idle("2999-01-01T00:00:00+00:00", families[0])
    s.close()
    result = runner.invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    assert ("the answers of 1 session(s) deleted by their families and of 1 expired"
            in result.output)
    assert "wizard purge" in result.output
    s = store.Store(app.config["DATABASE"])
    assert s.answers(families[0]) == {} and s.answers(families[1]) == {}
    assert s.session(families[1])["status"] == "deleted"
    assert s.session(families[0])["status"] == "expired"
    assert [e["actor"] for e in s.audit_entries(families[1])][-1] == "restore"
    s.close()
    # The backup itself still holds them: that is why backups are kept a short time.
    assert _count(backup, "answers") == 3
