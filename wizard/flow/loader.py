"""Reads a flow file (YAML) or a parsed document into a checked `Flow`.

A broken flow is refused with every problem at once, each naming the file, the key path
(`steps[3].fields[0].type`), the line where we know it, and what to do. Missing translations
are warnings. The loader never raises on bad input: it returns a result with a flow or with
problems (a property test feeds it arbitrary documents).

Run `python -m wizard.flow.loader FILE...` for the same report as `wizard check`.
"""

from __future__ import annotations

import datetime
import difflib
import json
import re
import sys
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import jsonschema
import yaml

from . import conditions, markdown
from .model import Choice, Field, Flow, Step

SCHEMA = json.loads(resources.files(__package__).joinpath("schema.json").read_text("utf-8"))
_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

# Keys whose value is Markdown (checked for safety); other texts are plain.
MARKDOWN_KEYS = {"help", "body", "intro"}
TEXT_KEYS = {
    "title", "summary", "intro", "label", "hint", "help", "body", "image_alt", "unit",
    "required_message", "range_message", "length_message", "pattern_message",
}
# Per-type keys: anything else on a field of that type is a mistake worth naming.
TYPE_KEYS = {
    "text": {"min_length", "max_length", "length_message", "pattern", "pattern_message"},
    "textarea": {"min_length", "max_length", "length_message"},
    "integer": {"min", "max", "range_message"},
    "decimal": {"min", "max", "range_message", "places"},
    "date": {"min", "max", "range_message"},
    "choice": {"choices"},
    "multichoice": {"choices", "min_length", "max_length", "length_message"},
    "yes_no": set(),
    "mobile": set(),
    "resident_id": {"birth_date_field"},
    "calculated": {"expr", "unit"},
}
# Page names under /f/<flow>/ that a step id would hide.
RESERVED_STEP_IDS = {"review", "done", "save", "delete", "deleted", "sync", "sheet"}
COMMON_KEYS = {"id", "type", "label", "official", "hint", "help", "required", "required_message",
               "show_if"}


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    message: str
    severity: str = "error"  # or "warning"
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        path = f" {self.path}:" if self.path else ""
        tag = "" if self.severity == "error" else " warning:"
        return f"{where}:{tag}{path} {self.message}"


@dataclass
class LoadResult:
    flow: Flow | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


# ---------------------------------------------------------------- YAML with line numbers


class _Loader(yaml.SafeLoader):
    """Safe YAML, but dates stay ISO strings (a flow is data, JSON-shaped everywhere)."""


