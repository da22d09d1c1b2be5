"""Answers as people read them: on the review page, the answer sheet and in messages.

Shared by the step pages (a calculated value), the review and the answer sheet; no forms here.
"""

from __future__ import annotations

import datetime
from typing import Any, Mapping

from flask_babel import format_decimal, gettext

from . import engine, i18n
from .engine import Journey
from .flow import fieldtypes
from .flow.fieldtypes import N_, Invalid
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


def entered_by(provenance: Mapping[str, dict] | None, field_id: str, zone: str) -> dict | None:
    """Who entered an answer when a helper did (name, organisation, when), else None."""
    row = (provenance or {}).get(field_id)
    if row is None:
        return None
    return {"name": row["name"], "org": row["org"],
            "when": i18n.format_moment(row["at"], zone)}


def review_groups(flow: Flow, j: Journey, answers: Mapping[str, Any],
                  provenance: Mapping[str, dict] | None = None) -> list[dict]:
    """The review page's rows, grouped by step: label, official term, the answer as read, and
    which helper entered it (provenance: Store.provenance)."""
    groups = []
    for group in engine.review(j, answers):
        rows = [{"field": r.field,
                 "label": i18n.flow_text(r.field.label or group.step.title,
                                         flow.default_language),
                 "official": i18n.official_term(r.field.label, r.field.official,
                                                flow.default_language),
                 "value": display(flow, r.field, r.value) or (
                     gettext("None ticked yet") if r.field.type == "checklist" else ""),
                 "official_value": official_display(flow, r.field, r.value),
                 "one_line": copied_digit_by_digit(r.field),
                 "changeable": r.field.is_input,
                 "by": entered_by(provenance, r.field.id, flow.timezone)}
                for r in group.rows]
        groups.append({"step": group.step, "rows": rows,
                       "title": i18n.flow_text(group.step.title, flow.default_language)})
    return groups


_CHECK_WORDS = {
    "changed": N_("This question changed: check your answer."),
    "renamed_choice": N_("The choices changed: check your answer."),
    "value_dropped": N_("Your earlier answer does not fit the new question: answer it again."),
    "new_question": N_("A new question: please answer it."),
}


def checks_after_move(flow: Flow, j: Journey, pending: Mapping[str, Any] | None) -> dict | None:
    """What a family moved to a newer version is asked to check again (Store.pending_checks),
    as the review page lists it: each visible question with why; None when nothing to check.
    A removed question is only counted: its answer is kept on record, nothing to do."""
    if not pending:
        return None
    items, removed = [], 0
    for check in pending["to_check"]:
        if check["reason"] == "removed":
            removed += 1
            continue
        step = flow.step(check["step"] or "")
        if step is None or not j.is_visible(step.id):
            continue
        f = flow.field(check["field"]) if check.get("field") else None
        items.append({"step": step.id,
                      "label": i18n.flow_text((f.label if f else None) or step.title,
                                              flow.default_language),
                      "why": gettext(_CHECK_WORDS.get(check["reason"], _CHECK_WORDS["changed"]))})
    return {"checks": items, "removed": removed, "when": i18n.format_moment(pending["at"])}


def item(flow: Flow, choice, **extra) -> dict:
    """A checklist item as pages show it: label, and the official term where it helps."""
    return {"value": choice.value,
            "label": i18n.flow_text(choice.label, flow.default_language),
            "official": i18n.official_term(choice.label, choice.official, flow.default_language),
            **extra}


def _sheet_item(flow: Flow, choice, have: bool) -> dict:
    """A paper on the answer sheet. One still needed comes with its help (which pages, which
    number): the family reads it while gathering them; a paper in hand needs none."""
    return item(flow, choice, have=have, help=None if have else
                i18n.flow_markdown(choice.help, flow.default_language))


def _sheet_row(flow: Flow, f: Field, value: Any, provenance=None) -> dict:
    return {"id": f.id, "official": f.official,
            "by": entered_by(provenance, f.id, flow.timezone),
            "label": i18n.flow_text(f.label, flow.default_language),
            "value": display(flow, f, value),
            "official_value": official_display(flow, f, value),
            "one_line": copied_digit_by_digit(f)}


def _next_step(flow: Flow, step) -> dict:
    return {"id": step.id, "title": i18n.flow_text(step.title, flow.default_language),
            "body": i18n.flow_markdown(step.body, flow.default_language)}


def answer_sheet(flow: Flow, j: Journey, answers: Mapping[str, Any],
                 provenance: Mapping[str, dict] | None = None) -> dict:
    """What the answer sheet page shows: rows to copy (with the helper who entered them),
    papers to bring, stages ahead."""
    result = engine.answer_sheet(j, answers)
    return {
        "sheet": [_sheet_row(flow, r.field, r.value, provenance) for r in result.rows],
        "checklists": [{"id": r.field.id,
                        "title": i18n.flow_text(r.step.title, flow.default_language),
                        "items": [_sheet_item(flow, c, c.value in (r.value or []))
                                  for c in j.choices(r.field)]}
                       for r in result.checklists],
        "next_steps": [_next_step(flow, s) for s in result.next_steps],
    }


def whole_answer_sheet(flow: Flow, j: Journey) -> dict:
    """Every row, paper and stage the answer sheet could show, empty: the offline bundle's
    page, which the phone narrows and fills with the family's answers."""
    order = {field_id: i for i, field_id in enumerate(flow.answer_sheet)}
    fields = [f for s in flow.steps for f in s.fields
              if f.is_input and f.type != "checklist"]
    fields.sort(key=lambda f: order.get(f.id, len(order)))
    return {
        "sheet": [_sheet_row(flow, f, None) for f in fields],
        "checklists": [{"id": f.id, "title": i18n.flow_text(s.title, flow.default_language),
                        "items": [_sheet_item(flow, c, False) for c in j.choices(f)]}
                       for s in flow.steps for f in s.fields if f.type == "checklist"],
        "next_steps": [_next_step(flow, s) for s in flow.steps if s.kind == "instruction"],
    }


def in_language(flow: Flow, j: Journey, step, lang: str) -> dict:
    """A step's words in another language (the family's, on their helper's page): its title,
    and each visible question's label and choices, by field id."""
    with i18n.speaking(lang):
        name, tag, direction = i18n.LANGUAGES[lang]
        words = {"name": name, "tag": tag, "dir": direction,
                 "title": i18n.flow_text(step.title, flow.default_language), "fields": {}}
        for f in j.visible_fields(step):
            words["fields"][f.id] = {
                "label": i18n.flow_text(f.label, flow.default_language) if f.label else "",
                "choices": [i18n.flow_text(c.label, flow.default_language)
                            for c in j.choices(f)]}
    return words


def access_words(action: str) -> str:
    """What a helper did, as the family's "who saw your answers" list says it."""
    if action == "view":
        return gettext("looked at your answers")
    if action in ("change", "note"):
        return gettext("changed your answers") if action == "change" else gettext(
            "wrote a note for other helpers")
    if action == "confirm":
        return gettext("confirmed your answers with you")
    if action in ("grant-accepted", "session-started"):
        return gettext("started helping you")
    if action.startswith("grant-ended"):
        return gettext("stopped helping you")
    return gettext("used your answers")


def family_label(grant: Mapping[str, Any]) -> str:
    """What a helper calls a family: the name the family chose, or their grant's number
    (never anything from their answers)."""
    return grant["label"] or gettext("Family %(number)d", number=grant["id"])
