"""The sync API's request, read and checked to the last value before anything uses it.

What a phone sends is hostile until checked: JSON only (UTF-8, no NaN, no repeated keys, no
deep nesting), the custom header that proves it came from our own page, and every field of
the documented shape (docs/sync-api.md) within its bounds. `read()` returns the body or
raises Refused, which views/api.py answers as JSON.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import request

from . import forms

MAX_CHANGES = 50
MAX_VALUES = 100  # keys of one change's values: the biggest step has a handful of fields
MAX_LIST = 100  # items of one multiple-choice answer
MAX_TEXT = 10_000  # characters of one value (the form refuses answers over 2,000 itself)
MAX_NAME = 100  # a step or field id, or a values key
MAX_CLAIMED = 40
MAX_INT = 2**31  # versions and revisions; bigger numbers would not fit SQLite's integers
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{22,64}")  # at least 128 random bits, URL-safe
DATE_PARTS = set(forms.DATE_PARTS)
TOO_LARGE = "the body is over 64 KiB: send the changes in smaller batches"


class Refused(Exception):
    """A request the API answers with an error: HTTP status, error code, message for a
    developer (never shown to a family, so in English)."""

    def __init__(self, status: int, error: str, message: str = ""):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message



def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    keys = [k for k, _v in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key appears twice in one object")
    return dict(pairs)


def _body() -> dict:
    """The request's JSON, after the headers that prove it came from our own page."""
    if request.mimetype != "application/json":
        raise Refused(400, "bad_request", "Content-Type must be application/json")
    if request.headers.get("X-Wizard-Sync") != "1":
        raise Refused(400, "bad_request", "the X-Wizard-Sync: 1 header is required")
    raw = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH: 413 (views/api.py answers it)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(raw) >= limit:
        # A body sent without a length (chunked) is cut off at the limit, silently: one
        # that fills it may have been longer.
        raise Refused(413, "too_large", TOO_LARGE)
    try:
        # UTF-8 only (json.loads would guess UTF-16 from bytes); NaN, Infinity and repeated
        # keys are refused; a number too long to read raises ValueError, deep nesting
        # RecursionError.
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant,
                          object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Refused(400, "bad_request", f"the body is not valid JSON: {exc}"[:200]) from None
    if not isinstance(body, dict):
        raise Refused(400, "bad_request", "the body must be a JSON object")
    return body


def _bad(where: str, what: str):
    raise Refused(400, "bad_request", f"{where}: {what}")


def _keys(obj: Any, where: str, required: set[str], optional: set[str] = frozenset()) -> dict:
    if not isinstance(obj, dict):
        _bad(where, "must be an object")
    missing = sorted(required - obj.keys())
    if missing:
        _bad(where, f"missing {', '.join(missing)}")
    unknown = sorted(obj.keys() - required - optional)
    if unknown:
        _bad(where, f"unknown key {unknown[0][:MAX_NAME]!r}")
    return obj


def _text(value: Any, where: str, limit: int) -> str:
    # A lone surrogate (a "\ud800" escape) is not text: it could not even be stored.
    if not isinstance(value, str) or len(value) > limit \
            or any("\ud800" <= ch <= "\udfff" for ch in value):
        _bad(where, f"must be a string of at most {limit} characters")
    return value


def _name(value: Any, where: str) -> str:
    if not _text(value, where, MAX_NAME):
        _bad(where, "must not be empty")
    return value


def _client_id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not CLIENT_ID.fullmatch(value):
        _bad(where, "must be 22 to 64 characters of A-Z, a-z, 0-9, _ and -")
    return value


def _whole(value: Any, where: str, nullable: bool = False) -> int | None:
    if value is None and nullable:
        return None
    # bool is an int in Python, but true is not a revision.
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_INT:
        _bad(where, f"must be a whole number from 0 to {MAX_INT}" + (" or null" if nullable
                                                                       else ""))
    return value


def _claimed(value: Any, where: str) -> str | None:
    """The phone's clock: kept as the phone claimed it, never used for anything."""
    if value is None:
        return None
    if not _text(value, where, MAX_CLAIMED).isprintable():
        _bad(where, "must be printable text")
    return value


def _scalar(value: Any, where: str) -> None:
    if value is None or isinstance(value, (bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            _bad(where, "must be a finite number")
        return
    _text(value, where, MAX_TEXT)


def _values(obj: Any, where: str) -> dict:
    """A step's raw answers, in the shapes forms.check_json reads: text, numbers, true/false,
    null, a list (several choices) or {day, month, year} (a date)."""
    if not isinstance(obj, dict):
        _bad(where, "must be an object")
    if len(obj) > MAX_VALUES:
        _bad(where, f"at most {MAX_VALUES} keys")
    for key, value in obj.items():
        _name(key, f"{where} key")
        here = f"{where}.{key[:MAX_NAME]}"
        if isinstance(value, list):
            if len(value) > MAX_LIST:
                _bad(here, f"at most {MAX_LIST} items")
            for item in value:
                if item is None or isinstance(item, (list, dict)):
                    _bad(here, "items must be strings or numbers")
                _scalar(item, here)
        elif isinstance(value, dict):
            if not value.keys() <= DATE_PARTS:
                _bad(here, "a date must be an object of day, month and year")
            for part, item in value.items():
                if isinstance(item, (list, dict)):
                    _bad(f"{here}.{part}", "must be a string or a number")
                _scalar(item, f"{here}.{part}")
        else:
            _scalar(value, here)
    return obj


def read() -> dict:
    """The body, checked to the last value; raises Refused naming the first problem."""
    body = _keys(_body(), "body", {"version", "changes"}, {"lang", "start", "session_key"})
    _whole(body["version"], "version")
    if "lang" in body and body["lang"] is not None:
        _text(body["lang"], "lang", MAX_NAME)
    if body.get("session_key") is not None:
        _name(body["session_key"], "session_key")
    start = body.get("start")
    if start is not None:
        _keys(start, "start", {"id", "consent_version"}, {"claimed_at"})
        _client_id(start["id"], "start.id")
        _name(start["consent_version"], "start.consent_version")
        _claimed(start.get("claimed_at"), "start.claimed_at")
    changes = body["changes"]
    if not isinstance(changes, list):
        _bad("changes", "must be a list")
    if len(changes) > MAX_CHANGES:
        _bad("changes", f"at most {MAX_CHANGES} in one request: send the rest after")
    for i, change in enumerate(changes):
        where = f"changes[{i}]"
        if isinstance(change, dict) and "complete" in change:
            # "Confirm answers" pressed on the phone: checked here like the review page does.
            _keys(change, where, {"id", "complete"}, {"claimed_at"})
            if change["complete"] is not True:
                _bad(f"{where}.complete", "must be true")
            _client_id(change["id"], f"{where}.id")
            _claimed(change.get("claimed_at"), f"{where}.claimed_at")
            continue
        _keys(change, where, {"id", "step", "values"}, {"base_revision", "claimed_at"})
        _client_id(change["id"], f"{where}.id")
        _name(change["step"], f"{where}.step")
        _values(change["values"], f"{where}.values")
        _whole(change.get("base_revision"), f"{where}.base_revision", nullable=True)
        _claimed(change.get("claimed_at"), f"{where}.claimed_at")
    return body
