"""The sync API (POST /api/v1/flows/<flow>/sync) on the real app and a real SQLite file:
changes applied once, replays, a restart, messages in the page's language, conflicts between
two phones, a flow started offline, and every kind of refusal as JSON."""

from __future__ import annotations

import datetime
import html
import io
import json
import re

import pytest
from family_helpers import BR, ROOT, begin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wizard import catalog, create_app, engine, security

URL = "/api/v1/flows/branching/sync"
HEADERS = {"Content-Type": "application/json", "X-Wizard-Sync": "1"}
COOKIE = security.COOKIE_PREFIX + "branching"
DOB = {"day": "1", "month": "10", "year": "2023"}


def cid(n: int | str) -> str:
    """A client id of the right shape (22 characters at least)."""
    return f"change-{n}".ljust(22, "x")


def change(n, step, values, base=None, **extra):
    return {"id": cid(n), "step": step, "values": values, "base_revision": base,
            "claimed_at": "2031-01-01T00:00:00+08:00", **extra}


def sync(client, changes=(), version=1, lang="en", url=URL, headers=None, **extra):
    body = {"version": version, "lang": lang, "changes": list(changes), **extra}
    return client.post(url, data=json.dumps(body), headers={**HEADERS, **(headers or {})})


def post_raw(client, data, headers=None):
    return client.post(URL, data=data, headers={**HEADERS, **(headers or {})})


def started(client):
    """A client with a session started online (the start page), on the branching flow."""
    begin(client)
    return client


def session_id(db) -> int:
    return db.db.execute("SELECT id FROM sessions ORDER BY id DESC").fetchone()[0]


def count(db, table: str) -> int:
    return db.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def assert_refused(response, status: int, error: str):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == error
    assert response.headers["Cache-Control"] == "no-store"


# ---------------------------------------------------------------- applying and replaying


def test_a_change_is_applied_like_the_step_page_saves_it(client, db):
    started(client)
    response = sync(client, [change(1, "birth", {"child_dob": DOB}, base=0),
                             change(2, "hukou", {"hukou": "other"}, base=1)])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["results"] == [{"id": cid(1), "status": "applied", "revision": 1},
                               {"id": cid(2), "status": "applied", "revision": 2}]
    assert body["answers"] == {"child_dob": "2023-10-01", "hukou": "other"}
    assert body["session"]["revision"] == 2 and body["session"]["status"] == "active"
    assert body["session"]["flow_version"] == 1 and body["session"]["last_step"] == "hukou"
    sid = session_id(db)
    assert db.answers(sid) == body["answers"]
    assert db.session(sid)["last_step"] == "hukou"
    rows = {r["field_id"]: r for r in db.answer_rows(sid)}
    assert rows["hukou"]["entered_by"] == "family" and rows["hukou"]["revision"] == 2
    # The phone's clock is a record only: entered_at is the server's.
    assert not rows["hukou"]["entered_at"].startswith("2031")
    recorded = db.db.execute("SELECT claimed_at, received_at FROM sync_changes "
                             "WHERE change_id = ?", (cid(2),)).fetchone()
    assert recorded[0] == "2031-01-01T00:00:00+08:00" and not recorded[1].startswith("2031")
    # The same token again, so that the cookie lasts 60 days from this sync.
    token = client.get_cookie(COOKIE).value
    assert f"{COOKIE}={token};" in response.headers["Set-Cookie"]
    # The step pages see what the phone saved.
    assert client.get(f"{BR}/review?lang=en").status_code == 200
    page = client.get(f"{BR}/hukou?lang=en").get_data(as_text=True)
    assert 'value="other" checked' in page


def test_an_empty_queue_pulls_the_servers_answers(client, db):
    started(client)
    client.post(f"{BR}/birth", data={"child_dob-day": "1", "child_dob-month": "10",
                                     "child_dob-year": "2023"})
    body = sync(client, []).get_json()
    assert body["results"] == [] and body["answers"] == {"child_dob": "2023-10-01"}
    assert body["session"]["revision"] == 1 and body["session"]["status"] == "active"
    assert body["session"]["started"] == db.session(session_id(db))["created_at"]


def test_a_queue_sent_twice_changes_nothing_the_second_time(client, db):
    started(client)
    queue = [change(1, "birth", {"child_dob": DOB}, base=0),
             change(2, "hukou", {"hukou": "other"}, base=1),
             change(3, "permit", {"has_permit": "maybe"}, base=2)]  # invalid: recorded too
    first = sync(client, queue).get_json()
    sid = session_id(db)
    rows_before = db.answer_rows(sid)
    second = sync(client, queue).get_json()
    assert [r["status"] for r in first["results"]] == ["applied", "applied", "invalid"]
    assert all(r["replayed"] is True for r in second["results"])
    assert [{k: v for k, v in r.items() if k != "replayed"} for r in second["results"]] \
        == first["results"]
    assert db.answer_rows(sid) == rows_before  # same values, revisions and times
    assert db.session(sid)["revision"] == 2 == second["session"]["revision"]
    assert count(db, "sync_changes") == 3


def test_a_change_repeated_within_one_queue_is_applied_once(client, db):
    started(client)
    body = sync(client, [change(1, "hukou", {"hukou": "other"}),
                         change(1, "hukou", {"hukou": "shanghai"})]).get_json()
    assert body["results"][1] == {"id": cid(1), "status": "applied", "revision": 1,
                                  "replayed": True}
    assert body["answers"] == {"hukou": "other"}


