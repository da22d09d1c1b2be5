"""The `wizard` command line (Flask's CLI, so every command sees the configured app)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from . import store
from .flow import loader


def _report(results: list[loader.LoadResult], names: list[str]) -> tuple[int, int]:
    errors = warnings = 0
    for name, result in zip(names, results):
        for problem in result.problems:
            click.echo(str(problem), err=problem.severity == "error")
        errors += len(result.errors)
        warnings += len(result.warnings)
    return errors, warnings


@click.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def check_command(files: tuple[str, ...]) -> None:
    """Check flow files: every problem with its file and key path. Exit 1 on errors."""
    results = [loader.load_file(name) for name in files]
    errors, warnings = _report(results, list(files))
    click.echo(f"{len(files)} file(s) checked: {errors} error(s), {warnings} warning(s)")
    sys.exit(1 if errors else 0)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database or bring its schema up to date."""
    db = store.Store(current_app.config["DATABASE"])
    applied = db.migrate()
    db.close()
    click.echo(f"database {current_app.config['DATABASE']}: "
               + (f"applied {', '.join(applied)}" if applied else "up to date"))


@click.command("import")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@with_appcontext
def import_command(files: tuple[str, ...]) -> None:
    """Publish flow files (default: flows/*.yaml). A broken file is refused, none half-loaded."""
    names = list(files) or sorted(str(p) for p in Path(current_app.config["FLOWS_DIR"])
                                  .glob("*.yaml"))
    results = [loader.load_file(name) for name in names]
    errors, _ = _report(results, names)
    if errors:
        click.echo(f"refused: {errors} error(s); nothing was imported", err=True)
        sys.exit(1)
    db = store.Store(current_app.config["DATABASE"])
    db.migrate()
    try:
        for result in results:
            flow = result.flow
            new = db.publish_flow(flow)
            click.echo(f"{flow.id} version {flow.version}: "
                       + ("published" if new else "already published"))
    except store.VersionClash as exc:
        click.echo(f"refused: {exc}", err=True)
        sys.exit(1)
    finally:
        db.close()


@click.command("flows")
@with_appcontext
def flows_command() -> None:
    """List the published flows and their newest versions."""
    db = store.Store(current_app.config["DATABASE"])
    db.migrate()
    for row in db.latest_flows():
        click.echo(f"{row['flow_id']}\tversion {row['version']}")
    db.close()


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Erase the answers of sessions idle longer than SESSION_IDLE_DAYS (run it daily)."""
    import datetime

    days = current_app.config["SESSION_IDLE_DAYS"]
    before = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days))
    db = store.Store(current_app.config["DATABASE"])
    count = db.expire_idle(before.isoformat(timespec="seconds"))
    db.close()
    click.echo(f"erased the answers of {count} session(s) idle for more than {days} days")


def register(app: Flask) -> None:
    for command in (check_command, init_db_command, import_command, flows_command,
                    purge_command):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from . import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="wizard: guided walkthroughs for families.")
