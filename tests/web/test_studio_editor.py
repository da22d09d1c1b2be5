"""The studio's form editor (views/studio_editor.py) on the real app and a real SQLite file:
steps, questions, choices and papers added, changed, moved and removed through forms; the
condition builder; refusals shown next to their input; stale pages refused with 409; and the
draft the forms make loads without errors."""

import re

import pytest
from people_helpers import make_user, sign_in, signed_in

from wizard.flow import loader

DRAFT = "/studio/branching/draft/"


@pytest.fixture
def staff(app):
    return signed_in(app, "lee", "staff", name="Lee Min", org="Street office")


@pytest.fixture
def drafted(staff):
    assert staff.post("/studio/branching/draft/start").status_code == 303
    return staff


def revision(page: bytes) -> str:
    return re.search(rb'name="revision" value="(\d+)"', page).group(1).decode()


def post(client, url, data, expect=303):
    """POST a form of the page at `url` with the revision the page shows."""
    data = {"revision": revision(client.get(url).data), **data}
    response = client.post(url, data=data)
    assert response.status_code == expect, response.data.decode()[-2000:]
    return response


def source(db, flow="branching") -> str:
    return db.draft(flow)["source"]


def loads(db, flow="branching"):
    result = loader.load_text(source(db, flow), flow)
    assert not result.errors, [str(p) for p in result.errors]
    return result.flow


def step_ids(db, flow="branching"):
    return [s.id for s in loads(db, flow).steps]


# ---------------------------------------------------------------- who and how


def test_volunteers_may_not_use_the_editor(app, drafted):
    make_user(app, "vol", role="volunteer")
    volunteer = app.test_client()
    sign_in(volunteer, "vol")
    for url in (DRAFT, DRAFT + "steps/hukou", DRAFT + "steps/hukou/fields/hukou"):
        assert volunteer.get(url).status_code == 403, url
    assert volunteer.post(DRAFT, data={"do": "remove", "step": "hukou",
                                       "revision": "2"}).status_code == 403


def test_pages_show_the_draft_and_are_never_cached(drafted):
    page = drafted.get(DRAFT + "?in=en")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = page.data.decode()
    for words in ("permit-points", "Household registration", "hukou == &#39;other&#39;",
                  "Add the step", "No problems"):
        assert words in text, words
    assert drafted.get(DRAFT + "steps/nope").status_code == 404
    assert drafted.get(DRAFT + "steps/hukou/fields/nope").status_code == 404
    assert drafted.get(DRAFT + "steps/permit/fields/hukou").status_code == 404
    assert drafted.get("/studio/nothing/draft/").status_code == 404


def test_texts_are_edited_in_the_language_asked_for(drafted, db):
    assert "户籍" in drafted.get(DRAFT).data.decode()  # the flow's default language
    post(drafted, DRAFT + "steps/hukou?in=en", {
        "do": "save", "step_id": "hukou", "kind": "question", "title": "Hukou",
        "cond_mode": "none"})
    flow = loads(db)
    assert flow.step("hukou").title == {"zh_Hans": "户籍", "en": "Hukou"}


# ---------------------------------------------------------------- steps


def test_add_move_and_remove_steps(drafted, db):
    response = post(drafted, DRAFT + "?in=en", {
        "do": "add_step", "new_step_id": "school", "new_step_kind": "instruction",
        "new_step_title": "Choose a school"})
    assert response.headers["Location"].endswith("/draft/steps/school?in=en")
    page = drafted.get(response.headers["Location"]).data.decode()
    assert "Added step school." in page
    assert "steps[7]" in page  # an instruction step needs a body: the loader's key path
    post(drafted, DRAFT + "steps/school?in=en", {
        "do": "save", "step_id": "school", "kind": "instruction", "title": "Choose a school",
        "body": "Pick **one** school.", "cond_mode": "none"})
    assert step_ids(db)[-1] == "school"
    post(drafted, DRAFT, {"do": "up", "step": "school"})
    assert step_ids(db)[-2:] == ["school", "apply"]
    post(drafted, DRAFT, {"do": "down", "step": "birth"})
    assert step_ids(db)[:2] == ["hukou", "birth"]
    response = post(drafted, DRAFT, {"do": "remove", "step": "school"})
    assert "Removed step school." in drafted.get(response.headers["Location"]).data.decode()
    assert "school" not in step_ids(db)


