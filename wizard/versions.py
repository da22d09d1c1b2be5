"""Moving an open session forward to a new version of its flow.

When staff publish a new version they may move open sessions onto it, with a mapping from old
field ids to new ones (renamed or removed questions). `plan_move` works out, for one family's
answers, what the session holds afterwards and what the review page asks the family to check
again. It decides only; the store saves the result.

Nothing a family entered is dropped without a record: an answer that cannot be carried (its
question is gone, or the value no longer fits the new question) goes into `Move.kept`, by its
old field id, and the family is told.

Pure Python, like the engine: no Flask, no SQL.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Mapping

from . import engine
from .flow import fieldtypes
from .flow.diff import Change, choice_renames, diff, field_changes, merged_order, suggested_mapping
from .flow.fieldtypes import Invalid
from .flow.model import Field, Flow


@dataclass(frozen=True)
class Check:
    """An answer for the family to look at again after the move.

    reason: `changed` (the question changed), `renamed_choice` (the option they picked has a
    new name), `value_dropped` (their answer does not fit the new question; it is in
    Move.kept), `new_question` (a question on a page they already passed), `removed` (a
    question they answered is no longer asked: `field` is None, `old_field` names it)."""

    step: str
    field: str | None
    reason: str
    old_field: str | None = None  # the answer's id in the old version, when it differs


@dataclass(frozen=True)
class Move:
    answers: dict  # new field id -> value: what the session holds under the new version
    kept: dict  # old field id -> value: every old answer not carried over
    to_check: list  # Check, in the new flow's step order
    changes: list  # Change: the whole diff from the old version to the new


# Field changes that change the question itself (what it asks, what answers it takes). Help
# texts, hints, official terms and conditions do not: the family's answer still stands.
QUESTION_KEYS = frozenset({"type", "label", "required", "min", "max", "places", "min_length",
                           "max_length", "pattern"})
LIST_TYPES = frozenset({"multichoice", "checklist"})


class _Index:
    """A flow's fields by id, and the id of each field's step: Flow.field walks the whole flow
    each time, too slow for every answer of a large flow."""

    def __init__(self, flow: Flow):
        self.fields = {f.id: f for s in flow.steps for f in s.fields}
        self.step_of = {f.id: s.id for s in flow.steps for f in s.fields}


def full_mapping(old: Flow, new: Flow,
                 mapping: Mapping[str, str | None] | None = None) -> dict[str, str | None]:
    """Staff's mapping completed with the suggested one, for every old field. Calculated
    fields map to None: their values are worked out again, never carried.

    Raises ValueError for a mapping that would lose or mix answers: an id that is not a field
    of the old version, a target that is not an input field of the new one, or two old fields
    sent to the same new field (staff must map one of them to None)."""
    old_fields, new_fields = _Index(old).fields, _Index(new).fields
    given = dict(mapping or {})
    for source in given:
        if source not in old_fields:
            raise ValueError(f"the mapping names '{source}', which is not a field of version "
                             f"{old.version}")
    result = {**suggested_mapping(old, new), **given}
    targets: dict[str, str] = {}
    for source, target in result.items():
        if not old_fields[source].is_input:
            result[source] = None
            continue
        if target is None:
            continue
        field = new_fields.get(target)
        if field is None or not field.is_input:
            raise ValueError(f"the mapping sends '{source}' to '{target}', which is not a "
                             f"question of version {new.version}")
        if target in targets:
            raise ValueError(f"the mapping sends both '{targets[target]}' and '{source}' to "
                             f"'{target}'; map one of them to None")
        targets[target] = source
    return result


def plan_move(old: Flow, new: Flow, answers: Mapping[str, Any],
              mapping: Mapping[str, str | None] | None = None, *,
              today: datetime.date | None = None) -> Move:
    """What one session's answers become under `new`, and what the family should check.

    `mapping`: old field id -> new field id or None (not carried); ids it leaves out follow
    `suggested_mapping`. `today` (default: today in the flow's zone) is for rules such as
    "a date up to today"."""
    today = today or engine.local_today(new)
    mapping = full_mapping(old, new, mapping)
    changes = diff(old, new)
    candidates, kept = _convert(old, new, answers, mapping)
    sources = {target: source for source, target in mapping.items() if target is not None}
    new_fields = _Index(new).fields
    carried = {}
    for target, value in candidates.items():
        # Validated against all carried answers: an ID number is checked against the date of
        # birth, wherever that came from.
        if _valid(new_fields[target], value, candidates, today):
            carried[target] = value
        else:  # the whole answer, also when part of a list was kept already
            kept[sources[target]] = answers[sources[target]]
    checks = _checks(old, new, answers, mapping, carried, kept, today)
    return Move(carried, kept, checks, changes)


def _convert(old: Flow, new: Flow, answers: Mapping[str, Any],
             mapping: Mapping[str, str | None]) -> tuple[dict, dict]:
    """(new id -> value in the new field's form, old id -> value that cannot be carried)."""
    old_fields, new_fields = _Index(old).fields, _Index(new).fields
    candidates, kept = {}, {}
    for source, value in answers.items():
        target = mapping.get(source)
        # Calculated values are worked out again under the new version; a stored one (and any
        # key that is not a field at all) is kept, so the record still covers every answer.
        if target is None:
            kept[source] = value
            continue
        now = new_fields[target]
        renamed = _rename_choices(value, choice_renames(old, new, old_fields[source], now))
        removed = []
        if isinstance(renamed, list) and now.type in LIST_TYPES:
            # Papers ticked (or several choices), some no longer offered: the others are
            # carried, and only the ones that went are kept on record.
            offered = {c.value for c in now.choices}
            removed = [was for was, v in zip(value, renamed) if v not in offered]
            renamed = [v for v in renamed if v in offered]
            if value and not renamed:  # none left: answered again, not "left empty"
                kept[source] = value
                continue
        ok, converted = _fit(now, renamed)
        if ok:
            candidates[target] = converted
            if removed:
                kept[source] = removed
        else:
            kept[source] = value
    return candidates, kept


def _rename_choices(value: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return renames.get(value, value)
    if isinstance(value, list):
        return [renames.get(v, v) if isinstance(v, str) else v for v in value]
    return value


def fits(field: Field, value: Any) -> bool:
    """Whether a stored answer can stand, unchanged, as an answer to `field`."""
    return _fit(field, value)[0]


def _fit(field: Field, value: Any) -> tuple[bool, Any]:
    """(True, the value as `field` stores it) when it can be carried without changing it;
    (False, None) otherwise.

    The new type's own parser reads the value, as if typed again; the answer is carried only
    if that gives back the same answer (12 for "12", ["a"] for "a"), so a change of type
    never quietly alters it (textarea to text would join its lines; 12.5 to an integer would
    fail). Rules are checked afterwards, in _valid."""
    ftype = fieldtypes.REGISTRY[field.type]
    if fieldtypes.is_empty(value):
        return True, ftype.parse(field, None)  # the new type's own "no answer"
    if not isinstance(value, (str, int, float, list)):
        return False, None
    # A yes/no is only ever a yes/no (True would otherwise become the text "True"), and a list
    # only fits a list type (a single-choice parser would silently keep the first item).
    if isinstance(value, bool) != (field.type == "yes_no"):
        return False, None
    if isinstance(value, list) and field.type not in LIST_TYPES:
        return False, None
    raw = [value] if isinstance(value, str) and field.type in LIST_TYPES else value
    try:
        parsed = ftype.parse(field, raw)
    except Invalid:
        return False, None
    if not _same(parsed, raw):
        return False, None
    return True, parsed


def _same(parsed: Any, value: Any) -> bool:
    if isinstance(value, list):
        # The parser puts picks in the new flow's order, which is no change of answer.
        return isinstance(parsed, list) and sorted(map(str, parsed)) == sorted(map(str, value))
    return parsed == value or str(parsed) == str(value)


def _valid(field: Field, value: Any, answers: Mapping[str, Any], today: datetime.date) -> bool:
    """Whether the value passes the new field's rules (choices still offered, lengths, ranges,
    patterns): the same check a stored answer gets before a session completes."""
    if fieldtypes.is_empty(value):
        return True  # whether it is required is the engine's business, as for any answer
    try:
        fieldtypes.validate(field, value, answers, today)
    except Invalid:
        return False
    return True


# ---------------------------------------------------------------- what to check again


def _checks(old: Flow, new: Flow, answers: Mapping[str, Any], mapping: Mapping[str, str | None],
            carried: dict, kept: dict, today: datetime.date) -> list[Check]:
    after = engine.journey(new, carried, today)
    old_fields = _Index(old).fields
    answered_in_new = {mapping[s]: s for s in answers if mapping.get(s) is not None}
    passed = _passed(old, new, answers, mapping)
    position = {s.id: i for i, s in enumerate(new.steps)}
    found: list[Check] = []
    for step in after.steps:
        for field in after.visible_fields(step):
            if not field.is_input:
                continue
            source = answered_in_new.get(field.id)
            if source is not None:
                reason = _reason(field, source, carried, kept,
                                 field_changes(old, new, old_fields[source], field, step.id))
            elif position[step.id] < passed:
                # Strictly before: the page they stopped on shows its new questions anyway.
                reason = "new_question"
            else:
                reason = None
            if reason:
                found.append(Check(step.id, field.id, reason,
                                   source if source not in (None, field.id) else None))
    found.extend(_removed(old, new, answers, mapping, today))
    return _ordered(old, new, found)


def _reason(field: Field, source: str, carried: dict, kept: dict,
            changes: list[Change]) -> str | None:
    """Why an answered question needs a look, most pressing reason first. `changes`: how
    the question differs from the one the family answered."""
    if source in kept and field.id not in carried:
        return "value_dropped"
    value = carried.get(field.id)
    picked = set(value if isinstance(value, list) else [value])
    if any(c.code == "choice_renamed" and c.choice in picked for c in changes):
        return "renamed_choice"
    if any(c.code in ("choice_added", "choice_removed", "choice_renamed")
           or (c.code == "field_changed" and QUESTION_KEYS & set(c.detail["keys"]))
           for c in changes):
        return "changed"
    return None


def _passed(old: Flow, new: Flow, answers: Mapping[str, Any],
            mapping: Mapping[str, str | None]) -> int:
    """Position in the new flow of the furthest step the family has answered anything on
    (-1 for none): steps before it are pages they went past."""
    order = {s.id: i for i, s in enumerate(new.steps)}
    old_step_of, new_step_of = _Index(old).step_of, _Index(new).step_of
    furthest = -1
    for source in answers:
        target = mapping.get(source)
        # A removed question counts where its page stands, if the page is still there.
        step = new_step_of[target] if target else old_step_of.get(source)
        furthest = max(furthest, order.get(step, -1))
    return furthest


def _removed(old: Flow, new: Flow, answers: Mapping[str, Any],
             mapping: Mapping[str, str | None], today: datetime.date) -> list[Check]:
    """A `removed` check for each answer the family gave and saw that no question asks now.
    Answers hidden by their own later choices are kept but not mentioned: they were not
    being asked anyway."""
    before = engine.journey(old, answers, today)
    found = []
    for step in before.steps:
        for field in before.visible_fields(step):
            if (field.is_input and mapping.get(field.id) is None
                    and not fieldtypes.is_empty(answers.get(field.id))):
                found.append(Check(step.id, None, "removed", field.id))
    return found


def _ordered(old: Flow, new: Flow, checks: list[Check]) -> list[Check]:
    """In the new flow's step order (a removed step where it stood), without duplicates."""
    rank = {step_id: i for i, step_id in enumerate(
        merged_order([s.id for s in old.steps], [s.id for s in new.steps]))}
    unique = list(dict.fromkeys(checks))
    return sorted(unique, key=lambda c: rank[c.step])  # stable: field order within a step
