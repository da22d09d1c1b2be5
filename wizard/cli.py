"""The `wizard` command line (Flask's CLI, so every command sees the configured app)."""

from __future__ import annotations

import datetime
import os
import re
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from . import sealing, store
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


# ------------------------------------------------------------ backup and restore


def _stamp() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")


def _refuse(message: str) -> None:
    click.echo(f"refused: {message}", err=True)
    sys.exit(1)


def _secret_note() -> str:
    """Where the secret key lives: a backup without it opens, but no resume code or PIN in it
    works (they are HMACs keyed by it), and the families' cookies are signed with it."""
    key_file = Path(current_app.instance_path) / "secret_key"
    if key_file.is_file() and key_file.read_text().strip() == current_app.config["SECRET_KEY"]:
        where = f"the file {key_file}"
    else:
        where = "the SECRET_KEY setting (WIZARD_SECRET_KEY or instance/config.py)"
    try:
        keys = sealing.keyring(current_app.config["DATABASE"], create=False)
    except sealing.KeyProblem:  # said where it matters; this is only advice
        keys = None
    return (f"keep the secret key with the backups, as safely: it is {where}. Without the same "
            "key a restored database opens, but no family's resume code or PIN works. Keep "
            f"the data key ({keys.where if keys else 'none yet'}) safe and apart from the "
            "backups: without it no answer in them can be read, by a thief or by you.")


def _describe(report: dict) -> list[str]:
    counts = report["counts"]
    lines = [f"integrity check: {report['integrity']}; {len(report['migrations'])} "
             f"migration(s) applied, the last {report['migrations'][-1]}",
             f"sessions: {counts['sessions']}, answers: {counts['answers']}, "
             f"flow versions: {counts['flow_versions']}"]
    sealed = report.get("sealed", {})
    if sealed:
        lines.append("families' data: " + ", ".join(
            f"{n} value(s) sealed with key {kid}" if kid else f"{n} not sealed (before m010)"
            for kid, n in sorted(sealed.items())))
    return lines


def _missing_keys(report: dict) -> tuple[list[str], str]:
    """The keys a copy's sealed values need that this server lacks, and where its keys are."""
    needed = {kid for kid in report.get("sealed", {}) if kid}
    database = current_app.config["DATABASE"]
    try:
        keys = sealing.keyring(database, create=False)
    except sealing.KeyProblem as exc:
        _refuse(str(exc))
    where = keys.where if keys else (f"no {sealing.ENV} and no file "
                                     f"{sealing.key_file(database)}")
    return sorted(needed - set(keys.ids if keys else ())), where


@click.command("backup")
@click.argument("dest", type=click.Path())
@with_appcontext
def backup_command(dest: str) -> None:
    """Copy the database to DEST while the server runs (a consistent copy, readable by its
    owner only) and check the copy. DEST is a new file, or a directory in which a file
    wizard-YYYYMMDD-HHMMSS.sqlite3 (UTC) is made. Exit 1 when refused or on any error."""
    database = Path(current_app.config["DATABASE"])
    if not database.is_file():
        _refuse(f"there is no database at {database}")
    target = Path(dest)
    if target.is_dir():
        target = target / f"wizard-{_stamp()}.sqlite3"
    elif dest.endswith(("/", "\\")):
        _refuse(f"the directory {dest} does not exist")
    elif target.exists() or target.is_symlink():
        _refuse(f"{target} exists; a backup never overwrites a file")
    elif not target.parent.is_dir():
        _refuse(f"the directory {target.parent} does not exist")
    try:
        db = store.Store(database)
    except (sqlite3.Error, sealing.KeyProblem) as exc:
        _refuse(f"cannot open the database {database}: {exc}")
    try:
        report = db.backup(target)
    except FileExistsError:
        _refuse(f"{target} exists; a backup never overwrites a file")
    except (OSError, sqlite3.Error, ValueError) as exc:
        _refuse(f"no backup was made ({exc})")
    finally:
        db.close()
    click.echo(f"wrote {target} ({report['bytes']} bytes), a copy of {database}")
    for line in _describe(report):
        click.echo(line)
    click.echo(_secret_note())


def _aside(database: Path) -> Path:
    """A free name <db>.before-restore-<timestamp> (with -2, -3... if restored twice in one
    second)."""
    base = f"{database}.before-restore-{_stamp()}"
    aside, n = Path(base), 1
    while any(Path(f"{aside}{end}").exists() for end in ("", "-wal", "-shm")):
        n += 1
        aside = Path(f"{base}-{n}")
    return aside


@click.command("restore")
@click.argument("src", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True,
              help="really replace the database (stop the server first); without it SRC is "
                   "only checked and nothing is changed")
