"""The offline kit as the server gives it: manifest, service worker, a flow's bundle and its
blank pages. (The browser tests drive them with a real service worker.)"""

from __future__ import annotations

import json
import re
import struct

import pytest
from family_helpers import KG, ROOT, begin

from wizard import assets, create_app
from wizard.flow import loader

FLOW = "kindergarten-shanghai"
LANGS = ("zh_Hans", "zh_Hant", "en", "ug")


def _flow():
    return loader.load_file(ROOT / "flows" / f"{FLOW}.yaml").flow


def test_manifest_meets_chromium_install_criteria_in_the_page_language(client):
    for lang, name in [("en", "Family helper"), ("zh_Hans", None)]:
        response = client.get(f"/manifest.webmanifest?lang={lang}")
        assert response.status_code == 200
        assert response.mimetype == "application/manifest+json"
        m = response.json
        assert m["display"] == "standalone" and m["start_url"] == "/" and m["scope"] == "/"
        assert m["name"] and m["short_name"] and len(m["short_name"]) <= 12
        if name:
            assert m["name"] == name
        assert m["lang"] == {"en": "en", "zh_Hans": "zh-Hans"}[lang]
        assert re.fullmatch(r"#[0-9a-f]{6}", m["theme_color"])
        sizes = {(i["sizes"], i["purpose"]) for i in m["icons"]}
        assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
        for icon in m["icons"]:
            png = client.get(icon["src"])
            assert png.status_code == 200 and png.mimetype == "image/png"
            assert png.data[:8] == b"\x89PNG\r\n\x1a\n"
            width, height = struct.unpack(">II", png.data[16:24])
            assert f"{width}x{height}" == icon["sizes"]
    zh = client.get("/manifest.webmanifest?lang=zh_Hans").json
    assert zh["name"] != "Family helper"  # translated


def test_every_page_links_the_manifest_and_registers_the_worker(client):
    html = client.get("/?lang=ug").get_data(as_text=True)
    assert 'rel="manifest" href="/manifest.webmanifest?lang=ug"' in html
    assert "/static/js/register.js?v=" in html
    # The home page needs none of the offline kit: only walkthrough pages carry it.
    assert "offline.js" not in html


def test_service_worker_is_served_at_the_root_with_this_build(client, app):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    text = response.get_data(as_text=True)
    with app.test_request_context():
        build = assets.build_id()
        assert json.dumps(build) in text
        assert assets.url("js/localstore.js") in text
    assert "importScripts(" in text and "skipWaiting" in text


def test_a_new_build_is_a_new_worker_and_new_cache_names(tmp_path):
    def app_with(build):
        return create_app({"TESTING": True, "DATABASE": str(tmp_path / "b.sqlite3"),
                           "SECRET_KEY": "k", "BUILD": build})
    a, b = app_with("build-a"), app_with("build-b")
    assert a.test_client().get("/sw.js").data != b.test_client().get("/sw.js").data
    with a.test_request_context():
        from wizard.views.offline import cache_name
        assert cache_name(FLOW, 3, "en") == f"wizard-flow-{FLOW}-v3-en-build-a"


@pytest.mark.parametrize("lang", LANGS)
def test_bundle_has_every_page_rules_texts_and_the_files_they_load(client, lang):
    flow = _flow()
    response = client.get(f"/offline/{FLOW}/{flow.version}/{lang}/bundle.json")
    assert response.status_code == 200
    b = response.json
    assert b["lang"] == lang
    assert b["cache"].startswith(f"wizard-flow-{FLOW}-v{flow.version}-{lang}-")
    assert set(b["pages"]["steps"]) == {s.id for s in flow.steps}
    assert [s["id"] for s in b["rules"]["steps"]] == [s.id for s in flow.steps]
    assert b["texts"]["lang"] == lang
    assert b["words"]["offline"] and b["words"]["conflict"]
    for url in [b["pages"][k] for k in ("start", "review", "done", "save")] + \
            list(b["pages"]["steps"].values()) + b["assets"]:
        assert client.get(url).status_code == 200, url


