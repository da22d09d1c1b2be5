"""The studio's dashboard (funnel, drop-off, median, hardest questions, breakdowns), the
admins' exports (CSV with a BOM, JSON) and retention, and `wizard purge` honouring it: on a
known set of sessions seeded through the store, checked number by number."""

import csv
import datetime
import io
import json
import re

import pytest
from family_helpers import ROOT
from people_helpers import make_user, sign_in, signed_in

from wizard import store
from wizard.flow import loader

KG_ID = "kindergarten-shanghai"
FLOW = loader.load_file(ROOT / "flows" / f"{KG_ID}.yaml").flow
V = FLOW.version
DASH = f"/studio/{KG_ID}/v/{V}/dashboard"
CSV_URL = f"/studio/{KG_ID}/v/{V}/export.csv"
JSON_URL = f"/studio/{KG_ID}/v/{V}/export.json"
RETENTION = f"/studio/{KG_ID}/retention"

# Stored answers of a family with a Shanghai household registration, step by step.
ANSWERS = [
    ("child-birth", {"child_dob": "2024-01-01"}), ("hukou", {"hukou": "shanghai"}),
    ("district", {"district": "xuhui"}), ("housing", {"housing": "own"}),
    ("guardian", {"guardian1_relation": "mother", "guardian1_mobile": "13800138000"}),
    ("child-details", {"child_name": "王小明"}),
    ("documents", {"documents": ["parent_id_card", "household_register"]})]
LAST = len(FLOW.steps) - 1

# Ten sessions: (language, device, furthest step saved, confirmed, minutes to confirm).
SEEDS = [
    ("zh_Hans", "phone", None, False, None),       # opened the first page, saved nothing
    ("zh_Hans", "phone", "start", False, None),
    ("en", "phone", "child-birth", False, None),
    ("en", "tablet", "hukou", False, None),
    ("zh_Hans", "phone", "district", False, None),
    ("zh_Hans", "computer", "housing", False, None),
    ("ug", "phone", "stage-vaccination", False, None),  # every step, never confirmed
    ("zh_Hans", "phone", "stage-vaccination", True, 10),
    ("en", "computer", "stage-vaccination", True, 30),
    ("zh_Hans", "phone", "stage-vaccination", True, 20),
]
# What the page must say: reached (saved it or a later step) and stopped here, per step.
FURTHEST = [-1 if s[2] is None else FLOW.place(s[2]) for s in SEEDS]
REACHED = {i: sum(f >= i for f in FURTHEST) for i in range(len(FLOW.steps))}
assert [REACHED[i] for i in (0, 1, 2, 3, 4, 5, 6, 12, 13, LAST)] == [9, 8, 7, 7, 6, 6, 5, 5, 4, 4]
STOPPED = {0: 1, 1: 1, 3: 1, 5: 1, 12: 1, LAST: 1}  # every other step: 0


def seed(s: store.Store, lang, device, furthest, confirmed, minutes, n):
    sid = s.create_session(None, KG_ID, V, lang, resume_salt=str(n), resume_hash=f"h{n}",
                           consent_version="v1", device_kind=device)
    if furthest is not None:
        upto = FLOW.place(furthest)
        for step_id, values in ANSWERS:
            if FLOW.place(step_id) <= upto:
                s.save_answers(sid, values, reached=FLOW.place(step_id))
        s.save_answers(sid, {}, reached=upto)
    if confirmed:
        s.set_status(sid, "completed")
        start = datetime.datetime(2027, 3, 1, 2, 0, tzinfo=datetime.timezone.utc)
        s.db.execute("UPDATE sessions SET created_at = ?, completed_at = ? WHERE id = ?",
                     (start.isoformat(), (start + datetime.timedelta(minutes=minutes)
                                          ).isoformat(), sid))
    return sid


@pytest.fixture
def seeded(app, db):
    ids = [seed(db, *row, n) for n, row in enumerate(SEEDS)]
    # A hidden answer (the permit question is not asked of a Shanghai household) that must
    # never be exported, and a name a spreadsheet would run as a formula.
    db.save_answers(ids[7], {"has_permit": True})
    db.save_answers(ids[9], {"child_name": "=HYPERLINK(\"http://x\")"})
    db.set_status(ids[9], "completed")
    db.db.execute("UPDATE sessions SET created_at = '2027-03-01T02:00:00+00:00', "
                  "completed_at = '2027-03-01T02:20:00+00:00' WHERE id = ?", (ids[9],))
    for _ in range(3):
        db.count_errors(KG_ID, V, "guardian", ["guardian1_mobile"], "en", "phone")
    db.count_errors(KG_ID, V, "child-details", ["child_name", "child_id"], "zh_Hans", "tablet")
    return ids


@pytest.fixture
def admin(app):
    return signed_in(app, "boss", "admin")


