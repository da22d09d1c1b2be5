"""The primary-school flow's content: languages, official terms, typography, the age window,
dates against the facts, every branch, minimum personal data and the facts file.

These tests read the shipped flow (flows/primary-shanghai.yaml) and its facts file
(flows/primary-shanghai.md); they check the words and the branches, not the engine.
"""

import datetime
import functools
import itertools
import re
from pathlib import Path

import branch_walk
import flow_texts
import pytest
from flow_texts import shown

from wizard import engine
from wizard.flow import loader, placeholders

ROOT = Path(__file__).resolve().parent.parent.parent
FLOW_FILE = ROOT / "flows" / "primary-shanghai.yaml"
FACTS_FILE = ROOT / "flows" / "primary-shanghai.md"
LANGUAGES = ("zh_Hans", "en")
TODAY = datetime.date(2027, 3, 1)  # as tests/conftest.py
# The steps that follow the age check and that no other answer hides: each repeats the guard
# (the flow language has no "stop here" step).


@pytest.fixture(scope="module")
def flow():
    result = loader.load_file(FLOW_FILE)
    assert not result.problems, "\n".join(map(str, result.problems))
    return result.flow


@functools.lru_cache(maxsize=1)
def walked():
    flow = loader.load_file(FLOW_FILE).flow
    return flow, branch_walk.paths(flow, TODAY)


def texts():
    return flow_texts.texts(FLOW_FILE)


def answers_for(flow, born, **more):
    return engine.journey(flow, {"child_dob": born, **more}, TODAY)


# ---------------------------------------------------------------- languages and terms


def test_the_flow_is_in_simplified_chinese_and_english(flow):
    assert flow.languages == ("zh_Hans", "en")
    assert flow.id == "primary-shanghai" and FLOW_FILE.stem == flow.id


def test_every_text_is_translated_into_both_languages():
    for path, lang, _text in texts():
        assert lang in LANGUAGES, path
    by_path = {}
    for path, lang, text in texts():
        by_path.setdefault(path.rsplit(".", 1)[0], {})[lang] = text
    partial = [p for p, t in by_path.items() if set(t) != set(LANGUAGES)
               or not all(v.strip() for v in t.values())]
    assert not partial, partial


def test_every_step_and_field_has_both_languages(flow):
    lacking = []
    for step in flow.steps:
        for name in ("title", "body"):
            text = getattr(step, name)
            if name == "title" or text is not None:
                lacking += [f"{step.id}.{name}.{lang}" for lang in LANGUAGES
                            if not (text or {}).get(lang, "").strip()]
        for field in step.fields:
            if field.type == "checklist":
                continue
            lacking += [f"{field.id}.label.{lang}" for lang in LANGUAGES
                        if not field.label.get(lang, "").strip()]
            for c in field.choices:
                lacking += [f"{field.id}.{c.value}.{lang}" for lang in LANGUAGES
                            if not c.label.get(lang, "").strip()]
    assert not lacking, lacking


def test_every_checklist_item_has_help_in_both_languages(flow):
    lacking = [f"{c.value} ({lang})"
               for step in flow.steps if step.kind == "checklist"
               for field in step.fields for c in field.choices
               for lang in LANGUAGES if not (c.help or {}).get(lang, "").strip()]
    assert not lacking, "checklist items without help: " + ", ".join(lacking)


def test_the_start_page_lists_the_papers_every_family_needs(flow):
    common = {c.value for c in engine.common_documents(flow)}
    assert {"registration_form", "vaccination_certificate", "birth_certificate"} <= common


def test_the_verification_papers_of_the_facts_are_all_in_the_checklist(flow):
    """户口簿, 入学信息登记表, 预防接种证, parent's 居住证, insurance proof or 就业失业登记证,
    child's 居住证/居住登记凭证, deed or registered lease."""
    officials = {c.official for c in flow.step("documents").fields[0].choices}
    assert {"户口簿", "上海市小学入学信息登记表", "预防接种证", "上海市居住证", "社保缴费记录",
            "就业失业登记证", "上海市居住登记凭证", "不动产权证",
            "房屋租赁合同登记备案证明"} <= officials


# ---------------------------------------------------------------- minimum personal data


def test_no_names_id_numbers_or_phone_numbers_are_asked(flow):
    kinds = {f.id: f.type for s in flow.steps for f in s.fields if f.is_input}
    free = {k: t for k, t in kinds.items()
            if t in ("text", "textarea", "resident_id", "mobile", "integer", "decimal")}
    assert free == {}, "ask yes/no or choices only; the family types names and IDs on the " \
                       f"official form from the household register: {free}"
    assert set(kinds) == {"child_dob", "hukou", "in_sh_kindergarten", "child_has_permit",
                          "has_permit", "social_insurance", "permit_points", "housing",
                          "school_type", "documents"}


