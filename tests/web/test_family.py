"""The family's pages through the Flask client: saving, bad input, sessions, resume."""

import re

import pytest
from family_helpers import BR, KG, KG_LOCAL, KG_OTHER, answer_all, begin

from wizard import security, store

DOB = {"child_dob-day": "1", "child_dob-month": "10", "child_dob-year": "2023"}


def text(response):
    return response.get_data(as_text=True)


def test_home_lists_published_flows_with_time_and_deadline(client):
    page = text(client.get("/?lang=en"))
    assert f'href="{KG}/"' in page and f'href="{BR}/"' in page
    assert "About 20 minutes" in page
    assert re.search(r"\d+ days? left|deadline .* has passed|The deadline is today", page)


def test_start_needs_consent_and_records_its_version(client, db):
    response = client.post(f"{BR}/?lang=en", data={})
    assert response.status_code == 200
    assert "error-summary" in text(response) and 'href="#f-consent"' in text(response)
    assert db.db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0
    begin(client)
    row = db.db.execute("SELECT consent_version, consent_at, locale FROM sessions").fetchone()
    assert row[0] == "v1" and row[1] and row[2] == "en"


def test_cookie_is_random_httponly_lax_and_only_its_hash_is_stored(client, db):
    response = client.post(f"{BR}/", data={"consent": "yes"})
    cookie = response.headers["Set-Cookie"]
    token = re.search(r"wz_branching=([^;]+)", cookie).group(1)
    assert len(token) >= 43  # 256 bits, url-safe base64
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    hashes = [r[0] for r in db.db.execute("SELECT token_hash FROM session_tokens")]
    assert hashes == [security.hash_token(token)]
    dump = "\n".join(db.db.conn.iterdump())
    assert token not in dump


def test_step_saves_and_goes_on(client, db):
    first = begin(client)
    assert first.endswith(f"{BR}/birth")
    response = client.post(first, data=DOB)
    assert response.status_code == 303 and response.headers["Location"].endswith("/hukou")
    sid = db.db.execute("SELECT id FROM sessions").fetchone()[0]
    assert db.answers(sid) == {"child_dob": "2023-10-01"}
    page = text(client.get(f"{BR}/birth"))
    assert 'value="2023"' in page and 'value="10"' in page  # saved values shown again


def test_error_keeps_every_typed_value_and_saves_nothing(client, db):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    client.post(f"{BR}/hukou", data={"hukou": "other"})
    client.post(f"{BR}/permit", data={"has_permit": "no"})
    response = client.post(f"{BR}/contact",
                           data={"mobile": "12345", "child_id": "11010519491231002X"})
    # Post/redirect/get, mistakes included: Back never offers to resubmit a form.
    assert response.status_code == 303 and response.headers["Location"].endswith("/contact")
    page = text(client.get(response.headers["Location"]))
    assert 'href="#f-mobile"' in page and 'id="f-mobile-error"' in page
    assert "11-digit mainland mobile number" in page
    assert 'value="12345"' in page and 'value="11010519491231002X"' in page
    # The ID's birth date does not match the child's: its own message, also kept.
    assert "is not the date of birth you gave" in page
    sid = db.db.execute("SELECT id FROM sessions").fetchone()[0]
    assert "mobile" not in db.answers(sid)


@pytest.mark.parametrize("data", [
    {"hukou": "x" * 30_000},
    {"hukou": ["shanghai", "other"], "unexpected": "field", "csrf_token": "x"},
    {"hukou": "other", "revision": "²"},
    {"hukou": "other", "revision": "١٢"},
    {"hukou": "<script>alert(1)</script>"},
    {"hukou": "\x00\ufffd"},
    {"hukou": "other", "revision": "9" * 40},
    {"hukou": "other", "revision": "-1"},
])
def test_malformed_answers_get_a_message_not_a_crash(client, data, db):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    response = client.post(f"{BR}/hukou", data=data, follow_redirects=True)
    page = text(response)
    if response.request.path.endswith("/hukou"):  # refused: said so on the page
        assert response.status_code == 200
        assert "error-message" in page
    else:  # a valid answer among the junk: saved and on to the next page
        assert response.status_code == 200
        assert response.request.path.rsplit("/", 1)[1] in ("permit", "contact")
    assert "<script>alert(1)</script>" not in page
    sid = db.db.execute("SELECT id FROM sessions").fetchone()[0]
    assert db.answers(sid)["child_dob"] == "2023-10-01"  # nothing else lost