@pytest.fixture
def staff(app):
    return signed_in(app, "li", "staff")


def funnel_table(page) -> dict[str, tuple[int, int]]:
    rows = re.findall(r'<tr data-step="([a-z-]+)"><td>(\d+)</td><th scope="row">.*?</th>'
                      r'<td class="numeric">(\d+)</td><td class="numeric">(\d+)</td></tr>',
                      page, re.S)
    return {step: (int(number), int(reached), int(stopped))
            for step, number, reached, stopped in rows}


def svg_values(page) -> dict[int, int]:
    return {int(n): int(v) for n, v in re.findall(
        r'<g data-step="(\d+)">.*?class="funnel-value">(\d+)</text>', page, re.S)}


def figure(page, name) -> str:
    return re.search(rf'data-figure="{name}">([^<]*)<', page).group(1)


# ---------------------------------------------------------------- the dashboard


def test_the_funnel_matches_the_seeded_sessions_exactly(seeded, staff):
    page = staff.get(DASH)
    assert page.status_code == 200
    text = page.text
    table = funnel_table(text)
    assert list(table) == [s.id for s in FLOW.steps]
    for i, step in enumerate(FLOW.steps):
        assert table[step.id] == (i + 1, REACHED[i], STOPPED.get(i, 0)), step.id
    assert re.search(r'<tr data-step=""><td></td><th scope="row">Saved no step</th>'
                     r'<td class="numeric"></td><td class="numeric">1</td>', text)
    # The drawing shows the same numbers, with its title and description for screen readers.
    assert svg_values(text) == {i + 1: REACHED[i] for i in range(len(FLOW.steps))}
    assert re.search(r'<svg class="funnel" role="img" aria-labelledby="funnel-title '
                     r'funnel-desc"', text)
    assert "Of 10 sessions started, 9 reached the first step and 3 were confirmed." in text
    assert (figure(text, "started"), figure(text, "completed"), figure(text, "rate")) == (
        "10", "3", "30%")
    # Three confirmed: too few for a median that is not a family's own time.
    assert figure(text, "median") == "not shown for fewer than 5"


def test_no_answer_and_no_session_id_on_the_dashboard(seeded, admin):
    text = admin.get(DASH).text
    for secret in ("王小明", "13800138000", "HYPERLINK", "2024-01-01"):
        assert secret not in text
    # Session ids are small numbers, so look for the addresses that would carry one.
    for sid in seeded:
        assert f"/s/{sid}/" not in text and f"session={sid}" not in text


def test_filtering_by_language_and_by_device(seeded, staff):
    en = staff.get(DASH + "?language=en").text
    assert (figure(en, "started"), figure(en, "completed"), figure(en, "median")) == (
        "3", "1", "not shown for fewer than 5")
    table = funnel_table(en)
    assert table["start"] == (1, 3, 0) and table["hukou"] == (4, 2, 1)
    assert table["stage-vaccination"] == (LAST + 1, 1, 0)
    phones = staff.get(DASH + "?device=phone").text
    assert (figure(phones, "started"), figure(phones, "completed")) == ("7", "2")
    assert funnel_table(phones)["start"][1] == 6
    both = staff.get(DASH + "?language=zh_Hans&device=computer").text
    assert figure(both, "started") == "1" and figure(both, "rate") == "0%"
    # A filter value not in the lists shows every session.
    assert figure(staff.get(DASH + "?language=xx&device=toaster").text, "started") == "10"


def test_breakdowns_by_language_and_device(seeded, staff):
    text = staff.get(DASH).text

    def rows(table_id):
        part = re.search(rf'<table class="numbers-table" id="{table_id}">.*?</table>', text,
                         re.S).group(0)
        return re.findall(r'<tr data-key="([a-z_A-Z]+)"><th scope="row">[^<]*</th>'
                          r'<td class="numeric">(\d+)</td><td class="numeric">(\d+)</td>', part)
    assert rows("by-language") == [("zh_Hans", "6", "2"), ("en", "3", "1"), ("ug", "1", "0")]
    assert rows("by-device") == [("phone", "7", "2"), ("tablet", "1", "0"),
                                 ("computer", "2", "1")]


def test_the_most_refused_questions(seeded, staff):
    text = staff.get(DASH).text
    part = re.search(r'<table class="numbers-table" id="hardest">.*?</table>', text,
                     re.S).group(0)
    rows = re.findall(r'<tr data-field="([a-z0-9_]+)"><th scope="row">(.*?)</th><td>(.*?)</td>'
                      r'<td class="numeric">(\d+)</td>', part, re.S)
    assert [(f, n) for f, _label, _step, n in rows] == [
        ("guardian1_mobile", "3"), ("child_name", "1"), ("child_id", "1")]
    assert "Guardian 1's mobile number" in rows[0][1]
    assert rows[0][2].startswith(f"{FLOW.place('guardian') + 1}. ")
    en = staff.get(DASH + "?language=en").text
    assert 'data-field="guardian1_mobile"' in en and 'data-field="child_name"' not in en


