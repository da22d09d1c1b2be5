"""`{data.key}` in flow texts: filled in by the loader, in each text's own language."""

import datetime

import pytest

from wizard.flow import loader, placeholders

DAY = datetime.date(2027, 4, 29)


@pytest.mark.parametrize("lang, full, day", [
    ("en", "April 29, 2027", "April 29"),
    ("zh_Hans", "2027年4月29日", "4月29日"),
    ("zh_Hant", "2027年4月29日", "4月29日"),
])
def test_a_date_is_written_as_each_language_writes_it(lang, full, day):
    data = {"closes": DAY, "closes_text": "2027-04-29"}
    assert placeholders.fill("{data.closes}", lang, data) == full
    assert placeholders.fill("{data.closes:day}", lang, data) == day
    assert placeholders.fill("{data.closes_text}", lang, data) == full  # an ISO string too


def test_uyghur_numbers_keep_their_suffix():
    text = placeholders.fill("{data.d:day}", "ug", {"d": DAY})
    assert "29\u2011" in text and "-" not in text


def test_numbers_and_words_as_they_are_and_other_braces_untouched():
    data = {"age": 6, "fee": 12.5, "office": "区教育局"}
    assert placeholders.fill("{data.age} {data.fee} {data.office} {other} {data.age:x}",
                             "en", data) == "6 12.5 区教育局 {other} {data.age:x}"


SOURCE = """
id: t
version: 1
languages: [zh_Hans, en]
title: {zh_Hans: 测试, en: Test}
data:
  closes: 2027-04-29
  districts: [a, b]
steps:
  - id: s
    kind: instruction
    title: {zh_Hans: 截止, en: "Closes {data.closes:day}"}
    body: {zh_Hans: "{data.closes}截止。", en: "It closes on {data.closes}."}
"""


def test_the_loader_fills_texts_and_names_a_wrong_placeholder_with_its_path():
    flow = loader.load_text(SOURCE, "t.yaml").flow
    step = flow.steps[0]
    assert step.title["en"] == "Closes April 29" and step.body["zh_Hans"] == "2027年4月29日截止。"
    bad = loader.load_text(SOURCE.replace("{data.closes}截止", "{data.close}截止").replace(
        "It closes on {data.closes}", "It closes on {data.districts}"), "t.yaml")
    said = [str(p) for p in bad.errors]
    assert any("steps[0].body.zh_Hans: '{data.close}' names no key of 'data'" in p
               for p in said), said
    assert any("steps[0].body.en: '{data.districts}' is not a date, a number or a word" in p
               for p in said), said


@pytest.mark.parametrize("written", ["{data.closes:year}", "{ data.closes }", "{data.closes:Day}",
                                     "{data.districts}", "{data.flag}", "{data.word:day}"])
def test_a_placeholder_that_cannot_be_filled_is_refused_never_shown(written):
    source = SOURCE.replace("  districts: [a, b]", "  districts: [a, b]\n  flag: true\n"
                            "  word: office").replace("Closes {data.closes:day}", written)
    result = loader.load_text(source, "t.yaml")
    assert result.flow is None
    assert any("steps[0].title.en:" in str(p) and written in str(p) for p in result.errors), \
        result.errors


def test_a_link_may_come_from_data_and_is_checked_as_it_will_be_shown():
    source = SOURCE.replace("  districts: [a, b]", "  portal: https://zwdt.sh.gov.cn\n"
                            "  bad: http://insecure.example").replace(
        '"It closes on {data.closes}."', '"[The portal]({data.portal})"')
    result = loader.load_text(source, "t.yaml")
    assert not result.errors, result.errors
    assert result.flow.steps[0].body["en"] == "[The portal](https://zwdt.sh.gov.cn)"
    refused = loader.load_text(source.replace("({data.portal})", "({data.bad})"), "t.yaml")
    assert any("steps[0].body.en" in str(p) for p in refused.errors), refused.errors
