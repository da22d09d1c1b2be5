"""Flow texts to and from gettext PO catalogs, so translators use ordinary PO tools.

One catalog per flow and language. Each message's context (msgctxt) is the text's key path in the
flow file (`steps[3].fields[0].label`), its msgid the text in the flow's default language, its
msgstr the translation. Importing writes the translations back into the YAML file through
ruamel.yaml's round-trip mode, which keeps comments, quotes and layout: the file stays the one
source of truth that staff read, and an export followed by an import changes nothing.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yaml
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import LiteralScalarString, SingleQuotedScalarString

# Keys whose values a family reads (the loader's list), and which of them are Markdown.
from .loader import MARKDOWN_KEYS, TEXT_KEYS


def _yaml() -> YAML:
    y = YAML()
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap a long line
    y.indent(mapping=2, sequence=4, offset=2)
    return y


@dataclass
class Entry:
    path: str
    key: str
    node: Any  # the mapping that holds the text under `key`
    # The path with steps, fields, choices and items named by their id (or value) instead of
    # their place: `steps[child-birth].title`. It stays the same when a step is inserted
    # above, so a draft's text is compared with the same text of the published version.
    anchor: str = ""

    def texts(self, default: str) -> dict:
        value = self.node[self.key]
        if isinstance(value, str):
            return {default: value}
        return dict(value) if hasattr(value, "items") else {}


def _walk(node: Any, path: str = "", anchor: str = "") -> Iterator[Entry]:
    if hasattr(node, "items"):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            named = f"{anchor}.{key}" if anchor else str(key)
            if key in TEXT_KEYS and isinstance(value, str) or (
                    key in TEXT_KEYS and hasattr(value, "items")):
                yield Entry(child, key, node, named)
            elif key != "data":
                yield from _walk(value, child, named)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            name = None
            if hasattr(item, "get"):
                name = item.get("id", item.get("value"))
            yield from _walk(item, f"{path}[{i}]",
                             f"{anchor}[{name}]" if isinstance(name, str) else f"{anchor}[{i}]")


def _official_near(entry: Entry) -> str | None:
    official = entry.node.get("official") if hasattr(entry.node, "get") else None
    return official if isinstance(official, str) else None


def export_po(source: str, lang: str) -> str:
    """A PO catalog of every translatable text of a flow, with `lang` translations filled in."""
    doc = _yaml().load(source)
    default = _default_language(doc)
    catalog = Catalog(locale=None, project=f"flow {doc['id']}", version=str(doc["version"]),
                      header_comment=f"# Translations of flow {doc['id']} into {lang}.\n"
                      f"# msgctxt is the key path in the flow file; msgid is the {default} text.",
                      fuzzy=False)
    catalog._set_mime_headers([("Language", lang)])
    for entry in _walk(doc):
        texts = entry.texts(default)
        original = texts.get(default)
        if not original:
            continue
        notes = []
        if entry.key in MARKDOWN_KEYS:
            notes.append("Markdown: keep **bold**, lists and links.")
        official = _official_near(entry)
        if official:
            notes.append(f"Official term on the government form: {official}")
        catalog.add(original, str(texts.get(lang, "") or ""), context=entry.path,
                    auto_comments=notes)
    out = io.BytesIO()
    write_po(out, catalog, width=0, sort_output=False, omit_header=False)
    return out.getvalue().decode("utf-8")


@dataclass
class ImportResult:
    text: str
    lang: str
    updated: int = 0
    problems: list[str] = field(default_factory=list)


def import_po(source: str, po_text: str, lang: str | None = None) -> ImportResult:
    """Write the translations of a PO catalog into a flow's YAML text.

    A message whose msgid no longer matches the flow's default text (the source changed after
    the export) or whose key path is gone is skipped and reported, never applied blindly.
    A file that is not a PO catalog raises babel's PoFileError; a catalog without a language,
    in the flow's default language or exported from another flow raises ValueError.
    """
    # Strict: babel otherwise skips lines it cannot read, and a half-read file would be
    # imported as if it were whole.
    catalog = read_po(io.StringIO(po_text), abort_invalid=True)
    lang = lang or catalog_language(po_text)
    if not lang:
        raise ValueError("the PO file has no Language header; say which language it is")
    y = _yaml()
    doc = y.load(source)
    default = _default_language(doc)
    if lang == default:
        raise ValueError(f"{lang} is the flow's default language: edit the flow file itself")
    named = catalog_flow(po_text)
    if named is not None and named != doc.get("id"):
        raise ValueError(f"this catalog is for the flow {named!r}, not {doc.get('id')!r}")
    entries = {e.path: e for e in _walk(doc)}
    result = ImportResult("", lang)
    for message in catalog:
        if not message.id or not message.context:
            continue
        entry = entries.get(message.context)
        if entry is None:
            result.problems.append(f"{message.context}: no such text in the flow any more")
            continue
        current = entry.texts(default).get(default)
        if current != message.id:
            result.problems.append(f"{message.context}: the {default} text changed since the "
                                   "export; translate it again")
            continue
        translation = message.string if isinstance(message.string, str) else ""
        if not translation or "fuzzy" in message.flags:
            continue  # an empty msgstr is "not translated yet", never "remove it"
        if _write(entry, default, lang, translation):
            result.updated += 1
    result.text = _dumped(y, doc, lang, result.updated)
    return result


def apply(source: str, lang: str, texts: dict[str, str]) -> str:
    """Write translations typed in the studio's table ({key path: text}) into a flow's YAML
    text, through the same code as import_po. An empty text removes that language's text.

    Form text arrives with CRLF line ends and stray blanks around it: a text that differs
    from the one in the file only by those is left as it is written there, so saving the
    table unchanged changes nothing. ValueError for a key path the flow does not have.
    """
    y = _yaml()
    doc = y.load(source)
    default = _default_language(doc)
    if lang == default:
        raise ValueError(f"{lang} is the flow's default language: edit the flow text itself")
    entries = {e.path: e for e in _walk(doc)}
    changed = 0
    for path, raw in texts.items():
        entry = entries.get(path)
        if entry is None:
            raise ValueError(f"{path}: no such text in the flow")
        text = (raw or "").replace("\r\n", "\n").replace("\r", "\n").strip()
        texts_now = entry.texts(default)
        old = texts_now.get(lang)
        if isinstance(old, str) and old.strip() == text:
            continue
        original = texts_now.get(default) or ""
        if text and "\n" in text and original.endswith("\n"):
            text += "\n"  # a block (|) like the default text's, not |-
        if _write(entry, default, lang, text):
            changed += 1
    return _dumped(y, doc, lang, changed) if changed else source


def _write(entry: Entry, default: str, lang: str, text: str) -> bool:
    """Set one text's translation into `lang` (an empty text removes it); True when the
    file changes. The one place where translations are written into a flow document."""
    value = entry.node[entry.key]
    if not text:
        if hasattr(value, "items") and lang in value:
            _drop(value, lang)
            return True
        return False
    if isinstance(value, str):  # a default-language-only text becomes a mapping
        value = CommentedMap([(default, value)])
        entry.node[entry.key] = value
    if value.get(lang) == text:
        return False
    _put_last(value, lang, _text_scalar(text))
    return True


def _dumped(y: YAML, doc: Any, lang: str, changed: int) -> str:
    if changed and lang not in doc["languages"]:
        doc["languages"].append(lang)
    out = io.StringIO()
    y.dump(doc, out)
    return out.getvalue()


def languages(source: str) -> list[str]:
    """A flow text's languages, the default first (ValueError when it has none)."""
    doc = _yaml().load(source)
    _default_language(doc)
    return [str(x) for x in doc["languages"]]


