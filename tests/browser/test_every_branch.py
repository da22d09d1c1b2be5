"""No page of any branch is wider than a small phone, in any language, in normal or larger text.

Every path of the shipped kindergarten flow (tests/branch_walk.py) is walked with the Flask test
client, a fresh session each: every step posted (each must answer 303 and lead where the engine
says), and every page met on the way fetched in the four languages: the start page, each step
page, the review, the answer sheet (after completing) and the save page. The pages' "today" is
the walk's (2027-03-01). The distinct pages (csrf tokens, resume codes, QR codes and revision
numbers normalised away) are measured in chromium at 320x640 with the app's real stylesheet
(from the live server, through a <base>): each must have no horizontal overflow,
document.documentElement.scrollWidth <= the viewport's width, with normal and with larger text
(<html class="large-text">, what the `text=large` cookie gives). A failure names the page, its
branch and the elements that stick out, with their text, and leaves screenshots in
tests/screenshots/overflow-*.png.

To stay fast (thousands of pages on a 2-core machine):
- a step page is fetched once for what it can show (the step, its "n of m", its Back link, its
  visible fields and choices, its calculated values); on one path in AUDIT_EVERY the known ones
  are fetched again and must be the same page. Review and answer sheet pages: every path.
- chromium loads one page for real (page.set_content) and the others are swapped into that
  document (same stylesheet), a batch per round trip; the first page of each kind and of each
  language is loaded for real as well and must measure the same. The server walks in a thread
  while chromium measures.
"""

from __future__ import annotations

import datetime
import queue
import re
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import branch_walk  # tests/branch_walk.py (tests/ is on sys.path: tests/conftest.py is there)
import pytest
from browser_kit import make_live_app

from wizard import engine
from wizard.flow import loader

ROOT = Path(__file__).resolve().parents[2]

FLOW_ID = "kindergarten-shanghai"
KG = f"/f/{FLOW_ID}"
TODAY = datetime.date(2027, 3, 1)  # as tests/conftest.py: the walk and the pages agree on it
LANGS = ("zh_Hans", "zh_Hant", "en", "ug")
LANG_TAGS = {"zh_Hans": "zh-Hans", "zh_Hant": "zh-Hant", "en": "en", "ug": "ug"}
WIDTH = 320
SMALL_PHONE = {
    "viewport": {"width": WIDTH, "height": 640},
    "device_scale_factor": 1,
    "is_mobile": True,
    "has_touch": True,
    "locale": "en-US",
}
AUDIT_EVERY = 10  # on one path in this many, step pages already known are fetched again
MAX_SHOTS = 6  # screenshots of failing pages per language (each takes a while)

CHECKED: Counter = Counter()  # distinct pages checked in chromium, per language


# ------------------------------------------------------------------ pages as the server sends them


_NORMALISE = [
    (re.compile(r'(name="csrf_token" value=")[^"]*"'), r'\1"'),
    (re.compile(r'(name="revision" value=")[0-9]*"'), r'\1"'),
    (re.compile(r'(id="resume-code"[^>]*>)[^<]*<'), r"\1CODE<"),
    (re.compile(r"([?&]code=)[A-Za-z0-9%+ -]+"), r"\1CODE"),
    (re.compile(r"<svg\b[^>]*class=\"segno\".*?</svg>", re.S), "<svg/>"),
]


def normalise(html: str) -> str:
    for pattern, replacement in _NORMALISE:
        html = pattern.sub(replacement, html)
    return html


@dataclass
class Page:
    html: str
    lang: str
    name: str  # step id, "review", "done" or "save"
    path: str  # branch_walk.describe of the first path that met it
    branch: str = ""  # the same path's answers to the condition fields only
    paths: int = 1  # how many paths met this very page
    result: dict | None = None  # what chromium measured (Checker)


def step_page_key(flow, j: engine.Journey, step_id: str) -> tuple:
    """Everything a step page shows that depends on the answers before it (in a fresh walk the
    step's own fields are not answered yet)."""
    step = flow.step(step_id)
    previous = engine.previous_step(j, step_id)
    calculated = tuple((f.id, repr(j.calculated(f.id)))
                       for f in j.visible_fields(step) if not f.is_input)
    return (step_id, engine.progress(j, step_id), previous.id if previous else None,
            branch_walk.signature(j, step), calculated)


