"""Compressed bytes a phone downloads for each page of the kindergarten flow, against the budget.

    .venv/bin/python bench/page_weight.py

Starts the app on a local server (the browser tests' live server: shipped flows published,
compression as in production), walks the kindergarten flow in Debian's chromium on a 360x640
phone with the browser cache on, and prints, per page, the bytes that came over the network as
the DevTools protocol counts them (`Network.loadingFinished.encodedDataLength`: response
headers plus the body as sent, i.e. compressed; a file served from the browser cache counts 0).

Budget (issue 3): the first visit (HTML, CSS, JS and anything else the page pulls in) at most
20 KB; each later step page at most 6 KB. 1 KB = 1000 bytes here (the stricter reading). A first
visit under 14 KB fits in the first network round trip (TCP's initial window of 10 packets).

The answers are chosen to reach as many steps as possible: a birth date outside the intake
window, hukou in another province, a parent permit but no child registration, no social
insurance, an unfiled lease; then hukou changed from the review page to Hong Kong/Macao/Taiwan,
and the page for those families opened. Prints figures and ratios; asserts nothing. Exit status 0.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The live server and the family helper are the browser tests' own (one definition of "the
# app as it runs" and of "answering a step").
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import browser_kit as kit  # noqa: E402
from browser_kit import FLOW_ID, Family, LiveServer, make_live_app, new_phone_context  # noqa: E402

KB = 1000
FIRST_VISIT_BUDGET = 20 * KB
ROUND_TRIP = 14 * KB
STEP_BUDGET = 6 * KB

ANSWERS = {
    "child_dob": "1/5/2022",  # outside the intake window: the check-age page appears
    "hukou": "other_province",
    "district": "minhang",
    "has_permit": True,
    "permit_points": True,
    "child_has_permit": False,  # check-permits
    "social_insurance": "neither",  # check-social-insurance
    "housing": "unfiled_lease",  # check-housing
    "guardian1_relation": "mother",
    "guardian1_mobile": "13800138000",
    "child_name": "王小明",
    "documents": ["birth_certificate"],
}

KINDS = {"Document": "html", "Stylesheet": "css", "Script": "js"}


@dataclass
class Load:
    """What one page view pulled over the network."""

    name: str
    url: str = ""
    by_kind: dict[str, int] = field(default_factory=lambda: {"html": 0, "css": 0, "js": 0,
                                                             "other": 0})
    requests: int = 0
    from_cache: int = 0
    encodings: set[str] = field(default_factory=set)
    body: int = 0  # compressed body bytes only (no headers)
    files: list[tuple[str, str, int, int]] = field(default_factory=list)  # url, kind, bytes, status

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


class Meter:
    """Counts bytes per request through the DevTools protocol (Network domain)."""

    def __init__(self, page):
        self.page = page
        self.cdp = page.context.new_cdp_session(page)
        self.requests: dict[str, dict] = {}
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.on("Network.responseReceived", self._received)
        self.cdp.on("Network.requestServedFromCache", self._cached)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.send("Network.enable")
        self.current: Load | None = None

    def _sent(self, event):
        if self.current is None:
            return
        entry = self.requests.setdefault(event["requestId"], {
            "load": self.current, "kind": KINDS.get(event.get("type"), "other"),
            "redirect_bytes": 0, "headers": 0, "status": 0})
        entry["url"] = event["request"]["url"]
        redirect = event.get("redirectResponse")
        if redirect:  # a 303 after a POST: its headers came over the network too
            entry["redirect_bytes"] += int(redirect.get("encodedDataLength") or 0)
        self.current.requests += 1

    def _received(self, event):
        entry = self.requests.get(event["requestId"])
        if entry is None:
            return
        response = event["response"]
        entry["headers"] = int(response.get("encodedDataLength") or 0)
        entry["status"] = int(response.get("status") or 0)
        if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
            entry["load"].from_cache += 1
        encoding = {k.lower(): v for k, v in response.get("headers", {}).items()}.get(
            "content-encoding")
        if entry["kind"] in ("html", "css", "js"):
            entry["load"].encodings.add(f"{entry['kind']}:{encoding or 'none'}")

    def _cached(self, event):
        entry = self.requests.get(event["requestId"])
        if entry is not None:
            entry["load"].from_cache += 1

    def _finished(self, event):
        entry = self.requests.pop(event["requestId"], None)
        if entry is None:
            return
        received = int(event.get("encodedDataLength") or 0)
        load = entry["load"]
        load.by_kind[entry["kind"]] += received + entry["redirect_bytes"]
        load.body += max(0, received - entry["headers"])
        path = "/" + entry["url"].split("/", 3)[-1]
        load.files.append((path, entry["kind"], received + entry["redirect_bytes"],
                           entry["status"]))

    def measure(self, name: str, action) -> Load:
        """Runs `action` (a navigation) and counts everything it pulled in, until the network
        has been quiet for a moment (late requests like the favicon included)."""
        load = self.current = Load(name)
        action()
        self.page.wait_for_load_state("load")
        quiet_since = time.monotonic()
        pending = len(self.requests)
        while time.monotonic() - quiet_since < 0.3:
            self.page.wait_for_timeout(50)
            if len(self.requests) != pending:
                pending = len(self.requests)
                quiet_since = time.monotonic()
        self.current = None
        load.url = self.page.url.split("?")[0].replace(base_of(self.page.url), "")
        return load


def base_of(url: str) -> str:
    parts = url.split("/")
    return "/".join(parts[:3])


def walk(browser, base: str) -> tuple[list[Load], list[Load]]:
    """(first visits with an empty cache, later pages with the cache of the first)."""
    # A family that opens a shared link straight to the flow.
    context = new_phone_context(browser)
    page = context.new_page()
    meter = Meter(page)
    firsts = [meter.measure("flow start page", lambda: page.goto(
        f"{base}/f/{FLOW_ID}/?lang=en"))]
    context.close()

    # A family that comes through the home page and goes all the way.
    context = new_phone_context(browser)
    page = context.new_page()
    meter = Meter(page)
    family = Family(page, base)
    firsts.append(meter.measure("home page", lambda: family.open("/")))

    def view(name: str, action) -> Load:
        load = meter.measure(name, action)
        if not name:
            load.name = "review" if family.path.endswith("/review") else f"step {family.step_id}"
        loads.append(load)
        return load

    def click_link():
        with page.expect_navigation():
            page.locator(f'a[href$="/f/{FLOW_ID}/"]').first.click()

    loads: list[Load] = []
    view("flow start page", click_link)
    page.locator("#f-consent").check()
    view("", lambda: family.press("Start"))
    for _ in range(40):
        if family.path.endswith("/review"):
            break
        family.answer(**family.answers_for(family.step_id, ANSWERS))
        view("", family.continue_)
    view("answer sheet (done)", lambda: family.press("Confirm answers"))
    view("save and continue later", lambda: family.open("save"))
    view("review (again)", lambda: family.open("review"))
    view("step hukou (change)", lambda: family.open("hukou?return=review"))
    family.answer(hukou="hk_mo_tw")
    view("", family.continue_)
    # From the review, the change goes straight back to the review; the page for Hong Kong,
    # Macao and Taiwan families now belongs to the journey, so open it.
    view("step check-hukou-other", lambda: family.open("check-hukou-other"))
    view("resume page", lambda: family.open("/resume"))

    # The same family on a new phone (their session, an empty cache), landing on a step page:
    # the first visit that brings the step pages' script too.
    state = context.storage_state()
    context.close()
    context = new_phone_context(browser, storage_state=state)
    page = context.new_page()
    meter = Meter(page)
    firsts.append(meter.measure("a step page (new phone)", lambda: page.goto(
        f"{base}/f/{FLOW_ID}/child-birth")))
    context.close()
    return firsts, loads


def kb(n: int) -> str:
    return f"{n / KB:6.1f}"


def main() -> int:
    from playwright.sync_api import sync_playwright

    if not Path(kit.CHROMIUM).exists():
        print(f"{kit.CHROMIUM} is missing: install Debian's chromium (make chromium)")
        return 1
    with tempfile.TemporaryDirectory(prefix="wizard-weight-") as tmp:
        server = LiveServer(make_live_app(Path(tmp) / "weight.sqlite3"))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=kit.CHROMIUM,
                                            args=kit.CHROMIUM_ARGS)
                firsts, loads = walk(browser, server.url)
                browser.close()
        finally:
            server.stop()

    header = (f"{'page':<36} {'reqs':>4} {'cache':>5} {'html':>6} {'css':>6} {'js':>6} "
              f"{'other':>6} {'total':>6} {'body':>6}  {'budget':>6} {'ratio':>6}  verdict")
    print("Compressed bytes over the network per page view, in KB (1 KB = 1000 bytes).")
    print("total = response headers + compressed bodies (what the phone downloads);")
    print("body = compressed bodies only; cache = responses served from the browser cache.\n")
    print("First visit (empty cache):")
    print(header)
    print("-" * len(header))
    over = 0

    def row(load: Load, budget: int) -> None:
        nonlocal over
        ratio = load.total / budget
        verdict = "PASS" if load.total <= budget else "OVER"
        over += verdict == "OVER"
        k = load.by_kind
        print(f"{load.name[:36]:<36} {load.requests:>4} {load.from_cache:>5} {kb(k['html'])} "
              f"{kb(k['css'])} {kb(k['js'])} {kb(k['other'])} {kb(load.total)} "
              f"{kb(load.body)}  {kb(budget)} {ratio:6.2f}  {verdict}")

    for load in firsts:
        row(load, FIRST_VISIT_BUDGET)
    print("\nLater pages (cache kept from the first visit), in the order a family sees them:")
    print(header)
    print("-" * len(header))
    for load in loads:
        row(load, STEP_BUDGET)
    later = loads
    print()
    worst_first = max(firsts, key=lambda x: x.total)
    print(f"first visit, largest: {worst_first.total / KB:.1f} KB ({worst_first.name}) = "
          f"{worst_first.total / FIRST_VISIT_BUDGET:.2f} of the 20 KB budget, "
          f"{worst_first.total / ROUND_TRIP:.2f} of one 14 KB round trip")
    worst = max(later, key=lambda x: x.total)
    print(f"later pages: {len(later)}, largest {worst.total / KB:.1f} KB ({worst.name}) = "
          f"{worst.total / STEP_BUDGET:.2f} of the 6 KB budget; mean "
          f"{sum(x.total for x in later) / len(later) / KB:.1f} KB")
    steps = {x.name.split()[1] for x in later if x.name.startswith("step ")}
    flow_steps = [s.id for s in kit.load_flow().steps]
    missed = [s for s in flow_steps if s not in steps]
    print(f"step pages loaded: {len(steps)} of the flow's {len(flow_steps)}"
          + (f" (not reached: {', '.join(missed)})" if missed else ""))
    css_again = [x.name for x in later if x.by_kind["css"]]
    print("CSS downloaded again on a later page: " + (", ".join(css_again) or "never"))
    encodings = sorted(set().union(*(x.encodings for x in firsts + loads)))
    print("content-encoding seen: " + ", ".join(encodings))
    print("\nWhat a first visit downloads:")
    for load in firsts:
        for path, kind, size, status in load.files:
            print(f"  {load.name[:28]:<28} {kind:<5} {size:>6} B  {status}  {path[:70]}")
    print(f"\n{'ALL WITHIN BUDGET' if not over else f'{over} PAGE(S) OVER BUDGET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
