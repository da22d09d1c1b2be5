"""The field type registry: for each type, how to read what a person typed, which rules to check,
and which HTML attributes help a phone keyboard.

Pure Python. Errors are `Invalid(code, **params)`; the web layer turns a code into a sentence in
the page's language (the English defaults below are the gettext msgids, marked with N_ so that
Babel extracts them) unless the flow gives its own message for that rule.
"""

from __future__ import annotations

import datetime
import logging
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Mapping

import regex

from .model import Field, Text


def N_(message: str) -> str:
    """Marks a msgid for extraction without translating it here (no Flask in this package)."""
    return message


# Default messages by code. Placeholders are filled with str.format(**params).
MESSAGES: dict[str, str] = {
    "required": N_("Answer this question"),
    "required_choice": N_("Choose an answer"),
    "required_date": N_("Enter a date"),
    "too_long": N_("Use {max} characters or fewer (you used {length})"),
    "too_short": N_("Use at least {min} characters"),
    "pattern": N_("Check the format of this answer"),
    "hidden_characters": N_(
        "This answer contains hidden characters, often from copying and pasting. "
        "Delete it and type it again."
    ),
    "nothing_visible": N_("This answer has no letters or numbers. Type it again."),
    "not_integer": N_("Enter a whole number, like 12"),
    "not_number": N_("Enter a number, like 12.5"),
    "too_many_places": N_("Use at most {places} digits after the decimal point"),
    "too_small": N_("Enter a number of {min} or more"),
    "too_large": N_("Enter a number of {max} or less"),
    "date_incomplete": N_("Enter a day, a month and a year"),
    "date_not_numbers": N_("Use numbers for the day, month and year, like 15 3 2023"),
    "date_invalid": N_("Enter a real date: check the day and month"),
    "date_too_early": N_("The date must be on or after {min}"),
    "date_too_late": N_("The date must be on or before {max}"),
    "not_a_choice": N_("Choose one of the options shown"),
    "too_few_choices": N_("Choose at least {min}"),
    "too_many_choices": N_("Choose at most {max}"),
    "not_yes_no": N_("Choose yes or no"),
    "mobile_invalid": N_(
        "Enter an 11-digit mainland mobile number that starts with 1, like 138 0013 8000"
    ),
    "id_length": N_("A resident ID number has 18 characters; you entered {length}"),
    "id_chars": N_("Use only digits, with X allowed as the last character"),
    "id_birth_date": N_(
        "Characters 7 to 14 should be a birth date, but {digits} is not a real date: "
        "check them again"
    ),
    "id_birth_too_early": N_(
        "Characters 7 to 14 give a birth date of {date}, which is too early to be right: "
        "check them again"
    ),
    "id_birth_future": N_(
        "Characters 7 to 14 give a birth date of {date}, which is in the future: "
        "check them again"
    ),
    # Never say what the last character "should be": the typo is usually earlier, and a
    # parent told the expected digit would change the last one and make a wrong number pass.
    "id_check_digit": N_(
        "One of the digits is wrong. Compare the number with the household register (户口簿), "
        "one digit at a time"
    ),
    "id_birth_mismatch": N_(
        "The birth date in this number ({found}) is not the date of birth you gave ({expected})"
    ),
    "too_big": N_("This answer is too long"),
    # A soft warning (see script_warning): the family may confirm the answer as it is.
    "script_han": N_(
        "The official form needs the name exactly as in the household register (户口簿), "
        "usually in Chinese characters. If it is written this way there, tick the box below."
    ),
    "changed_elsewhere": N_(
        "This answer was changed on another phone while this page was open. The new answer is "
        "shown: check it, then continue."
    ),
}

# Which optional flow key overrides the message for which codes.
OVERRIDES: dict[str, tuple[str, ...]] = {
    "required_message": ("required", "required_choice", "required_date"),
    "length_message": ("too_long", "too_short", "too_few_choices", "too_many_choices"),
    "range_message": ("too_small", "too_large", "date_too_early", "date_too_late"),
    "pattern_message": ("pattern",),
}

# A hard ceiling on any typed answer, whatever the flow says: stops a 10 MB "name".
MAX_TEXT = 2000