def _timestamp_as_text(loader: _Loader, node: yaml.Node) -> str:
    return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def _walk_lines(node: yaml.Node, path: str, lines: dict[str, int], dups: list) -> None:
    """Record the line of every key path; note duplicate keys (YAML would keep only the last)."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            child = f"{path}.{key}" if path else str(key)
            if key in seen:
                dups.append((child, key_node.start_mark.line + 1))
            seen.add(key)
            lines[child] = key_node.start_mark.line + 1
            _walk_lines(value_node, child, lines, dups)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk_lines(item, f"{path}[{i}]", lines, dups)


def load_text(text: str, filename: str = "<flow>") -> LoadResult:
    """Parse YAML text and check it. Never raises for bad input."""
    lines: dict[str, int] = {}
    dups: list = []
    try:
        node = yaml.compose(text, Loader=_Loader)
        doc = yaml.load(text, Loader=_Loader) if node is not None else None
        if node is not None:
            _walk_lines(node, "", lines, dups)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else None
        what = getattr(exc, "problem", None) or str(exc)
        return LoadResult(None, [Problem(
            filename, "", f"this is not valid YAML ({what}); check indentation, colons and "
            "quotes on this line and the one before", line=line)])
    except RecursionError:
        return LoadResult(None, [Problem(filename, "", "the YAML is nested too deeply")])
    result = load_document(doc, filename, source=text, lines=lines)
    for path, line in dups:
        result.problems.insert(0, Problem(
            filename, path, "this key appears twice in the same place; YAML keeps only the "
            "last one, so remove or rename one of them", line=line))
    if any(p.severity == "error" for p in result.problems):
        result.flow = None
    return result


def load_file(path: str | Path) -> LoadResult:
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError:
        return LoadResult(None, [Problem(str(path), "", "the file is not UTF-8 text; save it "
                                         "as UTF-8")])
    except OSError as exc:
        return LoadResult(None, [Problem(str(path), "", f"cannot read the file ({exc.strerror})")])
    return load_text(text, str(path))


# ---------------------------------------------------------------- checking


def _path_text(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _schema_message(error: jsonschema.ValidationError) -> str:
    """A sentence for one schema error, saying what to do."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    v = error.validator
    if v == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        return f"missing key '{missing[0] if missing else '?'}': add it"
    if v == "additionalProperties":
        extra = re.findall(r"'([^']+)'", error.message)
        known = sorted(schema.get("properties", {}))
        hints = []
        for key in extra:
            close = difflib.get_close_matches(key, known, n=1)
            hints.append(f"'{key}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        return f"unknown key {', '.join(hints)}; allowed here: {', '.join(known)}"
    if v == "enum":
        options = ", ".join(map(str, schema.get("enum", [])))
        if error.absolute_path and error.absolute_path[-1] == "type":
            close = difflib.get_close_matches(str(error.instance), schema.get("enum", []), n=1)
            guess = f" (did you mean '{close[0]}'?)" if close else ""
            return f"unknown field type {error.instance!r}{guess}; use one of: {options}"
        return f"{error.instance!r} is not allowed; use one of: {options}"
    if isinstance(error.instance, bool) and v in ("type", "pattern"):
        return (f"should be a text, not {error.instance!r}: YAML reads yes/no/on/off as "
                "true/false, so put quotes around it")
    if "x-message" in schema:
        return f"{_short(error.instance)} is not valid: {schema['x-message']}"
    if v == "type":
        expected = schema.get("type")
        return f"should be {_a(expected)}, not {_short(error.instance)}"
    if v in ("minItems", "minLength", "minProperties"):
        return "must not be empty"
    return error.message


def _a(kind: Any) -> str:
    names = {"string": "a text", "integer": "a whole number", "number": "a number",
             "object": "a mapping (key: value lines)", "array": "a list (lines starting with -)",
             "boolean": "true or false"}
    return names.get(kind, str(kind))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Checker:
    """Collects problems for one document; builds the Flow only if there are none."""

    def __init__(self, doc: Any, filename: str, lines: dict[str, int]):
        self.doc = doc
        self.file = filename
        self.lines = lines
        self.problems: list[Problem] = []

    def error(self, path: str, message: str, severity: str = "error") -> None:
        line = self.lines.get(path)
        if line is None:  # nearest enclosing key that has a line
            parent = path
            while parent and line is None:
                shorter = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", parent)
                parent = "" if shorter == parent else shorter
                line = self.lines.get(parent)
        self.problems.append(Problem(self.file, path, message, severity, line))

    def warn(self, path: str, message: str) -> None:
        self.error(path, message, "warning")

    # -- the checks

    def run(self) -> Flow | None:
        doc = self.doc
        if not isinstance(doc, dict):
            self.error("", "a flow file must be a mapping with id, version, languages, title "
                           "and steps at the top level")
            return None
        for error in sorted(_VALIDATOR.iter_errors(doc), key=lambda e: list(map(str, e.path))):
            self.error(_path_text(error.absolute_path), _schema_message(error))
        declared = doc.get("languages") if isinstance(doc.get("languages"), list) else []
        languages = [x for x in declared if isinstance(x, str)] or ["zh_Hans"]
        data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
        self.check_texts(doc, "", languages)
        steps = [s for s in doc.get("steps") or [] if isinstance(s, dict)] \
            if isinstance(doc.get("steps"), list) else []
        self.check_ids(doc)
        self.check_steps(doc, languages, data)
        if doc.get("deadline") is not None:
            self.check_date(doc.get("deadline"), "deadline")
        sheet = doc.get("answer_sheet")
        if isinstance(sheet, list):
            inputs = {f.get("id") for _, s in _dicts(doc.get("steps"))
                      for _, f in _dicts(s.get("fields")) if f.get("type") != "calculated"}
            for i, field_id in enumerate(sheet):
                if isinstance(field_id, str) and field_id not in inputs:
                    self.error(f"answer_sheet[{i}]", f"'{field_id}' is not a question of this "
                               "flow; list the ids of the fields the official form asks for")
        fact = doc.get("resume_fact")
        if isinstance(fact, str):
            kinds = {f.get("id"): f.get("type") for _, s in _dicts(doc.get("steps"))
                     for _, f in _dicts(s.get("fields"))}
            if kinds.get(fact) != "date":
                self.error("resume_fact", f"'{fact}' is not a date field of this flow; name "
                           "the date a family knows by heart, such as the child's birth date")
        if any(p.severity == "error" for p in self.problems) or not steps:
            return None
        return self.build(doc, languages, data)

    def check_texts(self, node: Any, path: str, languages: list[str]) -> None:
        """Markdown safety and missing translations, wherever a text sits."""
        if isinstance(node, dict):
            for key, value in node.items():
                child = f"{path}.{key}" if path else str(key)
                if key in TEXT_KEYS and isinstance(value, (str, dict)):
                    texts = {languages[0]: value} if isinstance(value, str) else value
                    for lang in languages:
                        if not isinstance(texts.get(lang), str) or not texts.get(lang).strip():
                            self.warn(child, f"no '{lang}' text: the page will show the "
                                             f"'{languages[0]}' text instead")
                    for lang, text in texts.items():
                        if lang not in languages:
                            self.warn(f"{child}.{lang}", f"'{lang}' is not in this flow's "
                                      "languages; add it to 'languages' or remove this text")
                        if key in MARKDOWN_KEYS and isinstance(text, str):
                            for problem in markdown.problems(text):
                                self.error(child if isinstance(value, str) else f"{child}.{lang}",
                                           problem)
                elif key != "data":
                    self.check_texts(value, child, languages)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                self.check_texts(item, f"{path}[{i}]", languages)

    def check_date(self, value: Any, path: str) -> None:
        try:
            datetime.date.fromisoformat(str(value))
        except ValueError:
            self.error(path, f"{value!r} is not a real date; write it as YYYY-MM-DD")

    def check_ids(self, doc: dict) -> None:
        seen_steps: dict[str, str] = {}
        seen_fields: dict[str, str] = {}
        for si, step in _dicts(doc.get("steps")):
            spath = f"steps[{si}]"
            sid = step.get("id")
            if isinstance(sid, str):
                if sid in RESERVED_STEP_IDS:
                    self.error(f"{spath}.id", f"'{sid}' is the name of a page of the wizard "
                               f"(reserved: {', '.join(sorted(RESERVED_STEP_IDS))}); choose "
                               "another step id")
                if sid in seen_steps:
                    self.error(f"{spath}.id", f"duplicate step id '{sid}' (also at "
                               f"{seen_steps[sid]}); give each step its own id")
                seen_steps.setdefault(sid, spath)
            fields = list(_dicts(step.get("fields")))
            if step.get("kind") == "checklist" and isinstance(sid, str):
                fields.append((None, {"id": _checklist_id(sid)}))
            for fi, fld in fields:
                fid = fld.get("id")
                fpath = f"{spath}.fields[{fi}]" if fi is not None else spath
                if not isinstance(fid, str):
                    continue
                if fid in seen_fields:
                    self.error(f"{fpath}.id" if fi is not None else f"{spath}.id",
                               f"duplicate field id '{fid}' (also at {seen_fields[fid]}); "
                               "answers are stored by id, so each must be unique in the flow")
                seen_fields.setdefault(fid, fpath)
                values: dict[str, int] = {}
                for ci, choice in _dicts(fld.get("choices")):
                    value = choice.get("value")
                    if isinstance(value, str) and value in values:
                        self.error(f"{fpath}.choices[{ci}].value",
                                   f"duplicate choice value '{value}' (also choices"
                                   f"[{values[value]}])")
                    values.setdefault(value, ci)
            items: dict[str, int] = {}
            for ii, item in _dicts(step.get("items")):
                iid = item.get("id")
                if isinstance(iid, str) and iid in items:
                    self.error(f"{spath}.items[{ii}].id",
                               f"duplicate item id '{iid}' (also items[{items[iid]}])")
                items.setdefault(iid, ii)

    def check_steps(self, doc: dict, languages: list[str], data: dict) -> None:
        # Answers known so far, in flow order: field id -> (field dict, step index).
        earlier: dict[str, tuple[dict, int]] = {}
        all_fields = {
            f.get("id"): (f, si)
            for si, s in _dicts(doc.get("steps"))
            for _, f in _dicts(s.get("fields"))
            if isinstance(f.get("id"), str)
        }
        for si, s in _dicts(doc.get("steps")):
            if s.get("kind") == "checklist" and isinstance(s.get("id"), str):
                all_fields[_checklist_id(s["id"])] = ({"type": "checklist", "id": s["id"]}, si)
        unreachable: set[int] = set()
        for si, step in _dicts(doc.get("steps")):
            spath = f"steps[{si}]"
            kind = step.get("kind", "question")
            if kind == "question" and not step.get("fields"):
                self.error(spath, "a question step needs 'fields' (at least one)")
            if kind != "question" and "fields" in step:
                self.error(f"{spath}.fields", f"a {kind} step has no fields; make it "
                           "kind: question, or remove 'fields'")
            if kind == "checklist" and not step.get("items"):
                self.error(spath, "a checklist step needs 'items' (the documents to tick)")
            if kind != "checklist" and "items" in step:
                self.error(f"{spath}.items", "only a checklist step has 'items'")
            if kind == "instruction" and not step.get("body"):
                self.error(spath, "an instruction step needs a 'body' saying what to do")
            rule = self.condition(step.get("show_if"), f"{spath}.show_if", data, earlier,
                                  all_fields, same_step={})
            if rule is not None and self.never_true(rule, earlier, unreachable):
                unreachable.add(si)
                self.error(f"{spath}.show_if", "this step can never be shown: its condition "
                           "is false whatever the answers; fix or remove the condition")
            this_step: dict[str, tuple[dict, int]] = {}
            for fi, fld in _dicts(step.get("fields")):
                self.check_field(fld, f"{spath}.fields[{fi}]", data, earlier, all_fields,
                                 this_step, si)
                if isinstance(fld.get("id"), str):
                    this_step[fld["id"]] = (fld, si)
            for ii, item in _dicts(step.get("items")):
                self.condition(item.get("show_if"), f"{spath}.items[{ii}].show_if", data,
                               earlier, all_fields, same_step={})
            earlier.update(this_step)
            if kind == "checklist" and isinstance(step.get("id"), str):
                earlier[_checklist_id(step["id"])] = ({"type": "checklist"}, si)

    def never_true(self, rule: Any, earlier: dict, unreachable: set[int]) -> bool:
        """A condition that no answers can make true: it reads no answers (or only answers
        from steps that are never shown), and is false with those answers missing."""
        names = conditions.variables(rule)
        if any(earlier.get(n, (None, -1))[1] not in unreachable for n in names):
            return False
        try:
            return not conditions.truthy(conditions.evaluate(rule, {}))
        except Exception:
            return False

    def check_field(self, fld: dict, path: str, data: dict, earlier: dict, all_fields: dict,
                    this_step: dict, step_index: int) -> None:
        ftype = fld.get("type")
        if ftype not in TYPE_KEYS:
            return  # the schema already named the unknown type
        for key in fld:
            if key not in COMMON_KEYS and key not in TYPE_KEYS[ftype] and key in \
                    SCHEMA["$defs"]["field"]["properties"]:
                self.error(f"{path}.{key}", f"'{key}' does not apply to a {ftype} field")
        if ftype in ("choice", "multichoice") and not fld.get("choices"):
            self.error(path, f"a {ftype} field needs 'choices'")
        if ftype == "calculated":
            if not fld.get("expr"):
                self.error(path, "a calculated field needs 'expr', the expression that works "
                           "out its value")
            else:
                self.condition(fld.get("expr"), f"{path}.expr", data, earlier, all_fields,
                               same_step=this_step, boolean=False)
        elif ftype not in ("calculated",) and not fld.get("label"):
            self.error(path, "an input field needs a 'label' (the question it asks)")
        self.condition(fld.get("show_if"), f"{path}.show_if", data, earlier, all_fields,
                       same_step={})
        if isinstance(fld.get("pattern"), str):
            try:
                re.compile(fld["pattern"])
            except re.error as exc:
                self.error(f"{path}.pattern", f"not a valid regular expression ({exc})")
        for bound in ("min", "max"):
            value = fld.get(bound)
            if value is None or bound not in TYPE_KEYS[ftype]:
                continue
            if ftype == "date":
                if value != "today":
                    if isinstance(value, str):
                        self.check_date(value, f"{path}.{bound}")
                    else:
                        self.error(f"{path}.{bound}", "a date limit is a date YYYY-MM-DD or "
                                   "'today'")
            elif not isinstance(value, (int, float)) or isinstance(value, bool):
                self.error(f"{path}.{bound}", f"a {ftype} limit must be a number")
        lo, hi = fld.get("min"), fld.get("max")
        if (isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo > hi) or (
            isinstance(lo, str) and isinstance(hi, str) and "today" not in (lo, hi) and lo > hi
        ):
            self.error(f"{path}.min", f"min ({lo}) is greater than max ({hi})")
        mn, mx = fld.get("min_length"), fld.get("max_length")
        if isinstance(mn, int) and isinstance(mx, int) and mn > mx:
            self.error(f"{path}.min_length", f"min_length ({mn}) is greater than max_length ({mx})")
        target = fld.get("birth_date_field")
        if ftype == "resident_id" and isinstance(target, str):
            known = {**earlier, **this_step}
            if target not in known or known[target][0].get("type") != "date":
                self.error(f"{path}.birth_date_field", f"'{target}' is not a date field asked "
                           "before this one")

    def condition(self, source: Any, path: str, data: dict, earlier: dict, all_fields: dict,
                  same_step: dict, boolean: bool = True) -> Any:
        """Compile one condition and check the answers it names; returns the rule or None."""
        if not isinstance(source, str) or not source.strip():
            return None
        try:
            rule = conditions.compile_expression(source, data)
        except conditions.ConditionError as exc:
            self.error(path, f"{exc} (in: {source})")
            return None
        known = {**earlier, **same_step}
        for name in sorted(conditions.variables(rule)):
            if name in known:
                continue
            if name in all_fields:
                self.error(path, f"'{name}' is asked later in the flow (steps"
                           f"[{all_fields[name][1]}]); a condition can only use answers "
                           "from earlier steps")
            else:
                close = difflib.get_close_matches(name, list(all_fields), n=1)
                guess = f" (did you mean '{close[0]}'?)" if close else ""
                self.error(path, f"'{name}' is not a field of this flow{guess}")
        for name, literal in _compared_literals(rule):
            fld = known.get(name, (None,))[0]
            if not fld or fld.get("type") not in ("choice", "multichoice"):
                continue
            values = [c.get("value") for _, c in _dicts(fld.get("choices"))]
            for value in literal if isinstance(literal, list) else [literal]:
                if isinstance(value, str) and value not in values:
                    self.error(path, f"'{value}' is not a choice of '{name}' (its choices: "
                               f"{', '.join(map(str, values))})")
        return rule

    # -- building the model (only once everything checks)

    def build(self, doc: dict, languages: list[str], data: dict) -> Flow:
        default = languages[0]

        def text(value: Any) -> dict | None:
            if value is None:
                return None
            return {default: value} if isinstance(value, str) else dict(value)

        def rule(source: Any) -> Any:
            return conditions.compile_expression(source, data) if source else None

        def choice(c: dict) -> Choice:
            return Choice(value=c["value"], label=text(c["label"]), official=c.get("official"),
                          hint=text(c.get("hint")), help=text(c.get("help")),
                          show_if=rule(c.get("show_if")), show_if_source=c.get("show_if"))

        steps = []
        for si, s in enumerate(doc["steps"]):
            kind = s.get("kind", "question")
            fields = []
            for fi, f in enumerate(s.get("fields") or []):
                fields.append(Field(
                    id=f["id"], type=f["type"], path=f"steps[{si}].fields[{fi}]",
                    label=text(f.get("label")) or {}, official=f.get("official"),
                    hint=text(f.get("hint")), help=text(f.get("help")),
                    required=f.get("required", f["type"] != "calculated"),
                    required_message=text(f.get("required_message")),
                    min=f.get("min"), max=f.get("max"),
                    range_message=text(f.get("range_message")),
                    min_length=f.get("min_length"), max_length=f.get("max_length"),
                    length_message=text(f.get("length_message")),
                    pattern=f.get("pattern"), pattern_message=text(f.get("pattern_message")),
                    places=f.get("places"),
                    choices=tuple(choice(c) for c in f.get("choices") or []),
                    show_if=rule(f.get("show_if")), show_if_source=f.get("show_if"),
                    expr=rule(f.get("expr")), expr_source=f.get("expr"),
                    unit=text(f.get("unit")), birth_date_field=f.get("birth_date_field"),
                ))
            if kind == "checklist":
                fields.append(Field(
                    id=_checklist_id(s["id"]), type="checklist", path=f"steps[{si}].items",
                    label=text(s["title"]), required=False,
                    choices=tuple(
                        Choice(value=i["id"], label=text(i["label"]), official=i.get("official"),
                               hint=text(i.get("hint")), help=text(i.get("help")),
                               show_if=rule(i.get("show_if")), show_if_source=i.get("show_if"))
                        for i in s["items"]
                    ),
                ))
            steps.append(Step(
                id=s["id"], kind=kind, path=f"steps[{si}]", title=text(s["title"]),
                body=text(s.get("body")), image=s.get("image"),
                image_alt=text(s.get("image_alt")), show_if=rule(s.get("show_if")),
                show_if_source=s.get("show_if"), fields=tuple(fields),
            ))
        deadline = doc.get("deadline")
        return Flow(
            id=doc["id"], version=doc["version"], languages=tuple(languages),
            title=text(doc["title"]), summary=text(doc.get("summary")),
            intro=text(doc.get("intro")), minutes=doc.get("minutes"),
            deadline=datetime.date.fromisoformat(deadline) if deadline else None,
            data=data, steps=tuple(steps), resume_fact=doc.get("resume_fact"),
            answer_sheet=tuple(doc.get("answer_sheet") or ()),
        )


def _dicts(value: Any) -> Iterable[tuple[int, dict]]:
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict):
                yield i, item


