"""Every page in the family's language: choice of language, lang/dir, catalogs, fallbacks."""

import io
import re

import pytest
from babel.messages.pofile import read_po
from family_helpers import BR, KG, ROOT, begin

LOCALES = ["zh_Hans", "zh_Hant", "en", "ug"]
DOB = {"child_dob-day": "1", "child_dob-month": "10", "child_dob-year": "2023"}


def text(response):
    return response.get_data(as_text=True)


def html_tag(page):
    return re.search(r"<html[^>]*>", page).group(0)


def test_default_is_simplified_chinese(client):
    assert 'lang="zh-Hans" dir="ltr"' in html_tag(text(client.get("/")))


def test_lang_parameter_is_remembered_in_a_cookie(client):
    assert 'lang="ug" dir="rtl"' in html_tag(text(client.get("/?lang=ug")))
    assert 'lang="ug" dir="rtl"' in html_tag(text(client.get("/resume")))
    assert 'lang="en"' in html_tag(text(client.get("/?lang=en")))
    assert 'lang="en"' in html_tag(text(client.get("/")))


def test_unknown_lang_is_ignored(client):
    assert 'lang="zh-Hans"' in html_tag(text(client.get("/?lang=xx")))


@pytest.mark.parametrize("header, expected", [
    ("zh-TW,zh;q=0.9", 'lang="zh-Hant"'), ("zh-HK", 'lang="zh-Hant"'),
    ("en-GB,en;q=0.8", 'lang="en"'), ("ug-CN", 'lang="ug" dir="rtl"'),
    ("fr-FR", 'lang="zh-Hans"'), ("zh-CN", 'lang="zh-Hans"')])
def test_accept_language(client, header, expected):
    assert expected in html_tag(text(client.get("/", headers={"Accept-Language": header})))


def test_language_menu_on_every_page_names_each_language_in_itself(client):
    begin(client)
    for url in ["/", f"{BR}/", f"{BR}/birth", f"{BR}/review", "/resume", "/nowhere"]:
        page = text(client.get(url))
        for name in ["简体中文", "繁體中文", "English", "ئۇيغۇرچە"]:
            assert name in page, (url, name)
    page = text(client.get(f"{BR}/review?x=1"))
    assert f'href="{BR}/review?x=1&amp;lang=ug"' in page
    # On a step page the menu's entries are buttons of the page's form: what is typed comes
    # along to the other language (kept, neither saved nor judged), and the query stays.
    page = text(client.get(f"{BR}/birth?return=review"))
    assert 'form="step-form" name="switch_lang" value="ug"' in page
    response = client.post(f"{BR}/birth?return=review", data={
        "child_dob-day": "31", "child_dob-month": "", "switch_lang": "ug"})
    assert response.headers["Location"] == f"{BR}/birth?return=review&lang=ug"
    page = text(client.get(response.headers["Location"]))
    assert 'value="31"' in page and "error-summary" not in page


def test_switching_language_mid_flow_keeps_every_answer(client):
    begin(client, lang="en")
    client.post(f"{BR}/birth", data=DOB)
    client.post(f"{BR}/hukou", data={"hukou": "other"})
    page = text(client.get(f"{BR}/hukou?lang=zh_Hans"))
    assert "户籍所在地" in page and 'value="other" checked' in page
    review = text(client.get(f"{BR}/review?lang=zh_Hant"))
    assert "外省市" in review  # branching has no zh_Hant: falls back to zh_Hans, marked
    assert 'class="fallback"' in review and 'lang="zh-Hans"' in review


def test_official_term_shown_on_other_languages_and_not_repeated_in_chinese(client):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    client.post(f"{BR}/hukou", data={"hukou": "other"})
    en = text(client.get(f"{BR}/contact?lang=en"))
    assert 'class="official" lang="zh-Hans">手机号码<' in en
    zh = text(client.get(f"{BR}/contact?lang=zh_Hans"))
    assert 'class="official" lang="zh-Hans">手机号码<' not in zh  # the label says it already
    assert 'class="official" lang="zh-Hans">公民身份号码<' in zh  # differs from 身份证号


def test_dates_are_formatted_for_the_locale(client):
    assert "2027年4月29日" in text(client.get(f"{KG}/?lang=zh_Hans"))
    assert "April 29, 2027" in text(client.get(f"{KG}/?lang=en"))


def test_larger_text_is_remembered_and_only_redirects_home(client):
    response = client.get("/text-size?size=large&next=/resume")
    assert response.status_code == 303 and response.headers["Location"].endswith("/resume")
    assert 'class="large-text"' in html_tag(text(client.get("/")))
    assert client.get("/text-size?size=normal&next=//evil.example").headers[
        "Location"].endswith("/")
    assert "large-text" not in html_tag(text(client.get("/")))


# ------------------------------------------------------------ catalogs


