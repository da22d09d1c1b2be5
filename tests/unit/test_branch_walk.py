"""The branch walker (tests/branch_walk.py) reaches every step and every choice that matters,
builds answers the engine accepts, and the progress counter behaves along every path."""

from __future__ import annotations

import datetime
import functools
from pathlib import Path

import branch_walk
import pytest

from wizard import engine
from wizard.flow import loader

ROOT = Path(__file__).resolve().parents[2]
TODAY = datetime.date(2027, 3, 1)  # as tests/conftest.py
FLOWS = {"kindergarten": ROOT / "flows" / "kindergarten-shanghai.yaml",
         "branching": ROOT / "tests" / "flows" / "branching.yaml"}


@functools.lru_cache(maxsize=None)
def walked(name: str):
    result = loader.load_file(FLOWS[name])
    assert not result.errors, "\n".join(map(str, result.errors))
    flow = result.flow
    return flow, branch_walk.paths(flow, TODAY)


parametrize = pytest.mark.parametrize("name", sorted(FLOWS))


@parametrize
def test_every_step_is_visited(name):
    flow, paths = walked(name)
    visited = {step_id for path in paths for step_id, _form in path}
    assert [s.id for s in flow.steps if s.id not in visited] == []


@parametrize
def test_every_value_of_a_condition_field_is_taken(name):
    flow, paths = walked(name)
    relevant = branch_walk.condition_fields(flow)
    assert relevant, "the flow has conditions: some fields must be read by them"
    assert branch_walk.untaken(flow, paths, relevant) == []


def test_dates_inside_and_outside_the_birth_window():
    flow, paths = walked("kindergarten")
    samples = branch_walk.sample_dates(flow, flow.field("child_dob"), TODAY)
    start = datetime.date.fromisoformat(flow.data["birth_window_start"])
    end = datetime.date.fromisoformat(flow.data["birth_window_end"])
    assert {start, end} <= set(samples)
    assert any(d < start for d in samples) and any(d > end for d in samples)
    # Both sides of the age check are walked.
    with_check = [p for p in paths if any(s == "check-age" for s, _ in p)]
    assert with_check and len(with_check) < len(paths)


@parametrize
def test_paths_follow_the_engine_and_stay_bounded(name):
    flow, paths = walked(name)
    assert 1 <= len(paths) <= 400
    first = engine.journey(flow, {}, TODAY).steps[0].id
    for path in paths:
        assert path[0][0] == first
        answers, errors = branch_walk.answers_of(flow, path, TODAY)
        j = engine.journey(flow, answers, TODAY)
        # The path is exactly the journey its answers make, in order, ending before review.
        assert [s for s, _ in path] == [s.id for s in j.steps], branch_walk.describe(path)
        assert engine.next_step(j, path[-1][0]) is None


@parametrize
def test_every_path_ends_with_valid_answers(name):
    flow, paths = walked(name)
    for path in paths:
        answers, errors = branch_walk.answers_of(flow, path, TODAY)
        assert errors == [], branch_walk.describe(path)
        j = engine.journey(flow, answers, TODAY)
        problems = [(p.step.id, p.field.id, p.error.code) for p in engine.problems(j, answers)]
        assert problems == [], branch_walk.describe(path)
        assert engine.can_complete(j, answers)


def test_resident_id_matches_the_birth_date():
    flow, paths = walked("kindergarten")
    seen = 0
    for path in paths:
        answers, _ = branch_walk.answers_of(flow, path, TODAY)
        if answers.get("child_id"):
            seen += 1
            born = answers["child_dob"].replace("-", "")
            assert answers["child_id"][6:14] == born
    assert seen
    assert branch_walk.resident_id(datetime.date(2024, 3, 15), "310112", "002") == \
        "31011220240315002X"


@parametrize
def test_progress_goes_up_by_one_and_its_total_never_grows(name):
    """engine.progress along every path: n is 1, 2, 3 ... page after page; m never grows as
    the family goes forward; on the last page n == m."""
    flow, paths = walked(name)
    failures = []
    for path in paths:
        counts = [(step_id, engine.progress(j, step_id))
                  for step_id, j in branch_walk.journeys_along(flow, path, TODAY)]
        numbers = [n for _s, (n, _m) in counts]
        totals = [m for _s, (_n, m) in counts]
        problems = []
        if numbers != list(range(1, len(path) + 1)):
            problems.append(f"n is {numbers}")
        grows = [(counts[i][0], totals[i], counts[i + 1][0], totals[i + 1])
                 for i in range(len(totals) - 1) if totals[i + 1] > totals[i]]
        if grows:
            problems.append("m grows: " + "; ".join(
                f"{a} {ma} -> {b} {mb}" for a, ma, b, mb in grows))
        last_step, (last_n, last_m) = counts[-1]
        if last_n != last_m:
            problems.append(f"on the last page {last_step}: {last_n} of {last_m}")
        if problems:
            failures.append(f"{branch_walk.describe(path)}\n    " + "\n    ".join(problems))
    assert not failures, f"{len(failures)} of {len(paths)} paths:\n" + "\n".join(failures[:5])
