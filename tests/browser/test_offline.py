"""No signal, in chromium with a real service worker: the network is cut with
context.set_offline, pages come from the phone, answers wait in IndexedDB and reach the server
exactly once when there is signal again."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from browser_kit import (
    CHROMIUM,
    CHROMIUM_ARGS,
    FLOW_ID,
    LOCAL,
    OTHER,
    PHONE,
    ROOT,
    Family,
    LiveServer,
    make_live_app,
    new_phone_context,
)

from wizard.flow import loader

VERSION = loader.load_file(ROOT / "flows" / f"{FLOW_ID}.yaml").flow.version


class Site:
    """A live server of its own (own database) that the test can look into and change."""

    def __init__(self, tmp_path: Path):
        self.db = tmp_path / "offline.sqlite3"
        self.app = make_live_app(self.db, BUILD="build-one")
        self.server = LiveServer(self.app)
        self.url = self.server.url

    def query(self, sql: str, *params) -> list[tuple]:
        with sqlite3.connect(self.db) as con:
            return con.execute(sql, params).fetchall()

    def answers(self) -> dict:
        return {k: json.loads(v) for k, v in self.query(
            "SELECT field_id, value FROM answers ORDER BY field_id")}


@pytest.fixture
def site(tmp_path):
    s = Site(tmp_path)
    yield s
    s.server.stop()


def wait_for(page, script: str, arg=None, timeout: float = 10.0):
    """Polls a page function until it returns something truthy; returns that."""
    end = time.monotonic() + timeout
    while True:
        value = page.evaluate(script, arg)
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {script}: {value!r}")
        time.sleep(0.1)


def wait_kept(page, lang: str = "en") -> None:
    """Until the service worker controls the page and the flow's bundle is kept."""
    page.evaluate("() => navigator.serviceWorker.ready")
    wait_for(page, """([flow, version, lang]) => WizardStore.getFlow(flow, version)
        .then(r => !!(r && r.langs[lang] && r.langs[lang].ready))""", [FLOW_ID, VERSION, lang])
    wait_for(page, "() => !!navigator.serviceWorker.controller")


def ready(page) -> None:
    """Until static/js/offline.js has filled the page from the phone's copy."""
    page.locator("main[data-ready]").wait_for(state="attached")


def queued(page) -> int:
    return page.evaluate("f => WizardStore.queued(f).then(q => q.length)", FLOW_ID)


def wait_sent(page) -> None:
    wait_for(page, "f => WizardStore.queued(f).then(q => q.length === 0)", FLOW_ID, 15)


def cut(context) -> None:
    """No signal. set_offline alone does not always reach a service worker started after it
    (a phone reopened with no signal), so every network request is also refused: requests
    the worker makes pass through context.route, what it answers from its caches does not."""
    context.set_offline(True)
    context.route("**/*", lambda route: route.abort("internetdisconnected"))


def restore(context) -> None:
    context.unroute_all(behavior="ignoreErrors")
    context.set_offline(False)


def offline_start(family: Family) -> None:
    """The start page online (that is all it takes), then no signal, then Start."""
    family.open("")
    wait_kept(family.page)
    cut(family.page.context)
    family.start()
    family.page.wait_for_url(family.url_re("start"))


