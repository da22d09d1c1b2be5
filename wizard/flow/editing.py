"""Edits of a flow draft's YAML text, for the studio's form-based editor (no code to write).

Each form post loads the draft's text with :func:`load`, calls one operation here and saves
:func:`dump`'s text; the loader then checks the whole flow. The operations work on ruamel.yaml's
round-trip document (the same settings as translations.py), so comments, quotes and layout of
everything the edit does not touch stay as the author wrote them.

What this module refuses (:class:`EditError`, a short English sentence the editor shows) is
what one operation can know: an unknown step, field or choice; an id that breaks the id pattern,
is reserved or is already used. Everything that needs the whole flow (a condition naming a later
answer, a question step with no fields yet, a missing translation) is left to the loader, which
names it with its key path: a draft may be incomplete between two posts.

Form values arrive as text. Texts are set in one language at a time, keeping the others; other
values are converted to what the schema wants (numbers, true/false) and an empty value removes
the key.
"""

from __future__ import annotations

import datetime
import io
import re
import tokenize
import zoneinfo
from typing import Any

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)
from ruamel.yaml.tokens import CommentToken

from . import conditions
from .loader import (
    COMMON_KEYS,
    MAX_FILE_BYTES,
    RESERVED_FIELD_IDS,
    RESERVED_STEP_IDS,
    SCHEMA,
    TEXT_KEYS,
    TYPE_KEYS,
)
from .translations import _put_last, _yaml

__all__ = [
    "EditError", "load", "dump", "starter",
    "step_ids", "field_ids", "outline",
    "add_step", "move_step", "remove_step", "step_values", "set_step",
    "add_field", "move_field", "remove_field", "field_values", "set_field",
    "add_choice", "move_choice", "remove_choice", "choice_values", "set_choice",
    "add_item", "move_item", "remove_item", "item_values", "set_item",
    "flow_values", "set_flow", "add_language", "remove_language", "date_fields", "uses",
    "simple_condition", "parse_simple", "SIMPLE_OPS",
]


class EditError(ValueError):
    """An edit refused; str(err) is a short sentence for the editor to show."""


_DEFS = SCHEMA["$defs"]
STEP_ID = re.compile(_DEFS["slug"]["pattern"])
FIELD_ID = re.compile(_DEFS["fieldid"]["pattern"])  # also choice values and checklist items
LANGUAGE = re.compile(SCHEMA["properties"]["languages"]["items"]["pattern"])
FIELD_TYPES = tuple(_DEFS["field"]["properties"]["type"]["enum"])
STEP_KINDS = tuple(_DEFS["step"]["properties"]["kind"]["enum"])
# Lists inside a step or field are edited by their own operations, never by set_step/set_field.
_LISTS = {"fields", "items", "choices", "steps"}
# Flow keys the editor may set; id, version and languages belong to creating and publishing.
_FLOW_KEYS = ("title", "summary", "intro", "minutes", "opens", "deadline", "timezone",
              "resume_fact")


def _keys(definition: dict) -> tuple[str, ...]:
    """The editable keys of a step, field, choice or item, in the schema's order."""
    return tuple(k for k in definition["properties"] if k not in _LISTS)


STEP_KEYS = _keys(_DEFS["step"])
FIELD_KEYS = _keys(_DEFS["field"])
CHOICE_KEYS = _keys(_DEFS["choice"])
ITEM_KEYS = _keys(_DEFS["item"])


def _kind_of(props: dict, key: str) -> str:
    """How a form value for this key is read: text (per language), int, bound, bool or str."""
    if key in TEXT_KEYS:
        return "text"
    spec = props.get(key, {})
    if spec.get("type") == "integer":
        return "int"
    if spec.get("type") == "boolean":
        return "bool"
    if spec.get("$ref") == "#/$defs/bound":
        return "bound"
    return "str"


# ---------------------------------------------------------------- text in, text out


def load(source: str) -> CommentedMap:
    """The round-trip document of a flow's YAML text."""
    if not isinstance(source, str) or len(source) > MAX_FILE_BYTES:
        raise EditError("the flow text is too large to edit")
    try:
        doc = _yaml().load(source)
    except (YAMLError, RecursionError, ValueError) as exc:
        raise EditError(f"the flow is not valid YAML ({conditions.clip(str(exc), 120)})") \
            from None
    if not isinstance(doc, CommentedMap):
        raise EditError("the flow text must be a YAML mapping (id, title, steps...)")
    return doc


def dump(doc: CommentedMap) -> str:
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue()


_STARTER_WORDS = {
    "zh_Hans": ("第一步", "第一个问题"),
    "zh_Hant": ("第一步", "第一個問題"),
}


def starter(flow_id: str, title: str, lang: str) -> str:
    """The YAML text of a minimal new flow: one question step with one text field."""
    _check_step_id(flow_id, what="flow id")
    if not isinstance(lang, str) or not LANGUAGE.fullmatch(lang):
        raise EditError(f"{lang!r} is not a language code such as zh_Hans or en")
    title = " ".join(_clean(title).split())  # a title is one line
    if not title:
        raise EditError("the flow needs a title")
    step_title, label = _STARTER_WORDS.get(lang, ("First step", "First question"))
    doc = CommentedMap()
    doc["id"] = flow_id
    doc["version"] = 1
    doc["languages"] = _flow_seq([lang])
    doc["title"] = _flow_map({lang: _scalar(title)})
    field = CommentedMap([("id", "first_question"), ("type", "text"),
                          ("label", _flow_map({lang: label}))])
    step = CommentedMap([("id", "first-step"), ("title", _flow_map({lang: step_title})),
                         ("fields", CommentedSeq([field]))])
    doc["steps"] = CommentedSeq([step])
    header = (f"# Flow {flow_id}, started in the studio.\n"
              "# One step is one page; docs/flow-format.md describes every key.\n")
    return header + dump(doc)


# ---------------------------------------------------------------- overview


def step_ids(doc: CommentedMap) -> list[str]:
    return [s.get("id") for s in _steps(doc)]


