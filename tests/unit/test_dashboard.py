"""The dashboard's counting (funnel, drop-off, median, breakdowns, hardest questions) and the
export's cells, on hand-made figures: no app, no database."""

import pytest

from wizard import dashboard
from wizard.flow.model import Choice, Field, Flow, Step


def _field(fid, ftype="text", **kw):
    return Field(fid, ftype, f"f.{fid}", label={"en": fid.title(), "zh_Hans": fid}, **kw)


FLOW = Flow(
    id="demo", version=2, languages=("zh_Hans", "en"), title={"en": "Demo"},
    steps=(
        Step("intro", "instruction", "s0", title={"en": "Intro"}),
        Step("name", "question", "s1", title={"en": "Name"},
             fields=(_field("child_name", official="幼儿姓名"),)),
        Step("kind", "question", "s2", title={"en": "Kind"},
             fields=(_field("hukou", "choice", official="户籍", choices=(
                 Choice("local", {"en": "Local"}, official="本市户籍"),
                 Choice("other", {"en": "Other"}))),
                 _field("age", "calculated"))),
        Step("papers", "checklist", "s3", title={"en": "Papers"},
             fields=(_field("docs", "checklist", choices=(
                 Choice("id", {"en": "ID card"}, official="居民身份证"),
                 Choice("book", {"en": "Book"}))),)),
    ))


def g(status, furthest, n, locale="zh_Hans", device="phone"):
    return {"status": status, "locale": locale, "device": device, "furthest": furthest, "n": n}


# 20 sessions: 2 saved nothing, 3 stopped after intro, 4 after name, 1 after kind,
# 2 saved every step without confirming, 8 confirmed (6 Chinese phones, 2 English computers).
GROUPS = [g("active", -1, 2), g("active", 0, 3), g("expired", 1, 4, "en"),
          g("active", 2, 1, "en", "tablet"), g("active", 3, 2), g("completed", 3, 6),
          g("completed", 3, 2, "en", "computer")]
TIMES = [{"locale": "zh_Hans", "device": "phone", "seconds": s} for s in (600, 300, 900)] + [
    {"locale": "en", "device": "computer", "seconds": 1200}]
ERRORS = [
    {"step_id": "name", "field_id": "child_name", "locale": "zh_Hans", "device_kind": "phone",
     "count": 3},
    {"step_id": "name", "field_id": "child_name", "locale": "en", "device_kind": "computer",
     "count": 2},
    {"step_id": "kind", "field_id": "hukou", "locale": "en", "device_kind": "tablet",
     "count": 4},
    {"step_id": "papers", "field_id": "docs", "locale": "en", "device_kind": "phone",
     "count": 1}]
FOUND = {"groups": GROUPS, "durations": [], "errors": ERRORS}


def test_the_funnel_counts_how_far_sessions_got_and_where_they_stopped():
    no_step, rows = dashboard.funnel(FLOW, GROUPS)
    assert no_step == 2
    assert [(r.number, r.step_id, r.reached, r.dropped) for r in rows] == [
        (1, "intro", 18, 3), (2, "name", 15, 4), (3, "kind", 11, 1), (4, "papers", 10, 2)]


def test_every_session_started_is_counted_once_stopped_or_confirmed():
    no_step, rows = dashboard.funnel(FLOW, GROUPS)
    assert no_step + sum(r.dropped for r in rows) + 8 == 20


def test_the_totals_rate_and_median():
    n = dashboard.figures(FLOW, FOUND, TIMES)
    assert (n["started"], n["completed"], n["rate"]) == (20, 8, 40)
    # Four confirmed: fewer than MEDIAN_MIN, so no median (it would be near a family's own).
    assert n["median_seconds"] is None


def test_the_median_needs_enough_confirmed_walkthroughs():
    assert dashboard.MEDIAN_MIN == 5
    assert dashboard.median([300, 600, 900, 1200]) is None
    assert dashboard.median([300, 600, 900, 1200, 1500]) == 900
    assert dashboard.median([300, 600, 900, 1200, 1500, 1800]) == 1050


def test_a_filter_narrows_every_figure():
    n = dashboard.figures(FLOW, FOUND, TIMES, language="en")
    assert (n["started"], n["completed"], n["no_step"]) == (7, 2, 0)
    assert [r.reached for r in n["funnel"]] == [7, 7, 3, 2]
    assert n["median_seconds"] is None  # one confirmed: never shown
    assert [(r["field_id"], r["count"]) for r in n["hardest"]] == [
        ("hukou", 4), ("child_name", 2), ("docs", 1)]
    phones = dashboard.figures(FLOW, FOUND, TIMES, device="phone")
    assert (phones["started"], phones["completed"]) == (17, 6)
    assert [(r["field_id"], r["count"]) for r in phones["hardest"]] == [
        ("child_name", 3), ("docs", 1)]


def test_no_sessions_no_division():
    n = dashboard.figures(FLOW, {"groups": [], "durations": [], "errors": []}, [])
    assert n["started"] == 0 and n["rate"] is None and n["median_seconds"] is None
    assert [r.reached for r in n["funnel"]] == [0, 0, 0, 0]
    assert all(b.width == 0 for b in n["chart"]["bars"])


