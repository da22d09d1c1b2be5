"""The diff between two versions of a flow: every change code, renames, order, English."""

from wizard.flow import diff as flowdiff
from wizard.flow.diff import Change, diff, english, suggested_mapping
from wizard.flow.loader import load_text

BASE = """
id: housing
version: 1
languages: [en]
title: Housing help
deadline: 2027-04-29
steps:
  - id: about
    title: About you
    fields:
      - id: name
        type: text
        label: Your name
        max_length: 40
      - id: hukou
        type: choice
        label: Household registration
        official: 户籍
        choices:
          - {value: local, label: Shanghai}
          - {value: other, label: Another province}
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
  - id: lease
    title: Your lease
    show_if: "home == 'rent'"
    fields:
      - {id: lease_no, type: text, label: Lease number}
  - id: contact
    title: Contact
    fields:
      - {id: phone, type: mobile, label: Mobile number, official: 手机号码}
      - {id: notes, type: textarea, label: Anything else?, required: false}
"""


def load(text, name="flow.yaml"):
    result = load_text(text, name)
    assert result.flow is not None, "\n".join(map(str, result.errors))
    return result.flow


def edit(text, *pairs):
    """The text with each (old, new) replaced; each old must be there (a test that edits
    nothing would pass for the wrong reason)."""
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text.replace("version: 1", "version: 2", 1)


def changes(*pairs, base=BASE):
    return diff(load(base), load(edit(base, *pairs)))


def codes(found):
    return [(c.code, c.step, c.field, c.choice) for c in found]


def test_no_change_no_changes():
    assert diff(load(BASE), load(BASE)) == []
    # A new version number and different source text are not changes to the flow.
    assert changes(("title: Contact\n", "title:   Contact\n")) == []


def test_flow_changed_names_the_keys():
    found = changes(("title: Housing help", "title: Help with housing"),
                    ("deadline: 2027-04-29", "deadline: 2027-05-06"))
    assert found == [Change("flow_changed", None, detail={"keys": ("title", "deadline")})]


def test_step_added_and_removed_where_they_were():
    found = changes(("  - id: lease\n    title: Your lease\n    show_if: \"home == 'rent'\"\n"
                     "    fields:\n      - {id: lease_no, type: text, label: Lease number}\n",
                     ""),
                    ("  - id: contact\n", "  - id: school\n    title: School\n    fields:\n"
                     "      - {id: school, type: text, label: Which school?}\n"
                     "  - id: contact\n"))
    assert codes(found) == [
        ("step_removed", "lease", None, None),
        ("field_removed", "lease", "lease_no", None),
        ("step_added", "school", None, None),
        ("field_added", "school", "school", None),
    ]


def test_step_moved_reports_only_the_step_that_moved():
    contact = BASE[BASE.index("  - id: contact"):]
    moved = BASE.replace(contact, "").replace("  - id: about", contact + "  - id: about")
    found = diff(load(BASE), load(moved))
    assert found == [Change("step_moved", "contact", detail={"from": 4, "to": 1})]


def test_step_changed_names_the_keys():
    found = changes(("title: Your lease", "title: The lease"),
                    ("show_if: \"home == 'rent'\"", "show_if: \"home != 'own'\""))
    assert found == [Change("step_changed", "lease", detail={"keys": ("title", "show_if")})]


def test_reordered_fields_are_a_step_change():
    found = changes(("      - {id: phone, type: mobile, label: Mobile number, official: 手机号码}\n"
                     "      - {id: notes, type: textarea, label: Anything else?, required: false}",
                     "      - {id: notes, type: textarea, label: Anything else?, required: false}\n"
                     "      - {id: phone, type: mobile, label: Mobile number, official: 手机号码}"))
    assert codes(found) == [("step_changed", "contact", None, None)]
    assert found[0].detail == {"keys": ("field_order",)}


def test_a_respaced_condition_is_no_change():
    assert changes(("show_if: \"home == 'rent'\"", "show_if: \"home=='rent'\"")) == []


def test_field_added_and_removed():
    found = changes(("      - {id: notes, type: textarea, label: Anything else?, "
                     "required: false}\n", ""),
                    ("      - {id: lease_no, type: text, label: Lease number}\n",
                     "      - {id: lease_no, type: text, label: Lease number}\n"
                     "      - {id: landlord, type: text, label: Landlord's name}\n"))
    assert codes(found) == [
        ("field_added", "lease", "landlord", None),
        ("field_removed", "contact", "notes", None),
    ]


def test_field_renamed_by_label():
    found = changes(("id: lease_no", "id: lease_number"))
    assert found == [Change("field_renamed", "lease", "lease_number",
                            detail={"old": "lease_no", "new": "lease_number"})]


