"""No signal, in chromium with a real service worker: the network is cut with
context.set_offline, pages come from the phone, answers wait in IndexedDB and reach the server
exactly once when there is signal again."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from browser_kit import (
    ANSWER,
    CHROMIUM,
    CHROMIUM_ARGS,
    FLOW_ID,
    LOCAL,
    OTHER,
    PHONE,
    RESULT,
    ROOT,
    Family,
    LiveServer,
    make_live_app,
    new_phone_context,
    query,
)
from playwright.sync_api import Error as PlaywrightError

from wizard.flow import loader
from wizard.store import Store

VERSION = loader.load_file(ROOT / "flows" / f"{FLOW_ID}.yaml").flow.version


class Site:
    """A live server of its own (own database) that the test can look into and change."""

    def __init__(self, tmp_path: Path):
        self.db = tmp_path / "offline.sqlite3"
        self.app = make_live_app(self.db, BUILD="build-one")
        self.server = LiveServer(self.app)
        self.url = self.server.url

    def query(self, sql: str, *params) -> list[tuple]:
        return query(self.db, sql, *params)

    def answers(self) -> dict:
        return {k: json.loads(v) for k, v in self.query(
            f"SELECT field_id, {ANSWER} FROM answers ORDER BY field_id")}


@pytest.fixture
def site(tmp_path):
    s = Site(tmp_path)
    yield s
    s.server.stop()


def kit(page) -> None:
    """Until the offline scripts (loaded after the page, by register.js) are there."""
    page.wait_for_function("() => !!(window.WizardStore && window.WizardOffline)")


def wait_for(page, script: str, arg=None, timeout: float = 10.0):
    """Polls a page function until it returns something truthy; returns that."""
    end = time.monotonic() + timeout
    while True:
        try:
            value = page.evaluate(script, arg)
        except PlaywrightError as error:  # the page moved on meanwhile: ask the next one
            if "context was destroyed" not in str(error) and "not defined" not in str(error):
                raise
            value = None
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {script}: {value!r}")
        time.sleep(0.1)


def wait_kept(page, lang: str = "en") -> None:
    """Until the service worker controls the page and the flow's bundle is kept."""
    kit(page)
    page.evaluate("() => navigator.serviceWorker.ready")
    wait_for(page, """([flow, version, lang]) => WizardStore.getFlow(flow, version)
        .then(r => !!(r && r.langs[lang] && r.langs[lang].ready))""", [FLOW_ID, VERSION, lang])
    if not page.evaluate("() => !!navigator.serviceWorker.controller"):
        # The worker took over between two page loads, too late to claim this one (as on a
        # phone, the next page it loads is its).
        page.reload()
    wait_for(page, "() => !!navigator.serviceWorker.controller")


def ready(page) -> None:
    """Until static/js/offline.js has filled the page from the phone's copy."""
    page.locator("main[data-ready]").wait_for(state="attached")


def wait_copy(page, site: Site | None = None) -> None:
    """Until the phone holds its copy of the session (pulled by a live page's sync); with
    `site`, until that copy is as recent as the server's answers."""
    kit(page)
    wait_for(page, "f => WizardStore.getSession(f).then(c => !!c)", FLOW_ID)
    if site is not None:
        revision = site.query("SELECT revision FROM sessions ORDER BY id DESC")[0][0]
        wait_for(page, "([f, r]) => WizardStore.getSession(f).then(c => c.revision === r)",
                 [FLOW_ID, revision])


def queued(page) -> int:
    kit(page)
    return page.evaluate("f => WizardStore.queued(f).then(q => q.length)", FLOW_ID)


def wait_sent(page) -> None:
    kit(page)
    wait_for(page, "f => WizardStore.queued(f).then(q => q.length === 0)", FLOW_ID, 15)


def cut(context) -> None:
    """No signal. set_offline alone does not always reach a service worker started after it
    (a phone reopened with no signal), so every network request is also refused: requests
    the worker makes pass through context.route, what it answers from its caches does not."""
    context.set_offline(True)
    context.route("**/*", _no_signal)


def _no_signal(route):
    route.abort("internetdisconnected")


def restore(context) -> None:
    """Signal again (routes a test added for the API stay)."""
    context.unroute("**/*", _no_signal)
    context.set_offline(False)


