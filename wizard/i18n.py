"""Languages: which one a page is in, and how flow texts are picked in it.

Choice order: `?lang=xx` on any URL (remembered in a cookie), then on a signed-in helper's
pages their account's language, then the cookie, then the browser's Accept-Language, then
Simplified Chinese.
"""

from __future__ import annotations

import datetime
from contextlib import contextmanager
from urllib.parse import parse_qsl, quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from flask import g, request
from flask_babel import Babel, force_locale, get_locale, get_translations
from flask_babel import format_date as _babel_format_date
from markupsafe import Markup

from .flow import markdown
from .flow.model import Text, pick
from .flow.placeholders import keep_suffixes

DEFAULT = "zh_Hans"
# code -> (name in itself, BCP 47 tag for lang="", text direction)
LANGUAGES = {
    "zh_Hans": ("简体中文", "zh-Hans", "ltr"),
    "zh_Hant": ("繁體中文", "zh-Hant", "ltr"),
    "en": ("English", "en", "ltr"),
    "ug": ("ئۇيغۇرچە", "ug", "rtl"),
}
COOKIE = "lang"
# The order people write dates in: year first in Chinese and Uyghur, day first in English.
DATE_ORDER = {"zh_Hans": ("year", "month", "day"), "zh_Hant": ("year", "month", "day"),
              "ug": ("year", "month", "day"), "en": ("day", "month", "year")}
# Accept-Language tags -> our codes (browsers send zh-CN, zh-TW, zh-HK ...).
_ACCEPT = {"zh-cn": "zh_Hans", "zh-sg": "zh_Hans", "zh-hans": "zh_Hans", "zh": "zh_Hans",
           "zh-tw": "zh_Hant", "zh-hk": "zh_Hant", "zh-mo": "zh_Hant", "zh-hant": "zh_Hant",
           "en": "en", "ug": "ug"}

# Between the items of a list, and between sentences, by script: Chinese writes 、 and no
# space after a full stop; Uyghur writes the Arabic comma.
LIST_SEPARATOR = {"zh_Hans": "、", "zh_Hant": "、", "ug": "، ", "en": ", "}
SENTENCE_SEPARATOR = {"zh_Hans": "", "zh_Hant": "", "ug": " ", "en": " "}

babel = Babel()


def current() -> str:
    """The page language code (one of LANGUAGES), decided once per request."""
    if "lang" not in g:
        g.lang = _choose()
    return g.lang


def _catalog():
    """The page's translations, kept with the locale they are for: force_locale (pages
    rendered in another language) sets a new locale object, which finds its own."""
    state = g.get("_flask_babel")
    kept = getattr(state, "wizard_catalog", None)
    if kept is not None and kept[0] is getattr(state, "babel_locale", None):
        return kept[1]
    catalog = get_translations()
    state = g._flask_babel  # made by get_translations
    state.wizard_catalog = (state.babel_locale, catalog)
    return catalog


def _choose() -> str:
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        g.set_lang_cookie = asked
        return asked
    # A signed-in helper's pages: the language kept with their account (see accounts.py).
    if g.get("person_language") in LANGUAGES:
        return g.person_language
    cookie = request.cookies.get(COOKIE)
    if cookie in LANGUAGES:
        return cookie
    for tag, _quality in request.accept_languages:
        tag = tag.lower()
        if tag in _ACCEPT:
            return _ACCEPT[tag]
        if tag.split("-")[0] in _ACCEPT:
            return _ACCEPT[tag.split("-")[0]]
    return DEFAULT