def catalog(lang):
    path = ROOT / "locales" / lang / "LC_MESSAGES" / "messages.po"
    return read_po(io.StringIO(path.read_text("utf-8")))


def template_ids():
    pot = read_po(io.StringIO((ROOT / "locales" / "messages.pot").read_text("utf-8")))
    return {m.id if isinstance(m.id, str) else m.id[0] for m in pot if m.id}


@pytest.mark.parametrize("lang", LOCALES)
def test_catalog_is_complete(lang):
    found = {(m.id if isinstance(m.id, str) else m.id[0]): m for m in catalog(lang) if m.id}
    missing = sorted(template_ids() - set(found))
    assert not missing, f"{lang}: not in the catalog (run make i18n-update): {missing[:5]}"
    empty = [k for k, m in found.items()
             if not (m.string if isinstance(m.string, str) else all(m.string))]
    assert not empty, f"{lang}: untranslated: {empty[:5]}"
    fuzzy = [k for k, m in found.items() if m.fuzzy]
    assert not fuzzy, f"{lang}: fuzzy: {fuzzy[:5]}"


@pytest.mark.parametrize("lang", LOCALES)
def test_placeholders_survive_translation(lang):
    for m in catalog(lang):
        if not m.id:
            continue
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        wanted = set(re.findall(r"%\(\w+\)\w|\{\w+\}", ids[-1]))
        for s in strings:
            assert set(re.findall(r"%\(\w+\)\w|\{\w+\}", s)) >= wanted - {"%(num)d"}, (lang, m.id)


def page_types(app, lang):
    """(name, html) for every page type, in one language."""
    client = app.test_client()
    q = f"?lang={lang}"
    pages = [("home", client.get("/" + q)), ("start", client.get(f"{BR}/" + q)),
             ("start-error", client.post(f"{BR}/" + q, data={})),
             ("no-session", client.get(f"{BR}/birth" + q)),
             ("resume", client.get("/resume" + q)),
             ("resume-error", client.post("/resume" + q, data={"code": "AAAACCCC"})),
             ("not-found", client.get("/nowhere" + q))]
    begin(client, lang=lang)
    pages.append(("save-pin", client.get(f"{BR}/save" + q)))
    pages.append(("step-date", client.get(f"{BR}/birth" + q)))
    pages.append(("step-error", client.post(f"{BR}/birth" + q, data={"child_dob-day": "31",
                                                                   "child_dob-month": "2",
                                                                   "child_dob-year": "2024"},
                                             follow_redirects=True)))
    client.post(f"{BR}/birth", data=DOB)
    pages.append(("save-code", client.get(f"{BR}/save" + q)))
    pages.append(("step-radios", client.get(f"{BR}/hukou" + q)))
    client.post(f"{BR}/hukou", data={"hukou": "other"})
    pages.append(("step-yes-no", client.get(f"{BR}/permit" + q)))
    client.post(f"{BR}/permit", data={"has_permit": "no"})
    pages.append(("step-text", client.get(f"{BR}/contact" + q)))
    pages.append(("review-incomplete", client.post(f"{BR}/review" + q)))
    client.post(f"{BR}/contact", data={"mobile": "13800138000"})
    pages.append(("step-checklist", client.get(f"{BR}/documents" + q)))
    pages.append(("step-instruction", client.get(f"{BR}/apply" + q)))
    pages.append(("review", client.get(f"{BR}/review" + q)))
    client.post(f"{BR}/review")
    pages.append(("done", client.get(f"{BR}/done" + q)))
    pages.append(("delete", client.get(f"{BR}/delete" + q)))
    client.post(f"{BR}/delete")
    pages.append(("deleted", client.get(f"{BR}/deleted" + q)))
    pages += helper_pages(app, lang)
    return [(name, r.get_data(as_text=True)) for name, r in pages]


