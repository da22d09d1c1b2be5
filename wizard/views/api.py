"""The sync API (/api/v1): the offline phone's queued changes, replayed. See docs/sync-api.md."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