class Walk:
    """Walks every path with the test client and keeps the distinct pages per language."""

    def __init__(self, app, flow, on_new=None):
        self.app = app
        self.flow = flow
        self.on_new = on_new  # called with each new distinct Page
        self.relevant = branch_walk.condition_fields(flow)
        self.pages: dict[str, dict[str, Page]] = {lang: {} for lang in LANGS}
        self.requests = 0
        self.fetched_steps: dict[tuple, str] = {}  # step page key -> the page, normalised
        self.audited = 0
        self.saved_after: set[str] = set()
        self.last_fetched: str | None = None

    def fetch_all_languages(self, client, url: str, name: str, path_text: str,
                            branch: str = "", langs=LANGS) -> str:
        """GETs the page in each language, keeps it if new; returns the first one normalised."""
        first = ""
        for lang in langs:
            client.set_cookie("lang", lang)  # as after ?lang= once
            response = client.get(url)
            self.requests += 1
            assert response.status_code == 200, (lang, url, response.status_code, path_text)
            html = response.get_data(as_text=True)
            assert f'<html lang="{LANG_TAGS[lang]}"' in html, (lang, url)
            key = normalise(html)
            first = first or key
            seen = self.pages[lang].get(key)
            if seen is None:
                self.pages[lang][key] = Page(html, lang, name, path_text, branch)
                if self.on_new:
                    self.on_new(self.pages[lang][key])
            else:
                seen.paths += 1
        return first

    def post(self, client, url: str, data: dict, path_text: str) -> str:
        response = client.post(url, data=data)
        self.requests += 1
        assert response.status_code == 303, (
            f"POST {url} answered {response.status_code}, not 303, on the path {path_text}")
        return urlsplit(response.headers["Location"]).path

    def walk(self, index: int, path: branch_walk.Path) -> None:
        flow = self.flow
        text = branch_walk.describe(path)
        branch = branch_walk.describe(path, self.relevant)
        client = self.app.test_client()
        if index == 0:  # the flow's start page, with its consent, before any session
            self.fetch_all_languages(client, f"{KG}/", "start-page", text, branch)
        lang = LANGS[index % len(LANGS)]
        landed = self.post(client, f"{KG}/?lang={lang}", {"consent": "yes"}, text)
        assert landed == f"{KG}/{path[0][0]}", (landed, text)
        answers: dict = {}
        self.last_fetched = None
        for step_id, form in path:
            j = engine.journey(flow, answers, TODAY)
            key = step_page_key(flow, j, step_id)
            if key not in self.fetched_steps:
                self.fetched_steps[key] = self.fetch_all_languages(
                    client, f"{KG}/{step_id}", step_id, text, branch)
                self.last_fetched = step_id
            elif index % AUDIT_EVERY == 1:
                # Now and then the page is fetched anyway: it must be the one its key promised.
                again = self.fetch_all_languages(client, f"{KG}/{step_id}", step_id, text,
                                                 branch, langs=LANGS[:1])
                assert again == self.fetched_steps[key], (
                    f"the {step_id} page differs from one with the same step_page_key (which "
                    f"then misses something the page shows) on the path {text}")
                self.audited += 1
                self.last_fetched = step_id
            landed = self.post(client, f"{KG}/{step_id}", form, text)
            values, errors = branch_walk.read_path_step(j, flow.step(step_id), form, answers)
            assert not errors, (step_id, errors, text)
            answers.update(values)
            following = engine.next_step(engine.journey(flow, answers, TODAY), step_id)
            expected = f"{KG}/{following.id}" if following else f"{KG}/review"
            assert landed == expected, f"after {step_id}: {landed}, not {expected}, on {text}"
        self.fetch_all_languages(client, f"{KG}/review", "review", text, branch)
        landed = self.post(client, f"{KG}/review", {}, text)
        assert landed == f"{KG}/done", (landed, text)
        self.fetch_all_languages(client, f"{KG}/done", "done", text, branch)
        # The save page's Back link goes to the last step page opened: fetch it where that is
        # the path's last step (its page was fetched on this path), once for each such step.
        if self.last_fetched == path[-1][0] and path[-1][0] not in self.saved_after:
            self.saved_after.add(path[-1][0])
            self.fetch_all_languages(client, f"{KG}/save", "save", text, branch)


# ------------------------------------------------------------------ the phone


