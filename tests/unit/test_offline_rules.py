"""The offline phone walks the same journeys and says the same things as the server.

wizard/offline_rules.py gives the phone a flow's rules and texts; static/js/journey.js and
static/js/fieldrules.js run them. Here engine.py and display.py work out, for the shipped flow
and the test flows, every branch (tests/branch_walk.py), many answer sets along them (and broken
ones), the steps, fields, choices, calculated values, navigation, progress, problems, review,
answer sheet, what submitted pages read as and where a change from the review leads; node does
the same through tests/js/run_journey_vectors.cjs (one process per file of cases), and both
must agree exactly. The sentences (error messages, answers as read, dates) are compared in all
four languages.
"""

from __future__ import annotations

import datetime
import functools
import gzip
import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import branch_walk
import pytest
from test_field_vectors import same  # equal JSON values of identical JSON types

from wizard import display, engine, i18n, offline_rules
from wizard.flow import conditions, fieldtypes, loader
from wizard.flow.fieldtypes import Invalid
from wizard.flow.model import Field, Flow

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "js" / "run_journey_vectors.cjs"
JS = ROOT / "static" / "js"
NODE = shutil.which("node")
TODAY = datetime.date(2027, 3, 1)  # as tests/conftest.py
FLOWS = {"kindergarten": ROOT / "flows" / "kindergarten-shanghai.yaml",
         "primary": ROOT / "flows" / "primary-shanghai.yaml",
         "branching": ROOT / "tests" / "flows" / "branching.yaml",
         "every_type": ROOT / "tests" / "flows" / "every_type.yaml"}
LANGS = ("zh_Hans", "zh_Hant", "en", "ug")


@functools.lru_cache(maxsize=None)
def load(name: str) -> Flow:
    result = loader.load_file(FLOWS[name])
    assert not result.errors, "\n".join(map(str, result.errors))
    return result.flow


def jsonable(value: Any) -> Any:
    """As JSON carries it to the phone (dates as YYYY-MM-DD)."""
    return json.loads(json.dumps(value, default=str))


def canon(value: Any) -> Any:
    """Numbers by value (JavaScript has no 12.0 to tell from 12), never equal to booleans."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return [canon(v) for v in value]
    return {k: canon(v) for k, v in value.items()}


def run_node(payload: dict, tmp_path: Path) -> list:
    if NODE is None:
        pytest.skip("node is not on PATH, so static/js/journey.js cannot be checked")
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(payload, default=str), encoding="utf-8")
    proc = subprocess.run([NODE, str(RUNNER), str(path)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# --------------------------------------------------------------------------------------------
# flow_rules and flow_texts: shape
# --------------------------------------------------------------------------------------------

def walk_dicts(rules: dict):
    """The dicts flow_rules builds (not the compiled conditions inside them)."""
    for step in rules["steps"]:
        yield step
        for f in step.get("fields", []):
            yield f
            yield from f.get("choices", [])


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_flow_rules_are_compact_json_and_need_no_app(name):
    flow = load(name)
    rules = offline_rules.flow_rules(flow)  # no Flask app or request here
    assert json.loads(json.dumps(rules, allow_nan=False)) == rules
    assert set(rules) == {"id", "version", "timezone", "default_language", "answer_sheet",
                          "steps"}
    assert rules["timezone"] == flow.timezone and rules["answer_sheet"] == list(flow.answer_sheet)
    for d in walk_dicts(rules):
        assert not [v for v in d.values() if v is None or v is False or v in ("", [], {})], d
    for step, s in zip(rules["steps"], flow.steps):
        assert step.get("reads", []) == sorted(conditions.variables(s.show_if)
                                                if s.show_if is not None else [])
        assert step.get("show_if") == s.show_if
        assert [f["id"] for f in step.get("fields", [])] == [f.id for f in s.fields]
        for fr, f in zip(step.get("fields", []), s.fields):
            assert fr.get("required", False) == f.required
            assert fr.get("min") == f.min and fr.get("max") == f.max  # "today" as written
            assert [c["value"] for c in fr.get("choices", [])] == [c.value for c in f.choices]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from wizard import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "offline-rules-tests",
                       "DATABASE": str(tmp_path_factory.mktemp("db") / "wizard.sqlite3")})


@pytest.mark.parametrize("lang", LANGS)
def test_flow_texts_shape(app, lang):
    flow = load("kindergarten")
    with app.test_request_context(f"/?lang={lang}"):
        texts = offline_rules.flow_texts(flow)
        assert texts["lang"] == lang
        assert set(texts["messages"]) == set(fieldtypes.MESSAGES)
        assert set(texts["fields"]) == {f.id for s in flow.steps for f in s.fields}
        assert texts["fields"]["child_name"]["overrides"]["required"] == i18n.plain(
            flow.field("child_name").required_message, flow.default_language)
        assert len(texts["date"]["months"]) == 12
        assert texts["words"]["list_separator"] == i18n.LIST_SEPARATOR[lang]
        # fieldrules.js formats decimals with this one pattern.
        from flask_babel import get_locale
        assert get_locale().decimal_formats[None].pattern == "#,##0.###"
    assert json.loads(json.dumps(texts)) == texts


# --------------------------------------------------------------------------------------------
# Journeys: engine.py and journey.js on every branch
# --------------------------------------------------------------------------------------------

def sid(step) -> str | None:
    return step.id if step is not None else None


def summary(flow: Flow, j: engine.Journey, answers: dict) -> dict:
    """What the runner's summary() gives, from engine.py."""
    nav = {}
    for name in [s.id for s in flow.steps] + ["no-such-step"]:
        nav[name] = [sid(engine.next_step(j, name)), sid(engine.previous_step(j, name)),
                     *engine.progress(j, name)]
    sheet = engine.answer_sheet(j, answers)
    return jsonable({
        "steps": [s.id for s in j.steps],
        "fields": {s.id: [f.id for f in j.visible_fields(s)] for s in j.steps},
        "choices": {f.id: [c.value for c in j.choices(f)]
                    for s in j.steps for f in j.visible_fields(s) if f.choices},
        "context": dict(j.context),
        "nav": nav,
        "problems": [[p.step.id, p.field.id, p.error.code, p.error.params]
                     for p in engine.problems(j, answers)],
        "first_unfinished": sid(engine.first_unfinished(j, answers)),
        "review": [[g.step.id, [[r.field.id, r.value] for r in g.rows]]
                   for g in engine.review(j, answers)],
        "sheet": {"rows": [[r.field.id, r.value] for r in sheet.rows],
                  "checklists": [[r.field.id, r.value] for r in sheet.checklists],
                  "next": [s.id for s in sheet.next_steps]},
    })


