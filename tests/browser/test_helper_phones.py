"""A helper and a family, each on their own phone (two browser contexts): the family lets the
helper in with a code, the helper changes an answer, the family sees who entered it and ends
access; and a walkthrough a helper starts on their own phone, handed over to the family by its
QR code, which the family finishes."""

from __future__ import annotations

import re

import pytest
import segno
from browser_kit import (
    ANSWER,
    FLOW_ID,
    LOCAL,
    PASSWORD,
    Family,
    Site,
    describe_violations,
    open_flow,
    save_shot,
)


@pytest.fixture
def site(tmp_path):
    s = Site(tmp_path / "assist.sqlite3", ("wang", "Wang Fang", "Hope Centre", "volunteer"))
    yield s
    s.server.stop()


def sign_in(page, base: str) -> None:
    page.goto(f"{base}/account/sign-in?lang=en")
    page.locator('[name="login"]').fill("wang")
    page.locator('[name="password"]').fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").first.click()
    assert page.url.endswith("/assist/"), page.url


def press(page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).first.click()


def no_violations(axe, page, where: str) -> None:
    violations = axe(page)
    assert not violations, f"{where}: {describe_violations(violations)}"


@pytest.mark.browser
def test_the_family_lets_a_helper_in_sees_their_answer_and_ends_it(site, new_context, axe):
    family = Family(new_context().new_page(), site.url)
    helper_page = new_context().new_page()

    # The family, a few steps in, asks for a code.
    open_flow(family)
    family.walk(LOCAL, stop_at="district")
    family.open("helper")
    family.page.locator('[name="label"]').fill("Building 3, Mrs Li")
    family.press("Show a code for the helper")
    code = family.page.locator("#grant-code").inner_text().replace(" ", "")
    assert re.fullmatch(r"\d{6}", code)
    no_violations(axe, family.page, "the code page")
    save_shot(family.page, "assist-family-code")

    # The helper scans it: the QR code opens the accept page with the code filled in.
    sign_in(helper_page, site.url)
    helper_page.goto(f"{site.url}/assist/accept?code={code}")
    assert helper_page.locator('[name="code"]').input_value() == code
    press(helper_page, "Open their answers")
    assert re.search(r"/assist/s/\d+/$", helper_page.url)
    grant_url = helper_page.url
    helper_page.goto(f"{site.url}/assist/")
    assert "Building 3, Mrs Li" in helper_page.locator("#families").inner_text()
    no_violations(axe, helper_page, "the console")
    save_shot(helper_page, "assist-console")

    # The helper opens where the family is and answers the district for them.
    helper_page.goto(grant_url)
    with helper_page.expect_navigation():
        helper_page.get_by_role("link", name="Open where they are").click()
    assert "/step/district" in helper_page.url
    no_violations(axe, helper_page, "a step on the helper's phone")
    helper_page.locator('input[name="district"][value="minhang"]').check()
    press(helper_page, "Continue")
    assert "/step/housing" in helper_page.url

    # The family sees the helper's answer marked with who entered it.
    family.open("review")
    row = family.page.locator('.summary-row[data-field="district"]')
    assert "Entered by helper Wang Fang (Hope Centre)" in row.inner_text()
    banner = family.page.locator("#helpers-banner")
    assert "Wang Fang (Hope Centre) can see and change your answers" in banner.inner_text()
    no_violations(axe, family.page, "the family's review with a helper")
    save_shot(family.page, "assist-family-review")

    # The family ends access; the helper's very next request is refused.
    press(family.page, "End access now")
    assert family.page.locator("#helpers-banner").count() == 0
    response = helper_page.goto(f"{site.url}/assist/s/1/step/housing")
    assert response.status == 404
    family.open("helper")
    history = family.page.locator("#access-history").inner_text()
    assert "Wang Fang (Hope Centre) changed your answers" in history


