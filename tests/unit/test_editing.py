"""The studio editor's document operations: each edit gives a flow the loader accepts, keeps
comments and layout, and refuses what it cannot do with a short sentence."""

import difflib
import re
from pathlib import Path

import pytest

from wizard.flow import conditions, editing, loader
from wizard.flow.editing import EditError

ROOT = Path(__file__).resolve().parent.parent.parent
KG = (ROOT / "flows" / "kindergarten-shanghai.yaml").read_text("utf-8")
EVERY = (ROOT / "tests" / "flows" / "every_type.yaml").read_text("utf-8")
BRANCHING = (ROOT / "tests" / "flows" / "branching.yaml").read_text("utf-8")

TWO_LANGS = """\
# A small flow for the editor tests.
id: small
version: 1
languages: [zh_Hans, en]
title: {zh_Hans: 小流程, en: Small flow}
steps:
  # The first step asks one thing.
  - id: first
    title: 第一步
    fields:
      - id: name
        type: text
        label: {zh_Hans: 姓名, en: Name}

  - id: second
    title: {zh_Hans: 第二步, en: Second}
    fields:
      - id: kind
        type: choice
        label: 哪种
        choices:
          - {value: a, label: 甲}
          - {value: b, label: 乙}
"""


def check(doc_or_text, allow_warnings=True):
    """The flow text the edit gave, after checking that the loader accepts it."""
    text = doc_or_text if isinstance(doc_or_text, str) else editing.dump(doc_or_text)
    result = loader.load_text(text, "x")
    assert [str(p) for p in result.errors] == []
    if not allow_warnings:
        assert [str(p) for p in result.warnings] == []
    return text


def changed_lines(before, after):
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), n=0,
                                                  lineterm="")
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def small():
    return editing.load(TWO_LANGS)


# ---------------------------------------------------------------- load, dump, starter


def test_load_and_dump_are_lossless():
    for text in (KG, EVERY, BRANCHING, TWO_LANGS):
        assert editing.dump(editing.load(text)) == text
    check(TWO_LANGS)


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "", "a: [1\n", 'a: "x\n'])
def test_load_refuses_what_is_not_a_mapping(text):
    with pytest.raises(EditError):
        editing.load(text)


@pytest.mark.parametrize("lang, title", [("zh_Hans", "幼儿园登记"), ("en", "It's \"new\": yes"),
                                         ("ug", "يېڭى"), ("zh_Hant", "a\nb")])
def test_starter_is_a_clean_flow(lang, title):
    text = editing.starter("new-flow", title, lang)
    assert text.startswith("# ")
    check(text, allow_warnings=False)
    flow = loader.load_text(text, "x").flow
    assert flow.id == "new-flow" and flow.version == 1 and flow.languages == (lang,)
    assert flow.title[lang] == " ".join(title.split())
    assert [f.type for f in flow.steps[0].fields] == ["text"]


@pytest.mark.parametrize("flow_id, title, lang", [("New", "t", "en"), ("a_b", "t", "en"),
                                                  ("ok", "", "en"), ("ok", "t", "EN"),
                                                  ("ok", "t", "")])
def test_starter_refuses_bad_input(flow_id, title, lang):
    with pytest.raises(EditError):
        editing.starter(flow_id, title, lang)


# ---------------------------------------------------------------- steps


def test_add_step_then_field_is_valid_and_positions_work():
    doc = small()
    editing.add_step(doc, "middle", "question", "中间", "zh_Hans", position=1)
    editing.add_field(doc, "middle", "age", "integer", "年龄", "zh_Hans")
    assert editing.step_ids(doc) == ["first", "middle", "second"]
    editing.add_step(doc, "last", "instruction", "Last", "en")
    editing.set_step(doc, "last", {"body": "做**这个**", "title": "最后"}, "zh_Hans")
    editing.add_step(doc, "top", "question", "Top", "en", position=-5)  # clamped to 0
    editing.add_field(doc, "top", "top_q", "yes_no", "Top?", "en")
    assert editing.step_ids(doc) == ["top", "first", "middle", "second", "last"]
    text = check(doc)
    assert "# The first step asks one thing." in text
    assert editing.step_values(doc, "top", "en")["title"] == "Top"


def test_add_checklist_step_with_items():
    doc = small()
    editing.add_step(doc, "papers", "checklist", "材料", "zh_Hans")
    editing.add_item(doc, "papers", "passport", "护照", "zh_Hans", official="护照")
    editing.add_item(doc, "papers", "hukou_book", "户口本", "zh_Hans", position=0)
    editing.set_item(doc, "papers", "passport", {"show_if": "kind == 'a'", "hint": "原件"},
                     "zh_Hans")
    editing.move_item(doc, "papers", "passport", -1)
    assert editing.step_values(doc, "papers", "zh_Hans")["items"] == ["passport", "hukou_book"]
    assert editing.item_values(doc, "papers", "passport", "zh_Hans")["hint"] == "原件"
    check(doc)
    # The checklist's answer (papers) counts as a field id now.
    assert "papers" in editing.field_ids(doc)
    with pytest.raises(EditError, match="already a field"):
        editing.add_field(doc, "first", "papers", "text", "x", "zh_Hans")
    editing.remove_item(doc, "papers", "passport")
    with pytest.raises(EditError, match="no item"):
        editing.remove_item(doc, "papers", "passport")
    with pytest.raises(EditError, match="only a checklist"):
        editing.add_item(doc, "first", "x", "x", "zh_Hans")
    check(doc)