def test_field_renamed_by_official_term_with_its_other_changes():
    found = changes(("      - id: hukou\n        type: choice\n"
                     "        label: Household registration",
                     "      - id: household\n        type: choice\n"
                     "        label: Where is your household registered?"))
    assert codes(found) == [("field_renamed", "about", "household", None),
                            ("field_changed", "about", "household", None)]
    assert found[1].detail == {"keys": ("label",), "old": "hukou"}


def test_no_rename_when_the_type_differs():
    found = changes(("{id: lease_no, type: text,", "{id: lease_count, type: integer,"))
    # In place of each other: the removal first, where it stood.
    assert codes(found) == [("field_removed", "lease", "lease_no", None),
                            ("field_added", "lease", "lease_count", None)]


def test_rename_prefers_a_field_in_the_same_step():
    # Two new fields ask "Lease number": the one on lease_no's own page is its new name, even
    # though the other comes first in the flow.
    found = changes(("id: lease_no", "id: lease_ref"),
                    ("        max_length: 40\n",
                     "        max_length: 40\n      - {id: about_ref, type: text, "
                     "label: Lease number}\n"))
    assert codes(found) == [("field_added", "about", "about_ref", None),
                            ("field_renamed", "lease", "lease_ref", None)]


def test_field_moved_to_another_step():
    notes = "      - {id: notes, type: textarea, label: Anything else?, required: false}\n"
    found = changes((notes, ""), ("      - {id: lease_no, type: text, label: Lease number}\n",
                                  "      - {id: lease_no, type: text, label: Lease number}\n"
                                  + notes))
    assert found == [Change("field_moved", "lease", "notes",
                            detail={"from": "contact", "to": "lease"})]


def test_field_changed_names_every_key():
    found = changes(("label: Your name\n        max_length: 40",
                     "label: Your full name\n        hint: As on your ID card\n"
                     "        max_length: 30\n        required: false"))
    assert found == [Change("field_changed", "about", "name", detail={
        "keys": ("required", "max_length", "label", "hint")})]


def test_field_type_change_is_a_field_change():
    found = changes(("{id: notes, type: textarea,", "{id: notes, type: text,"))
    assert found == [Change("field_changed", "contact", "notes", detail={"keys": ("type",)})]


def test_choice_added_removed_and_order():
    found = changes(("          - {value: family, label: With family}\n",
                     "          - {value: dorm, label: Staff dormitory}\n"),
                    ("          - {value: rent, label: Rented}\n"
                     "          - {value: own, label: Owned}\n",
                     "          - {value: own, label: Owned}\n"
                     "          - {value: rent, label: Rented}\n"))
    assert codes(found) == [
        ("field_changed", "housing", "home", None),
        ("choice_removed", "housing", "home", "family"),
        ("choice_added", "housing", "home", "dorm"),
    ]
    assert found[0].detail == {"keys": ("choice_order",)}


def test_choice_renamed_by_label_and_by_value():
    found = changes(("{value: rent, label: Rented}",
                     "{value: rent, label: Rented from a landlord}"),
                    ("{value: own, label: Owned}", "{value: owned, label: Owned}"))
    assert found == [
        Change("choice_renamed", "housing", "home", "rent",
               detail={"what": "label", "old": "Rented", "new": "Rented from a landlord"}),
        Change("choice_renamed", "housing", "home", "owned",
               detail={"what": "value", "old": "own", "new": "owned"}),
    ]


def test_choice_changed_names_the_keys():
    found = changes(("{value: local, label: Shanghai}",
                     "{value: local, label: Shanghai, official: 本市户籍}"))
    assert found == [Change("choice_changed", "about", "hukou", "local",
                            detail={"keys": ("official",)})]


def test_changes_come_in_the_new_flow_order():
    found = changes(("title: About you", "title: About your family"),
                    ("{id: phone, type: mobile, label: Mobile number",
                     "{id: phone, type: mobile, label: Your mobile number"),
                    ("{value: rent, label: Rented}", "{value: rent, label: Renting}"),
                    ("title: Housing help", "title: Housing"))
    assert [(c.code, c.step) for c in found] == [
        ("flow_changed", None), ("step_changed", "about"), ("choice_renamed", "housing"),
        ("field_changed", "contact")]


def test_the_diff_is_deterministic():
    newer = edit(BASE, ("id: lease_no", "id: lease_number"),
                 ("{value: own, label: Owned}", "{value: owned, label: Owned}"),
                 ("title: Contact", "title: How to reach you"))
    assert diff(load(BASE), load(newer)) == diff(load(BASE), load(newer))


