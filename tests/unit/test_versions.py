"""Moving a session's answers to a new flow version: what is carried, kept and checked again."""

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wizard.flow.loader import load_text
from wizard.versions import Check, full_mapping, plan_move

TODAY = datetime.date(2027, 3, 1)

V1 = """
id: housing
version: 1
languages: [en]
title: Housing help
steps:
  - id: about
    title: About you
    fields:
      - {id: name, type: text, label: Your name}
      - id: hukou
        type: choice
        label: Household registration
        official: 户籍
        choices:
          - {value: local, label: Shanghai}
          - {value: other, label: Another province}
  - id: permit
    title: Residence permit
    show_if: "hukou == 'other'"
    fields:
      - {id: has_permit, type: yes_no, label: Do you have a residence permit?}
  - id: housing
    title: Your home
    fields:
      - id: home
        type: choice
        label: Where do you live?
        choices:
          - {value: rent, label: Rented}
          - {value: own, label: Owned}
          - {value: family, label: With family}
      - {id: rooms, type: integer, label: How many rooms?, min: 1, max: 20}
  - id: contact
    title: Contact
    fields:
      - {id: phone, type: mobile, label: Mobile number, official: 手机号码}
      - {id: notes, type: textarea, label: Anything else?, required: false}
"""

ANSWERS = {"name": "Li Hua", "hukou": "other", "has_permit": True, "home": "rent", "rooms": 2,
           "phone": "13800138000", "notes": "Ground floor"}


def load(text):
    result = load_text(text, "flow.yaml")
    assert result.flow is not None, "\n".join(map(str, result.errors))
    return result.flow


def v2(*pairs):
    """V1 with each (old, new) replaced, as version 2; each old must be there."""
    text = V1.replace("version: 1", "version: 2")
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return load(text)


def move(new, answers=ANSWERS, mapping=None):
    return plan_move(load(V1), new, answers, mapping, today=TODAY)


def test_the_same_flow_carries_everything_and_asks_nothing():
    result = move(v2())
    assert result.answers == ANSWERS
    assert result.kept == {} and result.to_check == [] and result.changes == []


def test_empty_answers():
    result = move(v2(("id: name,", "id: full_name,")), answers={})
    assert result.answers == {} and result.kept == {} and result.to_check == []
    assert [c.code for c in result.changes] == ["field_renamed"]


def test_a_renamed_field_carries_its_answer():
    result = move(v2(("id: name,", "id: full_name,")))
    assert result.answers["full_name"] == "Li Hua" and "name" not in result.answers
    assert result.kept == {}
    assert result.to_check == []  # same question under a new id: nothing to check


def test_a_mapping_from_staff_wins_and_a_changed_question_is_checked():
    new = v2(("{id: name, type: text, label: Your name}",
              "{id: parent_name, type: text, label: Name of the parent}"))
    result = move(new, mapping={"name": "parent_name"})
    assert result.answers["parent_name"] == "Li Hua"
    assert result.to_check == [Check("about", "parent_name", "changed", "name")]


def test_a_removed_field_is_kept_and_reported():
    new = v2(("      - {id: notes, type: textarea, label: Anything else?, required: false}\n",
              ""))
    result = move(new)
    assert "notes" not in result.answers
    assert result.kept == {"notes": "Ground floor"}
    assert result.to_check == [Check("contact", None, "removed", "notes")]


def test_mapping_to_none_keeps_the_answer():
    result = move(v2(), mapping={"notes": None})
    assert result.kept == {"notes": "Ground floor"} and "notes" not in result.answers


def test_a_removed_choice_the_family_picked_is_kept():
    result = move(v2(("          - {value: rent, label: Rented}\n", "")))
    assert "home" not in result.answers
    assert result.kept == {"home": "rent"}
    assert result.to_check == [Check("housing", "home", "value_dropped")]


def test_a_removed_choice_the_family_did_not_pick_is_a_changed_question():
    result = move(v2(("          - {value: family, label: With family}\n", "")))
    assert result.answers["home"] == "rent"
    assert result.to_check == [Check("housing", "home", "changed")]


