"""The family's wizard: home, start (with consent), steps, review, answer sheet, save and resume.

Thin: each view reads the request, asks the engine and the store, and renders. With JavaScript
off this is the whole product.
"""

from __future__ import annotations

import datetime
import functools
import time

from flask import (
    Blueprint,
    abort,
    after_this_request,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext

from .. import (
    assist_forms,
    catalog,
    display,
    engine,
    forms,
    get_store,
    i18n,
    proxy,
    security,
    sessions,
)
from ..flow import fieldtypes
from ..flow.fieldtypes import Invalid
from ..flow.model import Flow
from . import walk

bp = Blueprint("family", __name__)

# The consent version each family agrees to (shared with the sync API, which starts sessions
# begun offline).
CONSENT_VERSION = sessions.CONSENT_VERSION


# ---------------------------------------------------------------- helpers


def _flow_or_404(flow_id: str, version: int | None = None) -> Flow:
    flow = catalog.get(get_store(), flow_id, version)
    if flow is None:
        abort(404)
    return flow


def _active(flow_id: str):
    """(session, flow, answers, journey) for an active session, or a response explaining why
    there is none (never started, expired, deleted)."""
    sess = sessions.current(flow_id)
    if sess is None or sess["status"] in ("deleted", "expired"):
        flow = _flow_or_404(flow_id)
        reason = sess["status"] if sess else "missing"
        return None, render_template("family/no_session.html", flow=flow, reason=reason,
                                     days=current_app.config["SESSION_IDLE_DAYS"]), 200
    flow = _flow_or_404(flow_id, sess["flow_version"])
    answers = get_store().answers(sess["id"])
    token = sessions.token(flow_id)

    @after_this_request
    def keep_cookie(response):
        # The cookie lasts SESSION_IDLE_DAYS from the last visit, not from the first one
        # (unless the view itself set or removed it, as "Delete my answers" does).
        name = sessions.cookie_name(flow_id) + "="
        if not any(c.startswith(name) for c in response.headers.getlist("Set-Cookie")):
            sessions.set_token(response, flow_id, token)
        return response

    return (sess, flow, answers, engine.journey(flow, answers)), None, None


def needs_session(view):
    """A view of an active session: called as view(session, flow, answers, journey, ...);
    without one, the page that explains why (never started, expired, deleted). Its pages
    say which helpers can see the answers now (base.html)."""
    @functools.wraps(view)
    def wrapper(flow_id: str, **kwargs):
        after_this_request(security.keep_private)
        state, response, status = _active(flow_id)
        if state is None:
            return response, status
        helper = state[0].get("helper")
        if helper is not None and request.endpoint in _FAMILY_ONLY:
            # A helper's phone keeping the walkthrough walks its pages, and no more: never
            # the resume code (it would open the answers after access ends), deleting, or
            # letting more helpers in.
            if request.endpoint == "family.save":
                return redirect(url_for("assist.family", grant_id=helper["id"]), 303)
            abort(404)
        g.family_session, g.helper_here = state[0]["id"], helper
        return view(*state, **kwargs)

    return wrapper


_FAMILY_ONLY = {"family.save", "family.delete", "family.helper", "family.end_helper"}


@bp.app_context_processor
def _helpers():
    """Helpers who can see this family's answers now, for the banner of the family's pages."""
    session_id = g.get("family_session")
    if session_id is None:
        return {"helpers": []}
    here = g.get("helper_here")
    if here is not None:  # the helper's own phone: whom they help, not whom the family let in
        return {"helpers": [], "helper_here": {
            **here, "label": display.family_label(here),
            "until": i18n.format_moment(here["expires_at"])}}
    return {"helpers": [{**h, "until": i18n.format_moment(h["expires_at"])}
                        for h in get_store().grants_of_session(session_id)]}


def _step_url(flow: Flow, step_id: str, back_to_review: bool = False) -> str:
    return url_for("family.step", flow_id=flow.id, step_id=step_id,
                   **({"return": "review"} if back_to_review else {}))


def _documents(flow: Flow) -> list[dict]:
    return [display.item(flow, c) for c in engine.common_documents(flow)]


# ---------------------------------------------------------------- settings


@bp.get("/text-size")
def text_size():
    """Larger text, remembered in a cookie: works without JavaScript."""
    size = "large" if request.args.get("size") == "large" else "normal"
    target = security.local_path(request.args.get("next", "/"))
    response = redirect(target, 303)
    response.set_cookie(i18n.TEXT_COOKIE, size, max_age=365 * 86400, samesite="Lax",
                        secure=request.is_secure, httponly=True)
    return response


# ---------------------------------------------------------------- home and start


@bp.get("/")
def home():
    flows = catalog.published(get_store())
    return render_template("family/home.html", flows=[(f, engine.days_left(f)) for f in flows])


@bp.get("/f/<flow_id>/")
def start(flow_id: str):
    flow = _flow_or_404(flow_id)
    sess = sessions.current(flow_id)
    carry_on = None
    if sess is not None and sess["status"] in ("active", "completed"):
        carry_on = (_step_url(flow, sess["last_step"]) if sess["last_step"]
                    else url_for("family.review", flow_id=flow.id))
    return render_template("family/start.html", flow=flow, days_left=engine.days_left(flow),
                           documents=_documents(flow), carry_on=carry_on, error=None,
                           consent_version=CONSENT_VERSION)


@bp.post("/f/<flow_id>/")
def begin(flow_id: str):
    flow = _flow_or_404(flow_id)
    if request.form.get("consent") != "yes":
        return render_template(
            "family/start.html", flow=flow, days_left=engine.days_left(flow),
            documents=_documents(flow), carry_on=None, consent_version=CONSENT_VERSION,
            error=gettext("Tick the box to agree, so that we can save your answers")), 200
    earlier = sessions.current(flow_id)
    # A helper's phone keeping another family's walkthrough is no earlier walkthrough of
    # this phone's own: its code is not this phone's to show.
    if earlier is not None and earlier["status"] in ("active", "completed") \
            and earlier.get("helper") is None and request.form.get("replace") != "yes":
        # Starting again replaces the answers on this phone: say so, and give the code that
        # still opens them, before doing it.
        return render_template(
            "family/start_again.html", flow=flow, code=security.format_code(
                security.resume_code(current_app.config["SECRET_KEY"], earlier["resume_salt"])),
            days=current_app.config["SESSION_IDLE_DAYS"],
            carry_on=_step_url(flow, earlier["last_step"]) if earlier["last_step"]
            else url_for("family.review", flow_id=flow.id))
    if earlier is not None and earlier.get("helper") is None:
        # The family leaves that walkthrough on this phone: no helper keeps it unseen.
        get_store().end_grants(earlier["id"], "family")
    token = sessions.create(flow, i18n.current(), CONSENT_VERSION)
    response = redirect(_step_url(flow, flow.steps[0].id), 303)
    sessions.set_token(response, flow.id, token)
    return response


# ---------------------------------------------------------------- steps


@bp.route("/f/<flow_id>/<step_id>", methods=["GET", "POST"])
@needs_session
def step(sess: dict, flow: Flow, answers: dict, j: engine.Journey, step_id: str):
    return walk.step(_walker(flow, sess), sess, flow, answers, j, step_id)


def _walker(flow: Flow, sess: dict) -> walk.Walker:
    """The family's pages, walked by the family, or by their helper on a phone keeping the
    walkthrough (then answers are marked as the helper's, what they see is recorded, and
    only a guardian present at the start lets them confirm)."""
    helper = sess.get("helper")
    if helper is None:
        return walk.family(flow, device=sessions.device(flow.id))
    return walk.for_helper("family", {"flow_id": flow.id}, sess["id"], helper["user_id"],
                           helper, device=sessions.device(flow.id))


@bp.route("/f/<flow_id>/review", methods=["GET", "POST"])
@needs_session
def review(sess: dict, flow: Flow, answers: dict, j: engine.Journey):
    return walk.review(_walker(flow, sess), sess, flow, answers, j)


@bp.get("/f/<flow_id>/done")
@needs_session
def done(sess: dict, flow: Flow, answers: dict, j: engine.Journey):
    return walk.done(_walker(flow, sess), sess, flow, answers, j,
                     idle_days=current_app.config["SESSION_IDLE_DAYS"])


@bp.route("/f/<flow_id>/delete", methods=["GET", "POST"])
@needs_session
def delete(sess: dict, flow: Flow, _answers: dict, _j: engine.Journey):
    if request.method == "POST":
        get_store().delete_session(sess["id"])
        response = redirect(url_for("family.deleted", flow_id=flow.id), 303)
        response.delete_cookie(sessions.cookie_name(flow.id), path="/")
        return response
    return render_template("family/delete.html", flow=flow)


@bp.get("/f/<flow_id>/deleted")
def deleted(flow_id: str):
    return render_template("family/deleted.html", flow=_flow_or_404(flow_id))


@bp.post("/f/<flow_id>/forget")
def forget(flow_id: str):
    """"Forget this phone", for a shared phone: this phone's key to the answers is removed,
    and the browser is told to clear what the site keeps on it (kept pages, the offline copy
    of the answers and its key). The answers stay on the service, for the code to open on
    any phone, until they are deleted or expire."""
    flow = _flow_or_404(flow_id)
    token = sessions.token(flow_id)
    if token:
        get_store().remove_token(security.hash_token(token))
    response = redirect(url_for("family.forgotten", flow_id=flow.id), 303)
    response.delete_cookie(sessions.cookie_name(flow.id), path="/")
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


# ---------------------------------------------------------------- letting a helper in


@bp.route("/f/<flow_id>/helper", methods=["GET", "POST"])
@needs_session
def helper(sess: dict, flow: Flow, _answers: dict, _j: engine.Journey):
    """"Let a helper see and change my answers": a one-time code and its QR code for the
    helper, who can then help until the family ends it (or a day passes); who has access
    now, and every time a helper saw or changed the answers."""
    form = assist_forms.OfferForm()
    store = get_store()
    if request.method == "POST" and form.validate():
        minutes = current_app.config["GRANT_CODE_MINUTES"]
        expires = datetime.datetime.now(datetime.timezone.utc) \
            + datetime.timedelta(minutes=minutes)
        secret = current_app.config["SECRET_KEY"]
        for _try in range(20):  # a clash with another family's waiting code: draw again
            code = security.grant_code()
            if store.offer_grant(sess["id"], security.grant_lookup(secret, code),
                                 form.label.data, expires.isoformat(timespec="seconds")):
                break
        else:
            abort(503)
        link = security.public_url("assist.accept", code=code)
        # Shown in this answer only: the code is kept hashed, and a reload draws a new one.
        return render_template(
            "family/helper_code.html", flow=flow, code=f"{code[:3]} {code[3:]}", link=link,
            minutes=minutes, until=i18n.format_moment(expires.isoformat(), flow.timezone),
            qr=sessions.qr_svg(link))
    history = [{**row, "at": i18n.format_moment(row["at"], flow.timezone),
                "what": display.access_words(row["action"])}
               for row in store.access_history(sess["id"])]
    return render_template("family/helper.html", flow=flow, form=form, history=history,
                           back_url=_step_url(flow, sess["last_step"]) if sess["last_step"]
                           else url_for("family.review", flow_id=flow.id)), \
        (422 if form.errors else 200)


@bp.post("/f/<flow_id>/helper/<id:grant_id>/end")
@needs_session
def end_helper(sess: dict, flow: Flow, _answers: dict, _j: engine.Journey, grant_id: int):
    """"End access": the helper's very next request is refused."""
    get_store().end_grant(grant_id, sess["id"], "family", "family")
    target = security.local_path(request.form.get("next") or url_for("family.helper",
                                                                   flow_id=flow.id))
    return redirect(target, 303)


@bp.get("/f/<flow_id>/forgotten")
def forgotten(flow_id: str):
    return render_template("family/forgotten.html", flow=_flow_or_404(flow_id))


# ---------------------------------------------------------------- save and resume


@bp.route("/f/<flow_id>/save", methods=["GET", "POST"])
@needs_session
def save(sess: dict, flow: Flow, answers: dict, _j: engine.Journey):
    secret = current_app.config["SECRET_KEY"]
    uses_fact = bool(flow.resume_fact and answers.get(flow.resume_fact))
    error = None
    if request.method == "POST" and not uses_fact:
        pin = request.form.get("pin", "").strip()
        if len(pin) == 4 and pin.isascii() and pin.isdigit():
            get_store().set_pin(sess["id"], security.pin_hash(secret, sess["id"], pin))
            return redirect(url_for("family.save", flow_id=flow.id), 303)
        error = gettext("Enter 4 digits, like 2580")
    ready = uses_fact or bool(sess["pin_hash"])
    fact = flow.field(flow.resume_fact) if uses_fact else None
    card = sessions.resume_card(sess)
    return render_template(
        "family/save.html", flow=flow, code=card["code"], link=card["link"],
        qr=card["qr"] if ready else None, ready=ready, fact=fact, error=error,
        unsaved=request.args.get("unsaved") == "1", new_code=request.args.get("new_code") == "1",
        continue_url=_step_url(flow, sess["last_step"]) if sess["last_step"]
        else url_for("family.start", flow_id=flow.id),
    ), (422 if error else 200)


def _resume_page(form: forms.ResumeForm, error: str | None = None, status: int = 200):
    """The resume form, shown through the same macros as step pages."""
    if error:
        form.code.errors = [error]
    return render_template("family/resume.html", fields=list(form), summary=form.summary(),
                           idle_days=current_app.config["SESSION_IDLE_DAYS"]), status


@bp.route("/resume", methods=["GET", "POST"])
def resume():
    # The code comes typed (POST) or in the resume link (?code=, what the QR code opens).
    form = forms.ResumeForm(data={"code": request.args.get("code", "")[:40]})
    if request.method == "GET":
        return _resume_page(form)
    after_this_request(security.keep_private)  # the answer shows what was typed
    store = get_store()
    secret = current_app.config["SECRET_KEY"]
    code = security.normalise_code((form.code.data or "")[:40])
    if not code:
        return _resume_page(form, gettext(
            "Enter the code from your saved page, like KD7M 4PQX"), 422)
    lookup = security.resume_lookup(secret, code)
    sess = sessions.fresh(store.session_by_resume(lookup))
    if sess is not None and sess["status"] not in ("active", "completed"):
        sess = None  # a deleted or expired session's code answers as an unknown one does
    # Counted before it is judged (see Store.claim_attempt); a success is forgotten below.
    wait, attempt, left = store.claim_attempt(
        security.resume_limits(lookup if sess else None, proxy.client_key(request.remote_addr)),
        time.time())
    if wait:
        minutes = max(1, (wait + 59) // 60)
        return _resume_page(form, gettext(
            "Too many tries. Wait %(minutes)d minutes, then try again.", minutes=minutes), 429)
    if sess is not None and _second_fact_matches(sess, form, secret):
        store.forget_attempts(attempt)
        new_code = bool(sess["handed_over"])
        if new_code:
            # The helper who handed it over saw that code: from now on only the family's
            # new one opens it, shown to them at once on the save page.
            store.new_resume_code(sess["id"], *sessions.new_resume_code())
        token = security.new_token()
        store.add_token(sess["id"], security.hash_token(token),
                        {"with": "pin" if (form.pin.data or "").strip() else "birth date"})
        flow = _flow_or_404(sess["flow_id"], sess["flow_version"])
        answers = store.answers(sess["id"])
        j = engine.journey(flow, answers)
        target = sess["last_step"] if sess["last_step"] and j.is_visible(sess["last_step"]) \
            else None
        if target is None:
            unfinished = engine.first_unfinished(j, answers)
            target = unfinished.id if unfinished else None
        response = redirect(url_for("family.save", flow_id=flow.id, new_code=1) if new_code
                            else _step_url(flow, target) if target
                            else url_for("family.review", flow_id=flow.id), 303)
        sessions.set_token(response, flow.id, token)
        return response
    message = gettext(
        "The code and the date of birth (or PIN) do not match. Check both and try again. "
        "A code stops working when its answers are deleted, or after %(days)d days without "
        "use.", days=current_app.config["SESSION_IDLE_DAYS"])
    if left == 1:
        message = i18n.join_sentences(
            message, gettext("You have one more try before you have to wait."))
    return _resume_page(form, message, 422)


def _second_fact_matches(sess: dict, form: forms.ResumeForm, secret: str) -> bool:
    pin = (form.pin.data or "").strip()
    if pin and sess["pin_hash"]:
        return security.same(security.pin_hash(secret, sess["id"], pin), sess["pin_hash"])
    flow = catalog.get(get_store(), sess["flow_id"], sess["flow_version"])
    if not flow or not flow.resume_fact:
        return False
    stored = get_store().answers(sess["id"]).get(flow.resume_fact)
    if not stored:
        return False
    try:
        typed = fieldtypes.REGISTRY["date"].parse(flow.field(flow.resume_fact), form.dob.data)
    except Invalid:
        return False
    return typed == stored

