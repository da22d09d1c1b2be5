"""A helper with a family's consent: the code, the console, walking a family's pages, notes,
hand-back and hand-over, and every way of being refused (no grant, expired, ended, reused or
guessed codes, another helper's family, a disabled account). Every access that succeeded is
in the audit log."""

import re

import pytest
import segno
from family_helpers import KG, KG_LOCAL, begin
from people_helpers import make_user, sign_in

from wizard import store


@pytest.fixture
def family(app):
    """A family's phone, a few steps into the kindergarten walkthrough (in English)."""
    client = app.test_client()
    begin(client, KG)
    for step, data in KG_LOCAL[:2]:
        assert client.post(f"{KG}/{step}", data=data).status_code == 303
    return client


@pytest.fixture
def helper(app):
    make_user(app, "wang")
    client = app.test_client()
    assert sign_in(client, "wang").status_code == 303
    return client


def offer(family, label="Building 3"):
    """The family asks for a code; returns it (6 digits) and the page."""
    page = family.post(f"{KG}/helper?lang=en", data={"label": label})
    assert page.status_code == 200
    code = re.search(r'id="grant-code"[^>]*>(\d{3} \d{3})<', page.text).group(1)
    return code.replace(" ", ""), page


def accept(helper, code) -> int:
    response = helper.post("/assist/accept", data={"code": code})
    assert response.status_code == 303, response.text
    return int(re.search(r"/assist/s/(\d+)/$", response.headers["Location"]).group(1))


def audit(app):
    s = store.Store(app.config["DATABASE"])
    try:
        return s.audit_search(limit=1000)
    finally:
        s.close()


def actions(app, actor=None):
    return [(r["action"], r["detail"]) for r in reversed(audit(app))
            if actor is None or r["actor"] == actor]


def set_sql(app, sql, params=()):
    s = store.Store(app.config["DATABASE"])
    try:
        s.db.execute(sql, params)
    finally:
        s.close()


# ---------------------------------------------------------------- the family grants


def test_the_code_page_shows_six_digits_and_a_qr_code_of_the_helpers_link(app, family):
    code, page = offer(family)
    link = f"{app.config['PUBLIC_ORIGIN']}/assist/accept?code={code}"
    expected = segno.make(link, error="m").svg_inline(scale=4, dark="#0b0c0c", omitsize=False)
    assert expected in page.text
    assert page.headers["Cache-Control"] == "no-store"
    rows = [r for r in audit(app) if r["action"] == "grant-offered"]
    assert len(rows) == 1


def test_a_helper_enters_the_code_changes_an_answer_and_the_family_sees_who(app, family,
                                                                            helper):
    code, _ = offer(family)
    grant = accept(helper, code)
    overview = helper.get(f"/assist/s/{grant}/")
    assert overview.status_code == 200 and "Building 3" in overview.text
    console = helper.get("/assist/")
    assert "Building 3" in console.text and "Step " in console.text

    page = helper.get(f"/assist/s/{grant}/step/district")
    assert page.status_code == 200
    revision = re.search(r'name="revision" value="(\d+)"', page.text).group(1)
    saved = helper.post(f"/assist/s/{grant}/step/district",
                        data={"district": "minhang", "revision": revision})
    assert saved.status_code == 303
    assert saved.headers["Location"].startswith(f"/assist/s/{grant}/step/")

    # The family's pages say who can see the answers, and mark the helper's answer.
    review = family.get(f"{KG}/review?lang=en")
    assert "Wang Fang (Hope Centre) can see and change your answers" in review.text
    row = re.search(r'data-field="district".*?</div>', review.text, re.S).group(0)
    assert "Entered by helper Wang Fang (Hope Centre)" in row
    hukou = re.search(r'data-field="hukou".*?</div>', review.text, re.S).group(0)
    assert "Entered by helper" not in hukou  # the family's own answer says nothing

    history = family.get(f"{KG}/helper?lang=en")
    assert "Wang Fang (Hope Centre) changed your answers" in history.text
    assert "Wang Fang (Hope Centre) looked at your answers" in history.text

    mine = actions(app, "user:1")
    assert ("grant-accepted", {"grant": grant}) in mine
    assert ("view", {"page": "overview"}) in mine
    assert ("view", {"step": "district"}) in mine
    assert ("change", {"step": "district", "fields": ["district"]}) in mine