class Invalid(Exception):
    """An answer that breaks a rule. `code` picks the message; params fill it in."""

    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.code = code
        self.params = params

    def flow_message(self, field: Field) -> Text | None:
        """The flow's own message for this error, if the author wrote one."""
        for key, codes in OVERRIDES.items():
            if self.code in codes and getattr(field, key):
                return getattr(field, key)
        return None

    def default_message(self) -> str:
        return MESSAGES.get(self.code, self.code)

    def __repr__(self) -> str:
        return f"Invalid({self.code!r}, {self.params!r})"


def resolve_date_bound(bound: Any, today: datetime.date) -> datetime.date | None:
    if bound is None:
        return None
    if bound == "today":
        return today
    return datetime.date.fromisoformat(str(bound))


def _one(raw: Any) -> str:
    """A single submitted string (forms may send lists; extra values are ignored)."""
    if raw is None:
        return ""
    if isinstance(raw, (list, tuple)):
        raw = raw[0] if raw else ""
    if not isinstance(raw, str):
        raw = str(raw)
    if len(raw) > MAX_TEXT * 4:
        raise Invalid("too_big")
    return raw


# Invisible characters that are removed without a word. Direction marks (LRM, RLM, ALM) are
# put in by Uyghur keyboards and come along when text is copied from a right-to-left page; they
# only nudge how neighbouring punctuation is drawn, never which letters an answer has, so
# refusing them would block a family over something they cannot see or delete. Zero-width
# spaces and joiners come from copying too (some web pages put them inside phone numbers); none
# of our answers needs them (names and addresses are copied into the official app, where a
# hidden joiner makes the same name not match), so they go as well. An answer made of nothing
# else is refused (hidden_characters), not treated as empty: something was typed or pasted.
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
_DIRECTION_MARKS = "\u200e\u200f\u061c"
_REMOVED = {ord(c): None for c in _ZERO_WIDTH + _DIRECTION_MARKS}

# Embeddings, overrides and isolates reorder the letters shown without being shown, so the
# answer sheet could read differently from what is stored. Refused, not removed: we cannot
# tell which order the family meant.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# Letters that draw as blank space (Hangul fillers, the empty Braille cell), a known way of
# making a name look filled in; trimming cannot see them because they are not whitespace.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")

# Categories that cannot be an answer's only content. Private-use (Co) and unassigned (Cn)
# characters do count as visible: some rare characters in Chinese names live in the private-use
# area, and a character newer than this Python's Unicode tables is still a real character.
_NOT_VISIBLE = frozenset(("Cc", "Cf", "Cs", "Zs", "Zl", "Zp", "Mn", "Mc", "Me"))


def _visible(char: str) -> bool:
    return char not in _BLANK_LOOKING and unicodedata.category(char) not in _NOT_VISIBLE


def _normalise_digits(text: str) -> str:
    """Full-width digits and letters (common on Chinese keyboards) to ASCII, and invisible
    characters removed. Other scripts' digits are left alone, for the [0-9] patterns to refuse:
    the answer sheet is copied into an official app that only takes 0-9."""
    text = text.translate(_REMOVED)
    return text.translate({c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}).replace("\u3000", " ")


@dataclass(frozen=True)
class FieldType:
    name: str
    widget: str  # which template macro renders it
    parse: Callable[[Field, Any], Any]  # raw form input -> typed value or None (empty)
    check: Callable[[Field, Any, Mapping[str, Any], datetime.date], None] = (
        lambda f, v, a, t: None
    )
    attrs: Callable[[Field], dict] = lambda f: {}
    empty_code: str = "required"


# ---------------------------------------------------------------- text


def _parse_text(field: Field, raw: Any) -> str | None:
    # Browsers send line breaks as \r\n; U+2028/2029 come from pasted documents.
    text = re.sub("\r\n?|[\u2028\u2029]", "\n", _one(raw))
    for char in text:
        # Lone surrogates (Cs) can arrive through the JSON sync API and cannot be stored.
        if char in _BIDI_CONTROLS or (
            unicodedata.category(char) in ("Cc", "Cs") and char not in "\t\n"
        ):
            raise Invalid("hidden_characters")
    # NFC after removing, since a removed character may sit between a letter and its accent.
    # Any Unicode whitespace is trimmed, so an answer of only (ideographic, no-break...) spaces
    # is empty, like one of ordinary spaces: the family sees an empty box, and "required" says so.
    cleaned = unicodedata.normalize("NFC", text.translate(_REMOVED)).strip()
    if field.type == "text":
        cleaned = " ".join(cleaned.split())  # one line: collapse stray newlines and double spaces
    if not cleaned:
        if text.strip():
            raise Invalid("hidden_characters")  # only zero-width characters or direction marks
        return None
    if not any(_visible(char) for char in cleaned):
        raise Invalid("nothing_visible")
    return cleaned


