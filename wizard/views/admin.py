"""Admins' pages: the accounts (add, disable, enable, reset a password) and the audit log.

A new account and a reset get a one-time password, shown once, in the answer to the POST
that made it (no-store, at no address to open again; reloading sends the form again, which
refuses a taken login or makes yet another password). The account must choose its own
password at its next sign-in. Disabling an account or resetting its password ends its
sign-ins at once (Store.set_disabled, Store.set_password). Everything here is recorded in the
audit log under the admin's name.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    after_this_request,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user

from .. import accounts, get_store, i18n, people_forms, security
from ..flow.fieldtypes import N_

bp = Blueprint("admin", __name__, url_prefix="/admin")

admin_only = accounts.needs_role("admin")
AUDIT_ROWS = 200


def _clock(iso: str | None) -> str:
    """A stored time (ISO, UTC) on China's clock, written the way the date filters are typed
    (the log is read across days and years: "29 Nov" alone would not do)."""
    if not iso:
        return ""
    moment = datetime.datetime.fromisoformat(iso).astimezone(ZoneInfo(i18n.TIME_ZONE))
    return moment.strftime("%Y-%m-%d %H:%M")


def _user_or_404(user_id: int) -> dict:
    user = get_store().user(user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/")
@admin_only
def home():
    return redirect(url_for("admin.users"), 303)


# ---------------------------------------------------------------- accounts


def _users_page(form, status: int = 200, problem: str | None = None):
    store = get_store()
    done, about = request.args.get("done"), security.whole_number(request.args.get("user"))
    changed = store.user(about) if about is not None and done in ("disabled", "enabled") \
        else None
    people = [{**u, "last": _clock(u["last_sign_in"]),
               "role_label": gettext(people_forms.ROLE_LABELS[u["role"]]),
               "language_name": i18n.LANGUAGES.get(u["language"], (u["language"],))[0],
               "language_tag": i18n.LANGUAGES.get(u["language"], (None, None))[1],
               "is_me": u["id"] == current_user.id}
              for u in store.users()]
    summary = form.summary()
    if problem:
        summary = [{"href": "#users", "text": problem}] + summary
    return render_template("admin/users.html", people=people, form=form, summary=summary,
                           changed=changed, done=done if changed else None), status


@bp.get("/users")
@admin_only
def users():
    after_this_request(security.keep_private)
    return _users_page(people_forms.AddUserForm())


@bp.post("/users")
@admin_only
def add_user():
    after_this_request(security.keep_private)
    form = people_forms.AddUserForm()
    if not form.validate():
        return _users_page(form, 422)
    password = people_forms.one_time_password()
    store = get_store()
    user_id = store.create_user(form.login.data, form.name.data, form.org.data, form.role.data,
                                form.language.data, accounts.hash_password(password),
                                must_change=True, actor=current_user.actor)
    if user_id is None:
        form.login.errors = [gettext("The login %(login)s is taken: choose another",
                                     login=form.login.data)]
        return _users_page(form, 422)
    return _password_shown(store.user(user_id), password, new=True)


def _password_shown(user: dict, password: str, new: bool):
    """The one page that shows a one-time password: this answer only, never stored."""
    return render_template("admin/one_time_password.html", user=user, password=password,
                           new=new)


@bp.post("/users/<id:user_id>/disable")
@admin_only
def disable(user_id: int):
    return _set_disabled(user_id, True)


@bp.post("/users/<id:user_id>/enable")
@admin_only
def enable(user_id: int):
    return _set_disabled(user_id, False)


def _set_disabled(user_id: int, disabled: bool):
    after_this_request(security.keep_private)
    _user_or_404(user_id)
    if disabled and user_id == current_user.id:
        # Else the last admin could lock everyone out of these pages.
        return _users_page(people_forms.AddUserForm(formdata=None), 422, gettext(
            "You cannot disable your own account. Another administrator can."))
    get_store().set_disabled(user_id, disabled, current_user.actor)
    return redirect(url_for("admin.users", done="disabled" if disabled else "enabled",
                            user=user_id) + f"#user-{user_id}", 303)


@bp.post("/users/<id:user_id>/reset")
@admin_only
def reset(user_id: int):
    after_this_request(security.keep_private)
    user = _user_or_404(user_id)
    if user_id == current_user.id:
        # A reset ends every sign-in of the account, this one too: one's own password is
        # changed on its own page, which asks for the current one.
        return _users_page(people_forms.AddUserForm(formdata=None), 422, gettext(
            "Change your own password on the “Change your password” page."))
    form = people_forms.ResetForm()
    if not form.validate():  # nothing to fill in: kept for a field added one day
        abort(400)
    password = people_forms.one_time_password()
    get_store().set_password(user_id, accounts.hash_password(password), must_change=True,
                             actor=current_user.actor)
    return _password_shown(user, password, new=False)


# ---------------------------------------------------------------- the audit log

_ACTOR_LABELS = {
    "family": N_("The family"),
    "anonymous": N_("Someone not signed in"),
    "resume": N_("A family's resume code"),
    "cli": N_("The command line"),
}


def _who(row: dict) -> dict:
    if row["login"]:
        return {"name": row["name"], "org": row["org"], "login": row["login"]}
    label = _ACTOR_LABELS.get(row["actor"])
    return {"name": gettext(label) if label else row["actor"], "org": None, "login": None}


def _detail(detail: dict, logins: dict[int, str]) -> list[tuple[str, str]]:
    """The entry's detail as (key, value) text; an account's id also by its login."""
    items = []
    for key, value in detail.items():
        if key == "user" and isinstance(value, int) and value in logins:
            value = f"{logins[value]} (#{value})"
        elif value is None:
            value = "—"
        items.append((str(key), str(value)))
    return items


def _day_start(day: datetime.date) -> str:
    """The start of a day on China's clock, as the log's times are stored (ISO, UTC)."""
    moment = datetime.datetime.combine(day, datetime.time(), ZoneInfo(i18n.TIME_ZONE))
    return moment.astimezone(datetime.timezone.utc).isoformat(timespec="seconds")


@bp.get("/audit")
@admin_only
def audit():
    """The audit log, newest first, filtered by the query's who, action, session, since
    and until (days on China's clock, both included). A filter that makes no sense gets a
    message, never a guess."""
    after_this_request(security.keep_private)
    store = get_store()
    form = people_forms.AuditFilterForm(formdata=request.args)
    form.validate()
    actor = None
    who = form.who.data
    if who and not form.who.errors:
        if who.lower() in people_forms.OTHER_ACTORS:
            actor = who.lower()
        else:
            account = store.user_by_login(who)
            if account is None:
                form.who.errors = [gettext("No account has the login %(login)s", login=who)]
            else:
                actor = f"user:{account['id']}"
    if form.has_errors():
        return render_template("admin/audit.html", form=form, entries=[], cut=False,
                               limit=AUDIT_ROWS), 422
    since, until = form.day("since"), form.day("until")
    rows = store.audit_search(
        actor=actor, action=form.action.data or None, session_id=form.session_id(),
        since=_day_start(since) if since else None,
        until=_day_start(until + datetime.timedelta(days=1)) if until else None,
        limit=AUDIT_ROWS + 1)
    logins = {u["id"]: u["login"] for u in store.users()}
    entries = [{"at": _clock(r["at"]), "iso": r["at"], "who": _who(r), "actor": r["actor"],
                "action": r["action"], "session_id": r["session_id"],
                "detail": _detail(r["detail"], logins)} for r in rows[:AUDIT_ROWS]]
    return render_template("admin/audit.html", form=form, entries=entries,
                           cut=len(rows) > AUDIT_ROWS, limit=AUDIT_ROWS)