def test_the_family_ends_access_and_the_helpers_next_request_is_refused(app, family, helper):
    grant = accept(helper, offer(family)[0])
    assert helper.get(f"/assist/s/{grant}/step/district").status_code == 200
    ended = family.post(f"{KG}/helper/{grant}/end", data={"next": f"{KG}/review"})
    assert ended.status_code == 303 and ended.headers["Location"] == f"{KG}/review"
    for url in (f"/assist/s/{grant}/", f"/assist/s/{grant}/step/district",
                f"/assist/s/{grant}/review", f"/assist/s/{grant}/done"):
        assert helper.get(url).status_code == 404, url
    assert helper.post(f"/assist/s/{grant}/step/district",
                       data={"district": "xuhui"}).status_code == 404
    assert "Building 3" not in helper.get("/assist/").text
    assert ("grant-ended-by-family", {"grant": grant}) in actions(app, "family")


def test_no_grant_and_another_helpers_family_look_like_nothing_at_all(app, family, helper):
    grant = accept(helper, offer(family)[0])
    make_user(app, "li", name="Li Na")
    other = app.test_client()
    sign_in(other, "li")
    theirs = other.get(f"/assist/s/{grant}/step/district")
    nothing = other.get("/assist/s/999/step/district")
    assert theirs.status_code == nothing.status_code == 404
    assert theirs.text.replace(f"/s/{grant}/", "/s/999/") == nothing.text
    assert other.post(f"/assist/s/{grant}/hand-back").status_code == 404
    assert other.post(f"/assist/s/{grant}/step/district/note",
                      data={"note": "x"}).status_code == 404
    # Signed out: the sign-in page, not the family.
    anonymous = app.test_client().get(f"/assist/s/{grant}/")
    assert anonymous.status_code == 302 and "/account/sign-in" in anonymous.headers["Location"]
    assert not [a for a in actions(app, "user:2") if a[0] in ("view", "change")]


def test_an_expired_grant_stops_access_on_the_next_request(app, family, helper):
    grant = accept(helper, offer(family)[0])
    assert helper.get(f"/assist/s/{grant}/").status_code == 200
    set_sql(app, "UPDATE grants SET expires_at = '2000-01-01T00:00:00+00:00' WHERE id = ?",
            (grant,))
    assert helper.get(f"/assist/s/{grant}/").status_code == 404
    review = family.get(f"{KG}/review?lang=en")
    assert "can see and change your answers" not in review.text


def test_a_code_works_once_and_not_after_ten_minutes(app, family, helper):
    code, _ = offer(family)
    accept(helper, code)
    make_user(app, "li", name="Li Na")
    other = app.test_client()
    sign_in(other, "li")
    reused = other.post("/assist/accept", data={"code": code})
    assert reused.status_code == 422 and "does not open anything" in reused.text

    late, _ = offer(family)
    set_sql(app, "UPDATE grants SET code_expires_at = '2000-01-01T00:00:00+00:00' "
                 "WHERE code_hash IS NOT NULL")
    assert other.post("/assist/accept", data={"code": late}).status_code == 422
    refused = [a for a in actions(app, "user:2") if a[0] == "grant-code-refused"]
    assert len(refused) == 2


def test_a_new_code_withdraws_the_one_before(app, family, helper):
    first, _ = offer(family)
    second, _ = offer(family)
    if first != second:
        assert helper.post("/assist/accept", data={"code": first}).status_code == 422
    accept(helper, second)


def test_guessing_codes_is_limited_per_helper_per_code_and_per_client(app, family, helper):
    code, _ = offer(family)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    for _ in range(5):
        assert helper.post("/assist/accept", data={"code": wrong}).status_code == 422
    # The same wrong code a sixth time: limited for that code, whoever types it.
    make_user(app, "li", name="Li Na")
    other = app.test_client()
    sign_in(other, "li")
    assert other.post("/assist/accept", data={"code": wrong}).status_code == 429
    # Ten different wrong codes by one helper: that helper waits, even for the right one.
    guesses = [f"{(int(code) + n) % 1000000:06d}" for n in range(2, 12)]
    statuses = [helper.post("/assist/accept", data={"code": g}).status_code for g in guesses]
    assert statuses[:5] == [422] * 5 and statuses[-1] == 429
    limited = helper.post("/assist/accept", data={"code": code})
    assert limited.status_code == 429 and "Too many tries" in limited.text
    # Another helper can still enter it: the limit is on the guesser, not the family.
    assert accept(other, code)


