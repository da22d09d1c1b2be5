"""Flow texts to PO catalogs and back: lossless, careful with changed sources, coverage."""

import io
from pathlib import Path

import pytest
from babel.messages.pofile import PoFileError, read_po, write_po

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


# ---------------------------------------------------------------- the studio's table

TINY = ("# Tiny flow.\nid: tiny\nversion: 1\nlanguages: [zh_Hans, en]\n"
        "title: {zh_Hans: 小流程, en: Tiny flow}\n"
        "steps:\n  - id: hello\n    kind: instruction\n"
        "    title: {zh_Hans: 你好, en: Hello}   # shown big\n"
        "    body:\n      zh_Hans: |\n        正文\n        第二行\n      en: |\n        Body\n"
        "        second line\n\n"
        "  # The last step.\n  - id: bye\n    kind: instruction\n    title: {zh_Hans: 再见}\n"
        "    body: {zh_Hans: 好, en: 好}\n")


def states(rows):
    return {r.path: r.state for r in rows}


def test_table_lists_every_text_with_its_state():
    rows = translations.table(TINY, "en")
    assert [r.path for r in rows] == ["title", "steps[0].title", "steps[0].body",
                                      "steps[1].title", "steps[1].body"]
    assert states(rows) == {"title": "ok", "steps[0].title": "ok", "steps[0].body": "ok",
                            "steps[1].title": "missing", "steps[1].body": "same"}
    body = rows[2]
    assert body.markdown and not rows[1].markdown and body.key == "body"
    assert body.source == "正文\n第二行\n" and body.translation == "Body\nsecond line\n"
    assert translations.counts(rows) == {"missing": 1, "outdated": 0, "same": 1, "ok": 3}
    assert states(translations.table(TINY, "ug")) == dict.fromkeys(states(rows), "missing")
    # The same texts export_po exports.
    assert len(rows) == len(messages(translations.export_po(TINY, "en")))


def test_table_carries_the_official_term():
    rows = {r.path: r for r in translations.table(BRANCHING, "en")}
    assert rows["steps[0].fields[0].label"].official == "出生日期"
    assert rows["steps[0].title"].official is None


def test_out_of_date_is_a_changed_source_with_an_unchanged_translation():
    draft = TINY.replace("version: 1", "version: 2").replace("你好", "您好").replace(
        "title: {zh_Hans: 小流程, en: Tiny flow}", "title: {zh_Hans: 小小流程, en: Tiny flow!}")
    # A step inserted above moves every path: texts are matched by step id, not place.
    draft = draft.replace("steps:\n", "steps:\n  - id: new\n    kind: instruction\n"
                          "    title: {zh_Hans: 新}\n    body: {zh_Hans: 新的}\n")
    rows = {r.path: r for r in translations.table(draft, "en", TINY)}
    assert rows["steps[1].title"].state == "outdated"
    assert rows["steps[1].title"].before == "你好"
    assert rows["title"].state == "ok"  # its translation followed
    assert rows["steps[1].body"].state == "ok" and rows["steps[1].body"].before is None
    assert rows["steps[0].title"].state == "missing"  # new: nothing to be out of date with
    # Without a published version nothing can be out of date.
    assert "outdated" not in states(translations.table(draft, "en"))


def test_apply_writes_translations_and_keeps_the_rest_of_the_file():
    text = translations.apply(TINY, "en", {"steps[1].title": "Goodbye",
                                           "steps[0].title": "Hi"})
    changed = [(a, b) for a, b in zip(TINY.splitlines(), text.splitlines()) if a != b]
    assert len(TINY.splitlines()) == len(text.splitlines())
    # ruamel keeps an end-of-line comment at its column
    assert changed == [("    title: {zh_Hans: 你好, en: Hello}   # shown big",
                        "    title: {zh_Hans: 你好, en: Hi}      # shown big"),
                       ("    title: {zh_Hans: 再见}", "    title: {zh_Hans: 再见, en: Goodbye}")]
    flow = loader.load_text(text).flow
    assert flow.step("bye").title == {"zh_Hans": "再见", "en": "Goodbye"}


def test_apply_ignores_what_a_textarea_adds_and_keeps_blocks():
    same = {"steps[0].body": "Body\r\nsecond line\r\n\r\n", "steps[0].title": " Hello "}
    assert translations.apply(TINY, "en", same) is TINY
    text = translations.apply(TINY, "en", {"steps[0].body": "New body\r\nline two"})
    assert "      en: |\n        New body\n        line two\n\n  # The last step." in text
    assert loader.load_text(text).flow.step("hello").body["en"] == "New body\nline two\n"


def test_apply_with_an_empty_text_removes_that_language_only():
    text = translations.apply(TINY, "en", {"steps[0].body": "", "steps[1].body": " "})
    assert "      zh_Hans: |\n        正文\n        第二行\n\n  # The last step." in text
    assert "body: {zh_Hans: 好}\n" in text
    assert loader.load_text(text).flow is not None
    # Removing what is not there changes nothing.
    assert translations.apply(TINY, "en", {"steps[1].title": ""}) is TINY


def test_apply_quotes_words_yaml_1_1_would_not_read_as_text():
    text = translations.apply(TINY, "en", {"steps[1].title": "No", "title": "on"})
    flow = loader.load_text(text).flow
    assert flow.step("bye").title["en"] == "No" and flow.title["en"] == "on"


def test_apply_adds_a_new_language_and_refuses_unknown_paths():
    text = translations.apply(TINY, "ug", {"title": "كىچىك"})
    assert "languages: [zh_Hans, en, ug]" in text
    assert translations.table(text, "ug")[0].translation == "كىچىك"
    with pytest.raises(ValueError):
        translations.apply(TINY, "en", {"steps[9].title": "x"})
    with pytest.raises(ValueError):
        translations.apply(TINY, "zh_Hans", {"title": "x"})


def test_import_writes_yes_and_no_as_text():
    po = translations.export_po(TINY, "en").replace(
        'msgid "再见"\nmsgstr ""', 'msgid "再见"\nmsgstr "No"')
    result = translations.import_po(TINY, po)
    assert result.updated == 1
    assert loader.load_text(result.text).flow.step("bye").title["en"] == "No"


def test_import_refuses_another_flows_catalog_and_a_broken_file():
    po = translations.export_po(BRANCHING, "en")
    assert translations.catalog_flow(po) == "branching"
    assert translations.catalog_language(po) == "en"
    with pytest.raises(ValueError, match="for the flow 'branching'"):
        translations.import_po(TINY, po)
    with pytest.raises(PoFileError):
        translations.import_po(TINY, "not a catalog\n")
    with pytest.raises(PoFileError):
        translations.check_po("not a catalog\n")
    translations.check_po(po)