def test_a_replay_after_a_restart_is_still_recognised(app, client, db):
    started(client)
    queue = [change(1, "birth", {"child_dob": DOB}, base=0)]
    assert sync(client, queue).get_json()["results"][0]["status"] == "applied"
    token = client.get_cookie(COOKIE).value
    # A new server process: a new app on the same database file, a phone with the cookie.
    again = create_app({"TESTING": True, "DATABASE": app.config["DATABASE"],
                        "SECRET_KEY": "web-tests", "WTF_CSRF_ENABLED": False})
    phone = again.test_client()
    phone.set_cookie(COOKIE, token)
    body = sync(phone, queue).get_json()
    assert body["results"] == [{"id": cid(1), "status": "applied", "revision": 1,
                                "replayed": True}]
    assert db.session(session_id(db))["revision"] == 1
    assert count(db, "answers") == 1


def test_unknown_and_hidden_steps_save_nothing(client, db):
    started(client)
    body = sync(client, [change(1, "no-such-step", {"x": "1"}),
                         change(2, "permit", {"has_permit": "yes"})]).get_json()  # hukou unset
    assert body["results"] == [
        {"id": cid(1), "status": "unknown_step"},
        {"id": cid(2), "status": "skipped", "reason": "step_hidden"}]
    assert body["answers"] == {} and body["session"]["revision"] == 0
    # Once the answer that shows it is there, the same step (a new change) is saved.
    body = sync(client, [change(3, "hukou", {"hukou": "other"}),
                         change(4, "permit", {"has_permit": True})]).get_json()
    assert [r["status"] for r in body["results"]] == ["applied", "applied"]
    assert body["answers"]["has_permit"] is True


def test_a_change_from_another_flow_version_is_checked_against_the_sessions(client, db):
    started(client)
    body = sync(client, [change(1, "hukou", {"hukou": "other"})], version=2).get_json()
    assert body["results"] == [{"id": cid(1), "status": "applied", "revision": 1,
                                "version_moved": True}]
    assert body["session"]["flow_version"] == 1
    body = sync(client, [change(2, "hukou", {"hukou": "mars"})], version=2).get_json()
    assert body["results"][0]["status"] == "invalid"
    assert body["results"][0]["version_moved"] is True


# ---------------------------------------------------------------- messages


_HIDDEN = re.compile(r'<span class="visually-hidden">.*?</span>', re.DOTALL)


def page_error(page: str, field_id: str) -> tuple[str, str]:
    """(data-code, message) of a field's error as the step page shows it."""
    found = re.search(rf'<p class="error-message" id="f-{field_id}-error" '
                      r'data-code="([^"]*)">(.*?)</p>', page, re.DOTALL)
    assert found, "the step page shows no error for " + field_id
    text = re.sub(r"<[^>]+>", "", _HIDDEN.sub("", found.group(2), count=1))
    return found.group(1), " ".join(html.unescape(text).split())


@pytest.mark.parametrize("lang", ["en", "zh_Hans", "ug"])
def test_an_invalid_answer_gets_the_step_pages_message_in_the_requested_language(
        app, client, db, lang):
    started(client)
    # On the step page: 31 February, shown again with its mistake.
    page_client = app.test_client()
    begin(page_client, lang=lang)
    page_client.post(f"{BR}/birth", data={"child_dob-day": "31", "child_dob-month": "2",
                                          "child_dob-year": "2024"})
    code, message = page_error(page_client.get(f"{BR}/birth?lang={lang}")
                               .get_data(as_text=True), "child_dob")
    # Through the API, from a phone whose browser asks for another language.
    response = sync(client, [change(1, "birth", {"child_dob": {
        "day": "31", "month": "2", "year": "2024"}})], lang=lang,
        headers={"Accept-Language": "zh-TW" if lang != "zh_Hant" else "en"})
    result = response.get_json()["results"][0]
    assert result == {"id": cid(1), "status": "invalid",
                      "errors": {"child_dob": {"code": code, "message": message}}}
    assert message and code
    if lang != "en":  # really translated (compiled catalogs), not English on both sides
        assert not message.isascii(), message
    sid = db.db.execute("SELECT id FROM sessions ORDER BY id LIMIT 1").fetchone()[0]
    assert db.answers(sid) == {} and db.session(sid)["revision"] == 0  # nothing saved


def test_a_step_is_saved_whole_or_not_at_all(client, db):
    started(client)
    sync(client, [change(1, "birth", {"child_dob": DOB}), change(2, "hukou", {"hukou": "other"}),
                  change(3, "permit", {"has_permit": "no"})])
    body = sync(client, [change(4, "contact", {"mobile": "13800138000",
                                               "child_id": "not an id"})]).get_json()
    assert body["results"][0]["status"] == "invalid"
    assert set(body["results"][0]["errors"]) == {"child_id"}
    assert "mobile" not in body["answers"]


# ---------------------------------------------------------------- two phones


