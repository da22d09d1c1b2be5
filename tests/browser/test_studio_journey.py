"""A staff member writes a walkthrough in the studio on their phone and a family completes it.

The issue's "done when": a staff user creates a three-step flow with a condition, translates it
to English, previews it at 360 px, publishes it, and a family completes it. All through the
pages, with the form editor only (no YAML): the starter's question becomes a yes/no question
with an official term; a second step, built with the condition builder, shows only for "No";
a third step is something to read, in Markdown. Then every text in English, the preview in
English down both branches, version 1 published, and a family on their own phone through it
to their answer sheet.
"""

from __future__ import annotations

import re

import pytest
from browser_kit import (
    PASSWORD,
    PHONE,
    Family,
    Site,
    describe_violations,
    new_phone_context,
    save_shot,
)

FLOW = "kg-helper-test"
TITLE_ZH = "幼儿园入园登记小助手"
TITLE_EN = "Kindergarten registration helper"

# The English of every text of the draft, by its key path on the translations page.
ENGLISH = {
    "title": TITLE_EN,
    "steps[0].title": "Household registration",
    "steps[0].fields[0].label": "Does the child have a Shanghai hukou?",
    "steps[1].title": "Residence permit",
    "steps[1].fields[0].label": "Number of the residence permit",
    "steps[2].title": "Papers to bring",
    "steps[2].body": "Bring the **household register** and:\n\n- the birth certificate\n"
                     "- the vaccination record",
}


@pytest.fixture
def site(tmp_path):
    s = Site(tmp_path / "studio.sqlite3", ("chen", "Chen Li", "Street office", "staff"))
    yield s
    s.server.stop()


# ------------------------------------------------------------------ doing things on a page


def press(page, name: str) -> None:
    """Presses the button of that name and waits for the page it leads to."""
    button = page.get_by_role("button", name=name, exact=True)
    assert button.count() == 1, f"{button.count()} buttons {name!r} on {page.url}"
    with page.expect_navigation():
        button.click()


def follow(page, name: str, exact: bool = True) -> None:
    link = page.get_by_role("link", name=name, exact=exact)
    assert link.count() == 1, f"{link.count()} links {name!r} on {page.url}"
    with page.expect_navigation():
        link.click()


def saved(page) -> None:
    """The editor saved (it said so) and the page shows no error summary."""
    assert page.locator(".error-summary").count() == 0, \
        page.locator(".error-summary").inner_text()
    page.get_by_role("status").filter(has_text="Saved.").or_(
        page.get_by_role("status").filter(has_text="Added")).first.wait_for()


def problems(page) -> str:
    return page.locator("#problems").inner_text()


def no_violations(axe, page, where: str) -> None:
    violations = axe(page)
    assert not violations, f"{where}: {describe_violations(violations)}"


