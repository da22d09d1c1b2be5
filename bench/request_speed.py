"""Server time per family page, against /healthz measured in the same process.

Real app, real SQLite file (WAL), Flask's test client (no network): what a worker spends on a
step view, a saved step and the review page. Prints figures and ratios; asserts nothing.
    .venv/bin/python bench/request_speed.py
"""

from __future__ import annotations

import itertools
import json
import tempfile
import timeit
from pathlib import Path

from wizard import create_app, store
from wizard.flow import loader

ROOT = Path(__file__).resolve().parent.parent
KG = "/f/kindergarten-shanghai"


def per_call(fn, number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number


def main() -> None:
    folder = tempfile.mkdtemp()
    app = create_app({"DATABASE": f"{folder}/bench.sqlite3", "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False})
    s = store.Store(app.config["DATABASE"])
    s.migrate()
    s.publish_flow(loader.load_file(ROOT / "flows" / "kindergarten-shanghai.yaml").flow)
    s.close()
    client = app.test_client()
    client.post(f"{KG}/?lang=en", data={"consent": "yes"})
    answers = {"child-birth": {"child_dob-day": "10", "child_dob-month": "1",
                               "child_dob-year": "2024"},
               "hukou": {"hukou": "other_province"}, "district": {"district": "pudong"},
               "parent-permit": {"has_permit": "yes"}, "permit-points": {"permit_points": "no"},
               "child-permit": {"child_has_permit": "yes"},
               "social-insurance": {"social_insurance": "six_months"},
               "housing": {"housing": "filed_lease"},
               "guardian": {"guardian1_relation": "mother",
                            "guardian1_mobile": "13800138000"},
               "child-details": {"child_name": "王小明"}}
    for step, data in answers.items():
        assert client.post(f"{KG}/{step}", data=data).status_code == 303, step
    client.get(f"{KG}/hukou")  # warm the flow cache and templates

    health = per_call(lambda: client.get("/healthz"), 200)
    view = per_call(lambda: client.get(f"{KG}/hukou"), 200)
    save = per_call(lambda: client.post(f"{KG}/hukou", data={"hukou": "other_province"}), 200)
    review = per_call(lambda: client.get(f"{KG}/review"), 100)
    home = per_call(lambda: client.get("/"), 200)
    # The sync API: a pull (what every live page of a phone with the offline kit sends), and
    # a queued step each time new (a new change id: checked, saved and recorded).
    headers = {"Content-Type": "application/json", "X-Wizard-Sync": "1"}
    version = loader.load_file(ROOT / "flows" / "kindergarten-shanghai.yaml").flow.version
    sync_url = "/api/v1/flows/kindergarten-shanghai/sync"
    pull = per_call(lambda: client.post(sync_url, headers=headers, data=json.dumps(
        {"version": version, "changes": []})), 200)
    ids = itertools.count()
    push = per_call(lambda: client.post(sync_url, headers=headers, data=json.dumps(
        {"version": version, "changes": [{"id": f"bench-change-{next(ids):012d}",
                                          "step": "hukou",
                                          "values": {"hukou": "other_province"}}]})), 200)
    bundle = per_call(lambda: client.get(
        f"/offline/kindergarten-shanghai/{version}/en/bundle.json"), 20)
    print(f"baseline  GET /healthz (one SQLite query)      {health * 1e3:7.2f} ms")
    for name, value in [("GET a step page", view), ("POST a step (saved)", save),
                        ("GET the review page", review), ("GET the home page", home),
                        ("POST sync, a pull", pull), ("POST sync, one new step", push),
                        ("GET a bundle (made once)", bundle)]:
        print(f"{name:<24}{'':22}{value * 1e3:7.2f} ms  ({value / health:.1f}x baseline)")
    print(f"one worker thread: about {1 / save:.0f} saved steps per second")


if __name__ == "__main__":
    main()
