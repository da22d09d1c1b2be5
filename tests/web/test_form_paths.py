"""Two ways in, one verdict: a step's answers posted as the HTML form and sent as JSON
(`forms.check_json`, the sync API) give the same error code and the same message.

One row per rule of the field registry (wizard/flow/fieldtypes.py), each a bad answer written
both ways, run in Simplified Chinese and Uyghur on tests/flows/every_type.yaml (one step per
field type). The table also documents which input breaks which rule.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from family_helpers import ROOT

from wizard import engine, forms, i18n, security, store
from wizard.flow import fieldtypes, loader
from wizard.flow.fieldtypes import Invalid

FLOW_ID = "every-type"
FLOW_URL = f"/f/{FLOW_ID}"
FLOW_FILE = ROOT / "tests" / "flows" / "every_type.yaml"
LANGS = ("zh_Hans", "ug")

# Earlier answers a step needs, posted before it as the HTML form (the ID checks its birth
# date against the date of birth saved first).
BORN = "2023-10-01"
BEFORE = {"birth": {"child_dob-day": "1", "child_dob-month": "10", "child_dob-year": "2023"}}

TOO_BIG = "1" * (fieldtypes.MAX_TEXT * 4 + 1)  # over the hard ceiling on anything typed


def _id(first17: str) -> str:
    """A resident ID number with the right check character."""
    return first17 + fieldtypes.id_check_digit(first17)


def _wrong_check(first17: str) -> str:
    right = fieldtypes.id_check_digit(first17)
    return first17 + ("1" if right != "1" else "2")


def _id_ending_in_x(birth: str) -> str:
    """A valid number born on `birth` (YYYYMMDD) whose check character is X."""
    for n in range(1000):
        first17 = f"110105{birth}{n:03d}"
        if fieldtypes.id_check_digit(first17) == "X":
            return first17 + "X"
    raise AssertionError("no sequence number gives X")  # pragma: no cover


def _date(day: str, month: str, year: str, name: str = "child_dob") -> dict:
    return {f"{name}-day": day, f"{name}-month": month, f"{name}-year": year}


@dataclass(frozen=True)
class Row:
    name: str  # test id
    step: str
    field: str  # the field whose error is compared
    form: dict[str, Any]  # the HTML form's data (lists are repeated keys)
    payload: dict[str, Any]  # the same answer as JSON
    code: str | None  # the registry's code; None: the answer is accepted
    before: tuple[str, ...] = field(default=())  # steps answered first


ROWS: list[Row] = [
    # -- date (three boxes on the page; an ISO date or the three parts in JSON)
    Row("date-empty", "birth", "child_dob", _date("", "", ""), {"child_dob": ""},
        "required_date"),
    Row("date-incomplete", "birth", "child_dob", _date("1", "10", ""),
        {"child_dob": {"day": "1", "month": "10", "year": ""}}, "date_incomplete"),
    Row("date-not-numbers", "birth", "child_dob", _date("1st", "10", "2023"),
        {"child_dob": {"day": "1st", "month": "10", "year": "2023"}}, "date_not_numbers"),
    Row("date-no-such-day", "birth", "child_dob", _date("31", "2", "2023"),
        {"child_dob": "2023-02-31"}, "date_invalid"),
    Row("date-month-13", "birth", "child_dob", _date("1", "13", "2023"),
        {"child_dob": {"day": "1", "month": "13", "year": "2023"}}, "date_invalid"),
    Row("date-three-digit-year", "birth", "child_dob", _date("1", "1", "999"),
        {"child_dob": {"day": "1", "month": "1", "year": "999"}}, "date_invalid"),
    Row("date-not-iso", "birth", "child_dob", {"child_dob": "2023/10/01"},
        {"child_dob": "2023/10/01"}, "date_invalid"),
    Row("date-too-early", "birth", "child_dob", _date("31", "12", "2019"),
        {"child_dob": "2019-12-31"}, "date_too_early"),
    Row("date-too-late", "birth", "child_dob", _date("1", "1", "2099"),
        {"child_dob": {"day": "1", "month": "1", "year": "2099"}}, "date_too_late"),
    Row("date-too-big", "birth", "child_dob", _date(TOO_BIG, "10", "2023"),
        {"child_dob": {"day": TOO_BIG, "month": "10", "year": "2023"}}, "too_big"),
    Row("date-full-width-ok", "birth", "child_dob", _date("１", "１０", "２０２３"),
        {"child_dob": {"day": "１", "month": "１０", "year": "２０２３"}}, None),

    # -- resident ID (after the date of birth 2023-10-01)
    Row("id-empty", "child-id", "child_id", {"child_id": ""}, {"child_id": ""}, "required",
        ("birth",)),
    Row("id-length", "child-id", "child_id", {"child_id": "1101052023100100"},
        {"child_id": "1101052023100100"}, "id_length", ("birth",)),
    Row("id-chars", "child-id", "child_id", {"child_id": "11010520231001A011"},
        {"child_id": "11010520231001A011"}, "id_chars", ("birth",)),
    Row("id-birth-date", "child-id", "child_id", {"child_id": "110105202302300011"},
        {"child_id": "110105202302300011"}, "id_birth_date", ("birth",)),
    Row("id-birth-too-early", "child-id", "child_id", {"child_id": "110105189912310011"},
        {"child_id": "110105189912310011"}, "id_birth_too_early", ("birth",)),
    Row("id-birth-future", "child-id", "child_id", {"child_id": _id("11010520990101001")},
        {"child_id": _id("11010520990101001")}, "id_birth_future", ("birth",)),
    Row("id-check-digit", "child-id", "child_id",
        {"child_id": _wrong_check("11010520231001001")},
        {"child_id": _wrong_check("11010520231001001")}, "id_check_digit", ("birth",)),
    Row("id-birth-mismatch", "child-id", "child_id", {"child_id": _id("11010520231002001")},
        {"child_id": _id("11010520231002001")}, "id_birth_mismatch", ("birth",)),
    Row("id-too-big", "child-id", "child_id", {"child_id": TOO_BIG}, {"child_id": TOO_BIG},
        "too_big", ("birth",)),
    Row("id-spaced-lower-x-ok", "child-id", "child_id",
        {"child_id": " ".join(_id_ending_in_x("20231001").lower().partition("20231001"))},
        {"child_id": _id_ending_in_x("20231001").lower()}, None, ("birth",)),

    # -- calculated: never typed, so anything sent is ignored
    Row("calculated-typed-ok", "age", "age_months", {"age_months": "99"}, {"age_months": 99},
        None),

    # -- text: 2 to 6 characters, digits only; the flow's own message when empty
    Row("text-empty", "room", "room", {"room": ""}, {"room": ""}, "required"),
    Row("text-only-spaces", "room", "room", {"room": "\u3000 \u00a0"},
        {"room": "\u3000 \u00a0"}, "required"),
    Row("text-too-short", "room", "room", {"room": "1"}, {"room": "1"}, "too_short"),
    Row("text-too-long", "room", "room", {"room": "1234567"}, {"room": "1234567"}, "too_long"),
    Row("text-pattern", "room", "room", {"room": "12a"}, {"room": "12a"}, "pattern"),
    Row("text-bidi-control", "room", "room", {"room": "\u202e12"}, {"room": "\u202e12"},
        "hidden_characters"),
    Row("text-only-zero-width", "room", "room", {"room": "\u200b\u200d"},
        {"room": "\u200b\u200d"}, "hidden_characters"),
    Row("text-nothing-visible", "room", "room", {"room": "\u3164\u3164"},
        {"room": "\u3164\u3164"}, "nothing_visible"),
    Row("text-too-big", "room", "room", {"room": TOO_BIG}, {"room": TOO_BIG}, "too_big"),

    # -- text in Chinese characters: another script is a warning the family may confirm
    Row("text-script", "child-name", "child_name", {"child_name": "Ali"},
        {"child_name": "Ali"}, "script_han"),
    Row("text-script-confirmed-ok", "child-name", "child_name",
        {"child_name": "Ali", "child_name-confirm": "yes"},
        {"child_name": "Ali", "child_name-confirm": "yes"}, None),

    # -- textarea: at most 20 characters
    Row("textarea-empty", "notes", "notes", {"notes": "\r\n"}, {"notes": "\n"}, "required"),
    Row("textarea-too-long", "notes", "notes", {"notes": "x" * 21}, {"notes": "x" * 21},
        "too_long"),
    Row("textarea-control-character", "notes", "notes", {"notes": "a\x0bb"},
        {"notes": "a\x0bb"}, "hidden_characters"),
    Row("textarea-nothing-visible", "notes", "notes", {"notes": "\u2800\n\u2800"},
        {"notes": "\u2800\n\u2800"}, "nothing_visible"),

    # -- integer: 1 to 10, the flow's own message for the range
    Row("integer-empty", "children", "children", {"children": " "}, {"children": None},
        "required"),
    Row("integer-decimal", "children", "children", {"children": "1.5"}, {"children": 1.5},
        "not_integer"),
    Row("integer-words", "children", "children", {"children": "two"}, {"children": "two"},
        "not_integer"),
    Row("integer-too-small", "children", "children", {"children": "0"}, {"children": 0},
        "too_small"),
    Row("integer-too-large", "children", "children", {"children": "11"}, {"children": 11},
        "too_large"),
    Row("integer-too-big", "children", "children", {"children": TOO_BIG},
        {"children": TOO_BIG}, "too_big"),

    # -- decimal: 0.5 to 99.5, one digit after the point
    Row("decimal-empty", "distance", "distance_km", {"distance_km": ""},
        {"distance_km": ""}, "required"),
    Row("decimal-words", "distance", "distance_km", {"distance_km": "far"},
        {"distance_km": "far"}, "not_number"),
    Row("decimal-two-points", "distance", "distance_km", {"distance_km": "1.2.3"},
        {"distance_km": "1.2.3"}, "not_number"),
    Row("decimal-too-many-places", "distance", "distance_km", {"distance_km": "1.25"},
        {"distance_km": 1.25}, "too_many_places"),
    Row("decimal-too-small", "distance", "distance_km", {"distance_km": "0.4"},
        {"distance_km": 0.4}, "too_small"),
    Row("decimal-too-large", "distance", "distance_km", {"distance_km": "100"},
        {"distance_km": 100}, "too_large"),

    # -- choice
    Row("choice-empty", "hukou", "hukou", {}, {}, "required_choice"),
    Row("choice-unknown", "hukou", "hukou", {"hukou": "mars"}, {"hukou": "mars"},
        "not_a_choice"),
    Row("choice-too-big", "hukou", "hukou", {"hukou": TOO_BIG}, {"hukou": TOO_BIG},
        "too_big"),

    # -- multichoice: 2 to 3 of 5
    Row("multichoice-empty", "spoken", "spoken", {}, {"spoken": []}, "required_choice"),
    Row("multichoice-unknown", "spoken", "spoken", {"spoken": ["mandarin", "klingon"]},
        {"spoken": ["mandarin", "klingon"]}, "not_a_choice"),
    Row("multichoice-too-few", "spoken", "spoken", {"spoken": ["mandarin"]},
        {"spoken": ["mandarin"]}, "too_few_choices"),
    Row("multichoice-same-twice", "spoken", "spoken", {"spoken": ["uyghur", "uyghur"]},
        {"spoken": ["uyghur", "uyghur"]}, "too_few_choices"),
    Row("multichoice-too-many", "spoken", "spoken",
        {"spoken": ["mandarin", "shanghainese", "uyghur", "english"]},
        {"spoken": ["mandarin", "shanghainese", "uyghur", "english"]}, "too_many_choices"),

    # -- yes or no
    Row("yes-no-empty", "permit", "has_permit", {}, {"has_permit": None}, "required_choice"),
    Row("yes-no-other", "permit", "has_permit", {"has_permit": "maybe"},
        {"has_permit": "maybe"}, "not_yes_no"),
    Row("yes-no-boolean-ok", "permit", "has_permit", {"has_permit": "no"},
        {"has_permit": False}, None),

    # -- mainland mobile number
    Row("mobile-empty", "contact", "mobile", {"mobile": ""}, {"mobile": ""}, "required"),
    Row("mobile-starts-12", "contact", "mobile", {"mobile": "12800138000"},
        {"mobile": "12800138000"}, "mobile_invalid"),
    Row("mobile-too-few-digits", "contact", "mobile", {"mobile": "138 0013 800"},
        {"mobile": "138 0013 800"}, "mobile_invalid"),
    Row("mobile-foreign", "contact", "mobile", {"mobile": "+1 415 555 0100"},
        {"mobile": "+1 415 555 0100"}, "mobile_invalid"),
    Row("mobile-too-big", "contact", "mobile", {"mobile": TOO_BIG}, {"mobile": TOO_BIG},
        "too_big"),
    Row("mobile-plus-86-ok", "contact", "mobile", {"mobile": "+86 138-0013-8000"},
        {"mobile": "+86 138-0013-8000"}, None),

    # -- checklist: nothing ticked is an answer; an item that is not on the list is not
    Row("checklist-unknown", "documents", "documents", {"documents": ["hukou_book", "passport"]},
        {"documents": ["hukou_book", "passport"]}, "not_a_choice"),
    Row("checklist-none-ok", "documents", "documents", {}, {"documents": []}, None),
]

# Registry codes no row can reach through a step's answers, and why.
UNREACHABLE = {
    # Set by the view when another phone saved the answer meanwhile, never by a rule.
    "changed_elsewhere",
}


@pytest.fixture(scope="module")
def flow():
    result = loader.load_file(FLOW_FILE)
    assert not result.errors, "\n".join(map(str, result.errors))
    return result.flow


@pytest.fixture(scope="module")
def form_app(tmp_path_factory, flow):
    from wizard import create_app

    path = tmp_path_factory.mktemp("form-paths") / "forms.sqlite3"
    app = create_app({"TESTING": True, "DATABASE": str(path), "SECRET_KEY": "form-path-tests",
                      "WTF_CSRF_ENABLED": False})
    s = store.Store(app.config["DATABASE"])
    s.migrate()
    s.publish_flow(flow)
    s.close()
    return app


def _normalise(text: str) -> str:
    return " ".join(text.split())


_HIDDEN = re.compile(r'<span class="visually-hidden">.*?</span>', re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def page_error(page: str, field_id: str) -> tuple[str | None, str] | None:
    """(data-code, message) of a field's error on a step page, or None without one."""
    found = re.search(rf'<p class="error-message" id="f-{re.escape(field_id)}-error"([^>]*)>'
                      r"(.*?)</p>", page, re.DOTALL)
    if found is None:
        return None
    code = re.search(r'data-code="([^"]*)"', found.group(1))
    message = html.unescape(_TAG.sub("", _HIDDEN.sub("", found.group(2), count=1)))
    return (html.unescape(code.group(1)) if code else None), _normalise(message)


