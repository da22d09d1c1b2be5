"""Step forms: one WTForms form class per (flow version, step), built from the field registry.

The field registry (flow/fieldtypes.py) is the one source of rules. A form's `validate()` hands
what was typed to `engine.read_step`, which reads every visible field through the registry, and
puts the errors on the fields; `form.errors` and `form.data` are then WTForms' own. The fields
know how to read their input from a form (a date is three boxes), how to show a saved answer
again, and what the page's macro needs to show them. The step page, a page shown again with its
mistakes, and the JSON answers of the sync API (`check_json`) all go through the same form.
CSRF is Flask-WTF's CSRFProtect, for every POST; the resume form is a FlaskForm.

A new field type: one entry in `fieldtypes.REGISTRY` (how to parse and check it), one field
class here, listed in `FIELD_CLASSES` (how to read it from a form and show it again), and one
macro in templates/macros/form.html (how it looks), named by the class's `macro`.
"""

from __future__ import annotations

import datetime
import threading
import weakref
from typing import Any, Mapping

import wtforms
from flask_babel import gettext
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict
from wtforms.utils import unset_value

from . import display, engine, i18n
from .engine import Journey
from .flow import fieldtypes, markdown
from .flow.fieldtypes import N_, Invalid
from .flow.model import Field, Flow, Step

DATE_PARTS = ("day", "month", "year")
# WTForms' own catalogs, for any built-in message that appears (ours come from the registry).
WTFORMS_LOCALES = {"zh_Hans": "zh", "zh_Hant": "zh_TW", "en": "en", "ug": "en"}


def _md_inline(text, flow: Flow) -> Markup | None:
    value = i18n.plain(text, flow.default_language)
    return Markup(markdown.render_inline(value)) if value else None


def _md(text, flow: Flow) -> Markup | None:
    value = i18n.plain(text, flow.default_language)
    return Markup(markdown.render(value)) if value else None


# ---------------------------------------------------------------- fields


class StepField(wtforms.Field):
    """A question of a flow. `raw` is what the page shows in the input (typed or saved), in the
    registry's shape; `data` the typed answer; `invalid` the registry's verdict."""

    macro = "text"  # the macro of templates/macros/form.html that shows it

    def __init__(self, label=None, validators=None, *, spec: Field, flow: Flow, **kwargs):
        super().__init__(label, validators, id=f"f-{spec.id}", **kwargs)
        self.spec = spec
        self.flow = flow
        self.raw = self.raw_from_answer(None)
        self.confirmed = ""  # the box that confirms an answer despite a warning
        self.invalid: Invalid | None = None
        self.journey: Journey | None = None
        self.page_has_errors = False

    # -- reading

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.process_errors = []
        self.data = None if data is unset_value else data
        if formdata is not None:
            self.raw = self.read_input(formdata)
            if self.spec.script:
                self.confirmed = formdata.get(engine.confirm_key(self.spec), "")
        else:
            self.raw = self.raw_from_answer(self.data)

    def read_input(self, formdata) -> Any:
        return formdata.get(self.name, "")

    def raw_from_answer(self, value: Any) -> Any:
        """A saved answer as the input shows it again."""
        return "" if value is None else str(value)

    # -- showing (what the macros read)

    @property
    def label_html(self) -> Markup:
        return i18n.flow_text(self.spec.label, self.flow.default_language)

    @property
    def official(self) -> str | None:
        return i18n.official_term(self.spec.label, self.spec.official, self.flow.default_language)

    @property
    def hint(self) -> Markup | None:
        return _md_inline(self.spec.hint, self.flow)

    @property
    def help(self) -> Markup | None:
        return _md(self.spec.help, self.flow)

    @property
    def attrs(self) -> dict:
        return fieldtypes.REGISTRY[self.spec.type].attrs(self.spec)

    @property
    def required(self) -> bool:
        return self.spec.required

    @property
    def value(self) -> Any:
        return self.raw

    @property
    def error(self) -> str | None:
        return self.errors[0] if self.errors else None

    @property
    def error_code(self) -> str | None:
        return self.invalid.code if self.invalid else None

    @property
    def first_input(self) -> str:
        """Where an error summary link should land: the first box of the field."""
        return self.id

    @property
    def confirm(self) -> str | None:
        """The name of the box that confirms the answer, when it has a warning."""
        if self.invalid and self.invalid.code in fieldtypes.WARNINGS:
            return engine.confirm_key(self.spec)
        return None

    options: list = []
    shown_value = ""


