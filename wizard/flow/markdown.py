"""Markdown for help texts and instruction pages: checked when a flow is loaded, rendered safely.

Authors get CommonMark without raw HTML or pictures (a step has its own `image` key), and links
only to https, mailto and tel. The loader refuses anything else with a message, so a flow never
publishes content that the renderer would silently change; nh3 then sanitises the output as a
second wall in case the parser ever lets something through.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_md.disable("image")

SAFE_SCHEMES = ("https://", "mailto:", "tel:")
ALLOWED_TAGS = {"p", "a", "strong", "em", "ul", "ol", "li", "br", "code", "blockquote", "h3", "h4"}


def needs_parsing(text: str) -> bool:
    """Whether a text can hold anything problems() looks for. Raw HTML and autolinks need '<';
    a link or a picture needs '](' or, for a reference, a definition '[label]:' (CommonMark
    allows no space inside either). Parsing costs up to ~20 µs a character, so the loader
    parses, and budgets, only texts that need it."""
    return "<" in text or "](" in text or "]:" in text


def problems(text: str) -> list[str]:
    """Why this Markdown cannot be published, as sentences (empty when it is fine)."""
    if not needs_parsing(text):
        return []
    found = []
    env: dict = {}
    # Parse with HTML and images on, so that we can see and name them rather than drop them.
    for token in _checker.parse(text, env):
        for t in [token, *(token.children or [])]:
            if t.type in ("html_block", "html_inline"):
                found.append(
                    f"raw HTML ({t.content.strip()[:40]!r}) is not allowed; use Markdown "
                    "such as **bold** or [a link](https://...)"
                )
            elif t.type == "image":
                found.append("pictures are not allowed in text; give the step an 'image' instead")
            elif t.type == "link_open":
                href = t.attrGet("href") or ""
                if not href.lower().startswith(SAFE_SCHEMES):
                    shown = href if len(href) <= 80 else href[:79] + "\u2026"  # not a 20 KB echo
                    found.append(
                        f"the link {shown!r} is not allowed: links must start with https://, "
                        "mailto: or tel:"
                    )
    return found


_checker = MarkdownIt("commonmark", {"html": True})
# Let every URL through the checker's parser so that problems() can name the bad ones.
_checker.validateLink = lambda url: True


@lru_cache(maxsize=4096)
def render(text: str) -> str:
    """Safe HTML for a Markdown text (cached: flow texts repeat on every page view)."""
    html = _md.render(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    )


@lru_cache(maxsize=8192)
def render_inline(text: str) -> str:
    """Safe HTML for a short text that should not become a paragraph (hints, labels)."""
    html = _md.renderInline(text)
    return nh3.clean(html, tags={"a", "strong", "em", "code"}, attributes={"a": {"href"}},
                     url_schemes={"https", "mailto", "tel"}, link_rel="noopener noreferrer")