def test_two_phones_changing_one_answer_get_a_conflict_with_both_values(app, client, db):
    started(client)
    sync(client, [change(1, "birth", {"child_dob": DOB}, base=0),
                  change(2, "hukou", {"hukou": "other"}, base=1)])
    sid = session_id(db)
    # A second device (a volunteer's phone) with its own token for the same session.
    token = security.new_token()
    db.add_token(sid, security.hash_token(token))
    volunteer = app.test_client()
    volunteer.set_cookie(COOKIE, token)
    assert sync(volunteer, [change("v1", "hukou", {"hukou": "shanghai"}, base=2)]) \
        .get_json()["results"][0]["status"] == "applied"
    # The family's phone, offline, changed the same answer from what it last saw (2).
    body = sync(client, [change(3, "hukou", {"hukou": "other"}, base=2)]).get_json()
    assert body["results"] == [{"id": cid(3), "status": "conflict", "conflicts": {
        "hukou": {"server": "shanghai", "phone": "other", "server_text": "Shanghai",
                  "phone_text": "Another province"}}}]
    assert db.answers(sid)["hukou"] == "shanghai" == body["answers"]["hukou"]
    assert body["session"]["revision"] == 3
    # The phone shows both; the family chooses, and a new change with the new revision wins.
    body = sync(client, [change(4, "hukou", {"hukou": "other"}, base=3)]).get_json()
    assert body["results"][0]["status"] == "applied" and body["answers"]["hukou"] == "other"
    # The conflict, replayed, is still a conflict (the phone's queue may be sent again).
    body = sync(client, [change(3, "hukou", {"hukou": "other"}, base=2)]).get_json()
    assert body["results"][0]["status"] == "conflict" and body["results"][0]["replayed"]


def test_a_change_that_agrees_with_the_other_phone_is_no_conflict(app, client, db):
    started(client)
    sync(client, [change(1, "hukou", {"hukou": "other"}, base=0)])
    token = security.new_token()
    db.add_token(session_id(db), security.hash_token(token))
    other = app.test_client()
    other.set_cookie(COOKIE, token)
    sync(other, [change(2, "hukou", {"hukou": "shanghai"}, base=1)])
    body = sync(client, [change(3, "hukou", {"hukou": "shanghai"}, base=1)]).get_json()
    assert body["results"][0]["status"] == "applied"


def second_device(app, db):
    """Another device of the latest session (a volunteer's phone): its own token."""
    token = security.new_token()
    db.add_token(session_id(db), security.hash_token(token))
    device = app.test_client()
    device.set_cookie(COOKIE, token)
    return device


def test_one_phones_own_edits_queued_offline_never_conflict_with_each_other(client, db):
    # Offline, the phone cannot know the server's next revision: every change it queues
    # carries the one it last saw (0), and it changed its mind about the answer twice.
    started(client)
    body = sync(client, [change(1, "hukou", {"hukou": "other"}, base=0),
                         change(2, "hukou", {"hukou": "shanghai"}, base=0)]).get_json()
    assert [r["status"] for r in body["results"]] == ["applied", "applied"], body
    # And again in a later sync, still on the revision it last saw.
    body = sync(client, [change(3, "hukou", {"hukou": "other"}, base=0)]).get_json()
    assert body["results"][0]["status"] == "applied" and body["answers"]["hukou"] == "other"
    rows = db.db.execute("SELECT device FROM answers").fetchall()
    assert rows == [(security.hash_token(client.get_cookie(COOKIE).value),)]


def test_a_step_page_save_and_the_same_phones_queue_do_not_conflict(client, db):
    # The phone saved hukou online on its step page, then lost the signal with a queue made
    # from the revision before that save.
    started(client)
    assert client.post(f"{BR}/hukou", data={"hukou": "other", "revision": "0"}) \
        .status_code == 303
    body = sync(client, [change(1, "hukou", {"hukou": "shanghai"}, base=0)]).get_json()
    assert body["results"][0]["status"] == "applied" and body["answers"]["hukou"] == "shanghai"


def test_the_same_edits_from_two_devices_of_one_session_conflict(app, client, db):
    started(client)
    other = second_device(app, db)
    assert sync(client, [change(1, "hukou", {"hukou": "other"}, base=0)]) \
        .get_json()["results"][0]["status"] == "applied"
    body = sync(other, [change(2, "hukou", {"hukou": "shanghai"}, base=0)]).get_json()
    assert body["results"][0]["status"] == "conflict"
    assert body["answers"]["hukou"] == "other"
    # A step page of the other device, opened at revision 0, is refused the same way.
    page = other.post(f"{BR}/hukou", data={"hukou": "shanghai", "revision": "0"})
    assert page.status_code == 422 and db.answers(session_id(db))["hukou"] == "other"


# ---------------------------------------------------------------- a flow started offline


def start(n="offline", claimed="2031-05-05T10:00:00+08:00", consent="v1"):
    return {"id": cid(n), "consent_version": consent, "claimed_at": claimed}


