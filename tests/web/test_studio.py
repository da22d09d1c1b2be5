"""The studio's flows, drafts, files and publishing (views/studio.py), on the real app and a
real SQLite file: who may use it, the YAML editor and its clash check, uploads, preview, and
publishing a version that moves open sessions forward by a mapping."""

import html
import io
import json
import re

import pytest
from family_helpers import BR, ROOT, begin
from people_helpers import make_user, sign_in, signed_in

BRANCHING = (ROOT / "tests" / "flows" / "branching.yaml").read_text("utf-8")


@pytest.fixture
def staff(app):
    return signed_in(app, "lee", "staff", name="Lee Min", org="Street office")


def revision(page: bytes) -> str:
    return re.search(rb'name="revision"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="revision"',
                     page).group(1).decode()


def version_2(source: str) -> str:
    """branching v1 changed: `mobile` renamed `phone_number` (same label), the points step
    removed, the permit question reworded."""
    start, end = source.index("  - id: permit-points"), source.index("  - id: contact")
    source = source[:start] + source[end:]
    source = source.replace("- id: mobile", "- id: phone_number")
    return source.replace("您有上海市居住证吗？", "您现在有上海市居住证吗？").replace(
        "Do you have a Shanghai residence permit?", "Do you have a Shanghai residence permit now?")


# ---------------------------------------------------------------- who may use it


def test_only_staff_and_admins_use_the_studio(app):
    anonymous = app.test_client()
    assert anonymous.get("/studio/").status_code == 302
    make_user(app, "vol", role="volunteer")
    volunteer = app.test_client()
    sign_in(volunteer, "vol")
    for url in ("/studio/", "/studio/branching/", "/studio/branching/draft/yaml"):
        assert volunteer.get(url).status_code == 403, url
    assert volunteer.post("/studio/", data={"flow_id": "x-y", "title": "t",
                                            "language": "en"}).status_code == 403


def test_studio_pages_are_never_cached(staff):
    assert staff.get("/studio/").headers["Cache-Control"] == "no-store"


# ---------------------------------------------------------------- a new flow and its YAML


def test_a_new_flow_starts_as_a_draft_that_loads(staff, db):
    response = staff.post("/studio/", data={"flow_id": "my-flow", "title": "My walkthrough",
                                            "language": "en"})
    assert response.status_code == 303
    draft = db.draft("my-flow")
    assert draft["revision"] == 1 and draft["updated_by"].startswith("user:")
    page = staff.get("/studio/my-flow/").data.decode()
    assert "No problems" in page
    # The same id again is refused next to the field.
    again = staff.post("/studio/", data={"flow_id": "my-flow", "title": "x", "language": "en"})
    assert again.status_code == 422 and b"exists already" in again.data


def test_a_bad_flow_id_is_refused_with_a_message(staff, db):
    response = staff.post("/studio/", data={"flow_id": "Bad Id!", "title": "",
                                            "language": "en"})
    assert response.status_code == 422
    assert b"lower-case letters" in response.data and b"Enter a title" in response.data
    assert db.studio_flows() == [r for r in db.studio_flows() if r["id"] != "bad id!"]


def test_yaml_editor_shows_problems_with_key_paths_and_keeps_the_text(staff, db):
    staff.post("/studio/branching/draft/start")
    page = staff.get("/studio/branching/draft/yaml").data
    broken = BRANCHING.replace("type: choice", "type: choise").replace("version: 1",
                                                                       "version: 2")
    saved = staff.post("/studio/branching/draft/yaml",
                       data={"source": broken, "revision": revision(page)})
    assert saved.status_code == 303  # a draft may hold problems while it is worked on
    page = staff.get("/studio/branching/draft/yaml").data.decode()
    assert "steps[1].fields[0].type" in page and "choise" in page
    # ...but it cannot be published.
    publish = staff.get("/studio/branching/draft/publish")
    assert b"Publish version" not in publish.data
    refused = staff.post("/studio/branching/draft/publish",
                         data={"revision": db.draft("branching")["revision"], "move": "leave"})
    assert refused.status_code == 422 and db.latest_version("branching") == 1