class TextField(StepField):
    pass


class TextareaField(StepField):
    macro = "textarea"


class IntegerField(StepField):
    pass


class DecimalField(StepField):
    pass


class MobileField(StepField):
    pass


class ResidentIdField(StepField):
    pass


class DateField(StepField):
    """Three boxes, in the order people write dates in the page's language; the sync API may
    send one ISO date instead."""

    macro = "date"

    def read_input(self, formdata) -> Any:
        parts = {p: formdata.get(f"{self.name}-{p}", "") for p in DATE_PARTS}
        if not any(parts.values()) and formdata.get(self.name):
            return formdata.get(self.name)
        return parts

    def raw_from_answer(self, value: Any) -> Any:
        if not value:
            return {}
        day = datetime.date.fromisoformat(value)
        return {"day": str(day.day), "month": str(day.month), "year": str(day.year)}

    @property
    def value(self) -> Any:
        return self.raw if isinstance(self.raw, Mapping) else {}

    @property
    def first_input(self) -> str:
        return f"{self.id}-{i18n.DATE_ORDER[i18n.current()][0]}"


class ChoiceField(StepField):
    macro = "radios"

    def _picked(self) -> list:
        return self.raw if isinstance(self.raw, list) else [self.raw]

    @property
    def options(self) -> list[dict]:
        """The choices shown for the answers before this step (conditions may hide some)."""
        picked = self._picked()
        return [{"value": c.value, "id": self.id if i == 0 else f"{self.id}-{c.value}",
                 "label": i18n.flow_text(c.label, self.flow.default_language),
                 "official": i18n.official_term(c.label, c.official, self.flow.default_language),
                 "hint": _md_inline(c.hint, self.flow), "help": _md(c.help, self.flow),
                 "checked": c.value in picked}
                for i, c in enumerate(self.journey.choices(self.spec))]


class MultichoiceField(ChoiceField):
    macro = "checkboxes"

    def read_input(self, formdata) -> Any:
        return formdata.getlist(self.name)

    def raw_from_answer(self, value: Any) -> Any:
        return list(value) if value else ""


class ChecklistField(MultichoiceField):
    macro = "checklist"


class YesNoField(StepField):
    """Yes and No are the interface's words, with 是 and 否 beside them where they differ."""

    macro = "yes_no"

    def raw_from_answer(self, value: Any) -> Any:
        return "" if value is None else ("yes" if value else "no")

    @property
    def options(self) -> list[dict]:
        return [{"value": v, "id": self.id if v == "yes" else f"{self.id}-no",
                 "label": Markup(escape(word)), "official": display.yes_no_official(word, v),
                 "hint": None, "help": None, "checked": self.raw == v}
                for v, word in (("yes", gettext("Yes")), ("no", gettext("No")))]


class CalculatedField(StepField):
    """Worked out from saved answers, never typed."""

    macro = "calculated"

    def read_input(self, formdata) -> Any:
        return ""

    @property
    def shown_value(self) -> str:
        # Hidden while the page shows typed, unsaved answers: it would not match them.
        if self.page_has_errors:
            return ""
        return display.display(self.flow, self.spec, self.journey.calculated(self.spec.id))


FIELD_CLASSES: dict[str, type[StepField]] = {
    "text": TextField, "textarea": TextareaField, "integer": IntegerField,
    "decimal": DecimalField, "date": DateField, "choice": ChoiceField,
    "multichoice": MultichoiceField, "yes_no": YesNoField, "mobile": MobileField,
    "resident_id": ResidentIdField, "calculated": CalculatedField, "checklist": ChecklistField,
}


# ---------------------------------------------------------------- the step form


