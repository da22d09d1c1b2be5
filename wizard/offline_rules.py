"""What the phone needs to check answers and walk a flow with no signal, as JSON-able dicts.

`flow_rules(flow)` is the rules (pure: no Flask): what static/js/fieldrules.js and
static/js/journey.js need to run the same field registry and engine as the server.
`flow_texts(flow)` is what the phone says in the page language: the error messages, labels,
units, choice labels, yes/no, the list separator and how dates and numbers are written (inside
a Flask request: it uses the page's language and catalogs).

Both are sent in every offline bundle and kept on cheap phones, so they hold only what the
scripts read: a key whose value would be null, false or empty is left out, and an absent key
means exactly that (null, false, or an empty list or mapping). The top level of `flow_rules`
is always complete.
"""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale, gettext

from . import i18n
from .flow import conditions, fieldtypes
from .flow.model import Field, Flow, Step


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    """Without keys whose value is None, False or empty (0 and "today" stay)."""
    return {k: v for k, v in d.items()
            if v is not None and v is not False and v != [] and v != {} and v != ""}


def _field_rules(f: Field) -> dict[str, Any]:
    return _compact({
        "id": f.id, "type": f.type, "required": f.required,
        "min": f.min, "max": f.max,  # numbers, or for dates "YYYY-MM-DD" or "today" as written
        "min_length": f.min_length, "max_length": f.max_length,
        "pattern": f.pattern, "places": f.places, "birth_date_field": f.birth_date_field,
        "script": f.script, "show_if": f.show_if, "expr": f.expr,
        "choices": [_compact({"value": c.value, "show_if": c.show_if}) for c in f.choices],
    })


def _step_rules(s: Step) -> dict[str, Any]:
    reads = sorted(conditions.variables(s.show_if)) if s.show_if is not None else []
    return _compact({"id": s.id, "kind": s.kind, "show_if": s.show_if, "reads": reads,
                     "end": s.end, "fields": [_field_rules(f) for f in s.fields]})


def flow_rules(flow: Flow) -> dict[str, Any]:
    """The rules of a flow version for the phone:

    {"id", "version", "timezone", "default_language", "answer_sheet": [field ids],
     "steps": [{"id", "kind", "show_if"?, "reads"?: [sorted variable names of show_if],
                "end"?: true,
                "fields"?: [{"id", "type", "required"?: true, "min"?, "max"?, "min_length"?,
                             "max_length"?, "pattern"?, "places"?, "birth_date_field"?,
                             "script"?, "show_if"?, "expr"?,
                             "choices"?: [{"value", "show_if"?}]}]}]}

    Conditions are the compiled JsonLogic of the model (static/js/rules.js runs them)."""
    return {"id": flow.id, "version": flow.version, "timezone": flow.timezone,
            "default_language": flow.default_language, "answer_sheet": list(flow.answer_sheet),
            "steps": [_step_rules(s) for s in flow.steps]}


def _overrides(f: Field, default_lang: str) -> dict[str, str]:
    out = {}
    for key, codes in fieldtypes.OVERRIDES.items():
        own = getattr(f, key)
        if own:
            text = i18n.plain(own, default_lang)
            out.update({code: text for code in codes})
    return out


def _field_texts(f: Field, default_lang: str) -> dict[str, Any]:
    return _compact({
        "label": i18n.plain(f.label, default_lang),
        # The official Chinese term as the live pages show it beside the label (None on a
        # Simplified Chinese page where it is the label itself).
        "official": i18n.official_term(f.label, f.official, default_lang),
        "overrides": _overrides(f, default_lang),
        "unit": i18n.plain(f.unit, default_lang),
        "choices": {c.value: _compact({
            "label": i18n.plain(c.label, default_lang),
            "official": i18n.official_term(c.label, c.official, default_lang)})
            for c in f.choices},
    })


def flow_texts(flow: Flow) -> dict[str, Any]:
    """What the phone says for this flow in the request's language (call inside a request):

    {"lang", "messages": {code: the catalog's sentence, with {placeholders}},
     "fields": {field id: {"label", "official"?, "overrides"?: {code: the flow's own sentence},
                           "unit"?, "choices"?: {value: {"label", "official"?}}}},
     "words": {"yes", "no", "list_separator"},
     "date": {"pattern": Babel's long date pattern, "months": [12 wide month names]},
     "number": {"decimal", "group"}}

    The flow's own sentences are used as written (no placeholders), as display.error_text does.
    """
    lang = flow.default_language
    locale = get_locale()
    months = locale.months["format"]["wide"]
    return {
        "lang": i18n.current(),
        "messages": {code: gettext(text) for code, text in fieldtypes.MESSAGES.items()},
        "fields": {f.id: _field_texts(f, lang) for s in flow.steps for f in s.fields},
        "words": {"yes": gettext("Yes"), "no": gettext("No"),
                  "list_separator": i18n.LIST_SEPARATOR[i18n.current()]},
        "date": {"pattern": locale.date_formats["long"].pattern,
                 "months": [months[m] for m in range(1, 13)]},
        # display.display formats decimals with Babel's "#,##0.###" (the pattern of all four
        # languages); only the symbols differ by language.
        "number": {"decimal": locale.number_symbols["latn"]["decimal"],
                   "group": locale.number_symbols["latn"]["group"]},
    }
