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
    assert any("steps[0].body.en: '{data.districts}' is a list or a mapping" in p
               for p in said), said