def fits(page, where: str) -> None:
    """Nothing wider than the phone (the page does not scroll sideways), and every button
    of the page's main part a 44 px target."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["viewport"]["width"], f"{where}: {width}px wide, scrolls sideways"
    small = [(b.inner_text(), b.bounding_box()["height"])
             for b in page.locator("main button, main a.button").all()
             if b.bounding_box() and b.bounding_box()["height"] < 44]
    assert not small, f"{where}: buttons under 44 px: {small}"


# ------------------------------------------------------------------ the journey


@pytest.mark.browser
def test_staff_write_translate_preview_and_publish_a_flow_a_family_completes(
        site, browser, axe):
    staff_context = new_phone_context(browser)  # 360x640: staff use phones too
    family_context = new_phone_context(browser, locale="en-US")
    try:
        page = staff_context.new_page()
        write_the_flow(page, site.url)
        translate_it(page, site.url)
        preview_it(page, site.url, axe)
        publish_it(page, site.url)
        complete_it(family_context.new_page(), site)
    finally:
        staff_context.close()
        family_context.close()


def write_the_flow(page, base: str) -> None:
    draft = f"{base}/studio/{FLOW}/draft/"

    # 1. Sign in and start a new flow, written in Simplified Chinese.
    page.goto(f"{base}/account/sign-in?lang=en&next=/studio/")
    page.get_by_label("Login").fill("chen")
    page.get_by_label("Password").fill(PASSWORD)
    press(page, "Sign in")
    assert page.url == f"{base}/studio/", page.url
    page.get_by_label("Id of the new flow").fill(FLOW)
    page.get_by_label("Title families see").fill(TITLE_ZH)
    page.locator("#f-language-zh_Hans").check()
    press(page, "Start the draft")
    assert page.url.startswith(draft), page.url
    assert "No problems" in problems(page)
    assert page.locator("#steps > li").count() == 1

    # 2a. Step 1, the starter's: its question becomes a yes/no one with an official term.
    follow(page, "Edit step first-step")
    fits(page, "the step editor")
    page.get_by_label("Step id").fill("hukou")
    page.get_by_label("Title", exact=True).fill("户籍")
    press(page, "Save the step")
    saved(page)
    assert page.url.startswith(f"{draft}steps/hukou"), page.url
    follow(page, "Edit question first_question")
    fits(page, "the question editor")
    page.get_by_label("Question id").fill("has_hukou")
    page.get_by_label("The question", exact=True).fill("孩子有上海户籍吗？")
    page.locator("#f-type-yes_no").check()
    page.get_by_label("The official term (Chinese), as on the government form").fill("上海户籍")
    page.locator("#f-required-yes").check()
    press(page, "Save the question")
    saved(page)
    assert page.url.startswith(f"{draft}steps/hukou/fields/has_hukou"), page.url
    assert page.locator("#f-type-yes_no").is_checked()
    assert page.get_by_label("The official term (Chinese), as on the government form") \
        .input_value() == "上海户籍"

    # 2b. Step 2, questions shown only when the answer to step 1 is No: the builder.
    page.goto(draft)
    page.get_by_label("Id of the new step").fill("permit")
    page.locator("#f-new_step_kind-question").check()
    page.get_by_label("Title of the new step").fill("居住证")
    press(page, "Add the step")
    saved(page)
    assert page.url.startswith(f"{draft}steps/permit"), page.url
    page.locator("#f-cond_mode-simple").check()
    page.get_by_label("Answer", exact=True).select_option("has_hukou")
    page.get_by_label("Comparison").select_option("no")
    press(page, "Save the step")
    saved(page)
    page.get_by_label("Id of the new question").fill("permit_number")
    page.locator("#f-new_field_type-text").check()
    page.get_by_label("The question", exact=True).fill("居住证号码")
    press(page, "Add the question")
    saved(page)
    assert page.url.startswith(f"{draft}steps/permit/fields/permit_number"), page.url
    follow(page, "Back to step permit", exact=False)  # "‹ " is the link's ::before
    assert page.locator("#f-cond_mode-simple").is_checked()
    assert page.get_by_label("Answer", exact=True).input_value() == "has_hukou"
    assert page.get_by_label("Comparison").input_value() == "no"
    save_shot(page, "studio-journey-step-editor")
    fits(page, "the step editor")

    # 2c. Step 3, something to read, in Markdown.
    page.goto(draft)
    page.get_by_label("Id of the new step").fill("papers")
    page.locator("#f-new_step_kind-instruction").check()
    page.get_by_label("Title of the new step").fill("准备材料")
    press(page, "Add the step")
    page.get_by_label("Text of the page (Markdown)").fill(
        "请带上**户口本**和：\n\n- 出生证明\n- 预防接种证")
    press(page, "Save the step")
    saved(page)

    # The outline: three steps, the condition in words the loader reads, no problems.
    page.goto(draft)
    assert "No problems" in problems(page)
    steps = page.locator("#steps > li")
    assert [steps.nth(i).get_attribute("id") for i in range(steps.count())] == \
        ["step-hukou", "step-permit", "step-papers"]
    hukou = page.locator("#step-hukou").inner_text()
    assert "has_hukou" in hukou and "孩子有上海户籍吗？" in hukou
    assert re.search(r"Shown only if\s+has_hukou == false",
                     page.locator("#step-permit").inner_text())
    assert "permit_number" in page.locator("#step-permit").inner_text()
    save_shot(page, "studio-journey-outline")
    fits(page, "the outline")


def translate_it(page, base: str) -> None:
    page.goto(f"{base}/studio/{FLOW}/draft/translations?to=en")
    assert re.search(r"\b7 missing, 0 out of date", page.locator("#counts").inner_text())
    rows = page.locator("#texts li[data-path]")
    paths = [rows.nth(i).get_attribute("data-path") for i in range(rows.count())]
    assert sorted(paths) == sorted(ENGLISH), paths
    for path, text in ENGLISH.items():
        page.locator(f'#texts li[data-path="{path}"] textarea').fill(text)
    press(page, "Save translations")
    assert "7 texts saved." in page.locator("#saved").inner_text()
    assert re.search(r"\b0 missing, 0 out of date", page.locator("#counts").inner_text())
    assert page.locator('#texts li[data-state="missing"]').count() == 0
    assert "No problems" in problems(page)
    save_shot(page, "studio-journey-translations")
    fits(page, "the translations page")


def preview_it(page, base: str, axe) -> None:
    preview = f"{base}/studio/{FLOW}/draft/preview/"
    page.goto(preview + "?in=en")
    phone = page.locator("#phone")
    assert "Does the child have a Shanghai hukou?" in phone.inner_text()
    assert "上海户籍" in phone.inner_text()  # the official term, in every language

    # No: the permit step follows.
    page.locator("#phone input[name=has_hukou][value=no]").check()
    press(page, "Continue")
    assert page.url.startswith(preview + "permit"), page.url
    assert "Number of the residence permit" in phone.inner_text()
    save_shot(page, "studio-journey-preview")
    fits(page, "the preview")
    no_violations(axe, page, "the preview")

    # Cleared, and Yes this time: the permit step is skipped.
    press(page, "Clear the sample answers")
    assert page.url.startswith(preview), page.url
    assert "None yet" in page.locator("main").inner_text()
    page.locator("#phone input[name=has_hukou][value=yes]").check()
    press(page, "Continue")
    assert page.url.startswith(preview + "papers"), page.url
    assert "household register" in phone.locator("strong").inner_text()
    assert "hidden by the sample answers" in page.locator(".preview-steps li").nth(1) \
        .inner_text()
    press(page, "Continue")
    assert "That was the last step" in page.get_by_role("status").first.inner_text()


def publish_it(page, base: str) -> None:
    page.goto(f"{base}/studio/{FLOW}/draft/publish")
    assert "This will be the first version." in page.locator("main").inner_text()
    press(page, "Publish version 1")
    assert page.url == f"{base}/studio/{FLOW}/", page.url
    assert "Published version 1." in page.get_by_role("status").first.inner_text()
    version = page.locator("#version-1")
    assert "published" in version.locator(".tag").inner_text()


def complete_it(page, site: Site) -> None:
    family = Family(page, site.url, flow_id=FLOW, lang="en")
    family.open("")
    assert TITLE_EN in page.locator("h1").inner_text()
    family.start()
    assert family.step_id == "hukou", page.url
    assert "Does the child have a Shanghai hukou?" in page.locator("main").inner_text()
    family.answer_and_continue(has_hukou=False)
    assert family.step_id == "permit", page.url
    family.answer_and_continue(permit_number="310000123456")
    assert family.step_id == "papers", page.url
    assert "household register" in page.locator("main strong").first.inner_text()
    family.continue_()
    assert family.path.endswith("/review"), page.url
    family.press("Confirm answers")
    assert family.path.endswith("/done"), page.url
    # The answer sheet: each answer under its English question and official term.
    hukou = page.locator('dl.sheet .summary-row[data-field="has_hukou"]')
    assert hukou.locator("dt").inner_text().split() == ["上海户籍", "Does", "the", "child",
                                                        "have", "a", "Shanghai", "hukou?"]
    assert hukou.locator("dd").inner_text().split()[0] == "No"
    permit = page.locator('dl.sheet .summary-row[data-field="permit_number"]')
    assert "Number of the residence permit" in permit.locator("dt").inner_text()
    assert permit.locator("dd").inner_text().strip() == "310000123456"
    assert site.query("SELECT flow_version, status FROM sessions WHERE flow_id = ?",
                      FLOW) == [(1, "completed")]