@pytest.mark.parametrize("step_id, kind", [("first", "question"), ("Bad", "question"),
                                           ("a_b", "question"), ("review", "question"),
                                           ("1st", "question"), ("ok", "quiz"), ("", "question")])
def test_add_step_refuses(step_id, kind):
    with pytest.raises(EditError):
        editing.add_step(small(), step_id, kind, "t", "zh_Hans")


def test_add_step_refuses_an_unknown_language_and_an_empty_title():
    with pytest.raises(EditError, match="languages"):
        editing.add_step(small(), "new", "question", "t", "fr")
    with pytest.raises(EditError, match="title"):
        editing.add_step(small(), "new", "question", "  ", "zh_Hans")


def test_move_step_clamps_and_round_trips_the_kindergarten_file():
    doc = small()
    editing.move_step(doc, "first", -1)
    assert editing.step_ids(doc) == ["first", "second"]
    editing.move_step(doc, "first", 1)
    assert editing.step_ids(doc) == ["second", "first"]
    editing.move_step(doc, "first", 5)
    assert editing.step_ids(doc) == ["second", "first"]
    # Moving a step down and up again gives the file back byte for byte: blank lines and the
    # section comments between steps stay where they were.
    ids = editing.step_ids(editing.load(KG))
    for step_id in ids[1:-1]:
        for delta in (-1, 1):
            doc = editing.load(KG)
            editing.move_step(doc, step_id, delta)
            editing.move_step(doc, step_id, -delta)
            assert editing.dump(doc) == KG, (step_id, delta)


def test_remove_step_keeps_the_comment_heading_the_next_step():
    doc = editing.load(KG)
    editing.remove_step(doc, "child-details")  # its answers are used by the answer sheet
    text = editing.dump(doc)
    assert "# 5. Documents ---" in text
    assert "child_name" not in editing.load(text).get("answer_sheet")
    doc = editing.load(EVERY)
    editing.remove_step(doc, "room")
    assert changed_lines(EVERY, editing.dump(doc))[0] == "-"  # the blank line above it
    assert all(line.startswith("-") for line in changed_lines(EVERY, editing.dump(doc)))


def test_remove_step_refusals():
    doc = small()
    with pytest.raises(EditError, match="no step 'nope'"):
        editing.remove_step(doc, "nope")
    editing.remove_step(doc, "second")
    with pytest.raises(EditError, match="at least one step"):
        editing.remove_step(doc, "first")
    check(doc)


def test_step_values_names_every_schema_key():
    values = editing.step_values(editing.load(KG), "check-hukou-other", "en")
    assert set(values) == set(editing.STEP_KEYS) | {"fields", "items"}
    assert set(editing.STEP_KEYS) == {"id", "kind", "title", "body", "image", "image_alt",
                                      "show_if", "end"}
    assert values["kind"] == "instruction"
    assert values["title"] == "Your family needs different papers"
    assert values["show_if"] == "hukou in ['hk_mo_tw', 'foreign']"
    assert values["image"] == ""
    assert editing.step_values(small(), "first", "en")["title"] == ""  # no English text yet
    assert editing.step_values(small(), "first", "zh_Hans")["kind"] == "question"


def test_set_step_text_in_another_language_makes_a_mapping():
    doc = small()
    editing.set_step(doc, "first", {"title": "First"}, "en")
    step = doc["steps"][0]
    assert dict(step["title"]) == {"zh_Hans": "第一步", "en": "First"}
    editing.set_step(doc, "first", {"title": "第 1 步"}, "zh_Hans")
    assert dict(step["title"]) == {"zh_Hans": "第 1 步", "en": "First"}
    editing.set_step(doc, "first", {"title": ""}, "en")  # removes the English text only
    assert dict(step["title"]) == {"zh_Hans": "第 1 步"}
    text = check(doc)
    assert "# The first step asks one thing." in text


def test_set_step_plain_text_in_the_default_language_stays_plain():
    doc = small()
    editing.set_step(doc, "first", {"title": "新标题"}, "zh_Hans")
    assert doc["steps"][0]["title"] == "新标题"
    assert changed_lines(TWO_LANGS, editing.dump(doc)) == ["-    title: 第一步",
                                                           "+    title: 新标题"]


