"""The studio's translations table and PO files (views/studio_text.py), on the real app and a
real SQLite file: who may use it, missing and out-of-date texts marked, saving into the draft
YAML, two staff saving the same draft, and PO export and import with what they refuse."""

import io
import re
from html import unescape
from urllib.parse import urlencode

import pytest
from family_helpers import ROOT
from people_helpers import make_user, sign_in, signed_in

from wizard.flow import loader

BRANCHING = (ROOT / "tests" / "flows" / "branching.yaml").read_text("utf-8")
KG = (ROOT / "flows" / "kindergarten-shanghai.yaml").read_text("utf-8")
URL = "/studio/branching/draft/translations"
# The draft of the tests: version 2 of the published branching flow, the hukou step's title
# not yet in English.
DRAFT = BRANCHING.replace("version: 1", "version: 2").replace(
    "title: {zh_Hans: 户籍, en: Household registration}", "title: {zh_Hans: 户籍}")
HUKOU = "steps[1].title"


@pytest.fixture
def staff(app, db):
    db.save_draft("branching", DRAFT, None, "user:1")
    return signed_in(app, "lee", "staff", name="Lee Min", org="Street office")


def other_staff(app) -> str:
    """A second staff member; the actor their saves are recorded under."""
    return f"user:{make_user(app, 'kim', role='staff', name='Kim Ho', org='District office')}"


def row(page: str, path: str) -> str:
    found = re.search(rf'<li[^>]*data-path="{re.escape(path)}".*?</li>', page, re.S)
    assert found, f"no row {path}"
    return found.group(0)


def form_of(page: str, form_id: str = "texts") -> dict:
    """What the browser would send for a form of the page, untouched."""
    part = re.search(rf'<form[^>]*id="{form_id}".*?</form>', page, re.S).group(0)
    data = {unescape(n): unescape(v) for n, v in
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', part)}
    for name, value in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>\n?(.*?)</textarea>',
                                  part, re.S):
        data[unescape(name)] = unescape(value).replace("\n", "\r\n")  # as browsers send it
    return data


def post_po(client, po: str | bytes, revision, url=URL + ".po"):
    raw = po.encode("utf-8") if isinstance(po, str) else po
    return client.post(url, data={"revision": str(revision),
                                  "file": (io.BytesIO(raw), "texts.po")},
                       content_type="multipart/form-data")


# ---------------------------------------------------------------- who may use it

PAGES = [("get", URL), ("post", URL), ("get", URL + ".po"), ("post", URL + ".po")]