def field_ids(doc: CommentedMap) -> list[str]:
    """Every answer id in flow order: fields, and the one answer of each checklist step."""
    out = []
    for step in _steps(doc):
        out.extend(f.get("id") for f in _dicts(step.get("fields")))
        if step.get("kind") == "checklist" and isinstance(step.get("id"), str):
            out.append(_checklist_id(step["id"]))
    return out


def outline(doc: CommentedMap, lang: str) -> list[dict]:
    """The flow at a glance for the editor's overview, texts in `lang` (or the default)."""
    default = _default_lang(doc)

    def text(value: Any) -> str:
        return _text_in(value, lang, default) or _text_in(value, default, default)

    steps = []
    for step in _steps(doc):
        fields = [{
            "id": f.get("id"), "type": f.get("type"), "label": text(f.get("label")),
            "required": _required(f), "show_if": _str(f.get("show_if")),
            "choices": [{"value": c.get("value"), "label": text(c.get("label"))}
                        for c in _dicts(f.get("choices"))],
        } for f in _dicts(step.get("fields"))]
        steps.append({
            "id": step.get("id"), "kind": step.get("kind", "question"),
            # A step whose id is not a usable one yet (a draft being written) has no page of
            # its own: the YAML editor fixes it, the problems list says where.
            "editable": isinstance(step.get("id"), str) and bool(STEP_ID.fullmatch(step["id"])),
            "title": text(step.get("title")), "show_if": _str(step.get("show_if")),
            "fields": fields,
            "items": [{"id": i.get("id"), "label": text(i.get("label")),
                       "show_if": _str(i.get("show_if"))} for i in _dicts(step.get("items"))],
        })
    return steps


# ---------------------------------------------------------------- the flow itself


def flow_values(doc: CommentedMap, lang: str) -> dict:
    """The flow's own editable properties (title, summary, dates...) in `lang`."""
    values = _values(doc, _FLOW_KEYS, SCHEMA["properties"], lang, _default_lang(doc))
    values.update(id=_str(doc.get("id")), version=_str(doc.get("version")),
                  languages=list(doc.get("languages") or []))
    return values


def set_flow(doc: CommentedMap, values: dict, lang: str) -> None:
    """Set the given flow properties. Dates, the time zone, the minutes and the resume fact
    are checked here (each message names its key), so a typo is refused next to its input
    rather than saved as a problem."""
    _check_lang(doc, lang)
    _refuse_unknown(values, _FLOW_KEYS, "the flow")
    values = dict(values)
    if "title" in values and not _clean(values["title"]) and lang == _default_lang(doc):
        raise EditError("the flow needs a title")
    if "minutes" in values:
        minutes = _int(values["minutes"], "minutes")
        if minutes is not None and not 1 <= minutes <= 600:
            raise EditError("minutes must be between 1 and 600")
        values["minutes"] = minutes
    for key in ("opens", "deadline"):
        if key in values:
            _check_date(_clean(values[key]), key)
    opens = _clean(values["opens"]) if "opens" in values else _str(doc.get("opens"))
    deadline = _clean(values["deadline"]) if "deadline" in values \
        else _str(doc.get("deadline"))
    if opens and deadline and opens > deadline:
        raise EditError(f"opens ({opens}) is after the deadline ({deadline})")
    if _clean(values.get("timezone")):
        _check_timezone(_clean(values["timezone"]))
    if _clean(values.get("resume_fact")):
        fact = _clean(values["resume_fact"])
        if fact not in date_fields(doc):
            raise EditError(f"resume fact: {_quoted(fact)} is not a date question of this flow")
    _apply(doc, doc, values, SCHEMA["properties"], lang, _FLOW_KEYS)


def date_fields(doc: CommentedMap) -> list[str]:
    """The ids of the flow's date questions, in flow order (the resume fact is one)."""
    return [f.get("id") for step in _steps(doc) for f in _dicts(step.get("fields"))
            if f.get("type") == "date" and isinstance(f.get("id"), str)]


def add_language(doc: CommentedMap, lang: str, known: tuple[str, ...] | None = None) -> None:
    """Add a language to the flow's `languages` (last). `known`: the codes the app can show;
    a flow in another one would have pages nobody can read."""
    if not lang:
        raise EditError("choose a language to add")
    if not isinstance(lang, str) or not LANGUAGE.fullmatch(lang) or \
            (known is not None and lang not in known):
        offered = f"; use one of: {', '.join(known)}" if known else ""
        raise EditError(f"{_quoted(lang)} is not a language the wizard offers{offered}")
    languages = doc.get("languages")
    if not isinstance(languages, list):
        raise EditError("the flow has no list of languages; mend it in the YAML editor")
    if lang in languages:
        raise EditError(f"'{lang}' is already one of this flow's languages")
    languages.append(_scalar(lang))


def remove_language(doc: CommentedMap, lang: str) -> None:
    """Remove a language other than the default (first) one. Its texts stay in the file: the
    loader names them, and adding the language again brings them back."""
    languages = doc.get("languages")
    if not isinstance(languages, list) or lang not in languages:
        raise EditError(f"{_quoted(lang)} is not one of this flow's languages")
    if lang == languages[0]:
        raise EditError(f"'{lang}' is the flow's default language; it cannot be removed")
    del languages[languages.index(lang)]


# ---------------------------------------------------------------- steps


def add_step(doc: CommentedMap, step_id: str, kind: str, title: str, lang: str,
             position: int | None = None) -> None:
    """A new step at `position` (an index; None: last). A question step needs a field next,
    an instruction step a body, a checklist step items: the loader says so until they come."""
    _check_lang(doc, lang)
    _check_new_step_id(doc, step_id, kind)
    step = CommentedMap([("id", _scalar(step_id))])
    if kind != "question":
        step["kind"] = kind
    _set_text(doc, step, "title", title, lang, STEP_KEYS)
    if "title" not in step:
        raise EditError("a step needs a title")
    steps = doc.get("steps")
    if not isinstance(steps, list):
        steps = doc["steps"] = CommentedSeq()
    _insert(steps, step, position)


