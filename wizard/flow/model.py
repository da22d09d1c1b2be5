"""The flow language's data model: what a loaded, checked flow is.

Frozen dataclasses, built only by the loader. Nothing here knows about Flask, SQL or HTML,
so the engine, the server and the command line can all share one definition.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Mapping

# A translatable text: language code -> text. The loader turns a plain string into
# {default_language: string}. Empty mapping means "no text".
Text = Mapping[str, str]

STEP_KINDS = ("question", "instruction", "checklist")


def pick(text: Text | None, lang: str, default_lang: str) -> tuple[str, str | None]:
    """The text in `lang`, else in the flow's default language.

    Returns (text, language actually used) so a page can mark a fallback visibly;
    ("", None) when there is no text at all.
    """
    if not text:
        return "", None
    if text.get(lang):
        return text[lang], lang
    if text.get(default_lang):
        return text[default_lang], default_lang
    first = next(iter(text))
    return text[first], first


@dataclass(frozen=True)
class Choice:
    """One option of a choice, multichoice or checklist field."""

    value: str
    label: Text
    official: str | None = None
    hint: Text | None = None
    help: Text | None = None
    show_if: Any = None  # compiled rule, or None for always shown
    show_if_source: str | None = None


@dataclass(frozen=True)
class Field:
    id: str
    type: str
    path: str  # key path in the flow file, e.g. "steps[2].fields[0]": names it in messages
    label: Text = field(default_factory=dict)
    official: str | None = None
    hint: Text | None = None
    help: Text | None = None
    required: bool = True
    required_message: Text | None = None
    min: Any = None  # number, ISO date string, or "today"
    max: Any = None
    range_message: Text | None = None
    min_length: int | None = None
    max_length: int | None = None
    length_message: Text | None = None
    pattern: str | None = None
    pattern_message: Text | None = None
    places: int | None = None
    choices: tuple[Choice, ...] = ()
    show_if: Any = None
    show_if_source: str | None = None
    expr: Any = None  # calculated fields: compiled rule
    expr_source: str | None = None
    unit: Text | None = None
    birth_date_field: str | None = None
    # A text the official form wants in one script (a child's name as in the household
    # register: "han"): another script gets a soft warning the family can confirm.
    script: str | None = None

    @property
    def is_input(self) -> bool:
        """Whether a person types or picks this answer (calculated values are worked out)."""
        return self.type != "calculated"

    def choice(self, value: str) -> Choice | None:
        for c in self.choices:
            if c.value == value:
                return c
        return None


@dataclass(frozen=True)
class Step:
    id: str
    kind: str
    path: str
    title: Text = field(default_factory=dict)
    body: Text | None = None
    image: str | None = None
    image_alt: Text | None = None
    show_if: Any = None
    show_if_source: str | None = None
    fields: tuple[Field, ...] = ()
    # The walkthrough ends after this step when it is shown ("your child is too young this
    # year"): no later step is asked, whatever its condition.
    end: bool = False

    @property
    def input_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.is_input)


@dataclass(frozen=True)
class Flow:
    id: str
    version: int
    languages: tuple[str, ...]
    title: Text
    steps: tuple[Step, ...]
    summary: Text | None = None
    intro: Text | None = None
    minutes: int | None = None
    deadline: datetime.date | None = None
    # When the official procedure opens (a family can do nothing there before): shown beside
    # the deadline wherever the deadline is, so nobody tries on day one of the countdown.
    opens: datetime.date | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    # The date answer a family types, with the resume code, to resume on another phone
    # (the child's date of birth); without one, the family chooses a PIN.
    resume_fact: str | None = None
    # Field ids in the order the official form asks for them (the answer sheet's order).
    answer_sheet: tuple[str, ...] = ()
    # IANA time zone of the procedure: every date the engine computes (ages, deadlines, days
    # left) is in this zone, whatever the server's or the phone's own zone.
    timezone: str = "Asia/Shanghai"
    source: str = ""  # the exact text the flow was loaded from (what a version publishes)

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def step(self, step_id: str) -> Step | None:
        for s in self.steps:
            if s.id == step_id:
                return s
        return None

    def place(self, step_id: str) -> int | None:
        """A step's place in the flow's order (0 first), whether or not a family sees it."""
        for i, s in enumerate(self.steps):
            if s.id == step_id:
                return i
        return None

    def field(self, field_id: str) -> Field | None:
        for s in self.steps:
            for f in s.fields:
                if f.id == field_id:
                    return f
        return None

    def step_of(self, field_id: str) -> Step | None:
        for s in self.steps:
            if any(f.id == field_id for f in s.fields):
                return s
        return None

    def text(self, text: Text | None, lang: str) -> str:
        return pick(text, lang, self.default_language)[0]
