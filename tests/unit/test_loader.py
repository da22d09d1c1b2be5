"""The loader refuses a broken flow with every problem at once, each with file and key path."""

import copy
from pathlib import Path

import yaml

from wizard.flow import loader

FLOWS = Path(__file__).resolve().parent.parent / "flows"
SOURCE = (FLOWS / "branching.yaml").read_text("utf-8")


def doc():
    return yaml.load(SOURCE, Loader=loader._Loader)


def problems(document, filename="x.yaml"):
    result = loader.load_document(document, filename)
    return result, [str(p) for p in result.errors]


def only(document, path, *words):
    """Exactly the expected error: at this key path, saying these words."""
    result, errors = problems(document)
    assert result.flow is None
    matching = [e for e in errors if f" {path}:" in e]
    assert matching, errors
    for word in words:
        assert any(word in e for e in matching), (word, matching)
    return errors


def test_the_test_flow_loads_clean():
    result = loader.load_text(SOURCE, "branching.yaml")
    assert result.problems == []
    flow = result.flow
    assert flow.id == "branching" and flow.version == 1
    assert [s.id for s in flow.steps][:3] == ["birth", "hukou", "permit"]
    assert flow.source == SOURCE
    assert flow.step("documents").fields[0].type == "checklist"


def test_unknown_field_type_names_the_path_and_suggests():
    d = doc()
    d["steps"][4]["fields"][0]["type"] = "mobil"
    only(d, "steps[4].fields[0].type", "unknown field type 'mobil'", "did you mean 'mobile'")


def test_duplicate_step_and_field_ids():
    d = doc()
    d["steps"][2]["id"] = "hukou"
    d["steps"][4]["fields"][1]["id"] = "mobile"
    errors = only(d, "steps[2].id", "duplicate step id 'hukou'", "steps[1]")
    assert any(" steps[4].fields[1].id:" in e and "duplicate field id 'mobile'" in e
               for e in errors)


def test_duplicate_choice_value():
    d = doc()
    d["steps"][1]["fields"][0]["choices"][1]["value"] = "shanghai"
    only(d, "steps[1].fields[0].choices[1].value", "duplicate choice value 'shanghai'")


def test_condition_naming_unknown_field():
    d = doc()
    d["steps"][2]["show_if"] = "hukuo == 'other'"
    only(d, "steps[2].show_if", "'hukuo' is not a field", "did you mean 'hukou'")


def test_condition_naming_a_later_field():
    d = doc()
    d["steps"][1]["show_if"] = "has_permit"
    only(d, "steps[1].show_if", "'has_permit' is asked later", "earlier steps")


def test_condition_with_a_misspelt_choice_value():
    d = doc()
    d["steps"][2]["show_if"] = "hukou == 'othr'"
    only(d, "steps[2].show_if", "'othr' is not a choice of 'hukou'", "shanghai, other")


def test_condition_syntax_error():
    d = doc()
    d["steps"][2]["show_if"] = "hukou =="
    only(d, "steps[2].show_if", "hukou ==")


def test_condition_refuses_code():
    d = doc()
    d["steps"][2]["show_if"] = "__import__('os').system('true')"
    result, errors = problems(d)
    assert result.flow is None and any(" steps[2].show_if:" in e for e in errors)


def test_unreachable_step():
    d = doc()
    d["steps"][3]["show_if"] = "1 > 2"
    only(d, "steps[3].show_if", "can never be shown")


def test_step_hidden_behind_an_unreachable_step_is_unreachable_too():
    d = doc()
    d["steps"][2]["show_if"] = "false"
    errors = only(d, "steps[2].show_if", "can never be shown")
    assert any(" steps[3].show_if:" in e and "can never be shown" in e for e in errors)


def test_unsafe_markdown():
    d = doc()
    d["steps"][6]["body"]["en"] = "Click <script>alert(1)</script> [here](javascript:alert(1))"
    errors = only(d, "steps[6].body.en", "raw HTML", "javascript:alert(1)")
    assert len([e for e in errors if "steps[6].body.en" in e]) >= 2


