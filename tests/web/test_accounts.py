"""Helpers' own accounts: signing in (and every way of failing), the sign-in's server-side end
(sign-out, idle and absolute limits, a disabled account), changing one's password, CSRF on
the account forms, and `wizard create-user`."""

import datetime
import json
import re

import pytest
from people_helpers import PASSWORD, make_user, sign_in

from wizard import security, store

WRONG = "not the password 1"


def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def ago(**delta) -> str:
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(**delta)
    return moment.isoformat(timespec="seconds")


def audit_rows(db, action=None):
    return [r for r in reversed(db.audit_search(limit=1000))
            if action is None or r["action"] == action]


def signed_in(client) -> bool:
    """Whether the client's cookie opens a signed-in page (the password page: any role)."""
    response = client.get("/account/password")
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/account/sign-in")
    return response.status_code == 200


# ---------------------------------------------------------------- signing in


def test_signing_in_opens_the_helpers_pages(app, client):
    make_user(app)
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/sign-in?next=%2Faccount%2Fpassword"
    response = sign_in(client)
    assert response.status_code == 303 and response.headers["Location"] == "/assist/"
    assert client.get("/account/password").status_code == 200
    # The sign-in page of someone signed in leads on.
    again = client.get("/account/sign-in")
    assert again.status_code == 303 and again.headers["Location"] == "/assist/"


@pytest.mark.parametrize("target, lands", [
    ("/account/password", "/account/password"),
    ("/assist/?x=1", "/assist/?x=1"),
    ("https://evil.example/", "/assist/"),
    ("//evil.example/", "/assist/"),
    ("/\\evil.example", "/assist/"),
    ("/account/sign-in", "/assist/"),
])
def test_sign_in_goes_back_only_to_a_page_of_ours(app, client, target, lands):
    make_user(app)
    response = client.post("/account/sign-in", data={"login": "wang", "password": PASSWORD,
                                                      "next": target})
    assert response.status_code == 303 and response.headers["Location"] == lands


def test_the_next_page_survives_the_sign_in_form(app, client):
    make_user(app)
    page = client.get("/account/sign-in?next=/account/password")
    assert '<input type="hidden" name="next" value="/account/password">' in page.text
    assert sign_in(client).headers["Location"] == "/assist/"  # the helper posts no next


def test_the_sign_in_page_is_accessible_and_types_passwords_as_dots(app, client):
    page = english(client).get("/account/sign-in")
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    html = page.text
    assert "<h1>Sign in</h1>" in html
    assert '<label class="label" for="f-login">Login' in html
    assert '<label class="label" for="f-password">Password' in html
    password_input = re.search(r'<input[^>]*id="f-password"[^>]*>', html).group(0)
    assert 'type="password"' in password_input and 'autocomplete="current-password"' \
        in password_input and password_input.count("type=") == 1
    login_input = re.search(r'<input[^>]*id="f-login"[^>]*>', html).group(0)
    assert 'type="text"' in login_input and 'autocomplete="username"' in login_input
    assert "<script>" not in html and " style=" not in html


def test_signing_in_starts_a_new_session(app, client):
    make_user(app)
    client.get("/account/sign-in")  # the form's CSRF secret is now in the session
    with client.session_transaction() as before:
        old_csrf = before["csrf_token"]
        before["planted"] = "by someone who had this phone before"
    old_cookie = client.get_cookie("session").value
    assert sign_in(client).status_code == 303
    assert client.get_cookie("session").value != old_cookie
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after.get("csrf_token") != old_csrf
        first_token = after["_user_id"]
    # Each sign-in has its own random id, and only its hash is kept.
    other = app.test_client()
    sign_in(other)
    with other.session_transaction() as theirs:
        assert theirs["_user_id"] != first_token
    s = store.Store(app.config["DATABASE"])
    try:
        hashes = {r["token_hash"] for r in s.db.query("SELECT token_hash FROM sign_ins")}
    finally:
        s.close()
    assert security.hash_token(first_token) in hashes and first_token not in hashes