def test_invalid_utf8_body(client, db):
    begin(client)
    response = client.post(f"{BR}/birth", data=b"child_dob-day=\xff\xfe&child_dob-month=1",
                           content_type="application/x-www-form-urlencoded",
                           follow_redirects=True)
    assert response.status_code == 200
    assert "error-summary" in text(response)


def test_step_not_visible_redirects_to_the_right_step(client):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    client.post(f"{BR}/hukou", data={"hukou": "shanghai"})
    response = client.get(f"{BR}/permit")
    assert response.status_code == 303 and response.headers["Location"].endswith("/contact")
    assert client.get(f"{BR}/no-such-step").status_code == 404


def test_progress_and_back_link(client):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    page = text(client.get(f"{BR}/hukou?lang=en"))
    # Every page that may still come is counted until the answers rule it out: the total
    # only ever shrinks as the family goes on.
    assert "Step 2 of 7" in page
    assert f'class="back-link" href="{BR}/birth"' in page
    client.post(f"{BR}/hukou", data={"hukou": "shanghai"})
    assert "Step 3 of 5" in text(client.get(f"{BR}/contact"))


def test_no_session_and_deleted_session_explain_and_offer_ways_back(client):
    page = text(client.get(f"{BR}/birth?lang=en"))
    assert "could not find your answers" in page
    assert 'href="/resume"' in page and f'href="{BR}/"' in page
    begin(client)
    client.post(f"{BR}/delete")
    page = text(client.get(f"{BR}/birth"))
    assert "could not find your answers" in page  # cookie removed with the answers


def test_expired_session_is_erased_and_explained(client, db):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    db.db.execute("UPDATE sessions SET updated_at = '2000-01-01T00:00:00+00:00'")
    page = text(client.get(f"{BR}/hukou?lang=en"))
    assert "Your saved answers have expired" in page
    sid = db.db.execute("SELECT id FROM sessions").fetchone()[0]
    assert db.answers(sid) == {} and db.session(sid)["status"] == "expired"


def complete_branching(client, hukou="shanghai"):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    client.post(f"{BR}/hukou", data={"hukou": hukou})
    if hukou == "other":
        client.post(f"{BR}/permit", data={"has_permit": "yes"})
        client.post(f"{BR}/permit-points", data={"points": "130"})
    client.post(f"{BR}/contact", data={"mobile": "13800138000"})
    client.post(f"{BR}/documents", data={"documents": ["hukou_book"]})
    return client.post(f"{BR}/apply", data={})


def test_review_done_and_delete(client, db):
    assert complete_branching(client).headers["Location"].endswith("/review")
    page = text(client.get(f"{BR}/review?lang=en"))
    assert "Not provided" in page  # the optional ID number
    assert f'href="{BR}/hukou?return=review"' in page
    response = client.post(f"{BR}/review")
    assert response.headers["Location"].endswith("/done")
    sheet = text(client.get(f"{BR}/done"))
    assert "手机号码" in sheet and "138 0013 8000" in sheet
    assert "Still needed" not in sheet or "Ready" in sheet
    sid = db.db.execute("SELECT id FROM sessions").fetchone()[0]
    assert db.session(sid)["status"] == "completed"
    assert client.post(f"{BR}/delete").status_code == 303
    assert db.answers(sid) == {}


def test_review_refuses_completion_while_answers_are_missing(client):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    response = client.post(f"{BR}/review?lang=en")
    assert response.status_code == 422
    page = text(response)
    assert "Some answers are missing" in page and f"{BR}/hukou?return=review" in page
    assert client.get(f"{BR}/done").status_code == 303


def test_change_from_review_comes_back_unless_new_questions_open(client):
    complete_branching(client)
    response = client.post(f"{BR}/contact?return=review", data={"mobile": "13900139000"})
    assert response.headers["Location"].endswith("/review")
    response = client.post(f"{BR}/hukou?return=review", data={"hukou": "other"})
    assert response.headers["Location"].endswith(f"{BR}/permit?return=review")
    response = client.post(f"{BR}/permit?return=review", data={"has_permit": "no"})
    assert response.headers["Location"].endswith("/review")


def resume_code(client):
    page = text(client.get(f"{BR}/save?lang=en"))
    return re.search(r'id="resume-code"[^>]*>([A-Z0-9 ]+)<', page).group(1)