def test_a_flow_started_offline_gets_one_session_even_when_the_start_is_sent_twice(app, db):
    queue = [change(1, "birth", {"child_dob": DOB}, base=None)]
    before = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    phone = app.test_client()
    first = sync(phone, queue, lang="ug", start=start())
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.get_json()["results"][0]["status"] == "applied"
    cookie = first.headers["Set-Cookie"]
    assert cookie.startswith(COOKIE + "=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # The answer was lost on the way: the phone, still without a cookie, sends it all again.
    retry = app.test_client()
    second = sync(retry, queue, lang="ug", start=start())
    assert second.status_code == 200
    assert second.get_json()["results"][0] == {"id": cid(1), "status": "applied",
                                               "revision": 1, "replayed": True}
    assert count(db, "sessions") == 1 and count(db, "answers") == 1
    row = list(db.db.query("SELECT * FROM sessions"))[0]
    assert row["consent_version"] == "v1" and row["started_offline"] == 1
    assert row["consent_claimed_at"] == "2031-05-05T10:00:00+08:00"
    assert before <= row["consent_at"] < "2031"  # the server's clock, not the phone's
    assert row["locale"] == "ug" and row["flow_version"] == 1
    assert row["start_hash"] == security.hash_token(cid("offline"))
    assert cid("offline") not in json.dumps(row)  # the start id only hashed
    # Both devices now hold a working token of that one session, and the step pages open.
    for device in (phone, retry):
        assert sync(device, []).get_json()["answers"] == {"child_dob": "2023-10-01"}
        assert device.get(f"{BR}/hukou?lang=en").status_code == 200
    # Nothing about the family's own start is written to the audit log.
    assert count(db, "audit_log") == 0


def test_a_start_is_a_new_session_whatever_session_the_cookie_opens(client, db):
    # A shared phone: the cookie is another family's session A; this family started offline.
    started(client)
    sync(client, [change(1, "hukou", {"hukou": "other"}, base=0)])
    first = session_id(db)
    token_a = client.get_cookie(COOKIE).value
    queue = [change(2, "hukou", {"hukou": "shanghai"}, base=None)]
    response = sync(client, queue, start=start())
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert count(db, "sessions") == 2
    second = session_id(db)
    assert second != first and body["results"][0]["status"] == "applied"
    assert db.answers(first) == {"hukou": "other"}  # A unchanged
    assert db.answers(second) == {"hukou": "shanghai"} == body["answers"]
    assert db.session(second)["started_offline"] == 1
    # The device now holds B's cookie (A's token still belongs to A, on A's other devices).
    token_b = client.get_cookie(COOKIE).value
    assert token_b != token_a
    assert db.session_by_token(security.hash_token(token_b))["id"] == second
    # The same start again, from the device that holds B: one session, no new token.
    tokens = count(db, "session_tokens")
    again = sync(client, queue, start=start()).get_json()
    assert again["results"][0]["replayed"] is True
    assert count(db, "sessions") == 2 and count(db, "session_tokens") == tokens
    assert client.get_cookie(COOKIE).value == token_b


def test_a_cookie_of_a_deleted_session_does_not_stop_a_start(client, db):
    started(client)
    token = client.get_cookie(COOKIE).value
    assert client.post(f"{BR}/delete").status_code == 303
    client.set_cookie(COOKIE, token)  # the phone kept the old cookie
    response = sync(client, [change(1, "hukou", {"hukou": "other"}, base=None)],
                    start=start())
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["results"][0]["status"] == "applied"
    assert count(db, "sessions") == 2
    assert db.answers(session_id(db)) == {"hukou": "other"}
    assert client.get_cookie(COOKIE).value != token


def test_a_start_on_an_unpublished_version_or_old_consent_is_refused(client, db):
    assert_refused(sync(client, [], version=7, start=start()), 409, "version_unknown")
    assert_refused(sync(client, [], start=start(consent="v0")), 409, "consent_outdated")
    assert count(db, "sessions") == 0


def test_without_a_session_or_a_start_the_answer_is_no_session(client, db):
    assert_refused(sync(client, [change(1, "hukou", {"hukou": "other"})]), 401, "no_session")
    client.set_cookie(COOKIE, "forged-token")
    assert_refused(sync(client, []), 401, "no_session")
    assert count(db, "sync_changes") == 0


# ---------------------------------------------------------------- the session's key


def test_the_session_key_is_stable_per_session_and_tells_nothing(app, client, db):
    started(client)
    key = sync(client, []).get_json()["session"]["key"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", key)
    assert sync(client, [change(1, "hukou", {"hukou": "other"})]) \
        .get_json()["session"]["key"] == key
    assert second_device(app, db).post(
        URL, data=json.dumps({"version": 1, "changes": []}), headers=HEADERS
    ).get_json()["session"]["key"] == key  # the same session on another device
    other = app.test_client()
    started(other)
    assert sync(other, []).get_json()["session"]["key"] != key
    # Made with the app's secret: not the session's number, nor found in the database.
    sid = session_id(db)
    assert str(sid) not in key
    assert key not in json.dumps(list(db.db.query("SELECT * FROM sessions")))


def test_a_matching_session_key_is_accepted(client, db):
    started(client)
    key = sync(client, []).get_json()["session"]["key"]
    response = sync(client, [change(1, "hukou", {"hukou": "other"})], session_key=key)
    assert response.status_code == 200
    assert response.get_json()["results"][0]["status"] == "applied"


def test_a_copy_of_another_session_is_refused_and_nothing_applied(client, db):
    # The family deleted their answers and started again online on this phone: its copy (and
    # queue) belong to the deleted session. Replayed, they would bring the deleted answers back.
    started(client)
    old_key = sync(client, [change(1, "hukou", {"hukou": "other"})]).get_json()["session"]["key"]
    assert client.post(f"{BR}/delete").status_code == 303
    started(client)
    fresh = session_id(db)
    response = sync(client, [change(2, "hukou", {"hukou": "other"}, base=None)],
                    session_key=old_key)
    assert_refused(response, 409, "other_session")
    assert not any(c.startswith(COOKIE + "=") for c in response.headers.getlist("Set-Cookie"))
    assert db.answers(fresh) == {} and count(db, "sync_changes") == 0
    assert db.session(fresh)["revision"] == 0


def test_a_session_key_with_a_start_not_yet_made_is_refused_and_makes_nothing(client, db):
    started(client)
    key = sync(client, []).get_json()["session"]["key"]
    assert_refused(sync(client, [change(1, "hukou", {"hukou": "other"})], start=start(),
                        session_key=key), 409, "other_session")
    assert count(db, "sessions") == 1 and count(db, "answers") == 0


def test_a_session_key_of_the_starts_own_session_is_accepted(app, db):
    phone = app.test_client()
    key = sync(phone, [], start=start()).get_json()["session"]["key"]
    retry = app.test_client()  # the cookie was lost, the key kept
    assert sync(retry, [], start=start(), session_key=key).status_code == 200
    assert count(db, "sessions") == 1


def test_completed_at_is_the_servers_time_of_completion(client, db):
    started(client)
    body = sync(client, []).get_json()
    assert body["session"]["completed_at"] is None
    db.set_status(session_id(db), "completed")
    body = sync(client, []).get_json()
    stored = db.session(session_id(db))["completed_at"]
    assert body["session"]["status"] == "completed"
    assert body["session"]["completed_at"] == stored
    assert datetime.datetime.fromisoformat(stored).tzinfo is not None


# ---------------------------------------------------------------- ended sessions, flows


def test_a_deleted_session_answers_410_and_keeps_nothing(client, db):
    started(client)
    sync(client, [change(1, "hukou", {"hukou": "other"})])
    sid = session_id(db)
    token = client.get_cookie(COOKIE).value
    assert client.post(f"{BR}/delete").status_code == 303
    assert client.get_cookie(COOKIE) is None
    client.set_cookie(COOKIE, token)  # a phone that kept it (or synced from another tab)
    response = sync(client, [change(2, "hukou", {"hukou": "shanghai"})])
    assert_refused(response, 410, "deleted")
    assert not any(c.startswith(COOKIE + "=") for c in response.headers.getlist("Set-Cookie"))
    assert db.answers(sid) == {} and count(db, "sync_changes") == 0  # erased with the answers


def test_an_expired_session_answers_410(client, db):
    started(client)
    sync(client, [change(1, "hukou", {"hukou": "other"})])
    sid = session_id(db)
    assert db.answers(sid) == {"hukou": "other"}
    db.db.execute("UPDATE sessions SET updated_at = '2001-01-01T00:00:00+00:00' WHERE id = ?",
                  (sid,))
    assert_refused(sync(client, [change(2, "hukou", {"hukou": "shanghai"})]), 410, "expired")
    assert db.answers(sid) == {}


def test_a_start_of_a_deleted_session_is_not_revived(app, db):
    phone = app.test_client()
    assert sync(phone, [], start=start()).status_code == 200
    db.delete_session(session_id(db))
    assert_refused(sync(app.test_client(), [], start=start()), 410, "deleted")
    assert count(db, "sessions") == 1


def test_an_unknown_flow_is_404_json(client):
    assert_refused(sync(client, [], url="/api/v1/flows/no-such-flow/sync"), 404, "not_found")
    assert_refused(sync(client, [], url="/api/v1/flows/no-such-flow/sync", start=start()),
                   404, "not_found")


# ---------------------------------------------------------------- cross-site and headers


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "https://evil.example"},
])
def test_a_request_from_another_site_is_refused(client, db, headers):
    started(client)
    response = sync(client, [change(1, "hukou", {"hukou": "other"})], headers=headers)
    assert_refused(response, 403, "cross_site")
    assert db.answers(session_id(db)) == {}


