"""The family's pages as the open internet reaches them: HTTPS (direct and behind a proxy),
hostile sizes and headers, fair resume limits, what cookies carry, deletion, whose "today".

These run the real app through Flask's client with CSRF on, as in production; the browser
journeys over real TLS and through nginx are in tests/browser/test_deployed.py."""

from __future__ import annotations

import base64
import datetime
import difflib
import json
import re
import time
import zlib

import pytest
from family_helpers import BR, ROOT

from wizard import create_app, engine, security, store
from wizard.flow import loader

DOB = {"child_dob-day": "1", "child_dob-month": "10", "child_dob-year": "2023"}
HTTPS = "https://wizard.example"


def text(response):
    return response.get_data(as_text=True)


def make_app(tmp_path, **config):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "net.sqlite3"),
                      "SECRET_KEY": "net-tests", "WTF_CSRF_ENABLED": True,
                      "PUBLIC_ORIGIN": HTTPS, **config})
    s = store.Store(app.config["DATABASE"])
    s.migrate()
    s.publish_flow(loader.load_file(ROOT / "tests" / "flows" / "branching.yaml").flow)
    s.close()
    return app


@pytest.fixture
def secure_app(tmp_path):
    return make_app(tmp_path)


def csrf_token(client, url, **kwargs):
    page = text(client.get(url, **kwargs))
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def start(client, **kwargs):
    """Consent and a first answer, as a browser would send them (CSRF token, no Referer)."""
    token = csrf_token(client, f"{BR}/?lang=en", **kwargs)
    response = client.post(f"{BR}/", data={"consent": "yes", "csrf_token": token}, **kwargs)
    assert response.status_code == 303, text(response)
    response = client.post(f"{BR}/birth", data={**DOB, "csrf_token": token}, **kwargs)
    assert response.status_code == 303, text(response)
    return token


# ------------------------------------------------------------------ HTTPS


def test_https_posts_without_a_referer_are_accepted_and_everything_is_secure(secure_app):
    client = secure_app.test_client()
    start(client, base_url=HTTPS)
    response = client.get(f"{BR}/hukou", base_url=HTTPS)
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookies = [c for c in client._cookies.values()]
    assert cookies and all(c.secure for c in cookies), [(c.key, c.secure) for c in cookies]


def test_plain_http_sends_no_hsts(secure_app):
    response = secure_app.test_client().get("/")
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "https://evil.example"},
])
def test_a_post_another_site_made_is_refused(secure_app, headers):
    client = secure_app.test_client()
    token = start(client, base_url=HTTPS)
    response = client.post(f"{BR}/hukou?lang=en", data={"hukou": "other", "csrf_token": token},
                           base_url=HTTPS, headers=headers)
    assert response.status_code == 400 and "send that page again" in text(response)


def test_same_origin_headers_pass(secure_app):
    client = secure_app.test_client()
    token = start(client, base_url=HTTPS)
    response = client.post(f"{BR}/hukou", data={"hukou": "other", "csrf_token": token},
                           base_url=HTTPS, headers={"Origin": HTTPS, "Sec-Fetch-Site":
                                                    "same-origin"})
    assert response.status_code == 303


