"""Shared field vectors: tests/vectors/fields.json through fieldtypes.read, and through
static/js/fieldrules.js (the offline phone's copy of the rules) in node, which must agree on
every vector.

The checks on the file's shape below keep it plain: a JavaScript runner can rely on exactly
these keys. The format is in its "_comment"; a field's choices are written as in a flow file
({value, label}).
"""

from __future__ import annotations

import datetime
import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from wizard.flow import fieldtypes
from wizard.flow.fieldtypes import Invalid, read
from wizard.flow.model import Choice, Field

ROOT = Path(__file__).resolve().parents[2]
DOC = json.loads((ROOT / "tests" / "vectors" / "fields.json").read_text(encoding="utf-8"))
TODAY = datetime.date.fromisoformat(DOC["today"])
VECTORS = [v for v in DOC["vectors"] if not isinstance(v, str)]
KEYS = {"name", "type", "field", "raw", "answers", "value", "error", "params"}
RUNNER = ROOT / "tests" / "js" / "run_field_vectors.cjs"
NODE = shutil.which("node")


def make_field(vector: dict) -> Field:
    settings = dict(vector.get("field", {}))
    if "choices" in settings:
        settings["choices"] = tuple(Choice(value=c["value"], label={"en": c.get("label", "")})
                                    for c in settings["choices"])
    return Field(id="x", type=vector["type"], path="vectors", **settings)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector(vector):
    field = make_field(vector)
    answers = vector.get("answers", {})
    if "error" in vector:
        with pytest.raises(Invalid) as info:
            read(field, vector["raw"], answers, TODAY)
        assert info.value.code == vector["error"]
        if "params" in vector:
            # As JSON sees them: dates as YYYY-MM-DD, numbers as numbers.
            assert json.loads(json.dumps(info.value.params, default=str)) == vector["params"]
        assert info.value.default_message().format(**info.value.params)
    else:
        value = read(field, vector["raw"], answers, TODAY)
        assert value == vector["value"]
        assert type(value) is type(vector["value"])


def test_file_documents_itself_and_keeps_a_plain_shape():
    assert next(iter(DOC)) == "_comment"
    assert all(isinstance(v, dict) or v.startswith("# ") for v in DOC["vectors"])
    names = [v["name"] for v in VECTORS]
    assert len(names) == len(set(names))
    for v in VECTORS:
        assert set(v) <= KEYS, v["name"]
        assert {"name", "type", "raw"} <= set(v), v["name"]
        assert ("value" in v) != ("error" in v), v["name"]
        assert "params" not in v or "error" in v, v["name"]
        assert v["type"] in fieldtypes.REGISTRY, v["name"]
        assert "error" not in v or v["error"] in fieldtypes.MESSAGES, v["name"]


def test_file_covers_the_rules_it_is_for():
    codes = {(v["type"], v.get("error")) for v in VECTORS}
    for code in ("hidden_characters", "nothing_visible"):
        assert ("text", code) in codes and ("textarea", code) in codes
    for type_, code in [("integer", "not_integer"), ("decimal", "not_number"),
                        ("mobile", "mobile_invalid"), ("date", "date_not_numbers"),
                        ("resident_id", "id_chars"), ("resident_id", "id_birth_too_early"),
                        ("resident_id", "id_birth_future"), ("resident_id", "id_birth_date")]:
        assert (type_, code) in codes


# --------------------------------------------------------------------------------------------
# The phone's copy (static/js/fieldrules.js) agrees with Python on every vector
# --------------------------------------------------------------------------------------------

def python_result(vector: dict) -> dict:
    """fieldtypes.read's answer as JSON sees it: {"value"} or {"error", "params"}."""
    try:
        value = read(make_field(vector), vector["raw"], vector.get("answers", {}), TODAY)
    except Invalid as problem:
        return {"error": problem.code,
                "params": json.loads(json.dumps(problem.params, default=str))}
    return {"value": json.loads(json.dumps(value))}