def _checklist_id(step_id: str) -> str:
    return step_id.replace("-", "_")


def _compared_literals(rule: Any) -> Iterable[tuple[str, Any]]:
    """(field, literal) pairs where a rule compares an answer with a constant: the places a
    misspelt choice value would make a condition silently never true."""
    if isinstance(rule, list):
        for item in rule:
            yield from _compared_literals(item)
        return
    if not isinstance(rule, dict) or len(rule) != 1:
        return
    (op, args), = rule.items()
    if isinstance(args, list) and len(args) == 2 and op in ("===", "!==", "==", "!=", "in"):
        a, b = args
        for var, lit in ((a, b), (b, a)):
            if isinstance(var, dict) and set(var) == {"var"} and isinstance(var["var"], str) \
                    and not isinstance(lit, dict):
                yield var["var"], lit
    yield from _compared_literals(args)


def load_document(doc: Any, filename: str = "<flow>", source: str | None = None,
                  lines: dict[str, int] | None = None) -> LoadResult:
    """Check an already-parsed document (YAML or JSON). Never raises for bad input."""
    checker = _Checker(doc, filename, lines or {})
    try:
        flow = checker.run()
    except RecursionError:
        return LoadResult(None, [Problem(filename, "", "the document is nested too deeply")])
    if flow is not None:
        if source is None:
            source = json.dumps(doc, ensure_ascii=False, indent=2)
        flow = replace(flow, source=source)
    return LoadResult(flow, checker.problems)


def check_assets(result: LoadResult, filename: str, static_dir: str | Path) -> LoadResult:
    """Add a problem for each step picture missing under static_dir (the page would show a
    broken image); the flow is then refused like for any other error."""
    if result.flow is None:
        return result
    root = Path(static_dir).resolve()
    for step in result.flow.steps:
        if step.image and not (root / step.image).resolve().is_file():
            result.problems.append(Problem(
                filename, f"{step.path}.image",
                f"no picture {step.image!r} under static/; add the file or fix the name"))
    if result.errors:
        result.flow = None
    return result


def main(argv: list[str] | None = None) -> int:
    """Print every problem in the given files; exit 1 if any has an error."""
    status = 0
    for name in argv if argv is not None else sys.argv[1:]:
        result = load_file(name)
        for problem in result.problems:
            print(problem)
        if result.errors:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