def test_many_helpers_behind_one_address_share_a_client_limit(app, family):
    clients = []
    for n in range(3):
        make_user(app, f"h{n}", name=f"Helper {n}")
        c = app.test_client()
        sign_in(c, f"h{n}")
        clients.append(c)
    statuses = [clients[i % 3].post("/assist/accept", data={"code": f"{i:06d}"}).status_code
                for i in range(21)]
    assert statuses[-1] == 429 and statuses[:20].count(422) == 20


def test_a_bad_code_gets_a_clear_message(helper):
    for typed in ("", "12345", "1234567", "abcdef", "12 34 5x"):
        page = helper.post("/assist/accept", data={"code": typed})
        assert page.status_code == 422 and "Enter the 6 digits" in page.text, typed
    # Full-width digits and spaces, as a Chinese keyboard types them, are fine.
    assert helper.post("/assist/accept", data={"code": "１２３　４５６"}).status_code == 422
    assert "does not open anything" in helper.post(
        "/assist/accept", data={"code": "１２３　４５６"}).text


def test_a_disabled_helper_is_signed_out_at_once_and_loses_every_grant(app, family, helper, db):
    grant = accept(helper, offer(family)[0])
    db.set_disabled(1, True, "user:99")
    response = helper.get(f"/assist/s/{grant}/")
    assert response.status_code == 302 and "/account/sign-in" in response.headers["Location"]
    assert "can see and change" not in family.get(f"{KG}/review?lang=en").text


def test_the_helper_cannot_confirm_for_the_family(app, family, helper, db):
    grant = accept(helper, offer(family)[0])
    page = helper.get(f"/assist/s/{grant}/review")
    assert 'id="review-form"' not in page.text and "Only the family can confirm" in page.text
    assert helper.post(f"/assist/s/{grant}/review").status_code == 403
    assert db.session(1)["status"] == "active"


def test_notes_are_for_helpers_only_and_go_with_the_answers(app, family, helper, db):
    grant = accept(helper, offer(family)[0])
    added = helper.post(f"/assist/s/{grant}/step/district/note",
                        data={"note": "Ask which street the lease is on"})
    assert added.status_code == 303
    page = helper.get(f"/assist/s/{grant}/step/district")
    assert "Ask which street the lease is on" in page.text
    assert "Ask which street" in helper.get(f"/assist/s/{grant}/").text
    assert "Ask which street" not in family.get(f"{KG}/district?lang=en").text
    assert helper.post(f"/assist/s/{grant}/step/district/note",
                       data={"note": "   "}).status_code == 303
    assert ("note", {"step": "district"}) in actions(app, "user:1")
    # "Delete my answers": the notes go, and so does the helper's access.
    assert family.post(f"{KG}/delete").status_code == 303
    assert helper.get(f"/assist/s/{grant}/").status_code == 404
    assert db.notes(1) == []


def test_hand_back_ends_access_and_is_recorded(app, family, helper):
    grant = accept(helper, offer(family)[0])
    back = helper.post(f"/assist/s/{grant}/hand-back")
    assert back.status_code == 303
    assert helper.get(f"/assist/s/{grant}/").status_code == 404
    assert ("grant-ended-by-helper", {"grant": grant}) in actions(app, "user:1")


def test_a_label_left_empty_never_becomes_the_childs_name(app, family, helper):
    grant = accept(helper, offer(family, label="")[0])
    assert helper.post(f"/assist/s/{grant}/step/child-birth", data={
        "child_dob-day": "1", "child_dob-month": "1", "child_dob-year": "2024"}).status_code \
        == 303
    console = helper.get("/assist/")
    assert f"Family {grant}" in console.text


def test_the_family_and_the_helper_editing_one_step_see_each_others_change(app, family,
                                                                          helper):
    grant = accept(helper, offer(family)[0])
    on_phone = family.get(f"{KG}/district?lang=en")
    revision = re.search(r'name="revision" value="(\d+)"', on_phone.text).group(1)
    helper.post(f"/assist/s/{grant}/step/district",
                data={"district": "minhang", "revision": revision})
    clash = family.post(f"{KG}/district?lang=en",
                        data={"district": "pudong", "revision": revision})
    assert clash.status_code == 422
    assert 'value="minhang" checked' in clash.text.replace("\n", " ") or \
        re.search(r'value="minhang"\s+checked', clash.text)


