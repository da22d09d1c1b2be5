"""Admins' pages: users and the audit log (filled in by the accounts work)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
