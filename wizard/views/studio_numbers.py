"""Staff's figures for a flow version (the dashboard), and admins' exports and retention.

The dashboard shows counts only: no answer and no session id ever reaches it. The figures
come from the database (Store.version_figures), counted in dashboard.py. Exporting families'
answers and choosing how long they are kept are admins' alone, and each is written to the
audit log.
"""

from __future__ import annotations

import csv
import datetime
import io
import json

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms.validators import ValidationError

from .. import catalog, dashboard, drafting, get_store, i18n
from ..drafting import actor, admin_only, studio_only
from ..flow.fieldtypes import N_
from ..people_forms import OptionalField

bp = drafting.blueprint("studio_numbers")



def _retention_max() -> int:
    """Every walkthrough idle SESSION_IDLE_DAYS is erased anyway (the families are told so):
    a flow's retention period can only be shorter."""
    return current_app.config["SESSION_IDLE_DAYS"]

DEVICE_NAMES = {"phone": N_("Phones"), "tablet": N_("Tablets"), "computer": N_("Computers"),
                "unknown": N_("Unknown devices")}



def _flow_or_404(flow_id: str, version: int):
    flow = catalog.get(get_store(), flow_id, version)
    if flow is None:
        abort(404)
    return flow


def _language_name(code: str) -> str:
    return i18n.LANGUAGES.get(code, (code,))[0]


def _time_taken(seconds: float | None) -> str | None:
    parts = dashboard.minutes(seconds)
    if parts is None:
        return None
    hours, mins = parts
    if not hours and not mins:
        return gettext("under a minute")
    if not hours:
        return gettext("%(minutes)d min", minutes=mins)
    return gettext("%(hours)d h %(minutes)d min", hours=hours, minutes=mins)


# ---------------------------------------------------------------- retention