# In the page: swap() puts another page's <html> attributes and <body> into the loaded document
# (same stylesheet), measure() reads the widths with normal and with larger text, and names the
# innermost elements that stick out of the page's box (to the right, or to the left on a
# right-to-left page).
HELPERS = r"""
function swap(html) {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const root = document.documentElement;
  for (const name of ['lang', 'dir', 'class']) {
    const value = doc.documentElement.getAttribute(name);
    if (value === null) root.removeAttribute(name); else root.setAttribute(name, value);
  }
  document.title = doc.title;
  document.body.replaceWith(document.adoptNode(doc.body));
}
function describe(el) {
  if (!el) return '';
  const cls = typeof el.className === 'string' && el.className.trim()
    ? '.' + el.className.trim().split(/\s+/).join('.') : '';
  return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls;
}
function offenders(width) {
  const page = document.documentElement.getBoundingClientRect();
  const left = page.left, right = page.left + width;
  const found = [];
  // Inside a box that clips or scrolls (a visually hidden label), sticking out is harmless.
  const clipped = el => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== 'visible') return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    const over = Math.max(box.right - right, left - box.left);
    if (over > 0.5 && !clipped(el)) found.push({el, over, box});
  }
  // The innermost ones are the culprits: their ancestors stick out because of them.
  const inner = found.filter(a => !found.some(b => b !== a && a.el.contains(b.el)));
  inner.sort((a, b) => b.over - a.over);
  return inner.slice(0, 5).map(({el, over, box}) => ({
    element: describe(el), parent: describe(el.parentElement),
    text: (el.textContent || el.value || '').replace(/\s+/g, ' ').trim().slice(0, 80),
    left: Math.round(box.left - left), right: Math.round(box.right - left),
    width: Math.round(box.width), over: Math.round(over),
    whiteSpace: getComputedStyle(el).whiteSpace}));
}
function measureOne(width) {
  const root = document.documentElement;
  const scrollWidth = root.scrollWidth;
  const wide = scrollWidth > Math.min(width, window.innerWidth);
  return {scrollWidth, innerWidth: window.innerWidth,
          fontSize: parseFloat(getComputedStyle(root).fontSize),
          offenders: wide ? offenders(width) : []};
}
function measure(width) {
  const root = document.documentElement;
  const had = root.classList.contains('large-text');
  root.classList.remove('large-text');
  const normal = measureOne(width);
  root.classList.add('large-text');
  const large = measureOne(width);
  if (!had) root.classList.remove('large-text');
  // The real stylesheet applied: the header is a flex box, and larger text is 125 %.
  const header = document.querySelector('.site-header');
  const styled = !!header && getComputedStyle(header).display === 'flex'
    && large.fontSize >= normal.fontSize * 1.2;
  return {normal, large, styled};
}
"""
MEASURE = "(width) => {" + HELPERS + "return measure(width); }"
SWAP_AND_MEASURE = ("([htmls, width]) => {" + HELPERS
                    + "return htmls.map(html => { swap(html); return measure(width); }); }")
BATCH = 40  # pages per round trip to chromium

_STYLES = re.compile(r"<link\b[^>]*rel=\"?stylesheet[^>]*>|<style\b.*?</style>", re.S | re.I)


def head_styles(html: str) -> tuple[str, ...]:
    """The stylesheets a page brings: pages with the same ones can share a loaded document."""
    head = html.split("</head>", 1)[0]
    return tuple(_STYLES.findall(head))


def with_base(html: str, base: str, extra_head: str = "") -> str:
    head = re.search(r"<head[^>]*>", html)
    assert head, "a page without <head>"
    return html[:head.end()] + f'<base href="{base}/">' + extra_head + html[head.end():]


def load(page, item: Page, base: str, extra_head: str = "") -> dict:
    """The page as chromium loads it (set_content, with the live server's stylesheet)."""
    page.set_content(with_base(item.html, base, extra_head), wait_until="load")
    result = page.evaluate(MEASURE, WIDTH)
    assert result["styled"], f"the stylesheet did not apply to {item.lang} {item.name}: {result}"
    return result