def read_result(values: dict, errors: dict[str, Invalid]) -> dict:
    return jsonable({"values": values,
                     "errors": {k: [e.code, e.params] for k, e in errors.items()}})


# every_type.yaml cannot be walked by branch_walk (its multichoice needs two answers): one path
# by hand; it has no conditions, so one path is every branch.
EVERY_TYPE_ID = branch_walk.resident_id(datetime.date(2023, 5, 15))
EVERY_TYPE_PATH = [
    ("birth", {"child_dob-day": "15", "child_dob-month": "5", "child_dob-year": "2023"}),
    ("child-id", {"child_id": EVERY_TYPE_ID}), ("age", {}), ("room", {"room": "1203"}),
    ("child-name", {"child_name": "王小明"}), ("notes", {"notes": "二楼\n靠窗"}),
    ("children", {"children": "２"}), ("distance", {"distance_km": "3.5"}),
    ("hukou", {"hukou": "other"}), ("spoken", {"spoken": ["uyghur", "mandarin"]}),
    ("permit", {"has_permit": "yes"}), ("contact", {"mobile": "+86 138 0013 8000"}),
    ("documents", {"documents": ["hukou_book"]}),
]


@functools.lru_cache(maxsize=None)
def paths(name: str) -> list:
    if name == "every_type":
        return [EVERY_TYPE_PATH]
    return branch_walk.paths(load(name), TODAY)


