"""Arbitrary documents never crash the loader: it returns a flow or a list of problems."""

import json
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wizard.flow import loader

FLOW = yaml.load((Path(__file__).resolve().parent.parent / "flows" / "branching.yaml")
                 .read_text("utf-8"), Loader=loader._Loader)

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=20), st.sampled_from(["today", "hukou == 'x'", "2027-01-01",
                                                           "date", "choice", "checklist"]))
json_like = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["id", "type", "steps", "fields", "title", "show_if",
                                       "choices", "value", "label", "kind", "items", "expr",
                                       "min", "max", "languages", "version", "body"])
                      | st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


def check(result):
    assert isinstance(result, loader.LoadResult)
    assert (result.flow is None) == bool(result.errors)
    for problem in result.problems:
        assert isinstance(str(problem), str)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_like)
def test_arbitrary_documents(document):
    check(loader.load_document(document, "fuzz.json"))


@settings(max_examples=600, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text(text):
    check(loader.load_text(text, "fuzz.yaml"))


paths = st.lists(st.sampled_from(["steps", 0, 1, 2, "fields", "choices", "items", "title",
                                  "show_if", "type", "id", "kind", "min", "max"]), max_size=5)


@settings(max_examples=600, deadline=None)
@given(paths, json_like)
def test_mutations_of_a_real_flow(path, value):
    """A valid flow with one part replaced by junk: still a flow or problems, never a crash."""
    document = json.loads(json.dumps(FLOW))
    node = document
    for key in path[:-1]:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
    try:
        node[path[-1] if path else "id"] = value
    except (IndexError, TypeError):
        pass
    check(loader.load_document(document, "mutated.json"))
