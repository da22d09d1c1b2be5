"""Flow files are hostile input: staff will upload them through the studio. Whatever a file
holds, the loader ends quickly, in little memory, with a flow or with problems (each saying
which bound was hit and its value), never a traceback; and a flow that passes can be walked.
"""

from __future__ import annotations

import copy
import datetime
import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wizard import engine
from wizard.flow import conditions, loader, markdown

FLOWS = Path(__file__).resolve().parent.parent / "flows"
SOURCE = (FLOWS / "branching.yaml").read_text("utf-8")
DOC = yaml.load(SOURCE, Loader=loader._Loader)
# Bounds on hostile input, in CPU seconds of this thread (time.thread_time): other processes
# on a busy machine cannot push a check over them, only a check that really works too long.
SECONDS = 5.0  # a real check takes milliseconds to a second


def doc() -> dict:
    return copy.deepcopy(DOC)


def dump(document: Any) -> str:
    # The C dumper when there is one: some documents here are a megabyte.
    try:
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return yaml.dump(document, Dumper=dumper, allow_unicode=False, sort_keys=False)
    except UnicodeEncodeError:  # libyaml cannot write a lone surrogate; PyYAML escapes it
        return yaml.dump(document, Dumper=yaml.SafeDumper, allow_unicode=False, sort_keys=False)


def check(text: str) -> loader.LoadResult:
    """Load, within the time bound, into a flow or problems; walk every flow that passes."""
    start = time.thread_time()
    result = loader.load_text(text, "hostile.yaml")
    elapsed = time.thread_time() - start
    assert elapsed < SECONDS, f"the check took {elapsed:.1f} s"
    assert isinstance(result, loader.LoadResult)
    assert (result.flow is None) == bool(result.errors)
    for problem in result.problems:
        line = str(problem)
        line.encode("utf-8")  # printable, even with lone surrogates in the file
        assert len(line) < 2000, line[:200]
    if result.flow is not None:
        walk(result.flow)
    return result


def walk(flow) -> None:
    """What the engine does with a flow: every condition, with no answers, never raises."""
    engine.journey(flow, {}, today=datetime.date(2027, 3, 1))
    for step in flow.steps:
        rules = [step.show_if] + [f.show_if for f in step.fields] + [f.expr for f in step.fields]
        rules += [c.show_if for f in step.fields for c in f.choices]
        for rule in rules:
            if rule is not None:
                conditions.evaluate(rule, {}, today="2027-03-01")


def errors_of(text: str) -> list[str]:
    return [str(p) for p in check(text).errors]


# ---------------------------------------------------------------- the defects, one by one


def test_alias_bomb_is_refused_at_once():
    bomb = "lol: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for i in range(1, 10):
        bomb += f"l{i}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 9) + "]\n"
    for text in (bomb, SOURCE + bomb, SOURCE.replace("data:\n", "data:\n  x: " + "[" * 5 + "&z 1"
                                                     + "]" * 5 + "\n  y: *z\n")):
        (error,) = errors_of(text)
        assert "anchors and aliases" in error
    (error,) = errors_of(SOURCE + "copy: *nothing\n")
    assert "the alias *nothing is not allowed" in error
    lines = SOURCE.count("\n")
    assert errors_of(SOURCE + bomb)[0].startswith(f"hostile.yaml:{lines + 1}:")


def test_merge_keys_need_aliases_and_are_refused_too():
    text = SOURCE + "base: &base {a: 1}\nother:\n  <<: *base\n"
    assert "anchor &base is not allowed" in errors_of(text)[0]


def test_size_is_checked_before_parsing():
    big = "# " + "x" * loader.MAX_FILE_BYTES + "\n" + SOURCE
    start = time.thread_time()
    (error,) = errors_of(big)
    assert time.thread_time() - start < 0.5
    assert "over the limit of 1,048,576 bytes (1 MiB)" in error
    # bytes, not characters: 400,000 Chinese characters are 1.2 MB of UTF-8
    chinese = "# " + "字" * 400_000 + "\n" + SOURCE
    (error,) = errors_of(chinese)
    assert f"the file is {len(chinese.encode()):,} bytes, over the limit" in error