def bad_raws(flow: Flow, j: engine.Journey, field) -> list[Any]:
    """Awkward things to submit for a field: empty, refused, hidden choices, warnings."""
    values = [c.value for c in field.choices]
    hidden = [c.value for c in field.choices if c not in j.choices(field)]
    return {
        "text": ["", " ", "\u202eabc", "Wang Xiaoming", "王" * 25, "a", "12ab", "١٢٣٤"],
        "textarea": ["", "x" * 25, "\u0301", "a\r\nb"],
        "integer": ["", "abc", "0", "11", "５", "-3", "1,000"],
        "decimal": ["", "1.25", "0.4", "100", "1,5", "99.50"],
        "date": [dict(zip(("day", "month", "year"), parts)) for parts in (
            ("", "", ""), ("31", "2", "2024"), ("1", "1", "2010"), ("2", "3", "2027"),
            ("5", "", "2023"), ("29", "2", "2024"))] + ["2027-03-01"],
        "choice": ["", "zzz", *hidden],
        "multichoice": [[], ["zzz"], values[:1], values, *[[v] for v in hidden]],
        "yes_no": ["", "maybe", "yes", "no", "TRUE"],
        "mobile": ["", "12345", "+86 138 0013 8000", "１３８００１３８０００"],
        "resident_id": ["", "110105194912310021", "11010519491231002x", "1101051949",
                        branch_walk.resident_id(datetime.date(2022, 1, 1)),
                        branch_walk.resident_id(datetime.date(2027, 3, 2))],
        "checklist": [[], ["zzz"], values, *[[v] for v in hidden]],
    }[field.type]


def stored_bad(field) -> list[Any]:
    """Stored answers that no longer pass (saved under other conditions, or by a bad client)."""
    return {
        "text": ["王" * 30, "a", "abc", ""], "textarea": ["x" * 30],
        "integer": [0, 11, -1, 5000], "decimal": ["0.4", "100", "1.25"],
        "date": ["2010-01-01", "2027-03-02", "2024-02-29"],
        "choice": ["zzz", *[c.value for c in field.choices]],
        "multichoice": [["zzz"], ["mandarin"], []], "yes_no": [None, False],
        "mobile": ["123"],
        "resident_id": [branch_walk.resident_id(datetime.date(2022, 1, 1)),
                        branch_walk.resident_id(datetime.date(2027, 3, 2))],
        "checklist": [["zzz"], [], [c.value for c in field.choices]],
    }[field.type]


