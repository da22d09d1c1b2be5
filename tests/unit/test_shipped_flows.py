"""What every shipped flow (flows/*.yaml) promises families, whatever its procedure: each
question, choice and paper names the official Chinese term they will meet on the government
app, and Chinese texts are typeset as Chinese. Checks of one flow's own facts stay in its
test_<flow>_content.py."""

import re
from pathlib import Path

import pytest
from flow_texts import shown, texts

from wizard.flow import loader, markdown

FLOWS = sorted((Path(__file__).resolve().parents[2] / "flows").glob("*.yaml"))


@pytest.fixture(scope="module", params=FLOWS, ids=lambda path: path.stem)
def path(request):
    return request.param


@pytest.fixture(scope="module")
def flow(path):
    result = loader.load_file(path)
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


# ---------------------------------------------------------------- typography

CJK = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
ASCII_PUNCT = r"[,.:;?!()]"
BAD_PUNCT = re.compile(rf"{CJK}{ASCII_PUNCT}|{ASCII_PUNCT}{CJK}")
SPACE_AFTER = re.compile(r"[。，、：；？！] ")
QUESTION_COLON = re.compile(r"[？?]\s*[：:]")
STRAIGHT_QUOTES = re.compile(rf'{CJK}"|"{CJK}')


def test_chinese_texts_use_full_width_punctuation(path):
    found = []
    for at, lang, text in texts(path):
        if lang not in ("zh_Hans", "zh_Hant"):
            continue
        read = shown(text)
        for rx, what in ((BAD_PUNCT, "ASCII punctuation next to a Chinese character"),
                         (SPACE_AFTER, "a space after Chinese punctuation"),
                         (QUESTION_COLON, "a question mark followed by a colon"),
                         (STRAIGHT_QUOTES, "straight quotes around Chinese words")):
            for m in rx.finditer(read):
                found.append(f"{at}: {what}: {read[max(0, m.start() - 6):m.end() + 6]!r}")
    assert not found, "\n".join(found)


def test_emphasis_renders_in_every_text(path):
    """CommonMark does not close `**` after Chinese punctuation when a character follows
    (`**不能放弃。**没`): the family would see the asterisks."""
    literal = [at for at, _lang, text in texts(path) if "**" in markdown.render(text)]
    assert not literal, literal
