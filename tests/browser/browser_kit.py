"""Browser helpers and fixtures: the real app on a real server thread, driven by Debian's chromium.

Playwright's own browser downloads cannot be reached here, so we launch /usr/bin/chromium.
Every test gets a fresh browser context (no cookies, no cache) sized like a cheap Android
phone: 360x640, touch, device scale 1.

Helpers for the tests live here too, as fixtures: `family` (answers steps the way a parent
does: by field id, then "Continue"), `shot` (full-page screenshots into tests/screenshots/,
which git ignores) and `axe` (axe-core run inside the page, serious and critical only).
"""

from __future__ import annotations

import datetime
import functools
import os
import re
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

import pytest

from wizard import accounts, create_app, engine, sealing
from wizard.flow import loader
from wizard.store import Store

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
FLOW_ID = "kindergarten-shanghai"
DEFAULT_LANG = "zh_Hans"  # what a page is in when nobody asked for another language
PHONE = {
    "viewport": {"width": 360, "height": 640},
    "device_scale_factor": 1,
    "is_mobile": True,
    "has_touch": True,
}
# Texts of the buttons a family presses (English tests read them; other languages press the
# form's submit button, so they do not depend on a translation's wording).
BUTTONS = {"continue": "Continue", "start": "Start"}


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


# ------------------------------------------------------------------ the live server


def make_live_app(database: Path, **config):
    """The app as production runs it (CSRF on, not TESTING), with the shipped flows published;
    `config` overrides settings (a test client posting without tokens turns CSRF off)."""
    app = create_app({"TESTING": False, "DATABASE": str(database),
                      "SECRET_KEY": "browser-tests", "WTF_CSRF_ENABLED": True, **config})
    store = Store(database)
    try:
        store.migrate()
        for path in sorted((ROOT / "flows").glob("*.yaml")):
            result = loader.load_file(path)
            assert not result.errors, "\n".join(map(str, result.errors))
            store.publish_flow(result.flow)
    finally:
        store.close()
    return app


class LiveServer:
    """A werkzeug server on a free port in a daemon thread."""

    def __init__(self, app):
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, *args, **kwargs):  # one line per request drowns failures
                pass

        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


# A password for the accounts tests make (helpers, staff, admins).
PASSWORD = "correct horse 42"


class Site:
    """A live server of its own (its own database, so its own limits and accounts), with
    the accounts given as (login, name, org, role); pages in English."""

    def __init__(self, database: Path, *users: tuple[str, str, str, str]):
        self.db = database
        self.app = make_live_app(self.db)
        for user in users:
            self.add_user(*user)
        self.server = LiveServer(self.app)
        self.url = self.server.url

    def add_user(self, login: str, name: str, org: str, role: str) -> None:
        store = Store(self.db)
        try:
            store.create_user(login, name, org, role, "en", accounts.hash_password(PASSWORD))
        finally:
            store.close()

    def query(self, sql: str, *params) -> list[tuple]:
        return query(self.db, sql, *params)


# The SQL of a family's sealed values (wizard/sealing.py), opened in the query: the value and
# its context, as store.py seals them.
ANSWER = "opened(value, 'answers/' || session_id || '/' || field_id)"
RESULT = "opened(result, 'sync_changes/' || session_id || '/' || change_id)"


def query(path: str | Path, sql: str, *params) -> list[tuple]:
    """Rows of a test site's database; the SQL can open sealed values with ANSWER and
    RESULT, using the keys the site's store uses."""
    keys = sealing.keyring(path, create=False)
    con = sqlite3.connect(path)
    try:
        con.create_function("opened", 2, keys.open, deterministic=True)
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="session")
def live_server():
    """Base URL of one app for the whole session (each xdist worker has its own)."""
    with tempfile.TemporaryDirectory(prefix="wizard-browser-") as tmp:
        server = LiveServer(make_live_app(Path(tmp) / "browser.sqlite3"))
        yield server.url
        server.stop()


@pytest.fixture
def fresh_server(tmp_path):
    """An app of its own (own database, so own rate limits): for tests that exhaust a limit."""
    server = LiveServer(make_live_app(tmp_path / "own.sqlite3"))
    yield server.url
    server.stop()


# ------------------------------------------------------------------ the browser


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = (f"{CHROMIUM} is missing: install Debian's chromium (`make chromium`); "
                   "Playwright cannot download its own browser here")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def new_phone_context(browser, **options):
    settings = {**PHONE, "locale": "en-US", **options}
    context = browser.new_context(**settings)
    context.set_default_timeout(10_000)
    context.set_default_navigation_timeout(15_000)
    return context


@pytest.fixture
def new_context(browser):
    """Opens more phone contexts in one test (a second device, a fresh browser)."""
    opened = []

    def make(**options):
        context = new_phone_context(browser, **options)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


@pytest.fixture
def page(new_context):
    return new_context().new_page()


@pytest.fixture
def page_nojs(new_context):
    return new_context(java_script_enabled=False).new_page()