def test_a_refused_step_shows_its_message_and_keeps_what_was_typed(drafted, db):
    before = db.draft("branching")
    response = post(drafted, DRAFT, {"do": "add_step", "new_step_id": "hukou",
                                     "new_step_kind": "question",
                                     "new_step_title": "Again"}, expect=422)
    text = response.data.decode()
    assert "There is a problem" in text and "there is already a step" in text
    assert 'value="Again"' in text
    assert db.draft("branching")["revision"] == before["revision"]


# ---------------------------------------------------------------- fields and choices


def test_add_fields_of_several_types_and_set_their_rules(drafted, db):
    step = DRAFT + "steps/contact?in=en"
    for field_id, kind, label in [("email", "text", "Email"), ("children", "integer",
                                  "How many children?"), ("move_in", "date", "Moved in on"),
                                  ("languages", "multichoice", "Languages at home")]:
        response = post(drafted, step, {"do": "add_field", "new_field_id": field_id,
                                        "new_field_type": kind, "new_field_label": label})
        assert response.headers["Location"].endswith(f"/fields/{field_id}?in=en")
    field = DRAFT + "steps/contact/fields/children?in=en"
    page = drafted.get(field).data.decode()
    assert "Smallest value" in page and "Pattern the answer must match" not in page
    post(drafted, field, {
        "do": "save", "field_id": "children", "type": "integer", "label": "How many children?",
        "hint": "Under 18", "help": "Count **every** child.", "official": "子女人数",
        "required": "no", "min": "1", "max": "9", "cond_mode": "none"})
    post(drafted, DRAFT + "steps/contact/fields/languages?in=en", {
        "do": "add_choice", "new_choice_value": "mandarin", "new_choice_label": "Mandarin",
        "new_choice_official": "普通话"})
    post(drafted, DRAFT + "steps/contact/fields/languages?in=en", {
        "do": "add_choice", "new_choice_value": "uyghur", "new_choice_label": "Uyghur"})
    flow = loads(db)
    children = flow.field("children")
    assert (children.min, children.max, children.required, children.official) == \
        (1, 9, False, "子女人数")
    assert children.hint == {"en": "Under 18"} and children.help == \
        {"en": "Count **every** child."}
    assert [c.value for c in flow.field("languages").choices] == ["mandarin", "uyghur"]
    assert [f.id for f in flow.step("contact").fields] == \
        ["mobile", "child_id", "email", "children", "move_in", "languages"]
    # The rules show prefilled again.
    page = drafted.get(field).data.decode()
    assert 'value="9"' in page and "子女人数" in page


def test_reorder_and_remove_fields_and_choices(drafted, db):
    hukou = DRAFT + "steps/hukou/fields/hukou?in=en"
    post(drafted, hukou, {"do": "add_choice", "new_choice_value": "abroad",
                          "new_choice_label": "Abroad"})
    post(drafted, hukou, {"do": "choice_up", "choice": "abroad"})
    post(drafted, hukou, {"do": "choice_save", "choice": "shanghai", "choice_value": "shanghai",
                          "choice_label": "Shanghai city", "choice_official": "上海"})
    flow = loads(db)
    assert [c.value for c in flow.field("hukou").choices] == ["shanghai", "abroad", "other"]
    assert flow.field("hukou").choices[0].official == "上海"
    post(drafted, hukou, {"do": "choice_remove", "choice": "abroad"})
    assert [c.value for c in loads(db).field("hukou").choices] == ["shanghai", "other"]
    contact = DRAFT + "steps/contact?in=en"
    post(drafted, contact, {"do": "field_down", "field": "mobile"})
    assert [f.id for f in loads(db).step("contact").fields] == ["child_id", "mobile"]
    post(drafted, contact, {"do": "field_remove", "field": "child_id"})
    assert [f.id for f in loads(db).step("contact").fields] == ["mobile"]


def test_a_new_type_drops_the_rules_it_cannot_have(drafted, db):
    field = DRAFT + "steps/permit-points/fields/points?in=en"
    response = post(drafted, field, {"do": "save", "field_id": "points", "type": "text",
                                     "label": "Points", "required": "no", "min": "0",
                                     "max": "1000", "cond_mode": "none"})
    assert "min, max" in drafted.get(response.headers["Location"]).data.decode()
    points = loads(db).field("points")
    assert points.type == "text" and points.min is None