def test_set_step_empty_texts_remove_keys_and_the_default_title_is_required():
    doc = small()
    editing.set_step(doc, "second", {"body": "说明", "image": "img/a.png", "image_alt": "图"},
                     "zh_Hans")
    editing.set_step(doc, "second", {"body": "Notes\n\nline **two**"}, "en")
    check(doc)
    editing.set_step(doc, "second", {"body": "", "image": "", "image_alt": None}, "zh_Hans")
    assert dict(doc["steps"][1]["body"]) == {"en": "Notes\n\nline **two**"}
    assert "image" not in doc["steps"][1] and "image_alt" not in doc["steps"][1]
    editing.set_step(doc, "second", {"body": ""}, "en")
    assert "body" not in doc["steps"][1]
    with pytest.raises(EditError, match="needs a title"):
        editing.set_step(doc, "second", {"title": ""}, "zh_Hans")
    with pytest.raises(EditError, match="has no"):
        editing.set_step(doc, "second", {"colour": "red"}, "zh_Hans")
    check(doc)


def test_set_step_multiline_text_is_a_block():
    doc = small()
    editing.set_step(doc, "second", {"title": "Second", "body": "a\r\n\r\n- b\r\n- c"}, "en")
    text = check(doc)
    assert "en: |-\n" in text
    flow = loader.load_text(text).flow
    assert flow.steps[1].body == {"en": "a\n\n- b\n- c"}


def test_set_step_show_if_and_kind():
    doc = small()
    editing.set_step(doc, "second", {"show_if": "name == '张三'"}, "zh_Hans")
    assert editing.step_values(doc, "second", "zh_Hans")["show_if"] == "name == '张三'"
    # show_if goes above the fields, where authors put it
    assert list(doc["steps"][1]).index("show_if") < list(doc["steps"][1]).index("fields")
    check(doc)
    with pytest.raises(EditError, match="remove the step's fields"):
        editing.set_step(doc, "second", {"kind": "instruction"}, "zh_Hans")
    with pytest.raises(EditError, match="unknown step kind"):
        editing.set_step(doc, "second", {"kind": "other"}, "zh_Hans")
    editing.add_step(doc, "info", "instruction", "说明", "zh_Hans")
    editing.set_step(doc, "info", {"body": "读一读"}, "zh_Hans")
    check(doc)
    editing.set_step(doc, "info", {"kind": "question"}, "zh_Hans")
    assert "kind" not in doc["steps"][2]


def test_rename_step_checks_ids_and_renames_a_checklist_answer():
    doc = small()
    editing.set_step(doc, "second", {"id": "choose"}, "zh_Hans")
    assert editing.step_ids(doc) == ["first", "choose"]
    with pytest.raises(EditError, match="already a step"):
        editing.set_step(doc, "choose", {"id": "first"}, "zh_Hans")
    with pytest.raises(EditError, match="not a valid step id"):
        editing.set_step(doc, "choose", {"id": "Choose!"}, "zh_Hans")
    editing.add_step(doc, "my-papers", "checklist", "材料", "zh_Hans")
    editing.add_item(doc, "my-papers", "passport", "护照", "zh_Hans")
    editing.add_step(doc, "after", "instruction", "然后", "zh_Hans")
    editing.set_step(doc, "after", {"body": "好", "show_if": "count(my_papers) > 0"}, "zh_Hans")
    check(doc)
    editing.set_step(doc, "my-papers", {"id": "papers"}, "zh_Hans")
    assert doc["steps"][3]["show_if"] == "count(papers) > 0"
    check(doc)


# ---------------------------------------------------------------- fields


def test_field_ids_are_unique_in_the_whole_flow():
    doc = small()
    with pytest.raises(EditError, match="already a field 'name'"):
        editing.add_field(doc, "second", "name", "text", "x", "zh_Hans")
    for bad in ("Name", "my-name", "1a", "", "a" * 64, "data", "errors"):
        with pytest.raises(EditError):
            editing.add_field(doc, "second", bad, "text", "x", "zh_Hans")
    with pytest.raises(EditError, match="no step"):
        editing.add_field(doc, "third", "x", "text", "x", "zh_Hans")
    with pytest.raises(EditError, match="unknown field type"):
        editing.add_field(doc, "second", "x", "checklist", "x", "zh_Hans")
    with pytest.raises(EditError, match="needs a label"):
        editing.add_field(doc, "second", "x", "text", "", "zh_Hans")
    with pytest.raises(EditError, match="already a field 'kind'"):
        editing.set_field(doc, "first", "name", {"id": "kind"}, "zh_Hans")
    editing.add_step(doc, "info", "instruction", "说明", "zh_Hans")
    with pytest.raises(EditError, match="only a question step"):
        editing.add_field(doc, "info", "x", "text", "x", "zh_Hans")


