"""The step forms: WTForms forms built from the field registry (wizard/forms.py)."""

from family_helpers import ROOT

from wizard import engine, forms
from wizard.flow import loader


def test_the_loader_reserves_every_name_a_step_form_keeps():
    public = {name for name in dir(forms.StepForm) if not name.startswith("_")} - {"Meta"}
    assert public | {"meta", "form_errors"} <= loader.RESERVED_FIELD_IDS


def test_a_field_id_the_form_keeps_is_refused_by_the_check():
    text = (ROOT / "tests" / "flows" / "branching.yaml").read_text("utf-8")
    result = loader.load_text(text.replace("id: mobile", "id: validate"), "reserved.yaml")
    assert any("keeps for itself" in p.message for p in result.errors)


def test_one_form_class_per_flow_version_and_step(app, kindergarten):
    with app.test_request_context("/?lang=en"):
        j = engine.journey(kindergarten, {})
        step = kindergarten.step("hukou")
        one = forms.step_form(kindergarten, j, step, {})
        two = forms.step_form(kindergarten, j, step, {"hukou": "shanghai"})
        assert type(one) is type(two) and isinstance(one, forms.StepForm)
        assert two["hukou"].raw == "shanghai"


def test_check_json_gives_the_codes_and_messages_of_the_page(app, kindergarten):
    answers = {"child_dob": "2024-01-01", "hukou": "other_province"}
    j = engine.journey(kindergarten, answers)
    step = kindergarten.step("guardian")
    with app.test_request_context("/?lang=en"):
        values, problems = forms.check_json(kindergarten, j, step, {
            "guardian1_relation": "mother", "guardian1_mobile": "1380013800"}, answers)
        assert values == {"guardian1_relation": "mother"}
        assert problems["guardian1_mobile"]["code"] == "mobile_invalid"
        assert problems["guardian1_mobile"]["message"].startswith("Enter an 11-digit")
    client = app.test_client()
    client.post("/f/kindergarten-shanghai/?lang=en", data={"consent": "yes"})
    client.post("/f/kindergarten-shanghai/child-birth", data={
        "child_dob-day": "1", "child_dob-month": "1", "child_dob-year": "2024"})
    client.post("/f/kindergarten-shanghai/hukou", data={"hukou": "other_province"})
    response = client.post("/f/kindergarten-shanghai/guardian", data={
        "guardian1_relation": "mother", "guardian1_mobile": "1380013800"},
        follow_redirects=True)
    page = response.get_data(as_text=True)
    assert 'data-code="mobile_invalid"' in page
    assert problems["guardian1_mobile"]["message"] in page


def test_check_json_takes_iso_dates_lists_and_booleans(app, kindergarten):
    with app.test_request_context("/?lang=zh_Hans"):
        j = engine.journey(kindergarten, {})
        values, problems = forms.check_json(
            kindergarten, j, kindergarten.step("child-birth"), {"child_dob": "2024-02-30"}, {})
        assert problems["child_dob"]["code"] == "date_invalid"
        values, problems = forms.check_json(
            kindergarten, j, kindergarten.step("child-birth"), {"child_dob": "2024-02-29"}, {})
        assert not problems and values["child_dob"] == "2024-02-29"


def test_a_choice_that_is_not_shown_is_refused(app, kindergarten):
    # Passports are on the checklist only for foreign families.
    answers = {"child_dob": "2024-01-01", "hukou": "shanghai"}
    j = engine.journey(kindergarten, answers)
    with app.test_request_context("/?lang=en"):
        _values, problems = forms.check_json(
            kindergarten, j, kindergarten.step("documents"), {"documents": ["passports"]},
            answers)
    assert problems["documents"]["code"] == "not_a_choice"