def same(a: Any, b: Any) -> bool:
    """Equal JSON values of identical JSON types (12 is not 12.0 nor "12"; true is not 1)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


@pytest.fixture(scope="module")
def node_results() -> dict[str, dict]:
    if NODE is None:
        pytest.skip("node is not on PATH, so static/js/fieldrules.js cannot be checked")
    proc = subprocess.run([NODE, str(RUNNER)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return {r.pop("name"): r for r in json.loads(proc.stdout)}


def test_node_read_every_vector(node_results):
    assert list(node_results) == [v["name"] for v in VECTORS]
    assert not [name for name, r in node_results.items() if "crash" in r]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_javascript_matches_python(vector, node_results):
    js, py = node_results[vector["name"]], python_result(vector)
    assert same(js, py), (js, py)


# Characters that have tripped ports: digits of other scripts, Python-only whitespace, invisible
# and bidi characters, composing marks, astral and lone surrogates, full-width forms.
FUZZ_CHARS = list("0123456789" * 3 + "０１２３４５６７８９١٢۳²aXxｘßİ王明ئۇي+-－＋.．,，():_") + [
    "𝟏", " ", "\t", "\n", "\r", "\x1c", "\x85", "\xa0", "\u3000", "\u2028", "\ufeff",
    "\u200b", "\u200e", "\u061c", "\u202e", "\x00", "\x9b", "\u0654", "\u0301", "\u00ad",
    "\u3164", "\U00020000", "\ud800", "\ue000", "yes", "NO", "true", "+86", "0086", "138",
    "11010519491231002X", "2024-02-29", "a", "b"]
FUZZ_FIELDS = [
    ("text", {}), ("text", {"max_length": 5, "min_length": 2}), ("text", {"pattern": "\\w+"}),
    ("text", {"pattern": "\\d{2,4}"}), ("text", {"pattern": "[^\\s]+\\s?\\S*"}),
    ("textarea", {"max_length": 6}), ("integer", {"min": -5, "max": 100}),
    ("decimal", {"places": 2, "min": 0.5, "max": 99.5}), ("decimal", {}),
    ("date", {"min": "2020-01-01", "max": "today"}), ("mobile", {}), ("resident_id", {}),
    ("resident_id", {"birth_date_field": "dob"}), ("yes_no", {}),
    ("choice", {"choices": [{"value": v} for v in "abc"]}),
    ("multichoice", {"choices": [{"value": v} for v in "abc"], "min_length": 2}),
]


def fuzz_vectors(seed: int, count: int) -> list[dict]:
    rng = random.Random(seed)

    def text() -> str:
        return "".join(rng.choice(FUZZ_CHARS) for _ in range(rng.choice([0, 1, 2, 3, 8, 14])))

    vectors = []
    for i in range(count):
        type_, settings = rng.choice(FUZZ_FIELDS)
        raw: Any = text()
        if type_ == "date" and rng.random() < 0.7:
            raw = {k: rng.choice([text(), str(rng.randint(0, 40)), str(rng.randint(990, 2030))])
                   for k in ("day", "month", "year") if rng.random() < 0.95}
        elif type_ == "multichoice":
            raw = [rng.choice(["a", "b", " c", "", "z", text()]) for _ in range(rng.randint(0, 3))]
        elif type_ == "resident_id" and rng.random() < 0.5:
            chars = list(rng.choice(["11010519491231002X", "310115202305150025"]))
            chars[rng.randrange(18)] = rng.choice(FUZZ_CHARS)
            raw = "".join(chars)
        vectors.append({"name": f"random {i}", "type": type_, "field": settings, "raw": raw,
                        "answers": {"dob": rng.choice(["2023-05-15", None])}})
    return vectors


def test_random_answers_agree(tmp_path):
    """Differential test: a few thousand random answers read the same in Python and node."""
    if NODE is None:
        pytest.skip("node is not on PATH, so static/js/fieldrules.js cannot be checked")
    path = tmp_path / "random.json"
    path.write_text(json.dumps({"today": DOC["today"], "vectors": fuzz_vectors(20270301, 3000)}),
                    encoding="utf-8")
    proc = subprocess.run([NODE, str(RUNNER), str(path)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    # Python reads the file as the phone does: JSON pairs two adjacent surrogate halves.
    vectors = json.loads(path.read_text(encoding="utf-8"))["vectors"]
    mismatches = [(v, python_result(v), js) for v, js in zip(vectors, json.loads(proc.stdout))
                  if not same({k: x for k, x in js.items() if k != "name"}, python_result(v))]
    assert not mismatches, mismatches[:5]
