"""The studio's figures for one flow version, and its exports: pure functions over what
Store.version_figures, Store.completion_times and Store.completed_answers return and the
loaded Flow. No Flask, no SQL: the view fetches, this module counts, the template draws.

The funnel counts a session as having reached a step when the furthest step it saved is that
step or a later one (sessions.furthest, an index in flow.steps). Steps a family never sees
(a condition hides them) therefore count as passed by those who went beyond them: the funnel
says how far families got, not which pages each one saw.

Nothing here reads an answer except the export, which only admins reach (and which is audited).
"""

from __future__ import annotations

import datetime
import statistics
from dataclasses import dataclass
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from . import engine
from .flow import fieldtypes
from .flow.model import Field, Flow, Text, pick

ALL = "all"
DEVICE_KINDS = ("phone", "tablet", "computer", "unknown")
TOP_ERRORS = 10

# The funnel drawing: fits a 360 px phone (320 px plus the page's margins).
CHART_WIDTH = 320
LABEL_WIDTH = 30  # step numbers, right-aligned before the bars
BAR_MAX = 236  # room for the count after the longest bar
BAR_HEIGHT = 18
ROW_PITCH = 24


@dataclass(frozen=True)
class FunnelRow:
    number: int  # 1-based, as the table and the drawing show it
    step_id: str
    title: Text  # shown by the template in the reader's language
    reached: int  # saved this step or a later one
    dropped: int  # reached this step, not the next (last step: reached it, never confirmed)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: int
    y: int
    width: int
    height: int
    label_x: int
    value_x: int
    text_y: int


def choose(value: str | None, allowed: Iterable[str]) -> str:
    """A filter's value from the query string: one of `allowed`, else "all" (a link edited
    by hand shows every session rather than an error)."""
    return value if value in set(allowed) else ALL


def _matches(row: Mapping, language: str, device: str, device_key: str = "device") -> bool:
    return ((language == ALL or row["locale"] == language)
            and (device == ALL or row[device_key] == device))


# Fewer confirmed walkthroughs than this (once filtered by language and device) show no median:
# with one or two, it would be a family's own time.
MEDIAN_MIN = 5


def median(times: list[float]) -> float | None:
    return statistics.median(times) if len(times) >= MEDIAN_MIN else None


def rate(part: int, whole: int) -> int | None:
    """A share in whole per cent (rounded half up), None with nothing to divide by."""
    if not whole:
        return None
    return (200 * part + whole) // (2 * whole)


def funnel(flow: Flow, groups: list[Mapping]) -> tuple[int, list[FunnelRow]]:
    """(sessions that saved no step at all, one row per step of the flow in its order)."""
    last = len(flow.steps) - 1
    # A confirmed walkthrough went through to the end, whichever pages its answers hid: it
    # never counts as stopping at its last page.
    groups = [{**g, "furthest": last} if g["status"] == "completed" else g for g in groups]
    started = sum(g["n"] for g in groups)
    reached = [sum(g["n"] for g in groups if g["furthest"] >= i)
               for i in range(len(flow.steps))]
    # Confirmed sessions whose furthest step is the last: they did not stop there.
    done_at_end = sum(g["n"] for g in groups
                      if g["status"] == "completed" and g["furthest"] >= last)
    rows = []
    for i, step in enumerate(flow.steps):
        after = reached[i + 1] if i < last else done_at_end
        rows.append(FunnelRow(i + 1, step.id, step.title, reached[i], reached[i] - after))
    return started - (reached[0] if reached else 0), rows


def chart(rows: list[FunnelRow], started: int) -> dict:
    """The funnel's bars, measured here so the template only draws: each bar is as long as
    its share of the sessions started; its step number before it, its count after it."""
    bars = []
    for i, row in enumerate(rows):
        width = 0 if not started else round(BAR_MAX * row.reached / started)
        if row.reached and not width:
            width = 1  # a step someone reached never looks like one nobody did
        y = 4 + i * ROW_PITCH
        bars.append(Bar(str(row.number), row.reached, LABEL_WIDTH + 4, y, width, BAR_HEIGHT,
                        LABEL_WIDTH, LABEL_WIDTH + 8 + width, y + BAR_HEIGHT - 4))
    return {"width": CHART_WIDTH, "height": 8 + len(rows) * ROW_PITCH, "bars": bars}


def _breakdown(groups: list[Mapping], key: str, order: Iterable[str]) -> list[dict]:
    counts: dict[str, dict] = {}
    for g in groups:
        row = counts.setdefault(g[key], {"key": g[key], "started": 0, "completed": 0})
        row["started"] += g["n"]
        if g["status"] == "completed":
            row["completed"] += g["n"]
    place = {k: i for i, k in enumerate(order)}
    rows = sorted(counts.values(), key=lambda r: (place.get(r["key"], len(place)), r["key"]))
    for row in rows:
        row["rate"] = rate(row["completed"], row["started"])
    return rows


def hardest(flow: Flow, errors: list[Mapping], language: str = ALL,
            device: str = ALL, limit: int = TOP_ERRORS) -> list[dict]:
    """The questions most often refused with a mistake: most first, then in the flow's order.
    A field no longer in this version's flow (not expected) is still listed, by its id."""
    counts: dict[tuple[str, str], int] = {}
    for e in errors:
        if _matches(e, language, device, "device_kind"):
            key = (e["step_id"], e["field_id"])
            counts[key] = counts.get(key, 0) + e["count"]
    order = {f.id: n for n, f in enumerate(f for s in flow.steps for f in s.fields)}
    rows = []
    for (step_id, field_id), count in counts.items():
        step, f = flow.step(step_id), flow.field(field_id)
        # Texts, shown in the reader's language; a question without a label of its own
        # (a checklist) is named by its step's title.
        label = (f.label if f else None) or (step.title if step else None) or {
            flow.default_language: field_id}
        rows.append({"step_id": step_id, "field_id": field_id, "count": count,
                     "number": (flow.place(step_id) or 0) + 1,
                     "step": step.title if step else {flow.default_language: step_id},
                     "label": label})
    rows.sort(key=lambda r: (-r["count"], order.get(r["field_id"], len(order))))
    return rows[:limit]


