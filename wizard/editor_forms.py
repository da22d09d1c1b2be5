"""The studio's form editor: its forms, and how what was typed becomes a flow/editing.py call.

The forms only carry text. What is allowed (ids, types, numbers, conditions) is decided by
flow/editing.py, which refuses with an EditError; `place` puts that sentence next to the input
it is about, so the editor keeps one source of rules. Forms not posted are built with
formdata=None: FlaskForm would otherwise read another form's post and show it empty.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from markupsafe import Markup

from .flow import editing
from .flow.fieldtypes import N_
from .flow.loader import COMMON_KEYS, TYPE_KEYS
from .forms import OptionalPageField, PageField, PageForm, PageTextarea
from .people_forms import RadiosField

ID_ATTRS = {"autocapitalize": "none", "spellcheck": "false", "maxlength": 63}

KIND_LABELS = {"question": N_("Questions"), "instruction": N_("Something to read or do"),
               "checklist": N_("A checklist of papers to bring")}
TYPE_LABELS = {
    "text": N_("Short text"), "textarea": N_("Longer text"), "integer": N_("Whole number"),
    "decimal": N_("Number with decimals"), "date": N_("Date"),
    "choice": N_("One choice from a list"), "multichoice": N_("Several choices from a list"),
    "yes_no": N_("Yes or no"), "mobile": N_("Mobile phone number"),
    "resident_id": N_("Resident ID number"), "calculated": N_("Worked out from other answers"),
}
OP_LABELS = {
    "equals": N_("is"), "not_equals": N_("is not"),
    "is_one_of": N_("is one of (separate values with commas)"),
    "includes": N_("has ticked"), "answered": N_("is answered"),
    "not_answered": N_("is not answered"), "yes": N_("is Yes"), "no": N_("is No"),
    "at_least": N_("is at least"), "at_most": N_("is at most"),
}


def _with_code(labels: dict, codes) -> list[tuple[str, Markup]]:
    # The code beside the plain words: it is what the YAML and the loader's messages say.
    return [(code, Markup("{} <code>{}</code>").format(gettext(labels.get(code, code)), code))
            for code in codes]


class OptionalTextarea(PageTextarea):
    required = False


class SelectField(PageField):
    """A drop-down list: the condition builder's answer and operator (too many for radios).
    Shown by templates/studio/edit_condition.html; `choice_list` is (value, text)."""

    macro = "select"
    required = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.choice_list: list[tuple[str, str]] = []


def _add_error(field, message: str) -> None:
    # Errors are a tuple until a form is validated; these forms are not (editing.py decides).
    field.errors = [*field.errors, message]


def place(form: PageForm, message: str, rules: list[tuple[str, str]]) -> None:
    """Show an EditError next to the input it is about: the first rule whose words appear
    in the message, else the form's first input."""
    for words, name in rules:
        if words in message and name in form:
            _add_error(form[name], message)
            return
    _add_error(next(iter(form)), message)


# ---------------------------------------------------------------- show_if, built or typed


class ConditionForm(PageForm):
    """A condition: none, one answer compared with one value (the builder), or an expression.
    Step and field forms inherit it."""

    cond_mode = RadiosField(N_("Show this only if"), choices=[
        ("none", N_("Always show it")),
        ("simple", N_("An earlier answer is…")),
        ("expression", N_("A condition I write myself"))])
    cond_field = SelectField(N_("Answer"))
    cond_op = SelectField(N_("Comparison"))
    cond_value = OptionalPageField(N_("Value"), hint=lambda: gettext(
        "A choice value such as other, a number, or a date YYYY-MM-DD"), attrs=ID_ATTRS)
    cond_expr = OptionalTextarea(N_("Condition"), hint=lambda: gettext(
        "For example: hukou == 'other' and has_permit. It is checked when you save."),
        attrs={"spellcheck": "false", "autocapitalize": "none"})

    CONDITION_RULES = [("answer name", "cond_field"), ("operator", "cond_op")]

    def offer(self, answers: list[dict]) -> None:
        self.cond_field.choice_list = [(a["id"], f"{a['id']} – {a['label']}" if a["label"]
                                        else a["id"]) for a in answers]
        self.cond_op.choice_list = [(op, gettext(OP_LABELS[op])) for op in editing.SIMPLE_OPS]

    def show_if(self, answers: list[dict]) -> str:
        """The show_if text for what was chosen ("" for none); EditError from the builder."""
        mode = self.cond_mode.data
        if mode == "simple":
            types = {a["id"]: a["type"] for a in answers}
            field = (self.cond_field.data or "").strip()
            return editing.simple_condition(field, (self.cond_op.data or "").strip(),
                                            self.cond_value.data or "", types.get(field))
        if mode == "expression":
            return " ".join((self.cond_expr.data or "").split())
        return ""

    def place_condition(self, message: str) -> None:
        for words, name in self.CONDITION_RULES:
            if words in message:
                _add_error(self[name], message)
                return
        target = self.cond_expr if self.cond_mode.data == "expression" else self.cond_value
        _add_error(target, message)