def init_app(app) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "../locales")
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    babel.init_app(app, locale_selector=current)  # Babel knows our codes as they are
    # The templates' _() and ngettext() as Flask-Babel installs them, but finding the page's
    # catalog once per request rather than on every call through a chain of context look-ups:
    # a review page asks for some thirty texts, and that chain was a sixth of its time.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _catalog().ugettext(s),
        ngettext=lambda s, p, n: _catalog().ungettext(s, p, n),
        pgettext=lambda c, s: _catalog().upgettext(c, s),
        npgettext=lambda c, s, p, n: _catalog().unpgettext(c, s, p, n),
        newstyle=True)
    # A global, not a context variable: imported form macros see globals only.
    app.jinja_env.globals["date_order"] = lambda: DATE_ORDER[current()]
    app.jinja_env.filters["dateformat"] = format_date

    @app.after_request
    def remember_language(response):
        chosen = g.get("set_lang_cookie")
        if chosen:
            response.set_cookie(COOKIE, chosen, max_age=365 * 86400, samesite="Lax",
                                secure=request.is_secure, httponly=True)
        return response

    @app.context_processor
    def language_context():
        code = current()
        name, tag, direction = LANGUAGES[code]
        return {"lang_code": code, "lang_tag": tag, "lang_dir": direction,
                "languages": LANGUAGES, "t": flow_text, "t_md": flow_markdown,
                "lang_url": _lang_url,
                "large_text": request.cookies.get(TEXT_COOKIE) == "large"}


TEXT_COOKIE = "text"


def _lang_url(code: str) -> str:
    """This page's address in another language (other query arguments kept)."""
    return url_in(code, request.full_path)


def url_in(code: str, path: str) -> str:
    """A local address (path and query) with its language set to `code`."""
    parts = urlsplit(path)
    args = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    args.append(("lang", code))
    return f"{parts.path}?{urlencode(args, quote_via=quote)}"


def _localised(text: Text | None, default_lang: str, render, element: str) -> Markup:
    """A flow text in the page language, rendered; a fallback is marked with its own lang
    attribute (so screen readers switch voice) and a class that shows it is untranslated."""
    value, used = pick(text, current(), default_lang)
    html = Markup(render(value)) if value else Markup("")
    if used is None or used == current():
        return html
    tag = LANGUAGES.get(used, (None, used.replace("_", "-"), "ltr"))[1]
    return Markup('<{0} lang="{1}" class="fallback">{2}</{0}>').format(
        Markup(element), tag, html)


def flow_text(text: Text | None, default_lang: str = DEFAULT) -> Markup:
    """A short flow text (title, label): inline Markdown such as **bold** is rendered safely,
    never shown as typed."""
    return _localised(text, default_lang, markdown.render_inline, "span")


def flow_markdown(text: Text | None, default_lang: str = DEFAULT) -> Markup:
    """A Markdown flow text (body, help, intro) as safe HTML blocks."""
    return _localised(text, default_lang, markdown.render, "div")


def official_term(label: Text | None, official: str | None,
                  default_lang: str = DEFAULT) -> str | None:
    """The official Chinese term to show beside a label: always on pages in another language;
    on Simplified Chinese pages only where it differs from the label itself."""
    if not official:
        return None
    if current() == "zh_Hans" and plain(label, default_lang).strip() == official.strip():
        return None
    return official


def plain(text: Text | None, default_lang: str = DEFAULT) -> str:
    """A flow text as plain str (for attributes and messages)."""
    return pick(text, current(), default_lang)[0]


def format_date(day, fmt: str = "long") -> str:
    """A date in the page's language, its numbers never parted from their suffixes."""
    return keep_suffixes(_babel_format_date(day, fmt))


# Helpers, staff and the families they help are in China: times are shown on its clock.
TIME_ZONE = "Asia/Shanghai"


def format_moment(iso: str | None, zone: str = TIME_ZONE) -> str:
    """A stored time (ISO, UTC) as people there read it: "29 Nov, 14:02" in the page's
    language."""
    if not iso:
        return ""
    moment = datetime.datetime.fromisoformat(iso)
    day, clock = (format_skeleton(skeleton, moment, tzinfo=ZoneInfo(zone), locale=get_locale())
                  for skeleton in ("MMMd", "Hm"))
    return keep_suffixes(f"{day} {clock}")


@contextmanager
def speaking(code: str):
    """Flow texts and interface words in another language for a moment: a helper's page
    showing the family's words beside their own."""
    before = current()  # decided now, so that it is restored (not left undecided)
    g.lang = code
    try:
        with force_locale(code):
            yield
    finally:
        g.lang = before


def join_list(items) -> str:
    return LIST_SEPARATOR[current()].join(items)


def join_sentences(*sentences: str) -> str:
    return SENTENCE_SEPARATOR[current()].join(s for s in sentences if s)


def locale_tag() -> str:
    return str(get_locale())