class Checker:
    """Measures pages in one phone tab: one real load (set_content) per set of stylesheets,
    then the other pages swapped into that document, a batch per round trip to chromium."""

    def __init__(self, page, base: str, extra_head: str = ""):
        self.page = page
        self.base = base
        self.extra_head = extra_head
        self.loaded: tuple | None = None  # the stylesheets of the document in the tab
        self.pending: list[Page] = []
        self.checked = 0

    def add(self, item: Page) -> None:
        self.pending.append(item)
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        groups: dict[tuple, list[Page]] = {}
        for item in self.pending:
            groups.setdefault(head_styles(item.html), []).append(item)
        self.pending = []
        for styles, items in groups.items():
            if styles != self.loaded:
                load(self.page, items[0], self.base, self.extra_head)
                self.loaded = styles
            results = self.page.evaluate(SWAP_AND_MEASURE, [[i.html for i in items], WIDTH])
            for item, result in zip(items, results):
                assert result["styled"], f"stylesheet lost on {item.lang} {item.name}"
                item.result = result
            self.checked += len(items)

    def cross_check(self, items: list[Page]) -> None:
        """Loaded for real, these pages must measure as they did swapped in."""
        for item in items:
            real = load(self.page, item, self.base, self.extra_head)
            for size in ("normal", "large"):
                assert real[size]["scrollWidth"] == item.result[size]["scrollWidth"], (
                    f"{item.lang} {item.name}: swapped into the document it measured "
                    f"{item.result[size]['scrollWidth']} px, loaded for real "
                    f"{real[size]['scrollWidth']} px ({size} text)")
        self.loaded = None


def too_wide(item: Page) -> list[dict]:
    """The text sizes at which the page is wider than the phone, with what sticks out."""
    found = []
    for size in ("normal", "large"):
        m = item.result[size]
        limit = min(WIDTH, m["innerWidth"])
        if m["scrollWidth"] > limit:
            found.append({"item": item, "size": "larger" if size == "large" else "normal",
                          "width": m["scrollWidth"], "limit": limit,
                          "offenders": m["offenders"]})
    return found


def shot_name(item: Page, extra: str = "") -> str:
    return f"overflow-{item.lang}-{item.name}{extra}"


def culprit(o: dict) -> str:
    return (f"{o['element']} in {o['parent']} (white-space {o['whiteSpace']}): "
            f"{o['text']!r}")


def widest_by_kind(failures: list[dict]) -> list[dict]:
    """The widest failing page of each kind (page name and text size), widest first."""
    widest: dict[tuple, dict] = {}
    for f in failures:
        kind = (f["item"].name, f["size"])
        if kind not in widest or f["width"] > widest[kind]["width"]:
            widest[kind] = f
    return sorted(widest.values(), key=lambda f: -f["width"])


def report(lang: str, failures: list[dict], total: int) -> str:
    """Failures grouped by page and widest element, then the first few in full."""
    groups: dict[tuple, list[dict]] = {}
    for f in failures:
        top = culprit(f["offenders"][0]) if f["offenders"] else "(no single element found)"
        groups.setdefault((f["item"].name, f["size"], top), []).append(f)
    pages = {id(f["item"]) for f in failures}
    lines = [f"{len(pages)} of {total} distinct {lang} pages are wider than a {WIDTH} px phone "
             f"(page [text size] x how many: widest element; the widest such page; its branch):"]
    for (name, size, top), group in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        worst = max(group, key=lambda f: f["width"])
        lines.append(f"  {name} [{size} text] x{len(group)}: {top}; up to {worst['width']} px "
                     f"on {worst['limit']} px; e.g. {worst['item'].branch}")
    lines.append("the widest ones in full:")
    for f in widest_by_kind(failures)[:4]:
        item = f["item"]
        lines.append(f"  {item.lang} {item.name} [{f['size']} text]: {f['width']} px wide on a "
                     f"{f['limit']} px screen (one of {item.paths} page(s) alike), first met on "
                     f"the path {item.path}")
        lines += [f"      {culprit(o)}: {o['width']} px wide, {o['over']} px outside "
                  f"(x {o['left']}..{o['right']})" for o in f["offenders"]]
    return "\n".join(lines)


# A one-off run may set this to a <style> (inserted before the app's stylesheet, so a rule
# needs !important to win over one of the same selector there) to see the test catch a defect,
# e.g. "<style>.official{white-space:nowrap!important}</style>".
EXTRA_HEAD = ""


