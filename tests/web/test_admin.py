"""The admin's pages: who may open them, accounts (add, disable, enable, reset), one-time
passwords shown once, the audit log and its filters, and CSRF on every admin form."""

import re

import pytest
from people_helpers import PASSWORD, make_user, sign_in, signed_in

from wizard import store


@pytest.fixture
def admin(app):
    """An admin's phone, signed in (pages in English: the account's language)."""
    return signed_in(app, "boss", "admin", name="Zhao Min", org="District Office")


@pytest.fixture
def volunteer(app):
    """A volunteer's own phone, signed in; its account id is client.user_id."""
    client = app.test_client()
    client.user_id = make_user(app, "wang")
    assert sign_in(client, "wang").status_code == 303
    return client


def still_signed_in(client) -> bool:
    response = client.get("/account/password")
    return response.status_code == 200


def audit_rows(db, action):
    return [r for r in reversed(db.audit_search(limit=1000)) if r["action"] == action]


def one_time_password(page) -> str:
    return re.search(r'id="one-time-password"[^>]*>([^<]+)<', page.text).group(1)


def card(page, login) -> str:
    """The part of the users page about one account."""
    return re.search(rf'<li[^>]*data-login="{re.escape(login)}".*?</li>', page.text,
                     re.S).group(0)


ADMIN_PAGES = [("get", "/admin/"), ("get", "/admin/users"), ("get", "/admin/audit"),
               ("post", "/admin/users"), ("post", "/admin/users/1/disable"),
               ("post", "/admin/users/1/enable"), ("post", "/admin/users/1/reset")]


# ---------------------------------------------------------------- who may come in