def test_behind_a_trusted_proxy_https_is_seen(tmp_path):
    app = make_app(tmp_path, BEHIND_PROXY=True)
    client = app.test_client()
    proxied = {"headers": {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"},
               "environ_base": {"REMOTE_ADDR": "127.0.0.1"}}
    start(client, **proxied)
    response = client.get(f"{BR}/hukou", **proxied)
    assert "Strict-Transport-Security" in response.headers
    assert all(c.secure for c in client._cookies.values())


def test_forwarded_headers_from_anyone_else_are_ignored(tmp_path):
    app = make_app(tmp_path, BEHIND_PROXY=True)
    forged = {"X-Forwarded-Proto": "https"}
    response = app.test_client().get("/", headers=forged,
                                     environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert "Strict-Transport-Security" not in response.headers
    # A rotating X-Forwarded-For from a direct client does not buy fresh rate limits.
    client = app.test_client()
    token = csrf_token(client, "/resume")
    statuses = []
    for i in range(security.UNKNOWN_CODE_LIMITS[0][0] + 1):
        statuses.append(client.post(
            "/resume", data={"code": f"AAAA{i:04d}", "pin": "1234", "csrf_token": token},
            headers={"X-Forwarded-For": f"10.0.{i // 250}.{i % 250}"},
            environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code)
    assert statuses[-1] == 429


def test_public_origin_must_be_a_bare_origin(tmp_path):
    for bad in ("wizard.example", "https://wizard.example/path", "ftp://x", "https://u@x"):
        with pytest.raises(ValueError):
            make_app(tmp_path, PUBLIC_ORIGIN=bad)


# ------------------------------------------------------------------ sizes


@pytest.mark.parametrize("kind", ["urlencoded", "multipart", "json"])
def test_oversized_bodies_get_a_413_page_in_the_page_language(app, kind):
    client = app.test_client()
    big = "字" * 400_000  # 1.2 MB of UTF-8
    if kind == "urlencoded":
        response = client.post(f"{BR}/?lang=zh_Hans", data={"consent": "yes", "x": big})
    elif kind == "multipart":
        response = client.post(f"{BR}/?lang=zh_Hans", data={"consent": "yes", "x": big},
                               content_type="multipart/form-data")
    else:
        response = client.post("/resume?lang=zh_Hans", json={"code": big})
    assert response.status_code == 413
    page = text(response)
    assert 'lang="zh-Hans"' in page and "太多" in page


def test_one_field_is_bounded_too(app):
    client = app.test_client()
    # Under the body limit, over the per-field limit (werkzeug applies it to multipart).
    response = client.post(f"{BR}/?lang=en", data={"consent": "yes", "x": "a" * 40_000},
                           content_type="multipart/form-data")
    assert response.status_code == 413


# ------------------------------------------------------------------ numeric parameters


@pytest.mark.parametrize("revision", ["²", "١٢", "１２", "9" * 40, "-1", "1e3", " 7"])
def test_revision_is_read_as_ascii_digits_only(app, revision):
    client = app.test_client()
    client.post(f"{BR}/", data={"consent": "yes"})
    client.post(f"{BR}/birth", data=DOB)
    response = client.post(f"{BR}/hukou", data={"hukou": "other", "revision": revision})
    assert response.status_code == 303


def test_whole_number_takes_ascii_digits_only():
    assert security.whole_number("42") == 42
    for bad in ("²", "١٢", "１２", "", None, "4 2", "-1", "9" * 13):
        assert security.whole_number(bad) is None


# ------------------------------------------------------------------ resume limits


def _resume(app, code, address, **answer):
    client = app.test_client()
    data = {"code": code, **answer}
    return client.post("/resume?lang=en", data=data, environ_base={"REMOTE_ADDR": address})


def _family_code(app):
    client = app.test_client()
    client.post(f"{BR}/", data={"consent": "yes"})
    client.post(f"{BR}/birth", data=DOB)
    page = text(client.get(f"{BR}/save?lang=en"))
    return re.search(r'id="resume-code"[^>]*>([A-Z0-9 ]+)<', page).group(1)


RIGHT = {"dob-day": "1", "dob-month": "10", "dob-year": "2023"}
WRONG = {"dob-day": "2", "dob-month": "10", "dob-year": "2023"}


def test_a_stranger_with_the_code_locks_out_only_themselves(app):
    code = _family_code(app)
    for _ in range(security.CODE_ADDRESS_LIMITS[1][0]):
        _resume(app, code, "203.0.113.66", **WRONG)
    assert _resume(app, code, "203.0.113.66", **RIGHT).status_code == 429
    assert _resume(app, code, "198.51.100.1", **RIGHT).status_code == 303  # the family


def test_families_behind_one_address_do_not_share_a_budget_for_their_own_codes(app):
    codes = [_family_code(app) for _ in range(3)]
    centre = "192.0.2.10"
    for _ in range(security.UNKNOWN_CODE_LIMITS[0][0] - 1):  # others mistype their codes
        _resume(app, "ZZZZZZZZ", centre, **WRONG)
    for code in codes:  # a typo in the date first, then right
        assert _resume(app, code, centre, **WRONG).status_code == 422
        assert _resume(app, code, centre, **RIGHT).status_code == 303


def test_a_code_takes_a_bounded_number_of_wrong_tries_across_addresses(app):
    code = _family_code(app)
    total, per_address = security.CODE_LIMITS[0][0], security.CODE_ADDRESS_LIMITS[1][0]
    assert per_address < total  # one address alone can never pause a family's code
    for n in range(total):
        address = f"203.0.113.{n // per_address + 1}"
        _resume(app, code, address, **WRONG)
        # The quarter-hour window would stop each address first: age the attempts.
        store.Store(app.config["DATABASE"]).db.execute(
            "UPDATE attempts SET at = at - 901 WHERE key LIKE 'code:%:%'")
    assert _resume(app, code, "198.51.100.1", **RIGHT).status_code == 429


def test_unknown_deleted_and_expired_codes_answer_alike(app):
    deleted = _family_code(app)
    expired = _family_code(app)
    db = store.Store(app.config["DATABASE"])
    sid = db.session_by_resume(security.resume_lookup(
        "web-tests", security.normalise_code(deleted)))["id"]
    db.delete_session(sid)
    db.db.execute("UPDATE sessions SET updated_at = '2000-01-01T00:00:00+00:00' "
                  "WHERE status = 'active'")
    answers = [_resume(app, code, "198.51.100.2", **RIGHT)
               for code in (deleted, expired, "ACDE FGHJ")]
    assert {r.status_code for r in answers} == {422}
    bodies = {re.sub(r'(value|name="csrf_token" value)="[^"]*"', "", text(r)) for r in answers}
    assert len(bodies) == 1, difflib.unified_diff(*list(bodies)[:2])


def test_the_readme_states_the_bits_and_tries(app):
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "37 bits" in readme and "100 tries an hour" in readme


# ------------------------------------------------------------------ cookies and links


def _cookie_payload(value: str) -> str:
    """What anyone holding Flask's session cookie can read (it is signed, not encrypted)."""
    data = value.split(".")[0 if not value.startswith(".") else 1]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    return (zlib.decompress(raw) if value.startswith(".") else raw).decode("utf-8", "replace")


def test_typed_answers_never_ride_in_a_cookie(app):
    client = app.test_client()
    client.post(f"{BR}/", data={"consent": "yes"})
    client.post(f"{BR}/birth", data=DOB)
    client.post(f"{BR}/hukou", data={"hukou": "other"})
    client.post(f"{BR}/permit", data={"has_permit": "no"})
    response = client.post(f"{BR}/contact", data={"mobile": "139 1234 56XX 王小明"})
    assert response.status_code == 303
    for cookie in response.headers.getlist("Set-Cookie"):
        value = cookie.split(";")[0].split("=", 1)[1]
        if cookie.startswith("session="):
            assert "王小明" not in _cookie_payload(value) and "56XX" not in _cookie_payload(value)
        assert "56XX" not in cookie
    page = text(client.get(response.headers["Location"]))
    assert "王小明" in page  # shown again, from the server


def test_resume_link_uses_the_public_origin_not_the_host_header(secure_app):
    client = secure_app.test_client()
    start(client, headers={"Host": "evil.example"})
    page = text(client.get(f"{BR}/save?lang=en", headers={"Host": "evil.example"}))
    assert "evil.example" not in page
    assert f"{HTTPS}/resume?code=" in page


# ------------------------------------------------------------------ deletion


def test_secure_delete_is_on(db):
    assert db.db.execute("PRAGMA secure_delete").fetchone()[0] == 1


def test_purge_removes_rows_that_serve_no_purpose_and_says_so(app, runner):
    client = app.test_client()
    client.post(f"{BR}/", data={"consent": "yes"})
    client.post(f"{BR}/birth", data=DOB)
    client.post(f"{BR}/hukou", data={"hukou": "nowhere"})  # leaves a draft
    db = store.Store(app.config["DATABASE"])
    db.db.execute("UPDATE drafts SET created_at = '2000-01-01T00:00:00+00:00'")
    db.db.execute("INSERT INTO attempts (key, at) VALUES ('client:x', ?)", (time.time() - 90000,))
    db.db.execute("UPDATE sessions SET updated_at = '2000-01-01T00:00:00+00:00'")
    result = runner.invoke(args=["purge"])
    assert "erased the answers of 1 session(s)" in result.output
    assert "removed 1 device tokens of ended sessions" in result.output
    assert "removed 1 old resume attempts" in result.output
    for table in ("answers", "drafts", "session_tokens", "attempts"):
        assert db.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table


def test_deleting_removes_a_pending_draft_too(app):
    client = app.test_client()
    client.post(f"{BR}/", data={"consent": "yes"})
    client.post(f"{BR}/birth", data={**DOB, "child_dob-day": "40"})
    db = store.Store(app.config["DATABASE"])
    assert db.db.execute("SELECT COUNT(*) FROM drafts").fetchone()[0] == 1
    client.post(f"{BR}/delete")
    assert db.db.execute("SELECT COUNT(*) FROM drafts").fetchone()[0] == 0


# ------------------------------------------------------------------ whose today


def test_today_is_the_flows_date_not_the_servers(branching):
    # 20:00 UTC on 1 March is already 2 March in Shanghai.
    evening = datetime.datetime(2027, 3, 1, 20, 0, tzinfo=datetime.timezone.utc)
    assert engine.local_today(branching, evening) == datetime.date(2027, 3, 2)
    assert engine.days_left(branching, engine.local_today(branching, evening)) == 58


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles"])
def test_server_time_zone_does_not_change_the_familys_today(branching, zone, monkeypatch):
    from zoneinfo import ZoneInfo

    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        shanghai = datetime.datetime.now(ZoneInfo("Asia/Shanghai")).date()
        assert engine.local_today(branching) == shanghai
        assert engine.journey(branching, {}).today == shanghai
    finally:
        monkeypatch.undo()
        time.tzset()


def test_json_bodies_are_never_needed_by_family_pages(app):
    # A JSON body of sensible size on a form page is treated as an empty form, not a crash.
    client = app.test_client()
    response = client.post(f"{BR}/?lang=en", data=json.dumps({"consent": "yes"}),
                           content_type="application/json")
    assert response.status_code == 200 and "error-summary" in text(response)


# ------------------------------------------------------------------ flows as input


def test_one_unloadable_flow_never_takes_the_others_down(app, db):
    # Published before a loader change made it invalid (written straight into the table).
    broken = (ROOT / "tests" / "flows" / "branching.yaml").read_text("utf-8").replace(
        "id: branching", "id: broken").replace("type: date", "type: dat", 1)
    db.db.execute("INSERT INTO flow_versions (flow_id, version, source, published_at) "
                  "VALUES ('broken', 1, ?, '2027-01-01')", (broken,))
    client = app.test_client()
    home = client.get("/?lang=en")
    assert home.status_code == 200 and f'href="{BR}/"' in text(home)
    assert "/f/broken/" not in text(home)


def test_import_is_all_or_nothing(app, runner, tmp_path):
    first = tmp_path / "first.yaml"
    first.write_text((ROOT / "tests" / "flows" / "branching.yaml").read_text("utf-8")
                     .replace("id: branching", "id: first-of-batch"), "utf-8")
    clash = tmp_path / "clash.yaml"  # branching version 1 is published with other text
    clash.write_text((ROOT / "tests" / "flows" / "branching.yaml").read_text("utf-8")
                     .replace("minutes: 5", "minutes: 6"), "utf-8")
    result = runner.invoke(args=["import", str(first), str(clash)])
    assert result.exit_code == 1 and "refused" in result.output
    db = store.Store(app.config["DATABASE"])
    assert db.latest_version("first-of-batch") is None


def test_the_session_cookie_lasts_session_idle_days_and_is_signed_again_once_a_day(app):
    from wizard import create_app

    base = {"DATABASE": app.config["DATABASE"], "SECRET_KEY": "t"}
    assert create_app(dict(base)).permanent_session_lifetime.days == 60
    app = create_app({**base, "SESSION_IDLE_DAYS": 5})
    assert app.permanent_session_lifetime.days == 5
    client = app.test_client()
    first = client.get("/f/kindergarten-shanghai/?lang=en")
    assert first.status_code == 200
    assert [c for c in first.headers.getlist("Set-Cookie")  # the CSRF secret, for 5 days
            if c.startswith("session=") and "Max-Age" not in c and "Expires=" in c]
    again = client.get("/f/kindergarten-shanghai/?lang=en")
    assert not [c for c in again.headers.getlist("Set-Cookie") if c.startswith("session=")]
    # Signed with a key that is being retired: signed again at once with the new one.
    moved = create_app({**base, "SECRET_KEY": "new", "SECRET_KEY_FALLBACKS": ["t"]})
    cookie = client.get_cookie("session")
    other = moved.test_client()
    other.set_cookie("session", cookie.value)
    resent = other.get("/f/kindergarten-shanghai/?lang=en")
    assert [c for c in resent.headers.getlist("Set-Cookie") if c.startswith("session=")]
