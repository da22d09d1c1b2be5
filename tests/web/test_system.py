"""The app factory, /healthz and the command line, on a real SQLite file."""

import re
from pathlib import Path

import pytest

from wizard import create_app, store

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def app(tmp_path):
    """An app whose database has the schema but no flows yet."""
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "app.sqlite3"),
                      "SECRET_KEY": "test"})
    s = store.Store(app.config["DATABASE"])
    s.migrate()
    s.close()
    return app


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["journal_mode"] == "wal"
    assert body["database"]["pending"] == []


def test_healthz_says_so_when_the_schema_is_missing(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "empty.sqlite3"),
                      "SECRET_KEY": "t"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"]["pending"] == ["m001_base", "m002_drafts",
                                                          "m003_sync", "m004_answer_device",
                                                          "m005_helpers", "m006_helper_phones",
                                                          "m007_studio", "m008_draft_serial",
                                                          "m009_indexes", "m010_sealed"]


def test_check_command_clean_and_broken(runner, tmp_path):
    result = runner.invoke(args=["check", str(ROOT / "flows" / "kindergarten-shanghai.yaml")])
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text((ROOT / "tests" / "flows" / "branching.yaml").read_text("utf-8")
                      .replace("type: mobile", "type: mobil"), "utf-8")
    result = runner.invoke(args=["check", str(broken)])
    assert result.exit_code == 1
    assert re.search(r"broken\.yaml:\d+: steps\[4\]\.fields\[0\]\.type: unknown field type "
                     r"'mobil'", result.output), result.output


def test_init_db_and_import(runner, app):
    assert "up to date" in runner.invoke(args=["init-db"]).output
    result = runner.invoke(args=["import"])
    assert result.exit_code == 0, result.output
    assert re.search(r"kindergarten-shanghai version \d+: published", result.output)
    assert "already published" in runner.invoke(args=["import"]).output
    assert re.search(r"kindergarten-shanghai\tversion \d+", runner.invoke(args=["flows"]).output)


def test_import_refuses_a_broken_file_and_imports_nothing(runner, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nsteps: [", "utf-8")
    good = ROOT / "tests" / "flows" / "branching.yaml"
    result = runner.invoke(args=["import", str(good), str(broken)])
    assert result.exit_code == 1 and "nothing was imported" in result.output
    assert "branching" not in runner.invoke(args=["flows"]).output


def test_every_cli_command_is_in_the_readme(app):
    readme = (ROOT / "README.md").read_text("utf-8")
    ours = set(app.cli.commands)
    assert {"check", "init-db", "import", "flows", "purge"} <= ours
    for name in sorted(ours):
        assert f"wizard {name}" in readme, f"README.md does not document 'wizard {name}'"
    assert "make serve" in readme and "make test" in readme


def test_purge_erases_idle_sessions_only(runner, app):
    s = store.Store(app.config["DATABASE"])
    from wizard.flow import loader

    s.publish_flow(loader.load_file(ROOT / "tests" / "flows" / "branching.yaml").flow)
    old = s.create_session("a", "branching", 1, "en", resume_salt="1", resume_hash="1",
                           consent_version="v1")
    new = s.create_session("b", "branching", 1, "en", resume_salt="2", resume_hash="2",
                           consent_version="v1")
    s.save_answers(old, {"hukou": "other"})
    s.save_answers(new, {"hukou": "other"})
    s.db.execute("UPDATE sessions SET updated_at = '2001-01-01T00:00:00+00:00' WHERE id = ?",
                 (old,))
    result = runner.invoke(args=["purge"])
    assert "erased the answers of 1 session(s)" in result.output
    assert s.answers(old) == {} and s.answers(new) == {"hukou": "other"}
    s.close()


def test_check_refuses_a_missing_picture(runner, tmp_path):
    flow = tmp_path / "pic.yaml"
    flow.write_text((ROOT / "tests" / "flows" / "branching.yaml").read_text("utf-8").replace(
        "    kind: instruction\n", "    kind: instruction\n    image: img/nowhere.png\n"), "utf-8")
    result = runner.invoke(args=["check", str(flow)])
    assert result.exit_code == 1
    assert "steps[6].image: no picture 'img/nowhere.png'" in result.output
    flow.write_text(flow.read_text("utf-8").replace("img/nowhere.png", "../../etc/x.png"))
    assert "steps[6].image" in runner.invoke(args=["check", str(flow)]).output

