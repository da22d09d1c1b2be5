"""What a step page shows for each field, built from the field registry.

Validation itself lives in the field registry and the engine (`engine.read_step`), so the step
pages, the offline sync API and the tests share one set of rules; Flask-WTF's CSRFProtect
guards every POST (templates add `csrf_token()`). This module turns fields, answers and errors into plain
view objects, so the templates only display.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Mapping

from flask_babel import format_date, format_decimal, gettext
from markupsafe import Markup, escape

from . import engine, i18n
from .engine import Journey
from .flow import fieldtypes, markdown
from .flow.fieldtypes import Invalid
from .flow.model import Field, Flow, Step


@dataclass
class ChoiceView:
    value: str
    id: str
    label: Markup
    official: str | None
    hint: Markup | None
    checked: bool
    help: Markup | None = None


@dataclass
class FieldView:
    field: Field
    id: str
    widget: str
    label: Markup
    official: str | None
    hint: Markup | None
    help: Markup | None
    value: Any
    error: str | None = None
    choices: list[ChoiceView] = field(default_factory=list)
    attrs: dict = field(default_factory=dict)
    required: bool = True
    shown_value: str = ""  # calculated fields
    confirm: str | None = None  # name of the box that confirms the answer despite a warning

    @property
    def first_input(self) -> str:
        """Where an error summary link should land: the first box of the field."""
        if self.widget == "date":
            return f"{self.id}-{i18n.DATE_ORDER[i18n.current()][0]}"
        return self.id


def summary(views: list[FieldView]) -> list[dict]:
    """The error summary's links, in page order."""
    return [{"href": f"#{v.first_input}", "text": v.error} for v in views if v.error]


def raw_from_form(step_fields: tuple[Field, ...], form) -> dict[str, Any]:
    """The submitted values of a step's fields, in the shape the field registry reads."""
    raw: dict[str, Any] = {}
    for f in step_fields:
        widget = fieldtypes.REGISTRY[f.type].widget
        if widget == "date":
            raw[f.id] = {part: form.get(f"{f.id}-{part}", "") for part in ("day", "month", "year")}
        elif widget in ("checkboxes", "checklist"):
            raw[f.id] = form.getlist(f.id)
        else:
            raw[f.id] = form.get(f.id, "")
        if f.script:
            raw[engine.confirm_key(f)] = form.get(engine.confirm_key(f), "")
    return raw


def raw_from_answer(f: Field, value: Any) -> Any:
    """A stored answer as the form shows it again."""
    if value is None:
        return {} if f.type == "date" else ""
    if f.type == "date":
        day = datetime.date.fromisoformat(value)
        return {"day": str(day.day), "month": str(day.month), "year": str(day.year)}
    if f.type == "yes_no":
        return "yes" if value else "no"
    if isinstance(value, list):
        return value
    return str(value)


def error_text(f: Field, error: Invalid, flow: Flow) -> str:
    own = error.flow_message(f)
    if own:
        return i18n.plain(own, flow.default_language)
    params = {k: (format_date(v, "long") if isinstance(v, datetime.date) else v)
              for k, v in error.params.items()}
    return gettext(error.default_message()).format(**params)


def _md_inline(text, flow: Flow) -> Markup | None:
    value = i18n.plain(text, flow.default_language)
    return Markup(markdown.render_inline(value)) if value else None


def _md(text, flow: Flow) -> Markup | None:
    value = i18n.plain(text, flow.default_language)
    return Markup(markdown.render(value)) if value else None


def step_fields(flow: Flow, j: Journey, step: Step, raw: Mapping[str, Any],
                errors: Mapping[str, Invalid]) -> list[FieldView]:
    views = []
    for f in j.visible_fields(step):
        ftype = fieldtypes.REGISTRY[f.type]
        value = raw.get(f.id, {} if f.type == "date" else "")
        fid = f"f-{f.id}"
        view = FieldView(
            field=f, id=fid, widget=ftype.widget,
            label=i18n.flow_text(f.label, flow.default_language),
            official=i18n.official_term(f.label, f.official, flow.default_language),
            hint=_md_inline(f.hint, flow), help=_md(f.help, flow),
            value=value, attrs=ftype.attrs(f), required=f.required,
            error=error_text(f, errors[f.id], flow) if f.id in errors else None,
            confirm=engine.confirm_key(f)
            if f.id in errors and errors[f.id].code in fieldtypes.WARNINGS else None,
        )
        picked = value if isinstance(value, list) else [value]
        if f.type == "yes_no":
            view.choices = [
                ChoiceView(v, fid if v == "yes" else f"{fid}-no", Markup(escape(label)),
                           _yes_no_official(label, v), None, v in picked)
                for v, label in (("yes", gettext("Yes")), ("no", gettext("No")))]
        for i, c in enumerate(j.choices(f)):
            view.choices.append(ChoiceView(
                value=c.value, id=fid if i == 0 else f"{fid}-{c.value}",
                label=i18n.flow_text(c.label, flow.default_language),
                official=i18n.official_term(c.label, c.official, flow.default_language),
                hint=_md_inline(c.hint, flow), checked=c.value in picked,
                help=_md(c.help, flow),
            ))
        if not f.is_input and not errors:
            # Worked out from saved answers: hidden while the page shows typed, unsaved ones.
            view.shown_value = display(flow, f, j.calculated(f.id))
        views.append(view)
    return views


def display(flow: Flow, f: Field, value: Any) -> str:
    """An answer as a person reads it on the review page and the answer sheet."""
    if fieldtypes.is_empty(value):
        return ""
    if f.type == "date":
        return format_date(datetime.date.fromisoformat(value), "long")
    if f.type == "yes_no":
        return gettext("Yes") if value else gettext("No")
    if f.type in ("choice",):
        c = f.choice(value)
        return i18n.plain(c.label, flow.default_language) if c else str(value)
    if f.type in ("multichoice", "checklist"):
        return i18n.join_list(i18n.plain(c.label, flow.default_language)
                              for v in value if (c := f.choice(v)))
    if f.type == "decimal" or (f.type == "calculated" and isinstance(value, float)):
        shown = format_decimal(value)
    elif f.type == "resident_id":
        shown = f"{value[:6]} {value[6:14]} {value[14:]}"
    elif f.type == "mobile":
        shown = f"{value[:3]} {value[3:7]} {value[7:]}"
    else:
        shown = str(value)
    if f.unit:
        shown = f"{shown} {i18n.plain(f.unit, flow.default_language)}"
    return shown


def copied_digit_by_digit(f: Field) -> bool:
    """An answer the family copies digit by digit (ID, mobile): shown on one line."""
    return f.type in ("resident_id", "mobile")


# Yes and No as the official forms write them.
YES_NO_OFFICIAL = {"yes": "是", "no": "否"}


def _yes_no_official(label: str, value: str) -> str | None:
    """是 or 否 beside Yes or No, unless the page's own word already is it."""
    official = YES_NO_OFFICIAL[value]
    return None if label == official else official


def official_display(flow: Flow, f: Field, value: Any) -> str | None:
    """The value in the government form's own words, where the flow gives them (choices, yes
    and no) and they say something the label does not."""
    if f.type == "choice":
        c = f.choice(value)
        if c is not None:
            return i18n.official_term(c.label, c.official, flow.default_language)
    if f.type == "yes_no" and isinstance(value, bool):
        word = "yes" if value else "no"
        return _yes_no_official(gettext("Yes") if value else gettext("No"), word)
    return None