def figures(flow: Flow, found: Mapping, times: list[Mapping], language: str = ALL,
            device: str = ALL) -> dict:
    """Everything the dashboard shows for the sessions of one language and device kind
    ("all": every one). `found` is Store.version_figures, `times` Store.completion_times."""
    groups = [g for g in found["groups"] if _matches(g, language, device)]
    started = sum(g["n"] for g in groups)
    completed = sum(g["n"] for g in groups if g["status"] == "completed")
    no_step, rows = funnel(flow, groups)
    return {
        "started": started,
        "completed": completed,
        "rate": rate(completed, started),
        "median_seconds": median(sorted(t["seconds"] for t in times
                                        if _matches(t, language, device))),
        "no_step": no_step,
        "funnel": rows,
        "chart": chart(rows, started),
        "by_language": _breakdown(groups, "locale", flow.languages),
        "by_device": _breakdown(groups, "device", DEVICE_KINDS),
        "hardest": hardest(flow, found["errors"], language, device),
    }


def minutes(seconds: float | None) -> tuple[int, int] | None:
    """A time as (hours, minutes), rounded to the nearest minute."""
    if seconds is None:
        return None
    total = int(seconds // 60 + (1 if seconds % 60 >= 30 else 0))
    return divmod(total, 60)


# ---------------------------------------------------------------- exports

# Spreadsheets run a cell that starts with one of these as a formula (CSV injection): such a
# cell gets a leading apostrophe, which Excel and WPS show as text and hide.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
YES_NO_OFFICIAL = {True: "是", False: "否"}


def safe_cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def export_fields(flow: Flow) -> list[Field]:
    """The columns of an export: every question a person answers, in the flow's order.
    Calculated values are left out (they are worked out again from the answers, e.g. an age
    from the date of birth) and so are instruction steps, which hold no answer."""
    return [f for s in flow.steps for f in s.fields if f.is_input]


def header(flow: Flow, f: Field) -> str:
    """A column's name: the government form's own term where the flow gives one, else the
    label in the flow's language; the field id after it keeps two columns apart."""
    name = f.official or pick(f.label, flow.default_language, flow.default_language)[0]
    return f"{name} ({f.id})" if name else f.id


def _choice_text(flow: Flow, f: Field, value: str) -> str:
    c = f.choice(value)
    if c is None:
        return str(value)
    return c.official or pick(c.label, flow.default_language, flow.default_language)[0]


def cell(flow: Flow, f: Field, value: Any) -> str:
    """An answer as an export cell: choices in the official words (else their label), yes
    and no as the forms write them, lists joined with "; ", dates as ISO (2024-01-31)."""
    if fieldtypes.is_empty(value):
        return ""
    if f.type == "yes_no" and isinstance(value, bool):
        return YES_NO_OFFICIAL[value]
    if f.type == "choice":
        return _choice_text(flow, f, value)
    if isinstance(value, (list, tuple)):
        return "; ".join(_choice_text(flow, f, v) if f.choices else str(v) for v in value)
    return str(value)


def _day(iso: str | None, zone: str) -> str:
    """The date (on the procedure's clock) of a stored time; no hour: the less an export says
    about when someone did something, the better."""
    if not iso:
        return ""
    return datetime.datetime.fromisoformat(iso).astimezone(ZoneInfo(zone)).date().isoformat()


def export_sessions(flow: Flow, completed: Iterable[tuple[Mapping, Mapping]]) -> list[dict]:
    """Completed sessions for an export, numbered from 1 (never their ids): language, dates,
    and only the answers their own journey shows (hidden answers are kept but never
    exported)."""
    out = []
    for number, (sess, answers) in enumerate(completed, start=1):
        shown = engine.visible_answers(engine.journey(flow, answers), answers)
        out.append({"row": number, "language": sess["locale"],
                    "started": _day(sess["created_at"], flow.timezone),
                    "confirmed": _day(sess["completed_at"], flow.timezone),
                    "answers": shown})
    return out


def csv_rows(flow: Flow, sessions: list[dict], fixed: tuple[str, ...]) -> list[list[str]]:
    """Header and rows of the CSV export; `fixed` names the first four columns (row,
    language, started, confirmed) in the interface language."""
    fields = export_fields(flow)
    rows = [[*fixed, *(header(flow, f) for f in fields)]]
    for s in sessions:
        rows.append([str(s["row"]), s["language"], s["started"], s["confirmed"],
                     *(cell(flow, f, s["answers"].get(f.id)) for f in fields)])
    return [[safe_cell(text) for text in row] for row in rows]


def json_export(flow: Flow, sessions: list[dict], exported_at: str) -> dict:
    """The JSON export: stored values as they are (choice codes, ISO dates, booleans), with
    each field's label, official term and choices' words to read them by."""
    fields = []
    for f in export_fields(flow):
        about = {"id": f.id, "label": pick(f.label, flow.default_language,
                                            flow.default_language)[0],
                 "official": f.official}
        if f.choices:
            about["choices"] = {c.value: _choice_text(flow, f, c.value) for c in f.choices}
        fields.append(about)
    return {"flow": flow.id, "version": flow.version, "exported_at": exported_at,
            "fields": fields, "sessions": sessions}