def test_two_staff_editing_one_draft_do_not_overwrite_each_other(app, staff, db):
    make_user(app, "kim", role="admin", name="Kim")
    other = app.test_client()
    sign_in(other, "kim")
    staff.post("/studio/branching/draft/start")
    mine = revision(staff.get("/studio/branching/draft/yaml").data)
    theirs = revision(other.get("/studio/branching/draft/yaml").data)
    assert other.post("/studio/branching/draft/yaml", data={
        "source": BRANCHING.replace("For tests", "Theirs"), "revision": theirs}).status_code == 303
    clash = staff.post("/studio/branching/draft/yaml", data={
        "source": BRANCHING.replace("For tests", "Mine"), "revision": mine})
    assert clash.status_code == 409
    assert b"someone else changed the draft" in clash.data
    assert b"Mine" in clash.data  # what was typed is still on the page
    assert "Theirs" in db.draft("branching")["source"]


def test_check_as_you_type_answers_with_the_loaders_problems(staff):
    reply = staff.post("/studio/check", data={"flow_id": "branching",
                                              "source": "id: branching\nsteps: 3\n"})
    problems = reply.get_json()["problems"]
    assert problems and all({"path", "message", "severity"} <= set(p) for p in problems)
    assert staff.post("/studio/check", data={"flow_id": "../x", "source": ""}).status_code == 400


# ---------------------------------------------------------------- files