class StepForm(wtforms.Form):
    """The form of one step, bound to a family's journey (which fields and choices show)."""

    # Underscored: a flow's field ids become attribute names of the form too.
    _journey: Journey
    _step: Step
    _answers: Mapping[str, Any]
    _values: dict[str, Any]

    def visible(self) -> list[StepField]:
        return [self[f.id] for f in self._journey.visible_fields(self._step)]

    def typed(self) -> dict[str, Any]:
        """What the visible questions hold, in the shape the registry reads (for a draft)."""
        raw: dict[str, Any] = {}
        for field in self.visible():
            if field.spec.is_input:
                raw[field.name] = field.raw
                if field.spec.script:
                    raw[engine.confirm_key(field.spec)] = field.confirmed
        return raw

    def validate(self, extra_validators=None) -> bool:
        """Every visible answer through the registry (engine.read_step)."""
        self._values, errors = engine.read_step(self._journey, self._step, self.typed(),
                                                self._answers)
        for field in self.visible():
            self.mark(field.name, errors.get(field.name))
            if field.name in self._values:
                field.data = self._values[field.name]
        return not errors

    def mark(self, field_id: str, invalid: Invalid | None) -> None:
        field = self[field_id]
        field.invalid = invalid
        field.errors = [display.error_text(field.spec, invalid, self._journey.flow)] \
            if invalid else []
        if invalid is not None:  # a calculated value hides while the page shows mistakes
            for each in self:
                each.page_has_errors = True

    def show_typed(self, raw: Mapping[str, Any], check: bool) -> None:
        """Show what was typed earlier (a draft), with its mistakes when `check`."""
        for field in self.visible():
            if field.name in raw:
                field.raw = raw[field.name]
            if field.spec.script:
                field.confirmed = raw.get(engine.confirm_key(field.spec), "")
        if check:
            self.validate()

    def show_saved(self, field_id: str, value: Any, invalid: Invalid) -> None:
        """Show an answer as it is saved now, with why (another phone changed it)."""
        self[field_id].raw = self[field_id].raw_from_answer(value)
        self.mark(field_id, invalid)

    @property
    def data(self) -> dict[str, Any]:
        """The typed answers of the visible questions, once validated."""
        return dict(getattr(self, "_values", {}))

    def summary(self) -> list[dict]:
        """The error summary's links, in page order."""
        return [{"href": f"#{f.first_input}", "text": f.error} for f in self.visible()
                if f.error]

    def has_mistakes(self) -> bool:
        """An answer typed wrong (not merely a question not answered yet)."""
        return any(f.invalid and not f.invalid.code.startswith("required")
                   for f in self.visible())


# Form classes per loaded flow (by the object, not by id and version: a studio draft previewed
# as version 2 is not the version 2 published later), dropped when that flow object goes.
_classes: dict[int, dict[str, type[StepForm]]] = {}
_lock = threading.Lock()


def _form_class(flow: Flow, step: Step) -> type[StepForm]:
    """The form class of a step, made once per loaded flow (published ones stay loaded in
    catalog.py; a draft's are made again for each request that loads it)."""
    per_flow = _classes.get(id(flow))
    if per_flow is None:
        with _lock:
            per_flow = _classes.get(id(flow))
            if per_flow is None:
                per_flow = _classes[id(flow)] = {}
                weakref.finalize(flow, _classes.pop, id(flow), None)
    cls = per_flow.get(step.id)
    if cls is None:
        fields = {f.id: FIELD_CLASSES[f.type](spec=f, flow=flow) for f in step.fields}
        with _lock:
            cls = per_flow.setdefault(step.id, type(f"StepForm_{step.id}", (StepForm,), fields))
    return cls


def step_form(flow: Flow, j: Journey, step: Step, answers: Mapping[str, Any],
              formdata=None) -> StepForm:
    """The step's form with the saved answers, or with what was submitted (`formdata`)."""
    saved = {f.id: answers[f.id] for f in step.fields if f.id in answers}
    form = _form_class(flow, step)(formdata=formdata, data=saved,
                                   meta={"locales": [WTFORMS_LOCALES[i18n.current()]]})
    form._journey, form._step, form._answers = j, step, answers
    for field in form:
        field.journey = j
    return form


