"""wizard: a mobile-first guided form wizard. `create_app` is the application factory."""

from __future__ import annotations

import datetime
import hashlib
import os
import secrets
from functools import lru_cache
from pathlib import Path

from flask import Flask, g, render_template, request, session, url_for
from flask_compress import Compress
from flask_wtf.csrf import CSRFError, CSRFProtect

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
        # A family may leave a step page open for hours: a CSRF token that expires would
        # lose what they typed. The token is bound to the session cookie instead.
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        COMPRESS_MIMETYPES=["text/html", "text/css", "text/javascript", "application/javascript",
                            "application/json", "image/svg+xml"],
        COMPRESS_MIN_SIZE=256,
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_BR_LEVEL=5,
    )
    # The CSRF secret lives in Flask's session cookie: keep it as long as the family's answers
    # (a cookie that died with the browser would refuse the next step after a restart).
    app.config.setdefault("PERMANENT_SESSION_LIFETIME",
                          datetime.timedelta(days=app.config["SESSION_IDLE_DAYS"]))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("WIZARD")
    else:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))

    if app.config.get("BEHIND_PROXY"):
        # Behind one reverse proxy: trust its X-Forwarded-For/-Proto, so that rate limits see
        # the phone's address and cookies get Secure under HTTPS.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)

    app.teardown_appcontext(close_store)

    @app.before_request
    def _lasting_session():
        session.permanent = True
    csrf.init_app(app)
    compress.init_app(app)

    from . import i18n, security
    from .views import family, system

    i18n.init_app(app)
    app.register_blueprint(system.bp)
    app.register_blueprint(family.bp)
    app.after_request(security.add_headers)

    # Static files: versioned URLs (?v=content hash) are cached for a year.
    def max_age(filename):
        return ONE_YEAR if request.args.get("v") else 300

    app.get_send_file_max_age = max_age
    static_root = Path(app.static_folder)

    @lru_cache(maxsize=256)
    def _hash(filename: str) -> str:
        try:
            return hashlib.sha256((static_root / filename).read_bytes()).hexdigest()[:10]
        except OSError:  # a missing picture shows as a broken image, never a broken page
            app.logger.warning("static file missing: %s", filename)
            return "missing"

    @app.context_processor
    def asset_urls():
        return {"asset": lambda f: url_for("static", filename=f, v=_hash(f))}

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return render_template("error.html", title_key="csrf"), 400

    @app.errorhandler(404)
    def not_found(error):
        return render_template("error.html", title_key="404"), 404

    @app.errorhandler(500)
    def server_error(error):
        return render_template("error.html", title_key="500"), 500

    from . import cli

    cli.register(app)
    return app


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


def get_store() -> store.Store:
    """The request's database connection, opened on first use."""
    if "store" not in g:
        from flask import current_app

        g.store = store.Store(current_app.config["DATABASE"])
    return g.store


def close_store(exc: BaseException | None = None) -> None:
    opened = g.pop("store", None)
    if opened is not None:
        opened.close()