@with_appcontext
def restore_command(src: str, yes: bool) -> None:
    """Check the backup SRC and, with --yes, make it the database: the current one (with its
    -wal and -shm files) is moved aside to <database>.before-restore-<timestamp>, and the
    migrations this code has and the backup lacks are applied. Stop the server first: this
    command cannot tell whether it runs. Exit 1 when refused."""
    database = Path(current_app.config["DATABASE"])
    source = Path(src)
    if not source.is_file():
        _refuse(f"{src} is not a file")
    if database.exists() and source.resolve() == database.resolve():
        _refuse(f"{src} is the database itself")
    wal = Path(f"{source}-wal")
    if wal.exists() and wal.stat().st_size:
        _refuse(f"{src} has a write-ahead log beside it ({wal}): it is a database in use, not "
                "a backup; make a backup of it with `wizard backup`")
    if yes and not database.parent.is_dir():
        _refuse(f"the directory {database.parent} does not exist")
    # The checks run on a private copy (SQLite may write to a file it opens), made where the
    # database lives: the final move is then a rename, and families' data stays off /tmp.
    try:
        fd, staged_name = tempfile.mkstemp(prefix=f"{database.name}.restoring-",
                                           dir=database.parent if database.parent.is_dir()
                                           else None)
    except OSError as exc:
        _refuse(f"cannot make a working copy of {src} ({exc}). Nothing was changed.")
    staged = Path(staged_name)
    try:
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as into:
                shutil.copyfileobj(into, out)
                out.flush()
                os.fsync(out.fileno())
            report = store.Store.check_copy(staged)
        except (OSError, sqlite3.Error, ValueError) as exc:
            _refuse(f"{src} cannot be restored: {exc}. Nothing was changed.")
        click.echo(f"{src} is a sound wizard database")
        for line in _describe(report):
            click.echo(line)
        missing, where = _missing_keys(report)
        if missing:
            _refuse(f"{src} was sealed with key(s) {', '.join(missing)}, which this server "
                    f"does not have ({where}): its families' answers could not be read. Add "
                    "the retired key(s) kept apart from the backups (one more line of the "
                    f"file {sealing.key_file(database)}, or after a comma in {sealing.ENV}), "
                    "restore again, then run `wizard rotate-key`. Nothing was changed.")
        pending = report["pending"]
        then = (f"apply {len(pending)} migration(s) it lacks ({', '.join(pending)})" if pending
                else "no migration to apply")
        if not yes:
            click.echo(f"with --yes this would: move {database} (and its -wal and -shm files) "
                       f"aside to {database}.before-restore-<timestamp>, put a copy of {src} "
                       f"in its place, and {then}.")
            click.echo("nothing was changed (check only). Stop the server before running it "
                       "again with --yes.")
            return
        aside = _aside(database)
        moved = []
        try:
            for end in ("", "-wal", "-shm"):
                old = Path(f"{database}{end}")
                if old.exists():
                    if end == "":  # the server's user must still be able to open it
                        info = old.stat()
                        os.chmod(staged, info.st_mode & 0o600)  # owner only
                        if os.geteuid() == 0:
                            os.chown(staged, info.st_uid, info.st_gid)
                    os.replace(old, f"{aside}{end}")
                    moved.append(end)
            os.replace(staged, database)
        except OSError as exc:
            for end in moved:  # put back what was moved
                os.replace(f"{aside}{end}", f"{database}{end}")
            _refuse(f"could not put the backup in place ({exc}); the database is as it was")
    finally:
        staged.unlink(missing_ok=True)
    if moved and moved[0] == "":
        click.echo(f"moved the old database aside: {aside}"
                   + (f" (with {', '.join(end.lstrip('-') for end in moved[1:])})"
                      if moved[1:] else ""))
    else:
        click.echo(f"there was no database at {database}")
        if moved:
            click.echo(f"moved its stray {' and '.join(moved)} file(s) aside to {aside}-*")
    click.echo(f"restored {src} into {database}")
    try:
        db = store.Store(database)
        try:
            applied = db.migrate()
        finally:
            db.close()
    except (OSError, sqlite3.Error, ValueError, sealing.KeyProblem) as exc:
        click.echo(f"error: the migrations failed ({exc}); to undo, move {aside} back to "
                   f"{database}", err=True)
        sys.exit(1)
    click.echo(f"applied {', '.join(applied)}" if applied else "the schema is up to date")
    if moved and moved[0] == "":
        # A family who asked for their answers to be erased after the backup was made must not
        # find them back: the old database says who.
        try:
            db = store.Store(database)
            try:
                again = db.erase_again(aside)
            finally:
                db.close()
        except (OSError, sqlite3.Error, sealing.KeyProblem) as exc:
            click.echo(f"warning: could not read the old database {aside} ({exc}): sessions "
                       "erased since the backup (families' deletions) have their answers "
                       "back; erase them again before opening the service", err=True)
        else:
            click.echo(f"erased again what had been erased since the backup: the answers of "
                       f"{again['deleted']} session(s) deleted by their families and of "
                       f"{again['expired']} expired session(s)")
    click.echo("run `wizard purge` now: answers that have passed their time since the backup "
               "was made are in it again")
    click.echo(_secret_note())
    click.echo("start the server again.")