@functools.lru_cache(maxsize=None)
def journey_cases(name: str) -> list[dict]:
    flow = load(name)
    cases: dict[str, dict] = {}

    def case(answers: dict) -> dict:
        key = json.dumps(answers, sort_keys=True, default=str)
        return cases.setdefault(key, {"flow": name, "answers": dict(answers), "reads": [],
                                      "changes": []})

    def add(c: dict, item: dict, key: str) -> None:
        if json.dumps(item, sort_keys=True) not in {json.dumps(x, sort_keys=True) for x in c[key]}:
            c[key].append(item)

    pages = set()
    finished = []
    for path in paths(name):
        answers: dict = {}
        for step_id, form in path:
            j = engine.journey(flow, answers, TODAY)
            step = flow.step(step_id)
            c = case(answers)
            raw = branch_walk.raw_from_form(j.visible_fields(step), form)
            add(c, {"step": step_id, "raw": raw}, "reads")
            page = branch_walk.signature(j, step)
            if page not in pages:  # each distinct page once: every field's awkward inputs
                pages.add(page)
                for f in j.visible_fields(step):
                    if not f.is_input:
                        continue
                    for bad in bad_raws(flow, j, f):
                        add(c, {"step": step_id, "raw": {**raw, f.id: bad}}, "reads")
                    if f.script:
                        add(c, {"step": step_id, "raw": {**raw, f.id: "Wang Xiaoming",
                                                         f"{f.id}-confirm": "yes"}}, "reads")
            values, errors = engine.read_step(j, step, raw, answers)
            assert not errors, (step_id, errors)
            answers.update(values)
        case(answers)
        finished.append(dict(answers))

    # Broken answer sets: each input answer of a few finished paths replaced or removed.
    for answers in finished[::max(1, len(finished) // 4)]:
        j = engine.journey(flow, answers, TODAY)
        for s in j.steps:
            for f in j.visible_fields(s):
                if f.is_input:
                    case({k: v for k, v in answers.items() if k != f.id})
                    case({**answers, f.id: None})
                    for bad in stored_bad(f):
                        case({**answers, f.id: bad})

    # Random answer sets: each input answered from what the paths and the broken sets gave,
    # or not at all, so conditions, problems and progress meet odd combinations too.
    rng = random.Random(name)
    pool: dict[str, list] = {}
    for c in list(cases.values()):
        for k, v in c["answers"].items():
            if v not in pool.setdefault(k, []):
                pool[k].append(v)
    for _ in range(300):
        case({k: rng.choice(vs) for k, vs in pool.items() if rng.random() < 0.8})

    # Changes from the review: a condition answer of a finished path given another value.
    pool = {}
    for answers in finished:
        for k, v in answers.items():
            if v not in pool.setdefault(k, []):
                pool[k].append(v)
    every = 3 if len(finished) > 20 else 1
    for path, answers in list(zip(paths(name), finished))[::every]:
        # Pages submitted again from the review, with every other answer already given.
        for step_id, form in path:
            raw = branch_walk.raw_from_form(flow.step(step_id).fields, form)
            add(case(answers), {"step": step_id, "raw": raw}, "reads")
        for field_id in sorted(branch_walk.condition_fields(flow) & set(answers)):
            others = [v for v in pool[field_id] if v != answers[field_id]][:2]
            for v in others + [None]:
                add(case(answers), {"answers": {**answers, field_id: v},
                                    "step": flow.step_of(field_id).id}, "changes")
    return list(cases.values())


def engine_result(flow: Flow, c: dict) -> dict:
    answers = c["answers"]
    j = engine.journey(flow, answers, TODAY)
    return {
        "summary": summary(flow, j, answers),
        "reads": [read_result(*engine.read_step(j, flow.step(r["step"]), r["raw"], answers))
                  for r in c["reads"]],
        "changes": [sid(engine.after_change(j, engine.journey(flow, ch["answers"], TODAY),
                                            ch["answers"], ch["step"]))
                    for ch in c["changes"]],
    }


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_journey_js_matches_the_engine(name, tmp_path):
    flow = load(name)
    cases = journey_cases(name)
    js = run_node({"today": TODAY.isoformat(), "flows": {name: offline_rules.flow_rules(flow)},
                   "cases": cases}, tmp_path)
    assert len(js) == len(cases)
    mismatches = []
    for c, got in zip(cases, js):
        want = engine_result(flow, c)
        if canon(got["summary"]) != canon(want["summary"]):
            diff = {k: (want["summary"][k], got["summary"].get(k)) for k in want["summary"]
                    if canon(want["summary"][k]) != canon(got["summary"].get(k))}
            mismatches.append(("summary", c["answers"], diff))
        for r, w, g in zip(c["reads"], want["reads"], got["reads"]):
            if not same(g, w):
                mismatches.append(("read_step", c["answers"], r, w, g))
        if got["changes"] != want["changes"]:
            mismatches.append(("after_change", c["answers"], c["changes"], want["changes"],
                               got["changes"]))
    assert not mismatches, f"{len(mismatches)} disagreements; the first: {mismatches[:3]}"


def test_the_cases_cover_what_they_are_for():
    """Enough of each kind of case that a disagreement could not hide."""
    flow = load("kindergarten")
    cases = journey_cases("kindergarten")
    assert len(paths("kindergarten")) > 100
    assert len(cases) > 500
    reads = [r for c in cases for r in c["reads"]]
    assert len(reads) > 1000 and sum(len(c["changes"]) for c in cases) > 100
    codes = set()
    for c in cases:
        result = engine_result(flow, c)
        codes |= {p[2] for p in result["summary"]["problems"]}
        codes |= {e[0] for r in result["reads"] for e in r["errors"].values()}
    for code in ("required_date", "required_choice", "date_too_early", "date_too_late",
                 "not_a_choice", "script_han", "id_birth_mismatch", "id_check_digit",
                 "too_long", "mobile_invalid", "date_invalid", "not_yes_no"):
        assert code in codes, code


# --------------------------------------------------------------------------------------------
# Sentences: messages, answers as read, dates, in every language
# --------------------------------------------------------------------------------------------

ERRORS = [
    ("required", {}), ("required_choice", {}), ("required_date", {}),
    ("too_long", {"max": 20, "length": 25}), ("too_short", {"min": 2}), ("pattern", {}),
    ("hidden_characters", {}), ("nothing_visible", {}), ("not_integer", {}), ("not_number", {}),
    ("too_many_places", {"places": 1}), ("too_small", {"min": 1}), ("too_large", {"max": 99.5}),
    ("date_incomplete", {}), ("date_not_numbers", {}), ("date_invalid", {}),
    ("date_too_early", {"min": datetime.date(2020, 1, 1)}),
    ("date_too_late", {"max": datetime.date(2027, 4, 22)}),
    ("date_too_late", {"max": datetime.date(2024, 2, 29)}),
    ("not_a_choice", {}), ("too_few_choices", {"min": 2}), ("too_many_choices", {"max": 3}),
    ("not_yes_no", {}), ("mobile_invalid", {}), ("id_length", {"length": 17}),
    ("id_chars", {}), ("id_birth_date", {"digits": "20230231"}),
    ("id_birth_too_early", {"date": "1899-12-31"}), ("id_birth_future", {"date": "2027-03-02"}),
    ("id_check_digit", {}),
    ("id_birth_mismatch", {"found": "2023-05-15", "expected": "2023-05-16"}),
    ("too_big", {}), ("script_han", {}), ("changed_elsewhere", {}),
]
DATES = ["2027-04-22", "2027-01-01", "2024-02-29", "2027-12-31", "1999-05-09", "0999-11-03"]


def random_numbers(seed: int = 20270301) -> tuple[list[str], list[float]]:
    """Decimals as stored (strings) and calculated floats, to round and group like Babel."""
    rng = random.Random(seed)
    decimals, floats = [], []
    for _ in range(60):
        whole = str(rng.choice([0, 1, 9, 999, 1000, 123456, 10**15 - 1, rng.randrange(10**9)]))
        frac = "".join(rng.choice("0123459") for _ in range(rng.choice([0, 1, 3, 4, 5, 30])))
        decimals.append(rng.choice(["", "-"]) + whole + ("." + frac if frac else ""))
        floats.append(rng.choice([rng.uniform(-1e6, 1e6), rng.randrange(1, 10**6) / 7,
                                  rng.randrange(1, 10**4) / 1000 + 0.0005, rng.random() / 1e4]))
    # Not whole floats: JavaScript cannot tell 1000.0 from 1000, and display.py groups only
    # the float ("1,000", "1000"): a calculated value passing on a decimal answer differs.
    return decimals, [f for f in floats if f % 1]


def samples(field) -> list[Any]:
    values = [c.value for c in field.choices]
    decimals, floats = random_numbers()
    return {
        "text": ["王小明", "ئۇيغۇر تىلى", "Wang Xiaoming"], "textarea": ["二楼\n靠窗"],
        "integer": [0, 7, 1234, -5],
        "decimal": ["12.50", "1234.5", "-0", "0.0005", "0.0015", "1234567.12345",
                    "999999999999999.9999", "0.00049999", "-0.0001", "100", "1.0005", "2.5",
                    "0.1234567890123456789012345678949", *decimals],
        "date": DATES[:3],
        "choice": [*values, "zzz"],
        "multichoice": [values, values[:1], ["zzz", *values[-1:]], []],
        "checklist": [values, values[:1], ["zzz", *values[-1:]], []],
        "yes_no": [True, False], "mobile": ["13800138000"], "resident_id": ["11010519491231002X"],
        "calculated": [36, 0, -3, 2.5, 1 / 3, 1234.5678, -0.5, 1e-7, 0.1 + 0.2, None, True,
                       "text", *floats],
    }[field.type]


def test_sentences_match_display_py_in_every_language(app, tmp_path):
    batches, expected = [], []
    for lang in LANGS:
        for name in sorted(FLOWS):
            flow = load(name)
            rules = {f["id"]: f for s in offline_rules.flow_rules(flow)["steps"]
                     for f in s.get("fields", [])}
            with app.test_request_context(f"/?lang={lang}"):
                texts = offline_rules.flow_texts(flow)
                messages, displays, want = [], [], {"messages": [], "displays": []}
                for s in flow.steps:
                    for f in s.fields:
                        for code, params in ERRORS if f.is_input else []:
                            messages.append([rules[f.id], jsonable({"error": code,
                                                                    "params": params})])
                            want["messages"].append(
                                display.error_text(f, Invalid(code, **params), flow))
                        for value in samples(f):
                            displays.append([rules[f.id], value])
                            want["displays"].append(display.display(flow, f, value))
                want["dates"] = [i18n.format_date(datetime.date.fromisoformat(d), "long")
                                 for d in DATES]
            batches.append({"texts": texts, "messages": messages, "displays": displays,
                            "dates": DATES})
            expected.append((lang, name, want))
    got = run_node({"texts": batches}, tmp_path)
    mismatches = []
    for (lang, name, want), g, batch in zip(expected, got, batches):
        for kind in ("messages", "displays", "dates"):
            for i, (w, js) in enumerate(zip(want[kind], g[kind])):
                if w != js:
                    mismatches.append((lang, name, kind, batch[kind][i] if kind != "dates"
                                       else DATES[i], w, js))
            assert len(want[kind]) == len(g[kind])
    assert not mismatches, f"{len(mismatches)} disagreements; the first: {mismatches[:5]}"
    # The Uyghur rule of i18n.format_date: a number never parted from its suffix.
    ug = [w for lang, _, w in expected if lang == "ug"][0]
    assert "\u2011" in ug["dates"][0]


# --------------------------------------------------------------------------------------------
# In a browser, small, and what is left to the server
# --------------------------------------------------------------------------------------------

def node_eval(script: str, *args: str) -> Any:
    if NODE is None:
        pytest.skip("node is not on PATH, so the offline scripts cannot be checked")
    proc = subprocess.run([NODE, "-e", script, *args], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_scripts_work_as_browser_globals():
    rules = json.dumps(offline_rules.flow_rules(load("branching")))
    script = (
        "const vm = require('vm'), fs = require('fs');"
        "const win = {}; win.self = win; vm.createContext(win);"
        "for (const f of ['rules.js', 'fieldrules.js', 'journey.js'])"
        "  vm.runInContext(fs.readFileSync(process.argv[1] + '/' + f, 'utf8'), win);"
        "const J = win.WizardJourney, rules = JSON.parse(process.argv[2]);"
        "const j = J.journey(rules, {hukou: 'other', has_permit: true}, '2027-03-01');"
        "process.stdout.write(JSON.stringify([win.WizardFields.supported,"
        " j.steps.map(s => s.id), J.progress(j, 'permit'),"
        " /^\\d{4}-\\d\\d-\\d\\d$/.test(J.journey(rules, {}).today)]));"
    )
    assert node_eval(script, str(JS), rules) == [
        True, ["birth", "hukou", "permit", "permit-points", "contact", "documents", "apply"],
        [3, 7], True]


def test_today_is_the_flows_zone():
    flow = load("branching")
    instants = ["2027-02-28T15:59:59Z", "2027-02-28T16:00:00Z", "2027-12-31T23:30:00Z",
                "2024-02-28T16:00:00Z"]
    script = (
        "const F = require(process.argv[1]);"
        "const at = JSON.parse(process.argv[2]);"
        "process.stdout.write(JSON.stringify([at.map(t => F.today('Asia/Shanghai', new Date(t))),"
        " at.map(t => F.today('America/New_York', new Date(t))),"
        " F.today('No/Such_Zone').length]));"
    )
    got = node_eval(script, str(JS / "fieldrules.js"), json.dumps(instants))
    want = [engine.local_today(flow, datetime.datetime.fromisoformat(t.replace("Z", "+00:00")))
            .isoformat() for t in instants]
    assert got[0] == want
    assert got[1] == ["2027-02-28", "2027-02-28", "2027-12-31", "2024-02-28"]
    assert got[2] == 10  # the phone's own date when Intl does not know the zone


@pytest.mark.parametrize("pattern, answer", [
    ("(?i)abc", "xyz"),  # inline flags: not JavaScript
    ("(?P<n>[0-9]+)", "x"),  # Python's named groups
    ("[0-9]+\\Z", "x"),  # \Z
    ("\\bab\\b", "x"),  # \b: JavaScript's is ASCII-only even in u mode
    ("[\\W]+", "a"),  # \W inside a class cannot be written for Unicode words in u mode
    ("(a+)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"),  # could freeze the phone
    ("[0-9]++", "x"),  # possessive quantifiers
])
def test_patterns_javascript_cannot_run_the_same_way_are_left_to_the_server(pattern, answer):
    field = {"id": "x", "type": "text", "pattern": pattern}
    script = (
        "const F = require(process.argv[1]);"
        "process.stdout.write(JSON.stringify(F.read(JSON.parse(process.argv[2]),"
        " process.argv[3], {}, '2027-03-01')));"
    )
    got = node_eval(script, str(JS / "fieldrules.js"), json.dumps(field), answer)
    assert got == {"value": answer}  # the phone lets it through
    with pytest.raises(Invalid, match="pattern"):  # and the server refuses it
        fieldtypes.read(Field(id="x", type="text", path="t", pattern=pattern), answer, {}, TODAY)


def test_offline_scripts_stay_small():
    """Cheap phones download the offline kit (60 KB compressed in all): these two are its
    rules, so they stay plain and small."""
    sizes = {}
    for name, limit in (("fieldrules.js", 7600), ("journey.js", 3500)):
        data = (JS / name).read_bytes()
        sizes[name] = (len(data), len(gzip.compress(data, 9)))
        assert sizes[name][1] < limit, f"static/js/{name} is {sizes[name]} (raw, gzip) bytes"
