"""Who may open what (SECURITY.md): every route that takes an id or shows a family's data,
tried by the wrong principal. Another family's phone, a phone with no cookie, a volunteer
with no grant, with another family's grant, or whose grant ended or ran out, staff on an
admin's page, a volunteer in the studio, anyone not signed in on a signed-in page: each gets
404 (a not-yours id answers exactly like an id that never existed), 403 (a role it lacks) or
the sign-in page, and never the data. A last test fails on any route nobody classified here.

Family A has confirmed the kindergarten walkthrough with a child called 王小明 and let
volunteer Wang Fang in; its answers, its resume code and its helper's name are the secrets
that must show nowhere else. Each positive control shows the secret where it belongs, so
that its absence elsewhere means something.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from family_helpers import KG, KG_LOCAL, answer_all, begin
from people_helpers import PASSWORD, sign_in
from werkzeug.security import generate_password_hash

from wizard import store

FLOW = "kindergarten-shanghai"
CHILD = "王小明"               # family A's child (KG_LOCAL's child_name)
A_LABEL = "Building 3 east"    # the name family A gave itself for its helper
NOBODY = 999999                # a grant, user or session id that never existed
SIGN_IN = "/account/sign-in"
SYNC = f"/api/v1/flows/{FLOW}/sync"
SYNC_HEADERS = {"X-Wizard-Sync": "1", "Content-Type": "application/json"}
QUICK_HASH = generate_password_hash(PASSWORD, "pbkdf2:sha256:1000")


# ---------------------------------------------------------------- the world


def offer(family, label):
    page = family.post(f"{KG}/helper?lang=en", data={"label": label})
    assert page.status_code == 200
    return re.search(r'id="grant-code"[^>]*>(\d{3} \d{3})<', page.text).group(1).replace(" ", "")


def accept(helper, code) -> int:
    response = helper.post("/assist/accept", data={"code": code})
    assert response.status_code == 303, response.text
    return int(re.search(r"/assist/s/(\d+)/$", response.headers["Location"]).group(1))


def person(app, login, role="volunteer", name=None):
    """An account, signed in. Not people_helpers.make_user: it hashes with scrypt, and nine
    accounts a test would take 7 s; any Werkzeug hash signs in alike."""
    s = store.Store(app.config["DATABASE"])
    try:
        assert s.create_user(login, name or login.title(), "Hope Centre", role, "en",
                             QUICK_HASH) is not None
    finally:
        s.close()
    client = app.test_client()
    assert sign_in(client, login).status_code == 303
    return client


def snapshot(app) -> dict:
    """What a wrong principal must not be able to change."""
    s = store.Store(app.config["DATABASE"])
    try:
        return {
            "answers_a": s.answers(1),
            "session_a": {k: v for k, v in s.session(1).items() if k != "updated_at"},
            "grants": list(s.db.query("SELECT id, ended_at, expires_at FROM grants")),
            # The family's own phones' keys (a helper's phone may drop its own dead one).
            "tokens_a": list(s.db.query("SELECT token_hash FROM session_tokens "
                                        "WHERE session_id = 1 AND grant_id IS NULL")),
            "notes": list(s.db.query("SELECT * FROM helper_notes")),
            "users": list(s.db.query("SELECT id, disabled, must_change, password_hash "
                                     "FROM users")),
            "flows": list(s.db.query("SELECT * FROM flows")),
            "drafts": list(s.db.query("SELECT * FROM flow_drafts")),
            "versions": list(s.db.query("SELECT flow_id, version FROM flow_versions")),
            "settings": s.flow_settings(FLOW),
        }
    finally:
        s.close()


def audit(app) -> list[dict]:
    s = store.Store(app.config["DATABASE"])
    try:
        return s.audit_search(limit=10000)
    finally:
        s.close()


@pytest.fixture
def w(app, db):
    """Family A (confirmed, helped by Wang Fang), family B (a few steps, helped by Li Na),
    and everyone who must not see A: the principals by name, the ids, A's secrets."""
    a = app.test_client()
    begin(a, KG)
    answer_all(a, KG_LOCAL)
    assert a.post(f"{KG}/review").status_code == 303  # confirmed: its answers are exportable
    b = app.test_client()
    begin(b, KG)
    answer_all(b, KG_LOCAL[:2])

    wang = person(app, "wang", name="Wang Fang")
    grant_a = accept(wang, offer(a, A_LABEL))
    li = person(app, "li", name="Li Na")
    grant_b = accept(li, offer(b, "Block 9"))
    # Chen kept A's walkthrough on his phone; A then ended his access.
    chen = person(app, "chen", name="Chen Jie")
    grant_ended = accept(chen, offer(a, A_LABEL))
    assert chen.post(f"/assist/s/{grant_ended}/keep").status_code == 303
    assert a.post(f"{KG}/helper/{grant_ended}/end").status_code == 303
    # Sun's access to A ran out.
    sun = person(app, "sun", name="Sun Li")
    grant_expired = accept(sun, offer(a, A_LABEL))
    db.db.execute("UPDATE grants SET expires_at = '2000-01-01T00:00:00+00:00' WHERE id = ?",
                  (grant_expired,))

    code = re.search(r'id="resume-code"[^>]*>([A-Z0-9 ]+)<',
                     a.get(f"{KG}/save?lang=en").text).group(1)
    key = a.post(SYNC, json={"version": db.latest_version(FLOW), "lang": "en", "changes": []},
                 headers=SYNC_HEADERS).get_json()["session"]["key"]
    return SimpleNamespace(
        app=app, db=db, a=a, b=b, grant_a=grant_a, grant_b=grant_b, grant_ended=grant_ended,
        grant_expired=grant_expired, code=code, key=key, version=db.latest_version(FLOW),
        secrets=(CHILD, "13800138000", code, code.replace(" ", ""), key),
        clients={
            "family B": b, "no cookie": app.test_client(), "Wang Fang": wang, "Li Na": li,
            "Chen (ended)": chen, "Sun (expired)": sun,
            "a volunteer without a grant": person(app, "zhou", name="Zhou Min"),
            "staff": person(app, "lee", role="staff", name="Lee Min"),
            "admin": person(app, "zhao", role="admin", name="Zhao Min"),
        })


