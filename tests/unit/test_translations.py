"""Flow texts to PO catalogs and back: lossless, careful with changed sources, coverage."""

import io
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from wizard.flow import loader, translations

ROOT = Path(__file__).resolve().parent.parent.parent
KG = (ROOT / "flows" / "kindergarten-shanghai.yaml").read_text("utf-8")
BRANCHING = (ROOT / "tests" / "flows" / "branching.yaml").read_text("utf-8")


def messages(po_text):
    return {m.context: m for m in read_po(io.StringIO(po_text)) if m.id}


def translated(po_text, prefix):
    """The catalog with every message 'translated' as prefix + source text."""
    catalog = read_po(io.StringIO(po_text))
    for message in catalog:
        if message.id:
            message.string = prefix + message.id
    out = io.BytesIO()
    write_po(out, catalog)
    return out.getvalue().decode()


@pytest.mark.parametrize("lang", ["en", "zh_Hant", "ug"])
def test_kindergarten_round_trip_is_lossless(lang):
    """Export, import, compare: the file is byte for byte the same."""
    po = translations.export_po(KG, lang)
    result = translations.import_po(KG, po)
    assert result.problems == []
    assert result.text == KG
    assert result.updated == 0


def test_export_carries_paths_defaults_and_translator_notes():
    po = translations.export_po(KG, "en")
    found = messages(po)
    label = found["steps[1].fields[0].label"]
    assert label.id == "孩子的出生日期" and label.string == "Your child's date of birth"
    assert any("出生日期" in c for c in label.auto_comments)
    assert any("Markdown" in c for c in found["intro"].auto_comments)
    assert 'Language: en' in po


def test_import_adds_a_language_and_the_flow_still_loads():
    po = translated(translations.export_po(BRANCHING, "zh_Hant"), "繁:")
    result = translations.import_po(BRANCHING, po)
    assert result.problems == [] and result.updated > 10
    flow = loader.load_text(result.text).flow
    assert flow.languages == ("zh_Hans", "en", "zh_Hant")
    assert flow.step("hukou").title["zh_Hant"] == "繁:户籍"
    assert flow.step("hukou").title["en"] == "Household registration"  # untouched
    assert "# A small flow for engine and web tests" in result.text  # comments kept
    # And exporting again gives back exactly what was imported.
    again = messages(translations.export_po(result.text, "zh_Hant"))
    assert again["steps[1].title"].string == "繁:户籍"


def test_changed_source_is_skipped_and_named():
    po = translations.export_po(BRANCHING, "en")
    changed = BRANCHING.replace("{zh_Hans: 户籍, en: Household registration}",
                                "{zh_Hans: 户口, en: Household registration}")
    po = po.replace('msgstr "Household registration"', 'msgstr "Hukou"')
    result = translations.import_po(changed, po)
    assert any(p.startswith("steps[1].title: the zh_Hans text changed") for p in result.problems)
    assert "en: Household registration}" in result.text


def test_importing_the_default_language_is_refused():
    with pytest.raises(ValueError):
        translations.import_po(BRANCHING, translations.export_po(BRANCHING, "zh_Hans"))


def test_shipped_flows_are_complete_in_simplified_chinese_and_english():
    """CI fails if a shipped flow drops below 100% for zh_Hans or en."""
    for path in sorted((ROOT / "flows").glob("*.yaml")):
        rows = {c.lang: c for c in translations.coverage(path.read_text("utf-8"))}
        for lang in ("zh_Hans", "en"):
            assert rows[lang].percent == 100.0, (
                f"{path.name}: {lang} has {rows[lang].translated}/{rows[lang].total} texts")


def test_coverage_counts_missing_texts():
    text = BRANCHING.replace("{zh_Hans: 户籍, en: Household registration}", "{zh_Hans: 户籍}")
    rows = {c.lang: c for c in translations.coverage(text, ("ug",))}
    assert rows["en"].translated == rows["en"].total - 1
    assert rows["ug"].translated == 0 and rows["zh_Hans"].percent == 100.0


def test_import_keeps_section_comments_and_blank_lines_in_place():
    source = (
        "id: x\nversion: 1\nlanguages: [zh_Hans, en]\ntitle: {zh_Hans: 标题, en: Title}\n"
        "steps:\n  - id: a\n    kind: instruction\n    title: {zh_Hans: 甲, en: A}\n"
        "    body:\n      zh_Hans: |\n        正文\n      en: |\n        Body\n\n"
        "  # 2. Second section\n  - id: b\n    kind: instruction\n"
        "    title:\n      zh_Hans: 乙\n      en: B\n    body: 正文二\n")
    po = translated(translations.export_po(source, "zh_Hant"), "繁")
    text = translations.import_po(source, po).text
    assert "      zh_Hant: |\n        繁正文\n\n  # 2. Second section\n  - id: b" in text
    assert "      en: B\n      zh_Hant: 繁乙\n" in text
    assert loader.load_text(text).flow.step("b").body == {"zh_Hans": "正文二",
                                                          "zh_Hant": "繁正文二"}
