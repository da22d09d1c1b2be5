"""Web fixtures: the real app with the shipped and test flows published."""


import pytest
from family_helpers import ROOT

from wizard import store
from wizard.flow import loader


@pytest.fixture
def app(tmp_path):
    from wizard import create_app

    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "web.sqlite3"),
                      "SECRET_KEY": "web-tests", "WTF_CSRF_ENABLED": False})
    s = store.Store(app.config["DATABASE"])
    s.migrate()
    for path in [ROOT / "flows" / "kindergarten-shanghai.yaml",
                 ROOT / "tests" / "flows" / "branching.yaml"]:
        s.publish_flow(loader.load_file(path).flow)
    s.close()
    return app


@pytest.fixture
def db(app):
    s = store.Store(app.config["DATABASE"])
    yield s
    s.close()