def shows_nothing_of_a(w, response, where: str) -> None:
    body = response.get_data(as_text=True)
    for secret in w.secrets:
        assert secret not in body, f"{where}: family A's {secret!r} shown"


def test_the_secrets_do_show_where_they_belong(w):
    """Positive controls: family A sees its own answers and code; Wang Fang, through A's
    grant, sees the answers; an admin's export holds them."""
    review = w.a.get(f"{KG}/review?lang=en").text
    assert CHILD in review and "138" in review and "Wang Fang" in review
    assert w.code in w.a.get(f"{KG}/save?lang=en").text
    assert CHILD in w.clients["Wang Fang"].get(f"/assist/s/{w.grant_a}/review").text
    assert A_LABEL in w.clients["Wang Fang"].get("/assist/").text
    assert CHILD in w.clients["admin"].get(
        f"/studio/{FLOW}/v/{w.version}/export.csv").get_data(as_text=True)


# ---------------------------------------------------------------- the family's pages

# Addressed by the phone's cookie, not by an id: another phone gets its own session's page
# or the "no walkthrough on this phone" page, never family A's.
FAMILY_GETS = ["/", f"{KG}/", *(f"{KG}/{step}" for step, _ in KG_LOCAL), f"{KG}/review",
               f"{KG}/done", f"{KG}/save", f"{KG}/helper", f"{KG}/delete", f"{KG}/deleted",
               f"{KG}/forgotten", "/resume"]
FAMILY_POSTS = [  # (url, form); {grant} is family A's grant to Wang Fang
    (f"{KG}/child-details", {"child_name": "李四"}),
    (f"{KG}/review", {}),
    (f"{KG}/save", {"pin": "1234"}),
    (f"{KG}/helper", {"label": "x"}),
    (f"{KG}/helper/{{grant}}/end", {}),
    (f"{KG}/delete", {}),
    (f"{KG}/forget", {}),
    (f"{KG}/", {"consent": "yes", "replace": "yes"}),
]
NOT_FAMILY_A = ["family B", "no cookie", "Wang Fang", "Chen (ended)", "staff", "admin"]


