"""Operational endpoints."""

from __future__ import annotations

import sqlite3

from flask import Blueprint, jsonify

from .. import get_store

bp = Blueprint("system", __name__)


@bp.get("/healthz")
def healthz():
    """200 when the database answers and its schema is current; 503 otherwise."""
    try:
        database = get_store().health()
    except sqlite3.Error as exc:
        return jsonify(status="error", database={"ok": False, "error": str(exc)}), 503
    status = 200 if database["ok"] else 503
    return jsonify(status="ok" if status == 200 else "error", database=database), status
