"""What changed between two versions of a flow.

Staff read the list before publishing; a family moved forward to the new version sees, on the
review page, which of their answers to check again (wizard/versions.py builds that from this
list). Pure Python over the model: no Flask, no SQL.

Steps, fields and choices are matched by id (answers are stored by field id, which is unique in
a flow). A field whose id changed is recognised as renamed when a removed and an added field
ask the same thing: same type and the same label in the default language, or the same official
term. A choice whose value changed is recognised by its label in the same way.

Changes come in the new flow's order, with removals where they stood in the old one, so two
calls on the same flows give the same list.

Run `python -m wizard.flow.diff OLD NEW` to print the changes in English.
"""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass
from dataclasses import field as _default
from typing import Any, Callable, Iterable

from .loader import load_file
from .model import Choice, Field, Flow, Step, Text, pick


@dataclass(frozen=True)
class Change:
    """One difference. `step`, `field` and `choice` name it in the new flow (in the old one
    for removals); `detail` says more (old and new ids, which properties changed)."""

    code: str
    step: str | None
    field: str | None = None
    choice: str | None = None
    detail: dict = _default(default_factory=dict)


# Every code, and what it means. `detail` holds "keys" (which properties changed) for the
# *_changed codes, "old" and "new" for renames, "from" and "to" for moves.
CODES = {
    "flow_changed": "the flow's own properties (title, deadline, data, languages...) changed",
    "step_added": "a step is new",
    "step_removed": "a step is gone (its fields are reported removed after it)",
    "step_moved": "a step kept its id but stands elsewhere among the steps both versions have",
    "step_changed": "a step's title, kind, condition, body, picture or field order changed",
    "field_added": "a field is new",
    "field_removed": "a field is gone, and no new field asks the same",
    "field_renamed": "a field has a new id but asks the same (same type and label or term)",
    "field_moved": "a field is now on another step",
    "field_changed": "a field's type, rules, condition, texts, term or choice order changed",
    "choice_added": "a choice (or checklist item) is new",
    "choice_removed": "a choice is gone, and no new choice has its label",
    "choice_renamed": "a choice has a new label for the same value, or a new value for the "
                      "same label (detail 'what': 'label' or 'value')",
    "choice_changed": "a choice's term, hint, help or condition changed",
}

# Properties compared, in the order they are named in `detail["keys"]`. Texts are compared as
# readers see them (see _Texts); everything else with ==. Compiled conditions are compared,
# not their source, so re-spacing an expression is no change.
FLOW_KEYS = ("title", "summary", "intro", "minutes", "deadline", "opens", "timezone", "data",
             "languages", "resume_fact", "answer_sheet")
STEP_KEYS = ("title", "kind", "show_if", "body", "image", "image_alt")
FIELD_KEYS = ("type", "required", "min", "max", "places", "min_length", "max_length", "pattern",
              "script", "birth_date_field", "expr", "unit", "show_if", "label", "hint", "help",
              "official", "required_message", "range_message", "length_message",
              "pattern_message")
CHOICE_KEYS = ("official", "hint", "help", "show_if")  # the label is a rename, not a change
TEXT_KEYS = frozenset({"title", "summary", "intro", "body", "image_alt", "label", "hint", "help",
                       "unit", "required_message", "range_message", "length_message",
                       "pattern_message"})


class _Texts:
    """Compares translatable texts as a reader of each language both versions offer sees them
    (with the default-language fallback): adding a language is a flow change, not a change to
    every label, while a corrected translation is a change."""

    def __init__(self, old: Flow, new: Flow):
        self.old, self.new = old, new
        self.languages = [lang for lang in new.languages if lang in old.languages] or [
            new.default_language]

    def differ(self, a: Text | None, b: Text | None) -> bool:
        return any(pick(a, lang, self.old.default_language)[0]
                   != pick(b, lang, self.new.default_language)[0] for lang in self.languages)

    def default(self, text: Text | None, flow: Flow) -> str:
        """The text in the old flow's default language (the language renames are matched in),
        falling back as a reader would."""
        return pick(text, self.old.default_language, flow.default_language)[0]


def _changed_keys(a: Any, b: Any, keys: Iterable[str], texts: _Texts) -> tuple[str, ...]:
    changed = []
    for key in keys:
        x, y = getattr(a, key), getattr(b, key)
        if texts.differ(x, y) if key in TEXT_KEYS else x != y:
            changed.append(key)
    return tuple(changed)


def merged_order(old_ids: list[str], new_ids: list[str]) -> list[str]:
    """The new ids in order, each old id missing from them put back after the old id that came
    before it: "in the new order, removals where they were"."""
    result = list(new_ids)
    present = set(new_ids)
    for i, item in enumerate(old_ids):
        if item in present:
            continue
        before = next((old_ids[j] for j in range(i - 1, -1, -1) if old_ids[j] in present), None)
        result.insert(result.index(before) + 1 if before is not None else 0, item)
        present.add(item)
    return result


def _moved(old_ids: list[str], new_ids: list[str]) -> set[str]:
    """Ids kept by both whose order changed: those outside the longest runs both lists share
    (so moving one step down reports that step, not every step it passed)."""
    common = set(old_ids) & set(new_ids)
    a = [i for i in old_ids if i in common]
    b = [i for i in new_ids if i in common]
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    kept = {x for block in matcher.get_matching_blocks() for x in a[block.a:block.a + block.size]}
    return common - kept


def _match(gone: list[list], fresh: list[list],
           prefer: Callable[[int, int], bool] = lambda i, j: False) -> dict[int, int]:
    """Pairs each gone item with the first fresh one that shares one of its keys (one
    `prefer` likes first), in order, each fresh item used once: deterministic, and good enough
    for the handful of renames in a new version. `gone` and `fresh` hold each item's keys;
    returns index in gone -> index in fresh. Indexed by key, so thousands of fields are
    matched at once."""
    by_key: dict[Any, list[int]] = {}
    for j, keys in enumerate(fresh):
        for key in keys:
            by_key.setdefault(key, []).append(j)
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    for i, keys in enumerate(gone):
        candidates = sorted({j for key in keys for j in by_key.get(key, ()) if j not in taken})
        best = [j for j in candidates if prefer(i, j)] or candidates
        if best:
            pairs[i] = best[0]
            taken.add(best[0])
    return pairs


def _where(flow: Flow) -> dict[str, tuple[str, Field]]:
    """Field id -> (its step's id, the field): Flow.field walks the whole flow each time."""
    return {f.id: (s.id, f) for s in flow.steps for f in s.fields}


def field_renames(old: Flow, new: Flow) -> dict[str, str]:
    """Old field id -> new field id, for fields whose id changed but whose question did not."""
    texts = _Texts(old, new)
    old_where, new_where = _where(old), _where(new)
    gone = [(step, f) for step, f in old_where.values() if f.id not in new_where]
    fresh = [(step, f) for step, f in new_where.values() if f.id not in old_where]

    def keys(f: Field, flow: Flow) -> list:
        # The same question: the same type, and the same label or the same official term.
        label = texts.default(f.label, flow)
        return ([("label", f.type, label)] if label else []) + (
            [("official", f.type, f.official)] if f.official else [])

    pairs = _match([keys(f, old) for _, f in gone], [keys(f, new) for _, f in fresh],
                   prefer=lambda i, j: gone[i][0] == fresh[j][0])  # the same step first
    return {gone[i][1].id: fresh[j][1].id for i, j in pairs.items()}


def choice_renames(old: Flow, new: Flow, old_field: Field, new_field: Field) -> dict[str, str]:
    """Old choice value -> new value, for choices whose value changed but whose label did not
    (`old_field` of flow `old` and `new_field` of `new`: any two fields, not only one id)."""
    return _choice_renames(old_field, new_field, _Texts(old, new))


def _choice_renames(old_field: Field, new_field: Field, texts: _Texts) -> dict[str, str]:
    new_values = {c.value for c in new_field.choices}
    old_values = {c.value for c in old_field.choices}
    gone = [c for c in old_field.choices if c.value not in new_values]
    fresh = [c for c in new_field.choices if c.value not in old_values]

    def keys(c: Choice, flow: Flow) -> list:
        label = texts.default(c.label, flow)
        return [label] if label else []

    pairs = _match([keys(c, texts.old) for c in gone], [keys(c, texts.new) for c in fresh])
    return {gone[i].value: fresh[j].value for i, j in pairs.items()}


def suggested_mapping(old: Flow, new: Flow) -> dict[str, str | None]:
    """For every field of the old flow: where its answer goes in the new one (the same id,
    else the field it was renamed to, else None: the question is gone)."""
    renames = field_renames(old, new)
    kept = set(_where(new))
    return {f.id: f.id if f.id in kept else renames.get(f.id)
            for step in old.steps for f in step.fields}


# ---------------------------------------------------------------- the diff


def diff(old: Flow, new: Flow) -> list[Change]:
    """Every change from `old` to `new`, flow first, then step by step in the new order."""
    texts = _Texts(old, new)
    renames = field_renames(old, new)
    where = (_where(old), _where(new))
    changes: list[Change] = []
    keys = _changed_keys(old, new, FLOW_KEYS, texts)
    if keys:
        changes.append(Change("flow_changed", None, detail={"keys": keys}))
    old_order = [s.id for s in old.steps]
    new_order = [s.id for s in new.steps]
    moved = _moved(old_order, new_order)
    for step_id in merged_order(old_order, new_order):
        before, after = old.step(step_id), new.step(step_id)
        if after is None:
            changes.append(Change("step_removed", step_id))
        elif before is None:
            changes.append(Change("step_added", step_id))
        else:
            if step_id in moved:
                changes.append(Change("step_moved", step_id, detail={
                    "from": old_order.index(step_id) + 1, "to": new_order.index(step_id) + 1}))
            keys = _changed_keys(before, after, STEP_KEYS, texts)
            if _moved(_ids(before, renames), _ids(after, {})):
                keys += ("field_order",)
            if keys:
                changes.append(Change("step_changed", step_id, detail={"keys": keys}))
        changes.extend(_step_fields(where, before, after, renames, texts))
    return changes


def _ids(step: Step | None, renames: dict[str, str]) -> list[str]:
    """A step's field ids, old ones under the id they have now."""
    return [renames.get(f.id, f.id) for f in step.fields] if step else []


def _step_fields(where: tuple[dict, dict], before: Step | None, after: Step | None,
                 renames: dict[str, str], texts: _Texts) -> list[Change]:
    """The changes to the fields of one step (`where`: _where of the old and the new flow)."""
    old_where, new_where = where
    renamed_from = {b: a for a, b in renames.items()}
    new_ids = _ids(after, {})
    step_id = (after or before).id
    changes = []
    for fid in merged_order(_ids(before, renames), new_ids):
        if fid not in new_ids:
            if fid not in new_where:  # else it moved to another step: reported there
                changes.append(Change("field_removed", step_id, fid))
            continue
        source = renamed_from.get(fid, fid)
        if source not in old_where:
            changes.append(Change("field_added", step_id, fid))
            continue
        old_step, was = old_where[source]
        if source != fid:
            changes.append(Change("field_renamed", step_id, fid, detail={"old": source,
                                                                        "new": fid}))
        if old_step != step_id:
            changes.append(Change("field_moved", step_id, fid, detail={"from": old_step,
                                                                      "to": step_id}))
        changes.extend(_field_changes(was, new_where[fid][1], step_id, texts))
    return changes


def field_changes(old: Flow, new: Flow, old_field: Field, new_field: Field,
                  step: str | None = None) -> list[Change]:
    """How `new_field` (of flow `new`, on step `step`) differs from `old_field` (of `old`):
    field_changed and choice_* changes, as the diff reports them for a field kept or renamed.
    Works for any pair, so a mapping staff wrote by hand is compared too."""
    return _field_changes(old_field, new_field, step, _Texts(old, new))


def _field_changes(was: Field, now: Field, step_id: str | None, texts: _Texts) -> list[Change]:
    keys = _changed_keys(was, now, FIELD_KEYS, texts)
    if was.type == now.type == "checklist":
        # A checklist's label is its step's title, already reported as a step change.
        keys = tuple(k for k in keys if k != "label")
    renames = _choice_renames(was, now, texts)
    if _moved([renames.get(c.value, c.value) for c in was.choices],
              [c.value for c in now.choices]):
        keys += ("choice_order",)
    changes = []
    if keys:
        detail = {"keys": keys}
        if was.id != now.id:
            detail["old"] = was.id
        changes.append(Change("field_changed", step_id, now.id, detail=detail))
    changes.extend(_choice_changes(was, now, step_id, renames, texts))
    return changes


def _choice_changes(was: Field, now: Field, step_id: str | None, renames: dict[str, str],
                    texts: _Texts) -> list[Change]:
    renamed_from = {b: a for a, b in renames.items()}
    new_values = [c.value for c in now.choices]
    changes = []
    for value in merged_order([renames.get(c.value, c.value) for c in was.choices], new_values):
        if value not in new_values:
            changes.append(Change("choice_removed", step_id, now.id, value))
            continue
        source = renamed_from.get(value, value)
        before, after = was.choice(source), now.choice(value)
        if before is None:
            changes.append(Change("choice_added", step_id, now.id, value))
            continue
        if source != value:
            changes.append(Change("choice_renamed", step_id, now.id, value, detail={
                "what": "value", "old": source, "new": value}))
        elif texts.differ(before.label, after.label):
            changes.append(Change("choice_renamed", step_id, now.id, value, detail={
                "what": "label", "old": texts.default(before.label, texts.old),
                "new": texts.default(after.label, texts.new)}))
        keys = _changed_keys(before, after, CHOICE_KEYS, texts)
        if keys:
            changes.append(Change("choice_changed", step_id, now.id, value,
                                  detail={"keys": keys}))
    return changes


# ---------------------------------------------------------------- in English


def english(change: Change) -> str:
    """One English sentence for a change (for the command line and tests; the app translates
    its own sentences from the codes)."""
    c, d = change, change.detail
    keys = ", ".join(d.get("keys", ()))
    at = f"step '{c.step}': "
    of = f"choice '{c.choice}' of field '{c.field}'"
    sentences = {
        "flow_changed": lambda: f"flow changed ({keys})",
        "step_added": lambda: f"step '{c.step}' added",
        "step_removed": lambda: f"step '{c.step}' removed",
        "step_moved": lambda: f"step '{c.step}' moved from position {d['from']} to {d['to']}",
        "step_changed": lambda: f"step '{c.step}' changed ({keys})",
        "field_added": lambda: f"{at}field '{c.field}' added",
        "field_removed": lambda: f"{at}field '{c.field}' removed",
        "field_renamed": lambda: f"field '{d['old']}' renamed to '{d['new']}'",
        "field_moved": lambda: f"field '{c.field}' moved from step '{d['from']}' to step "
                               f"'{d['to']}'",
        "field_changed": lambda: f"{at}field '{c.field}' changed ({keys})",
        "choice_added": lambda: f"{at}{of} added",
        "choice_removed": lambda: f"{at}{of} removed",
        "choice_renamed": lambda: (
            f"{at}{of} renamed (label)" if d["what"] == "label"
            else f"{at}choice '{d['old']}' of field '{c.field}' renamed to '{d['new']}' (value)"),
        "choice_changed": lambda: f"{at}{of} changed ({keys})",
    }
    return sentences[c.code]()


def main(argv: list[str] | None = None) -> int:
    """Print the changes between two flow files, one sentence a line."""
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        print("usage: python -m wizard.flow.diff OLD.yaml NEW.yaml", file=sys.stderr)
        return 2
    results = [load_file(name) for name in args]
    for result in results:
        for problem in result.errors:
            print(problem, file=sys.stderr)
    if any(r.flow is None for r in results):
        return 1
    for change in diff(results[0].flow, results[1].flow):
        print(english(change))
    return 0


if __name__ == "__main__":
    sys.exit(main())
