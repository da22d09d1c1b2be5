"""The studio's forms: a new flow, the YAML editor, a flow file upload, publishing.

Interface forms shown through the step pages' macros (forms.PageForm). Every form that saves a
draft carries the draft's revision as the editor saw it: store.save_draft refuses a save over
someone else's newer one.
"""

from __future__ import annotations

from typing import Mapping

import wtforms
from flask_babel import gettext
from flask_wtf.file import FileField
from markupsafe import Markup
from wtforms.validators import ValidationError

from . import i18n, security, versions
from .flow import editing
from .flow.fieldtypes import N_
from .forms import PageField, PageForm, PageTextarea
from .people_forms import RadiosField

# A flow id is a slug as the loader checks it (wizard/flow/schema.json).
FLOW_ID = editing.STEP_ID
TITLE_MAX = 120
SOURCE_MAX = 512 * 1024  # the loader refuses bigger flow files anyway


def revision_of(formdata: Mapping) -> int | None:
    return security.whole_number(formdata.get("revision"))


class RevisionField(wtforms.HiddenField):
    def process_formdata(self, valuelist):
        self.data = security.whole_number(valuelist[0]) if valuelist else None

    def pre_validate(self, form) -> None:
        if self.data is None:
            raise ValidationError(gettext("This page is out of date: open it again"))


def _language_choices() -> list[tuple[str, Markup]]:
    return [(code, Markup('<span lang="{}">{}</span>').format(tag, name))
            for code, (name, tag, _dir) in i18n.LANGUAGES.items()]


class NewFlowForm(PageForm):
    flow_id = PageField(N_("Id of the new flow"), hint=lambda: gettext(
        "Lower-case letters, digits and dashes, starting with a letter, like "
        "primary-shanghai. It is part of the walkthrough's address and cannot be changed."),
        attrs={
        "autocapitalize": "none", "spellcheck": "false", "maxlength": 63})
    title = PageField(N_("Title families see"), attrs={"maxlength": TITLE_MAX})
    language = RadiosField(N_("The language you write it in"), choices=_language_choices())

    def validate_flow_id(self, field) -> None:
        field.data = (field.data or "").strip().lower()
        if not FLOW_ID.fullmatch(field.data) or len(field.data) < 2:
            raise ValidationError(gettext(
                "An id is 2 to 63 lower-case letters, digits or dashes, starting with a letter"))

    def validate_title(self, field) -> None:
        field.data = " ".join((field.data or "").split())[:TITLE_MAX]
        if not field.data:
            raise ValidationError(gettext("Enter a title"))


class YamlForm(PageForm):
    source = PageTextarea(N_("The flow as YAML"), attrs={
        "spellcheck": "false", "autocapitalize": "none", "rows": 24, "class": "yaml-source"})
    revision = RevisionField()

    def validate_source(self, field) -> None:
        field.data = (field.data or "").replace("\r\n", "\n")
        if not field.data.strip():
            raise ValidationError(gettext("The flow cannot be empty"))
        if len(field.data) > SOURCE_MAX:
            raise ValidationError(gettext("The text is too long for a flow"))


class UploadForm(PageForm):
    file = FileField(N_("A flow file (.yaml)"))

    def validate_file(self, field) -> None:
        if not field.data or not getattr(field.data, "filename", ""):
            raise ValidationError(gettext("Choose a flow file (.yaml) to upload"))


class PublishForm(PageForm):
    move = RadiosField(N_("Families who are part-way through the current version"), choices=[
        ("move", N_("Move them to the new version (their review page lists what to check)")),
        ("leave", N_("Leave them on the version they started"))])
    revision = RevisionField()

    plan = None  # set by publish_form

    def mapping(self) -> dict[str, str | None]:
        return {name[len("map_"):]: (field.data or None)
                for name, field in self._fields.items() if name.startswith("map_")}

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.move.data == "move" and self.plan is not None and self.plan.old is not None:
            # Checked before anything is published: a mapping that would mix two questions'
            # answers is refused here, not half-way through.
            try:
                versions.full_mapping(self.plan.old, self.plan.new, self.mapping())
            except ValueError as exc:
                self.move.errors.append(gettext(
                    "This mapping would mix answers: %(problem)s", problem=str(exc)))
                return False
        return True


def publish_form(plan, formdata, revision: int, ask_mapping: bool) -> PublishForm:
    """The publishing form, with one question per field that the new version no longer has
    under its id: which new field takes its answers, or none (kept on record only)."""

    class Form(PublishForm):
        pass

    if plan is not None and ask_mapping:
        choices = [("", N_("None: keep the answers on record only"))] + [
            (f.id, Markup("{}").format(f.id)) for f in plan.targets]
        for old in plan.to_map:
            setattr(Form, f"map_{old.id}", RadiosField(
                Markup("{}").format(gettext("Answers to “%(field)s” go to", field=old.id)),
                choices=choices))
    form = Form(formdata, revision=revision)
    form.plan = plan
    if formdata is None and plan is not None:
        form.move.data = "move"
        for old in plan.to_map if ask_mapping else []:
            form[f"map_{old.id}"].data = plan.suggested.get(old.id) or ""
    return form