def test_a_flow_started_and_finished_offline_syncs_once_with_its_consent(site, browser,
                                                                          tmp_path):
    """Two branches offline: the local family on a persistent profile (reloaded, closed and
    opened again with no signal in between), the migrant family in a second phone."""
    profile = tmp_path / "profile"

    def phone():
        context = browser.browser_type.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, locale="en-US",
            **PHONE)
        context.set_default_timeout(10_000)
        return context

    context = phone()
    family = Family(context.pages[0] if context.pages else context.new_page(), site.url)
    offline_start(family)
    family.walk(LOCAL, stop_at="district")
    family.answer(district=LOCAL["district"])
    family.page.wait_for_timeout(600)  # typed, not sent: kept on every change
    family.page.reload()  # with no signal: the kept page, still holding what was typed
    ready(family.page)
    assert family.page.locator("main").get_attribute("data-offline") == "1"
    assert family.page.locator(f'input[value="{LOCAL["district"]}"]').is_checked()
    assert family.progress().startswith("Step 4 of")
    assert "saved on this phone" in family.page.locator("#offline-status").inner_text()
    family.continue_()
    context.close()  # the browser closed, the phone still without signal

    context = phone()
    cut(context)
    family.page = context.pages[0] if context.pages else context.new_page()
    family.page.goto(family.url("housing"))
    ready(family.page)
    assert family.page.locator("main").get_attribute("data-offline") == "1"
    family.walk(LOCAL)
    ready(family.page)
    review = family.page.locator("main").inner_text()
    assert "Xuhui" in review and "March 15, 2024" in review and "Not provided" in review
    family.press("Confirm answers")
    assert family.path.endswith("/done")
    ready(family.page)
    sheet = family.page.locator("main").inner_text()
    assert "138 0013 8000" in sheet and "王小明" in sheet
    changes = family.page.evaluate("f => WizardStore.queued(f)", FLOW_ID)
    assert site.query("SELECT COUNT(*) FROM sessions") == [(0,)]

    restore(context)
    family.page.reload()
    wait_sent(family.page)
    (sid, status, offline, consent, claimed, consent_at), = site.query(
        "SELECT id, status, started_offline, consent_version, consent_claimed_at, consent_at "
        "FROM sessions")
    assert (status, offline, consent) == ("completed", 1, "v1")
    assert claimed and consent_at and claimed != consent_at  # the phone's claim, kept as such
    expected = {"child_dob": "2024-03-15", "hukou": "shanghai", "district": "xuhui",
                "housing": "own", "guardian1_relation": "mother",
                "guardian1_mobile": "13800138000", "child_name": "王小明",
                "documents": LOCAL["documents"]}
    assert {k: v for k, v in site.answers().items() if v is not None} == expected
    revision = site.query("SELECT revision FROM sessions")[0][0]
    recorded = site.query("SELECT COUNT(*) FROM sync_changes")[0][0]
    assert recorded == len(changes)

    # The same queue sent again, twice: nothing changes.
    body = {"version": VERSION, "lang": "en", "changes": [
        {k: c[k] for k in ("id", "step", "values", "base_revision", "claimed_at", "complete")
         if k in c} for c in changes]}
    for _ in range(2):
        reply = family.page.evaluate("""([flow, body]) => fetch(`/api/v1/flows/${flow}/sync`, {
            method: "POST", credentials: "same-origin", body: JSON.stringify(body),
            headers: {"Content-Type": "application/json", "X-Wizard-Sync": "1"}})
            .then(r => r.json())""", [FLOW_ID, body])
        assert all(r.get("replayed") for r in reply["results"])
    assert site.query("SELECT revision FROM sessions")[0][0] == revision
    assert site.query("SELECT COUNT(*) FROM sync_changes")[0][0] == recorded
    # The live answer sheet, from the server now.
    family.page.goto(family.url("done"))
    assert family.page.locator("main").get_attribute("data-offline") is None
    assert "王小明" in family.page.locator("main").inner_text()
    context.close()

    # The other branch, on another phone.
    other = new_phone_context(browser)
    try:
        migrant = Family(other.new_page(), site.url)
        offline_start(migrant)
        steps = migrant.walk(OTHER)
        assert {"parent-permit", "child-permit", "social-insurance"} <= set(steps)
        migrant.press("Confirm answers")
        restore(other)
        migrant.page.reload()
        wait_sent(migrant.page)
    finally:
        other.close()
    rows = site.query("SELECT status, started_offline FROM sessions ORDER BY id")
    assert rows == [("completed", 1), ("completed", 1)]
    migrant_answers = dict(site.query(
        "SELECT field_id, value FROM answers WHERE session_id = 2"))
    assert json.loads(migrant_answers["child_id"]) == "31011220240315002X"
    assert json.loads(migrant_answers["has_permit"]) is True
