"""The app the way it is deployed (docs/deploy.md), not the way the other tests run it.

The other browser tests run the app over plain HTTP on werkzeug's server, where nothing noticed
that over HTTPS every form POST was refused. Here a phone browser goes through the family's
journey over HTTPS: once against gunicorn started with gunicorn.conf.py and a certificate (as
`make serve` runs it), once through nginx configured by the example in docs/deploy.md. Around
that: `nginx -t` on the doc's example, slow clients held by nginx, forged forwarded headers
ignored, and the answers nginx and gunicorn give by themselves.
"""

from __future__ import annotations

import re
import socket
import ssl
import time

import pytest
from browser_kit import FLOW_ID, LOCAL, Family, expected_steps
from deploy_kit import doc_nginx_block, fetch, free_port, nginx_test, write_nginx_conf
from playwright.sync_api import expect

from wizard import create_app
from wizard.security import CSP

HSTS = "strict-transport-security"


# ------------------------------------------------------------------ helpers


class Responses:
    """Every response the page gets from one origin (pages, redirects, CSS, JS)."""

    def __init__(self, page, origin: str):
        self.origin = origin
        self.seen = []
        page.on("response", lambda r: self.seen.append(r) if r.url.startswith(origin) else None)

    def errors(self) -> list[str]:
        return [f"{r.status} {r.request.method} {r.url}" for r in self.seen if r.status >= 400]

    def check_all(self, name: str, predicate) -> None:
        assert self.seen, f"no responses from {self.origin} recorded"
        bad = [f"{r.status} {r.url}: {r.header_values(name)}" for r in self.seen
               if not predicate(r.header_values(name))]
        assert not bad, f"{name} wrong on:\n" + "\n".join(bad)


def journey(family: Family, responses: Responses, steps) -> None:
    """Runs steps of a journey; a failure also names the error responses seen (a refused
    POST is a 400 or 413 there, whatever assertion it later broke)."""
    try:
        steps()
    except Exception as exc:
        raise AssertionError(f"journey stopped on {family.page.url}; error responses: "
                             f"{responses.errors() or 'none'}") from exc


def start(family: Family, responses: Responses) -> None:
    """Consent and Start (the first POST); a refused POST fails here at once, with its status,
    rather than after a wait for a page that never comes."""
    family.open("")
    family.start()
    assert not responses.errors(), f"refused: {responses.errors()}"
    expect(family.page).to_have_url(family.url_re(expected_steps({})[0]))


def check_cookies_secure(context, origin: str) -> list[str]:
    cookies = context.cookies(origin)
    not_secure = [c["name"] for c in cookies if not c["secure"]]
    assert not not_secure, f"cookies without Secure over HTTPS: {not_secure}"
    return sorted(c["name"] for c in cookies)


def resume_link(family: Family) -> str:
    family.open("save")
    expect(family.page).to_have_url(family.url_re("save"))
    link = family.page.locator(".resume-link a")
    expect(link).to_have_count(1)
    href = link.get_attribute("href")
    assert link.inner_text().strip() == href, "the link shown is not the link followed"
    return href


def delete_answers(family: Family) -> None:
    family.press("Delete them now")
    expect(family.page).to_have_url(family.url_re("delete"))
    family.press("Yes, delete my answers")
    expect(family.page).to_have_url(family.url_re("deleted"))
    expect(family.page.locator("h1")).to_contain_text("Your answers have been deleted")


# ------------------------------------------------------------------ gunicorn facing the phone


def https_phone(new_context, origin: str):
    """A phone on the site over HTTPS (the throwaway certificate accepted), recording every
    response: (context, page, responses, family)."""
    context = new_context(ignore_https_errors=True)
    page = context.new_page()
    return context, page, Responses(page, origin), Family(page, origin)