def test_save_page_shows_code_qr_and_link(client):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    page = text(client.get(f"{BR}/save?lang=en"))
    code = resume_code(client)
    assert re.fullmatch(r"[A-Z0-9]{4} [A-Z0-9]{4}", code)
    assert set(code.replace(" ", "")) <= set(security.RESUME_ALPHABET)
    assert "<svg" in page and "screenshot" in page
    assert f"/resume?code={code.replace(' ', '')}" in page


def test_resume_on_another_device_with_code_and_birth_date(app, client):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    client.post(f"{BR}/hukou", data={"hukou": "other"})
    client.get(f"{BR}/permit")
    code = resume_code(client)
    other = app.test_client()
    response = other.post("/resume", data={"code": code.lower().replace(" ", "-"),
                                           "dob-day": "01", "dob-month": "10",
                                           "dob-year": "2023"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/permit")
    page = text(other.get(f"{BR}/hukou"))
    assert 'value="other" checked' in page
    # Both phones carry on with the same answers.
    other.post(f"{BR}/permit", data={"has_permit": "yes"})
    assert 'value="yes" checked' in text(client.get(f"{BR}/permit"))


def test_resume_with_a_pin_when_no_birth_date_yet(app, client):
    begin(client)
    page = text(client.get(f"{BR}/save?lang=en"))
    assert 'name="pin"' in page and "resume-code" not in page
    assert client.post(f"{BR}/save", data={"pin": "12a4"}).status_code == 422
    assert client.post(f"{BR}/save", data={"pin": "2580"}).status_code == 303
    code = resume_code(client)
    other = app.test_client()
    assert other.post("/resume", data={"code": code, "pin": "0000"}).status_code == 422
    response = other.post("/resume", data={"code": code, "pin": "2580"})
    assert response.status_code == 303


def test_wrong_attempts_are_rate_limited_with_a_wait_time(app, client, db):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    code = resume_code(client)
    other = app.test_client()
    wrong = {"code": code, "dob-day": "2", "dob-month": "10", "dob-year": "2023"}
    per_quarter_hour = security.CODE_ADDRESS_LIMITS[0][0]
    for _ in range(per_quarter_hour):
        assert other.post("/resume?lang=en", data=wrong).status_code == 422
    response = other.post("/resume?lang=en", data={**wrong, "dob-day": "1"})
    assert response.status_code == 429  # even the right answer waits now, from this address
    assert re.search(r"Wait \d+ minutes", text(response))
    # Old failures stop counting after the window.
    db.db.execute("UPDATE attempts SET at = at - ?", (security.CODE_ADDRESS_LIMITS[0][1] + 1,))
    assert other.post("/resume", data={**wrong, "dob-day": "1"}).status_code == 303


def test_rate_limit_per_client_across_unknown_codes(app, db):
    other = app.test_client()
    limit = security.UNKNOWN_CODE_LIMITS[0][0]
    for i in range(limit):
        other.post("/resume", data={"code": f"AAAA{i:04d}", "pin": "1234"})
    assert other.post("/resume", data={"code": "CCCCDDDD", "pin": "1"}).status_code == 429


def test_expired_session_answers_like_an_unknown_code(app, client, db):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    code = resume_code(client)
    db.db.execute("UPDATE sessions SET updated_at = '2000-01-01T00:00:00+00:00'")
    response = app.test_client().post("/resume?lang=en", data={
        "code": code, "dob-day": "1", "dob-month": "10", "dob-year": "2023"})
    assert response.status_code == 422 and "do not match" in text(response)
    assert "days without use" in text(response)  # the page says why a code can stop working


def test_resume_codes_are_stored_only_as_hmacs(client, db):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    code = resume_code(client).replace(" ", "")
    assert code not in "\n".join(db.db.conn.iterdump())


# ------------------------------------------------------------ transport


def test_html_is_compressed_and_headers_are_strict(client):
    response = client.get("/?lang=en", headers={"Accept-Encoding": "br, gzip"})
    assert response.headers["Content-Encoding"] in ("br", "gzip")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_static_files_have_versioned_urls_cached_for_a_year(client):
    page = text(client.get("/"))
    url = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]+)"', page).group(1)
    response = client.get(url)
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "max-age=31536000" not in client.get("/static/css/app.css").headers.get(
        "Cache-Control", "")


