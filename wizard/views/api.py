"""The sync API (/api/v1): the offline phone's queued changes, replayed. See docs/sync-api.md.

A change is one step submitted on the phone. Each is checked by the step's own form
(forms.check_json, as the step page does), saved whole or not at all, and recorded with its id
in the same transaction, so a queue sent twice changes nothing the second time.

Cross-site protection without a CSRF token (a queued change may be days older than any token):
SameSite=Lax cookies, the Origin and Sec-Fetch-Site checks of the app's _guard, and a custom
header, which makes a browser ask first (a CORS preflight that we never answer), so another
site's page cannot send it.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify
from flask_babel import gettext, refresh
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .. import catalog, display, engine, forms, get_store, i18n, security, sessions, store
from ..flow.model import Flow
from ..sync_request import MAX_NAME, TOO_LARGE, Refused, read

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _json_error(status: int, error: str, message: str = ""):
    body = {"error": error}
    if message:
        body["message"] = message
    return jsonify(body), status


# Errors raised before the view runs (the app's _guard: cross-site, oversized bodies) are
# handled here too: request.blueprint is known once the URL has matched. A handler for
# CSRFError itself is needed, because the app's own CSRFError handler is registered for
# status 400 and Flask looks for handlers by status code before the catch-all class.
@bp.errorhandler(Refused)
def _refused(error: Refused):
    return _json_error(error.status, error.error, error.message)


@bp.errorhandler(CSRFError)
def _cross_site(error: CSRFError):
    return _json_error(403, "cross_site", "requests from another site are refused")


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    if error.code == 413:
        return _json_error(413, "too_large", TOO_LARGE)
    return _json_error(error.code or 400, "bad_request" if error.code == 400 else
                       (error.name or "error").lower().replace(" ", "_"), error.description)


@bp.errorhandler(500)
def _server_error(error):
    return _json_error(500, "server_error", "something went wrong on the server")


@bp.after_request
def _private(response):
    return security.keep_private(response)  # answers, and a session cookie


# ---------------------------------------------------------------- the session


def _session(flow_id: str, body: dict) -> tuple[dict, str | None]:
    """(the session the changes go to, a new token to give this device or None).

    With `start`, the session made from that start, whatever session the cookie opens: on a
    shared phone the cookie may be another family's, and a walkthrough started offline is
    a new session. Only without `start` does the cookie say which session."""
    start = body.get("start")
    mine = sessions.from_cookie(flow_id)
    if start is None:
        sess, new_token = mine, None
        if sess is None and sessions.access_ended(flow_id):
            # A helper's phone: the family ended the access (or it ran out). The phone
            # drops its copy of their answers (static/js/offline.js).
            raise Refused(401, "access_ended", "this phone's access to the walkthrough "
                          "has ended: its copy of the answers must go")
        if sess is None:
            raise Refused(401, "no_session", "no session cookie for this flow, and no start")
    else:
        start_hash = security.hash_token(start["id"])
        made = get_store().session_by_start(flow_id, start_hash)
        if made is not None and mine is not None and made["id"] == mine["id"]:
            sess, new_token = mine, None  # this device holds it already: no second token
        else:
            # The phone's key names a session it had: a start not yet made cannot be it, and
            # nothing must be made for a request that is refused.
            _check_key(body, made)
            if made is None and mine is not None and mine.get("helper") is None:
                # Started again on this phone, as the start page's "start again" does: no
                # helper keeps the earlier walkthrough unseen.
                get_store().end_grants(mine["id"], "family")
            new_token = _start(flow_id, body, start_hash)
            sess = get_store().session_by_token(security.hash_token(new_token))
    sess = sessions.fresh(sess)
    _check_key(body, sess)
    if sess["status"] in ("deleted", "expired"):
        # The phone keeps its own copy and tells the family; no cookie for an ended session.
        raise Refused(410, sess["status"])
    return sess, new_token


def _start(flow_id: str, body: dict, start_hash: str) -> str:
    """This device's token for the session made from `start`: made now, or (a retried start
    whose answer was lost) the one it made before. One start, one session."""
    start = body["start"]
    if start["consent_version"] != sessions.CONSENT_VERSION:
        raise Refused(409, "consent_outdated", "the family agreed to a consent text that "
                      "is no longer current: show them the start page again")
    flow = catalog.get(get_store(), flow_id, body["version"])
    if flow is None:
        raise Refused(409, "version_unknown",
                      f"version {body['version']} of this flow is not published")
    # The phone's clock is kept as claimed; consent_at is the server's.
    return sessions.create(flow, i18n.current(), start["consent_version"],
                           start_hash=start_hash, started_offline=True,
                           consent_claimed_at=start.get("claimed_at"))


def _check_key(body: dict, sess: dict | None) -> None:
    """A phone's copy belongs to one session (its `session_key`): when this request's session
    is another one (the family deleted their answers and started again, say), replaying the
    copy's queue into it would bring back answers the family deleted. Refuse it all."""
    key = body.get("session_key")
    if key is not None and (sess is None or not security.same(key, sessions.key(sess["id"]))):
        raise Refused(409, "other_session", "the phone's copy belongs to another session "
                      "than the one this request opens: nothing was applied")


# ---------------------------------------------------------------- the changes