# ---------------------------------------------------------------- typography

# ---------------------------------------------------------------- the age window


def test_the_birth_window_is_six_by_31_august_of_the_intake_year(flow):
    """Facts: 6 by 31 Aug Y, i.e. born 1 Sep Y-7 to 31 Aug Y-6 (confirmed for 2024, 2025)."""
    d = flow.data
    year = d["intake_year"]
    assert year == 2027
    assert d["cutoff"] == f"{year}-08-31"
    assert d["birth_window_start"] == f"{year - 7}-09-01"
    assert d["birth_window_end"] == f"{year - 6}-08-31"
    assert d["school_age"] == 6 and d["deferral_years"] == 1


def test_the_calculated_age_is_school_age_exactly_inside_the_window(flow):
    d = flow.data
    start = datetime.date.fromisoformat(d["birth_window_start"])
    end = datetime.date.fromisoformat(d["birth_window_end"])
    day = datetime.timedelta(days=1)
    age = {born: answers_for(flow, born.isoformat()).calculated("child_age_years")
           for born in (start - day, start, end, end + day)}
    assert age == {start - day: 7, start: 6, end: 6, end + day: 5}


@pytest.mark.parametrize("born, young, old", [
    ("2020-09-01", False, False), ("2021-08-31", False, False), ("2021-02-14", False, False),
    ("2021-09-01", True, False), ("2022-08-31", True, False),
    ("2020-08-31", False, True), ("2019-09-01", False, True), ("2018-03-03", False, True),
])
def test_the_age_checks_show_outside_the_window_only(flow, born, young, old):
    j = answers_for(flow, born)
    assert j.is_visible("check-age-young") is young
    assert j.is_visible("check-age-old") is old


def test_a_child_too_young_ends_the_walkthrough(flow):
    j = answers_for(flow, "2022-01-10")
    assert [s.id for s in j.steps] == ["start", "child-birth", "check-age-young"]
    body = flow.step("check-age-young").body
    assert "今年还不能登记" in body["zh_Hans"] and "cannot register this year" in body["en"]
    assert "结束" in body["zh_Hans"] and "ends here" in body["en"]


def test_the_age_texts_give_the_window_of_the_data(flow):
    for step_id in ("check-age-young", "check-age-old"):
        body = flow.step(step_id).body
        assert "2020年9月1日到2021年8月31日" in shown(body["zh_Hans"]), step_id
        en = re.sub(r"\s+", " ", body["en"])
        assert "1 September 2020 and 31 August 2021" in en, step_id
    assert "2027年8月31日" in flow.field("child_age_years").label["zh_Hans"]
    assert "31 August 2027" in flow.field("child_age_years").label["en"]


def test_a_deferral_is_one_year_and_named(flow):
    for text in (flow.field("child_dob").help, flow.step("check-age-old").body):
        assert "延缓入学" in text["zh_Hans"] and "延缓入学" in text["en"]
    assert "只能缓一年" in flow.step("check-age-old").body["zh_Hans"]
    assert "one year only" in flow.step("check-age-old").body["en"]


def test_a_too_young_child_ends_the_walkthrough_on_the_age_page(flow):
    """The too-young page ends the walkthrough (`end: true`): nothing after it is asked."""
    young = flow.step("check-age-young")
    assert young.end and young.show_if is not None
    j = engine.journey(flow, {"child_dob": "2022-03-01"}, datetime.date(2027, 3, 1))
    assert j.steps[-1].id == "check-age-young"
    assert engine.next_step(j, "check-age-young") is None
    n, total = engine.progress(j, "check-age-young")
    assert n == total

# ---------------------------------------------------------------- dates against the facts


# The estimated dates of `data`, which texts show through placeholders ({data.key:day}).
DATE_KEYS = ("registration_opens", "registration_closes", "application_opens",
             "application_closes_private", "application_closes_public",
             "admission_messages_from", "migrant_procedures_by")
OLD_FORMS = {"zh_Hans": lambda d: f"{d.month}月{d.day}日", "en": lambda d: f"{d.day} {d:%B}"}


def _written(flow, key, lang):
    """How the pages write that date (what the placeholder becomes)."""
    return placeholders.show(flow.data[key], lang, day_only=True)


