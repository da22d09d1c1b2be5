"""Every page type, in each of the four languages (Uyghur right to left), on a 360 px phone.

- axe-core (WCAG 2.0 A/AA, 2.1 AA): no serious or critical violation;
- `<html lang>` and `dir` set, and lang matching the page language;
- every visible input has a label with text;
- interface words (buttons, Back, "Step n of m"...) in the page's language;
- every target a thumb presses (links, buttons, summaries, radios and checkboxes through their
  labels) is at least 44 px tall, except links inside running text;
- nothing scrolls sideways at 320 px;
- no Markdown shown as typed (`**valid**`) in any text.

One family per language walks the whole flow once, then every page type is opened once in
that family's browsers and all the checks run on it; a failure lists every problem, by check
and page type.
"""

from __future__ import annotations

import re

import pytest
from browser_kit import (
    DEFAULT_LANG,
    OTHER,
    Family,
    describe_violations,
    expected_steps,
    new_phone_context,
    open_flow,
    save_shot,
)
from playwright.sync_api import expect

LANGS = {"en": ("en-US", "en"), DEFAULT_LANG: ("zh-CN", "zh-Hans"),  # locale, <html lang>
         "zh_Hant": ("zh-TW", "zh-Hant"), "ug": ("ug-CN", "ug")}

PAGE_TYPES = [
    "home", "start", "step-instruction", "step-date", "step-radios", "step-yes-no",
    "step-text", "step-checklist", "error", "review", "done", "save", "save-pin", "resume",
    "resume-error", "delete-confirm", "deleted", "no-session",
]


class Tour:
    """Three browsers of one language: `walked` has answered everything (migrant branch, so
    every kind of step exists), `fresh` has only just started (no birth date yet), and
    `stranger` never started."""

    def __init__(self, browser, base_url: str, lang: str):
        self.lang = lang
        self.contexts = []

        def family() -> Family:
            context = new_phone_context(browser, locale=LANGS[lang][0])
            self.contexts.append(context)
            return Family(context.new_page(), base_url, lang=lang)

        self.walked, self.fresh, self.stranger = family(), family(), family()
        open_flow(self.walked)
        self.walked.walk(OTHER)
        self.walked.submit_form()  # confirm answers: the answer sheet exists
        open_flow(self.fresh)

    def show(self, kind: str):
        """Brings one page type up and returns the page showing it."""
        first_step = expected_steps({})[0]
        opens = {
            "home": (self.stranger, "/"), "start": (self.stranger, ""),
            "step-instruction": (self.walked, first_step),
            "step-date": (self.walked, "child-birth"),
            "step-radios": (self.walked, "hukou"), "step-yes-no": (self.walked, "parent-permit"),
            "step-text": (self.walked, "child-details"),
            "step-checklist": (self.walked, "documents"),
            "error": (self.walked, "child-birth"), "review": (self.walked, "review"),
            "done": (self.walked, "done"), "save": (self.walked, "save"),
            "save-pin": (self.fresh, "save"), "resume": (self.stranger, "/resume"),
            "resume-error": (self.stranger, "/resume"),
            "delete-confirm": (self.walked, "delete"), "deleted": (self.stranger, "deleted"),
            "no-session": (self.stranger, "child-birth"),
        }
        family, path = opens[kind]
        page = family.page
        page.set_viewport_size({"width": 360, "height": 640})
        family.open(path)
        if kind == "error":
            family.answer(child_dob="31/2/2024")
            family.submit_form()
            expect(page.locator(".error-summary")).to_be_visible()
        elif kind == "resume-error":
            page.locator("#f-code").fill("KD7M 4PQX")
            page.locator("#f-dob-day").fill("1")
            page.locator("#f-dob-month").fill("1")
            page.locator("#f-dob-year").fill("2024")
            family.submit_form()
            expect(page.locator(".error-summary")).to_be_visible()
        elif kind == "save-pin":
            expect(page.locator("#f-pin")).to_be_visible()
        elif kind == "no-session":
            expect(page.locator("main form")).to_have_count(0)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


# Everything measured in one pass inside the page: bounding boxes, labels, scroll width.
MEASURE = """
() => {
  const out = {unlabelled: [], small: []};
  const box = el => el.getBoundingClientRect();
  const shown = el => {
    const r = box(el), s = getComputedStyle(el);
    return r.width > 1 && r.height > 1 && r.right > 0 && r.bottom > 0 &&
           s.visibility !== 'hidden' && s.display !== 'none';
  };
  const rendered = el => el.getClientRects().length > 0;  // opacity 0 still counts
  const describe = el => el.outerHTML.replace(/\\s+/g, ' ').slice(0, 140);

  for (const el of document.querySelectorAll(
      'input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea')) {
    if (!rendered(el)) continue;
    const named = [...(el.labels || [])].some(l => l.textContent.trim()) ||
                  (el.getAttribute('aria-label') || '').trim() ||
                  el.getAttribute('aria-labelledby');
    if (!named) out.unlabelled.push(describe(el));
  }

  // A link inside a sentence: the block around it has text of its own.
  const inRunningText = a => {
    if (!getComputedStyle(a).display.startsWith('inline')) return false;
    let block = a.parentElement;
    while (block && getComputedStyle(block).display.startsWith('inline'))
      block = block.parentElement;
    if (!block) return false;
    return block.textContent.replace(/\\s+/g, '').length >
           a.textContent.replace(/\\s+/g, '').length;
  };
  const targets = [];
  for (const el of document.querySelectorAll('a[href], button, summary, input[type=submit]')) {
    if (el.tagName === 'A' && inRunningText(el)) continue;
    targets.push([el, el]);
  }
  for (const el of document.querySelectorAll('input[type=radio], input[type=checkbox]')) {
    const label = (el.labels || [])[0];
    targets.push([el, label || el]);
  }
  for (const [el, measured] of targets) {
    if (!shown(measured)) continue;
    const h = box(measured).height;
    if (h < 44) out.small.push(`${Math.round(h)}px: ${describe(el)}`);
  }
  out.lang = document.documentElement.getAttribute('lang');
  out.dir = document.documentElement.getAttribute('dir');
  return out;
}
"""


