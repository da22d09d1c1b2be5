"""Reads a flow file (YAML) or a parsed document into a checked `Flow`.

A broken flow is refused with every problem at once, each naming the file, the key path
(`steps[3].fields[0].type`), the line where we know it, and what to do. Missing translations
are warnings. The loader never raises on bad input: it returns a result with a flow or with
problems (a property test feeds it arbitrary documents).

Flow files are hostile input (staff upload them through the studio), so the check must end
quickly and in little memory whatever a file holds: the bounds below are checked before the
YAML is parsed (size), while it is composed (anchors and aliases, nesting, number of values,
length of a text), and before anything else is checked (counts of steps, fields, choices).

Run `python -m wizard.flow.loader FILE...` for the same report as `wizard check`.
"""

from __future__ import annotations

import calendar
import datetime
import difflib
import functools
import json
import math
import re
import stat
import sys
import zoneinfo
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import jsonschema
import regex
import yaml

from . import conditions, markdown, placeholders
from .model import Choice, Field, Flow, Step

# Bounds on one flow file (documented in docs/flow-format.md). The shipped
# flows/kindergarten-shanghai.yaml is 120 KB, with 24 steps, at most 2 fields a step and 16
# choices a field, 2,170 values (keys included) in lists and mappings nested 8 deep, texts of
# at most 1,527 characters and conditions of at most 96: every bound leaves ample room for real
# flows and refuses what would take long to check or to show.
MAX_FILE_BYTES = 1024 * 1024  # the file, checked before parsing (load_file stats it first)
MAX_NESTING = 20  # lists and mappings inside each other
MAX_VALUES = 50_000  # values in the file: texts, numbers, lists, mappings, keys too
MAX_TEXT_CHARS = 20_000  # characters in any one text
MAX_KEY_CHARS = 200  # characters in any one key
MAX_LANGUAGES = 20
MAX_STEPS = 200
MAX_FIELDS_PER_STEP = 30
MAX_CHOICES = 300  # choices of one field, or items of one checklist (a list of countries fits)
MAX_ENTRIES = 1_000  # entries of any other list or mapping (data, answer_sheet)
MAX_EXPRESSION_CHARS = conditions.MAX_SOURCE_LENGTH  # 2,000 characters in one condition
MAX_EXPRESSION_DEPTH = conditions.MAX_DEPTH  # 64 levels of nesting in one condition
MAX_NUMBER = 2**53  # larger numbers are not exact in JavaScript (and overflow SQLite)
MAX_MARKDOWN_CHARS = 50_000  # Markdown texts with links or HTML, together (none here)
MAX_ERRORS = 100  # the check stops after this many errors (each costs time to explain)
# Not a bound on the file: how many names "did you mean" may compare in one check (difflib
# takes ~15 µs a comparison; 6,000 fields times 100 misspelt names would take ten seconds).
MAX_SUGGESTION_WORK = 50_000
DEFAULT_TIMEZONE = "Asia/Shanghai"

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
    "text": {"min_length", "max_length", "length_message", "pattern", "pattern_message",
             "script"},
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
RESERVED_STEP_IDS = {"review", "done", "save", "delete", "deleted", "sync", "sheet", "forget",
                     "forgotten", "helper"}
# Names a step's form keeps for itself (wizard/forms.py: a field id becomes an attribute of
# the form; a test keeps this list in step with the form).
RESERVED_FIELD_IDS = {"data", "errors", "form_errors", "has_mistakes", "mark", "meta",
                      "populate_obj", "post_process", "process", "show_saved", "show_typed",
                      "summary", "typed", "validate", "visible"}
COMMON_KEYS = {"id", "type", "label", "official", "hint", "help", "required", "required_message",
               "show_if"}


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    message: str
    severity: str = "error"  # or "warning"
    line: int | None = None

    def __post_init__(self) -> None:
        # A key or text from the file may hold a lone surrogate or a NUL: escape them, so that
        # printing a problem (UTF-8) or storing it never fails.
        for name in ("path", "message"):
            value = getattr(self, name)
            if isinstance(value, str) and (not value.isascii() or "\x00" in value):
                clean = value.encode("utf-8", "backslashreplace").decode("utf-8")
                object.__setattr__(self, name, clean.replace("\x00", "\\x00"))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        path = f" {self.path}:" if self.path else ""
        tag = "" if self.severity == "error" else " warning:"
        return f"{where}:{tag}{path} {self.message}"