def _default_language(doc: Any) -> str:
    languages = doc.get("languages") if hasattr(doc, "get") else None
    if not isinstance(languages, list) or not languages or not isinstance(languages[0], str):
        raise ValueError("the flow has no languages list: its first language is the default")
    return languages[0]


# PyYAML, which the loader reads flows with, follows YAML 1.1: a plain No, yes or 1:20 is not
# a text there, though ruamel (YAML 1.2) writes such texts without quotes ("No" would come
# back as false). editing._scalar does the same for the form editor's texts.
_YAML11 = yaml.resolver.Resolver()


def _text_scalar(text: str) -> Any:
    """A translation as ruamel should write it: a block for several lines, quoted where the
    loader would read it as something other than text."""
    if "\n" in text:
        return LiteralScalarString(text)
    if _YAML11.resolve(yaml.ScalarNode, text, (True, False)) != "tag:yaml.org,2002:str":
        return SingleQuotedScalarString(text)
    return text


def _put_last(mapping: CommentedMap, key: str, value: Any) -> None:
    """Set a key; a new key goes last and takes over the blank lines and comments that ruamel
    keeps on the old last key (they belong after the mapping, before what follows it)."""
    if key in mapping or not hasattr(mapping, "ca"):
        mapping[key] = value
        return
    keys = list(mapping.keys())
    trailing = mapping.ca.items.pop(keys[-1], None) if keys else None
    last_value = mapping[keys[-1]] if keys else None
    scalar_comment = None
    if hasattr(last_value, "comment") and getattr(last_value, "comment", None):
        # A block scalar (|) keeps what follows it on the scalar itself.
        scalar_comment = last_value.comment
        last_value.comment = None
    mapping[key] = value
    if mapping.fa.flow_style() and sum(len(str(v)) + 12 for v in mapping.values()) > 100:
        mapping.fa.set_block_style()  # a {..} that no longer fits a line: one text per line
    if trailing:
        mapping.ca.items[key] = trailing
    if scalar_comment and hasattr(mapping[key], "comment"):
        mapping[key].comment = scalar_comment
    elif scalar_comment:
        last_value.comment = scalar_comment