def test_the_dates_in_the_texts_come_from_the_data(flow):
    """No text repeats a date of `data` by hand: each names it, so that changing `data` for
    a new year changes every text."""
    lines = [line for line in FLOW_FILE.read_text("utf-8").split("\n")
             if not line.lstrip().startswith("#")]
    body = "\n".join(lines[next(i for i, line in enumerate(lines) if line == "steps:"):])
    for key in DATE_KEYS:
        day = datetime.date.fromisoformat(flow.data[key])
        for lang, form in OLD_FORMS.items():
            assert not re.search(rf"(?<![0-9]){re.escape(form(day))}(?![0-9])", body), \
                f"a text writes data.{key} by hand ({form(day)}): use {{data.{key}:day}}"
        assert key in flow.data["typical"], f"{key} is an estimate: list it under typical"
    for key in ("registration_opens", "registration_closes", "application_opens"):
        assert f"{{data.{key}:day}}" in body, key
    assert flow.opens.isoformat() == flow.data["registration_opens"]
    assert flow.deadline.isoformat() == flow.data["registration_closes"]
    assert flow.data["application_opens"] < flow.data["application_closes_private"] \
        < flow.data["application_closes_public"]


def test_every_text_with_a_2027_estimate_says_it_is_one():
    """A text that gives an estimated 2027 date also says to check this year's notice, and one
    that gives the deadline also says when registration opens."""
    flow = walked()[0]
    estimates = {lang: [_written(flow, key, lang) for key in DATE_KEYS] for lang in LANGUAGES}
    caveat = {"zh_Hans": ("以当年的通知为准", "只见于", "以区里和学校的通知为准"),
              "en": ("check this year's notice", "one source only",
                     "follow your district's and school's notice")}
    bare, lonely = [], []
    for path, lang, text in texts():
        read = re.sub(r" +", " ", shown(text).replace("\n", " "))
        if any(re.search(rf"(?<![0-9]){re.escape(d)}", read) for d in estimates[lang]) \
                and not any(c in read for c in caveat[lang]):
            bare.append(path)
        close = _written(flow, "registration_closes", lang)
        opens = _written(flow, "registration_opens", lang)
        if close in read and opens not in read:
            lonely.append(path)
    assert not bare, bare
    assert not lonely, lonely


def test_private_admission_cannot_be_declined_and_goes_by_lottery(flow):
    for step_id in ("school-type", "stage-admission"):
        body = flow.step(step_id).body
        assert "不能放弃" in body["zh_Hans"] and "cannot be" in body["en"], step_id
        assert "电脑随机录取" in body["zh_Hans"] and "lottery" in body["en"], step_id


def test_points_are_not_needed_and_open_nothing_but_their_notice(flow):
    uses = [s.id for s in flow.steps if "permit_points" in (s.show_if_source or "")]
    items = [c.value for s in flow.steps for f in s.fields for c in f.choices
             if "permit_points" in (c.show_if_source or "")]
    assert uses == [] and items == ["points_notice"]
    for text in (flow.step("points").body, flow.step("check-route").body):
        assert "不需要120积分" in shown(text["zh_Hans"])
        assert "120 points" in text["en"] and "not" in text["en"]


def test_the_route_without_the_conditions_promises_nothing(flow):
    step = flow.step("check-route")
    assert "not has_permit" in step.show_if_source and "'neither'" in step.show_if_source
    zh, en = shown(step.body["zh_Hans"]), step.body["en"]
    assert "不能保证" in zh and "cannot promise" in en
    for word in ("民办小学", "政府购买服务", "街道", "补缴"):
        assert word in zh, word
    assert "Government-funded private schools" in en and "street office" in en


def test_registration_goes_through_the_kindergarten_or_the_district(flow):
    kg, district = flow.step("stage-register-kindergarten"), flow.step("stage-register-district")
    assert kg.show_if_source == "in_sh_kindergarten"
    assert "not in_sh_kindergarten" in district.show_if_source
    for step in (kg, district):
        assert "上海市小学入学信息登记表" in step.body["zh_Hans"]
        assert "上海市小学入学信息登记表" in step.body["en"]
    assert "义务教育入学专栏" in district.body["zh_Hans"]
    assert "shrxbm.edu.sh.gov.cn" in district.body["en"]
    for born in ("2021-02-14", "2020-10-01"):
        for in_kg in (True, False):
            j = answers_for(flow, born, hukou="other_province", in_sh_kindergarten=in_kg)
            assert j.is_visible("stage-register-kindergarten") is in_kg
            assert j.is_visible("stage-register-district") is not in_kg


def test_to_do_steps_come_after_the_documents_and_before_the_stages(flow):
    ids = [s.id for s in flow.steps]
    todos = [s for s in flow.steps if s.id.startswith("todo-")]
    assert {s.id for s in todos} == {"todo-child-registration", "todo-home-proof"}
    first_stage = min(i for i, s in enumerate(ids) if s.startswith("stage-"))
    for step in todos:
        assert step.kind == "instruction" and step.show_if is not None, step.id
        assert ids.index("documents") < ids.index(step.id) < first_stage
        assert "4月中旬前" in step.title["zh_Hans"] and "mid April" in step.title["en"]


# ---------------------------------------------------------------- every branch