@pytest.mark.parametrize("method, url", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(app, db, method, url):
    db.save_draft("branching", DRAFT, None, "user:1")
    response = getattr(app.test_client(), method)(url, data={"revision": "1", f"t:{HUKOU}": "x"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in?next=")
    assert db.draft("branching")["revision"] == 1


@pytest.mark.parametrize("method, url", PAGES)
def test_volunteers_are_refused(app, db, method, url):
    db.save_draft("branching", DRAFT, None, "user:1")
    make_user(app, "vol", role="volunteer")
    client = app.test_client()
    sign_in(client, "vol")
    response = getattr(client, method)(url, data={"revision": "1", f"t:{HUKOU}": "x"})
    assert response.status_code == 403
    assert db.draft("branching")["source"] == DRAFT


def test_no_draft_no_page(staff):
    assert staff.get("/studio/kindergarten-shanghai/draft/translations").status_code == 404
    assert staff.get("/studio/kindergarten-shanghai/draft/translations.po").status_code == 404


# ---------------------------------------------------------------- the table


def test_the_table_marks_missing_texts_in_words(staff):
    response = staff.get(URL)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.text
    assert "1 missing, 0 out of date" in page
    missing = row(page, HUKOU)
    assert 'data-state="missing"' in missing and "field-error" in missing
    assert "<strong>Missing</strong>" in missing and "户籍" in missing
    # The first language after the default is the target; the textarea is in it.
    assert re.search(r'<textarea[^>]*name="t:steps\[1\]\.title"[^>]*lang="en" dir="ltr"',
                     missing)
    translated = row(page, "steps[0].title")
    assert "field-error" not in translated and "Date of birth" in translated
    assert 'lang=' not in re.search(r'action="([^"]+)"[^>]*id="texts"', page).group(1)


def test_another_language_right_to_left_and_the_filter(staff):
    page = staff.get(URL + "?to=ug").text
    assert "22 missing, 0 out of date" in page
    assert re.search(r'<textarea[^>]*lang="ug" dir="rtl"', page)
    assert re.search(r'id="to-ug"[^>]*checked', page)
    assert "/translations.po?to=ug" in page
    only = staff.get(URL + "?to=en&only=todo").text
    assert only.count("<textarea") == 1 and f'data-path="{HUKOU}"' in only
    assert re.search(r'id="only-todo"[^>]*checked', only)
    # The default language is not a target: the page falls back to the first other one.
    assert 'lang="en" dir="ltr"' in staff.get(URL + "?to=zh_Hans").text


def test_saving_a_translation_writes_the_draft_yaml_and_keeps_comments(staff, db):
    data = form_of(staff.get(URL).text)
    assert data["revision"] == "1"
    data[f"t:{HUKOU}"] = "Household registration (hukou)"
    response = staff.post(URL, data=data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("translations?to=en&saved=1")
    draft = db.draft("branching")
    assert draft["revision"] == 2 and draft["updated_by"] == "user:1"
    assert draft["source"] == DRAFT.replace(
        "title: {zh_Hans: 户籍}", "title: {zh_Hans: 户籍, en: Household registration (hukou)}")
    assert "# A small flow for engine and web tests" in draft["source"]
    page = staff.get(response.headers["Location"]).text
    assert "1 text saved." in page and "0 missing, 0 out of date" in page


def test_saving_the_page_unchanged_changes_nothing(staff, db):
    data = form_of(staff.get(URL + "?to=en").text)
    assert staff.post(URL + "?to=en", data=data).status_code == 303
    assert db.draft("branching")["revision"] == 1
    assert db.draft("branching")["source"] == DRAFT


def test_an_empty_box_removes_a_translation_and_problems_are_shown(staff, db):
    data = form_of(staff.get(URL).text)
    data["t:steps[0].title"] = ""
    response = staff.post(URL, data=data)
    assert response.status_code == 303
    source = db.draft("branching")["source"]
    assert "title: {zh_Hans: 出生日期}\n" in source
    page = staff.get(response.headers["Location"]).text
    assert "2 missing, 0 out of date" in page
    assert 'id="problems"' in page


def test_a_stale_revision_saves_nothing_and_keeps_what_was_typed(app, staff, db):
    data = form_of(staff.get(URL).text)
    data[f"t:{HUKOU}"] = "Hukou, typed by Lee"
    data["t:steps[0].title"] = "Birthday, typed by Lee"
    # Meanwhile Kim changes the birth step's title too, and the flow's title.
    kim = other_staff(app)
    theirs = DRAFT.replace("en: Date of birth}\n    fields", "en: Birth date}\n    fields", 1)
    theirs = theirs.replace("en: Test flow}", "en: A test flow}")
    db.save_draft("branching", theirs, 1, kim)
    response = staff.post(URL, data=data)
    assert response.status_code == 409
    assert db.draft("branching")["source"] == theirs
    page = response.text
    assert "Not saved: someone else changed the draft" in page and "Kim Ho (kim)" in page
    assert "Hukou, typed by Lee" in row(page, HUKOU)
    clash = row(page, "steps[0].title")
    assert "Birthday, typed by Lee" in clash
    assert "Changed meanwhile by someone else to:" in clash and "Birth date" in clash
    # Saving again from that page writes Lee's two edits on Kim's draft, and keeps Kim's
    # other change.
    again = form_of(page)
    assert again["revision"] == "2"
    assert staff.post(URL, data=again).status_code == 303
    source = db.draft("branching")["source"]
    # (quoted: a comma inside {...} would end the text)
    assert "en: 'Hukou, typed by Lee'}" in source and "en: 'Birthday, typed by Lee'}" in source
    assert "en: A test flow}" in source


def test_after_a_clash_edits_follow_their_text_when_steps_moved(app, staff, db):
    data = form_of(staff.get(URL).text)
    data[f"t:{HUKOU}"] = "Hukou, typed by Lee"
    data["t:steps[3].title"] = "Points, typed by Lee"
    # Meanwhile Kim inserts a step at the top (every step's path moves down one) and removes
    # the points step.
    start, end = DRAFT.index("  - id: permit-points"), DRAFT.index("  - id: contact")
    theirs = (DRAFT[:start] + DRAFT[end:]).replace("steps:\n", "steps:\n  - id: welcome\n"
                                                   "    kind: instruction\n"
                                                   "    title: {zh_Hans: 欢迎}\n", 1)
    db.save_draft("branching", theirs, 1, other_staff(app))
    page = staff.post(URL, data=data).text
    assert "Hukou, typed by Lee" in row(page, "steps[2].title")
    assert "Hukou, typed by Lee" not in row(page, HUKOU)
    leftover = re.search(r'id="leftover".*?</div>', page, re.S).group(0)
    assert "steps[3].title" in leftover and "Points, typed by Lee" in leftover
    assert staff.post(URL, data=form_of(page)).status_code == 303
    source = db.draft("branching")["source"]
    assert "title: {zh_Hans: 户籍, en: 'Hukou, typed by Lee'}" in source
    assert "title: {zh_Hans: 欢迎}" in source and "Points, typed by Lee" not in source


def test_a_draft_published_meanwhile_shows_what_was_typed(staff, db):
    data = form_of(staff.get(URL).text)
    data[f"t:{HUKOU}"] = "Hukou typed too late"
    assert db.drop_draft("branching", 1)
    response = staff.post(URL, data=data)
    assert response.status_code == 409
    assert "published or thrown away" in response.text
    assert "Hukou typed too late" in response.text


def test_out_of_date_against_the_published_version(app, staff, db):
    tiny = ("id: tiny\nversion: 1\nlanguages: [zh_Hans, en]\n"
            "title: {zh_Hans: 小流程, en: Tiny flow}\n"
            "steps:\n  - id: hello\n    kind: instruction\n"
            "    title: {zh_Hans: 你好, en: Hello}\n    body: {zh_Hans: 正文, en: Body}\n")
    db.publish_flow(loader.load_text(tiny).flow)
    # The draft: a new step above, and the hello step's Chinese title changed (not its English).
    draft = tiny.replace("version: 1", "version: 2").replace(
        "steps:\n", "steps:\n  - id: first\n    kind: instruction\n"
        "    title: {zh_Hans: 第一}\n    body: {zh_Hans: 第一步}\n").replace("你好", "您好")
    db.save_draft("tiny", draft, None, "user:1")
    page = staff.get("/studio/tiny/draft/translations").text
    assert "2 missing, 1 out of date" in page
    outdated = row(page, "steps[1].title")
    assert "<strong>Out of date</strong>" in outdated and "field-error" in outdated
    assert "您好" in outdated and "Was, when this was translated:" in outdated
    assert "你好" in outdated
    assert 'data-state="ok"' in row(page, "steps[1].body")
    only = staff.get("/studio/tiny/draft/translations?only=todo").text
    assert only.count("<textarea") == 3


def test_a_whole_big_table_is_accepted(app, staff, db):
    """The kindergarten flow's Uyghur table is bigger than the app's 64 KiB body limit."""
    db.save_draft("kindergarten-shanghai", KG, None, "user:1")
    url = "/studio/kindergarten-shanghai/draft/translations?to=ug"
    data = form_of(staff.get(url).text)
    data["t:title"] = "يېڭى ماۋزۇ"
    assert len(urlencode(data)) > app.config["MAX_CONTENT_LENGTH"]
    assert staff.post(url, data=data).status_code == 303
    assert "  ug: يېڭى ماۋزۇ\n" in db.draft("kindergarten-shanghai")["source"]


# ---------------------------------------------------------------- PO files


def test_po_export_then_import_changes_nothing(staff, db):
    response = staff.get(URL + ".po?to=en")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/x-gettext-translation; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="branching-en.po"'
    assert response.headers["Cache-Control"] == "no-store"
    po = response.text
    assert 'msgctxt "steps[1].title"\nmsgid "户籍"\nmsgstr ""' in po
    imported = post_po(staff, po, 1)
    assert imported.status_code == 200
    assert "0 texts updated from the PO file." in imported.text
    assert db.draft("branching")["revision"] == 1
    assert db.draft("branching")["source"] == DRAFT


def test_po_import_saves_translations_and_lists_skipped_ones(staff, db):
    po = staff.get(URL + ".po?to=en").text
    po = po.replace('msgid "户籍"\nmsgstr ""', 'msgid "户籍"\nmsgstr "Hukou"')
    po = po.replace('msgid "测试流程"\nmsgstr "Test flow"', 'msgid "旧的"\nmsgstr "Old"')
    response = post_po(staff, po, 1)
    assert response.status_code == 200
    assert "1 text updated from the PO file." in response.text
    assert "1 entry was skipped:" in response.text
    assert "title: the zh_Hans text changed since the export" in response.text
    draft = db.draft("branching")
    assert draft["revision"] == 2 and "title: {zh_Hans: 户籍, en: Hukou}" in draft["source"]


def test_po_import_into_a_new_language_shows_that_language(staff, db):
    po = staff.get(URL + ".po?to=ug").text
    assert "Language: ug" in po
    po = po.replace('msgid "户籍"\nmsgstr ""', 'msgid "户籍"\nmsgstr "نوپۇس"')
    response = post_po(staff, po, 1, url=URL + ".po?to=en")
    assert response.status_code == 200 and "1 text updated" in response.text
    assert "21 missing, 0 out of date" in response.text
    assert re.search(r'id="to-ug"[^>]*checked', response.text)
    source = db.draft("branching")["source"]
    assert "languages: [zh_Hans, en, ug]" in source and "ug: نوپۇس" in source


@pytest.mark.parametrize("po, words", [
    ("this is not a PO file\n", "not a PO file that can be read"),
    (b"\xff\xfe\x00broken", "not UTF-8"),
    ('msgid ""\nmsgstr ""\n"Project-Id-Version: flow kindergarten-shanghai 3\\n"\n'
     '"Language: en\\n"\n', "is for the flow kindergarten-shanghai, not branching"),
    ('msgid ""\nmsgstr ""\n"Project-Id-Version: flow branching 2\\n"\n"Language: fr\\n"\n',
     "fr, which this service does not offer"),
    ('msgid ""\nmsgstr ""\n"Project-Id-Version: flow branching 2\\n"\n', "no Language header"),
    ('msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n', "the flow&#39;s own language"),
    ('msgid ""\nmsgstr ""\n"Language: ../../x\\n"\n', "not a PO file that can be read"),
])
def test_a_bad_po_file_is_refused_and_changes_nothing(staff, db, po, words):
    response = post_po(staff, po, 1)
    assert response.status_code == 422
    assert "The PO file was not imported; nothing changed" in response.text
    assert words in response.text
    assert db.draft("branching")["revision"] == 1


def test_a_po_file_that_would_break_the_flow_is_refused(staff, db):
    po = staff.get(URL + ".po?to=en").text
    po = po.replace('msgstr "This is a test."', 'msgstr "<script>alert(1)</script>"')
    response = post_po(staff, po, 1)
    assert response.status_code == 422
    assert "the flow would not load" in response.text and "intro.en" in response.text
    assert db.draft("branching")["source"] == DRAFT


def test_no_file_and_a_stale_page_are_refused(app, staff, db):
    no_file = staff.post(URL + ".po", data={"revision": "1"},
                         content_type="multipart/form-data")
    assert no_file.status_code == 422 and "Choose a PO file to upload" in no_file.text
    po = staff.get(URL + ".po?to=en").text.replace('msgid "户籍"\nmsgstr ""',
                                                   'msgid "户籍"\nmsgstr "Hukou"')
    db.save_draft("branching", DRAFT + "# Kim's note\n", 1, other_staff(app))
    stale = post_po(staff, po, 1)
    assert stale.status_code == 409 and "Kim Ho (kim)" in stale.text
    assert "Upload the file again" in stale.text
    assert db.draft("branching")["source"] == DRAFT + "# Kim's note\n"
