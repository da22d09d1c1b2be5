"""The `wizard` command line (Flask's CLI, so every command sees the configured app)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from . import store
from .accounts import ROLES
from .flow import loader, translations
from .i18n import DEFAULT as DEFAULT_LANGUAGE
from .i18n import LANGUAGES

STATIC = Path(__file__).resolve().parent.parent / "static"


def _load(name: str) -> loader.LoadResult:
    """A flow file, checked, with its pictures looked for under static/."""
    return loader.check_assets(loader.load_file(name), name, STATIC)


def _report(results: list[loader.LoadResult]) -> tuple[int, int]:
    errors = warnings = 0
    for result in results:
        for problem in result.problems:
            click.echo(str(problem), err=problem.severity == "error")
        errors += len(result.errors)
        warnings += len(result.warnings)
    return errors, warnings


@click.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def check_command(files: tuple[str, ...]) -> None:
    """Check flow files: every problem with its file and key path. Exit 1 on errors."""
    results = [_load(name) for name in files]
    errors, warnings = _report(results)
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
    results = [_load(name) for name in names]
    errors, _ = _report(results)
    if errors:
        click.echo(f"refused: {errors} error(s); nothing was imported", err=True)
        sys.exit(1)
    db = store.Store(current_app.config["DATABASE"])
    db.migrate()
    try:
        # One transaction: a clash in the last file leaves the first ones unpublished too.
        flows = [result.flow for result in results]
        for flow, new in zip(flows, db.publish_flows(flows)):
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
    for row in db.latest_versions():
        click.echo(f"{row['flow_id']}\tversion {row['version']}")
    db.close()


@click.command("purge")
@click.option("--dry-run", is_flag=True,
              help="say how many sessions would be erased, and erase nothing")
@with_appcontext
def purge_command(dry_run: bool) -> None:
    """Erase the answers of sessions idle longer than SESSION_IDLE_DAYS and of confirmed
    sessions kept longer than their flow's retention period, and remove the rows that no
    longer serve a purpose (run it daily)."""
    import datetime

    days = current_app.config["SESSION_IDLE_DAYS"]
    now = datetime.datetime.now(datetime.timezone.utc)
    before = now - datetime.timedelta(days=days)
    db = store.Store(current_app.config["DATABASE"])
    try:
        if dry_run:
            removed = db.purge_preview(before.isoformat(timespec="seconds"), now.timestamp())
        else:
            removed = db.purge(before.isoformat(timespec="seconds"), now.timestamp())
    finally:
        db.close()
    if dry_run:
        click.echo("dry run: nothing was erased")
        click.echo(f"would erase the answers of {removed.pop('expired sessions')} session(s) "
                   f"idle for more than {days} days")
        click.echo(f"would erase the answers of {removed.pop('past retention')} confirmed "
                   "session(s) kept longer than their flow's retention period")
        return
    click.echo(f"erased the answers of {removed.pop('expired sessions')} session(s) idle for "
               f"more than {days} days")
    click.echo(f"erased the answers of {removed.pop('past retention')} confirmed session(s) "
               "kept longer than their flow's retention period")
    for what, count in removed.items():
        click.echo(f"removed {count} {what}")


@click.group("i18n")
def i18n_group() -> None:
    """Flow translations as gettext PO catalogs."""


@i18n_group.command("export")
@click.argument("flow_id")
@click.argument("lang")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="write here, not stdout")
@with_appcontext
def i18n_export(flow_id: str, lang: str, output: str | None) -> None:
    """Write a PO catalog of FLOW's texts for LANG (translations so far filled in)."""
    path = translations.flow_file(current_app.config["FLOWS_DIR"], flow_id)
    po = translations.export_po(path.read_text("utf-8"), lang)
    if output:
        Path(output).write_text(po, "utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(po, nl=False)


@i18n_group.command("import")
@click.argument("po_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--flow", "flow_id", help="flow id (default: from the catalog's Project header)")
@with_appcontext
def i18n_import(po_file: str, flow_id: str | None) -> None:
    """Write the translations in PO_FILE back into the flow file (then check it)."""
    po_text = Path(po_file).read_text("utf-8")
    if flow_id is None:
        found = re.search(r'^"Project-Id-Version: flow ([a-z0-9-]+)', po_text, re.M)
        if not found:
            raise click.UsageError("cannot tell which flow this catalog is for: use --flow")
        flow_id = found.group(1)
    path = translations.flow_file(current_app.config["FLOWS_DIR"], flow_id)
    result = translations.import_po(path.read_text("utf-8"), po_text)
    for problem in result.problems:
        click.echo(f"{po_file}: skipped {problem}", err=True)
    checked = loader.load_text(result.text, str(path))
    if checked.errors:
        for problem in checked.errors:
            click.echo(str(problem), err=True)
        click.echo("refused: the flow would not load; the file is unchanged", err=True)
        sys.exit(1)
    path.write_text(result.text, "utf-8")
    click.echo(f"{path}: {result.updated} {result.lang} text(s) updated")


@i18n_group.command("status")
@with_appcontext
def i18n_status() -> None:
    """Translation coverage of every flow file, per language."""
    from .i18n import LANGUAGES

    for path in sorted(Path(current_app.config["FLOWS_DIR"]).glob("*.yaml")):
        for row in translations.coverage(path.read_text("utf-8"), tuple(LANGUAGES)):
            click.echo(f"{row.flow_id}\t{row.lang}\t{row.translated}/{row.total}\t"
                       f"{row.percent:.0f}%")


@click.command("create-user")
@click.argument("login")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="what they may do (admins also manage accounts)")
@click.option("--org", required=True, help="their organisation (families see it)")
@click.option("--name", required=True, help="their name (families see it)")
@click.option("--language", type=click.Choice(list(LANGUAGES)), default=DEFAULT_LANGUAGE,
              show_default=True, help="the language of their pages")
@click.option("--password-stdin", is_flag=True,
              help="read their password from the first line of standard input; without it "
                   "a one-time password is made, printed once, and must be changed at the "
                   "first sign-in")
@with_appcontext
def create_user_command(login: str, role: str, org: str, name: str, language: str,
                        password_stdin: bool) -> None:
    """Create a helper's account (the first admin's, say). Exit 1 when refused."""
    from . import accounts, people_forms

    login = people_forms.normal_login(login)
    name, org = " ".join(name.split()), " ".join(org.split())
    problem = people_forms.login_problem(login)
    if problem or not name or not org:
        click.echo(f"refused: {problem or 'the name and the organisation must not be empty'}",
                   err=True)
        sys.exit(1)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        problem = people_forms.password_problem(password, login)
        if problem:
            click.echo("refused: " + problem % {"min": accounts.MIN_PASSWORD,
                                                "max": people_forms.PASSWORD_MAX}, err=True)
            sys.exit(1)
    else:
        password = people_forms.one_time_password()
    db = store.Store(current_app.config["DATABASE"])
    try:
        db.migrate()
        user_id = db.create_user(login, name, org, role, language,
                                 accounts.hash_password(password),
                                 must_change=not password_stdin, actor="cli")
    finally:
        db.close()
    if user_id is None:
        click.echo(f"refused: the login {login!r} is taken", err=True)
        sys.exit(1)
    click.echo(f"created {role} {login!r} ({name}, {org}), account {user_id}")
    if not password_stdin:
        click.echo(f"one-time password (shown only now; to be changed at the first sign-in): "
                   f"{password}")


def register(app: Flask) -> None:
    for command in (check_command, init_db_command, import_command, flows_command,
                    purge_command, i18n_group, create_user_command):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from . import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="wizard: guided walkthroughs for families.")