def check_json(flow: Flow, j: Journey, step: Step, payload: Mapping[str, Any],
               answers: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, dict]]:
    """A step's answers sent as JSON (the sync API), checked by the step's own form: (typed
    answers, {field id: {"code", "message"}}) with the codes and messages the page shows."""
    formdata = MultiDict()
    for key, value in payload.items():
        if isinstance(value, Mapping):  # a date as its three boxes
            for part in DATE_PARTS:
                formdata.add(f"{key}-{part}", str(value.get(part, "")))
        elif isinstance(value, (list, tuple)):
            for item in value:
                formdata.add(key, str(item))
        elif isinstance(value, bool):
            formdata.add(key, "yes" if value else "no")
        elif value is not None:
            formdata.add(key, str(value))
    form = step_form(flow, j, step, answers, formdata=formdata)
    form.validate()
    problems = {f.name: {"code": f.invalid.code, "message": f.error}
                for f in form.visible() if f.invalid}
    return form.data, problems


# ---------------------------------------------------------------- the resume form


class PageField(wtforms.StringField):
    """An interface question (not a flow's) shown through the same macros."""

    macro = "text"
    official = None
    help = None
    required = True
    options: list = []
    shown_value = ""
    confirm = None
    error_code = None

    def __init__(self, label=None, validators=None, *, hint=None, attrs=None, secret=False,
                 **kwargs):
        super().__init__(label, validators, id=f"f-{kwargs['name']}", **kwargs)
        self.hint_text, self.attrs, self.secret = hint, attrs or {}, secret

    @property
    def label_html(self) -> Markup:
        return Markup(escape(gettext(self.label.text)))

    @property
    def hint(self) -> str | None:
        return self.hint_text() if callable(self.hint_text) else self.hint_text

    @property
    def value(self) -> Any:
        return "" if self.secret else (self.data or "")  # a PIN is never shown again

    @property
    def error(self) -> str | None:
        return self.errors[0] if self.errors else None

    @property
    def first_input(self) -> str:
        return self.id


class OptionalPageField(PageField):
    required = False


class PageTextarea(PageField):
    macro = "textarea"


class PageForm(FlaskForm):
    """An interface form (not a flow's step) shown through the step pages' macros. CSRF is
    checked for every POST by CSRFProtect, so the form does not check it again."""

    class Meta:
        csrf = False

    def summary(self) -> list[dict]:
        return [{"href": f"#{getattr(f, 'first_input', f.id)}", "text": f.errors[0]}
                for f in self if f.errors]

    def has_errors(self) -> bool:
        return any(f.errors for f in self)


class PageDateField(PageField):
    macro = "date"

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.process_errors = []
        self.data = {p: (formdata.get(f"{self.name}-{p}", "") if formdata else "")
                     for p in DATE_PARTS}

    @property
    def value(self) -> Any:
        return self.data

    @property
    def first_input(self) -> str:
        return f"{self.id}-{i18n.DATE_ORDER[i18n.current()][0]}"


def _example_date() -> str:
    """15 March 2024 written in the order of the date boxes on this page."""
    parts = {"day": "15", "month": "3", "year": "2024"}
    return gettext("For example %(date)s",
                   date=" ".join(parts[p] for p in i18n.DATE_ORDER[i18n.current()]))


class ResumeForm(FlaskForm):
    """Carry on with a saved walkthrough: the code, and the child's birth date or a PIN.
    CSRF is checked for every POST by CSRFProtect, so this form does not do it again."""

    class Meta:
        csrf = False

    # Labels are translated when shown (label_html); N_ marks them for extraction.
    code = PageField(N_("Your code"), hint=lambda: gettext(
        "8 letters and numbers, like KD7M 4PQX"), attrs={
            "autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
            "maxlength": 20, "class": "input-code"})
    dob = PageDateField(N_("Your child's date of birth"), hint=_example_date)
    pin = PageField(N_("Or your 4-digit PIN, if you chose one"), secret=True, attrs={
        "inputmode": "numeric", "pattern": "[0-9]*", "maxlength": 4, "autocomplete": "off",
        "class": "input-short"})

    def summary(self) -> list[dict]:
        return [{"href": f"#{f.first_input}", "text": f.error} for f in self if f.error]