def test_a_version_with_no_sessions_yet(staff):
    page = staff.get(DASH)
    assert page.status_code == 200
    assert figure(page.text, "rate") == "–"
    assert figure(page.text, "median") == "not shown for fewer than 5"
    assert "No answer has been refused yet." in page.text


def test_unknown_flow_or_version_is_404(staff):
    assert staff.get(f"/studio/{KG_ID}/v/99/dashboard").status_code == 404
    assert staff.get("/studio/nowhere/v/1/dashboard").status_code == 404
    assert staff.get(f"/studio/{KG_ID}/v/0/dashboard").status_code == 404


def test_who_may_see_what(app, client, seeded):
    make_user(app, "wang")
    response = client.get(DASH)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in?next=")
    volunteer = app.test_client()
    sign_in(volunteer, "wang")
    assert volunteer.get(DASH).status_code == 403
    staff = signed_in(app, "li", "staff")
    assert staff.get(DASH).status_code == 200
    # Staff see no export links or retention form: those are admins'.
    assert "export.csv" not in staff.get(DASH).text
    for url in (CSV_URL, JSON_URL, RETENTION):
        assert staff.get(url).status_code == 403
        assert volunteer.get(url).status_code == 403
    assert staff.post(RETENTION, data={"days": "5"}).status_code == 403
    s = store.Store(app.config["DATABASE"])
    assert [r for r in s.audit_search() if r["action"] in ("export", "retention")] == []
    assert s.flow_settings(KG_ID)["retention_days"] is None
    s.close()


def test_pages_are_not_kept_by_a_shared_phone(seeded, admin):
    for url in (DASH, RETENTION, CSV_URL, JSON_URL):
        assert admin.get(url).headers["Cache-Control"] == "no-store", url


# ---------------------------------------------------------------- exports

HEADER = ["Row", "Language", "Started", "Confirmed", "出生日期 (child_dob)", "户籍 (hukou)",
          "居住地所在区 (district)", "上海市居住证 (has_permit)",
          "居住证积分达到标准分值 (permit_points)",
          "上海市居住证或上海市居住登记凭证 (child_has_permit)",
          "职工社会保险或灵活就业登记 (social_insurance)", "住房情况 (housing)",
          "监护人1 (guardian1_relation)", "手机号码 (guardian1_mobile)", "幼儿姓名 (child_name)",
          "证件号码 (child_id)", "要准备的材料 (documents)"]


def test_the_csv_export_opens_with_the_expected_header_row(seeded, admin, db):
    response = admin.get(CSV_URL)
    assert response.status_code == 200
    assert response.data.startswith(b"\xef\xbb\xbf")  # the BOM Excel and WPS look for
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"{KG_ID}-v{V}-" in disposition
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    assert len(rows) == 4  # the three confirmed sessions, numbered, no ids
    assert rows[1] == ["1", "zh_Hans", "2027-03-01", "2027-03-01", "2024-01-01", "本市户籍",
                       "徐汇区", "", "", "", "", "不动产权证", "母亲", "13800138000", "王小明", "",
                       "居民身份证; 户口簿"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3"]
    assert rows[2][1] == "en"


def test_hidden_answers_are_never_exported(seeded, admin):
    rows = list(csv.reader(io.StringIO(admin.get(CSV_URL).data.decode("utf-8-sig"))))
    assert rows[1][HEADER.index("上海市居住证 (has_permit)")] == ""
    data = admin.get(JSON_URL).get_json()
    assert "has_permit" not in data["sessions"][0]["answers"]


def test_a_formula_in_an_answer_is_written_as_text(seeded, admin):
    rows = list(csv.reader(io.StringIO(admin.get(CSV_URL).data.decode("utf-8-sig"))))
    assert rows[3][HEADER.index("幼儿姓名 (child_name)")] == "'=HYPERLINK(\"http://x\")"


def test_the_json_export(seeded, admin):
    response = admin.get(JSON_URL)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.data.decode("utf-8"))
    assert (data["flow"], data["version"]) == (KG_ID, V)
    assert datetime.datetime.fromisoformat(data["exported_at"])
    assert [f["id"] for f in data["fields"]] == [h.rsplit("(", 1)[1][:-1] for h in HEADER[4:]]
    assert data["fields"][1]["official"] == "户籍"
    assert data["fields"][1]["choices"]["shanghai"] == "本市户籍"
    assert len(data["sessions"]) == 3
    first = data["sessions"][0]
    assert {k: first[k] for k in ("row", "language", "started", "confirmed")} == {
        "row": 1, "language": "zh_Hans", "started": "2027-03-01", "confirmed": "2027-03-01"}
    assert first["answers"]["hukou"] == "shanghai" and first["answers"]["child_name"] == "王小明"
    assert "id" not in first