def move_step(doc: CommentedMap, step_id: str, delta: int) -> None:
    index = _find_step(doc, step_id)[0]  # EditError first: a draft may have no steps at all
    _move(doc["steps"], index, delta)


def remove_step(doc: CommentedMap, step_id: str) -> None:
    index, step = _find_step(doc, step_id)
    if len(_steps(doc)) == 1:
        raise EditError("a flow needs at least one step")
    gone = {f.get("id") for f in _dicts(step.get("fields"))}
    _remove(doc["steps"], index)
    _forget_answers(doc, gone)


def step_values(doc: CommentedMap, step_id: str, lang: str) -> dict:
    """Every editable property of a step in `lang`: see STEP_KEYS, plus the ids of its fields
    and its checklist items."""
    step = _find_step(doc, step_id)[1]
    values = _values(step, STEP_KEYS, _DEFS["step"]["properties"], lang, _default_lang(doc))
    values["kind"] = values["kind"] or "question"
    values["fields"] = [f.get("id") for f in _dicts(step.get("fields"))]
    values["items"] = [i.get("id") for i in _dicts(step.get("items"))]
    return values


def set_step(doc: CommentedMap, step_id: str, values: dict, lang: str) -> None:
    """Set the given properties (only those); see the module notes for texts and empties."""
    _check_lang(doc, lang)
    _refuse_unknown(values, STEP_KEYS, "a step")
    step = _find_step(doc, step_id)[1]
    kind = step.get("kind", "question")
    if "kind" in values:
        new_kind = _clean(values["kind"]) or "question"
        if new_kind not in STEP_KINDS:
            raise EditError(f"unknown step kind {new_kind!r}; use one of: "
                            f"{', '.join(STEP_KINDS)}")
        # Its fields or items would be refused by the loader: the author removes them first,
        # rather than losing them (and their translations) to one click.
        if new_kind != "question" and step.get("fields"):
            raise EditError(f"remove the step's fields before making it a {new_kind} step")
        if new_kind != "checklist" and step.get("items"):
            raise EditError(f"remove the step's items before making it a {new_kind} step")
        if new_kind != kind:
            if new_kind == "question":
                _delete(step, "kind")
            else:
                _put(step, "kind", new_kind, STEP_KEYS)
        values = {k: v for k, v in values.items() if k != "kind"}
        kind = new_kind
    if "id" in values:
        new_id = _clean(values["id"])
        if new_id != step_id:
            _check_new_step_id(doc, new_id, kind)
            step["id"] = _scalar(new_id)
            if kind == "checklist":
                _rename_answer(doc, _checklist_id(step_id), _checklist_id(new_id))
        values = {k: v for k, v in values.items() if k != "id"}
    if "title" in values and not _clean(values["title"]) and lang == _default_lang(doc):
        raise EditError("a step needs a title")
    _apply(doc, step, values, _DEFS["step"]["properties"], lang, STEP_KEYS)


# ---------------------------------------------------------------- fields


def add_field(doc: CommentedMap, step_id: str, field_id: str, type: str, label: str, lang: str,
              position: int | None = None) -> None:
    """A new field of a question step. Choice fields need choices next (add_choice); a
    calculated field needs its expr (set_field)."""
    _check_lang(doc, lang)
    step = _find_step(doc, step_id)[1]
    if step.get("kind", "question") != "question":
        raise EditError("only a question step has fields")
    _check_type(type)
    _check_new_field_id(doc, field_id)
    field = CommentedMap([("id", _scalar(field_id)), ("type", type)])
    _set_text(doc, field, "label", label, lang, FIELD_KEYS)
    if "label" not in field and type != "calculated":
        raise EditError("a question needs a label")
    fields = step.get("fields")
    if not isinstance(fields, list):
        fields = CommentedSeq()
        _put(step, "fields", fields, STEP_KEYS + ("fields",))
    _insert(fields, field, position)


def move_field(doc: CommentedMap, step_id: str, field_id: str, delta: int) -> None:
    fields, index, _ = _find_field(doc, step_id, field_id)
    _move(fields, index, delta)


def remove_field(doc: CommentedMap, step_id: str, field_id: str) -> None:
    """Remove a field (and its answer-sheet line); conditions that read it are left for the
    loader to name, since only the author knows what they should read instead."""
    fields, index, _ = _find_field(doc, step_id, field_id)
    _remove(fields, index)
    if not fields:  # an empty list is refused by the schema; "needs fields" is clearer
        _delete(_find_step(doc, step_id)[1], "fields")
    _forget_answers(doc, {field_id})


def field_values(doc: CommentedMap, step_id: str, field_id: str, lang: str) -> dict:
    """Every editable property of a field in `lang` (see FIELD_KEYS) plus its choice values."""
    field = _find_field(doc, step_id, field_id)[2]
    values = _values(field, FIELD_KEYS, _DEFS["field"]["properties"], lang, _default_lang(doc))
    values["required"] = _required(field)
    values["choices"] = [c.get("value") for c in _dicts(field.get("choices"))]
    return values


def set_field(doc: CommentedMap, step_id: str, field_id: str, values: dict,
              lang: str) -> list[str]:
    """Set the given properties. A new type drops the keys that do not apply to it (returned,
    so the editor can say so); choices are never dropped: remove them first."""
    _check_lang(doc, lang)
    _refuse_unknown(values, FIELD_KEYS, "a field")
    field = _find_field(doc, step_id, field_id)[2]
    dropped: list[str] = []
    values = dict(values)
    if "type" in values:
        new_type = _clean(values.pop("type"))
        _check_type(new_type)
        if new_type != field.get("type"):
            allowed = TYPE_KEYS[new_type] | COMMON_KEYS
            if field.get("choices") and "choices" not in allowed:
                raise EditError(f"remove the choices before making this a {new_type} field")
            field["type"] = new_type
            # The loader refuses keys of another type (min on a text field...).
            dropped = [k for k in list(field) if k not in allowed and k in FIELD_KEYS]
            for key in dropped:
                _delete(field, key)
    if "id" in values:
        new_id = _clean(values.pop("id"))
        if new_id != field_id:
            _check_new_field_id(doc, new_id)
            field["id"] = _scalar(new_id)
            _rename_answer(doc, field_id, new_id)
    if "required" in values:
        required = _bool(values.pop("required"))
        if required != _required(field):
            if required == (field.get("type") != "calculated"):  # the default: say nothing
                _delete(field, "required")
            else:
                _put(field, "required", required, FIELD_KEYS)
    if "min" in values or "max" in values:
        for key in ("min", "max"):
            if key in values:
                values[key] = _bound(values[key], field.get("type"), key)
    _apply(doc, field, values, _DEFS["field"]["properties"], lang, FIELD_KEYS)
    return dropped