@pytest.mark.parametrize("method, url", ADMIN_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(app, client, method, url):
    make_user(app)
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in?next=")


@pytest.mark.parametrize("role", ["volunteer", "staff"])
@pytest.mark.parametrize("method, url", ADMIN_PAGES)
def test_volunteers_and_staff_are_refused(app, db, role, method, url):
    make_user(app, "helper", role=role)
    client = app.test_client()
    sign_in(client, "helper")
    response = getattr(client, method)(url, data={"login": "new", "name": "N", "org": "O",
                                                  "role": "admin", "language": "en"})
    assert response.status_code == 403
    assert db.user_by_login("new") is None and not db.user(1)["disabled"]
    assert audit_rows(db, "password-reset") == []


def test_the_admin_pages_open_for_an_admin(admin):
    assert admin.get("/admin/").headers["Location"] == "/admin/users"
    for url in ("/admin/users", "/admin/audit"):
        page = admin.get(url)
        assert page.status_code == 200, url
        assert "no-store" in page.headers["Cache-Control"]
        assert "<script>" not in page.text and " style=" not in page.text
        assert '<nav class="people-nav"' in page.text and 'aria-current="page"' in page.text


# ---------------------------------------------------------------- the list


def test_the_list_shows_every_account(app, admin, db):
    make_user(app, "wang", language="ug")
    make_user(app, "li", role="staff", name="Li Lei", org="Sunshine")
    db.set_disabled(db.user_by_login("li")["id"], True, "user:1")
    page = admin.get("/admin/users")
    wang = card(page, "wang")
    for fact in ("Wang Fang", "Hope Centre", "Volunteer", 'lang="ug"', "Active", "Never"):
        assert fact in wang, fact
    assert 'action="/admin/users/2/disable"' in wang and 'action="/admin/users/2/reset"' in wang
    li = card(page, "li")
    assert "Staff" in li and "Disabled" in li and 'action="/admin/users/3/enable"' in li
    me = card(page, "boss")
    assert "This is you" in me and "Administrator" in me
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", me)  # the last sign-in, just now
    assert "/disable" not in me and "/reset" not in me
    # Every form field has its label; each button says whose account it is about.
    for field_id in ("f-login", "f-name", "f-org"):
        assert f'for="{field_id}"' in page.text
    assert 'for="f-role-volunteer"' in page.text and 'for="f-language-zh_Hans"' in page.text
    assert 'Disable<span class="visually-hidden"> wang</span>' in page.text


# ---------------------------------------------------------------- adding an account

NEW = {"login": "  Chen.Jing ", "name": " Chen   Jing ", "org": "Hope Centre",
       "role": "volunteer", "language": "zh_Hant"}


def test_adding_an_account_shows_its_password_once(app, admin, db):
    page = admin.post("/admin/users", data=NEW)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    password = one_time_password(page)
    assert len(password) >= 10 and "chen.jing" in page.text
    row = db.user_by_login("chen.jing")
    assert (row["name"], row["org"], row["role"], row["language"], row["must_change"]) == (
        "Chen Jing", "Hope Centre", "volunteer", "zh_Hant", 1)
    created = audit_rows(db, "user-created")[-1]
    assert created["actor"] == "user:1" and created["detail"]["login"] == "chen.jing"
    assert password not in str(db.audit_search(limit=1000))
    # Not at any address: the list never shows it again.
    assert password not in admin.get("/admin/users").text
    # They sign in with it, and must choose their own before anything else.
    newcomer = app.test_client()
    assert sign_in(newcomer, "chen.jing", password).status_code == 303
    response = newcomer.get("/assist/")
    assert response.status_code == 302 and response.headers["Location"] == "/account/password"
    page = newcomer.get("/account/password?lang=en")
    assert "An administrator gave you a one-time password" in page.text
    assert "Families you are helping" not in page.text  # no links that lead back here
    assert newcomer.post("/account/password", data={
        "current": password, "new": "chen's own password",
        "repeat": "chen's own password"}).status_code == 303
    assert not db.user(row["id"])["must_change"]


def test_two_one_time_passwords_differ(admin):
    first = one_time_password(admin.post("/admin/users", data={**NEW, "login": "a1"}))
    second = one_time_password(admin.post("/admin/users", data={**NEW, "login": "a2"}))
    assert first != second


@pytest.mark.parametrize("change, message, field", [
    ({"login": "boss"}, "The login boss is taken: choose another", "f-login"),
    ({"login": "BOSS"}, "The login boss is taken: choose another", "f-login"),
    ({"login": ""}, "Enter a login", "f-login"),
    ({"login": "王芳"}, "lower-case letters", "f-login"),
    ({"login": "anonymous"}, "kept for the audit log", "f-login"),
    ({"name": "  "}, "Enter their name", "f-name"),
    ({"org": ""}, "Enter their organisation", "f-org"),
    ({"role": "root"}, "Choose their role", "f-role-volunteer"),
    ({"role": None}, "Choose their role", "f-role-volunteer"),
    ({"language": "fr"}, "Choose their language", "f-language-zh_Hans"),
])
def test_adding_an_account_is_checked(admin, db, change, message, field):
    data = {k: v for k, v in {**NEW, **change}.items() if v is not None}
    page = admin.post("/admin/users", data=data)
    assert page.status_code == 422
    assert message in page.text and f'href="#{field}"' in page.text
    assert "one-time-password" not in page.text
    assert len(db.users()) == 1
    if "login" not in change:
        assert 'value="chen.jing"' in page.text  # what was typed is kept


# ---------------------------------------------------------------- disabling


def test_disabling_signs_the_person_out_at_once(app, admin, volunteer, db):
    assert still_signed_in(volunteer)
    response = admin.post(f"/admin/users/{volunteer.user_id}/disable")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/users?done=disabled&user=" \
        f"{volunteer.user_id}#user-{volunteer.user_id}"
    assert "Wang Fang (wang) is disabled" in admin.get(response.headers["Location"]).text
    # Their very next request, on their own phone.
    after = volunteer.get("/account/password")
    assert after.status_code == 302 and after.headers["Location"].startswith("/account/sign-in")
    assert sign_in(volunteer).status_code == 422
    assert [(r["actor"], r["detail"]) for r in audit_rows(db, "user-disabled")] == [
        ("user:1", {"user": volunteer.user_id})]
    # Enabled again, they sign in again (with the same password).
    response = admin.post(f"/admin/users/{volunteer.user_id}/enable")
    assert response.status_code == 303
    assert "can sign in again" in admin.get(response.headers["Location"]).text
    assert sign_in(volunteer).status_code == 303
    assert audit_rows(db, "user-enabled")[-1]["actor"] == "user:1"


def test_an_admin_cannot_disable_themselves(admin, db):
    page = admin.post("/admin/users/1/disable")
    assert page.status_code == 422
    assert "You cannot disable your own account" in page.text and 'href="#users"' in page.text
    assert not db.user(1)["disabled"] and still_signed_in(admin)


def test_another_admin_can_be_disabled(app, admin, db):
    make_user(app, "deputy", role="admin")
    assert admin.post("/admin/users/2/disable").status_code == 303
    assert db.user(2)["disabled"]


def test_an_unknown_account_is_not_found(admin):
    for url in ("/admin/users/99/disable", "/admin/users/99/enable", "/admin/users/99/reset"):
        assert admin.post(url).status_code == 404


# ---------------------------------------------------------------- resetting a password


def test_a_reset_ends_the_sign_ins_and_forces_a_new_password(app, admin, volunteer, db):
    page = admin.post(f"/admin/users/{volunteer.user_id}/reset")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    password = one_time_password(page)
    assert "Every sign-in of theirs has ended" in page.text
    assert not still_signed_in(volunteer)
    assert sign_in(volunteer).status_code == 422  # the old password is gone
    assert sign_in(volunteer, password=password).status_code == 303
    response = volunteer.get("/assist/")
    assert response.status_code == 302 and response.headers["Location"] == "/account/password"
    assert volunteer.post("/account/password", data={
        "current": password, "new": PASSWORD + "!", "repeat": PASSWORD + "!"}
    ).status_code == 303
    assert volunteer.get("/account/password").status_code == 200
    assert not db.user(volunteer.user_id)["must_change"]
    assert [(r["actor"], r["detail"]) for r in audit_rows(db, "password-reset")] == [
        ("user:1", {"user": volunteer.user_id})]


def test_an_admin_does_not_reset_their_own_password(admin, db):
    page = admin.post("/admin/users/1/reset")
    assert page.status_code == 422 and "Change your own password" in page.text
    assert still_signed_in(admin) and audit_rows(db, "password-reset") == []


# ---------------------------------------------------------------- the audit log


def entries(page) -> list[str]:
    return re.findall(r'data-action="([^"]+)"', page.text)


@pytest.fixture
def log(app, db, admin):
    """A few entries: by the admin (sign-in), a volunteer, a family and someone anonymous."""
    make_user(app, "wang")
    db.audit("user:2", "view", 7, {"page": "overview"})
    db.audit("family", "grant-offered", 7, {"grant": 1})
    db.audit("anonymous", "sign-in-failed", None, {"user": 2})
    db.audit("user:2", "note", 8, {"step": "district"})
    # Two older entries, on days in China's calendar (times are stored in UTC).
    db.db.execute("INSERT INTO audit_log (at, actor, action, session_id, detail) VALUES "
                  "('2021-02-28T16:30:00+00:00', 'family', 'delete', 9, '{}'), "
                  "('2021-02-28T15:30:00+00:00', 'family', 'delete', 10, '{}')")


def test_the_audit_log_newest_first_with_who_and_what(admin, log):
    page = admin.get("/admin/audit")
    # The two dated rows went in last, so they are "newest" by id: the log is by id.
    assert entries(page)[:5] == ["delete", "delete", "note", "sign-in-failed", "grant-offered"]
    note = re.search(r'<li[^>]*data-action="note".*?</li>', page.text, re.S).group(0)
    assert "Wang Fang (Hope Centre)" in note and ">wang</a>" in note and "district" in note
    assert 'href="/admin/audit?session=8"' in note
    failed = re.search(r'<li[^>]*data-action="sign-in-failed".*?</li>', page.text, re.S).group(0)
    assert "Someone not signed in" in failed and "wang (#2)" in failed
    # China time: 16:30 UTC on the 28th is half past midnight on 1 March there.
    assert "2021-03-01 00:30" in page.text and "2021-02-28 23:30" in page.text


@pytest.mark.parametrize("query, expected", [
    ("who=wang", ["note", "view"]),
    ("who=WANG", ["note", "view"]),
    ("who=family", ["delete", "delete", "grant-offered"]),
    ("who=anonymous", ["sign-in-failed"]),
    ("who=boss", ["sign-in"]),
    ("action=note", ["note"]),
    ("session=7", ["grant-offered", "view"]),
    ("since=2021-03-01&until=2021-03-01&action=delete", ["delete"]),
    ("since=2021-03-01&until=2021-03-01", ["delete"]),
    ("until=2021-02-28", ["delete"]),
    ("since=2021-02-28&until=2021-02-28", ["delete"]),
    ("since=2021-03-02&until=2021-12-31", []),
    ("who=family&session=7", ["grant-offered"]),
    ("who=&action=&session=&since=&until=", None),
])
def test_the_audit_log_filters(admin, log, query, expected):
    page = admin.get(f"/admin/audit?{query}")
    assert page.status_code == 200
    if expected is None:  # every filter left empty: everything
        assert len(entries(page)) == 9 and "Clear the filters" not in page.text
        return
    assert entries(page) == expected
    assert "Clear the filters" in page.text
    if not expected:
        assert "No entry matches these filters" in page.text


@pytest.mark.parametrize("query, message", [
    ("since=yesterday", "Enter a date like 2027-03-01"),
    ("until=2027-02-30", "Enter a date like 2027-03-01"),
    ("since=0001-01-01", "Enter a date like 2027-03-01"),
    ("until=9999-12-31", "Enter a date like 2027-03-01"),
    ("since=２０２７-０３-０１", "Enter a date like 2027-03-01"),
    ("since=2027-03-02&until=2027-03-01", "must not be before"),
    ("session=abc", "Enter a session number in digits"),
    ("session=²", "Enter a session number in digits"),
    ("session=99999999999999999999", "Enter a session number in digits"),
    ("who=nobody", "No account has the login nobody"),
    ("action=" + "x" * 61, "An action has at most 60 characters"),
])
def test_a_bad_filter_gets_a_message(admin, log, query, message):
    page = admin.get(f"/admin/audit?{query}")
    assert page.status_code == 422
    assert message in page.text and 'class="error-summary"' in page.text
    assert entries(page) == []


@pytest.mark.parametrize("value", ["\x00", "'; DROP TABLE audit_log; --", "%", "\u202e",
                                   "user:1", " ", "a" * 500])
def test_no_filter_value_breaks_the_page(admin, log, db, value):
    for name in ("who", "action", "session", "since", "until"):
        page = admin.get("/admin/audit", query_string={name: value})
        assert page.status_code in (200, 422), (name, value)
    assert db.audit_search(limit=1)  # the log is still there


def test_the_audit_log_is_cut_at_200_and_says_so(app, admin, db):
    db.db.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                  "WHERE i < 205) INSERT INTO audit_log (at, actor, action, session_id, "
                  "detail) SELECT '2027-03-01T00:00:00+00:00', 'family', 'view', i, '{}' "
                  "FROM n")
    page = admin.get("/admin/audit")
    assert len(entries(page)) == 200 and "Only the newest 200 entries are shown" in page.text
    assert 'href="/admin/audit?session=205"' in page.text  # the newest is there
    small = admin.get("/admin/audit?session=3")
    assert len(entries(small)) == 1 and "Only the newest" not in small.text