def test_our_own_origin_is_accepted(client):
    started(client)
    response = sync(client, [], headers={"Origin": "http://localhost",
                                         "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 200


def test_the_custom_header_is_required(client, db):
    started(client)
    body = json.dumps({"version": 1, "changes": [change(1, "hukou", {"hukou": "other"})]})
    for value in (None, "0", "yes"):
        headers = {"Content-Type": "application/json"}
        if value is not None:
            headers["X-Wizard-Sync"] = value
        response = client.post(URL, data=body, headers=headers)
        assert_refused(response, 400, "bad_request")
        assert "X-Wizard-Sync" in response.get_json()["message"]
    assert db.answers(session_id(db)) == {}


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "application/jsonx", None])
def test_a_body_that_is_not_declared_json_is_refused(client, db, content_type):
    # A form on another site can send text/plain without a preflight: never read it.
    started(client)
    body = json.dumps({"version": 1, "changes": [change(1, "hukou", {"hukou": "other"})]})
    headers = {"X-Wizard-Sync": "1"}
    if content_type:
        headers["Content-Type"] = content_type
    response = client.post(URL, data=body, headers=headers)
    assert_refused(response, 400, "bad_request")
    assert "Content-Type" in response.get_json()["message"]
    assert db.answers(session_id(db)) == {}