def _check_length(field: Field, value: Any, answers, today) -> None:
    length = len(value)
    ceiling = min(field.max_length or MAX_TEXT, MAX_TEXT)
    if field.type in ("multichoice", "checklist"):
        if field.min_length is not None and length < field.min_length:
            raise Invalid("too_few_choices", min=field.min_length)
        if field.max_length is not None and length > field.max_length:
            raise Invalid("too_many_choices", max=field.max_length)
        return
    if length > ceiling:
        raise Invalid("too_long", max=ceiling, length=length)
    if field.min_length is not None and length < field.min_length:
        raise Invalid("too_short", min=field.min_length)


# An author's pattern runs against every answer to its field. Some patterns take exponential
# time on some answers ("(a+)+$" on "aaaa…!"): Python's re cannot be stopped, so a flow file
# could hang a server thread. The regex module (same syntax) stops after this many seconds.
PATTERN_TIMEOUT = 0.1


def _matches(pattern: str, value: str) -> bool:
    """Whether the whole answer matches the flow's pattern. One the pattern cannot judge in
    PATTERN_TIMEOUT does not, and the log says so: the flow's pattern needs mending."""
    try:
        return regex.fullmatch(pattern, value, timeout=PATTERN_TIMEOUT) is not None
    except TimeoutError:
        logging.getLogger(__name__).warning(
            "pattern %r took over %ss on an answer of %d characters: simplify it",
            pattern[:80], PATTERN_TIMEOUT, len(value))
        return False


def _check_text(field: Field, value: str, answers, today) -> None:
    _check_length(field, value, answers, today)
    if field.pattern and not _matches(field.pattern, value):
        raise Invalid("pattern")


def _text_attrs(field: Field) -> dict:
    attrs = {}
    if field.max_length:
        attrs["maxlength"] = field.max_length
    return attrs


# ---------------------------------------------------------------- numbers


def _parse_integer(field: Field, raw: Any) -> int | None:
    text = _normalise_digits(_one(raw)).strip().replace(",", "").replace(" ", "")
    if not text:
        return None
    if not re.fullmatch(r"[+-]?[0-9]{1,15}", text):
        raise Invalid("not_integer")
    return int(text)


def _parse_decimal(field: Field, raw: Any) -> str | None:
    # Kept as a normalised string: exact (no float rounding) and JSON-safe.
    text = _normalise_digits(_one(raw)).strip().replace(",", "").replace(" ", "")
    if not text:
        return None
    if not re.fullmatch(r"[+-]?([0-9]{1,15}(\.[0-9]*)?|\.[0-9]+)", text):
        raise Invalid("not_number")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise Invalid("not_number") from None
    if field.places is not None and -number.as_tuple().exponent > field.places:
        raise Invalid("too_many_places", places=field.places)
    return format(number, "f")


def _check_range(field: Field, value: Any, answers, today) -> None:
    number = Decimal(str(value))
    if field.min is not None and number < Decimal(str(field.min)):
        raise Invalid("too_small", min=field.min)
    if field.max is not None and number > Decimal(str(field.max)):
        raise Invalid("too_large", max=field.max)


# ---------------------------------------------------------------- dates