# ---------------------------------------------------------------- CSRF


def test_admin_forms_need_their_csrf_token(tmp_path):
    from wizard import create_app

    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "csrf.sqlite3"),
                      "SECRET_KEY": "csrf-tests"})
    s = store.Store(app.config["DATABASE"])
    s.migrate()
    s.close()
    make_user(app, "boss", role="admin")
    wang = make_user(app, "wang")
    client = app.test_client()
    page = client.get("/account/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert client.post("/account/sign-in", data={"login": "boss", "password": PASSWORD,
                                                 "csrf_token": token}).status_code == 303
    for url, data in ((f"/admin/users/{wang}/disable", {}), (f"/admin/users/{wang}/reset", {}),
                      ("/admin/users", {**NEW, "login": "csrf.victim"})):
        assert client.post(url, data=data).status_code == 400, url
    s = store.Store(app.config["DATABASE"])
    try:
        assert not s.user(wang)["disabled"] and s.user_by_login("csrf.victim") is None
        assert [r["action"] for r in s.audit_search()] == ["sign-in", "user-created",
                                                           "user-created"]
    finally:
        s.close()
    # With the token of a page shown after sign-in, the same form works.
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/admin/users").text).group(1)
    assert client.post(f"/admin/users/{wang}/disable",
                       data={"csrf_token": token}).status_code == 303