# ------------------------------------------------------------------ screenshots


def save_shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def shot():
    """shot(page, "step-date") writes tests/screenshots/step-date.png (full page)."""
    return save_shot


# ------------------------------------------------------------------ axe-core

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa"]


def _axe_source() -> str:
    # axe-playwright-python ships axe.min.js in its wheel, so no network is needed at test time.
    from importlib.resources import files

    return (files("axe_playwright_python") / "axe.min.js").read_text("utf-8")


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations for the page as it is now.

    The pages send `script-src 'self'`, which blocks an inline <script> (add_script_tag).
    Playwright's evaluate goes through the DevTools protocol, which the page's CSP does not
    govern, so axe runs on the page exactly as served, without bypass_csp.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    result = page.evaluate(
        """(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags},
                                       resultTypes: ['violations']})""",
        AXE_TAGS)
    return [v for v in result["violations"] if v.get("impact") in ("serious", "critical")]


def describe_violations(violations: Iterable[Mapping]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:8]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


@pytest.fixture(scope="session")
def axe():
    """axe(page) -> serious and critical violations (list of axe result dicts)."""
    try:
        _axe_source()
    except ModuleNotFoundError:
        pytest.fail("axe-playwright-python is not installed (it ships axe.min.js): "
                    "pip install -e '.[test]'")
    return axe_violations


# ------------------------------------------------------------------ a family at the phone


@functools.lru_cache(maxsize=None)
def load_flow(flow_id: str = FLOW_ID):
    result = loader.load_file(ROOT / "flows" / f"{flow_id}.yaml")
    assert not result.errors
    return result.flow


def typed(answers: Mapping[str, Any], flow_id: str = FLOW_ID) -> dict[str, Any]:
    """What the store keeps for what a family typed: ISO dates ("15/3/2024" -> "2024-03-15");
    checklists as lists; empty answers left out."""
    flow = load_flow(flow_id)
    out: dict[str, Any] = {}
    for key, value in answers.items():
        f = flow.field(key)
        if value in ("", None) or f is None:
            continue
        if f.type == "date":
            day, month, year = value.split("/") if isinstance(value, str) else value
            value = datetime.date(int(year), int(month), int(day)).isoformat()
        out[key] = value
    return out


def expected_steps(answers: Mapping[str, Any], flow_id: str = FLOW_ID) -> list[str]:
    """The visible steps for these answers (as typed), as the engine, and so the pages, decide."""
    return [s.id for s in engine.journey(load_flow(flow_id), typed(answers, flow_id),
                                         datetime.date.today()).steps]