def test_both_languages_side_by_side(app, helper):
    family = app.test_client()
    begin(family, KG, lang="ug")
    grant = accept(helper, offer(family)[0])
    one = helper.get(f"/assist/s/{grant}/step/hukou")
    assert 'class="family-words"' not in one.text and 'lang="en"' in one.text
    helper.get(f"/assist/both-languages?on=1&next=/assist/s/{grant}/step/hukou")
    both = helper.get(f"/assist/s/{grant}/step/hukou")
    words = re.findall(r'<div class="family-words" lang="ug" dir="rtl">(.*?)</div>', both.text,
                       re.S)
    assert words and re.search(r"[\u0600-\u06ff]", words[0])
    assert '<span class="official" lang="zh-Hans">' in both.text  # the official term stays
    assert "<html lang=\"en\"" in both.text  # the helper's own language around it


def test_a_session_started_on_the_helpers_phone(app, helper, db):
    refused = helper.post("/assist/new/kindergarten-shanghai",
                          data={"label": "Mrs Li", "family_lang": "ug"})
    assert refused.status_code == 422 and "The guardian must agree" in refused.text
    started = helper.post("/assist/new/kindergarten-shanghai", data={
        "label": "Mrs Li", "family_lang": "ug", "consent": "y", "present": "y"})
    assert started.status_code == 303
    grant = int(re.search(r"/assist/s/(\d+)/", started.headers["Location"]).group(1))
    sess = db.session(1)
    assert sess["consent_version"] == "v1" and sess["locale"] == "ug"
    # Without the birth date the guardian must choose a PIN before the code is shown.
    assert helper.post(f"/assist/s/{grant}/hand-over", data={}).status_code == 422
    shown = helper.post(f"/assist/s/{grant}/hand-over", data={"pin": "2580"})
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    code = re.search(r'id="resume-code"[^>]*>([A-Z0-9 ]+)<', shown.text).group(1)
    assert helper.get(f"/assist/s/{grant}/").status_code == 404
    family = app.test_client()
    opened = family.post("/resume", data={"code": code, "pin": "2580"})
    assert opened.status_code == 303
    assert ("grant-ended-by-hand-over", {"grant": grant, "pin": True}) in actions(app, "user:1")


def test_a_guardian_present_may_be_confirmed_by_the_helper(app, helper):
    started = helper.post("/assist/new/branching", data={
        "label": "Mrs Li", "family_lang": "en", "consent": "y", "present": "y"})
    grant = int(re.search(r"/assist/s/(\d+)/", started.headers["Location"]).group(1))
    page = helper.get(f"/assist/s/{grant}/review")
    assert 'id="review-form"' in page.text


def test_family_pages_without_a_helper_say_nothing_of_helpers(family):
    assert "helpers-banner" not in family.get(f"{KG}/district?lang=en").text


# ---------------------------------------------------------------- what the review found


def test_only_a_walkthrough_the_helper_started_can_be_handed_over(family, helper):
    grant = accept(helper, offer(family)[0])
    assert helper.get(f"/assist/s/{grant}/hand-over").status_code == 404
    assert helper.post(f"/assist/s/{grant}/hand-over", data={"pin": "1234"}).status_code == 404


def test_the_code_shown_at_hand_over_stops_working_once_the_family_resumed(app, helper):
    started = helper.post("/assist/new/kindergarten-shanghai", data={
        "label": "Mrs Li", "family_lang": "en", "consent": "y", "present": "y"})
    grant = int(re.search(r"/assist/s/(\d+)/", started.headers["Location"]).group(1))
    shown = helper.post(f"/assist/s/{grant}/hand-over", data={"pin": "2580"})
    code = re.search(r'id="resume-code"[^>]*>([A-Z0-9 ]+)<', shown.text).group(1)
    family = app.test_client()
    assert family.post("/resume", data={"code": code, "pin": "2580"}).status_code == 303
    # The helper saw that code: a second phone with it (and the PIN) gets nothing now.
    assert app.test_client().post("/resume", data={"code": code, "pin": "2580"}) \
        .status_code == 422
    new_code = re.search(r'id="resume-code"[^>]*>([A-Z0-9 ]+)<',
                         family.get(f"{KG}/save").text).group(1)
    assert new_code != code
    assert app.test_client().post("/resume", data={"code": new_code, "pin": "2580"}) \
        .status_code == 303