def test_a_choice_renamed_by_value_carries_the_new_value():
    result = move(v2(("{value: rent, label: Rented}", "{value: renting, label: Rented}")))
    assert result.answers["home"] == "renting" and result.kept == {}
    assert result.to_check == [Check("housing", "home", "renamed_choice")]


def test_a_choice_renamed_by_label():
    result = move(v2(("{value: rent, label: Rented}", "{value: rent, label: Rented flat}")))
    assert result.answers["home"] == "rent"
    assert result.to_check == [Check("housing", "home", "renamed_choice")]
    # Another choice's new label changes the question, not their answer.
    result = move(v2(("{value: own, label: Owned}", "{value: own, label: Bought}")))
    assert result.to_check == [Check("housing", "home", "changed")]


def test_a_new_required_field_on_a_page_already_passed():
    new = v2(("      - {id: rooms,", "      - {id: district, type: text, label: District}\n"
              "      - {id: rooms,"))
    result = move(new)
    assert result.to_check == [Check("housing", "district", "new_question")]
    # A family that has not gone past that page meets the question in its turn.
    early = {"name": "Li Hua", "hukou": "local", "home": "own"}
    assert move(new, answers=early).to_check == []


def test_no_check_on_a_page_their_answers_hide():
    new = v2(("      - {id: has_permit, type: yes_no, label: Do you have a residence permit?}\n",
              "      - {id: has_permit, type: yes_no, label: Do you have a residence permit?}\n"
              "      - {id: permit_years, type: integer, label: For how many years?}\n"),
             ("label: Do you have a residence permit?", "label: Do you hold a permit?"))
    assert move(new).to_check == [Check("permit", "has_permit", "changed"),
                                  Check("permit", "permit_years", "new_question")]
    local = {**ANSWERS, "hukou": "local"}  # has_permit stays stored, but the page is hidden
    result = move(new, answers=local)
    assert result.to_check == []
    assert result.answers["has_permit"] is True  # hidden answers are carried all the same


def test_a_value_the_new_rules_refuse_is_kept():
    result = move(v2(("min: 1, max: 20", "min: 3, max: 20")))
    assert result.kept == {"rooms": 2}
    assert result.to_check == [Check("housing", "rooms", "value_dropped")]


def test_a_compatible_type_change_carries_the_value():
    result = move(v2(("{id: rooms, type: integer, label: How many rooms?, min: 1, max: 20}",
                      "{id: rooms, type: text, label: How many rooms?}")))
    assert result.answers["rooms"] == "2"
    assert result.to_check == [Check("housing", "rooms", "changed")]


def test_a_type_change_that_would_alter_the_answer_keeps_it():
    answers = {**ANSWERS, "notes": "Ground floor\nBlue door"}
    result = move(v2(("{id: notes, type: textarea,", "{id: notes, type: text,")), answers)
    assert result.kept == {"notes": "Ground floor\nBlue door"}  # text would join the lines
    result = move(v2(("{id: has_permit, type: yes_no,", "{id: has_permit, type: text,")))
    assert result.kept == {"has_permit": True}  # not the text "True"


def test_checks_follow_the_new_flow_order_with_removed_steps_where_they_were():
    new = v2(("  - id: permit\n    title: Residence permit\n    show_if: \"hukou == 'other'\"\n"
              "    fields:\n      - {id: has_permit, type: yes_no, label: Do you have a "
              "residence permit?}\n", ""),
             ("label: Mobile number", "label: Your mobile number"),
             ("label: Your name", "label: Your full name"))
    result = move(new)
    assert result.to_check == [Check("about", "name", "changed"),
                               Check("permit", None, "removed", "has_permit"),
                               Check("contact", "phone", "changed")]
    assert result.kept == {"has_permit": True}


def test_calculated_values_and_stray_keys_are_not_carried():
    flow = load(V1.replace("      - {id: phone,", "      - {id: rooms_twice, type: calculated, "
                           "expr: rooms * 2}\n      - {id: phone,"))
    answers = {**ANSWERS, "rooms_twice": 4, "stray": "x"}
    result = plan_move(flow, flow, answers, today=TODAY)
    assert result.kept == {"rooms_twice": 4, "stray": "x"}
    assert "rooms_twice" not in result.answers


