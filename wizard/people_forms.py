"""The forms of helpers' accounts: signing in, changing one's password, an admin's new account
and password reset, and the audit log's filters. Flask-WTF forms shown by the step pages'
macros (forms.PageField); CSRF is checked for every POST by CSRFProtect, so they do not check
it again.

The rules for logins and passwords are here once, for these forms and for
`wizard create-user`: `login_problem` and `password_problem` give an English msgid (with
%(...)s placeholders), which a form translates and the command line prints as it is.
"""

from __future__ import annotations

import datetime
import re
import secrets

from flask_babel import gettext
from markupsafe import Markup
from wtforms.validators import ValidationError

from . import i18n, security
from .accounts import MIN_PASSWORD, ROLES
from .flow.fieldtypes import N_
from .forms import OptionalPageField, PageField, PageForm

LOGIN_MAX = 40
# Lower-case ASCII: what a phone keyboard types without surprises, and no two logins that
# look alike (the database also matches logins without regard to case).
LOGIN_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")
# How the audit log names whoever is not an account: a login must never read the same.
OTHER_ACTORS = ("family", "anonymous", "resume", "cli")
# Long enough for any passphrase; a hash of megabytes of text would only cost the server.
PASSWORD_MAX = 200
TEXT_MAX = 80
ACTION_MAX = 60
# One-time passwords: no 0/o, 1/i/l, 2/z, 5/s, 8/b, easy to read out and type on a phone.
OTP_ALPHABET = "acdefghjkmnpqrtuvwxy34679"


def one_time_password() -> str:
    """A password an admin gives someone once (they must change it at first sign-in): three
    groups of four, like "kd7m-4pqx-hc3t", 25**12 (about 2**55) possibilities."""
    return "-".join("".join(secrets.choice(OTP_ALPHABET) for _ in range(4)) for _ in range(3))


def normal_login(text: str) -> str:
    return (text or "").strip().lower()


def login_problem(login: str) -> str | None:
    """What is wrong with a new login (already normalised), as a msgid; None when fine."""
    if not LOGIN_PATTERN.fullmatch(login):
        return N_("A login is 2 to 40 lower-case letters, digits, dots, dashes or underscores, "
                  "starting with a letter or digit, like wang.fang")
    if login in OTHER_ACTORS:
        return N_("This word is kept for the audit log: choose another login")
    return None


def password_problem(password: str, login: str) -> str | None:
    """What is wrong with a new password, as a msgid with %(min)d; None when fine."""
    if len(password) < MIN_PASSWORD:
        return N_("A password needs at least %(min)d characters")
    if len(password) > PASSWORD_MAX:
        return N_("A password can have at most %(max)d characters")
    if password.strip().lower() == login.strip().lower():
        return N_("A password must not be the login")
    return None


def _tidy(text: str | None) -> str:
    """One line of text as typed on a phone: runs of spaces (and a pasted line break) made one
    space."""
    return " ".join((text or "").split())


# ---------------------------------------------------------------- fields


_Form = PageForm
OptionalField = OptionalPageField


class PasswordField(PageField):
    """Typed as dots (type="password", see the text_input macro), never shown again, never
    trimmed (spaces may be part of it)."""

    def __init__(self, label=None, validators=None, *, attrs=None, **kwargs):
        attrs = {"type": "password", "autocapitalize": "none", "spellcheck": "false",
                 "maxlength": PASSWORD_MAX, **(attrs or {})}
        super().__init__(label, validators, attrs=attrs, secret=True, **kwargs)