def test_csrf_is_enforced_when_enabled(tmp_path):
    from wizard import create_app

    app = create_app({"DATABASE": str(tmp_path / "c.sqlite3"), "SECRET_KEY": "k"})
    s = store.Store(app.config["DATABASE"])
    s.migrate()
    s.close()
    response = app.test_client().post("/resume?lang=en", data={"code": "AAAA"})
    assert response.status_code == 400
    assert "send the page again" in text(response) or "csrf" in text(response).lower()


def test_a_server_error_never_loses_saved_answers(app, client, db, monkeypatch):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store.Store, "save_answers", broken)
    response = client.post(f"{BR}/hukou", data={"hukou": "other"})
    assert response.status_code == 500
    monkeypatch.undo()
    sid = db.db.execute("SELECT id FROM sessions").fetchone()[0]
    assert db.answers(sid) == {"child_dob": "2023-10-01"}
    assert "saved answers are safe" in text(response)


def test_change_from_review_that_makes_advice_apply_shows_it_first(client):
    begin(client, KG)
    answer_all(client, KG_LOCAL)
    response = client.post(f"{KG}/housing?return=review", data={"housing": "unfiled_lease"})
    assert response.headers["Location"].endswith(f"{KG}/check-housing?return=review")
    response = client.post(f"{KG}/check-housing?return=review", data={})
    assert response.headers["Location"].endswith(f"{KG}/review")
    # Changing it back: the advice no longer applies, straight back to the review.
    response = client.post(f"{KG}/housing?return=review", data={"housing": "own"})
    assert response.headers["Location"].endswith(f"{KG}/review")


@pytest.mark.parametrize("target", ["//evil.example/x", "/\t/evil.example", "/\t//evil.example",
                                    "/\n/x", "/\r\n/x", "https://evil.example/",
                                    "/\\evil.example", "javascript:alert(1)"])
def test_text_size_never_redirects_off_site(client, target):
    response = client.get("/text-size", query_string={"next": target})
    assert response.status_code == 303
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_pages_with_answers_are_never_cached(client):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    for url in [f"{BR}/birth", f"{BR}/review", f"{BR}/done", f"{BR}/save", f"{BR}/delete"]:
        response = client.get(url)
        assert response.headers["Cache-Control"] == "no-store", url
        assert "Cookie" in response.headers["Vary"], url
    response = client.post("/resume", data={"code": "ACDEFGHJ", "dob-day": "1"})
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_without_answers_keep_the_back_forward_cache(client):
    # no-store switches off the browser's back/forward cache; these pages hold no answers.
    begin(client)
    for url in ["/", f"{BR}/", "/resume", f"{BR}/deleted"]:
        response = client.get(url)
        assert response.headers["Cache-Control"] == "no-cache", url
        assert "Cookie" in response.headers["Vary"], url


def test_a_new_device_is_written_to_the_audit_log(app, client, db):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    code = resume_code(client)
    app.test_client().post("/resume", data={"code": code, "dob-day": "1", "dob-month": "10",
                                            "dob-year": "2023"})
    sid = db.db.execute("SELECT id FROM sessions").fetchone()[0]
    (entry,) = db.audit_entries(sid)
    assert (entry["actor"], entry["action"], entry["detail"]) == (
        "resume", "new-device", {"with": "birth date"})


def test_deleted_codes_cost_an_attempt_too(app, client, db):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    code = resume_code(client)
    client.post(f"{BR}/delete")
    other = app.test_client()
    statuses = {other.post("/resume", data={"code": code, "pin": "1"}).status_code
                for _ in range(security.UNKNOWN_CODE_LIMITS[0][0])}
    assert statuses == {422}
    assert other.post("/resume", data={"code": code, "pin": "1"}).status_code == 429


def test_cookies_last_from_the_last_visit(client):
    begin(client)
    response = client.get(f"{BR}/birth")
    cookies = response.headers.getlist("Set-Cookie")
    token = [c for c in cookies if c.startswith("wz_branching=")]
    assert token and "Max-Age=5184000" in token[0]  # 60 days, renewed on this visit
    session = [c for c in cookies if c.startswith("session=")]
    assert session and "Expires=" in session[0]  # the CSRF secret survives a browser restart


