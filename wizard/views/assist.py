"""Helpers' pages (/assist/): the console of families who let this helper in, entering a
family's code, starting a walkthrough for a family on the helper's phone, walking a family's
pages with them, notes, handing back and handing over.

A helper reaches a family only through a live grant of their own: any other grant id, one
ended, expired or never accepted, answers 404 exactly like one that never existed. Every page
of a family's data a helper opens or changes is in the audit log.
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
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user

from .. import (
    accounts,
    assist_forms,
    catalog,
    display,
    engine,
    get_store,
    i18n,
    proxy,
    security,
    sessions,
)
from ..flow.model import Flow
from . import walk

bp = Blueprint("assist", __name__, url_prefix="/assist")

helper_only = accounts.needs_role()  # any signed-in role may help a family


def _until() -> str:
    hours = current_app.config["GRANT_HOURS"]
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours)
    return moment.isoformat(timespec="seconds")


def _flow(flow_id: str, version: int | None = None) -> Flow:
    flow = catalog.get(get_store(), flow_id, version)
    if flow is None:
        abort(404)
    return flow


def _walker(grant: dict) -> walk.Walker:
    # The helper's saves are told apart from the family's phones' (conflicts) by their name.
    return walk.for_helper(
        "assist", {"grant_id": grant["id"]}, grant["session_id"], current_user.id, grant,
        device=current_user.entered_by,
        helping=_helping(grant), aliases={"start": "family", "save": "family"})


def _helping(grant: dict) -> dict:
    family_lang = grant["locale"]
    return {"grant": grant, "label": display.family_label(grant), "family_lang": family_lang,
            "family_lang_name": i18n.LANGUAGES[family_lang][0],
            "family_lang_tag": i18n.LANGUAGES[family_lang][1],
            "both": bool(session.get("both_languages")),
            "same_lang": family_lang == i18n.current(),
            "until": i18n.format_moment(grant["expires_at"])}


def needs_grant(view):
    """A page of a family's session through this helper's own live grant; 404 otherwise."""
    @helper_only
    @functools.wraps(view)
    def wrapper(grant_id: int, **kwargs):
        after_this_request(security.keep_private)
        store = get_store()
        grant = store.live_grant(grant_id, current_user.id)
        if grant is None:
            abort(404)
        sess = sessions.fresh(store.session(grant["session_id"]))
        if sess is None or sess["status"] not in ("active", "completed"):
            abort(404)
        flow = _flow(sess["flow_id"], sess["flow_version"])
        answers = store.answers(sess["id"])
        return view(_walker(grant), grant, sess, flow, answers, engine.journey(flow, answers),
                    **kwargs)
    return wrapper


# ---------------------------------------------------------------- the console


def _card(grant: dict) -> dict:
    """One family on the console: what a helper needs to pick up where they are, and no
    answer."""
    flow = _flow(grant["flow_id"], grant["flow_version"])
    answers = get_store().answers(grant["session_id"])
    j = engine.journey(flow, answers)
    where = flow.step(grant["last_step"]) if grant["last_step"] else None
    stuck = engine.first_unfinished(j, answers)
    number, total = engine.progress(j, where.id) if where and j.is_visible(where.id) \
        else (0, len(j.steps))
    return {"grant": grant, "flow": flow, "number": number, "total": total,
            "label": display.family_label(grant),
            "where": where, "stuck": stuck, "completed": grant["status"] == "completed",
            "last": i18n.format_moment(grant["session_updated"], flow.timezone),
            "until": i18n.format_moment(grant["expires_at"], flow.timezone),
            "days_left": engine.days_left(flow),
            "url": url_for("assist.family", grant_id=grant["id"])}


@bp.get("/")
@helper_only
def console():
    after_this_request(security.keep_private)
    cards = [_card(g) for g in get_store().grants_of_user(current_user.id)]
    return render_template("assist/console.html", cards=cards,
                           flows=catalog.published(get_store()),
                           form=assist_forms.AcceptForm())


@bp.get("/both-languages")
@helper_only
def both_languages():
    """Show the family's language beside the helper's own on a family's pages (or not)."""
    session["both_languages"] = request.args.get("on") == "1"
    return redirect(security.local_path(request.args.get("next", url_for("assist.console"))),
                    303)


# ---------------------------------------------------------------- a family's code