def post_form(app, row: Row, lang: str) -> tuple[tuple[str | None, str] | None, dict]:
    """Post the row's answer as the HTML form in a new session: (the page's error for the
    field, or None when it was accepted; the answers saved before the step was posted)."""
    client = app.test_client()
    response = client.post(f"{FLOW_URL}/?lang={lang}", data={"consent": "yes"})
    assert response.status_code == 303, response.data
    for step in row.before:
        response = client.post(f"{FLOW_URL}/{step}", data=BEFORE[step])
        assert response.status_code == 303
        assert urlsplit(response.headers["Location"]).path != f"{FLOW_URL}/{step}", step
    token = client.get_cookie(security.COOKIE_PREFIX + FLOW_ID).value
    s = store.Store(app.config["DATABASE"])
    try:
        saved = s.answers(s.session_by_token(security.hash_token(token))["id"])
    finally:
        s.close()

    here = f"{FLOW_URL}/{row.step}"
    response = client.post(here, data=row.form)
    assert response.status_code == 303, response.status_code
    target = response.headers["Location"]
    if urlsplit(target).path != here:
        return None, saved  # saved and on to the next page
    page = client.get(target)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f'<html lang="{i18n.LANGUAGES[lang][1]}"' in text  # in the session's language
    error = page_error(text, row.field)
    assert error is not None, f"the page was shown again without an error for {row.field}"
    return error, saved