def test_a_blank_step_page_has_every_field_and_choice_and_no_answers_or_token(client):
    flow = _flow()
    begin(client, flow=KG)  # a family's cookie must not leak into the page
    for step in flow.steps:
        html = client.get(f"/offline/{FLOW}/{flow.version}/en/step/{step.id}")\
            .get_data(as_text=True)
        assert 'data-offline="1"' in html and f'data-step="{step.id}"' in html
        assert "csrf_token" not in html
        for f in step.fields:
            assert f'data-field="{f.id}"' in html, (step.id, f.id)
            for c in f.choices:
                assert f'data-choice="{c.value}"' in html, (step.id, f.id, c.value)
        # Links point at the live pages, never at the blank one.
        assert f'action="/f/{FLOW}/{step.id}"' in html
        assert f"/f/{FLOW}/{step.id}?lang=zh_Hans" in html


def test_blank_pages_are_cacheable_and_the_live_ones_are_not(client):
    flow = _flow()
    blank = client.get(f"/offline/{FLOW}/{flow.version}/en/review")
    assert blank.headers["Cache-Control"] == "no-cache"
    first = begin(client, flow=KG)
    live = client.get(first)
    assert live.headers["Cache-Control"] == "no-store"
    assert f'data-bundle="/offline/{FLOW}/{flow.version}/' in live.get_data(as_text=True)


def test_unknown_flow_version_or_language_is_404(client):
    flow = _flow()
    for url in ["/offline/nope/1/en/bundle.json", f"/offline/{FLOW}/999/en/bundle.json",
                f"/offline/{FLOW}/{flow.version}/xx/bundle.json",
                f"/offline/{FLOW}/{flow.version}/en/step/nope",
                f"/offline/{FLOW}/{flow.version}/en/delete"]:
        assert client.get(url).status_code == 404, url


def test_no_signal_page_is_in_the_shell(client):
    html = client.get("/offline?lang=en").get_data(as_text=True)
    assert 'id="saved-flows"' in html
    sw = client.get("/sw.js").get_data(as_text=True)
    assert '"/offline"' in sw


def test_forget_this_phone_removes_only_this_phones_key_and_clears_the_site(app, client, db):
    begin(client, flow=KG)
    assert client.post(f"{KG}/child-birth", data={
        "child_dob-day": "1", "child_dob-month": "1", "child_dob-year": "2024"}).status_code == 303
    save = client.get(f"{KG}/save").get_data(as_text=True)
    assert 'id="forget-form"' in save and f'action="{KG}/forget"' in save
    code = re.search(r'id="resume-code"[^>]*>([^<]+)<', save).group(1)
    other = app.test_client()  # a second phone of the family
    resumed = other.post("/resume", data={"code": code, "dob-day": "1", "dob-month": "1",
                                          "dob-year": "2024"})
    assert resumed.status_code == 303
    tokens = db.db.execute("SELECT COUNT(*) FROM session_tokens").fetchone()[0]
    response = client.post(f"{KG}/forget")
    assert response.status_code == 303 and response.headers["Location"] == f"{KG}/forgotten"
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert any(c.startswith("wz_kindergarten-shanghai=;") for c in
               response.headers.getlist("Set-Cookie"))
    assert db.db.execute("SELECT COUNT(*) FROM session_tokens").fetchone()[0] == tokens - 1
    assert client.get(f"{KG}/review").status_code == 200  # "we could not find your answers"
    assert "could not find your answers" in client.get(f"{KG}/review").get_data(as_text=True)
    assert other.get(f"{KG}/review").status_code == 200
    assert "2024" in other.get(f"{KG}/review").get_data(as_text=True)
    page = client.get(f"{KG}/forgotten?lang=en").get_data(as_text=True)
    assert "This phone has forgotten your answers" in page


def test_the_manifest_never_sets_the_language_cookie(client):
    # The service worker fetches it with the family's cookies when it installs.
    response = client.get("/manifest.webmanifest?lang=en")
    assert not response.headers.getlist("Set-Cookie")
    for url in ["/offline/kindergarten-shanghai/3/ug/bundle.json", "/sw.js"]:
        assert not any(c.startswith("lang=") for c in client.get(url).headers.getlist(
            "Set-Cookie")), url


def test_a_static_file_never_puts_back_an_older_session_cookie(client):
    """The service worker's install fetches static files in the background, sometimes with
    the cookie as it was before the start page made the CSRF secret: a response that sent
    that cookie back would make the start page's form fail."""
    client.get("/?lang=en")  # a session cookie without the CSRF secret
    begin(client, flow=KG)  # now with it
    for url in ["/static/css/app.css?v=1", "/static/js/offline.js?v=1",
                "/static/icons/icon-192.png"]:
        assert not client.get(url).headers.getlist("Set-Cookie"), url