def test_breakdowns_by_language_and_device():
    n = dashboard.figures(FLOW, FOUND, TIMES)
    assert [(r["key"], r["started"], r["completed"], r["rate"]) for r in n["by_language"]] == [
        ("zh_Hans", 13, 6, 46), ("en", 7, 2, 29)]
    assert [(r["key"], r["started"], r["completed"]) for r in n["by_device"]] == [
        ("phone", 17, 6), ("tablet", 1, 0), ("computer", 2, 2)]


def test_hardest_questions_most_first_then_in_flow_order():
    rows = dashboard.hardest(FLOW, ERRORS)
    assert [(r["field_id"], r["count"], r["number"]) for r in rows] == [
        ("child_name", 5, 2), ("hukou", 4, 3), ("docs", 1, 4)]
    assert rows[0]["label"]["en"] == "Child_Name" and rows[0]["number"] == 2
    tie = ERRORS[:1] + [{**ERRORS[3], "count": 3}]
    assert [r["field_id"] for r in dashboard.hardest(FLOW, tie)] == ["child_name", "docs"]
    assert len(dashboard.hardest(FLOW, ERRORS, limit=2)) == 2


def test_the_chart_bars_are_measured_against_sessions_started():
    n = dashboard.figures(FLOW, FOUND, TIMES)
    bars = n["chart"]["bars"]
    assert [b.value for b in bars] == [18, 15, 11, 10]
    assert [b.width for b in bars] == [round(dashboard.BAR_MAX * v / 20) for v in (18, 15, 11, 10)]
    assert [b.label for b in bars] == ["1", "2", "3", "4"]
    assert len({b.y for b in bars}) == 4
    # Everything fits the drawing's 320 px: numbers after the longest possible bar too.
    assert all(b.value_x + 40 <= n["chart"]["width"] for b in bars)
    assert n["chart"]["height"] >= bars[-1].y + bars[-1].height


def test_a_sliver_of_a_bar_for_a_step_few_reached():
    bars = dashboard.chart(dashboard.funnel(FLOW, [g("active", 0, 1), g("active", -1, 999)])[1],
                           1000)["bars"]
    assert bars[0].width == 1 and bars[1].width == 0


@pytest.mark.parametrize("seconds, parts", [
    (None, None), (29, (0, 0)), (30, (0, 1)), (750, (0, 13)), (3600, (1, 0)), (5430, (1, 31))])
def test_minutes(seconds, parts):
    assert dashboard.minutes(seconds) == parts


def test_filter_values_outside_the_list_mean_all():
    assert dashboard.choose("en", ["en", "zh_Hans"]) == "en"
    assert dashboard.choose("xx", ["en"]) == "all" and dashboard.choose(None, ["en"]) == "all"


# ---------------------------------------------------------------- exports


@pytest.mark.parametrize("text, safe", [
    ("=1+1", "'=1+1"), ("+86 138", "'+86 138"), ("-3", "'-3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("王小明", "王小明"), ("a=b", "a=b"), ("", "")])
def test_formula_cells_are_made_text(text, safe):
    assert dashboard.safe_cell(text) == safe


def test_headers_use_the_official_term_else_the_label_with_the_field_id():
    assert [dashboard.header(FLOW, f) for f in dashboard.export_fields(FLOW)] == [
        "幼儿姓名 (child_name)", "户籍 (hukou)", "docs (docs)"]


def test_cells_in_the_official_words():
    hukou, docs = FLOW.field("hukou"), FLOW.field("docs")
    assert dashboard.cell(FLOW, hukou, "local") == "本市户籍"
    assert dashboard.cell(FLOW, hukou, "other") == "Other"  # no Chinese label: what there is
    assert dashboard.cell(FLOW, docs, ["id", "book"]) == "居民身份证; Book"
    assert dashboard.cell(FLOW, docs, []) == ""
    yes = Field("ok", "yes_no", "p")
    assert dashboard.cell(FLOW, yes, True) == "是" and dashboard.cell(FLOW, yes, False) == "否"


def test_csv_rows_leave_out_calculated_values_and_hidden_answers():
    sessions = [{"row": 1, "language": "en", "started": "2027-03-01", "confirmed": "2027-03-02",
                 "answers": {"child_name": "=cmd", "hukou": "local", "docs": ["id"]}}]
    rows = dashboard.csv_rows(FLOW, sessions, ("Row", "Language", "Started", "Confirmed"))
    assert rows == [
        ["Row", "Language", "Started", "Confirmed", "幼儿姓名 (child_name)", "户籍 (hukou)",
         "docs (docs)"],
        ["1", "en", "2027-03-01", "2027-03-02", "'=cmd", "本市户籍", "居民身份证"]]


def test_export_dates_are_days_on_the_procedures_clock():
    sessions = dashboard.export_sessions(FLOW, [(
        {"locale": "en", "created_at": "2027-03-01T20:00:00+00:00",
         "completed_at": "2027-03-02T01:00:00+00:00"}, {"child_name": "A"})])
    assert sessions[0]["started"] == "2027-03-02" and sessions[0]["confirmed"] == "2027-03-02"
    assert sessions[0]["row"] == 1
