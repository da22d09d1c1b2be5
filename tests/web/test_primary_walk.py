"""The shipped primary-school flow, published through the studio and walked on every branch.

A staff member starts the flow in the studio, uploads flows/primary-shanghai.yaml as its draft,
previews it and publishes it: what families then walk is what the studio published. Every path
of tests/branch_walk.py is then walked with the Flask test client, a fresh session each (273
paths): each step posted must answer 303 and lead where the engine says, and the review must
confirm and show the answer sheet. Each step page is also opened once in each language the
flow has (and in Uyghur, which falls back to Chinese) and must answer 200.
"""

from __future__ import annotations

import datetime
import io
import re
from urllib.parse import urlsplit

import branch_walk
import pytest
from family_helpers import ROOT
from people_helpers import make_user, sign_in

from wizard import engine
from wizard.flow import loader

FLOW_ID = "primary-shanghai"
PS = f"/f/{FLOW_ID}"
FILE = ROOT / "flows" / f"{FLOW_ID}.yaml"
TODAY = datetime.date(2027, 3, 1)  # as tests/conftest.py and branch_walk
LANGS = ("zh_Hans", "en", "ug")


@pytest.fixture
def published(app, db, monkeypatch):
    """The flow as the studio publishes it (its pages dated TODAY, like the walk)."""
    monkeypatch.setattr(engine, "local_today", lambda flow, now=None: TODAY)
    make_user(app, "lee", role="staff")
    staff = app.test_client()
    sign_in(staff, "lee")
    made = staff.post("/studio/", data={"flow_id": FLOW_ID, "title": "小学一年级入学",
                                        "language": "zh_Hans"})
    assert made.status_code == 303
    uploaded = staff.post(f"/studio/{FLOW_ID}/upload", data={
        "file": (io.BytesIO(FILE.read_bytes()), f"{FLOW_ID}.yaml")},
        content_type="multipart/form-data")
    assert uploaded.status_code == 303, uploaded.data
    preview = staff.get(f"/studio/{FLOW_ID}/draft/preview/child-birth?in=en")
    assert preview.status_code == 200 and b"date of birth" in preview.data.lower()
    page = staff.get(f"/studio/{FLOW_ID}/draft/publish").data
    revision = re.search(rb'name="revision" type="hidden" value="(\d+)"', page).group(1)
    assert staff.post(f"/studio/{FLOW_ID}/draft/publish", data={
        "revision": revision, "move": "leave"}).status_code == 303
    assert db.latest_version(FLOW_ID) == 1
    # What was published is the shipped file, as written.
    assert db.flow_source(FLOW_ID) == (1, FILE.read_text("utf-8"))
    return app


def _post(client, url, data, text) -> str:
    response = client.post(url, data=data)
    assert response.status_code == 303, f"POST {url}: {response.status_code} on {text}"
    return urlsplit(response.headers["Location"]).path


def test_every_branch_of_the_primary_flow_through_the_app(published):
    flow = loader.load_file(FILE).flow
    paths = branch_walk.paths(flow, TODAY)
    assert len(paths) > 200
    opened: set[str] = set()
    for index, path in enumerate(paths):
        text = branch_walk.describe(path)
        client = published.test_client()
        lang = LANGS[index % 2]
        assert _post(client, f"{PS}/?lang={lang}", {"consent": "yes"}, text) == \
            f"{PS}/{path[0][0]}"
        answers: dict = {}
        for step_id, form in path:
            if step_id not in opened:
                opened.add(step_id)
                for each in LANGS:
                    page = client.get(f"{PS}/{step_id}?lang={each}")
                    assert page.status_code == 200, (step_id, each, text)
            j = engine.journey(flow, answers, TODAY)
            landed = _post(client, f"{PS}/{step_id}", form, text)
            values, errors = branch_walk.read_path_step(j, flow.step(step_id), form, answers)
            assert not errors, (step_id, errors, text)
            answers.update(values)
            following = engine.next_step(engine.journey(flow, answers, TODAY), step_id)
            expected = f"{PS}/{following.id}" if following else f"{PS}/review"
            assert landed == expected, f"after {step_id}: {landed}, not {expected}, on {text}"
        assert _post(client, f"{PS}/review", {}, text) == f"{PS}/done"
        sheet = client.get(f"{PS}/done")
        assert sheet.status_code == 200, text
    assert opened == {s.id for s in flow.steps}  # every step was met on some branch