def online_until(family: Family, site: Site, step: str) -> None:
    """Started and answered online up to `step` (the local family's answers), with the
    flow kept and the phone's copy as recent as the server's."""
    family.base = site.url
    family.open("")
    family.start()
    family.walk(LOCAL, stop_at=step)
    wait_kept(family.page)
    wait_copy(family.page, site)


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
        f"SELECT field_id, {ANSWER} FROM answers WHERE session_id = 2"))
    assert json.loads(migrant_answers["child_id"]) == "31011220240315002X"
    assert json.loads(migrant_answers["has_permit"]) is True


def test_signal_lost_on_a_live_page_then_a_mistake_then_a_sync_that_fails_and_retries(site,
                                                                                      family):
    """Online first; the signal goes while a step is open: that step is kept on the phone,
    a mistake gets the server's own message, and a sync that meets a 500 and then a dropped
    connection keeps everything and tries again."""
    online_until(family, site, "hukou")
    assert family.page.locator("main").get_attribute("data-offline") is None  # live
    cut(family.page.context)
    family.answer(hukou="shanghai")
    family.continue_()  # step.js cannot send it: the phone takes it
    assert family.step_id == "district"
    ready(family.page)
    assert family.page.locator("main").get_attribute("data-offline") == "1"
    # The Back link and progress come from the phone's copy of the answers.
    assert family.page.locator(".back-link").get_attribute("href").endswith("/hukou")
    assert family.progress().startswith("Step 4 of")
    family.walk(LOCAL, stop_at="guardian")
    family.answer(guardian1_relation="mother", guardian1_mobile="1380013800")  # 10 digits
    family.page.get_by_role("button", name="Continue", exact=True).click()
    summary = family.page.locator(".error-summary")
    summary.wait_for()
    message = ("Enter an 11-digit mainland mobile number that starts with 1, "
               "like 138 0013 8000")
    assert message in summary.inner_text()
    field = family.page.locator('[data-field="guardian1_mobile"]')
    assert "field-error" in field.get_attribute("class")
    assert message in field.locator(".error-message").inner_text()
    assert family.page.title().startswith("Error:")
    assert family.step_id == "guardian"
    family.answer(guardian1_mobile="13800138000")
    family.continue_()
    assert family.step_id == "child-details"
    waiting = queued(family.page)
    assert waiting >= 4

    context = family.page.context
    hits = []

    def server_error(route):
        hits.append("500")
        route.fulfill(status=500, body="{}", content_type="application/json")

    def dropped(route):
        hits.append("drop")
        route.abort("connectionreset")

    context.route("**/api/v1/**", server_error)  # in place before the signal comes back
    restore(context)
    family.page.reload()
    wait_for(family.page, "() => true")
    family.page.wait_for_timeout(500)
    assert hits and queued(family.page) == waiting
    context.unroute_all(behavior="ignoreErrors")
    context.route("**/api/v1/**", dropped)
    family.page.evaluate("() => window.dispatchEvent(new Event('online'))")
    family.page.wait_for_timeout(500)
    assert "drop" in hits and queued(family.page) == waiting
    assert "waiting" in family.page.locator("#offline-status").inner_text() or \
        "only on this phone" in family.page.locator("#offline-status").inner_text()
    assert site.answers().get("hukou") is None
    context.unroute_all(behavior="ignoreErrors")
    family.page.evaluate("() => window.dispatchEvent(new Event('online'))")
    wait_sent(family.page)
    answers = site.answers()
    assert answers["hukou"] == "shanghai" and answers["guardian1_mobile"] == "13800138000"
    assert site.query("SELECT COUNT(*) FROM sessions") == [(1,)]


def two_phones(site: Site, new_context) -> tuple[Family, Family]:
    """One family's walkthrough, finished on the first phone and opened on a second one with
    the resume code; both on the review page, each with its copy and its kept pages."""
    first = Family(new_context().new_page(), site.url)
    first.open("")
    first.start()
    first.walk(LOCAL)
    first.open("save")
    code = first.page.locator("strong#resume-code").inner_text().strip()
    second = Family(new_context().new_page(), site.url)
    second.open("/resume")
    second.page.locator("#f-code").fill(code)
    for part, value in zip(("day", "month", "year"), LOCAL["child_dob"].split("/")):
        second.page.locator(f"#f-dob-{part}").fill(value)
    second.press("Resume")
    for phone in (first, second):
        phone.open("review")
        wait_kept(phone.page)
        wait_copy(phone.page, site)
    return first, second