@pytest.mark.parametrize("who", NOT_FAMILY_A)
def test_family_pages_never_show_another_familys_answers(w, who):
    client = w.clients[who]
    for url in FAMILY_GETS:
        response = client.get(url)
        assert response.status_code in (200, 303), (url, response.status_code)
        shows_nothing_of_a(w, response, f"{who} GET {url}")
        if who == "family B":  # B's pages name B's helper, never A's
            assert "Wang Fang" not in response.text, url
    if who == "Chen (ended)":  # a helper's phone that kept A's walkthrough let go of it
        assert "Kept on this phone" not in client.get(f"{KG}/child-details").text


@pytest.mark.parametrize("who", ["family B", "no cookie", "Chen (ended)"])
def test_posts_to_family_pages_never_touch_another_familys_session(w, who):
    before = snapshot(w.app)
    client = w.clients[who]
    for url, form in FAMILY_POSTS:
        response = client.post(url.format(grant=w.grant_a), data=form)
        assert response.status_code < 500, url
        shows_nothing_of_a(w, response, f"{who} POST {url}")
    after = snapshot(w.app)
    for key in ("answers_a", "session_a", "tokens_a"):
        assert after[key] == before[key], key
    assert {g["id"]: g["ended_at"] for g in after["grants"]}[w.grant_a] is None
    assert w.clients["Wang Fang"].get(f"/assist/s/{w.grant_a}/").status_code == 200


def test_ending_another_familys_grant_answers_like_a_grant_that_never_existed(w):
    theirs = w.b.post(f"{KG}/helper/{w.grant_a}/end")
    nothing = w.b.post(f"{KG}/helper/{NOBODY}/end")
    assert theirs.status_code == nothing.status_code == 303
    assert theirs.headers["Location"] == nothing.headers["Location"]
    assert w.clients["Wang Fang"].get(f"/assist/s/{w.grant_a}/").status_code == 200


# ---------------------------------------------------------------- a helper's pages of a family

# (method, url, form); {g} is the grant tried.
GRANT_ROUTES = [
    ("get", "/assist/s/{g}/", None),
    ("get", "/assist/s/{g}/step/child-details", None),
    ("get", "/assist/s/{g}/review", None),
    ("get", "/assist/s/{g}/done", None),
    ("get", "/assist/s/{g}/hand-over", None),
    ("post", "/assist/s/{g}/step/child-details", {"child_name": "李四"}),
    ("post", "/assist/s/{g}/step/child-details/note", {"note": "seen"}),
    ("post", "/assist/s/{g}/review", {}),
    ("post", "/assist/s/{g}/hand-over", {"pin": "1234"}),
    ("post", "/assist/s/{g}/keep", {}),
    ("post", "/assist/s/{g}/hand-back", {}),
]
# (who, whose grant they try)
WRONG_HELPERS = [("a volunteer without a grant", "grant_a"), ("Li Na", "grant_a"),
                 ("staff", "grant_a"), ("admin", "grant_a"), ("Chen (ended)", "grant_ended"),
                 ("Sun (expired)", "grant_expired")]


@pytest.mark.parametrize("who, grant", WRONG_HELPERS)
def test_a_grant_not_ones_own_and_live_is_a_page_that_never_existed(w, who, grant):
    client, grant_id = w.clients[who], getattr(w, grant)
    before, logged = snapshot(w.app), len(audit(w.app))
    for method, url, form in GRANT_ROUTES:
        theirs = getattr(client, method)(url.format(g=grant_id), data=form)
        nothing = getattr(client, method)(url.format(g=NOBODY), data=form)
        assert theirs.status_code == nothing.status_code == 404, (url, theirs.status_code)
        assert theirs.get_data(as_text=True).replace(f"/s/{grant_id}/", f"/s/{NOBODY}/") \
            == nothing.get_data(as_text=True), f"{url}: not the page of a grant never made"
        shows_nothing_of_a(w, theirs, f"{who} {method} {url}")
        assert theirs.headers["Cache-Control"] == "no-store"
    assert snapshot(w.app) == before
    assert len(audit(w.app)) == logged  # nothing seen, so nothing logged


