"""Helpers' own pages: sign in, sign out, change password (filled in by the accounts work)."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")
