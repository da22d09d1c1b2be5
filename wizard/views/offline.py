"""What makes the wizard work with no signal: the web app manifest, the service worker, and a
flow's offline bundle.

A bundle is one flow version in one language: its pages as blank templates (rendered here by
the same templates as the live pages, with every field and choice present), the compiled rules
(offline_rules.flow_rules) and the texts the phone needs to speak (offline_rules.flow_texts and
the interface words below). The phone keeps a bundle in a Cache named after the flow version,
the language and the app build, so neither a new build nor a new flow version can break a
bundle that is already kept: static/js/offline.js fills the templates with the family's answers.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, jsonify, render_template, request, url_for
from flask_babel import gettext

from .. import (
    assets,
    catalog,
    display,
    engine,
    forms,
    get_store,
    i18n,
    offline_rules,
    security,
)
from ..flow.model import Flow
from ..sessions import CONSENT_VERSION
from . import walk

bp = Blueprint("offline", __name__)

THEME_COLOUR = "#0b0c0c"  # the header's colour (--text in app.css)
# The scripts of an offline-capable page, in the order they must run.
KIT = ("js/rules.js", "js/fieldrules.js", "js/journey.js", "js/localstore.js", "js/offline.js")
ICONS = (("icons/icon-192.png", "192x192", "any"), ("icons/icon-512.png", "512x512", "any"),
         ("icons/icon-maskable-512.png", "512x512", "maskable"))


def cache_name(flow_id: str, version: int, lang: str) -> str:
    return f"wizard-flow-{flow_id}-v{version}-{lang}-{assets.build_id()}"


def _flow_in(flow_id: str, version: int, lang: str) -> Flow:
    """The flow version, with this request's language forced to `lang` (before anything has
    picked one: i18n.current() and Flask-Babel both keep the first choice for the request)."""
    if lang not in i18n.LANGUAGES:
        abort(404)
    flow = catalog.get(get_store(), flow_id, version)
    if flow is None:
        abort(404)
    g.lang = lang
    return flow


# ---------------------------------------------------------------- install


@bp.get("/manifest.webmanifest")
def manifest():
    """Installable: name in the page's language (the page links ?lang=), standalone, icons."""
    # Set here, not by i18n's choice: a ?lang= there would also set the language cookie, and
    # the service worker fetches this file with the family's cookies.
    asked = request.args.get("lang")
    g.lang = asked if asked in i18n.LANGUAGES else i18n.DEFAULT
    name, tag, direction = i18n.LANGUAGES[g.lang]
    response = jsonify({
        "name": gettext("Family helper"),
        "short_name": gettext("Helper"),
        "description": gettext("Step-by-step help with official procedures"),
        "lang": tag, "dir": direction,
        "start_url": url_for("family.home"), "scope": "/", "id": "/",
        "display": "standalone", "theme_color": THEME_COLOUR, "background_color": "#ffffff",
        "icons": [{"src": assets.url(path), "sizes": sizes, "type": "image/png",
                   "purpose": purpose} for path, sizes, purpose in ICONS],
    })
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/sw.js")
def service_worker():
    """The service worker, at the root so that its scope is the whole site. Its text carries
    the build, so a new build is a new worker (browsers compare the bytes)."""
    shell = [url_for("offline.no_signal"), url_for("offline.manifest", lang=i18n.current()),
             assets.url("css/app.css"), assets.url("js/register.js"),
             assets.url("js/step.js"), assets.url("js/speak.js"),
             *(assets.url(path) for path in KIT), *(assets.url(p) for p, _s, _u in ICONS)]
    response = current_app.response_class(
        render_template("offline/sw.js", build=assets.build_id(), shell=shell,
                        store_script=assets.url("js/localstore.js")),
        mimetype="text/javascript")
    # Browsers look for a new worker at least daily whatever this says; no-cache makes them
    # look on every visit, so a fix reaches phones the next time they have signal.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/offline")