def walk_and_measure(phone, live_server):
    """Walks every path on the server (in a thread) while chromium measures each new distinct
    page as it comes: (paths, distinct pages per language)."""
    started = time.perf_counter()
    flow = loader.load_file(ROOT / "flows" / f"{FLOW_ID}.yaml").flow
    paths = branch_walk.paths(flow, TODAY)
    checker = Checker(phone, live_server, EXTRA_HEAD)
    arrived: queue.Queue = queue.Queue()
    failed: list[BaseException] = []
    # The database in memory when the machine has /dev/shm: thousands of commits, no fsync.
    shm = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(prefix="wizard-branches-", dir=shm) as tmp, \
            pytest.MonkeyPatch.context() as mp:
        # The pages' "today" is the walk's: ages, date limits and days left do not drift.
        mp.setattr(engine, "local_today", lambda flow, now=None: TODAY)
        app = make_live_app(Path(tmp) / "branches.sqlite3", TESTING=True,
                            WTF_CSRF_ENABLED=False)  # the test client posts without tokens
        walk = Walk(app, flow, on_new=arrived.put)

        stop = threading.Event()

        def walk_all() -> None:
            try:
                for index, path in enumerate(paths):
                    if stop.is_set():
                        return
                    walk.walk(index, path)
            except BaseException as problem:  # raised again in the test's thread
                failed.append(problem)
            finally:
                arrived.put(None)

        walker = threading.Thread(target=walk_all, name="every-branch-walk", daemon=True)
        walker.start()
        try:
            while True:
                try:
                    item = arrived.get(timeout=0.2)
                except queue.Empty:
                    checker.flush()  # the server is slower than chromium: measure what is there
                    continue
                if item is None:
                    break
                checker.add(item)
            checker.flush()
        finally:  # the walk ends before its database goes
            stop.set()
            walker.join()
        walked_in = time.perf_counter() - started
    if failed:
        raise failed[0]
    # Swapping pages into one document must measure as loading them: check the first page of
    # each kind (in turn in each language) and the first page of each language for real.
    firsts: dict = {}
    for lang in LANGS:
        firsts[("lang", lang)] = next(iter(walk.pages[lang].values()))
    kinds = sorted({i.name for lang in LANGS for i in walk.pages[lang].values()})
    for n, name in enumerate(kinds):
        turn = LANGS[n % len(LANGS):] + LANGS[:n % len(LANGS)]  # this kind's language first
        firsts[("name", name)] = next(i for lang in turn for i in walk.pages[lang].values()
                                      if i.name == name)
    checker.cross_check(list(firsts.values()))
    print(f"\n[every branch] {len(paths)} paths walked with the test client ({walk.requests} "
          f"requests) and {checker.checked} distinct pages measured in chromium at {WIDTH} px, "
          f"normal and larger text, in {walked_in:.1f} s ({walk.audited} known step pages "
          f"fetched again to check the key, {len(firsts)} pages also loaded for real); "
          "distinct pages: " + ", ".join(f"{lang} {len(walk.pages[lang])}" for lang in LANGS))
    return paths, walk.pages


# Both tests read the one walk: pytest-xdist keeps them on one worker (make test runs
# --dist loadgroup), so the pages are walked and measured once.
pytestmark = pytest.mark.xdist_group("every-branch")


@pytest.fixture(scope="module")
def small_phone(browser):
    """One tab of a 320x640 phone for the whole module."""
    context = browser.new_context(**SMALL_PHONE)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def every_page(small_phone, live_server):
    """(paths, distinct pages per language), each page measured in chromium."""
    return walk_and_measure(small_phone, live_server)


def test_no_page_of_any_branch_is_wider_than_the_phone(every_page, small_phone, live_server,
                                                       shot):
    # One test, not one per language: under pytest-xdist each would walk everything again.
    paths, pages = every_page
    reports, shots = [], []
    for lang in LANGS:
        items = list(pages[lang].values())
        CHECKED[lang] = len(items)
        failures: list[dict] = []
        for item in items:
            assert item.result is not None, f"{item.lang} {item.name} was never measured"
            failures += too_wide(item)
        for f in widest_by_kind(failures)[:MAX_SHOTS]:  # the widest page of each kind and size
            item, large = f["item"], f["size"] == "larger"
            load(small_phone, item, live_server, EXTRA_HEAD)
            if large:
                small_phone.evaluate("() => document.documentElement.classList.add('large-text')")
            shots.append(str(shot(small_phone, shot_name(item, "-large" if large else ""))))
        names = Counter(item.name for item in items)
        print(f"[every branch] {lang}: {len(items)} distinct pages checked "
              f"({', '.join(f'{n} {k}' for k, n in sorted(names.items()))}); "
              f"{len({id(f['item']) for f in failures})} too wide")
        if failures:
            reports.append(report(lang, failures, len(items)))
    print(f"[every branch] {len(paths)} paths; distinct pages checked: "
          + ", ".join(f"{lang} {CHECKED[lang]}" for lang in LANGS)
          + f"; total {sum(CHECKED.values())}")
    assert all(pages[lang] for lang in LANGS)
    assert not reports, "\n\n".join(reports) + (
        "\n\nscreenshots: " + ", ".join(shots) if shots else "")


# ------------------------------------------------------------------ what the pages say


