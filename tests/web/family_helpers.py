"""Helpers for web tests (a module of its own: conftest files are not for importing)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
KG = "/f/kindergarten-shanghai"
BR = "/f/branching"


def begin(client, flow=BR, lang="en"):
    """Start a session with consent; returns the first step's URL."""
    response = client.post(f"{flow}/?lang={lang}", data={"consent": "yes"})
    assert response.status_code == 303, response.data
    return response.headers["Location"]