def _conflicts(flow: Flow, conflict: store.Conflict, values: dict) -> dict:
    """Both sides of each answer changed elsewhere, as values and as people read them."""
    found = {}
    for field_id, server in conflict.changed.items():
        field = flow.field(field_id)
        found[field_id] = {"server": server, "phone": values[field_id],
                           "server_text": display.display(flow, field, server),
                           "phone_text": display.display(flow, field, values[field_id])}
    return found


def _apply(sess: dict, flow: Flow, change: dict, extra: dict, device: str,
           entered_by: str) -> dict:
    """One change: what came of it (see docs/sync-api.md), recorded with its id. A helper's
    phone (entered_by a volunteer) saves as the helper, and confirms only as the helper's
    page would: when the guardian was present at the start."""
    s = get_store()
    sid, change_id, step_id = sess["id"], change["id"], change.get("step", "")
    claimed = change.get("claimed_at")
    earlier = s.change_result(sid, change_id)
    if earlier is not None:
        return earlier
    step = flow.step(step_id)
    answers = s.answers(sid)  # read again for each change: the one before may have saved
    j = engine.journey(flow, answers)
    if change.get("complete"):
        # Completed only as the review page completes: every visible answer valid again.
        problems = [{"step": p.step.id, "field": p.field.id, "code": p.error.code,
                     "message": display.error_text(p.field, p.error, flow)}
                    for p in engine.problems(j, answers)]
        helper = sess.get("helper")
        if helper is not None and not helper["guardian_present"]:
            problems.append({"step": None, "field": None, "code": "family_confirms",
                             "message": gettext("Only the family can confirm these answers, "
                                                "on their own phone.")})
        if problems:
            return s.record_change(sid, change_id, "", {"status": "invalid",
                                                        "problems": problems, **extra}, claimed)
        return {**s.complete_change(sid, change_id, claimed), **extra}
    if step is None:
        return s.record_change(sid, change_id, step_id, {"status": "unknown_step", **extra},
                               claimed)
    if not j.is_visible(step_id):
        return s.record_change(sid, change_id, step_id,
                               {"status": "skipped", "reason": "step_hidden", **extra}, claimed)
    values, problems = forms.check_json(flow, j, step, change["values"], answers)
    if problems:
        # Counted like the step page's refusals (the dashboard's hardest questions). A change
        # seen before returned its result above, so a replay is never counted twice.
        s.count_errors(flow.id, flow.version, step_id, sorted(problems), sess["locale"],
                       sess.get("device_kind"))
        return s.record_change(sid, change_id, step_id,
                               {"status": "invalid", "errors": problems, **extra}, claimed)
    try:
        return s.apply_change(sid, change_id, step_id, values, change.get("base_revision"),
                              claimed, extra, entered_by=entered_by, device=device,
                              move_last_step=sess.get("helper") is None
                              or sess["helper"]["kind"] == "started",
                              reached=flow.place(step_id))
    except store.Conflict as conflict:
        # Nothing was saved or recorded (the transaction rolled back); recording the refusal
        # now is safe: if a copy of this change got in first, record_change returns its result.
        return s.record_change(sid, change_id, step_id, {
            "status": "conflict", "conflicts": _conflicts(flow, conflict, values), **extra},
            claimed)
    except LookupError:  # deleted by another device while this request ran
        raise Refused(410, "deleted") from None


@bp.post("/flows/<flow_id>/sync")
def sync(flow_id: str):
    body = read()
    # Messages in the page's language: set before anything is translated (flask-babel caches
    # the locale on g, so forget any it chose already).
    lang = body.get("lang")
    g.lang = lang if lang in i18n.LANGUAGES else i18n.current()
    refresh()
    if catalog.get(get_store(), flow_id) is None:
        raise Refused(404, "not_found", f"no published flow {flow_id[:MAX_NAME]!r}")
    sess, new_token = _session(flow_id, body)
    token = new_token or sessions.token(flow_id)
    flow = catalog.get(get_store(), flow_id, sess["flow_version"])
    # Changes made on another version are checked against the session's own.
    extra = {"version_moved": True} if body["version"] != sess["flow_version"] else {}
    # This device, recorded with its answers: its queued changes all carry the revision it
    # last saw, and must not conflict with each other (only with other devices' changes).
    device = security.hash_token(token)
    entered_by, actor = sessions.author(sess)
    results = [{"id": change["id"], **_apply(sess, flow, change, extra, device, entered_by)}
               for change in body["changes"]]
    if sess.get("helper") is not None:
        # A helper's phone read the family's answers (every sync sends them), and maybe
        # changed some: one line of the audit log per sync.
        changed = [r["id"] for r in results if r.get("status") in ("applied", "completed")
                   and not r.get("replayed")]
        get_store().audit(actor, "change" if changed else "view", sess["id"],
                          {"via": "sync", "changes": changed} if changed else {"via": "sync"})
    sess = get_store().session(sess["id"])
    completed = sess["status"] == "completed"
    response = jsonify({
        "session": {"revision": sess["revision"], "status": sess["status"],
                    "flow_version": sess["flow_version"], "last_step": sess["last_step"],
                    "started": sess["created_at"],
                    "completed_at": sess["completed_at"] if completed else None,
                    "key": sessions.key(sess["id"])},
        "results": results,
        "answers": get_store().answers(sess["id"]),
    })
    # A new device's token, or the same one again: the cookie lasts SESSION_IDLE_DAYS from
    # the last sync, as it does from the last page.
    sessions.set_token(response, flow_id, token)
    return response