@pytest.mark.parametrize("ftype", editing.FIELD_TYPES)
def test_add_field_of_every_type(ftype):
    doc = small()
    editing.add_field(doc, "second", "new_one", ftype, "新问题", "zh_Hans", position=0)
    if ftype in ("choice", "multichoice"):
        editing.add_choice(doc, "second", "new_one", "x", "X", "zh_Hans")
    if ftype == "calculated":
        editing.set_field(doc, "second", "new_one", {"expr": "count(name)"}, "zh_Hans")
    assert editing.field_ids(doc) == ["name", "new_one", "kind"]
    check(doc)


def test_move_and_remove_field():
    doc = small()
    editing.add_field(doc, "second", "extra", "textarea", "备注", "zh_Hans")
    editing.move_field(doc, "second", "extra", -1)
    editing.move_field(doc, "second", "extra", -1)  # clamped
    assert editing.step_values(doc, "second", "zh_Hans")["fields"] == ["extra", "kind"]
    editing.remove_field(doc, "second", "extra")
    check(doc)
    editing.remove_field(doc, "first", "name")
    assert "fields" not in doc["steps"][0]  # the loader then says it needs fields
    assert "needs 'fields'" in str(loader.load_text(editing.dump(doc)).errors[0])
    with pytest.raises(EditError, match="no field"):
        editing.remove_field(doc, "first", "name")


def test_field_values_names_every_schema_key():
    values = editing.field_values(editing.load(EVERY), "room", "room", "en")
    assert set(values) == set(editing.FIELD_KEYS) | {"choices"}
    assert {"type", "required", "label", "hint", "help", "official", "min", "max", "min_length",
            "max_length", "pattern", "required_message", "range_message", "length_message",
            "pattern_message", "places", "show_if", "expr", "unit", "birth_date_field",
            "script"} <= set(editing.FIELD_KEYS)
    assert values["min_length"] == "2" and values["pattern"] == "[0-9]+"
    assert values["required"] is True
    assert values["required_message"] == "Enter the room number"
    dob = editing.field_values(editing.load(EVERY), "birth", "child_dob", "zh_Hans")
    assert dob["min"] == "2020-01-01" and dob["max"] == "today"
    kg = editing.load(KG)
    assert editing.field_values(kg, "child-details", "child_id", "en")["required"] is False
    assert editing.field_values(kg, "hukou", "hukou", "en")["choices"][0] == "shanghai"


def test_set_field_converts_form_text():
    doc = small()
    editing.add_field(doc, "second", "age", "integer", "年龄", "zh_Hans")
    editing.set_field(doc, "second", "age", {"min": "0", "max": " 7 ", "required": "false",
                                             "range_message": "0 到 7"}, "zh_Hans")
    field = doc["steps"][1]["fields"][1]
    assert field["min"] == 0 and field["max"] == 7 and field["required"] is False
    check(doc)
    editing.set_field(doc, "second", "age", {"type": "decimal", "places": "2", "max": "7.5",
                                             "required": "on"}, "zh_Hans")
    assert field["places"] == 2 and field["max"] == 7.5 and "required" not in field
    check(doc)
    editing.add_field(doc, "second", "when", "date", "日期", "zh_Hans")
    editing.set_field(doc, "second", "when", {"min": "2027-04-29", "max": "today"}, "zh_Hans")
    flow = loader.load_text(check(doc)).flow
    when = flow.steps[1].fields[2]
    assert (when.min, when.max) == ("2027-04-29", "today")
    editing.set_field(doc, "first", "name", {"min_length": "2", "max_length": "20",
                                             "pattern": "[^0-9]+", "official": "姓名"}, "zh_Hans")
    assert doc["steps"][0]["fields"][0]["max_length"] == 20
    check(doc)
    for values in ({"min": "seven"}, {"min_length": "2.5"}, {"required": "maybe"}):
        with pytest.raises(EditError):
            editing.set_field(doc, "second", "age", values, "zh_Hans")
    with pytest.raises(EditError, match="date"):
        editing.set_field(doc, "second", "when", {"min": "29/04/2027"}, "zh_Hans")
    editing.set_field(doc, "first", "name", {"pattern": "", "min_length": None}, "zh_Hans")
    assert "pattern" not in doc["steps"][0]["fields"][0]
    check(doc)


def test_set_field_type_change_drops_what_does_not_apply():
    doc = small()
    editing.set_field(doc, "first", "name", {"max_length": "10", "hint": "全名"}, "zh_Hans")
    dropped = editing.set_field(doc, "first", "name", {"type": "integer"}, "zh_Hans")
    assert dropped == ["max_length"]
    assert editing.field_values(doc, "first", "name", "zh_Hans")["hint"] == "全名"
    check(doc)
    with pytest.raises(EditError, match="remove the choices"):
        editing.set_field(doc, "second", "kind", {"type": "text"}, "zh_Hans")
    assert editing.set_field(doc, "second", "kind", {"type": "multichoice"}, "zh_Hans") == []
    check(doc)
    with pytest.raises(EditError, match="unknown field type"):
        editing.set_field(doc, "second", "kind", {"type": ""}, "zh_Hans")