@pytest.mark.parametrize("who", ["no cookie", "family B"])
def test_a_helpers_pages_send_anyone_not_signed_in_to_sign_in(w, who):
    before = snapshot(w.app)
    for method, url, form in GRANT_ROUTES + [("get", "/assist/", None),
                                             ("get", "/assist/accept", None),
                                             ("post", "/assist/accept", {"code": "123456"}),
                                             ("get", f"/assist/new/{FLOW}", None),
                                             ("post", f"/assist/new/{FLOW}", {}),
                                             ("get", "/assist/both-languages?on=1", None)]:
        response = getattr(w.clients[who], method)(url.format(g=w.grant_a), data=form)
        assert response.status_code == 302, (url, response.status_code)
        assert response.headers["Location"].startswith(SIGN_IN + "?next="), url
        shows_nothing_of_a(w, response, url)
    assert snapshot(w.app) == before


@pytest.mark.parametrize("who", ["a volunteer without a grant", "Li Na", "Chen (ended)",
                                 "Sun (expired)", "staff", "admin"])
def test_a_console_lists_only_the_helpers_own_live_families(w, who):
    console = w.clients[who].get("/assist/")
    assert console.status_code == 200
    assert A_LABEL not in console.text and f"/s/{w.grant_a}/" not in console.text
    shows_nothing_of_a(w, console, f"{who}'s console")


def test_a_helper_starts_only_published_flows(w):
    client = w.clients["a volunteer without a grant"]
    assert client.get("/assist/new/no-such-flow").status_code == 404


# ---------------------------------------------------------------- the sync API


def sync(client, **body):
    return client.post(SYNC, json={"version": 3, "lang": "en", "changes": [], **body},
                       headers=SYNC_HEADERS)


def test_the_sync_api_answers_only_with_the_cookies_own_session(w):
    before = snapshot(w.app)
    mine = sync(w.b)
    assert mine.status_code == 200 and mine.get_json()["session"]["key"] != w.key
    shows_nothing_of_a(w, mine, "family B's sync")
    # B's phone sending A's key (a copy of A's answers) is refused whole.
    refused = sync(w.b, session_key=w.key, changes=[{
        "id": "change-from-b-0123456789", "step": "child-details",
        "values": {"child_name": "李四"}, "base_revision": 1}])
    assert refused.status_code == 409 and refused.get_json()["error"] == "other_session"
    for who in ("no cookie", "Wang Fang", "staff", "admin"):
        reply = sync(w.clients[who])
        assert reply.status_code == 401 and reply.get_json()["error"] == "no_session", who
    ended = sync(w.clients["Chen (ended)"])
    assert ended.status_code == 401 and ended.get_json()["error"] == "access_ended"
    for who in ("no cookie", "Wang Fang", "Chen (ended)"):
        shows_nothing_of_a(w, sync(w.clients[who]), who)
    assert snapshot(w.app)["answers_a"] == before["answers_a"]
    assert snapshot(w.app)["session_a"] == before["session_a"]


def test_a_start_sent_with_another_familys_cookie_is_a_new_session(w):
    reply = sync(w.a, start={"id": "start-of-someone-else-0001", "consent_version": "v1"})
    assert reply.status_code == 200
    shows_nothing_of_a(w, reply, "a start on A's phone")
    assert reply.get_json()["answers"] == {}


# ---------------------------------------------------------------- the offline kit


def offline_urls(version) -> list[str]:
    base = f"/offline/{FLOW}/{version}/en"
    return [f"{base}/bundle.json", f"{base}/start", f"{base}/review", f"{base}/done",
            f"{base}/save", f"{base}/step/child-details"]


def test_offline_pages_are_blank_and_the_same_for_everyone(w):
    """Cached by any phone, so they hold no answers: family A's own phone gets exactly what
    a phone with no cookie gets."""
    for url in offline_urls(w.version):
        mine, anyone = w.a.get(url), w.clients["no cookie"].get(url)
        assert mine.status_code == anyone.status_code == 200, url
        shows_nothing_of_a(w, mine, url)
        assert mine.get_data() == anyone.get_data(), url
    for url in offline_urls(99):
        assert w.a.get(url).status_code == 404, url