@bp.route("/accept", methods=["GET", "POST"])
@helper_only
def accept():
    """The family's code, typed or opened from their QR code (?code=)."""
    after_this_request(security.keep_private)  # the code, in the address and the page
    form = assist_forms.AcceptForm(data={"code": request.args.get("code", "")[:40]})
    if request.method == "GET":
        return render_template("assist/accept.html", form=form), 200
    if not form.validate():
        return render_template("assist/accept.html", form=form), 422
    store = get_store()
    lookup = security.grant_lookup(current_app.config["SECRET_KEY"], form.code.data)
    # Counted before it is judged, like resume codes; a success is forgotten below.
    wait, attempt, _left = store.claim_attempt(
        security.grant_limits(lookup, proxy.client_key(request.remote_addr), current_user.id),
        time.time())
    if wait:
        form.code.errors = [gettext("Too many tries. Wait %(minutes)d minutes, then try again.",
                                    minutes=max(1, (wait + 59) // 60))]
        store.audit(current_user.actor, "grant-code-refused", None, {"why": "too many tries"})
        return render_template("assist/accept.html", form=form), 429
    grant_id = store.accept_grant(lookup, current_user.id, _until())
    if grant_id is None:
        store.audit(current_user.actor, "grant-code-refused", None, {"why": "no such code"})
        form.code.errors = [gettext(
            "This code does not open anything. Codes work once, for 10 minutes: ask the "
            "family to show a new one.")]
        return render_template("assist/accept.html", form=form), 422
    store.forget_attempts(attempt)
    return redirect(url_for("assist.family", grant_id=grant_id), 303)


# ---------------------------------------------------------------- started on the helper's phone


@bp.route("/new/<flow_id>", methods=["GET", "POST"])
@helper_only
def new(flow_id: str):
    """Start a walkthrough for a family on this (the helper's) phone: the guardian's consent
    is recorded first, with its text's version, as on the family's own start page."""
    after_this_request(security.keep_private)
    flow = _flow(flow_id)
    form = assist_forms.StartForm()
    if request.method == "POST" and form.validate():
        sess_id = sessions.create_for_helper(flow, form.family_lang.data,
                                             sessions.CONSENT_VERSION)
        grant_id = get_store().start_grant(sess_id, current_user.id, form.label.data, _until(),
                                           guardian_present=form.present.data)
        return redirect(url_for("assist.step", grant_id=grant_id, step_id=flow.steps[0].id),
                        303)
    return render_template("assist/new.html", flow=flow, form=form,
                           consent_version=sessions.CONSENT_VERSION,
                           languages=i18n.LANGUAGES), (422 if form.errors else 200)


# ---------------------------------------------------------------- a family's pages


@bp.get("/s/<id:grant_id>/")
@needs_grant
def family(w: walk.Walker, grant: dict, sess: dict, flow: Flow, answers: dict,
           j: engine.Journey):
    w.note("view", page="overview")
    return _family_page(w, grant, sess, flow, j)


def _family_page(w: walk.Walker, grant: dict, sess: dict, flow: Flow, j: engine.Journey,
                 keep_error: str | None = None):
    return render_template(
        "assist/family.html", walk=w, card=_card(grant), flow=flow, keep_error=keep_error,
        notes=[{**n, "at": i18n.format_moment(n["at"], flow.timezone),
                "step": flow.step(n["step_id"])} for n in get_store().notes(sess["id"])],
        carry_on=w.step_url(sess["last_step"]) if sess["last_step"]
        and j.is_visible(sess["last_step"]) else w.step_url(j.steps[0].id) if j.steps
        else w.url("review"),
        started=grant["kind"] == "started")


@bp.post("/s/<id:grant_id>/keep")
@needs_grant
def keep(w: walk.Walker, grant: dict, sess: dict, flow: Flow, answers: dict,
         j: engine.Journey):
    """Keep this family's walkthrough on the helper's phone for use without signal: the
    phone gets a device token like the family's, bound to this grant (it opens nothing once
    the grant ends), and walks the family's own pages, which the phone keeps."""
    held = sessions.from_cookie(flow.id)
    if held is not None and held["status"] in ("active", "completed"):
        if held["helper"] is None:
            # A family's own walkthrough on this phone (the helper signed in on the family's
            # phone, say): never taken over, it is theirs.
            return _family_page(w, grant, sess, flow, j, keep_error="own"), 409
        if held["id"] != sess["id"]:
            # One walkthrough of a flow per phone: the other one's unsent answers must not
            # be stranded.
            return _family_page(w, grant, sess, flow, j, keep_error="other"), 409
    token = security.new_token()
    get_store().add_helper_token(grant["id"], sess["id"], current_user.id,
                                 security.hash_token(token))
    target = sess["last_step"] if sess["last_step"] and j.is_visible(sess["last_step"]) \
        else (j.steps[0].id if j.steps else None)
    # In the helper's own language, which the phone then keeps (as a family's does theirs).
    lang = current_user.language
    response = redirect(url_for("family.step", flow_id=flow.id, step_id=target, lang=lang)
                        if target else url_for("family.review", flow_id=flow.id, lang=lang),
                        303)
    sessions.set_token(response, flow.id, token)
    return response


@bp.route("/s/<id:grant_id>/step/<step_id>", methods=["GET", "POST"])
@needs_grant
def step(w: walk.Walker, grant: dict, sess: dict, flow: Flow, answers: dict,
         j: engine.Journey, step_id: str):
    return walk.step(w, sess, flow, answers, j, step_id, **_notes_of(w, sess, flow, step_id))


def _notes_of(w: walk.Walker, sess: dict, flow: Flow, step_id: str) -> dict:
    """A step's notes for helpers, and the form to add one (on the step page)."""
    return {"notes": [{**n, "at": i18n.format_moment(n["at"], flow.timezone)}
                      for n in get_store().notes(sess["id"], step_id)],
            "note_form": assist_forms.NoteForm(),
            "note_url": w.url("note", step_id=step_id)}


@bp.post("/s/<id:grant_id>/step/<step_id>/note")
@needs_grant
def note(w: walk.Walker, grant: dict, sess: dict, flow: Flow, answers: dict,
         j: engine.Journey, step_id: str):
    if flow.step(step_id) is None:
        abort(404)
    form = assist_forms.NoteForm()
    if form.validate():
        get_store().add_note(sess["id"], step_id, current_user.id, form.note.data)
    return redirect(w.step_url(step_id) + "#notes", 303)


@bp.route("/s/<id:grant_id>/review", methods=["GET", "POST"])
@needs_grant
def review(w: walk.Walker, grant: dict, sess: dict, flow: Flow, answers: dict,
           j: engine.Journey):
    return walk.review(w, sess, flow, answers, j)


@bp.get("/s/<id:grant_id>/done")
@needs_grant
def done(w: walk.Walker, grant: dict, sess: dict, flow: Flow, answers: dict,
         j: engine.Journey):
    return walk.done(w, sess, flow, answers, j)


@bp.post("/s/<id:grant_id>/hand-back")
@needs_grant
def hand_back(w: walk.Walker, grant: dict, sess: dict, flow: Flow, answers: dict,
              j: engine.Journey):
    """The helper is done: their access ends now (the family keeps everything)."""
    get_store().end_grant(grant["id"], sess["id"], "helper", current_user.actor)
    return redirect(url_for("assist.console", ended=grant["id"]), 303)


@bp.route("/s/<id:grant_id>/hand-over", methods=["GET", "POST"])
@needs_grant
def hand_over(w: walk.Walker, grant: dict, sess: dict, flow: Flow, answers: dict,
              j: engine.Journey):
    """A walkthrough started on the helper's phone goes to the family: the code (and QR
    code) that opens it on their phone, shown once, and the helper's access ends. Without
    the child's birth date yet, the guardian chooses a PIN first."""
    if grant["kind"] != "started":
        abort(404)  # a family who let a helper in with a code keeps their own code
    form = assist_forms.HandOverForm()
    by_birth_date = bool(flow.resume_fact and answers.get(flow.resume_fact))
    if request.method == "POST":
        pin = (form.pin.data or "").strip()
        if pin and not (len(pin) == 4 and pin.isascii() and pin.isdigit()) \
                or not pin and not by_birth_date:
            form.pin.errors = [gettext("Enter 4 digits, like 2580")]
        else:
            store = get_store()
            pin_hash = security.pin_hash(current_app.config["SECRET_KEY"], sess["id"], pin) \
                if pin else None
            # The code shown below opens the answers once more: the family's first resume
            # gives the session a new code (the helper saw this one, and knows the birth date).
            store.hand_over(grant["id"], sess["id"], current_user.actor, pin_hash)
            # Shown in this answer only (no-store, never at an address to open again): the
            # helper's access has ended.
            return render_template("assist/handed_over.html", flow=flow,
                                   card=sessions.resume_card(sess), by_birth_date=not pin,
                                   label=display.family_label(grant))
    return render_template("assist/hand_over.html", walk=w, flow=flow, form=form,
                           by_birth_date=by_birth_date, label=display.family_label(grant)), \
        (422 if form.errors else 200)
