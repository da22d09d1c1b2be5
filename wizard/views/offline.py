"""What makes the wizard work with no signal: the web app manifest, the service worker, and a
flow's offline bundle (its pages as blank templates, its rules and its texts)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("offline", __name__)