def no_signal():
    """What the phone shows for a page it does not keep, when there is no signal."""
    return render_template("offline/no_signal.html", page_kind="no-signal")


# ---------------------------------------------------------------- a flow's bundle


def _pages(flow: Flow, lang: str) -> dict:
    def page(name: str, **extra) -> str:
        return url_for("offline.page", flow_id=flow.id, version=flow.version, lang=lang,
                       name=name, **extra)
    return {"start": page("start"), "review": page("review"), "done": page("done"),
            "save": page("save"),
            "steps": {s.id: url_for("offline.step", flow_id=flow.id, version=flow.version,
                                    lang=lang, step_id=s.id) for s in flow.steps}}


def _words() -> dict:
    """The interface's sentences that the phone says by itself, in the page language."""
    return {
        "error": gettext("Error:"),
        "problem": gettext("There is a problem"),
        "progress": gettext("Step %(number)d of %(total)d"),
        "review_problems": gettext("Some answers are missing or need checking"),
        "not_provided": gettext("Not provided"),
        "none_ticked": gettext("None ticked yet"),
        "ready": gettext("Ready:"),
        "still_needed": gettext("Still needed:"),
        "consent": gettext("Tick the box to agree, so that we can save your answers"),
        "offline": gettext("No signal. Your answers are saved on this phone and will be sent "
                           "when there is signal."),
        "waiting": gettext("Some answers are saved only on this phone so far. They will be "
                           "sent when there is signal."),
        "conflict": gettext("This answer was changed on another phone. Choose which answer "
                            "to keep."),
        "conflicts": gettext("An answer was changed on two phones. Choose which one to keep."),
        "other_phone": gettext("On the other phone:"),
        "this_phone": gettext("On this phone:"),
        "keep_other": gettext("Keep the other phone's answer"),
        "keep_this": gettext("Keep this phone's answer"),
        "rejected": gettext("Some answers sent from this phone need checking."),
        "check": gettext("Check them"),
        "gone": gettext("Your answers on our service were deleted or have expired. The "
                        "answers on this phone were not sent."),
        "lang_missing": gettext("This language is not saved on this phone. Connect to the "
                                "internet to switch language."),
        "not_sent": gettext("Your answers on this phone could not be sent. Open the start "
                            "page when there is signal."),
        "started": gettext("You have already started on this phone."),
        "carry_on": gettext("Continue where you left off"),
        "full": gettext("This phone's storage is full, so your answers are saved only online "
                        "now. Stay connected until you finish each page."),
    }


# Bundles made, by (flow, version, language, text size, build): the same for every family
# (they hold no answers), and rendering 28 pages takes ~30 ms. A version never changes.
_bundles: dict[tuple, bytes] = {}
_BUNDLES_KEPT = 64


@bp.get("/offline/<flow_id>/<id:version>/<lang>/bundle.json")
def bundle(flow_id: str, version: int, lang: str):
    flow = _flow_in(flow_id, version, lang)
    key = (flow.id, flow.version, lang, request.cookies.get(i18n.TEXT_COOKIE) == "large",
           assets.build_id(), current_app.config["DATABASE"])
    body = _bundles.get(key)
    if body is None:
        body = _bundle(flow, lang).get_data()
        if len(_bundles) >= _BUNDLES_KEPT:
            _bundles.pop(next(iter(_bundles)))
        _bundles[key] = body
    return current_app.response_class(body, mimetype="application/json")