# ---------------------------------------------------------------- the studio and admin pages

DRAFTED = f"/studio/{FLOW}/draft"
STUDIO_ROUTES = [  # (method, url, form); {v} is the flow's published version
    ("get", "/studio/", None), ("post", "/studio/", {"flow_id": "new-flow", "title": "t",
                                                     "language": "en"}),
    ("post", "/studio/check", {"source": "id: x"}),
    ("get", f"/studio/{FLOW}/", None),
    ("get", f"/studio/{FLOW}/compare", None),
    ("get", f"/studio/{FLOW}/v/{{v}}.yaml", None),
    ("post", f"/studio/{FLOW}/upload", {}),
    ("post", f"{DRAFTED}/start", {}),
    ("post", f"{DRAFTED}/discard", {}),
    ("get", f"/studio/{FLOW}/draft.yaml", None),
    ("get", f"{DRAFTED}/yaml", None), ("post", f"{DRAFTED}/yaml", {"source": "id: x"}),
    ("get", f"{DRAFTED}/preview/", None), ("post", f"{DRAFTED}/preview/", {}),
    ("get", f"{DRAFTED}/preview/child-details", None),
    ("post", f"{DRAFTED}/preview/child-details", {"child_name": "x"}),
    ("get", f"{DRAFTED}/publish", None), ("post", f"{DRAFTED}/publish", {}),
    ("get", f"{DRAFTED}/", None), ("post", f"{DRAFTED}/", {}),
    ("get", f"{DRAFTED}/about", None), ("post", f"{DRAFTED}/about", {}),
    ("get", f"{DRAFTED}/steps/child-details", None),
    ("post", f"{DRAFTED}/steps/child-details", {}),
    ("get", f"{DRAFTED}/steps/child-details/fields/child_name", None),
    ("post", f"{DRAFTED}/steps/child-details/fields/child_name", {}),
    ("get", f"{DRAFTED}/translations", None), ("post", f"{DRAFTED}/translations", {}),
    ("get", f"{DRAFTED}/translations.po", None), ("post", f"{DRAFTED}/translations.po", {}),
    ("get", f"/studio/{FLOW}/v/{{v}}/dashboard", None),
]
ADMIN_ROUTES = [  # admins only; {user} is Wang Fang's account
    ("get", f"/studio/{FLOW}/v/{{v}}/export.csv", None),
    ("get", f"/studio/{FLOW}/v/{{v}}/export.json", None),
    ("get", f"/studio/{FLOW}/retention", None),
    ("post", f"/studio/{FLOW}/retention", {"days": "1"}),
    ("get", "/admin/", None), ("get", "/admin/users", None), ("get", "/admin/audit", None),
    ("post", "/admin/users", {"login": "mole", "name": "M", "org": "O", "role": "admin",
                              "language": "en"}),
    ("post", "/admin/users/{user}/disable", {}),
    ("post", "/admin/users/{user}/enable", {}),
    ("post", "/admin/users/{user}/reset", {}),
]
SIGNED_IN_ROUTES = [("get", "/account/password", None),
                    ("post", "/account/password", {"current": "x", "new": "y", "again": "y"})]


def visit(w, client, routes):
    for method, url, form in routes:
        url = url.format(v=w.version, user=1)  # user 1 is Wang Fang
        yield method, url, getattr(client, method)(url, data=form)


@pytest.mark.parametrize("who", ["no cookie", "family B"])
def test_signed_in_pages_send_anyone_else_to_sign_in(w, who):
    before, logged = snapshot(w.app), len(audit(w.app))
    for method, url, response in visit(w, w.clients[who],
                                       STUDIO_ROUTES + ADMIN_ROUTES + SIGNED_IN_ROUTES):
        assert response.status_code == 302, (method, url, response.status_code)
        assert response.headers["Location"].startswith(SIGN_IN + "?next="), url
        shows_nothing_of_a(w, response, url)
    assert snapshot(w.app) == before and len(audit(w.app)) == logged


