"""Helpers' own pages: sign in, sign out, change password.

A failed sign-in says only "The login or password is wrong", whatever failed (an unknown
login, a wrong password, a disabled account), and takes as long either way (see
accounts.password_matches). Tries are counted before the password is checked, per login and
per client address (security.sign_in_limits); a success is forgotten. Every failed sign-in
is in the audit log, with the account it named when there is one, and never what was typed
(a password typed into the login box would otherwise sit in the log).
"""

from __future__ import annotations

import time

from flask import Blueprint, after_this_request, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from .. import accounts, get_store, people_forms, proxy, security

bp = Blueprint("account", __name__, url_prefix="/account")


def _too_many(wait: int) -> str:
    return gettext("Too many tries. Wait %(minutes)d minutes, then try again.",
                   minutes=max(1, (wait + 59) // 60))


def _limits(login: str) -> list[tuple[str, int, int]]:
    return security.sign_in_limits(login, proxy.client_key(request.remote_addr))


def _after_sign_in(next_url: str) -> str:
    """Where to go once signed in: the page that sent them here, when it is one of ours (and
    not this one), else the helper's console."""
    target = security.local_path(next_url) if next_url else "/"
    if target == "/" or target.startswith(url_for("account.sign_in")):
        return url_for("assist.console")
    return target


def _sign_in_page(form, next_url: str, status: int = 200, signed_out: bool = False):
    return render_template("account/sign_in.html", form=form, next_url=next_url,
                           signed_out=signed_out), status


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    # What was typed is shown again (the login): never kept by a shared computer's cache.
    after_this_request(security.keep_private)
    next_url = request.values.get("next", "")[:500]
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(_after_sign_in(next_url), 303)
    form = people_forms.SignInForm()
    if request.method == "GET":
        return _sign_in_page(form, next_url, signed_out=request.args.get("out") == "1")
    if not form.validate():
        return _sign_in_page(form, next_url, 422)
    store = get_store()
    login = form.login.data
    # Counted before the password is judged (see Store.claim_attempt). A try refused here is
    # not checked; the log says once per quarter hour and account that tries were refused
    # (one line per try would let anyone fill it).
    wait, attempt, _left = store.claim_attempt(_limits(login), time.time())
    if wait:
        row = store.user_by_login(login)
        store.audit_once("anonymous", "sign-in-locked", {"user": row["id"] if row else None},
                         within_seconds=15 * 60)
        form.login.errors = [_too_many(wait)]
        return _sign_in_page(form, next_url, 429)
    row = store.user_by_login(login)
    # The password is checked even for a disabled account: the time taken tells nothing.
    if not accounts.password_matches(row, form.password.data) or row["disabled"]:
        store.audit("anonymous", "sign-in-failed", None,
                    {"user": row["id"] if row else None})
        form.login.errors = [gettext("The login or password is wrong")]
        return _sign_in_page(form, next_url, 422)
    store.forget_attempts(attempt)
    accounts.sign_in(row)
    return redirect(_after_sign_in(next_url), 303)


@bp.post("/sign-out")
def sign_out():
    """Ends this sign-in on the server (the cookie, kept or copied, opens nothing after)."""
    accounts.sign_out()
    return redirect(url_for("account.sign_in", out=1), 303)


@bp.route("/password", methods=["GET", "POST"])
@accounts.needs_role()
def password():
    """A person's own new password; where `needs_role` sends anyone whose password an admin
    has reset. The current password is needed (someone at an unattended phone cannot lock its
    owner out) and its tries count like sign-in tries, against the same login."""
    after_this_request(security.keep_private)
    row = current_user.row
    form = people_forms.PasswordForm(account_login=row["login"])
    if request.method == "GET":
        return _password_page(form, changed=request.args.get("changed") == "1")
    if not form.validate():
        return _password_page(form, status=422)
    store = get_store()
    wait, attempt, _left = store.claim_attempt(_limits(row["login"]), time.time())
    if wait:
        form.current.errors = [_too_many(wait)]
        return _password_page(form, status=429)
    if not accounts.password_matches(row, form.current.data):
        store.audit(current_user.actor, "password-change-failed", None, {"user": row["id"]})
        form.current.errors = [gettext("Your current password is wrong")]
        return _password_page(form, status=422)
    store.forget_attempts(attempt)
    # Every other sign-in ends (a password changed for fear it was seen locks out whoever
    # saw it); this one goes on.
    store.set_password(row["id"], accounts.hash_password(form.new.data), must_change=False,
                       actor=current_user.actor, keep=security.hash_token(current_user.token))
    return redirect(url_for("account.password", changed=1), 303)


def _password_page(form, status: int = 200, changed: bool = False):
    return render_template("account/password.html", form=form, changed=changed,
                           must_change=current_user.must_change), status