# ---------------------------------------------------------------- choices and checklist items
# A field's choices (keyed by "value") and a checklist step's items (keyed by "id") are the
# same kind of list; the functions below differ only in where the list is and what it is called.


def add_choice(doc: CommentedMap, step_id: str, field_id: str, value: str, label: str,
               lang: str, official: str | None = None, position: int | None = None) -> None:
    field = _find_field(doc, step_id, field_id)[2]
    if field.get("type") not in ("choice", "multichoice"):
        raise EditError("only choice and multichoice fields have choices")
    _add_option(doc, field, "choices", "value", CHOICE_KEYS, FIELD_KEYS + ("choices",),
                value, label, lang, official, position)


def move_choice(doc: CommentedMap, step_id: str, field_id: str, value: str, delta: int) -> None:
    field = _find_field(doc, step_id, field_id)[2]
    _move(field["choices"], _find_option(field, "choices", "value", value)[0], delta)


def remove_choice(doc: CommentedMap, step_id: str, field_id: str, value: str) -> None:
    field = _find_field(doc, step_id, field_id)[2]
    _remove_option(field, "choices", "value", value)


def choice_values(doc: CommentedMap, step_id: str, field_id: str, value: str, lang: str) -> dict:
    field = _find_field(doc, step_id, field_id)[2]
    choice = _find_option(field, "choices", "value", value)[1]
    return _values(choice, CHOICE_KEYS, _DEFS["choice"]["properties"], lang,
                   _default_lang(doc))


def set_choice(doc: CommentedMap, step_id: str, field_id: str, value: str, values: dict,
               lang: str) -> None:
    """Set label, official, hint, help, show_if (offered only for some answers) or value.
    Renaming a value does not rewrite conditions that compare with it: the loader names
    those."""
    _check_lang(doc, lang)
    _refuse_unknown(values, CHOICE_KEYS, "a choice")
    field = _find_field(doc, step_id, field_id)[2]
    _set_option(doc, field, "choices", "value", value, values, lang, CHOICE_KEYS,
                _DEFS["choice"]["properties"], "a choice")


def add_item(doc: CommentedMap, step_id: str, item_id: str, label: str, lang: str,
             official: str | None = None, position: int | None = None) -> None:
    """A new item (a paper to tick) of a checklist step."""
    step = _find_step(doc, step_id)[1]
    if step.get("kind") != "checklist":
        raise EditError("only a checklist step has items")
    _add_option(doc, step, "items", "id", ITEM_KEYS, STEP_KEYS + ("fields", "items"),
                item_id, label, lang, official, position)


def move_item(doc: CommentedMap, step_id: str, item_id: str, delta: int) -> None:
    step = _find_step(doc, step_id)[1]
    _move(step["items"], _find_option(step, "items", "id", item_id)[0], delta)


def remove_item(doc: CommentedMap, step_id: str, item_id: str) -> None:
    _remove_option(_find_step(doc, step_id)[1], "items", "id", item_id)


def item_values(doc: CommentedMap, step_id: str, item_id: str, lang: str) -> dict:
    item = _find_option(_find_step(doc, step_id)[1], "items", "id", item_id)[1]
    return _values(item, ITEM_KEYS, _DEFS["item"]["properties"], lang, _default_lang(doc))


def set_item(doc: CommentedMap, step_id: str, item_id: str, values: dict, lang: str) -> None:
    _check_lang(doc, lang)
    _refuse_unknown(values, ITEM_KEYS, "an item")
    _set_option(doc, _find_step(doc, step_id)[1], "items", "id", item_id, values, lang,
                ITEM_KEYS, _DEFS["item"]["properties"], "an item")


def _add_option(doc, owner, list_key, id_key, keys, owner_keys, option_id, label, lang,
                official, position) -> None:
    _check_lang(doc, lang)
    _check_option_id(owner, list_key, id_key, option_id)
    option = CommentedMap([(id_key, _scalar(option_id))])
    _set_text(doc, option, "label", label, lang, keys)
    if "label" not in option:
        raise EditError("a choice needs a label")
    if _clean(official):
        option["official"] = _scalar(_clean(official))
    options = owner.get(list_key)
    if not isinstance(options, list):
        options = CommentedSeq()
        _put(owner, list_key, options, owner_keys)
    _insert(options, option, position)


def _remove_option(owner, list_key, id_key, option_id) -> None:
    index = _find_option(owner, list_key, id_key, option_id)[0]
    _remove(owner[list_key], index)
    if not owner[list_key]:  # the schema refuses an empty list; the loader names the need
        _delete(owner, list_key)


def _set_option(doc, owner, list_key, id_key, option_id, values, lang, keys, props,
                what) -> None:
    option = _find_option(owner, list_key, id_key, option_id)[1]
    values = dict(values)
    if id_key in values:
        new_id = _clean(values.pop(id_key))
        if new_id != option_id:
            _check_option_id(owner, list_key, id_key, new_id)
            option[id_key] = _scalar(new_id)
    if "label" in values and not _clean(values["label"]) and lang == _default_lang(doc):
        raise EditError(f"{what} needs a label")
    _apply(doc, option, values, props, lang, keys)


def _find_option(owner, list_key, id_key, option_id) -> tuple[int, CommentedMap]:
    for i, option in enumerate(owner.get(list_key) or []):
        if isinstance(option, dict) and option.get(id_key) == option_id:
            return i, option
    what = "choice" if list_key == "choices" else "item"
    raise EditError(f"no {what} '{option_id}' here")