def test_markdown_picture_refused():
    d = doc()
    d["steps"][0]["fields"][0]["help"] = {"zh_Hans": "![x](https://e.org/x.png)", "en": "ok"}
    only(d, "steps[0].fields[0].help.zh_Hans", "pictures are not allowed")


def test_malformed_yaml_gives_line_number():
    broken = SOURCE.replace("  - id: hukou\n", "  - id: hukou\n   oops: [\n", 1)
    result = loader.load_text(broken, "broken.yaml")
    assert result.flow is None
    (problem,) = result.errors
    assert problem.line is not None and problem.line > 20
    assert str(problem).startswith(f"broken.yaml:{problem.line}:")
    assert "not valid YAML" in problem.message


def test_duplicate_yaml_key_is_an_error_with_its_line():
    broken = SOURCE.replace("minutes: 5\n", "minutes: 5\nminutes: 6\n")
    result = loader.load_text(broken, "dup.yaml")
    assert result.flow is None
    assert any(p.path == "minutes" and "appears twice" in p.message and p.line == 9
               for p in result.errors)


def test_missing_translation_is_a_warning_not_an_error():
    broken = SOURCE.replace("en: Test flow", "en: ''").replace(
        "{zh_Hans: 户籍, en: Household registration}", "{zh_Hans: 户籍}")
    result = loader.load_text(broken, "w.yaml")
    assert result.flow is not None and not result.errors
    paths = {p.path for p in result.warnings}
    assert {"title", "steps[1].title"} <= paths
    assert all("no 'en' text" in p.message for p in result.warnings)


def test_every_problem_at_once_with_lines():
    d = doc()
    d["steps"][4]["fields"][0]["type"] = "fone"
    d["steps"][2]["id"] = "birth"
    d["steps"][3]["show_if"] = "nothing_here"
    text = yaml.safe_dump(d, allow_unicode=True, sort_keys=False)
    result = loader.load_text(text, "many.yaml")
    paths = {p.path for p in result.errors}
    assert {"steps[4].fields[0].type", "steps[2].id", "steps[3].show_if"} <= paths
    assert all(p.line for p in result.errors)


def test_structural_errors_name_the_key():
    d = doc()
    del d["steps"][0]["title"]
    d["steps"][1]["fields"][0]["lable"] = {"en": "x"}
    d["version"] = "one"
    result, errors = problems(d)
    text = "\n".join(errors)
    assert " steps[0]: missing key 'title'" in text
    assert "steps[1].fields[0]: unknown key 'lable' (did you mean 'label'?)" in text
    assert " version: should be a whole number" in text


def test_yaml_yes_no_trap_is_explained():
    d = doc()
    d["steps"][1]["fields"][0]["choices"][0]["value"] = True
    only(d, "steps[1].fields[0].choices[0].value", "put quotes around it")


def test_type_specific_rules():
    d = doc()
    d["steps"][1]["fields"][0]["min"] = 3
    d["steps"][0]["fields"][1]["expr"] = ""
    d["steps"][0]["fields"][0]["min"] = "2030-01-01"
    d["steps"][0]["fields"][0]["max"] = "2029-01-01"
    d["steps"][4]["fields"][0]["pattern"] = "(["
    d["steps"][4]["fields"][1]["birth_date_field"] = "mobile"
    result, errors = problems(d)
    text = "\n".join(errors)
    assert "steps[1].fields[0].min: 'min' does not apply to a choice field" in text
    assert "steps[0].fields[0].min: min (2030-01-01) is greater than max" in text
    assert "steps[4].fields[0].pattern" in text
    assert "steps[4].fields[1].birth_date_field: 'mobile' is not a date field" in text


def test_step_kinds_need_their_parts():
    d = doc()
    del d["steps"][6]["body"]
    del d["steps"][5]["items"]
    d["steps"][1]["kind"] = "instruction"
    d["steps"][1]["body"] = {"en": "x", "zh_Hans": "x"}
    result, errors = problems(d)
    text = "\n".join(errors)
    assert "steps[6]: an instruction step needs a 'body'" in text
    assert "steps[5]: a checklist step needs 'items'" in text
    assert "steps[1].fields: a instruction step has no fields" in text


