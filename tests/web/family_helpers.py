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


# Steps of the kindergarten flow with a family's answers, in the order they are asked.
KG_LOCAL = [
    ("child-birth", {"child_dob-day": "1", "child_dob-month": "1", "child_dob-year": "2024"}),
    ("hukou", {"hukou": "shanghai"}), ("district", {"district": "xuhui"}),
    ("housing", {"housing": "own"}),
    ("guardian", {"guardian1_relation": "mother", "guardian1_mobile": "13800138000"}),
    ("child-details", {"child_name": "王小明"}), ("documents", {})]
KG_OTHER = KG_LOCAL[:1] + [
    ("hukou", {"hukou": "other_province"}), ("district", {"district": "xuhui"}),
    ("parent-permit", {"has_permit": "yes"}), ("permit-points", {"permit_points": "no"}),
    ("child-permit", {"child_has_permit": "yes"}),
    ("social-insurance", {"social_insurance": "six_months"})] + KG_LOCAL[3:]


def answer_all(client, steps, flow=KG):
    """Answer each step in turn; every one must save and move on."""
    for step, data in steps:
        assert client.post(f"{flow}/{step}", data=data).status_code == 303, step
