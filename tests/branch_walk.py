"""Every branch of a flow, as a family would walk it: pure Python over the engine, no Flask.

`paths(flow, today)` walks the journey depth-first from its first step, the way the pages do
(`engine.journey`, `engine.next_step`, the visible fields and choices of each step), and
branches on every value of every input field whose answer changes what is shown: any field
read by a `show_if` (of a step, field, choice or checklist item) or by a calculated `expr`.
Every other field gets one valid value. Each path is a list of (step_id, form_data), where
form_data is what a browser posts for that step: dates as `<id>-day`, `<id>-month` and
`<id>-year`, yes/no as "yes"/"no", multichoice and checklist answers as lists of values.

Dates read by conditions are tried with a few samples: the dates in the flow's `data` that the
field accepts (e.g. the birth window's start and end), plus a year before the earliest and a
year after the latest (outside any window the data describes), when the field accepts them.

Paths that visit the same steps showing the same fields and choices are kept once; a path is
kept anyway when it is the only one to take some value of a condition field, so every choice
that matters is still taken somewhere.
"""

from __future__ import annotations

import datetime
import re
from typing import Any, Iterable, Mapping

from wizard import engine
from wizard.flow import conditions, fieldtypes
from wizard.flow.model import Field, Flow, Step

Path = list[tuple[str, dict[str, Any]]]

NAME = "王小明"
MOBILE = "13800138000"
ID_PREFIX = "310104"  # Shanghai, Xuhui: the first six digits of a resident ID
ID_SEQUENCE = "001"
MAX_PATHS = 20_000  # raw paths before de-duplication: a flow that branches more is a mistake here

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# ---------------------------------------------------------------- what conditions read


def rules(flow: Flow) -> Iterable[Any]:
    """Every compiled rule of the flow: show_if of steps, fields, choices and checklist items,
    and the expr of calculated fields."""
    for step in flow.steps:
        if step.show_if is not None:
            yield step.show_if
        for f in step.fields:
            if f.show_if is not None:
                yield f.show_if
            if f.expr is not None:
                yield f.expr
            for c in f.choices:
                if c.show_if is not None:
                    yield c.show_if


def condition_fields(flow: Flow) -> set[str]:
    """Ids of the input fields some rule reads (a dotted name counts for its first part)."""
    ids = {f.id for s in flow.steps for f in s.fields if f.is_input}
    found = set()
    for rule in rules(flow):
        for name in conditions.variables(rule):
            for candidate in (name, name.split(".")[0]):
                if candidate in ids:
                    found.add(candidate)
    return found


# ---------------------------------------------------------------- sample values


