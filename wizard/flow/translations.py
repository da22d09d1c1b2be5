"""Flow texts to and from gettext PO catalogs, so translators use ordinary PO tools.

One catalog per flow and language. Each message's context (msgctxt) is the text's key path in the
flow file (`steps[3].fields[0].label`), its msgid the text in the flow's default language, its
msgstr the translation. Importing writes the translations back into the YAML file through
ruamel.yaml's round-trip mode, which keeps comments, quotes and layout: the file stays the one
source of truth that staff read, and an export followed by an import changes nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import LiteralScalarString

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

    def texts(self, default: str) -> dict:
        value = self.node[self.key]
        if isinstance(value, str):
            return {default: value}
        return dict(value) if hasattr(value, "items") else {}


def _walk(node: Any, path: str = "") -> Iterator[Entry]:
    if hasattr(node, "items"):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            if key in TEXT_KEYS and isinstance(value, str) or (
                    key in TEXT_KEYS and hasattr(value, "items")):
                yield Entry(child, key, node)
            elif key != "data":
                yield from _walk(value, child)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _walk(item, f"{path}[{i}]")


def _official_near(entry: Entry) -> str | None:
    official = entry.node.get("official") if hasattr(entry.node, "get") else None
    return official if isinstance(official, str) else None


def export_po(source: str, lang: str) -> str:
    """A PO catalog of every translatable text of a flow, with `lang` translations filled in."""
    doc = _yaml().load(source)
    default = doc["languages"][0]
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
    """
    catalog = read_po(io.StringIO(po_text))
    lang = lang or _catalog_language(po_text)
    if not lang:
        raise ValueError("the PO file has no Language header; say which language it is")
    y = _yaml()
    doc = y.load(source)
    default = doc["languages"][0]
    if lang == default:
        raise ValueError(f"{lang} is the flow's default language: edit the flow file itself")
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
            continue
        value = entry.node[entry.key]
        if isinstance(value, str):  # a default-language-only text becomes a mapping
            value = CommentedMap([(default, value)])
            entry.node[entry.key] = value
        if value.get(lang) != translation:
            _put_last(value, lang, LiteralScalarString(translation) if "\n" in translation
                      else translation)
            result.updated += 1
    if result.updated and lang not in doc["languages"]:
        doc["languages"].append(lang)
    out = io.StringIO()
    y.dump(doc, out)
    result.text = out.getvalue()
    return result


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


def _catalog_language(po_text: str) -> str | None:
    for line in po_text.splitlines():
        if line.startswith('"Language: '):
            return line[len('"Language: '):].split("\\n")[0].strip() or None
    return None


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