def test_a_helper_changing_a_confirmed_answer_reopens_the_walkthrough(app, family, helper, db):
    from family_helpers import KG_LOCAL as STEPS
    from family_helpers import answer_all
    answer_all(family, STEPS[2:])
    assert family.post(f"{KG}/review").status_code == 303
    grant = accept(helper, offer(family)[0])
    helper.post(f"/assist/s/{grant}/step/district", data={"district": "minhang"})
    assert db.session(1)["status"] == "active"
    assert "Answers confirmed" not in helper.get("/assist/").text


def test_starting_again_ends_the_helpers_access_to_the_earlier_walkthrough(family, helper):
    grant = accept(helper, offer(family)[0])
    again = family.post(f"{KG}/", data={"consent": "yes", "replace": "yes"})
    assert again.status_code == 303
    assert helper.get(f"/assist/s/{grant}/").status_code == 404


def test_a_helper_looking_round_does_not_move_where_the_family_carries_on(app, family,
                                                                         helper, db):
    grant = accept(helper, offer(family)[0])
    helper.get(f"/assist/s/{grant}/step/guardian")
    assert db.session(1)["last_step"] != "guardian"


def test_a_refused_confirmation_is_a_view_in_the_log(app, family, helper):
    grant = accept(helper, offer(family)[0])
    before = len(actions(app, "user:1"))
    helper.post(f"/assist/s/{grant}/review")
    assert actions(app, "user:1")[before:] == [("view", {"page": "review"})]


def test_the_helper_pages_with_a_code_or_a_label_are_never_cached(helper):
    for url in ("/assist/accept?code=123456", "/assist/new/kindergarten-shanghai", "/assist/"):
        assert helper.get(url).headers["Cache-Control"] == "no-store", url


def test_ids_too_big_for_the_database_are_simply_not_found(app, family, helper):
    huge = "9" * 25
    assert helper.get(f"/assist/s/{huge}/").status_code == 404
    assert helper.post(f"/assist/s/{huge}/hand-back").status_code == 404
    assert family.post(f"{KG}/helper/{huge}/end").status_code == 404


def test_disabling_a_helper_tells_each_family_they_stopped_helping(app, family, helper, db):
    accept(helper, offer(family)[0])
    db.set_disabled(1, True, "user:99")
    assert "Wang Fang (Hope Centre) stopped helping you" in family.get(f"{KG}/helper").text


# ---------------------------------------------------------------- kept on the helper's phone


def keep(helper, grant):
    kept = helper.post(f"/assist/s/{grant}/keep")
    assert kept.status_code == 303 and kept.headers["Location"].startswith(f"{KG}/")
    assert kept.headers["Location"].endswith("?lang=en")  # the helper's own language
    return kept.headers["Location"]


def test_a_helpers_phone_keeping_the_walkthrough_walks_the_familys_pages_as_the_helper(
        app, family, helper, db):
    grant = accept(helper, offer(family)[0])
    where = keep(helper, grant)
    page = helper.get(where)
    assert page.status_code == 200 and "Kept on this phone" in page.text
    assert "helpers-banner" not in page.text
    saved = helper.post(f"{KG}/district", data={"district": "minhang"})
    assert saved.status_code == 303
    rows = {r["field_id"]: r for r in db.answer_rows(1)}
    assert rows["district"]["entered_by"] == "volunteer:1"
    assert ("kept-on-phone", {"grant": grant}) in actions(app, "user:1")
    assert ("change", {"step": "district", "fields": ["district"]}) in actions(app, "user:1")
    # Never the family's own: the code, deleting, letting others in, confirming.
    save = helper.get(f"{KG}/save")
    assert save.status_code == 303 and save.headers["Location"] == f"/assist/s/{grant}/"
    assert helper.get(f"{KG}/delete").status_code == 404
    assert helper.get(f"{KG}/helper").status_code == 404
    assert helper.post(f"{KG}/review").status_code == 403
    assert "Let a helper" not in helper.get(f"{KG}/review").text

    # The sync API: saves as the helper, never confirms, and stops with the grant.
    body = {"version": 1, "lang": "en", "changes": [
        {"id": "change-one-0123456789ab", "step": "housing", "values": {"housing": "own"},
         "base_revision": 99},
        {"id": "change-two-0123456789ab", "complete": True}]}
    headers = {"X-Wizard-Sync": "1", "Content-Type": "application/json"}
    version = re.search(r'data-version="(\d+)"', page.text).group(1)
    body["version"] = int(version)
    reply = helper.post("/api/v1/flows/kindergarten-shanghai/sync", json=body,
                        headers=headers)
    assert reply.status_code == 200, reply.text
    results = {r["id"]: r for r in reply.get_json()["results"]}
    assert results["change-one-0123456789ab"]["status"] == "applied"
    assert results["change-two-0123456789ab"]["status"] == "invalid"
    assert "family_confirms" in [p["code"] for p in results["change-two-0123456789ab"]["problems"]]
    assert {r["field_id"]: r["entered_by"] for r in db.answer_rows(1)}["housing"] \
        == "volunteer:1"
    assert db.session(1)["last_step"] != "housing"  # where the family carries on
    assert ("change", {"via": "sync", "changes": ["change-one-0123456789ab"]}) \
        in actions(app, "user:1")

    family.post(f"{KG}/helper/{grant}/end")
    assert "Kept on this phone" not in helper.get(f"{KG}/district").text
    assert helper.post("/api/v1/flows/kindergarten-shanghai/sync", json={
        **body, "changes": []}, headers=headers).status_code == 401