# ------------------------------------------------------------ the data key


@click.command("rotate-key")
@click.option("--retired-to", type=click.Path(dir_okay=False),
              help="write the old key(s) to this new file (owner-only): backups made before "
                   "now need them. Keep it offline, with those backups")
@click.option("--forget-old", is_flag=True,
              help="keep no copy of the old key(s): backups made before now can no longer "
                   "be restored")
@click.option("--make-key", is_flag=True,
              help="only print a new key (for WIZARD_DATA_KEY) and change nothing")
@with_appcontext
def rotate_key_command(retired_to: str | None, forget_old: bool, make_key: bool) -> None:
    """Seal every family's answers with a new data key, while the server runs. With the key
    in instance/data_key: a new key is made, everything is sealed again with it, and the old
    key leaves the file (to --retired-to FILE, or forgotten with --forget-old: choose one).
    With WIZARD_DATA_KEY: put a new key (--make-key prints one) before the old one, separated
    by a comma, restart the server, run this, then remove the old key and restart again.
    Exit 1 when refused."""
    if make_key:
        click.echo(sealing.new_key())
        return
    database = Path(current_app.config["DATABASE"])
    if not database.is_file():
        _refuse(f"there is no database at {database}")
    from_env = os.environ.get(sealing.ENV) is not None
    if not from_env and bool(retired_to) == forget_old:
        _refuse("say what becomes of the old key: --retired-to FILE (backups made before now "
                "need it) or --forget-old (they can no longer be restored)")
    if from_env and (retired_to or forget_old):
        _refuse(f"the keys are in {sealing.ENV}: the old one stays there until you remove it; "
                "--retired-to and --forget-old are for instance/data_key")
    try:
        db = store.Store(database)
    except (sqlite3.Error, sealing.KeyProblem) as exc:
        _refuse(str(exc))
    try:
        old = db.keys.ids
        if not from_env:
            path = db.keys.file
            old_text = path.read_text()
            if retired_to:
                try:
                    fd = os.open(retired_to, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                except OSError as exc:
                    _refuse(f"cannot make {retired_to} ({exc}); nothing was changed")
                with os.fdopen(fd, "w") as handle:
                    handle.write(old_text)
                    handle.flush()
                    os.fsync(handle.fileno())
            olds = [line.strip() for line in old_text.splitlines() if line.strip()]
            new = sealing.new_key()
            # The new key first (it seals from now on, in this process and, as each write
            # begins, in the server's), the old ones still there to open what they sealed.
            sealing.write_key_file(path, [new, *olds], replace=True, like=database)
        try:
            counts = db.reseal()
        except (sealing.KeyProblem, sqlite3.Error) as exc:
            _refuse(f"{exc}. Every value still opens: "
                    + (f"{sealing.key_file(database)} holds the new key first and the old "
                       "one(s) after it; run this again to finish" if not from_env
                       else f"with the keys of {sealing.ENV}"))
        if not from_env:
            sealing.write_key_file(path, [new], replace=True, like=database)
            db.keys.refresh()
        # What the old key sealed may still be in the write-ahead log: copy the log into the
        # database (where the new values overwrote the old) and empty it. A server reading
        # at that moment keeps the log in use; its next checkpoints overwrite it.
        busy = db.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    finally:
        db.close()
    total = sum(counts.values())
    click.echo(f"sealed {total} value(s) again with key {db.keys.current}: "
               + ", ".join(f"{table} {n}" for table, n in counts.items()))
    retired = [kid for kid in old if kid != db.keys.current]
    if from_env:
        if retired:
            click.echo(f"now remove the other key(s) ({', '.join(retired)}) from "
                       f"{sealing.ENV} and restart the server; keep them with the backups "
                       "made before now, which need them")
        else:
            click.echo(f"{sealing.ENV} holds one key, which sealed everything already. To "
                       "rotate: put a new key (`wizard rotate-key --make-key`) before it, "
                       "with a comma, restart the server, and run this again")
    elif retired_to:
        click.echo(f"the old key {', '.join(retired)} left {path} and was written to "
                   f"{retired_to}: keep that offline, apart from the backups made before now "
                   "(restoring one needs it)")
    else:
        click.echo(f"the old key {', '.join(retired)} left {path}; destroy any other copy of "
                   "it. Backups made before now can no longer be restored: make a new backup "
                   "now")
    if busy:
        click.echo("note: the server was reading, so the write-ahead log was not emptied; "
                   "what the old key sealed in it is overwritten as the server writes")


def register(app: Flask) -> None:
    for command in (check_command, init_db_command, import_command, flows_command,
                    purge_command, i18n_group, create_user_command, backup_command,
                    restore_command, rotate_key_command):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from . import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="wizard: guided walkthroughs for families.")