def condition_data(source: str, answers: list[dict]) -> dict:
    """The builder's inputs for a saved show_if: the builder when it could have made it (and
    the answer is an earlier one), else the text box."""
    if not source:
        return {"cond_mode": "none", "cond_expr": ""}
    simple = editing.parse_simple(source)
    if simple and simple[0] in {a["id"] for a in answers}:
        field, op, value = simple
        return {"cond_mode": "simple", "cond_field": field, "cond_op": op,
                "cond_value": value, "cond_expr": source}
    return {"cond_mode": "expression", "cond_expr": source}


def answers_before(outline: list[dict], step_id: str, field_id: str | None = None) -> list[dict]:
    """The answers a condition here may read: those of earlier steps and, for a field, of the
    fields above it in its step (the loader refuses later ones)."""
    found = []
    for step in outline:
        for field in step["fields"]:
            if step["id"] == step_id and (field_id is None or field["id"] == field_id):
                return found
            found.append({"id": field["id"], "type": field["type"], "label": field["label"]})
        if step["id"] == step_id:
            return found
        if step["kind"] == "checklist" and isinstance(step["id"], str):
            found.append({"id": step["id"].replace("-", "_"), "type": "multichoice",
                          "label": step["title"]})
    return found


# ---------------------------------------------------------------- the outline


class AddStepForm(PageForm):
    new_step_id = PageField(N_("Id of the new step"), hint=lambda: gettext(
        "Lower-case letters, digits and dashes, like hukou-permit. It is part of the page's "
        "address."), attrs=ID_ATTRS)
    new_step_kind = RadiosField(N_("Kind of step"), choices=list(KIND_LABELS.items()))
    new_step_title = PageField(N_("Title of the new step"), attrs={"maxlength": 120})

    RULES = [("kind", "new_step_kind"), ("title", "new_step_title")]


# ---------------------------------------------------------------- a step


YES_NO_END = [("no", N_("No, the walkthrough goes on")),
              ("yes", N_("Yes, later steps are not asked"))]


class StepForm(ConditionForm):
    step_id = PageField(N_("Step id"), hint=lambda: gettext(
        "Changing it changes the page's address."), attrs=ID_ATTRS)
    kind = RadiosField(N_("Kind of step"), choices=list(KIND_LABELS.items()))
    title = PageField(N_("Title"), attrs={"maxlength": 120})
    body = OptionalTextarea(N_("Text of the page (Markdown)"), hint=lambda: gettext(
        "**bold**, lists with -, links as [words](https://…)"))
    image = OptionalPageField(N_("Picture file"), hint=lambda: gettext(
        "A file under static/, like img/login.png"), attrs=ID_ATTRS)
    image_alt = OptionalPageField(N_("What the picture shows (for people who cannot see it)"))
    # Shown and sent only when the schema has the step key `end` (HAS_END).
    end = RadiosField(N_("Does the walkthrough end after this page when it is shown?"),
                      choices=YES_NO_END)

    RULES = [("step id", "step_id"), ("kind", "kind"), ("fields before", "kind"),
             ("items before", "kind"), ("title", "title"), ("picture", "image"),
             ("yes or no", "end")]

    def values(self, answers: list[dict]) -> dict:
        values = {"id": (self.step_id.data or "").strip(), "kind": self.kind.data or "question",
                  "title": self.title.data, "body": self.body.data, "image": self.image.data,
                  "image_alt": self.image_alt.data, "show_if": self.show_if(answers)}
        if has_end():
            # "No" removes the key: false is the default, and the file stays short.
            values["end"] = "true" if self.end.data == "yes" else ""
        return values


def has_end() -> bool:
    """Whether steps may end the walkthrough (the schema's step key `end`)."""
    return "end" in editing.STEP_KEYS


def step_data(values: dict, answers: list[dict]) -> dict:
    return {"step_id": values["id"], **{k: values[k] for k in
            ("kind", "title", "body", "image", "image_alt")},
            "end": "yes" if values.get("end") == "true" else "no",
            **condition_data(values["show_if"], answers)}