def _parse_date(field: Field, raw: Any) -> str | None:
    """Three boxes (a mapping of day, month, year) or one ISO string (from the sync API)."""
    if isinstance(raw, Mapping):
        parts = [_normalise_digits(_one(raw.get(k))).strip() for k in ("day", "month", "year")]
        if not any(parts):
            return None
        if not all(parts):
            raise Invalid("date_incomplete")
        if not all(re.fullmatch(r"[0-9]{1,4}", p) for p in parts):
            raise Invalid("date_not_numbers")
        day, month, year = (int(p) for p in parts)
        if year < 1000:
            raise Invalid("date_invalid")
        try:
            return datetime.date(year, month, day).isoformat()
        except ValueError:
            raise Invalid("date_invalid") from None
    text = _one(raw).strip()
    if not text:
        return None
    # Only YYYY-MM-DD: Python 3.11's fromisoformat also takes week dates and 20230305, which
    # the offline client would not.
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise Invalid("date_invalid")
    try:
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        raise Invalid("date_invalid") from None


def _check_date(field: Field, value: str, answers, today: datetime.date) -> None:
    day = datetime.date.fromisoformat(value)
    low = resolve_date_bound(field.min, today)
    high = resolve_date_bound(field.max, today)
    if low and day < low:
        raise Invalid("date_too_early", min=low)
    if high and day > high:
        raise Invalid("date_too_late", max=high)


# ---------------------------------------------------------------- choices


def _parse_choice(field: Field, raw: Any) -> str | None:
    value = _one(raw).strip()
    if not value:
        return None
    if field.choice(value) is None:
        raise Invalid("not_a_choice")
    return value


def _parse_multi(field: Field, raw: Any) -> list[str] | None:
    if raw is None or raw == "":
        return None
    values = [raw] if isinstance(raw, str) else list(raw)
    picked = []
    for value in values:
        value = _one(value).strip()
        if not value:
            continue
        if field.choice(value) is None:
            raise Invalid("not_a_choice")
        if value not in picked:
            picked.append(value)
    # Keep the flow's order, so answers read the same however the browser sent them.
    order = [c.value for c in field.choices]
    return sorted(picked, key=order.index) or None