def helper_pages(app, lang):
    """The pages of helpers and admins, and of a family who let a helper in."""
    from people_helpers import make_user, sign_in

    q = f"?lang={lang}"
    make_user(app, "admin", role="admin", language=lang)
    family, helper = app.test_client(), app.test_client()
    pages = [("sign-in", helper.get("/account/sign-in" + q)),
             ("sign-in-error", helper.post("/account/sign-in" + q, data={"login": "x"}))]
    sign_in(helper, "admin")
    begin(family, lang=lang)
    family.post(f"{BR}/birth", data=DOB)
    pages.append(("family-helper", family.get(f"{BR}/helper" + q)))
    code_page = family.post(f"{BR}/helper" + q, data={"label": ""})
    pages.append(("family-code", code_page))
    code = re.search(r'id="grant-code"[^>]*>(\d{3}) (\d{3})<', text(code_page))
    pages.append(("console-empty", helper.get("/assist/" + q)))
    pages.append(("accept-error", helper.post("/assist/accept" + q, data={"code": "1"})))
    helper.post("/assist/accept", data={"code": "".join(code.groups())})
    pages.append(("console", helper.get("/assist/" + q)))
    pages.append(("helper-family", helper.get("/assist/s/1/" + q)))
    pages.append(("helper-step", helper.get("/assist/s/1/step/hukou" + q)))
    helper.post("/assist/s/1/step/hukou", data={"hukou": "other"})
    pages.append(("helper-review", helper.get("/assist/s/1/review" + q)))
    pages.append(("family-review-helped", family.get(f"{BR}/review" + q)))
    pages.append(("helper-new", helper.get("/assist/new/branching" + q)))
    helper.post("/assist/new/branching", data={"label": "x", "family_lang": lang,
                                                "consent": "y"})
    pages.append(("hand-over", helper.get("/assist/s/2/hand-over" + q)))
    pages.append(("handed-over", helper.post("/assist/s/2/hand-over" + q,
                                             data={"pin": "2580"})))
    pages.append(("password", helper.get("/account/password" + q)))
    pages.append(("admin-users", helper.get("/admin/users" + q)))
    pages.append(("admin-audit", helper.get("/admin/audit" + q)))
    make_user(app, "vol", language=lang)
    volunteer = app.test_client()
    sign_in(volunteer, "vol")
    pages.append(("forbidden", volunteer.get("/admin/users" + q)))
    return pages + studio_pages(helper, q)


def studio_pages(admin, q):
    """The studio's pages, as an admin (who sees exports and retention too) uses them."""
    pages = [("studio", admin.get("/studio/" + q)),
             ("studio-new-error", admin.post("/studio/" + q, data={"flow_id": "X"}))]
    admin.post("/studio/branching/draft/start")
    d = "/studio/branching/draft"
    pages += [("studio-flow", admin.get("/studio/branching/" + q)),
              ("studio-outline", admin.get(f"{d}/" + q)),
              ("studio-step", admin.get(f"{d}/steps/hukou" + q)),
              ("studio-field", admin.get(f"{d}/steps/hukou/fields/hukou" + q)),
              ("studio-about", admin.get(f"{d}/about" + q)),
              ("studio-yaml", admin.get(f"{d}/yaml" + q)),
              ("studio-translations", admin.get(f"{d}/translations{q}&to=ug")),
              ("studio-preview", admin.get(f"{d}/preview/hukou" + q)),
              ("studio-publish", admin.get(f"{d}/publish" + q)),
              ("studio-dashboard", admin.get("/studio/branching/v/1/dashboard" + q)),
              ("studio-retention", admin.get("/studio/branching/retention" + q)),
              ("studio-compare", admin.get("/studio/branching/compare" + q))]
    assert all(r.status_code in (200, 422) for _name, r in pages), \
        [(name, r.status_code) for name, r in pages]
    return pages


def english_fragments():
    """Pieces of interface msgids long enough that seeing one on a page means a leak."""
    pieces = set()
    for msgid in template_ids():
        for part in re.split(r"%\(\w+\)\w|\{\w+\}|<[^>]+>", msgid):
            part = part.strip(" .,:;()")
            if len(part) >= 6 and re.search(r"[a-z]{3}", part):
                pieces.add(part)
    return pieces


@pytest.mark.parametrize("lang", ["zh_Hans", "zh_Hant", "ug"])
def test_every_page_type_is_in_the_page_language(app, lang):
    from markupsafe import Markup

    fragments = english_fragments()
    for name, page in page_types(app, lang):
        assert f'lang="{lang.replace("_", "-")}"' in html_tag(page), name
        # Code (ids, field types, YAML) is the same in every language: not interface text.
        visible = Markup(re.sub(r"<(script|style|code|textarea)[^>]*>.*?</\1>", "", page,
                                flags=re.S)).striptags()
        attributes = " ".join(re.findall(r'(?:aria-label|alt|title)="([^"]*)"', page))
        leaks = sorted(f for f in fragments if f in visible or f in attributes)
        assert not leaks, f"{lang} {name}: untranslated interface text: {leaks[:5]}"


@pytest.mark.parametrize("lang, first", [("zh_Hans", "year"), ("zh_Hant", "year"),
                                         ("ug", "year"), ("en", "day")])
def test_date_boxes_follow_how_people_write_dates(client, lang, first):
    begin(client, lang=lang)
    page = text(client.get(f"{BR}/birth?lang={lang}"))
    boxes = re.findall(r'name="child_dob-(day|month|year)"', page)
    assert boxes[0] == first and sorted(boxes) == ["day", "month", "year"]
    client.post(f"{BR}/birth", data={"child_dob-day": "31", "child_dob-month": "2",
                                     "child_dob-year": "2024"})
    page = text(client.get(f"{BR}/birth?lang={lang}"))
    assert f'href="#f-child_dob-{first}"' in page  # the error summary lands on the first box
