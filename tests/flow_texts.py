"""Every text a family reads in a flow file, for content tests (tests/ is on sys.path)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from wizard.flow import loader, placeholders

LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def texts(path: Path) -> list[tuple[str, str, str]]:
    """(key path, language, text) of every text in the flow file, straight from the YAML,
    with its {data.key} placeholders filled in as the loader does."""
    doc = yaml.safe_load(Path(path).read_text("utf-8"))
    default = doc["languages"][0]
    data = doc.get("data") or {}

    def filled(text, lang):
        return placeholders.fill(text, lang, data) if isinstance(text, str) else text

    def walk(node, at):
        if isinstance(node, dict):
            for key, value in node.items():
                child = f"{at}.{key}" if at else str(key)
                if key in loader.TEXT_KEYS and isinstance(value, str):
                    yield f"{child}.{default}", default, filled(value, default)
                elif key in loader.TEXT_KEYS and isinstance(value, dict):
                    for lang, text in value.items():
                        yield f"{child}.{lang}", lang, filled(text, lang)
                elif key != "data":
                    yield from walk(value, child)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                yield from walk(item, f"{at}[{i}]")

    return list(walk(doc, ""))


def shown(text: str) -> str:
    """The text as read: Markdown emphasis and link targets are not prose."""
    return LINK.sub(r"\1", text).replace("**", "")
