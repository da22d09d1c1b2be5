"""The engine: visible steps, navigation, progress, review, missing answers, completion."""

import datetime

from wizard import engine

TODAY = datetime.date(2027, 3, 1)
LOCAL = {"child_dob": "2023-10-01", "hukou": "shanghai", "mobile": "13800138000"}
NON_LOCAL = {**LOCAL, "hukou": "other", "has_permit": True, "points": 130}


def ids(steps):
    return [s.id for s in steps]


def test_visible_steps_follow_the_branch(branching):
    j = engine.journey(branching, LOCAL, TODAY)
    assert ids(j.steps) == ["birth", "hukou", "contact", "documents", "apply"]
    j = engine.journey(branching, NON_LOCAL, TODAY)
    assert ids(j.steps) == ["birth", "hukou", "permit", "permit-points", "contact", "documents",
                            "apply"]


def test_progress_is_recomputed_when_a_branch_changes(branching):
    j = engine.journey(branching, NON_LOCAL, TODAY)
    assert engine.progress(j, "contact") == (5, 7)
    j = engine.journey(branching, {**NON_LOCAL, "has_permit": False}, TODAY)
    assert engine.progress(j, "contact") == (4, 6)
    j = engine.journey(branching, {**NON_LOCAL, "hukou": "shanghai"}, TODAY)
    assert engine.progress(j, "contact") == (3, 5)


def test_next_and_previous(branching):
    j = engine.journey(branching, LOCAL, TODAY)
    assert engine.next_step(j, "hukou").id == "contact"
    assert engine.previous_step(j, "contact").id == "hukou"
    assert engine.previous_step(j, "birth") is None
    assert engine.next_step(j, "apply") is None  # then the review page
    # From a step that a changed answer hid: on to the next visible one.
    assert engine.next_step(j, "permit").id == "contact"


def test_branch_switch_keeps_hidden_answers_out_of_review_and_export(branching):
    answers = {**NON_LOCAL, "hukou": "shanghai"}  # permit answers stay stored
    j = engine.journey(branching, answers, TODAY)
    shown = {row.field.id for group in engine.review(j, answers) for row in group.rows}
    assert "has_permit" not in shown and "points" not in shown
    assert "hukou" in shown
    exported = engine.visible_answers(j, answers)
    assert "has_permit" not in exported and "points" not in exported
    assert answers["has_permit"] is True  # kept, not deleted
    # And switching back brings them back without asking again.
    j = engine.journey(branching, {**answers, "hukou": "other"}, TODAY)
    assert engine.visible_answers(j, {**answers, "hukou": "other"})["points"] == 130


def test_hidden_answers_do_not_feed_later_conditions(branching):
    answers = {**NON_LOCAL, "hukou": "shanghai"}  # has_permit True but its step is hidden
    j = engine.journey(branching, answers, TODAY)
    assert not j.is_visible("permit-points")
    documents = j.flow.step("documents").fields[0]
    assert [c.value for c in j.choices(documents)] == ["hukou_book"]


def test_checklist_items_follow_conditions(branching):
    j = engine.journey(branching, NON_LOCAL, TODAY)
    documents = j.flow.step("documents").fields[0]
    assert [c.value for c in j.choices(documents)] == ["hukou_book", "permit_card"]


def test_calculated_value(branching):
    j = engine.journey(branching, LOCAL, TODAY)
    assert j.calculated("age_months") == 46  # 2023-10-01 to 2027-08-31
    rows = {row.field.id: row.value for g in engine.review(j, LOCAL) for row in g.rows}
    assert rows["age_months"] == 46


def test_missing_required_answers(branching):
    answers = {"child_dob": "2023-10-01", "hukou": "other"}
    j = engine.journey(branching, answers, TODAY)
    missing = [(p.step.id, p.field.id) for p in engine.missing(j, answers)]
    assert missing == [("permit", "has_permit"), ("contact", "mobile")]
    # Optional answers (points, ID number) and checklists are never "missing".
    assert engine.first_unfinished(j, answers).id == "permit"


def test_completion_revalidates_every_visible_step(branching):
    assert engine.can_complete(engine.journey(branching, LOCAL, TODAY), LOCAL)
    # A value saved earlier that breaks a rule now (e.g. came from another device or an
    # older flow version) blocks completion and names the step.
    bad = {**NON_LOCAL, "points": 5000}
    j = engine.journey(branching, bad, TODAY)
    (problem,) = engine.problems(j, bad)
    assert (problem.step.id, problem.field.id, problem.error.code) == (
        "permit-points", "points", "too_large")
    assert not engine.can_complete(j, bad)
    # A stored choice that the flow no longer offers.
    j = engine.journey(branching, {**LOCAL, "hukou": "mars"}, TODAY)
    assert [p.error.code for p in engine.problems(j, {**LOCAL, "hukou": "mars"})] == [
        "not_a_choice"]
    # A hidden invalid answer does not block.
    hidden_bad = {**LOCAL, "points": 5000}
    assert engine.can_complete(engine.journey(branching, hidden_bad, TODAY), hidden_bad)