def test_change_from_review_asks_newly_opened_optional_questions_too(client):
    complete_branching(client)  # hukou shanghai: no permit steps yet
    assert client.post(f"{BR}/hukou?return=review", data={"hukou": "other"}).headers[
        "Location"].endswith(f"{BR}/permit?return=review")
    # has_permit opens permit-points, whose only question is optional: it is still asked.
    assert client.post(f"{BR}/permit?return=review", data={"has_permit": "yes"}).headers[
        "Location"].endswith(f"{BR}/permit-points?return=review")
    assert client.post(f"{BR}/permit-points?return=review", data={"points": ""}).headers[
        "Location"].endswith(f"{BR}/review")


def test_two_phones_editing_the_same_answer_see_each_others_change(app, client, db):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    client.post(f"{BR}/hukou", data={"hukou": "other"})
    code = resume_code(client)
    volunteer = app.test_client()
    volunteer.post("/resume", data={"code": code, "dob-day": "1", "dob-month": "10",
                                    "dob-year": "2023"})
    page = text(client.get(f"{BR}/hukou?lang=en"))  # the family opens the page ...
    seen = re.search(r'name="revision" value="(\d+)"', page).group(1)
    volunteer.post(f"{BR}/hukou", data={"hukou": "shanghai"})  # ... the other phone saves
    response = client.post(f"{BR}/hukou?lang=en", data={"hukou": "other", "revision": seen})
    assert response.status_code == 422
    page = text(response)
    assert "changed on another phone" in page and 'value="shanghai" checked' in page
    sid = db.db.execute("SELECT id FROM sessions").fetchone()[0]
    assert db.answers(sid)["hukou"] == "shanghai"  # nothing overwritten unseen
    seen = re.search(r'name="revision" value="(\d+)"', page).group(1)
    response = client.post(f"{BR}/hukou", data={"hukou": "other", "revision": seen})
    assert response.status_code == 303 and db.answers(sid)["hukou"] == "other"


def test_change_from_review_shows_advice_further_on_that_now_applies(client):
    begin(client, KG)
    answer_all(client, KG_OTHER)
    response = client.post(f"{KG}/parent-permit?return=review", data={"has_permit": "no"})
    assert response.headers["Location"].endswith(f"{KG}/check-permits?return=review")
    response = client.post(f"{KG}/check-permits?return=review", data={})
    assert response.headers["Location"].endswith(f"{KG}/review")


def test_typed_values_come_back_once_after_the_redirect(client):
    begin(client)
    client.post(f"{BR}/birth", data={"child_dob-day": "31", "child_dob-month": "2",
                                     "child_dob-year": "2024"})
    page = text(client.get(f"{BR}/birth?lang=en"))
    assert 'value="31"' in page and "error-summary" in page
    page = text(client.get(f"{BR}/birth"))  # a reload later shows the saved state again
    assert 'value="31"' not in page and "error-summary" not in page


def test_a_long_text_with_a_mistake_is_shown_again_after_the_redirect(client, app):
    begin(client)
    client.post(f"{BR}/birth", data=DOB)
    client.post(f"{BR}/hukou", data={"hukou": "other"})
    client.post(f"{BR}/permit", data={"has_permit": "no"})
    long = "字" * 600
    response = client.post(f"{BR}/contact", data={"mobile": long})
    assert response.status_code == 303  # it waits on the server, not in a cookie
    page = text(client.get(response.headers["Location"]))
    assert "error-message" in page and long in page


@pytest.mark.parametrize("url", ["/static/css/app.css", "/static/css/studio.css",
                                 "/static/js/offline.js", "/static/js/journey.js",
                                 "/sw.js", "/manifest.webmanifest", "/?lang=en",
                                 f"{KG}/?lang=en"])
@pytest.mark.parametrize("accepts", ["gzip", "br", "gzip, deflate, br"])
def test_every_text_response_is_compressed_for_what_the_phone_accepts(client, url, accepts):
    import gzip

    import brotli

    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    response = client.get(url, headers={"Accept-Encoding": accepts})
    assert response.status_code == plain.status_code == 200
    chosen = response.headers.get("Content-Encoding")
    assert chosen == ("gzip" if accepts == "gzip" else "br"), (url, chosen)
    body = gzip.decompress(response.data) if chosen == "gzip" else brotli.decompress(
        response.data)
    if url.startswith("/static") or url in ("/sw.js", "/manifest.webmanifest"):
        assert body == plain.data  # the same bytes, smaller
    assert len(response.data) < len(body)
    assert "Accept-Encoding" in response.headers["Vary"]