def _check_option_id(owner, list_key, id_key, option_id) -> None:
    what = "choice value" if list_key == "choices" else "item id"
    if not isinstance(option_id, str) or not FIELD_ID.fullmatch(option_id):
        raise EditError(f"{_quoted(option_id)} is not a valid {what}: use lower-case letters, "
                        "digits and '_', starting with a letter")
    if any(o.get(id_key) == option_id for o in _dicts(owner.get(list_key))):
        raise EditError(f"there is already a {what} '{option_id}' here")


# ---------------------------------------------------------------- references to answers


def uses(doc: CommentedMap, field_id: str) -> list[str]:
    """Where an answer is read (key paths such as steps[3].show_if): for the editor to warn
    before a field is removed."""
    found = []
    for path, node, key in _references(doc):
        value = node.get(key)
        if key in ("show_if", "expr"):
            if isinstance(value, str) and field_id in _expression_names(value):
                found.append(path)
        elif value == field_id or (isinstance(value, list) and field_id in value):
            found.append(path)
    return found


def _references(doc: CommentedMap):
    """(path, mapping, key) of every place that may name an answer."""
    for key in ("answer_sheet", "resume_fact"):
        if key in doc:
            yield key, doc, key
    for si, step in enumerate(_steps(doc)):
        yield f"steps[{si}].show_if", step, "show_if"
        for ii, item in enumerate(_dicts(step.get("items"))):
            yield f"steps[{si}].items[{ii}].show_if", item, "show_if"
        for fi, field in enumerate(_dicts(step.get("fields"))):
            for key in ("show_if", "expr", "birth_date_field"):
                yield f"steps[{si}].fields[{fi}].{key}", field, key


def _rename_answer(doc: CommentedMap, old: str, new: str) -> None:
    """A renamed answer keeps every reference to it working."""
    for _, node, key in _references(doc):
        value = node.get(key)
        if key in ("show_if", "expr"):
            if isinstance(value, str):
                renamed = _rename_in_expression(value, old, new)
                if renamed != value:
                    node[key] = _like(value, renamed)
        elif value == old:
            node[key] = _scalar(new)
        elif isinstance(value, list):
            for i, entry in enumerate(value):
                if entry == old:
                    value[i] = _scalar(new)


def _forget_answers(doc: CommentedMap, gone: set) -> None:
    """A removed field's answer-sheet line goes with it (it can only be an error now)."""
    sheet = doc.get("answer_sheet")
    if isinstance(sheet, list):
        for i in reversed(range(len(sheet))):
            if sheet[i] in gone:
                del sheet[i]


def _name_tokens(source: str) -> list[tokenize.TokenInfo]:
    """The answer names in an expression: NAME tokens not after '.' (data.key) nor before
    '(' (a function). Line breaks count as spaces, as conditions.py reads them."""
    text = source.replace("\r", " ").replace("\n", " ")
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline)
                  if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER)]
    except (tokenize.TokenError, SyntaxError):
        return []  # the loader will name what is wrong with it
    names = []
    for i, tok in enumerate(tokens):
        before = tokens[i - 1].string if i else ""
        after = tokens[i + 1].string if i + 1 < len(tokens) else ""
        if tok.type == tokenize.NAME and before != "." and after != "(":
            names.append(tok)
    return names


def _expression_names(source: str) -> set[str]:
    return {t.string for t in _name_tokens(source)}


def _rename_in_expression(source: str, old: str, new: str) -> str:
    if old not in source:
        return source
    out, last = [], 0
    for tok in _name_tokens(source):
        if tok.string == old:  # one line: the column is the offset into the source
            out.append(source[last:tok.start[1]] + new)
            last = tok.end[1]
    return "".join(out) + source[last:]


# ---------------------------------------------------------------- the condition builder

# op -> how it reads; the builder offers these for one answer compared with one value.
SIMPLE_OPS = ("equals", "not_equals", "is_one_of", "includes", "answered", "not_answered",
              "yes", "no", "at_least", "at_most")
_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,15})?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def simple_condition(field_id: str, op: str, value: str = "",
                     field_type: str | None = None) -> str:
    """A show_if expression for one answer, one operator and one value from the builder.

    equals, not_equals, is_one_of (values separated by commas) compare with numbers when the
    field is an integer or calculated field (or, with no field_type, when the value looks like
    a number) and with text otherwise: answers compare strictly, so 3 is not '3'. includes is a
    value ticked in a multichoice or checklist answer. yes and no compare a yes_no answer with
    true and false (a missing answer is neither). at_least and at_most take a number or a date
    YYYY-MM-DD."""
    if not isinstance(field_id, str) or not FIELD_ID.fullmatch(field_id):
        raise EditError(f"{_quoted(field_id)} is not an answer name")
    value = _clean(value)
    numeric = field_type in (None, "integer", "calculated")

    def literal(text: str) -> str:
        if numeric and _NUMBER.fullmatch(text):
            return _number(text)
        return repr(text)  # a Python string literal: quotes, backslashes, any script

    if op in ("equals", "not_equals"):
        if not value:
            raise EditError("write the value to compare with")
        source = f"{field_id} {'==' if op == 'equals' else '!='} {literal(value)}"
    elif op == "is_one_of":
        values = [v.strip() for v in value.split(",") if v.strip()]
        if not values:
            raise EditError("write the values, separated by commas")
        source = f"{field_id} in [{', '.join(literal(v) for v in values)}]"
    elif op == "includes":
        if not value:
            raise EditError("write the value to look for")
        source = f"{literal(value)} in {field_id}"
    elif op in ("answered", "not_answered"):
        source = f"{field_id} {'!=' if op == 'answered' else '=='} null"
    elif op in ("yes", "no"):
        source = f"{field_id} == {'true' if op == 'yes' else 'false'}"
    elif op in ("at_least", "at_most"):
        if _NUMBER.fullmatch(value):
            bound = _number(value)
        elif _ISO_DATE.fullmatch(value):
            bound = repr(value)
        else:
            raise EditError("write a number, or a date as YYYY-MM-DD")
        source = f"{field_id} {'>=' if op == 'at_least' else '<='} {bound}"
    else:
        raise EditError(f"unknown operator {_quoted(op)}")
    try:
        conditions.compile_expression(source)
    except conditions.ConditionError as exc:  # e.g. a date that does not exist
        raise EditError(str(exc)) from None
    return source


