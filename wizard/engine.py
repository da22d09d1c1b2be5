"""The step engine: pure functions over (flow, answers).

Every decision about the journey is recomputed from the stored answers each time (the GOV.UK
"recompute the journey" approach): which steps and fields are visible, where Next and Back go,
"step n of m", what the review shows, what is missing, whether the session can be completed.
Answers to questions that a changed answer hides stay stored, but nothing here shows, counts or
exports them, and they do not feed later conditions.

No Flask and no SQL: the web views, the offline sync and the tests all call these.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from .flow import conditions, fieldtypes
from .flow.fieldtypes import Invalid
from .flow.model import Choice, Field, Flow, Step


@dataclass(frozen=True)
class Journey:
    """The path through a flow for one set of answers."""

    flow: Flow
    steps: tuple[Step, ...]  # visible steps, in order
    fields: Mapping[str, tuple[Field, ...]]  # step id -> its visible fields
    context: Mapping[str, Any]  # visible answers and calculated values, as conditions see them
    today: datetime.date

    def index(self, step_id: str) -> int | None:
        for i, step in enumerate(self.steps):
            if step.id == step_id:
                return i
        return None

    def is_visible(self, step_id: str) -> bool:
        return self.index(step_id) is not None

    def visible_fields(self, step: Step) -> tuple[Field, ...]:
        return self.fields.get(step.id, ())

    def choices(self, field: Field) -> tuple[Choice, ...]:
        """The choices (or checklist items) shown for a field with these answers."""
        return tuple(c for c in field.choices if c.show_if is None or self._shows(c.show_if))

    def calculated(self, field_id: str) -> Any:
        return self.context.get(field_id)

    def _shows(self, rule: Any) -> bool:
        return _shows(rule, self.context, self.today)


def _shows(rule: Any, context: Mapping[str, Any], today: datetime.date) -> bool:
    if rule is None:
        return True
    try:
        return conditions.truthy(conditions.evaluate(rule, context, today=today))
    except (ValueError, TypeError, ArithmeticError):
        # A rule that cannot be worked out for these answers hides the step rather than
        # breaking the page; the loader has already checked the rule's shape.
        return False


def local_today(flow: Flow, now: datetime.datetime | None = None) -> datetime.date:
    """Today's date where the procedure happens (the flow's time zone), not on the server's
    clock: on a UTC server a Shanghai family would otherwise live in yesterday until 08:00.
    `now` is an aware datetime (default: this moment)."""
    zone = ZoneInfo(flow.timezone)
    return (now or datetime.datetime.now(datetime.timezone.utc)).astimezone(zone).date()


def days_left(flow: Flow, on: datetime.date | None = None) -> int | None:
    """Days from today (in the flow's zone) to the flow's deadline, or None without one."""
    return (flow.deadline - (on or local_today(flow))).days if flow.deadline else None


def journey(flow: Flow, answers: Mapping[str, Any], today: datetime.date | None = None) -> Journey:
    """Walk the flow in order, deciding visibility from answers on visible steps only."""
    today = today or local_today(flow)
    context: dict[str, Any] = {}
    steps: list[Step] = []
    fields: dict[str, tuple[Field, ...]] = {}
    for step in flow.steps:
        if not _shows(step.show_if, context, today):
            continue
        steps.append(step)
        shown = []
        for field in step.fields:
            if not _shows(field.show_if, context, today):
                continue
            shown.append(field)
            if field.type == "calculated":
                try:
                    value = conditions.evaluate(field.expr, context, today=today)
                except (ValueError, TypeError, ArithmeticError):
                    value = None
                # NaN and infinities (x / 0, a missing number + 1) mean "cannot work it out".
                if isinstance(value, float) and not math.isfinite(value):
                    value = None
                context[field.id] = value
            elif field.id in answers:
                context[field.id] = fieldtypes.rule_value(field, answers[field.id])
        fields[step.id] = tuple(shown)
        if step.end:  # the walkthrough ends here for these answers
            break
    return Journey(flow, tuple(steps), fields, context, today)


class _Whole(Journey):
    def choices(self, field: Field) -> tuple[Choice, ...]:
        return field.choices


def whole(flow: Flow, today: datetime.date | None = None) -> Journey:
    """Every step, field and choice of the flow, as if every condition held: the blank pages
    of the offline bundle, which the phone then narrows with the family's own answers."""
    return _Whole(flow, flow.steps, {s.id: s.fields for s in flow.steps}, {},
                  today or local_today(flow))


def next_step(j: Journey, step_id: str) -> Step | None:
    """The visible step after this one; None when the next thing is the review page.

    For a step that is not visible (a changed answer hid it), the first visible step after
    where it stands in the flow."""
    order = [s.id for s in j.flow.steps]
    if step_id not in order:
        return j.steps[0] if j.steps else None
    position = order.index(step_id)
    for step in j.steps:
        if order.index(step.id) > position:
            return step
    return None


def previous_step(j: Journey, step_id: str) -> Step | None:
    order = [s.id for s in j.flow.steps]
    if step_id not in order:
        return None
    position = order.index(step_id)
    before = [s for s in j.steps if order.index(s.id) < position]
    return before[-1] if before else None


def progress(j: Journey, step_id: str) -> tuple[int, int]:
    """("step n of m"): n counts visible steps up to this one; m adds every later step that
    could still be shown.

    A later step is left out only once its condition is settled: every answer it reads
    belongs to a step before this one (this page's own answers are still being given), so
    nothing the family does from here on can change it. So n grows by one a page, m never
    grows as the family goes forward (it can only shrink as answers rule pages out), and on
    the last page n equals m. A step reading only answers of steps that can no longer be
    shown is settled as well."""
    i = j.index(step_id)
    if i is None:
        return 0, len(j.steps)
    order = {s.id: k for k, s in enumerate(j.flow.steps)}
    here = order[step_id]
    owner = {f.id: order[s.id] for s in j.flow.steps for f in s.fields}
    # Later steps that can no longer be shown: an answer only they ask is settled too (it
    # will never be given), so a step reading it is settled like one reading earlier answers.
    gone: set[int] = set()
    later = 0
    if j.steps[i].end:  # nothing comes after an end step
        return i + 1, i + 1
    for k, step in enumerate(j.flow.steps[here + 1:], start=here + 1):
        names = conditions.variables(step.show_if) if step.show_if is not None else set()
        settled = all(owner.get(name, -1) < here or owner.get(name) in gone for name in names)
        if not settled or j.is_visible(step.id):
            later += 1
            if settled and step.end:  # it will be shown, and nothing after it
                break
        else:
            gone.add(k)
    return i + 1, i + 1 + later


@dataclass(frozen=True)
class ReviewRow:
    step: Step
    field: Field
    value: Any  # typed answer, None when not provided


@dataclass(frozen=True)
class ReviewGroup:
    step: Step
    rows: tuple[ReviewRow, ...]


def review(j: Journey, answers: Mapping[str, Any]) -> list[ReviewGroup]:
    """The answers a review page shows, grouped by step: visible steps and fields only."""
    groups = []
    for step in j.steps:
        rows = []
        for field in j.visible_fields(step):
            value = j.calculated(field.id) if not field.is_input else answers.get(field.id)
            if field.type == "checklist" and value:
                shown = {c.value for c in j.choices(field)}
                value = [v for v in value if v in shown]
            rows.append(ReviewRow(step, field, value))
        if rows:
            groups.append(ReviewGroup(step, tuple(rows)))
    return groups


def visible_answers(j: Journey, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Only the answers that count for these answers: what an export or answer sheet uses."""
    return {
        row.field.id: row.value
        for group in review(j, answers)
        for row in group.rows
        if row.field.is_input and not fieldtypes.is_empty(row.value)
    }


@dataclass(frozen=True)
class AnswerSheet:
    rows: tuple[ReviewRow, ...]  # given answers, in the order the official form asks for them
    checklists: tuple[ReviewRow, ...]  # document checklists (value: the ticked item ids)
    next_steps: tuple[Step, ...]  # the stages ahead


def answer_sheet(j: Journey, answers: Mapping[str, Any]) -> AnswerSheet:
    """What the family takes to the official app.

    Answers follow the flow's `answer_sheet` order (the official form's), then any others in
    flow order; the next steps are the instruction pages after the last question (the stages
    of the procedure), not the advice met on the way.
    """
    rows = [row for group in review(j, answers) for row in group.rows]
    given = [r for r in rows if r.field.is_input and r.field.type != "checklist"
             and not fieldtypes.is_empty(r.value)]
    order = {field_id: i for i, field_id in enumerate(j.flow.answer_sheet)}
    given.sort(key=lambda r: order.get(r.field.id, len(order)))  # stable: the rest keep order
    last_question = max((i for i, s in enumerate(j.steps) if s.kind != "instruction"),
                        default=-1)
    return AnswerSheet(tuple(given), tuple(r for r in rows if r.field.type == "checklist"),
                       j.steps[last_question + 1:])


def common_documents(flow: Flow) -> list[Choice]:
    """Checklist items every family needs (those with no condition): what to have ready before
    starting; the others depend on the answers and come with the checklist step."""
    return [c for s in flow.steps if s.kind == "checklist" for f in s.fields for c in f.choices
            if c.show_if is None]


def confirm_key(field: Field) -> str:
    """The form key of the box that confirms an answer despite its warning."""
    return f"{field.id}-confirm"


def read_step(
    j: Journey, step: Step, raw: Mapping[str, Any], answers: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Invalid]]:
    """What a person submitted for one step -> (typed values, errors by field id).

    Every visible input field gets a value (None for an empty optional answer), so saving the
    values also clears an answer that was removed. Errors keep the raw text for redisplay in
    the view; nothing is saved unless there are none.
    """
    values: dict[str, Any] = {}
    errors: dict[str, Invalid] = {}
    merged = dict(answers)
    for field in j.visible_fields(step):
        if not field.is_input:
            continue
        try:
            value = fieldtypes.read(field, raw.get(field.id), merged, j.today)
            if fieldtypes.is_empty(value) and field.required:
                raise Invalid(fieldtypes.REGISTRY[field.type].empty_code)
            if field.choices and not fieldtypes.is_empty(value):
                # Only the choices shown for these answers: a hidden one was never offered.
                shown = {c.value for c in j.choices(field)}
                if any(v not in shown for v in (value if isinstance(value, list) else [value])):
                    raise Invalid("not_a_choice")
            warning = fieldtypes.script_warning(field, value)
            if warning and raw.get(confirm_key(field)) != "yes":
                raise Invalid(warning)
        except Invalid as problem:
            errors[field.id] = problem
            continue
        values[field.id] = value
        merged[field.id] = value
    return values, errors


def check_answer(j: Journey, field: Field, answers: Mapping[str, Any]) -> Invalid | None:
    """Whether a stored answer still passes: required, and every rule of its type."""
    value = answers.get(field.id)
    if fieldtypes.is_empty(value):
        if field.required:
            return Invalid(fieldtypes.REGISTRY[field.type].empty_code)
        return None
    try:
        fieldtypes.validate(field, value, answers, j.today)
    except Invalid as problem:
        return problem
    return None


@dataclass(frozen=True)
class Problem:
    step: Step
    field: Field
    error: Invalid


def problems(j: Journey, answers: Mapping[str, Any]) -> list[Problem]:
    """Every visible answer that is missing or no longer valid, in journey order.

    Completion is allowed only when this is empty: each visible step is validated again, since
    answers may have been saved under other conditions, by another device, or offline.
    """
    found = []
    for step in j.steps:
        for field in j.visible_fields(step):
            if not field.is_input:
                continue
            error = check_answer(j, field, answers)
            if error is not None:
                found.append(Problem(step, field, error))
    return found


def missing(j: Journey, answers: Mapping[str, Any]) -> list[Problem]:
    """Required visible answers not given yet."""
    return [p for p in problems(j, answers) if p.error.code.startswith("required")]


def unvisited(j: Journey, step: Step, answers: Mapping[str, Any]) -> bool:
    """A question or checklist page never answered: none of its visible questions has a
    stored answer (an optional question left empty is stored as None, so it counts)."""
    inputs = [f for f in j.visible_fields(step) if f.is_input]
    return bool(inputs) and not any(f.id in answers for f in inputs)


def first_unfinished(j: Journey, answers: Mapping[str, Any]) -> Step | None:
    """The first visible step never answered or with a missing or invalid answer (None when
    all are done): where to resume, and what a change from the review opens."""
    broken = {p.step.id for p in problems(j, answers)}
    for step in j.steps:
        if step.id in broken or unvisited(j, step, answers):
            return step
    return None


def after_change(before: Journey, after: Journey, answers: Mapping[str, Any],
                 step_id: str) -> Step | None:
    """Where to go after changing an answer from the review page (None: back to the review).

    Pages the change made appear (advice that now applies, new questions) are shown first, in
    flow order after the changed step; then any page still unfinished; then the review.
    """
    order = [s.id for s in after.flow.steps]
    here = order.index(step_id) if step_id in order else -1
    for step in after.steps:
        if order.index(step.id) > here and not before.is_visible(step.id):
            return step
    return first_unfinished(after, answers)


def can_complete(j: Journey, answers: Mapping[str, Any]) -> bool:
    return not problems(j, answers)