def test_json_with_a_charset_is_fine(client):
    started(client)
    response = post_raw(client, json.dumps({"version": 1, "changes": []}),
                        {"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 200


def test_a_body_over_64_kib_is_413_json(client, db):
    started(client)
    big = {"version": 1, "changes": [change(1, "contact", {"mobile": "1" * 70_000})]}
    assert_refused(post_raw(client, json.dumps(big)), 413, "too_large")
    assert db.answers(session_id(db)) == {}


def test_a_body_over_64_kib_without_a_length_is_413_json(client):
    # Sent chunked: no Content-Length to refuse it by, so it is cut off while read (a WSGI
    # server such as gunicorn marks such a stream as ending on its own: input_terminated).
    started(client)
    body = b'{"version": 1, "changes": [], "x": "' + b"y" * 70_000 + b'"}'
    response = client.post(URL, input_stream=io.BytesIO(body),
                           headers={**HEADERS, "Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    assert_refused(response, 413, "too_large")


def test_a_fault_on_the_server_is_500_json_and_saves_nothing(app, db, monkeypatch):
    from wizard import forms

    app.config["TESTING"] = False  # as in production: the exception is handled, not raised
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    started(client)

    def broken(*args):
        raise RuntimeError("bug")

    monkeypatch.setattr(forms, "check_json", broken)
    assert_refused(sync(client, [change(1, "hukou", {"hukou": "other"})]), 500,
                   "server_error")
    assert db.answers(session_id(db)) == {} and count(db, "sync_changes") == 0


def test_get_is_not_allowed(client):
    assert client.get(URL).status_code == 405


# ---------------------------------------------------------------- hostile bodies


def valid(**extra):
    return {"version": 1, "lang": "en", "changes": [change(1, "hukou", {"hukou": "other"})],
            **extra}


def with_change(**fields):
    body = valid()
    body["changes"][0].update(fields)
    return body


HOSTILE = {
    "not an object": [1, 2],
    "a string": "sync",
    "null": None,
    "no version": {"changes": []},
    "no changes": {"version": 1},
    "unknown key": valid(extra=1),
    "version as text": valid(version="1"),
    "version true": valid(version=True),
    "version negative": valid(version=-1),
    "version huge": valid(version=2**70),
    "version float": valid(version=1.5),
    "lang a list": valid(lang=["en"]),
    "changes an object": valid(changes={"a": 1}),
    "changes of nulls": valid(changes=[None]),
    "too many changes": valid(changes=[change(i, "hukou", {"hukou": "other"})
                                       for i in range(51)]),
    "change id short": with_change(id="abc"),
    "change id with a slash": with_change(id="a/" * 11),
    "change id too long": with_change(id="a" * 65),
    "change id a number": with_change(id=12345678901234567890123),
    "change without values": {"version": 1, "changes": [{"id": cid(1), "step": "hukou"}]},
    "step null": with_change(step=None),
    "step empty": with_change(step=""),
    "step a list": with_change(step=["hukou"]),
    "values a list": with_change(values=[["hukou", "other"]]),
    "values null": with_change(values=None),
    "too many values": with_change(values={f"k{i}": "1" for i in range(101)}),
    "a value nested": with_change(values={"hukou": {"day": {"deep": 1}}}),
    "a date with other keys": with_change(values={"child_dob": {"day": "1", "hour": "2"}}),
    "a list of lists": with_change(values={"hukou": [["other"]]}),
    "a list with null": with_change(values={"hukou": [None]}),
    "a long value": with_change(values={"hukou": "x" * 10_001}),
    "a long key": with_change(values={"k" * 101: "1"}),
    "base revision text": with_change(base_revision="4"),
    "base revision true": with_change(base_revision=True),
    "base revision huge": with_change(base_revision=10**30),
    "claimed at a number": with_change(claimed_at=1700000000),
    "claimed at long": with_change(claimed_at="2" * 41),
    "claimed at with a newline": with_change(claimed_at="2027\n"),
    "start a string": valid(start="x"),
    "start without id": valid(start={"consent_version": "v1"}),
    "start id short": valid(start={"id": "x", "consent_version": "v1"}),
    "start consent a number": valid(start={"id": cid(9), "consent_version": 1}),
    "start unknown key": valid(start={"id": cid(9), "consent_version": "v1", "x": 1}),
    "session key a number": valid(session_key=12345),
    "session key empty": valid(session_key=""),
    "session key too long": valid(session_key="k" * 101),
}

RAW = {
    "deep nesting": b"[" * 30_000 + b"]" * 30_000,
    "deep objects": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    "a huge number": b'{"version": ' + b"9" * 5000 + b', "changes": []}',
    "a huge number in values": json.dumps(with_change()).replace(
        '"other"', "1" + "0" * 4400).encode(),
    "an overflowing float": json.dumps(with_change()).replace('"other"', "1e999").encode(),
    "NaN": json.dumps(with_change()).replace('"other"', "NaN").encode(),
    "Infinity": b'{"version": Infinity, "changes": []}',
    "duplicate keys": b'{"version": 1, "version": 2, "changes": []}',
    "duplicate keys in values": json.dumps(with_change()).replace(
        '{"hukou": "other"}', '{"hukou": "other", "hukou": "shanghai"}').encode(),
    "a lone surrogate": json.dumps(with_change()).replace('"other"', '"\\ud800"').encode(),
    "a lone surrogate in a key": json.dumps(with_change()).replace('"hukou": "other"',
                                                                  '"\\udfff": "1"').encode(),
    "invalid utf-8": b'{"version": 1, "changes": [], "lang": "\xff\xfe"}',
    "utf-16": json.dumps(valid()).encode("utf-16"),
    "empty": b"",
    "truncated": json.dumps(valid()).encode()[:-3],
    "trailing junk": json.dumps(valid()).encode() + b"}",
    "nul bytes": b"\x00" * 100,
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_shape_is_400_json_naming_the_problem(client, db, body):
    started(client)
    response = post_raw(client, json.dumps(body))
    assert_refused(response, 400, "bad_request")
    assert response.get_json()["message"]
    assert db.answers(session_id(db)) == {} and count(db, "sync_changes") == 0


@pytest.mark.parametrize("raw", RAW.values(), ids=RAW.keys())
def test_a_hostile_body_is_400_json(client, db, raw):
    started(client)
    assert_refused(post_raw(client, raw), 400, "bad_request")
    assert db.answers(session_id(db)) == {} and count(db, "sync_changes") == 0


def test_the_message_names_where_the_problem_is(client):
    started(client)
    body = valid(changes=[change(1, "hukou", {"hukou": "other"}),
                          change(2, "hukou", {"hukou": [["x"]]})])
    message = post_raw(client, json.dumps(body)).get_json()["message"]
    assert message.startswith("changes[1].values.hukou:"), message


def test_the_shapes_the_forms_read_are_accepted(client, db):
    """Numbers, true/false, null and lists are what a phone may send for a field."""
    started(client)
    body = sync(client, [change(1, "birth", {"child_dob": {"day": 1, "month": 10, "year": 2023}}),
                         change(2, "hukou", {"hukou": ["other"]}),
                         change(3, "permit", {"has_permit": True}),
                         change(4, "permit-points", {"points": 120}),
                         change(5, "contact", {"mobile": 13800138000, "child_id": None})]
                ).get_json()
    assert [r["status"] for r in body["results"]] == ["applied"] * 4 + ["applied"], body
    assert body["answers"]["points"] == 120 and body["answers"]["child_id"] is None


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                      st.floats(allow_nan=False, allow_infinity=False),
                      st.text(max_size=30), st.sampled_from(["hukou", "birth", "other", ""]))
json_any = st.recursive(json_leaf, lambda c: st.lists(c, max_size=4)
                        | st.dictionaries(st.text(max_size=10), c, max_size=4), max_leaves=20)
# Well-shaped changes with hostile answers: these get past the shape check to the forms and
# the store, where a bad answer must be refused with a message and nothing else saved.
nasty_text = st.text(max_size=30) | st.sampled_from([
    "", " ", "\x00", "²", "١٢٣", "１２３", "\u202e", "\u200b", "yes", "no", "true", "other",
    "shanghai", "2023", "10", "31", "-1", "9" * 40, "x" * 3000, "13800138000", "<script>",
    "110101202310010011", "NaN", "1e999"])
scalar = st.booleans() | st.integers(-(2**70), 2**70) | nasty_text \
    | st.floats(allow_nan=False, allow_infinity=False)
field_value = st.one_of(
    st.none(), scalar, st.lists(scalar, max_size=4),
    st.fixed_dictionaries({}, optional={p: scalar for p in ("day", "month", "year")}))
field_values = st.dictionaries(
    st.sampled_from(["child_dob", "hukou", "has_permit", "points", "mobile", "child_id",
                     "documents", "age_months", "mobile-confirm", "child_dob-day"])
    | st.text(min_size=1, max_size=12), field_value, max_size=5)
steps = st.sampled_from(["birth", "hukou", "permit", "permit-points", "contact", "documents",
                         "apply", "nope"])
good_change = st.fixed_dictionaries(
    {"id": st.integers(0, 5).map(cid), "step": steps, "values": field_values},
    optional={"base_revision": st.none() | st.integers(0, 6),
              "claimed_at": st.none() | st.text(max_size=40)})
hostile_change = st.fixed_dictionaries(
    {"id": st.integers(0, 5).map(cid) | json_any, "step": steps | json_any,
     "values": field_values | json_any},
    optional={"base_revision": st.none() | st.integers(-5, 2**70) | json_any,
              "claimed_at": json_any, "extra": json_any})
hostile_body = st.one_of(
    json_any,
    st.fixed_dictionaries({"version": st.integers(-1, 3) | json_any,
                           "changes": st.lists(hostile_change, max_size=4) | json_any},
                          optional={"lang": st.sampled_from(["en", "ug", "xx"]) | json_any,
                                    "start": json_any}),
    st.fixed_dictionaries({"version": st.integers(1, 2), "changes": st.lists(good_change,
                                                                             max_size=5)},
                          optional={"lang": st.sampled_from(["en", "zh_Hans", "ug", "xx"])}),
)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(body=hostile_body)
def test_fuzzed_bodies_get_json_answers_never_a_server_error(app, db, body):
    client = app.test_client()
    token = security.new_token()
    if count(db, "sessions") == 0:
        begin(client)
    sid = session_id(db)
    db.db.execute("INSERT INTO session_tokens (token_hash, session_id, created_at) "
                  "VALUES (?, ?, 'now')", (security.hash_token(token), sid))
    client.set_cookie(COOKIE, token)
    response = post_raw(client, json.dumps(body))
    assert response.status_code in (200, 400, 409, 413), response.get_data(as_text=True)
    answer = response.get_json()
    if response.status_code == 200:
        assert {r["status"] for r in answer["results"]} <= {
            "applied", "invalid", "skipped", "unknown_step", "conflict"}
    else:
        assert answer["error"] and answer["message"]
    # Whatever got in passes its rules, as if saved by the step page.
    flow = catalog.get(db, "branching", 1)
    answers = db.answers(sid)
    j = engine.journey(flow, answers)
    for step in j.steps:
        for field in j.visible_fields(step):
            if field.is_input and field.id in answers:
                problem = engine.check_answer(j, field, answers)
                assert problem is None or problem.code.startswith("required"), (field.id,
                                                                                 problem)


def test_the_shipped_flow_syncs_too(app):
    """The kindergarten flow, first step, through the API (real field ids, real rules)."""
    client = app.test_client()
    begin(client, flow="/f/kindergarten-shanghai")
    response = client.post("/api/v1/flows/kindergarten-shanghai/sync", headers=HEADERS,
                           data=json.dumps({"version": _kg_version(), "changes": [
                               change(1, "child-birth", {"child_dob": {
                                   "day": "1", "month": "1", "year": "2024"}})]}))
    assert response.get_json()["results"][0]["status"] == "applied", response.get_json()


def _kg_version() -> int:
    from wizard.flow import loader

    return loader.load_file(ROOT / "flows" / "kindergarten-shanghai.yaml").flow.version


# ---------------------------------------------------------------- "Confirm answers" offline


def test_complete_is_refused_while_answers_are_missing_and_accepted_once_they_are_all_given(
        app):
    from family_helpers import KG, KG_LOCAL

    client = app.test_client()
    begin(client, flow=KG)
    url = "/api/v1/flows/kindergarten-shanghai/sync"

    def send(n, *changes):
        return client.post(url, headers=HEADERS, data=json.dumps(
            {"version": _kg_version(), "lang": "en", "changes": list(changes)})).get_json()

    early = send(0, {"id": cid("done-early"), "complete": True})
    result = early["results"][0]
    assert result["status"] == "invalid" and early["session"]["status"] == "active"
    assert early["session"]["completed_at"] is None
    assert result["problems"][0]["step"] == "child-birth"
    assert result["problems"][0]["message"] == "Enter your child's date of birth"
    steps = [change(i, step, {k.split("-")[0] if k.endswith(("-day", "-month", "-year"))
                              else k: v for k, v in data.items()})
             for i, (step, data) in enumerate(KG_LOCAL)]
    # Dates as their three boxes, the way the step page reads them.
    steps[0]["values"] = {"child_dob": {"day": "1", "month": "1", "year": "2024"}}
    done = send(1, *steps, {"id": cid("done"), "complete": True})
    assert [r["status"] for r in done["results"]] == ["applied"] * len(steps) + ["completed"]
    assert done["session"]["status"] == "completed" and done["session"]["completed_at"]
    again = send(2, {"id": cid("done"), "complete": True})
    assert again["results"][0] == {"id": cid("done"), "status": "completed", "replayed": True}
    # A replayed confirmation is not a new completion.
    assert again["session"]["completed_at"] == done["session"]["completed_at"]
    assert client.get(f"{KG}/done").status_code == 200


def test_complete_must_be_true_and_alone(client):
    started(client)
    for bad in [{"id": cid(1), "complete": False}, {"id": cid(1), "complete": "yes"},
                {"id": cid(1), "complete": True, "step": "x"}]:
        assert sync(client, [bad]).status_code == 400, bad


# ---------------------------------------------------------------- cookies on kept responses


def test_kept_responses_and_the_api_never_set_the_csrf_cookie(app):
    """Once a family has Flask's session cookie (its CSRF secret), Flask would send it again on
    every response: never on what the service worker or a shared cache may keep, nor on the
    API."""
    from family_helpers import KG

    client = app.test_client()
    begin(client, flow=KG)
    # A page of the family's: the cookie is set (so the check below can see it at all).
    assert any(c.startswith("session=") for c in
               client.get(f"{KG}/child-birth").headers.getlist("Set-Cookie"))
    assert client.get_cookie("session") is not None
    version = _kg_version()
    for url in ["/sw.js", "/manifest.webmanifest", "/offline",
                f"/offline/kindergarten-shanghai/{version}/en/bundle.json"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert not any(c.startswith("session=") for c in
                       response.headers.getlist("Set-Cookie")), url
    response = client.post("/api/v1/flows/kindergarten-shanghai/sync", headers=HEADERS,
                           data=json.dumps({"version": version, "changes": []}))
    assert response.status_code == 200
    assert not any(c.startswith("session=") for c in response.headers.getlist("Set-Cookie"))


def test_a_refused_answer_from_a_phone_counts_once_for_the_dashboard(client, db):
    started(client)
    bad = [change(1, "birth", {"child_dob": {"day": "31", "month": "2", "year": "2024"}})]
    assert sync(client, bad).get_json()["results"][0]["status"] == "invalid"
    assert sync(client, bad).get_json()["results"][0]["replayed"] is True  # sent again
    rows = list(db.db.query("SELECT field_id, count FROM field_errors WHERE flow_id = "
                            "'branching'"))
    assert rows == [{"field_id": "child_dob", "count": 1}]