def test_a_wrong_password_and_an_unknown_login_look_the_same(app, client, db):
    user_id = make_user(app)
    english(client)
    wrong = client.post("/account/sign-in", data={"login": "wang", "password": WRONG})
    unknown = client.post("/account/sign-in", data={"login": "nobody", "password": WRONG})
    for response in (wrong, unknown):
        assert response.status_code == 422
        assert "The login or password is wrong" in response.text
        assert WRONG not in response.text  # a password is never shown again
    def page(response):
        return re.sub(r'name="csrf_token" value="[^"]*"', "", response.text)

    assert page(wrong).replace('value="wang"', 'value="nobody"') == page(unknown)
    failed = audit_rows(db, "sign-in-failed")
    assert [(r["actor"], r["detail"]) for r in failed] == [
        ("anonymous", {"user": user_id}), ("anonymous", {"user": None})]
    # Nothing typed is in the log (it may be a password typed into the login box).
    logged = json.dumps(audit_rows(db), ensure_ascii=False)
    assert WRONG not in logged and "nobody" not in logged
    assert not signed_in(client)


def test_an_empty_form_asks_for_both_and_is_no_try(app, client, db):
    page = english(client).post("/account/sign-in", data={"login": "  ", "password": ""})
    assert page.status_code == 422
    assert "Enter your login" in page.text and "Enter your password" in page.text
    assert 'href="#f-login"' in page.text and 'href="#f-password"' in page.text
    assert page.text.startswith("<!doctype html>") and "<title>Error: Sign in" in page.text
    assert audit_rows(db, "sign-in-failed") == []


def test_a_disabled_account_fails_like_a_wrong_password(app, client, db):
    user_id = make_user(app)
    db.set_disabled(user_id, True, "user:99")
    response = english(client).post("/account/sign-in",
                                     data={"login": "wang", "password": PASSWORD})
    assert response.status_code == 422 and "The login or password is wrong" in response.text
    assert audit_rows(db, "sign-in-failed")[-1]["detail"] == {"user": user_id}
    assert not signed_in(client)


def test_the_login_is_matched_whatever_its_case_and_spaces(app, client):
    make_user(app)
    assert sign_in(client, " WANG ").status_code == 303


def test_five_wrong_passwords_lock_that_login_only(app, client):
    make_user(app)
    make_user(app, "li", name="Li Lei")
    english(client)
    for _ in range(5):
        assert client.post("/account/sign-in", data={"login": "wang", "password": WRONG}
                           ).status_code == 422
    locked = client.post("/account/sign-in", data={"login": "wang", "password": PASSWORD})
    assert locked.status_code == 429
    assert re.search(r"Too many tries. Wait 1[56] minutes, then try again.", locked.text)
    assert not signed_in(client)
    # From another address too: the lock is on the login.
    elsewhere = english(app.test_client())
    elsewhere.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert sign_in(elsewhere).status_code == 429
    # Another login from the same phone is not held up.
    assert sign_in(client, "li").status_code == 303
    # The refused tries are in the log, once per quarter hour (a stranger could repeat them
    # at will).
    s = store.Store(app.config["DATABASE"])
    try:
        locked_rows = [r for r in s.audit_search(action="sign-in-locked")]
    finally:
        s.close()
    assert [(r["actor"], r["detail"]) for r in locked_rows] == [("anonymous", {"user": 1})]


def test_a_success_does_not_count_against_the_login(app, client):
    make_user(app)
    for _ in range(4):
        client.post("/account/sign-in", data={"login": "wang", "password": WRONG})
    for _ in range(3):
        assert sign_in(client).status_code == 303
        client.post("/account/sign-out")


# ---------------------------------------------------------------- the sign-in's end


def test_sign_out_ends_the_sign_in_on_the_server(app, client, db):
    user_id = make_user(app)
    sign_in(client)
    kept = client.get_cookie("session").value
    assert client.get("/account/sign-out").status_code == 405  # a link cannot sign anyone out
    response = client.post("/account/sign-out")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/sign-in?out=1"
    page = english(client).get(response.headers["Location"])
    assert "You are signed out" in page.text
    client.set_cookie("session", kept)  # the cookie, copied before, replayed
    assert not signed_in(client)
    assert [r["actor"] for r in audit_rows(db, "sign-out")] == [f"user:{user_id}"]