def test_every_step_is_visited():
    flow, paths = walked()
    visited = {step_id for path in paths for step_id, _form in path}
    assert [s.id for s in flow.steps if s.id not in visited] == []


def test_every_value_of_a_condition_field_is_taken():
    flow, paths = walked()
    relevant = branch_walk.condition_fields(flow)
    assert {"child_dob", "hukou", "in_sh_kindergarten", "child_has_permit", "has_permit",
            "social_insurance", "permit_points", "housing"} <= relevant
    assert branch_walk.untaken(flow, paths, relevant) == []


def test_dates_inside_and_outside_the_window_are_walked():
    flow, paths = walked()
    samples = branch_walk.sample_dates(flow, flow.field("child_dob"), TODAY)
    start = datetime.date.fromisoformat(flow.data["birth_window_start"])
    end = datetime.date.fromisoformat(flow.data["birth_window_end"])
    assert {start, end} <= set(samples)
    assert any(d < start for d in samples) and any(d > end for d in samples)
    young = [p for p in paths if p[-1][0] == "check-age-young"]
    old = [p for p in paths if any(s == "check-age-old" for s, _ in p)]
    assert len(young) == 1 and old and len(old) < len(paths)
    # Everyone else reaches the last stage.
    assert all(p[-1][0] == "stage-admission" for p in paths if p not in young)


def test_paths_follow_the_engine_and_end_with_valid_answers():
    flow, paths = walked()
    assert 1 <= len(paths) <= 400
    for path in paths:
        answers, errors = branch_walk.answers_of(flow, path, TODAY)
        assert errors == [], branch_walk.describe(path)
        j = engine.journey(flow, answers, TODAY)
        assert [s for s, _ in path] == [s.id for s in j.steps], branch_walk.describe(path)
        assert engine.next_step(j, path[-1][0]) is None
        assert [(p.step.id, p.field.id) for p in engine.problems(j, answers)] == []
        assert engine.can_complete(j, answers)


def test_paths_are_short_enough_for_a_phone():
    """About 12-18 pages for a family; the too-young path stops after 3."""
    _flow, paths = walked()
    lengths = sorted({len(p) for p in paths})
    assert lengths[0] == 3 and lengths[-1] <= 18
    assert all(12 <= n for n in lengths[1:])


def _progress_failures(paths):
    flow, _ = walked()
    failures = []
    for path in paths:
        counts = [engine.progress(j, step_id)
                  for step_id, j in branch_walk.journeys_along(flow, path, TODAY)]
        numbers = [n for n, _m in counts]
        totals = [m for _n, m in counts]
        if numbers != list(range(1, len(path) + 1)) or \
                any(b > a for a, b in itertools.pairwise(totals)) or counts[-1][0] != counts[-1][1]:
            failures.append(f"{branch_walk.describe(path)}: {counts}")
    return failures


def test_progress_goes_up_by_one_and_its_total_never_grows():
    _flow, paths = walked()
    failures = _progress_failures([p for p in paths if p[-1][0] != "check-age-young"])
    assert not failures, "\n".join(failures[:5])


def test_progress_reaches_its_total_on_the_too_young_page():
    _flow, paths = walked()
    failures = _progress_failures([p for p in paths if p[-1][0] == "check-age-young"])
    assert not failures, "\n".join(failures[:5])


# ---------------------------------------------------------------- the facts file


def test_the_facts_file_backs_the_data_and_the_flow_points_only_inside_the_project(flow):
    source = FLOW_FILE.read_text("utf-8")
    assert "/work/" not in source and "../" not in source
    assert "flows/primary-shanghai.md" in source
    facts = FACTS_FILE.read_text("utf-8")
    for key in flow.data:
        if key != "typical":
            assert f"`{key}`" in facts, f"data.{key} is not explained in {FACTS_FILE.name}"
    assert re.search(r"https?://", facts), "the facts file gives no source links"
    assert "## Not confirmed" in facts


def test_every_source_cited_in_the_facts_file_is_listed_with_a_link():
    facts = FACTS_FILE.read_text("utf-8")
    tables, _, listing = facts.partition("## Sources")
    cited = set(re.findall(r"\bS\d+\b", tables))
    listed = dict(re.findall(r"^- (S\d+) (https?://\S+)", listing, re.MULTILINE))
    assert cited and cited <= set(listed), sorted(cited - set(listed))


def test_the_facts_file_names_every_step_that_relies_on_a_fact(flow):
    facts = FACTS_FILE.read_text("utf-8")
    relying = [s.id for s in flow.steps if s.kind == "instruction" and s.id != "start"]
    missing = [i for i in relying if f"`{i}`" not in facts
               and not (i.startswith("todo-") and "`todo-*`" in facts)]
    assert missing == []