def test_one_phone_keeps_one_familys_walkthrough_of_a_flow(app, helper):
    first, second = app.test_client(), app.test_client()
    for client in (first, second):
        begin(client, KG)
    grant_one = accept(helper, offer(first)[0])
    grant_two = accept(helper, offer(second)[0])
    keep(helper, grant_one)
    refused = helper.post(f"/assist/s/{grant_two}/keep")
    assert refused.status_code == 409 and 'id="keep-error"' in refused.text


def test_a_family_phone_is_never_taken_over_by_keep(app, family, helper):
    """A helper signed in on the family's own phone cannot turn it into a helper's phone."""
    grant = accept(helper, offer(family)[0])
    from people_helpers import sign_in as sign_in_on
    sign_in_on(family, "wang")
    refused = family.post(f"/assist/s/{grant}/keep")
    assert refused.status_code == 409 and "stays theirs" in refused.text
    assert family.get(f"{KG}/save").status_code == 200  # still the family's own phone


def test_signing_out_revokes_what_the_helpers_phone_keeps(app, family, helper):
    grant = accept(helper, offer(family)[0])
    keep(helper, grant)
    helper.post("/account/sign-out")
    assert "Kept on this phone" not in helper.get(f"{KG}/district?lang=en").text
    refused = helper.post("/api/v1/flows/kindergarten-shanghai/sync", json={
        "version": 1, "lang": "en", "changes": []}, headers={"X-Wizard-Sync": "1"})
    assert refused.status_code == 401 and refused.get_json()["error"] == "access_ended"


def test_an_ended_grant_tells_the_helpers_phone_to_let_go(app, family, helper):
    grant = accept(helper, offer(family)[0])
    keep(helper, grant)
    family.post(f"{KG}/helper/{grant}/end")
    refused = helper.post("/api/v1/flows/kindergarten-shanghai/sync", json={
        "version": 1, "lang": "en", "changes": []}, headers={"X-Wizard-Sync": "1"})
    assert refused.status_code == 401 and refused.get_json()["error"] == "access_ended"
    # A family's phone with no session is told what it always was.
    stranger = app.test_client()
    stranger.set_cookie("wz_kindergarten-shanghai", "nothing")
    assert stranger.post("/api/v1/flows/kindergarten-shanghai/sync", json={
        "version": 1, "lang": "en", "changes": []}, headers={"X-Wizard-Sync": "1"}
    ).get_json()["error"] == "no_session"


def test_a_helper_saving_unchanged_answers_leaves_a_confirmed_walkthrough_confirmed(
        app, family, helper, db):
    from family_helpers import KG_LOCAL as STEPS
    from family_helpers import answer_all
    answer_all(family, STEPS[2:])
    assert family.post(f"{KG}/review").status_code == 303
    grant = accept(helper, offer(family)[0])
    helper.post(f"/assist/s/{grant}/step/district", data={"district": "xuhui"})  # as it was
    assert db.session(1)["status"] == "completed"


def test_starting_again_offline_ends_the_helpers_access_too(app, family, helper, db):
    grant = accept(helper, offer(family)[0])
    version = db.latest_version("kindergarten-shanghai")
    started = family.post("/api/v1/flows/kindergarten-shanghai/sync", json={
        "version": version, "lang": "en", "changes": [],
        "start": {"id": "start-again-offline-0123456789", "consent_version": "v1"}},
        headers={"X-Wizard-Sync": "1"})
    assert started.status_code == 200, started.text
    assert helper.get(f"/assist/s/{grant}/").status_code == 404
