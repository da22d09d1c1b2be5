"""Answers as people read them: on the review page, the answer sheet and in messages.

Shared by the step pages (a calculated value), the review and the answer sheet; no forms here.
"""

from __future__ import annotations

import datetime
from typing import Any

from flask_babel import format_decimal, gettext

from . import i18n
from .flow import fieldtypes
from .flow.fieldtypes import Invalid
from .flow.model import Field, Flow


def error_text(f: Field, error: Invalid, flow: Flow) -> str:
    """The sentence for a broken rule: the flow's own message for it, or the catalog's."""
    own = error.flow_message(f)
    if own:
        return i18n.plain(own, flow.default_language)
    params = {k: (i18n.format_date(v, "long") if isinstance(v, datetime.date) else v)
              for k, v in error.params.items()}
    return gettext(error.default_message()).format(**params)


def display(flow: Flow, f: Field, value: Any) -> str:
    """An answer as a person reads it on the review page and the answer sheet."""
    if fieldtypes.is_empty(value):
        return ""
    if f.type == "date":
        return i18n.format_date(datetime.date.fromisoformat(value), "long")
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


def yes_no_official(label: str, value: str) -> str | None:
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
        return yes_no_official(gettext("Yes") if value else gettext("No"), word)
    return None