def test_not_a_mapping():
    for value in (None, [], "text", 3):
        result, errors = problems(value)
        assert result.flow is None and errors


def test_unreadable_file(tmp_path):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("id: caf\xe9\n".encode("latin-1"))
    assert "not UTF-8" in loader.load_file(bad).errors[0].message
    assert "cannot read" in loader.load_file(tmp_path / "absent.yaml").errors[0].message


def test_document_is_not_modified():
    d = doc()
    before = copy.deepcopy(d)
    loader.load_document(d)
    assert d == before


def test_answer_sheet_and_resume_fact_must_name_real_fields():
    d = doc()
    d["answer_sheet"] = ["mobile", "age_months", "nobody"]
    d["resume_fact"] = "hukou"
    result, errors = problems(d)
    text = "\n".join(errors)
    assert "answer_sheet[1]: 'age_months' is not a question" in text
    assert "answer_sheet[2]: 'nobody' is not a question" in text
    assert "resume_fact: 'hukou' is not a date field" in text
    assert "answer_sheet[0]" not in text


# ---------------------------------------------------------------- found by hostile flows


def test_blank_condition_is_a_problem_not_a_crash():
    d = doc()
    d["steps"][2]["show_if"] = " "
    d["steps"][3]["fields"][0]["show_if"] = "\n"
    d["steps"][0]["fields"][1]["expr"] = "  "
    d["steps"][5]["items"][1]["show_if"] = "\t"
    result, errors = problems(d)
    assert result.flow is None
    for path in ("steps[2].show_if", "steps[3].fields[0].show_if", "steps[0].fields[1].expr",
                 "steps[5].items[1].show_if"):
        assert any(f" {path}: empty condition: write one or remove the key" in e
                   for e in errors), (path, errors)


def test_impossible_dates_in_data_are_refused():
    d = doc()
    d["data"] = {"cutoff": "2027-09-31", "opens": "31/08/2027", "closes": "2027-8-5",
                 "leap": "2027-02-29", "when": "2027-04-22 09:00", "month": "2027-13-01",
                 "windows": [{"start": "2023-09-01", "end": "2024-02-30"}],
                 "fine": "2024-02-29", "day_and_month": "06-30", "version": "1.2", "n": 3}
    d["steps"][0]["fields"][1]["expr"] = "age_months(child_dob, '2024-02-29')"
    result, errors = problems(d)
    text = "\n".join(errors)
    assert "data.cutoff: '2027-09-31' is not a real date (September 2027 has 30 days)" in text
    assert "data.opens: '31/08/2027' is not written year-month-day; write it as 2027-08-31" in text
    assert "data.closes: '2027-8-5' is not written YYYY-MM-DD; write it as 2027-08-05" in text
    assert "data.leap: '2027-02-29' is not a real date (February 2027 has 28 days)" in text
    assert "data.when: '2027-04-22 09:00' is a date and time" in text
    assert "data.month: '2027-13-01' is not a real date (there is no month 13)" in text
    assert "data.windows[0].end: '2024-02-30' is not a real date" in text
    assert not any(p in text for p in ("data.fine", "data.day_and_month", "data.version",
                                       "data.n", "windows[0].start"))


def test_impossible_date_literal_in_a_condition():
    d = doc()
    d["steps"][0]["fields"][1]["expr"] = "age_months(child_dob, '2027-02-30')"
    only(d, "steps[0].fields[1].expr", "'2027-02-30' is not a real date")


def test_deeply_nested_condition_is_refused_by_the_check():
    d = doc()
    d["steps"][3]["show_if"] = "not " * 300 + "has_permit"
    only(d, "steps[3].show_if", "nested more than 64 levels deep")
    d["steps"][3]["show_if"] = "has_permit" + " or has_permit" * 140
    assert not problems(d)[1]  # long, but flat