def test_a_bad_mapping_is_refused():
    new = v2(("id: name,", "id: full_name,"))
    with pytest.raises(ValueError, match="not a question of version 2"):
        move(new, mapping={"name": "nobody"})
    with pytest.raises(ValueError, match="both 'name' and 'phone'"):
        move(new, mapping={"phone": "full_name"})
    with pytest.raises(ValueError, match="not a field of version 1"):
        move(new, mapping={"nobody": "full_name"})


V2 = v2(("id: name,", "id: full_name,"),
        ("          - {value: rent, label: Rented}\n", ""),
        ("{value: own, label: Owned}", "{value: owned, label: Owned}"),
        ("      - {id: notes, type: textarea, label: Anything else?, required: false}\n", ""),
        ("min: 1, max: 20", "min: 2, max: 6"),
        ("{id: has_permit, type: yes_no,", "{id: has_permit, type: text,"))
OLD = load(V1)
MAPPINGS = [None, {"name": None}, {"phone": None, "home": None}]
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 30), st.text(max_size=6),
                   st.sampled_from(["rent", "own", "family", "local", "other", "13800138000"]),
                   st.lists(st.sampled_from(["rent", "own", "x"]), max_size=3))
OLD_IDS = ["name", "hukou", "has_permit", "home", "rooms", "phone", "notes", "stray"]


@settings(max_examples=200, deadline=None)
@given(answers=st.dictionaries(st.sampled_from(OLD_IDS), VALUES),
       mapping=st.sampled_from(MAPPINGS))
def test_nothing_is_lost(answers, mapping):
    result = plan_move(OLD, V2, answers, mapping, today=TODAY)
    full = full_mapping(OLD, V2, mapping)
    for key, value in answers.items():
        if key in result.kept:
            assert result.kept[key] == value  # the original, untouched
        else:
            assert full[key] in result.answers
    assert len(result.answers) + len(result.kept) == len(answers)
    assert len(set(result.to_check)) == len(result.to_check)


MULTI = """
id: needs
version: 1
languages: [en]
title: Needs
steps:
  - id: needs
    title: What do you need?
    fields:
      - id: needs
        type: multichoice
        label: Choose all that apply
        choices:
          - {value: school, label: A school place}
          - {value: clinic, label: A clinic}
          - {value: housing, label: Housing}
"""


def test_multichoice_answers_carry_what_is_still_offered():
    old = load(MULTI)
    answers = {"needs": ["school", "clinic"]}
    reordered = load(MULTI.replace(
        "          - {value: school, label: A school place}\n", "").replace(
        "          - {value: housing, label: Housing}\n",
        "          - {value: housing, label: Housing}\n"
        "          - {value: school, label: A school place}\n"))
    result = plan_move(old, reordered, answers, today=TODAY)
    assert result.answers == {"needs": ["clinic", "school"]}  # in the new order of choices
    assert result.to_check == []  # a new order is not a new question
    fewer = load(MULTI.replace("          - {value: clinic, label: A clinic}\n", ""))
    result = plan_move(old, fewer, answers, today=TODAY)
    # The pick still offered is carried; only the one that went is kept on record.
    assert result.answers == {"needs": ["school"]} and result.kept == {"needs": ["clinic"]}
    assert result.to_check == [Check("needs", "needs", "changed")]
    # Nothing still offered: the whole answer is kept, and the family answers again.
    none_left = load(MULTI.replace("          - {value: clinic, label: A clinic}\n", "")
                     .replace("          - {value: school, label: A school place}\n", ""))
    result = plan_move(old, none_left, answers, today=TODAY)
    assert result.answers == {} and result.kept == answers
    assert result.to_check == [Check("needs", "needs", "value_dropped")]


def test_a_single_choice_becomes_a_one_item_list():
    new = v2(("      - id: home\n        type: choice",
              "      - id: home\n        type: multichoice"))
    result = move(new)
    assert result.answers["home"] == ["rent"]
    assert result.to_check == [Check("housing", "home", "changed")]