@pytest.mark.browser
def test_a_session_started_on_the_helpers_phone_is_handed_over_by_qr_code(site, new_context,
                                                                           axe):
    helper_page = new_context().new_page()
    sign_in(helper_page, site.url)
    helper_page.goto(f"{site.url}/assist/new/{FLOW_ID}")
    helper_page.locator('[name="label"]').fill("Mrs Li")
    helper_page.locator("#f-family_lang-en").check()
    helper_page.locator("#f-consent").check()
    no_violations(axe, helper_page, "starting for a family")
    press(helper_page, "Start")
    assert "/step/" in helper_page.url
    # The helper answers the first steps with the guardian beside them.
    helper = Family(helper_page, site.url)
    for _ in range(3):
        step = helper_page.url.rsplit("/", 1)[1]
        fields = helper.answers_for(step, LOCAL)
        helper.answer(**fields)
        press(helper_page, "Continue")
        if helper_page.url.rsplit("/", 1)[1] == "hukou":
            break
    helper_page.goto(re.sub(r"step/.*$", "", helper_page.url))
    with helper_page.expect_navigation():
        helper_page.get_by_role("link", name="Hand over to the family").click()
    press(helper_page, "Show the code and end my access")
    link = helper_page.locator(".resume-link a").inner_text()
    # The QR code is the resume link: its modules are those segno draws for that link.
    drawn = helper_page.locator("#handover-qr svg path").first.get_attribute("d")
    expected = segno.make(link, error="m").svg_inline(scale=4, dark="#0b0c0c", omitsize=False)
    assert drawn and f'd="{drawn}"' in expected
    save_shot(helper_page, "assist-handed-over")
    assert helper_page.goto(f"{site.url}/assist/s/1/").status == 404

    # The family scans it on their own phone, gives the birth date and finishes.
    family = Family(new_context().new_page(), site.url)
    family.page.goto(link.replace(site.server.app.config["PUBLIC_ORIGIN"], site.url)
                     + "&lang=en")
    family.fill("dob", LOCAL["child_dob"])
    family.press("Resume")
    # Their own new code first (the helper saw the one they scanned), then on.
    assert "new code" in family.page.locator("#new-code").inner_text()
    new_code = family.page.locator("#resume-code").inner_text()
    assert new_code not in link
    family.press("Carry on now")
    family.walk(LOCAL)
    row = family.page.locator('.summary-row[data-field="hukou"]')
    assert "Entered by helper" not in row.inner_text()
    dob = family.page.locator('.summary-row[data-field="child_dob"]')
    assert "Entered by helper Wang Fang (Hope Centre)" in dob.inner_text()
    family.press("Confirm answers")
    assert family.path.endswith("/done")
    assert "Entered by helper Wang Fang" in family.page.locator(
        '.summary-row[data-field="child_dob"]').inner_text()
    assert site.query("SELECT status FROM sessions") == [("completed",)]


@pytest.mark.browser
def test_the_console_works_at_360px_without_javascript(site, new_context):
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, site.url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    for button in page.locator("main button, main a.button").all():
        box = button.bounding_box()
        assert box is None or box["height"] >= 44
    page.goto(f"{site.url}/assist/accept?code=000000")
    press(page, "Open their answers")
    assert "does not open anything" in page.locator(".error-summary").inner_text()


def let_in(site, new_context) -> tuple[Family, object]:
    """A family who answered everything lets a helper in (the helper enters the code):
    (the family, the helper's page on the family's overview)."""
    family = Family(new_context().new_page(), site.url)
    open_flow(family)
    family.walk(LOCAL)
    family.open("helper")
    family.press("Show a code for the helper")
    code = family.page.locator("#grant-code").inner_text().replace(" ", "")
    helper_page = new_context().new_page()
    sign_in(helper_page, site.url)
    helper_page.goto(f"{site.url}/assist/accept?code={code}")
    press(helper_page, "Open their answers")
    return family, helper_page


@pytest.mark.browser
def test_a_helpers_change_meets_the_familys_offline_change_and_the_family_chooses(
        site, new_context):
    """The case the offline machinery was built for: the family changes the district with no
    signal while their helper, online, changes it too. When the family's phone syncs, the
    helper's answer stays on the server and the family is shown both, and chooses."""
    from test_offline import cut, ready, restore, wait_copy, wait_kept, wait_sent

    family, helper_page = let_in(site, new_context)
    family.open("review")
    wait_kept(family.page)
    wait_copy(family.page)

    cut(family.page.context)
    family.page.goto(family.url("district?return=review"))
    ready(family.page)
    family.answer(district="pudong")
    family.continue_()
    assert family.path.endswith("/review")

    helper_page.goto(f"{site.url}/assist/s/1/step/district")
    helper_page.locator('input[name="district"][value="minhang"]').check()
    press(helper_page, "Continue")
    assert site.query(f"SELECT {ANSWER}, entered_by FROM answers WHERE field_id = 'district'") \
        == [('"minhang"', "volunteer:1")]

    restore(family.page.context)
    family.page.reload()
    wait_sent(family.page)
    assert site.query(f"SELECT {ANSWER} FROM answers WHERE field_id = 'district'") \
        == [('"minhang"',)]
    family.page.locator("#offline-status").get_by_text("changed on two phones").wait_for()
    family.follow("Check them")
    ready(family.page)
    panel = family.page.locator('[data-conflict="district"]')
    assert "Minhang" in panel.inner_text() and "Pudong" in panel.inner_text()
    with family.page.expect_navigation():
        panel.get_by_role("button", name="Keep this phone's answer").click()
    wait_sent(family.page)
    assert site.query(f"SELECT {ANSWER}, entered_by FROM answers WHERE field_id = 'district'") \
        == [('"pudong"', "family")]


