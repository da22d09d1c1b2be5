"""Languages in a real browser: switching mid-flow, Uyghur mirrored, larger text, read-aloud."""

from __future__ import annotations

from browser_kit import Family, open_flow, save_shot
from playwright.sync_api import expect


def test_switching_language_mid_flow_keeps_every_answer(family: Family):
    open_flow(family)
    family.walk({}, stop_at="child-birth")
    family.answer_and_continue(child_dob="10/1/2024")
    family.answer(hukou="other_province")
    family.continue_()
    page = family.page
    # The family switches to Simplified Chinese from the menu on the page (on a step page a
    # button of its form, so that what is typed comes along).
    with page.expect_navigation():
        page.locator("nav.languages [lang=zh-Hans]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    family.lang = "zh_Hans"
    family.open("hukou")
    expect(page.locator('input[name=hukou][value=other_province]')).to_be_checked()
    expect(page.locator("h1")).to_contain_text("户口")
    # ... and to Uyghur: right to left, answers still there.
    with page.expect_navigation():
        page.locator("nav.languages [lang=ug]").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator('input[name=hukou][value=other_province]')).to_be_checked()
    save_shot(page, "ug-step-radios")
    # Mirrored: the radio circle sits at the right, the text to its left.
    radio = page.locator("#f-hukou").bounding_box()
    label = page.locator("label[for=f-hukou]").bounding_box()
    assert radio["x"] > label["x"], "in Uyghur the radio should stand to the right of its text"
    back = page.locator(".back-link").bounding_box()
    assert back["x"] + back["width"] > 300, "the Back link should start at the right"
    # Date boxes run right to left, in the order Uyghur dates are written: year first.
    family.lang = "ug"
    family.open("child-birth")
    save_shot(page, "ug-step-date")
    day = page.locator("#f-child_dob-day").bounding_box()
    year = page.locator("#f-child_dob-year").bounding_box()
    assert year["x"] > day["x"]  # year first in Uyghur, as in Chinese: at the right
    expect(page.locator("#f-child_dob-year")).to_have_value("2024")
    # The review lists the answers in Uyghur, with the official Chinese terms.
    family.open("review")
    expect(page.locator("main")).to_contain_text("非本市户籍")
    save_shot(page, "ug-review")


def test_larger_text_persists_and_works_without_javascript(page_nojs, live_server):
    family = Family(page_nojs, live_server)
    family.open("/")
    size = page_nojs.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    family.follow("Larger text")
    expect(page_nojs.locator("html")).to_have_class("large-text")
    family.open("/resume")
    bigger = page_nojs.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert bigger >= size * 1.2
    expect(page_nojs.locator("html")).to_have_class("large-text")
    family.follow("Normal text")
    expect(page_nojs.locator("html")).not_to_have_class("large-text")


def test_read_aloud_only_with_a_voice_for_the_page_language(new_context, live_server):
    # Headless chromium has no voices: the button must stay hidden.
    page = new_context().new_page()
    family = Family(page, live_server)
    open_flow(family)
    family.walk({}, stop_at="child-birth")
    expect(page.locator("#read-aloud")).to_be_hidden()

    # A browser with an English voice: the button appears and reads the question.
    context = new_context()
    context.add_init_script("""
        window.__spoken = [];
        const voice = {lang: 'en-US', name: 'Test voice'};
        Object.defineProperty(window, 'speechSynthesis', {value: {
            speaking: false, getVoices: () => [voice], cancel() {},
            speak(u) { window.__spoken.push([u.text, u.lang]); },
            addEventListener() {},
        }});
        window.SpeechSynthesisUtterance = function (text) { this.text = text; };
    """)
    page = context.new_page()
    family = Family(page, live_server)
    open_flow(family)
    family.walk({}, stop_at="child-birth")
    button = page.locator("#read-aloud")
    expect(button).to_be_visible()
    button.click()
    spoken = page.evaluate("() => window.__spoken")
    assert spoken and spoken[0][1] == "en-US"
    assert "When was your child born?" in spoken[0][0]
    assert "Day" not in spoken[0][0].split(". ")[0]

    # The same browser on a Uyghur page has no Uyghur voice: hidden again.
    family.lang = "ug"
    family.open("child-birth")
    expect(page.locator("#read-aloud")).to_be_hidden()
