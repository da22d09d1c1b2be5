"""Helpers' accounts (volunteers, staff, admins): who is signed in, passwords, roles, limits.

Flask-Login keeps the signed-in user. What it keeps in the (signed) session cookie is not the
user's id but a random sign-in id whose hash is a row of `sign_ins`: signing out, an admin
disabling the account or resetting its password, and the idle and absolute time limits then
end a sign-in on the server, at once, whatever cookie a phone still holds.
"""

from __future__ import annotations

import datetime
import functools

from flask import abort, current_app, g, redirect, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from . import get_store, i18n, proxy, security

ROLES = ("volunteer", "staff", "admin")
# The blueprints of signed-in people: pages there are in the person's own language.
PEOPLE_BLUEPRINTS = ("account", "assist", "admin", "studio", "studio_editor", "studio_text",
                     "studio_numbers")
MIN_PASSWORD = 10
# Checked against when the login is unknown, so that a wrong login takes as long as a wrong
# password (the time would otherwise tell which logins exist).
_DUMMY_HASH = generate_password_hash("not anyone's password")

login_manager = LoginManager()


def actor_of(user_id: int) -> str:
    """How the audit log names a helper."""
    return f"user:{user_id}"


def author_of(user_id: int) -> str:
    """How an answer a helper entered names them (answers.entered_by)."""
    return f"volunteer:{user_id}"


class User(UserMixin):
    """A signed-in person: their account row and the sign-in's own random id."""

    def __init__(self, row: dict, token: str):
        self.row, self.token = row, token
        self.id = row["id"]

    def get_id(self) -> str:
        return self.token

    name = property(lambda self: self.row["name"])
    org = property(lambda self: self.row["org"])
    role = property(lambda self: self.row["role"])
    language = property(lambda self: self.row["language"])
    must_change = property(lambda self: bool(self.row["must_change"]))
    # How the audit log and the answers name them.
    actor = property(lambda self: actor_of(self.id))
    entered_by = property(lambda self: author_of(self.id))


def _ago(**delta) -> str:
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(**delta)
    return moment.isoformat(timespec="seconds")


@login_manager.user_loader
def _load(token: str) -> User | None:
    if not token or len(token) > 100:
        return None
    config = current_app.config
    row = get_store().signed_in(
        security.hash_token(token), idle_since=_ago(minutes=config["HELPER_IDLE_MINUTES"]),
        started_since=_ago(hours=config["HELPER_MAX_HOURS"]), seen_gap=_ago(seconds=60))
    return User(row, token) if row else None


def init_app(app) -> None:
    app.config.setdefault("HELPER_IDLE_MINUTES", 30)
    app.config.setdefault("HELPER_MAX_HOURS", 12)
    login_manager.init_app(app)
    login_manager.login_view = "account.sign_in"
    login_manager.login_message = None  # the sign-in page says what it is; no flashed text
    # "strong" protection signs out whenever the address changes, which on a phone moving
    # between Wi-Fi and mobile data is all the time; the server-side sign-in row does the job.
    login_manager.session_protection = None

    @app.before_request
    def _person_language():
        # A helper's pages are in their own language (kept with their account), whatever the
        # family's phone or the last family page chose.
        if request.blueprint in PEOPLE_BLUEPRINTS and current_user.is_authenticated:
            asked = request.args.get("lang")
            if asked in i18n.LANGUAGES and asked != current_user.language:
                get_store().set_language(current_user.id, asked)
                current_user.row["language"] = asked
            g.person_language = current_user.language


def hash_password(password: str) -> str:
    """Werkzeug's current default (scrypt), with its own salt."""
    return generate_password_hash(password)


def password_matches(row: dict | None, password: str) -> bool:
    if row is None:
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(row["password_hash"], password)


def sign_in(row: dict) -> None:
    """Sign this account in with a new session: the cookie's old contents (its CSRF secret
    too) are dropped, so nothing fixed before sign-in carries over."""
    session.clear()
    token = security.new_token()
    get_store().start_sign_in(security.hash_token(token), row["id"],
                              {"client": proxy.client_key(request.remote_addr)})
    login_user(User(row, token))


def sign_out() -> None:
    if current_user.is_authenticated:
        get_store().end_sign_in(security.hash_token(current_user.token))
    logout_user()
    session.clear()


def needs_role(*roles: str):
    """A signed-in person with one of these roles (any role when none given); anyone else is
    sent to sign in, or refused (403) for a role they lack. Until a reset password is
    changed, every such page leads to the password page."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.must_change and request.endpoint != "account.password":
                return redirect(url_for("account.password"))
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorate
