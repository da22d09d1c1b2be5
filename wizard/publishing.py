"""Publishing a draft as a new version, and moving open sessions forward to it.

A published version never changes (the sessions pinned to it keep meaning what they meant).
Publishing can move the open sessions of the version before forward, with a mapping for
renamed or removed fields (versions.plan_move): each moved family then sees on their review
page what changed and what to check again, and every answer not carried over is kept on
record with the move (store.move_session), never dropped silently.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from flask import session
from flask_babel import gettext

from . import catalog, drafting, get_store, versions
from .flow import diff, editing, loader
from .flow.model import Flow

# A session saved while its move was being planned is planned again, this many times.
MOVE_TRIES = 3


def plan_for(draft: drafting.Draft) -> Plan | None:
    """What publishing this draft would do; None while it has errors (it cannot be)."""
    if draft.checked.flow is None or draft.checked.errors:
        return None
    s = get_store()
    latest = s.latest_version(draft.flow_id)
    old = catalog.get(s, draft.flow_id, latest) if latest else None
    return Plan(old, draft.checked.flow, len(s.open_sessions(draft.flow_id, latest))
                if latest else 0)


class Plan:
    """What publishing `new` over `old` (the newest published version, or None) changes, and
    the mapping it suggests for the fields the new version no longer has under their id;
    `open_count` families are part-way through `old`."""

    def __init__(self, old: Flow | None, new: Flow, open_count: int = 0):
        self.old, self.new, self.open_count = old, new, open_count
        self.latest = old.version if old is not None else None
        self.changes = diff.diff(old, new) if old is not None else []
        self.suggested = diff.suggested_mapping(old, new) if old is not None else {}
        # The fields staff decide about: gone under their id (renamed or removed).
        self.to_map = [f for f in (_fields(old) if old is not None else [])
                       if self.suggested.get(f.id) != f.id]
        self.targets = [f for f in _fields(new) if old is None or old.field(f.id) is None]


def _fields(flow: Flow) -> list:
    return [f for step in flow.steps for f in step.fields if f.is_input]


def publish(draft: drafting.Draft, plan: Plan, mapping: Mapping[str, str | None],
            move: bool) -> tuple[int, int]:
    """Publish the draft as the next version; with `move`, move the open sessions of the
    version before to it. Returns (version, sessions moved). DraftClash when the draft
    changed since it was checked."""
    s = get_store()
    version = drafting.next_version(draft.flow_id)
    doc = editing.load(draft.source)
    source = draft.source
    if doc.get("version") != version:  # numbered by the studio, whatever the text said
        doc["version"] = version
        source = editing.dump(doc)
    result = loader.load_text(source, f"{draft.flow_id} version {version}")
    new = result.flow
    if new is None:  # cannot happen for a draft without errors; refuse rather than guess
        raise ValueError("; ".join(map(str, result.errors)))
    changes = [dataclasses.asdict(c) for c in plan.changes]
    s.publish_draft(new, draft.revision, drafting.actor(), changes)
    moved = move_open(plan.old, new, mapping) if move and plan.old is not None else 0
    return version, moved


def move_open(old: Flow, new: Flow, mapping: Mapping[str, str | None]) -> int:
    """Move every open session of `old` to `new`; returns how many moved."""
    s = get_store()
    moved = 0
    for row in s.open_sessions(old.id, old.version):
        for _try in range(MOVE_TRIES):
            if _move_one(old, new, mapping, row):
                moved += 1
                break
            fresh = s.session(row["id"])
            if fresh is None or fresh["status"] != "active" or \
                    fresh["flow_version"] != old.version:
                break
            row = fresh
    return moved


def _move_one(old: Flow, new: Flow, mapping: Mapping[str, str | None], row: dict) -> bool:
    s = get_store()
    answers = s.answers(row["id"])
    move = versions.plan_move(old, new, answers, mapping)
    full = versions.full_mapping(old, new, mapping)
    source_of = {target: old_id for old_id, target in full.items() if target}
    carried = {new_id: (source_of.get(new_id, new_id), value)
               for new_id, value in move.answers.items()}
    furthest = -1
    if 0 <= row["furthest"] < len(old.steps):
        # The furthest step saved, where it is now (or the step before it that remains).
        for step in reversed(old.steps[:row["furthest"] + 1]):
            place = new.place(step.id)
            if place is not None:
                furthest = place
                break
    last = row["last_step"] if row["last_step"] and new.step(row["last_step"]) else None
    to_check = [{"step": c.step, "field": c.field, "reason": c.reason} for c in move.to_check]
    # What an earlier move asked them to check, not confirmed since, still stands: under the
    # new ids, where the question is still asked (versions.full_mapping: old id -> new id).
    earlier = s.pending_checks(row["id"])
    if earlier is not None:
        ids = versions.full_mapping(old, new, mapping)
        listed = {c["field"] for c in to_check}
        for check in earlier["to_check"]:
            field = ids.get(check["field"]) if check.get("field") else None
            if field is not None and field not in listed and new.step_of(field) is not None:
                to_check.append({**check, "field": field, "step": new.step_of(field).id})
                listed.add(field)
    return s.move_session(row["id"], row["revision"], new.version, carried, move.kept,
                          to_check, furthest, last, drafting.actor())


# ---------------------------------------------------------------- words


_SENTENCES = {
    "step_added": lambda c: gettext("Step “%(step)s” added.", **c),
    "step_removed": lambda c: gettext("Step “%(step)s” removed.", **c),
    "step_moved": lambda c: gettext("Step “%(step)s” moved.", **c),
    "step_changed": lambda c: gettext("Step “%(step)s” changed (%(what)s).", **c),
    "field_added": lambda c: gettext("Step “%(step)s”: question “%(field)s” added.", **c),
    "field_removed": lambda c: gettext("Step “%(step)s”: question “%(field)s” removed.", **c),
    "field_renamed": lambda c: gettext("Step “%(step)s”: question “%(old)s” renamed to "
                                       "“%(field)s”.", **c),
    "field_changed": lambda c: gettext("Step “%(step)s”: question “%(field)s” changed "
                                       "(%(what)s).", **c),
    "choice_added": lambda c: gettext("Step “%(step)s”: choice “%(choice)s” of “%(field)s” "
                                      "added.", **c),
    "choice_removed": lambda c: gettext("Step “%(step)s”: choice “%(choice)s” of "
                                        "“%(field)s” removed.", **c),
    "choice_renamed": lambda c: gettext("Step “%(step)s”: choice “%(choice)s” of "
                                        "“%(field)s” renamed.", **c),
    "flow_changed": lambda c: gettext("The walkthrough's %(what)s changed.", **c),
}


def sentences(changes: list[Mapping[str, Any]] | None) -> list[str]:
    """A version's changes (flow/diff.py, as stored) as sentences in the reader's language."""
    out = []
    for change in changes or []:
        c = dict(change) if isinstance(change, Mapping) else dataclasses.asdict(change)
        detail = c.get("detail") or {}
        words = {"step": c.get("step") or "", "field": c.get("field") or "",
                 "choice": c.get("choice") or "",
                 "old": detail.get("old") or detail.get("old_id") or "",
                 "what": ", ".join(map(str, detail.get("keys") or detail.get("what") or []))}
        say = _SENTENCES.get(c.get("code"))
        out.append(say(words) if say else str(c.get("code")))
    return out


# ---------------------------------------------------------------- preview's sample answers


def samples(flow: Flow) -> dict:
    """Sample answers a staff member tried in the preview, kept in their own cookie session
    (made-up answers, never a family's): those the draft, as it is now, can still take (a
    question may have changed type since)."""
    tried = session.get("preview", {}).get(flow.id, {})
    return {k: v for k, v in tried.items()
            if (f := flow.field(k)) is not None and f.is_input and versions.fits(f, v)}


def set_samples(flow_id: str, answers: Mapping[str, Any]) -> None:
    # One flow's samples at a time: the cookie stays small.
    session["preview"] = {flow_id: dict(answers)} if answers else {}