def _number(text: str) -> str:
    """A number as a literal Python reads (007 is a syntax error there)."""
    return str(int(text)) if "." not in text else repr(float(text))


def parse_simple(source: str) -> tuple[str, str, str] | None:
    """(field, op, value) for an expression the builder could have made, else None (the
    editor then shows the expression as text)."""
    if not isinstance(source, str) or len(source) > 500:
        return None
    try:
        rule = conditions.compile_expression(source)
    except conditions.ConditionError:
        return None
    found = _read_simple(rule)
    if found is None:
        return None
    field_id, op, literals = found
    if any(isinstance(v, str) and "," in v for v in literals) and op == "is_one_of":
        return None  # the builder splits on commas
    if any(isinstance(v, bool) or v is None for v in literals):
        return None
    value = ", ".join(v if isinstance(v, str) else repr(v) for v in literals)
    # Only what simple_condition gives back unchanged: '3' (text) and 3 (number) both read as
    # "3", so rebuild and compare the rules.
    field_type = "text" if any(isinstance(v, str) for v in literals) else None
    try:
        again = simple_condition(field_id, op, value, field_type)
    except EditError:
        return None
    if conditions.compile_expression(again) != rule:
        return None
    return field_id, op, value


def _read_simple(rule: Any) -> tuple[str, str, list] | None:
    """The shape of a compiled simple condition: (field, op, literal values)."""
    if not isinstance(rule, dict) or len(rule) != 1:
        return None
    (name, args), = rule.items()
    if not isinstance(args, list) or len(args) != 2:
        return None
    left, right = args

    def var(x: Any) -> str | None:
        return x["var"] if isinstance(x, dict) and set(x) == {"var"} and \
            isinstance(x["var"], str) and FIELD_ID.fullmatch(x["var"]) else None

    field_id = var(left)
    if name == "in" and var(right) and isinstance(left, str):
        return var(right), "includes", [left]
    if field_id is None or isinstance(right, (dict, list)) and name != "in":
        return None
    if name in ("===", "!==") and right is None:
        return field_id, "answered" if name == "!==" else "not_answered", []
    if name == "===" and isinstance(right, bool):
        return field_id, "yes" if right else "no", []
    if name in ("===", "!==") and not isinstance(right, bool):
        return field_id, "equals" if name == "===" else "not_equals", [right]
    if name == "in" and isinstance(right, list) and right and \
            all(isinstance(v, (str, int, float)) for v in right):
        return field_id, "is_one_of", right
    if name in (">=", "<=") and not isinstance(right, bool) and right is not None:
        return field_id, "at_least" if name == ">=" else "at_most", [right]
    return None


# ---------------------------------------------------------------- finding things


def _steps(doc: CommentedMap) -> list:
    steps = doc.get("steps")
    return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []


def _dicts(value: Any) -> list:
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def _find_step(doc: CommentedMap, step_id: str) -> tuple[int, CommentedMap]:
    steps = doc.get("steps")
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        if isinstance(step, dict) and step.get("id") == step_id:
            return i, step
    raise EditError(f"no step '{step_id}' in this flow")


def _find_field(doc: CommentedMap, step_id: str, field_id: str) -> tuple[list, int, CommentedMap]:
    step = _find_step(doc, step_id)[1]
    fields = step.get("fields")
    for i, field in enumerate(fields if isinstance(fields, list) else []):
        if isinstance(field, dict) and field.get("id") == field_id:
            return fields, i, field
    raise EditError(f"no field '{field_id}' in step '{step_id}'")


def _checklist_id(step_id: str) -> str:
    return step_id.replace("-", "_")  # the answer of a checklist step (as the loader names it)


def _check_step_id(step_id: Any, what: str = "step id") -> None:
    if not isinstance(step_id, str) or not STEP_ID.fullmatch(step_id):
        raise EditError(f"{_quoted(step_id)} is not a valid {what}: use lower-case letters, "
                        "digits and '-', starting with a letter")


def _check_new_step_id(doc: CommentedMap, step_id: Any, kind: str) -> None:
    _check_step_id(step_id)
    if kind not in STEP_KINDS:
        raise EditError(f"unknown step kind {_quoted(kind)}; use one of: {', '.join(STEP_KINDS)}")
    if step_id in RESERVED_STEP_IDS:
        raise EditError(f"'{step_id}' is the name of a page of the wizard; choose another id")
    if step_id in step_ids(doc):
        raise EditError(f"there is already a step '{step_id}'")
    if kind == "checklist":
        _check_answer_id_free(doc, _checklist_id(step_id))


def _check_new_field_id(doc: CommentedMap, field_id: Any) -> None:
    if not isinstance(field_id, str) or not FIELD_ID.fullmatch(field_id):
        raise EditError(f"{_quoted(field_id)} is not a valid field id: use lower-case letters, "
                        "digits and '_', starting with a letter")
    if field_id in RESERVED_FIELD_IDS:
        raise EditError(f"'{field_id}' is a name the wizard keeps for itself; choose another id")
    _check_answer_id_free(doc, field_id)


def _check_answer_id_free(doc: CommentedMap, answer_id: str) -> None:
    # Answers are stored by id, so ids are unique in the whole flow, not just in a step.
    if answer_id in field_ids(doc):
        raise EditError(f"there is already a field '{answer_id}' in this flow (ids are unique "
                        "in the whole flow)")


def _check_type(type_name: Any) -> None:
    if type_name not in FIELD_TYPES:
        raise EditError(f"unknown field type {_quoted(type_name)}; use one of: "
                        f"{', '.join(FIELD_TYPES)}")


def _check_date(text: str, key: str) -> None:
    if not text:
        return
    try:
        if _ISO_DATE.fullmatch(text) and datetime.date.fromisoformat(text):
            return
    except ValueError:
        pass
    raise EditError(f"{key}: {_quoted(text)} is not a date; write a real date as YYYY-MM-DD, "
                    "like 2027-04-29")


