"""How long the engine takes per page view, against baselines measured in the same process.

Prints figures and ratios; asserts nothing (machines here are noisy).
    .venv/bin/python bench/engine_speed.py
"""

from __future__ import annotations

import datetime
import json
import timeit
from pathlib import Path

from wizard import engine
from wizard.flow import conditions, loader

ROOT = Path(__file__).resolve().parent.parent
SOURCE = (ROOT / "flows" / "kindergarten-shanghai.yaml").read_text("utf-8")
FLOW = loader.load_text(SOURCE).flow
TODAY = datetime.date(2027, 3, 1)
ANSWERS = {
    "child_dob": "2024-01-10", "hukou": "other_province", "district": "pudong",
    "has_permit": True, "permit_points": True, "child_has_permit": True,
    "social_insurance": "six_months", "housing": "filed_lease",
    "guardian1_relation": "mother", "guardian1_mobile": "13800138000", "child_name": "王小明",
}


def per_call(fn, number):
    return min(timeit.repeat(fn, number=number, repeat=5)) / number


def main() -> None:
    baseline = per_call(lambda: json.loads(json.dumps(ANSWERS)), 2000)
    load = per_call(lambda: loader.load_text(SOURCE), 5)
    walk = per_call(lambda: engine.journey(FLOW, ANSWERS, TODAY), 500)
    j = engine.journey(FLOW, ANSWERS, TODAY)
    review = per_call(lambda: engine.review(j, ANSWERS), 500)
    check = per_call(lambda: engine.problems(j, ANSWERS), 500)
    rule = FLOW.step("check-age").show_if
    evaluate = per_call(lambda: conditions.evaluate(rule, j.context, today=TODAY), 5000)
    print(f"kindergarten flow: {len(FLOW.steps)} steps, {len(j.steps)} visible for the sample")
    print(f"baseline  json round trip of the answers   {baseline * 1e6:9.1f} us")
    print(f"evaluate  one condition (check-age)         {evaluate * 1e6:9.1f} us"
          f"  ({evaluate / baseline:.1f}x baseline)")
    print(f"journey   visible steps + calculated        {walk * 1e6:9.1f} us"
          f"  ({walk / baseline:.1f}x baseline)")
    print(f"review    rows for the review page          {review * 1e6:9.1f} us"
          f"  ({review / baseline:.1f}x baseline)")
    print(f"problems  revalidate every visible answer   {check * 1e6:9.1f} us"
          f"  ({check / baseline:.1f}x baseline)")
    print(f"load      parse and check the YAML file     {load * 1e3:9.1f} ms"
          f"  ({load / walk:.0f}x a journey: load once per version, cache the Flow)")


if __name__ == "__main__":
    main()