def test_whole_journey_over_https_with_gunicorn_alone(gunicorn_https, new_context):
    origin = gunicorn_https.url
    context, page, responses, family = https_phone(new_context, origin)

    def story():
        start(family, responses)
        assert family.walk(LOCAL) == expected_steps(LOCAL)
        expect(page.locator("h1")).to_contain_text("Check your answers")
        family.press("Confirm answers")
        expect(page).to_have_url(family.url_re("done"))
        expect(page.locator("h1")).to_contain_text("Your answer sheet")
        assert "王小明" in page.locator("main").inner_text()

    journey(family, responses, story)
    names = check_cookies_secure(context, origin)
    assert any(name.startswith("wz_") for name in names), f"no session cookie: {names}"

    link = resume_link(family)
    assert link.startswith(f"{origin}/resume"), f"resume link {link!r} not on {origin}"

    family.open("done")
    journey(family, responses, lambda: delete_answers(family))
    check_cookies_secure(context, origin)
    assert not responses.errors(), f"error responses on the way: {responses.errors()}"
    responses.check_all(HSTS, lambda values: len(values) == 1 and "max-age=" in values[0])


# ------------------------------------------------------------------ behind nginx


def test_journey_through_nginx_over_https(nginx_proxy, new_context):
    origin = nginx_proxy.url
    context, page, responses, family = https_phone(new_context, origin)

    def story():
        start(family, responses)
        family.walk(LOCAL)
        expect(page.locator("h1")).to_contain_text("Check your answers")

    journey(family, responses, story)
    # The app saw HTTPS through X-Forwarded-Proto: Secure cookies, HSTS, the public origin.
    names = check_cookies_secure(context, origin)
    assert any(name.startswith("wz_") for name in names), f"no session cookie: {names}"
    link = resume_link(family)
    assert link.startswith(f"{origin}/resume"), f"resume link {link!r} not on {origin}"
    assert not responses.errors(), f"error responses on the way: {responses.errors()}"
    responses.check_all(HSTS, lambda values: len(values) == 1)
    # nginx's fallback headers never double the app's own.
    responses.check_all("content-security-policy", lambda values: len(values) == 1)
    pages = [r for r in responses.seen if r.request.resource_type == "document"]
    assert pages and all(r.header_value("content-security-policy") == CSP for r in pages)


def test_the_nginx_example_in_docs_deploy_md_passes_nginx_t(tmp_path, tls_cert):
    conf = write_nginx_conf(tmp_path / "nginx", https_port=free_port(), http_port=free_port(),
                            upstream_port=free_port(), cert=tls_cert)
    checked = nginx_test(conf)
    assert checked.returncode == 0, f"nginx -t refused the doc's example:\n{checked.stderr}"
    assert "[warn]" not in checked.stderr, checked.stderr

    # The example says what docs/deploy.md promises it says.
    block = doc_nginx_block()
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "unused.sqlite3")})
    size = re.search(r"^\s*client_max_body_size\s+(\d+)k\s*;", block, re.M)
    assert size and int(size.group(1)) * 1024 == app.config["MAX_CONTENT_LENGTH"], (
        "client_max_body_size should be the app's MAX_CONTENT_LENGTH")
    for directive in ("client_header_timeout", "client_body_timeout", "send_timeout",
                      "keepalive_timeout", "proxy_buffering on", "proxy_request_buffering on",
                      "proxy_set_header X-Forwarded-For", "proxy_set_header X-Forwarded-Proto",
                      "proxy_set_header X-Forwarded-Host", "return 301 https://"):
        assert re.search(rf"^\s*{re.escape(directive)}(?![\w-])", block, re.M), (
            f"{directive} missing")


def test_nginx_sends_plain_http_to_https(nginx_proxy):
    status, headers, _ = fetch(f"{nginx_proxy.http_url}/f/{FLOW_ID}/?lang=en")
    assert status == 301
    assert headers["Location"] == f"https://127.0.0.1/f/{FLOW_ID}/?lang=en"