def test_each_export_writes_one_audit_line(seeded, admin, db):
    admin.get(CSV_URL)
    admin.get(JSON_URL)
    lines = [r for r in reversed(db.audit_search()) if r["action"] == "export"]
    assert [(r["actor"].startswith("user:"), r["session_id"], r["detail"]) for r in lines] == [
        (True, None, {"flow": KG_ID, "version": V, "format": "csv", "rows": 3}),
        (True, None, {"flow": KG_ID, "version": V, "format": "json", "rows": 3})]


def test_exports_of_an_unknown_version_are_404(admin):
    assert admin.get(f"/studio/{KG_ID}/v/99/export.csv").status_code == 404
    assert admin.get("/studio/nowhere/v/1/export.json").status_code == 404


# ---------------------------------------------------------------- retention


def test_an_admin_sets_and_clears_the_retention_period(admin, db):
    page = admin.get(RETENTION)
    assert page.status_code == 200 and 'id="f-days"' in page.text
    response = admin.post(RETENTION, data={"days": " 30 "})
    assert response.status_code == 303
    assert db.flow_settings(KG_ID)["retention_days"] == 30
    assert 'value="30"' in admin.get(response.headers["Location"]).text
    assert admin.post(RETENTION, data={"days": ""}).status_code == 303
    assert db.flow_settings(KG_ID)["retention_days"] is None
    lines = [r["detail"] for r in reversed(db.audit_search()) if r["action"] == "retention"]
    assert lines == [{"flow": KG_ID, "days": 30}, {"flow": KG_ID, "days": None}]


@pytest.mark.parametrize("typed", ["0", "61", "abc", "-5", "1.5", "٣"])
def test_a_bad_retention_period_is_refused_with_a_clear_message(admin, db, typed):
    page = admin.post(RETENTION, data={"days": typed})
    assert page.status_code == 422
    # At most SESSION_IDLE_DAYS (60): every walkthrough idle that long is erased anyway.
    message = "Enter a whole number of days from 1 to 60, or leave it empty"
    assert re.search(r'class="error-summary".*?<a href="#f-days">' + message, page.text, re.S)
    assert re.search(r'class="error-message" id="f-days-error">.*?' + message, page.text, re.S)
    assert db.flow_settings(KG_ID)["retention_days"] is None


def test_the_retention_form_is_on_an_admins_dashboard(admin):
    text = admin.get(DASH).text
    assert f'action="{RETENTION}"' in text and 'id="f-days"' in text
    assert 'href="' + CSV_URL in text and 'href="' + JSON_URL in text


def test_retention_of_an_unknown_flow_is_404(admin):
    assert admin.get("/studio/nowhere/retention").status_code == 404
    assert admin.post("/studio/nowhere/retention", data={"days": "3"}).status_code == 404


# ---------------------------------------------------------------- wizard purge


@pytest.fixture
def kept(app, db):
    """Two confirmed sessions, one confirmed 40 days ago and one 10 days ago (both touched
    recently, so not idle), under a retention period of 30 days."""
    ids = []
    for n, days in enumerate((40, 10)):
        sid = seed(db, "zh_Hans", "phone", "stage-vaccination", True, 5, 100 + n)
        when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
        db.db.execute("UPDATE sessions SET completed_at = ? WHERE id = ?",
                      (when.isoformat(timespec="seconds"), sid))
        ids.append(sid)
    db.set_retention(KG_ID, 30, "cli")
    return ids


def test_purge_dry_run_erases_nothing(app, db, kept):
    result = app.test_cli_runner().invoke(args=["purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run: nothing was erased" in result.output
    assert ("would erase the answers of 1 confirmed session(s) kept longer than their "
            "flow's retention period") in result.output
    assert all(db.answers(sid) for sid in kept)
    assert [db.session(sid)["status"] for sid in kept] == ["completed", "completed"]


def test_purge_erases_what_is_past_its_flows_retention_only(app, db, kept):
    old, recent = kept
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert ("erased the answers of 1 confirmed session(s) kept longer than their flow's "
            "retention period") in result.output
    assert db.answers(old) == {} and db.session(old)["status"] == "expired"
    assert db.answers(recent)["child_name"] == "王小明"
    assert db.session(recent)["status"] == "completed"


def test_without_a_retention_period_confirmed_answers_stay(app, db, kept):
    db.set_retention(KG_ID, None, "cli")
    result = app.test_cli_runner().invoke(args=["purge"])
    assert "erased the answers of 0 confirmed session(s)" in result.output
    assert all(db.answers(sid) for sid in kept)
