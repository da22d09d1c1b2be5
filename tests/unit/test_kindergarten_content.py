"""The kindergarten flow's content: official terms, typography, facts and what families see first.

These tests read the shipped flow (flows/kindergarten-shanghai.yaml) and its facts file
(flows/kindergarten-shanghai.md); they check the words, not the engine.
"""

import re
from pathlib import Path

import flow_texts
import pytest
from flow_texts import shown

from wizard import engine
from wizard.flow import loader

ROOT = Path(__file__).resolve().parent.parent.parent
FLOW_FILE = ROOT / "flows" / "kindergarten-shanghai.yaml"
FACTS_FILE = ROOT / "flows" / "kindergarten-shanghai.md"
LANGUAGES = ("zh_Hans", "en", "zh_Hant", "ug")


@pytest.fixture(scope="module")
def flow():
    result = loader.load_file(FLOW_FILE)
    assert not result.problems, "\n".join(map(str, result.problems))
    return result.flow


def texts():
    return flow_texts.texts(FLOW_FILE)


# ------------------------------------------------ papers (official terms: test_shipped_flows.py)


def test_every_checklist_item_has_help_in_every_language(flow):
    lacking = [f"{c.value} ({lang})"
               for step in flow.steps if step.kind == "checklist"
               for field in step.fields for c in field.choices
               for lang in LANGUAGES if not (c.help or {}).get(lang, "").strip()]
    assert not lacking, "checklist items without help: " + ", ".join(lacking)


def test_the_start_page_lists_the_papers_every_family_needs(flow):
    """Items with no condition are the start page's "have these ready"."""
    common = {c.value for c in engine.common_documents(flow)}
    assert {"household_register", "parent_id_card", "birth_certificate",
            "vaccination_certificate"} <= common


# ---------------------------------------------------------------- typography

# A number and the Uyghur suffix after it must stay on one line: joined with U+2011 (5‑ئاي),
# never with an ASCII hyphen (a line may break after it) or a plain space before a case suffix.
UG_SPLIT_HYPHEN = re.compile(r"\d-")
UG_SUFFIXES = "نىڭ|نى|غا|گە|قا|كە|دا|دە|تا|تە|دىن|تىن|دىكى|تىكى"
UG_SPLIT_SUFFIX = re.compile(rf"\d ({UG_SUFFIXES})(?=[\s.،؛:!?]|$)")


def test_uyghur_numbers_stay_with_their_suffix():
    found = []
    for path, lang, text in texts():
        if lang != "ug":
            continue
        for rx in (UG_SPLIT_HYPHEN, UG_SPLIT_SUFFIX):
            for m in rx.finditer(text):
                found.append(f"{path}: {text[max(0, m.start() - 6):m.end() + 6]!r}")
    assert not found, "join the number and its suffix with U+2011 (or U+00A0):\n" + \
        "\n".join(found)


def test_every_text_is_translated_into_every_language():
    for path, lang, _text in texts():
        assert lang in LANGUAGES, path
    by_path = {}
    for path, lang, text in texts():
        by_path.setdefault(path.rsplit(".", 1)[0], {})[lang] = text
    partial = [p for p, t in by_path.items() if set(t) != set(LANGUAGES)
               or not all(v.strip() for v in t.values())]
    assert not partial, partial


# ---------------------------------------------------------------- facts


def test_a_text_that_gives_the_deadline_also_says_when_registration_opens():
    closes = {"zh_Hans": "4月29日", "zh_Hant": "4月29日", "en": "29 April",
              "ug": "29\u2011كۈن"}
    opens = {"zh_Hans": "4月22日", "zh_Hant": "4月22日", "en": "22 April",
             "ug": "22\u2011كۈن"}
    lonely = [path for path, lang, text in texts()
              if closes[lang] in shown(text) and opens[lang] not in shown(text)]
    assert not lonely, lonely


def test_points_are_priority_not_a_gate(flow):
    """Reaching the points standard gives priority; no step or item is opened or closed by it
    except the points notice itself."""
    uses = [s.id for s in flow.steps if "permit_points" in (s.show_if_source or "")]
    items = [c.value for s in flow.steps for f in s.fields for c in f.choices
             if "permit_points" in (c.show_if_source or "")]
    assert uses == [] and items == ["points_notice"]
    body = flow.step("permit-points").body
    assert "优先" in body["zh_Hans"] and "priority" in body["en"]


def test_guardian_1_is_the_insured_permit_holder(flow):
    guardian = flow.step("guardian")
    for text in (guardian.body, guardian.fields[0].help):
        assert "居住证" in text["zh_Hans"] and "社保" in text["zh_Hans"]
        assert "residence permit" in text["en"] and "social insurance" in text["en"]


def test_registration_order_does_not_matter_and_the_service_can_be_found(flow):
    for text in (flow.intro, flow.step("stage-register").body):
        assert "不影响录取" in text["zh_Hans"] and "admission" in text["en"]
    register = flow.step("stage-register").body
    for lang in LANGUAGES:
        assert "2027年适龄幼儿入园" in register[lang]


def test_to_do_steps_come_before_the_stages_each_with_its_condition(flow):
    ids = [s.id for s in flow.steps]
    todos = [s for s in flow.steps if s.id.startswith("todo-")]
    assert todos
    for step in todos:
        assert step.kind == "instruction" and step.show_if is not None, step.id
        assert ids.index("documents") < ids.index(step.id) < ids.index("stage-register")
        assert "4月22日前" in step.title["zh_Hans"] and "22 April" in step.title["en"]


def test_the_facts_file_backs_the_data_and_the_flow_points_only_inside_the_project(flow):
    source = FLOW_FILE.read_text("utf-8")
    assert "/work/" not in source and "../" not in source
    assert "flows/kindergarten-shanghai.md" in source
    facts = FACTS_FILE.read_text("utf-8")
    for key in flow.data:
        if key not in ("typical", "districts"):
            assert f"`{key}`" in facts, f"data.{key} is not explained in {FACTS_FILE.name}"
    assert re.search(r"https?://", facts), "the facts file gives no source links"