class _Text(HTMLParser):
    """The text nodes of a page (no script, style or title), each on its own: a space that only
    separates two elements is not a space in the middle of a sentence."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.nodes: list[str] = []
        self._skip = 0

    # <title> joins two titles with " · " (page · site), a separator, not a sentence.
    SKIP = ("script", "style", "title")

    def handle_starttag(self, tag, attrs):
        self._skip += tag in self.SKIP

    def handle_endtag(self, tag):
        self._skip -= tag in self.SKIP and self._skip > 0

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.nodes.append(data)


def text_nodes(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.nodes


CJK = "\u3400-\u4dbf\u4e00-\u9fff"
# ASCII punctuation right after a Chinese character, before another, a space or the end of
# the text ("已备好:", "身份证, 户口簿", "谁？:"); a space after a Chinese full stop or comma.
ASCII_IN_CHINESE = re.compile(f"[{CJK}？！。，][,.:;?!](?=\\s|$|[{CJK}])|[{CJK}]\\((?=[{CJK}])")
SPACE_AFTER_STOP = re.compile("[。，、；：？！][ \u00a0\u3000]+(?=\\S)")


def chinese_punctuation_problems(html: str) -> list[str]:
    found = []
    for node in text_nodes(html):
        for pattern in (ASCII_IN_CHINESE, SPACE_AFTER_STOP):
            for m in pattern.finditer(node):
                found.append(repr(node[max(0, m.start() - 12):m.end() + 12].strip()))
    return found


# A number and its Uyghur suffix joined by an ASCII hyphen ("5-قەدەم") may part at a line end;
# U+2011 (a non-breaking hyphen) keeps them together.
UYGHUR_HYPHEN = re.compile("[0-9]-(?=[\u0600-\u06ff])")


def uyghur_hyphen_problems(html: str) -> list[str]:
    return [repr(node[max(0, m.start() - 12):m.end() + 12].strip())
            for node in text_nodes(html) for m in UYGHUR_HYPHEN.finditer(node)]


# Elements whose text is a question, a choice or an answer-sheet row of the flow.
_LABELLED = re.compile(
    r'<(legend|label) class="(legend|label|radios-label|checkboxes-label)"[^>]*>(.*?)</\1>', re.S)
_SHEET_ROW = re.compile(r'<div class="summary-row">\s*<dt>(.*?)</dt>', re.S)


def official_term_problems(item: Page) -> list[str]:
    """Questions, choices and rows without their official Chinese term beside them: on every
    page in English and Uyghur, and as the heading of each answer sheet row in all languages."""
    found = []
    if item.name == "done":
        for row in _SHEET_ROW.findall(item.html):
            if 'class="official-main"' not in row:
                found.append(f"answer sheet row without its official heading: {strip(row)!r}")
    # Step pages: every question and choice (the start page's consent box is ours, not the
    # official form's). The review repeats the same questions, plus rows the official form
    # has no term for (a worked-out age, the checklist of papers).
    if item.lang in ("en", "ug") and item.name not in ("save", "start-page", "review", "done"):
        for _tag, _cls, inner in _LABELLED.findall(item.html):
            if 'class="official"' not in inner:
                found.append(f"no official term beside {strip(inner)!r}")
    return found


def strip(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()[:80]


def test_every_page_names_the_official_terms_and_writes_chinese_punctuation(every_page):
    """Every question, choice and answer-sheet row shows its official Chinese term (English
    and Uyghur pages; the answer sheet's official headings in all four languages), the
    Chinese pages use Chinese punctuation (no ASCII comma or colon between Chinese words, no
    space after a Chinese full stop or comma), and no Uyghur number parts from its suffix."""
    _paths, pages = every_page
    problems: dict[str, set[str]] = {}
    checked = 0
    for lang in LANGS:
        for item in pages[lang].values():
            checked += 1
            found = official_term_problems(item)
            if lang in ("zh_Hans", "zh_Hant"):
                found += [f"punctuation: {p}" for p in chinese_punctuation_problems(item.html)]
            if lang == "ug":
                found += [f"a number split from its suffix at a line end: {p}"
                          for p in uyghur_hyphen_problems(item.html)]
            for problem in found:
                problems.setdefault(problem, set()).add(f"{lang} {item.name}")
    print(f"[every branch] texts of {checked} distinct pages checked")
    assert not problems, "\n".join(
        f"{problem} (on {', '.join(sorted(where)[:4])}{' ...' if len(where) > 4 else ''})"
        for problem, where in sorted(problems.items()))
