"""A flow's draft in the studio: opened, checked and saved the same way by every studio page
(the outline and form editor, the YAML editor, translations, preview, publishing).

A draft is YAML text in the database with a revision number. Every save names the revision its
editor started from, so two staff editing one draft never overwrite each other silently
(store.DraftClash). A draft may hold problems while it is worked on; they are shown with their
key paths on every studio page, and a draft with errors cannot be published.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, request
from flask_login import current_user

from . import accounts, get_store, store
from .flow import editing, loader
from .flow.loader import LoadResult, Problem

# Staff write and publish flows; admins too. Exports of families' answers are admins' only.
studio_only = accounts.needs_role("staff", "admin")
admin_only = accounts.needs_role("admin")

# The app's body limits are sized for a family's step (64 KiB, 200 parts, 32 KiB a field).
# A whole flow is more: the kindergarten flow is 120 KB of YAML, its translations table has
# hundreds of texts, and a form-encoded Chinese text is three times its size. Signed-in staff
# get these limits on studio pages; nobody else does.
STUDIO_BODY_MAX = 4 * 1024 * 1024
STUDIO_FIELD_MAX = 3 * 1024 * 1024
STUDIO_PARTS_MAX = 10_000


def blueprint(name: str) -> Blueprint:
    """A studio blueprint (/studio/...): its pages are never cached, and signed-in staff may
    send a whole flow."""
    bp = Blueprint(name, __name__, url_prefix="/studio")

    @bp.url_value_preprocessor
    def _room_for_a_flow(_endpoint, _values) -> None:
        # URL value preprocessors run before the app's before_request hooks, one of which
        # refuses a body over request.max_content_length: the last moment to raise it.
        if request.method == "POST" and current_user.is_authenticated and \
                current_user.role in ("staff", "admin"):
            request.max_content_length = STUDIO_BODY_MAX
            request.max_form_memory_size = STUDIO_FIELD_MAX
            request.max_form_parts = STUDIO_PARTS_MAX

    @bp.context_processor
    def _stylesheet() -> dict:
        # The studio's own styles: a family's pages never download them (page weight).
        return {"studio_css": True}

    @bp.after_request
    def _private(response: Response) -> Response:
        # Drafts, figures and exports are staff's work: never kept by a shared phone's cache.
        response.headers["Cache-Control"] = "no-store"
        return response

    return bp


@dataclass
class Draft:
    flow_id: str
    source: str
    revision: int
    updated_at: str
    updated_by: str

    @property
    def checked(self) -> LoadResult:
        if not hasattr(self, "_checked"):
            self._checked = check(self.source, self.flow_id)
        return self._checked


def actor() -> str:
    return accounts.actor_of(current_user.id)


def check(source: str, flow_id: str) -> LoadResult:
    """What `wizard check` says of this text, plus: it must stay this flow (its id names the
    flow's addresses and every family's session)."""
    name = f"{flow_id} (draft)"
    result = loader.check_assets(loader.load_text(source, name), name,
                                 Path(current_app.static_folder))
    if result.flow is not None and result.flow.id != flow_id:
        result = LoadResult(None, [*result.problems, Problem(
            name, "id", f"the id must stay {flow_id!r} (a new id is a new flow)")])
    return result


def unreadable(result: LoadResult) -> list[Problem]:
    """The problems that keep a text from being read at all (not YAML, too big, nested too
    deep): such a text is never saved as a draft, so that every studio page can open the
    draft it has. Anything else may be saved and fixed later."""
    return result.errors if result.unreadable else []


def get(flow_id: str) -> Draft | None:
    row = get_store().draft(flow_id)
    return None if row is None else Draft(row["flow_id"], row["source"], row["revision"],
                                          row["updated_at"], row["updated_by"])


def get_or_404(flow_id: str) -> Draft:
    draft = get(flow_id)
    if draft is None:
        abort(404)
    return draft


def save(flow_id: str, source: str, seen_revision: int | None) -> int:
    """Save a draft's new text; DraftClash (nothing saved) when someone saved it since."""
    return get_store().save_draft(flow_id, source, seen_revision, actor())


def edit(draft: Draft, seen_revision: int, change) -> int:
    """Apply a form editor's change (a function of the YAML document, from flow/editing.py)
    to the draft and save it. editing.EditError when the change is refused, DraftClash when
    the draft changed since the editor's page was opened: nothing is saved either way."""
    if seen_revision != draft.revision:
        raise store.DraftClash(get_store().draft(draft.flow_id))
    doc = editing.load(draft.source)  # EditError when the text does not parse: see YAML
    change(doc)
    return save(draft.flow_id, editing.dump(doc), seen_revision)


def start_from_published(flow_id: str) -> int:
    """A new draft from the newest published version, numbered as the next version."""
    s = get_store()
    found = s.flow_source(flow_id)
    if found is None:
        abort(404)
    version, source = found
    doc = editing.load(source)
    doc["version"] = version + 1
    return save(flow_id, editing.dump(doc), None)


def next_version(flow_id: str) -> int:
    latest = get_store().latest_version(flow_id)
    return (latest or 0) + 1