def test_a_19_mb_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as f:
        f.truncate(19_500_000)  # sparse: nothing is written, and nothing must be read
    start = time.thread_time()
    (error,) = loader.load_file(path).errors
    assert time.thread_time() - start < 0.5
    assert "the file is 19,500,000 bytes, over the limit of 1,048,576 bytes" in error.message
    big = tmp_path / "two-gigabytes.yaml"
    with big.open("wb") as f:
        f.truncate(2 * 1024**3)
    assert "over the limit" in loader.load_file(big).errors[0].message


def test_only_regular_files_are_read(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # opening it would wait for a writer for ever
    assert "not a regular file" in loader.load_file(fifo).errors[0].message
    assert "cannot read" in loader.load_file(tmp_path).errors[0].message or \
        "not a regular file" in loader.load_file(tmp_path).errors[0].message


def test_shipped_flows_are_well_within_the_bounds():
    for path in (FLOWS.parent.parent / "flows").glob("*.yaml"):
        assert path.stat().st_size < loader.MAX_FILE_BYTES / 4
        result = loader.load_file(path)
        assert result.flow is not None and not result.errors


@pytest.mark.parametrize("mutate, words", [
    (lambda d: d["steps"].extend(
        {"id": f"s{i}", "kind": "instruction", "title": "t", "body": "b"} for i in range(200)),
     " steps: 207 steps, over the limit of 200"),
    (lambda d: d["steps"][4]["fields"].extend(
        {"id": f"f{i}", "type": "yes_no", "label": "l"} for i in range(30)),
     " steps[4].fields: 32 fields, over the limit of 30"),
    (lambda d: d["steps"][1]["fields"][0]["choices"].extend(
        {"value": f"c{i}", "label": "l"} for i in range(300)),
     " steps[1].fields[0].choices: 302 choices, over the limit of 300"),
    (lambda d: d["steps"][5]["items"].extend(
        {"id": f"i{i}", "label": "l"} for i in range(300)),
     " steps[5].items: 302 items, over the limit of 300"),
    (lambda d: d.update(languages=[f"l{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(21)]),
     " languages: 21 languages, over the limit of 20"),
    (lambda d: d["data"].update(big=list(range(1001))),
     " data.big: 1,001 entries, over the limit of 1,000"),
    (lambda d: d["steps"][6]["body"].update(en="x" * 20_001),
     "steps[6].body.en: a text of 20,001 characters, over the limit of 20,000"),
    (lambda d: d["data"].update({"k" * 201: 1}),
     " data: a key of 201 characters, over the limit of 200"),
])
def test_each_bound_names_itself_and_its_value(mutate, words):
    d = doc()
    mutate(d)
    result = loader.load_document(d, "bounds.json")
    assert result.flow is None
    assert any(words in str(p) for p in result.errors), result.errors


def test_bounds_in_yaml_are_found_while_parsing():
    deep = SOURCE.replace("data:\n", "data:\n  deep: " + "[" * 25 + "]" * 25 + "\n")
    (error,) = errors_of(deep)
    assert "nested more than 20 levels deep" in error and error.startswith("hostile.yaml:12:")
    many = SOURCE + "more: [" + ", ".join(["1"] * 50_001) + "]\n"
    (error,) = errors_of(many)
    assert "more than 50,000 values" in error
    long_text = SOURCE.replace("en: Test flow", "en: '" + "x" * 20_001 + "'")
    (error,) = errors_of(long_text)
    assert "a text of 20,001 characters starts here, over the limit of 20,000" in error
    assert error.startswith("hostile.yaml:5:")


def test_json_documents_are_bounded_too():
    d = doc()
    deep: Any = "x"
    for _ in range(5000):  # deeper than Python's recursion limit
        deep = [deep]
    d["data"]["deep"] = deep
    result = loader.load_document(d, "deep.json")
    assert any("nested more than 20 levels" in str(p) for p in result.errors)


def test_markdown_has_a_budget():
    d = doc()
    d["steps"].extend({"id": f"m{i}", "kind": "instruction", "title": "t",
                       "body": "[a](https://e.org) " + "x" * 19_000} for i in range(3))
    result = loader.load_document(d, "md.json")
    assert any(" steps[9].body: the Markdown texts with links or HTML up to here come to "
               "57,0" in str(p) and "over the limit of 50,000 for a flow" in str(p)
               for p in result.errors), result.errors
    # Markdown at its slowest (a picture opened every two characters), up to the budget
    d = doc()
    d["steps"].extend({"id": f"m{i}", "kind": "instruction", "title": "t",
                       "body": "<" + "![" * 4_950} for i in range(5))
    start = time.thread_time()
    assert not loader.load_document(d, "md.json").errors
    assert time.thread_time() - start < SECONDS
    # texts that cannot hold a link or HTML are not parsed, so they cost nothing
    d = doc()
    d["steps"].extend({"id": f"m{i}", "kind": "instruction", "title": "t", "body": "![" * 9_500}
                      for i in range(20))
    start = time.thread_time()
    assert not loader.load_document(d, "md.json").errors
    assert time.thread_time() - start < 1


def test_many_misspelt_names_stay_quick():
    d = doc()
    d["steps"] += [{"id": f"s{i}", "title": "t", "fields": [
        {"id": f"f{i}_{j}", "type": "yes_no", "label": "l", "show_if": f"g{i}_{j} or h{j}"}
        for j in range(30)]} for i in range(150)]
    start = time.thread_time()
    result = loader.load_document(d, "names.json")
    assert time.thread_time() - start < SECONDS
    assert len(result.errors) == loader.MAX_ERRORS + 1
    assert "stopped after 100 errors" in str(result.errors[-1])


@pytest.mark.parametrize("text, words", [
    ("id: x\x00\n", "cannot contain ('\\x00'"),
    ("id: x\n\x07: 1\n", "cannot contain ('\\x07'"),
    ("id: 'x\ud800'\n", "cannot contain ('\\ud800'"),
])
def test_raw_control_characters_are_refused_with_their_line(text, words):
    (error,) = errors_of(text)
    assert words in error and error.startswith(f"hostile.yaml:{text.count(chr(10))}:")


def test_escaped_nul_and_lone_surrogates_in_texts_are_problems():
    text = SOURCE.replace("en: Test flow", 'en: "Test\\0flow"')
    assert any(" title.en: this text holds a character that cannot be shown" in e
               for e in errors_of(text))
    # YAML escapes of lone surrogates: libyaml refuses them, pure-Python PyYAML reads them;
    # JSON (the studio) can carry them too.
    escaped = SOURCE.replace('show_if: "has_permit"', 'show_if: "has_permit or \\ud800"')
    assert errors_of(escaped)
    d = doc()
    d["summary"]["en"] = "For \ud800 tests"
    d["steps"][3]["show_if"] = "has_permit or '\udc00'"
    d["data"]["\ud800"] = 1
    errors = [str(p) for p in loader.load_document(d, "s.json").errors]
    assert any(" summary.en: this text holds a character that cannot be shown" in e
               for e in errors)
    assert any(" steps[3].show_if: character 16 of this condition is a lone surrogate" in e
               for e in errors)
    assert any(" data.\\ud800: this key holds" in e for e in errors), errors
    assert all(e.encode("utf-8") for e in errors)


def test_values_a_flow_cannot_hold():
    for value, words in (("!!binary aGVsbG8=", "this is a bytes"),
                         ("1" * 101, "is far too long"),
                         ("1" * 20, "is too large; a flow uses numbers up to"),
                         (".nan", "nan is not a number a flow can use"),
                         ("!!python/object:os.system ls", "could not determine a constructor")):
        errors = errors_of(SOURCE.replace("minutes: 5", f"minutes: 5\nextra_data: {value}"))
        assert any(words in e for e in errors), (value, errors)
    errors = errors_of(SOURCE.replace("points_standard", "x").replace(
        "cutoff: 2027-08-31", "cutoff: 2027-08-31\n  n: 99999999999999999999"))
    assert any(" data.n: the number 99999999999999999999 is too large" in e for e in errors)


# ---------------------------------------------------------------- the property


EXPRESSIONS = st.one_of(
    st.integers(0, 400).map(lambda n: "not " * n + "has_permit"),
    st.integers(0, 400).map(lambda n: "(" * n + "has_permit" + ")" * n),
    st.integers(0, 700).map(lambda n: " and ".join(["has_permit"] * n) or "true"),
    st.integers(0, 300).map(lambda n: "has_permit" + " + has_permit" * n + " > 1"),
    st.integers(0, 5000).map(lambda n: f"'{'a' * n}' * 100000000"),
    st.integers(0, 10**9).map(lambda n: f"has_permit * {n} * {n} * {n} > '{n}'"),
    st.sampled_from([
        " ", "\n", "\t ", "", "ｈｕｋｏｕ == 'shanghai'", "hukou == 'ｓｈａｎｇｈａｉ'",
        "хukou == 'other'", "age_months(child_dob, '2027-02-30') > 1",
        "age_months(child_dob, '31/08/2027') > 1", "days_between(today(), '2027-09-31') > 0",
        "has_permit == '\ud800'", "has_permit == 'a\x00'", "'a' + 'b' == 'ab'", "-'a'",
        "max(-0.0, 0) == 0", "1 / min(0, -0.0) < 0", "has_permit % 0 == 0", "1e308 * 10 > 1",
        "data.cutoff * 2", "data.nope", "count(hukou) > 1", "has_permit if true else",
        "age_months(child_dob, data.cutoff) >= 36 and hukou != 'shanghai'", "has_permit",
        "days_between(today(), data.cutoff) > 100 or not has_permit", "hukou in ['other']",
        "__import__('os')", "lambda: 1", "[1] * 3", "99999999999999999999 > 1",
        "'2027-02-29' < today()", "hukou == 'other' # comment", "has_permit\n or hukou",
    ]),
    st.text(max_size=60),
)

# Places where has_permit, hukou and child_dob are earlier answers
PLACES = [("steps", 3, "show_if"), ("steps", 4, "show_if"), ("fields", (3, 0), "show_if"),
          ("fields", (4, 1), "show_if"), ("items", (5, 1), "show_if")]

TEXTS = st.one_of(
    st.sampled_from([19_999, 20_000, 20_001, 200_000]).map(lambda n: "x" * n),
    st.text(max_size=40),
    st.sampled_from(["\x00", "\ud800", "\udfff tail", "[" * 5000, "<script>x</script>",
                     "[a](javascript:alert(1))", "![p](https://e.org/p.png)"]),
)

DATES = st.one_of(
    st.tuples(st.integers(0, 9999), st.integers(0, 15), st.integers(0, 40)).map(
        lambda t: f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}"),
    st.tuples(st.integers(1, 40), st.integers(1, 15), st.integers(1900, 2100)).map(
        lambda t: f"{t[0]}/{t[1]}/{t[2]}"),
    st.sampled_from(["2027-8-31", "2027年8月31日", "2027-04-22T09:00", "06-30", "31.08.2027"]),
)


def set_expression(d: dict, where: tuple, source: str) -> None:
    kind, index, key = where
    if kind == "steps":
        d["steps"][index][key] = source
    elif kind == "fields":
        d["steps"][index[0]]["fields"][index[1]][key] = source
    else:
        d["steps"][index[0]]["items"][index[1]][key] = source


@st.composite
def hostile_documents(draw) -> str:
    """The test flow with a few hostile changes, as YAML text."""
    d = doc()
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(["expression", "text", "date", "steps", "fields", "choices",
                                     "nesting", "shared", "timezone"]))
        if kind == "expression":
            set_expression(d, draw(st.sampled_from(PLACES)), draw(EXPRESSIONS))
        elif kind == "text":
            step = draw(st.integers(0, 6))
            d["steps"][step]["title"] = {"zh_Hans": draw(TEXTS), "en": draw(TEXTS)}
        elif kind == "date":
            d["data"][draw(st.sampled_from(["cutoff", "other"]))] = draw(DATES)
        elif kind == "steps":
            n = draw(st.sampled_from([1, 50, 199, 201, 260]))
            d["steps"] += [{"id": f"extra-{i}", "title": "t", "fields": [
                {"id": f"extra_{i}", "type": "yes_no", "label": "l",
                 "show_if": draw(st.sampled_from(["has_permit", f"extra_{max(i - 1, 0)}",
                                                  "nobody", " "]))}]} for i in range(n)]
        elif kind == "fields":
            n = draw(st.sampled_from([5, 29, 31, 100]))
            d["steps"][4]["fields"] += [{"id": f"more_{i}", "type": "text", "label": "l"}
                                        for i in range(n)]
        elif kind == "choices":
            n = draw(st.sampled_from([10, 299, 301, 1000]))
            d["steps"][1]["fields"][0]["choices"] += [{"value": f"c{i}", "label": "l"}
                                                      for i in range(n)]
        elif kind == "nesting":
            depth = draw(st.integers(1, 60))
            value: Any = "leaf"
            for _ in range(depth):
                value = draw(st.sampled_from([[value], {"k": value, "j": 1}]))
            d["data"]["nested"] = value
        elif kind == "shared":  # the dumper writes a shared object as an anchor and aliases
            width, depth = draw(st.integers(2, 9)), draw(st.integers(1, 9))
            value = ["lol"]
            for _ in range(depth):
                value = [value] * width
            d["data"]["laughs"] = value
        elif kind == "timezone":
            d["timezone"] = draw(st.one_of(
                st.sampled_from(["Asia/Shanghai", "Asia/Urumqi", "UTC", "Asia/Shangai", "",
                                 "../../../etc/passwd", "/etc/localtime", "Asia", "x" * 300,
                                 "a\x00b"]),
                st.text(max_size=20)))
    if draw(st.integers(0, 5)) == 0:  # a top-level key replaced by junk
        d[draw(st.sampled_from(["data", "steps", "title", "version", "languages"]))] = \
            draw(st.one_of(st.none(), st.integers(-2**70, 2**70), st.text(max_size=10),
                           st.floats(allow_nan=True)))
    text = dump(d)
    if draw(st.integers(0, 3)) == 0:  # and a change to the text itself
        text = draw(st.sampled_from([
            lambda t: t + "\n" + t,  # every key twice
            lambda t: t.replace("steps:", "steps: &s", 1),
            lambda t: t.replace("title:", "title: \x00", 1),
            lambda t: t.replace('"', "", 1).replace("'", "", 1),
            lambda t: t[: len(t) // 2],
            lambda t: "# " + "x" * loader.MAX_FILE_BYTES + "\n" + t,
            lambda t: "\t" + t,
            lambda t: t + "\n---\nsecond: document\n",
        ]))(text)
    return text


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.large_base_example])
@given(hostile_documents())
def test_hostile_documents_end_quickly_with_a_flow_or_problems(text):
    check(text)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.lists(st.sampled_from(["[", "]", "(", ")", "!", "<", ">", ":", " ", "\n", "\n\n", "x",
                                 "javascript:x", "https://e.org", "*", "`", "\\", "&lt;", "[x]",
                                 "![x]", "[x]:", "[x][x]", "[]", "<x>", "<https://e.org>"]),
               max_size=12).map("".join))
def test_markdown_skipped_by_the_budget_cannot_hold_a_problem(text):
    """needs_parsing() is what lets the budget skip a text: it must never skip a problem."""
    if markdown.needs_parsing(text):
        return
    found = []
    for token in markdown._checker.parse(text, {}):
        for t in [token, *(token.children or [])]:
            if t.type in ("html_block", "html_inline", "image", "link_open"):
                found.append(t.type)
    assert not found, (text, found)