def test_required_is_written_only_when_it_differs_from_the_default():
    doc = small()
    editing.set_field(doc, "first", "name", {"required": True}, "zh_Hans")
    assert editing.dump(doc) == TWO_LANGS
    editing.set_field(doc, "first", "name", {"required": False}, "zh_Hans")
    assert doc["steps"][0]["fields"][0]["required"] is False
    editing.set_field(doc, "first", "name", {"required": "1"}, "zh_Hans")
    assert editing.dump(doc) == TWO_LANGS


def test_rename_field_updates_every_reference():
    doc = editing.load(KG)
    assert "answer_sheet" in editing.uses(doc, "hukou")
    assert sum(path.endswith("show_if") for path in editing.uses(doc, "hukou")) > 10
    editing.set_field(doc, "hukou", "hukou", {"id": "residence"}, "en")
    editing.set_field(doc, "child-birth", "child_dob", {"id": "birth_date"}, "en")
    text = check(doc)
    assert "hukou ==" not in text and "residence == 'other_province'" in text
    assert "resume_fact: birth_date" in text and "birth_date_field: birth_date" in text
    assert "age_months(birth_date, data.cutoff)" in text
    assert editing.uses(doc, "hukou") == []
    # data.b and a function named like the answer are not touched; its arguments are
    assert editing._rename_in_expression("a.b + b(b) + b", "b", "c") == "a.b + b(c) + c"


def test_an_edit_changes_only_its_own_lines_and_keeps_comments():
    doc = editing.load(KG)
    editing.set_field(doc, "child-details", "child_id", {"hint": "18 characters"}, "en")
    text = check(doc)
    assert changed_lines(KG, text) == ['-          en: "18 characters; the last may be X"',
                                       '+          en: "18 characters"']
    # the comment above show_if in that field, and every other comment, are still there
    comments = [line for line in KG.splitlines() if line.strip().startswith("#")]
    assert comments == [line for line in text.splitlines() if line.strip().startswith("#")]


def test_a_whole_form_posted_unchanged_changes_nothing():
    for source, step_id in ((KG, "check-hukou-other"), (EVERY, "birth"), (TWO_LANGS, "first")):
        doc = editing.load(source)
        for lang in doc["languages"]:
            values = editing.step_values(doc, step_id, lang)
            del values["fields"], values["items"]
            editing.set_step(doc, step_id, values, lang)
            for field_id in editing.step_values(doc, step_id, lang)["fields"]:
                fv = editing.field_values(doc, step_id, field_id, lang)
                del fv["choices"]
                editing.set_field(doc, step_id, field_id, fv, lang)
        assert editing.dump(doc) == source


def test_removing_a_key_keeps_the_comment_below_it():
    extra = "        type: text\n        hint: 提示\n        # about the label\n"
    source = TWO_LANGS.replace("        type: text\n", extra)
    doc = editing.load(source)
    editing.set_field(doc, "first", "name", {"hint": ""}, "zh_Hans")
    assert "# about the label" in editing.dump(doc)
    check(doc)


# ---------------------------------------------------------------- choices


def test_choices():
    doc = small()
    editing.add_choice(doc, "second", "kind", "c", "丙", "zh_Hans", official="丙类")
    editing.add_choice(doc, "second", "kind", "no", "没有", "zh_Hans", position=0)
    editing.move_choice(doc, "second", "kind", "c", -1)
    assert editing.field_values(doc, "second", "kind", "zh_Hans")["choices"] == \
        ["no", "a", "c", "b"]
    editing.set_choice(doc, "second", "kind", "c", {"label": "C", "hint": "the third"}, "en")
    editing.set_choice(doc, "second", "kind", "a", {"value": "alpha", "official": ""}, "zh_Hans")
    values = editing.choice_values(doc, "second", "kind", "c", "en")
    assert values == {"value": "c", "label": "C", "official": "丙类", "hint": "the third",
                      "help": "", "show_if": ""}
    assert editing.choice_values(doc, "second", "kind", "c", "zh_Hans")["label"] == "丙"
    text = check(doc)
    flow = loader.load_text(text).flow
    assert [c.value for c in flow.steps[1].fields[0].choices] == ["no", "alpha", "c", "b"]
    editing.remove_choice(doc, "second", "kind", "b")
    check(doc)
    with pytest.raises(EditError, match="already a choice value 'c'"):
        editing.add_choice(doc, "second", "kind", "c", "x", "zh_Hans")
    with pytest.raises(EditError, match="already a choice value 'c'"):
        editing.set_choice(doc, "second", "kind", "no", {"value": "c"}, "zh_Hans")
    with pytest.raises(EditError, match="not a valid choice value"):
        editing.add_choice(doc, "second", "kind", "Big one", "x", "zh_Hans")
    with pytest.raises(EditError, match="no choice"):
        editing.set_choice(doc, "second", "kind", "zzz", {"label": "x"}, "zh_Hans")
    # A choice may be offered only for some answers (its condition is the loader's to check).
    editing.set_choice(doc, "second", "kind", "c", {"show_if": "name"}, "zh_Hans")
    assert editing.choice_values(doc, "second", "kind", "c", "zh_Hans")["show_if"] == "name"
    with pytest.raises(EditError, match="only choice and multichoice"):
        editing.add_choice(doc, "first", "name", "x", "x", "zh_Hans")
    with pytest.raises(EditError, match="needs a label"):
        editing.set_choice(doc, "second", "kind", "c", {"label": ""}, "zh_Hans")
    for value in ("no", "alpha", "c"):
        editing.remove_choice(doc, "second", "kind", value)
    assert "choices" not in doc["steps"][1]["fields"][0]