class AddFieldForm(PageForm):
    new_field_id = PageField(N_("Id of the new question"), hint=lambda: gettext(
        "Lower-case letters, digits and _, like child_name. Unique in the whole flow: the "
        "answer is saved under it."), attrs=ID_ATTRS)
    new_field_type = RadiosField(N_("Kind of answer"), choices=[])
    new_field_label = PageField(N_("The question"), attrs={"maxlength": 200})

    RULES = [("field id", "new_field_id"), ("already a field", "new_field_id"),
             ("type", "new_field_type"), ("label", "new_field_label"),
             ("question step", "new_field_id")]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.new_field_type.choice_list = _with_code(TYPE_LABELS, editing.FIELD_TYPES)


class AddItemForm(PageForm):
    new_item_id = PageField(N_("Id of the new paper"), hint=lambda: gettext(
        "Lower-case letters, digits and _, like birth_certificate"), attrs=ID_ATTRS)
    new_item_label = PageField(N_("Name of the paper"))
    new_item_official = OptionalPageField(N_("Its official name (Chinese)"))

    RULES = [("item id", "new_item_id"), ("label", "new_item_label")]


# ---------------------------------------------------------------- a field

# The rules a field of each type may have, in the schema's order (shown only where they apply).
RULE_KEYS = tuple(k for k in editing.FIELD_KEYS if k not in COMMON_KEYS)
TEXTAREA_KEYS = {"help", "expr"}