def test_a_duplicate_field_id_is_refused_and_nothing_saved(drafted, db):
    before = db.draft("branching")
    response = post(drafted, DRAFT + "steps/contact?in=en", {
        "do": "add_field", "new_field_id": "hukou", "new_field_type": "text",
        "new_field_label": "Again"}, expect=422)
    text = response.data.decode()
    assert "already a field &#39;hukou&#39;" in text
    assert 'id="f-new_field_id-error"' in text and 'value="Again"' in text
    after = db.draft("branching")
    assert (after["revision"], after["source"]) == (before["revision"], before["source"])


def test_a_bad_number_is_shown_next_to_its_input(drafted, db):
    before = source(db)
    response = post(drafted, DRAFT + "steps/permit-points/fields/points?in=en", {
        "do": "save", "field_id": "points", "type": "integer", "label": "Points",
        "required": "no", "min": "lots", "max": "1000", "cond_mode": "none"}, expect=422)
    assert 'id="f-min-error"' in response.data.decode()
    assert source(db) == before


# ---------------------------------------------------------------- conditions


def test_a_built_condition_round_trips_and_shows_prefilled(drafted, db):
    post(drafted, DRAFT + "steps/permit?in=en", {
        "do": "save", "step_id": "permit", "kind": "question", "title": "Residence permit",
        "cond_mode": "none"})
    assert loads(db).step("permit").show_if is None
    post(drafted, DRAFT + "steps/permit?in=en", {
        "do": "save", "step_id": "permit", "kind": "question", "title": "Residence permit",
        "cond_mode": "simple", "cond_field": "hukou", "cond_op": "equals",
        "cond_value": "other"})
    assert "show_if: hukou == 'other'" in source(db)
    loads(db)
    page = drafted.get(DRAFT + "steps/permit?in=en").data.decode()
    assert re.search(r'value="simple" checked', page)
    assert '<option value="hukou" selected>' in page
    assert '<option value="equals" selected>' in page and 'value="other"' in page
    # Only earlier answers are offered.
    assert '<option value="points"' not in page


def test_an_expression_the_loader_refuses_shows_its_key_path(drafted, db):
    post(drafted, DRAFT + "steps/permit?in=en", {
        "do": "save", "step_id": "permit", "kind": "question", "title": "Residence permit",
        "cond_mode": "expression", "cond_expr": "points > 3"})
    page = drafted.get(DRAFT + "steps/permit?in=en").data.decode()
    assert "steps[2].show_if" in page and "to fix before publishing" in page
    assert "points &gt; 3" in page  # shown again in the text box
    assert loader.load_text(source(db), "branching").errors


def test_a_builder_without_a_value_is_refused(drafted, db):
    before = source(db)
    response = post(drafted, DRAFT + "steps/permit?in=en", {
        "do": "save", "step_id": "permit", "kind": "question", "title": "Residence permit",
        "cond_mode": "simple", "cond_field": "hukou", "cond_op": "equals",
        "cond_value": ""}, expect=422)
    assert 'id="f-cond_value-error"' in response.data.decode()
    assert source(db) == before


# ---------------------------------------------------------------- checklists


def test_checklist_papers(drafted, db):
    step = DRAFT + "steps/documents?in=en"
    post(drafted, step, {"do": "add_item", "new_item_id": "birth_cert",
                         "new_item_label": "Birth certificate",
                         "new_item_official": "出生医学证明"})
    post(drafted, step, {"do": "item_up", "item": "birth_cert"})
    post(drafted, step, {"do": "item_save", "item": "hukou_book", "item_id": "hukou_book",
                         "item_label": "Hukou booklet", "item_official": "户口簿",
                         "item_show_if": ""})
    papers = loads(db).step("documents").fields[0].choices  # the loader's checklist answer
    assert [p.value for p in papers] == ["hukou_book", "birth_cert", "permit_card"]
    assert papers[0].label == {"zh_Hans": "户口簿", "en": "Hukou booklet"}
    post(drafted, step, {"do": "item_remove", "item": "permit_card"})
    assert [p.value for p in loads(db).step("documents").fields[0].choices] == \
        ["hukou_book", "birth_cert"]


# ---------------------------------------------------------------- two staff, one draft