def _bundle(flow: Flow, lang: str):
    flow_id, version = flow.id, flow.version
    images = sorted({s.image for s in flow.steps if s.image})
    pages = _pages(flow, lang)
    # Every page comes inside this one response: compressed together, the 28 pages of the
    # kindergarten flow weigh 14 KB instead of 49 KB one by one (their layout repeats).
    html = {pages[name]: page(flow_id, version, lang, name)
            for name in ("start", "review", "done", "save")}
    html.update({url: step(flow_id, version, lang, step_id)
                 for step_id, url in pages["steps"].items()})
    return jsonify({
        "build": assets.build_id(), "cache": cache_name(flow.id, flow.version, lang),
        "flow_title": i18n.plain(flow.title, flow.default_language),
        "lang": lang, "consent_version": CONSENT_VERSION,
        "keep_done_days": current_app.config["OFFLINE_KEEP_DONE_DAYS"],
        "rules": offline_rules.flow_rules(flow), "texts": offline_rules.flow_texts(flow),
        "words": _words(), "pages": pages, "html": html,
        # What the phone serves each kept page with (the headers of a live page).
        "headers": {"Content-Type": "text/html; charset=utf-8",
                    "Content-Security-Policy": security.CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"},
        # What the cached pages load: kept with them, so an update never strands them.
        "assets": [assets.url(p) for p in ("css/app.css", "js/register.js", "js/step.js",
                                           "js/speak.js", *KIT, *images)],
    })


def _template(flow: Flow, lang: str, page_kind: str, real_path: str, template: str, **context):
    """A blank page of the bundle: the live page's template, marked for offline.js, with
    links (language, text size) that point at the live page it stands for."""
    return render_template(
        template, flow=flow, offline=True, page_kind=page_kind, here=real_path,
        lang_url=lambda code: i18n.url_in(code, real_path), walk=walk.family(flow), **context)


@bp.get("/offline/<flow_id>/<id:version>/<lang>/step/<step_id>")
def step(flow_id: str, version: int, lang: str, step_id: str):
    flow = _flow_in(flow_id, version, lang)
    current = flow.step(step_id)
    if current is None:
        abort(404)
    everything = engine.whole(flow)
    form = forms.step_form(flow, everything, current, {})
    real = url_for("family.step", flow_id=flow.id, step_id=step_id)
    return _template(flow, lang, "step", real, "family/step.html", step=current,
                     fields=form.visible(), number=1, total=len(flow.steps),
                     back_url=url_for("family.start", flow_id=flow.id), summary=[],
                     revision="", action=real, lang_form=None)


@bp.get("/offline/<flow_id>/<id:version>/<lang>/<any(start, review, done, save):name>")
def page(flow_id: str, version: int, lang: str, name: str):
    flow = _flow_in(flow_id, version, lang)
    everything = engine.whole(flow)
    if name == "start":
        real = url_for("family.start", flow_id=flow.id)
        return _template(flow, lang, "start", real, "family/start.html",
                         days_left=engine.days_left(flow),
                         documents=[display.item(flow, c)
                                    for c in engine.common_documents(flow)],
                         carry_on=None, error=None, consent_version=CONSENT_VERSION)
    if name == "review":
        real = url_for("family.review", flow_id=flow.id)
        return _template(flow, lang, "review", real, "family/review.html",
                         groups=display.review_groups(flow, everything, {}),
                         back_url=url_for("family.start", flow_id=flow.id), problems=[],
                         show_problems=False)
    if name == "done":
        real = url_for("family.done", flow_id=flow.id)
        return _template(flow, lang, "done", real, "family/done.html",
                         **display.whole_answer_sheet(flow, everything),
                         days_left=engine.days_left(flow),
                         idle_days=current_app.config["SESSION_IDLE_DAYS"])
    real = url_for("family.save", flow_id=flow.id)
    return _template(flow, lang, "save", real, "offline/save.html",
                     continue_url=url_for("family.start", flow_id=flow.id))


# The live pages that offline.js enhances (and keeps on the phone), by endpoint.
_PAGE_KINDS = {"family.start": "start", "family.begin": "start", "family.step": "step",
               "family.review": "review", "family.done": "done", "family.save": "save",
               "family.delete": "delete"}


@bp.app_context_processor
def _page_kind():
    # A render_template argument wins over these (the bundle's blank pages pass their own).
    kind = _PAGE_KINDS.get(request.endpoint)
    return {"page_kind": kind, "here": None, "offline": False, "build": assets.build_id(),
            "kit_urls": " ".join(assets.url(path) for path in KIT)}
