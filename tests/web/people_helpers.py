"""Helpers' accounts for web tests: make one, sign it in."""

from wizard import accounts, store

PASSWORD = "correct horse 42"


def make_user(app, login="wang", role="volunteer", name="Wang Fang", org="Hope Centre",
              language="en", password=PASSWORD) -> int:
    s = store.Store(app.config["DATABASE"])
    try:
        user_id = s.create_user(login, name, org, role, language,
                                accounts.hash_password(password))
    finally:
        s.close()
    assert user_id is not None
    return user_id


def signed_in(app, login, role, **account):
    """A phone of a new account, signed in (pages in the account's language: English)."""
    make_user(app, login, role=role, **account)
    client = app.test_client()
    assert sign_in(client, login).status_code == 303
    return client


def sign_in(client, login="wang", password=PASSWORD):
    """POST the sign-in form; returns the response (303 on success)."""
    return client.post("/account/sign-in", data={"login": login, "password": password})