def test_a_stale_page_is_refused_with_409_and_nothing_saved(app, drafted, db):
    old = revision(drafted.get(DRAFT + "steps/permit?in=en").data)
    post(drafted, DRAFT + "steps/hukou?in=en", {
        "do": "save", "step_id": "hukou", "kind": "question", "title": "Hukou",
        "cond_mode": "none"})
    before = db.draft("branching")
    response = drafted.post(DRAFT + "steps/permit?in=en", data={
        "revision": old, "do": "save", "step_id": "permit", "kind": "question",
        "title": "Permit (mine)", "cond_mode": "none"})
    assert response.status_code == 409
    text = response.data.decode()
    assert "Not saved: someone else changed the draft" in text
    assert 'value="Permit (mine)"' in text  # what was typed is kept
    assert f'name="revision" value="{old}"' in text  # saving again clashes again
    assert db.draft("branching")["source"] == before["source"]
    assert drafted.post(DRAFT, data={"revision": old, "do": "remove",
                                     "step": "apply"}).status_code == 409
    assert "apply" in step_ids(db)


# ---------------------------------------------------------------- a whole flow by forms


def test_staff_build_a_three_step_flow_with_a_condition(staff, db):
    assert staff.post("/studio/", data={"flow_id": "bike-permit", "title": "Bike permit",
                                        "language": "en"}).status_code == 303
    base = "/studio/bike-permit/draft/"
    # The starter's step becomes the first question.
    post(staff, base + "steps/first-step", {
        "do": "save", "step_id": "owner", "kind": "question", "title": "The owner",
        "cond_mode": "none"})
    post(staff, base + "steps/owner/fields/first_question", {
        "do": "save", "field_id": "has_bike", "type": "yes_no", "label": "Do you own a bike?",
        "required": "yes", "cond_mode": "none"})
    post(staff, base, {"do": "add_step", "new_step_id": "bike", "new_step_kind": "question",
                       "new_step_title": "The bike"})
    post(staff, base + "steps/bike", {"do": "add_field", "new_field_id": "colour",
                                      "new_field_type": "choice",
                                      "new_field_label": "Its colour"})
    for value, label in [("red", "Red"), ("blue", "Blue")]:
        post(staff, base + "steps/bike/fields/colour", {
            "do": "add_choice", "new_choice_value": value, "new_choice_label": label})
    post(staff, base + "steps/bike", {
        "do": "save", "step_id": "bike", "kind": "question", "title": "The bike",
        "cond_mode": "simple", "cond_field": "has_bike", "cond_op": "yes", "cond_value": ""})
    post(staff, base, {"do": "add_step", "new_step_id": "go", "new_step_kind": "instruction",
                       "new_step_title": "Go to the office"})
    post(staff, base + "steps/go", {
        "do": "save", "step_id": "go", "kind": "instruction", "title": "Go to the office",
        "body": "Bring the bike.", "cond_mode": "none"})
    flow = loads(db, "bike-permit")
    assert [s.id for s in flow.steps] == ["owner", "bike", "go"]
    assert flow.step("bike").show_if_source == "has_bike == true"
    assert [c.value for c in flow.field("colour").choices] == ["red", "blue"]
    assert "No problems: the draft can be published." in staff.get(base).data.decode()


def test_a_draft_whose_yaml_does_not_parse_sends_staff_to_the_yaml_editor(drafted, db):
    draft = db.draft("branching")
    db.save_draft("branching", "id: branching\nsteps: [\n", draft["revision"], "user:test")
    page = drafted.get(DRAFT)
    assert page.status_code == 200 and b"cannot be read" in page.data
    assert drafted.get(DRAFT + "steps/hukou").status_code == 303


# ---------------------------------------------------------------- the walkthrough itself

ABOUT = DRAFT + "about"


def test_the_outline_links_to_the_walkthrough_page(drafted):
    page = drafted.get(DRAFT + "?in=en").data.decode()
    assert "Title, introduction and dates" in page and "/draft/about?in=en" in page