def _check_timezone(name: str) -> None:
    try:
        if len(name) < 100 and zoneinfo.ZoneInfo(name):
            return
    except Exception:  # unknown, or not a zone name at all (a path, NUL...): as the loader
        pass
    raise EditError(f"unknown time zone {_quoted(name)}; write an IANA time zone name such "
                    "as Asia/Shanghai or Asia/Urumqi")


def _check_lang(doc: CommentedMap, lang: str) -> None:
    if lang not in (doc.get("languages") or []):
        raise EditError(f"{_quoted(lang)} is not one of this flow's languages")


def _default_lang(doc: CommentedMap) -> str:
    languages = doc.get("languages")
    return languages[0] if isinstance(languages, list) and languages else "zh_Hans"


def _refuse_unknown(values: dict, keys: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(values) - set(keys))
    if unknown:
        raise EditError(f"{what} has no {', '.join(map(str, unknown))}")


# ---------------------------------------------------------------- reading values


def _values(node: CommentedMap, keys: tuple[str, ...], props: dict, lang: str,
            default: str) -> dict:
    """Form values: texts in `lang` ("" when missing), everything else as text ("" when
    absent) except required, a bool."""
    out: dict[str, Any] = {}
    for key in keys:
        value = node.get(key)
        if _kind_of(props, key) == "text":
            out[key] = _text_in(value, lang, default)
        elif key == "required":
            out[key] = _required(node)
        else:
            out[key] = _str(value)
    return out


def _text_in(value: Any, lang: str, default: str) -> str:
    if isinstance(value, str):
        return str(value) if lang == default else ""
    if isinstance(value, dict):
        text = value.get(lang)
        return str(text) if isinstance(text, str) else ""
    return ""


def _str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):  # ruamel reads an unquoted 2027-04-29 as a date
        return value.isoformat()
    return str(value)


def _textlike(value: Any) -> bool:
    return isinstance(value, str) or hasattr(value, "isoformat")


def _required(field: dict) -> bool:
    required = field.get("required")
    if isinstance(required, bool):
        return required
    return field.get("type") != "calculated"  # the loader's default


# ---------------------------------------------------------------- writing values


def _apply(doc: CommentedMap, node: CommentedMap, values: dict, props: dict, lang: str,
           order: tuple[str, ...]) -> None:
    """Set each given key on node; see the module notes for how form text is read."""
    for key, raw in values.items():
        kind = _kind_of(props, key)
        if kind == "text":
            _set_text(doc, node, key, raw, lang, order)
            continue
        if kind == "bool":
            # Empty removes the key (the schema's default, false), like any empty value.
            value: Any = _bool(raw) if isinstance(raw, bool) or _clean(raw) else None
        elif kind == "int":
            value = _int(raw, key)
        elif kind == "bound" and not isinstance(raw, str):
            value = raw  # already converted by set_field
        else:
            value = _clean(raw)
        current = node.get(key)
        if value is None or value == "":
            _delete(node, key)
        elif _str(current) == _str(value) and _textlike(current) == _textlike(value):
            pass  # unchanged: keep how the file writes it (a date unquoted, say)
        else:
            _put(node, key, _like(current, value) if isinstance(value, str) else value, order)


def _set_text(doc: CommentedMap, node: CommentedMap, key: str, raw: Any, lang: str,
              order: tuple[str, ...]) -> None:
    """Set one language of a text, keeping the others (see the module notes)."""
    text = _clean(raw)
    default = _default_lang(doc)
    current = node.get(key)
    if isinstance(current, str):
        if lang == default:
            if text == _clean(current):
                pass  # unchanged: keep its quotes and block style
            elif text:
                node[key] = _like(current, text)
            else:
                _delete(node, key)
        elif text:  # a text in the default language only becomes a mapping
            node[key] = _flow_map({default: current, lang: _scalar(text)})
            _fit(node, node[key], text)
        return
    if isinstance(current, dict):
        old = current.get(lang)
        if text and isinstance(old, str) and _clean(old) == text:
            pass  # unchanged
        elif text:
            _put_last(current, _scalar(lang), _like(old, text) if isinstance(old, str)
                      else _scalar(text))
            _fit(node, current, text)
        elif lang in current:
            _delete(current, lang)
            if not current:
                _delete(node, key)
        return
    if not text:
        _delete(node, key)
        return
    single = list(doc.get("languages") or []) == [lang]
    value = _scalar(text) if single else _flow_map({lang: _scalar(text)})
    _put(node, key, value, order)
    if not single:
        _fit(node, value, text)


def _fit(owner: CommentedMap, texts: CommentedMap, text: str) -> None:
    """A text over several lines is written as a block (|), which {...} cannot hold."""
    if "\n" in text:
        texts.fa.set_block_style()
        owner.fa.set_block_style()


def _put(node: CommentedMap, key: str, value: Any, order: tuple[str, ...]) -> None:
    """Set a key; a new key goes where the schema lists it among the keys present (so a new
    show_if lands above a long list of fields, not under it)."""
    if key in node:
        node[key] = value
        return
    rank = {k: i for i, k in enumerate(order)}
    keys = list(node)
    own = rank.get(key, len(order))
    # Keys not in the order (fields, items, choices: the long lists) come after the others.
    later = [i for i, k in enumerate(keys) if rank.get(k, len(order)) > own]
    if later:
        node.insert(later[0], key, value)
    else:
        _put_last(node, key, value)


def _delete(node: CommentedMap, key: Any) -> None:
    """Remove a key. The comment ruamel keeps on it (the lines after its value, which read as
    a comment above the next key) goes to the key before, when that holds a plain value."""
    if key not in node:
        return
    keys = list(node)
    at = keys.index(key)
    comment = node.ca.items.pop(key, None)
    del node[key]
    if comment and at > 0 and keys[at - 1] not in node.ca.items and \
            not isinstance(node[keys[at - 1]], (dict, list)):
        node.ca.items[keys[at - 1]] = comment


