"""Values of a flow's `data` inside its texts: `{data.registration_closes}`.

Dates and rules change every year and live in `data`; a text that repeats one ("closes on 29
April") would go stale when `data` is updated for the next year. A text names the value
instead, and the loader fills it in, in each text's own language:

- `{data.key}`: a date in full ("29 April 2027", "2027年4月29日"), a number or a word as it is;
- `{data.key:day}`: a date without its year ("29 April", "4月29日").

Translators see the placeholder in the PO catalog and the translations table, and keep it.
"""

from __future__ import annotations

import datetime
import re
from typing import Any, Mapping

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton

PLACEHOLDER = re.compile(r"\{data\.([A-Za-z_][A-Za-z0-9_]*)(?::(day))?\}")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Babel writes Uyghur dates as "22-ئاپرېل": a number and its suffix joined by a hyphen, which a
# narrow screen may break at. U+2011 is a hyphen that never breaks.
_NUMBER_SUFFIX = re.compile(r"(?<=[0-9])-(?=[^\W\d_])")


def keep_suffixes(text: str) -> str:
    """A formatted date whose numbers are never parted from their suffixes."""
    return _NUMBER_SUFFIX.sub("\u2011", text)


# Anything that looks meant as a placeholder ("{data.x:year}", "{ data.x }"): what PLACEHOLDER
# does not match exactly is a mistake, never shown to families as it is.
_LOOKS_LIKE = re.compile(r"\{\s*data\s*\.[^{}\n]{0,80}\}?")


def problems(text: str, data: Mapping[str, Any]) -> list[str]:
    """Why the placeholders of a text cannot all be filled in (empty when they can)."""
    found = []
    for m in _LOOKS_LIKE.finditer(text):
        exact = PLACEHOLDER.fullmatch(m.group())
        if exact is None:
            found.append(f"'{m.group()}' is not a placeholder this loader knows: write "
                         "{data.key} or, for a date without its year, {data.key:day}")
            continue
        key, form = exact.group(1), exact.group(2)
        if key not in data:
            known = ", ".join(sorted(data)) or "none"
            found.append(f"'{m.group()}' names no key of 'data' (its keys: {known})")
        elif isinstance(data[key], bool) or not isinstance(data[key], (str, int, float,
                                                                        datetime.date)):
            found.append(f"'{m.group()}' is not a date, a number or a word, which is all a "
                         "text can show")
        elif form == "day" and _date(data[key]) is None:
            found.append(f"'{m.group()}': ':day' is for dates, and data.{key} is not one")
    return found


def problem(key: str, data: Mapping[str, Any]) -> str | None:
    """Why `{data.key}` cannot be filled in, or None."""
    said = problems(f"{{data.{key}}}", data)
    return said[0] if said else None


def _date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def show(value: Any, lang: str, day_only: bool = False) -> str:
    """One `data` value as a text in `lang` shows it."""
    day = _date(value)
    if day is None:
        return str(value)
    try:
        locale = Locale.parse(lang)
    except (ValueError, UnknownLocaleError):
        return day.isoformat()
    text = format_skeleton("MMMMd", day, locale=locale) if day_only else \
        format_date(day, "long", locale=locale)
    return keep_suffixes(text)


def fill(text: str, lang: str, data: Mapping[str, Any]) -> str:
    """The text with every placeholder replaced (the loader has checked each one; one it did
    not is left as written)."""
    if "{data." not in text:
        return text

    def one(m: re.Match) -> str:
        key = m.group(1)
        return show(data[key], lang, m.group(2) == "day") if problem(key, data) is None \
            else m.group(0)

    return PLACEHOLDER.sub(one, text)