def test_two_phones_change_one_answer_offline_and_the_family_chooses(site, new_context):
    """The family's phone and a second one (resumed with the code) both change the district
    with no signal. The first to sync wins the server; the second is shown both answers and
    keeps its own: nothing typed on either phone is lost without the family choosing."""
    first, second = two_phones(site, new_context)

    for phone, district in ((first, "minhang"), (second, "pudong")):
        cut(phone.page.context)
        phone.page.goto(phone.url("district?return=review"))
        ready(phone.page)
        phone.answer(district=district)
        phone.continue_()
        assert phone.path.endswith("/review")
    restore(first.page.context)
    first.page.reload()
    wait_sent(first.page)
    assert site.answers()["district"] == "minhang"

    restore(second.page.context)
    second.page.reload()
    wait_sent(second.page)
    assert site.answers()["district"] == "minhang"  # not overwritten
    status = second.page.locator("#offline-status")
    status.get_by_text("changed on two phones").wait_for()
    second.follow("Check them")
    assert second.step_id == "district"
    ready(second.page)
    panel = second.page.locator('[data-conflict="district"]')
    text = panel.inner_text()
    assert "On the other phone: Minhang" in text and "On this phone: Pudong" in text
    with second.page.expect_navigation():
        panel.get_by_role("button", name="Keep this phone's answer").click()
    wait_sent(second.page)
    assert site.answers()["district"] == "pudong"
    results = [json.loads(r) for r, in site.query(
        f"SELECT {RESULT} FROM sync_changes ORDER BY received_at, rowid")]
    assert [r["status"] for r in results] == ["applied", "conflict", "applied"]
    second.page.reload()
    ready(second.page)
    assert not second.page.locator("[data-conflict]").count()


def test_a_new_build_and_a_new_flow_version_leave_a_kept_flow_working(site, family):
    online_until(family, site, "district")
    page = family.page
    old_bundle = f"wizard-flow-{FLOW_ID}-v{VERSION}-en-build-one"
    assert old_bundle in page.evaluate("() => caches.keys()")

    # A new build is deployed; the phone sees it on a page that keeps nothing (the home
    # page), so the new worker takes over with the old bundle still the one kept.
    site.app.config["BUILD"] = "build-two"
    family.open("/")
    page.evaluate("() => navigator.serviceWorker.getRegistration().then(r => r.update())")
    wait_for(page, "() => caches.keys().then(k => k.includes('wizard-shell-build-two'))")
    wait_for(page, "() => caches.keys().then(k => !k.includes('wizard-shell-build-one'))")
    assert old_bundle in page.evaluate("() => caches.keys()")

    # A new version of the flow is published while the phone has no signal.
    cut(page.context)
    source = (ROOT / "flows" / f"{FLOW_ID}.yaml").read_text(encoding="utf-8")
    newer = loader.load_text(source.replace(f"\nversion: {VERSION}\n",
                                            f"\nversion: {VERSION + 1}\n", 1)).flow
    store = Store(site.db)
    try:
        store.publish_flow(newer)
    finally:
        store.close()
    page.goto(family.url("district"))
    ready(page)
    assert page.locator("main").get_attribute("data-version") == str(VERSION)
    family.walk(LOCAL)
    family.press("Confirm answers")
    assert family.path.endswith("/done")

    restore(page.context)
    page.reload()  # the live answer sheet: its session is still on the version it began on
    wait_sent(page)
    assert site.query("SELECT flow_version, status FROM sessions") == [(VERSION, "completed")]
    assert site.answers()["child_name"] == "王小明"
    statuses = {json.loads(r)["status"] for r, in site.query(f"SELECT {RESULT} FROM sync_changes")}
    assert statuses == {"applied", "completed"}
    # Online, this page's build is kept afresh and the old build's bundle goes.
    new_bundle = f"wizard-flow-{FLOW_ID}-v{VERSION}-en-build-two"
    wait_for(page, f"""() => caches.keys().then(k =>
        k.includes('{new_bundle}') && !k.includes('{old_bundle}'))""")


QUOTA_FULL = """
(() => {
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (value, key) {
    if (this.name === "sessions" || this.name === "queue") {
      throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
    }
    return put.apply(this, arguments);
  };
})();
"""