class RetentionForm(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect checks every POST once, for the whole app

    days = OptionalField(
        N_("Days to keep confirmed answers"),
        hint=lambda: gettext("Counted from the day the family confirmed. Leave empty to keep "
                             "them until they are idle %(max)d days, when every walkthrough "
                             "is erased; a retention period can only be shorter.",
                             max=_retention_max()),
        attrs={"inputmode": "numeric", "pattern": "[0-9]*", "maxlength": 4,
               "autocomplete": "off"})
    def validate_days(self, field) -> None:
        text = (field.data or "").strip()
        field.data = text
        if not text:
            return
        if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= _retention_max():
            raise ValidationError(gettext(
                "Enter a whole number of days from 1 to %(max)d, or leave it empty",
                max=_retention_max()))

    @property
    def value(self) -> int | None:
        return int(self.days.data) if self.days.data else None

    def summary(self) -> list[dict]:
        return [{"href": f"#{f.first_input}", "text": f.errors[0]} for f in self if f.errors]

    def has_errors(self) -> bool:
        return any(f.errors for f in self)


def _retention_form(flow_id: str) -> RetentionForm:
    settings = get_store().flow_settings(flow_id)
    days = settings["retention_days"] if settings else None
    return RetentionForm(data={"days": "" if days is None else str(days)})


def _flow_known(flow_id: str) -> None:
    if get_store().latest_version(flow_id) is None:
        abort(404)


@bp.get("/<flow_id>/retention")
@admin_only
def retention(flow_id: str):
    _flow_known(flow_id)
    return render_template("studio/retention.html", flow_id=flow_id,
                           form=_retention_form(flow_id),
                           saved=request.args.get("saved") == "1", summary=[])


@bp.post("/<flow_id>/retention")
@admin_only
def set_retention(flow_id: str):
    _flow_known(flow_id)
    form = RetentionForm(request.form)
    if not form.validate():
        return render_template("studio/retention.html", flow_id=flow_id, form=form,
                               saved=False, summary=form.summary()), 422
    get_store().set_retention(flow_id, form.value, actor())
    return redirect(url_for("studio_numbers.retention", flow_id=flow_id, saved=1), 303)


# ---------------------------------------------------------------- the dashboard


@bp.get("/<flow_id>/v/<id:version>/dashboard")
@studio_only
def dashboard_page(flow_id: str, version: int):
    flow = _flow_or_404(flow_id, version)
    s = get_store()
    found = s.version_figures(flow_id, version)
    languages = list(dict.fromkeys([*flow.languages, *(g["locale"] for g in found["groups"])]))
    language = dashboard.choose(request.args.get("language"), languages)
    device = dashboard.choose(request.args.get("device"), dashboard.DEVICE_KINDS)
    numbers = dashboard.figures(flow, found, s.completion_times(flow_id, version),
                                language, device)

    def link(**change) -> str:
        args = {"language": language, "device": device, **change}
        return url_for("studio_numbers.dashboard_page", flow_id=flow_id, version=version,
                       **{k: v for k, v in args.items() if v != dashboard.ALL})

    filters = [
        {"name": gettext("Language"), "options": [
            {"text": gettext("All"), "href": link(language=dashboard.ALL),
             "current": language == dashboard.ALL}] + [
            {"text": _language_name(code), "href": link(language=code),
             "current": language == code} for code in languages]},
        {"name": gettext("Device"), "options": [
            {"text": gettext("All"), "href": link(device=dashboard.ALL),
             "current": device == dashboard.ALL}] + [
            {"text": gettext(DEVICE_NAMES[kind]), "href": link(device=kind),
             "current": device == kind} for kind in dashboard.DEVICE_KINDS]},
    ]
    for row in numbers["by_language"]:
        row["name"] = _language_name(row["key"])
    for row in numbers["by_device"]:
        row["name"] = gettext(DEVICE_NAMES.get(row["key"], row["key"]))
    is_admin = current_user.role == "admin"
    return render_template(
        "studio/dashboard.html", flow=flow, numbers=numbers, filters=filters,
        filtered=language != dashboard.ALL or device != dashboard.ALL,
        time_taken=_time_taken(numbers["median_seconds"]), median_min=dashboard.MEDIAN_MIN,
        is_admin=is_admin, form=_retention_form(flow_id) if is_admin else None,
        versions=[v["version"] for v in s.versions(flow_id)], summary=[])


# ---------------------------------------------------------------- exports


def _exported(flow, fmt: str):
    """The completed sessions of a version as the export shows them, with the audit line
    that says an admin took them."""
    s = get_store()
    sessions = dashboard.export_sessions(flow, s.completed_answers(flow.id, flow.version))
    s.audit(actor(), "export", None, {"flow": flow.id, "version": flow.version,
                                      "format": fmt, "rows": len(sessions)})
    return sessions


def _download(body: str, flow, ext: str, mimetype: str) -> Response:
    day = datetime.date.today().isoformat()
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{flow.id}-v{flow.version}-{day}.{ext}"')
    return response


@bp.get("/<flow_id>/v/<id:version>/export.csv")
@admin_only
def export_csv(flow_id: str, version: int):
    flow = _flow_or_404(flow_id, version)
    fixed = (gettext("Row"), gettext("Language"), gettext("Started"), gettext("Confirmed"))
    out = io.StringIO()
    # A byte order mark first: without it Excel and WPS read UTF-8 as the local code page.
    out.write("\ufeff")
    csv.writer(out).writerows(dashboard.csv_rows(flow, _exported(flow, "csv"), fixed))
    return _download(out.getvalue(), flow, "csv", "text/csv; charset=utf-8")


@bp.get("/<flow_id>/v/<id:version>/export.json")
@admin_only
def export_json(flow_id: str, version: int):
    flow = _flow_or_404(flow_id, version)
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    body = dashboard.json_export(flow, _exported(flow, "json"), stamp)
    return _download(json.dumps(body, ensure_ascii=False, indent=1), flow, "json",
                     "application/json")
