"""wizard: a mobile-first guided form wizard. `create_app` is the application factory."""

from __future__ import annotations

import datetime
import os
import secrets
import threading
from pathlib import Path

from flask import Flask, abort, g, render_template, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_compress import Compress
from flask_wtf.csrf import CSRFError, CSRFProtect
from itsdangerous import BadSignature
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from . import store

ONE_YEAR = 365 * 86400

csrf = CSRFProtect()
compress = Compress()


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True,
                static_folder="../static", template_folder="../templates")
    app.config.from_mapping(
        DATABASE=str(Path(app.instance_path) / "wizard.sqlite3"),
        FLOWS_DIR=str(Path(app.root_path).parent / "flows"),
        SESSION_IDLE_DAYS=60,
        # A shared phone forgets a finished walkthrough's answers (kept for the answer sheet)
        # this many days after it was finished.
        OFFLINE_KEEP_DONE_DAYS=14,
        # A family's consent to a helper: its code works this long, the access that long.
        GRANT_CODE_MINUTES=10,
        GRANT_HOURS=24,
        # A family may leave a step page open for hours: a CSRF token that expires would
        # lose what they typed. The token is bound to the session cookie instead.
        WTF_CSRF_TIME_LIMIT=None,
        # Flask-WTF's strict HTTPS check refuses any POST without a same-origin Referer. Some
        # phone browsers and data-saving proxies strip Referer, and we send as little of it as
        # we can (resume links carry a code), so that check would lock those families out.
        # The CSRF token does the protecting; security.refuse_cross_site adds a check of the
        # Origin and Sec-Fetch-Site headers, which browsers send whatever the referrer policy.
        WTF_CSRF_SSL_STRICT=False,
        # The biggest step (a few long answers, ~2,000 characters each, percent-encoded) is
        # well under 64 KiB; nothing a family sends needs more. Bodies past it get a 413 page.
        MAX_CONTENT_LENGTH=64 * 1024,
        MAX_FORM_MEMORY_SIZE=32 * 1024,  # one form field
        MAX_FORM_PARTS=200,
        # Where families reach the site: resume links and QR codes are built from this, never
        # from the request's Host header (which anyone can set). Set WIZARD_PUBLIC_ORIGIN.
        PUBLIC_ORIGIN="http://127.0.0.1:8000",
        # Behind a reverse proxy (WIZARD_BEHIND_PROXY=true), its forwarded headers are
        # believed only from these addresses (see proxy.py).
        BEHIND_PROXY=False,
        TRUSTED_PROXIES="127.0.0.1,::1",
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        COMPRESS_MIMETYPES=["text/html", "text/css", "text/javascript", "application/javascript",
                            "application/manifest+json",
                            "application/json", "image/svg+xml"],
        COMPRESS_MIN_SIZE=256,
        COMPRESS_ALGORITHM=["br", "gzip"],
        # Static files are sent as streams, for which Flask-Compress leaves gzip out by
        # default: a phone browser or proxy that accepts only gzip then got them uncompressed.
        COMPRESS_ALGORITHM_STREAMING=["br", "gzip"],
        COMPRESS_BR_LEVEL=5,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("WIZARD")
    else:
        app.config.from_mapping(test_config)
    # The CSRF secret lives in Flask's session cookie: keep it as long as the family's answers
    # (a cookie that died with the browser would refuse the next step after a restart).
    # Flask's own default (31 days) is there from the start: replaced unless set here.
    if app.config["PERMANENT_SESSION_LIFETIME"] == Flask.default_config[
            "PERMANENT_SESSION_LIFETIME"]:
        app.config["PERMANENT_SESSION_LIFETIME"] = datetime.timedelta(
            days=int(app.config["SESSION_IDLE_DAYS"]))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))

    from . import assets, i18n, proxy, security

    app.config["PUBLIC_ORIGIN"] = security.check_origin(app.config["PUBLIC_ORIGIN"])
    if app.config.get("BEHIND_PROXY"):
        # Rate limits then see the phone's address, and cookies get Secure under HTTPS.
        app.wsgi_app = proxy.TrustedProxyFix(app.wsgi_app, app.config["TRUSTED_PROXIES"])
    app.session_interface = _SessionInterface()
    # Ids in addresses: a number SQLite can hold, or the page is not found (a 25-digit id
    # would otherwise reach SQLite and fail with a 500).
    app.url_map.converters["id"] = _IdConverter

    app.teardown_appcontext(close_store)

    @app.before_request
    def _guard():
        if request.endpoint != "static" and request.blueprint not in ("offline", "api"):
            # The CSRF secret lasts as long as the family's answers (and a static file, or
            # what the phone keeps for offline use, never sets a cookie: it would be cached
            # with it; the sync API needs no CSRF secret).
            if not session.permanent:  # setting it marks the session changed
                session.permanent = True
        # Refuse an oversized body before anything reads it (a view that never reads the
        # body would otherwise answer as if nothing were wrong).
        limit = request.max_content_length
        if limit is not None and (request.content_length or 0) > limit:
            abort(413)
        security.refuse_cross_site()

    csrf.init_app(app)
    compress.init_app(app)

    from . import accounts
    from .views import (
        account,
        admin,
        api,
        assist,
        family,
        offline,
        studio,
        studio_editor,
        studio_numbers,
        studio_text,
        system,
    )

    i18n.init_app(app)
    accounts.init_app(app)
    app.register_blueprint(system.bp)
    app.register_blueprint(family.bp)
    app.register_blueprint(offline.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(assist.bp)
    app.register_blueprint(admin.bp)
    for part in (studio, studio_editor, studio_text, studio_numbers):
        app.register_blueprint(part.bp)
    # The sync API is replayed from a queue, perhaps days after its page was loaded: a CSRF
    # token would have expired. It is protected by SameSite cookies, the Origin and
    # Sec-Fetch-Site checks of _guard and a custom header (see views/api.py).
    csrf.exempt(api.bp)
    app.register_blueprint(api.bp)
    app.after_request(security.add_headers)

    # Static files: versioned URLs (?v=content hash) are cached for a year.
    def max_age(filename):
        return ONE_YEAR if request.args.get("v") else 300

    app.get_send_file_max_age = max_age
    @app.context_processor
    def asset_urls():
        return {"asset": assets.url}

    # Error pages are no page of a walkthrough (page_kind=None): the offline kit stays away.
    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return render_template("error.html", title_key="csrf", page_kind=None), 400

    @app.errorhandler(HTTPException)
    def http_error(error):
        # Every refusal is a page in the family's language, never werkzeug's English one.
        key = str(error.code) if error.code in (403, 404, 413) else "400"
        return render_template("error.html", title_key=key, page_kind=None), error.code

    @app.errorhandler(500)
    def server_error(error):
        return render_template("error.html", title_key="500", page_kind=None), 500

    from . import cli

    cli.register(app)
    return app


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's session cookie (it holds only the CSRF secret) is Secure whenever the request
    came over HTTPS, directly or through a trusted proxy; SESSION_COOKIE_SECURE is one fixed
    value for every request, which would break plain-HTTP development."""

    def get_cookie_secure(self, app) -> bool:
        return request.is_secure or super().get_cookie_secure(app)

    def open_session(self, app, request):
        # As Flask's, noting when the cookie was signed (see should_set_cookie).
        signer = self.get_signing_serializer(app)
        value = request.cookies.get(self.get_cookie_name(app))
        if signer is None or not value:
            return super().open_session(app, request)
        try:
            data, signed_at = signer.loads(
                value, max_age=int(app.permanent_session_lifetime.total_seconds()),
                return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        # A cookie that may have been signed with a retired key (SECRET_KEY_FALLBACKS) is
        # signed again at once, with the key that stays.
        session.signed_at = None if app.config.get("SECRET_KEY_FALLBACKS") else signed_at
        return session

    def should_set_cookie(self, app, session) -> bool:
        # Once a family has the cookie, Flask sends it again on every response (a permanent
        # session is refreshed each request), also on what the service worker or a shared
        # cache may keep (/sw.js, the manifest, the offline pages and bundles), on the sync
        # API, which needs no CSRF secret, and on static files: those never set it. A static
        # file fetched in the background (the worker's install) could otherwise put back the
        # cookie as it was before the page that made the CSRF secret, and that page's form
        # would then be refused.
        if request.endpoint == "static" or request.blueprint in ("offline", "api"):
            return False
        if session.modified:
            return True
        # Flask signs a permanent session's cookie again on every response to move its expiry
        # on; once a day is enough for a cookie that lasts SESSION_IDLE_DAYS (a quarter of a
        # shorter lifetime), and signing (and compressing) it was a twentieth of a step
        # page's time.
        signed_at = getattr(session, "signed_at", None)
        every = min(datetime.timedelta(days=1), app.permanent_session_lifetime / 4)
        return (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]
                and (signed_at is None
                     or signed_at < datetime.datetime.now(datetime.timezone.utc) - every))


class _IdConverter(IntegerConverter):
    def __init__(self, url_map, **kwargs):
        super().__init__(url_map, max=2**63 - 1)


def _instance_secret(instance: Path) -> str:
    """A per-installation secret kept in instance/, made on first start (never in git)."""
    path = instance / "secret_key"
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker made it first
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text().strip()


# One connection per worker thread, kept between requests. Opening one per request cost its
# PRAGMAs every time, and closing the last connection makes SQLite checkpoint and delete the
# WAL file, which the next write then creates and fsyncs again: a saved step took 4 times as
# long at light load (bench/load.py, strace: 4 fdatasync a save). Opened lazily, never at
# import time (gunicorn forks its workers).
_connections = threading.local()


def get_store() -> store.Store:
    """The request's database connection: this thread's own, opened on first use."""
    if "store" not in g:
        from flask import current_app

        g.store = _thread_store(current_app.config["DATABASE"])
    return g.store


def _thread_store(path: str) -> store.Store:
    try:
        file = (path, os.stat(path).st_ino)
    except OSError:
        file = None
    kept, kept_file = getattr(_connections, "kept", (None, None))
    if kept is not None and kept_file == file:
        return kept
    # Another file at that path (another app's database in tests, a restored backup) gets a
    # new connection; the thread keeps one, so the old one is closed.
    if kept is not None:
        kept.close()
    opened = store.Store(path)
    _connections.kept = (opened, (path, os.stat(path).st_ino))
    return opened


def close_store(exc: BaseException | None = None) -> None:
    """The end of a request: the connection stays open for the thread's next one, with no
    transaction left open (a failed request's is rolled back)."""
    used = g.pop("store", None)
    if used is not None and used.db.conn.in_transaction:
        used.db.conn.execute("ROLLBACK")