def test_when_the_phone_cannot_keep_answers_it_says_so_and_the_page_still_works_online(
        site, new_context):
    def open_step(context):
        family = Family(context.new_page(), site.url)
        family.open("")
        family.start()
        family.page.wait_for_url(family.url_re("start"))
        return family

    unsupported = "cannot keep your answers without signal"
    # A browser without service workers (or one that blocks them).
    family = open_step(new_context(service_workers="block"))
    status = family.page.locator("#offline-status")
    status.get_by_text(unsupported).wait_for()
    family.continue_()  # online it all still works
    assert family.step_id == "child-birth"

    # No IndexedDB at all (some private modes).
    context = new_context()
    context.add_init_script("delete window.indexedDB;")
    family = open_step(context)
    family.page.locator("#offline-status").get_by_text(unsupported).wait_for()

    # A full phone: the answers cannot be written.
    context = new_context()
    context.add_init_script(QUOTA_FULL)
    family = open_step(context)
    family.continue_()
    family.answer(child_dob="15/3/2024")
    family.page.locator("#offline-status").get_by_text("storage is full").wait_for()
    family.continue_()
    assert family.step_id == "hukou"  # the server took it


def test_a_database_the_browser_closed_is_opened_again_and_persistence_is_asked(site,
                                                                                 new_context):
    context = new_context()
    context.add_init_script("""navigator.storage.persist = () => {
        window.persistAsked = (window.persistAsked || 0) + 1; return Promise.resolve(true); };""")
    family = Family(context.new_page(), site.url)
    family.open("")
    family.start()
    family.walk(LOCAL, stop_at="hukou")
    wait_kept(family.page)
    wait_copy(family.page)
    cut(context)
    family.page.reload()
    ready(family.page)
    family.page.evaluate("() => WizardStore.close()")
    family.answer(hukou="other_province")
    wait_for(family.page, """f => WizardStore.getSession(f).then(c =>
        c && c.drafts.hukou && c.drafts.hukou.raw.hukou === "other_province")""",
             FLOW_ID)
    assert family.page.evaluate("() => window.persistAsked") >= 1