def _parse_yes_no(field: Field, raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    value = _one(raw).strip().lower()
    if not value:
        return None
    if value in ("yes", "true"):
        return True
    if value in ("no", "false"):
        return False
    raise Invalid("not_yes_no")


def _parse_checklist(field: Field, raw: Any) -> list[str]:
    # An unticked checklist is an answer too ("I have none of these yet"), never "missing".
    return _parse_multi(field, raw) or []


# ---------------------------------------------------------------- mobile numbers

_MOBILE = re.compile(r"1[3-9][0-9]{9}")


def _parse_mobile(field: Field, raw: Any) -> str | None:
    text = _normalise_digits(_one(raw)).strip()
    if not text:
        return None
    digits = re.sub(r"[\s\-()]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not _MOBILE.fullmatch(digits):
        raise Invalid("mobile_invalid")
    return digits


# ---------------------------------------------------------------- resident ID (GB 11643-1999)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS))
    return _ID_CHECK[total % 11]


def id_birth_date(number: str) -> datetime.date | None:
    """The birth date in characters 7-14, or None if they are not a real date."""
    digits = number[6:14]
    # Not strptime: its \d takes any script's digits.
    if not re.fullmatch(r"[0-9]{8}", digits):
        return None
    try:
        return datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def _parse_resident_id(field: Field, raw: Any) -> str | None:
    # Only x to X: upper() would turn some letters into two (ß into SS) and miscount the length.
    text = re.sub(r"\s", "", _normalise_digits(_one(raw))).replace("x", "X")
    if not text:
        return None
    if len(text) != 18:
        raise Invalid("id_length", length=len(text))
    if not re.fullmatch(r"[0-9]{17}[0-9X]", text):
        raise Invalid("id_chars")
    born = id_birth_date(text)
    if born is None:
        raise Invalid("id_birth_date", digits=text[6:14])
    if born.year < 1900:
        raise Invalid("id_birth_too_early", date=born.isoformat())
    if text[17] != id_check_digit(text[:17]):
        raise Invalid("id_check_digit")
    return text


def _check_resident_id(field: Field, value: str, answers, today: datetime.date) -> None:
    born = id_birth_date(value)
    if born and born > today:
        raise Invalid("id_birth_future", date=born.isoformat())
    if field.birth_date_field and answers.get(field.birth_date_field):
        expected = answers[field.birth_date_field]
        if born and born.isoformat() != expected:
            raise Invalid("id_birth_mismatch", found=born.isoformat(), expected=expected)


def _parse_nothing(field: Field, raw: Any) -> None:
    return None  # calculated values are never typed


def _check_choices(field: Field, value: Any, answers, today) -> None:
    _check_length(field, value, answers, today)


REGISTRY: dict[str, FieldType] = {
    t.name: t
    for t in (
        FieldType(
            "text",
            "text",
            _parse_text,
            _check_text,
            lambda f: {**_text_attrs(f), "autocomplete": "off", "spellcheck": "false"},
        ),
        FieldType("textarea", "textarea", _parse_text, _check_text, _text_attrs),
        FieldType(
            "integer",
            "text",
            _parse_integer,
            _check_range,
            lambda f: {"inputmode": "numeric", "pattern": "[0-9]*", "autocomplete": "off"},
        ),
        FieldType(
            "decimal",
            "text",
            _parse_decimal,
            _check_range,
            lambda f: {"inputmode": "decimal", "autocomplete": "off"},
        ),
        FieldType("date", "date", _parse_date, _check_date, empty_code="required_date"),
        FieldType("choice", "radios", _parse_choice, empty_code="required_choice"),
        FieldType("multichoice", "checkboxes", _parse_multi, _check_choices,
                  empty_code="required_choice"),
        FieldType("yes_no", "yes_no", _parse_yes_no, empty_code="required_choice"),
        FieldType("checklist", "checklist", _parse_checklist, _check_choices),
        FieldType(
            "mobile",
            "text",
            _parse_mobile,
            # Numbers read left to right even on a right-to-left (Uyghur) page.
            attrs=lambda f: {"inputmode": "tel", "autocomplete": "tel-national", "maxlength": 20,
                             "dir": "ltr"},
        ),
        FieldType(
            "resident_id",
            "text",
            _parse_resident_id,
            _check_resident_id,
            lambda f: {"autocomplete": "off", "spellcheck": "false", "maxlength": 24,
                       "autocapitalize": "characters", "dir": "ltr"},
        ),
        FieldType("calculated", "calculated", _parse_nothing),
    )
}

# Types whose fields the author may list in a flow file (checklist is made from a step's items).
AUTHOR_TYPES = tuple(name for name in REGISTRY if name != "checklist")


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def validate(field: Field, value: Any, answers: Mapping[str, Any], today: datetime.date) -> None:
    """Check a typed, non-empty value against the field's rules; raises Invalid.

    Also catches a stored value that no longer parses (e.g. a choice removed in a new version).
    """
    ftype = REGISTRY[field.type]
    if field.type in ("choice",) and field.choice(value) is None:
        raise Invalid("not_a_choice")
    if field.type in ("multichoice", "checklist") and any(
        field.choice(v) is None for v in value
    ):
        raise Invalid("not_a_choice")
    ftype.check(field, value, answers, today)


def read(
    field: Field, raw: Any, answers: Mapping[str, Any], today: datetime.date
) -> Any:
    """Raw form input -> typed value, checking every rule; raises Invalid. Empty -> None
    (or [] for a checklist); whether an empty answer is allowed is the engine's business."""
    value = REGISTRY[field.type].parse(field, raw)
    if not is_empty(value):
        validate(field, value, answers, today)
    return value


# Codes that warn rather than refuse: the page asks the family to confirm the answer.
WARNINGS = frozenset({"script_han"})

_HAN = re.compile(r"[\u2e80-\u2fdf\u3005\u3007\u3021-\u3029\u3400-\u4dbf\u4e00-\u9fff"
                  r"\uf900-\ufaff\U00020000-\U0003ffff]")


def script_warning(field: Field, value: Any) -> str | None:
    """A warning code when a text is not in the script the official form expects (a name in
    Latin or Uyghur letters where the household register has Chinese characters). Not an
    error: some families do have such names, so the family may confirm it."""
    if field.script == "han" and isinstance(value, str):
        letters = [ch for ch in value if ch.isalpha()]
        if any(not _HAN.match(ch) for ch in letters):
            return "script_han"
    return None


def rule_value(field: Field, value: Any) -> Any:
    """An answer as conditions see it: decimals as numbers, everything else as stored."""
    if field.type == "decimal" and value is not None:
        return float(value)
    return value