def test_a_field_cannot_depend_on_itself():
    d = doc()
    d["steps"][3]["fields"][0]["show_if"] = "points > 10"
    errors = only(d, "steps[3].fields[0].show_if", "'points' is this field's own answer",
                  "cannot depend on its own answer")
    assert not any("asked later" in e for e in errors)
    d = doc()
    d["steps"][0]["fields"][1]["id"] = "months"
    d["steps"][0]["fields"][1]["expr"] = "months + 1"
    only(d, "steps[0].fields[1].expr", "cannot depend on its own answer")
    d = doc()
    d["steps"][5]["items"][1]["show_if"] = "'hukou_book' in documents"
    only(d, "steps[5].items[1].show_if", "'documents' is this field's own answer")
    d = doc()
    d["steps"][3]["show_if"] = "points > 1"
    only(d, "steps[3].show_if", "'points' is asked on this same step (steps[3])")


def test_missing_text_in_the_default_language_says_so():
    d = doc()
    d["steps"][2]["title"] = {"en": "Residence permit"}
    result = loader.load_document(d, "x.yaml")
    (warning,) = [p for p in result.warnings if p.path == "steps[2].title"]
    assert "'zh_Hans' text is missing" in warning.message
    assert "default language" in warning.message and "show nothing" in warning.message
    assert "will show the 'zh_Hans' text instead" not in warning.message


def test_unclosed_quote_is_reported_where_it_opens():
    lines = SOURCE.split("\n")
    opened = lines.index('    show_if: "hukou == \'other\'"')
    for line_no, broken_line in ((opened, '    show_if: "hukou == \'other\''),
                                 (lines.index('    show_if: "has_permit"'),
                                  '    show_if: "has_permit')):
        broken = lines[:]
        broken[line_no] = broken_line
        result = loader.load_text("\n".join(broken), "q.yaml")
        (problem,) = result.errors
        assert problem.line == line_no + 1, (problem, line_no + 1)
        assert "quote opened on this line" in problem.message
    # the quote is never closed at all: YAML names the end of the file, we name the quote
    result = loader.load_text(SOURCE + 'extra: "never closed\n\n\n\n', "q.yaml")
    (problem,) = result.errors
    assert problem.line == SOURCE.count("\n") + 1 and "never closed" in problem.message


def test_a_long_condition_is_not_echoed_whole():
    d = doc()
    d["steps"][3]["show_if"] = "has_permit and " + "x" * 1900 + " =="
    (error,) = only(d, "steps[3].show_if", "(in: \u2026")
    assert len(error) < 500
    d["steps"][3]["show_if"] = "has_permit and " * 200 + "'a'"  # 3,000 characters
    (error,) = only(d, "steps[3].show_if", "over the limit of 2000")
    assert len(error) < 500


def test_timezone():
    assert loader.load_text(SOURCE).flow.timezone == "Asia/Shanghai"
    result = loader.load_text(SOURCE.replace("minutes: 5\n", "minutes: 5\ntimezone: Asia/Urumqi\n"))
    assert result.flow.timezone == "Asia/Urumqi" and not result.problems
    for value, words in (("Asia/Shangai", "did you mean 'Asia/Shanghai'"),
                         ("Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
                         ("../../etc/passwd", "unknown time zone"),
                         ("''", "unknown time zone"),
                         ("8", "an IANA time zone name")):
        broken = SOURCE.replace("minutes: 5\n", f"minutes: 5\ntimezone: {value}\n")
        result = loader.load_text(broken, "tz.yaml")
        assert result.flow is None
        assert [p.path for p in result.errors] == ["timezone"], result.errors
        assert words in result.errors[0].message and result.errors[0].line == 9


def test_a_choice_may_be_offered_only_for_some_earlier_answers():
    d = doc()
    # The permit step's yes/no gets a choice-level condition on the earlier hukou answer.
    hukou = d["steps"][1]["fields"][0]
    hukou["choices"][1]["show_if"] = "child_dob"
    result = loader.load_document(d, "x.yaml")
    assert not result.errors, result.errors
    assert result.flow.steps[1].fields[0].choices[1].show_if is not None
    # A choice's condition reads earlier answers only, like a field's: named with its path.
    d = doc()
    d["steps"][1]["fields"][0]["choices"][1]["show_if"] = "mobile == '1'"
    only(d, "steps[1].fields[0].choices[1].show_if", "mobile")