@pytest.mark.parametrize("column, fine, too_old", [
    ("seen_at", {"minutes": 29}, {"minutes": 31}),  # HELPER_IDLE_MINUTES = 30
    ("started_at", {"hours": 11, "minutes": 59}, {"hours": 12, "minutes": 1}),  # MAX_HOURS
])
def test_idle_and_absolute_time_limits(app, client, db, column, fine, too_old):
    make_user(app)
    sign_in(client)
    db.db.execute(f"UPDATE sign_ins SET {column} = ?", (ago(**fine),))
    assert signed_in(client)
    db.db.execute(f"UPDATE sign_ins SET {column} = ?", (ago(**too_old),))
    assert not signed_in(client)
    # Signing in again is a new sign-in, with its own times.
    assert sign_in(client).status_code == 303 and signed_in(client)


def test_being_active_keeps_the_sign_in_alive(app, client, db):
    make_user(app)
    sign_in(client)
    db.db.execute("UPDATE sign_ins SET seen_at = ?", (ago(minutes=25),))
    assert signed_in(client)  # this visit moves seen_at on
    seen = db.db.execute("SELECT seen_at FROM sign_ins").fetchone()[0]
    assert seen > ago(minutes=1)


# ---------------------------------------------------------------- changing one's password


def change(client, current=PASSWORD, new="a new long passphrase", repeat=None):
    return client.post("/account/password", data={
        "current": current, "new": new, "repeat": new if repeat is None else repeat})


def test_changing_ones_password(app, client, db):
    user_id = make_user(app)
    sign_in(client)
    page = client.get("/account/password")
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    assert page.text.count('type="password"') == 3
    assert 'autocomplete="new-password"' in page.text
    other_phone = app.test_client()
    sign_in(other_phone)
    assert signed_in(other_phone)
    response = change(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/password?changed=1"
    assert not signed_in(other_phone)  # whoever else held the old password is signed out
    assert "Your password is changed" in client.get(response.headers["Location"]).text
    assert signed_in(client)  # this sign-in goes on
    client.post("/account/sign-out")
    assert sign_in(client).status_code == 422
    assert sign_in(client, password="a new long passphrase").status_code == 303
    assert audit_rows(db, "password-changed")[-1]["actor"] == f"user:{user_id}"
    assert audit_rows(db, "password-changed")[-1]["detail"] == {"user": user_id}


@pytest.mark.parametrize("fields, message", [
    ({"current": WRONG}, "Your current password is wrong"),
    ({"current": ""}, "Enter your current password"),
    ({"new": "short 123"}, "A password needs at least 10 characters"),
    ({"new": "x" * 201}, "A password can have at most 200 characters"),
    ({"new": ""}, "Enter a new password"),
    ({"new": PASSWORD}, "Choose a password different from your current one"),
    ({"new": "wang.fang.1 and more"}, None),  # fine: only the login itself is refused
    ({"repeat": "a new long passphrasE"}, "The two new passwords are not the same"),
])
def test_a_new_password_is_checked(app, client, db, fields, message):
    make_user(app, "wang.fang.1")
    sign_in(client, "wang.fang.1")
    response = change(client, **fields)
    if message is None:
        assert response.status_code == 303
        return
    assert response.status_code == 422 and message in response.text
    assert 'class="error-summary"' in response.text
    assert WRONG not in response.text and "passphrase" not in response.text
    client.post("/account/sign-out")
    assert sign_in(client, "wang.fang.1").status_code == 303  # unchanged


def test_the_login_is_no_password(app, client):
    make_user(app, "wang.fang.1")
    sign_in(client, "wang.fang.1")
    response = change(client, new="WANG.FANG.1")
    assert response.status_code == 422 and "A password must not be the login" in response.text


def test_guessing_the_current_password_is_limited_like_signing_in(app, client):
    make_user(app)
    sign_in(client)
    for _ in range(5):
        assert change(client, current=WRONG).status_code == 422
    refused = change(client)
    assert refused.status_code == 429 and "Too many tries" in refused.text


# ---------------------------------------------------------------- CSRF


@pytest.fixture
def guarded(tmp_path):
    """The app as it runs: CSRF tokens required."""
    from wizard import create_app

    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "csrf.sqlite3"),
                      "SECRET_KEY": "csrf-tests"})
    s = store.Store(app.config["DATABASE"])
    s.migrate()
    s.close()
    return app


