"""wizard: a mobile-first guided form wizard. `create_app` is the application factory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, g

from . import store


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True,
                static_folder="../static", template_folder="../templates")
    app.config.from_mapping(
        DATABASE=str(Path(app.instance_path) / "wizard.sqlite3"),
        FLOWS_DIR=str(Path(app.root_path).parent / "flows"),
        SESSION_IDLE_DAYS=60,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("WIZARD")
    else:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))

    app.teardown_appcontext(close_store)

    from .views import system

    app.register_blueprint(system.bp)

    from . import cli

    cli.register(app)
    return app


def _instance_secret(instance: Path) -> str:
    """A per-installation secret kept in instance/, made on first start (never in git)."""
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
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