def test_slow_clients_wait_in_nginx_not_in_gunicorn(nginx_proxy, tls_cert):
    """40 connections that send half a request head and stall would hold every one of
    gunicorn's 16 threads (it has no header timeout); nginx holds them instead."""
    context = tls_cert.client_context()
    slow = []
    try:
        for i in range(40):
            raw = socket.create_connection(("127.0.0.1", nginx_proxy.https_port), timeout=5)
            conn = context.wrap_socket(raw, server_hostname="127.0.0.1")
            slow.append(conn)
            conn.sendall(f"POST /f/{FLOW_ID}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         f"User-Agent: slow-{i}\r\nContent-Le".encode())
        started = time.monotonic()
        status, _, body = fetch(nginx_proxy.url + "/healthz", context=context, timeout=3)
        took = time.monotonic() - started
        assert status == 200, body[:300]
        assert took < 2, f"/healthz took {took:.1f} s with 40 slow clients connected"
        for conn in slow:  # all still waiting in nginx: nothing answered or closed yet
            conn.setblocking(False)
            try:
                got = conn.recv(1)
            except (ssl.SSLWantReadError, BlockingIOError):
                continue
            pytest.fail(f"nginx answered or closed a slow connection already: {got!r}")
    finally:
        for conn in slow:
            conn.close()


def test_forwarded_headers_are_believed_only_from_the_proxy(nginx_proxy):
    """Straight to gunicorn (WIZARD_BEHIND_PROXY=true) from 127.0.0.3, which is not a trusted
    proxy: X-Forwarded-Proto: https changes nothing. The same request from 127.0.0.1, the
    proxy's address, is believed, so it is the address that decides."""
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    url = f"{nginx_proxy.upstream.url}/?lang=en"
    try:
        status, headers, _ = fetch(url, headers=forged, source="127.0.0.3")
    except OSError as exc:  # no 127.0.0.0/8 on lo beyond 127.0.0.1
        pytest.skip(f"cannot connect from 127.0.0.3: {exc}")
    assert status == 200
    assert HSTS not in {k.lower() for k in headers}, "HSTS over plain HTTP from a forged header"
    cookies = headers.get_all("Set-Cookie") or []
    assert cookies, "expected the language cookie to be set"
    assert not [c for c in cookies if "secure" in c.lower()], cookies

    status, headers, _ = fetch(url, headers=forged, source="127.0.0.1")
    assert status == 200 and headers[HSTS], "the trusted proxy's X-Forwarded-Proto is ignored"
    assert all("secure" in c.lower() for c in headers.get_all("Set-Cookie"))


# ------------------------------------------------------------------ answers the app never sees


def test_nginx_refuses_bodies_over_the_apps_limit(nginx_proxy, tls_cert):
    context = tls_cert.client_context()
    limit = create_app({"TESTING": True}).config["MAX_CONTENT_LENGTH"]
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, headers, _ = fetch(f"{nginx_proxy.url}/f/{FLOW_ID}/", method="POST",
                               body=b"a=" + b"x" * (limit - 1), headers=form, context=context)
    assert status == 413
    # nginx's own answer gets the doc's fallback headers.
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers[HSTS]

    status, headers, _ = fetch(f"{nginx_proxy.url}/f/{FLOW_ID}/", method="POST",
                               body=b"a=" + b"x" * (limit - 2), headers=form, context=context)
    assert status != 413, "a body at the app's limit should reach the app"
    assert headers.get_all("Content-Security-Policy") == [CSP]  # the app's own, once


def test_gunicorn_refuses_an_overlong_request_line_itself(nginx_proxy, tls_cert):
    """limit_request_line (gunicorn.conf.py) is gunicorn's: its 414 has none of the app's
    headers when sent straight to it, and nginx's fallback headers when it comes through
    (nginx itself lets request lines of up to 8 KiB through)."""
    path = "/?" + "q" * 5000
    status, headers, _ = fetch(nginx_proxy.upstream.url + path)
    assert status == 414
    assert "Content-Security-Policy" not in headers
    status, headers, _ = fetch(nginx_proxy.url + path, context=tls_cert.client_context())
    assert status == 414
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
