"""What every shipped flow (flows/*.yaml) promises families, whatever its procedure: each
question, choice and paper names the official Chinese term they will meet on the government
app. Checks of one flow's own facts stay in its test_<flow>_content.py."""

import re
from pathlib import Path

import pytest

from wizard.flow import loader

FLOWS = sorted((Path(__file__).resolve().parents[2] / "flows").glob("*.yaml"))


@pytest.fixture(scope="module", params=FLOWS, ids=lambda path: path.stem)
def flow(request):
    result = loader.load_file(request.param)
    assert not result.errors, "\n".join(map(str, result.errors))
    return result.flow


def test_there_are_shipped_flows():
    assert len(FLOWS) >= 2


def test_every_input_field_choice_and_checklist_item_has_its_official_term(flow):
    missing = []
    for step in flow.steps:
        for field in step.fields:
            if field.type == "checklist":
                missing += [f"{step.id}: item {c.value}" for c in field.choices
                            if not (c.official or "").strip()]
                continue
            if field.is_input and not (field.official or "").strip():
                missing.append(f"{step.id}: field {field.id}")
            missing += [f"{step.id}: {field.id} choice {c.value}" for c in field.choices
                        if not (c.official or "").strip()]
    assert not missing, "no `official` term: " + ", ".join(missing)


def test_official_terms_are_chinese(flow):
    terms = [(f.id, f.official) for s in flow.steps for f in s.fields if f.official]
    terms += [(c.value, c.official) for s in flow.steps for f in s.fields for c in f.choices
              if c.official]
    latin = [(k, t) for k, t in terms if re.search(r"[A-Za-z]", t)]
    assert not latin, latin
