"""A family's session on this device: its cookie, and the session it opens.

Shared by the family's pages (views/family.py) and the sync API (views/api.py): both find the
session from the same cookie, keep it alive the same way and expire it the same way.
"""

from __future__ import annotations

import base64
import datetime

import segno
from flask import current_app, request

from . import accounts, get_store, security

# The consent text is versioned: the version each family agreed to is stored with its session.
# Change the text in templates/family/consent_<version>.html and bump this.
CONSENT_VERSION = "v1"


def cookie_name(flow_id: str) -> str:
    return security.COOKIE_PREFIX + flow_id


def set_token(response, flow_id: str, token: str) -> None:
    """Give this device the session's token (httponly, SameSite=Lax, Secure under HTTPS)."""
    response.set_cookie(
        cookie_name(flow_id), token, max_age=current_app.config["SESSION_IDLE_DAYS"] * 86400,
        httponly=True, samesite="Lax", secure=request.is_secure, path="/")


def new_resume_code() -> tuple[str, str]:
    """(salt, look-up hash) of a new resume code: the code itself is made from the salt and
    the app secret whenever it is shown, and never stored."""
    salt = security.new_salt()
    secret = current_app.config["SECRET_KEY"]
    return salt, security.resume_lookup(secret, security.resume_code(secret, salt))


def create(flow, locale: str, consent_version: str, **extra) -> str:
    """A new session on this flow version for this device (the start page, or the sync API
    for a flow started offline); returns the device's token for set_token. `extra` goes to
    Store.create_session (an offline start's hashed id and the phone's claimed time)."""
    new = security.new_token()
    salt, lookup = new_resume_code()
    get_store().create_session(
        security.hash_token(new), flow.id, flow.version, locale, resume_salt=salt,
        resume_hash=lookup, consent_version=consent_version,
        device_kind=device_kind(request.user_agent.string), **extra)
    return new


def create_for_helper(flow, locale: str, consent_version: str) -> int:
    """A new session a helper starts on their own phone for a family (no family device yet:
    the family opens it later with its code). Returns its id."""
    salt, lookup = new_resume_code()
    return get_store().create_session(
        None, flow.id, flow.version, locale, resume_salt=salt, resume_hash=lookup,
        consent_version=consent_version, device_kind=device_kind(request.user_agent.string))


def device_kind(user_agent: str) -> str:
    """"phone", "tablet" or "computer", from a User-Agent header, for the studio's dashboard
    (where families drop off, by kind of device). A rough guess by design: nothing finer is
    kept, so the kind identifies no one."""
    agent = user_agent[:512].lower()
    if "ipad" in agent or "tablet" in agent or ("android" in agent and "mobile" not in agent):
        return "tablet"
    if any(word in agent for word in ("mobile", "iphone", "android", "harmonyos", "phone")):
        return "phone"
    return "computer" if agent else "unknown"


def qr_svg(link: str) -> str:
    """A link as a QR code, inline SVG made on the server (no script, no image service)."""
    return segno.make(link, error="m").svg_inline(scale=4, dark="#0b0c0c", omitsize=False)


def resume_card(sess: dict) -> dict:
    """What opens a session on another phone: its code (grouped for reading), the resume link
    on the public origin, and that link as a QR code (inline SVG)."""
    code = security.resume_code(current_app.config["SECRET_KEY"], sess["resume_salt"])
    link = security.public_url("family.resume", code=code)
    return {"code": security.format_code(code), "link": link,
            "qr": qr_svg(link)}


def token(flow_id: str) -> str | None:
    value = request.cookies.get(cookie_name(flow_id))
    return value if value and len(value) <= 100 else None


def device(flow_id: str) -> str | None:
    """This device as its saved answers record it: its cookie token's hash (as stored in
    session_tokens, never the token), or None without a cookie."""
    value = token(flow_id)
    return security.hash_token(value) if value else None


def key(session_id: int) -> str:
    """The session's key for the sync API (a phone's copy says which session it belongs to):
    stable, and telling nothing (not even the session's number) without the app secret.
    22 URL-safe base64 characters: 132 bits of an HMAC."""
    mac = security._mac(current_app.config["SECRET_KEY"], "session-key", str(session_id))
    return base64.urlsafe_b64encode(mac).decode()[:22]


def from_cookie(flow_id: str) -> dict | None:
    """This device's session for the flow (any status), or None. On a helper's phone keeping
    a family's walkthrough, `helper` holds the grant (and the helper's name) the token is
    bound to; once that grant has ended, the token opens nothing."""
    value = token(flow_id)
    if not value:
        return None
    row = get_store().session_by_token(security.hash_token(value))
    if row is None or row["flow_id"] != flow_id:
        return None
    row["helper"] = None
    if row["helper_grant"] is not None:
        row["helper"] = None if row["revoked"] else get_store().helper_grant(row["helper_grant"])
        if row["helper"] is None:
            return None
    return row


def access_ended(flow_id: str) -> bool:
    """This device is a helper's phone whose access to the family's walkthrough has ended
    (its token is bound to a grant no longer live, or revoked when the helper signed out):
    the phone must let go of its copy."""
    value = token(flow_id)
    if not value:
        return False
    bound = get_store().token_grant(security.hash_token(value))
    return bound is not None and (
        bool(bound["revoked"]) or get_store().helper_grant(bound["grant_id"]) is None)


def author(sess: dict) -> tuple[str, str]:
    """(who the answers this device saves are entered by, who the audit log names): the
    family, or the helper whose phone keeps the family's walkthrough."""
    helper = sess.get("helper")
    return ("family", "family") if helper is None else (
        accounts.author_of(helper["user_id"]), accounts.actor_of(helper["user_id"]))


def idle_limit() -> str:
    days = current_app.config["SESSION_IDLE_DAYS"]
    cutoff = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
    return cutoff.isoformat(timespec="seconds")


def fresh(sess: dict | None) -> dict | None:
    """The session as it stands now: one idle too long is erased (and says so) on first touch."""
    if sess is not None and sess["status"] in ("active", "completed") \
            and sess["updated_at"] < idle_limit():
        get_store().expire_idle(idle_limit(), sess["id"])
        sess = get_store().session(sess["id"])
    return sess


def current(flow_id: str) -> dict | None:
    """This device's session as it stands now (any status), or None."""
    return fresh(from_cookie(flow_id))