def token(client, url) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).text).group(1)


def test_account_forms_need_their_csrf_token(guarded):
    make_user(guarded)
    client = guarded.test_client()
    assert sign_in(client).status_code == 400
    response = client.post("/account/sign-in", data={
        "login": "wang", "password": PASSWORD,
        "csrf_token": token(client, "/account/sign-in")})
    assert response.status_code == 303
    # Signing in made a new session: the sign-in page's token is spent with it.
    assert client.post("/account/sign-out").status_code == 400
    assert signed_in(client)
    assert client.post("/account/sign-out", data={
        "csrf_token": token(client, "/account/password")}).status_code == 303
    assert not signed_in(client)


def test_a_token_from_before_sign_in_is_refused_after(guarded):
    make_user(guarded)
    client = guarded.test_client()
    old = token(client, "/account/sign-in")
    client.post("/account/sign-in", data={"login": "wang", "password": PASSWORD,
                                          "csrf_token": old})
    assert client.post("/account/sign-out", data={"csrf_token": old}).status_code == 400


# ---------------------------------------------------------------- wizard create-user


def test_create_user_with_a_one_time_password(app, runner, client, db):
    result = runner.invoke(args=["create-user", "Li.Lei", "--role", "admin", "--org",
                                 "Hope  Centre", "--name", "Li Lei", "--language", "en"])
    assert result.exit_code == 0, result.output
    password = re.search(r"one-time password.*: (\S+)$", result.output, re.M).group(1)
    row = db.user_by_login("li.lei")
    assert (row["login"], row["org"], row["role"], row["language"], row["must_change"]) == (
        "li.lei", "Hope Centre", "admin", "en", 1)
    assert password not in json.dumps(audit_rows(db))
    assert sign_in(client, "li.lei", password).status_code == 303
    # The first page they open is the one that makes them choose their own password.
    response = client.get("/admin/users")
    assert response.status_code == 302 and response.headers["Location"] == "/account/password"
    assert change(client, current=password).status_code == 303
    assert client.get("/admin/users").status_code == 200


def test_create_user_with_a_password_from_stdin(app, runner, client, db):
    result = runner.invoke(args=["create-user", "wang", "--role", "volunteer", "--org", "Hope",
                                 "--name", "Wang Fang", "--password-stdin"],
                           input="my own good password\n")
    assert result.exit_code == 0, result.output
    assert "my own good password" not in result.output and "one-time" not in result.output
    assert db.user_by_login("wang")["must_change"] == 0
    assert db.user_by_login("wang")["language"] == "zh_Hans"
    assert sign_in(client, "wang", "my own good password").status_code == 303
    assert client.get("/account/password").status_code == 200


@pytest.mark.parametrize("args, stdin, says", [
    (["taken"], None, "the login 'taken' is taken"),
    (["TAKEN"], None, "the login 'taken' is taken"),
    (["new", "--password-stdin"], "short\n", "at least 10 characters"),
    (["newcomer", "--password-stdin"], "newcomer\n", "at least 10 characters"),
    (["newcomer1", "--password-stdin"], "NEWCOMER1 \n", "must not be the login"),
    (["newcomer12", "--password-stdin"], "newcomer12\n", "must not be the login"),
    (["a b"], None, "lower-case letters"),
    (["family"], None, "kept for the audit log"),
])
def test_create_user_refuses(app, runner, db, args, stdin, says):
    make_user(app, "taken")
    result = runner.invoke(args=["create-user", *args, "--role", "staff", "--org", "O",
                                 "--name", "N"], input=stdin)
    assert result.exit_code == 1
    assert says in result.output
    assert len(db.users()) == 1


def test_create_user_needs_a_known_role(runner):
    result = runner.invoke(args=["create-user", "x1", "--role", "boss", "--org", "O",
                                 "--name", "N"])
    assert result.exit_code == 2 and "boss" in result.output