def test_title_intro_and_deadline_are_saved(drafted, db):
    page = drafted.get(ABOUT + "?in=en")
    assert page.status_code == 200
    text = page.data.decode()
    for words in ("Title of the walkthrough", "Introduction (Markdown)", "Deadline",
                  "What a family gives to come back to their answers", "Add the language"):
        assert words in text, words
    response = post(drafted, ABOUT + "?in=en", {
        "do": "save", "title": "Registration (test)", "short_summary": "",
        "intro": "Have the **birth certificate** ready.\n\n- one\n- two", "minutes": "15",
        "opens": "", "deadline": "2027-04-29", "timezone": "", "resume_fact": "child_dob"})
    assert response.headers["Location"].endswith("/draft/about?in=en")
    assert "Saved." in drafted.get(response.headers["Location"]).data.decode()
    flow = loads(db)
    assert flow.title["en"] == "Registration (test)" and flow.title["zh_Hans"]
    assert "**birth certificate**" in flow.intro["en"]
    assert str(flow.deadline) == "2027-04-29" and flow.minutes == 15
    assert flow.resume_fact == "child_dob"
    page = drafted.get(ABOUT + "?in=en").data.decode()
    assert 'value="2027-04-29"' in page and 'value="child_dob" checked' in page


@pytest.mark.parametrize("field, value, words", [
    ("deadline", "29/04/2027", "is not a date"),
    ("deadline", "2027-02-30", "is not a date"),
    ("minutes", "lots", "whole number"),
    ("timezone", "Shanghai", "unknown time zone"),
])
def test_a_bad_value_is_refused_next_to_its_input(drafted, db, field, value, words):
    before = db.draft("branching")
    data = {"do": "save", "title": "Registration", "minutes": "", "deadline": "",
            "timezone": "", "resume_fact": ""}
    data[field] = value
    response = post(drafted, ABOUT + "?in=en", data, expect=422)
    text = response.data.decode()
    assert "There is a problem" in text and words in text
    assert f'id="f-{field}-error"' in text
    assert f'value="{value}"' in text and 'value="Registration"' in text  # typed, kept
    assert db.draft("branching")["source"] == before["source"]


def test_the_default_title_cannot_be_emptied(drafted, db):
    response = post(drafted, ABOUT, {"do": "save", "title": "", "resume_fact": ""},
                    expect=422)
    assert 'id="f-title-error"' in response.data.decode()


def test_add_and_remove_a_language(drafted, db):
    page = drafted.get(ABOUT).data.decode()
    assert 'value="zh_Hant"' in page and 'value="en"' not in page.split("add-language")[1]
    response = post(drafted, ABOUT, {"do": "add_language", "new_language": "zh_Hant"})
    assert "Added 繁體中文." in drafted.get(response.headers["Location"]).data.decode()
    assert loads(db).languages == ("zh_Hans", "en", "zh_Hant")
    # The same language twice, and one the app does not offer, are refused.
    for code, words in (("zh_Hant", "already one of"), ("fr", "not a language the wizard")):
        response = drafted.post(ABOUT, data={"revision": revision(drafted.get(ABOUT).data),
                                             "do": "add_language", "new_language": code})
        assert response.status_code == 422 and words in response.data.decode()
    response = post(drafted, ABOUT + "?in=en", {"do": "remove_language", "language": "en"})
    assert response.headers["Location"].endswith("/draft/about?in=zh_Hans")
    page = drafted.get(response.headers["Location"]).data.decode()
    assert "Its texts are still in the file." in page
    assert "is not in this flow&#39;s languages" in page  # the loader names the texts left
    assert "title: {zh_Hans:" in source(db) and "en:" in source(db)  # texts kept
    result = loader.load_text(source(db), "branching")
    assert not result.errors and result.flow.languages == ("zh_Hans", "zh_Hant")
    response = post(drafted, ABOUT, {"do": "remove_language", "language": "zh_Hans"},
                    expect=422)
    assert "default language" in response.data.decode()


def test_a_chinese_flow_gets_english_and_its_texts_show_as_missing(staff, db):
    assert staff.post("/studio/", data={"flow_id": "bike-permit", "title": "自行车登记",
                                        "language": "zh_Hans"}).status_code == 303
    about = "/studio/bike-permit/draft/about"
    assert 'value="en"' in staff.get(about).data.decode()
    post(staff, about, {"do": "add_language", "new_language": "en"})
    assert loads(db, "bike-permit").languages == ("zh_Hans", "en")
    page = staff.get(about).data.decode()
    assert "/studio/bike-permit/draft/translations?to=en" in page
    table = staff.get("/studio/bike-permit/draft/translations?to=en")
    assert table.status_code == 200
    text = table.data.decode()
    assert "自行车登记" in text and "第一个问题" in text
    # The starter's three texts (title, step title, question), none translated yet.
    assert "3 missing, 0 out of date" in text
    assert text.count('data-state="missing"') == 3
    # Texts in English are then edited in place: the plain Chinese text becomes a mapping.
    post(staff, about + "?in=en", {"do": "save", "title": "Bike registration",
                                   "resume_fact": ""})
    assert loads(db, "bike-permit").title == {"zh_Hans": "自行车登记", "en": "Bike registration"}