def test_kept_pages_are_installable_accessible_and_switch_only_to_kept_languages(
        site, family, axe):
    family.base = site.url
    family.open("")
    family.start()
    wait_kept(family.page)
    cdp = family.page.context.new_cdp_session(family.page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # A test browser context is an incognito one, which Chromium never installs from; every
    # other criterion (manifest, icons, service worker, HTTPS or localhost) must be met.
    assert [e for e in errors if e["errorId"] != "in-incognito"] == [], errors
    family.walk(LOCAL, stop_at="district")
    cut(family.page.context)
    family.page.reload()
    ready(family.page)
    assert family.page.locator("html").get_attribute("lang") == "en"
    assert axe(family.page) == []
    # Chinese was never opened on this phone: the page stays in English and says why.
    family.page.locator("nav.languages").get_by_role("link", name="简体中文").click()
    ready(family.page)
    assert family.page.locator("html").get_attribute("lang") == "en"
    family.page.locator("#offline-status").get_by_text("not saved on this phone").wait_for()
    # No district chosen: shown in place (no page load), and it passes axe too.
    family.page.get_by_role("button", name="Continue", exact=True).click()
    family.page.locator(".error-summary").wait_for()
    assert family.page.locator(".error-summary").count() == 1
    assert family.page.evaluate("() => document.activeElement.className") == "error-summary"
    assert axe(family.page) == []
    family.answer(district="xuhui")
    family.continue_()
    ready(family.page)
    family.page.goto(family.url("review"))
    ready(family.page)
    assert axe(family.page) == []
    # A page the phone does not keep: the no-signal page, listing what it does keep.
    family.page.goto(family.url("/"))
    saved = family.page.locator("#saved-flows a")
    saved.first.wait_for()
    assert saved.first.get_attribute("href") == f"/f/{FLOW_ID}/"
    assert "Kindergarten" in saved.first.inner_text()
    assert axe(family.page) == []


def test_a_step_the_server_refuses_is_shown_on_its_page_with_the_servers_message(site,
                                                                                 family):
    """The phone's rules and the server's should agree (the shared vectors see to it), but a
    change the server refuses must still reach the family: on its own step, with the
    server's message, the phone's answer kept."""
    online_until(family, site, "guardian")
    cut(family.page.context)
    family.page.evaluate("""f => WizardStore.enqueue(f, {id: "refused-by-the-server-0001",
        step: "guardian", values: {guardian1_relation: "mother", guardian1_mobile: "12345"},
        base_revision: null, claimed_at: new Date().toISOString()})""", FLOW_ID)
    restore(family.page.context)
    family.open("review")
    wait_sent(family.page)
    status = family.page.locator("#offline-status")
    status.get_by_text("need checking").wait_for()
    family.follow("Check them")
    assert family.step_id == "guardian"
    family.page.locator(".error-summary").wait_for()
    assert "Enter an 11-digit mainland mobile number" in \
        family.page.locator('[data-field="guardian1_mobile"] .error-message').inner_text()
    assert family.page.locator('[name="guardian1_mobile"]').input_value() == "12345"
    family.answer(guardian1_mobile="13800138000")
    family.continue_()
    assert site.answers()["guardian1_mobile"] == "13800138000"

    # A copy confirmed longer ago than OFFLINE_KEEP_DONE_DAYS leaves the phone by itself
    # (with no signal here, so that no sync brings the server's copy straight back).
    wait_copy(family.page)
    cut(family.page.context)
    family.page.reload()  # a kept page: no sync can write the copy while the test does
    ready(family.page)
    family.page.evaluate("""f => WizardStore.getSession(f).then(c => {
        c.status = "completed"; c.doneAt = Date.now() - 15 * 86400000;
        return WizardStore.putSession(f, c.version, c); })""", FLOW_ID)
    family.page.reload()
    kit(family.page)
    wait_for(family.page, "f => WizardStore.getSession(f).then(c => c === null)", FLOW_ID)


def test_forget_this_phone_clears_what_the_site_keeps_on_it(site, family):
    online_until(family, site, "hukou")
    family.open("save")
    kit(family.page)
    assert family.page.evaluate("() => caches.keys().then(k => k.length)") >= 2
    family.press("Forget this phone")
    assert family.path.endswith("/forgotten")
    # The worker may be back already (this page registers it) with its shell, which holds
    # nothing of the family's; no kept walkthrough and no answers remain.
    assert family.page.evaluate(
        "() => caches.keys().then(k => k.filter(n => n.startsWith('wizard-flow')))") == []
    assert family.page.evaluate("""() => indexedDB.databases().then(found => {
        if (!found.some(d => d.name === "wizard")) return 0;
        return new Promise(done => {
          const opening = indexedDB.open("wizard");
          opening.onsuccess = () => {
            const db = opening.result, t = db.transaction(["sessions", "queue", "keys"]);
            let n = 0;
            for (const name of ["sessions", "queue", "keys"]) {
              t.objectStore(name).count().onsuccess = e => { n += e.target.result; };
            }
            t.oncomplete = () => { db.close(); done(n); };
          };
        });
    })""") == 0
    family.open("review")
    assert "could not find your answers" in family.page.locator("main").inner_text()


def test_a_phone_changing_its_own_answer_twice_offline_is_no_conflict(site, family):
    """Offline, every change is based on the last revision the phone saw: the second edit of
    an answer must not come back as a conflict with the first (there is no other phone)."""
    online_until(family, site, "housing")
    cut(family.page.context)
    for district in ("minhang", "pudong"):
        family.page.goto(family.url("district"))
        ready(family.page)
        family.answer(district=district)
        family.continue_()
    restore(family.page.context)
    family.page.reload()
    wait_sent(family.page)
    assert site.answers()["district"] == "pudong"
    statuses = [json.loads(r)["status"] for r, in site.query(
        f"SELECT {RESULT} FROM sync_changes ORDER BY rowid")]
    assert statuses == ["applied", "applied"]
    assert not family.page.locator("#offline-status").get_by_text("two phones").count()


def test_a_conflict_keeps_the_other_answers_of_its_step(site, new_context):
    """The volunteer's phone changes the relation; the family's phone, offline, changes the
    relation and the mobile number. The relation is a conflict; the new mobile number must
    not be lost while the family decides."""
    first, second = two_phones(site, new_context)
    cut(second.page.context)
    second.page.goto(second.url("guardian?return=review"))
    ready(second.page)
    second.answer(guardian1_relation="father", guardian1_mobile="13912345678")
    second.continue_()
    # Meanwhile, with signal, the other phone changes the relation.
    first.open("guardian?return=review")
    first.answer(guardian1_relation="other_guardian")
    first.continue_()
    restore(second.page.context)
    second.page.reload()
    wait_sent(second.page)
    assert site.answers()["guardian1_relation"] == "other_guardian"
    second.page.goto(second.url("guardian"))
    ready(second.page)
    # The phone still shows its own new number while the relation waits for a choice.
    assert second.page.locator('[name="guardian1_mobile"]').input_value() == "13912345678"
    panel = second.page.locator('[data-conflict="guardian1_relation"]')
    with second.page.expect_navigation():
        panel.get_by_role("button", name="Keep the other phone's answer").click()
    wait_sent(second.page)
    answers = site.answers()
    assert answers["guardian1_relation"] == "other_guardian"
    assert answers["guardian1_mobile"] == "13912345678"