@pytest.mark.browser
def test_a_helpers_phone_keeps_the_walkthrough_and_goes_on_with_no_signal(site, new_context):
    """The helper keeps the family's walkthrough on their phone, loses signal, changes the
    district; the family meanwhile changes it on their own phone. When the helper's phone
    syncs, the family's answer stays and the helper is shown both: the same conflict the
    family's phones get, with the helper's answers marked as theirs."""
    from test_offline import cut, ready, restore, wait_copy, wait_kept, wait_sent

    family, helper_page = let_in(site, new_context)
    press(helper_page, "Keep on this phone")
    helper = Family(helper_page, site.url)
    assert helper.path.startswith(f"/f/{FLOW_ID}/")
    assert "Kept on this phone" in helper_page.locator("#helping").inner_text()
    helper.open("review")
    wait_kept(helper_page)
    wait_copy(helper_page)

    cut(helper_page.context)
    # With no signal the console cannot load: the phone's own page lists what it keeps.
    helper_page.goto(f"{site.url}/assist/")
    kept = helper_page.locator("#saved-flows a")
    kept.first.wait_for()
    assert "Kindergarten" in kept.first.inner_text()
    helper_page.goto(helper.url("district?return=review"))
    ready(helper_page)
    helper.answer(district="pudong")
    helper.continue_()
    assert helper.path.endswith("/review")

    family.open("district?return=review")
    family.answer(district="minhang")
    family.continue_()

    restore(helper_page.context)
    helper_page.reload()
    wait_sent(helper_page)
    assert site.query(f"SELECT {ANSWER}, entered_by FROM answers WHERE field_id = 'district'") \
        == [('"minhang"', "family")]
    helper_page.locator("#offline-status").get_by_text("changed on two phones").wait_for()
    helper.follow("Check them")
    ready(helper_page)
    panel = helper_page.locator('[data-conflict="district"]')
    with helper_page.expect_navigation():
        panel.get_by_role("button", name="Keep this phone's answer").click()
    wait_sent(helper_page)
    assert site.query(f"SELECT {ANSWER}, entered_by FROM answers WHERE field_id = 'district'") \
        == [('"pudong"', "volunteer:1")]
    actions = [a for a, in site.query("SELECT action FROM audit_log WHERE actor = 'user:1'")]
    assert "kept-on-phone" in actions and "change" in actions

    # The family ends access: the helper's phone lets go of its copy of their answers and
    # of the pages it kept for them, at its next page with signal.
    family.open("review")
    press(family.page, "End access now")
    helper_page.goto(helper.url("review"))
    from test_offline import wait_for
    wait_for(helper_page, """f => WizardStore.getSession(f).then(c => !c)""", FLOW_ID)
    wait_for(helper_page, """() => caches.keys().then(k => !k.some(
        n => n.indexOf("wizard-flow-") === 0))""")


@pytest.mark.browser
def test_the_account_and_admin_pages_are_accessible_at_360px(site, new_context, axe):
    site.add_user("zhao", "Zhao Min", "District Office", "admin")
    page = new_context().new_page()
    page.goto(f"{site.url}/account/sign-in?lang=en")
    no_violations(axe, page, "sign-in")
    page.locator('[name="login"]').fill("zhao")
    page.locator('[name="password"]').fill(PASSWORD)
    press(page, "Sign in")
    for path in ("/admin/users", "/admin/audit", "/admin/audit?action=sign-in",
                 "/account/password", "/assist/"):
        page.goto(site.url + path)
        no_violations(axe, page, path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    save_shot(page, "assist-admin-console")
    page.goto(site.url + "/admin/users")
    save_shot(page, "admin-users")
