"""Shared field vectors: tests/vectors/fields.json through fieldtypes.read.

The same file is meant for the offline JavaScript client, so the checks on its shape below keep
it plain: a JavaScript runner can rely on exactly these keys. The format is in its "_comment".
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from wizard.flow import fieldtypes
from wizard.flow.fieldtypes import Invalid, read
from wizard.flow.model import Field

ROOT = Path(__file__).resolve().parents[2]
DOC = json.loads((ROOT / "tests" / "vectors" / "fields.json").read_text(encoding="utf-8"))
TODAY = datetime.date.fromisoformat(DOC["today"])
VECTORS = [v for v in DOC["vectors"] if not isinstance(v, str)]
KEYS = {"name", "type", "field", "raw", "answers", "value", "error", "params"}


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector(vector):
    field = Field(id="x", type=vector["type"], path="vectors", **vector.get("field", {}))
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