def test_read_step_types_values_and_collects_every_error(branching):
    j = engine.journey(branching, LOCAL, TODAY)
    contact = branching.step("contact")
    values, errors = engine.read_step(j, contact, {"mobile": "138 0013 8000", "child_id": ""},
                                      LOCAL)
    assert values == {"mobile": "13800138000", "child_id": None} and errors == {}
    values, errors = engine.read_step(j, contact, {"mobile": "12", "child_id": "123"}, LOCAL)
    assert {k: e.code for k, e in errors.items()} == {"mobile": "mobile_invalid",
                                                       "child_id": "id_length"}
    _, errors = engine.read_step(j, contact, {}, LOCAL)
    assert {k: e.code for k, e in errors.items()} == {"mobile": "required"}


def test_read_step_ignores_fields_that_are_not_on_the_step(branching):
    j = engine.journey(branching, LOCAL, TODAY)
    values, errors = engine.read_step(j, branching.step("hukou"),
                                      {"hukou": "other", "mobile": "x", "evil": "y"}, LOCAL)
    assert values == {"hukou": "other"} and not errors


def test_kindergarten_flow_branches(kindergarten):
    local = {"child_dob": "2024-01-10", "hukou": "shanghai", "district": "pudong",
             "housing": "own"}
    j = engine.journey(kindergarten, local, TODAY)
    assert "parent-permit" not in ids(j.steps)
    other = {**local, "hukou": "other_province", "has_permit": False}
    j2 = engine.journey(kindergarten, other, TODAY)
    assert {"parent-permit", "check-permits"} <= set(ids(j2.steps))
    assert len(j2.steps) > len(j.steps)
    # A child outside the birth window is told what to check, not blocked.
    young = {**local, "child_dob": "2025-01-10"}
    assert "check-age" in ids(engine.journey(kindergarten, young, TODAY).steps)
    assert "check-age" not in ids(j.steps)


def test_answer_sheet_follows_the_official_order_and_lists_the_stages_ahead(kindergarten):
    answers = {"child_dob": "2024-01-10", "hukou": "shanghai", "district": "pudong",
               "housing": "own", "guardian1_relation": "mother",
               "guardian1_mobile": "13800138000", "child_name": "王小明",
               "documents": ["hukou_book"]}
    j = engine.journey(kindergarten, answers, TODAY)
    sheet = engine.answer_sheet(j, answers)
    assert [r.field.id for r in sheet.rows] == [
        "child_name", "child_dob", "hukou", "district", "housing", "guardian1_relation",
        "guardian1_mobile"]  # the optional ID number was not given: not on the sheet
    assert [r.field.id for r in sheet.checklists] == ["documents"]
    assert [s.id for s in sheet.next_steps] == [
        "stage-register", "stage-apply", "stage-admission", "stage-vaccination"]


def test_answer_sheet_without_an_order_keeps_flow_order(branching):
    answers = {**NON_LOCAL, "documents": []}
    j = engine.journey(branching, answers, TODAY)
    sheet = engine.answer_sheet(j, answers)
    assert [r.field.id for r in sheet.rows] == ["child_dob", "hukou", "has_permit", "points",
                                                "mobile"]
    assert [s.id for s in sheet.next_steps] == ["apply"]


def test_a_shown_end_step_ends_the_walkthrough(branching):
    from dataclasses import replace

    # "permit" (shown for another province) becomes an end step: nothing after it is asked,
    # and its page is the last one counted; for Shanghai it is hidden and the rest goes on.
    steps = tuple(replace(s, end=True) if s.id == "permit" else s for s in branching.steps)
    flow = replace(branching, steps=steps)
    j = engine.journey(flow, {"child_dob": "2023-01-01", "hukou": "other"},
                       datetime.date(2027, 3, 1))
    assert ids(j.steps) == ["birth", "hukou", "permit"]
    assert engine.next_step(j, "permit") is None
    assert engine.progress(j, "permit") == (3, 3)
    # From the first page the later pages are not settled yet: the total may only shrink.
    first, total = engine.progress(j, "birth")
    assert first == 1 and total >= 3
    local = engine.journey(flow, {"child_dob": "2023-01-01", "hukou": "shanghai"},
                           datetime.date(2027, 3, 1))
    assert "contact" in ids(local.steps) and "permit" not in ids(local.steps)