class FieldForm(ConditionForm):
    field_id = PageField(N_("Question id"), hint=lambda: gettext(
        "Changing it also changes the conditions that read this answer."), attrs=ID_ATTRS)
    type = RadiosField(N_("Kind of answer"), choices=[])
    label = PageField(N_("The question"))
    hint = OptionalPageField(N_("Hint under the question"))
    help = OptionalTextarea(N_("Help with this question (Markdown)"))
    official = OptionalPageField(N_("The official term (Chinese), as on the government form"))
    required = RadiosField(N_("Must it be answered?"), choices=[
        ("yes", N_("Yes, it must be answered")), ("no", N_("No, it may be left empty"))])
    required_message = OptionalPageField(N_("Message when it is left empty"))
    min = OptionalPageField(N_("Smallest value"), hint=lambda: gettext(
        "A number; for a date YYYY-MM-DD or today"), attrs=ID_ATTRS)
    max = OptionalPageField(N_("Largest value"), hint=lambda: gettext(
        "A number; for a date YYYY-MM-DD or today"), attrs=ID_ATTRS)
    range_message = OptionalPageField(N_("Message when the value is too small or too big"))
    min_length = OptionalPageField(N_("Fewest characters (or ticks)"), attrs={
        "inputmode": "numeric"})
    max_length = OptionalPageField(N_("Most characters (or ticks)"), attrs={
        "inputmode": "numeric"})
    length_message = OptionalPageField(N_("Message when the length is wrong"))
    pattern = OptionalPageField(N_("Pattern the answer must match (regular expression)"),
                                attrs={"spellcheck": "false", "autocapitalize": "none"})
    pattern_message = OptionalPageField(N_("Message when the pattern does not match"))
    places = OptionalPageField(N_("Decimal places"), attrs={"inputmode": "numeric"})
    expr = OptionalTextarea(N_("How it is worked out (expression)"), attrs={
        "spellcheck": "false", "autocapitalize": "none"})
    unit = OptionalPageField(N_("Unit shown after the value"))
    birth_date_field = OptionalPageField(N_("Id of the date-of-birth question to compare with"),
                                         attrs=ID_ATTRS)
    script = OptionalPageField(N_("Writing"), hint=lambda: gettext(
        "han: Chinese characters only; empty: any"), attrs=ID_ATTRS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.type.choice_list = _with_code(TYPE_LABELS, editing.FIELD_TYPES)

    @staticmethod
    def rules_for(field_type: Any) -> list[str]:
        """The rule inputs shown for a field of this type."""
        allowed = TYPE_KEYS.get(field_type, set())
        return [k for k in RULE_KEYS if k in allowed]

    def place_error(self, message: str) -> None:
        rules = [("field id", "field_id"), ("already a field", "field_id"),
                 ("choices", "type"), ("field type", "type"), ("yes or no", "required")]
        rules += [(f"{k} must", k) for k in RULE_KEYS]
        place(self, message, rules)

    def values(self, old_type: Any, answers: list[dict]) -> dict:
        """What set_field gets: the shown keys; a new type keeps only the keys it allows
        (set_field drops the others, and says which)."""
        new_type = (self.type.data or "").strip() or old_type
        keys = ["label", "hint", "help", "official", "required_message",
                *self.rules_for(old_type)]
        if new_type != old_type:
            keys = [k for k in keys if k in TYPE_KEYS.get(new_type, set()) | COMMON_KEYS]
        values = {k: self[k].data or "" for k in keys}
        values.update(id=(self.field_id.data or "").strip(), type=new_type,
                      required=self.required.data or "yes",
                      show_if=self.show_if(answers))
        return values


def field_data(values: dict, answers: list[dict]) -> dict:
    data = {k: values.get(k, "") for k in editing.FIELD_KEYS if k not in ("id", "show_if")}
    data.update(field_id=values["id"], required="yes" if values["required"] else "no",
                **condition_data(values["show_if"], answers))
    return data


class AddChoiceForm(PageForm):
    new_choice_value = PageField(N_("Value of the new choice"), hint=lambda: gettext(
        "Lower-case letters, digits and _, like other. Conditions compare with it."),
        attrs=ID_ATTRS)
    new_choice_label = PageField(N_("Words of the new choice"))
    new_choice_official = OptionalPageField(N_("Official term of the new choice (Chinese)"))

    RULES = [("choice value", "new_choice_value"), ("label", "new_choice_label"),
             ("only choice", "new_choice_value")]


# ---------------------------------------------------------------- the walkthrough itself


class FlowForm(PageForm):
    """The flow's own properties (editing.flow_values / set_flow); texts in one language."""

    title = PageField(N_("Title of the walkthrough"), attrs={"maxlength": 120})
    # Not `summary`: that is PageForm's list of errors.
    short_summary = OptionalPageField(N_("Summary in one sentence"), hint=lambda: gettext(
        "Shown under the title in the list of walkthroughs"), attrs={"maxlength": 200})
    intro = OptionalTextarea(N_("Introduction (Markdown)"), hint=lambda: gettext(
        "Shown before the first step. **bold**, lists with -, links as [words](https://…)"))
    minutes = OptionalPageField(N_("About how many minutes it takes"), attrs={
        "inputmode": "numeric", "maxlength": 3})
    opens = OptionalPageField(N_("Opens on"), hint=lambda: gettext(
        "A date YYYY-MM-DD, like 2027-04-22. Empty: open now."), attrs=ID_ATTRS)
    deadline = OptionalPageField(N_("Deadline"), hint=lambda: gettext(
        "The last day, as YYYY-MM-DD, like 2027-04-29. Empty: no deadline."), attrs=ID_ATTRS)
    timezone = OptionalPageField(N_("Time zone"), hint=lambda: gettext(
        "Empty: Asia/Shanghai. Dates such as the deadline end at midnight in this zone."),
        attrs=ID_ATTRS)
    resume_fact = RadiosField(N_("What a family gives to come back to their answers"),
                              choices=[], hint=lambda: gettext(
        "With their resume code, families give the answer to one date question they know "
        "by heart."))

    RULES = [("title", "title"), ("minutes", "minutes"), ("opens", "opens"),
             ("deadline", "deadline"), ("time zone", "timezone"), ("resume", "resume_fact")]

    # input name -> flow key
    KEYS = {"title": "title", "short_summary": "summary", "intro": "intro",
            "minutes": "minutes", "opens": "opens", "deadline": "deadline",
            "timezone": "timezone", "resume_fact": "resume_fact"}

    def offer(self, outline: list[dict], current: str) -> None:
        """The date questions of the flow (and the current fact, should it be another)."""
        dates = [(f["id"], f["label"]) for s in outline for f in s["fields"]
                 if f["type"] == "date"]
        if current and current not in {i for i, _ in dates}:
            dates.append((current, ""))
        self.resume_fact.choice_list = [("", N_("None"))] + [
            (i, Markup("{} <code>{}</code>").format(label, i) if label
             else Markup("<code>{}</code>").format(i)) for i, label in dates]

    def values(self) -> dict:
        return {key: self[name].data or "" for name, key in self.KEYS.items()}


def flow_data(values: dict) -> dict:
    return {name: values.get(key, "") for name, key in FlowForm.KEYS.items()}


class AddLanguageForm(PageForm):
    new_language = RadiosField(N_("Language to add"), choices=[])

    RULES = [("language", "new_language")]

    def offer(self, languages: dict, present: list[str]) -> None:
        """languages: code -> (name in itself, ...), as i18n.LANGUAGES."""
        self.new_language.choice_list = [
            (code, Markup('<span lang="{}">{}</span> <code>{}</code>').format(
                names[1], names[0], code))
            for code, names in languages.items() if code not in present]
