"""The forms of letting a helper in: the family's offer, and the helper's pages (enter a code,
start for a family, a note, hand over). Flask-WTF forms; CSRF is checked for every POST by
CSRFProtect, so they do not check it again. Text fields are shown by the step pages' macros
(forms.PageField)."""

from __future__ import annotations

from flask_babel import gettext
from wtforms import BooleanField, RadioField
from wtforms.validators import ValidationError

from . import i18n, security
from .flow.fieldtypes import N_
from .forms import OptionalPageField, PageField, PageForm, PageTextarea

LABEL_MAX = 40
NOTE_MAX = 1000


_Form = PageForm
_Optional = OptionalPageField
_Textarea = PageTextarea


def _label_ok(form, field) -> None:
    field.data = " ".join((field.data or "").split())[:LABEL_MAX]


class OfferForm(_Form):
    """The family's "Let a helper see and change my answers"."""

    label = _Optional(N_("What should the helper call you?"), hint=lambda: gettext(
        "For example “Building 3, Mrs Li”. Not your child's name."),
        attrs={"maxlength": LABEL_MAX, "autocomplete": "off"}, validators=[_label_ok])


class AcceptForm(_Form):
    """A helper types (or the QR code fills in) the family's 6-digit code."""

    code = PageField(N_("The family's 6-digit code"), hint=lambda: gettext(
        "The family sees it on their phone, under “Let a helper see and change my answers”."),
        attrs={"inputmode": "numeric", "autocomplete": "off", "maxlength": 12,
               "class": "input-code"})

    def validate_code(self, field) -> None:
        field.data = security.normalise_grant_code((field.data or "")[:40])
        if field.data is None:
            raise ValidationError(gettext(
                "Enter the 6 digits the family's phone shows, like 407 219"))


class StartForm(_Form):
    """A helper starts a walkthrough for a family on the helper's own phone."""

    label = PageField(N_("A name for this family"), hint=lambda: gettext(
        "Only helpers see it. For example “Building 3, Mrs Li”. Not the child's name."),
        attrs={"maxlength": LABEL_MAX, "autocomplete": "off"}, validators=[_label_ok])
    family_lang = RadioField(choices=list(i18n.LANGUAGES), default=i18n.DEFAULT)
    consent = BooleanField()
    present = BooleanField()

    def validate_label(self, field) -> None:
        if not field.data:
            raise ValidationError(gettext("Enter a name for this family"))

    def validate_consent(self, field) -> None:
        if not field.data:
            raise ValidationError(gettext(
                "The guardian must agree before you save their answers: read them the text "
                "above, then tick the box"))


class NoteForm(_Form):
    note = _Textarea(N_("Note for helpers about this step"), hint=lambda: gettext(
        "Only helpers see notes. Do not copy answers here."),
        attrs={"maxlength": NOTE_MAX})

    def validate_note(self, field) -> None:
        field.data = (field.data or "").strip()[:NOTE_MAX]
        if not field.data:
            raise ValidationError(gettext("Write the note first"))


class HandOverForm(_Form):
    """The guardian chooses a PIN (when the walkthrough cannot be opened with the child's
    birth date yet) before the helper shows the code."""

    pin = _Optional(N_("A 4-digit PIN the guardian chooses"), secret=True, hint=lambda: gettext(
        "The guardian types it: they need it, with the code, to open the answers."), attrs={
            "inputmode": "numeric", "pattern": "[0-9]*", "maxlength": 4, "autocomplete": "off",
            "class": "input-short"})
