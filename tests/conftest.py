"""Shared fixtures: a real app on a real SQLite file in tmp_path (Flask tutorial style)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from wizard import store
from wizard.flow import loader

ROOT = Path(__file__).resolve().parent.parent
TEST_FLOWS = Path(__file__).resolve().parent / "flows"
TODAY = datetime.date(2027, 3, 1)


def load_flow(path: Path):
    result = loader.load_file(path)
    assert not result.errors, "\n".join(map(str, result.errors))
    return result.flow


@pytest.fixture
def branching():
    return load_flow(TEST_FLOWS / "branching.yaml")


@pytest.fixture
def kindergarten():
    return load_flow(ROOT / "flows" / "kindergarten-shanghai.yaml")


@pytest.fixture
def db(tmp_path):
    s = store.Store(tmp_path / "test.sqlite3")
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