class RadiosField(PageField):
    """One of a few choices, shown as the step pages' radios. `choices` are (value, label)
    with the label a msgid (translated when shown) or Markup shown as it is."""

    macro = "radios"

    def __init__(self, label=None, validators=None, *, choices, hints=None,
                 message=N_("Choose one of the options"), **kwargs):
        super().__init__(label, validators, **kwargs)
        self.choice_list, self.hints, self.message = list(choices), hints or {}, message

    @property
    def options(self) -> list[dict]:
        return [{"id": f"{self.id}-{value}", "value": value, "checked": self.data == value,
                 "label": text if isinstance(text, Markup) else gettext(text),
                 "hint": gettext(self.hints[value]) if value in self.hints else None,
                 "help": None, "official": None}
                for value, text in self.choice_list]

    @property
    def first_input(self) -> str:
        return f"{self.id}-{self.choice_list[0][0]}"

    def pre_validate(self, form) -> None:
        if self.data not in {value for value, _text in self.choice_list}:
            self.data = None
            raise ValidationError(gettext(self.message))


ROLE_LABELS = {"volunteer": N_("Volunteer"), "staff": N_("Staff"), "admin": N_("Administrator")}
ROLE_HINTS = {
    "volunteer": N_("Helps families who let them in with a code."),
    "staff": N_("Community staff: helps families like a volunteer."),
    "admin": N_("Also adds and disables accounts, resets passwords and reads the audit log."),
}


def _language_choices() -> list[tuple[str, Markup]]:
    # Each language named in itself, marked so that a screen reader reads it in that language.
    return [(code, Markup('<span lang="{}">{}</span>').format(tag, name))
            for code, (name, tag, _dir) in i18n.LANGUAGES.items()]


# ---------------------------------------------------------------- signing in


class SignInForm(_Form):
    login = PageField(N_("Login"), attrs={
        "autocomplete": "username", "autocapitalize": "none", "spellcheck": "false",
        "maxlength": 100})
    password = PasswordField(N_("Password"), attrs={"autocomplete": "current-password"})

    def validate_login(self, field) -> None:
        field.data = (field.data or "").strip()[:100]
        if not field.data:
            raise ValidationError(gettext("Enter your login"))

    def validate_password(self, field) -> None:
        if not field.data:
            raise ValidationError(gettext("Enter your password"))


class PasswordForm(_Form):
    """A signed-in person's own new password (also after an admin's reset). Whether the
    current password is right is the view's to check (it is rate-limited)."""

    current = PasswordField(N_("Your current password"),
                            attrs={"autocomplete": "current-password"})
    new = PasswordField(N_("New password"), hint=lambda: gettext(
        "At least %(min)d characters. A few words you will remember are best; not your login.",
        min=MIN_PASSWORD), attrs={"autocomplete": "new-password"})
    repeat = PasswordField(N_("New password again"), attrs={"autocomplete": "new-password"})

    def __init__(self, *args, account_login: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.account_login = account_login

    def validate_current(self, field) -> None:
        if not field.data:
            raise ValidationError(gettext("Enter your current password"))

    def validate_new(self, field) -> None:
        if not field.data:
            raise ValidationError(gettext("Enter a new password"))
        problem = password_problem(field.data, self.account_login)
        if problem:
            raise ValidationError(gettext(problem, min=MIN_PASSWORD, max=PASSWORD_MAX))
        if field.data == self.current.data:
            raise ValidationError(gettext("Choose a password different from your current one"))

    def validate_repeat(self, field) -> None:
        if self.new.data and field.data != self.new.data:
            raise ValidationError(gettext("The two new passwords are not the same"))


# ---------------------------------------------------------------- an admin's forms


class AddUserForm(_Form):
    login = PageField(N_("Login"), hint=lambda: gettext(
        "What they type to sign in: lower-case letters, digits, dots or dashes, like wang.fang"),
        attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false",
               "maxlength": LOGIN_MAX})
    name = PageField(N_("Name"), hint=lambda: gettext(
        "Families see it beside every answer this person enters for them."),
        attrs={"autocomplete": "off", "maxlength": TEXT_MAX})
    org = PageField(N_("Organisation"), hint=lambda: gettext(
        "Families see it too. For example “Hope Community Centre”."),
        attrs={"autocomplete": "off", "maxlength": TEXT_MAX})
    role = RadiosField(N_("Role"), choices=[(r, ROLE_LABELS[r]) for r in ROLES],
                       hints=ROLE_HINTS, message=N_("Choose their role"))
    language = RadiosField(N_("Language of their pages"), choices=_language_choices(),
                           default=i18n.DEFAULT, message=N_("Choose their language"))

    def validate_login(self, field) -> None:
        field.data = normal_login(field.data)[:100]
        if not field.data:
            raise ValidationError(gettext("Enter a login"))
        problem = login_problem(field.data)
        if problem:
            raise ValidationError(gettext(problem))

    def validate_name(self, field) -> None:
        field.data = _tidy(field.data)[:TEXT_MAX]
        if not field.data:
            raise ValidationError(gettext("Enter their name"))

    def validate_org(self, field) -> None:
        field.data = _tidy(field.data)[:TEXT_MAX]
        if not field.data:
            raise ValidationError(gettext("Enter their organisation"))