# ---------------------------------------------------------------- hostile texts


HOSTILE = ["yes", "no", "on", "off", "true", "null", "~", "2027-04-29", "1:20", "0777", "12",
           "it's", 'say "hi"', "back\\slash", "a: b", "- item", "# not a comment", "{x}",
           "[y]", "&anchor", "*alias", "!tag", "%percent", "@at", "`tick`", "中文：引号“”",
           "  padded  ", "tab\there", "a\nb\n\nc", "ug: ئۇيغۇر"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_texts_are_written_so_the_loader_reads_them_back(value):
    doc = small()
    editing.set_step(doc, "first", {"title": value}, "en")
    editing.set_field(doc, "first", "name", {"label": value, "official": value}, "zh_Hans")
    editing.add_choice(doc, "second", "kind", "c", value, "zh_Hans", official=value)
    flow = loader.load_text(check(doc)).flow
    expected = value.strip()
    assert flow.steps[0].title["en"] == expected
    assert flow.steps[0].fields[0].label["zh_Hans"] == expected
    assert flow.steps[0].fields[0].official == expected
    assert flow.steps[1].fields[0].choices[2].label == {"zh_Hans": expected}


def test_a_choice_value_no_stays_text():
    doc = small()
    editing.add_choice(doc, "second", "kind", "no", "不", "zh_Hans")
    editing.add_choice(doc, "second", "kind", "yes", "是", "zh_Hans")
    editing.add_step(doc, "third", "instruction", "三", "zh_Hans")
    editing.set_step(doc, "third", {"body": "好",
                                    "show_if": editing.simple_condition("kind", "equals", "no")},
                     "zh_Hans")
    flow = loader.load_text(check(doc)).flow
    assert [c.value for c in flow.steps[1].fields[0].choices][2:] == ["no", "yes"]


# ---------------------------------------------------------------- the condition builder

CONDITION_FLOW = """\
id: cond
version: 1
languages: [en]
title: Conditions
steps:
  - id: ask
    title: Ask
    fields:
      - {id: city, type: text, label: City}
      - {id: age, type: integer, label: Age}
      - {id: price, type: decimal, label: Price}
      - {id: born, type: date, label: Born}
      - {id: permit, type: yes_no, label: Permit?}
      - id: hukou
        type: choice
        label: Hukou
        choices:
          - {value: shanghai, label: Shanghai}
          - {value: other, label: Other}
      - id: papers
        type: multichoice
        label: Papers
        choices:
          - {value: passport, label: Passport}
          - {value: lease, label: Lease}
  - id: then
    kind: instruction
    title: Then
    body: Done.
"""

CASES = [
    ("city", "equals", "上海", "text"),
    ("city", "not_equals", "it's \"odd\" \\ 中文", "text"),
    ("city", "equals", "12", "text"),
    ("city", "is_one_of", "北京, 上海, O'Hare", "text"),
    ("hukou", "equals", "shanghai", "choice"),
    ("hukou", "is_one_of", "shanghai, other", "choice"),
    ("papers", "includes", "lease", "multichoice"),
    ("age", "equals", "3", "integer"),
    ("age", "not_equals", "-4", "integer"),
    ("age", "is_one_of", "3, 4, 5", "integer"),
    ("age", "at_least", "3", "integer"),
    ("price", "at_most", "2.5", "decimal"),
    ("born", "at_least", "2023-09-01", "date"),
    ("born", "at_most", "2024-08-31", "date"),
    ("city", "answered", "", "text"),
    ("city", "not_answered", "", "text"),
    ("permit", "yes", "", "yes_no"),
    ("permit", "no", "", "yes_no"),
]


@pytest.mark.parametrize("field_id, op, value, ftype", CASES)
def test_simple_condition_round_trips_and_compiles_in_the_loader(field_id, op, value, ftype):
    source = editing.simple_condition(field_id, op, value, ftype)
    assert editing.parse_simple(source) == (field_id, op, value)
    doc = editing.load(CONDITION_FLOW)
    editing.set_step(doc, "then", {"show_if": source}, "en")
    flow = loader.load_text(check(doc)).flow
    assert flow.steps[1].show_if_source == source


def test_simple_conditions_mean_what_they_say():
    def holds(field_id, op, value, answers, ftype=None):
        rule = conditions.compile_expression(editing.simple_condition(field_id, op, value, ftype))
        return conditions.truthy(conditions.evaluate(rule, answers))

    hostile = "it's \"odd\" \\ 中文"
    assert holds("city", "equals", hostile, {"city": hostile}, "text")
    assert not holds("city", "equals", hostile, {"city": hostile + "x"}, "text")
    assert holds("city", "equals", "12", {"city": "12"}, "text")  # text, not the number 12
    assert holds("age", "equals", "3", {"age": 3}, "integer")
    assert holds("age", "equals", "007", {"age": 7}, "integer")
    assert holds("city", "is_one_of", "a, b", {"city": "b"}, "text")
    assert holds("papers", "includes", "lease", {"papers": ["passport", "lease"]})
    assert holds("permit", "yes", "", {"permit": True})
    assert not holds("permit", "no", "", {})  # not answered is not "no"
    assert holds("permit", "no", "", {"permit": False})
    assert holds("city", "answered", "", {"city": "x"})
    assert holds("city", "not_answered", "", {})
    assert holds("born", "at_least", "2023-09-01", {"born": "2023-09-01"}, "date")
    assert not holds("born", "at_least", "2023-09-01", {"born": "2023-08-31"}, "date")
    assert holds("price", "at_most", "2.5", {"price": "2.50"}, "decimal")


@pytest.mark.parametrize("args", [("Bad", "equals", "x"), ("a", "equals", ""),
                                  ("a", "is_one_of", " , "), ("a", "at_least", "three"),
                                  ("a", "at_most", "2027-02-30"), ("a", "like", "x"),
                                  ("a", "equals", "2027-02-30")])
def test_simple_condition_refuses(args):
    with pytest.raises(EditError):
        editing.simple_condition(*args)


@pytest.mark.parametrize("source", [
    "hukou == 'a' and age > 3", "age > 3", "not permit", "permit", "age == data.x",
    "city == 'a,b' or city == 'c'", "city in ['a,b', 'c']", "3 == age", "age == [3]",
    "count(papers) >= 2", "age == 1e20", "x ==", "", "city != true", "age >= null"])
def test_parse_simple_leaves_other_expressions_to_the_text_box(source):
    assert editing.parse_simple(source) is None


def test_parse_simple_reads_equivalent_spellings():
    assert editing.parse_simple('city == "上海"') == ("city", "equals", "上海")
    assert editing.parse_simple("  hukou  in  ['a','b'] ") == ("hukou", "is_one_of", "a, b")
    assert editing.parse_simple("has_permit == True") == ("has_permit", "yes", "")
    # '3' is text: the builder makes it again for a text field (field_type="text")
    assert editing.parse_simple("age == '3'") == ("age", "equals", "3")
    assert editing.simple_condition("age", "equals", "3", "text") == "age == '3'"


# ---------------------------------------------------------------- the overview and the flow


def test_outline():
    doc = editing.load(KG)
    steps = editing.outline(doc, "en")
    assert [s["id"] for s in steps] == editing.step_ids(doc)
    hukou = next(s for s in steps if s["id"] == "hukou")
    assert hukou["kind"] == "question" and hukou["title"]
    field = hukou["fields"][0]
    assert set(field) == {"id", "type", "label", "required", "show_if", "choices"}
    assert field["choices"][0] == {"value": "shanghai", "label": field["choices"][0]["label"]}
    docs = next(s for s in steps if s["id"] == "documents")
    assert docs["kind"] == "checklist" and docs["items"][0]["id"]
    # a language without the text falls back to the default language
    small_outline = editing.outline(small(), "en")
    assert small_outline[0]["title"] == "第一步"
    assert small_outline[1]["fields"][0]["choices"] == [{"value": "a", "label": "甲"},
                                                        {"value": "b", "label": "乙"}]
    assert editing.field_ids(doc)[:2] == ["child_dob", "child_age_months"]


def test_flow_values_and_set_flow():
    doc = small()
    values = editing.flow_values(doc, "en")
    assert values["title"] == "Small flow" and values["languages"] == ["zh_Hans", "en"]
    editing.set_flow(doc, {"summary": "A test", "minutes": "5", "deadline": "2027-04-29",
                           "opens": "2027-04-22"}, "en")
    editing.set_flow(doc, {"summary": "测试"}, "zh_Hans")
    flow = loader.load_text(check(doc)).flow
    assert flow.minutes == 5 and str(flow.deadline) == "2027-04-29"
    assert flow.summary == {"en": "A test", "zh_Hans": "测试"}
    with pytest.raises(EditError):
        editing.set_flow(doc, {"id": "other"}, "en")
    kg = editing.load(KG)
    values = {k: v for k, v in editing.flow_values(kg, "en").items()
              if k in ("title", "summary", "minutes", "opens", "deadline", "resume_fact")}
    editing.set_flow(kg, values, "en")
    assert editing.dump(kg) == KG  # an unchanged form changes nothing (dates stay unquoted)


def test_set_flow_refuses_what_the_loader_would_and_names_the_key():
    doc = small()
    before = editing.dump(doc)
    for values, words in [
        ({"deadline": "29/04/2027"}, "deadline: '29/04/2027' is not a date"),
        ({"opens": "2027-02-30"}, "opens: '2027-02-30' is not a date"),
        ({"minutes": "ten"}, "minutes must be a whole number"),
        ({"minutes": "0"}, "minutes must be between 1 and 600"),
        ({"timezone": "Shanghai"}, "unknown time zone 'Shanghai'"),
        ({"timezone": "../../etc/passwd"}, "unknown time zone"),
        ({"opens": "2027-05-01", "deadline": "2027-04-29"}, "opens (2027-05-01) is after"),
        ({"resume_fact": "name"}, "resume fact: 'name' is not a date question"),
        ({"title": " "}, "the flow needs a title"),
        ({"languages": "en"}, "the flow has no languages"),
    ]:
        with pytest.raises(EditError, match=re.escape(words)):
            editing.set_flow(doc, values, "zh_Hans")
    assert editing.dump(doc) == before
    editing.set_flow(doc, {"title": ""}, "en")  # a translation may be emptied
    editing.set_flow(doc, {"timezone": "Asia/Urumqi", "minutes": "", "deadline": ""}, "en")
    assert loader.load_text(check(doc)).flow.timezone == "Asia/Urumqi"


def test_set_flow_resume_fact_is_a_date_question():
    doc = editing.load(BRANCHING)
    assert editing.date_fields(doc) == ["child_dob"]
    editing.set_flow(doc, {"resume_fact": ""}, "en")
    assert "resume_fact" not in doc
    editing.set_flow(doc, {"resume_fact": "child_dob"}, "en")
    assert loader.load_text(check(doc)).flow.resume_fact == "child_dob"


def test_add_language_then_texts_are_missing_until_translated():
    doc = editing.load(editing.starter("bikes", "自行车", "zh_Hans"))
    editing.add_language(doc, "en", ("zh_Hans", "zh_Hant", "en", "ug"))
    text = editing.dump(doc)
    assert "languages: [zh_Hans, en]" in text
    result = loader.load_text(text)
    assert not result.errors
    assert any("no 'en' text" in str(p) for p in result.warnings)
    editing.set_flow(doc, {"title": "Bikes"}, "en")  # now a language of the flow
    assert loader.load_text(check(doc)).flow.title == {"zh_Hans": "自行车", "en": "Bikes"}


@pytest.mark.parametrize("code, words", [
    ("", "choose a language"), ("fr", "not a language the wizard offers"),
    ("English", "not a language the wizard offers"), ("en", "already one of"),
    ("zh_Hans", "already one of"),
])
def test_add_language_refuses(code, words):
    doc = small()
    with pytest.raises(EditError, match=words):
        editing.add_language(doc, code, ("zh_Hans", "zh_Hant", "en", "ug"))
    assert list(doc["languages"]) == ["zh_Hans", "en"]


def test_remove_language_keeps_its_texts_and_never_the_default():
    doc = small()
    editing.remove_language(doc, "en")
    text = editing.dump(doc)
    assert "languages: [zh_Hans]" in text and "en: Small flow" in text  # texts stay
    result = loader.load_text(text)
    assert not result.errors
    assert any("'en' is not in this flow's languages" in str(p) for p in result.warnings)
    editing.add_language(doc, "en")  # back again, its texts with it
    assert loader.load_text(check(doc)).flow.title == {"zh_Hans": "小流程", "en": "Small flow"}
    with pytest.raises(EditError, match="default language"):
        editing.remove_language(doc, "zh_Hans")
    with pytest.raises(EditError, match="not one of this flow's languages"):
        editing.remove_language(doc, "ug")


@pytest.mark.skipif("end" not in editing.STEP_KEYS, reason="the schema has no step key end")
def test_set_step_end_is_written_only_when_true():
    doc = small()
    editing.set_step(doc, "first", {"end": "true"}, "zh_Hans")
    assert "end: true" in check(doc)
    assert editing.step_values(doc, "first", "zh_Hans")["end"] == "true"
    editing.set_step(doc, "first", {"end": ""}, "zh_Hans")
    assert "end:" not in check(doc)