def _drop(mapping: CommentedMap, key: str) -> None:
    """Remove a key; the blank lines and comments ruamel keeps on it, when it was the last,
    go to the new last key (the reverse of _put_last: they belong after the mapping)."""
    keys = list(mapping.keys())
    trailing = mapping.ca.items.pop(key, None) if hasattr(mapping, "ca") else None
    scalar_comment = getattr(mapping[key], "comment", None)
    del mapping[key]
    if keys[-1] != key or len(keys) < 2:
        return
    last = keys[-2]
    if trailing and trailing[2] is not None:
        kept = mapping.ca.items.get(last)
        if kept is None:
            mapping.ca.items[last] = [None, None, trailing[2], None]
        elif kept[2] is None:
            kept[2] = trailing[2]
        else:  # the new last key has an end-of-line comment: what followed goes after it
            kept[2].value = kept[2].value + trailing[2].value.lstrip(" ")
    if scalar_comment and hasattr(mapping[last], "comment"):
        mapping[last].comment = scalar_comment


def check_po(po_text: str) -> None:
    """Raise babel's PoFileError (naming the line) when a text is not a PO catalog."""
    read_po(io.StringIO(po_text), abort_invalid=True)


def catalog_language(po_text: str) -> str | None:
    """The language a catalog says it is in (its Language header), or None."""
    for line in po_text.splitlines():
        if line.startswith('"Language: '):
            return line[len('"Language: '):].split("\\n")[0].strip() or None
    return None


def catalog_flow(po_text: str) -> str | None:
    """The flow a catalog was exported from (its Project-Id-Version header, "flow <id> <n>"),
    or None when the header does not say (a catalog made some other way)."""
    found = re.search(r'^"Project-Id-Version: flow ([^ \\"]+)', po_text, re.M)
    return found.group(1) if found else None


# ---------------------------------------------------------------- the studio's table


@dataclass(frozen=True)
class Row:
    """One text of a flow in the studio's translations table."""

    path: str  # its key path: steps[3].fields[0].label
    key: str  # label, help, body...
    source: str  # the text in the flow's default language
    translation: str  # in the target language; "" when it has none
    markdown: bool
    state: str  # one of STATES
    official: str | None = None  # the official Chinese term next to it, if any
    before: str | None = None  # outdated: the default text the translation was made from
    anchor: str = ""  # the path by ids (Entry.anchor): the same text after steps move


# missing: no translation. outdated: the default text changed since the published version
# and the translation did not follow. same: the translation is the default text itself (often
# right for names, but worth a look). ok: translated.
STATES = ("missing", "outdated", "same", "ok")


def table(source: str, lang: str, published_source: str | None = None) -> list[Row]:
    """Every text of a flow (the ones export_po exports) with its translation into `lang`.

    Out of date needs something to compare with: the newest published version. A text is
    out of date when its default-language text differs from the published one at the same
    place (steps and fields found by id, so a step inserted above changes nothing) while its
    translation is still the published translation.
    """
    doc = _yaml().load(source)
    default = _default_language(doc)
    published: dict[str, dict] = {}
    if published_source is not None:
        old = _yaml().load(published_source)
        old_default = _default_language(old)
        for entry in _walk(old):
            texts = entry.texts(old_default)
            published[entry.anchor] = {"source": texts.get(old_default),
                                       "translation": texts.get(lang)}
    rows = []
    for entry in _walk(doc):
        texts = entry.texts(default)
        original = texts.get(default)
        if not isinstance(original, str) or not original:
            continue
        translation = texts.get(lang)
        translation = translation if isinstance(translation, str) else ""
        before = published.get(entry.anchor)
        if not translation.strip():
            state = "missing"
        elif (before is not None and isinstance(before["source"], str)
              and before["source"].strip() != original.strip()
              and isinstance(before["translation"], str)
              and before["translation"].strip() == translation.strip()):
            state = "outdated"
        elif translation.strip() == original.strip():
            state = "same"
        else:
            state = "ok"
        rows.append(Row(entry.path, str(entry.key), str(original), str(translation),
                        entry.key in MARKDOWN_KEYS, state, _official_near(entry),
                        str(before["source"]) if state == "outdated" else None,
                        entry.anchor))
    return rows


def counts(rows: list[Row]) -> dict[str, int]:
    """How many rows are in each state (every state present, 0 when none)."""
    found = dict.fromkeys(STATES, 0)
    for row in rows:
        found[row.state] += 1
    return found


@dataclass
class Coverage:
    flow_id: str
    lang: str
    total: int
    translated: int

    @property
    def percent(self) -> float:
        return 100.0 * self.translated / self.total if self.total else 100.0


def coverage(source: str, also: tuple[str, ...] = ()) -> list[Coverage]:
    """How many of a flow's texts each declared language (and each of `also`) has."""
    doc = _yaml().load(source)
    languages = list(doc["languages"]) + [x for x in also if x not in doc["languages"]]
    default = languages[0]
    entries = [e.texts(default) for e in _walk(doc)]
    entries = [t for t in entries if t.get(default)]
    return [Coverage(doc["id"], lang, len(entries),
                     sum(1 for t in entries if isinstance(t.get(lang), str) and t[lang].strip()))
            for lang in languages]


def flow_file(flows_dir: str | Path, flow_id: str) -> Path:
    path = Path(flows_dir) / f"{flow_id}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no flow file {path}")
    return path