class ResetForm(_Form):
    """An admin's "Reset password" button: nothing to fill in (the CSRF token, checked by
    CSRFProtect, is its only field)."""


# ---------------------------------------------------------------- the audit log's filters

DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date(text: str) -> datetime.date | None:
    if not DATE_PATTERN.fullmatch(text):
        return None
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        return None
    # Far from the ends of the calendar: a day's start is then always a time Python can hold.
    return day if 1900 <= day.year <= 9000 else None


class AuditFilterForm(_Form):
    """The audit page's filters (a GET form: every filter is in the address). `validate`
    checks their shape; which account a login is, the view asks the store."""

    who = OptionalField(N_("Who"), hint=lambda: gettext(
        "A login, or family, anonymous (not signed in), resume (a family's resume code) or "
        "cli (the command line)"), attrs={"autocomplete": "off", "autocapitalize": "none",
                                         "spellcheck": "false", "maxlength": 100})
    action = OptionalField(N_("Action"), hint=lambda: gettext(
        "For example sign-in, sign-in-failed, user-disabled, grant-accepted"),
        attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false",
               "maxlength": ACTION_MAX})
    session = OptionalField(N_("Session number"), attrs={
        "inputmode": "numeric", "pattern": "[0-9]*", "autocomplete": "off",
        "class": "input-short"})
    since = OptionalField(N_("From (date)"), hint=lambda: gettext("Like 2027-03-01"),
                          attrs={"type": "date", "class": "input-date"})
    until = OptionalField(N_("To (date, included)"), hint=lambda: gettext("Like 2027-03-31"),
                          attrs={"type": "date", "class": "input-date"})

    def validate_who(self, field) -> None:
        field.data = (field.data or "").strip()[:100]

    def validate_action(self, field) -> None:
        field.data = (field.data or "").strip()
        if len(field.data) > ACTION_MAX:
            raise ValidationError(gettext("An action has at most %(max)d characters",
                                     max=ACTION_MAX))

    def validate_session(self, field) -> None:
        field.data = (field.data or "").strip()
        if field.data and security.whole_number(field.data) is None:
            raise ValidationError(gettext("Enter a session number in digits, like 42"))

    def validate_since(self, field) -> None:
        self._check_date(field)

    def validate_until(self, field) -> None:
        self._check_date(field)
        start, end = _date(self.since.data or ""), _date(field.data or "")
        if start and end and end < start:
            raise ValidationError(gettext("The “to” date must not be before the “from” date"))

    @staticmethod
    def _check_date(field) -> None:
        field.data = (field.data or "").strip()
        if field.data and _date(field.data) is None:
            raise ValidationError(gettext("Enter a date like 2027-03-01 (year, month, day)"))

    def day(self, name: str) -> datetime.date | None:
        """A date filter after `validate`: the day, or None when left empty."""
        return _date(getattr(self, name).data or "")

    def session_id(self) -> int | None:
        return security.whole_number(self.session.data or "")

    @property
    def used(self) -> bool:
        return any(f.data for f in self)