def _insert(seq: list, item: Any, position: int | None) -> None:
    if position is None:
        seq.append(item)
    else:
        seq.insert(max(0, min(int(position), len(seq))), item)


def _move(seq: list, index: int, delta: int) -> None:
    """Move an item; the blank lines and comments between items stay where they were (ruamel
    keeps them at the end of the item above, so they would otherwise travel with it)."""
    target = max(0, min(index + int(delta), len(seq) - 1))
    if target == index:
        return
    low, high = min(index, target), max(index, target)
    tails = [_tail_take(seq[i]) for i in range(low, high + 1)]
    seq.insert(target, seq.pop(index))
    for i, text in zip(range(low, high + 1), tails):
        if text:
            _tail_put(seq[i], text)


def _remove(seq: list, index: int) -> None:
    """Remove an item. What follows it (the blank line and any comment heading the next
    item) takes the place of what followed the item above."""
    text = _tail_take(seq[index])
    del seq[index]
    if text and index > 0:
        _tail_take(seq[index - 1])
        _tail_put(seq[index - 1], text)


def _last(node: Any) -> tuple[Any, Any] | None:
    """(container, key or index) of the last entry of a mapping or list, if any."""
    if isinstance(node, CommentedMap) and node:
        return node, list(node)[-1]
    if isinstance(node, CommentedSeq) and node:
        return node, len(node) - 1
    return None


def _tail_take(node: Any) -> str | None:
    """Remove and return the comment text (blank lines too) that follows the item `node`:
    ruamel keeps it on the deepest last entry, or at the end of a {..} or [..]."""
    while (last := _last(node)) is not None:
        container, key = last
        entry = container.ca.items.get(key)
        slot = 2 if isinstance(container, CommentedMap) else 0
        if entry and entry[slot] is not None:
            text = entry[slot].value
            entry[slot] = None
            return text
        if getattr(container.ca, "end", None):
            # These tokens start after the line break that ends the entry; add it.
            text = "\n" + "".join(t.value for t in container.ca.end)
            container.ca.end = []
            return text
        node = container[key]
    return None


def _tail_put(node: Any, text: str) -> None:
    """Put comment text after the item `node` (see _tail_take)."""

    def block(value: Any) -> bool:  # a mapping or list written over lines, not as {..} / [..]
        return isinstance(value, (CommentedMap, CommentedSeq)) and not value.fa.flow_style()

    last = _last(node) if block(node) else None
    chain = []  # the containers walked down, outermost first
    while last is not None:
        chain.append(last[0])
        value = last[0][last[1]]
        if not (block(value) and _last(value)):
            break
        last = _last(value)
    if last is None:
        return
    container, key = last
    value = container[key]
    if isinstance(value, (CommentedMap, CommentedSeq)):
        # After a {..} or [..] ruamel keeps the text at the end of the list that holds it,
        # from the start of the next line.
        seqs = [c for c in chain if isinstance(c, CommentedSeq)]
        if seqs:
            seqs[-1].ca.end = [CommentToken(text[1:], CommentMark(0), None)]
    elif not getattr(value, "comment", None):  # a block scalar (|) keeps its own
        token = CommentToken(text, CommentMark(0), None)
        if isinstance(container, CommentedMap):
            container.ca.items[key] = [None, None, token, None]
        else:
            container.ca.items[key] = [token, None]


def _clean(raw: Any) -> str:
    """Form text: CRLF to LF, no surrounding blanks."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raw = str(raw)
    return raw.replace("\r\n", "\n").replace("\r", "\n").strip()


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = _clean(raw).lower()
    if text in ("true", "on", "yes", "1", "y"):
        return True
    if text in ("false", "off", "no", "0", "n", ""):
        return False
    raise EditError(f"{_quoted(raw)} is not yes or no")


def _int(raw: Any, key: str) -> int | None:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    text = _clean(raw)
    if not text:
        return None
    if not re.fullmatch(r"-?[0-9]{1,15}", text):
        raise EditError(f"{key} must be a whole number")
    return int(text)


def _bound(raw: Any, field_type: Any, key: str) -> Any:
    """min/max from a form: a date (YYYY-MM-DD or 'today') for a date field, else a number."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return raw
    text = _clean(raw)
    if not text:
        return ""
    if field_type == "date":
        if text != "today" and not _ISO_DATE.fullmatch(text):
            raise EditError(f"{key} must be a date YYYY-MM-DD or 'today'")
        return text
    if not _NUMBER.fullmatch(text):
        raise EditError(f"{key} must be a number")
    return int(text) if "." not in text else float(text)


# PyYAML, which the loader reads flows with, follows YAML 1.1: a plain yes, no, on, off, 1:20
# or 0777 is not a text there, though ruamel (YAML 1.2) writes such texts without quotes.
_YAML11 = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"


def _scalar(text: str) -> str:
    """A text as ruamel should write it: a block for several lines, quoted where YAML 1.1
    would read it as something else (the choice value 'no' must stay a text)."""
    if "\n" in text:
        return LiteralScalarString(text)
    if _YAML11.resolve(yaml.ScalarNode, text, (True, False)) != _STR_TAG:
        return SingleQuotedScalarString(text)
    return text


def _like(old: Any, text: str) -> str:
    """The new text in the old one's quoting style, where that style can hold it."""
    if "\n" in text and isinstance(old, str) and old.endswith("\n"):
        return LiteralScalarString(text + "\n")  # as the old block kept its final line break
    if "\n" not in text and isinstance(old, (SingleQuotedScalarString,
                                              DoubleQuotedScalarString)):
        return type(old)(text)
    return _scalar(text)


def _flow_map(pairs: dict) -> CommentedMap:
    """{zh_Hans: ..., en: ...} on one line, the way flows write short texts."""
    mapping = CommentedMap((_scalar(k), v) for k, v in pairs.items())
    mapping.fa.set_flow_style()
    return mapping


def _flow_seq(items: list) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _quoted(value: Any) -> str:
    return repr(conditions.clip(value, 40)) if isinstance(value, str) else repr(value)