def test_download_and_upload_a_flow_file(staff, db):
    text = staff.get("/studio/branching/v/1.yaml")
    assert text.status_code == 200 and text.data.decode() == BRANCHING
    assert "attachment" in text.headers["Content-Disposition"]
    changed = BRANCHING.replace("version: 1", "version: 2").replace("For tests", "Uploaded")
    response = staff.post("/studio/branching/upload", data={
        "file": (io.BytesIO(changed.encode()), "branching.yaml")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    assert db.draft("branching")["source"] == changed
    assert staff.get("/studio/branching/draft.yaml").data.decode() == changed


@pytest.mark.parametrize("content, message", [
    (b"id: branching\nsteps: [", b"branching (draft)"),
    (b"\xff\xfe not utf-8", b"not UTF-8"),
    (BRANCHING.replace("id: branching", "id: another").encode(), b"must stay"),
])
def test_a_bad_upload_says_what_is_wrong_and_changes_nothing(staff, db, content, message):
    staff.post("/studio/branching/draft/start")
    before = db.draft("branching")
    response = staff.post("/studio/branching/upload", data={
        "file": (io.BytesIO(content), "flow.yaml")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in response.data and b"nothing changed" in response.data
    assert db.draft("branching") == before


# ---------------------------------------------------------------- preview


def test_preview_walks_the_branches_with_sample_answers(staff, db):
    staff.post("/studio/branching/draft/start")
    first = staff.get("/studio/branching/draft/preview/?in=en")
    assert first.status_code == 200 and b"Date of birth" in first.data
    assert b'lang="en"' in first.data
    zh = staff.get("/studio/branching/draft/preview/hukou?in=zh_Hans").data.decode()
    assert "户籍所在地" in zh
    # The step is shown as a page (its inputs), not as its HTML source.
    phone = zh[zh.index('id="phone"'):]
    assert '<input type="radio"' in phone.replace("  ", " ") or 'type="radio"' in phone
    assert "&lt;form" not in zh
    # A sample answer chooses the branch: "other" shows the permit step next.
    went = staff.post("/studio/branching/draft/preview/hukou?in=en", data={"hukou": "other"})
    assert went.status_code == 303 and "/preview/permit" in went.headers["Location"]
    went = staff.post("/studio/branching/draft/preview/hukou?in=en",
                      data={"hukou": "shanghai"})
    assert "/preview/contact" in went.headers["Location"]
    # A wrong sample answer gets the family's error message, in the language previewed.
    wrong = staff.post("/studio/branching/draft/preview/contact?in=en",
                       data={"mobile": "12"})
    assert wrong.status_code == 422 and b"error-summary" in wrong.data
    # Nothing of this reached a family's data.
    assert db.db.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 0


# ---------------------------------------------------------------- publishing and moving


def _family(app, steps):
    client = app.test_client()
    begin(client)
    for step, data in steps:
        assert client.post(f"{BR}/{step}", data=data).status_code == 303, step
    return client


BIRTH = ("birth", {"child_dob-day": "1", "child_dob-month": "1", "child_dob-year": "2023"})


def test_publishing_version_2_moves_open_sessions_by_the_mapping(app, staff, db):
    far = _family(app, [BIRTH, ("hukou", {"hukou": "other"}), ("permit", {"has_permit": "yes"}),
                        ("permit-points", {"points": "7"}),
                        ("contact", {"mobile": "13800138000"})])
    near = _family(app, [BIRTH, ("hukou", {"hukou": "shanghai"})])
    done = _family(app, [BIRTH, ("hukou", {"hukou": "shanghai"}),
                         ("contact", {"mobile": "13900139000"}), ("documents", {}),
                         ("apply", {})])
    assert done.post(f"{BR}/review").status_code == 303
    gone = _family(app, [BIRTH])
    assert gone.post(f"{BR}/delete", data={"confirm": "yes"}).status_code in (200, 303)
    ids = [r["id"] for r in db.db.query("SELECT id FROM sessions ORDER BY id")]
    far_id, near_id, done_id, gone_id = ids
    _family(app, [BIRTH])
    expired_id = max(r["id"] for r in db.db.query("SELECT id FROM sessions"))
    db.db.execute("UPDATE sessions SET updated_at = '2000-01-01T00:00:00+00:00' WHERE id = ?",
                  (expired_id,))
    db.expire_idle("2001-01-01T00:00:00+00:00")
    states = {r["id"]: r["status"] for r in db.db.query("SELECT id, status FROM sessions")}
    assert states == {far_id: "active", near_id: "active", done_id: "completed",
                      gone_id: "deleted", expired_id: "expired"}

    staff.post("/studio/branching/draft/start")
    page = staff.get("/studio/branching/draft/yaml").data
    staff.post("/studio/branching/draft/yaml",
               data={"source": version_2(db.draft("branching")["source"]),
                     "revision": revision(page)})
    publish = staff.get("/studio/branching/draft/publish").data.decode()
    # The changes read as sentences; the mapping is asked for the fields that went.
    assert "“mobile” renamed to “phone_number”" in publish
    assert "“points” removed" in publish or "“permit-points” removed" in publish
    assert "2 families are part-way through version 1" in publish
    assert 'name="map_mobile" value="phone_number" checked' in publish or \
        re.search(r'value="phone_number"\s+checked', publish) or "checked" in publish
    response = staff.post("/studio/branching/draft/publish", data={
        "revision": revision(publish.encode()), "move": "move",
        "map_mobile": "phone_number", "map_points": ""})
    assert response.status_code == 303, response.data
    assert db.latest_version("branching") == 2 and db.draft("branching") is None

    version = {r["id"]: r["flow_version"] for r in db.db.query(
        "SELECT id, flow_version FROM sessions")}
    assert version == {far_id: 2, near_id: 2, done_id: 1, gone_id: 1, expired_id: 1}
    # The renamed answer moved with who entered it; the removed one is kept on record.
    far_answers = db.answers(far_id)
    assert far_answers["phone_number"] == "13800138000" and "mobile" not in far_answers
    assert "points" not in far_answers
    [move] = db.moves(far_id)
    assert move["kept"]["answers"] == {"points": 7}
    assert (move["from_version"], move["to_version"]) == (1, 2)
    assert db.answers(done_id)["mobile"] == "13900139000"  # a confirmed family stays
    assert db.moves(done_id) == [] and db.moves(gone_id) == []
    audit = [e for e in db.audit_entries(far_id) if e["action"] == "move-version"]
    assert audit and audit[0]["detail"]["kept"] == ["points"]

    # The family moved forward sees what to check on their review page...
    review = far.get(f"{BR}/review").data.decode()
    assert "This walkthrough was updated" in review
    assert "Do you have a Shanghai residence permit now?" in review
    assert "This question changed" in review
    assert "1 question you answered is no longer asked" in review
    # ...their answers still open every page, and confirming clears the list.
    assert far.get(f"{BR}/contact").status_code == 200
    assert far.post(f"{BR}/review").status_code == 303
    assert db.moves(far_id)[0]["checked_at"] is not None
    assert "This walkthrough was updated" not in far.get(f"{BR}/review").data.decode()
    # The family who had not reached the changed question has nothing to check.
    near_review = near.get(f"{BR}/review").data.decode()
    assert "Nothing you answered needs checking again" in near_review \
        or "This question changed" not in near_review
    # The version's changes are kept with it, in sentences on the flow page.
    flow_page = staff.get("/studio/branching/").data.decode()
    assert "Version 2" in flow_page and "renamed to" in flow_page
    stored = json.loads(db.versions("branching")[0]["changes"])
    assert any(c["code"] == "field_renamed" for c in stored)


def test_publishing_and_leaving_sessions_where_they_are(app, staff, db):
    family = _family(app, [BIRTH, ("hukou", {"hukou": "shanghai"})])
    staff.post("/studio/branching/draft/start")
    draft = db.draft("branching")
    db.save_draft("branching", draft["source"].replace("For tests", "v2"), draft["revision"],
                  "user:1")
    publish = staff.get("/studio/branching/draft/publish").data
    assert staff.post("/studio/branching/draft/publish", data={
        "revision": revision(publish), "move": "leave"}).status_code == 303
    assert db.latest_version("branching") == 2
    assert db.db.execute("SELECT flow_version FROM sessions").fetchone()[0] == 1
    assert family.get(f"{BR}/contact").status_code == 200  # still on version 1


def test_a_published_draft_cannot_be_published_twice(app, staff, db):
    staff.post("/studio/branching/draft/start")
    page = staff.get("/studio/branching/draft/publish").data
    assert staff.post("/studio/branching/draft/publish", data={
        "revision": revision(page), "move": "leave"}).status_code == 303
    again = staff.post("/studio/branching/draft/publish", data={
        "revision": revision(page), "move": "leave"})
    assert again.status_code == 404 and db.latest_version("branching") == 2


# ---------------------------------------------------------------- a whole flow, bigger than a step


KG_SOURCE = (ROOT / "flows" / "kindergarten-shanghai.yaml").read_text("utf-8")


def test_staff_can_send_a_whole_big_flow_and_nobody_else_can(app, staff, db):
    assert len(KG_SOURCE.encode()) > 64 * 1024  # more than any family's page may send
    staff.post("/studio/kindergarten-shanghai/draft/start")
    page = staff.get("/studio/kindergarten-shanghai/draft/yaml").data
    bigger = KG_SOURCE.replace("version: 3", "version: 4")
    assert staff.post("/studio/kindergarten-shanghai/draft/yaml", data={
        "source": bigger, "revision": revision(page)}).status_code == 303
    assert db.draft("kindergarten-shanghai")["source"] == bigger
    uploaded = staff.post("/studio/kindergarten-shanghai/upload", data={
        "file": (io.BytesIO(bigger.replace("Kindergarten registration in",
                                           "Kindergarten entry in").encode()), "kg.yaml")},
        content_type="multipart/form-data")
    assert uploaded.status_code == 303
    # The whole translations table (hundreds of texts) saves in one form.
    table = staff.get("/studio/kindergarten-shanghai/draft/translations?to=ug").data.decode()
    # (A browser drops the newline that starts a textarea's content.)
    fields = {name: html.unescape(text.removeprefix("\n")) for name, text in re.findall(
        r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', table)}
    hidden = {name: html.unescape(value) for name, value in re.findall(
        r'<input type="hidden" name="([^"]+)" value="([^"]*)"', table)}
    assert len(fields) + len(hidden) > 200  # the app's limit of parts for a family's page
    saved = staff.post("/studio/kindergarten-shanghai/draft/translations?to=ug",
                       data={**hidden, **fields})
    assert saved.status_code in (200, 303), saved.status_code
    # A volunteer (or anyone) sending as much to a studio address is refused before reading.
    make_user(app, "vol", role="volunteer")
    volunteer = app.test_client()
    sign_in(volunteer, "vol")
    assert volunteer.post("/studio/kindergarten-shanghai/draft/yaml",
                          data={"source": bigger, "revision": "1"}).status_code == 413
    assert app.test_client().post("/studio/check", data={
        "source": bigger, "flow_id": "kindergarten-shanghai"}).status_code == 413


def test_an_editor_left_open_on_an_old_draft_cannot_overwrite_the_next_one(staff, db):
    staff.post("/studio/branching/draft/start")
    stale = revision(staff.get("/studio/branching/draft/yaml").data)
    page = staff.get("/studio/branching/draft/publish").data
    assert staff.post("/studio/branching/draft/publish", data={
        "revision": revision(page), "move": "leave"}).status_code == 303
    staff.post("/studio/branching/draft/start")  # a new draft, from version 2
    fresh = db.draft("branching")
    assert fresh["revision"] != int(stale)  # revisions go on across drafts
    clash = staff.post("/studio/branching/draft/yaml", data={
        "source": BRANCHING.replace("For tests", "Old page"), "revision": stale})
    assert clash.status_code == 409 and db.draft("branching") == fresh


def test_publishing_what_someone_changed_after_the_page_was_opened_is_refused(staff, db):
    staff.post("/studio/branching/draft/start")
    page = staff.get("/studio/branching/draft/publish").data
    draft = db.draft("branching")
    db.save_draft("branching", draft["source"].replace("For tests", "SNEAKY EDIT"),
                  draft["revision"], "user:99")
    refused = staff.post("/studio/branching/draft/publish", data={
        "revision": revision(page), "move": "leave"})
    assert refused.status_code == 409 and b"someone else changed the draft" in refused.data
    assert db.latest_version("branching") == 1


def test_a_mapping_that_mixes_answers_is_refused_before_anything_is_published(app, staff, db):
    _family(app, [BIRTH, ("hukou", {"hukou": "other"}), ("permit", {"has_permit": "yes"}),
                  ("permit-points", {"points": "7"}), ("contact", {"mobile": "13800138000"})])
    staff.post("/studio/branching/draft/start")
    page = staff.get("/studio/branching/draft/yaml").data
    staff.post("/studio/branching/draft/yaml", data={
        "source": version_2(db.draft("branching")["source"]), "revision": revision(page)})
    publish = staff.get("/studio/branching/draft/publish").data
    refused = staff.post("/studio/branching/draft/publish", data={
        "revision": revision(publish), "move": "move", "map_mobile": "phone_number",
        "map_points": "phone_number"})
    assert refused.status_code == 422 and b"map one of them" in refused.data
    assert db.latest_version("branching") == 1 and db.draft("branching") is not None


@pytest.mark.parametrize("flow_id", ["2027-primary", "-x", "a"])
def test_a_flow_id_the_loader_would_refuse_is_refused_with_a_message(staff, flow_id):
    response = staff.post("/studio/", data={"flow_id": flow_id, "title": "T", "language": "en"})
    assert response.status_code == 422 and b"starting with a letter" in response.data


def test_yaml_that_cannot_be_read_safely_is_not_saved(staff, db):
    staff.post("/studio/branching/draft/start")
    before = db.draft("branching")
    page = staff.get("/studio/branching/draft/yaml").data
    for text in ("id: branching\nsteps: " + "[" * 500 + "]" * 500, "id: [unclosed\n"):
        response = staff.post("/studio/branching/draft/yaml",
                              data={"source": text, "revision": revision(page)})
        assert response.status_code == 422, text[:30]
        assert db.draft("branching") == before


def _publish(staff, db, change, move="move", **mapping):
    staff.post("/studio/branching/draft/start")
    page = staff.get("/studio/branching/draft/yaml").data
    assert staff.post("/studio/branching/draft/yaml", data={
        "source": change(db.draft("branching")["source"]),
        "revision": revision(page)}).status_code == 303
    publish = staff.get("/studio/branching/draft/publish").data
    response = staff.post("/studio/branching/draft/publish", data={
        "revision": revision(publish), "move": move, **mapping})
    assert response.status_code == 303, response.data


def test_checks_not_yet_confirmed_carry_over_a_second_move(app, staff, db):
    family = _family(app, [BIRTH, ("hukou", {"hukou": "other"}),
                           ("permit", {"has_permit": "yes"})])
    _publish(staff, db, lambda s: s.replace("Do you have a Shanghai residence permit?",
                                            "Do you hold a Shanghai residence permit?"))
    assert "This question changed" in family.get(f"{BR}/review").data.decode()
    # Version 3 changes only the summary: the family has still not confirmed.
    _publish(staff, db, lambda s: s.replace("For tests", "For tests again"))
    review = family.get(f"{BR}/review").data.decode()
    assert "Do you hold a Shanghai residence permit?" in review
    assert "This question changed" in review


def test_a_top_level_mistake_is_saved_with_its_problem_not_refused(staff, db):
    staff.post("/studio/branching/draft/start")
    page = staff.get("/studio/branching/draft/yaml").data
    typo = db.draft("branching")["source"].replace("minutes: 5", "mintues: 5")
    saved = staff.post("/studio/branching/draft/yaml", data={"source": typo,
                                                             "revision": revision(page)})
    assert saved.status_code == 303 and db.draft("branching")["source"] == typo
    assert "mintues" in staff.get("/studio/branching/draft/yaml").data.decode()


def test_sample_answers_that_no_longer_fit_the_draft_are_dropped(staff, db):
    staff.post("/studio/branching/draft/start")
    staff.post("/studio/branching/draft/preview/hukou?in=en", data={"hukou": "other"})
    staff.post("/studio/branching/draft/preview/permit?in=en", data={"has_permit": "yes"})
    draft = db.draft("branching")
    # has_permit becomes a date question: the sample "yes" cannot be its answer any more.
    changed = draft["source"].replace("      - id: has_permit\n        type: yes_no",
                                      "      - id: has_permit\n        type: date")
    assert changed != draft["source"]
    db.save_draft("branching", changed, draft["revision"], "user:1")
    page = staff.get("/studio/branching/draft/preview/hukou?in=en")
    assert page.status_code == 200 and b"<code>has_permit</code>" not in page.data
    assert b"<code>hukou</code>" in page.data


def test_any_two_versions_compare_in_sentences(app, staff, db):
    _publish(staff, db, lambda s: s.replace("Do you have a Shanghai residence permit?",
                                            "Do you hold a Shanghai residence permit?"))
    _publish(staff, db, version_2)
    assert b"Compare two versions" in staff.get("/studio/branching/").data
    page = staff.get("/studio/branching/compare?from=1&to=3").data.decode()
    assert "“mobile” renamed to “phone_number”" in page and "“has_permit” changed" in page
    latest = staff.get("/studio/branching/compare").data.decode()  # 2 to 3 by default
    assert "renamed to" in latest and "From version 2 to version 3" in latest
    same = staff.get("/studio/branching/compare?from=2&to=2").data.decode()
    assert "No differences." in same
    assert staff.get("/studio/branching/compare?from=x&to=99999999999999999999").status_code \
        == 200
    assert staff.get("/studio/nothing-here/compare").status_code == 404


def test_only_studio_pages_load_the_studio_stylesheet(app, staff):
    assert b"css/studio.css" in staff.get("/studio/").data
    family = app.test_client()
    assert b"css/studio.css" not in family.get("/").data
    assert b"css/studio.css" not in family.get(f"{BR}/").data