def test_a_stale_walkthrough_page_is_refused_with_409(drafted, db):
    old = revision(drafted.get(ABOUT + "?in=en").data)
    post(drafted, ABOUT, {"do": "add_language", "new_language": "ug"})
    before = db.draft("branching")["source"]
    response = drafted.post(ABOUT + "?in=en", data={
        "revision": old, "do": "save", "title": "Mine", "deadline": "2027-05-01",
        "resume_fact": ""})
    assert response.status_code == 409
    text = response.data.decode()
    assert "Not saved: someone else changed the draft" in text and 'value="Mine"' in text
    assert drafted.post(ABOUT, data={"revision": old, "do": "remove_language",
                                     "language": "en"}).status_code == 409
    assert db.draft("branching")["source"] == before


# ---------------------------------------------------------------- hints and help of options


def test_choice_and_paper_hint_and_help_are_saved(drafted, db):
    hukou = DRAFT + "steps/hukou/fields/hukou?in=en"
    assert "Hint under the choice" in drafted.get(hukou).data.decode()
    post(drafted, hukou, {"do": "choice_save", "choice": "other", "choice_value": "other",
                          "choice_label": "Another city", "choice_official": "",
                          "choice_hint": "Also abroad", "choice_help": "See **the list**."})
    other = loads(db).field("hukou").choices[-1]
    assert other.hint == {"en": "Also abroad"} and other.help == {"en": "See **the list**."}
    page = drafted.get(hukou).data.decode()
    assert 'value="Also abroad"' in page and "See **the list**." in page
    step = DRAFT + "steps/documents?in=en"
    assert "Help with this paper (Markdown)" in drafted.get(step).data.decode()
    post(drafted, step, {"do": "item_save", "item": "hukou_book", "item_id": "hukou_book",
                         "item_label": "Hukou booklet", "item_official": "户口簿",
                         "item_show_if": "", "item_hint": "Every page",
                         "item_help": "Bring the **original**."})
    paper = loads(db).step("documents").fields[0].choices[0]
    assert paper.hint == {"en": "Every page"} and paper.help == {"en": "Bring the **original**."}


# ---------------------------------------------------------------- a step that ends the walk


def test_a_step_may_end_the_walkthrough_when_the_schema_has_end(drafted, db):
    from wizard.flow import editing

    url = DRAFT + "steps/permit?in=en"
    question = "Does the walkthrough end after this page when it is shown?"
    if "end" not in editing.STEP_KEYS:
        assert question not in drafted.get(url).data.decode()
        return
    assert question in drafted.get(url).data.decode()
    data = {"do": "save", "step_id": "permit", "kind": "question",
            "title": "Residence permit", "cond_mode": "none"}
    post(drafted, url, {**data, "end": "yes"})
    assert "end: true" in source(db)
    assert re.search(r'value="yes" checked', drafted.get(url).data.decode())
    post(drafted, url, {**data, "end": "no"})
    assert "end:" not in source(db)


def test_a_step_without_a_usable_id_is_listed_not_linked(drafted, db):
    draft = db.draft("branching")
    broken = draft["source"].replace("  - id: contact\n", "  - id:\n", 1)
    db.save_draft("branching", broken, draft["revision"], "user:1")
    page = drafted.get("/studio/branching/draft/")
    assert page.status_code == 200 and b"needs an id before it can be edited" in page.data
    # A forged move on a draft without steps is refused, never a 500.
    draft = db.draft("branching")
    db.save_draft("branching", "id: branching\nversion: 2\n", draft["revision"], "user:1")
    moved = drafted.post("/studio/branching/draft/", data={
        "do": "down", "step": "birth", "revision": db.draft("branching")["revision"]})
    assert moved.status_code in (404, 422)