def check_json(app, flow, row: Row, lang: str, saved: dict) -> tuple[dict, dict | None]:
    with app.test_request_context(f"/?lang={lang}"):
        j = engine.journey(flow, saved)
        values, problems = forms.check_json(flow, j, flow.step(row.step), row.payload, saved)
    return values, problems.get(row.field)


def test_the_table_reaches_every_code_of_the_registry():
    """Every message of the registry has a row (or a reason why no answer can reach it)."""
    covered = {row.code for row in ROWS}
    assert set(fieldtypes.MESSAGES) - UNREACHABLE <= covered
    assert covered - {None} <= set(fieldtypes.MESSAGES)


def test_the_flow_has_a_step_of_every_field_type(flow):
    types = {f.type for s in flow.steps for f in s.fields}
    assert types == set(fieldtypes.REGISTRY)
    assert {row.step for row in ROWS} == {s.id for s in flow.steps}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_the_form_and_json_give_the_same_error(form_app, flow, row, lang):
    on_page, saved = post_form(form_app, row, lang)
    if row.before:
        assert saved.get("child_dob") == BORN
    values, problem = check_json(form_app, flow, row, lang, saved)

    if row.code is None:
        assert on_page is None, on_page
        assert problem is None, problem
        return
    assert on_page is not None, "the page accepted the answer"
    assert problem is not None, f"check_json accepted the answer: {values}"
    page_code, page_message = on_page
    assert page_code == row.code
    assert problem["code"] == row.code
    assert page_message == _normalise(problem["message"])
    assert page_message

    field = flow.field(row.field)
    own = Invalid(row.code).flow_message(field)
    if own is not None:
        # The flow's own message, in the page language.
        assert page_message == _normalise(own[lang])
    else:
        # The catalog's message, translated (not the English msgid).
        english = _normalise(fieldtypes.MESSAGES[row.code].split("{")[0])
        assert not page_message.startswith(english), page_message