@dataclass
class LoadResult:
    flow: Flow | None
    problems: list[Problem] = field(default_factory=list)
    # The text could not be read at all (too big, a character YAML refuses, not YAML, nested
    # too deep): nothing else of it was checked.
    unreadable: bool = False

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


# ---------------------------------------------------------------- YAML with line numbers


class _Refused(yaml.YAMLError):
    """A file we will not compose (anchors, aliases, too deep, too many values, too long a
    text), with the line where the parser met it."""

    def __init__(self, message: str, mark: yaml.Mark | None):
        super().__init__(message)
        self.message = message
        self.line = mark.line + 1 if mark is not None else None


# libyaml, when PyYAML was built with it, parses about ten times faster than pure Python; both
# read YAML alike and give the same line numbers.
_BaseLoader = getattr(yaml, "CSafeLoader", None) if yaml.__with_libyaml__ else None
_BaseLoader = _BaseLoader or yaml.SafeLoader


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe YAML, but dates stay ISO strings (a flow is data, JSON-shaped everywhere)."""


def _check_events(text: str) -> None:
    """Raise _Refused for what a flow must not hold, from the parser's events alone: before
    anything is composed or built from them."""
    depth = values = 0
    for event in yaml.parse(text, Loader=_BaseLoader):
        # An alias reuses a node: nine aliases of nine aliases of ... is a billion values to
        # walk (a "billion laughs"). A flow never needs them, so anchors are refused too.
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(f"the alias *{_clip(str(event.anchor), 40)} is not allowed: flows do "
                           "not use YAML anchors and aliases (&name, *name); write the value out "
                           "in full", event.start_mark)
        if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
            raise _Refused(f"the anchor &{_clip(str(event.anchor), 40)} is not allowed: flows do "
                           "not use YAML anchors and aliases (&name, *name); write the value out "
                           "in full where it is needed", event.start_mark)
        if isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            continue
        if not isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            continue
        values += 1
        if values > MAX_VALUES:
            raise _Refused(f"the file holds more than {MAX_VALUES:,} values, the limit for a "
                           "flow; split it into several flows", event.start_mark)
        if isinstance(event, yaml.ScalarEvent):
            if len(event.value) > MAX_TEXT_CHARS:
                raise _Refused(f"a text of {len(event.value):,} characters starts here, over "
                               f"the limit of {MAX_TEXT_CHARS:,}; shorten it or split it into "
                               "several steps", event.start_mark)
        else:
            depth += 1
            if depth > MAX_NESTING:
                raise _Refused(f"lists and mappings are nested more than {MAX_NESTING} levels "
                               "deep here, the limit for a flow; check the indentation",
                               event.start_mark)


def _timestamp_as_text(loader: _Loader, node: yaml.Node) -> str:
    return loader.construct_scalar(node)


def _bounded_int(loader: _Loader, node: yaml.Node) -> int:
    # Python refuses to read integers of over 4,300 digits (ValueError, not a YAML error), and
    # a flow has no use for any beyond MAX_NUMBER.
    if len(node.value) > 100:
        raise yaml.constructor.ConstructorError(
            None, None, f"the number {_clip(node.value, 40)} is far too long", node.start_mark)
    return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)
_Loader.add_constructor("tag:yaml.org,2002:int", _bounded_int)


def _walk_lines(node: yaml.Node, path: str, lines: dict[str, int], dups: list) -> None:
    """Record the line of every key path; note duplicate keys (YAML would keep only the last).
    Recursion is fine: _check_events refused anything nested deeper than MAX_NESTING."""
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


def _size_problem(size: int, filename: str, at_least: bool = False) -> Problem | None:
    if size <= MAX_FILE_BYTES:
        return None
    return Problem(filename, "", f"the file is {'at least ' if at_least else ''}{size:,} "
                   f"bytes, over the limit of {MAX_FILE_BYTES:,} bytes (1 MiB) for a flow; "
                   "shorten its texts or split it into several flows")


def load_text(text: str, filename: str = "<flow>") -> LoadResult:
    """Parse YAML text and check it. Never raises for bad input."""
    if not isinstance(text, str):
        return LoadResult(None, [Problem(filename, "", "a flow must be given as text")])
    # The size first: a huge text is refused before any parsing. (Characters never outnumber
    # UTF-8 bytes, so a text with too many characters is too big without encoding it.)
    too_big = _size_problem(len(text), filename, at_least=True) or _size_problem(
        len(text.encode("utf-8", "surrogatepass")), filename)
    if too_big:
        return LoadResult(None, [too_big], unreadable=True)
    # Characters YAML refuses (NUL, other control characters, lone surrogates), found here so
    # that either parser reports them alike, with their line.
    bad = _NON_PRINTABLE.search(text)
    if bad:
        return LoadResult(None, [Problem(
            filename, "", f"this line holds a character that a flow file cannot contain "
            f"({bad.group()!r}, a control character or a lone surrogate); remove it",
            line=text.count("\n", 0, bad.start()) + 1)], unreadable=True)
    lines: dict[str, int] = {}
    dups: list = []
    try:
        _check_events(text)
        yaml_loader = _Loader(text)
        try:
            node = yaml_loader.get_single_node()
            doc = yaml_loader.construct_document(node) if node is not None else None
        finally:
            yaml_loader.dispose()
        if node is not None:
            _walk_lines(node, "", lines, dups)
    except _Refused as exc:
        return LoadResult(None, [Problem(filename, "", exc.message, line=exc.line)],
                          unreadable=True)
    except yaml.YAMLError as exc:
        return LoadResult(None, [_yaml_problem(exc, text, filename)], unreadable=True)
    except (ValueError, TypeError, OverflowError, RecursionError, MemoryError) as exc:
        # Python refused a value (a float or date it cannot make); YAML gave no line.
        return LoadResult(None, [Problem(filename, "", f"a value in this file cannot be read "
                                         f"({_clip(str(exc))}); check numbers and dates")],
                          unreadable=True)
    result = load_document(doc, filename, source=text, lines=lines)
    for path, line in dups:
        result.problems.insert(0, Problem(
            filename, path, "this key appears twice in the same place; YAML keeps only the "
            "last one, so remove or rename one of them", line=line))
    if any(p.severity == "error" for p in result.problems):
        result.flow = None
    return result


_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE  # what YAML refuses to read
# A quoted text that runs over lines that look like YAML (a key or a list item): the usual sign
# of a missing closing quote.
_SWALLOWED = re.compile(r"\n[ \t]*(?:- |[A-Za-z_][\w-]*:(?:[ \t]|$))", re.MULTILINE)


def _yaml_problem(exc: yaml.YAMLError, text: str, filename: str) -> Problem:
    """The YAML error as a problem on the line where the author should look."""
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    what = _clip(str(getattr(exc, "problem", None) or exc))
    if getattr(exc, "context", None) == "while scanning a quoted scalar" and context_mark:
        # "found unexpected end of stream": YAML names the end of the file, but the author must
        # close the quote where it opened.
        return Problem(filename, "", "this is not valid YAML: the quote opened on this line is "
                       "never closed; close it with the same quote", line=context_mark.line + 1)
    if problem_mark is not None:
        runaway = _runaway_quote(text, problem_mark.line)
        if runaway is not None:
            start, end = runaway
            return Problem(filename, "", f"this is not valid YAML: the quote opened on this "
                           f"line is not closed on it, so the text runs on to line {end} and "
                           f"swallows the lines between (YAML stopped at line "
                           f"{problem_mark.line + 1}: {what}); close the quote on this line",
                           line=start)
    mark = problem_mark or context_mark
    if "nesting depth" in what:  # libyaml's own bound (1,000), met while it reads ahead
        return Problem(filename, "", f"lists and mappings are nested more than {MAX_NESTING} "
                       "levels deep here, the limit for a flow; check the indentation",
                       line=mark.line + 1 if mark else None)
    return Problem(filename, "", f"this is not valid YAML ({what}); check indentation, colons "
                   "and quotes on this line and the one before",
                   line=mark.line + 1 if mark else None)


def _runaway_quote(text: str, before_line: int) -> tuple[int, int] | None:
    """(first line, last line) of the first quoted text before line `before_line` (0-based)
    that runs over lines looking like YAML, or None."""
    try:
        for token in yaml.scan(text, Loader=_BaseLoader):
            if token.start_mark.line >= before_line:
                break
            if isinstance(token, yaml.ScalarToken) and token.style in ("'", '"') and \
                    token.end_mark.line > token.start_mark.line and \
                    _SWALLOWED.search(text, token.start_mark.index, token.end_mark.index):
                return token.start_mark.line + 1, token.end_mark.line + 1
    except yaml.YAMLError:
        pass
    return None


def load_file(path: str | Path) -> LoadResult:
    path = Path(path)
    try:
        # Stat first: a 2 GB file (or /dev/zero) is refused without reading it.
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return LoadResult(None, [Problem(str(path), "", "this is not a regular file")])
        too_big = _size_problem(info.st_size, str(path))
        if too_big:
            return LoadResult(None, [too_big])
        # Text mode, as before (universal newlines: a published source must not change);
        # read at most one character more than the limit, in case the file grew since stat.
        with path.open(encoding="utf-8") as f:
            text = f.read(MAX_FILE_BYTES + 1)
    except UnicodeDecodeError:
        return LoadResult(None, [Problem(str(path), "", "the file is not UTF-8 text; save it "
                                         "as UTF-8")])
    except OSError as exc:
        return LoadResult(None, [Problem(str(path), "", f"cannot read the file ({exc.strerror})")])
    return load_text(text, str(path))


def _clip(text: str, limit: int = conditions.ECHO_LENGTH) -> str:
    return conditions.clip(text, limit)


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
        known = sorted(schema.get("properties", {}))
        extra = [k for k in error.instance if k not in known] \
            if isinstance(error.instance, dict) else []
        hints = []
        for key in map(str, extra[:5]):
            close = difflib.get_close_matches(key, known, n=1)
            guess = f" (did you mean '{close[0]}'?)" if close else ""
            hints.append(f"'{_clip(key, 40)}'{guess}")
        more = f" and {len(extra) - 5} more" if len(extra) > 5 else ""
        return f"unknown key {', '.join(hints)}{more}; allowed here: {', '.join(known)}"
    if v == "enum":
        options = ", ".join(map(str, schema.get("enum", [])))
        if error.absolute_path and error.absolute_path[-1] == "type":
            close = difflib.get_close_matches(str(error.instance), schema.get("enum", []), n=1)
            guess = f" (did you mean '{close[0]}'?)" if close else ""
            return f"unknown field type {_short(error.instance)}{guess}; use one of: {options}"
        return f"{_short(error.instance)} is not allowed; use one of: {options}"
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
    return _clip(error.message, 200)  # the message may quote the whole value


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
        self.error_count = 0
        self.within_bounds = True
        self.markdown_chars = 0
        self.rules: dict[str, Any] = {}  # compiled conditions, for build()
        self.suggestions = MAX_SUGGESTION_WORK

    def error(self, path: str, message: str, severity: str = "error") -> None:
        line = self.lines.get(path)
        if line is None:  # nearest enclosing key that has a line
            parent = path
            while parent and line is None:
                shorter = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", parent)
                parent = "" if shorter == parent else shorter
                line = self.lines.get(parent)
        if severity == "error":
            if self.error_count >= MAX_ERRORS:
                raise _TooManyErrors
            self.error_count += 1
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
        if not self.check_bounds(doc):
            return None  # the other checks could take long on such a document
        for error in sorted(_VALIDATOR.iter_errors(doc), key=lambda e: list(map(str, e.path))):
            self.error(_path_text(error.absolute_path), _schema_message(error))
        declared = doc.get("languages") if isinstance(doc.get("languages"), list) else []
        languages = [x for x in declared if isinstance(x, str)] or ["zh_Hans"]
        data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
        self.check_texts(doc, "", languages, data)
        self.check_data_dates(data, "data")
        if doc.get("timezone") is not None:
            self.check_timezone(doc["timezone"])
        steps = [s for s in doc.get("steps") or [] if isinstance(s, dict)] \
            if isinstance(doc.get("steps"), list) else []
        self.check_ids(doc)
        self.check_steps(doc, languages, data)
        for key in ("deadline", "opens"):
            if doc.get(key) is not None:
                self.check_date(doc.get(key), key)
        opens, deadline = doc.get("opens"), doc.get("deadline")
        if isinstance(opens, str) and isinstance(deadline, str) and opens > deadline:
            self.error("opens", f"opens ({opens}) is after the deadline ({deadline})")
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

    def check_bounds(self, doc: dict) -> bool:
        """Refuse a document too big to check quickly (see MAX_* at the top), and values that
        are not plain data. True when the document is within the bounds."""
        lists = {"languages": (MAX_LANGUAGES, "languages"), "steps": (MAX_STEPS, "steps")}
        steps = doc.get("steps")
        for si, step in _dicts(steps if isinstance(steps, list) and len(steps) <= MAX_STEPS
                               else None):
            lists[f"steps[{si}].fields"] = (MAX_FIELDS_PER_STEP, "fields")
            lists[f"steps[{si}].items"] = (MAX_CHOICES, "items")
            fields = step.get("fields")
            for fi, _ in _dicts(fields if isinstance(fields, list) and
                                len(fields) <= MAX_FIELDS_PER_STEP else None):
                lists[f"steps[{si}].fields[{fi}].choices"] = (MAX_CHOICES, "choices")
        # Walk every value without recursion (a document from JSON may be nested any depth).
        stack: list[tuple[Any, str, int]] = [(doc, "", 1)]
        count = 0
        while stack:
            value, path, depth = stack.pop()
            count += 1 + (len(value) if isinstance(value, dict) else 0)  # keys count, as in YAML
            if count > MAX_VALUES:
                self.bound("", f"the document holds more than {MAX_VALUES:,} values, the limit "
                           "for a flow; split it into several flows")
                break
            if isinstance(value, str):
                self.check_string(value, path, MAX_TEXT_CHARS, "text")
            elif isinstance(value, (dict, list, tuple)):
                if depth > MAX_NESTING:
                    self.bound(path, f"lists and mappings are nested more than {MAX_NESTING} "
                               "levels deep here, the limit for a flow")
                    continue
                limit, what = lists.get(path, (MAX_ENTRIES, "entries"))
                if len(value) > limit:
                    self.bound(path, f"{len(value):,} {what}, over the limit of {limit:,} for a "
                               "flow; split it into several flows")
                    continue
                if isinstance(value, dict):
                    children = []
                    for key, item in value.items():
                        child = f"{path}.{key}" if path else str(key)
                        if isinstance(key, str) and not self.check_string(
                                key, path if len(key) > MAX_KEY_CHARS else child,
                                MAX_KEY_CHARS, "key"):
                            continue
                        children.append((item, child, depth + 1))
                else:
                    children = [(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
                stack.extend(reversed(children))
            elif isinstance(value, bool) or value is None or isinstance(value, datetime.date):
                pass
            elif isinstance(value, int):
                if abs(value) > MAX_NUMBER:
                    self.error(path, f"the number {_clip(str(value), 30)} is too large; a flow "
                               f"uses numbers up to {MAX_NUMBER:,}")
            elif isinstance(value, float):
                if not math.isfinite(value):
                    self.error(path, f"{value} is not a number a flow can use; write a number")
            else:  # a YAML tag such as !!binary or !!set
                self.error(path, f"this is a {type(value).__name__} (from a YAML tag such as "
                           "!!binary); a flow holds only texts, numbers, true/false, lists and "
                           "mappings")
        return self.within_bounds

    def bound(self, path: str, message: str) -> None:
        self.within_bounds = False
        self.error(path, message)

    def check_string(self, text: str, path: str, limit: int, what: str) -> bool:
        """A text or key within its length bound, and showable (no NUL, no lone surrogate)."""
        if len(text) > limit:
            self.bound(path, f"a {what} of {len(text):,} characters, over the limit of "
                       f"{limit:,}; shorten it" + (" or split it into several steps"
                                                   if what == "text" else ""))
            return False
        if "\x00" in text or (not text.isascii() and _UNSHOWABLE.search(text)):
            self.error(path, f"this {what} holds a character that cannot be shown or stored (a "
                       "NUL or a lone surrogate such as \\ud800); remove it")
        return True

    def check_data_dates(self, node: Any, path: str) -> None:
        """Every data value that looks like a date is a real date written YYYY-MM-DD: the
        engine reads data dates only that way (a cutoff of 2027-09-31 would make every child's
        birth date look outside the window)."""
        if isinstance(node, str):
            problem = _date_problem(node)
            if problem:
                self.error(path, problem)
        elif isinstance(node, dict):
            for key, value in node.items():
                self.check_data_dates(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                self.check_data_dates(value, f"{path}[{i}]")

    def check_timezone(self, name: Any) -> None:
        if not isinstance(name, str):
            return  # the schema has said so
        try:
            zoneinfo.ZoneInfo(name)
            return
        except Exception:  # unknown, or not a zone name at all (a path, a directory, NUL...)
            pass
        close = difflib.get_close_matches(name, _zone_names(), n=1) if len(name) < 100 else []
        guess = f" (did you mean '{close[0]}'?)" if close else ""
        self.error("timezone", f"unknown time zone {_short(name)}{guess}; write an IANA time "
                   f"zone name such as {DEFAULT_TIMEZONE} or Asia/Urumqi")

    def check_texts(self, node: Any, path: str, languages: list[str],
                    data: dict | None = None) -> None:
        """Markdown safety, missing translations and `{data.key}` placeholders, wherever a
        text sits."""
        if isinstance(node, dict):
            for key, value in node.items():
                child = f"{path}.{key}" if path else str(key)
                if key in TEXT_KEYS and isinstance(value, (str, dict)):
                    texts = {languages[0]: value} if isinstance(value, str) else value
                    for lang in languages:
                        if isinstance(texts.get(lang), str) and texts.get(lang).strip():
                            continue
                        if lang == languages[0]:
                            self.warn(child, f"the '{lang}' text is missing, and '{lang}' is "
                                      "this flow's default language (the first of "
                                      "'languages'): pages in a language without this text "
                                      "fall back to another language or show nothing; add "
                                      f"the '{lang}' text")
                        else:
                            self.warn(child, f"no '{lang}' text: the page will show the "
                                             f"'{languages[0]}' text instead")
                    for lang, text in texts.items():
                        where = child if isinstance(value, str) else f"{child}.{lang}"
                        if isinstance(text, str) and "data" in text:
                            for said in placeholders.problems(text, data or {}):
                                self.error(where, said)
                        if lang not in languages:
                            self.warn(f"{child}.{lang}", f"'{lang}' is not in this flow's "
                                      "languages; add it to 'languages' or remove this text")
                        if key in MARKDOWN_KEYS and isinstance(text, str):
                            # As it will be rendered: with the values of `data` in it.
                            self.check_markdown(placeholders.fill(text, lang, data or {}),
                                                where)
                elif key != "data":
                    self.check_texts(value, child, languages, data)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                self.check_texts(item, f"{path}[{i}]", languages, data)

    def check_markdown(self, text: str, path: str) -> None:
        # Parsing Markdown costs up to ~20 µs a character (text full of '!['), hence a budget.
        if not markdown.needs_parsing(text):
            return
        self.markdown_chars += len(text)
        if self.markdown_chars > MAX_MARKDOWN_CHARS:
            if self.markdown_chars - len(text) <= MAX_MARKDOWN_CHARS:  # say it once
                self.error(path, f"the Markdown texts with links or HTML up to here come to "
                           f"{self.markdown_chars:,} characters, over the limit of "
                           f"{MAX_MARKDOWN_CHARS:,} for a flow; shorten them or split the flow")
            return
        for problem in markdown.problems(text):
            self.error(path, problem)

    def check_date(self, value: Any, path: str) -> None:
        if isinstance(value, datetime.date):
            return
        text = str(value)
        if _ISO_DATE.fullmatch(text) and conditions._parse_iso(text):
            return
        self.error(path, _date_problem(text) or f"{_short(value)} is not a real date; write "
                   "it as YYYY-MM-DD")

    def check_ids(self, doc: dict) -> None:
        seen_steps: dict[str, str] = {}
        seen_fields: dict[str, str] = {}
        ended_at = None  # a step with `end: true` and no condition: nothing after it is shown
        for si, step in _dicts(doc.get("steps")):
            spath = f"steps[{si}]"
            sid = step.get("id")
            if ended_at is not None:
                self.warn(spath, f"no family can reach this step: {ended_at} ends the "
                          "walkthrough and has no show_if; give it a condition or remove "
                          "this step")
            elif step.get("end") is True and "show_if" not in step:
                ended_at = spath
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
                if fid in RESERVED_FIELD_IDS:
                    self.error(f"{fpath}.id" if fi is not None else f"{spath}.id",
                               f"'{fid}' is a name the wizard keeps for itself (reserved: "
                               f"{', '.join(sorted(RESERVED_FIELD_IDS))}); choose another id")
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
                                  all_fields, same_step={}, step_index=si)
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
                               earlier, all_fields, same_step={}, step_index=si,
                               own=_checklist_id(step["id"]) if isinstance(step.get("id"), str)
                               else None)
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
                               same_step=this_step, boolean=False, step_index=step_index,
                               own=fld.get("id"))
        elif ftype not in ("calculated",) and not fld.get("label"):
            self.error(path, "an input field needs a 'label' (the question it asks)")
        self.condition(fld.get("show_if"), f"{path}.show_if", data, earlier, all_fields,
                       same_step={}, step_index=step_index, own=fld.get("id"))
        # A choice offered only for some answers (the engine and journey.js filter them).
        for ci, choice in _dicts(fld.get("choices")):
            self.condition(choice.get("show_if"), f"{path}.choices[{ci}].show_if", data,
                           earlier, all_fields, same_step={}, step_index=step_index,
                           own=fld.get("id"))
        if isinstance(fld.get("pattern"), str):
            try:
                regex.compile(fld["pattern"])  # what answers are matched with (fieldtypes)
            except (regex.error, RecursionError, OverflowError, ValueError) as exc:
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

    def suggest(self, word: str, known: Iterable[str]) -> str | None:
        """The closest known name, while the suggestion budget lasts."""
        candidates = list(known)
        if len(candidates) > self.suggestions:
            return None
        self.suggestions -= len(candidates)
        close = difflib.get_close_matches(word, candidates, n=1)
        return close[0] if close else None

    def condition(self, source: Any, path: str, data: dict, earlier: dict, all_fields: dict,
                  same_step: dict, boolean: bool = True, step_index: int | None = None,
                  own: Any = None) -> Any:
        """Compile one condition and check the answers it names; returns the rule or None."""
        if not isinstance(source, str) or not source:
            return None  # the schema has named a missing or non-text condition
        if not source.strip():
            self.error(path, "empty condition: write one or remove the key")
            return None
        try:
            rule = self.rules[source] = conditions.compile_expression(source, data)
        except conditions.ConditionError as exc:
            self.error(path, f"{exc} (in: {_echo(source, exc.offset)})")
            return None
        known = {**earlier, **same_step}
        for name in sorted(conditions.variables(rule)):
            if name in known:
                continue
            if name == own:
                self.error(path, f"'{name}' is this field's own answer: a field cannot depend "
                           "on its own answer; use answers from earlier steps")
            elif name in all_fields and all_fields[name][1] == step_index:
                self.error(path, f"'{name}' is asked on this same step (steps[{step_index}]); a "
                           "condition can only use answers from earlier steps")
            elif name in all_fields:
                self.error(path, f"'{name}' is asked later in the flow (steps"
                           f"[{all_fields[name][1]}]); a condition can only use answers "
                           "from earlier steps")
            else:
                close = self.suggest(name, all_fields)
                guess = f" (did you mean '{close}'?)" if close else ""
                self.error(path, f"'{_clip(name)}' is not a field of this flow{guess}")
        for name, literal in _compared_literals(rule):
            fld = known.get(name, (None,))[0]
            if not fld or fld.get("type") not in ("choice", "multichoice"):
                continue
            values = [c.get("value") for _, c in _dicts(fld.get("choices"))]
            for value in literal if isinstance(literal, list) else [literal]:
                if isinstance(value, str) and value not in values:
                    self.error(path, f"'{_clip(value)}' is not a choice of '{name}' (its "
                               f"choices: {_clip(', '.join(map(str, values)), 300)})")
        return rule

    # -- building the model (only once everything checks)

    def build(self, doc: dict, languages: list[str], data: dict) -> Flow:
        default = languages[0]

        def text(value: Any) -> dict | None:
            if value is None:
                return None
            texts = {default: value} if isinstance(value, str) else dict(value)
            # `{data.key}` in a text: the value, as each language writes it (placeholders.py).
            return {lang: placeholders.fill(t, lang, data) if isinstance(t, str) else t
                    for lang, t in texts.items()}

        def rule(source: Any) -> Any:
            if not source:
                return None
            if source not in self.rules:  # pragma: no cover - condition() compiled them all
                self.rules[source] = conditions.compile_expression(source, data)
            return self.rules[source]

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
                    script=f.get("script"),
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
                end=s.get("end") is True,
            ))
        deadline, opens = doc.get("deadline"), doc.get("opens")
        return Flow(
            id=doc["id"], version=doc["version"], languages=tuple(languages),
            title=text(doc["title"]), summary=text(doc.get("summary")),
            intro=text(doc.get("intro")), minutes=doc.get("minutes"),
            deadline=datetime.date.fromisoformat(deadline) if deadline else None,
            opens=datetime.date.fromisoformat(opens) if opens else None,
            data=data, steps=tuple(steps), resume_fact=doc.get("resume_fact"),
            answer_sheet=tuple(doc.get("answer_sheet") or ()),
            timezone=doc.get("timezone") or DEFAULT_TIMEZONE,
        )


@functools.lru_cache(maxsize=1)
def _zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones())  # reads a directory tree: once


class _TooManyErrors(Exception):
    """Raised by _Checker.error once MAX_ERRORS errors are known: enough to act on."""


_UNSHOWABLE = re.compile("[\ud800-\udfff]")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Texts meant as dates: 2027-08-31 (ISO), 2027-8-31, 2027/08/31, 31/08/2027, 31.08.2027,
# 2027年8月31日, and any of those with a time after them.
_DATE_LIKE = re.compile(
    r"(?:(?P<y>[0-9]{4})(?P<s>[-/.])(?P<m>[0-9]{1,2})(?P=s)(?P<d>[0-9]{1,2})"
    r"|(?P<a>[0-9]{1,2})(?P<t>[-/.])(?P<b>[0-9]{1,2})(?P=t)(?P<y2>[0-9]{4})"
    r"|(?P<y3>[0-9]{4})年(?P<m3>[0-9]{1,2})月(?P<d3>[0-9]{1,2})日)"
    r"(?P<time>[Tt ][0-9]{1,2}:[0-9]{2}\S*)?")


def _date_problem(text: str) -> str | None:
    """Why a text that looks like a date is not one written YYYY-MM-DD (None when it is one,
    or does not look like a date at all)."""
    m = _DATE_LIKE.fullmatch(text.strip())
    if m is None:
        return None
    if m["time"]:
        return f"{_short(text)} is a date and time; write only the date, as YYYY-MM-DD"
    if m["y2"]:  # 31/08/2027 or 08/31/2027: day first or month first
        a, b, year = int(m["a"]), int(m["b"]), int(m["y2"])
        day_month = (a, b) if a > 12 else (b, a) if b > 12 else None
        guess = _iso(year, day_month[1], day_month[0]) if day_month else None
        return f"{_short(text)} is not written year-month-day; " + (
            f"write it as {guess} (YYYY-MM-DD)" if guess
            else "write dates as YYYY-MM-DD, e.g. 2027-08-31")
    year, month, day = (int(m[k]) for k in (("y", "m", "d") if m["y"] else ("y3", "m3", "d3")))
    iso = _iso(year, month, day)
    if iso is None:
        if year == 0:
            reason = "there is no year 0"
        elif not 1 <= month <= 12:
            reason = f"there is no month {month}"
        else:
            reason = (f"{calendar.month_name[month]} {year} has "
                      f"{calendar.monthrange(year, month)[1]} days")
        return f"{_short(text)} is not a real date ({reason}); write a real date as YYYY-MM-DD"
    if iso != text:
        return f"{_short(text)} is not written YYYY-MM-DD; write it as {iso}"
    return None


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        return None


def _echo(source: str, offset: int | None) -> str:
    """A long condition quoted around the place of the problem, not whole."""
    limit = conditions.ECHO_LENGTH
    if len(source) <= limit:
        return source
    start = max(0, min((offset or 0) - limit // 2, len(source) - limit))
    piece = source[start:start + limit]
    return ("\u2026" if start else "") + piece + ("\u2026" if start + limit < len(source) else "")


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
    except _TooManyErrors:
        flow = None
        checker.problems.append(Problem(filename, "", f"stopped after {MAX_ERRORS} errors; fix "
                                        "these and check again"))
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
