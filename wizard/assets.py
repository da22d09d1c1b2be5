"""Static files: their versioned URLs, and the app build that names the offline caches."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import current_app, has_request_context, request, url_for


@lru_cache(maxsize=512)
def _hash(static_folder: str, filename: str) -> str:
    try:
        return hashlib.sha256((Path(static_folder) / filename).read_bytes()).hexdigest()[:10]
    except OSError:  # a missing picture shows as a broken image, never a broken page
        current_app.logger.warning("static file missing: %s", filename)
        return "missing"


def url(filename: str) -> str:
    """A static file's URL with its content hash (?v=): cached for a year, and a changed file
    gets a new URL, so no phone ever mixes an old script with a new page."""
    # Made once per app, file and mount point (a page names about ten: building each with
    # url_for was a twentieth of a step page's time).
    if not has_request_context():  # url_for may then make an absolute URL: not kept
        return url_for("static", filename=filename,
                       v=_hash(current_app.static_folder, filename))
    made = current_app.extensions.setdefault("asset_urls", {})
    key = (request.script_root, filename)
    found = made.get(key)
    if found is None:
        found = made[key] = url_for("static", filename=filename,
                                    v=_hash(current_app.static_folder, filename))
    return found


# What shapes a page or a script the phone keeps offline: a change to any of these is a new
# build, and so a new set of offline caches.
_BUILD_INPUTS = (("static", "*"), ("templates", "*"), ("locales", "*.mo"), ("wizard", "*.py"))


@lru_cache(maxsize=8)
def _build(root: str) -> str:
    digest = hashlib.sha256()
    for folder, pattern in _BUILD_INPUTS:
        for path in sorted((Path(root) / folder).rglob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def build_id() -> str:
    """The app build (config BUILD, else a hash of the files that make pages and scripts)."""
    return current_app.config.get("BUILD") or _build(str(Path(current_app.root_path).parent))
