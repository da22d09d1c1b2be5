"""What parents ran into, one test per defect (the browser ones are in tests/browser)."""

from __future__ import annotations

import re

from family_helpers import BR, KG, KG_OTHER, ROOT, answer_all, begin

from wizard import security

DOB = {"child_dob-day": "1", "child_dob-month": "10", "child_dob-year": "2023"}


def text(response):
    return response.get_data(as_text=True)


def sid(db):
    return db.db.execute("SELECT id FROM sessions ORDER BY id DESC").fetchone()[0]


# ------------------------------------------------------------------ 2. save and continue later


def test_save_for_later_saves_what_is_typed_on_the_page(client, db):
    begin(client)
    response = client.post(f"{BR}/birth", data={**DOB, "then": "save"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"{BR}/save"
    assert db.answers(sid(db))["child_dob"] == "2023-10-01"
    assert "not saved yet" not in text(client.get(f"{BR}/save?lang=en"))


def test_save_for_later_keeps_a_mistake_for_later_and_says_so(client, db):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    client.post(f"{BR}/hukou", data={"hukou": "other"})
    client.post(f"{BR}/permit", data={"has_permit": "no"})
    response = client.post(f"{BR}/contact", data={"mobile": "1380013800", "then": "save"})
    assert response.headers["Location"] == f"{BR}/save?unsaved=1"
    assert "not saved yet" in text(client.get(f"{BR}/save?unsaved=1&lang=en"))
    page = text(client.get(f"{BR}/contact?lang=en"))  # carrying on: the typo, and what to fix
    assert 'value="1380013800"' in page and "error-summary" in page


def test_save_for_later_with_nothing_typed_yet_scolds_nobody(client, db):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    response = client.post(f"{BR}/hukou", data={"then": "save"})
    assert response.headers["Location"] == f"{BR}/save"
    assert "error-summary" not in text(client.get(f"{BR}/hukou"))


def test_save_for_later_is_a_button_of_the_step_form(client):
    begin(client)
    page = text(client.get(f"{BR}/birth?lang=en"))
    form = page[page.index('<form method="post" id="step-form"'):page.index("</form>")]
    assert 'name="then" value="save"' in form


# ------------------------------------------------------------------ 3. help for each document


def test_document_help_on_the_checklist_and_the_answer_sheet(client):
    begin(client, flow=KG)
    answer_all(client, KG_OTHER)
    page = text(client.get(f"{KG}/documents?lang=en"))
    assert page.count('class="help checkboxes-help"') >= 8
    assert "沪" in page  # the property certificate number, in full
    client.post(f"{KG}/review")
    sheet = text(client.get(f"{KG}/done?lang=en"))
    assert sheet.count('class="item-help"') >= 5  # the papers still needed come with help


# ------------------------------------------------------------------ 9. resume codes


def _code(client):
    page = text(client.get(f"{BR}/save?lang=en"))
    return re.search(r'id="resume-code"[^>]*>([A-Z0-9 ]+)<', page).group(1)


def test_a_full_width_resume_code_works(app, client):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    code = _code(client).replace(" ", "")
    wide = "".join(chr(ord(c) + 0xFEE0) for c in code.lower())  # ｋｄ７ｍ… from a Chinese keyboard
    response = app.test_client().post("/resume", data={"code": wide, **{
        "dob-day": "1", "dob-month": "10", "dob-year": "2023"}})
    assert response.status_code == 303
    assert security.normalise_code("ｋｄ７ｍ－４ｐｑｘ") == "KD7M4PQX"


def test_a_warning_comes_before_the_last_try(app, client):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    code = _code(client)
    other = app.test_client()
    wrong = {"code": code, "dob-day": "2", "dob-month": "10", "dob-year": "2023"}
    pages = [text(other.post("/resume?lang=en", data=wrong))
             for _ in range(security.CODE_ADDRESS_LIMITS[0][0])]
    warned = ["one more try" in page for page in pages]
    assert warned == [False] * (len(pages) - 2) + [True, False]


def test_the_resume_page_says_what_to_do_without_the_code(client):
    page = text(client.get("/resume?lang=en"))
    assert "Lost your code?" in page and "start again" in page


def test_the_date_example_follows_the_boxes(client):
    assert "For example 15 3 2024" in text(client.get("/resume?lang=en"))
    assert "2024 3 15" in text(client.get("/resume?lang=zh_Hans"))
    ug = text(client.get("/resume?lang=ug"))
    # No left-to-right island around the date: right to left it reads year first, like the
    # boxes (codes such as KD7M 4PQX do stay left to right).
    assert "مەسىلەن: 2024 3 15 (" in ug


# ------------------------------------------------------------------ 14. risky actions


def test_starting_again_asks_first_and_shows_the_code_that_still_opens_the_answers(client, db):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    code = _code(client)
    response = client.post(f"{BR}/?lang=en", data={"consent": "yes"})
    page = text(response)
    assert response.status_code == 200 and "Start again?" in page and code in page
    assert db.db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 1
    response = client.post(f"{BR}/", data={"consent": "yes", "replace": "yes"})
    assert response.status_code == 303
    assert db.db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 2


def test_delete_is_not_the_last_button_of_the_answer_sheet(client):
    begin(client, flow=KG)
    answer_all(client, KG_OTHER)
    client.post(f"{KG}/review")
    sheet = text(client.get(f"{KG}/done?lang=en"))
    assert "button-warning" not in sheet
    assert re.search(r'<a href="[^"]*/delete">Delete them now</a>', sheet)


# ------------------------------------------------------------------ 12. text

def test_chinese_lists_use_the_chinese_enumeration_comma(client, db):
    begin(client, flow=KG, lang="zh_Hans")
    answer_all(client, KG_OTHER[:-1] + [("documents", {"documents": [
        "parent_id_card", "household_register"]})])
    page = text(client.get(f"{KG}/review"))
    assert re.search(r"[\u4e00-\u9fff]、[\u4e00-\u9fff]", page)
    assert not re.search(r"[\u4e00-\u9fff]\)?, [\u4e00-\u9fff]", page)


def test_problems_on_the_review_page_carry_no_ascii_colon(client):
    begin(client, lang="zh_Hans")
    page = text(client.post(f"{BR}/review"))
    assert "？:" not in page and 'class="problem-label"' in page


def test_language_menu_is_not_printed():
    css = (ROOT / "static" / "css" / "app.css").read_text()
    print_rules = css[css.index("@media print"):]
    assert ".languages" in print_rules.split("{")[1]


# ------------------------------------------------------------------ 10. what happens next


def test_what_happens_next_is_numbered_once_and_says_what_to_do(client):
    begin(client, flow=KG)
    answer_all(client, KG_OTHER)
    client.post(f"{KG}/review")
    sheet = text(client.get(f"{KG}/done?lang=en"))
    part = sheet[sheet.index("What happens next"):]
    assert re.match(r'What happens next</h2>\s*<ul class="next-steps">', part)  # no 1. Stage 1
    assert part.count("<details") >= 4 and "一网通办" in part  # each stage with its how-to


# ------------------------------------------------------------------ 5. a name in another script


def _to_child_details(client):
    begin(client, flow=KG)
    answer_all(client, KG_OTHER[:-2])


def test_a_name_in_another_script_is_a_warning_the_family_can_confirm(client, db):
    _to_child_details(client)
    response = client.post(f"{KG}/child-details", data={"child_name": "Wang Xiaoming"})
    page = text(client.get(response.headers["Location"] + "?lang=en"))
    assert "exactly as in the household register" in page
    assert 'name="child_name-confirm"' in page and 'value="Wang Xiaoming"' in page
    assert "child_name" not in db.answers(sid(db))  # not saved until confirmed
    response = client.post(f"{KG}/child-details", data={"child_name": "Wang Xiaoming",
                                                       "child_name-confirm": "yes"})
    assert response.status_code == 303 and "documents" in response.headers["Location"]
    assert db.answers(sid(db))["child_name"] == "Wang Xiaoming"


def test_a_name_in_chinese_characters_passes_without_a_word(client, db):
    _to_child_details(client)
    response = client.post(f"{KG}/child-details", data={"child_name": "买买提·艾力"})
    assert "documents" in response.headers["Location"]


# ------------------------------------------------------------------ 10. deadline wording


def test_the_deadline_always_comes_with_the_opening_date(client):
    home = text(client.get("/?lang=en"))
    assert "Opens April 22, 2027, closes April 29, 2027" in home
    assert "Opens April 22, 2027" in text(client.get(f"{KG}/?lang=en"))
    begin(client, flow=KG)
    answer_all(client, KG_OTHER)
    client.post(f"{KG}/review")
    assert "Opens April 22, 2027, closes April 29, 2027" in text(client.get(f"{KG}/done?lang=en"))


def test_an_id_number_stays_on_one_line(client):
    begin(client, flow=KG)
    answer_all(client, KG_OTHER[:-2] + [("child-details", {
        "child_name": "王小明", "child_id": "110105202401010014"})] + KG_OTHER[-1:])
    client.post(f"{KG}/review")
    sheet = text(client.get(f"{KG}/done?lang=en"))
    assert '<bdi class="number">110105 20240101 0014</bdi>' in sheet
    css = (ROOT / "static" / "css" / "app.css").read_text()
    assert ".number{white-space:nowrap}" in css