def test_texts_compare_in_the_languages_both_versions_have():
    two = BASE.replace("languages: [en]", "languages: [en, zh_Hans]").replace(
        "label: Your name", "label: {en: Your name, zh_Hans: 姓名}")
    found = diff(load(BASE), load(edit(two)))
    assert found == [Change("flow_changed", None, detail={"keys": ("languages",)})]
    found = diff(load(two), load(edit(two, ("zh_Hans: 姓名", "zh_Hans: 孩子姓名"))))
    assert found == [Change("field_changed", "about", "name", detail={"keys": ("label",)})]


CHECKLIST = """
id: docs
version: 1
languages: [en]
title: Documents
steps:
  - id: papers
    kind: checklist
    title: Papers to bring
    items:
      - {id: hukou_book, label: Household register}
      - {id: permit, label: Residence permit}
"""


def test_checklist_title_is_a_step_change_and_items_are_choices():
    found = changes(("title: Papers to bring", "title: Bring these"),
                    ("      - {id: permit, label: Residence permit}\n",
                     "      - {id: permit, label: Residence permit}\n"
                     "      - {id: lease, label: Lease}\n"), base=CHECKLIST)
    assert codes(found) == [("step_changed", "papers", None, None),
                            ("choice_added", "papers", "papers", "lease")]


def test_suggested_mapping():
    newer = load(edit(BASE, ("id: lease_no", "id: lease_number"),
                      ("      - {id: notes, type: textarea, label: Anything else?, "
                       "required: false}\n", "")))
    assert suggested_mapping(load(BASE), newer) == {
        "name": "name", "hukou": "hukou", "home": "home", "lease_no": "lease_number",
        "phone": "phone", "notes": None}


def test_english_sentences():
    s = "step 'housing': "
    examples = [
        (Change("flow_changed", None, detail={"keys": ("title", "deadline")}),
            "flow changed (title, deadline)"),
        (Change("step_added", "lease"), "step 'lease' added"),
        (Change("step_removed", "lease"), "step 'lease' removed"),
        (Change("step_moved", "lease", detail={"from": 3, "to": 1}),
            "step 'lease' moved from position 3 to 1"),
        (Change("step_changed", "lease", detail={"keys": ("title",)}),
            "step 'lease' changed (title)"),
        (Change("field_added", "housing", "lease"), s + "field 'lease' added"),
        (Change("field_removed", "housing", "lease"), s + "field 'lease' removed"),
        (Change("field_renamed", "about", "household", detail={"old": "hukou",
                                                              "new": "household"}),
            "field 'hukou' renamed to 'household'"),
        (Change("field_moved", "contact", "lease", detail={"from": "housing", "to": "contact"}),
            "field 'lease' moved from step 'housing' to step 'contact'"),
        (Change("field_changed", "housing", "home", detail={"keys": ("label", "required")}),
            s + "field 'home' changed (label, required)"),
        (Change("choice_added", "housing", "home", "rent"),
            s + "choice 'rent' of field 'home' added"),
        (Change("choice_removed", "housing", "home", "rent"),
            s + "choice 'rent' of field 'home' removed"),
        (Change("choice_renamed", "housing", "home", "rent",
                detail={"what": "label", "old": "Rented", "new": "Renting"}),
            s + "choice 'rent' of field 'home' renamed (label)"),
        (Change("choice_renamed", "housing", "home", "renting",
                detail={"what": "value", "old": "rent", "new": "renting"}),
            s + "choice 'rent' of field 'home' renamed to 'renting' (value)"),
        (Change("choice_changed", "housing", "home", "rent", detail={"keys": ("official",)}),
            s + "choice 'rent' of field 'home' changed (official)"),
    ]
    for change, sentence in examples:
        assert english(change) == sentence
    # Every code the diff can produce has a sentence.
    assert list(dict.fromkeys(c.code for c, _ in examples)) == list(flowdiff.CODES)


def test_merged_order_puts_removals_where_they_were():
    assert flowdiff.merged_order(["a", "b", "c", "d"], ["d", "a", "x", "c"]) == [
        "d", "a", "b", "x", "c"]
    assert flowdiff.merged_order(["a", "b"], ["x"]) == ["a", "b", "x"]


def test_command_line(tmp_path, capsys):
    (tmp_path / "v1.yaml").write_text(BASE, "utf-8")
    (tmp_path / "v2.yaml").write_text(edit(BASE, ("id: lease_no", "id: lease_number")), "utf-8")
    assert flowdiff.main([str(tmp_path / "v1.yaml"), str(tmp_path / "v2.yaml")]) == 0
    assert capsys.readouterr().out == "field 'lease_no' renamed to 'lease_number'\n"
    assert flowdiff.main([str(tmp_path / "v1.yaml")]) == 2


def test_an_opening_date_is_a_flow_change():
    found = changes(("deadline: 2027-04-29", "deadline: 2027-04-29\nopens: 2027-04-01"))
    assert found == [Change("flow_changed", None, detail={"keys": ("opens",)})]