class Family:
    """What a parent does on the phone, in words a test can read.

    Answers are {field_id: value}: a str picks a radio or fills a text box, True/False answers
    yes/no, a list ticks checkboxes (a checklist's answer id is its step id with '_' for '-'),
    and "15/3/2024" fills the three boxes of a date.
    """

    def __init__(self, page, base_url: str, flow_id: str = FLOW_ID, lang: str = "en"):
        self.page = page
        self.base = base_url
        self.flow_id = flow_id
        self.lang = lang
        self.buttons = BUTTONS

    # where we are -------------------------------------------------------------

    def url(self, path: str = "") -> str:
        """"/resume" is a site path; "review" or "" a path inside the flow."""
        if path.startswith("/"):
            return self.base + path
        return f"{self.base}/f/{self.flow_id}/{path}"

    def url_re(self, path: str) -> re.Pattern:
        """Matches the page at `path`, with or without a query string."""
        return re.compile(re.escape(self.url(path)) + r"(\?.*)?$")

    @property
    def path(self) -> str:
        return urlsplit(self.page.url).path

    @property
    def step_id(self) -> str:
        """The last part of /f/<flow>/<step> ('' on the flow's start page)."""
        prefix = f"/f/{self.flow_id}/"
        assert self.path.startswith(prefix), f"not in the flow: {self.page.url}"
        return self.path[len(prefix):]

    def open(self, path: str = "") -> None:
        """Goes to a page, asking for the family's language (remembered in a cookie) unless it
        is the default one, which a family gets without asking."""
        url = self.url(path)
        if self.lang != DEFAULT_LANG:
            url += ("&" if "?" in url else "?") + f"lang={self.lang}"
        self.page.goto(url)

    # pressing things ----------------------------------------------------------

    def press(self, name: str, exact: bool = True) -> None:
        """Presses a button (or a link that looks like one) and waits for the page it leads
        to, or for the same page shown again with errors."""
        target = self.page.get_by_role("button", name=name, exact=exact)
        if not target.count():
            target = self.page.get_by_role("link", name=name, exact=exact)
        assert target.count(), f"no button or link {name!r} on {self.page.url}"
        with self.page.expect_navigation():
            target.first.click()

    def follow(self, name: str, exact: bool = True) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("link", name=name, exact=exact).first.click()

    def submit_form(self) -> None:
        """Presses the main form's submit button, whatever the page language calls it."""
        with self.page.expect_navigation():
            # The first submit button is the main one ("save for later" comes after it).
            self.page.locator("main form[method=post] button[type=submit]").first.click()

    def continue_(self) -> None:
        if self.lang == "en":
            self.press(self.buttons["continue"])
        else:
            self.submit_form()

    def start(self, consent: bool = True) -> None:
        """On the flow's start page: agree (or not) and press Start."""
        if consent:
            self.page.locator("#f-consent").check()
        if self.lang == "en":
            self.press(self.buttons["start"])
        else:
            self.submit_form()

    # answering ----------------------------------------------------------------

    def fill(self, field_id: str, value: Any) -> None:
        page = self.page
        if page.locator(f'[name="{field_id}-day"]').count():
            day, month, year = (value.split("/") if isinstance(value, str) else value)
            page.locator(f'[name="{field_id}-day"]').fill(str(day))
            page.locator(f'[name="{field_id}-month"]').fill(str(month))
            page.locator(f'[name="{field_id}-year"]').fill(str(year))
            return
        inputs = page.locator(f'[name="{field_id}"]')
        assert inputs.count(), f"no input named {field_id!r} on {page.url}"
        kind = inputs.first.get_attribute("type")
        if kind == "radio":
            if isinstance(value, bool):
                value = "yes" if value else "no"
            page.locator(f'input[type=radio][name="{field_id}"][value="{value}"]').check()
        elif kind == "checkbox":
            wanted = set(value or ())
            for i in range(inputs.count()):
                box = inputs.nth(i)
                box.set_checked(box.get_attribute("value") in wanted)
        else:
            inputs.first.fill(str(value))

    def answer(self, **fields: Any) -> None:
        for field_id, value in fields.items():
            self.fill(field_id, value)

    def answer_and_continue(self, **fields: Any) -> None:
        self.answer(**fields)
        self.continue_()

    def answers_for(self, step_id: str, answers: Mapping[str, Any]) -> dict[str, Any]:
        """The part of a family's answers that belongs on this step."""
        step = load_flow(self.flow_id).step(step_id)
        assert step is not None, f"{step_id!r} is not a step of {self.flow_id}"
        return {f.id: answers[f.id] for f in step.input_fields if f.id in answers}

    def walk(self, answers: Mapping[str, Any], stop_at: str | None = None,
             on_page=None, limit: int = 40) -> list[str]:
        """From the current step, answers each step it lands on (an instruction step: just
        Continue) until the review page, or until it lands on step `stop_at`. Returns the ids
        of the steps it answered, in order. `on_page(step_id)` runs before each is answered."""
        seen: list[str] = []
        for _ in range(limit):
            if self.path.endswith("/review") or self.step_id == stop_at:
                return seen
            step = self.step_id
            seen.append(step)
            if on_page:
                on_page(step)
            self.answer(**self.answers_for(step, answers))
            self.continue_()
            assert self.path.endswith("/review") or self.step_id != step, (
                f"stayed on {step} after Continue: {self.error_text()}")
        raise AssertionError(f"no review page after {limit} steps: {seen}")

    # reading the page ---------------------------------------------------------

    def error_text(self) -> str:
        summary = self.page.locator(".error-summary")
        return summary.inner_text() if summary.count() else "(no error summary)"

    def progress(self) -> str:
        return self.page.locator("p.progress").inner_text().strip()


@pytest.fixture
def family(page, live_server):
    return Family(page, live_server)


@pytest.fixture
def family_nojs(page_nojs, live_server):
    return Family(page_nojs, live_server)


# ------------------------------------------------------------------ two families

# A family with a Shanghai hukou, who own their home. The child's ID number is left out
# (it is optional), so the review shows "Not provided".
LOCAL = {
    "child_dob": "15/3/2024",
    "hukou": "shanghai",
    "district": "xuhui",
    "housing": "own",
    "guardian1_relation": "mother",
    "guardian1_mobile": "13800138000",
    "child_name": "王小明",
    "documents": ["parent_id_card", "household_register", "birth_certificate"],
}

# A migrant family: hukou in another province, permits in order, renting with a filed lease.
OTHER = {
    "child_dob": "15/3/2024",
    "hukou": "other_province",
    "district": "minhang",
    "has_permit": True,
    "permit_points": False,
    "child_has_permit": True,
    "social_insurance": "six_months",
    "housing": "filed_lease",
    "guardian1_relation": "father",
    "guardian1_mobile": "13912345678",
    "child_name": "李小红",
    "child_id": "31011220240315002X",  # born 2024-03-15, check digit X
    "documents": ["birth_certificate", "parent_residence_permit", "lease_certificate"],
}


def open_flow(family: Family) -> None:
    """From the flow's start page, agree and start: lands on the flow's first step."""
    family.open("")
    family.start()
    family.page.wait_for_url(family.url_re(expected_steps({})[0]))