# The interface's own words (not the flow's texts, not the official terms in Chinese, not the
# names of the other languages in the language menu).
INTERFACE_TEXT = """
() => [...document.querySelectorAll(
    'button:not(.lang-button), .back-link, p.progress, .save-link a, .site-name, .skip-link,' +
    ' label.date-label,' +
    ' .error-summary h2, details.help summary')]
  .map(el => el.textContent.replace(/\\s+/g, ' ').trim()).filter(Boolean)
"""
CJK = "\u3400-\u9fff"
# The script each language's interface words are written in.
SCRIPT = {"en": "[A-Za-z]", "zh_Hans": f"[{CJK}]", "zh_Hant": f"[{CJK}]",
          "ug": "[\u0600-\u06ff]"}


def check_page(page, lang: str, axe) -> dict[str, list[str]]:
    """Everything this module checks, on the page as it is now: problems by check."""
    found = page.evaluate(MEASURE)
    layout = []
    if found["lang"] != LANGS[lang][1]:
        layout.append(f"<html lang> is {found['lang']!r}, expected {LANGS[lang][1]!r}")
    if found["dir"] not in ("ltr", "rtl"):
        layout.append(f"<html dir> is {found['dir']!r}")
    layout += [f"input without a label: {el}" for el in found["unlabelled"]]
    layout += [f"target under 44 px tall: {el}" for el in found["small"]]
    words = [text for text in page.evaluate(INTERFACE_TEXT)
             if not re.search(SCRIPT[lang], text) or (lang == "en" and re.search(f"[{CJK}]", text))]
    raw = page.evaluate(r"""() => [...document.querySelectorAll('main *')]
        .filter(el => [...el.childNodes].some(n => n.nodeType === 3 && /\*\*|__/.test(n.data)))
        .map(el => el.textContent.replace(/\s+/g, ' ').trim().slice(0, 120))""")
    layout += [f"Markdown shown as typed (asterisks on the page): {text!r}" for text in raw]
    violations = axe(page)
    page.set_viewport_size({"width": 320, "height": 640})
    width = page.evaluate("() => document.documentElement.scrollWidth")
    if width > 320:
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(el => el.getBoundingClientRect().right > 320.5)
            .slice(0, 5).map(el => el.outerHTML.replace(/\\s+/g, ' ').slice(0, 120))""")
        layout.append(f"scrolls sideways at 320 px (scrollWidth {width}): {wide}")
    page.set_viewport_size({"width": 360, "height": 640})
    return {"axe": [describe_violations(violations)] if violations else [],
            "layout": layout, "words": words}


def report(results: dict, check: str) -> str:
    return "\n".join(f"  {kind} ({found['url']}):\n    " + "\n    ".join(found[check])
                     for kind, found in results.items() if found[check])


def words_report(results: dict) -> str:
    wrong: dict[str, list[str]] = {}
    for kind, found in results.items():
        for text in found["words"]:
            wrong.setdefault(text, []).append(kind)
    return "\n".join(f"  {text!r} on {', '.join(sorted(set(kinds)))}"
                     for text, kinds in sorted(wrong.items()))


@pytest.mark.parametrize("lang", list(LANGS))
def test_every_page_type(browser, live_server, axe, lang):
    """All checks on all page types in one test per language: the family's walk and each page
    are done once (a test per check would repeat them on each pytest-xdist worker)."""
    tour = Tour(browser, live_server, lang)
    results = {}
    try:
        for kind in PAGE_TYPES:
            page = tour.show(kind)
            if lang != "en":  # the English ones come from the journey tests
                save_shot(page, f"{lang}-{kind}")
            results[kind] = {"url": page.url, **check_page(page, lang, axe)}
    finally:
        tour.close()
    sections = [
        ("axe-core: serious or critical violations", report(results, "axe")),
        ("lang/dir, labels, 44 px targets, no sideways scroll at 320 px, no raw Markdown",
         report(results, "layout")),
        # A page that says lang="zh-Hans" must speak Chinese: a screen reader reads it with a
        # Chinese voice, and the family reads Chinese (English pages likewise stay English).
        (f"interface words not in {lang}", words_report(results)),
    ]
    failed = [f"{title}:\n{text}" for title, text in sections if text]
    assert not failed, f"pages in {lang}:\n" + "\n\n".join(failed)