def _data_dates(value: Any) -> Iterable[datetime.date]:
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        yield value
    elif isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            yield datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _data_dates(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _data_dates(v)


def _year_shift(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def sample_dates(flow: Flow, field: Field, today: datetime.date) -> list[datetime.date]:
    """Dates worth trying in a date field: the flow's data dates it accepts, and one year
    before the earliest and after the latest of those (outside the window), when accepted."""
    low = fieldtypes.resolve_date_bound(field.min, today)
    high = fieldtypes.resolve_date_bound(field.max, today)

    def accepted(day: datetime.date) -> bool:
        return (low is None or day >= low) and (high is None or day <= high)

    inside = sorted({d for d in _data_dates(flow.data) if accepted(d)})
    if not inside:  # no data dates it accepts: a bound, or a few years before today
        inside = [high or low or _year_shift(today, -3)]
    outside = [_year_shift(inside[0], -1), _year_shift(inside[-1], 1)]
    return sorted({*inside, *(d for d in outside if accepted(d))})


def resident_id(born: datetime.date, prefix: str = ID_PREFIX, sequence: str = ID_SEQUENCE) -> str:
    first17 = f"{prefix}{born:%Y%m%d}{sequence}"
    return first17 + fieldtypes.id_check_digit(first17)


def _numbers(field: Field) -> list[Any]:
    low = field.min if isinstance(field.min, (int, float)) else None
    high = field.max if isinstance(field.max, (int, float)) else None
    if low is not None and high is not None:
        picks = [low, (low + high) / 2, high]
    elif low is not None:
        picks = [low, low + 1]
    elif high is not None:
        picks = [high - 1, high]
    else:
        picks = [1, 0]
    if field.type == "integer":
        picks = [int(p) for p in picks]
    out = []
    for p in picks:
        text = str(p)
        if field.type == "decimal" and field.places is not None:
            text = f"{float(p):.{field.places}f}"
        if text not in out:
            out.append(text)
    return out


def candidates(flow: Flow, j: engine.Journey, field: Field, answers: Mapping[str, Any],
               branch: bool) -> list[Any]:
    """Form values to try for a field (in the shape the field registry reads; a date as a
    datetime.date). With branch, every value that can change what is shown; else the first
    of them is enough, but more are offered in case one is refused."""
    today = j.today
    t = field.type
    shown = [c.value for c in j.choices(field)]
    if t == "choice":
        values: list[Any] = shown
    elif t == "multichoice":
        values = [[v] for v in shown]
    elif t == "checklist":
        values = [[v] for v in shown] + [[]]
        if branch:
            values = [[]] + [[v] for v in shown]
    elif t == "yes_no":
        values = ["yes", "no"]
    elif t == "date":
        values = sample_dates(flow, field, today)
        if not branch:
            inside = [d for d in values if d in set(_data_dates(flow.data))]
            values = inside + [d for d in values if d not in inside]
    elif t in ("text", "textarea"):
        # A Chinese name first; the others in case a pattern or length rule refuses it.
        values = [NAME, "王小明同学", "Wang Xiaoming", "12345",
                  "a" * max(field.min_length or 1, 1)]
    elif t == "mobile":
        values = [MOBILE]
    elif t == "resident_id":
        born = answers.get(field.birth_date_field) if field.birth_date_field else None
        day = datetime.date.fromisoformat(born) if born else _year_shift(today, -3)
        values = [resident_id(day)]
    elif t in ("integer", "decimal"):
        values = _numbers(field)
    else:
        raise ValueError(f"field {field.id}: no sample values for type {t!r}")
    if branch and not field.required and t not in ("checklist",):
        values = values + [""]
    return values


def form_part(field: Field, value: Any) -> dict[str, Any]:
    """A field's value as a browser posts it."""
    if field.type == "date":
        if value in ("", None):
            return {f"{field.id}-{p}": "" for p in ("day", "month", "year")}
        return {f"{field.id}-day": str(value.day), f"{field.id}-month": str(value.month),
                f"{field.id}-year": str(value.year)}
    return {field.id: value}


def raw_from_form(fields: Iterable[Field], form: Mapping[str, Any]) -> dict[str, Any]:
    """What the server reads from a posted form (as the fields of wizard.forms do, without
    Flask: this module is pure, for engine-level tests)."""
    raw: dict[str, Any] = {}
    for f in fields:
        widget = fieldtypes.REGISTRY[f.type].widget
        if widget == "date":
            raw[f.id] = {p: form.get(f"{f.id}-{p}", "") for p in ("day", "month", "year")}
        elif widget in ("checkboxes", "checklist"):
            v = form.get(f.id, [])
            raw[f.id] = [v] if isinstance(v, str) else list(v)
        else:
            raw[f.id] = form.get(f.id, "")
    return raw


def _valid(field: Field, value: Any, merged: Mapping[str, Any], today: datetime.date) -> bool:
    raw = raw_from_form([field], form_part(field, value))[field.id]
    try:
        typed = fieldtypes.read(field, raw, merged, today)
    except fieldtypes.Invalid:
        return False
    return not (field.required and fieldtypes.is_empty(typed))


# ---------------------------------------------------------------- the walk


def read_path_step(j: engine.Journey, step: Step, form: Mapping[str, Any],
                   answers: Mapping[str, Any]):
    """engine.read_step on a posted form: (typed values, errors)."""
    return engine.read_step(j, step, raw_from_form(j.visible_fields(step), form), answers)


def _step_forms(flow: Flow, j: engine.Journey, step: Step, answers: Mapping[str, Any],
                relevant: set[str]) -> list[dict[str, Any]]:
    """Every form to post on this step: each combination of the values of its condition
    fields, the other fields with their first valid value."""
    fields = [f for f in j.visible_fields(step) if f.is_input]
    forms: list[dict[str, Any]] = []

    def expand(i: int, merged: dict[str, Any], form: dict[str, Any]) -> None:
        if i == len(fields):
            forms.append(form)
            return
        f = fields[i]
        branch = f.id in relevant
        good = [v for v in candidates(flow, j, f, merged, branch)
                if _valid(f, v, merged, j.today)]
        if not good:
            raise ValueError(f"step {step.id}: no valid sample value for field {f.id} "
                             f"({f.type}); teach tests/branch_walk.py one")
        for value in (good if branch else good[:1]):
            part = form_part(f, value)
            raw = raw_from_form([f], part)[f.id]
            typed = fieldtypes.read(f, raw, merged, j.today)
            expand(i + 1, {**merged, f.id: typed}, {**form, **part})

    expand(0, dict(answers), {})
    return forms


def signature(j: engine.Journey, step: Step) -> tuple:
    """What a page shows that an answer could change: its visible fields and their choices."""
    return (step.id, tuple((f.id, tuple(c.value for c in j.choices(f)))
                           for f in j.visible_fields(step)))


def raw_paths(flow: Flow, today: datetime.date) -> list[tuple[Path, tuple]]:
    """Every path, not de-duplicated, with its signature (what each of its pages showed)."""
    relevant = condition_fields(flow)
    found: list[tuple[Path, tuple]] = []

    def walk(answers: dict[str, Any], step: Step | None, trail: Path, shown: tuple) -> None:
        if step is None:
            found.append((trail, shown))
            if len(found) > MAX_PATHS:
                raise RuntimeError(f"{flow.id}: more than {MAX_PATHS} paths")
            return
        j = engine.journey(flow, answers, today)
        sig = shown + (signature(j, step),)
        for form in _step_forms(flow, j, step, answers, relevant):
            values, errors = read_path_step(j, step, form, answers)
            if errors:
                raise ValueError(f"step {step.id}: the walk's own answers were refused: "
                                 f"{ {k: e.code for k, e in errors.items()} } for {form}")
            after = {**answers, **values}
            following = engine.next_step(engine.journey(flow, after, today), step.id)
            walk(after, following, trail + [(step.id, form)], sig)

    first = engine.journey(flow, {}, today).steps
    walk({}, first[0] if first else None, [], ())
    return found


def taken(flow: Flow, path: Path, relevant: set[str] | None = None) -> set[tuple[str, str]]:
    """(field id, value) pairs a path posts for the condition fields (lists: each value;
    dates, posted as three boxes, are not counted)."""
    relevant = condition_fields(flow) if relevant is None else relevant
    out = set()
    for _step_id, form in path:
        for key, value in form.items():
            if key in relevant:
                for v in (value if isinstance(value, list) else [value]):
                    out.add((key, str(v)))
    return out


def untaken(flow: Flow, found: Iterable[Path], relevant: set[str]) -> list[tuple[str, str]]:
    """(field id, value) pairs of the condition fields that no path posts: every choice of
    a choice or checklist field, yes and no of a yes/no field (other types are not counted)."""
    done = set().union(*(taken(flow, path, relevant) for path in found))
    missing = []
    for field_id in sorted(relevant):
        field = flow.field(field_id)
        if field.type in ("choice", "multichoice", "checklist"):
            wanted = [c.value for c in field.choices]
        elif field.type == "yes_no":
            wanted = ["yes", "no"]
        else:
            continue
        missing += [(field_id, v) for v in wanted if (field_id, v) not in done]
    return missing


def paths(flow: Flow, today: datetime.date) -> list[Path]:
    """Every branch of the flow (see the module docstring), de-duplicated."""
    relevant = condition_fields(flow)
    kept: list[Path] = []
    seen: set[tuple] = set()
    covered: set[tuple[str, str]] = set()
    dropped: list[Path] = []
    for path, shown in raw_paths(flow, today):
        if shown in seen:
            dropped.append(path)
            continue
        seen.add(shown)
        kept.append(path)
        covered |= taken(flow, path, relevant)
    # Choice values whose every path showed the same pages as another: keep one path each, so
    # every value of a condition field is still taken (its answer shows on review and sheet).
    for path in dropped:
        new = taken(flow, path, relevant) - covered
        if new:
            kept.append(path)
            covered |= new
    return kept


def answers_of(flow: Flow, path: Path, today: datetime.date):
    """The answers a path's forms make, read by engine.read_step step by step, and the
    errors met (step id, field id, error code)."""
    answers: dict[str, Any] = {}
    errors: list[tuple[str, str, str]] = []
    for step_id, form in path:
        j = engine.journey(flow, answers, today)
        values, errs = read_path_step(j, flow.step(step_id), form, answers)
        errors += [(step_id, k, e.code) for k, e in errs.items()]
        answers.update(values)
    return answers, errors


def journeys_along(flow: Flow, path: Path, today: datetime.date):
    """(step id, the journey as that step's page is shown: answers before it) for each step."""
    answers: dict[str, Any] = {}
    out = []
    for step_id, form in path:
        j = engine.journey(flow, answers, today)
        out.append((step_id, j))
        values, _errs = read_path_step(j, flow.step(step_id), form, answers)
        answers.update(values)
    return out


def describe(path: Path, only: set[str] | None = None) -> str:
    """A readable name of a path: its steps and the values it posted; with `only` (field
    ids), just those values, e.g. "child_dob=2022-9-1, hukou=hk_mo_tw, housing=own"."""
    parts = []
    for step_id, form in path:
        shown = []
        for key, value in form.items():
            if key.endswith("-day") or key.endswith("-month"):
                continue
            if key.endswith("-year"):
                base = key[:-len("-year")]
                value = f"{value}-{form.get(base + '-month')}-{form.get(base + '-day')}"
                key = base
            elif isinstance(value, list):
                value = "/".join(value)
            if only is None or key in only:
                shown.append(f"{key}={value}")
        if only is not None:
            parts += shown
        else:
            parts.append(f"{step_id}({','.join(shown)})" if shown else step_id)
    return ", ".join(parts) if only is not None else " > ".join(parts)


__all__ = ["paths", "raw_paths", "answers_of", "journeys_along", "condition_fields",
           "sample_dates", "resident_id", "describe", "taken"]