@pytest.mark.parametrize("who, routes", [
    ("a volunteer without a grant", STUDIO_ROUTES + ADMIN_ROUTES),
    ("Wang Fang", STUDIO_ROUTES + ADMIN_ROUTES),  # helping a family opens no studio
    ("staff", ADMIN_ROUTES),
])
def test_a_role_without_the_right_is_refused_403_and_changes_nothing(w, who, routes):
    before, logged = snapshot(w.app), len(audit(w.app))
    for method, url, response in visit(w, w.clients[who], routes):
        assert response.status_code == 403, (method, url, response.status_code)
        shows_nothing_of_a(w, response, url)
    assert snapshot(w.app) == before
    assert len(audit(w.app)) == logged
    assert w.clients["Wang Fang"].get("/assist/").status_code == 200  # not disabled or reset


def test_staff_see_counts_never_answers(w):
    """The studio pages staff may open show no family's answer: the dashboard counts, the
    preview uses made-up answers."""
    staff = w.clients["staff"]
    assert staff.post(f"{DRAFTED}/start").status_code in (302, 303)
    for url in (f"/studio/{FLOW}/v/{w.version}/dashboard", f"/studio/{FLOW}/",
                f"{DRAFTED}/preview/child-details", f"{DRAFTED}/preview/", "/studio/"):
        response = staff.get(url)
        assert response.status_code == 200, url
        shows_nothing_of_a(w, response, url)


def test_admins_have_no_back_door_to_a_familys_pages(w):
    """Admins export confirmed answers (audited) but reach a family's pages only like any
    helper: through a grant of their own."""
    admin = w.clients["admin"]
    assert admin.get(f"/assist/s/{w.grant_a}/").status_code == 404
    before = [r for r in audit(w.app) if r["action"] == "export"]
    assert admin.get(f"/studio/{FLOW}/v/{w.version}/export.json").status_code == 200
    assert len([r for r in audit(w.app) if r["action"] == "export"]) == len(before) + 1


# ---------------------------------------------------------------- nothing unclassified

# Routes that show nobody's data and need nobody in particular, and why.
PUBLIC = {
    "/": "the published walkthroughs",
    "/text-size": "a display cookie",
    "/resume": "needs the code and the child's birth date or PIN; rate-limited "
               "(test_family.py, test_open_internet.py)",
    "/account/sign-in": "the sign-in form; lockouts in test_accounts.py",
    "/account/sign-out": "ends the caller's own sign-in only",
    "/f/<flow_id>/deleted": "a fixed page", "/f/<flow_id>/forgotten": "a fixed page",
    "/manifest.webmanifest": "the install manifest", "/sw.js": "the service worker",
    "/offline": "the no-signal page", "/static/<path:filename>": "files of the app",
    "/healthz": "schema and journal mode, no rows",
}


def covered_rules(app) -> set[tuple[str, str]]:
    """(rule, method) of every request the tables above make."""
    adapter = app.url_map.bind("localhost")
    requests = [("GET", u) for u in FAMILY_GETS + offline_urls(3)]
    requests += [("POST", u.format(grant=1)) for u, _ in FAMILY_POSTS]
    requests += [("POST", SYNC)]
    requests += [(m.upper(), u.format(g=1, v=3, user=1)) for m, u, _ in
                 GRANT_ROUTES + STUDIO_ROUTES + ADMIN_ROUTES + SIGNED_IN_ROUTES]
    requests += [("GET", "/assist/"), ("GET", "/assist/accept"), ("POST", "/assist/accept"),
                 ("GET", f"/assist/new/{FLOW}"), ("POST", f"/assist/new/{FLOW}"),
                 ("GET", "/assist/both-languages")]
    found = set()
    for method, url in requests:
        rule, _args = adapter.match(url.split("?")[0], method, return_rule=True)
        found.add((rule.rule, method))
    return found


def test_every_route_is_tried_here_or_listed_as_public(app):
    covered = covered_rules(app)
    missing = [(rule.rule, method) for rule in app.url_map.iter_rules()
               for method in sorted(rule.methods & {"GET", "POST"})
               if rule.rule not in PUBLIC and (rule.rule, method) not in covered]
    assert missing == [], (
        "routes nobody classified: add them to a table of tests/web/test_access.py (tried "
        "with the wrong principal) or to PUBLIC with the reason, and to SECURITY.md")
