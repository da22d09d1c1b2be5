"""Helpers' pages (/assist/)."""

from flask import Blueprint

bp = Blueprint("assist", __name__, url_prefix="/assist")
